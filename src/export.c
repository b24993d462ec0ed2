#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "feed.h"
#include "state.h"
#include "banned.h"

#define EXPORT_PATH_MAX	4096

int
export_path(const char *urlpath, struct buf *out)
{
	const char	*p, *slash;
	size_t		 n;

	if (urlpath[0] != '/')
		return -1;
	/* every component must be a plain name: no way out of the dir */
	for (p = urlpath + 1; *p != '\0'; p = slash + 1) {
		if ((slash = strchr(p, '/')) == NULL)
			break;
		n = (size_t)(slash - p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
	}
	if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
		return -1;
	if (buf_addstr(out, urlpath + 1) == -1 ||
	    (*p == '\0' && buf_addstr(out, "index.html") == -1))
		return -1;
	return 0;
}

/* mkdir -p of the directory part of path (dir itself exists). */
static int
export_mkparents(char *path, struct err *e)
{
	char	*p;

	for (p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			err_set(e, "%s: %s", path, strerror(errno));
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int
export_write_all(int fd, const char *data, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write data to path through a temporary file and rename(2). */
static int
export_file(const char *path, const char *data, size_t len, int64_t mtime,
    struct err *e)
{
	struct timespec	 ts[2];
	char		 tmp[EXPORT_PATH_MAX + 32];
	const char	*base = strrchr(path, '/');
	int		 fd;

	base = base ? base + 1 : path;
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp.%ld",
	    (int)(base - path), path, base, (long)getpid()) >=
	    (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return err_set(e, "%s: %s", tmp, strerror(errno));
	/* nginx answers Last-Modified from the mtime: make it the doc's */
	ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (export_write_all(fd, data, len) == -1 ||
	    fchmod(fd, 0644) == -1 || futimens(fd, ts) == -1) {
		err_set(e, "%s: %s", tmp, strerror(errno));
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
	return 0;
out_unlink_tmp:
	unlink(tmp);
	return -1;
}

static int
export_doc(const struct snap_doc *d, const char *dir,
    struct export_stats *st, struct err *e)
{
	struct buf	 path;
	int		 rc = -1;

	buf_init(&path, EXPORT_PATH_MAX);
	if (buf_printf(&path, "%s/", dir) == -1 ||
	    export_path(d->path, &path) == -1) {
		err_set(e, "%s: cannot map to a file under %s", d->path, dir);
		goto out;
	}
	if (export_mkparents(path.data, e) == -1 ||
	    export_file(path.data, d->body, d->len, d->last_modified, e) == -1)
		goto out;
	st->files++;
	st->bytes += d->len;
	if (d->gz != NULL) {
		if (buf_addstr(&path, ".gz") == -1) {
			err_set(e, "%s: path too long", path.data);
			goto out;
		}
		if (export_file(path.data, d->gz, d->gzlen, d->last_modified,
		    e) == -1)
			goto out;
		st->files++;
		st->bytes += d->gzlen;
	}
	st->docs++;
	rc = 0;
out:
	buf_release(&path);
	return rc;
}

int
export_snapshot(const struct snap *s, const char *dir,
    struct export_stats *stp, struct err *e)
{
	struct export_stats	 st;
	size_t			 i;
	int			 fd;

	memset(&st, 0, sizeof(st));
	if (state_mkdirs(dir, e) == -1)
		return -1;
	for (i = 0; i < s->ndocs; i++)
		if (export_doc(s->docs[i], dir, &st, e) == -1)
			return -1;
	/* archive pages are rendered on first request: all of them, now */
	if (feed_materialize(s, e) == -1)
		return -1;
	for (i = 0; i <= s->nsets; i++) {
		const struct snap_pages *pg = i == 0 ? &s->pages :
		    &s->sets[i - 1].pages;
		size_t k;

		for (k = 0; k < pg->npages * SNAP_PAGE_KINDS; k++)
			if (export_doc(pg->docs[k], dir, &st, e) == -1)
				return -1;
	}
	/* landing pages: one slot per item, none for a deleted one */
	for (i = 0; i < s->records.npages * SNAP_PAGE_KINDS; i++)
		if (s->records.docs[i] != NULL &&
		    export_doc(s->records.docs[i], dir, &st, e) == -1)
			return -1;
	/* one flush for all the files instead of an fsync per file */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return err_set(e, "%s: %s", dir, strerror(errno));
	if (syncfs(fd) == -1) {
		close(fd);
		return err_set(e, "%s: syncfs: %s", dir, strerror(errno));
	}
	close(fd);
	if (stp != NULL)
		*stp = st;
	return 0;
}
