/* records: placeholder until the subcommand lands. */
#include "cmd.h"


#include <stdio.h>
int cmd_dmarc(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "mxdns: %s is not implemented yet\n", argv[0]);
	return 2;
}

#include <stdio.h>
int cmd_mta_sts(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "mxdns: %s is not implemented yet\n", argv[0]);
	return 2;
}

#include <stdio.h>
int cmd_tls_rpt(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "mxdns: %s is not implemented yet\n", argv[0]);
	return 2;
}
