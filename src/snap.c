/*
 * snap.c: a snapshot's life: the current pointer, references, lookups,
 * and the items' shared references (records, tombstone blocks).
 * Building is snap_build.c, documents snap_doc.c.
 */
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"
#include "snap_int.h"
#include "banned.h"

/*
 * The one piece of shared mutable state in the daemon.  The mutex guards
 * only "load the pointer and take a reference", so a reader can never pick
 * up a snapshot that is being freed; everything behind the pointer is
 * immutable and read without locks.
 */
static pthread_mutex_t	 snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap	*snap_cur;

int
snap_spec_covers(const char *set, const char *spec)
{
	size_t	 n = strlen(set);

	return strncmp(set, spec, n) == 0 &&
	    (spec[n] == '\0' || spec[n] == ':');
}

/*
 * A tombstone's id and sets live in one counted block that item->sets
 * points into, so successive snapshots share it (snap_next()).
 */
struct tomb_blk {
	int	 refs;
	char	*ptrs[];	/* sets, NULL, then the bytes */
};

static struct tomb_blk *
tomb_blk_of(const struct snap_item *it)
{
	return (struct tomb_blk *)(void *)((char *)(uintptr_t)it->sets -
	    offsetof(struct tomb_blk, ptrs));
}

int
snap_add_tomb(struct snap_item *it, const struct snap_tomb *t)
{
	size_t		 i, bytes = sizeof(struct tomb_blk) +
			    (t->nsets + 1) * sizeof(char *) + strlen(t->id) + 1;
	struct tomb_blk	*b;
	char		*p;

	for (i = 0; i < t->nsets; i++)
		bytes += strlen(t->sets[i]) + 1;
	if ((b = malloc(bytes)) == NULL)
		return -1;
	b->refs = 1;
	p = (char *)(b->ptrs + t->nsets + 1);
	for (i = 0; i < t->nsets; i++) {
		b->ptrs[i] = p;
		p = stpcpy(p, t->sets[i]) + 1;
	}
	b->ptrs[t->nsets] = NULL;
	stpcpy(p, t->id);
	it->id = p;
	it->datestamp = t->datestamp;
	it->rec = NULL;
	it->sets = (const char *const *)b->ptrs;
	it->nsets = t->nsets;
	return 0;
}

/* One more reference to what an item holds (its record or tombstone). */
void
snap_item_ref(struct snap_item *it)
{
	if (it->rec != NULL)
		record_ref(it->rec);
	else
		__atomic_add_fetch(&tomb_blk_of(it)->refs, 1, __ATOMIC_RELAXED);
}

void
snap_item_unref(struct snap_item *it)
{
	struct tomb_blk	*b;

	if (it->rec != NULL) {
		record_unref(it->rec);
		return;
	}
	b = tomb_blk_of(it);
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
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

	for (i = 0; i < s->nitems; i++)
		snap_item_unref(&s->items[i]);
	snap_docs_release(s);
	for (i = 0; i < s->nsets; i++) {
		free((void *)s->sets[i].spec);
		free(s->sets[i].items);
		free(s->sets[i].feed);
	}
	free(s->sets);
	free(s->items);
	free(s->by_id);
	free(s->feed);
	conf_unref(s->conf);
	free(s->render_ctx);
	free(s->rs_ctx);
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
	/*
	 * Building took and gave back far more than the snapshot keeps (the
	 * parse trees, render buffers, the old snapshot): hand the free pages
	 * back, or they stay in the RSS (glibc trims only the top of a heap).
	 * A few milliseconds at 100,000 records, once per snapshot.
	 */
	malloc_trim(0);
}
