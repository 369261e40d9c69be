/* dkimrotate: DKIM key rotation through the zone (see dkimrotate.h). */
#include "dkimrotate.h"

#include "dkim.h"
#include "errcode.h"
#include "findings.h"
#include "hostarg.h"
#include "json.h"
#include "publish.h"
#include "pubopt.h"
#include "txtrec.h"
#include "zone.h"
#include "zonefile.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SELECTORS 64

int dkimrotate_state_of(const char *value, size_t len, enum dkimrotate_state *state,
			char since[11])
{
	struct txtrec_tags tags;
	int rc;

	since[0] = '\0';
	*state = DKIMROTATE_INVALID;
	rc = txtrec_tags_parse(value, len, &tags);
	if (rc == 0) {
		const struct txtrec_tag *p = txtrec_tags_get(&tags, "p");
		const struct txtrec_tag *n = txtrec_tags_get(&tags, "n");
		if (p && p->value[0] == '\0') {
			*state = DKIMROTATE_REVOKED;
			if (n && strncmp(n->value, "revoked ", 8) == 0 && strlen(n->value + 8) == 10)
				memcpy(since, n->value + 8, 11);
		} else if (p) {
			*state = DKIMROTATE_ACTIVE;
		}
	}
	txtrec_tags_cleanup(&tags);
	return rc == 0 ? 0 : MX_ESYNTAX;
}

int dkimrotate_revoked_value(const char *value, size_t len, const char *date, char **out)
{
	struct txtrec_tags tags;
	char *s = NULL;
	size_t cap = len + 64, n = 0;
	int rc;

	*out = NULL;
	if ((rc = txtrec_tags_parse(value, len, &tags)) != 0) {
		txtrec_tags_cleanup(&tags);
		return MX_ESYNTAX;
	}
	if (!(s = malloc(cap))) {
		txtrec_tags_cleanup(&tags);
		return -ENOMEM;
	}
	for (size_t i = 0; i < tags.count; i++) {
		const struct txtrec_tag *t = &tags.tag[i];
		if (strcmp(t->name, "p") == 0 || strcmp(t->name, "n") == 0)
			continue;
		n += (size_t)snprintf(s + n, cap - n, "%s=%s; ", t->name, t->value);
	}
	/* RFC 6376 §3.6.1: an empty p= means revoked; n= is free notes */
	snprintf(s + n, cap - n, "n=revoked %s; p=", date);
	txtrec_tags_cleanup(&tags);
	*out = s;
	return 0;
}

static long long days_from_civil(int y, int m, int d)
{
	/* proleptic Gregorian day count (H. Hinnant's algorithm) */
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

long dkimrotate_days_since(const char *date, long long now)
{
	int y, m, d;
	char tail;
	if (sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 ||
	    d > 31)
		return -1;
	return (long)(now / 86400 - days_from_civil(y, m, d));
}

static void today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- reading the selectors of a domain from the zone ------------------- */

struct selector {
	char name[HOSTARG_MAX];  /* the selector */
	char domain[HOSTARG_MAX]; /* without final dot */
	char owner[HOSTARG_MAX * 2 + 16];
	enum dkimrotate_state state;
	char since[11];
	char algo[8];
	int bits;
	char *value;
	size_t len;
	int count; /* TXT records at the owner */
};

struct selectors {
	const char *domain; /* NULL: all */
	struct selector s[MAX_SELECTORS];
	size_t n;
};

static int collect(void *arg, const struct zonefile_rr *rr)
{
	struct selectors *ss = arg;
	const char *dk = strstr(rr->owner, "._domainkey.");
	if (rr->type != RR_TXT || !dk || strchr(rr->owner, '.') != dk)
		return 0;
	char domain[HOSTARG_MAX];
	snprintf(domain, sizeof(domain), "%s", dk + 12);
	size_t dl = strlen(domain);
	if (dl > 1 && domain[dl - 1] == '.')
		domain[dl - 1] = '\0';
	if (ss->domain && strcasecmp(domain, ss->domain) != 0)
		return 0;
	struct selector *s = NULL;
	for (size_t i = 0; i < ss->n && !s; i++)
		if (strcasecmp(ss->s[i].owner, rr->owner) == 0)
			s = &ss->s[i];
	if (s) {
		s->count++;
		return 0;
	}
	if (ss->n == MAX_SELECTORS)
		return 0;
	s = &ss->s[ss->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->owner, sizeof(s->owner), "%s", rr->owner);
	snprintf(s->name, sizeof(s->name), "%.*s", (int)(dk - rr->owner), rr->owner);
	snprintf(s->domain, sizeof(s->domain), "%s", domain);
	s->count = 1;
	s->value = malloc(rr->txt_len + 1);
	if (!s->value)
		return -ENOMEM;
	memcpy(s->value, rr->txt, rr->txt_len);
	s->value[rr->txt_len] = '\0';
	s->len = rr->txt_len;
	dkimrotate_state_of(s->value, s->len, &s->state, s->since);
	if (s->state == DKIMROTATE_ACTIVE) {
		struct findings f;
		struct dkim_record rec;
		memset(&rec, 0, sizeof(rec));
		findings_init(&f);
		if (dkim_record_check(s->value, s->len, &f, &rec) == 0 && rec.pubkey) {
			snprintf(s->algo, sizeof(s->algo), "%s",
				 rec.algo == DKIM_ALGO_RSA ? "rsa" : "ed25519");
			s->bits = rec.bits;
		} else {
			s->state = DKIMROTATE_INVALID;
		}
		dkim_record_cleanup(&rec);
	}
	return 0;
}

static void selectors_cleanup(struct selectors *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		free(ss->s[i].value);
	ss->n = 0;
}

static struct selector *find(struct selectors *ss, const char *name)
{
	for (size_t i = 0; i < ss->n; i++)
		if (strcasecmp(ss->s[i].name, name) == 0)
			return &ss->s[i];
	return NULL;
}

static const char *state_name(enum dkimrotate_state s)
{
	return s == DKIMROTATE_ACTIVE ? "active" : s == DKIMROTATE_REVOKED ? "revoked" : "invalid";
}

/* ---- options ------------------------------------------------------------- */

enum { OPT_DOMAIN = 256, OPT_NEW, OPT_OLD, OPT_REVOKE, OPT_REMOVE, OPT_ALGO, OPT_BITS, OPT_OUT,
       OPT_OVERLAP, OPT_JSON, OPT_HELP };

static const struct option options[] = {
	PUBOPT_OPTION_ZONE,
	PUBOPT_OPTIONS,
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"new-selector", required_argument, NULL, OPT_NEW},
	{"old-selector", required_argument, NULL, OPT_OLD},
	{"revoke", required_argument, NULL, OPT_REVOKE},
	{"remove", required_argument, NULL, OPT_REMOVE},
	{"algo", required_argument, NULL, OPT_ALGO},
	{"bits", required_argument, NULL, OPT_BITS},
	{"out", required_argument, NULL, OPT_OUT},
	{"overlap", required_argument, NULL, OPT_OVERLAP},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

struct args {
	const char *verb;
	struct publish_opts po;
	char domain[HOSTARG_MAX];
	char new_sel[HOSTARG_MAX], old_sel[HOSTARG_MAX], revoke[HOSTARG_MAX], remove[HOSTARG_MAX];
	enum dkim_algo algo;
	int bits;
	const char *out;
	long overlap;
	bool json;
};

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns dkim rotate --zone ZONE --domain D --new-selector S2 [--old-selector S1]\n"
		"                         [--algo rsa|ed25519] [--bits N] [--out DIR]\n"
		"       mxdns dkim rotate --zone ZONE --domain D --revoke S1\n"
		"       mxdns dkim rotate --zone ZONE --domain D --remove S1 [--overlap DAYS]\n"
		"       mxdns dkim list   --zone ZONE [--domain D]\n"
		"common: [PUBLISH OPTIONS] [--json]\n"
		"\n"
		"The state lives in the zone: a selector's record with a key (p=...) is active;\n"
		"with an empty p= it is revoked (RFC 6376 §3.6.1), since the date in its\n"
		"n=revoked YYYY-MM-DD note; removed selectors are gone.\n"
		"\n"
		"--new-selector  makes a key (as dkim keygen: DIR/S2.private, PKCS#8, mode 0600;\n"
		"                for Ed25519 also DIR/S2.ed25519) and publishes S2._domainkey.D\n"
		"                beside the old selector; switch the signer to S2, keep S1 for\n"
		"                the overlap (verifiers, messages in transit), then --revoke S1.\n"
		"--revoke S1     empties S1's p= (refused for the last active selector of D\n"
		"                unless --force).\n"
		"--remove S1     deletes S1's record; refused unless it has been revoked for at\n"
		"                least --overlap days (default %d) or --force is given.\n"
		"ZONE is a zone file or a zone name, as for mxdns zone.\n"
		"publish options:\n",
		DKIMROTATE_OVERLAP_DAYS);
	pubopt_usage(f, false);
	fprintf(f, "exit: 0 done, 1 refused, 2 usage or runtime error\n");
	return code;
}

static int selector_arg(const char *v, const char *what, char *out)
{
	char err[400];
	if (hostarg_parse(v, what, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dkim: %s\n", err);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->verb = argv[0];
	a->out = ".";
	a->overlap = DKIMROTATE_OVERLAP_DAYS;
	a->po.prog = strcmp(a->verb, "list") == 0 ? "mxdns dkim list" : "mxdns dkim rotate";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, PUBOPT_SHORT "h", options, NULL)) != -1) {
		if (pubopt_take(&a->po, c, optarg))
			continue;
		switch (c) {
		case OPT_DOMAIN:
			if (selector_arg(optarg, "--domain", a->domain) < 0)
				return 2;
			break;
		case OPT_NEW:
			if (selector_arg(optarg, "--new-selector", a->new_sel) < 0)
				return 2;
			break;
		case OPT_OLD:
			if (selector_arg(optarg, "--old-selector", a->old_sel) < 0)
				return 2;
			break;
		case OPT_REVOKE:
			if (selector_arg(optarg, "--revoke", a->revoke) < 0)
				return 2;
			break;
		case OPT_REMOVE:
			if (selector_arg(optarg, "--remove", a->remove) < 0)
				return 2;
			break;
		case OPT_ALGO:
			if (dkim_algo_arg(optarg, &a->algo) < 0)
				return 2;
			break;
		case OPT_BITS:
			if (dkim_bits_arg(optarg, &a->bits) < 0)
				return 2;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_OVERLAP: {
			char *end;
			a->overlap = strtol(optarg, &end, 10);
			if (*end || a->overlap < 0 || a->overlap > 3650) {
				fprintf(stderr, "mxdns dkim: --overlap: '%s' (want days, 0..3650)\n", optarg);
				return 2;
			}
			break;
		}
		case OPT_JSON:
			a->json = true;
			break;
		case 'h':
		case OPT_HELP:
			return usage(stdout, 0) - 1;
		default:
			fprintf(stderr, "mxdns dkim %s: unknown or incomplete option '%s' (see --help)\n",
				a->verb, argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxdns dkim %s: unexpected argument '%s' (see --help)\n", a->verb,
			argv[optind]);
		return 2;
	}
	if (!a->po.zone) {
		fprintf(stderr, "mxdns dkim %s: --zone FILE|NAME is required\n", a->verb);
		return 2;
	}
	return 0;
}

/* ---- rotate -------------------------------------------------------------- */

static int replace_txt(struct zonefile *zf, const char *owner, const char *value, char *err,
		       size_t errlen)
{
	size_t len = strlen(value), cap = len * 4 + 64;
	char *text = malloc(cap), *rr = NULL;
	int rc;
	if (!text || txtrec_format(value, len, " ", text, cap) < 0 ||
	    asprintf(&rr, "%s IN TXT %s", owner, text) < 0) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct zonefile_match m = {.owner = owner, .type = RR_TXT};
	const char *rrs[1] = {rr};
	rc = zonefile_replace(zf, &m, rrs, 1, err, errlen);
	free(rr);
	free(text);
	return rc;
}

int dkim_rotate_main(int argc, char **argv)
{
	struct args a;
	struct publish_target t;
	struct selectors ss;
	struct zonefile *zf = NULL;
	struct publish_outcome po;
	EVP_PKEY *key = NULL;
	char err[2048], owner[HOSTARG_MAX * 2 + 16], date[11], files[8400] = "";
	char *value = NULL;
	const char *action;
	int rc, n_modes;

	memset(&t, 0, sizeof(t));
	memset(&ss, 0, sizeof(ss));
	memset(&po, 0, sizeof(po));
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc < 0 ? 0 : rc;
	rc = 2;
	n_modes = !!a.new_sel[0] + !!a.revoke[0] + !!a.remove[0];
	if (!a.domain[0] || n_modes != 1) {
		fprintf(stderr, "mxdns dkim rotate: give --domain and one of --new-selector, --revoke, "
				"--remove (see --help)\n");
		return 2;
	}
	if (a.algo == DKIM_ALGO_ED25519 && a.bits) {
		fprintf(stderr, "mxdns dkim rotate: --bits applies to rsa keys only\n");
		return 2;
	}
	if (publish_target_resolve(&a.po, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdns dkim rotate: %s\n", err);
		return 2;
	}
	if (zonefile_open(&zf, t.file, t.origin, ZONEFILE_LOCK, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdns dkim rotate: %s\n", err);
		goto done;
	}
	ss.domain = a.domain;
	if (zonefile_foreach(zf, NULL, collect, &ss, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dkim rotate: %s\n", err);
		goto done;
	}
	today(date);
	const char *sel = a.new_sel[0] ? a.new_sel : a.revoke[0] ? a.revoke : a.remove;
	snprintf(owner, sizeof(owner), "%s._domainkey.%s.", sel, a.domain);
	struct selector *s = find(&ss, sel);

	if (a.new_sel[0]) {
		action = "published";
		if (s && !a.po.force) {
			/* a selector names one key for good: verifiers and caches
			 * may hold the old record (RFC 6376 §3.1 on selectors) */
			fprintf(stderr, "mxdns dkim rotate: %s is already in the zone (%s); pick a new "
					"selector name (or --force to replace it)\n",
				owner, state_name(s->state));
			rc = 1;
			goto done;
		}
		if (a.old_sel[0]) {
			struct selector *old = find(&ss, a.old_sel);
			if (!old)
				fprintf(stderr, "mxdns dkim rotate: warning: the old selector %s has no "
						"record under _domainkey.%s in this zone\n",
					a.old_sel, a.domain);
			else if (old->state != DKIMROTATE_ACTIVE)
				fprintf(stderr, "mxdns dkim rotate: warning: the old selector %s is %s\n",
					a.old_sel, state_name(old->state));
		}
		int bits = a.bits ? a.bits : 2048;
		if (dkim_keygen(a.algo, bits, &key) < 0 || dkim_record_value(key, &value) < 0) {
			fprintf(stderr, "mxdns dkim rotate: key generation failed (OpenSSL)\n");
			goto done;
		}
		/* the key first: a published record without its private key
		 * could sign nothing */
		if (!a.po.dry_run) {
			struct dkim_key_files kf;
			int r = dkim_key_write(a.out, a.new_sel, key, NULL, a.po.force, &kf, err,
					       sizeof(err));
			if (r < 0) {
				fprintf(stderr, "mxdns dkim rotate: %s\n", err);
				rc = r == MX_EEXIST ? 1 : 2;
				goto done;
			}
			for (size_t i = 0, n = 0; i < kf.n; i++)
				n += (size_t)snprintf(files + n, sizeof(files) - n, "%s%s",
						      i ? " " : "", kf.path[i]);
		}
	} else if (a.revoke[0]) {
		action = "revoked";
		if (!s) {
			fprintf(stderr, "mxdns dkim rotate: no record %s in the zone\n", owner);
			rc = 1;
			goto done;
		}
		size_t active = 0;
		for (size_t i = 0; i < ss.n; i++)
			active += ss.s[i].state == DKIMROTATE_ACTIVE && &ss.s[i] != s;
		if (s->state == DKIMROTATE_ACTIVE && active == 0 && !a.po.force) {
			fprintf(stderr, "mxdns dkim rotate: %s is the last active key of %s: mail "
					"signed with it would fail DKIM; publish a new selector first "
					"(or --force)\n",
				sel, a.domain);
			rc = 1;
			goto done;
		}
		if (s->state == DKIMROTATE_REVOKED) {
			fprintf(stderr, "mxdns dkim rotate: %s is already revoked%s%s\n", sel,
				s->since[0] ? " since " : "", s->since);
			rc = 0;
			goto done;
		}
		if (dkimrotate_revoked_value(s->value, s->len, date, &value) < 0) {
			fprintf(stderr, "mxdns dkim rotate: %s: the record is not a tag list\n", owner);
			rc = 1;
			goto done;
		}
	} else {
		action = "removed";
		if (!s) {
			fprintf(stderr, "mxdns dkim rotate: no record %s in the zone\n", owner);
			rc = 1;
			goto done;
		}
		long days = s->since[0] ? dkimrotate_days_since(s->since, (long long)time(NULL)) : -1;
		if (!a.po.force && s->state != DKIMROTATE_REVOKED) {
			fprintf(stderr, "mxdns dkim rotate: %s is %s: revoke it first (--revoke %s) and "
					"remove it after %ld days (or --force)\n",
				sel, state_name(s->state), sel, a.overlap);
			rc = 1;
			goto done;
		}
		if (!a.po.force && (days < 0 || days < a.overlap)) {
			fprintf(stderr, "mxdns dkim rotate: %s was revoked %s%s; it may be removed after "
					"%ld days of overlap (or --force)\n",
				sel, days < 0 ? "at an unknown date" : "on ", days < 0 ? "" : s->since,
				a.overlap);
			rc = 1;
			goto done;
		}
		struct zonefile_match m = {.owner = owner, .type = RR_TXT};
		if (zonefile_delete(zf, &m, err, sizeof(err)) < 0) {
			fprintf(stderr, "mxdns dkim rotate: %s\n", err);
			goto done;
		}
	}
	if (value && replace_txt(zf, owner, value, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dkim rotate: %s\n", err);
		goto done;
	}
	rc = publish_commit(&a.po, &t, zf, &po, a.json && a.po.dry_run);
	if (rc == 0 && !a.json && !a.po.dry_run) {
		printf("%s %s\n", action, owner);
		if (files[0])
			printf("key: %s\n", files);
		if (a.new_sel[0])
			printf("next: sign with selector %s; after the overlap: mxdns dkim rotate --zone "
			       "%s --domain %s --revoke %s\n",
			       a.new_sel, a.po.zone, a.domain, a.old_sel[0] ? a.old_sel : "OLD");
		else if (a.revoke[0])
			printf("next: after %ld days: mxdns dkim rotate --zone %s --domain %s --remove "
			       "%s\n",
			       a.overlap, a.po.zone, a.domain, sel);
	}
	if (a.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_bool(&j, "ok", rc == 0);
		json_kv_str(&j, "action", action);
		json_kv_str(&j, "name", owner);
		json_kv_str(&j, "zone", t.origin);
		json_kv_str(&j, "file", t.file);
		if (files[0])
			json_kv_str(&j, "key_files", files);
		if (value)
			json_kv_str(&j, "value", value);
		json_kv_bool(&j, "written", po.written);
		if (po.written)
			json_kv_int(&j, "serial", po.new_serial);
		if (po.diff)
			json_kv_str(&j, "diff", po.diff);
		json_obj_end(&j);
		json_finish(&j);
	}
done:
	free(po.diff);
	free(value);
	EVP_PKEY_free(key);
	selectors_cleanup(&ss);
	zonefile_free(zf);
	publish_target_cleanup(&t);
	return rc;
}

int dkim_list_main(int argc, char **argv)
{
	struct args a;
	struct publish_target t;
	struct selectors ss;
	struct zonefile *zf = NULL;
	char err[2048];
	int rc;

	memset(&ss, 0, sizeof(ss));
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc < 0 ? 0 : rc;
	if (publish_target_resolve(&a.po, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdns dkim list: %s\n", err);
		return 2;
	}
	rc = 2;
	if (zonefile_open(&zf, t.file, t.origin, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdns dkim list: %s\n", err);
		goto done;
	}
	ss.domain = a.domain[0] ? a.domain : NULL;
	if (zonefile_foreach(zf, NULL, collect, &ss, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dkim list: %s\n", err);
		goto done;
	}
	if (a.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "zone", t.origin);
		json_key(&j, "selectors");
		json_arr_begin(&j);
		for (size_t i = 0; i < ss.n; i++) {
			const struct selector *s = &ss.s[i];
			json_obj_begin(&j);
			json_kv_str(&j, "selector", s->name);
			json_kv_str(&j, "domain", s->domain);
			json_kv_str(&j, "state", state_name(s->state));
			json_key(&j, "since");
			if (s->since[0])
				json_str(&j, s->since);
			else
				json_null(&j);
			if (s->algo[0]) {
				json_kv_str(&j, "algorithm", s->algo);
				json_kv_int(&j, "bits", s->bits);
			}
			json_kv_int(&j, "records", s->count);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		for (size_t i = 0; i < ss.n; i++) {
			const struct selector *s = &ss.s[i];
			char what[64] = "";
			if (s->algo[0])
				snprintf(what, sizeof(what), " %s-%d", s->algo, s->bits);
			printf("%s\t%s\t%s%s%s%s\n", s->name, s->domain, state_name(s->state),
			       s->since[0] ? " since " : "", s->since, what);
			if (s->count > 1)
				printf("\twarning: %d key records at %s (RFC 6376 §3.6.2.2)\n", s->count,
				       s->owner);
		}
		if (ss.n == 0)
			fprintf(stderr, "mxdns dkim list: no DKIM selectors%s%s in %s\n",
				a.domain[0] ? " for " : "", a.domain, t.file);
	}
	rc = 0;
done:
	selectors_cleanup(&ss);
	zonefile_free(zf);
	publish_target_cleanup(&t);
	return rc;
}
