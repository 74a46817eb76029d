/* meta.c — machine facts, git state and the meta.json writer. */
#include "meta.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cnnbench_config.h"
#if CNN_HAVE_NCCL
#include "cuda/cuda_backend.h"
#endif
#include "error.h"
#include "fileio.h"
#include "json.h"

#ifndef CNNBENCH_BUILD_FLAGS
#define CNNBENCH_BUILD_FLAGS "unknown"
#endif

extern char **environ;

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* The first line of a small file, or "unknown". */
static void read_line(const char *path, char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    if (fgets(out, (int)len, fp))
        trim(out);
    else
        snprintf(out, len, "unknown");
    fclose(fp);
    if (!*out)
        snprintf(out, len, "unknown");
}

/* The first line a command prints (stderr discarded), or "" if it fails. */
static void command_line(const char *cmd, char *out, size_t len)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (!fgets(out, (int)len, p))
        out[0] = '\0';
    while (fgetc(p) != EOF)
        ;
    if (pclose(p) != 0)
        out[0] = '\0';
    trim(out);
}

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp)
        return;
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *colon = strchr(line, ':');
        if (colon) {
            snprintf(out, len, "%s", colon + 2);
            trim(out);
        }
        break;
    }
    fclose(fp);
}

/* 7 to 40 hexadecimal digits: what a commit id may look like. */
static int is_commit_id(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return s[n] == '\0' && n >= 7 && n <= 40;
}

/* A source tree copied without its .git (a build machine that got the
 * files alone) cannot name its commit: CNNBENCH_GIT_SHA, and optionally
 * CNNBENCH_GIT_DIRTY=true|false, carry it in from where the copy was made. */
static void git_state_from_environment(struct meta_machine *m)
{
    const char *sha = getenv("CNNBENCH_GIT_SHA"), *dirty = getenv("CNNBENCH_GIT_DIRTY");
    if (!sha || !is_commit_id(sha))
        return;
    snprintf(m->git_sha, sizeof m->git_sha, "%s", sha);
    if (dirty && (strcmp(dirty, "true") == 0 || strcmp(dirty, "false") == 0))
        snprintf(m->git_dirty, sizeof m->git_dirty, "%s", dirty);
}

static void git_state(struct meta_machine *m)
{
    char cmd[4400];
    snprintf(m->git_sha, sizeof m->git_sha, "unknown");
    snprintf(m->git_dirty, sizeof m->git_dirty, "unknown");
    if (strchr(CNN_SOURCE_DIR, '\''))
        return;
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", CNN_SOURCE_DIR);
    command_line(cmd, m->git_sha, sizeof m->git_sha);
    if (strlen(m->git_sha) < 7) {
        snprintf(m->git_sha, sizeof m->git_sha, "unknown");
        git_state_from_environment(m);
        return;
    }
    /* tracked files only: build directories and results are not the code */
    snprintf(cmd, sizeof cmd,
             "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null | wc -l",
             CNN_SOURCE_DIR);
    char count[32];
    command_line(cmd, count, sizeof count);
    if (*count)
        snprintf(m->git_dirty, sizeof m->git_dirty, "%s", atoi(count) > 0 ? "true" : "false");
}

/* Splits one nvidia-smi CSV line "a, b, c" into at most n trimmed fields. */
static int split_fields(char *line, char **f, int n)
{
    int k = 0;
    char *p = line;
    while (k < n) {
        while (*p == ' ')
            p++;
        f[k++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        trim(f[k - 1]);
        p = c + 1;
    }
    trim(f[k - 1]);
    return k;
}

static void gpu_state(struct meta_machine *m)
{
    m->n_gpus = 0;
    snprintf(m->cuda_version, sizeof m->cuda_version, "none");
    if (!CNN_HAVE_CUDA)
        return;
    FILE *p = popen("nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,"
                    "memory.total --format=csv,noheader 2>/dev/null", "r");
    if (!p)
        return;
    char line[512];
    while (fgets(line, sizeof line, p) && m->n_gpus < META_MAX_GPUS) {
        char *f[5];
        if (split_fields(line, f, 5) < 5)
            continue;
        struct meta_gpu *g = &m->gpus[m->n_gpus++];
        snprintf(g->name, sizeof g->name, "%s", f[0]);
        snprintf(g->driver, sizeof g->driver, "%s", f[1]);
        snprintf(g->sm_clock_mhz, sizeof g->sm_clock_mhz, "%s", f[2]);
        snprintf(g->max_sm_clock_mhz, sizeof g->max_sm_clock_mhz, "%s", f[3]);
        snprintf(g->memory_total, sizeof g->memory_total, "%s", f[4]);
    }
    if (pclose(p) != 0)
        m->n_gpus = 0;
    if (m->n_gpus == 0)
        return;
    /* the plain report's banner is the only place nvidia-smi states the
     * CUDA version its driver supports */
    p = popen("nvidia-smi 2>/dev/null", "r");
    if (!p)
        return;
    snprintf(m->cuda_version, sizeof m->cuda_version, "unknown");
    while (fgets(line, sizeof line, p)) {
        char *v = strstr(line, "CUDA Version:");
        if (v) {
            v += strlen("CUDA Version:");
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, " |\n");
            snprintf(m->cuda_version, sizeof m->cuda_version, "%.*s", (int)n, v);
        }
    }
    pclose(p);
}

void meta_probe_machine(struct meta_machine *m)
{
    memset(m, 0, sizeof *m);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(m->hostname, sizeof m->hostname, "%s", u.nodename);
        snprintf(m->os, sizeof m->os, "%s %s %s", u.sysname, u.release, u.machine);
    } else {
        snprintf(m->hostname, sizeof m->hostname, "unknown");
        snprintf(m->os, sizeof m->os, "unknown");
    }
    cpu_model(m->cpu_model, sizeof m->cpu_model);
    m->online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    read_line("/sys/devices/system/cpu/smt/active", m->smt, sizeof m->smt);
    read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", m->governor,
              sizeof m->governor);
    read_line("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_min_freq", m->cpu_khz_min,
              sizeof m->cpu_khz_min);
    read_line("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", m->cpu_khz_max,
              sizeof m->cpu_khz_max);
    read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", m->cpu_khz_cur,
              sizeof m->cpu_khz_cur);
    char no_turbo[32], boost[32];
    read_line("/sys/devices/system/cpu/intel_pstate/no_turbo", no_turbo, sizeof no_turbo);
    read_line("/sys/devices/system/cpu/cpufreq/boost", boost, sizeof boost);
    if (strcmp(no_turbo, "unknown") != 0)
        snprintf(m->turbo, sizeof m->turbo, "%s", strcmp(no_turbo, "0") == 0 ? "on" : "off");
    else if (strcmp(boost, "unknown") != 0)
        snprintf(m->turbo, sizeof m->turbo, "%s", strcmp(boost, "1") == 0 ? "on" : "off");
    else
        snprintf(m->turbo, sizeof m->turbo, "unknown");
    read_line("/proc/loadavg", m->load_average, sizeof m->load_average);
    git_state(m);
    gpu_state(m);
    for (int i = 0; cnn_backends[i] && i < META_MAX_BACKENDS; i++) {
        cnn_clear_error();
        cnn_status st = cnn_backends[i]->probe();
        snprintf(m->probe[i], sizeof m->probe[i], "%s", st == CNN_OK ? "ok" : cnn_last_error());
    }
}

double meta_load_1min(void)
{
    double load = NAN;
    FILE *fp = fopen("/proc/loadavg", "r");
    if (!fp)
        return load;
    if (fscanf(fp, "%lf", &load) != 1)
        load = NAN;
    fclose(fp);
    return load;
}

void meta_utc_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* 24 random bits for a run id: /dev/urandom, or where it cannot be read,
 * the pid mixed with the clock's nanoseconds. */
static unsigned long id_suffix(void)
{
    unsigned char b[3];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    int got = fd >= 0 && read(fd, b, sizeof b) == (ssize_t)sizeof b;
    if (fd >= 0)
        close(fd);
    if (got)
        return (unsigned long)b[0] << 16 | (unsigned long)b[1] << 8 | b[2];
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t x = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)t.tv_nsec;
    return (unsigned long)((x ^ x >> 29) & 0xffffff);
}

void meta_run_id(char *buf, size_t len, const char *label)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(buf, len, "%s-%s-%06lx", stamp, label, id_suffix());
}

/* What meta.json records of the build, in its order. A run is resumed only
 * by a build whose every fact is the same (meta_check_build). */
enum { N_BUILD_FACTS = 9 };

struct build_fact {
    const char *name;
    char value[512];  /* booleans as "true" or "false" */
    int boolean;
};

static void build_fact(struct build_fact *f, const char *name, const char *value, int boolean)
{
    f->name = name;
    snprintf(f->value, sizeof f->value, "%s", value);
    f->boolean = boolean;
}

static void build_facts(struct build_fact f[N_BUILD_FACTS])
{
#if defined(CNN_HAVE_CUPTI) && CNN_HAVE_CUPTI
    const int cupti = 1;
#else
    const int cupti = 0;
#endif
    char nccl[32] = "none";
#if CNN_HAVE_NCCL
    cuda_nccl_version(nccl, sizeof nccl);
#endif
    build_fact(&f[0], "version", CNN_VERSION, 0);
    build_fact(&f[1], "buildtype", CNN_BUILDTYPE, 0);
    build_fact(&f[2], "c_compiler", CNN_C_COMPILER, 0);
    build_fact(&f[3], "flags", CNNBENCH_BUILD_FLAGS, 0);
    build_fact(&f[4], "openmp", CNN_HAVE_OMP ? "true" : "false", 1);
    build_fact(&f[5], "cuda", CNN_HAVE_CUDA ? "true" : "false", 1);
    build_fact(&f[6], "cupti", cupti ? "true" : "false", 1);
    build_fact(&f[7], "nccl", CNN_HAVE_NCCL ? "true" : "false", 1);
    build_fact(&f[8], "nccl_version", nccl, 0);
}

/* The text of meta.json's "build" object, as meta_write lays it out (it
 * holds no nested object); NULL if there is none. malloc'd. */
static char *build_section(const char *meta_text)
{
    static const char opening[] = "\"build\": {";
    const char *p = meta_text;
    while ((p = strstr(p, opening)) != NULL && p > meta_text && p[-1] == '\\')
        p += sizeof opening - 1; /* the text of a string value, not a key */
    const char *end = p ? strchr(p, '}') : NULL;
    if (!end)
        return NULL;
    size_t n = (size_t)(end - p) + 1;
    char *section = malloc(n + 1);
    if (section) {
        memcpy(section, p, n);
        section[n] = '\0';
    }
    return section;
}

cnn_status meta_check_build(const char *meta_text, const char *run)
{
    char *section = build_section(meta_text);
    if (!section)
        return cnn_fail(CNN_E_DATA, "%s/meta.json records no build (no \"build\" object): it "
                        "cannot be shown that this cnnbench is the build that measured it", run);
    struct build_fact facts[N_BUILD_FACTS];
    build_facts(facts);
    cnn_status st = CNN_OK;
    for (int i = 0; i < N_BUILD_FACTS && st == CNN_OK; i++) {
        char stored[512] = "(not recorded)";
        int flag;
        if (facts[i].boolean && json_get_bool(section, facts[i].name, &flag) == 0)
            snprintf(stored, sizeof stored, "%s", flag ? "true" : "false");
        else if (!facts[i].boolean)
            json_get_string(section, facts[i].name, stored, sizeof stored);
        if (strcmp(stored, facts[i].value) != 0)
            st = cnn_fail(CNN_E_ARG, "%s was measured by another build: its build.%s is '%s', "
                          "this cnnbench's is '%s': results of two builds must not be mixed "
                          "(start a new run)", run, facts[i].name, stored, facts[i].value);
    }
    free(section);
    return st;
}

static void write_machine(struct json_writer *w, const struct meta_machine *m)
{
    json_object_begin(w, "git");
    json_string(w, "sha", m->git_sha);
    json_string(w, "dirty", m->git_dirty);
    json_object_end(w);

    struct build_fact facts[N_BUILD_FACTS];
    build_facts(facts);
    json_object_begin(w, "build");
    for (int i = 0; i < N_BUILD_FACTS; i++) {
        if (facts[i].boolean)
            json_bool(w, facts[i].name, strcmp(facts[i].value, "true") == 0);
        else
            json_string(w, facts[i].name, facts[i].value);
    }
    json_object_end(w);

    json_object_begin(w, "host");
    json_string(w, "hostname", m->hostname);
    json_string(w, "os", m->os);
    json_string(w, "cpu_model", m->cpu_model);
    json_int(w, "online_cpus", m->online_cpus);
    json_string(w, "smt_active", m->smt);
    json_string(w, "governor", m->governor);
    json_string(w, "cpu_khz_min", m->cpu_khz_min);
    json_string(w, "cpu_khz_max", m->cpu_khz_max);
    json_string(w, "cpu_khz_cur", m->cpu_khz_cur);
    json_string(w, "turbo", m->turbo);
    json_string(w, "load_average", m->load_average);
    json_object_end(w);

    json_string(w, "gpu_name", m->n_gpus ? m->gpus[0].name : "none");
    json_string(w, "cuda_version", m->cuda_version);
    json_array_begin(w, "gpus");
    for (int i = 0; i < m->n_gpus; i++) {
        json_object_begin(w, NULL);
        json_string(w, "name", m->gpus[i].name);
        json_string(w, "driver", m->gpus[i].driver);
        json_string(w, "sm_clock", m->gpus[i].sm_clock_mhz);
        json_string(w, "max_sm_clock", m->gpus[i].max_sm_clock_mhz);
        json_string(w, "memory_total", m->gpus[i].memory_total);
        json_object_end(w);
    }
    json_array_end(w);

    /* OpenMP and GPU selection change what is measured */
    json_object_begin(w, "env");
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "OMP_", 4) != 0 && strncmp(*e, "GOMP_", 5) != 0 &&
            strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) != 0 && strncmp(*e, "CNNBENCH_", 9) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        json_string(w, name, eq + 1);
    }
    json_object_end(w);
}

static void write_backends(struct json_writer *w, const struct meta_machine *m)
{
    json_array_begin(w, "backends");
    for (int i = 0; cnn_backends[i]; i++) {
        const struct cnn_backend *be = cnn_backends[i];
        json_object_begin(w, NULL);
        json_string(w, "name", be->name);
        json_string(w, "description", be->description);
        json_bool(w, "threads", (be->caps & CNN_CAP_THREADS) != 0);
        json_bool(w, "device", (be->caps & CNN_CAP_DEVICE) != 0);
        json_bool(w, "gpus", be->data_parallel != NULL);
        json_array_begin(w, "variants");
        if (be->caps & CNN_CAP_VARIANTS)
            for (int v = 0; v < be->variant_count; v++)
                json_string(w, NULL, be->variant_names[v]);
        json_array_end(w);
        const char *probe = i < META_MAX_BACKENDS ? m->probe[i] : "unknown";
        json_bool(w, "runs_here", strcmp(probe, "ok") == 0);
        json_string(w, "probe", probe);
        json_object_end(w);
    }
    json_array_end(w);
}

cnn_status meta_write(const char *path, const struct meta_run *r, const struct meta_machine *m)
{
    struct cnn_atomic_file f;
    CNN_TRY(cnn_atomic_open(&f, path));
    errno = 0; /* so that a failed write below is what a nonzero errno tells */
    struct json_writer w;
    json_begin(&w, f.fp);
    json_int(&w, "schema_version", META_SCHEMA_VERSION);
    json_string(&w, "tool", "cnnbench");
    json_string(&w, "run_id", r->run_id);
    json_string(&w, "command", r->command);
    json_array_begin(&w, "argv");
    for (int i = 0; i < r->argc; i++)
        json_string(&w, NULL, r->argv[i]);
    json_array_end(&w);
    json_string(&w, "state", r->state);
    json_string(&w, "started_utc", r->started_utc);
    json_string(&w, "finished_utc", r->finished_utc);
    json_number(&w, "load_1min_start", r->load_start);
    json_number(&w, "load_1min_end", r->load_end);
    json_array_begin(&w, "resumed_utc");
    for (int i = 0; i < r->n_resumed; i++)
        json_string(&w, NULL, r->resumed_utc[i]);
    json_array_end(&w);

    write_machine(&w, m);

    json_object_begin(&w, "settings");
    json_string(&w, "preset", r->preset);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    json_string(&w, "seed", seed);
    json_number(&w, "lr", r->lr);
    json_bool(&w, "shuffle", r->shuffle);
    json_int(&w, "warmup_steps", r->warmup);
    json_string(&w, "length_unit", r->length_unit);
    json_int(&w, "reps", r->reps);
    json_bool(&w, "eval_final", r->eval_final);
    json_bool(&w, "verify", r->verify);
    json_bool(&w, "cupti", r->cupti);
    json_object_end(&w);

    json_object_begin(&w, "data");
    json_string(&w, "spec", r->data_spec);
    if (r->data) {
        json_int(&w, "train_images", r->data->train_n);
        json_int(&w, "test_images", r->data->test_n);
        char fp[32];
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)r->data->fnv1a64);
        json_string(&w, "fnv1a64", fp);
    }
    json_object_end(&w);

    json_object_begin(&w, "plan");
    json_int(&w, "configurations", r->configurations);
    json_array_begin(&w, "config_keys");
    for (int i = 0; i < r->configurations && r->config_keys; i++)
        json_string(&w, NULL, r->config_keys[i]);
    json_array_end(&w);
    json_int(&w, "skipped_by_rules", r->skipped);
    json_int(&w, "duplicates", r->duplicates);
    json_int(&w, "finished", r->finished_configs);
    json_int(&w, "failed", r->failed_configs);
    json_object_end(&w);

    write_backends(&w, m);

    json_object_begin(&w, "showcase");
    json_string(&w, "params_config", r->showcase_key);
    json_int(&w, "digit_index", r->digit_index);
    json_int(&w, "digit_label", r->digit_label);
    json_object_end(&w);

    if (json_end(&w) != 0) {
        int saved = errno;
        cnn_atomic_abort(&f);
        return cnn_fail(CNN_E_IO, "%s: write failed: %s", path,
                        saved ? strerror(saved) : "the stream reported an error");
    }
    return cnn_atomic_commit(&f);
}
