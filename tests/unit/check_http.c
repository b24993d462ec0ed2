/* The HTTP header parsers behind content negotiation and conditional GET. */
#include <check.h>
#include <stdlib.h>

#include "http.h"
#include "testlib.h"

static const struct {
	const char	*ae;
	const char	*coding;
	int		 want;
} ae_cases[] = {
	{ NULL, "gzip", 0 },
	{ "", "gzip", 0 },
	{ "gzip", "gzip", 1 },
	{ "GZIP", "gzip", 1 },
	{ "deflate, gzip", "gzip", 1 },
	{ "gzip;q=0", "gzip", 0 },
	{ "gzip; q=0.0", "gzip", 0 },
	{ "gzip;q=0.001", "gzip", 1 },
	{ "x-gzip", "gzip", 0 },
	{ "gzipx", "gzip", 0 },
	{ "*", "gzip", 1 },
	{ "*;q=0", "gzip", 0 },
	{ "*, gzip;q=0", "gzip", 0 },
	{ "gzip;q=0, *", "gzip", 0 },
	{ "br, *;q=0.1", "gzip", 1 },
	{ "identity", "gzip", 0 },
	{ "deflate;q=0.5, gzip;q=0", "deflate", 1 },
	{ " gzip , deflate ", "deflate", 1 },
};

START_TEST(test_accepts_coding)
{
	ck_assert_msg(http_accepts_coding(ae_cases[_i].ae,
	    ae_cases[_i].coding) == ae_cases[_i].want,
	    "Accept-Encoding '%s' for %s", ae_cases[_i].ae ?
	    ae_cases[_i].ae : "(none)", ae_cases[_i].coding);
}
END_TEST

static const struct {
	const char	*inm;
	const char	*etag;
	int		 want;
} inm_cases[] = {
	{ "\"abc\"", "\"abc\"", 1 },
	{ "\"abd\"", "\"abc\"", 0 },
	{ "W/\"abc\"", "\"abc\"", 1 },
	{ "\"x\", \"abc\"", "\"abc\"", 1 },
	{ "\"x\",\"y\"", "\"abc\"", 0 },
	{ "*", "\"abc\"", 1 },
	{ " * ", "\"abc\"", 1 },
	{ "\"abc-gz\"", "\"abc\"", 0 },
	{ "\"abc\"", "\"abc-gz\"", 0 },
	{ "\"ab", "\"abc\"", 0 },
	{ "", "\"abc\"", 0 },
	{ "\"abc\" ", "\"abc\"", 1 },
	{ "abc", "\"abc\"", 0 },
};

START_TEST(test_etag_match)
{
	ck_assert_msg(http_etag_match(inm_cases[_i].inm, inm_cases[_i].etag) ==
	    inm_cases[_i].want, "If-None-Match '%s' vs %s", inm_cases[_i].inm,
	    inm_cases[_i].etag);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("headers");

	tcase_add_loop_test(tc, test_accepts_coding, 0,
	    sizeof(ae_cases) / sizeof(ae_cases[0]));
	tcase_add_loop_test(tc, test_etag_match, 0,
	    sizeof(inm_cases) / sizeof(inm_cases[0]));
	suite_add_tcase(s, tc);
	return tl_run(s);
}
