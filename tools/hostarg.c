/* hostarg: command-line domain names, see hostarg.h. */
#include "hostarg.h"

#include "errcode.h"

#include <stdio.h>
#include <string.h>

int hostarg_parse(const char *name, const char *what, char out[HOSTARG_MAX], char *err,
		  size_t errcap)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > HOSTARG_MAX - 1) {
		snprintf(err, errcap, "%s: '%s' is not a domain name (1..253 characters)", what,
			 name);
		return MX_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '.') {
			if (label == 0)
				goto bad;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			goto bad;
		if (++label > 63)
			goto bad;
	}
	memcpy(out, name, len);
	out[len] = '\0';
	return 0;
bad:
	snprintf(err, errcap,
		 "%s: '%s' is not a domain name (labels of 1..63 letters, digits, '-', '_')",
		 what, name);
	return MX_EINVAL;
}
