/*
 * serve.c: the serve loop and what it does — rebuild, reload, live
 * updates, the retry of a failed state commit (contracts in serve.h).
 */
#include <sys/signalfd.h>

#include <pthread.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "date.h"
#include "feed.h"
#include "log.h"
#include "rs.h"
#include "serve.h"
#include "snap.h"
#include "banned.h"

#define STATE_RETRY_MS	2000	/* a failed state commit, again */

/*
 * COAR Notify inboxes hear of each new or changed record, except those of
 * the first import: a service registering the repository harvests what
 * was there (OAI-PMH); it is asked to take in what comes after.
 */
static void
announce(struct notify *n, const struct snap *s,
    const struct store_changes *chg)
{
	const struct snap_item	*it;
	const char		**ids;
	size_t			 i, k = 0;

	if (chg->nids == 0 || chg->is_first_import)
		return;
	if ((ids = calloc(chg->nids, sizeof(*ids))) == NULL) {
		log_warnx("notify: out of memory: %zu records not announced",
		    chg->nids);
		return;
	}
	for (i = 0; i < chg->nids; i++)
		if ((it = snap_item_find(s, chg->ids[i])) != NULL &&
		    it->rec != NULL)
			ids[k++] = chg->ids[i];
	notify_announce(n, ids, k);
	free(ids);
}

/*
 * Build the next snapshot off the serving path and swap it in, then tell
 * the notification targets about what changed.  chg may be NULL when the
 * caller does not need the changes; they are collected here anyway.
 */
int
serve_rebuild(struct serve *sv, struct store_changes *chg)
{
	struct store_changes	 local;
	struct snap		*prev, *next;
	struct err		 e;
	int64_t			 t0 = date_mono_ms(), t1;
	char			 status[128];
	uint64_t		 nval, nhit;
	int			 rc = -1;

	err_init(&e);
	memset(&local, 0, sizeof(local));
	if (chg == NULL)
		chg = &local;
	prev = snap_current();
	next = store_snapshot(sv->store, chg, &e);
	t1 = date_mono_ms();
	sv->snapshot_ms = t1 - t0;
	sv->documents_ms = 0;
	metrics_set_state(sv->metrics, !store_state_failing(sv->store));
	store_parse_counts(sv->store, &nval, &nhit);
	metrics_set_parse(sv->metrics, nval, nhit);
	if (next == NULL)
		goto out;
	log_problems(&e);
	err_clear(&e);
	if (feed_build(next, prev, &e) == -1 ||
	    rs_build(next, prev, &e) == -1) {
		snap_release(next);
		goto out;
	}
	snap_seal(next);
	sv->documents_ms = date_mono_ms() - t1;
	snprintf(status, sizeof(status), "STATUS=serving %zu records "
	    "(%zu deleted, %zu invalid files)", next->nlive,
	    next->nitems - next->nlive, next->ninvalid);
	log_info("snapshot %llu: %zu records, %zu deleted, %zu invalid "
	    "files, %zu documents + %zu archive pages on demand, built in "
	    "%lld ms", (unsigned long long)next->generation, next->nlive,
	    next->nitems - next->nlive, next->ninvalid, next->ndocs,
	    snap_npages(next), (long long)(date_mono_ms() - t0));
	snap_publish(next);
	sd_notify(0, status);
	/* after the publish, so a hub fetching the topic sees the change */
	if (sv->notify != NULL && chg->any) {
		struct feed_langs fl;

		feed_langs(&fl, next);
		if (notify_set_langs(sv->notify, fl.tags, fl.n) == -1)
			log_warnx("notify: out of memory: language feeds "
			    "keep their previous topics");
		notify_changed(sv->notify, (const char *const *)chg->sets,
		    chg->nsets);
		announce(sv->notify, next, chg);
	}
	if (sv->published != NULL && sv->published(sv->published_arg,
	    next) == -1)
		goto out_logged;
	rc = 0;
out:
	if (rc == -1)
		log_warnx("rebuild failed, still serving the previous "
		    "snapshot: %s", e.msg);
out_logged:
	metrics_count_reload(sv->metrics, rc == 0,
	    (uint64_t)(date_mono_ms() - t0));
	snap_release(prev);
	store_changes_release(&local);
	err_release(&e);
	return rc;
}

/* SIGHUP: a new configuration if it parses, then a full rescan. */
static void
reload(struct serve *sv)
{
	struct conf	*c;
	struct err	 e;

	sd_notify(0, "RELOADING=1");
	sv->reloads++;
	err_init(&e);
	if ((c = sv->load_conf(sv->load_arg, &e)) == NULL) {
		log_warnx("configuration not reloaded, keeping the running "
		    "one:");
		log_problems(&e);
	} else {
		if (strcmp(c->listen_addr, sv->conf->listen_addr) != 0 ||
		    c->listen_port != sv->conf->listen_port)
			log_warnx("listen address changes need a restart");
		log_setlevel(c->log_level);
		store_set_conf(sv->store, c);
		if (sv->notify != NULL)
			notify_set_conf(sv->notify, c);
		conf_unref(sv->conf);
		sv->conf = c;
		log_info("configuration reloaded from %s", sv->conf_path);
	}
	err_clear(&e);
	if (store_scan(sv->store, &e) == -1)
		log_warnx("%s", e.msg);
	else
		log_problems(&e);
	err_release(&e);
	serve_rebuild(sv, NULL);
	sd_notify(0, "READY=1");
}

static int
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	/* before any thread starts, so only the signalfd sees them */
	return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -1;
}

/* store_set_interrupt(): SIGTERM or SIGINT waits in the signalfd. */
static int
stop_pending(void *arg)
{
	sigset_t	 set;

	return sigpending(&set) == 0 && (sigismember(&set, SIGTERM) == 1 ||
	    sigismember(&set, SIGINT) == 1);
}

int
serve_signals(struct serve *sv)
{
	sigset_t	 set;

	if (block_signals(&set) == -1 ||
	    (sv->sigfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		return -1;
	/* from now on a pending SIGTERM cuts a long batch of reads short */
	store_set_interrupt(sv->store, stop_pending, NULL);
	return 0;
}

/*
 * Live updates: inotify on the records tree.  Without it (no inotify, too
 * many directories for fs.inotify.max_user_watches) the periodic rescan
 * still picks changes up, only later.
 */
void
serve_watch_start(struct serve *sv)
{
	struct err	 e;

	err_init(&e);
	watch_free(sv->watch);
	sv->watch = watch_new(sv->conf->records_dir, store_wants, &e);
	if (sv->watch == NULL)
		log_warnx("%s; changes are picked up by the periodic rescan "
		    "only", e.msg);
	else
		log_debug("watching %zu directories under %s",
		    watch_ndirs(sv->watch), sv->conf->records_dir);
	err_release(&e);
}

/* Apply one debounced burst of changes and publish the result. */
static void
apply_changes(struct serve *sv, struct watch_batch *b)
{
	struct store_changes	 chg;
	struct err		 e;

	err_init(&e);
	if (b->rescan || sv->watch == NULL) {
		/* "lost" only when inotify really overflowed */
		if (b->lost)
			log_warnx("change events were lost (inotify queue "
			    "overflow); rescanning %s", sv->conf->records_dir);
		else if (b->root_moved)
			log_info("%s was moved, deleted or recreated; "
			    "rescanning", sv->conf->records_dir);
		else
			log_debug("rescanning %s", sv->conf->records_dir);
		if (sv->watch == NULL)
			serve_watch_start(sv);
		else if (watch_resync(sv->watch, &e) == -1) {
			log_warnx("%s", e.msg);
			err_clear(&e);
		}
		if (store_scan(sv->store, &e) == -1) {
			log_warnx("rescan: %s", e.msg);
			goto out;
		}
	} else {
		watch_batch_take(b);
		store_update(sv->store, (const char *const *)b->paths,
		    b->npaths, &e);
	}
	/* the store reads only changed files: each problem shows up once */
	log_problems(&e);
	memset(&chg, 0, sizeof(chg));
	serve_rebuild(sv, &chg);
	store_changes_release(&chg);
out:
	watch_batch_clear(b);
	err_release(&e);
}

/*
 * When to apply a burst: once no event came for debounce ms, but no later
 * than max(1 s, debounce) after its first event, so a steady stream of
 * changes still goes live.
 */
static int64_t
burst_deadline(const struct serve *sv, int64_t first, int64_t last)
{
	int64_t	 quiet = sv->conf->debounce_ms, cap = quiet > 1000 ? quiet : 1000;

	return last + quiet < first + cap ? last + quiet : first + cap;
}

/* Milliseconds until the earlier of two deadlines (0: none), for poll(). */
static int
poll_timeout(int64_t a, int64_t b)
{
	int64_t	 t, now = date_mono_ms();

	if (a == 0 || (b != 0 && b < a))
		a = b;
	if (a == 0)
		return -1;
	t = a - now;
	return t < 0 ? 0 : t > INT32_MAX ? INT32_MAX : (int)t;
}

/* The main loop: signals, live updates, the periodic safety-net rescan. */
void
serve_loop(struct serve *sv)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2];
	struct watch_batch	 batch;
	struct err		 e;
	int64_t			 next_rescan = 0, first = 0, last = 0, due;
	int64_t			 retry = 0;
	char			*root;

	memset(&batch, 0, sizeof(batch));
	for (;;) {
		if (sv->conf->rescan_interval > 0 && next_rescan == 0)
			next_rescan = date_mono_ms() +
			    (int64_t)sv->conf->rescan_interval * 1000;
		due = first ? burst_deadline(sv, first, last) : 0;
		/* a failed state commit is retried until it goes through */
		if (store_state_failing(sv->store) && retry == 0)
			retry = date_mono_ms() + STATE_RETRY_MS;
		if (retry && (due == 0 || retry < due))
			due = retry;
		pfd[0].fd = sv->sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sv->watch ? watch_fd(sv->watch) : -1;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, poll_timeout(next_rescan, due)) == -1 &&
		    errno != EINTR)
			fatal("poll");
		if (pfd[0].revents & POLLIN) {
			if (read(sv->sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGHUP) {
				log_info("%s: shutting down",
				    si.ssi_signo == SIGTERM ? "SIGTERM" :
				    "SIGINT");
				break;
			}
			log_info("SIGHUP: reloading");
			root = sv->watch ? strdup(watch_root(sv->watch)) : NULL;
			/* before the rescan, so no change slips between them */
			err_init(&e);
			if (sv->watch != NULL &&
			    watch_resync(sv->watch, &e) == -1)
				log_warnx("%s", e.msg);
			err_release(&e);
			reload(sv);
			/* the reload rescanned everything: no burst pending */
			watch_batch_clear(&batch);
			first = last = 0;
			if (root == NULL ||
			    strcmp(root, sv->conf->records_dir) != 0)
				serve_watch_start(sv);
			free(root);
			continue;
		}
		if (pfd[1].revents & POLLIN) {
			err_init(&e);
			if (watch_read(sv->watch, &batch, &e) == -1) {
				log_warnx("%s; watching again", e.msg);
				watch_free(sv->watch);
				sv->watch = NULL;
				batch.rescan = 1;
			}
			err_release(&e);
			/* events only for ignored names leave nothing to do */
			if (watch_batch_pending(&batch)) {
				last = date_mono_ms();
				if (first == 0)
					first = last;
			}
		}
		if (first && date_mono_ms() >= burst_deadline(sv, first,
		    last)) {
			first = last = 0;
			apply_changes(sv, &batch);
		}
		if (retry && date_mono_ms() >= retry) {
			retry = 0;
			if (store_state_failing(sv->store))
				serve_rebuild(sv, NULL);
		}
		if (next_rescan && date_mono_ms() >= next_rescan) {
			next_rescan = 0;
			batch.rescan = 1;
			apply_changes(sv, &batch);
		}
	}
	watch_batch_release(&batch);
}
