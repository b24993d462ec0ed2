/*
 * testlib: helpers the unit suites share.  Each suite is one translation
 * unit (tests/unit/check_X.c linked with libpubfeed.a), so everything here
 * is static; a suite includes this after its own headers and uses what it
 * needs (TL_UNUSED keeps -Werror quiet about the rest).
 *
 * The official standards kit is found through PUBFEED_STANDARDS (default
 * ../shared/standards, as in tests/run.sh); a suite that cannot find a
 * file of it prints a line starting "SKIP:" (run.sh collects those) and
 * carries on without that validation.  Schemas are compiled offline: the
 * kit's catalog maps every import to a local copy and the network entity
 * loader is off.
 */
#ifndef PUBFEED_TESTLIB_H
#define PUBFEED_TESTLIB_H

#include <sys/stat.h>

#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "conf.h"
#include "err.h"
#include "record.h"

#define TL_UNUSED	__attribute__((unused))

/* The number of elements of array a, as an int (tcase_add_loop_test's). */
#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* ---- Running ----------------------------------------------------------- */

/* Run every test of s; the exit status of the suite's binary. */
TL_UNUSED static int
tl_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * Suites reading tests/data/ run from the repository root; PUBFEED_SRCDIR
 * names it when the binary is started elsewhere.  -1 (and a message) when
 * it cannot be entered.
 */
TL_UNUSED static int
tl_chdir_srcdir(void)
{
	const char	*dir = getenv("PUBFEED_SRCDIR");

	if (dir != NULL && chdir(dir) == -1) {
		perror(dir);
		return -1;
	}
	return 0;
}

/* ---- Files ------------------------------------------------------------- */

/* The whole of path, NUL-terminated; its length into *len unless NULL. */
TL_UNUSED static char *
tl_slurp(const char *path, size_t *len)
{
	FILE	*fp;
	char	*b;
	long	 n;

	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
	b[n] = '\0';
	fclose(fp);
	if (len != NULL)
		*len = (size_t)n;
	return b;
}

/* Create (or truncate) path holding text. */
TL_UNUSED static void
tl_write_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	ck_assert_msg(fp != NULL, "%s", path);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/*
 * A golden file holds every message an error collects (struct err's
 * "all"), byte for byte: compare them.
 */
TL_UNUSED static void
tl_assert_golden(const char *all, const char *golden)
{
	char	*want = tl_slurp(golden, NULL);

	ck_assert_ptr_nonnull(all);
	ck_assert_str_eq(all, want);
	free(want);
}

/* A fresh directory $TMPDIR/NAME.XXXXXX (TMPDIR defaults to /tmp). */
TL_UNUSED static void
tl_mkdtemp(char *out, size_t size, const char *name)
{
	const char	*t = getenv("TMPDIR");

	snprintf(out, size, "%s/%s.XXXXXX", t != NULL && *t != '\0' ? t :
	    "/tmp", name);
	ck_assert_ptr_nonnull(mkdtemp(out));
}

TL_UNUSED static int
tl_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove path and everything below it; errors are ignored. */
TL_UNUSED static void
tl_rm_rf(const char *path)
{
	nftw(path, tl_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- Test data --------------------------------------------------------- */

/* A configuration that must parse (named "t.conf" in messages). */
TL_UNUSED static struct conf *
tl_conf(const char *text)
{
	struct conf	*c;
	struct err	 e;

	err_init(&e);
	c = conf_parse_mem(text, strlen(text), "t.conf", &e);
	ck_assert_msg(c != NULL, "%s", e.all);
	err_release(&e);
	return c;
}

/* The compiled-in record schema; failing to build it fails the test. */
TL_UNUSED static struct record_schema *
tl_record_schema(void)
{
	struct record_schema	*rs;
	struct err		 e;

	err_init(&e);
	rs = record_schema_new(&e);
	ck_assert_msg(rs != NULL, "%s", e.all != NULL ? e.all : e.msg);
	err_release(&e);
	return rs;
}

/* A record that must parse from xml[0..n) (named path in messages). */
TL_UNUSED static struct record *
tl_record(struct record_schema *rs, const char *xml, size_t n,
    const char *path)
{
	struct record	*r;
	struct err	 e;

	err_init(&e);
	r = record_parse_mem(rs, xml, n, path, 0, &e);
	ck_assert_msg(r != NULL, "%s: %s", path, e.all != NULL ? e.all :
	    e.msg);
	err_release(&e);
	return r;
}

/*
 * Append one <set> per name of sets (space-separated; NULL or "" for none)
 * to the n bytes already in out, each written with fmt, a printf format
 * taking the name as "%.*s".  Returns the new length.
 */
TL_UNUSED static size_t
tl_add_sets(char *out, size_t size, size_t n, const char *sets,
    const char *fmt)
{
	const char	*p, *q;

	for (p = sets; p != NULL && *p != '\0'; p = *q ? q + 1 : q) {
		q = p + strcspn(p, " ");
		n += (size_t)snprintf(out + n, size - n, fmt, (int)(q - p), p);
	}
	return n;
}

/* ---- Standards and schemas --------------------------------------------- */

TL_UNUSED static const char *
tl_standards_dir(void)
{
	const char	*d = getenv("PUBFEED_STANDARDS");

	return d != NULL && *d != '\0' ? d : "../shared/standards";
}

/* The kit's file rel into path; -1 when it is not there to read. */
TL_UNUSED static int
tl_standard(char *path, size_t size, const char *rel)
{
	snprintf(path, size, "%s/%s", tl_standards_dir(), rel);
	return access(path, R_OK) == 0 ? 0 : -1;
}

/* libxml2 error handlers: drop the message, or pass it to stderr. */
TL_UNUSED static void
tl_quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

TL_UNUSED static void
tl_stderr(void *ctx, const char *fmt, ...)
{
	va_list	 ap;

	(void)ctx;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/*
 * Compile the kit's XSD at path offline: the kit's catalog is loaded and
 * the network entity loader switched off.  Parser errors go to on_error,
 * warnings (the kit's README: "Skipping import" and xml: namespace noise)
 * nowhere.  A schema that does not compile ends the suite: the kit is
 * broken, not the code under test.
 */
TL_UNUSED static xmlSchemaPtr
tl_xsd_load(const char *path, xmlSchemaValidityErrorFunc on_error)
{
	char			 cat[1024];
	xmlSchemaParserCtxtPtr	 pc;
	xmlSchemaPtr		 xsd;

	snprintf(cat, sizeof(cat), "%s/catalog.xml", tl_standards_dir());
	xmlLoadCatalog(cat);
	xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
	pc = xmlSchemaNewParserCtxt(path);
	xmlSchemaSetParserErrors(pc, on_error, tl_quiet, NULL);
	xsd = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	if (xsd == NULL) {
		fprintf(stderr, "cannot compile %s\n", path);
		exit(1);
	}
	return xsd;
}

/* ---- XPath ------------------------------------------------------------- */

/*
 * Evaluate expr with the namespace prefixes of ns (NULL-terminated
 * prefix/URI pairs); a bad expression fails the test.
 */
TL_UNUSED static xmlXPathObjectPtr
tl_xpath(xmlDocPtr doc, const char *const *ns, const char *expr)
{
	xmlXPathContextPtr	 xc = xmlXPathNewContext(doc);
	xmlXPathObjectPtr	 o;
	size_t			 i;

	for (i = 0; ns[i] != NULL && ns[i + 1] != NULL; i += 2)
		xmlXPathRegisterNs(xc, BAD_CAST ns[i], BAD_CAST ns[i + 1]);
	o = xmlXPathEvalExpression(BAD_CAST expr, xc);
	xmlXPathFreeContext(xc);
	ck_assert_msg(o != NULL, "bad XPath %s", expr);
	return o;
}

/* string(expr), a copy to free ("" when nothing matches). */
TL_UNUSED static char *
tl_xpath_str(xmlDocPtr doc, const char *const *ns, const char *expr)
{
	xmlXPathObjectPtr	 o = tl_xpath(doc, ns, expr);
	xmlChar			*s = xmlXPathCastToString(o);
	char			*r = strdup((const char *)s);

	xmlFree(s);
	xmlXPathFreeObject(o);
	return r;
}

/* count(expr). */
TL_UNUSED static int
tl_xpath_count(xmlDocPtr doc, const char *const *ns, const char *expr)
{
	char			 wrap[1024];
	xmlXPathObjectPtr	 o;
	int			 n;

	snprintf(wrap, sizeof(wrap), "count(%s)", expr);
	o = tl_xpath(doc, ns, wrap);
	n = (int)o->floatval;
	xmlXPathFreeObject(o);
	return n;
}

#endif
