/* mailuri: the report URIs of DMARC (rua=, ruf=; RFC 7489 §6.2, §6.4) and
 * TLS-RPT (rua=; RFC 8460 §3): mailto: with one plain address, or https:
 * with a host. Deliberately strict: a receiver that cannot parse the URI
 * silently sends no reports, so anything unusual is refused. */
#ifndef MXDNS_MAILURI_H
#define MXDNS_MAILURI_H

#include <stddef.h>

enum {
	MAILURI_HTTPS = 1, /* https: accepted */
	MAILURI_SIZE = 2,  /* a DMARC size limit suffix "!10m" accepted (RFC 7489 §6.4) */
};

/* Checks one URI (len bytes, no surrounding whitespace). On success the
 * address's or host's domain is copied into domain (254 bytes) when not
 * NULL. err receives the reason. Returns 0 or MX_ESYNTAX. */
int mailuri_check(const char *uri, size_t len, int flags, char *domain, char *err, size_t errcap);

#endif
