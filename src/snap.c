#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "snap.h"
#include "banned.h"

/*
 * The one piece of shared mutable state in the daemon.  The mutex guards
 * only "load the pointer and take a reference", so a reader can never pick
 * up a snapshot that is being freed; everything behind the pointer is
 * immutable and read without locks.
 */
static pthread_mutex_t	 snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap	*snap_cur;
static uint64_t		 snap_generation;

struct vec {
	size_t	*v;
	size_t	 n, cap;
};

static int
vec_push(struct vec *a, size_t x)
{
	size_t	*p;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		if ((p = realloc(a->v, a->cap * sizeof(*p))) == NULL)
			return -1;
		a->v = p;
	}
	a->v[a->n++] = x;
	return 0;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct snap_item	*x = a, *y = b;

	if (x->datestamp != y->datestamp)
		return x->datestamp < y->datestamp ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int
item_id_cmp(const void *a, const void *b)
{
	const struct snap_item	*const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int
feed_cmp(const void *a, const void *b)
{
	const struct record	*const *x = a, *const *y = b;

	if ((*x)->issued.t != (*y)->issued.t)
		return (*x)->issued.t < (*y)->issued.t ? -1 : 1;
	return strcmp((*x)->id, (*y)->id);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
snap_spec_covers(const char *set, const char *spec)
{
	size_t	 n = strlen(set);

	return strncmp(set, spec, n) == 0 &&
	    (spec[n] == '\0' || spec[n] == ':');
}

/* A tombstone's id and sets live in one block that item->sets points at. */
static int
snap_add_tomb(struct snap_item *it, const struct snap_tomb *t)
{
	size_t	 i, bytes = (t->nsets + 1) * sizeof(char *) + strlen(t->id) + 1;
	char	**ptrs, *p;

	for (i = 0; i < t->nsets; i++)
		bytes += strlen(t->sets[i]) + 1;
	if ((ptrs = malloc(bytes)) == NULL)
		return -1;
	p = (char *)(ptrs + t->nsets + 1);
	for (i = 0; i < t->nsets; i++) {
		ptrs[i] = p;
		p = stpcpy(p, t->sets[i]) + 1;
	}
	ptrs[t->nsets] = NULL;
	stpcpy(p, t->id);
	it->id = p;
	it->datestamp = t->datestamp;
	it->rec = NULL;
	it->sets = (const char *const *)ptrs;
	it->nsets = t->nsets;
	return 0;
}

static int
snap_fill_items(struct snap *s, struct record *const *recs, size_t nrecs,
    const struct snap_tomb *tombs, size_t ntombs)
{
	size_t	 i;

	s->nitems = nrecs + ntombs;
	if ((s->items = calloc(s->nitems + 1, sizeof(*s->items))) == NULL ||
	    (s->by_id = calloc(s->nitems + 1, sizeof(*s->by_id))) == NULL ||
	    (s->feed = calloc(nrecs + 1, sizeof(*s->feed))) == NULL)
		return -1;
	for (i = 0; i < nrecs; i++) {
		struct snap_item *it = &s->items[i];

		it->rec = record_ref(recs[i]);
		it->id = it->rec->id;
		it->datestamp = it->rec->datestamp;
		it->sets = (const char *const *)it->rec->sets;
		it->nsets = it->rec->nsets;
		s->feed[i] = it->rec;
	}
	s->nlive = s->nfeed = nrecs;
	for (i = 0; i < ntombs; i++) {
		if (snap_add_tomb(&s->items[nrecs + i], &tombs[i]) == -1) {
			s->nitems = nrecs + i;
			return -1;
		}
	}
	qsort(s->items, s->nitems, sizeof(*s->items), item_cmp);
	for (i = 0; i < s->nitems; i++)
		s->by_id[i] = &s->items[i];
	qsort(s->by_id, s->nitems, sizeof(*s->by_id), item_id_cmp);
	qsort(s->feed, s->nfeed, sizeof(*s->feed), feed_cmp);
	if (s->nitems > 0) {
		s->earliest = s->items[0].datestamp;
		s->latest = s->items[s->nitems - 1].datestamp;
	}
	for (i = 0; i < s->nitems; i++)
		if (s->items[i].datestamp < s->earliest)
			s->earliest = s->items[i].datestamp;
	return 0;
}

/* Every spec named anywhere, with its ancestors, sorted and unique. */
static int
snap_collect_specs(struct snap *s, char ***out, size_t *nout)
{
	char	**v = NULL, **p, *c;
	size_t	 n = 0, cap = 0, i, j, k;

	for (i = 0; i < s->nitems + s->conf->nsets; i++) {
		size_t		 nsets;
		const char	*const *sets;
		const char	*one;

		if (i < s->nitems) {
			sets = s->items[i].sets;
			nsets = s->items[i].nsets;
		} else {
			one = s->conf->sets[i - s->nitems].spec;
			sets = &one;
			nsets = 1;
		}
		for (j = 0; j < nsets; j++) {
			size_t len = strlen(sets[j]);

			/* the spec and each "a:b" prefix of it */
			for (k = 1; k <= len; k++) {
				if (sets[j][k] != ':' && sets[j][k] != '\0')
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 32;
					p = realloc(v, cap * sizeof(*v));
					if (p == NULL)
						goto fail;
					v = p;
				}
				if ((c = strndup(sets[j], k)) == NULL)
					goto fail;
				v[n++] = c;
			}
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), str_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(v[j - 1], v[i]) == 0)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	*out = v;
	*nout = j;
	return 0;
fail:
	while (n > 0)
		free(v[--n]);
	free(v);
	return -1;
}

static size_t
snap_set_index(const struct snap *s, const char *spec)
{
	const struct snap_set	*set = snap_set_find(s, spec);

	return set ? (size_t)(set - s->sets) : (size_t)-1;
}

/*
 * Which sets an item belongs to, ancestors included, without repeats:
 * marks[] is a per-set stamp so each item lands in each set once.
 */
static int
snap_assign(struct snap *s, const char *const *sets, size_t nsets,
    size_t stamp, size_t *marks, struct vec *lists, size_t value)
{
	size_t	 j, k, idx;
	char	 spec[512];

	for (j = 0; j < nsets; j++) {
		size_t len = strlen(sets[j]);

		for (k = 0; k <= len; k++) {
			if (sets[j][k] != ':' && sets[j][k] != '\0')
				continue;
			if (k >= sizeof(spec))
				break;
			memcpy(spec, sets[j], k);
			spec[k] = '\0';
			idx = snap_set_index(s, spec);
			if (idx == (size_t)-1 || marks[idx] == stamp)
				continue;
			marks[idx] = stamp;
			if (vec_push(&lists[idx], value) == -1)
				return -1;
		}
	}
	return 0;
}

static int
snap_fill_sets(struct snap *s)
{
	char		**specs = NULL;
	size_t		 nspecs = 0, i, *marks = NULL;
	struct vec	*items = NULL, *feeds = NULL;
	int		 rc = -1;

	if (snap_collect_specs(s, &specs, &nspecs) == -1)
		return -1;
	s->nsets = nspecs;
	if ((s->sets = calloc(nspecs + 1, sizeof(*s->sets))) == NULL)
		goto out;
	for (i = 0; i < nspecs; i++) {
		const struct conf_set *cs = conf_set_find(s->conf, specs[i]);

		s->sets[i].spec = specs[i];
		specs[i] = NULL;
		s->sets[i].name = cs ? cs->name : s->sets[i].spec;
		s->sets[i].description = cs ? cs->description : NULL;
		s->sets[i].is_configured = cs != NULL;
	}
	if ((marks = calloc(nspecs + 1, sizeof(*marks))) == NULL ||
	    (items = calloc(nspecs + 1, sizeof(*items))) == NULL ||
	    (feeds = calloc(nspecs + 1, sizeof(*feeds))) == NULL)
		goto out;
	for (i = 0; i < s->nitems; i++)
		if (snap_assign(s, s->items[i].sets, s->items[i].nsets, i + 1,
		    marks, items, i) == -1)
			goto out;
	memset(marks, 0, (nspecs + 1) * sizeof(*marks));
	for (i = 0; i < s->nfeed; i++)
		if (snap_assign(s, (const char *const *)s->feed[i]->sets,
		    s->feed[i]->nsets, i + 1, marks, feeds, i) == -1)
			goto out;
	for (i = 0; i < nspecs; i++) {
		struct snap_set	*set = &s->sets[i];
		size_t		 j;

		set->items = items[i].v;
		set->nitems = items[i].n;
		items[i].v = NULL;
		set->nfeed = feeds[i].n;
		if ((set->feed = calloc(set->nfeed + 1,
		    sizeof(*set->feed))) == NULL)
			goto out;
		for (j = 0; j < set->nfeed; j++)
			set->feed[j] = s->feed[feeds[i].v[j]];
	}
	rc = 0;
out:
	for (i = 0; items != NULL && i < nspecs; i++)
		free(items[i].v);
	for (i = 0; feeds != NULL && i < nspecs; i++)
		free(feeds[i].v);
	free(items);
	free(feeds);
	free(marks);
	free(specs);
	return rc;
}

struct snap *
snap_new(struct conf *conf, struct record *const *recs, size_t nrecs,
    const struct snap_tomb *tombs, size_t ntombs, struct err *e)
{
	struct snap	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	s->refs = 1;
	s->conf = conf_ref(conf);
	s->created = date_now();
	s->generation = __atomic_add_fetch(&snap_generation, 1,
	    __ATOMIC_RELAXED);
	if (snap_fill_items(s, recs, nrecs, tombs, ntombs) == -1 ||
	    snap_fill_sets(s) == -1) {
		snap_release(s);
		err_set(e, "out of memory building the snapshot");
		return NULL;
	}
	return s;
}

static void
snap_doc_unref(struct snap_doc *d)
{
	if (d == NULL || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(d->path);
	free(d->body);
	free(d->gz);
	free(d);
}

static int
snap_doc_push(struct snap *s, struct snap_doc *d)
{
	struct snap_doc	**p;

	if (s->ndocs == s->docs_cap) {
		s->docs_cap = s->docs_cap ? s->docs_cap * 2 : 64;
		p = realloc(s->docs, s->docs_cap * sizeof(*p));
		if (p == NULL)
			return -1;
		s->docs = p;
	}
	s->docs[s->ndocs++] = d;
	return 0;
}

/*
 * One deflate stream per build, reset between documents: initialising a
 * fresh stream per document cost more than compressing a 50-entry feed.
 */
static int
snap_gzip(struct snap *s, const char *in, size_t len, char **out,
    size_t *outlen)
{
	z_stream	*z = s->zs;
	size_t		 cap;
	int		 rc;

	if (z == NULL) {
		if ((z = calloc(1, sizeof(*z))) == NULL)
			return -1;
		/* 16 + 15 window bits: a gzip wrapper, as Content-Encoding wants */
		if (deflateInit2(z, 6, Z_DEFLATED, 16 + 15, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
			free(z);
			return -1;
		}
		s->zs = z;
	} else if (deflateReset(z) != Z_OK)
		return -1;
	cap = deflateBound(z, len) + 64;
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
	return 0;
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

int
snap_doc_add(struct snap *s, const char *path, const char *content_type,
    const char *body, size_t len, const unsigned char key[HASH_LEN],
    int64_t last_modified)
{
	struct snap_doc	*d;
	char		 hex[25];	/* 12 bytes in hex */

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->refs = 1;
	d->content_type = content_type;
	d->last_modified = last_modified;
	memcpy(d->key, key, HASH_LEN);
	d->len = len;
	if ((d->path = strdup(path)) == NULL ||
	    (d->body = malloc(len + 1)) == NULL)
		goto fail;
	memcpy(d->body, body, len);
	d->body[len] = '\0';
	if (snap_gzip(s, body, len, &d->gz, &d->gzlen) == -1)
		goto fail;
	/*
	 * Strong validators: the key names the inputs the bytes were rendered
	 * from, and the CRC-32 deflate computed anyway pins the bytes
	 * themselves; hashing every body with SHA-256 cost more than gzip.
	 */
	hash_hex(key, 12, hex);
	snprintf(d->etag, sizeof(d->etag), "\"%s%08x\"", hex,
	    (unsigned int)((z_stream *)s->zs)->adler);
	snprintf(d->etag_gz, sizeof(d->etag_gz), "\"%s%08x-gz\"", hex,
	    (unsigned int)((z_stream *)s->zs)->adler);
	if (snap_doc_push(s, d) == -1)
		goto fail;
	return 0;
fail:
	snap_doc_unref(d);
	return -1;
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

const struct snap_doc *
snap_doc_find(const struct snap *s, const char *path)
{
	struct snap_doc	**d;

	if (s->ndocs == 0)
		return NULL;
	d = bsearch(path, s->docs, s->ndocs, sizeof(*s->docs), doc_key_cmp);
	return d ? *d : NULL;
}

int
snap_doc_reuse(struct snap *s, const struct snap *prev, const char *path,
    const unsigned char key[HASH_LEN])
{
	const struct snap_doc	*old;
	struct snap_doc		*d;

	if (prev == NULL || (old = snap_doc_find(prev, path)) == NULL ||
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

void
snap_seal(struct snap *s)
{
	snap_gzip_end(s);
	if (s->ndocs > 1)
		qsort(s->docs, s->ndocs, sizeof(*s->docs), doc_path_cmp);
}

static int
item_key_cmp(const void *key, const void *elt)
{
	const struct snap_item	*const *it = elt;

	return strcmp(key, (*it)->id);
}

const struct snap_item *
snap_item_find(const struct snap *s, const char *id)
{
	struct snap_item	**it;

	if (s->nitems == 0)
		return NULL;
	it = bsearch(id, s->by_id, s->nitems, sizeof(*s->by_id),
	    item_key_cmp);
	return it ? *it : NULL;
}

static int
set_key_cmp(const void *key, const void *elt)
{
	const struct snap_set	*set = elt;

	return strcmp(key, set->spec);
}

const struct snap_set *
snap_set_find(const struct snap *s, const char *spec)
{
	if (s->nsets == 0)
		return NULL;
	return bsearch(spec, s->sets, s->nsets, sizeof(*s->sets),
	    set_key_cmp);
}

struct snap *
snap_ref(struct snap *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

static void
snap_free(struct snap *s)
{
	size_t	 i;

	for (i = 0; i < s->nitems; i++) {
		if (s->items[i].rec != NULL)
			record_unref(s->items[i].rec);
		else
			free((void *)s->items[i].sets);
	}
	for (i = 0; i < s->nsets; i++) {
		free((void *)s->sets[i].spec);
		free(s->sets[i].items);
		free(s->sets[i].feed);
	}
	snap_gzip_end(s);
	for (i = 0; i < s->ndocs; i++)
		snap_doc_unref(s->docs[i]);
	free(s->docs);
	free(s->sets);
	free(s->items);
	free(s->by_id);
	free(s->feed);
	conf_unref(s->conf);
	free(s);
}

void
snap_release(struct snap *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	snap_free(s);
}

struct snap *
snap_current(void)
{
	struct snap	*s;

	pthread_mutex_lock(&snap_lock);
	s = snap_ref(snap_cur);
	pthread_mutex_unlock(&snap_lock);
	return s;
}

void
snap_publish(struct snap *s)
{
	struct snap	*old;

	pthread_mutex_lock(&snap_lock);
	old = snap_cur;
	snap_cur = s;
	pthread_mutex_unlock(&snap_lock);
	snap_release(old);
}
