/* txtrec: TXT record values as the mail records use them.
 *
 * A TXT RR holds one or more character-strings of at most 255 bytes each
 * (RFC 1035 §3.3 and §3.3.14); DKIM (RFC 6376 §3.6.2.2), DMARC, MTA-STS and
 * TLS-RPT concatenate them without separator into one value, which is a
 * tag=value list (RFC 6376 §3.2). This module splits a value into strings
 * and renders them in zone-file presentation format, joins presentation
 * text back into a value, and parses tag lists. It knows nothing about the
 * meaning of any tag; dkim, dmarc, mtasts and tlsrpt do. */
#ifndef MXDNS_TXTREC_H
#define MXDNS_TXTREC_H

#include <stddef.h>

#define TXTREC_STRING_MAX 255 /* RFC 1035 §3.3: one length octet */
#define TXTREC_TAGS_MAX 64    /* more tags than any mail record defines */
#define TXTREC_NAME_MAX 32

/* How many character-strings a value of len bytes needs: an empty value
 * still needs one (empty) string, since a TXT RR has at least one. */
size_t txtrec_count(size_t len);

/* Render value (len bytes, any bytes) as presentation-format strings:
 * `"..." "..."`, each holding at most 255 bytes of the value, with sep
 * (e.g. " " or "\n\t") between them. '"' and '\' are backslash-escaped and
 * bytes outside 0x20..0x7e are written \DDD (RFC 1035 §5.1), so the 255
 * limit counts value bytes, not output characters. out is NUL-terminated.
 * Returns the output length, or MX_ESPACE when cap is too small. */
int txtrec_format(const char *value, size_t len, const char *sep, char *out, size_t cap);

/* The inverse for text a user pastes: one or more quoted strings,
 * optionally inside ( ), with \X and \DDD escapes; or, when the text does
 * not start with '"' or '(', the text itself taken literally. The strings
 * are concatenated into out (NUL-terminated; *outlen excludes the NUL).
 * Returns 0, MX_ESYNTAX (unterminated string, bad escape, a string over
 * 255 bytes, junk between strings) or MX_ESPACE. */
int txtrec_join(const char *text, char *out, size_t cap, size_t *outlen);

struct txtrec_tag {
	char name[TXTREC_NAME_MAX + 1];
	char *value;   /* NUL-terminated, leading/trailing whitespace removed */
	size_t offset; /* byte offset of the tag name in the parsed text */
};

struct txtrec_tags {
	size_t count;
	struct txtrec_tag tag[TXTREC_TAGS_MAX];
	char err[160]; /* after MX_ESYNTAX: what and where, for the user */
};

/* Parse a tag-list (RFC 6376 §3.2):
 *   tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 * tag-name is ALPHA *(ALPHA / DIGIT / "_"); tag-value bytes are 0x21..0x3a
 * and 0x3c..0x7e, with whitespace allowed only between them. Tag names
 * are case-sensitive and a duplicate name makes the whole list invalid
 * (§3.2). Empty tag-specs (";;") are rejected. tags must be cleaned up
 * with txtrec_tags_cleanup() whatever the result.
 * Returns 0, MX_ESYNTAX (tags->err says why and at which byte),
 * MX_ELIMIT (more than TXTREC_TAGS_MAX tags) or -ENOMEM. */
int txtrec_tags_parse(const char *text, size_t len, struct txtrec_tags *tags);
void txtrec_tags_cleanup(struct txtrec_tags *tags);

/* The tag named name, or NULL. */
const struct txtrec_tag *txtrec_tags_get(const struct txtrec_tags *tags, const char *name);

#endif
