/* check_zonefile: serial arithmetic (RFC 1982, date serials), edits that
 * keep the operator's text byte for byte, the refusals (CNAME beside other
 * data always; a second SPF record unless forced), dry runs, and the
 * clean-up of temporary files a crashed edit left. */
#include "errcode.h"
#include "publish.h"
#include "udiff.h"
#include "zone.h"
#include "zonefile.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static char err[2048];

/* 2025-03-07 12:00:00 UTC */
#define NOW ((time_t)1741348800)

static const char *ZONE =
	"; example.test, kept by hand\n"
	"$ORIGIN example.test.\n"
	"$TTL 300\n"
	"@\tIN\tSOA\tns1 hostmaster (\n"
	"\t\t2024010101 ; serial\n"
	"\t\t3600 600 86400 300 )\n"
	"\tIN\tNS\tns1\n"
	"\tIN\tMX\t10 mail   ; primary mail\n"
	"\n"
	"ns1\tIN\tA\t192.0.2.1\n"
	"mail\tIN\tA\t192.0.2.2\n"
	"\tIN\tAAAA\t2001:db8::2 ; v6\n"
	";; SPF, see RFC 7208\n"
	"@   IN TXT \"v=spf1 mx -all\"\n"
	"www\tIN\tCNAME\t@\n";

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(void)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void setup(void)
{
	strcpy(dir, "/tmp/check_zonefile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/example.test.zone", dir);
	write_text(ZONE);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct zonefile *open_locked(void)
{
	struct zonefile *zf = NULL;
	int rc = zonefile_open(&zf, path, "example.test", ZONEFILE_LOCK, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	return zf;
}

static int commit(struct zonefile *zf, int flags, bool force)
{
	struct zonefile_result res;
	struct zonefile_commit_opts o = {.flags = flags, .now = NOW, .check = publish_mail_check,
					 .check_arg = &force};
	return zonefile_commit(zf, &o, &res, err, sizeof(err));
}

/* ZONE with the serial replaced, and `insert` put before the line that
 * starts with `before` (NULL: at the end). */
static char *expect(const char *serial, const char *insert, const char *before)
{
	static char buf[8192];
	const char *s = strstr(ZONE, "2024010101");
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(s - ZONE), ZONE, serial, s + 10);
	if (insert) {
		char *at = before ? strstr(buf, before) : buf + strlen(buf);
		ck_assert_ptr_nonnull(at);
		char tail[8192];
		snprintf(tail, sizeof(tail), "%s", at);
		snprintf(at, sizeof(buf) - (size_t)(at - buf), "%s%s", insert, tail);
	}
	return buf;
}

START_TEST(serial_plain_and_wrap)
{
	ck_assert_uint_eq(zonefile_serial_next(1, NOW), 2);
	ck_assert_uint_eq(zonefile_serial_next(41, NOW), 42);
	/* RFC 1982 §3.1: modulo 2^32; 0 is skipped */
	ck_assert_uint_eq(zonefile_serial_next(4294967295u, NOW), 1);
	ck_assert_uint_eq(zonefile_serial_next(4294967294u, NOW), 4294967295u);
	ck_assert_int_eq(zonefile_serial_cmp(1, 4294967295u), 1);
	ck_assert_int_eq(zonefile_serial_cmp(4294967295u, 1), -1);
	ck_assert_int_eq(zonefile_serial_cmp(7, 7), 0);
	ck_assert_int_eq(zonefile_serial_cmp(0x80000000u, 0), 0); /* undefined, §3.2 */
	ck_assert_int_eq(zonefile_serial_cmp(0x7fffffffu, 0), 1);
}
END_TEST

START_TEST(serial_dates)
{
	/* an older date: today's first */
	ck_assert_uint_eq(zonefile_serial_next(2024010101u, NOW), 2025030700u);
	/* today already: the counter */
	ck_assert_uint_eq(zonefile_serial_next(2025030700u, NOW), 2025030701u);
	ck_assert_uint_eq(zonefile_serial_next(2025030798u, NOW), 2025030799u);
	/* 99 edits today: into tomorrow's numbers, still increasing */
	ck_assert_uint_eq(zonefile_serial_next(2025030799u, NOW), 2025030800u);
	/* a date in the future: +1 only, never backwards */
	ck_assert_uint_eq(zonefile_serial_next(2030010100u, NOW), 2030010101u);
	/* not a date (month 13, day 32): +1 */
	ck_assert_uint_eq(zonefile_serial_next(2024130101u, NOW), 2024130102u);
	ck_assert_uint_eq(zonefile_serial_next(2024013201u, NOW), 2024013202u);
	ck_assert_uint_eq(zonefile_serial_next(1700000000u, NOW), 1700000001u);
}
END_TEST

START_TEST(add_keeps_text)
{
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, "www2 600 A 192.0.2.9", err, sizeof(err)), 1);
	/* a second RR of an existing RRset goes after it, with its TTL */
	ck_assert_int_eq(zonefile_add(zf, "@ MX 20 mx2.example.net.", err, sizeof(err)), 1);
	/* already there: no change */
	ck_assert_int_eq(zonefile_add(zf, "ns1 IN A 192.0.2.1", err, sizeof(err)), 0);
	ck_assert_int_eq(commit(zf, 0, false), 0);
	zonefile_free(zf);
	const char *want =
		"; example.test, kept by hand\n"
		"$ORIGIN example.test.\n"
		"$TTL 300\n"
		"@\tIN\tSOA\tns1 hostmaster (\n"
		"\t\t2025030700 ; serial\n"
		"\t\t3600 600 86400 300 )\n"
		"\tIN\tNS\tns1\n"
		"\tIN\tMX\t10 mail   ; primary mail\n"
		"@\t300\tIN\tMX\t20 mx2.example.net.\n"
		"\n"
		"ns1\tIN\tA\t192.0.2.1\n"
		"mail\tIN\tA\t192.0.2.2\n"
		"\tIN\tAAAA\t2001:db8::2 ; v6\n"
		";; SPF, see RFC 7208\n"
		"@   IN TXT \"v=spf1 mx -all\"\n"
		"www\tIN\tCNAME\t@\n"
		"www2\t600\tIN\tA\t192.0.2.9\n";
	ck_assert_str_eq(read_text(), want);
}
END_TEST

START_TEST(delete_makes_implied_owner_explicit)
{
	struct zonefile *zf = open_locked();
	struct zonefile_match m = {.owner = "mail", .type = RR_A};
	ck_assert_int_eq(zonefile_delete(zf, &m, err, sizeof(err)), 1);
	ck_assert_int_eq(commit(zf, 0, false), 0);
	zonefile_free(zf);
	/* the AAAA line had no owner: it took mail's from the deleted line */
	char *want = expect("2025030700", NULL, NULL);
	char *p = strstr(want, "mail\tIN\tA\t192.0.2.2\n");
	ck_assert_ptr_nonnull(p);
	memmove(p + 4, p + 4 + strlen("\tIN\tA\t192.0.2.2\n"),
		strlen(p + 4 + strlen("\tIN\tA\t192.0.2.2\n")) + 1);
	ck_assert_str_eq(read_text(), want);
	struct zone *z = zone_load("example.test", path, err, sizeof(err));
	ck_assert_msg(z != NULL, "%s", err);
	zone_unref(z);
}
END_TEST

START_TEST(delete_by_rdata_and_txt_value)
{
	struct zonefile *zf = open_locked();
	/* the same value split differently still matches */
	struct zonefile_match m = {.owner = "@", .type = RR_TXT, .rdata = "\"v=spf1 \" \"mx -all\""};
	ck_assert_int_eq(zonefile_delete(zf, &m, err, sizeof(err)), 1);
	struct zonefile_match none = {.owner = "@", .type = RR_MX, .rdata = "10 other"};
	ck_assert_int_eq(zonefile_delete(zf, &none, err, sizeof(err)), 0);
	struct zonefile_match soa = {.owner = "@", .type = RR_SOA};
	ck_assert_int_eq(zonefile_delete(zf, &soa, err, sizeof(err)), MX_EINVAL);
	zonefile_free(zf);
}
END_TEST

START_TEST(refuses_cname_beside_other_data_even_forced)
{
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, "www TXT \"hello\"", err, sizeof(err)), 1);
	ck_assert_int_eq(commit(zf, 0, true), MX_EZONE);
	ck_assert_msg(strstr(err, "CNAME and other data") != NULL, "%s", err);
	/* FILE:LINE names the real file, not the temporary one */
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 || strstr(err, "example.test.zone:"),
		      "%s", err);
	ck_assert_ptr_null(strstr(err, ZONEFILE_TMP_TAG));
	zonefile_free(zf);
	ck_assert_str_eq(read_text(), ZONE);
}
END_TEST

START_TEST(refuses_second_spf_unless_forced)
{
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, "@ TXT \"v=spf1 a -all\"", err, sizeof(err)), 1);
	ck_assert_int_eq(commit(zf, 0, false), MX_EREFUSED);
	zonefile_free(zf);
	ck_assert_str_eq(read_text(), ZONE);

	zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, "@ TXT \"v=spf1 a -all\"", err, sizeof(err)), 1);
	ck_assert_int_eq(commit(zf, 0, true), 0);
	zonefile_free(zf);
	ck_assert_ptr_nonnull(strstr(read_text(), "\"v=spf1 a -all\""));
}
END_TEST

START_TEST(refuses_spf_over_lookup_limit)
{
	struct zonefile *zf = open_locked();
	const char *r = "sub TXT \"v=spf1 include:a.example include:b.example include:c.example "
			"include:d.example include:e.example include:f.example include:g.example "
			"include:h.example include:i.example include:j.example include:k.example -all\"";
	ck_assert_int_eq(zonefile_add(zf, r, err, sizeof(err)), 1);
	ck_assert_int_eq(commit(zf, 0, false), MX_EREFUSED);
	zonefile_free(zf);
	ck_assert_str_eq(read_text(), ZONE);
}
END_TEST

START_TEST(replace_txt_prefix_keeps_other_txt)
{
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, "@ TXT \"google-site-verification=x\"", err, sizeof(err)), 1);
	struct zonefile_match m = {.owner = "@", .type = RR_TXT, .txt_prefix = "v=SPF1"};
	const char *rr[] = {"@ TXT \"v=spf1 ip4:192.0.2.0/24 -all\""};
	ck_assert_int_eq(zonefile_replace(zf, &m, rr, 1, err, sizeof(err)), 1);
	/* the same again: nothing to change */
	ck_assert_int_eq(zonefile_replace(zf, &m, rr, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(commit(zf, 0, false), 0);
	zonefile_free(zf);
	const char *t = read_text();
	ck_assert_ptr_nonnull(strstr(t, "google-site-verification=x"));
	ck_assert_ptr_nonnull(strstr(t, "v=spf1 ip4:192.0.2.0/24 -all"));
	ck_assert_ptr_null(strstr(t, "v=spf1 mx -all"));
	/* in the place of the old one, before the CNAME line */
	ck_assert_ptr_nonnull(strstr(t, ";; SPF, see RFC 7208\n@\t300\tIN\tTXT\t\"v=spf1 ip4"));
}
END_TEST

START_TEST(dry_run_writes_nothing)
{
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, "new A 192.0.2.50", err, sizeof(err)), 1);
	ck_assert_int_eq(commit(zf, ZONEFILE_DRY_RUN, false), 0);
	size_t len;
	ck_assert_ptr_nonnull(strstr(zonefile_text(zf, &len), "new\tIN\tA\t192.0.2.50"));
	ck_assert_ptr_nonnull(strstr(zonefile_text(zf, &len), "2025030700 ; serial"));
	zonefile_free(zf);
	ck_assert_str_eq(read_text(), ZONE);
}
END_TEST

START_TEST(stale_temp_files_are_removed)
{
	char stale[256], other[256];
	snprintf(stale, sizeof(stale), "%s/.example.test.zone" ZONEFILE_TMP_TAG "abc123", dir);
	snprintf(other, sizeof(other), "%s/.other.zone" ZONEFILE_TMP_TAG "abc123", dir);
	FILE *f = fopen(stale, "w");
	fputs("half a zo", f);
	fclose(f);
	f = fopen(other, "w");
	fclose(f);
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(access(stale, F_OK), -1);
	ck_assert_int_eq(access(other, F_OK), 0); /* another file's: not ours to remove */
	zonefile_free(zf);
}
END_TEST

START_TEST(syntax_error_names_file_and_line)
{
	write_text("$ORIGIN example.test.\n@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 999.1.1.1\n");
	struct zonefile *zf = NULL;
	ck_assert_int_eq(zonefile_open(&zf, path, "example.test", 0, err, sizeof(err)), MX_ESYNTAX);
	ck_assert_msg(strstr(err, "example.test.zone:4:") != NULL, "%s", err);
}
END_TEST

START_TEST(unchanged_writes_nothing)
{
	struct stat a, b;
	ck_assert_int_eq(stat(path, &a), 0);
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, "mail AAAA 2001:db8::2", err, sizeof(err)), 0);
	ck_assert(!zonefile_changed(zf));
	ck_assert_int_eq(commit(zf, 0, false), 0);
	zonefile_free(zf);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_str_eq(read_text(), ZONE);
}
END_TEST

START_TEST(long_txt_split_over_lines)
{
	char rec[1200], big[700];
	memset(big, 'k', 600);
	big[600] = '\0';
	/* a DKIM-sized value in three strings */
	snprintf(rec, sizeof(rec), "s1._domainkey TXT \"v=DKIM1; k=rsa; p=\" \"%.250s\" \"%.250s\"",
		 big, big);
	struct zonefile *zf = open_locked();
	ck_assert_int_eq(zonefile_add(zf, rec, err, sizeof(err)), 1);
	size_t len;
	const char *t = zonefile_text(zf, &len);
	ck_assert_ptr_nonnull(strstr(t, "s1._domainkey\tIN\tTXT\t( \"v=DKIM1; k=rsa; p=\"\n\t\t\t\t\""));
	zonefile_free(zf);
}
END_TEST

START_TEST(udiff_hunks)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *b = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n";
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ck_assert_int_eq(udiff_print(f, a, strlen(a), b, strlen(b), "a", "b", 3), 3);
	fclose(f);
	ck_assert_str_eq(out, "--- a\n+++ b\n"
			      "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
			      "@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n");
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zonefile");
	TCase *tc = tcase_create("zonefile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, serial_plain_and_wrap);
	tcase_add_test(tc, serial_dates);
	tcase_add_test(tc, add_keeps_text);
	tcase_add_test(tc, delete_makes_implied_owner_explicit);
	tcase_add_test(tc, delete_by_rdata_and_txt_value);
	tcase_add_test(tc, refuses_cname_beside_other_data_even_forced);
	tcase_add_test(tc, refuses_second_spf_unless_forced);
	tcase_add_test(tc, refuses_spf_over_lookup_limit);
	tcase_add_test(tc, replace_txt_prefix_keeps_other_txt);
	tcase_add_test(tc, dry_run_writes_nothing);
	tcase_add_test(tc, stale_temp_files_are_removed);
	tcase_add_test(tc, syntax_error_names_file_and_line);
	tcase_add_test(tc, unchanged_writes_nothing);
	tcase_add_test(tc, long_txt_split_over_lines);
	tcase_add_test(tc, udiff_hunks);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
