/*
 * log: one line per event on stderr (OpenBSD log.c).
 *
 * Under journald (JOURNAL_STREAM set, or forced by log_init) every line gets a
 * "<N>" syslog priority prefix so journalctl keeps the levels.  log_warn()
 * appends strerror(errno); log_warnx() does not.  fatal()/fatalx() log and
 * exit(1): only main calls them, and only before serving starts.
 * Thread-safe: each line is written with one write(2).
 *
 * Every line is escaped on its way out (log_escape()): a control byte, a C1
 * control or a byte that is not valid UTF-8 is written as "\xNN".  Messages
 * carry names an attacker may choose (record file names, URLs, request
 * targets); escaping once here, for every line, means no caller can forget
 * it and no such name can forge a log line or drive the terminal.
 */
#ifndef PUBFEED_LOG_H
#define PUBFEED_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* journald: -1 = detect from the environment, 0 = no prefix, 1 = prefix. */
void	log_init(enum log_level, int journald);
void	log_setlevel(enum log_level);
int	log_level_parse(const char *, enum log_level *);
int	log_enabled(enum log_level);

void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Copy in to out (size bytes, NUL-terminated, truncated on a character
 * boundary), with every C0 control, DEL, C1 control and byte outside valid
 * UTF-8 written as "\xNN".  Returns out.  For a multi-line text, escape each
 * line, or a name holding a newline splits into a forged line.
 */
char	*log_escape(const char *in, char *out, size_t size);
/* Log every line of a multi-line message (e.g. struct err's all). */
void	log_lines(enum log_level, const char *);
/*
 * Every message of e as warnings (all when it holds them, else msg), then
 * how many did not fit in memory.  Nothing when e holds none.
 */
struct err;
void	log_problems(const struct err *e);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
