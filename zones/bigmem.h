/* bigmem: large zero-filled buffers for loading zones (the record lists,
 * the node tables, the blocks of a big zone's arena).
 *
 * Buffers of a megabyte or more are anonymous mappings the kernel may back
 * with transparent huge pages. Loading a million-record zone touches about
 * 400 MiB; in 4 KiB pages that was 100 000 page faults and a third of the
 * load time on a virtual machine, where a fault costs several microseconds.
 * Smaller buffers come from malloc, so small zones stay small. */
#ifndef MXDNS_BIGMEM_H
#define MXDNS_BIGMEM_H

#include <stddef.h>

/* size bytes, zeroed; NULL when out of memory. Free with bigmem_free and
 * the same size. */
void *bigmem_alloc(size_t size);
/* Grows p from old_size to new_size (>= old_size) bytes, keeping the
 * contents; the new bytes are zero. On failure returns NULL and p is
 * untouched. p may be NULL with old_size 0. */
void *bigmem_resize(void *p, size_t old_size, size_t new_size);
void bigmem_free(void *p, size_t size);

#endif
