/* spfcmd: placeholder while the engine lands. */
#include "cmd.h"
#include <stdio.h>
int cmd_spf(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "mxdns: %s is not implemented yet\n", argv[0]);
	return 2;
}
