/* npy.c — minimal, strict .npy v1.0 float32 I/O (little-endian hosts only). */
#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "params.h"

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

/* ---- reading: the header dictionary, parsed rather than searched ----
 *
 * A version 1.0 header is a Python dict literal padded with spaces and
 * ended by '\n', e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (32,), }
 * It must hold exactly the keys descr, fortran_order and shape, each once;
 * strings may use either quote; a shape is a tuple of decimal integers (a
 * 1-tuple written "(32,)", as in Python). */

struct npy_header {
    char descr[16];
    int fortran_order;
    size_t shape[CNN_NPY_MAX_DIMS];
    int ndim;
};

struct npy_cursor {
    const char *p;
    const char *path;
};

static void npy_skip_blanks(struct npy_cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t')
        c->p++;
}

/* Shows up to 20 characters from the cursor, on one line. */
static cnn_status npy_bad_header(const struct npy_cursor *c, const char *what)
{
    int n = (int)strcspn(c->p, "\n");
    if (n > 20)
        n = 20;
    while (n > 0 && c->p[n - 1] == ' ')
        n--;
    if (n == 0)
        return cnn_fail(CNN_E_DATA, "%s: malformed .npy header: %s at its end", c->path, what);
    return cnn_fail(CNN_E_DATA, "%s: malformed .npy header: %s at \"%.*s\"", c->path, what, n, c->p);
}

static cnn_status npy_expect(struct npy_cursor *c, char ch)
{
    npy_skip_blanks(c);
    if (*c->p != ch) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", ch);
        return npy_bad_header(c, what);
    }
    c->p++;
    return CNN_OK;
}

/* A quoted string ('...' or "...") without escapes into out. */
static cnn_status npy_string(struct npy_cursor *c, char *out, size_t len)
{
    npy_skip_blanks(c);
    char quote = *c->p;
    if (quote != '\'' && quote != '"')
        return npy_bad_header(c, "expected a quoted string");
    const char *start = ++c->p;
    while (*c->p && *c->p != quote && *c->p != '\\')
        c->p++;
    if (*c->p != quote)
        return npy_bad_header(c, "unterminated or escaped string");
    size_t n = (size_t)(c->p - start);
    if (n >= len)
        return npy_bad_header(c, "string too long");
    memcpy(out, start, n);
    out[n] = '\0';
    c->p++;
    return CNN_OK;
}

static cnn_status npy_bool(struct npy_cursor *c, int *out)
{
    npy_skip_blanks(c);
    if (strncmp(c->p, "False", 5) == 0) {
        *out = 0;
        c->p += 5;
    } else if (strncmp(c->p, "True", 4) == 0) {
        *out = 1;
        c->p += 4;
    } else {
        return npy_bad_header(c, "fortran_order must be True or False");
    }
    return CNN_OK;
}

/* "(A, B, ...)": decimal sizes, at most CNN_NPY_MAX_DIMS. */
static cnn_status npy_shape(struct npy_cursor *c, struct npy_header *h)
{
    CNN_TRY(npy_expect(c, '('));
    h->ndim = 0;
    int comma_after_last = 0;
    for (;;) {
        npy_skip_blanks(c);
        if (*c->p == ')')
            break;
        if (*c->p < '0' || *c->p > '9')
            return npy_bad_header(c, "expected a dimension (a decimal integer)");
        if (h->ndim == CNN_NPY_MAX_DIMS)
            return npy_bad_header(c, "too many dimensions");
        size_t v = 0;
        for (; *c->p >= '0' && *c->p <= '9'; c->p++) {
            if (v > ((size_t)-1 - 9) / 10)
                return npy_bad_header(c, "dimension too large");
            v = v * 10 + (size_t)(*c->p - '0');
        }
        h->shape[h->ndim++] = v;
        npy_skip_blanks(c);
        comma_after_last = *c->p == ',';
        if (comma_after_last)
            c->p++;
        else if (*c->p != ')')
            return npy_bad_header(c, "expected ',' or ')' in the shape");
    }
    c->p++;
    if (h->ndim == 1 && !comma_after_last)
        return npy_bad_header(c, "a 1-D shape is written (N,)");
    return CNN_OK;
}

static cnn_status npy_parse_header(const char *text, const char *path, struct npy_header *h)
{
    struct npy_cursor c = {text, path};
    enum { KEY_DESCR = 1, KEY_ORDER = 2, KEY_SHAPE = 4 };
    int seen = 0;
    CNN_TRY(npy_expect(&c, '{'));
    for (;;) {
        npy_skip_blanks(&c);
        if (*c.p == '}')
            break;
        char key[32];
        CNN_TRY(npy_string(&c, key, sizeof key));
        int bit = !strcmp(key, "descr") ? KEY_DESCR
                  : !strcmp(key, "fortran_order") ? KEY_ORDER
                  : !strcmp(key, "shape") ? KEY_SHAPE : 0;
        if (!bit)
            return cnn_fail(CNN_E_DATA, "%s: .npy header has the unknown key '%s' (only descr, "
                            "fortran_order and shape belong there)", path, key);
        if (seen & bit)
            return cnn_fail(CNN_E_DATA, "%s: .npy header gives '%s' twice", path, key);
        seen |= bit;
        CNN_TRY(npy_expect(&c, ':'));
        if (bit == KEY_DESCR)
            CNN_TRY(npy_string(&c, h->descr, sizeof h->descr));
        else if (bit == KEY_ORDER)
            CNN_TRY(npy_bool(&c, &h->fortran_order));
        else
            CNN_TRY(npy_shape(&c, h));
        npy_skip_blanks(&c);
        if (*c.p == ',')
            c.p++;
        else if (*c.p != '}')
            return npy_bad_header(&c, "expected ',' or '}'");
    }
    c.p++;
    npy_skip_blanks(&c);
    if (c.p[0] != '\n' || c.p[1] != '\0')
        return npy_bad_header(&c, "the dictionary must be followed by spaces and one newline only");
    if (seen != (KEY_DESCR | KEY_ORDER | KEY_SHAPE))
        return cnn_fail(CNN_E_DATA, "%s: .npy header lacks '%s'", path,
                        !(seen & KEY_DESCR) ? "descr" : !(seen & KEY_ORDER) ? "fortran_order" : "shape");
    return CNN_OK;
}

cnn_status cnn_npy_read(const char *path, float *data, const size_t *shape, int ndim)
{
    FILE *fp;
    CNN_TRY(cnn_fopen_regular(path, "a .npy file", &fp));
    cnn_status st = CNN_OK;
    unsigned char prefix[NPY_PREFIX_LEN];
    char header[NPY_HEADER_MAX + 1];
    struct npy_header h;
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
    if (strlen(header) != hlen) {
        st = cnn_fail(CNN_E_DATA, "%s: malformed .npy header: it contains a NUL byte", path);
        goto out;
    }
    st = npy_parse_header(header, path, &h);
    if (st != CNN_OK)
        goto out;
    if (strcmp(h.descr, "<f4") != 0) {
        st = cnn_fail(CNN_E_DATA, "%s: dtype '%s', must be little-endian float32 ('<f4')", path, h.descr);
        goto out;
    }
    if (h.fortran_order) {
        st = cnn_fail(CNN_E_DATA, "%s: array must be in C order (fortran_order is True)", path);
        goto out;
    }
    int same = h.ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = h.shape[i] == shape[i];
    if (!same) {
        char got[256], want[256];
        shape_string(got, sizeof got, h.shape, h.ndim);
        shape_string(want, sizeof want, shape, ndim);
        st = cnn_fail(CNN_E_DATA, "%s: shape %s does not match the model's %s", path, got, want);
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
    /* NaN or Inf would train silently (ReLU and max-pool can hide a NaN
     * filter from the loss) and be saved again */
    size_t first = 0, bad = cnn_params_count_nonfinite(p, &first);
    if (bad) {
        char where[64];
        const char *tensor = cnn_params_locate(p, first, where, sizeof where);
        return cnn_fail(CNN_E_DATA, "%s/%s.npy: %s is %g (%zu non-finite value%s in the "
                        "parameters); parameters must be finite numbers", dir, tensor, where,
                        isnan(p->buf[first]) ? fabs(p->buf[first]) : p->buf[first], bad,
                        bad == 1 ? "" : "s");
    }
    return CNN_OK;
}
