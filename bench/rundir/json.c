/* json.c — the helpers cnnbench needs on top of jansson (see json.h). */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The length of the valid UTF-8 sequence at p, or 0 if none starts there.
 * jansson is asked, so what counts as UTF-8 is the library's own rule. */
static size_t utf8_sequence_at(const char *p)
{
    for (size_t n = 1; n <= 4 && p[n - 1]; n++) {
        json_t *probe = json_stringn(p, n);
        if (probe) {
            json_decref(probe);
            return n;
        }
    }
    return 0;
}

json_t *json_text(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (v)
        return v;
    /* Not UTF-8 (or out of memory, which the second try meets again). */
    size_t len = strlen(s);
    char *repaired = malloc(len + 1);
    if (!repaired)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence_at(s + i);
        if (n == 0) {
            repaired[i++] = '?';
            continue;
        }
        memcpy(repaired + i, s + i, n);
        i += n;
    }
    repaired[len] = '\0';
    v = json_string(repaired);
    free(repaired);
    return v;
}

json_t *json_number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

cnn_status json_parse_document(const char *path, const char *text, size_t len, json_t **root)
{
    json_error_t err;
    *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!*root)
        return cnn_fail(CNN_E_DATA, "%s: line %d, column %d: %s: not valid JSON", path, err.line,
                        err.column, err.text);
    return CNN_OK;
}

int json_write_document(FILE *fp, const json_t *root)
{
    if (json_dumpf(root, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(9)) != 0)
        return -1;
    return fputc('\n', fp) == EOF || ferror(fp) ? -1 : 0;
}

/* The member at `path` below v: object keys and array indexes joined by
 * dots ("git.sha", "gpus.0.driver"), or NULL where any step is missing. A
 * path names one place, so a key that occurs at two depths is never
 * confused with another. */
static json_t *member_at(json_t *v, const char *path)
{
    char step[128];
    while (v && *path) {
        size_t n = strcspn(path, ".");
        if (n == 0 || n >= sizeof step)
            return NULL;
        memcpy(step, path, n);
        step[n] = '\0';
        path += n + (path[n] == '.');
        if (json_is_object(v)) {
            v = json_object_get(v, step);
        } else if (json_is_array(v)) {
            char *end;
            unsigned long index = strtoul(step, &end, 10);
            v = *end == '\0' && step[0] >= '0' && step[0] <= '9' ? json_array_get(v, index)
                                                                 : NULL;
        } else {
            v = NULL;
        }
    }
    return v;
}

int json_get_string(const char *text, const char *key, char *out, size_t len)
{
    json_t *root = json_loads(text, 0, NULL);
    const json_t *v = root ? member_at(root, key) : NULL;
    int found = json_is_string(v);
    if (found)
        snprintf(out, len, "%s", json_string_value(v));
    json_decref(root);
    return found ? 0 : -1;
}

int json_get_number(const char *text, const char *key, double *out)
{
    json_t *root = json_loads(text, 0, NULL);
    const json_t *v = root ? member_at(root, key) : NULL;
    int found = json_is_number(v);
    if (found)
        *out = json_number_value(v);
    json_decref(root);
    return found ? 0 : -1;
}

void json_free_strings(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int json_get_string_array(const char *text, const char *key, char ***out)
{
    json_t *root = json_loads(text, 0, NULL);
    json_t *array = root ? member_at(root, key) : NULL;
    int n = json_is_array(array) ? (int)json_array_size(array) : -1;
    char **v = n > 0 ? calloc((size_t)n, sizeof *v) : NULL;
    if (n > 0 && !v)
        n = -1;
    for (int i = 0; v && i < n; i++) {
        const json_t *s = json_array_get(array, (size_t)i);
        v[i] = json_is_string(s) ? strdup(json_string_value(s)) : NULL;
        if (!v[i]) {
            json_free_strings(v, i);
            v = NULL;
            n = -1;
        }
    }
    json_decref(root);
    if (n >= 0)
        *out = v;
    return n;
}
