/*
 * bench/mhd_limit.c: the bare libmicrohttpd limit for bench/feeds.sh.
 *
 *	mhd_limit PORT THREADS FILE FILE.gz ETAG ETAG_GZ CACHE_CONTROL [POOL]
 *
 * Answers every request with one static in-memory body, with the flags
 * and thread pool pubfeed's http.c uses, and nothing else: FILE plain,
 * FILE.gz when Accept-Encoding names gzip, 304 when If-None-Match equals
 * the ETag of that coding.  Headers as pubfeed sends them for a feed
 * (Content-Type, ETag, Last-Modified, Cache-Control, Vary).  What pubfeed
 * costs on top of this is its own routing, snapshot and header work.
 * POOL, when given, is libmicrohttpd's per-connection memory
 * (MHD_OPTION_CONNECTION_MEMORY_LIMIT; its default is 32 KB), so the
 * bench can show the limit both as libmicrohttpd ships (pubfeed's pool
 * too) and with a smaller one.  Bench only: no error handling past
 * start-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static char	*body[2];
static size_t	 blen[2];
static const char *etag[2], *cc;

static char *
slurp(const char *path, size_t *len)
{
	FILE	*fp = fopen(path, "rb");
	char	*p;
	long	 n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0)
		exit(1);
	rewind(fp);
	if ((p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, fp) != (size_t)n)
		exit(1);
	fclose(fp);
	*len = (size_t)n;
	return p;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response	*r;
	const char		*ae, *inm;
	enum MHD_Result		 rc;
	int			 gz, status = 200;

	(void)cls; (void)url; (void)method; (void)version;
	(void)upload_data; (void)upload_data_size;
	if (*con_cls == NULL) {		/* second call keeps the connection */
		*con_cls = c;
		return MHD_YES;
	}
	ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
	gz = ae != NULL && strstr(ae, "gzip") != NULL;
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	if (inm != NULL && strcmp(inm, etag[gz]) == 0) {
		status = 304;
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(blen[gz], body[gz],
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Content-Type",
		    "application/atom+xml; charset=utf-8");
		if (gz)
			MHD_add_response_header(r, "Content-Encoding", "gzip");
	}
	MHD_add_response_header(r, "ETag", etag[gz]);
	MHD_add_response_header(r, "Last-Modified",
	    "Mon, 01 Jan 2024 00:00:00 GMT");
	MHD_add_response_header(r, "Cache-Control", cc);
	MHD_add_response_header(r, "Vary", "Accept-Encoding");
	rc = MHD_queue_response(c, (unsigned int)status, r);
	MHD_destroy_response(r);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct MHD_Daemon	*d;
	size_t			 pool = 32 * 1024;	/* libmicrohttpd's default */

	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: mhd_limit PORT THREADS FILE FILE.gz "
		    "ETAG ETAG_GZ CACHE_CONTROL [POOL]\n");
		return 2;
	}
	body[0] = slurp(argv[3], &blen[0]);
	body[1] = slurp(argv[4], &blen[1]);
	etag[0] = argv[5];
	etag[1] = argv[6];
	cc = argv[7];
	if (argc == 9)
		pool = (size_t)strtoul(argv[8], NULL, 10);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_TURBO, (unsigned short)strtol(argv[1], NULL,
	    10), NULL, NULL, answer, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)strtol(argv[2], NULL, 10),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
	    MHD_OPTION_END);
	if (d == NULL)
		return 1;
	for (;;)
		pause();
}
