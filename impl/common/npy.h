/*
 * npy.h — .npy (NumPy format 1.0) reading and writing of float32 tensors in
 * C order, and the canonical parameter files conv_w.npy, conv_b.npy,
 * fc_w.npy, fc_b.npy that make runs exchangeable with PyTorch.
 */
#ifndef CNN_NPY_H
#define CNN_NPY_H

#include <stddef.h>

#include "cnn.h"

enum { CNN_NPY_MAX_DIMS = 4 };

/* Writes data with the given shape as little-endian float32, atomically
 * (temporary file, then rename). */
cnn_status cnn_npy_write(const char *path, const float *data, const size_t *shape, int ndim);
/* Reads a little-endian float32 C-order array whose shape must equal shape. */
cnn_status cnn_npy_read(const char *path, float *data, const size_t *shape, int ndim);

/* The four parameter files in dir (created if missing). */
cnn_status cnn_params_save(const char *dir, const struct cnn_params *p);
cnn_status cnn_params_load(const char *dir, struct cnn_params *p);

#endif
