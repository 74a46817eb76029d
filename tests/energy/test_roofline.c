/*
 * test_roofline.c — the work model and placement of bench/engine/roofline.c: the
 * regions add up to run_step_flop (and to §7's formula) wherever dm is
 * formed, every region of every shape has finite, positive traffic and
 * every region with FLOPs a finite, positive intensity, the traffic at
 * (1000, 256) is bench/NOTES.md's, a region at its roof sits at fraction 1
 * on the right side of the ridge, and the ceilings file is read strictly.
 *
 * With a directory argument it also writes the chart tables of a synthetic
 * run there (roofline.csv, roofline_ceilings.csv, energy.csv, plotinfo.gp)
 * for the rendering test of plots/roofline.gp and plots/energy.gp.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "roofline.h"
#include "run.h"

static const int batches[] = {1, 7, 100, 1000, 65536};
static const int filters[] = {1, 3, 16, 256, 4096};

/* docs/DESIGN.md §7, written out from its table. */
static double design_step_flop(double b, double f)
{
    return 2 * 9 * 676 * f * b + 2 * 9 * 169 * f * b + 6 * 10 * 169 * f * b;
}

static void test_counts(void)
{
    int bad_sum = 0, bad_region = 0;
    for (size_t i = 0; i < sizeof batches / sizeof *batches; i++)
        for (size_t j = 0; j < sizeof filters / sizeof *filters; j++)
            for (int gpus = 0; gpus <= 4; gpus += 4)
                for (int flow = ROOF_FLOW_STORED; flow <= ROOF_FLOW_RECOMPUTED; flow++) {
                    struct roof_shape s = {batches[i], filters[j], gpus, (enum roof_flow)flow};
                    double sum = 0;
                    for (int r = 0; r < CNN_REGION_COUNT; r++) {
                        struct roof_work w = roof_region_work(&s, (enum cnn_region)r);
                        sum += w.flop;
                        int modelled = r != CNN_REGION_ALLREDUCE || gpus > 1;
                        if (!(isfinite(w.flop) && w.flop >= 0) ||
                            (modelled && !(isfinite(w.bytes) && w.bytes > 0)) ||
                            (w.flop > 0 && !(isfinite(w.flop / w.bytes) && w.flop / w.bytes > 0)))
                            bad_region++;
                    }
                    double want = gpus ? 0 : design_step_flop(batches[i], filters[j]);
                    if (gpus == 0 && !(fabs(sum - want) <= 1e-12 * want))
                        bad_sum++;
                    if (gpus == 0 && run_step_flop(batches[i], filters[j]) != sum)
                        bad_sum++;
                }
    check(bad_sum == 0, "regions add up to run_step_flop and §7 at 25 shapes, all three flows "
                        "(%d off)", bad_sum);
    check(bad_region == 0, "every region: finite FLOPs, positive traffic, finite positive "
                           "intensity where it has FLOPs (%d not)", bad_region);

    /* dm moves between fc_bwd and conv_bwd, FLOPs and bytes both */
    struct roof_shape early = {1000, 256, 0, ROOF_FLOW_STORED};
    struct roof_shape late = {1000, 256, 0, ROOF_FLOW_DM_IN_CONV};
    double dm_flop = 2.0 * 10 * 169 * 256 * 1000;
    struct roof_work fe = roof_region_work(&early, CNN_REGION_FC_BWD);
    struct roof_work fl = roof_region_work(&late, CNN_REGION_FC_BWD);
    struct roof_work ce = roof_region_work(&early, CNN_REGION_CONV_BWD);
    struct roof_work cl = roof_region_work(&late, CNN_REGION_CONV_BWD);
    check(fe.flop - fl.flop == dm_flop && cl.flop - ce.flop == dm_flop,
          "dm's %.3g FLOP move from fc_bwd to conv_bwd", dm_flop);
    check(fe.bytes > fl.bytes && cl.bytes < ce.bytes,
          "forming dm where it is consumed saves its write and read");

    /* m never stored: the FC forward's FLOPs move into conv_fwd, the whole
     * backward into fc_bwd, and no region moves m (173 MB at this shape) */
    struct roof_shape fused = {1000, 256, 0, ROOF_FLOW_RECOMPUTED};
    double fc_flop = 2.0 * 10 * 169 * 256 * 1000, m_bytes = 4.0 * 169 * 256 * 1000;
    struct roof_work conv_fused = roof_region_work(&fused, CNN_REGION_CONV_FWD);
    check(conv_fused.flop - roof_region_work(&early, CNN_REGION_CONV_FWD).flop == fc_flop &&
              roof_region_work(&fused, CNN_REGION_FC_FWD).flop == 0 &&
              roof_region_work(&fused, CNN_REGION_CONV_BWD).flop == 0,
          "recomputed m: conv_fwd takes the FC forward's %.3g FLOP, fc_fwd and conv_bwd none",
          fc_flop);
    int small = 1;
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        small &= roof_region_work(&fused, (enum cnn_region)r).bytes < m_bytes;
    check(small, "recomputed m: every region moves less than m's %.0f MB", m_bytes / 1e6);

    /* bench/NOTES.md, GPU table at (1000, 256): MB moved per region */
    static const struct {
        enum cnn_region r;
        double mb;
    } notes[] = {{CNN_REGION_H2D, 3.1},     {CNN_REGION_CONV_FWD, 219}, {CNN_REGION_FC_FWD, 175},
                 {CNN_REGION_FC_BWD, 346},  {CNN_REGION_UPDATE, 5.2}};
    for (size_t i = 0; i < sizeof notes / sizeof *notes; i++) {
        double mb = roof_region_work(&early, notes[i].r).bytes / 1e6;
        check(fabs(mb - notes[i].mb) <= 0.02 * notes[i].mb, "%s moves %.1f MB (NOTES: %g)",
              cnn_region_name(notes[i].r), mb, notes[i].mb);
    }
    /* a data-parallel region is rank 0's share: 1000 over 3 GPUs is 334 */
    struct roof_shape dp = {1000, 256, 3, ROOF_FLOW_STORED};
    struct roof_shape one = {334, 256, 0, ROOF_FLOW_STORED};
    check(roof_region_work(&dp, CNN_REGION_CONV_FWD).flop ==
              roof_region_work(&one, CNN_REGION_CONV_FWD).flop,
          "gpus 3, batch 1000: regions count rank 0's 334 images");
}

static const char peak_text[] =
    "isa avx512\n"
    "fma_gflops threads=1 239.0\n"
    "mul_add_gflops threads=1 120.0\n"
    "read_gbs threads=1 16.0\n"
    "write_gbs threads=1 9.0\n"
    "checksum 1.5e+07\n"
    "isa avx512\n"
    "fma_gflops threads=2 475.0\n"
    "mul_add_gflops threads=2 240.0\n"
    "read_gbs threads=2 25.0\n"
    "write_gbs threads=2 12.0\n"
    "checksum 3e+07\n";

static void test_ceilings(void)
{
    struct roof_ceilings c;
    CHECK_OK(roof_ceilings_parse("ceilings", peak_text, 0, &c));
    check(c.threads == 2 && c.fma_flop_per_s == 475e9 && c.mul_add_flop_per_s == 240e9 &&
              c.bytes_per_s == 25e9 && !c.nominal,
          "threads 0 picks the run with the most threads: %s", c.source);
    CHECK_OK(roof_ceilings_parse("ceilings", peak_text, 1, &c));
    check(c.threads == 1 && c.fma_flop_per_s == 239e9 && c.bytes_per_s == 16e9,
          "threads 1 picks the one-thread run");
    check(roof_ceilings_parse("ceilings", peak_text, 4, &c) == CNN_E_ARG,
          "no run at 4 threads: CNN_E_ARG");
    static const char *const bad[] = {
        "fma_gflops threads=1 nan\n",     "fma_gflops threads=1 -3\n",
        "fma_gflops threads=1 1e300\n",   "fma_gflops threads=0 5\n",
        "fma_gflops threads=1 5 extra\n", "rm -rf threads=1 5\n",
        "fma_gflops 5\n",                 "'; system('x') threads=1 5\n",
    };
    int refused = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        refused += roof_ceilings_parse("ceilings", bad[i], 0, &c) == CNN_E_DATA;
    check(refused == (int)(sizeof bad / sizeof *bad), "%d of %zu malformed lines refused", refused,
          sizeof bad / sizeof *bad);
    check(roof_ceilings_parse("ceilings", "fma_gflops threads=1 5\n", 0, &c) == CNN_E_ARG,
          "an incomplete run: CNN_E_ARG");

    check(roof_gpu_nominal("NVIDIA H100 80GB HBM3", &c) && c.nominal &&
              c.mul_add_flop_per_s * 2 == c.fma_flop_per_s && c.bytes_per_s > 0,
          "H100 SXM: nominal ceilings (%s)", c.source);
    check(!roof_gpu_nominal("NVIDIA GeForce GTX 1080", &c), "an unknown GPU has no ceilings");
}

static void test_place(void)
{
    struct roof_ceilings c = {.fma_flop_per_s = 400e9, .mul_add_flop_per_s = 200e9,
                              .bytes_per_s = 20e9, .threads = 2, .source = "test"};
    struct roof_point p;
    /* 10 FLOP/byte: the mul_add roof (ridge at 10) is reached exactly */
    struct roof_work w = {2e9, 2e8};
    CHECK_OK(roof_place(&w, 10.0, &c, 0, &p));
    check(fabs(p.flop_per_s - 200e9) <= 1 && fabs(p.fraction - 1.0) <= 1e-12,
          "at its roof: %.4g FLOP/s, fraction %.3f", p.flop_per_s, p.fraction);
    CHECK_OK(roof_place(&w, 20.0, &c, 1, &p));
    check(p.bound == ROOF_BOUND_MEMORY && fabs(p.fraction - 0.5) <= 1e-12,
          "FMA roof: ridge at 20 FLOP/byte, so 10 is memory-bound, at 0.5 (%s, %.3f)",
          roof_bound_name(p.bound), p.fraction);
    struct roof_work dense = {4e9, 1e8};
    CHECK_OK(roof_place(&dense, 40.0, &c, 0, &p));
    check(p.bound == ROOF_BOUND_COMPUTE && fabs(p.fraction - 0.5) <= 1e-12,
          "40 FLOP/byte without FMA: compute-bound, at 0.5 (%.3f)", p.fraction);
    struct roof_work copy = {0, 1e9};
    CHECK_OK(roof_place(&copy, 100.0, &c, 0, &p));
    check(p.intensity == 0 && p.bound == ROOF_BOUND_MEMORY && fabs(p.fraction - 0.5) <= 1e-12,
          "no FLOPs: bandwidth fraction %.3f", p.fraction);
    check(roof_place(&w, 0.0, &c, 0, &p) == CNN_E_ARG && roof_place(&w, NAN, &c, 0, &p) ==
              CNN_E_ARG,
          "zero or NaN time refused");
    struct roof_work none = {0, 0};
    check(roof_place(&none, 1.0, &c, 0, &p) == CNN_E_ARG, "a region without traffic refused");
}

/* A synthetic run's tables: two CPU backends at two sizes, a GPU backend
 * with nominal ceilings, and the energy of each. */
static int write_tables(const char *dir)
{
    char path[4200];
    struct roof_ceilings cpu, gpu;
    CHECK_OK(roof_ceilings_parse("ceilings", peak_text, 0, &cpu));
    roof_gpu_nominal("NVIDIA H100 80GB HBM3", &gpu);
    static const struct {
        const char *label;
        int fma, dm_late, cpu;
        double ms_per_gflop;
    } series[] = {{"seq", 0, 0, 1, 60}, {"omp t2", 0, 1, 1, 5.5}, {"cuda v3", 1, 0, 0, 0.08}};
    snprintf(path, sizeof path, "%s/roofline.csv", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return check(0, "cannot write %s", path), 1;
    for (size_t i = 0; i < sizeof series / sizeof *series; i++) {
        roof_table_header(fp, series[i].label);
        for (int f = 16; f <= 256; f *= 16) {
            struct roof_shape s = {1000, f, 0, series[i].dm_late ? ROOF_FLOW_DM_IN_CONV
                                                                 : ROOF_FLOW_STORED};
            for (int r = 0; r < CNN_REGION_COUNT; r++) {
                struct roof_work w = roof_region_work(&s, (enum cnn_region)r);
                if (w.bytes <= 0 || (series[i].cpu && (r == CNN_REGION_H2D || r == CNN_REGION_D2H)))
                    continue;
                double ms = (w.flop + w.bytes / 4) * 1e-9 * series[i].ms_per_gflop + 0.01;
                struct roof_point p;
                CHECK_OK(roof_place(&w, ms, series[i].cpu ? &cpu : &gpu, series[i].fma, &p));
                char key[64];
                snprintf(key, sizeof key, "%s:v1:t1:b1000:f%d:s10:r1", series[i].label, f);
                roof_table_row(fp, key, (enum cnn_region)r, &w, ms, &p, f == 16 && i == 1);
            }
        }
        fputs("\n\n", fp);
    }
    fclose(fp);

    snprintf(path, sizeof path, "%s/roofline_ceilings.csv", dir);
    if (!(fp = fopen(path, "w")))
        return check(0, "cannot write %s", path), 1;
    roof_ceiling_block(fp, "CPU FMA peak 475 GFLOP/s; read 25 GB/s (peak_flops 2 threads)",
                       cpu.fma_flop_per_s, cpu.bytes_per_s, 1e-3, 1e3);
    roof_ceiling_block(fp, "CPU multiply and add apart 240 GFLOP/s", cpu.mul_add_flop_per_s,
                       cpu.bytes_per_s, 1e-3, 1e3);
    roof_ceiling_block(fp, "GPU FMA peak 66.9 TFLOP/s; HBM 3.35 TB/s (nominal)",
                       gpu.fma_flop_per_s, gpu.bytes_per_s, 1e-3, 1e3);
    roof_ceiling_block(fp, "GPU without FMA 33.5 TFLOP/s (nominal)", gpu.mul_add_flop_per_s,
                       gpu.bytes_per_s, 1e-3, 1e3);
    fclose(fp);

    snprintf(path, sizeof path, "%s/energy.csv", dir);
    if (!(fp = fopen(path, "w")))
        return check(0, "cannot write %s", path), 1;
    fputs("images_per_s,omp t2 (cpu),images_per_s_lo,images_per_s_hi,config_key,unstable\n"
          "2900,95,2800,3000,omp:v1:t2:b1000:f256:s10:r1,0\n"
          "31000,800,30000,32000,omp:v1:t2:b100:f32:s10:r1,1\n\n\n"
          "images_per_s,cuda v3 (gpu),images_per_s_lo,images_per_s_hi,config_key,unstable\n"
          "1500000,4300,1490000,1510000,cuda:v3:t0:b1000:f256:s10:r1,0\n\n\n",
          fp);
    fclose(fp);

    snprintf(path, sizeof path, "%s/plotinfo.gp", dir);
    if (!(fp = fopen(path, "w")))
        return check(0, "cannot write %s", path), 1;
    fputs("machine = 'CPU: test machine | GPU: NVIDIA H100 80GB HBM3'\n"
          "roof_blocks = 3\nroof_solid = '0 2'\nroof_dashed = '1 3'\nroof_note = ''\nroof_unstable = 1\n"
          "energy_blocks = 2\nenergy_note = ''\nenergy_unstable = 1\n",
          fp);
    fclose(fp);
    check(1, "tables written to %s", dir);
    return 0;
}

int main(int argc, char **argv)
{
    check_name = "roofline";
    test_counts();
    test_ceilings();
    test_place();
    if (argc > 1 && write_tables(argv[1]) != 0)
        return check_finish();
    return check_finish();
}
