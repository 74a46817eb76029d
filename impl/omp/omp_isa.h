/*
 * omp_isa.h — which ISA level of its hot kernels an omp model runs
 * (omp_kernels.h): baseline, avx2 or avx512 in a -Dnative=false x86-64
 * build, chosen at create from the CPU's features or forced lower with
 * CNNBENCH_ISA; native in a -Dnative=true build. A run's record names it,
 * since results differ in their last bits between levels (docs/DESIGN.md §4).
 */
#ifndef CNN_OMP_ISA_H
#define CNN_OMP_ISA_H

#include "cnn.h"

/* s must come from the omp backend's create; the string is static */
const char *ompb_isa_name(const cnn_state *s);

#endif
