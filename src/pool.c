/*
 * pool.c: see pool.h.  No queue, no condition variables: the batch is
 * known up front, so one atomic counter hands out its indices.
 */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "pool.h"
#include "banned.h"

struct pool_run {
	pool_fn		*fn;
	void		*arg;
	size_t		 n;
	size_t		 next;		/* atomic: the next index to hand out */
};

struct pool_worker {
	struct pool_run	*run;
	size_t		 w;
};

size_t
pool_threads(int configured)
{
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t	 n;

	if (ncpu < 1)
		ncpu = 1;
	n = configured > 0 ? (size_t)configured : (size_t)ncpu;
	if (n > (size_t)ncpu)
		n = (size_t)ncpu;
	if (n > POOL_MAX_THREADS)
		n = POOL_MAX_THREADS;
	return n;
}

size_t
pool_io_threads(int configured)
{
	size_t	 n = pool_threads(configured) * POOL_IO_FACTOR;

	return n > POOL_MAX_THREADS ? POOL_MAX_THREADS : n;
}

static void *
pool_work(void *arg)
{
	struct pool_worker	*pw = arg;
	struct pool_run		*r = pw->run;
	size_t			 i;

	while ((i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED)) < r->n)
		r->fn(r->arg, pw->w, i);
	return NULL;
}

size_t
pool_run(size_t n, size_t nthreads, pool_fn *fn, void *arg)
{
	struct pool_run		 r = { fn, arg, n, 0 };
	struct pool_worker	 pw[POOL_MAX_THREADS];
	pthread_t		 tid[POOL_MAX_THREADS];
	size_t			 i, nt = 0;

	if (nthreads > POOL_MAX_THREADS)
		nthreads = POOL_MAX_THREADS;
	if (nthreads > n)
		nthreads = n;
	if (nthreads == 0)
		nthreads = 1;
	for (i = 0; i < nthreads; i++) {
		pw[i].run = &r;
		pw[i].w = i;
	}
	/* worker 0 is the caller; a thread that cannot start is not needed */
	for (i = 1; i < nthreads; i++) {
		if (pthread_create(&tid[nt], NULL, pool_work, &pw[nt + 1]) != 0)
			break;
		nt++;
	}
	pool_work(&pw[0]);
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	return nt + 1;
}
