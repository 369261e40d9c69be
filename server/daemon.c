/* daemon: start-up, reloads, the control commands and a clean stop. */
#include "daemon.h"

#include "answer.h"
#include "config.h"
#include "control.h"
#include "dnsbl.h"
#include "errcode.h"
#include "log.h"
#include "metrics.h"
#include "name.h"
#include "net.h"
#include "stats.h"
#include "zonedb.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

struct daemon {
	struct config *cfg;
	int embedded;
	struct zonedb_cell cell;
	struct answer_opts opts;
	struct net *net;
	struct stats *stats;
	struct control *ctl;
	struct metrics *metrics;
	uv_loop_t loop;
	uv_signal_t sig_hup, sig_term, sig_int;
	time_t started;
	char errbuf[256];
};

static int same_name(const char *a, const char *b)
{
	uint8_t wa[NAME_MAXLEN], wb[NAME_MAXLEN];
	int la = name_from_text(a, wa), lb = name_from_text(b, wb);
	if (la < 0 || lb < 0 || la != lb)
		return 0;
	name_lower(wa, wa, (size_t)la);
	name_lower(wb, wb, (size_t)lb);
	return memcmp(wa, wb, (size_t)la) == 0;
}

/* Zones new in db get their statistics slot here, before any worker can
 * see them, so the query path reads it instead of looking the name up. */
static void assign_stats_slots(const struct stats *st, struct zonedb *db)
{
	for (size_t i = 0; i < db->n_zones; i++) {
		struct zone *z = db->zones[i];
		if (z->stats_slot < 0)
			z->stats_slot = (int32_t)stats_zone_slot(st, z->apex, z->apex_len);
	}
}

/* The message a failed zone gave: zonedb_build logs it, and loading once
 * more is the way to put it in a reply too (only done for failures). */
static void failure_text(const struct zone *kept, struct zone *again, const char *err, FILE *out,
			 const char *name)
{
	if (again) {
		/* It loads now: the file changed again since the build. */
		fprintf(out, "failed %s: changed during the reload, try again\n", name);
		zone_unref(again);
	} else if (kept) {
		fprintf(out, "failed %s: %s; serial %" PRIu32 " keeps serving\n", name, err,
			kept->serial);
	} else {
		fprintf(out, "failed %s: %s; not served\n", name, err);
	}
}

int daemon_report(const struct config *cfg, const struct zonedb *old, const struct zonedb *cur,
		  const char *only, int n_failed, FILE *out)
{
	char err[1024];
	int failed = 0;

	for (size_t i = 0; i < cfg->n_zones; i++) {
		const struct config_zone *cz = &cfg->zones[i];
		if (only && !same_name(only, cz->name))
			continue;
		const struct zone *o = old ? zonedb_find_by_name(old, cz->name) : NULL;
		const struct zone *z = zonedb_find_by_name(cur, cz->name);
		if (z && z != o) {
			fprintf(out, "loaded %s serial=%" PRIu32 " records=%zu\n", z->name, z->serial,
				z->n_records);
			continue;
		}
		if (z && n_failed == 0) {
			fprintf(out, "unchanged %s serial=%" PRIu32 "\n", z->name, z->serial);
			continue;
		}
		if (z) {
			/* Shared with the old snapshot: unchanged, or it failed
			 * and the old version was kept. Only a load tells. */
			err[0] = '\0';
			struct zone *again = zone_load(cz->name, cz->file, err, sizeof(err));
			if (again && again->serial == z->serial) {
				zone_unref(again);
				fprintf(out, "unchanged %s serial=%" PRIu32 "\n", z->name, z->serial);
				continue;
			}
			if (again) {
				/* Loads now with another serial: it changed
				 * during the build; not a failure of the file. */
				zone_unref(again);
				fprintf(out, "unchanged %s serial=%" PRIu32
					     " (the file changed again since; reload again)\n",
					z->name, z->serial);
				continue;
			}
			failed++;
			failure_text(z, NULL, err, out, cz->name);
			continue;
		}
		failed++;
		err[0] = '\0';
		struct zone *again = zone_load(cz->name, cz->file, err, sizeof(err));
		failure_text(NULL, again, err, out, cz->name);
	}
	for (size_t i = 0; i < cfg->n_dnsbls; i++) {
		const struct config_dnsbl *cd = &cfg->dnsbls[i];
		if (only && !same_name(only, cd->name))
			continue;
		const struct zone *o = old ? zonedb_find_by_name(old, cd->name) : NULL;
		const struct zone *z = zonedb_find_by_name(cur, cd->name);
		if (z) {
			fprintf(out, "%s %s dnsbl db=%s\n", z != o ? "loaded" : "unchanged", z->name,
				cd->db);
			continue;
		}
		failed++;
		err[0] = '\0';
		struct zone *again = dnsbl_zone_load(cd, err, sizeof(err));
		failure_text(NULL, again, err, out, cd->name);
	}
	return failed;
}

static int configured(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_zones; i++)
		if (same_name(cfg->zones[i].name, name))
			return 1;
	for (size_t i = 0; i < cfg->n_dnsbls; i++)
		if (same_name(cfg->dnsbls[i].name, name))
			return 1;
	return 0;
}

/* Builds and publishes the next snapshot. out (may be NULL) gets the
 * per-zone report. Returns NULL or an error message. */
static const char *reload(struct daemon *d, const char *only, FILE *out)
{
	struct zonedb *old = zonedb_cell_current(&d->cell);
	struct zonedb *next = NULL;
	int n_failed = 0;

	if (d->embedded) {
		if (out)
			fprintf(out, "serving the embedded zones: nothing to reload\n");
		return NULL;
	}
	if (only && !configured(d->cfg, only)) {
		snprintf(d->errbuf, sizeof(d->errbuf), "no zone '%s' in the configuration", only);
		return d->errbuf;
	}
	log_info("reload%s%s: started", only ? " of " : "", only ? only : "");
	int rc = zonedb_build(d->cfg, old, only, only != NULL, &next, &n_failed);
	if (rc != 0) {
		atomic_fetch_add(&d->stats->reloads_failed, 1);
		snprintf(d->errbuf, sizeof(d->errbuf), "reload failed: %s", mx_strerror(rc));
		log_err("%s", d->errbuf);
		return d->errbuf;
	}
	/* Report before publishing: publishing frees old. */
	int reported = out ? daemon_report(d->cfg, old, next, only, n_failed, out) : 0;
	assign_stats_slots(d->stats, next);
	zonedb_cell_publish(&d->cell, next);
	if (n_failed > 0 || reported > 0) {
		atomic_fetch_add(&d->stats->reloads_failed, 1);
		int n = n_failed > reported ? n_failed : reported;
		log_warn("reload: generation %" PRIu64 " published; %d zone(s) failed, their previous "
			 "versions keep serving",
			 next->generation, n);
		snprintf(d->errbuf, sizeof(d->errbuf),
			 "%d zone(s) failed to load; the previous versions keep serving", n);
		return d->errbuf;
	}
	atomic_fetch_add(&d->stats->reloads_ok, 1);
	log_info("reload: generation %" PRIu64 " published, %zu zone(s)", next->generation,
		 next->n_zones);
	return NULL;
}

static void status(struct daemon *d, FILE *out)
{
	struct stats_sum st;
	const struct zonedb *db = zonedb_cell_current(&d->cell);

	if (stats_sum(d->stats, &st) != 0)
		memset(&st, 0, sizeof(st));
	fprintf(out, "version: mxdnsd %s\n", MXDNS_VERSION);
	fprintf(out, "pid: %d\n", (int)getpid());
	fprintf(out, "uptime: %lld\n", (long long)(time(NULL) - d->started));
	fprintf(out, "workers: %d\n", net_workers(d->net));
	fprintf(out, "zones: %zu\n", db ? db->n_zones : 0);
	fprintf(out, "generation: %" PRIu64 "\n", db ? db->generation : 0);
	/* A reload with failed zones is still published: it counts in both. */
	fprintf(out, "reloads: %" PRIu64 "\n", st.reloads_ok + st.reloads_failed);
	fprintf(out, "reload-failures: %" PRIu64 "\n", st.reloads_failed);
	fprintf(out, "udp-queries: %" PRIu64 "\n", st.queries[STATS_UDP]);
	fprintf(out, "udp-dropped: %" PRIu64 "\n", st.dropped + st.send_failed);
	fprintf(out, "tcp-queries: %" PRIu64 "\n", st.queries[STATS_TCP]);
	fprintf(out, "tcp-accepted: %" PRIu64 "\n", st.tcp_accepted);
	fprintf(out, "tcp-refused: %" PRIu64 "\n", st.tcp_refused);
	fprintf(out, "tcp-timeouts: %" PRIu64 "\n", st.tcp_timeouts);
	fprintf(out, "tcp-open: %" PRIu64 "\n", st.tcp_open);
	stats_sum_cleanup(&st);
}

static const char *stats_cmd(struct daemon *d, int json, FILE *out)
{
	struct stats_sum st;
	if (stats_sum(d->stats, &st) != 0)
		return "out of memory";
	if (json)
		stats_format_json(d->stats, &st, out);
	else
		stats_format_text(d->stats, &st, out);
	stats_sum_cleanup(&st);
	return NULL;
}

static void render_metrics(void *arg, FILE *out)
{
	struct daemon *d = arg;
	struct stats_sum st;
	if (stats_sum(d->stats, &st) != 0)
		return;
	stats_format_prometheus(d->stats, &st, out);
	fprintf(out,
		"# HELP mxdns_uptime_seconds Seconds since mxdnsd started.\n"
		"# TYPE mxdns_uptime_seconds gauge\nmxdns_uptime_seconds %lld\n",
		(long long)(time(NULL) - d->started));
	stats_sum_cleanup(&st);
}

static void zones(struct daemon *d, FILE *out)
{
	const struct zonedb *db = zonedb_cell_current(&d->cell);
	for (size_t i = 0; db && i < db->n_zones; i++) {
		const struct zone *z = db->zones[i];
		if (z->bl)
			fprintf(out, "%s dnsbl\n", z->name);
		else
			fprintf(out, "%s serial=%" PRIu32 " records=%zu file=%s\n", z->name, z->serial,
				z->n_records, z->file ? z->file : "(embedded)");
	}
}

static const char *on_command(void *arg, const char *line, FILE *out)
{
	struct daemon *d = arg;
	char cmd[32], zone[NAME_MAXLEN * 4 + 2], extra[2];
	int n = sscanf(line, " %31s %1020s %1s", cmd, zone, extra);

	if (n <= 0)
		return "empty command (try: reload [ZONE], status, stats [json], zones)";
	if (strcmp(cmd, "stats") == 0 && (n == 1 || (n == 2 && strcmp(zone, "json") == 0)))
		return stats_cmd(d, n == 2, out);
	if (strcmp(cmd, "reload") == 0 && n <= 2) {
		log_info("control: reload%s%s", n == 2 ? " " : "", n == 2 ? zone : "");
		return reload(d, n == 2 ? zone : NULL, out);
	}
	if (strcmp(cmd, "status") == 0 && n == 1) {
		status(d, out);
		return NULL;
	}
	if (strcmp(cmd, "zones") == 0 && n == 1) {
		zones(d, out);
		return NULL;
	}
	snprintf(d->errbuf, sizeof(d->errbuf), "unknown command '%.100s' (try: reload [ZONE], status, stats [json], zones)",
		 line);
	return d->errbuf;
}

static void stop(struct daemon *d)
{
	control_close(d->ctl);
	d->ctl = NULL;
	metrics_close(d->metrics);
	d->metrics = NULL;
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	if (signum == SIGHUP) {
		reload(d, NULL, NULL);
		return;
	}
	log_info("signal %s: stopping", signum == SIGTERM ? "TERM" : "INT");
	stop(d);
}

/* After the sockets are bound: leave root, as NSD and Knot do. */
static int drop_privileges(struct config *cfg, char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	uid_t uid = 0;
	gid_t gid = 0;

	if (cfg->user) {
		pw = getpwnam(cfg->user);
		if (pw == NULL) {
			snprintf(err, errlen, "user '%s' does not exist", cfg->user);
			return MX_EINVAL;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (cfg->group) {
		gr = getgrnam(cfg->group);
		if (gr == NULL) {
			snprintf(err, errlen, "group '%s' does not exist", cfg->group);
			return MX_EINVAL;
		}
		gid = gr->gr_gid;
	}
	if (geteuid() != 0) {
		/* Started unprivileged (systemd's User= or DynamicUser=):
		 * nothing to drop, unless asked for another user. */
		if ((cfg->user && uid != geteuid()) || (cfg->group && gid != getegid())) {
			snprintf(err, errlen, "cannot change to %s %s: not started as root",
				 cfg->user ? "user" : "group", cfg->user ? cfg->user : cfg->group);
			return -EPERM;
		}
		if (cfg->chroot_dir) {
			snprintf(err, errlen, "cannot chroot to %s: not started as root",
				 cfg->chroot_dir);
			return -EPERM;
		}
		return 0;
	}
	if (cfg->chroot_dir) {
		size_t cl = strlen(cfg->chroot_dir);
		while (cl > 1 && cfg->chroot_dir[cl - 1] == '/')
			cl--;
		/* Zone files named by their full path keep working inside. One
		 * outside could be read now but never reloaded: refuse it. */
		for (size_t i = 0; i < cfg->n_zones; i++) {
			char *f = cfg->zones[i].file;
			if (cl == 1) /* chroot: / */
				break;
			if (strncmp(f, cfg->chroot_dir, cl) != 0 || f[cl] != '/') {
				snprintf(err, errlen,
					 "zone %s: file %s is outside chroot %s, so it could not be "
					 "reloaded",
					 cfg->zones[i].name, f, cfg->chroot_dir);
				return MX_EINVAL;
			}
			memmove(f, f + cl, strlen(f + cl) + 1);
		}
		if (chroot(cfg->chroot_dir) != 0 || chdir("/") != 0) {
			snprintf(err, errlen, "chroot %s: %s", cfg->chroot_dir, strerror(errno));
			return -errno;
		}
	}
	if (cfg->user || cfg->group) {
		if ((cfg->user && initgroups(cfg->user, gid) != 0) ||
		    (!cfg->user && setgroups(1, &gid) != 0) || setgid(gid) != 0) {
			snprintf(err, errlen, "cannot change to group %u: %s", (unsigned)gid,
				 strerror(errno));
			return -errno;
		}
	}
	if (cfg->user && setuid(uid) != 0) {
		snprintf(err, errlen, "cannot change to user %s: %s", cfg->user, strerror(errno));
		return -errno;
	}
	return 0;
}

/* A server reading packets from the internet should not hold root after
 * it has bound its sockets (NSD and Knot drop it too). A configuration
 * file is a deployment: staying root there needs run-as-root: yes or
 * --run-as-root. Without one (the quick start: embedded zones or
 * --zone on the command line) mxdnsd warns and carries on, so that
 * trying it out stays one command. Returns 0 or MX_EREFUSED. */
static int check_root(const struct config *cfg, char *err, size_t errlen)
{
	if (geteuid() != 0 && getuid() != 0)
		return 0;
	if (cfg->run_as_root) {
		log_info("running as root, as run-as-root allows");
		return 0;
	}
	if (cfg->path == NULL) {
		log_warn("running as root: fine for a try-out; for real use set 'user:' in a "
			 "configuration file (see mxdnsd.conf(5)) or start mxdnsd as a service user");
		return 0;
	}
	snprintf(err, errlen,
		 "%s: refusing to keep running as root after start-up: set 'user:' (e.g. user: "
		 "nobody, or a dedicated mxdnsd user) in its server: section, or allow root with "
		 "'run-as-root: yes' or --run-as-root",
		 cfg->path);
	return MX_EREFUSED;
}

static int new_stats(struct daemon *d, const struct zonedb *initial, int n_workers)
{
	const struct config *cfg = d->cfg;
	size_t n = cfg->n_zones + cfg->n_dnsbls + (initial ? initial->n_zones : 0), k = 0;
	const char **names = calloc(n + 1, sizeof(*names));
	int rc;

	if (names == NULL)
		return -ENOMEM;
	/* The configured zones first, so their slots do not depend on which
	 * ones loaded; the initial snapshot adds the embedded ones. */
	for (size_t i = 0; i < cfg->n_zones; i++)
		names[k++] = cfg->zones[i].name;
	for (size_t i = 0; i < cfg->n_dnsbls; i++)
		names[k++] = cfg->dnsbls[i].name;
	for (size_t i = 0; initial && i < initial->n_zones; i++)
		names[k++] = initial->zones[i]->name;
	rc = stats_new(&d->stats, n_workers, names, k);
	free(names);
	return rc;
}

static int write_pidfile(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > ZONEDB_MAX_READERS ? ZONEDB_MAX_READERS : (int)n;
}

int daemon_run(struct config *cfg, struct zonedb *initial, int embedded, const char *ready_line)
{
	struct daemon *d = calloc(1, sizeof(*d));
	char err[512];
	int exit_code = 1, loop_ready = 0, cell_ready = 0, pidfile = 0;

	if (d == NULL) {
		zonedb_free(initial);
		log_err("out of memory");
		return 1;
	}
	d->cfg = cfg;
	d->embedded = embedded;
	d->started = time(NULL);
	d->opts.udp_size = cfg->udp_size;
	d->opts.version = cfg->hide_version ? NULL : cfg->version;
	d->opts.identity = cfg->hide_identity ? NULL : cfg->identity;
	int n_workers = cfg->workers > 0 ? cfg->workers : cpu_count();
	if (new_stats(d, initial, n_workers) != 0) {
		zonedb_free(initial);
		log_err("out of memory");
		free(d);
		return 1;
	}
	assign_stats_slots(d->stats, initial);
	zonedb_cell_init(&d->cell, initial, n_workers);
	cell_ready = 1;

	/* A client vanishing mid-write must be an EPIPE, not our death. */
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&d->loop) != 0) {
		log_err("cannot create the main loop");
		goto out;
	}
	loop_ready = 1;
	if (net_new(&d->net, cfg, &d->cell, &d->opts, n_workers, d->stats, err, sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	if (cfg->control && control_new(&d->ctl, &d->loop, cfg->control, cfg->control_mode,
					on_command, d, err, sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	if (cfg->metrics && metrics_new(&d->metrics, &d->loop, cfg->metrics, render_metrics, d, err,
					sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	if (cfg->pidfile) {
		if (write_pidfile(cfg->pidfile, err, sizeof(err)) != 0) {
			log_err("%s", err);
			goto out;
		}
		pidfile = 1;
	}
	if (drop_privileges(cfg, err, sizeof(err)) != 0 || check_root(cfg, err, sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	d->sig_hup.data = d->sig_term.data = d->sig_int.data = d;
	uv_signal_init(&d->loop, &d->sig_hup);
	uv_signal_init(&d->loop, &d->sig_term);
	uv_signal_init(&d->loop, &d->sig_int);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	if (net_start(d->net, err, sizeof(err)) != 0) {
		log_err("%s", err);
		stop(d);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		goto out;
	}
	for (size_t i = 0; i < cfg->n_listen; i++)
		log_info("listening on %s (udp, tcp)", cfg->listen[i].text);
	if (cfg->metrics)
		log_info("metrics on http://%s/metrics", cfg->metrics->text);
	log_info("ready: %zu zone(s), %d worker(s)%s%s", initial ? initial->n_zones : 0, n_workers,
		 cfg->control ? ", control socket " : "", cfg->control ? cfg->control : "");
	if (ready_line) {
		fputs(ready_line, stdout);
		fflush(stdout);
	}
	uv_run(&d->loop, UV_RUN_DEFAULT);
	exit_code = 0;
out:
	net_free(d->net);
	if (d->ctl) {
		control_close(d->ctl);
		d->ctl = NULL;
	}
	metrics_close(d->metrics);
	d->metrics = NULL;
	if (loop_ready) {
		uv_run(&d->loop, UV_RUN_DEFAULT); /* close callbacks */
		if (uv_loop_close(&d->loop) != 0)
			log_err("main loop: handles left open at stop");
	}
	if (cell_ready)
		zonedb_cell_cleanup(&d->cell);
	if (pidfile)
		unlink(cfg->pidfile);
	if (exit_code == 0)
		log_info("stopped");
	stats_free(d->stats);
	free(d);
	return exit_code;
}
