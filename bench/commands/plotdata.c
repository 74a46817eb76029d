/*
 * plotdata.c — `cnnbench plotdata RUN_DIR`: reshapes a run's tidy CSV into
 * the small plot-ready tables the gnuplot scripts in plots/ draw, under
 * RUN_DIR/plots/data/, plus plotinfo.gp, which tells the scripts what each
 * table holds (the CPU and GPU from meta.json, chosen sizes, axis ranges and
 * ticks).
 *
 * gnuplot reads CSV well but cannot group, sort or pick; doing that here in
 * C keeps the project free of a Python dependency. Choices, all documented in
 * results/README.md:
 *   - only configurations with status ok are drawn;
 *   - a curve is one "label": impl plus threads ("omp t2") plus variant
 *     ("cuda v3") plus GPUs of a data-parallel run ("cuda g4"); repetitions
 *     and runs of different lengths of one (label, batch, filters), a "cell",
 *     are pooled as the median of their medians (and of their quartiles);
 *   - a point is unstable when any configuration it is computed from is
 *     (summary.csv's unstable column: CV of the step times above 10%, or
 *     a --max-noise target missed), so a speedup is unstable when its
 *     baseline is; the charts draw such points hollow;
 *   - speedup vs threads draws, per impl, variant and GPU count (one panel
 *     each), every size run at 1 and at more threads, relative to the same
 *     impl at 1 thread. IQR bars invert for a speedup: low = T1 / q3,
 *     high = T1 / q1;
 *   - speedup vs filters is drawn at the batch size with the most filter
 *     values where seq and another backend both ran, speedup vs batch at the
 *     filter count with the most such batch sizes; step time vs parameters
 *     at the batch with the most filter counts; the breakdown and the box
 *     plot at the (batch, filters) that the most backends, then labels, ran;
 *     ties go to the larger size;
 *   - images/s vs GPUs uses the filter count with the most data-parallel
 *     configurations, one curve per (impl, variant, batch) with two or more
 *     GPU counts; the ideal is N times the images/s on one GPU: gpus 1 (NCCL
 *     with one rank), else the plain path (gpus 0);
 *   - images/s vs ranks (sweep --ranks) draws scaling.h's curves, one chart
 *     per scaling mode of the run, each with its ideal N x 1-rank images/s.
 * Multi-curve tables are gnuplot data blocks (two blank lines apart), each
 * opening with a header line whose second field names the curve.
 *
 * Everything read is checked (fields.h, meta_read): names reach
 * gnuplot and file names, so only what cnnbench writes is accepted. The work
 * is O(n log n) in the rows: rows are sorted once into cells, and every table
 * is built from the cells.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

#include "commands.h"
#include "fields.h"
#include "fileio.h"
#include "json.h"
#include "meta.h"
#include "plotdata.h"

static const char plotdata_help[] =
    "Usage: cnnbench plotdata RUN_DIR\n"
    "\n"
    "Writes the plot-ready tables of a sweep's results into RUN_DIR/plots/data/\n"
    "(plotinfo.gp describes them). plots/render.sh runs this, then gnuplot.\n";

/* ---- the machine, and the command ---- */

/* A text value of meta.json for a chart's footer: printable and short, or
 * "unknown" when the run did not record it. */
static cnn_status meta_text(const char *path, const char *meta, const char *key, char *out,
                            size_t len)
{
    char buf[1024];
    if (json_get_string(meta, key, buf, sizeof buf) != 0) {
        snprintf(out, len, "unknown");
        return CNN_OK;
    }
    if (strlen(buf) >= len || !field_is_printable(buf))
        return cnn_fail(CNN_E_DATA, "%s: \"%s\" is not printable text of at most %zu characters",
                        path, key, len - 1);
    snprintf(out, len, "%s", buf);
    return CNN_OK;
}

static cnn_status machine_info(struct pd *pd, const char *path, const char *meta)
{
    char cpu[256], gpu[256], run_id[256], cpu_full[300] = "";
    CNN_TRY(meta_text(path, meta, "host.cpu_model", cpu, sizeof cpu));
    CNN_TRY(meta_text(path, meta, "gpu_name", gpu, sizeof gpu));
    CNN_TRY(meta_text(path, meta, "run_id", run_id, sizeof run_id));
    double online;
    if (json_get_number(meta, "host.online_cpus", &online) == 0 && online >= 1 && online <= 1e6)
        snprintf(cpu_full, sizeof cpu_full, "%s (%d CPUs)", cpu, (int)online);
    else
        snprintf(cpu_full, sizeof cpu_full, "%s", cpu);
    pd_info_str(pd, "cpu_name", cpu_full);
    pd_info_str(pd, "gpu_name", gpu);
    pd_info_str(pd, "run_id", run_id);
    fputs("machine = sprintf('CPU: %s   GPU: %s   run %s', cpu_name, gpu_name, run_id)\n",
          pd->info);
    return CNN_OK;
}

static cnn_status make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", path, strerror(errno));
    return CNN_OK;
}

/* Every table, in the order plotinfo.gp lists them. */
static cnn_status write_tables(struct pd *pd, const char *meta_path, const char *meta)
{
    int bb, bf;
    CNN_TRY(pd_busiest_size(pd, &bb, &bf));
    fputs("# written by cnnbench plotdata: what the tables in this directory hold\n", pd->info);
    pd_info_int(pd, "configurations_ok", pd->n);
    CNN_TRY(machine_info(pd, meta_path, meta));
    CNN_TRY(pd_table_threads(pd));
    CNN_TRY(pd_table_gpus(pd));
    CNN_TRY(pd_table_ranks(pd, meta_path, meta));
    CNN_TRY(pd_table_speedup_size(pd, 1));
    CNN_TRY(pd_table_speedup_size(pd, 0));
    CNN_TRY(pd_table_time_params(pd));
    CNN_TRY(pd_table_breakdown_share(pd, bb, bf));
    CNN_TRY(pd_table_breakdown_impls(pd, bb));
    CNN_TRY(pd_tables_per_step(pd, bb, bf));
    CNN_TRY(pd_table_roofline(pd, meta_path, meta));
    CNN_TRY(pd_table_energy(pd));
    return pd_table_showcase(pd, meta_path, meta);
}

static cnn_status plotdata_run(struct pd *pd)
{
    char path[PD_PATH], meta_path[PD_PATH];
    struct summary_row *all;
    int n_all;
    snprintf(path, sizeof path, "%s/summary.csv", pd->run);
    CNN_TRY(summary_read_run(path, &all, &n_all));
    pd->rows = all;
    pd->n = 0;
    for (int i = 0; i < n_all; i++)
        if (!strcmp(all[i].status, "ok"))
            pd->rows[pd->n++] = all[i];
    cnn_status st = pd_build_cells(pd, path);
    char *meta = NULL;
    snprintf(meta_path, sizeof meta_path, "%s/meta.json", pd->run);
    if (st == CNN_OK)
        st = meta_read(meta_path, &meta);
    snprintf(path, sizeof path, "%s/plots", pd->run);
    if (st == CNN_OK)
        st = make_dir(path);
    if (st == CNN_OK)
        st = make_dir(pd->data_dir);
    struct cnn_atomic_file info;
    snprintf(path, sizeof path, "%s/plotinfo.gp", pd->data_dir);
    if (st == CNN_OK)
        st = cnn_atomic_open(&info, path);
    if (st == CNN_OK) {
        pd->info = info.fp;
        st = write_tables(pd, meta_path, meta);
        if (st == CNN_OK)
            st = cnn_atomic_commit(&info);
        else
            cnn_atomic_abort(&info);
    }
    free(meta);
    free(all);
    free(pd->labels);
    free(pd->cells);
    free(pd->cell_rows);
    return st;
}

enum cli_outcome plotdata_command(int argc, char **argv)
{
    struct pd pd;
    memset(&pd, 0, sizeof pd);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(plotdata_help, stdout);
            return CLI_DONE;
        }
        if (argv[i][0] == '-' || pd.run) {
            cnn_fail(CNN_E_ARG, "unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        }
        pd.run = argv[i];
    }
    if (!pd.run) {
        cnn_fail(CNN_E_ARG, "which run? give its directory, e.g. results/<run-id>");
        return CLI_USAGE;
    }
    snprintf(pd.data_dir, sizeof pd.data_dir, "%s/plots/data", pd.run);
    if (plotdata_run(&pd) != CNN_OK)
        return CLI_FAILED;
    printf("plot data in %s/\n", pd.data_dir);
    return CLI_DONE;
}
