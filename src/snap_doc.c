/*
 * snap_doc.c: a snapshot's documents: the table of rendered responses with
 * their gzip forms and validators, and the slots of the documents rendered
 * on request, with the process-wide cache bounded by bytes that keeps them.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "snap.h"
#include "snap_int.h"
#include "vec.h"
#include "banned.h"

static void	(*cache_free)(void *);
static void	 snap_slot_unref(struct snap_slot *sl);

/* The bytes of a document not published (or given up on). */
static void
doc_bytes_free(struct snap_doc *d)
{
	free(d->body);
	if (d->gz_from != NULL)
		snap_doc_drop(d->gz_from);	/* its gzip was borrowed */
	else
		free(d->gz);
	free(d->path);
	d->body = d->gz = d->path = NULL;
	d->gz_from = NULL;
}

void
snap_doc_drop(const struct snap_doc *cd)
{
	struct snap_doc	*d = (struct snap_doc *)cd;

	if (__atomic_sub_fetch(&d->hold, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	doc_bytes_free(d);
	free(d);
}

const struct snap_doc *
snap_doc_hold(const struct snap_doc *cd)
{
	struct snap_doc	*d = (struct snap_doc *)cd;

	__atomic_add_fetch(&d->hold, 1, __ATOMIC_RELAXED);
	return d;
}

void *
snap_doc_cache(const struct snap_doc *d)
{
	return __atomic_load_n(&d->cache, __ATOMIC_ACQUIRE);
}

int
snap_doc_cache_set(const struct snap_doc *cd, void *c)
{
	struct snap_doc	*d = (struct snap_doc *)cd;
	void		*none = NULL;

	return __atomic_compare_exchange_n(&d->cache, &none, c, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

void
snap_doc_cache_free_fn(void (*fn)(void *))
{
	cache_free = fn;
}

static struct snap_doc *
doc_new(void)
{
	struct snap_doc	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->refs = 1;
	d->hold = 1;
	return d;
}

static void
snap_doc_unref(struct snap_doc *d)
{
	void	*c;

	if (d == NULL || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if ((c = snap_doc_cache(d)) != NULL && cache_free != NULL)
		cache_free(c);
	snap_slot_unref(d->cold);
	snap_doc_drop(d);
}

/*
 * The document cache.  One lock guards every slot's doc and is_rendering,
 * the LRU list (most recent first) and the byte count; it is taken on a
 * cached document's every request, for a few pointer stores, never while
 * rendering.  Documents of the table never enter it.
 */
struct snap_slot {
	int			 refs;		/* atomic */
	char			*path;		/* lazy table slots, else NULL */
	unsigned char		 key[HASH_LEN];	/* lazy table slots */
	struct snap_doc		*doc;		/* under cache_lock */
	int			 is_rendering;	/* under cache_lock */
	int			 is_listed;	/* on the LRU list */
	size_t			 bytes;		/* what doc counts */
	struct snap_slot	*lru_prev, *lru_next;
};

static pthread_mutex_t	 cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cache_cond = PTHREAD_COND_INITIALIZER;
static struct snap_slot	*lru_head, *lru_tail;
static size_t		 cache_held;
static size_t		 cache_max = SNAP_DOC_CACHE_DEFAULT;

static struct snap_doc	*lru_evict(const struct snap_slot *keep);
static void		 evicted_unref(struct snap_doc *d);

void
snap_doc_cache_limit(size_t max)
{
	struct snap_doc	*gone;

	pthread_mutex_lock(&cache_lock);
	cache_max = max;
	gone = lru_evict(NULL);
	pthread_mutex_unlock(&cache_lock);
	evicted_unref(gone);
}

size_t
snap_doc_cache_bytes(void)
{
	size_t	 n;

	pthread_mutex_lock(&cache_lock);
	n = cache_held;
	pthread_mutex_unlock(&cache_lock);
	return n;
}

/* Under cache_lock. */
static void
lru_unlink(struct snap_slot *sl)
{
	if (!sl->is_listed)
		return;
	if (sl->lru_prev != NULL)
		sl->lru_prev->lru_next = sl->lru_next;
	else
		lru_head = sl->lru_next;
	if (sl->lru_next != NULL)
		sl->lru_next->lru_prev = sl->lru_prev;
	else
		lru_tail = sl->lru_prev;
	sl->lru_prev = sl->lru_next = NULL;
	sl->is_listed = 0;
	cache_held -= sl->bytes;
}

/* Under cache_lock. */
static void
lru_push(struct snap_slot *sl)
{
	sl->lru_prev = NULL;
	sl->lru_next = lru_head;
	if (lru_head != NULL)
		lru_head->lru_prev = sl;
	else
		lru_tail = sl;
	lru_head = sl;
	sl->is_listed = 1;
	cache_held += sl->bytes;
}

/*
 * Under cache_lock: take the least recently used documents out of their
 * slots, all but keep, until the cache is within its limit.  Returns them
 * chained, for the caller to unref once the lock is dropped (the last
 * reference may destroy prepared responses).
 */
static struct snap_doc *
lru_evict(const struct snap_slot *keep)
{
	struct snap_doc		*out = NULL;
	struct snap_slot	*sl;

	while (cache_held > cache_max && (sl = lru_tail) != NULL &&
	    sl != keep) {
		lru_unlink(sl);
		sl->doc->evicted = out;
		out = sl->doc;
		sl->doc = NULL;
	}
	return out;
}

static void
evicted_unref(struct snap_doc *d)
{
	struct snap_doc	*next;

	for (; d != NULL; d = next) {
		next = d->evicted;
		d->evicted = NULL;
		snap_doc_unref(d);
	}
}

struct snap_slot *
snap_slot_new(void)
{
	struct snap_slot	*sl;

	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return NULL;
	sl->refs = 1;
	return sl;
}

struct snap_slot *
snap_slot_at(struct snap_slot **p)
{
	struct snap_slot	*sl, *none = NULL;

	if ((sl = __atomic_load_n(p, __ATOMIC_ACQUIRE)) != NULL)
		return sl;
	if ((sl = snap_slot_new()) == NULL)
		return NULL;
	if (!__atomic_compare_exchange_n(p, &none, sl, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE)) {
		free(sl);
		sl = none;	/* another thread's, first */
	}
	return sl;
}

struct snap_slot *
snap_slot_share(struct snap_slot *sl)
{
	__atomic_add_fetch(&sl->refs, 1, __ATOMIC_RELAXED);
	return sl;
}

static void
snap_slot_unref(struct snap_slot *sl)
{
	struct snap_doc	*d;

	if (sl == NULL || __atomic_sub_fetch(&sl->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	/* no one renders it: a renderer holds a snapshot that holds sl */
	pthread_mutex_lock(&cache_lock);
	lru_unlink(sl);
	d = sl->doc;
	sl->doc = NULL;
	pthread_mutex_unlock(&cache_lock);
	if (d != NULL)
		snap_doc_unref(d);
	free(sl->path);
	free(sl);
}

const unsigned char *
snap_slot_key(const struct snap_slot *sl)
{
	return sl->path != NULL ? sl->key : NULL;
}

int
snap_slot_is_ready(struct snap_slot *sl)
{
	int	 ready;

	if (sl == NULL)
		return 0;
	pthread_mutex_lock(&cache_lock);
	ready = sl->doc != NULL;
	pthread_mutex_unlock(&cache_lock);
	return ready;
}

void
snap_doc_done(const struct snap_doc *d)
{
	if (d != NULL && d->is_cached)
		snap_doc_unref((struct snap_doc *)d);
}

static void
snap_pages_release(struct snap_pages *pg)
{
	size_t	 i;

	for (i = 0; pg->slots != NULL && i < pg->npages * SNAP_PAGE_KINDS; i++)
		snap_slot_unref(pg->slots[i]);
	free(pg->slots);
	pg->slots = NULL;
	pg->npages = 0;
}

static int
snap_doc_push(struct snap *s, struct snap_doc *d)
{
	if (vec_grow((void **)&s->docs, &s->docs_cap, s->ndocs + 1,
	    sizeof(*s->docs)) == -1)
		return -1;
	s->docs[s->ndocs++] = d;
	return 0;
}

static int
gzip_init(z_stream *z)
{
	memset(z, 0, sizeof(*z));
	/* 16 + 15 window bits: a gzip wrapper, as Content-Encoding wants */
	return deflateInit2(z, 6, Z_DEFLATED, 16 + 15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

static int
gzip_run(z_stream *z, const char *in, size_t len, char **out, size_t *outlen)
{
	size_t	 cap = deflateBound(z, len) + 64;
	char	*p;
	int	 rc;

	if ((*out = malloc(cap)) == NULL)
		return -1;
	z->next_in = (unsigned char *)(uintptr_t)in;
	z->avail_in = (uInt)len;
	z->next_out = (unsigned char *)*out;
	z->avail_out = (uInt)cap;
	rc = deflate(z, Z_FINISH);
	*outlen = z->total_out;
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -1;
	}
	/*
	 * deflateBound() is the body's size and more, the output a tenth of
	 * it: keeping the bound held half of a snapshot's document memory.
	 */
	if ((p = malloc(*outlen > 0 ? *outlen : 1)) != NULL) {
		memcpy(p, *out, *outlen);
		free(*out);
		*out = p;
	}
	return 0;
}

/*
 * One deflate stream per build, reset between documents: initialising a
 * fresh stream per document cost more than compressing a 50-entry feed.
 */
static z_stream *
snap_gzip_stream(struct snap *s)
{
	z_stream	*z = s->zs;

	if (z == NULL) {
		if ((z = malloc(sizeof(*z))) == NULL)
			return NULL;
		if (gzip_init(z) == -1) {
			free(z);
			return NULL;
		}
		s->zs = z;
	} else if (deflateReset(z) != Z_OK)
		return NULL;
	return z;
}

static void
snap_gzip_end(struct snap *s)
{
	if (s->zs == NULL)
		return;
	deflateEnd(s->zs);
	free(s->zs);
	s->zs = NULL;
}

/* The body's own NUL-terminated copy. */
static int
doc_body(struct snap_doc *d, const char *body, size_t len)
{
	if ((d->body = malloc(len + 1)) == NULL)
		return -1;
	memcpy(d->body, body, len);
	d->body[len] = '\0';
	return 0;
}

/* Everything of a document but refs and is_ready, compressed with z. */
static int
doc_set(struct snap_doc *d, z_stream *z, const char *path,
    const char *content_type, const char *body, size_t len,
    const unsigned char key[HASH_LEN], int64_t last_modified)
{
	unsigned long	 adler;

	d->content_type = content_type;
	d->last_modified = last_modified;
	memcpy(d->key, key, HASH_LEN);
	d->len = len;
	if ((d->path = strdup(path)) == NULL || doc_body(d, body, len) == -1)
		return -1;
	if (gzip_run(z, body, len, &d->gz, &d->gzlen) == -1)
		return -1;
	/*
	 * Strong validators from the bytes alone, so the same bytes have the
	 * same tag in every process (a restart, "pubfeed export", a replica):
	 * the CRC-32 deflate computed anyway, an Adler-32 and the length.
	 * The key names the inputs, not the bytes.  Hashing every
	 * body with SHA-256 cost more than gzip; Adler-32 costs ~1/50 of it.
	 */
	adler = adler32_z(1, (const unsigned char *)body, len);
	snprintf(d->etag, sizeof(d->etag), "\"%08x%08lx%016llx\"",
	    (unsigned int)z->adler, adler, (unsigned long long)len);
	snprintf(d->etag_gz, sizeof(d->etag_gz), "\"%08x%08lx%016llx-gz\"",
	    (unsigned int)z->adler, adler, (unsigned long long)len);
	return 0;
}

int
snap_doc_add(struct snap *s, const char *path, const char *content_type,
    const char *body, size_t len, const unsigned char key[HASH_LEN],
    int64_t last_modified)
{
	struct snap_doc	*d;
	z_stream	*z;

	if ((d = doc_new()) == NULL)
		return -1;
	if ((z = snap_gzip_stream(s)) == NULL ||
	    doc_set(d, z, path, content_type, body, len, key,
	    last_modified) == -1 || snap_doc_push(s, d) == -1) {
		snap_doc_unref(d);
		return -1;
	}
	/*
	 * A large document (the ResourceSync lists, a calendar of every
	 * event) keeps only its gzip form, a tenth of it; its plain bytes are
	 * inflated into the document cache on request (snap_doc_find()).
	 */
	if (len >= SNAP_DOC_COLD_MIN && d->gz != NULL &&
	    (d->cold = snap_slot_new()) != NULL) {
		free(d->body);
		d->body = NULL;
	}
	return 0;
}

/* The plain bytes of a document kept as gzip only. */
struct cold_job {
	const struct snap_doc	*src;
	char			*buf;
};

static int
cold_render(void *arg, struct snap_render *r)
{
	struct cold_job		*j = arg;
	const struct snap_doc	*src = j->src;
	z_stream		 z;
	int			 rc;

	if ((j->buf = malloc(src->len + 1)) == NULL)
		return -1;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + 15) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)src->gz;
	z.avail_in = (uInt)src->gzlen;
	z.next_out = (unsigned char *)j->buf;
	z.avail_out = (uInt)src->len + 1;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out != src->len)
		return -1;
	r->path = src->path;
	r->content_type = src->content_type;
	r->body = j->buf;
	r->len = src->len;
	memcpy(r->key, src->key, HASH_LEN);
	r->last_modified = src->last_modified;
	r->gz_from = src;
	return 0;
}

int
snap_pages_init(struct snap_pages *pg, size_t npages)
{
	pg->npages = 0;
	if ((pg->slots = calloc(npages * SNAP_PAGE_KINDS + 1,
	    sizeof(*pg->slots))) == NULL)
		return -1;
	pg->npages = npages;
	return 0;
}

/* What a cached document counts against the limit. */
static size_t
doc_bytes(const struct snap_doc *d)
{
	return sizeof(*d) + d->len + 1 + (d->gz_from != NULL ? 0 : d->gzlen) +
	    strlen(d->path) + 1;
}

/*
 * A document with r's plain bytes (copied) and r->gz_from's gzip form and
 * validators (held, not copied: the same bytes).
 */
static int
doc_borrow(struct snap_doc *d, const struct snap_render *r)
{
	const struct snap_doc	*src = r->gz_from;

	d->content_type = src->content_type;
	d->last_modified = src->last_modified;
	memcpy(d->key, src->key, HASH_LEN);
	memcpy(d->etag, src->etag, sizeof(d->etag));
	memcpy(d->etag_gz, src->etag_gz, sizeof(d->etag_gz));
	d->len = r->len;
	if ((d->path = strdup(src->path)) == NULL ||
	    doc_body(d, r->body, r->len) == -1)
		return -1;
	d->gz_from = snap_doc_hold(src);
	d->gz = src->gz;
	d->gzlen = src->gzlen;
	return 0;
}

/*
 * Render outside the lock; a thread that finds the slot being rendered
 * waits for that rendering instead of making a copy of its own.  One
 * condition variable for all slots: a wake-up is spurious for the other
 * slots' waiters, which are few (first requests of one document at once).
 */
const struct snap_doc *
snap_slot_get(struct snap_slot *sl, snap_render_fn *render, void *arg)
{
	struct snap_render	 r;
	struct snap_doc		*d = NULL, *gone = NULL;
	z_stream		 z;
	int			 rc;

	pthread_mutex_lock(&cache_lock);
	while (sl->doc == NULL && sl->is_rendering)
		pthread_cond_wait(&cache_cond, &cache_lock);
	if ((d = sl->doc) != NULL) {
		__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
		if (sl != lru_head) {
			lru_unlink(sl);
			lru_push(sl);
		}
		pthread_mutex_unlock(&cache_lock);
		return d;
	}
	sl->is_rendering = 1;
	pthread_mutex_unlock(&cache_lock);

	memset(&r, 0, sizeof(r));
	if (render(arg, &r) == 0 && (d = doc_new()) != NULL &&
	    r.gz_from != NULL) {
		if (doc_borrow(d, &r) == -1) {
			snap_doc_unref(d);
			d = NULL;
		}
	} else if (d != NULL) {
		if (gzip_init(&z) == -1) {
			snap_doc_unref(d);
			d = NULL;
		} else {
			rc = doc_set(d, &z, r.path, r.content_type, r.body,
			    r.len, r.key, r.last_modified);
			deflateEnd(&z);
			if (rc == -1) {
				snap_doc_unref(d);
				d = NULL;
			}
		}
	}

	pthread_mutex_lock(&cache_lock);
	sl->is_rendering = 0;
	if (d != NULL) {
		d->is_cached = 1;
		d->refs = 2;		/* the slot's and the caller's */
		sl->doc = d;
		sl->bytes = doc_bytes(d);
		lru_push(sl);
		gone = lru_evict(sl);
	}
	pthread_cond_broadcast(&cache_cond);
	pthread_mutex_unlock(&cache_lock);
	evicted_unref(gone);
	return d;
}

static int
slot_path_cmp(const void *a, const void *b)
{
	const struct snap_slot	*const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

static int
slot_key_cmp(const void *key, const void *elt)
{
	const struct snap_slot	*const *sl = elt;

	return strcmp(key, (*sl)->path);
}

struct snap_slot *
snap_lazy_find(const struct snap *s, const char *path)
{
	struct snap_slot	**sl;

	if (s->nlazy == 0)
		return NULL;
	sl = bsearch(path, s->lazy, s->nlazy, sizeof(*s->lazy),
	    slot_key_cmp);
	return sl ? *sl : NULL;
}

const char *
snap_lazy_path(const struct snap *s, size_t i)
{
	return s->lazy[i]->path;
}

int
snap_lazy_add(struct snap *s, const struct snap *prev, const char *path,
    const unsigned char key[HASH_LEN])
{
	struct snap_slot	*sl;

	if (vec_grow((void **)&s->lazy, &s->lazy_cap, s->nlazy + 1,
	    sizeof(*s->lazy)) == -1)
		return -1;
	if (prev != NULL && (sl = snap_lazy_find(prev, path)) != NULL &&
	    memcmp(sl->key, key, HASH_LEN) == 0)
		sl = snap_slot_share(sl);
	else {
		if ((sl = snap_slot_new()) == NULL)
			return -1;
		if ((sl->path = strdup(path)) == NULL) {
			free(sl);
			return -1;
		}
		memcpy(sl->key, key, HASH_LEN);
	}
	s->lazy[s->nlazy++] = sl;
	return 0;
}

static int
doc_path_cmp(const void *a, const void *b)
{
	const struct snap_doc	*const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

static int
doc_key_cmp(const void *key, const void *elt)
{
	const struct snap_doc	*const *d = elt;

	return strcmp(key, (*d)->path);
}

static struct snap_doc *
doc_table_find(const struct snap *s, const char *path)
{
	struct snap_doc	**d;

	if (s->ndocs == 0)
		return NULL;
	d = bsearch(path, s->docs, s->ndocs, sizeof(*s->docs), doc_key_cmp);
	return d ? *d : NULL;
}

const struct snap_doc *
snap_doc_find(const struct snap *s, const char *path)
{
	const struct snap_doc	*d;
	struct cold_job		 j;

	if ((d = doc_table_find(s, path)) != NULL && d->cold == NULL)
		return d;
	if (d != NULL) {
		j.src = d;
		j.buf = NULL;
		d = snap_slot_get(d->cold, cold_render, &j);
		free(j.buf);
		return d;
	}
	return s->resolve != NULL ? s->resolve(s, path) : NULL;
}

int
snap_doc_reuse(struct snap *s, const struct snap *prev, const char *path,
    const unsigned char key[HASH_LEN])
{
	const struct snap_doc	*old;
	struct snap_doc		*d;

	/* the table only: a lazy document is not rendered to be compared */
	if (prev == NULL || (old = doc_table_find(prev, path)) == NULL ||
	    memcmp(old->key, key, HASH_LEN) != 0)
		return 0;
	d = (struct snap_doc *)old;
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	if (snap_doc_push(s, d) == -1) {
		snap_doc_unref(d);
		return 0;
	}
	return 1;
}

size_t
snap_npages(const struct snap *s)
{
	size_t	 i, n = s->pages.npages;

	for (i = 0; i < s->nsets; i++)
		n += s->sets[i].pages.npages;
	return n * SNAP_PAGE_KINDS;
}

void
snap_seal(struct snap *s)
{
	snap_gzip_end(s);
	if (s->ndocs > 1)
		qsort(s->docs, s->ndocs, sizeof(*s->docs), doc_path_cmp);
	if (s->nlazy > 1)
		qsort(s->lazy, s->nlazy, sizeof(*s->lazy), slot_path_cmp);
}

void
snap_docs_release(struct snap *s)
{
	size_t	 i;

	for (i = 0; i < s->nsets; i++)
		snap_pages_release(&s->sets[i].pages);
	snap_pages_release(&s->pages);
	snap_pages_release(&s->records);	/* landing pages */
	snap_gzip_end(s);
	for (i = 0; i < s->ndocs; i++)
		snap_doc_unref(s->docs[i]);
	free(s->docs);
	for (i = 0; i < s->nlazy; i++)
		snap_slot_unref(s->lazy[i]);
	free(s->lazy);
}
