/*
 * showcase.h — what the network learned, as data for pictures: the conv
 * filters of a parameter set and one test digit's feature maps after
 * conv + bias + ReLU + max-pool. The maps are computed here by a plain host
 * loop over the canonical parameters (the math of docs/DESIGN.md §1), so this needs
 * no backend slot and is independent of the backend that trained them.
 *
 * Files (tidy CSV, documented in results/README.md):
 *   filters.csv       filter,row,col,weight          F x 3 x 3
 *   feature_maps.csv  filter,row,col,activation      F x 13 x 13
 *   digit.csv         row,col,pixel                  28 x 28, pixel 0..255
 */
#ifndef BENCH_SHOWCASE_H
#define BENCH_SHOWCASE_H

#include <stdint.h>

#include "cnn.h"

/* m [F][13][13] for one image x [28][28] of pixel/255 floats. */
void showcase_pooled_maps(const struct cnn_params *p, const float *x, float *m);

/* Writes the three files into dir (which must exist), each atomically.
 * x is the digit as floats, raw its 0..255 pixels. */
cnn_status showcase_export(const char *dir, const struct cnn_params *p, const float *x,
                           const uint8_t *raw);

#endif
