/* dkim: DKIM keys and their DNS records (RFC 6376 §3.6, RFC 8463 for
 * Ed25519, RFC 8301 for key sizes): generating keys, building the TXT
 * record from a key, and checking a published record against the rules
 * and against a private key. `mxdns dkim` (cmd_dkim) is the front end;
 * the functions below are pure (no DNS, no files) except dkim_key_load
 * and dkim_key_write. */
#ifndef MXDNS_DKIM_H
#define MXDNS_DKIM_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

struct findings;

#define DKIM_TTL 3600

enum dkim_algo { DKIM_ALGO_RSA, DKIM_ALGO_ED25519 };

/* A new key: RSA of bits (1024, 2048, 3072 or 4096) or Ed25519 (bits is
 * ignored). Returns 0, MX_EINVAL (bits) or MX_ECRYPTO. */
int dkim_keygen(enum dkim_algo algo, int bits, EVP_PKEY **out);

/* The record value for the public half of key (private or public):
 * "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo DER>" (RFC 6376 §3.6.1)
 * or "v=DKIM1; k=ed25519; p=<base64 of the raw 32-byte key>" (RFC 8463
 * §4.2). *value is malloc'ed. Returns 0, MX_EINVAL (another key type) or
 * MX_ECRYPTO. */
int dkim_record_value(EVP_PKEY *key, char **value);

/* The zone-file line `S._domainkey.D. 3600 IN TXT "..."`, with the value
 * split into strings of at most 255 bytes, inside ( ) when there are
 * several. *line is malloc'ed. Returns 0 or -ENOMEM. */
int dkim_record_line(const char *domain, const char *selector, const char *value, char **line);

/* What dkim_record_check learned from a record. */
struct dkim_record {
	enum dkim_algo algo;
	int bits;          /* key size; 256 for Ed25519 */
	bool revoked;      /* empty p= (RFC 6376 §3.6.1) */
	bool testing;      /* t=y */
	EVP_PKEY *pubkey;  /* NULL unless p= decoded to a usable key */
};

/* Checks a record value (the TXT strings concatenated) against RFC 6376
 * §3.6.1 (v first and DKIM1, k, h, s, t, p as base64, unknown tags
 * ignored), RFC 8301 (RSA >= 1024 bits required, >= 2048 advised) and
 * RFC 8463 (an Ed25519 key is 32 bytes). Findings go to f; rec (may be
 * NULL) receives the key. Returns 0 when the record is usable (errors
 * absent), MX_ESYNTAX when an error was found, -ENOMEM. Always clean rec. */
int dkim_record_check(const char *value, size_t len, struct findings *f,
		      struct dkim_record *rec);
void dkim_record_cleanup(struct dkim_record *rec);

/* Decodes base64 (RFC 4648 §4, padding required; whitespace skipped, as
 * RFC 6376 §3.6.1 allows FWS inside p=). *out is malloc'ed (NULL and 0 for
 * empty input). Returns 0 or MX_ESYNTAX. */
int dkim_base64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);

/* Loads a key from a file: PEM private key (PKCS#8 or PKCS#1), PEM public
 * key, or one line of base64 holding a raw Ed25519 private key (the 32-byte
 * seed, as dkimpy takes it, or the 64-byte seed||public form). *is_private
 * tells which. err receives a one-line reason on failure. Returns 0,
 * MX_ESYNTAX, MX_ENOTFOUND or -errno. */
int dkim_key_load(const char *path, EVP_PKEY **key, bool *is_private, char *err, size_t errcap);

/* The raw 32-byte Ed25519 seed as base64 (44 chars, NUL-terminated);
 * out needs 45 bytes. Returns 0 or MX_EINVAL (not an Ed25519 private key). */
int dkim_ed25519_seed_b64(EVP_PKEY *key, char *out, size_t cap);

/* The key files written for a selector (see tools/dkim.c's header):
 * kind[i] names path[i] in --json ("private", "ed25519_seed", "record"). */
#define DKIM_KEY_FILES_MAX 3
struct dkim_key_files {
	size_t n;
	const char *kind[DKIM_KEY_FILES_MAX];
	char path[DKIM_KEY_FILES_MAX][4096];
};

/* Writes key's files for selector into dir: S.private (PKCS#8 PEM, mode
 * 0600), for Ed25519 also S.ed25519 (the base64 seed, 0600), and when
 * record is not NULL S.txt holding it (0644), in that order so that a
 * record never lies beside a missing key. Each file is fsynced; none is
 * ever seen half-written. Without force an existing file is refused before
 * anything is written (MX_EEXIST); with force each one is replaced
 * atomically. files (may be NULL) receives the paths; err one line.
 * Returns 0, MX_EEXIST, MX_EINVAL (dir is not a directory), MX_ECRYPTO,
 * -ENOMEM or -errno. */
int dkim_key_write(const char *dir, const char *selector, EVP_PKEY *key, const char *record,
		   bool force, struct dkim_key_files *files, char *err, size_t errcap);

/* The values of --algo (rsa or ed25519) and --bits (1024, 2048, 3072 or
 * 4096), for keygen and rotate. Return 0, or MX_EINVAL after one line on
 * stderr naming the option. */
int dkim_algo_arg(const char *v, enum dkim_algo *algo);
int dkim_bits_arg(const char *v, int *bits);

int cmd_dkim(int argc, char **argv);

#endif
