/* tlsa: TLSA records (RFC 6698 §2, RFC 7671, RFC 7672 for SMTP) from PEM
 * certificates or keys: the association data for a usage, selector and
 * matching type, and the record line in the same form as `ldns-dane
 * create` prints it. `mxdns tlsa` (cmd_tlsa) is the front end. */
#ifndef MXDNS_TLSA_H
#define MXDNS_TLSA_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

enum { TLSA_SEL_CERT = 0, TLSA_SEL_SPKI = 1 };                      /* RFC 6698 §2.1.2 */
enum { TLSA_MATCH_FULL = 0, TLSA_MATCH_SHA256 = 1, TLSA_MATCH_SHA512 = 2 }; /* §2.1.3 */

/* The certificate-association data for cert (selector 0 or 1) or, when
 * cert is NULL, for key (selector 1 only: its SubjectPublicKeyInfo).
 * *hex is malloc'ed lowercase hex. Returns 0, MX_EINVAL (a selector or
 * matching type out of range, or selector 0 without a certificate) or
 * MX_ECRYPTO. */
int tlsa_data(X509 *cert, EVP_PKEY *key, int selector, int match, char **hex);

/* The certificates in a PEM file in order, or else its key (private or
 * public) in *key. err receives a one-line reason. Returns 0 when at least
 * one of them was found, MX_ESYNTAX, or -errno. */
int tlsa_load(const char *path, STACK_OF(X509) **certs, EVP_PKEY **key, char *err, size_t errcap);

int cmd_tlsa(int argc, char **argv);

#endif
