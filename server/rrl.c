/* rrl: the response rate limiting table and the classification of
 * responses into buckets (see rrl.h for the model). */
#include "rrl.h"

#include "errcode.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SET_WAYS 4

struct rrl {
	_Atomic uint64_t *buckets;
	size_t set_mask; /* number of sets - 1 */
	uint64_t seed;
	uint32_t slip;
	uint32_t window;
	uint8_t v4_prefix, v6_prefix;
};

int rrl_new(struct rrl **out, const struct rrl_config *cfg, uint64_t seed)
{
	struct rrl *r = NULL;
	size_t sets = 1;

	*out = NULL;
	if (cfg->v4_prefix > 32 || cfg->v6_prefix > 128 || cfg->window < 1 || cfg->size < 1)
		return MX_EINVAL;
	while (sets * SET_WAYS < cfg->size && sets < ((size_t)1 << 28))
		sets <<= 1;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto nomem;
	/* calloc: an all-zero word is an empty bucket (tags are never 0). */
	r->buckets = calloc(sets * SET_WAYS, sizeof(*r->buckets));
	if (r->buckets == NULL)
		goto nomem;
	r->set_mask = sets - 1;
	r->seed = seed;
	r->slip = cfg->slip;
	r->window = cfg->window;
	r->v4_prefix = cfg->v4_prefix;
	r->v6_prefix = cfg->v6_prefix;
	*out = r;
	return 0;
nomem:
	free(r);
	return -ENOMEM;
}

void rrl_free(struct rrl *r)
{
	if (r == NULL)
		return;
	free(r->buckets);
	free(r);
}

/* Reads an RR header at *pos, leaves *pos after its rdata, returns its
 * type or -1. owner (may be NULL) gets the owner name. */
static int skip_rr(const uint8_t *p, size_t len, size_t *pos, uint8_t *owner, int *owner_len)
{
	uint8_t tmp[NAME_MAXLEN];
	int n = name_unpack(p, len, pos, owner ? owner : tmp);
	if (n < 0 || len - *pos < 10)
		return -1;
	int type = p[*pos] << 8 | p[*pos + 1];
	size_t rdlen = (size_t)p[*pos + 8] << 8 | p[*pos + 9];
	*pos += 10;
	if (len - *pos < rdlen)
		return -1;
	*pos += rdlen;
	if (owner_len)
		*owner_len = n;
	return type;
}

int rrl_classify(const uint8_t *resp, size_t len, const uint8_t *apex, size_t apex_len,
		 struct rrl_token *out)
{
	size_t pos = 12;
	uint8_t qname[NAME_MAXLEN];
	int qlen;

	memset(out, 0, offsetof(struct rrl_token, name));
	out->cls = RRL_ERROR;
	if (len < 12)
		return MX_ESYNTAX;
	unsigned rcode = resp[3] & 0x0f;
	unsigned qd = (unsigned)resp[4] << 8 | resp[5];
	unsigned an = (unsigned)resp[6] << 8 | resp[7];
	unsigned ns = (unsigned)resp[8] << 8 | resp[9];
	int aa = (resp[2] & 0x04) != 0;

	/* Errors share one bucket per network whatever the name: a
	 * flood of random names must not get a bucket per name. */
	if ((rcode != 0 && rcode != 3) || qd != 1)
		return 0;
	if ((qlen = name_unpack(resp, len, &pos, qname)) < 0 || len - pos < 4)
		return MX_ESYNTAX;
	uint16_t qtype = (uint16_t)(resp[pos] << 8 | resp[pos + 1]);
	pos += 4;
	if (rcode == 3 || (an == 0 && aa) || (an == 0 && ns == 0)) {
		/* NXDOMAIN and NODATA by zone (RFC 2308 answers carry the
		 * zone's SOA): random names below one zone share a bucket. */
		out->cls = rcode == 3 ? RRL_NXDOMAIN : RRL_NODATA;
		if (apex && apex_len <= NAME_MAXLEN) {
			memcpy(out->name, apex, apex_len);
			out->name_len = (uint8_t)apex_len;
		}
		return 0;
	}
	if (an == 0) {
		/* A referral: the NS RRset's owner is the delegation. */
		int olen = 0;
		if (skip_rr(resp, len, &pos, out->name, &olen) < 0)
			return MX_ESYNTAX;
		out->cls = RRL_REFERRAL;
		name_lower(out->name, out->name, (size_t)olen);
		out->name_len = (uint8_t)olen;
		return 0;
	}
	out->cls = RRL_POSITIVE;
	out->qtype = qtype;
	name_lower(out->name, qname, (size_t)qlen);
	out->name_len = (uint8_t)qlen;
	return 0;
}

static uint64_t mix(uint64_t h)
{
	/* splitmix64's finalizer: every input bit reaches every output bit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* The client's network: the address with the host bits cleared. */
static size_t client_net(const struct rrl *r, const struct sockaddr *sa, uint8_t out[17])
{
	const uint8_t *a;
	unsigned bytes, prefix;

	memset(out, 0, 17);
	if (sa == NULL)
		return 1;
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		bytes = 4;
		prefix = r->v4_prefix;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		bytes = 16;
		prefix = r->v6_prefix;
	} else {
		return 1;
	}
	out[0] = (uint8_t)sa->sa_family;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;
		out[1 + i] = a[i] & (uint8_t)(0xff00u >> keep);
	}
	return 1 + bytes;
}

#define W_TAG(w) ((uint16_t)((w) >> 48))
#define W_SEC(w) ((uint16_t)((w) >> 32))
#define W_BAL(w) ((int32_t)(uint32_t)(w))

enum rrl_verdict rrl_check(struct rrl *r, const struct sockaddr *client,
			   const struct rrl_token *token, uint32_t rate, uint32_t now,
			   uint32_t *slip_count)
{
	uint8_t net[17], hdr[3];
	size_t nlen = client_net(r, client, net);
	uint64_t h = hash_bytes(r->seed ^ 0xcbf29ce484222325ULL, net, nlen);

	hdr[0] = (uint8_t)token->cls;
	hdr[1] = (uint8_t)(token->qtype >> 8);
	hdr[2] = (uint8_t)token->qtype;
	h = hash_bytes(h, hdr, sizeof(hdr));
	h = mix(hash_bytes(h, token->name, token->name_len));

	uint16_t tag = (uint16_t)(h >> 48);
	if (tag == 0)
		tag = 1;
	uint16_t sec = (uint16_t)now;
	_Atomic uint64_t *set = r->buckets + (h & r->set_mask) * SET_WAYS;
	if (rate > INT32_MAX / 2)
		rate = INT32_MAX / 2;
	int64_t floor = -(int64_t)rate * (int64_t)(r->window - 1);
	if (floor < INT32_MIN / 2)
		floor = INT32_MIN / 2;

	/* The bucket with our tag, else the empty or least recently used
	 * one of the set (ours from now on). */
	_Atomic uint64_t *slot = NULL, *victim = set;
	unsigned oldest = 0;
	for (int i = 0; i < SET_WAYS; i++) {
		uint64_t w = atomic_load_explicit(&set[i], memory_order_relaxed);
		if (w != 0 && W_TAG(w) == tag) {
			slot = &set[i];
			break;
		}
		unsigned age = w == 0 ? 0x10000u : (uint16_t)(sec - W_SEC(w));
		if (age > oldest) {
			oldest = age;
			victim = &set[i];
		}
	}
	if (slot == NULL)
		slot = victim;

	uint64_t old = atomic_load_explicit(slot, memory_order_relaxed), next;
	int64_t bal;
	int pass;
	do {
		if (old != 0 && W_TAG(old) == tag) {
			bal = W_BAL(old);
			uint16_t age = (uint16_t)(sec - W_SEC(old));
			/* Credit for the seconds gone by; at most one
			 * second's worth is saved up (the burst). */
			bal += (int64_t)age * rate;
			if (bal > (int64_t)rate)
				bal = rate;
		} else {
			bal = rate; /* a new bucket starts full */
		}
		pass = bal > 0;
		/* A passed response costs a token; with a window over one
		 * second a limited one does too, down to the floor, so a
		 * source that keeps flooding stays limited (BIND's model). */
		bal -= 1;
		if (bal < floor)
			bal = pass ? bal : floor;
		if (bal < INT32_MIN / 2)
			bal = INT32_MIN / 2;
		next = (uint64_t)tag << 48 | (uint64_t)sec << 32 | (uint32_t)(int32_t)bal;
	} while (!atomic_compare_exchange_weak_explicit(slot, &old, next, memory_order_relaxed,
						       memory_order_relaxed));
	if (pass)
		return RRL_PASS;
	if (r->slip > 0 && ++*slip_count % r->slip == 0)
		return RRL_SLIP;
	return RRL_DROP;
}

size_t rrl_truncate(uint8_t *resp, size_t len)
{
	size_t pos = 12;
	uint8_t tmp[NAME_MAXLEN];

	if (len < 12)
		return 0;
	unsigned qd = (unsigned)resp[4] << 8 | resp[5];
	if (qd > 1)
		return 0;
	if (qd == 1) {
		if (name_unpack(resp, len, &pos, tmp) < 0 || len - pos < 4)
			return 0;
		pos += 4;
	}
	resp[2] |= 0x02; /* TC */
	memset(resp + 6, 0, 6);
	return pos;
}
