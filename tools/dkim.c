/* dkim: placeholder until the subcommand lands. */
#include "cmd.h"


#include <stdio.h>
int cmd_dkim(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "mxdns: %s is not implemented yet\n", argv[0]);
	return 2;
}
