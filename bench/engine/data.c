/* data.c — loads a data set's two splits and converts the pixels to floats once. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hash.h"
#include "idx.h"
#include "sampler.h"

cnn_status data_load(const char *spec, struct data_set *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->spec, sizeof d->spec, "%s", spec);
    struct cnn_dataset train, test;
    CNN_TRY(cnn_dataset_open(spec, &train, &test));
    cnn_status st = cnn_pixels_to_float(train.images, train.count, &d->train_x);
    if (st == CNN_OK)
        st = cnn_pixels_to_float(test.images, test.count, &d->test_x);
    if (st == CNN_OK) {
        uint64_t h = HASH_FNV1A64_BASIS;
        h = hash_fnv1a64(h, train.images, (size_t)train.count * CNN_PIXELS);
        h = hash_fnv1a64(h, train.labels, train.count);
        h = hash_fnv1a64(h, test.images, (size_t)test.count * CNN_PIXELS);
        d->fnv1a64 = hash_fnv1a64(h, test.labels, test.count);
        d->train_n = train.count;
        d->test_n = test.count;
        /* the labels and the raw test pixels move over instead of being copied */
        d->train_y = train.labels;
        d->test_y = test.labels;
        d->test_raw = test.images;
        train.labels = test.labels = test.images = NULL;
    }
    cnn_dataset_free(&train);
    cnn_dataset_free(&test);
    if (st != CNN_OK)
        data_free(d);
    return st;
}

void data_free(struct data_set *d)
{
    free(d->train_x);
    free(d->train_y);
    free(d->test_x);
    free(d->test_y);
    free(d->test_raw);
    memset(d, 0, sizeof *d);
}
