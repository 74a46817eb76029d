/*
 * energy.c — reads the energy meters of energy.h: RAPL zones through the
 * powercap files, GPUs through NVML where the build found it.
 *
 * NVML is linked, not loaded with dlopen: meson enables it only where the
 * driver's libnvidia-ml.so.1 is present at configure time (a program that
 * links it will not start without the driver), so a build without a driver
 * simply has no NVML, and says so in energy_reason.
 */
#include "energy.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnbench_config.h"
#include "error.h"

#if CNN_HAVE_NVML
#include <nvml.h>
#endif

static const char default_powercap_root[] = "/sys/class/powercap";

const char *energy_device_name(enum energy_device d)
{
    return d == ENERGY_GPU ? "gpu" : "cpu";
}

const char *energy_powercap_root(void)
{
    const char *root = getenv("CNNBENCH_POWERCAP_ROOT");
    return root && *root ? root : default_powercap_root;
}

const char *energy_reason(const struct energy_meters *m, enum energy_device d)
{
    return m->reason[d];
}

__attribute__((format(printf, 3, 4))) static void set_reason(struct energy_meters *m,
                                                             enum energy_device d,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->reason[d], sizeof m->reason[d], fmt, ap);
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- RAPL through powercap ---- */

/* Reads a small sysfs file into buf, without its trailing newline. 0 on
 * success; else errno (EIO for an empty or oversized file). */
static int read_small(const char *path, char *buf, size_t size)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return errno;
    size_t n = fread(buf, 1, size - 1, fp);
    int err = ferror(fp) ? (errno ? errno : EIO) : 0;
    int more = !err && fgetc(fp) != EOF;
    fclose(fp);
    if (err)
        return err;
    if (n == 0 || more)
        return EIO;
    buf[n] = '\0';
    if (buf[n - 1] == '\n')
        buf[--n] = '\0';
    return n ? 0 : EIO;
}

/* A counter file: decimal microjoules. 0 on success, else errno (EINVAL
 * for anything but digits). */
static int read_microjoules(const char *path, double *uj)
{
    char buf[32];
    int err = read_small(path, buf, sizeof buf);
    if (err)
        return err;
    if (buf[0] < '0' || buf[0] > '9')
        return EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end)
        return EINVAL;
    *uj = (double)v;
    return 0;
}

static const char *read_error(int err)
{
    return err == EINVAL ? "not a decimal count" : err == EIO ? "empty or not a counter"
                                                                : strerror(err);
}

/* intel-rapl:N or intel-rapl:N:M, nothing else (intel-rapl-mmio repeats the
 * package zone through another interface and would count it twice). */
static int is_rapl_zone(const char *name)
{
    static const char prefix[] = "intel-rapl:";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return 0;
    int colons = 0, digits = 0;
    for (const char *p = name + sizeof prefix - 1; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
        } else if (*p == ':' && digits && colons == 0) {
            colons++;
            digits = 0;
        } else {
            return 0;
        }
    }
    return digits > 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Packages and DRAM add up to the CPU's energy; core and uncore are parts of
 * a package, psys is the whole platform: metering them is fine, adding
 * them would count energy twice. */
static int zone_counted(const char *zone_name)
{
    return strncmp(zone_name, "package-", 8) == 0 || strcmp(zone_name, "dram") == 0;
}

/* The RAPL zones under the powercap root, sorted by directory name. A
 * counted zone that cannot be read leaves the CPU without a figure: a total
 * without it would be too low. */
static cnn_status open_rapl(struct energy_meters *m)
{
    const char *root = energy_powercap_root();
    DIR *dir = opendir(root);
    if (!dir) {
        set_reason(m, ENERGY_CPU, "no RAPL: %s: %s (a VM, or no powercap driver)", root,
                   strerror(errno));
        return CNN_OK;
    }
    char *zones[ENERGY_MAX_METERS];
    int nz = 0, too_many = 0;
    cnn_status st = CNN_OK;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (!is_rapl_zone(e->d_name))
            continue;
        if (nz == ENERGY_MAX_METERS) {
            too_many = 1;
            break;
        }
        if (!(zones[nz] = strdup(e->d_name))) {
            st = cnn_fail(CNN_E_NOMEM, "cannot allocate a RAPL zone name");
            break;
        }
        nz++;
    }
    closedir(dir);
    if (too_many)
        st = cnn_fail(CNN_E_ARG, "%s: more than %d RAPL zones", root, ENERGY_MAX_METERS);
    qsort(zones, (size_t)nz, sizeof *zones, name_cmp);

    int first = m->n, counted = 0;
    for (int z = 0; z < nz && st == CNN_OK && !m->reason[ENERGY_CPU][0]; z++) {
        char path[ENERGY_PATH], zone_name[ENERGY_NAME];
        double uj, range_uj;
        int err;
        snprintf(path, sizeof path, "%s/%s/name", root, zones[z]);
        if ((err = read_small(path, zone_name, sizeof zone_name)) != 0) {
            set_reason(m, ENERGY_CPU, "no RAPL figure: %s: %s", path, read_error(err));
            break;
        }
        snprintf(path, sizeof path, "%s/%s/max_energy_range_uj", root, zones[z]);
        if ((err = read_microjoules(path, &range_uj)) != 0 || range_uj <= 0) {
            if (zone_counted(zone_name)) {
                set_reason(m, ENERGY_CPU, "no RAPL figure: %s: %s", path,
                           err ? read_error(err) : "zero range");
                break;
            }
            continue;
        }
        snprintf(path, sizeof path, "%s/%s/energy_uj", root, zones[z]);
        if ((err = read_microjoules(path, &uj)) != 0) {
            if (zone_counted(zone_name)) {
                set_reason(m, ENERGY_CPU, "no RAPL figure: %s: %s%s", path, read_error(err),
                           err == EACCES ? " (root only since Linux 5.10)" : "");
                break;
            }
            continue;
        }
        if (m->n == ENERGY_MAX_METERS) {
            st = cnn_fail(CNN_E_ARG, "more than %d energy meters", ENERGY_MAX_METERS);
            break;
        }
        struct energy_meter *mt = &m->meter[m->n++];
        memset(mt, 0, sizeof *mt);
        mt->device = ENERGY_CPU;
        snprintf(mt->name, sizeof mt->name, "%s", zone_name);
        mt->counted = zone_counted(zone_name);
        mt->power_limit_w = NAN;
        mt->power_at_open_w = NAN;
        snprintf(mt->path, sizeof mt->path, "%s", path);
        mt->range_j = range_uj * 1e-6;
        counted += mt->counted;
    }
    for (int z = 0; z < nz; z++)
        free(zones[z]);
    if (st == CNN_OK && !m->reason[ENERGY_CPU][0] && counted == 0)
        set_reason(m, ENERGY_CPU, nz ? "no RAPL figure: no package or dram zone under %s"
                                     : "no RAPL: no intel-rapl zone under %s",
                   root);
    if (m->reason[ENERGY_CPU][0])
        m->n = first; /* no partial CPU meters */
    return st;
}

/* ---- NVML ---- */

#if CNN_HAVE_NVML
/* Adds one GPU; a card without an energy counter leaves the GPUs without a
 * figure (returns 0). */
static int add_gpu(struct energy_meters *m, nvmlDevice_t dev)
{
    char name[NVML_DEVICE_NAME_BUFFER_SIZE] = "unknown";
    nvmlPciInfo_t pci;
    unsigned long long mj;
    unsigned int limit_mw, power_mw;
    nvmlDeviceGetName(dev, name, sizeof name);
    nvmlReturn_t rc = nvmlDeviceGetPciInfo(dev, &pci);
    if (rc != NVML_SUCCESS) {
        set_reason(m, ENERGY_GPU, "NVML: %s: no PCI bus id: %s", name, nvmlErrorString(rc));
        return 0;
    }
    rc = nvmlDeviceGetTotalEnergyConsumption(dev, &mj);
    if (rc != NVML_SUCCESS) {
        set_reason(m, ENERGY_GPU, "NVML: %s %s: no energy counter: %s", name, pci.busId,
                   nvmlErrorString(rc));
        return 0;
    }
    if (m->n == ENERGY_MAX_METERS) {
        set_reason(m, ENERGY_GPU, "NVML: more than %d meters", ENERGY_MAX_METERS);
        return 0;
    }
    struct energy_meter *mt = &m->meter[m->n++];
    memset(mt, 0, sizeof *mt);
    mt->device = ENERGY_GPU;
    snprintf(mt->name, sizeof mt->name, "GPU %s %s", pci.busId, name);
    mt->counted = 1;
    mt->power_limit_w =
        nvmlDeviceGetEnforcedPowerLimit(dev, &limit_mw) == NVML_SUCCESS ? limit_mw * 1e-3 : NAN;
    mt->power_at_open_w =
        nvmlDeviceGetPowerUsage(dev, &power_mw) == NVML_SUCCESS ? power_mw * 1e-3 : NAN;
    mt->nvml_device = (void *)dev;
    return 1;
}

static void open_nvml(struct energy_meters *m, const struct energy_request *req)
{
    nvmlReturn_t rc = nvmlInit();
    if (rc != NVML_SUCCESS) {
        set_reason(m, ENERGY_GPU, "NVML: no GPU driver: %s", nvmlErrorString(rc));
        return;
    }
    m->nvml_initialised = 1;
    int first = m->n, ok = 1;
    unsigned int count = 0;
    if (req->n_gpu_bus_ids > 0) {
        for (int i = 0; i < req->n_gpu_bus_ids && ok; i++) {
            nvmlDevice_t dev;
            rc = nvmlDeviceGetHandleByPciBusId(req->gpu_bus_ids[i], &dev);
            if (rc != NVML_SUCCESS) {
                set_reason(m, ENERGY_GPU, "NVML: no GPU at bus id %s: %s", req->gpu_bus_ids[i],
                           nvmlErrorString(rc));
                ok = 0;
            } else {
                ok = add_gpu(m, dev);
            }
        }
    } else if ((rc = nvmlDeviceGetCount(&count)) != NVML_SUCCESS || count == 0) {
        set_reason(m, ENERGY_GPU, "NVML: no GPU%s%s", rc == NVML_SUCCESS ? "" : ": ",
                   rc == NVML_SUCCESS ? "" : nvmlErrorString(rc));
        ok = 0;
    } else {
        for (unsigned int i = 0; i < count && ok; i++) {
            nvmlDevice_t dev;
            rc = nvmlDeviceGetHandleByIndex(i, &dev);
            if (rc != NVML_SUCCESS) {
                set_reason(m, ENERGY_GPU, "NVML: GPU %u: %s", i, nvmlErrorString(rc));
                ok = 0;
            } else {
                ok = add_gpu(m, dev);
            }
        }
    }
    if (!ok)
        m->n = first; /* no partial GPU total */
}

static void sample_nvml(struct energy_meters *m, int i, struct energy_reading *r)
{
    nvmlDevice_t dev = (nvmlDevice_t)m->meter[i].nvml_device;
    unsigned long long mj;
    unsigned int mw;
    nvmlReturn_t rc = nvmlDeviceGetTotalEnergyConsumption(dev, &mj);
    if (rc == NVML_SUCCESS) {
        r->joules[i] = (double)mj * 1e-3;
    } else {
        r->joules[i] = NAN;
        set_reason(m, ENERGY_GPU, "NVML: %s: energy counter lost: %s", m->meter[i].name,
                   nvmlErrorString(rc));
    }
    r->power_w[i] = nvmlDeviceGetPowerUsage(dev, &mw) == NVML_SUCCESS ? mw * 1e-3 : NAN;
}
#endif

/* ---- the common part ---- */

cnn_status energy_open(struct energy_meters *m, const struct energy_request *req)
{
    memset(m, 0, sizeof *m);
    if (req->n_gpu_bus_ids < 0 || (req->n_gpu_bus_ids > 0 && (!req->want_gpu || !req->gpu_bus_ids)))
        return cnn_fail(CNN_E_ARG, "energy request: GPU bus ids without a GPU request");
    if (req->n_gpu_bus_ids > ENERGY_MAX_METERS)
        return cnn_fail(CNN_E_ARG, "energy request: %d GPUs, at most %d", req->n_gpu_bus_ids,
                        ENERGY_MAX_METERS);
    if (req->want_cpu)
        CNN_TRY(open_rapl(m));
    else
        set_reason(m, ENERGY_CPU, "not requested");
    if (!req->want_gpu)
        set_reason(m, ENERGY_GPU, "not requested");
    else
#if CNN_HAVE_NVML
        open_nvml(m, req);
#else
        set_reason(m, ENERGY_GPU, "NVML: not built (no nvml.h or no libnvidia-ml.so.1 where "
                                  "this cnnbench was configured)");
#endif
    return CNN_OK;
}

void energy_close(struct energy_meters *m)
{
#if CNN_HAVE_NVML
    if (m->nvml_initialised)
        nvmlShutdown();
#endif
    m->nvml_initialised = 0;
    m->n = 0;
}

void energy_sample(struct energy_meters *m, struct energy_reading *r)
{
    r->t_s = now_s();
    for (int i = 0; i < m->n; i++) {
        r->joules[i] = NAN;
        r->power_w[i] = NAN;
        if (m->meter[i].device == ENERGY_CPU) {
            double uj;
            int err = read_microjoules(m->meter[i].path, &uj);
            if (err == 0)
                r->joules[i] = uj * 1e-6;
            else
                set_reason(m, ENERGY_CPU, "RAPL: %s became unreadable: %s", m->meter[i].path,
                           read_error(err));
        }
#if CNN_HAVE_NVML
        else {
            sample_nvml(m, i, r);
        }
#endif
    }
}

double energy_joules(const struct energy_meters *m, const struct energy_reading *a,
                     const struct energy_reading *b, int i)
{
    if (i < 0 || i >= m->n)
        return NAN;
    double d = b->joules[i] - a->joules[i];
    /* a RAPL counter runs from 0 to its range, then starts again at 0 */
    if (d < 0 && m->meter[i].device == ENERGY_CPU)
        d += m->meter[i].range_j;
    return d >= 0 ? d : NAN;
}

double energy_device_joules(const struct energy_meters *m, const struct energy_reading *a,
                            const struct energy_reading *b, enum energy_device d)
{
    double sum = 0.0;
    int counted = 0;
    for (int i = 0; i < m->n; i++)
        if (m->meter[i].device == d && m->meter[i].counted) {
            sum += energy_joules(m, a, b, i);
            counted++;
        }
    return counted ? sum : NAN;
}

double energy_device_sampled_watts(const struct energy_meters *m,
                                   const struct energy_reading *r, int n,
                                   enum energy_device d)
{
    double sum = 0.0;
    int meters = 0;
    for (int i = 0; i < m->n; i++) {
        if (m->meter[i].device != d || !m->meter[i].counted)
            continue;
        double w = 0.0;
        int samples = 0;
        for (int k = 0; k < n; k++)
            if (!isnan(r[k].power_w[i])) {
                w += r[k].power_w[i];
                samples++;
            }
        if (samples == 0)
            return NAN;
        sum += w / samples;
        meters++;
    }
    return meters ? sum : NAN;
}

double energy_max_interval_s(const struct energy_meters *m, double max_watts)
{
    double t = INFINITY;
    for (int i = 0; i < m->n; i++)
        if (m->meter[i].device == ENERGY_CPU && m->meter[i].range_j / max_watts < t)
            t = m->meter[i].range_j / max_watts;
    return t;
}
