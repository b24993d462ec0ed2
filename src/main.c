/*
 * pubfeed: the command line, the start-up order and each command.  No
 * business logic: the modules do the work, main wires them together in the
 * one direction data flows (config -> store -> snapshot -> renderers ->
 * HTTP) and decides what to log; the loop "serve" then runs is serve.c's.
 * Only main exits, and only before serving starts.
 */
#include <pthread.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <systemd/sd-daemon.h>

#include "cmdcheck.h"
#include "cmdnew.h"
#include "conf.h"
#include "date.h"
#include "export.h"
#include "feed.h"
#include "http.h"
#include "import.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "rs.h"
#include "serve.h"
#include "snap.h"
#include "store.h"
#include "syntax.h"
#include "watch.h"
#include "banned.h"

#define DEFAULT_CONF	"/etc/pubfeed/pubfeed.conf"
#define DRAIN_MS	10000
#define NOTIFY_DRAIN_MS	2000	/* notifications due at SIGTERM */

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
	const char	*from;		/* import --from */
	const char	*into;		/* import --into */
	int		 update;	/* import --update */
	const char	*id;		/* new --id */
	int		 watch;		/* export --watch */
	struct conf	*conf;	/* check, export, ping, status */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pubfeed serve [-c FILE] [--listen ADDR:PORT] "
	    "[--base-url URL] [--replica]\n"
	    "       pubfeed check [-c FILE] [--config-only] [--strict] "
	    "[--format text|json] [PATH...]\n"
	    "       pubfeed export [-c FILE] [--base-url URL] [--watch] DIR\n"
	    "       pubfeed ping [-c FILE] [--base-url URL]\n"
	    "       pubfeed status [-c FILE]\n"
	    "       pubfeed import [-c FILE] --from csl-json|ris|csv "
	    "[--into DIR] [--update] FILE...\n"
	    "       pubfeed new [--id ID] TYPE\n"
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
	    "          (only files whose bytes changed; files of gone "
	    "documents removed)\n"
	    "  ping    notify every target of every feed now; exit 1 if "
	    "any failed\n"
	    "  status  each notification target's last success and "
	    "failure\n"
	    "  import  write one record file per item of each FILE into "
	    "the records\n"
	    "          directory; exit 1 if any item failed\n"
	    "  new     print a commented record template for TYPE (report, "
	    "article, ...)\n"
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
	    "                       code, message)\n"
	    "  --from FORMAT        import: csl-json, ris or csv\n"
	    "  --into DIR           import: write there, not into 'records'\n"
	    "  --update             import: replace existing record files\n"
	    "  --id ID              new: the record's id\n"
	    "  --watch              export: keep running and export every "
	    "new snapshot\n"
	    "                       (holds the state lock like serve: not "
	    "while a serve\n"
	    "                       or another --watch uses the state; "
	    "SIGTERM stops)\n",
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

/* struct serve's load_conf: SIGHUP reads the file and the overrides again. */
static struct conf *
reload_conf(void *arg, struct err *e)
{
	return load_conf(arg, e);
}

/* What serve and export --watch set up alike before loading the conf. */
static void
serve_init(struct serve *sv, struct pubfeed *pf, struct metrics *m)
{
	memset(sv, 0, sizeof(*sv));
	sv->sigfd = -1;
	sv->conf_path = pf->conf_path;
	sv->load_conf = reload_conf;
	sv->load_arg = pf;
	sv->metrics = m;
}

/*
 * serve_watch_start(), then the listing of the records tree for the first
 * scan, on a thread of their own, timed.
 */
struct watch_start {
	struct serve		*sv;
	struct store_list	*list;	/* NULL: out of memory */
	uint64_t		 ms;
};

static void *
watch_thread(void *arg)
{
	struct watch_start	*wa = arg;
	int64_t			 t = date_mono_ms();

	serve_watch_start(wa->sv);
	wa->ms = (uint64_t)(date_mono_ms() - t);
	wa->list = store_list_new(wa->sv->conf->records_dir);
	return NULL;
}

/* notify_new() on a thread of its own, timed: it only reads the conf. */
struct notify_start {
	struct conf	*conf;
	struct notify	*notify;	/* NULL: e says why */
	struct err	 e;
	uint64_t	 ms;
};

static void *
notify_thread(void *arg)
{
	struct notify_start	*ns = arg;
	int64_t			 t = date_mono_ms();

	ns->notify = notify_new(ns->conf, &ns->e);
	ns->ms = (uint64_t)(date_mono_ms() - t);
	return NULL;
}

/* The time since t into *ms (NULL: not kept), and now. */
static int64_t
startup_lap(int64_t t, uint64_t *ms)
{
	int64_t	 now = date_mono_ms();

	if (ms != NULL)
		*ms = (uint64_t)(now - t);
	return now;
}

/*
 * The first snapshot is served: how long it took since t0, by phase, in
 * one log line and in /metrics.
 */
static void
startup_report(struct metrics *m, int64_t t0, const uint64_t *ph,
    int rows_alongside)
{
	struct snap	*s;
	char		 line[512];
	size_t		 i, len = 0;
	uint64_t	 total = (uint64_t)(date_mono_ms() - t0);

	for (i = 0; i < METRICS_PHASE_COUNT && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		    "%s%s %.2f s%s", i > 0 ? ", " : "",
		    metrics_phase_name((enum metrics_phase)i),
		    (double)ph[i] / 1000.0, i == METRICS_PHASE_WATCH ||
		    i == METRICS_PHASE_LIST || i == METRICS_PHASE_NOTIFY ||
		    (i == METRICS_PHASE_ROWS && rows_alongside) ?
		    " alongside" : "");
	metrics_set_startup(m, total > 0 ? total : 1, ph);
	s = snap_current();
	log_info("start-up: %zu records in %.2f s (%s)", s != NULL ?
	    s->nlive : 0, (double)total / 1000.0, line);
	snap_release(s);
}

static int
cmd_serve(struct pubfeed *pf, char *const *args)
{
	struct http_opts	 ho;
	struct metrics		 metrics;
	struct serve		 sv;
	struct http		*http;
	struct err		 e;
	sigset_t		 set;
	struct watch_start	 wa;
	struct notify_start	 ns;
	pthread_t		 wt, nt;
	uint64_t		 ph[METRICS_PHASE_COUNT];
	int64_t			 t0 = date_mono_ms(), t = t0, rows, walk, rd;
	int			 port, is_watching, is_notifying = 0, rc = 0;

	err_init(&e);
	memset(ph, 0, sizeof(ph));
	serve_init(&sv, pf, &metrics);
	if ((sv.conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		fatalx("%s: configuration has %d error%s; nothing started",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
	}
	log_init(sv.conf->log_level, -1);
	/*
	 * A reload asked for during start-up waits for the loop; SIGTERM stays
	 * deliverable until the first snapshot is up, so a slow first scan can
	 * be stopped (nothing is half-written: state files are renamed in).
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatal("signals");
	metrics_init(&metrics);
	/*
	 * The watches and the listing of the tree need only the conf: done
	 * while the state loads, the watches first, so no change slips by
	 * the scan.
	 */
	memset(&wa, 0, sizeof(wa));
	wa.sv = &sv;
	is_watching = pthread_create(&wt, NULL, watch_thread, &wa) == 0;
	if (!is_watching)
		watch_thread(&wa);	/* no thread: one after the other */
	if ((sv.store = store_new(sv.conf, pf->replica ? STORE_REPLICA : 0,
	    &e)) == NULL)
		fatalx("%s", e.msg);
	t = startup_lap(t, &ph[METRICS_PHASE_STATE]);
	/*
	 * A replica's state directory is the primary's: it notifies.  The
	 * outbox (in the state directory store_new() made) loads alongside
	 * the scan; it is needed from the first snapshot on.
	 */
	memset(&ns, 0, sizeof(ns));
	err_init(&ns.e);
	ns.conf = sv.conf;
	if (!pf->replica) {
		is_notifying = pthread_create(&nt, NULL, notify_thread, &ns) ==
		    0;
		if (!is_notifying)
			notify_thread(&ns);
	}
	if (is_watching && pthread_join(wt, NULL) != 0)
		fatalx("cannot join the watch thread");
	/* the wait for what of those the state did not cover */
	t = startup_lap(t, NULL);
	ph[METRICS_PHASE_WATCH] = wa.ms;
	if (wa.list == NULL)
		fatalx("out of memory");
	ph[METRICS_PHASE_LIST] = (uint64_t)store_list_ms(wa.list);
	if (store_scan_listed(sv.store, wa.list, &e) == -1)
		fatalx("%s", e.msg);
	store_list_free(wa.list);
	log_problems(&e);
	err_clear(&e);
	if (is_notifying && pthread_join(nt, NULL) != 0)
		fatalx("cannot join the notify thread");
	if (!pf->replica && (sv.notify = ns.notify) == NULL)
		fatalx("%s", ns.e.msg);
	err_release(&ns.e);
	ph[METRICS_PHASE_NOTIFY] = ns.ms;
	if (serve_rebuild(&sv, NULL) == -1)
		fatalx("cannot build the first snapshot");
	t = startup_lap(t, NULL);
	store_scan_times(sv.store, &rows, &walk, &rd);
	ph[METRICS_PHASE_ROWS] = (uint64_t)rows;
	ph[METRICS_PHASE_INDEX] = (uint64_t)walk;
	ph[METRICS_PHASE_READ] = (uint64_t)rd;
	ph[METRICS_PHASE_SNAPSHOT] = (uint64_t)sv.snapshot_ms;
	ph[METRICS_PHASE_DOCUMENTS] = (uint64_t)sv.documents_ms;
	/* before any long-lived thread starts, so only the signalfd sees them */
	if (serve_signals(&sv) == -1)
		fatal("signals");
	memset(&ho, 0, sizeof(ho));
	ho.addr = sv.conf->listen_addr;
	ho.port = sv.conf->listen_port;
	ho.listen_fd = listen_fd_from_systemd();
	ho.threads = sv.conf->threads;
	ho.oai_max = sv.conf->oai_max_requests;
	ho.key = store_token_key(sv.store, &ho.keylen);
	ho.metrics = &metrics;
	if (sv.notify != NULL) {
		ho.extra_metrics = notify_metrics_cb;
		ho.status_text = notify_status_cb;
		ho.extra_arg = sv.notify;
	}
	if ((http = http_start(&ho, &e)) == NULL)
		fatalx("%s", e.msg);
	startup_lap(t, &ph[METRICS_PHASE_LISTEN]);
	startup_report(&metrics, t0, ph, store_rows_alongside(sv.store));
	/* after the listener, so a hub can fetch the topics it is told of */
	if (sv.notify != NULL && notify_start(sv.notify, &e) == -1)
		fatalx("%s", e.msg);
	port = http_port(http);
	if (ho.listen_fd != -1)
		log_info("serving on the socket systemd passed (port %d)",
		    port);
	else
		log_info("listening on http://%s%s%s:%d/ (public URL %s/)",
		    strchr(ho.addr, ':') ? "[" : "", ho.addr,
		    strchr(ho.addr, ':') ? "]" : "", port,
		    sv.conf->base_url);
	sd_notify(0, "READY=1");
	serve_loop(&sv);
	sd_notify(0, "STOPPING=1");
	/* one last try; a change that cannot be saved makes the exit fail */
	if (store_state_failing(sv.store) && serve_rebuild(&sv, NULL) == -1 &&
	    store_state_failing(sv.store)) {
		log_warnx("the state could not be saved: the last changes "
		    "were not published and will be stamped again");
		rc = 1;
	}
	/* pending items stay in the outbox for the next start */
	notify_stop(sv.notify, NOTIFY_DRAIN_MS);
	http_stop(http, DRAIN_MS);
	notify_free(sv.notify);
	sv.notify = NULL;
	snap_publish(NULL);
	watch_free(sv.watch);
	store_free(sv.store);
	conf_unref(sv.conf);
	close(sv.sigfd);
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

/* "pubfeed import --from FORMAT [--into DIR] [--update] FILE..." */
static int
cmd_import(struct pubfeed *pf, char *const *args)
{
	struct import_opts	 o;
	struct err		 e;
	int			 rc = 2;

	err_init(&e);
	if (pf->from == NULL || pf->nargs == 0) {
		fprintf(stderr, "pubfeed: import: needs --from FORMAT and at "
		    "least one FILE\n");
		usage(stderr);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.from = pf->from;
	o.dir = pf->into;
	if (o.dir == NULL) {
		if ((pf->conf = load_conf(pf, &e)) == NULL) {
			print_problems(&e);
			rc = 1;
			goto out;
		}
		o.dir = pf->conf->records_dir;
	}
	o.is_update = pf->update;
	o.files = (const char *const *)args;
	o.nfiles = (size_t)pf->nargs;
	rc = import_run(&o);
out:
	conf_unref(pf->conf);
	err_release(&e);
	return rc;
}

/* "pubfeed new TYPE [--id ID]" */
static int
cmd_new(struct pubfeed *pf, char *const *args)
{
	return cmdnew_print(args[0], pf->id, stdout);
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
	struct feed_langs fl;
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
	if ((store = store_new(pf->conf, STORE_EXPORT, &e)) == NULL ||
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
	feed_langs(&fl, s);
	if (notify_set_langs(n, fl.tags, fl.n) == -1)
		goto out;
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
 * state, so the same datestamps; kept in the state unless a serve is
 * running on it, so unchanged records export the same bytes) and bring DIR
 * to its documents: changed files rewritten, files of gone ones removed.
 */
/* export --watch: the directory kept open between snapshots. */
struct export_watch {
	struct export	*ex;
	const char	*dir;
	const struct serve *sv;
	unsigned	 reloads;	/* sv->reloads at the last full check */
};

/*
 * struct serve's published hook: every new snapshot into DIR.  Every file
 * is checked (and one changed by hand restored) at the first export and
 * after each SIGHUP; in between only the files of changed documents.
 */
static int
export_published(void *arg, const struct snap *s)
{
	struct export_watch	*w = arg;
	const char		*dir = w->dir;
	struct export_stats	 st;
	struct err		 e;
	int64_t			 t0 = date_mono_ms();
	int			 rc = -1, full;

	err_init(&e);
	full = w->sv->reloads != w->reloads;
	w->reloads = w->sv->reloads;
	if (export_update(w->ex, s, full, &st, &e) == -1) {
		log_warnx("export of snapshot %llu to %s failed, tried again "
		    "with the next one: %s", (unsigned long long)s->generation,
		    dir, e.msg);
		goto out;
	}
	log_info("exported snapshot %llu to %s: %zu files, %llu bytes "
	    "written, %zu unchanged, %zu removed, %zu rendered, %zu reused "
	    "in %lld ms%s", (unsigned long long)s->generation, dir, st.files,
	    (unsigned long long)st.bytes, st.unchanged, st.removed,
	    st.rendered, st.reused, (long long)(date_mono_ms() - t0),
	    st.is_full ? " (every file checked)" : "");
	rc = 0;
out:
	err_release(&e);
	return rc;
}

/*
 * "pubfeed export --watch DIR": serve's watch and rebuild machinery
 * (serve.c) without the listener and notifications, every published
 * snapshot exported.  It writes datestamps as serve does, so it is a
 * primary: it holds the state lock for its whole run, and refuses to start
 * while a serve or another --watch holds it (two writers of one state
 * cannot exist).  A one-shot export meanwhile reads the state only.
 */
static int
cmd_export_watch(struct pubfeed *pf, const char *dir)
{
	struct metrics		 metrics;
	struct export_watch	 w;
	struct serve		 sv;
	struct err		 e;
	sigset_t		 set;
	int			 rc = 1;

	err_init(&e);
	serve_init(&sv, pf, &metrics);
	memset(&w, 0, sizeof(w));
	w.dir = dir;
	w.sv = &sv;
	sv.published = export_published;
	sv.published_arg = &w;
	if ((sv.conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		log_warnx("%s: configuration has %d error%s; nothing exported",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
		goto out;
	}
	if ((w.ex = export_new(dir, sv.conf->threads)) == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	log_setlevel(sv.conf->log_level);
	/*
	 * Signals wait until the loop reads them (serve_signals() below), so
	 * a SIGTERM during the first export never leaves a temporary file.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		log_warnx("signals: %s", strerror(errno));
		goto out;
	}
	metrics_init(&metrics);
	if ((sv.store = store_new(sv.conf, 0, &e)) == NULL) {
		log_warnx("%s", e.msg);
		goto out;
	}
	serve_watch_start(&sv);	/* first, so no change slips by the scan */
	if (store_scan(sv.store, &e) == -1) {
		log_warnx("%s", e.msg);
		goto out;
	}
	log_problems(&e);
	err_clear(&e);
	if (serve_rebuild(&sv, NULL) == -1)
		goto out;
	if (serve_signals(&sv) == -1) {
		log_warnx("signals: %s", strerror(errno));
		goto out;
	}
	log_info("exporting every change of %s to %s", sv.conf->records_dir,
	    dir);
	serve_loop(&sv);
	rc = 0;
	/* as serve: one last try; a change that cannot be saved fails */
	if (store_state_failing(sv.store) && serve_rebuild(&sv, NULL) == -1 &&
	    store_state_failing(sv.store)) {
		log_warnx("the state could not be saved: the last changes "
		    "were not exported and will be stamped again");
		rc = 1;
	}
out:
	snap_publish(NULL);
	export_free(w.ex);
	watch_free(sv.watch);
	store_free(sv.store);
	conf_unref(sv.conf);
	if (sv.sigfd != -1)
		close(sv.sigfd);
	err_release(&e);
	return rc;
}

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

	if (pf->watch)
		return cmd_export_watch(pf, dir);
	err_init(&e);
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		log_warnx("%s: configuration has %d error%s; nothing exported",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
		goto out;
	}
	log_setlevel(pf->conf->log_level);
	if ((store = store_new(pf->conf, STORE_EXPORT, &e)) == NULL ||
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
	if (feed_build(s, NULL, &e) == -1 || rs_build(s, NULL, &e) == -1)
		goto fail;
	snap_seal(s);
	if (export_snapshot_n(s, dir, pf->conf->threads, &st, &e) == -1)
		goto fail;
	log_info("exported %zu documents of %zu records to %s: %zu files, "
	    "%llu bytes written, %zu unchanged, %zu removed, %zu rendered, "
	    "%zu reused in %lld ms", st.docs, s->nlive, dir, st.files,
	    (unsigned long long)st.bytes, st.unchanged, st.removed,
	    st.rendered, st.reused, (long long)(date_mono_ms() - t0));
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
#define OPT_IMPORT	0x20	/* --from, --into, --update */
#define OPT_NEW		0x40	/* --id */
#define OPT_WATCH	0x80	/* export --watch */
#define NARGS_ANY	-1

static const struct command {
	const char	*name;
	int		(*run)(struct pubfeed *, char *const *args);
	int		 nargs;		/* operands after the command */
	int		 options;	/* OPT_* it accepts */
} commands[] = {
	{ "serve", cmd_serve, 0, OPT_LISTEN | OPT_BASE_URL | OPT_REPLICA },
	{ "check", cmd_check, NARGS_ANY, OPT_CONFIG_ONLY | OPT_CHECK },
	{ "export", cmd_export, 1, OPT_BASE_URL | OPT_WATCH },
	{ "ping", cmd_ping, 0, OPT_BASE_URL },
	{ "status", cmd_status, 0, 0 },
	{ "import", cmd_import, NARGS_ANY, OPT_IMPORT },
	{ "new", cmd_new, 1, OPT_NEW },
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
		{ "from", required_argument, NULL, 'f' },
		{ "into", required_argument, NULL, 'i' },
		{ "update", no_argument, NULL, 'U' },
		{ "id", required_argument, NULL, 'I' },
		{ "watch", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command	*cmd = NULL;
	struct pubfeed		 pf;
	size_t			 i;
	int			 ch, given = 0;

	memset(&pf, 0, sizeof(pf));
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
		case 'f':
			if (strcmp(optarg, "csl-json") != 0 &&
			    strcmp(optarg, "ris") != 0 &&
			    strcmp(optarg, "csv") != 0) {
				fprintf(stderr, "pubfeed: --from: expected "
				    "'csl-json', 'ris' or 'csv': '%s'\n",
				    optarg);
				usage(stderr);
				return 2;
			}
			pf.from = optarg;
			given |= OPT_IMPORT;
			break;
		case 'i':
			pf.into = optarg;
			given |= OPT_IMPORT;
			break;
		case 'U':
			pf.update = 1;
			given |= OPT_IMPORT;
			break;
		case 'I':
			pf.id = optarg;
			given |= OPT_NEW;
			break;
		case 'W':
			pf.watch = 1;
			given |= OPT_WATCH;
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
