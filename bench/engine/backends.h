/*
 * backends.h — the harness's view of the registry (impl/cnn.h): start-up
 * validation of every built backend, lookup by name with a helpful message,
 * probing with the reason a backend cannot run here, and the checks that
 * --threads and --variant fit the backend.
 */
#ifndef BENCH_BACKENDS_H
#define BENCH_BACKENDS_H

#include "cnn.h"

/* cnn_backend_validate on every backend; the first failure wins. */
cnn_status backends_validate_all(void);
/* CNN_E_ARG naming the built backends when name is unknown. */
cnn_status backends_find(const char *name, const struct cnn_backend **be);
/* probe(), with the message prefixed by the backend's name ("cuda: no CUDA device"). */
cnn_status backends_probe(const struct cnn_backend *be);
/* "seq, omp, cuda" into buf. */
void backends_names(char *buf, size_t len);
/* Prints every built backend, its capabilities, variants and probe result. */
void backends_print(void);
/* The name of this build's backend with capability cap (CNN_CAP_*), for
 * matching the impl column of a run's CSV: which rows are the reference's
 * (speedup_vs_seq) or the thread baseline's (speedup_vs_omp_t1). A run read
 * later may come from another build; where this build has no backend with
 * the capability, this is NULL and no row matches: the speedup stays empty
 * rather than guessed from a name. */
const char *backends_name_with_cap(unsigned cap);

#endif
