/*
 * err: a caller-owned error record.
 *
 * Library-like modules never log; they fill a struct err and return -1 (or
 * NULL).  A parser that reports every problem it finds calls err_at() once
 * per problem: msg keeps the first message (what a caller usually shows,
 * cut to ERR_MSG_MAX - 1 bytes), while all keeps every message in full, one
 * per line, so "pubfeed check" can print them all; err_merge() moves the
 * messages of one record into another (a file's into a scan's) without
 * losing or miscounting any.  There is no cap: count says how many messages
 * were recorded, and nlost how many of them all could not hold because
 * memory ran out (printers say so).  Messages about user data use the
 * compiler format "path:line:col: message" (col omitted when 0, line too
 * when 0).
 */
#ifndef PUBFEED_ERR_H
#define PUBFEED_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX	512

struct err {
	char	 msg[ERR_MSG_MAX];	/* first message, "" when none */
	char	*all;			/* every message, '\n'-terminated */
	size_t	 alllen;
	size_t	 allcap;
	int	 count;			/* number of messages recorded */
	int	 nlost;			/* of those, not in all (no memory) */
};

/* Zero the record; err_release() frees what err_at() accumulated. */
void	err_init(struct err *);
void	err_release(struct err *);
/* Forget every message but keep the record usable. */
void	err_clear(struct err *);

/* Record a message without a location.  Always returns -1. */
int	err_set(struct err *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Record "path:line:col: message".  Always returns -1. */
int	err_at(struct err *, const char *path, int line, int col,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
/*
 * Append every message of src to dst, in order, each counted once (src's
 * lost ones too); src is left untouched.  dst may be NULL.  Always returns
 * -1, like err_set().
 */
int	err_merge(struct err *dst, const struct err *src);

#endif
