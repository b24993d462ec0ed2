/*
 * check_record: record parsing, validation and semantic checks.
 *
 * Good records under tests/data/records/good are checked field by field; every
 * tests/data/records/bad/NAME.xml must fail with exactly the messages in
 * NAME.err.  Files named oversize* are parsed with max_bytes = 256.
 */
#include <check.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "buf.h"
#include "pool.h"
#include "date.h"
#include "record.h"
#include "record_int.h"
#include "testlib.h"

#define GOOD	"tests/data/records/good/"
#define BAD	"tests/data/records/bad/"

static struct record_schema	*schema;
static glob_t			 bad_files;

/* The size cap a bad file is parsed with. */
static size_t
max_for(const char *path)
{
	return strstr(path, "/oversize") != NULL ? 256 : 0;
}

static struct record *
parse_file(const char *path, size_t max, struct err *e)
{
	struct record	*r;
	size_t		 len;
	char		*b = tl_slurp(path, &len);

	r = record_parse_mem(schema, b, len, path, max, e);
	free(b);
	return r;
}

/* Parse a file that must be good; fail with every message otherwise. */
static struct record *
parse_good(const char *path)
{
	struct record	*r;
	struct err	 e;

	err_init(&e);
	r = parse_file(path, 0, &e);
	ck_assert_msg(r != NULL, "%s", e.all != NULL ? e.all : e.msg);
	ck_assert_int_eq(e.count, 0);
	err_release(&e);
	return r;
}

static struct record *
parse_str(const char *s, struct err *e)
{
	return record_parse_mem(schema, s, strlen(s), "t.xml", 0, e);
}

static void
setup(void)
{
	schema = tl_record_schema();
}

static void
teardown(void)
{
	record_schema_free(schema);
	schema = NULL;
}

static void
assert_day(const struct date *d, const char *want)
{
	char	 s[DATE_ISO_LEN];

	date_fmt(d, s);
	ck_assert_str_eq(s, want);
}

/*
 * Strings records share are kept once: two records of the same file hold
 * the same pointers for set specs, language tags, publisher, licence,
 * affiliation, while titles and abstracts are each record's own; a shared
 * string outlives the record it came from, and a long one is not shared.
 */
START_TEST(test_shared_strings)
{
	struct record	*a = parse_good(GOOD "full-report.xml");
	struct record	*b = parse_good(GOOD "full-report.xml");
	struct record	*c;
	struct err	 e;
	char		*doc, longpub[400];
	const char	*pub = a->publisher;

	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(a->publisher, b->publisher);
	ck_assert_ptr_eq(a->license, b->license);
	ck_assert_ptr_eq(a->sets[0], b->sets[0]);
	ck_assert_ptr_eq(a->sets[1], b->sets[1]);
	ck_assert_ptr_eq(a->languages[0], b->languages[0]);
	ck_assert_ptr_eq(a->lang, b->lang);
	ck_assert_ptr_eq(a->titles[1].lang, b->titles[1].lang);
	ck_assert_ptr_eq(a->creators[0].affiliation,
	    b->creators[0].affiliation);
	ck_assert_ptr_ne(a->titles[0].text, b->titles[0].text);
	ck_assert_ptr_ne(a->abstracts[0].text, b->abstracts[0].text);
	ck_assert_ptr_ne(a->id, b->id);
	record_unref(a);
	ck_assert_str_eq(b->publisher, "Center for the Study of Democracy");
	ck_assert_ptr_eq(b->publisher, pub);
	ck_assert_str_eq(b->sets[0], "topic:smuggling");
	record_unref(b);
	/* longer than the pool takes: the record's own */
	memset(longpub, 'p', sizeof(longpub) - 1);
	longpub[sizeof(longpub) - 1] = '\0';
	ck_assert_int_gt(asprintf(&doc, "<record xmlns=\"" RECORD_NS "\" "
	    "id=\"x1\" type=\"report\" xml:lang=\"en\"><title>T</title>"
	    "<issued>2020</issued><language>en</language>"
	    "<publisher>%s</publisher></record>",
	    longpub), 0);
	err_init(&e);
	c = parse_str(doc, &e);
	ck_assert_msg(c != NULL, "%s", e.msg);
	ck_assert_str_eq(c->publisher, longpub);
	record_unref(c);
	err_release(&e);
	free(doc);
}
END_TEST

START_TEST(test_full_report)
{
	struct record	*r = parse_good(GOOD "full-report.xml");
	unsigned char	 md[HASH_LEN];
	size_t		 len;
	char		*b;

	ck_assert_int_eq(r->refs, 1);
	ck_assert_str_eq(r->id, "2019-smuggling-balkan-route");
	ck_assert_str_eq(r->path, GOOD "full-report.xml");
	ck_assert_int_eq(r->type, RECORD_REPORT);
	ck_assert_str_eq(r->lang, "en");
	ck_assert_uint_eq(r->ntitles, 2);
	ck_assert_str_eq(r->titles[0].lang, "en");
	ck_assert_str_eq(r->titles[0].text,
	    "Human Smuggling on the Balkan Route");
	ck_assert_str_eq(r->titles[1].lang, "bg");
	ck_assert_str_eq(r->titles[1].text,
	    "Трафик на хора по Балканския маршрут");
	ck_assert_uint_eq(r->nsubtitles, 1);
	ck_assert_str_eq(r->subtitles[0].text, "Actors, routes and prices");

	ck_assert_uint_eq(r->ncreators, 2);
	ck_assert_int_eq(r->creators[0].kind, RECORD_PERSON);
	ck_assert_str_eq(r->creators[0].name, "Tihomir Bezlov");
	ck_assert_str_eq(r->creators[0].family, "Bezlov");
	ck_assert_str_eq(r->creators[0].given, "Tihomir");
	ck_assert_str_eq(r->creators[0].affiliation, "CSD");
	ck_assert_str_eq(r->creators[0].orcid, "0000-0002-1825-0097");
	ck_assert_str_eq(r->creators[0].email, "t.bezlov@example.org");
	ck_assert_ptr_null(r->creators[0].role);
	ck_assert_int_eq(r->creators[1].kind, RECORD_ORG);
	ck_assert_str_eq(r->creators[1].name,
	    "Center for the Study of Democracy");
	ck_assert_ptr_null(r->creators[1].family);
	ck_assert_ptr_null(r->creators[1].orcid);

	ck_assert_uint_eq(r->ncontributors, 2);
	ck_assert_str_eq(r->contributors[0].role, "editor");
	ck_assert_str_eq(r->contributors[0].name, "Maria Ivanova");
	ck_assert_str_eq(r->contributors[1].role, "translator");
	ck_assert_str_eq(r->contributors[1].name, "Petrov");
	ck_assert_ptr_null(r->contributors[1].given);

	assert_day(&r->issued, "2019-05-14");
	ck_assert_int_eq(r->issued.gran, DATE_DAY);
	/* 10:30 at +02:00 is 08:30Z */
	assert_day(&r->modified, "2020-01-02T08:30:00Z");
	ck_assert_int_eq(r->modified.gran, DATE_SECOND);
	ck_assert_ptr_null(r->event);

	ck_assert_uint_eq(r->nlanguages, 2);
	ck_assert_str_eq(r->languages[0], "en");
	ck_assert_str_eq(r->languages[1], "bg");
	ck_assert_uint_eq(r->nsubjects, 3);
	ck_assert_str_eq(r->subjects[0].text, "human smuggling");
	/* no xml:lang of its own: the root's */
	ck_assert_str_eq(r->subjects[1].lang, "en");
	ck_assert_str_eq(r->subjects[1].text, "migration");
	ck_assert_str_eq(r->subjects[2].lang, "bg");
	ck_assert_uint_eq(r->nabstracts, 2);
	ck_assert_str_eq(r->abstracts[0].text,
	    "First paragraph of the abstract.\n\nSecond paragraph & more.");
	ck_assert_str_eq(r->abstracts[1].lang, "bg");

	ck_assert_str_eq(r->publisher, "Center for the Study of Democracy");
	ck_assert_str_eq(r->place, "Sofia");
	ck_assert_str_eq(r->series, "CSD Reports");
	ck_assert_str_eq(r->rights, "© 2019 CSD");
	ck_assert_str_eq(r->license,
	    "https://creativecommons.org/licenses/by/4.0/");

	ck_assert_uint_eq(r->nidents, 3);
	ck_assert_int_eq(r->idents[0].kind, RECORD_ID_ISBN);
	ck_assert_str_eq(r->idents[0].value, "978-954-477-123-4");
	ck_assert_int_eq(r->idents[1].kind, RECORD_ID_DOI);
	ck_assert_str_eq(r->idents[1].value, "10.1234/csd.2019.1");
	ck_assert_int_eq(r->idents[2].kind, RECORD_ID_URL);

	ck_assert_uint_eq(r->nlinks, 3);
	ck_assert_int_eq(r->links[0].rel, RECORD_LINK_LANDING);
	ck_assert_str_eq(r->links[0].href,
	    "https://csd.bg/publications/smuggling");
	ck_assert_ptr_null(r->links[0].type);
	ck_assert_int_eq(r->links[0].length, -1);
	ck_assert_ptr_null(r->links[0].lang);
	ck_assert_ptr_null(r->links[0].title);
	ck_assert_int_eq(r->links[1].rel, RECORD_LINK_FULLTEXT);
	ck_assert_str_eq(r->links[1].type, "application/pdf");
	ck_assert_int_eq(r->links[1].length, 2345678);
	ck_assert_str_eq(r->links[1].lang, "en");
	ck_assert_str_eq(r->links[1].title, "Full report (PDF)");
	ck_assert_int_eq(r->links[2].rel, RECORD_LINK_RELATED);

	ck_assert_uint_eq(r->nsets, 2);
	ck_assert_str_eq(r->sets[0], "topic:smuggling");
	ck_assert_str_eq(r->sets[1], "type:report");
	ck_assert_int_eq(r->datestamp, 0);

	b = tl_slurp(GOOD "full-report.xml", &len);
	hash_sha256(b, len, md);
	ck_assert_mem_eq(r->hash, md, HASH_LEN);
	free(b);
	record_unref(r);
}
END_TEST

START_TEST(test_event)
{
	struct record	*r = parse_good(GOOD "event.xml");

	ck_assert_int_eq(r->type, RECORD_EVENT);
	ck_assert_ptr_nonnull(r->event);
	assert_day(&r->issued, "2024-02-01T08:00:00Z");
	assert_day(&r->event->start, "2024-03-12T09:00:00Z");
	assert_day(&r->event->end, "2024-03-12T17:00:00Z");
	ck_assert_str_eq(r->event->place, "Sofia, CSD conference hall");
	ck_assert_str_eq(r->event->country, "BG");
	ck_assert_ptr_null(r->place);
	ck_assert_uint_eq(r->ncontributors, 2);
	ck_assert_str_eq(r->contributors[0].role, "speaker");
	ck_assert_int_eq(r->contributors[1].kind, RECORD_ORG);
	ck_assert_str_eq(r->contributors[1].role, "moderator");
	ck_assert_uint_eq(r->nsets, 1);
	ck_assert_str_eq(r->sets[0], "events");
	record_unref(r);

	/* prefixed elements; an end day later in the day than the start */
	r = parse_good(GOOD "event-one-day.xml");
	ck_assert_str_eq(r->lang, "bg");
	ck_assert_str_eq(r->titles[0].lang, "bg");
	assert_day(&r->event->start, "2023-11-20T08:00:00Z");
	assert_day(&r->event->end, "2023-11-20");
	ck_assert_ptr_null(r->event->country);
	record_unref(r);
}
END_TEST

START_TEST(test_minimal)
{
	struct record	*r = parse_good(GOOD "minimal.xml");

	ck_assert_str_eq(r->id, "m1");
	ck_assert_int_eq(r->type, RECORD_NEWS);
	/* no root xml:lang: the first language element */
	ck_assert_str_eq(r->lang, "de");
	ck_assert_str_eq(r->titles[0].lang, "de");
	assert_day(&r->issued, "2020-02-29");
	ck_assert_int_eq(r->modified.t, 0);
	ck_assert_ptr_null(r->event);
	ck_assert_uint_eq(r->nsubtitles + r->ncreators + r->ncontributors +
	    r->nsubjects + r->nabstracts + r->nidents + r->nlinks + r->nsets,
	    0);
	ck_assert_ptr_null(r->publisher);
	ck_assert_ptr_null(r->place);
	ck_assert_ptr_null(r->series);
	ck_assert_ptr_null(r->rights);
	ck_assert_ptr_null(r->license);
	ck_assert_ptr_null(record_link_find(r, RECORD_LINK_LANDING));
	ck_assert_ptr_null(record_ident_find(r, RECORD_ID_DOI));
	record_unref(r);
}
END_TEST

START_TEST(test_lookups)
{
	struct record			*r = parse_good(GOOD "orcid-x.xml");
	const struct record_text	*t;

	ck_assert_str_eq(r->creators[0].orcid, "0000-0002-1694-233X");
	ck_assert_str_eq(r->creators[0].name, "Doe");
	ck_assert_str_eq(r->lang, "fr");
	ck_assert_str_eq(r->rights, "All rights reserved");
	ck_assert_ptr_null(r->license);
	ck_assert_int_eq(r->links[0].rel, RECORD_LINK_RELATED);
	ck_assert_ptr_eq(record_link_find(r, RECORD_LINK_RELATED),
	    &r->links[0]);
	ck_assert_ptr_null(record_link_find(r, RECORD_LINK_FULLTEXT));
	ck_assert_ptr_eq(record_ident_find(r, RECORD_ID_HANDLE),
	    &r->idents[0]);
	ck_assert_ptr_null(record_ident_find(r, RECORD_ID_URN));

	t = record_text_pick(r->abstracts, r->nabstracts, "en-GB");
	ck_assert_str_eq(t->text, "Abstract.");
	t = record_text_pick(r->abstracts, r->nabstracts, "EN");
	ck_assert_str_eq(t->text, "Abstract.");
	t = record_text_pick(r->abstracts, r->nabstracts, "fr");
	ck_assert_str_eq(t->text, "Résumé.");
	t = record_text_pick(r->abstracts, r->nabstracts, "de");
	ck_assert_str_eq(t->text, "Résumé.");
	t = record_text_pick(r->abstracts, r->nabstracts, NULL);
	ck_assert_ptr_eq(t, &r->abstracts[0]);
	ck_assert_ptr_null(record_text_pick(r->subtitles, 0, "en"));
	record_unref(r);
}
END_TEST

/* What "pubfeed check" prints for one problem: the golden files' lines. */
static void
golden_diag(void *arg, const struct record_diag *d)
{
	struct err	*e = arg;
	const char	*sev = d->severity == RECORD_ERROR ? "error" : "warning";

	ck_assert_ptr_nonnull(d->code);
	ck_assert_ptr_null(strchr(d->code, ' '));
	err_at(e, "", (int)d->line, d->col, "%s: %s", sev, d->msg);
}

/*
 * Every bad record gives exactly the lines of its .err file, as "pubfeed
 * check" prints them; it fails iff one of them is an error.
 */
START_TEST(test_bad_golden)
{
	const char	*xml = bad_files.gl_pathv[_i];
	struct record	*r;
	struct err	 e;
	struct buf	 out;
	size_t		 n, len;
	char		 errpath[512], *b, *line, *next;

	n = strlen(xml);
	snprintf(errpath, sizeof(errpath), "%.*s.err", (int)(n - 4), xml);
	err_init(&e);
	b = tl_slurp(xml, &len);
	r = record_check_mem(schema, b, len, xml, max_for(xml), golden_diag,
	    &e);
	free(b);
	ck_assert_int_ge(e.count, 1);
	/* err_at(e, "", ...) wrote ":line:col: ...": put the path in front */
	buf_init(&out, 1 << 20);
	for (line = e.all; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n') + 1;
		ck_assert_int_eq(buf_addstr(&out, xml), 0);
		if (*line == ':')
			ck_assert_int_eq(buf_add(&out, line,
			    (size_t)(next - line)), 0);
		else {
			/* no position: "" + ": " */
			ck_assert_int_eq(buf_add(&out, ": ", 2), 0);
			ck_assert_int_eq(buf_add(&out, line,
			    (size_t)(next - line)), 0);
		}
	}
	ck_assert_int_eq(buf_addch(&out, '\0'), 0);
	tl_assert_golden(out.data, errpath);
	ck_assert_int_eq(r == NULL, strstr(out.data, ": error: ") != NULL);
	record_unref(r);
	/* an entity's target must never have been read */
	ck_assert_ptr_null(strstr(out.data, "root:"));
	buf_release(&out);
	err_release(&e);
}
END_TEST

START_TEST(test_bad_count)
{
	ck_assert_uint_ge(bad_files.gl_pathc, 12);
}
END_TEST

/* libxml2 must never print: run every bad input with stderr captured. */
START_TEST(test_silent)
{
	static const char *const odd[] = {
		"<?xml version=\"1.0\" encoding=\"foo\"?><record/>",
		"<record xmlns:a=\"rel\"><x:title/></record>",
		"<?xml version=\"1.0\"?>\n<record>\xff\xfe</record>",
		"<record xmlns=\"" RECORD_NS "\"><title>&#xD800;</title>",
		"<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x.dtd\"><r/>",
		"",
	};
	struct err	 e;
	struct stat	 st;
	size_t		 i;
	char		 tmpl[] = "/tmp/check_record.XXXXXX";
	int		 fd, saved;

	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	unlink(tmpl);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	err_init(&e);
	for (i = 0; i < bad_files.gl_pathc; i++)
		record_unref(parse_file(bad_files.gl_pathv[i],
		    max_for(bad_files.gl_pathv[i]), &e));
	for (i = 0; i < sizeof(odd) / sizeof(*odd); i++)
		ck_assert_ptr_null(parse_str(odd[i], &e));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	close(fd);
	err_release(&e);
}
END_TEST

START_TEST(test_size_cap)
{
	struct err	 e;
	struct record	*r;
	size_t		 len;
	char		*b = tl_slurp(GOOD "minimal.xml", &len);

	err_init(&e);
	r = record_parse_mem(schema, b, len, "m.xml", len, &e);
	ck_assert_ptr_nonnull(r);
	record_unref(r);
	r = record_parse_mem(schema, b, len, "m.xml", len - 1, &e);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(e.count, 1);
	ck_assert_ptr_nonnull(strstr(e.msg, "m.xml: file is larger than"));
	err_release(&e);
	free(b);
}
END_TEST

/* A record whose root start tag carries n extra attributes (caller frees). */
static char *
many_attrs(long n, const char *prefix)
{
	size_t	 cap = (size_t)n * 16 + 1024, o = 0;
	char	*b = malloc(cap);
	long	 i;

	ck_assert_ptr_nonnull(b);
	o += (size_t)snprintf(b + o, cap - o, "<?xml version=\"1.0\"?>\n%s"
	    "<record xmlns=\"" RECORD_NS "\" id=\"a\" type=\"news\"", prefix);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(b + o, cap - o, " a%ld='>'", i);
	snprintf(b + o, cap - o, ">\n<title>t</title><issued>2020-01-01"
	    "</issued><language>en</language></record>\n");
	return b;
}

/*
 * Issue 8 defect 7: 100,000 attributes took libxml2 2.9.14 ~50 s; the
 * pre-scan refuses them in linear time, naming the start tag.
 */
START_TEST(test_attribute_bomb)
{
	struct err	 e;
	char		*b = many_attrs(100000, "<!-- <x a='1'> -->\n");
	int64_t		 t0 = date_mono_ms();

	err_init(&e);
	ck_assert_ptr_null(parse_str(b, &e));
	ck_assert_int_lt(date_mono_ms() - t0, 2000);
	ck_assert_int_eq(e.count, 1);
	ck_assert_str_eq(e.msg, "t.xml:3:1: element 'record' has 100003 "
	    "attributes, more than 256: refused before parsing");
	err_release(&e);
	free(b);

	/* at the limit the parser decides (here: the schema refuses) */
	b = many_attrs(RECORD_MAX_ATTRS - 3, "");
	err_init(&e);
	ck_assert_ptr_null(parse_str(b, &e));
	ck_assert_ptr_null(strstr(e.msg, "refused before parsing"));
	err_release(&e);
	free(b);
}
END_TEST

/* Many elements, each under the limit: the whole file has a cap too. */
START_TEST(test_attribute_total)
{
	struct err	 e;
	char		*b;
	size_t		 cap = 6 * 1024 * 1024, o = 0;
	int		 i, k;

	b = malloc(cap);
	ck_assert_ptr_nonnull(b);
	o += (size_t)snprintf(b + o, cap - o, "<record xmlns=\"" RECORD_NS
	    "\" id=\"a\" type=\"news\">\n");
	for (i = 0; i < 250; i++) {
		o += (size_t)snprintf(b + o, cap - o, "<title");
		for (k = 0; k < 250; k++)
			o += (size_t)snprintf(b + o, cap - o, " a%d=\"\"", k);
		o += (size_t)snprintf(b + o, cap - o, "/>\n");
	}
	snprintf(b + o, cap - o, "</record>\n");
	err_init(&e);
	ck_assert_ptr_null(parse_str(b, &e));
	ck_assert_int_eq(e.count, 1);
	ck_assert_str_eq(e.msg, "t.xml:201:1: more than 50000 attributes in "
	    "the file: refused before parsing");
	err_release(&e);
	free(b);
}
END_TEST

/* What the pre-scan must not count: comments, CDATA, PIs, end tags. */
START_TEST(test_prescan_skips)
{
	struct err	 e;
	struct record	*r;
	char		 buf[8192];
	size_t		 o = 0;
	int		 i;

	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "<?pi");
	for (i = 0; i < 300; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " a%d=''", i);
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "?>\n<!--");
	for (i = 0; i < 300; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " a%d=''", i);
	snprintf(buf + o, sizeof(buf) - o, " -->\n<record xmlns=\""
	    RECORD_NS "\" id=\"a\" type=\"news\"><title><![CDATA[<x a='1' "
	    "b='2'>]]>t</title><issued>2020-01-01</issued>"
	    "<language>en</language></record>\n");
	err_init(&e);
	r = parse_str(buf, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	record_unref(r);
	err_release(&e);
}
END_TEST

/* Snippets inside a minimal record: what each must report. */
static const struct {
	const char	*body;	/* after <title>, before <language> */
	const char	*msg;	/* first message, NULL when valid */
} snippets[] = {
	{ "<issued>2019-05-14</issued>", NULL },
	{ "<issued>\n  2019-05-14T23:59:59Z \n</issued>", NULL },
	{ "<issued>2019-05-14T24:00:00Z</issued>",
	  "t.xml:1: <issued> is not a real date: '2019-05-14T24:00:00Z' (no "
	  "such time): write YYYY-MM-DD, YYYY-MM or YYYY, or "
	  "YYYY-MM-DDThh:mm:ssZ with a time" },
	/* legacy data: a year or a month alone; ISO 639-2/3 and BCP 47 */
	{ "<issued>2008</issued>", NULL },
	{ "<issued>2008-04</issued>", NULL },
	{ "<issued>2008-13</issued>",
	  "t.xml:1: <issued> is not a real date: '2008-13' (no such month): "
	  "write YYYY-MM-DD, YYYY-MM or YYYY, or YYYY-MM-DDThh:mm:ssZ with a "
	  "time" },
	{ "<issued>2008</issued><modified>2008-04</modified>",
	  "t.xml:1: <modified> is not a date: '2008-04': write YYYY-MM-DD, or "
	  "YYYY-MM-DDThh:mm:ssZ with a time" },
	{ "<issued>2008-4</issued>",
	  "t.xml:1: <issued> is not a date: '2008-4': write YYYY-MM-DD, "
	  "YYYY-MM or YYYY, or YYYY-MM-DDThh:mm:ssZ with a time" },
	{ "<issued>2008</issued><language>eng</language>"
	  "<language>nob</language><language>en-GB</language>", NULL },
	{ "<issued>2008</issued><language>english</language>",
	  "t.xml:1: <language> is not a language code: 'english': write an "
	  "ISO 639 code or a BCP 47 tag, for example 'en', 'eng', 'nb' or "
	  "'en-GB'" },
	{ "<issued>2008</issued><language>en-</language>",
	  "t.xml:1: <language> is not a language code: 'en-': write an "
	  "ISO 639 code or a BCP 47 tag, for example 'en', 'eng', 'nb' or "
	  "'en-GB'" },
	/* children in any order; cardinalities still hold */
	{ "<language>en</language><set>a</set><issued>2008</issued>"
	  "<subtitle>S</subtitle><title>U</title>"
	  "<creator><person><email>a@b.org</email><affiliation>X"
	  "</affiliation><family>F</family></person></creator>", NULL },
	{ "<issued>2008</issued><language>en</language>"
	  "<issued>2009</issued><issued>2010</issued>",
	  "t.xml:1: <issued> appears more than once in <record>: keep one" },
	{ "<subject>x</subject>",
	  "t.xml:1: <record> has no <issued> element, and it needs one: add "
	  "<issued>...</issued>" },
	{ "<issued>2008</issued><language>en</language>"
	  "<publisher>A</publisher><publisher>B</publisher>",
	  "t.xml:1: <publisher> appears more than once in <record>: keep "
	  "one" },
	{ "<creator><person><family>F</family><family>G</family></person>"
	  "</creator><issued>2008</issued>",
	  "t.xml:1: <family> appears more than once in <person>: keep one" },
	{ "<issued>2000-02-29</issued><modified>1900-02-29</modified>",
	  "t.xml:1: <modified> is not a real date: '1900-02-29' (no such "
	  "day): write YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ with a time" },
	{ "<issued>2019-05-14</issued><language>en</language>"
	  "<identifier type=\"url\">www.example.org</identifier>",
	  "t.xml:1: <identifier type=\"url\"> is not an absolute http(s) "
	  "URL: 'www.example.org': write it in full, starting with "
	  "https://" },
	{ "<issued>2019-05-14</issued><language>en</language>"
	  "<link rel=\"fulltext\" href=\"https://x.org/a\" length=\"1\"/>",
	  "t.xml:1: fulltext link needs a type attribute: add the media "
	  "type, e.g. type=\"application/pdf\"" },
	{ "<issued>2019-05-14</issued><language>en</language>"
	  "<link rel=\"related\" href=\"https://x.org/a\" length=\"-1\"/>",
	  "t.xml:1: attribute 'length' of <link> is not a byte count: '-1': "
	  "write the file's size in bytes, e.g. length=\"482113\"" },
	{ "<creator><person><family> </family></person></creator>"
	  "<issued>2019-05-14</issued>",
	  "t.xml:1: family is empty" },
	{ "<creator><organisation>X</organisation></creator>"
	  "<contributor><organisation>Y</organisation></contributor>"
	  "<issued>2019-05-14</issued>",
	  "t.xml:1: <contributor> needs a 'role' attribute: add "
	  "role=\"...\"" },
	{ "<issued>2019-05-14</issued><language>en</language>"
	  "<set>a::b</set>",
	  "t.xml:1: <set> is not a set spec: 'a::b': write words of letters, "
	  "digits and -_.!~*'() joined by single ':', e.g. "
	  "'topic:smuggling'" },
	{ "<issued>2019-05-14</issued><unknown/>",
	  "t.xml:1: <unknown> is not an element of <record>: remove it "
	  "(schemas/README.md lists the elements of a record)" },
};

START_TEST(test_snippets)
{
	struct record	*r;
	struct err	 e;
	char		 doc[2048];
	const char	*lang;

	/* Snippets bringing their own language element get none added. */
	lang = strstr(snippets[_i].body, "<language>") != NULL ? "" :
	    "<language>en</language>";
	snprintf(doc, sizeof(doc), "<record xmlns=\"%s\" id=\"s\" "
	    "type=\"report\"><title>T</title>%s%s</record>", RECORD_NS,
	    snippets[_i].body, lang);
	err_init(&e);
	r = parse_str(doc, &e);
	if (snippets[_i].msg == NULL) {
		ck_assert_msg(r != NULL, "%s", e.msg);
		record_unref(r);
	} else {
		ck_assert_ptr_null(r);
		ck_assert_str_eq(e.msg, snippets[_i].msg);
	}
	err_release(&e);
}
END_TEST

/* The precision and the canonical language codes reach the record. */
START_TEST(test_legacy_values)
{
	struct record	*r;
	struct err	 e;
	char		 doc[1024], a[DATE_ISO_LEN];

	snprintf(doc, sizeof(doc), "<record xmlns=\"%s\" id=\"s\" "
	    "type=\"event\" xml:lang=\"eng\"><language>bul</language>"
	    "<language>nob</language><language>en-GB</language>"
	    "<language>smj</language><title xml:lang=\"ger\">T</title>"
	    "<event><place>Oslo</place><end>2008-05</end>"
	    "<start>2008-04</start></event><issued>2008</issued></record>",
	    RECORD_NS);
	err_init(&e);
	r = parse_str(doc, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	ck_assert_int_eq(r->issued.gran, DATE_YEAR);
	date_fmt(&r->issued, a);
	ck_assert_str_eq(a, "2008");
	ck_assert_int_eq(r->event->start.gran, DATE_MONTH);
	date_fmt(&r->event->end, a);
	ck_assert_str_eq(a, "2008-05");
	ck_assert_uint_eq(r->nlanguages, 4);
	ck_assert_str_eq(r->languages[0], "bg");
	ck_assert_str_eq(r->languages[1], "nb");
	ck_assert_str_eq(r->languages[2], "en-GB");
	ck_assert_str_eq(r->languages[3], "smj");
	ck_assert_str_eq(r->lang, "en");
	ck_assert_str_eq(r->titles[0].lang, "de");
	record_unref(r);
	err_release(&e);
}
END_TEST

/* A month-precision end lasts the month: a start inside it is fine. */
START_TEST(test_partial_event_end)
{
	struct record	*r;
	struct err	 e;
	char		 doc[1024];

	snprintf(doc, sizeof(doc), "<record xmlns=\"%s\" id=\"s\" "
	    "type=\"event\"><title>T</title><issued>2008</issued>"
	    "<language>en</language><event><start>2008-04-30</start>"
	    "<end>2008-04</end><place>Oslo</place></event></record>",
	    RECORD_NS);
	err_init(&e);
	r = parse_str(doc, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	record_unref(r);
	snprintf(doc, sizeof(doc), "<record xmlns=\"%s\" id=\"s\" "
	    "type=\"event\"><title>T</title><issued>2008</issued>"
	    "<language>en</language><event><start>2008-05-01</start>"
	    "<end>2008-04</end><place>Oslo</place></event></record>",
	    RECORD_NS);
	ck_assert_ptr_null(parse_str(doc, &e));
	ck_assert_str_eq(e.msg, "t.xml:1: event end '2008-04' is before its "
	    "start '2008-05-01'");
	err_release(&e);
}
END_TEST

START_TEST(test_types)
{
	enum record_type	 t;
	int			 i;

	for (i = 0; i < RECORD_TYPE_COUNT; i++) {
		ck_assert_int_eq(record_type_parse(record_type_name(i), &t), 0);
		ck_assert_int_eq(t, i);
	}
	ck_assert_str_eq(record_type_name(RECORD_POLICY_BRIEF),
	    "policy-brief");
	ck_assert_str_eq(record_type_name(RECORD_WORKING_PAPER),
	    "working-paper");
	ck_assert_ptr_null(record_type_name(RECORD_TYPE_COUNT));
	ck_assert_int_eq(record_type_parse("Report", &t), -1);
	ck_assert_int_eq(record_type_parse("", &t), -1);
	ck_assert_int_eq(record_type_parse(NULL, &t), -1);
}
END_TEST

static void *
ref_worker(void *arg)
{
	struct record	*r = arg;
	int		 i;

	for (i = 0; i < 100000; i++)
		record_unref(record_ref(r));
	return NULL;
}

START_TEST(test_refs)
{
	struct record	*r = parse_good(GOOD "minimal.xml");
	pthread_t	 th[4];
	int		 i;

	ck_assert_ptr_eq(record_ref(r), r);
	ck_assert_int_eq(r->refs, 2);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, ref_worker, r),
		    0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(r->refs, 2);
	record_unref(r);
	ck_assert_int_eq(r->refs, 1);
	record_unref(r);
	record_unref(NULL);
	ck_assert_ptr_null(record_ref(NULL));
}
END_TEST

/* The sample records shipped in config/records/ must all be good. */
START_TEST(test_samples)
{
	struct record	*r;
	glob_t		 g;
	size_t		 i;

	memset(&g, 0, sizeof(g));
	if (glob("config/records/*.xml", 0, NULL, &g) == GLOB_NOSPACE ||
	    glob("config/records/*/*.xml", GLOB_APPEND, NULL, &g) ==
	    GLOB_NOSPACE)
		ck_abort_msg("glob: out of memory");
	for (i = 0; i < g.gl_pathc; i++) {
		r = parse_good(g.gl_pathv[i]);
		ck_assert_ptr_nonnull(r->id);
		ck_assert_uint_ge(r->ntitles, 1);
		ck_assert_uint_ge(r->nlanguages, 1);
		ck_assert(r->type != RECORD_EVENT || r->event != NULL);
		record_unref(r);
	}
	globfree(&g);
}
END_TEST

/* Access rights, embargo end, place country and funding references. */
START_TEST(test_funded_embargoed)
{
	struct record		*r = parse_good(GOOD "funded-embargoed.xml");
	const struct record_funding *f = r->fundings;
	char			 d[DATE_ISO_LEN];

	ck_assert_int_eq(r->access, RECORD_ACCESS_EMBARGOED);
	ck_assert_str_eq(record_access_name(r->access), "embargoed");
	date_fmt(&r->embargo_end, d);
	ck_assert_str_eq(d, "2025-03-01");
	ck_assert_str_eq(r->place_country, "NO");
	ck_assert_str_eq(r->version, "AM");
	ck_assert_ptr_null(r->rights);
	ck_assert_str_eq(r->license,
	    "https://creativecommons.org/licenses/by/4.0/");
	ck_assert_uint_eq(r->nfundings, 3);
	ck_assert_str_eq(f[0].funder, "Example Science Foundation");
	ck_assert_str_eq(f[0].funder_id, "https://doi.org/10.13039/100000001");
	ck_assert_int_eq(f[0].funder_scheme, RECORD_FUNDER_CROSSREF);
	ck_assert_str_eq(f[0].programme, "Example programme");
	ck_assert_str_eq(f[0].award_number, "EX-1234");
	ck_assert_str_eq(f[0].award_title, "Example award");
	ck_assert_str_eq(f[0].award_uri,
	    "https://funder.example.org/awards/EX-1234");
	ck_assert_int_eq(f[1].funder_scheme, RECORD_FUNDER_ROR);
	ck_assert_ptr_null(f[1].award_number);
	ck_assert_str_eq(f[2].funder, "Unidentified Example Trust");
	ck_assert_ptr_null(f[2].funder_id);
	record_unref(r);
	r = parse_good(GOOD "minimal.xml");
	ck_assert_int_eq(r->access, RECORD_ACCESS_UNSTATED);
	ck_assert_uint_eq(r->nfundings, 0);
	ck_assert_ptr_null(r->version);
	record_unref(r);
}
END_TEST

/*
 * Event records with a time zone parsed on many threads at once, each in a
 * fresh process: libical fills its zone table on the first lookup, and a
 * thread that looked up while another filled it read a half-built table
 * (a SEGV in strcmp under icaltimezone_get_builtin_timezone(), seen with
 * the store's 16 reader threads).  record_schema_new() fills it first.
 */
#define ZONE_THREADS	16

static struct record_schema	*zone_schema;

static void
zone_parse(void *arg, size_t worker, size_t i)
{
	const char	*doc = arg;
	struct record	*r;
	struct err	 e;

	err_init(&e);
	r = record_parse_mem(zone_schema, doc, strlen(doc), "z.xml", 0, &e);
	if (r == NULL || r->event == NULL || r->event->timezone == NULL)
		_exit(3);
	record_unref(r);
	err_release(&e);
}

START_TEST(test_zone_table_threads)
{
	char	 doc[1024];
	int	 k, status;
	pid_t	 pid;

	snprintf(doc, sizeof(doc), "<record xmlns=\"%s\" id=\"z\" "
	    "type=\"event\"><title>T</title><issued>2019-05-14</issued>"
	    "<event timezone=\"Europe/Sofia\"><start>2019-06-01T10:00:00Z"
	    "</start><place>Sofia</place></event><language>en</language>"
	    "</record>", RECORD_NS);
	for (k = 0; k < 20; k++) {
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			struct err	 e;

			err_init(&e);
			if ((zone_schema = record_schema_new(&e)) == NULL)
				_exit(2);
			pool_run(4 * ZONE_THREADS, ZONE_THREADS, zone_parse,
			    doc);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "run %d: status %d", k, status);
	}
}
END_TEST

/* The event element's timezone and status attributes. */
static const struct {
	const char			*attrs;
	const char			*tz;	/* expected; NULL: none */
	enum record_event_status	 status;
	const char			*msg;	/* NULL when valid */
} event_attrs[] = {
	{ "", NULL, RECORD_EVENT_CONFIRMED, NULL },
	{ " timezone=\"Europe/Oslo\" status=\"cancelled\"", "Europe/Oslo",
	  RECORD_EVENT_CANCELLED, NULL },
	{ " timezone=\"America/Argentina/Buenos_Aires\" status=\"tentative\"",
	  "America/Argentina/Buenos_Aires", RECORD_EVENT_TENTATIVE, NULL },
	{ " status=\"confirmed\"", NULL, RECORD_EVENT_CONFIRMED, NULL },
	{ " timezone=\"Mars/Olympus_Mons\"", NULL, 0,
	  "t.xml:1: unknown time zone 'Mars/Olympus_Mons'" },
	{ " timezone=\"../etc/passwd\"", NULL, 0,
	  "t.xml:1: attribute 'timezone' of <event> has a value the record "
	  "format does not allow: '../etc/passwd' (Element 'event', attribute "
	  "'timezone': [facet 'pattern'] The value '../etc/passwd' is not "
	  "accepted by the pattern "
	  "'[A-Za-z][A-Za-z0-9_+\\-]*(/[A-Za-z0-9][A-Za-z0-9_+\\-]*)*'.)" },
	{ " status=\"postponed\"", NULL, 0,
	  "t.xml:1: attribute 'status' of <event> is not one of confirmed, "
	  "tentative, cancelled: 'postponed'" },
};

START_TEST(test_event_attrs)
{
	struct record	*r;
	struct err	 e;
	char		 doc[2048];

	snprintf(doc, sizeof(doc), "<record xmlns=\"%s\" id=\"s\" "
	    "type=\"event\"><title>T</title><issued>2019-05-14</issued>"
	    "<event%s><start>2019-06-01T10:00:00Z</start><place>Oslo</place>"
	    "</event><language>en</language></record>", RECORD_NS,
	    event_attrs[_i].attrs);
	err_init(&e);
	r = parse_str(doc, &e);
	if (event_attrs[_i].msg == NULL) {
		ck_assert_msg(r != NULL, "%s", e.msg);
		if (event_attrs[_i].tz == NULL)
			ck_assert_ptr_null(r->event->timezone);
		else
			ck_assert_str_eq(r->event->timezone,
			    event_attrs[_i].tz);
		ck_assert_int_eq(r->event->status, event_attrs[_i].status);
		record_unref(r);
	} else {
		ck_assert_ptr_null(r);
		ck_assert_str_eq(e.msg, event_attrs[_i].msg);
	}
	err_release(&e);
}
END_TEST

/*
 * record_parse_known(): is_valid skips only the XSD (an element the schema
 * refuses gets through, which is why the store passes it only for bytes
 * that passed before); parsing and the semantic checks still run; the
 * given hash is the record's.  The validator folds in pubfeed's version,
 * libxml2's and the schema.
 */
extern const unsigned char record_xsd[];
extern const unsigned long record_xsd_len;

START_TEST(test_parse_known)
{
	static const char *const head = "<?xml version=\"1.0\"?>\n"
	    "<record xmlns=\"" RECORD_NS "\" id=\"a\" type=\"news\">\n"
	    " <title>T</title>\n";
	struct record	*r;
	struct hash_ctx	 hc;
	struct err	 e;
	unsigned char	 h[HASH_LEN], want[HASH_LEN];
	char		 x[1024];

	err_init(&e);
	snprintf(x, sizeof(x), "%s <issued>2020-02-29</issued>\n"
	    " <language>en</language>\n <colour>red</colour>\n</record>\n",
	    head);
	memset(h, 0x5a, sizeof(h));
	r = record_parse_known(schema, x, strlen(x), "t.xml", 0, h, 0, &e);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(e.all, "t.xml:6:") != NULL, "%s", e.all);
	err_clear(&e);
	r = record_parse_known(schema, x, strlen(x), "t.xml", 0, h, 1, &e);
	ck_assert_msg(r != NULL, "%s", e.all);
	ck_assert_int_eq(memcmp(r->hash, h, HASH_LEN), 0);
	record_unref(r);
	/* not a real date: a semantic check, run whatever is_valid says */
	snprintf(x, sizeof(x), "%s <issued>2021-02-29</issued>\n"
	    " <language>en</language>\n</record>\n", head);
	ck_assert_ptr_null(record_parse_known(schema, x, strlen(x), "t.xml",
	    0, h, 1, &e));
	ck_assert_msg(strstr(e.all, "t.xml:4:") != NULL, "%s", e.all);
	err_clear(&e);
	/* nor is parsing skipped */
	ck_assert_ptr_null(record_parse_known(schema, head, strlen(head),
	    "t.xml", 0, h, 1, &e));
	ck_assert_int_gt(e.count, 0);
	err_release(&e);

	hash_init(&hc);
	hash_update_str(&hc, PUBFEED_VERSION);
	hash_update_str(&hc, xmlParserVersion);
	hash_update_i64(&hc, (int64_t)record_xsd_len);
	hash_update(&hc, record_xsd, record_xsd_len);
	record_image_layout(&hc);	/* images of this layout only */
	hash_final(&hc, want);
	ck_assert_int_eq(memcmp(record_schema_validator(schema), want,
	    HASH_LEN), 0);
}
END_TEST

static Suite *
record_suite(void)
{
	Suite	*s = suite_create("record");
	TCase	*tc;

	tc = tcase_create("good");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_report);
	tcase_add_test(tc, test_shared_strings);
	tcase_add_test(tc, test_event);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_parse_known);
	tcase_add_test(tc, test_lookups);
	tcase_add_test(tc, test_refs);
	tcase_add_test(tc, test_samples);
	tcase_add_test(tc, test_funded_embargoed);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_golden, 0, (int)bad_files.gl_pathc);
	tcase_add_test(tc, test_bad_count);
	tcase_add_test(tc, test_silent);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_attribute_bomb);
	tcase_add_test(tc, test_attribute_total);
	tcase_add_test(tc, test_prescan_skips);
	tcase_add_loop_test(tc, test_snippets, 0,
	    (int)(sizeof(snippets) / sizeof(*snippets)));
	tcase_add_test(tc, test_legacy_values);
	tcase_add_test(tc, test_partial_event_end);
	tcase_add_test(tc, test_zone_table_threads);
	tcase_add_loop_test(tc, test_event_attrs, 0,
	    (int)(sizeof(event_attrs) / sizeof(*event_attrs)));
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_types);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	 rc;

	if (tl_chdir_srcdir() == -1)
		return 1;
	if (glob(BAD "*.xml", 0, NULL, &bad_files) != 0)
		memset(&bad_files, 0, sizeof(bad_files));
	rc = tl_run(record_suite());
	globfree(&bad_files);
	return rc;
}
