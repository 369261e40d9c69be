/* findings: what a lint or check found, in order: errors (the record is
 * broken or will be ignored by receivers), warnings (works, but is weak or
 * deprecated) and notes (informational). Every checker of this tool fills
 * one and the subcommand prints it as text or JSON, so the output looks
 * the same for DKIM, DMARC, MTA-STS and TLS-RPT. */
#ifndef MXDNS_FINDINGS_H
#define MXDNS_FINDINGS_H

#include <stddef.h>
#include <stdio.h>

struct json;

#define FINDINGS_MAX 32

enum finding_level { FINDING_NOTE, FINDING_WARN, FINDING_ERROR };

struct finding {
	enum finding_level level;
	char msg[224];
};

struct findings {
	size_t count;
	size_t dropped; /* findings past FINDINGS_MAX, counted not kept */
	struct finding item[FINDINGS_MAX];
};

void findings_init(struct findings *f);
void findings_add(struct findings *f, enum finding_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t findings_count(const struct findings *f, enum finding_level level);
/* Whether a finding at level contains needle (for tests). */
int findings_has(const struct findings *f, enum finding_level level, const char *needle);

/* "error: ...", "warning: ...", "note: ..." one per line, prefixed. */
void findings_print(const struct findings *f, FILE *out, const char *prefix);
/* Writes keys "errors", "warnings", "notes" (arrays) into the current
 * JSON object. */
void findings_json(const struct findings *f, struct json *j);

#endif
