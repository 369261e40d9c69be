/* zerowork: the limit line for the UDP benchmarks.
 *
 * A UDP responder that does no DNS work at all: it reads a batch of
 * datagrams with recvmmsg, sets the QR bit of each (RFC 1035 §4.1.1) and
 * sends the same bytes back with sendmmsg. Whatever a real server does per
 * query costs on top of this, so "answers per CPU-second" here is what the
 * kernel's loopback UDP path alone allows on this machine.
 *
 * Usage: zerowork ADDR PORT [THREADS]
 * Each thread has its own SO_REUSEPORT socket, as mxdnsd's workers do.
 * Stops on SIGTERM/SIGINT (the default action). Not part of the build:
 * tests/bench/run.sh compiles it with cc. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define BUFSZ 4096

static struct sockaddr_in bind_addr;

static int open_socket(void)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&bind_addr, sizeof(bind_addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static __thread struct mmsghdr msg[BATCH];
	static __thread struct iovec iov[BATCH];
	static __thread struct sockaddr_in peer[BATCH];
	static __thread unsigned char buf[BATCH][BUFSZ];

	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = BUFSZ;
			memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
			msg[i].msg_hdr.msg_name = &peer[i];
			msg[i].msg_hdr.msg_namelen = sizeof(peer[i]);
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		int got = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return NULL;
		}
		int n = 0;
		for (int i = 0; i < got; i++) {
			if (msg[i].msg_len < 12 || (buf[i][2] & 0x80))
				continue;
			buf[i][2] |= 0x80;
			iov[i].iov_len = msg[i].msg_len;
			if (n != i) {
				msg[n] = msg[i];
			}
			n++;
		}
		int off = 0;
		while (off < n) {
			int sent = sendmmsg(fd, msg + off, (unsigned)(n - off), 0);
			if (sent < 0) {
				if (errno == EINTR)
					continue;
				break; /* full buffer or bad peer: UDP may drop */
			}
			off += sent;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: zerowork ADDR PORT [THREADS]\n");
		return 2;
	}
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	if (threads < 1 || threads > 64)
		threads = 1;
	bind_addr.sin_family = AF_INET;
	bind_addr.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &bind_addr.sin_addr) != 1) {
		fprintf(stderr, "zerowork: bad address %s\n", argv[1]);
		return 2;
	}
	pthread_t tid[64];
	for (int i = 0; i < threads; i++) {
		int fd = open_socket();
		if (fd < 0) {
			perror("zerowork: socket/bind");
			return 1;
		}
		if (i == threads - 1) {
			serve((void *)(intptr_t)fd);
			return 1;
		}
		if (pthread_create(&tid[i], NULL, serve, (void *)(intptr_t)fd) != 0)
			return 1;
	}
	return 0;
}
