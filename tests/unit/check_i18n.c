/*
 * check_i18n: the message catalogue (share/i18n/messages.def) is complete
 * in every language, every translation takes the printf arguments its
 * English text takes, and page paths split into language and path.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "i18n.h"
#include "testlib.h"

/*
 * The printf conversions of s ("%lld bytes" gives "lld"), each followed by
 * a space, into out; "%%" is no conversion.
 */
static void
conversions(const char *s, char *out, size_t outsz)
{
	size_t	 n = 0;

	out[0] = '\0';
	for (; *s != '\0'; s++) {
		if (*s != '%')
			continue;
		if (*++s == '%')
			continue;
		while (*s != '\0' && strchr("diouxXeEfgGcsp", *s) == NULL &&
		    n + 2 < outsz)
			out[n++] = *s++;
		if (*s == '\0' || n + 2 >= outsz)
			break;
		out[n++] = *s;
		out[n++] = ' ';
		out[n] = '\0';
	}
}

START_TEST(test_every_message_in_every_language)
{
	char	 want[64], got[64];
	int	 m, l, missing = 0;

	ck_assert_int_gt(I18N_NMSGS, 40);
	for (m = 0; m < I18N_NMSGS; m++) {
		conversions(i18n_msg(I18N_EN, (enum i18n_msg)m), want,
		    sizeof(want));
		for (l = 0; l < I18N_NLANGS; l++) {
			const char *s = i18n_msg((enum i18n_lang)l,
			    (enum i18n_msg)m);

			if (s[0] == '\0') {
				fprintf(stderr, "messages.def: %s: no %s text\n",
				    i18n_key((enum i18n_msg)m),
				    i18n_tag((enum i18n_lang)l));
				missing++;
				continue;
			}
			conversions(s, got, sizeof(got));
			ck_assert_msg(strcmp(got, want) == 0,
			    "%s (%s): conversions '%s', English has '%s'",
			    i18n_key((enum i18n_msg)m),
			    i18n_tag((enum i18n_lang)l), got, want);
		}
	}
	ck_assert_msg(missing == 0, "%d texts missing", missing);
}
END_TEST

/* The check above can fail: a dropped or changed conversion is seen. */
START_TEST(test_conversion_check_sees_a_difference)
{
	char	 a[64], b[64];

	conversions("%lld bytes", a, sizeof(a));
	conversions("%s bytes", b, sizeof(b));
	ck_assert_str_eq(a, "lld ");
	ck_assert_str_ne(a, b);
	conversions("100%% of %s", a, sizeof(a));
	ck_assert_str_eq(a, "s ");
	conversions("no arguments", b, sizeof(b));
	ck_assert_str_eq(b, "");
	/* out of range: "" rather than a crash */
	ck_assert_str_eq(i18n_msg(I18N_NLANGS, I18N_SKIP_LINK), "");
	ck_assert_str_eq(i18n_msg(I18N_EN, I18N_NMSGS), "");
}
END_TEST

START_TEST(test_languages)
{
	char	 want[16];
	int	 l, k;

	ck_assert_str_eq(i18n_tag(I18N_EN), "en");
	ck_assert_str_eq(i18n_tag(I18N_BG), "bg");
	/* the sample records tag Norwegian Bokmål "nb" */
	ck_assert_str_eq(i18n_tag(I18N_NB), "nb");
	ck_assert_str_eq(i18n_prefix(I18N_EN), "");
	for (l = 0; l < I18N_NLANGS; l++) {
		ck_assert(i18n_name((enum i18n_lang)l)[0] != '\0');
		for (k = 0; k < l; k++)
			ck_assert_str_ne(i18n_tag((enum i18n_lang)l),
			    i18n_tag((enum i18n_lang)k));
		if (l == I18N_EN)
			continue;
		snprintf(want, sizeof(want), "/%s",
		    i18n_tag((enum i18n_lang)l));
		ck_assert_str_eq(i18n_prefix((enum i18n_lang)l), want);
	}
	ck_assert_str_eq(i18n_msg(I18N_BG, I18N_HOME),
	    "\u0421\u044a\u0431\u0438\u0442\u0438\u044f \u0438 "
	    "\u043f\u0443\u0431\u043b\u0438\u043a\u0430\u0446\u0438\u0438");
}
END_TEST

static const struct {
	const char	*path;
	enum i18n_lang	 lang;
	const char	*rest;
} path_cases[] = {
	{ "/", I18N_EN, "/" },
	{ "/records/a.html", I18N_EN, "/records/a.html" },
	{ "/bg/", I18N_BG, "/" },
	{ "/nb/", I18N_NB, "/" },
	{ "/bg/sets/a:b.html", I18N_BG, "/sets/a:b.html" },
	{ "/nb/records/x-1.html", I18N_NB, "/records/x-1.html" },
	{ "/nb/archive/2.html", I18N_NB, "/archive/2.html" },
	/* no prefix: a bare "/bg", "/bgx/", "/en/" are English paths */
	{ "/bg", I18N_EN, "/bg" },
	{ "/bgx/", I18N_EN, "/bgx/" },
	{ "/en/", I18N_EN, "/en/" },
	{ "/sets/bg/x", I18N_EN, "/sets/bg/x" },
};

START_TEST(test_path_lang)
{
	const char	*rest = NULL;
	struct buf	 b;

	ck_assert_int_eq(i18n_path_lang(path_cases[_i].path, &rest),
	    path_cases[_i].lang);
	ck_assert_str_eq(rest, path_cases[_i].rest);
	/* and back */
	buf_init(&b, 256);
	ck_assert_int_eq(i18n_path(&b, path_cases[_i].lang, rest), 0);
	ck_assert_str_eq(b.data, path_cases[_i].path);
	buf_release(&b);
}
END_TEST

static Suite *
i18n_suite(void)
{
	Suite	*s = suite_create("i18n");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_every_message_in_every_language);
	tcase_add_test(tc, test_conversion_check_sees_a_difference);
	tcase_add_test(tc, test_languages);
	tcase_add_loop_test(tc, test_path_lang, 0, NELEM(path_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(i18n_suite());
}
