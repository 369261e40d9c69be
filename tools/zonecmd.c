/* zonecmd: `mxdns zone add|del|set|show|check|diff`, record edits of a
 * served zone file through zones/zonefile.h and tools/publish.h. */
#include "cmd.h"

#include "errcode.h"
#include "json.h"
#include "publish.h"
#include "pubopt.h"
#include "zone.h"
#include "zonefile.h"

#include <getopt.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns zone add   ZONE 'OWNER [TTL] [IN] TYPE RDATA' [OPTIONS]\n"
		"       mxdns zone del   ZONE OWNER [TYPE [RDATA]] [OPTIONS]\n"
		"       mxdns zone set   ZONE 'OWNER [TTL] [IN] TYPE RDATA' ['...' ...] [OPTIONS]\n"
		"       mxdns zone show  ZONE [OWNER [TYPE]] [--json]\n"
		"       mxdns zone check ZONE [--json]\n"
		"       mxdns zone diff  ZONE add|del|set ARGS...   (= --dry-run)\n"
		"\n"
		"ZONE is a zone file, or the name of a zone in the configuration (-c) or\n"
		"served by the running daemon (--control). OWNER is relative to the zone\n"
		"(@ is the apex) or absolute with a final dot.\n"
		"\n"
		"add    adds one record (nothing happens if it is already there)\n"
		"del    deletes the records of OWNER, of one TYPE, or the one with RDATA\n"
		"set    replaces the RRset of OWNER and TYPE by the records given\n"
		"show   lists the file's records (with their line numbers)\n"
		"check  loads the zone as mxdnsd does and reports\n"
		"diff   shows what add/del/set would change, writes nothing\n"
		"\n"
		"An edit keeps the file as written except the lines changed, bumps the SOA\n"
		"serial (YYYYMMDDnn when it looks like a date, else +1), compiles the result\n"
		"with the daemon's loader, writes it atomically under FILE.lock, then asks\n"
		"the daemon to reload the zone (a daemon that is not running is a warning).\n"
		"Refused: a zone that would not load (CNAME beside other data, no SOA/NS, ...);\n"
		"and, unless --force: an SPF record failing lint or over 10 lookups, a second\n"
		"SPF record, a bad or second DKIM key record at a selector.\n"
		"\n"
		"options:\n");
	pubopt_usage(f, false);
	fprintf(f, "      --json          machine-readable output\n"
		   "exit: 0 done, 1 refused or check failed, 2 usage or runtime error\n");
	return code;
}

enum { OPT_JSON = 256, OPT_HELP };

static const struct option options[] = {
	PUBOPT_OPTIONS,
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

/* Joins argv[from..argc) with spaces (one record written unquoted). */
static char *join(int argc, char **argv, int from)
{
	size_t len = 1;
	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = from; i < argc; i++) {
		if (i > from)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* add, del, set (and diff): args are what follows ZONE. */
static int do_edit(const char *verb, struct publish_opts *o, int nargs, char **args, bool json)
{
	struct publish_target t;
	struct publish_outcome po;
	struct zonefile *zf = NULL;
	char err[2048], *rec = NULL, **recs = NULL;
	size_t n_recs = 0;
	int rc = 2, n = 0;

	memset(&po, 0, sizeof(po));
	po.reload = -1;
	if (nargs < 1) {
		fprintf(stderr, "mxdns zone %s: what? (see mxdns zone --help)\n", verb);
		return 2;
	}
	if ((rc = publish_target_resolve(o, &t, err, sizeof(err))) != 0) {
		fprintf(stderr, "mxdns zone %s: %s\n", verb, err);
		return rc;
	}
	rc = 2;
	if (zonefile_open(&zf, t.file, t.origin, ZONEFILE_LOCK, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdns zone %s: %s\n", verb, err);
		goto done;
	}
	/* Several arguments holding blanks are several records; otherwise
	 * the words are one record written without quotes. */
	if (nargs > 1 && strpbrk(args[0], " \t") && strcmp(verb, "set") == 0) {
		recs = args;
		n_recs = (size_t)nargs;
	} else {
		if (!(rec = join(nargs, args, 0)))
			goto oom;
		recs = &rec;
		n_recs = 1;
	}
	if (strcmp(verb, "add") == 0) {
		n = zonefile_add(zf, rec, err, sizeof(err));
	} else if (strcmp(verb, "del") == 0) {
		/* OWNER [TYPE [RDATA]] */
		char owner[1100], type[64];
		int used = 0;
		struct zonefile_match m = {.owner = owner};
		int k = sscanf(rec, " %1099s %63s %n", owner, type, &used);
		if (k >= 2) {
			m.type = (uint16_t)ldns_get_rr_type_by_name(type);
			if (m.type == 0 || strcasecmp(type, "IN") == 0) {
				fprintf(stderr, "mxdns zone del: '%s' is not a record type\n", type);
				goto done;
			}
			if (rec[used])
				m.rdata = rec + used;
		}
		n = zonefile_delete(zf, &m, err, sizeof(err));
		if (n == 0) {
			fprintf(stderr, "mxdns zone del: %s: no such record in %s\n", rec, t.file);
			rc = 1;
			goto done;
		}
	} else {
		/* set: every record must share the first one's owner and type */
		char owner[1100], type[64], tok[3][64];
		int k = sscanf(recs[0], " %1099s %63s %63s %63s", owner, tok[0], tok[1], tok[2]);
		type[0] = '\0';
		for (int i = 0; i + 1 < k && !type[0]; i++)
			if (ldns_get_rr_type_by_name(tok[i]) != 0 && strcasecmp(tok[i], "IN") != 0 &&
			    !(tok[i][0] >= '0' && tok[i][0] <= '9'))
				snprintf(type, sizeof(type), "%.63s", tok[i]);
		if (!type[0]) {
			fprintf(stderr, "mxdns zone set: '%s': want OWNER [TTL] [IN] TYPE RDATA\n",
				recs[0]);
			goto done;
		}
		struct zonefile_match m = {.owner = owner,
					   .type = (uint16_t)ldns_get_rr_type_by_name(type)};
		n = zonefile_replace(zf, &m, (const char *const *)recs, n_recs, err, sizeof(err));
	}
	if (n < 0) {
		fprintf(stderr, "mxdns zone %s: %s\n", verb, err);
		rc = n == MX_EREFUSED || n == MX_EZONE ? 1 : 2;
		goto done;
	}
	rc = publish_commit(o, &t, zf, &po, json && o->dry_run);
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "zone", t.origin);
		json_kv_str(&j, "file", zonefile_path(zf));
		json_kv_str(&j, "action", verb);
		json_kv_bool(&j, "ok", rc == 0);
		json_kv_bool(&j, "dry_run", o->dry_run);
		pubopt_json_outcome(&j, &po);
		json_obj_end(&j);
		json_finish(&j);
	}
	goto done;
oom:
	fprintf(stderr, "mxdns zone %s: out of memory\n", verb);
done:
	free(po.diff);
	free(rec);
	zonefile_free(zf);
	publish_target_cleanup(&t);
	return rc;
}

struct show_ctx {
	struct json *j;
};

static int show_one(void *arg, const struct zonefile_rr *rr)
{
	struct show_ctx *c = arg;
	if (c->j) {
		json_obj_begin(c->j);
		json_kv_int(c->j, "line", rr->line);
		json_kv_str(c->j, "owner", rr->owner);
		char *t = ldns_rr_type2str(rr->type);
		json_kv_str(c->j, "type", t ? t : "?");
		free(t);
		json_kv_str(c->j, "record", rr->text);
		json_obj_end(c->j);
	} else {
		printf("%d:\t%s\n", rr->line, rr->text);
	}
	return 0;
}

static int do_show(struct publish_opts *o, int nargs, char **args, bool json)
{
	struct publish_target t;
	struct zonefile *zf = NULL;
	struct json j;
	struct show_ctx c = {json ? &j : NULL};
	struct zonefile_match m = {0};
	char err[2048];
	int rc;

	if (nargs > 2) {
		fprintf(stderr, "mxdns zone show: unexpected '%s'\n", args[2]);
		return 2;
	}
	if ((rc = publish_target_resolve(o, &t, err, sizeof(err))) != 0) {
		fprintf(stderr, "mxdns zone show: %s\n", err);
		return rc;
	}
	rc = 2;
	if (nargs >= 1) {
		m.owner = args[0];
		if (nargs == 2 && (m.type = (uint16_t)ldns_get_rr_type_by_name(args[1])) == 0) {
			fprintf(stderr, "mxdns zone show: '%s' is not a record type\n", args[1]);
			goto done;
		}
	}
	if (zonefile_open(&zf, t.file, t.origin, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdns zone show: %s\n", err);
		goto done;
	}
	if (json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "zone", t.origin);
		json_kv_str(&j, "file", zonefile_path(zf));
		json_key(&j, "records");
		json_arr_begin(&j);
	}
	rc = zonefile_foreach(zf, nargs ? &m : NULL, show_one, &c, err, sizeof(err));
	if (json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	}
	if (rc < 0) {
		fprintf(stderr, "mxdns zone show: %s\n", err);
		rc = 2;
		goto done;
	}
	rc = 0;
done:
	zonefile_free(zf);
	publish_target_cleanup(&t);
	return rc;
}

static int do_check(struct publish_opts *o, int nargs, char **args, bool json)
{
	struct publish_target t;
	char err[2048];
	int rc;

	if (nargs > 0) {
		fprintf(stderr, "mxdns zone check: unexpected '%s'\n", args[0]);
		return 2;
	}
	if ((rc = publish_target_resolve(o, &t, err, sizeof(err))) != 0) {
		fprintf(stderr, "mxdns zone check: %s\n", err);
		return rc;
	}
	struct zone *z = zone_load(t.origin, t.file, err, sizeof(err));
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "zone", t.origin);
		json_kv_str(&j, "file", t.file);
		json_kv_bool(&j, "ok", z != NULL);
		if (z) {
			json_kv_int(&j, "serial", z->serial);
			json_kv_int(&j, "records", (int64_t)z->n_records);
		} else {
			json_kv_str(&j, "error", err);
		}
		json_obj_end(&j);
		json_finish(&j);
	} else if (z) {
		/* the line mxdnsd --check prints for a zone */
		printf("loaded %s serial=%u records=%zu\n", z->name, z->serial, z->n_records);
	} else {
		printf("failed %s: %s\n", t.origin, err);
	}
	rc = z ? 0 : 1;
	zone_unref(z);
	publish_target_cleanup(&t);
	return rc;
}

int cmd_zone(int argc, char **argv)
{
	struct publish_opts o = {.prog = "mxdns zone"};
	bool json = false;
	const char *verb;
	int c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
	verb = argv[1];
	optind = 0;
	opterr = 0;
	/* options may come anywhere; "--" ends them (for RDATA like "-all") */
	while ((c = getopt_long(argc - 1, argv + 1, PUBOPT_SHORT "h", options, NULL)) != -1) {
		if (pubopt_take(&o, c, optarg))
			continue;
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
		case OPT_HELP:
			return usage(stdout, 0);
		default:
			fprintf(stderr, "mxdns zone %s: unknown or incomplete option '%s' (see --help)\n",
				verb, argv[optind < argc ? optind : argc - 1]);
			return 2;
		}
	}
	/* argv+1 was permuted: the positional arguments are at optind.. */
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (nargs < 1) {
		fprintf(stderr, "mxdns zone %s: which zone? (a file or a zone name)\n", verb);
		return 2;
	}
	o.zone = args[0];
	args++;
	nargs--;
	if (strcmp(verb, "diff") == 0) {
		if (nargs < 1 || (strcmp(args[0], "add") != 0 && strcmp(args[0], "del") != 0 &&
				  strcmp(args[0], "set") != 0)) {
			fprintf(stderr, "mxdns zone diff: want add, del or set and their arguments\n");
			return 2;
		}
		o.dry_run = true;
		return do_edit(args[0], &o, nargs - 1, args + 1, json);
	}
	if (strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0 || strcmp(verb, "set") == 0)
		return do_edit(verb, &o, nargs, args, json);
	if (strcmp(verb, "show") == 0)
		return do_show(&o, nargs, args, json);
	if (strcmp(verb, "check") == 0)
		return do_check(&o, nargs, args, json);
	fprintf(stderr, "mxdns zone: unknown subcommand '%s' (add, del, set, show, check, diff)\n",
		verb);
	return 2;
}
