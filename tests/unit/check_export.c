/* check_export: URL paths map to files inside the export directory only. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "export.h"
#include "testlib.h"


static const struct {
	const char	*url;
	const char	*file;		/* NULL: refused */
} path_cases[] = {
	{ "/", "index.html" },
	{ "/feed.atom", "feed.atom" },
	{ "/feed.rss", "feed.rss" },
	{ "/archive/3.atom", "archive/3.atom" },
	{ "/sets/region:bulgaria.atom", "sets/region:bulgaria.atom" },
	{ "/sets/a:b/archive/1.rss", "sets/a:b/archive/1.rss" },
	{ "/sets/x/", "sets/x/index.html" },
	{ "/sets/..atom", "sets/..atom" },	/* a name, not a parent */
	{ "/sets/...", "sets/..." },
	{ "/sets/../archive/1.atom", NULL },	/* spec ".." must not escape */
	{ "/sets/./x.atom", NULL },
	{ "/..", NULL },
	{ "/.", NULL },
	{ "//feed.atom", NULL },
	{ "/a//b", NULL },
	{ "feed.atom", NULL },
	{ "", NULL },
};

START_TEST(test_export_path)
{
	struct buf	 b;
	int		 rc;

	buf_init(&b, 4096);
	rc = export_path(path_cases[_i].url, &b);
	if (path_cases[_i].file == NULL)
		ck_assert_msg(rc == -1, "'%s' accepted as '%s'",
		    path_cases[_i].url, b.data ? b.data : "");
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(b.data, path_cases[_i].file);
	}
	buf_release(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("export");
	TCase	*tc = tcase_create("path");

	tcase_add_loop_test(tc, test_export_path, 0, NELEM(path_cases));
	suite_add_tcase(s, tc);
	return tl_run(s);
}
