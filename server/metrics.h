/* metrics: a Prometheus scrape endpoint, the smallest HTTP/1.0 server
 * that does the job: GET /metrics answers 200 with the text the daemon
 * renders, anything else 404 or 405, one request per connection, then
 * close. It runs on the daemon's main loop (never on a worker) and only on
 * the address configured with metrics-listen (documented as local: the
 * counters say what is being queried and by how much). */
#ifndef MXDNS_METRICS_H
#define MXDNS_METRICS_H

#include <stddef.h>
#include <stdio.h>
#include <uv.h>

struct config_listen;
struct metrics;

/* Writes the body of a /metrics answer to out. */
typedef void (*metrics_render)(void *arg, FILE *out);

/* Listens on addr (TCP) on loop. On error returns a negative code and
 * writes a line naming the address into err. */
int metrics_new(struct metrics **out, uv_loop_t *loop, const struct config_listen *addr,
		metrics_render render, void *arg, char *err, size_t errlen);

/* Closes the listener and every client; the memory goes in the close
 * callbacks (the loop must run). NULL is fine. */
void metrics_close(struct metrics *m);

/* What to answer to the request head in req[0..len): fills the status
 * line's code (200, 400, 404, 405). Pure, for the tests. */
int metrics_route(const char *req, size_t len);

#endif
