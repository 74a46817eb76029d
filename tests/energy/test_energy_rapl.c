/*
 * test_energy_rapl.c — the RAPL meter of bench/engine/energy.c on a fake powercap
 * tree (CNNBENCH_POWERCAP_ROOT), since neither the build machine nor the
 * H100 host exposes RAPL: zones found and classified, a counter that wraps,
 * a missing root, counters that cannot be read at open or stop being
 * readable later, and the GPU side's reason where NVML is not built.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cnnbench_config.h"
#include "energy.h"

static char root[256];

static void put(const char *zone, const char *file, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, zone);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, zone, file);
    FILE *fp = fopen(path, "w");
    if (!fp || fputs(text, fp) == EOF || fclose(fp) != 0) {
        check(0, "cannot write %s", path);
        exit(check_finish());
    }
}

static void zone(const char *dir, const char *name, const char *range_uj, const char *energy_uj)
{
    put(dir, "name", name);
    put(dir, "max_energy_range_uj", range_uj);
    put(dir, "energy_uj", energy_uj);
}

/* Replaces a zone's energy_uj by a directory: every read of it fails (a
 * mode-000 file would not, for root). */
static void make_unreadable(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/energy_uj", root, dir);
    if (remove(path) != 0 || mkdir(path, 0755) != 0) {
        check(0, "cannot replace %s by a directory", path);
        exit(check_finish());
    }
}

static void remove_tree(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "test_energy_rapl: cannot remove %s\n", root);
}

static const struct energy_request cpu_only = {.want_cpu = 1};

static int meter_named(const struct energy_meters *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->meter[i].name, name) == 0)
            return i;
    return -1;
}

static void test_missing_root(void)
{
    char missing[300];
    snprintf(missing, sizeof missing, "%s/absent", root);
    setenv("CNNBENCH_POWERCAP_ROOT", missing, 1);
    struct energy_meters m;
    CHECK_OK(energy_open(&m, &cpu_only));
    check(m.n == 0 && strstr(energy_reason(&m, ENERGY_CPU), "no RAPL") != NULL,
          "no powercap root: no meter, reason '%s'", energy_reason(&m, ENERGY_CPU));
    struct energy_reading a, b;
    energy_sample(&m, &a);
    energy_sample(&m, &b);
    check(isnan(energy_device_joules(&m, &a, &b, ENERGY_CPU)), "no powercap root: no figure");
    energy_close(&m);
    setenv("CNNBENCH_POWERCAP_ROOT", root, 1);
}

static void test_zones_and_wrap(void)
{
    /* package-0 wraps at 1000 J: 999.5 J -> 0.5 J is 1 J used */
    zone("intel-rapl:0", "package-0\n", "1000000000\n", "999500000\n");
    zone("intel-rapl:0:0", "core\n", "1000000000\n", "100\n");
    zone("intel-rapl:0:1", "dram\n", "65000000000\n", "5000000\n");
    zone("intel-rapl:1", "psys\n", "1000000000\n", "0\n");
    /* the same package through MMIO: must not be counted again */
    zone("intel-rapl-mmio:0", "package-0\n", "1000000000\n", "0\n");
    put("not-rapl", "name", "package-9\n");

    struct energy_meters m;
    CHECK_OK(energy_open(&m, &cpu_only));
    check(m.n == 4, "four RAPL zones found (%d)", m.n);
    check(energy_reason(&m, ENERGY_CPU)[0] == '\0', "a CPU figure: no reason ('%s')",
          energy_reason(&m, ENERGY_CPU));
    int pkg = meter_named(&m, "package-0"), core = meter_named(&m, "core");
    int dram = meter_named(&m, "dram"), psys = meter_named(&m, "psys");
    check(pkg >= 0 && dram >= 0 && core >= 0 && psys >= 0, "zones named by their name files");
    if (pkg < 0 || dram < 0 || core < 0 || psys < 0)
        exit(check_finish());
    check(m.meter[pkg].counted && m.meter[dram].counted && !m.meter[core].counted &&
              !m.meter[psys].counted,
          "package and dram counted; core (inside package) and psys (whole platform) not");

    struct energy_reading a, b;
    energy_sample(&m, &a);
    put("intel-rapl:0", "energy_uj", "500000\n");        /* wrapped: +1 J */
    put("intel-rapl:0:0", "energy_uj", "700100\n");      /* +0.7 J */
    put("intel-rapl:0:1", "energy_uj", "7000000\n");     /* +2 J */
    put("intel-rapl:1", "energy_uj", "9000000\n");       /* +9 J */
    energy_sample(&m, &b);
    double jp = energy_joules(&m, &a, &b, pkg), jd = energy_joules(&m, &a, &b, dram);
    check(fabs(jp - 1.0) <= 1e-9, "package-0 across the wrap: %.9f J (1 J)", jp);
    check(fabs(jd - 2.0) <= 1e-9, "dram: %.9f J (2 J)", jd);
    check(fabs(energy_joules(&m, &a, &b, core) - 0.7) <= 1e-9, "core metered: 0.7 J");
    double cpu = energy_device_joules(&m, &a, &b, ENERGY_CPU);
    check(fabs(cpu - 3.0) <= 1e-9, "CPU total = package + dram = %.9f J (3 J)", cpu);
    double wait = energy_max_interval_s(&m, 100.0);
    check(fabs(wait - 10.0) <= 1e-9, "at 100 W the 1000 J counter wraps in %.3f s (10 s)", wait);
    check(isnan(energy_device_joules(&m, &a, &b, ENERGY_GPU)), "no GPU figure without a GPU meter");

    /* a counter that stops being readable mid-run: no figure, and why */
    make_unreadable("intel-rapl:0:1");
    struct energy_reading c;
    energy_sample(&m, &c);
    check(isnan(energy_joules(&m, &b, &c, dram)), "dram unreadable now: NaN");
    check(isnan(energy_device_joules(&m, &b, &c, ENERGY_CPU)), "CPU total without dram: NaN");
    check(strstr(energy_reason(&m, ENERGY_CPU), "intel-rapl:0:1/energy_uj") != NULL,
          "reason names the file: '%s'", energy_reason(&m, ENERGY_CPU));
    energy_close(&m);
}

static void test_unreadable_at_open(void)
{
    /* dram is now a directory (test_zones_and_wrap): no partial CPU total */
    struct energy_meters m;
    CHECK_OK(energy_open(&m, &cpu_only));
    check(m.n == 0, "a counted zone unreadable at open: no CPU meter (%d)", m.n);
    check(strstr(energy_reason(&m, ENERGY_CPU), "intel-rapl:0:1/energy_uj") != NULL,
          "reason: '%s'", energy_reason(&m, ENERGY_CPU));
    energy_close(&m);

    /* an uncounted zone may be unreadable: the total does not need it */
    char path[512];
    snprintf(path, sizeof path, "%s/intel-rapl:0:1/energy_uj", root);
    rmdir(path);
    put("intel-rapl:0:1", "energy_uj", "1\n");
    make_unreadable("intel-rapl:1");
    CHECK_OK(energy_open(&m, &cpu_only));
    check(m.n == 3 && energy_reason(&m, ENERGY_CPU)[0] == '\0',
          "psys unreadable: the three other zones, a CPU figure (%d meters, '%s')", m.n,
          energy_reason(&m, ENERGY_CPU));
    energy_close(&m);

    put("intel-rapl:0", "energy_uj", "12x\n");
    CHECK_OK(energy_open(&m, &cpu_only));
    check(m.n == 0 && strstr(energy_reason(&m, ENERGY_CPU), "not a decimal count") != NULL,
          "garbage in a counter: no figure, reason '%s'", energy_reason(&m, ENERGY_CPU));
    energy_close(&m);
}

static void test_no_zone(void)
{
    remove_tree();
    mkdir(root, 0755);
    struct energy_meters m;
    CHECK_OK(energy_open(&m, &cpu_only));
    check(m.n == 0 && strstr(energy_reason(&m, ENERGY_CPU), "no intel-rapl zone") != NULL,
          "empty powercap root: reason '%s'", energy_reason(&m, ENERGY_CPU));
    energy_close(&m);
}

static void test_requests(void)
{
    struct energy_meters m;
    const char *ids[] = {"0000:01:00.0"};
    struct energy_request bad = {.want_cpu = 1, .n_gpu_bus_ids = 1, .gpu_bus_ids = ids};
    check(energy_open(&m, &bad) == CNN_E_ARG, "bus ids without a GPU request: CNN_E_ARG");
    energy_close(&m);
    CHECK_OK(energy_open(&m, &cpu_only));
    check(strcmp(energy_reason(&m, ENERGY_GPU), "not requested") == 0,
          "GPU not requested: reason 'not requested'");
    energy_close(&m);
#if !CNN_HAVE_NVML
    struct energy_request gpu = {.want_gpu = 1};
    CHECK_OK(energy_open(&m, &gpu));
    check(m.n == 0 && strstr(energy_reason(&m, ENERGY_GPU), "NVML: not built") != NULL,
          "build without NVML: reason '%s'", energy_reason(&m, ENERGY_GPU));
    energy_close(&m);
#endif
}

int main(void)
{
    check_name = "energy-rapl";
    snprintf(root, sizeof root, "%s/cnnbench-rapl.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) {
        check(0, "cannot create a scratch directory");
        return check_finish();
    }
    setenv("CNNBENCH_POWERCAP_ROOT", root, 1);
    check(strcmp(energy_powercap_root(), root) == 0, "CNNBENCH_POWERCAP_ROOT is the root");
    test_missing_root();
    test_zones_and_wrap();
    test_unreadable_at_open();
    test_no_zone();
    test_requests();
    remove_tree();
    return check_finish();
}
