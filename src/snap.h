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
 * successive snapshots, so a rebuild after one changed file costs little:
 * snap_next() derives the next snapshot from the previous one and the items
 * that changed (copies and merges, no sort).  The documents asked for
 * rarely (archive, landing and set pages, per-set and per-language feeds)
 * are rendered on their first request into slots of a process-wide cache
 * bounded by bytes (snap_slot_get()); the others are rendered when the
 * snapshot is built.
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

/*
 * A document rendered on its first request and kept in the process-wide
 * document cache (see snap_slot_get()): a slot is where it lives, shared by
 * successive snapshots (counted), empty until rendered and again once the
 * cache evicted its bytes; rendering it again gives the same bytes.
 */
struct snap_slot;

/*
 * The RFC 5005 archive pages of one feed, one slot per page and feed format
 * (kind; feed.h gives kinds their meaning).  A page whose inputs did not
 * change is carried over to the next snapshot as the same slot, rendered or
 * not.
 */
#define SNAP_PAGE_KINDS	5	/* Atom, RSS, HTML in each page language */
struct snap_pages {
	size_t			 npages;	/* archive pages 1..npages */
	struct snap_slot	**slots;	/* [kind * npages + page - 1] */
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
	struct snap_pages	 pages;		/* archives of the set's feed */
	/* the datestamp of the set's newest tombstone; 0: none */
	int64_t			 gone;
	/*
	 * The tree of its subsets its HTML page shows (spec, name and record
	 * count of each): has_tree when there is one (a subset with
	 * records), its digest, and since when (as snap.tree_changed).
	 */
	int			 has_tree;
	unsigned char		 tree_digest[HASH_LEN];
	int64_t			 tree_changed;
	/* its current documents' records (as snap.window_digest) */
	unsigned char		 window_digest[HASH_LEN];
	int64_t			 window_changed;
};

/*
 * A response body, with its gzip form and validators, immutable once made.
 * A document of the table (snap_doc_add()) lives as long as a snapshot
 * holds it; a cached one (is_cached: rendered into a slot) as long as its
 * slot keeps it or a caller of snap_doc_find() has not given it back.
 */
struct snap_doc {
	int			 refs;
	int			 is_cached;	/* find() took a reference */
	/*
	 * Who still needs the bytes (atomic): one while refs > 0, plus one
	 * per snap_doc_hold(); the bytes go with the last snap_doc_drop().
	 */
	int			 hold;
	char			*path;		/* URL path, "/feed.atom" */
	const char		*content_type;	/* static string */
	char			*body;		/* NUL-terminated */
	size_t			 len;
	void			*cache;		/* atomic; snap_doc_cache() */
	char			*gz;		/* gzip of body, or NULL */
	size_t			 gzlen;
	char			 etag[HASH_HEX_LEN / 2 + 3];	/* "\"...\"" */
	char			 etag_gz[HASH_HEX_LEN / 2 + 6];	/* "\"...-gz\"" */
	int64_t			 last_modified;
	unsigned char		 key[HASH_LEN];	/* what it was rendered from */
	struct snap_doc		*evicted;	/* snap_doc.c's list */
	/*
	 * A document of the table of SNAP_DOC_COLD_MIN bytes or more keeps
	 * only gz (body NULL): snap_doc_find() hands out a cached copy from
	 * slot cold with its bytes inflated, which holds gz_from (the table's
	 * document) and serves its gz.
	 */
	struct snap_slot	*cold;
	const struct snap_doc	*gz_from;
};
#define SNAP_DOC_COLD_MIN	((size_t)1024 * 1024)

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
	/* the datestamp of what the first scan found; 0 unknown (the store) */
	int64_t			 first_import;
	int64_t			 latest;	/* max datestamp */
	int64_t			 gone;		/* the newest tombstone's; 0 none */
	/*
	 * The tree of sets the home page shows (spec, name and record count
	 * of every set): its digest (snap_new(), snap_next()), and since
	 * when the collection has had it (set by the store, from the state;
	 * 0 unknown: the renderers then take latest).
	 */
	unsigned char		 tree_digest[HASH_LEN];
	int64_t			 tree_changed;
	/*
	 * Which records the collection's current documents show (the newest
	 * conf->feed_entries of feed, and how many archive pages they link
	 * to): the digest, and since when (as tree_changed).  A deletion, or
	 * a record whose date or sets were edited, changes what they show
	 * though nothing newer need appear in them.
	 */
	unsigned char		 window_digest[HASH_LEN];
	int64_t			 window_changed;

	struct record		**feed;		/* live, oldest first */
	size_t			 nfeed;		/* by (issued, id) */

	struct snap_set		*sets;		/* by spec */
	size_t			 nsets;

	struct snap_doc		**docs;		/* by path, rendered now */
	size_t			 ndocs;
	size_t			 docs_cap;
	/* by path: current documents rendered on request (snap_lazy_add()) */
	struct snap_slot	**lazy;
	size_t			 nlazy;
	size_t			 lazy_cap;
	int64_t			 feed_now;	/* the renderers' "now" */
	struct snap_pages	 pages;		/* archives of the main feed */
	/* per-record pages, rendered on request: [kind * nitems + by_id] */
	struct snap_pages	 records;
	/*
	 * Paths not in docs (lazy, archive and landing pages): the document
	 * with a reference (snap_doc_done()), rendered now if needed, or NULL.
	 * Set by the renderers (feed_build()).
	 */
	const struct snap_doc	*(*resolve)(const struct snap *,
				    const char *path);

	/*
	 * What the renderers worked out once for all of s's documents (the
	 * feed languages), so rendering one on request need not; freed with
	 * free() with s.
	 */
	void			*render_ctx;
	/* rs.c's pages of its lists (rs_build()), likewise freed with s */
	void			*rs_ctx;
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

/* One item that changed since the previous snapshot, as snap_next() takes. */
struct snap_upd {
	const char		*id;
	struct record		*rec;	/* the live record, or NULL */
	const struct snap_tomb	*tomb;	/* rec == NULL: tombstone, or NULL */
};

/*
 * The snapshot after prev once the items of u (ids unique) are replaced,
 * added or removed: the same result as snap_new() over the whole
 * collection, in time linear in prev with small constants (copies and
 * merges, no sort, no string work per unchanged item).  Same conf as prev;
 * references as for snap_new().  Returns NULL when the change cannot be
 * applied that way (it names a set prev does not have, it empties a set) or
 * memory ran out: the caller then builds with snap_new().  No documents.
 */
struct snap	*snap_next(const struct snap *prev, const struct snap_upd *u,
		    size_t n);

/*
 * Add a rendered document (takes a copy of body; compresses it once; derives
 * the ETag from the bytes; keeps only the gzip form from SNAP_DOC_COLD_MIN
 * bytes on).  key identifies the inputs, so snap_doc_reuse()
 * can carry an unchanged document over from the previous snapshot.  Only
 * before snap_publish().  Returns 0 or -1.
 */
int		 snap_doc_add(struct snap *, const char *path,
		    const char *content_type, const char *body, size_t len,
		    const unsigned char key[HASH_LEN], int64_t last_modified);
/* If prev has a document at path with the same key, share it: 1; else 0. */
int		 snap_doc_reuse(struct snap *, const struct snap *prev,
		    const char *path, const unsigned char key[HASH_LEN]);
/*
 * Slots.  snap_pages_init(): npages empty slots for every kind, or -1.
 * snap_slot_new(): an empty slot (NULL when out of memory).
 * snap_slot_share(): one more reference to sl, for the next snapshot.
 * snap_lazy_add(): a current document at path rendered on request, into
 * s's lazy table: prev's slot at path when its key is key, else a new
 * one.  0 or -1.  Only before snap_publish() of the snapshot they fill.
 */
int		 snap_pages_init(struct snap_pages *, size_t npages);
struct snap_slot *snap_slot_new(void);
/*
 * The slot at *p (an array entry of a published snapshot), made now when
 * empty: thread-safe, the first to install one wins.  NULL when out of
 * memory.  The snapshot releases it with the array.
 */
struct snap_slot *snap_slot_at(struct snap_slot **p);
struct snap_slot *snap_slot_share(struct snap_slot *sl);
int		 snap_lazy_add(struct snap *, const struct snap *prev,
		    const char *path, const unsigned char key[HASH_LEN]);
/* The lazy slot at path, or NULL. */
struct snap_slot *snap_lazy_find(const struct snap *, const char *path);
/* The path of lazy slot i of s (0 <= i < s->nlazy, sorted). */
const char	*snap_lazy_path(const struct snap *, size_t i);

/* What a snap_render_fn produced: body stays the renderer's. */
struct snap_render {
	const char		*path;
	const char		*content_type;	/* static string */
	const char		*body;
	size_t			 len;
	unsigned char		 key[HASH_LEN];
	int64_t			 last_modified;
	/* set: the same bytes as this one, whose gzip form is borrowed */
	const struct snap_doc	*gz_from;
};
typedef int	 snap_render_fn(void *arg, struct snap_render *out);
/*
 * The document of sl with a reference for the caller (snap_doc_done()):
 * the cached one, else render(arg, &r) makes it now (0, or -1: NULL is
 * returned) and it goes into the document cache.  Render-once: while one
 * thread renders a slot, others asking for it wait for that rendering.
 * Thread-safe.  The cache keeps the documents used last, evicting the
 * least recently used while the bytes it holds exceed the limit
 * (snap_doc_cache_limit()), so it holds at most the limit plus one
 * document; an evicted document's bytes outlive its references and holds.
 */
const struct snap_doc *snap_slot_get(struct snap_slot *sl,
		    snap_render_fn *render, void *arg);
/*
 * The key a lazy table slot was registered with (NULL for other slots):
 * rendering it on request must find the same inputs (tests check it).
 */
const unsigned char *snap_slot_key(const struct snap_slot *sl);
/* 1 when sl (may be NULL) holds its document now (tests, statistics). */
int		 snap_slot_is_ready(struct snap_slot *sl);
/*
 * Give back a document of snap_doc_find() / snap_slot_get() (NULL: no-op);
 * for a document of the table there is nothing to do.
 */
void		 snap_doc_done(const struct snap_doc *d);
/*
 * The cache's limit in bytes (default SNAP_DOC_CACHE_DEFAULT; a lower one
 * evicts at once); the bytes it holds now.
 */
#define SNAP_DOC_CACHE_DEFAULT	((size_t)64 * 1024 * 1024)
void		 snap_doc_cache_limit(size_t max);
size_t		 snap_doc_cache_bytes(void);

/*
 * The bytes of d outlive its last reference while held: snap_doc_hold()
 * returns d (for a response that sends body or gz without copying),
 * snap_doc_drop() lets go.  Thread-safe.
 */
const struct snap_doc *snap_doc_hold(const struct snap_doc *d);
void		 snap_doc_drop(const struct snap_doc *d);
/*
 * One opaque per-document slot for the HTTP layer (its prepared
 * responses), set at most once: snap_doc_cache_set() returns 1 when c was
 * installed, 0 when another thread's was first (the caller frees its c).
 * When the document's last reference goes, the function given to
 * snap_doc_cache_free_fn() (once, before serving) frees the slot's value.
 */
void		*snap_doc_cache(const struct snap_doc *d);
int		 snap_doc_cache_set(const struct snap_doc *d, void *c);
void		 snap_doc_cache_free_fn(void (*fn)(void *));
/* How many archive pages s has, all feeds and kinds (rendered or not). */
size_t		 snap_npages(const struct snap *s);
/* Sort the document table; called once all documents are in. */
void		 snap_seal(struct snap *);
/*
 * The document at path: from the table, else from s->resolve (which may
 * render it on this request); NULL if none.  The caller gives it back
 * with snap_doc_done() once done with it (a response that sends its bytes
 * holds them with snap_doc_hold()).  Safe from any thread on a published
 * snapshot.
 */
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
