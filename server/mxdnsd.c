/* mxdnsd: placeholder until the daemon lands. */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "mxdnsd: not implemented yet\n");
	return 2;
}
