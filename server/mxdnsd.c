/* mxdnsd: the authoritative DNS and DNSBL server. This file reads the
 * options, loads the first snapshot (from the configuration, or the zones
 * embedded at build time) and hands over to daemon_run. */
#include "config.h"
#include "daemon.h"
#include "embedded.h"
#include "errcode.h"
#include "log.h"
#include "zonedb.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mxdnsd [OPTIONS]\n"
		"\n"
		"Serves DNS zones and DNSBL zones. With no -c, --zone or --dnsbl it serves the\n"
		"built-in example zones on 127.0.0.1@5300.\n"
		"\n"
		"  -c, --config FILE        read the configuration (see mxdnsd.conf(5))\n"
		"      --listen ADDR[@PORT] listen on this address, UDP and TCP (repeatable;\n"
		"                           replaces the file's listen lines; default 127.0.0.1@5300)\n"
		"      --zone NAME:FILE     serve the zone NAME from the master FILE (repeatable)\n"
		"      --dnsbl ZONE:DB[:LIST,...]  serve a DNSBL zone from an LMDB file (repeatable)\n"
		"      --workers N          worker threads (default: one per CPU)\n"
		"      --control PATH       control socket for mxdns ctl\n"
		"      --log-level LEVEL    error, warning, info (default) or debug\n"
		"      --syslog             log to syslog instead of stderr\n"
		"      --run-as-root        keep running as root after start-up (a configuration\n"
		"                           file without 'user:' is refused otherwise)\n"
		"      --check              load and check everything, print a report, exit\n"
		"                           (0: all good, 1: something failed)\n"
		"  -h, --help               this text\n"
		"  -V, --version            the version\n"
		"\n"
		"Signals: HUP reloads changed zone files, TERM and INT stop.\n"
		"\n"
		"Started as root it drops to the configured user after binding; with a\n"
		"configuration file and no user it refuses to run on as root (see above).\n");
}

enum {
	OPT_LISTEN = 256,
	OPT_ZONE,
	OPT_DNSBL,
	OPT_WORKERS,
	OPT_CONTROL,
	OPT_LOG_LEVEL,
	OPT_SYSLOG,
	OPT_CHECK,
	OPT_RUN_AS_ROOT,
};

/* The first snapshot for the embedded default. */
static struct zonedb *embedded_db(int *n_failed)
{
	struct zone *zones[64];
	size_t n = 0;
	char err[1024], label[300];

	*n_failed = 0;
	for (size_t i = 0; i < embedded_zones_count && n < 64; i++) {
		const struct embedded_zone *e = &embedded_zones[i];
		snprintf(label, sizeof(label), "embedded %s", e->file);
		struct zone *z = zone_from_text(e->name, e->text, label, err, sizeof(err));
		if (z == NULL) {
			log_err("%s", err);
			(*n_failed)++;
			continue;
		}
		log_info("zone %s: built in, serial %u, %zu records", z->name, z->serial, z->n_records);
		zones[n++] = z;
	}
	struct zonedb *db = zonedb_from_zones(zones, n);
	for (size_t i = 0; i < n; i++)
		zone_unref(zones[i]);
	return db;
}

static void dig_line(const struct config *cfg, char *out, size_t cap)
{
	const struct config_listen *l = &cfg->listen[0];
	char addr[INET6_ADDRSTRLEN];
	const char *zone = embedded_zones_count > 0 ? embedded_zones[0].name : "example.com";
	unsigned port;

	for (size_t i = 0; i < embedded_zones_count; i++)
		if (strcmp(embedded_zones[i].name, "example.com") == 0)
			zone = "example.com";
	if (l->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&l->addr;
		inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
		port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&l->addr;
		inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
		port = ntohs(a->sin6_port);
	}
	if (strcmp(addr, "0.0.0.0") == 0)
		snprintf(addr, sizeof(addr), "127.0.0.1");
	else if (strcmp(addr, "::") == 0)
		snprintf(addr, sizeof(addr), "::1");
	snprintf(out, cap, "mxdnsd is serving its built-in example zones. Try:\n\n  dig @%s -p %u %s MX\n\n",
		 addr, port, zone);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"zone", required_argument, NULL, OPT_ZONE},
		{"dnsbl", required_argument, NULL, OPT_DNSBL},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"control", required_argument, NULL, OPT_CONTROL},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"check", no_argument, NULL, OPT_CHECK},
		{"run-as-root", no_argument, NULL, OPT_RUN_AS_ROOT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct config cfg;
	struct config opt; /* what the command line said, merged over the file */
	const char *file = NULL, *control = NULL;
	int workers = -1, level = -1, use_syslog = 0, check = 0, run_as_root = 0, c;
	char err[1024];
	struct zonedb *db = NULL;
	int n_failed = 0, rc = 2;

	config_init(&cfg);
	config_init(&opt);
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":c:hV", longopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case OPT_LISTEN:
			bad = config_add_listen(&opt, optarg, err, sizeof(err));
			break;
		case OPT_ZONE:
			bad = config_add_zone(&opt, optarg, err, sizeof(err));
			break;
		case OPT_DNSBL:
			bad = config_add_dnsbl(&opt, optarg, err, sizeof(err));
			break;
		case OPT_WORKERS: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > ZONEDB_MAX_READERS) {
				snprintf(err, sizeof(err), "--workers: '%s' is not a number from 1 to %d",
					 optarg, ZONEDB_MAX_READERS);
				bad = 1;
			}
			workers = (int)n;
			break;
		}
		case OPT_CONTROL:
			control = optarg;
			break;
		case OPT_LOG_LEVEL:
			level = config_log_level(optarg);
			if (level < 0) {
				snprintf(err, sizeof(err),
					 "--log-level: '%s' is not error, warning, info or debug", optarg);
				bad = 1;
			}
			break;
		case OPT_SYSLOG:
			use_syslog = 1;
			break;
		case OPT_CHECK:
			check = 1;
			break;
		case OPT_RUN_AS_ROOT:
			run_as_root = 1;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case 'V':
			printf("mxdnsd %s\n", MXDNS_VERSION);
			rc = 0;
			goto out;
		case ':':
			fprintf(stderr, "mxdnsd: option %s needs a value (try mxdnsd --help)\n",
				argv[optind - 1]);
			goto out;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "mxdnsd: bad option -%c (try mxdnsd --help)\n", optopt);
			else
				fprintf(stderr, "mxdnsd: bad option %s (try mxdnsd --help)\n",
					argv[optind - 1]);
			goto out;
		}
		if (bad) {
			fprintf(stderr, "mxdnsd: %s\n", err);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxdnsd: unexpected argument '%s' (try mxdnsd --help)\n", argv[optind]);
		goto out;
	}

	if (file && config_parse_file(&cfg, file, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdnsd: %s\n", err);
		goto out;
	}
	/* The command line wins over the file. */
	if (opt.n_listen > 0) {
		for (size_t i = 0; i < cfg.n_listen; i++)
			free(cfg.listen[i].text);
		free(cfg.listen);
		cfg.listen = opt.listen;
		cfg.n_listen = opt.n_listen;
		opt.listen = NULL;
		opt.n_listen = 0;
	}
	for (size_t i = 0; i < opt.n_zones; i++) {
		snprintf(err, sizeof(err), "%s:%s", opt.zones[i].name, opt.zones[i].file);
		if (config_add_zone(&cfg, err, err, sizeof(err)) != 0) {
			fprintf(stderr, "mxdnsd: --zone: %s\n", err);
			goto out;
		}
	}
	if (opt.n_dnsbls > 0) {
		struct config_dnsbl *all = realloc(cfg.dnsbls, (cfg.n_dnsbls + opt.n_dnsbls) * sizeof(*all));
		if (all == NULL) {
			fprintf(stderr, "mxdnsd: out of memory\n");
			goto out;
		}
		memcpy(all + cfg.n_dnsbls, opt.dnsbls, opt.n_dnsbls * sizeof(*all));
		cfg.dnsbls = all;
		cfg.n_dnsbls += opt.n_dnsbls;
		free(opt.dnsbls);
		opt.dnsbls = NULL;
		opt.n_dnsbls = 0;
	}
	if (workers > 0)
		cfg.workers = workers;
	if (control) {
		free(cfg.control);
		cfg.control = strdup(control);
	}
	if (level >= 0)
		cfg.log_level = level;
	if (use_syslog)
		cfg.log_target = LOG_TO_SYSLOG;
	if (run_as_root)
		cfg.run_as_root = 1;
	log_setup("mxdnsd", cfg.log_target == LOG_TO_SYSLOG, cfg.log_level);

	int embedded = file == NULL && cfg.n_zones == 0 && cfg.n_dnsbls == 0;
	if (cfg.n_listen == 0 && config_add_listen(&cfg, "127.0.0.1@5300", err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdnsd: %s\n", err);
		goto out;
	}
	if (embedded) {
		db = embedded_db(&n_failed);
	} else if (zonedb_build(&cfg, NULL, NULL, 0, &db, &n_failed) != 0) {
		fprintf(stderr, "mxdnsd: out of memory\n");
		goto out;
	}
	if (db == NULL) {
		fprintf(stderr, "mxdnsd: out of memory\n");
		goto out;
	}

	if (check) {
		int failed = n_failed;
		if (embedded) {
			for (size_t i = 0; i < db->n_zones; i++)
				printf("loaded %s serial=%u records=%zu (built in)\n", db->zones[i]->name,
				       db->zones[i]->serial, db->zones[i]->n_records);
		} else {
			failed = daemon_report(&cfg, NULL, db, NULL, n_failed, stdout);
		}
		printf("%s: %zu zone(s) loaded, %d failed\n", file ? file : "mxdnsd", db->n_zones,
		       failed);
		zonedb_free(db);
		rc = failed > 0 ? 1 : 0;
		goto out;
	}
	if (db->n_zones == 0)
		log_warn("no zone loaded: every query will be REFUSED");
	char ready[512];
	if (embedded)
		dig_line(&cfg, ready, sizeof(ready));
	rc = daemon_run(&cfg, db, embedded, embedded ? ready : NULL);
out:
	config_cleanup(&opt);
	config_cleanup(&cfg);
	return rc;
}
