/* errcode: names for the project's error codes. */
#include "errcode.h"

#include <string.h>

const char *mx_strerror(int code)
{
	switch (code) {
	case MX_OK: return "success";
	case MX_ESYNTAX: return "syntax error";
	case MX_EMALFORMED: return "malformed data";
	case MX_ESPACE: return "not enough space";
	case MX_ENOTFOUND: return "not found";
	case MX_EEXIST: return "already exists";
	case MX_EZONE: return "zone check failed";
	case MX_ELIMIT: return "limit reached";
	case MX_ESCHEMA: return "unknown database schema";
	case MX_EDB: return "database error";
	case MX_ECRYPTO: return "cryptography error";
	case MX_EREFUSED: return "refused by a safety check";
	case MX_EINVAL: return "invalid argument";
	}
	if (code < 0 && code > MX_EBASE)
		return strerror(-code);
	return "unknown error";
}
