/*
 * npy.h — .npy (NumPy format 1.0) float32 tensors in C order: reading one,
 * and the canonical parameter files conv_w.npy, conv_b.npy, fc_w.npy,
 * fc_b.npy, read and written, that make runs exchangeable with PyTorch.
 */
#ifndef CNN_NPY_H
#define CNN_NPY_H

#include <stddef.h>

#include "cnn.h"

enum { CNN_NPY_MAX_DIMS = 4 };

/* Reads a little-endian float32 C-order array whose shape must equal shape. */
cnn_status cnn_npy_read(const char *path, float *data, const size_t *shape, int ndim);

/* The four parameter files in dir (created if missing), written atomically
 * as a set: each to a temporary file, all renamed once all are written. */
cnn_status cnn_params_save(const char *dir, const struct cnn_params *p);
cnn_status cnn_params_load(const char *dir, struct cnn_params *p);

#endif
