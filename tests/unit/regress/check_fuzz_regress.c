/* check_fuzz_regress: every input a fuzzer ever crashed on stays a test.
 *
 * Replays, through the very entry functions the libFuzzer targets use
 * (tests/fuzz/fuzz_*.c, compiled here without libFuzzer by fuzz_shim.h):
 *   - tests/fuzz/regress/NAME/ *: inputs that once crashed or broke an
 *     invariant (named after what broke);
 *   - tests/fuzz/corpus/NAME/ *: the seed corpus, so a plain or sanitizer
 *     build (-DMXDNS_SANITIZE=ON) runs every target on real inputs too.
 * A crash or a failed FUZZ_CHECK aborts the forked test, which Check
 * reports with the target's name; the file being replayed is printed to
 * stderr just before. */
#include "fuzz_shim.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_DIR MXDNS_SOURCE_DIR "/tests/fuzz"

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	/* Exactly sized (at least 1 byte for malloc), as libFuzzer passes it. */
	*data = malloc(n ? (size_t)n : 1);
	if (!*data || fread(*data, 1, (size_t)n, f) != (size_t)n) {
		free(*data);
		fclose(f);
		return -1;
	}
	*size = (size_t)n;
	fclose(f);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays every regular file of dir through t; returns how many. A
 * missing directory is zero files. */
static int replay_dir(const struct fuzz_target *t, const char *dir)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, by_name), done = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			uint8_t *data = NULL;
			size_t size = 0;
			ck_assert_msg(read_file(path, &data, &size) == 0, "cannot read %s", path);
			fprintf(stderr, "fuzz_%s: replaying %s\n", t->name, path);
			t->entry(data, size);
			free(data);
			done++;
		}
		free(ents[i]);
	}
	free(ents);
	return done;
}

START_TEST(regress)
{
	const struct fuzz_target *t = &fuzz_targets[_i];
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/regress/%s", FUZZ_DIR, t->name);
	replay_dir(t, dir);
}
END_TEST

START_TEST(corpus)
{
	const struct fuzz_target *t = &fuzz_targets[_i];
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/corpus/%s", FUZZ_DIR, t->name);
	/* Every target has a seed corpus (tests/fuzz/README.md). */
	ck_assert_msg(replay_dir(t, dir) > 0, "fuzz_%s: no seed corpus in %s", t->name, dir);
}
END_TEST

/* Each tests/fuzz/fuzz_NAME.c is in the shim's table, so no target's
 * crashes can go unreplayed. */
START_TEST(every_target_listed)
{
	struct dirent **ents = NULL;
	int n = scandir(FUZZ_DIR, &ents, NULL, by_name), found = 0;
	ck_assert_msg(n > 0, "cannot list %s", FUZZ_DIR);
	for (int i = 0; i < n; i++) {
		const char *f = ents[i]->d_name;
		size_t len = strlen(f);
		if (strncmp(f, "fuzz_", 5) == 0 && len > 7 && strcmp(f + len - 2, ".c") == 0) {
			int listed = 0;
			for (size_t k = 0; k < FUZZ_N_TARGETS; k++)
				listed |= strlen(fuzz_targets[k].name) == len - 7 &&
					  strncmp(fuzz_targets[k].name, f + 5, len - 7) == 0;
			ck_assert_msg(listed, "%s is not in tests/unit/regress/fuzz_shim.h", f);
			found++;
		}
		free(ents[i]);
	}
	free(ents);
	ck_assert_int_eq(found, FUZZ_N_TARGETS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_target_listed);
	tcase_add_loop_test(tc, regress, 0, (int)FUZZ_N_TARGETS);
	tcase_add_loop_test(tc, corpus, 0, (int)FUZZ_N_TARGETS);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
