/* dnsq: stub lookups through ldns, see dnsq.h. */
#include "dnsq.h"

#include "errcode.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_server(const char *server, char *addr, size_t cap, uint16_t *port, char *err,
			size_t errcap)
{
	const char *at = strrchr(server, '@');
	size_t alen = at ? (size_t)(at - server) : strlen(server);

	*port = 53;
	if (alen == 0 || alen >= cap) {
		snprintf(err, errcap, "bad server '%s' (want ADDR or ADDR@PORT)", server);
		return MX_EINVAL;
	}
	memcpy(addr, server, alen);
	addr[alen] = '\0';
	if (at) {
		char *end;
		long p = strtol(at + 1, &end, 10);
		if (at[1] == '\0' || *end != '\0' || p < 1 || p > 65535) {
			snprintf(err, errcap, "bad port in server '%s' (want 1..65535)", server);
			return MX_EINVAL;
		}
		*port = (uint16_t)p;
	}
	return 0;
}

int dnsq_init(struct dnsq *q, const char *server)
{
	ldns_resolver *res = NULL;
	ldns_rdf *ns = NULL;
	char addr[INET6_ADDRSTRLEN + 1];
	uint16_t port;
	int ret;

	memset(q, 0, sizeof(*q));
	if (server == NULL) {
		if (ldns_resolver_new_frm_file(&res, NULL) != LDNS_STATUS_OK) {
			snprintf(q->err, sizeof(q->err),
				 "cannot read the system resolver configuration "
				 "(/etc/resolv.conf); give --server ADDR@PORT");
			ret = MX_ENOTFOUND;
			goto fail;
		}
	} else {
		ret = parse_server(server, addr, sizeof(addr), &port, q->err, sizeof(q->err));
		if (ret < 0)
			goto fail;
		ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, addr);
		if (ns == NULL)
			ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, addr);
		if (ns == NULL) {
			snprintf(q->err, sizeof(q->err),
				 "bad server address '%s' (want an IPv4 or IPv6 literal)", addr);
			ret = MX_EINVAL;
			goto fail;
		}
		res = ldns_resolver_new();
		if (res == NULL || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
			ret = -ENOMEM;
			goto fail;
		}
		ldns_rdf_deep_free(ns);
		ns = NULL;
		ldns_resolver_set_port(res, port);
	}
	ldns_resolver_set_retry(res, 2);
	ldns_resolver_set_timeout(res, (struct timeval){.tv_sec = 3, .tv_usec = 0});
	ldns_resolver_set_recursive(res, true);
	/* A tool that checks records must not append search domains. */
	ldns_resolver_set_defnames(res, false);
	ldns_resolver_set_dnsrch(res, false);
	ldns_resolver_set_fallback(res, true); /* retry over TCP on TC */
	q->res = res;
	return 0;
fail:
	if (ns)
		ldns_rdf_deep_free(ns);
	if (res)
		ldns_resolver_deep_free(res);
	return ret;
}

void dnsq_cleanup(struct dnsq *q)
{
	if (q->res)
		ldns_resolver_deep_free(q->res);
	q->res = NULL;
}

void dnsq_answer_cleanup(struct dnsq_answer *ans)
{
	for (size_t i = 0; i < ans->count; i++) {
		if (ans->rdata)
			free(ans->rdata[i]);
		if (ans->txt)
			free(ans->txt[i]);
	}
	free(ans->rdata);
	free(ans->txt);
	free(ans->txt_len);
	memset(ans, 0, sizeof(*ans));
}

/* Concatenates a TXT RR's character-strings (each rdf: length octet, bytes). */
static char *txt_join(const ldns_rr *rr, size_t *len)
{
	size_t total = 0, pos = 0;
	char *s;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		if (ldns_rdf_size(f) > 0)
			total += ldns_rdf_size(f) - 1;
	}
	s = malloc(total + 1);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		size_t n = ldns_rdf_size(f);
		if (n > 0) {
			memcpy(s + pos, ldns_rdf_data(f) + 1, n - 1);
			pos += n - 1;
		}
	}
	s[pos] = '\0';
	*len = pos;
	return s;
}

static char *rdata_str(const ldns_rr *rr)
{
	ldns_buffer *buf = ldns_buffer_new(256);
	char *s = NULL;

	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0)
			ldns_buffer_printf(buf, " ");
		if (ldns_rdf2buffer_str(buf, ldns_rr_rdf(rr, i)) != LDNS_STATUS_OK)
			goto done;
	}
	s = ldns_buffer_export2str(buf);
done:
	ldns_buffer_free(buf);
	return s;
}

int dnsq_lookup(struct dnsq *q, const char *name, const char *type, struct dnsq_answer *ans)
{
	ldns_rdf *dname = NULL;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *rrs = NULL;
	ldns_rr_type t;
	ldns_status st;
	char fqdn[LDNS_MAX_DOMAINLEN + 2];
	size_t n = strlen(name);
	int ret;

	memset(ans, 0, sizeof(*ans));
	t = ldns_get_rr_type_by_name(type);
	if (t == 0 || n == 0 || n > LDNS_MAX_DOMAINLEN) {
		snprintf(q->err, sizeof(q->err), "bad lookup %s %s", name, type);
		ret = MX_EINVAL;
		goto fail;
	}
	snprintf(fqdn, sizeof(fqdn), "%s%s", name, name[n - 1] == '.' ? "" : ".");
	dname = ldns_dname_new_frm_str(fqdn);
	if (dname == NULL) {
		snprintf(q->err, sizeof(q->err), "bad domain name '%s'", name);
		ret = MX_EINVAL;
		goto fail;
	}
	st = ldns_resolver_query_status(&pkt, q->res, dname, t, LDNS_RR_CLASS_IN, LDNS_RD);
	if (st != LDNS_STATUS_OK || pkt == NULL) {
		snprintf(q->err, sizeof(q->err), "%s %s: no answer (%s)", fqdn, type,
			 ldns_get_errorstr_by_id(st));
		ret = -ETIMEDOUT;
		goto fail;
	}
	ans->rcode = ldns_pkt_get_rcode(pkt);
	if (ans->rcode == LDNS_RCODE_NXDOMAIN) {
		snprintf(q->err, sizeof(q->err), "%s does not exist (NXDOMAIN)", fqdn);
		ret = MX_ENOTFOUND;
		goto fail;
	}
	if (ans->rcode != LDNS_RCODE_NOERROR) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, ans->rcode);
		snprintf(q->err, sizeof(q->err), "%s %s: server answered %s", fqdn, type,
			 lt ? lt->name : "an error");
		ret = MX_EREFUSED;
		goto fail;
	}
	rrs = ldns_pkt_rr_list_by_type(pkt, t, LDNS_SECTION_ANSWER);
	if (rrs == NULL || ldns_rr_list_rr_count(rrs) == 0) {
		snprintf(q->err, sizeof(q->err), "%s has no %s record", fqdn, type);
		ret = MX_ENOTFOUND;
		goto fail;
	}
	n = ldns_rr_list_rr_count(rrs);
	ans->rdata = calloc(n, sizeof(char *));
	ans->txt = calloc(n, sizeof(char *));
	ans->txt_len = calloc(n, sizeof(size_t));
	if (ans->rdata == NULL || ans->txt == NULL || ans->txt_len == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		ans->count++;
		ans->rdata[i] = rdata_str(rr);
		if (ans->rdata[i] == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		if (t == LDNS_RR_TYPE_TXT) {
			ans->txt[i] = txt_join(rr, &ans->txt_len[i]);
			if (ans->txt[i] == NULL) {
				ret = -ENOMEM;
				goto fail;
			}
		}
	}
	ldns_rr_list_deep_free(rrs);
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(dname);
	return 0;
fail:
	if (rrs)
		ldns_rr_list_deep_free(rrs);
	if (pkt)
		ldns_pkt_free(pkt);
	if (dname)
		ldns_rdf_deep_free(dname);
	return ret;
}
