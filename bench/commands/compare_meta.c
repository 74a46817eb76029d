/*
 * compare_meta.c — the machine and build two runs must share before
 * `cnnbench compare` gives a verdict: the facts of each run's meta.json,
 * where they differ, and how the table's head reports the check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compare_runs.h"
#include "error.h"
#include "json.h"
#include "meta.h"

/* Adding a fact here (and to COMPARE_FACTS) is all it takes to check it. */
const struct compare_fact compare_facts[COMPARE_FACTS] = {
    {"CPU model", "host", "cpu_model"},
    {"GPU model", "gpus", "name"},
    {"GPU driver", "gpus", "driver"},
    {"C compiler", "build", "c_compiler"},
    {"build type", "build", "buildtype"},
    {"build flags", "build", "flags"},
    {"NCCL version", "build", "nccl_version"},
    {"omp kernel level", "build", "omp_kernels"},
};

static cnn_status compare_fact_value(const char *path, const json_t *root,
                                     const struct compare_fact *f, char *out, size_t len)
{
    out[0] = '\0';
    const json_t *parent = json_object_get(root, f->parent);
    if (!parent)
        return CNN_OK;
    if (json_is_object(parent)) {
        const json_t *v = json_object_get(parent, f->member);
        if (v && !json_is_string(v))
            return cnn_fail(CNN_E_DATA, "%s: \"%s\".\"%s\" is not a string", path, f->parent,
                            f->member);
        if (v)
            snprintf(out, len, "%s", json_string_value(v));
        return CNN_OK;
    }
    if (!json_is_array(parent))
        return cnn_fail(CNN_E_DATA, "%s: \"%s\" is neither an object nor an array", path,
                        f->parent);
    size_t n = json_array_size(parent);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(json_array_get(parent, i), f->member);
        if (!json_is_string(v))
            return cnn_fail(CNN_E_DATA, "%s: \"%s\"[%zu].\"%s\" is missing or not a string", path,
                            f->parent, i, f->member);
        const char *value = json_string_value(v);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(value, json_string_value(json_object_get(json_array_get(parent, j),
                                                                   f->member))) == 0;
        size_t used = strlen(out);
        if (!seen)
            snprintf(out + used, len - used, "%s%s", used ? " + " : "", value);
    }
    if (n == 0)
        snprintf(out, len, "none");
    return CNN_OK;
}

/* Reads the facts of one run (side 0 BASE, 1 NEW) from its meta.json, if it
 * has one. A meta.json that is there but damaged is an error, never
 * "unchecked". */
cnn_status compare_read_meta(const struct compare_run *run, struct compare_check *c,
                                    int side)
{
    struct stat sb;
    if (stat(run->meta_path, &sb) != 0 && errno == ENOENT)
        return CNN_OK;
    char *text;
    CNN_TRY(meta_read(run->meta_path, &text));
    json_t *root;
    cnn_status st = json_parse_document(run->meta_path, text, strlen(text), &root);
    free(text);
    CNN_TRY(st);
    const json_t *tool = json_object_get(root, "tool");
    if (!json_is_string(tool) || strcmp(json_string_value(tool), "cnnbench") != 0)
        st = cnn_fail(CNN_E_DATA, "%s: not a cnnbench meta.json (no \"tool\": \"cnnbench\")",
                      run->meta_path);
    for (int i = 0; st == CNN_OK && i < COMPARE_FACTS; i++)
        st = compare_fact_value(run->meta_path, root, &compare_facts[i], c->fact[side][i],
                                sizeof c->fact[side][i]);
    json_decref(root);
    c->present[side] = st == CNN_OK;
    return st;
}

void compare_check_facts(struct compare_check *c)
{
    c->n_differ = 0;
    for (int i = 0; i < COMPARE_FACTS; i++) {
        const char *b = c->fact[0][i], *n = c->fact[1][i];
        c->differs[i] = c->present[0] && c->present[1] && b[0] && n[0] && strcmp(b, n) != 0;
        c->n_differ += c->differs[i];
    }
}

/* The differing facts, each with both values, one line a run. */
void compare_print_differences(FILE *out, const struct compare_check *c)
{
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (c->differs[i])
            fprintf(out, "    %-13s BASE %s\n    %-13s NEW  %s\n", compare_facts[i].name,
                    c->fact[0][i], "", c->fact[1][i]);
}

/* What the check found, for the head of the table. */
void compare_print_check(FILE *out, const struct compare_check *c,
                                const struct compare_run *base, const struct compare_run *new_)
{
    if (!c->present[0] || !c->present[1]) {
        fprintf(out, "  machine and build: not checked: no %s%s%s\n",
                c->present[0] ? "" : base->meta_path, c->present[0] || c->present[1] ? "" : " or ",
                c->present[1] ? "" : new_->meta_path);
        return;
    }
    if (c->n_differ) {
        fprintf(out, "  WARNING: --force: BASE and NEW come from different machines or builds, "
                     "so each ratio\n  mixes their difference with the code's:\n");
        compare_print_differences(out, c);
        return;
    }
    fprintf(out, "  machine and build: the same");
    int shown = 0;
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (c->fact[0][i][0] && c->fact[1][i][0])
            fprintf(out, "%s%s", shown++ ? ", " : " ", compare_facts[i].name);
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (!c->fact[0][i][0] != !c->fact[1][i][0])
            fprintf(out, "; %s not recorded for %s", compare_facts[i].name,
                    c->fact[0][i][0] ? "NEW" : "BASE");
    fputc('\n', out);
}
