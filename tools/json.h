/* json: a tiny streaming JSON writer for the --json output of every mxdns
 * subcommand. It writes straight to a FILE, tracks nesting so commas come
 * out right, and escapes strings (RFC 8259 §7): '"', '\', control bytes as
 * \uXXXX, and bytes that are not valid UTF-8 as U+FFFD so the output is
 * always valid JSON whatever a DNS answer or a file contained.
 *
 * Misuse (a value where a key is due, unbalanced ends, nesting deeper than
 * JSON_DEPTH_MAX) is a programming error: it is reported by json_finish(),
 * never written as broken JSON silently. */
#ifndef MXDNS_JSON_H
#define MXDNS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 32

struct json {
	FILE *f;
	int depth;
	bool error;
	bool want_value;           /* a key was written, its value is next */
	bool first[JSON_DEPTH_MAX]; /* nothing written yet at this level */
	bool is_obj[JSON_DEPTH_MAX];
};

void json_init(struct json *j, FILE *f);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);

/* Inside an object: the key of the next value. */
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s); /* NULL writes null */
void json_strn(struct json *j, const char *s, size_t len);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key + value in one call, for objects */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);

/* Ends the document with a newline. Returns 0, or MX_EINVAL if the calls
 * did not form one complete value. */
int json_finish(struct json *j);

/* Writes s as a JSON string literal with quotes (usable alone). */
void json_write_string(FILE *f, const char *s, size_t len);

#endif
