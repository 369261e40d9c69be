/* bl: `mxdns bl`, the one writer of DNSBL listing databases.
 *
 * add/del/import build a batch (zones/blimport) and apply it in one write
 * transaction with the safety checks; query/show/export/stats read with
 * the same lookup functions the daemon uses, so `query` says exactly what
 * mxdnsd would answer and which entry decided it. */
#include "cmd.h"

#include "blimport.h"
#include "blkey.h"
#include "blstore.h"
#include "config.h"
#include "errcode.h"
#include "json.h"
#include "name.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct opts {
	const char *db, *conf, *format, *reason, *source;
	const char *lists[BLIMPORT_MAX_LISTS];
	int n_lists;
	uint8_t codes[BLVAL_MAX_CODES][4];
	int n_codes;
	uint64_t expires, now;
	int json, replace, skip_bad, force, quiet;
	double max_addrs[2];
	struct config cfg;
	int have_cfg;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mxdns bl COMMAND [ARGS] (--db PATH | -c CONFIG) [--list NAME] [--json]\n"
		"  add ENTRY... [--code 127.0.0.x] [--reason TEXT] [--expires DURATION|TIME]\n"
		"               [--source TEXT] [--force] [--max-addresses N|/LEN]\n"
		"               ENTRY: ADDR, CIDR, A-B range, domain, *.domain, .domain; !ENTRY excludes\n"
		"  del ENTRY...                 remove entries (as they were added)\n"
		"  query ADDR|DOMAIN            what the server answers and which entry matched\n"
		"  show                         entries with codes, reasons, times\n"
		"  export [--format plain|rbldnsd]  re-importable text on stdout\n"
		"  prune                        delete expired entries, make the /24 filters exact\n"
		"  stats                        entries per list, database size\n"
		"  import FILE --format FMT [--replace] [--skip-bad] [--code C] [--expires D]\n"
		"               FMT: plain, rbldnsd-ip4set|ip4tset|ip4trie|ip6tset|ip6trie|dnset|combined|generic\n"
		"DURATION: N[smhdw]; TIME: YYYY-MM-DD[THH:MM[:SS]] (UTC) or @UNIXTIME.\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mxdns bl: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

static int parse_expires(const char *s, uint64_t now, uint64_t *out)
{
	char *end;
	if (s[0] == '@') {
		unsigned long long v = strtoull(s + 1, &end, 10);
		if (!isdigit((unsigned char)s[1]) || *end)
			return -1;
		*out = v;
		return 0;
	}
	if (strlen(s) >= 10 && s[4] == '-' && s[7] == '-') {
		struct tm tm = {0};
		int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
		size_t len = strlen(s);
		if (len > 0 && s[len - 1] == 'Z')
			len--;
		if (!((sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && (size_t)used == len) ||
		      (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) == 5 &&
		       (size_t)used == len) ||
		      (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6 &&
		       (size_t)used == len)))
			return -1;
		if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
			return -1;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		*out = (uint64_t)timegm(&tm);
		return 0;
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)s[0]))
		return -1;
	switch (*end) {
	case 'w': v *= 7; /* fall through */
	case 'd': v *= 24; /* fall through */
	case 'h': v *= 60; /* fall through */
	case 'm': v *= 60; /* fall through */
	case 's': end++; break;
	case 0: break;
	default: return -1;
	}
	if (*end)
		return -1;
	*out = now + v;
	return 0;
}

static int parse_budget(const char *s, int v6, double *out)
{
	char *end;
	if (s[0] == '/') {
		long l = strtol(s + 1, &end, 10);
		if (*end || l < 0 || l > (v6 ? 128 : 32))
			return -1;
		*out = blkey_prefix_size(v6 ? BLKEY_IP6 : BLKEY_IP4, (int)l);
		return 0;
	}
	*out = strtod(s, &end);
	return *end || *out < 0 ? -1 : 0;
}

/* The database and default list from --db/-c. */
static int resolve(struct opts *o, int need_list)
{
	if (o->conf && !o->db) {
		char err[512];
		config_init(&o->cfg);
		o->have_cfg = 1;
		if (config_parse_file(&o->cfg, o->conf, err, sizeof(err)) != 0)
			return fail("%s", err);
		for (size_t i = 0; i < o->cfg.n_dnsbls && !o->db; i++) {
			struct config_dnsbl *d = &o->cfg.dnsbls[i];
			if (o->n_lists == 0) {
				if (o->cfg.n_dnsbls == 1 || !need_list) {
					o->db = d->db;
					if (need_list && d->n_lists == 1)
						o->lists[o->n_lists++] = d->lists[0];
				}
				continue;
			}
			for (size_t j = 0; j < d->n_lists; j++)
				if (strcmp(d->lists[j], o->lists[0]) == 0)
					o->db = d->db;
		}
		if (!o->db)
			return fail("%s: no dnsbl section serves %s", o->conf,
				    o->n_lists ? o->lists[0] : "a single list; give --list");
	}
	if (!o->db)
		return fail("which database? give --db PATH or -c CONFIG");
	if (need_list && o->n_lists == 0)
		return fail("every change names its list: give --list NAME");
	return 0;
}

static int open_db(struct opts *o, int write, struct blstore **s)
{
	char err[512];
	int rc = blstore_open(o->db, write ? BLSTORE_CREATE : 0, s, err, sizeof(err));
	if (rc != 0)
		return fail("%s", err);
	return 0;
}

static void print_result(const struct opts *o, const char *what, const struct blimport *im,
			 const struct blapply_result *r)
{
	if (o->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "command", what);
		json_kv_str(&j, "db", o->db);
		json_key(&j, "lists");
		json_arr_begin(&j);
		for (size_t i = 0; i < im->n_lists; i++)
			json_str(&j, im->lists[i]);
		json_arr_end(&j);
		json_kv_int(&j, "written", (int64_t)r->put);
		json_kv_int(&j, "deleted", (int64_t)r->deleted);
		json_kv_int(&j, "missing", (int64_t)r->missing);
		json_kv_int(&j, "lines", (int64_t)im->n_lines);
		json_kv_int(&j, "skipped", (int64_t)im->n_bad);
		json_kv_int(&j, "milliseconds", (int64_t)(r->seconds * 1000));
		json_obj_end(&j);
		json_finish(&j);
		return;
	}
	if (o->quiet)
		return;
	printf("%s: %zu written, %zu deleted", what, r->put, r->deleted);
	if (r->missing)
		printf(", %zu not found", r->missing);
	if (im->n_bad)
		printf(", %zu bad lines skipped", im->n_bad);
	printf(" in %.2f s\n", r->seconds);
}

static int apply(struct opts *o, const char *what, struct blimport *im, enum blapply_mode mode)
{
	struct blstore *s = NULL;
	struct blapply_opts ao = {mode, o->replace, o->force, {o->max_addrs[0], o->max_addrs[1]}, 1};
	struct blapply_result r;
	char err[1024];
	int rc;

	if ((rc = open_db(o, 1, &s)) != 0)
		return rc;
	blimport_sort(im);
	rc = blimport_apply(s, im, &ao, &r, err, sizeof(err));
	blstore_close(s);
	if (rc != 0) {
		fprintf(stderr, "mxdns bl: %s\n", err);
		return rc == MX_EREFUSED ? 1 : 2;
	}
	if (mode == BLAPPLY_DEL && r.missing && r.deleted == 0) {
		print_result(o, what, im, &r);
		return 1;
	}
	print_result(o, what, im, &r);
	return 0;
}

static void fill_value(const struct opts *o, struct blval *v, const char *source)
{
	memset(v, 0, sizeof(*v));
	static const uint8_t two[4] = {127, 0, 0, 2};
	if (o->n_codes) {
		v->n_codes = (uint8_t)o->n_codes;
		memcpy(v->codes, o->codes, (size_t)o->n_codes * 4);
	} else {
		v->n_codes = 1;
		memcpy(v->codes[0], two, 4);
	}
	v->listed_at = o->now;
	if (o->expires) {
		v->flags |= BLVAL_EXPIRES;
		v->expires = o->expires;
	}
	if (o->reason) {
		v->reason = o->reason;
		v->reason_len = (uint16_t)strlen(o->reason);
	}
	const char *src = o->source ? o->source : source;
	v->flags |= BLVAL_SOURCE;
	v->source = src;
	v->source_len = (uint8_t)(strlen(src) > 255 ? 255 : strlen(src));
}

static int cmd_add_del(struct opts *o, int argc, char **argv, enum blapply_mode mode)
{
	struct blimport im;
	struct blval v;
	char err[512];
	int rc = 0;

	if (argc < 1)
		return fail("%s: which entries?", mode == BLAPPLY_DEL ? "del" : "add");
	if (o->reason && strlen(o->reason) > 4000)
		return fail("--reason is longer than 4000 bytes");
	if ((rc = resolve(o, 1)) != 0)
		return rc;
	fill_value(o, &v, mode == BLAPPLY_DEL ? "del" : "mxdns bl add");
	blimport_init(&im);
	for (int i = 0; i < argc && rc == 0; i++) {
		const char *e = argv[i];
		int ex = e[0] == '!';
		for (int l = 0; l < o->n_lists && rc == 0; l++)
			rc = blimport_entry_add(&im, o->lists[l], e + ex, ex, &v, err, sizeof(err));
	}
	if (rc != 0) {
		blimport_cleanup(&im);
		return fail("%s", err);
	}
	rc = apply(o, mode == BLAPPLY_DEL ? "del" : "add", &im, mode);
	blimport_cleanup(&im);
	return rc;
}

static int cmd_import(struct opts *o, int argc, char **argv)
{
	struct blimport im;
	struct blimport_opts io = {0};
	char err[1024];
	int rc;

	if (argc != 1)
		return fail("import: give one FILE (or - for stdin)");
	if (!o->format)
		return fail("import: give --format (plain or rbldnsd-TYPE)");
	if (!blimport_format_known(o->format))
		return fail("import: unknown format '%s'", o->format);
	if ((rc = resolve(o, 1)) != 0)
		return rc;
	io.format = o->format;
	io.list = o->lists[0];
	memcpy(io.codes, o->codes, sizeof(io.codes));
	io.n_codes = o->n_codes;
	io.expires = o->expires;
	io.now = o->now;
	io.skip_bad = o->skip_bad;
	io.report = stderr;
	blimport_init(&im);
	rc = blimport_file(&im, argv[0], &io, err, sizeof(err));
	if (rc != 0) {
		blimport_cleanup(&im);
		fprintf(stderr, "mxdns bl: %s\nmxdns bl: nothing was changed\n", err);
		return 2;
	}
	rc = apply(o, "import", &im, BLAPPLY_PUT);
	blimport_cleanup(&im);
	return rc;
}

/* ---- reading ---- */

struct list_names {
	char names[BLIMPORT_MAX_LISTS][256];
	struct blstore_list rec[BLIMPORT_MAX_LISTS];
	int n;
};

static int collect(void *arg, const char *name, const struct blstore_list *l)
{
	struct list_names *ln = arg;
	if (ln->n < BLIMPORT_MAX_LISTS) {
		snprintf(ln->names[ln->n], sizeof(ln->names[0]), "%s", name);
		ln->rec[ln->n++] = *l;
	}
	return 0;
}

/* The lists to read: --list ones (which must exist), or all. */
static int read_lists(struct opts *o, MDB_txn *txn, struct blstore *s, struct list_names *ln)
{
	memset(ln, 0, sizeof(*ln));
	if (o->n_lists == 0) {
		int rc = blstore_list_each(txn, s, collect, ln);
		return rc == 0 ? 0 : fail("%s: %s", o->db, mx_strerror(rc));
	}
	for (int i = 0; i < o->n_lists; i++) {
		struct blstore_list l;
		if (blstore_list_get(txn, s, o->lists[i], &l) != 0)
			return fail("no list '%s' in %s", o->lists[i], o->db);
		collect(ln, o->lists[i], &l);
	}
	return 0;
}

static void fmt_time(uint64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void codes_text(const struct blval *v, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < v->n_codes && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%u.%u.%u.%u", i ? "," : "",
				      v->codes[i][0], v->codes[i][1], v->codes[i][2],
				      v->codes[i][3]);
}

static void json_entry(struct json *j, const char *list, const char *entry, const struct blval *v)
{
	char buf[64];
	json_obj_begin(j);
	json_kv_str(j, "list", list);
	json_kv_str(j, "entry", entry);
	json_kv_bool(j, "exclusion", v->flags & BLVAL_EXCLUDE);
	json_key(j, "codes");
	json_arr_begin(j);
	for (int i = 0; i < v->n_codes; i++) {
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u", v->codes[i][0], v->codes[i][1],
			 v->codes[i][2], v->codes[i][3]);
		json_str(j, buf);
	}
	json_arr_end(j);
	json_key(j, "reason");
	json_strn(j, v->reason, v->reason_len);
	json_kv_int(j, "listed_at", (int64_t)v->listed_at);
	if (v->flags & BLVAL_EXPIRES)
		json_kv_int(j, "expires", (int64_t)v->expires);
	else
		json_kv_str(j, "expires", NULL);
	json_key(j, "source");
	if (v->flags & BLVAL_SOURCE)
		json_strn(j, v->source, v->source_len);
	else
		json_null(j);
	json_obj_end(j);
}

static int cmd_query(struct opts *o, int argc, char **argv)
{
	struct blstore *s = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	struct list_names ln;
	uint8_t a[16], wire[256];
	int type = 0, rc, listed = 0;
	struct json j;

	if (argc != 1)
		return fail("query: give one ADDR or DOMAIN");
	if ((rc = resolve(o, 0)) != 0 || (rc = open_db(o, 0, &s)) != 0)
		return rc;
	if (inet_pton(AF_INET, argv[0], a) == 1)
		type = BLKEY_IP4;
	else if (inet_pton(AF_INET6, argv[0], a) == 1)
		type = BLKEY_IP6;
	else if (name_from_text(argv[0], wire) > 1)
		type = BLKEY_DOM, name_lower(wire, wire, sizeof(wire));
	else {
		blstore_close(s);
		return fail("query: '%s' is not an address or a domain", argv[0]);
	}
	mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	mdb_cursor_open(txn, s->entries, &c);
	if ((rc = read_lists(o, txn, s, &ln)) != 0)
		goto out;
	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "query", argv[0]);
		json_key(&j, "matches");
		json_arr_begin(&j);
	}
	for (int i = 0; i < ln.n; i++) {
		struct blstore_hit h;
		char ent[600], ts[40], cs[200];
		int kt;
		struct blstore_plens pl;
		if (type == BLKEY_DOM)
			rc = blstore_match_domain(c, ln.rec[i].id, wire, o->now, &h);
		else if ((rc = blstore_plens_get(txn, s, ln.rec[i].id, &pl)) == 0)
			/* the lengths the server probes, so we answer as it does */
			rc = blstore_match_ip(c, ln.rec[i].id, type, a, type == BLKEY_IP4 ? 32 : 128,
					      &pl, o->now, &h);
		if (rc == 0 && h.what != BLM_NONE)
			rc = blstore_val_strings(txn, s, &h.val);
		if (rc != 0) {
			rc = fail("%s: %s", o->db, mx_strerror(rc));
			goto out;
		}
		if (h.what == BLM_NONE) {
			if (!o->json)
				printf("%s: not listed\n", ln.names[i]);
			continue;
		}
		blkey_to_text(h.key, h.key_len, ent, sizeof(ent), &kt);
		listed |= h.what == BLM_LISTED;
		if (o->json) {
			json_entry(&j, ln.names[i], ent, &h.val);
			continue;
		}
		if (h.what == BLM_EXCLUDED) {
			printf("%s: not listed: excluded by !%s\n", ln.names[i], ent);
			continue;
		}
		codes_text(&h.val, cs, sizeof(cs));
		fmt_time(h.val.listed_at, ts, sizeof(ts));
		printf("%s: listed by %s: %s \"%.*s\" since %s", ln.names[i], ent, cs,
		       h.val.reason_len, h.val.reason, ts);
		if (h.val.flags & BLVAL_EXPIRES) {
			fmt_time(h.val.expires, ts, sizeof(ts));
			printf(" until %s", ts);
		}
		if (h.val.flags & BLVAL_SOURCE)
			printf(" (%.*s)", h.val.source_len, h.val.source);
		printf("\n");
	}
	if (o->json) {
		json_arr_end(&j);
		json_kv_bool(&j, "listed", listed);
		json_obj_end(&j);
		json_finish(&j);
	}
	rc = listed ? 0 : 1;
out:
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	blstore_close(s);
	return rc;
}

/* show/export/stats/prune walk every entry of the chosen lists. */
static int cmd_walk(struct opts *o, const char *what)
{
	struct blstore *s = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	struct list_names ln;
	int rc, prune = strcmp(what, "prune") == 0, export = strcmp(what, "export") == 0;
	int stats = strcmp(what, "stats") == 0;
	int rbl = export && o->format && strstr(o->format, "rbldnsd");
	size_t pruned = 0;
	struct json j;

	if (export && o->format && !rbl && strcmp(o->format, "plain") != 0)
		return fail("export: --format plain or rbldnsd");
	if ((rc = resolve(o, 0)) != 0 || (rc = open_db(o, prune, &s)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(s->env, NULL, prune ? 0 : MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->entries, &c)) != 0) {
		rc = fail("%s: %s", o->db, mdb_strerror(rc));
		goto out;
	}
	if ((rc = read_lists(o, txn, s, &ln)) != 0)
		goto out;
	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "db", o->db);
		json_key(&j, stats ? "lists" : "entries");
		json_arr_begin(&j);
	}
	for (int i = 0; i < ln.n; i++) {
		size_t count[3] = {0, 0, 0}, excl = 0, expired = 0;
		uint8_t touched[32] = {0}; /* the /8s a prune changes */
		uint8_t pre[4] = {(uint8_t)(ln.rec[i].id >> 24), (uint8_t)(ln.rec[i].id >> 16),
				  (uint8_t)(ln.rec[i].id >> 8), (uint8_t)ln.rec[i].id};
		MDB_val k = {4, pre}, v;
		int section = -1;
		if (export && rbl)
			printf("# list %s, exported by mxdns bl\n", ln.names[i]);
		if (!export && !stats && !prune && !o->json)
			printf("# list %s\n", ln.names[i]);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		     rc == 0 && k.mv_size > 4 && memcmp(k.mv_data, pre, 4) == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			struct blval val;
			char ent[600], cs[200], ts[40];
			int kt;
			if (blval_decode(v.mv_data, v.mv_size, &val) != 0 ||
			    blkey_to_text(k.mv_data, k.mv_size, ent, sizeof(ent), &kt) < 0) {
				fprintf(stderr, "mxdns bl: %s: a malformed entry in list %s\n", o->db,
					ln.names[i]);
				continue;
			}
			int isexp = (val.flags & BLVAL_EXPIRES) && val.expires <= o->now;
			count[kt == BLKEY_IP4 ? 0 : kt == BLKEY_IP6 ? 1 : 2]++;
			excl += (val.flags & BLVAL_EXCLUDE) != 0;
			expired += isexp;
			if (prune) {
				if (isexp)
					blstore_fast_touch(touched, k.mv_data, k.mv_size);
				if (isexp && (rc = mdb_cursor_del(c, 0)) != 0)
					break;
				pruned += isexp;
				continue;
			}
			if (stats)
				continue;
			/* The shared texts only here, where they are shown. */
			if (blstore_val_strings(txn, s, &val) != 0) {
				fprintf(stderr,
					"mxdns bl: %s: entry %s of list %s refers to a reason or source "
					"the database lacks; add the entry again to repair it\n",
					o->db, ent, ln.names[i]);
				continue;
			}
			if (o->json) {
				json_entry(&j, ln.names[i], ent, &val);
				continue;
			}
			const char *ex = (val.flags & BLVAL_EXCLUDE) ? "!" : "";
			if (export && !rbl) {
				printf("%s%s%s%.*s\n", ex, ent, val.reason_len ? " " : "",
				       val.reason_len, val.reason);
				continue;
			}
			if (rbl) {
				/* one $DATASET per key type, re-importable as combined */
				int sec = kt == BLKEY_IP4 ? 0 : kt == BLKEY_IP6 ? 1 : 2;
				if (sec != section) {
					static const char *names[] = {"ip4trie", "ip6trie", "dnset"};
					printf("$DATASET %s @\n", names[sec]);
					section = sec;
				}
				if (*ex) {
					printf("!%s\n", ent);
					continue;
				}
				codes_text(&val, cs, sizeof(cs));
				char *comma = strchr(cs, ',');
				if (comma)
					*comma = 0; /* rbldnsd holds one A per entry */
				printf("%s :%s:%.*s\n", ent, cs, val.reason_len, val.reason);
				continue;
			}
			codes_text(&val, cs, sizeof(cs));
			fmt_time(val.listed_at, ts, sizeof(ts));
			printf("%s%s\t%s\t\"%.*s\"\tlisted %s", ex, ent, *ex ? "-" : cs,
			       val.reason_len, val.reason, ts);
			if (val.flags & BLVAL_EXPIRES) {
				fmt_time(val.expires, ts, sizeof(ts));
				printf(" expires %s%s", ts, isexp ? " (expired)" : "");
			}
			if (val.flags & BLVAL_SOURCE)
				printf("\t%.*s", val.source_len, val.source);
			printf("\n");
		}
		if (rc != 0 && rc != MDB_NOTFOUND) {
			rc = fail("%s: %s", o->db, mdb_strerror(rc));
			goto out;
		}
		/* The filter kept every bit that deletes left behind: make it
		 * exact again, and the answer index of the /8s that lost
		 * entries, in the same transaction as the prune. */
		if (prune && ((rc = blstore_filt_rebuild(txn, s, ln.rec[i].id)) != 0 ||
			      (rc = blstore_fast_rebuild(txn, s, ln.rec[i].id, touched)) != 0)) {
			rc = fail("%s: rebuilding the filter and answer index of %s: %s", o->db,
				  ln.names[i], mx_strerror(rc));
			goto out;
		}
		rc = 0;
		if (stats) {
			if (o->json) {
				json_obj_begin(&j);
				json_kv_str(&j, "list", ln.names[i]);
				json_kv_int(&j, "ipv4", (int64_t)count[0]);
				json_kv_int(&j, "ipv6", (int64_t)count[1]);
				json_kv_int(&j, "domains", (int64_t)count[2]);
				json_kv_int(&j, "exclusions", (int64_t)excl);
				json_kv_int(&j, "expired", (int64_t)expired);
				json_kv_int(&j, "ttl", ln.rec[i].ttl);
				json_obj_end(&j);
			} else {
				printf("%s: %zu entries (%zu IPv4, %zu IPv6, %zu domains), %zu "
				       "exclusions, %zu expired\n",
				       ln.names[i], count[0] + count[1] + count[2], count[0], count[1],
				       count[2], excl, expired);
			}
		}
	}
	if (prune) {
		if ((rc = mdb_txn_commit(txn)) != 0) {
			txn = NULL;
			rc = fail("%s: commit: %s", o->db, mdb_strerror(rc));
			goto out;
		}
		txn = NULL;
		if (!o->json)
			printf("prune: %zu expired entries deleted\n", pruned);
	}
	struct stat st;
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	if (stats && !o->json && stat(o->db, &st) == 0)
		printf("database %s: %lld bytes on disk, map %zu bytes, last transaction %zu\n",
		       o->db, (long long)st.st_size, info.me_mapsize, info.me_last_txnid);
	if (o->json) {
		json_arr_end(&j);
		if (prune)
			json_kv_int(&j, "pruned", (int64_t)pruned);
		if (stats && stat(o->db, &st) == 0)
			json_kv_int(&j, "bytes", (int64_t)st.st_size);
		json_obj_end(&j);
		json_finish(&j);
	}
out:
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	blstore_close(s);
	return rc;
}

int cmd_bl(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'},
		{"list", required_argument, NULL, 'l'},
		{"code", required_argument, NULL, 'C'},
		{"reason", required_argument, NULL, 'r'},
		{"expires", required_argument, NULL, 'e'},
		{"source", required_argument, NULL, 'S'},
		{"format", required_argument, NULL, 'f'},
		{"max-addresses", required_argument, NULL, 'm'},
		{"max-addresses6", required_argument, NULL, 'M'},
		{"replace", no_argument, NULL, 'R'},
		{"skip-bad", no_argument, NULL, 'k'},
		{"force", no_argument, NULL, 'F'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.now = (uint64_t)time(NULL);
	o.max_addrs[0] = blkey_prefix_size(BLKEY_IP4, 8);  /* 2^24 */
	o.max_addrs[1] = blkey_prefix_size(BLKEY_IP6, 32); /* a /32 */
	const char *exp = NULL;
	optind = 1;
	/* "+" would stop at the subcommand; permute so options go anywhere. */
	while ((c = getopt_long(argc, argv, "c:hjq", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.db = optarg; break;
		case 'c': o.conf = optarg; break;
		case 'l':
			if (o.n_lists == BLIMPORT_MAX_LISTS)
				return fail("too many --list");
			if (optarg[0] == 0 || strlen(optarg) > 250)
				return fail("--list: bad name '%s'", optarg);
			o.lists[o.n_lists++] = optarg;
			break;
		case 'C': {
			uint8_t code[4];
			if (inet_pton(AF_INET, optarg, code) != 1 || code[0] != 127)
				return fail("--code: '%s' is not 127.x.y.z (RFC 5782 §2.3)", optarg);
			if (o.n_codes == BLVAL_MAX_CODES)
				return fail("--code: at most %d", BLVAL_MAX_CODES);
			memcpy(o.codes[o.n_codes++], code, 4);
			break;
		}
		case 'r': o.reason = optarg; break;
		case 'e': exp = optarg; break;
		case 'S': o.source = optarg; break;
		case 'f': o.format = optarg; break;
		case 'm':
			if (parse_budget(optarg, 0, &o.max_addrs[0]) != 0)
				return fail("--max-addresses: want a count or /LEN, not '%s'", optarg);
			break;
		case 'M':
			if (parse_budget(optarg, 1, &o.max_addrs[1]) != 0)
				return fail("--max-addresses6: want a count or /LEN, not '%s'", optarg);
			break;
		case 'R': o.replace = 1; break;
		case 'k': o.skip_bad = 1; break;
		case 'F': o.force = 1; break;
		case 'j': o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (exp && parse_expires(exp, o.now, &o.expires) != 0)
		return fail("--expires: want N[smhdw], YYYY-MM-DD[THH:MM[:SS]] or @UNIXTIME, not '%s'",
			    exp);
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[optind];
	int n = argc - optind - 1;
	char **args = argv + optind + 1;
	if (strcmp(sub, "add") == 0)
		rc = cmd_add_del(&o, n, args, BLAPPLY_PUT);
	else if (strcmp(sub, "del") == 0)
		rc = cmd_add_del(&o, n, args, BLAPPLY_DEL);
	else if (strcmp(sub, "import") == 0)
		rc = cmd_import(&o, n, args);
	else if (strcmp(sub, "query") == 0)
		rc = cmd_query(&o, n, args);
	else if (strcmp(sub, "show") == 0 || strcmp(sub, "export") == 0 ||
		 strcmp(sub, "prune") == 0 || strcmp(sub, "stats") == 0)
		rc = n == 0 ? cmd_walk(&o, sub) : fail("%s takes no arguments", sub);
	else
		rc = fail("unknown command '%s' (try --help)", sub);
	if (o.have_cfg)
		config_cleanup(&o.cfg);
	return rc;
}
