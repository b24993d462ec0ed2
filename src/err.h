/*
 * err: a caller-owned error record.
 *
 * Library-like modules never log; they fill a struct err and return -1 (or
 * NULL).  A parser that reports every problem it finds calls err_at() once
 * per problem: msg keeps the first message (what a caller usually shows),
 * while all keeps every message, one per line, so "pubfeed check" can print
 * them all.  Messages about user data use the compiler format
 * "path:line:col: message" (col omitted when 0, line too when 0).
 */
#ifndef PUBFEED_ERR_H
#define PUBFEED_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX	512
#define ERR_ALL_MAX	(256 * 1024)	/* cap on the accumulated messages */

struct err {
	char	 msg[ERR_MSG_MAX];	/* first message, "" when none */
	char	*all;			/* every message, '\n'-separated */
	size_t	 alllen;
	int	 count;			/* number of messages recorded */
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

#endif
