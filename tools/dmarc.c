/* dmarc: DMARC record builder and linter, and `mxdns dmarc`. */
#include "dmarc.h"

#include "cmd.h"
#include "errcode.h"
#include "findings.h"
#include "hostarg.h"
#include "json.h"
#include "lintcli.h"
#include "mailuri.h"
#include "pubopt.h"
#include "txtrec.h"
#include "urilist.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

/* Checks a comma-separated URI list (RFC 7489 §6.4 dmarc-uri). */
static void check_uris(const char *tag, const char *list, struct findings *f)
{
	char what[16];
	size_t count;

	snprintf(what, sizeof(what), "tag %s", tag);
	count = urilist_check(what, list, MAILURI_HTTPS | MAILURI_SIZE, true, f);
	if (count > 2)
		findings_add(f, FINDING_NOTE,
			     "tag %s: %zu URIs; receivers may use only the first two (RFC 7489 §6.2)",
			     tag, count);
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int dmarc_lint(const char *value, size_t len, struct findings *f)
{
	static const char *const policies[] = {"none", "quarantine", "reject", NULL};
	static const char *const align[] = {"r", "s", NULL};
	static const char *const known[] = {"v", "p", "sp", "rua", "ruf", "adkim", "aspf", "pct",
					    "fo", "rf", "ri", "np", "psd", "t", NULL};
	struct txtrec_tags tags;
	const struct txtrec_tag *t;
	size_t before = findings_count(f, FINDING_ERROR);
	int ret;

	ret = txtrec_tags_parse(value, len, &tags);
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0) {
		findings_add(f, FINDING_ERROR, "not a tag list: %s", tags.err);
		goto out;
	}
	ret = 0;
	/* §6.3: v MUST be first, and records not starting with it are discarded */
	t = txtrec_tags_get(&tags, "v");
	if (t == NULL || t != &tags.tag[0]) {
		findings_add(f, FINDING_ERROR,
			     "tag v: v=DMARC1 must be the first tag, or receivers discard the record");
	} else if (strcmp(t->value, "DMARC1") != 0) {
		findings_add(f, FINDING_ERROR, "tag v: '%s', must be DMARC1", t->value);
	}
	t = txtrec_tags_get(&tags, "p");
	if (t == NULL) {
		findings_add(f, FINDING_ERROR, "tag p: missing (required, RFC 7489 §6.3)");
	} else {
		if (tags.count < 2 || t != &tags.tag[1])
			findings_add(f, FINDING_WARN,
				     "tag p: should come right after v (RFC 7489 §6.4 grammar)");
		if (!one_of(t->value, policies))
			findings_add(f, FINDING_ERROR,
				     "tag p: '%s' (want none, quarantine or reject)", t->value);
		else if (strcmp(t->value, "none") == 0)
			findings_add(f, FINDING_WARN,
				     "tag p: none only monitors; receivers act on nothing");
	}
	t = txtrec_tags_get(&tags, "sp");
	if (t != NULL && !one_of(t->value, policies))
		findings_add(f, FINDING_ERROR, "tag sp: '%s' (want none, quarantine or reject)",
			     t->value);
	t = txtrec_tags_get(&tags, "np");
	if (t != NULL && !one_of(t->value, policies))
		findings_add(f, FINDING_ERROR, "tag np: '%s' (want none, quarantine or reject)",
			     t->value);
	t = txtrec_tags_get(&tags, "adkim");
	if (t != NULL && !one_of(t->value, align))
		findings_add(f, FINDING_ERROR, "tag adkim: '%s' (want r or s)", t->value);
	t = txtrec_tags_get(&tags, "aspf");
	if (t != NULL && !one_of(t->value, align))
		findings_add(f, FINDING_ERROR, "tag aspf: '%s' (want r or s)", t->value);
	t = txtrec_tags_get(&tags, "pct");
	if (t != NULL) {
		if (!all_digits(t->value) || strlen(t->value) > 3 || atoi(t->value) > 100)
			findings_add(f, FINDING_ERROR, "tag pct: '%s' (want 0..100)", t->value);
		findings_add(f, FINDING_WARN, "tag pct: removed by DMARCbis; use t=y for testing");
	}
	t = txtrec_tags_get(&tags, "fo");
	if (t != NULL) {
		const char *p = t->value;
		for (;;) {
			size_t n = strcspn(p, ":");
			if (n != 1 || strchr("01ds", p[0]) == NULL) {
				findings_add(f, FINDING_ERROR,
					     "tag fo: '%s' (want 0, 1, d or s, colon-separated)",
					     t->value);
				break;
			}
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
		if (txtrec_tags_get(&tags, "ruf") == NULL)
			findings_add(f, FINDING_NOTE, "tag fo: has no effect without ruf=");
	}
	t = txtrec_tags_get(&tags, "rf");
	if (t != NULL) {
		if (strcmp(t->value, "afrf") != 0)
			findings_add(f, FINDING_ERROR, "tag rf: '%s' (the only format is afrf)",
				     t->value);
		findings_add(f, FINDING_WARN, "tag rf: removed by DMARCbis");
	}
	t = txtrec_tags_get(&tags, "ri");
	if (t != NULL) {
		if (!all_digits(t->value) || strlen(t->value) > 10 ||
		    strtoul(t->value, NULL, 10) > 4294967295UL)
			findings_add(f, FINDING_ERROR, "tag ri: '%s' (want seconds, 0..4294967295)",
				     t->value);
		findings_add(f, FINDING_WARN, "tag ri: removed by DMARCbis (receivers send daily)");
	}
	t = txtrec_tags_get(&tags, "t");
	if (t != NULL && strcmp(t->value, "y") != 0 && strcmp(t->value, "n") != 0)
		findings_add(f, FINDING_ERROR, "tag t: '%s' (want y or n)", t->value);
	t = txtrec_tags_get(&tags, "psd");
	if (t != NULL && strcmp(t->value, "y") != 0 && strcmp(t->value, "n") != 0 &&
	    strcmp(t->value, "u") != 0)
		findings_add(f, FINDING_ERROR, "tag psd: '%s' (want y, n or u)", t->value);
	t = txtrec_tags_get(&tags, "rua");
	if (t != NULL)
		check_uris("rua", t->value, f);
	else
		findings_add(f, FINDING_NOTE, "no rua=: you will receive no aggregate reports");
	t = txtrec_tags_get(&tags, "ruf");
	if (t != NULL)
		check_uris("ruf", t->value, f);
	for (size_t i = 0; i < tags.count; i++)
		if (!one_of(tags.tag[i].name, known))
			findings_add(f, FINDING_NOTE, "unknown tag '%s' ignored (RFC 7489 §6.3)",
				     tags.tag[i].name);
out:
	txtrec_tags_cleanup(&tags);
	if (ret == 0 && findings_count(f, FINDING_ERROR) > before)
		ret = MX_ESYNTAX;
	return ret;
}

static int add_tag(char **buf, const char *tag, const char *value)
{
	char *out;

	if (asprintf(&out, "%s; %s=%s", *buf, tag, value) < 0)
		return -ENOMEM;
	free(*buf);
	*buf = out;
	return 0;
}

/* Appends "; tag=value" with the URIs of a list given mailto: when bare. */
static int add_uris(char **buf, const char *tag, const char *list)
{
	char *uris;
	int ret = urilist_build(list, &uris);

	if (ret == 0)
		ret = add_tag(buf, tag, uris);
	free(uris);
	return ret;
}

int dmarc_build(const struct dmarc_opts *o, char **value)
{
	char *v = NULL, num[32];
	int ret = -ENOMEM;

	*value = NULL;
	if (o->policy == NULL)
		return MX_EINVAL;
	if (asprintf(&v, "v=DMARC1; p=%s", o->policy) < 0)
		return -ENOMEM;
	if ((o->sp && add_tag(&v, "sp", o->sp) < 0) || (o->rua && add_uris(&v, "rua", o->rua) < 0) ||
	    (o->ruf && add_uris(&v, "ruf", o->ruf) < 0) ||
	    (o->adkim && add_tag(&v, "adkim", o->adkim) < 0) ||
	    (o->aspf && add_tag(&v, "aspf", o->aspf) < 0))
		goto fail;
	if (o->pct >= 0) {
		snprintf(num, sizeof(num), "%d", o->pct);
		if (add_tag(&v, "pct", num) < 0)
			goto fail;
	}
	if ((o->fo && add_tag(&v, "fo", o->fo) < 0) || (o->rf && add_tag(&v, "rf", o->rf) < 0))
		goto fail;
	if (o->ri >= 0) {
		snprintf(num, sizeof(num), "%ld", o->ri);
		if (add_tag(&v, "ri", num) < 0)
			goto fail;
	}
	*value = v;
	return 0;
fail:
	free(v);
	return ret;
}

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns dmarc build --domain D --policy none|quarantine|reject [--sp POLICY]\n"
		"                         [--rua URI,...] [--ruf URI,...] [--adkim r|s] [--aspf r|s]\n"
		"                         [--pct N] [--fo 0|1|d|s] [--rf afrf] [--ri SECONDS]\n"
		"                         [--zone FILE|NAME [PUBLISH OPTIONS]] [--json]\n"
		"       mxdns dmarc lint [RECORD] [--domain D [--server ADDR@PORT]] [--json]\n"
		"\n"
		"build  prints the _dmarc.D TXT record (RFC 7489); a bare address in --rua/--ruf\n"
		"       becomes mailto:ADDRESS. The record is linted and refused on error.\n"
		"       With --zone it replaces the v=DMARC1 record at _dmarc.D in the zone\n"
		"       instead of being printed, and the running mxdnsd reloads the zone.\n"
		"lint   checks RECORD, or the record published at _dmarc.D: v first, p second,\n"
		"       tag values, mailto: URIs; warns on p=none and on pct, rf and ri, which\n"
		"       DMARCbis removes.\n"
		"publish options (build):\n");
	pubopt_usage(f, true);
	fprintf(f, "exit: 0 ok, 1 the record has errors or publishing was refused, 2 usage or "
		   "runtime error\n");
	return code;
}

enum { OPT_DOMAIN = 256, OPT_POLICY, OPT_SP, OPT_RUA, OPT_RUF, OPT_ADKIM, OPT_ASPF, OPT_PCT,
       OPT_FO, OPT_RF, OPT_RI, OPT_SERVER, OPT_JSON, OPT_HELP };

static const struct option options[] = {
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"sp", required_argument, NULL, OPT_SP},
	{"rua", required_argument, NULL, OPT_RUA},
	{"ruf", required_argument, NULL, OPT_RUF},
	{"adkim", required_argument, NULL, OPT_ADKIM},
	{"aspf", required_argument, NULL, OPT_ASPF},
	{"pct", required_argument, NULL, OPT_PCT},
	{"fo", required_argument, NULL, OPT_FO},
	{"rf", required_argument, NULL, OPT_RF},
	{"ri", required_argument, NULL, OPT_RI},
	{"server", required_argument, NULL, OPT_SERVER},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	PUBOPT_OPTION_ZONE,
	PUBOPT_OPTIONS,
	{NULL, 0, NULL, 0},
};

int cmd_dmarc(int argc, char **argv)
{
	struct dmarc_opts o = {.pct = -1, .ri = -1};
	struct publish_opts po = {.prog = "mxdns dmarc build"};
	struct findings f;
	const char *domain_arg = NULL, *server = NULL, *verb;
	char domain[HOSTARG_MAX], name[HOSTARG_MAX + 16], err[400], *value = NULL;
	bool json = false, build;
	int c, ret = 2;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
	verb = argv[1];
	if (strcmp(verb, "build") != 0 && strcmp(verb, "lint") != 0) {
		fprintf(stderr, "mxdns dmarc: unknown subcommand '%s' (build, lint)\n", verb);
		return 2;
	}
	build = strcmp(verb, "build") == 0;
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, PUBOPT_SHORT "h", options, NULL)) != -1) {
		char *end;
		if (build && pubopt_take(&po, c, optarg))
			continue;
		switch (c) {
		case OPT_DOMAIN: domain_arg = optarg; break;
		case OPT_POLICY: o.policy = optarg; break;
		case OPT_SP: o.sp = optarg; break;
		case OPT_RUA: o.rua = optarg; break;
		case OPT_RUF: o.ruf = optarg; break;
		case OPT_ADKIM: o.adkim = optarg; break;
		case OPT_ASPF: o.aspf = optarg; break;
		case OPT_FO: o.fo = optarg; break;
		case OPT_RF: o.rf = optarg; break;
		case OPT_SERVER: server = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_PCT:
			o.pct = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o.pct < 0 || o.pct > 100) {
				fprintf(stderr, "mxdns dmarc: --pct: '%s' (want 0..100)\n", optarg);
				return 2;
			}
			break;
		case OPT_RI:
			o.ri = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o.ri < 0 || o.ri > 4294967295L) {
				fprintf(stderr, "mxdns dmarc: --ri: '%s' (want seconds)\n", optarg);
				return 2;
			}
			break;
		case 'h':
		case OPT_HELP:
			return usage(stdout, 0);
		default:
			fprintf(stderr, "mxdns dmarc %s: unknown or incomplete option '%s' (see --help)\n",
				verb, argv[optind - 1]);
			return 2;
		}
	}
	findings_init(&f);
	if (domain_arg && hostarg_parse(domain_arg, "--domain", domain, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns dmarc %s: %s\n", verb, err);
		return 2;
	}
	if (domain_arg)
		snprintf(name, sizeof(name), "_dmarc.%s", domain);
	if (build) {
		if (domain_arg == NULL || o.policy == NULL || optind < argc) {
			fprintf(stderr, "mxdns dmarc build: --domain and --policy are required, "
					"nothing else (see --help)\n");
			return 2;
		}
		if (dmarc_build(&o, &value) < 0)
			goto done;
		dmarc_lint(value, strlen(value), &f);
		/* RFC 7489 §6.6.3: more than one DMARC record is no policy, so
		 * the v=DMARC1 record is replaced */
		ret = pubopt_txt_build(&po, name, value, "v=DMARC1", &f, json, NULL, NULL);
		goto done;
	}
	if ((optind < argc) == (domain_arg != NULL) || optind + 1 < argc) {
		fprintf(stderr, "mxdns dmarc lint: give the RECORD or --domain D (see --help)\n");
		return 2;
	}
	ret = lintcli_lint("mxdns dmarc lint", optind < argc ? argv[optind] : NULL, server, name,
			   "v=DMARC1", dmarc_lint, json);
done:
	free(value);
	return ret;
}
