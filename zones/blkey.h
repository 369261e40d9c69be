/* blkey: the DNSBL key codec. Turns DNSBL query names (reversed IPv4
 * octets, reversed IPv6 nibbles, domain names) and listing entries
 * (addresses, prefixes, domains, wildcards) into LMDB keys whose memcmp
 * order is the logical order (STYLE.md #8), and back into text.
 *
 * Key layout (all big-endian):
 *   [list id: 4][type: 1][body]
 *   type BLKEY_IP4: body = address[4]  prefix-length[1]  (address masked)
 *   type BLKEY_IP6: body = address[16] prefix-length[1]  (address masked)
 *   type BLKEY_DOM: body = the labels from the top down, each followed by a
 *                   0 byte, then a kind byte: BLKEY_WILD ("*.name": every
 *                   name strictly below) or BLKEY_EXACT (the name itself).
 * So for IP keys every prefix containing an address A sorts at or before
 * (A, maxlen), and the longest such prefix is found by seeking there and
 * stepping back (see blstore_match_ip). For domains every name below D has
 * a key starting with D's labels, so "is anything listed below D" (RFC 8020
 * NODATA) is one range seek. Label bytes below 0x03 are refused so that
 * the kind byte sorts before any deeper label. */
#ifndef MXDNS_BLKEY_H
#define MXDNS_BLKEY_H

#include <stddef.h>
#include <stdint.h>

enum { BLKEY_IP4 = 4, BLKEY_IP6 = 6, BLKEY_DOM = 0x64 };
enum { BLKEY_WILD = 1, BLKEY_EXACT = 2 };

#define BLKEY_HDR 5    /* list id + type */
#define BLKEY_MAX 270  /* 5 + 255-byte name + kind (within LMDB's 511) */

/* The list id: a 32-bit hash of the list name (FNV-1a). The tool refuses
 * to create a list whose id collides with another list's. */
uint32_t blkey_list_id(const char *name);

/* Key of an IPv4 (family 4, 4 bytes) or IPv6 (16 bytes) prefix; the
 * address is masked to plen. Returns the key length. */
size_t blkey_ip(uint8_t *out, uint32_t list, int type, const uint8_t *addr, int plen);

/* Key of a domain from its lowercased wire name (with root label); kind
 * BLKEY_EXACT or BLKEY_WILD. Returns the length, or MX_ESYNTAX for a label
 * byte the codec cannot hold (< 0x03). */
int blkey_domain(uint8_t *out, uint32_t list, const uint8_t *wire, int kind);

/* Query-name parsing. rel: lowercased wire labels below the zone apex (no
 * root label), rel_len bytes, n labels.
 * IPv4: "d.c.b.a" (decimal 0..255, no leading zeros). Returns the number
 * of octets read (1..4; under 4 it is a prefix of plen 8*n) with addr
 * filled (missing octets zero), or -1 when the name is not of that form. */
int blkey_parse_ip4(const uint8_t *rel, size_t rel_len, int n, uint8_t addr[4]);
/* IPv6: up to 32 single-hex-digit labels, least significant first.
 * Returns the number of nibbles (1..32) or -1. */
int blkey_parse_ip6(const uint8_t *rel, size_t rel_len, int n, uint8_t addr[16]);

/* Presentation of a key (without the list id): "192.0.2.0/24",
 * "2001:db8::/32", "example.com", "*.example.com". Returns the length or
 * MX_ESPACE/MX_EMALFORMED. *type gets the key's type. */
int blkey_to_text(const uint8_t *key, size_t len, char *out, size_t cap, int *type);

/* Parses an entry in the tool's plain syntax: "192.0.2.1", "192.0.2.0/24",
 * "2001:db8::/32", "example.com", "*.example.com", ".example.com" (both
 * the name and below). IP ranges "A-B" are handled by the importer
 * (they become several prefixes). For a domain, fills wire (lowercased)
 * and *kinds (bit BLKEY_EXACT, bit BLKEY_WILD); for an address fills
 * addr/plen. Returns the type or MX_ESYNTAX. */
int blkey_parse_entry(const char *text, uint8_t addr[16], int *plen, uint8_t wire[256], int *kinds);

/* Number of addresses covered by a prefix, as a double (2^(bits-plen)). */
double blkey_prefix_size(int type, int plen);

/* Splits the inclusive range [lo, hi] (type 4 or 6) into the fewest CIDR
 * prefixes, calling fn for each. Returns fn's first non-zero result. */
int blkey_range_split(int type, const uint8_t *lo, const uint8_t *hi,
		      int (*fn)(void *arg, const uint8_t *addr, int plen), void *arg);

#endif
