/* Unit tests for the DMARC, MTA-STS and TLS-RPT builders and linters, and
 * the report URIs they share (tools/dmarc, mtasts, tlsrpt, mailuri). */
#include "dmarc.h"
#include "errcode.h"
#include "findings.h"
#include "lintcli.h"
#include "mailuri.h"
#include "mtasts.h"
#include "tlsrpt.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

typedef int (*lint_fn)(const char *, size_t, struct findings *);

/* Lints s; asserts the error count and, when needle is set, a finding at
 * level containing it. */
static void lint(lint_fn fn, const char *s, size_t errors, enum finding_level level,
		 const char *needle)
{
	struct findings f;
	int r;

	findings_init(&f);
	r = fn(s, strlen(s), &f);
	ck_assert_msg(findings_count(&f, FINDING_ERROR) == errors, "'%s': %zu errors, want %zu%s%s",
		      s, findings_count(&f, FINDING_ERROR), errors, f.count ? "; first: " : "",
		      f.count ? f.item[0].msg : "");
	ck_assert_int_eq(r, errors ? MX_ESYNTAX : 0);
	if (needle)
		ck_assert_msg(findings_has(&f, level, needle), "'%s': no finding with '%s'", s,
			      needle);
}

START_TEST(dmarc_good)
{
	lint(dmarc_lint, "v=DMARC1; p=reject; rua=mailto:d@example.com", 0, 0, NULL);
	lint(dmarc_lint, "v=DMARC1; p=quarantine; sp=reject; adkim=s; aspf=r; fo=0:d:s; "
			 "rua=mailto:a@example.com!10m,mailto:b@example.net; ruf=mailto:f@example.com",
	     0, 0, NULL);
	lint(dmarc_lint, "v=DMARC1;p=none", 0, FINDING_WARN, "p: none");
	lint(dmarc_lint, "v=DMARC1; p=reject; pct=50", 0, FINDING_WARN, "pct: removed by DMARCbis");
	lint(dmarc_lint, "v=DMARC1; p=reject; rf=afrf", 0, FINDING_WARN, "rf: removed");
	lint(dmarc_lint, "v=DMARC1; p=reject; ri=86400", 0, FINDING_WARN, "ri: removed");
	lint(dmarc_lint, "v=DMARC1; p=reject; zz=1", 0, FINDING_NOTE, "unknown tag 'zz'");
	lint(dmarc_lint, "v=DMARC1; p=reject; rua=https://r.example.com/x", 0, FINDING_WARN,
	     "mailto");
	lint(dmarc_lint, "v=DMARC1; p=reject; fo=1", 0, FINDING_NOTE, "without ruf");
}
END_TEST

START_TEST(dmarc_order_and_values)
{
	lint(dmarc_lint, "p=reject; v=DMARC1", 1, FINDING_ERROR, "first");
	lint(dmarc_lint, "v=DMARC1; rua=mailto:a@example.com; p=reject", 0, FINDING_WARN,
	     "right after v");
	lint(dmarc_lint, "v=DMARC2; p=reject", 1, FINDING_ERROR, "DMARC1");
	lint(dmarc_lint, "v=DMARC1", 1, FINDING_ERROR, "p: missing");
	lint(dmarc_lint, "v=DMARC1; p=block", 1, FINDING_ERROR, "p: 'block'");
	lint(dmarc_lint, "v=DMARC1; p=reject; sp=all", 1, FINDING_ERROR, "sp:");
	lint(dmarc_lint, "v=DMARC1; p=reject; adkim=x", 1, FINDING_ERROR, "adkim");
	lint(dmarc_lint, "v=DMARC1; p=reject; aspf=relaxed", 1, FINDING_ERROR, "aspf");
	lint(dmarc_lint, "v=DMARC1; p=reject; pct=101", 1, FINDING_ERROR, "0..100");
	lint(dmarc_lint, "v=DMARC1; p=reject; pct=-1", 1, FINDING_ERROR, "0..100");
	lint(dmarc_lint, "v=DMARC1; p=reject; fo=2", 1, FINDING_ERROR, "fo");
	lint(dmarc_lint, "v=DMARC1; p=reject; rf=iodef", 1, FINDING_ERROR, "afrf");
	lint(dmarc_lint, "v=DMARC1; p=reject; ri=day", 1, FINDING_ERROR, "ri:");
	lint(dmarc_lint, "v=DMARC1; p=reject; rua=d@example.com", 1, FINDING_ERROR, "rua");
	lint(dmarc_lint, "v=DMARC1; p=reject; rua=mailto:nobody", 1, FINDING_ERROR, "mailto");
	lint(dmarc_lint, "v=DMARC1; p=reject; rua=mailto:a@example.com!big", 1, FINDING_ERROR,
	     "size");
	lint(dmarc_lint, "v=DMARC1; p=reject; rua=mailto:a@example.com,", 1, FINDING_ERROR, "empty");
	lint(dmarc_lint, "v=DMARC1; p=reject; p=none", 1, FINDING_ERROR, "twice");
	lint(dmarc_lint, "", 1, FINDING_ERROR, "tag list");
}
END_TEST

START_TEST(dmarc_build_order)
{
	struct dmarc_opts o = {.policy = "reject", .rua = "a@example.com,https://r.example.com/",
			       .adkim = "s", .pct = 100, .ri = -1, .sp = "quarantine"};
	char *v;

	ck_assert_int_eq(dmarc_build(&o, &v), 0);
	ck_assert_str_eq(v, "v=DMARC1; p=reject; sp=quarantine; "
			    "rua=mailto:a@example.com,https://r.example.com/; adkim=s; pct=100");
	lint(dmarc_lint, v, 0, 0, NULL);
	free(v);
	o.policy = NULL;
	ck_assert_int_eq(dmarc_build(&o, &v), MX_EINVAL);
}
END_TEST

START_TEST(mtasts_record)
{
	char id[15];

	lint(mtasts_lint_record, "v=STSv1; id=20240101T000000", 0, 0, NULL);
	lint(mtasts_lint_record, "v=STSv1; id=abc;", 0, 0, NULL);
	lint(mtasts_lint_record, "v=STSv1; id=abc; ext=1", 0, FINDING_NOTE, "ext");
	lint(mtasts_lint_record, "v=STSv1 ; id=abc", 1, FINDING_ERROR, "begin");
	lint(mtasts_lint_record, "id=abc; v=STSv1", 1, FINDING_ERROR, "begin");
	lint(mtasts_lint_record, "v=STSv1;", 1, FINDING_ERROR, "id: missing");
	lint(mtasts_lint_record, "v=STSv1; id=a-b", 1, FINDING_ERROR, "letters and digits");
	lint(mtasts_lint_record, "v=STSv1; id=012345678901234567890123456789012", 1,
	     FINDING_ERROR, "1..32");
	mtasts_id(0, id);
	ck_assert_str_eq(id, "19700101000000");
	mtasts_id(1700000000, id);
	ck_assert_str_eq(id, "20231114221320");
}
END_TEST

START_TEST(mtasts_policy)
{
	lint(mtasts_lint_policy,
	     "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
	     "max_age: 604800\r\n", 0, 0, NULL);
	lint(mtasts_lint_policy, "version: STSv1\nmode: none\nmax_age: 86400", 0, 0, NULL);
	lint(mtasts_lint_policy, "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\n", 0,
	     FINDING_NOTE, "testing");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 3600\n", 0,
	     FINDING_WARN, "under a day");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\nfoo: 1\n",
	     0, FINDING_NOTE, "foo");
	lint(mtasts_lint_policy, "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 86400\n", 1,
	     FINDING_ERROR, "line 1: version");
	lint(mtasts_lint_policy, "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 86400\n", 1,
	     FINDING_ERROR, "line 2: mode");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmax_age: 86400\n", 1,
	     FINDING_ERROR, "no mx");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmx: a.example\n", 1, FINDING_ERROR,
	     "no max_age");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
	     1, FINDING_ERROR, "line 4: max_age");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1e6\n", 1,
	     FINDING_ERROR, "max_age");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 86400\n",
	     1, FINDING_ERROR, "line 3: mx");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmx: mail.*.example\nmax_age: 86400\n",
	     1, FINDING_ERROR, "mx");
	lint(mtasts_lint_policy, "version: STSv1\nmode: enforce\nmode: none\nmx: a.example\nmax_age: 86400\n",
	     1, FINDING_ERROR, "twice");
	lint(mtasts_lint_policy, "version STSv1\nmode: none\nmax_age: 86400\n", 2, FINDING_ERROR,
	     "line 1: no ':'");
	lint(mtasts_lint_policy, "version: STSv1\n\nmode: none\nmax_age: 86400\n", 1, FINDING_ERROR,
	     "empty line");
	lint(mtasts_lint_policy, "", 4, FINDING_ERROR, "no version");
}
END_TEST

START_TEST(tlsrpt)
{
	lint(tlsrpt_lint, "v=TLSRPTv1; rua=mailto:tls@example.com", 0, 0, NULL);
	lint(tlsrpt_lint, "v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/v1", 0, 0, NULL);
	lint(tlsrpt_lint, "v=TLSRPTv1; rua=mailto:a@example.com; x=1", 0, FINDING_NOTE, "'x'");
	lint(tlsrpt_lint, "rua=mailto:a@example.com; v=TLSRPTv1", 1, FINDING_ERROR, "begin");
	lint(tlsrpt_lint, "v=TLSRPTv2; rua=mailto:a@example.com", 1, FINDING_ERROR, "begin");
	lint(tlsrpt_lint, "v=TLSRPTv1", 1, FINDING_ERROR, "rua: missing");
	lint(tlsrpt_lint, "v=TLSRPTv1; rua=ftp://x.example", 1, FINDING_ERROR, "mailto: or https:");
	lint(tlsrpt_lint, "v=TLSRPTv1; rua=mailto:a@example.com!10m", 1, FINDING_ERROR, "size");
}
END_TEST

START_TEST(uris)
{
	char dom[256], err[400];

	ck_assert_int_eq(mailuri_check("mailto:a.b+c@Example.COM", 24, 0, dom, err, sizeof(err)), 0);
	ck_assert_str_eq(dom, "Example.COM");
	ck_assert_int_eq(mailuri_check("https://r.example.com:8443/p?q", 30, MAILURI_HTTPS, dom, err,
				       sizeof(err)), 0);
	ck_assert_str_eq(dom, "r.example.com");
	ck_assert_int_eq(mailuri_check("https://r.example.com", 21, 0, dom, err, sizeof(err)),
			 MX_ESYNTAX);
	ck_assert_int_eq(mailuri_check("mailto:@example.com", 19, 0, NULL, err, sizeof(err)),
			 MX_ESYNTAX);
	ck_assert_int_eq(mailuri_check("mailto:a..b@example.com", 23, 0, NULL, err, sizeof(err)),
			 MX_ESYNTAX);
	ck_assert_int_eq(mailuri_check("mailto:a@exa_mple.com", 21, 0, NULL, err, sizeof(err)),
			 MX_ESYNTAX);
	ck_assert_int_eq(mailuri_check("mailto:a@example.com!5k", 23, MAILURI_SIZE, NULL, err,
				       sizeof(err)), 0);
	ck_assert_int_eq(mailuri_check("mailto:a@example.com!5kb", 24, MAILURI_SIZE, NULL, err,
				       sizeof(err)), MX_ESYNTAX);
	ck_assert_int_eq(mailuri_check("mailto:a@example.com!", 21, MAILURI_SIZE, NULL, err,
				       sizeof(err)), MX_ESYNTAX);
	{
		/* regression (fuzz_dmarc): the URI is len bytes, not a C string */
		char *exact = malloc(17);
		memcpy(exact, "https://a.example", 17);
		ck_assert_int_eq(mailuri_check(exact, 17, MAILURI_HTTPS, dom, err, sizeof(err)), 0);
		ck_assert_str_eq(dom, "a.example");
		free(exact);
	}
	ck_assert(lintcli_has_prefix("v=DMARC1; p=none", "v=DMARC1"));
	ck_assert(lintcli_has_prefix("v=DMARC1", "v=DMARC1"));
	ck_assert(!lintcli_has_prefix("v=DMARC10; p=none", "v=DMARC1"));
	ck_assert(!lintcli_has_prefix("v=spf1 -all", "v=DMARC1"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, dmarc_good);
	tcase_add_test(tc, dmarc_order_and_values);
	tcase_add_test(tc, dmarc_build_order);
	tcase_add_test(tc, mtasts_record);
	tcase_add_test(tc, mtasts_policy);
	tcase_add_test(tc, tlsrpt);
	tcase_add_test(tc, uris);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
