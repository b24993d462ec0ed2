#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vec.h"
#include "watch.h"
#include "banned.h"

#define WATCH_MAX_DEPTH	32	/* as deep as the store walks */

/*
 * IN_CLOSE_WRITE rather than IN_MODIFY: one event per save, after the
 * writer is done.  IN_EXCL_UNLINK: a file unlinked while open elsewhere is
 * gone for us already, its later writes do not matter.
 */
#define WATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
			 IN_DELETE | IN_CREATE | IN_ATTRIB | IN_DELETE_SELF | \
			 IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

struct watch_dir {
	int	 wd;
	char	*path;
};

/* The root's parent: only the root's name appearing there matters. */
#define WATCH_PARENT_MASK (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)

struct watch {
	int			 fd;
	char			*root;
	char			*parent;	/* dirname(root) */
	char			*base;		/* basename(root) */
	int			 parent_wd;	/* -1: not watched */
	dev_t			 root_dev;	/* the root watched */
	ino_t			 root_ino;
	int			 root_wd;	/* -1: the root is lost */
	watch_filter		*wants;
	struct watch_dir	*dirs;	/* by wd */
	size_t			 ndirs, cap;
};

int
watch_fd(const struct watch *w)
{
	return w->fd;
}

const char *
watch_root(const struct watch *w)
{
	return w->root;
}

size_t
watch_ndirs(const struct watch *w)
{
	return w->ndirs;
}

/* Index of the first dir with wd >= the one asked for. */
static size_t
watch_dir_lower(const struct watch *w, int wd)
{
	size_t	 lo = 0, hi = w->ndirs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (w->dirs[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct watch_dir *
watch_dir_find(const struct watch *w, int wd)
{
	size_t	 i = watch_dir_lower(w, wd);

	return i < w->ndirs && w->dirs[i].wd == wd ? &w->dirs[i] : NULL;
}

/*
 * Remember wd -> path.  The kernel hands back the same wd for an inode it
 * already watches (a directory that moved): the new path replaces the old.
 * Returns 1 for a new watch, 0 for a known one, -1 without memory.
 */
static int
watch_dir_put(struct watch *w, int wd, const char *path)
{
	size_t			 i = watch_dir_lower(w, wd);
	char			*copy;

	if ((copy = strdup(path)) == NULL)
		return -1;
	if (i < w->ndirs && w->dirs[i].wd == wd) {
		free(w->dirs[i].path);
		w->dirs[i].path = copy;
		return 0;
	}
	if (vec_grow((void **)&w->dirs, &w->cap, w->ndirs + 1,
	    sizeof(*w->dirs)) == -1) {
		free(copy);
		return -1;
	}
	memmove(&w->dirs[i + 1], &w->dirs[i],
	    (w->ndirs - i) * sizeof(*w->dirs));
	w->dirs[i].wd = wd;
	w->dirs[i].path = copy;
	w->ndirs++;
	return 1;
}

static void
watch_dir_drop(struct watch *w, struct watch_dir *d)
{
	size_t	 i = (size_t)(d - w->dirs);

	free(d->path);
	memmove(&w->dirs[i], &w->dirs[i + 1],
	    (w->ndirs - i - 1) * sizeof(*w->dirs));
	w->ndirs--;
}

/* 1 when path is dir itself or below it. */
static int
watch_is_under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* A directory deleted or moved away: stop watching it and what is below. */
static void
watch_forget_tree(struct watch *w, const char *dir)
{
	size_t	 i = 0;

	while (i < w->ndirs) {
		if (!watch_is_under(w->dirs[i].path, dir)) {
			i++;
			continue;
		}
		/* fails harmlessly when the kernel dropped it already */
		inotify_rm_watch(w->fd, w->dirs[i].wd);
		watch_dir_drop(w, &w->dirs[i]);
	}
}

/*
 * Watch dir and every directory below it.  Returns how many watches were
 * new, or -1 when dir itself cannot be watched (it may be gone already:
 * the caller decides whether that matters).
 */
static int
watch_add_tree(struct watch *w, const char *dir, int depth, struct err *e)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 path[4096];
	uint32_t	 mask = WATCH_MASK;
	int		 wd, n, added;

	if (depth > WATCH_MAX_DEPTH)
		return 0;
	/* the root may be a symbolic link; below it the store does not follow */
	if (depth > 0)
		mask |= IN_DONT_FOLLOW;
	if ((wd = inotify_add_watch(w->fd, dir, mask)) == -1)
		return err_set(e, "%s: cannot watch: %s", dir,
		    errno == ENOSPC ? "too many watches (raise "
		    "fs.inotify.max_user_watches)" : strerror(errno));
	if ((added = watch_dir_put(w, wd, dir)) == -1)
		return err_set(e, "out of memory");
	if (depth == 0 && strcmp(dir, w->root) == 0) {
		w->root_wd = wd;
		if (stat(dir, &sb) == 0) {
			w->root_dev = sb.st_dev;
			w->root_ino = sb.st_ino;
		}
	}
	if ((d = opendir(dir)) == NULL)
		return added;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    (lstat(path, &sb) == -1 || !S_ISDIR(sb.st_mode)))
			continue;
		if ((n = watch_add_tree(w, path, depth + 1, e)) > 0)
			added += n;
	}
	closedir(d);
	return added;
}

/* Split the root: "a/b/" -> "a" + "b", "r" -> "." + "r", "/" -> "/" + "". */
static int
watch_parent_init(struct watch *w)
{
	char	*slash;
	size_t	 n = strlen(w->root);

	while (n > 1 && w->root[n - 1] == '/')
		n--;
	if ((w->parent = strndup(w->root, n)) == NULL)
		return -1;
	if ((slash = strrchr(w->parent, '/')) == NULL) {
		w->base = w->parent;
		return (w->parent = strdup(".")) == NULL ? -1 : 0;
	}
	if ((w->base = strdup(slash + 1)) == NULL)
		return -1;
	if (slash == w->parent)
		slash[1] = '\0';	/* "/srv" -> "/" */
	else
		*slash = '\0';
	return 0;
}

/*
 * Watch the root's parent for the root's name, so a records directory moved
 * away (or deleted) and back is watched again at once, without waiting for
 * a rescan.  Best effort: without it the next SIGHUP or rescan resyncs.
 */
static void
watch_parent_add(struct watch *w)
{
	int	 wd;

	if (w->parent_wd != -1 || w->base[0] == '\0')
		return;
	if ((wd = inotify_add_watch(w->fd, w->parent, WATCH_PARENT_MASK)) >= 0)
		w->parent_wd = wd;
}

struct watch *
watch_new(const char *root, watch_filter *wants, struct err *e)
{
	struct watch	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	w->wants = wants;
	w->parent_wd = w->root_wd = -1;
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		err_set(e, "inotify: %s", strerror(errno));
		free(w);
		return NULL;
	}
	if ((w->root = strdup(root)) == NULL ||
	    watch_parent_init(w) == -1) {
		err_set(e, "out of memory");
		goto fail;
	}
	if (watch_add_tree(w, root, 0, e) == -1)
		goto fail;
	watch_parent_add(w);
	return w;
fail:
	watch_free(w);
	return NULL;
}

void
watch_free(struct watch *w)
{
	size_t	 i;

	if (w == NULL)
		return;
	for (i = 0; i < w->ndirs; i++)
		free(w->dirs[i].path);
	free(w->dirs);
	if (w->fd != -1)
		close(w->fd);
	free(w->root);
	free(w->parent);
	free(w->base);
	free(w);
}

int
watch_resync(struct watch *w, struct err *e)
{
	watch_parent_add(w);
	return watch_add_tree(w, w->root, 0, e);
}

int
watch_root_lost(const struct watch *w)
{
	return w->root_wd == -1;
}

/* A whole-tree scan covers every path we would have listed. */
static void
watch_batch_rescan(struct watch_batch *b)
{
	size_t	 i;

	for (i = 0; i < b->npaths; i++)
		free(b->paths[i]);
	b->npaths = 0;
	b->rescan = 1;
}

static void
watch_batch_add(struct watch_batch *b, const char *path)
{
	if (b->rescan)
		return;
	if (b->npaths >= WATCH_MAX_PATHS)
		goto rescan;
	if (vec_grow((void **)&b->paths, &b->cap, b->npaths + 1,
	    sizeof(*b->paths)) == -1)
		goto rescan;
	if ((b->paths[b->npaths] = strdup(path)) == NULL)
		goto rescan;
	b->npaths++;
	return;
rescan:
	watch_batch_rescan(b);
}

/* A directory appeared, vanished, or its watch itself reports. */
static void
watch_dir_event(struct watch *w, struct watch_batch *b, uint32_t mask,
    const char *path)
{
	struct err	 e;

	if (mask & (IN_CREATE | IN_MOVED_TO)) {
		/*
		 * Files may land in it before the watch exists: the store
		 * walks the directory for those, after the watch is in place.
		 */
		err_init(&e);
		watch_add_tree(w, path, 1, &e);
		err_release(&e);
		watch_batch_add(b, path);
	} else if (mask & (IN_DELETE | IN_MOVED_FROM)) {
		watch_forget_tree(w, path);
		watch_batch_add(b, path);
	}
}

/* Start over from the root's name; the batch asks for a rescan. */
static void
watch_root_again(struct watch *w, struct watch_batch *b)
{
	struct err	 e;

	watch_forget_tree(w, w->root);
	w->root_wd = -1;
	err_init(&e);
	watch_add_tree(w, w->root, 0, &e);	/* -1: lost until back */
	err_release(&e);
	watch_batch_rescan(b);
	b->root_moved = 1;
}

static void
watch_parent_event(struct watch *w, struct watch_batch *b,
    const struct inotify_event *ev)
{
	struct stat	 sb;

	if (ev->mask & IN_IGNORED) {
		w->parent_wd = -1;	/* the parent went: SIGHUP resyncs */
		return;
	}
	if (ev->len == 0 || strcmp(ev->name, w->base) != 0)
		return;
	/* the directory already watched there (we got to it first) */
	if (w->root_wd != -1 && stat(w->root, &sb) == 0 &&
	    sb.st_dev == w->root_dev && sb.st_ino == w->root_ino)
		return;
	watch_root_again(w, b);
}

static void
watch_event(struct watch *w, struct watch_batch *b,
    const struct inotify_event *ev)
{
	struct watch_dir	*d;
	struct stat		 sb;
	char			 path[4096];
	int			 is_root;

	if (ev->mask & IN_Q_OVERFLOW) {
		watch_batch_rescan(b);
		b->lost = 1;
		return;
	}
	if (ev->wd == w->parent_wd) {
		watch_parent_event(w, b, ev);
		return;
	}
	if ((d = watch_dir_find(w, ev->wd)) == NULL)
		return;		/* queued before we dropped the watch */
	is_root = ev->wd == w->root_wd;
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
		/*
		 * Below the root the parent's event does the work.  The root
		 * itself gone, moved or unmounted: its paths mean nothing any
		 * more.  Watch the name again if something is there already;
		 * else the parent's watch sees it come back.
		 */
		if (!is_root) {
			if (ev->mask & IN_IGNORED)
				watch_dir_drop(w, d);
			return;
		}
		watch_root_again(w, b);
		return;
	}
	if (ev->len == 0 || ev->name[0] == '\0')
		return;
	if (snprintf(path, sizeof(path), "%s/%s", d->path, ev->name) >=
	    (int)sizeof(path))
		return;
	if (ev->mask & IN_ISDIR) {
		if (ev->name[0] != '.')
			watch_dir_event(w, b, ev->mask, path);
		return;
	}
	if (w->wants != NULL && !w->wants(path))
		return;
	/*
	 * A new file is reported when its writer closes it; only a new link
	 * (nothing will be written through it) counts on creation.
	 */
	if ((ev->mask & IN_CREATE) && (lstat(path, &sb) == -1 ||
	    (!S_ISLNK(sb.st_mode) && sb.st_nlink < 2)))
		return;
	watch_batch_add(b, path);
}

int
watch_read(struct watch *w, struct watch_batch *b, struct err *e)
{
	char			 buf[64 * 1024]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t			 n;
	char			*p;

	for (;;) {
		n = read(w->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return err_set(e, "inotify read: %s",
			    n == 0 ? "end of file" : strerror(errno));
		for (p = buf; p < buf + n;
		    p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			watch_event(w, b, ev);
		}
	}
}

int
watch_batch_pending(const struct watch_batch *b)
{
	return b->rescan || b->npaths > 0;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
watch_batch_take(struct watch_batch *b)
{
	size_t	 i, j;

	if (b->npaths < 2)
		return;
	qsort(b->paths, b->npaths, sizeof(*b->paths), path_cmp);
	for (i = j = 1; i < b->npaths; i++) {
		if (strcmp(b->paths[i], b->paths[j - 1]) == 0)
			free(b->paths[i]);
		else
			b->paths[j++] = b->paths[i];
	}
	b->npaths = j;
}

void
watch_batch_clear(struct watch_batch *b)
{
	size_t	 i;

	for (i = 0; i < b->npaths; i++)
		free(b->paths[i]);
	b->npaths = 0;
	b->rescan = 0;
	b->lost = 0;
	b->root_moved = 0;
}

void
watch_batch_release(struct watch_batch *b)
{
	watch_batch_clear(b);
	free(b->paths);
	b->paths = NULL;
	b->cap = 0;
}
