#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "banned.h"

/*
 * Set once at start-up (and on SIGHUP from the main thread) and only read
 * elsewhere; an int store is atomic enough for a log threshold.
 */
static volatile int	log_threshold = LOG_LEVEL_INFO;
static volatile int	log_journald;

void
log_init(enum log_level level, int journald)
{
	log_threshold = level;
	if (journald == -1)
		journald = getenv("JOURNAL_STREAM") != NULL;
	log_journald = journald;
}

void
log_setlevel(enum log_level level)
{
	log_threshold = level;
}

int
log_enabled(enum log_level level)
{
	return (int)level <= log_threshold;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char	*name;
		enum log_level	 level;
	} names[] = {
		{ "error", LOG_LEVEL_ERR },
		{ "warning", LOG_LEVEL_WARN },
		{ "warn", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

/* Length of the valid UTF-8 sequence at s (not a C1 control), or 0. */
static size_t
log_utf8_len(const unsigned char *s)
{
	unsigned int	 c = s[0];
	size_t		 n, i;

	if (c < 0x80)
		return c >= 0x20 && c != 0x7f;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) ||	/* overlong */
	    (c == 0xed && s[1] >= 0xa0) ||	/* surrogate */
	    (c == 0xf0 && s[1] < 0x90) ||	/* overlong */
	    (c == 0xf4 && s[1] >= 0x90) ||	/* past U+10FFFF */
	    (c == 0xc2 && s[1] < 0xa0))		/* C1 control */
		return 0;
	return n;
}

char *
log_escape(const char *in, char *out, size_t size)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 o = 0, n;

	if (size == 0)
		return out;
	while (*s != '\0') {
		if ((n = log_utf8_len(s)) > 0) {
			if (o + n >= size)
				break;
			memcpy(out + o, s, n);
			o += n;
			s += n;
			continue;
		}
		if (o + 4 >= size)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[*s >> 4];
		out[o++] = hex[*s & 0xf];
		s++;
	}
	out[o] = '\0';
	return out;
}

static void
log_emit(enum log_level level, const char *raw, const char *suffix)
{
	char	 line[2048], msg[2048], suf[256];
	int	 n;

	if (!log_enabled(level))
		return;
	log_escape(raw, msg, sizeof(msg));
	if (suffix != NULL)
		suffix = log_escape(suffix, suf, sizeof(suf));
	if (log_journald)
		n = snprintf(line, sizeof(line), "<%d>%s%s%s\n", (int)level, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	else
		n = snprintf(line, sizeof(line), "pubfeed: %s%s%s\n", msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

static void
log_vemit(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char	 msg[1800];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(level, msg, with_errno ? strerror(saved) : NULL);
	errno = saved;
}

#define LOG_FN(name, level, with_errno)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	 ap;					\
							\
	va_start(ap, fmt);				\
	log_vemit(level, with_errno, fmt, ap);		\
	va_end(ap);					\
}

LOG_FN(log_err, LOG_LEVEL_ERR, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
log_lines(enum log_level level, const char *text)
{
	const char	*nl;
	char		 line[1800];

	while (text != NULL && *text != '\0') {
		nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, text, n);
		line[n] = '\0';
		log_emit(level, line, NULL);
		text = nl ? nl + 1 : NULL;
	}
}

void
log_problems(const struct err *e)
{
	if (e->count == 0)
		return;
	if (e->all != NULL)
		log_lines(LOG_LEVEL_WARN, e->all);
	else
		log_warnx("%s", e->msg);
	if (e->nlost > 0)
		log_warnx("%d more problems not shown: out of memory",
		    e->nlost);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
