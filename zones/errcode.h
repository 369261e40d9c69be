/* errcode: the project's one error type.
 *
 * Functions return 0 on success, a negative errno for system failures, or
 * one of the MX_E* codes below (all under -1000) for our own failures.
 * mx_strerror() names any of them. */
#ifndef MXDNS_ERRCODE_H
#define MXDNS_ERRCODE_H

enum {
	MX_OK = 0,
	MX_EBASE = -1000,
	MX_ESYNTAX = -1001,   /* malformed text input (zone, config, record) */
	MX_EMALFORMED = -1002, /* malformed wire data */
	MX_ESPACE = -1003,    /* output buffer too small */
	MX_ENOTFOUND = -1004, /* no such name, zone, entry, key */
	MX_EEXIST = -1005,    /* already exists (and overwriting was not asked for) */
	MX_EZONE = -1006,     /* zone content fails a semantic check */
	MX_ELIMIT = -1007,    /* a configured or protocol limit was reached */
	MX_ESCHEMA = -1008,   /* database schema unknown or newer than ours */
	MX_EDB = -1009,       /* LMDB failure (see the log line for the LMDB text) */
	MX_ECRYPTO = -1010,   /* OpenSSL failure */
	MX_EREFUSED = -1011,  /* a safety check refused the change */
	MX_EINVAL = -1012,    /* invalid argument or option value */
};

/* A static string for any code above; never NULL. */
const char *mx_strerror(int code);

#endif
