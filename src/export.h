/*
 * export: write every pre-rendered document of a snapshot as static files,
 * so any web server or CDN can serve the feeds without the daemon.
 *
 * A document at URL path P goes to DIR/P, with "/" (or any path ending in
 * '/') mapped to ".../index.html": "/" -> index.html, "/feed.atom" ->
 * feed.atom, "/sets/x:y.atom" -> sets/x:y.atom.  Next to each file whose
 * document has a gzip form, FILE.gz holds exactly the bytes "serve" sends
 * with Content-Encoding: gzip (for nginx's gzip_static).  Every file is
 * written to a temporary name in its directory and renamed into place, so a
 * web server never sees half a file or a missing one; its mtime is the
 * document's Last-Modified.
 *
 * Incremental: the SQLite database DIR/.pubfeed-export.db (EXPORT_DB; a
 * dot file, which web servers commonly refuse to serve) has a row for every
 * document the previous runs wrote: its file, the ETag, size and mtime of
 * it and of its .gz, and for a document rendered on request
 * (feed_each_doc()) the key it was rendered from.  A document whose row
 * has its key (or, rendered with the snapshot, its ETags), and whose files
 * are still regular files of their size and mtime (one fstatat(2) each),
 * is left as it is and not rendered; any other is rendered and each of its
 * files rewritten unless its ETag, size and mtime are the row's; the files
 * of rows whose documents are gone are removed (files export did not write
 * never are).
 *
 * Crash safety: the manifest names every file export may have written.
 * Before any file is written, the documents to write get a pending row in
 * one transaction (a row without ETag: its files may hold anything); then
 * the files are written and removed, one syncfs(2) makes them durable, and
 * only then one transaction gives the rows what the files hold and drops
 * the rows of removed files.  A crash at any point leaves pending rows,
 * whose documents the next run writes again and whose files, if the
 * document is gone, it removes.  A run that changes nothing writes nothing,
 * not even the database, and flushes nothing.
 *
 * An old text manifest, DIR/.pubfeed-export (EXPORT_OLD_MANIFEST), is read
 * once: every file it names becomes a pending row and the file is removed,
 * so that run writes every document again (the same bytes) and removes the
 * old manifest's stale files.  A database that is not one, or not of this
 * format, is refused with its name: the files it names would never be
 * removed otherwise.
 * The documents to write are rendered and written by several threads
 * (export_snapshot_n()); the walk, the manifest and the removal of stale
 * files stay on the calling thread.  Never logs.
 */
#ifndef PUBFEED_EXPORT_H
#define PUBFEED_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "snap.h"

#define EXPORT_DB		".pubfeed-export.db"
#define EXPORT_OLD_MANIFEST	".pubfeed-export"

struct export_stats {
	size_t		 docs;		/* documents exported */
	size_t		 files;		/* files written, .gz included */
	uint64_t	 bytes;		/* bytes written */
	size_t		 unchanged;	/* files left as they were */
	size_t		 removed;	/* files of documents now gone */
	size_t		 rendered;	/* documents rendered for the export */
	size_t		 reused;	/* not rendered: key and files kept */
	int		 is_full;	/* every file's stat was checked */
};

/*
 * The file path, relative to the export directory, for a document's URL
 * path, appended to out.  -1 for a path that could escape the directory
 * (empty, ".", ".." components, or not starting with '/').
 */
int	export_path(const char *urlpath, struct buf *out);

/*
 * Bring dir (created if missing) to every document of s, as described
 * above.  st (may be NULL) receives the counts.  0, or -1 with e set at the
 * first failure (files already replaced stay replaced, their rows
 * pending, so the next run finishes the job).
 */
int	export_snapshot(const struct snap *s, const char *dir,
	    struct export_stats *st, struct err *e);
/*
 * The same with nwriters threads rendering and writing the documents
 * (pool_threads(nwriters): at most one per online core; 0, and
 * export_snapshot(): one per core).  Which documents
 * are written, their bytes and the rows are the same for any nwriters; on
 * a failure the error is that of the earliest document in the walk's order
 * that failed.
 */
int	export_snapshot_n(const struct snap *s, const char *dir,
	    int nwriters, struct export_stats *st, struct err *e);

/*
 * A directory kept between snapshots ("export --watch"): its database
 * open, its rows in memory, its directory descriptors, so an update after
 * a change neither re-reads the manifest nor stats the files this handle
 * wrote or checked itself.  Such a file changed or removed by hand under a
 * running handle is therefore not noticed until the next full update,
 * which stats every file as export_snapshot() does (and restores what was
 * changed): the first update is one, and the caller asks for one
 * ("export --watch" on SIGHUP).  A file whose row this handle did not
 * write or check, and every document whose key or ETags changed, is
 * checked on every update.  Another export's commit into the same
 * directory meanwhile (SQLite's data_version) makes the next update read
 * the rows again and check every file.  An update after one that succeeded
 * walks only what changed since (feed_each_doc() with that snapshot as
 * prev, which the handle keeps a reference to): the landing pages and link
 * sets of the records that are the same, and the archive pages that are
 * the same slot, are neither keyed nor looked up, their rows kept as they
 * are (and counted as reused, as a full walk would count them); a full
 * update, the first one and any after a failure walk everything.  One
 * caller at a time per handle (its writers are threads of its own, as for
 * export_snapshot()).
 */
struct export;

/*
 * A handle for dir, nothing opened yet, writing with nwriters threads as
 * export_snapshot_n() does; NULL when out of memory.
 */
struct export	*export_new(const char *dir, int nwriters);
/*
 * Bring the directory to every document of s as export_snapshot() does
 * (full: stat every file, as the first update always does).  0, or -1 with
 * e set; after a failure the next update starts afresh (database
 * reopened, rows reloaded, a full check).  A reference to s is kept
 * until the next update or export_free() (none after a failure).
 */
int	export_update(struct export *, const struct snap *s, int full,
	    struct export_stats *st, struct err *e);
/* Close the database and descriptors; NULL is a no-op. */
void	export_free(struct export *);

#endif
