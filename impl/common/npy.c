/* npy.c — minimal, strict .npy v1.0 float32 I/O (little-endian hosts only). */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"

static const char npy_magic[] = "\x93NUMPY";
enum { NPY_MAGIC_LEN = 6, NPY_PREFIX_LEN = 10, NPY_ALIGN = 64, NPY_HEADER_MAX = 4096 };

/* The shape as NumPy's repr writes it: "(10, 1014)", and "(32,)" for 1-D. */
static void shape_string(char *out, size_t n, const size_t *shape, int ndim)
{
    size_t used = (size_t)snprintf(out, n, "(");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, i == 0 ? "%zu" : ", %zu", shape[i]);
    if (used < n)
        snprintf(out + used, n - used, ndim == 1 ? ",)" : ")");
}

/* Writes the header and data of one array to an open atomic file. */
static void npy_put(FILE *fp, const float *data, const size_t *shape, int ndim)
{
    char shp[256], dict[512];
    shape_string(shp, sizeof shp, shape, ndim);
    int dlen = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shp);
    /* pad with spaces so the data starts on a 64-byte boundary; end with \n */
    size_t total = NPY_PREFIX_LEN + (size_t)dlen + 1;
    size_t pad = (NPY_ALIGN - total % NPY_ALIGN) % NPY_ALIGN;
    size_t hlen = (size_t)dlen + pad + 1;

    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= shape[i];

    unsigned char prefix[NPY_PREFIX_LEN];
    memcpy(prefix, npy_magic, NPY_MAGIC_LEN);
    prefix[6] = 1; /* format version 1.0 */
    prefix[7] = 0;
    prefix[8] = (unsigned char)(hlen & 0xff);
    prefix[9] = (unsigned char)(hlen >> 8);
    fwrite(prefix, 1, sizeof prefix, fp);
    fwrite(dict, 1, (size_t)dlen, fp);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', fp);
    fputc('\n', fp);
    fwrite(data, sizeof *data, count, fp);
}

cnn_status cnn_npy_write(const char *path, const float *data, const size_t *shape, int ndim)
{
    struct cnn_atomic_file f;
    CNN_TRY(cnn_atomic_open(&f, path));
    npy_put(f.fp, data, shape, ndim);
    return cnn_atomic_commit(&f);
}

cnn_status cnn_npy_read(const char *path, float *data, const size_t *shape, int ndim)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return cnn_fail(CNN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    cnn_status st = CNN_OK;
    unsigned char prefix[NPY_PREFIX_LEN];
    char header[NPY_HEADER_MAX + 1];
    if (fread(prefix, 1, sizeof prefix, fp) != sizeof prefix || memcmp(prefix, npy_magic, NPY_MAGIC_LEN) != 0) {
        st = cnn_fail(CNN_E_DATA, "%s: not a .npy file (bad magic)", path);
        goto out;
    }
    if (prefix[6] != 1) {
        st = cnn_fail(CNN_E_DATA, "%s: unsupported .npy version %d.%d (want 1.0)", path, prefix[6], prefix[7]);
        goto out;
    }
    size_t hlen = (size_t)prefix[8] | ((size_t)prefix[9] << 8);
    if (hlen > NPY_HEADER_MAX || fread(header, 1, hlen, fp) != hlen) {
        st = cnn_fail(CNN_E_DATA, "%s: truncated or oversized .npy header", path);
        goto out;
    }
    header[hlen] = '\0';
    if (!strstr(header, "'descr': '<f4'")) {
        st = cnn_fail(CNN_E_DATA, "%s: dtype must be little-endian float32 ('<f4')", path);
        goto out;
    }
    if (!strstr(header, "'fortran_order': False")) {
        st = cnn_fail(CNN_E_DATA, "%s: array must be in C order", path);
        goto out;
    }
    char want[256];
    shape_string(want, sizeof want, shape, ndim);
    const char *got = strstr(header, "'shape': ");
    if (!got || strncmp(got + 9, want, strlen(want)) != 0) {
        const char *end = got ? strchr(got, ')') : NULL;
        st = cnn_fail(CNN_E_DATA, "%s: shape %.*s does not match the model's %s", path,
                      got && end ? (int)(end - got - 8) : 1, got && end ? got + 9 : "?", want);
        goto out;
    }
    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= shape[i];
    if (fread(data, sizeof *data, count, fp) != count) {
        st = cnn_fail(CNN_E_DATA, "%s: truncated data (want %zu floats)", path, count);
        goto out;
    }
    if (fgetc(fp) != EOF)
        st = cnn_fail(CNN_E_DATA, "%s: trailing bytes after %zu floats", path, count);
out:
    fclose(fp);
    return st;
}

/* The canonical parameter tensors: file name and shape. */
struct param_file {
    const char *name;
    float *data;
    size_t shape[CNN_NPY_MAX_DIMS];
    int ndim;
};

static int param_files(const struct cnn_params *p, struct param_file out[4])
{
    size_t f = (size_t)p->filters;
    out[0] = (struct param_file){"conv_w.npy", p->conv_w, {f, 1, CNN_KSIZE, CNN_KSIZE}, 4};
    out[1] = (struct param_file){"conv_b.npy", p->conv_b, {f}, 1};
    out[2] = (struct param_file){"fc_w.npy", p->fc_w, {CNN_CLASSES, cnn_features(p->filters)}, 2};
    out[3] = (struct param_file){"fc_b.npy", p->fc_b, {CNN_CLASSES}, 1};
    return 4;
}

/* All four files are written and synced before any is renamed, so a failed
 * save (disk full) leaves the previous set whole rather than a mix. */
cnn_status cnn_params_save(const char *dir, const struct cnn_params *p)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    struct param_file files[4];
    struct cnn_atomic_file out[4];
    int n = param_files(p, files), done = 0;
    cnn_status st = CNN_OK;
    for (; done < n && st == CNN_OK; done++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[done].name);
        st = cnn_atomic_open(&out[done], path);
        if (st != CNN_OK)
            break;
        npy_put(out[done].fp, files[done].data, files[done].shape, files[done].ndim);
        st = cnn_atomic_finish(&out[done]);
    }
    for (int i = 0; i < done; i++) {
        if (st == CNN_OK)
            st = cnn_atomic_publish(&out[i]);
        else
            remove(out[i].tmp);
    }
    return st;
}

cnn_status cnn_params_load(const char *dir, struct cnn_params *p)
{
    struct param_file files[4];
    int n = param_files(p, files);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        CNN_TRY(cnn_npy_read(path, files[i].data, files[i].shape, files[i].ndim));
    }
    return CNN_OK;
}
