/* zonedb: the set of zones the server answers for, as one immutable
 * snapshot, and the cell through which workers read the current snapshot
 * while a reload replaces it.
 *
 * Workers never lock: a worker announces the snapshot it uses in its own
 * hazard slot (zonedb_cell_enter) and clears it when its batch is answered
 * (zonedb_cell_leave). Publishing a new snapshot swaps one pointer, then
 * waits until no slot holds the old one before freeing it. */
#ifndef MXDNS_ZONEDB_H
#define MXDNS_ZONEDB_H

#include "zone.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct config;

struct zonedb {
	struct zone **zones; /* each holds a reference */
	size_t n_zones;
	uint32_t *table;     /* apex hash table: zone index + 1 */
	uint32_t table_mask;
	uint64_t label_mask; /* bit k set: some zone apex has k labels (k < 64) */
	uint64_t generation;
};

/* Builds a snapshot for cfg. Zones whose files did not change since they
 * were loaded into old (may be NULL) are shared with it, unless force is
 * set or only (a zone name, may be NULL) names them. A zone that fails to
 * load is logged with file:line; if old serves it, the old version is kept,
 * otherwise it is left out. *n_failed counts such zones. Returns 0 or a
 * negative code (allocation only). */
int zonedb_build(const struct config *cfg, const struct zonedb *old, const char *only, int force,
		 struct zonedb **out, int *n_failed);

/* A snapshot holding the given zones (references are taken); for tests. */
struct zonedb *zonedb_from_zones(struct zone **zones, size_t n);

void zonedb_free(struct zonedb *db);

/* The zone that is the longest match for a lowercased wire name, or NULL.
 * labels[i] are the offsets of the name's labels (from query parsing),
 * n_labels their count, not counting the root. */
const struct zone *zonedb_find(const struct zonedb *db, const uint8_t *name, size_t len,
			       const uint8_t *label_off, int n_labels);

/* By presentation name (for the control socket and tools). */
const struct zone *zonedb_find_by_name(const struct zonedb *db, const char *name);

#define ZONEDB_MAX_READERS 256

struct zonedb_cell {
	_Atomic(struct zonedb *) current;
	_Atomic(struct zonedb *) hazard[ZONEDB_MAX_READERS];
	int n_readers;
};

void zonedb_cell_init(struct zonedb_cell *cell, struct zonedb *db, int n_readers);
/* Frees the current snapshot; no reader may be inside. */
void zonedb_cell_cleanup(struct zonedb_cell *cell);

/* Reader `slot` (0..n_readers-1, one per worker thread) starts using the
 * current snapshot; the result is valid until zonedb_cell_leave(slot). */
static inline const struct zonedb *zonedb_cell_enter(struct zonedb_cell *cell, int slot)
{
	struct zonedb *db = atomic_load(&cell->current);
	for (;;) {
		atomic_store(&cell->hazard[slot], db);
		/* Re-check after announcing: the publisher may have swapped and
		 * scanned the slots between our load and our store. */
		struct zonedb *again = atomic_load(&cell->current);
		if (again == db)
			return db;
		db = again;
	}
}

static inline void zonedb_cell_leave(struct zonedb_cell *cell, int slot)
{
	atomic_store_explicit(&cell->hazard[slot], NULL, memory_order_release);
}

/* Makes db current and frees the previous snapshot once no reader holds
 * it (polls the slots; call it from the control thread, never a worker).
 * Only one publisher at a time. */
void zonedb_cell_publish(struct zonedb_cell *cell, struct zonedb *db);

/* The current snapshot for a publisher-side reader (the control thread,
 * the only thread that publishes): valid until it next publishes. */
struct zonedb *zonedb_cell_current(struct zonedb_cell *cell);

#endif
