/* ctl: mxdns ctl, the client of mxdnsd's control socket (server/control.h
 * has the protocol: one command line; reply lines ending with "ok" or
 * "error: MESSAGE"). */
#include "cmd.h"

#include "config.h"
#include "ctlclient.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: mxdns ctl [--control PATH | -c CONFIG] COMMAND [--json]\n"
		   "\n"
		   "Talks to a running mxdnsd over its control socket (the 'control' key of\n"
		   "mxdnsd.conf, or mxdnsd --control PATH; $MXDNS_CONTROL is the default).\n"
		   "\n"
		   "commands:\n"
		   "  reload [ZONE]  re-read changed zone files (or ZONE, even if unchanged)\n"
		   "  status         version, uptime, workers, zones, counters\n"
		   "  stats          queries and answers by protocol, rcode, qtype and zone,\n"
		   "                 DNSBL hits, RRL actions, reloads, TCP connections\n"
		   "  zones          the zones served, with serials and files\n"
		   "\n"
		   "exit: 0 ok, 1 the daemon answered with an error, 2 it cannot be reached\n");
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void json_value(struct json *j, const char *v)
{
	if (all_digits(v) && strlen(v) < 19)
		json_int(j, strtoll(v, NULL, 10));
	else
		json_str(j, v);
}

/* "NAME k=v k=v ..." (zones and reload lines) as members of an object. */
static void json_pairs(struct json *j, const char *rest)
{
	char *copy = strdup(rest), *save = NULL;
	if (copy == NULL)
		return;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(t, '=');
		if (eq == NULL) {
			json_kv_bool(j, t, true);
			continue;
		}
		*eq = '\0';
		json_key(j, t);
		json_value(j, eq + 1);
	}
	free(copy);
}

static void print_json(const char *cmd, const struct ctlclient_reply *r)
{
	struct json j;
	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kv_bool(&j, "ok", r->error == NULL);
	if (r->error)
		json_kv_str(&j, "error", r->error);
	if (strcmp(cmd, "status") == 0) {
		json_key(&j, "status");
		json_obj_begin(&j);
		for (size_t i = 0; i < r->n; i++) {
			char *colon = strstr(r->lines[i], ": ");
			if (colon == NULL)
				continue;
			*colon = '\0';
			json_key(&j, r->lines[i]);
			json_value(&j, colon + 2);
			*colon = ':';
		}
		json_obj_end(&j);
	} else if (strcmp(cmd, "zones") == 0) {
		json_key(&j, "zones");
		json_arr_begin(&j);
		for (size_t i = 0; i < r->n; i++) {
			const char *sp = strchr(r->lines[i], ' ');
			json_obj_begin(&j);
			json_key(&j, "name");
			json_strn(&j, r->lines[i], sp ? (size_t)(sp - r->lines[i]) : strlen(r->lines[i]));
			if (sp)
				json_pairs(&j, sp + 1);
			json_obj_end(&j);
		}
		json_arr_end(&j);
	} else {
		/* reload: "loaded|unchanged NAME k=v...", "failed NAME: message" */
		json_key(&j, "zones");
		json_arr_begin(&j);
		for (size_t i = 0; i < r->n; i++) {
			const char *line = r->lines[i];
			const char *sp = strchr(line, ' ');
			json_obj_begin(&j);
			if (sp == NULL) {
				json_kv_str(&j, "message", line);
				json_obj_end(&j);
				continue;
			}
			json_key(&j, "result");
			json_strn(&j, line, (size_t)(sp - line));
			const char *name = sp + 1;
			size_t nl = strcspn(name, " ");
			if (strncmp(line, "failed ", 7) == 0) {
				const char *colon = strstr(name, ": ");
				nl = colon ? (size_t)(colon - name) : strlen(name);
				json_key(&j, "zone");
				json_strn(&j, name, nl);
				json_kv_str(&j, "error", colon ? colon + 2 : "");
			} else if (line[0] == 'l' || line[0] == 'u') {
				json_key(&j, "zone");
				json_strn(&j, name, nl);
				if (name[nl])
					json_pairs(&j, name + nl + 1);
			} else {
				json_kv_str(&j, "message", line);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
	}
	json_obj_end(&j);
	json_finish(&j);
}

int cmd_ctl(int argc, char **argv)
{
	const char *control = NULL, *config_file = NULL, *cmd = NULL, *zone = NULL;
	int json = 0, rc = 2;
	char line[1100], err[1024];
	struct config cfg;
	struct ctlclient_reply r;

	memset(&r, 0, sizeof(r));
	config_init(&cfg);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if ((strcmp(a, "--control") == 0 || strcmp(a, "-c") == 0 ||
			    strcmp(a, "--config") == 0) && i + 1 < argc) {
			if (strcmp(a, "--control") == 0)
				control = argv[++i];
			else
				config_file = argv[++i];
		} else if (a[0] == '-') {
			fprintf(stderr, "mxdns ctl: unknown option '%s' (try mxdns ctl --help)\n", a);
			goto out;
		} else if (cmd == NULL) {
			cmd = a;
		} else if (zone == NULL && strcmp(cmd, "reload") == 0) {
			zone = a;
		} else {
			fprintf(stderr, "mxdns ctl: unexpected argument '%s' (try mxdns ctl --help)\n", a);
			goto out;
		}
	}
	if (cmd == NULL || (strcmp(cmd, "reload") != 0 && strcmp(cmd, "status") != 0 &&
			    strcmp(cmd, "zones") != 0 && strcmp(cmd, "stats") != 0)) {
		if (cmd)
			fprintf(stderr, "mxdns ctl: unknown command '%s' (reload [ZONE], status, stats, zones)\n", cmd);
		else
			usage(stderr);
		goto out;
	}
	if (control == NULL && config_file) {
		if (config_parse_file(&cfg, config_file, err, sizeof(err)) != 0) {
			fprintf(stderr, "mxdns ctl: %s\n", err);
			goto out;
		}
		control = cfg.control;
		if (control == NULL) {
			fprintf(stderr, "mxdns ctl: %s has no 'control' key in its server: section\n",
				config_file);
			goto out;
		}
	}
	if (control == NULL)
		control = getenv("MXDNS_CONTROL");
	if (control == NULL || *control == '\0') {
		fprintf(stderr, "mxdns ctl: which daemon? give --control PATH or -c CONFIG\n");
		goto out;
	}
	if (strlen(zone ? zone : "") > 1000 || strpbrk(zone ? zone : "", " \t\r\n")) {
		fprintf(stderr, "mxdns ctl: '%s' is not a zone name\n", zone);
		goto out;
	}
	/* The daemon writes the JSON of stats itself (it has the zone names
	 * and the structure); the other commands are converted here. */
	int daemon_json = json && strcmp(cmd, "stats") == 0;
	if (daemon_json)
		zone = "json";
	snprintf(line, sizeof(line), "%s%s%s", cmd, zone ? " " : "", zone ? zone : "");
	if (ctlclient_request(control, line, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxdns ctl: %s\n", err);
		goto out; /* rc stays 2: unreachable */
	}
	if (daemon_json && r.error == NULL) {
		for (size_t i = 0; i < r.n; i++)
			printf("%s\n", r.lines[i]);
	} else if (json) {
		print_json(cmd, &r);
	} else {
		for (size_t i = 0; i < r.n; i++)
			printf("%s\n", r.lines[i]);
		if (r.error)
			fprintf(stderr, "mxdns ctl: %s\n", r.error);
	}
	rc = r.error ? 1 : 0;
out:
	ctlclient_reply_cleanup(&r);
	config_cleanup(&cfg);
	return rc;
}
