/*
 * state: what must survive a restart — every OAI identifier ever served with
 * the hash of its content, its datestamp and whether it is deleted (a
 * tombstone is kept forever), plus the resumption-token key.
 *
 * The table is a plain text file (one "id hash datestamp live|deleted sets"
 * line per identifier) written atomically: temp file, fsync, rename, fsync of
 * the directory, so a crash leaves the old or the new file, never a mix.
 * Owned by the store's thread; not thread-safe.
 */
#ifndef PUBFEED_STATE_H
#define PUBFEED_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"

struct state_entry {
	char		*id;
	unsigned char	 hash[HASH_LEN];
	int64_t		 datestamp;
	int		 is_deleted;
	char		**sets;		/* NULL-terminated */
	size_t		 nsets;
};

struct state {
	struct state_entry	*v;
	size_t			 n, cap;
	size_t			*slots;	/* open-addressing index into v, +1 */
	size_t			 nslots;
	int			 dirty;	/* changed since load/save */
};

void	state_init(struct state *);
void	state_release(struct state *);

/* Parse the text form; every bad line is reported as path:line: reason. */
int	state_parse_mem(struct state *, const char *buf, size_t len,
	    const char *path, struct err *e);
/* Load path; a missing file is an empty state.  0 or -1. */
int	state_load(struct state *, const char *path, struct err *e);
/* Write atomically to path.  0 or -1. */
int	state_save(struct state *, const char *path, struct err *e);

struct state_entry *state_find(struct state *, const char *id);
/* The entry for id, created (live, datestamp 0, no sets) if missing. */
struct state_entry *state_get(struct state *, const char *id);
/* Replace an entry's sets with a copy of sets.  0 or -1. */
int	state_set_sets(struct state_entry *, const char *const *sets,
	    size_t nsets);

/*
 * Write len bytes to path atomically (temp file in the same directory,
 * fsync, rename, fsync the directory).  mode as for open(2).
 */
int	state_write_file(const char *path, const void *data, size_t len,
	    int mode, struct err *e);
/* Read a whole file (cap bytes at most) into a NUL-terminated buffer. */
int	state_read_file(const char *path, size_t cap, char **out,
	    size_t *len, struct err *e);
/* mkdir -p. */
int	state_mkdirs(const char *path, struct err *e);

/*
 * The resumption-token key: from the configuration when given, else the
 * hex key in DIR/token.key, created with fresh random bytes on first use.
 */
int	state_token_key(const char *configured, const char *dir,
	    unsigned char *key, size_t *keylen, struct err *e);

#endif
