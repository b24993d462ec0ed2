/*
 * check_metrics: the request counters are kept per thread (shards) and
 * summed on rendering; counted from more threads than there are shards at
 * once, /metrics shows every request exactly once.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "testlib.h"

#define NTHREADS	(METRICS_SHARDS + 5)	/* some shards shared */
#define NCOUNT		20000

static struct metrics	 m;

static void *
counter(void *arg)
{
	int	 i, id = (int)(intptr_t)arg;

	for (i = 0; i < NCOUNT; i++) {
		metrics_count_request(&m, METRICS_ROUTE_FEED,
		    i % 2 ? 304 : 200, i % 2 ? 0 : 10);
		if (id % 3 == 0)
			metrics_count_request(&m, METRICS_ROUTE_OAI, 503, 1);
	}
	return NULL;
}

/* The value of the exposition line starting with name, or -1. */
static long long
value(const struct buf *b, const char *name)
{
	const char	*p = b->data;
	size_t		 n = strlen(name);
	long long	 v;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == ' ' &&
		    sscanf(p + n + 1, "%lld", &v) == 1)
			return v;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

START_TEST(counts_from_many_threads_add_up)
{
	pthread_t	 t[NTHREADS];
	struct buf	 out;
	long long	 oai = 0;
	int		 i;

	metrics_init(&m);
	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, counter,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NTHREADS; i++)
		if (i % 3 == 0)
			oai += NCOUNT;
	buf_init(&out, 1024 * 1024);
	ck_assert_int_eq(metrics_render(&m, NULL, &out), 0);
	ck_assert_int_eq(value(&out, "pubfeed_http_requests_total"
	    "{route=\"feed\",status=\"200\"}"), (long long)NTHREADS * NCOUNT / 2);
	ck_assert_int_eq(value(&out, "pubfeed_http_requests_total"
	    "{route=\"feed\",status=\"304\"}"), (long long)NTHREADS * NCOUNT / 2);
	ck_assert_int_eq(value(&out, "pubfeed_http_requests_total"
	    "{route=\"oai\",status=\"503\"}"), oai);
	ck_assert_int_eq(value(&out, "pubfeed_http_response_bytes_total"),
	    (long long)NTHREADS * NCOUNT / 2 * 10 + oai);
	/* a route and status never counted is left out */
	ck_assert_int_eq(value(&out, "pubfeed_http_requests_total"
	    "{route=\"home\",status=\"200\"}"), -1);
	buf_release(&out);
}
END_TEST

START_TEST(unknown_status_counts_bytes_only)
{
	struct buf	 out;

	metrics_init(&m);
	metrics_count_request(&m, METRICS_ROUTE_FEED, 431, 27);
	buf_init(&out, 1024 * 1024);
	ck_assert_int_eq(metrics_render(&m, NULL, &out), 0);
	ck_assert_ptr_null(strstr(out.data, "status=\"431\""));
	ck_assert_int_eq(value(&out, "pubfeed_http_response_bytes_total"), 27);
	buf_release(&out);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, counts_from_many_threads_add_up);
	tcase_add_test(tc, unknown_status_counts_bytes_only);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
