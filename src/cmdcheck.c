/*
 * cmdcheck.c: "pubfeed check" (see cmdcheck.h).  The walk lists the files
 * (and the problems of the walk itself) in order; the files are then read
 * and checked with record_check_mem() on pool_io_threads() threads, each
 * file's problems kept with it, and printed in walk order once all are
 * done, so the output is the same whatever the thread count.  What needs
 * every file (ids used twice) is decided at the end, naming both files and
 * lines.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "cmdcheck.h"
#include "lint.h"
#include "pool.h"
#include "record.h"
#include "store.h"
#include "vec.h"
#include "banned.h"

#define CHECK_MAX_DEPTH	32

/* An id a good record claims, for the duplicate check at the end. */
struct check_id {
	char	*id;
	char	*path;
	long	 line;
};

/* One problem, kept until it is printed. */
struct check_msg {
	long			 line;
	int			 col;
	enum record_severity	 sev;
	char			*code;
	char			*msg;
};

/*
 * One item of the walk, in order: a file to check (its problems and the
 * id it claims are filled in by a worker), or a problem of the walk.
 */
struct check_item {
	char			*path;
	int			 is_file;
	struct check_msg	*msgs;
	size_t			 nmsgs, msgs_cap;
	int			 is_nomem;	/* a problem could not be kept */
	char			*id;		/* the id a good record claims */
	long			 id_line;
};

struct check {
	const struct cmdcheck_opts	*o;
	struct record_schema	*rs;
	size_t			 nerrors, nwarnings, nfiles;
	struct check_item	*items;
	size_t			 nitems, items_cap;
	struct check_id		*ids;
	size_t			 nids, idscap;
};

static void
check_print(struct check *c, const char *path, long line, int col,
    enum record_severity sev, const char *code, const char *msg)
{
	const char	*s = sev == RECORD_ERROR ? "error" : "warning";
	json_t		*j;
	char		*out;

	if (sev == RECORD_ERROR)
		c->nerrors++;
	else
		c->nwarnings++;
	if (c->o->is_json) {
		j = json_pack("{s:s, s:I, s:i, s:s, s:s, s:s}", "path", path,
		    "line", (json_int_t)line, "col", col, "severity", s,
		    "code", code, "message", msg);
		out = j != NULL ? json_dumps(j, JSON_COMPACT |
		    JSON_ENSURE_ASCII) : NULL;
		if (out != NULL)
			printf("%s\n", out);
		free(out);
		json_decref(j);
		return;
	}
	if (line > 0 && col > 0)
		printf("%s:%ld:%d: %s: %s\n", path, line, col, s, msg);
	else if (line > 0)
		printf("%s:%ld: %s: %s\n", path, line, s, msg);
	else
		printf("%s: %s: %s\n", path, s, msg);
}

/* Keep a problem of it->path (any worker: it is this worker's item). */
static void
item_add(struct check_item *it, long line, int col, enum record_severity sev,
    const char *code, const char *msg)
{
	struct check_msg	*m;

	if (vec_grow((void **)&it->msgs, &it->msgs_cap, it->nmsgs + 1,
	    sizeof(*it->msgs)) == -1) {
		it->is_nomem = 1;
		return;
	}
	m = &it->msgs[it->nmsgs];
	m->line = line;
	m->col = col;
	m->sev = sev;
	m->code = strdup(code);
	m->msg = strdup(msg);
	if (m->code == NULL || m->msg == NULL) {
		free(m->code);
		free(m->msg);
		it->is_nomem = 1;
		return;
	}
	it->nmsgs++;
}

static void
check_diag(void *arg, const struct record_diag *d)
{
	item_add(arg, d->line, d->col, d->severity, d->code, d->msg);
}

/* The walk's list: a copy of path, as a file to check or with a problem. */
static void
check_list(struct check *c, const char *path, int is_file, const char *why)
{
	struct check_item	*it;
	char			*copy = NULL;

	if (vec_grow((void **)&c->items, &c->items_cap, c->nitems + 1,
	    sizeof(*c->items)) == -1 || (copy = strdup(path)) == NULL) {
		fprintf(stderr, "pubfeed: %s: out of memory\n", path);
		c->nerrors++;
		return;
	}
	it = &c->items[c->nitems++];
	memset(it, 0, sizeof(*it));
	it->path = copy;
	it->is_file = is_file;
	if (why != NULL)
		item_add(it, 0, 0, RECORD_ERROR, "unreadable", why);
}

/* The line of the first occurrence of needle in buf, or 0. */
static long
line_of(const struct buf *b, const char *needle)
{
	const char	*p, *q;
	long		 line = 1;

	if ((p = memmem(b->data, b->len, needle, strlen(needle))) == NULL)
		return 0;
	for (q = b->data; q < p; q++)
		line += *q == '\n';
	return line;
}

/* Up to max + 1 bytes of path: more is "too large", said by the parser. */
static int
check_read(const char *path, struct buf *b, size_t max, char *why,
    size_t whysz)
{
	char	 chunk[65536];
	ssize_t	 n;
	int	 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_add(b, chunk, (size_t)n) == -1) {
			snprintf(why, whysz, "out of memory");
			goto out;
		}
		if (b->len > max)
			break;
	}
	if (n < 0) {
		snprintf(why, whysz, "cannot read: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Check one file of the list (pool.h: any worker thread). */
static void
check_file(void *arg, size_t worker, size_t k)
{
	struct check		*c = arg;
	struct check_item	*it = &c->items[k];
	const char		*path = it->path;
	const struct conf	*conf = c->o->conf;
	struct record		*r;
	struct buf		 b;
	size_t			 i, max = conf != NULL ?
				    conf->max_record_bytes : 0;
	char			 why[256], msg[ERR_MSG_MAX], needle[300];

	if (max == 0)
		max = RECORD_MAX_BYTES;
	buf_init(&b, max + 65536 + 1);
	if (check_read(path, &b, max, why, sizeof(why)) == -1) {
		item_add(it, 0, 0, RECORD_ERROR, "unreadable", why);
		goto out;
	}
	r = record_check_mem(c->rs, b.data != NULL ? b.data : "", b.len, path,
	    max, check_diag, it);
	if (r == NULL)
		goto out;
	/* harvester rules: warnings only (lint.h) */
	if (lint_record(r, b.data, b.len, check_diag, it) == -1)
		item_add(it, 0, 0, RECORD_ERROR, "out-of-memory",
		    "out of memory");
	for (i = 0; conf != NULL && i < r->nsets; i++)
		if (conf_set_check(conf, r->sets[i], msg, sizeof(msg)) == -1) {
			snprintf(needle, sizeof(needle), ">%s<", r->sets[i]);
			item_add(it, line_of(&b, needle), 0, RECORD_ERROR,
			    "unknown-set", msg);
		}
	snprintf(needle, sizeof(needle), "id=\"%s\"", r->id);
	it->id_line = line_of(&b, needle);
	if (it->id_line == 0) {
		snprintf(needle, sizeof(needle), "id='%s'", r->id);
		it->id_line = line_of(&b, needle);
	}
	if ((it->id = strdup(r->id)) == NULL)
		it->is_nomem = 1;
	record_unref(r);
out:
	buf_release(&b);
}

/* Print an item's problems and note the id it claims (main thread). */
static void
check_report(struct check *c, struct check_item *it)
{
	struct check_id	*ci;
	size_t		 i;

	c->nfiles += it->is_file;
	for (i = 0; i < it->nmsgs; i++) {
		check_print(c, it->path, it->msgs[i].line, it->msgs[i].col,
		    it->msgs[i].sev, it->msgs[i].code, it->msgs[i].msg);
		free(it->msgs[i].code);
		free(it->msgs[i].msg);
	}
	free(it->msgs);
	if (it->is_nomem)
		check_print(c, it->path, 0, 0, RECORD_ERROR, "out-of-memory",
		    "out of memory");
	if (it->id != NULL && vec_grow((void **)&c->ids, &c->idscap,
	    c->nids + 1, sizeof(*c->ids)) == 0) {
		ci = &c->ids[c->nids++];
		ci->id = it->id;
		ci->path = it->path;	/* the list lets go of both */
		ci->line = it->id_line;
	} else {
		free(it->id);
		free(it->path);
	}
}

static void
check_item_run(void *arg, size_t worker, size_t k)
{
	struct check	*c = arg;

	if (c->items[k].is_file)
		check_file(arg, worker, k);
}

static int
cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every record file under dir, in name order, as the store would see it. */
static void
check_dir(struct check *c, const char *dir, int depth)
{
	struct dirent	**ents = NULL;
	struct stat	 sb;
	char		 path[4096];
	int		 n, i;

	if (depth > CHECK_MAX_DEPTH ||
	    (n = scandir(dir, &ents, NULL, cmp_name)) == -1) {
		check_list(c, dir, 0, depth > CHECK_MAX_DEPTH ?
		    "directories nested too deep" : strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] == '.' || (size_t)snprintf(path,
		    sizeof(path), "%s/%s", dir, ents[i]->d_name) >=
		    sizeof(path))
			continue;
		if (ents[i]->d_type == DT_DIR ||
		    (ents[i]->d_type == DT_UNKNOWN && lstat(path, &sb) == 0 &&
		    S_ISDIR(sb.st_mode)))
			check_dir(c, path, depth + 1);
		else if (store_wants(path))
			check_list(c, path, 1, NULL);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

static int
cmp_id(const void *a, const void *b)
{
	const struct check_id	*x = a, *y = b;
	int			 d;

	if ((d = strcmp(x->id, y->id)) != 0)
		return d;
	return strcmp(x->path, y->path);
}

/* Ids claimed twice: each later file names the first one. */
static void
check_ids(struct check *c)
{
	char	 msg[ERR_MSG_MAX];
	size_t	 i, first = 0;

	if (c->nids < 2)
		return;
	qsort(c->ids, c->nids, sizeof(*c->ids), cmp_id);
	for (i = 1; i < c->nids; i++) {
		if (strcmp(c->ids[i].id, c->ids[first].id) != 0) {
			first = i;
			continue;
		}
		snprintf(msg, sizeof(msg), "id '%s' is already used by %s:%ld: "
		    "give one of the two records another id",
		    c->ids[i].id, c->ids[first].path, c->ids[first].line);
		check_print(c, c->ids[i].path, c->ids[i].line, 0,
		    RECORD_ERROR, "duplicate-id", msg);
	}
}

int
cmdcheck_run(const struct cmdcheck_opts *o)
{
	struct check	 c;
	struct stat	 sb;
	struct err	 e;
	size_t		 i;

	memset(&c, 0, sizeof(c));
	c.o = o;
	err_init(&e);
	if ((c.rs = record_schema_new(&e)) == NULL) {
		fprintf(stderr, "pubfeed: %s\n", e.msg);
		err_release(&e);
		return 1;
	}
	if (o->npaths == 0 && o->conf != NULL)
		check_dir(&c, o->conf->records_dir, 0);
	for (i = 0; i < o->npaths; i++) {
		if (stat(o->paths[i], &sb) == -1)
			check_list(&c, o->paths[i], 0, strerror(errno));
		else if (S_ISDIR(sb.st_mode))
			check_dir(&c, o->paths[i], 0);
		else
			check_list(&c, o->paths[i], 1, NULL);
	}
	pool_run(c.nitems, pool_io_threads(o->conf != NULL ? o->conf->threads :
	    0), check_item_run, &c);
	for (i = 0; i < c.nitems; i++)
		check_report(&c, &c.items[i]);
	free(c.items);
	check_ids(&c);
	if (!o->is_json)
		fprintf(stderr, "%zu error%s, %zu warning%s in %zu file%s\n",
		    c.nerrors, c.nerrors == 1 ? "" : "s", c.nwarnings,
		    c.nwarnings == 1 ? "" : "s", c.nfiles,
		    c.nfiles == 1 ? "" : "s");
	for (i = 0; i < c.nids; i++) {
		free(c.ids[i].id);
		free(c.ids[i].path);
	}
	free(c.ids);
	record_schema_free(c.rs);
	err_release(&e);
	return c.nerrors > 0 || (o->is_strict && c.nwarnings > 0);
}
