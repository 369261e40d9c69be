/* ctlclient: the client side of mxdnsd's control socket (server/control.h
 * has the protocol: one command line; reply lines ending with a last line
 * "ok" or "error: MESSAGE"). Used by mxdns ctl and by publishing, which
 * asks the daemon to reload a zone it has just written. */
#ifndef MXDNS_CTLCLIENT_H
#define MXDNS_CTLCLIENT_H

#include <stddef.h>

#define CTLCLIENT_TIMEOUT_S 120 /* a reload of large zones takes a while */

struct ctlclient_reply {
	char **lines;  /* the lines before the last one */
	size_t n;
	char *error;   /* the "error: " line's message, or NULL after "ok" */
	int done;
};

/* Sends line (without newline) to the socket at path and reads the whole
 * reply into r (zeroed by the caller; clean it up whatever the result).
 * Returns 0 when a reply came (check r->error), or a negative errno when
 * the daemon could not be reached or stopped answering, with a message
 * naming the socket in err. */
int ctlclient_request(const char *path, const char *line, struct ctlclient_reply *r, char *err,
		      size_t errlen);
void ctlclient_reply_cleanup(struct ctlclient_reply *r);

#endif
