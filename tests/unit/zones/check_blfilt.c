/* check_blfilt: the /24 filter's chunk math: which /8s a prefix spans,
 * which bits it sets (a /32, a /24, a /16, prefixes shorter than /8 that
 * fill whole chunks, /0), the bit order, and the builder against a
 * brute-force oracle on random prefixes. */
#include "blfilt.h"
#include "errcode.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *A(unsigned a, unsigned b, unsigned c, unsigned d)
{
	static uint8_t buf[4];
	buf[0] = (uint8_t)a;
	buf[1] = (uint8_t)b;
	buf[2] = (uint8_t)c;
	buf[3] = (uint8_t)d;
	return buf;
}

static size_t popcount(const uint8_t *c)
{
	size_t n = 0;
	for (size_t i = 0; i < BLFILT_CHUNK; i++)
		n += (size_t)__builtin_popcount(c[i]);
	return n;
}

START_TEST(span)
{
	int f, l;
	blfilt_span(A(192, 0, 2, 7), 32, &f, &l);
	ck_assert_int_eq(f, 192);
	ck_assert_int_eq(l, 192);
	blfilt_span(A(10, 1, 0, 0), 8, &f, &l);
	ck_assert_int_eq(f, 10);
	ck_assert_int_eq(l, 10);
	blfilt_span(A(64, 0, 0, 0), 4, &f, &l); /* 64/4 = 64..79 */
	ck_assert_int_eq(f, 64);
	ck_assert_int_eq(l, 79);
	blfilt_span(A(77, 9, 9, 9), 4, &f, &l); /* host bits ignored */
	ck_assert_int_eq(f, 64);
	ck_assert_int_eq(l, 79);
	blfilt_span(A(1, 2, 3, 4), 0, &f, &l);
	ck_assert_int_eq(f, 0);
	ck_assert_int_eq(l, 255);
	blfilt_span(A(255, 255, 255, 255), 1, &f, &l);
	ck_assert_int_eq(f, 128);
	ck_assert_int_eq(l, 255);
}
END_TEST

START_TEST(single_address_and_bit_order)
{
	uint8_t *c = calloc(1, BLFILT_CHUNK);
	blfilt_chunk_set(c, 192, A(192, 0, 2, 77), 32);
	ck_assert_uint_eq(popcount(c), 1);
	/* bit (0 << 8 | 2) = 2: byte 0, third bit from the top */
	ck_assert_uint_eq(c[0], 0x20);
	ck_assert_int_eq(blfilt_test(c, A(192, 0, 2, 0)), 1);
	ck_assert_int_eq(blfilt_test(c, A(192, 0, 2, 255)), 1); /* the whole /24 */
	ck_assert_int_eq(blfilt_test(c, A(192, 0, 3, 77)), 0);
	ck_assert_int_eq(blfilt_test(c, A(192, 1, 2, 77)), 0);
	ck_assert_int_eq(blfilt_test(NULL, A(192, 0, 2, 77)), 0); /* no chunk */
	/* the last /24 of the /8: the last bit */
	blfilt_chunk_set(c, 192, A(192, 255, 255, 1), 32);
	ck_assert_uint_eq(c[BLFILT_CHUNK - 1], 0x01);
	/* a prefix of another /8 sets nothing here */
	blfilt_chunk_set(c, 192, A(193, 0, 0, 0), 16);
	blfilt_chunk_set(c, 192, A(191, 255, 0, 0), 16);
	ck_assert_uint_eq(popcount(c), 2);
	free(c);
}
END_TEST

START_TEST(prefixes_inside_a_slash8)
{
	uint8_t *c = calloc(1, BLFILT_CHUNK);
	blfilt_chunk_set(c, 10, A(10, 20, 0, 0), 16); /* 256 /24s */
	ck_assert_uint_eq(popcount(c), 256);
	ck_assert_int_eq(blfilt_test(c, A(10, 20, 0, 1)), 1);
	ck_assert_int_eq(blfilt_test(c, A(10, 20, 255, 1)), 1);
	ck_assert_int_eq(blfilt_test(c, A(10, 19, 255, 1)), 0);
	ck_assert_int_eq(blfilt_test(c, A(10, 21, 0, 0)), 0);
	memset(c, 0, BLFILT_CHUNK);
	blfilt_chunk_set(c, 10, A(10, 0, 8, 0), 21); /* /24s 8..15: all of byte 1 */
	ck_assert_uint_eq(popcount(c), 8);
	ck_assert_uint_eq(c[1], 0xFF);
	memset(c, 0, BLFILT_CHUNK);
	blfilt_chunk_set(c, 10, A(10, 0, 4, 0), 22); /* 4..7: the low half of byte 0 */
	ck_assert_uint_eq(c[0], 0x0F);
	ck_assert_uint_eq(popcount(c), 4);
	memset(c, 0, BLFILT_CHUNK);
	blfilt_chunk_set(c, 10, A(10, 0, 6, 0), 23);
	ck_assert_uint_eq(c[0], 0x03);
	memset(c, 0, BLFILT_CHUNK);
	blfilt_chunk_set(c, 10, A(10, 0, 0, 128), 25); /* longer than /24: one bit */
	ck_assert_uint_eq(c[0], 0x80);
	ck_assert_uint_eq(popcount(c), 1);
	memset(c, 0, BLFILT_CHUNK);
	blfilt_chunk_set(c, 10, A(10, 0, 0, 0), 8);
	ck_assert_uint_eq(popcount(c), 65536);
	free(c);
}
END_TEST

START_TEST(builder_short_prefixes)
{
	struct blfilt *f = blfilt_new();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(blfilt_add(f, A(64, 0, 0, 0), 4), 0); /* 64.0.0.0 - 79.255.255.255 */
	for (int o = 0; o < 256; o++) {
		if (o >= 64 && o <= 79) {
			ck_assert_ptr_nonnull(f->chunk[o]);
			ck_assert_uint_eq(popcount(f->chunk[o]), 65536);
		} else {
			ck_assert_ptr_null(f->chunk[o]);
		}
	}
	ck_assert_int_eq(blfilt_add(f, A(203, 0, 113, 9), 32), 0);
	ck_assert_uint_eq(popcount(f->chunk[203]), 1);
	ck_assert_int_eq(blfilt_add(f, A(1, 0, 0, 0), 33), MX_EINVAL);
	ck_assert_int_eq(blfilt_add(f, A(1, 0, 0, 0), -1), MX_EINVAL);
	ck_assert_ptr_null(f->chunk[1]);
	blfilt_clear(f);
	for (int o = 0; o < 256; o++)
		ck_assert_ptr_null(f->chunk[o]);
	ck_assert_int_eq(blfilt_add(f, A(9, 9, 9, 9), 0), 0); /* everything */
	for (int o = 0; o < 256; o++)
		ck_assert_uint_eq(popcount(f->chunk[o]), 65536);
	blfilt_free(f);
	blfilt_free(NULL);
}
END_TEST

/* Random prefixes of every length: a /24 tests set exactly when one of
 * them overlaps it. */
START_TEST(builder_random_oracle)
{
	enum { N = 300 };
	uint32_t net[N];
	int len[N];
	struct blfilt *f = blfilt_new();
	srandom(7);
	for (int i = 0; i < N; i++) {
		uint32_t a = (uint32_t)random() << 1 ^ (uint32_t)random();
		/* mostly long prefixes clustered in a few /8s, some short ones */
		a = (a & 0x03FFFFFF) | (uint32_t)(40 + random() % 4) << 24;
		len[i] = i % 25 == 0 ? 6 + (int)(random() % 4) : 9 + (int)(random() % 24);
		uint32_t mask = UINT32_MAX << (32 - len[i]);
		net[i] = a & mask;
		uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
		ck_assert_int_eq(blfilt_add(f, b, len[i]), 0);
	}
	for (int k = 0; k < 50000; k++) {
		uint32_t a = (uint32_t)random() << 1 ^ (uint32_t)random();
		if (k & 1)
			a = (a & 0x07FFFFFF) | 36u << 24; /* near the data */
		uint32_t s24 = a & 0xFFFFFF00;
		int want = 0;
		for (int i = 0; i < N && !want; i++) {
			uint32_t lo = net[i], hi = net[i] | ~(UINT32_MAX << (32 - len[i]));
			want = lo <= s24 + 255 && hi >= s24;
		}
		uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
		ck_assert_msg(blfilt_test(f->chunk[b[0]], b) == want, "%u.%u.%u.%u: want %d", b[0],
			      b[1], b[2], b[3], want);
	}
	blfilt_free(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blfilt");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, span);
	tcase_add_test(tc, single_address_and_bit_order);
	tcase_add_test(tc, prefixes_inside_a_slash8);
	tcase_add_test(tc, builder_short_prefixes);
	tcase_add_test(tc, builder_random_oracle);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
