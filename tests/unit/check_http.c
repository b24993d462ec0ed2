/* The HTTP header parsers behind content negotiation and conditional GET. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

/* bare GET /oai: the HTML page only for a client that prefers HTML */
static const struct {
	const char	*accept;
	int		 want;
} html_cases[] = {
	{ NULL, 0 },
	{ "", 0 },
	{ "*/*", 0 },
	{ "application/xml", 0 },
	{ "text/xml", 0 },
	{ "text/html", 1 },
	{ "TEXT/HTML", 1 },
	/* Firefox and Chrome */
	{ "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	    1 },
	{ "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
	    "image/webp,image/apng,*/*;q=0.8", 1 },
	{ "application/xml, text/html;q=0.5", 0 },
	{ "text/html;q=0.5, text/xml;q=0.5", 0 },		/* a tie */
	{ "text/html;q=0.6, text/*;q=0.9", 0 },	/* text/xml from the text range */
	{ "text/html;q=0.6, text/*;q=0.5", 1 },
	{ "text/*;q=0.9, text/html;q=0.5", 0 },
	{ "text/html;q=0", 0 },
	{ "text/html; level=1", 1 },
	{ "*/*, text/xml;q=0.1", 0 },	/* application/xml ties at 1 */
	{ "text/html, */*;q=0.1", 1 },
	{ "text/htmlx", 0 },
	{ "application/xml;q=0.2, text/html;q=0.3, */*;q=0.9", 0 },
	{ "application/xml;q=0.2, text/html;q=0.3, text/xml;q=0.1", 1 },
};

START_TEST(test_prefers_html)
{
	ck_assert_msg(http_prefers_html(html_cases[_i].accept) ==
	    html_cases[_i].want, "Accept '%s'", html_cases[_i].accept ?
	    html_cases[_i].accept : "(none)");
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
	/* "*" only alone: in a list the field is invalid (RFC 7232 3.2) */
	{ "*, \"x\"", "\"abc\"", 0 },
	{ "\"x\", *", "\"abc\"", 0 },
	{ "\"abc\", *", "\"abc\"", 0 },
	{ "*, ,", "\"abc\"", 1 },	/* empty elements are ignored */
	{ "**", "\"abc\"", 0 },
	{ "\t*\t", "\"abc\"", 1 },
};

START_TEST(test_etag_match)
{
	ck_assert_msg(http_etag_match(inm_cases[_i].inm, inm_cases[_i].etag) ==
	    inm_cases[_i].want, "If-None-Match '%s' vs %s", inm_cases[_i].inm,
	    inm_cases[_i].etag);
}
END_TEST

static const struct {
	const char	*ct;
	int		 want;
} ct_cases[] = {
	{ NULL, 0 },
	{ "", 0 },
	{ "application/x-www-form-urlencoded", 1 },
	{ "Application/X-WWW-Form-URLEncoded", 1 },
	{ "application/x-www-form-urlencoded; charset=utf-8", 1 },
	{ "application/x-www-form-urlencoded;charset=utf-8", 1 },
	{ " application/x-www-form-urlencoded ", 1 },
	{ "application/x-www-form-urlencodedXYZ", 0 },
	{ "application/x-www-form-urlencoded-evil", 0 },
	{ "application/x-www-form-urlencoded/x", 0 },
	{ "application/x-www-form", 0 },
	{ "multipart/form-data", 0 },
	{ "text/plain; application/x-www-form-urlencoded", 0 },
};

START_TEST(test_media_type_is)
{
	ck_assert_msg(http_media_type_is(ct_cases[_i].ct,
	    "application/x-www-form-urlencoded") == ct_cases[_i].want,
	    "Content-Type '%s'", ct_cases[_i].ct ? ct_cases[_i].ct : "(none)");
}
END_TEST

static const struct {
	const char	*target;
	const char	*want;
} path_cases[] = {
	{ "/feed.atom", "/feed.atom" },
	{ "/oai?verb=Identify", "/oai?verb=Identify" },
	{ "http://example.org/feed.atom", "/feed.atom" },
	{ "HTTP://example.org:8080/feed.atom", "/feed.atom" },
	{ "https://example.org/oai?verb=Identify", "/oai?verb=Identify" },
	{ "http://example.org", "/" },
	{ "http://example.org?x=1", "/" },
	{ "http://[::1]:80/healthz", "/healthz" },
	{ "ftp://example.org/feed.atom", "ftp://example.org/feed.atom" },
	{ "*", "*" },
	{ "", "" },
};

START_TEST(test_origin_path)
{
	const char	*got = http_origin_path(path_cases[_i].target);

	ck_assert_msg(strcmp(got, path_cases[_i].want) == 0,
	    "target '%s': got '%s', want '%s'", path_cases[_i].target, got,
	    path_cases[_i].want);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("headers");

	tcase_add_loop_test(tc, test_accepts_coding, 0,
	    sizeof(ae_cases) / sizeof(ae_cases[0]));
	tcase_add_loop_test(tc, test_prefers_html, 0,
	    sizeof(html_cases) / sizeof(html_cases[0]));
	tcase_add_loop_test(tc, test_etag_match, 0,
	    sizeof(inm_cases) / sizeof(inm_cases[0]));
	tcase_add_loop_test(tc, test_media_type_is, 0,
	    sizeof(ct_cases) / sizeof(ct_cases[0]));
	tcase_add_loop_test(tc, test_origin_path, 0,
	    sizeof(path_cases) / sizeof(path_cases[0]));
	suite_add_tcase(s, tc);
	return tl_run(s);
}
