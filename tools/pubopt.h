/* pubopt: the publishing options of the command line, parsed once for
 * `mxdns zone`, `mxdns dkim rotate|list` and every generator's --zone
 * (dkim keygen|record, spf build, dmarc build, mta-sts build, tls-rpt
 * build, tlsa), into a struct publish_opts (tools/publish.h):
 *
 *   --zone FILE|NAME   where to publish (generators; mxdns zone takes the
 *                      zone as its first argument instead)
 *   -c, --config FILE  mxdnsd.conf: zone names and the control socket
 *   --control PATH     the daemon's control socket ($MXDNS_CONTROL)
 *   --origin NAME      the zone's name when nothing else names the file
 *   --no-reload        write the file only
 *   --force            publish despite the mail checks
 *   -n, --dry-run      show the diff, write nothing
 *
 * A command puts PUBOPT_OPTIONS (and PUBOPT_OPTION_ZONE) into its getopt
 * table and PUBOPT_SHORT into its short options, and hands every code
 * getopt_long returns to pubopt_take first. */
#ifndef MXDNS_PUBOPT_H
#define MXDNS_PUBOPT_H

#include "publish.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

struct findings;
struct json;

/* Above any command's own option codes (they count from 256). */
enum {
	PUBOPT_ZONE = 0x1000,
	PUBOPT_CONTROL,
	PUBOPT_ORIGIN,
	PUBOPT_NO_RELOAD,
	PUBOPT_FORCE,
};

#define PUBOPT_SHORT "c:n"

/* clang-format off */
#define PUBOPT_OPTIONS                                                  \
	{"config", required_argument, NULL, 'c'},                       \
	{"control", required_argument, NULL, PUBOPT_CONTROL},           \
	{"origin", required_argument, NULL, PUBOPT_ORIGIN},             \
	{"no-reload", no_argument, NULL, PUBOPT_NO_RELOAD},             \
	{"force", no_argument, NULL, PUBOPT_FORCE},                     \
	{"dry-run", no_argument, NULL, 'n'}

#define PUBOPT_OPTION_ZONE {"zone", required_argument, NULL, PUBOPT_ZONE}
/* clang-format on */

/* Takes the option getopt_long returned (c, with arg its optarg) into o.
 * Returns true when c is one of the options above. */
bool pubopt_take(struct publish_opts *o, int c, const char *arg);

/* The help lines of the options above (with_zone: --zone too). */
void pubopt_usage(FILE *f, bool with_zone);

/* The outcome as JSON members of the open object j: changed, written,
 * old_serial, new_serial, records, reload ("ok", "failed", "unreachable"
 * or null), diff (dry run). */
void pubopt_json_outcome(struct json *j, const struct publish_outcome *po);

/* A generator's publishing: one TXT value at owner (publish_txt), or the
 * RRset r (publish_records), into o->zone, keeping the outcome in out for
 * pubopt_json_published (out is initialised here; free it with
 * pubopt_outcome_cleanup). Without json a dry run's diff is printed on
 * stdout. Return the exit code of publish.h. */
int pubopt_publish_txt(struct publish_opts *o, const char *owner, const char *value,
                       const char *replace_prefix, bool json, struct publish_outcome *out);
int pubopt_publish_records(struct publish_opts *o, const struct publish_rrs *r, bool json,
                           struct publish_outcome *out);
void pubopt_outcome_cleanup(struct publish_outcome *out);

/* The "published" member of a generator's --json object: zone (as given),
 * owner, ok, dry_run, and the outcome (see pubopt_json_outcome). */
void pubopt_json_published(struct json *j, const struct publish_opts *o, const char *owner, int rc,
                           const struct publish_outcome *po);

/* The end of `mxdns dmarc|mta-sts|tls-rpt build`, the record value at
 * name (no final dot) linted into f: refused when f has errors (exit 1,
 * findings on stderr); else published into o->zone when it is set,
 * replacing the TXT record at name that starts with prefix, or printed as
 * a zone line. With json one object: name, value, extra_key: extra_value
 * (when extra_key is not NULL), the findings, and what was published;
 * without it the findings go to stderr. Returns the exit code. */
int pubopt_txt_build(struct publish_opts *o, const char *name, const char *value,
                     const char *prefix, const struct findings *f, bool json, const char *extra_key,
                     const char *extra_value);

#endif
