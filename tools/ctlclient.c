/* ctlclient: one request on mxdnsd's control socket. */
#include "ctlclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int reply_add(struct ctlclient_reply *r, const char *line)
{
	if (strcmp(line, "ok") == 0) {
		r->done = 1;
		return 0;
	}
	if (strncmp(line, "error: ", 7) == 0) {
		r->done = 1;
		r->error = strdup(line + 7);
		return r->error ? 0 : -ENOMEM;
	}
	char **v = realloc(r->lines, (r->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	r->lines = v;
	if ((v[r->n] = strdup(line)) == NULL)
		return -ENOMEM;
	r->n++;
	return 0;
}

void ctlclient_reply_cleanup(struct ctlclient_reply *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

int ctlclient_request(const char *path, const char *line, struct ctlclient_reply *r, char *err,
		      size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv = {CTLCLIENT_TIMEOUT_S, 0};
	char buf[4096], acc[8192], *msg = NULL;
	size_t acc_len = 0, len = strlen(line);
	int fd = -1, rc = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = -errno;
		snprintf(err, errlen,
			 "cannot reach mxdnsd at %s: %s (is it running with this control socket?)",
			 path, strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((msg = malloc(len + 2)) == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(msg, line, len);
	msg[len] = '\n';
	ssize_t w = send(fd, msg, len + 1, MSG_NOSIGNAL);
	if (w != (ssize_t)(len + 1)) {
		rc = w < 0 ? -errno : -EIO;
		snprintf(err, errlen, "cannot send to %s: %s", path, strerror(-rc));
		goto out;
	}
	while (!r->done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			rc = n < 0 ? -errno : -ECONNRESET;
			snprintf(err, errlen, "%s: %s before the reply ended", path,
				 n < 0 ? strerror(errno) : "the daemon closed the connection");
			goto out;
		}
		for (ssize_t i = 0; i < n && !r->done; i++) {
			if (buf[i] != '\n') {
				if (acc_len < sizeof(acc) - 1)
					acc[acc_len++] = buf[i];
				continue;
			}
			acc[acc_len] = '\0';
			acc_len = 0;
			if ((rc = reply_add(r, acc)) != 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		}
	}
out:
	free(msg);
	if (fd >= 0)
		close(fd);
	return rc;
}
