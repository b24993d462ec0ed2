/*
 * Calendar arithmetic in UTC.  The civil <-> day-count conversions are Howard
 * Hinnant's (http://howardhinnant.github.io/date_algorithms.html), so nothing
 * here depends on TZ, the locale or timegm().  Parsers are hand-written and
 * exact: every byte is checked, nothing is skipped.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "banned.h"

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define DATE_MIN	INT64_C(-62135596800)
#define DATE_MAX	INT64_C(253402300799)

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
/* Index 0 is Sunday, as 1970-01-01 (day 0) was a Thursday: (days + 4) % 7. */
static const char *const wday_names[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const wday_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};

struct civil {
	int	 y, m, d, hh, mm, ss, wday;
};

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int	 days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int
date_is_valid(int y, int m, int d)
{
	if (y < 1 || y > 9999 || m < 1 || m > 12)
		return 0;
	return d >= 1 && d <= month_days(y, m);
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t
date_from_civil(int y, int m, int d, int hh, int mm, int ss)
{
	return days_from_civil(y, m, d) * 86400 +
	    (int64_t)hh * 3600 + mm * 60 + ss;
}

/* Times outside years 1..9999 are clamped: four digits is all we print. */
static void
civil_from_time(int64_t t, struct civil *c)
{
	int64_t	 z, era, doe, yoe, doy, mp, secs;

	if (t < DATE_MIN)
		t = DATE_MIN;
	if (t > DATE_MAX)
		t = DATE_MAX;
	z = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		z--;
	}
	c->wday = (int)(((z + 4) % 7 + 7) % 7);
	c->hh = (int)(secs / 3600);
	c->mm = (int)(secs / 60 % 60);
	c->ss = (int)(secs % 60);

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->d = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->m = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->y = (int)(yoe + era * 400 + (c->m <= 2));
}

/* n ASCII digits (never isdigit(): it is locale-dependent) or -1. */
static int
digits(const char *s, size_t n)
{
	int	 v = 0;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD" at s (10 bytes available). */
static int
parse_day(const char *s, struct civil *c, const char **why)
{
	if (s[4] != '-' || s[7] != '-' || (c->y = digits(s, 4)) == -1 ||
	    (c->m = digits(s + 5, 2)) == -1 ||
	    (c->d = digits(s + 8, 2)) == -1) {
		*why = "not a date";
		return -1;
	}
	if (c->y < 1) {
		*why = "year out of range";
		return -1;
	}
	if (c->m < 1 || c->m > 12) {
		*why = "no such month";
		return -1;
	}
	if (!date_is_valid(c->y, c->m, c->d)) {
		*why = "no such day";
		return -1;
	}
	return 0;
}

/* "hh:mm:ss" at s (8 bytes available). */
static int
parse_time(const char *s, struct civil *c, const char **why)
{
	if (s[2] != ':' || s[5] != ':' || (c->hh = digits(s, 2)) == -1 ||
	    (c->mm = digits(s + 3, 2)) == -1 ||
	    (c->ss = digits(s + 6, 2)) == -1) {
		*why = "not a date";
		return -1;
	}
	if (c->hh > 23 || c->mm > 59 || c->ss > 59) {
		*why = "no such time";
		return -1;
	}
	return 0;
}

/*
 * The zone after the seconds: "Z", or with allow_offset "+hh:mm"/"-hh:mm".
 * *off gets the offset east of UTC in seconds.
 */
static int
parse_zone(const char *s, size_t len, int allow_offset, int *off,
    const char **why)
{
	int	 hh, mm;

	*off = 0;
	if (len == 1 && s[0] == 'Z')
		return 0;
	if (len > 0 && s[0] == '.') {
		*why = "fractional seconds not allowed";
		return -1;
	}
	if (len == 0 || s[0] == 'z' ||
	    (!allow_offset && (s[0] == '+' || s[0] == '-'))) {
		*why = "time zone must be Z";
		return -1;
	}
	if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' ||
	    (hh = digits(s + 1, 2)) == -1 || (mm = digits(s + 4, 2)) == -1) {
		*why = "not a date";
		return -1;
	}
	if (hh > 23 || mm > 59) {
		*why = "bad time zone offset";
		return -1;
	}
	*off = (hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1);
	return 0;
}

static int
parse_iso(const char *s, size_t len, int allow_offset, struct date *out,
    const char **why)
{
	struct civil	 c;
	const char	*dummy;
	int		 off;
	int64_t		 t;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || len < 10) {
		*why = "not a date";
		return -1;
	}
	if (parse_day(s, &c, why) == -1)
		return -1;
	if (len == 10) {
		out->t = date_from_civil(c.y, c.m, c.d, 0, 0, 0);
		out->gran = DATE_DAY;
		return 0;
	}
	if (len < 19 || s[10] != 'T') {
		*why = "not a date";
		return -1;
	}
	if (parse_time(s + 11, &c, why) == -1 ||
	    parse_zone(s + 19, len - 19, allow_offset, &off, why) == -1)
		return -1;
	t = date_from_civil(c.y, c.m, c.d, c.hh, c.mm, c.ss) - off;
	if (t < DATE_MIN || t > DATE_MAX) {
		*why = "year out of range";
		return -1;
	}
	out->t = t;
	out->gran = DATE_SECOND;
	return 0;
}

int
date_parse(const char *s, size_t len, struct date *out, const char **why)
{
	return parse_iso(s, len, 0, out, why);
}

int
date_parse_record(const char *s, size_t len, struct date *out,
    const char **why)
{
	return parse_iso(s, len, 1, out, why);
}

int
date_parse_partial(const char *s, size_t len, struct date *out,
    const char **why)
{
	const char	*dummy;
	int		 y, m = 1;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || (len != 4 && len != 7))
		return parse_iso(s, len, 1, out, why);
	if ((y = digits(s, 4)) == -1 ||
	    (len == 7 && (s[4] != '-' || (m = digits(s + 5, 2)) == -1))) {
		*why = "not a date";
		return -1;
	}
	if (y < 1) {
		*why = "year out of range";
		return -1;
	}
	if (m < 1 || m > 12) {
		*why = "no such month";
		return -1;
	}
	out->t = date_from_civil(y, m, 1, 0, 0, 0);
	out->gran = len == 4 ? DATE_YEAR : DATE_MONTH;
	return 0;
}

int64_t
date_end(const struct date *d)
{
	struct civil	 c;

	switch (d->gran) {
	case DATE_SECOND:
		return d->t;
	case DATE_DAY:
		return d->t + 86400;
	case DATE_MONTH:
		civil_from_time(d->t, &c);
		return date_from_civil(c.m == 12 ? c.y + 1 : c.y,
		    c.m == 12 ? 1 : c.m + 1, 1, 0, 0, 0);
	case DATE_YEAR:
		civil_from_time(d->t, &c);
		return date_from_civil(c.y + 1, 1, 1, 0, 0, 0);
	}
	return d->t;
}

/* Index of the n-byte name at s in names[], or -1. */
static int
lookup(const char *s, size_t n, const char *const *names, int count)
{
	int	 i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
			return i;
	return -1;
}

/*
 * RFC 850 two-digit years (RFC 7231 7.1.1.1): a year more than 50 years in
 * the future means the most recent past year with those last two digits.
 */
static int
rfc850_year(int yy)
{
	struct civil	 now;
	int		 y;

	civil_from_time(date_now(), &now);
	y = now.y - now.y % 100 + yy;
	if (y > now.y + 50)
		y -= 100;
	return y;
}

/* Check c's fields and turn them into a time; a leap second becomes :59. */
static int
http_finish(struct civil *c, int64_t *out)
{
	if (!date_is_valid(c->y, c->m, c->d) || c->hh > 23 || c->mm > 59 ||
	    c->ss > 60)
		return -1;
	if (c->ss == 60)
		c->ss = 59;
	*out = date_from_civil(c->y, c->m, c->d, c->hh, c->mm, c->ss);
	return 0;
}

/* "hh:mm:ss" at s (8 bytes available), without range checks. */
static int
http_time(const char *s, struct civil *c)
{
	if (s[2] != ':' || s[5] != ':' || (c->hh = digits(s, 2)) == -1 ||
	    (c->mm = digits(s + 3, 2)) == -1 ||
	    (c->ss = digits(s + 6, 2)) == -1)
		return -1;
	return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
http_imf(const char *s, size_t len, struct civil *c)
{
	if (len != 29 || lookup(s, 3, wday_names, 7) == -1 ||
	    memcmp(s + 3, ", ", 2) != 0 || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	c->m = lookup(s + 8, 3, month_names, 12) + 1;
	if ((c->d = digits(s + 5, 2)) == -1 || c->m == 0 ||
	    (c->y = digits(s + 12, 4)) == -1 || http_time(s + 17, c) == -1)
		return -1;
	return 0;
}

/* "Sunday, 06-Nov-94 08:49:37 GMT" */
static int
http_rfc850(const char *s, size_t len, struct civil *c)
{
	const char	*p = memchr(s, ',', len);
	int		 yy;

	if (p == NULL || lookup(s, p - s, wday_long, 7) == -1)
		return -1;
	len -= p - s;
	if (len != 24 || p[1] != ' ' || p[4] != '-' || p[8] != '-' ||
	    p[11] != ' ' || memcmp(p + 20, " GMT", 4) != 0)
		return -1;
	c->m = lookup(p + 5, 3, month_names, 12) + 1;
	if ((c->d = digits(p + 2, 2)) == -1 || c->m == 0 ||
	    (yy = digits(p + 9, 2)) == -1 || http_time(p + 12, c) == -1)
		return -1;
	c->y = rfc850_year(yy);
	return 0;
}

/* "Sun Nov  6 08:49:37 1994" */
static int
http_asctime(const char *s, size_t len, struct civil *c)
{
	if (len != 24 || lookup(s, 3, wday_names, 7) == -1 || s[3] != ' ' ||
	    s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
		return -1;
	c->m = lookup(s + 4, 3, month_names, 12) + 1;
	if (s[8] == ' ')
		c->d = digits(s + 9, 1);
	else
		c->d = digits(s + 8, 2);
	if (c->d == -1 || c->m == 0 || http_time(s + 11, c) == -1 ||
	    (c->y = digits(s + 20, 4)) == -1)
		return -1;
	return 0;
}

int
date_parse_http(const char *s, int64_t *out)
{
	struct civil	 c;
	size_t		 len;

	if (s == NULL)
		return -1;
	len = strlen(s);
	memset(&c, 0, sizeof(c));
	if (len == 29 && s[3] == ',') {
		if (http_imf(s, len, &c) == -1)
			return -1;
	} else if (len == 24 && s[3] == ' ') {
		if (http_asctime(s, len, &c) == -1)
			return -1;
	} else if (http_rfc850(s, len, &c) == -1)
		return -1;
	return http_finish(&c, out);
}

static char *
put_num(char *p, int v, int width)
{
	int	 i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

void
date_fmt_day(int64_t t, char out[DATE_DAY_LEN])
{
	struct civil	 c;
	char		*p = out;

	civil_from_time(t, &c);
	p = put_num(p, c.y, 4);
	*p++ = '-';
	p = put_num(p, c.m, 2);
	*p++ = '-';
	p = put_num(p, c.d, 2);
	*p = '\0';
}

static char *
put_hms(char *p, const struct civil *c)
{
	p = put_num(p, c->hh, 2);
	*p++ = ':';
	p = put_num(p, c->mm, 2);
	*p++ = ':';
	return put_num(p, c->ss, 2);
}

void
date_fmt_iso(int64_t t, char out[DATE_ISO_LEN])
{
	struct civil	 c;
	char		*p;

	civil_from_time(t, &c);
	date_fmt_day(t, out);
	p = out + DATE_DAY_LEN - 1;
	*p++ = 'T';
	p = put_hms(p, &c);
	*p++ = 'Z';
	*p = '\0';
}

void
date_fmt(const struct date *d, char out[DATE_ISO_LEN])
{
	if (d->gran == DATE_SECOND)
		date_fmt_iso(d->t, out);
	else
		date_fmt_coarse(d, out);
}

void
date_fmt_coarse(const struct date *d, char out[DATE_DAY_LEN])
{
	date_fmt_day(d->t, out);
	if (d->gran == DATE_YEAR)
		out[4] = '\0';
	else if (d->gran == DATE_MONTH)
		out[7] = '\0';
}

void
date_fmt_rfc822(int64_t t, char out[DATE_RFC822_LEN])
{
	struct civil	 c;
	char		*p = out;

	civil_from_time(t, &c);
	memcpy(p, wday_names[c.wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put_num(p, c.d, 2);
	*p++ = ' ';
	memcpy(p, month_names[c.m - 1], 3);
	p += 3;
	*p++ = ' ';
	p = put_num(p, c.y, 4);
	*p++ = ' ';
	p = put_hms(p, &c);
	memcpy(p, " GMT", 5);
}

void
date_fmt_http(int64_t t, char out[DATE_HTTP_LEN])
{
	date_fmt_rfc822(t, out);
}

int64_t
date_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t
date_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
date_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
