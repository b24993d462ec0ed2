/*
 * notify.c: the outbox and its delivery over libcurl's multi interface.
 *
 * One mutex guards the conf pointer, the outbox and the status; the
 * notifier thread holds it only to pick due items and to record results,
 * never across network I/O, so notify_changed() and the HTTP threads'
 * metrics never wait on a slow target.  The database is written outside
 * the mutex under save_mu, which also keeps writes in the order the
 * contents were taken.
 */
#include <sys/random.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "date.h"
#include "log.h"
#include "notify.h"
#include "notify_int.h"
#include "rs.h"
#include "snap.h"
#include "banned.h"

/*
 * Transfers at once.  The per-target limit is what keeps targets apart;
 * the total only bounds descriptors, so it is set well above what a
 * configuration's targets can hold: hung targets must not use it up.
 */
#define MAX_INFLIGHT		256
#define MAX_PER_TARGET		4	/* one slow target can't hog */
#define MAX_PER_DOWN_TARGET	1	/* a failing one gets one probe */
#define IDLE_WAKE_MS		1000
#define STATUS_SAVE_MS		1000
#define USER_AGENT		"pubfeed/" PUBFEED_VERSION

/* One HTTP exchange in flight for an item. */
struct xfer {
	struct xfer		*next;
	CURL			*h;
	struct notify_item	*it;
	int			 phase;	/* 1: XML-RPC fallback */
	uint64_t		 ok_seq;	/* target's at the start */
	struct notify_msg	 m;
	struct curl_slist	*hdrs;
	struct buf		 resp;
	size_t			 hdr_len;
	int			 is_truncated;	/* body cut at RESP_MAX */
	int			 is_hdr_over;	/* headers over HDR_MAX */
	char			 errbuf[CURL_ERROR_SIZE];
};

struct notify {
	pthread_mutex_t		 mu;
	pthread_mutex_t		 save_mu;
	struct conf		*conf;
	char			*state_dir;
	sqlite3			*db;		/* under save_mu (state.h) */
	struct notify_outbox	 ob;
	struct notify_stats	 st;
	char			*langs;		/* NUL-separated, under mu */
	size_t			 nlangs;
	int			 ob_dirty, st_dirty;
	int64_t			 st_saved;	/* monotonic ms */
	uint64_t		 rng;

	CURLM			*multi;
	struct xfer		*xfers;		/* on the wire */
	int			 nflight;
	struct notify_outbox	*work;		/* &ob, or ping's */
	FILE			*report;	/* notify_send_all() only */
	size_t			 nreport_failed;

	pthread_t		 thread;
	int			 running;
	int			 stop;
	int64_t			 deadline;	/* stop: mono ms */
};

static uint64_t
rng_next(struct notify *n)
{
	n->rng ^= n->rng << 13;
	n->rng ^= n->rng >> 7;
	n->rng ^= n->rng << 17;
	return n->rng;
}

static int
target_configured(const struct conf *c, const struct conf_target *t)
{
	size_t	 i;

	for (i = 0; i < c->ntargets; i++)
		if (notify_target_eq(&c->targets[i], t))
			return 1;
	return 0;
}

/*
 * Forget items and stats of targets the configuration no longer has; an
 * item on the wire is only marked and goes when its transfer ends.
 */
static void
prune(struct notify *n)
{
	struct notify_stats	*st = &n->st;
	size_t			 i;

	for (i = 0; i < n->ob.n; ) {
		if (target_configured(n->conf, &n->ob.v[i]->t)) {
			i++;
			continue;
		}
		n->ob_dirty = 1;
		if (n->ob.v[i]->in_flight) {
			n->ob.v[i++]->is_orphan = 1;
			continue;
		}
		log_info("notify: %s %s is no longer configured, dropping %s",
		    notify_kind_name(n->ob.v[i]->t.kind), n->ob.v[i]->t.url,
		    n->ob.v[i]->topic);
		notify_outbox_remove(&n->ob, i);
	}
	for (i = 0; i < st->n; ) {
		if (target_configured(n->conf, &st->v[i].t)) {
			i++;
			continue;
		}
		notify_target_release(&st->v[i].t);
		free(st->v[i].reason);
		memmove(&st->v[i], &st->v[i + 1],
		    (st->n - i - 1) * sizeof(*st->v));
		st->n--;
		n->st_dirty = 1;
	}
	for (i = 0; i < n->conf->ntargets; i++)
		notify_stats_get(st, &n->conf->targets[i]);
}

static char *
join_path(const char *dir, const char *name)
{
	struct buf	 b;

	buf_init(&b, 8192);
	if (buf_printf(&b, "%s/%s", dir, name) == -1)
		return NULL;
	return buf_detach(&b, NULL);
}

/* Copy what is to be saved, under mu, so the write can run without it. */
static int
save_copy(struct notify *n, int dob, int dst, struct notify_outbox *ob,
    struct notify_stats *st)
{
	struct notify_item	*it;
	struct notify_stat	*s;
	size_t			 i;

	for (i = 0; dob && i < n->ob.n; i++) {
		if ((it = notify_outbox_add(ob, &n->ob.v[i]->t,
		    n->ob.v[i]->topic)) == NULL)
			return -1;
		it->attempts = n->ob.v[i]->attempts;
		it->not_before = n->ob.v[i]->not_before;
	}
	for (i = 0; dst && i < n->st.n; i++) {
		if ((s = notify_stats_get(st, &n->st.v[i].t)) == NULL)
			return -1;
		s->sent = n->st.v[i].sent;
		s->failed = n->st.v[i].failed;
		s->dropped = n->st.v[i].dropped;
		s->last_ok = n->st.v[i].last_ok;
		s->last_fail = n->st.v[i].last_fail;
		if (n->st.v[i].reason != NULL &&
		    (s->reason = strdup(n->st.v[i].reason)) == NULL)
			return -1;
	}
	return 0;
}

/*
 * Write what changed.  Never under mu: fsync takes milliseconds.  The
 * outbox goes out on every change (what is pending must survive a crash);
 * the status, which only informs, at most once a STATUS_SAVE_MS unless
 * force is set, so a busy delivery does not fsync per answer.  What could
 * not be written stays dirty and is tried again on the next save.
 */
static void
notify_save(struct notify *n, int force)
{
	struct notify_outbox	 ob;
	struct notify_stats	 st;
	struct err		 e;
	int64_t			 now = date_mono_ms();
	int			 dob, dst, bad = 0;

	notify_outbox_init(&ob);
	notify_stats_init(&st);
	err_init(&e);
	pthread_mutex_lock(&n->save_mu);
	pthread_mutex_lock(&n->mu);
	dob = n->ob_dirty;
	dst = n->st_dirty && (force || now - n->st_saved >= STATUS_SAVE_MS);
	n->ob_dirty = 0;
	if (dst) {
		n->st_dirty = 0;
		n->st_saved = now;
	}
	if (save_copy(n, dob, dst, &ob, &st) == -1)
		bad = 1;
	pthread_mutex_unlock(&n->mu);
	if (bad)
		log_warnx("notify: out of memory saving the outbox");
	else if ((dob || dst) && notify_outbox_save(&n->db, n->state_dir,
	    dob ? &ob : NULL, dst ? &st : NULL, &e) == -1) {
		log_warnx("notify: outbox or status not saved: %s", e.msg);
		bad = 1;
	}
	if (bad) {
		pthread_mutex_lock(&n->mu);
		n->ob_dirty |= dob;
		n->st_dirty |= dst;
		pthread_mutex_unlock(&n->mu);
	}
	pthread_mutex_unlock(&n->save_mu);
	err_release(&e);
	notify_outbox_release(&ob);
	notify_stats_release(&st);
}

/* One warning per message of e, as the notifier's. */
static void
log_each(const struct err *e)
{
	const char	*p, *nl;

	if (e->all == NULL) {
		if (e->count > 0)
			log_warnx("notify: %s", e->msg);
		return;
	}
	for (p = e->all; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		log_warnx("notify: %.*s", (int)(nl - p), p);
}

/* A clock that jumped back must not park loaded items for years. */
static void
clamp_times(struct notify *n)
{
	int64_t	 latest = date_now_ms() +
		    (int64_t)n->conf->notify_backoff_max * 1000;
	size_t	 i;

	for (i = 0; i < n->ob.n; i++)
		if (n->ob.v[i]->not_before > latest)
			n->ob.v[i]->not_before = latest;
}

/*
 * A target that was failing when the daemon stopped is still in that
 * outage: its first failure after the restart is no news, its recovery is.
 */
static void
inherit_health(struct notify *n)
{
	size_t	 i;

	for (i = 0; i < n->st.n; i++)
		notify_health_inherit(&n->st.v[i].health, n->st.v[i].last_ok,
		    n->st.v[i].last_fail);
}

struct notify *
notify_new(struct conf *c, struct err *e)
{
	struct notify	*n;
	struct err	 le;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err_set(e, "libcurl cannot be initialised");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&n->mu, NULL);
	pthread_mutex_init(&n->save_mu, NULL);
	notify_outbox_init(&n->ob);
	notify_stats_init(&n->st);
	n->conf = conf_ref(c);
	n->work = &n->ob;
	if (getrandom(&n->rng, sizeof(n->rng), 0) != sizeof(n->rng))
		n->rng = (uint64_t)date_now_ms();
	n->rng |= 1;
	if ((n->state_dir = strdup(c->state_dir)) == NULL ||
	    (n->multi = curl_multi_init()) == NULL) {
		err_set(e, "out of memory");
		notify_free(n);
		return NULL;
	}
	err_init(&le);
	if (notify_outbox_load(&n->db, n->state_dir, &n->ob, &n->st,
	    &le) == -1)
		log_each(&le);
	err_release(&le);
	clamp_times(n);
	prune(n);
	inherit_health(n);
	n->ob_dirty = n->st_dirty = 0;	/* rewritten on the next change */
	return n;
}

void
notify_set_conf(struct notify *n, struct conf *c)
{
	struct conf	*old;

	pthread_mutex_lock(&n->mu);
	old = n->conf;
	n->conf = conf_ref(c);
	prune(n);
	pthread_mutex_unlock(&n->mu);
	conf_unref(old);
	notify_save(n, 0);
	curl_multi_wakeup(n->multi);
}

/* Queue (target, topic) unless it is already pending.  Under mu. */
static int
queue(struct notify *n, const struct conf_target *t, const char *topic)
{
	int	 q;

	if ((q = notify_coalesce(&n->ob, t, topic)) == -1)
		return -1;
	if (q != NOTIFY_Q_PENDING)
		n->ob_dirty = 1;
	return 0;
}

int
notify_set_langs(struct notify *n, const char *const *langs, size_t nlangs)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, NOTIFY_FILE_MAX);
	for (i = 0; i < nlangs; i++)
		if (buf_addstr(&b, langs[i]) == -1 ||
		    buf_addch(&b, '\0') == -1) {
			buf_release(&b);
			return -1;
		}
	pthread_mutex_lock(&n->mu);
	free(n->langs);
	n->langs = buf_detach(&b, NULL);
	n->nlangs = n->langs != NULL ? nlangs : 0;
	pthread_mutex_unlock(&n->mu);
	buf_release(&b);
	return 0;
}

/*
 * Every topic of the collection and of sets, with their language versions,
 * into b as NUL-separated; for a WebSub hub (websub) also the ResourceSync
 * Change List (rs.h), so the hub carries ResourceSync change notifications
 * to its subscribers.  Under mu.
 */
static int
topics(const struct notify *n, int websub, const char *const *sets,
    size_t nsets, struct buf *b, size_t *ntopics)
{
	/* every current document of a feed (feed.h): feeds and calendars */
	static const char *const ext[] = { "atom", "rss", "json", "ics" };
	/* a language version has no calendar */
	static const char *const lext[] = { "atom", "rss", "json" };
	const struct conf *c = n->conf;
	const size_t	 next = sizeof(ext) / sizeof(ext[0]);
	const size_t	 nlext = sizeof(lext) / sizeof(lext[0]);
	const char	*l;
	size_t		 i, j, k;

	*ntopics = 0;
	for (k = 0; k < next; k++, (*ntopics)++)
		if (buf_printf(b, "%s/feed.%s", c->base_url, ext[k]) == -1 ||
		    buf_addch(b, '\0') == -1)
			return -1;
	for (i = 0; i < nsets; i++)
		for (k = 0; k < next; k++, (*ntopics)++)
			if (buf_printf(b, "%s/sets/%s.%s", c->base_url,
			    sets[i], ext[k]) == -1 ||
			    buf_addch(b, '\0') == -1)
				return -1;
	for (l = n->langs, j = 0; j < n->nlangs; j++, l += strlen(l) + 1) {
		for (k = 0; k < nlext; k++, (*ntopics)++)
			if (buf_printf(b, "%s/lang/%s/feed.%s", c->base_url,
			    l, lext[k]) == -1 || buf_addch(b, '\0') == -1)
				return -1;
		for (i = 0; i < nsets; i++)
			for (k = 0; k < nlext; k++, (*ntopics)++)
				if (buf_printf(b, "%s/lang/%s/sets/%s.%s",
				    c->base_url, l, sets[i], lext[k]) == -1 ||
				    buf_addch(b, '\0') == -1)
					return -1;
	}
	if (websub) {
		if (buf_printf(b, "%s" RS_CHANGES, c->base_url) == -1 ||
		    buf_addch(b, '\0') == -1)
			return -1;
		(*ntopics)++;
	}
	return 0;
}

int
notify_changed(struct notify *n, const char *const *sets, size_t nsets)
{
	struct buf	 b;
	const char	*topic;
	size_t		 i, k, ntopics;
	int		 rc = 0;

	buf_init(&b, NOTIFY_FILE_MAX);
	pthread_mutex_lock(&n->mu);
	for (i = 0; rc == 0 && i < n->conf->ntargets; i++) {
		if (n->conf->targets[i].kind == CONF_TARGET_COAR)
			continue;	/* told of records, notify_announce() */
		buf_reset(&b);
		if (topics(n, n->conf->targets[i].kind == CONF_TARGET_WEBSUB,
		    sets, nsets, &b, &ntopics) == -1)
			rc = -1;
		for (topic = b.data, k = 0; rc == 0 && k < ntopics;
		    k++, topic += strlen(topic) + 1)
			rc = queue(n, &n->conf->targets[i], topic);
	}
	pthread_mutex_unlock(&n->mu);
	buf_release(&b);
	if (rc == -1)
		log_warnx("notify: out of memory queueing notifications");
	notify_save(n, 0);
	curl_multi_wakeup(n->multi);
	return rc;
}

int
notify_announce(struct notify *n, const char *const *ids, size_t nids)
{
	size_t	 i, k;
	int	 rc = 0, any = 0;

	pthread_mutex_lock(&n->mu);
	for (i = 0; rc == 0 && i < n->conf->ntargets; i++) {
		if (n->conf->targets[i].kind != CONF_TARGET_COAR)
			continue;
		for (k = 0; rc == 0 && k < nids; k++, any = 1)
			rc = queue(n, &n->conf->targets[i], ids[k]);
	}
	pthread_mutex_unlock(&n->mu);
	if (!any)
		return rc;
	if (rc == -1)
		log_warnx("notify: out of memory queueing announcements");
	notify_save(n, 0);
	curl_multi_wakeup(n->multi);
	return rc;
}

/*
 * Keep the head of the answer and stop reading there: a target that
 * answers 100 MB costs NOTIFY_RESP_MAX, not 100 MB per attempt.  Returning
 * short makes libcurl abort with CURLE_WRITE_ERROR; reap_one() then judges
 * what arrived.
 */
static size_t
xfer_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * nmemb, room;

	room = NOTIFY_RESP_MAX - x->resp.len;
	if (len <= room) {
		buf_add(&x->resp, p, len);
		return len;
	}
	buf_add(&x->resp, p, room);
	x->is_truncated = 1;
	return 0;
}

/* libcurl caps one header line; this caps them all, redirects included. */
static size_t
xfer_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * nmemb;

	if (len > NOTIFY_HDR_MAX - x->hdr_len) {
		x->is_hdr_over = 1;
		return 0;
	}
	x->hdr_len += len;
	return len;
}

static void
xfer_free(struct notify *n, struct xfer *x)
{
	if (x->h != NULL) {
		curl_multi_remove_handle(n->multi, x->h);
		curl_easy_cleanup(x->h);
	}
	curl_slist_free_all(x->hdrs);
	notify_msg_release(&x->m);
	buf_release(&x->resp);
	free(x);
}

static int
xfer_setup(struct xfer *x, long timeout_ms)
{
	struct curl_slist	*l;
	CURL			*h = x->h;
	char			 ct[128];
	int			 bad = 0;

	bad |= curl_easy_setopt(h, CURLOPT_URL, x->m.url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_QUICK_EXIT, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, xfer_write);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, xfer_header);
	bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	bad |= curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	/* services move to https; a POST stays a POST across the redirect */
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	if (x->m.body != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
		    x->m.content_type);
		if ((l = curl_slist_append(NULL, ct)) == NULL)
			return -1;
		x->hdrs = l;
		if ((l = curl_slist_append(x->hdrs, "Expect:")) == NULL)
			return -1;
		x->hdrs = l;
		bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
		    (long)x->m.bodylen);
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->m.body);
	}
	return bad ? -1 : 0;
}

/*
 * A coar-inbox item names a record; the announcement is made of the record
 * as the current snapshot has it, so a restart rebuilds it from the
 * records, and a record deleted before its turn is not announced.
 * 0 with site->rec set and a reference in *snap; 1 when the record is no
 * longer live; 2 when there is no snapshot yet.
 */
static int
coar_record(const char *id, struct snap **snap, struct notify_site *site)
{
	const struct snap_item	*si;

	if ((*snap = snap_current()) == NULL)
		return 2;
	if ((si = snap_item_find(*snap, id)) == NULL || si->rec == NULL) {
		snap_release(*snap);
		*snap = NULL;
		return 1;
	}
	site->rec = si->rec;
	site->datestamp = si->datestamp;
	return 0;
}

/*
 * Put it on the wire (request phase as given).  Under mu: reads conf.
 * -1 with e set when the request cannot even be built; for a coar-inbox
 * item, coar_record()'s 1 or 2.
 */
static int
xfer_start(struct notify *n, struct notify_item *it, int phase,
    struct err *e)
{
	struct notify_site	 site;
	struct notify_stat	*st;
	struct snap		*snap = NULL;
	struct xfer		*x;
	char			*s = NULL;
	int			 rc;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return err_set(e, "out of memory");
	x->it = it;
	x->phase = phase;
	if ((st = notify_stats_find(&n->st, &it->t)) != NULL)
		x->ok_seq = st->health.ok_seq;
	buf_init(&x->resp, NOTIFY_RESP_MAX);
	memset(&site, 0, sizeof(site));
	site.name = n->conf->repository_name;
	site.base_url = n->conf->base_url;
	site.site = s = join_path(n->conf->base_url, "");
	if (it->t.kind == CONF_TARGET_COAR &&
	    (rc = coar_record(it->topic, &snap, &site)) != 0) {
		xfer_free(n, x);
		free(s);
		return rc;
	}
	rc = s == NULL ? -1 : notify_build(&it->t, it->topic, &site, phase,
	    &x->m, e);
	snap_release(snap);
	if (rc == -1)
		goto fail;
	if ((x->h = curl_easy_init()) == NULL ||
	    xfer_setup(x, (long)n->conf->notify_timeout * 1000) == -1 ||
	    curl_multi_add_handle(n->multi, x->h) != CURLM_OK) {
		err_set(e, "libcurl refused the request");
		goto fail;
	}
	free(s);
	x->next = n->xfers;
	n->xfers = x;
	n->nflight++;
	it->in_flight = 1;
	if ((st = notify_stats_find(&n->st, &it->t)) != NULL)
		st->inflight++;
	return 0;
fail:
	free(s);
	if (x->h != NULL)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	xfer_free(n, x);
	return -1;
}

static void
report(struct notify *n, const struct notify_item *it, int ok,
    const char *why)
{
	if (!ok)
		n->nreport_failed++;
	fprintf(n->report, "%s %s %s %s%s%s\n", ok ? "ok  " : "FAIL",
	    notify_kind_name(it->t.kind), it->t.url, it->topic,
	    ok ? "" : ": ", ok ? "" : why);
	fflush(n->report);
}

/* The item leaves the wire; its target's slot is free again.  Under mu. */
static void
release_slot(struct notify *n, struct notify_item *it)
{
	struct notify_stat	*st;

	if (!it->in_flight)
		return;
	it->in_flight = 0;
	if ((st = notify_stats_find(&n->st, &it->t)) != NULL &&
	    st->inflight > 0)
		st->inflight--;
}

/* The target's last failure, as one line whatever a server put in it. */
static void
set_reason(struct notify_stat *st, const char *why)
{
	char	*p;

	free(st->reason);
	if ((st->reason = strndup(why, NOTIFY_REASON_MAX)) != NULL)
		for (p = st->reason; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
}

/*
 * Log what the exchange x says about the target's health: a line when an
 * outage starts and one when it ends, never one per attempt.  Under mu.
 */
static void
log_health(struct notify *n, struct notify_stat *st,
    const struct notify_item *it, const struct xfer *x, int ok,
    const char *why, int64_t now)
{
	enum notify_transition	 tr;
	int64_t			 down_ms = 0;
	uint64_t		 attempts = 0;
	char			 d[64];

	tr = notify_health_update(&st->health, ok, x->ok_seq, now, &down_ms,
	    &attempts);
	if (tr == NOTIFY_T_DOWN)
		log_warnx("notify: %s %s is failing: %s (%s); retrying with "
		    "backoff up to %d s%s", notify_kind_name(it->t.kind),
		    it->t.url, why, it->topic, n->conf->notify_backoff_max,
		    n->conf->notify_max_attempts > 0 ? "" :
		    ", until delivered");
	else if (tr == NOTIFY_T_UP) {
		notify_fmt_duration(d, sizeof(d), down_ms);
		log_info("notify: %s %s recovered after %s%s down, %llu "
		    "failed attempt%s%s", notify_kind_name(it->t.kind),
		    it->t.url, st->health.is_inherited ? "at least " : "", d,
		    (unsigned long long)attempts, attempts == 1 ? "" : "s",
		    st->health.is_inherited ? " since the restart" : "");
	}
}

/*
 * Record the end of an item's exchange x (NULL: the request could not even
 * be built).  A failed item is retried until delivered, superseded or, with
 * notify-max-attempts, given up.  Under mu.
 */
static void
finish(struct notify *n, struct notify_item *it, int ok, const char *why,
    const struct xfer *x)
{
	struct notify_stat	*st;
	int64_t			 now = date_now_ms();
	size_t			 i;

	release_slot(n, it);
	n->st_dirty = 1;
	if ((st = notify_stats_get(&n->st, &it->t)) != NULL && ok) {
		st->sent++;
		st->last_ok = now / 1000;
	} else if (st != NULL) {
		st->failed++;
		st->last_fail = now / 1000;
		set_reason(st, why);
	}
	if (n->report != NULL)
		report(n, it, ok, why);
	else if (st != NULL && x != NULL)
		log_health(n, st, it, x, ok, why, now);
	if (ok)
		log_debug("notify: %s %s: %s delivered",
		    notify_kind_name(it->t.kind), it->t.url, it->topic);
	if (n->work == &n->ob)
		n->ob_dirty = 1;
	if (ok && it->again && !it->is_orphan) {
		it->again = 0;
		it->attempts = 0;
		it->not_before = 0;
		return;
	}
	if (!ok && n->report == NULL && !it->is_orphan) {
		if (notify_after_failure(it, n->conf->notify_max_attempts,
		    (int64_t)n->conf->notify_backoff_max * 1000, now,
		    rng_next(n)) == NOTIFY_RETRY) {
			log_debug("notify: %s %s: %s failed (%s), attempt %d, "
			    "next in %lld ms", notify_kind_name(it->t.kind),
			    it->t.url, it->topic, why, it->attempts,
			    (long long)(it->not_before - now));
			return;
		}
		log_warnx("notify: %s %s: giving up on %s after %d attempts "
		    "(notify-max-attempts): %s", notify_kind_name(it->t.kind),
		    it->t.url, it->topic, it->attempts, why);
		if (st != NULL)
			st->dropped++;
	}
	for (i = 0; i < n->work->n; i++)
		if (n->work->v[i] == it) {
			notify_outbox_remove(n->work, i);
			break;
		}
}

/* Take it out of the list it is in, unsent and uncounted.  Under mu. */
static void
forget(struct notify *n, struct notify_item *it)
{
	size_t	 i;

	for (i = 0; i < n->work->n; i++)
		if (n->work->v[i] == it) {
			notify_outbox_remove(n->work, i);
			break;
		}
	if (n->work == &n->ob)
		n->ob_dirty = 1;
}

/* Start it; 0, or -1 when it could not be built and is gone. */
static int
start_one(struct notify *n, struct notify_item *it, struct err *e)
{
	struct notify_stat	*st;
	int			 rc;

	err_clear(e);
	if ((rc = xfer_start(n, it, 0, e)) == 0)
		return 0;
	if (rc == 2) {			/* no snapshot yet: soon */
		it->not_before = date_now_ms() + IDLE_WAKE_MS;
		return 0;
	}
	if (rc == 1) {
		log_debug("notify: %s %s: %s is deleted; not announced",
		    notify_kind_name(it->t.kind), it->t.url, it->topic);
		forget(n, it);
		return -1;
	}
	/* cannot be built: it never will be */
	if (n->report == NULL) {
		log_warnx("notify: %s %s: giving up on %s: %s",
		    notify_kind_name(it->t.kind), it->t.url, it->topic, e->msg);
		if ((st = notify_stats_get(&n->st, &it->t)) != NULL)
			st->dropped++;
	}
	it->is_orphan = 1;
	finish(n, it, 0, e->msg, NULL);
	return -1;
}

/*
 * Start what is due, within the limits.  Under mu.  ms to the next due.
 * A target in an outage gets one probe at a time, and it goes to the topic
 * that has been due longest: taking the first due one in outbox order
 * would probe the same few topics forever once there are more topics than
 * probes fit in one backoff period.
 */
static int
start_due(struct notify *n)
{
	struct notify_item	*it;
	struct notify_stat	*st;
	struct err		 e;
	int64_t			 now = date_now_ms();
	int64_t			 wait = IDLE_WAKE_MS;
	size_t			 i;

	err_init(&e);
	for (i = 0; i < n->work->n; i++) {
		it = n->work->v[i];
		if (it->in_flight)
			continue;
		if (it->not_before > now) {
			if (it->not_before - now < wait)
				wait = it->not_before - now;
			continue;
		}
		st = notify_stats_find(&n->st, &it->t);
		if (n->nflight >= MAX_INFLIGHT)
			continue;
		if (st != NULL && n->report == NULL && st->health.is_down) {
			if (st->inflight < MAX_PER_DOWN_TARGET &&
			    (st->probe == NULL ||
			    it->not_before < st->probe->not_before))
				st->probe = it;
			continue;
		}
		if (st != NULL && st->inflight >= MAX_PER_TARGET)
			continue;
		if (start_one(n, it, &e) == -1)
			i--;
	}
	for (i = 0; i < n->st.n; i++) {
		if ((it = n->st.v[i].probe) == NULL)
			continue;
		n->st.v[i].probe = NULL;
		if (n->nflight < MAX_INFLIGHT)
			start_one(n, it, &e);
	}
	err_release(&e);
	return (int)wait;
}

/*
 * Judge one finished transfer and record it; may start the fallback.  An
 * answer cut at NOTIFY_RESP_MAX is judged on its status and what was read:
 * WebSub and plain pings speak through the status alone, so a 2xx with a
 * huge body is a success; an XML-RPC answer that large is no
 * methodResponse this daemon will parse, so it is a failure.
 */
static void
reap_one(struct notify *n, struct xfer *x, CURLcode res)
{
	struct notify_item	*it = x->it;
	enum notify_verdict	 v;
	struct err		 e;
	long			 status = 0;

	err_init(&e);
	if (res == CURLE_WRITE_ERROR && x->is_truncated)
		res = CURLE_OK;
	if (res == CURLE_OK) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		v = notify_judge(it->t.kind, x->phase, status, x->resp.data,
		    x->resp.len, &e);
		if (x->is_truncated && it->t.kind == CONF_TARGET_XMLRPC &&
		    status >= 200 && status <= 299) {
			err_clear(&e);
			err_set(&e, "xml-rpc answer larger than %d bytes",
			    NOTIFY_RESP_MAX);
			v = NOTIFY_FAIL;
		}
	} else if (x->is_hdr_over) {
		err_set(&e, "response headers larger than %d bytes",
		    NOTIFY_HDR_MAX);
		v = NOTIFY_FAIL;
	} else {
		err_set(&e, "%s", x->errbuf[0] != '\0' ? x->errbuf :
		    curl_easy_strerror(res));
		v = NOTIFY_FAIL;
	}
	pthread_mutex_lock(&n->mu);
	if (v == NOTIFY_FALLBACK && !it->is_orphan) {
		log_debug("notify: %s: %s, trying weblogUpdates.ping",
		    it->t.url, e.msg);
		release_slot(n, it);
		err_clear(&e);
		if (xfer_start(n, it, 1, &e) == -1)
			finish(n, it, 0, e.msg, x);
	} else
		finish(n, it, v == NOTIFY_OK, e.msg, x);
	pthread_mutex_unlock(&n->mu);
	err_release(&e);
}

static void
unlink_xfer(struct notify *n, struct xfer *x)
{
	struct xfer	**pp;

	for (pp = &n->xfers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			n->nflight--;
			return;
		}
}

/* Judge every finished transfer; how many there were. */
static int
reap(struct notify *n)
{
	CURLMsg		*msg;
	struct xfer	*x;
	CURLcode	 res;
	char		*priv;
	int		 left, k = 0;

	while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		res = msg->data.result;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    &priv) != CURLE_OK || priv == NULL)
			continue;
		x = (struct xfer *)(void *)priv;
		unlink_xfer(n, x);
		reap_one(n, x, res);
		xfer_free(n, x);
		k++;
	}
	return k;
}

/* Abort every transfer; its item stays pending.  Thread stopped. */
static void
abort_all(struct notify *n)
{
	struct xfer		*x;

	pthread_mutex_lock(&n->mu);
	while ((x = n->xfers) != NULL) {
		n->xfers = x->next;
		release_slot(n, x->it);
		x->it->again = 0;	/* it is still pending anyway */
		xfer_free(n, x);
	}
	n->nflight = 0;
	pthread_mutex_unlock(&n->mu);
}

/* 1 when an item could be started now. */
static int
any_due(struct notify *n)
{
	int64_t	 now = date_now_ms();
	size_t	 i;

	for (i = 0; i < n->work->n; i++)
		if (!n->work->v[i]->in_flight &&
		    n->work->v[i]->not_before <= now)
			return 1;
	return 0;
}

/*
 * One turn of the engine: start, drive, reap, save; then wait <= ms.  A
 * reaped transfer freed a slot that an item already due may take: no
 * wait then.
 */
static void
turn(struct notify *n, int wait)
{
	int	 still;

	curl_multi_perform(n->multi, &still);
	if (reap(n) > 0)
		wait = 0;
	notify_save(n, 0);
	curl_multi_poll(n->multi, NULL, 0, wait, NULL);
}

static void *
notify_main(void *arg)
{
	struct notify	*n = arg;
	int		 wait;

	for (;;) {
		pthread_mutex_lock(&n->mu);
		if (n->stop && (date_mono_ms() >= n->deadline ||
		    (n->xfers == NULL && !any_due(n)))) {
			pthread_mutex_unlock(&n->mu);
			break;
		}
		wait = start_due(n);
		if (n->stop && n->deadline - date_mono_ms() < wait)
			wait = (int)(n->deadline - date_mono_ms());
		pthread_mutex_unlock(&n->mu);
		turn(n, wait < 0 ? 0 : wait);
	}
	abort_all(n);
	notify_save(n, 1);
	return NULL;
}

int
notify_start(struct notify *n, struct err *e)
{
	int	 rc;

	if (n->running)
		return 0;
	n->stop = 0;
	if ((rc = pthread_create(&n->thread, NULL, notify_main, n)) != 0)
		return err_set(e, "notifier thread: %s", strerror(rc));
	n->running = 1;
	return 0;
}

void
notify_stop(struct notify *n, int drain_ms)
{
	if (n == NULL || !n->running)
		return;
	pthread_mutex_lock(&n->mu);
	n->stop = 1;
	n->deadline = date_mono_ms() + drain_ms;
	pthread_mutex_unlock(&n->mu);
	curl_multi_wakeup(n->multi);
	pthread_join(n->thread, NULL);
	n->running = 0;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	notify_stop(n, 0);
	if (n->multi != NULL)
		curl_multi_cleanup(n->multi);
	notify_outbox_release(&n->ob);
	notify_stats_release(&n->st);
	conf_unref(n->conf);
	free(n->langs);
	free(n->state_dir);
	if (n->db != NULL)
		sqlite3_close(n->db);
	pthread_mutex_destroy(&n->mu);
	pthread_mutex_destroy(&n->save_mu);
	free(n);
}

size_t
notify_send_all(struct notify *n, const char *const *sets, size_t nsets,
    FILE *out)
{
	struct notify_outbox	 list;
	struct buf		 b;
	const char		*topic;
	size_t			 i, k, ntopics, failed;
	int			 wait;

	notify_outbox_init(&list);
	buf_init(&b, NOTIFY_FILE_MAX);
	pthread_mutex_lock(&n->mu);
	for (i = 0; i < n->conf->ntargets; i++) {
		if (n->conf->targets[i].kind == CONF_TARGET_COAR) {
			/* announcements are of changes, not of the state */
			fprintf(out, "skip coar-inbox %s: announces each new or "
			    "changed record while serve runs\n",
			    n->conf->targets[i].url);
			continue;
		}
		buf_reset(&b);
		if (topics(n, n->conf->targets[i].kind == CONF_TARGET_WEBSUB,
		    sets, nsets, &b, &ntopics) == -1)
			ntopics = 0;
		for (topic = b.data, k = 0; k < ntopics;
		    k++, topic += strlen(topic) + 1)
			if (notify_outbox_add(&list, &n->conf->targets[i],
			    topic) == NULL)
				fprintf(out, "FAIL out of memory\n");
	}
	n->work = &list;
	n->report = out;
	n->nreport_failed = 0;
	pthread_mutex_unlock(&n->mu);
	buf_release(&b);
	for (;;) {
		pthread_mutex_lock(&n->mu);
		if (list.n == 0) {
			pthread_mutex_unlock(&n->mu);
			break;
		}
		wait = start_due(n);
		pthread_mutex_unlock(&n->mu);
		turn(n, wait);
	}
	pthread_mutex_lock(&n->mu);
	n->work = &n->ob;
	n->report = NULL;
	failed = n->nreport_failed;
	pthread_mutex_unlock(&n->mu);
	notify_save(n, 1);
	notify_outbox_release(&list);
	return failed;
}

/* A rendering of notify_status.c, under mu. */
static int
render(struct notify *n, int (*fn)(const struct conf *,
    const struct notify_outbox *, const struct notify_stats *, struct buf *),
    struct buf *b)
{
	int	 rc;

	pthread_mutex_lock(&n->mu);
	rc = fn(n->conf, &n->ob, &n->st, b);
	pthread_mutex_unlock(&n->mu);
	return rc;
}

int
notify_render_metrics(struct notify *n, struct buf *b)
{
	return render(n, notify_status_metrics, b);
}

int
notify_render_status(struct notify *n, struct buf *b)
{
	return render(n, notify_status_text, b);
}
