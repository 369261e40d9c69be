/* zonedb: zone database snapshots and their lock-free publication. */
#include "zonedb.h"

#include "config.h"
#include "dnsbl.h"
#include "errcode.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct zone *find_apex(const struct zonedb *db, const uint8_t *name, size_t len)
{
	if (!db || !db->table)
		return NULL;
	uint32_t i = name_hash(name, len) & db->table_mask;
	for (uint32_t idx; (idx = db->table[i]) != 0; i = (i + 1) & db->table_mask) {
		const struct zone *z = db->zones[idx - 1];
		if (z->apex_len == len && memcmp(z->apex, name, len) == 0)
			return z;
	}
	return NULL;
}

/* Takes ownership of the references in zones[0..n); drops duplicates. */
static struct zonedb *assemble(struct zone **zones, size_t n)
{
	struct zonedb *db = calloc(1, sizeof(*db));
	uint32_t cap = 8;
	while (cap < 2 * n + 2)
		cap *= 2;
	if (!db || !(db->table = calloc(cap, sizeof(uint32_t)))) {
		free(db);
		for (size_t i = 0; i < n; i++)
			zone_unref(zones[i]);
		free(zones);
		return NULL;
	}
	db->zones = zones;
	db->table_mask = cap - 1;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct zone *z = zones[i];
		if (find_apex(db, z->apex, z->apex_len)) {
			log_err("zone %s is configured twice: the second one is ignored", z->name);
			zone_unref(z);
			continue;
		}
		zones[k] = z;
		uint32_t s = name_hash(z->apex, z->apex_len) & db->table_mask;
		while (db->table[s])
			s = (s + 1) & db->table_mask;
		db->table[s] = (uint32_t)k + 1;
		if (z->apex_labels < 64)
			db->label_mask |= 1ull << z->apex_labels;
		k++;
		db->n_zones = k;
	}
	return db;
}

struct zonedb *zonedb_from_zones(struct zone **zones, size_t n)
{
	struct zone **copy = calloc(n ? n : 1, sizeof(*copy));
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = zone_ref(zones[i]);
	return assemble(copy, n);
}

void zonedb_free(struct zonedb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n_zones; i++)
		zone_unref(db->zones[i]);
	free(db->zones);
	free(db->table);
	free(db);
}

const struct zone *zonedb_find_by_name(const struct zonedb *db, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(name, wire);
	if (len < 0)
		return NULL;
	name_lower(wire, wire, (size_t)len);
	return find_apex(db, wire, (size_t)len);
}

const struct zone *zonedb_find(const struct zonedb *db, const uint8_t *name, size_t len,
			       const uint8_t *label_off, int n_labels)
{
	/* Longest match first: the whole name, then each parent. */
	for (int i = 0; i < n_labels; i++) {
		int labels = n_labels - i;
		if (labels < 64 && !(db->label_mask & (1ull << labels)))
			continue;
		const struct zone *z = find_apex(db, name + label_off[i], len - label_off[i]);
		if (z)
			return z;
	}
	return (db->label_mask & 1) ? find_apex(db, (const uint8_t *)"", 1) : NULL;
}

static struct zone *old_zone(const struct zonedb *old, const char *name)
{
	return old ? (struct zone *)zonedb_find_by_name(old, name) : NULL;
}

static int is_selected(const char *only, const char *name)
{
	if (!only)
		return 1;
	uint8_t a[NAME_MAXLEN], b[NAME_MAXLEN];
	int la = name_from_text(only, a), lb = name_from_text(name, b);
	if (la < 0 || lb < 0 || la != lb)
		return 0;
	name_lower(a, a, (size_t)la);
	name_lower(b, b, (size_t)lb);
	return memcmp(a, b, (size_t)la) == 0;
}

int zonedb_build(const struct config *cfg, const struct zonedb *old, const char *only, int force,
		 struct zonedb **out, int *n_failed)
{
	size_t total = cfg->n_zones + cfg->n_dnsbls;
	struct zone **zones = calloc(total ? total : 1, sizeof(*zones));
	size_t n = 0;
	char err[1024];

	*n_failed = 0;
	*out = NULL;
	if (!zones)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_zones; i++) {
		const struct config_zone *cz = &cfg->zones[i];
		struct zone *prev = old_zone(old, cz->name);
		struct zone *z = NULL;
		int unchanged = prev && prev->file && strcmp(prev->file, cz->file) == 0 &&
				zone_file_stamp(prev) == prev->stamp;
		if (prev && (!is_selected(only, cz->name) || (unchanged && !force))) {
			zones[n++] = zone_ref(prev);
			continue;
		}
		z = zone_load(cz->name, cz->file, err, sizeof(err));
		if (z) {
			log_info("zone %s loaded from %s: serial %u, %zu records", z->name, cz->file,
				 z->serial, z->n_records);
			zones[n++] = z;
			continue;
		}
		(*n_failed)++;
		if (prev) {
			log_err("%s (zone %s keeps serving serial %u)", err, cz->name, prev->serial);
			zones[n++] = zone_ref(prev);
		} else {
			log_err("%s (zone %s is not served)", err, cz->name);
		}
	}
	for (size_t i = 0; i < cfg->n_dnsbls; i++) {
		const struct config_dnsbl *cb = &cfg->dnsbls[i];
		struct zone *prev = old_zone(old, cb->name);
		/* The listings are read live from LMDB; only the apex data
		 * comes from the configuration, so a DNSBL zone is rebuilt
		 * only when asked for by name. */
		if (prev && prev->bl && !(only && is_selected(only, cb->name))) {
			zones[n++] = zone_ref(prev);
			continue;
		}
		struct zone *z = dnsbl_zone_load(cb, err, sizeof(err));
		if (z) {
			log_info("DNSBL zone %s served from %s", z->name, cb->db);
			zones[n++] = z;
			continue;
		}
		(*n_failed)++;
		if (prev) {
			log_err("DNSBL zone %s: %s (the previous one keeps serving)", cb->name, err);
			zones[n++] = zone_ref(prev);
		} else {
			log_err("DNSBL zone %s: %s (not served)", cb->name, err);
		}
	}
	struct zonedb *db = assemble(zones, n);
	if (!db)
		return -ENOMEM;
	db->generation = old ? old->generation + 1 : 1;
	*out = db;
	return 0;
}

void zonedb_cell_init(struct zonedb_cell *cell, struct zonedb *db, int n_readers)
{
	atomic_init(&cell->current, db);
	for (int i = 0; i < ZONEDB_MAX_READERS; i++)
		atomic_init(&cell->hazard[i], NULL);
	cell->n_readers = n_readers;
}

void zonedb_cell_cleanup(struct zonedb_cell *cell)
{
	zonedb_free(atomic_exchange(&cell->current, NULL));
}

struct zonedb *zonedb_cell_current(struct zonedb_cell *cell)
{
	return atomic_load(&cell->current);
}

void zonedb_cell_publish(struct zonedb_cell *cell, struct zonedb *db)
{
	struct zonedb *old = atomic_exchange(&cell->current, db);
	if (!old || old == db)
		return;
	/* A worker holds a snapshot for one batch of queries: microseconds. */
	for (int i = 0; i < cell->n_readers; i++) {
		while (atomic_load(&cell->hazard[i]) == old) {
			struct timespec ts = {0, 50000};
			nanosleep(&ts, NULL);
		}
	}
	zonedb_free(old);
}
