/* urilist: report URI lists (see urilist.h). */
#include "urilist.h"

#include "findings.h"
#include "mailuri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t urilist_check(const char *what, const char *list, int flags, bool mailto_advised,
                     struct findings *f)
{
	const char *p = list;
	char err[400];
	size_t count = 0;

	for (;;) {
		size_t n = strcspn(p, ",");
		const char *s = p, *e = p + n;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e)
			findings_add(f, FINDING_ERROR, "%s: empty URI in the list", what);
		else if (mailuri_check(s, (size_t)(e - s), flags, NULL, err, sizeof(err)) < 0)
			findings_add(f, FINDING_ERROR, "%s: %s", what, err);
		else if (mailto_advised && strncasecmp(s, "mailto:", 7) != 0)
			findings_add(f, FINDING_WARN,
			             "%s: '%.*s': most receivers only send to mailto: URIs", what,
			             (int)(e - s), s);
		count++;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return count;
}

int urilist_build(const char *list, char **out)
{
	const char *p = list;
	size_t len = 0;
	FILE *mem = open_memstream(out, &len);

	if (mem == NULL) {
		*out = NULL;
		return -ENOMEM;
	}
	for (bool first = true;; first = false) {
		size_t n = strcspn(p, ",");
		fprintf(mem, "%s%s%.*s", first ? "" : ",",
		        memchr(p, ':', n) ? "" : "mailto:", (int)n, p);
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (fclose(mem) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
