/* tlsrpt: SMTP TLS Reporting records (RFC 8460 §3) at _smtp._tls.DOMAIN:
 * "v=TLSRPTv1; rua=mailto:...,https://...". */
#ifndef MXDNS_TLSRPT_H
#define MXDNS_TLSRPT_H

#include <stddef.h>

struct findings;

/* Checks a record value: begins with v=TLSRPTv1, rua= present with
 * comma-separated mailto: or https: URIs; other fields are extensions,
 * noted and ignored. Returns 0, MX_ESYNTAX (errors in f) or -ENOMEM. */
int tlsrpt_lint(const char *value, size_t len, struct findings *f);

int cmd_tls_rpt(int argc, char **argv);

#endif
