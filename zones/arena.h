/* arena: a bump allocator for data that lives and dies together (a
 * compiled zone), so a million-record zone is a handful of large blocks
 * instead of millions of mallocs, and freeing it is one walk. */
#ifndef MXDNS_ARENA_H
#define MXDNS_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
/* 8-byte aligned, zeroed memory owned by the arena; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
/* The same, aligned to align (a power of two), e.g. a cache line for the
 * structures the query path reads, so each costs one miss, not two. */
void *arena_alloc_aligned(struct arena *a, size_t size, size_t align);
void *arena_memdup(struct arena *a, const void *src, size_t size);
char *arena_strdup(struct arena *a, const char *s);
/* Bytes held, for statistics. */
size_t arena_size(const struct arena *a);
void arena_free(struct arena *a);

#endif
