/*
 * log: one line per event on stderr (OpenBSD log.c).
 *
 * Under journald (JOURNAL_STREAM set, or forced by log_init) every line gets a
 * "<N>" syslog priority prefix so journalctl keeps the levels.  log_warn()
 * appends strerror(errno); log_warnx() does not.  fatal()/fatalx() log and
 * exit(1): only main calls them, and only before serving starts.
 * Thread-safe: each line is written with one write(2).
 */
#ifndef PUBFEED_LOG_H
#define PUBFEED_LOG_H

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
/* Log every line of a multi-line message (e.g. struct err's all). */
void	log_lines(enum log_level, const char *);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
