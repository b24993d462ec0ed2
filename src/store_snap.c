/*
 * store_snap.c: the next snapshot from the current files: duplicate ids,
 * datestamps and tombstones, the incremental path's bookkeeping (claims),
 * and committing the state before anyone sees the snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "log.h"
#include "record.h"
#include "snap.h"
#include "state.h"
#include "store.h"
#include "store_int.h"
#include "vec.h"
#include "banned.h"

/* Above this many changed ids a full build is as cheap. */
#define STORE_INCR_MAX	4096

static int
chg_add_sets(struct store_changes *chg, char *const *sets, size_t nsets)
{
	size_t	 i, k, m;

	for (i = 0; chg != NULL && i < nsets; i++) {
		size_t len = strlen(sets[i]);

		for (k = 1; k <= len; k++) {
			if (sets[i][k] != ':' && sets[i][k] != '\0')
				continue;
			for (m = 0; m < chg->nsets; m++)
				if (strlen(chg->sets[m]) == k &&
				    strncmp(chg->sets[m], sets[i], k) == 0)
					break;
			if (m < chg->nsets)
				continue;
			if (vec_grow((void **)&chg->sets, &chg->sets_cap,
			    chg->nsets + 1, sizeof(*chg->sets)) == -1 ||
			    (chg->sets[chg->nsets] = strndup(sets[i], k)) ==
			    NULL)
				return -1;
			chg->nsets++;
		}
	}
	return 0;
}

static int
chg_add_id(struct store_changes *chg, const char *id)
{
	if (vec_grow((void **)&chg->ids, &chg->ids_cap, chg->nids + 1,
	    sizeof(*chg->ids)) == -1 ||
	    (chg->ids[chg->nids] = strdup(id)) == NULL)
		return -1;
	chg->nids++;
	return 0;
}

void
store_changes_release(struct store_changes *chg)
{
	size_t	 i;

	if (chg == NULL)
		return;
	for (i = 0; i < chg->nsets; i++)
		free(chg->sets[i]);
	free(chg->sets);
	for (i = 0; i < chg->nids; i++)
		free(chg->ids[i]);
	free(chg->ids);
	memset(chg, 0, sizeof(*chg));
}

/* Room in claims for every state entry; new ones start at 0. */
static int
store_claims_fit(struct store *st)
{
	size_t	 was = st->claims_cap;

	if (vec_grow((void **)&st->claims, &st->claims_cap, st->state.n,
	    sizeof(*st->claims)) == -1)
		return -1;
	if (st->claims_cap > was)	/* claims is NULL while both are 0 */
		memset(st->claims + was, 0, (st->claims_cap - was) *
		    sizeof(*st->claims));
	return 0;
}

/* Count every file's claim from scratch: the full path's bookkeeping. */
static int
store_claims_reset(struct store *st, const size_t *ent)
{
	size_t	 i;

	if (store_claims_fit(st) == -1)
		return -1;
	if (st->claims_cap > 0)
		memset(st->claims, 0, st->claims_cap * sizeof(*st->claims));
	for (i = 0; i < st->nfiles; i++) {
		struct store_file *f = &st->files[i];

		f->is_dirty = 0;
		f->ent = f->rec != NULL ? ent[i] + 1 : 0;
		if (f->rec != NULL)
			st->claims[ent[i]]++;
	}
	st->nretract = 0;
	return 0;
}

/*
 * Live records, one per id: when two files claim an id the one whose path
 * sorts first wins and the other is reported, so the choice is stable.
 * track: reset the incremental bookkeeping to what this finds.
 */
static struct record **
store_live(struct store *st, size_t *nout, int track, struct err *e)
{
	struct record		**recs;
	struct state_entry	*en;
	size_t			 i, n = 0, *owner, *ent;

	/*
	 * No sort by path: each id remembers the file that claims it with the
	 * smallest path, so this stays linear at 100k files.
	 */
	recs = calloc(st->nfiles + 1, sizeof(*recs));
	owner = calloc(st->state.n + st->nfiles + 1, sizeof(*owner));
	ent = calloc(st->nfiles + 1, sizeof(*ent));
	if (recs == NULL || owner == NULL || ent == NULL)
		goto fail;
	for (i = 0; i < st->nfiles; i++) {
		struct record *rec = st->files[i].rec;
		size_t k;

		if (rec == NULL)
			continue;
		if ((en = state_get(&st->state, rec->id)) == NULL)
			goto fail;
		k = ent[i] = (size_t)(en - st->state.v);
		if (owner[k] == 0 || strcmp(st->files[i].path,
		    st->files[owner[k] - 1].path) < 0)
			owner[k] = i + 1;
	}
	for (i = 0; i < st->nfiles; i++) {
		struct record *rec = st->files[i].rec;

		if (rec == NULL)
			continue;
		if (owner[ent[i]] != i + 1) {
			err_at(e, rec->path, 0, 0,	/* escaped */
			    "id '%s' is already used by %s; left out",
			    rec->id, st->files[owner[ent[i]] - 1].rec->path);
			continue;
		}
		recs[n++] = rec;
	}
	if (track && store_claims_reset(st, ent) == -1)
		goto fail;
	free(owner);
	free(ent);
	*nout = n;
	return recs;
fail:
	free(recs);
	free(owner);
	free(ent);
	err_set(e, "out of memory");
	return NULL;
}

/* A live record's datestamp: new or changed content gets now. */
static int
store_stamp_one(struct store *st, struct state_entry *en, struct record *rec,
    int64_t now, struct store_changes *chg)
{
	if (en->datestamp == 0 || en->is_deleted ||
	    memcmp(en->hash, rec->hash, HASH_LEN) != 0) {
		if (chg != NULL) {
			if (en->datestamp == 0 || en->is_deleted)
				chg->added++;
			else
				chg->changed++;
			if (chg_add_sets(chg, en->sets, en->nsets) ||
			    chg_add_sets(chg, (char *const *)rec->sets,
			    rec->nsets) || chg_add_id(chg, rec->id))
				return -1;
		}
		memcpy(en->hash, rec->hash, HASH_LEN);
		en->datestamp = now;
		en->is_deleted = 0;
		if (state_set_sets(en, rec->sets, rec->nsets) == -1 ||
		    state_touch(&st->state, en) == -1)
			return -1;
	}
	/* only a record no snapshot has seen yet gets written to */
	if (rec->datestamp == 0) {
		if (vec_grow((void **)&st->stamped, &st->stamped_cap,
		    st->nstamped + 1, sizeof(*st->stamped)) == -1)
			return -1;
		st->stamped[st->nstamped++] = rec;
		rec->datestamp = en->datestamp;
	}
	return 0;
}

/* An id no file has any more: a tombstone, dated when first seen gone. */
static int
store_tomb_one(struct store *st, struct state_entry *en, int64_t now,
    struct store_changes *chg, struct snap_tomb *t)
{
	if (!en->is_deleted) {
		en->is_deleted = 1;
		en->datestamp = now;
		if (state_touch(&st->state, en) == -1)
			return -1;
		if (chg != NULL) {
			chg->deleted++;
			chg_add_sets(chg, en->sets, en->nsets);
		}
	}
	t->id = en->id;
	t->datestamp = en->datestamp;
	t->sets = (const char *const *)en->sets;
	t->nsets = en->nsets;
	return 0;
}

/* Datestamps: new or changed content gets now; the rest keeps its own. */
static int
store_stamp(struct store *st, struct record **recs, size_t n, int64_t now,
    unsigned char *live, struct store_changes *chg)
{
	struct state_entry	*en;
	size_t			 i;

	for (i = 0; i < n; i++) {
		en = state_find(&st->state, recs[i]->id);
		live[en - st->state.v] = 1;
		if (store_stamp_one(st, en, recs[i], now, chg) == -1)
			return -1;
	}
	return 0;
}

static struct snap_tomb *
store_tombs(struct store *st, const unsigned char *live, int64_t now,
    size_t *ntombs, struct store_changes *chg)
{
	struct snap_tomb	*tombs;
	size_t			 i, n = 0;

	if ((tombs = calloc(st->state.n + 1, sizeof(*tombs))) == NULL)
		return NULL;
	for (i = 0; i < st->state.n; i++)
		if (!live[i] && store_tomb_one(st, &st->state.v[i], now, chg,
		    &tombs[n++]) == -1) {
			free(tombs);
			return NULL;
		}
	*ntombs = n;
	return tombs;
}

/* An id to look at in an incremental snapshot, and its claimant if any. */
struct store_aff {
	size_t		 k;	/* state index */
	struct record	*rec;	/* the changed file's record, or NULL */
};

static int
aff_cmp(const void *a, const void *b)
{
	const struct store_aff	*x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return (x->rec == NULL) - (y->rec == NULL);	/* claimants first */
}

/*
 * The ids to look at: those whose claim was retracted since the last
 * snapshot and those the changed files claim now (counted here).  NULL
 * when the full path must decide (a duplicate id is involved, too many).
 */
static struct store_aff *
store_affected(struct store *st, size_t *nout)
{
	struct store_aff	*aff;
	struct state_entry	*en;
	size_t			 i, n = 0, cap = st->nretract + 16;

	if ((aff = malloc(cap * sizeof(*aff))) == NULL)
		return NULL;
	for (i = 0; i < st->nretract; i++) {
		aff[n].k = st->retract[i];
		aff[n++].rec = NULL;
	}
	for (i = 0; i < st->nfiles && !st->need_full; i++) {
		struct store_file *f = &st->files[i];

		if (!f->is_dirty || f->rec == NULL)
			continue;
		if (n + 1 > STORE_INCR_MAX * 2 || vec_grow((void **)&aff, &cap,
		    n + 1, sizeof(*aff)) == -1)
			goto full;
		if ((en = state_get(&st->state, f->rec->id)) == NULL ||
		    store_claims_fit(st) == -1)
			goto full;
		aff[n].k = (size_t)(en - st->state.v);
		aff[n++].rec = f->rec;
		f->ent = aff[n - 1].k + 1;
		if (++st->claims[aff[n - 1].k] > 1)
			goto full;
	}
	if (st->need_full || n > STORE_INCR_MAX)
		goto full;
	*nout = n;
	return aff;
full:
	st->need_full = 1;
	free(aff);
	return NULL;
}

/*
 * The next snapshot from the last one and the files that changed since:
 * only the ids those files had or have are stamped and looked up, and
 * snap_next() merges them in.  NULL: build from scratch instead (nothing
 * is lost; what was stamped here stays stamped and is not counted twice).
 */
static struct snap *
store_snapshot_incr(struct store *st, int64_t now, struct store_changes *chg)
{
	struct store_aff	*aff;
	struct snap_upd		*upd = NULL;
	struct snap_tomb	*tombs = NULL;
	struct snap		*s = NULL;
	size_t			 i, n = 0, nu = 0;

	if (st->last == NULL || st->need_full || st->last->conf != st->conf ||
	    (aff = store_affected(st, &n)) == NULL)
		return NULL;
	qsort(aff, n, sizeof(*aff), aff_cmp);
	if ((upd = calloc(n + 1, sizeof(*upd))) == NULL ||
	    (tombs = calloc(n + 1, sizeof(*tombs))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		struct state_entry *en = &st->state.v[aff[i].k];

		if (i > 0 && aff[i].k == aff[i - 1].k)
			continue;
		upd[nu].id = en->id;
		if (aff[i].rec != NULL) {
			if (store_stamp_one(st, en, aff[i].rec, now, chg) == -1)
				goto out;
			upd[nu++].rec = aff[i].rec;
			continue;
		}
		if (st->claims[aff[i].k] != 0)
			goto out;	/* an unchanged file claims it */
		if (store_tomb_one(st, en, now, chg, &tombs[nu]) == -1)
			goto out;
		upd[nu].tomb = &tombs[nu];
		nu++;
	}
	if ((s = snap_next(st->last, upd, nu)) == NULL)
		goto out;
	for (i = 0; i < st->nfiles; i++)
		st->files[i].is_dirty = 0;
	st->nretract = 0;
out:
	if (s == NULL)
		st->need_full = 1;
	free(aff);
	free(upd);
	free(tombs);
	return s;
}

static struct snap *
store_snapshot_full(struct store *st, int64_t now, struct store_changes *chg,
    struct err *e)
{
	struct record		**recs = NULL;
	struct snap_tomb	*tombs = NULL;
	unsigned char		*live = NULL;
	struct snap		*s = NULL;
	size_t			 nrecs = 0, ntombs = 0;

	st->need_full = 1;	/* until this one is through */
	if ((recs = store_live(st, &nrecs, 1, e)) == NULL)
		goto out;
	if ((live = calloc(st->state.n + 1, 1)) == NULL ||
	    store_stamp(st, recs, nrecs, now, live, chg) == -1 ||
	    (tombs = store_tombs(st, live, now, &ntombs, chg)) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((s = snap_new(st->conf, recs, nrecs, tombs, ntombs, e)) != NULL)
		st->need_full = 0;
out:
	free(recs);
	free(tombs);
	free(live);
	return s;
}

/*
 * A commit failed: go back to what the database holds and build from
 * scratch next time, so the retry stamps the changes anew (with the time
 * they really go live) and reports them again.
 */
static void
store_rollback(struct store *st)
{
	struct err	 e;
	size_t		 i;

	for (i = 0; i < st->nstamped; i++)
		st->stamped[i]->datestamp = 0;
	st->nstamped = 0;
	err_init(&e);
	if (state_reload(&st->state, 1, NULL, &e) == -1) {
		/* the memory keeps the uncommitted values, still queued */
		log_warnx("state: %s", e.msg);
	}
	err_release(&e);
	st->nretract = 0;
	st->need_full = 1;
}

struct snap *
store_snapshot(struct store *st, struct store_changes *chg, struct err *e)
{
	struct snap	*s;
	int64_t		 now = date_now();
	struct err	 ce;

	if (chg != NULL)
		memset(chg, 0, sizeof(*chg));
	if (st->flags & STORE_REPLICA) {
		s = store_replica_snapshot(st, chg, e);
		st->state_failing = s == NULL;
		return s;
	}
	st->nstamped = 0;
	/* the first scan ever: what it finds was there before pubfeed */
	if (st->state.n == 0) {
		state_set_first_import(&st->state, now);
		if (chg != NULL)
			chg->is_first_import = 1;
	}
	if ((s = store_snapshot_incr(st, now, chg)) == NULL &&
	    (s = store_snapshot_full(st, now, chg, e)) == NULL)
		return NULL;
	if (chg != NULL)
		chg->any = chg->added + chg->changed + chg->deleted > 0;
	s->ninvalid = store_ninvalid(st);
	s->first_import = st->state.first_import;
	store_since(st, s, now);
	/* committed before anyone sees it: what was served stays served */
	if (!(st->flags & (STORE_READONLY | STORE_NOSAVE))) {
		err_init(&ce);
		if (state_commit(&st->state, &ce) == -1) {
			err_set(e, "cannot commit the state, the change is "
			    "not published: %s", ce.msg);
			err_release(&ce);
			snap_release(s);
			store_rollback(st);
			st->state_failing = 1;
			return NULL;
		}
		/* the parse cache replaced or removed by the commit */
		if (state_pcache_warning(&st->state, &ce) == -1)
			log_warnx("%s", ce.msg);
		err_release(&ce);
	}
	st->state_failing = 0;
	st->nstamped = 0;
	snap_release(st->last);
	st->last = snap_ref(s);
	return s;
}

int
store_state_failing(const struct store *st)
{
	return st->state_failing;
}

size_t
store_check_ids(struct store *st, struct err *e)
{
	struct record	**recs;
	size_t		 n = 0;

	if ((recs = store_live(st, &n, 0, e)) == NULL)
		return 0;
	free(recs);
	return n;
}
