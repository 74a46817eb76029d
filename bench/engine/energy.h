/*
 * energy.h — the energy meters a run can read: the GPU's cumulative energy
 * counter through NVML, and the CPU's RAPL counters through Linux powercap.
 *
 * Use: energy_open once per run with the devices wanted, energy_sample
 * before and after the timed steps (and in between when the window is
 * long: a RAPL counter wraps, see energy_sample), energy_joules for the
 * difference, energy_close at the end. Where a device has no readable meter
 * (a VM without RAPL, a build without NVML) it has no figure, never an
 * estimate, and energy_reason says why in one line for meta.json.
 *
 * Powercap root: /sys/class/powercap, or the directory in the environment
 * variable CNNBENCH_POWERCAP_ROOT (tests build a fake tree there). Zones are
 * the entries named intel-rapl:N[:M] (AMD's RAPL uses the same driver and
 * names); each has name, energy_uj and max_energy_range_uj.
 */
#ifndef CNN_ENERGY_H
#define CNN_ENERGY_H

#include "cnn.h"

enum {
    ENERGY_MAX_METERS = 32,
    ENERGY_NAME = 96,
    ENERGY_REASON = 320,
    ENERGY_PATH = 4096,
};

/* The devices a figure is given for (summary.csv's _cpu and _gpu columns). */
enum energy_device {
    ENERGY_CPU = 0,
    ENERGY_GPU = 1,
    ENERGY_DEVICES = 2,
};

/* What energy_open is asked to meter. gpu_bus_ids names the GPUs by PCI bus
 * id ("0000:1B:00.0", as cudaDeviceGetPCIBusId writes it): NVML numbers
 * GPUs its own way, ignoring CUDA_VISIBLE_DEVICES, so an index would meter
 * the wrong card. n_gpu_bus_ids == 0 with want_gpu meters every GPU NVML
 * sees. */
struct energy_request {
    int want_cpu, want_gpu;
    int n_gpu_bus_ids;
    const char *const *gpu_bus_ids;
};

struct energy_meter {
    enum energy_device device;
    char name[ENERGY_NAME];   /* "package-0", "dram", "GPU 0000:1B:00.0 NVIDIA H100 80GB HBM3" */
    int counted;              /* part of its device's total: RAPL core, uncore
                                 and psys overlap package and are kept apart */
    double power_limit_w;     /* NVML's enforced power limit; NaN for RAPL */
    double power_at_open_w;   /* NVML's power reading at energy_open (before
                                 the run loads the card); NaN for RAPL */
    /* how to read it */
    char path[ENERGY_PATH];   /* RAPL: the zone's energy_uj */
    double range_j;           /* RAPL: the counter wraps after this many joules */
    void *nvml_device;        /* NVML: the device handle */
};

struct energy_meters {
    int n;
    struct energy_meter meter[ENERGY_MAX_METERS];
    char reason[ENERGY_DEVICES][ENERGY_REASON]; /* "" where the device has a figure */
    int nvml_initialised;
};

/* One sample of every meter: its counter in joules (NaN when this read
 * failed) and, for NVML, the card's power draw in watts (NaN otherwise). */
struct energy_reading {
    double t_s;               /* CLOCK_MONOTONIC */
    double joules[ENERGY_MAX_METERS];
    double power_w[ENERGY_MAX_METERS];
};

/* Finds the meters req asks for. A device without a readable meter is not
 * an error: it gets a reason and no meter. CNN_E_ARG for a malformed
 * request (a bus id list without want_gpu, more meters than fit). Call energy_close afterwards,
 * whatever it returns. */
cnn_status energy_open(struct energy_meters *m, const struct energy_request *req);
void energy_close(struct energy_meters *m);

/* Reads every meter. A meter that fails now (its file gone, NVML lost the
 * card) reads NaN and its device's reason says so. RAPL counters wrap
 * (max_energy_range_uj, about 262 kJ on common parts: minutes at full
 * load), and one difference can see one wrap only: sample at most
 * energy_max_interval_s apart and add the differences. */
void energy_sample(struct energy_meters *m, struct energy_reading *r);

/* Joules meter i used from a to b; NaN where either read failed. */
double energy_joules(const struct energy_meters *m, const struct energy_reading *a,
                     const struct energy_reading *b, int i);

/* Joules of a device's counted meters from a to b: the CPU's packages and
 * DRAM, the GPUs requested. NaN when the device has no meter or any read
 * failed. */
double energy_device_joules(const struct energy_meters *m, const struct energy_reading *a,
                            const struct energy_reading *b, enum energy_device d);

/* Mean of the NVML power samples of device d's meters over the readings
 * r[0..n), summed over its meters: the cross-check of joules / seconds.
 * NaN without NVML samples. */
double energy_device_sampled_watts(const struct energy_meters *m,
                                   const struct energy_reading *r, int n,
                                   enum energy_device d);

/* The longest wait between two samples that no RAPL counter can wrap
 * twice in, assuming each zone draws at most max_watts; INFINITY without
 * RAPL meters. */
double energy_max_interval_s(const struct energy_meters *m, double max_watts);

/* Why device d has no figure ("" when it has one). */
const char *energy_reason(const struct energy_meters *m, enum energy_device d);

const char *energy_device_name(enum energy_device d); /* "cpu", "gpu" */

/* The powercap root in use: $CNNBENCH_POWERCAP_ROOT or /sys/class/powercap. */
const char *energy_powercap_root(void);

#endif
