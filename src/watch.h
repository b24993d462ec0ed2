/*
 * watch: inotify over the whole records tree, turned into batches of paths
 * for store_update().
 *
 * watch_new() puts a watch on the root and on every directory below it
 * (hidden ones excepted, as the store skips them too).  A directory that is
 * created or moved in gets its watches as soon as its event is read, and the
 * directory itself goes into the batch, so files written into it before the
 * watch existed are found when the store walks it; a directory that is
 * deleted or moved away loses its watches and its path goes into the batch,
 * so the store forgets every file below it.  Files: a close after writing,
 * a rename in or out, a deletion, a metadata change (touch) and a new hard
 * or symbolic link each report the file's path; a plain new file is reported
 * when its writer closes it, never half-written.  Names the filter rejects
 * (editor temporaries) are dropped here, so saving through a temporary file
 * and renaming it over the record reports only the record, once.
 *
 * When the kernel queue overflows, or a batch grows past WATCH_MAX_PATHS,
 * the batch asks for a full rescan instead, and watch_resync() re-adds any
 * directory watch that was missed meanwhile.
 *
 * The root itself moved away, deleted or unmounted (IN_MOVE_SELF,
 * IN_DELETE_SELF, IN_IGNORED): its watches go, the batch asks for a rescan
 * (the store keeps every record while the directory cannot be read), and a
 * watch on the root's parent notices the name coming back (created, or
 * moved in), watches the tree again and asks for another rescan.  When the
 * parent itself goes, watch_resync() (SIGHUP, the periodic rescan) sets
 * both up again.
 *
 * Single-threaded: the main loop owns a watch; nothing here blocks (the
 * inotify descriptor is non-blocking, the caller polls watch_fd()).
 */
#ifndef PUBFEED_WATCH_H
#define PUBFEED_WATCH_H

#include <stddef.h>

#include "err.h"

#define WATCH_MAX_PATHS	10000	/* past this, a rescan is cheaper */

struct watch;

/* Paths that changed since the batch was last cleared. */
struct watch_batch {
	char	**paths;	/* "ROOT/sub/name.xml", as the tree is walked */
	size_t	  npaths, cap;
	int	  rescan;	/* scan the whole tree instead */
	int	  lost;		/* why: the kernel queue overflowed */
	int	  root_moved;	/* why: the root went or came back */
};

/* 1 when a file name is of interest (e.g. store_wants()). */
typedef int	watch_filter(const char *path);

/*
 * Watch root and every directory below it; wants may be NULL (every file).
 * Returns NULL with e set when inotify or the root cannot be set up.
 */
struct watch	*watch_new(const char *root, watch_filter *wants,
		    struct err *e);
void		 watch_free(struct watch *);

/* The descriptor to poll for POLLIN. */
int		 watch_fd(const struct watch *);
/* The root given to watch_new(). */
const char	*watch_root(const struct watch *);
/* Directories currently watched. */
size_t		 watch_ndirs(const struct watch *);

/*
 * Read every pending event without blocking and add what changed to b
 * (paths are appended; duplicates are removed by watch_batch_take()).
 * Returns 0, or -1 with e set when reading the descriptor failed.
 */
int		 watch_read(struct watch *, struct watch_batch *b,
		    struct err *e);

/*
 * Walk the tree again and watch every directory that lacks a watch (after an
 * overflow, or when the root was recreated), the root's parent too.  Returns
 * the number of watches added, or -1 with e set when the root cannot be
 * watched.
 */
int		 watch_resync(struct watch *, struct err *e);
/* 1 while the root is not watched (moved away or deleted, not back yet). */
int		 watch_root_lost(const struct watch *);

/* 1 when b holds anything to act on. */
int		 watch_batch_pending(const struct watch_batch *b);
/* Sort the paths and drop repeats, ready for store_update(). */
void		 watch_batch_take(struct watch_batch *b);
/* Empty b for the next burst (keeps its array). */
void		 watch_batch_clear(struct watch_batch *b);
void		 watch_batch_release(struct watch_batch *b);

#endif
