/* mtasts: MTA-STS (RFC 8461): the _mta-sts TXT record ("v=STSv1;
 * id=...", §3.1) and the policy file served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt (§3.2): building both and
 * linting both. */
#ifndef MXDNS_MTASTS_H
#define MXDNS_MTASTS_H

#include <stddef.h>
#include <time.h>

struct findings;

#define MTASTS_MAX_AGE_MAX 31557600L /* §3.2: at most one year */
#define MTASTS_POLICY_MAX 65536      /* §3.3: senders may refuse bigger bodies */

/* Checks the TXT value: begins with "v=STSv1;" (the record is ignored
 * otherwise), id= of 1..32 letters and digits, field values free of '='.
 * Returns 0, MX_ESYNTAX (errors in f) or -ENOMEM. */
int mtasts_lint_record(const char *value, size_t len, struct findings *f);

/* Checks a policy file: version STSv1, mode enforce|testing|none, max_age
 * of 1..10 digits up to 31557600, mx patterns (a host name or "*." and a
 * host name) — at least one unless mode is none; keys other than mx at
 * most once; unknown keys noted. Errors name the line. Returns 0,
 * MX_ESYNTAX or -ENOMEM. */
int mtasts_lint_policy(const char *text, size_t len, struct findings *f);

/* The id for now: the UTC time as YYYYMMDDhhmmss (14 digits; a new
 * policy needs a new id, §3.1). out needs 15 bytes. */
void mtasts_id(time_t now, char out[15]);

int cmd_mta_sts(int argc, char **argv);

#endif
