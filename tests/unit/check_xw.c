/* check_xw: the cleaner and the writer helpers always give well-formed XML. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "xw.h"
#include "testlib.h"

#define FFFD		"\xEF\xBF\xBD"

static const struct {
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	const char	*out;
	int		 is_clean;
} clean_cases[] = {
	{ "abc", 0, "abc", 1 },
	{ "", 0, "", 1 },
	{ "a\x01" "b\x1f" "c", 0, "abc", 0 },
	{ "\t\n\r", 0, "\t\n\r", 1 },
	{ "\x7f", 0, "\x7f", 1 },
	{ "a\0b", 3, "ab", 0 },
	{ "caf\xC3\xA9", 0, "caf\xC3\xA9", 1 },
	{ "\xF0\x9F\x98\x80", 0, "\xF0\x9F\x98\x80", 1 },	/* U+1F600 */
	{ "\xED\x9F\xBF\xEE\x80\x80", 0, "\xED\x9F\xBF\xEE\x80\x80", 1 },
	{ "\xF4\x8F\xBF\xBF", 0, "\xF4\x8F\xBF\xBF", 1 },	/* U+10FFFF */
	{ FFFD, 0, FFFD, 1 },
	{ "x\xEF\xBF\xBEy\xEF\xBF\xBFz", 0, "xyz", 0 },	/* U+FFFE/FFFF */
	{ "\xC0\xAF", 0, FFFD FFFD, 0 },			/* overlong */
	{ "\xC1\xBF", 0, FFFD FFFD, 0 },
	{ "\xE0\x80\xAF", 0, FFFD FFFD FFFD, 0 },
	{ "\xF0\x80\x80\xAF", 0, FFFD FFFD FFFD FFFD, 0 },
	{ "\xED\xA0\x80", 0, FFFD FFFD FFFD, 0 },		/* surrogate */
	{ "\xED\xBF\xBF", 0, FFFD FFFD FFFD, 0 },
	{ "\xF4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD, 0 },	/* > 10FFFF */
	{ "\xF5\x80\x80\x80", 0, FFFD FFFD FFFD FFFD, 0 },
	{ "\xFF\xFE", 0, FFFD FFFD, 0 },
	{ "\x80", 0, FFFD, 0 },
	{ "a\xE2\x82", 0, "a" FFFD, 0 },			/* truncated */
	{ "\xE2\x82x", 0, FFFD "x", 0 },
	{ "\xF0\x9F\x98", 0, FFFD, 0 },
	{ "\xF0\x9F\x98\xC3\xA9", 0, FFFD "\xC3\xA9", 0 },
};

START_TEST(test_clean)
{
	struct buf	 b;
	const char	*in = clean_cases[_i].in;
	size_t		 len = clean_cases[_i].len ? clean_cases[_i].len :
			    strlen(in);

	buf_init(&b, 1024);
	ck_assert_int_eq(xw_clean(&b, in, len), 0);
	ck_assert_uint_eq(b.len, strlen(clean_cases[_i].out));
	if (b.len > 0)
		ck_assert_mem_eq(b.data, clean_cases[_i].out, b.len);
	ck_assert_int_eq(xw_is_clean(in, len), clean_cases[_i].is_clean);
	/* What comes out is always clean. */
	ck_assert_int_eq(xw_is_clean(b.data != NULL ? b.data : "", b.len), 1);
	buf_release(&b);
}
END_TEST

START_TEST(test_clean_cap)
{
	struct buf	 b;

	buf_init(&b, 4);
	ck_assert_int_eq(xw_clean(&b, "abcd", 4), 0);
	ck_assert_int_eq(xw_clean(&b, "\xFF", 1), -1);
	buf_release(&b);
}
END_TEST

/* Parse out's bytes; return the document (caller frees) or fail. */
static xmlDocPtr
reparse(const struct buf *out)
{
	xmlDocPtr	 doc;

	ck_assert_ptr_nonnull(out->data);
	doc = xmlReadMemory(out->data, (int)out->len, NULL, NULL,
	    XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "not well-formed: %s", out->data);
	return doc;
}

START_TEST(test_document)
{
	struct buf	 out;
	struct xw	 x;
	xmlDocPtr	 doc;
	xmlNodePtr	 root;

	buf_init(&out, 1 << 20);
	ck_assert_int_eq(xw_open(&x, &out, 0, 1), 0);
	xw_start_ns(&x, NULL, "feed", "http://www.w3.org/2005/Atom");
	xw_attr_ns(&x, "dc", "x", "http://purl.org/dc/elements/1.1/", "v");
	xw_attr_int(&x, "n", -42);
	xw_elem(&x, "title", "A & B <c> \"d\"");
	xw_elem_lang(&x, "summary", "fr", "caf\xC3\xA9");
	xw_elem_lang(&x, "summary", NULL, "no lang");
	xw_start(&x, "link");
	xw_attr(&x, "href", "http://example.org/?a=1&b=\"2\"");
	xw_end(&x);
	xw_comment(&x, "a -- b -");
	xw_raw(&x, "<raw a=\"1\">x</raw>", 18);
	xw_start(&x, "open");
	xw_text(&x, "left open");
	ck_assert_int_eq(xw_close(&x), 0);

	ck_assert_int_eq(strncmp(out.data,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "n=\"-42\""));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "<summary xml:lang=\"fr\">caf\xC3\xA9</summary>"));
	ck_assert_ptr_nonnull(strstr(out.data, "<summary>no lang</summary>"));
	ck_assert_ptr_nonnull(strstr(out.data, "A &amp; B &lt;c&gt;"));
	ck_assert_ptr_nonnull(strstr(out.data, "<raw a=\"1\">x</raw>"));
	ck_assert_ptr_nonnull(strstr(out.data, "<open>left open</open>"));
	ck_assert_ptr_nonnull(strstr(out.data, "<!--a  - b  -->"));
	doc = reparse(&out);
	root = xmlDocGetRootElement(doc);
	ck_assert_str_eq((const char *)root->name, "feed");
	ck_assert_str_eq((const char *)root->ns->href,
	    "http://www.w3.org/2005/Atom");
	xmlFreeDoc(doc);
	buf_release(&out);
}
END_TEST

START_TEST(test_append_nodecl)
{
	struct buf	 out;
	struct xw	 x;

	buf_init(&out, 1024);
	buf_addstr(&out, "prefix:");
	ck_assert_int_eq(xw_open(&x, &out, 0, 0), 0);
	xw_elem(&x, "a", "b");
	ck_assert_int_eq(xw_close(&x), 0);
	ck_assert_int_eq(strncmp(out.data, "prefix:<a>b</a>", 15), 0);
	buf_release(&out);
}
END_TEST

START_TEST(test_indent)
{
	struct buf	 out;
	struct xw	 x;

	buf_init(&out, 4096);
	ck_assert_int_eq(xw_open(&x, &out, 1, 1), 0);
	xw_start(&x, "r");
	xw_start(&x, "a");
	xw_elem(&x, "b", "t");
	xw_end(&x);
	xw_end(&x);
	ck_assert_int_eq(xw_close(&x), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\n  <a>\n    <b>t</b>\n  </a>"));
	xmlFreeDoc(reparse(&out));
	buf_release(&out);
}
END_TEST

START_TEST(test_dirty)
{
	struct buf	 out;
	struct xw	 x;
	xmlDocPtr	 doc;
	xmlChar		*s;

	buf_init(&out, 4096);
	ck_assert_int_eq(xw_open(&x, &out, 0, 1), 0);
	xw_start(&x, "r");
	xw_attr(&x, "v", "a\x01\x02" "b\xC0\xAF" "c\xEF\xBF\xBF");
	xw_text(&x, "x\x1b[31my\xED\xA0\x80z\x0c");
	xw_comment(&x, "\x07" "bell");
	xw_end(&x);
	ck_assert_int_eq(xw_close(&x), 0);
	ck_assert_ptr_null(memchr(out.data, '\x01', out.len));
	ck_assert_ptr_null(memchr(out.data, '\x1b', out.len));
	ck_assert_ptr_null(memchr(out.data, '\x07', out.len));
	ck_assert_int_eq(xw_is_clean(out.data, out.len), 1);
	doc = reparse(&out);
	s = xmlGetProp(xmlDocGetRootElement(doc), (const xmlChar *)"v");
	ck_assert_str_eq((const char *)s, "ab" FFFD FFFD "c");
	xmlFree(s);
	s = xmlNodeGetContent(xmlDocGetRootElement(doc));
	ck_assert_str_eq((const char *)s, "x[31my" FFFD FFFD FFFD "z");
	xmlFree(s);
	xmlFreeDoc(doc);
	buf_release(&out);
}
END_TEST

START_TEST(test_null_skipped)
{
	struct buf	 out;
	struct xw	 x;

	buf_init(&out, 4096);
	ck_assert_int_eq(xw_open(&x, &out, 0, 0), 0);
	xw_start(&x, "r");
	xw_attr(&x, "a", NULL);
	xw_attr_ns(&x, "p", "b", "urn:p", NULL);
	xw_elem(&x, "e", NULL);
	xw_elem_lang(&x, "f", "en", NULL);
	xw_text(&x, NULL);
	xw_comment(&x, NULL);
	xw_raw(&x, NULL, 0);
	xw_elem(&x, "g", "");
	xw_end(&x);
	ck_assert_int_eq(xw_close(&x), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "<r><g></g></r>"));
	ck_assert_ptr_null(strstr(out.data, "<e"));
	ck_assert_ptr_null(strstr(out.data, "<f"));
	ck_assert_ptr_null(strstr(out.data, "a="));
	buf_release(&out);
}
END_TEST

START_TEST(test_cap)
{
	struct buf	 out;
	struct xw	 x;
	int		 i;

	/* Overflow inside libxml2's own buffer shows at the final flush. */
	buf_init(&out, 100);
	ck_assert_int_eq(xw_open(&x, &out, 0, 1), 0);
	xw_start(&x, "r");
	for (i = 0; i < 20; i++)
		xw_elem(&x, "item", "some text that adds up");
	ck_assert_int_eq(xw_close(&x), -1);
	ck_assert_uint_le(out.len, 100);
	buf_release(&out);

	/* Past libxml2's chunk size the failure is sticky mid-document. */
	buf_init(&out, 10000);
	ck_assert_int_eq(xw_open(&x, &out, 0, 1), 0);
	xw_start(&x, "r");
	for (i = 0; i < 2000 && !x.failed; i++)
		xw_elem(&x, "item", "some text that adds up");
	ck_assert_int_eq(x.failed, 1);
	ck_assert_int_lt(i, 2000);
	xw_elem(&x, "after", "nothing");
	ck_assert_int_eq(xw_close(&x), -1);
	ck_assert_uint_le(out.len, 10000);
	buf_release(&out);

	/* One string that cannot fit the scratch buffer. */
	buf_init(&out, 64);
	ck_assert_int_eq(xw_open(&x, &out, 0, 0), 0);
	xw_text(&x, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"
	    "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF");
	ck_assert_int_eq(x.failed, 1);
	ck_assert_int_eq(xw_close(&x), -1);
	buf_release(&out);
}
END_TEST

/* Random bytes in text, attributes and comments never break the output. */
START_TEST(test_random)
{
	struct buf	 out;
	struct xw	 x;
	char		 s[64];
	int		 i, j, n;

	srandom(12345);
	for (i = 0; i < 300; i++) {
		buf_init(&out, 1 << 16);
		ck_assert_int_eq(xw_open(&x, &out, i & 1, 1), 0);
		xw_start(&x, "r");
		for (j = 0; j < 3; j++) {
			n = (int)(random() % (sizeof(s) - 1));
			for (int k = 0; k < n; k++)
				s[k] = (char)(random() % 255 + 1);
			s[n] = '\0';
			if (j == 0)
				xw_attr(&x, "a", s);
			else if (j == 1)
				xw_text(&x, s);
			else
				xw_comment(&x, s);
		}
		xw_end(&x);
		ck_assert_int_eq(xw_close(&x), 0);
		ck_assert_int_eq(xw_is_clean(out.data, out.len), 1);
		xmlFreeDoc(reparse(&out));
		buf_release(&out);
	}
}
END_TEST

static Suite *
xw_suite(void)
{
	Suite	*s = suite_create("xw");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_clean, 0, NELEM(clean_cases));
	tcase_add_test(tc, test_clean_cap);
	tcase_add_test(tc, test_document);
	tcase_add_test(tc, test_append_nodecl);
	tcase_add_test(tc, test_indent);
	tcase_add_test(tc, test_dirty);
	tcase_add_test(tc, test_null_skipped);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(xw_suite());
}
