/* coalesce: when a UDP worker pauses before reading again (udp-coalesce).
 *
 * Interrupt coalescing, as a network card does it. A wakeup from epoll
 * costs a context switch and three system calls, more than answering a
 * query, and a server that answers fast finds only a few queries at each
 * wakeup. When a read shows queries queuing up, a short pause before
 * polling again lets the next batch fill, and that cost is shared among
 * many queries.
 *
 * The pause must pay for itself. With many independent clients (the real
 * load of a nameserver) queries keep arriving while the worker sleeps;
 * the batches settle around a size and the one after a pause is larger
 * than the one before it about half the time. A client that keeps a
 * fixed number of queries in flight and waits for the answers (a closed
 * loop with a small window) sends nothing new until it hears back: the
 * batch after a pause is never larger, and the pause only lengthens each
 * round trip, so that client gets fewer answers per second. Each pause is
 * therefore judged by the first batch read after it; COALESCE_FLAT pauses
 * in a row that gathered no more turn pausing off for the next
 * COALESCE_BACKOFF chances, after which it is tried again. (With random
 * arrivals, 32 in a row without growth has odds below 1 in 10^7.)
 *
 * Pure state: the worker (server/net) reads, sleeps and counts. */
#ifndef MXDNS_COALESCE_H
#define MXDNS_COALESCE_H

#define COALESCE_MIN 4        /* a batch this large means queries queue up */
#define COALESCE_FLAT 32      /* pauses in a row that gathered no more: a closed loop */
#define COALESCE_BACKOFF 1024 /* chances to pause skipped then */

struct coalesce {
	int batch_max; /* a full batch: the worker is behind, never pause */
	int want;      /* the batch that asks for a pause before the next poll */
	int judge;     /* the batch before the last pause, until one is read after it */
	int flat;      /* pauses in a row after which the batch did not grow */
	int skip;      /* chances to pause left to skip */
};

/* batch_max: the most datagrams one read can return. */
void coalesce_init(struct coalesce *c, int batch_max);

/* After the reads of one wakeup: first and last are the sizes of its first
 * and last batch (equal when there was one). */
void coalesce_after_reads(struct coalesce *c, int first, int last);

/* Before polling again: 1 when the worker should pause now. */
int coalesce_take(struct coalesce *c);

#endif
