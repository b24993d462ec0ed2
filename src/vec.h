/*
 * vec: growth of a heap array, the one way every module grows one.
 *
 * The capacity is committed only once the memory is there, and the size
 * computation is checked for overflow, so a failed growth leaves the array
 * and its capacity as they were: still consistent, and the caller's next
 * push cannot write past the end.  No state of its own; thread-safe on
 * distinct arrays.
 */
#ifndef PUBFEED_VEC_H
#define PUBFEED_VEC_H

#include <stddef.h>

/*
 * Make *v hold at least need elements of size bytes: doubles *cap (from
 * 16) until it covers need and reallocates.  0 on success (also when need
 * <= *cap); -1 when the size would overflow or realloc() fails, with *v and
 * *cap untouched (*v is still the caller's to free).
 */
int	vec_grow(void **v, size_t *cap, size_t need, size_t size);

#endif
