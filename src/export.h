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
 * Incremental: DIR/.pubfeed-export (EXPORT_MANIFEST) names every file the
 * last export wrote with its ETag, size and mtime, and for a document
 * rendered on request (feed_each_doc()) the key it was rendered from.  Such
 * a document whose key is the manifest's, and whose files still have their
 * size and mtime, is not rendered at all; one whose key changed always is.
 * A file whose representation has the same ETag and that still has that
 * size and mtime is left as it is; any other is rewritten; files the
 * manifest names whose documents are gone are removed (files export did
 * not write never are).  The manifest is replaced before the removals.
 * One syncfs(2) at the end makes the lot durable; a run that changed
 * nothing flushes nothing.
 * Single-threaded; never logs.
 */
#ifndef PUBFEED_EXPORT_H
#define PUBFEED_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "snap.h"

#define EXPORT_MANIFEST	".pubfeed-export"

struct export_stats {
	size_t		 docs;		/* documents exported */
	size_t		 files;		/* files written, .gz included */
	uint64_t	 bytes;		/* bytes written */
	size_t		 unchanged;	/* files left as they were */
	size_t		 removed;	/* files of documents now gone */
	size_t		 rendered;	/* documents rendered for the export */
	size_t		 reused;	/* not rendered: key and files kept */
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
 * first failure (files already replaced stay replaced, the old manifest
 * stays, so the next run finishes the job).
 */
int	export_snapshot(const struct snap *s, const char *dir,
	    struct export_stats *st, struct err *e);

#endif
