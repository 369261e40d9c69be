/* udiff: line diff and unified output. */
#include "udiff.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct line {
	const char *p;
	size_t len; /* with the newline, if any */
	uint64_t h;
};

static size_t split(const char *t, size_t len, struct line **out)
{
	size_t n = 0, cap = 0;
	struct line *v = NULL;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (t + i)) + 1 : len - i;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct line *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				free(v);
				*out = NULL;
				return SIZE_MAX;
			}
			v = nv;
		}
		uint64_t h = 1469598103934665603ull;
		for (size_t k = 0; k < l; k++)
			h = (h ^ (unsigned char)t[i + k]) * 1099511628211ull;
		v[n++] = (struct line){t + i, l, h};
		i += l;
	}
	*out = v;
	return n;
}

static int eq(const struct line *a, const struct line *b)
{
	return a->h == b->h && a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

enum { OP_EQ, OP_DEL, OP_INS };

/* The edit script for a[lo..) vs b[lo..) with at most maxd changes, as
 * ops (one per line of either side), or -1 when there are more. */
static long myers(const struct line *a, long n, const struct line *b, long m, long maxd,
		  char **ops_out)
{
	long max = n + m, d, k, x, y;
	if (maxd > max)
		maxd = max;
	long off = maxd + 1, width = 2 * maxd + 3;
	long *v = calloc((size_t)width, sizeof(long));
	long *trace = malloc((size_t)(maxd + 1) * (size_t)width * sizeof(long));
	char *ops = NULL;
	long found = -1;

	if (!v || !trace)
		goto done;
	for (d = 0; d <= maxd && found < 0; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && eq(&a[x], &b[y])) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
		memcpy(trace + d * width, v, (size_t)width * sizeof(long));
	}
	if (found < 0)
		goto done;
	ops = malloc((size_t)(n + m + 1));
	if (!ops)
		goto done;
	/* Walk back from (n, m), writing ops from the end. */
	long pos = n + m;
	x = n;
	y = m;
	for (d = found; d > 0; d--) {
		const long *pv = trace + (d - 1) * width;
		k = x - y;
		long pk = (k == -d || (k != d && pv[off + k - 1] < pv[off + k + 1])) ? k + 1 : k - 1;
		long px = pv[off + pk], py = px - pk;
		while (x > px && y > py) {
			ops[--pos] = OP_EQ;
			x--;
			y--;
		}
		if (pk == k + 1) {
			ops[--pos] = OP_INS;
			y--;
		} else {
			ops[--pos] = OP_DEL;
			x--;
		}
	}
	while (x > 0 && y > 0) {
		ops[--pos] = OP_EQ;
		x--;
		y--;
	}
	/* ops[pos..] is the script; move it to the front */
	memmove(ops, ops + pos, (size_t)(n + m - pos));
	ops[n + m - pos] = -1;
done:
	free(v);
	free(trace);
	*ops_out = ops;
	return ops ? found : (found < 0 ? -1 : -2);
}

static void emit_line(FILE *out, char sign, const struct line *l)
{
	fputc(sign, out);
	fwrite(l->p, 1, l->len, out);
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", out);
}

int udiff_print(FILE *out, const char *a, size_t alen, const char *b, size_t blen,
		const char *label_a, const char *label_b, int context)
{
	struct line *la = NULL, *lb = NULL;
	size_t na = split(a, alen, &la), nb = split(b, blen, &lb);
	char *ops = NULL;
	size_t n_ops = 0;
	int rc = 0;

	if (na == SIZE_MAX || nb == SIZE_MAX) {
		rc = -ENOMEM;
		goto done;
	}
	/* Common head and tail first: edits are local, so Myers only sees
	 * the changed middle. */
	size_t pre = 0, suf = 0;
	while (pre < na && pre < nb && eq(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && eq(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	long mn = (long)(na - pre - suf), mm = (long)(nb - pre - suf);
	char *mid = NULL;
	long d = myers(la + pre, mn, lb + pre, mm, UDIFF_MAX_D, &mid);
	if (d == -2) {
		rc = -ENOMEM;
		goto done;
	}
	ops = malloc(na + nb + 1);
	if (!ops) {
		free(mid);
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < pre; i++)
		ops[n_ops++] = OP_EQ;
	if (mid) {
		for (long i = 0; mid[i] != -1; i++)
			ops[n_ops++] = mid[i];
	} else {
		for (long i = 0; i < mn; i++)
			ops[n_ops++] = OP_DEL;
		for (long i = 0; i < mm; i++)
			ops[n_ops++] = OP_INS;
	}
	free(mid);
	for (size_t i = 0; i < suf; i++)
		ops[n_ops++] = OP_EQ;

	int changed = 0;
	for (size_t i = 0; i < n_ops; i++)
		changed += ops[i] != OP_EQ;
	if (!changed)
		goto done;
	fprintf(out, "--- %s\n+++ %s\n", label_a, label_b);
	/* hunks: ranges of ops around changes, joined when the gap between
	 * them is at most 2 * context */
	size_t i = 0, ia = 0, ib = 0; /* op index, line in a, line in b */
	while (i < n_ops) {
		if (ops[i] == OP_EQ) {
			i++;
			ia++;
			ib++;
			continue;
		}
		size_t start = i, sa = ia, sb = ib, back = 0;
		while (start > 0 && back < (size_t)context && ops[start - 1] == OP_EQ) {
			start--;
			sa--;
			sb--;
			back++;
		}
		size_t end = i, run = 0;
		while (end < n_ops) {
			if (ops[end] != OP_EQ) {
				run = 0;
			} else if (++run > (size_t)(2 * context)) {
				break;
			}
			end++;
		}
		/* trailing context: at most context equal lines */
		size_t eq_tail = 0;
		while (eq_tail < end - start && ops[end - 1 - eq_tail] == OP_EQ)
			eq_tail++;
		if (eq_tail > (size_t)context)
			end -= eq_tail - (size_t)context;
		size_t ca = 0, cb = 0;
		for (size_t k = start; k < end; k++) {
			ca += ops[k] != OP_INS;
			cb += ops[k] != OP_DEL;
		}
		fprintf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ca ? sa + 1 : sa, ca, cb ? sb + 1 : sb, cb);
		size_t xa = sa, xb = sb;
		for (size_t k = start; k < end; k++) {
			if (ops[k] == OP_EQ) {
				emit_line(out, ' ', &la[xa++]);
				xb++;
			} else if (ops[k] == OP_DEL) {
				emit_line(out, '-', &la[xa++]);
			} else {
				emit_line(out, '+', &lb[xb++]);
			}
		}
		i = end;
		ia = xa;
		ib = xb;
	}
	rc = changed;
done:
	free(ops);
	free(la);
	free(lb);
	return rc;
}
