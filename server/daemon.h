/* daemon: the life of a running mxdnsd. Owns the zone database cell, the
 * workers, the control socket and the signal handlers on the main loop;
 * reloads (SIGHUP or the control socket) build the next snapshot on this
 * thread and publish it, off the workers' path. */
#ifndef MXDNS_DAEMON_H
#define MXDNS_DAEMON_H

#include <stdio.h>

struct config;
struct zonedb;

/* Serves cfg until SIGTERM or SIGINT. initial is the first snapshot
 * (ownership passes to the daemon). embedded: the zones came from the
 * binary, so there are no files to reload. ready_line, if not NULL, is
 * printed on stdout once the sockets answer. Returns the exit code. */
int daemon_run(struct config *cfg, struct zonedb *initial, int embedded, const char *ready_line);

/* Writes one line per zone of cfg (selected by only, a zone name or NULL)
 * saying what a build from old (may be NULL) to cur did, n_failed being
 * what zonedb_build counted: "loaded NAME serial=N records=M",
 * "unchanged NAME serial=N", "failed NAME: FILE:LINE: message; ...".
 * Returns the number of failed zones. */
int daemon_report(const struct config *cfg, const struct zonedb *old, const struct zonedb *cur,
		  const char *only, int n_failed, FILE *out);

#endif
