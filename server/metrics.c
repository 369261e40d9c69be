/* metrics: the HTTP side of the Prometheus endpoint (metrics.h). */
#include "metrics.h"

#include "config.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX_CLIENTS 16
#define METRICS_HEAD_MAX 2048  /* a scraper's request head is a few hundred bytes */
#define METRICS_TIMEOUT_MS 5000

struct metrics_client {
	uv_tcp_t h;
	uv_timer_t timer;
	struct metrics *m;
	struct metrics_client *prev, *next;
	char head[METRICS_HEAD_MAX];
	size_t len;
	int closing, closed; /* close callbacks seen, of 2 */
	int answered;
};

struct metrics_write {
	uv_write_t req;
	struct metrics_client *cl;
	char *data;
};

struct metrics {
	uv_tcp_t server;
	metrics_render render;
	void *arg;
	struct metrics_client *clients;
	int n_clients;
	int closing;
	int pending;
};

static void maybe_free(struct metrics *m)
{
	if (m->closing && m->pending == 0)
		free(m);
}

static void client_on_close(uv_handle_t *h)
{
	struct metrics_client *cl = h->data;
	struct metrics *m = cl->m;
	if (++cl->closed < 2)
		return;
	free(cl);
	m->pending--;
	maybe_free(m);
}

static void client_close(struct metrics_client *cl)
{
	struct metrics *m = cl->m;
	if (cl->closing)
		return;
	cl->closing = 1;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		m->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	m->n_clients--;
	uv_close((uv_handle_t *)&cl->h, client_on_close);
	uv_close((uv_handle_t *)&cl->timer, client_on_close);
}

int metrics_route(const char *req, size_t len)
{
	const char *sp, *end = req + len;
	if (len >= 4 && memcmp(req, "GET ", 4) == 0) {
		const char *path = req + 4;
		for (sp = path; sp < end && *sp != ' ' && *sp != '\r' && *sp != '\n'; sp++)
			;
		size_t plen = (size_t)(sp - path);
		if ((plen == 8 && memcmp(path, "/metrics", 8) == 0) ||
		    (plen > 8 && memcmp(path, "/metrics?", 9) == 0))
			return 200;
		return plen > 0 && path[0] == '/' ? 404 : 400;
	}
	for (sp = req; sp < end && *sp >= 'A' && *sp <= 'Z'; sp++)
		;
	return sp > req && sp < end && *sp == ' ' ? 405 : 400;
}

static void on_written(uv_write_t *req, int status)
{
	struct metrics_write *w = (struct metrics_write *)req;
	(void)status;
	/* HTTP/1.0 without keep-alive: the close ends the body. */
	client_close(w->cl);
	free(w->data);
	free(w);
}

static void answer(struct metrics_client *cl)
{
	struct metrics *m = cl->m;
	char *body = NULL, *all = NULL;
	size_t blen = 0, alen = 0;
	int code = metrics_route(cl->head, cl->len);
	const char *reason = code == 200 ? "OK" : code == 404 ? "Not Found" : code == 405 ? "Method Not Allowed" : "Bad Request";
	FILE *f;
	struct metrics_write *w = NULL;

	cl->answered = 1;
	uv_read_stop((uv_stream_t *)&cl->h);
	f = open_memstream(&body, &blen);
	if (f == NULL)
		goto fail;
	if (code == 200)
		m->render(m->arg, f);
	else
		fprintf(f, "%d %s: only GET /metrics is served here\n", code, reason);
	if (fclose(f) != 0)
		goto fail;
	f = open_memstream(&all, &alen);
	if (f == NULL)
		goto fail;
	fprintf(f,
		"HTTP/1.0 %d %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n",
		code, reason, blen);
	fwrite(body, 1, blen, f);
	if (fclose(f) != 0)
		goto fail;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto fail;
	w->cl = cl;
	w->data = all;
	uv_buf_t b = uv_buf_init(all, (unsigned)alen);
	if (uv_write(&w->req, (uv_stream_t *)&cl->h, &b, 1, on_written) != 0)
		goto fail;
	free(body);
	return;
fail:
	free(w);
	free(all);
	free(body);
	client_close(cl);
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct metrics_client *cl = h->data;
	(void)suggested;
	*buf = uv_buf_init(cl->head + cl->len, (unsigned)(sizeof(cl->head) - cl->len));
}

static void client_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct metrics_client *cl = s->data;
	(void)buf;
	if (nread < 0) {
		client_close(cl);
		return;
	}
	if (cl->answered)
		return;
	cl->len += (size_t)nread;
	/* The head ends with an empty line; a scraper sends no body. */
	int done = 0;
	for (size_t i = 0; i + 1 < cl->len && !done; i++)
		done = (cl->head[i] == '\n' && cl->head[i + 1] == '\n') ||
		       (i + 3 < cl->len && memcmp(cl->head + i, "\r\n\r\n", 4) == 0);
	if (done || cl->len == sizeof(cl->head))
		answer(cl);
}

static void client_on_timeout(uv_timer_t *t)
{
	client_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct metrics *m = server->data;
	struct metrics_client *cl;

	if (status < 0)
		return;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return;
	cl->m = m;
	cl->h.data = cl;
	cl->timer.data = cl;
	uv_tcp_init(server->loop, &cl->h);
	uv_timer_init(server->loop, &cl->timer);
	m->pending++;
	cl->next = m->clients;
	if (m->clients)
		m->clients->prev = cl;
	m->clients = cl;
	m->n_clients++;
	if (uv_accept(server, (uv_stream_t *)&cl->h) != 0 || m->n_clients > METRICS_MAX_CLIENTS ||
	    uv_read_start((uv_stream_t *)&cl->h, client_alloc, client_on_read) != 0) {
		client_close(cl);
		return;
	}
	uv_timer_start(&cl->timer, client_on_timeout, METRICS_TIMEOUT_MS, 0);
}

static void server_on_close(uv_handle_t *h)
{
	struct metrics *m = h->data;
	m->pending--;
	maybe_free(m);
}

int metrics_new(struct metrics **out, uv_loop_t *loop, const struct config_listen *addr,
		metrics_render render, void *arg, char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->render = render;
	m->arg = arg;
	m->server.data = m;
	uv_tcp_init(loop, &m->server);
	m->pending = 1;
	rc = uv_tcp_bind(&m->server, (const struct sockaddr *)&addr->addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&m->server, 16, on_connection);
	if (rc != 0) {
		snprintf(err, errlen, "metrics-listen %s: %s", addr->text, uv_strerror(rc));
		m->closing = 1;
		uv_close((uv_handle_t *)&m->server, server_on_close);
		return rc;
	}
	*out = m;
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (m == NULL || m->closing)
		return;
	m->closing = 1;
	while (m->clients)
		client_close(m->clients);
	uv_close((uv_handle_t *)&m->server, server_on_close);
}
