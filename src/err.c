#include <stdarg.h>
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

static void
err_record(struct err *e, const char *line)
{
	size_t	 n = strlen(line);
	char	*p;

	if (e == NULL)
		return;
	if (e->count++ == 0)
		snprintf(e->msg, sizeof(e->msg), "%s", line);
	/* Past the cap we keep counting but stop storing. */
	if (e->alllen + n + 2 > ERR_ALL_MAX)
		return;
	if ((p = realloc(e->all, e->alllen + n + 2)) == NULL)
		return;
	e->all = p;
	memcpy(e->all + e->alllen, line, n);
	e->alllen += n;
	e->all[e->alllen++] = '\n';
	e->all[e->alllen] = '\0';
}

int
err_set(struct err *e, const char *fmt, ...)
{
	char	 line[ERR_MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	err_record(e, line);
	return -1;
}

int
err_at(struct err *e, const char *path, int line, int col, const char *fmt,
    ...)
{
	char	 where[ERR_MSG_MAX / 2], text[ERR_MSG_MAX];
	char	 out[ERR_MSG_MAX + ERR_MSG_MAX / 2];
	va_list	 ap;

	if (line > 0 && col > 0)
		snprintf(where, sizeof(where), "%s:%d:%d: ", path, line, col);
	else if (line > 0)
		snprintf(where, sizeof(where), "%s:%d: ", path, line);
	else
		snprintf(where, sizeof(where), "%s: ", path);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(out), "%s%s", where, text);
	err_record(e, out);
	return -1;
}
