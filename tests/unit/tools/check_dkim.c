/* Unit tests for tools/dkim: record building (RSA vs Ed25519, string
 * splitting), record checks (tags, base64, key sizes), key files and the
 * keygen command's refusal to overwrite. */
#include "cmd.h"
#include "dkim.h"
#include "errcode.h"
#include "findings.h"
#include "txtrec.h"

#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static EVP_PKEY *rsa2048, *ed;

static void setup_keys(void)
{
	if (rsa2048 == NULL) {
		ck_assert_int_eq(dkim_keygen(DKIM_ALGO_RSA, 2048, &rsa2048), 0);
		ck_assert_int_eq(dkim_keygen(DKIM_ALGO_ED25519, 0, &ed), 0);
	}
}

/* Runs dkim_record_check and returns the number of errors. */
static size_t check(const char *value, struct findings *f, struct dkim_record *rec)
{
	findings_init(f);
	dkim_record_check(value, strlen(value), f, rec);
	return findings_count(f, FINDING_ERROR);
}

START_TEST(rsa_record)
{
	char *value, *line;
	struct findings f;
	struct dkim_record rec;

	setup_keys();
	ck_assert_int_eq(dkim_record_value(rsa2048, &value), 0);
	ck_assert(strncmp(value, "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 49) == 0);
	ck_assert_uint_eq(check(value, &f, &rec), 0);
	ck_assert_int_eq(rec.algo, DKIM_ALGO_RSA);
	ck_assert_int_eq(rec.bits, 2048);
	ck_assert_int_eq(EVP_PKEY_eq(rec.pubkey, rsa2048), 1);
	dkim_record_cleanup(&rec);

	/* 2048-bit: ~410 bytes, so two strings inside ( ) */
	ck_assert_int_eq(dkim_record_line("example.com", "s1", value, &line), 0);
	ck_assert(strncmp(line, "s1._domainkey.example.com. 3600 IN TXT ( \"v=DKIM1;", 49) == 0);
	{
		char *inner = strchr(line, '('), back[1024];
		size_t n;
		ck_assert_ptr_nonnull(inner);
		ck_assert_int_eq(txtrec_join(inner, back, sizeof(back), &n), 0);
		ck_assert_str_eq(back, value);
		ck_assert_uint_eq(txtrec_count(n), 2);
	}
	free(line);
	free(value);
}
END_TEST

START_TEST(ed25519_record)
{
	char *value, *line;
	struct findings f;
	struct dkim_record rec;
	unsigned char raw[32], *dec;
	size_t rawlen = sizeof(raw), declen;

	setup_keys();
	ck_assert_int_eq(dkim_record_value(ed, &value), 0);
	ck_assert(strncmp(value, "v=DKIM1; k=ed25519; p=", 22) == 0);
	/* RFC 8463 §4.2: p= is the raw 32-byte key, not SubjectPublicKeyInfo */
	ck_assert_uint_eq(strlen(value + 22), 44);
	ck_assert_int_eq(dkim_base64_decode(value + 22, 44, &dec, &declen), 0);
	ck_assert_uint_eq(declen, 32);
	EVP_PKEY_get_raw_public_key(ed, raw, &rawlen);
	ck_assert(memcmp(dec, raw, 32) == 0);
	free(dec);
	ck_assert_uint_eq(check(value, &f, &rec), 0);
	ck_assert_int_eq(rec.algo, DKIM_ALGO_ED25519);
	ck_assert_int_eq(EVP_PKEY_eq(rec.pubkey, ed), 1);
	dkim_record_cleanup(&rec);
	ck_assert_int_eq(dkim_record_line("example.com", "e", value, &line), 0);
	ck_assert(strchr(line, '(') == NULL); /* one string */
	free(line);
	free(value);
}
END_TEST

START_TEST(rsa_sizes)
{
	EVP_PKEY *k1024, *k512;
	char *v;
	struct findings f;

	ck_assert_int_eq(dkim_keygen(DKIM_ALGO_RSA, 1024, &k1024), 0);
	ck_assert_int_eq(dkim_record_value(k1024, &v), 0);
	ck_assert_uint_eq(check(v, &f, NULL), 0);
	ck_assert(findings_has(&f, FINDING_WARN, "1024 bits"));
	free(v);
	ck_assert_int_eq(dkim_keygen(DKIM_ALGO_RSA, 512, &k512), MX_EINVAL);
	k512 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	ck_assert_ptr_nonnull(k512);
	ck_assert_int_eq(dkim_record_value(k512, &v), 0);
	ck_assert_uint_eq(check(v, &f, NULL), 1);
	ck_assert(findings_has(&f, FINDING_ERROR, "under 1024"));
	free(v);
	EVP_PKEY_free(k1024);
	EVP_PKEY_free(k512);
}
END_TEST

/* value with the real p= of the RSA key substituted for %s */
static char *with_p(const char *fmt)
{
	char *v, *out;

	dkim_record_value(rsa2048, &v);
	ck_assert_int_ge(asprintf(&out, fmt, strstr(v, "p=") + 2), 0);
	free(v);
	return out;
}

static void expect(const char *fmt, enum finding_level level, const char *needle)
{
	struct findings f;
	char *v = with_p(fmt);

	check(v, &f, NULL);
	ck_assert_msg(findings_has(&f, level, needle), "'%s': no finding with '%s'", fmt, needle);
	if (level != FINDING_ERROR)
		ck_assert_msg(findings_count(&f, FINDING_ERROR) == 0, "'%s': unexpected error",
			      fmt);
	free(v);
}

START_TEST(bad_tags)
{
	setup_keys();
	expect("k=rsa; v=DKIM1; p=%s", FINDING_ERROR, "first tag");
	expect("v=DKIM2; p=%s", FINDING_ERROR, "DKIM1");
	expect("v=DKIM1; k=rsa; k=rsa; p=%s", FINDING_ERROR, "twice");
	expect("v=DKIM1; k=dsa; p=%s", FINDING_ERROR, "unknown key type");
	expect("v=DKIM1; h=sha1; p=%s", FINDING_ERROR, "sha256");
	expect("v=DKIM1; h=sha1:sha256; p=%s", FINDING_WARN, "sha1");
	expect("v=DKIM1; s=foo; p=%s", FINDING_ERROR, "email");
	expect("v=DKIM1; s=email; t=y; p=%s", FINDING_WARN, "testing");
	expect("v=DKIM1; x=whatever; p=%s", FINDING_NOTE, "unknown tag 'x'");
	expect("p=%s", FINDING_NOTE, "v=DKIM1");
	expect("v=DKIM1; k=ed25519; p=%s", FINDING_ERROR, "32 bytes");
	expect("v=DKIM1; p=%s=", FINDING_ERROR, "base64");
	expect("v=DKIM1; k=rsa; p:%s", FINDING_ERROR, "tag list");
	expect("v=DKIM1; k=rsa %s", FINDING_ERROR, "unknown key type");
}
END_TEST

START_TEST(bad_p)
{
	struct findings f;
	struct dkim_record rec;

	ck_assert_uint_eq(check("v=DKIM1; k=rsa; p=", &f, &rec), 1);
	ck_assert(rec.revoked);
	ck_assert(findings_has(&f, FINDING_ERROR, "revoked"));
	ck_assert_uint_eq(check("v=DKIM1; k=rsa", &f, NULL), 1);
	ck_assert(findings_has(&f, FINDING_ERROR, "missing"));
	ck_assert_uint_eq(check("v=DKIM1; p=!!!!", &f, NULL), 1);
	ck_assert(findings_has(&f, FINDING_ERROR, "base64"));
	ck_assert_uint_eq(check("v=DKIM1; p=abc", &f, NULL), 1);
	ck_assert(findings_has(&f, FINDING_ERROR, "base64"));
	ck_assert_uint_eq(check("v=DKIM1; p=YWJjZA==", &f, NULL), 1);
	ck_assert(findings_has(&f, FINDING_ERROR, "not a DER public key"));
	/* an Ed25519 key published under k=rsa */
	ck_assert_uint_eq(check("v=DKIM1; k=rsa; p=MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=", &f, NULL), 1);
	ck_assert(findings_has(&f, FINDING_ERROR, "k=rsa"));
}
END_TEST

START_TEST(p_with_whitespace)
{
	struct findings f;
	char *v, *spaced;
	size_t n = 0;

	setup_keys();
	dkim_record_value(rsa2048, &v);
	spaced = malloc(strlen(v) * 2 + 1);
	for (const char *p = v; *p; p++) {
		spaced[n++] = *p;
		if (p > strstr(v, "p=") + 2 && (p - v) % 50 == 0)
			spaced[n++] = ' '; /* FWS inside p= (RFC 6376 §3.6.1) */
	}
	spaced[n] = '\0';
	ck_assert_uint_eq(check(spaced, &f, NULL), 0);
	free(spaced);
	free(v);
}
END_TEST

START_TEST(base64)
{
	unsigned char *out;
	size_t n;

	ck_assert_int_eq(dkim_base64_decode("", 0, &out, &n), 0);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(dkim_base64_decode("YQ==", 4, &out, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], 'a');
	free(out);
	ck_assert_int_eq(dkim_base64_decode("Y Q\n= =", 7, &out, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(out);
	ck_assert_int_eq(dkim_base64_decode("YWJj", 4, &out, &n), 0);
	ck_assert_uint_eq(n, 3);
	free(out);
	ck_assert_int_eq(dkim_base64_decode("YQ=", 3, &out, &n), MX_ESYNTAX);
	ck_assert_int_eq(dkim_base64_decode("YQ==YQ==", 8, &out, &n), MX_ESYNTAX);
	ck_assert_int_eq(dkim_base64_decode("Y===", 4, &out, &n), MX_ESYNTAX);
	ck_assert_int_eq(dkim_base64_decode("YW-j", 4, &out, &n), MX_ESYNTAX);
}
END_TEST

static char tmpdir[64];

static void write_text(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int load(const char *name, EVP_PKEY **k, bool *priv)
{
	char path[128], err[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return dkim_key_load(path, k, priv, err, sizeof(err));
}

START_TEST(key_files)
{
	char *argv_rsa[] = {"dkim", "keygen", "--domain", "example.com", "--selector", "s1",
			    "--out", tmpdir, NULL};
	char *argv_ed[] = {"dkim", "keygen", "--domain", "example.com", "--selector", "e1",
			   "--algo", "ed25519", "--out", tmpdir, NULL};
	char *argv_force[] = {"dkim", "keygen", "--domain", "example.com", "--selector", "s1",
			      "--out", tmpdir, "--force", NULL};
	char path[128], seed[64];
	struct stat st, st2;
	EVP_PKEY *k, *k2;
	bool priv;
	FILE *f;

	strcpy(tmpdir, "/tmp/check_dkim.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(cmd_dkim(8, argv_rsa), 0);
	snprintf(path, sizeof(path), "%s/s1.private", tmpdir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* never silently overwritten */
	ck_assert_int_eq(cmd_dkim(8, argv_rsa), 1);
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_int_eq(st.st_ino, st2.st_ino);
	ck_assert_int_eq(load("s1.private", &k, &priv), 0);
	ck_assert(priv);
	ck_assert(EVP_PKEY_is_a(k, "RSA"));
	ck_assert_int_eq(cmd_dkim(9, argv_force), 0);
	ck_assert_int_eq(load("s1.private", &k2, &priv), 0);
	ck_assert_int_ne(EVP_PKEY_eq(k, k2), 1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);

	ck_assert_int_eq(cmd_dkim(10, argv_ed), 0);
	snprintf(path, sizeof(path), "%s/e1.ed25519", tmpdir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(load("e1.private", &k, &priv), 0);
	ck_assert(EVP_PKEY_is_a(k, "ED25519"));
	ck_assert_int_eq(load("e1.ed25519", &k2, &priv), 0);
	ck_assert(priv);
	ck_assert_int_eq(EVP_PKEY_eq(k, k2), 1); /* both files hold the same key */
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(seed, sizeof(seed), f));
	fclose(f);
	ck_assert_uint_eq(strlen(seed), 45); /* 44 base64 chars + newline */
	EVP_PKEY_free(k2);
	ck_assert_int_eq(dkim_ed25519_seed_b64(k, seed, sizeof(seed)), 0);
	EVP_PKEY_free(k);

	write_text("garbage", "hello world\n");
	ck_assert_int_lt(load("garbage", &k, &priv), 0);
	write_text("short", "YWJj\n");
	ck_assert_int_lt(load("short", &k, &priv), 0);
	write_text("badpem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
	ck_assert_int_lt(load("badpem", &k, &priv), 0);
	ck_assert_int_lt(load("missing", &k, &priv), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dkim");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rsa_record);
	tcase_add_test(tc, ed25519_record);
	tcase_add_test(tc, rsa_sizes);
	tcase_add_test(tc, bad_tags);
	tcase_add_test(tc, bad_p);
	tcase_add_test(tc, p_with_whitespace);
	tcase_add_test(tc, base64);
	tcase_add_test(tc, key_files);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
