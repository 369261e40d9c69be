/* lintcli: the shape shared by `mxdns dmarc|mta-sts|tls-rpt build|lint`:
 * getting the record to lint (given, or looked up by name and version
 * prefix), printing a built record, and reporting findings as text or
 * JSON with the exit codes of cmd.h. */
#ifndef MXDNS_LINTCLI_H
#define MXDNS_LINTCLI_H

#include <stdbool.h>
#include <stdio.h>

struct findings;

/* The record to lint into *value (malloc'ed): text when not NULL (quoted
 * presentation strings are joined, see txtrec_join), else the TXT records
 * at name (looked up through server, NULL for the system resolver) that
 * start with prefix followed by ';', whitespace or the end — exactly one
 * of them, as RFC 7489 §6.6.3, RFC 8461 §3.1 and RFC 8460 §3 require.
 * Returns 0; 1 when there is no single record (an error is in f); 2 on a
 * runtime error (already printed, prefixed with cmd). */
int lintcli_get(const char *cmd, const char *text, const char *server, const char *name,
		const char *prefix, char **value, struct findings *f);

/* Whether value starts with prefix followed by ';', whitespace or end. */
bool lintcli_has_prefix(const char *value, const char *prefix);

/* Prints `name. 3600 IN TXT "..."` with the value split into strings of
 * at most 255 bytes. Returns 0 or -ENOMEM. */
int lintcli_print_txt(FILE *out, const char *name, const char *value);

/* Text: findings, then "ok: NAME" or "FAILED: NAME". JSON: an object with
 * name, value, ok, errors, warnings, notes. Returns 1 if f has errors,
 * else 0. */
int lintcli_report(const char *name, const char *value, const struct findings *f, bool json);

/* The whole of `lint` for a record of one tag list: the record from
 * lintcli_get (text, or the one at name starting with prefix), checked by
 * lint, reported by lintcli_report (name when looked up). Returns the exit
 * code of cmd.h. */
int lintcli_lint(const char *cmd, const char *text, const char *server, const char *name,
		 const char *prefix, int (*lint)(const char *value, size_t len, struct findings *f),
		 bool json);

#endif
