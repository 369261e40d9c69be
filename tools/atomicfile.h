/* atomicfile: writing a small file (a key, a policy) so that a crash at any
 * point leaves either no file or the old one or the whole new one under its
 * name, never a part. Zone files have their own, locked, path in
 * zones/zonefile.h. */
#ifndef MXDNS_ATOMICFILE_H
#define MXDNS_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes len bytes of data to path with mode (never wider, whatever the
 * umask), fsyncs the file and its directory. Without replace the file is
 * created with O_EXCL|O_NOFOLLOW, so an existing file, or a link planted
 * at the name, is refused (MX_EEXIST); with replace a temporary file beside
 * it is renamed over. err receives one line naming path. Returns 0,
 * MX_EEXIST or -errno. */
int atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, bool replace,
                     char *err, size_t errcap);

#endif
