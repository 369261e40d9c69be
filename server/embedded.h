/* embedded: the default zones compiled into mxdnsd (every zones/examples/NAME.zone,
 * turned into a C file by cmake/embed_zones.cmake at build time). */
#ifndef MXDNS_EMBEDDED_H
#define MXDNS_EMBEDDED_H

#include <stddef.h>

struct embedded_zone {
	const char *name; /* the file name without ".zone" */
	const char *file; /* the file name, for messages */
	const char *text; /* the file's bytes, NUL-terminated */
};

extern const struct embedded_zone embedded_zones[];
extern const size_t embedded_zones_count;

#endif
