/* dkim: DKIM keys and records, and the `mxdns dkim` subcommand.
 *
 * Key files written by keygen and rotate (dkim_key_write; documented in
 * docs/mxdns-dkim.md):
 *   S.private  PKCS#8 PEM ("BEGIN PRIVATE KEY"), RSA or Ed25519, mode 0600:
 *              what opendkim (2.10 RSA, 2.11 Ed25519), rspamd and dkimpy
 *              (RSA) read.
 *   S.ed25519  Ed25519 only: one line, base64 of the 32-byte private seed
 *              (RFC 8032 §5.1.5), mode 0600: what dkimpy's dkim.sign()
 *              takes for ed25519-sha256 (it does not read PEM for Ed25519).
 *   S.txt      the record, as opendkim-genkey writes it beside the key. */
#include "dkim.h"

#include "atomicfile.h"
#include "cmd.h"
#include "dkimrotate.h"
#include "dnsq.h"
#include "errcode.h"
#include "findings.h"
#include "hostarg.h"
#include "json.h"
#include "pubopt.h"
#include "txtrec.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int dkim_keygen(enum dkim_algo algo, int bits, EVP_PKEY **out)
{
	EVP_PKEY *key = NULL;

	*out = NULL;
	if (algo == DKIM_ALGO_RSA) {
		if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096)
			return MX_EINVAL;
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
	if (key == NULL)
		return MX_ECRYPTO;
	*out = key;
	return 0;
}

static char *base64_encode(const unsigned char *data, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s != NULL)
		EVP_EncodeBlock((unsigned char *)s, data, (int)len);
	return s;
}

int dkim_record_value(EVP_PKEY *key, char **value)
{
	unsigned char *der = NULL, raw[32];
	size_t rawlen = sizeof(raw);
	char *b64 = NULL, *v = NULL;
	const char *k;
	int len, ret = MX_ECRYPTO;

	*value = NULL;
	if (EVP_PKEY_is_a(key, "RSA")) {
		/* RFC 6376 §3.6.1 says RSAPublicKey, but every signer and
		 * verifier (opendkim, dkimpy, rspamd) uses SubjectPublicKeyInfo,
		 * which is what opendkim-genkey publishes. */
		k = "rsa";
		len = i2d_PUBKEY(key, &der);
		if (len <= 0)
			goto fail;
		b64 = base64_encode(der, (size_t)len);
	} else if (EVP_PKEY_is_a(key, "ED25519")) {
		/* RFC 8463 §4.2: p= is the raw 32-byte public key, no ASN.1. */
		k = "ed25519";
		if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != 32)
			goto fail;
		b64 = base64_encode(raw, rawlen);
	} else {
		ret = MX_EINVAL;
		goto fail;
	}
	if (b64 == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	if (asprintf(&v, "v=DKIM1; k=%s; p=%s", k, b64) < 0) {
		ret = -ENOMEM;
		goto fail;
	}
	*value = v;
	ret = 0;
fail:
	OPENSSL_free(der);
	free(b64);
	return ret;
}

int dkim_record_line(const char *domain, const char *selector, const char *value, char **line)
{
	size_t len = strlen(value);
	/* worst case: every byte \DDD, plus quotes and separators per string */
	size_t cap = len * 4 + txtrec_count(len) * 3 + 1;
	char *strs = malloc(cap);
	int n, ret = -ENOMEM;

	*line = NULL;
	if (strs == NULL)
		goto fail;
	n = txtrec_format(value, len, " ", strs, cap);
	if (n < 0) {
		ret = n;
		goto fail;
	}
	if (txtrec_count(len) > 1)
		n = asprintf(line, "%s._domainkey.%s. %d IN TXT ( %s )", selector, domain,
			     DKIM_TTL, strs);
	else
		n = asprintf(line, "%s._domainkey.%s. %d IN TXT %s", selector, domain, DKIM_TTL,
			     strs);
	if (n < 0) {
		*line = NULL;
		goto fail;
	}
	ret = 0;
fail:
	free(strs);
	return ret;
}

static int is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int dkim_base64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
	char *clean = NULL;
	unsigned char *bin = NULL;
	size_t n = 0, pad = 0;
	int got, ret = MX_ESYNTAX;

	*out = NULL;
	*outlen = 0;
	clean = malloc(len + 1);
	if (clean == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
		} else if (!is_b64(c) || pad > 0) {
			goto fail; /* a bad byte, or data after padding */
		}
		clean[n++] = (char)c;
	}
	if (n == 0) {
		ret = 0;
		goto fail;
	}
	if (n % 4 != 0 || pad > 2)
		goto fail;
	bin = malloc(n / 4 * 3 + 1);
	if (bin == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	got = EVP_DecodeBlock(bin, (unsigned char *)clean, (int)n);
	if (got < 0 || (size_t)got < pad)
		goto fail;
	*out = bin;
	*outlen = (size_t)got - pad; /* DecodeBlock counts padding as zero bytes */
	bin = NULL;
	ret = 0;
fail:
	free(bin);
	free(clean);
	return ret;
}

/* Whether a colon-separated list (h=, s=, t=) holds item. */
static int list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (*p) {
		const char *e;
		while (*p == ' ' || *p == '\t' || *p == ':')
			p++;
		e = p;
		while (*e && *e != ':' && *e != ' ' && *e != '\t')
			e++;
		if ((size_t)(e - p) == n && strncmp(p, item, n) == 0)
			return 1;
		p = e;
	}
	return 0;
}

static EVP_PKEY *decode_rsa(const unsigned char *der, size_t len, struct findings *f)
{
	const unsigned char *p = der;
	EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);

	if (key != NULL && p != der + len) {
		findings_add(f, FINDING_ERROR, "tag p: %zu bytes of junk after the key",
			     (size_t)(der + len - p));
		EVP_PKEY_free(key);
		return NULL;
	}
	if (key == NULL) {
		p = der;
		key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
		if (key != NULL)
			findings_add(f, FINDING_WARN,
				     "tag p: a bare RSAPublicKey, not SubjectPublicKeyInfo; "
				     "some verifiers (opendkim) reject it");
	}
	if (key == NULL)
		findings_add(f, FINDING_ERROR, "tag p: not a DER public key");
	else if (!EVP_PKEY_is_a(key, "RSA")) {
		findings_add(f, FINDING_ERROR, "tag p: holds a %s key but k=rsa",
			     EVP_PKEY_get0_type_name(key));
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

int dkim_record_check(const char *value, size_t len, struct findings *f, struct dkim_record *rec)
{
	struct txtrec_tags tags;
	struct dkim_record local;
	const struct txtrec_tag *t;
	unsigned char *der = NULL;
	size_t derlen = 0;
	size_t errors_before = findings_count(f, FINDING_ERROR);
	int ret = 0;

	if (rec == NULL)
		rec = &local;
	memset(rec, 0, sizeof(*rec));
	ret = txtrec_tags_parse(value, len, &tags);
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0) {
		findings_add(f, FINDING_ERROR, "not a tag list: %s", tags.err);
		goto out;
	}
	/* RFC 6376 §3.6.1 v=: if present, first and exactly DKIM1, or the
	 * record is discarded. */
	t = txtrec_tags_get(&tags, "v");
	if (t == NULL)
		findings_add(f, FINDING_NOTE, "no v=DKIM1 (optional, but advised)");
	else if (t != &tags.tag[0])
		findings_add(f, FINDING_ERROR, "tag v: must be the first tag (RFC 6376 §3.6.1)");
	else if (strcmp(t->value, "DKIM1") != 0)
		findings_add(f, FINDING_ERROR, "tag v: '%s', must be DKIM1", t->value);

	t = txtrec_tags_get(&tags, "k");
	if (t == NULL || strcmp(t->value, "rsa") == 0) {
		rec->algo = DKIM_ALGO_RSA;
	} else if (strcmp(t->value, "ed25519") == 0) {
		rec->algo = DKIM_ALGO_ED25519;
	} else {
		findings_add(f, FINDING_ERROR, "tag k: unknown key type '%s' (rsa or ed25519)",
			     t->value);
		ret = MX_ESYNTAX;
		goto out;
	}

	/* h= restricts the hashes; RFC 8301 §3.1 forbids verifying rsa-sha1,
	 * so a key limited to sha1 is dead. */
	t = txtrec_tags_get(&tags, "h");
	if (t != NULL && !list_has(t->value, "sha256"))
		findings_add(f, FINDING_ERROR,
			     "tag h: '%s' does not allow sha256 (sha1 is forbidden by RFC 8301)",
			     t->value);
	else if (t != NULL && list_has(t->value, "sha1"))
		findings_add(f, FINDING_WARN, "tag h: lists sha1, which RFC 8301 forbids");

	t = txtrec_tags_get(&tags, "s");
	if (t != NULL && !list_has(t->value, "*") && !list_has(t->value, "email"))
		findings_add(f, FINDING_ERROR,
			     "tag s: '%s' does not include email or *, the key cannot sign mail",
			     t->value);

	t = txtrec_tags_get(&tags, "t");
	if (t != NULL && list_has(t->value, "y")) {
		rec->testing = true;
		findings_add(f, FINDING_WARN,
			     "tag t: y (testing mode), verifiers treat failures as unsigned");
	}

	for (size_t i = 0; i < tags.count; i++) {
		static const char *known[] = {"v", "h", "k", "n", "p", "s", "t"};
		bool is_known = false;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(tags.tag[i].name, known[k]) == 0)
				is_known = true;
		if (!is_known)
			findings_add(f, FINDING_NOTE, "unknown tag '%s' ignored (RFC 6376 §3.6.1)",
				     tags.tag[i].name);
	}

	t = txtrec_tags_get(&tags, "p");
	if (t == NULL) {
		findings_add(f, FINDING_ERROR, "tag p: missing (it is required)");
		goto out;
	}
	ret = dkim_base64_decode(t->value, strlen(t->value), &der, &derlen);
	if (ret == -ENOMEM)
		goto out;
	ret = 0;
	if (der == NULL && derlen == 0 && t->value[strspn(t->value, " \t\r\n")] == '\0') {
		rec->revoked = true;
		findings_add(f, FINDING_ERROR, "tag p: empty, the key is revoked");
		goto out;
	}
	if (der == NULL) {
		findings_add(f, FINDING_ERROR, "tag p: not valid base64");
		goto out;
	}
	if (rec->algo == DKIM_ALGO_RSA) {
		rec->pubkey = decode_rsa(der, derlen, f);
		if (rec->pubkey == NULL)
			goto out;
		rec->bits = EVP_PKEY_get_bits(rec->pubkey);
		/* RFC 8301 §3.2: verifiers MUST NOT accept keys under 1024
		 * bits; signers SHOULD use at least 2048. */
		if (rec->bits < 1024)
			findings_add(f, FINDING_ERROR,
				     "RSA key of %d bits: verifiers reject keys under 1024 (RFC 8301)",
				     rec->bits);
		else if (rec->bits < 2048)
			findings_add(f, FINDING_WARN,
				     "RSA key of %d bits: 2048 or more is advised (RFC 8301 §3.2)",
				     rec->bits);
	} else {
		if (derlen != 32) {
			findings_add(f, FINDING_ERROR,
				     "tag p: an Ed25519 key is 32 bytes, this one is %zu (RFC 8463)",
				     derlen);
			goto out;
		}
		rec->pubkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, derlen);
		if (rec->pubkey == NULL) {
			findings_add(f, FINDING_ERROR, "tag p: not a usable Ed25519 key");
			goto out;
		}
		rec->bits = 256;
	}
out:
	free(der);
	txtrec_tags_cleanup(&tags);
	if (rec == &local)
		dkim_record_cleanup(rec);
	if (ret == 0 && findings_count(f, FINDING_ERROR) > errors_before)
		ret = MX_ESYNTAX;
	return ret;
}

void dkim_record_cleanup(struct dkim_record *rec)
{
	EVP_PKEY_free(rec->pubkey);
	rec->pubkey = NULL;
}

#define KEYFILE_MAX 65536

static int read_small_file(const char *path, char **data, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int ret;

	*data = NULL;
	if (fp == NULL)
		return -errno;
	buf = malloc(KEYFILE_MAX + 1);
	if (buf == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	n = fread(buf, 1, KEYFILE_MAX + 1, fp);
	if (ferror(fp)) {
		ret = -EIO;
		goto fail;
	}
	if (n > KEYFILE_MAX) {
		ret = MX_ELIMIT;
		goto fail;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	fclose(fp);
	return 0;
fail:
	free(buf);
	fclose(fp);
	return ret;
}

int dkim_key_load(const char *path, EVP_PKEY **key, bool *is_private, char *err, size_t errcap)
{
	char *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	int ret;

	*key = NULL;
	ret = read_small_file(path, &data, &len);
	if (ret < 0) {
		snprintf(err, errcap, "%s: %s", path,
			 ret == MX_ELIMIT ? "too large for a key file" : strerror(-ret));
		goto fail;
	}
	ret = MX_ESYNTAX;
	if (strstr(data, "-----BEGIN") != NULL) {
		bio = BIO_new_mem_buf(data, (int)len);
		if (bio == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		*is_private = true;
		if (k == NULL) {
			BIO_reset(bio);
			k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
			*is_private = false;
		}
		if (k == NULL) {
			snprintf(err, errcap, "%s: no PEM private or public key that OpenSSL reads",
				 path);
			goto fail;
		}
	} else {
		/* A raw Ed25519 key: the 32-byte seed (dkimpy) or the 64-byte
		 * seed||public pair (NaCl, rspamadm). */
		size_t end = len;
		while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r' ||
				   data[end - 1] == ' '))
			end--;
		if (memchr(data, '\n', end) != NULL ||
		    dkim_base64_decode(data, end, &raw, &rawlen) != 0 ||
		    (rawlen != 32 && rawlen != 64)) {
			snprintf(err, errcap,
				 "%s: neither PEM nor one line of base64 holding a 32-byte "
				 "Ed25519 private key",
				 path);
			goto fail;
		}
		k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
		*is_private = true;
		if (k == NULL) {
			snprintf(err, errcap, "%s: not a usable Ed25519 private key", path);
			goto fail;
		}
		if (rawlen == 64) {
			unsigned char pub[32];
			size_t publen = sizeof(pub);
			if (EVP_PKEY_get_raw_public_key(k, pub, &publen) != 1 ||
			    memcmp(pub, raw + 32, 32) != 0) {
				snprintf(err, errcap,
					 "%s: the 64-byte Ed25519 key's public half does not "
					 "match its seed",
					 path);
				goto fail;
			}
		}
	}
	if (!EVP_PKEY_is_a(k, "RSA") && !EVP_PKEY_is_a(k, "ED25519")) {
		snprintf(err, errcap, "%s: a %s key; DKIM uses RSA or Ed25519", path,
			 EVP_PKEY_get0_type_name(k));
		ret = MX_EINVAL;
		goto fail;
	}
	*key = k;
	k = NULL;
	ret = 0;
fail:
	EVP_PKEY_free(k);
	BIO_free(bio);
	if (raw)
		OPENSSL_cleanse(raw, rawlen);
	free(raw);
	if (data)
		OPENSSL_cleanse(data, len);
	free(data);
	return ret;
}

int dkim_ed25519_seed_b64(EVP_PKEY *key, char *out, size_t cap)
{
	unsigned char seed[32];
	size_t len = sizeof(seed);

	if (cap < 45 || !EVP_PKEY_is_a(key, "ED25519") ||
	    EVP_PKEY_get_raw_private_key(key, seed, &len) != 1 || len != 32)
		return MX_EINVAL;
	EVP_EncodeBlock((unsigned char *)out, seed, 32);
	OPENSSL_cleanse(seed, sizeof(seed));
	return 0;
}

/* ---- key files ---- */

static char *pem_private(EVP_PKEY *key, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem, *out = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	/* PKCS#8 for both key types: OpenSSL 3's default for this call. */
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
		n = BIO_get_mem_data(bio, &mem);
		out = malloc((size_t)n + 1);
		if (out != NULL) {
			memcpy(out, mem, (size_t)n);
			out[n] = '\0';
			*len = (size_t)n;
		}
	}
	BIO_free(bio);
	return out;
}

int dkim_key_write(const char *dir, const char *selector, EVP_PKEY *key, const char *record,
		   bool force, struct dkim_key_files *files, char *err, size_t errcap)
{
	struct dkim_key_files local;
	struct {
		const char *data;
		size_t len;
		mode_t mode;
	} data[DKIM_KEY_FILES_MAX];
	char seed[64], *pem = NULL;
	struct stat st;
	bool ed25519 = EVP_PKEY_is_a(key, "ED25519");
	int ret = MX_EINVAL;

	if (files == NULL)
		files = &local;
	memset(files, 0, sizeof(*files));
	memset(data, 0, sizeof(data));
	seed[0] = '\0';
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errcap, "%s: not a directory", dir);
		goto done;
	}
	/* keys first, the record last: a record file without its key would
	 * invite publishing a key nobody can sign with */
	files->kind[files->n] = "private";
	snprintf(files->path[files->n], sizeof(files->path[0]), "%s/%s.private", dir, selector);
	data[files->n++].mode = 0600;
	if (ed25519) {
		files->kind[files->n] = "ed25519_seed";
		snprintf(files->path[files->n], sizeof(files->path[0]), "%s/%s.ed25519", dir,
			 selector);
		data[files->n++].mode = 0600;
	}
	if (record) {
		files->kind[files->n] = "record";
		snprintf(files->path[files->n], sizeof(files->path[0]), "%s/%s.txt", dir, selector);
		data[files->n].data = record;
		data[files->n].len = strlen(record);
		data[files->n++].mode = 0644;
	}
	/* Refuse before writing anything, so no file set is half-written
	 * because the second name was taken. */
	for (size_t i = 0; i < files->n && !force; i++) {
		if (lstat(files->path[i], &st) == 0) {
			snprintf(err, errcap, "%s exists; not overwriting a key (use --force)",
				 files->path[i]);
			ret = MX_EEXIST;
			goto done;
		}
	}
	ret = MX_ECRYPTO;
	if (!(data[0].data = pem = pem_private(key, &data[0].len))) {
		snprintf(err, errcap, "cannot encode the private key (OpenSSL)");
		goto done;
	}
	if (ed25519) {
		/* the form dkimpy's dkim.sign() takes for ed25519-sha256 */
		if (dkim_ed25519_seed_b64(key, seed, sizeof(seed)) < 0) {
			snprintf(err, errcap, "cannot encode the Ed25519 seed (OpenSSL)");
			goto done;
		}
		strcat(seed, "\n");
		data[1].data = seed;
		data[1].len = strlen(seed);
	}
	for (size_t i = 0; i < files->n; i++)
		if ((ret = atomicfile_write(files->path[i], data[i].data, data[i].len, data[i].mode,
					    force, err, errcap)) < 0)
			goto done;
	ret = 0;
done:
	if (pem) {
		OPENSSL_cleanse(pem, data[0].len);
		free(pem);
	}
	OPENSSL_cleanse(seed, sizeof(seed));
	return ret;
}

/* ---- the subcommand ---- */

int dkim_algo_arg(const char *v, enum dkim_algo *algo)
{
	if (strcmp(v, "rsa") == 0) {
		*algo = DKIM_ALGO_RSA;
	} else if (strcmp(v, "ed25519") == 0) {
		*algo = DKIM_ALGO_ED25519;
	} else {
		fprintf(stderr, "mxdns dkim: --algo: '%s' (want rsa or ed25519)\n", v);
		return MX_EINVAL;
	}
	return 0;
}

int dkim_bits_arg(const char *v, int *bits)
{
	char *end;
	long b = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || (b != 1024 && b != 2048 && b != 3072 && b != 4096)) {
		fprintf(stderr, "mxdns dkim: --bits: '%s' (want 1024, 2048, 3072 or 4096)\n", v);
		return MX_EINVAL;
	}
	*bits = (int)b;
	return 0;
}

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns dkim keygen --domain D --selector S [--algo rsa|ed25519]\n"
		"                         [--bits 1024|2048|3072|4096] [--out DIR] [--force]\n"
		"                         [--zone FILE|NAME [PUBLISH OPTIONS]] [--json]\n"
		"       mxdns dkim record --key FILE --domain D --selector S\n"
		"                         [--zone FILE|NAME [PUBLISH OPTIONS]] [--json]\n"
		"       mxdns dkim check --domain D --selector S [--key FILE] [--server ADDR@PORT]\n"
		"                        [--record TEXT] [--json]\n"
		"       mxdns dkim rotate|list ...  (see mxdns dkim rotate --help)\n"
		"\n"
		"keygen  makes a key (RSA 2048 bits by default) and writes, in DIR (default .):\n"
		"          S.private  the private key, PKCS#8 PEM (\"BEGIN PRIVATE KEY\"), mode 0600;\n"
		"                     read by opendkim (RSA; Ed25519 from 2.11), rspamd, dkimpy (RSA)\n"
		"          S.ed25519  Ed25519 only: one line, base64 of the 32-byte private seed,\n"
		"                     mode 0600; the form dkimpy's dkim.sign() takes for Ed25519\n"
		"          S.txt      the DNS record, as opendkim-genkey writes it\n"
		"        and prints the record S._domainkey.D. (TXT, strings of at most 255 bytes).\n"
		"        An existing file is never overwritten unless --force is given.\n"
		"record  prints the record for an existing key (PEM private or public key, or an\n"
		"        S.ed25519 file).\n"
		"check   looks up S._domainkey.D (system resolver, or --server; or takes --record\n"
		"        TEXT), checks its tags, base64, key type and size (RFC 6376, 8301, 8463)\n"
		"        and, with --key, that it matches the private key.\n"
		"\n"
		"With --zone, keygen (after writing the key files) and record put the record\n"
		"into the zone instead of printing it, replacing the selector's v=DKIM1 record,\n"
		"and the running mxdnsd reloads the zone. --force then also publishes despite\n"
		"the mail checks. --dry-run shows the zone diff and writes no file at all.\n"
		"publish options:\n");
	pubopt_usage(f, true);
	fprintf(f, "exit: 0 ok, 1 the check failed or publishing was refused, 2 usage or runtime "
		   "error\n");
	return code;
}

enum { OPT_DOMAIN = 256, OPT_SELECTOR, OPT_ALGO, OPT_BITS, OPT_OUT, OPT_JSON, OPT_KEY,
       OPT_SERVER, OPT_RECORD, OPT_HELP };

static const struct option options[] = {
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"selector", required_argument, NULL, OPT_SELECTOR},
	{"algo", required_argument, NULL, OPT_ALGO},
	{"bits", required_argument, NULL, OPT_BITS},
	{"out", required_argument, NULL, OPT_OUT},
	{"json", no_argument, NULL, OPT_JSON},
	{"key", required_argument, NULL, OPT_KEY},
	{"server", required_argument, NULL, OPT_SERVER},
	{"record", required_argument, NULL, OPT_RECORD},
	{"help", no_argument, NULL, OPT_HELP},
	PUBOPT_OPTION_ZONE,
	PUBOPT_OPTIONS,
	{NULL, 0, NULL, 0},
};

struct args {
	const char *verb;
	char domain[HOSTARG_MAX];
	char selector[HOSTARG_MAX];
	char owner[HOSTARG_MAX * 2 + 16]; /* S._domainkey.D. */
	enum dkim_algo algo;
	int bits; /* 0: not given */
	const char *out, *key, *server, *record;
	bool json;
	struct publish_opts po; /* po.force is also keygen's "overwrite the key files" */
};

static int parse_args(int argc, char **argv, struct args *a)
{
	char err[400];
	const char *domain = NULL, *selector = NULL;
	int c;

	memset(a, 0, sizeof(*a));
	a->verb = argv[0];
	a->out = ".";
	a->po.prog = strcmp(a->verb, "keygen") == 0 ? "mxdns dkim keygen" : "mxdns dkim record";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, PUBOPT_SHORT "h", options, NULL)) != -1) {
		if (pubopt_take(&a->po, c, optarg))
			continue;
		switch (c) {
		case OPT_DOMAIN:
			domain = optarg;
			break;
		case OPT_SELECTOR:
			selector = optarg;
			break;
		case OPT_ALGO:
			if (dkim_algo_arg(optarg, &a->algo) < 0)
				return 2;
			break;
		case OPT_BITS:
			if (dkim_bits_arg(optarg, &a->bits) < 0)
				return 2;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_KEY:
			a->key = optarg;
			break;
		case OPT_SERVER:
			a->server = optarg;
			break;
		case OPT_RECORD:
			a->record = optarg;
			break;
		case 'h':
		case OPT_HELP:
			return usage(stdout, 0) - 1; /* -1: help shown, exit 0 */
		default:
			fprintf(stderr, "mxdns dkim %s: unknown or incomplete option '%s' (see --help)\n",
				a->verb, argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxdns dkim %s: unexpected argument '%s' (see --help)\n", a->verb,
			argv[optind]);
		return 2;
	}
	if (domain == NULL || selector == NULL) {
		fprintf(stderr, "mxdns dkim %s: --domain and --selector are required\n", a->verb);
		return 2;
	}
	if (hostarg_parse(domain, "--domain", a->domain, err, sizeof(err)) < 0 ||
	    hostarg_parse(selector, "--selector", a->selector, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dkim %s: %s\n", a->verb, err);
		return 2;
	}
	if (a->algo == DKIM_ALGO_ED25519 && a->bits != 0) {
		fprintf(stderr, "mxdns dkim %s: --bits applies to rsa keys only\n", a->verb);
		return 2;
	}
	if (a->po.zone && strcmp(a->verb, "check") == 0) {
		fprintf(stderr, "mxdns dkim check: --zone is for keygen and record (see --help)\n");
		return 2;
	}
	snprintf(a->owner, sizeof(a->owner), "%s._domainkey.%s.", a->selector, a->domain);
	return 0;
}

static const char *algo_name(EVP_PKEY *key)
{
	return EVP_PKEY_is_a(key, "RSA") ? "rsa" : "ed25519";
}

/* keygen's and record's output: the record printed, or published with
 * --zone; --json says which. files: what keygen wrote (NULL for record). */
static int emit(struct args *a, EVP_PKEY *key, const char *value, const char *line,
		const struct dkim_key_files *files)
{
	struct publish_outcome po;
	int rc = 0;

	memset(&po, 0, sizeof(po));
	po.reload = -1;
	/* RFC 6376 §3.6.2.2: one key record per selector, so the selector's
	 * DKIM1 record is replaced */
	if (a->po.zone)
		rc = pubopt_publish_txt(&a->po, a->owner, value, "v=DKIM1", a->json, &po);
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "domain", a->domain);
		json_kv_str(&j, "selector", a->selector);
		json_kv_str(&j, "algorithm", algo_name(key));
		json_kv_int(&j, "bits", EVP_PKEY_get_bits(key));
		json_kv_str(&j, "value", value);
		json_kv_str(&j, "record", line);
		if (files) {
			json_key(&j, "files");
			json_obj_begin(&j);
			for (size_t i = 0; i < files->n; i++)
				json_kv_str(&j, files->kind[i], files->path[i]);
			json_obj_end(&j);
		}
		if (a->po.zone)
			pubopt_json_published(&j, &a->po, a->owner, rc, &po);
		json_obj_end(&j);
		json_finish(&j);
	} else if (!a->po.zone) {
		printf("%s\n", line);
	}
	pubopt_outcome_cleanup(&po);
	return rc;
}

static int do_keygen(struct args *a)
{
	struct dkim_key_files files;
	EVP_PKEY *key = NULL;
	char *value = NULL, *line = NULL, *txt = NULL;
	char err[4400];
	int bits = a->bits ? a->bits : 2048, ret = 2, r;

	memset(&files, 0, sizeof(files));
	if (a->algo == DKIM_ALGO_RSA && bits < 2048)
		fprintf(stderr, "mxdns dkim keygen: warning: %d-bit RSA keys are weak; 2048 or "
				"more is advised (RFC 8301 §3.2)\n", bits);
	if (dkim_keygen(a->algo, bits, &key) < 0 || dkim_record_value(key, &value) < 0 ||
	    dkim_record_line(a->domain, a->selector, value, &line) < 0) {
		fprintf(stderr, "mxdns dkim keygen: key generation failed (OpenSSL)\n");
		goto done;
	}
	if (asprintf(&txt, "%s ; DKIM %s key %s for %s\n", line, algo_name(key), a->selector,
		     a->domain) < 0) {
		txt = NULL;
		fprintf(stderr, "mxdns dkim keygen: out of memory\n");
		goto done;
	}
	/* the key before the record: a published key nobody holds signs
	 * nothing; a dry run writes no file at all */
	if (!a->po.dry_run) {
		r = dkim_key_write(a->out, a->selector, key, txt, a->po.force, &files, err,
				   sizeof(err));
		if (r < 0) {
			fprintf(stderr, "mxdns dkim keygen: %s\n", err);
			ret = r == MX_EEXIST ? 1 : 2;
			goto done;
		}
		if (!a->json)
			for (size_t i = 0; i < files.n; i++)
				fprintf(stderr, "mxdns dkim keygen: wrote %s\n", files.path[i]);
	}
	ret = emit(a, key, value, line, &files);
	if (ret != 0 && files.n)
		fprintf(stderr, "mxdns dkim keygen: the key files are written; publish the "
				"record later with: mxdns dkim record --key %s --domain %s "
				"--selector %s --zone %s\n",
			files.path[0], a->domain, a->selector, a->po.zone);
done:
	free(txt);
	free(line);
	free(value);
	EVP_PKEY_free(key);
	return ret;
}

static int do_record(struct args *a)
{
	EVP_PKEY *key = NULL;
	bool is_private;
	char *value = NULL, *line = NULL, err[4400];
	int ret = 2;

	if (a->key == NULL) {
		fprintf(stderr, "mxdns dkim record: --key FILE is required\n");
		goto done;
	}
	if (dkim_key_load(a->key, &key, &is_private, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dkim record: %s\n", err);
		goto done;
	}
	if (dkim_record_value(key, &value) < 0 ||
	    dkim_record_line(a->domain, a->selector, value, &line) < 0) {
		fprintf(stderr, "mxdns dkim record: cannot encode the public key\n");
		goto done;
	}
	ret = emit(a, key, value, line, NULL);
done:
	free(line);
	free(value);
	EVP_PKEY_free(key);
	return ret;
}

static int do_check(const struct args *a)
{
	struct dnsq q;
	struct dnsq_answer ans;
	struct findings f;
	struct dkim_record rec;
	EVP_PKEY *key = NULL;
	bool is_private, have_q = false;
	int matches = -1; /* -1 not checked */
	char name[HOSTARG_MAX * 2 + 16], err[4400], *joined = NULL;
	const char *value;
	size_t len;
	int ret = 2, r;

	memset(&ans, 0, sizeof(ans));
	memset(&rec, 0, sizeof(rec));
	findings_init(&f);
	snprintf(name, sizeof(name), "%s._domainkey.%s", a->selector, a->domain);
	if (a->key && dkim_key_load(a->key, &key, &is_private, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dkim check: %s\n", err);
		goto done;
	}
	if (a->record) {
		joined = malloc(strlen(a->record) + 1);
		if (joined == NULL || txtrec_join(a->record, joined, strlen(a->record) + 1, &len) < 0) {
			fprintf(stderr, "mxdns dkim check: --record: bad quoted strings\n");
			goto done;
		}
		value = joined;
	} else {
		if (dnsq_init(&q, a->server) < 0) {
			fprintf(stderr, "mxdns dkim check: %s\n", q.err);
			goto done;
		}
		have_q = true;
		r = dnsq_lookup(&q, name, "TXT", &ans);
		if (r == MX_ENOTFOUND) {
			findings_add(&f, FINDING_ERROR, "%s", q.err);
			goto report;
		}
		if (r < 0) {
			fprintf(stderr, "mxdns dkim check: %s\n", q.err);
			goto done;
		}
		if (ans.count > 1) {
			/* RFC 6376 §3.6.2.2: more than one record gives undefined results */
			findings_add(&f, FINDING_ERROR,
				     "%zu TXT records at %s; there must be exactly one", ans.count,
				     name);
			goto report;
		}
		value = ans.txt[0];
		len = ans.txt_len[0];
	}
	if (strlen(value) != len) {
		findings_add(&f, FINDING_ERROR, "the record holds a NUL byte");
		goto report;
	}
	dkim_record_check(value, len, &f, &rec);
	if (key != NULL && rec.pubkey != NULL) {
		matches = EVP_PKEY_eq(key, rec.pubkey) == 1;
		if (!matches)
			findings_add(&f, FINDING_ERROR, "the published key does not match %s",
				     a->key);
	}
report:
	ret = findings_count(&f, FINDING_ERROR) ? 1 : 0;
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "name", name);
		json_kv_bool(&j, "ok", ret == 0);
		if (ans.count == 1 || a->record) {
			json_key(&j, "value");
			json_strn(&j, a->record ? joined : ans.txt[0], a->record ? len : ans.txt_len[0]);
		}
		if (rec.pubkey) {
			json_kv_str(&j, "algorithm", rec.algo == DKIM_ALGO_RSA ? "rsa" : "ed25519");
			json_kv_int(&j, "bits", rec.bits);
		}
		json_kv_bool(&j, "revoked", rec.revoked);
		json_kv_bool(&j, "testing", rec.testing);
		json_key(&j, "matches_key");
		if (matches < 0)
			json_null(&j);
		else
			json_bool(&j, matches);
		findings_json(&f, &j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		findings_print(&f, stdout, "");
		if (ret == 0)
			printf("ok: %s: %s key of %d bits%s%s\n", name,
			       rec.algo == DKIM_ALGO_RSA ? "RSA" : "Ed25519", rec.bits,
			       matches == 1 ? ", matches " : "", matches == 1 ? a->key : "");
		else
			printf("FAILED: %s\n", name);
	}
done:
	dkim_record_cleanup(&rec);
	dnsq_answer_cleanup(&ans);
	if (have_q)
		dnsq_cleanup(&q);
	EVP_PKEY_free(key);
	free(joined);
	return ret;
}

int cmd_dkim(int argc, char **argv)
{
	struct args a;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
	if (strcmp(argv[1], "rotate") == 0 || strcmp(argv[1], "list") == 0)
		return (argv[1][0] == 'r' ? dkim_rotate_main : dkim_list_main)(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") != 0 && strcmp(argv[1], "record") != 0 &&
	    strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "mxdns dkim: unknown subcommand '%s' (keygen, record, check)\n",
			argv[1]);
		return 2;
	}
	r = parse_args(argc - 1, argv + 1, &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	if (strcmp(a.verb, "keygen") == 0)
		return do_keygen(&a);
	if (strcmp(a.verb, "record") == 0)
		return do_record(&a);
	return do_check(&a);
}
