/* publish: --zone for the generators and the commit path of mxdns zone
 * (see publish.h). */
#include "publish.h"

#include "config.h"
#include "ctlclient.h"
#include "dkim.h"
#include "errcode.h"
#include "findings.h"
#include "name.h"
#include "spf.h"
#include "txtrec.h"
#include "udiff.h"
#include "zone.h"
#include "zonefile.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RDATA_TEXT_MAX 70000

static const char *prog_of(const struct publish_opts *o)
{
	return o->prog ? o->prog : "mxdns";
}

void publish_target_cleanup(struct publish_target *t)
{
	free(t->file);
	free(t->origin);
	free(t->control);
	memset(t, 0, sizeof(*t));
}

static char *absolute(const char *name)
{
	size_t l = strlen(name);
	char *s = malloc(l + 2);
	if (s)
		snprintf(s, l + 2, "%s%s", name, l && name[l - 1] == '.' ? "" : ".");
	return s;
}

static int same_name(const char *a, const char *b)
{
	uint8_t wa[NAME_MAXLEN], wb[NAME_MAXLEN];
	int la = name_from_text(a, wa), lb = name_from_text(b, wb);
	if (la < 0 || lb < 0 || la != lb)
		return 0;
	name_lower(wa, wa, (size_t)la);
	name_lower(wb, wb, (size_t)lb);
	return memcmp(wa, wb, (size_t)la) == 0;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The daemon's "zones" listing: "NAME serial=N records=N file=PATH".
 * Finds the line whose name (by_name) or file (by_file) matches. */
static int ask_daemon(const char *control, const char *by_name, const char *by_file,
		      char **name, char **file)
{
	struct ctlclient_reply r = {0};
	char err[512];
	int found = 0;

	if (ctlclient_request(control, "zones", &r, err, sizeof(err)) != 0 || r.error)
		goto done;
	for (size_t i = 0; i < r.n && !found; i++) {
		char *line = r.lines[i], *sp = strchr(line, ' ');
		char *f = strstr(line, " file=");
		if (!sp || !f)
			continue;
		*sp = '\0';
		f += 6;
		if ((by_name && same_name(line, by_name)) || (by_file && same_file(f, by_file))) {
			*name = strdup(line);
			*file = strdup(f);
			found = *name && *file;
		}
		*sp = ' ';
	}
done:
	ctlclient_reply_cleanup(&r);
	return found;
}

static int soa_owner(void *arg, const struct zonefile_rr *rr)
{
	char **out = arg;
	if (rr->type != RR_SOA)
		return 0;
	*out = strdup(rr->owner);
	return 1;
}

/* The apex named by the file itself: the owner of its first SOA when it is
 * absolute or set by $ORIGIN. Read with the root as origin, a relative
 * owner comes out as "." and tells nothing. */
static char *origin_from_file(const char *file)
{
	char err[512], *found = NULL;
	struct zonefile *zf = NULL;
	if (zonefile_open(&zf, file, ".", 0, err, sizeof(err)) != 0)
		return NULL;
	zonefile_foreach(zf, NULL, soa_owner, &found, err, sizeof(err));
	zonefile_free(zf);
	if (found && strcmp(found, ".") == 0) {
		free(found);
		found = NULL;
	}
	return found;
}

int publish_target_resolve(const struct publish_opts *o, struct publish_target *t, char *err,
			   size_t errlen)
{
	struct config cfg;
	char cerr[1024], *dname = NULL, *dfile = NULL;
	struct stat st;
	int rc = 2;

	memset(t, 0, sizeof(*t));
	config_init(&cfg);
	if (!o->zone || !*o->zone) {
		snprintf(err, errlen, "which zone? give --zone FILE or a zone name");
		goto done;
	}
	if (o->config && config_parse_file(&cfg, o->config, cerr, sizeof(cerr)) != 0) {
		snprintf(err, errlen, "%s", cerr);
		goto done;
	}
	const char *control = o->control ? o->control : cfg.control;
	if (!control)
		control = getenv("MXDNS_CONTROL");
	if (control && *control && !(t->control = strdup(control)))
		goto oom;

	if (stat(o->zone, &st) == 0 && S_ISREG(st.st_mode)) {
		if (!(t->file = strdup(o->zone)))
			goto oom;
		if (o->origin) {
			t->origin = absolute(o->origin);
		} else {
			for (size_t i = 0; i < cfg.n_zones && !t->origin; i++)
				if (same_file(cfg.zones[i].file, o->zone))
					t->origin = absolute(cfg.zones[i].name);
			if (!t->origin && t->control && ask_daemon(t->control, NULL, o->zone, &dname, &dfile))
				t->origin = absolute(dname);
			if (!t->origin)
				t->origin = origin_from_file(o->zone);
		}
		if (!t->origin) {
			snprintf(err, errlen,
				 "%s: which zone is this? Its SOA owner is relative and neither a "
				 "configuration (-c) nor a running daemon (--control) names the file; "
				 "give --origin NAME",
				 o->zone);
			goto done;
		}
	} else {
		for (size_t i = 0; i < cfg.n_zones && !t->file; i++) {
			if (!same_name(cfg.zones[i].name, o->zone))
				continue;
			t->file = strdup(cfg.zones[i].file);
			t->origin = absolute(cfg.zones[i].name);
		}
		if (!t->file && t->control && ask_daemon(t->control, o->zone, NULL, &dname, &dfile) &&
		    strcmp(dfile, "(embedded)") != 0) {
			t->file = strdup(dfile);
			t->origin = absolute(dname);
		}
		if (!t->file) {
			snprintf(err, errlen,
				 "--zone %s: no such file%s%s%s", o->zone,
				 o->config ? ", and no zone of that name in " : "",
				 o->config ? o->config : "",
				 t->control ? ", nor served by the daemon" : " (for a zone name, give -c CONFIG or --control PATH)");
			goto done;
		}
	}
	if (!t->file || !t->origin)
		goto oom;
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	if (rc != 0)
		publish_target_cleanup(t);
	free(dname);
	free(dfile);
	config_cleanup(&cfg);
	return rc;
}

/* ---- the mail checks ---------------------------------------------------- */

/* Calls fn for each TXT RR at owner in the compiled zone with the strings
 * concatenated. */
static int each_txt(const struct zone *z, const char *owner,
		    void (*fn)(void *arg, const char *v, size_t len), void *arg)
{
	uint8_t wire[NAME_MAXLEN];
	static char value[RDATA_TEXT_MAX];
	int wl = name_from_text(owner, wire);
	if (wl < 0)
		return 0;
	name_lower(wire, wire, (size_t)wl);
	const struct zone_node *node = zone_find(z, wire, (size_t)wl);
	const struct zone_rrset *rs = node ? zone_node_rrset(node, RR_TXT) : NULL;
	if (!rs)
		return 0;
	for (uint16_t i = 0; i < rs->count; i++) {
		/* [owner 2][type 2][class 2][ttl 4][rdlength 2][rdata] (zone.h) */
		const uint8_t *rr = rs->wire + rs->owner_fix[i];
		size_t rdlen = (size_t)rr[10] << 8 | rr[11], n = 0;
		const uint8_t *rd = rr + 12;
		for (size_t p = 0; p < rdlen;) {
			size_t l = rd[p++];
			if (p + l > rdlen)
				break;
			memcpy(value + n, rd + p, l);
			n += l;
			p += l;
		}
		value[n] = '\0';
		fn(arg, value, n);
	}
	return rs->count;
}

static void count_spf(void *arg, const char *v, size_t len)
{
	*(int *)arg += spf_is_spf1(v, len) ? 1 : 0;
}

static void count_dkim(void *arg, const char *v, size_t len)
{
	/* RFC 6376 §3.6.1: v=DKIM1 first when present; a key record
	 * without v= is still one (p= is the only required tag). */
	*(int *)arg += (len >= 7 && strncmp(v, "v=DKIM1", 7) == 0) || strstr(v, "p=") != NULL;
}

static int is_dkim_owner(const char *owner)
{
	/* SELECTOR._domainkey.DOMAIN (RFC 6376 §3.6.2.1) */
	const char *dot = strchr(owner, '.');
	return dot && strncasecmp(dot, "._domainkey.", 12) == 0;
}

int publish_mail_check(void *arg, const struct zone *z, const struct zonefile *zf, char *err,
		       size_t errlen)
{
	bool force = arg ? *(bool *)arg : false;
	struct findings f;
	struct zonefile_added a;
	char where[1100];

	findings_init(&f);
	for (size_t i = 0; i < zonefile_added_count(zf); i++) {
		if (zonefile_added_get(zf, i, &a) != 0 || a.type != RR_TXT)
			continue;
		snprintf(where, sizeof(where), "%s", a.owner);
		if (spf_is_spf1(a.txt, a.txt_len)) {
			/* spf_lint works on the name without the final dot */
			size_t wl = strlen(where);
			if (wl > 1)
				where[wl - 1] = '\0';
			struct spf_lint *lint = calloc(1, sizeof(*lint));
			if (!lint)
				return MX_EINVAL;
			spf_lint_record(NULL, where, a.txt, a.txt_len, lint);
			for (size_t k = 0; k < lint->n; k++) {
				if (lint->items[k].level == SPF_LINT_ERROR)
					findings_add(&f, FINDING_ERROR, "SPF at %s: %s", a.owner,
						     lint->items[k].msg);
				else if (lint->items[k].level == SPF_LINT_WARNING)
					fprintf(stderr, "warning: SPF at %s: %s\n", a.owner,
						lint->items[k].msg);
			}
			free(lint);
			int n_spf = 0;
			each_txt(z, a.owner, count_spf, &n_spf);
			if (n_spf > 1)
				findings_add(&f, FINDING_ERROR,
					     "%s would have %d SPF records; receivers then return "
					     "permerror (RFC 7208 §4.5)",
					     a.owner, n_spf);
		} else if (is_dkim_owner(a.owner)) {
			struct findings df;
			struct dkim_record rec;
			memset(&rec, 0, sizeof(rec));
			findings_init(&df);
			/* an empty p= is a deliberate revocation (RFC 6376
			 * §3.6.1), not a broken record */
			if (dkim_record_check(a.txt, a.txt_len, &df, &rec) != 0 && !rec.revoked) {
				for (size_t k = 0; k < df.count; k++)
					if (df.item[k].level == FINDING_ERROR)
						findings_add(&f, FINDING_ERROR, "DKIM key at %s: %s",
							     a.owner, df.item[k].msg);
			}
			dkim_record_cleanup(&rec);
			int n_dkim = 0;
			each_txt(z, a.owner, count_dkim, &n_dkim);
			if (n_dkim > 1)
				findings_add(&f, FINDING_ERROR,
					     "%s would have %d DKIM key records; verifiers then fail "
					     "(RFC 6376 §3.6.2.2)",
					     a.owner, n_dkim);
		}
	}
	size_t n_err = findings_count(&f, FINDING_ERROR);
	if (n_err == 0)
		return 0;
	for (size_t k = 0; k < f.count; k++)
		fprintf(stderr, "%s: %s\n", force ? "warning (--force)" : "refused", f.item[k].msg);
	if (force)
		return 0;
	snprintf(err, errlen, "%zu mail check(s) failed (see above); --force publishes anyway",
		 n_err);
	return MX_EREFUSED;
}

/* ---- commit and reload ---------------------------------------------------- */

int publish_reload(const char *prog, const char *control, const char *zone, bool quiet)
{
	struct ctlclient_reply r = {0};
	char line[1100], err[600];
	int rc;

	snprintf(line, sizeof(line), "reload %s", zone);
	if (ctlclient_request(control, line, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: warning: the file is written, but %s; the daemon reads it when "
				"it starts or reloads\n",
			prog, err);
		rc = 2;
		goto done;
	}
	if (r.error) {
		for (size_t i = 0; i < r.n; i++)
			fprintf(stderr, "%s: %s\n", prog, r.lines[i]);
		fprintf(stderr, "%s: the daemon did not load the new file: %s\n", prog, r.error);
		rc = 1;
		goto done;
	}
	if (!quiet)
		for (size_t i = 0; i < r.n; i++)
			fprintf(stderr, "%s: mxdnsd: %s\n", prog, r.lines[i]);
	rc = 0;
done:
	ctlclient_reply_cleanup(&r);
	return rc;
}

int publish_commit(const struct publish_opts *o, const struct publish_target *t,
		   struct zonefile *zf, struct publish_outcome *out, bool diff_to_string)
{
	struct publish_outcome dummy;
	struct zonefile_result res;
	char err[2048];
	bool force = o->force;
	struct zonefile_commit_opts co = {
		.flags = o->dry_run ? ZONEFILE_DRY_RUN : 0,
		.check = publish_mail_check,
		.check_arg = &force,
	};
	const char *prog = prog_of(o);
	int rc;

	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	out->reload = -1;
	if (!zonefile_changed(zf)) {
		if (!o->quiet)
			fprintf(stderr, "%s: %s: already as asked, nothing to change\n", prog,
				zonefile_path(zf));
		return 0;
	}
	out->changed = true;
	rc = zonefile_commit(zf, &co, &res, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s%s\n", prog,
			rc == MX_EZONE ? "refused, the zone would not load: " : "", err);
		return rc == MX_EZONE || rc == MX_EREFUSED ? 1 : 2;
	}
	out->old_serial = res.old_serial;
	out->new_serial = res.new_serial;
	out->n_records = res.n_records;
	out->written = res.written;
	if (o->dry_run) {
		size_t ol, nl, dl = 0;
		const char *a = zonefile_old_text(zf, &ol), *b = zonefile_text(zf, &nl);
		char la[PATH_MAX + 8], lb[PATH_MAX + 8];
		FILE *f = diff_to_string ? open_memstream(&out->diff, &dl) : stdout;
		snprintf(la, sizeof(la), "%s", zonefile_path(zf));
		snprintf(lb, sizeof(lb), "%s (new)", zonefile_path(zf));
		rc = f ? udiff_print(f, a, ol, b, nl, la, lb, 3) : -ENOMEM;
		if (f && diff_to_string)
			fclose(f);
		if (rc < 0) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return 2;
		}
		if (!o->quiet)
			fprintf(stderr,
				"%s: dry run: %s would get serial %u (was %u); nothing written\n",
				prog, zonefile_path(zf), res.new_serial, res.old_serial);
		return 0;
	}
	if (!o->quiet)
		fprintf(stderr, "%s: %s: written, serial %u -> %u, %zu records\n", prog,
			zonefile_path(zf), res.old_serial, res.new_serial, res.n_records);
	if (t->control && !o->no_reload) {
		out->reload = publish_reload(prog, t->control, t->origin, o->quiet);
		if (out->reload == 1)
			return 1;
	}
	return 0;
}

/* ---- for the generators ------------------------------------------------- */

int publish_records(const struct publish_opts *o, const struct publish_rrs *r)
{
	struct publish_target t;
	struct zonefile *zf = NULL;
	char err[2048], **texts = NULL, *type = NULL;
	const char *prog = prog_of(o);
	int rc = 2, n;

	if ((rc = publish_target_resolve(o, &t, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return rc;
	}
	rc = 2;
	type = ldns_rr_type2str(r->type);
	texts = calloc(r->n ? r->n : 1, sizeof(char *));
	if (!type || !texts)
		goto oom;
	for (size_t i = 0; i < r->n; i++) {
		char ttl[16] = "";
		if (r->ttl)
			snprintf(ttl, sizeof(ttl), " %u", r->ttl);
		if (asprintf(&texts[i], "%s%s IN %s %s", r->owner, ttl, type, r->rdata[i]) < 0) {
			texts[i] = NULL;
			goto oom;
		}
	}
	if (zonefile_open(&zf, t.file, t.origin, ZONEFILE_LOCK, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto done;
	}
	if (r->replace) {
		struct zonefile_match m = {.owner = r->owner, .type = r->type,
					   .txt_prefix = r->type == RR_TXT ? r->txt_prefix : NULL};
		n = zonefile_replace(zf, &m, (const char *const *)texts, r->n, err, sizeof(err));
	} else {
		n = 0;
		for (size_t i = 0; i < r->n && n >= 0; i++) {
			int k = zonefile_add(zf, texts[i], err, sizeof(err));
			n = k < 0 ? k : n + k;
		}
	}
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto done;
	}
	rc = publish_commit(o, &t, zf, o->outcome, o->outcome != NULL);
	goto done;
oom:
	fprintf(stderr, "%s: out of memory\n", prog);
done:
	zonefile_free(zf);
	for (size_t i = 0; texts && i < r->n; i++)
		free(texts[i]);
	free(texts);
	free(type);
	publish_target_cleanup(&t);
	return rc;
}

int publish_txt(const struct publish_opts *o, const char *owner, uint32_t ttl, const char *value,
		const char *replace_prefix)
{
	size_t len = strlen(value), cap = len * 4 + len / 255 * 4 + 16;
	char *text = malloc(cap);
	int rc;

	if (!text || txtrec_format(value, len, " ", text, cap) < 0) {
		free(text);
		fprintf(stderr, "%s: out of memory\n", prog_of(o));
		return 2;
	}
	const char *rd[1] = {text};
	struct publish_rrs r = {.owner = owner, .type = RR_TXT, .ttl = ttl, .rdata = rd, .n = 1,
				.replace = replace_prefix != NULL, .txt_prefix = replace_prefix};
	rc = publish_records(o, &r);
	free(text);
	return rc;
}
