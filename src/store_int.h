/*
 * store_int.h: what the files of the store module share, and nothing
 * outside it includes.  Calls go one way: store_snap.c (snapshots) uses
 * store_replica.c (a replica's snapshot), and both use store.c (files);
 * store.c calls neither.
 */
#ifndef PUBFEED_STORE_INT_H
#define PUBFEED_STORE_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"
#include "snap.h"
#include "state.h"
#include "store.h"
#include "strmap.h"

/* A file to (re)read: its new metadata, then what reading it gave. */
struct store_load {
	size_t		 fidx;		/* into files */
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 mtime_ns;
	int64_t		 ctime_ns;
	off_t		 size;
	int		 have_id;	/* looked at: the metadata above
					   is what gave rec */
	int		 is_skipped;	/* store_set_interrupt() */
	int		 is_parsed;	/* the bytes were read and parsed
					   (or their image decoded) */
	int		 is_cached;	/* ... without XSD validation: the
					   parse cache vouched for them */
	int		 is_image;	/* ... nor parsing: rec is the
					   row's image decoded */
	unsigned char	 hash[HASH_LEN];	/* SHA-256 of the bytes */
	struct record	*rec;
	/*
	 * What reading it reported, or NULL (nothing, or no memory to keep
	 * it: "cannot be read" then).  A pointer: a struct err is 544 bytes,
	 * 54 MB of a first scan's loads at 100k files for the few that fail.
	 */
	struct err	*fe;
};

/* A parse_cache row waiting for its file (the first scan only). */
struct store_pcrow {
	char			*path;
	struct state_pcache	 row;	/* image: into pcseg[seg], NULL
					   once its reader is done */
	size_t			 seg;
	int			 is_claimed;
};

/*
 * Images of parse_cache rows end to end, in a mapping of their own
 * (store_pcseg_bytes, or one image larger than that), unmapped by the
 * reader that decodes its last image: a warm start never holds a copy of
 * every image beside the records made of them (bench/README.md).
 */
struct store_pcseg {
	unsigned char		*base;	/* NULL once unmapped */
	size_t			 len, cap;
	size_t			 left;	/* atomic: images not yet read */
};

/* The size of an image segment; tests make it small. */
extern size_t	store_pcseg_bytes;

struct store_file {
	char		*path;
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 mtime_ns;
	int64_t		 ctime_ns;
	off_t		 size;
	struct record	*rec;		/* last good version, or NULL */
	/*
	 * Its parse_cache row as the database had it at start-up, during the
	 * first scan only (into struct store's pc, NULL after it); has_pc:
	 * the database has a row for it (as of the next commit), to delete
	 * when the file goes or turns invalid.
	 */
	struct store_pcrow *pc_row;
	int		 has_pc;
	int		 is_invalid;	/* the bytes on disk do not parse */
	int		 need_read;	/* the last read failed: read
					   again, whatever the metadata */
	int		 seen;
	/* incremental snapshots (store_snapshot_incr()) */
	size_t		 ent;		/* state index + 1 of the id rec
					   claimed in the last snapshot */
	int		 is_dirty;	/* rec replaced since then */
};

struct store {
	struct conf		*conf;
	struct record_schema	*schema;
	struct state		 state;
	unsigned char		 key[256];
	size_t			 keylen;
	struct store_file	*files;
	size_t			 nfiles, cap;
	struct strmap		 index;	/* path -> index into files */
	struct store_load	*loads;	/* files the walk found changed */
	char			*root_real;	/* realpath() of the
						   records directory */
	/* store_set_interrupt() */
	int			(*stop)(void *);
	void			*stop_arg;
	size_t			 nloads, loads_cap;
	/*
	 * The parse cache as the database held it, only until the first
	 * store_scan() has handed each row to its file; rows no file took
	 * are then deleted.  Counters for /metrics (store_parse_counts()).
	 */
	struct store_pcrow	*pc;
	size_t			 npc, pc_cap;
	/* their images, and the bytes of those still mapped (atomic) */
	struct store_pcseg	*pcseg;
	size_t			 npcseg, pcseg_cap;
	size_t			 pcseg_mapped;
	struct strmap		 pc_index;
	int			 pc_loaded;
	/*
	 * A primary's rows load on a thread from store_new() on, alongside
	 * the state and the listing's index (state_open_pcache()), until
	 * store_pc_settle(): what that gave (-1: pc_err says why), told at
	 * the first scan; how long the rows took either way.
	 */
	int			 pc_alongside;
	int			 pc_settled;	/* state_pcache_wait() was */
	int			 pc_rc;
	struct err		 pc_err;
	int64_t			 pc_ms;
	uint64_t		 nvalidated, ncache_hits;
	int			 flags;
	int			 state_failing;	/* the last commit failed */
	/* records this build gave their first datestamp (undone on failure) */
	struct record		**stamped;
	size_t			 nstamped, stamped_cap;
	/*
	 * Incremental snapshots: the last snapshot made, how many files claim
	 * each state entry's id (as of that snapshot, minus the claims
	 * retracted since), the entries whose claim went away since, and
	 * whether the next snapshot must be built from scratch.
	 */
	struct snap		*last;
	size_t			*claims;
	size_t			 claims_cap;
	size_t			*retract;
	size_t			 nretract, retract_cap;
	int			 need_full;
	/* the last store_scan(), milliseconds (store_scan_times()) */
	int64_t			 scan_rows_ms, scan_walk_ms, scan_read_ms;
};

/*
 * store.c: since when s's trees of sets and its feeds' current records
 * (snap.h tree_changed, window_changed) have been as they are, from the
 * state (state_since(), names "sets", "sets:SPEC", "window",
 * "window:SPEC"): a digest the state has not seen gets now, kept for the
 * next commit; now 0: only look (a replica).
 */
void	store_since(struct store *, struct snap *s, int64_t now);

/* store_replica.c: a replica's next snapshot (see STORE_REPLICA). */
struct snap	*store_replica_snapshot(struct store *,
		    struct store_changes *chg, struct err *e);

#endif
