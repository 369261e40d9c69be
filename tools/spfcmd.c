/* spfcmd: `mxdns spf build|lint|eval`, the command line over the SPF
 * engine (spf.h) and its ldns resolver (spfdns.h). */
#include "cmd.h"
#include "errcode.h"
#include "hostarg.h"
#include "json.h"
#include "pubopt.h"
#include "spf.h"
#include "spfdns.h"
#include "txtrec.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 64

static int usage(FILE *f, const char *verb, int code)
{
	if (!verb || strcmp(verb, "build") == 0)
		fprintf(
		    f,
		    "usage: mxdns spf build [--a] [--mx] [--ptr] [--ip4 NET]... [--ip6 NET]...\n"
		    "                       [--include DOMAIN]... [--exists SPEC]... [--redirect "
		    "DOMAIN]\n"
		    "                       [--all fail|softfail|neutral|pass|none] [--domain D]\n"
		    "                       [--check] [--server ADDR@PORT]\n"
		    "                       [--zone FILE|NAME [PUBLISH OPTIONS]] [--json]\n"
		    "  Assembles a record (terms in the order a a mx ptr ip4 ip6 include exists,\n"
		    "  then redirect or all; --all defaults to softfail unless --redirect is "
		    "given).\n"
		    "  With --domain prints a zone line, the value split into strings of at most\n"
		    "  255 bytes. Refuses a record with more than 10 DNS-querying terms; with\n"
		    "  --check (or --server) also counts through the includes over DNS.\n"
		    "  With --zone (and --domain, the owner) the record replaces D's v=spf1\n"
		    "  record in the zone instead of being printed, and the running mxdnsd\n"
		    "  reloads the zone; --force publishes a refused record anyway.\n");
	if (!verb || strcmp(verb, "lint") == 0)
		fprintf(
		    f,
		    "usage: mxdns spf lint RECORD [--domain D] [--no-dns] [--server ADDR@PORT] "
		    "[--json]\n"
		    "       mxdns spf lint --domain D [--server ADDR@PORT] [--json]\n"
		    "  Checks a record (or the one D publishes): RFC 7208 syntax, the 10-lookup\n"
		    "  and 2-void-lookup limits counted through includes and redirect (over DNS\n"
		    "  unless --no-dns), +all/?all, ptr, duplicate records, length, unknown\n"
		    "  modifiers, spf2.0 and SPF RR type records. RECORD may be quoted strings.\n");
	if (!verb || strcmp(verb, "eval") == 0)
		fprintf(
		    f,
		    "usage: mxdns spf eval --ip IP --sender ADDR [--helo NAME] [--domain D]\n"
		    "                      [--receiver NAME] [--default-exp TEXT]\n"
		    "                      [--server ADDR@PORT] [--json]\n"
		    "  Runs check_host() (RFC 7208 §4) for the client IP and the MAIL FROM\n"
		    "  address (empty: postmaster@HELO) against D (default: the sender's domain)\n"
		    "  and prints the result, the term that decided it and, for fail, the\n"
		    "  explanation.\n");
	if (!verb || strcmp(verb, "build") == 0) {
		fprintf(f, "publish options (build):\n");
		pubopt_usage(f, true);
	}
	fprintf(f, "exit: 0 ok (eval: pass), 1 a check failed (lint errors, build refused, eval\n"
	           "      result other than pass), 2 usage or runtime error\n");
	return code;
}

enum {
	OPT_A = 256,
	OPT_MX,
	OPT_PTR,
	OPT_IP4,
	OPT_IP6,
	OPT_INCLUDE,
	OPT_EXISTS,
	OPT_REDIRECT,
	OPT_ALL,
	OPT_DOMAIN,
	OPT_CHECK,
	OPT_SERVER,
	OPT_JSON,
	OPT_NODNS,
	OPT_IP,
	OPT_SENDER,
	OPT_HELO,
	OPT_RECEIVER,
	OPT_DEFEXP,
	OPT_HELP,
};

static const struct option options[] = {
    {"a", no_argument, NULL, OPT_A},
    {"mx", no_argument, NULL, OPT_MX},
    {"ptr", no_argument, NULL, OPT_PTR},
    {"ip4", required_argument, NULL, OPT_IP4},
    {"ip6", required_argument, NULL, OPT_IP6},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"exists", required_argument, NULL, OPT_EXISTS},
    {"redirect", required_argument, NULL, OPT_REDIRECT},
    {"all", required_argument, NULL, OPT_ALL},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"check", no_argument, NULL, OPT_CHECK},
    {"server", required_argument, NULL, OPT_SERVER},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-dns", no_argument, NULL, OPT_NODNS},
    {"ip", required_argument, NULL, OPT_IP},
    {"sender", required_argument, NULL, OPT_SENDER},
    {"helo", required_argument, NULL, OPT_HELO},
    {"receiver", required_argument, NULL, OPT_RECEIVER},
    {"default-exp", required_argument, NULL, OPT_DEFEXP},
    {"help", no_argument, NULL, OPT_HELP},
    PUBOPT_OPTION_ZONE,
    PUBOPT_OPTIONS,
    {NULL, 0, NULL, 0},
};

struct args {
	const char *verb;
	struct spf_build b;
	const char *ip4[MAX_LIST], *ip6[MAX_LIST], *include[MAX_LIST], *exists[MAX_LIST];
	bool all_given;
	const char *domain, *server, *ip, *sender, *helo, *receiver, *default_exp, *record;
	bool check, json, nodns, sender_given;
	struct publish_opts po;
};

static int add_list(const char **list, size_t *n, const char *v, const char *opt)
{
	if (*n >= MAX_LIST) {
		fprintf(stderr, "mxdns spf: more than %d --%s options\n", MAX_LIST, opt);
		return 2;
	}
	list[(*n)++] = v;
	return 0;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
	int c, rc = 0;
	memset(a, 0, sizeof(*a));
	a->verb = argv[0];
	a->b.ip4 = a->ip4;
	a->b.ip6 = a->ip6;
	a->b.include = a->include;
	a->b.exists = a->exists;
	optind = 0;
	opterr = 0;
	a->po.prog = "mxdns spf build";
	while (rc == 0 && (c = getopt_long(argc, argv, PUBOPT_SHORT "h", options, NULL)) != -1) {
		if (pubopt_take(&a->po, c, optarg)) {
			if (strcmp(a->verb, "build") != 0) {
				fprintf(stderr, "mxdns spf %s: the publishing options (--zone, ...) "
				        "are for spf build\n", a->verb);
				return 2;
			}
			continue;
		}
		switch (c) {
		case OPT_A:
			a->b.a = 1;
			break;
		case OPT_MX:
			a->b.mx = 1;
			break;
		case OPT_PTR:
			a->b.ptr = 1;
			break;
		case OPT_IP4:
			rc = add_list(a->ip4, &a->b.n_ip4, optarg, "ip4");
			break;
		case OPT_IP6:
			rc = add_list(a->ip6, &a->b.n_ip6, optarg, "ip6");
			break;
		case OPT_INCLUDE:
			rc = add_list(a->include, &a->b.n_include, optarg, "include");
			break;
		case OPT_EXISTS:
			rc = add_list(a->exists, &a->b.n_exists, optarg, "exists");
			break;
		case OPT_REDIRECT:
			a->b.redirect = optarg;
			break;
		case OPT_ALL:
			a->all_given = true;
			if (strcmp(optarg, "fail") == 0 || strcmp(optarg, "-") == 0)
				a->b.all = '-';
			else if (strcmp(optarg, "softfail") == 0 || strcmp(optarg, "~") == 0)
				a->b.all = '~';
			else if (strcmp(optarg, "neutral") == 0 || strcmp(optarg, "?") == 0)
				a->b.all = '?';
			else if (strcmp(optarg, "pass") == 0 || strcmp(optarg, "+") == 0)
				a->b.all = '+';
			else if (strcmp(optarg, "none") == 0)
				a->b.all = 0;
			else {
				fprintf(stderr,
				        "mxdns spf build: --all '%s' (want fail, softfail, "
				        "neutral, pass or none)\n",
				        optarg);
				rc = 2;
			}
			break;
		case OPT_DOMAIN:
			a->domain = optarg;
			break;
		case OPT_CHECK:
			a->check = true;
			break;
		case OPT_SERVER:
			a->server = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_NODNS:
			a->nodns = true;
			break;
		case OPT_IP:
			a->ip = optarg;
			break;
		case OPT_SENDER:
			a->sender = optarg;
			a->sender_given = true;
			break;
		case OPT_HELO:
			a->helo = optarg;
			break;
		case OPT_RECEIVER:
			a->receiver = optarg;
			break;
		case OPT_DEFEXP:
			a->default_exp = optarg;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout, a->verb, 0);
			return 0;
		default:
			fprintf(stderr,
			        "mxdns spf %s: unknown or incomplete option '%s' (see --help)\n",
			        a->verb, argv[optind - 1]);
			return 2;
		}
	}
	if (rc)
		return rc;
	if (optind < argc && strcmp(a->verb, "lint") == 0 && optind + 1 == argc) {
		a->record = argv[optind];
	} else if (optind < argc) {
		fprintf(stderr, "mxdns spf %s: unexpected argument '%s' (see --help)\n", a->verb,
		        argv[optind]);
		return 2;
	}
	return -1;
}

static int open_dns(struct args *a, struct spfdns *d, struct spf_resolver *res)
{
	if (spfdns_init(d, a->server) != 0) {
		fprintf(stderr, "mxdns spf %s: %s\n", a->verb, d->q.err);
		return 2;
	}
	spfdns_resolver(d, res);
	return 0;
}

static const char *level_name(enum spf_lint_level l)
{
	return l == SPF_LINT_ERROR ? "error" : l == SPF_LINT_WARNING ? "warning" : "note";
}

static void lint_print(const struct spf_lint *l, struct json *j)
{
	if (j) {
		json_kv_int(j, "lookups", l->lookups);
		json_kv_int(j, "void_lookups", l->voids);
		json_kv_int(j, "errors", l->errors);
		json_kv_int(j, "warnings", l->warnings);
		json_key(j, "findings");
		json_arr_begin(j);
		for (size_t i = 0; i < l->n; i++) {
			json_obj_begin(j);
			json_kv_str(j, "level", level_name(l->items[i].level));
			json_kv_str(j, "message", l->items[i].msg);
			json_obj_end(j);
		}
		json_arr_end(j);
		return;
	}
	for (size_t i = 0; i < l->n; i++)
		printf("%s: %s\n", level_name(l->items[i].level), l->items[i].msg);
	printf("%d DNS-querying terms (limit %d), %d void lookups (limit %d): %d errors, %d "
	       "warnings\n",
	       l->lookups, SPF_MAX_LOOKUPS, l->voids, SPF_MAX_VOIDS, l->errors, l->warnings);
}

static int do_build(struct args *a)
{
	char rec[4096], err[320], zl[8192], owner[HOSTARG_MAX + 1];
	struct spfdns d;
	struct spf_resolver res;
	struct spf_lint *lint = NULL;
	struct publish_outcome po;
	bool force = a->po.force;
	int code = 1;
	memset(&po, 0, sizeof(po));
	if (a->po.zone) {
		if (!a->domain) {
			fprintf(stderr, "mxdns spf build: --zone needs --domain D, the record's owner\n");
			return 2;
		}
		if (hostarg_parse(a->domain, "--domain", owner, err, sizeof(err)) < 0) {
			fprintf(stderr, "mxdns spf build: %s\n", err);
			return 2;
		}
		strcat(owner, ".");
	}
	if (!a->all_given && !a->b.redirect)
		a->b.all = '~';
	int rc = spf_build_record(&a->b, rec, sizeof(rec), err, sizeof(err));
	if (rc == MX_ELIMIT && force) {
		fprintf(stderr, "mxdns spf build: warning (--force): %s\n", err);
	} else if (rc == MX_ELIMIT) {
		fprintf(stderr, "mxdns spf build: refused: %s (--force builds it anyway)\n", err);
		return 1;
	} else if (rc != 0) {
		fprintf(stderr, "mxdns spf build: %s\n", err);
		return 2;
	}
	if (a->check || a->server) {
		if (open_dns(a, &d, &res) != 0)
			return 2;
		lint = malloc(sizeof(*lint));
		if (!lint) {
			spfdns_cleanup(&d);
			return 2;
		}
		spf_lint_record(&res, a->domain, rec, strlen(rec), lint);
		spfdns_cleanup(&d);
		if (lint->errors) {
			for (size_t i = 0; i < lint->n; i++)
				if (lint->items[i].level == SPF_LINT_ERROR)
					fprintf(stderr, "mxdns spf build: %s: %s\n",
					        force ? "warning (--force)" : "refused",
					        lint->items[i].msg);
			if (!force)
				goto out;
		}
	}
	if (txtrec_format(rec, strlen(rec), " ", zl, sizeof(zl)) < 0) {
		fprintf(stderr, "mxdns spf build: record too long\n");
		code = 2;
		goto out;
	}
	/* RFC 7208 §4.5: one SPF record per name, so D's v=spf1 record is
	 * replaced and its other TXT records stay */
	code = 0;
	if (a->po.zone)
		code = pubopt_publish_txt(&a->po, owner, rec, "v=spf1", a->json, &po);
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "record", rec);
		json_kv_int(&j, "length", (int64_t)strlen(rec));
		if (a->domain)
			json_kv_str(&j, "domain", a->domain);
		json_kv_str(&j, "rdata", zl);
		if (lint)
			lint_print(lint, &j);
		if (a->po.zone)
			pubopt_json_published(&j, &a->po, owner, code, &po);
		json_obj_end(&j);
		json_finish(&j);
	} else if (a->po.zone) {
		/* published: publish.c said so on stderr */
	} else if (a->domain) {
		size_t n = strlen(a->domain);
		printf("%s%s IN TXT %s\n", a->domain, n && a->domain[n - 1] == '.' ? "" : ".", zl);
	} else {
		printf("%s\n", rec);
	}
	if (!a->json && lint)
		for (size_t i = 0; i < lint->n; i++)
			if (lint->items[i].level != SPF_LINT_ERROR)
				fprintf(stderr, "%s: %s\n", level_name(lint->items[i].level),
				        lint->items[i].msg);
out:
	pubopt_outcome_cleanup(&po);
	free(lint);
	return code;
}

static int do_lint(struct args *a)
{
	struct spfdns d;
	struct spf_resolver res;
	struct spf_lint *lint = NULL;
	char rec[4096];
	size_t reclen = 0;
	bool dns = false;
	int code = 2;
	if (!a->record && !a->domain) {
		fprintf(stderr, "mxdns spf lint: give a RECORD or --domain D (see --help)\n");
		return 2;
	}
	if (a->record) {
		/* pasted zone-file strings, or the record as is */
		if (txtrec_join(a->record, rec, sizeof(rec), &reclen) != 0) {
			fprintf(stderr, "mxdns spf lint: RECORD: malformed quoted strings\n");
			return 2;
		}
	}
	if (!a->nodns || !a->record) {
		if (open_dns(a, &d, &res) != 0)
			return 2;
		dns = true;
	}
	lint = malloc(sizeof(*lint));
	if (!lint)
		goto out;
	if (a->record)
		spf_lint_record(dns ? &res : NULL, a->domain, rec, reclen, lint);
	else
		spf_lint_domain(&res, a->domain, lint);
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		if (a->domain)
			json_kv_str(&j, "domain", a->domain);
		json_kv_str(&j, "record", lint->record);
		json_kv_bool(&j, "valid", lint->errors == 0);
		lint_print(lint, &j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		if (!a->record && lint->record[0])
			printf("record: %s\n", lint->record);
		lint_print(lint, NULL);
	}
	code = lint->errors ? 1 : 0;
out:
	free(lint);
	if (dns)
		spfdns_cleanup(&d);
	return code;
}

static int do_eval(struct args *a)
{
	struct spfdns d;
	struct spf_resolver res;
	struct spf_outcome *o = NULL;
	int code = 2;
	if (!a->ip || (!a->sender_given && !a->helo)) {
		fprintf(stderr, "mxdns spf eval: --ip and --sender (or --helo) are required\n");
		return 2;
	}
	if (open_dns(a, &d, &res) != 0)
		return 2;
	o = malloc(sizeof(*o));
	if (!o)
		goto out;
	struct spf_request req = {
	    .ip = a->ip,
	    .sender = a->sender,
	    .helo = a->helo,
	    .domain = a->domain,
	    .receiver = a->receiver,
	    .default_exp = a->default_exp,
	};
	if (spf_check_host(&res, &req, o) != 0) {
		fprintf(stderr, "mxdns spf eval: --ip '%s' is not an IPv4 or IPv6 address\n",
		        a->ip);
		goto out;
	}
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "result", spf_result_name(o->result));
		json_kv_str(&j, "mechanism", o->mechanism);
		json_kv_str(&j, "mechanism_domain", o->mech_domain);
		json_kv_str(&j, "explanation", o->explanation);
		json_kv_str(&j, "reason", o->reason);
		json_kv_int(&j, "lookups", o->lookups);
		json_kv_int(&j, "void_lookups", o->voids);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		printf("result: %s\n", spf_result_name(o->result));
		if (o->mechanism[0])
			printf("mechanism: %s (in %s)\n", o->mechanism, o->mech_domain);
		else if (o->result == SPF_NEUTRAL)
			printf("mechanism: none matched (default result, %s)\n", o->mech_domain);
		if (o->result == SPF_FAIL && o->explanation[0])
			printf("explanation: %s\n", o->explanation);
		if (o->reason[0] && o->result != SPF_PASS && o->result != SPF_FAIL &&
		    o->result != SPF_SOFTFAIL && o->result != SPF_NEUTRAL)
			printf("reason: %s\n", o->reason);
		printf("lookups: %d, void lookups: %d\n", o->lookups, o->voids);
	}
	code = o->result == SPF_PASS ? 0 : 1;
out:
	free(o);
	spfdns_cleanup(&d);
	return code;
}

int cmd_spf(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(argc < 2 ? stderr : stdout, NULL, argc < 2 ? 2 : 0);
	const char *verb = argv[1];
	if (strcmp(verb, "build") != 0 && strcmp(verb, "lint") != 0 && strcmp(verb, "eval") != 0) {
		fprintf(stderr, "mxdns spf: unknown command '%s' (build, lint or eval)\n", verb);
		return 2;
	}
	struct args *a = calloc(1, sizeof(*a));
	if (!a) {
		fprintf(stderr, "mxdns spf: out of memory\n");
		return 2;
	}
	int rc = parse_args(argc - 1, argv + 1, a);
	if (rc < 0) {
		if (strcmp(verb, "build") == 0)
			rc = do_build(a);
		else if (strcmp(verb, "lint") == 0)
			rc = do_lint(a);
		else
			rc = do_eval(a);
	}
	free(a);
	return rc;
}
