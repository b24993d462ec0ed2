/*
 * http: the libmicrohttpd front end.
 *
 * Routes: the pre-rendered documents of the current snapshot (feeds, the
 * home page), the OAI-PMH endpoint (conf->oai_path, GET and POST),
 * /metrics, /healthz and /status.  Every request takes a reference to the
 * snapshot that is current when it starts and answers from it alone, so a
 * swap never shows a half-applied change; document bodies are served
 * straight from snapshot memory, which the response keeps alive.
 *
 * Conditional requests follow RFC 7232 (If-None-Match before
 * If-Modified-Since, weak comparison for If-None-Match, 304 keeps the
 * validators); gzip bodies are pre-compressed per snapshot.  Responses are
 * queued on the second call of the access handler so libmicrohttpd keeps
 * connections alive.  Settings that may change on SIGHUP (max-age, hubs,
 * access log) are read from the snapshot's conf per request.
 *
 * Hostile clients: a request with more than 64 query arguments gets 414
 * (libmicrohttpd's own 414/431 cover request lines and headers past its
 * 32 KB connection buffer); HTTP/1.1 without exactly one Host, differing
 * Content-Length values or Content-Length with Transfer-Encoding get 400;
 * a body past 256 KB gets 413 (before it is read when it is announced);
 * unknown methods get 501 and known but unsupported ones 405, both with
 * Allow; an absolute-form request-target is served by its path.  A
 * connection must complete its request headers within 10 s of being
 * accepted or of its previous response, or it is shut down.  Connections
 * are capped per client address and in total, below the descriptor limit
 * (see http_start()).  An OAI-PMH slot is held while a response is
 * rendered, not while it is sent.
 */
#ifndef PUBFEED_HTTP_H
#define PUBFEED_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "metrics.h"

struct http;

struct http_opts {
	const char		*addr;		/* numeric IPv4 or IPv6 */
	int			 port;		/* 0: any free port */
	int			 listen_fd;	/* socket activation, or -1 */
	int			 threads;
	int			 oai_max;	/* concurrent OAI requests */
	const unsigned char	*key;		/* resumption-token key */
	size_t			 keylen;
	struct metrics		*metrics;
	/* extra text for /metrics and /status (notification targets) */
	int			(*extra_metrics)(void *, struct buf *);
	int			(*status_text)(void *, struct buf *);
	void			*extra_arg;
};

/*
 * Listen (on opts->listen_fd, or on a socket of our own bound to
 * addr:port) and serve on libmicrohttpd's threads.  Raises the soft
 * RLIMIT_NOFILE to the hard limit (when the process may) and caps HTTP
 * connections at the limit less 256 descriptors (a quarter of it when the
 * limit is tiny), at most 4096, and per client address at a quarter of
 * that, at most 128.  NULL with e set on failure; a listening error says
 * why ("cannot listen on 127.0.0.1:8080: Address already in use").
 */
struct http	*http_start(const struct http_opts *, struct err *e);
/* The port actually bound: with port 0, or the one systemd passed. */
int		 http_port(const struct http *);
/*
 * Stop accepting, let requests in flight finish for up to drain_ms, then
 * close everything and free h.
 */
void		 http_stop(struct http *h, int drain_ms);

/*
 * Header parsers, pure functions over the raw header value (NULL = absent),
 * in http_parse.c so they can be fuzzed.
 *
 * http_accepts_coding: 1 when an Accept-Encoding value accepts coding
 * (listed, or "*", with q > 0; "gzip;q=0" refuses it; RFC 7231 5.3.4).
 * http_etag_match: 1 when an If-None-Match value matches etag by the weak
 * comparison of RFC 7232 3.2 ("*" alone, a list, W/ prefixes; a "*"
 * inside a list makes the field invalid, which matches nothing).
 * http_media_type_is: 1 when a Content-Type value names exactly the media
 * type type (case-insensitive), with or without parameters (RFC 9110 8.3.1):
 * "application/x-www-form-urlencoded; charset=utf-8" is that type,
 * "application/x-www-form-urlencodedXYZ" is not.
 * http_prefers_html: 1 when an Accept value (RFC 9110 12.5.1: q-values,
 * the most specific range wins) rates text/html above both text/xml and
 * application/xml; a tie, a bare wildcard or no Accept at all gives 0.
 * http_origin_path: the path of a request-target: for the absolute form
 * ("http://host:port/path", RFC 9112 3.2.2) a pointer to its path inside
 * target ("/" when it has none), otherwise target itself.
 */
int		 http_accepts_coding(const char *accept_encoding,
		    const char *coding);
int		 http_etag_match(const char *if_none_match, const char *etag);
int		 http_media_type_is(const char *content_type, const char *type);
int		 http_prefers_html(const char *accept);
const char	*http_origin_path(const char *target);

#endif
