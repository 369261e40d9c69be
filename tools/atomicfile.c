/* atomicfile: crash-safe small-file writes (see atomicfile.h). */
#include "atomicfile.h"

#include "errcode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The rename or the new name is only durable once the directory is
 * synced too. */
static void fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, bool replace,
                     char *err, size_t errcap)
{
	char tmp[PATH_MAX + 16];
	const char *target = path;
	const char *p = data;
	int fd = -1, ret;
	size_t off = 0;

	if (replace) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= sizeof(tmp)) {
			snprintf(err, errcap, "%s: %s", path, strerror(ENAMETOOLONG));
			return -ENAMETOOLONG;
		}
		fd = mkstemp(tmp);
		target = tmp;
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	}
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errcap, "%s: %s", path, strerror(-ret));
		return ret == -EEXIST ? MX_EEXIST : ret;
	}
	/* umask may have narrowed it, mkstemp made it 0600: exactly mode */
	if (fchmod(fd, mode) < 0)
		goto fail_errno;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail_errno;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail_errno;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_errno;
	}
	fd = -1;
	if (replace && rename(tmp, path) < 0)
		goto fail_errno;
	fsync_dir_of(path);
	return 0;
fail_errno:
	ret = -errno;
	snprintf(err, errcap, "%s: %s", path, strerror(-ret));
	if (fd >= 0)
		close(fd);
	unlink(target);
	return ret;
}
