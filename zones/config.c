/* config: reads mxdnsd.conf (NSD-like sections of `key: value` lines) and
 * the command-line forms into struct config, with one error line naming
 * FILE:LINE and the key for anything wrong. Every value is checked here so
 * that the daemon and the tool never see a half-valid configuration. */
#include "config.h"

#include "errcode.h"
#include "log.h"
#include "name.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WORKERS 256 /* ZONEDB_MAX_READERS: one hazard slot per worker */
#define MAX_LINE 4096

void config_init(struct config *cfg)
{
	char host[256];

	memset(cfg, 0, sizeof(*cfg));
	cfg->udp_size = CONFIG_DEFAULT_UDP_SIZE;
	cfg->version = strdup("mxdnsd " MXDNS_VERSION);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	cfg->identity = strdup(host);
	cfg->control_mode = 0660;
	cfg->log_target = LOG_TO_STDERR;
	cfg->log_level = LOG_INFO;
	/* RFC 7766 §6.2.3 leaves the numbers to the operator; these follow
	 * NSD and Knot: enough for every resolver, too few to exhaust fds. */
	cfg->tcp_max_conns = 1000;
	cfg->tcp_max_per_ip = 32;
	cfg->tcp_idle_ms = 10000;
	cfg->tcp_read_ms = 5000;
	/* Within what a NIC's interrupt coalescing adds (ethtool rx-usecs);
	 * PERFORMANCE.md has the measurements behind it. */
	cfg->udp_coalesce_us = 30;
	/* RRL off; the rest are BIND's and NSD's defaults. */
	cfg->rrl_slip = 2;
	cfg->rrl_v4_prefix = 24;
	cfg->rrl_v6_prefix = 56;
	cfg->rrl_window = 1;
	cfg->rrl_size = 1000000;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void dnsbl_cleanup(struct config_dnsbl *d)
{
	free(d->name);
	free(d->db);
	strv_free(d->lists, d->n_lists);
	free(d->soa_mname);
	free(d->soa_rname);
	strv_free(d->ns, d->n_ns);
	free(d->acl);
}

void config_cleanup(struct config *cfg)
{
	free(cfg->path);
	for (size_t i = 0; i < cfg->n_listen; i++)
		free(cfg->listen[i].text);
	free(cfg->listen);
	free(cfg->version);
	free(cfg->identity);
	free(cfg->control);
	free(cfg->user);
	free(cfg->group);
	free(cfg->chroot_dir);
	free(cfg->pidfile);
	if (cfg->metrics) {
		free(cfg->metrics->text);
		free(cfg->metrics);
	}
	for (size_t i = 0; i < cfg->n_zones; i++) {
		free(cfg->zones[i].name);
		free(cfg->zones[i].file);
	}
	free(cfg->zones);
	for (size_t i = 0; i < cfg->n_dnsbls; i++)
		dnsbl_cleanup(&cfg->dnsbls[i]);
	free(cfg->dnsbls);
	memset(cfg, 0, sizeof(*cfg));
}

/* Grows *v (of *n elements of size sz) by one zeroed element. */
static void *grow(void *vp, size_t *n, size_t sz)
{
	void **v = vp;
	char *p = realloc(*v, (*n + 1) * sz);
	if (p == NULL)
		return NULL;
	memset(p + *n * sz, 0, sz);
	*v = p;
	return p + (*n)++ * sz;
}

static int strv_add(char ***v, size_t *n, const char *s)
{
	char *copy = strdup(s);
	char **slot = copy ? grow(v, n, sizeof(char *)) : NULL;
	if (slot == NULL) {
		free(copy);
		return -ENOMEM;
	}
	*slot = copy;
	return 0;
}

static int parse_addr(const char *text, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return MX_ESYNTAX;
}

static int parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	if (*text < '0' || *text > '9')
		return MX_ESYNTAX;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return MX_ESYNTAX;
	*out = v;
	return 0;
}

int config_add_listen(struct config *cfg, const char *spec, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 2];
	unsigned long port = CONFIG_DEFAULT_PORT;
	struct config_listen *l;
	const char *at = strchr(spec, '@');
	size_t alen = at ? (size_t)(at - spec) : strlen(spec);

	if (alen >= sizeof(addr))
		goto bad;
	memcpy(addr, spec, alen);
	addr[alen] = '\0';
	if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
		memmove(addr, addr + 1, alen - 2);
		addr[alen - 2] = '\0';
	}
	if (at && parse_uint(at + 1, 1, 65535, &port) != 0) {
		snprintf(err, errlen, "bad port in '%s' (want ADDR@PORT, PORT 1..65535)", spec);
		return MX_EINVAL;
	}
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (parse_addr(addr, (uint16_t)port, &ss, &sslen) != 0)
		goto bad;
	char *text = strdup(spec);
	l = text ? grow(&cfg->listen, &cfg->n_listen, sizeof(*l)) : NULL;
	if (l == NULL) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->addr = ss;
	l->addr_len = sslen;
	l->text = text;
	return 0;
bad:
	snprintf(err, errlen, "bad address '%s' (want an IPv4 or IPv6 address, optionally @PORT)",
		 spec);
	return MX_EINVAL;
}

int config_parse_net(const char *text, struct config_net *net)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long prefix;

	if (alen >= sizeof(addr))
		return MX_ESYNTAX;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, addr, net->addr) == 1)
		net->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, net->addr) == 1)
		net->family = AF_INET6;
	else
		return MX_ESYNTAX;
	unsigned long max = net->family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash && parse_uint(slash + 1, 0, max, &prefix) != 0)
		return MX_ESYNTAX;
	net->prefix = (uint8_t)prefix;
	/* Host bits are cleared so that matching is a plain prefix compare. */
	for (unsigned i = 0; i < max / 8; i++) {
		unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;
		net->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	return 0;
}

static int check_name(const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	return name_from_text(name, wire) < 0 ? MX_ESYNTAX : 0;
}

/* Same zone twice (as zone or dnsbl) would make the longest match ambiguous. */
static int zone_declared(const struct config *cfg, const char *name)
{
	uint8_t a[NAME_MAXLEN], b[NAME_MAXLEN];
	int alen = name_from_text(name, a);
	if (alen < 0)
		return 0;
	name_lower(a, a, (size_t)alen);
	for (size_t i = 0; i < cfg->n_zones + cfg->n_dnsbls; i++) {
		const char *other = i < cfg->n_zones ? cfg->zones[i].name
						     : cfg->dnsbls[i - cfg->n_zones].name;
		int blen = other ? name_from_text(other, b) : -1;
		if (blen < 0 || blen != alen)
			continue;
		name_lower(b, b, (size_t)blen);
		if (memcmp(a, b, (size_t)alen) == 0)
			return 1;
	}
	return 0;
}

int config_add_zone(struct config *cfg, const char *spec, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	struct config_zone *z;
	char *name = NULL, *file = NULL;

	if (colon == NULL || colon == spec || colon[1] == '\0') {
		snprintf(err, errlen, "bad zone '%s' (want NAME:FILE)", spec);
		return MX_EINVAL;
	}
	name = strndup(spec, (size_t)(colon - spec));
	file = strdup(colon + 1);
	if (name == NULL || file == NULL)
		goto nomem;
	if (check_name(name) != 0) {
		snprintf(err, errlen, "bad zone name '%s'", name);
		free(name);
		free(file);
		return MX_EINVAL;
	}
	if (zone_declared(cfg, name)) {
		snprintf(err, errlen, "zone '%s' given twice", name);
		free(name);
		free(file);
		return MX_EINVAL;
	}
	z = grow(&cfg->zones, &cfg->n_zones, sizeof(*z));
	if (z == NULL)
		goto nomem;
	z->name = name;
	z->file = file;
	z->rrl_rate = -1;
	return 0;
nomem:
	free(name);
	free(file);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static int add_lists(struct config_dnsbl *d, const char *value)
{
	const char *p = value;
	if (*p == '\0')
		return MX_ESYNTAX;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *e = p + n;
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return MX_ESYNTAX;
		char *one = strndup(p, n);
		if (one == NULL)
			return -ENOMEM;
		int rc = strv_add(&d->lists, &d->n_lists, one);
		free(one);
		if (rc != 0)
			return rc;
		p = *e ? e + 1 : e;
		if (*e && *p == '\0')
			return MX_ESYNTAX; /* trailing comma */
	}
	return 0;
}

/* Fills what a DNSBL section left out, as config.h documents. */
static int dnsbl_defaults(struct config_dnsbl *d)
{
	char buf[NAME_MAXLEN * 4 + 16];
	const char *zone = d->name;
	size_t zl = strlen(zone);
	const char *dot = zl > 0 && zone[zl - 1] == '.' ? "" : ".";

	if (d->n_lists == 0 && strv_add(&d->lists, &d->n_lists, zone) != 0)
		return -ENOMEM;
	if (d->soa_mname == NULL) {
		snprintf(buf, sizeof(buf), "ns.%s%s", zone, dot);
		if ((d->soa_mname = strdup(buf)) == NULL)
			return -ENOMEM;
	}
	if (d->soa_rname == NULL) {
		snprintf(buf, sizeof(buf), "hostmaster.%s%s", zone, dot);
		if ((d->soa_rname = strdup(buf)) == NULL)
			return -ENOMEM;
	}
	if (d->n_ns == 0 && strv_add(&d->ns, &d->n_ns, d->soa_mname) != 0)
		return -ENOMEM;
	return 0;
}

static void dnsbl_init(struct config_dnsbl *d)
{
	d->ttl = 2100; /* rbldnsd's default */
	d->neg_ttl = 300;
	d->rrl_rate = -1;
}

int config_add_dnsbl(struct config *cfg, const char *spec, char *err, size_t errlen)
{
	struct config_dnsbl d;
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	int rc = MX_EINVAL;

	memset(&d, 0, sizeof(d));
	dnsbl_init(&d);
	if (c1 == NULL || c1 == spec || c1[1] == '\0' || c1[1] == ':') {
		snprintf(err, errlen, "bad dnsbl '%s' (want ZONE:DBPATH[:LIST,...])", spec);
		goto fail;
	}
	d.name = strndup(spec, (size_t)(c1 - spec));
	d.db = c2 ? strndup(c1 + 1, (size_t)(c2 - c1 - 1)) : strdup(c1 + 1);
	if (d.name == NULL || d.db == NULL)
		goto nomem;
	if (check_name(d.name) != 0) {
		snprintf(err, errlen, "bad dnsbl zone name '%s'", d.name);
		goto fail;
	}
	if (zone_declared(cfg, d.name)) {
		snprintf(err, errlen, "zone '%s' given twice", d.name);
		goto fail;
	}
	if (c2) {
		rc = add_lists(&d, c2 + 1);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc != 0) {
			snprintf(err, errlen, "bad list names in '%s' (want LIST,LIST...)", spec);
			rc = MX_EINVAL;
			goto fail;
		}
	}
	if (dnsbl_defaults(&d) != 0)
		goto nomem;
	struct config_dnsbl *slot = grow(&cfg->dnsbls, &cfg->n_dnsbls, sizeof(d));
	if (slot == NULL)
		goto nomem;
	*slot = d;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
fail:
	dnsbl_cleanup(&d);
	return rc;
}

/* The file parser. */

enum section { SEC_NONE, SEC_SERVER, SEC_ZONE, SEC_DNSBL };

struct parser {
	struct config *cfg;
	const char *file;
	char *dir; /* of the file, for relative paths; ends in '/' */
	int line;
	enum section sec;
	int sec_line;
	const char *key;
	char *err;
	size_t errlen;
	/* keys seen in the current section (server keys across all server
	 * sections), for duplicate detection */
	unsigned long long seen_server;
	unsigned long long seen_sec;
	struct config_zone zone;   /* being read */
	struct config_dnsbl dnsbl; /* being read */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (p->key)
		n = snprintf(p->err, p->errlen, "%s:%d: key '%s': ", p->file, p->line, p->key);
	else
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return MX_ESYNTAX;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return MX_ESYNTAX;
}

static char *resolve_path(const struct parser *p, const char *value)
{
	if (value[0] == '/' || p->dir == NULL)
		return strdup(value);
	size_t dl = strlen(p->dir), vl = strlen(value);
	char *out = malloc(dl + vl + 1);
	if (out) {
		memcpy(out, p->dir, dl);
		memcpy(out + dl, value, vl + 1);
	}
	return out;
}

static int yesno(struct parser *p, const char *value, int *out)
{
	if (strcmp(value, "yes") == 0)
		*out = 1;
	else if (strcmp(value, "no") == 0)
		*out = 0;
	else
		return fail(p, "'%s' is not yes or no", value);
	return 0;
}

static int set_str(struct parser *p, char **slot, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return fail(p, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_path(struct parser *p, char **slot, const char *value)
{
	if (*value == '\0')
		return fail(p, "empty path");
	char *copy = resolve_path(p, value);
	if (copy == NULL)
		return fail(p, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_int(struct parser *p, int *slot, const char *value, unsigned long min,
		   unsigned long max, const char *unit)
{
	unsigned long v;
	if (parse_uint(value, min, max, &v) != 0)
		return fail(p, "'%s' is not a number from %lu to %lu%s", value, min, max, unit);
	*slot = (int)v;
	return 0;
}

static int set_u32(struct parser *p, uint32_t *slot, const char *value)
{
	unsigned long v;
	/* RFC 2181 §8: TTLs are 31-bit. */
	if (parse_uint(value, 0, 2147483647UL, &v) != 0)
		return fail(p, "'%s' is not a TTL from 0 to 2147483647 seconds", value);
	*slot = (uint32_t)v;
	return 0;
}

static int set_name(struct parser *p, char **slot, const char *value)
{
	if (check_name(value) != 0)
		return fail(p, "'%s' is not a valid domain name", value);
	return set_str(p, slot, value);
}

#define KEY(sec, name, repeatable) {sec, name, repeatable}
static const struct keydef {
	enum section sec;
	const char *name;
	int repeatable;
} keys[] = {
	KEY(SEC_SERVER, "listen", 1),
	KEY(SEC_SERVER, "workers", 0),
	KEY(SEC_SERVER, "udp-size", 0),
	KEY(SEC_SERVER, "udp-coalesce", 0),
	KEY(SEC_SERVER, "version", 0),
	KEY(SEC_SERVER, "hide-version", 0),
	KEY(SEC_SERVER, "identity", 0),
	KEY(SEC_SERVER, "hide-identity", 0),
	KEY(SEC_SERVER, "control", 0),
	KEY(SEC_SERVER, "control-mode", 0),
	KEY(SEC_SERVER, "log", 0),
	KEY(SEC_SERVER, "log-level", 0),
	KEY(SEC_SERVER, "log-queries", 0),
	KEY(SEC_SERVER, "tcp-max-connections", 0),
	KEY(SEC_SERVER, "tcp-max-per-ip", 0),
	KEY(SEC_SERVER, "tcp-idle-timeout", 0),
	KEY(SEC_SERVER, "tcp-read-timeout", 0),
	KEY(SEC_SERVER, "user", 0),
	KEY(SEC_SERVER, "group", 0),
	KEY(SEC_SERVER, "chroot", 0),
	KEY(SEC_SERVER, "pidfile", 0),
	KEY(SEC_SERVER, "run-as-root", 0),
	KEY(SEC_SERVER, "rrl-responses-per-second", 0),
	KEY(SEC_SERVER, "rrl-slip", 0),
	KEY(SEC_SERVER, "rrl-ipv4-prefix", 0),
	KEY(SEC_SERVER, "rrl-ipv6-prefix", 0),
	KEY(SEC_SERVER, "rrl-window", 0),
	KEY(SEC_SERVER, "rrl-size", 0),
	KEY(SEC_SERVER, "metrics-listen", 0),
	KEY(SEC_ZONE, "name", 0),
	KEY(SEC_ZONE, "file", 0),
	KEY(SEC_ZONE, "rrl-responses-per-second", 0),
	KEY(SEC_DNSBL, "name", 0),
	KEY(SEC_DNSBL, "db", 0),
	KEY(SEC_DNSBL, "list", 1),
	KEY(SEC_DNSBL, "ttl", 0),
	KEY(SEC_DNSBL, "negative-ttl", 0),
	KEY(SEC_DNSBL, "mname", 0),
	KEY(SEC_DNSBL, "rname", 0),
	KEY(SEC_DNSBL, "ns", 1),
	KEY(SEC_DNSBL, "allow", 1),
	KEY(SEC_DNSBL, "refuse", 1),
	KEY(SEC_DNSBL, "deny-code", 1),
	KEY(SEC_DNSBL, "quota-code", 1),
	KEY(SEC_DNSBL, "rrl-responses-per-second", 0),
};

static const char *section_name(enum section s)
{
	return s == SEC_SERVER ? "server" : s == SEC_ZONE ? "zone" : s == SEC_DNSBL ? "dnsbl" : "";
}

static int rrl_key(struct parser *p, const char *k, const char *v)
{
	struct config *cfg = p->cfg;
	int n = 0, rc;

	if (strcmp(k, "responses-per-second") == 0)
		rc = set_int(p, &n, v, 0, 1000000, " (0: off)");
	else if (strcmp(k, "slip") == 0)
		rc = set_int(p, &n, v, 0, 100, " (0: never, 1: always, N: every Nth)");
	else if (strcmp(k, "ipv4-prefix") == 0)
		return set_int(p, &cfg->rrl_v4_prefix, v, 0, 32, " bits");
	else if (strcmp(k, "ipv6-prefix") == 0)
		return set_int(p, &cfg->rrl_v6_prefix, v, 0, 128, " bits");
	else if (strcmp(k, "window") == 0)
		rc = set_int(p, &n, v, 1, 3600, " seconds");
	else if (strcmp(k, "size") == 0)
		rc = set_int(p, &n, v, 1024, 100000000, " buckets");
	else
		return fail(p, "unknown key");
	if (rc != 0)
		return rc;
	if (k[0] == 'r')
		cfg->rrl_rate = (uint32_t)n;
	else if (k[0] == 's' && k[1] == 'l')
		cfg->rrl_slip = (uint32_t)n;
	else if (k[0] == 'w')
		cfg->rrl_window = (uint32_t)n;
	else
		cfg->rrl_size = (uint32_t)n;
	return 0;
}

static int zone_rrl(struct parser *p, long *slot, const char *v)
{
	int n = 0;
	if (set_int(p, &n, v, 0, 1000000, " (0: not limited in this zone)") != 0)
		return MX_ESYNTAX;
	*slot = n;
	return 0;
}

static int server_key(struct parser *p, const char *k, const char *v)
{
	struct config *cfg = p->cfg;
	char msg[256];

	if (strcmp(k, "listen") == 0) {
		if (config_add_listen(cfg, v, msg, sizeof(msg)) != 0)
			return fail(p, "%s", msg);
		return 0;
	}
	if (strcmp(k, "workers") == 0)
		return set_int(p, &cfg->workers, v, 0, MAX_WORKERS, " (0: one per CPU)");
	if (strcmp(k, "udp-size") == 0) {
		int n = 0;
		/* RFC 6891 §6.2.5: below 512 is treated as 512; above 4096
		 * invites fragmentation (DNS flag day 2020 recommends 1232). */
		if (set_int(p, &n, v, 512, 4096, " bytes") != 0)
			return MX_ESYNTAX;
		cfg->udp_size = (uint16_t)n;
		return 0;
	}
	if (strcmp(k, "udp-coalesce") == 0)
		return set_int(p, &cfg->udp_coalesce_us, v, 0, 1000, " microseconds (0: off)");
	if (strcmp(k, "version") == 0)
		return set_str(p, &cfg->version, v);
	if (strcmp(k, "hide-version") == 0)
		return yesno(p, v, &cfg->hide_version);
	if (strcmp(k, "identity") == 0)
		return set_str(p, &cfg->identity, v);
	if (strcmp(k, "hide-identity") == 0)
		return yesno(p, v, &cfg->hide_identity);
	if (strcmp(k, "control") == 0)
		return set_path(p, &cfg->control, v);
	if (strcmp(k, "control-mode") == 0) {
		char *end;
		long mode = strtol(v, &end, 8);
		if (*v == '\0' || *end != '\0' || mode < 0 || mode > 0777)
			return fail(p, "'%s' is not an octal file mode (e.g. 0660)", v);
		cfg->control_mode = (int)mode;
		return 0;
	}
	if (strcmp(k, "log") == 0) {
		if (strcmp(v, "stderr") == 0)
			cfg->log_target = LOG_TO_STDERR;
		else if (strcmp(v, "syslog") == 0)
			cfg->log_target = LOG_TO_SYSLOG;
		else
			return fail(p, "'%s' is not stderr or syslog", v);
		return 0;
	}
	if (strcmp(k, "log-level") == 0) {
		int level = config_log_level(v);
		if (level < 0)
			return fail(p, "'%s' is not error, warning, info or debug", v);
		cfg->log_level = level;
		return 0;
	}
	if (strcmp(k, "log-queries") == 0)
		return yesno(p, v, &cfg->log_queries);
	if (strcmp(k, "tcp-max-connections") == 0)
		return set_int(p, &cfg->tcp_max_conns, v, 1, 1000000, " (per worker)");
	if (strcmp(k, "tcp-max-per-ip") == 0)
		return set_int(p, &cfg->tcp_max_per_ip, v, 1, 1000000, "");
	if (strcmp(k, "tcp-idle-timeout") == 0)
		return set_int(p, &cfg->tcp_idle_ms, v, 10, 86400000, " milliseconds");
	if (strcmp(k, "tcp-read-timeout") == 0)
		return set_int(p, &cfg->tcp_read_ms, v, 10, 86400000, " milliseconds");
	if (strcmp(k, "user") == 0)
		return set_str(p, &cfg->user, v);
	if (strcmp(k, "group") == 0)
		return set_str(p, &cfg->group, v);
	if (strcmp(k, "chroot") == 0)
		return set_path(p, &cfg->chroot_dir, v);
	if (strcmp(k, "pidfile") == 0)
		return set_path(p, &cfg->pidfile, v);
	if (strcmp(k, "run-as-root") == 0)
		return yesno(p, v, &cfg->run_as_root);
	if (strncmp(k, "rrl-", 4) == 0)
		return rrl_key(p, k + 4, v);
	if (strcmp(k, "metrics-listen") == 0) {
		struct config tmp;
		memset(&tmp, 0, sizeof(tmp));
		if (config_add_listen(&tmp, v, msg, sizeof(msg)) != 0)
			return fail(p, "%s", msg);
		cfg->metrics = tmp.listen;
		return 0;
	}
	return fail(p, "unknown key");
}

static int acl_key(struct parser *p, enum config_acl_action action, const char *v)
{
	struct config_acl *a = grow(&p->dnsbl.acl, &p->dnsbl.n_acl, sizeof(*a));
	if (a == NULL)
		return fail(p, "out of memory");
	a->action = action;
	if (config_parse_net(v, &a->net) != 0)
		return fail(p, "'%s' is not a network (want ADDR or ADDR/PREFIX)", v);
	return 0;
}

static int dnsbl_key(struct parser *p, const char *k, const char *v)
{
	struct config_dnsbl *d = &p->dnsbl;

	if (strcmp(k, "name") == 0)
		return set_name(p, &d->name, v);
	if (strcmp(k, "db") == 0)
		return set_path(p, &d->db, v);
	if (strcmp(k, "list") == 0) {
		int rc = add_lists(d, v);
		if (rc != 0)
			return fail(p, "'%s' is not a list of names (want LIST or LIST,LIST...)", v);
		return 0;
	}
	if (strcmp(k, "ttl") == 0)
		return set_u32(p, &d->ttl, v);
	if (strcmp(k, "negative-ttl") == 0)
		return set_u32(p, &d->neg_ttl, v);
	if (strcmp(k, "mname") == 0)
		return set_name(p, &d->soa_mname, v);
	if (strcmp(k, "rname") == 0)
		return set_name(p, &d->soa_rname, v);
	if (strcmp(k, "ns") == 0) {
		if (check_name(v) != 0)
			return fail(p, "'%s' is not a valid domain name", v);
		if (strv_add(&d->ns, &d->n_ns, v) != 0)
			return fail(p, "out of memory");
		return 0;
	}
	if (strcmp(k, "allow") == 0)
		return acl_key(p, ACL_ALLOW, v);
	if (strcmp(k, "refuse") == 0)
		return acl_key(p, ACL_REFUSE, v);
	if (strcmp(k, "deny-code") == 0)
		return acl_key(p, ACL_DENY_CODE, v);
	if (strcmp(k, "quota-code") == 0)
		return acl_key(p, ACL_QUOTA_CODE, v);
	if (strcmp(k, "rrl-responses-per-second") == 0)
		return zone_rrl(p, &d->rrl_rate, v);
	return fail(p, "unknown key");
}

/* Closes the section being read: checks required keys, stores it. */
static int end_section(struct parser *p)
{
	int saved = p->line;
	int rc = 0;

	p->line = p->sec_line;
	if (p->sec == SEC_ZONE) {
		struct config_zone *z;
		p->key = p->zone.name == NULL ? "name" : p->zone.file == NULL ? "file" : NULL;
		if (p->key) {
			rc = fail(p, "missing in this zone section");
			goto out;
		}
		p->key = "name";
		if (zone_declared(p->cfg, p->zone.name)) {
			rc = fail(p, "zone '%s' is declared twice", p->zone.name);
			goto out;
		}
		z = grow(&p->cfg->zones, &p->cfg->n_zones, sizeof(*z));
		if (z == NULL) {
			rc = fail(p, "out of memory");
			goto out;
		}
		p->zone.line = p->sec_line;
		*z = p->zone;
		memset(&p->zone, 0, sizeof(p->zone));
	} else if (p->sec == SEC_DNSBL) {
		struct config_dnsbl *d;
		p->key = p->dnsbl.name == NULL ? "name" : p->dnsbl.db == NULL ? "db" : NULL;
		if (p->key) {
			rc = fail(p, "missing in this dnsbl section");
			goto out;
		}
		p->key = "name";
		if (zone_declared(p->cfg, p->dnsbl.name)) {
			rc = fail(p, "zone '%s' is declared twice", p->dnsbl.name);
			goto out;
		}
		if (dnsbl_defaults(&p->dnsbl) != 0 ||
		    (d = grow(&p->cfg->dnsbls, &p->cfg->n_dnsbls, sizeof(*d))) == NULL) {
			rc = fail(p, "out of memory");
			goto out;
		}
		p->dnsbl.line = p->sec_line;
		*d = p->dnsbl;
		memset(&p->dnsbl, 0, sizeof(p->dnsbl));
	}
out:
	p->key = NULL;
	p->line = saved;
	p->sec = SEC_NONE;
	return rc;
}

/* Splits one line into key and value in place. Returns 1 for a key line,
 * 0 for a blank one, or an error. *indented tells a section header from a
 * key. */
static int split_line(struct parser *p, char *s, char **key, char **value, int *indented)
{
	char *q, *out;

	*indented = (*s == ' ' || *s == '\t');
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#' || *s == '\r' || *s == '\n')
		return 0;
	*key = s;
	while (*s && *s != ':' && *s != ' ' && *s != '\t' && *s != '#' && *s != '\r' && *s != '\n')
		s++;
	if (*s != ':') {
		char save = *s;
		*s = '\0';
		p->key = *key;
		int rc = fail(p, "expected 'key: value'");
		*s = save;
		return rc;
	}
	*s++ = '\0';
	p->key = *key;
	while (*s == ' ' || *s == '\t')
		s++;
	*value = out = s;
	if (*s == '"') {
		for (q = s + 1; *q && *q != '"'; q++) {
			if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
				q++;
			*out++ = *q;
		}
		if (*q != '"')
			return fail(p, "unterminated quoted value");
		q++;
		*out = '\0';
		while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			q++;
		if (*q != '\0' && *q != '#')
			return fail(p, "text after the closing quote");
		return 1;
	}
	for (q = s; *q && *q != '#' && *q != '\r' && *q != '\n'; q++)
		;
	while (q > s && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	*q = '\0';
	return 1;
}

static int parse_line(struct parser *p, char *s)
{
	char *key = NULL, *value = NULL;
	int indented = 0;
	int rc = split_line(p, s, &key, &value, &indented);

	if (rc <= 0)
		return rc;
	if (!indented && *value == '\0' &&
	    (strcmp(key, "server") == 0 || strcmp(key, "zone") == 0 || strcmp(key, "dnsbl") == 0)) {
		p->key = NULL;
		if ((rc = end_section(p)) != 0)
			return rc;
		p->sec = key[0] == 's' ? SEC_SERVER : key[0] == 'z' ? SEC_ZONE : SEC_DNSBL;
		p->sec_line = p->line;
		p->seen_sec = 0;
		if (p->sec == SEC_DNSBL)
			dnsbl_init(&p->dnsbl);
		p->zone.rrl_rate = -1;
		return 0;
	}
	if (p->sec == SEC_NONE)
		return fail(p, "outside of a server:, zone: or dnsbl: section");
	size_t i;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].sec == p->sec && strcmp(keys[i].name, key) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return fail(p, "unknown key in a %s: section", section_name(p->sec));
	unsigned long long bit = 1ULL << i;
	unsigned long long *seen = p->sec == SEC_SERVER ? &p->seen_server : &p->seen_sec;
	if (!keys[i].repeatable && (*seen & bit))
		return fail(p, "given twice");
	*seen |= bit;
	if (*value == '\0')
		return fail(p, "missing value");
	switch (p->sec) {
	case SEC_SERVER:
		return server_key(p, key, value);
	case SEC_ZONE:
		if (strcmp(key, "name") == 0)
			return set_name(p, &p->zone.name, value);
		if (strcmp(key, "rrl-responses-per-second") == 0)
			return zone_rrl(p, &p->zone.rrl_rate, value);
		return set_path(p, &p->zone.file, value);
	default:
		return dnsbl_key(p, key, value);
	}
}

int config_log_level(const char *text)
{
	if (strcmp(text, "error") == 0)
		return LOG_ERR;
	if (strcmp(text, "warning") == 0)
		return LOG_WARNING;
	if (strcmp(text, "info") == 0)
		return LOG_INFO;
	if (strcmp(text, "debug") == 0)
		return LOG_DEBUG;
	return -1;
}

int config_parse_file(struct config *cfg, const char *file, char *err, size_t errlen)
{
	struct parser p;
	char line[MAX_LINE + 2];
	FILE *f = NULL;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = file;
	p.err = err;
	p.errlen = errlen;
	f = fopen(file, "r");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
		goto out;
	}
	/* Relative paths in the file are relative to the file itself, as in
	 * NSD, so a configuration can be moved along with its zones. */
	const char *slash = strrchr(file, '/');
	char cwd[PATH_MAX];
	if (slash) {
		if (file[0] == '/')
			p.dir = strndup(file, (size_t)(slash - file) + 1);
		else if (getcwd(cwd, sizeof(cwd)) != NULL &&
			 asprintf(&p.dir, "%s/%.*s", cwd, (int)(slash - file) + 1, file) < 0)
			p.dir = NULL;
	} else if (getcwd(cwd, sizeof(cwd)) != NULL && asprintf(&p.dir, "%s/", cwd) < 0) {
		p.dir = NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		p.line++;
		p.key = NULL;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = fail(&p, "line longer than %d bytes", MAX_LINE);
			goto out;
		}
		if ((rc = parse_line(&p, line)) != 0)
			goto out;
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", file);
		goto out;
	}
	p.key = NULL;
	if ((rc = end_section(&p)) != 0)
		goto out;
	free(cfg->path);
	cfg->path = strdup(file);
	if (cfg->hide_version) {
		free(cfg->version);
		cfg->version = NULL;
	}
	if (cfg->hide_identity) {
		free(cfg->identity);
		cfg->identity = NULL;
	}
out:
	free(p.zone.name);
	free(p.zone.file);
	dnsbl_cleanup(&p.dnsbl);
	free(p.dir);
	if (f)
		fclose(f);
	return rc;
}
