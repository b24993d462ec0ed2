/*
 * serve: the loop of "pubfeed serve" once everything is started — signals
 * (SIGHUP reloads, SIGTERM and SIGINT stop), live updates from the watch,
 * the periodic rescan, the retry of a failed state commit — and the two
 * things it does: rebuild (a new snapshot, published, then the
 * notification targets told) and reload (a new configuration, a rescan).
 *
 * main.c fills struct serve in its start-up order and owns what it points
 * to; serve.c only replaces conf (reload) and watch (restarts).  It logs,
 * as an orchestrator does, and never exits but through fatal() when poll()
 * itself fails.  Single-threaded: the main thread only.
 */
#ifndef PUBFEED_SERVE_H
#define PUBFEED_SERVE_H

#include "conf.h"
#include "err.h"
#include "metrics.h"
#include "notify.h"
#include "snap.h"
#include "store.h"
#include "watch.h"

struct serve {
	const char	*conf_path;	/* for messages */
	/* SIGHUP: the new configuration (command-line overrides applied) */
	struct conf	*(*load_conf)(void *arg, struct err *e);
	void		*load_arg;
	struct conf	*conf;		/* one reference, replaced on reload */
	struct store	*store;
	struct metrics	*metrics;
	struct notify	*notify;	/* NULL: no notifications (replica) */
	struct watch	*watch;		/* NULL: periodic rescans only */
	int		 sigfd;		/* serve_signals(), else -1 */
	/*
	 * NULL, or called with each new snapshot right after it is published
	 * ("pubfeed export --watch" writes it out); it logs its own failures
	 * and its -1 fails the rebuild.
	 */
	int		(*published)(void *arg, const struct snap *s);
	void		*published_arg;
	unsigned	 reloads;	/* SIGHUPs so far (export --watch) */
	/* the last serve_rebuild(), ms: store_snapshot(), the documents */
	int64_t		 snapshot_ms, documents_ms;
};

/*
 * Build the next snapshot off the serving path, publish it, then notify
 * what changed.  chg (may be NULL) receives the changes; the caller
 * releases it.  0, or -1 (logged) with the previous snapshot still served.
 */
int	serve_rebuild(struct serve *, struct store_changes *chg);
/*
 * (Re)start the inotify watch on the records tree; without one (no
 * inotify, too many directories) the periodic rescan still picks changes
 * up, only later, and that is logged.
 */
void	serve_watch_start(struct serve *);
/*
 * Block SIGHUP, SIGTERM and SIGINT (before any long-lived thread starts,
 * so only the signalfd sees them), ignore SIGPIPE, open s->sigfd and let
 * a pending SIGTERM cut the store's long batches of reads short.  0 or -1
 * (errno set).
 */
int	serve_signals(struct serve *);
/* Run until SIGTERM or SIGINT. */
void	serve_loop(struct serve *);

#endif
