/*
 * fuzz_idx.c — the IDX reader under a fuzzer (docs/DESIGN.md §5: no abort and no
 * segfault on any input).
 *
 * Every input is parsed from memory as an images file and as a labels file.
 * An input that starts with the gzip magic also goes through
 * cnn_idx_read_file, via an in-memory file, so that decompression and the
 * corrupt- and truncated-stream checks are fuzzed too.
 *
 * Beyond "no crash, no leak, no huge allocation" (the sanitizers and
 * libFuzzer's limits watch those), each call must keep the reader's
 * promises, or the harness aborts. On success the count agrees with the
 * length and every label is in 0..9. On failure the outputs are untouched
 * and the message names the input.
 *
 * Built two ways (tests/fuzz/meson.build). With clang and
 * -fsanitize=fuzzer, this is a libFuzzer target. Without it,
 * FUZZ_IDX_REPLAY adds a main() that feeds each file named on the command
 * line, or found in a directory named there, through the same entry point:
 * the meson regression test over the seed corpus and every crash found.
 *
 * abort() is right here, unlike in the library: it is how a fuzz target
 * tells libFuzzer that an input broke something.
 */
#define _GNU_SOURCE /* memfd_create */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "idx.h"

#define FUZZ_NAME "fuzz-input"

enum {
    FUZZ_IMAGES_HEADER = 16, /* magic + N, rows, cols (big-endian uint32 each) */
    FUZZ_LABELS_HEADER = 8,  /* magic + N */
};

/* A value the reader never writes: proof that a failed call left the
 * outputs alone. */
static uint8_t fuzz_untouched_byte;
#define FUZZ_UNTOUCHED (&fuzz_untouched_byte)
#define FUZZ_UNTOUCHED_COUNT 0xdeadbeefu

/* Broken promise: stop loudly so libFuzzer saves the input. */
static void fuzz_require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_idx: broken promise: %s (last error: %s)\n", what, cnn_last_error());
        abort();
    }
}

/* A failure must record a message that names the input and leave the
 * outputs as they were. */
static void fuzz_check_failure(const char *name, int outputs_untouched)
{
    fuzz_require(strncmp(cnn_last_error(), name, strlen(name)) == 0,
                 "the error message does not start with the file name");
    fuzz_require(outputs_untouched, "a failed call wrote its outputs");
}

/* buf[0..len) as images: on success len = 16 + count * 784 exactly.
 * Returns 1 if the reader accepted it. */
static int fuzz_images(const uint8_t *buf, size_t len, const char *name)
{
    uint8_t *images = FUZZ_UNTOUCHED;
    uint32_t count = FUZZ_UNTOUCHED_COUNT;
    cnn_clear_error();
    if (cnn_idx_parse_images(buf, len, name, &images, &count) != CNN_OK) {
        fuzz_check_failure(name, images == FUZZ_UNTOUCHED && count == FUZZ_UNTOUCHED_COUNT);
        return 0;
    }
    fuzz_require(count > 0 && len == FUZZ_IMAGES_HEADER + (size_t)count * CNN_PIXELS,
                 "accepted images whose count disagrees with the length");
    fuzz_require(memcmp(images, buf + FUZZ_IMAGES_HEADER, (size_t)count * CNN_PIXELS) == 0,
                 "the pixels differ from the file's payload");
    free(images);
    return 1;
}

/* buf[0..len) as labels: on success len = 8 + count and every label < 10.
 * Returns 1 if the reader accepted it. */
static int fuzz_labels(const uint8_t *buf, size_t len, const char *name)
{
    uint8_t *labels = FUZZ_UNTOUCHED;
    uint32_t count = FUZZ_UNTOUCHED_COUNT;
    cnn_clear_error();
    if (cnn_idx_parse_labels(buf, len, name, &labels, &count) != CNN_OK) {
        fuzz_check_failure(name, labels == FUZZ_UNTOUCHED && count == FUZZ_UNTOUCHED_COUNT);
        return 0;
    }
    fuzz_require(count > 0 && len == FUZZ_LABELS_HEADER + (size_t)count,
                 "accepted labels whose count disagrees with the length");
    for (uint32_t i = 0; i < count; i++)
        fuzz_require(labels[i] < CNN_CLASSES, "accepted a label outside 0..9");
    free(labels);
    return 1;
}

/* The whole-file path: the input becomes the contents of an in-memory
 * file (created once, rewritten per input), read back through zlib, and
 * whatever decompresses is parsed both ways. Returns how many of the two
 * parses accepted it. */
static int fuzz_file(const uint8_t *buf, size_t len)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_idx", MFD_CLOEXEC);
        fuzz_require(fd >= 0, "memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    fuzz_require(ftruncate(fd, 0) == 0 && pwrite(fd, buf, len, 0) == (ssize_t)len,
                 "cannot write the in-memory file");

    uint8_t *data = FUZZ_UNTOUCHED;
    size_t n = FUZZ_UNTOUCHED_COUNT;
    cnn_clear_error();
    if (cnn_idx_read_file(path, &data, &n) != CNN_OK) {
        fuzz_check_failure(path, data == FUZZ_UNTOUCHED && n == FUZZ_UNTOUCHED_COUNT);
        return 0;
    }
    int accepted = fuzz_images(data, n, path) + fuzz_labels(data, n, path);
    free(data);
    return accepted;
}

/* One input through every path; returns how many parses accepted it: the
 * gzip path for gzip data (that is how a data set file is read), else the
 * two parses from memory. */
static int fuzz_one(const uint8_t *buf, size_t len)
{
    int accepted = fuzz_images(buf, len, FUZZ_NAME) + fuzz_labels(buf, len, FUZZ_NAME);
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
        accepted = fuzz_file(buf, len);
    return accepted;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    fuzz_one(buf, len);
    return 0;
}

#ifdef FUZZ_IDX_REPLAY
/* Runs one corpus file through every path and judges the verdict by its
 * name: an ok-* file must be accepted, a bad-* file rejected everywhere;
 * crash-* files (and any other) need only keep the promises above.
 * Returns 0, or 1 if it cannot be read or the verdict is wrong (a broken
 * promise aborts instead). */
static int fuzz_replay_file(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return 1;
    }
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    uint8_t *buf = size >= 0 && fseek(fp, 0, SEEK_SET) == 0 ? malloc((size_t)size + 1) : NULL;
    int ok = buf && fread(buf, 1, (size_t)size, fp) == (size_t)size;
    fclose(fp);
    if (!ok) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return 1;
    }
    int accepted = fuzz_one(buf, (size_t)size);
    free(buf);
    if (strncmp(base, "bad-", 4) == 0 && accepted) {
        fprintf(stderr, "%s: accepted, but a bad-* file must be rejected\n", path);
        return 1;
    }
    if (strncmp(base, "ok-", 3) == 0 && !accepted) {
        fprintf(stderr, "%s: rejected, but an ok-* file must be accepted (%s)\n", path,
                cnn_last_error());
        return 1;
    }
    return 0;
}

/* A file is replayed; a directory's files are, one level deep (hidden
 * names skipped), every one even after a wrong verdict, so a run lists
 * them all. Returns the number of inputs replayed, or -1. */
static int fuzz_replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return fuzz_replay_file(path) == 0 ? 1 : -1;
    DIR *dir = opendir(path);
    if (!dir) {
        perror(path);
        return -1;
    }
    int replayed = 0, wrong = 0;
    struct dirent *e;
    while (replayed >= 0 && (e = readdir(dir)) != NULL) {
        char file[4096];
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) >= (int)sizeof file) {
            fprintf(stderr, "%s/%s: path too long\n", path, e->d_name);
            replayed = -1;
        } else {
            wrong += fuzz_replay_file(file);
            replayed++;
        }
    }
    closedir(dir);
    if (wrong) {
        fprintf(stderr, "%s: %d of %d files got the wrong verdict\n", path, wrong, replayed);
        return -1;
    }
    return replayed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        int n = fuzz_replay_path(argv[i]);
        if (n < 0)
            return 1;
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "fuzz_idx: no inputs found\n");
        return 1;
    }
    printf("fuzz_idx: replayed %d inputs, every promise kept, every ok-* file accepted and "
           "every bad-* file rejected\n", total);
    return 0;
}
#endif
