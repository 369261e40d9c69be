/* mtasts: MTA-STS record and policy builder and linter, and `mxdns mta-sts`. */
#include "mtasts.h"

#include "atomicfile.h"
#include "cmd.h"
#include "errcode.h"
#include "findings.h"
#include "hostarg.h"
#include "json.h"
#include "lintcli.h"
#include "pubopt.h"
#include "txtrec.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mtasts_lint_record(const char *value, size_t len, struct findings *f)
{
	struct txtrec_tags tags;
	const struct txtrec_tag *t;
	size_t before = findings_count(f, FINDING_ERROR);
	int ret;

	ret = txtrec_tags_parse(value, len, &tags);
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0) {
		findings_add(f, FINDING_ERROR, "not a field list: %s", tags.err);
		goto out;
	}
	ret = 0;
	/* §3.1: sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep];
	 * records not beginning with "v=STSv1;" are discarded. */
	if (len < 8 || strncmp(value, "v=STSv1;", 8) != 0)
		findings_add(f, FINDING_ERROR,
			     "must begin with exactly \"v=STSv1;\" or senders ignore it");
	t = txtrec_tags_get(&tags, "id");
	if (t == NULL) {
		findings_add(f, FINDING_ERROR, "field id: missing (required)");
	} else {
		size_t n = strlen(t->value);
		bool alnum = n > 0;
		for (size_t i = 0; i < n; i++)
			if (!((t->value[i] >= '0' && t->value[i] <= '9') ||
			      (t->value[i] >= 'a' && t->value[i] <= 'z') ||
			      (t->value[i] >= 'A' && t->value[i] <= 'Z')))
				alnum = false;
		if (!alnum || n > 32)
			findings_add(f, FINDING_ERROR,
				     "field id: '%s' (want 1..32 letters and digits)", t->value);
	}
	for (size_t i = 0; i < tags.count; i++) {
		if (strchr(tags.tag[i].value, '=') != NULL || strchr(tags.tag[i].value, ' ') != NULL)
			findings_add(f, FINDING_ERROR, "field %s: '=' or space in the value",
				     tags.tag[i].name);
		if (strcmp(tags.tag[i].name, "v") != 0 && strcmp(tags.tag[i].name, "id") != 0)
			findings_add(f, FINDING_NOTE, "unknown field '%s' ignored",
				     tags.tag[i].name);
	}
out:
	txtrec_tags_cleanup(&tags);
	if (ret == 0 && findings_count(f, FINDING_ERROR) > before)
		ret = MX_ESYNTAX;
	return ret;
}

/* "mail.example.com" or "*.example.com" (§4.1: the wildcard covers one
 * label, leftmost only). */
static bool mx_pattern_ok(const char *p)
{
	char tmp[HOSTARG_MAX], err[400];

	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	if (strchr(p, '*') != NULL || strchr(p, '_') != NULL || strchr(p, '.') == NULL)
		return false;
	return hostarg_parse(p, "mx", tmp, err, sizeof(err)) == 0 && p[strlen(p) - 1] != '.';
}

int mtasts_lint_policy(const char *text, size_t len, struct findings *f)
{
	size_t before = findings_count(f, FINDING_ERROR), line = 0, mx = 0;
	const char *p = text, *end = text + len;
	char seen_version = 0, seen_mode = 0, seen_age = 0, mode[16] = "";

	if (len > MTASTS_POLICY_MAX)
		findings_add(f, FINDING_ERROR, "policy of %zu bytes; senders may refuse over %d",
			     len, MTASTS_POLICY_MAX);
	if (memchr(text, '\0', len) != NULL) {
		findings_add(f, FINDING_ERROR, "the policy holds a NUL byte");
		return MX_ESYNTAX;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *colon, *v, *ve;
		char key[32], val[256];
		size_t klen;

		line++;
		/* sts-policy-term = LF / CRLF */
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			if (nl != NULL && nl + 1 < end)
				findings_add(f, FINDING_ERROR, "line %zu: empty line", line);
			goto next;
		}
		colon = memchr(p, ':', (size_t)(le - p));
		if (colon == NULL) {
			findings_add(f, FINDING_ERROR, "line %zu: no ':' (want key: value)", line);
			goto next;
		}
		klen = (size_t)(colon - p);
		v = colon + 1;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
		ve = le;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (klen == 0 || klen >= sizeof(key) || (size_t)(ve - v) >= sizeof(val)) {
			findings_add(f, FINDING_ERROR, "line %zu: key or value too long or empty", line);
			goto next;
		}
		memcpy(key, p, klen);
		key[klen] = '\0';
		memcpy(val, v, (size_t)(ve - v));
		val[ve - v] = '\0';
		if (strcmp(key, "version") == 0) {
			if (seen_version++)
				findings_add(f, FINDING_ERROR, "line %zu: version given twice", line);
			if (strcmp(val, "STSv1") != 0)
				findings_add(f, FINDING_ERROR, "line %zu: version '%s' (want STSv1)",
					     line, val);
		} else if (strcmp(key, "mode") == 0) {
			if (seen_mode++)
				findings_add(f, FINDING_ERROR, "line %zu: mode given twice", line);
			if (strcmp(val, "enforce") != 0 && strcmp(val, "testing") != 0 &&
			    strcmp(val, "none") != 0)
				findings_add(f, FINDING_ERROR,
					     "line %zu: mode '%s' (want enforce, testing or none)",
					     line, val);
			/* Longer values are errors above; keep what fits. */
			size_t ml = strnlen(val, sizeof(mode) - 1);
			memcpy(mode, val, ml);
			mode[ml] = 0;
		} else if (strcmp(key, "max_age") == 0) {
			size_t n = strlen(val);
			if (seen_age++)
				findings_add(f, FINDING_ERROR, "line %zu: max_age given twice", line);
			if (n == 0 || n > 10 || strspn(val, "0123456789") != n ||
			    strtoull(val, NULL, 10) > MTASTS_MAX_AGE_MAX)
				findings_add(f, FINDING_ERROR,
					     "line %zu: max_age '%s' (want seconds, at most %ld)", line,
					     val, MTASTS_MAX_AGE_MAX);
			else if (strtoull(val, NULL, 10) < 86400)
				findings_add(f, FINDING_WARN,
					     "line %zu: max_age %s is under a day; weeks are advised "
					     "(RFC 8461 §3.2)", line, val);
		} else if (strcmp(key, "mx") == 0) {
			mx++;
			if (!mx_pattern_ok(val))
				findings_add(f, FINDING_ERROR,
					     "line %zu: mx '%s' (want a host name or *.host name)",
					     line, val);
		} else {
			findings_add(f, FINDING_NOTE, "line %zu: unknown key '%s' ignored", line, key);
		}
next:
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (!seen_version)
		findings_add(f, FINDING_ERROR, "no version: STSv1 line");
	if (!seen_mode)
		findings_add(f, FINDING_ERROR, "no mode: line");
	if (!seen_age)
		findings_add(f, FINDING_ERROR, "no max_age: line");
	if (mx == 0 && strcmp(mode, "none") != 0)
		findings_add(f, FINDING_ERROR, "no mx: line; mode %s needs at least one",
			     mode[0] ? mode : "(missing)");
	if (strcmp(mode, "testing") == 0)
		findings_add(f, FINDING_NOTE, "mode testing: failures are reported, not enforced");
	return findings_count(f, FINDING_ERROR) > before ? MX_ESYNTAX : 0;
}

void mtasts_id(time_t now, char out[15])
{
	struct tm tm;

	gmtime_r(&now, &tm);
	if (strftime(out, 15, "%Y%m%d%H%M%S", &tm) != 14)
		snprintf(out, 15, "1"); /* a year past 9999: still a valid id */
}

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns mta-sts build --domain D --mx PATTERN [--mx PATTERN...]\n"
		"                           [--mode enforce|testing|none] [--max-age SECONDS]\n"
		"                           [--id ID] [--policy-out FILE]\n"
		"                           [--zone FILE|NAME [PUBLISH OPTIONS]] [--json]\n"
		"       mxdns mta-sts lint [RECORD] [--policy FILE] [--domain D [--server ADDR@PORT]]\n"
		"                          [--json]\n"
		"\n"
		"build  prints the _mta-sts.D TXT record \"v=STSv1; id=ID\" (ID defaults to the\n"
		"       UTC time, YYYYMMDDhhmmss; change it with every policy change) and the policy\n"
		"       file for https://mta-sts.D/.well-known/mta-sts.txt (RFC 8461). Defaults:\n"
		"       --mode enforce, --max-age 604800 (a week). --policy-out FILE writes the\n"
		"       policy there (replaced atomically) instead of printing it. With --zone\n"
		"       the TXT record replaces the v=STSv1 record at _mta-sts.D in the zone\n"
		"       instead of being printed (the policy is written first: a new id tells\n"
		"       senders to fetch it), and the running mxdnsd reloads the zone.\n"
		"lint   checks RECORD or the record at _mta-sts.D, and/or a policy FILE ('-' for\n"
		"       stdin). The policy is not fetched over HTTPS.\n"
		"publish options (build):\n");
	pubopt_usage(f, true);
	fprintf(f, "exit: 0 ok, 1 errors found or publishing refused, 2 usage or runtime error\n");
	return code;
}

enum { OPT_DOMAIN = 256, OPT_MX, OPT_MODE, OPT_MAXAGE, OPT_ID, OPT_POLICY, OPT_POLICY_OUT,
       OPT_SERVER, OPT_JSON, OPT_HELP };

static const struct option options[] = {
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"mx", required_argument, NULL, OPT_MX},
	{"mode", required_argument, NULL, OPT_MODE},
	{"max-age", required_argument, NULL, OPT_MAXAGE},
	{"id", required_argument, NULL, OPT_ID},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"policy-out", required_argument, NULL, OPT_POLICY_OUT},
	{"server", required_argument, NULL, OPT_SERVER},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	PUBOPT_OPTION_ZONE,
	PUBOPT_OPTIONS,
	{NULL, 0, NULL, 0},
};

#define MX_MAX 32

static char *read_policy(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (fp == NULL)
		return NULL;
	buf = malloc(MTASTS_POLICY_MAX + 2);
	if (buf != NULL) {
		n = fread(buf, 1, MTASTS_POLICY_MAX + 1, fp);
		buf[n] = '\0';
		*len = n;
		if (ferror(fp)) {
			free(buf);
			buf = NULL;
		}
	}
	if (fp != stdin)
		fclose(fp);
	return buf;
}

int cmd_mta_sts(int argc, char **argv)
{
	const char *domain_arg = NULL, *server = NULL, *policy_path = NULL, *mode = "enforce";
	const char *id = NULL, *mxs[MX_MAX], *verb, *policy_out = NULL;
	struct publish_opts po = {.prog = "mxdns mta-sts build"};
	size_t nmx = 0, plen = 0;
	long max_age = 604800;
	char domain[HOSTARG_MAX], name[HOSTARG_MAX + 16], err[400], idbuf[15];
	char *value = NULL, *policy = NULL;
	struct findings f;
	bool json = false;
	int c, ret = 2;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
	verb = argv[1];
	if (strcmp(verb, "build") != 0 && strcmp(verb, "lint") != 0) {
		fprintf(stderr, "mxdns mta-sts: unknown subcommand '%s' (build, lint)\n", verb);
		return 2;
	}
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, PUBOPT_SHORT "h", options, NULL)) != -1) {
		char *end;
		if (strcmp(verb, "build") == 0 && pubopt_take(&po, c, optarg))
			continue;
		switch (c) {
		case OPT_DOMAIN: domain_arg = optarg; break;
		case OPT_MODE: mode = optarg; break;
		case OPT_ID: id = optarg; break;
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_POLICY_OUT: policy_out = optarg; break;
		case OPT_SERVER: server = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_MX:
			if (nmx == MX_MAX) {
				fprintf(stderr, "mxdns mta-sts: more than %d --mx\n", MX_MAX);
				return 2;
			}
			mxs[nmx++] = optarg;
			break;
		case OPT_MAXAGE:
			max_age = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || max_age < 0 || max_age > MTASTS_MAX_AGE_MAX) {
				fprintf(stderr, "mxdns mta-sts: --max-age: '%s' (want 0..%ld seconds)\n",
					optarg, MTASTS_MAX_AGE_MAX);
				return 2;
			}
			break;
		case 'h':
		case OPT_HELP:
			return usage(stdout, 0);
		default:
			fprintf(stderr,
				"mxdns mta-sts %s: unknown or incomplete option '%s' (see --help)\n",
				verb, argv[optind - 1]);
			return 2;
		}
	}
	findings_init(&f);
	if (domain_arg && hostarg_parse(domain_arg, "--domain", domain, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns mta-sts %s: %s\n", verb, err);
		return 2;
	}
	if (domain_arg)
		snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	if (strcmp(verb, "build") == 0) {
		FILE *mem;
		if (domain_arg == NULL || optind < argc) {
			fprintf(stderr, "mxdns mta-sts build: --domain is required (see --help)\n");
			return 2;
		}
		if (id == NULL) {
			mtasts_id(time(NULL), idbuf);
			id = idbuf;
		}
		if (asprintf(&value, "v=STSv1; id=%s", id) < 0) {
			value = NULL;
			goto done;
		}
		mem = open_memstream(&policy, &plen);
		if (mem == NULL)
			goto done;
		fprintf(mem, "version: STSv1\nmode: %s\n", mode);
		for (size_t i = 0; i < nmx; i++)
			fprintf(mem, "mx: %s\n", mxs[i]);
		fprintf(mem, "max_age: %ld\n", max_age);
		fclose(mem);
		mtasts_lint_record(value, strlen(value), &f);
		mtasts_lint_policy(policy, plen, &f);
		if (findings_count(&f, FINDING_ERROR)) {
			findings_print(&f, stderr, "mxdns mta-sts build: ");
			ret = 1;
			goto done;
		}
		/* RFC 8461 §3.1: senders fetch the policy when the id changes,
		 * so it is in place before the record with the new id */
		if (policy_out && !po.dry_run &&
		    atomicfile_write(policy_out, policy, plen, 0644, true, err, sizeof(err)) < 0) {
			fprintf(stderr, "mxdns mta-sts build: %s\n", err);
			goto done;
		}
		if (policy_out && !json)
			fprintf(stderr, "mxdns mta-sts build: %s %s\n",
				po.dry_run ? "dry run, would write" : "wrote", policy_out);
		ret = pubopt_txt_build(&po, name, value, "v=STSv1", &f, json, "policy", policy);
		if (ret == 0 && !json && !policy_out)
			printf("%s; policy file https://mta-sts.%s/.well-known/mta-sts.txt:\n%s",
			       po.zone ? "" : "\n", domain, policy);
		goto done;
	}
	if (optind + 1 < argc || (optind < argc && domain_arg != NULL) ||
	    (optind == argc && domain_arg == NULL && policy_path == NULL)) {
		fprintf(stderr, "mxdns mta-sts lint: give the RECORD or --domain D, and/or --policy "
				"FILE (see --help)\n");
		return 2;
	}
	if (optind < argc || domain_arg != NULL) {
		ret = lintcli_get("mxdns mta-sts lint", optind < argc ? argv[optind] : NULL, server,
				  name, "v=STSv1", &value, &f);
		if (ret == 2)
			goto done;
		if (ret == 0)
			mtasts_lint_record(value, strlen(value), &f);
	}
	if (policy_path != NULL) {
		policy = read_policy(policy_path, &plen);
		if (policy == NULL) {
			fprintf(stderr, "mxdns mta-sts lint: %s: cannot read\n", policy_path);
			ret = 2;
			goto done;
		}
		mtasts_lint_policy(policy, plen, &f);
	}
	ret = lintcli_report(domain_arg ? name : NULL, value, &f, json);
done:
	free(policy);
	free(value);
	return ret;
}
