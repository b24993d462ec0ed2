/* vec.c: see vec.h. */
#include <stdint.h>
#include <stdlib.h>

#include "vec.h"
#include "banned.h"

int
vec_grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t	 ncap;
	void	*p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		if (ncap > SIZE_MAX / 2 / size)
			return -1;
		else
			ncap *= 2;
	/* STYLE.md's loop checks each doubling; this covers the start, 16 */
	if (ncap > SIZE_MAX / size)
		return -1;
	if ((p = realloc(*v, ncap * size)) == NULL)
		return -1;	/* *v and *cap untouched: still consistent */
	*v = p;
	*cap = ncap;
	return 0;
}
