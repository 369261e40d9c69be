/* findings: ordered lint results, see findings.h. */
#include "findings.h"

#include "json.h"

#include <stdarg.h>
#include <string.h>

void findings_init(struct findings *f)
{
	memset(f, 0, sizeof(*f));
}

void findings_add(struct findings *f, enum finding_level level, const char *fmt, ...)
{
	va_list ap;

	if (f->count == FINDINGS_MAX) {
		f->dropped++;
		/* Never lose the fact that something failed. */
		if (level == FINDING_ERROR)
			f->item[FINDINGS_MAX - 1].level = FINDING_ERROR;
		return;
	}
	f->item[f->count].level = level;
	va_start(ap, fmt);
	vsnprintf(f->item[f->count].msg, sizeof(f->item[f->count].msg), fmt, ap);
	va_end(ap);
	f->count++;
}

size_t findings_count(const struct findings *f, enum finding_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < f->count; i++)
		if (f->item[i].level == level)
			n++;
	return n;
}

int findings_has(const struct findings *f, enum finding_level level, const char *needle)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->item[i].level == level && strstr(f->item[i].msg, needle) != NULL)
			return 1;
	return 0;
}

static const char *level_name(enum finding_level level)
{
	switch (level) {
	case FINDING_ERROR:
		return "error";
	case FINDING_WARN:
		return "warning";
	default:
		return "note";
	}
}

void findings_print(const struct findings *f, FILE *out, const char *prefix)
{
	for (size_t i = 0; i < f->count; i++)
		fprintf(out, "%s%s: %s\n", prefix ? prefix : "", level_name(f->item[i].level),
			f->item[i].msg);
	if (f->dropped)
		fprintf(out, "%s(%zu more findings not shown)\n", prefix ? prefix : "",
			f->dropped);
}

void findings_json(const struct findings *f, struct json *j)
{
	static const struct {
		const char *key;
		enum finding_level level;
	} groups[] = {{"errors", FINDING_ERROR}, {"warnings", FINDING_WARN}, {"notes", FINDING_NOTE}};

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		json_key(j, groups[g].key);
		json_arr_begin(j);
		for (size_t i = 0; i < f->count; i++)
			if (f->item[i].level == groups[g].level)
				json_str(j, f->item[i].msg);
		json_arr_end(j);
	}
}
