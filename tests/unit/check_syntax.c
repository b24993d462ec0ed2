/*
 * check_syntax: the identifier rules (URLs, language tags, setSpecs,
 * percent-encoding), one table per rule with its edge cases.
 */
#include <string.h>

#include "buf.h"
#include "syntax.h"
#include "testlib.h"

static const struct {
	const char	*s;
	int		 url;	/* syntax_is_http_url */
	int		 tmpl;	/* syntax_is_http_template */
	int		 base;	/* syntax_is_base_url */
} urls[] = {
	{ "https://csd.bg/publications/x.pdf", 1, 1, 1 },
	{ "http://example.org", 1, 1, 1 },
	{ "HTTPS://Example.ORG/", 1, 1, 1 },
	{ "http://example.org:8080/a?b#c", 1, 1, 0 },
	{ "http://example.org/a#b?c/d", 1, 1, 0 },
	{ "http://example.org/a#b#c", 0, 0, 0 },
	{ "http://example.org:/", 0, 0, 0 },	/* xmlParseURI() refuses */
	{ "http://[::1]:", 0, 0, 0 },
	{ "http://user@example.org/", 1, 1, 1 },
	{ "http://us:er@example.org/", 1, 1, 1 },
	{ "http://u@v@example.org/", 0, 0, 0 },
	{ "http://[2001:db8::1]/", 1, 1, 1 },
	{ "http://[2001:db8::1]:80", 1, 1, 1 },
	{ "http://[::ffff:192.0.2.1]/", 1, 1, 1 },
	{ "http://[2001:db8::g]/", 0, 0, 0 },
	{ "http://[]/", 0, 0, 0 },
	{ "http://[2001:db8::1/", 0, 0, 0 },
	{ "http://[2001:db8::1]x/", 0, 0, 0 },
	{ "http://192.0.2.1:8080/", 1, 1, 1 },
	{ "http://xn--bcher-kva.example/", 1, 1, 1 },
	{ "https://example.org?q", 1, 1, 0 },
	{ "https://example.org/a%20b", 1, 1, 1 },
	{ "https://example.org/a%2", 0, 0, 0 },
	{ "https://example.org/a%zz", 0, 0, 0 },
	{ "https://ex%41mple.org/", 1, 1, 1 },
	{ "https://example.org/a;b=c,d!$&'()*+:@/-._~", 1, 1, 1 },
	/* IRIs: non-ASCII as UTF-8, in the host and after it */
	{ "https://b\xc3\xbc" "cher.example/\xc3\xa9t\xc3\xa9", 1, 1, 1 },
	{ "https://example.org/?q=\xe4\xb8\xad", 1, 1, 0 },
	{ "https://example.org/\xf0\x9f\x98\x80", 1, 1, 1 },
	{ "https://example.org/\xc3", 0, 0, 0 },	/* truncated */
	{ "https://example.org/\xc0\xaf", 0, 0, 0 },	/* overlong */
	{ "https://example.org/\xed\xa0\x80", 0, 0, 0 },	/* surrogate */
	{ "https://example.org/\xc2\x85", 0, 0, 0 },	/* C1 control */
	{ "https://example.org/\xff", 0, 0, 0 },
	/* never in a URI */
	{ "http://exa mple.org/", 0, 0, 0 },
	{ "http://example.org/a b", 0, 0, 0 },
	{ "http://example.org/a\tb", 0, 0, 0 },
	{ "http://example.org/a\x7f", 0, 0, 0 },
	{ "http://ex<ample.org/", 0, 0, 0 },
	{ "http://example.org/\"", 0, 0, 0 },
	{ "http://example.org/>", 0, 0, 0 },
	{ "http://example.org/a\\b", 0, 0, 0 },
	{ "http://example.org/a^b", 0, 0, 0 },
	{ "http://example.org/a`b", 0, 0, 0 },
	{ "http://example.org/a|b", 0, 0, 0 },
	{ "http://example.org/a[b]", 0, 0, 0 },
	/* braces: only in a template, only after the authority */
	{ "http://p.ex/?u={feed}", 0, 1, 0 },
	{ "http://p.ex/ping?url={feed}&n={name}", 0, 1, 0 },
	{ "http://{site}/", 0, 0, 0 },
	/* not absolute http(s) */
	{ "ftp://example.org/", 0, 0, 0 },
	{ "/relative/path", 0, 0, 0 },
	{ "example.org/x", 0, 0, 0 },
	{ "http:example.org", 0, 0, 0 },
	{ "http://", 0, 0, 0 },
	{ "http:///path", 0, 0, 0 },
	{ "http://:80/", 0, 0, 0 },
	{ "http://user@/", 0, 0, 0 },
	{ "http://example.org:80x/", 0, 0, 0 },
	{ "mailto:a@b.org", 0, 0, 0 },
	{ "", 0, 0, 0 },
	/* fuzz_syntax: what libcurl refuses, so notify could never send */
	{ "http://a!b/", 0, 0, 0 },
	{ "http://ex$ample.org/", 0, 0, 0 },
	{ "http://a,b;c=d/", 0, 0, 0 },
	{ "http://a%21b/", 0, 0, 0 },		/* escaped sub-delim */
	{ "http://a%2Fb/", 0, 0, 0 },
	{ "http://a%20b/", 0, 0, 0 },
	{ "http://a%00b/", 0, 0, 0 },
	{ "http://h%3A80/", 0, 0, 0 },
	{ "http://a%C3%A9.example/", 1, 1, 1 },	/* escaped UTF-8 is fine */
	{ "http://example.org:65535/", 1, 1, 1 },
	{ "http://example.org:0000000000080/", 1, 1, 1 },
	{ "http://example.org:65536/", 0, 0, 0 },
	{ "http://example.org:99999999999999999999/", 0, 0, 0 },
	{ "http://u!$:p@example.org/", 1, 1, 1 },	/* userinfo may */
};

START_TEST(test_url)
{
	const char	*s = urls[_i].s;

	ck_assert_msg(syntax_is_http_url(s) == urls[_i].url, "url %s", s);
	ck_assert_msg(syntax_is_http_template(s) == urls[_i].tmpl,
	    "template %s", s);
	ck_assert_msg(syntax_is_base_url(s) == urls[_i].base, "base %s", s);
}
END_TEST

static const struct {
	const char	*s;
	const char	*host;	/* NULL: not a URL */
} hosts[] = {
	{ "https://Example.org:8443/x", "Example.org" },
	{ "http://u:p@h.ex", "h.ex" },
	{ "http://[::1]:80/", "[::1]" },
	{ "http://h.ex?q", "h.ex" },
	{ "http://h.ex/a b", NULL },
	{ "h.ex", NULL },
};

START_TEST(test_url_host)
{
	const char	*h;
	size_t		 n;

	if (hosts[_i].host == NULL) {
		ck_assert_int_eq(syntax_url_host(hosts[_i].s, &h, &n), -1);
		return;
	}
	ck_assert_int_eq(syntax_url_host(hosts[_i].s, &h, &n), 0);
	ck_assert_uint_eq(n, strlen(hosts[_i].host));
	ck_assert_int_eq(memcmp(h, hosts[_i].host, n), 0);
}
END_TEST

static const struct {
	const char	*s;
	int		 ok;
} langs[] = {
	{ "en", 1 },
	{ "EN", 1 },
	{ "bg", 1 },
	{ "pt-BR", 1 },
	{ "de-CH-1996", 1 },
	{ "sr-Latn-RS", 1 },
	{ "zh-Hant-TW", 1 },
	{ "es-419", 1 },
	{ "zh-yue-HK", 1 },			/* extlang */
	{ "zh-min-nan", 1 },			/* regular grandfathered */
	{ "abc-def-ghi-jkl", 1 },		/* three extlangs */
	{ "abc-def-ghi-jkl-mno", 0 },		/* four */
	{ "sl-rozaj-biske", 1 },		/* variants */
	{ "sl-1994", 1 },			/* DIGIT 3alphanum */
	{ "en-a-bbb-x-a-ccc", 1 },		/* extension, privateuse */
	{ "en-a-bb-c-dd", 1 },
	{ "en-a", 0 },				/* singleton without subtag */
	{ "en-a-b", 0 },			/* extension subtag of 1 */
	{ "en-x", 0 },
	{ "x-whatever", 1 },			/* privateuse tag */
	{ "X-a-b", 1 },
	{ "x", 0 },
	{ "i-klingon", 1 },			/* irregular */
	{ "en-GB-oed", 1 },
	{ "i-foo", 0 },
	{ "abcd", 1 },				/* 4ALPHA */
	{ "abcdefgh", 1 },			/* 5*8ALPHA */
	{ "abcdefghi", 0 },
	{ "e", 0 },
	{ "1en", 0 },
	{ "en_GB", 0 },
	{ "en-", 0 },
	{ "-en", 0 },
	{ "en--GB", 0 },
	{ "en-GB-abcd", 0 },			/* 4 alnum variant needs DIGIT */
	{ "en-abcdefghi", 0 },			/* subtag of 9 */
	{ "en-GB-US", 0 },			/* two regions */
	{ "en-Latn-Cyrl", 0 },			/* two scripts */
	{ "en GB", 0 },
	{ "", 0 },
};

START_TEST(test_lang)
{
	ck_assert_msg(syntax_is_lang(langs[_i].s) == langs[_i].ok, "%s",
	    langs[_i].s);
}
END_TEST

static const struct {
	const char	*s;
	int		 ok;
} specs[] = {
	{ "a", 1 },
	{ "region:bulgaria", 1 },
	{ "a:b:c", 1 },
	{ "A-Z_0.9!~*'()", 1 },
	{ "", 0 },
	{ ":", 0 },
	{ ":a", 0 },
	{ "a:", 0 },
	{ "a::b", 0 },
	{ "a b", 0 },
	{ "a/b", 0 },
	{ "a%20b", 0 },
	{ "\xc3\xa9", 0 },
};

START_TEST(test_setspec)
{
	ck_assert_msg(syntax_is_setspec(specs[_i].s) == specs[_i].ok, "%s",
	    specs[_i].s);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;
} pcts[] = {
	{ "", "" },
	{ "AZaz09-._~", "AZaz09-._~" },
	{ "https://ex.org/sets/region:bg.atom?a=b&c=d e",
	    "https%3A%2F%2Fex.org%2Fsets%2Fregion%3Abg.atom%3Fa%3Db%26c%3Dd%20e" },
	{ "!*'()+%", "%21%2A%27%28%29%2B%25" },
	{ "\xc3\xa9\x01\x7f\xff", "%C3%A9%01%7F%FF" },
};

START_TEST(test_pct_encode)
{
	struct buf	 b;

	buf_init(&b, 1024);
	ck_assert_int_eq(syntax_pct_encode(&b, pcts[_i].in), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, pcts[_i].out);
	buf_release(&b);
}
END_TEST

/* A full buffer fails and says so. */
START_TEST(test_pct_encode_full)
{
	struct buf	 b;

	buf_init(&b, 4);
	ck_assert_int_eq(syntax_pct_encode(&b, "ab"), 0);
	ck_assert_int_eq(syntax_pct_encode(&b, " "), -1);
	buf_release(&b);
}
END_TEST

START_TEST(test_hex)
{
	static const char	 digits[] = "0123456789abcdef";
	int			 i;

	for (i = 0; i < 16; i++) {
		ck_assert_int_eq(syntax_hexval(digits[i]), i);
		if (i >= 10)
			ck_assert_int_eq(syntax_hexval(digits[i] - 32), i);
	}
	ck_assert_int_eq(syntax_hexval('g'), -1);
	ck_assert_int_eq(syntax_hexval('G'), -1);
	ck_assert_int_eq(syntax_hexval('/'), -1);
	ck_assert_int_eq(syntax_hexval(':'), -1);
	ck_assert_int_eq(syntax_hexval('\0'), -1);
	ck_assert_int_eq(syntax_hexval(0xc3), -1);
	ck_assert_int_eq(syntax_hex2("41"), 0x41);
	ck_assert_int_eq(syntax_hex2("fF"), 0xff);
	ck_assert_int_eq(syntax_hex2("00"), 0);
	ck_assert_int_eq(syntax_hex2("4"), -1);
	ck_assert_int_eq(syntax_hex2("4g"), -1);
	ck_assert_int_eq(syntax_hex2(""), -1);
}
END_TEST

static Suite *
syntax_suite(void)
{
	Suite	*s = suite_create("syntax");
	TCase	*tc;

	tc = tcase_create("url");
	tcase_add_loop_test(tc, test_url, 0, NELEM(urls));
	tcase_add_loop_test(tc, test_url_host, 0, NELEM(hosts));
	suite_add_tcase(s, tc);
	tc = tcase_create("lang");
	tcase_add_loop_test(tc, test_lang, 0, NELEM(langs));
	suite_add_tcase(s, tc);
	tc = tcase_create("setspec");
	tcase_add_loop_test(tc, test_setspec, 0, NELEM(specs));
	suite_add_tcase(s, tc);
	tc = tcase_create("pct");
	tcase_add_loop_test(tc, test_pct_encode, 0, NELEM(pcts));
	tcase_add_test(tc, test_pct_encode_full);
	tcase_add_test(tc, test_hex);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(syntax_suite());
}
