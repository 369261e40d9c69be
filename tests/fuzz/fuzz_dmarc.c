/* fuzz_dmarc: the linters of the policy records mxdns checks, all built
 * on the tag-list parser: DMARC (tools/dmarc.h, RFC 7489 §6.3), MTA-STS
 * TXT and policy file (tools/mtasts.h, RFC 8461 §3.1 and §3.2), TLS-RPT
 * (tools/tlsrpt.h, RFC 8460 §3), and the report URIs they name
 * (tools/mailuri.h).
 *
 * Byte 0 picks the linter; the rest is the record value (or policy). */
#include "fuzz.h"

#include "dmarc.h"
#include "errcode.h"
#include "findings.h"
#include "mailuri.h"
#include "mtasts.h"
#include "tlsrpt.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = size - 1;
	char *buf = malloc(len ? len : 1);
	struct findings *f = malloc(sizeof(*f));
	FUZZ_CHECK(buf && f);
	memcpy(buf, data + 1, len);
	findings_init(f);
	int rc;
	switch (data[0] % 5) {
	case 0:
		rc = dmarc_lint(buf, len, f);
		break;
	case 1:
		rc = mtasts_lint_record(buf, len, f);
		break;
	case 2:
		rc = mtasts_lint_policy(buf, len, f);
		break;
	case 3:
		rc = tlsrpt_lint(buf, len, f);
		break;
	default: {
		char domain[256] = "", err[256] = "";
		rc = mailuri_check(buf, len, data[0] >> 4, domain, err, sizeof(err));
		if (rc == 0)
			FUZZ_CHECK(memchr(domain, 0, sizeof(domain)) != NULL);
		else
			FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);
		rc = 0;
		break;
	}
	}
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(f->count <= FINDINGS_MAX);
	for (size_t i = 0; i < f->count; i++)
		FUZZ_CHECK(memchr(f->item[i].msg, 0, sizeof(f->item[i].msg)) != NULL);
	free(f);
	free(buf);
	return 0;
}
