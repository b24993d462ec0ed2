/*
 * The page cache of oai_cache.h: a hash table of pages (chained, doubled
 * as it fills) threaded on one LRU list, most recently used first.
 *
 * A miss builds outside the lock; two threads missing the same key both
 * build (a page takes well under a millisecond) and the first to insert
 * wins.  Compressed forms are made from the page's plain bytes, outside the
 * lock, on the first request that wants one (oai_zip.c: gzip and deflate
 * share one deflate stream), so a page only ever asked for plain is never
 * compressed and one asked for compressed is compressed once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "oai_cache.h"
#include "oai_int.h"
#include "banned.h"

/* The HTTP layer's prepared responses, per form, counted per page. */
#define OAI_CACHE_PREP_COST	1024
#define OAI_CACHE_BODY_MAX	(256UL * 1024 * 1024)	/* as http.c's cap */

struct oai_cache {
	pthread_mutex_t	 mu;
	struct oai_page	**tab;
	size_t		 ntab;		/* power of two, or 0 */
	size_t		 count;
	size_t		 bytes;
	uint64_t	 gen;		/* newest generation seen */
	struct oai_page	*head, *tail;	/* LRU, head most recent */
	void		(*prep_free)(void *);
};

struct oai_cache *
oai_cache_new(void (*prep_free)(void *))
{
	struct oai_cache	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->prep_free = prep_free;
	return c;
}

struct oai_page *
oai_page_hold(struct oai_page *p)
{
	__atomic_add_fetch(&p->hold, 1, __ATOMIC_RELAXED);
	return p;
}

void
oai_page_drop(struct oai_page *p)
{
	int	 i;

	if (p == NULL || __atomic_sub_fetch(&p->hold, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < OAI_ENC_N; i++)
		free((char *)(uintptr_t)p->body[i].data);
	free(p);
}

void
oai_page_unref(struct oai_page *p)
{
	int	 i;
	void	*v;

	if (p == NULL || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < OAI_ENC_N; i++)
		if ((v = oai_page_prep(p, i)) != NULL && p->prep_free != NULL)
			p->prep_free(v);
	oai_page_drop(p);
}

void *
oai_page_prep(const struct oai_page *p, enum oai_enc enc)
{
	return __atomic_load_n(&p->prep[enc], __ATOMIC_ACQUIRE);
}

int
oai_page_prep_set(struct oai_page *p, enum oai_enc enc, void *v)
{
	void	*none = NULL;

	return __atomic_compare_exchange_n(&p->prep[enc], &none, v, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* The key's first bytes index the table: SHA-256 bytes are uniform. */
static size_t
cache_slot(const struct oai_cache *c, const unsigned char *key)
{
	return (((size_t)key[1] << 8) | key[0]) & (c->ntab - 1);
}

/* Unlink p from the table and the list; the caller drops the reference. */
static void
cache_unlink(struct oai_cache *c, struct oai_page *p)
{
	struct oai_page	**pp;

	for (pp = &c->tab[cache_slot(c, p->key)]; *pp != p;
	    pp = &(*pp)->next)
		;
	*pp = p->next;
	if (p->lru_prev != NULL)
		p->lru_prev->lru_next = p->lru_next;
	else
		c->head = p->lru_next;
	if (p->lru_next != NULL)
		p->lru_next->lru_prev = p->lru_prev;
	else
		c->tail = p->lru_prev;
	p->next = p->lru_prev = p->lru_next = NULL;
	p->in_cache = 0;
	c->count--;
	c->bytes -= p->bytes;
}

static void
cache_front(struct oai_cache *c, struct oai_page *p)
{
	if (c->head == p)
		return;
	p->lru_prev->lru_next = p->lru_next;	/* p is not the head */
	if (p->lru_next != NULL)
		p->lru_next->lru_prev = p->lru_prev;
	else
		c->tail = p->lru_prev;
	p->lru_prev = NULL;
	p->lru_next = c->head;
	c->head->lru_prev = p;
	c->head = p;
}

/*
 * Move p (unlinked, or not yet in) to the list *gone that the caller
 * unreferences once the lock is released: freeing runs the HTTP layer's
 * callback, which must not run under the lock.
 */
static void
cache_evict(struct oai_cache *c, struct oai_page *p, struct oai_page **gone)
{
	cache_unlink(c, p);
	p->lru_next = *gone;
	*gone = p;
}

static void
cache_release_gone(struct oai_page *gone)
{
	struct oai_page	*p;

	while ((p = gone) != NULL) {
		gone = p->lru_next;
		oai_page_unref(p);
	}
}

static int
cache_grow(struct oai_cache *c)
{
	struct oai_page	**tab, *p, *next;
	size_t		 n = c->ntab ? c->ntab * 2 : 64, i, h;

	if (c->count < c->ntab)
		return 0;
	if (n > SIZE_MAX / sizeof(*tab) || (tab = calloc(n,
	    sizeof(*tab))) == NULL)
		return c->ntab > 0 ? 0 : -1;	/* longer chains will do */
	for (i = 0; i < c->ntab; i++)
		for (p = c->tab[i]; p != NULL; p = next) {
			next = p->next;
			h = (((size_t)p->key[1] << 8) | p->key[0]) & (n - 1);
			p->next = tab[h];
			tab[h] = p;
		}
	free(c->tab);
	c->tab = tab;
	c->ntab = n;
	return 0;
}

static struct oai_page *
cache_find(struct oai_cache *c, const unsigned char key[HASH_LEN])
{
	struct oai_page	*p;

	if (c->ntab == 0)
		return NULL;
	for (p = c->tab[cache_slot(c, key)]; p != NULL; p = p->next)
		if (memcmp(p->key, key, HASH_LEN) == 0)
			return p;
	return NULL;
}

/* Evict least recently used pages until the cache fits cap. */
static void
cache_trim(struct oai_cache *c, size_t cap, struct oai_page **gone)
{
	while (c->bytes > cap && c->tail != NULL)
		cache_evict(c, c->tail, gone);
}

/* A new generation: every page of older ones is obsolete. */
static void
cache_newer(struct oai_cache *c, uint64_t gen, struct oai_page **gone)
{
	struct oai_page	*p, *prev;

	c->gen = gen;
	for (p = c->tail; p != NULL; p = prev) {
		prev = p->lru_prev;
		if (p->gen != gen)
			cache_evict(c, p, gone);
	}
}

size_t
oai_cache_bytes(struct oai_cache *c)
{
	size_t	 n;

	pthread_mutex_lock(&c->mu);
	n = c->bytes;
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t
oai_cache_count(struct oai_cache *c)
{
	size_t	 n;

	pthread_mutex_lock(&c->mu);
	n = c->count;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
oai_cache_free(struct oai_cache *c)
{
	struct oai_page	*gone = NULL;

	if (c == NULL)
		return;
	while (c->tail != NULL)
		cache_evict(c, c->tail, &gone);
	cache_release_gone(gone);
	free(c->tab);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/*
 * The key of a request: everything the response's bytes depend on but the
 * snapshot's contents (its generation stands for them) and the clock.
 */
static int
cache_key(const struct snap *s, const struct oai_ctx *ctx, const char *query,
    size_t len, unsigned char key[HASH_LEN])
{
	struct oai_args	 args;
	struct oai_conf	 oc;
	struct hash_ctx	 h;
	size_t		 i;

	if (oai_args_parse(query, len, &args) == -1)
		return -1;
	oai_conf_init(&oc, s->conf);
	hash_init(&h);
	hash_update_i64(&h, (int64_t)s->generation);
	hash_update(&h, oc.key, sizeof(oc.key));
	hash_update_i64(&h, (int64_t)ctx->keylen);
	hash_update(&h, ctx->key, ctx->keylen);
	hash_update_i64(&h, args.bad_encoding);
	hash_update_i64(&h, args.too_many);
	hash_update_i64(&h, (int64_t)args.n);
	for (i = 0; i < args.n; i++) {
		hash_update_str(&h, args.v[i].key);
		hash_update_str(&h, args.v[i].value);
	}
	hash_final(&h, key);
	oai_args_release(&args);
	return 0;
}

/*
 * b's bytes, in memory of their own size: a buffer grows by doubling, and
 * the cap counts what pages really hold.
 */
static char *
detach_fit(struct buf *b, size_t *len)
{
	char	*p, *q;

	if ((p = buf_detach(b, len)) != NULL &&
	    (q = realloc(p, *len + 1)) != NULL)
		p = q;
	return p;
}

/* A strong validator from the bytes, as snap_doc.c makes them. */
static void
body_set(struct oai_body *b, char *data, size_t len, const char *suffix)
{
	unsigned long	 crc, adler;

	crc = crc32_z(0, (const unsigned char *)data, len);
	adler = adler32_z(1, (const unsigned char *)data, len);
	b->data = data;
	b->len = len;
	snprintf(b->etag, sizeof(b->etag), "\"%08lx%08lx%016llx%s\"", crc,
	    adler, (unsigned long long)len, suffix);
}

/*
 * The compressed forms of plain (plainlen bytes) into gz and zlb, one
 * deflate stream for both; both empty when compressing fails.
 */
static void
zip_forms(const char *plain, size_t plainlen, struct buf *gz,
    struct buf *zlb)
{
	if (oai_zip_whole(plain, plainlen, gz) == -1 ||
	    oai_zip_zlib_of(gz->data, gz->len, plain, plainlen, zlb) == -1) {
		buf_reset(gz);
		buf_reset(zlb);
	}
}

/* Install the compressed forms (none when gz is empty or memory ran out). */
static void
page_set_zip(struct oai_page *p, struct buf *gz, struct buf *zlb)
{
	char	*g, *z;
	size_t	 glen, zlen;

	p->zipped = 1;
	if (gz->len == 0)
		return;
	g = detach_fit(gz, &glen);
	z = detach_fit(zlb, &zlen);
	if (g == NULL || z == NULL) {
		free(g);
		free(z);
		return;
	}
	body_set(&p->body[OAI_ENC_GZIP], g, glen, "-gz");
	body_set(&p->body[OAI_ENC_DEFLATE], z, zlen, "-df");
	p->bytes += glen + zlen + 2 * OAI_CACHE_PREP_COST;
}

/* A page, not kept yet, for the plain body (taken); NULL out of memory. */
static struct oai_page *
page_new(struct oai_cache *c, const struct snap *s, const unsigned char *key,
    int64_t now, const char *verb, struct buf *plain)
{
	struct oai_page	*p;
	char		*data;
	size_t		 len;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((data = detach_fit(plain, &len)) == NULL) {
		free(p);
		return NULL;
	}
	p->refs = 1;
	p->hold = 1;
	p->gen = s->generation;
	memcpy(p->key, key, HASH_LEN);
	p->now = now;
	p->verb = verb;
	p->prep_free = c->prep_free;
	body_set(&p->body[OAI_ENC_IDENTITY], data, len, "");
	p->bytes = sizeof(*p) + len + OAI_CACHE_PREP_COST;
	return p;
}

/* Keep p, unless the cache already has a page for its key (returned). */
static struct oai_page *
cache_insert(struct oai_cache *c, struct oai_page *p, size_t cap,
    struct oai_page **gone)
{
	struct oai_page	*q;
	size_t		 h;

	if (p->gen > c->gen)
		cache_newer(c, p->gen, gone);
	if ((q = cache_find(c, p->key)) != NULL && q->now == p->now) {
		cache_front(c, q);
		return q;
	}
	if (q != NULL)
		cache_evict(c, q, gone);
	if (p->gen < c->gen || p->bytes > cap || cache_grow(c) == -1)
		return NULL;
	h = cache_slot(c, p->key);
	p->next = c->tab[h];
	c->tab[h] = p;
	p->lru_prev = NULL;
	p->lru_next = c->head;
	if (c->head != NULL)
		c->head->lru_prev = p;
	else
		c->tail = p;
	c->head = p;
	p->in_cache = 1;
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	c->count++;
	c->bytes += p->bytes;
	cache_trim(c, cap, gone);
	return NULL;
}

/*
 * Give a page that lacks them its compressed forms, made outside the lock
 * from its own plain bytes; the first thread to finish installs them.
 */
static void
page_add_zip(struct oai_cache *c, struct oai_page *p, size_t cap)
{
	struct buf	 gz, zlb;
	struct oai_page	*gone = NULL;
	const struct oai_body *b = &p->body[OAI_ENC_IDENTITY];

	buf_init(&gz, OAI_CACHE_BODY_MAX);
	buf_init(&zlb, OAI_CACHE_BODY_MAX);
	zip_forms(b->data, b->len, &gz, &zlb);
	pthread_mutex_lock(&c->mu);
	if (!p->zipped) {
		if (p->in_cache)
			c->bytes -= p->bytes;
		page_set_zip(p, &gz, &zlb);
		if (p->in_cache) {
			c->bytes += p->bytes;
			cache_trim(c, cap, &gone);
		}
	}
	pthread_mutex_unlock(&c->mu);
	cache_release_gone(gone);
	buf_release(&gz);
	buf_release(&zlb);
}

struct oai_page *
oai_cache_get(struct oai_cache *c, const struct snap *s,
    const struct oai_ctx *ctx, const char *query, size_t len,
    enum oai_enc enc, size_t cap, struct err *e)
{
	unsigned char	 key[HASH_LEN];
	struct oai_page	*p = NULL, *q = NULL, *gone = NULL;
	struct buf	 plain;
	const char	*verb;
	int		 zip = enc != OAI_ENC_IDENTITY;

	if (cache_key(s, ctx, query, len, key) == -1) {
		err_set(e, "out of memory decoding the OAI-PMH arguments");
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	if (s->generation > c->gen)
		cache_newer(c, s->generation, &gone);
	if ((q = cache_find(c, key)) != NULL) {
		if (ctx->now >= q->now && ctx->now - q->now < OAI_CACHE_TTL) {
			cache_front(c, q);
			__atomic_add_fetch(&q->refs, 1, __ATOMIC_RELAXED);
		} else {
			cache_evict(c, q, &gone);	/* its date is stale */
			q = NULL;
		}
	}
	pthread_mutex_unlock(&c->mu);
	cache_release_gone(gone);
	gone = NULL;
	if (q == NULL) {
		buf_init(&plain, OAI_CACHE_BODY_MAX);
		if ((verb = oai_respond(s, ctx, query, len, &plain, e)) !=
		    NULL && (p = page_new(c, s, key, ctx->now, verb,
		    &plain)) == NULL)
			err_set(e, "out of memory keeping an OAI-PMH response");
		buf_release(&plain);
		if (p == NULL)
			return NULL;
		if (zip)	/* while it is ours alone */
			page_add_zip(c, p, cap);
		if (cap == 0)
			return p;
		pthread_mutex_lock(&c->mu);
		if ((q = cache_insert(c, p, cap, &gone)) != NULL)
			__atomic_add_fetch(&q->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&c->mu);
		cache_release_gone(gone);
		if (q == NULL)
			return p;
		oai_page_unref(p);	/* another thread's came first */
	}
	/* zipped is written under the lock only: read it so */
	pthread_mutex_lock(&c->mu);
	zip = zip && !q->zipped;
	pthread_mutex_unlock(&c->mu);
	if (zip)
		page_add_zip(c, q, cap);
	return q;
}
