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

#include "conf.h"
#include "date.h"
#include "feed.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "snap.h"
#include "store.h"
#include "banned.h"

#define DEFAULT_CONF	"/etc/pubfeed/pubfeed.conf"
#define DRAIN_MS	10000

struct pubfeed {
	const char	*conf_path;
	const char	*listen;	/* --listen override, or NULL */
	const char	*base_url;	/* --base-url override, or NULL */
	struct conf	*conf;
	struct store	*store;
	struct http	*http;
	struct metrics	 metrics;
	int		 sigfd;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pubfeed serve [-c FILE] [--listen ADDR:PORT] "
	    "[--base-url URL]\n"
	    "       pubfeed check [-c FILE]\n"
	    "       pubfeed --version | --help\n"
	    "\n"
	    "  serve   load the records, serve feeds and OAI-PMH, follow "
	    "changes\n"
	    "  check   validate the configuration and every record; exit 1 "
	    "on any problem\n"
	    "\n"
	    "  -c, --config FILE    configuration (default %s,\n"
	    "                       or $PUBFEED_CONF)\n"
	    "  --listen ADDR:PORT   override 'listen' (port 0: any free "
	    "port)\n"
	    "  --base-url URL       override 'base-url' (behind a proxy)\n",
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
		if (!record_url_is_absolute(pf->base_url))
			return err_set(e, "--base-url: not an absolute http(s) "
			    "URL: '%s'", pf->base_url);
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
}

/* Build the next snapshot off the serving path and swap it in. */
static int
rebuild(struct pubfeed *pf, struct store_changes *chg)
{
	struct snap	*prev, *next;
	struct err	 e;
	int64_t		 t0 = date_mono_ms();
	char		 status[128];
	int		 rc = -1;

	err_init(&e);
	prev = snap_current();
	if ((next = store_snapshot(pf->store, chg, &e)) == NULL)
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
	    "files, %zu documents, built in %lld ms",
	    (unsigned long long)next->generation, next->nlive,
	    next->nitems - next->nlive, next->ninvalid, next->ndocs,
	    (long long)(date_mono_ms() - t0));
	snap_publish(next);
	sd_notify(0, status);
	rc = 0;
out:
	if (rc == -1)
		log_warnx("rebuild failed, still serving the previous "
		    "snapshot: %s", e.msg);
	metrics_count_reload(&pf->metrics, rc == 0,
	    (uint64_t)(date_mono_ms() - t0));
	snap_release(prev);
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

/* The main loop: signals and the periodic safety-net rescan. */
static void
serve_loop(struct pubfeed *pf)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd;
	struct err		 e;
	int64_t			 next_rescan = 0;
	int			 timeout;

	for (;;) {
		if (pf->conf->rescan_interval > 0 && next_rescan == 0)
			next_rescan = date_mono_ms() +
			    (int64_t)pf->conf->rescan_interval * 1000;
		timeout = next_rescan ? (int)(next_rescan - date_mono_ms()) : -1;
		if (next_rescan && timeout < 0)
			timeout = 0;
		pfd.fd = pf->sigfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) == -1 && errno != EINTR)
			fatal("poll");
		if (pfd.revents & POLLIN) {
			if (read(pf->sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				log_info("SIGHUP: reloading");
				reload(pf);
				continue;
			}
			log_info("%s: shutting down",
			    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		if (next_rescan && date_mono_ms() >= next_rescan) {
			next_rescan = 0;
			err_init(&e);
			if (store_scan(pf->store, &e) == 0) {
				log_problems(&e);
				rebuild(pf, NULL);
			} else
				log_warnx("rescan: %s", e.msg);
			err_release(&e);
		}
	}
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
cmd_serve(struct pubfeed *pf)
{
	struct http_opts	 ho;
	struct err		 e;
	sigset_t		 set;
	int			 port;

	err_init(&e);
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		log_problems(&e);
		fatalx("%s: configuration has %d error%s; nothing started",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
	}
	log_init(pf->conf->log_level, -1);
	if (block_signals(&set) == -1 ||
	    (pf->sigfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		fatal("signals");
	metrics_init(&pf->metrics);
	if ((pf->store = store_new(pf->conf, 0, &e)) == NULL)
		fatalx("%s", e.msg);
	if (store_scan(pf->store, &e) == -1)
		fatalx("%s", e.msg);
	log_problems(&e);
	err_clear(&e);
	if (rebuild(pf, NULL) == -1)
		fatalx("cannot build the first snapshot");
	memset(&ho, 0, sizeof(ho));
	ho.addr = pf->conf->listen_addr;
	ho.port = pf->conf->listen_port;
	ho.listen_fd = listen_fd_from_systemd();
	ho.threads = pf->conf->threads;
	ho.oai_max = pf->conf->oai_max_requests;
	ho.key = store_token_key(pf->store, &ho.keylen);
	ho.metrics = &pf->metrics;
	if ((pf->http = http_start(&ho, &e)) == NULL)
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
	http_stop(pf->http, DRAIN_MS);
	snap_publish(NULL);
	store_free(pf->store);
	conf_unref(pf->conf);
	close(pf->sigfd);
	err_release(&e);
	log_info("stopped");
	return 0;
}

static int
cmd_check(struct pubfeed *pf)
{
	struct store	*st;
	struct err	 e;
	size_t		 n;
	int		 rc = 1;

	err_init(&e);
	if ((pf->conf = load_conf(pf, &e)) == NULL) {
		fputs(e.all ? e.all : e.msg, stderr);
		fprintf(stderr, "%s: %d error%s in the configuration\n",
		    pf->conf_path, e.count, e.count == 1 ? "" : "s");
		goto out;
	}
	if ((st = store_new(pf->conf, STORE_READONLY, &e)) == NULL ||
	    store_scan(st, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		store_free(st);
		goto out;
	}
	n = store_check_ids(st, &e);
	store_free(st);
	if (e.count > 0) {
		fputs(e.all ? e.all : e.msg, stderr);
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

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct pubfeed	 pf;
	const char	*cmd = NULL;
	int		 ch;

	memset(&pf, 0, sizeof(pf));
	pf.sigfd = -1;
	pf.conf_path = getenv("PUBFEED_CONF") ? getenv("PUBFEED_CONF") :
	    DEFAULT_CONF;
	log_init(LOG_LEVEL_INFO, -1);
	xmlInitParser();
	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		argv++;
		argc--;
	}
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			pf.conf_path = optarg;
			break;
		case 'l':
			pf.listen = optarg;
			break;
		case 'b':
			pf.base_url = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pubfeed %s\n", PUBFEED_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || cmd == NULL) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(&pf);
	if (strcmp(cmd, "check") == 0 && pf.listen == NULL &&
	    pf.base_url == NULL)
		return cmd_check(&pf);
	fprintf(stderr, "pubfeed: unknown command or option for it: '%s'\n",
	    cmd);
	usage(stderr);
	return 2;
}
