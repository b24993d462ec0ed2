/*
 * notify_outbox.c: the notify module's data — targets, the outbox and the
 * per-target status — and the dispatch from a target kind to its protocol
 * file.  They are kept in the state database (notify.c, state.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_int.h"
#include "syntax.h"
#include "banned.h"


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
