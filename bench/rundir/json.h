/*
 * json.h — cnnbench's JSON goes through jansson: meta.json is written with it
 * (meta.c) and read with it (compare.c checks the machine and the build of
 * two runs), and so is compare's --json verdict file. This module adds what
 * every such use needs on top of the library.
 *
 * Why jansson rather than cJSON (both in Debian 12): a syntax error comes
 * back with its line and column, which is what a message about a damaged
 * meta.json must name; duplicate keys can be rejected instead of silently
 * shadowing one another; integers stay integers (json_int_t) rather than
 * doubles; objects keep insertion order (since 2.8), so meta.json's keys come
 * out in the order meta.c writes them; and reference counting lets a tree
 * that fails halfway be dropped with one json_decref.
 */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "cnn.h"

/* s as a JSON string, or null for s == NULL. Bytes that are not UTF-8 (a
 * path or an environment variable in another encoding) become '?', so the
 * document stays valid JSON. NULL only when out of memory. */
json_t *json_text(const char *s);
/* v as a JSON number, or null where v is NaN or infinite (JSON has neither). */
json_t *json_number_or_null(double v);

/* Parses the whole JSON document text read from path, rejecting duplicate
 * keys; CNN_E_DATA with the path, line and column where it is not JSON. */
cnn_status json_parse_document(const char *path, const char *text, size_t len, json_t **root);
/* Writes root indented by two spaces, reals with 9 significant digits, and a
 * final newline. Returns 0, or -1 on a write error. */
int json_write_document(FILE *fp, const json_t *root);

/*
 * Lookups in a JSON document's text by path: object keys and array indexes
 * joined by dots, from the top ("data.fnv1a64", "gpus.0.driver"). Used by
 * the readers of meta.json (meta_read: report, plotdata, sweep --resume).
 */
/* Copies the string value at path `key` into out. 0 on success, -1 if missing, not a string or not JSON. */
int json_get_string(const char *text, const char *key, char *out, size_t len);
/* Reads the number value at path `key`. 0 on success, -1 if missing, not a number or not JSON. */
int json_get_number(const char *text, const char *key, double *out);
/* The array of strings at path `key` as malloc'd strings in a malloc'd array;
 * returns the count, or -1 if missing, not an array of strings, not JSON or
 * out of memory. */
int json_get_string_array(const char *text, const char *key, char ***out);
void json_free_strings(char **v, int n);

#endif
