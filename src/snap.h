/*
 * snap: an immutable, reference-counted snapshot of the whole collection,
 * with the indexes the renderers need and the pre-rendered documents HTTP
 * serves.
 *
 * A snapshot is built off the serving path (snap_new(), then the renderers
 * add documents with snap_doc_add()), then published with snap_publish().
 * From then on nothing in it changes: HTTP threads read it without locks.
 * The only shared mutable thing in the daemon is the pointer to the current
 * snapshot; snap_current() hands out a counted reference (a tiny mutex
 * guards only the pointer load + increment), and the snapshot is freed by
 * whoever drops the last reference, so requests in flight finish on the
 * snapshot they started with.
 *
 * Records and documents are themselves reference-counted and shared between
 * successive snapshots, so a rebuild after one changed file costs little.
 */
#ifndef PUBFEED_SNAP_H
#define PUBFEED_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "hash.h"
#include "record.h"

/* One OAI-PMH item: a live record or a tombstone. */
struct snap_item {
	const char		*id;		/* local id */
	int64_t			 datestamp;	/* last change, or deletion */
	struct record		*rec;		/* NULL when deleted */
	const char *const	*sets;		/* every setSpec of the item */
	size_t			 nsets;
};

struct snap_set {
	const char		*spec;
	const char		*name;		/* configured name, else spec */
	const char		*description;	/* may be NULL */
	int			 is_configured;
	/* indexes into snap->items, the set and its descendants, in order */
	size_t			*items;
	size_t			 nitems;
	/* live records of the set and its descendants, oldest first */
	struct record		**feed;
	size_t			 nfeed;
};

/* A pre-rendered response body, with its gzip form and validators. */
struct snap_doc {
	int			 refs;
	char			*path;		/* URL path, "/feed.atom" */
	const char		*content_type;	/* static string */
	char			*body;
	size_t			 len;
	char			*gz;		/* gzip of body, or NULL */
	size_t			 gzlen;
	char			 etag[HASH_HEX_LEN / 2 + 3];	/* "\"...\"" */
	char			 etag_gz[HASH_HEX_LEN / 2 + 6];	/* "\"...-gz\"" */
	int64_t			 last_modified;
	unsigned char		 key[HASH_LEN];	/* what it was rendered from */
};

/* A tombstone as the store hands it over. */
struct snap_tomb {
	const char		*id;
	int64_t			 datestamp;
	const char *const	*sets;
	size_t			 nsets;
};

struct snap {
	int			 refs;
	uint64_t		 generation;
	int64_t			 created;	/* wall clock, seconds */
	struct conf		*conf;		/* counted reference */

	struct snap_item	*items;		/* by (datestamp, id) */
	size_t			 nitems;
	size_t			 nlive;
	struct snap_item	**by_id;	/* by id, for lookups */
	int64_t			 earliest;	/* min datestamp, deleted too */
	int64_t			 latest;	/* max datestamp */

	struct record		**feed;		/* live, oldest first */
	size_t			 nfeed;		/* by (issued, id) */

	struct snap_set		*sets;		/* by spec */
	size_t			 nsets;

	struct snap_doc		**docs;		/* by path */
	size_t			 ndocs;
	size_t			 docs_cap;

	size_t			 ninvalid;	/* files left out as invalid */
	void			*zs;	/* deflate stream while building */
};

/*
 * Build a snapshot from live records and tombstones.  Takes a reference to
 * conf and to every record; the arrays themselves stay the caller's.  Ids
 * must be unique across recs and tombs (the store guarantees it).  Sets are
 * the union of the configured ones, the records' and the tombstones'
 * memberships, and every ancestor of those ("a:b" implies "a").
 */
struct snap	*snap_new(struct conf *, struct record *const *recs,
		    size_t nrecs, const struct snap_tomb *tombs, size_t ntombs,
		    struct err *);

/*
 * Add a rendered document (takes a copy of body; compresses it once; derives
 * the ETag from the bytes).  key identifies the inputs, so snap_doc_reuse()
 * can carry an unchanged document over from the previous snapshot.  Only
 * before snap_publish().  Returns 0 or -1.
 */
int		 snap_doc_add(struct snap *, const char *path,
		    const char *content_type, const char *body, size_t len,
		    const unsigned char key[HASH_LEN], int64_t last_modified);
/* If prev has a document at path with the same key, share it: 1; else 0. */
int		 snap_doc_reuse(struct snap *, const struct snap *prev,
		    const char *path, const unsigned char key[HASH_LEN]);
/* Sort the document table; called once all documents are in. */
void		 snap_seal(struct snap *);
const struct snap_doc *snap_doc_find(const struct snap *, const char *path);

const struct snap_item *snap_item_find(const struct snap *, const char *id);
const struct snap_set *snap_set_find(const struct snap *, const char *spec);
/* 1 when spec is set or one of its descendants ("a" covers "a:b"). */
int		 snap_spec_covers(const char *set, const char *spec);

/* Counted references; snap_release() frees on the last one. */
struct snap	*snap_ref(struct snap *);
void		 snap_release(struct snap *);

/*
 * The current snapshot, with a reference the caller drops with
 * snap_release(); NULL before the first snap_publish().
 */
struct snap	*snap_current(void);
/* Make s current (takes the caller's reference) and drop the old one. */
void		 snap_publish(struct snap *s);

#endif
