/* arena: bump allocation in growing blocks. */
#include "arena.h"

#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t used, cap, size; /* size: the whole block, for bigmem_free */
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
	size_t total;
};

/* Blocks double from 16 KiB so small zones stay small, up to 64 MiB so a
 * big one is a few dozen mappings. Pages of a block are only touched as
 * allocations reach them, so the unused end of the last block costs
 * address space, not memory. */
#define BLOCK_MIN ((size_t)16 << 10)
#define BLOCK_MAX ((size_t)64 << 20)

struct arena *arena_new(void)
{
	return calloc(1, sizeof(struct arena));
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < size) {
		size_t bsize = b ? b->size * 2 : BLOCK_MIN;
		if (bsize > BLOCK_MAX)
			bsize = BLOCK_MAX;
		if (bsize - sizeof(*b) < size)
			bsize = sizeof(*b) + size;
		/* bigmem hands out zeroed memory and bump allocation never
		 * hands out memory twice, so no allocation needs clearing. */
		struct arena_block *nb = bigmem_alloc(bsize);
		if (!nb)
			return NULL;
		nb->next = b;
		nb->used = 0;
		nb->cap = bsize - sizeof(*nb);
		nb->size = bsize;
		a->head = b = nb;
		a->total += nb->cap;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

void *arena_alloc_aligned(struct arena *a, size_t size, size_t align)
{
	struct arena_block *b = a->head;
	if (b) {
		size_t pad = (size_t)(-(uintptr_t)((char *)b->data + b->used) & (align - 1));
		if (b->cap - b->used >= pad + size) {
			b->used += pad;
			return arena_alloc(a, size);
		}
	}
	/* A new block: its start is 16-aligned, so size + align is enough. */
	char *p = arena_alloc(a, size + align);
	if (!p)
		return NULL;
	return p + (size_t)(-(uintptr_t)p & (align - 1));
}

void *arena_memdup(struct arena *a, const void *src, size_t size)
{
	void *p = arena_alloc(a, size ? size : 1);
	if (p && size)
		memcpy(p, src, size);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_memdup(a, s, strlen(s) + 1);
}

size_t arena_size(const struct arena *a)
{
	return a->total;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		bigmem_free(b, b->size);
		b = next;
	}
	free(a);
}
