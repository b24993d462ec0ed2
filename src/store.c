/*
 * store.c: the records tree: the store's life, the path index, walking the
 * tree and reading the files that changed (in parallel when many).
 * Snapshots are store_snap.c, the replica's store_replica.c.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "date.h"
#include "fileio.h"
#include "hash.h"
#include "log.h"
#include "pool.h"
#include "record.h"
#include "state.h"
#include "store.h"
#include "store_int.h"
#include "strmap.h"
#include "vec.h"
#include "banned.h"

#define STORE_MAX_DEPTH	32
#define STORE_PAR_MIN	64	/* fewer changed files: no threads */

/* 4 MB: 2,400 images of the 100k collection, 43 mappings */
size_t	store_pcseg_bytes = 4u << 20;

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

/*
 * 1 when a primary holds dir's lock (STATE_LOCK_NAME, see state.h).  A
 * shared lock cannot be had while it holds its exclusive one; ours is let
 * go at once, so a primary starting meanwhile is not stopped by it.
 */
static int
store_primary_running(const char *dir)
{
	char	 path[FILEIO_PATH_MAX];
	int	 fd, held;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STATE_LOCK_NAME) >= sizeof(path))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

static void	store_pc_add(void *, const char *,
		    const struct state_pcache *);
static void	store_pc_settle(struct store *);

struct store *
store_new(struct conf *conf, int flags, struct err *e)
{
	struct store	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	st->conf = conf_ref(conf);
	st->flags = flags;
	state_init(&st->state);
	err_init(&st->pc_err);
	if ((st->schema = record_schema_new(e)) == NULL) {
		store_free(st);
		return NULL;
	}
	if (flags & STORE_READONLY)
		return st;
	if ((flags & STORE_EXPORT) && store_primary_running(conf->state_dir))
		st->flags = flags |= STORE_NOSAVE;
	if (flags & (STORE_NOSAVE | STORE_REPLICA)) {
		/* never create anything in a directory that is not ours */
		if (state_open(&st->state, conf->state_dir, STATE_RDONLY,
		    e) == -1 ||
		    ((flags & STORE_REPLICA) && state_token_key(
		    conf->oai_token_key, conf->state_dir, st->key,
		    &st->keylen, e) == -1)) {
			store_free(st);
			return NULL;
		}
		return st;
	}
	/* the parse cache's rows load alongside the state (store_pc_add()) */
	st->pc_alongside = 1;
	if (fileio_mkdirs(conf->state_dir, e) == -1 ||
	    state_open_pcache(&st->state, conf->state_dir,
	    record_schema_validator(st->schema), store_pc_add, st, e) == -1 ||
	    state_token_key(conf->oai_token_key, conf->state_dir, st->key,
	    &st->keylen, e) == -1) {
		store_free(st);
		return NULL;
	}
	return st;
}

/*
 * The first scan is over: forget the rows as loaded.  Files keep only
 * has_pc: a file read again in this process has other metadata than its
 * row (that is why it is read), so it is validated anyway; keeping the
 * rows would cost 100 bytes per file for nothing.
 */
static void
store_pc_drop(struct store *st)
{
	size_t	 i;

	for (i = 0; i < st->nfiles; i++)
		st->files[i].pc_row = NULL;
	for (i = 0; i < st->npc; i++)
		free(st->pc[i].path);
	for (i = 0; i < st->npcseg; i++)
		if (st->pcseg[i].base != NULL)
			munmap(st->pcseg[i].base, st->pcseg[i].cap);
	free(st->pcseg);
	st->pcseg = NULL;
	st->npcseg = st->pcseg_cap = 0;
	st->pcseg_mapped = 0;
	free(st->pc);
	st->pc = NULL;
	st->npc = st->pc_cap = 0;
	strmap_release(&st->pc_index);
}

void
store_free(struct store *st)
{
	size_t	 i;

	if (st == NULL)
		return;
	store_pc_settle(st);	/* the rows' thread writes st->pc */
	store_pc_drop(st);
	for (i = 0; i < st->nfiles; i++) {
		record_unref(st->files[i].rec);
		free(st->files[i].path);
	}
	free(st->files);
	strmap_release(&st->index);
	free(st->loads);
	free(st->root_real);
	free(st->claims);
	free(st->retract);
	free(st->stamped);
	snap_release(st->last);
	state_release(&st->state);
	err_release(&st->pc_err);
	record_schema_free(st->schema);
	conf_unref(st->conf);
	free(st);
}

static int	 store_sets_ok(const struct conf *, const struct record *);

void
store_set_conf(struct store *st, struct conf *conf)
{
	size_t	 i;

	conf_ref(conf);
	conf_unref(st->conf);
	st->conf = conf;
	st->need_full = 1;
	/*
	 * Whether a record is valid depends on the configured sets: read again
	 * the files refused so far, and those on line naming a set that is no
	 * longer configured (refused now, their last good version stays).
	 */
	for (i = 0; i < st->nfiles; i++)
		if (st->files[i].is_invalid || (st->files[i].rec != NULL &&
		    !store_sets_ok(conf, st->files[i].rec)))
			st->files[i].need_read = 1;
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

/* Rebuild the path index after files moved (cannot fail: no growth). */
static void
store_reindex(struct store *st)
{
	size_t	 i;

	strmap_clear(&st->index);
	for (i = 0; i < st->nfiles; i++)
		strmap_put_str(&st->index, st->files[i].path, i);
}

static struct store_file *
store_file_find(struct store *st, const char *path)
{
	struct strmap_ent	*e;

	if ((e = strmap_find_str(&st->index, path)) == NULL)
		return NULL;
	return &st->files[e->val];
}

/* path, of length len and strmap_hash() h, as a new file of the index. */
static struct store_file *
store_file_add_h(struct store *st, const char *path, size_t len, uint64_t h)
{
	struct store_file	*f;

	if (vec_grow((void **)&st->files, &st->cap, st->nfiles + 1,
	    sizeof(*st->files)) == -1 ||
	    strmap_reserve(&st->index, st->nfiles + 1) == -1)
		return NULL;
	f = &st->files[st->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(f->path, path, len + 1);
	/* cannot fail: the room is reserved */
	strmap_put(&st->index, f->path, len, h, st->nfiles++);
	return f;
}

/*
 * f->rec is about to be replaced or dropped: its claim on its id (if the
 * last snapshot counted one) is withdrawn, and the next snapshot looks at
 * the id.  Two claims on one id (a duplicate) are left to the full path.
 */
static void
store_file_changed(struct store *st, struct store_file *f)
{
	size_t	 k;

	f->is_dirty = 1;
	if (f->ent == 0)
		return;
	k = f->ent - 1;
	f->ent = 0;
	if (k >= st->claims_cap || st->claims[k] != 1)
		st->need_full = 1;
	if (k < st->claims_cap && st->claims[k] > 0)
		st->claims[k]--;
	if (vec_grow((void **)&st->retract, &st->retract_cap, st->nretract + 1,
	    sizeof(*st->retract)) == -1) {
		st->need_full = 1;
		return;
	}
	st->retract[st->nretract++] = k;
}

/*
 * path as messages show it: control bytes and bad UTF-8 escaped.  Printable
 * ASCII is itself (every path of a usual tree): no copy, once per file read.
 */
static const char *
store_disp(const char *path, char *buf, size_t size)
{
	const char	*p;

	for (p = path; *p >= 0x20 && *p < 0x7f; p++)
		;
	if (*p == '\0' && (size_t)(p - path) < size)
		return path;
	return log_escape(path, buf, size);
}

/*
 * Symbolic links: a link is followed only when what it resolves to lies
 * inside the records tree (st->root_real), so a record can be shared
 * between two places in the tree but a link can never publish a file from
 * elsewhere (/etc/passwd, another user's home).  A link out of the tree, a
 * loop or a link to a missing file is an error for the link's path.  The
 * resolved path is opened without following links again.
 */
static int
store_resolve(const struct store *st, const char *path, char *out,
    struct err *fe)
{
	char	 disp[1024], *real;
	size_t	 n;

	if ((real = realpath(path, NULL)) == NULL)
		return err_at(fe, store_disp(path, disp, sizeof(disp)), 0, 0,
		    "cannot follow symbolic link: %s", strerror(errno));
	n = st->root_real != NULL ? strlen(st->root_real) : 0;
	if (n == 0 || strncmp(real, st->root_real, n) != 0 ||
	    real[n] != '/' || strlen(real) >= PATH_MAX) {
		free(real);
		return err_at(fe, store_disp(path, disp, sizeof(disp)), 0, 0,
		    "symbolic link points outside the records directory; "
		    "not followed");
	}
	memcpy(out, real, strlen(real) + 1);
	free(real);
	return 0;
}

/*
 * Open a record for reading.  O_NONBLOCK: a FIFO or device renamed over
 * the record since the walk looked cannot block the open; O_NOFOLLOW: a
 * symbolic link is resolved by the rule above, never implicitly.  Only a
 * regular file is accepted (checked on the descriptor, so it is the file
 * read), and ld's metadata becomes the descriptor's.
 */
static int
store_open(const struct store *st, const char *path, struct store_load *ld,
    struct err *fe)
{
	struct stat	 sb;
	char		 dbuf[1024], real[PATH_MAX];
	const char	*disp;
	int		 fd, fl, flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
			    O_NOCTTY | O_CLOEXEC;

	disp = store_disp(path, dbuf, sizeof(dbuf));
	if ((fd = open(path, flags)) == -1 && errno == ELOOP) {
		if (store_resolve(st, path, real, fe) == -1)
			return -1;
		fd = open(real, flags);
	}
	if (fd == -1)
		return err_at(fe, disp, 0, 0, "cannot open: %s",
		    strerror(errno));
	if (fstat(fd, &sb) == -1) {
		err_at(fe, disp, 0, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	ld->dev = sb.st_dev;
	ld->ino = sb.st_ino;
	ld->size = sb.st_size;
	ld->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
	    sb.st_mtim.tv_nsec;
	ld->ctime_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000 +
	    sb.st_ctim.tv_nsec;
	ld->have_id = 1;
	if (!S_ISREG(sb.st_mode)) {
		err_at(fe, disp, 0, 0, "not a regular file; ignored");
		close(fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		ld->have_id = 0;
		err_at(fe, disp, 0, 0, "cannot read: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when every set rec names is one conf allows (conf_set_check()). */
static int
store_sets_ok(const struct conf *conf, const struct record *rec)
{
	char	 msg[8];
	size_t	 i;

	for (i = 0; i < rec->nsets; i++)
		if (conf_set_check(conf, rec->sets[i], msg, sizeof(msg)) == -1)
			return 0;
	return 1;
}

/*
 * Sets are a closed list: a record naming a set spec that is not configured
 * (and "open-sets" is not on) is invalid, with pubfeed check's message,
 * so its last good version stays on line.  Returns rec, or NULL after
 * releasing it.
 */
static struct record *
store_check_sets(const struct conf *conf, struct record *rec,
    const struct buf *b, const char *disp, struct err *fe)
{
	char		 msg[512], needle[512];
	const char	*p, *q;
	size_t		 i;
	int		 line, bad = 0;

	for (i = 0; rec != NULL && i < rec->nsets; i++) {
		if (conf_set_check(conf, rec->sets[i], msg, sizeof(msg)) == 0)
			continue;
		snprintf(needle, sizeof(needle), ">%s<", rec->sets[i]);
		line = 0;
		if ((p = memmem(b->data, b->len, needle, strlen(needle))) !=
		    NULL)
			for (line = 1, q = b->data; q < p; q++)
				line += *q == '\n';
		err_at(fe, disp, line, 0, "%s", msg);
		bad = 1;
	}
	if (bad) {
		record_unref(rec);
		return NULL;
	}
	return rec;
}

/*
 * Read and parse one file: no store state is touched (worker threads).
 * A failure to get at the bytes (open, read) leaves ld->have_id 0, so the
 * file is read again at the next look; what the bytes or the descriptor's
 * metadata decided (invalid, too large, not a file) stays decided until
 * the file changes.
 */
/*
 * The record of the row's image, when the bytes are the row's (is_cached).
 * NULL: parse (no image, or a refused one: the row then gets a new one).
 */
static struct record *
store_read_image(const struct state_pcache *pc, struct store_load *ld,
    const char *disp)
{
	struct record	*rec;
	struct err	 ie;

	if (pc == NULL || pc->image == NULL)
		return NULL;
	err_init(&ie);
	rec = ld->is_cached ? record_image_decode(pc->image, pc->image_len,
	    disp, ld->hash, &ie) : NULL;
	err_release(&ie);
	return rec;
}

/*
 * The reader of r's file is done with its image (any worker thread; one
 * reader a row): the segment goes back with the last of its images.
 */
static void
store_pc_release(struct store *st, struct store_pcrow *r)
{
	struct store_pcseg	*g;

	if (r == NULL || r->row.image == NULL)
		return;
	g = &st->pcseg[r->seg];
	r->row.image = NULL;
	r->row.image_len = 0;
	if (__atomic_sub_fetch(&g->left, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	munmap(g->base, g->cap);
	g->base = NULL;
	__atomic_sub_fetch(&st->pcseg_mapped, g->cap, __ATOMIC_RELAXED);
}

static struct record *
store_read_one(const struct store *st, const char *path,
    const struct state_pcache *pc, struct store_load *ld, struct err *fe)
{
	struct record	*rec = NULL;
	struct buf	 b;
	char		 chunk[65536], dbuf[1024];
	const char	*disp;
	size_t		 len, max = st->conf->max_record_bytes;
	ssize_t		 n;
	int		 fd;

	if (max == 0)
		max = RECORD_MAX_BYTES;
	ld->have_id = 0;
	if ((fd = store_open(st, path, ld, fe)) == -1)
		return NULL;
	disp = store_disp(path, dbuf, sizeof(dbuf));
	buf_init(&b, max + 1);
	if ((size_t)ld->size > max) {
		err_at(fe, disp, 0, 0, "file is larger than %zu bytes", max);
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ld->have_id = 0;
			err_at(fe, disp, 0, 0, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (buf_add(&b, chunk, (size_t)n) == -1) {
			err_at(fe, disp, 0, 0, "file is larger than %zu bytes",
			    max);
			goto out;
		}
	}
	if (b.data == NULL && buf_add(&b, "", 0) == -1) {
		ld->have_id = 0;
		err_at(fe, disp, 0, 0, "out of memory");
		goto out;
	}
	len = b.len;
	/*
	 * The parse cache: XSD validation is skipped only for the very bytes
	 * that passed it before (their SHA-256, which the record needs
	 * anyway) read from the file while it had the same identity, size,
	 * mtime and ctime, under the same validator (pubfeed, libxml2 and
	 * schema; the rows loaded are of this one only).  Whatever the
	 * timestamps say, other bytes are validated.
	 */
	hash_sha256(b.data, len, ld->hash);
	ld->is_cached = pc != NULL && pc->dev == (int64_t)ld->dev &&
	    pc->ino == (int64_t)ld->ino && pc->size == (int64_t)len &&
	    pc->mtime_ns == ld->mtime_ns && pc->ctime_ns == ld->ctime_ns &&
	    memcmp(pc->hash, ld->hash, HASH_LEN) == 0;
	ld->is_parsed = 1;
	/* the same bytes of the same file: what parsing them gave before */
	if ((rec = store_read_image(pc, ld, disp)) != NULL)
		ld->is_image = 1;
	else
		rec = record_parse_known(st->schema, b.data, len, disp, max,
		    ld->hash, ld->is_cached, fe);
	rec = store_check_sets(st->conf, rec, &b, disp, fe);
out:
	close(fd);
	buf_release(&b);
	return rec;
}

/*
 * Keep f's parse_cache row in step with what reading it gave: valid bytes
 * that were validated get a row (the state commits it with the next
 * snapshot); bytes that did not make a record lose theirs.  A failure to
 * queue only makes the cache less complete, never wrong.
 */
static void
store_pc_note(struct store *st, struct store_file *f,
    const struct store_load *ld, const struct record *rec)
{
	struct state_pcache	 row;
	struct err		 ie;
	int			 is_good = rec != NULL;

	if (!ld->is_parsed)
		return;		/* the bytes were not looked at */
	if (!is_good) {
		if (f->has_pc && state_pcache_del(&st->state, f->path) == 0)
			f->has_pc = 0;
		return;
	}
	if (ld->is_image || st->state.db == NULL ||
	    (st->state.flags & STATE_RDONLY))
		return;		/* the row is this already, or read-only */
	memset(&row, 0, sizeof(row));
	/*
	 * Encoded here, one at a time, and copied into the state's queue:
	 * images made by the workers would lie between the records they
	 * parsed and leave 150 MB of holes there once committed.  Without
	 * an image (an encoding failure) the row still vouches for the
	 * bytes; the next start parses them and tries again.
	 */
	err_init(&ie);
	if (record_image_encode(rec, &row.image, &row.image_len, &ie) == -1)
		row.image = NULL;
	err_release(&ie);
	if (ld->is_cached && row.image == NULL)
		return;		/* the row is this already */
	row.dev = (int64_t)ld->dev;
	row.ino = (int64_t)ld->ino;
	row.size = (int64_t)ld->size;
	row.mtime_ns = ld->mtime_ns;
	row.ctime_ns = ld->ctime_ns;
	memcpy(row.hash, ld->hash, HASH_LEN);
	memcpy(row.validator, record_schema_validator(st->schema), HASH_LEN);
	if (state_pcache_put(&st->state, f->path, &row) == 0)
		f->has_pc = 1;
	free(row.image);
}

/* What reading a file whose metadata changed gave; keep the last good. */
static void
store_apply(struct store *st, struct store_load *ld, struct err *e)
{
	struct store_file	*f = &st->files[ld->fidx];
	struct record		*rec = ld->rec;
	char			 disp[1024];

	/*
	 * Only what was really looked at is remembered: after a failed read
	 * (EACCES, EMFILE, EIO) the next event, rescan or SIGHUP reads the
	 * file again even when its size and mtime are the same.
	 */
	f->need_read = !ld->have_id;
	if (ld->is_skipped)
		return;		/* interrupted: as if not looked at */
	if (ld->have_id) {
		f->dev = ld->dev;
		f->ino = ld->ino;
		f->size = ld->size;
		f->mtime_ns = ld->mtime_ns;
		f->ctime_ns = ld->ctime_ns;
	}
	ld->rec = NULL;
	if (ld->is_parsed && ld->is_cached)
		st->ncache_hits++;
	else if (ld->is_parsed)
		st->nvalidated++;
	store_pc_note(st, f, ld, rec);
	if (rec == NULL)
		goto bad;
	/* Same bytes as the version on line: keep the shared object. */
	if (f->rec != NULL && memcmp(f->rec->hash, rec->hash, HASH_LEN) == 0)
		record_unref(rec);
	else {
		store_file_changed(st, f);
		record_unref(f->rec);
		f->rec = rec;
	}
	f->is_invalid = 0;
	return;
bad:
	f->is_invalid = 1;
	if (ld->fe != NULL)
		err_merge(e, ld->fe);
	else
		err_set(e, "%s: cannot be read", f->path);
	if (f->rec != NULL)
		err_set(e, "%s: keeping the last good version on line",
		    store_disp(f->path, disp, sizeof(disp)));
}

struct store_workers {
	struct store	*st;
	const size_t	*order;		/* of the loads, or NULL */
	int		 stopped;	/* atomic: st->stop said so */
};

void
store_set_interrupt(struct store *st, int (*stop)(void *), void *arg)
{
	st->stop = stop;
	st->stop_arg = arg;
}

/* One file of the batch (pool.h: any worker thread). */
static void
store_work(void *arg, size_t worker, size_t i)
{
	struct store_workers	*w = arg;
	struct store		*st = w->st;
	struct store_load	*ld = &st->loads[i];
	struct store_file	*f;
	struct err		 fe;

	if (w->order != NULL)
		ld = &st->loads[w->order[i]];
	f = &st->files[ld->fidx];
	if (__atomic_load_n(&w->stopped, __ATOMIC_RELAXED) ||
	    (st->stop != NULL && st->stop(st->stop_arg))) {
		__atomic_store_n(&w->stopped, 1, __ATOMIC_RELAXED);
		ld->is_skipped = 1;
	} else {
		err_init(&fe);
		ld->rec = store_read_one(st, f->path, f->pc_row != NULL ?
		    &f->pc_row->row : NULL, ld, &fe);
		if (fe.count > 0 && (ld->fe = malloc(sizeof(*ld->fe))) != NULL)
			*ld->fe = fe;	/* moved, its messages with it */
		else
			err_release(&fe);
	}
	store_pc_release(st, f->pc_row);
}

/*
 * The order to read a first scan's files in: those with an image in the
 * rows' order (the images'), then the others, so the workers finish one
 * segment of images after the other and each is unmapped while the
 * records are being made.  NULL (no rows, or no memory): walk order.
 */
static size_t *
store_load_order(const struct store *st)
{
	struct store_pcrow	*r;
	size_t			*slot, *order, i, k, n = 0;

	if (st->npcseg == 0)
		return NULL;
	if ((order = reallocarray(NULL, st->nloads, sizeof(*order))) == NULL)
		return NULL;
	if ((slot = reallocarray(NULL, st->npc, sizeof(*slot))) == NULL) {
		free(order);
		return NULL;
	}
	for (k = 0; k < st->npc; k++)
		slot[k] = SIZE_MAX;
	for (i = 0; i < st->nloads; i++)
		if ((r = st->files[st->loads[i].fidx].pc_row) != NULL &&
		    r->row.image != NULL)
			slot[r - st->pc] = i;
	for (k = 0; k < st->npc; k++)
		if (slot[k] != SIZE_MAX)
			order[n++] = slot[k];
	for (i = 0; i < st->nloads; i++)
		if ((r = st->files[st->loads[i].fidx].pc_row) == NULL ||
		    r->row.image == NULL)
			order[n++] = i;
	free(slot);
	return order;
}

/*
 * Read every file the walk found changed, then apply the results in walk
 * order (so messages come out as they always did).  Parsing and schema
 * validation are most of a start-up; with many files they run on
 * pool_io_threads() threads: each parse has its own libxml2 parser and
 * validation contexts and only reads the compiled schema, which libxml2
 * allows to share.  The workers only read the store (files, their
 * parse_cache rows) and write their own load.
 */
static void
store_load_run(struct store *st, struct err *e)
{
	struct store_workers	 w = { st, NULL, 0 };
	size_t			*order, i, nt;

	nt = st->nloads < STORE_PAR_MIN ? 1 :
	    pool_io_threads(st->conf->threads);
	w.order = order = store_load_order(st);
	pool_run(st->nloads, nt, store_work, &w);
	free(order);
	for (i = 0; i < st->nloads; i++) {
		store_apply(st, &st->loads[i], e);
		err_release(st->loads[i].fe);
		free(st->loads[i].fe);
	}
	st->nloads = 0;
	/* a first scan's list is 120 bytes a file: 12 MB kept at 100k */
	free(st->loads);
	st->loads = NULL;
	st->loads_cap = 0;
}

/*
 * What a walk found, without a store (store_list_new()): in walk order,
 * the record files with their metadata and the paths whose records are
 * kept as they were (they could not be looked at), and the messages.
 */
struct store_lent {
	size_t		 off;		/* of the path in paths */
	size_t		 len;
	int		 is_keep;	/* store_keep(), not a file */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	int64_t		 mtime_ns, ctime_ns;
};

struct store_list {
	struct store_lent	*v;
	size_t			 n, cap;
	char			*paths;	/* NUL-terminated, one after the other */
	size_t			 plen, pcap;
	struct err		 e;
	int64_t			 ms;	/* how long the listing took */
	int			 rc;	/* -1: the root could not be read */
	int			 is_oom; /* something was not listed */
};

/* Reading is deferred to store_load_run(). */
static int
store_visit_file(struct store *st, const char *path,
    const struct store_lent *sb, struct err *e)
{
	struct store_file	*f;
	struct store_load	*ld;
	int64_t			 mtime_ns = sb->mtime_ns;
	int64_t			 ctime_ns = sb->ctime_ns;
	struct strmap_ent	*pe;
	size_t			 len = sb->len;
	uint64_t		 h = strmap_hash(path, len);

	/* one hash of the path for both maps */
	if ((pe = strmap_find(&st->index, path, len, h)) != NULL)
		f = &st->files[pe->val];
	else if ((f = store_file_add_h(st, path, len, h)) == NULL)
		return err_set(e, "out of memory");
	f->seen = 1;
	/* ctime too: a write that puts back size and mtime still moves it */
	if (!f->need_read && f->dev == sb->dev && f->ino == sb->ino &&
	    f->size == sb->size && f->mtime_ns == mtime_ns &&
	    f->ctime_ns == ctime_ns)
		return 0;
	if (vec_grow((void **)&st->loads, &st->loads_cap, st->nloads + 1,
	    sizeof(*st->loads)) == -1)
		return err_set(e, "out of memory");
	ld = &st->loads[st->nloads++];
	memset(ld, 0, sizeof(*ld));
	ld->fidx = (size_t)(f - st->files);
	ld->dev = sb->dev;
	ld->ino = sb->ino;
	ld->size = sb->size;
	ld->mtime_ns = mtime_ns;
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

/*
 * path could not be looked at (an I/O error, not an absence): every file
 * known at or below it keeps its last good state.  Never a deletion: a
 * transient EACCES or EIO must not turn records into tombstones.
 */
static void
store_keep(struct store *st, const char *path)
{
	struct store_file	*f;
	size_t			 i, len = strlen(path);

	if ((f = store_file_find(st, path)) != NULL)
		f->seen = 1;
	for (i = 0; i < st->nfiles; i++)
		if (strncmp(st->files[i].path, path, len) == 0 &&
		    st->files[i].path[len] == '/')
			st->files[i].seen = 1;
}

/* An absence rather than an error: the path (or a parent) is gone. */
static int
store_is_gone(int err)
{
	return err == ENOENT || err == ENOTDIR;
}

/* One entry more of l: a file (sb) or, sb NULL, a path to keep. */
static void
store_list_add(struct store_list *l, const char *path, const struct stat *sb)
{
	struct store_lent	*en;
	size_t			 len = strlen(path);

	if (vec_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) == -1 ||
	    vec_grow((void **)&l->paths, &l->pcap, l->plen + len + 1, 1) ==
	    -1) {
		l->is_oom = 1;
		return;
	}
	en = &l->v[l->n++];
	memset(en, 0, sizeof(*en));
	en->off = l->plen;
	en->len = len;
	memcpy(l->paths + l->plen, path, len + 1);
	l->plen += len + 1;
	if ((en->is_keep = sb == NULL))
		return;
	en->dev = sb->st_dev;
	en->ino = sb->st_ino;
	en->size = sb->st_size;
	en->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	    sb->st_mtim.tv_nsec;
	en->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 +
	    sb->st_ctim.tv_nsec;
}

static int	store_walk(struct store_list *, const char *, int);

/*
 * Look at one path of the tree: a directory is walked, a record file is
 * listed for reading (a symbolic link too: store_open() applies the rule),
 * anything else with a record's name is reported.  -1 after an error that
 * kept what is below path as it was.  name is path relative to the
 * directory dfd (the walk: no lookup of the whole path per file), or path
 * itself with AT_FDCWD.
 */
static int
store_look_at(struct store_list *l, int dfd, const char *name,
    const char *path, int depth)
{
	struct stat	 sb, tsb;
	char		 disp[1024];

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (store_is_gone(errno))
			return 0;	/* gone since: a deletion */
		store_list_add(l, path, NULL);
		return err_at(&l->e, store_disp(path, disp, sizeof(disp)), 0,
		    0, "cannot look at: %s; keeping its records as they were",
		    strerror(errno));
	}
	if (S_ISDIR(sb.st_mode))
		return store_walk(l, path, depth + 1);
	if (!store_wants(path))
		return 0;
	if (S_ISLNK(sb.st_mode)) {
		if (fstatat(dfd, name, &tsb, 0) == 0)
			sb = tsb;
		else if (errno == ENOENT)
			return err_at(&l->e, store_disp(path, disp,
			    sizeof(disp)), 0, 0,
			    "symbolic link to a missing file; ignored");
		store_list_add(l, path, &sb);
		return 0;
	}
	if (!S_ISREG(sb.st_mode))
		return err_at(&l->e, store_disp(path, disp, sizeof(disp)), 0,
		    0, "not a regular file; ignored");
	store_list_add(l, path, &sb);
	return 0;
}

/*
 * Walk dir.  An I/O error anywhere (opendir, readdir, lstat) is reported
 * with the path and the reason, and everything known under that directory
 * keeps its last good state; -1 when dir itself could not be read.
 */
static int
store_walk(struct store_list *l, const char *dir, int depth)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[4096], dbuf[1024];
	const char	*disp;
	int		 rc = 0;

	disp = store_disp(dir, dbuf, sizeof(dbuf));
	if (depth > STORE_MAX_DEPTH) {
		store_list_add(l, dir, NULL);
		return err_set(&l->e, "%s: directories nested too deep", disp);
	}
	if ((d = opendir(dir)) == NULL) {
		if (depth > 0 && store_is_gone(errno))
			return 0;	/* removed since the parent was read */
		store_list_add(l, dir, NULL);
		return err_set(&l->e, "%s: cannot read directory: %s; keeping "
		    "its records as they were", disp, strerror(errno));
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				store_list_add(l, dir, NULL);
				rc = err_set(&l->e, "%s: cannot read directory: "
				    "%s; keeping its records as they were",
				    disp, strerror(errno));
			}
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		/* lstat: a symlinked directory could loop; files may link */
		store_look_at(l, dirfd(d), de->d_name, path, depth);
	}
	closedir(d);
	return rc;
}

static struct store_list *
store_list_alloc(void)
{
	struct store_list	*l;

	if ((l = calloc(1, sizeof(*l))) != NULL)
		err_init(&l->e);
	return l;
}

struct store_list *
store_list_new(const char *dir)
{
	struct store_list	*l;

	int64_t			 t = date_mono_ms();

	if ((l = store_list_alloc()) == NULL)
		return NULL;
	l->rc = store_walk(l, dir, 0);
	l->ms = date_mono_ms() - t;
	return l;
}

int64_t
store_list_ms(const struct store_list *l)
{
	return l->ms;
}

void
store_list_free(struct store_list *l)
{
	if (l == NULL)
		return;
	err_release(&l->e);
	free(l->v);
	free(l->paths);
	free(l);
}

/*
 * What l found, into st, in walk order; its messages into e.  -1 when
 * something could not be listed (out of memory): then nothing may be
 * taken for gone.
 */
static int
store_list_apply(struct store *st, const struct store_list *l,
    struct err *e)
{
	size_t	 i;
	int	 rc = l->is_oom ? -1 : 0;

	if (l->e.count > 0)
		(void)err_merge(e, &l->e);
	if (l->is_oom)
		err_set(e, "out of memory: not every file was looked at");
	for (i = 0; i < l->n; i++) {
		const struct store_lent	*en = &l->v[i];

		if (en->is_keep)
			store_keep(st, l->paths + en->off);
		else if (store_visit_file(st, l->paths + en->off, en,
		    e) == -1)
			rc = -1;	/* not listed for reading: kept */
	}
	return rc;
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
		if (st->files[i].rec != NULL)
			store_file_changed(st, &st->files[i]);
		if (st->files[i].has_pc)
			state_pcache_del(&st->state, st->files[i].path);
		record_unref(st->files[i].rec);
		free(st->files[i].path);
	}
	if (j != st->nfiles) {
		st->nfiles = j;
		store_reindex(st);
	}
}

/* The records directory as symbolic links are checked against. */
static void
store_root_real(struct store *st)
{
	free(st->root_real);
	st->root_real = realpath(st->conf->records_dir, NULL);
}

/*
 * Room for len bytes of image at the end of the last segment, or a new
 * one (NULL: no memory; the row goes without its image).
 */
static struct store_pcseg *
store_pcseg_room(struct store *st, size_t len)
{
	struct store_pcseg	*g;
	size_t			 cap = store_pcseg_bytes;
	void			*p;

	if (st->npcseg > 0) {
		g = &st->pcseg[st->npcseg - 1];
		if (g->cap - g->len >= len)
			return g;
	}
	if (len > cap) {
		if (len > SIZE_MAX - 4095)
			return NULL;
		cap = (len + 4095) & ~(size_t)4095;
	}
	if (vec_grow((void **)&st->pcseg, &st->pcseg_cap, st->npcseg + 1,
	    sizeof(*st->pcseg)) == -1 || (p = mmap(NULL, cap, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
	    0)) == MAP_FAILED)
		return NULL;
	g = &st->pcseg[st->npcseg++];
	g->base = p;
	g->len = 0;
	g->cap = cap;
	g->left = 0;
	st->pcseg_mapped += cap;
	return g;
}

/* One parse_cache row of the database, kept until the first scan is over. */
static void
store_pc_add(void *arg, const char *path, const struct state_pcache *row)
{
	struct store		*st = arg;
	struct store_pcrow	*r;
	struct store_pcseg	*g;

	if (vec_grow((void **)&st->pc, &st->pc_cap, st->npc + 1,
	    sizeof(*st->pc)) == -1 ||
	    strmap_reserve(&st->pc_index, st->npc + 1) == -1)
		return;		/* not cached: validated again */
	r = &st->pc[st->npc];
	if ((r->path = strdup(path)) == NULL)
		return;
	if (strmap_put_str(&st->pc_index, r->path, st->npc)->val != st->npc) {
		free(r->path);	/* the same path twice: cannot be */
		return;
	}
	st->npc++;
	r->row = *row;
	r->row.image = NULL;
	r->row.image_len = 0;
	r->is_claimed = 0;
	/* copied: SQLite's memory goes with the next row */
	if (row->image != NULL && row->image_len > 0 &&
	    (g = store_pcseg_room(st, row->image_len)) != NULL) {
		r->row.image = g->base + g->len;
		r->row.image_len = row->image_len;
		memcpy(r->row.image, row->image, row->image_len);
		r->seg = (size_t)(g - st->pcseg);
		g->len += row->image_len;
		g->left++;
	}
}

/*
 * Before the first scan: the parse cache rows of this validator (a
 * primary's were loaded alongside the state by store_new(): only what that
 * gave is told here).  A cache that cannot be read is no cache (every file
 * is validated), reported but never fatal: it only ever saves work.
 */
static void
store_pc_load(struct store *st, struct err *e)
{
	int	 rc;

	if (st->pc_loaded || (st->flags & STORE_READONLY))
		return;
	st->pc_loaded = 1;
	if (st->pc_alongside) {
		store_pc_settle(st);
		rc = st->pc_rc;
	} else {
		int64_t	 t0 = date_mono_ms();

		rc = state_pcache_load(&st->state,
		    record_schema_validator(st->schema), store_pc_add, st,
		    &st->pc_err);
		st->pc_ms = date_mono_ms() - t0;
	}
	if (rc == -1) {
		err_set(e, "%s; validating every record file",
		    st->pc_err.msg);
		store_pc_drop(st);
	}
	err_clear(&st->pc_err);
}

/*
 * The rows loading alongside since store_new() are in: only now may this
 * thread look at st->pc (what that gave is told at the first scan).
 */
static void
store_pc_settle(struct store *st)
{
	if (!st->pc_alongside || st->pc_settled)
		return;
	st->pc_settled = 1;
	st->pc_rc = state_pcache_wait(&st->state, &st->pc_ms, &st->pc_err);
}

/*
 * Each file the walk saw takes its parse_cache row, if it has one and no
 * other file took it (the first scan, or a change before it): one probe,
 * with the hash the path index keeps.
 */
static void
store_pc_match(struct store *st)
{
	const struct strmap_ent	*ie, *pe;
	struct store_file	*f;
	size_t			 i;

	for (i = 0; st->npc > 0 && i < st->index.cap; i++) {
		ie = &st->index.v[i];
		if (ie->key == NULL)
			continue;
		f = &st->files[ie->val];
		if (f->has_pc || !f->seen || (pe = strmap_find(&st->pc_index,
		    ie->key, ie->len, ie->hash)) == NULL ||
		    st->pc[pe->val].is_claimed)
			continue;
		st->pc[pe->val].is_claimed = 1;
		f->pc_row = &st->pc[pe->val];
		f->has_pc = 1;
	}
}

/* After the first scan: rows of files that are gone go too. */
static void
store_pc_done(struct store *st, int is_whole)
{
	size_t	 i;

	for (i = 0; is_whole && i < st->npc; i++)
		if (!st->pc[i].is_claimed)
			state_pcache_del(&st->state, st->pc[i].path);
	store_pc_drop(st);
}

void
store_parse_counts(const struct store *st, uint64_t *validated,
    uint64_t *cache_hits)
{
	*validated = st->nvalidated;
	*cache_hits = st->ncache_hits;
}

int
store_rows_alongside(const struct store *st)
{
	return st->pc_alongside;
}

void
store_scan_times(const struct store *st, int64_t *rows, int64_t *walk,
    int64_t *read)
{
	*rows = st->scan_rows_ms;
	*walk = st->scan_walk_ms;
	*read = st->scan_read_ms;
}

int
store_scan(struct store *st, struct err *e)
{
	struct store_list	*l;
	int			 rc;

	if ((l = store_list_new(st->conf->records_dir)) == NULL)
		return err_set(e, "out of memory");
	rc = store_scan_listed(st, l, e);
	st->scan_walk_ms += l->ms;
	store_list_free(l);
	return rc;
}

int
store_scan_listed(struct store *st, struct store_list *l, struct err *e)
{
	size_t	 i;
	int64_t	 t0, t1, t2, t3;
	int	 rc, is_first;

	for (i = 0; i < st->nfiles; i++)
		st->files[i].seen = 0;
	is_first = !st->pc_loaded;
	store_root_real(st);
	/* a first scan: room for every file listed (a hint, may fail) */
	if (st->nfiles == 0 && l->n > 0 &&
	    vec_grow((void **)&st->files, &st->cap, l->n,
	    sizeof(*st->files)) == 0 &&
	    vec_grow((void **)&st->loads, &st->loads_cap, l->n,
	    sizeof(*st->loads)) == 0)
		(void)strmap_reserve(&st->index, l->n);
	t0 = date_mono_ms();
	rc = l->rc;
	if (store_list_apply(st, l, e) == -1)
		rc = -1;
	/*
	 * The rows loading alongside since store_new() are waited for only
	 * now: the listing is indexed meanwhile.
	 */
	t1 = date_mono_ms();
	store_pc_load(st, e);
	t2 = date_mono_ms();
	store_pc_match(st);
	t3 = date_mono_ms();
	store_load_run(st, e);
	/* the rows' own time (alongside: the thread's), then none */
	st->scan_rows_ms = is_first ? st->pc_ms : t2 - t1;
	/* the index, and the wait for the rows (the thread's rest) */
	st->scan_walk_ms = t3 - t0;
	st->scan_read_ms = date_mono_ms() - t3;
	store_pc_done(st, rc == 0);
	/*
	 * An unreadable records directory is an error, not the deletion of
	 * every record: tombstones are forever, and the last good files keep
	 * being served until the directory is back.
	 */
	if (rc == -1)
		return -1;
	store_forget_unseen(st);
	return 0;
}

int
store_update(struct store *st, const char *const *paths, size_t n,
    struct err *e)
{
	struct store_file	*f;
	struct store_list	*l;
	size_t			 i, k;

	store_pc_settle(st);	/* before the first scan: st->pc is ours */
	for (i = 0; i < st->nfiles; i++)
		st->files[i].seen = 1;
	store_root_real(st);
	for (k = 0; k < n; k++) {
		/*
		 * What was at or below the path goes unless the look finds
		 * it again (a deletion, a file no longer a record, files no
		 * longer under a replaced directory) or cannot look (kept).
		 */
		if ((f = store_file_find(st, paths[k])) != NULL)
			f->seen = 0;
		store_unsee_under(st, paths[k]);
		if ((l = store_list_alloc()) == NULL) {
			/* cannot look: kept as it was */
			store_keep(st, paths[k]);
			err_set(e, "out of memory");
			continue;
		}
		store_look_at(l, AT_FDCWD, paths[k], paths[k], -1);
		if (store_list_apply(st, l, e) == -1)
			store_keep(st, paths[k]);
		store_list_free(l);
	}
	store_pc_match(st);
	store_load_run(st, e);
	store_forget_unseen(st);
	return 0;
}

/* state_since() of "PREFIX" (spec NULL) or "PREFIX:SPEC"; 0 unknown. */
static int64_t
store_since_one(struct store *st, const char *prefix, const char *spec,
    const unsigned char d[HASH_LEN], int64_t now)
{
	char	 name[STATE_SINCE_NAME_MAX + 1];

	if (snprintf(name, sizeof(name), "%s%s%s", prefix, spec != NULL ?
	    ":" : "", spec != NULL ? spec : "") >= (int)sizeof(name))
		return 0;
	return state_since(&st->state, name, d, now);
}

void
store_since(struct store *st, struct snap *s, int64_t now)
{
	size_t	 i;

	s->tree_changed = store_since_one(st, "sets", NULL, s->tree_digest,
	    now);
	s->window_changed = store_since_one(st, "window", NULL,
	    s->window_digest, now);
	for (i = 0; i < s->nsets; i++) {
		struct snap_set	*set = &s->sets[i];

		set->tree_changed = set->has_tree ? store_since_one(st, "sets",
		    set->spec, set->tree_digest, now) : 0;
		set->window_changed = store_since_one(st, "window", set->spec,
		    set->window_digest, now);
	}
}
