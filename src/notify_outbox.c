/*
 * notify_outbox.c: the outbox — the pending items in memory, and the
 * outbox and target_status tables of the state database (state.h) they
 * are saved to and loaded from.  Contracts in notify_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fileio.h"
#include "notify_int.h"
#include "state.h"
#include "vec.h"
#include "banned.h"

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
	struct notify_item	*it;

	if (vec_grow((void **)&ob->v, &ob->cap, ob->n + 1,
	    sizeof(*ob->v)) == -1)
		return NULL;
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

/* Persistence */

static int
bind_target(sqlite3_stmt *q, const struct conf_target *t)
{
	return sqlite3_bind_text(q, 1, notify_kind_name(t->kind), -1,
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, t->url, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 3, t->body != NULL ? t->body : "", -1,
	    SQLITE_STATIC) != SQLITE_OK ? -1 : 0;
}

/* The whole outbox: it is bounded by targets x topics. */
int
notify_outbox_save(sqlite3 **dbp, const char *state_dir,
    const struct notify_outbox *ob, const struct notify_stats *st,
    struct err *e)
{
	sqlite3_stmt	*q = NULL;
	size_t		 i;
	int		 rc = -1;
	sqlite3		*db;

	if (*dbp == NULL && (fileio_mkdirs(state_dir, e) == -1 ||
	    state_db_open(state_dir, 0, dbp, e) == -1))
		return -1;
	db = *dbp;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	if (ob != NULL) {
		if (sqlite3_exec(db, "DELETE FROM outbox", NULL, NULL,
		    NULL) != SQLITE_OK || sqlite3_prepare_v2(db,
		    "INSERT OR REPLACE INTO outbox (kind, url, body, topic, "
		    "attempts, not_before) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		    -1, &q, NULL) != SQLITE_OK)
			goto fail;
		for (i = 0; i < ob->n; i++) {
			const struct notify_item *it = ob->v[i];

			sqlite3_reset(q);
			if (bind_target(q, &it->t) == -1 ||
			    sqlite3_bind_text(q, 4, it->topic, -1,
			    SQLITE_STATIC) != SQLITE_OK ||
			    sqlite3_bind_int(q, 5, it->attempts) != SQLITE_OK ||
			    sqlite3_bind_int64(q, 6, it->not_before < 0 ? 0 :
			    it->not_before) != SQLITE_OK ||
			    sqlite3_step(q) != SQLITE_DONE)
				goto fail;
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	if (st != NULL) {
		if (sqlite3_exec(db, "DELETE FROM target_status", NULL,
		    NULL, NULL) != SQLITE_OK || sqlite3_prepare_v2(db,
		    "INSERT OR REPLACE INTO target_status (kind, url, body, "
		    "sent, failed, dropped, last_ok, last_fail, reason) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &q,
		    NULL) != SQLITE_OK)
			goto fail;
		for (i = 0; i < st->n; i++) {
			const struct notify_stat *s = &st->v[i];

			sqlite3_reset(q);
			if (bind_target(q, &s->t) == -1 ||
			    sqlite3_bind_int64(q, 4, (int64_t)s->sent) !=
			    SQLITE_OK ||
			    sqlite3_bind_int64(q, 5, (int64_t)s->failed) !=
			    SQLITE_OK ||
			    sqlite3_bind_int64(q, 6, (int64_t)s->dropped) !=
			    SQLITE_OK ||
			    sqlite3_bind_int64(q, 7, s->last_ok) != SQLITE_OK ||
			    sqlite3_bind_int64(q, 8, s->last_fail) !=
			    SQLITE_OK ||
			    (s->reason != NULL ? sqlite3_bind_text(q, 9,
			    s->reason, -1, SQLITE_STATIC) :
			    sqlite3_bind_null(q, 9)) != SQLITE_OK ||
			    sqlite3_step(q) != SQLITE_DONE)
				goto fail;
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	err_set(e, "%s: %s", sqlite3_db_filename(db, NULL),
	    sqlite3_errmsg(db));
	sqlite3_finalize(q);
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* A row's target; -1 with a message for a row of an unknown kind. */
static int
load_target(sqlite3_stmt *q, struct conf_target *t, struct err *e)
{
	const char	*kind = (const char *)sqlite3_column_text(q, 0);

	memset(t, 0, sizeof(*t));
	t->url = (char *)sqlite3_column_text(q, 1);
	t->body = (char *)sqlite3_column_text(q, 2);
	if (t->body != NULL && *t->body == '\0')
		t->body = NULL;
	if (kind == NULL || t->url == NULL ||
	    notify_kind_parse(kind, &t->kind) == -1)
		return err_set(e, "%s: ignoring a row with target kind '%s'",
		    sqlite3_db_filename(sqlite3_db_handle(q), NULL),
		    kind != NULL ? kind : "");
	return 0;
}

int
notify_outbox_load(sqlite3 **dbp, const char *state_dir,
    struct notify_outbox *ob, struct notify_stats *st, struct err *e)
{
	sqlite3_stmt		*q = NULL;
	struct notify_item	*it;
	struct notify_stat	*s;
	struct conf_target	 t;
	char			 path[4096];
	const char		*topic, *reason;
	int			 count = e->count;

	snprintf(path, sizeof(path), "%s/%s", state_dir, STATE_DB_NAME);
	if (access(path, F_OK) != 0)
		return 0;	/* nothing saved yet: opened on the first save */
	if (state_db_open(state_dir, 0, dbp, e) == -1)
		return -1;
	if (sqlite3_prepare_v2(*dbp, "SELECT kind, url, body, topic, "
	    "attempts, not_before FROM outbox", -1, &q, NULL) != SQLITE_OK)
		goto fail;
	while (sqlite3_step(q) == SQLITE_ROW) {
		topic = (const char *)sqlite3_column_text(q, 3);
		if (load_target(q, &t, e) == -1 || topic == NULL)
			continue;
		if ((it = notify_outbox_add(ob, &t, topic)) == NULL)
			break;
		it->attempts = sqlite3_column_int(q, 4);
		it->not_before = sqlite3_column_int64(q, 5);
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(*dbp, "SELECT kind, url, body, sent, failed, "
	    "dropped, last_ok, last_fail, reason FROM target_status", -1, &q,
	    NULL) != SQLITE_OK)
		goto fail;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (load_target(q, &t, e) == -1)
			continue;
		if ((s = notify_stats_get(st, &t)) == NULL)
			break;
		s->sent = (uint64_t)sqlite3_column_int64(q, 3);
		s->failed = (uint64_t)sqlite3_column_int64(q, 4);
		s->dropped = (uint64_t)sqlite3_column_int64(q, 5);
		s->last_ok = sqlite3_column_int64(q, 6);
		s->last_fail = sqlite3_column_int64(q, 7);
		reason = (const char *)sqlite3_column_text(q, 8);
		free(s->reason);
		s->reason = reason != NULL ? strdup(reason) : NULL;
	}
	sqlite3_finalize(q);
	return e->count > count ? -1 : 0;
fail:
	return err_set(e, "%s: %s", path, sqlite3_errmsg(*dbp));
}
