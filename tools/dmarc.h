/* dmarc: DMARC policy records (RFC 7489 §6.3, §6.4) at _dmarc.DOMAIN:
 * building one from options and linting one, with warnings for what
 * DMARCbis (draft-ietf-dmarc-dmarcbis) removes (pct, rf, ri). */
#ifndef MXDNS_DMARC_H
#define MXDNS_DMARC_H

#include <stddef.h>

struct findings;

/* Checks a record value: v=DMARC1 first, p second and one of none,
 * quarantine, reject; sp, adkim, aspf, pct, fo, rf, ri, rua, ruf values;
 * unknown tags are noted and ignored (§6.3). Returns 0 when usable,
 * MX_ESYNTAX when an error was added to f, -ENOMEM. */
int dmarc_lint(const char *value, size_t len, struct findings *f);

struct dmarc_opts {
	const char *policy;    /* p=, required */
	const char *sp;        /* NULL: omitted */
	const char *rua, *ruf; /* comma-separated; bare addresses get mailto: */
	const char *adkim, *aspf, *fo, *rf;
	int pct;               /* -1: omitted */
	long ri;               /* -1: omitted */
};

/* Builds "v=DMARC1; p=...; ..." in the order of RFC 7489 §6.4's ABNF.
 * *value is malloc'ed; it is not linted here. Returns 0, MX_EINVAL (no
 * policy) or -ENOMEM. */
int dmarc_build(const struct dmarc_opts *o, char **value);

int cmd_dmarc(int argc, char **argv);

#endif
