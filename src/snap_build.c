/*
 * snap_build.c: building snapshots: snap_new() from the whole collection
 * (sort keys, set tables), snap_next() from the previous snapshot and what
 * changed (merges).  Documents are added afterwards (snap_doc.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "snap.h"
#include "snap_int.h"
#include "strmap.h"
#include "vec.h"
#include "banned.h"

/* Every snapshot built gets the next number (snap->generation). */
static uint64_t		 snap_generation;

/* A growing list of indexes (into snap->items or snap->feed). */
struct ivec {
	size_t	*v;
	size_t	 n, cap;
};

static int
ivec_push(struct ivec *a, size_t x)
{
	if (vec_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v)) == -1)
		return -1;
	a->v[a->n++] = x;
	return 0;
}

/*
 * Sort keys: a time, then the id as two big-endian 64-bit words taken after
 * the prefix every id shares ("syn-00", "2019-"), so sorting 100k items is
 * integer comparisons; strcmp() only breaks ties past those 16 bytes.  Byte
 * order with zero padding is exactly strcmp() order.
 */
struct okey {
	int64_t		 t;
	uint64_t	 k1, k2;
	const char	*id;
	size_t		 i;
};

static int
okey_cmp(const void *a, const void *b)
{
	const struct okey	*x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2)
		return x->k2 < y->k2 ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void
okey_set(struct okey *k, int64_t t, const char *id, size_t lcp, size_t i)
{
	const unsigned char	*p = (const unsigned char *)id + lcp;
	uint64_t		 w[2] = { 0, 0 };
	size_t			 j;

	for (j = 0; j < 16 && p[j] != '\0'; j++)
		w[j / 8] |= (uint64_t)p[j] << (56 - 8 * (j % 8));
	k->t = t;
	k->k1 = w[0];
	k->k2 = w[1];
	k->id = id;
	k->i = i;
}

/* Length of the prefix all items' ids share. */
static size_t
snap_ids_lcp(const struct snap *s)
{
	size_t	 i, n, lcp;

	if (s->nitems == 0)
		return 0;
	lcp = strlen(s->items[0].id);
	for (i = 1; i < s->nitems && lcp > 0; i++) {
		for (n = 0; n < lcp && s->items[i].id[n] == s->items[0].id[n];
		    n++)
			;
		lcp = n;
	}
	return lcp;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* items by (datestamp, id), by_id by id, feed by (issued, id). */
static int
snap_sort(struct snap *s)
{
	struct okey		*k;
	struct snap_item	*items;
	struct record		**feed;
	size_t			 i, lcp = snap_ids_lcp(s);

	k = malloc((s->nitems + 1) * sizeof(*k));
	items = malloc((s->nitems + 1) * sizeof(*items));
	feed = malloc((s->nfeed + 1) * sizeof(*feed));
	if (k == NULL || items == NULL || feed == NULL) {
		free(feed);
		free(k);
		free(items);
		return -1;
	}
	for (i = 0; i < s->nitems; i++)
		okey_set(&k[i], s->items[i].datestamp, s->items[i].id, lcp, i);
	qsort(k, s->nitems, sizeof(*k), okey_cmp);
	for (i = 0; i < s->nitems; i++)
		items[i] = s->items[k[i].i];
	memcpy(s->items, items, s->nitems * sizeof(*items));
	for (i = 0; i < s->nitems; i++)
		okey_set(&k[i], 0, s->items[i].id, lcp, i);
	qsort(k, s->nitems, sizeof(*k), okey_cmp);
	for (i = 0; i < s->nitems; i++)
		s->by_id[i] = &s->items[k[i].i];
	for (i = 0; i < s->nfeed; i++)
		okey_set(&k[i], s->feed[i]->issued.t, s->feed[i]->id, lcp, i);
	qsort(k, s->nfeed, sizeof(*k), okey_cmp);
	for (i = 0; i < s->nfeed; i++)
		feed[i] = s->feed[k[i].i];
	memcpy(s->feed, feed, s->nfeed * sizeof(*feed));
	free(k);
	free(items);
	free(feed);
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
	if (snap_sort(s) == -1)
		return -1;
	if (s->nitems > 0) {
		s->earliest = s->items[0].datestamp;
		s->latest = s->items[s->nitems - 1].datestamp;
	}
	for (i = 0; i < s->nitems; i++)
		if (s->items[i].datestamp < s->earliest)
			s->earliest = s->items[i].datestamp;
	return 0;
}

/*
 * Every spec prefix seen while building ("a", "a:b", "a:b:c" of "a:b:c") is
 * a key of a strmap, as bytes of the item's own string (no copy), hashed as
 * the walk along the spec goes, so that neither collecting them nor
 * assigning the items to sets copies or rehashes a string per item; its
 * value is the set's index once the sets exist.
 */

/* Every spec named anywhere, with its ancestors, sorted and unique. */
static int
snap_collect_specs(struct snap *s, struct strmap *t, char ***out,
    size_t *nout)
{
	char		**v;
	size_t		 i, j, k, n = 0;
	uint64_t	 h;

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
		/* the spec and each "a:b" prefix of it */
		for (j = 0; j < nsets; j++) {
			for (k = 0, h = STRMAP_HASH_INIT;;
			    h = STRMAP_HASH_STEP(h, sets[j][k++])) {
				if (sets[j][k] != ':' && sets[j][k] != '\0')
					continue;
				if (k > 0 && strmap_put(t, sets[j], k, h,
				    (size_t)-1) == NULL)
					return -1;
				if (sets[j][k] == '\0')
					break;
			}
		}
	}
	if ((v = calloc(t->n + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (t->v[i].key == NULL)
			continue;
		if ((v[n] = strndup(t->v[i].key, t->v[i].len)) == NULL) {
			while (n > 0)
				free(v[--n]);
			free(v);
			return -1;
		}
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), str_cmp);
	*out = v;
	*nout = n;
	return 0;
}

/* A spec given as the first n bytes of a longer one ("a" of "a:b"). */
struct spec_prefix {
	const char	*p;
	size_t		 n;
};

static int
set_prefix_cmp(const void *key, const void *elt)
{
	const struct spec_prefix	*k = key;
	const struct snap_set		*set = elt;
	int				 c = strncmp(k->p, set->spec, k->n);

	if (c != 0)
		return c;
	return set->spec[k->n] == '\0' ? 0 : -1;
}

static size_t
snap_set_index(const struct snap *s, const char *spec, size_t n)
{
	struct spec_prefix	 k = { spec, n };
	const struct snap_set	*set;

	if (s->nsets == 0)
		return (size_t)-1;
	set = bsearch(&k, s->sets, s->nsets, sizeof(*s->sets),
	    set_prefix_cmp);
	return set ? (size_t)(set - s->sets) : (size_t)-1;
}

/*
 * Which sets an item belongs to, ancestors included, without repeats:
 * marks[] is a per-set stamp so each item lands in each set once.
 */
static int
snap_assign(const struct strmap *t, const char *const *sets, size_t nsets,
    size_t stamp, size_t *marks, struct ivec *lists, size_t value)
{
	const struct strmap_ent	*se;
	size_t			 j, k, idx;
	uint64_t		 h;

	for (j = 0; j < nsets; j++) {
		/* no copy, so no length limit: a spec may be any length */
		for (k = 0, h = STRMAP_HASH_INIT;;
		    h = STRMAP_HASH_STEP(h, sets[j][k++])) {
			if (sets[j][k] != ':' && sets[j][k] != '\0')
				continue;
			se = strmap_find(t, sets[j], k, h);
			idx = se != NULL ? se->val : (size_t)-1;
			if (idx != (size_t)-1 && marks[idx] != stamp) {
				marks[idx] = stamp;
				if (ivec_push(&lists[idx], value) == -1)
					return -1;
			}
			if (sets[j][k] == '\0')
				break;
		}
	}
	return 0;
}

static int
snap_fill_sets(struct snap *s)
{
	char		**specs = NULL;
	size_t		 nspecs = 0, i, *marks = NULL;
	struct ivec	*items = NULL, *feeds = NULL;
	struct strmap	 tab;
	int		 rc = -1;

	strmap_init(&tab);
	if (snap_collect_specs(s, &tab, &specs, &nspecs) == -1) {
		strmap_release(&tab);
		return -1;
	}
	if ((s->sets = calloc(nspecs + 1, sizeof(*s->sets))) == NULL) {
		while (nspecs > 0)
			free(specs[--nspecs]);
		goto out;
	}
	s->nsets = nspecs;	/* only now may snap_free() walk them */
	for (i = 0; i < nspecs; i++) {
		const struct conf_set *cs = conf_set_find(s->conf, specs[i]);

		s->sets[i].spec = specs[i];
		specs[i] = NULL;
		s->sets[i].name = cs ? cs->name : s->sets[i].spec;
		s->sets[i].description = cs ? cs->description : NULL;
		s->sets[i].is_configured = cs != NULL;
	}
	for (i = 0; i < tab.cap; i++)
		if (tab.v[i].key != NULL)
			tab.v[i].val = snap_set_index(s, tab.v[i].key,
			    tab.v[i].len);
	if ((marks = calloc(nspecs + 1, sizeof(*marks))) == NULL ||
	    (items = calloc(nspecs + 1, sizeof(*items))) == NULL ||
	    (feeds = calloc(nspecs + 1, sizeof(*feeds))) == NULL)
		goto out;
	for (i = 0; i < s->nitems; i++)
		if (snap_assign(&tab, s->items[i].sets, s->items[i].nsets, i + 1,
		    marks, items, i) == -1)
			goto out;
	memset(marks, 0, (nspecs + 1) * sizeof(*marks));
	for (i = 0; i < s->nfeed; i++)
		if (snap_assign(&tab, (const char *const *)s->feed[i]->sets,
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
	strmap_release(&tab);
	return rc;
}

/* The datestamp of the newest tombstone among items idx[0..n) (NULL: all). */
static int64_t
newest_tomb(const struct snap *s, const size_t *idx, size_t n)
{
	const struct snap_item	*it;

	/* items are in datestamp order: the last tombstone is the newest */
	while (n-- > 0) {
		it = &s->items[idx != NULL ? idx[n] : n];
		if (it->rec == NULL)
			return it->datestamp;
	}
	return 0;
}

/*
 * The digest of the sets under parent (NULL: all), as an HTML page shows
 * them; 1 when one of them has records (the page shows a tree).
 */
static int
tree_digest(const struct snap *s, const char *parent,
    unsigned char out[HASH_LEN])
{
	struct hash_ctx	 h;
	size_t		 i, plen = parent != NULL ? strlen(parent) : 0;
	int		 any = 0;

	hash_init(&h);
	for (i = 0; i < s->nsets; i++) {
		const struct snap_set	*set = &s->sets[i];

		if (parent != NULL && (strncmp(set->spec, parent, plen) != 0 ||
		    set->spec[plen] != ':'))
			continue;
		hash_update_str(&h, set->spec);
		hash_update_str(&h, set->name);
		hash_update_i64(&h, (int64_t)set->nfeed);
		any |= set->nfeed > 0;
	}
	hash_final(&h, out);
	return any;
}

/*
 * The digest of which records a feed's current documents show: the ids of
 * the newest conf->feed_entries of feed (oldest first), and how many
 * archive pages there are (they link the newest).
 */
static void
window_digest(const struct snap *s, struct record *const *feed, size_t n,
    unsigned char out[HASH_LEN])
{
	struct hash_ctx	 h;
	size_t		 per = s->conf->feed_entries > 0 ?
			    (size_t)s->conf->feed_entries : 1;
	size_t		 i;

	hash_init(&h);
	hash_update_i64(&h, (int64_t)(n / per));
	for (i = n > per ? n - per : 0; i < n; i++)
		hash_update_str(&h, feed[i]->id);
	hash_final(&h, out);
}

/* What every snapshot works out once its items and sets are in place. */
static void
snap_finish(struct snap *s)
{
	size_t	 i;

	s->gone = newest_tomb(s, NULL, s->nitems);
	tree_digest(s, NULL, s->tree_digest);
	window_digest(s, s->feed, s->nfeed, s->window_digest);
	for (i = 0; i < s->nsets; i++) {
		struct snap_set	*set = &s->sets[i];

		set->gone = newest_tomb(s, set->items, set->nitems);
		set->has_tree = tree_digest(s, set->spec, set->tree_digest);
		window_digest(s, set->feed, set->nfeed, set->window_digest);
	}
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
	snap_finish(s);
	return s;
}

/* snap_next(): the next snapshot from the previous one */

/* (datestamp, id): the order of snap->items. */
static int
item_order(const struct snap_item *a, const struct snap_item *b)
{
	if (a->datestamp != b->datestamp)
		return a->datestamp < b->datestamp ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* (issued, id): the order of every feed list. */
static int
feed_order(const struct record *a, const struct record *b)
{
	if (a->issued.t != b->issued.t)
		return a->issued.t < b->issued.t ? -1 : 1;
	return strcmp(a->id, b->id);
}

static int
item_qcmp(const void *a, const void *b)
{
	return item_order(a, b);
}

static int
itemp_id_qcmp(const void *a, const void *b)
{
	return strcmp((*(const struct snap_item *const *)a)->id,
	    (*(const struct snap_item *const *)b)->id);
}

static int
rec_feed_qcmp(const void *a, const void *b)
{
	return feed_order(*(const struct record *const *)a,
	    *(const struct record *const *)b);
}

static int
size_qcmp(const void *a, const void *b)
{
	size_t	 x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int
ptr_qcmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a;
	uintptr_t y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/* First position in v[0..n) not before it. */
static size_t
items_lower(const struct snap_item *v, size_t n, const struct snap_item *it)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (item_order(&v[mid], it) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
by_id_lower(struct snap_item *const *v, size_t n, const char *id)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid]->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
feed_lower(struct record *const *v, size_t n, const struct record *r)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (feed_order(v[mid], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A feed list without the records of rm (sorted by address) and with add
 * (sorted by (issued, id)) merged in: into out, which has room.  Returns
 * the new length.
 */
static size_t
feed_merge(struct record *const *old, size_t n, struct record *const *rm,
    size_t nrm, struct record *const *add, size_t nadd, struct record **out)
{
	size_t	 i = 0, j = 0, a, ip;

	for (a = 0; a <= nadd; a++) {
		ip = a < nadd ? feed_lower(old, n, add[a]) : n;
		for (; i < ip; i++) {
			if (nrm > 0 && bsearch(&old[i], rm, nrm, sizeof(*rm),
			    ptr_qcmp) != NULL)
				continue;
			out[j++] = old[i];
		}
		if (a < nadd)
			out[j++] = add[a];
	}
	return j;
}

struct pvec {
	struct record	**v;
	size_t		 n, cap;
};

static int
pvec_push(struct pvec *a, struct record *r)
{
	if (vec_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v)) == -1)
		return -1;
	a->v[a->n++] = r;
	return 0;
}

/* What snap_next() works with besides the two snapshots. */
struct next {
	const struct snap	*p;
	struct snap		*s;
	size_t			*rm;	/* old item indexes going away */
	size_t			 nrm;
	struct snap_item	*add;	/* new items, by (datestamp, id) */
	size_t			 nadd;
	size_t			*addidx;	/* their indexes in s->items */
	size_t			*map;	/* old index -> new, SIZE_MAX: gone */
	struct record		**rmrec;	/* records going away, by address */
	size_t			 nrmrec;
	struct record		**addrec;	/* records coming, (issued, id) */
	size_t			 naddrec;
	/* per set of p (== of s): the new item indexes and records it gains */
	struct ivec		*set_items;
	struct pvec		*set_recs;
	unsigned char		*set_hit;	/* loses or gains something */
	size_t			*marks;
};

/* Merge the surviving old items with the new ones; fills map and addidx. */
static void
next_items(struct next *x)
{
	const struct snap	*p = x->p;
	struct snap		*s = x->s;
	size_t			 i = 0, j = 0, r = 0, a, ip;

	for (a = 0; a <= x->nadd; a++) {
		ip = a < x->nadd ? items_lower(p->items, p->nitems,
		    &x->add[a]) : p->nitems;
		for (; i < ip; i++) {
			if (r < x->nrm && x->rm[r] == i) {
				x->map[i] = SIZE_MAX;
				r++;
				continue;
			}
			x->map[i] = j;
			s->items[j] = p->items[i];
			snap_item_ref(&s->items[j++]);
		}
		if (a < x->nadd) {
			x->addidx[a] = j;
			s->items[j++] = x->add[a];
		}
	}
	s->nitems = j;
	x->nadd = 0;	/* s owns them now */
}

static int
next_by_id(struct next *x)
{
	const struct snap	*p = x->p;
	struct snap		*s = x->s;
	struct snap_item	**np;
	size_t			 i = 0, j = 0, a, ip, o, n = s->nitems - p->nitems
				    + x->nrm;

	if ((np = calloc(n + 1, sizeof(*np))) == NULL)
		return -1;
	for (a = 0; a < n; a++)
		np[a] = &s->items[x->addidx[a]];
	qsort(np, n, sizeof(*np), itemp_id_qcmp);
	for (a = 0; a <= n; a++) {
		ip = a < n ? by_id_lower(p->by_id, p->nitems, np[a]->id) :
		    p->nitems;
		for (; i < ip; i++) {
			o = (size_t)(p->by_id[i] - p->items);
			if (x->map[o] != SIZE_MAX)
				s->by_id[j++] = &s->items[x->map[o]];
		}
		if (a < n)
			s->by_id[j++] = np[a];
	}
	free(np);
	return 0;
}

/* Which sets of p an item is in (ancestors too); -1: one p lacks. */
static int
next_item_sets(struct next *x, const struct snap_item *it, size_t stamp,
    size_t newidx)
{
	size_t	 j, k, idx;

	for (j = 0; j < it->nsets; j++) {
		for (k = 0;; k++) {
			if (it->sets[j][k] != ':' && it->sets[j][k] != '\0')
				continue;
			if ((idx = snap_set_index(x->p, it->sets[j], k)) ==
			    (size_t)-1)
				return -1;
			if (x->marks[idx] != stamp) {
				x->marks[idx] = stamp;
				x->set_hit[idx] = 1;
				if (newidx != SIZE_MAX && (ivec_push(
				    &x->set_items[idx], newidx) == -1 ||
				    (it->rec != NULL && pvec_push(
				    &x->set_recs[idx], it->rec) == -1)))
					return -1;
			}
			if (it->sets[j][k] == '\0')
				break;
		}
	}
	return 0;
}

/* One set of s from the same set of p and what it loses and gains. */
static int
next_set(struct next *x, size_t k)
{
	const struct snap_set	*ps = &x->p->sets[k];
	struct snap_set		*ss = &x->s->sets[k];
	struct ivec		*ni = &x->set_items[k];
	struct pvec		*nr = &x->set_recs[k];
	size_t			 i, j = 0, a = 0;

	ss->items = malloc((ps->nitems + ni->n + 1) * sizeof(*ss->items));
	ss->feed = malloc((ps->nfeed + nr->n + 1) * sizeof(*ss->feed));
	if (ss->items == NULL || ss->feed == NULL)
		return -1;
	/* map is increasing, so the old order holds; the new ones merge in */
	for (i = 0; i < ps->nitems; i++) {
		size_t m = x->map[ps->items[i]];

		if (m == SIZE_MAX)
			continue;
		while (a < ni->n && ni->v[a] < m)
			ss->items[j++] = ni->v[a++];
		ss->items[j++] = m;
	}
	while (a < ni->n)
		ss->items[j++] = ni->v[a++];
	ss->nitems = j;
	if (!x->set_hit[k]) {
		memcpy(ss->feed, ps->feed, ps->nfeed * sizeof(*ss->feed));
		ss->nfeed = ps->nfeed;
	} else {
		if (nr->n > 1)
			qsort(nr->v, nr->n, sizeof(*nr->v), rec_feed_qcmp);
		ss->nfeed = feed_merge(ps->feed, ps->nfeed, x->rmrec,
		    x->nrmrec, nr->v, nr->n, ss->feed);
	}
	/* a set no item names any more would vanish from a full build */
	return ss->nitems == 0 && ps->nitems > 0 ? -1 : 0;
}

static int
next_sets(struct next *x)
{
	const struct snap	*p = x->p;
	struct snap		*s = x->s;
	size_t			 i, a, ns = p->nsets;

	if ((s->sets = calloc(ns + 1, sizeof(*s->sets))) == NULL ||
	    (x->set_items = calloc(ns + 1, sizeof(*x->set_items))) == NULL ||
	    (x->set_recs = calloc(ns + 1, sizeof(*x->set_recs))) == NULL ||
	    (x->set_hit = calloc(ns + 1, 1)) == NULL ||
	    (x->marks = calloc(ns + 1, sizeof(*x->marks))) == NULL)
		return -1;
	for (i = 0; i < ns; i++) {
		s->sets[i] = p->sets[i];
		s->sets[i].items = NULL;
		s->sets[i].feed = NULL;
		memset(&s->sets[i].pages, 0, sizeof(s->sets[i].pages));
		if ((s->sets[i].spec = strdup(p->sets[i].spec)) == NULL)
			return -1;
		if (!s->sets[i].is_configured)
			s->sets[i].name = s->sets[i].spec;
		s->nsets = i + 1;	/* only now may snap_free() walk it */
	}
	for (i = 0; i < x->nrm; i++)
		if (next_item_sets(x, &p->items[x->rm[i]], i + 1,
		    SIZE_MAX) == -1)
			return -1;
	/* new indexes arrive in increasing order: each vector stays sorted */
	a = s->nitems - p->nitems + x->nrm;
	for (i = 0; i < a; i++)
		if (next_item_sets(x, &s->items[x->addidx[i]],
		    x->nrm + i + 1, x->addidx[i]) == -1)
			return -1;
	for (i = 0; i < ns; i++)
		if (next_set(x, i) == -1)
			return -1;
	return 0;
}

/* Removed and added records: the main feed, and input for the sets. */
static int
next_feed(struct next *x)
{
	const struct snap	*p = x->p;
	struct snap		*s = x->s;
	size_t			 i, n = s->nitems - p->nitems + x->nrm;

	x->rmrec = calloc(x->nrm + 1, sizeof(*x->rmrec));
	x->addrec = calloc(n + 1, sizeof(*x->addrec));
	if (x->rmrec == NULL || x->addrec == NULL)
		return -1;
	for (i = 0; i < x->nrm; i++)
		if (p->items[x->rm[i]].rec != NULL)
			x->rmrec[x->nrmrec++] = p->items[x->rm[i]].rec;
	for (i = 0; i < n; i++)
		if (s->items[x->addidx[i]].rec != NULL)
			x->addrec[x->naddrec++] = s->items[x->addidx[i]].rec;
	qsort(x->rmrec, x->nrmrec, sizeof(*x->rmrec), ptr_qcmp);
	qsort(x->addrec, x->naddrec, sizeof(*x->addrec), rec_feed_qcmp);
	s->nfeed = s->nlive = p->nfeed - x->nrmrec + x->naddrec;
	if ((s->feed = calloc(s->nfeed + 1, sizeof(*s->feed))) == NULL)
		return -1;
	if (feed_merge(p->feed, p->nfeed, x->rmrec, x->nrmrec, x->addrec,
	    x->naddrec, s->feed) != s->nfeed)
		return -1;	/* a record to remove was not there */
	return 0;
}

/* The changes as removals (by old index) and new items. */
static int
next_collect(struct next *x, const struct snap_upd *u, size_t n)
{
	const struct snap_item	*old;
	size_t			 i, j;

	x->rm = calloc(n + 1, sizeof(*x->rm));
	x->add = calloc(n + 1, sizeof(*x->add));
	x->addidx = calloc(n + 1, sizeof(*x->addidx));
	if (x->rm == NULL || x->add == NULL || x->addidx == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((old = snap_item_find(x->p, u[i].id)) != NULL)
			x->rm[x->nrm++] = (size_t)(old - x->p->items);
		if (u[i].rec != NULL) {
			struct snap_item *it = &x->add[x->nadd++];

			it->rec = record_ref(u[i].rec);
			it->id = it->rec->id;
			it->datestamp = it->rec->datestamp;
			it->sets = (const char *const *)it->rec->sets;
			it->nsets = it->rec->nsets;
		} else if (u[i].tomb != NULL) {
			if (snap_add_tomb(&x->add[x->nadd], u[i].tomb) == -1)
				return -1;
			x->nadd++;
		}
	}
	qsort(x->rm, x->nrm, sizeof(*x->rm), size_qcmp);
	for (i = j = 0; i < x->nrm; i++)
		if (j == 0 || x->rm[j - 1] != x->rm[i])
			x->rm[j++] = x->rm[i];
	x->nrm = j;
	qsort(x->add, x->nadd, sizeof(*x->add), item_qcmp);
	return 0;
}

struct snap *
snap_next(const struct snap *p, const struct snap_upd *u, size_t n)
{
	struct next	 x;
	struct snap	*s;
	size_t		 i, total;
	int		 ok = 0;

	memset(&x, 0, sizeof(x));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->refs = 1;
	s->conf = conf_ref(p->conf);
	s->created = date_now();
	x.p = p;
	x.s = s;
	if (next_collect(&x, u, n) == -1)
		goto out;
	total = p->nitems - x.nrm + x.nadd;
	if ((x.map = malloc((p->nitems + 1) * sizeof(*x.map))) == NULL ||
	    (s->items = calloc(total + 1, sizeof(*s->items))) == NULL ||
	    (s->by_id = calloc(total + 1, sizeof(*s->by_id))) == NULL)
		goto out;
	next_items(&x);
	if (next_by_id(&x) == -1 || next_feed(&x) == -1 || next_sets(&x) == -1)
		goto out;
	if (s->nitems > 0) {
		s->earliest = s->items[0].datestamp;
		s->latest = s->items[s->nitems - 1].datestamp;
	}
	snap_finish(s);
	s->generation = __atomic_add_fetch(&snap_generation, 1,
	    __ATOMIC_RELAXED);
	ok = 1;
out:
	for (i = 0; i < x.nadd; i++)
		snap_item_unref(&x.add[i]);
	for (i = 0; i < p->nsets && x.set_items != NULL; i++)
		free(x.set_items[i].v);
	for (i = 0; i < p->nsets && x.set_recs != NULL; i++)
		free(x.set_recs[i].v);
	free(x.set_items);
	free(x.set_recs);
	free(x.set_hit);
	free(x.marks);
	free(x.rm);
	free(x.add);
	free(x.addidx);
	free(x.map);
	free(x.rmrec);
	free(x.addrec);
	if (!ok) {
		snap_release(s);
		return NULL;
	}
	return s;
}
