/* check_blfast: the answer index record of one /8, bytes in and out:
 * what each kind of /24 becomes (nothing, ALL, inline octets, ASK), the
 * longest match across nested prefixes and exclusions, the cover from
 * a prefix shorter than /8, the rank across the whole bitmap against a
 * brute-force oracle, and the check a reader makes of a record. */
#include "blfast.h"
#include "errcode.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t VAL[] = {2, 0, 1, 2}; /* any bytes: the index only carries them */

static struct blfast_ent E(unsigned b, unsigned c, unsigned d, int plen, int cls) {
	struct blfast_ent e = {
	    {9, (uint8_t)b, (uint8_t)c, (uint8_t)d}, (uint8_t)plen, (uint8_t)cls};
	return e;
}

static enum blfast_verdict
at(const uint8_t *rec, unsigned b, unsigned c, unsigned d)
{
	uint8_t a[4] = {9, (uint8_t)b, (uint8_t)c, (uint8_t)d};
	return blfast_lookup(rec, a);
}

static uint8_t *build(enum blfast_class cover, struct blfast_ent *e, size_t n, size_t *len)
{
	uint8_t *rec;
	ck_assert_int_eq(blfast_build(9, cover, e, n, VAL, sizeof(VAL), &rec, len), 0);
	if (rec)
		ck_assert(blfast_valid(rec, *len));
	return rec;
}

START_TEST(kinds_of_slash24)
{
	struct blfast_ent e[] = {
	    E(1, 1, 1, 32, BLFAST_USUAL), /* inline */
	    E(1, 2, 0, 24, BLFAST_USUAL), /* ALL */
	    E(1, 3, 1, 32, BLFAST_USUAL), E(1, 3, 2, 32, BLFAST_USUAL),
	    E(1, 3, 3, 32, BLFAST_USUAL), E(1, 3, 4, 32, BLFAST_USUAL), /* 4: ASK */
	    E(1, 4, 7, 32, BLFAST_OTHER),                               /* ASK */
	    E(1, 5, 0, 24, BLFAST_USUAL), E(1, 5, 0, 25, BLFAST_NONE),  /* 128: ASK */
	    E(1, 6, 9, 32, BLFAST_NONE),                                /* nothing */
	};
	size_t len;
	uint8_t *rec = build(BLFAST_NONE, e, sizeof(e) / sizeof(e[0]), &len);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(at(rec, 1, 1, 1), BLFAST_LISTED);
	ck_assert_int_eq(at(rec, 1, 1, 2), BLFAST_UNLISTED);
	ck_assert_int_eq(at(rec, 1, 2, 0), BLFAST_LISTED);
	ck_assert_int_eq(at(rec, 1, 2, 255), BLFAST_LISTED);
	ck_assert_int_eq(at(rec, 1, 3, 1), BLFAST_WALK);
	ck_assert_int_eq(at(rec, 1, 3, 200), BLFAST_WALK);
	ck_assert_int_eq(at(rec, 1, 4, 8), BLFAST_WALK); /* even beside the other answer */
	ck_assert_int_eq(at(rec, 1, 5, 200), BLFAST_WALK);
	ck_assert_int_eq(at(rec, 1, 6, 9), BLFAST_UNLISTED);
	ck_assert_int_eq(at(rec, 1, 7, 1), BLFAST_UNLISTED);
	ck_assert_int_eq(at(rec, 255, 255, 255), BLFAST_UNLISTED);
	/* five /24s have a slot: 1.1, 1.2, 1.3, 1.4, 1.5 */
	size_t vlen;
	ck_assert_mem_eq(blfast_value(rec, &vlen), VAL, sizeof(VAL));
	ck_assert_uint_eq(vlen, sizeof(VAL));
	ck_assert_uint_eq(len, BLFAST_HDR + BLFILT_CHUNK + BLFAST_WORDS * 4 + sizeof(VAL) + 5 * 4);
	free(rec);
}
END_TEST

START_TEST(three_inline_then_exclusion_carves)
{
	/* a /30 listed, one of its four excluded: three inline */
	struct blfast_ent e[] = {
	    E(2, 2, 4, 30, BLFAST_USUAL),
	    E(2, 2, 6, 32, BLFAST_NONE),
	};
	size_t len;
	uint8_t *rec = build(BLFAST_NONE, e, 2, &len);
	for (unsigned d = 0; d < 256; d++)
		ck_assert_int_eq(at(rec, 2, 2, d),
		                 d >= 4 && d <= 7 && d != 6 ? BLFAST_LISTED : BLFAST_UNLISTED);
	free(rec);
}
END_TEST

START_TEST(cover_from_a_shorter_prefix)
{
	size_t len;
	/* listed by a /7 over the whole /8, with one address excluded */
	struct blfast_ent e[] = {E(3, 3, 3, 32, BLFAST_NONE)};
	uint8_t *rec = build(BLFAST_USUAL, e, 1, &len);
	ck_assert_int_eq(at(rec, 0, 0, 0), BLFAST_LISTED);
	ck_assert_int_eq(at(rec, 255, 255, 255), BLFAST_LISTED);
	ck_assert_int_eq(at(rec, 3, 3, 3), BLFAST_WALK); /* 255 listed: too many to hold */
	ck_assert_uint_eq(len,
	                  BLFAST_HDR + BLFILT_CHUNK + BLFAST_WORDS * 4 + sizeof(VAL) + 65536 * 4);
	free(rec);
	/* an expiring cover: everything asks */
	rec = build(BLFAST_OTHER, NULL, 0, &len);
	ck_assert_int_eq(at(rec, 7, 7, 7), BLFAST_WALK);
	free(rec);
	/* nothing listed: no record */
	struct blfast_ent x[] = {E(4, 4, 4, 32, BLFAST_NONE)};
	rec = build(BLFAST_NONE, x, 1, &len);
	ck_assert_ptr_null(rec);
	/* a longer prefix overrides a shorter whatever their order */
	struct blfast_ent y[] = {E(5, 5, 5, 32, BLFAST_USUAL), E(5, 0, 0, 16, BLFAST_OTHER)};
	rec = build(BLFAST_NONE, y, 2, &len);
	ck_assert_int_eq(at(rec, 5, 5, 4), BLFAST_WALK);
	ck_assert_int_eq(at(rec, 5, 9, 9), BLFAST_WALK);
	free(rec);
}
END_TEST

/* Random /32s and /24s over the whole /8: the rank across all 1,024
 * words against a plain list of what was built. */
START_TEST(rank_oracle)
{
	static uint8_t want[65536][256]; /* 1: listed */
	struct blfast_ent *e = malloc(20000 * sizeof(*e));
	unsigned seed = 7;
	size_t n = 0;
	ck_assert_ptr_nonnull(e);
	memset(want, 0, sizeof(want));
	while (n < 20000) {
		unsigned idx = (unsigned)rand_r(&seed) % 65536, d = (unsigned)rand_r(&seed) % 256;
		int whole = rand_r(&seed) % 8 == 0;
		e[n++] = E(idx >> 8, idx & 255, whole ? 0 : d, whole ? 24 : 32, BLFAST_USUAL);
		if (whole)
			memset(want[idx], 1, 256);
		else
			want[idx][d] = 1;
	}
	size_t len;
	uint8_t *rec = build(BLFAST_NONE, e, n, &len);
	for (int i = 0; i < 200000; i++) {
		unsigned idx = (unsigned)rand_r(&seed) % 65536, d = (unsigned)rand_r(&seed) % 256;
		int listed = 0;
		for (int x = 0; x < 256; x++)
			listed += want[idx][x];
		enum blfast_verdict v = at(rec, idx >> 8, idx & 255, d);
		if (listed > BLFAST_INLINE && listed < 256)
			ck_assert_int_eq(v, BLFAST_WALK);
		else
			ck_assert_int_eq(v, want[idx][d] ? BLFAST_LISTED : BLFAST_UNLISTED);
	}
	free(rec);
	free(e);
}
END_TEST

START_TEST(reader_check)
{
	struct blfast_ent e[] = {E(1, 1, 1, 32, BLFAST_USUAL), E(200, 1, 0, 24, BLFAST_USUAL)};
	size_t len;
	uint8_t *rec = build(BLFAST_NONE, e, 2, &len);
	ck_assert(blfast_valid(rec, len));
	ck_assert(!blfast_valid(rec, len - 1));
	ck_assert(!blfast_valid(rec, 100));
	rec[0] = 2; /* a version we do not know */
	ck_assert(!blfast_valid(rec, len));
	rec[0] = BLFAST_VERSION;
	/* a bit set that the rank does not count: a slot past the end */
	rec[BLFAST_HDR + 8191] |= 1;
	ck_assert(!blfast_valid(rec, len));
	rec[BLFAST_HDR + 8191] &= (uint8_t)~1;
	rec[3] = 200; /* the value's length */
	ck_assert(!blfast_valid(rec, len));
	free(rec);
	/* the builder refuses an entry of another /8 and a bad length */
	struct blfast_ent bad = E(1, 1, 1, 32, BLFAST_USUAL);
	bad.addr[0] = 10;
	ck_assert_int_eq(blfast_build(9, BLFAST_NONE, &bad, 1, VAL, 4, &rec, &len), MX_EINVAL);
	bad = E(1, 1, 1, 33, BLFAST_USUAL);
	ck_assert_int_eq(blfast_build(9, BLFAST_NONE, &bad, 1, VAL, 4, &rec, &len), MX_EINVAL);
	ck_assert_int_eq(blfast_build(9, BLFAST_NONE, NULL, 0, VAL, BLFAST_VAL_MAX + 1, &rec, &len),
	                 MX_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blfast");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, kinds_of_slash24);
	tcase_add_test(tc, three_inline_then_exclusion_carves);
	tcase_add_test(tc, cover_from_a_shorter_prefix);
	tcase_add_test(tc, rank_oracle);
	tcase_add_test(tc, reader_check);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
