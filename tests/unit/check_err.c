/*
 * check_err: the error record keeps every message whole and counts each one
 * once, however long a message is, however many there are, and when one
 * record is merged into another (a file's messages into a scan's).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "testlib.h"

/* Lines of s (each '\n'-terminated). */
static int
nlines(const char *s)
{
	int	 n = 0;

	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

START_TEST(test_first_and_all)
{
	struct err	 e;

	err_init(&e);
	ck_assert_int_eq(err_at(&e, "a.xml", 3, 7, "bad '%s'", "x"), -1);
	ck_assert_int_eq(err_at(&e, "a.xml", 4, 0, "worse"), -1);
	ck_assert_int_eq(err_at(&e, "a.xml", 0, 9, "no line"), -1);
	ck_assert_int_eq(err_set(&e, "plain %d", 42), -1);
	ck_assert_str_eq(e.msg, "a.xml:3:7: bad 'x'");
	ck_assert_str_eq(e.all, "a.xml:3:7: bad 'x'\na.xml:4: worse\n"
	    "a.xml: no line\nplain 42\n");
	ck_assert_int_eq(e.count, 4);
	ck_assert_int_eq(e.nlost, 0);
	ck_assert_uint_eq(e.alllen, strlen(e.all));
	err_clear(&e);
	ck_assert_int_eq(e.count, 0);
	ck_assert_ptr_null(e.all);
	ck_assert_str_eq(e.msg, "");
	err_release(&e);
	/* NULL is accepted and stays a no-op */
	ck_assert_int_eq(err_set(NULL, "x"), -1);
	ck_assert_int_eq(err_at(NULL, "p", 1, 1, "x"), -1);
}
END_TEST

/* A message or a path longer than ERR_MSG_MAX is kept whole in all. */
START_TEST(test_long_message_whole)
{
	struct err	 e;
	char		*path, *val, *want;
	size_t		 n = 3 * ERR_MSG_MAX;

	path = malloc(n + 1);
	val = malloc(n + 1);
	want = malloc(3 * n);
	ck_assert(path != NULL && val != NULL && want != NULL);
	memset(path, 'p', n);
	path[n] = '\0';
	memset(val, 'v', n);
	val[n] = '\0';
	err_init(&e);
	err_at(&e, path, 12, 5, "value '%s'", val);
	snprintf(want, 3 * n, "%s:12:5: value '%s'\n", path, val);
	ck_assert_str_eq(e.all, want);
	ck_assert_int_eq(e.count, 1);
	/* msg is the first message cut to its size */
	ck_assert_uint_eq(strlen(e.msg), ERR_MSG_MAX - 1);
	ck_assert(strncmp(e.msg, want, ERR_MSG_MAX - 1) == 0);
	err_release(&e);
	free(path);
	free(val);
	free(want);
}
END_TEST

/*
 * The old record stopped storing at 256 KB and kept counting: 1 MB of
 * messages must all be there, in order.
 */
START_TEST(test_no_cap)
{
	struct err	 e;
	char		 want[128];
	const char	*p;
	int		 i, n = 10000;

	err_init(&e);
	for (i = 0; i < n; i++)
		err_at(&e, "records/big.xml", i + 1, 3, "message %06d, padded "
		    "out to about one hundred bytes ...................", i);
	ck_assert_int_eq(e.count, n);
	ck_assert_int_eq(e.nlost, 0);
	ck_assert_int_eq(nlines(e.all), n);
	ck_assert_uint_gt(e.alllen, 3 * 256 * 1024);
	p = e.all;
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "records/big.xml:%d:3: message "
		    "%06d,", i + 1, i);
		ck_assert_msg(strncmp(p, want, strlen(want)) == 0,
		    "message %d: %.60s", i, p);
		p = strchr(p, '\n') + 1;
	}
	ck_assert(*p == '\0');
	err_release(&e);
}
END_TEST

/*
 * What the store does with one file's record: 12 messages of a file must
 * arrive as 12 messages (they used to become one, cut at ERR_MSG_MAX).
 */
START_TEST(test_merge_counts_each)
{
	struct err	 file, scan;
	int		 i;

	err_init(&file);
	err_init(&scan);
	err_set(&scan, "first problem");
	for (i = 0; i < 12; i++)
		err_at(&file, "records/reports/many.xml", 8 + i, 0, "href is "
		    "not an absolute http(s) URL: 'not a url %d, with a long "
		    "description to make the line long'", i);
	ck_assert_uint_gt(file.alllen, ERR_MSG_MAX);
	ck_assert_int_eq(err_merge(&scan, &file), -1);
	ck_assert_int_eq(scan.count, 13);
	ck_assert_int_eq(nlines(scan.all), 13);
	ck_assert_str_eq(scan.msg, "first problem");
	ck_assert(strncmp(scan.all, "first problem\n", 14) == 0);
	ck_assert_str_eq(scan.all + 14, file.all);
	/* src is untouched and may be merged again */
	ck_assert_int_eq(file.count, 12);
	err_merge(&scan, &file);
	ck_assert_int_eq(scan.count, 25);
	ck_assert_int_eq(nlines(scan.all), 25);
	err_release(&file);
	err_release(&scan);
}
END_TEST

START_TEST(test_merge_into_empty)
{
	struct err	 src, dst, none;

	err_init(&src);
	err_init(&dst);
	err_init(&none);
	err_at(&src, "x.xml", 1, 2, "one");
	err_at(&src, "x.xml", 2, 2, "two");
	err_merge(&dst, &none);
	ck_assert_int_eq(dst.count, 0);
	ck_assert_ptr_null(dst.all);
	err_merge(&dst, &src);
	ck_assert_str_eq(dst.msg, "x.xml:1:2: one");
	ck_assert_str_eq(dst.all, "x.xml:1:2: one\nx.xml:2:2: two\n");
	ck_assert_int_eq(dst.count, 2);
	ck_assert_int_eq(err_merge(NULL, &src), -1);
	err_release(&src);
	err_release(&dst);
}
END_TEST

/* Messages a record could not store (no memory) stay counted as lost. */
START_TEST(test_merge_keeps_lost)
{
	struct err	 src, dst;

	err_init(&src);
	err_init(&dst);
	err_set(&src, "stored");
	src.count += 3;		/* as err_record() does when realloc fails */
	src.nlost += 3;
	err_merge(&dst, &src);
	ck_assert_int_eq(dst.count, 4);
	ck_assert_int_eq(dst.nlost, 3);
	ck_assert_str_eq(dst.all, "stored\n");
	err_release(&src);
	err_release(&dst);
}
END_TEST

static Suite *
err_suite(void)
{
	Suite	*s = suite_create("err");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_first_and_all);
	tcase_add_test(tc, test_long_message_whole);
	tcase_add_test(tc, test_no_cap);
	tcase_add_test(tc, test_merge_counts_each);
	tcase_add_test(tc, test_merge_into_empty);
	tcase_add_test(tc, test_merge_keeps_lost);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(err_suite());
}
