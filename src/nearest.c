/* nearest: edit distance and the closest name (see nearest.h). */
#include <string.h>

#include "nearest.h"
#include "banned.h"

size_t
nearest_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, d[65], prev, tmp;

	if (lb > 64 || la > 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			d[j] = prev + (a[i - 1] != b[j - 1]);
			if (d[j - 1] + 1 < d[j])
				d[j] = d[j - 1] + 1;
			if (tmp + 1 < d[j])
				d[j] = tmp + 1;
			prev = tmp;
		}
	}
	return d[lb];
}

const char *
nearest_name(const char *word, const char *const *cands, size_t n)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = (size_t)-1, max;

	max = strlen(word) / 3 + 1;
	if (max > 3)
		max = 3;
	for (i = 0; i < n; i++) {
		if (strcmp(word, cands[i]) == 0)
			continue;
		d = nearest_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= max ? best : NULL;
}
