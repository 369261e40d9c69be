/* config: the daemon's configuration, as read from mxdnsd.conf or built
 * from command-line options. Shared by mxdnsd and mxdns (which reads the
 * same file to find databases and the control socket).
 *
 * The file format is NSD-like: top-level sections `server:`, `zone:` and
 * `dnsbl:` each followed by indented `key: value` lines; `#` starts a
 * comment; values may be double-quoted. docs/mxdnsd.conf.5 is the reference. */
#ifndef MXDNS_CONFIG_H
#define MXDNS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONFIG_DEFAULT_PORT 5300
#define CONFIG_DEFAULT_UDP_SIZE 1232

struct config_listen {
	struct sockaddr_storage addr; /* address and port */
	socklen_t addr_len;
	char *text; /* as written, e.g. "127.0.0.1@5300" */
};

/* A network with a prefix length, for DNSBL query ACLs. */
struct config_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

enum config_acl_action {
	ACL_ALLOW = 0,   /* answer normally */
	ACL_REFUSE,      /* REFUSED */
	ACL_DENY_CODE,   /* answer 127.255.255.254 (RFC 5782 practice for refused queriers) */
	ACL_QUOTA_CODE,  /* answer 127.255.255.255 (over quota) */
};

struct config_acl {
	struct config_net net;
	enum config_acl_action action;
};

struct config_zone {
	char *name; /* presentation form, no trailing dot needed */
	char *file; /* master file */
	int line;   /* where it was declared, for messages */
	long rrl_rate; /* rrl-responses-per-second for this zone; -1 = the server's */
};

struct config_dnsbl {
	char *name;      /* zone name, e.g. "bl.example.org" */
	char *db;        /* LMDB path (a directory-less file; MDB_NOSUBDIR) */
	char **lists;    /* list names served; default: one list named like the zone */
	size_t n_lists;
	uint32_t ttl;    /* TTL of positive answers (default 2100, as rbldnsd) */
	uint32_t neg_ttl; /* SOA minimum / negative TTL (default 300) */
	char *soa_mname; /* default: ns.<zone> */
	char *soa_rname; /* default: hostmaster.<zone> */
	char **ns;       /* NS names for the apex; default: the SOA mname */
	size_t n_ns;
	struct config_acl *acl; /* first match wins; no match = allow */
	size_t n_acl;
	int line;
	long rrl_rate; /* rrl-responses-per-second for this zone; -1 = the server's */
};

enum config_log_target { LOG_TO_STDERR = 0, LOG_TO_SYSLOG };

struct config {
	char *path; /* file read, or NULL when built from options */

	struct config_listen *listen;
	size_t n_listen;
	int workers;          /* 0 = one per CPU */
	uint16_t udp_size;    /* server's EDNS limit, 512..4096 */
	int udp_coalesce_us;  /* pause before polling when queries queue up; 0 = none */
	char *version;        /* CHAOS version.bind answer; NULL = hidden */
	char *identity;       /* CHAOS id.server answer; NULL = hidden */
	int hide_version;
	int hide_identity;
	char *control;        /* Unix control socket path, NULL = none */
	int control_mode;     /* file mode of the control socket, default 0660 */
	enum config_log_target log_target;
	int log_level;        /* LOG_ERR..LOG_DEBUG from syslog.h; default LOG_INFO */
	int log_queries;
	int tcp_max_conns;    /* total concurrent TCP connections per worker */
	int tcp_max_per_ip;   /* per client address */
	int tcp_idle_ms;      /* idle timeout between messages */
	int tcp_read_ms;      /* time allowed to receive one whole message */
	char *user, *group, *chroot_dir, *pidfile;
	int run_as_root;      /* allow running on as root after start-up */
	/* Response rate limiting (server/rrl.h); off while rrl_rate is 0
	 * and no zone sets its own. */
	uint32_t rrl_rate;    /* responses per second per bucket */
	uint32_t rrl_slip;    /* every Nth limited response truncated; 0 = drop all */
	int rrl_v4_prefix, rrl_v6_prefix;
	uint32_t rrl_window;  /* seconds */
	uint32_t rrl_size;    /* buckets */
	struct config_listen *metrics; /* Prometheus endpoint, NULL = none */

	struct config_zone *zones;
	size_t n_zones;
	struct config_dnsbl *dnsbls;
	size_t n_dnsbls;
};

/* Defaults for everything; no listeners and no zones. */
void config_init(struct config *cfg);
/* Frees what config_init/config_parse_file/config_add_* allocated. */
void config_cleanup(struct config *cfg);

/* Reads and validates FILE into cfg (which must be config_init'ed).
 * On error returns MX_ESYNTAX/MX_EINVAL/-errno and writes one line
 * "FILE:LINE: key 'K': what is wrong" into err. */
int config_parse_file(struct config *cfg, const char *file, char *err, size_t errlen);

/* Command-line forms: "ADDR@PORT" (or "ADDR" for the default port; IPv6
 * without brackets), "NAME:FILE", "ZONE:DBPATH[:LIST,LIST...]". */
int config_add_listen(struct config *cfg, const char *spec, char *err, size_t errlen);
int config_add_zone(struct config *cfg, const char *spec, char *err, size_t errlen);
int config_add_dnsbl(struct config *cfg, const char *spec, char *err, size_t errlen);

/* Parses "ADDR/PREFIX" (or a bare address) into net. */
int config_parse_net(const char *text, struct config_net *net);

/* "error", "warning", "info", "debug" -> LOG_ERR..LOG_DEBUG, or -1. */
int config_log_level(const char *text);

#endif
