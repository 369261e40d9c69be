/* net: the worker threads that answer queries over UDP and TCP.
 *
 * Each worker owns a libuv loop, and for each listen address its own UDP
 * socket and TCP listener bound with SO_REUSEPORT, so the kernel spreads
 * queries over the workers and no socket or lock is shared on the hot
 * path. UDP is read and answered in batches (recvmmsg/sendmmsg) into
 * buffers allocated once per worker; TCP follows RFC 7766 (pipelining,
 * idle and read timeouts, connection limits per worker and per client).
 * Workers read the zone database through the cell's hazard slot whose
 * number is the worker's index. */
#ifndef MXDNS_NET_H
#define MXDNS_NET_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct zonedb_cell;
struct answer_opts;
struct net;
struct stats;


/* Creates and binds one UDP socket and one TCP listener per listen
 * address for each of n_workers workers (call before dropping
 * privileges), and the RRL table if the configuration limits any zone.
 * Worker i counts into stats->w[i] (stats must have n_workers blocks).
 * cfg, cell, opts and stats must outlive the net. On error returns a
 * negative code and writes a line naming the address into err. */
int net_new(struct net **out, const struct config *cfg, struct zonedb_cell *cell,
	    const struct answer_opts *opts, int n_workers, struct stats *stats, char *err,
	    size_t errlen);

/* Sets up the loops and starts the worker threads. Returns 0 or a
 * negative code with err set; on error no thread runs. */
int net_start(struct net *n, char *err, size_t errlen);

/* Stops the workers (every handle closed, threads joined). Idempotent. */
void net_stop(struct net *n);

/* Stops if needed, closes the sockets, frees everything. NULL is fine. */
void net_free(struct net *n);

int net_workers(const struct net *n);

#endif
