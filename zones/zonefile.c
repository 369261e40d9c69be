/* zonefile: locked, atomic zone-file edits that keep the operator's text
 * (see zonefile.h for the contract and the crash-safety argument). */
#include "zonefile.h"

#include "errcode.h"
#include "zone.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZF_TTL_DEFAULT 3600 /* as zone.c: the TTL before any $TTL */

enum ent_kind { ENT_BLANK, ENT_DIRECTIVE, ENT_RR };

struct entry {
	size_t off, len;  /* bytes in text, with the entry's final newline */
	int line;         /* 1-based line of its first byte */
	enum ent_kind kind;
	ldns_rr *rr;      /* ENT_RR: owner absolute */
	bool blank_owner; /* starts with blank: the owner is the previous one (RFC 1035 §5.1) */
	size_t origin;    /* index in zf->origins: $ORIGIN in effect */
};

struct added {
	ldns_rr *rr;
};

struct zonefile {
	char *path;   /* resolved */
	char *origin; /* absolute, final dot */
	ldns_rdf *apex;
	char *old_text;
	size_t old_len;
	char *text;
	size_t len;
	struct stat st; /* of the file when read, to notice other writers */
	int lock_fd;
	struct entry *e;
	size_t n;
	char **origins;
	size_t n_origins;
	ldns_rr **added; /* RRs added by the edits, for the checks */
	size_t n_added;
	char *rr_text; /* scratch for zonefile_foreach */
};

static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- reading the file into entries ------------------------------------ */

static void entries_clear(struct zonefile *zf)
{
	for (size_t i = 0; i < zf->n; i++)
		ldns_rr_free(zf->e[i].rr);
	free(zf->e);
	zf->e = NULL;
	zf->n = 0;
	for (size_t i = 0; i < zf->n_origins; i++)
		free(zf->origins[i]);
	free(zf->origins);
	zf->origins = NULL;
	zf->n_origins = 0;
}

static int push_origin(struct zonefile *zf, const ldns_rdf *origin)
{
	char *s = ldns_rdf2str(origin);
	char **v = realloc(zf->origins, (zf->n_origins + 1) * sizeof(*v));
	if (!s || !v) {
		free(s);
		if (v)
			zf->origins = v;
		return -ENOMEM;
	}
	zf->origins = v;
	v[zf->n_origins++] = s;
	return 0;
}

static int push_entry(struct zonefile *zf, size_t *cap, const struct entry *e)
{
	if (zf->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct entry *v = realloc(zf->e, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		zf->e = v;
		*cap = nc;
	}
	zf->e[zf->n++] = *e;
	return 0;
}

/* A line holding only blanks and maybe a comment: its length with the
 * newline, or 0 if the line has content. */
static size_t blank_line(const char *p, const char *end)
{
	const char *q = p;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
		q++;
	if (q < end && *q == ';')
		while (q < end && *q != '\n')
			q++;
	if (q == end)
		return (size_t)(q - p);
	if (*q == '\n')
		return (size_t)(q - p) + 1;
	return 0;
}

static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
}

/* Length of the entry at p: up to the first newline outside parentheses,
 * quotes and comments (RFC 1035 §5.1). */
static size_t entry_len(const char *p, const char *end)
{
	int depth = 0;
	for (const char *q = p; q < end; q++) {
		switch (*q) {
		case '\\':
			if (q + 1 < end && q[1] != '\n')
				q++;
			break;
		case '"':
			for (q++; q < end && *q != '"'; q++)
				if (*q == '\\' && q + 1 < end)
					q++;
			if (q == end)
				return (size_t)(end - p);
			break;
		case ';':
			while (q + 1 < end && q[1] != '\n')
				q++;
			break;
		case '(':
			depth++;
			break;
		case ')':
			depth--;
			break;
		case '\n':
			if (depth <= 0)
				return (size_t)(q - p) + 1;
			break;
		}
	}
	return (size_t)(end - p);
}

static int count_lines(const char *p, size_t len)
{
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* Cuts zf->text into entries. Blank and comment lines are taken here,
 * one entry per line, before ldns sees them (ldns would fold them into the
 * next RR); $INCLUDE lines too, as zone.c reads them itself. */
static int parse(struct zonefile *zf, const char *label, char *err, size_t errlen)
{
	FILE *fp = NULL;
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = ZF_TTL_DEFAULT;
	size_t cap = 0, pos = 0;
	int line = 1, rc = 0;
	const char *end = zf->text + zf->len;

	entries_clear(zf);
	origin = ldns_rdf_clone(zf->apex);
	if (!origin || push_origin(zf, origin) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	while (pos < zf->len) {
		struct entry e = {.off = pos, .line = line, .kind = ENT_BLANK,
				  .origin = zf->n_origins - 1};
		const char *p = zf->text + pos;
		size_t bl = blank_line(p, end);
		if (bl > 0) {
			e.len = bl;
		} else if (strncmp(p, "$INCLUDE", 8) == 0 && (p[8] == ' ' || p[8] == '\t')) {
			e.kind = ENT_DIRECTIVE;
			e.len = line_len(p, end);
		} else {
			ldns_rr *rr = NULL;
			int l = 0;
			/* ldns is given exactly the entry: it reads on past a
			 * trailing comment's newline into the next line. */
			e.len = entry_len(p, end);
			fp = fmemopen((void *)p, e.len, "r");
			if (!fp) {
				rc = -ENOMEM;
				goto fail;
			}
			ldns_status s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &l);
			fclose(fp);
			fp = NULL;
			switch (s) {
			case LDNS_STATUS_OK:
				e.kind = ENT_RR;
				e.rr = rr;
				e.blank_owner = (*p == ' ' || *p == '\t');
				break;
			case LDNS_STATUS_SYNTAX_ORIGIN:
				e.kind = ENT_DIRECTIVE;
				if (push_origin(zf, origin) < 0) {
					rc = -ENOMEM;
					goto fail;
				}
				e.origin = zf->n_origins - 1;
				break;
			case LDNS_STATUS_SYNTAX_TTL:
				e.kind = ENT_DIRECTIVE;
				break;
			case LDNS_STATUS_SYNTAX_EMPTY:
				break;
			default:
				ldns_rr_free(rr);
				rc = errf(err, errlen, MX_ESYNTAX, "%s:%d: %s", label, line,
					  ldns_get_errorstr_by_id(s));
				goto fail;
			}
		}
		if ((rc = push_entry(zf, &cap, &e)) < 0) {
			ldns_rr_free(e.rr);
			goto fail;
		}
		line += count_lines(zf->text + pos, e.len);
		pos += e.len;
	}
fail:
	if (rc == -ENOMEM)
		errf(err, errlen, rc, "%s: out of memory", label);
	if (fp)
		fclose(fp);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	return rc;
}

/* ---- opening and locking ------------------------------------------------ */

static int read_all(int fd, char **out, size_t *outlen)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

static int take_lock(struct zonefile *zf, char *err, size_t errlen)
{
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof(lock), "%s.lock", zf->path);
	/* The lock file stays: unlinking it would let a second editor lock a
	 * new inode while a first still holds the old one. */
	zf->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (zf->lock_fd < 0)
		return errf(err, errlen, -errno, "%s: cannot open the lock file: %s", lock,
			    strerror(errno));
	for (int tries = 0;; tries++) {
		if (flock(zf->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return errf(err, errlen, -errno, "%s: cannot lock: %s", lock,
				    strerror(errno));
		if (tries >= ZONEFILE_LOCK_WAIT_S * 10)
			return errf(err, errlen, MX_ELIMIT,
				    "%s: another edit has held the lock for %d s; try again later",
				    lock, ZONEFILE_LOCK_WAIT_S);
		usleep(100000);
	}
}

static void split_path(const char *path, char *dir, size_t dircap, const char **base)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(dir, dircap, ".");
		*base = path;
	} else if (slash == path) {
		snprintf(dir, dircap, "/");
		*base = slash + 1;
	} else {
		snprintf(dir, dircap, "%.*s", (int)(slash - path), path);
		*base = slash + 1;
	}
}

/* Removes temporary files a crashed edit left. Only called with the lock
 * held, so none of them belongs to a live editor. */
static void clean_stale(const struct zonefile *zf)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 1], path[PATH_MAX * 2];
	const char *base;
	split_path(zf->path, dir, sizeof(dir), &base);
	int n = snprintf(prefix, sizeof(prefix), ".%s" ZONEFILE_TMP_TAG, base);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, (size_t)n) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

int zonefile_open(struct zonefile **out, const char *path, const char *origin, int flags,
		  char *err, size_t errlen)
{
	struct zonefile *zf = calloc(1, sizeof(*zf));
	char real[PATH_MAX], org[1100];
	int fd = -1, rc;

	*out = NULL;
	if (!zf)
		return errf(err, errlen, -ENOMEM, "out of memory");
	zf->lock_fd = -1;
	if (!realpath(path, real)) {
		rc = errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	size_t ol = strlen(origin);
	snprintf(org, sizeof(org), "%s%s", origin, ol && origin[ol - 1] == '.' ? "" : ".");
	if (ol == 0 || ol > 1000 || ldns_str2rdf_dname(&zf->apex, org) != LDNS_STATUS_OK) {
		rc = errf(err, errlen, MX_EINVAL, "'%s' is not a zone name", origin);
		goto fail;
	}
	zf->path = strdup(real);
	zf->origin = ldns_rdf2str(zf->apex);
	if (!zf->path || !zf->origin) {
		rc = errf(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((flags & ZONEFILE_LOCK) && (rc = take_lock(zf, err, errlen)) < 0)
		goto fail;
	if (flags & ZONEFILE_LOCK)
		clean_stale(zf);
	fd = open(zf->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &zf->st) < 0) {
		rc = errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(zf->st.st_mode)) {
		rc = errf(err, errlen, MX_EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	if ((rc = read_all(fd, &zf->text, &zf->len)) < 0) {
		errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	if (memchr(zf->text, '\0', zf->len)) {
		rc = errf(err, errlen, MX_ESYNTAX, "%s: holds a NUL byte; not a zone file", path);
		goto fail;
	}
	zf->old_text = malloc(zf->len + 1);
	if (!zf->old_text) {
		rc = errf(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(zf->old_text, zf->text, zf->len + 1);
	zf->old_len = zf->len;
	if ((rc = parse(zf, path, err, errlen)) < 0)
		goto fail;
	close(fd);
	*out = zf;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	zonefile_free(zf);
	return rc;
}

void zonefile_free(struct zonefile *zf)
{
	if (!zf)
		return;
	entries_clear(zf);
	for (size_t i = 0; i < zf->n_added; i++)
		ldns_rr_free(zf->added[i]);
	free(zf->added);
	if (zf->lock_fd >= 0)
		close(zf->lock_fd); /* releases the flock */
	ldns_rdf_deep_free(zf->apex);
	free(zf->path);
	free(zf->origin);
	free(zf->old_text);
	free(zf->text);
	free(zf->rr_text);
	free(zf);
}

const char *zonefile_old_text(const struct zonefile *zf, size_t *len)
{
	if (len)
		*len = zf->old_len;
	return zf->old_text;
}

const char *zonefile_text(const struct zonefile *zf, size_t *len)
{
	if (len)
		*len = zf->len;
	return zf->text;
}

const char *zonefile_path(const struct zonefile *zf)
{
	return zf->path;
}

const char *zonefile_origin(const struct zonefile *zf)
{
	return zf->origin;
}

bool zonefile_changed(const struct zonefile *zf)
{
	return zf->len != zf->old_len || memcmp(zf->text, zf->old_text, zf->len) != 0;
}

/* ---- matching ------------------------------------------------------------ */

/* A TXT RR's strings concatenated (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
static size_t txt_value(const ldns_rr *rr, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(f);
		size_t l = ldns_rdf_size(f) ? d[0] : 0;
		if (l + 1 > ldns_rdf_size(f))
			l = ldns_rdf_size(f) ? ldns_rdf_size(f) - 1 : 0;
		for (size_t k = 0; k < l && n + 1 < cap; k++)
			out[n++] = (char)d[1 + k];
	}
	if (cap)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}

static bool rdata_equal(const ldns_rr *a, const ldns_rr *b)
{
	if (ldns_rr_get_type(a) != ldns_rr_get_type(b))
		return false;
	if (ldns_rr_get_type(a) == LDNS_RR_TYPE_TXT) {
		static char va[70000], vb[70000]; /* an RR's rdata is at most 65535 bytes */
		size_t la = txt_value(a, va, sizeof(va)), lb = txt_value(b, vb, sizeof(vb));
		return la == lb && memcmp(va, vb, la) == 0;
	}
	if (ldns_rr_rd_count(a) != ldns_rr_rd_count(b))
		return false;
	for (size_t i = 0; i < ldns_rr_rd_count(a); i++)
		if (ldns_rdf_compare(ldns_rr_rdf(a, i), ldns_rr_rdf(b, i)) != 0)
			return false;
	return true;
}

/* A match compiled against the zone: owner as an rdf, rdata as an RR. */
struct cmatch {
	ldns_rdf *owner;
	uint16_t type;
	ldns_rr *rdata;
	const char *txt_prefix;
};

static void cmatch_cleanup(struct cmatch *c)
{
	ldns_rdf_deep_free(c->owner);
	ldns_rr_free(c->rdata);
}

static int owner_rdf(const struct zonefile *zf, const char *owner, ldns_rdf **out, char *err,
		     size_t errlen)
{
	ldns_rdf *r = NULL;
	*out = NULL;
	if (strcmp(owner, "@") == 0) {
		*out = ldns_rdf_clone(zf->apex);
		return *out ? 0 : errf(err, errlen, -ENOMEM, "out of memory");
	}
	if (ldns_str2rdf_dname(&r, owner) != LDNS_STATUS_OK)
		return errf(err, errlen, MX_ESYNTAX, "'%s' is not a domain name", owner);
	if (!ldns_dname_str_absolute(owner)) {
		ldns_rdf *abs = ldns_dname_cat_clone(r, zf->apex);
		ldns_rdf_deep_free(r);
		if (!abs)
			return errf(err, errlen, MX_ESYNTAX, "'%s' is too long below %s", owner,
				    zf->origin);
		r = abs;
	}
	if (!ldns_dname_is_subdomain(r, zf->apex) && ldns_dname_compare(r, zf->apex) != 0) {
		char *s = ldns_rdf2str(r);
		errf(err, errlen, MX_EINVAL, "%s is not in the zone %s", s ? s : owner, zf->origin);
		free(s);
		ldns_rdf_deep_free(r);
		return MX_EINVAL;
	}
	*out = r;
	return 0;
}

/* Parses "OWNER [TTL] [CLASS] TYPE RDATA" relative to the zone. *has_ttl
 * tells whether the text gave a TTL (the second field starts with a
 * digit: type and class names never do). */
static int rr_parse(const struct zonefile *zf, const char *text, ldns_rr **out, bool *has_ttl,
		    char *err, size_t errlen)
{
	ldns_rr *rr = NULL;
	ldns_rdf *prev = NULL;
	const char *p = text;

	*out = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *owner_end = p + strcspn(p, " \t");
	const char *q = owner_end + strspn(owner_end, " \t");
	if (has_ttl)
		*has_ttl = isdigit((unsigned char)*q) != 0;
	if (*p == '\0' || *q == '\0' || strchr(text, '\n'))
		return errf(err, errlen, MX_ESYNTAX,
			    "'%s': want one record: OWNER [TTL] [IN] TYPE RDATA", text);
	/* $ORIGIN-relative with the zone's apex; "@" is the apex. */
	ldns_status s = ldns_rr_new_frm_str(&rr, text, ZF_TTL_DEFAULT, zf->apex, &prev);
	ldns_rdf_deep_free(prev);
	if (s != LDNS_STATUS_OK)
		return errf(err, errlen, MX_ESYNTAX, "'%s': %s", text, ldns_get_errorstr_by_id(s));
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		ldns_rr_free(rr);
		return errf(err, errlen, MX_ESYNTAX, "'%s': only class IN is served", text);
	}
	const ldns_rdf *o = ldns_rr_owner(rr);
	if (!ldns_dname_is_subdomain(o, zf->apex) && ldns_dname_compare(o, zf->apex) != 0) {
		ldns_rr_free(rr);
		return errf(err, errlen, MX_EINVAL, "'%s': the owner is not in the zone %s", text,
			    zf->origin);
	}
	*out = rr;
	return 0;
}

static int cmatch_init(const struct zonefile *zf, const struct zonefile_match *m,
		       struct cmatch *c, char *err, size_t errlen)
{
	int rc;
	memset(c, 0, sizeof(*c));
	c->type = m->type;
	c->txt_prefix = m->txt_prefix;
	if (!m->owner)
		return errf(err, errlen, MX_EINVAL, "no owner name to match");
	if ((rc = owner_rdf(zf, m->owner, &c->owner, err, errlen)) < 0)
		return rc;
	if (m->rdata) {
		char *t = NULL;
		char *ty = ldns_rr_type2str(m->type);
		if (!m->type || !ty || asprintf(&t, "@ 0 IN %s %s", ty, m->rdata) < 0) {
			free(ty);
			cmatch_cleanup(c);
			return errf(err, errlen, MX_EINVAL, "matching by rdata needs a type");
		}
		free(ty);
		rc = rr_parse(zf, t, &c->rdata, NULL, err, errlen);
		free(t);
		if (rc < 0) {
			cmatch_cleanup(c);
			return rc;
		}
	}
	return 0;
}

static bool prefix_ci(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);
	return len >= pl && strncasecmp(s, prefix, pl) == 0;
}

static bool matches(const struct cmatch *c, const ldns_rr *rr)
{
	if (ldns_dname_compare(ldns_rr_owner(rr), c->owner) != 0)
		return false;
	if (c->type && ldns_rr_get_type(rr) != c->type)
		return false;
	if (c->rdata && !rdata_equal(rr, c->rdata))
		return false;
	if (c->txt_prefix) {
		static char v[70000];
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			return false;
		size_t l = txt_value(rr, v, sizeof(v));
		if (!prefix_ci(v, l, c->txt_prefix))
			return false;
	}
	return true;
}

/* ---- rebuilding the text -------------------------------------------------- */

struct insert {
	size_t before; /* entry index; zf->n: at the end */
	ldns_rr *rr;   /* owned by the caller */
	bool has_ttl;
};

/* The owner as written at a place where origin is in effect: "@", a
 * relative name, or the absolute name when it is not below origin. */
static int owner_text(const ldns_rdf *owner, const char *origin, char *out, size_t cap)
{
	char *abs = ldns_rdf2str(owner);
	if (!abs)
		return -ENOMEM;
	size_t al = strlen(abs), ol = strlen(origin);
	if (strcasecmp(abs, origin) == 0) {
		snprintf(out, cap, "@");
	} else if (strcmp(origin, ".") != 0 && al > ol + 1 && abs[al - ol - 1] == '.' &&
		   strcasecmp(abs + al - ol, origin) == 0 &&
		   (al - ol < 2 || abs[al - ol - 2] != '\\')) {
		snprintf(out, cap, "%.*s", (int)(al - ol - 1), abs);
	} else {
		snprintf(out, cap, "%s", abs);
	}
	free(abs);
	return 0;
}

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* One new line: OWNER [TTL] IN TYPE RDATA, names in rdata absolute so the
 * line means the same under any $ORIGIN. A long TXT value split in
 * several strings goes on continuation lines inside ( ). */
static void render_rr(struct buf *b, const ldns_rr *rr, bool has_ttl, const char *origin)
{
	char owner[1100], num[16];
	char *type = ldns_rr_type2str(ldns_rr_get_type(rr));
	size_t n = ldns_rr_rd_count(rr), total = 0;
	char **rd = calloc(n ? n : 1, sizeof(char *));

	if (!type || !rd || owner_text(ldns_rr_owner(rr), origin, owner, sizeof(owner)) < 0) {
		b->oom = true;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		rd[i] = ldns_rdf2str(ldns_rr_rdf(rr, i));
		if (!rd[i]) {
			b->oom = true;
			goto done;
		}
		total += strlen(rd[i]) + 1;
	}
	buf_str(b, owner);
	buf_str(b, "\t");
	if (has_ttl) {
		snprintf(num, sizeof(num), "%u\t", ldns_rr_ttl(rr));
		buf_str(b, num);
	}
	buf_str(b, "IN\t");
	buf_str(b, type);
	buf_str(b, "\t");
	bool multi = ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT && n > 1 && total > 100;
	if (multi)
		buf_str(b, "( ");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_str(b, multi ? "\n\t\t\t\t" : " ");
		buf_str(b, rd[i]);
	}
	if (multi)
		buf_str(b, " )");
	buf_str(b, "\n");
done:
	for (size_t i = 0; rd && i < n; i++)
		free(rd[i]);
	free(rd);
	free(type);
}

/* Writes the text anew: entries kept as they are, deleted ones left out,
 * inserted RRs rendered before their entry. A kept RR whose owner was
 * implied by a line now gone (blank owner, RFC 1035 §5.1) gets its owner
 * written out. Then parses the new text. */
static int rebuild(struct zonefile *zf, const bool *del, const struct insert *ins, size_t n_ins,
		   char *err, size_t errlen)
{
	struct buf b = {0};
	const ldns_rdf *prev = NULL; /* owner a blank-owner line would get */
	char owner[1100];
	int rc;

	for (size_t i = 0; i <= zf->n; i++) {
		for (size_t k = 0; k < n_ins; k++) {
			if (ins[k].before != i)
				continue;
			if (b.len && b.p[b.len - 1] != '\n')
				buf_str(&b, "\n");
			const char *org = zf->origins[i < zf->n ? zf->e[i].origin : zf->n_origins - 1];
			render_rr(&b, ins[k].rr, ins[k].has_ttl, org);
			prev = ldns_rr_owner(ins[k].rr);
		}
		if (i == zf->n)
			break;
		const struct entry *e = &zf->e[i];
		if (del[i])
			continue;
		if (e->kind == ENT_RR && e->blank_owner &&
		    (!prev || ldns_dname_compare(prev, ldns_rr_owner(e->rr)) != 0)) {
			if (owner_text(ldns_rr_owner(e->rr), zf->origins[e->origin], owner,
				       sizeof(owner)) < 0)
				b.oom = true;
			buf_str(&b, owner);
		}
		buf_add(&b, zf->text + e->off, e->len);
		if (e->kind == ENT_RR)
			prev = ldns_rr_owner(e->rr);
		/* "$ORIGIN" alone does not change the previous owner in
		 * ldns; $INCLUDE restores it (RFC 1035 §5.1). */
	}
	if (!b.p && !b.oom)
		buf_add(&b, "", 0);
	if (b.oom) {
		free(b.p);
		return errf(err, errlen, -ENOMEM, "out of memory");
	}
	free(zf->text);
	zf->text = b.p;
	zf->len = b.len;
	rc = parse(zf, zf->path, err, errlen);
	if (rc == MX_ESYNTAX) {
		/* Our own output did not parse: a bug, never the user's. */
		char e2[600];
		snprintf(e2, sizeof(e2), "the edited text does not parse: %s", err);
		snprintf(err, errlen, "%s", e2);
	}
	return rc;
}

static int remember_added(struct zonefile *zf, const ldns_rr *rr)
{
	ldns_rr **v = realloc(zf->added, (zf->n_added + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	zf->added = v;
	if (!(v[zf->n_added] = ldns_rr_clone(rr)))
		return -ENOMEM;
	zf->n_added++;
	return 0;
}

/* Where a new RR of owner/type goes: after the RRset's last line, else
 * after the owner's last line, else at the end. */
static size_t insert_point(const struct zonefile *zf, const ldns_rr *rr, const bool *del)
{
	size_t after_owner = SIZE_MAX, after_set = SIZE_MAX;
	for (size_t i = 0; i < zf->n; i++) {
		const struct entry *e = &zf->e[i];
		if (e->kind != ENT_RR || (del && del[i]))
			continue;
		if (ldns_dname_compare(ldns_rr_owner(e->rr), ldns_rr_owner(rr)) != 0)
			continue;
		after_owner = i + 1;
		if (ldns_rr_get_type(e->rr) == ldns_rr_get_type(rr))
			after_set = i + 1;
	}
	if (after_set != SIZE_MAX)
		return after_set;
	return after_owner != SIZE_MAX ? after_owner : zf->n;
}

/* TTL of the existing RRset of rr's owner and type, or -1. */
static long rrset_ttl(const struct zonefile *zf, const ldns_rr *rr, const bool *del)
{
	for (size_t i = 0; i < zf->n; i++) {
		const struct entry *e = &zf->e[i];
		if (e->kind == ENT_RR && !(del && del[i]) &&
		    ldns_rr_get_type(e->rr) == ldns_rr_get_type(rr) &&
		    ldns_dname_compare(ldns_rr_owner(e->rr), ldns_rr_owner(rr)) == 0)
			return (long)ldns_rr_ttl(e->rr);
	}
	return -1;
}

int zonefile_add(struct zonefile *zf, const char *rr_text, char *err, size_t errlen)
{
	ldns_rr *rr = NULL;
	bool has_ttl;
	bool *del = NULL;
	int rc;

	if ((rc = rr_parse(zf, rr_text, &rr, &has_ttl, err, errlen)) < 0)
		return rc;
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
		rc = errf(err, errlen, MX_EINVAL, "the SOA is not added: the serial is kept by mxdns");
		goto done;
	}
	for (size_t i = 0; i < zf->n; i++) {
		const struct entry *e = &zf->e[i];
		if (e->kind == ENT_RR && ldns_rr_get_type(e->rr) == ldns_rr_get_type(rr) &&
		    ldns_dname_compare(ldns_rr_owner(e->rr), ldns_rr_owner(rr)) == 0 &&
		    rdata_equal(e->rr, rr)) {
			rc = 0; /* already there: nothing to do */
			goto done;
		}
	}
	if (!has_ttl) {
		long t = rrset_ttl(zf, rr, NULL);
		if (t >= 0) {
			ldns_rr_set_ttl(rr, (uint32_t)t);
			has_ttl = true;
		}
	}
	del = calloc(zf->n + 1, sizeof(bool));
	if (!del) {
		rc = errf(err, errlen, -ENOMEM, "out of memory");
		goto done;
	}
	struct insert ins = {.before = insert_point(zf, rr, NULL), .rr = rr, .has_ttl = has_ttl};
	if ((rc = remember_added(zf, rr)) < 0 ||
	    (rc = rebuild(zf, del, &ins, 1, err, errlen)) < 0) {
		if (rc == -ENOMEM)
			errf(err, errlen, rc, "out of memory");
		goto done;
	}
	rc = 1;
done:
	free(del);
	ldns_rr_free(rr);
	return rc;
}

int zonefile_delete(struct zonefile *zf, const struct zonefile_match *m, char *err,
		    size_t errlen)
{
	struct cmatch c;
	bool *del = NULL;
	int rc, n = 0;

	if ((rc = cmatch_init(zf, m, &c, err, errlen)) < 0)
		return rc;
	del = calloc(zf->n + 1, sizeof(bool));
	if (!del) {
		rc = errf(err, errlen, -ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < zf->n; i++) {
		const struct entry *e = &zf->e[i];
		if (e->kind != ENT_RR || !matches(&c, e->rr))
			continue;
		if (ldns_rr_get_type(e->rr) == LDNS_RR_TYPE_SOA) {
			if (c.type == LDNS_RR_TYPE_SOA) {
				rc = errf(err, errlen, MX_EINVAL, "the SOA record cannot be deleted");
				goto done;
			}
			continue;
		}
		del[i] = true;
		n++;
	}
	rc = n ? rebuild(zf, del, NULL, 0, err, errlen) : 0;
	if (rc == 0)
		rc = n;
done:
	free(del);
	cmatch_cleanup(&c);
	return rc;
}

int zonefile_replace(struct zonefile *zf, const struct zonefile_match *m,
		     const char *const *rr_texts, size_t n, char *err, size_t errlen)
{
	struct cmatch c;
	bool *del = NULL, *used = NULL;
	struct insert *ins = NULL;
	size_t n_match = 0, first = SIZE_MAX, same = 0;
	int rc;

	if (!m->type)
		return errf(err, errlen, MX_EINVAL, "replacing needs a type");
	if (m->type == LDNS_RR_TYPE_SOA)
		return errf(err, errlen, MX_EINVAL, "the SOA is not replaced: the serial is kept by mxdns");
	if ((rc = cmatch_init(zf, m, &c, err, errlen)) < 0)
		return rc;
	del = calloc(zf->n + 1, sizeof(bool));
	used = calloc(zf->n + 1, sizeof(bool));
	ins = calloc(n ? n : 1, sizeof(*ins));
	if (!del || !used || !ins) {
		rc = errf(err, errlen, -ENOMEM, "out of memory");
		goto done;
	}
	for (size_t k = 0; k < n; k++) {
		if ((rc = rr_parse(zf, rr_texts[k], &ins[k].rr, &ins[k].has_ttl, err, errlen)) < 0)
			goto done;
		if (ldns_rr_get_type(ins[k].rr) != c.type ||
		    ldns_dname_compare(ldns_rr_owner(ins[k].rr), c.owner) != 0) {
			rc = errf(err, errlen, MX_EINVAL, "'%s' is not of the owner and type replaced",
				  rr_texts[k]);
			goto done;
		}
	}
	for (size_t i = 0; i < zf->n; i++) {
		if (zf->e[i].kind != ENT_RR || !matches(&c, zf->e[i].rr))
			continue;
		del[i] = true;
		n_match++;
		if (first == SIZE_MAX)
			first = i;
	}
	/* Unchanged when every new RR is matched one to one, same TTL. */
	for (size_t k = 0; k < n; k++) {
		for (size_t i = 0; i < zf->n; i++) {
			if (!del[i] || used[i] || !rdata_equal(zf->e[i].rr, ins[k].rr))
				continue;
			if (ins[k].has_ttl && ldns_rr_ttl(zf->e[i].rr) != ldns_rr_ttl(ins[k].rr))
				continue;
			used[i] = true;
			same++;
			break;
		}
	}
	if (same == n && n_match == n) {
		rc = 0;
		goto done;
	}
	for (size_t k = 0; k < n; k++) {
		if (!ins[k].has_ttl) {
			long t = rrset_ttl(zf, ins[k].rr, del);
			if (t < 0 && first != SIZE_MAX)
				t = (long)ldns_rr_ttl(zf->e[first].rr);
			if (t >= 0) {
				ldns_rr_set_ttl(ins[k].rr, (uint32_t)t);
				ins[k].has_ttl = true;
			}
		}
		ins[k].before = first != SIZE_MAX ? first : insert_point(zf, ins[k].rr, del);
		if ((rc = remember_added(zf, ins[k].rr)) < 0) {
			errf(err, errlen, rc, "out of memory");
			goto done;
		}
	}
	if ((rc = rebuild(zf, del, ins, n, err, errlen)) < 0)
		goto done;
	rc = (int)(n_match > n ? n_match : n) - (int)same;
	if (rc <= 0)
		rc = 1;
done:
	for (size_t k = 0; ins && k < n; k++)
		ldns_rr_free(ins[k].rr);
	free(ins);
	free(used);
	free(del);
	cmatch_cleanup(&c);
	return rc;
}

int zonefile_foreach(struct zonefile *zf, const struct zonefile_match *m,
		     int (*fn)(void *arg, const struct zonefile_rr *rr), void *arg, char *err,
		     size_t errlen)
{
	struct cmatch c;
	int rc = 0;
	bool have = m != NULL;

	if (have && (rc = cmatch_init(zf, m, &c, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < zf->n && rc == 0; i++) {
		const struct entry *e = &zf->e[i];
		if (e->kind != ENT_RR || (have && !matches(&c, e->rr)))
			continue;
		char *text = ldns_rr2str(e->rr);
		char *owner = ldns_rdf2str(ldns_rr_owner(e->rr));
		if (!text || !owner) {
			free(text);
			free(owner);
			rc = errf(err, errlen, -ENOMEM, "out of memory");
			break;
		}
		size_t tl = strlen(text);
		if (tl && text[tl - 1] == '\n')
			text[tl - 1] = '\0';
		struct zonefile_rr r = {.text = text, .owner = owner,
					.type = (uint16_t)ldns_rr_get_type(e->rr), .line = e->line};
		if (r.type == RR_TXT) {
			static char value[70000];
			r.txt_len = txt_value(e->rr, value, sizeof(value));
			r.txt = value;
		}
		rc = fn(arg, &r);
		free(text);
		free(owner);
	}
	if (have)
		cmatch_cleanup(&c);
	return rc;
}

size_t zonefile_added_count(const struct zonefile *zf)
{
	return zf->n_added;
}

int zonefile_added_get(const struct zonefile *zf, size_t i, struct zonefile_added *out)
{
	static char owner[1100], value[70000];
	if (i >= zf->n_added)
		return MX_ENOTFOUND;
	const ldns_rr *rr = zf->added[i];
	char *o = ldns_rdf2str(ldns_rr_owner(rr));
	if (!o)
		return -ENOMEM;
	snprintf(owner, sizeof(owner), "%s", o);
	free(o);
	out->owner = owner;
	out->type = (uint16_t)ldns_rr_get_type(rr);
	out->txt = NULL;
	out->txt_len = 0;
	if (out->type == RR_TXT) {
		out->txt_len = txt_value(rr, value, sizeof(value));
		out->txt = value;
	}
	return 0;
}

/* ---- serials -------------------------------------------------------------- */

int zonefile_serial_cmp(uint32_t a, uint32_t b)
{
	/* RFC 1982 §3.2 with SERIAL_BITS 32 */
	uint32_t d = a - b;
	if (d == 0 || d == 0x80000000u)
		return 0;
	return d < 0x80000000u ? 1 : -1;
}

static bool date_serial(uint32_t s)
{
	uint32_t y = s / 1000000, m = s / 10000 % 100, d = s / 100 % 100;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return y >= 1990 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= (uint32_t)mdays[m - 1];
}

uint32_t zonefile_serial_next(uint32_t old, time_t now)
{
	uint32_t next = old + 1; /* RFC 1982 §3.1: addition modulo 2^32 */
	if (date_serial(old)) {
		struct tm tm;
		if (now == 0)
			now = time(NULL);
		if (gmtime_r(&now, &tm)) {
			uint64_t today = ((uint64_t)(tm.tm_year + 1900) * 10000 +
					  (uint64_t)(tm.tm_mon + 1) * 100 + (uint64_t)tm.tm_mday) *
					 100;
			if (today <= UINT32_MAX && zonefile_serial_cmp((uint32_t)today, old) > 0)
				next = (uint32_t)today;
		}
	}
	if (next == 0)
		next = 1;
	return next;
}

/* ---- committing ---------------------------------------------------------- */

/* Byte range of the serial in the SOA entry's text: the third field after
 * the SOA type, skipping comments and parentheses. */
static int find_serial(const char *t, size_t len, bool has_owner, size_t *s_off, size_t *s_len)
{
	size_t i = 0;
	int field = 0, after_soa = -1;
	while (i < len) {
		char ch = t[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '(' || ch == ')') {
			i++;
			continue;
		}
		if (ch == ';') {
			while (i < len && t[i] != '\n')
				i++;
			continue;
		}
		size_t start = i;
		if (ch == '"') {
			for (i++; i < len && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			i++;
		} else {
			while (i < len && !strchr(" \t\r\n();\"", t[i])) {
				if (t[i] == '\\')
					i++;
				i++;
			}
		}
		if (i > len)
			i = len;
		size_t tl = i - start;
		if (after_soa < 0) {
			if (!(has_owner && field == 0) && tl == 3 && strncasecmp(t + start, "SOA", 3) == 0)
				after_soa = 0;
		} else if (++after_soa == 3) {
			*s_off = start;
			*s_len = tl;
			return 0;
		}
		field++;
	}
	return MX_ENOTFOUND;
}

static int bump_serial(struct zonefile *zf, time_t now, uint32_t *old, uint32_t *new,
		       char *err, size_t errlen)
{
	const struct entry *soa = NULL;
	size_t off, len;
	for (size_t i = 0; i < zf->n && !soa; i++)
		if (zf->e[i].kind == ENT_RR && ldns_rr_get_type(zf->e[i].rr) == LDNS_RR_TYPE_SOA &&
		    ldns_dname_compare(ldns_rr_owner(zf->e[i].rr), zf->apex) == 0)
			soa = &zf->e[i];
	if (!soa)
		return errf(err, errlen, MX_EZONE,
			    "%s: no SOA record for %s in this file (one in an $INCLUDE is not edited)",
			    zf->path, zf->origin);
	*old = ldns_rdf2native_int32(ldns_rr_rdf(soa->rr, 2));
	*new = zonefile_serial_next(*old, now);
	if (find_serial(zf->text + soa->off, soa->len, !soa->blank_owner, &off, &len) < 0)
		return errf(err, errlen, MX_ESYNTAX, "%s:%d: cannot find the serial in the SOA",
			    zf->path, soa->line);
	char digits[16];
	snprintf(digits, sizeof(digits), "%.*s", (int)(len < 15 ? len : 15), zf->text + soa->off + off);
	char *endp;
	unsigned long v = strtoul(digits, &endp, 10);
	if (*endp || len > 10 || v != *old)
		return errf(err, errlen, MX_ESYNTAX,
			    "%s:%d: the SOA serial is written as '%s'; write it as a plain number",
			    zf->path, soa->line, digits);
	char num[16];
	int nl = snprintf(num, sizeof(num), "%u", *new);
	size_t at = soa->off + off, newlen = zf->len - len + (size_t)nl;
	char *t = malloc(newlen + 1);
	if (!t)
		return errf(err, errlen, -ENOMEM, "out of memory");
	memcpy(t, zf->text, at);
	memcpy(t + at, num, (size_t)nl);
	memcpy(t + at + nl, zf->text + at + len, zf->len - at - len + 1);
	free(zf->text);
	zf->text = t;
	zf->len = newlen;
	return parse(zf, zf->path, err, errlen);
}

/* MXDNS_TEST_SLOW_WRITE=MS: test-only (tests/integration/test_publish_crash.py)
 * sleeps between the steps of a commit so a kill -9 lands inside each. */
static void test_pause(void)
{
	static long ms = -1;
	if (ms < 0) {
		const char *v = getenv("MXDNS_TEST_SLOW_WRITE");
		ms = v ? atol(v) : 0;
	}
	if (ms > 0)
		usleep((useconds_t)(ms * 1000));
}

static int write_all(int fd, const char *p, size_t len)
{
	size_t off = 0;
	while (off < len) {
		/* in halves under the test hook, so a kill can cut a write */
		size_t chunk = len - off;
		if (getenv("MXDNS_TEST_SLOW_WRITE") && off == 0 && len > 1)
			chunk = len / 2;
		ssize_t w = write(fd, p + off, chunk);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
		if (off < len)
			test_pause();
	}
	return 0;
}

static void fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *base;
	split_path(path, dir, sizeof(dir), &base);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* zone_load names the temporary file; the user knows the real one. */
static void rename_in_message(char *msg, size_t cap, const char *from, const char *to)
{
	char *p = strstr(msg, from);
	if (!p)
		return;
	char rest[2048];
	snprintf(rest, sizeof(rest), "%s", p + strlen(from));
	snprintf(p, cap - (size_t)(p - msg), "%s%s", to, rest);
}

int zonefile_commit(struct zonefile *zf, const struct zonefile_commit_opts *o,
		    struct zonefile_result *res, char *err, size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX + NAME_MAX + 32], zerr[2048];
	const char *base;
	struct zone *z = NULL;
	int fd = -1, rc;
	bool tmp_made = false;
	struct stat now_st;

	memset(res, 0, sizeof(*res));
	if (!zonefile_changed(zf))
		return 0;
	if (!(o->flags & ZONEFILE_DRY_RUN) && zf->lock_fd < 0)
		return errf(err, errlen, MX_EINVAL, "%s: edit without the lock", zf->path);
	if ((rc = bump_serial(zf, o->now, &res->old_serial, &res->new_serial, err, errlen)) < 0)
		return rc;
	split_path(zf->path, dir, sizeof(dir), &base);
	snprintf(tmp, sizeof(tmp), "%s/.%s" ZONEFILE_TMP_TAG "XXXXXX", dir, base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = errf(err, errlen, -errno, "%s: cannot create a temporary file: %s", dir,
			  strerror(errno));
		goto fail;
	}
	tmp_made = true;
	test_pause();
	/* Keep the file's mode and, where allowed, its owner: the daemon
	 * may run as another user that must read it. */
	if (fchmod(fd, zf->st.st_mode & 07777) < 0 ||
	    (fchown(fd, zf->st.st_uid, zf->st.st_gid) < 0 && errno != EPERM)) {
		rc = errf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((rc = write_all(fd, zf->text, zf->len)) < 0 || fsync(fd) < 0) {
		rc = rc < 0 ? rc : -errno;
		errf(err, errlen, rc, "%s: cannot write: %s", tmp, strerror(-rc));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = errf(err, errlen, -errno, "%s: cannot write: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	test_pause();
	/* Compile what will be served, with the daemon's own loader. */
	z = zone_load(zf->origin, tmp, zerr, sizeof(zerr));
	if (!z) {
		rename_in_message(zerr, sizeof(zerr), tmp, zf->path);
		rc = errf(err, errlen, MX_EZONE, "%s", zerr);
		goto fail;
	}
	res->n_records = z->n_records;
	if (o->check && (rc = o->check(o->check_arg, z, zf, err, errlen)) < 0)
		goto fail;
	if (o->flags & ZONEFILE_DRY_RUN) {
		rc = 0;
		goto fail; /* not a failure: the same clean-up */
	}
	if (stat(zf->path, &now_st) < 0 || now_st.st_ino != zf->st.st_ino ||
	    now_st.st_size != zf->st.st_size || now_st.st_mtim.tv_sec != zf->st.st_mtim.tv_sec ||
	    now_st.st_mtim.tv_nsec != zf->st.st_mtim.tv_nsec) {
		rc = errf(err, errlen, MX_EREFUSED,
			  "%s changed while it was being edited (by an editor that does not take "
			  "%s.lock); nothing written, try again",
			  zf->path, zf->path);
		goto fail;
	}
	test_pause();
	if (rename(tmp, zf->path) < 0) {
		rc = errf(err, errlen, -errno, "%s: cannot replace: %s", zf->path, strerror(errno));
		goto fail;
	}
	tmp_made = false;
	test_pause();
	fsync_dir(zf->path);
	res->written = true;
	rc = 0;
fail:
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		unlink(tmp);
	zone_unref(z);
	return rc;
}
