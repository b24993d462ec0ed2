#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "date.h"
#include "fileio.h"
#include "log.h"
#include "record.h"
#include "state.h"
#include "store.h"
#include "banned.h"

#define STORE_MAX_DEPTH	32
#define STORE_MAX_THREADS 8	/* parsing threads at most */
#define STORE_PAR_MIN	64	/* fewer changed files: no threads */

/* A file to (re)read: its new metadata, then what reading it gave. */
struct store_load {
	size_t		 fidx;		/* into files */
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 mtime_ns;
	off_t		 size;
	int		 have_id;	/* looked at: the metadata above
					   is what gave rec */
	int		 is_skipped;	/* store_set_interrupt() */
	struct record	*rec;
	struct err	 fe;
};

struct store_file {
	char		*path;
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 mtime_ns;
	off_t		 size;
	struct record	*rec;		/* last good version, or NULL */
	int		 is_invalid;	/* the bytes on disk do not parse */
	int		 need_read;	/* the last read failed: read
					   again, whatever the metadata */
	int		 seen;
	/* incremental snapshots (store_snapshot_incr()) */
	size_t		 ent;		/* state index + 1 of the id rec
					   claimed in the last snapshot */
	int		 is_dirty;	/* rec replaced since then */
};

struct store {
	struct conf		*conf;
	struct record_schema	*schema;
	struct state		 state;
	unsigned char		 key[256];
	size_t			 keylen;
	struct store_file	*files;
	size_t			 nfiles, cap;
	size_t			*slots;	/* path index into files, +1 */
	size_t			 nslots;
	struct store_load	*loads;	/* files the walk found changed */
	char			*root_real;	/* realpath() of the
						   records directory */
	/* store_set_interrupt() */
	int			(*stop)(void *);
	void			*stop_arg;
	size_t			 nloads, loads_cap;
	int			 flags;
	int			 state_failing;	/* the last commit failed */
	/* records this build gave their first datestamp (undone on failure) */
	struct record		**stamped;
	size_t			 nstamped, stamped_cap;
	/*
	 * Incremental snapshots: the last snapshot made, how many files claim
	 * each state entry's id (as of that snapshot, minus the claims
	 * retracted since), the entries whose claim went away since, and
	 * whether the next snapshot must be built from scratch.
	 */
	struct snap		*last;
	size_t			*claims;
	size_t			 claims_cap;
	size_t			*retract;
	size_t			 nretract, retract_cap;
	int			 need_full;
};

/* Above this many changed ids a full build is as cheap. */
#define STORE_INCR_MAX	4096

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

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	st->conf = conf_ref(conf);
	st->flags = flags;
	state_init(&st->state);
	if ((st->schema = record_schema_new(e)) == NULL) {
		store_free(st);
		return NULL;
	}
	if (flags & STORE_READONLY)
		return st;
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
	if (fileio_mkdirs(conf->state_dir, e) == -1 ||
	    state_open(&st->state, conf->state_dir, 0, e) == -1 ||
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
	free(st->loads);
	free(st->root_real);
	free(st->claims);
	free(st->retract);
	free(st->stamped);
	snap_release(st->last);
	state_release(&st->state);
	record_schema_free(st->schema);
	conf_unref(st->conf);
	free(st);
}

void
store_set_conf(struct store *st, struct conf *conf)
{
	conf_ref(conf);
	conf_unref(st->conf);
	st->conf = conf;
	st->need_full = 1;
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

/*
 * f->rec is about to be replaced or dropped: its claim on its id (if the
 * last snapshot counted one) is withdrawn, and the next snapshot looks at
 * the id.  Two claims on one id (a duplicate) are left to the full path.
 */
static void
store_file_changed(struct store *st, struct store_file *f)
{
	size_t	*p, k;

	f->is_dirty = 1;
	if (f->ent == 0)
		return;
	k = f->ent - 1;
	f->ent = 0;
	if (k >= st->claims_cap || st->claims[k] != 1)
		st->need_full = 1;
	if (k < st->claims_cap && st->claims[k] > 0)
		st->claims[k]--;
	if (st->nretract == st->retract_cap) {
		st->retract_cap = st->retract_cap ? st->retract_cap * 2 : 64;
		p = realloc(st->retract, st->retract_cap * sizeof(*p));
		if (p == NULL) {
			st->need_full = 1;
			return;
		}
		st->retract = p;
	}
	st->retract[st->nretract++] = k;
}

/* path as messages show it: control bytes and bad UTF-8 escaped. */
static const char *
store_disp(const char *path, char *buf, size_t size)
{
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
	char		 disp[1024], real[PATH_MAX];
	int		 fd, fl, flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
			    O_NOCTTY | O_CLOEXEC;

	store_disp(path, disp, sizeof(disp));
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

/*
 * Read and parse one file: no store state is touched (worker threads).
 * A failure to get at the bytes (open, read) leaves ld->have_id 0, so the
 * file is read again at the next look; what the bytes or the descriptor's
 * metadata decided (invalid, too large, not a file) stays decided until
 * the file changes.
 */
static struct record *
store_read_one(const struct store *st, const char *path,
    struct store_load *ld, struct err *fe)
{
	struct record	*rec = NULL;
	struct buf	 b;
	char		 chunk[65536], disp[1024];
	size_t		 len, max = st->conf->max_record_bytes;
	ssize_t		 n;
	int		 fd;

	if (max == 0)
		max = RECORD_MAX_BYTES;
	ld->have_id = 0;
	if ((fd = store_open(st, path, ld, fe)) == -1)
		return NULL;
	store_disp(path, disp, sizeof(disp));
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
	rec = record_parse_mem(st->schema, b.data, len, disp, max, fe);
out:
	close(fd);
	buf_release(&b);
	return rec;
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
	}
	ld->rec = NULL;
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
	if (ld->fe.count > 0)
		err_merge(e, &ld->fe);
	else
		err_set(e, "%s: cannot be read", f->path);
	if (f->rec != NULL)
		err_set(e, "%s: keeping the last good version on line",
		    store_disp(f->path, disp, sizeof(disp)));
}

struct store_workers {
	struct store	*st;
	size_t		 next;		/* atomic: the next load to take */
	int		 stopped;	/* atomic: st->stop said so */
};

void
store_set_interrupt(struct store *st, int (*stop)(void *), void *arg)
{
	st->stop = stop;
	st->stop_arg = arg;
}

static void *
store_worker(void *arg)
{
	struct store_workers	*w = arg;
	struct store		*st = w->st;
	size_t			 i;

	while ((i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) <
	    st->nloads) {
		struct store_load *ld = &st->loads[i];

		if (__atomic_load_n(&w->stopped, __ATOMIC_RELAXED) ||
		    (st->stop != NULL && st->stop(st->stop_arg))) {
			__atomic_store_n(&w->stopped, 1, __ATOMIC_RELAXED);
			ld->is_skipped = 1;
			continue;
		}
		ld->rec = store_read_one(st, st->files[ld->fidx].path, ld,
		    &ld->fe);
	}
	return NULL;
}

/*
 * Read every file the walk found changed, then apply the results in walk
 * order (so messages come out as they always did).  Parsing and schema
 * validation are most of a start-up; with many files they run on every
 * core: each parse has its own libxml2 parser and validation contexts and
 * only reads the compiled schema, which libxml2 allows to share.
 */
static void
store_load_run(struct store *st, struct err *e)
{
	struct store_workers	 w = { st, 0, 0 };
	pthread_t		 tid[STORE_MAX_THREADS];
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t			 i, nt = 0, want;

	want = ncpu > 1 ? (size_t)ncpu : 1;
	if (want > STORE_MAX_THREADS)
		want = STORE_MAX_THREADS;
	if (st->nloads < STORE_PAR_MIN)
		want = 1;
	for (i = 1; i < want; i++)
		if (pthread_create(&tid[nt], NULL, store_worker, &w) == 0)
			nt++;
	store_worker(&w);
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < st->nloads; i++) {
		store_apply(st, &st->loads[i], e);
		err_release(&st->loads[i].fe);
	}
	st->nloads = 0;
}

/* Reading is deferred to store_load_run(). */
static int
store_visit_file(struct store *st, const char *path, const struct stat *sb,
    struct err *e)
{
	struct store_file	*f;
	struct store_load	*ld;
	int64_t			 mtime_ns = (int64_t)sb->st_mtim.tv_sec *
				    1000000000 + sb->st_mtim.tv_nsec;

	if ((f = store_file_find(st, path)) == NULL &&
	    (f = store_file_add(st, path)) == NULL)
		return err_set(e, "out of memory");
	f->seen = 1;
	if (!f->need_read && f->dev == sb->st_dev && f->ino == sb->st_ino &&
	    f->size == sb->st_size && f->mtime_ns == mtime_ns)
		return 0;
	if (st->nloads == st->loads_cap) {
		size_t cap = st->loads_cap ? st->loads_cap * 2 : 256;

		if ((ld = realloc(st->loads, cap * sizeof(*ld))) == NULL)
			return err_set(e, "out of memory");
		st->loads = ld;
		st->loads_cap = cap;
	}
	ld = &st->loads[st->nloads++];
	memset(ld, 0, sizeof(*ld));
	ld->fidx = (size_t)(f - st->files);
	ld->dev = sb->st_dev;
	ld->ino = sb->st_ino;
	ld->size = sb->st_size;
	ld->mtime_ns = mtime_ns;
	err_init(&ld->fe);
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

static int	store_walk(struct store *, const char *, int, struct err *);

/*
 * Look at one path of the tree: a directory is walked, a record file is
 * queued for reading (a symbolic link too: store_open() applies the rule),
 * anything else with a record's name is reported.  -1 after an error that
 * kept what is below path as it was.
 */
static int
store_look(struct store *st, const char *path, int depth, struct err *e)
{
	struct stat	 sb, tsb;
	char		 disp[1024];

	if (lstat(path, &sb) == -1) {
		if (store_is_gone(errno))
			return 0;	/* gone since: a deletion */
		store_keep(st, path);
		return err_at(e, store_disp(path, disp, sizeof(disp)), 0, 0,
		    "cannot look at: %s; keeping its records as they were",
		    strerror(errno));
	}
	if (S_ISDIR(sb.st_mode))
		return store_walk(st, path, depth + 1, e);
	if (!store_wants(path))
		return 0;
	if (S_ISLNK(sb.st_mode)) {
		if (stat(path, &tsb) == 0)
			sb = tsb;
		else if (errno == ENOENT)
			return err_at(e, store_disp(path, disp, sizeof(disp)),
			    0, 0, "symbolic link to a missing file; ignored");
		return store_visit_file(st, path, &sb, e);
	}
	if (!S_ISREG(sb.st_mode))
		return err_at(e, store_disp(path, disp, sizeof(disp)), 0, 0,
		    "not a regular file; ignored");
	return store_visit_file(st, path, &sb, e);
}

/*
 * Walk dir.  An I/O error anywhere (opendir, readdir, lstat) is reported
 * with the path and the reason, and everything known under that directory
 * keeps its last good state; -1 when dir itself could not be read.
 */
static int
store_walk(struct store *st, const char *dir, int depth, struct err *e)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[4096], disp[1024];
	int		 rc = 0;

	store_disp(dir, disp, sizeof(disp));
	if (depth > STORE_MAX_DEPTH) {
		store_keep(st, dir);
		return err_set(e, "%s: directories nested too deep", disp);
	}
	if ((d = opendir(dir)) == NULL) {
		if (depth > 0 && store_is_gone(errno))
			return 0;	/* removed since the parent was read */
		store_keep(st, dir);
		return err_set(e, "%s: cannot read directory: %s; keeping "
		    "its records as they were", disp, strerror(errno));
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				store_keep(st, dir);
				rc = err_set(e, "%s: cannot read directory: "
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
		store_look(st, path, depth, e);
	}
	closedir(d);
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
		record_unref(st->files[i].rec);
		free(st->files[i].path);
	}
	if (j != st->nfiles) {
		st->nfiles = j;
		store_reindex(st, j);
	}
}

/* The records directory as symbolic links are checked against. */
static void
store_root_real(struct store *st)
{
	free(st->root_real);
	st->root_real = realpath(st->conf->records_dir, NULL);
}

int
store_scan(struct store *st, struct err *e)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < st->nfiles; i++)
		st->files[i].seen = 0;
	store_root_real(st);
	rc = store_walk(st, st->conf->records_dir, 0, e);
	store_load_run(st, e);
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
	size_t			 i, k;

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
		store_look(st, paths[k], -1, e);
	}
	store_load_run(st, e);
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

/* Room in claims for every state entry; new ones start at 0. */
static int
store_claims_fit(struct store *st)
{
	size_t	*p, cap;

	if (st->state.n <= st->claims_cap)
		return 0;
	cap = st->state.n * 2 + 64;
	if ((p = realloc(st->claims, cap * sizeof(*p))) == NULL)
		return -1;
	memset(p + st->claims_cap, 0, (cap - st->claims_cap) * sizeof(*p));
	st->claims = p;
	st->claims_cap = cap;
	return 0;
}

/* Count every file's claim from scratch: the full path's bookkeeping. */
static int
store_claims_reset(struct store *st, const size_t *ent)
{
	size_t	 i;

	if (store_claims_fit(st) == -1)
		return -1;
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
			    "id '%s' is already used by another file; "
			    "left out", rec->id);
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
			    rec->nsets))
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
		if (st->nstamped == st->stamped_cap) {
			size_t ncap = st->stamped_cap * 2 + 64;
			struct record **p;

			if ((p = reallocarray(st->stamped, ncap,
			    sizeof(*p))) == NULL)
				return -1;
			st->stamped = p;
			st->stamped_cap = ncap;
		}
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

static struct snap *
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
	if ((s = snap_new(st->conf, recs, nrecs, tombs, ntombs, e)) != NULL)
		s->ninvalid = store_ninvalid(st);
out:
	snap_release(prev);
	free(recs);
	free(tombs);
	free(done);
	return s;
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
		if (n == cap) {
			struct store_aff *p;

			cap *= 2;
			if (cap > STORE_INCR_MAX * 2 ||
			    (p = realloc(aff, cap * sizeof(*aff))) == NULL)
				goto full;
			aff = p;
		}
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
	if ((s = store_snapshot_incr(st, now, chg)) == NULL &&
	    (s = store_snapshot_full(st, now, chg, e)) == NULL)
		return NULL;
	if (chg != NULL)
		chg->any = chg->added + chg->changed + chg->deleted > 0;
	s->ninvalid = store_ninvalid(st);
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
