/* check_date: strict ISO 8601 / RFC 3339 / HTTP parsers and formatters. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "testlib.h"


static const struct {
	const char	*in;
	int64_t		 t;
	enum date_gran	 gran;
} good_iso[] = {
	{ "1970-01-01", 0, DATE_DAY },
	{ "1994-11-06T08:49:37Z", 784111777, DATE_SECOND },
	{ "2000-02-29", 951782400, DATE_DAY },
	{ "2016-12-31T23:59:59Z", 1483228799, DATE_SECOND },
	{ "1969-12-31T23:59:59Z", -1, DATE_SECOND },
	{ "1900-03-01", -2203891200, DATE_DAY },
	{ "0001-01-01", INT64_C(-62135596800), DATE_DAY },
	{ "9999-12-31T23:59:59Z", INT64_C(253402300799), DATE_SECOND },
	{ "2024-02-29T00:00:00Z", 1709164800, DATE_SECOND },
};

static const struct {
	const char	*in;
	const char	*why;
} bad_iso[] = {
	{ "", "not a date" },
	{ "2017", "not a date" },
	{ "2017-1-01", "not a date" },
	{ "2017-01-1", "not a date" },
	{ "17-01-01", "not a date" },
	{ "2017/01/01", "not a date" },
	{ "2017-01-01 ", "not a date" },
	{ " 2017-01-01", "not a date" },
	{ "2017-01-01T", "not a date" },
	{ "2017-01-01 03:04:05Z", "not a date" },
	{ "2017-01-01T3:04:05Z", "not a date" },
	{ "2017-01-01T03:04Z", "not a date" },
	{ "+2017-01-01", "not a date" },
	{ "2017-0a-01", "not a date" },
	{ "2017-13-01", "no such month" },
	{ "2017-00-01", "no such month" },
	{ "2017-02-29", "no such day" },
	{ "1900-02-29", "no such day" },
	{ "2017-02-30", "no such day" },
	{ "2017-04-31", "no such day" },
	{ "2017-01-00", "no such day" },
	{ "2017-01-32", "no such day" },
	{ "0000-01-01", "year out of range" },
	{ "2017-01-01T24:00:00Z", "no such time" },
	{ "2017-01-01T23:60:00Z", "no such time" },
	{ "2017-01-01T23:59:60Z", "no such time" },
	{ "2017-01-01T03:04:05", "time zone must be Z" },
	{ "2017-01-01T03:04:05z", "time zone must be Z" },
	{ "2017-01-01T03:04:05+00:00", "time zone must be Z" },
	{ "2017-01-01T03:04:05-05:00", "time zone must be Z" },
	{ "2017-01-01T03:04:05.5Z", "fractional seconds not allowed" },
	{ "2017-01-01T03:04:05ZZ", "not a date" },
	{ "2017-01-01t03:04:05Z", "not a date" },
};

START_TEST(test_good_iso)
{
	struct date	 d;
	const char	*why = NULL, *in = good_iso[_i].in;
	char		 out[DATE_ISO_LEN];

	ck_assert_int_eq(date_parse(in, strlen(in), &d, &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(d.t, good_iso[_i].t);
	ck_assert_int_eq(d.gran, good_iso[_i].gran);
	date_fmt(&d, out);
	ck_assert_str_eq(out, in);
	/* Record dates accept everything OAI-PMH dates do. */
	ck_assert_int_eq(date_parse_record(in, strlen(in), &d, &why), 0);
	ck_assert_int_eq(d.t, good_iso[_i].t);
}
END_TEST

START_TEST(test_bad_iso)
{
	struct date	 d;
	const char	*why = NULL, *in = bad_iso[_i].in;

	ck_assert_int_eq(date_parse(in, strlen(in), &d, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, bad_iso[_i].why);
	/* why may be NULL */
	ck_assert_int_eq(date_parse(in, strlen(in), &d, NULL), -1);
}
END_TEST

START_TEST(test_len_bound)
{
	struct date	 d;
	const char	*s = "2017-01-02T03:04:05Zgarbage";

	/* Only len bytes count: no NUL needed, nothing read past it. */
	ck_assert_int_eq(date_parse(s, 20, &d, NULL), 0);
	ck_assert_int_eq(d.gran, DATE_SECOND);
	ck_assert_int_eq(date_parse(s, 10, &d, NULL), 0);
	ck_assert_int_eq(d.gran, DATE_DAY);
	ck_assert_int_eq(date_parse(s, 21, &d, NULL), -1);
	ck_assert_int_eq(date_parse(s, 9, &d, NULL), -1);
	ck_assert_int_eq(date_parse(NULL, 0, &d, NULL), -1);
}
END_TEST

static const struct {
	const char	*in;
	const char	*utc;	/* NULL: must fail */
} record_cases[] = {
	{ "2017-01-02T03:04:05+02:00", "2017-01-02T01:04:05Z" },
	{ "2017-01-02T03:04:05-02:30", "2017-01-02T05:34:05Z" },
	{ "2017-01-01T00:30:00+01:00", "2016-12-31T23:30:00Z" },
	{ "2016-12-31T23:30:00-01:00", "2017-01-01T00:30:00Z" },
	{ "2017-01-02T03:04:05+00:00", "2017-01-02T03:04:05Z" },
	{ "2017-01-02T03:04:05-00:00", "2017-01-02T03:04:05Z" },
	{ "2017-01-02T03:04:05Z", "2017-01-02T03:04:05Z" },
	{ "2017-01-02", "2017-01-02" },
	{ "2017-01-02T03:04:05+24:00", NULL },
	{ "2017-01-02T03:04:05+02:60", NULL },
	{ "2017-01-02T03:04:05+0200", NULL },
	{ "2017-01-02T03:04:05+02", NULL },
	{ "2017-01-02T03:04:05 02:00", NULL },
	{ "2017-01-02T03:04:05+02:00Z", NULL },
	{ "2017-02-29T03:04:05+02:00", NULL },
	{ "0001-01-01T00:30:00+01:00", NULL },
	{ "9999-12-31T23:30:00-01:00", NULL },
	{ "0001-01-01T00:30:00-01:00", "0001-01-01T01:30:00Z" },
};

START_TEST(test_record)
{
	struct date	 d;
	const char	*why = NULL, *in = record_cases[_i].in;
	char		 out[DATE_ISO_LEN];

	if (record_cases[_i].utc == NULL) {
		ck_assert_int_eq(date_parse_record(in, strlen(in), &d, &why),
		    -1);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_int_eq(date_parse_record(in, strlen(in), &d, &why), 0);
	date_fmt(&d, out);
	ck_assert_str_eq(out, record_cases[_i].utc);
}
END_TEST

static const struct {
	const char	*in;
	int64_t		 t;	/* -1: must fail */
} http_cases[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },
	{ "Sun Nov  6 08:49:37 1994", 784111777 },
	{ "Sun Nov 06 08:49:37 1994", 784111777 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
	{ "Sat, 31 Dec 2016 23:59:60 GMT", 1483228799 },
	{ "Thu Feb 29 00:00:00 2024", 1709164800 },
	{ "Sun, 06 Nov 1994 08:49:37 UTC", -1 },
	{ "Sun, 6 Nov 1994 08:49:37 GMT", -1 },
	{ "sun, 06 Nov 1994 08:49:37 GMT", -1 },
	{ "Sun, 06 nov 1994 08:49:37 GMT", -1 },
	{ "Xyz, 06 Nov 1994 08:49:37 GMT", -1 },
	{ "Sun, 31 Feb 1994 08:49:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 24:00:00 GMT", -1 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT ", -1 },
	{ "Sun, 06 Nov 0000 08:49:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 08-49-37 GMT", -1 },
	{ "Sunday, 06-Nov-1994 08:49:37 GMT", -1 },
	{ "Sun, 06-Nov-94 08:49:37 GMT", -1 },
	{ "Sunday 06-Nov-94 08:49:37 GMT", -1 },
	{ "Sun Nov  6 08:49:37 94", -1 },
	{ "Sun Nov 6  08:49:37 1994", -1 },
	{ "", -1 },
	{ "1994-11-06T08:49:37Z", -1 },
};

START_TEST(test_http)
{
	int64_t	 t = 12345;
	int	 rc = date_parse_http(http_cases[_i].in, &t);

	if (http_cases[_i].t == -1) {
		ck_assert_int_eq(rc, -1);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(t, http_cases[_i].t);
}
END_TEST

START_TEST(test_fmt)
{
	char	 rfc[DATE_RFC822_LEN], http[DATE_HTTP_LEN], iso[DATE_ISO_LEN];
	char	 day[DATE_DAY_LEN];
	int64_t	 t;

	date_fmt_rfc822(784111777, rfc);
	ck_assert_str_eq(rfc, "Sun, 06 Nov 1994 08:49:37 GMT");
	date_fmt_http(1483228799, http);
	ck_assert_str_eq(http, "Sat, 31 Dec 2016 23:59:59 GMT");
	date_fmt_http(0, http);
	ck_assert_str_eq(http, "Thu, 01 Jan 1970 00:00:00 GMT");
	date_fmt_http(-1, http);
	ck_assert_str_eq(http, "Wed, 31 Dec 1969 23:59:59 GMT");
	date_fmt_rfc822(INT64_C(-62135596800), rfc);
	ck_assert_str_eq(rfc, "Mon, 01 Jan 0001 00:00:00 GMT");
	ck_assert_int_eq(date_parse_http(rfc, &t), 0);
	ck_assert_int_eq(t, INT64_C(-62135596800));
	date_fmt_day(951782400 + 86399, day);
	ck_assert_str_eq(day, "2000-02-29");
	/* Out of range clamps to the four-digit years. */
	date_fmt_iso(INT64_C(-99999999999), iso);
	ck_assert_str_eq(iso, "0001-01-01T00:00:00Z");
	date_fmt_iso(INT64_MAX, iso);
	ck_assert_str_eq(iso, "9999-12-31T23:59:59Z");
	date_fmt_iso(INT64_MIN, iso);
	ck_assert_str_eq(iso, "0001-01-01T00:00:00Z");
}
END_TEST

/*
 * Cross-check every few days of the whole range against glibc's gmtime_r.
 * Plain ifs in the loop: each ck_assert costs a write to Check's pipe.
 */
START_TEST(test_sweep)
{
	static const char	*wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				    "Fri", "Sat" };
	char			 iso[DATE_ISO_LEN], want[64], rfc[DATE_RFC822_LEN];
	struct date		 d;
	struct tm		 tm;
	time_t			 tt;
	int64_t			 t, back;

	for (t = INT64_C(-62135596800); t <= INT64_C(253402300799);
	    t += 5 * 86400 + 3727) {
		tt = (time_t)t;
		if (gmtime_r(&tt, &tm) == NULL)
			ck_abort_msg("gmtime_r %lld", (long long)t);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		date_fmt_iso(t, iso);
		date_fmt_rfc822(t, rfc);
		if (strcmp(iso, want) != 0 ||
		    date_parse(iso, strlen(iso), &d, NULL) != 0 || d.t != t ||
		    memcmp(rfc, wd[tm.tm_wday], 3) != 0 ||
		    date_parse_http(rfc, &back) != 0 || back != t ||
		    date_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) != t)
			ck_abort_msg("%lld: got %s / %s, want %s",
			    (long long)t, iso, rfc, want);
	}
}
END_TEST

START_TEST(test_valid)
{
	ck_assert_int_eq(date_is_valid(2000, 2, 29), 1);
	ck_assert_int_eq(date_is_valid(2100, 2, 29), 0);
	ck_assert_int_eq(date_is_valid(2104, 2, 29), 1);
	ck_assert_int_eq(date_is_valid(2017, 12, 31), 1);
	ck_assert_int_eq(date_is_valid(0, 1, 1), 0);
	ck_assert_int_eq(date_is_valid(10000, 1, 1), 0);
	ck_assert_int_eq(date_is_valid(2017, 0, 1), 0);
	ck_assert_int_eq(date_is_valid(2017, 13, 1), 0);
	ck_assert_int_eq(date_is_valid(2017, 6, 31), 0);
	ck_assert_int_eq(date_is_valid(2017, 6, 0), 0);
}
END_TEST

START_TEST(test_clocks)
{
	int64_t	 now = date_now(), ms = date_now_ms(), m1, m2;

	ck_assert_int_gt(now, 1500000000);
	ck_assert_int_le(ms / 1000 - now, 1);
	ck_assert_int_ge(ms / 1000 - now, 0);
	m1 = date_mono_ms();
	m2 = date_mono_ms();
	ck_assert_int_ge(m2, m1);
}
END_TEST

/* issued and event dates: a year or a month alone, at that precision. */
static const struct {
	const char	*in;
	int		 ok;
	const char	*fmt;		/* date_fmt() */
	const char	*coarse;	/* date_fmt_coarse() */
	const char	*end;		/* date_end(), as ISO */
} partial_cases[] = {
	{ "2008", 1, "2008", "2008", "2009-01-01T00:00:00Z" },
	{ "2008-04", 1, "2008-04", "2008-04", "2008-05-01T00:00:00Z" },
	{ "2008-12", 1, "2008-12", "2008-12", "2009-01-01T00:00:00Z" },
	{ "2008-02-29", 1, "2008-02-29", "2008-02-29",
	    "2008-03-01T00:00:00Z" },
	{ "2008-04-01T10:00:00+02:00", 1, "2008-04-01T08:00:00Z",
	    "2008-04-01", "2008-04-01T08:00:00Z" },
	{ "2008-13", 0, NULL, NULL, NULL },
	{ "2008-00", 0, NULL, NULL, NULL },
	{ "0000", 0, NULL, NULL, NULL },
	{ "208", 0, NULL, NULL, NULL },
	{ "20080", 0, NULL, NULL, NULL },
	{ "2008-4", 0, NULL, NULL, NULL },
	{ "2008/04", 0, NULL, NULL, NULL },
	{ "abcd", 0, NULL, NULL, NULL },
	{ "2008-02-30", 0, NULL, NULL, NULL },
};

START_TEST(test_partial)
{
	struct date	 d;
	const char	*why = NULL, *in = partial_cases[_i].in;
	char		 out[DATE_ISO_LEN], day[DATE_DAY_LEN];
	int		 rc = date_parse_partial(in, strlen(in), &d, &why);

	if (!partial_cases[_i].ok) {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_int_eq(rc, 0);
	date_fmt(&d, out);
	ck_assert_str_eq(out, partial_cases[_i].fmt);
	date_fmt_coarse(&d, day);
	ck_assert_str_eq(day, partial_cases[_i].coarse);
	date_fmt_iso(date_end(&d), out);
	ck_assert_str_eq(out, partial_cases[_i].end);
}
END_TEST

/* The strict parsers still refuse what only partial dates may be. */
START_TEST(test_partial_only_there)
{
	struct date	 d;

	ck_assert_int_eq(date_parse("2008", 4, &d, NULL), -1);
	ck_assert_int_eq(date_parse_record("2008-04", 7, &d, NULL), -1);
	ck_assert_int_eq(date_parse_partial("2008", 4, &d, NULL), 0);
	ck_assert_int_eq(d.gran, DATE_YEAR);
	ck_assert_int_eq(d.t, 1199145600);
	ck_assert_int_eq(date_parse_partial("2008-04", 7, &d, NULL), 0);
	ck_assert_int_eq(d.gran, DATE_MONTH);
	ck_assert_int_eq(d.t, 1207008000);
}
END_TEST

static Suite *
date_suite(void)
{
	Suite	*s = suite_create("date");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_good_iso, 0, NELEM(good_iso));
	tcase_add_loop_test(tc, test_bad_iso, 0, NELEM(bad_iso));
	tcase_add_test(tc, test_len_bound);
	tcase_add_loop_test(tc, test_record, 0, NELEM(record_cases));
	tcase_add_loop_test(tc, test_http, 0, NELEM(http_cases));
	tcase_add_test(tc, test_fmt);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_clocks);
	tcase_add_loop_test(tc, test_partial, 0, NELEM(partial_cases));
	tcase_add_test(tc, test_partial_only_there);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(date_suite());
}
