/* net: worker threads, their sockets, and the UDP and TCP paths from a
 * readable socket to a sent answer.
 *
 * Lifetimes (libuv): every handle is freed only in its close callback; a
 * worker stops by closing all its handles from its stop async callback, so
 * uv_run returns when the last close callback has run. */
#include "net.h"

#include "answer.h"
#include "coalesce.h"
#include "config.h"
#include "dnsbl.h"
#include "errcode.h"
#include "log.h"
#include "name.h"
#include "rrl.h"
#include "stats.h"
#include "zonedb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define UDP_BATCH 64        /* datagrams per recvmmsg/sendmmsg */
#define UDP_ROUNDS 8        /* batches per wakeup before TCP gets a turn */
#define TIMER_SLACK_NS 2000 /* so a coalescing pause is as long as configured */
#define UDP_RBUF 4096       /* larger queries are dropped (no client sends them) */
#define UDP_SBUF 4096       /* the largest EDNS size we allow (udp-size <= 4096) */
#define TCP_MSG_MAX 65535   /* RFC 7766 §8: the 2-byte length prefix */
#define TCP_IN_INIT 1024
#define TCP_OUT_HIGH (256 * 1024) /* stop reading from a client that does not read */
#define TCP_BACKLOG 256
#define IPTAB_MAX (1u << 20)

union ctlbuf {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

struct udp_sock {
	uv_poll_t poll;
	int fd;
	struct worker *w;
	int pktinfo; /* wildcard address: answer from the address asked */
};

/* Accepting is ours, not libuv's: libuv's accept loop spins without end
 * when EMFILE strikes after another thread took its reserve descriptor. */
struct tcp_listener {
	uv_poll_t poll;
	int fd; /* ours until net_free */
	struct worker *w;
};

struct tcp_conn {
	uv_tcp_t h;
	uv_timer_t timer;
	uv_write_t wreq;
	struct worker *w;
	struct tcp_conn *prev, *next;
	struct sockaddr_storage peer;
	uint8_t key[17]; /* family byte + address, for the per-address limit */
	int counted;     /* holds a slot in the per-address table */
	int closing;
	int closed;      /* close callbacks seen, of 2 */
	int reading;
	int msg_started; /* the read timer runs for the current message */
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *pend, *fly; /* answers waiting, answers being written */
	size_t pend_len, pend_cap, fly_len, fly_cap;
};

struct worker {
	struct net *net;
	int index;
	pthread_t thread;
	int started;
	uv_loop_t loop;
	int loop_ready;
	uv_async_t stop;
	uv_timer_t tick;
	struct udp_sock *udp;
	struct tcp_listener *tcp;
	struct tcp_conn *conns;
	int n_conns;
	struct dnsbl_readers *bl;
	uint64_t batches, batches_at_tick;
	uint64_t last_emfile_log;
	int reserve_fd;          /* given up to accept-and-close at EMFILE */
	uv_timer_t accept_pause; /* listening resumes when it fires */
	uv_prepare_t pause;      /* the pause before polling (udp-coalesce) */
	struct coalesce coalesce;

	struct mmsghdr rmsg[UDP_BATCH], smsg[UDP_BATCH];
	int rmsg_used;    /* headers the last recvmmsg filled in (to reset) */
	int rmsg_pktinfo; /* how the headers are set up: -1 = not yet */
	struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	union ctlbuf rctl[UDP_BATCH], sctl[UDP_BATCH];
	struct answer_pre pre[UDP_BATCH];
	uint8_t *rbuf, *sbuf, *tcp_out;

	struct stats_worker *st; /* this worker's counters: only it writes them */
	uint32_t slip_count;     /* RRL: limited responses so far, for the slips */
};

/* The number of TCP connections per client address, across workers (the
 * kernel spreads one client's connections over all of them). Touched only
 * at accept and close, so a mutex is fine. Linear probing, count 0 = empty. */
struct ipent {
	uint8_t key[17];
	uint32_t count;
};

struct net {
	const struct config *cfg;
	struct zonedb_cell *cell;
	const struct answer_opts *opts;
	int n_workers;
	size_t n_listen;
	struct worker *workers;
	int running;
	pthread_mutex_t ip_lock;
	struct ipent *iptab;
	size_t ip_mask, ip_used, ip_limit;
	struct stats *stats;
	struct rrl *rrl;    /* NULL: no rate limiting anywhere */
	uint32_t *rrl_rate; /* by stats zone slot (the last: other zones, no zone) */
};

/* Addresses. */

/* An IPv4 client seen through a dual-stack IPv6 socket as ::ffff:a.b.c.d
 * is an IPv4 client for ACLs, limits and logs. */
static const struct sockaddr *client_addr(const struct sockaddr_storage *ss,
					  struct sockaddr_in *tmp)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		memset(tmp, 0, sizeof(*tmp));
		tmp->sin_family = AF_INET;
		tmp->sin_port = in6->sin6_port;
		memcpy(&tmp->sin_addr, in6->sin6_addr.s6_addr + 12, 4);
		return (const struct sockaddr *)tmp;
	}
	return (const struct sockaddr *)ss;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
	const void *a = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
						 : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (inet_ntop(sa->sa_family, a, out, (socklen_t)cap) == NULL)
		snprintf(out, cap, "?");
}

static void addr_key(const struct sockaddr *sa, uint8_t key[17])
{
	memset(key, 0, 17);
	key[0] = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static size_t key_slot(const struct net *n, const uint8_t key[17])
{
	return name_hash(key, 17) & n->ip_mask;
}

/* Takes a connection slot for key; 0 or MX_ELIMIT. */
static int ip_acquire(struct net *n, const uint8_t key[17])
{
	int rc = MX_ELIMIT;
	pthread_mutex_lock(&n->ip_lock);
	for (size_t i = key_slot(n, key);; i = (i + 1) & n->ip_mask) {
		struct ipent *e = &n->iptab[i];
		if (e->count == 0) {
			if (n->ip_used >= n->ip_limit)
				break;
			memcpy(e->key, key, 17);
			e->count = 1;
			n->ip_used++;
			rc = 0;
			break;
		}
		if (memcmp(e->key, key, 17) == 0) {
			if (e->count < (uint32_t)n->cfg->tcp_max_per_ip) {
				e->count++;
				rc = 0;
			}
			break;
		}
	}
	pthread_mutex_unlock(&n->ip_lock);
	return rc;
}

static void ip_release(struct net *n, const uint8_t key[17])
{
	pthread_mutex_lock(&n->ip_lock);
	size_t i = key_slot(n, key);
	while (n->iptab[i].count != 0 && memcmp(n->iptab[i].key, key, 17) != 0)
		i = (i + 1) & n->ip_mask;
	if (n->iptab[i].count > 1) {
		n->iptab[i].count--;
	} else if (n->iptab[i].count == 1) {
		/* Backward-shift deletion keeps every probe chain unbroken
		 * without tombstones. */
		size_t j = i;
		n->ip_used--;
		for (;;) {
			n->iptab[i].count = 0;
			for (;;) {
				j = (j + 1) & n->ip_mask;
				if (n->iptab[j].count == 0)
					goto done;
				size_t k = key_slot(n, n->iptab[j].key);
				int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
				if (!stays)
					break;
			}
			n->iptab[i] = n->iptab[j];
			i = j;
		}
	}
done:
	pthread_mutex_unlock(&n->ip_lock);
}

/* Answering. */

static void log_query(const char *proto, const struct sockaddr *client, const uint8_t *q,
		      size_t qlen, const struct answer_ctx *ctx)
{
	char who[INET6_ADDRSTRLEN], qname[NAME_MAXLEN * 4 + 2];
	uint8_t wire[NAME_MAXLEN];
	size_t pos = 12;

	addr_text(client, who, sizeof(who));
	if (qlen <= 12 || name_unpack(q, qlen, &pos, wire) < 0 ||
	    name_to_text(wire, qname, sizeof(qname)) < 0)
		snprintf(qname, sizeof(qname), "-");
	log_info("query %s %s %s type %u class %u rcode %u%s", proto, who, qname, ctx->qtype,
		 ctx->qclass, ctx->rcode, ctx->truncated ? " TC" : "");
}

static void ctx_init(struct answer_ctx *ctx, struct worker *w, enum answer_proto proto,
		     const struct sockaddr *client, uint64_t now)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->opts = w->net->opts;
	ctx->proto = proto;
	ctx->client = client;
	ctx->now = now;
	ctx->bl = w->bl;
}

static void batch_begin(struct worker *w)
{
	w->batches++;
	if (w->bl)
		dnsbl_readers_refresh(w->bl, uv_now(&w->loop));
}

static size_t zone_slot(const struct worker *w, const struct answer_ctx *ctx)
{
	const struct zone *z = ctx->zone;
	if (z && z->stats_slot >= 0)
		return (size_t)z->stats_slot;
	return stats_zone_slot(w->net->stats, z ? z->apex : NULL, z ? z->apex_len : 0);
}

/* Counts an answer; returns its zone slot. */
static size_t count_answer(struct worker *w, const struct answer_ctx *ctx)
{
	size_t slot = zone_slot(w, ctx);
	stats_count_answer(w->net->stats, w->st, ctx->qtype, ctx->rcode, slot, ctx->dnsbl_hit);
	if (ctx->truncated)
		stats_inc(&w->st->truncated);
	return slot;
}

static uint32_t mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

/* RRL for one UDP answer: returns the length to send (0: drop). */
static size_t rate_limit(struct worker *w, const struct answer_ctx *ctx, size_t slot,
			 const struct sockaddr *client, uint8_t *out, size_t len, uint32_t now)
{
	struct net *n = w->net;
	uint32_t rate = n->rrl_rate[slot];
	struct rrl_token tok;
	const struct zone *z = ctx->zone;

	if (rate == 0)
		return len;
	(void)rrl_classify(out, len, z ? z->apex : NULL, z ? z->apex_len : 0, &tok);
	switch (rrl_check(n->rrl, client, &tok, rate, now, &w->slip_count)) {
	case RRL_PASS:
		return len;
	case RRL_SLIP:
		len = rrl_truncate(out, len);
		stats_inc(len ? &w->st->rrl_slipped : &w->st->rrl_dropped);
		return len;
	default:
		stats_inc(&w->st->rrl_dropped);
		return 0;
	}
}

/* UDP. */

/* Where the query came to, for answering from that address (a socket
 * bound to a wildcard address would otherwise pick the route's source,
 * and resolvers drop answers from an address they did not ask). */
static socklen_t pktinfo_reply(struct msghdr *rh, union ctlbuf *out)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(rh); c; c = CMSG_NXTHDR(rh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			struct cmsghdr *o = &out->align;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			/* Linux also takes a v4-mapped source here for IPv4
			 * clients of a dual-stack socket. */
			struct cmsghdr *o = &out->align;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
			return CMSG_SPACE(sizeof(struct in6_pktinfo));
		}
	}
	return 0;
}

static void udp_send(struct worker *w, struct udp_sock *u, unsigned n)
{
	unsigned off = 0;
	while (off < n) {
		int sent = sendmmsg(u->fd, w->smsg + off, n - off, 0);
		if (sent > 0) {
			off += (unsigned)sent;
			continue;
		}
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			/* The socket buffer is full: UDP may drop, and we
			 * must not spin; the client will retry. */
			stats_add(&w->st->send_failed, n - off);
			return;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		/* This one destination failed (unreachable, bad address):
		 * skip it and send the rest. */
		stats_inc(&w->st->send_failed);
		off++;
	}
}

/* Answers one recvmmsg batch; returns the datagrams read, 0 when the
 * socket is drained. */
static int udp_batch(struct worker *w, struct udp_sock *u)
{
	const struct config *cfg = w->net->cfg;
	struct sockaddr_in tmp;
	unsigned n_out = 0;

	/* The kernel writes back only the name and control lengths and the
	 * flags of the headers it fills: reset those, set up the rest once
	 * (or again when a socket with the other pktinfo setting reads). */
	int full = w->rmsg_pktinfo != u->pktinfo;
	for (int i = 0; i < (full ? UDP_BATCH : w->rmsg_used); i++) {
		struct msghdr *h = &w->rmsg[i].msg_hdr;
		if (full) {
			w->riov[i].iov_base = w->rbuf + (size_t)i * UDP_RBUF;
			w->riov[i].iov_len = UDP_RBUF;
			h->msg_name = &w->peer[i];
			h->msg_iov = &w->riov[i];
			h->msg_iovlen = 1;
			h->msg_control = u->pktinfo ? w->rctl[i].buf : NULL;
		}
		h->msg_namelen = sizeof(w->peer[i]);
		h->msg_controllen = u->pktinfo ? sizeof(w->rctl[i].buf) : 0;
		h->msg_flags = 0;
	}
	w->rmsg_pktinfo = u->pktinfo;
	int got = recvmmsg(u->fd, w->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
	w->rmsg_used = got > 0 ? got : 0;
	if (got <= 0)
		return 0;

	batch_begin(w);
	uint64_t now = (uint64_t)time(NULL);
	uint32_t mono = w->net->rrl ? mono_seconds() : 0;
	const struct zonedb *db = zonedb_cell_enter(w->net->cell, w->index);
	/* Parse the whole batch, then answer it in a pipeline that warms the
	 * cache for the queries ahead: the lookups' cache misses overlap with
	 * each other and with the answers being written (answer.h). */
	for (int i = 0; i < got; i++)
		answer_pre_parse(&w->pre[i], w->riov[i].iov_base, w->rmsg[i].msg_len, db);
	for (int t = 0, i; (i = answer_pipeline(w->pre, got, t, w->bl)) != ANSWER_PIPELINE_END; t++) {
		if (i < 0)
			continue;
		struct msghdr *rh = &w->rmsg[i].msg_hdr;
		if (rh->msg_flags & MSG_TRUNC) {
			stats_inc(&w->st->dropped);
			continue;
		}
		const uint8_t *q = w->riov[i].iov_base;
		size_t qlen = w->rmsg[i].msg_len;
		uint8_t *out = w->sbuf + (size_t)n_out * UDP_SBUF;
		struct answer_ctx ctx;
		const struct sockaddr *client = client_addr(&w->peer[i], &tmp);
		ctx_init(&ctx, w, ANSWER_UDP, client, now);
		size_t len = answer_pre_build(&w->pre[i], db, &ctx, out, UDP_SBUF);
		if (cfg->log_queries)
			log_query("udp", client, q, qlen, &ctx);
		if (len == 0) {
			stats_inc(&w->st->dropped);
			continue;
		}
		size_t slot = count_answer(w, &ctx);
		if (w->net->rrl && (len = rate_limit(w, &ctx, slot, client, out, len, mono)) == 0)
			continue;
		struct msghdr *sh = &w->smsg[n_out].msg_hdr;
		w->siov[n_out].iov_base = out;
		w->siov[n_out].iov_len = len;
		sh->msg_name = &w->peer[i];
		sh->msg_namelen = rh->msg_namelen;
		sh->msg_iov = &w->siov[n_out];
		sh->msg_iovlen = 1;
		sh->msg_flags = 0;
		sh->msg_controllen = u->pktinfo ? pktinfo_reply(rh, &w->sctl[n_out]) : 0;
		sh->msg_control = sh->msg_controllen ? w->sctl[n_out].buf : NULL;
		n_out++;
	}
	zonedb_cell_leave(w->net->cell, w->index);
	stats_add(&w->st->queries[STATS_UDP], (uint64_t)got);
	if (n_out > 0)
		udp_send(w, u, n_out);
	return got;
}

static void on_udp_readable(uv_poll_t *p, int status, int events)
{
	struct udp_sock *u = p->data;
	if (status < 0)
		return;
	/* The poll is level-triggered: stopping after a few batches lets TCP
	 * clients of this worker in, and we are called again at once. */
	int first = udp_batch(u->w, u), got = first;
	for (int round = 1; round < UDP_ROUNDS && got == UDP_BATCH; round++)
		got = udp_batch(u->w, u);
	coalesce_after_reads(&u->w->coalesce, first, got);
}

/* Runs before every poll (server/coalesce says when to pause, and why). */
static void on_pause(uv_prepare_t *h)
{
	struct worker *w = h->data;
	if (!coalesce_take(&w->coalesce))
		return;
	long us = w->net->cfg->udp_coalesce_us;
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
	stats_inc(&w->st->udp_pauses);
}

/* TCP. */

static void conn_on_close(uv_handle_t *h)
{
	struct tcp_conn *c = h->data;
	if (++c->closed < 2)
		return;
	free(c->in);
	free(c->pend);
	free(c->fly);
	free(c);
}

static void conn_close(struct tcp_conn *c)
{
	struct worker *w = c->w;
	if (c->closing)
		return;
	c->closing = 1;
	if (c->counted) {
		ip_release(w->net, c->key);
		c->counted = 0;
		w->n_conns--;
		stats_inc(&w->st->tcp_closed);
	}
	if (c->prev)
		c->prev->next = c->next;
	else if (w->conns == c)
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	uv_close((uv_handle_t *)&c->h, conn_on_close);
	uv_close((uv_handle_t *)&c->timer, conn_on_close);
}

static void conn_on_timeout(uv_timer_t *t)
{
	struct tcp_conn *c = t->data;
	stats_inc(&c->w->st->tcp_timeouts);
	log_debug("tcp: closing an %s connection", c->in_len > 0 ? "unfinished (read timeout)" : "idle");
	conn_close(c);
}

/* RFC 7766 §6.2.3: an idle timeout between messages, and (§10) a bound
 * on the time one message may take, so slow clients cannot hold
 * connections: the read timer starts with a message's first byte and is
 * not extended by further bytes. */
static void conn_arm(struct tcp_conn *c)
{
	const struct config *cfg = c->w->net->cfg;
	/* With part of a message in, only its own deadline counts: bytes
	 * dribbled in while our answers wait to be read must not keep a
	 * connection alive either. */
	if (c->in_len > 0) {
		if (!c->msg_started) {
			c->msg_started = 1;
			uv_timer_start(&c->timer, conn_on_timeout, (uint64_t)cfg->tcp_read_ms, 0);
		}
		return;
	}
	c->msg_started = 0;
	uv_timer_start(&c->timer, conn_on_timeout, (uint64_t)cfg->tcp_idle_ms, 0);
}

static void conn_on_write(uv_write_t *req, int status);
static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

static void conn_flush(struct tcp_conn *c)
{
	if (c->closing || c->fly_len > 0 || c->pend_len == 0)
		return;
	uint8_t *b = c->fly;
	size_t cap = c->fly_cap;
	c->fly = c->pend;
	c->fly_cap = c->pend_cap;
	c->fly_len = c->pend_len;
	c->pend = b;
	c->pend_cap = cap;
	c->pend_len = 0;
	uv_buf_t ub = uv_buf_init((char *)c->fly, (unsigned)c->fly_len);
	int rc = uv_write(&c->wreq, (uv_stream_t *)&c->h, &ub, 1, conn_on_write);
	if (rc < 0) {
		c->fly_len = 0;
		conn_close(c);
	}
}

static void conn_on_write(uv_write_t *req, int status)
{
	struct tcp_conn *c = req->data;
	c->fly_len = 0;
	if (status < 0 || c->closing) {
		/* The client went away mid-write (EPIPE, ECONNRESET) or we
		 * are closing (ECANCELED): nothing more to say to it. */
		conn_close(c);
		return;
	}
	conn_flush(c);
	if (!c->reading && c->pend_len + c->fly_len < TCP_OUT_HIGH) {
		if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_on_read) == 0)
			c->reading = 1;
	}
	conn_arm(c);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tcp_conn *c = h->data;
	/* The buffer always has room: conn_on_read grows it to hold the
	 * whole message whose length it has seen. */
	*buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static int grow_to(uint8_t **b, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 512;
	while (n < need)
		n *= 2;
	uint8_t *p = realloc(*b, n);
	if (p == NULL)
		return -ENOMEM;
	*b = p;
	*cap = n;
	return 0;
}

/* Answers every complete message in the input, in order (RFC 7766 §6.2.1.1
 * allows any order; answering as read keeps it simple and fair). */
static int conn_answer(struct tcp_conn *c)
{
	struct worker *w = c->w;
	struct sockaddr_in tmp;
	const struct sockaddr *client = client_addr(&c->peer, &tmp);
	const struct zonedb *db = NULL;
	size_t pos = 0;
	uint64_t now = 0, n_q = 0;
	int rc = 0;

	while (c->in_len - pos >= 2) {
		size_t mlen = (size_t)c->in[pos] << 8 | c->in[pos + 1];
		if (c->in_len - pos - 2 < mlen)
			break;
		if (db == NULL) {
			batch_begin(w);
			now = (uint64_t)time(NULL);
			db = zonedb_cell_enter(w->net->cell, w->index);
		}
		const uint8_t *q = c->in + pos + 2;
		struct answer_ctx ctx;
		ctx_init(&ctx, w, ANSWER_TCP, client, now);
		size_t len = answer_build(q, mlen, db, &ctx, w->tcp_out, TCP_MSG_MAX);
		if (w->net->cfg->log_queries)
			log_query("tcp", client, q, mlen, &ctx);
		pos += 2 + mlen;
		n_q++;
		c->msg_started = 0;
		if (len == 0) {
			stats_inc(&w->st->dropped);
			continue;
		}
		count_answer(w, &ctx);
		if (grow_to(&c->pend, &c->pend_cap, c->pend_len + 2 + len) != 0) {
			rc = -ENOMEM;
			break;
		}
		c->pend[c->pend_len] = (uint8_t)(len >> 8);
		c->pend[c->pend_len + 1] = (uint8_t)len;
		memcpy(c->pend + c->pend_len + 2, w->tcp_out, len);
		c->pend_len += 2 + len;
	}
	if (db)
		zonedb_cell_leave(w->net->cell, w->index);
	stats_add(&w->st->queries[STATS_TCP], n_q);
	if (pos > 0) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
	if (rc == 0 && c->in_len >= 2) {
		size_t need = 2 + ((size_t)c->in[0] << 8 | c->in[1]);
		rc = grow_to(&c->in, &c->in_cap, need);
	}
	return rc;
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct tcp_conn *c = s->data;
	if (nread == 0)
		return; /* EAGAIN */
	if (nread < 0) {
		/* EOF or reset: answers still queued cannot matter to a
		 * client that has gone (RFC 7766 §6.2.4 lets it close). */
		conn_close(c);
		return;
	}
	c->in_len += (size_t)nread;
	if (conn_answer(c) != 0) {
		log_warn("tcp: out of memory, closing a connection");
		conn_close(c);
		return;
	}
	conn_flush(c);
	if (c->closing)
		return;
	if (c->pend_len + c->fly_len >= TCP_OUT_HIGH && c->reading) {
		uv_read_stop(s);
		c->reading = 0;
	}
	conn_arm(c);
}

static void on_listener_readable(uv_poll_t *p, int status, int events);

static void listeners_set(struct worker *w, int on)
{
	for (size_t i = 0; i < w->net->n_listen; i++) {
		if (on)
			uv_poll_start(&w->tcp[i].poll, UV_READABLE, on_listener_readable);
		else
			uv_poll_stop(&w->tcp[i].poll);
	}
}

static void on_accept_pause(uv_timer_t *t)
{
	struct worker *w = t->data;
	/* Another thread may have taken the reserve's descriptor number when
	 * it was given up; without one, EMFILE could only pause, and clients
	 * would wait in the queue instead of being refused. */
	if (w->reserve_fd < 0)
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	listeners_set(w, 1);
}

/* Out of descriptors: take the waiting client with the reserve descriptor
 * and close it (it gets a reset now rather than a hang), and if even that
 * fails, stop accepting for a moment; UDP and open connections go on. */
static void accept_emfile(struct worker *w, int lfd, int err)
{
	uint64_t t = uv_now(&w->loop);
	if (t - w->last_emfile_log >= 1000) {
		w->last_emfile_log = t;
		log_warn("tcp: accept failed: %s", strerror(err));
	}
	stats_inc(&w->st->tcp_refused);
	if (w->reserve_fd >= 0) {
		close(w->reserve_fd);
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && w->reserve_fd >= 0)
			return;
	}
	listeners_set(w, 0);
	uv_timer_start(&w->accept_pause, on_accept_pause, 100, 0);
}

/* One accepted connection: ours, or refused by the limits. */
static void conn_start(struct worker *w, int fd, const struct sockaddr_storage *peer)
{
	const struct config *cfg = w->net->cfg;
	struct tcp_conn *c = calloc(1, sizeof(*c));
	struct sockaddr_in tmp;

	if (c == NULL) {
		close(fd);
		return;
	}
	c->w = w;
	c->h.data = c;
	c->timer.data = c;
	c->wreq.data = c;
	c->peer = *peer;
	uv_tcp_init(&w->loop, &c->h);
	uv_timer_init(&w->loop, &c->timer);
	if (uv_tcp_open(&c->h, fd) != 0) {
		close(fd);
		goto refuse;
	}
	const struct sockaddr *client = client_addr(&c->peer, &tmp);
	addr_key(client, c->key);
	if (w->n_conns >= cfg->tcp_max_conns || ip_acquire(w->net, c->key) != 0) {
		char who[INET6_ADDRSTRLEN];
		addr_text(client, who, sizeof(who));
		log_debug("tcp: refusing a connection from %s: %s", who,
			  w->n_conns >= cfg->tcp_max_conns ? "tcp-max-connections reached"
							   : "tcp-max-per-ip reached");
		stats_inc(&w->st->tcp_refused);
		goto refuse;
	}
	c->counted = 1;
	w->n_conns++;
	stats_inc(&w->st->tcp_accepted);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	if (grow_to(&c->in, &c->in_cap, TCP_IN_INIT) != 0)
		goto refuse;
	/* Answers are whole messages: send each at once (RFC 7766 §6.2.2
	 * asks not to delay them). */
	uv_tcp_nodelay(&c->h, 1);
	if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_on_read) != 0)
		goto refuse;
	c->reading = 1;
	conn_arm(c);
	return;
refuse:
	conn_close(c);
}

static void on_listener_readable(uv_poll_t *p, int status, int events)
{
	struct tcp_listener *l = p->data;
	if (status < 0)
		return;
	/* A bounded number per wakeup, so a connection flood cannot starve
	 * the UDP socket of the same loop. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_start(l->w, fd, &peer);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			accept_emfile(l->w, l->fd, errno);
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("tcp: accept failed: %s", strerror(errno));
		return;
	}
}

/* Worker lifetime. */

/* Handles live in calloc'ed memory: a NULL loop means never initialised. */
static void close_handle(uv_handle_t *h)
{
	if (h->loop != NULL && !uv_is_closing(h))
		uv_close(h, NULL);
}

static void worker_close_all(struct worker *w)
{
	while (w->conns)
		conn_close(w->conns);
	for (size_t i = 0; i < w->net->n_listen; i++) {
		close_handle((uv_handle_t *)&w->udp[i].poll);
		close_handle((uv_handle_t *)&w->tcp[i].poll);
	}
	close_handle((uv_handle_t *)&w->accept_pause);
	close_handle((uv_handle_t *)&w->pause);
	close_handle((uv_handle_t *)&w->tick);
	close_handle((uv_handle_t *)&w->stop);
}

static void on_stop(uv_async_t *a)
{
	worker_close_all(a->data);
}

/* Ends LMDB read transactions when the worker has been idle for a tick,
 * so the DNSBL writer can reuse pages (LMDB Caveats: long readers). */
static void on_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	if (w->batches == w->batches_at_tick && w->bl)
		dnsbl_readers_reset(w->bl);
	w->batches_at_tick = w->batches;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	/* The default slack (50 us) would stretch a coalescing pause. */
	if (w->net->cfg->udp_coalesce_us > 0)
		(void)prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS);
	w->bl = dnsbl_readers_new();
	uv_run(&w->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&w->loop) != 0)
		log_err("worker %d: handles left open at stop", w->index);
	w->loop_ready = 0;
	dnsbl_readers_free(w->bl);
	w->bl = NULL;
	return NULL;
}

/* Sockets. */

static int make_socket(const struct config_listen *l, int type, int v6only, int *out, char *err,
		       size_t errlen)
{
	int one = 1;
	int family = l->addr.ss_family;
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	const char *what = type == SOCK_DGRAM ? "udp" : "tcp";
	int rc;

	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
		goto fail;
	if (type == SOCK_DGRAM) {
		int size = 4 << 20;
		/* Best effort: a larger buffer absorbs bursts. */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
#if defined(IP_PMTUDISC_OMIT)
		/* Do not let forged ICMP lower the MTU and fragment our
		 * answers (fragment-based cache poisoning). */
		int omit = IP_PMTUDISC_OMIT;
		if (family == AF_INET)
			(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof(omit));
#endif
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) != 0)
		goto fail;
	*out = fd;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "cannot open %s socket on %s: %s", what, l->text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* "::" serves IPv4 too (as v4-mapped), unless the configuration also
 * listens on 0.0.0.0 at that port, which would then collide. */
static int want_v6only(const struct config *cfg, size_t idx)
{
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&cfg->listen[idx].addr;
	if (!is_wildcard(&cfg->listen[idx].addr))
		return 1;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct sockaddr_in *b = (const struct sockaddr_in *)&cfg->listen[i].addr;
		if (b->sin_family == AF_INET && is_wildcard(&cfg->listen[i].addr) &&
		    b->sin_port == a->sin6_port)
			return 1;
	}
	return 0;
}

static int set_pktinfo(int fd, int family)
{
	int one = 1;
	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
}

/* The rate of each stats zone slot: the server's, or the zone's own. */
static int rrl_setup(struct net *n, char *err, size_t errlen)
{
	const struct config *cfg = n->cfg;
	size_t slots = n->stats->n_zones + 1;
	int any = cfg->rrl_rate > 0;
	uint64_t seed = 0;

	n->rrl_rate = calloc(slots, sizeof(*n->rrl_rate));
	if (n->rrl_rate == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < slots; i++)
		n->rrl_rate[i] = cfg->rrl_rate;
	for (size_t i = 0; i < cfg->n_zones + cfg->n_dnsbls; i++) {
		const char *name = i < cfg->n_zones ? cfg->zones[i].name : cfg->dnsbls[i - cfg->n_zones].name;
		long rate = i < cfg->n_zones ? cfg->zones[i].rrl_rate
					     : cfg->dnsbls[i - cfg->n_zones].rrl_rate;
		uint8_t wire[NAME_MAXLEN];
		int len = name_from_text(name, wire);
		if (rate < 0 || len < 0)
			continue;
		name_lower(wire, wire, (size_t)len);
		size_t slot = stats_zone_slot(n->stats, wire, (size_t)len);
		if (slot < n->stats->n_zones)
			n->rrl_rate[slot] = (uint32_t)rate;
		any |= rate > 0;
	}
	if (!any)
		return 0;
	struct rrl_config rc = {
		.slip = cfg->rrl_slip,
		.v4_prefix = (uint8_t)cfg->rrl_v4_prefix,
		.v6_prefix = (uint8_t)cfg->rrl_v6_prefix,
		.window = cfg->rrl_window,
		.size = cfg->rrl_size,
	};
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	int rc2 = rrl_new(&n->rrl, &rc, seed);
	if (rc2 != 0) {
		snprintf(err, errlen, "rrl: %s", mx_strerror(rc2));
		return rc2;
	}
	log_info("rrl: %u responses/s per /%d or /%d and answer class, slip %u, window %us",
		 cfg->rrl_rate, cfg->rrl_v4_prefix, cfg->rrl_v6_prefix, cfg->rrl_slip,
		 cfg->rrl_window);
	return 0;
}

int net_new(struct net **out, const struct config *cfg, struct zonedb_cell *cell,
	    const struct answer_opts *opts, int n_workers, struct stats *stats, char *err,
	    size_t errlen)
{
	struct net *n = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (n_workers < 1 || n_workers > ZONEDB_MAX_READERS) {
		snprintf(err, errlen, "workers must be 1..%d", ZONEDB_MAX_READERS);
		return MX_EINVAL;
	}
	if (stats == NULL || stats->n_workers < n_workers) {
		snprintf(err, errlen, "no counters for %d workers", n_workers);
		return MX_EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		goto nomem;
	n->cfg = cfg;
	n->cell = cell;
	n->opts = opts;
	n->n_workers = n_workers;
	n->n_listen = cfg->n_listen;
	n->stats = stats;
	pthread_mutex_init(&n->ip_lock, NULL);
	uint64_t want = (uint64_t)n_workers * (uint64_t)cfg->tcp_max_conns;
	size_t size = 64;
	while (size < 2 * want && size < IPTAB_MAX)
		size *= 2;
	n->iptab = calloc(size, sizeof(*n->iptab));
	n->ip_mask = size - 1;
	n->ip_limit = size * 3 / 4;
	n->workers = calloc((size_t)n_workers, sizeof(*n->workers));
	if (n->iptab == NULL || n->workers == NULL)
		goto nomem;
	for (int i = 0; i < n_workers; i++) {
		struct worker *w = &n->workers[i];
		w->net = n;
		w->index = i;
		w->st = &stats->w[i];
		w->udp = calloc(n->n_listen, sizeof(*w->udp));
		w->tcp = calloc(n->n_listen, sizeof(*w->tcp));
		if (w->udp == NULL || w->tcp == NULL)
			goto nomem;
		for (size_t j = 0; j < n->n_listen; j++)
			w->udp[j].fd = w->tcp[j].fd = -1;
	}
	if ((rc = rrl_setup(n, err, errlen)) != 0) {
		if (rc == -ENOMEM)
			goto nomem;
		goto fail;
	}
	for (int i = 0; i < n_workers; i++) {
		struct worker *w = &n->workers[i];
		for (size_t j = 0; j < n->n_listen; j++) {
			const struct config_listen *l = &cfg->listen[j];
			int v6only = want_v6only(cfg, j);
			rc = make_socket(l, SOCK_DGRAM, v6only, &w->udp[j].fd, err, errlen);
			if (rc != 0)
				goto fail;
			if (is_wildcard(&l->addr)) {
				if (set_pktinfo(w->udp[j].fd, l->addr.ss_family) != 0) {
					rc = -errno;
					snprintf(err, errlen, "cannot set pktinfo on %s: %s",
						 l->text, strerror(errno));
					goto fail;
				}
				w->udp[j].pktinfo = 1;
			}
			rc = make_socket(l, SOCK_STREAM, v6only, &w->tcp[j].fd, err, errlen);
			if (rc != 0)
				goto fail;
		}
	}
	*out = n;
	return 0;
nomem:
	rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	net_free(n);
	return rc;
}

static int worker_setup(struct worker *w, char *err, size_t errlen)
{
	struct net *n = w->net;
	int rc;

	w->rmsg_pktinfo = -1;
	w->rbuf = malloc((size_t)UDP_BATCH * UDP_RBUF);
	w->sbuf = malloc((size_t)UDP_BATCH * UDP_SBUF);
	w->tcp_out = malloc(TCP_MSG_MAX);
	if (w->rbuf == NULL || w->sbuf == NULL || w->tcp_out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = uv_loop_init(&w->loop)) != 0)
		goto fail;
	w->loop_ready = 1;
	w->stop.data = w;
	w->tick.data = w;
	if ((rc = uv_async_init(&w->loop, &w->stop, on_stop)) != 0)
		goto fail;
	uv_timer_init(&w->loop, &w->tick);
	uv_timer_start(&w->tick, on_tick, 1000, 1000);
	uv_unref((uv_handle_t *)&w->tick);
	uv_timer_init(&w->loop, &w->accept_pause);
	w->accept_pause.data = w;
	coalesce_init(&w->coalesce, UDP_BATCH);
	if (n->cfg->udp_coalesce_us > 0) {
		uv_prepare_init(&w->loop, &w->pause);
		w->pause.data = w;
		uv_prepare_start(&w->pause, on_pause);
		uv_unref((uv_handle_t *)&w->pause);
	}
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (size_t j = 0; j < n->n_listen; j++) {
		struct udp_sock *u = &w->udp[j];
		struct tcp_listener *l = &w->tcp[j];
		u->w = w;
		u->poll.data = u;
		if ((rc = uv_poll_init_socket(&w->loop, &u->poll, u->fd)) != 0)
			goto fail;
		if ((rc = uv_poll_start(&u->poll, UV_READABLE, on_udp_readable)) != 0)
			goto fail;
		l->w = w;
		l->poll.data = l;
		if (listen(l->fd, TCP_BACKLOG) != 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot listen on tcp %s: %s", n->cfg->listen[j].text,
				 strerror(errno));
			return rc;
		}
		if ((rc = uv_poll_init_socket(&w->loop, &l->poll, l->fd)) != 0 ||
		    (rc = uv_poll_start(&l->poll, UV_READABLE, on_listener_readable)) != 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "worker %d: %s", w->index, uv_strerror(rc));
	return rc;
}

/* Closes whatever a worker that never ran has set up, and runs its loop
 * until the close callbacks are done. */
static void worker_abandon(struct worker *w)
{
	if (!w->loop_ready)
		return;
	worker_close_all(w);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_loop_close(&w->loop);
	w->loop_ready = 0;
}

int net_start(struct net *n, char *err, size_t errlen)
{
	int rc = 0;
	for (int i = 0; i < n->n_workers; i++) {
		rc = worker_setup(&n->workers[i], err, errlen);
		if (rc != 0)
			goto fail;
	}
	for (int i = 0; i < n->n_workers; i++) {
		struct worker *w = &n->workers[i];
		rc = -pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start worker %d: %s", i, strerror(-rc));
			goto fail;
		}
		w->started = 1;
	}
	n->running = 1;
	return 0;
fail:
	n->running = 1;
	net_stop(n);
	return rc;
}

void net_stop(struct net *n)
{
	if (n == NULL || !n->running)
		return;
	for (int i = 0; i < n->n_workers; i++) {
		struct worker *w = &n->workers[i];
		if (w->started) {
			uv_async_send(&w->stop);
			pthread_join(w->thread, NULL);
			w->started = 0;
		} else {
			worker_abandon(w);
		}
	}
	n->running = 0;
}

void net_free(struct net *n)
{
	if (n == NULL)
		return;
	net_stop(n);
	for (int i = 0; n->workers && i < n->n_workers; i++) {
		struct worker *w = &n->workers[i];
		worker_abandon(w);
		for (size_t j = 0; w->udp && j < n->n_listen; j++)
			if (w->udp[j].fd >= 0)
				close(w->udp[j].fd);
		for (size_t j = 0; w->tcp && j < n->n_listen; j++)
			if (w->tcp[j].fd >= 0)
				close(w->tcp[j].fd);
		if (w->reserve_fd > 0)
			close(w->reserve_fd);
		free(w->udp);
		free(w->tcp);
		free(w->rbuf);
		free(w->sbuf);
		free(w->tcp_out);
	}
	free(n->workers);
	free(n->iptab);
	free(n->rrl_rate);
	rrl_free(n->rrl);
	pthread_mutex_destroy(&n->ip_lock);
	free(n);
}

int net_workers(const struct net *n)
{
	return n->n_workers;
}
