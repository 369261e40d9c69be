/* zonefile: locked, atomic edits of a zone master file that keep the
 * operator's text.
 *
 * The file is read whole and cut into entries with ldns, one call per
 * entry, so every RR is known with the exact bytes (lines) that hold it;
 * comment and blank lines are entries of their own. An edit deletes the
 * entries of matched RRs and inserts new lines (after the owner's last
 * RR, or at the end of the file); every other byte stays as written. The
 * SOA serial is replaced inside the SOA's text in place.
 *
 * Committing follows DESIGN.md: under an exclusive flock on FILE.lock,
 * bump the serial, write a temporary file in the same directory
 * (.NAME.mxdns-tmp.XXXXXX), fsync it, compile it with zone_load (the very
 * loader of the daemon: a file that would not load is refused with its
 * FILE:LINE error), run the mail checks, rename it over FILE and fsync the
 * directory. A crash at any point leaves the old or the new file; a stale
 * temporary file left by a crash is removed by the next editor holding the
 * lock, and mxdnsd never reads it.
 *
 * Only the main file is edited: RRs that come from an $INCLUDE are seen by
 * the checks but cannot be matched for deletion.
 *
 * Errors (zones/errcode.h): MX_ESYNTAX (bad record text, or the file does
 * not parse), MX_ENOTFOUND, MX_EZONE (the edited zone would not load),
 * MX_EREFUSED (the check callback refused it), MX_EINVAL,
 * MX_ELIMIT (the lock was not obtained in time), -errno. Every error
 * writes one line into the caller's err buffer. */
#ifndef MXDNS_ZONEFILE_H
#define MXDNS_ZONEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ZONEFILE_LOCK_WAIT_S 30
#define ZONEFILE_TMP_TAG ".mxdns-tmp." /* temporary files: .BASENAME.mxdns-tmp.XXXXXX */

struct zonefile;

enum {
	ZONEFILE_LOCK = 1 << 0, /* take FILE.lock for an edit (waits up to ZONEFILE_LOCK_WAIT_S) */
};

/* Reads path (a symlink is followed: its target is edited) as the zone
 * origin. With ZONEFILE_LOCK the lock is held until zonefile_free, and
 * stale temporary files of earlier crashed edits are removed. The file
 * must parse (ldns); a bad line is reported as FILE:LINE. */
int zonefile_open(struct zonefile **out, const char *path, const char *origin, int flags,
		  char *err, size_t errlen);
void zonefile_free(struct zonefile *zf);

/* Which RRs an edit applies to. owner is relative to the zone origin
 * (or absolute with a final dot; "@" is the apex). type 0 matches every
 * type. rdata (presentation form) matches one RR exactly; for TXT the
 * strings are compared concatenated, so a differently split value still
 * matches. txt_prefix (TXT only, case-insensitive) matches the records
 * whose value starts with it: "v=spf1" picks the SPF record out of the
 * TXT RRset and leaves the others. */
struct zonefile_match {
	const char *owner;
	uint16_t type;
	const char *rdata;
	const char *txt_prefix;
};

/* Adds one RR, given as a zone-file line "OWNER [TTL] [IN] TYPE RDATA"
 * (owner relative to the zone). Without a TTL, the RRset's TTL is used
 * when it exists (RFC 2181 §5.2), else the line inherits $TTL. Returns 1
 * when added, 0 when the RR is already there. */
int zonefile_add(struct zonefile *zf, const char *rr_text, char *err, size_t errlen);

/* Deletes the RRs that m matches (never the SOA). Returns how many. */
int zonefile_delete(struct zonefile *zf, const struct zonefile_match *m, char *err,
		    size_t errlen);

/* Replaces what m matches (m->type must be set) by the n RRs in
 * rr_texts (each as for zonefile_add; all with m's owner and type). The
 * new lines go where the first matched one was. Returns the number of RRs
 * changed: 0 when the matched RRs are exactly the new ones. */
int zonefile_replace(struct zonefile *zf, const struct zonefile_match *m,
		     const char *const *rr_texts, size_t n, char *err, size_t errlen);

/* One RR of the main file, for listing. */
struct zonefile_rr {
	const char *text; /* presentation form, owner absolute (ldns) */
	const char *owner; /* absolute, with final dot */
	uint16_t type;
	int line;         /* where its entry starts in the current text */
	const char *txt;  /* TXT: the strings concatenated (else NULL) */
	size_t txt_len;
};

/* Calls fn for every RR of the current text that m matches (m may be
 * NULL: all). Stops early when fn returns non-zero. */
int zonefile_foreach(struct zonefile *zf, const struct zonefile_match *m,
		     int (*fn)(void *arg, const struct zonefile_rr *rr), void *arg, char *err,
		     size_t errlen);

/* The text as read and as edited so far (NUL-terminated). */
const char *zonefile_old_text(const struct zonefile *zf, size_t *len);
const char *zonefile_text(const struct zonefile *zf, size_t *len);
/* The file actually edited (symlinks resolved) and the zone origin
 * (absolute, final dot). */
const char *zonefile_path(const struct zonefile *zf);
const char *zonefile_origin(const struct zonefile *zf);
/* Whether the edits so far changed anything. */
bool zonefile_changed(const struct zonefile *zf);

/* What the edits added, for the checks run before a commit. */
struct zonefile_added {
	const char *owner; /* absolute, final dot */
	uint16_t type;
	const char *txt;   /* TXT: the strings concatenated (else NULL) */
	size_t txt_len;
};

size_t zonefile_added_count(const struct zonefile *zf);
/* Fills out for the i-th added RR; the strings stay valid until the next
 * call. Returns 0, MX_ENOTFOUND or -ENOMEM. */
int zonefile_added_get(const struct zonefile *zf, size_t i, struct zonefile_added *out);

enum {
	ZONEFILE_DRY_RUN = 1 << 0, /* bump, check, but do not write: see zonefile_text */
};

struct zonefile_result {
	uint32_t old_serial, new_serial;
	bool written;     /* the file was replaced */
	size_t n_records; /* of the compiled zone */
};

struct zone;

/* A policy check run on the compiled result before it is written (the
 * mail checks live in tools/, which owns SPF and DKIM). Returns 0, or
 * MX_EREFUSED with a message in err to refuse the edit. */
typedef int (*zonefile_check_fn)(void *arg, const struct zone *z, const struct zonefile *zf,
				 char *err, size_t errlen);

struct zonefile_commit_opts {
	int flags;
	time_t now; /* for date serials; 0: time(NULL) */
	zonefile_check_fn check; /* may be NULL */
	void *check_arg;
};

/* Bumps the serial, validates and (unless ZONEFILE_DRY_RUN) writes the
 * file atomically, as described at the top. Nothing is done when nothing
 * changed (written false, serials 0). Needs ZONEFILE_LOCK unless
 * dry-running. After a dry run, zonefile_text is the text that would be
 * written. */
int zonefile_commit(struct zonefile *zf, const struct zonefile_commit_opts *o,
		    struct zonefile_result *res, char *err, size_t errlen);

/* RFC 1982 serial arithmetic for the next serial after old. When old
 * reads as a date serial YYYYMMDDnn (a valid date, year 1990..2199), the
 * result is today's YYYYMMDD00 (UTC) when that is greater, else old + 1;
 * otherwise old + 1. Wrapping from 4294967295 skips 0, which several tools
 * take for "no serial". */
uint32_t zonefile_serial_next(uint32_t old, time_t now);

/* Serial comparison, RFC 1982 §3.2: 1 when a > b, -1 when a < b, 0 when
 * equal or undefined (exactly 2^31 apart). */
int zonefile_serial_cmp(uint32_t a, uint32_t b);

#endif
