/*
 * check_log: log_escape() and what reaches stderr.  A name an attacker
 * chooses (a record's file name, a URL) must never forge a log line or
 * reach the terminal as a control sequence.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testlib.h"
#include "banned.h"

static const struct {
	const char	*in;
	const char	*out;
} cases[] = {
	{ "plain ascii", "plain ascii" },
	{ "a\nb", "a\\x0ab" },
	{ "\r\t\x01\x1b[31m", "\\x0d\\x09\\x01\\x1b[31m" },
	{ "del\x7f", "del\\x7f" },
	{ "utf-8 \xc3\xa5 \xe2\x82\xac \xf0\x9f\x98\x80",
	  "utf-8 \xc3\xa5 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "bad \xff\xfe", "bad \\xff\\xfe" },
	{ "overlong \xc0\xaf \xe0\x80\xaf",
	  "overlong \\xc0\\xaf \\xe0\\x80\\xaf" },
	{ "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80" },
	{ "past max \xf4\x90\x80\x80", "past max \\xf4\\x90\\x80\\x80" },
	{ "truncated \xe2\x82", "truncated \\xe2\\x82" },
	{ "C1 CSI \xc2\x9b" "2J", "C1 CSI \\xc2\\x9b2J" },
	{ "nbsp \xc2\xa0", "nbsp \xc2\xa0" },
};

START_TEST(test_escape)
{
	char	 out[256];

	ck_assert_str_eq(log_escape(cases[_i].in, out, sizeof(out)),
	    cases[_i].out);
}
END_TEST

/* Truncation never splits an escape or a character. */
START_TEST(test_escape_truncates)
{
	char	 out[8];

	ck_assert_str_eq(log_escape("abcd\n", out, sizeof(out)), "abcd");
	ck_assert_str_eq(log_escape("abc\xe2\x82\xac", out, 6), "abc");
	ck_assert_str_eq(log_escape("abc\xe2\x82\xac", out, 7),
	    "abc\xe2\x82\xac");
	ck_assert_str_eq(log_escape("x", out, 1), "");
}
END_TEST

/* Every line on stderr: one line per message, whatever it carries. */
START_TEST(test_emit_escaped)
{
	char	 dir[256], path[300], *text;
	int	 fd, saved;
	size_t	 len, i, lines = 0;

	tl_mkdtemp(dir, sizeof(dir), "check_log");
	snprintf(path, sizeof(path), "%s/err", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	log_init(LOG_LEVEL_INFO, 0);
	log_warnx("%s: bad", "x\npubfeed: forged\x1b[2J");
	log_lines(LOG_LEVEL_WARN, "one\ntwo \x07\n");
	errno = ENOENT;
	log_warn("with errno \x01");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	text = tl_slurp(path, &len);
	ck_assert_str_eq(text,
	    "pubfeed: x\\x0apubfeed: forged\\x1b[2J: bad\n"
	    "pubfeed: one\n"
	    "pubfeed: two \\x07\n"
	    "pubfeed: with errno \\x01: No such file or directory\n");
	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	ck_assert_uint_eq(lines, 4);
	free(text);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("escape");

	tcase_add_loop_test(tc, test_escape, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_escape_truncates);
	tcase_add_test(tc, test_emit_escaped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(log_suite());
}
