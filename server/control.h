/* control: the daemon's control socket, a Unix stream socket (never on the
 * network; access is the socket file's mode and owner). One command per
 * line; the reply is zero or more text lines and a last line "ok" or
 * "error: MESSAGE". The commands themselves are run by a handler the
 * daemon supplies, on the loop's thread. */
#ifndef MXDNS_CONTROL_H
#define MXDNS_CONTROL_H

#include <stddef.h>
#include <stdio.h>
#include <uv.h>

#define CONTROL_LINE_MAX 1024

/* Runs one command line (without its newline), writing reply lines to
 * out. Returns NULL for "ok" or the error message (static or owned by the
 * handler until the next call). */
typedef const char *(*control_handler)(void *arg, const char *line, FILE *out);

struct control;

/* Binds path with the given file mode on loop. A stale socket file (no
 * daemon answering on it) is replaced; a live one is an error. On error
 * returns a negative code and writes a line naming the path into err. */
int control_new(struct control **out, uv_loop_t *loop, const char *path, int mode,
		control_handler handler, void *arg, char *err, size_t errlen);

/* Closes the socket and every client (the loop must run to finish the
 * close callbacks, after which the memory is freed) and removes the
 * socket file. NULL is fine. */
void control_close(struct control *c);

#endif
