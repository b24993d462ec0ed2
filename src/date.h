/*
 * date: the calendar arithmetic every module shares, in UTC only.
 *
 * Times are int64_t seconds since the Unix epoch (proleptic Gregorian, no
 * leap seconds).  Parsers read from memory, reject anything that is not a real
 * calendar date (2017-02-30, 2017-13-01, 24:00:00) and never consult the
 * local time zone.  Formatters write into caller-supplied arrays of the sizes
 * given below and always NUL-terminate.
 */
#ifndef PUBFEED_DATE_H
#define PUBFEED_DATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The precision a date was written with.  DATE_MONTH and DATE_YEAR come
 * only from date_parse_partial() (legacy records: "2008", "2008-04"); every
 * other parser gives DATE_DAY or DATE_SECOND.
 */
enum date_gran {
	DATE_DAY,		/* YYYY-MM-DD */
	DATE_SECOND,		/* YYYY-MM-DDThh:mm:ssZ */
	DATE_MONTH,		/* YYYY-MM */
	DATE_YEAR,		/* YYYY */
};

struct date {
	int64_t		 t;	/* the first instant of the period (00:00:00Z
				   of the day, of the 1st, of 1 January) */
	enum date_gran	 gran;
};

#define DATE_ISO_LEN	21	/* "2017-01-02T03:04:05Z" + NUL */
#define DATE_DAY_LEN	11	/* "2017-01-02" + NUL */
#define DATE_RFC822_LEN	32	/* "Mon, 02 Jan 2017 03:04:05 GMT" + NUL */
#define DATE_HTTP_LEN	32	/* IMF-fixdate, same shape as RFC 822 above */

/*
 * Parse "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ssZ" (exactly; nothing before or
 * after, only "Z" as zone).  Returns 0, or -1 with a short reason in *why
 * (a static string) when why is not NULL.
 */
int	date_parse(const char *s, size_t len, struct date *out,
	    const char **why);

/*
 * Parse a record date: what date_parse() accepts plus an RFC 3339 offset
 * ("2017-01-02T03:04:05+02:00", converted to UTC).  Used for record content,
 * never for OAI-PMH arguments, where only "Z" is allowed.
 */
int	date_parse_record(const char *s, size_t len, struct date *out,
	    const char **why);

/*
 * Parse a date that may be coarser than a day: what date_parse_record()
 * accepts plus "YYYY" (DATE_YEAR) and "YYYY-MM" (DATE_MONTH), t being the
 * first instant of that year or month.  Used for issued and event dates.
 */
int	date_parse_partial(const char *s, size_t len, struct date *out,
	    const char **why);

/*
 * The first second after the period d names (the next day, month or year);
 * d->t itself for DATE_SECOND, which is an instant.
 */
int64_t	date_end(const struct date *d);

/* Parse an HTTP date (IMF-fixdate, RFC 850 or asctime, RFC 7231 7.1.1.1). */
int	date_parse_http(const char *s, int64_t *out);

int64_t	date_from_civil(int y, int m, int d, int hh, int mm, int ss);
int	date_is_valid(int y, int m, int d);

void	date_fmt_iso(int64_t t, char out[DATE_ISO_LEN]);
void	date_fmt_day(int64_t t, char out[DATE_DAY_LEN]);
/* The form matching d->gran: "2008", "2008-04", "2008-04-01" or ISO. */
void	date_fmt(const struct date *d, char out[DATE_ISO_LEN]);
/*
 * d at most to the day, for formats that have no time: "2008", "2008-04" or
 * "2008-04-01"; a DATE_SECOND date gives its UTC day.
 */
void	date_fmt_coarse(const struct date *d, char out[DATE_DAY_LEN]);
void	date_fmt_rfc822(int64_t t, char out[DATE_RFC822_LEN]);
void	date_fmt_http(int64_t t, char out[DATE_HTTP_LEN]);

/* Wall clock, in seconds and in milliseconds since the epoch. */
int64_t	date_now(void);
int64_t	date_now_ms(void);
/* Monotonic clock in milliseconds, for timeouts and durations. */
int64_t	date_mono_ms(void);

#endif
