/* spfdns: SPF lookups through dnsq (ldns), see spfdns.h. */
#include "spfdns.h"

#include "errcode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int spfdns_init(struct spfdns *d, const char *server)
{
	return dnsq_init(&d->q, server);
}

void spfdns_cleanup(struct spfdns *d)
{
	dnsq_cleanup(&d->q);
}

/* A name an SPF macro produced may hold any byte: write it in
 * presentation format, bytes other than letters, digits, '-' and '_' as
 * \DDD (RFC 1035 §5.1), dots staying label separators. 0 if it fits. */
static int escape_name(const char *name, char *out, size_t cap)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
		if (n + 5 >= cap)
			return -1;
		if (plain)
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\%03u", *p);
	}
	out[n] = '\0';
	return 0;
}

/* The inverse for names in answers: \DDD and \X to bytes. */
static void unescape_name(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	while (*in && n + 1 < cap) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '9' && in[2] && in[3]) {
			out[n++] = (char)((in[1] - '0') * 100 + (in[2] - '0') * 10 + (in[3] - '0'));
			in += 4;
		} else if (in[0] == '\\' && in[1]) {
			out[n++] = in[1];
			in += 2;
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
}

static int lookup(struct spfdns *d, const char *name, const char *type, struct spf_answer *out)
{
	struct dnsq_answer ans;
	char esc[1100];
	int status = SPF_DNS_OK;

	memset(&ans, 0, sizeof(ans));
	/* a name that cannot be written on the wire cannot exist */
	if (name[0] == '\0' || escape_name(name, esc, sizeof(esc)) != 0)
		return SPF_DNS_NXDOMAIN;
	int rc = dnsq_lookup(&d->q, esc, type, &ans);
	if (rc == MX_EINVAL) {
		status = SPF_DNS_NXDOMAIN;
		goto out;
	}
	if (rc == MX_ENOTFOUND) {
		status = ans.rcode == 3 ? SPF_DNS_NXDOMAIN : SPF_DNS_OK;
		goto out;
	}
	if (rc != 0) {
		status = SPF_DNS_TEMPFAIL;
		goto out;
	}
	for (size_t i = 0; i < ans.count; i++) {
		const char *rd = ans.rdata[i];
		char name_buf[1100];
		uint8_t addr[16];
		if (strcmp(type, "TXT") == 0) {
			rc = spf_answer_add_text(out, ans.txt[i], ans.txt_len[i]);
		} else if (strcmp(type, "A") == 0 || strcmp(type, "AAAA") == 0) {
			int af = type[1] ? AF_INET6 : AF_INET;
			if (inet_pton(af, rd, addr) != 1)
				continue;
			rc = spf_answer_add_addr(out, af, addr);
		} else if (strcmp(type, "MX") == 0) {
			char *end;
			unsigned long pref = strtoul(rd, &end, 10);
			while (*end == ' ')
				end++;
			unescape_name(end, name_buf, sizeof(name_buf));
			rc = spf_answer_add_name(out, (uint16_t)pref, name_buf);
		} else {
			unescape_name(rd, name_buf, sizeof(name_buf));
			rc = spf_answer_add_name(out, 0, name_buf);
		}
		if (rc != 0) {
			status = SPF_DNS_TEMPFAIL;
			goto out;
		}
	}
out:
	dnsq_answer_cleanup(&ans);
	return status;
}

static int q_txt(void *ctx, const char *name, struct spf_answer *out)
{
	return lookup(ctx, name, "TXT", out);
}
static int q_a(void *ctx, const char *name, struct spf_answer *out)
{
	return lookup(ctx, name, "A", out);
}
static int q_aaaa(void *ctx, const char *name, struct spf_answer *out)
{
	return lookup(ctx, name, "AAAA", out);
}
static int q_mx(void *ctx, const char *name, struct spf_answer *out)
{
	return lookup(ctx, name, "MX", out);
}
static int q_ptr(void *ctx, const char *name, struct spf_answer *out)
{
	return lookup(ctx, name, "PTR", out);
}
static int q_spf(void *ctx, const char *name, struct spf_answer *out)
{
	return lookup(ctx, name, "SPF", out);
}

void spfdns_resolver(struct spfdns *d, struct spf_resolver *res)
{
	res->ctx = d;
	res->txt = q_txt;
	res->a = q_a;
	res->aaaa = q_aaaa;
	res->mx = q_mx;
	res->ptr = q_ptr;
	res->spf = q_spf;
}
