/* blkey: DNSBL keys; see blkey.h for the layout and why it sorts right. */
#include "blkey.h"

#include "errcode.h"
#include "name.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t blkey_list_id(const char *name)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static void put_hdr(uint8_t *out, uint32_t list, int type)
{
	out[0] = (uint8_t)(list >> 24);
	out[1] = (uint8_t)(list >> 16);
	out[2] = (uint8_t)(list >> 8);
	out[3] = (uint8_t)list;
	out[4] = (uint8_t)type;
}

static void mask(uint8_t *a, int bytes, int plen)
{
	for (int i = 0; i < bytes; i++) {
		int bits = plen - 8 * i;
		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (uint8_t)(0xFF << (8 - bits));
	}
}

size_t blkey_ip(uint8_t *out, uint32_t list, int type, const uint8_t *addr, int plen)
{
	int bytes = type == BLKEY_IP4 ? 4 : 16;
	int full = plen < 0 ? 0 : plen / 8; /* bytes kept whole */
	put_hdr(out, list, type);
	memcpy(out + BLKEY_HDR, addr, (size_t)bytes);
	/* On every lookup probe: the partial byte, then zeros. */
	if (full < bytes) {
		out[BLKEY_HDR + full] &= (uint8_t)(0xFF00 >> (plen < 0 ? 0 : plen % 8));
		memset(out + BLKEY_HDR + full + 1, 0, (size_t)(bytes - full - 1));
	}
	out[BLKEY_HDR + bytes] = (uint8_t)plen;
	return BLKEY_HDR + (size_t)bytes + 1;
}

int blkey_domain(uint8_t *out, uint32_t list, const uint8_t *wire, int kind)
{
	size_t off[NAME_MAXLABELS + 1];
	int n = 0;
	size_t o = BLKEY_HDR;

	put_hdr(out, list, BLKEY_DOM);
	for (size_t p = 0; wire[p] && n <= NAME_MAXLABELS; p += 1 + (size_t)wire[p])
		off[n++] = p;
	if (n > NAME_MAXLABELS)
		return MX_ESYNTAX;
	for (int i = n - 1; i >= 0; i--) {
		const uint8_t *l = wire + off[i];
		for (int j = 1; j <= l[0]; j++) {
			if (l[j] < 3)
				return MX_ESYNTAX;
			out[o++] = l[j];
		}
		out[o++] = 0;
	}
	out[o++] = (uint8_t)kind;
	return (int)o;
}

/* One decimal octet label: 1..3 digits, <= 255, no leading zero. Every
 * DNSBL query's name goes through here, so the digits are checked as
 * unsigned differences, without a loop. */
static int octet(const uint8_t *l)
{
	unsigned a, b, c, v;
	switch (l[0]) {
	case 1:
		a = l[1] - (unsigned)'0';
		return a <= 9 ? (int)a : -1;
	case 2:
		a = l[1] - (unsigned)'0';
		b = l[2] - (unsigned)'0';
		return a - 1 <= 8 && b <= 9 ? (int)(a * 10 + b) : -1;
	case 3:
		a = l[1] - (unsigned)'0';
		b = l[2] - (unsigned)'0';
		c = l[3] - (unsigned)'0';
		v = a * 100 + b * 10 + c;
		return a - 1 <= 8 && b <= 9 && c <= 9 && v <= 255 ? (int)v : -1;
	}
	return -1;
}

int blkey_parse_ip4(const uint8_t *rel, size_t rel_len, int n, uint8_t addr[4])
{
	size_t p = 0;
	if (n < 1 || n > 4)
		return -1;
	memset(addr, 0, 4);
	/* RFC 5782 §2.1: the octets in reverse order, so the first label is
	 * the last octet present. */
	for (int i = n - 1; i >= 0; i--) {
		if (p >= rel_len || p + 1 + rel[p] > rel_len)
			return -1;
		int v = octet(rel + p);
		if (v < 0)
			return -1;
		addr[i] = (uint8_t)v;
		p += 1 + (size_t)rel[p];
	}
	return p == rel_len ? n : -1;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int blkey_parse_ip6(const uint8_t *rel, size_t rel_len, int n, uint8_t addr[16])
{
	size_t p = 0;
	if (n < 1 || n > 32 || rel_len != 2 * (size_t)n)
		return -1;
	memset(addr, 0, 16);
	/* RFC 5782 §2.4: nibbles in reverse order, as in ip6.arpa. */
	for (int i = n - 1; i >= 0; i--, p += 2) {
		int v = rel[p] == 1 ? hexval(rel[p + 1]) : -1;
		if (v < 0)
			return -1;
		addr[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	return n;
}

int blkey_to_text(const uint8_t *key, size_t len, char *out, size_t cap, int *type)
{
	char a[INET6_ADDRSTRLEN];
	if (len < BLKEY_HDR + 2)
		return MX_EMALFORMED;
	*type = key[4];
	const uint8_t *b = key + BLKEY_HDR;
	size_t blen = len - BLKEY_HDR;
	int n;
	if (*type == BLKEY_IP4 || *type == BLKEY_IP6) {
		int bytes = *type == BLKEY_IP4 ? 4 : 16;
		if (blen != (size_t)bytes + 1 || b[bytes] > bytes * 8)
			return MX_EMALFORMED;
		inet_ntop(*type == BLKEY_IP4 ? AF_INET : AF_INET6, b, a, sizeof(a));
		if (b[bytes] == bytes * 8)
			n = snprintf(out, cap, "%s", a);
		else
			n = snprintf(out, cap, "%s/%u", a, b[bytes]);
		return n < 0 || (size_t)n >= cap ? MX_ESPACE : n;
	}
	if (*type != BLKEY_DOM || b[blen - 1] < BLKEY_WILD || b[blen - 1] > BLKEY_EXACT)
		return MX_EMALFORMED;
	/* Labels are stored top-down, each ending in 0: walk them backwards. */
	size_t o = 0, end = blen - 1; /* b[end] is the kind byte */
	if (b[end] == BLKEY_WILD) {
		if (cap < 3)
			return MX_ESPACE;
		out[o++] = '*';
	}
	if (end == 0) { /* the root: only "*" makes sense */
		if (o + 2 > cap)
			return MX_ESPACE;
		if (o == 0)
			out[o++] = '.';
		out[o] = 0;
		return (int)o;
	}
	if (b[end - 1] != 0)
		return MX_EMALFORMED;
	size_t stop = end - 1; /* the terminator of the lowest label */
	for (;;) {
		size_t s = stop;
		while (s > 0 && b[s - 1] != 0)
			s--;
		if (s == stop)
			return MX_EMALFORMED; /* empty label */
		if (o > 0) {
			if (o + 1 >= cap)
				return MX_ESPACE;
			out[o++] = '.';
		}
		for (size_t i = s; i < stop; i++) {
			uint8_t c = b[i];
			if (o + 5 >= cap)
				return MX_ESPACE;
			/* ':' and '/' are escaped too, so a name never reads
			 * back as an IPv6 address or a prefix length. */
			if (c == '.' || c == '\\' || c == ':' || c == '/' || c == '*' || c <= ' ' ||
			    c >= 0x7F)
				o += (size_t)snprintf(out + o, cap - o, "\\%03u", c);
			else
				out[o++] = (char)c;
		}
		if (s == 0)
			break;
		stop = s - 1;
	}
	out[o] = 0;
	/* A name like "1.2.3.4" must not read back as an address: write its
	 * first character as an escape. */
	uint8_t probe[16];
	if (o > 0 && o + 4 < cap && inet_pton(AF_INET, out, probe) == 1) {
		char esc[5];
		snprintf(esc, sizeof(esc), "\\%03u", (unsigned char)out[0]);
		memmove(out + 4, out + 1, o); /* the rest and the NUL */
		memcpy(out, esc, 4);
		o += 3;
	}
	return (int)o;
}

int blkey_parse_entry(const char *text, uint8_t addr[16], int *plen, uint8_t wire[256], int *kinds)
{
	char buf[300];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(buf))
		return MX_ESYNTAX;
	memcpy(buf, text, len + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	int type = 0;
	if (inet_pton(AF_INET, buf, addr) == 1)
		type = BLKEY_IP4;
	else if (strchr(buf, ':') && inet_pton(AF_INET6, buf, addr) == 1)
		type = BLKEY_IP6;
	if (type) {
		int max = type == BLKEY_IP4 ? 32 : 128;
		*plen = max;
		if (slash) {
			char *end;
			long v = strtol(slash + 1, &end, 10);
			if (slash[1] < '0' || slash[1] > '9' || *end || v < 0 || v > max)
				return MX_ESYNTAX;
			*plen = (int)v;
		}
		mask(addr, max / 8, *plen);
		return type;
	}
	if (slash)
		return MX_ESYNTAX;
	const char *name = buf;
	*kinds = BLKEY_EXACT;
	if (name[0] == '*' && name[1] == '.') {
		*kinds = BLKEY_WILD;
		name += 2;
	} else if (name[0] == '.' && name[1]) {
		*kinds = BLKEY_WILD | BLKEY_EXACT;
		name += 1;
	}
	/* Domains in lists are host names: no spaces or control bytes. */
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '*' || (unsigned char)*c >= 0x7F)
			return MX_ESYNTAX;
	int n = name_from_text(name, wire);
	if (n < 2)
		return MX_ESYNTAX;
	name_lower(wire, wire, (size_t)n);
	return BLKEY_DOM;
}

double blkey_prefix_size(int type, int plen)
{
	return ldexp(1.0, (type == BLKEY_IP4 ? 32 : 128) - plen);
}

/* Big-endian helpers over 16-byte numbers (IPv4 uses the last 4). */
static int bit(const uint8_t *a, int bytes, int i) /* bit i from the bottom */
{
	return (a[bytes - 1 - i / 8] >> (i % 8)) & 1;
}

static void add_pow2(uint8_t *a, int bytes, int k, int *carry_out)
{
	int carry = 1;
	for (int i = bytes - 1 - k / 8, first = 1; i >= 0 && carry; i--, first = 0) {
		unsigned v = a[i] + (first ? (1u << (k % 8)) : 1u);
		a[i] = (uint8_t)v;
		carry = v > 0xFF;
	}
	*carry_out = carry;
}

int blkey_range_split(int type, const uint8_t *lo, const uint8_t *hi,
		      int (*fn)(void *arg, const uint8_t *addr, int plen), void *arg)
{
	int bytes = type == BLKEY_IP4 ? 4 : 16, bits = bytes * 8;
	uint8_t cur[16];
	memcpy(cur, lo, (size_t)bytes);
	if (memcmp(lo, hi, (size_t)bytes) > 0)
		return MX_ESYNTAX;
	for (;;) {
		/* The largest aligned block starting at cur that ends <= hi. */
		int k = 0;
		while (k < bits && bit(cur, bytes, k) == 0) {
			/* block of 2^(k+1): its last address is cur | (2^(k+1)-1) */
			uint8_t last[16];
			memcpy(last, cur, (size_t)bytes);
			for (int i = 0; i <= k; i++)
				last[bytes - 1 - i / 8] |= (uint8_t)(1u << (i % 8));
			if (memcmp(last, hi, (size_t)bytes) > 0)
				break;
			k++;
		}
		int rc = fn(arg, cur, bits - k);
		if (rc != 0)
			return rc;
		uint8_t last[16];
		memcpy(last, cur, (size_t)bytes);
		for (int i = 0; i < k; i++)
			last[bytes - 1 - i / 8] |= (uint8_t)(1u << (i % 8));
		if (memcmp(last, hi, (size_t)bytes) >= 0)
			return 0;
		int carry;
		if (k == bits)
			return 0;
		add_pow2(cur, bytes, k, &carry);
		if (carry)
			return 0;
	}
}
