/* closedloop: a client that keeps WINDOW queries in flight on one UDP
 * socket and sends the next only when an answer comes back, for SECONDS;
 * prints the answers per second. dnsperf cannot do this below a window of
 * about 20 (it then paces itself), and it is the client for which a
 * server's pause before reading (udp-coalesce) could only add latency.
 *
 *   cc -O2 -o closedloop tests/bench/closedloop.c
 *   taskset -c 0 ./closedloop 127.0.0.1 PORT WINDOW SECONDS QNAME
 *
 * The question is QNAME A, class IN, no EDNS. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The query for qname A IN with a zero ID; returns its length, 0 if the
 * name does not fit. */
static size_t make_query(const char *qname, unsigned char *q, size_t cap)
{
	static const unsigned char hdr[12] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t n = sizeof(hdr);
	memcpy(q, hdr, n);
	for (const char *p = qname; *p;) {
		size_t l = strcspn(p, ".");
		if (l == 0 || l > 63 || n + 1 + l + 5 >= cap)
			return 0;
		q[n++] = (unsigned char)l;
		memcpy(q + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (n + 5 > cap)
		return 0;
	memcpy(q + n, "\0\0\1\0\1", 5);
	return n + 5;
}

int main(int argc, char **argv)
{
	unsigned char q[300], buf[4096];
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timeval tv = {2, 0};
	long answers = 0;
	unsigned id = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: closedloop ADDR PORT WINDOW SECONDS QNAME\n");
		return 2;
	}
	int window = atoi(argv[3]);
	double seconds = atof(argv[4]);
	size_t qlen = make_query(argv[5], q, sizeof(q));
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || window < 1 || seconds <= 0 ||
	    seconds > 600 || qlen == 0) {
		fprintf(stderr, "closedloop: bad arguments\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		perror("closedloop");
		return 1;
	}
	for (int i = 0; i < window; i++, id++) {
		q[0] = (unsigned char)(id >> 8);
		q[1] = (unsigned char)id;
		send(fd, q, qlen, 0);
	}
	double t0 = now(), end = t0 + seconds;
	while (now() < end) {
		if (recv(fd, buf, sizeof(buf), 0) <= 0) {
			fprintf(stderr, "closedloop: no answer for 2 s (a query lost?)\n");
			return 1;
		}
		answers++;
		q[0] = (unsigned char)(id >> 8);
		q[1] = (unsigned char)id++;
		send(fd, q, qlen, 0);
	}
	printf("%.0f\n", (double)answers / (now() - t0));
	return 0;
}
