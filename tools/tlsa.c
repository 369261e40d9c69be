/* tlsa: TLSA records from PEM certificates or keys, and `mxdns tlsa`. */
#include "tlsa.h"

#include "cmd.h"
#include "errcode.h"
#include "hostarg.h"
#include "json.h"
#include "pubopt.h"
#include "zone.h"

#include <errno.h>
#include <getopt.h>
#include <ldns/ldns.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *to_hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

int tlsa_data(X509 *cert, EVP_PKEY *key, int selector, int match, char **hex)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len, ret = MX_ECRYPTO;

	*hex = NULL;
	if ((selector != TLSA_SEL_CERT && selector != TLSA_SEL_SPKI) ||
	    (match < TLSA_MATCH_FULL || match > TLSA_MATCH_SHA512) ||
	    (cert == NULL && (key == NULL || selector != TLSA_SEL_SPKI)))
		return MX_EINVAL;
	if (selector == TLSA_SEL_CERT)
		len = i2d_X509(cert, &der);
	else if (cert != NULL)
		len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	else
		len = i2d_PUBKEY(key, &der); /* the public half, also of a private key */
	if (len <= 0)
		goto fail;
	if (match == TLSA_MATCH_FULL) {
		*hex = to_hex(der, (size_t)len);
	} else {
		const EVP_MD *alg = match == TLSA_MATCH_SHA256 ? EVP_sha256() : EVP_sha512();
		if (EVP_Digest(der, (size_t)len, md, &mdlen, alg, NULL) != 1)
			goto fail;
		*hex = to_hex(md, mdlen);
	}
	ret = *hex ? 0 : -ENOMEM;
fail:
	OPENSSL_free(der);
	return ret;
}

int tlsa_load(const char *path, STACK_OF(X509) **certs, EVP_PKEY **key, char *err, size_t errcap)
{
	BIO *bio = NULL;
	STACK_OF(X509) *st = NULL;
	X509 *x;
	int ret = MX_ESYNTAX;

	*certs = NULL;
	*key = NULL;
	bio = BIO_new_file(path, "r");
	if (bio == NULL) {
		ret = -errno;
		snprintf(err, errcap, "%s: %s", path, ret ? strerror(-ret) : "cannot open");
		if (ret == 0)
			ret = -EIO;
		goto fail;
	}
	st = sk_X509_new_null();
	if (st == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(st, x)) {
			X509_free(x);
			ret = -ENOMEM;
			goto fail;
		}
	}
	if (sk_X509_num(st) > 0) {
		*certs = st;
		st = NULL;
		ret = 0;
		goto fail;
	}
	/* No certificate: a key, for selector 1 (RFC 6698 §2.1.2). */
	BIO_reset(bio);
	*key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (*key == NULL) {
		BIO_reset(bio);
		*key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	}
	if (*key == NULL) {
		snprintf(err, errcap, "%s: no PEM certificate, public key or private key", path);
		goto fail;
	}
	ret = 0;
fail:
	sk_X509_pop_free(st, X509_free);
	BIO_free(bio);
	return ret;
}

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns tlsa --cert FILE --host MX [--port 25] [--proto tcp]\n"
		"                  [--usage 3] [--selector 1] [--match 1]\n"
		"                  [--zone FILE|NAME [PUBLISH OPTIONS]] [--json]\n"
		"\n"
		"Prints the TLSA record _PORT._PROTO.MX. (RFC 6698, RFC 7672 for SMTP) for the\n"
		"certificate in FILE (PEM), in the form `ldns-dane create` prints it.\n"
		"  --usage     0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (default; advised for\n"
		"              SMTP by RFC 7672 §3.1). Usages 1 and 3 take the first certificate\n"
		"              in FILE, usages 0 and 2 the last one (the top of the chain).\n"
		"  --selector  0 the full certificate, 1 its SubjectPublicKeyInfo (default;\n"
		"              survives certificate renewal with the same key). With selector 1\n"
		"              FILE may hold a PEM public or private key instead.\n"
		"  --match     0 the data itself, 1 SHA-256 (default), 2 SHA-512\n"
		"With --zone the record replaces the TLSA RRset of _PORT._PROTO.MX in the zone\n"
		"instead of being printed, and the running mxdnsd reloads the zone. During a\n"
		"key rollover, when the old and the next record must both be served (RFC 7671\n"
		"§8.1), add the next one with mxdns zone add instead.\n"
		"publish options:\n");
	pubopt_usage(f, true);
	fprintf(f, "exit: 0 ok, 1 publishing refused, 2 usage or runtime error\n");
	return code;
}

enum { OPT_CERT = 256, OPT_HOST, OPT_PORT, OPT_PROTO, OPT_USAGE, OPT_SELECTOR, OPT_MATCH,
       OPT_JSON, OPT_HELP };

static const struct option options[] = {
	{"cert", required_argument, NULL, OPT_CERT},
	{"host", required_argument, NULL, OPT_HOST},
	{"port", required_argument, NULL, OPT_PORT},
	{"proto", required_argument, NULL, OPT_PROTO},
	{"usage", required_argument, NULL, OPT_USAGE},
	{"selector", required_argument, NULL, OPT_SELECTOR},
	{"match", required_argument, NULL, OPT_MATCH},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	PUBOPT_OPTION_ZONE,
	PUBOPT_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int small_int(const char *opt, const char *s, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > max) {
		fprintf(stderr, "mxdns tlsa: %s: '%s' (want 0..%d)\n", opt, s, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int cmd_tlsa(int argc, char **argv)
{
	const char *cert_path = NULL, *host_arg = NULL, *proto = "tcp";
	char host[HOSTARG_MAX], err[4400], owner[HOSTARG_MAX + 32], *hex = NULL, *line = NULL;
	int port = 25, use = 3, sel = 1, match = 1, c, ret = 2;
	bool json = false;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	ldns_rr *rr = NULL;
	char *rrstr = NULL, *rdata = NULL;
	struct publish_opts po = {.prog = "mxdns tlsa"};
	struct publish_outcome out;

	memset(&out, 0, sizeof(out));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, PUBOPT_SHORT "h", options, NULL)) != -1) {
		if (pubopt_take(&po, c, optarg))
			continue;
		switch (c) {
		case OPT_CERT:
			cert_path = optarg;
			break;
		case OPT_HOST:
			host_arg = optarg;
			break;
		case OPT_PORT:
			if (small_int("--port", optarg, 65535, &port) < 0)
				return 2;
			break;
		case OPT_PROTO:
			if (strcmp(optarg, "tcp") != 0 && strcmp(optarg, "udp") != 0 &&
			    strcmp(optarg, "sctp") != 0) {
				fprintf(stderr, "mxdns tlsa: --proto: '%s' (want tcp, udp or sctp)\n",
					optarg);
				return 2;
			}
			proto = optarg;
			break;
		case OPT_USAGE:
			if (small_int("--usage", optarg, 3, &use) < 0)
				return 2;
			break;
		case OPT_SELECTOR:
			if (small_int("--selector", optarg, 1, &sel) < 0)
				return 2;
			break;
		case OPT_MATCH:
			if (small_int("--match", optarg, 2, &match) < 0)
				return 2;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
		case OPT_HELP:
			return usage(stdout, 0);
		default:
			fprintf(stderr, "mxdns tlsa: unknown or incomplete option '%s' (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxdns tlsa: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (cert_path == NULL || host_arg == NULL) {
		fprintf(stderr, "mxdns tlsa: --cert FILE and --host NAME are required (see --help)\n");
		return 2;
	}
	if (hostarg_parse(host_arg, "--host", host, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns tlsa: %s\n", err);
		return 2;
	}
	if (tlsa_load(cert_path, &certs, &key, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns tlsa: %s\n", err);
		goto done;
	}
	if (certs != NULL) {
		/* Trust-anchor usages name the top of the chain, end-entity
		 * usages the server's own certificate (RFC 7671 §5). */
		cert = sk_X509_value(certs, (use == 0 || use == 2) ? sk_X509_num(certs) - 1 : 0);
	} else if (sel != TLSA_SEL_SPKI) {
		fprintf(stderr, "mxdns tlsa: %s holds a key, not a certificate; "
				"a key only gives --selector 1\n", cert_path);
		goto done;
	}
	if (tlsa_data(cert, key, sel, match, &hex) < 0) {
		fprintf(stderr, "mxdns tlsa: cannot encode the %s (OpenSSL)\n",
			cert ? "certificate" : "key");
		goto done;
	}
	snprintf(owner, sizeof(owner), "_%d._%s.%s.", port, proto, host);
	if (asprintf(&line, "%s 3600 IN TLSA %d %d %d %s", owner, use, sel, match, hex) < 0) {
		line = NULL;
		goto done;
	}
	/* Printed by ldns itself, so the form is exactly ldns-dane's. */
	if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK ||
	    (rrstr = ldns_rr2str(rr)) == NULL) {
		fprintf(stderr, "mxdns tlsa: cannot build the record for %s\n", owner);
		goto done;
	}
	ret = 0;
	if (po.zone) {
		/* the RRset replaced: the certificate in FILE is the one served */
		if (asprintf(&rdata, "%d %d %d %s", use, sel, match, hex) < 0) {
			rdata = NULL;
			fprintf(stderr, "mxdns tlsa: out of memory\n");
			ret = 2;
			goto done;
		}
		const char *rd[1] = {rdata};
		struct publish_rrs r = {.owner = owner, .type = RR_TLSA, .rdata = rd, .n = 1,
					.replace = true};
		ret = pubopt_publish_records(&po, &r, json, &out);
	}
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "name", owner);
		json_kv_int(&j, "ttl", 3600);
		json_kv_int(&j, "usage", use);
		json_kv_int(&j, "selector", sel);
		json_kv_int(&j, "matching_type", match);
		json_kv_str(&j, "data", hex);
		rrstr[strcspn(rrstr, "\n")] = '\0';
		json_kv_str(&j, "record", rrstr);
		if (po.zone)
			pubopt_json_published(&j, &po, owner, ret, &out);
		json_obj_end(&j);
		json_finish(&j);
	} else if (!po.zone) {
		fputs(rrstr, stdout);
	}
done:
	pubopt_outcome_cleanup(&out);
	free(rdata);
	free(rrstr);
	if (rr)
		ldns_rr_free(rr);
	free(line);
	free(hex);
	EVP_PKEY_free(key);
	sk_X509_pop_free(certs, X509_free);
	return ret;
}
