/*
 * check_vec: vec_grow() under allocation failure.
 *
 * The test compiles src/vec.c itself with realloc() renamed to a wrapper
 * that fails its Nth call, so the code under test is the library's own
 * text; the library's vec.o is then not linked (nothing else here needs
 * it).  Every N from the first call to one past the last is tried: after
 * each failure the array and its capacity must be what they were, and
 * pushing on must keep every element.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static long	 realloc_calls;	/* calls so far */
static long	 realloc_fail_at;	/* fail this call (1-based); 0: never */

static void *
failing_realloc(void *p, size_t n)
{
	if (++realloc_calls == realloc_fail_at)
		return NULL;
	return realloc(p, n);
}

#define realloc	failing_realloc
#include "../../src/vec.c"
#undef realloc

#include "testlib.h"

#define PUSHES	1000

/* Push PUSHES ints, growing with vec_grow(); how many growths failed. */
static int
push_all(void)
{
	int	*v = NULL, *was;
	size_t	 cap = 0, n = 0, oldcap, i;
	int	 failures = 0;

	while (n < PUSHES) {
		was = v;
		oldcap = cap;
		if (vec_grow((void **)&v, &cap, n + 1, sizeof(*v)) == -1) {
			/* untouched, so the old elements are still there */
			ck_assert_ptr_eq(v, was);
			ck_assert_uint_eq(cap, oldcap);
			failures++;
			continue;	/* the wrapper fails only once */
		}
		ck_assert_uint_ge(cap, n + 1);
		v[n] = (int)n;
		n++;
	}
	for (i = 0; i < n; i++)
		ck_assert_int_eq(v[i], (int)i);
	free(v);
	return failures;
}

START_TEST(test_grow_fail_nth)
{
	long	 total, nth;

	realloc_calls = 0;
	realloc_fail_at = 0;
	ck_assert_int_eq(push_all(), 0);
	total = realloc_calls;
	/* 16, 32, ..., 1024: seven growths for 1000 ints */
	ck_assert_int_eq(total, 7);
	for (nth = 1; nth <= total + 1; nth++) {
		realloc_calls = 0;
		realloc_fail_at = nth;
		ck_assert_int_eq(push_all(), nth <= total ? 1 : 0);
	}
}
END_TEST

START_TEST(test_grow_noop)
{
	int	*v = NULL;
	size_t	 cap = 0;

	realloc_calls = 0;
	realloc_fail_at = 0;
	ck_assert_int_eq(vec_grow((void **)&v, &cap, 0, sizeof(*v)), 0);
	ck_assert_int_eq(realloc_calls, 0);
	ck_assert_int_eq(vec_grow((void **)&v, &cap, 16, sizeof(*v)), 0);
	ck_assert_uint_eq(cap, 16);
	ck_assert_int_eq(vec_grow((void **)&v, &cap, 16, sizeof(*v)), 0);
	ck_assert_int_eq(realloc_calls, 1);
	ck_assert_int_eq(vec_grow((void **)&v, &cap, 17, sizeof(*v)), 0);
	ck_assert_uint_eq(cap, 32);
	free(v);
}
END_TEST

/* Sizes that overflow size_t fail before any allocation. */
START_TEST(test_grow_overflow)
{
	void	*v = NULL;
	size_t	 cap = 0;

	realloc_calls = 0;
	realloc_fail_at = 0;
	ck_assert_int_eq(vec_grow(&v, &cap, SIZE_MAX / 4 + 1, 4), -1);
	ck_assert_int_eq(vec_grow(&v, &cap, SIZE_MAX, 1), -1);
	/* 16 elements of this size already overflow */
	ck_assert_int_eq(vec_grow(&v, &cap, 1, SIZE_MAX / 8), -1);
	ck_assert_int_eq(realloc_calls, 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(cap, 0);
}
END_TEST

static Suite *
vec_suite(void)
{
	Suite	*s = suite_create("vec");
	TCase	*tc = tcase_create("grow");

	tcase_add_test(tc, test_grow_fail_nth);
	tcase_add_test(tc, test_grow_noop);
	tcase_add_test(tc, test_grow_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(vec_suite());
}
