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
 * web server never sees half a file; its mtime is the document's
 * Last-Modified.  One syncfs(2) at the end makes the lot durable.  Files of
 * documents that no longer exist are left alone.  Single-threaded; never
 * logs.
 */
#ifndef PUBFEED_EXPORT_H
#define PUBFEED_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "snap.h"

struct export_stats {
	size_t		 docs;		/* documents exported */
	size_t		 files;		/* files written, .gz included */
	uint64_t	 bytes;		/* bytes written */
};

/*
 * The file path, relative to the export directory, for a document's URL
 * path, appended to out.  -1 for a path that could escape the directory
 * (empty, ".", ".." components, or not starting with '/').
 */
int	export_path(const char *urlpath, struct buf *out);

/*
 * Write every document of s under dir (created if missing).  st (may be
 * NULL) receives the counts.  0, or -1 with e set at the first failure.
 */
int	export_snapshot(const struct snap *s, const char *dir,
	    struct export_stats *st, struct err *e);

#endif
