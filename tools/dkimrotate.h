/* dkimrotate: `mxdns dkim rotate` and `mxdns dkim list`, DKIM key rotation
 * with its state kept in the zone itself (no state file):
 *   - a selector S under _domainkey.D with a non-empty p= is active;
 *   - one with an empty p= is revoked (RFC 6376 §3.6.1), and its notes tag
 *     n= says since when: "n=revoked YYYY-MM-DD";
 *   - a removed selector is gone from the zone.
 * The workflow: rotate --new-selector S2 publishes a new key beside the
 * old one; once signers use S2 and the overlap has passed (verifiers and
 * messages in transit still need S1), rotate --revoke S1; after the
 * overlap period again, rotate --remove S1.
 *
 * tools/dkim.c dispatches "rotate" and "list" here with argv[0] being the
 * verb. Both return exit codes as tools/cmd.h says. */
#ifndef MXDNS_DKIMROTATE_H
#define MXDNS_DKIMROTATE_H

#include <stdbool.h>
#include <stddef.h>

#define DKIMROTATE_OVERLAP_DAYS 7

int dkim_rotate_main(int argc, char **argv);
int dkim_list_main(int argc, char **argv);

/* The state of one selector's record value (TXT strings concatenated).
 * since is "YYYY-MM-DD" from n=revoked (or ""). Returns 0, or MX_ESYNTAX
 * when the value is not a tag list. */
enum dkimrotate_state { DKIMROTATE_ACTIVE, DKIMROTATE_REVOKED, DKIMROTATE_INVALID };
int dkimrotate_state_of(const char *value, size_t len, enum dkimrotate_state *state,
			char since[11]);

/* The revoked form of a record value: every tag kept in order except p=
 * (emptied, last) and n= (replaced by "n=revoked DATE"). out is malloc'ed.
 * Returns 0, MX_ESYNTAX or -ENOMEM. */
int dkimrotate_revoked_value(const char *value, size_t len, const char *date, char **out);

/* Whole days from date ("YYYY-MM-DD") to today's date (UTC of now);
 * -1 when date does not parse. */
long dkimrotate_days_since(const char *date, long long now);

#endif
