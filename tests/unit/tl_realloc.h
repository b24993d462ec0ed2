/*
 * tl_realloc: a realloc() for the whole test process that fails its Nth
 * call once armed, so the library's array growth meets a failure where a
 * test chooses.  Include it in one suite's file only (it defines realloc);
 * the real realloc() is the next one in the lookup order (libc's, or
 * ASan's under SAN=1).  Suites that compile a module's source themselves
 * rename realloc instead (check_vec, check_strmap).
 */
#ifndef PUBFEED_TL_REALLOC_H
#define PUBFEED_TL_REALLOC_H

#include <dlfcn.h>
#include <stddef.h>

static long	 tl_realloc_calls;	/* calls since tl_realloc_arm() */
static long	 tl_realloc_fail_at;	/* 0: never fail; -1: count only */

void	*realloc(void *, size_t);

void *
realloc(void *p, size_t n)
{
	static void	*(*real)(void *, size_t);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "realloc");
	if (tl_realloc_fail_at != 0 && ++tl_realloc_calls == tl_realloc_fail_at)
		return NULL;
	return real(p, n);
}

/* From now on fail the nth call (1-based; 0: none, -1: only count). */
__attribute__((unused)) static void
tl_realloc_arm(long nth)
{
	tl_realloc_calls = 0;
	tl_realloc_fail_at = nth;
}

#endif
