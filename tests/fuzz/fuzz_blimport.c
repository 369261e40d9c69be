/* fuzz_blimport: the listing importer (zones/blimport.h), parse side only:
 * rbldnsd data files and the plain format, read from memory into a batch
 * that is then sorted. Nothing is written to a database; instead every
 * key and value in the batch must decode with the codecs the daemon reads
 * them with (blkey_to_text, blval_decode), so a line the importer accepts
 * can never store bytes the server cannot read.
 *
 * Byte 0 picks the format (low nibble, see formats[] below) and bit 4 sets
 * skip_bad (bad lines are counted and skipped instead of failing). */
#include "fuzz.h"

#include "blimport.h"
#include "blkey.h"
#include "blstore.h"
#include "errcode.h"

static const char *const fuzz_blimport_formats[] = {
	"plain",   "ip4set",  "ip4tset",  "ip4trie", "ip6tset",
	"ip6trie", "dnset",   "combined", "generic", "rbldnsd-ip4set",
};

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static int quiet;
	struct blimport im;
	char err[512];
	if (!quiet) {
		fuzz_quiet();
		quiet = 1;
	}
	if (size < 1)
		return 0;
	size_t nf = sizeof(fuzz_blimport_formats) / sizeof(fuzz_blimport_formats[0]);
	struct blimport_opts o = {
		.format = fuzz_blimport_formats[(data[0] & 15) % nf],
		.list = "fuzz",
		.n_codes = 1,
		.codes = {{127, 0, 0, 2}},
		.now = 1767225600,
		.skip_bad = (data[0] & 16) != 0,
		.report = NULL,
	};
	blimport_init(&im);
	/* An empty fmemopen buffer is an error in older glibc: use a byte
	 * that the parsers skip. */
	FILE *fp = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : fmemopen("\n", 1, "r");
	FUZZ_CHECK(fp != NULL);
	err[0] = '\0';
	int rc = blimport_stream(&im, fp, "fuzz.data", &o, err, sizeof(err));
	fclose(fp);
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(!o.skip_bad || rc == -ENOMEM || rc == MX_ELIMIT || rc == MX_EINVAL ||
			   strstr(err, "read error"));
	} else {
		blimport_sort(&im);
		FUZZ_CHECK(im.n_lists >= 1 && im.n_lists <= BLIMPORT_MAX_LISTS);
		for (size_t i = 0; i < im.n; i++) {
			const struct blimport_entry *e = &im.e[i];
			char text[1100];
			int type;
			struct blval v;
			FUZZ_CHECK(e->koff + e->klen <= im.pool_len && e->voff + e->vlen <= im.pool_len);
			FUZZ_CHECK(e->list < im.n_lists);
			FUZZ_CHECK(e->klen <= BLKEY_MAX);
			int n = blkey_to_text(im.pool + e->koff, e->klen, text, sizeof(text), &type);
			if (n < 0) {
				fprintf(stderr, "fuzz_blimport: entry %zu: key does not decode (%d)\n",
					i, n);
				abort();
			}
			FUZZ_CHECK(blval_decode(im.pool + e->voff, e->vlen, &v) == 0);
			if (i > 0) {
				/* Sorted, and no duplicate left. */
				const struct blimport_entry *p = &im.e[i - 1];
				size_t m = p->klen < e->klen ? p->klen : e->klen;
				int c = memcmp(im.pool + p->koff, im.pool + e->koff, m);
				FUZZ_CHECK(c < 0 || (c == 0 && p->klen < e->klen));
			}
		}
	}
	for (size_t i = 0; i < im.n_lists; i++)
		FUZZ_CHECK(im.lists[i] != NULL);
	blimport_cleanup(&im);
	return 0;
}
