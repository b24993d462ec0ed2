/*
 * check_lint: the harvester rules of "pubfeed check" (lint.h).
 *
 * Every tests/data/records/warn/NAME.xml is a good record that gives
 * exactly the warnings in NAME.err (empty: none), printed as "pubfeed
 * check" prints them; the rest builds records in memory for what a file
 * cannot show.
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lint.h"
#include "record.h"
#include "testlib.h"

#define WARN	"tests/data/records/warn/"

static struct record_schema	*schema;
static glob_t			 warn_files;

struct out {
	struct buf	 b;
	const char	*path;
	char		 codes[32][32];
	size_t		 ncodes;
	int		 nerrors;
};

static void
collect(void *arg, const struct record_diag *d)
{
	struct out	*o = arg;
	char		 line[1024];

	if (d->severity == RECORD_ERROR)
		o->nerrors++;
	ck_assert_ptr_nonnull(d->code);
	ck_assert_ptr_null(strchr(d->code, ' '));
	if (o->ncodes < 32)
		snprintf(o->codes[o->ncodes++], sizeof(o->codes[0]), "%s",
		    d->code);
	if (d->line > 0)
		snprintf(line, sizeof(line), "%s:%ld: %s: %s\n", o->path,
		    d->line, d->severity == RECORD_ERROR ? "error" : "warning",
		    d->msg);
	else
		snprintf(line, sizeof(line), "%s: %s: %s\n", o->path,
		    d->severity == RECORD_ERROR ? "error" : "warning", d->msg);
	ck_assert_int_eq(buf_addstr(&o->b, line), 0);
}

static void
setup(void)
{
	struct err	 e;

	err_init(&e);
	schema = record_schema_new(&e);
	ck_assert_msg(schema != NULL, "%s", e.msg);
	err_release(&e);
}

static void
teardown(void)
{
	record_schema_free(schema);
}

/* Warnings only, exactly those of the golden file, in the file's order. */
START_TEST(test_warn_golden)
{
	const char	*xml = warn_files.gl_pathv[_i];
	struct record	*r;
	struct out	 o;
	size_t		 n, len;
	char		 errpath[512], *b;
	int		 nw;

	memset(&o, 0, sizeof(o));
	o.path = xml;
	buf_init(&o.b, 1 << 20);
	n = strlen(xml);
	snprintf(errpath, sizeof(errpath), "%.*s.err", (int)(n - 4), xml);
	b = tl_slurp(xml, &len);
	r = record_check_mem(schema, b, len, xml, 0, collect, &o);
	ck_assert_msg(r != NULL, "%s", o.b.data);
	nw = lint_record(r, b, len, collect, &o);
	ck_assert_int_ge(nw, 0);
	ck_assert_int_eq(o.nerrors, 0);
	ck_assert_int_eq(buf_addch(&o.b, '\0'), 0);
	tl_assert_golden(o.b.data, errpath);
	free(b);
	record_unref(r);
	buf_release(&o.b);
}
END_TEST

/* Every rule's code appears in some golden file. */
START_TEST(test_codes)
{
	static const char *const want[] = {
		"fulltext-other-host", "fulltext-file-name", "openaire-access",
		"openaire-type", "doi-syntax",
	};
	struct record	*r;
	struct out	 o;
	size_t		 i, j, k, len;
	char		*b;
	int		 seen[NELEM(want)] = { 0 };

	for (i = 0; i < warn_files.gl_pathc; i++) {
		memset(&o, 0, sizeof(o));
		o.path = warn_files.gl_pathv[i];
		buf_init(&o.b, 1 << 20);
		b = tl_slurp(o.path, &len);
		r = record_check_mem(schema, b, len, o.path, 0, collect, &o);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_ge(lint_record(r, b, len, collect, &o), 0);
		for (j = 0; j < o.ncodes; j++)
			for (k = 0; k < (size_t)NELEM(want); k++)
				seen[k] |= strcmp(o.codes[j], want[k]) == 0;
		free(b);
		record_unref(r);
		buf_release(&o.b);
	}
	for (k = 0; k < (size_t)NELEM(want); k++)
		ck_assert_msg(seen[k], "no golden file shows %s", want[k]);
}
END_TEST

/*
 * A report that OpenAIRE takes, with one DOI and one full text: what the
 * table tests below vary.
 */
static void
base_record(struct record *r, struct record_ident *id,
    struct record_link *l)
{
	memset(r, 0, sizeof(*r));
	memset(id, 0, sizeof(*id));
	memset(l, 0, 2 * sizeof(*l));
	r->id = "x";
	r->type = RECORD_REPORT;
	r->access = RECORD_ACCESS_OPEN;
	id->kind = RECORD_ID_DOI;
	id->value = "10.1000/x";
	r->idents = id;
	r->nidents = 1;
	l[0].rel = RECORD_LINK_LANDING;
	l[0].href = "https://h.example/p/x";
	l[1].rel = RECORD_LINK_FULLTEXT;
	l[1].href = "https://h.example/f/x.pdf";
	l[1].type = "application/pdf";
	r->links = l;
	r->nlinks = 2;
}

static int
lint_codes(const struct record *r, struct out *o)
{
	int	 n;

	memset(o, 0, sizeof(*o));
	o->path = "mem";
	buf_init(&o->b, 1 << 16);
	n = lint_record(r, NULL, 0, collect, o);
	buf_release(&o->b);
	return n;
}

static const struct {
	const char	*doi;
	int		 is_ok;
} dois[] = {
	{ "10.1000/x", 1 },
	{ "10.1000/182", 1 },
	{ "10.10/x", 1 },			/* two-digit registrants exist */
	{ "10.1000.10/x", 1 },			/* subdivided registrant code */
	{ "10.1000/a/b/c", 1 },			/* '/' in the suffix */
	{ "10.1000/ü", 1 },			/* any printable Unicode */
	{ "10.1000/(SICI)0003-0090(2003)277<0001:TSSAAA>2.0.CO;2", 1 },
	{ "10./x", 0 },
	{ "10.x/y", 0 },
	{ "10.1000", 0 },
	{ "10.1000/", 0 },
	{ "10.1000./x", 0 },
	{ "10.1000..1/x", 0 },
	{ "10.1000 /x", 0 },
	{ "10.1000/a b", 0 },
	{ "10.1000/a\tb", 0 },
	{ "10.1000/a\x7f", 0 },
	{ "10.1000/a\xc2\x85", 0 },		/* C1 control NEL */
	{ "10.1000/a\xc2\xa0", 0 },		/* no-break space */
	{ "10.1000/a\xe2\x80\x83", 0 },		/* em space */
	{ "10.1000/a\xe3\x80\x80", 0 },		/* ideographic space */
	{ "doi:10.1000/x", 0 },
};

START_TEST(test_doi)
{
	struct record		 r;
	struct record_ident	 id;
	struct record_link	 l[2];
	struct out		 o;
	int			 n;

	base_record(&r, &id, l);
	id.value = dois[_i].doi;
	n = lint_codes(&r, &o);
	ck_assert_int_eq(n, dois[_i].is_ok ? 0 : 1);
	if (!dois[_i].is_ok)
		ck_assert_str_eq(o.codes[0], "doi-syntax");
}
END_TEST

static const struct {
	const char	*href;
	const char	*type;
	const char	*code;		/* NULL: no warning */
} fulltexts[] = {
	{ "https://h.example/f/x.pdf", "application/pdf", NULL },
	{ "https://H.EXAMPLE./f/x.PDF", "application/pdf", NULL },
	{ "https://www.h.example/f/x.pdf", "application/pdf", NULL },
	{ "https://h.example:8443/f/x.pdf?a=b#c", "application/pdf", NULL },
	{ "https://h.example/f/x.docx", "application/vnd.openxmlformats-"
	    "officedocument.wordprocessingml.document", NULL },
	{ "https://h.example/f/x.html", "application/xhtml+xml", NULL },
	{ "https://h.example/f/x.weird", "application/x-weird", NULL },
	/* the parser refuses these; the rule stands on its own anyway */
	{ "f/x.pdf", "application/pdf", "fulltext-not-http" },
	{ "ftp://h.example/f/x.pdf", "application/pdf", "fulltext-not-http" },
	{ "https://files.h.example/f/x.pdf", "application/pdf",
	    "fulltext-other-host" },
	{ "https://h.example.org/f/x.pdf", "application/pdf",
	    "fulltext-other-host" },
	{ "https://h.example/f/x", "application/pdf", "fulltext-file-name" },
	{ "https://h.example/f/", "application/pdf", "fulltext-file-name" },
	{ "https://h.example?x.pdf", "application/pdf", "fulltext-file-name" },
	{ "https://h.example/f/x.pdf.zip", "application/pdf",
	    "fulltext-file-name" },
	{ "https://h.example/f/x.doc", "application/pdf",
	    "fulltext-file-name" },
	{ "https://h.example/f.pdf/x", "application/pdf",
	    "fulltext-file-name" },
};

START_TEST(test_fulltext)
{
	struct record		 r;
	struct record_ident	 id;
	struct record_link	 l[2];
	struct out		 o;
	int			 n;

	base_record(&r, &id, l);
	l[1].href = fulltexts[_i].href;
	l[1].type = fulltexts[_i].type;
	n = lint_codes(&r, &o);
	ck_assert_int_eq(n, fulltexts[_i].code != NULL ? 1 : 0);
	if (fulltexts[_i].code != NULL)
		ck_assert_str_eq(o.codes[0], fulltexts[_i].code);
}
END_TEST

/* Without a landing page there is no host to compare with. */
START_TEST(test_no_landing)
{
	struct record		 r;
	struct record_ident	 id;
	struct record_link	 l[2];
	struct out		 o;

	base_record(&r, &id, l);
	l[1].href = "https://elsewhere.example/x.pdf";
	r.links = &l[1];
	r.nlinks = 1;
	ck_assert_int_eq(lint_codes(&r, &o), 0);
}
END_TEST

/* Which field OpenAIRE misses: the format's predicate decides. */
START_TEST(test_openaire)
{
	struct record		 r;
	struct record_ident	 id;
	struct record_link	 l[2];
	struct out		 o;

	base_record(&r, &id, l);
	ck_assert_int_eq(lint_codes(&r, &o), 0);
	/* a landing page alone is an identifier */
	r.nidents = 0;
	ck_assert_int_eq(lint_codes(&r, &o), 0);
	/*
	 * no identifier of its own, only a full text: pubfeed's landing
	 * page is the resource identifier, nothing to warn about
	 */
	r.links = &l[1];
	r.nlinks = 1;
	ck_assert_int_eq(lint_codes(&r, &o), 0);
	r.nlinks = 0;
	ck_assert_int_eq(lint_codes(&r, &o), 0);
	/* no access right: that alone is named */
	r.access = RECORD_ACCESS_UNSTATED;
	ck_assert_int_eq(lint_codes(&r, &o), 1);
	ck_assert_str_eq(o.codes[0], "openaire-access");
	/* an event without a DOI: not for OpenAIRE, no warning */
	r.type = RECORD_EVENT;
	ck_assert_int_eq(lint_codes(&r, &o), 0);
	/* with one: the type is named too, and the DOI is the identifier */
	r.nidents = 1;
	ck_assert_int_eq(lint_codes(&r, &o), 2);
	ck_assert_str_eq(o.codes[0], "openaire-type");
	ck_assert_str_eq(o.codes[1], "openaire-access");
	/* metadata-only is an access right: the type alone is missing */
	r.access = RECORD_ACCESS_METADATA_ONLY;
	ck_assert_int_eq(lint_codes(&r, &o), 1);
	ck_assert_str_eq(o.codes[0], "openaire-type");
}
END_TEST

/* Lines come from the file: with none, every warning has line 0. */
START_TEST(test_lines_without_file)
{
	struct record	*r;
	struct out	 o;
	size_t		 len;
	char		*b;
	const char	*xml = WARN "doi-syntax.xml";

	memset(&o, 0, sizeof(o));
	o.path = xml;
	buf_init(&o.b, 1 << 20);
	b = tl_slurp(xml, &len);
	r = record_check_mem(schema, b, len, xml, 0, collect, &o);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(lint_record(r, NULL, 0, collect, &o), 6);
	ck_assert_int_eq(buf_addch(&o.b, '\0'), 0);
	ck_assert_ptr_null(strstr(o.b.data, ".xml:1"));
	ck_assert_ptr_nonnull(strstr(o.b.data, ".xml: warning: "));
	/* a file that does not parse: the same, no crash */
	ck_assert_int_eq(lint_record(r, "<x", 2, collect, &o), 6);
	free(b);
	record_unref(r);
	buf_release(&o.b);
}
END_TEST

static Suite *
lint_suite(void)
{
	Suite	*s = suite_create("lint");
	TCase	*tc;

	tc = tcase_create("golden");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_warn_golden, 0,
	    (int)warn_files.gl_pathc);
	tcase_add_test(tc, test_codes);
	tcase_add_test(tc, test_lines_without_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_doi, 0,
	    (int)(sizeof(dois) / sizeof(dois[0])));
	tcase_add_loop_test(tc, test_fulltext, 0,
	    (int)(sizeof(fulltexts) / sizeof(fulltexts[0])));
	tcase_add_test(tc, test_no_landing);
	tcase_add_test(tc, test_openaire);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	 rc;

	if (tl_chdir_srcdir() == -1)
		return 1;
	if (glob(WARN "*.xml", 0, NULL, &warn_files) != 0)
		memset(&warn_files, 0, sizeof(warn_files));
	if (warn_files.gl_pathc < 7) {
		fprintf(stderr, "check_lint: golden files missing in %s\n",
		    WARN);
		return 1;
	}
	rc = tl_run(lint_suite());
	globfree(&warn_files);
	return rc;
}
