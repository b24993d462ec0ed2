#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "feed.h"
#include "fileio.h"
#include "banned.h"

#define EXPORT_PATH_MAX	FILEIO_PATH_MAX

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

/* mkdir -p of the directory part of path. */
static int
export_mkparents(char *path, struct err *e)
{
	char	*slash = strrchr(path, '/');
	int	 rc;

	if (slash == NULL || slash == path)
		return 0;
	*slash = '\0';
	rc = fileio_mkdirs(path, e);
	*slash = '/';
	return rc;
}

/*
 * Atomic for a web server reading the directory; durable only after the
 * one syncfs(2) at the end.  nginx answers Last-Modified from the mtime:
 * make it the document's.
 */
static int
export_file(const char *path, const char *data, size_t len, int64_t mtime,
    struct err *e)
{
	const struct fileio_wopts	 o = { 0644, FILEIO_EXACT_MODE |
					    FILEIO_MTIME | FILEIO_NOSYNC, mtime };

	return fileio_write(path, data, len, &o, e);
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
	if (fileio_mkdirs(dir, e) == -1)
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
