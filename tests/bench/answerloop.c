/* answerloop: the answer path alone, in one process, without a socket.
 *
 * Loads the zones of a bench data set (zones.txt: "origin file" per line),
 * turns its dnsperf query file into wire queries with EDNS (as dnsperf -e
 * sends them), and answers them in batches as a worker answers one
 * recvmmsg batch: answer_pre_parse each, then either some number of
 * answer_prefetch steps over the whole batch followed by answer_pre_build
 * each, or the daemon's answer_pipeline ("pipe"). Prints nanoseconds per
 * answer for each order given, the orders alternating round by round so
 * that they share the machine's noise. This is the user time per answer
 * that bench.py reads from /proc, without the kernel's share, which on
 * loopback is ten times larger and swings between rounds by more than a
 * change to the answer path could move it.
 *
 *   build/answerloop [-b BATCH] [-r ROUNDS] [-s SECONDS] [-p ORDER,...] [-n N] DIR
 *
 * ORDER is a step count or "pipe". Defaults: a batch of 48 (what mxdnsd
 * reads per wakeup on the 1M zone), 7 rounds of 1 s, the orders 0,
 * ANSWER_PREFETCH_STEPS and pipe, every query of the file. -n uses only
 * the first N (at least a batch): with a few hundred, everything they
 * read stays in the cache, which is the floor prefetching can reach. */
#include "answer.h"
#include "name.h"
#include "zone.h"
#include "zonedb.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ZONES 64
#define MAX_STEP_SETS 8
#define QMAX 300

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A query for "name TYPE" with an OPT RR of 1232 bytes; its length, or 0
 * when the line is not one. q has room for QMAX bytes. */
static size_t make_query(const char *line, uint8_t *q, uint16_t id)
{
	char name[1024], type[16];
	if (sscanf(line, "%1023s %15s", name, type) != 2)
		return 0;
	ldns_rr_type code = ldns_get_rr_type_by_name(type);
	static const uint8_t hdr[12] = {0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 1};
	int nlen = name_from_text(name, q + sizeof(hdr));
	if (code == 0 || nlen < 0)
		return 0;
	memcpy(q, hdr, sizeof(hdr));
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	size_t n = sizeof(hdr) + (size_t)nlen;
	static const uint8_t tail[] = {0, 1, /* class IN */ 0, 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0};
	q[n++] = (uint8_t)(code >> 8);
	q[n++] = (uint8_t)code;
	memcpy(q + n, tail, sizeof(tail));
	return n + sizeof(tail);
}

/* The queries back to back, as a stream the hardware prefetcher follows
 * (the daemon's come from the kernel, not from a cold array). */
struct queries {
	uint8_t *wire;
	size_t *off; /* of each query in wire; off[n] is the end */
	size_t n;
};

static int queries_read(struct queries *qs, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	uint8_t q[QMAX];
	size_t cap = 0, bytes_cap = 0, end = 0;
	if (!f) {
		fprintf(stderr, "answerloop: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = make_query(line, q, (uint16_t)qs->n);
		if (len == 0) {
			fprintf(stderr, "answerloop: %s:%zu: not \"name TYPE\"\n", path, qs->n + 1);
			goto fail;
		}
		if (qs->n + 1 >= cap) {
			cap = cap ? 2 * cap : 4096;
			size_t *o = realloc(qs->off, cap * sizeof(*o));
			if (!o)
				goto fail;
			qs->off = o;
		}
		if (end + len > bytes_cap) {
			bytes_cap = bytes_cap ? 2 * bytes_cap : 65536;
			uint8_t *w = realloc(qs->wire, bytes_cap);
			if (!w)
				goto fail;
			qs->wire = w;
		}
		memcpy(qs->wire + end, q, len);
		qs->off[qs->n++] = end;
		end += len;
		qs->off[qs->n] = end;
	}
	fclose(f);
	return qs->n ? 0 : -1;
fail:
	fclose(f);
	return -1;
}

static struct zonedb *zones_load(const char *path, struct zone **zs, size_t *n)
{
	FILE *f = fopen(path, "r");
	char origin[256], file[4096], err[512];
	if (!f) {
		fprintf(stderr, "answerloop: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while (*n < MAX_ZONES && fscanf(f, "%255s %4095s", origin, file) == 2) {
		if (!(zs[*n] = zone_load(origin, file, err, sizeof(err)))) {
			fprintf(stderr, "answerloop: %s\n", err);
			fclose(f);
			return NULL;
		}
		(*n)++;
	}
	fclose(f);
	return *n ? zonedb_from_zones(zs, *n) : NULL;
}

#define PIPELINE (-1) /* a "step count" that means answer_pipeline's order */

static size_t build(struct answer_pre *pre, int i, const struct zonedb *db, uint8_t *out)
{
	struct answer_ctx ctx = {.proto = ANSWER_UDP};
	return answer_pre_build(&pre[i], db, &ctx, out + (size_t)i * 1232, 1232);
}

/* Answers the queries in batches for about `seconds`, giving the
 * prefetch `steps` steps over the whole batch before its answers, or in
 * the daemon's pipeline (PIPELINE); returns nanoseconds per answer. Each batch is
 * first copied into one receive buffer, as recvmmsg leaves it, so that
 * reading the queries costs what it costs in the daemon (the copy is the
 * kernel's work there, and is timed here: a streaming read, small). */
static double run(const struct queries *qs, const struct zonedb *db, int batch, int steps,
		  double seconds, uint8_t *rbuf, uint8_t *out, struct answer_pre *pre,
		  size_t *bytes)
{
	size_t answered = 0, at = 0;
	double t0 = now(), t = t0;
	while (t - t0 < seconds) {
		for (int rep = 0; rep < 64; rep++) {
			int n = batch;
			if (at + (size_t)n > qs->n)
				at = 0;
			for (int i = 0; i < n; i++) {
				uint8_t *q = rbuf + (size_t)i * QMAX;
				size_t o = qs->off[at + (size_t)i], len = qs->off[at + (size_t)i + 1] - o;
				memcpy(q, qs->wire + o, len);
				answer_pre_parse(&pre[i], q, len, db);
			}
			if (steps == PIPELINE) {
				for (int k = 0, i; (i = answer_pipeline(pre, n, k, NULL)) !=
						   ANSWER_PIPELINE_END;
				     k++)
					if (i >= 0)
						*bytes += build(pre, i, db, out);
			} else {
				for (int s = 0; s < steps; s++)
					for (int i = 0; i < n; i++)
						answer_prefetch(&pre[i], NULL);
				for (int i = 0; i < n; i++)
					*bytes += build(pre, i, db, out);
			}
			at += (size_t)n;
			answered += (size_t)n;
		}
		t = now();
	}
	return (t - t0) * 1e9 / (double)answered;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int batch = 48, rounds = 7, n_sets = 0, c;
	int sets[MAX_STEP_SETS];
	double seconds = 1;
	char *spec = NULL;
	size_t limit = 0;
	while ((c = getopt(argc, argv, "b:r:s:p:n:")) != -1) {
		switch (c) {
		case 'n': limit = (size_t)atol(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'p': spec = optarg; break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || batch < 1 || batch > 1024 || rounds < 1 || rounds > 100 ||
	    seconds <= 0)
		goto usage;
	for (char *tok = spec ? strtok(spec, ",") : NULL; tok && n_sets < MAX_STEP_SETS;
	     tok = strtok(NULL, ","))
		sets[n_sets++] = strcmp(tok, "pipe") == 0 ? PIPELINE : atoi(tok);
	if (!spec) {
		sets[n_sets++] = 0;
		sets[n_sets++] = ANSWER_PREFETCH_STEPS;
		sets[n_sets++] = PIPELINE;
	}

	char path[4096];
	struct zone *zs[MAX_ZONES];
	size_t n_zones = 0;
	struct queries qs = {0};
	snprintf(path, sizeof(path), "%s/zones.txt", argv[optind]);
	double t = now();
	struct zonedb *db = zones_load(path, zs, &n_zones);
	if (!db)
		return 1;
	fprintf(stderr, "answerloop: %zu zone(s) loaded in %.2f s\n", n_zones, now() - t);
	snprintf(path, sizeof(path), "%s/queries.txt", argv[optind]);
	if (queries_read(&qs, path) != 0)
		return 1;
	if (limit >= (size_t)batch && limit < qs.n)
		qs.n = limit;

	uint8_t *rbuf = malloc((size_t)batch * QMAX);
	uint8_t *out = malloc((size_t)batch * 1232);
	struct answer_pre *pre = malloc((size_t)batch * sizeof(*pre));
	double *ns = malloc((size_t)n_sets * (size_t)rounds * sizeof(*ns));
	size_t bytes = 0;
	if (!rbuf || !out || !pre || !ns)
		return 1;
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < n_sets; k++) {
			int s = (r & 1) ? n_sets - 1 - k : k; /* ABBA: neither goes first */
			ns[s * rounds + r] = run(&qs, db, batch, sets[s], seconds, rbuf, out, pre, &bytes);
		}
	printf("%zu queries, batch %d, %d rounds of %.1f s (%zu bytes answered)\n", qs.n, batch,
	       rounds, seconds, bytes);
	printf("order           ns/answer (median)  min     max     vs first\n");
	double first = 0;
	for (int s = 0; s < n_sets; s++) {
		double *v = ns + s * rounds;
		qsort(v, (size_t)rounds, sizeof(*v), cmp_double);
		double med = v[rounds / 2];
		if (s == 0)
			first = med;
		char label[16];
		snprintf(label, sizeof(label), sets[s] == PIPELINE ? "pipeline" : "%d", sets[s]);
		printf("%-15s %-19.1f %-7.1f %-7.1f %.3f\n", label, med, v[0], v[rounds - 1],
		       med / first);
	}
	free(ns);
	free(pre);
	free(out);
	free(rbuf);
	free(qs.wire);
	free(qs.off);
	zonedb_free(db);
	for (size_t i = 0; i < n_zones; i++)
		zone_unref(zs[i]);
	return 0;
usage:
	fprintf(stderr, "usage: answerloop [-b BATCH] [-r ROUNDS] [-s SECONDS] [-p ORDER,...] [-n N] DIR\n");
	return 2;
}
