/*
 * check_rs: the ResourceSync renderer (rs.c) over real snapshots: every
 * document is a sitemap in the rs: namespace, lists are cut into an index
 * and sublists at resourcesync-page-size URLs, deletions and formats not
 * offered are "deleted" changes, and unchanged pages are shared with the
 * previous snapshot instead of being rendered again.  List pages are lazy
 * slots: not rendered until asked for, rendered to the key they were
 * registered with, and never the previous snapshot's bytes once an item of
 * theirs changed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "record.h"
#include "rs.h"
#include "snap.h"
#include "strmap.h"
#include "testlib.h"
#include "banned.h"

#define CONF_TEXT							\
	"repository-name R\nbase-url https://pubs.example.org\n"	\
	"admin-email a@example.org\nrecords /nonexistent\n"		\
	"state /nonexistent\nfeed-author-name A\n"			\
	"oai-namespace pubs.example.org\n"				\
	"websub-hub https://hub.example.org/\n"

static struct record_schema	*schema;

static void
setup(void)
{
	schema = tl_record_schema();
}

static void
teardown(void)
{
	record_schema_free(schema);
}

/* A news item (not offered in oai_openaire) with nft full texts. */
static struct record *
rec(const char *id, int64_t datestamp, int nft)
{
	char		 xml[4096];
	size_t		 n;
	int		 i;
	struct record	*r;

	n = (size_t)snprintf(xml, sizeof(xml), "<record xmlns=\"" RECORD_NS
	    "\" id=\"%s\" type=\"news\"><title>T %s</title>"
	    "<issued>2020-02-29</issued><language>en</language>", id, id);
	for (i = 0; i < nft; i++)
		n += (size_t)snprintf(xml + n, sizeof(xml) - n, "<link "
		    "rel=\"fulltext\" href=\"https://f.example.org/%s-%d.pdf\" "
		    "type=\"application/pdf\" length=\"%d\"/>", id, i, 100 + i);
	snprintf(xml + n, sizeof(xml) - n, "</record>");
	r = tl_record(schema, xml, strlen(xml), id);
	r->datestamp = datestamp;
	return r;
}

static struct snap *
build(struct conf *c, struct record **rv, size_t n,
    const struct snap_tomb *tombs, size_t nt, const struct snap *prev)
{
	struct snap	*s;
	struct err	 e;

	err_init(&e);
	s = snap_new(c, rv, n, tombs, nt, &e);
	ck_assert_msg(s != NULL, "snap_new: %s", e.msg);
	ck_assert_msg(rs_build(s, prev, &e) == 0, "rs_build: %s", e.msg);
	snap_seal(s);
	err_release(&e);
	return s;
}

/* The number of nodes at xpath in the document at path. */
static int
count(const struct snap *s, const char *path, const char *xpath)
{
	const struct snap_doc	*d = snap_doc_find(s, path);
	xmlDocPtr		 doc;
	xmlXPathContextPtr	 x;
	xmlXPathObjectPtr	 o;
	int			 n;

	ck_assert_msg(d != NULL, "no %s", path);
	ck_assert_str_eq(d->content_type, RS_TYPE);
	doc = xmlReadMemory(d->body, (int)d->len, path, NULL, XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "%s is not well-formed", path);
	x = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(x, BAD_CAST "sm", BAD_CAST RS_SITEMAP_NS);
	xmlXPathRegisterNs(x, BAD_CAST "rs", BAD_CAST RS_NS);
	o = xmlXPathEvalExpression(BAD_CAST xpath, x);
	ck_assert_msg(o != NULL, "%s", xpath);
	n = o->nodesetval != NULL ? o->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(x);
	xmlFreeDoc(doc);
	snap_doc_done(d);
	return n;
}

/* 1 when the document at path contains needle. */
static int
has(const struct snap *s, const char *path, const char *needle)
{
	const struct snap_doc	*d = snap_doc_find(s, path);
	int			 rc;

	ck_assert_msg(d != NULL, "no %s", path);
	rc = memmem(d->body, d->len, needle, strlen(needle)) != NULL;
	snap_doc_done(d);
	return rc;
}

START_TEST(test_single_lists)
{
	struct conf		*c = tl_conf(CONF_TEXT);
	struct record		*rv[2];
	static const char *const sets[] = { NULL };
	struct snap_tomb	 t = { "gone", 1700000300, sets, 0 };
	struct snap		*s;

	rv[0] = rec("a", 1700000100, 1);
	rv[1] = rec("b", 1700000200, 0);
	s = build(c, rv, 2, &t, 1, NULL);
	ck_assert_int_eq(count(s, RS_WELL_KNOWN,
	    "/sm:urlset[rs:md/@capability='description']/sm:url"
	    "[rs:md/@capability='capabilitylist']"), 1);
	ck_assert_int_eq(count(s, RS_CAPABILITIES,
	    "/sm:urlset/rs:ln[@rel='hub'][@href='https://hub.example.org/']"),
	    1);
	ck_assert_int_eq(count(s, RS_CAPABILITIES, "//sm:url"), 2);
	/* news: three formats each, no oai_openaire; a's full text */
	ck_assert_int_eq(count(s, RS_RESOURCES,
	    "/sm:urlset[rs:md/@capability='resourcelist']/sm:url"), 7);
	ck_assert_int_eq(count(s, RS_RESOURCES, "//sm:url[sm:loc="
	    "'https://f.example.org/a-0.pdf'][rs:md/@length='100']"
	    "[rs:md/@type='application/pdf'][rs:ln/@rel='describedby']"), 1);
	ck_assert_int_eq(count(s, RS_RESOURCES,
	    "//sm:loc[contains(., 'gone')]"), 0);
	/* every format of every item; the tombstone's all deleted, last */
	ck_assert_int_eq(count(s, RS_CHANGES, "//sm:url"), 4 + 1 + 4 + 4);
	ck_assert_int_eq(count(s, RS_CHANGES, "//sm:url[contains(sm:loc, "
	    "'gone')][rs:md/@change='deleted']"
	    "[rs:md/@datetime='2023-11-14T22:18:20Z'][not(sm:lastmod)]"), 4);
	ck_assert_int_eq(count(s, RS_CHANGES, "//sm:url[contains(sm:loc, "
	    "'oai_openaire')][rs:md/@change='deleted']"), 3);
	ck_assert_int_eq(count(s, RS_CHANGES, "/sm:urlset/sm:url[last()]"
	    "[contains(sm:loc, 'gone')]"), 1);
	snap_release(s);
	record_unref(rv[0]);
	record_unref(rv[1]);
	conf_unref(c);
}
END_TEST

START_TEST(test_index_and_reuse)
{
	struct conf	*c = tl_conf(CONF_TEXT "resourcesync-page-size 4\n");
	struct record	*rv[3], *old;
	struct snap	*s, *s2;
	const struct snap_doc *p1, *p3, *d;

	rv[0] = rec("a", 1700000100, 1);
	rv[1] = rec("b", 1700000200, 2);
	rv[2] = rec("c", 1700000300, 0);
	s = build(c, rv, 3, NULL, 0, NULL);
	/*
	 * 4 + 5 + 3 resources; at 4 URLs a page every item starts one (and
	 * b's fifth URL takes one of its own): 4 sublists
	 */
	ck_assert_int_eq(count(s, RS_RESOURCES, "/sm:sitemapindex/sm:sitemap"
	    "[rs:md/@capability='resourcelist']"), 4);
	ck_assert_int_eq(count(s, "/resourcesync/resourcelist/2.xml",
	    "/sm:urlset[rs:ln/@rel='index'][rs:ln/@rel='up']/sm:url"), 4);
	ck_assert_int_eq(count(s, "/resourcesync/resourcelist/3.xml",
	    "//sm:url"), 1);
	ck_assert_int_eq(count(s, "/resourcesync/resourcelist/4.xml",
	    "//sm:url"), 3);
	/* 5 + 6 + 4 changes: 4 + 1, 4 + 2, 4; the last sublist open */
	ck_assert_int_eq(count(s, RS_CHANGES, "//sm:sitemap"), 5);
	ck_assert_int_eq(count(s, RS_CHANGES,
	    "//sm:sitemap[last()]/rs:md[not(@until)]"), 1);
	ck_assert_int_eq(count(s, "/resourcesync/changelist/4.xml",
	    "//sm:url"), 2);
	ck_assert_int_eq(count(s, "/resourcesync/changelist/5.xml",
	    "//sm:url"), 4);
	ck_assert_ptr_null(snap_doc_find(s, "/resourcesync/changelist/6.xml"));
	ck_assert_ptr_null(snap_doc_find(s, "/resourcesync/changelist/0.xml"));
	ck_assert_ptr_null(snap_doc_find(s, "/resourcesync/resourcelist/1"));
	/* c changes (same URLs): resource page 1 is shared, c's page not */
	p1 = snap_doc_find(s, "/resourcesync/resourcelist/1.xml");
	p3 = snap_doc_find(s, "/resourcesync/resourcelist/4.xml");
	ck_assert(has(s, "/resourcesync/resourcelist/4.xml",
	    "<lastmod>2023-11-14T22:18:20Z</lastmod>"));
	old = rv[2];
	rv[2] = rec("c", 1700000400, 0);
	rv[2]->hash[0] ^= 1;
	s2 = build(c, rv, 3, NULL, 0, s);
	d = snap_doc_find(s2, "/resourcesync/resourcelist/1.xml");
	ck_assert_ptr_eq(d, p1);
	snap_doc_done(d);
	d = snap_doc_find(s2, "/resourcesync/resourcelist/4.xml");
	ck_assert_ptr_ne(d, p3);
	snap_doc_done(d);
	/* the changed item's page has its new datestamp, never the old */
	ck_assert(has(s2, "/resourcesync/resourcelist/4.xml",
	    "<lastmod>2023-11-14T22:20:00Z</lastmod>"));
	ck_assert(!has(s2, "/resourcesync/resourcelist/4.xml",
	    "<lastmod>2023-11-14T22:18:20Z</lastmod>"));
	/* and the old snapshot still serves its own bytes */
	ck_assert(has(s, "/resourcesync/resourcelist/4.xml",
	    "<lastmod>2023-11-14T22:18:20Z</lastmod>"));
	snap_doc_done(p1);
	snap_doc_done(p3);
	ck_assert_ptr_eq(snap_doc_find(s2, RS_WELL_KNOWN),
	    snap_doc_find(s, RS_WELL_KNOWN));
	snap_release(s);
	snap_release(s2);
	record_unref(old);
	for (size_t i = 0; i < 3; i++)
		record_unref(rv[i]);
	conf_unref(c);
}
END_TEST

/*
 * List pages are registered, not rendered, by rs_build(); the first
 * request renders them to the key they were registered with, and a page
 * evicted from the document cache is rendered again to the same bytes.
 */
START_TEST(test_lazy_pages)
{
	struct conf	*c = tl_conf(CONF_TEXT "resourcesync-page-size 4\n");
	static const char *const paths[] = { RS_RESOURCES, RS_CHANGES,
	    "/resourcesync/resourcelist/1.xml",
	    "/resourcesync/changelist/4.xml" };
	/* a page's Last-Modified is its newest item's: a's, b's */
	static const int64_t lms[] = { 0, 0, 1700000100, 1700000200 };
	struct record	*rv[3];
	struct snap	*s;
	struct snap_slot *sl;
	const struct snap_doc *d, *d2;
	char		*body;
	size_t		 i, len;

	rv[0] = rec("a", 1700000100, 1);
	rv[1] = rec("b", 1700000200, 2);
	rv[2] = rec("c", 1700000300, 0);
	s = build(c, rv, 3, NULL, 0, NULL);
	ck_assert_ptr_null(snap_lazy_find(s, RS_RESOURCES));	/* an index */
	for (i = 2; i < 4; i++) {
		sl = snap_lazy_find(s, paths[i]);
		ck_assert_msg(sl != NULL, "%s is not lazy", paths[i]);
		ck_assert(!snap_slot_is_ready(sl));
		d = snap_doc_find(s, paths[i]);
		ck_assert_ptr_nonnull(d);
		ck_assert(snap_slot_is_ready(sl));
		ck_assert_mem_eq(d->key, snap_slot_key(sl), HASH_LEN);
		ck_assert_str_eq(d->content_type, RS_TYPE);
		ck_assert_int_eq(d->last_modified, lms[i]);
		len = d->len;
		body = malloc(len);
		memcpy(body, d->body, len);
		snap_doc_done(d);
		/* evicted, then rendered again: the same bytes */
		snap_doc_cache_limit(0);
		snap_doc_cache_limit(SNAP_DOC_CACHE_DEFAULT);
		d2 = snap_doc_find(s, paths[i]);
		ck_assert_uint_eq(d2->len, len);
		ck_assert_mem_eq(d2->body, body, len);
		snap_doc_done(d2);
		free(body);
	}
	for (i = 0; i < 2; i++)
		ck_assert_int_gt(count(s, paths[i], "//rs:md"), 0);
	snap_release(s);
	for (i = 0; i < 3; i++)
		record_unref(rv[i]);
	conf_unref(c);
}
END_TEST

/* The <loc>s of every page of the list at path (an index or not), in order. */
static void
list_locs(const struct snap *s, const char *list, const char *pages,
    int max, struct buf *out)
{
	const struct snap_doc	*d;
	char			 path[256];
	size_t			 n;
	int			 np = count(s, list, "//sm:sitemap");

	for (n = np == 0 ? 0 : 1; n <= (size_t)np; n++) {
		if (n == 0)
			snprintf(path, sizeof(path), "%s", list);
		else
			snprintf(path, sizeof(path), "%s/%zu.xml", pages, n);
		ck_assert_int_le(count(s, path, "//sm:url"), max);
		d = snap_doc_find(s, path);
		ck_assert_ptr_nonnull(d);
		for (const char *p = d->body; (p = strstr(p, "<loc>")) != NULL;
		    p += 5) {
			const char *e = strstr(p, "</loc>");

			ck_assert_ptr_nonnull(e);
			ck_assert_int_eq(buf_add(out, p + 5,
			    (size_t)(e - p - 5)), 0);
			ck_assert_int_eq(buf_addch(out, '\n'), 0);
		}
		snap_doc_done(d);
	}
}

/* How many of pages 1..n of pages differ between s and s2. */
static int
pages_changed(const struct snap *s, const struct snap *s2,
    const char *pages, size_t n)
{
	const struct snap_doc	*a, *b;
	char			 path[256];
	size_t			 i;
	int			 k = 0;

	for (i = 1; i <= n; i++) {
		snprintf(path, sizeof(path), "%s/%zu.xml", pages, i);
		a = snap_doc_find(s, path);
		b = snap_doc_find(s2, path);
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		k += a != b;
		snap_doc_done(a);
		snap_doc_done(b);
	}
	return k;
}

/*
 * Every document of s (built from an older snapshot, sharing what it could)
 * has the bytes and Last-Modified a build of the same records from nothing
 * gives: a kept document is never dated by when it was first rendered.
 */
static void
same_as_fresh(struct conf *c, struct record **rv, size_t n,
    const struct snap *s, size_t nres, size_t nchg)
{
	struct snap		*f = build(c, rv, n, NULL, 0, NULL);
	const struct snap_doc	*a, *b;
	char			 path[256];
	size_t			 i, k;

	for (i = 0; i < 4 + nres + nchg; i++) {
		static const char *const fixed[] = { RS_WELL_KNOWN,
		    RS_CAPABILITIES, RS_RESOURCES, RS_CHANGES };

		if (i < 4)
			snprintf(path, sizeof(path), "%s", fixed[i]);
		else if ((k = i - 4) < nres)
			snprintf(path, sizeof(path),
			    "/resourcesync/resourcelist/%zu.xml", k + 1);
		else
			snprintf(path, sizeof(path),
			    "/resourcesync/changelist/%zu.xml", k - nres + 1);
		a = snap_doc_find(s, path);
		b = snap_doc_find(f, path);
		ck_assert_msg(a != NULL && b != NULL, "%s", path);
		ck_assert_uint_eq(a->len, b->len);
		ck_assert_mem_eq(a->body, b->body, a->len);
		ck_assert_msg(a->last_modified == b->last_modified,
		    "%s: %lld kept, %lld fresh", path,
		    (long long)a->last_modified, (long long)b->last_modified);
		snap_doc_done(a);
		snap_doc_done(b);
	}
	snap_release(f);
}

/*
 * Pages are cut where the items say, not every N URLs: an item changed in
 * the middle of the lists changes its own Resource List page, and its old
 * and its new Change List pages, never the pages after it; and the pages
 * together are the list a single page gives.
 */
START_TEST(test_cuts_follow_items)
{
	struct conf	*c = tl_conf(CONF_TEXT "resourcesync-page-size 40\n");
	struct conf	*one = tl_conf(CONF_TEXT);
	struct record	*rv[120], *old;
	struct snap	*s, *s2, *all;
	struct buf	 a, b;
	char		 id[16];
	size_t		 i, k, nres, nchg;

	for (i = 0; i < 120; i++) {
		snprintf(id, sizeof(id), "r%03zu", i);
		rv[i] = rec(id, 1700000000 + (int64_t)i, (int)(i % 2));
	}
	s = build(c, rv, 120, NULL, 0, NULL);
	all = build(one, rv, 120, NULL, 0, NULL);
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	list_locs(s, RS_RESOURCES, "/resourcesync/resourcelist", 40, &a);
	list_locs(all, RS_RESOURCES, "/resourcesync/resourcelist", 1000, &b);
	ck_assert_int_eq(count(all, RS_RESOURCES, "//sm:sitemap"), 0);
	ck_assert_uint_gt(a.len, 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	buf_reset(&a);
	buf_reset(&b);
	list_locs(s, RS_CHANGES, "/resourcesync/changelist", 40, &a);
	list_locs(all, RS_CHANGES, "/resourcesync/changelist", 1000, &b);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	nres = (size_t)count(s, RS_RESOURCES, "//sm:sitemap");
	nchg = (size_t)count(s, RS_CHANGES, "//sm:sitemap");
	ck_assert_uint_gt(nres, 8);
	ck_assert_uint_gt(nchg, 8);
	/* an item in the middle that starts no page of its own changes */
	for (k = 50; k < 120; k++)
		if (strmap_hash(rv[k]->id, strlen(rv[k]->id)) % 2 != 0)
			break;	/* 40 / (2 * (6 + 1)): one item in 2 cuts */
	ck_assert_uint_lt(k, 110);
	old = rv[k];
	rv[k] = rec(old->id, 1700001000, (int)(k % 2));
	rv[k]->hash[0] ^= 1;
	s2 = build(c, rv, 120, NULL, 0, s);
	ck_assert_int_eq(count(s2, RS_RESOURCES, "//sm:sitemap"), (int)nres);
	ck_assert_int_eq(pages_changed(s, s2, "/resourcesync/resourcelist",
	    nres), 1);
	/* its old page, and the last page, which it joins */
	ck_assert_int_le(pages_changed(s, s2, "/resourcesync/changelist",
	    nchg), 2);
	ck_assert(has(s2, RS_CHANGES, "<rs:md capability=\"changelist\""));
	/* what s2 kept from s says what a fresh build of s2 says */
	same_as_fresh(c, rv, 120, s2, nres, nchg);
	buf_release(&a);
	buf_release(&b);
	snap_release(s);
	snap_release(s2);
	snap_release(all);
	record_unref(old);
	for (i = 0; i < 120; i++)
		record_unref(rv[i]);
	conf_unref(c);
	conf_unref(one);
}
END_TEST

static Suite *
rs_suite(void)
{
	Suite	*s = suite_create("rs");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_single_lists);
	tcase_add_test(tc, test_index_and_reuse);
	tcase_add_test(tc, test_lazy_pages);
	tcase_add_test(tc, test_cuts_follow_items);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(rs_suite());
}
