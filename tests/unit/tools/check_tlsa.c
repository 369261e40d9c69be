/* Unit tests for tools/tlsa: association data from the fixed certificate
 * and key in tests/data/, compared with what the openssl command line
 * computes from the same files (not with values we produced ourselves). */
#include "errcode.h"
#include "tlsa.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERT MXDNS_SOURCE_DIR "/tests/data/tlsa-cert.pem"
#define KEY MXDNS_SOURCE_DIR "/tests/data/tlsa-key.pem"

/* The first word of a shell command's output (hex digest or hex dump). */
static char *sh(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	ck_assert_ptr_nonnull(p);
	n = fread(buf, 1, (1 << 16) - 1, p);
	ck_assert_int_eq(pclose(p), 0);
	buf[n] = '\0';
	buf[strcspn(buf, " \n")] = '\0';
	ck_assert_uint_gt(strlen(buf), 0);
	return buf;
}

static char *ours(X509 *cert, EVP_PKEY *key, int sel, int match)
{
	char *hex;

	ck_assert_int_eq(tlsa_data(cert, key, sel, match, &hex), 0);
	return hex;
}

#define CERT_DER "openssl x509 -in " CERT " -outform DER"
#define SPKI_DER "openssl x509 -in " CERT " -pubkey -noout | openssl pkey -pubin -outform DER"
#define HEX " | od -An -v -tx1 | tr -d ' \\n'"

START_TEST(from_certificate)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	X509 *cert;
	char err[256];
	static const struct {
		int sel, match;
		const char *cmd;
	} cases[] = {
		{0, 0, CERT_DER HEX},
		{0, 1, CERT_DER " | openssl dgst -sha256 -r"},
		{0, 2, CERT_DER " | openssl dgst -sha512 -r"},
		{1, 0, SPKI_DER HEX},
		{1, 1, SPKI_DER " | openssl dgst -sha256 -r"},
		{1, 2, SPKI_DER " | openssl dgst -sha512 -r"},
	};

	ck_assert_int_eq(tlsa_load(CERT, &certs, &key, err, sizeof(err)), 0);
	ck_assert_ptr_null(key);
	ck_assert_int_eq(sk_X509_num(certs), 1);
	cert = sk_X509_value(certs, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *want = sh(cases[i].cmd), *got = ours(cert, NULL, cases[i].sel, cases[i].match);
		ck_assert_msg(strcmp(want, got) == 0, "selector %d match %d: %s != %s",
			      cases[i].sel, cases[i].match, got, want);
		free(want);
		free(got);
	}
	sk_X509_pop_free(certs, X509_free);
}
END_TEST

START_TEST(from_key)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	char err[256], *want, *got;

	/* the private key's public half gives the certificate's selector 1 */
	ck_assert_int_eq(tlsa_load(KEY, &certs, &key, err, sizeof(err)), 0);
	ck_assert_ptr_null(certs);
	ck_assert_ptr_nonnull(key);
	want = sh(SPKI_DER " | openssl dgst -sha256 -r");
	got = ours(NULL, key, 1, 1);
	ck_assert_str_eq(got, want);
	free(got);
	ck_assert_int_eq(tlsa_data(NULL, key, 0, 1, &got), MX_EINVAL);
	free(want);
	EVP_PKEY_free(key);
}
END_TEST

START_TEST(bad_input)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	char err[256], *hex;

	ck_assert_int_lt(tlsa_load("/nonexistent/cert.pem", &certs, &key, err, sizeof(err)), 0);
	ck_assert_int_eq(tlsa_load(MXDNS_SOURCE_DIR "/CMakeLists.txt", &certs, &key, err,
				   sizeof(err)), MX_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(err, "no PEM"));
	ck_assert_int_eq(tlsa_data(NULL, NULL, 1, 1, &hex), MX_EINVAL);
	ck_assert_int_eq(tlsa_load(CERT, &certs, &key, err, sizeof(err)), 0);
	ck_assert_int_eq(tlsa_data(sk_X509_value(certs, 0), NULL, 2, 1, &hex), MX_EINVAL);
	ck_assert_int_eq(tlsa_data(sk_X509_value(certs, 0), NULL, 0, 3, &hex), MX_EINVAL);
	sk_X509_pop_free(certs, X509_free);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlsa");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, from_certificate);
	tcase_add_test(tc, from_key);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
