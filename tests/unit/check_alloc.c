/*
 * check_alloc: conf and record parsing when an allocation fails.
 *
 * The Makefile links this suite with --wrap for malloc, calloc, realloc,
 * reallocarray, strdup and strndup, so every call the library's own code
 * makes lands in the wrappers below (libxml2 and libc allocate on their
 * own, unwrapped).  Armed with N, the Nth call fails and every other one
 * succeeds.  Each parse is tried with N = 1, 2, ... until a run makes
 * fewer than N calls: every run with a failure must return NULL with "out
 * of memory" in the error, never crash and, under ASan, never leak.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "record.h"
#include "testlib.h"

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__real_reallocarray(void *, size_t, size_t);
char	*__real_strdup(const char *);
char	*__real_strndup(const char *, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
void	*__wrap_reallocarray(void *, size_t, size_t);
char	*__wrap_strdup(const char *);
char	*__wrap_strndup(const char *, size_t);

static long	 calls;		/* since arm() */
static long	 fail_at;	/* 1-based; 0: disarmed */

static void
arm(long n)
{
	calls = 0;
	fail_at = n;
}

/* Stop failing; calls keeps the count of the run. */
static void
disarm(void)
{
	fail_at = 0;
}

static int
failing(void)
{
	return fail_at > 0 && ++calls == fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return failing() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return failing() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return failing() ? NULL : __real_realloc(p, n);
}

void *
__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return failing() ? NULL : __real_reallocarray(p, n, size);
}

char *
__wrap_strdup(const char *s)
{
	return failing() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return failing() ? NULL : __real_strndup(s, n);
}

/* The wrappers really are in the way: the library's strdup can fail. */
START_TEST(test_wrapped)
{
	arm(1);
	ck_assert_ptr_null(strdup("x"));
	disarm();
}
END_TEST

/* Every directive, lists of each kind, and a default tag-authority. */
static const char conf_text[] =
    "repository-name \"Centre for the Study of Democracy\"\n"
    "base-url https://Research.Example.org/\n"
    "admin-email a@example.org\n"
    "admin-email b@example.org\n"
    "records recs\nstate st\nmax-record-size 512k\n"
    "listen [::1]:8081\nthreads 2\nmax-age 60\n"
    "metrics-local-only no\naccess-log yes\nlog-level debug\n"
    "feed-title T\nfeed-subtitle S\nfeed-author-name A\n"
    "feed-author-email x@example.org\n"
    "feed-author-uri https://example.org/a\n"
    "feed-icon https://example.org/i.png\n"
    "feed-logo https://example.org/l.png\n"
    "feed-rights R\nfeed-language bg\nfeed-entries 20\n"
    "set region:bg \"Bulgaria\" \"Papers on Bulgaria\"\n"
    "set topic \"Topic\"\n"
    "set topic:crime \"Crime\"\n"
    "oai-path /oai2\noai-namespace example.org\n"
    "oai-page-size 10\noai-max-requests 2\noai-retry-after 5\n"
    "oai-token-key 0123456789abcdef0123\n"
    "debounce 10\nrescan-interval 0\n"
    "websub-hub https://hub.example/\n"
    "xmlrpc-ping https://rpc.example/\n"
    "ping-get https://p.example/?u={feed}\n"
    "ping-post https://p.example/ \"u={feed}\"\n"
    "notify-timeout 5\nnotify-max-attempts 3\nnotify-backoff-max 60\n";

START_TEST(test_conf_parse)
{
	struct conf	*c;
	struct err	 e;
	long		 n;

	for (n = 1;; n++) {
		err_init(&e);
		arm(n);
		c = conf_parse_mem(conf_text, sizeof(conf_text) - 1, "t.conf",
		    &e);
		disarm();
		if (calls < n)
			break;		/* nothing failed: the parse is done */
		ck_assert_msg(c == NULL, "allocation %ld failed, yet the "
		    "configuration parsed", n);
		ck_assert_msg(strstr(e.msg, "out of memory") != NULL,
		    "allocation %ld: %s", n, e.msg);
		err_release(&e);
	}
	ck_assert_msg(c != NULL, "%s", e.msg);
	ck_assert_int_eq(e.count, 0);
	ck_assert_str_eq(c->tag_authority, "research.example.org,2000");
	ck_assert_uint_eq(c->nsets, 3);
	ck_assert_uint_eq(c->ntargets, 4);
	conf_unref(c);
	err_release(&e);
	/* an allocation for every string, list and error at least */
	ck_assert_int_gt(n, 40);
}
END_TEST

/* A configuration with errors: failures on the error path too. */
START_TEST(test_conf_errors)
{
	static const char text[] = "repository-name R\nbogus 1\n"
	    "threads 0\nset a: \"N\"\n";
	struct conf	*c;
	struct err	 e;
	long		 n;

	for (n = 1;; n++) {
		err_init(&e);
		arm(n);
		c = conf_parse_mem(text, sizeof(text) - 1, "t.conf", &e);
		disarm();
		ck_assert_ptr_null(c);
		ck_assert_int_ge(e.count, 1);
		err_release(&e);
		if (calls < n)
			break;
	}
	ck_assert_int_gt(n, 3);
}
END_TEST

static struct record_schema	*schema;

static void
setup(void)
{
	schema = tl_record_schema();
}

static void
teardown(void)
{
	record_schema_free(schema);
}

static const char *const records[] = {
	"tests/data/records/good/full-report.xml",
	"tests/data/records/good/event.xml",
	"tests/data/records/good/minimal.xml",
	NULL,	/* minimal.xml under a name longer than an arena chunk */
};

START_TEST(test_record_parse)
{
	static char	 longname[8192];
	struct record	*r;
	struct err	 e;
	size_t		 len;
	const char	*path = records[_i];
	char		*b;
	long		 n;

	if (path == NULL) {
		memset(longname, 'x', sizeof(longname) - 1);
		memcpy(longname, "records/", 8);
		path = longname;
	}
	b = tl_slurp(records[_i] != NULL ? path : records[2], &len);

	for (n = 1;; n++) {
		err_init(&e);
		arm(n);
		r = record_parse_mem(schema, b, len, path, 0, &e);
		disarm();
		if (calls < n)
			break;
		ck_assert_msg(r == NULL, "record %d: allocation %ld failed, "
		    "yet the record parsed", _i, n);
		/* all is complete unless the failure hit err's own buffer */
		ck_assert_msg(e.nlost > 0 || strstr(e.all, "out of memory") !=
		    NULL, "record %d: allocation %ld: %s", _i, n, e.msg);
		err_release(&e);
	}
	ck_assert_msg(r != NULL, "%s", e.msg);
	ck_assert_int_eq(e.count, 0);
	ck_assert_str_eq(r->path, path);
	record_unref(r);
	err_release(&e);
	free(b);
	ck_assert_int_gt(n, 1);
}
END_TEST

static Suite *
alloc_suite(void)
{
	Suite	*s = suite_create("alloc");
	TCase	*tc;

	tc = tcase_create("wrap");
	tcase_add_test(tc, test_wrapped);
	suite_add_tcase(s, tc);
	tc = tcase_create("conf");
	tcase_add_test(tc, test_conf_parse);
	tcase_add_test(tc, test_conf_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("record");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_record_parse, 0, NELEM(records));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (tl_chdir_srcdir() == -1)
		return EXIT_FAILURE;
	return tl_run(alloc_suite());
}
