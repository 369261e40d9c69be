/* publish: writing records into a served zone, for every generator's
 * --zone option and for `mxdns zone`.
 *
 * A target is a zone file, or the name of a zone that the configuration
 * (-c) or the running daemon (its control socket) knows. Publishing edits
 * the file with zones/zonefile.h (locked, serial bumped, compiled with the
 * daemon's loader, written atomically), runs the mail checks below, and
 * then asks mxdnsd to reload that zone over the control socket. A daemon
 * that is not running is a warning, not a failure: the file is right and
 * the next start serves it.
 *
 * Mail checks on what an edit adds (refusals that --force overrides;
 * a zone that would not load, e.g. a CNAME beside other data, is always
 * refused):
 *   - an SPF record that fails spf_lint_record (syntax, more than 10
 *     DNS-costing terms, RFC 7208 §4.6.4);
 *   - a second SPF record at a name (RFC 7208 §4.5: permerror);
 *   - a DKIM key record that fails dkim_record_check, or a second one at
 *     a selector (RFC 6376 §3.6.2.2).
 *
 * Exit codes as tools/cmd.h: 0 done (or nothing to change), 1 refused,
 * 2 usage or runtime error; one line on stderr says why. */
#ifndef MXDNS_PUBLISH_H
#define MXDNS_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zone;
struct zonefile;
struct publish_outcome;

struct publish_opts {
	const char *zone;    /* --zone: FILE, or a zone NAME (required) */
	const char *config;  /* -c CONFIG: finds NAME's file and the control socket; may be NULL */
	const char *control; /* --control PATH; NULL: the config's, else $MXDNS_CONTROL */
	const char *origin;  /* --origin NAME: the zone's name when zone is a file that neither the
				config nor the daemon names and whose SOA owner is relative; may be NULL */
	bool no_reload;      /* --no-reload: only write the file */
	bool force;          /* --force: override the mail checks */
	bool dry_run;        /* --dry-run: show the diff, write nothing */
	bool quiet;          /* no "published ..." line on stderr */
	const char *prog;    /* e.g. "mxdns spf build", prefixes messages; NULL: "mxdns" */
	struct publish_outcome *outcome; /* publish_records/publish_txt: when not NULL, receives
					    what was done (a dry run's diff in outcome->diff, to free,
					    instead of on stdout), for a generator's --json */
};

/* The records to put at one owner. */
struct publish_rrs {
	const char *owner;  /* relative to the zone ("@" is the apex) or absolute with a final dot */
	uint16_t type;      /* RR_TXT, RR_TLSA, ... (zones/zone.h) */
	uint32_t ttl;       /* 0: the RRset's TTL if it exists, else the zone's $TTL */
	const char *const *rdata; /* n RDATA texts in presentation form, e.g. "\"v=spf1 mx -all\"" */
	size_t n;
	bool replace;       /* replace the RRset (or, with txt_prefix, the TXT records it matches) */
	const char *txt_prefix; /* TXT with replace: only the records whose value starts with this
				   (case-insensitive), e.g. "v=spf1", "v=DMARC1", "v=STSv1",
				   "v=TLSRPTv1"; other TXT records at the owner stay */
};

/* Publishes r into o->zone. Returns an exit code (see above). */
int publish_records(const struct publish_opts *o, const struct publish_rrs *r);

/* The common case for the mail records: one TXT value (the strings
 * concatenated, any length: it is split into strings of at most 255
 * bytes) at owner, replacing the TXT records that start with
 * replace_prefix (NULL: add beside the existing ones). */
int publish_txt(const struct publish_opts *o, const char *owner, uint32_t ttl, const char *value,
		const char *replace_prefix);

/* ---- for mxdns zone and dkim rotate ----------------------------------- */

/* Where a target lives. Strings are owned (publish_target_cleanup). */
struct publish_target {
	char *file;
	char *origin;  /* absolute, final dot */
	char *control; /* NULL when no control socket is known */
};

/* Resolves o->zone (see publish_opts). Returns 0 or an exit code 2 with
 * the message in err. */
int publish_target_resolve(const struct publish_opts *o, struct publish_target *t, char *err,
			   size_t errlen);
void publish_target_cleanup(struct publish_target *t);

/* What publish_commit did, for --json. */
struct publish_outcome {
	bool changed;      /* the edits changed the text */
	bool written;      /* the file was replaced */
	uint32_t old_serial, new_serial;
	size_t n_records;
	int reload;        /* -1 not asked, 0 reloaded, 1 the daemon failed, 2 unreachable */
	char *diff;        /* dry run with diff_to_string: the unified diff (malloc'ed) */
};

/* Commits zf's edits (serial, checks, atomic write), then reloads the
 * zone in the daemon. A dry run prints the unified diff on stdout, or
 * into out->diff when diff_to_string. Prints what was done on stderr
 * unless o->quiet. out may be NULL. Returns an exit code. */
int publish_commit(const struct publish_opts *o, const struct publish_target *t,
		   struct zonefile *zf, struct publish_outcome *out, bool diff_to_string);

/* The mail checks above as a zonefile_check_fn; arg points to a bool
 * (force: findings are printed as warnings and nothing is refused). */
int publish_mail_check(void *arg, const struct zone *z, const struct zonefile *zf, char *err,
		       size_t errlen);

/* Asks the daemon at control to reload zone. Returns 0 (reloaded), 1 (the
 * daemon answered with an error, printed), 2 (unreachable, warned). */
int publish_reload(const char *prog, const char *control, const char *zone, bool quiet);

#endif
