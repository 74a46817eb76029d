/*
 * softmax.h — the loss layer on the host, one implementation shared by every
 * CPU backend (and the host side of the GPU ones' prediction), so that the
 * same logits give the same bits everywhere:
 *   p = softmax(z) with the row maximum subtracted
 *   loss = -log p[y], computed as log(sum) - (z[y] - max), exact even when
 *          p[y] underflows to zero
 *   dlogits = (p - onehot(y)) / mean_over (n, or the global batch of a job
 *             of several processes: comm.h)
 *   predicted class = the first class with the largest logit.
 */
#ifndef CNN_SOFTMAX_H
#define CNN_SOFTMAX_H

#include <stdint.h>

#include "cnn.h"

/* The first class with the largest logit of z [C]. */
int cnn_top_class(const float *z);
/* One image: z [C] -> p [C]; returns -log p[label], sets *top. */
double cnn_softmax_xent(const float *z, int label, float *p, int *top);
/* n images: probs [n][C], y [n] -> dlogits [n][C] = (p - onehot(y)) / mean_over. */
void cnn_softmax_xent_grad(const float *probs, const uint8_t *y, int n, int mean_over,
                           float *dlogits);
/* n images: logits [n][C] -> pred [n] = cnn_top_class of each row. */
void cnn_predict_classes(const float *logits, int n, uint8_t *pred);

#endif
