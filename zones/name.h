/* name: domain names in wire form (RFC 1035 §3.1), the form every lookup
 * in the project uses. A name is a sequence of length-prefixed labels
 * ending in the root label (0); at most NAME_MAXLEN bytes in all. */
#ifndef MXDNS_NAME_H
#define MXDNS_NAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NAME_MAXLEN 255
#define NAME_MAXLABELS 127

/* Reads a possibly compressed name at *pos in pkt[0..len) into out and
 * advances *pos past it. Rejects labels over 63 bytes, names over 255,
 * pointers that do not point strictly backwards (loops), and reserved
 * label types. Returns the name's length or MX_EMALFORMED. */
int name_unpack(const uint8_t *pkt, size_t len, size_t *pos, uint8_t out[NAME_MAXLEN]);

/* Length of a valid uncompressed name, including the root label. */
size_t name_len(const uint8_t *name);

/* Number of labels, not counting the root. */
int name_count_labels(const uint8_t *name);

/* ASCII-lowercases len bytes of a wire name (labels' length bytes are < 64
 * so they are never changed). dst may equal src. */
void name_lower(uint8_t *dst, const uint8_t *src, size_t len);

/* Hash of len bytes of a (lowercased) name, for the lookup tables. Eight
 * bytes per step: names are short, and the query path hashes several. */
static inline uint32_t name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, name, 8);
		h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 29;
		name += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = 0;
		memcpy(&v, name, len);
		h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
	}
	h ^= h >> 32;
	h *= 0x94D049BB133111EBull;
	return (uint32_t)(h ^ (h >> 29));
}

/* Presentation form -> wire (absolute; a missing final dot is implied).
 * Handles \. and \DDD escapes. Returns the length or MX_ESYNTAX. */
int name_from_text(const char *text, uint8_t out[NAME_MAXLEN]);

/* Wire -> presentation form with a final dot, escaping as RFC 4343 says.
 * Returns the string length or MX_ESPACE. */
int name_to_text(const uint8_t *name, char *out, size_t cap);

/* Whether name (lowercased) equals or is below parent (lowercased). */
int name_is_below_or_at(const uint8_t *name, size_t nlen, const uint8_t *parent, size_t plen);

#endif
