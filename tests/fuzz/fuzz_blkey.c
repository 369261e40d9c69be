/* fuzz_blkey: the DNSBL key codec (zones/blkey.h) and the listing value
 * codec (blval in zones/blstore.h), both of which read bytes that come
 * from users (entries, query names) or from a database file on disk.
 *
 * Byte 0 picks the function, the rest is its input:
 *   0  an entry in the plain syntax: parse, encode as a key, print the key,
 *      parse that again: the same key must come back (round trip)
 *   1  a query name below a DNSBL apex (dots split the labels): the IPv4
 *      and IPv6 readers, whose results must encode and print
 *   2  a key read from the database: blkey_to_text must refuse or print
 *      a bounded string, whatever the bytes
 *   3  a value read from the database (either version): blval_decode, and
 *      a decoded value must encode (version 2) and decode to the same
 *      value, unless it holds a version 1 reference, which is refused
 *   4  a range lo-hi (IPv4 or IPv6 by length): the prefixes must tile it
 *      exactly, in order, each aligned */
#include "fuzz.h"

#include "blkey.h"
#include "blstore.h"
#include "errcode.h"

static void fuzz_blkey_roundtrip(const uint8_t *key, size_t klen)
{
	char text[1100];
	int type = 0, plen = 0, kinds = 0;
	uint8_t addr[16], wire[256], key2[BLKEY_MAX];
	int n = blkey_to_text(key, klen, text, sizeof(text), &type);
	FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(text) && strlen(text) == (size_t)n);
	int t = blkey_parse_entry(text, addr, &plen, wire, &kinds);
	if (t == MX_ESYNTAX) {
		/* The printed form of a name of up to 255 bytes can be longer
		 * than an entry line may be (\DDD escapes); nothing else may
		 * fail to parse back. */
		FUZZ_CHECK(n >= 299);
		return;
	}
	FUZZ_CHECK(t == type);
	size_t k2;
	uint32_t id = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	if (t == BLKEY_DOM) {
		FUZZ_CHECK(kinds == key[klen - 1]);
		int r = blkey_domain(key2, id, wire, kinds);
		FUZZ_CHECK(r > 0);
		k2 = (size_t)r;
	} else {
		k2 = blkey_ip(key2, id, t, addr, plen);
	}
	if (k2 != klen || memcmp(key2, key, klen) != 0) {
		fprintf(stderr, "fuzz_blkey: key printed as '%s' parses to another key\n", text);
		abort();
	}
}

static void fuzz_blkey_entry(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	uint8_t addr[16], wire[256], key[BLKEY_MAX];
	int plen = -1, kinds = 0;
	FUZZ_CHECK(text != NULL);
	int t = blkey_parse_entry(text, addr, &plen, wire, &kinds);
	uint32_t id = blkey_list_id("fuzz");
	if (t == BLKEY_IP4 || t == BLKEY_IP6) {
		FUZZ_CHECK(plen >= 0 && plen <= (t == BLKEY_IP4 ? 32 : 128));
		FUZZ_CHECK(blkey_prefix_size(t, plen) >= 1.0);
		size_t n = blkey_ip(key, id, t, addr, plen);
		FUZZ_CHECK(n == BLKEY_HDR + (t == BLKEY_IP4 ? 4u : 16u) + 1);
		fuzz_blkey_roundtrip(key, n);
	} else if (t == BLKEY_DOM) {
		FUZZ_CHECK(kinds >= 1 && kinds <= 3);
		for (int kind = BLKEY_WILD; kind <= BLKEY_EXACT; kind++) {
			if (!(kinds & kind))
				continue;
			int n = blkey_domain(key, id, wire, kind);
			FUZZ_CHECK(n > 0 || n == MX_ESYNTAX);
			if (n > 0) {
				FUZZ_CHECK(n <= BLKEY_MAX);
				fuzz_blkey_roundtrip(key, (size_t)n);
			}
		}
	} else {
		FUZZ_CHECK(t == MX_ESYNTAX);
	}
	free(text);
}

static void fuzz_blkey_qname(const uint8_t *data, size_t size)
{
	/* Dots separate labels, as in the presentation form; a label is
	 * cut at 63 bytes and the name at 250, so it is valid wire. */
	uint8_t rel[256], addr[16], key[BLKEY_MAX];
	size_t len = 0, start = 0;
	int n = 0;
	rel[0] = 0;
	for (size_t i = 0; i <= size && len < 250; i++) {
		if (i == size || data[i] == '.') {
			size_t l = i - start;
			if (l > 63)
				l = 63;
			if (l > 0 && len + 1 + l <= 250) {
				rel[len] = (uint8_t)l;
				memcpy(rel + len + 1, data + start, l);
				len += 1 + l;
				n++;
			}
			start = i + 1;
		}
	}
	int o = blkey_parse_ip4(rel, len, n, addr);
	FUZZ_CHECK(o == -1 || (o >= 1 && o <= 4 && o == n));
	if (o > 0)
		fuzz_blkey_roundtrip(key, blkey_ip(key, 7, BLKEY_IP4, addr, 8 * o));
	o = blkey_parse_ip6(rel, len, n, addr);
	FUZZ_CHECK(o == -1 || (o >= 1 && o <= 32 && o == n));
	if (o > 0)
		fuzz_blkey_roundtrip(key, blkey_ip(key, 7, BLKEY_IP6, addr, 4 * o));
}

static void fuzz_blkey_key(const uint8_t *data, size_t size)
{
	/* Exactly sized copy: reads past the key are ASan errors. */
	uint8_t *key = malloc(size ? size : 1);
	char out[64];
	int type = 0;
	FUZZ_CHECK(key != NULL);
	memcpy(key, data, size);
	char *big = malloc(1100);
	FUZZ_CHECK(big != NULL);
	int n = blkey_to_text(key, size, big, 1100, &type);
	FUZZ_CHECK(n == MX_EMALFORMED || n == MX_ESPACE || (n >= 0 && (size_t)n == strlen(big)));
	/* A small buffer must be refused, never overrun. */
	for (size_t cap = 1; cap <= sizeof(out); cap += 7) {
		char *small = malloc(cap);
		FUZZ_CHECK(small != NULL);
		n = blkey_to_text(key, size, small, cap, &type);
		FUZZ_CHECK(n < 0 || (size_t)n < cap);
		free(small);
	}
	free(big);
	free(key);
}

static void fuzz_blkey_value(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1), *again = malloc(BLVAL_MAX);
	struct blval v;
	FUZZ_CHECK(buf && again);
	memcpy(buf, data, size);
	memset(&v, 0, sizeof(v));
	if (blval_decode(buf, size, &v) == 0) {
		FUZZ_CHECK(v.n_codes <= BLVAL_MAX_CODES);
		FUZZ_CHECK(v.reason_len == 0 || (v.reason >= (char *)buf &&
						  v.reason + v.reason_len <= (char *)buf + size));
		FUZZ_CHECK(v.source_len == 0 || (v.source >= (char *)buf &&
						  v.source + v.source_len <= (char *)buf + size));
		int n = blval_encode(&v, again, BLVAL_MAX);
		/* A version 1 value's 8-byte reference is resolved, never
		 * written again as it is. */
		if (((v.flags & BLVAL_REASON_REF) && v.reason_len != BLVAL_REF_LEN) ||
		    ((v.flags & BLVAL_SOURCE_REF) && v.source_len != BLVAL_REF_LEN)) {
			FUZZ_CHECK(n == MX_EMALFORMED);
			goto done;
		}
		FUZZ_CHECK(n > 0);
		struct blval w;
		memset(&w, 0, sizeof(w));
		FUZZ_CHECK(blval_decode(again, (size_t)n, &w) == 0);
		FUZZ_CHECK(w.flags == v.flags && w.n_codes == v.n_codes);
		FUZZ_CHECK(w.listed_at == v.listed_at && w.expires == v.expires);
		FUZZ_CHECK(w.reason_len == v.reason_len && w.source_len == v.source_len);
		FUZZ_CHECK(memcmp(w.codes, v.codes, 4u * v.n_codes) == 0);
		FUZZ_CHECK(v.reason_len == 0 || memcmp(w.reason, v.reason, v.reason_len) == 0);
		FUZZ_CHECK(v.source_len == 0 || memcmp(w.source, v.source, v.source_len) == 0);
	}
done:
	free(again);
	free(buf);
}

struct fuzz_blkey_tile {
	int bytes;
	uint8_t next[16]; /* the first address not yet covered */
	int done;         /* next wrapped past the top */
	int count;
};

static int fuzz_blkey_tile_fn(void *arg, const uint8_t *addr, int plen)
{
	struct fuzz_blkey_tile *t = arg;
	int bits = t->bytes * 8;
	FUZZ_CHECK(!t->done && plen >= 0 && plen <= bits);
	FUZZ_CHECK(memcmp(addr, t->next, (size_t)t->bytes) == 0);
	/* Aligned: no bit below the prefix length is set. */
	for (int i = plen; i < bits; i++)
		FUZZ_CHECK(!(addr[i / 8] & (0x80 >> (i % 8))));
	/* next = addr + 2^(bits - plen); past the top when it carries out. */
	int k = bits - plen, carry = 1;
	if (k < bits) {
		int i = t->bytes - 1 - k / 8;
		unsigned v = t->next[i] + (1u << (k % 8));
		t->next[i] = (uint8_t)v;
		carry = v > 0xFF;
		for (i--; i >= 0 && carry; i--)
			carry = ++t->next[i] == 0;
	}
	t->done = carry;
	t->count++;
	FUZZ_CHECK(t->count <= 2 * bits);
	return 0;
}

static void fuzz_blkey_range(const uint8_t *data, size_t size)
{
	int bytes = size >= 32 ? 16 : 4;
	if (size < 2u * bytes)
		return;
	const uint8_t *lo = data, *hi = data + bytes;
	struct fuzz_blkey_tile t = {.bytes = bytes};
	memcpy(t.next, lo, (size_t)bytes);
	int rc = blkey_range_split(bytes == 4 ? BLKEY_IP4 : BLKEY_IP6, lo, hi, fuzz_blkey_tile_fn,
				   &t);
	if (memcmp(lo, hi, (size_t)bytes) > 0) {
		FUZZ_CHECK(rc == MX_ESYNTAX && t.count == 0);
		return;
	}
	FUZZ_CHECK(rc == 0);
	/* Covered up to hi exactly: next is hi + 1 (or wrapped). */
	uint8_t after[16];
	memcpy(after, hi, (size_t)bytes);
	int carry = 1;
	for (int i = bytes - 1; i >= 0 && carry; i--)
		carry = ++after[i] == 0;
	FUZZ_CHECK(t.done == carry);
	if (!carry)
		FUZZ_CHECK(memcmp(after, t.next, (size_t)bytes) == 0);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_blkey_entry(data + 1, size - 1);
		break;
	case 1:
		fuzz_blkey_qname(data + 1, size - 1);
		break;
	case 2:
		fuzz_blkey_key(data + 1, size - 1);
		break;
	case 3:
		fuzz_blkey_value(data + 1, size - 1);
		break;
	default:
		fuzz_blkey_range(data + 1, size - 1);
		break;
	}
	return 0;
}
