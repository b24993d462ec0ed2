/*
 * notify_outbox.c: the notify module's data — targets, the outbox and the
 * per-target status with their text forms — and the dispatch from a target
 * kind to its protocol file.  The text forms are line-based with
 * percent-encoded fields so that a URL or a reason can hold anything and a
 * damaged line costs that line only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_int.h"
#include "syntax.h"
#include "banned.h"

#define OUTBOX_MAGIC	"# pubfeed outbox 1"
#define STATUS_MAGIC	"# pubfeed notify status 1"
#define MAX_ATTEMPTS	1000
#define MAX_FIELDS	9

static const char *const kind_names[] = {
	[CONF_TARGET_WEBSUB] = "websub-hub",
	[CONF_TARGET_XMLRPC] = "xmlrpc-ping",
	[CONF_TARGET_PING_GET] = "ping-get",
	[CONF_TARGET_PING_POST] = "ping-post",
};

const char *
notify_kind_name(enum conf_target_kind k)
{
	if ((size_t)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "unknown";
	return kind_names[k];
}

int
notify_kind_parse(const char *s, enum conf_target_kind *k)
{
	size_t	 i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum conf_target_kind)i;
			return 0;
		}
	return -1;
}

/* NULL and "" are the same: the text forms cannot tell them apart. */
static int
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

int
notify_target_eq(const struct conf_target *a, const struct conf_target *b)
{
	return a->kind == b->kind && str_eq(a->url, b->url) &&
	    str_eq(a->body, b->body);
}

int
notify_target_copy(struct conf_target *dst, const struct conf_target *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	if ((dst->url = strdup(src->url)) == NULL ||
	    (src->body != NULL && (dst->body = strdup(src->body)) == NULL)) {
		notify_target_release(dst);
		return -1;
	}
	return 0;
}

void
notify_target_release(struct conf_target *t)
{
	free(t->url);
	free(t->body);
	t->url = t->body = NULL;
}

int
notify_pct_encode(struct buf *b, const char *s)
{
	return syntax_pct_encode(b, s);
}

int
notify_build(const struct conf_target *t, const char *topic,
    const struct notify_site *s, int phase, struct notify_msg *m,
    struct err *e)
{
	memset(m, 0, sizeof(*m));
	switch (t->kind) {
	case CONF_TARGET_WEBSUB:
		return notify_websub_build(t, topic, m, e);
	case CONF_TARGET_XMLRPC:
		return notify_xmlrpc_build(t, topic, s, phase, m, e);
	case CONF_TARGET_PING_GET:
	case CONF_TARGET_PING_POST:
		return notify_ping_build(t, topic, s, m, e);
	}
	return err_set(e, "unknown target kind %d", (int)t->kind);
}

void
notify_msg_release(struct notify_msg *m)
{
	free(m->url);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

enum notify_verdict
notify_judge(enum conf_target_kind k, int phase, long status,
    const char *body, size_t len, struct err *e)
{
	struct notify_xmlrpc_reply	 r;

	if (status < 200 || status > 299) {
		err_set(e, "HTTP %ld", status);
		return NOTIFY_FAIL;
	}
	if (k != CONF_TARGET_XMLRPC)
		return NOTIFY_OK;
	if (notify_xmlrpc_parse(body, len, &r, e) == -1)
		return NOTIFY_FAIL;
	if (!r.is_fault && !r.flerror)
		return NOTIFY_OK;
	err_set(e, "xml-rpc %s%s%s", r.is_fault ? "fault" : "flerror",
	    r.message[0] != '\0' ? ": " : "", r.message);
	return phase == 0 ? NOTIFY_FALLBACK : NOTIFY_FAIL;
}

/* Outbox */

void
notify_outbox_init(struct notify_outbox *ob)
{
	memset(ob, 0, sizeof(*ob));
}

void
notify_item_free(struct notify_item *it)
{
	if (it == NULL)
		return;
	notify_target_release(&it->t);
	free(it->topic);
	free(it);
}

void
notify_outbox_release(struct notify_outbox *ob)
{
	size_t	 i;

	for (i = 0; i < ob->n; i++)
		notify_item_free(ob->v[i]);
	free(ob->v);
	notify_outbox_init(ob);
}

struct notify_item *
notify_outbox_find(const struct notify_outbox *ob,
    const struct conf_target *t, const char *topic)
{
	size_t	 i;

	for (i = 0; i < ob->n; i++)
		if (strcmp(ob->v[i]->topic, topic) == 0 &&
		    notify_target_eq(&ob->v[i]->t, t))
			return ob->v[i];
	return NULL;
}

struct notify_item *
notify_outbox_add(struct notify_outbox *ob, const struct conf_target *t,
    const char *topic)
{
	struct notify_item	*it, **v;
	size_t			 ncap;

	if (ob->n == ob->cap) {
		ncap = ob->cap ? ob->cap * 2 : 16;
		if ((v = reallocarray(ob->v, ncap, sizeof(*v))) == NULL)
			return NULL;
		ob->v = v;
		ob->cap = ncap;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	if (notify_target_copy(&it->t, t) == -1 ||
	    (it->topic = strdup(topic)) == NULL) {
		notify_item_free(it);
		return NULL;
	}
	ob->v[ob->n++] = it;
	return it;
}

void
notify_outbox_remove(struct notify_outbox *ob, size_t i)
{
	notify_item_free(ob->v[i]);
	memmove(&ob->v[i], &ob->v[i + 1], (ob->n - i - 1) * sizeof(*ob->v));
	ob->n--;
}

/* Text forms */

/* A field: '-' for nothing, else the bytes with ' ', controls, '%' encoded. */
static int
field_put(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;

	if (buf_addch(b, ' ') == -1)
		return -1;
	if (s == NULL || *s == '\0')
		return buf_addch(b, '-');
	if (strcmp(s, "-") == 0)
		return buf_addstr(b, "%2D");
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c > 0x20 && c != 0x7f && c != '%') {
			if (buf_addch(b, (char)c) == -1)
				return -1;
		} else if (buf_printf(b, "%%%c%c", hex[c >> 4],
		    hex[c & 15]) == -1)
			return -1;
	}
	return 0;
}

static int
hexval(char c)
{
	return syntax_hexval((unsigned char)c);
}

/*
 * Decode a field in place; "-" becomes NULL.  -1 on a bad escape, a NUL or
 * an empty field (two spaces in a row: what we write is never empty).
 */
static int
field_get(char *s, char **out)
{
	char	*w = s;
	int	 hi, lo;

	*out = NULL;
	if (*s == '\0')
		return -1;
	if (strcmp(s, "-") == 0)
		return 0;
	for (*out = s; *s != '\0'; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if ((hi = hexval(s[1])) == -1 || (lo = hexval(s[2])) == -1 ||
		    (hi == 0 && lo == 0))
			return -1;
		*w++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*w = '\0';
	return 0;
}

static int
num_get(const char *s, uint64_t max, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Split the text into lines and each line into at most MAX_FIELDS
 * space-separated fields, calling fn for every line that is not blank or a
 * comment.  The first line must be magic.  Returns -1 if any line failed.
 */
static int
parse_lines(const char *buf, size_t len, const char *path, const char *magic,
    int (*fn)(void *, char **, int, const char *, int, struct err *),
    void *arg, struct err *e)
{
	char	*copy, *line, *next, *f[MAX_FIELDS + 1], *sp;
	int	 lineno = 0, nf, rc = 0;

	if ((copy = malloc(len + 1)) == NULL)
		return err_set(e, "out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (line = copy; line != NULL && line < copy + len; line = next) {
		lineno++;
		if ((next = memchr(line, '\n', (size_t)(copy + len - line))))
			*next++ = '\0';
		if (lineno == 1) {
			if (strcmp(line, magic) != 0) {
				rc = err_at(e, path, 1, 0, "not a pubfeed "
				    "file of this kind (expected '%s')", magic);
				break;
			}
			continue;
		}
		if (*line == '\0' || *line == '#')
			continue;
		if (strlen(line) != (size_t)((next ? next - 1 : copy + len) -
		    line)) {
			rc = err_at(e, path, lineno, 0, "NUL byte in line");
			continue;
		}
		for (nf = 0, sp = line; nf <= MAX_FIELDS && sp != NULL; nf++) {
			f[nf] = sp;
			if ((sp = strchr(sp, ' ')) != NULL)
				*sp++ = '\0';
		}
		if (sp != NULL || fn(arg, f, nf, path, lineno, e) == -1)
			rc = sp != NULL ? err_at(e, path, lineno, 0,
			    "too many fields") : -1;
	}
	free(copy);
	return rc;
}

static int
target_get(char **f, struct conf_target *t, const char *path, int lineno,
    struct err *e)
{
	memset(t, 0, sizeof(*t));
	if (notify_kind_parse(f[0], &t->kind) == -1)
		return err_at(e, path, lineno, 0, "unknown target kind '%s'",
		    f[0]);
	if (field_get(f[1], &t->url) == -1 || t->url == NULL ||
	    field_get(f[2], &t->body) == -1)
		return err_at(e, path, lineno, 0, "bad target URL or body");
	return 0;
}

static int
outbox_line(void *arg, char **f, int nf, const char *path, int lineno,
    struct err *e)
{
	struct notify_outbox	*ob = arg;
	struct notify_item	*it;
	struct conf_target	 t;
	char			*topic;
	uint64_t		 attempts, nb;

	if (nf != 6)
		return err_at(e, path, lineno, 0, "expected 6 fields, not %d",
		    nf);
	if (target_get(f, &t, path, lineno, e) == -1)
		return -1;
	if (field_get(f[3], &topic) == -1 || topic == NULL)
		return err_at(e, path, lineno, 0, "bad topic");
	if (num_get(f[4], MAX_ATTEMPTS, &attempts) == -1 ||
	    num_get(f[5], INT64_MAX, &nb) == -1)
		return err_at(e, path, lineno, 0, "bad attempt count or time");
	if (notify_outbox_find(ob, &t, topic) != NULL)
		return 0;	/* coalesce, as notify_changed() would */
	if ((it = notify_outbox_add(ob, &t, topic)) == NULL)
		return err_set(e, "out of memory");
	it->attempts = (int)attempts;
	it->not_before = (int64_t)nb;
	return 0;
}

int
notify_outbox_parse(struct notify_outbox *ob, const char *buf, size_t len,
    const char *path, struct err *e)
{
	return parse_lines(buf, len, path, OUTBOX_MAGIC, outbox_line, ob, e);
}

int
notify_outbox_serialize(const struct notify_outbox *ob, struct buf *b)
{
	const struct notify_item	*it;
	size_t				 i;

	if (buf_addstr(b, OUTBOX_MAGIC "\n") == -1)
		return -1;
	for (i = 0; i < ob->n; i++) {
		it = ob->v[i];
		if (buf_addstr(b, notify_kind_name(it->t.kind)) == -1 ||
		    field_put(b, it->t.url) == -1 ||
		    field_put(b, it->t.body) == -1 ||
		    field_put(b, it->topic) == -1 ||
		    buf_printf(b, " %d %" PRId64 "\n", it->attempts,
		    it->not_before < 0 ? 0 : it->not_before) == -1)
			return -1;
	}
	return 0;
}

/* Status */

void
notify_stats_init(struct notify_stats *st)
{
	memset(st, 0, sizeof(*st));
}

void
notify_stats_release(struct notify_stats *st)
{
	size_t	 i;

	for (i = 0; i < st->n; i++) {
		notify_target_release(&st->v[i].t);
		free(st->v[i].reason);
	}
	free(st->v);
	notify_stats_init(st);
}

struct notify_stat *
notify_stats_find(const struct notify_stats *st, const struct conf_target *t)
{
	size_t	 i;

	for (i = 0; i < st->n; i++)
		if (notify_target_eq(&st->v[i].t, t))
			return &st->v[i];
	return NULL;
}

struct notify_stat *
notify_stats_get(struct notify_stats *st, const struct conf_target *t)
{
	struct notify_stat	*s, *v;
	size_t			 ncap;

	if ((s = notify_stats_find(st, t)) != NULL)
		return s;
	if (st->n == st->cap) {
		ncap = st->cap ? st->cap * 2 : 8;
		if ((v = reallocarray(st->v, ncap, sizeof(*v))) == NULL)
			return NULL;
		st->v = v;
		st->cap = ncap;
	}
	s = &st->v[st->n];
	memset(s, 0, sizeof(*s));
	if (notify_target_copy(&s->t, t) == -1)
		return NULL;
	st->n++;
	return s;
}

static int
status_line(void *arg, char **f, int nf, const char *path, int lineno,
    struct err *e)
{
	struct notify_stats	*st = arg;
	struct notify_stat	*s;
	struct conf_target	 t;
	uint64_t		 n[5];
	char			*reason;
	int			 i;

	if (nf != 9)
		return err_at(e, path, lineno, 0, "expected 9 fields, not %d",
		    nf);
	if (target_get(f, &t, path, lineno, e) == -1)
		return -1;
	for (i = 0; i < 5; i++)
		if (num_get(f[3 + i], i < 3 ? UINT64_MAX : INT64_MAX,
		    &n[i]) == -1)
			return err_at(e, path, lineno, 0, "bad number '%s'",
			    f[3 + i]);
	if (field_get(f[8], &reason) == -1)
		return err_at(e, path, lineno, 0, "bad reason");
	if ((s = notify_stats_get(st, &t)) == NULL)
		return err_set(e, "out of memory");
	s->sent = n[0];
	s->failed = n[1];
	s->dropped = n[2];
	s->last_ok = (int64_t)n[3];
	s->last_fail = (int64_t)n[4];
	free(s->reason);
	s->reason = NULL;
	if (reason != NULL && (s->reason = strdup(reason)) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

int
notify_stats_parse(struct notify_stats *st, const char *buf, size_t len,
    const char *path, struct err *e)
{
	return parse_lines(buf, len, path, STATUS_MAGIC, status_line, st, e);
}

int
notify_stats_serialize(const struct notify_stats *st, struct buf *b)
{
	const struct notify_stat	*s;
	size_t				 i;

	if (buf_addstr(b, STATUS_MAGIC "\n") == -1)
		return -1;
	for (i = 0; i < st->n; i++) {
		s = &st->v[i];
		if (buf_addstr(b, notify_kind_name(s->t.kind)) == -1 ||
		    field_put(b, s->t.url) == -1 ||
		    field_put(b, s->t.body) == -1 ||
		    buf_printf(b, " %" PRIu64 " %" PRIu64 " %" PRIu64
		    " %" PRId64 " %" PRId64, s->sent, s->failed, s->dropped,
		    s->last_ok < 0 ? 0 : s->last_ok,
		    s->last_fail < 0 ? 0 : s->last_fail) == -1 ||
		    field_put(b, s->reason) == -1 || buf_addch(b, '\n') == -1)
			return -1;
	}
	return 0;
}
