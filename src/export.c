#include <sys/stat.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <zlib.h>

#include "export.h"
#include "feed.h"
#include "fileio.h"
#include "hash.h"
#include "pool.h"
#include "strmap.h"
#include "vec.h"
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
 * The manifest database (EXPORT_DB): one row per document, its file (the
 * path relative to dir) and, when it has one, FILE.gz.  A row whose etag
 * is NULL is pending: export was about to write its files (or the old text
 * manifest named them), what they hold is unknown, both may exist.  key
 * is the document's key (feed.h) for a document rendered on request, NULL
 * for one rendered with the snapshot (compared by ETag); keys are valid
 * only while meta's "zlib" is zlibVersion() (the .gz bytes are zlib's).
 */
#define EXPORT_DB_FORMAT	1	/* PRAGMA user_version */
#define EXPORT_DB_SCHEMA \
	"CREATE TABLE doc (path TEXT PRIMARY KEY NOT NULL, key BLOB," \
	" etag TEXT, size INTEGER, mtime INTEGER, gz_etag TEXT," \
	" gz_size INTEGER) WITHOUT ROWID;" \
	"CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value TEXT)" \
	" WITHOUT ROWID;" \
	"PRAGMA user_version = 1;"
#define EXPORT_OLD_MAX		(256UL * 1024 * 1024)
#define EXPORT_BUSY_MS		10000
#define EXPORT_NONE		SIZE_MAX

struct export_ent {
	char		*rel;		/* the file, relative to dir */
	char		*etag;		/* NULL: pending */
	char		*gz_etag;	/* NULL: no .gz (unless pending) */
	uint64_t	 size;
	uint64_t	 gz_size;
	int64_t		 mtime;
	unsigned char	 key[HASH_LEN];
	int		 has_key;
	int		 is_seen;
	int		 is_ok;		/* files checked or written by this run */
	int		 is_gone;	/* row deleted: rel kept for the index */
	/*
	 * What the document belongs to (feed_each_doc()'s owner: a record,
	 * an archive page's slot) in the snapshot the handle keeps (struct
	 * export's last), else NULL: while it is kept, the walk skips the
	 * document and the row stays as it is.
	 */
	const void	*owner;
};

/* A document to write, found by the walk, written after it. */
struct export_due {
	char		*path;		/* URL path */
	char		*rel;
	size_t		 ent;		/* its row in ents[], or EXPORT_NONE */
	const void	*owner;		/* for the row's */
	unsigned char	 key[HASH_LEN];
	int		 has_key;
	/* what was written, for the row */
	char		 etag[HASH_HEX_LEN / 2 + 3];
	char		 gz_etag[HASH_HEX_LEN / 2 + 6];
	int		 has_gz;
	uint64_t	 size;
	uint64_t	 gz_size;
	int64_t		 mtime;
};

struct export_run {
	const struct snap	*s;
	/*
	 * The snapshot of the handle's last update, whose kept owners'
	 * documents the walk skips; NULL: a full walk.  drops: the owners
	 * of prev not kept, sorted once the walk is done.
	 */
	const struct snap	*prev;
	const void		**drops;
	size_t			 ndrops, capdrops;
	const char		*dir;
	int			 dfd;
	sqlite3			*db;
	struct buf		 dbpath;
	int			 keys_valid;	/* meta's zlib is ours */
	struct export_ent	*ents;
	size_t			 nents, capents;
	int			 full;		/* check every file's stat */
	struct strmap		 index;		/* rel -> ents[] */
	struct export_due	*due;
	size_t			 ndue, capdue;
	struct buf		 path;
	struct buf		 rel;
	struct buf		 sub;		/* the directory of subfd */
	int			 subfd;
	int			 nwriters;	/* pool_threads() of the ask */
	struct export_stats	 st;
};

static int
export_db_err(struct export_run *x, struct err *e)
{
	return err_set(e, "%s: %s", x->dbpath.data, sqlite3_errmsg(x->db));
}

static int
export_exec(struct export_run *x, const char *sql, struct err *e)
{
	if (sqlite3_exec(x->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return export_db_err(x, e);
	return 0;
}

static int
export_prepare(struct export_run *x, const char *sql, sqlite3_stmt **q,
    struct err *e)
{
	if (sqlite3_prepare_v2(x->db, sql, -1, q, NULL) != SQLITE_OK)
		return export_db_err(x, e);
	return 0;
}

/* The first column of the one row of sql as an integer. */
static int
export_int(struct export_run *x, const char *sql, int64_t *v, struct err *e)
{
	sqlite3_stmt	*q;
	int		 rc = -1;

	if (export_prepare(x, sql, &q, e) == -1)
		return -1;
	if (sqlite3_step(q) != SQLITE_ROW)
		export_db_err(x, e);
	else {
		*v = sqlite3_column_int64(q, 0);
		rc = 0;
	}
	sqlite3_finalize(q);
	return rc;
}

/*
 * Open (create) the manifest database.  One that is not a database, or not
 * one export wrote, is refused: without it no file can be known to be
 * export's, so none would ever be removed.
 */
static int
export_db_open(struct export_run *x, struct err *e)
{
	struct err	 re;
	int64_t		 v, n;
	int		 rc = -1;

	if (buf_printf(&x->dbpath, "%s/%s", x->dir, EXPORT_DB) == -1)
		return err_set(e, "%s: path too long", x->dir);
	if (sqlite3_open_v2(x->dbpath.data, &x->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (x->db == NULL)
			return err_set(e, "%s: out of memory", x->dbpath.data);
		return export_db_err(x, e);
	}
	sqlite3_busy_timeout(x->db, EXPORT_BUSY_MS);
	err_init(&re);
	if (export_int(x, "PRAGMA user_version", &v, &re) == -1 ||
	    export_int(x, "SELECT count(*) FROM sqlite_master", &n, &re) == -1)
		err_set(e, "%s; move it away to export afresh (the files it "
		    "names are then never removed)", re.msg);
	else if (v == 0 && n == 0)
		rc = export_exec(x, "BEGIN;" EXPORT_DB_SCHEMA "COMMIT", e);
	else if (v != EXPORT_DB_FORMAT)
		err_set(e, "%s: not an export manifest of this pubfeed "
		    "(format %lld, expected %d); move it away to export "
		    "afresh (the files it names are then never removed)",
		    x->dbpath.data, (long long)v, EXPORT_DB_FORMAT);
	else
		rc = 0;
	err_release(&re);
	return rc;
}

/*
 * An old text manifest (EXPORT_OLD_MANIFEST, formats 1 and 2: "pubfeed-export
 * N" then "[KEY ]ETAG SIZE MTIME PATH" per file) is read once: every file it
 * names becomes a pending row (FILE.gz folded into FILE's), then it is
 * removed.  The export that follows writes every document again (the same
 * bytes) and removes the files of those that are gone.  One that names no
 * format is left alone.
 */
static int
export_migrate(struct export_run *x, struct err *e)
{
	struct strmap	 names;
	sqlite3_stmt	*q = NULL;
	char		*text = NULL, *p, *nl, *f;
	size_t		 len, skip, i;
	int		 rc = -1;

	strmap_init(&names);
	buf_reset(&x->path);
	if (buf_printf(&x->path, "%s/%s", x->dir, EXPORT_OLD_MANIFEST) == -1)
		return err_set(e, "%s: path too long", x->dir);
	if (faccessat(x->dfd, EXPORT_OLD_MANIFEST, F_OK,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 :
		    err_set(e, "%s: %s", x->path.data, strerror(errno));
	if (fileio_read_file(x->path.data, EXPORT_OLD_MAX, &text, &len,
	    e) == -1)
		return -1;
	if (strncmp(text, "pubfeed-export 1\n", 17) == 0)
		skip = 3;
	else if (strncmp(text, "pubfeed-export 2\n", 17) == 0)
		skip = 4;
	else {
		rc = 0;
		goto out;
	}
	/* every name first, so that a FILE.gz can see its FILE */
	for (p = text + 17; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		for (f = p, i = 0; i < skip && f != NULL; i++)
			if ((f = strchr(f, ' ')) != NULL)
				f++;
		if (f != NULL && *f != '\0' &&
		    strmap_put_str(&names, f, 0) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	if (export_exec(x, "BEGIN", e) == -1 || export_prepare(x,
	    "INSERT OR IGNORE INTO doc (path) VALUES (?)", &q, e) == -1)
		goto out;
	for (i = 0; i < names.cap; i++) {
		const struct strmap_ent	*m = &names.v[i];

		if (m->key == NULL || (m->len > 3 &&
		    strcmp(m->key + m->len - 3, ".gz") == 0 &&
		    strmap_find(&names, m->key, m->len - 3,
		    strmap_hash(m->key, m->len - 3)) != NULL))
			continue;
		sqlite3_reset(q);
		if (sqlite3_bind_text(q, 1, m->key, (int)m->len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(q) != SQLITE_DONE) {
			export_db_err(x, e);
			goto out;
		}
	}
	if (export_exec(x, "COMMIT", e) == -1)
		goto out;
	/* the rows are in: the old manifest is no longer needed */
	if (unlinkat(x->dfd, EXPORT_OLD_MANIFEST, 0) == -1 && errno != ENOENT) {
		err_set(e, "%s: %s", x->path.data, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (!sqlite3_get_autocommit(x->db))
		sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(q);
	strmap_release(&names);
	free(text);
	return rc;
}

static char *
export_col(sqlite3_stmt *q, int i, int *oom)
{
	const unsigned char	*t = sqlite3_column_text(q, i);
	char			*s;

	if (t == NULL)
		return NULL;
	if ((s = strdup((const char *)t)) == NULL)
		*oom = 1;
	return s;
}

/* Every row, and whether its keys are valid. */
static int
export_load(struct export_run *x, struct err *e)
{
	sqlite3_stmt	*q = NULL;
	const char	*z;
	int64_t		 n;
	int		 r, oom = 0, rc = -1;

	if (export_prepare(x, "SELECT value FROM meta WHERE name = 'zlib'",
	    &q, e) == -1)
		goto out;
	if ((r = sqlite3_step(q)) == SQLITE_ROW) {
		z = (const char *)sqlite3_column_text(q, 0);
		x->keys_valid = z != NULL && strcmp(z, zlibVersion()) == 0;
	} else if (r != SQLITE_DONE) {
		export_db_err(x, e);
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (export_int(x, "SELECT count(*) FROM doc", &n, e) == -1)
		goto out;
	x->capents = (size_t)n + 1;
	if ((x->ents = calloc(x->capents, sizeof(*x->ents))) == NULL ||
	    strmap_reserve(&x->index, (size_t)n) == -1) {
		err_set(e, "out of memory");
		goto out;
	}
	if (export_prepare(x, "SELECT path, key, etag, size, mtime, gz_etag, "
	    "gz_size FROM doc", &q, e) == -1)
		goto out;
	while (x->nents < (size_t)n && (r = sqlite3_step(q)) == SQLITE_ROW) {
		struct export_ent	*en = &x->ents[x->nents];

		if ((en->rel = export_col(q, 0, &oom)) == NULL) {
			if (!oom)
				continue;
			err_set(e, "out of memory");
			goto out;
		}
		x->nents++;
		if (sqlite3_column_bytes(q, 1) == HASH_LEN) {
			memcpy(en->key, sqlite3_column_blob(q, 1), HASH_LEN);
			en->has_key = 1;
		}
		en->etag = export_col(q, 2, &oom);
		en->size = (uint64_t)sqlite3_column_int64(q, 3);
		en->mtime = sqlite3_column_int64(q, 4);
		en->gz_etag = export_col(q, 5, &oom);
		en->gz_size = (uint64_t)sqlite3_column_int64(q, 6);
		if (oom || strmap_put_str(&x->index, en->rel,
		    x->nents - 1) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	if (x->nents < (size_t)n && r != SQLITE_DONE) {
		export_db_err(x, e);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

/*
 * name is fileio_write()'s temporary for a file of a pending row in dir
 * (".NAME.tmp.PID", NAME the row's file or its .gz).
 */
static int
export_is_tmp(struct export_run *x, const char *dir, const char *name)
{
	const struct strmap_ent	*m;
	const char		*t, *p;
	size_t			 n;
	int			 rc;

	if (name[0] != '.')
		return 0;
	/* the last ".tmp.": NAME may hold one */
	for (t = NULL, p = name + 1; (p = strstr(p, ".tmp.")) != NULL; p++)
		t = p;
	if (t == NULL || t == name + 1)
		return 0;
	for (p = t + 5; *p >= '0' && *p <= '9'; p++)
		;
	if (p == t + 5 || *p != '\0')
		return 0;
	n = (size_t)(t - name - 1);
	if (n > 3 && strncmp(t - 3, ".gz", 3) == 0)
		n -= 3;
	buf_reset(&x->path);
	if (buf_printf(&x->path, "%s%s%.*s", dir, *dir != '\0' ? "/" : "",
	    (int)n, name + 1) == -1)
		return 0;
	m = strmap_find_str(&x->index, x->path.data);
	rc = m != NULL && x->ents[m->val].etag == NULL;
	return rc;
}

/*
 * The temporaries a killed run left beside the files of its pending rows:
 * one readdir(3) of each directory that has such a row.
 */
static int
export_sweep(struct export_run *x, struct err *e)
{
	struct strmap	 dirs;
	struct dirent	*de;
	DIR		*dp = NULL;
	char		*dir = NULL, *slash;
	size_t		 i;
	int		 fd, rc = -1;

	strmap_init(&dirs);
	for (i = 0; i < x->nents; i++) {
		const struct export_ent	*en = &x->ents[i];

		if (en->etag != NULL)
			continue;
		free(dir);
		if ((dir = strdup(en->rel)) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		else
			*dir = '\0';
		if (strmap_find_str(&dirs, dir) != NULL)
			continue;
		if (strmap_put_str(&dirs, dir, 0) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
		dir = NULL;	/* the map's key now */
	}
	for (i = 0; i < dirs.cap; i++) {
		const char	*d = dirs.v[i].key;

		if (d == NULL)
			continue;
		if ((fd = openat(x->dfd, *d != '\0' ? d : ".", O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) == -1) {
			if (errno == ENOENT)
				continue;
			err_set(e, "%s/%s: %s", x->dir, d, strerror(errno));
			goto out;
		}
		if ((dp = fdopendir(fd)) == NULL) {
			close(fd);
			err_set(e, "%s/%s: %s", x->dir, d, strerror(errno));
			goto out;
		}
		while ((de = readdir(dp)) != NULL)
			if (export_is_tmp(x, d, de->d_name) &&
			    unlinkat(dirfd(dp), de->d_name, 0) == -1 &&
			    errno != ENOENT) {
				err_set(e, "%s/%s/%s: %s", x->dir, d,
				    de->d_name, strerror(errno));
				goto out;
			}
		closedir(dp);
		dp = NULL;
	}
	rc = 0;
out:
	if (dp != NULL)
		closedir(dp);
	for (i = 0; i < dirs.cap; i++)
		free((char *)(uintptr_t)dirs.v[i].key);
	strmap_release(&dirs);
	free(dir);
	return rc;
}

/*
 * The directory of rel as a descriptor, rel's last component in *name.
 * The last directory's is kept (the walk visits a directory's documents
 * together): a check then looks up one name, not every component of the
 * path (a fifth less time for the 80,160 files of a 10k export).
 */
static int
export_dir_of(struct export_run *x, const char *rel, const char **name)
{
	const char	*slash = strrchr(rel, '/');
	size_t		 n;

	if (slash == NULL) {
		*name = rel;
		return x->dfd;
	}
	*name = slash + 1;
	n = (size_t)(slash - rel);
	if (x->subfd != -1 && x->sub.len == n &&
	    memcmp(x->sub.data, rel, n) == 0)
		return x->subfd;
	if (x->subfd != -1)
		close(x->subfd);
	x->subfd = -1;
	buf_reset(&x->sub);
	if (buf_add(&x->sub, rel, n) == -1)
		return -1;
	x->subfd = openat(x->dfd, x->sub.data, O_PATH | O_DIRECTORY |
	    O_CLOEXEC);
	return x->subfd;
}

/* rel (with sfx appended) is still a regular file of size and mtime. */
static int
export_file_ok(struct export_run *x, const char *rel, const char *sfx,
    uint64_t size, int64_t mtime)
{
	struct stat	 sb;
	const char	*name;
	int		 fd;

	if (*sfx != '\0') {
		buf_reset(&x->path);
		if (buf_printf(&x->path, "%s%s", rel, sfx) == -1)
			return 0;
		rel = x->path.data;
	}
	return (fd = export_dir_of(x, rel, &name)) != -1 &&
	    fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == size &&
	    (int64_t)sb.st_mtime == mtime;
}

/*
 * en's files are as it says they were written: one fstatat(2) each, unless
 * this handle wrote or checked them already and this is not a full run.
 */
static int
export_ent_ok(struct export_run *x, struct export_ent *en)
{
	if (en->etag == NULL)
		return 0;
	if (en->is_ok && !x->full)
		return 1;
	en->is_ok = export_file_ok(x, en->rel, "", en->size, en->mtime) &&
	    (en->gz_etag == NULL ||
	    export_file_ok(x, en->rel, ".gz", en->gz_size, en->mtime));
	return en->is_ok;
}

static void
export_keep(struct export_run *x, struct export_ent *en)
{
	x->st.unchanged += en->gz_etag != NULL ? 2 : 1;
	x->st.docs++;
}

/* The row of the document at URL path, if any; its file into x->rel. */
static struct export_ent *
export_find(struct export_run *x, const char *path, struct err *e, int *bad)
{
	struct strmap_ent	*m;
	struct export_ent	*en;

	buf_reset(&x->rel);
	if (export_path(path, &x->rel) == -1) {
		*bad = 1;
		err_set(e, "%s: cannot map to a file under %s", path, x->dir);
		return NULL;
	}
	if ((m = strmap_find(&x->index, x->rel.data, x->rel.len,
	    strmap_hash(x->rel.data, x->rel.len))) == NULL)
		return NULL;
	en = &x->ents[m->val];
	en->is_seen = 1;
	return en;
}

static int
export_due_add(struct export_run *x, const char *path,
    struct export_ent *en, const unsigned char *key,
    const void *owner, struct err *e)
{
	struct export_due	*t;

	if (vec_grow((void **)&x->due, &x->capdue, x->ndue + 1,
	    sizeof(*x->due)) == -1)
		return err_set(e, "out of memory");
	t = &x->due[x->ndue];
	memset(t, 0, sizeof(*t));
	t->ent = en != NULL ? (size_t)(en - x->ents) : EXPORT_NONE;
	t->owner = owner;
	if (key != NULL) {
		memcpy(t->key, key, HASH_LEN);
		t->has_key = 1;
	}
	if ((t->path = strdup(path)) == NULL ||
	    (t->rel = strdup(x->rel.data)) == NULL) {
		free(t->path);
		return err_set(e, "out of memory");
	}
	x->ndue++;
	return 0;
}

/*
 * feed_each_doc()'s want, for a document rendered on request: one whose
 * row has its key and whose files are as written is kept; any other is
 * left for export_write() (not rendered now: 0 either way).
 */
static int
export_want(void *arg, const char *path, const unsigned char *key,
    const void *owner, struct err *e)
{
	struct export_run	*x = arg;
	struct export_ent	*en;
	int			 bad = 0;

	if ((en = export_find(x, path, e, &bad)) == NULL && bad)
		return -1;
	if (en != NULL)
		en->owner = owner;
	if (en != NULL && en->has_key && x->keys_valid &&
	    memcmp(en->key, key, HASH_LEN) == 0 && export_ent_ok(x, en)) {
		export_keep(x, en);
		x->st.reused++;
		return 0;
	}
	return export_due_add(x, path, en, key, owner, e);
}

/* feed_each_doc()'s drop: owner's rows go unless the walk sees them. */
static void
export_drop(void *arg, const void *owner)
{
	struct export_run	*x = arg;

	/* on no memory, no skip at all: export_kept() knows by ndrops */
	if (x->ndrops != EXPORT_NONE && vec_grow((void **)&x->drops,
	    &x->capdrops, x->ndrops + 1, sizeof(*x->drops)) == -1)
		x->ndrops = EXPORT_NONE;
	if (x->ndrops != EXPORT_NONE)
		x->drops[x->ndrops++] = owner;
}

static int
export_ptr_cmp(const void *a, const void *b)
{
	uintptr_t	 p = (uintptr_t)*(const void *const *)a;
	uintptr_t	 q = (uintptr_t)*(const void *const *)b;

	return p < q ? -1 : p > q;
}

/* feed_each_doc()'s fn, for a document rendered with the snapshot. */
static int
export_each(void *arg, const struct snap_doc *d, struct err *e)
{
	struct export_run	*x = arg;
	struct export_ent	*en;
	int			 bad = 0;

	if ((en = export_find(x, d->path, e, &bad)) == NULL && bad)
		return -1;
	if (en != NULL && !en->has_key && en->etag != NULL &&
	    strcmp(en->etag, d->etag) == 0 && en->size == d->len &&
	    en->mtime == d->last_modified && (d->gz != NULL ?
	    en->gz_etag != NULL && strcmp(en->gz_etag, d->etag_gz) == 0 &&
	    en->gz_size == d->gzlen : en->gz_etag == NULL) &&
	    export_ent_ok(x, en)) {
		export_keep(x, en);
		return 0;
	}
	if (en != NULL)
		en->owner = NULL;
	return export_due_add(x, d->path, en, NULL, NULL, e);
}

/*
 * After a walk that skipped the documents of owners kept from x->prev:
 * their rows, not seen by the walk, are kept as they are (their files
 * were written or checked by this handle for the same key), counted as
 * the walk would have counted them.  A row whose owner was dropped, or
 * of no owner, is left unseen: its document is gone.
 */
static int
export_kept(struct export_run *x, struct err *e)
{
	struct export_ent	*en;
	size_t			 i;

	if (x->prev == NULL)
		return 0;
	if (x->ndrops == EXPORT_NONE)
		return err_set(e, "out of memory");
	qsort(x->drops, x->ndrops, sizeof(*x->drops), export_ptr_cmp);
	for (i = 0; i < x->nents; i++) {
		en = &x->ents[i];
		if (en->is_seen || en->is_gone || en->owner == NULL ||
		    (x->ndrops > 0 && bsearch(&en->owner, x->drops, x->ndrops,
		    sizeof(*x->drops), export_ptr_cmp) != NULL))
			continue;
		en->is_seen = 1;
		export_keep(x, en);
		x->st.reused++;
	}
	return 0;
}

/*
 * Before any file is written: a pending row for each document to write
 * that has none, in one transaction, so that a crash while writing leaves
 * no file the manifest does not name.
 */
static int
export_pending(struct export_run *x, struct err *e)
{
	sqlite3_stmt	*q = NULL;
	size_t		 i;
	int		 rc = -1;

	if (export_exec(x, "BEGIN", e) == -1 || export_prepare(x,
	    "INSERT OR REPLACE INTO doc (path) VALUES (?)", &q, e) == -1)
		goto out;
	for (i = 0; i < x->ndue; i++) {
		const struct export_due *t = &x->due[i];

		if (t->ent != EXPORT_NONE && x->ents[t->ent].etag == NULL &&
		    !x->ents[t->ent].is_gone)
			continue;	/* pending already */
		sqlite3_reset(q);
		if (sqlite3_bind_text(q, 1, t->rel, -1, SQLITE_STATIC) !=
		    SQLITE_OK || sqlite3_step(q) != SQLITE_DONE) {
			export_db_err(x, e);
			goto out;
		}
	}
	if (export_exec(x, "COMMIT", e) == -1)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

/*
 * One file: rewritten unless its row says the same representation (ETag)
 * was written and the file still has its size and mtime.  Atomic for a web
 * server reading the directory (a temporary renamed over the name);
 * durable after the one syncfs(2).  nginx answers Last-Modified from the
 * mtime: make it the document's.
 */
static int
export_file(struct export_run *x, const char *rel, const char *sfx,
    const char *old_etag, uint64_t old_size, int64_t old_mtime,
    const char *etag, const char *data, size_t len, int64_t mtime,
    struct err *e)
{
	const struct fileio_wopts	 o = { 0644, FILEIO_EXACT_MODE |
					    FILEIO_MTIME | FILEIO_NOSYNC, mtime };
	const char			*name;
	int				 mk = 0;

	if (old_etag != NULL && strcmp(old_etag, etag) == 0 &&
	    old_size == len && old_mtime == mtime &&
	    export_file_ok(x, rel, sfx, len, mtime)) {
		x->st.unchanged++;
		return 0;
	}
	/*
	 * mkdir -p only for a directory not there yet: the writer's last
	 * directory is kept open (export_dir_of()), and a directory's
	 * documents come together, so it is one openat(2) per directory,
	 * not a mkdir(2) per component of every file.
	 */
	if (export_dir_of(x, rel, &name) == -1)
		mk = 1;
	buf_reset(&x->path);
	if (buf_printf(&x->path, "%s/%s%s", x->dir, rel, sfx) == -1)
		return err_set(e, "%s/%s: path too long", x->dir, rel);
	if ((mk && export_mkparents(x->path.data, e) == -1) ||
	    fileio_write(x->path.data, data, len, &o, e) == -1)
		return -1;
	x->st.files++;
	x->st.bytes += len;
	return 0;
}

/* Remove rel (with sfx): counted when it was there. */
static int
export_unlink(struct export_run *x, const char *rel, const char *sfx,
    struct err *e)
{
	buf_reset(&x->path);
	if (buf_printf(&x->path, "%s%s", rel, sfx) == -1)
		return err_set(e, "%s: path too long", rel);
	if (unlinkat(x->dfd, x->path.data, 0) == 0)
		x->st.removed++;
	else if (errno != ENOENT)
		return err_set(e, "%s/%s: %s", x->dir, x->path.data,
		    strerror(errno));
	return 0;
}

/* The documents of the walk's list, rendered now, into their files. */
static int
export_write(struct export_run *x, struct export_due *t, struct err *e)
{
	const struct export_ent	*en = t->ent != EXPORT_NONE ?
				    &x->ents[t->ent] : NULL;
	const struct snap_doc	*d;
	int			 rc = -1;

	if ((d = snap_doc_find(x->s, t->path)) == NULL)
		return err_set(e, "%s: cannot render", t->path);
	if (export_file(x, t->rel, "", en != NULL ? en->etag : NULL,
	    en != NULL ? en->size : 0, en != NULL ? en->mtime : 0, d->etag,
	    d->body, d->len, d->last_modified, e) == -1)
		goto out;
	if (d->gz != NULL) {
		if (export_file(x, t->rel, ".gz", en != NULL ? en->gz_etag :
		    NULL, en != NULL ? en->gz_size : 0, en != NULL ? en->mtime :
		    0, d->etag_gz, d->gz, d->gzlen, d->last_modified, e) == -1)
			goto out;
	} else if (en != NULL && (en->etag == NULL || en->gz_etag != NULL) &&
	    export_unlink(x, t->rel, ".gz", e) == -1)
		goto out;
	/*
	 * The key the bytes were rendered from, which is the walk's unless
	 * feed.c's two ways to a key disagree: then the next run renders the
	 * document again, never keeps stale bytes.
	 */
	if (t->has_key)
		memcpy(t->key, d->key, HASH_LEN);
	memcpy(t->etag, d->etag, sizeof(t->etag));
	memcpy(t->gz_etag, d->etag_gz, sizeof(t->gz_etag));
	t->has_gz = d->gz != NULL;
	t->size = d->len;
	t->gz_size = d->gzlen;
	t->mtime = d->last_modified;
	x->st.docs++;
	if (t->has_key)
		x->st.rendered++;
	rc = 0;
out:
	snap_doc_done(d);
	return rc;
}

/*
 * The writers of the walk's list, on pool_run()'s threads: each renders the
 * document it is handed (snap_doc_find() is what serve's threads call on
 * one snapshot) and writes its files through a copy of the run of its own
 * (buffers, directory descriptor, counts); what the copies share they only
 * read (s, dir, dfd, ents[], index), except the due[] entries each is
 * handed.  The first failure makes every writer skip what is left; the rows
 * of what was not written stay pending.
 */
struct export_writers {
	const struct export_run	*x;
	struct export_run	 w[POOL_MAX_THREADS];
	struct err		 e[POOL_MAX_THREADS];
	size_t			 failed_at[POOL_MAX_THREADS]; /* due[] */
	int			 is_failed;	/* atomic */
};

static void
export_writer(void *arg, size_t worker, size_t i)
{
	struct export_writers	*ws = arg;

	if (__atomic_load_n(&ws->is_failed, __ATOMIC_ACQUIRE))
		return;
	if (export_write(&ws->w[worker], &ws->x->due[i], &ws->e[worker]) ==
	    -1) {
		ws->failed_at[worker] = i;
		__atomic_store_n(&ws->is_failed, 1, __ATOMIC_RELEASE);
	}
}

static void
export_stats_add(struct export_stats *to, const struct export_stats *st)
{
	to->docs += st->docs;
	to->files += st->files;
	to->bytes += st->bytes;
	to->unchanged += st->unchanged;
	to->removed += st->removed;
	to->rendered += st->rendered;
	to->reused += st->reused;
}

/*
 * Every document of the list by x->nwriters writers.  0, or -1 with e given
 * the failure of the earliest document (in the walk's order) that failed.
 */
static int
export_write_all(struct export_run *x, struct err *e)
{
	struct export_writers	*ws;
	size_t			 i, n = (size_t)x->nwriters, first = EXPORT_NONE;
	int			 rc = -1;

	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return err_set(e, "out of memory");
	ws->x = x;
	for (i = 0; i < n; i++) {
		ws->w[i] = *x;
		ws->w[i].subfd = -1;
		memset(&ws->w[i].st, 0, sizeof(ws->w[i].st));
		buf_init(&ws->w[i].path, EXPORT_PATH_MAX + 64);
		buf_init(&ws->w[i].rel, EXPORT_PATH_MAX);
		buf_init(&ws->w[i].sub, EXPORT_PATH_MAX);
		err_init(&ws->e[i]);
		ws->failed_at[i] = EXPORT_NONE;
	}
	pool_run(x->ndue, n, export_writer, ws);
	for (i = 0; i < n; i++) {
		if (ws->failed_at[i] != EXPORT_NONE && (first == EXPORT_NONE ||
		    ws->failed_at[i] < ws->failed_at[first]))
			first = i;
		export_stats_add(&x->st, &ws->w[i].st);
	}
	if (first != EXPORT_NONE)
		err_merge(e, &ws->e[first]);
	else
		rc = 0;
	for (i = 0; i < n; i++) {
		if (ws->w[i].subfd != -1)
			close(ws->w[i].subfd);
		buf_release(&ws->w[i].path);
		buf_release(&ws->w[i].rel);
		buf_release(&ws->w[i].sub);
		err_release(&ws->e[i]);
	}
	free(ws);
	return rc;
}

/* Files of documents that are gone (their rows go with the last commit). */
static int
export_prune(struct export_run *x, size_t *ngone, struct err *e)
{
	size_t	 i;

	for (i = 0; i < x->nents; i++) {
		const struct export_ent *en = &x->ents[i];

		if (en->is_seen || en->is_gone)
			continue;
		(*ngone)++;
		if (export_unlink(x, en->rel, "", e) == -1 ||
		    ((en->etag == NULL || en->gz_etag != NULL) &&
		    export_unlink(x, en->rel, ".gz", e) == -1))
			return -1;
	}
	return 0;
}

/* After the files are durable: the rows of what was written and removed. */
static int
export_commit(struct export_run *x, struct err *e)
{
	sqlite3_stmt	*q = NULL, *del = NULL, *meta = NULL;
	size_t		 i;
	int		 rc = -1;

	if (export_exec(x, "BEGIN", e) == -1 || export_prepare(x,
	    "INSERT OR REPLACE INTO doc (path, key, etag, size, mtime, "
	    "gz_etag, gz_size) VALUES (?, ?, ?, ?, ?, ?, ?)", &q, e) == -1 ||
	    export_prepare(x, "DELETE FROM doc WHERE path = ?", &del,
	    e) == -1 || export_prepare(x, "INSERT OR REPLACE INTO meta "
	    "(name, value) VALUES ('zlib', ?)", &meta, e) == -1)
		goto out;
	for (i = 0; i < x->ndue; i++) {
		const struct export_due *t = &x->due[i];

		sqlite3_reset(q);
		if (sqlite3_bind_text(q, 1, t->rel, -1, SQLITE_STATIC) ||
		    (t->has_key ? sqlite3_bind_blob(q, 2, t->key, HASH_LEN,
		    SQLITE_STATIC) : sqlite3_bind_null(q, 2)) ||
		    sqlite3_bind_text(q, 3, t->etag, -1, SQLITE_STATIC) ||
		    sqlite3_bind_int64(q, 4, (sqlite3_int64)t->size) ||
		    sqlite3_bind_int64(q, 5, t->mtime) ||
		    (t->has_gz ? sqlite3_bind_text(q, 6, t->gz_etag, -1,
		    SQLITE_STATIC) || sqlite3_bind_int64(q, 7,
		    (sqlite3_int64)t->gz_size) : sqlite3_bind_null(q, 6) ||
		    sqlite3_bind_null(q, 7)) ||
		    sqlite3_step(q) != SQLITE_DONE) {
			export_db_err(x, e);
			goto out;
		}
	}
	for (i = 0; i < x->nents; i++) {
		if (x->ents[i].is_seen || x->ents[i].is_gone)
			continue;
		sqlite3_reset(del);
		if (sqlite3_bind_text(del, 1, x->ents[i].rel, -1,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(del) != SQLITE_DONE) {
			export_db_err(x, e);
			goto out;
		}
	}
	if (sqlite3_bind_text(meta, 1, zlibVersion(), -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_step(meta) != SQLITE_DONE) {
		export_db_err(x, e);
		goto out;
	}
	if (export_exec(x, "COMMIT", e) == -1)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(del);
	sqlite3_finalize(meta);
	return rc;
}

/*
 * After the commit, for the next run of the same handle: the rows as the
 * database now has them, every file just written or checked trusted.  A
 * gone row stays in ents[] (the index points at its rel) until a document
 * takes its file again.
 */
static int
export_absorb(struct export_run *x, struct err *e)
{
	const struct strmap_ent	*m;
	struct export_ent	*en;
	size_t			 i;

	for (i = 0; i < x->nents; i++) {
		en = &x->ents[i];
		if (en->is_seen || en->is_gone)
			continue;
		free(en->etag);
		free(en->gz_etag);
		en->etag = en->gz_etag = NULL;
		en->has_key = en->is_ok = 0;
		en->is_gone = 1;
		en->owner = NULL;
	}
	for (i = 0; i < x->ndue; i++) {
		struct export_due	*t = &x->due[i];

		/* two documents of one file ("/x/" and "/x/index.html") */
		if (t->ent == EXPORT_NONE &&
		    (m = strmap_find_str(&x->index, t->rel)) != NULL)
			t->ent = m->val;
		if (t->ent == EXPORT_NONE) {
			if (vec_grow((void **)&x->ents, &x->capents,
			    x->nents + 1, sizeof(*x->ents)) == -1)
				return err_set(e, "out of memory");
			en = &x->ents[x->nents];
			memset(en, 0, sizeof(*en));
			if (strmap_put_str(&x->index, t->rel, x->nents) ==
			    NULL)
				return err_set(e, "out of memory");
			en->rel = t->rel;	/* the index's key now */
			t->rel = NULL;
			t->ent = x->nents++;
		}
		en = &x->ents[t->ent];
		free(en->etag);
		free(en->gz_etag);
		en->gz_etag = NULL;
		if ((en->etag = strdup(t->etag)) == NULL || (t->has_gz &&
		    (en->gz_etag = strdup(t->gz_etag)) == NULL))
			return err_set(e, "out of memory");
		en->size = t->size;
		en->gz_size = t->gz_size;
		en->mtime = t->mtime;
		memcpy(en->key, t->key, HASH_LEN);
		en->has_key = t->has_key;
		en->owner = t->owner;
		en->is_ok = 1;
		en->is_gone = 0;
	}
	x->keys_valid = 1;
	return 0;
}

static void
export_due_clear(struct export_run *x)
{
	size_t	 i;

	for (i = 0; i < x->ndue; i++) {
		free(x->due[i].path);
		free(x->due[i].rel);
	}
	x->ndue = 0;
}

static void
export_run_init(struct export_run *x, const char *dir)
{
	memset(x, 0, sizeof(*x));
	x->dir = dir;
	x->dfd = x->subfd = -1;
	strmap_init(&x->index);
	buf_init(&x->dbpath, EXPORT_PATH_MAX + 64);
	buf_init(&x->path, EXPORT_PATH_MAX + 64);
	buf_init(&x->rel, EXPORT_PATH_MAX);
	buf_init(&x->sub, EXPORT_PATH_MAX);
	x->nwriters = (int)pool_threads(0);
}

static void
export_run_release(struct export_run *x)
{
	size_t	 i;

	if (x->db != NULL) {
		if (!sqlite3_get_autocommit(x->db))
			sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(x->db);
	}
	if (x->dfd != -1)
		close(x->dfd);
	if (x->subfd != -1)
		close(x->subfd);
	for (i = 0; i < x->nents; i++) {
		free(x->ents[i].rel);
		free(x->ents[i].etag);
		free(x->ents[i].gz_etag);
	}
	free(x->ents);
	export_due_clear(x);
	free(x->due);
	free(x->drops);
	strmap_release(&x->index);
	buf_release(&x->dbpath);
	buf_release(&x->path);
	buf_release(&x->rel);
	buf_release(&x->sub);
}

/* The directory, its database and rows, and a killed run's temporaries. */
static int
export_run_open(struct export_run *x, struct err *e)
{
	if (fileio_mkdirs(x->dir, e) == -1)
		return -1;
	if ((x->dfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return err_set(e, "%s: %s", x->dir, strerror(errno));
	if (export_db_open(x, e) == -1 || export_migrate(x, e) == -1 ||
	    export_load(x, e) == -1 || export_sweep(x, e) == -1)
		return -1;
	return 0;
}

/*
 * One export of s into the open directory; full: stat every file.  prev
 * (may be NULL): the snapshot of this handle's last update, which the
 * caller still holds, every row's owner one of it.
 */
static int
export_run_once(struct export_run *x, const struct snap *s,
    const struct snap *prev, int full, struct err *e)
{
	size_t	 i, ngone = 0;

	x->s = s;
	x->prev = full ? NULL : prev;
	x->ndrops = 0;
	x->full = full;
	memset(&x->st, 0, sizeof(x->st));
	x->st.is_full = full;
	export_due_clear(x);
	for (i = 0; i < x->nents; i++)
		x->ents[i].is_seen = 0;
	if (full && x->subfd != -1) {
		close(x->subfd);	/* the directory may have been replaced */
		x->subfd = -1;
	}
	/* what to write, rendering nothing */
	if (feed_each_doc(s, x->prev, export_want, export_drop, export_each,
	    x, e) == -1 || export_kept(x, e) == -1)
		return -1;
	if (x->ndue > 0 && export_pending(x, e) == -1)
		return -1;
	/* each document rendered, written, given back, by every writer */
	if (x->ndue > 0 && export_write_all(x, e) == -1)
		return -1;
	if (export_prune(x, &ngone, e) == -1)
		return -1;
	/*
	 * One flush for all the files instead of an fsync per file, before
	 * the rows say what they hold; none when nothing changed (syncfs(2)
	 * waits for every dirty page of the whole file system, other
	 * programs' too).
	 */
	if ((x->st.files > 0 || x->st.removed > 0) && syncfs(x->dfd) == -1)
		return err_set(e, "%s: syncfs: %s", x->dir, strerror(errno));
	if ((x->ndue > 0 || ngone > 0 || !x->keys_valid) &&
	    export_commit(x, e) == -1)
		return -1;
	return 0;
}

int
export_snapshot(const struct snap *s, const char *dir,
    struct export_stats *stp, struct err *e)
{
	return export_snapshot_n(s, dir, 0, stp, e);
}

int
export_snapshot_n(const struct snap *s, const char *dir, int nwriters,
    struct export_stats *stp, struct err *e)
{
	struct export_run	 x;
	int			 rc = -1;

	export_run_init(&x, dir);
	/* rendering and gzip are CPU: more writers than cores only queue */
	x.nwriters = (int)pool_threads(nwriters);
	if (export_run_open(&x, e) == -1 ||
	    export_run_once(&x, s, NULL, 1, e) == -1)
		goto out;
	if (stp != NULL)
		*stp = x.st;
	rc = 0;
out:
	export_run_release(&x);
	return rc;
}

struct export {
	struct export_run	 x;
	char			*dir;
	int			 is_open;
	int64_t			 data_version;	/* others' commits change it */
	int			 nwriters;	/* kept across restarts of x */
	/*
	 * The snapshot of the last update that succeeded, referenced: the
	 * rows' owners stay alive (never another one at the same address),
	 * and the next walk skips the kept ones' documents.
	 */
	struct snap		*last;
};

struct export *
export_new(const char *dir, int nwriters)
{
	struct export	*ex;

	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return NULL;
	if ((ex->dir = strdup(dir)) == NULL) {
		free(ex);
		return NULL;
	}
	ex->nwriters = (int)pool_threads(nwriters);
	export_run_init(&ex->x, ex->dir);
	return ex;
}

int
export_update(struct export *ex, const struct snap *s, int full,
    struct export_stats *stp, struct err *e)
{
	int64_t	 v;

	/*
	 * Another process's commit (an export into the same directory)
	 * makes the rows in memory stale: read them again.
	 */
	if (ex->is_open && (export_int(&ex->x, "PRAGMA data_version", &v,
	    e) == -1 || v != ex->data_version)) {
		export_run_release(&ex->x);
		export_run_init(&ex->x, ex->dir);
		ex->is_open = 0;
	}
	if (!ex->is_open) {
		snap_release(ex->last);
		ex->last = NULL;
		full = 1;
		ex->x.nwriters = ex->nwriters;	/* not export_run_init()'s default */
		if (export_run_open(&ex->x, e) == -1)
			goto fail;
		ex->is_open = 1;
	}
	if (export_run_once(&ex->x, s, ex->last, full, e) == -1 ||
	    export_absorb(&ex->x, e) == -1 ||
	    export_int(&ex->x, "PRAGMA data_version", &ex->data_version,
	    e) == -1)
		goto fail;
	ex->x.s = ex->x.prev = NULL;
	snap_release(ex->last);
	/* snapshots are immutable: the reference is all that changes */
	ex->last = snap_ref((struct snap *)(uintptr_t)s);
	if (stp != NULL)
		*stp = ex->x.st;
	return 0;
fail:
	/* what is in memory may not be what is on disk: start over */
	export_run_release(&ex->x);
	export_run_init(&ex->x, ex->dir);
	ex->is_open = 0;
	snap_release(ex->last);
	ex->last = NULL;
	return -1;
}

void
export_free(struct export *ex)
{
	if (ex == NULL)
		return;
	export_run_release(&ex->x);
	snap_release(ex->last);
	free(ex->dir);
	free(ex);
}
