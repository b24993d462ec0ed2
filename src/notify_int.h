/*
 * notify_int: what the files of the notify module share.  Private to the
 * module (the public contract is notify.h); the unit tests and the fuzz
 * targets include it to reach the pure parts.  The files by role, calls
 * going one way (down this list):
 *
 *   notify.c          the notifier: thread, libcurl multi loop, locking
 *   notify_outbox.c   the outbox in memory, and its persistence
 *   notify_status.c   per-target status in memory; /status and /metrics
 *   notify_retry.c    the retry and outage policy, pure
 *   notify_proto.c    a request built and judged by its kind's protocol
 *   notify_websub.c, notify_xmlrpc.c, notify_ping.c   one protocol each
 *   notify_msg.c      target kinds and identity, percent-encoding
 *
 * Nothing here logs, touches the network or takes a lock; only
 * notify_outbox_save() and notify_outbox_load() touch a file (the state
 * database, on the caller's connection).
 */
#ifndef PUBFEED_NOTIFY_INT_H
#define PUBFEED_NOTIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "record.h"

#define NOTIFY_RESP_MAX		(64 * 1024)	/* body bytes read, at most */
#define NOTIFY_HDR_MAX		(64 * 1024)	/* header bytes, redirects too */
#define NOTIFY_FILE_MAX		(64UL * 1024 * 1024)
#define NOTIFY_REASON_MAX	200

/* One pending notification: tell target that topic changed. */
struct notify_item {
	struct conf_target	 t;		/* own copies */
	char			*topic;
	int			 attempts;	/* failed so far */
	int64_t			 not_before;	/* wall clock, ms */
	int			 in_flight;	/* a transfer holds it */
	int			 again;		/* changed since */
	int			 is_orphan;	/* target removed */
};

struct notify_outbox {
	struct notify_item	**v;
	size_t			 n, cap;
};

/*
 * Whether a target is in an outage, for logging transitions rather than
 * attempts.  Not persisted itself: notify_health_inherit() rebuilds it from
 * the persisted last success and failure.
 */
struct notify_health {
	int		 is_down;
	int		 is_inherited;	/* down before the restart */
	int64_t		 down_since;	/* wall, ms */
	uint64_t	 down_attempts;	/* failed since is_down */
	uint64_t	 ok_seq;	/* successes so far */
};

/* What one target has seen, persisted for "pubfeed status". */
struct notify_stat {
	struct conf_target	 t;
	uint64_t		 sent;		/* acknowledged */
	uint64_t		 failed;	/* failed attempts */
	uint64_t		 dropped;	/* given up on */
	int64_t			 last_ok;	/* wall, s; 0 never */
	int64_t			 last_fail;
	char			*reason;	/* last failure's */
	int			 inflight;	/* not saved */
	struct notify_health	 health;	/* not saved */
	struct notify_item	*probe;		/* start_due()'s pick; not saved */
};

struct notify_stats {
	struct notify_stat	*v;
	size_t			 n, cap;
};

/* One HTTP request ready for libcurl. */
struct notify_msg {
	char		*url;
	char		*body;		/* NULL: GET */
	size_t		 bodylen;
	const char	*content_type;	/* static; NULL with GET */
};

/* Names the request templates can use. */
struct notify_site {
	const char	*name;		/* repository name */
	const char	*site;		/* base_url + "/" */
	const char	*base_url;
	/* coar-inbox: the record the topic names, live, and its datestamp */
	const struct record *rec;
	int64_t		 datestamp;
};

/* Result of judging a response. */
enum notify_verdict {
	NOTIFY_OK,
	NOTIFY_FAIL,		/* reason in e */
	NOTIFY_FALLBACK,	/* XML-RPC: send weblogUpdates.ping next */
};

/*
 * notify_msg.c.  Target kinds: "websub-hub", "xmlrpc-ping", "ping-get",
 * "ping-post".
 */
const char *notify_kind_name(enum conf_target_kind);
int	notify_kind_parse(const char *, enum conf_target_kind *);
/* 1 when both name the same target (kind, url, body). */
int	notify_target_eq(const struct conf_target *,
	    const struct conf_target *);
int	notify_target_copy(struct conf_target *dst,
	    const struct conf_target *src);
void	notify_target_release(struct conf_target *);

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
int	notify_pct_encode(struct buf *, const char *s);
/* Free a request's strings (notify_build()). */
void	notify_msg_release(struct notify_msg *);

/*
 * notify_proto.c.  Build the request for one item.  phase 0 is the first
 * request; phase 1 is the XML-RPC fallback (weblogUpdates.ping).  m's
 * strings are the caller's to free with notify_msg_release().  0 or -1
 * with e set.
 */
int	notify_build(const struct conf_target *, const char *topic,
	    const struct notify_site *, int phase, struct notify_msg *m,
	    struct err *e);
/*
 * Judge a finished exchange: HTTP status (0 when there was no response)
 * and the first NOTIFY_RESP_MAX bytes of the body.
 */
enum notify_verdict notify_judge(enum conf_target_kind, int phase,
	    long status, const char *body, size_t len, struct err *e);

/*
 * notify_coar.c: a COAR Notify Offer (coar-notify:IngestAction) of s->rec
 * to the target's LDN inbox, as application/ld+json.
 */
int	notify_coar_build(const struct conf_target *,
	    const struct notify_site *s, struct notify_msg *, struct err *);

/* notify_websub.c: hub.mode=publish form body. */
int	notify_websub_build(const struct conf_target *, const char *topic,
	    struct notify_msg *, struct err *);

/* notify_xmlrpc.c */
struct notify_xmlrpc_reply {
	int	 is_fault;
	int	 flerror;		/* 1 when the server said so */
	/* message, or faultString */
	char	 message[NOTIFY_REASON_MAX];
};
/* A methodCall with string parameters. */
int	notify_xmlrpc_call(struct buf *, const char *method,
	    const char *const *params, size_t nparams);
int	notify_xmlrpc_build(const struct conf_target *, const char *topic,
	    const struct notify_site *, int phase, struct notify_msg *,
	    struct err *);
/*
 * Parse a methodResponse from memory (no network, no DTD, no entities; a
 * DOCTYPE is refused).  0 with r filled (a fault is not an error here), or
 * -1 with e set when the document is not a methodResponse.
 */
int	notify_xmlrpc_parse(const char *buf, size_t len,
	    struct notify_xmlrpc_reply *r, struct err *e);

/* notify_ping.c: {feed} {site} {name} substituted, escaped as fits. */
enum notify_esc {
	NOTIFY_ESC_PCT,		/* URLs and form bodies */
	NOTIFY_ESC_XML,		/* bodies starting with '<' */
	NOTIFY_ESC_JSON,	/* bodies starting with '{' or '[' */
};
int	notify_expand(struct buf *, const char *tmpl, enum notify_esc,
	    const char *topic, const struct notify_site *);
int	notify_ping_build(const struct conf_target *, const char *topic,
	    const struct notify_site *, struct notify_msg *, struct err *);

/* notify_outbox.c: the outbox in memory. */
void	notify_outbox_init(struct notify_outbox *);
void	notify_outbox_release(struct notify_outbox *);
/* Append a new item (copies t and topic).  The item, or NULL. */
struct notify_item *notify_outbox_add(struct notify_outbox *,
	    const struct conf_target *, const char *topic);
struct notify_item *notify_outbox_find(const struct notify_outbox *,
	    const struct conf_target *, const char *topic);
/* Remove and free v[i] (order is kept). */
void	notify_outbox_remove(struct notify_outbox *, size_t i);
void	notify_item_free(struct notify_item *);
/*
 * Save ob into the outbox table and st into target_status (either NULL:
 * that table is left as it is) in one transaction on *db, which is opened
 * on first use (state_dir created, state_db_open()).  0, or -1 with e set
 * and the transaction rolled back.
 */
int	notify_outbox_save(sqlite3 **db, const char *state_dir,
	    const struct notify_outbox *ob, const struct notify_stats *st,
	    struct err *e);
/*
 * Append what state_dir's database holds to ob and st, opening *db when
 * there is a database (none yet: nothing to load, *db stays NULL).  Rows
 * of an unknown target kind are skipped with one message each; a table
 * that cannot be read ends the load with a message.  0, or -1 when e got
 * messages (what could be read is loaded).
 */
int	notify_outbox_load(sqlite3 **db, const char *state_dir,
	    struct notify_outbox *ob, struct notify_stats *st, struct err *e);

/* notify_status.c: per-target status in memory (the target_status table). */
void	notify_stats_init(struct notify_stats *);
void	notify_stats_release(struct notify_stats *);
/* The entry for t, created (zeroed) if missing; NULL on no memory. */
struct notify_stat *notify_stats_get(struct notify_stats *,
	    const struct conf_target *);
struct notify_stat *notify_stats_find(const struct notify_stats *,
	    const struct conf_target *);
/*
 * Append to b, for every target of c: one line of status text (last
 * success and failure, counters, items pending in ob), or the Prometheus
 * metrics (HELP, TYPE and one sample per target).  0, or -1 (b full).
 */
int	notify_status_text(const struct conf *c,
	    const struct notify_outbox *ob, const struct notify_stats *st,
	    struct buf *b);
int	notify_status_metrics(const struct conf *c,
	    const struct notify_outbox *ob, const struct notify_stats *st,
	    struct buf *b);

/*
 * notify_retry.c: the retry policy, pure.
 *
 * The delay before retry number attempts (1 for the first retry) is drawn
 * from [hi / 2, hi] where hi = min(cap_ms, NOTIFY_BACKOFF_BASE_MS *
 * 2^(attempts-1)), with r (any 64-bit random value) as the fraction; never
 * below NOTIFY_BACKOFF_MIN_MS, never above max(cap_ms, that floor).  For a
 * fixed r it does not decrease with attempts.
 */
#define NOTIFY_BACKOFF_BASE_MS	1000
#define NOTIFY_BACKOFF_MIN_MS	250
int64_t	notify_backoff_ms(int attempts, int64_t cap_ms, uint64_t r);

/*
 * Queue (t, topic) in ob unless pending.  NOTIFY_Q_NEW: added;
 * NOTIFY_Q_AGAIN: it is on the wire, maybe with the older content, and is
 * now marked to go once more; NOTIFY_Q_PENDING: the pending item covers the
 * change, nothing changed.  -1: no memory.
 */
enum notify_queued {
	NOTIFY_Q_PENDING,
	NOTIFY_Q_AGAIN,
	NOTIFY_Q_NEW,
};
int	notify_coalesce(struct notify_outbox *, const struct conf_target *,
	    const char *topic);

/*
 * An attempt for it failed at now (wall ms): count it and schedule the
 * retry.  max_attempts 0 means no limit.  An item changed while on the
 * wire (again) is a new notification and starts a new count.  NOTIFY_RETRY
 * with it->not_before set, or NOTIFY_GIVE_UP once max_attempts are spent.
 */
enum notify_next {
	NOTIFY_RETRY,
	NOTIFY_GIVE_UP,
};
enum notify_next notify_after_failure(struct notify_item *it,
	    int max_attempts, int64_t cap_ms, int64_t now, uint64_t r);

/*
 * A target's attempt, started when h->ok_seq was seq, ended at now (wall
 * ms).  NOTIFY_T_DOWN on the first failure of an outage, NOTIFY_T_UP on the
 * first success after one, NOTIFY_T_NONE otherwise.  A failure of an
 * attempt started before the last success is old news: it starts no
 * outage.  On NOTIFY_T_UP, *down_ms and *attempts say how long and how
 * many failures the outage lasted (read before the next update).
 */
enum notify_transition {
	NOTIFY_T_NONE,
	NOTIFY_T_DOWN,
	NOTIFY_T_UP,
};
enum notify_transition notify_health_update(struct notify_health *h,
	    int ok, uint64_t seq, int64_t now, int64_t *down_ms,
	    uint64_t *attempts);
/* After a restart: down if the last failure (s) is after the last success. */
void	notify_health_inherit(struct notify_health *h, int64_t last_ok,
	    int64_t last_fail);
/* "1 h 2 min", "3 min 5 s", "12 s", "0.4 s". */
void	notify_fmt_duration(char *, size_t, int64_t ms);

#endif
