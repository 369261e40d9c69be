/* mxdns: the administrator's tool. One binary, git-style subcommands; the
 * table below is the whole dispatch. */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"dkim", cmd_dkim, "generate, publish, check and rotate DKIM keys"},
	{"spf", cmd_spf, "build, lint and evaluate SPF records"},
	{"dmarc", cmd_dmarc, "build and lint DMARC records"},
	{"mta-sts", cmd_mta_sts, "build and lint MTA-STS records and policies"},
	{"tls-rpt", cmd_tls_rpt, "build and lint TLS-RPT records"},
	{"tlsa", cmd_tlsa, "make TLSA records from certificates"},
	{"zone", cmd_zone, "show, check and edit zone files"},
	{"bl", cmd_bl, "manage DNSBL listings"},
	{"ctl", cmd_ctl, "control a running mxdnsd"},
	{"check", cmd_check, "check a domain's mail DNS"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mxdns COMMAND [ARGS...]   (mxdns COMMAND --help for more)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("mxdns %s\n", MXDNS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "mxdns: unknown command '%s' (try mxdns --help)\n", argv[1]);
	return 2;
}
