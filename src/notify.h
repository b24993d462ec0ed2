/*
 * notify: tell aggregators that the feeds changed — WebSub hubs (publish),
 * XML-RPC weblogUpdates servers and plain GET/POST ping URLs — and COAR
 * Notify inboxes of each new or changed record (notify_announce()).
 *
 * The unit of work is an item (target, topic); a topic is a feed URL.
 * notify_changed() queues one item per configured target and affected topic
 * and coalesces: an item already pending is not queued twice, so a burst of
 * changes costs one notification per target and topic (two when a change
 * lands while the first is on the wire).  The pending set is the outbox,
 * committed to the state database (table outbox, see state.h) on every
 * change of it, so pending notifications survive a crash and go out after
 * the restart; an item is removed once the target acknowledged it.
 * Per-target counters and the last success and failure live in the table
 * target_status.  The notifier has its own database connection.
 *
 * Delivery runs on one notifier thread over the libcurl multi interface,
 * never on a request path: every request has conf->notify_timeout and
 * reads at most NOTIFY_RESP_MAX of the answer; a failure is retried with
 * capped exponential backoff (notify_backoff_ms()) until the item is
 * delivered or superseded, or, when conf->notify_max_attempts is not 0,
 * given up after that many attempts (logged at warning, counted as
 * dropped).  The log tells transitions, not attempts: a warning when a
 * target starts failing, an info line when it recovers.  Targets are
 * independent: a hub that hangs or answers 500 delays nobody else.
 *
 * Thread rules: every function may be called from the main thread while the
 * notifier runs; the state is guarded by one mutex.  notify_render_*() may
 * be called from HTTP threads.
 */
#ifndef PUBFEED_NOTIFY_H
#define PUBFEED_NOTIFY_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "conf.h"
#include "err.h"

struct notify;

/*
 * A notifier for conf (takes a reference), with the outbox and the status
 * loaded from conf's state database; rows it cannot use are logged and
 * skipped, items for targets no longer configured are dropped.  No thread
 * runs yet.  NULL with e set when libcurl cannot be set up.
 */
struct notify	*notify_new(struct conf *, struct err *e);
/* Start the notifier thread.  0, or -1 with e set. */
int		 notify_start(struct notify *, struct err *e);
/*
 * Stop the thread: let transfers in flight and items already due finish
 * for at most drain_ms, then abort the rest, keeping them in the outbox in
 * the database.  Safe to call when the thread never started.
 */
void		 notify_stop(struct notify *, int drain_ms);
/* notify_stop(n, 0) if needed, then free; NULL is a no-op. */
void		 notify_free(struct notify *);
/* SIGHUP: use conf from now on (takes a reference). */
void		 notify_set_conf(struct notify *, struct conf *);

/*
 * The languages that have feeds of their own (feed_langs(): "/lang/LL/...");
 * from now on their feeds are topics too.  Copies langs.  0, or -1 (no
 * memory: the previous list stays).
 */
int		 notify_set_langs(struct notify *, const char *const *langs,
		    size_t nlangs);

/*
 * The collection changed; sets are the setSpecs (ancestors included) of
 * what changed.  Queues the whole-collection feeds and each set's feeds,
 * with their language versions (notify_set_langs()), for every target and
 * saves the outbox before returning.  0, or -1 (no memory or the outbox
 * could not be written: the items are still queued).
 */
int		 notify_changed(struct notify *, const char *const *sets,
		    size_t nsets);

/*
 * Records ids (live in the snapshot being published) are new or changed:
 * queues one COAR Notify Offer per coar-inbox target and record, coalesced
 * like notify_changed()'s items, saved before returning.  The message is
 * made when it is sent, from the current snapshot (snap_current()): a
 * record deleted by then is not announced.  0, or -1 as notify_changed().
 */
int		 notify_announce(struct notify *, const char *const *ids,
		    size_t nids);

/*
 * "pubfeed ping": send every target every topic (the collection's feeds
 * and those of sets), one attempt each with the XML-RPC fallback, on the
 * calling thread, writing one line per item to out.  Updates the status
 * file, never the outbox.  Returns the number of failed items.
 */
size_t		 notify_send_all(struct notify *, const char *const *sets,
		    size_t nsets, FILE *out);

/* Prometheus text: per-target sent/failed/dropped/pending, last times. */
int		 notify_render_metrics(struct notify *, struct buf *);
/* One line per target for /status and "pubfeed status". */
int		 notify_render_status(struct notify *, struct buf *);

#endif
