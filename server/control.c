/* control: the Unix control socket of mxdnsd and its line protocol. */
#include "control.h"

#include "errcode.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_MAX_CLIENTS 16

struct control_client {
	uv_pipe_t h;
	struct control *ctl;
	struct control_client *prev, *next;
	char line[CONTROL_LINE_MAX + 1];
	size_t len;
	int overlong; /* discarding the rest of a too long line */
	int closing;
};

struct control_write {
	uv_write_t req;
	size_t len;
	char data[];
};

struct control {
	uv_pipe_t server;
	char *path;
	control_handler handler;
	void *arg;
	struct control_client *clients;
	int n_clients;
	int closing;
	int pending; /* handles not yet through their close callback */
};

static void control_maybe_free(struct control *c)
{
	if (c->closing && c->pending == 0) {
		free(c->path);
		free(c);
	}
}

static void client_on_close(uv_handle_t *h)
{
	struct control_client *cl = h->data;
	struct control *c = cl->ctl;
	free(cl);
	c->pending--;
	control_maybe_free(c);
}

static void client_close(struct control_client *cl)
{
	struct control *c = cl->ctl;
	if (cl->closing)
		return;
	cl->closing = 1;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->n_clients--;
	uv_close((uv_handle_t *)&cl->h, client_on_close);
}

static void on_written(uv_write_t *req, int status)
{
	struct control_write *w = (struct control_write *)req;
	free(w);
}

static void client_send(struct control_client *cl, const char *data, size_t len)
{
	struct control_write *w = malloc(sizeof(*w) + len);
	if (w == NULL) {
		client_close(cl);
		return;
	}
	memcpy(w->data, data, len);
	w->len = len;
	uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&cl->h, &b, 1, on_written) != 0) {
		free(w);
		client_close(cl);
	}
}

static void client_command(struct control_client *cl, const char *line)
{
	struct control *c = cl->ctl;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (out == NULL) {
		client_send(cl, "error: out of memory\n", 21);
		return;
	}
	const char *errmsg = c->handler(c->arg, line, out);
	if (errmsg) {
		/* The reply ends with exactly one line: keep the message on it. */
		fputs("error: ", out);
		for (const char *p = errmsg; *p; p++)
			fputc(*p == '\n' ? ' ' : *p, out);
		fputc('\n', out);
	} else {
		fputs("ok\n", out);
	}
	fclose(out);
	client_send(cl, buf, len);
	free(buf);
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char scratch[256];
	(void)h;
	/* Reads are copied into the client's line buffer, so one scratch
	 * buffer serves all clients of this (single-threaded) loop. */
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void client_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct control_client *cl = s->data;
	if (nread < 0) {
		client_close(cl);
		return;
	}
	for (ssize_t i = 0; i < nread && !cl->closing; i++) {
		char ch = buf->base[i];
		if (ch == '\n') {
			if (cl->overlong) {
				client_send(cl, "error: line too long\n", 21);
			} else {
				cl->line[cl->len] = '\0';
				if (cl->len > 0 && cl->line[cl->len - 1] == '\r')
					cl->line[cl->len - 1] = '\0';
				client_command(cl, cl->line);
			}
			cl->len = 0;
			cl->overlong = 0;
		} else if (cl->len < CONTROL_LINE_MAX) {
			cl->line[cl->len++] = ch;
		} else {
			cl->overlong = 1;
		}
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *c = server->data;
	struct control_client *cl;

	if (status < 0)
		return;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return;
	cl->ctl = c;
	cl->h.data = cl;
	uv_pipe_init(server->loop, &cl->h, 0);
	c->pending++;
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->n_clients++;
	if (uv_accept(server, (uv_stream_t *)&cl->h) != 0) {
		client_close(cl);
		return;
	}
	if (c->n_clients > CONTROL_MAX_CLIENTS) {
		client_send(cl, "error: too many control connections\n", 36);
		client_close(cl);
		return;
	}
	if (uv_read_start((uv_stream_t *)&cl->h, client_alloc, client_on_read) != 0)
		client_close(cl);
}

static void server_on_close(uv_handle_t *h)
{
	struct control *c = h->data;
	c->pending--;
	control_maybe_free(c);
}

/* A socket file nobody listens on is left over from a crash: replace it.
 * One a daemon answers on belongs to that daemon. */
static int stale_socket(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	unlink(path);
	return 0;
}

int control_new(struct control **out, uv_loop_t *loop, const char *path, int mode,
		control_handler handler, void *arg, char *err, size_t errlen)
{
	struct control *c = NULL;
	int rc;

	*out = NULL;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is too long", path);
		return MX_EINVAL;
	}
	rc = stale_socket(path);
	if (rc != 0) {
		snprintf(err, errlen, "control socket %s: %s", path,
			 rc == -EADDRINUSE ? "another daemon is listening on it"
			 : rc == -EEXIST	  ? "exists and is not a socket"
					  : strerror(-rc));
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->handler = handler;
	c->arg = arg;
	c->server.data = c;
	uv_pipe_init(loop, &c->server, 0);
	c->pending = 1;
	/* The mode is set by the umask at bind time, so that the socket is
	 * never reachable with wider permissions than configured. */
	mode_t old = umask((mode_t)(~mode & 0777));
	rc = uv_pipe_bind(&c->server, path);
	umask(old);
	if (rc == 0 && chmod(path, (mode_t)mode) != 0)
		rc = -errno;
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&c->server, 16, on_connection);
	if (rc != 0) {
		snprintf(err, errlen, "control socket %s: %s", path, uv_strerror(rc));
		c->closing = 1;
		uv_close((uv_handle_t *)&c->server, server_on_close);
		return rc;
	}
	*out = c;
	return 0;
}

void control_close(struct control *c)
{
	if (c == NULL || c->closing)
		return;
	c->closing = 1;
	while (c->clients)
		client_close(c->clients);
	unlink(c->path);
	uv_close((uv_handle_t *)&c->server, server_on_close);
}
