/*
 * idx.c — the IDX reader: strict parsing from memory, whole-file reading
 * (regular files only; gzip inflated member by member, nothing after the
 * last member allowed), and the named data sets "mnist" and "fashion".
 *
 * The parser trusts nothing in the header: sizes are multiplied in 64 bits
 * with overflow checks, and the buffer length must equal header + payload
 * exactly before anything is allocated, so arbitrary bytes can never cause an
 * out-of-bounds read or a huge allocation. Each rejection has its own message.
 */

#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "fileio.h"

/* Meson passes the source tree's datasets/ directory; a build outside meson
 * (a fuzzer, say) falls back to one relative to the working directory. */
#ifndef CNN_DATA_DIR
#define CNN_DATA_DIR "datasets"
#endif

enum {
    IDX_TYPE_UBYTE = 0x08,  /* the only element type MNIST uses */
    IDX_IMAGES_NDIM = 3,    /* magic 0x00000803 = 2051 */
    IDX_LABELS_NDIM = 1,    /* magic 0x00000801 = 2049 */
    IDX_MAX_NDIM = 3,
    IDX_READ_CHUNK = 1 << 24, /* per read() or inflate() call: zlib counts in uInt */
    IDX_PATH_MAX = 4096,
};

#define CNN_FASHION_DIR "/usr/share/datasets/fashion-mnist"

struct idx_header {
    uint32_t dims[IDX_MAX_NDIM];
    uint64_t header_bytes;  /* 4 + 4 * ndim */
    uint64_t payload_bytes; /* product of dims: one byte per element */
};

static uint32_t idx_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the magic number and dimensions shared by every IDX file and
 * computes the payload size; `kind` is "images" or "labels". */
static cnn_status idx_parse_header(const uint8_t *buf, size_t len, const char *name,
                                   const char *kind, unsigned ndim, struct idx_header *h)
{
    if (len == 0)
        return cnn_fail(CNN_E_DATA, "%s: file is empty, expected IDX %s", name, kind);
    if (len < 4)
        return cnn_fail(CNN_E_DATA, "%s: truncated: %zu bytes, too short for the 4-byte IDX magic number",
                        name, len);
    if (buf[0] != 0 || buf[1] != 0)
        return cnn_fail(CNN_E_DATA,
                        "%s: bad magic number: bytes 0-1 are 0x%02x 0x%02x, expected 0x00 0x00 (%s)",
                        name, buf[0], buf[1],
                        buf[0] == 0x1f && buf[1] == 0x8b ? "this is gzip data, not IDX" : "not an IDX file");
    if (buf[2] != IDX_TYPE_UBYTE)
        return cnn_fail(CNN_E_DATA, "%s: bad element type 0x%02x in the magic number, expected 0x08 (unsigned byte)",
                        name, buf[2]);
    if (buf[3] != ndim) {
        /* the usual cause is images and labels passed the wrong way round */
        const char *hint = buf[3] == IDX_LABELS_NDIM ? " (is this a labels file?)"
                         : buf[3] == IDX_IMAGES_NDIM ? " (is this an images file?)" : "";
        return cnn_fail(CNN_E_DATA, "%s: wrong number of dimensions %u, expected %u for IDX %s (magic %u)%s",
                        name, buf[3], ndim, kind, 0x800u + ndim, hint);
    }

    h->header_bytes = 4 + 4 * (uint64_t)ndim;
    if ((uint64_t)len < h->header_bytes)
        return cnn_fail(CNN_E_DATA, "%s: truncated header: %zu bytes, IDX %s needs %" PRIu64,
                        name, len, kind, h->header_bytes);

    uint64_t product = 1;
    int overflow = 0;
    for (unsigned i = 0; i < ndim; i++) {
        h->dims[i] = idx_be32(buf + 4 + 4 * i);
        if (h->dims[i] != 0 && product > UINT64_MAX / h->dims[i])
            overflow = 1;
        else
            product *= h->dims[i];
    }
    if (overflow || product > UINT64_MAX - h->header_bytes) {
        char shape[3 * 16];
        size_t used = 0;
        for (unsigned i = 0; i < ndim; i++)
            used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%" PRIu32, i ? " x " : "", h->dims[i]);
        return cnn_fail(CNN_E_DATA, "%s: size overflow: dimensions %s do not fit in 64 bits", name, shape);
    }
    h->payload_bytes = product;
    return CNN_OK;
}

/* The buffer must hold the header and payload exactly: a shorter one was
 * truncated, a longer one carries bytes the header does not account for. */
static cnn_status idx_check_length(size_t len, const char *name, const char *kind,
                                   const struct idx_header *h)
{
    uint64_t want = h->header_bytes + h->payload_bytes;
    if ((uint64_t)len < want)
        return cnn_fail(CNN_E_DATA,
                        "%s: truncated: the header declares %" PRIu32 " %s (%" PRIu64
                        " bytes with the header) but the file has %zu bytes",
                        name, h->dims[0], kind, want, len);
    if ((uint64_t)len > want)
        return cnn_fail(CNN_E_DATA,
                        "%s: %" PRIu64 " trailing bytes after the %" PRIu32 " %s the header declares (expected %"
                        PRIu64 " bytes, the file has %zu)",
                        name, (uint64_t)len - want, h->dims[0], kind, want, len);
    return CNN_OK;
}

/* Copies the payload out, so the caller may free the file buffer. */
static cnn_status idx_copy_payload(const uint8_t *buf, const char *name, const char *kind,
                                   const struct idx_header *h, uint8_t **out)
{
    uint8_t *data = malloc((size_t)h->payload_bytes);
    if (!data)
        return cnn_fail(CNN_E_NOMEM, "%s: cannot allocate %" PRIu64 " bytes for %s",
                        name, h->payload_bytes, kind);
    memcpy(data, buf + h->header_bytes, (size_t)h->payload_bytes);
    *out = data;
    return CNN_OK;
}

cnn_status cnn_idx_parse_images(const uint8_t *buf, size_t len, const char *name,
                                uint8_t **images, uint32_t *count)
{
    struct idx_header h = {0};
    CNN_TRY(idx_parse_header(buf, len, name, "images", IDX_IMAGES_NDIM, &h));
    if (h.dims[0] == 0)
        return cnn_fail(CNN_E_DATA, "%s: holds no images (the header's count is 0)", name);
    if (h.dims[1] != CNN_IMG || h.dims[2] != CNN_IMG)
        return cnn_fail(CNN_E_DATA, "%s: images are %" PRIu32 "x%" PRIu32 " (rows x cols), expected %dx%d",
                        name, h.dims[1], h.dims[2], CNN_IMG, CNN_IMG);
    CNN_TRY(idx_check_length(len, name, "images", &h));
    CNN_TRY(idx_copy_payload(buf, name, "images", &h, images));
    *count = h.dims[0];
    return CNN_OK;
}

cnn_status cnn_idx_parse_labels(const uint8_t *buf, size_t len, const char *name,
                                uint8_t **labels, uint32_t *count)
{
    struct idx_header h = {0};
    CNN_TRY(idx_parse_header(buf, len, name, "labels", IDX_LABELS_NDIM, &h));
    if (h.dims[0] == 0)
        return cnn_fail(CNN_E_DATA, "%s: holds no labels (the header's count is 0)", name);
    CNN_TRY(idx_check_length(len, name, "labels", &h));
    const uint8_t *payload = buf + h.header_bytes;
    for (uint32_t i = 0; i < h.dims[0]; i++) {
        if (payload[i] >= CNN_CLASSES)
            return cnn_fail(CNN_E_DATA, "%s: label %u at index %" PRIu32 " is out of range 0..%d",
                            name, payload[i], i, CNN_CLASSES - 1);
    }
    CNN_TRY(idx_copy_payload(buf, name, "labels", &h, labels));
    *count = h.dims[0];
    return CNN_OK;
}

/* Reads the whole of an open regular file, refusing one above the limit:
 * the buffer stops one byte past it, so a file of exactly the limit fits. */
static cnn_status idx_read_fd(int fd, const char *path, size_t size_hint, uint8_t **data,
                              size_t *used)
{
    size_t cap = size_hint + 1 > CNN_IDX_MAX_FILE_BYTES + 1 ? CNN_IDX_MAX_FILE_BYTES + 1
                                                            : size_hint + 1;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return cnn_fail(CNN_E_NOMEM, "%s: cannot allocate %zu bytes to read it", path, cap);
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > CNN_IDX_MAX_FILE_BYTES)
                break;
            size_t grown = cap * 2 > CNN_IDX_MAX_FILE_BYTES + 1 ? CNN_IDX_MAX_FILE_BYTES + 1 : cap * 2;
            uint8_t *bigger = realloc(buf, grown);
            if (!bigger) {
                free(buf);
                return cnn_fail(CNN_E_NOMEM, "%s: cannot grow the read buffer to %zu bytes", path, grown);
            }
            buf = bigger;
            cap = grown;
        }
        size_t chunk = cap - n < IDX_READ_CHUNK ? cap - n : IDX_READ_CHUNK;
        ssize_t got = read(fd, buf + n, chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            return cnn_fail(CNN_E_IO, "%s: read error: %s", path, strerror(e));
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > CNN_IDX_MAX_FILE_BYTES) {
        free(buf);
        return cnn_fail(CNN_E_DATA, "%s: larger than the %zu MiB limit for an IDX file", path,
                        CNN_IDX_MAX_FILE_BYTES >> 20);
    }
    *data = buf;
    *used = n;
    return CNN_OK;
}

/* Grows *buf (capacity *cap) for more inflated output, up to one byte past
 * the limit, so that exceeding it is seen. */
static cnn_status idx_grow(uint8_t **buf, size_t *cap, const char *path)
{
    if (*cap > CNN_IDX_MAX_FILE_BYTES)
        return cnn_fail(CNN_E_DATA, "%s: larger than the %zu MiB limit for an IDX file (after "
                        "decompression)", path, CNN_IDX_MAX_FILE_BYTES >> 20);
    size_t grown = *cap * 2 > CNN_IDX_MAX_FILE_BYTES + 1 ? CNN_IDX_MAX_FILE_BYTES + 1 : *cap * 2;
    uint8_t *bigger = realloc(*buf, grown);
    if (!bigger)
        return cnn_fail(CNN_E_NOMEM, "%s: cannot grow the decompression buffer to %zu bytes",
                        path, grown);
    *buf = bigger;
    *cap = grown;
    return CNN_OK;
}

/*
 * Inflates in[0..in_len), one or more gzip members back to back (what gzip
 * writes for concatenated files). zlib's gzread would skip anything after
 * the last member that is not another member; here those bytes are an
 * error, as trailing bytes are in a raw IDX file. A member cut short, or
 * input that stops inside the stream, is a truncation.
 */
static cnn_status idx_gunzip(const uint8_t *in, size_t in_len, const char *path, uint8_t **out,
                             size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* 16 + MAX_WBITS: gzip wrapper only (zlib manual, inflateInit2) */
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return cnn_fail(CNN_E_NOMEM, "%s: cannot allocate zlib state", path);
    size_t cap = (size_t)1 << 20, member = 1;
    uint8_t *buf = malloc(cap);
    cnn_status st = buf ? CNN_OK : cnn_fail(CNN_E_NOMEM, "%s: cannot allocate a decompression "
                                             "buffer", path);
    zs.next_in = (Bytef *)in; /* zlib's API is not const-qualified; it only reads */
    zs.avail_in = (uInt)in_len;
    size_t n = 0;
    while (st == CNN_OK) {
        if (n == cap)
            st = idx_grow(&buf, &cap, path);
        if (st != CNN_OK)
            break;
        size_t room = cap - n < IDX_READ_CHUNK ? cap - n : IDX_READ_CHUNK;
        zs.next_out = buf + n;
        zs.avail_out = (uInt)room;
        int rc = inflate(&zs, Z_NO_FLUSH);
        n += room - zs.avail_out;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
                member++;
                if (inflateReset(&zs) != Z_OK)
                    st = cnn_fail(CNN_E_DATA, "%s: corrupt gzip stream at member %zu", path, member);
                continue;
            }
            st = cnn_fail(CNN_E_DATA, "%s: %u bytes of trailing data after the end of the gzip "
                          "stream (not another gzip member)", path, zs.avail_in);
        } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
            /* output space left means the input ran out inside the stream */
            if (zs.avail_out > 0)
                st = cnn_fail(CNN_E_DATA, "%s: truncated gzip stream: the file ends in the middle "
                              "of compressed data", path);
        } else if (rc == Z_MEM_ERROR) {
            st = cnn_fail(CNN_E_NOMEM, "%s: out of memory while decompressing", path);
        } else {
            st = cnn_fail(CNN_E_DATA, "%s: corrupt gzip stream: %s", path,
                          zs.msg ? zs.msg : "invalid data");
        }
    }
    inflateEnd(&zs);
    if (st == CNN_OK && n > CNN_IDX_MAX_FILE_BYTES)
        st = cnn_fail(CNN_E_DATA, "%s: larger than the %zu MiB limit for an IDX file (after "
                      "decompression)", path, CNN_IDX_MAX_FILE_BYTES >> 20);
    if (st != CNN_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_len = n;
    return CNN_OK;
}

cnn_status cnn_idx_read_file(const char *path, uint8_t **buf, size_t *len)
{
    int fd;
    CNN_TRY(cnn_open_regular(path, "an IDX file", &fd));
    struct stat st;
    size_t hint = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
    uint8_t *raw = NULL;
    size_t n = 0;
    cnn_status s = idx_read_fd(fd, path, hint, &raw, &n);
    close(fd);
    if (s != CNN_OK)
        return s;
    if (n < 2 || raw[0] != 0x1f || raw[1] != 0x8b) {
        *buf = raw;
        *len = n;
        return CNN_OK;
    }
    uint8_t *data = NULL;
    size_t used = 0;
    s = idx_gunzip(raw, n, path, &data, &used);
    free(raw);
    if (s != CNN_OK)
        return s;
    *buf = data;
    *len = used;
    return CNN_OK;
}

cnn_status cnn_dataset_load_pair(const char *images_path, const char *labels_path,
                                 struct cnn_dataset *out)
{
    *out = (struct cnn_dataset){0};
    uint8_t *buf = NULL;
    size_t len = 0;
    uint8_t *images = NULL;
    uint8_t *labels = NULL;
    uint32_t image_count = 0;
    uint32_t label_count = 0;

    CNN_TRY(cnn_idx_read_file(images_path, &buf, &len));
    cnn_status st = cnn_idx_parse_images(buf, len, images_path, &images, &image_count);
    free(buf);
    if (st != CNN_OK)
        return st;

    st = cnn_idx_read_file(labels_path, &buf, &len);
    if (st == CNN_OK) {
        st = cnn_idx_parse_labels(buf, len, labels_path, &labels, &label_count);
        free(buf);
    }
    if (st == CNN_OK && image_count != label_count) {
        free(labels);
        st = cnn_fail(CNN_E_DATA, "image and label counts disagree: %s has %" PRIu32 " images but %s has %"
                      PRIu32 " labels", images_path, image_count, labels_path, label_count);
    }
    if (st != CNN_OK) {
        free(images);
        return st;
    }
    out->count = image_count;
    out->images = images;
    out->labels = labels;
    return CNN_OK;
}

void cnn_dataset_free(struct cnn_dataset *d)
{
    free(d->images);
    free(d->labels);
    *d = (struct cnn_dataset){0};
}

/* Finds <dir>/<base> or else <dir>/<base>.gz. Anything but "does not exist"
 * (a permission problem, say) picks that name, so opening it reports the
 * real cause. `hint` tells how to get a missing data set. */
static cnn_status dataset_find_file(const char *dir, const char *base, const char *hint,
                                    char path[IDX_PATH_MAX])
{
    struct stat st;
    int n = snprintf(path, IDX_PATH_MAX, "%s/%s.gz", dir, base);
    if (n < 0 || n >= IDX_PATH_MAX)
        return cnn_fail(CNN_E_ARG, "%s: data set path too long", dir);
    size_t raw_len = (size_t)n - 3;

    path[raw_len] = '\0';
    if (stat(path, &st) == 0 || errno != ENOENT)
        return CNN_OK;
    path[raw_len] = '.';
    if (stat(path, &st) == 0 || errno != ENOENT)
        return CNN_OK;
    path[raw_len] = '\0';
    return cnn_fail(CNN_E_IO, "%s: not found (nor %s.gz)%s", path, path, hint);
}

/* Loads <dir>/<prefix>-images-idx3-ubyte[.gz] with its labels file. */
static cnn_status dataset_load_split(const char *dir, const char *prefix, const char *hint,
                                     struct cnn_dataset *out)
{
    char images_base[64];
    char labels_base[64];
    char images_path[IDX_PATH_MAX];
    char labels_path[IDX_PATH_MAX];
    snprintf(images_base, sizeof images_base, "%s-images-idx3-ubyte", prefix);
    snprintf(labels_base, sizeof labels_base, "%s-labels-idx1-ubyte", prefix);
    CNN_TRY(dataset_find_file(dir, images_base, hint, images_path));
    CNN_TRY(dataset_find_file(dir, labels_base, hint, labels_path));
    return cnn_dataset_load_pair(images_path, labels_path, out);
}

cnn_status cnn_dataset_open(const char *spec, struct cnn_dataset *train,
                            struct cnn_dataset *test)
{
    *train = (struct cnn_dataset){0};
    *test = (struct cnn_dataset){0};
    if (!spec || !*spec)
        return cnn_fail(CNN_E_ARG, "no data set given (mnist, fashion or a directory)");

    char dir[IDX_PATH_MAX];
    const char *hint = "";
    if (strcmp(spec, "mnist") == 0) {
        const char *root = getenv("CNNBENCH_DATA");
        if (!root || !*root)
            root = CNN_DATA_DIR;
        int n = snprintf(dir, sizeof dir, "%s/mnist", root);
        if (n < 0 || n >= (int)sizeof dir)
            return cnn_fail(CNN_E_ARG, "%s: data root path too long", root);
        hint = "; fetch the MNIST digits with datasets/fetch-mnist.sh (see datasets/README.md)";
    } else if (strcmp(spec, "fashion") == 0) {
        snprintf(dir, sizeof dir, "%s", CNN_FASHION_DIR);
        hint = "; install Fashion-MNIST with: apt-get install dataset-fashion-mnist";
    } else {
        struct stat st;
        if (stat(spec, &st) != 0) {
            int e = errno;
            return cnn_fail(e == ENOENT ? CNN_E_ARG : CNN_E_IO,
                            "%s: not a data set name (mnist, fashion) nor a usable directory: %s",
                            spec, strerror(e));
        }
        if (!S_ISDIR(st.st_mode))
            return cnn_fail(CNN_E_ARG, "%s: not a data set name (mnist, fashion) nor a directory", spec);
        int n = snprintf(dir, sizeof dir, "%s", spec);
        if (n < 0 || n >= (int)sizeof dir)
            return cnn_fail(CNN_E_ARG, "%s: data set path too long", spec);
    }

    CNN_TRY(dataset_load_split(dir, "train", hint, train));
    cnn_status st = dataset_load_split(dir, "t10k", hint, test);
    if (st != CNN_OK)
        cnn_dataset_free(train);
    return st;
}
