/*
 * plotdata_showcase.c — the showcase configuration's learned filters, one
 * test digit and its feature maps, from the .npy files sweep exported, as
 * image tiles for the charts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fields.h"
#include "fileio.h"
#include "json.h"
#include "plotdata.h"
#include "runfile.h"

/* ---- the showcase: filters, one digit and its feature maps as image tiles ---- */

/* Reads a showcase CSV (file: its path in the run) of "tile,row,col,value"
 * (filters, maps; three = 0) or "row,col,value" (the digit; three = 1) into
 * v [tiles][rows][cols], every field checked; *count = the number of tiles
 * (largest index + 1). */
static cnn_status read_tiles(const struct pd *pd, const char *file, int three, float *v,
                             int max_count, int rows, int cols, int *count)
{
    char path[PD_PATH];
    snprintf(path, sizeof path, "%s/%s", pd->run, file);
    struct runfile f;
    const struct runfile_rules rules = {.voice = RUNFILE_FIELDS, .gz = 1};
    CNN_TRY(runfile_open(&f, path, &rules));
    int want = three ? 3 : 4, more = 1;
    cnn_status st = CNN_OK;
    if (f.columns != want)
        st = cnn_fail(CNN_E_DATA, "%s: line 1: %d fields where %d were expected", f.path,
                      f.columns, want);
    *count = 0;
    while (st == CNN_OK && (st = runfile_next(&f, &more)) == CNN_OK && more) {
        int idx[3] = {0, 0, 0};
        const int hi[3] = {max_count - 1, rows - 1, cols - 1};
        const char *names[3] = {"tile", "row", "col"};
        double value = 0;
        for (int k = three; k < 3 && st == CNN_OK; k++) {
            struct field_pos at = {f.path, f.line, k - three + 1, names[k]};
            st = field_int(&at, f.field[k - three], 0, hi[k], &idx[k]);
        }
        struct field_pos at = {f.path, f.line, want, "value"};
        if (st == CNN_OK)
            st = field_double(&at, f.field[want - 1], -FIELD_MAX_NUMBER, FIELD_MAX_NUMBER, 0,
                              &value);
        if (st != CNN_OK)
            break;
        v[((size_t)idx[0] * rows + idx[1]) * cols + idx[2]] = (float)value;
        *count = idx[0] + 1 > *count ? idx[0] + 1 : *count;
    }
    runfile_close(&f);
    return st;
}

/* Writes count tiles of rows x cols as one image grid "x,y,value" with a
 * one-pixel NaN gap between tiles; each tile scaled by its largest |value|
 * so that weak filters stay visible (signed: -1..1, else 0..1). */
static cnn_status write_grid(const struct pd *pd, const char *name, const float *v, int count,
                             int rows, int cols)
{
    int gc = 1;
    while (gc * gc < count)
        gc++;
    int gr = (count + gc - 1) / gc;
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, name, &f));
    fputs("x,y,value\n", f.fp);
    int w = gc * (cols + 1) - 1, h = gr * (rows + 1) - 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int tile = (y / (rows + 1)) * gc + x / (cols + 1);
            int r = y % (rows + 1), c = x % (cols + 1);
            if (r == rows || c == cols || tile >= count) {
                fprintf(f.fp, "%d,%d,NaN\n", x, y);
                continue;
            }
            const float *t = v + (size_t)tile * rows * cols;
            float scale = 0;
            for (int i = 0; i < rows * cols; i++)
                scale = fabsf(t[i]) > scale ? fabsf(t[i]) : scale;
            fprintf(f.fp, "%d,%d,%.5g\n", x, y, scale > 0 ? t[r * cols + c] / scale : 0.0);
        }
    return cnn_atomic_commit(&f);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

cnn_status pd_table_showcase(struct pd *pd, const char *meta_path, const char *meta)
{
    char path[PD_PATH], key[PLAN_KEY_MAX + 1] = "";
    double label = -1, index = -1;
    int filters = 0;
    /* the configuration whose parameters were exported: a row's key (so
     * checked), unless it did not finish */
    if (json_get_string(meta, "showcase.params_config", key, sizeof key) == 0) {
        for (int i = 0; i < pd->n && filters == 0; i++)
            if (!strcmp(pd->rows[i].key, key))
                filters = pd->rows[i].filters;
        int have = json_get_number(meta, "showcase.digit_label", &label) == 0 &&
                   json_get_number(meta, "showcase.digit_index", &index) == 0;
        if (filters > 0 && !(have && label == floor(label) && label >= 0 && label <= 9 &&
                             index == floor(index) && index >= 0 && index <= 1e9))
            return cnn_fail(CNN_E_DATA, "%s: \"digit_label\" (0..9) and \"digit_index\" (a test "
                            "image) must come with \"params_config\"", meta_path);
    }
    snprintf(path, sizeof path, "%s/showcase/filters.csv", pd->run);
    if (filters == 0 || !file_exists(path)) {
        pd_info_int(pd, "showcase", 0);
        const char *grids[] = {"filters_grid.csv", "maps_grid.csv", "digit_grid.csv"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", pd->data_dir, grids[i]);
            CNN_TRY(pd_remove_stale(path));
        }
        return CNN_OK;
    }
    size_t maps = (size_t)filters * CNN_POOL_AREA;
    float *buf = calloc(maps + (size_t)filters * CNN_KTAPS + CNN_PIXELS, sizeof *buf);
    if (!buf)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the showcase tiles");
    float *w = buf, *m = buf + (size_t)filters * CNN_KTAPS, *d = m + maps;
    int nw = 0, nm = 0, nd = 0;
    cnn_status st = read_tiles(pd, "showcase/filters.csv", 0, w, filters, CNN_KSIZE, CNN_KSIZE,
                               &nw);
    if (st == CNN_OK)
        st = read_tiles(pd, "showcase/feature_maps.csv", 0, m, filters, CNN_POOL, CNN_POOL, &nm);
    if (st == CNN_OK)
        st = read_tiles(pd, "showcase/digit.csv", 1, d, 1, CNN_IMG, CNN_IMG, &nd);
    if (st == CNN_OK && (nw == 0 || nm == 0 || nd == 0))
        st = cnn_fail(CNN_E_DATA, "%s/showcase: a file without rows", pd->run);
    if (st == CNN_OK)
        st = write_grid(pd, "filters_grid.csv", w, nw, CNN_KSIZE, CNN_KSIZE);
    if (st == CNN_OK)
        st = write_grid(pd, "maps_grid.csv", m, nm, CNN_POOL, CNN_POOL);
    if (st == CNN_OK)
        st = write_grid(pd, "digit_grid.csv", d, 1, CNN_IMG, CNN_IMG);
    free(buf);
    pd_info_int(pd, "showcase", 1);
    pd_info_str(pd, "showcase_config", key);
    pd_info_int(pd, "showcase_filters", filters);
    pd_info_int(pd, "digit_label", (long)label);
    pd_info_int(pd, "digit_index", (long)index);
    return st;
}
