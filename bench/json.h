/*
 * json.h — just enough JSON for meta.json: a streaming writer with
 * indentation and escaping, and a reader for the few values cnnbench reads
 * back from its own files (the argv of a run to resume, the git SHA, the
 * machine names for chart labels). The reader finds the first occurrence of
 * a key at any depth, so the keys it is used for are unique in meta.json.
 */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "cnn.h"

enum { JSON_MAX_DEPTH = 16 };

struct json_writer {
    FILE *fp;
    int depth;
    int count[JSON_MAX_DEPTH]; /* members written so far at each depth */
};

/* Starts the top-level object. */
void json_begin(struct json_writer *w, FILE *fp);
/* Ends it; returns 0, or -1 if any write failed. */
int json_end(struct json_writer *w);

/* key is NULL for array elements. */
void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value); /* NULL: null */
void json_number(struct json_writer *w, const char *key, double value);      /* NaN: null */
void json_int(struct json_writer *w, const char *key, long long value);
void json_bool(struct json_writer *w, const char *key, int value);

/* Reads a JSON file whole into a NUL-terminated malloc'd buffer, for the
 * json_get_ functions: CNN_E_DATA, naming the line and column, unless it is
 * one well-formed JSON object (RFC 8259; numbers finite, nesting bounded). */
cnn_status json_read_file(const char *path, char **text);

/* Copies the string value of "key" into out. 0 on success, -1 if missing or not a string. */
int json_get_string(const char *text, const char *key, char *out, size_t len);
/* Reads the number value of "key". 0 on success, -1 if missing or not a number. */
int json_get_number(const char *text, const char *key, double *out);
/* The array of strings "key": [...] as malloc'd strings in a malloc'd array;
 * returns the count, or -1 if missing, malformed or out of memory. */
int json_get_string_array(const char *text, const char *key, char ***out);
void json_free_strings(char **v, int n);

#endif
