/*
 * store_replica.c: a replica's snapshot, with datestamps and tombstones
 * only from the primary's state (see STORE_REPLICA in store.h).
 */
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "snap.h"
#include "state.h"
#include "store.h"
#include "store_int.h"
#include "banned.h"

static int
file_path_cmp(const void *a, const void *b)
{
	const struct store_file	*const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* What this replica served last for an id, or NULL. */
static struct record *
store_replica_prev(const struct snap *prev, const char *id)
{
	const struct snap_item	*it;

	if (prev == NULL || (it = snap_item_find(prev, id)) == NULL)
		return NULL;
	return it->rec;
}

/*
 * Replica: one live record per state entry the primary marks live, with the
 * primary's datestamp (see STORE_REPLICA in store.h).  done[i] is set for
 * every entry a file answered.
 */
static int
store_replica_live(struct store *st, const struct snap *prev,
    struct record **recs, size_t *nrecs, unsigned char *done, struct err *e)
{
	struct store_file	**byp;
	struct state_entry	*en;
	struct record		*rec;
	size_t			 i, n = 0;

	if ((byp = calloc(st->nfiles + 1, sizeof(*byp))) == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < st->nfiles; i++)
		byp[i] = &st->files[i];
	qsort(byp, st->nfiles, sizeof(*byp), file_path_cmp);
	for (i = 0; i < st->nfiles; i++) {
		if ((rec = byp[i]->rec) == NULL ||
		    (en = state_find(&st->state, rec->id)) == NULL ||
		    en->datestamp == 0)
			continue;	/* not stamped by the primary yet */
		if (done[en - st->state.v]) {
			err_at(e, rec->path, 0, 0, "id '%s' is already "
			    "used by another file; left out", rec->id);
			continue;
		}
		done[en - st->state.v] = 1;
		if (en->is_deleted)
			continue;
		if (memcmp(en->hash, rec->hash, HASH_LEN) == 0 &&
		    (rec->datestamp == 0 || rec->datestamp == en->datestamp)) {
			rec->datestamp = en->datestamp;
			recs[n++] = rec;
			continue;
		}
		if (memcmp(en->hash, rec->hash, HASH_LEN) == 0) {
			/* same bytes, new datestamp (deleted, then back):
			 * parse the file again for a fresh record */
			record_unref(byp[i]->rec);
			byp[i]->rec = NULL;
			byp[i]->mtime_ns = -1;
		}
		if ((rec = store_replica_prev(prev, en->id)) != NULL)
			recs[n++] = rec;
	}
	free(byp);
	*nrecs = n;
	return 0;
}

struct snap *
store_replica_snapshot(struct store *st, struct store_changes *chg,
    struct err *e)
{
	struct snap		*prev = snap_current(), *s = NULL;
	struct record		**recs = NULL, *rec;
	struct snap_tomb	*tombs = NULL;
	unsigned char		*done = NULL;
	size_t			 i, nrecs = 0, ntombs = 0;

	if (state_reload(&st->state, 0, NULL, e) == -1)
		goto out;
	recs = calloc(st->nfiles + st->state.n + 1, sizeof(*recs));
	tombs = calloc(st->state.n + 1, sizeof(*tombs));
	done = calloc(st->state.n + 1, 1);
	if (recs == NULL || tombs == NULL || done == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if (store_replica_live(st, prev, recs, &nrecs, done, e) == -1)
		goto out;
	for (i = 0; i < st->state.n; i++) {
		struct state_entry *en = &st->state.v[i];

		if (en->is_deleted) {
			tombs[ntombs].id = en->id;
			tombs[ntombs].datestamp = en->datestamp;
			tombs[ntombs].sets = (const char *const *)en->sets;
			tombs[ntombs++].nsets = en->nsets;
		} else if (!done[i] && en->datestamp != 0 &&
		    (rec = store_replica_prev(prev, en->id)) != NULL)
			recs[nrecs++] = rec;	/* file gone here only */
	}
	if (chg != NULL)
		chg->any = 1;	/* replicas send no notifications */
	if ((s = snap_new(st->conf, recs, nrecs, tombs, ntombs, e)) != NULL) {
		s->ninvalid = store_ninvalid(st);
		s->first_import = st->state.first_import;
		store_since(st, s, 0);
	}
out:
	snap_release(prev);
	free(recs);
	free(tombs);
	free(done);
	return s;
}
