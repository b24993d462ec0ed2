/*
 * pool: run the iterations of a loop on a few threads.
 *
 * The one primitive for the batches every caller shares (the
 * store's reading of changed record files for serve and export, and
 * "pubfeed check"): pool_run() calls fn(arg, w, i) once for every i in
 * [0, n), on up to nthreads threads, the calling thread included, handing
 * out indices in order from one atomic counter, and returns when every
 * call has returned.  w in [0, nthreads) names the worker that makes the
 * call, so a caller can keep per-worker state (a parser context, a
 * buffer) in an array of nthreads slots without locks.  fn must only
 * touch state of its own i and of its own w, or read shared state that
 * nobody writes meanwhile.  Threads are created per call and joined
 * before it returns: no thread outlives pool_run(), so nothing here needs
 * shutting down.
 */
#ifndef PUBFEED_POOL_H
#define PUBFEED_POOL_H

#include <stddef.h>

#define POOL_MAX_THREADS	16

typedef void	 pool_fn(void *arg, size_t worker, size_t i);

/*
 * How many threads a CPU-bound batch should use: configured when > 0,
 * else the online core count; never more cores than there are (parsing
 * is CPU-bound: more threads than cores only add contention), never more
 * than POOL_MAX_THREADS, at least 1.
 */
size_t	 pool_threads(int configured);

/*
 * How many threads a batch that also waits on the disk should use (the
 * store's reading of record files: open, read, then parse): pool_threads()
 * times POOL_IO_FACTOR, at most POOL_MAX_THREADS.  With a cold page cache
 * each thread waits on one read at a time, so as many threads as cores
 * leave the disk's queue nearly empty (100k records: 12 s on 2 threads, 6
 * s on 16; bench/README.md); with a warm one the extra threads cost a few
 * per cent of CPU in switches.
 */
#define POOL_IO_FACTOR		8
size_t	 pool_io_threads(int configured);

/*
 * Run fn for every i in [0, n) on up to nthreads threads (1: in the
 * calling thread only; fewer than asked when n is small or a thread
 * cannot be created).  Returns how many workers ran (1..nthreads), so
 * per-worker state beyond that was never touched.
 */
size_t	 pool_run(size_t n, size_t nthreads, pool_fn *fn, void *arg);

#endif
