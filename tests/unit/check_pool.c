/*
 * check_pool: pool_run() calls fn exactly once per index, on at most the
 * threads asked for, names each call's worker with an index below the
 * count it returns, runs on the caller's thread alone when asked for one
 * thread, and pool_threads() stays within the core count.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "testlib.h"

#define N	5000

struct tally {
	int		 calls[N];	/* atomic */
	size_t		 maxw;		/* atomic */
	pthread_t	 caller;
	int		 elsewhere;	/* atomic: a call off the caller */
};

static void
count(void *arg, size_t w, size_t i)
{
	struct tally	*t = arg;
	size_t		 m;

	__atomic_add_fetch(&t->calls[i], 1, __ATOMIC_RELAXED);
	m = __atomic_load_n(&t->maxw, __ATOMIC_RELAXED);
	while (w > m && !__atomic_compare_exchange_n(&t->maxw, &m, w, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (!pthread_equal(pthread_self(), t->caller))
		__atomic_store_n(&t->elsewhere, 1, __ATOMIC_RELAXED);
}

static const size_t	 nthreads[] = { 0, 1, 2, 3, 4, 16, 100 };

START_TEST(test_each_once)
{
	struct tally	*t = calloc(1, sizeof(*t));
	size_t		 i, ran, want = nthreads[_i];

	ck_assert_ptr_nonnull(t);
	t->caller = pthread_self();
	ran = pool_run(N, want, count, t);
	ck_assert_uint_ge(ran, 1);
	ck_assert_uint_le(ran, want > POOL_MAX_THREADS ? POOL_MAX_THREADS :
	    want > 0 ? want : 1);
	ck_assert_uint_lt(t->maxw, ran);
	for (i = 0; i < N; i++)
		ck_assert_int_eq(t->calls[i], 1);
	if (want <= 1)
		ck_assert_int_eq(t->elsewhere, 0);
	free(t);
}
END_TEST

START_TEST(test_empty_and_small)
{
	struct tally	*t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	t->caller = pthread_self();
	ck_assert_uint_eq(pool_run(0, 4, count, t), 1);
	ck_assert_int_eq(t->calls[0], 0);
	/* never more workers than indices */
	ck_assert_uint_le(pool_run(2, 8, count, t), 2);
	ck_assert_int_eq(t->calls[0], 1);
	ck_assert_int_eq(t->calls[1], 1);
	free(t);
}
END_TEST

START_TEST(test_threads)
{
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t	 cap = ncpu < 1 ? 1 : (size_t)ncpu;

	if (cap > POOL_MAX_THREADS)
		cap = POOL_MAX_THREADS;
	ck_assert_uint_eq(pool_threads(0), cap);
	ck_assert_uint_eq(pool_threads(-3), cap);
	ck_assert_uint_eq(pool_threads(1), 1);
	ck_assert_uint_eq(pool_threads(1000), cap);
}
END_TEST

/* Waiting on the disk: POOL_IO_FACTOR threads a core, within the cap. */
START_TEST(test_io_threads)
{
	size_t	 want = pool_threads(0) * POOL_IO_FACTOR;

	if (want > POOL_MAX_THREADS)
		want = POOL_MAX_THREADS;
	ck_assert_uint_eq(pool_io_threads(0), want);
	ck_assert_uint_eq(pool_io_threads(1), POOL_IO_FACTOR);
	ck_assert_uint_le(pool_io_threads(1000), POOL_MAX_THREADS);
	ck_assert_uint_ge(pool_io_threads(1000), pool_threads(1000));
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite	*s = suite_create("pool");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_each_once, 0,
	    (int)(sizeof(nthreads) / sizeof(nthreads[0])));
	tcase_add_test(tc, test_empty_and_small);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_io_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(pool_suite());
}
