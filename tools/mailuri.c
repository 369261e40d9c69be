/* mailuri: report URI checks, see mailuri.h. */
#include "mailuri.h"

#include "errcode.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int host_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return memchr(s, '.', n) != NULL;
}

/* RFC 5322 dot-atom characters for the local part; ',' and '!' are left
 * out because they separate URIs and start the size limit in DMARC. */
static int local_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(".#$%&'*+-/=?^_`{|}~", c) != NULL))
			return 0;
		if (c == '.' && s[i + 1] == '.')
			return 0;
	}
	return 1;
}

int mailuri_check(const char *uri, size_t len, int flags, char *domain, char *err, size_t errcap)
{
	const char *bang = memchr(uri, '!', len);
	size_t n = bang ? (size_t)(bang - uri) : len;
	const char *host;
	size_t hlen;

	if (bang != NULL) {
		/* size limit: "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] */
		size_t i = 1, rest = len - n;
		if (!(flags & MAILURI_SIZE)) {
			snprintf(err, errcap, "'%.*s': a '!' size limit is not allowed here", (int)len,
				 uri);
			return MX_ESYNTAX;
		}
		while (i < rest && bang[i] >= '0' && bang[i] <= '9')
			i++;
		if (i == 1 || (i < rest && strchr("kmgt", bang[i]) == NULL) ||
		    (i < rest && i + 1 != rest)) {
			snprintf(err, errcap, "'%.*s': bad size limit (want !DIGITS[k|m|g|t])",
				 (int)len, uri);
			return MX_ESYNTAX;
		}
	}
	if (n > 7 && strncasecmp(uri, "mailto:", 7) == 0) {
		const char *at = memchr(uri + 7, '@', n - 7);
		if (at == NULL || !local_ok(uri + 7, (size_t)(at - uri - 7)) ||
		    !host_ok(at + 1, (size_t)(uri + n - at - 1))) {
			snprintf(err, errcap, "'%.*s': not mailto:LOCAL@DOMAIN with a plain address",
				 (int)len, uri);
			return MX_ESYNTAX;
		}
		host = at + 1;
		hlen = (size_t)(uri + n - host);
	} else if (n > 8 && strncasecmp(uri, "https://", 8) == 0) {
		if (!(flags & MAILURI_HTTPS)) {
			snprintf(err, errcap, "'%.*s': only mailto: URIs are accepted here", (int)len,
				 uri);
			return MX_ESYNTAX;
		}
		host = uri + 8;
		/* bounded by n: uri is not NUL-terminated (found by fuzz_dmarc) */
		hlen = 0;
		while (hlen < n - 8 && strchr("/:?#", host[hlen]) == NULL)
			hlen++;
		for (size_t i = 0; i < n - 8; i++) {
			unsigned char c = (unsigned char)host[i];
			if (c <= 0x20 || c >= 0x7f || c == ',' || c == ';') {
				snprintf(err, errcap, "'%.*s': bad character in the URI", (int)len, uri);
				return MX_ESYNTAX;
			}
		}
		if (!host_ok(host, hlen)) {
			snprintf(err, errcap, "'%.*s': bad host name", (int)len, uri);
			return MX_ESYNTAX;
		}
	} else {
		snprintf(err, errcap, "'%.*s': not a %s URI", (int)len, uri,
			 (flags & MAILURI_HTTPS) ? "mailto: or https:" : "mailto:");
		return MX_ESYNTAX;
	}
	if (domain != NULL) {
		memcpy(domain, host, hlen);
		domain[hlen] = '\0';
	}
	return 0;
}
