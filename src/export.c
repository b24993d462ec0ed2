#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "export.h"
#include "feed.h"
#include "fileio.h"
#include "hash.h"
#include "strmap.h"
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
 * The manifest: what the previous run wrote, one line per file,
 * "KEY ETAG SIZE MTIME PATH" after a first line naming the format.  KEY is
 * "-" for a document rendered with the snapshot (compared by ETag), else
 * the hex of export_key() and 'g' when the document has a .gz file, '-'
 * when not; both files of a document carry the same KEY.  A manifest of
 * format 1 ("ETAG SIZE MTIME PATH") reads as keys "-".  Entries point into
 * the buffer read, its fields NUL-terminated in place.
 */
#define EXPORT_MANIFEST_HEAD	"pubfeed-export 2\n"
#define EXPORT_MANIFEST_HEAD1	"pubfeed-export 1\n"
#define EXPORT_MANIFEST_MAX	(256UL * 1024 * 1024)
#define EXPORT_KEY_LEN		(2 * HASH_LEN + 1)	/* hex, then 'g'/'-' */

struct export_ent {
	const char	*key;
	const char	*etag;
	const char	*path;
	unsigned long long size;
	long long	 mtime;
	int		 is_seen;
};

struct export_run {
	const char		*dir;
	char			*old;		/* the old manifest's text */
	size_t			 oldlen;
	char			*fields;	/* a copy, parsed in place */
	struct export_ent	*ents;
	size_t			 nents;
	struct strmap		 index;		/* path -> ents[] */
	struct buf		 manifest;	/* the new one */
	struct buf		 path;
	struct buf		 rel;
	char			 key[EXPORT_KEY_LEN + 1];
	int			 has_key;	/* key is the next document's */
	struct export_stats	 st;
};

/*
 * The previous manifest, if any.  A line that does not parse ends the
 * reading: what follows is rewritten, never removed (a file not named in
 * the manifest is not ours to remove).
 */
static int
export_manifest_load(struct export_run *x, struct err *e)
{
	struct err	 re;
	char		*p, *nl, *f[5], *end;
	size_t		 len, n = 0, i, nf, hl;

	if (buf_printf(&x->path, "%s/%s", x->dir, EXPORT_MANIFEST) == -1)
		return err_set(e, "%s: path too long", x->dir);
	err_init(&re);
	if (fileio_read_file(x->path.data, EXPORT_MANIFEST_MAX, &x->old, &len,
	    &re) == -1) {
		err_release(&re);
		return 0;	/* none (or unreadable): every file is new */
	}
	err_release(&re);
	x->oldlen = len;
	if (strncmp(x->old, EXPORT_MANIFEST_HEAD,
	    strlen(EXPORT_MANIFEST_HEAD)) == 0)
		nf = 5;
	else if (strncmp(x->old, EXPORT_MANIFEST_HEAD1,
	    strlen(EXPORT_MANIFEST_HEAD1)) == 0)
		nf = 4;
	else
		return 0;
	hl = strlen(nf == 5 ? EXPORT_MANIFEST_HEAD : EXPORT_MANIFEST_HEAD1);
	if ((x->fields = malloc(len + 1)) == NULL)
		return err_set(e, "out of memory");
	memcpy(x->fields, x->old, len + 1);
	for (p = x->fields; *p != '\0'; p++)
		n += *p == '\n';
	if ((x->ents = calloc(n + 1, sizeof(*x->ents))) == NULL ||
	    strmap_reserve(&x->index, n) == -1)
		return err_set(e, "out of memory");
	for (p = x->fields + hl; *p != '\0'; p = nl + 1) {
		struct export_ent *en = &x->ents[x->nents];

		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		f[0] = "-";
		for (i = 5 - nf; i < 4; i++) {
			f[i] = p;
			if ((p = strchr(p, ' ')) == NULL)
				return 0;
			*p++ = '\0';
		}
		f[4] = p;
		en->key = f[0];
		en->etag = f[1];
		errno = 0;
		en->size = strtoull(f[2], &end, 10);
		if (errno != 0 || *end != '\0')
			return 0;
		en->mtime = strtoll(f[3], &end, 10);
		if (errno != 0 || *end != '\0' || *f[4] == '\0')
			return 0;
		en->path = f[4];
		if (strmap_put_str(&x->index, en->path, x->nents) == NULL)
			return err_set(e, "out of memory");
		x->nents++;
	}
	return 0;
}

/*
 * One file: rewritten unless the manifest says this run's predecessor
 * wrote the same representation (ETag) and the file still has its size
 * and mtime.  Atomic for a web server reading the directory (a temporary
 * renamed over the name); durable only after the one syncfs(2) at the end.
 * nginx answers Last-Modified from the mtime: make it the document's.
 */
static int
export_file(struct export_run *x, const char *rel, const char *key,
    const char *etag, const char *data, size_t len, int64_t mtime,
    struct err *e)
{
	const struct fileio_wopts	 o = { 0644, FILEIO_EXACT_MODE |
					    FILEIO_MTIME | FILEIO_NOSYNC, mtime };
	struct strmap_ent		*m;
	struct export_ent		*en = NULL;
	struct stat			 sb;

	if (strchr(rel, '\n') != NULL || strchr(etag, ' ') != NULL)
		return err_set(e, "%s: cannot be named in the manifest", rel);
	if (buf_printf(&x->manifest, "%s %s %zu %lld %s\n", key, etag, len,
	    (long long)mtime, rel) == -1)
		return err_set(e, "out of memory");
	buf_reset(&x->path);
	if (buf_printf(&x->path, "%s/%s", x->dir, rel) == -1)
		return err_set(e, "%s/%s: path too long", x->dir, rel);
	if ((m = strmap_find_str(&x->index, rel)) != NULL) {
		en = &x->ents[m->val];
		en->is_seen = 1;
		if (strcmp(en->etag, etag) == 0 && en->size == len &&
		    en->mtime == mtime && stat(x->path.data, &sb) == 0 &&
		    S_ISREG(sb.st_mode) && (size_t)sb.st_size == len &&
		    (long long)sb.st_mtime == mtime) {
			x->st.unchanged++;
			return 0;
		}
	}
	if (export_mkparents(x->path.data, e) == -1 ||
	    fileio_write(x->path.data, data, len, &o, e) == -1)
		return -1;
	x->st.files++;
	x->st.bytes += len;
	return 0;
}

static int
export_doc(struct export_run *x, const struct snap_doc *d, struct err *e)
{
	struct buf	 rel;
	const char	*key = "-";
	int		 rc = -1;

	buf_init(&rel, EXPORT_PATH_MAX);
	if (x->has_key) {
		/* offered to export_want() under this key: rendered for us */
		x->key[EXPORT_KEY_LEN - 1] = d->gz != NULL ? 'g' : '-';
		x->key[EXPORT_KEY_LEN] = '\0';
		key = x->key;
		x->has_key = 0;
		x->st.rendered++;
	}
	if (export_path(d->path, &rel) == -1) {
		err_set(e, "%s: cannot map to a file under %s", d->path,
		    x->dir);
		goto out;
	}
	if (export_file(x, rel.data, key, d->etag, d->body, d->len,
	    d->last_modified, e) == -1)
		goto out;
	if (d->gz != NULL) {
		if (buf_addstr(&rel, ".gz") == -1) {
			err_set(e, "%s: path too long", rel.data);
			goto out;
		}
		if (export_file(x, rel.data, key, d->etag_gz, d->gz, d->gzlen,
		    d->last_modified, e) == -1)
			goto out;
	}
	x->st.docs++;
	rc = 0;
out:
	buf_release(&rel);
	return rc;
}

static int
export_each(void *arg, const struct snap_doc *d, struct err *e)
{
	return export_doc(arg, d, e);
}

/*
 * What a file of a document is keyed on: the document's key (feed.h: its
 * inputs, pubfeed's version among them), its path, and zlib's version (the
 * .gz bytes are zlib's), as hex into out (2 * HASH_LEN + 1 bytes).
 */
static void
export_key(const char *path, const unsigned char *key, char *out)
{
	unsigned char	 k[HASH_LEN];
	struct hash_ctx	 h;

	hash_init(&h);
	hash_update_str(&h, EXPORT_MANIFEST_HEAD);
	hash_update(&h, key, HASH_LEN);
	hash_update_str(&h, path);
	hash_update_str(&h, zlibVersion());
	hash_final(&h, k);
	hash_hex(k, HASH_LEN, out);
}

/*
 * The entry the manifest has for rel if it was written under key (its
 * first 2 * HASH_LEN characters; exactly key when whole) and the file is
 * still a regular file of its size and mtime, else NULL.
 */
static struct export_ent *
export_kept(struct export_run *x, const char *rel, const char *key,
    int is_whole)
{
	struct strmap_ent	*m;
	struct export_ent	*en;
	struct stat		 sb;

	if ((m = strmap_find_str(&x->index, rel)) == NULL)
		return NULL;
	en = &x->ents[m->val];
	if (strlen(en->key) != EXPORT_KEY_LEN ||
	    (is_whole ? strcmp(en->key, key) :
	    strncmp(en->key, key, EXPORT_KEY_LEN - 1)) != 0)
		return NULL;
	buf_reset(&x->path);
	if (buf_printf(&x->path, "%s/%s", x->dir, rel) == -1 ||
	    stat(x->path.data, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (unsigned long long)sb.st_size != en->size ||
	    (long long)sb.st_mtime != en->mtime)
		return NULL;
	return en;
}

static int
export_keep_line(struct export_run *x, const struct export_ent *en)
{
	if (buf_printf(&x->manifest, "%s %s %llu %lld %s\n", en->key,
	    en->etag, en->size, en->mtime, en->path) == -1)
		return -1;
	return 0;
}

/*
 * feed_each_doc()'s want: a document whose files the manifest says were
 * written under the same key, and that are still there as written, is not
 * rendered (0); any other is (1), export_doc() writing it under the key.
 */
static int
export_want(void *arg, const char *path, const unsigned char *key,
    struct err *e)
{
	struct export_run	*x = arg;
	struct export_ent	*en, *gz = NULL;

	export_key(path, key, x->key);
	x->has_key = 1;
	buf_reset(&x->rel);
	if (export_path(path, &x->rel) == -1)
		return err_set(e, "%s: cannot map to a file under %s", path,
		    x->dir);
	if ((en = export_kept(x, x->rel.data, x->key, 0)) == NULL)
		return 1;
	if (en->key[EXPORT_KEY_LEN - 1] == 'g') {
		if (buf_addstr(&x->rel, ".gz") == -1)
			return err_set(e, "%s: path too long", x->rel.data);
		if ((gz = export_kept(x, x->rel.data, en->key, 1)) == NULL)
			return 1;
	}
	if (export_keep_line(x, en) == -1 ||
	    (gz != NULL && export_keep_line(x, gz) == -1))
		return err_set(e, "out of memory");
	en->is_seen = 1;
	x->st.unchanged++;
	if (gz != NULL) {
		gz->is_seen = 1;
		x->st.unchanged++;
	}
	x->st.docs++;
	x->st.reused++;
	x->has_key = 0;
	return 0;
}

/* Files the previous run wrote for documents that are gone. */
static int
export_prune(struct export_run *x, struct err *e)
{
	size_t	 i;

	for (i = 0; i < x->nents; i++) {
		if (x->ents[i].is_seen)
			continue;
		buf_reset(&x->path);
		if (buf_printf(&x->path, "%s/%s", x->dir,
		    x->ents[i].path) == -1)
			return err_set(e, "%s: path too long", x->ents[i].path);
		if (unlink(x->path.data) == -1 && errno != ENOENT)
			return err_set(e, "%s: %s", x->path.data,
			    strerror(errno));
		x->st.removed++;
	}
	return 0;
}

int
export_snapshot(const struct snap *s, const char *dir,
    struct export_stats *stp, struct err *e)
{
	const struct fileio_wopts	 o = { 0644, FILEIO_EXACT_MODE |
					    FILEIO_NOSYNC, 0 };
	struct export_run		 x;
	int				 fd, is_dirty = 0, rc = -1;

	memset(&x, 0, sizeof(x));
	x.dir = dir;
	strmap_init(&x.index);
	buf_init(&x.manifest, EXPORT_MANIFEST_MAX);
	buf_init(&x.path, EXPORT_PATH_MAX + 64);
	buf_init(&x.rel, EXPORT_PATH_MAX);
	if (fileio_mkdirs(dir, e) == -1 || export_manifest_load(&x, e) == -1)
		goto out;
	if (buf_addstr(&x.manifest, EXPORT_MANIFEST_HEAD) == -1) {
		err_set(e, "out of memory");
		goto out;
	}
	/* one document at a time: rendered, written, given back */
	if (feed_each_doc(s, export_want, export_each, &x, e) == -1)
		goto out;
	/* the new manifest first: a crash now leaves nothing unaccounted */
	buf_reset(&x.path);
	if (buf_printf(&x.path, "%s/%s", dir, EXPORT_MANIFEST) == -1) {
		err_set(e, "%s: path too long", dir);
		goto out;
	}
	if ((x.old == NULL || x.oldlen != x.manifest.len ||
	    memcmp(x.old, x.manifest.data, x.oldlen) != 0)) {
		if (fileio_write(x.path.data, x.manifest.data, x.manifest.len,
		    &o, e) == -1)
			goto out;
		is_dirty = 1;
	}
	if (export_prune(&x, e) == -1)
		goto out;
	/*
	 * One flush for all the files instead of an fsync per file; none when
	 * nothing changed (syncfs(2) waits for every dirty page of the whole
	 * file system, other programs' too).
	 */
	if (!is_dirty && x.st.files == 0 && x.st.removed == 0)
		goto done;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		err_set(e, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (syncfs(fd) == -1) {
		err_set(e, "%s: syncfs: %s", dir, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
done:
	if (stp != NULL)
		*stp = x.st;
	rc = 0;
out:
	strmap_release(&x.index);
	buf_release(&x.manifest);
	buf_release(&x.path);
	buf_release(&x.rel);
	free(x.ents);
	free(x.fields);
	free(x.old);
	return rc;
}
