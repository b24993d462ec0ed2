/*
 * snap_doc.c: a snapshot's documents: the table of rendered responses with
 * their gzip forms and validators, and the render-once archive pages.
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

/* The bytes of a document not published (or given up on). */
static void
doc_bytes_free(struct snap_doc *d)
{
	free(d->body);
	free(d->gz);
	free(d->path);
	d->body = d->gz = d->path = NULL;
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
doc_new(int is_ready)
{
	struct snap_doc	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->refs = 1;
	d->hold = 1;
	d->is_ready = is_ready;
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
	snap_doc_drop(d);
}

static void
snap_pages_release(struct snap_pages *pg)
{
	size_t	 i;

	for (i = 0; pg->docs != NULL && i < pg->npages * SNAP_PAGE_KINDS; i++)
		snap_doc_unref(pg->docs[i]);
	free(pg->docs);
	pg->docs = NULL;
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
	 * The key cannot serve: it folds record addresses.  Hashing every
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

	if ((d = doc_new(1)) == NULL)
		return -1;
	if ((z = snap_gzip_stream(s)) == NULL ||
	    doc_set(d, z, path, content_type, body, len, key,
	    last_modified) == -1 || snap_doc_push(s, d) == -1) {
		snap_doc_unref(d);
		return -1;
	}
	return 0;
}

int
snap_pages_init(struct snap_pages *pg, size_t npages)
{
	pg->npages = 0;
	if ((pg->docs = calloc(npages * SNAP_PAGE_KINDS + 1,
	    sizeof(*pg->docs))) == NULL)
		return -1;
	pg->npages = npages;
	return 0;
}

struct snap_doc *
snap_doc_lazy(void)
{
	return doc_new(0);
}

struct snap_doc *
snap_doc_share(struct snap_doc *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

int
snap_doc_is_ready(const struct snap_doc *d)
{
	return __atomic_load_n(&d->is_ready, __ATOMIC_ACQUIRE);
}

/*
 * Two requests may render the same page at once; both render (outside any
 * lock: a page takes a fraction of a millisecond), the first to take the
 * lock publishes and the other throws its copy away.  One lock for all
 * documents is enough: it is held only for a few pointer stores, and only
 * on a page's first requests.
 */
static pthread_mutex_t	 fill_lock = PTHREAD_MUTEX_INITIALIZER;

int
snap_doc_fill(struct snap_doc *d, const char *path, const char *content_type,
    const char *body, size_t len, const unsigned char key[HASH_LEN],
    int64_t last_modified)
{
	struct snap_doc	 tmp;
	z_stream	 z;
	int		 rc;

	if (snap_doc_is_ready(d))
		return 0;
	memset(&tmp, 0, sizeof(tmp));
	if (gzip_init(&z) == -1)
		return -1;
	rc = doc_set(&tmp, &z, path, content_type, body, len, key,
	    last_modified);
	deflateEnd(&z);
	if (rc == 0) {
		pthread_mutex_lock(&fill_lock);
		if (!snap_doc_is_ready(d)) {
			d->path = tmp.path;
			d->content_type = tmp.content_type;
			d->body = tmp.body;
			d->len = tmp.len;
			d->gz = tmp.gz;
			d->gzlen = tmp.gzlen;
			memcpy(d->etag, tmp.etag, sizeof(d->etag));
			memcpy(d->etag_gz, tmp.etag_gz, sizeof(d->etag_gz));
			d->last_modified = tmp.last_modified;
			memcpy(d->key, tmp.key, HASH_LEN);
			__atomic_store_n(&d->is_ready, 1, __ATOMIC_RELEASE);
			tmp.path = tmp.body = tmp.gz = NULL;
		}
		pthread_mutex_unlock(&fill_lock);
	}
	doc_bytes_free(&tmp);
	return rc;
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

	if ((d = doc_table_find(s, path)) != NULL)
		return d;
	return s->resolve != NULL ? s->resolve(s, path) : NULL;
}

int
snap_doc_reuse(struct snap *s, const struct snap *prev, const char *path,
    const unsigned char key[HASH_LEN])
{
	const struct snap_doc	*old;
	struct snap_doc		*d;

	/* the table only: an archive page is not rendered to be compared */
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
}
