#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "banned.h"

void
err_init(struct err *e)
{
	memset(e, 0, sizeof(*e));
}

void
err_release(struct err *e)
{
	if (e == NULL)
		return;
	free(e->all);
	err_init(e);
}

void
err_clear(struct err *e)
{
	err_release(e);
}

/* Room for n more bytes and a NUL in all; -1 leaves e as it was. */
static int
err_reserve(struct err *e, size_t n)
{
	size_t	 need, ncap;
	char	*p;

	if (n > SIZE_MAX - e->alllen - 1)
		return -1;
	need = e->alllen + n + 1;
	if (need <= e->allcap)
		return 0;
	ncap = e->allcap ? e->allcap : 256;
	while (ncap < need)
		if (ncap > SIZE_MAX / 2)
			ncap = need;
		else
			ncap *= 2;
	if ((p = realloc(e->all, ncap)) == NULL)
		return -1;
	e->all = p;
	e->allcap = ncap;
	return 0;
}

/* One message; line is NULL when it could not even be formatted. */
static void
err_record(struct err *e, const char *line)
{
	size_t	 n;

	if (e->count++ == 0)
		snprintf(e->msg, sizeof(e->msg), "%s",
		    line != NULL ? line : "out of memory");
	if (line == NULL || err_reserve(e, (n = strlen(line)) + 1) == -1) {
		e->nlost++;
		return;
	}
	memcpy(e->all + e->alllen, line, n);
	e->alllen += n;
	e->all[e->alllen++] = '\n';
	e->all[e->alllen] = '\0';
}

int
err_set(struct err *e, const char *fmt, ...)
{
	char	*line = NULL;
	va_list	 ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		line = NULL;
	va_end(ap);
	err_record(e, line);
	free(line);
	return -1;
}

int
err_at(struct err *e, const char *path, int line, int col, const char *fmt,
    ...)
{
	char	*text = NULL, *out = NULL;
	va_list	 ap;
	int	 rc;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	if (text == NULL)
		rc = -1;
	else if (line > 0 && col > 0)
		rc = asprintf(&out, "%s:%d:%d: %s", path, line, col, text);
	else if (line > 0)
		rc = asprintf(&out, "%s:%d: %s", path, line, text);
	else
		rc = asprintf(&out, "%s: %s", path, text);
	if (rc == -1)
		out = NULL;
	err_record(e, out);
	free(out);
	free(text);
	return -1;
}

int
err_merge(struct err *dst, const struct err *src)
{
	if (dst == NULL || src == NULL || src->count == 0)
		return -1;
	if (dst->count == 0)
		memcpy(dst->msg, src->msg, sizeof(dst->msg));
	dst->count += src->count;
	dst->nlost += src->nlost;
	if (src->alllen == 0)
		return -1;
	if (err_reserve(dst, src->alllen) == -1) {
		dst->nlost += src->count - src->nlost;
		return -1;
	}
	memcpy(dst->all + dst->alllen, src->all, src->alllen);
	dst->alllen += src->alllen;
	dst->all[dst->alllen] = '\0';
	return -1;
}
