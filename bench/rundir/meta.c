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
#include "error.h"
#include "fileio.h"
#include "json.h"
#include "run.h"
#include "runfile.h"
#include "trace.h"

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

/* A source tree copied to another machine may arrive without its .git, or
 * with a stale one that names another commit: CNNBENCH_GIT_SHA, and
 * optionally CNNBENCH_GIT_DIRTY=true|false, carry the commit in from where
 * the copy was made, and win over what git says here. 1 if they were set. */
static int git_state_from_environment(struct meta_machine *m)
{
    const char *sha = getenv("CNNBENCH_GIT_SHA"), *dirty = getenv("CNNBENCH_GIT_DIRTY");
    if (!sha || !is_commit_id(sha))
        return 0;
    snprintf(m->git_sha, sizeof m->git_sha, "%s", sha);
    if (dirty && (strcmp(dirty, "true") == 0 || strcmp(dirty, "false") == 0))
        snprintf(m->git_dirty, sizeof m->git_dirty, "%s", dirty);
    return 1;
}

static void git_state(struct meta_machine *m)
{
    char cmd[4400];
    snprintf(m->git_sha, sizeof m->git_sha, "unknown");
    snprintf(m->git_dirty, sizeof m->git_dirty, "unknown");
    if (git_state_from_environment(m) || strchr(CNN_SOURCE_DIR, '\''))
        return;
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", CNN_SOURCE_DIR);
    command_line(cmd, m->git_sha, sizeof m->git_sha);
    if (strlen(m->git_sha) < 7) {
        snprintf(m->git_sha, sizeof m->git_sha, "unknown");
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
                    "memory.total,power.limit,power.draw --format=csv,noheader 2>/dev/null",
                    "r");
    if (!p)
        return;
    char line[512];
    while (fgets(line, sizeof line, p) && m->n_gpus < META_MAX_GPUS) {
        char *f[7];
        if (split_fields(line, f, 7) < 7)
            continue;
        struct meta_gpu *g = &m->gpus[m->n_gpus++];
        snprintf(g->name, sizeof g->name, "%s", f[0]);
        snprintf(g->driver, sizeof g->driver, "%s", f[1]);
        snprintf(g->sm_clock_mhz, sizeof g->sm_clock_mhz, "%s", f[2]);
        snprintf(g->max_sm_clock_mhz, sizeof g->max_sm_clock_mhz, "%s", f[3]);
        snprintf(g->memory_total, sizeof g->memory_total, "%s", f[4]);
        snprintf(g->power_limit, sizeof g->power_limit, "%s", f[5]);
        snprintf(g->power_draw, sizeof g->power_draw, "%s", f[6]);
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

/* The meters of the whole machine, every GPU included; a failure to open
 * them is the reason both devices give. */
static void energy_state(struct meta_energy *e)
{
    snprintf(e->powercap_root, sizeof e->powercap_root, "%s", energy_powercap_root());
    struct energy_meters *m = malloc(sizeof *m);
    const struct energy_request all = {.want_cpu = 1, .want_gpu = 1};
    if (!m || energy_open(m, &all) != CNN_OK) {
        for (int d = 0; d < ENERGY_DEVICES; d++)
            snprintf(e->reason[d], sizeof e->reason[d], "%s",
                     m ? cnn_last_error() : "out of memory");
        if (m)
            energy_close(m);
        free(m);
        return;
    }
    for (int i = 0; i < m->n && e->n < META_MAX_METERS; i++) {
        e->meter[e->n].device = m->meter[i].device;
        snprintf(e->meter[e->n].name, sizeof e->meter[e->n].name, "%s", m->meter[i].name);
        e->meter[e->n].counted = m->meter[i].counted;
        e->meter[e->n].power_limit_w = m->meter[i].power_limit_w;
        e->meter[e->n].power_at_open_w = m->meter[i].power_at_open_w;
        e->n++;
    }
    for (int d = 0; d < ENERGY_DEVICES; d++)
        snprintf(e->reason[d], sizeof e->reason[d], "%s",
                 energy_reason(m, (enum energy_device)d));
    energy_close(m);
    free(m);
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
    energy_state(&m->energy);
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
enum { N_BUILD_FACTS = 10 };

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
    const int cupti = cnn_trace_kernels_available(NULL);
    char nccl[32];
    cnn_library_version("nccl", nccl, sizeof nccl);
    char omp_kernels[96];
    cnn_library_version("omp_kernels", omp_kernels, sizeof omp_kernels);
    build_fact(&f[0], "version", CNN_VERSION, 0);
    build_fact(&f[1], "buildtype", CNN_BUILDTYPE, 0);
    build_fact(&f[2], "c_compiler", CNN_C_COMPILER, 0);
    build_fact(&f[3], "flags", CNNBENCH_BUILD_FLAGS, 0);
    build_fact(&f[4], "openmp", CNN_HAVE_OMP ? "true" : "false", 1);
    build_fact(&f[5], "cuda", CNN_HAVE_CUDA ? "true" : "false", 1);
    build_fact(&f[6], "cupti", cupti ? "true" : "false", 1);
    build_fact(&f[7], "nccl", CNN_HAVE_NCCL ? "true" : "false", 1);
    build_fact(&f[8], "nccl_version", nccl, 0);
    build_fact(&f[9], "omp_kernels", omp_kernels, 0);
}

cnn_status meta_check_build(const char *meta_text, const char *run)
{
    json_error_t err;
    json_t *doc = json_loads(meta_text, JSON_REJECT_DUPLICATES, &err);
    json_t *build = doc ? json_object_get(doc, "build") : NULL;
    if (!json_is_object(build)) {
        json_decref(doc);
        return cnn_fail(CNN_E_DATA, "%s/meta.json records no build (no \"build\" object): it "
                        "cannot be shown that this cnnbench is the build that measured it", run);
    }
    struct build_fact facts[N_BUILD_FACTS];
    build_facts(facts);
    cnn_status st = CNN_OK;
    for (int i = 0; i < N_BUILD_FACTS && st == CNN_OK; i++) {
        json_t *v = json_object_get(build, facts[i].name);
        char stored[512] = "(not recorded)";
        if (facts[i].boolean && json_is_boolean(v))
            snprintf(stored, sizeof stored, "%s", json_is_true(v) ? "true" : "false");
        else if (!facts[i].boolean && json_is_string(v))
            snprintf(stored, sizeof stored, "%s", json_string_value(v));
        if (strcmp(stored, facts[i].value) != 0)
            st = cnn_fail(CNN_E_ARG, "%s was measured by another build: its build.%s is '%s', "
                          "this cnnbench's is '%s': results of two builds must not be mixed "
                          "(start a new run)", run, facts[i].name, stored, facts[i].value);
    }
    json_decref(doc);
    return st;
}

/* meta.json is built as a jansson tree, one member a line in the order of
 * the file (jansson keeps insertion order). json_object_set_new fails, and
 * the writers below say so, when a value could not be made (out of memory):
 * meta_write then fails rather than write a file with members missing. */
static int set(json_t *object, const char *key, json_t *value)
{
    return json_object_set_new(object, key, value);
}

static int write_machine(json_t *w, const struct meta_machine *m)
{
    int failed = 0;
    json_t *git = json_object();
    failed |= set(git, "sha", json_text(m->git_sha));
    failed |= set(git, "dirty", json_text(m->git_dirty));
    failed |= set(w, "git", git);

    struct build_fact facts[N_BUILD_FACTS];
    build_facts(facts);
    json_t *build = json_object();
    for (int i = 0; i < N_BUILD_FACTS; i++)
        failed |= set(build, facts[i].name,
                      facts[i].boolean ? json_boolean(strcmp(facts[i].value, "true") == 0)
                                       : json_text(facts[i].value));
    failed |= set(w, "build", build);

    json_t *host = json_object();
    failed |= set(host, "hostname", json_text(m->hostname));
    failed |= set(host, "os", json_text(m->os));
    failed |= set(host, "cpu_model", json_text(m->cpu_model));
    failed |= set(host, "online_cpus", json_integer(m->online_cpus));
    failed |= set(host, "smt_active", json_text(m->smt));
    failed |= set(host, "governor", json_text(m->governor));
    failed |= set(host, "cpu_khz_min", json_text(m->cpu_khz_min));
    failed |= set(host, "cpu_khz_max", json_text(m->cpu_khz_max));
    failed |= set(host, "cpu_khz_cur", json_text(m->cpu_khz_cur));
    failed |= set(host, "turbo", json_text(m->turbo));
    failed |= set(host, "load_average", json_text(m->load_average));
    failed |= set(w, "host", host);

    failed |= set(w, "gpu_name", json_text(m->n_gpus ? m->gpus[0].name : "none"));
    failed |= set(w, "cuda_version", json_text(m->cuda_version));
    json_t *gpus = json_array();
    for (int i = 0; i < m->n_gpus; i++) {
        json_t *gpu = json_object();
        failed |= set(gpu, "name", json_text(m->gpus[i].name));
        failed |= set(gpu, "driver", json_text(m->gpus[i].driver));
        failed |= set(gpu, "sm_clock", json_text(m->gpus[i].sm_clock_mhz));
        failed |= set(gpu, "max_sm_clock", json_text(m->gpus[i].max_sm_clock_mhz));
        failed |= set(gpu, "memory_total", json_text(m->gpus[i].memory_total));
        failed |= set(gpu, "power_limit", json_text(m->gpus[i].power_limit));
        failed |= set(gpu, "power_draw_at_start", json_text(m->gpus[i].power_draw));
        failed |= json_array_append_new(gpus, gpu);
    }
    failed |= set(w, "gpus", gpus);

    /* OpenMP and GPU selection change what is measured */
    json_t *env = json_object();
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "OMP_", 4) != 0 && strncmp(*e, "GOMP_", 5) != 0 &&
            strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) != 0 && strncmp(*e, "CNNBENCH_", 9) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char raw[128];
        snprintf(raw, sizeof raw, "%.*s", (int)(eq - *e), *e);
        json_t *name = json_text(raw); /* a key must be UTF-8 too */
        failed |= !name || set(env, json_string_value(name), json_text(eq + 1));
        json_decref(name);
    }
    failed |= set(w, "env", env);
    return failed ? -1 : 0;
}

/* "energy": the meters per device, or why a device has none. */
static int write_energy(json_t *w, const struct meta_energy *e)
{
    int failed = 0;
    json_t *energy = json_object();
    failed |= set(energy, "powercap_root", json_text(e->powercap_root));
    failed |= set(energy, "min_window_s", json_real(RUN_ENERGY_MIN_WINDOW_S));
    for (int d = 0; d < ENERGY_DEVICES; d++) {
        char key[32];
        json_t *meters = json_array();
        for (int i = 0; i < e->n; i++) {
            if (e->meter[i].device != (enum energy_device)d)
                continue;
            json_t *mt = json_object();
            failed |= set(mt, "name", json_text(e->meter[i].name));
            failed |= set(mt, "counted", json_boolean(e->meter[i].counted));
            failed |= set(mt, "power_limit_w", json_number_or_null(e->meter[i].power_limit_w));
            failed |= set(mt, "power_at_start_w",
                          json_number_or_null(e->meter[i].power_at_open_w));
            failed |= json_array_append_new(meters, mt);
        }
        snprintf(key, sizeof key, "%s_meters", energy_device_name((enum energy_device)d));
        failed |= set(energy, key, meters);
        snprintf(key, sizeof key, "%s_reason", energy_device_name((enum energy_device)d));
        failed |= set(energy, key, e->reason[d][0] ? json_text(e->reason[d]) : json_null());
    }
    failed |= set(w, "energy", energy);
    return failed ? -1 : 0;
}

static int write_backends(json_t *w, const struct meta_machine *m)
{
    int failed = 0;
    json_t *backends = json_array();
    for (int i = 0; cnn_backends[i]; i++) {
        const struct cnn_backend *be = cnn_backends[i];
        json_t *b = json_object();
        failed |= set(b, "name", json_text(be->name));
        failed |= set(b, "description", json_text(be->description));
        failed |= set(b, "threads", json_boolean((be->caps & CNN_CAP_THREADS) != 0));
        failed |= set(b, "device", json_boolean((be->caps & CNN_CAP_DEVICE) != 0));
        failed |= set(b, "gpus", json_boolean((be->caps & CNN_CAP_DATA_PARALLEL) != 0));
        failed |= set(b, "ranks", json_boolean((be->caps & CNN_CAP_RANKS) != 0));
        json_t *variants = json_array();
        if (be->caps & CNN_CAP_VARIANTS)
            for (int v = 0; v < be->variant_count; v++)
                failed |= json_array_append_new(variants, json_text(be->variant_names[v]));
        failed |= set(b, "variants", variants);
        /* how the roofline places its regions, as this build has it */
        json_t *fma = json_array(), *dm = json_array(), *recomputed = json_array();
        for (int r = 0; r < CNN_REGION_COUNT; r++)
            if (be->fma_regions & CNN_REGION_BIT(r))
                failed |= json_array_append_new(fma, json_text(cnn_region_name((enum cnn_region)r)));
        for (int v = 0; v <= be->variant_count; v++) {
            if (be->dm_in_conv_backward & (1u << v))
                failed |= json_array_append_new(dm, json_integer(v));
            if (be->m_recomputed & (1u << v))
                failed |= json_array_append_new(recomputed, json_integer(v));
        }
        failed |= set(b, "fma_regions", fma);
        failed |= set(b, "dm_in_conv_backward", dm);
        failed |= set(b, "m_recomputed", recomputed);
        const char *probe = i < META_MAX_BACKENDS ? m->probe[i] : "unknown";
        failed |= set(b, "runs_here", json_boolean(strcmp(probe, "ok") == 0));
        failed |= set(b, "probe", json_text(probe));
        failed |= json_array_append_new(backends, b);
    }
    failed |= set(w, "backends", backends);
    return failed ? -1 : 0;
}

static json_t *text_array(const char *const *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_text(v[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

/* "mpi": the MPI library of this build (also in a build without one), the
 * standard it implements, and the job's ranks and hosts. Without a job
 * given, this process alone: a job of one never joins MPI (ranks.h), so
 * asking costs no MPI_Init. */
static int set_mpi(json_t *w, const struct ranks_info *given)
{
    ranks *alone = NULL;
    const struct ranks_info *job = given;
    int argc = 0;
    char **argv = NULL;
    if (!job) {
        if (ranks_init(&argc, &argv, &alone) != CNN_OK)
            return set(w, "mpi", json_null());
        job = ranks_info(alone);
    }
    json_t *mpi = json_object(), *hosts = json_array();
    int failed = !mpi || !hosts;
    failed |= set(mpi, "library", json_text(job->library));
    failed |= set(mpi, "standard", json_text(job->standard));
    failed |= set(mpi, "ranks", json_integer(job->size));
    for (int h = 0; h < job->host_count; h++) {
        json_t *host = json_object();
        failed |= set(host, "name", json_text(job->hosts[h].name));
        failed |= set(host, "ranks", json_integer(job->hosts[h].ranks));
        failed |= json_array_append_new(hosts, host);
    }
    failed |= set(mpi, "hosts", hosts);
    if (alone)
        ranks_finalize(alone);
    return failed | set(w, "mpi", mpi);
}

cnn_status meta_write(const char *path, const struct meta_run *r, const struct meta_machine *m)
{
    json_t *w = json_object();
    int failed = 0;
    failed |= set(w, "schema_version", json_integer(META_SCHEMA_VERSION));
    failed |= set(w, "tool", json_text("cnnbench"));
    failed |= set(w, "run_id", json_text(r->run_id));
    failed |= set(w, "command", json_text(r->command));
    failed |= set(w, "argv", text_array((const char *const *)r->argv, r->argc));
    failed |= set(w, "state", json_text(r->state));
    failed |= set(w, "started_utc", json_text(r->started_utc));
    failed |= set(w, "finished_utc", json_text(r->finished_utc));
    failed |= set(w, "load_1min_start", json_number_or_null(r->load_start));
    failed |= set(w, "load_1min_end", json_number_or_null(r->load_end));
    failed |= set(w, "resumed_utc", text_array((const char *const *)r->resumed_utc, r->n_resumed));

    failed |= write_machine(w, m);
    failed |= set_mpi(w, r->job);

    json_t *settings = json_object();
    failed |= set(settings, "preset", json_text(r->preset));
    failed |= set(settings, "scaling", json_text(r->scaling));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    failed |= set(settings, "seed", json_text(seed));
    failed |= set(settings, "lr", json_number_or_null(r->lr));
    failed |= set(settings, "shuffle", json_boolean(r->shuffle));
    failed |= set(settings, "warmup_steps", json_integer(r->warmup));
    failed |= set(settings, "length_unit", json_text(r->length_unit));
    failed |= set(settings, "reps", json_integer(r->reps));
    failed |= set(settings, "eval_final", json_boolean(r->eval_final));
    failed |= set(settings, "verify", json_boolean(r->verify));
    failed |= set(settings, "cupti", json_boolean(r->cupti));
    failed |= set(w, "settings", settings);

    json_t *data = json_object();
    failed |= set(data, "spec", json_text(r->data_spec));
    if (r->data) {
        failed |= set(data, "train_images", json_integer(r->data->train_n));
        failed |= set(data, "test_images", json_integer(r->data->test_n));
        char fp[32];
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)r->data->fnv1a64);
        failed |= set(data, "fnv1a64", json_text(fp));
    }
    failed |= set(w, "data", data);

    json_t *plan = json_object();
    failed |= set(plan, "configurations", json_integer(r->configurations));
    failed |= set(plan, "config_keys",
                  text_array(r->config_keys, r->config_keys ? r->configurations : 0));
    failed |= set(plan, "skipped_by_rules", json_integer(r->skipped));
    failed |= set(plan, "duplicates", json_integer(r->duplicates));
    failed |= set(plan, "finished", json_integer(r->finished_configs));
    failed |= set(plan, "failed", json_integer(r->failed_configs));
    failed |= set(w, "plan", plan);

    failed |= write_backends(w, m);
    failed |= write_energy(w, &m->energy);

    json_t *showcase = json_object();
    failed |= set(showcase, "params_config", json_text(r->showcase_key));
    failed |= set(showcase, "digit_index", json_integer(r->digit_index));
    failed |= set(showcase, "digit_label", json_integer(r->digit_label));
    failed |= set(w, "showcase", showcase);

    if (failed) {
        json_decref(w);
        return cnn_fail(CNN_E_NOMEM, "%s: cannot build meta.json: out of memory", path);
    }
    struct cnn_atomic_file f;
    cnn_status st = cnn_atomic_open(&f, path);
    errno = 0; /* so that a failed write below is what a nonzero errno tells */
    if (st == CNN_OK && json_write_document(f.fp, w) != 0) {
        int saved = errno;
        cnn_atomic_abort(&f);
        st = cnn_fail(CNN_E_IO, "%s: write failed: %s", path,
                      saved ? strerror(saved) : "the stream reported an error");
    } else if (st == CNN_OK) {
        st = cnn_atomic_commit(&f);
    }
    json_decref(w);
    return st;
}

cnn_status meta_read(const char *path, char **text)
{
    size_t len;
    json_t *root = NULL;
    CNN_TRY(runfile_load(path, RUNFILE_FIELDS, text, &len));
    cnn_status st = json_parse_document(path, *text, len, &root);
    if (st == CNN_OK && !json_is_object(root))
        st = cnn_fail(CNN_E_DATA, "%s: not a JSON object, so not a cnnbench meta.json", path);
    json_decref(root);
    if (st != CNN_OK) {
        free(*text);
        *text = NULL;
    }
    return st;
}
