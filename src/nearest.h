/*
 * nearest: "did you mean ...?" for names a person typed: a record's element
 * names, set specs.  Pure functions, no allocation.
 */
#ifndef PUBFEED_NEAREST_H
#define PUBFEED_NEAREST_H

#include <stddef.h>

/* Levenshtein distance in bytes; (size_t)-1 when either is over 64 bytes. */
size_t		 nearest_distance(const char *, const char *);

/*
 * The candidate closest to word, when close enough to be a likely typo (a
 * distance of at most a third of word's length plus one, and 3; word itself
 * never), else NULL.  Ties go to the first candidate.
 */
const char	*nearest_name(const char *word, const char *const *cands,
		    size_t n);

#endif
