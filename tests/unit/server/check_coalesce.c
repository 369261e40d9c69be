/* check_coalesce: when a UDP worker pauses before polling again: never
 * when idle or behind, under load from independent clients, and not for
 * long when a closed-loop client gains nothing from the pause. */
#include "coalesce.h"

#include <check.h>

#define BATCH 64

/* One wakeup that read one batch of n, then the poll. Returns whether
 * the worker paused. */
static int wakeup(struct coalesce *c, int n)
{
	coalesce_after_reads(c, n, n);
	return coalesce_take(c);
}

START_TEST(idle_never_pauses)
{
	struct coalesce c;
	coalesce_init(&c, BATCH);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(wakeup(&c, 1 + i % (COALESCE_MIN - 1)), 0);
	/* Nothing read (a spurious wakeup) asks for nothing either. */
	ck_assert_int_eq(wakeup(&c, 0), 0);
}
END_TEST

START_TEST(queue_pauses_once_per_poll)
{
	struct coalesce c;
	coalesce_init(&c, BATCH);
	ck_assert_int_eq(wakeup(&c, COALESCE_MIN), 1);
	/* The request is used up by the pause. */
	ck_assert_int_eq(coalesce_take(&c), 0);
}
END_TEST

START_TEST(behind_never_pauses)
{
	struct coalesce c;
	coalesce_init(&c, BATCH);
	/* Eight full batches and still full: the queue is longer than a
	 * wakeup reads, so pausing would only make it longer. */
	coalesce_after_reads(&c, BATCH, BATCH);
	ck_assert_int_eq(coalesce_take(&c), 0);
	/* Full first, then drained to a few: those few ask for a pause. */
	coalesce_after_reads(&c, BATCH, 5);
	ck_assert_int_eq(coalesce_take(&c), 1);
}
END_TEST

START_TEST(open_load_keeps_pausing)
{
	struct coalesce c;
	coalesce_init(&c, BATCH);
	/* Independent clients: around 12 a batch, growing after every other
	 * pause and never growing after the others, for 10,000 pauses. */
	for (int i = 0; i < 10000; i++)
		ck_assert_msg(wakeup(&c, i % 2 ? 13 : 11), "no pause at wakeup %d", i);
	/* Long runs without growth, if each ends in growth, stay on too. */
	for (int i = 0; i < 100; i++) {
		for (int j = 0; j < COALESCE_FLAT - 1; j++)
			ck_assert_int_eq(wakeup(&c, 12), 1);
		ck_assert_int_eq(wakeup(&c, 20), 1);
	}
}
END_TEST

START_TEST(closed_loop_backs_off)
{
	struct coalesce c;
	coalesce_init(&c, BATCH);
	/* A client with 8 queries in flight: every batch is 8. */
	int paused = 0;
	for (int i = 0; i < COALESCE_FLAT; i++)
		paused += wakeup(&c, 8);
	ck_assert_int_eq(paused, COALESCE_FLAT);
	/* The read after the last of those pauses is judged, and it is the
	 * first of COALESCE_BACKOFF chances without a pause. */
	for (int i = 0; i < COALESCE_BACKOFF; i++)
		ck_assert_msg(!wakeup(&c, 8), "paused at chance %d of the back-off", i);
	/* And tries again after it. */
	ck_assert_int_eq(wakeup(&c, 8), 1);
	/* Over a long closed loop, pauses stay a small share of wakeups. */
	paused = 0;
	for (int i = 0; i < 100000; i++)
		paused += wakeup(&c, 8);
	ck_assert_int_lt(paused, 100000 / 20);
}
END_TEST

START_TEST(growth_resets_the_count)
{
	struct coalesce c;
	coalesce_init(&c, BATCH);
	for (int i = 0; i < COALESCE_FLAT - 1; i++)
		ck_assert_int_eq(wakeup(&c, 8), 1);
	ck_assert_int_eq(wakeup(&c, 9), 1); /* grew: the count starts over */
	for (int i = 0; i < COALESCE_FLAT - 1; i++)
		ck_assert_int_eq(wakeup(&c, 9), 1);
	/* A full batch after a pause counts as growth too. */
	coalesce_after_reads(&c, BATCH, 9);
	ck_assert_int_eq(coalesce_take(&c), 1);
	for (int i = 0; i < COALESCE_FLAT - 1; i++)
		ck_assert_int_eq(wakeup(&c, 9), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("coalesce");
	TCase *tc = tcase_create("coalesce");
	tcase_add_test(tc, idle_never_pauses);
	tcase_add_test(tc, queue_pauses_once_per_poll);
	tcase_add_test(tc, behind_never_pauses);
	tcase_add_test(tc, open_load_keeps_pausing);
	tcase_add_test(tc, closed_loop_backs_off);
	tcase_add_test(tc, growth_resets_the_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
