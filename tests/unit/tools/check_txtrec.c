/* Unit tests for tools/txtrec (TXT splitting, joining, tag lists) and
 * tools/json (the --json writer). */
#include "errcode.h"
#include "json.h"
#include "txtrec.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Formats n bytes of c, then checks the string count, that no string holds
 * more than 255 value bytes, and that joining gives the value back. */
static void split_roundtrip(size_t n, char c, size_t want_strings)
{
	char *v = malloc(n + 1), *out = malloc(n * 4 + 64), *back = malloc(n + 1);
	size_t back_len = 99, quotes = 0;
	int len;

	memset(v, c, n);
	v[n] = '\0';
	ck_assert_uint_eq(txtrec_count(n), want_strings);
	len = txtrec_format(v, n, " ", out, n * 4 + 64);
	ck_assert_int_ge(len, 2);
	ck_assert_uint_eq(strlen(out), (size_t)len);
	for (const char *p = out; *p; p++) {
		if (*p == '\\')
			p++; /* the escaped byte (or first digit of \DDD) is no quote */
		else if (*p == '"')
			quotes++;
	}
	ck_assert_uint_eq(quotes, 2 * want_strings);
	ck_assert_int_eq(txtrec_join(out, back, n + 1, &back_len), 0);
	ck_assert_uint_eq(back_len, n);
	ck_assert(memcmp(back, v, n) == 0);
	free(v);
	free(out);
	free(back);
}

START_TEST(split_edges)
{
	split_roundtrip(0, 'a', 1);
	split_roundtrip(1, 'a', 1);
	split_roundtrip(254, 'a', 1);
	split_roundtrip(255, 'a', 1);
	split_roundtrip(256, 'a', 2);
	split_roundtrip(510, 'a', 2);
	split_roundtrip(511, 'a', 3);
	split_roundtrip(765, 'a', 3);
	split_roundtrip(766, 'a', 4);
}
END_TEST

START_TEST(split_exact_text)
{
	char v[600], out[2000], want[2000];

	memset(v, 'x', 256);
	ck_assert_int_gt(txtrec_format(v, 256, " ", out, sizeof(out)), 0);
	memset(want, 0, sizeof(want));
	want[0] = '"';
	memset(want + 1, 'x', 255);
	strcpy(want + 256, "\" \"x\"");
	ck_assert_str_eq(out, want);

	ck_assert_int_eq(txtrec_format("", 0, " ", out, sizeof(out)), 2);
	ck_assert_str_eq(out, "\"\"");
}
END_TEST

START_TEST(split_counts_value_bytes_not_escapes)
{
	/* 255 quote characters: 510 output characters, still one string */
	char v[300], out[2000], back[300];
	size_t n;

	memset(v, '"', 255);
	ck_assert_int_eq(txtrec_format(v, 255, " ", out, sizeof(out)), 512);
	ck_assert_int_eq(txtrec_join(out, back, sizeof(back), &n), 0);
	ck_assert_uint_eq(n, 255);
	split_roundtrip(300, '\\', 2);
	split_roundtrip(256, '\x01', 2);
}
END_TEST

START_TEST(format_escapes)
{
	char out[64];

	ck_assert_int_gt(txtrec_format("a\"b\\c\x01\xff", 7, " ", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\"a\\\"b\\\\c\\001\\255\"");
}
END_TEST

START_TEST(format_space)
{
	char out[8];

	ck_assert_int_eq(txtrec_format("abcdefgh", 8, " ", out, sizeof(out)), MX_ESPACE);
	ck_assert_int_eq(txtrec_format("abcde", 5, " ", out, sizeof(out)), 7);
	ck_assert_int_eq(txtrec_format("abcdef", 6, " ", out, sizeof(out)), MX_ESPACE);
}
END_TEST

START_TEST(join_forms)
{
	char out[600];
	size_t n;
	char big[300];

	ck_assert_int_eq(txtrec_join("\"abc\" \"def\"", out, sizeof(out), &n), 0);
	ck_assert_str_eq(out, "abcdef");
	ck_assert_int_eq(txtrec_join("( \"a\"\n\t\"b\" )", out, sizeof(out), &n), 0);
	ck_assert_str_eq(out, "ab");
	ck_assert_int_eq(txtrec_join("v=DKIM1; p=x", out, sizeof(out), &n), 0);
	ck_assert_str_eq(out, "v=DKIM1; p=x");
	ck_assert_int_eq(txtrec_join("\"\\065\\\"\"", out, sizeof(out), &n), 0);
	ck_assert_str_eq(out, "A\"");
	ck_assert_int_eq(txtrec_join("\"abc", out, sizeof(out), &n), MX_ESYNTAX);
	ck_assert_int_eq(txtrec_join("\"a\" x", out, sizeof(out), &n), MX_ESYNTAX);
	ck_assert_int_eq(txtrec_join("( \"a\"", out, sizeof(out), &n), MX_ESYNTAX);
	ck_assert_int_eq(txtrec_join("\"\\256\"", out, sizeof(out), &n), MX_ESYNTAX);
	ck_assert_int_eq(txtrec_join("\"\\12\"", out, sizeof(out), &n), MX_ESYNTAX);
	/* one string over 255 bytes cannot be a character-string */
	big[0] = '"';
	memset(big + 1, 'a', 256);
	strcpy(big + 257, "\"");
	ck_assert_int_eq(txtrec_join(big, out, sizeof(out), &n), MX_ESYNTAX);
	ck_assert_int_eq(txtrec_join("\"abcdef\"", out, 4, &n), MX_ESPACE);
}
END_TEST

START_TEST(tags_basic)
{
	struct txtrec_tags t;
	const char *s = " v=DKIM1 ;k = rsa;\tp= ab cd ;";

	ck_assert_int_eq(txtrec_tags_parse(s, strlen(s), &t), 0);
	ck_assert_uint_eq(t.count, 3);
	ck_assert_str_eq(t.tag[0].name, "v");
	ck_assert_str_eq(t.tag[0].value, "DKIM1");
	ck_assert_str_eq(txtrec_tags_get(&t, "k")->value, "rsa");
	ck_assert_str_eq(txtrec_tags_get(&t, "p")->value, "ab cd");
	ck_assert_ptr_null(txtrec_tags_get(&t, "V")); /* names are case-sensitive */
	txtrec_tags_cleanup(&t);

	ck_assert_int_eq(txtrec_tags_parse("p=", 2, &t), 0);
	ck_assert_str_eq(t.tag[0].value, "");
	txtrec_tags_cleanup(&t);
}
END_TEST

static int parse_err(const char *s, const char *needle)
{
	struct txtrec_tags t;
	int r = txtrec_tags_parse(s, strlen(s), &t);

	if (r < 0 && needle != NULL)
		ck_assert_msg(strstr(t.err, needle) != NULL, "'%s': error '%s' lacks '%s'", s, t.err,
			      needle);
	txtrec_tags_cleanup(&t);
	return r;
}

START_TEST(tags_bad)
{
	ck_assert_int_eq(parse_err("", "empty"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("  ", "empty"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("a=1; a=2", "twice"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("a=1;; b=2", "tag name"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("a=1; b", "no '='"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("1a=1", "tag name"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("a=x\x01y", "0x01"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("a=\xc3\xa9", "0xc3"), MX_ESYNTAX);
	ck_assert_int_eq(parse_err("=1", "tag name"), MX_ESYNTAX);
}
END_TEST

START_TEST(tags_limit)
{
	char buf[4096] = "";
	struct txtrec_tags t;

	for (int i = 0; i <= TXTREC_TAGS_MAX; i++)
		sprintf(buf + strlen(buf), "t%d=%d;", i, i);
	ck_assert_int_eq(txtrec_tags_parse(buf, strlen(buf), &t), MX_ELIMIT);
	txtrec_tags_cleanup(&t);
}
END_TEST

/* ---- json ---- */

static char *json_run(void (*fill)(struct json *), int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f);
	fill(&j);
	*rc = json_finish(&j);
	fclose(f);
	return buf;
}

static void fill_nested(struct json *j)
{
	json_obj_begin(j);
	json_kv_str(j, "a", "x\"y\\z\n\x01");
	json_kv_int(j, "n", -42);
	json_key(j, "list");
	json_arr_begin(j);
	json_bool(j, true);
	json_null(j);
	json_str(j, "\xc3\xa9\xff");
	json_obj_begin(j);
	json_obj_end(j);
	json_arr_end(j);
	json_obj_end(j);
}

static void fill_bad_value_as_key(struct json *j)
{
	json_obj_begin(j);
	json_str(j, "no key");
	json_obj_end(j);
}

static void fill_unbalanced(struct json *j)
{
	json_arr_begin(j);
	json_int(j, 1);
}

START_TEST(json_output)
{
	int rc;
	char *s = json_run(fill_nested, &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(s, "{\"a\":\"x\\\"y\\\\z\\n\\u0001\",\"n\":-42,"
			    "\"list\":[true,null,\"\xc3\xa9\\ufffd\",{}]}\n");
	free(s);
	free(json_run(fill_bad_value_as_key, &rc));
	ck_assert_int_eq(rc, MX_EINVAL);
	free(json_run(fill_unbalanced, &rc));
	ck_assert_int_eq(rc, MX_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("txtrec");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, split_edges);
	tcase_add_test(tc, split_exact_text);
	tcase_add_test(tc, split_counts_value_bytes_not_escapes);
	tcase_add_test(tc, format_escapes);
	tcase_add_test(tc, format_space);
	tcase_add_test(tc, join_forms);
	tcase_add_test(tc, tags_basic);
	tcase_add_test(tc, tags_bad);
	tcase_add_test(tc, tags_limit);
	tcase_add_test(tc, json_output);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
