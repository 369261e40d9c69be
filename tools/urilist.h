/* urilist: the comma-separated report URI lists of DMARC (rua=, ruf=;
 * RFC 7489 §6.4 dmarc-uri) and TLS-RPT (rua=; RFC 8460 §3), one URI each
 * checked by tools/mailuri.h: building them from the command line and
 * linting them, the same way for both. */
#ifndef MXDNS_URILIST_H
#define MXDNS_URILIST_H

#include <stdbool.h>
#include <stddef.h>

struct findings;

/* Checks every URI of list (blanks around each are allowed) with
 * mailuri_check(flags). Errors go to f prefixed with what (e.g. "tag
 * rua"): an empty entry, a bad URI. With mailto_advised a URI other than
 * mailto: is warned about. Returns the number of entries. */
size_t urilist_check(const char *what, const char *list, int flags, bool mailto_advised,
                     struct findings *f);

/* The list as it is published: each entry without a scheme (no ':') is a
 * bare address and becomes mailto:ADDRESS. *out is malloc'ed. Returns 0
 * or -ENOMEM. */
int urilist_build(const char *list, char **out);

#endif
