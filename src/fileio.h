/*
 * fileio: the three file operations the modules that keep files share —
 * an atomic whole-file write, a capped whole-file read and mkdir -p.  No
 * state of its own, never logs; thread-safe (errno and the arguments only).
 *
 * An atomic write of DIR/NAME goes to the hidden "DIR/.NAME.tmp.PID", is
 * fsynced, renamed over DIR/NAME and the directory fsynced: a reader, or
 * the next start after a crash or a power loss at any point, sees either
 * the old file or the new one, never a mix.  A process killed before the
 * rename leaves its temporary file behind; state_open() removes those it
 * finds in the state directory.
 */
#ifndef PUBFEED_FILEIO_H
#define PUBFEED_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FILEIO_PATH_MAX	4096	/* longest path (temporary names: more) */

/* fileio_write() options. */
struct fileio_wopts {
	int	 mode;		/* of a new file, as for open(2) */
	int	 flags;		/* FILEIO_* */
	int64_t	 mtime;		/* FILEIO_MTIME: Unix seconds */
};
/* mode exactly, by fchmod(2): the umask does not apply */
#define FILEIO_EXACT_MODE	0x1
/* atime and mtime set to mtime (e.g. a document's Last-Modified) */
#define FILEIO_MTIME		0x2
/*
 * no fsync of the file or the directory: still atomic for readers, but
 * durable only once the caller syncs the filesystem (one syncfs(2) for
 * many files instead of an fsync per file)
 */
#define FILEIO_NOSYNC		0x4

/*
 * Replace path with len bytes of data atomically (see above); a new file
 * gets mode (as for open(2), less the umask).  0, or -1 with e set
 * ("DIR/.NAME.tmp.PID: reason" for the temporary file, e.g. ENOSPC or EACCES;
 * the temporary file is then removed and path is untouched).  -1 also when
 * only the final directory fsync failed: path is new then, but may not
 * survive a power loss.
 */
int	fileio_write_file(const char *path, const void *data, size_t len,
	    int mode, struct err *e);
/* The same with options (o->flags 0: exactly fileio_write_file()). */
int	fileio_write(const char *path, const void *data, size_t len,
	    const struct fileio_wopts *o, struct err *e);
/*
 * Read the whole of path into a NUL-terminated buffer the caller frees,
 * its length (without the NUL) in *len.  A file longer than cap bytes is
 * an error ("path: File too large"), as is one that cannot be opened or
 * read ("path: reason").  0, or -1 with e set and *out untouched.
 */
int	fileio_read_file(const char *path, size_t cap, char **out,
	    size_t *len, struct err *e);
/*
 * mkdir -p with mode 0755 for what it creates: every missing component of
 * path.  An existing directory is fine.  0, or -1 with e set naming the
 * component that failed ("a/b: reason").
 */
int	fileio_mkdirs(const char *path, struct err *e);

#endif
