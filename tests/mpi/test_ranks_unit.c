/*
 * test_ranks_unit.c — the parts of data-parallel training that need no MPI:
 * the split of a batch over ranks (impl/common/batch_share.h), the launcher
 * check (bench/mpi/launch.c), and the build without MPI
 * (bench/mpi/ranks_single.c), which must refuse to run under a launcher.
 * Built into every build, with or without MPI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_share.h"
#include "check.h"
#include "ranks.h"

/* Every (n, N): the shares tile [0, n) in rank order, differ by at most
 * one, and the larger ones come first. */
static void test_share_properties(void)
{
    int bad = 0, cases = 0;
    for (size_t n = 0; n <= 130; n++) {
        for (int N = 1; N <= 17; N++) {
            size_t next = 0;
            for (int r = 0; r < N; r++) {
                struct cnn_share s = cnn_share_of(n, N, r);
                size_t expect_count = n / (size_t)N + ((size_t)r < n % (size_t)N);
                if (s.offset != next || s.count != expect_count)
                    bad++;
                next = s.offset + s.count;
            }
            if (next != n)
                bad++;
            cases++;
        }
    }
    check(bad == 0, "%d (n, N) splits tile [0, n) contiguously, sizes n/N or n/N + 1, larger "
          "first (%d wrong)", cases, bad);
}

static int share_is(size_t n, int N, int r, size_t offset, size_t count)
{
    struct cnn_share s = cnn_share_of(n, N, r);
    return s.offset == offset && s.count == count;
}

/* The uneven case, B = 100 over 3 ranks, worked by hand, and the
 * edges: more ranks than images, and a buffer of F = 256 parameters. */
static void test_share_cases(void)
{
    check(share_is(100, 3, 0, 0, 34) && share_is(100, 3, 1, 34, 33) &&
          share_is(100, 3, 2, 67, 33), "B=100 over 3 ranks: 34 at 0, 33 at 34, 33 at 67");
    check(share_is(100, 2, 0, 0, 50) && share_is(100, 2, 1, 50, 50), "B=100 over 2: 50 + 50");
    check(share_is(2, 3, 0, 0, 1) && share_is(2, 3, 1, 1, 1) && share_is(2, 3, 2, 2, 0),
          "2 items over 3 ranks: 1, 1, and none for the last");
    check(share_is(7, 1, 0, 0, 7), "one rank takes everything");
    check(share_is(435210, 16, 15, 15 * 27200 + 10, 27200),
          "F=256's 435,210 parameters over 16 ranks: the last 27,200 start at 408,010");
}

static const char *const launcher_variables[] = {
    "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS", "PMIX_RANK",
    "SLURM_NTASKS", "SLURM_PROCID",
};

static void clear_launcher(void)
{
    for (size_t i = 0; i < sizeof launcher_variables / sizeof launcher_variables[0]; i++)
        unsetenv(launcher_variables[i]);
}

/* One variable set to value: the count ranks_launcher_size reads, and what named it. */
static void expect_launch(const char *name, const char *value, int count, const char *named)
{
    clear_launcher();
    setenv(name, value, 1);
    const char *variable = NULL;
    int got = ranks_launcher_size(&variable);
    check(got == count && variable && !strcmp(variable, named), "%s=%s: %d processes, by %s "
          "(got %d, by %s)", name, value, count, named, got, variable ? variable : "(null)");
}

static void test_launcher(void)
{
    clear_launcher();
    const char *variable = NULL;
    check(ranks_launcher_size(&variable) == 1 && variable && !*variable,
          "no launcher variable: one process");
    expect_launch("OMPI_COMM_WORLD_SIZE", "3", 3, "OMPI_COMM_WORLD_SIZE");
    expect_launch("PMI_SIZE", "2", 2, "PMI_SIZE");
    expect_launch("SLURM_STEP_NUM_TASKS", "8", 8, "SLURM_STEP_NUM_TASKS");
    expect_launch("PMIX_RANK", "0", 0, "PMIX_RANK");
    expect_launch("OMPI_COMM_WORLD_SIZE", "1", 1, "OMPI_COMM_WORLD_SIZE");
    expect_launch("OMPI_COMM_WORLD_SIZE", "two", 1, "");
    expect_launch("PMI_SIZE", "-4", 1, "");

    /* a batch script of an 8-task allocation runs as one process */
    clear_launcher();
    setenv("SLURM_NTASKS", "8", 1);
    setenv("SLURM_PROCID", "0", 1);
    check(ranks_launcher_size(&variable) == 1, "sbatch script (SLURM_NTASKS=8, no step): one");

    /* mpirun's own variable wins over a stale Slurm one around it */
    clear_launcher();
    setenv("SLURM_STEP_NUM_TASKS", "8", 1);
    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    check(ranks_launcher_size(&variable) == 2 && !strcmp(variable, "OMPI_COMM_WORLD_SIZE"),
          "mpirun inside a Slurm step: mpirun's count");
}

/* The build without MPI: a job of one that sums to itself, and a refusal,
 * naming the variable and the remedy, under a launcher of several. */
static void test_single(void)
{
    clear_launcher();
    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    ranks *r = NULL;
    cnn_status st = ranks_init(NULL, NULL, &r);
    const char *msg = cnn_last_error();
    check(st == CNN_E_UNAVAILABLE && r == NULL && strstr(msg, "OMPI_COMM_WORLD_SIZE=2") &&
          strstr(msg, "without MPI") && strstr(msg, "-Dmpi=enabled"),
          "under mpirun -np 2 without MPI: refused (%s)", msg);
    clear_launcher();
    setenv("PMIX_RANK", "0", 1);
    r = NULL;
    check(ranks_init(NULL, NULL, &r) == CNN_E_UNAVAILABLE && r == NULL,
          "under a PMIx launcher that does not say how many: refused");

    clear_launcher();
    CHECK_OK(ranks_init(NULL, NULL, &r));
    const struct ranks_info *info = ranks_info(r);
    check(info->rank == 0 && info->size == 1 && info->local_rank == 0 && info->local_size == 1 &&
          info->host_count == 1 && info->hosts[0].ranks == 1 && *info->hosts[0].name,
          "alone: rank 0 of 1 on host %s", info->hosts[0].name);
    check(strstr(info->library, "without MPI") != NULL, "library: %s", info->library);
    float f[3] = {1.5f, -2.0f, 3e-8f};
    double d[2] = {0.1, 7.0};
    CHECK_OK(ranks_sum_float(r, f, 3));
    CHECK_OK(ranks_sum_double(r, d, 2));
    check(f[0] == 1.5f && f[1] == -2.0f && f[2] == 3e-8f && d[0] == 0.1 && d[1] == 7.0,
          "the sum over one rank leaves the buffer as it was");
    ranks_finalize(r);
}

int main(void)
{
    check_name = "ranks-unit";
    test_share_properties();
    test_share_cases();
    test_launcher();
    test_single();
    return check_finish();
}
