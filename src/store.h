/*
 * store: the records directory as pubfeed last saw it.
 *
 * The store walks the records tree, reads and parses only files whose size,
 * mtime or inode changed, and keeps the last good version of every file: a
 * file that turns invalid is reported and its previous record stays on line,
 * so nothing is ever lost to a half-written save.  It also owns the
 * persistent state (datestamps, tombstones) and turns the current files into
 * the next snapshot.  One thread (main / the watcher) drives a store; the
 * snapshots it produces are immutable and shared with the HTTP threads.
 *
 * Ignored: hidden files and directories, editor temporaries (".*.swp",
 * "*~", ".#*", "*.tmp") and anything not ending in ".xml".
 *
 * Only regular files are read, opened without blocking (a FIFO or device
 * is refused, never waited on).  A symbolic link to a file is followed
 * only when it resolves inside the records directory; one pointing out of
 * it, a loop or a dangling link is reported.  Symbolic links to
 * directories are not walked.  A failure to read (EACCES, EMFILE, EIO) or
 * to walk a directory is reported with the path and the reason and changes
 * nothing: what was there keeps its last good state (never a deletion),
 * and the next look (event, rescan, SIGHUP) tries again.  Paths in
 * messages have control bytes and invalid UTF-8 escaped (log_escape()).
 */
#ifndef PUBFEED_STORE_H
#define PUBFEED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "snap.h"

struct store;

/* What one snapshot changed compared with the previous one. */
struct store_changes {
	size_t	 added, changed, deleted;
	/* setSpecs (ancestors included) of every item that changed */
	char	**sets;
	size_t	 nsets, sets_cap;
	/* ids of the live records added or changed, dated now */
	char	**ids;
	size_t	 nids, ids_cap;
	int	 any;		/* 1 when the collection really changed */
	int	 is_first_import; /* the state was empty: all of it is new */
};

/*
 * A store over conf's records directory with its state loaded from conf's
 * state directory (created if missing; see state.h: a primary takes the
 * directory's lock and fails when another one holds it, or when the
 * database is corrupt).  Takes a reference to conf.
 * STORE_READONLY ("pubfeed check"): no state is read or written.
 * STORE_NOSAVE ("pubfeed export"): the state is read, datestamps for new
 * content are assigned in memory only, nothing is written (no token key
 * either).
 * STORE_EXPORT ("pubfeed export"): the state as serve uses it (a primary:
 * datestamps of new content are kept, so the next export gives the same
 * bytes), unless a primary is running on it: then as STORE_NOSAVE.
 * STORE_REPLICA ("pubfeed serve --replica"): the state directory belongs to
 * a primary instance (shared or synced); it is never written and is read
 * again before every snapshot.  Datestamps come only from it: a record the
 * primary has not stamped yet is held back, a record whose content differs
 * from what the primary stamped keeps the version this replica served last,
 * and tombstones are the primary's.  So every instance shows the same
 * (identifier, datestamp) pairs and harvesters can switch between them.
 */
#define STORE_READONLY	0x1
#define STORE_NOSAVE	0x2
#define STORE_REPLICA	0x4
#define STORE_EXPORT	0x8
struct store	*store_new(struct conf *, int flags, struct err *);
void		 store_free(struct store *);
/* Use a new configuration from now on (SIGHUP); takes a reference. */
void		 store_set_conf(struct store *, struct conf *);

/*
 * Walk the whole tree.  Every problem (unreadable or invalid file, duplicate
 * id) goes into e, one line each; the function still returns 0 then.
 * Returns -1 only when the records directory itself cannot be read.
 */
int		 store_scan(struct store *, struct err *e);

/*
 * The walk of store_scan() on its own: dir's record files with their
 * metadata, what could not be looked at and the messages, in walk order.
 * Needs no store, so it may run on another thread while store_new() loads
 * the state.  NULL: out of memory.
 */
struct store_list;
struct store_list *store_list_new(const char *dir);
/* How long store_list_new() took, in milliseconds. */
int64_t		 store_list_ms(const struct store_list *);
void		 store_list_free(struct store_list *);
/*
 * store_scan() with the tree as l listed it (store_list_new() of the
 * records directory, after the watch was set up): the same outcome, the
 * same messages.  l stays the caller's.
 */
int		 store_scan_listed(struct store *, struct store_list *l,
		    struct err *e);

/*
 * Look again at the given paths only (absolute or relative to the working
 * directory, as the watcher reports them; directories are walked).
 */
int		 store_update(struct store *, const char *const *paths,
		    size_t n, struct err *e);

/*
 * From now on the reading threads of store_scan() / store_update() call
 * stop(arg) before each file and read no more once it returns 1 (main: a
 * SIGTERM is pending), so a long batch cannot delay shutdown by more than
 * one file's parse, which the size cap and record.c's pre-scan bound.  A
 * file left unread keeps its last good version and is read at the next
 * look.  stop must be thread-safe.
 */
void		 store_set_interrupt(struct store *, int (*stop)(void *),
		    void *arg);

/* 1 when path is a file the store would read (name rules above). */
int		 store_wants(const char *path);

/*
 * Build the next snapshot from the current files: resolve duplicate ids,
 * assign datestamps (unchanged content keeps its datestamp), turn vanished
 * ids into tombstones, and commit the changed state rows in one
 * transaction before returning, so the caller publishes only what is
 * durable.  When the commit fails it is rolled back and NULL is returned
 * with e set: the caller keeps serving the previous snapshot, and the next
 * call (a retry) builds the same change again, stamped anew.  chg (may be NULL)
 * receives what changed compared with the state; release it with
 * store_changes_release().  The caller renders documents and publishes.
 * After the first, a snapshot is derived from the previous one
 * (snap_next()): only ids whose files changed since are stamped and looked
 * up.  Start-up, a new conf (store_set_conf()), a duplicate id among the
 * changes, or more than a few thousand changed ids take the full path,
 * which gives the same snapshot.  Changed files are read in parallel by
 * store_scan() / store_update() when there are many.
 */
struct snap	*store_snapshot(struct store *, struct store_changes *chg,
		    struct err *e);
void		 store_changes_release(struct store_changes *);

/*
 * 1 when the last store_snapshot() could not commit the state (a primary:
 * full or read-only disk; a replica: the primary's state unreadable).
 */
int		 store_state_failing(const struct store *);

/*
 * "pubfeed check": after store_scan(), report ids claimed by two files.
 * Returns the number of live records.
 */
size_t		 store_check_ids(struct store *, struct err *e);

/*
 * The parse cache: every record file that made a record is remembered in
 * the state's parse_cache table (state.h) with its identity (device,
 * inode), size, mtime, ctime, the SHA-256 of its bytes and the validator
 * (record_schema_validator(): pubfeed, libxml2 and schema).  At the first
 * scan after a start, a file skips XSD validation only when all of these
 * match what it and its bytes give now; every other check (parsing,
 * dates, URLs, sets) runs on every read.  So a content change is always
 * validated, whatever the timestamps say, and a new pubfeed, libxml2 or
 * schema validates everything once.  Later reads in the same process are
 * of files whose metadata changed (ctime included) and are validated.  Rows of files that are
 * gone are deleted.  A replica or "pubfeed export" on another's state
 * reads the rows and never writes them; "pubfeed check" does not use
 * them.  How many files were read since store_new(): validated against
 * the schema, and vouched for by the cache instead.
 */
void		 store_parse_counts(const struct store *, uint64_t *validated,
		    uint64_t *cache_hits);

/*
 * How long the last store_scan() took, in milliseconds, by phase: loading
 * the parse cache rows, walking the tree (listing it, lstat of every file,
 * then indexing what it found; for store_scan_listed() the indexing only),
 * reading the files that changed.  For the start-up report.
 */
/* 1 when the first scan's rows were loaded alongside the state (primary). */
int		 store_rows_alongside(const struct store *);
void		 store_scan_times(const struct store *, int64_t *rows,
		    int64_t *walk, int64_t *read);

/* Files currently invalid (left out or served from their last good version). */
size_t		 store_ninvalid(const struct store *);
/* The resumption-token key (configured or from the state directory). */
const unsigned char *store_token_key(const struct store *, size_t *len);

#endif
