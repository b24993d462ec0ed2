/*
 * state.c: the SQLite database and its in-memory cache of the records
 * table.
 *
 * synchronous=FULL in WAL mode: a commit returns only once the WAL is
 * fsynced, so a change the daemon acknowledged (published, notified)
 * survives a power loss; NORMAL would only keep the database consistent
 * and could lose the last commits, i.e. a tombstone harvesters saw.
 *
 * The parse cache, a database of its own (parse-cache.db), is in WAL mode
 * with synchronous=NORMAL: a power loss may lose its last transactions
 * (rows the next start does not find: those files are parsed again), but
 * the WAL is fsynced before a checkpoint copies it into the database and
 * the database before the WAL is reused, so the file is always a state it
 * committed, never pages of two.  OFF would not fsync even then: a
 * checkpoint cut short could leave a row's page new and its image's
 * overflow pages old, an image that passes its decoder and matches the
 * row's hash at its start but is the rest of another record; a cache that
 * may serve wrong content is worse than none.  The fsyncs NORMAL keeps are
 * one per checkpoint, not one per commit.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "date.h"
#include "fileio.h"
#include "state.h"
#include "vec.h"
#include "banned.h"

#define BUSY_TIMEOUT_MS	5000
#define PCACHE_ASIDE	".corrupt"

static void	pc_rows_join(struct state *);

void
state_init(struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->lockfd = -1;
}

static void
entry_free_sets(struct state_entry *en)
{
	size_t	 i;

	for (i = 0; i < en->nsets; i++)
		free(en->sets[i]);
	free(en->sets);
	en->sets = NULL;
	en->nsets = 0;
}

/* Forget the cached entries, keep the database and the lock. */
static void
state_clear(struct state *st)
{
	size_t	 i;

	for (i = 0; i < st->n; i++) {
		free(st->v[i].id);
		entry_free_sets(&st->v[i]);
	}
	free(st->v);
	strmap_release(&st->index);
	free(st->pending);
	st->v = NULL;
	st->pending = NULL;
	st->n = st->cap = st->npending = st->pending_cap = 0;
}

static void
state_pcq_clear(struct state *st)
{
	size_t	 i;

	for (i = 0; i < st->npcq; i++)
		free(st->pcq[i].path);
	st->npcq = 0;
	free(st->pcq_img);
	st->pcq_img = NULL;
	st->pcq_img_len = st->pcq_img_cap = 0;
}

static void
state_since_clear(struct state *st)
{
	size_t	 i;

	for (i = 0; i < st->nsince; i++)
		free(st->since[i].name);
	st->nsince = 0;
	st->since_pending = 0;
	strmap_clear(&st->since_index);
}

/* A new, empty "since:" row for name, indexed; NULL when out of memory. */
static struct state_since *
state_since_add(struct state *st, const char *name)
{
	struct state_since	*sn;

	if (vec_grow((void **)&st->since, &st->since_cap, st->nsince + 1,
	    sizeof(*st->since)) == -1)
		return NULL;
	sn = &st->since[st->nsince];
	memset(sn, 0, sizeof(*sn));
	if ((sn->name = strdup(name)) == NULL)
		return NULL;
	if (strmap_put_str(&st->since_index, sn->name, st->nsince) == NULL) {
		free(sn->name);
		return NULL;
	}
	st->nsince++;
	return sn;
}

void
state_release(struct state *st)
{
	pc_rows_join(st);	/* what the rows gave is forgotten */
	free(st->pc_load);
	state_clear(st);
	state_since_clear(st);
	free(st->since);
	strmap_release(&st->since_index);
	state_pcq_clear(st);
	free(st->pcq);
	if (st->pcdb != NULL)
		sqlite3_close(st->pcdb);
	if (st->db != NULL)
		sqlite3_close(st->db);
	if (st->lockfd != -1)
		close(st->lockfd);	/* drops the flock */
	free(st->dir);
	state_init(st);
}

struct state_entry *
state_find(struct state *st, const char *id)
{
	struct strmap_ent	*e;

	if ((e = strmap_find_str(&st->index, id)) == NULL)
		return NULL;
	return &st->v[e->val];
}

struct state_entry *
state_get(struct state *st, const char *id)
{
	struct state_entry	*en;

	if ((en = state_find(st, id)) != NULL)
		return en;
	if (vec_grow((void **)&st->v, &st->cap, st->n + 1, sizeof(*st->v)) ==
	    -1 || strmap_reserve(&st->index, st->n + 1) == -1)
		return NULL;
	en = &st->v[st->n];
	memset(en, 0, sizeof(*en));
	if ((en->id = strdup(id)) == NULL)
		return NULL;
	/* cannot fail: the room is reserved */
	strmap_put_str(&st->index, en->id, st->n++);
	return en;
}

int
state_set_sets(struct state_entry *en, const char *const *sets, size_t nsets)
{
	char	**v;
	size_t	 i;

	if ((v = calloc(nsets + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < nsets; i++) {
		if ((v[i] = strdup(sets[i])) == NULL) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return -1;
		}
	}
	entry_free_sets(en);
	en->sets = v;
	en->nsets = nsets;
	return 0;
}

static int
hex_decode(const char *s, size_t len, unsigned char *out, size_t outlen)
{
	size_t	 i;

	if (len != 2 * outlen)
		return -1;
	for (i = 0; i < len; i++) {
		int c = s[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

int
state_touch(struct state *st, struct state_entry *en)
{
	if (en->is_pending)
		return 0;
	if (vec_grow((void **)&st->pending, &st->pending_cap, st->npending + 1,
	    sizeof(*st->pending)) == -1)
		return -1;
	st->pending[st->npending++] = (size_t)(en - st->v);
	en->is_pending = 1;
	return 0;
}

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS records ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " hash TEXT NOT NULL,"
    " datestamp INTEGER NOT NULL,"
    " is_deleted INTEGER NOT NULL CHECK (is_deleted IN (0, 1)),"
    " sets TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS outbox ("
    " kind TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL DEFAULT '',"
    " topic TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " not_before INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (kind, url, body, topic)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS target_status ("
    " kind TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL DEFAULT '',"
    " sent INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
    " dropped INTEGER NOT NULL DEFAULT 0,"
    " last_ok INTEGER NOT NULL DEFAULT 0,"
    " last_fail INTEGER NOT NULL DEFAULT 0, reason TEXT,"
    " PRIMARY KEY (kind, url, body)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta ("
    " key TEXT PRIMARY KEY NOT NULL, value TEXT) WITHOUT ROWID;";

/* parse-cache.db, STATE_PCACHE_VERSION */
static const char *const pcache_sql =
    "DROP TABLE IF EXISTS parse_cache;"
    "CREATE TABLE parse_cache ("
    " path TEXT PRIMARY KEY NOT NULL, dev INTEGER NOT NULL,"
    " ino INTEGER NOT NULL, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
    " hash BLOB NOT NULL, validator BLOB NOT NULL, image BLOB);";
/*
 * (A rowid table: a WITHOUT ROWID one keeps at most ~1,000 bytes of a row
 * in its page, so every 1.7 KB image took a 4 KB overflow page of its own;
 * 489 MB of database for 174 MB of images at 100k records.)
 */

/*
 * Run before schema_sql on a database older than STATE_SCHEMA_VERSION.
 * The parse cache of versions 2 and 3 is a cache: the table is dropped
 * (parse-cache.db starts empty), so the first start after the upgrade
 * parses and validates every file once, as a start on a new state does.
 */
static const char *const upgrade_sql =
    "DROP TABLE IF EXISTS parse_cache;";

static int
db_err(struct err *e, sqlite3 *db, const char *what, const char *path)
{
	return err_set(e, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

static int
db_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
state_schema(sqlite3 *db, struct err *e)
{
	int64_t	 v = 0;
	char	 sql[64];

	if (db_int(db, "PRAGMA user_version", &v) == -1)
		return db_err(e, db, "schema", sqlite3_db_filename(db, NULL));
	if (v > STATE_SCHEMA_VERSION)
		return err_set(e, "%s: schema version %lld is newer than this "
		    "pubfeed knows (%d); refusing to touch it",
		    sqlite3_db_filename(db, NULL), (long long)v,
		    STATE_SCHEMA_VERSION);
	if (v == STATE_SCHEMA_VERSION)
		return 0;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STATE_SCHEMA_VERSION);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK || (v < 4 && sqlite3_exec(db, upgrade_sql, NULL, NULL,
	    NULL) != SQLITE_OK) ||
	    sqlite3_exec(db, schema_sql, NULL, NULL, NULL) !=
	    SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) !=
	    SQLITE_OK || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		db_err(e, db, "cannot create the schema",
		    sqlite3_db_filename(db, NULL));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	/*
	 * The dropped table leaves its pages free in the file (270 MB at
	 * 100k records): given back once.  Committed already, so a failure
	 * (a full disk) leaves only a larger file.
	 */
	if (v == 2 || v == 3)
		(void)sqlite3_exec(db, "VACUUM", NULL, NULL, NULL);
	return 0;
}

static int
db_unreadable(struct err *e, sqlite3 *db, const char *path)
{
	return err_set(e, "%s: database is unreadable or corrupt (%s); "
	    "refusing to start with an empty state (tombstones and "
	    "datestamps would be lost): restore it from a backup",
	    path, sqlite3_errmsg(db));
}

/*
 * A database that does not pass quick_check is never used.  (All of it:
 * the parse cache, the bulk of the pages, is in a file of its own.)
 */
static int
db_check(sqlite3 *db, const char *path, struct err *e)
{
	sqlite3_stmt	*q = NULL;
	const char	*r;
	int		 rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &q, NULL) !=
	    SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
		db_unreadable(e, db, path);
		goto out;
	}
	r = (const char *)sqlite3_column_text(q, 0);
	if (r == NULL || strcmp(r, "ok") != 0) {
		err_set(e, "%s: database is corrupt (%s); refusing to start "
		    "with an empty state (tombstones and datestamps would be "
		    "lost): restore it from a backup", path,
		    r != NULL ? r : "?");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

int
state_db_open(const char *dir, int flags, sqlite3 **out, struct err *e)
{
	sqlite3	*db = NULL;
	char	 path[4096];
	int	 oflags;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/%s", dir, STATE_DB_NAME) >=
	    (int)sizeof(path))
		return err_set(e, "%s: path too long", dir);
	oflags = (flags & STATE_RDONLY) ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		err_set(e, "%s: %s", path, db != NULL ? sqlite3_errmsg(db) :
		    "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	if (db_check(db, path, e) == -1)
		goto fail;
	if (!(flags & STATE_RDONLY) &&
	    (sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) !=
	    SQLITE_OK || sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL,
	    NULL, NULL) != SQLITE_OK || sqlite3_exec(db,
	    "PRAGMA journal_size_limit = 4194304", NULL, NULL, NULL) !=
	    SQLITE_OK)) {
		/* (the size limit: a big first import leaves no 30 MB WAL) */
		db_err(e, db, "cannot set WAL mode", path);
		goto fail;
	}
	if (!(flags & STATE_RDONLY) && state_schema(db, e) == -1)
		goto fail;
	*out = db;
	return 0;
fail:
	sqlite3_close(db);
	return -1;
}

/* A second primary on the same directory must not start. */
static int
state_lock(struct state *st, const char *dir, struct err *e)
{
	char	 path[4096], pid[32], other[32];
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_LOCK_NAME);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return err_set(e, "%s: %s (is the state directory %s "
		    "writable?)", path, strerror(errno), dir);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		n = pread(fd, other, sizeof(other) - 1, 0);
		other[n > 0 ? n : 0] = '\0';
		other[strcspn(other, "\n")] = '\0';
		close(fd);
		if (saved == EWOULDBLOCK)
			return err_set(e, "state directory %s is in use by "
			    "another pubfeed serve (pid %s); refusing to "
			    "start a second primary on it", dir,
			    other[0] != '\0' ? other : "unknown");
		return err_set(e, "%s: flock: %s", path, strerror(saved));
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		int saved = errno;

		close(fd);
		return err_set(e, "%s: %s", path, strerror(saved));
	}
	st->lockfd = fd;
	return 0;
}

/* "NAME.tmp.PID" files are what a kill -9 left of an atomic write. */
static void
state_rm_stale(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	const char	*t;
	char		 path[4096];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if ((t = strstr(de->d_name, ".tmp.")) == NULL ||
		    t[5] == '\0' || strspn(t + 5, "0123456789") != strlen(t + 5))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
}

/*
 * The meta "since:" rows.  A value that does not parse is as good as
 * none: the next snapshot keeps its own digest from then on, which only
 * moves a Last-Modified forward.
 */
static int
state_load_since(struct state *st, sqlite3 *db, struct err *e)
{
	struct state_since	*sn;
	sqlite3_stmt		*q = NULL;
	const char		*k, *v;
	unsigned char		 d[HASH_LEN];
	char			*end;
	int64_t			 t;
	int			 rc;

	state_since_clear(st);
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta WHERE key "
	    ">= 'since:' AND key < 'since;'", -1, &q, NULL) != SQLITE_OK)
		return db_err(e, db, "cannot read meta",
		    sqlite3_db_filename(db, NULL));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		k = (const char *)sqlite3_column_text(q, 0);
		v = (const char *)sqlite3_column_text(q, 1);
		if (k == NULL || v == NULL || strlen(v) <= HASH_HEX_LEN ||
		    v[HASH_HEX_LEN - 1] != ' ')
			continue;
		errno = 0;
		t = strtoll(v + HASH_HEX_LEN, &end, 10);
		if (hex_decode(v, HASH_HEX_LEN - 1, d, HASH_LEN) == -1 ||
		    errno != 0 || *end != '\0' || t <= 0)
			continue;
		if ((sn = state_since_add(st, k + 6)) == NULL)
			break;	/* out of memory: as good as no row */
		memcpy(sn->digest, d, HASH_LEN);
		sn->t = t;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(e, db, "cannot read meta",
		    sqlite3_db_filename(db, NULL));
	return 0;
}

static int
state_load_meta(struct state *st, sqlite3 *db, struct err *e)
{
	sqlite3_stmt	*q = NULL;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = "
	    "'first-import'", -1, &q, NULL) != SQLITE_OK)
		return db_err(e, db, "cannot read meta",
		    sqlite3_db_filename(db, NULL));
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		st->first_import = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(e, db, "cannot read meta",
		    sqlite3_db_filename(db, NULL));
	st->first_import_pending = 0;
	return state_load_since(st, db, e);
}

void
state_set_first_import(struct state *st, int64_t t)
{
	if (st->first_import != 0)
		return;
	st->first_import = t;
	st->first_import_pending = 1;
}

int64_t
state_since(struct state *st, const char *name,
    const unsigned char d[HASH_LEN], int64_t now)
{
	struct strmap_ent	*en = strmap_find_str(&st->since_index, name);
	struct state_since	*sn = en != NULL ? &st->since[en->val] : NULL;

	if (sn != NULL && memcmp(sn->digest, d, HASH_LEN) == 0)
		return sn->t;
	if (now <= 0 || (st->flags & STATE_RDONLY) ||
	    strlen(name) > STATE_SINCE_NAME_MAX)
		return 0;
	if (sn == NULL && (sn = state_since_add(st, name)) == NULL)
		return 0;
	memcpy(sn->digest, d, HASH_LEN);
	sn->t = now;
	sn->is_pending = st->since_pending = 1;
	return now;
}

/* One meta row, inside state_commit()'s transaction. */
static int
state_commit_meta_row(struct state *st, const char *key, const char *value,
    const char *path, struct err *e)
{
	sqlite3_stmt	*q = NULL;
	int		 ok;

	ok = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta (key, "
	    "value) VALUES (?1, ?2)", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_DONE;
	sqlite3_finalize(q);
	return ok ? 0 : db_err(e, st->db, "cannot write meta", path);
}

/* The meta rows changed, inside state_commit()'s transaction. */
static int
state_commit_meta(struct state *st, const char *path, struct err *e)
{
	char	 k[STATE_SINCE_NAME_MAX + 8], v[HASH_HEX_LEN + 24];
	size_t	 i;

	if (st->first_import_pending) {
		snprintf(v, sizeof(v), "%lld", (long long)st->first_import);
		if (state_commit_meta_row(st, "first-import", v, path,
		    e) == -1)
			return -1;
	}
	for (i = 0; st->since_pending && i < st->nsince; i++) {
		const struct state_since *sn = &st->since[i];

		if (!sn->is_pending)
			continue;
		hash_hex(sn->digest, HASH_LEN, v);
		snprintf(v + HASH_HEX_LEN - 1, sizeof(v) - HASH_HEX_LEN + 1,
		    " %lld", (long long)sn->t);
		if (snprintf(k, sizeof(k), "since:%s", sn->name) >=
		    (int)sizeof(k) ||
		    state_commit_meta_row(st, k, v, path, e) == -1)
			return -1;
	}
	return 0;
}

static int
state_load_db(struct state *st, sqlite3 *db, struct err *e)
{
	sqlite3_stmt		*q = NULL;
	struct state_entry	*en;
	const char		*id, *hex, *sets, *sp[256];
	char			*copy = NULL, *tok, *save;
	size_t			 ns;
	int			 rc;

	if (sqlite3_prepare_v2(db, "SELECT id, hash, datestamp, is_deleted, "
	    "sets FROM records", -1, &q, NULL) != SQLITE_OK)
		return db_err(e, db, "cannot read records",
		    sqlite3_db_filename(db, NULL));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(q, 0);
		hex = (const char *)sqlite3_column_text(q, 1);
		sets = (const char *)sqlite3_column_text(q, 4);
		if (id == NULL || hex == NULL || *id == '\0') {
			err_set(e, "%s: records: a row without id or hash",
			    sqlite3_db_filename(db, NULL));
			goto fail;
		}
		if ((en = state_get(st, id)) == NULL ||
		    (copy = strdup(sets != NULL ? sets : "")) == NULL) {
			err_set(e, "out of memory");
			goto fail;
		}
		if (hex_decode(hex, strlen(hex), en->hash, HASH_LEN) == -1) {
			err_set(e, "%s: records: bad hash for '%s'",
			    sqlite3_db_filename(db, NULL), id);
			goto fail;
		}
		en->datestamp = sqlite3_column_int64(q, 2);
		en->is_deleted = sqlite3_column_int(q, 3) != 0;
		ns = 0;
		for (tok = strtok_r(copy, " ", &save); tok != NULL && ns < 256;
		    tok = strtok_r(NULL, " ", &save))
			sp[ns++] = tok;
		if (state_set_sets(en, sp, ns) == -1) {
			err_set(e, "out of memory");
			goto fail;
		}
		free(copy);
		copy = NULL;
	}
	if (rc != SQLITE_DONE) {
		db_err(e, db, "cannot read records",
		    sqlite3_db_filename(db, NULL));
		goto fail;
	}
	sqlite3_finalize(q);
	return state_load_meta(st, db, e);
fail:
	free(copy);
	sqlite3_finalize(q);
	return -1;
}

/* What identifies the database's content for a read-only user. */
static void
state_version(const char *dir, int64_t ver[6])
{
	char		 path[4096];
	struct stat	 sb;
	int		 i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, STATE_DB_NAME,
		    i ? "-wal" : "");
		if (stat(path, &sb) == -1)
			memset(&sb, 0, sizeof(sb));
		ver[3 * i] = (int64_t)sb.st_ino;
		ver[3 * i + 1] = (int64_t)sb.st_size;
		ver[3 * i + 2] = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
		    sb.st_mtim.tv_nsec;
	}
}

/* Read-only and no database: an old text state, read into a memory db. */
static int
state_open_text(struct state *st, struct err *e)
{
	sqlite3	*mem = NULL;
	int	 rc = -1;

	if (sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK) {
		err_set(e, "out of memory");
		goto out;
	}
	if (state_schema(mem, e) == -1 ||
	    state_migrate(mem, st->dir, 0, e) == -1 ||
	    state_load_db(st, mem, e) == -1)
		goto out;
	rc = 0;
out:
	sqlite3_close(mem);
	return rc;
}

/*
 * Read-only: a connection of its own to dir's database name (has_wal: its
 * -wal as state_version() found it).  Without a WAL no primary is running:
 * immutable=1 reads the file as it is and creates nothing next to it.  The
 * state is checked, the parse cache not (see state_pcache_load()).
 */
static int
state_ro_open(const char *dir, const char *name, int has_wal, sqlite3 **out,
    struct err *e)
{
	struct buf	 uri;
	sqlite3		*db = NULL;
	const char	*p;
	char		 path[4096];
	int		 rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf_init(&uri, 3 * sizeof(path) + 64);
	if (buf_addstr(&uri, "file:") == -1)
		goto nomem;
	for (p = path; *p != '\0'; p++)
		if ((*p == '?' || *p == '#' || *p == '%' ?
		    buf_printf(&uri, "%%%02X", (unsigned char)*p) :
		    buf_addch(&uri, *p)) == -1)
			goto nomem;
	if (buf_addstr(&uri, !has_wal ? "?mode=ro&immutable=1" :
	    "?mode=ro") == -1)
		goto nomem;
	if (sqlite3_open_v2(uri.data, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_set(e, "%s: %s", path, db != NULL ? sqlite3_errmsg(db) :
		    "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	if (strcmp(name, STATE_DB_NAME) == 0 && db_check(db, path, e) == -1)
		goto out;
	*out = db;
	db = NULL;
	rc = 0;
	goto out;
nomem:
	err_set(e, "out of memory");
out:
	sqlite3_close(db);
	buf_release(&uri);
	return rc;
}

/* Read-only: load the table on a connection of its own, closed again. */
static int
state_ro_load(struct state *st, struct err *e)
{
	sqlite3	*db = NULL;
	int	 rc;

	state_version(st->dir, st->ver);
	if (st->ver[0] == 0)
		return state_open_text(st, e);
	if (state_ro_open(st->dir, STATE_DB_NAME, st->ver[3] != 0, &db,
	    e) == -1)
		return -1;
	rc = state_load_db(st, db, e);
	sqlite3_close(db);
	return rc;
}

/* SQLite says the file is not (or no longer) a sound database. */
static int
pc_is_corrupt(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* The cache's pragmas and, unless of this version, its table afresh. */
static int
pc_setup(sqlite3 *db)
{
	int64_t	 v = -1;
	char	 sql[64];
	int	 rc;

	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	if ((rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL)) != SQLITE_OK || (rc = sqlite3_exec(db,
	    "PRAGMA synchronous = NORMAL", NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_exec(db, "PRAGMA journal_size_limit = 4194304", NULL,
	    NULL, NULL)) != SQLITE_OK)
		return rc;
	if (db_int(db, "PRAGMA user_version", &v) == -1)
		return sqlite3_errcode(db) != SQLITE_OK ? sqlite3_errcode(db) :
		    SQLITE_ERROR;
	if (v == STATE_PCACHE_VERSION)
		return SQLITE_OK;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STATE_PCACHE_VERSION);
	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) !=
	    SQLITE_OK || (rc = sqlite3_exec(db, pcache_sql, NULL, NULL,
	    NULL)) != SQLITE_OK || (rc = sqlite3_exec(db, sql, NULL, NULL,
	    NULL)) != SQLITE_OK || (rc = sqlite3_exec(db, "COMMIT", NULL, NULL,
	    NULL)) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return SQLITE_OK;
}

static void pc_warnf(struct state *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* What happened to the cache, for state_pcache_warning() (cut to fit). */
static void
pc_warnf(struct state *st, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(st->pc_warn, sizeof(st->pc_warn), fmt, ap);
	va_end(ap);
}

/* Primary: open (create) the cache; SQLite's code, *db NULL on failure. */
static int
pc_open_path(const char *path, sqlite3 **out)
{
	sqlite3	*db = NULL;
	int	 rc;

	*out = NULL;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = pc_setup(db);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return SQLITE_OK;
}

/*
 * Primary: (re)open dir's parse cache into st->pcdb.  why: a corrupt file
 * found by the caller (SQLite's code, or 0): it is moved aside first.  A
 * corrupt file found here is moved aside too and a new one created; what
 * happened is left in pc_warn.  Without a usable file, pcdb stays NULL.
 */
static void
state_pc_open(struct state *st, int why)
{
	char	 path[4096], aside[4200], side[4200];
	int	 rc = SQLITE_ERROR, tries;

	if (st->pcdb != NULL)
		sqlite3_close(st->pcdb);
	st->pcdb = NULL;
	if (snprintf(path, sizeof(path), "%s/%s", st->dir, STATE_PCACHE_NAME)
	    >= (int)sizeof(path))
		return;
	snprintf(aside, sizeof(aside), "%s%s", path, PCACHE_ASIDE);
	for (tries = 0; tries < 2; tries++) {
		if (why != 0) {
			/* its WAL would be replayed into the new file */
			snprintf(side, sizeof(side), "%s-wal", path);
			(void)unlink(side);
			snprintf(side, sizeof(side), "%s-shm", path);
			(void)unlink(side);
			if (rename(path, aside) == -1 && errno != ENOENT) {
				pc_warnf(st, "%s: the parse cache is corrupt "
				    "(%s) and cannot be moved aside: %s; not "
				    "used", path, sqlite3_errstr(why),
				    strerror(errno));
				return;
			}
			pc_warnf(st, "%s: the parse cache is corrupt (%s); "
			    "moved aside to %s and started afresh", path,
			    sqlite3_errstr(why), aside);
		}
		if ((rc = pc_open_path(path, &st->pcdb)) == SQLITE_OK)
			return;
		if (!pc_is_corrupt(rc) || why != 0)
			break;
		why = rc;
	}
	pc_warnf(st, "%s: cannot open the parse cache (%s); not used", path,
	    sqlite3_errstr(rc));
}

int
state_pcache_warning(struct state *st, struct err *e)
{
	if (st->pc_warn[0] == '\0')
		return 0;
	err_set(e, "%s", st->pc_warn);
	st->pc_warn[0] = '\0';
	return -1;
}

/*
 * What both ways of opening as the primary do first: the lock, a killed
 * run's temporaries removed, the database opened and migrated, the parse
 * cache opened.
 */
static int
state_open_primary(struct state *st, const char *dir, struct err *e)
{
	if (state_lock(st, dir, e) == -1)
		return -1;
	state_rm_stale(dir);
	if (state_db_open(dir, 0, &st->db, e) == -1 ||
	    state_migrate(st->db, dir, 1, e) == -1)
		return -1;
	state_pc_open(st, 0);
	return 0;
}

int
state_open(struct state *st, const char *dir, int flags, struct err *e)
{
	state_release(st);
	st->flags = flags;
	if ((st->dir = strdup(dir)) == NULL)
		return err_set(e, "out of memory");
	if (flags & STATE_RDONLY)
		return state_ro_load(st, e);
	if (state_open_primary(st, dir, e) == -1)
		return -1;
	return state_load_db(st, st->db, e);
}

int
state_reload(struct state *st, int force, int *changed, struct err *e)
{
	struct state	 fresh;
	int64_t		 ver[6];

	if (changed != NULL)
		*changed = 0;
	state_init(&fresh);
	if (st->flags & STATE_RDONLY) {
		state_version(st->dir, ver);
		if (!force && memcmp(ver, st->ver, sizeof(ver)) == 0)
			return 0;
		fresh.dir = st->dir;
		if (state_ro_load(&fresh, e) == -1) {
			fresh.dir = NULL;
			state_release(&fresh);
			return -1;
		}
		fresh.dir = NULL;
		memcpy(st->ver, fresh.ver, sizeof(st->ver));
	} else if (state_load_db(&fresh, st->db, e) == -1) {
		state_release(&fresh);
		return -1;
	}
	state_clear(st);
	st->v = fresh.v;
	st->n = fresh.n;
	st->cap = fresh.cap;
	st->index = fresh.index;
	/* the meta rows too: what another process or a rollback left */
	st->first_import = fresh.first_import;
	st->first_import_pending = 0;
	state_since_clear(st);
	free(st->since);
	strmap_release(&st->since_index);
	st->since = fresh.since;
	st->nsince = fresh.nsince;
	st->since_cap = fresh.since_cap;
	st->since_index = fresh.since_index;
	st->since_pending = 0;
	if (changed != NULL)
		*changed = 1;
	return 0;
}

static int
sets_join(struct buf *b, const struct state_entry *en)
{
	size_t	 j;

	buf_reset(b);
	for (j = 0; j < en->nsets; j++)
		if (buf_printf(b, "%s%s", j ? " " : "", en->sets[j]) == -1)
			return -1;
	return buf_addch(b, '\0');
}

/*
 * The SELECT of the rows of one validator from db, fn called for each: it
 * touches nothing of the state, so it may run on a thread of its own
 * (state_open_pcache()).  src: SQLITE_DONE, or what failed and SQLite's
 * message.
 */
struct pc_rows {
	sqlite3			*db;
	const unsigned char	*validator;
	void			(*fn)(void *, const char *,
				    const struct state_pcache *);
	void			*arg;
	int			 src;
	char			 msg[256];
	char			 dbpath[4096];
	int64_t			 ms;
	pthread_t		 t;
	int			 is_running;	/* t runs pc_rows_run() */
};

static void
pc_rows_run(struct pc_rows *pr)
{
	struct state_pcache	 row;
	sqlite3_stmt		*q = NULL;
	sqlite3			*db = pr->db;
	const char		*path;
	int64_t			 t0 = date_mono_ms();

	snprintf(pr->dbpath, sizeof(pr->dbpath), "%s",
	    sqlite3_db_filename(db, NULL));
	if ((pr->src = sqlite3_prepare_v2(db, "SELECT path, dev, ino, size, "
	    "mtime_ns, ctime_ns, hash, image FROM parse_cache WHERE "
	    "validator = ?1", -1, &q, NULL)) != SQLITE_OK)
		goto fail;
	sqlite3_bind_blob(q, 1, pr->validator, HASH_LEN, SQLITE_STATIC);
	memcpy(row.validator, pr->validator, HASH_LEN);
	while ((pr->src = sqlite3_step(q)) == SQLITE_ROW) {
		path = (const char *)sqlite3_column_text(q, 0);
		if (path == NULL || sqlite3_column_bytes(q, 6) != HASH_LEN)
			continue;	/* not a row this code wrote: ignored */
		row.dev = sqlite3_column_int64(q, 1);
		row.ino = sqlite3_column_int64(q, 2);
		row.size = sqlite3_column_int64(q, 3);
		row.mtime_ns = sqlite3_column_int64(q, 4);
		row.ctime_ns = sqlite3_column_int64(q, 5);
		memcpy(row.hash, sqlite3_column_blob(q, 6), HASH_LEN);
		/* SQLite's memory, until the next step: fn copies it */
		row.image = (unsigned char *)sqlite3_column_blob(q, 7);
		row.image_len = (size_t)sqlite3_column_bytes(q, 7);
		if (row.image == NULL)
			row.image_len = 0;
		pr->fn(pr->arg, path, &row);
	}
	if (pr->src == SQLITE_DONE)
		goto out;
fail:
	pr->src = sqlite3_extended_errcode(db);
	snprintf(pr->msg, sizeof(pr->msg), "%s", sqlite3_errmsg(db));
	if (pr->src == SQLITE_DONE || pr->src == SQLITE_OK)
		pr->src = SQLITE_ERROR;
out:
	sqlite3_finalize(q);
	pr->ms = date_mono_ms() - t0;
}

/*
 * What pc_rows_run() gave (the caller's thread): 0, or -1 with e set; a
 * corrupt file of the primary's is moved aside and created again (which
 * closes st->pcdb).
 */
static int
pc_rows_done(struct state *st, const struct pc_rows *pr, struct err *e)
{
	if (pr->src == SQLITE_DONE)
		return 0;
	if (!(st->flags & STATE_RDONLY) && pc_is_corrupt(pr->src)) {
		state_pc_open(st, pr->src);	/* closes st->pcdb */
		state_pcache_warning(st, e);
	} else
		err_set(e, "%s: cannot read the parse cache (%s); not used",
		    pr->dbpath, pr->msg);
	return -1;
}

int
state_pcache_load(struct state *st, const unsigned char *validator,
    void (*fn)(void *, const char *, const struct state_pcache *), void *arg,
    struct err *e)
{
	struct pc_rows		 pr;
	struct stat		 sb;
	sqlite3			*db = st->pcdb;
	char			 dbpath[4096];
	int			 rc, has_wal;

	pc_rows_join(st);	/* the cache's connection is ours */
	if (st->flags & STATE_RDONLY) {
		snprintf(dbpath, sizeof(dbpath), "%s/%s-wal", st->dir,
		    STATE_PCACHE_NAME);
		has_wal = stat(dbpath, &sb) == 0;
		snprintf(dbpath, sizeof(dbpath), "%s/%s", st->dir,
		    STATE_PCACHE_NAME);
		if (stat(dbpath, &sb) == -1)
			return 0;	/* no cache (yet) */
		if (state_ro_open(st->dir, STATE_PCACHE_NAME, has_wal, &db,
		    e) == -1)
			return -1;
	} else if (state_pcache_warning(st, e) == -1)
		return -1;	/* what opening it found */
	if (db == NULL)
		return 0;
	memset(&pr, 0, sizeof(pr));
	pr.db = db;
	pr.validator = validator;
	pr.fn = fn;
	pr.arg = arg;
	pc_rows_run(&pr);
	rc = pc_rows_done(st, &pr, e);
	if (db != st->pcdb && (st->flags & STATE_RDONLY))
		sqlite3_close(db);
	return rc;
}

static void *
pc_rows_thread(void *arg)
{
	pc_rows_run(arg);
	return NULL;
}

/* The rows' thread is done: the cache's connection is the caller's again. */
static void
pc_rows_join(struct state *st)
{
	if (st->pc_load != NULL && st->pc_load->is_running) {
		pthread_join(st->pc_load->t, NULL);
		st->pc_load->is_running = 0;
	}
}

int
state_open_pcache(struct state *st, const char *dir,
    const unsigned char *validator, void (*fn)(void *, const char *,
    const struct state_pcache *), void *arg, struct err *e)
{
	struct pc_rows	*pr;

	state_release(st);
	st->flags = 0;
	if ((st->dir = strdup(dir)) == NULL)
		return err_set(e, "out of memory");
	if (state_open_primary(st, dir, e) == -1)
		return -1;
	/* with a warning from opening it, state_pcache_wait() tells it */
	if (st->pc_warn[0] == '\0' && st->pcdb != NULL) {
		if ((pr = calloc(1, sizeof(*pr))) == NULL)
			return err_set(e, "out of memory");
		/* its own connection: only that thread uses it until joined */
		pr->db = st->pcdb;
		pr->validator = validator;
		pr->fn = fn;
		pr->arg = arg;
		st->pc_load = pr;
		pr->is_running = pthread_create(&pr->t, NULL, pc_rows_thread,
		    pr) == 0;
		if (!pr->is_running)
			pc_rows_run(pr);	/* one after the other */
	}
	return state_load_db(st, st->db, e);
}

int
state_pcache_wait(struct state *st, int64_t *ms, struct err *pe)
{
	struct pc_rows	*pr = st->pc_load;
	int		 rc;

	*ms = 0;
	if (pr == NULL)
		return state_pcache_warning(st, pe);
	pc_rows_join(st);
	st->pc_load = NULL;
	rc = pc_rows_done(st, pr, pe);
	*ms = pr->ms;
	free(pr);
	return rc;
}

static int
state_pcq_add(struct state *st, const char *path, int is_delete,
    const struct state_pcache *row)
{
	struct state_pcache_op	*op;
	size_t			 ilen = row != NULL && row->image != NULL ?
				    row->image_len : 0;

	if (st->db == NULL || st->pcdb == NULL || (st->flags & STATE_RDONLY))
		return 0;
	if (vec_grow((void **)&st->pcq, &st->pcq_cap, st->npcq + 1,
	    sizeof(*st->pcq)) == -1 || (ilen > 0 && (ilen > SIZE_MAX / 2 -
	    st->pcq_img_len || vec_grow((void **)&st->pcq_img,
	    &st->pcq_img_cap, st->pcq_img_len + ilen, 1) == -1)))
		return -1;
	op = &st->pcq[st->npcq];
	memset(op, 0, sizeof(*op));
	if ((op->path = strdup(path)) == NULL)
		return -1;
	op->is_delete = is_delete;
	if (row != NULL)
		op->row = *row;
	op->row.image = NULL;
	op->row.image_len = ilen;
	op->img_off = st->pcq_img_len;
	if (ilen > 0)
		memcpy(st->pcq_img + st->pcq_img_len, row->image, ilen);
	st->pcq_img_len += ilen;
	st->npcq++;
	return 0;
}

int
state_pcache_put(struct state *st, const char *path,
    const struct state_pcache *row)
{
	return state_pcq_add(st, path, 0, row);
}

int
state_pcache_del(struct state *st, const char *path)
{
	return state_pcq_add(st, path, 1, NULL);
}

/*
 * Both transactions write their rows in the order of the table's key
 * (SQLite's BINARY collation is strcmp()'s order).  In the order the files
 * were read (directory order, two threads) every row lands on a random
 * page of the key's b-tree, and once the part being written outgrows
 * SQLite's page cache (2 MB) nearly every insert spills and reads a page
 * back: 1M paths of one directory took 1.6x the CPU per row of 100k
 * (bench/README.md, "1M records, once").  In key order each insert goes
 * next to the last one.
 */
static int
pcq_cmp(const void *a, const void *b, void *arg)
{
	const struct state	*st = arg;
	size_t			 i = *(const size_t *)a, j = *(const size_t *)b;
	int			 c = strcmp(st->pcq[i].path, st->pcq[j].path);

	/* the same path twice: queued order, so the last change wins */
	return c != 0 ? c : (i > j) - (i < j);
}

static int
pending_cmp(const void *a, const void *b, void *arg)
{
	const struct state	*st = arg;

	return strcmp(st->v[*(const size_t *)a].id,
	    st->v[*(const size_t *)b].id);
}

/*
 * The queued parse_cache changes, in path order and, for one path, in
 * queued order (state_commit_pcache_tx()).  SQLite's code.
 */
static int
state_commit_pcache(struct state *st)
{
	sqlite3_stmt	*put = NULL, *del = NULL, *q;
	size_t		*order = NULL, i;
	int		 rc;

	if ((rc = sqlite3_prepare_v2(st->pcdb, "INSERT OR REPLACE INTO "
	    "parse_cache (path, dev, ino, size, mtime_ns, ctime_ns, hash, "
	    "validator, image) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	    -1, &put, NULL)) != SQLITE_OK || (rc = sqlite3_prepare_v2(st->pcdb,
	    "DELETE FROM parse_cache WHERE path = ?1", -1, &del, NULL)) !=
	    SQLITE_OK)
		goto out;
	if ((order = reallocarray(NULL, st->npcq, sizeof(*order))) == NULL) {
		rc = SQLITE_NOMEM;
		goto out;
	}
	for (i = 0; i < st->npcq; i++)
		order[i] = i;
	qsort_r(order, st->npcq, sizeof(*order), pcq_cmp, st);
	for (i = 0; i < st->npcq; i++) {
		const struct state_pcache_op *op = &st->pcq[order[i]];

		q = op->is_delete ? del : put;
		sqlite3_reset(q);
		if ((rc = sqlite3_bind_text(q, 1, op->path, -1,
		    SQLITE_STATIC)) != SQLITE_OK || (!op->is_delete && (
		    (rc = sqlite3_bind_int64(q, 2, op->row.dev)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(q, 3, op->row.ino)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(q, 4, op->row.size)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(q, 5, op->row.mtime_ns)) !=
		    SQLITE_OK ||
		    (rc = sqlite3_bind_int64(q, 6, op->row.ctime_ns)) !=
		    SQLITE_OK ||
		    (rc = sqlite3_bind_blob(q, 7, op->row.hash, HASH_LEN,
		    SQLITE_STATIC)) != SQLITE_OK ||
		    (rc = sqlite3_bind_blob(q, 8, op->row.validator, HASH_LEN,
		    SQLITE_STATIC)) != SQLITE_OK ||
		    (rc = op->row.image_len > 0 ? sqlite3_bind_blob64(q, 9,
		    st->pcq_img + op->img_off, op->row.image_len,
		    SQLITE_STATIC) : sqlite3_bind_null(q, 9)) != SQLITE_OK)))
			goto out;
		if ((rc = sqlite3_step(q)) != SQLITE_DONE)
			goto out;
	}
	rc = SQLITE_OK;
out:
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	free(order);
	return rc;
}

/*
 * A full disk: the state's commits come first, so the cache gives its
 * space back (its file, WAL and index are removed; none until the next
 * start).  Told by state_pcache_warning().
 */
static void
state_pc_remove(struct state *st)
{
	static const char *const	 sfx[] = { "", "-wal", "-shm" };
	char				 path[4096];
	size_t				 i;

	if (st->pcdb == NULL)
		return;
	sqlite3_close(st->pcdb);
	st->pcdb = NULL;
	state_pcq_clear(st);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", st->dir,
		    STATE_PCACHE_NAME, sfx[i]);
		(void)unlink(path);
	}
	pc_warnf(st, "%s/%s: removed: the disk is full and the state comes "
	    "first; the next start creates it again", st->dir,
	    STATE_PCACHE_NAME);
}

/*
 * The queued parse_cache changes in a transaction of the cache's, once the
 * state's is committed: the state's commit stays the size of the records
 * (not 270 MB of images at a first start), and a parse cache that cannot
 * be written (a full disk) never keeps the state from being.  The queue
 * goes either way: a row or an image not written only makes the next start
 * parse that file, and a row is written whole with its image or not at
 * all.  A file SQLite finds corrupt is replaced by an empty one (told by
 * state_pcache_warning()).
 */
static void
state_commit_pcache_tx(struct state *st)
{
	int	 rc;

	if (st->npcq == 0 || st->pcdb == NULL) {
		state_pcq_clear(st);
		return;
	}
	if ((rc = sqlite3_exec(st->pcdb, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL)) == SQLITE_OK && ((rc = state_commit_pcache(st)) !=
	    SQLITE_OK || (rc = sqlite3_exec(st->pcdb, "COMMIT", NULL, NULL,
	    NULL)) != SQLITE_OK))
		sqlite3_exec(st->pcdb, "ROLLBACK", NULL, NULL, NULL);
	state_pcq_clear(st);
	if (rc == SQLITE_OK)
		return;
	if (sqlite3_extended_errcode(st->pcdb) != SQLITE_OK)
		rc = sqlite3_extended_errcode(st->pcdb);
	if (pc_is_corrupt(rc))
		state_pc_open(st, rc);
	else if ((rc & 0xff) == SQLITE_FULL)
		state_pc_remove(st);
}

/*
 * The records' transaction; *is_full: it failed for want of space.  0 or
 * -1 with e set (rolled back).
 */
static int
state_commit_tx(struct state *st, int *is_full, struct err *e)
{
	static const char	 upsert[] = "INSERT INTO records "
	    "(id, hash, datestamp, is_deleted, sets) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, "
	    "datestamp = excluded.datestamp, is_deleted = excluded.is_deleted, "
	    "sets = excluded.sets";
	sqlite3_stmt		*q = NULL;
	struct buf		 sets;
	char			 hex[HASH_HEX_LEN];
	const char		*path;
	size_t			 i;
	int			 rc = -1, in_tx = 0;

	*is_full = 0;
	path = sqlite3_db_filename(st->db, NULL);
	buf_init(&sets, 1024 * 1024);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		db_err(e, st->db, "cannot begin a transaction", path);
		goto out;
	}
	in_tx = 1;
	if (sqlite3_prepare_v2(st->db, upsert, -1, &q, NULL) != SQLITE_OK) {
		db_err(e, st->db, "cannot write records", path);
		goto out;
	}
	/* each entry is pending once: any order is the same changes */
	if (st->npending > 1)
		qsort_r(st->pending, st->npending, sizeof(*st->pending),
		    pending_cmp, st);
	for (i = 0; i < st->npending; i++) {
		const struct state_entry *en = &st->v[st->pending[i]];

		hash_hex(en->hash, HASH_LEN, hex);
		if (sets_join(&sets, en) == -1) {
			err_set(e, "%s: out of memory", path);
			goto out;
		}
		sqlite3_reset(q);
		if (sqlite3_bind_text(q, 1, en->id, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_text(q, 2, hex, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(q, 3, en->datestamp) != SQLITE_OK ||
		    sqlite3_bind_int(q, 4, en->is_deleted) != SQLITE_OK ||
		    sqlite3_bind_text(q, 5, sets.data, -1, SQLITE_TRANSIENT) !=
		    SQLITE_OK || sqlite3_step(q) != SQLITE_DONE) {
			db_err(e, st->db, "cannot write records", path);
			goto out;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (state_commit_meta(st, path, e) == -1)
		goto out;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_err(e, st->db, "cannot commit", path);
		goto out;
	}
	in_tx = 0;
	for (i = 0; i < st->npending; i++)
		st->v[st->pending[i]].is_pending = 0;
	st->npending = 0;
	st->first_import_pending = 0;
	for (i = 0; i < st->nsince; i++)
		st->since[i].is_pending = 0;
	st->since_pending = 0;
	rc = 0;
out:
	if (rc == -1)
		*is_full = (sqlite3_errcode(st->db) & 0xff) == SQLITE_FULL;
	sqlite3_finalize(q);
	if (in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	buf_release(&sets);
	return rc;
}

int
state_commit(struct state *st, struct err *e)
{
	struct err	 fe;
	int		 rc, is_full;

	pc_rows_join(st);	/* the cache's connection is ours */
	if (st->npending == 0 && !st->first_import_pending &&
	    !st->since_pending && st->npcq == 0)
		return 0;
	if (st->db == NULL || (st->flags & STATE_RDONLY))
		return err_set(e, "%s: the state is read-only here",
		    st->dir != NULL ? st->dir : "memory");
	err_init(&fe);
	if ((rc = state_commit_tx(st, &is_full, &fe)) == -1 && is_full &&
	    st->pcdb != NULL) {
		state_pc_remove(st);
		err_clear(&fe);
		rc = state_commit_tx(st, &is_full, &fe);
	}
	if (rc == 0)
		state_commit_pcache_tx(st);
	else
		err_merge(e, &fe);
	err_release(&fe);
	return rc;
}

int
state_token_key(const char *configured, const char *dir, unsigned char *key,
    size_t *keylen, struct err *e)
{
	char		 path[4096], hex[HASH_HEX_LEN], *data = NULL;
	unsigned char	 fresh[HASH_LEN];
	size_t		 len;

	if (configured != NULL) {
		len = strlen(configured);
		if (len > 256)
			len = 256;
		memcpy(key, configured, len);
		*keylen = len;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/token.key", dir);
	if (access(path, F_OK) == 0) {
		if (fileio_read_file(path, 4096, &data, &len, e) == -1)
			return -1;
		while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
			len--;
		if (hex_decode(data, len, key, HASH_LEN) == -1) {
			free(data);
			return err_at(e, path, 1, 0, "not a 64-digit hex key");
		}
		free(data);
		*keylen = HASH_LEN;
		return 0;
	}
	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh))
		return err_set(e, "getrandom: %s", strerror(errno));
	hash_hex(fresh, HASH_LEN, hex);
	hex[HASH_HEX_LEN - 1] = '\n';
	if (fileio_write_file(path, hex, HASH_HEX_LEN, 0600, e) == -1)
		return -1;
	memcpy(key, fresh, HASH_LEN);
	*keylen = HASH_LEN;
	return 0;
}
