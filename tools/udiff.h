/* udiff: a unified diff of two texts, line by line (Myers' O(ND)
 * algorithm, E. Myers, "An O(ND) Difference Algorithm and Its
 * Variations", 1986), for `mxdns zone diff` and --dry-run. */
#ifndef MXDNS_UDIFF_H
#define MXDNS_UDIFF_H

#include <stddef.h>
#include <stdio.h>

#define UDIFF_MAX_D 2000 /* beyond this many changed lines: one hunk of all of them */

/* Writes "--- label_a", "+++ label_b" and the hunks with context lines
 * around each change; nothing when the texts are equal. Returns the
 * number of changed lines (0: equal) or -ENOMEM. */
int udiff_print(FILE *out, const char *a, size_t alen, const char *b, size_t blen,
		const char *label_a, const char *label_b, int context);

#endif
