/*
 * buf: a bounded, growable byte buffer (curl's dynbuf).
 *
 * Every buffer has a hard cap set at init; an append that would pass it fails
 * with -1 and leaves the buffer as it was, so a hostile input can never grow
 * memory without bound.  data is always NUL-terminated (the NUL is not counted
 * in len) once anything has been added.  Not thread-safe; a buffer belongs to
 * whoever holds it.
 */
#ifndef PUBFEED_BUF_H
#define PUBFEED_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};

void	 buf_init(struct buf *, size_t max);
void	 buf_release(struct buf *);
void	 buf_reset(struct buf *);	/* len = 0, memory kept */
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_addstr(struct buf *, const char *);
int	 buf_addch(struct buf *, char);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list);
/* Hand the bytes to the caller (who frees them); the buffer is reset. */
char	*buf_detach(struct buf *, size_t *len);

#endif
