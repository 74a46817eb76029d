/* softmax.c — softmax cross-entropy and class prediction on the host. */
#include "softmax.h"

#include <math.h>

int cnn_top_class(const float *z)
{
    int top = 0;
    for (int c = 1; c < CNN_CLASSES; c++)
        if (z[c] > z[top])
            top = c;
    return top;
}

double cnn_softmax_xent(const float *z, int label, float *p, int *top)
{
    int t = cnn_top_class(z);
    float sum = 0.0f;
    for (int c = 0; c < CNN_CLASSES; c++) {
        p[c] = expf(z[c] - z[t]);
        sum += p[c];
    }
    for (int c = 0; c < CNN_CLASSES; c++)
        p[c] /= sum;
    *top = t;
    return (double)logf(sum) - (double)(z[label] - z[t]);
}

void cnn_softmax_xent_grad(const float *probs, const uint8_t *y, int n, int mean_over,
                           float *dlogits)
{
    float inv_n = 1.0f / (float)mean_over;
    for (int b = 0; b < n; b++)
        for (int c = 0; c < CNN_CLASSES; c++) {
            float onehot = c == y[b] ? 1.0f : 0.0f;
            dlogits[b * CNN_CLASSES + c] = (probs[b * CNN_CLASSES + c] - onehot) * inv_n;
        }
}

void cnn_predict_classes(const float *logits, int n, uint8_t *pred)
{
    for (int b = 0; b < n; b++)
        pred[b] = (uint8_t)cnn_top_class(logits + (size_t)b * CNN_CLASSES);
}
