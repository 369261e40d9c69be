/* check_bigmem: zeroed buffers on both sides of the mapping threshold,
 * and growth that keeps the contents and zeroes what is new. */
#include "bigmem.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

static int all_zero(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i])
			return 0;
	return 1;
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 1);
}

static int filled(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7 + 1))
			return 0;
	return 1;
}

START_TEST(alloc_is_zeroed)
{
	const size_t sizes[] = {0, 1, 4096, (1u << 20) - 1, 1u << 20, (3u << 20) + 5};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = bigmem_alloc(sizes[i]);
		ck_assert_ptr_nonnull(p);
		ck_assert(all_zero(p, 0, sizes[i]));
		fill(p, sizes[i]);
		bigmem_free(p, sizes[i]);
	}
	bigmem_free(NULL, 5u << 20);
}
END_TEST

START_TEST(resize_keeps_contents_and_zeroes_the_rest)
{
	/* small -> small, small -> mapped, mapped -> mapped (same and larger
	 * huge-page multiple), from NULL. */
	const size_t steps[] = {100, 5000, 1u << 20, (1u << 20) + 10, 7u << 20, 64u << 20};
	uint8_t *p = NULL;
	size_t old = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint8_t *np = bigmem_resize(p, old, steps[i]);
		ck_assert_ptr_nonnull(np);
		ck_assert_msg(filled(np, old), "step %zu lost the contents", i);
		ck_assert_msg(all_zero(np, old, steps[i]), "step %zu: new bytes not zero", i);
		fill(np, steps[i]);
		p = np;
		old = steps[i];
	}
	bigmem_free(p, old);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bigmem");
	TCase *tc = tcase_create("bigmem");
	tcase_add_test(tc, alloc_is_zeroed);
	tcase_add_test(tc, resize_keeps_contents_and_zeroes_the_rest);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
