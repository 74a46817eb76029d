/*
 * idx.h — reading MNIST-format (IDX) data sets: the images and labels of one
 * split, from raw or gzip-compressed files, validated strictly.
 *
 * The parser works on memory so that a fuzzer can drive it directly; the file
 * readers only add I/O and decompression. Every function returns a cnn_status
 * and, on failure, records a message naming the file and the problem
 * (impl/common/error.h). Outputs are written only on success.
 */
#ifndef CNN_IDX_H
#define CNN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "cnn.h"

/* Largest file (after decompression) cnn_idx_read_file accepts: the full
 * MNIST training images are 47 MB, so anything this big is not MNIST. */
#define CNN_IDX_MAX_FILE_BYTES ((size_t)1 << 30)

/* One split of a data set. */
struct cnn_dataset {
    uint32_t count;   /* N images */
    uint8_t *images;  /* [N][784] raw pixels 0..255, row-major */
    uint8_t *labels;  /* [N] 0..9 */
};

/* Parse an IDX image file (magic 2051: unsigned bytes, 3 dims N x 28 x 28)
 * held in buf[0..len). `name` is used in messages. On success *images is a
 * malloc'd [N][784] array and *count is N. CNN_E_DATA on malformed input. */
cnn_status cnn_idx_parse_images(const uint8_t *buf, size_t len, const char *name,
                                uint8_t **images, uint32_t *count);

/* Parse an IDX label file (magic 2049: unsigned bytes, 1 dim N), every label
 * in 0..9. On success *labels is a malloc'd [N] array and *count is N. */
cnn_status cnn_idx_parse_labels(const uint8_t *buf, size_t len, const char *name,
                                uint8_t **labels, uint32_t *count);

/* Read a whole file into a malloc'd buffer, gunzipping it if it is gzip
 * (raw files pass through unchanged). CNN_E_IO if it cannot be opened or
 * read, CNN_E_DATA for a corrupt or truncated gzip stream or a file larger
 * than CNN_IDX_MAX_FILE_BYTES. */
cnn_status cnn_idx_read_file(const char *path, uint8_t **buf, size_t *len);

/* Load an images file and a labels file into one split; their counts must
 * agree. On failure *out is left empty (safe to pass to cnn_dataset_free). */
cnn_status cnn_dataset_load_pair(const char *images_path, const char *labels_path,
                                 struct cnn_dataset *out);

/* Release a split's arrays and empty it; safe on an empty split. */
void cnn_dataset_free(struct cnn_dataset *d);

/*
 * Open the train and test splits named by spec:
 *   "mnist"   the real digits converted by datasets/fetch-mnist.sh, in
 *             <data root>/mnist, where the data root is $CNNBENCH_DATA if set
 *             and non-empty, else the source tree's datasets/ directory;
 *   "fashion" Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian
 *             package dataset-fashion-mnist);
 *   otherwise a directory holding train-images-idx3-ubyte,
 *             train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
 *             t10k-labels-idx1-ubyte, each optionally with a .gz suffix
 *             (write "./mnist" for a directory that shares a name above).
 * A missing data set's message names the command that fetches it.
 * On failure both splits are left empty.
 */
cnn_status cnn_dataset_open(const char *spec, struct cnn_dataset *train,
                            struct cnn_dataset *test);

#endif
