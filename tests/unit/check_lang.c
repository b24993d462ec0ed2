/* check_lang: ISO 639 / BCP 47 codes, canonical form and per-output codes. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "lang.h"
#include "testlib.h"

/* in, canonical, ISO 639-3, MARC (639-2/B), ISO 639-1; NULL: none */
static const struct {
	const char	*in, *canon, *iso3, *marc, *iso1;
} cases[] = {
	{ "en", "en", "eng", "eng", "en" },
	{ "eng", "en", "eng", "eng", "en" },
	{ "EN", "en", "eng", "eng", "en" },
	{ "en-GB", "en-GB", "eng", "eng", "en" },
	{ "bg", "bg", "bul", "bul", "bg" },
	{ "bul", "bg", "bul", "bul", "bg" },
	{ "no", "no", "nor", "nor", "no" },
	{ "nor", "no", "nor", "nor", "no" },
	{ "nb", "nb", "nob", "nob", "nb" },
	{ "nob", "nb", "nob", "nob", "nb" },
	{ "nno", "nn", "nno", "nno", "nn" },
	{ "de", "de", "deu", "ger", "de" },
	{ "ger", "de", "deu", "ger", "de" },
	{ "deu-CH", "de-CH", "deu", "ger", "de" },
	{ "fre", "fr", "fra", "fre", "fr" },
	{ "fra", "fr", "fra", "fre", "fr" },
	{ "ru", "ru", "rus", "rus", "ru" },
	{ "spa", "es", "spa", "spa", "es" },
	{ "it", "it", "ita", "ita", "it" },
	{ "zh-Hant", "zh-Hant", "zho", "chi", "zh" },
	{ "cy", "cy", "cym", "wel", "cy" },
	{ "aa", "aa", "aar", "aar", "aa" },
	{ "zu", "zu", "zul", "zul", "zu" },
	/* well-formed, not in ISO 639-1: passes through */
	{ "smj", "smj", "smj", "smj", NULL },
	{ "SMJ-NO", "smj-NO", "smj", "smj", NULL },
	{ "und", "und", "und", "und", NULL },
	/* two letters, not ISO 639-1: a tag, but no three-letter code */
	{ "xx", "xx", NULL, NULL, NULL },
	/* not codes */
	{ "english", NULL, NULL, NULL, NULL },
	{ "e", NULL, NULL, NULL, NULL },
	{ "", NULL, NULL, NULL, NULL },
	{ "en-", NULL, NULL, NULL, NULL },
	{ "x-klingon", NULL, NULL, NULL, NULL },
	{ "e1", NULL, NULL, NULL, NULL },
	{ "en_GB", NULL, NULL, NULL, NULL },
};

static void
eq(const char *got, const char *want)
{
	if (want == NULL)
		ck_assert_ptr_null(got);
	else {
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
	}
}

START_TEST(test_codes)
{
	char	 canon[32], c3[LANG_CODE_LEN], m3[LANG_CODE_LEN];

	eq(lang_canon(cases[_i].in, canon, sizeof(canon)), cases[_i].canon);
	ck_assert_int_eq(lang_is_code(cases[_i].in), cases[_i].canon != NULL);
	eq(lang_iso3(cases[_i].in, c3), cases[_i].iso3);
	eq(lang_marc(cases[_i].in, m3), cases[_i].marc);
	eq(lang_iso1(cases[_i].in), cases[_i].iso1);
	/* the canonical form maps like the original */
	if (cases[_i].canon != NULL) {
		eq(lang_iso3(canon, c3), cases[_i].iso3);
		eq(lang_marc(canon, m3), cases[_i].marc);
	}
}
END_TEST

/* out too small: NULL, nothing written past it. */
START_TEST(test_small)
{
	char	 out[6];

	memset(out, 'Z', sizeof(out));
	ck_assert_ptr_null(lang_canon("en-GB-oxendict", out, 6));
	ck_assert_ptr_nonnull(lang_canon("eng-GB", out, 6));
	ck_assert_str_eq(out, "en-GB");
	ck_assert_ptr_null(lang_canon("en-GB", out, 5));
	ck_assert_ptr_null(lang_canon(NULL, out, 6));
}
END_TEST

static Suite *
lang_suite(void)
{
	Suite	*s = suite_create("lang");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_codes, 0, NELEM(cases));
	tcase_add_test(tc, test_small);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(lang_suite());
}
