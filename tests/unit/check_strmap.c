/*
 * check_strmap: the string map, table-driven, and under allocation failure.
 *
 * As check_vec does, the suite compiles src/strmap.c itself with calloc()
 * renamed to a wrapper that fails its Nth call, so the code under test is
 * the library's own text (the library's strmap.o is then not linked).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long	 calloc_calls;		/* calls so far */
static long	 calloc_fail_at;	/* fail this call (1-based); 0: never */

static void *
failing_calloc(size_t n, size_t size)
{
	if (++calloc_calls == calloc_fail_at)
		return NULL;
	return calloc(n, size);
}

#define calloc	failing_calloc
#include "../../src/strmap.c"
#undef calloc

#include "testlib.h"

#define NKEYS	1000

static void
alloc_reset(long fail_at)
{
	calloc_calls = 0;
	calloc_fail_at = fail_at;
}

/*
 * Keys as (bytes, length): a key need not end at a NUL, so prefixes of one
 * string are distinct keys, and "" is a key like any other.
 */
struct key {
	const char	*p;
	size_t		 len;
};

static const struct {
	const char	*name;
	struct key	 put[6];	/* put in order, {NULL} ends */
	size_t		 n;		/* distinct keys among them */
	struct key	 absent[4];	/* none of them is found */
} cases[] = {
	{ "one", { { "a", 1 } }, 1, { { "b", 1 }, { "", 0 }, { "aa", 2 } } },
	{ "prefixes", { { "a:b:c", 1 }, { "a:b:c", 3 }, { "a:b:c", 5 } }, 3,
	    { { "a:", 2 }, { "a:b:", 4 }, { "a:b:cd", 6 } } },
	{ "empty key", { { "", 0 }, { "x", 0 } }, 1, { { "x", 1 } } },
	{ "repeats", { { "id", 2 }, { "id", 2 }, { "idx", 2 } }, 1,
	    { { "idx", 3 }, { "i", 1 } } },
	{ "high bytes", { { "\xff\xfe", 2 }, { "\x7f", 1 }, { "\x80", 1 } },
	    3, { { "\xff", 1 }, { "\xfe\xff", 2 } } },
	{ "nul inside", { { "a\0b", 3 }, { "a\0c", 3 }, { "a", 1 } }, 3,
	    { { "a\0", 2 }, { "a\0d", 3 } } },
};

START_TEST(test_cases)
{
	struct strmap		 m;
	struct strmap_ent	*e;
	const struct key	*k;
	size_t			 i, j;

	alloc_reset(0);
	strmap_init(&m);
	for (i = 0; cases[_i].put[i].p != NULL; i++) {
		k = &cases[_i].put[i];
		e = strmap_put(&m, k->p, k->len, strmap_hash(k->p, k->len), i);
		ck_assert_ptr_nonnull(e);
	}
	ck_assert_msg(m.n == cases[_i].n, "%s: %zu keys", cases[_i].name,
	    m.n);
	/* every key found, with the value of its first put */
	for (i = 0; cases[_i].put[i].p != NULL; i++) {
		k = &cases[_i].put[i];
		e = strmap_find(&m, k->p, k->len, strmap_hash(k->p, k->len));
		ck_assert_ptr_nonnull(e);
		for (j = 0; j < i; j++)
			if (cases[_i].put[j].len == k->len &&
			    memcmp(cases[_i].put[j].p, k->p, k->len) == 0)
				break;
		ck_assert_uint_eq(e->val, j);
		ck_assert_ptr_eq(e->key, cases[_i].put[j].p);
	}
	for (i = 0; cases[_i].absent[i].p != NULL; i++) {
		k = &cases[_i].absent[i];
		ck_assert_msg(strmap_find(&m, k->p, k->len, strmap_hash(k->p,
		    k->len)) == NULL, "%s: absent key %zu found",
		    cases[_i].name, i);
	}
	strmap_release(&m);
	ck_assert_ptr_null(m.v);
	ck_assert_uint_eq(m.n + m.cap, 0);
}
END_TEST

/* strmap_hash() is STRMAP_HASH_STEP over the bytes: FNV-1a. */
START_TEST(test_hash)
{
	const char	*s = "a:b:c";
	uint64_t	 h = STRMAP_HASH_INIT;
	size_t		 k;

	ck_assert(strmap_hash("", 0) == STRMAP_HASH_INIT);
	/* FNV-1a 64 of "a", the published test vector */
	ck_assert(strmap_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	for (k = 0; s[k] != '\0'; k++) {
		h = STRMAP_HASH_STEP(h, s[k]);
		ck_assert(h == strmap_hash(s, k + 1));
	}
}
END_TEST

static char	 keys[NKEYS][16];

/* Put every key; on a failed put the map must be as it was.  Failures. */
static int
put_all(struct strmap *m)
{
	struct strmap_ent	*was_v;
	size_t			 i = 0, was_n, was_cap, j;
	int			 failures = 0;

	while (i < NKEYS) {
		was_v = m->v;
		was_n = m->n;
		was_cap = m->cap;
		if (strmap_put_str(m, keys[i], i) == NULL) {
			ck_assert_ptr_eq(m->v, was_v);
			ck_assert_uint_eq(m->n, was_n);
			ck_assert_uint_eq(m->cap, was_cap);
			failures++;
			continue;	/* the wrapper fails only once */
		}
		i++;
		ck_assert_uint_eq(m->n, i);
		ck_assert_uint_le(m->n * 2, m->cap);
	}
	for (j = 0; j < NKEYS; j++) {
		ck_assert_ptr_nonnull(strmap_find_str(m, keys[j]));
		ck_assert_uint_eq(strmap_find_str(m, keys[j])->val, j);
	}
	ck_assert_ptr_null(strmap_find_str(m, "k1000"));
	return failures;
}

START_TEST(test_put_fail_nth)
{
	struct strmap	 m;
	long		 total, nth;
	size_t		 i;

	for (i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
	alloc_reset(0);
	strmap_init(&m);
	ck_assert_int_eq(put_all(&m), 0);
	strmap_release(&m);
	total = calloc_calls;
	/* 64, 128, ..., 2048 slots for 1000 keys at load one half */
	ck_assert_int_eq(total, 6);
	for (nth = 1; nth <= total + 1; nth++) {
		alloc_reset(nth);
		strmap_init(&m);
		ck_assert_int_eq(put_all(&m), nth <= total ? 1 : 0);
		strmap_release(&m);
	}
}
END_TEST

/* After strmap_clear() as many puts again allocate nothing, so never fail. */
START_TEST(test_clear_keeps_room)
{
	struct strmap	 m;
	size_t		 i, cap;

	for (i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
	alloc_reset(0);
	strmap_init(&m);
	ck_assert_int_eq(strmap_reserve(&m, NKEYS), 0);
	ck_assert_int_eq(calloc_calls, 1);
	cap = m.cap;
	ck_assert_uint_ge(cap, 2 * NKEYS);
	alloc_reset(1);		/* any allocation now fails */
	ck_assert_int_eq(put_all(&m), 0);
	strmap_clear(&m);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_ptr_null(strmap_find_str(&m, keys[0]));
	ck_assert_int_eq(put_all(&m), 0);
	ck_assert_uint_eq(m.cap, cap);
	ck_assert_int_eq(calloc_calls, 0);
	/* fewer entries than room: a no-op */
	ck_assert_int_eq(strmap_reserve(&m, 10), 0);
	strmap_release(&m);
}
END_TEST

/* A size that overflows fails before any allocation. */
START_TEST(test_reserve_overflow)
{
	struct strmap	 m;

	alloc_reset(0);
	strmap_init(&m);
	ck_assert_int_eq(strmap_reserve(&m, SIZE_MAX), -1);
	ck_assert_int_eq(strmap_reserve(&m, SIZE_MAX / 2), -1);
	ck_assert_int_eq(calloc_calls, 0);
	ck_assert_ptr_null(m.v);
	ck_assert_uint_eq(m.cap, 0);
	ck_assert_ptr_null(strmap_find_str(&m, "a"));
}
END_TEST

static Suite *
strmap_suite(void)
{
	Suite	*s = suite_create("strmap");
	TCase	*tc = tcase_create("map");

	tcase_add_loop_test(tc, test_cases, 0, sizeof(cases) /
	    sizeof(cases[0]));
	tcase_add_test(tc, test_hash);
	tcase_add_test(tc, test_put_fail_nth);
	tcase_add_test(tc, test_clear_keeps_room);
	tcase_add_test(tc, test_reserve_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(strmap_suite());
}
