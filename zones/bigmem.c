/* bigmem: mmap with MADV_HUGEPAGE above a threshold, malloc below. */
#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BIGMEM_MIN ((size_t)1 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

/* The size actually mapped. A multiple of the huge page size lets the
 * kernel place the mapping on a huge page boundary. */
static size_t mapped_size(size_t size)
{
	return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *bigmem_alloc(size_t size)
{
	if (size < BIGMEM_MIN)
		return calloc(1, size ? size : 1);
	size_t len = mapped_size(size);
	if (len < size)
		return NULL;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Advice only: without transparent huge pages this is plain memory. */
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void *bigmem_resize(void *p, size_t old_size, size_t new_size)
{
	if (!p)
		return bigmem_alloc(new_size);
	if (old_size < BIGMEM_MIN && new_size < BIGMEM_MIN) {
		void *np = realloc(p, new_size ? new_size : 1);
		if (np && new_size > old_size)
			memset((char *)np + old_size, 0, new_size - old_size);
		return np;
	}
	if (old_size >= BIGMEM_MIN && new_size >= BIGMEM_MIN) {
		size_t old_len = mapped_size(old_size), new_len = mapped_size(new_size);
		if (new_len < new_size)
			return NULL;
		if (old_len == new_len)
			return p;
		/* Moves page tables rather than bytes; the advice moves along. */
		void *np = mremap(p, old_len, new_len, MREMAP_MAYMOVE);
		return np == MAP_FAILED ? NULL : np;
	}
	void *np = bigmem_alloc(new_size);
	if (!np)
		return NULL;
	memcpy(np, p, old_size < new_size ? old_size : new_size);
	bigmem_free(p, old_size);
	return np;
}

void bigmem_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size < BIGMEM_MIN)
		free(p);
	else
		munmap(p, mapped_size(size));
}
