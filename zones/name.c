/* name: wire-form domain names. */
#include "name.h"

#include "errcode.h"

#include <stdio.h>
#include <string.h>

int name_unpack(const uint8_t *pkt, size_t len, size_t *pos, uint8_t out[NAME_MAXLEN])
{
	size_t p = *pos, n = 0, end = 0;
	size_t lowest = p; /* pointers must go strictly below every earlier jump */
	int jumped = 0;

	for (;;) {
		if (p >= len)
			return MX_EMALFORMED;
		uint8_t c = pkt[p];
		if ((c & 0xC0) == 0xC0) {
			if (p + 1 >= len)
				return MX_EMALFORMED;
			size_t target = ((size_t)(c & 0x3F) << 8) | pkt[p + 1];
			if (!jumped)
				end = p + 2;
			if (target >= lowest)
				return MX_EMALFORMED; /* forward pointer or loop */
			lowest = target;
			p = target;
			jumped = 1;
			continue;
		}
		if (c & 0xC0)
			return MX_EMALFORMED; /* RFC 6891 §5: extended label types are gone */
		if (n + 1 + c > NAME_MAXLEN || p + 1 + c > len)
			return MX_EMALFORMED;
		memcpy(out + n, pkt + p, 1 + (size_t)c);
		n += 1 + (size_t)c;
		p += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	*pos = jumped ? end : p;
	return (int)n;
}

size_t name_len(const uint8_t *name)
{
	size_t n = 0;
	while (name[n])
		n += 1 + (size_t)name[n];
	return n + 1;
}

int name_count_labels(const uint8_t *name)
{
	int k = 0;
	for (size_t n = 0; name[n]; n += 1 + (size_t)name[n])
		k++;
	return k;
}

/* 0x20 in every byte of x that is 'A'..'Z' (SWAR: no per-byte branch). */
static inline uint64_t upper_bits(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t low7 = x & ~high;
	uint64_t ge_a = low7 + ones * (0x80 - 'A');     /* bit 7 set: byte >= 'A' */
	uint64_t gt_z = low7 + ones * (0x80 - 'Z' - 1); /* bit 7 set: byte > 'Z' */
	return ((ge_a ^ gt_z) & ~x & high) >> 2;
}

void name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	/* Length bytes are at most 63, below 'A', so the whole wire form can
	 * be folded without looking at its structure. */
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t x;
		memcpy(&x, src + i, 8);
		x |= upper_bits(x);
		memcpy(dst + i, &x, 8);
	}
	if (i < len) {
		uint64_t x = 0;
		memcpy(&x, src + i, len - i);
		x |= upper_bits(x);
		memcpy(dst + i, &x, len - i);
	}
}

int name_from_text(const char *text, uint8_t out[NAME_MAXLEN])
{
	size_t n = 0, lab = 0; /* lab: position of the current label's length byte */
	const char *s = text;

	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	out[0] = 0;
	while (*s) {
		int c = (unsigned char)*s++;
		if (c == '.') {
			if (out[lab] == 0)
				return MX_ESYNTAX; /* empty label */
			lab = ++n;
			if (n >= NAME_MAXLEN)
				return MX_ESYNTAX;
			out[n] = 0;
			continue;
		}
		if (c == '\\') {
			if (s[0] >= '0' && s[0] <= '9') {
				if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
					return MX_ESYNTAX;
				c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
				if (c > 255)
					return MX_ESYNTAX;
				s += 3;
			} else if (*s) {
				c = (unsigned char)*s++;
			} else {
				return MX_ESYNTAX;
			}
		}
		if (out[lab] == 63 || n + 2 >= NAME_MAXLEN)
			return MX_ESYNTAX;
		out[lab]++;
		out[++n] = (uint8_t)c;
	}
	if (out[lab] != 0) { /* no final dot: close the last label */
		lab = ++n;
		if (n >= NAME_MAXLEN)
			return MX_ESYNTAX;
		out[n] = 0;
	}
	return (int)n + 1;
}

int name_to_text(const uint8_t *name, char *out, size_t cap)
{
	size_t o = 0;
	if (name[0] == 0) {
		if (cap < 2)
			return MX_ESPACE;
		memcpy(out, ".", 2);
		return 1;
	}
	for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) {
		for (size_t i = 1; i <= name[p]; i++) {
			uint8_t c = name[p + i];
			if (o + 5 >= cap)
				return MX_ESPACE;
			if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' ||
			    c == '@' || c == '$')
				o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
			else if (c <= ' ' || c >= 0x7F)
				o += (size_t)snprintf(out + o, cap - o, "\\%03u", c);
			else
				out[o++] = (char)c;
		}
		if (o + 2 >= cap)
			return MX_ESPACE;
		out[o++] = '.';
	}
	out[o] = 0;
	return (int)o;
}

int name_is_below_or_at(const uint8_t *name, size_t nlen, const uint8_t *parent, size_t plen)
{
	if (plen > nlen)
		return 0;
	/* The suffix must start on a label boundary. */
	for (size_t p = 0; p + plen <= nlen; p += 1 + (size_t)name[p]) {
		if (p + plen == nlen)
			return memcmp(name + p, parent, plen) == 0;
		if (name[p] == 0)
			break;
	}
	return 0;
}
