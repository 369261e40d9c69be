/* fuzz_txtrec: the TXT value helpers every mail record goes through
 * (tools/txtrec.h): the RFC 6376 §3.2 tag-list parser, and the
 * presentation-format writer and reader, which must be inverses.
 *
 * Byte 0 picks: 0 tag list, 1 txtrec_join on pasted text, 2 a value
 * through txtrec_format and back through txtrec_join (must come back
 * byte for byte, in strings of at most 255 bytes). */
#include "fuzz.h"

#include "errcode.h"
#include "txtrec.h"

static void fuzz_txtrec_tags(const char *text, size_t len)
{
	struct txtrec_tags *t = malloc(sizeof(*t));
	FUZZ_CHECK(t != NULL);
	int rc = txtrec_tags_parse(text, len, t);
	FUZZ_CHECK(rc == 0 || rc == MX_ESYNTAX || rc == MX_ELIMIT || rc == -ENOMEM);
	if (rc == 0) {
		FUZZ_CHECK(t->count <= TXTREC_TAGS_MAX);
		for (size_t i = 0; i < t->count; i++) {
			FUZZ_CHECK(t->tag[i].value != NULL && t->tag[i].offset < len);
			FUZZ_CHECK(txtrec_tags_get(t, t->tag[i].name) == &t->tag[i]);
		}
	} else if (rc == MX_ESYNTAX) {
		FUZZ_CHECK(t->err[0] != '\0');
	}
	txtrec_tags_cleanup(t);
	free(t);
}

static void fuzz_txtrec_join(const char *text)
{
	size_t cap = strlen(text) + 1, outlen = 0;
	char *out = malloc(cap);
	FUZZ_CHECK(out != NULL);
	int rc = txtrec_join(text, out, cap, &outlen);
	FUZZ_CHECK(rc == 0 || rc == MX_ESYNTAX || rc == MX_ESPACE);
	if (rc == 0)
		FUZZ_CHECK(outlen < cap && out[outlen] == '\0');
	free(out);
}

static void fuzz_txtrec_roundtrip(const char *value, size_t len)
{
	/* Worst case: every byte as \DDD, plus quotes and separators. */
	size_t cap = len * 4 + (txtrec_count(len) + 1) * 4 + 1;
	char *text = malloc(cap), *back = malloc(len + 1);
	size_t backlen = 0;
	FUZZ_CHECK(text && back);
	int n = txtrec_format(value, len, " ", text, cap);
	FUZZ_CHECK(n >= 0 && (size_t)n < cap && strlen(text) == (size_t)n);
	int rc = txtrec_join(text, back, len + 1, &backlen);
	if (rc != 0 || backlen != len || memcmp(back, value, len) != 0) {
		fprintf(stderr, "fuzz_txtrec: format/join round trip failed (rc %d, %zu -> %zu)\n",
			rc, len, backlen);
		abort();
	}
	/* Too small a buffer is refused, not overrun. */
	if (n > 0) {
		char *small = malloc((size_t)n);
		FUZZ_CHECK(small != NULL);
		FUZZ_CHECK(txtrec_format(value, len, " ", small, (size_t)n) == MX_ESPACE);
		free(small);
	}
	free(back);
	free(text);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *buf = malloc(size - 1 ? size - 1 : 1);
	char *text = fuzz_cstr(data + 1, size - 1);
	FUZZ_CHECK(buf && text);
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		fuzz_txtrec_tags(buf, size - 1);
		break;
	case 1:
		fuzz_txtrec_join(text);
		break;
	default:
		fuzz_txtrec_roundtrip(buf, size - 1);
		break;
	}
	free(text);
	free(buf);
	return 0;
}
