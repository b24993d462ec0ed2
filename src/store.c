#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "log.h"
#include "record.h"
#include "state.h"
#include "store.h"
#include "banned.h"

#define STORE_MAX_DEPTH	32

struct store_file {
	char		*path;
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 mtime_ns;
	off_t		 size;
	struct record	*rec;		/* last good version, or NULL */
	int		 is_invalid;	/* the bytes on disk do not parse */
	int		 seen;
};

struct store {
	struct conf		*conf;
	struct record_schema	*schema;
	struct state		 state;
	char			*state_path;
	unsigned char		 key[256];
	size_t			 keylen;
	struct store_file	*files;
	size_t			 nfiles, cap;
	size_t			*slots;	/* path index into files, +1 */
	size_t			 nslots;
	int			 flags;
};

int
store_wants(const char *path)
{
	const char	*base = strrchr(path, '/');
	size_t		 len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (base[0] == '.' || len < 5 || base[len - 1] == '~')
		return 0;
	return strcmp(base + len - 4, ".xml") == 0;
}

struct store *
store_new(struct conf *conf, int flags, struct err *e)
{
	struct store	*st;
	char		 path[4096];

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	st->conf = conf_ref(conf);
	st->flags = flags;
	state_init(&st->state);
	snprintf(path, sizeof(path), "%s/records.state", conf->state_dir);
	if ((st->state_path = strdup(path)) == NULL ||
	    (st->schema = record_schema_new(e)) == NULL) {
		store_free(st);
		return NULL;
	}
	if (flags & STORE_READONLY)
		return st;
	if (state_mkdirs(conf->state_dir, e) == -1 ||
	    state_load(&st->state, st->state_path, e) == -1 ||
	    state_token_key(conf->oai_token_key, conf->state_dir, st->key,
	    &st->keylen, e) == -1) {
		store_free(st);
		return NULL;
	}
	return st;
}

void
store_free(struct store *st)
{
	size_t	 i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nfiles; i++) {
		record_unref(st->files[i].rec);
		free(st->files[i].path);
	}
	free(st->files);
	free(st->slots);
	state_release(&st->state);
	record_schema_free(st->schema);
	free(st->state_path);
	conf_unref(st->conf);
	free(st);
}

void
store_set_conf(struct store *st, struct conf *conf)
{
	conf_ref(conf);
	conf_unref(st->conf);
	st->conf = conf;
}

const unsigned char *
store_token_key(const struct store *st, size_t *len)
{
	*len = st->keylen;
	return st->key;
}

size_t
store_ninvalid(const struct store *st)
{
	size_t	 i, n = 0;

	for (i = 0; i < st->nfiles; i++)
		n += st->files[i].is_invalid;
	return n;
}

static uint64_t
store_strhash(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void
store_index_put(struct store *st, size_t i)
{
	size_t	 j = store_strhash(st->files[i].path) & (st->nslots - 1);

	while (st->slots[j] != 0)
		j = (j + 1) & (st->nslots - 1);
	st->slots[j] = i + 1;
}

/* Rebuild the path index with room for at least want files. */
static int
store_reindex(struct store *st, size_t want)
{
	size_t	 i, n = 1024;

	while (n < want * 2)
		n *= 2;
	free(st->slots);
	if ((st->slots = calloc(n, sizeof(*st->slots))) == NULL) {
		st->nslots = 0;
		return -1;
	}
	st->nslots = n;
	for (i = 0; i < st->nfiles; i++)
		store_index_put(st, i);
	return 0;
}

static struct store_file *
store_file_find(struct store *st, const char *path)
{
	size_t	 j;

	if (st->nslots == 0)
		return NULL;
	j = store_strhash(path) & (st->nslots - 1);
	for (; st->slots[j] != 0; j = (j + 1) & (st->nslots - 1))
		if (strcmp(st->files[st->slots[j] - 1].path, path) == 0)
			return &st->files[st->slots[j] - 1];
	return NULL;
}

static struct store_file *
store_file_add(struct store *st, const char *path)
{
	struct store_file	*f;

	if (st->nfiles == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 256;
		f = realloc(st->files, st->cap * sizeof(*f));
		if (f == NULL)
			return NULL;
		st->files = f;
	}
	if ((st->nfiles + 1) * 2 > st->nslots &&
	    store_reindex(st, st->nfiles + 1) == -1)
		return NULL;
	f = &st->files[st->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		return NULL;
	store_index_put(st, st->nfiles++);
	return f;
}

/* (Re)read one file whose metadata changed; keep the last good record. */
static void
store_load_file(struct store *st, struct store_file *f, const struct stat *sb,
    struct err *e)
{
	struct record	*rec;
	char		*data = NULL;
	size_t		 len, max = st->conf->max_record_bytes;
	struct err	 fe;

	f->dev = sb->st_dev;
	f->ino = sb->st_ino;
	f->size = sb->st_size;
	f->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	    sb->st_mtim.tv_nsec;
	err_init(&fe);
	if (max == 0)
		max = RECORD_MAX_BYTES;
	if ((size_t)sb->st_size > max) {
		err_at(&fe, f->path, 0, 0, "file is larger than %zu bytes",
		    max);
		goto bad;
	}
	if (state_read_file(f->path, max + 1, &data, &len, &fe) == -1)
		goto bad;
	rec = record_parse_mem(st->schema, data, len, f->path, max, &fe);
	free(data);
	if (rec == NULL)
		goto bad;
	/* Same bytes as the version on line: keep the shared object. */
	if (f->rec != NULL && memcmp(f->rec->hash, rec->hash, HASH_LEN) == 0)
		record_unref(rec);
	else {
		record_unref(f->rec);
		f->rec = rec;
	}
	f->is_invalid = 0;
	err_release(&fe);
	return;
bad:
	f->is_invalid = 1;
	if (fe.all != NULL)
		err_set(e, "%.*s", (int)fe.alllen - 1, fe.all);
	else
		err_set(e, "%s", fe.msg);
	if (f->rec != NULL)
		err_set(e, "%s: keeping the last good version on line",
		    f->path);
	err_release(&fe);
}

static int
store_visit_file(struct store *st, const char *path, const struct stat *sb,
    struct err *e)
{
	struct store_file	*f;

	if ((f = store_file_find(st, path)) == NULL &&
	    (f = store_file_add(st, path)) == NULL)
		return err_set(e, "out of memory");
	f->seen = 1;
	if (f->dev == sb->st_dev && f->ino == sb->st_ino &&
	    f->size == sb->st_size && f->mtime_ns ==
	    (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec)
		return 0;
	store_load_file(st, f, sb, e);
	return 0;
}

static int
store_walk(struct store *st, const char *dir, int depth, struct err *e)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 path[4096];

	if (depth > STORE_MAX_DEPTH)
		return err_set(e, "%s: directories nested too deep", dir);
	if ((d = opendir(dir)) == NULL)
		return err_set(e, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		/* lstat: a symlinked directory could loop; files may link */
		if (lstat(path, &sb) == -1)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			store_walk(st, path, depth + 1, e);
			continue;
		}
		if (!store_wants(path) || stat(path, &sb) == -1 ||
		    !S_ISREG(sb.st_mode))
			continue;
		store_visit_file(st, path, &sb, e);
	}
	closedir(d);
	return 0;
}

static void
store_forget_unseen(struct store *st)
{
	size_t	 i, j;

	for (i = j = 0; i < st->nfiles; i++) {
		if (st->files[i].seen) {
			st->files[j++] = st->files[i];
			continue;
		}
		record_unref(st->files[i].rec);
		free(st->files[i].path);
	}
	if (j != st->nfiles) {
		st->nfiles = j;
		store_reindex(st, j);
	}
}

int
store_scan(struct store *st, struct err *e)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < st->nfiles; i++)
		st->files[i].seen = 0;
	rc = store_walk(st, st->conf->records_dir, 0, e);
	if (rc == -1 && st->nfiles == 0)
		return -1;
	store_forget_unseen(st);
	return 0;
}

/* A directory moved away takes its files with it, without events for them. */
static void
store_unsee_under(struct store *st, const char *dir)
{
	size_t	 i, len = strlen(dir);

	for (i = 0; i < st->nfiles; i++)
		if (strncmp(st->files[i].path, dir, len) == 0 &&
		    st->files[i].path[len] == '/')
			st->files[i].seen = 0;
}

int
store_update(struct store *st, const char *const *paths, size_t n,
    struct err *e)
{
	struct store_file	*f;
	struct stat		 sb;
	size_t			 i, k;

	for (i = 0; i < st->nfiles; i++)
		st->files[i].seen = 1;
	for (k = 0; k < n; k++) {
		if (lstat(paths[k], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			store_walk(st, paths[k], 0, e);
			continue;
		}
		if (!store_wants(paths[k]))
			continue;
		if (stat(paths[k], &sb) == 0 && S_ISREG(sb.st_mode)) {
			store_visit_file(st, paths[k], &sb, e);
			continue;
		}
		/* gone: a deletion, unless another file still has the id */
		if ((f = store_file_find(st, paths[k])) != NULL)
			f->seen = 0;
		store_unsee_under(st, paths[k]);
	}
	store_forget_unseen(st);
	return 0;
}

static int
file_path_cmp(const void *a, const void *b)
{
	const struct store_file	*const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

static int
chg_add_sets(struct store_changes *chg, char *const *sets, size_t nsets)
{
	size_t	 i, k, m;
	char	**p;

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
			p = realloc(chg->sets, (chg->nsets + 1) * sizeof(*p));
			if (p == NULL)
				return -1;
			chg->sets = p;
			if ((p[chg->nsets] = strndup(sets[i], k)) == NULL)
				return -1;
			chg->nsets++;
		}
	}
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
	memset(chg, 0, sizeof(*chg));
}

/*
 * Live records, one per id: when two files claim an id the one whose path
 * sorts first wins and the other is reported, so the choice is stable.
 */
static struct record **
store_live(struct store *st, size_t *nout, struct err *e)
{
	struct store_file	**byp;
	struct record		**recs;
	struct state_entry	*en;
	size_t			 i, n = 0;
	unsigned char		*taken;

	byp = calloc(st->nfiles + 1, sizeof(*byp));
	recs = calloc(st->nfiles + 1, sizeof(*recs));
	taken = calloc(st->state.n + st->nfiles + 1, 1);
	if (byp == NULL || recs == NULL || taken == NULL)
		goto fail;
	for (i = 0; i < st->nfiles; i++)
		byp[i] = &st->files[i];
	qsort(byp, st->nfiles, sizeof(*byp), file_path_cmp);
	for (i = 0; i < st->nfiles; i++) {
		struct record *rec = byp[i]->rec;

		if (rec == NULL)
			continue;
		if ((en = state_get(&st->state, rec->id)) == NULL)
			goto fail;
		if (taken[en - st->state.v]) {
			err_at(e, byp[i]->path, 0, 0,
			    "id '%s' is already used by another file; "
			    "left out", rec->id);
			continue;
		}
		taken[en - st->state.v] = 1;
		recs[n++] = rec;
	}
	free(byp);
	free(taken);
	*nout = n;
	return recs;
fail:
	free(byp);
	free(recs);
	free(taken);
	err_set(e, "out of memory");
	return NULL;
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
		if (en->datestamp == 0 || en->is_deleted ||
		    memcmp(en->hash, recs[i]->hash, HASH_LEN) != 0) {
			if (chg != NULL) {
				if (en->datestamp == 0 || en->is_deleted)
					chg->added++;
				else
					chg->changed++;
				if (chg_add_sets(chg, en->sets, en->nsets) ||
				    chg_add_sets(chg, (char *const *)
				    recs[i]->sets, recs[i]->nsets))
					return -1;
			}
			memcpy(en->hash, recs[i]->hash, HASH_LEN);
			en->datestamp = now;
			en->is_deleted = 0;
			if (state_set_sets(en, recs[i]->sets,
			    recs[i]->nsets) == -1)
				return -1;
			st->state.dirty = 1;
		}
		/* only a record no snapshot has seen yet gets written to */
		if (recs[i]->datestamp == 0)
			recs[i]->datestamp = en->datestamp;
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
	for (i = 0; i < st->state.n; i++) {
		struct state_entry *en = &st->state.v[i];

		if (live[i])
			continue;
		if (!en->is_deleted) {
			/* an id that was live and has no file any more */
			en->is_deleted = 1;
			en->datestamp = now;
			st->state.dirty = 1;
			if (chg != NULL) {
				chg->deleted++;
				chg_add_sets(chg, en->sets, en->nsets);
			}
		}
		tombs[n].id = en->id;
		tombs[n].datestamp = en->datestamp;
		tombs[n].sets = (const char *const *)en->sets;
		tombs[n].nsets = en->nsets;
		n++;
	}
	*ntombs = n;
	return tombs;
}

struct snap *
store_snapshot(struct store *st, struct store_changes *chg, struct err *e)
{
	struct record		**recs = NULL;
	struct snap_tomb	*tombs = NULL;
	unsigned char		*live = NULL;
	struct snap		*s = NULL;
	size_t			 nrecs = 0, ntombs = 0;
	int64_t			 now = date_now();
	struct err		 se;

	if (chg != NULL)
		memset(chg, 0, sizeof(*chg));
	if ((recs = store_live(st, &nrecs, e)) == NULL)
		goto out;
	if ((live = calloc(st->state.n + 1, 1)) == NULL ||
	    store_stamp(st, recs, nrecs, now, live, chg) == -1 ||
	    (tombs = store_tombs(st, live, now, &ntombs, chg)) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if (chg != NULL)
		chg->any = chg->added + chg->changed + chg->deleted > 0;
	if ((s = snap_new(st->conf, recs, nrecs, tombs, ntombs, e)) == NULL)
		goto out;
	s->ninvalid = store_ninvalid(st);
	if (st->state.dirty && !(st->flags & STORE_READONLY)) {
		err_init(&se);
		/* not fatal: serve anyway, the next change retries */
		if (state_save(&st->state, st->state_path, &se) == -1)
			log_warnx("cannot save state: %s", se.msg);
		err_release(&se);
	}
out:
	free(recs);
	free(tombs);
	free(live);
	return s;
}

size_t
store_check_ids(struct store *st, struct err *e)
{
	struct record	**recs;
	size_t		 n = 0;

	if ((recs = store_live(st, &n, e)) == NULL)
		return 0;
	free(recs);
	return n;
}
