/* lintcli: shared front-end pieces of the record linters, see lintcli.h. */
#include "lintcli.h"

#include "dnsq.h"
#include "errcode.h"
#include "findings.h"
#include "json.h"
#include "txtrec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool lintcli_has_prefix(const char *value, const char *prefix)
{
	size_t n = strlen(prefix);
	char next;

	if (strncmp(value, prefix, n) != 0)
		return false;
	next = value[n];
	return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

int lintcli_get(const char *cmd, const char *text, const char *server, const char *name,
		const char *prefix, char **value, struct findings *f)
{
	struct dnsq q;
	struct dnsq_answer ans;
	size_t len, found = 0, which = 0;
	int r, ret = 2;

	*value = NULL;
	memset(&ans, 0, sizeof(ans));
	if (text != NULL) {
		char *buf = malloc(strlen(text) + 1);
		if (buf == NULL || txtrec_join(text, buf, strlen(text) + 1, &len) < 0) {
			fprintf(stderr, "%s: the record: unterminated or bad quoted string\n", cmd);
			free(buf);
			return 2;
		}
		*value = buf;
		return 0;
	}
	if (dnsq_init(&q, server) < 0) {
		fprintf(stderr, "%s: %s\n", cmd, q.err);
		return 2;
	}
	r = dnsq_lookup(&q, name, "TXT", &ans);
	if (r == MX_ENOTFOUND) {
		findings_add(f, FINDING_ERROR, "%s", q.err);
		ret = 1;
		goto done;
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", cmd, q.err);
		goto done;
	}
	for (size_t i = 0; i < ans.count; i++) {
		if (lintcli_has_prefix(ans.txt[i], prefix)) {
			found++;
			which = i;
		}
	}
	if (found != 1) {
		findings_add(f, FINDING_ERROR, "%zu TXT records at %s start with %s; there must be "
			     "exactly one", found, name, prefix);
		ret = 1;
		goto done;
	}
	if (strlen(ans.txt[which]) != ans.txt_len[which]) {
		findings_add(f, FINDING_ERROR, "the record at %s holds a NUL byte", name);
		ret = 1;
		goto done;
	}
	*value = strdup(ans.txt[which]);
	ret = *value ? 0 : 2;
done:
	dnsq_answer_cleanup(&ans);
	dnsq_cleanup(&q);
	return ret;
}

int lintcli_print_txt(FILE *out, const char *name, const char *value)
{
	size_t len = strlen(value), cap = len * 4 + txtrec_count(len) * 3 + 1;
	char *s = malloc(cap);

	if (s == NULL || txtrec_format(value, len, " ", s, cap) < 0) {
		free(s);
		return -ENOMEM;
	}
	if (txtrec_count(len) > 1)
		fprintf(out, "%s. 3600 IN TXT ( %s )\n", name, s);
	else
		fprintf(out, "%s. 3600 IN TXT %s\n", name, s);
	free(s);
	return 0;
}

int lintcli_report(const char *name, const char *value, const struct findings *f, bool json)
{
	bool ok = findings_count(f, FINDING_ERROR) == 0;

	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kv_str(&j, "name", name);
		json_kv_str(&j, "value", value);
		json_kv_bool(&j, "ok", ok);
		findings_json(f, &j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		findings_print(f, stdout, "");
		printf("%s: %s\n", ok ? "ok" : "FAILED", name ? name : "record");
	}
	return ok ? 0 : 1;
}

int lintcli_lint(const char *cmd, const char *text, const char *server, const char *name,
		 const char *prefix, int (*lint)(const char *value, size_t len, struct findings *f),
		 bool json)
{
	struct findings f;
	char *value = NULL;
	int ret;

	findings_init(&f);
	ret = lintcli_get(cmd, text, server, name, prefix, &value, &f);
	if (ret == 0)
		lint(value, strlen(value), &f);
	if (ret != 2)
		ret = lintcli_report(text ? NULL : name, value, &f, json);
	free(value);
	return ret;
}
