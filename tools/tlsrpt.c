/* tlsrpt: TLS-RPT record builder and linter, and `mxdns tls-rpt`. */
#include "tlsrpt.h"

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

int tlsrpt_lint(const char *value, size_t len, struct findings *f)
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
	/* RFC 8460 §3: tlsrpt-version = %s"v=TLSRPTv1", first */
	t = txtrec_tags_get(&tags, "v");
	if (t == NULL || t != &tags.tag[0] || strcmp(t->value, "TLSRPTv1") != 0)
		findings_add(f, FINDING_ERROR, "must begin with v=TLSRPTv1 or senders ignore it");
	t = txtrec_tags_get(&tags, "rua");
	if (t == NULL)
		findings_add(f, FINDING_ERROR, "field rua: missing (required)");
	else
		urilist_check("field rua", t->value, MAILURI_HTTPS, false, f);
	for (size_t i = 0; i < tags.count; i++)
		if (strcmp(tags.tag[i].name, "v") != 0 && strcmp(tags.tag[i].name, "rua") != 0)
			findings_add(f, FINDING_NOTE, "unknown field '%s' ignored (RFC 8460 §3)",
				     tags.tag[i].name);
out:
	txtrec_tags_cleanup(&tags);
	if (ret == 0 && findings_count(f, FINDING_ERROR) > before)
		ret = MX_ESYNTAX;
	return ret;
}

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: mxdns tls-rpt build --domain D --rua URI[,URI...]\n"
		"                           [--zone FILE|NAME [PUBLISH OPTIONS]] [--json]\n"
		"       mxdns tls-rpt lint [RECORD] [--domain D [--server ADDR@PORT]] [--json]\n"
		"\n"
		"build  prints the _smtp._tls.D TXT record \"v=TLSRPTv1; rua=...\" (RFC 8460);\n"
		"       URIs are mailto: or https:, a bare address becomes mailto:ADDRESS.\n"
		"       With --zone it replaces the v=TLSRPTv1 record at _smtp._tls.D in the\n"
		"       zone instead of being printed, and the running mxdnsd reloads the zone.\n"
		"lint   checks RECORD or the record published at _smtp._tls.D.\n"
		"publish options (build):\n");
	pubopt_usage(f, true);
	fprintf(f, "exit: 0 ok, 1 errors found or publishing refused, 2 usage or runtime error\n");
	return code;
}

enum { OPT_DOMAIN = 256, OPT_RUA, OPT_SERVER, OPT_JSON, OPT_HELP };

static const struct option options[] = {
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"rua", required_argument, NULL, OPT_RUA},
	{"server", required_argument, NULL, OPT_SERVER},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	PUBOPT_OPTION_ZONE,
	PUBOPT_OPTIONS,
	{NULL, 0, NULL, 0},
};

int cmd_tls_rpt(int argc, char **argv)
{
	const char *domain_arg = NULL, *server = NULL, *rua = NULL, *verb;
	struct publish_opts po = {.prog = "mxdns tls-rpt build"};
	char domain[HOSTARG_MAX], name[HOSTARG_MAX + 16], err[400], *value = NULL;
	struct findings f;
	bool json = false;
	int c, ret = 2;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
	verb = argv[1];
	if (strcmp(verb, "build") != 0 && strcmp(verb, "lint") != 0) {
		fprintf(stderr, "mxdns tls-rpt: unknown subcommand '%s' (build, lint)\n", verb);
		return 2;
	}
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, PUBOPT_SHORT "h", options, NULL)) != -1) {
		if (strcmp(verb, "build") == 0 && pubopt_take(&po, c, optarg))
			continue;
		switch (c) {
		case OPT_DOMAIN: domain_arg = optarg; break;
		case OPT_RUA: rua = optarg; break;
		case OPT_SERVER: server = optarg; break;
		case OPT_JSON: json = true; break;
		case 'h':
		case OPT_HELP:
			return usage(stdout, 0);
		default:
			fprintf(stderr,
				"mxdns tls-rpt %s: unknown or incomplete option '%s' (see --help)\n",
				verb, argv[optind - 1]);
			return 2;
		}
	}
	findings_init(&f);
	if (domain_arg && hostarg_parse(domain_arg, "--domain", domain, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxdns tls-rpt %s: %s\n", verb, err);
		return 2;
	}
	if (domain_arg)
		snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	if (strcmp(verb, "build") == 0) {
		char *uris = NULL;
		if (domain_arg == NULL || rua == NULL || optind < argc) {
			fprintf(stderr, "mxdns tls-rpt build: --domain and --rua are required "
					"(see --help)\n");
			return 2;
		}
		if (urilist_build(rua, &uris) < 0 ||
		    asprintf(&value, "v=TLSRPTv1; rua=%s", uris) < 0) {
			free(uris);
			value = NULL;
			fprintf(stderr, "mxdns tls-rpt build: out of memory\n");
			goto done;
		}
		free(uris);
		tlsrpt_lint(value, strlen(value), &f);
		/* RFC 8460 §3: senders use the one record starting v=TLSRPTv1 */
		ret = pubopt_txt_build(&po, name, value, "v=TLSRPTv1", &f, json, NULL, NULL);
		goto done;
	}
	if ((optind < argc) == (domain_arg != NULL) || optind + 1 < argc) {
		fprintf(stderr, "mxdns tls-rpt lint: give the RECORD or --domain D (see --help)\n");
		return 2;
	}
	ret = lintcli_lint("mxdns tls-rpt lint", optind < argc ? argv[optind] : NULL, server, name,
			   "v=TLSRPTv1", tlsrpt_lint, json);
done:
	free(value);
	return ret;
}
