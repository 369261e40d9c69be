/* fuzz_dkim: the DKIM key record checker of mxdns (tools/dkim.h, RFC 6376
 * §3.6.1, RFC 8301, RFC 8463): tag list, base64 and the key itself, which
 * OpenSSL decodes from attacker-chosen DER.
 *
 * Byte 0 even: the rest is a record value for dkim_record_check.
 * Byte 0 odd: the rest is base64 for dkim_base64_decode, whose output must
 * be the size base64 promises (3 bytes per 4 characters, minus padding). */
#include "fuzz.h"

#include "dkim.h"
#include "errcode.h"
#include "findings.h"

#include <ctype.h>

static void fuzz_dkim_record(const char *value, size_t len)
{
	struct findings *f = malloc(sizeof(*f));
	struct dkim_record rec;
	FUZZ_CHECK(f != NULL);
	findings_init(f);
	memset(&rec, 0, sizeof(rec));
	int rc = dkim_record_check(value, len, f, &rec);
	FUZZ_CHECK(rc == 0 || rc == MX_ESYNTAX || rc == -ENOMEM);
	if (rc == 0)
		FUZZ_CHECK(findings_count(f, FINDING_ERROR) == 0);
	else if (rc == MX_ESYNTAX)
		FUZZ_CHECK(findings_count(f, FINDING_ERROR) > 0 || f->dropped > 0);
	FUZZ_CHECK(f->count <= FINDINGS_MAX);
	for (size_t i = 0; i < f->count; i++)
		FUZZ_CHECK(memchr(f->item[i].msg, 0, sizeof(f->item[i].msg)) != NULL);
	dkim_record_cleanup(&rec);
	free(f);
}

static void fuzz_dkim_base64(const char *in, size_t len)
{
	unsigned char *out = NULL;
	size_t outlen = 0, chars = 0, pad = 0;
	int rc = dkim_base64_decode(in, len, &out, &outlen);
	if (rc == 0) {
		for (size_t i = 0; i < len; i++) {
			if (isspace((unsigned char)in[i]))
				continue;
			chars++;
			pad += in[i] == '=';
		}
		FUZZ_CHECK(chars % 4 == 0 && pad <= 2);
		FUZZ_CHECK(outlen == chars / 4 * 3 - pad);
		FUZZ_CHECK(outlen == 0 || out != NULL);
	} else {
		FUZZ_CHECK(rc == MX_ESYNTAX || rc == -ENOMEM);
		FUZZ_CHECK(out == NULL);
	}
	free(out);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* Exactly sized, so reads past the value are ASan errors. */
	char *buf = malloc(size - 1 ? size - 1 : 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		fuzz_dkim_base64(buf, size - 1);
	else
		fuzz_dkim_record(buf, size - 1);
	free(buf);
	return 0;
}
