/* pubopt: the publishing options and their --json report (see pubopt.h). */
#include "pubopt.h"

#include "findings.h"
#include "json.h"
#include "lintcli.h"

#include <stdlib.h>
#include <string.h>

bool pubopt_take(struct publish_opts *o, int c, const char *arg)
{
	switch (c) {
	case PUBOPT_ZONE:
		o->zone = arg;
		return true;
	case 'c':
		o->config = arg;
		return true;
	case PUBOPT_CONTROL:
		o->control = arg;
		return true;
	case PUBOPT_ORIGIN:
		o->origin = arg;
		return true;
	case PUBOPT_NO_RELOAD:
		o->no_reload = true;
		return true;
	case PUBOPT_FORCE:
		o->force = true;
		return true;
	case 'n':
		o->dry_run = true;
		return true;
	default:
		return false;
	}
}

void pubopt_usage(FILE *f, bool with_zone)
{
	if (with_zone)
		fprintf(
		    f,
		    "  --zone FILE|NAME    add or replace the record in that zone file (or the\n"
		    "                      zone of that name in -c CONFIG or the running daemon)\n"
		    "                      instead of printing it; the daemon reloads the zone\n");
	fprintf(f, "  -c, --config FILE   mxdnsd.conf: zone names and the control socket\n"
	           "      --control PATH  the daemon's control socket ($MXDNS_CONTROL)\n"
	           "      --origin NAME   the zone's name, when the zone file names nothing\n"
	           "      --no-reload     write the file only\n"
	           "      --force         publish despite the mail checks\n"
	           "  -n, --dry-run       print the diff, write nothing\n");
}

void pubopt_json_outcome(struct json *j, const struct publish_outcome *po)
{
	json_kv_bool(j, "changed", po->changed);
	json_kv_bool(j, "written", po->written);
	if (po->changed) {
		json_kv_int(j, "old_serial", po->old_serial);
		json_kv_int(j, "new_serial", po->new_serial);
		json_kv_int(j, "records", (int64_t)po->n_records);
	}
	json_key(j, "reload");
	if (po->reload < 0)
		json_null(j);
	else
		json_str(j, po->reload == 0 ? "ok" : po->reload == 1 ? "failed" : "unreachable");
	if (po->diff)
		json_kv_str(j, "diff", po->diff);
}

/* The outcome is always kept, so a dry run's diff comes back as a string:
 * the JSON carries it, text output prints it as publish_commit would. */
static int finish(struct publish_opts *o, int rc, bool json, struct publish_outcome *out)
{
	o->outcome = NULL;
	if (!json && out->diff)
		fputs(out->diff, stdout);
	return rc;
}

static void start(struct publish_opts *o, struct publish_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->reload = -1;
	o->outcome = out;
}

int pubopt_publish_txt(struct publish_opts *o, const char *owner, const char *value,
                       const char *replace_prefix, bool json, struct publish_outcome *out)
{
	start(o, out);
	return finish(o, publish_txt(o, owner, 0, value, replace_prefix), json, out);
}

int pubopt_publish_records(struct publish_opts *o, const struct publish_rrs *r, bool json,
                           struct publish_outcome *out)
{
	start(o, out);
	return finish(o, publish_records(o, r), json, out);
}

void pubopt_outcome_cleanup(struct publish_outcome *out)
{
	free(out->diff);
	out->diff = NULL;
}

void pubopt_json_published(struct json *j, const struct publish_opts *o, const char *owner, int rc,
                           const struct publish_outcome *po)
{
	json_key(j, "published");
	json_obj_begin(j);
	json_kv_str(j, "zone", o->zone);
	json_kv_str(j, "owner", owner);
	json_kv_bool(j, "ok", rc == 0);
	json_kv_bool(j, "dry_run", o->dry_run);
	pubopt_json_outcome(j, po);
	json_obj_end(j);
}

int pubopt_txt_build(struct publish_opts *o, const char *name, const char *value,
                     const char *prefix, const struct findings *f, bool json, const char *extra_key,
                     const char *extra_value)
{
	struct publish_outcome po;
	char owner[1100], where[1200];
	int rc = 0;

	memset(&po, 0, sizeof(po));
	snprintf(where, sizeof(where), "%s: ", o->prog ? o->prog : "mxdns");
	if (findings_count(f, FINDING_ERROR)) {
		findings_print(f, stderr, where);
		return 1;
	}
	snprintf(owner, sizeof(owner), "%s.", name);
	if (o->zone)
		rc = pubopt_publish_txt(o, owner, value, prefix, json, &po);
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "name", name);
		json_kv_str(&j, "value", value);
		if (extra_key)
			json_kv_str(&j, extra_key, extra_value);
		findings_json(f, &j);
		if (o->zone)
			pubopt_json_published(&j, o, owner, rc, &po);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		findings_print(f, stderr, where);
		if (!o->zone && lintcli_print_txt(stdout, name, value) < 0) {
			fprintf(stderr, "%sout of memory\n", where);
			rc = 2;
		}
	}
	pubopt_outcome_cleanup(&po);
	return rc;
}
