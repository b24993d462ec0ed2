#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <microhttpd.h>

#include "conf.h"
#include "date.h"
#include "feed.h"
#include "http.h"
#include "log.h"
#include "oai.h"
#include "oai_cache.h"
#include "page_style.h"
#include "rs.h"
#include "snap.h"
#include "banned.h"

/* OAI arguments; big enough that a forged 100 KB token is an OAI error */
#define HTTP_POST_MAX	(256 * 1024)
#define HTTP_OAI_MAX	(256UL * 1024 * 1024)
#define HTTP_ARGS_MAX	64	/* query arguments; OAI-PMH needs at most 7 */
#define HTTP_HEADER_DEADLINE_MS	10000
#define HTTP_CONN_MAX	4096
#define HTTP_PER_IP_MAX	128
#define HTTP_FD_RESERVE	256	/* descriptors kept for records, state, hubs */
/*
 * libmicrohttpd's memory pool per connection: 16 KB, not its 32 KB, for
 * it zeroes the whole pool before every kept-alive request (a fifth of
 * the user CPU of a 304; bench/README.md).  The pool holds the request
 * (its line, its header fields and a record of some 30 bytes for each)
 * and then the response's header, so both are bounded: a request costs
 * its bytes and HTTP_REQ_FIELD_COST a field, at most HTTP_REQ_MAX (else
 * 414 or 431), and the largest response header is a landing page's, some
 * 350 bytes and its Link of at most FEED_LINK_MAX.  Measured on 0.9.75:
 * a request and a response header past some 9.2 KB together get no answer
 * at all, so HTTP_REQ_MAX + FEED_LINK_MAX + 350 stays below that
 * (tests/e2e/test_signposting.py walks the edge).
 */
#define HTTP_POOL		(16 * 1024)
#define HTTP_REQ_MAX		(6 * 1024 + 512)
#define HTTP_REQ_FIELD_COST	32
#define HTTP_RESP_HEAD_MAX	(FEED_LINK_MAX + 350)
_Static_assert(HTTP_REQ_MAX + HTTP_RESP_HEAD_MAX <= 9 * 1024,
    "a request and a response header must fit the connection's pool");

struct http_conn {
	TAILQ_ENTRY(http_conn)	 entry;		/* in h->conns, under h->mu */
	struct http_req		*req;		/* from the URI callback on */
	int64_t			 since_ms;	/* atomic: waiting for headers since */
	int			 fd;
	int			 waiting;	/* atomic */
};
TAILQ_HEAD(http_conns, http_conn);

struct http {
	struct MHD_Daemon	*mhd;
	struct http_opts	 opts;
	int			 oai_active;	/* atomic */
	struct oai_cache	*oai_cache;	/* prepared OAI-PMH responses */
	int			 in_flight;	/* atomic */
	int			 listen_fd;	/* ours, or the one passed */
	int			 port;
	unsigned int		 conn_limit;
	unsigned int		 per_ip_limit;
	/* every open connection, for the header deadline */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct http_conns	 conns;
	pthread_t		 reaper;
	int			 has_reaper;
	int			 stopping;
};

struct http_req {
	struct http		*h;
	struct http_conn	*conn;
	char			*uri;		/* raw request-target */
	char			*agent;		/* User-Agent, for the log */
	const char		*method;
	struct snap		*snap;
	struct buf		 body;		/* POST body */
	int64_t			 start_ms;
	int			 called;
	int			 status;
	uint64_t		 bytes;
	enum metrics_route	 route;
	int			 oai_slot;
	int			 counted;
	int			 reject;	/* status decided before the headers */
};

/*
 * Start or stop the header deadline of a connection: twice a request, so
 * it only writes the connection's own fields (the reaper reads them), no
 * lock shared by the server threads.
 */
static void
http_conn_wait(struct http_conn *conn, int on)
{
	if (conn == NULL)
		return;
	if (!on)
		__atomic_store_n(&conn->waiting, 0, __ATOMIC_RELAXED);
	else if (!__atomic_load_n(&conn->waiting, __ATOMIC_RELAXED)) {
		__atomic_store_n(&conn->since_ms, date_mono_ms(),
		    __ATOMIC_RELAXED);
		__atomic_store_n(&conn->waiting, 1, __ATOMIC_RELEASE);
	}
}

static struct http_conn *
http_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void *
http_uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_req	*req;
	char		*q;
	size_t		 nargs = 0;

	/*
	 * libmicrohttpd 0.9.75 parses the query into the connection's memory
	 * pool right after this callback; when the pool runs out (some 470
	 * arguments) it queues a 431 and then carries on as if nothing
	 * happened, so the client gets no answer and the completion callback
	 * never runs.  The OAI parser reads the query from our copy of the
	 * request-target, so cut libmicrohttpd's copy after the '?': it points
	 * into the connection's read buffer, which is ours to write here.
	 */
	if ((q = strchr(uri, '?')) != NULL) {
		for (nargs = 1; (q = strchr(q + 1, '&')) != NULL; nargs++)
			;
		q = strchr(uri, '?');
		if (q[1] == '\0')
			nargs = 0;
	}
	if ((req = calloc(1, sizeof(*req))) == NULL)
		goto out;
	req->h = cls;
	req->uri = strdup(uri);
	req->start_ms = date_mono_ms();
	req->route = METRICS_ROUTE_OTHER;
	if (nargs > HTTP_ARGS_MAX)
		req->reject = 414;
	buf_init(&req->body, HTTP_POST_MAX);
	/* the connection frees it should libmicrohttpd forget to */
	if ((req->conn = http_conn_of(c)) != NULL)
		req->conn->req = req;
out:
	if (q != NULL)
		q[1] = '\0';
	return req;
}

static void
http_req_free(struct http *h, struct http_req *req)
{
	if (req->conn != NULL)
		req->conn->req = NULL;
	if (req->counted) {
		metrics_count_request(h->opts.metrics, req->route, req->status,
		    req->bytes);
		if (req->snap != NULL && req->snap->conf->access_log)
			log_info("access: %s %s %d %llu %.1fms \"%s\"",
			    req->method ? req->method : "-",
			    req->uri ? req->uri : "-", req->status,
			    (unsigned long long)req->bytes,
			    (double)(date_mono_ms() - req->start_ms),
			    req->agent ? req->agent : "");
		__atomic_sub_fetch(&h->in_flight, 1, __ATOMIC_RELAXED);
	}
	if (req->oai_slot)
		__atomic_sub_fetch(&h->oai_active, 1, __ATOMIC_RELAXED);
	snap_release(req->snap);
	buf_release(&req->body);
	free(req->uri);
	free(req->agent);
	free(req);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req	*req = *con_cls;
	struct http	*h = cls;
	struct http_conn *conn;

	if (req == NULL)
		return;
	conn = req->conn;
	http_req_free(h, req);
	*con_cls = NULL;
	/* a kept-alive connection has the same time for its next request */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		http_conn_wait(conn, 1);
}

static void
http_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo	*ci;
	struct http			*h = cls;
	struct http_conn		*conn = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (conn = calloc(1, sizeof(*conn))) == NULL)
			return;
		conn->fd = ci->connect_fd;
		*socket_context = conn;
		http_conn_wait(conn, 1);
		pthread_mutex_lock(&h->mu);
		TAILQ_INSERT_TAIL(&h->conns, conn, entry);
		pthread_mutex_unlock(&h->mu);
		return;
	}
	if (conn == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	TAILQ_REMOVE(&h->conns, conn, entry);
	pthread_mutex_unlock(&h->mu);
	if (conn->req != NULL)
		http_req_free(h, conn->req);
	free(conn);
	*socket_context = NULL;
}

/*
 * The header deadline: libmicrohttpd's connection timeout is an idle one,
 * which a client sending a header line now and then never reaches.  A
 * connection still short of its request headers HTTP_HEADER_DEADLINE_MS
 * after it was accepted (or after its previous response) is shut down;
 * libmicrohttpd then sees the end of the stream and closes it.  The fd
 * stays valid while the lock is held: the close notification, which runs
 * before libmicrohttpd closes the socket, takes the lock to unlink it.
 * Every connection is looked at four times a second (at most
 * HTTP_CONN_MAX of them), so a request only stores two fields of its own.
 */
static void *
http_reaper(void *arg)
{
	struct http		*h = arg;
	struct http_conn	*conn;
	struct timespec		 ts;
	int64_t			 now;

	pthread_mutex_lock(&h->mu);
	while (!h->stopping) {
		now = date_mono_ms();
		TAILQ_FOREACH(conn, &h->conns, entry) {
			if (!__atomic_load_n(&conn->waiting, __ATOMIC_ACQUIRE) ||
			    now - __atomic_load_n(&conn->since_ms,
			    __ATOMIC_RELAXED) < HTTP_HEADER_DEADLINE_MS)
				continue;
			shutdown(conn->fd, SHUT_RDWR);
			__atomic_store_n(&conn->waiting, 0, __ATOMIC_RELAXED);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000 * 1000 * 1000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static enum MHD_Result
http_queue(struct http_req *req, struct MHD_Connection *c, int status,
    struct MHD_Response *r, size_t bytes)
{
	enum MHD_Result	 rc;

	if (r == NULL) {
		req->status = 500;
		return MHD_NO;
	}
	req->status = status;
	req->bytes = bytes;
	rc = MHD_queue_response(c, (unsigned int)status, r);
	MHD_destroy_response(r);
	return rc;
}

/* A short static text answer; retry_after > 0 adds Retry-After. */
static enum MHD_Result
http_text_retry(struct http_req *req, struct MHD_Connection *c, int status,
    const char *text, int retry_after)
{
	struct MHD_Response	*r;
	char			 retry[16];

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == 405 || status == 501)
		MHD_add_response_header(r, "Allow",
		    req->route == METRICS_ROUTE_OAI ? "GET, HEAD, POST" :
		    "GET, HEAD");
	if (retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", retry_after);
		MHD_add_response_header(r, "Retry-After", retry);
	}
	return http_queue(req, c, status, r, strlen(text));
}

static enum MHD_Result
http_text(struct http_req *req, struct MHD_Connection *c, int status,
    const char *text)
{
	return http_text_retry(req, c, status, text, 0);
}

/* A buffer we own: the response frees it. */
static enum MHD_Result
http_buf(struct http_req *req, struct MHD_Connection *c, int status,
    const char *ctype, struct buf *b)
{
	struct MHD_Response	*r;
	size_t			 len;
	char			*data = buf_detach(b, &len);

	if (data == NULL)
		return MHD_NO;
	r = MHD_create_response_from_buffer_with_free_callback(len, data,
	    free);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	return http_queue(req, c, status, r, len);
}

static int
http_accepts(struct MHD_Connection *c, const char *coding)
{
	return http_accepts_coding(MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING), coding);
}

static int
http_not_modified(struct MHD_Connection *c, const char *etag, int64_t lm)
{
	const char	*inm, *ims;
	int64_t		 since;

	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL)
		return http_etag_match(inm, etag);
	ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	if (ims == NULL || date_parse_http(ims, &since) == -1)
		return 0;
	return lm <= since;
}

/* FAIR Signposting: a landing page's typed links as one Link header. */
static void
http_signposts(struct MHD_Response *r, const struct snap *s,
    const struct snap_doc *d)
{
	struct buf	 link;

	buf_init(&link, 1024 * 1024);
	if (feed_doc_links(s, d->path, &link) == 1)
		MHD_add_response_header(r, "Link", link.data);
	buf_release(&link);
}

static void
http_doc_headers(struct MHD_Response *r, const struct snap *s,
    const struct snap_doc *d, const char *etag)
{
	char	 lm[DATE_HTTP_LEN], cc[64], link[FEED_LINK_MAX];
	size_t	 i, used;
	int	 is_feed, n;

	date_fmt_http(d->last_modified, lm);
	snprintf(cc, sizeof(cc), "public, max-age=%d", s->conf->max_age);
	MHD_add_response_header(r, "ETag", etag);
	MHD_add_response_header(r, "Last-Modified", lm);
	/* the stylesheet's URL changes with its bytes */
	MHD_add_response_header(r, "Cache-Control", strncmp(d->path,
	    PAGE_STYLE_PREFIX, strlen(PAGE_STYLE_PREFIX)) == 0 ?
	    PAGE_STYLE_CACHE : cc);
	MHD_add_response_header(r, "Vary", "Accept-Encoding");
	http_signposts(r, s, d);
	is_feed = strcmp(d->content_type, FEED_ATOM_TYPE) == 0 ||
	    strcmp(d->content_type, FEED_RSS_TYPE) == 0 ||
	    strcmp(d->content_type, FEED_JSON_TYPE) == 0 ||
	    strcmp(d->content_type, FEED_ICS_TYPE) == 0 ||
	    strcmp(d->content_type, RS_TYPE) == 0;	/* ResourceSync */
	if (!is_feed)
		return;
	/*
	 * W3C WebSub 4: the hub and the topic, as headers too, within the
	 * Link budget (HTTP_POOL); the feed's body names every hub.
	 */
	if ((n = snprintf(link, sizeof(link), "<%s%s>; rel=\"self\"",
	    s->conf->base_url, d->path)) < 0 || (size_t)n >= sizeof(link))
		return;
	MHD_add_response_header(r, "Link", link);
	used = (size_t)n + 8;
	for (i = 0; i < s->conf->ntargets; i++) {
		if (s->conf->targets[i].kind != CONF_TARGET_WEBSUB)
			continue;
		n = snprintf(link, sizeof(link), "<%s>; rel=\"hub\"",
		    s->conf->targets[i].url);
		if (n < 0 || (size_t)n >= sizeof(link) ||
		    used + (size_t)n + 8 > FEED_LINK_MAX)
			continue;
		used += (size_t)n + 8;
		MHD_add_response_header(r, "Link", link);
	}
}

/*
 * A document's responses, made on its first request and queued as they
 * are for every later one (libmicrohttpd counts their references): plain,
 * gzip, and a 304 for each, so a request formats no header and copies no
 * byte.  The bodies point at the document's bytes, held until
 * libmicrohttpd lets go of the response.  The headers depend on the
 * configuration too: the responses are for conf only.
 */
enum { HTTP_RESP_PLAIN, HTTP_RESP_GZ, HTTP_RESP_304, HTTP_RESP_304_GZ,
	HTTP_RESP_N };
struct http_resp {
	struct conf		*conf;		/* counted reference */
	struct MHD_Response	*r[HTTP_RESP_N];
};

static void
http_resp_free(void *arg)
{
	struct http_resp	*hr = arg;
	int			 i;

	for (i = 0; i < HTTP_RESP_N; i++)
		if (hr->r[i] != NULL)
			MHD_destroy_response(hr->r[i]);
	conf_unref(hr->conf);
	free(hr);
}

static void
http_drop_doc(void *cls)
{
	snap_doc_drop(cls);
}

/*
 * Not a descriptor for sendfile(2): libmicrohttpd 0.9.75 sends the headers
 * and an in-memory body with one sendmsg(2), but a sealed memfd through
 * sendfile cost 1.25x the CPU per 69 KB response here (bench/README.md).
 */
static struct MHD_Response *
http_resp_body(const struct snap_doc *d, int gz)
{
	struct MHD_Response	*r;

	r = MHD_create_response_from_buffer_with_free_callback_cls(gz ?
	    d->gzlen : d->len, gz ? d->gz : d->body, http_drop_doc,
	    (void *)snap_doc_hold(d));
	if (r == NULL)
		snap_doc_drop(d);
	return r;
}

static struct http_resp *
http_resp_new(const struct snap *s, const struct snap_doc *d)
{
	struct http_resp	*hr;
	int			 i, gz;

	if ((hr = calloc(1, sizeof(*hr))) == NULL)
		return NULL;
	hr->conf = conf_ref(s->conf);
	for (i = 0; i < HTTP_RESP_N; i++) {
		gz = i == HTTP_RESP_GZ || i == HTTP_RESP_304_GZ;
		if (gz && d->gz == NULL)
			continue;
		hr->r[i] = i >= HTTP_RESP_304 ?
		    MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT) : http_resp_body(d, gz);
		if (hr->r[i] == NULL) {
			http_resp_free(hr);
			return NULL;
		}
		if (i < HTTP_RESP_304) {
			MHD_add_response_header(hr->r[i], "Content-Type",
			    d->content_type);
			if (gz)
				MHD_add_response_header(hr->r[i],
				    "Content-Encoding", "gzip");
		}
		http_doc_headers(hr->r[i], s, d, gz ? d->etag_gz : d->etag);
	}
	return hr;
}

/* d's prepared responses for s's configuration, or NULL (answer anew). */
static struct http_resp *
http_resp_get(const struct snap *s, const struct snap_doc *d)
{
	struct http_resp	*hr;

	if ((hr = snap_doc_cache(d)) == NULL) {
		if ((hr = http_resp_new(s, d)) == NULL)
			return NULL;
		if (!snap_doc_cache_set(d, hr)) {
			http_resp_free(hr);
			hr = snap_doc_cache(d);
		}
	}
	return hr->conf == s->conf ? hr : NULL;
}

static enum MHD_Result
http_serve_doc(struct http_req *req, struct MHD_Connection *c,
    const struct snap_doc *d)
{
	struct MHD_Response	*r;
	struct http_resp	*hr;
	int			 gz = d->gz != NULL && http_accepts(c, "gzip");
	const char		*etag = gz ? d->etag_gz : d->etag;
	size_t			 len = gz ? d->gzlen : d->len;
	int			 is_304, status;
	enum MHD_Result		 rc;

	is_304 = http_not_modified(c, etag, d->last_modified);
	if ((hr = http_resp_get(req->snap, d)) != NULL) {
		r = hr->r[(is_304 ? HTTP_RESP_304 : HTTP_RESP_PLAIN) + gz];
		status = is_304 ? 304 : 200;
		req->status = status;
		req->bytes = is_304 ? 0 : len;
		rc = MHD_queue_response(c, (unsigned int)status, r);
		if (rc != MHD_YES)
			req->status = 500;
		return rc;
	}
	if (is_304) {
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
		/*
		 * libmicrohttpd 0.9.75 always adds "Content-Length: 0" here
		 * (RFC 9110 8.6 would rather have none); a second header of
		 * our own would make two conflicting ones, so leave it.
		 */
		http_doc_headers(r, req->snap, d, etag);
		return http_queue(req, c, 304, r, 0);
	}
	/* a cached document's bytes are its own, not the snapshot's */
	r = MHD_create_response_from_buffer_with_free_callback_cls(len,
	    gz ? d->gz : d->body, http_drop_doc, (void *)snap_doc_hold(d));
	if (r == NULL) {
		snap_doc_drop(d);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", d->content_type);
	if (gz)
		MHD_add_response_header(r, "Content-Encoding", "gzip");
	http_doc_headers(r, req->snap, d, etag);
	return http_queue(req, c, 200, r, len);
}

/*
 * An OAI-PMH page's prepared responses in one form: the 200 and its 304,
 * made on the page's first request in that form and queued as they are
 * for every later one, like a document's (http_resp_new()).  The body
 * points at the page's bytes, held until libmicrohttpd lets go of it.
 */
struct http_oai_resp {
	struct MHD_Response	*r[2];		/* 200, 304 */
};

static void
http_oai_resp_free(void *arg)
{
	struct http_oai_resp	*hr = arg;
	int			 i;

	for (i = 0; i < 2; i++)
		if (hr->r[i] != NULL)
			MHD_destroy_response(hr->r[i]);
	free(hr);
}

static void
http_drop_page(void *cls)
{
	oai_page_drop(cls);
}

static struct http_oai_resp *
http_oai_resp_new(struct oai_page *p, enum oai_enc enc)
{
	static const char *const coding[OAI_ENC_N] = { NULL, "gzip",
		"deflate" };
	struct http_oai_resp	*hr;
	const struct oai_body	*b = &p->body[enc];
	int			 i;

	if ((hr = calloc(1, sizeof(*hr))) == NULL)
		return NULL;
	hr->r[0] = MHD_create_response_from_buffer_with_free_callback_cls(
	    b->len, (void *)(uintptr_t)b->data, http_drop_page,
	    oai_page_hold(p));
	if (hr->r[0] == NULL)
		oai_page_drop(p);
	hr->r[1] = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT);
	if (hr->r[0] == NULL || hr->r[1] == NULL) {
		http_oai_resp_free(hr);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		if (i == 0) {
			MHD_add_response_header(hr->r[i], "Content-Type",
			    OAI_TYPE);
			if (coding[enc] != NULL)
				MHD_add_response_header(hr->r[i],
				    "Content-Encoding", coding[enc]);
		}
		MHD_add_response_header(hr->r[i], "ETag", b->etag);
		MHD_add_response_header(hr->r[i], "Cache-Control", "no-cache");
		MHD_add_response_header(hr->r[i], "Vary", "Accept-Encoding");
	}
	return hr;
}

/* Queue page p in form enc: 304 when the client has those bytes. */
static enum MHD_Result
http_oai_page(struct http_req *req, struct MHD_Connection *c,
    struct oai_page *p, enum oai_enc enc)
{
	struct http_oai_resp	*hr;
	const char		*inm;
	int			 is_304;
	enum MHD_Result		 rc;

	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	is_304 = inm != NULL && http_etag_match(inm, p->body[enc].etag);
	if ((hr = oai_page_prep(p, enc)) == NULL) {
		if ((hr = http_oai_resp_new(p, enc)) == NULL)
			return MHD_NO;
		if (!oai_page_prep_set(p, enc, hr)) {
			http_oai_resp_free(hr);
			hr = oai_page_prep(p, enc);
		}
	}
	req->status = is_304 ? 304 : 200;
	req->bytes = is_304 ? 0 : p->body[enc].len;
	rc = MHD_queue_response(c, (unsigned int)req->status, hr->r[is_304]);
	if (rc != MHD_YES)
		req->status = 500;
	return rc;
}

static enum MHD_Result
http_oai(struct http_req *req, struct MHD_Connection *c)
{
	struct http		*h = req->h;
	struct oai_ctx		 ctx;
	struct oai_page		*page;
	struct buf		 out;
	struct err		 e;
	const char		*query;
	size_t			 qlen;
	enum oai_enc		 enc = OAI_ENC_IDENTITY;
	enum MHD_Result		 rc;

	if (req->body.len > 0 || strcmp(req->method, "POST") == 0) {
		const char *ct = MHD_lookup_connection_value(c,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

		if (!http_media_type_is(ct,
		    "application/x-www-form-urlencoded"))
			return http_text(req, c, 400, "OAI-PMH POST requests "
			    "must be application/x-www-form-urlencoded\n");
		query = req->body.data ? req->body.data : "";
		qlen = req->body.len;
	} else {
		query = req->uri ? strchr(req->uri, '?') : NULL;
		query = query ? query + 1 : "";
		qlen = strlen(query);
	}
	buf_init(&out, HTTP_OAI_MAX);
	/* a browser gets a page; a harvester the protocol's badVerb */
	if (qlen == 0 && strcmp(req->method, "POST") != 0 &&
	    http_prefers_html(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT))) {
		err_init(&e);
		if (oai_render_html(req->snap, &out, &e) == -1) {
			log_warnx("oai page: %s", e.msg);
			err_release(&e);
			buf_release(&out);
			return http_text(req, c, 500, "internal error\n");
		}
		err_release(&e);
		return http_buf(req, c, 200, "text/html; charset=utf-8", &out);
	}
	if (__atomic_add_fetch(&h->oai_active, 1, __ATOMIC_RELAXED) >
	    h->opts.oai_max) {
		__atomic_sub_fetch(&h->oai_active, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&h->opts.metrics->oai_rejected, 1,
		    __ATOMIC_RELAXED);
		return http_text_retry(req, c, 503, "too many OAI-PMH "
		    "requests at once; retry later\n",
		    req->snap->conf->oai_retry_after);
	}
	req->oai_slot = 1;
	ctx.key = h->opts.key;
	ctx.keylen = h->opts.keylen;
	ctx.now = date_now();
	if (http_accepts(c, "gzip"))
		enc = OAI_ENC_GZIP;
	else if (http_accepts(c, "deflate"))
		enc = OAI_ENC_DEFLATE;
	err_init(&e);
	page = oai_cache_get(h->oai_cache, req->snap, &ctx, query, qlen, enc,
	    req->snap->conf->oai_cache_bytes, &e);
	/*
	 * The slot bounds rendering, not transmission: a harvester that reads
	 * slowly (or never) must not lock the others out.
	 */
	__atomic_sub_fetch(&h->oai_active, 1, __ATOMIC_RELAXED);
	req->oai_slot = 0;
	if (page == NULL) {
		log_warnx("oai: %s", e.msg);
		err_release(&e);
		return http_text(req, c, 500, "internal error\n");
	}
	err_release(&e);
	metrics_count_verb(h->opts.metrics, page->verb);
	if (page->body[enc].data == NULL)
		enc = OAI_ENC_IDENTITY;		/* compressing failed */
	rc = http_oai_page(req, c, page, enc);
	oai_page_unref(page);
	return rc;
}

static int
http_is_loopback(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) &&
		    a->s6_addr[12] == 127);
	}
	return 0;
}

static enum MHD_Result
http_internal(struct http_req *req, struct MHD_Connection *c, int metrics)
{
	struct http	*h = req->h;
	struct buf	 out;
	int		 rc;

	if (req->snap->conf->metrics_local_only && !http_is_loopback(c))
		return http_text(req, c, 403, "forbidden\n");
	buf_init(&out, 16 * 1024 * 1024);
	if (metrics) {
		rc = metrics_render(h->opts.metrics, req->snap, &out);
		if (rc == 0 && h->opts.extra_metrics != NULL)
			rc = h->opts.extra_metrics(h->opts.extra_arg, &out);
	} else {
		rc = buf_printf(&out, "records %zu live, %zu deleted, %zu "
		    "invalid files\nsnapshot generation %llu\n",
		    req->snap->nlive, req->snap->nitems - req->snap->nlive,
		    req->snap->ninvalid,
		    (unsigned long long)req->snap->generation);
		if (rc == 0 && h->opts.status_text != NULL)
			rc = h->opts.status_text(h->opts.extra_arg, &out);
	}
	if (rc == -1) {
		buf_release(&out);
		return http_text(req, c, 500, "internal error\n");
	}
	return http_buf(req, c, 200, metrics ?
	    "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", &out);
}

static enum MHD_Result
http_dispatch(struct http_req *req, struct MHD_Connection *c, const char *url)
{
	const struct snap_doc	*d;
	enum MHD_Result		 rc;
	const char		*oai = req->snap->conf->oai_path;
	int			 is_get = strcmp(req->method, "GET") == 0 ||
				    strcmp(req->method, "HEAD") == 0;

	if (strcmp(url, oai) == 0) {
		req->route = METRICS_ROUTE_OAI;
		if (!is_get && strcmp(req->method, "POST") != 0)
			return http_text(req, c, 405, "method not allowed\n");
		return http_oai(req, c);
	}
	if (strcmp(url, "/healthz") == 0)
		req->route = METRICS_ROUTE_HEALTH;
	else if (strcmp(url, "/metrics") == 0)
		req->route = METRICS_ROUTE_METRICS;
	else if (strcmp(url, "/status") == 0)
		req->route = METRICS_ROUTE_STATUS;
	else if (strcmp(url, "/") == 0)
		req->route = METRICS_ROUTE_HOME;
	if (!is_get)
		return http_text(req, c, 405, "method not allowed\n");
	switch (req->route) {
	case METRICS_ROUTE_HEALTH:
		/* 503: changes are not going live (see README, State) */
		if (!metrics_state_ok(req->h->opts.metrics))
			return http_text(req, c, 503, "state: failing\n");
		return http_text(req, c, 200, "ok\n");
	case METRICS_ROUTE_METRICS:
	case METRICS_ROUTE_STATUS:
		return http_internal(req, c,
		    req->route == METRICS_ROUTE_METRICS);
	default:
		break;
	}
	if ((d = snap_doc_find(req->snap, url)) == NULL)
		return http_text(req, c, 404, "not found\n");
	if (req->route == METRICS_ROUTE_OTHER)
		req->route = METRICS_ROUTE_FEED;
	rc = http_serve_doc(req, c, d);
	snap_doc_done(d);	/* a response made holds what it sends */
	return rc;
}

struct http_framing {
	size_t		 bytes;		/* what the fields cost the pool */
	int		 nhost;
	int		 nlength;
	int		 nte;
	int		 lengths_differ;
	const char	*length;
};

static enum MHD_Result
http_framing_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_framing	*f = cls;

	f->bytes += strlen(key) + strlen(value) + HTTP_REQ_FIELD_COST;
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		f->nhost++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		f->nte++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->nlength++ > 0 && strcmp(f->length, value) != 0)
			f->lengths_differ = 1;
		f->length = value;
	}
	return MHD_YES;
}

static int
http_is_method(const char *m)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT",
	    "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH" };
	size_t	 i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(m, known[i]) == 0)
			return 1;
	return 0;
}

/*
 * What libmicrohttpd 0.9.75 lets through: the Host rule of RFC 9112 3.2,
 * conflicting framing (a request-smuggling shape, RFC 9112 6.3), a body
 * announced past the cap (refused before it is read), unknown methods.
 * Returns the status to answer with, or 0.
 */
static int
http_check_request(struct http_req *req, struct MHD_Connection *c,
    const char *method, const char *version)
{
	struct http_framing	 f;
	unsigned long long	 len;
	char			*end;

	if (req->reject != 0)
		return req->reject;
	memset(&f, 0, sizeof(f));
	MHD_get_connection_values(c, MHD_HEADER_KIND, http_framing_cb, &f);
	/* the pool must keep room for the response's header (HTTP_POOL) */
	if (req->uri != NULL && strlen(req->uri) > HTTP_REQ_MAX)
		return 414;
	if (f.bytes + (req->uri != NULL ? strlen(req->uri) : 0) >
	    HTTP_REQ_MAX)
		return 431;
	if (f.nhost > 1 || (f.nhost == 0 &&
	    strcmp(version, MHD_HTTP_VERSION_1_1) == 0))
		return 400;
	if (f.lengths_differ || (f.nlength > 0 && f.nte > 0))
		return 400;
	if (f.length != NULL) {
		errno = 0;
		len = strtoull(f.length, &end, 10);
		if (errno == 0 && *end == '\0' && len > HTTP_POST_MAX)
			return 413;
	}
	if (!http_is_method(method))
		return 501;
	return 0;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_req	*req = *con_cls;
	const char	*ua;
	int		 status;

	if (req == NULL)
		return MHD_NO;
	if (!req->called) {
		req->called = 1;
		req->method = method;
		req->counted = 1;
		__atomic_add_fetch(&req->h->in_flight, 1, __ATOMIC_RELAXED);
		http_conn_wait(req->conn, 0);
		if ((ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_USER_AGENT)) != NULL)
			req->agent = strdup(ua);
		/* an answer queued now closes the connection: right for these */
		switch ((status = http_check_request(req, c, method, version))) {
		case 0:
			break;
		case 400:
			return http_text(req, c, 400, "bad request\n");
		case 413:
			return http_text(req, c, 413,
			    "request body too large\n");
		case 414:
			return http_text(req, c, 414, req->reject == 414 ?
			    "too many query arguments\n" :
			    "request-target too long\n");
		case 431:
			return http_text(req, c, 431,
			    "request header fields too large\n");
		default:
			/* the Allow header names the route's methods */
			if ((req->snap = snap_current()) != NULL &&
			    strcmp(http_origin_path(url),
			    req->snap->conf->oai_path) == 0)
				req->route = METRICS_ROUTE_OAI;
			return http_text(req, c, status,
			    "method not implemented\n");
		}
		/*
		 * Queueing on the first call makes libmicrohttpd close the
		 * connection; answering from the second call keeps it alive.
		 */
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* past the cap the body is dropped and answered with 413 */
		if (buf_add(&req->body, upload_data, *upload_data_size) == -1)
			req->body.max = 0;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->body.max == 0)
		return http_text(req, c, 413, "request body too large\n");
	if (req->uri == NULL || (req->snap = snap_current()) == NULL)
		return http_text_retry(req, c, 503, "starting\n", 1);
	/* the absolute form (RFC 9112 3.2.2) is served by its path */
	return http_dispatch(req, c, http_origin_path(url));
}

static int
http_sockaddr(const char *addr, int port, struct sockaddr_storage *ss,
    socklen_t *len, struct err *e)
{
	struct addrinfo	 hints, *res = NULL;
	char		 portstr[16];
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((rc = getaddrinfo(addr, portstr, &hints, &res)) != 0)
		return err_set(e, "listen address '%s': %s", addr,
		    gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
http_stop_reaper(struct http *h)
{
	if (!h->has_reaper)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->reaper, NULL);
	h->has_reaper = 0;
}

/* Bind and listen ourselves, so a failure says why. */
static int
http_listen(const struct http_opts *opts, struct err *e)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = 0;
	int			 fd, one = 1;

	if (http_sockaddr(opts->addr, opts->port, &ss, &sslen, e) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		err_set(e, "cannot listen on %s:%d: %s", opts->addr,
		    opts->port, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, 1024) == -1) {
		err_set(e, "cannot listen on %s%s%s:%d: %s",
		    strchr(opts->addr, ':') ? "[" : "", opts->addr,
		    strchr(opts->addr, ':') ? "]" : "", opts->port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The port a listening socket is bound to (the passed one may differ). */
static int
http_bound_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	return -1;
}

/*
 * Raise the soft descriptor limit to the hard one, then size the
 * connection limits so HTTP clients never take the descriptors record
 * reads, the state and the notification targets need.  Below the limit
 * libmicrohttpd stops polling the listening socket; hitting EMFILE instead
 * makes a worker with no connections spin on accept().
 */
static void
http_limits(struct http *h)
{
	struct rlimit	 rl;
	rlim_t		 fds = 1024, avail;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rlim_t cur = rl.rlim_cur;

			rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
			    rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				rl.rlim_cur = cur;
		}
		fds = rl.rlim_cur;
	}
	avail = fds >= HTTP_FD_RESERVE + 64 ? fds - HTTP_FD_RESERVE : fds / 4;
	if (avail > HTTP_CONN_MAX)
		avail = HTTP_CONN_MAX;
	if (avail < (rlim_t)h->opts.threads)
		avail = (rlim_t)h->opts.threads;
	h->conn_limit = (unsigned int)avail;
	h->per_ip_limit = h->conn_limit / 4 > HTTP_PER_IP_MAX ?
	    HTTP_PER_IP_MAX : h->conn_limit / 4;
	if (h->per_ip_limit == 0)
		h->per_ip_limit = 1;
}

struct http *
http_start(const struct http_opts *opts, struct err *e)
{
	struct http		*h;
	pthread_condattr_t	 ca;
	unsigned int		 flags = MHD_USE_INTERNAL_POLLING_THREAD |
				    MHD_USE_EPOLL | MHD_USE_ITC |
				    MHD_USE_TURBO;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	h->opts = *opts;
	snap_doc_cache_free_fn(http_resp_free);
	if ((h->oai_cache = oai_cache_new(http_oai_resp_free)) == NULL) {
		err_set(e, "out of memory");
		free(h);
		return NULL;
	}
	TAILQ_INIT(&h->conns);
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	http_limits(h);
	h->listen_fd = opts->listen_fd;
	if (h->listen_fd == -1 && (h->listen_fd = http_listen(opts, e)) == -1)
		goto fail;
	if ((h->port = http_bound_port(h->listen_fd)) == -1) {
		err_set(e, "listening socket: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&h->reaper, NULL, http_reaper, h) != 0) {
		err_set(e, "cannot start the header-deadline thread");
		goto fail;
	}
	h->has_reaper = 1;
	errno = 0;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL,
	    http_access, h,
	    MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, h,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, http_conn_notify, h,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)opts->threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	    MHD_OPTION_CONNECTION_LIMIT, h->conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->per_ip_limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->listen_fd,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		err_set(e, "cannot serve on %s:%d: %s", opts->addr, h->port,
		    errno != 0 ? strerror(errno) : "libmicrohttpd failed");
		goto fail;
	}
	return h;
fail:
	http_stop_reaper(h);
	if (h->listen_fd != -1 && opts->listen_fd == -1)
		close(h->listen_fd);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	oai_cache_free(h->oai_cache);
	free(h);
	return NULL;
}

int
http_port(const struct http *h)
{
	return h->port;
}

void
http_stop(struct http *h, int drain_ms)
{
	int64_t		 deadline = date_mono_ms() + drain_ms;
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	MHD_socket	 fd;

	if (h == NULL)
		return;
	/* once quiesced the listening socket is ours to close */
	fd = MHD_quiesce_daemon(h->mhd);
	while (__atomic_load_n(&h->in_flight, __ATOMIC_RELAXED) > 0 &&
	    date_mono_ms() < deadline)
		nanosleep(&ts, NULL);
	http_stop_reaper(h);
	MHD_stop_daemon(h->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	oai_cache_free(h->oai_cache);
	free(h);
}
