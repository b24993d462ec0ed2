/*
 * state: what must survive a restart — every OAI identifier ever served with
 * the hash of its content, its datestamp and whether it is deleted (a
 * tombstone is kept forever, with its sets), the notification outbox and the
 * per-target status.  All of it lives in one SQLite database,
 * STATE_DIR/pubfeed.db, which an operator may read with sqlite3(1):
 *
 *   records(id TEXT PRIMARY KEY, hash TEXT (64 hex digits),
 *           datestamp INTEGER (Unix seconds), is_deleted INTEGER 0|1,
 *           sets TEXT (setSpecs separated by one space; a tombstone keeps
 *           the sets it had))
 *   outbox(kind TEXT, url TEXT, body TEXT ('' for none), topic TEXT,
 *          attempts INTEGER, not_before INTEGER (Unix ms);
 *          PRIMARY KEY (kind, url, body, topic))
 *   target_status(kind TEXT, url TEXT, body TEXT, sent INTEGER,
 *          failed INTEGER, dropped INTEGER, last_ok INTEGER,
 *          last_fail INTEGER (Unix s, 0 never), reason TEXT;
 *          PRIMARY KEY (kind, url, body))
 *   meta(key TEXT PRIMARY KEY, value TEXT)   ("migrated": when the text
 *          state of pubfeed < 0.2 was imported; "first-import": the
 *          datestamp, Unix s, given to what the first scan found;
 *          "since:NAME": 64 hex digits, a space and Unix s: the digest
 *          the last snapshot had under NAME and since when it has had
 *          it, state_since(); the store's NAMEs are "sets" and
 *          "sets:SPEC", the trees of sets the HTML pages show, and
 *          "window" and "window:SPEC", which records the current
 *          documents show, store_since())
 *   PRAGMA user_version = STATE_SCHEMA_VERSION
 *
 * (Schema versions 2 and 3 also held the parse cache; a primary opening
 * one drops that table in the transaction that moves the version on, then
 * VACUUMs the file: a cache, the next start parses every file once.)
 *
 * The parse cache (the store's, see store.h) is a database of its own,
 * STATE_DIR/parse-cache.db, so that its pages (270 MB of images at 100k
 * records) are neither in the state's quick_check nor paid at the state's
 * synchronous=FULL, and so that a damaged cache page can never be one of
 * the state's b-trees:
 *
 *   parse_cache(path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER,
 *          size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,
 *          hash BLOB (SHA-256 of the bytes), validator BLOB (SHA-256,
 *          record_schema_validator()), image BLOB (record_image_encode()
 *          of the record the bytes gave; NULL when it has none))
 *          (a row says: the bytes with this hash, read from this file
 *          while it had this identity, passed XSD validation under this
 *          validator and gave the record of the image)
 *   PRAGMA user_version = STATE_PCACHE_VERSION (another version: the table
 *          is dropped and created again empty)
 *
 * WAL mode, synchronous=NORMAL (see state.c), no check at open.  Only the
 * primary writes it, under the same lock; read-only users open it
 * read-only, as the state, or do without when it is absent.  A file SQLite
 * finds corrupt (SQLITE_CORRUPT, SQLITE_NOTADB) when the primary opens or
 * reads or writes it is renamed to parse-cache.db.corrupt (its -wal and
 * -shm removed) and created again empty; a read-only user only stops using
 * it.  Either way the caller is told once (state_pcache_load(),
 * state_pcache_warning()).
 *
 * kind is "websub-hub", "xmlrpc-ping", "ping-get" or "ping-post".  The
 * database is in WAL mode with synchronous=FULL (see state.c).  The records
 * table is cached in memory (struct state); changed entries are queued with
 * state_touch() and written by state_commit() in one transaction that holds
 * only those rows.  A primary holds an exclusive flock(2) on
 * STATE_DIR/pubfeed.lock for its lifetime (covering parse-cache.db too);
 * read-only users (replicas, "pubfeed export") open the database with SQLITE_OPEN_READONLY and take no
 * lock; they keep no connection open but read the whole table again when
 * the database or its WAL changed (a WAL-mode database without a WAL, i.e.
 * no primary running, is opened immutable=1 so that reading creates no
 * -wal/-shm file in a directory that is not ours).  The resumption-token
 * key stays in STATE_DIR/token.key.
 *
 * SQLite connections are per thread here: the store's thread owns the one in
 * struct state; the notifier opens its own with state_db_open().  Nothing in
 * this module is thread-safe otherwise.
 */
#ifndef PUBFEED_STATE_H
#define PUBFEED_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"
#include "hash.h"
#include "strmap.h"

#define STATE_SCHEMA_VERSION	4
#define STATE_DB_NAME		"pubfeed.db"
#define STATE_PCACHE_NAME	"parse-cache.db"
#define STATE_PCACHE_VERSION	1
#define STATE_LOCK_NAME		"pubfeed.lock"

struct state_entry {
	char		*id;
	unsigned char	 hash[HASH_LEN];
	int64_t		 datestamp;
	int		 is_deleted;
	char		**sets;		/* NULL-terminated */
	size_t		 nsets;
	int		 is_pending;	/* queued for the next commit */
};

/* A meta "since:" row (see above). */
struct state_since {
	char		*name;
	unsigned char	 digest[HASH_LEN];
	int64_t		 t;
	int		 is_pending;	/* for the next commit */
};

/* A parse_cache row (see above) without its path. */
struct state_pcache {
	int64_t		 dev, ino, size, mtime_ns, ctime_ns;
	unsigned char	 hash[HASH_LEN];
	unsigned char	 validator[HASH_LEN];
	unsigned char	*image;		/* NULL: none (see the calls) */
	size_t		 image_len;
};

/* A parse_cache change queued for the next state_commit(). */
struct state_pcache_op {
	char			*path;
	int			 is_delete;
	struct state_pcache	 row;	/* image: NULL, see img_off */
	size_t			 img_off;	/* into pcq_img */
};

struct state {
	struct state_entry	*v;
	size_t			 n, cap;
	struct strmap		 index;	/* id -> index into v */
	size_t			*pending;	/* indices into v, not committed */
	size_t			 npending, pending_cap;
	sqlite3			*db;	/* NULL: memory only */
	char			*dir;
	int			 flags;
	int			 lockfd;
	/* meta "first-import"; 0 unknown (a state older than the key) */
	int64_t			 first_import;
	int			 first_import_pending;
	/* the meta "since:" rows (state_since()); since_index: name -> row */
	struct state_since	*since;
	size_t			 nsince, since_cap;
	struct strmap		 since_index;
	int			 since_pending;
	/* read-only: inode, size, mtime of the database and its WAL loaded */
	int64_t			 ver[6];
	/* primary: parse-cache.db (NULL: no cache, see pc_warn) */
	sqlite3			*pcdb;
	/* its rows loading on a thread (state_open_pcache()), or NULL */
	struct pc_rows		*pc_load;
	/* what went wrong with it, not yet told (state_pcache_warning()) */
	char			 pc_warn[ERR_MSG_MAX];
	/* parse_cache changes not committed (kept by state_reload()) */
	struct state_pcache_op	*pcq;
	size_t			 npcq, pcq_cap;
	/*
	 * Their images, end to end in one buffer: 150 MB at a first start
	 * of 100k records, given back whole after the commit (one mapping,
	 * not 100k holes between the records).
	 */
	unsigned char		*pcq_img;
	size_t			 pcq_img_len, pcq_img_cap;
};

/* state_open() / state_db_open() flags */
#define STATE_RDONLY	0x1	/* SQLITE_OPEN_READONLY, no lock, no migration */

void	state_init(struct state *);
/* Close the database, drop the lock and free everything. */
void	state_release(struct state *);

/*
 * Open DIR's state.  Primary (flags 0): take the lock (-1 with a message
 * naming DIR when another instance holds it), remove stale "*.tmp.PID"
 * files a crash left, create the database or check it (a corrupt one is an
 * error, never an empty start), import an old text state once (see
 * state_migrate.c), open the parse cache (never an error: see
 * state_pcache_load()), then load the records.  STATE_RDONLY: no database
 * yet is an empty state (an old text state is read in memory); nothing is
 * created.  0 or -1 with e set.
 */
int	state_open(struct state *, const char *dir, int flags, struct err *e);
/*
 * Write every entry queued since the last commit in one transaction (then
 * the parse cache's queue in one of its own), each in the order of its
 * table's key (id; path, and for one path the order queued, so the last
 * change queued wins), whatever order they were queued in; the pending
 * list is sorted in place.  When the disk is full, the
 * parse cache's file is removed to make room and the transaction tried
 * once more (told by state_pcache_warning()).  On failure it is rolled
 * back and the queue is kept (the memory still holds
 * the uncommitted values: call state_reload() to go back to the database).
 * 0 (also when nothing is queued) or -1 with e set.
 */
int	state_commit(struct state *, struct err *e);
/*
 * Replace the memory with what the database holds, dropping anything
 * queued.  With STATE_RDONLY and force 0, only when the database or its
 * WAL changed since the last load (a primary committed, or a synced copy
 * replaced the file); *changed
 * (may be NULL) says whether it did.  Entry pointers and indices are
 * invalid afterwards.  0 or -1 with e set (the memory is then unchanged).
 */
int	state_reload(struct state *, int force, int *changed, struct err *e);

struct state_entry *state_find(struct state *, const char *id);
/* The entry for id, created (live, datestamp 0, no sets) if missing. */
struct state_entry *state_get(struct state *, const char *id);
/* Queue an entry for the next commit.  0 or -1 (no memory). */
int	state_touch(struct state *, struct state_entry *);
/*
 * Remember t as the datestamp of the first import (content that was there
 * before pubfeed first looked); written by the next state_commit().  Does
 * nothing when one is already known.
 */
void	state_set_first_import(struct state *, int64_t t);
/*
 * Since when what name (at most STATE_SINCE_NAME_MAX bytes) stands for has
 * had digest d: the time kept with name when d is its digest; else now,
 * kept for name with d from here on and written by the next
 * state_commit().  0 when that is not known: now 0 (only look) or a
 * read-only state (STATE_RDONLY), and another digest kept; a name too
 * long; no memory.
 */
#define STATE_SINCE_NAME_MAX	1024
int64_t	state_since(struct state *, const char *name,
	    const unsigned char d[HASH_LEN], int64_t now);
/* Replace an entry's sets with a copy of sets.  0 or -1. */
int	state_set_sets(struct state_entry *, const char *const *sets,
	    size_t nsets);

/*
 * The parse cache (parse-cache.db, see above; the store's, see store.h).
 * state_pcache_load() calls fn(arg, path, row) for every row whose
 * validator is the given one (rows of another validator are never
 * returned: they are stale and get replaced).  Primary: from the cache's
 * connection, opened by state_open(); STATE_RDONLY: from a connection of
 * its own, closed again (no file is an empty cache).  row->image is
 * SQLite's memory, valid during the call only: fn copies what it keeps.
 * 0, or -1 with e set when the cache could not be read (then every row
 * given so far is to be forgotten): a corrupt file was found (at the open
 * or now; the primary has replaced it by an empty one) or it cannot be
 * opened.  Never a reason not to start.
 * state_pcache_put() / state_pcache_del() queue an upsert / a deletion of
 * path's row for the next state_commit(), which writes them in a
 * transaction of the cache's once the records' is committed (put copies
 * row->image); the queue is emptied whether that one commits or not (a
 * cache: a failure to write it is not the commit's, and leaves it only less
 * complete; a corrupt file is replaced and said by state_pcache_warning()).
 * With STATE_RDONLY or without a database or a cache they do nothing:
 * read-only users use the cache, never write it.  0 or -1 (no memory; the
 * cache is then only less complete, never wrong).
 * state_pcache_warning(): -1 with e set to what went wrong with the cache
 * and was not told yet (told once), else 0.
 */
int	state_pcache_load(struct state *, const unsigned char *validator,
	    void (*fn)(void *arg, const char *path,
	    const struct state_pcache *), void *arg, struct err *e);
/*
 * state_open(st, dir, 0, e) with the rows of state_pcache_load(st,
 * validator, fn, arg, pe) loaded alongside: on a thread of their own, on
 * the cache's connection (which nothing else uses meanwhile), while the
 * caller's thread loads the records, and after this returns, until
 * state_pcache_wait().  fn runs on that thread, so it must touch nothing
 * the state or the caller's thread does until state_pcache_wait() has
 * returned.  Returns what state_open() does (on -1 the rows given are to
 * be forgotten too).  state_commit() and state_release() wait for the
 * rows first (state_release() forgets what they gave).
 */
int	state_open_pcache(struct state *, const char *dir,
	    const unsigned char *validator, void (*fn)(void *arg,
	    const char *path, const struct state_pcache *), void *arg,
	    struct err *e);
/*
 * The rows of state_open_pcache() are in: what state_pcache_load() would
 * have returned (0, or -1 with pe set: the rows given are to be
 * forgotten), *ms how long they took.  Everything else happens here, on
 * the caller's thread, as in state_pcache_load(): a corrupt file is moved
 * aside and created again, and pe told once.  0 and *ms 0 when nothing
 * was loading (a second call).
 */
int	state_pcache_wait(struct state *, int64_t *ms, struct err *pe);
int	state_pcache_put(struct state *, const char *path,
	    const struct state_pcache *);
int	state_pcache_del(struct state *, const char *path);
int	state_pcache_warning(struct state *, struct err *e);

/*
 * Open DIR/pubfeed.db on its own connection (the notifier's), with the
 * pragmas and the schema (created unless STATE_RDONLY).  Caller closes with
 * sqlite3_close().  0 or -1 with e set.
 */
int	state_db_open(const char *dir, int flags, sqlite3 **db, struct err *e);

/*
 * The resumption-token key: from the configuration when given, else the
 * hex key in DIR/token.key, created with fresh random bytes on first use.
 */
int	state_token_key(const char *configured, const char *dir,
	    unsigned char *key, size_t *keylen, struct err *e);

/*
 * state_migrate.c: import the text state of pubfeed < 0.2 (DIR/records.state,
 * DIR/outbox, DIR/notify.status) into db in one transaction, then rename
 * the files to *.bak.  A file that is empty, truncated (no final newline)
 * or has any bad line is refused with path:line messages and nothing is
 * imported.  0 (also when there is nothing to import) or -1 with e set.
 * With rename 0 the files stay (read-only users import into a memory db).
 */
int	state_migrate(sqlite3 *db, const char *dir, int rename_bak,
	    struct err *e);
/* One old file from memory (which: 'r'ecords, 'o'utbox, 's'tatus); fuzzed. */
int	state_migrate_mem(sqlite3 *db, int which, const char *buf, size_t len,
	    const char *path, struct err *e);
/* Create the schema in db (a new or a memory database).  0 or -1. */
int	state_schema(sqlite3 *db, struct err *e);

#endif
