/*
 * fileio.c: atomic write, capped read, mkdir -p (contracts in fileio.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"
#include "banned.h"

int
fileio_read_file(const char *path, size_t cap, char **out, size_t *len,
    struct err *e)
{
	struct buf	 b;
	char		 chunk[65536];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_set(e, "%s: %s", path, strerror(errno));
	buf_init(&b, cap);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(&b, chunk, (size_t)n) == -1) {
			int saved = n == -1 ? errno : EFBIG;

			close(fd);
			buf_release(&b);
			return err_set(e, "%s: %s", path, strerror(saved));
		}
	}
	close(fd);
	*out = buf_detach(&b, len);
	return *out ? 0 : err_set(e, "out of memory");
}

static int
fsync_dir_of(const char *path)
{
	char	*copy, *dir;
	int	 fd, rc;

	if ((copy = strdup(path)) == NULL)
		return -1;
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
fileio_write_file(const char *path, const void *data, size_t len, int mode,
    struct err *e)
{
	char		 tmp[4096];
	const char	*p = data;
	int		 fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1)
		return err_set(e, "%s: %s", tmp, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(e, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		err_set(e, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(e, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		err_set(e, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	/* the rename itself is durable only once the directory is synced */
	if (fsync_dir_of(path) == -1) {
		err_set(e, "%s: fsync directory: %s", path, strerror(errno));
		return -1;
	}
	return 0;
out:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return rc;
}

int
fileio_mkdirs(const char *path, struct err *e)
{
	char	 tmp[4096];
	size_t	 i, len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return err_set(e, "bad directory '%s'", path);
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return err_set(e, "%s: %s", tmp, strerror(errno));
		tmp[i] = i < len ? '/' : '\0';
	}
	return 0;
}
