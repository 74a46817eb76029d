/*
 * test_idx.c — unit test of the IDX reader (datasets/idx.c).
 *
 * Each class of bad input docs/DESIGN.md §5 lists is written to a file in a fresh
 * temporary directory and loaded; the call must fail with the right status,
 * leave its output empty, and record a message that names the file and the
 * problem. Good files must round-trip, raw and gzip-compressed, and data sets
 * must resolve by directory and by name. Exits non-zero on any failure.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "idx.h"

enum { TEST_PATH_MAX = 4096 };

/* shorter than TEST_PATH_MAX, so every <test_dir>/<name> fits */
static char test_dir[1024];

/* Fails the current case with a message and returns 0 from it. */
#define TEST_CHECK(cond, ...)                                  \
    do {                                                       \
        if (!(cond)) {                                         \
            fprintf(stderr, "  line %d: ", __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                      \
            fprintf(stderr, "\n");                             \
            return 0;                                          \
        }                                                      \
    } while (0)

/* ---- crafting files ---- */

static void test_path(char *out, const char *name)
{
    snprintf(out, TEST_PATH_MAX, "%s/%s", test_dir, name);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An images file of n rows x cols images with a recognisable pixel pattern;
 * the payload is sized for the given dimensions when they are small. */
static uint8_t *make_images(uint32_t n, uint32_t rows, uint32_t cols, size_t *len)
{
    size_t payload = (size_t)n * rows * cols;
    uint8_t *buf = malloc(16 + payload);
    *len = 0;
    if (!buf)
        return NULL;
    put_be32(buf, 0x00000803);
    put_be32(buf + 4, n);
    put_be32(buf + 8, rows);
    put_be32(buf + 12, cols);
    for (size_t i = 0; i < payload; i++)
        buf[16 + i] = (uint8_t)(i * 7 + i / 784);
    *len = 16 + payload;
    return buf;
}

/* A labels file of n labels cycling through 0..9. */
static uint8_t *make_labels(uint32_t n, size_t *len)
{
    uint8_t *buf = malloc(8 + (size_t)n);
    *len = 0;
    if (!buf)
        return NULL;
    put_be32(buf, 0x00000801);
    put_be32(buf + 4, n);
    for (uint32_t i = 0; i < n; i++)
        buf[8 + i] = (uint8_t)(i % 10);
    *len = 8 + (size_t)n;
    return buf;
}

static int write_raw(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static int write_gz(const char *path, const uint8_t *buf, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    if (!gz)
        return 0;
    int ok = gzwrite(gz, buf, (unsigned)len) == (int)len;
    return gzclose(gz) == Z_OK && ok;
}

/* Writes `buf` to <test_dir>/<name> (raw or gzip) and frees it. */
static int craft(const char *name, uint8_t *buf, size_t len, int gzip, char *path)
{
    test_path(path, name);
    int ok = buf && (gzip ? write_gz(path, buf, len) : write_raw(path, buf, len));
    free(buf);
    return ok;
}

static int craft_good_images(const char *name, uint32_t n, char *path)
{
    size_t len;
    uint8_t *buf = make_images(n, 28, 28, &len);
    return craft(name, buf, len, 0, path);
}

static int craft_good_labels(const char *name, uint32_t n, char *path)
{
    size_t len;
    uint8_t *buf = make_labels(n, &len);
    return craft(name, buf, len, 0, path);
}

/* Loads the pair and checks it fails with `want`, leaves the split empty,
 * and records a message containing `file` and `problem`. */
static int expect_failure(const char *images, const char *labels, cnn_status want,
                          const char *file, const char *problem)
{
    struct cnn_dataset d = {.count = 7};
    cnn_clear_error();
    cnn_status st = cnn_dataset_load_pair(images, labels, &d);
    const char *msg = cnn_last_error();
    TEST_CHECK(st == want, "status %s, expected %s (message: %s)", cnn_status_name(st),
               cnn_status_name(want), msg);
    TEST_CHECK(d.count == 0 && !d.images && !d.labels, "output not left empty on failure");
    TEST_CHECK(strstr(msg, file), "message does not name %s: %s", file, msg);
    TEST_CHECK(strstr(msg, problem), "message does not say \"%s\": %s", problem, msg);
    return 1;
}

/* An images file whose header byte `at` is replaced by `value`. */
static int craft_patched_images(const char *name, size_t at, uint8_t value, char *path)
{
    size_t len;
    uint8_t *buf = make_images(3, 28, 28, &len);
    if (buf)
        buf[at] = value;
    return craft(name, buf, len, 0, path);
}

/* ---- the cases ---- */

static int check_split(const struct cnn_dataset *d, uint32_t n)
{
    size_t ilen, llen;
    uint8_t *images = make_images(n, 28, 28, &ilen);
    uint8_t *labels = make_labels(n, &llen);
    int ok = images && labels && d->count == n && memcmp(d->images, images + 16, (size_t)n * 784) == 0 &&
             memcmp(d->labels, labels + 8, n) == 0;
    free(images);
    free(labels);
    return ok;
}

static int case_round_trip_raw(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft_good_images("rt-images", 25, ip) && craft_good_labels("rt-labels", 25, lp), "cannot craft");
    struct cnn_dataset d;
    cnn_status st = cnn_dataset_load_pair(ip, lp, &d);
    TEST_CHECK(st == CNN_OK, "load failed: %s", cnn_last_error());
    int ok = check_split(&d, 25);
    cnn_dataset_free(&d);
    TEST_CHECK(ok, "pixels or labels differ after the round trip");
    TEST_CHECK(d.count == 0 && !d.images && !d.labels, "cnn_dataset_free did not empty the split");
    return 1;
}

static int case_round_trip_gzip(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t ilen, llen;
    uint8_t *images = make_images(25, 28, 28, &ilen);
    uint8_t *labels = make_labels(25, &llen);
    TEST_CHECK(craft("rtgz-images.gz", images, ilen, 1, ip) && craft("rtgz-labels.gz", labels, llen, 1, lp),
               "cannot craft");
    struct cnn_dataset d;
    cnn_status st = cnn_dataset_load_pair(ip, lp, &d);
    TEST_CHECK(st == CNN_OK, "load failed: %s", cnn_last_error());
    int ok = check_split(&d, 25);
    cnn_dataset_free(&d);
    TEST_CHECK(ok, "pixels or labels differ after the gzip round trip");
    return 1;
}

static int case_bad_magic(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft_patched_images("magic-images", 1, 0x34, ip) && craft_good_labels("magic-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "bad magic number: bytes 0-1 are 0x00 0x34");
}

static int case_bad_type(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft_patched_images("type-images", 2, 0x0d, ip) && craft_good_labels("type-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "bad element type 0x0d");
}

static int case_images_ndim(void)
{
    /* a labels file passed as the images file */
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft_good_labels("ndim-swapped", 3, ip) && craft_good_labels("ndim-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "wrong number of dimensions 1, expected 3");
}

static int case_labels_ndim(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *labels = make_labels(3, &len);
    if (labels)
        labels[3] = 2;
    TEST_CHECK(craft_good_images("lndim-images", 3, ip) && craft("lndim-labels", labels, len, 0, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, lp, "wrong number of dimensions 2, expected 1");
}

static int case_rows_not_28(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *images = make_images(3, 32, 28, &len);
    TEST_CHECK(craft("rows-images", images, len, 0, ip) && craft_good_labels("rows-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "images are 32x28");
}

static int case_cols_not_28(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *images = make_images(3, 28, 27, &len);
    TEST_CHECK(craft("cols-images", images, len, 0, ip) && craft_good_labels("cols-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "images are 28x27");
}

static int case_zero_images(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft_good_images("zero-images", 0, ip) && craft_good_labels("zero-i-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "holds no images");
}

static int case_zero_labels(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft_good_images("zero-l-images", 3, ip) && craft_good_labels("zero-labels", 0, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, lp, "holds no labels");
}

static int case_truncated_images(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *images = make_images(3, 28, 28, &len);
    TEST_CHECK(craft("trunc-images", images, len - 100, 0, ip) && craft_good_labels("trunc-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "truncated: the header declares 3 images");
}

static int case_trailing_images(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *images = make_images(3, 28, 28, &len);
    uint8_t *longer = images ? realloc(images, len + 5) : NULL;
    if (!longer)
        free(images);
    else
        memset(longer + len, 0, 5);
    TEST_CHECK(craft("trail-images", longer, len + 5, 0, ip) && craft_good_labels("trail-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "5 trailing bytes");
}

static int case_truncated_labels(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *labels = make_labels(3, &len);
    TEST_CHECK(craft_good_images("ltrunc-images", 3, ip) && craft("ltrunc-labels", labels, len - 1, 0, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, lp, "truncated: the header declares 3 labels");
}

static int case_truncated_header(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *images = make_images(3, 28, 28, &len);
    TEST_CHECK(craft("hdr-images", images, 10, 0, ip) && craft_good_labels("hdr-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "truncated header: 10 bytes");
}

static int case_empty_file(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft("empty-images", malloc(1), 0, 0, ip) && craft_good_labels("empty-labels", 3, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "file is empty");
}

static int case_size_overflow(void)
{
    /* 2^32-1 cubed needs 96 bits; the 16-byte file must not be allocated for */
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    uint8_t *images = malloc(16);
    if (images) {
        put_be32(images, 0x00000803);
        put_be32(images + 4, UINT32_MAX);
        put_be32(images + 8, UINT32_MAX);
        put_be32(images + 12, UINT32_MAX);
    }
    TEST_CHECK(craft("ovf-images", images, 16, 0, ip) && craft_good_labels("ovf-labels", 3, lp), "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "size overflow");
}

static int case_label_out_of_range(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len;
    uint8_t *labels = make_labels(5, &len);
    if (labels)
        labels[8 + 3] = 10;
    TEST_CHECK(craft_good_images("range-images", 5, ip) && craft("range-labels", labels, len, 0, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, lp, "label 10 at index 3 is out of range 0..9");
}

static int case_count_mismatch(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    TEST_CHECK(craft_good_images("count-images", 5, ip) && craft_good_labels("count-labels", 4, lp),
               "cannot craft");
    if (!expect_failure(ip, lp, CNN_E_DATA, ip, "has 5 images"))
        return 0;
    return expect_failure(ip, lp, CNN_E_DATA, lp, "has 4 labels");
}

/* Gzips a good images file and returns the compressed bytes. */
static uint8_t *gzip_images(size_t *gz_len)
{
    char path[TEST_PATH_MAX];
    size_t len;
    uint8_t *images = make_images(20, 28, 28, &len);
    if (!craft("gz-source.gz", images, len, 1, path))
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    FILE *f = fopen(path, "rb");
    if (!buf || !f) {
        free(buf);
        if (f)
            fclose(f);
        return NULL;
    }
    *gz_len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static int case_corrupt_gzip(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len = 0;
    uint8_t *gz = gzip_images(&len);
    TEST_CHECK(gz && len > 40, "cannot gzip");
    /* past the 10-byte gzip header, inside the deflate data */
    for (size_t i = len / 2; i < len / 2 + 8; i++)
        gz[i] ^= 0xa5;
    TEST_CHECK(craft("corrupt-images.gz", gz, len, 0, ip) && craft_good_labels("corrupt-labels", 20, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "corrupt gzip stream");
}

static int case_truncated_gzip(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len = 0;
    uint8_t *gz = gzip_images(&len);
    TEST_CHECK(gz && len > 40, "cannot gzip");
    TEST_CHECK(craft("gztrunc-images.gz", gz, len / 2, 0, ip) && craft_good_labels("gztrunc-labels", 20, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "truncated gzip stream");
}

/* zlib's gzread skips bytes after the last member that are not another
 * member; the reader must not. */
static int case_gzip_trailing_junk(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    size_t len = 0;
    uint8_t *gz = gzip_images(&len);
    TEST_CHECK(gz && len > 40, "cannot gzip");
    uint8_t *junk = realloc(gz, len + 4);
    TEST_CHECK(junk, "cannot grow the buffer");
    memcpy(junk + len, "junk", 4);
    TEST_CHECK(craft("gzjunk-images.gz", junk, len + 4, 0, ip) && craft_good_labels("gzjunk-labels", 20, lp),
               "cannot craft");
    return expect_failure(ip, lp, CNN_E_DATA, ip, "4 bytes of trailing data after the end of the gzip stream");
}

/* A FIFO would block open() until a writer came; it must fail at once. */
static int case_fifo(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    test_path(ip, "fifo-images");
    TEST_CHECK(mkfifo(ip, 0600) == 0, "cannot make a FIFO");
    TEST_CHECK(craft_good_labels("fifo-labels", 3, lp), "cannot craft");
    return expect_failure(ip, lp, CNN_E_IO, ip, "is a FIFO");
}

static int case_missing_file(void)
{
    char ip[TEST_PATH_MAX], lp[TEST_PATH_MAX];
    test_path(ip, "no-such-images");
    TEST_CHECK(craft_good_labels("missing-labels", 3, lp), "cannot craft");
    return expect_failure(ip, lp, CNN_E_IO, ip, "cannot open");
}

static int case_parse_memory(void)
{
    /* the fuzzer's entry points, on inputs too short for a header */
    uint8_t *out = NULL;
    uint32_t count = 0;
    static const uint8_t seven[7] = {0, 0, 8, 1, 0, 0, 0};
    cnn_status st = cnn_idx_parse_images(NULL, 0, "mem-empty", &out, &count);
    TEST_CHECK(st == CNN_E_DATA && !out && strstr(cnn_last_error(), "mem-empty: file is empty"),
               "empty buffer: %s", cnn_last_error());
    st = cnn_idx_parse_labels(seven, sizeof seven, "mem-seven", &out, &count);
    TEST_CHECK(st == CNN_E_DATA && !out && strstr(cnn_last_error(), "mem-seven: truncated header: 7 bytes"),
               "7-byte labels: %s", cnn_last_error());
    return 1;
}

/* Writes the four standard files into <test_dir>/<sub>, the test split
 * gzipped, leaving out the file named `skip` (or none). */
static int craft_dataset_dir(const char *sub, const char *skip)
{
    static const char *const names[4] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    };
    char dir[TEST_PATH_MAX];
    test_path(dir, sub);
    if (mkdir(dir, 0700) != 0)
        return 0;
    for (int i = 0; i < 4; i++) {
        if (skip && strcmp(names[i], skip) == 0)
            continue;
        char name[128], path[TEST_PATH_MAX];
        uint32_t n = i < 2 ? 30 : 12;
        size_t len;
        uint8_t *buf = i % 2 == 0 ? make_images(n, 28, 28, &len) : make_labels(n, &len);
        snprintf(name, sizeof name, "%s/%s", sub, names[i]);
        if (!craft(name, buf, len, i >= 2, path))
            return 0;
    }
    return 1;
}

static int case_open_directory(void)
{
    char dir[TEST_PATH_MAX];
    TEST_CHECK(craft_dataset_dir("set", NULL), "cannot craft");
    test_path(dir, "set");
    struct cnn_dataset train, test;
    cnn_status st = cnn_dataset_open(dir, &train, &test);
    TEST_CHECK(st == CNN_OK, "open failed: %s", cnn_last_error());
    int ok = check_split(&train, 30) && check_split(&test, 12);
    cnn_dataset_free(&train);
    cnn_dataset_free(&test);
    TEST_CHECK(ok, "splits differ from the files written");
    return 1;
}

static int case_open_missing_file(void)
{
    char dir[TEST_PATH_MAX];
    TEST_CHECK(craft_dataset_dir("partial", "t10k-labels-idx1-ubyte.gz"), "cannot craft");
    test_path(dir, "partial");
    struct cnn_dataset train = {.count = 7}, test = {.count = 7};
    cnn_status st = cnn_dataset_open(dir, &train, &test);
    const char *msg = cnn_last_error();
    TEST_CHECK(st == CNN_E_IO, "status %s: %s", cnn_status_name(st), msg);
    TEST_CHECK(train.count == 0 && !train.images && test.count == 0 && !test.images,
               "splits not left empty on failure");
    TEST_CHECK(strstr(msg, "partial/t10k-labels-idx1-ubyte: not found"), "message: %s", msg);
    return 1;
}

static int case_open_mnist_hint(void)
{
    /* an empty data root: the message must say how to fetch the digits */
    char root[TEST_PATH_MAX];
    test_path(root, "empty-root");
    TEST_CHECK(mkdir(root, 0700) == 0 && setenv("CNNBENCH_DATA", root, 1) == 0, "cannot craft");
    struct cnn_dataset train, test;
    cnn_status st = cnn_dataset_open("mnist", &train, &test);
    const char *msg = cnn_last_error();
    unsetenv("CNNBENCH_DATA");
    TEST_CHECK(st == CNN_E_IO, "status %s: %s", cnn_status_name(st), msg);
    TEST_CHECK(strstr(msg, root) && strstr(msg, "fetch-mnist.sh"), "message: %s", msg);
    return 1;
}

static int case_open_bad_spec(void)
{
    char spec[TEST_PATH_MAX];
    test_path(spec, "no-such-set");
    struct cnn_dataset train, test;
    cnn_status st = cnn_dataset_open(spec, &train, &test);
    const char *msg = cnn_last_error();
    TEST_CHECK(st == CNN_E_ARG, "status %s: %s", cnn_status_name(st), msg);
    TEST_CHECK(strstr(msg, spec) && strstr(msg, "not a data set name"), "message: %s", msg);
    return 1;
}

/* ---- driver ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static const struct {
    const char *name;
    int (*run)(void);
} test_cases[] = {
    {"round trip raw", case_round_trip_raw},
    {"round trip gzip", case_round_trip_gzip},
    {"bad magic", case_bad_magic},
    {"bad element type", case_bad_type},
    {"images ndim", case_images_ndim},
    {"labels ndim", case_labels_ndim},
    {"rows not 28", case_rows_not_28},
    {"cols not 28", case_cols_not_28},
    {"zero images", case_zero_images},
    {"zero labels", case_zero_labels},
    {"truncated images", case_truncated_images},
    {"trailing bytes", case_trailing_images},
    {"truncated labels", case_truncated_labels},
    {"truncated header", case_truncated_header},
    {"empty file", case_empty_file},
    {"size overflow", case_size_overflow},
    {"label out of range", case_label_out_of_range},
    {"count mismatch", case_count_mismatch},
    {"corrupt gzip", case_corrupt_gzip},
    {"truncated gzip", case_truncated_gzip},
    {"gzip trailing junk", case_gzip_trailing_junk},
    {"fifo", case_fifo},
    {"missing file", case_missing_file},
    {"parse from memory", case_parse_memory},
    {"open directory", case_open_directory},
    {"open missing file", case_open_missing_file},
    {"open mnist hint", case_open_mnist_hint},
    {"open bad spec", case_open_bad_spec},
};

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(test_dir, sizeof test_dir, "%s/test_idx.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(test_dir)) {
        perror("test_idx: mkdtemp");
        return 1;
    }

    int passed = 0;
    int failed = 0;
    for (size_t i = 0; i < sizeof test_cases / sizeof test_cases[0]; i++) {
        if (test_cases[i].run()) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL: %s\n", test_cases[i].name);
        }
    }

    if (nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "test_idx: warning: could not remove %s\n", test_dir);
    printf("idx: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
