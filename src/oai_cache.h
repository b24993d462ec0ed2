/*
 * oai_cache: OAI-PMH responses built once per (snapshot, request) and kept,
 * with their gzip and deflate forms and strong ETags, in memory bounded by
 * bytes and evicted least recently used first.
 *
 * A page is keyed by what makes its bytes: the snapshot generation (unique
 * per snapshot in the process), the oai configuration key (struct
 * oai_conf), the resumption-token MAC key, and the decoded arguments in
 * the order given (the <request> element echoes them so), with the flags
 * of bad encoding.  Arguments that decode alike share a page; anything
 * else never does.  The first lookup on a newer generation drops every
 * page of older ones, and a request still running on an older snapshot
 * gets a page of its own that is not kept, so a changed record is never
 * served from the cache.
 *
 * responseDate is the time a page was built: a page is kept for at most
 * OAI_CACHE_TTL seconds and then built anew, so the date is never more
 * than that behind the clock (a harvester that takes it as its next
 * "from" overlaps, it never misses anything).
 *
 * Pages are immutable once returned, apart from the compressed forms, which
 * are added at most once each (under the cache's lock, before any reader
 * sees them through oai_cache_get()).  Thread-safe: one mutex guards the
 * table and the list, held only for lookups and pointer updates; pages are
 * built outside it.  The HTTP layer hangs its prepared responses on a page
 * (oai_page_prep()); the bytes outlive the page while held (the responses
 * being sent), like snap_doc_hold().
 */
#ifndef PUBFEED_OAI_CACHE_H
#define PUBFEED_OAI_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "oai.h"
#include "snap.h"

#define OAI_CACHE_TTL	60	/* seconds a page (its responseDate) lasts */

enum oai_enc {
	OAI_ENC_IDENTITY,
	OAI_ENC_GZIP,
	OAI_ENC_DEFLATE,	/* HTTP "deflate": the zlib format */
	OAI_ENC_N
};

/* One form of a page's body; data is NULL until made. */
struct oai_body {
	const char	*data;
	size_t		 len;
	char		 etag[48];	/* "\"crc adler len[-gz|-df]\"" */
};

struct oai_page {
	int		 refs;		/* atomic: the cache's, and lookups' */
	int		 hold;		/* atomic: who needs the bytes */
	int		 in_cache;	/* under the cache's lock */
	uint64_t	 gen;
	unsigned char	 key[HASH_LEN];
	int64_t		 now;		/* its responseDate */
	const char	*verb;		/* for metrics; "" for badVerb */
	struct oai_body	 body[OAI_ENC_N];
	size_t		 bytes;		/* what it counts against the cap */
	int		 zipped;	/* compressed forms tried (lock) */
	void		*prep[OAI_ENC_N];	/* atomic; oai_page_prep() */
	void		(*prep_free)(void *);
	struct oai_page	*next;		/* hash chain */
	struct oai_page	*lru_prev, *lru_next;
};

struct oai_cache;

/*
 * An empty cache.  prep_free (may be NULL) frees what oai_page_prep_set()
 * installed, when the page's last reference goes.  NULL when out of memory.
 */
struct oai_cache *oai_cache_new(void (*prep_free)(void *));
/* Free the cache and drop its pages (held bytes stay until dropped). */
void		 oai_cache_free(struct oai_cache *);

/*
 * The response to query (len bytes, raw as oai_respond() takes it) over s,
 * with form enc made when it can be (body[enc].data NULL when compressing
 * failed: send identity then).  From the cache when a page for the same key
 * is younger than OAI_CACHE_TTL at ctx->now, else built with oai_respond()
 * and kept, unless cap is 0, the page
 * alone passes cap, or s is older than the newest generation seen.  Pages
 * are evicted until the cache holds at most cap bytes.  Returns a page the
 * caller releases with oai_page_unref(), or NULL on an internal failure (e
 * set, as oai_respond()).
 */
struct oai_page	*oai_cache_get(struct oai_cache *, const struct snap *s,
		    const struct oai_ctx *ctx, const char *query, size_t len,
		    enum oai_enc enc, size_t cap, struct err *e);
void		 oai_page_unref(struct oai_page *);

/* Bytes and pages kept now (for tests and metrics). */
size_t		 oai_cache_bytes(struct oai_cache *);
size_t		 oai_cache_count(struct oai_cache *);

/*
 * The bytes of p outlive its last reference while held: oai_page_hold()
 * returns p, for a response that sends a body without copying;
 * oai_page_drop() lets go.  Thread-safe.
 */
struct oai_page	*oai_page_hold(struct oai_page *p);
void		 oai_page_drop(struct oai_page *p);

/*
 * One opaque slot per form for the HTTP layer, set at most once:
 * oai_page_prep_set() returns 1 when v was installed, 0 when another
 * thread's was first (the caller frees its v).
 */
void		*oai_page_prep(const struct oai_page *p, enum oai_enc enc);
int		 oai_page_prep_set(struct oai_page *p, enum oai_enc enc,
		    void *v);

#endif
