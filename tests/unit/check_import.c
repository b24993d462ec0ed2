/*
 * check_import: the import readers (CSL-JSON, RIS, CSV) on edge cases and
 * bad items, each reported by its position while the others still come
 * through; the id rules (citation key, DOI, year + title, slugs with
 * transliteration); source dates; the record writer's refusals.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "import.h"
#include "record.h"
#include "testlib.h"
#include "banned.h"

#define MAXGOT	32

/* What the readers handed over, item by item. */
struct got {
	int	 n;
	long	 pos[MAXGOT];
	char	*why[MAXGOT];	/* NULL: an item */
	char	*key[MAXGOT], *type[MAXGOT], *title[MAXGOT], *issued[MAXGOT];
	char	*author0[MAXGOT];	/* "Family|Given" or "{org}" */
	size_t	 nauthors[MAXGOT], nisbns[MAXGOT], nissns[MAXGOT];
	size_t	 ntitles[MAXGOT];
	char	*abstract[MAXGOT], *series[MAXGOT], *lang2[MAXGOT];
	char	*estart[MAXGOT], *eend[MAXGOT];
};

static char *
sdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int
collect(void *arg, struct import_item *it, long pos, const char *why)
{
	struct got	*g = arg;
	int		 i = g->n++;
	char		 a[256];

	ck_assert_int_lt(i, MAXGOT);
	g->pos[i] = pos;
	g->why[i] = sdup(why);
	if (it == NULL) {
		ck_assert_ptr_nonnull(why);
		return 0;
	}
	ck_assert_ptr_null(why);
	g->key[i] = sdup(it->key);
	g->type[i] = sdup(it->type);
	g->title[i] = sdup(it->titles.n ? it->titles.v[0].text : NULL);
	g->ntitles[i] = it->titles.n;
	g->lang2[i] = sdup(it->titles.n > 1 ? it->titles.v[1].lang : NULL);
	g->issued[i] = sdup(it->issued);
	g->nauthors[i] = it->authors.n;
	g->nisbns[i] = it->isbns.n;
	g->nissns[i] = it->issns.n;
	g->abstract[i] = sdup(it->abstracts.n ? it->abstracts.v[0].text : NULL);
	g->series[i] = sdup(it->series);
	g->estart[i] = sdup(it->event_start);
	g->eend[i] = sdup(it->event_end);
	if (it->authors.n > 0) {
		if (it->authors.v[0].org != NULL)
			snprintf(a, sizeof(a), "{%s}", it->authors.v[0].org);
		else
			snprintf(a, sizeof(a), "%s|%s", it->authors.v[0].family,
			    it->authors.v[0].given ? it->authors.v[0].given :
			    "");
		g->author0[i] = strdup(a);
	}
	return 0;
}

static void
got_free(struct got *g)
{
	int	 i;

	for (i = 0; i < g->n; i++) {
		free(g->why[i]);
		free(g->key[i]);
		free(g->type[i]);
		free(g->title[i]);
		free(g->issued[i]);
		free(g->author0[i]);
		free(g->abstract[i]);
		free(g->series[i]);
		free(g->lang2[i]);
		free(g->estart[i]);
		free(g->eend[i]);
	}
	memset(g, 0, sizeof(*g));
}

typedef int	 parse_fn(const char *, size_t, import_item_fn *, void *,
		    struct err *);

static int
parse(parse_fn *fn, const char *s, struct got *g, struct err *e)
{
	memset(g, 0, sizeof(*g));
	err_init(e);
	return fn(s, strlen(s), collect, g, e);
}

/* ---- ids ----------------------------------------------------------- */

static void
slug_is(const char *in, size_t max, const char *want)
{
	char	 out[IMPORT_ID_MAX + 1];
	size_t	 n;

	n = import_slug(in, out, max);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(slugs)
{
	slug_is("Bezlov2019Smuggling", 128, "bezlov2019smuggling");
	slug_is("  --Hello,  World!! ", 128, "hello-world");
	slug_is("Корупция и контрабанда", 128, "koruptsiya-i-kontrabanda");
	slug_is("Щастие, Юг, Ямбол", 128, "shtastie-yug-yambol");
	slug_is("Bjørnstad og Løvås, Ærlig", 128,
	    "bjoernstad-og-loevaas-aerlig");
	slug_is("Šiauliai Łódź Café", 128, "siauliai-lodz-cafe");
	slug_is("10.1234/csd.2019.1", 128, "10.1234-csd.2019.1");
	slug_is("...leading_dots_", 128, "leading_dots");
	slug_is("!!!", 128, "");
	slug_is("\xff\xfe broken \xc3", 128, "broken");
	/* cut at the last '-' in the last third, else hard */
	slug_is("alpha beta gamma delta", 12, "alpha-beta");
	slug_is("abcdefghijklmnop", 10, "abcdefghij");
}
END_TEST

START_TEST(ids)
{
	struct import_item	 it;
	char			 id[IMPORT_ID_MAX + 1];

	import_item_init(&it);
	ck_assert_int_eq(import_item_id(&it, id), -1);
	ck_assert_int_eq(import_texts_add(&it.titles, NULL,
	    "Онлайн вербуване за трафик на хора", (size_t)-1), 0);
	ck_assert_int_eq(import_item_id(&it, id), 0);
	ck_assert_str_eq(id, "onlayn-verbuvane-za-trafik-na-hora");
	ck_assert_int_eq(import_set(&it.issued, "2025-01-20", (size_t)-1), 0);
	ck_assert_int_eq(import_item_id(&it, id), 0);
	ck_assert_str_eq(id, "2025-onlayn-verbuvane-za-trafik-na-hora");
	/* the DOI wins over the title, without its resolver */
	ck_assert_int_eq(import_set(&it.doi, "https://doi.org/10.5555/X.1",
	    (size_t)-1), 0);
	ck_assert_int_eq(import_item_id(&it, id), 0);
	ck_assert_str_eq(id, "doi-10.5555-x.1");
	/* a key with nothing usable in it falls back to the DOI */
	ck_assert_int_eq(import_set(&it.key, "!!!", (size_t)-1), 0);
	ck_assert_int_eq(import_item_id(&it, id), 0);
	ck_assert_str_eq(id, "doi-10.5555-x.1");
	free(it.key);
	it.key = NULL;
	ck_assert_int_eq(import_set(&it.key, "Bezlov:2019", (size_t)-1), 0);
	ck_assert_int_eq(import_item_id(&it, id), 0);
	ck_assert_str_eq(id, "bezlov-2019");
	/* import_set keeps the first value */
	ck_assert_int_eq(import_set(&it.key, "other", (size_t)-1), 0);
	ck_assert_str_eq(it.key, "Bezlov:2019");
	import_item_release(&it);
}
END_TEST

static void
date_is(const char *in, const char *want)
{
	char	*d = import_date_iso(in, (size_t)-1);

	if (want == NULL) {
		ck_assert_msg(d == NULL, "'%s' gave '%s'", in, d);
		return;
	}
	ck_assert_msg(d != NULL, "'%s' refused", in);
	ck_assert_str_eq(d, want);
	free(d);
}

START_TEST(dates)
{
	date_is("2019", "2019");
	date_is(" 2019-5 ", "2019-05");
	date_is("2019/05/14/", "2019-05-14");
	date_is("2019/05/14/Spring", "2019-05-14");
	date_is("2019///", "2019");
	date_is("2019-05-14T10:00:00Z", "2019-05-14T10:00:00Z");
	date_is("2019-13-01", NULL);
	date_is("2019-02-29", NULL);
	date_is("2020-02-29", "2020-02-29");
	date_is("May 2019", NULL);
	date_is("19", NULL);
	date_is("20190", NULL);
	date_is("2019-05-14 and more", NULL);
	date_is("", NULL);
}
END_TEST

/* ---- RIS ----------------------------------------------------------- */

START_TEST(ris_items)
{
	struct got	 g;
	struct err	 e;
	const char	*ris =
	    "\xef\xbb\xbfTY  - RPRT\r\n"
	    "ID  - bezlov2019\r\n"
	    "TI  - Human Smuggling\r\n"
	    "AU  - Bezlov, Tihomir\r\n"
	    "AU  - Center for the Study of Democracy\r\n"
	    "PY  - 2019\r\n"
	    "DA  - 2019/05/14/\r\n"
	    "AB  - First part\r\n"
	    "  and its wrapped rest.\r\n"
	    "SN  - 978-954-477-123-4; 1314-3387\r\n"
	    "T3  - CSD Reports\r\n"
	    "M3  - Policy brief\r\n"
	    "ER  - \r\n"
	    "\r\n"
	    "TY  - JOUR\n"			/* line 15 */
	    "TI  - Only a year\n"
	    "PY  - 2008\n"
	    "JO  - Journal of Things\n"
	    "ER  -\n"
	    "TY  - XYZ\n"			/* line 20: unknown type */
	    "TI  - Unknown\n"
	    "ER  - \n"
	    "TY  - BOOK\n"			/* line 23: never closed */
	    "TI  - Open\n"
	    "TY  - CONF\n"			/* line 25 */
	    "TI  - A seminar\n"
	    "DA  - 2022/10/06\n"
	    "CY  - Oslo\n"
	    "ER  - \n"
	    "TY  - RPRT\n"			/* line 30: bad date */
	    "TI  - Bad date\n"
	    "PY  - sometime\n"
	    "ER  - \n"
	    "TY  - RPRT\n"			/* line 34: cut short */
	    "TI  - Truncated";

	ck_assert_int_eq(parse(import_ris_parse, ris, &g, &e), 0);
	ck_assert_int_eq(g.n, 7);
	ck_assert_int_eq(g.pos[0], 1);
	ck_assert_ptr_null(g.why[0]);
	ck_assert_str_eq(g.key[0], "bezlov2019");
	ck_assert_str_eq(g.type[0], "policy-brief");
	ck_assert_str_eq(g.issued[0], "2019-05-14");
	ck_assert_uint_eq(g.nauthors[0], 2);
	ck_assert_str_eq(g.author0[0], "Bezlov|Tihomir");
	ck_assert_str_eq(g.abstract[0], "First part and its wrapped rest.");
	ck_assert_uint_eq(g.nisbns[0], 1);
	ck_assert_uint_eq(g.nissns[0], 1);
	ck_assert_str_eq(g.series[0], "CSD Reports");

	ck_assert_int_eq(g.pos[1], 15);
	ck_assert_str_eq(g.type[1], "article");
	ck_assert_str_eq(g.issued[1], "2008");
	ck_assert_str_eq(g.series[1], "Journal of Things");

	ck_assert_int_eq(g.pos[2], 20);
	ck_assert_ptr_nonnull(strstr(g.why[2], "TY is not a reference type"));
	ck_assert_int_eq(g.pos[3], 23);
	ck_assert_ptr_nonnull(strstr(g.why[3], "not closed by 'ER  -'"));

	ck_assert_int_eq(g.pos[4], 25);
	ck_assert_str_eq(g.type[4], "event");
	ck_assert_str_eq(g.estart[4], "2022-10-06");

	ck_assert_int_eq(g.pos[5], 30);
	ck_assert_ptr_nonnull(strstr(g.why[5], "PY is not a year"));
	ck_assert_int_eq(g.pos[6], 34);
	ck_assert_ptr_nonnull(strstr(g.why[6], "cut short"));
	got_free(&g);
	err_release(&e);
}
END_TEST

START_TEST(ris_stray)
{
	struct got	 g;
	struct err	 e;

	ck_assert_int_eq(parse(import_ris_parse, "%0 Journal Article\n"
	    "%T EndNote's own format\n\nTY  - RPRT\nTI  - x\nPY  - 2001\n"
	    "ER  - \nAU  - Lost, Tag\n", &g, &e), 0);
	ck_assert_int_eq(g.n, 3);
	ck_assert_int_eq(g.pos[0], 1);	/* one report per run of stray lines */
	ck_assert_ptr_nonnull(strstr(g.why[0], "text outside a reference"));
	ck_assert_ptr_null(g.why[1]);
	ck_assert_int_eq(g.pos[2], 8);
	ck_assert_ptr_nonnull(strstr(g.why[2], "tag outside a reference"));
	got_free(&g);
	ck_assert_int_eq(parse(import_ris_parse, "", &g, &e), 0);
	ck_assert_int_eq(g.n, 0);
	got_free(&g);
	err_release(&e);
}
END_TEST

/* ---- CSV ----------------------------------------------------------- */

START_TEST(csv_items)
{
	struct got	 g;
	struct err	 e;
	const char	*csv =
	    "\xef\xbb\xbfID,Type,title,title@bg,authors,issued,language,isbn,\r\n"
	    "k1,report,\"Smuggling, prices\",Контрабанда,"
	    "\"Bezlov, Tihomir; CSD\",2019-05-14,en,978-1;978-2,\r\n"
	    "\r\n"
	    ",,,,,,,,\r\n"				/* empty: skipped */
	    "k2,article,\"Two\nlines\",,,2019,bg,,,,\r\n"	/* line 5 */
	    "k3,report,Bad date,,,14.05.2019,en,,\r\n"		/* line 7 */
	    "k4,report,Too many,,,2019,en,,,surplus\r\n"	/* line 8 */
	    "k5,report,\"Said \"\"so\"\"\",,,2020-01-01,en,,\r\n"
	    "k7,report,a \"stray\" quote,,,2020,en\r\n"	/* line 10 */
	    "k8,report,\"closed\" early,,,2020,en\r\n"	/* line 11 */
	    "k9,report,Fine again,,,2020,en\r\n"
	    "k6,report,\"never closed,,,2020,en\r\n";		/* line 13 */

	ck_assert_int_eq(parse(import_csv_parse, csv, &g, &e), 0);
	ck_assert_int_eq(g.n, 9);
	ck_assert_int_eq(g.pos[0], 2);
	ck_assert_str_eq(g.key[0], "k1");
	ck_assert_str_eq(g.title[0], "Smuggling, prices");
	ck_assert_uint_eq(g.ntitles[0], 2);
	ck_assert_str_eq(g.lang2[0], "bg");
	ck_assert_uint_eq(g.nauthors[0], 2);
	ck_assert_str_eq(g.author0[0], "Bezlov|Tihomir");
	ck_assert_uint_eq(g.nisbns[0], 2);
	ck_assert_int_eq(g.pos[1], 5);
	ck_assert_str_eq(g.title[1], "Two\nlines");
	ck_assert_str_eq(g.issued[1], "2019");
	ck_assert_int_eq(g.pos[2], 7);
	ck_assert_ptr_nonnull(strstr(g.why[2], "issued is not a date"));
	ck_assert_int_eq(g.pos[3], 8);
	ck_assert_ptr_nonnull(strstr(g.why[3], "row has 10 cells, the "
	    "header 9"));
	ck_assert_str_eq(g.title[4], "Said \"so\"");
	ck_assert_int_eq(g.pos[5], 10);
	ck_assert_ptr_nonnull(strstr(g.why[5], "not valid CSV"));
	ck_assert_int_eq(g.pos[6], 11);
	ck_assert_ptr_nonnull(strstr(g.why[6], "not valid CSV"));
	ck_assert_int_eq(g.pos[7], 12);
	ck_assert_str_eq(g.title[7], "Fine again");
	ck_assert_int_eq(g.pos[8], 13);
	ck_assert_ptr_nonnull(strstr(g.why[8], "quoted cell is not closed"));
	got_free(&g);
	err_release(&e);
}
END_TEST

START_TEST(csv_headers)
{
	struct got	 g;
	struct err	 e;

	ck_assert_int_eq(parse(import_csv_parse, "id,title,colour\nx,y,z\n",
	    &g, &e), -1);
	ck_assert_str_eq(e.msg, "1: column 3: unknown column 'colour' (see "
	    "README.md, \"Importing\", for the columns)");
	ck_assert_int_eq(g.n, 0);
	err_release(&e);
	ck_assert_int_eq(parse(import_csv_parse, "id,doi@en\n", &g, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "'doi' does not take a language"));
	err_release(&e);
	ck_assert_int_eq(parse(import_csv_parse, "title,Title\n", &g, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "column 2: 'Title' appears "
	    "twice"));
	err_release(&e);
	ck_assert_int_eq(parse(import_csv_parse, "", &g, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no header row"));
	err_release(&e);
	/* title@en and title@bg are different columns */
	ck_assert_int_eq(parse(import_csv_parse, "title@en,title@bg,title\n"
	    "E,B,M\n", &g, &e), 0);
	ck_assert_int_eq(g.n, 1);
	ck_assert_str_eq(g.title[0], "M");	/* the plain one comes first */
	got_free(&g);
	err_release(&e);
}
END_TEST

/* ---- CSL-JSON ------------------------------------------------------ */

START_TEST(csl_items)
{
	struct got	 g;
	struct err	 e;
	const char	*json =
	    "[{\"id\": \"bezlov2019\", \"type\": \"report\", \"genre\": "
	    "\"Working paper\", \"title\": \"T\", \"author\": [{\"family\": "
	    "\"Bezlov\", \"given\": \"Tihomir\"}, {\"literal\": \"CSD\"}], "
	    "\"issued\": {\"date-parts\": [[\"2019\", \"5\"]]}},\n"
	    " 17,\n"
	    " {\"type\": \"graphic\", \"title\": \"x\"},\n"
	    " {\"id\": \"http://zotero.org/users/1/items/ABC\", \"type\": "
	    "\"event\", \"title\": \"E\", \"event-date\": {\"date-parts\": "
	    "[[2024, 3, 12], [2024, 3, 13]]}},\n"
	    " {\"id\": 42, \"citation-key\": \"ck\", \"type\": \"book\", "
	    "\"title\": \"B\", \"issued\": {\"raw\": \"2016/04/01\"}},\n"
	    " {\"type\": \"book\", \"title\": \"B\", \"issued\": "
	    "{\"date-parts\": [[2016, 13]]}}]";

	ck_assert_int_eq(parse(import_csl_parse, json, &g, &e), 0);
	ck_assert_int_eq(g.n, 6);
	ck_assert_str_eq(g.key[0], "bezlov2019");
	ck_assert_str_eq(g.type[0], "working-paper");
	ck_assert_str_eq(g.issued[0], "2019-05");
	ck_assert_uint_eq(g.nauthors[0], 2);
	ck_assert_int_eq(g.pos[1], 2);
	ck_assert_str_eq(g.why[1], "item is not a JSON object");
	ck_assert_int_eq(g.pos[2], 3);
	ck_assert_ptr_nonnull(strstr(g.why[2], "\"type\" is not one"));
	ck_assert_ptr_null(g.key[3]);	/* a Zotero URI is no citation key */
	ck_assert_str_eq(g.type[3], "event");
	ck_assert_str_eq(g.estart[3], "2024-03-12");
	ck_assert_str_eq(g.eend[3], "2024-03-13");
	ck_assert_str_eq(g.key[4], "ck");
	ck_assert_str_eq(g.issued[4], "2016-04-01");
	ck_assert_int_eq(g.pos[5], 6);
	ck_assert_str_eq(g.why[5], "\"issued\" is not a date");
	got_free(&g);

	ck_assert_int_eq(parse(import_csl_parse, "[{\"type\": \"report\"},\n"
	    "  oops]", &g, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "2:"));
	ck_assert_ptr_nonnull(strstr(e.msg, "not CSL-JSON"));
	err_release(&e);
	ck_assert_int_eq(parse(import_csl_parse, "\"a string\"", &g, &e), -1);
	err_release(&e);
	/* one object alone is one item */
	ck_assert_int_eq(parse(import_csl_parse, "{\"type\": \"report\", "
	    "\"title\": \"Alone\"}", &g, &e), 0);
	ck_assert_int_eq(g.n, 1);
	ck_assert_str_eq(g.title[0], "Alone");
	got_free(&g);
	err_release(&e);
}
END_TEST

/* ---- the record writer --------------------------------------------- */

START_TEST(render)
{
	struct record_schema	*rs;
	struct record		*r;
	struct import_item	 it;
	struct buf		 b;
	struct err		 e;
	int			 partial;

	err_init(&e);
	rs = record_schema_new(&e);
	ck_assert_ptr_nonnull(rs);
	buf_init(&b, 1 << 20);
	import_item_init(&it);
	ck_assert_int_eq(import_render(&it, "x", 0, &b, &partial, &e), -1);
	ck_assert_str_eq(e.msg, "no type");
	err_clear(&e);
	ck_assert_int_eq(import_set(&it.type, "event", (size_t)-1), 0);
	ck_assert_int_eq(import_texts_add(&it.titles, NULL, "A & <b>",
	    (size_t)-1), 0);
	ck_assert_int_eq(import_render(&it, "x", 0, &b, &partial, &e), -1);
	ck_assert_str_eq(e.msg, "no language: say which language the item "
	    "is in");
	err_clear(&e);
	ck_assert_int_eq(import_set(&it.lang, "Norwegian Bokmål", (size_t)-1),
	    0);
	ck_assert_int_eq(import_set(&it.event_start, "2024", (size_t)-1), 0);
	ck_assert_int_eq(import_render(&it, "x", 0, &b, &partial, &e), -1);
	ck_assert_str_eq(e.msg, "event without a place");
	err_clear(&e);
	ck_assert_int_eq(import_set(&it.event_place, "Oslo", (size_t)-1), 0);
	ck_assert_int_eq(import_agents_add_name(&it.authors, "Ødegård, Guro",
	    (size_t)-1), 0);
	ck_assert_int_eq(import_render(&it, "x", 1, &b, &partial, &e), 0);
	ck_assert_int_eq(partial, 1);
	ck_assert_ptr_nonnull(strstr(b.data, "<title>A &amp; &lt;b&gt;"
	    "</title>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<language>nb</language>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<start>2024-01-01</start>"));
	r = record_parse_mem(rs, b.data, b.len, "x.xml", 0, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	ck_assert_str_eq(r->titles[0].text, "A & <b>");
	ck_assert_str_eq(r->creators[0].family, "Ødegård");
	ck_assert_int_eq(r->type, RECORD_EVENT);
	record_unref(r);
	import_item_release(&it);
	buf_release(&b);
	record_schema_free(rs);
	err_release(&e);
}
END_TEST

static Suite *
import_suite(void)
{
	Suite	*s = suite_create("import");
	TCase	*tc = tcase_create("import");

	tcase_add_test(tc, slugs);
	tcase_add_test(tc, ids);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, ris_items);
	tcase_add_test(tc, ris_stray);
	tcase_add_test(tc, csv_items);
	tcase_add_test(tc, csv_headers);
	tcase_add_test(tc, csl_items);
	tcase_add_test(tc, render);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(import_suite());
}
