/*
 * notify_status.c: what each target has seen — the per-target status in
 * memory (saved with the outbox, notify_outbox.c) — and its two renderings,
 * the /status text and the Prometheus metrics.  Pure: the caller holds
 * whatever lock guards its arguments.  Contracts in notify_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "notify_int.h"
#include "vec.h"
#include "banned.h"

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
	struct notify_stat	*s;

	if ((s = notify_stats_find(st, t)) != NULL)
		return s;
	if (vec_grow((void **)&st->v, &st->cap, st->n + 1,
	    sizeof(*st->v)) == -1)
		return NULL;
	s = &st->v[st->n];
	memset(s, 0, sizeof(*s));
	if (notify_target_copy(&s->t, t) == -1)
		return NULL;
	st->n++;
	return s;
}

/* Rendering */

static void
fmt_time(int64_t t, char out[DATE_ISO_LEN])
{
	if (t <= 0)
		snprintf(out, DATE_ISO_LEN, "never");
	else
		date_fmt_iso(t, out);
}

/* Prometheus label value: \, " and newline escaped. */
static int
label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		if ((*s == '\\' || *s == '"') ? buf_printf(b, "\\%c", *s) :
		    *s == '\n' ? buf_addstr(b, "\\n") : buf_addch(b, *s))
			return -1;
	return 0;
}

static size_t
pending(const struct notify_outbox *ob, const struct conf_target *t)
{
	size_t	 i, k = 0;

	for (i = 0; i < ob->n; i++)
		k += notify_target_eq(&ob->v[i]->t, t);
	return k;
}

enum metric_field {
	M_SENT, M_FAILED, M_DROPPED, M_DOWN, M_PENDING, M_LAST_OK, M_LAST_FAIL
};

static const struct {
	const char		*name, *type, *help;
	enum metric_field	 field;
} metric_defs[] = {
	{ "pubfeed_notify_sent_total", "counter",
	    "Notifications a target acknowledged.", M_SENT },
	{ "pubfeed_notify_failed_total", "counter",
	    "Notification attempts that failed.", M_FAILED },
	{ "pubfeed_notify_dropped_total", "counter",
	    "Notifications given up (notify-max-attempts reached, or the "
	    "request cannot be built).", M_DROPPED },
	{ "pubfeed_notify_target_down", "gauge",
	    "1 while a target is failing, from its first failure to its "
	    "next success.", M_DOWN },
	{ "pubfeed_notify_pending", "gauge",
	    "Notifications waiting in the outbox.", M_PENDING },
	{ "pubfeed_notify_last_success_seconds", "gauge",
	    "When a target last acknowledged (0: never).", M_LAST_OK },
	{ "pubfeed_notify_last_failure_seconds", "gauge",
	    "When a target last failed (0: never).", M_LAST_FAIL },
};

static long long
metric_value(const struct notify_outbox *ob, const struct notify_stats *st,
    const struct conf_target *t, enum metric_field f)
{
	const struct notify_stat	*s = notify_stats_find(st, t);

	if (f == M_PENDING)
		return (long long)pending(ob, t);
	if (s == NULL)
		return 0;
	switch (f) {
	case M_SENT:
		return (long long)s->sent;
	case M_FAILED:
		return (long long)s->failed;
	case M_DROPPED:
		return (long long)s->dropped;
	case M_DOWN:
		return s->health.is_down;
	case M_LAST_OK:
		return s->last_ok;
	default:
		return s->last_fail;
	}
}

int
notify_status_metrics(const struct conf *c, const struct notify_outbox *ob,
    const struct notify_stats *st, struct buf *b)
{
	const struct conf_target	*t;
	size_t				 i, k;
	int				 rc = 0;

	for (k = 0; rc == 0 && k < sizeof(metric_defs) /
	    sizeof(metric_defs[0]); k++) {
		rc = buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n",
		    metric_defs[k].name, metric_defs[k].help,
		    metric_defs[k].name, metric_defs[k].type);
		for (i = 0; rc == 0 && i < c->ntargets; i++) {
			t = &c->targets[i];
			if (buf_printf(b, "%s{kind=\"%s\",target=\"",
			    metric_defs[k].name, notify_kind_name(t->kind)) ==
			    -1 || label(b, t->url) == -1 ||
			    buf_printf(b, "\"} %lld\n", metric_value(ob, st, t,
			    metric_defs[k].field)) == -1)
				rc = -1;
		}
	}
	return rc;
}

int
notify_status_text(const struct conf *c, const struct notify_outbox *ob,
    const struct notify_stats *st, struct buf *b)
{
	const struct conf_target	*t;
	const struct notify_stat	*s;
	char				 ok[DATE_ISO_LEN];
	char				 bad[DATE_ISO_LEN];
	size_t				 i;
	int				 rc = 0;

	if (c->ntargets == 0)
		rc = buf_addstr(b, "notify: no targets configured\n");
	for (i = 0; rc == 0 && i < c->ntargets; i++) {
		t = &c->targets[i];
		s = notify_stats_find(st, t);
		fmt_time(s ? s->last_ok : 0, ok);
		fmt_time(s ? s->last_fail : 0, bad);
		rc = buf_printf(b, "notify %s %s: last success %s, last "
		    "failure %s%s%s%s, sent %llu, failed %llu, dropped %llu, "
		    "pending %zu\n", notify_kind_name(t->kind), t->url, ok,
		    bad, s && s->reason && s->last_fail ? " (" : "",
		    s && s->reason && s->last_fail ? s->reason : "",
		    s && s->reason && s->last_fail ? ")" : "",
		    (unsigned long long)(s ? s->sent : 0),
		    (unsigned long long)(s ? s->failed : 0),
		    (unsigned long long)(s ? s->dropped : 0), pending(ob, t));
	}
	return rc;
}
