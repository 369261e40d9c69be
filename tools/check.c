/* check: `mxdns check --domain D`, the mail-DNS health report of a domain:
 * what a mail admin looks at when mail is not delivered (MX and their
 * addresses, reverse DNS, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, TLSA,
 * blocklists). This file makes the lookups (tools/dnsq.h) and hands what
 * came back to the linters of the other subcommands and to the pure
 * evaluators of tools/domaincheck.h, which also own the report. */
#include "cmd.h"

#include "dkim.h"
#include "dnsq.h"
#include "domaincheck.h"
#include "errcode.h"
#include "findings.h"
#include "hostarg.h"
#include "json.h"
#include "lintcli.h"
#include "mtasts.h"
#include "spf.h"
#include "spfdns.h"
#include "tlsrpt.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEL_MAX 32
#define BL_MAX 16
#define ADDR_MAX 16 /* addresses kept per MX host */

/* The selectors tried when none is given: DKIM selectors are chosen by the
 * signer and cannot be listed from DNS, so these are the usual defaults of
 * common signers (opendkim, Microsoft 365, Google Workspace, hosters). */
static const char *const common_selectors[] = {"default", "selector1", "selector2",
					       "google",  "mail",      "dkim",
					       "s1",      "s2",        "k1"};

struct host {
	char addr[ADDR_MAX][48];
	size_t n;
};

struct check {
	struct dnsq q;
	const char *server;
	char domain[HOSTARG_MAX];
	struct dc_report r;
	struct dc_mxset mx;
	struct host host[DC_MX_MAX]; /* addresses of mx.mx[i] */
	bool implicit_mx;
	bool net_error; /* some server did not answer: the report is incomplete */
	bool has_mtasts;
	bool nxdomain; /* the domain does not exist: nothing more to check */
	char sel[SEL_MAX][HOSTARG_MAX], bl[BL_MAX][HOSTARG_MAX]; /* the options */
};

/* dnsq_lookup, remembering timeouts (exit 2: the report is incomplete). */
static int look(struct check *c, const char *name, const char *type, struct dnsq_answer *ans)
{
	int r = dnsq_lookup(&c->q, name, type, ans);

	if (r == -ETIMEDOUT)
		c->net_error = true;
	return r;
}

/* Whether a lookup's failure is "no such data" (NXDOMAIN or NODATA). */
static bool absent(int r)
{
	return r == MX_ENOTFOUND;
}

/* ---- MX ------------------------------------------------------------------ */

/* Forward-confirmed reverse DNS: addr's PTR names, and one of them
 * resolving back to addr (RFC 8601 §3 "iprev", the test receivers make). */
static void check_ptr(struct check *c, const char *host, const char *addr)
{
	struct dnsq_answer ptr, fwd;
	char rev[80];
	bool v6 = strchr(addr, ':') != NULL, confirmed = false;
	int r;

	memset(&ptr, 0, sizeof(ptr));
	if (dc_rev_name(addr, NULL, rev, sizeof(rev)) < 0)
		return;
	r = look(c, rev, "PTR", &ptr);
	if (absent(r)) {
		dc_add(&c->r, DC_MX, DC_WARN,
		       "%s (%s) has no PTR record: receivers reject or score down mail sent "
		       "from an address without reverse DNS, should this host also send",
		       addr, host);
		goto out;
	}
	if (r < 0) {
		dc_add(&c->r, DC_MX, DC_WARN, "%s (%s): PTR not checked: %s", addr, host,
		       c->q.err);
		goto out;
	}
	for (size_t i = 0; i < ptr.count && !confirmed; i++) {
		r = look(c, ptr.rdata[i], v6 ? "AAAA" : "A", &fwd);
		for (size_t k = 0; r == 0 && k < fwd.count && !confirmed; k++)
			if (dc_addr_equal(fwd.rdata[k], addr)) {
				confirmed = true;
				dc_add(&c->r, DC_MX, DC_OK, "%s (%s) PTR %s, forward-confirmed",
				       addr, host, ptr.rdata[i]);
			}
		dnsq_answer_cleanup(&fwd);
	}
	if (!confirmed)
		dc_add(&c->r, DC_MX, DC_WARN,
		       "%s (%s) PTR %s, which does not resolve back to %s (no forward-"
		       "confirmed reverse DNS)",
		       addr, host, ptr.rdata[0], addr);
out:
	dnsq_answer_cleanup(&ptr);
}

static void check_exchange(struct check *c, size_t i)
{
	const struct dc_mx *m = &c->mx.mx[i];
	struct host *h = &c->host[i];
	static const char *const types[] = {"A", "AAAA"};
	struct dnsq_answer ans;
	char errs[2][400], list[ADDR_MAX * 50], target[HOSTARG_MAX + 8];
	const char *name = m->host;
	int rc[2];
	size_t pos = 0;

	/* RFC 2181 §10.3: an MX exchange must not be an alias; senders
	 * differ in whether they follow it */
	if (look(c, m->host, "CNAME", &ans) == 0) {
		dc_add(&c->r, DC_MX, DC_WARN,
		       "%s is an alias (CNAME to %s); RFC 2181 §10.3 says an MX must name the "
		       "host itself, some senders refuse this",
		       m->host, ans.rdata[0]);
		/* the addresses are the target's: asked directly, since an
		 * authoritative --server does not follow an alias out of its
		 * zones */
		snprintf(target, sizeof(target), "%s", ans.rdata[0]);
		name = target;
	}
	dnsq_answer_cleanup(&ans);

	for (int t = 0; t < 2; t++) {
		rc[t] = look(c, name, types[t], &ans);
		snprintf(errs[t], sizeof(errs[t]), "%s", c->q.err);
		for (size_t k = 0; rc[t] == 0 && k < ans.count && h->n < ADDR_MAX; k++)
			snprintf(h->addr[h->n++], sizeof(h->addr[0]), "%s", ans.rdata[k]);
		dnsq_answer_cleanup(&ans);
	}
	if (h->n == 0) {
		if (absent(rc[0]) && absent(rc[1]))
			dc_add(&c->r, DC_MX, DC_FAIL,
			       "%s has no A or AAAA record: mail to this MX cannot be delivered",
			       m->host);
		else
			dc_add(&c->r, DC_MX, DC_WARN, "%s: addresses not checked: %s", m->host,
			       absent(rc[0]) ? errs[1] : errs[0]);
		return;
	}
	list[0] = '\0';
	for (size_t k = 0; k < h->n; k++)
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s", k ? ", " : "",
					h->addr[k]);
	dc_add(&c->r, DC_MX, DC_OK, "%s has address%s %s", m->host, h->n > 1 ? "es" : "", list);
	for (size_t k = 0; k < h->n; k++)
		check_ptr(c, m->host, h->addr[k]);
}

/* Returns 0, or 2 when the server does not answer at all. */
static int check_mx(struct check *c)
{
	struct dnsq_answer ans;
	int r = look(c, c->domain, "MX", &ans);

	if (r == -ETIMEDOUT || (r < 0 && !absent(r) && r != MX_EREFUSED)) {
		fprintf(stderr, "mxdns check: %s\n", c->q.err);
		dnsq_answer_cleanup(&ans);
		return 2;
	}
	if (r == 0) {
		dc_mx_eval((const char *const *)ans.rdata, ans.count, &c->mx, &c->r);
	} else if (absent(r) && ans.rcode == 3) {
		dc_add(&c->r, DC_MX, DC_FAIL,
		       "%s does not exist (NXDOMAIN): no other record is looked up", c->domain);
		c->nxdomain = true;
	} else if (absent(r)) {
		struct dnsq_answer a, aaaa;
		int ra = look(c, c->domain, "A", &a), r6 = look(c, c->domain, "AAAA", &aaaa);
		if (ra == 0 || r6 == 0) {
			/* RFC 5321 §5.1: without MX the domain itself is the
			 * exchange, at preference 0 */
			dc_add(&c->r, DC_MX, DC_WARN,
			       "no MX record: senders deliver to the domain's own address (implicit "
			       "MX, RFC 5321 §5.1); publish an MX, or a null MX '0 .' (RFC 7505) if "
			       "the domain takes no mail");
			c->implicit_mx = true;
			c->mx.n = 1;
			c->mx.mx[0].pref = 0;
			memcpy(c->mx.mx[0].host, c->domain, strlen(c->domain) + 1);
		} else {
			dc_add(&c->r, DC_MX, DC_FAIL,
			       "no MX and no A/AAAA record: the domain cannot receive mail (publish "
			       "an MX, or a null MX '0 .' if it takes none)");
		}
		dnsq_answer_cleanup(&a);
		dnsq_answer_cleanup(&aaaa);
	} else {
		dc_add(&c->r, DC_MX, DC_FAIL, "MX lookup failed: %s", c->q.err);
	}
	dnsq_answer_cleanup(&ans);
	for (size_t i = 0; i < c->mx.n; i++)
		if (c->mx.mx[i].host[0] != '\0' && !c->mx.mx[i].ip_literal)
			check_exchange(c, i);
	return 0;
}

/* ---- SPF ----------------------------------------------------------------- */

static void check_spf(struct check *c)
{
	struct spfdns d;
	struct spf_resolver res;
	struct spf_lint *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		dc_add(&c->r, DC_SPF, DC_FAIL, "out of memory");
		return;
	}
	if (spfdns_init(&d, c->server) < 0) {
		dc_add(&c->r, DC_SPF, DC_FAIL, "%s", d.q.err);
		free(l);
		return;
	}
	spfdns_resolver(&d, &res);
	if (spf_lint_domain(&res, c->domain, l) < 0) {
		dc_add(&c->r, DC_SPF, DC_FAIL, "out of memory");
		goto out;
	}
	if (l->record[0] != '\0')
		dc_add(&c->r, DC_SPF, l->errors ? DC_INFO : DC_OK, "%s", l->record);
	for (size_t i = 0; i < l->n; i++) {
		enum dc_level level = l->items[i].level == SPF_LINT_ERROR     ? DC_FAIL
				      : l->items[i].level == SPF_LINT_WARNING ? DC_WARN
									      : DC_INFO;
		dc_add(&c->r, DC_SPF, level, "%s", l->items[i].msg);
	}
	if (l->record[0] != '\0' && l->lookups <= SPF_MAX_LOOKUPS && l->voids <= SPF_MAX_VOIDS)
		dc_add(&c->r, DC_SPF, DC_OK,
		       "%d of %d DNS lookups, %d of %d void lookups (RFC 7208 §4.6.4, counted "
		       "through includes and redirects)",
		       l->lookups, SPF_MAX_LOOKUPS, l->voids, SPF_MAX_VOIDS);
out:
	spfdns_cleanup(&d);
	free(l);
}

/* ---- DKIM ---------------------------------------------------------------- */

/* One selector. guessed: found by trying common selectors, so absence is
 * not reported. Returns whether a record was found. */
static bool check_selector(struct check *c, const char *sel, bool guessed)
{
	struct dnsq_answer ans;
	struct findings f;
	struct dkim_record rec;
	char name[2 * HOSTARG_MAX + 16], prefix[HOSTARG_MAX + 32];
	bool found = false;
	int r;

	memset(&rec, 0, sizeof(rec));
	snprintf(name, sizeof(name), "%s._domainkey.%s", sel, c->domain);
	snprintf(prefix, sizeof(prefix), "%s%s: ", sel, guessed ? " (guessed)" : "");
	r = look(c, name, "TXT", &ans);
	if (r < 0) {
		if (!guessed && absent(r))
			dc_add(&c->r, DC_DKIM, DC_FAIL, "%sno DKIM key at %s", prefix, name);
		else if (!guessed || !absent(r))
			dc_add(&c->r, DC_DKIM, guessed ? DC_INFO : DC_FAIL, "%s%s", prefix,
			       c->q.err);
		goto out;
	}
	found = true;
	if (ans.count > 1) {
		/* RFC 6376 §3.6.2.2: several records give undefined results */
		dc_add(&c->r, DC_DKIM, DC_FAIL,
		       "%s%zu TXT records at %s; verifiers may pick any (RFC 6376 §3.6.2.2), "
		       "publish exactly one",
		       prefix, ans.count, name);
		goto out;
	}
	if (strlen(ans.txt[0]) != ans.txt_len[0]) {
		dc_add(&c->r, DC_DKIM, DC_FAIL, "%sthe record at %s holds a NUL byte", prefix,
		       name);
		goto out;
	}
	findings_init(&f);
	if (dkim_record_check(ans.txt[0], ans.txt_len[0], &f, &rec) == -ENOMEM) {
		dc_add(&c->r, DC_DKIM, DC_FAIL, "%sout of memory", prefix);
		goto out;
	}
	if (rec.revoked) {
		/* A revoked selector is how a rotation ends (RFC 6376 §3.6.1):
		 * worth knowing, broken only if someone still signs with it. */
		dc_add(&c->r, DC_DKIM, DC_WARN,
		       "%sthe key at %s is revoked (empty p=): signatures by this selector fail; "
		       "remove the record once no mail signed with it is in transit",
		       prefix, name);
		goto out;
	}
	dc_add_findings(&c->r, DC_DKIM, &f, prefix);
	if (findings_count(&f, FINDING_ERROR) == 0)
		dc_add(&c->r, DC_DKIM, DC_OK, "%s%s key of %d bits at %s%s", prefix,
		       rec.algo == DKIM_ALGO_ED25519 ? "ed25519" : "rsa", rec.bits, name,
		       rec.testing ? " (testing, t=y)" : "");
out:
	dkim_record_cleanup(&rec);
	dnsq_answer_cleanup(&ans);
	return found;
}

static void check_dkim(struct check *c, const char *const *sel, size_t nsel)
{
	size_t nfound = 0, ncommon = sizeof(common_selectors) / sizeof(common_selectors[0]);
	char tried[200];
	size_t pos = 0;

	for (size_t i = 0; i < nsel; i++)
		check_selector(c, sel[i], false);
	if (nsel > 0)
		return;
	tried[0] = '\0';
	for (size_t i = 0; i < ncommon; i++)
		pos += (size_t)snprintf(tried + pos, sizeof(tried) - pos, "%s%s", i ? ", " : "",
					common_selectors[i]);
	dc_add(&c->r, DC_DKIM, DC_INFO,
	       "no --selector given: DKIM selectors cannot be discovered from DNS; tried the "
	       "common ones (%s)",
	       tried);
	for (size_t i = 0; i < ncommon; i++)
		nfound += check_selector(c, common_selectors[i], true);
	if (nfound == 0)
		dc_add(&c->r, DC_DKIM, DC_INFO,
		       "no key under the common selectors; give --selector S for each selector "
		       "your signers use");
}

/* ---- TXT policies (DMARC, MTA-STS, TLS-RPT) ------------------------------- */

/* The one TXT record at name starting with prefix into *value (malloc'ed).
 * Returns how many there were (0 with nothing added when none; when more
 * than one, a FAIL line is added), or -1 after a failed lookup (a line
 * added at level fail_level). */
static int get_policy(struct check *c, enum dc_section s, const char *name, const char *prefix,
		      char **value)
{
	struct dnsq_answer ans;
	int r = look(c, name, "TXT", &ans), found = 0;

	*value = NULL;
	if (absent(r))
		goto out;
	if (r < 0) {
		dc_add(&c->r, s, DC_FAIL, "%s", c->q.err);
		found = -1;
		goto out;
	}
	for (size_t i = 0; i < ans.count; i++) {
		if (!lintcli_has_prefix(ans.txt[i], prefix))
			continue;
		if (found++ == 0)
			*value = strdup(ans.txt[i]);
	}
	if (found > 1) {
		dc_add(&c->r, s, DC_FAIL,
		       "%d TXT records at %s start with %s: receivers then apply none of them, "
		       "publish exactly one",
		       found, name, prefix);
	} else if (found == 1 && *value == NULL) {
		dc_add(&c->r, s, DC_FAIL, "out of memory");
		found = -1;
	}
out:
	if (found != 1) {
		free(*value);
		*value = NULL;
	}
	dnsq_answer_cleanup(&ans);
	return found;
}

static void check_dmarc(struct check *c)
{
	char name[HOSTARG_MAX + 16], ext[DC_RUA_MAX][HOSTARG_MAX];
	char *value = NULL;
	size_t next = 0;
	int n;

	snprintf(name, sizeof(name), "_dmarc.%s", c->domain);
	n = get_policy(c, DC_DMARC, name, "v=DMARC1", &value);
	if (n == 0) {
		dc_add(&c->r, DC_DMARC, DC_FAIL,
		       "no DMARC record at %s: receivers have no policy for mail that fails "
		       "SPF and DKIM, and large mailbox providers demand one",
		       name);
		dc_add(&c->r, DC_DMARC, DC_INFO,
		       "only %s was looked up: for a subdomain, receivers fall back to the "
		       "organizational domain's record (RFC 7489 §6.6.3), which this check does "
		       "not do",
		       name);
	}
	if (n != 1)
		return;
	dc_add(&c->r, DC_DMARC, DC_INFO, "%s", value);
	dc_dmarc_eval(c->domain, value, strlen(value), &c->r, ext, &next);
	for (size_t i = 0; i < next; i++) {
		/* RFC 7489 §7.1: a report address in another domain must be
		 * authorized by that domain, or receivers drop it */
		char auth[2 * HOSTARG_MAX + 24];
		snprintf(auth, sizeof(auth), "%s._report._dmarc.%.253s", c->domain, ext[i]);
		struct dnsq_answer ans;
		int r = look(c, auth, "TXT", &ans);
		bool ok = false;
		for (size_t k = 0; r == 0 && k < ans.count; k++)
			ok = ok || lintcli_has_prefix(ans.txt[k], "v=DMARC1");
		if (ok)
			dc_add(&c->r, DC_DMARC, DC_OK, "%s accepts reports for %s (%s)", ext[i],
			       c->domain, auth);
		else if (r == 0 || absent(r))
			dc_add(&c->r, DC_DMARC, DC_WARN,
			       "rua in %s: that domain does not authorize reports for %s (no "
			       "\"v=DMARC1\" at %s, RFC 7489 §7.1), receivers drop the address",
			       ext[i], c->domain, auth);
		else
			dc_add(&c->r, DC_DMARC, DC_INFO, "rua in %s: authorization not checked: %s",
			       ext[i], c->q.err);
		dnsq_answer_cleanup(&ans);
	}
	free(value);
}

static void check_mtasts(struct check *c)
{
	char name[HOSTARG_MAX + 16], host[HOSTARG_MAX + 16];
	char *value = NULL;
	struct findings f;
	struct dnsq_answer a, aaaa;
	int n, ra, r6;

	snprintf(name, sizeof(name), "_mta-sts.%s", c->domain);
	n = get_policy(c, DC_MTASTS, name, "v=STSv1", &value);
	if (n == 0)
		dc_add(&c->r, DC_MTASTS, DC_INFO,
		       "no MTA-STS record at %s (RFC 8461): senders do not insist on "
		       "authenticated TLS to your MX",
		       name);
	if (n != 1)
		return;
	c->has_mtasts = true;
	findings_init(&f);
	mtasts_lint_record(value, strlen(value), &f);
	dc_add_findings(&c->r, DC_MTASTS, &f, NULL);
	if (findings_count(&f, FINDING_ERROR) == 0)
		dc_add(&c->r, DC_MTASTS, DC_OK, "%s", value);
	/* §3.3: the policy is fetched from https://mta-sts.DOMAIN/ */
	snprintf(host, sizeof(host), "mta-sts.%s", c->domain);
	ra = look(c, host, "A", &a);
	r6 = look(c, host, "AAAA", &aaaa);
	if (ra == 0 || r6 == 0)
		dc_add(&c->r, DC_MTASTS, DC_OK, "policy host %s has an address", host);
	else if (absent(ra) && absent(r6))
		dc_add(&c->r, DC_MTASTS, DC_FAIL,
		       "policy host %s has no A/AAAA: senders cannot fetch the policy, so "
		       "MTA-STS does nothing",
		       host);
	else
		dc_add(&c->r, DC_MTASTS, DC_WARN, "policy host %s not checked: %s", host,
		       c->q.err);
	dc_add(&c->r, DC_MTASTS, DC_INFO,
	       "the policy https://%s/.well-known/mta-sts.txt is not fetched (this check "
	       "makes no HTTPS requests); lint the file with `mxdns mta-sts lint --policy FILE`",
	       host);
	dnsq_answer_cleanup(&a);
	dnsq_answer_cleanup(&aaaa);
	free(value);
}

static void check_tlsrpt(struct check *c)
{
	char name[HOSTARG_MAX + 16];
	char *value = NULL;
	struct findings f;
	int n;

	snprintf(name, sizeof(name), "_smtp._tls.%s", c->domain);
	n = get_policy(c, DC_TLSRPT, name, "v=TLSRPTv1", &value);
	if (n == 0)
		dc_add(&c->r, DC_TLSRPT, c->has_mtasts ? DC_WARN : DC_INFO,
		       "no TLS-RPT record at %s (RFC 8460)%s", name,
		       c->has_mtasts ? ": with MTA-STS published, failures to deliver over TLS "
				       "go unreported"
				     : "");
	if (n != 1)
		return;
	findings_init(&f);
	tlsrpt_lint(value, strlen(value), &f);
	dc_add_findings(&c->r, DC_TLSRPT, &f, NULL);
	if (findings_count(&f, FINDING_ERROR) == 0)
		dc_add(&c->r, DC_TLSRPT, DC_OK, "%s", value);
	free(value);
}

/* ---- TLSA ---------------------------------------------------------------- */

static void check_tlsa(struct check *c)
{
	size_t checked = 0;

	if (c->mx.null_mx) {
		dc_add(&c->r, DC_TLSA, DC_INFO, "null MX: no mail host to check");
		return;
	}
	for (size_t i = 0; i < c->mx.n; i++) {
		const struct dc_mx *m = &c->mx.mx[i];
		char name[HOSTARG_MAX + 16];
		struct dnsq_answer ans;
		int r;

		if (m->host[0] == '\0' || m->ip_literal)
			continue;
		checked++;
		/* RFC 7672 §2.2.3: the TLSA base domain of an SMTP server */
		snprintf(name, sizeof(name), "_25._tcp.%s", m->host);
		r = look(c, name, "TLSA", &ans);
		if (r == 0)
			for (size_t k = 0; k < ans.count; k++)
				dc_tlsa_eval(name, ans.rdata[k], &c->r);
		else if (absent(r))
			dc_add(&c->r, DC_TLSA, DC_INFO, "no TLSA at %s: no DANE for this MX", name);
		else
			dc_add(&c->r, DC_TLSA, DC_INFO, "%s not checked: %s", name, c->q.err);
		dnsq_answer_cleanup(&ans);
	}
	if (checked > 0)
		dc_add(&c->r, DC_TLSA, DC_INFO,
		       "DNSSEC is not validated here: senders use TLSA only when the MX host's "
		       "zone is signed and validates (RFC 7672 §2.2); check the chain with a "
		       "validating resolver");
}

/* ---- DNSBL --------------------------------------------------------------- */

static void check_list(struct check *c, const char *zone, const char *addr, const char *host)
{
	struct dnsq_answer a, txt;
	char name[HOSTARG_MAX + 80];
	int r;

	memset(&txt, 0, sizeof(txt));
	if (dc_rev_name(addr, zone, name, sizeof(name)) < 0) {
		dc_add(&c->r, DC_DNSBL, DC_WARN, "%s: query name for %s too long", zone, addr);
		return;
	}
	r = look(c, name, "A", &a);
	if (absent(r)) {
		dc_add(&c->r, DC_DNSBL, DC_OK, "%s (%s) is not listed in %s", addr, host, zone);
		goto out;
	}
	if (r < 0) {
		dc_add(&c->r, DC_DNSBL, DC_WARN, "%s: %s not checked: %s", zone, addr, c->q.err);
		goto out;
	}
	for (size_t k = 0; k < a.count; k++) {
		switch (dc_bl_classify(a.rdata[k])) {
		case DC_BL_LISTED:
			/* RFC 5782 §2.1: the TXT record at the same name says why */
			if (txt.count == 0 && look(c, name, "TXT", &txt) != 0)
				dnsq_answer_cleanup(&txt);
			dc_add(&c->r, DC_DNSBL, DC_FAIL, "%s (%s) is listed in %s (%s)%s%s", addr,
			       host, zone, a.rdata[k], txt.count ? ": " : "",
			       txt.count ? txt.txt[0] : "");
			break;
		case DC_BL_ERROR:
			dc_add(&c->r, DC_DNSBL, DC_WARN,
			       "%s refused the query for %s (answer %s): lists answer this to "
			       "queries through public resolvers or over quota",
			       zone, addr, a.rdata[k]);
			break;
		default:
			dc_add(&c->r, DC_DNSBL, DC_WARN,
			       "%s answered %s for %s, which is no listing code (RFC 5782 §2.1): a "
			       "wildcard or a rewriting resolver",
			       zone, a.rdata[k], addr);
			break;
		}
	}
out:
	dnsq_answer_cleanup(&txt);
	dnsq_answer_cleanup(&a);
}

static void check_dnsbl(struct check *c, const char *const *zones, size_t nzones)
{
	size_t naddr = 0;

	if (nzones == 0) {
		dc_add(&c->r, DC_DNSBL, DC_INFO, "no --dnsbl ZONE given: no blocklist checked");
		return;
	}
	for (size_t i = 0; i < c->mx.n; i++)
		naddr += c->host[i].n;
	if (naddr == 0) {
		dc_add(&c->r, DC_DNSBL, DC_INFO, "no MX address to look up");
		return;
	}
	for (size_t z = 0; z < nzones; z++) {
		struct dnsq_answer a;
		char test[HOSTARG_MAX + 16];
		/* RFC 5782 §5: every list lists 127.0.0.2, so a list that
		 * does not is not working (or not reachable from here) */
		snprintf(test, sizeof(test), "2.0.0.127.%s", zones[z]);
		if (absent(look(c, test, "A", &a)))
			dc_add(&c->r, DC_DNSBL, DC_WARN,
			       "%s does not list the test address 127.0.0.2 (RFC 5782 §5): the "
			       "answers below may mean nothing",
			       zones[z]);
		dnsq_answer_cleanup(&a);
		for (size_t i = 0; i < c->mx.n; i++)
			for (size_t k = 0; k < c->host[i].n; k++) {
				bool seen = false;
				/* an address shared by two MX hosts is asked once */
				for (size_t j = 0; j < i && !seen; j++)
					for (size_t l = 0; l < c->host[j].n && !seen; l++)
						seen = strcmp(c->host[j].addr[l],
							      c->host[i].addr[k]) == 0;
				if (!seen)
					check_list(c, zones[z], c->host[i].addr[k],
						   c->mx.mx[i].host);
			}
	}
}

/* ---- the command --------------------------------------------------------- */

static void json_mx(const struct check *c, struct json *j)
{
	json_kv_bool(j, "null_mx", c->mx.null_mx);
	json_kv_bool(j, "implicit_mx", c->implicit_mx);
	json_key(j, "mx");
	json_arr_begin(j);
	for (size_t i = 0; i < c->mx.n; i++) {
		const struct dc_mx *m = &c->mx.mx[i];
		if (m->host[0] == '\0')
			continue;
		json_obj_begin(j);
		json_kv_int(j, "preference", m->pref);
		json_kv_str(j, "host", m->host);
		json_key(j, "addresses");
		json_arr_begin(j);
		for (size_t k = 0; k < c->host[i].n; k++)
			json_str(j, c->host[i].addr[k]);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns check --domain D [--selector S ...] [--dnsbl ZONE ...]\n"
		"                   [--server ADDR@PORT] [--json]\n"
		"The mail-DNS health report of domain D, section by section:\n"
		"  MX       records (null MX, implicit MX), each exchange's A/AAAA, no alias,\n"
		"           no address literal, PTR of each address, forward-confirmed\n"
		"  SPF      one record, its syntax, the 10-lookup and 2-void limits through\n"
		"           includes, +all/?all\n"
		"  DKIM     each --selector's key (type, size, revoked); without --selector,\n"
		"           a few common selectors are tried\n"
		"  DMARC    _dmarc.D present, valid, its policy and report addresses\n"
		"  MTA-STS  _mta-sts.D record and the policy host (the policy file itself is\n"
		"           not fetched), TLS-RPT at _smtp._tls.D\n"
		"  TLSA     _25._tcp.MX for each MX (DNSSEC is not validated)\n"
		"  DNSBL    each MX address in each --dnsbl ZONE\n"
		"Lookups go to the system resolver, or to --server ADDR or ADDR@PORT.\n"
		"exit: 0 no FAIL, 1 some FAIL, 2 usage error or a server did not answer\n");
	return code;
}

int cmd_check(int argc, char **argv)
{
	enum { OPT_DOMAIN = 256, OPT_SELECTOR, OPT_SERVER, OPT_JSON, OPT_DNSBL, OPT_HELP };
	static const struct option options[] = {
		{"domain", required_argument, NULL, OPT_DOMAIN},
		{"selector", required_argument, NULL, OPT_SELECTOR},
		{"server", required_argument, NULL, OPT_SERVER},
		{"json", no_argument, NULL, OPT_JSON},
		{"dnsbl", required_argument, NULL, OPT_DNSBL},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *selp[SEL_MAX], *blp[BL_MAX], *domain_arg = NULL;
	size_t nsel = 0, nbl = 0;
	char err[400];
	bool json = false, have_q = false;
	struct check *c = NULL;
	int opt, ret = 2;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fprintf(stderr, "mxdns check: out of memory\n");
		return 2;
	}
	dc_report_init(&c->r);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_DOMAIN:
			domain_arg = optarg;
			break;
		case OPT_SERVER:
			c->server = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_SELECTOR:
			if (nsel == SEL_MAX) {
				fprintf(stderr, "mxdns check: more than %d --selector\n", SEL_MAX);
				goto done;
			}
			if (hostarg_parse(optarg, "--selector", c->sel[nsel], err, sizeof(err)) < 0) {
				fprintf(stderr, "mxdns check: %s\n", err);
				goto done;
			}
			selp[nsel] = c->sel[nsel];
			nsel++;
			break;
		case OPT_DNSBL:
			if (nbl == BL_MAX) {
				fprintf(stderr, "mxdns check: more than %d --dnsbl\n", BL_MAX);
				goto done;
			}
			if (hostarg_parse(optarg, "--dnsbl", c->bl[nbl], err, sizeof(err)) < 0) {
				fprintf(stderr, "mxdns check: %s\n", err);
				goto done;
			}
			blp[nbl] = c->bl[nbl];
			nbl++;
			break;
		case 'h':
		case OPT_HELP:
			ret = usage(stdout, 0);
			goto done;
		default:
			fprintf(stderr, "mxdns check: unknown or incomplete option '%s' (see --help)\n",
				argv[optind - 1]);
			goto done;
		}
	}
	if (domain_arg == NULL || optind < argc) {
		fprintf(stderr, "mxdns check: %s (see --help)\n",
			domain_arg ? "unexpected argument" : "--domain is required");
		goto done;
	}
	if (hostarg_parse(domain_arg, "--domain", c->domain, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns check: %s\n", err);
		goto done;
	}
	for (char *p = c->domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (dnsq_init(&c->q, c->server) < 0) {
		fprintf(stderr, "mxdns check: %s\n", c->q.err);
		goto done;
	}
	have_q = true;

	if (check_mx(c) != 0)
		goto done;
	if (!c->nxdomain) {
		check_spf(c);
		check_dkim(c, selp, nsel);
		check_dmarc(c);
		check_mtasts(c);
		check_tlsrpt(c);
		check_tlsa(c);
		check_dnsbl(c, blp, nbl);
	}

	if (json) {
		struct json j;
		json_init(&j, stdout);
		dc_report_json(&c->r, &j, c->domain);
		json_kv_str(&j, "server", c->server ? c->server : "system resolver");
		json_kv_bool(&j, "complete", !c->net_error);
		json_mx(c, &j);
		json_obj_end(&j);
		if (json_finish(&j) < 0)
			fprintf(stderr, "mxdns check: internal error writing JSON\n");
	} else {
		dc_report_print(&c->r, stdout, c->domain);
	}
	if (c->net_error) {
		fprintf(stderr, "mxdns check: some lookups got no answer; the report is "
				"incomplete\n");
		ret = 2;
	} else {
		ret = dc_count(&c->r, DC_FAIL) > 0 ? 1 : 0;
	}
done:
	if (have_q)
		dnsq_cleanup(&c->q);
	dc_report_cleanup(&c->r);
	free(c);
	return ret;
}
