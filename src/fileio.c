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
#include <time.h>
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
	const struct fileio_wopts	 o = { mode, 0, 0 };

	return fileio_write(path, data, len, &o, e);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_write(const char *path, const void *data, size_t len,
    const struct fileio_wopts *o, struct err *e)
{
	struct timespec	 ts[2];
	char		 tmp[FILEIO_PATH_MAX + 32];
	const char	*base = strrchr(path, '/');
	int		 fd;

	base = base != NULL ? base + 1 : path;
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp.%ld", (int)(base - path),
	    path, base, (long)getpid()) >= (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, o->mode);
	if (fd == -1)
		return err_set(e, "%s: %s", tmp, strerror(errno));
	ts[0].tv_sec = ts[1].tv_sec = (time_t)o->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (write_all(fd, data, len) == -1 ||
	    ((o->flags & FILEIO_EXACT_MODE) && fchmod(fd, o->mode) == -1) ||
	    ((o->flags & FILEIO_MTIME) && futimens(fd, ts) == -1)) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto out_unlink_tmp;
	}
	if (!(o->flags & FILEIO_NOSYNC) && fsync(fd) == -1) {
		err_set(e, "%s: fsync: %s", tmp, strerror(errno));
		close(fd);
		goto out_unlink_tmp;
	}
	if (close(fd) == -1) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		goto out_unlink_tmp;
	}
	if (rename(tmp, path) == -1) {
		err_set(e, "%s: rename: %s", path, strerror(errno));
		goto out_unlink_tmp;
	}
	/* the rename itself is durable only once the directory is synced */
	if (!(o->flags & FILEIO_NOSYNC) && fsync_dir_of(path) == -1)
		return err_set(e, "%s: fsync directory: %s", path,
		    strerror(errno));
	return 0;
out_unlink_tmp:
	unlink(tmp);
	return -1;
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
