/* hostarg: domain names given on the command line (--domain, --selector,
 * --host). Checked once here so every subcommand rejects the same things
 * with the same words, before the name ends up in a record. */
#ifndef MXDNS_HOSTARG_H
#define MXDNS_HOSTARG_H

#include <stddef.h>

#define HOSTARG_MAX 254 /* 253 characters + NUL (RFC 1035 §2.3.4, without the final dot) */

/* Copies name without its final dot into out (HOSTARG_MAX bytes) after
 * checking it: labels of 1..63 bytes of letters, digits, '-' and '_' (the
 * underscore labels of _dmarc, _domainkey...), at most 253 characters.
 * what names the option in the error text written to err.
 * Returns 0 or MX_EINVAL. */
int hostarg_parse(const char *name, const char *what, char out[HOSTARG_MAX], char *err,
		  size_t errcap);

#endif
