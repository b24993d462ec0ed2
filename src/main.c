/*
 * pubfeed: command line, start-up order, signals.  No business logic: the
 * modules do the work, main wires them together in the one direction data
 * flows (config -> store -> snapshot -> renderers -> HTTP) and decides what
 * to log.  Only main exits, and only before serving starts.
 */
#include <sys/signalfd.h>

#include <pthread.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <systemd/sd-daemon.h>

#include "cmdcheck.h"
#include "conf.h"
#include "date.h"
#include "export.h"
#include "feed.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "snap.h"
#include "store.h"
#include "syntax.h"
#include "watch.h"
#include "banned.h"

#define DEFAULT_CONF	"/etc/pubfeed/pubfeed.conf"
#define DRAIN_MS	10000
#define NOTIFY_DRAIN_MS	2000	/* notifications due at SIGTERM */
#define STATE_RETRY_MS	2000	/* a failed state commit, again */

struct pubfeed {
	const char	*conf_path;
	const char	*listen;	/* --listen override, or NULL */
	const char	*base_url;	/* --base-url override, or NULL */
	int		 config_only;	/* check --config-only */
	int		 conf_given;	/* -c or $PUBFEED_CONF */
	int		 strict;	/* check --strict */
	int		 json;		/* check --format json */
	int		 nargs;		/* operands after the command */
	int		 replica;	/* serve --replica: STORE_REPLICA */
	struct conf	*conf;
	struct store	*store;
	struct http	*http;
	struct metrics	 metrics;
	int		 sigfd;
	struct watch	*watch;	/* NULL: periodic rescans only */
	struct notify	*notify;	/* serve only */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pubfeed serve [-c FILE] [--listen ADDR:PORT] "
	    "[--base-url URL] [--replica]\n"
	    "       pubfeed check [-c FILE] [--config-only] [--strict] "
	    "[--format text|json] [PATH...]\n"
	    "       pubfeed export [-c FILE] [--base-url URL] DIR\n"
	    "       pubfeed ping [-c FILE] [--base-url URL]\n"
	    "       pubfeed status [-c FILE]\n"
	    "       pubfeed --version | --help\n"
	    "\n"
	    "  serve   load the records, serve feeds and OAI-PMH, follow "
	    "changes\n"
	    "  check   validate the configuration and every record; exit 1 "
	    "on any error\n"
	    "          (--config-only: the configuration alone); with "
	    "PATHs (files or\n"
	    "          directories) only those records, and without -c no "
	    "configuration\n"
	    "          is needed (set names are then not checked)\n"
	    "  export  write every feed document and its .gz as static "
	    "files under DIR\n"
	    "  ping    notify every target of every feed now; exit 1 if "
	    "any failed\n"
	    "  status  each notification target's last success and "
	    "failure\n"
	    "\n"
	    "  --replica            take datestamps from the primary's "
	    "state directory,\n"
	    "                       never write it (several instances, "
	    "one state)\n"
	    "\n"
	    "  -c, --config FILE    configuration (default %s,\n"
	    "                       or $PUBFEED_CONF)\n"
	    "  --listen ADDR:PORT   override 'listen' (port 0: any free "
	    "port)\n"
	    "  --base-url URL       override 'base-url' (behind a proxy)\n"
	    "  --strict             check: warnings fail too (exit 1)\n"
	    "  --format text|json   check: 'path:line:col: error: message' "
	    "lines, or one\n"
	    "                       JSON object per problem (path, line, col, "
	    "severity,\n"
	    "                       code, message)\n",
	    DEFAULT_CONF);
}

/* "127.0.0.1:8080", "[::1]:8080" or ":8080". */
static int
parse_listen(const char *s, char **addr, int *port)
{
	const char	*colon, *start = s, *end;
	char		*tail;
	long		 p;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		start = s + 1;
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		end = colon;
	}
	errno = 0;
	p = strtol(colon + 1, &tail, 10);
	if (errno != 0 || *tail != '\0' || tail == colon + 1 || p < 0 ||
	    p > 65535)
		return -1;
	*addr = end == start ? strdup("0.0.0.0") :
	    strndup(start, (size_t)(end - start));
	*port = (int)p;
	return *addr ? 0 : -1;
}

/* Command-line overrides win over the file, on start and on every reload. */
static int
apply_overrides(const struct pubfeed *pf, struct conf *c, struct err *e)
{
	char	*addr, *url;
	int	 port;
	size_t	 n;

	if (pf->listen != NULL) {
		if (parse_listen(pf->listen, &addr, &port) == -1)
			return err_set(e, "--listen: expected ADDR:PORT: '%s'",
			    pf->listen);
		free(c->listen_addr);
		c->listen_addr = addr;
		c->listen_port = port;
	}
	if (pf->base_url != NULL) {
		if (!syntax_is_base_url(pf->base_url))
			return err_set(e, "--base-url: not an absolute http(s) "
			    "URL without query or fragment: '%s'", pf->base_url);
		if ((url = strdup(pf->base_url)) == NULL)
			return err_set(e, "out of memory");
		n = strlen(url);
		if (n > 0 && url[n - 1] == '/')
			url[n - 1] = '\0';
		free(c->base_url);
		c->base_url = url;
	}
	return 0;
}

static struct conf *
load_conf(const struct pubfeed *pf, struct err *e)
{
	struct conf	*c;

	if ((c = conf_load(pf->conf_path, e)) == NULL)
		return NULL;
	if (apply_overrides(pf, c, e) == -1) {
		conf_unref(c);
		return NULL;
	}
	return c;
}

static void
log_problems(const struct err *e)
{
	if (e->count == 0)
		return;
	if (e->all != NULL)
		log_lines(LOG_LEVEL_WARN, e->all);
	else
		log_warnx("%s", e->msg);
	if (e->nlost > 0)
		log_warnx("%d more problems not shown: out of memory",
		    e->nlost);
}

/*
 * Build the next snapshot off the serving path and swap it in, then tell
 * the notification targets about what changed.  chg may be NULL when the
 * caller does not need the changes; they are collected here anyway.
 */
static int
rebuild(struct pubfeed *pf, struct store_changes *chg)
{
	struct store_changes	 local;
	struct snap		*prev, *next;
	struct err		 e;
	int64_t			 t0 = date_mono_ms();
	char			 status[128];
	int			 rc = -1;

	err_init(&e);
	memset(&local, 0, sizeof(local));
	if (chg == NULL)
		chg = &local;
	prev = snap_current();
	next = store_snapshot(pf->store, chg, &e);
	metrics_set_state(&pf->metrics, !store_state_failing(pf->store));
	if (next == NULL)
		goto out;
	log_problems(&e);
	err_clear(&e);
	if (feed_build(next, prev, &e) == -1) {
		snap_release(next);
		goto out;
	}
	snap_seal(next);
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
	if (pf->notify != NULL && chg->any)
		notify_changed(pf->notify, (const char *const *)chg->sets,
		    chg->nsets);
	rc = 0;
out:
	if (rc == -1)
		log_warnx("rebuild failed, still serving the previous "
		    "snapshot: %s", e.msg);
	metrics_count_reload(&pf->metrics, rc == 0,
	    (uint64_t)(date_mono_ms() - t0));
	snap_release(prev);
	store_changes_release(&local);
	err_release(&e);
	return rc;
}

/* SIGHUP: a new configuration if it parses, then a full rescan. */
static void
reload(struct pubfeed *pf)
{
	struct conf	*c;
	struct err	 e;

	sd_notify(0, "RELOADING=1");
	err_init(&e);
	if ((c = load_conf(pf, &e)) == NULL) {
		log_warnx("configuration not reloaded, keeping the running "
		    "one:");
		log_problems(&e);
	} else {
		if (strcmp(c->listen_addr, pf->conf->listen_addr) != 0 ||
		    c->listen_port != pf->conf->listen_port)
			log_warnx("listen address changes need a restart");
		log_setlevel(c->log_level);
		store_set_conf(pf->store, c);
		if (pf->notify != NULL)
			notify_set_conf(pf->notify, c);
		conf_unref(pf->conf);
		pf->conf = c;
		log_info("configuration reloaded from %s", pf->conf_path);
	}
	err_clear(&e);
	if (store_scan(pf->store, &e) == -1)
		log_warnx("%s", e.msg);
	else
		log_problems(&e);
	err_release(&e);
	rebuild(pf, NULL);
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

/*
 * Live updates: inotify on the records tree.  Without it (no inotify, too
 * many directories for fs.inotify.max_user_watches) the periodic rescan
 * still picks changes up, only later.
 */
static void
watch_start(struct pubfeed *pf)
{
	struct err	 e;

	err_init(&e);
	watch_free(pf->watch);
	pf->watch = watch_new(pf->conf->records_dir, store_wants, &e);
	if (pf->watch == NULL)
		log_warnx("%s; changes are picked up by the periodic rescan "
		    "only", e.msg);
	else
		log_debug("watching %zu directories under %s",
		    watch_ndirs(pf->watch), pf->conf->records_dir);
	err_release(&e);
}

/* Apply one debounced burst of changes and publish the result. */
static void
apply_changes(struct pubfeed *pf, struct watch_batch *b)
{
	struct store_changes	 chg;
	struct err		 e;

	err_init(&e);
	if (b->rescan || pf->watch == NULL) {
		/* "lost" only when inotify really overflowed */
		if (b->lost)
			log_warnx("change events were lost (inotify queue "
			    "overflow); rescanning %s", pf->conf->records_dir);
		else if (b->root_moved)
			log_info("%s was moved, deleted or recreated; "
			    "rescanning", pf->conf->records_dir);
		else
			log_debug("rescanning %s", pf->conf->records_dir);
		if (pf->watch == NULL)
			watch_start(pf);
		else if (watch_resync(pf->watch, &e) == -1) {
			log_warnx("%s", e.msg);
			err_clear(&e);
		}
		if (store_scan(pf->store, &e) == -1) {
			log_warnx("rescan: %s", e.msg);
			goto out;
		}
	} else {
		watch_batch_take(b);
		store_update(pf->store, (const char *const *)b->paths,
		    b->npaths, &e);
	}
	/* the store reads only changed files: each problem shows up once */
	log_problems(&e);
	memset(&chg, 0, sizeof(chg));
	rebuild(pf, &chg);
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
burst_deadline(const struct pubfeed *pf, int64_t first, int64_t last)
{
	int64_t	 quiet = pf->conf->debounce_ms, cap = quiet > 1000 ? quiet : 1000;

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
static void
serve_loop(struct pubfeed *pf)
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
		if (pf->conf->rescan_interval > 0 && next_rescan == 0)
			next_rescan = date_mono_ms() +
			    (int64_t)pf->conf->rescan_interval * 1000;
		due = first ? burst_deadline(pf, first, last) : 0;
		/* a failed state commit is retried until it goes through */
		if (store_state_failing(pf->store) && retry == 0)
			retry = date_mono_ms() + STATE_RETRY_MS;
		if (retry && (due == 0 || retry < due))
			due = retry;
		pfd[0].fd = pf->sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = pf->watch ? watch_fd(pf->watch) : -1;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, poll_timeout(next_rescan, due)) == -1 &&
		    errno != EINTR)
			fatal("poll");
		if (pfd[0].revents & POLLIN) {
			if (read(pf->sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGHUP) {
				log_info("%s: shutting down",
				    si.ssi_signo == SIGTERM ? "SIGTERM" :
				    "SIGINT");
				break;
			}
			log_info("SIGHUP: reloading");
			root = pf->watch ? strdup(watch_root(pf->watch)) : NULL;
			/* before the rescan, so no change slips between them */
			err_init(&e);
			if (pf->watch != NULL &&
			    watch_resync(pf->watch, &e) == -1)
				log_warnx("%s", e.msg);
			err_release(&e);
			reload(pf);
			/* the reload rescanned everything: no burst pending */
			watch_batch_clear(&batch);
			first = last = 0;
			if (root == NULL ||
			    strcmp(root, pf->conf->records_dir) != 0)
				watch_start(pf);
			free(root);
			continue;
		}
		if (pfd[1].revents & POLLIN) {
			err_init(&e);
			if (watch_read(pf->watch, &batch, &e) == -1) {
				log_warnx("%s; watching again", e.msg);
				watch_free(pf->watch);
				pf->watch = NULL;
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
		if (first && date_mono_ms() >= burst_deadline(pf, first,
		    last)) {
			first = last = 0;
			apply_changes(pf, &batch);
		}
		if (retry && date_mono_ms() >= retry) {
			retry = 0;
			if (store_state_failing(pf->store))
				rebuild(pf, NULL);
		}
		if (next_rescan && date_mono_ms() >= next_rescan) {
			next_rescan = 0;
			batch.rescan = 1;
			apply_changes(pf, &batch);
		}
	}
	watch_batch_release(&batch);
}

static int
listen_fd_from_systemd(void)
{
	int	 n = sd_listen_fds(1);

	if (n < 1)
		return -1;
	if (n > 1)
		log_warnx("socket activation passed %d sockets; using the "
		    "first", n);
	return SD_LISTEN_FDS_START;
}

static int
notify_metrics_cb(void *arg, struct buf *out)
{
	return notify_render_metrics(arg, out);
}

static int
notify_status_cb(void *arg, struct buf *out)
{
	return notify_render_status(arg, out);
}

static int
cmd_serve(struct pubfeed *pf, char *const *args)
{
	struct http_opts	 ho;
	struct err		 e;
	sigset_t		 set;
	int			 port, rc = 0;

	err_init(&e);
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		fatalx("%s: configuration has %d error%s; nothing started",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
	}
	log_init(pf->conf->log_level, -1);
	/*
	 * A reload asked for during start-up waits for the loop; SIGTERM stays
	 * deliverable until the first snapshot is up, so a slow first scan can
	 * be stopped (nothing is half-written: state files are renamed in).
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatal("signals");
	metrics_init(&pf->metrics);
	if ((pf->store = store_new(pf->conf, pf->replica ? STORE_REPLICA : 0,
	    &e)) == NULL)
		fatalx("%s", e.msg);
	/* a replica's state directory is the primary's: it notifies */
	if (!pf->replica && (pf->notify = notify_new(pf->conf, &e)) == NULL)
		fatalx("%s", e.msg);
	watch_start(pf);	/* first, so no change slips by the first scan */
	if (store_scan(pf->store, &e) == -1)
		fatalx("%s", e.msg);
	log_problems(&e);
	err_clear(&e);
	if (rebuild(pf, NULL) == -1)
		fatalx("cannot build the first snapshot");
	/* before any long-lived thread starts, so only the signalfd sees them */
	if (block_signals(&set) == -1 ||
	    (pf->sigfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		fatal("signals");
	/* from now on a pending SIGTERM cuts a long batch of reads short */
	store_set_interrupt(pf->store, stop_pending, NULL);
	memset(&ho, 0, sizeof(ho));
	ho.addr = pf->conf->listen_addr;
	ho.port = pf->conf->listen_port;
	ho.listen_fd = listen_fd_from_systemd();
	ho.threads = pf->conf->threads;
	ho.oai_max = pf->conf->oai_max_requests;
	ho.key = store_token_key(pf->store, &ho.keylen);
	ho.metrics = &pf->metrics;
	if (pf->notify != NULL) {
		ho.extra_metrics = notify_metrics_cb;
		ho.status_text = notify_status_cb;
		ho.extra_arg = pf->notify;
	}
	if ((pf->http = http_start(&ho, &e)) == NULL)
		fatalx("%s", e.msg);
	/* after the listener, so a hub can fetch the topics it is told of */
	if (pf->notify != NULL && notify_start(pf->notify, &e) == -1)
		fatalx("%s", e.msg);
	port = http_port(pf->http);
	if (ho.listen_fd != -1)
		log_info("serving on the socket systemd passed (port %d)",
		    port);
	else
		log_info("listening on http://%s%s%s:%d/ (public URL %s/)",
		    strchr(ho.addr, ':') ? "[" : "", ho.addr,
		    strchr(ho.addr, ':') ? "]" : "", port,
		    pf->conf->base_url);
	sd_notify(0, "READY=1");
	serve_loop(pf);
	sd_notify(0, "STOPPING=1");
	/* one last try; a change that cannot be saved makes the exit fail */
	if (store_state_failing(pf->store) && rebuild(pf, NULL) == -1 &&
	    store_state_failing(pf->store)) {
		log_warnx("the state could not be saved: the last changes "
		    "were not published and will be stamped again");
		rc = 1;
	}
	/* pending items stay in the outbox for the next start */
	notify_stop(pf->notify, NOTIFY_DRAIN_MS);
	http_stop(pf->http, DRAIN_MS);
	notify_free(pf->notify);
	pf->notify = NULL;
	snap_publish(NULL);
	watch_free(pf->watch);
	store_free(pf->store);
	conf_unref(pf->conf);
	close(pf->sigfd);
	err_release(&e);
	log_info("stopped");
	return rc;
}

/* Every message of e on stderr, and how many did not fit in memory. */
static void
print_problems(const struct err *e)
{
	if (e->all != NULL)
		fputs(e->all, stderr);
	else if (e->count > 0)
		fprintf(stderr, "%s\n", e->msg);
	if (e->nlost > 0)
		fprintf(stderr, "pubfeed: %d message%s not shown: out of memory\n",
		    e->nlost, e->nlost == 1 ? "" : "s");
}

/* "pubfeed check [PATH...]": the records in the editor's terms (check.c). */
static int
run_check(struct pubfeed *pf, char *const *args, struct err *e)
{
	struct cmdcheck_opts	 o;

	memset(&o, 0, sizeof(o));
	if (pf->conf_given || pf->nargs == 0) {
		if ((pf->conf = load_conf(pf, e)) == NULL) {
			print_problems(e);
			return 1;
		}
		o.conf = pf->conf;
	} else
		fprintf(stderr, "pubfeed: no configuration (-c FILE): set "
		    "names are not checked against the configured sets\n");
	o.paths = (const char *const *)args;
	o.npaths = (size_t)pf->nargs;
	o.is_strict = pf->strict;
	o.is_json = pf->json;
	return cmdcheck_run(&o);
}

static int
cmd_check(struct pubfeed *pf, char *const *args)
{
	struct store	*st;
	struct err	 e;
	size_t		 n;
	int		 rc = 1;

	err_init(&e);
	if (!pf->config_only && (pf->nargs > 0 || pf->json || pf->strict)) {
		rc = run_check(pf, args, &e);
		goto out;
	}
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		print_problems(&e);
		fprintf(stderr, "%s: %d error%s in the configuration\n",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
		goto out;
	}
	if (pf->config_only) {
		printf("%s: configuration ok\n", pf->conf_path);
		rc = 0;
		goto out;
	}
	if ((st = store_new(pf->conf, STORE_READONLY, &e)) == NULL ||
	    store_scan(st, &e) == -1) {
		print_problems(&e);
		store_free(st);
		goto out;
	}
	n = store_check_ids(st, &e);
	store_free(st);
	if (e.count > 0) {
		print_problems(&e);
		fprintf(stderr, "%d problem%s; %zu valid records in %s\n",
		    e.count, e.count == 1 ? "" : "s", n,
		    pf->conf->records_dir);
		goto out;
	}
	printf("%s: configuration ok; %zu records ok in %s\n", pf->conf_path,
	    n, pf->conf->records_dir);
	rc = 0;
out:
	conf_unref(pf->conf);
	err_release(&e);
	return rc;
}

/*
 * "pubfeed ping": every target, every topic of the current state (the
 * collection's feeds and every set's), one attempt each, results on
 * stdout.  The outbox of a running daemon is left alone.
 */
static int
cmd_ping(struct pubfeed *pf, char *const *args)
{
	struct store	*store = NULL;
	struct snap	*s = NULL;
	struct notify	*n = NULL;
	const char	**sets = NULL;
	struct err	 e;
	size_t		 i, failed, total;
	int		 rc = 1;

	err_init(&e);
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		goto out;
	}
	log_setlevel(pf->conf->log_level);
	if (pf->conf->ntargets == 0) {
		printf("%s: no notification targets configured\n",
		    pf->conf_path);
		rc = 0;
		goto out;
	}
	if ((store = store_new(pf->conf, STORE_NOSAVE, &e)) == NULL ||
	    store_scan(store, &e) == -1 ||
	    (s = store_snapshot(store, NULL, &e)) == NULL ||
	    (n = notify_new(pf->conf, &e)) == NULL) {
		log_warnx("%s", e.msg);
		goto out;
	}
	if ((sets = calloc(s->nsets + 1, sizeof(*sets))) == NULL)
		goto out;
	for (i = 0; i < s->nsets; i++)
		sets[i] = s->sets[i].spec;
	failed = notify_send_all(n, sets, s->nsets, stdout);
	total = pf->conf->ntargets * 2 * (s->nsets + 1);
	printf("%zu notification%s, %zu failed\n", total,
	    total == 1 ? "" : "s", failed);
	rc = failed > 0;
out:
	free(sets);
	notify_free(n);
	snap_release(s);
	store_free(store);
	conf_unref(pf->conf);
	err_release(&e);
	return rc;
}

/* "pubfeed status": what the state database says of the targets. */
static int
cmd_status(struct pubfeed *pf, char *const *args)
{
	struct notify	*n = NULL;
	struct buf	 b;
	struct err	 e;
	int		 rc = 1;

	err_init(&e);
	buf_init(&b, 16 * 1024 * 1024);
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		goto out;
	}
	if ((n = notify_new(pf->conf, &e)) == NULL ||
	    notify_render_status(n, &b) == -1) {
		log_warnx("%s", e.count ? e.msg : "out of memory");
		goto out;
	}
	fputs(b.data, stdout);
	rc = 0;
out:
	notify_free(n);
	buf_release(&b);
	conf_unref(pf->conf);
	err_release(&e);
	return rc;
}

/*
 * "pubfeed export DIR": build the snapshot exactly as serve would (same
 * state, so the same datestamps; the state is not written) and write its
 * documents as static files.
 */
static int
cmd_export(struct pubfeed *pf, char *const *args)
{
	const char		*dir = args[0];	/* the one operand */
	struct export_stats	 st;
	struct store		*store = NULL;
	struct snap		*s = NULL;
	struct err		 e;
	int64_t			 t0 = date_mono_ms();
	int			 rc = 1;

	err_init(&e);
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		log_warnx("%s: configuration has %d error%s; nothing exported",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
		goto out;
	}
	log_setlevel(pf->conf->log_level);
	if ((store = store_new(pf->conf, STORE_NOSAVE, &e)) == NULL ||
	    store_scan(store, &e) == -1) {
		log_warnx("%s", e.msg);
		goto out;
	}
	log_problems(&e);
	err_clear(&e);
	if ((s = store_snapshot(store, NULL, &e)) == NULL)
		goto fail;
	log_problems(&e);
	err_clear(&e);
	if (feed_build(s, NULL, &e) == -1)
		goto fail;
	snap_seal(s);
	if (export_snapshot(s, dir, &st, &e) == -1)
		goto fail;
	log_info("exported %zu documents of %zu records to %s: %zu files, "
	    "%llu bytes in %lld ms", st.docs, s->nlive, dir, st.files,
	    (unsigned long long)st.bytes, (long long)(date_mono_ms() - t0));
	rc = 0;
	goto out;
fail:
	log_warnx("export failed: %s", e.msg);
out:
	snap_release(s);
	store_free(store);
	conf_unref(pf->conf);
	err_release(&e);
	return rc;
}

/* Options a command accepts besides -c, as bits of struct command. */
#define OPT_LISTEN	0x1
#define OPT_BASE_URL	0x2
#define OPT_CONFIG_ONLY	0x4
#define OPT_REPLICA	0x8
#define OPT_CHECK	0x10	/* --strict, --format */
#define NARGS_ANY	-1

static const struct command {
	const char	*name;
	int		(*run)(struct pubfeed *, char *const *args);
	int		 nargs;		/* operands after the command */
	int		 options;	/* OPT_* it accepts */
} commands[] = {
	{ "serve", cmd_serve, 0, OPT_LISTEN | OPT_BASE_URL | OPT_REPLICA },
	{ "check", cmd_check, NARGS_ANY, OPT_CONFIG_ONLY | OPT_CHECK },
	{ "export", cmd_export, 1, OPT_BASE_URL },
	{ "ping", cmd_ping, 0, OPT_BASE_URL },
	{ "status", cmd_status, 0, 0 },
};

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "config-only", no_argument, NULL, 'C' },
		{ "replica", no_argument, NULL, 'R' },
		{ "strict", no_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command	*cmd = NULL;
	struct pubfeed		 pf;
	size_t			 i;
	int			 ch, given = 0;

	memset(&pf, 0, sizeof(pf));
	pf.sigfd = -1;
	pf.conf_path = getenv("PUBFEED_CONF") ? getenv("PUBFEED_CONF") :
	    DEFAULT_CONF;
	pf.conf_given = getenv("PUBFEED_CONF") != NULL;
	log_init(LOG_LEVEL_INFO, -1);
	xmlInitParser();
	/* GNU getopt permutes: options may come before or after the command */
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			pf.conf_path = optarg;
			pf.conf_given = 1;
			break;
		case 'S':
			pf.strict = 1;
			given |= OPT_CHECK;
			break;
		case 'F':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0) {
				fprintf(stderr, "pubfeed: --format: expected "
				    "'text' or 'json': '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			pf.json = strcmp(optarg, "json") == 0;
			given |= OPT_CHECK;
			break;
		case 'l':
			pf.listen = optarg;
			given |= OPT_LISTEN;
			break;
		case 'b':
			pf.base_url = optarg;
			given |= OPT_BASE_URL;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pubfeed %s\n", PUBFEED_VERSION);
			return 0;
		case 'C':
			pf.config_only = 1;
			given |= OPT_CONFIG_ONLY;
			break;
		case 'R':
			pf.replica = 1;
			given |= OPT_REPLICA;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (i = 0; optind < argc && i < sizeof(commands) /
	    sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL || (cmd->nargs != NARGS_ANY &&
	    argc - optind - 1 != cmd->nargs) ||
	    (given & ~cmd->options) != 0) {
		if (optind < argc)
			fprintf(stderr, "pubfeed: unknown command, or an option "
			    "or operand it does not take: '%s'\n",
			    argv[optind]);
		usage(stderr);
		return 2;
	}
	pf.nargs = argc - optind - 1;
	return cmd->run(&pf, argv + optind + 1);
}
