/* fuzz: what every libFuzzer target in this directory shares.
 *
 * A target is one file, fuzz_NAME.c, defining FUZZ_ENTRY (by default
 * LLVMFuzzerTestOneInput). tests/unit/regress/ includes the same files
 * with FUZZ_ENTRY renamed, so the inputs saved under tests/fuzz/regress/
 * are replayed by a plain Check test without libFuzzer. For that, all
 * file-scope names in a target start with the target's name, and a target
 * initialises itself lazily (no LLVMFuzzerInitialize).
 *
 * Targets must be deterministic (no clock, no randomness) and leave no
 * state behind between runs except what their one-time set-up builds. */
#ifndef MXDNS_FUZZ_H
#define MXDNS_FUZZ_H

#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

/* An invariant the code under test promises: abort (which libFuzzer and
 * the regression test report as a crash) with the condition's text. */
#define FUZZ_CHECK(cond)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                             \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* The input as a NUL-terminated string (embedded NULs end it early, as
 * they would for a reader of C strings). The caller frees it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Logging at warning level would print a line per odd input. */
static inline void fuzz_quiet(void)
{
	log_setup("fuzz", 0, LOG_CRIT);
}

#endif
