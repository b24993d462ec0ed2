/*
 * check_feed: the Atom / RSS renderers, RFC 5005 archives, the home page and
 * document reuse in feed_build().  Records and conf are built by hand so the
 * tests do not depend on the parsers.
 *
 * Atom documents are validated against the RFC 4287 RELAX NG schema from the
 * shared standards kit: $PUBFEED_STANDARDS, else ../shared/standards (run
 * from the repository root).  When it is missing, those checks print
 * "SKIP: standards not found" and are skipped, visibly.
 */
#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>
#include <libical/ical.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "buf.h"
#include "conf.h"
#include "date.h"
#include "err.h"
#include "export.h"
#include "feed.h"
#include "feed_int.h"
#include "hash.h"
#include "oai_int.h"
#include "page_style.h"
#include "record.h"
#include "snap.h"
#include "testlib.h"
#include "banned.h"

/*
 * snap_doc_find() hands out a reference the caller gives back with
 * snap_doc_done(); the tests look documents up everywhere, so every lookup
 * is kept here and given back after the test (the fixtures' teardown).
 */
static pthread_mutex_t		 pins_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct snap_doc	**pins;
static size_t			 npins, pins_cap;

static const struct snap_doc *
pin(const struct snap_doc *d)
{
	/* the table's documents go with their snapshot: nothing to give */
	if (d == NULL || !d->is_cached)
		return d;
	pthread_mutex_lock(&pins_lock);
	if (npins == pins_cap) {
		pins_cap = pins_cap ? 2 * pins_cap : 64;
		pins = realloc(pins, pins_cap * sizeof(*pins));
		ck_assert_ptr_nonnull(pins);
	}
	pins[npins++] = d;
	pthread_mutex_unlock(&pins_lock);
	return d;
}

static void
pins_release(void)
{
	size_t	 i;

	for (i = 0; i < npins; i++)
		snap_doc_done(pins[i]);
	free(pins);
	pins = NULL;
	npins = pins_cap = 0;
}

#define snap_doc_find(s, path)	pin(snap_doc_find((s), (path)))

#define NRECS	7	/* with 2 entries a page: archives 1-3 + current */
#define TAG	"tag:pubs.example.org,2024:"
#define BASE	"https://pubs.example.org"
#define LISTSETS BASE "/oai?verb=ListSets"

/* Fixtures */

static struct conf_set conf_sets[] = {
	{ "region", "Regions", NULL },
	{ "region:bulgaria", "България", "Публикации за България" },
};

static char *admins[] = { "admin@example.org" };

static struct conf conf = {
	.refs = 1000,		/* static: conf_unref() must never free it */
	.repository_name = "Институт æøå",
	.base_url = BASE,
	.admin_emails = admins,
	.nadmin_emails = 1,
	.tag_authority = "pubs.example.org,2024",
	.feed_title = "Pub\x01" "feed ÆØÅ",	/* a control character */
	.feed_subtitle = "Reports, æøå and кирилица",
	.feed_author_name = "Institutt for æøå",
	.feed_author_email = "pubs@example.org",
	.feed_author_uri = BASE "/",
	.feed_icon = BASE "/favicon.ico",
	.feed_rights = "CC BY 4.0",
	.feed_lang = "en",
	.feed_entries = 2,
	.sets = conf_sets,
	.nsets = 2,
	.oai_path = "/oai",
	.oai_namespace = "pubs.example.org",
	.doc_cache_bytes = SNAP_DOC_CACHE_DEFAULT,
	.record_cache_bytes = RECORD_CACHE_DEFAULT,
};

static struct record		 recs[NRECS];
static struct record		*recp[NRECS];
static struct record_text	 titles[NRECS][1];
static struct record_text	 abstracts[NRECS][2];
static struct record_agent	 creators[NRECS][2];
static struct record_link	 links[NRECS][2];
static struct record_event	 event;
static const char		*sets_bg[] = { "region:bulgaria" };
static char			 ids[NRECS][16];
static char			 ttl[NRECS][64];

static const char *
ns_title(int i)
{
	return i % 2 ? "Доклад за България" : "Rapport om æøå";
}

/* rec-i is issued 2019-05-(10+i) and changed a day later. */
static void
fixtures(void)
{
	struct record	*r;
	int		 i;

	memset(recs, 0, sizeof(recs));
	for (i = 0; i < NRECS; i++) {
		r = &recs[i];
		recp[i] = r;
		r->refs = 1000;
		snprintf(ids[i], sizeof(ids[i]), "rec-%d", i);
		snprintf(ttl[i], sizeof(ttl[i]), "%s %d", ns_title(i), i);
		r->id = ids[i];
		r->type = RECORD_REPORT;
		r->lang = i % 2 ? "bg" : "nb";
		titles[i][0] = (struct record_text){ r->lang, ttl[i] };
		r->titles = titles[i];
		r->ntitles = 1;
		abstracts[i][0] = (struct record_text){ "en", "In English." };
		abstracts[i][1] = (struct record_text){ r->lang,
		    i % 2 ? "Резюме." : "Sammendrag på norsk." };
		r->abstracts = abstracts[i];
		r->nabstracts = 2;
		creators[i][0] = (struct record_agent){ RECORD_PERSON,
		    "Иван Петров", "Петров", "Иван", NULL,
		    "0000-0002-1825-0097", "ivan@example.org", NULL };
		creators[i][1] = (struct record_agent){ RECORD_ORG,
		    "Søk AS", NULL, NULL, NULL, NULL, NULL, NULL };
		r->creators = creators[i];
		r->ncreators = i == 3 ? 0 : 2;	/* covered by the feed */
		r->issued = (struct date){ date_from_civil(2019, 5, 10 + i,
		    0, 0, 0), DATE_DAY };
		r->datestamp = r->issued.t + 86400;
		links[i][0] = (struct record_link){ RECORD_LINK_LANDING,
		    BASE "/p/1", NULL, -1, NULL, NULL };
		links[i][1] = (struct record_link){ RECORD_LINK_FULLTEXT,
		    BASE "/p/1.pdf", "application/pdf", 12345, "bg", NULL };
		r->links = links[i];
		r->nlinks = 2;
		r->sets = sets_bg;
		r->nsets = 1;
		memset(r->hash, i, HASH_LEN);
	}
	/* rec-5: an event; rec-4: changed long after it was issued */
	event.start = (struct date){ date_from_civil(2019, 6, 1, 0, 0, 0),
	    DATE_DAY };
	event.end = (struct date){ date_from_civil(2019, 6, 3, 0, 0, 0),
	    DATE_DAY };
	event.place = "София";
	event.country = "BG";
	recs[5].type = RECORD_EVENT;
	recs[5].event = &event;
	recs[4].datestamp = date_from_civil(2020, 1, 2, 3, 4, 5);
}

/* Helpers */

static xmlRelaxNGPtr	 rng;
static int		 rng_tried;

static xmlRelaxNGPtr
atom_schema(void)
{
	char			 path[4096];
	xmlRelaxNGParserCtxtPtr	 pc;

	if (rng_tried)
		return rng;
	rng_tried = 1;
	if (tl_standard(path, sizeof(path), "feeds/atom.rng") == -1) {
		fprintf(stderr, "SKIP: standards not found (%s): Atom RELAX NG "
		    "validation not run\n", path);
		return NULL;
	}
	pc = xmlRelaxNGNewParserCtxt(path);
	rng = xmlRelaxNGParse(pc);
	xmlRelaxNGFreeParserCtxt(pc);
	ck_assert_msg(rng != NULL, "cannot compile %s", path);
	return rng;
}

static void
assert_atom_valid(xmlDocPtr doc, const char *what)
{
	xmlRelaxNGValidCtxtPtr	 vc;
	xmlRelaxNGPtr		 s;
	int			 rc;

	if ((s = atom_schema()) == NULL)
		return;
	vc = xmlRelaxNGNewValidCtxt(s);
	rc = xmlRelaxNGValidateDoc(vc, doc);
	xmlRelaxNGFreeValidCtxt(vc);
	ck_assert_msg(rc == 0, "%s: not valid against atom.rng (%d)", what, rc);
}

static xmlDocPtr
parse(const char *body, size_t len)
{
	xmlDocPtr	 doc;

	doc = xmlReadMemory(body, (int)len, "feed.xml", NULL, XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "not well-formed:\n%.*s", (int)len, body);
	return doc;
}

static const char *const feed_ns[] = {
	"a", "http://www.w3.org/2005/Atom",
	"fh", "http://purl.org/syndication/history/1.0",
	"dc", "http://purl.org/dc/elements/1.1/",
	"ev", "http://purl.org/rss/1.0/modules/event/",
	NULL
};

/* The string value of an XPath expression ("" when nothing matched). */
static char *
xp(xmlDocPtr doc, const char *expr)
{
	return tl_xpath_str(doc, feed_ns, expr);
}

static void
xp_eq(xmlDocPtr doc, const char *expr, const char *want)
{
	char	*got = xp(doc, expr);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", expr,
	    got, want);
	free(got);
}

/* The current document of the whole collection: the newest n, newest first. */
static void
page_current(struct feed_page *p, struct record **ents, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		ents[i] = recp[NRECS - 1 - i];
	memset(p, 0, sizeof(*p));
	p->title = "Pub\x01" "feed";
	p->subtitle = conf.feed_subtitle;
	p->self_path = "/feed.atom";
	p->alt_path = "/feed.rss";
	p->prev_archive = "/archive/3.atom";
	p->entries = ents;
	p->nentries = n;
}

static xmlDocPtr
render(const struct feed_page *p, enum feed_format fmt)
{
	struct feed_conf fc;
	struct buf	 out;
	struct err	 e;
	xmlDocPtr	 doc;

	feed_conf_init(&fc, &conf);
	buf_init(&out, 1 << 24);
	err_init(&e);
	ck_assert_msg(feed_render(&fc, p, fmt, &out, &e) == 0, "%s", e.msg);
	ck_assert_msg(strstr(out.data, "\x01") == NULL, "control char kept");
	doc = parse(out.data, out.len);
	buf_release(&out);
	err_release(&e);
	return doc;
}

/* Tests */

START_TEST(test_atom_current)
{
	struct record	*ents[NRECS];
	struct feed_page p;
	xmlDocPtr	 d;

	page_current(&p, ents, NRECS);
	d = render(&p, FEED_ATOM);
	assert_atom_valid(d, "current page");
	xp_eq(d, "string(/a:feed/@xml:lang)", "en");
	xp_eq(d, "/a:feed/a:id", TAG "feed");
	xp_eq(d, "/a:feed/a:title", "Pubfeed");
	xp_eq(d, "/a:feed/a:subtitle", "Reports, æøå and кирилица");
	/* the newest updated of any entry (rec-4), not the first entry's */
	xp_eq(d, "/a:feed/a:updated", "2020-01-02T03:04:05Z");
	xp_eq(d, "/a:feed/a:author/a:name", "Institutt for æøå");
	xp_eq(d, "/a:feed/a:author/a:email", "pubs@example.org");
	xp_eq(d, "/a:feed/a:generator", "pubfeed");
	xp_eq(d, "/a:feed/a:icon", BASE "/favicon.ico");
	xp_eq(d, "/a:feed/a:rights", "CC BY 4.0");
	xp_eq(d, "/a:feed/a:link[@rel='self']/@href", BASE "/feed.atom");
	xp_eq(d, "/a:feed/a:link[@rel='self']/@type", "application/atom+xml");
	xp_eq(d, "/a:feed/a:link[@rel='alternate'][@type='text/html']/@href",
	    BASE "/");
	/* alternate is the web site alone: no RSS twin a reader would open */
	xp_eq(d, "count(/a:feed/a:link[@rel='alternate'])", "1");
	xp_eq(d, "count(/a:feed/a:link[@type='application/rss+xml'])", "0");
	xp_eq(d, "/a:feed/a:link[@rel='prev-archive']/@href",
	    BASE "/archive/3.atom");
	xp_eq(d, "count(/a:feed/a:link[@rel='next-archive'])", "0");
	xp_eq(d, "count(/a:feed/fh:archive)", "0");
	xp_eq(d, "count(/a:feed/a:entry)", "7");
	xp_eq(d, "/a:feed/a:entry[1]/a:id", TAG "record/rec-6");
	xp_eq(d, "/a:feed/a:entry[1]/@xml:lang", "nb");
	xp_eq(d, "/a:feed/a:entry[1]/a:title", "Rapport om æøå 6");
	xp_eq(d, "count(/a:feed/a:entry[1]/a:title/@xml:lang)", "0");
	xp_eq(d, "/a:feed/a:entry[1]/a:published", "2019-05-16T00:00:00Z");
	xp_eq(d, "/a:feed/a:entry[1]/a:updated", "2019-05-17T00:00:00Z");
	xp_eq(d, "/a:feed/a:entry[1]/a:summary", "Sammendrag på norsk.");
	xp_eq(d, "/a:feed/a:entry[1]/a:summary/@type", "text");
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='alternate']/@href",
	    BASE "/p/1");
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='alternate']/@type",
	    "text/html");
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='enclosure']/@length",
	    "12345");
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='enclosure']/@type",
	    "application/pdf");
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='enclosure']/@href",
	    BASE "/p/1.pdf");
	xp_eq(d, "count(/a:feed/a:entry[1]/a:author)", "2");
	xp_eq(d, "/a:feed/a:entry[1]/a:author[1]/a:name", "Иван Петров");
	xp_eq(d, "/a:feed/a:entry[1]/a:author[1]/a:uri",
	    "https://orcid.org/0000-0002-1825-0097");
	xp_eq(d, "/a:feed/a:entry[1]/a:author[2]/a:name", "Søk AS");
	/* personal e-mail stays private unless publish-emails is on */
	xp_eq(d, "count(//a:entry//a:email)", "0");
	xp_eq(d, "/a:feed/a:entry[1]/a:category[@scheme='" LISTSETS
	    "']/@term", "region:bulgaria");
	xp_eq(d, "/a:feed/a:entry[1]/a:category[@scheme='" LISTSETS
	    "']/@label", "България");
	xp_eq(d, "/a:feed/a:entry[1]/a:category[not(@scheme)]/@term",
	    "report");
	xp_eq(d, "count(//a:category[contains(@scheme, '/sets/') or "
	    "contains(@scheme, '/types/')])", "0");
	/* rec-5: an event, in Bulgarian */
	xp_eq(d, "/a:feed/a:entry[2]/a:title", "Доклад за България 5");
	xp_eq(d, "/a:feed/a:entry[2]/@xml:lang", "bg");
	xp_eq(d, "/a:feed/a:entry[2]/a:summary",
	    "2019-06-01 – 2019-06-03, София (BG). Резюме.");
	xp_eq(d, "/a:feed/a:entry[2]/ev:startdate", "2019-06-01");
	xp_eq(d, "/a:feed/a:entry[2]/ev:enddate", "2019-06-03");
	xp_eq(d, "/a:feed/a:entry[2]/ev:location", "София (BG)");
	xp_eq(d, "count(/a:feed/a:entry[2]/ev:organizer)", "2");
	xp_eq(d, "/a:feed/a:entry[2]/ev:organizer[2]", "Søk AS");
	xp_eq(d, "count(//*[namespace-uri()='https://pubfeed.org/ns/feed/1'])",
	    "0");
	xp_eq(d, "/a:feed/a:entry[2]/a:category[not(@scheme)]/@term",
	    "event");
	/* rec-4: updated is the datestamp; rec-3 relies on the feed author */
	xp_eq(d, "/a:feed/a:entry[3]/a:updated", "2020-01-02T03:04:05Z");
	xp_eq(d, "/a:feed/a:entry[4]/a:id", TAG "record/rec-3");
	xp_eq(d, "count(/a:feed/a:entry[4]/a:author)", "0");
	xmlFreeDoc(d);
}
END_TEST

START_TEST(test_atom_empty)
{
	struct feed_page p;
	xmlDocPtr	 d;

	page_current(&p, NULL, 0);
	p.prev_archive = NULL;
	p.set_spec = "region:bulgaria";
	d = render(&p, FEED_ATOM);
	assert_atom_valid(d, "empty page");
	xp_eq(d, "/a:feed/a:id", TAG "set/region:bulgaria");
	xp_eq(d, "/a:feed/a:updated", "1970-01-01T00:00:00Z");
	xp_eq(d, "count(/a:feed/a:author)", "1");
	xp_eq(d, "count(/a:feed/a:entry)", "0");
	xp_eq(d, "count(/a:feed/a:link[@rel='prev-archive'])", "0");
	xmlFreeDoc(d);
}
END_TEST

START_TEST(test_rss)
{
	struct record	*ents[NRECS];
	struct feed_page p;
	xmlDocPtr	 d;

	page_current(&p, ents, NRECS);
	p.self_path = "/feed.rss";
	p.alt_path = "/feed.atom";
	p.prev_archive = "/archive/3.rss";
	d = render(&p, FEED_RSS);
	xp_eq(d, "/rss/@version", "2.0");
	xp_eq(d, "/rss/channel/title", "Pubfeed");
	xp_eq(d, "/rss/channel/link", BASE "/");
	xp_eq(d, "/rss/channel/description", "Reports, æøå and кирилица");
	xp_eq(d, "/rss/channel/language", "en");
	xp_eq(d, "/rss/channel/lastBuildDate", "Thu, 02 Jan 2020 03:04:05 GMT");
	xp_eq(d, "/rss/channel/generator", "pubfeed " PUBFEED_VERSION);
	xp_eq(d, "/rss/channel/a:link[@rel='self']/@href", BASE "/feed.rss");
	xp_eq(d, "/rss/channel/a:link[@rel='self']/@type",
	    "application/rss+xml");
	xp_eq(d, "/rss/channel/a:link[@rel='prev-archive']/@href",
	    BASE "/archive/3.rss");
	xp_eq(d, "count(/rss/channel/a:link[@rel='hub'])", "0");
	xp_eq(d, "count(/rss/channel/item)", "7");
	xp_eq(d, "/rss/channel/item[1]/title", "Rapport om æøå 6");
	xp_eq(d, "/rss/channel/item[1]/link", BASE "/p/1");
	xp_eq(d, "/rss/channel/item[1]/description", "Sammendrag på norsk.");
	xp_eq(d, "/rss/channel/item[1]/guid", TAG "record/rec-6");
	xp_eq(d, "/rss/channel/item[1]/guid/@isPermaLink", "false");
	xp_eq(d, "/rss/channel/item[1]/pubDate",
	    "Thu, 16 May 2019 00:00:00 GMT");
	xp_eq(d, "count(/rss/channel/item[1]/dc:creator)", "2");
	xp_eq(d, "/rss/channel/item[1]/dc:creator[2]", "Søk AS");
	xp_eq(d, "count(//item/author)", "0");
	/* the set's label; the taxonomy is ListSets, which pubfeed serves */
	xp_eq(d, "/rss/channel/item[1]/category[@domain='" LISTSETS "']",
	    "България");
	xp_eq(d, "/rss/channel/item[1]/category[not(@domain)]", "report");
	xp_eq(d, "count(/rss/channel/item[1]/enclosure)", "1");
	xp_eq(d, "/rss/channel/item[1]/enclosure/@url", BASE "/p/1.pdf");
	xp_eq(d, "/rss/channel/item[1]/enclosure/@length", "12345");
	xp_eq(d, "/rss/channel/item[1]/enclosure/@type", "application/pdf");
	xp_eq(d, "/rss/channel/item[2]/ev:startdate", "2019-06-01");
	xp_eq(d, "/rss/channel/item[2]/ev:enddate", "2019-06-03");
	xp_eq(d, "/rss/channel/item[2]/ev:location", "София (BG)");
	xp_eq(d, "count(/rss/channel/item[4]/author)", "0");
	xp_eq(d, "count(/rss/channel/item[4]/dc:creator)", "0");
	xmlFreeDoc(d);
}
END_TEST

START_TEST(test_publish_emails)
{
	struct record	*ents[NRECS];
	struct feed_page p;
	xmlDocPtr	 d;

	conf.publish_emails = 1;
	page_current(&p, ents, NRECS);
	d = render(&p, FEED_ATOM);
	assert_atom_valid(d, "publish-emails yes");
	xp_eq(d, "/a:feed/a:entry[1]/a:author[1]/a:email", "ivan@example.org");
	xmlFreeDoc(d);
	p.self_path = "/feed.rss";
	d = render(&p, FEED_RSS);
	xp_eq(d, "/rss/channel/item[1]/author",
	    "ivan@example.org (Иван Петров)");
	xmlFreeDoc(d);
	conf.publish_emails = 0;
}
END_TEST

/*
 * updated: the record's modified; else issued when the datestamp is the
 * collection's first sighting; else the datestamp; never before issued.
 * pubDate is issued whatever updated says.
 */
START_TEST(test_entry_dates)
{
	struct record	*ents[NRECS];
	struct feed_page p;
	xmlDocPtr	 d;

	page_current(&p, ents, NRECS);
	p.first_seen = date_from_civil(2024, 3, 1, 12, 0, 0);
	recs[6].datestamp = p.first_seen;	/* there at the first start */
	recs[5].datestamp = p.first_seen;
	recs[5].modified = (struct date){ date_from_civil(2019, 7, 1,
	    0, 0, 0), DATE_DAY };		/* its own modified wins */
	recs[4].datestamp = p.first_seen + 60;	/* changed since */
	recs[3].datestamp = p.first_seen;
	recs[3].modified = (struct date){ date_from_civil(2001, 1, 1,
	    0, 0, 0), DATE_DAY };		/* before issued: issued */
	d = render(&p, FEED_ATOM);
	xp_eq(d, "/a:feed/a:entry[1]/a:updated", "2019-05-16T00:00:00Z");
	xp_eq(d, "/a:feed/a:entry[2]/a:updated", "2019-07-01T00:00:00Z");
	xp_eq(d, "/a:feed/a:entry[3]/a:updated", "2024-03-01T12:01:00Z");
	xp_eq(d, "/a:feed/a:entry[4]/a:updated", "2019-05-13T00:00:00Z");
	xp_eq(d, "/a:feed/a:entry[4]/a:published", "2019-05-13T00:00:00Z");
	/* the feed's updated is its newest entry's */
	xp_eq(d, "/a:feed/a:updated", "2024-03-01T12:01:00Z");
	xmlFreeDoc(d);
	p.self_path = "/feed.rss";
	d = render(&p, FEED_RSS);
	xp_eq(d, "/rss/channel/item[2]/pubDate",
	    "Wed, 15 May 2019 00:00:00 GMT");
	xp_eq(d, "/rss/channel/lastBuildDate", "Fri, 01 Mar 2024 12:01:00 GMT");
	xmlFreeDoc(d);
}
END_TEST

static const struct {
	const char	*auth;
	const char	*base;
	const char	*what;
	const char	*id;
	const char	*want;
} tag_cases[] = {
	{ "a.org,2024", BASE, "record", "x-1", "tag:a.org,2024:record/x-1" },
	{ "a.org,2024", BASE, "feed", NULL, "tag:a.org,2024:feed" },
	{ "a.org,2024", BASE, "set", "r:b", "tag:a.org,2024:set/r:b" },
	{ NULL, "https://h.example:8080/x", "feed", NULL,
	    "tag:h.example,2000:feed" },
};

/* The bytes feed_render() gives for p in fmt (caller frees). */
static char *
render_raw(const struct feed_page *p, enum feed_format fmt)
{
	struct feed_conf fc;
	struct buf	 out;
	struct err	 e;
	char		*s;

	feed_conf_init(&fc, &conf);
	buf_init(&out, 1 << 24);
	err_init(&e);
	ck_assert_msg(feed_render(&fc, p, fmt, &out, &e) == 0, "%s", e.msg);
	ck_assert_msg(strstr(out.data, "\x01") == NULL, "control char kept");
	s = strdup(out.data);
	buf_release(&out);
	err_release(&e);
	return s;
}

static const char *
js(json_t *o, const char *path)
{
	json_t	*v = o;
	char	 key[64];
	const char *p = path, *dot;

	while (v != NULL && *p != '\0') {
		dot = strchr(p, '.');
		snprintf(key, sizeof(key), "%.*s", dot != NULL ?
		    (int)(dot - p) : (int)strlen(p), p);
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		p = dot != NULL ? dot + 1 : p + strlen(p);
	}
	ck_assert_msg(json_is_string(v), "%s: not a string", path);
	return json_string_value(v);
}

START_TEST(test_json)
{
	struct record	*ents[NRECS];
	struct feed_page p;
	json_error_t	 je;
	json_t		*f, *it;
	char		*s;

	page_current(&p, ents, NRECS);
	p.self_path = "/feed.json";
	s = render_raw(&p, FEED_JSON);
	ck_assert_msg((f = json_loads(s, 0, &je)) != NULL, "%s", je.text);
	ck_assert_str_eq(js(f, "version"), "https://jsonfeed.org/version/1.1");
	/* the control character goes, as in Atom */
	ck_assert_str_eq(js(f, "title"), "Pubfeed");
	ck_assert_str_eq(js(f, "feed_url"), BASE "/feed.json");
	ck_assert_str_eq(js(f, "home_page_url"), BASE "/");
	ck_assert_str_eq(js(f, "language"), "en");
	ck_assert_str_eq(js(f, "authors.0.name"), "Institutt for æøå");
	ck_assert_uint_eq(json_array_size(json_object_get(f, "items")), 7);
	ck_assert_str_eq(js(f, "items.0.id"), TAG "record/rec-6");
	ck_assert_str_eq(js(f, "items.0.url"), BASE "/p/1");
	ck_assert_str_eq(js(f, "items.0.language"), "nb");
	ck_assert_str_eq(js(f, "items.0.date_published"),
	    "2019-05-16T00:00:00Z");
	ck_assert_str_eq(js(f, "items.0.date_modified"),
	    "2019-05-17T00:00:00Z");
	ck_assert_str_eq(js(f, "items.0.content_text"), "Sammendrag på norsk.");
	ck_assert_str_eq(js(f, "items.0.tags.0"), "България");
	ck_assert_str_eq(js(f, "items.0.authors.0.url"),
	    "https://orcid.org/0000-0002-1825-0097");
	ck_assert_ptr_null(strstr(s, "ivan@example.org"));
	ck_assert_str_eq(js(f, "items.0.attachments.0.mime_type"),
	    "application/pdf");
	it = json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(f, "items"), 0), "attachments"), 0),
	    "size_in_bytes");
	ck_assert_int_eq(json_integer_value(it), 12345);
	ck_assert_str_eq(js(f, "items.1._event.start"), "2019-06-01");
	ck_assert_str_eq(js(f, "items.1._event.status"), "confirmed");
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(f,
	    "items"), 0), "_event"));
	json_decref(f);
	free(s);
	/* an empty page still has its items */
	page_current(&p, NULL, 0);
	s = render_raw(&p, FEED_JSON);
	f = json_loads(s, 0, &je);
	ck_assert(json_is_array(json_object_get(f, "items")));
	ck_assert_uint_eq(json_array_size(json_object_get(f, "items")), 0);
	json_decref(f);
	free(s);
}
END_TEST

static const char *
ics_prop(icalcomponent *c, icalproperty_kind k)
{
	icalproperty	*p = icalcomponent_get_first_property(c, k);

	ck_assert_msg(p != NULL, "no %s", icalproperty_kind_to_string(k));
	return icalproperty_get_value_as_string(p);
}

/* A TEXT property's value, unescaped. */
static const char *
ics_text(icalcomponent *c, icalproperty_kind k)
{
	icalproperty	*p = icalcomponent_get_first_property(c, k);

	ck_assert_msg(p != NULL, "no %s", icalproperty_kind_to_string(k));
	return icalvalue_get_text(icalproperty_get_value(p));
}

/* Language versions */

static const struct {
	const char	*tag;
	const char	*want;	/* NULL: no feed language */
} lang_cases[] = {
	{ "en", "en" }, { "EN-gb", "en" }, { "bg", "bg" }, { "nb-NO", "nb" },
	{ "no", "nb" }, { "NO-x-bokmal", "nb" }, { "nn", "nn" },
	{ "sgn-BE-FR", "sgn" }, { "x-klingon", NULL }, { "i-navajo", NULL },
	{ "und", NULL }, { "zxx", NULL }, { "mul", NULL }, { "mis", NULL },
	{ "abcd", NULL }, { "e1", NULL }, { "", NULL }, { NULL, NULL },
};

START_TEST(test_lang_norm)
{
	char	 out[FEED_LANG_LEN];
	int	 rc = feed_lang_norm(lang_cases[_i].tag, out);

	if (lang_cases[_i].want == NULL) {
		ck_assert_msg(rc == -1, "%s: got '%s'", lang_cases[_i].tag,
		    out);
		ck_assert_str_eq(out, "");
	} else {
		ck_assert_msg(rc == 0, "%s: refused", lang_cases[_i].tag);
		ck_assert_str_eq(out, lang_cases[_i].want);
	}
}
END_TEST

/*
 * A Bulgarian version of a page: rec-6 (nb) has no Bulgarian title or
 * abstract and keeps its own, marked; tr (rec-4, nb) has a bg-BG title and
 * an abstract tagged "BG" and shows them; rec-5 (bg) is in the feed's
 * language.  The other versions are linked, not the page's own.
 */
static struct record		 tr;
static struct record_text	 tr_titles[2], tr_abs[3];
static const char *const	 all_langs[] = { "bg", "en", "nb" };

static void
page_bg(struct feed_page *p, struct record **ents)
{
	tr = recs[4];
	tr_titles[0] = titles[4][0];
	tr_titles[1] = (struct record_text){ "bg-BG", "Заглавие на български" };
	tr.titles = tr_titles;
	tr.ntitles = 2;
	tr_abs[0] = abstracts[4][0];
	tr_abs[1] = abstracts[4][1];
	tr_abs[2] = (struct record_text){ "BG", "Резюме на български." };
	tr.abstracts = tr_abs;
	tr.nabstracts = 3;
	ents[0] = recp[6];
	ents[1] = recp[5];
	ents[2] = &tr;
	memset(p, 0, sizeof(*p));
	p->title = "Pubfeed (bg)";
	p->set_spec = "region:bulgaria";
	p->self_path = "/lang/bg/sets/region:bulgaria.atom";
	p->alt_path = "/lang/bg/sets/region:bulgaria.rss";
	p->lang = "bg";
	p->langs = all_langs;
	p->nlangs = 3;
	p->entries = ents;
	p->nentries = 3;
}

START_TEST(test_lang_atom)
{
	struct record	*ents[3];
	struct feed_page p;
	xmlDocPtr	 d;

	page_bg(&p, ents);
	d = render(&p, FEED_ATOM);
	assert_atom_valid(d, p.self_path);
	xp_eq(d, "/a:feed/@xml:lang", "bg");
	/* the configured title is not Bulgarian: marked */
	xp_eq(d, "/a:feed/a:title/@xml:lang", "en");
	/* one alternate, the web site; the versions are related */
	xp_eq(d, "count(/a:feed/a:link[@rel='alternate'])", "1");
	xp_eq(d, "/a:feed/a:link[@rel='alternate']/@type", "text/html");
	xp_eq(d, "count(/a:feed/a:link[@rel='related'])", "2");
	xp_eq(d, "/a:feed/a:link[@rel='related'][@hreflang='en']/@href",
	    BASE "/lang/en/sets/region:bulgaria.atom");
	xp_eq(d, "/a:feed/a:link[@rel='related'][@hreflang='nb']/@type",
	    "application/atom+xml");
	xp_eq(d, "count(/a:feed/a:link[@hreflang='bg'])", "0");
	/* rec-6: its own title and abstract, in its own language */
	xp_eq(d, "/a:feed/a:entry[1]/@xml:lang", "nb");
	xp_eq(d, "/a:feed/a:entry[1]/a:title", ttl[6]);
	xp_eq(d, "count(/a:feed/a:entry[1]/a:title/@xml:lang)", "0");
	xp_eq(d, "/a:feed/a:entry[1]/a:summary", "Sammendrag på norsk.");
	xp_eq(d, "count(/a:feed/a:entry[1]/a:summary/@xml:lang)", "0");
	/* rec-5 is Bulgarian: nothing to mark */
	xp_eq(d, "count(/a:feed/a:entry[2]/@xml:lang)", "0");
	xp_eq(d, "/a:feed/a:entry[2]/a:title", ttl[5]);
	/* the translation is taken, with its own tag */
	xp_eq(d, "/a:feed/a:entry[3]/@xml:lang", "nb");
	xp_eq(d, "/a:feed/a:entry[3]/a:title", "Заглавие на български");
	xp_eq(d, "/a:feed/a:entry[3]/a:title/@xml:lang", "bg-BG");
	xp_eq(d, "/a:feed/a:entry[3]/a:summary", "Резюме на български.");
	xp_eq(d, "/a:feed/a:entry[3]/a:summary/@xml:lang", "BG");
	xmlFreeDoc(d);
	/* the record's own language version is unchanged */
	p.lang = NULL;
	d = render(&p, FEED_ATOM);
	xp_eq(d, "/a:feed/@xml:lang", "en");
	xp_eq(d, "count(/a:feed/a:title/@xml:lang)", "0");
	xp_eq(d, "count(/a:feed/a:link[@rel='related'])", "3");
	xp_eq(d, "/a:feed/a:entry[3]/a:title", ttl[4]);
	xp_eq(d, "/a:feed/a:entry[3]/a:summary", "Sammendrag på norsk.");
	xmlFreeDoc(d);
}
END_TEST

/*
 * A record without a landing page of its own: a language version links
 * pubfeed's page in that language when pages exist in it, else the
 * English (x-default) one; a record with its own, that one always.
 */
START_TEST(test_lang_entry_links)
{
	static const struct {
		const char	*lang;
		const char	*want;
	} cases[] = {
		{ "bg", BASE "/bg/records/rec-6.html" },
		{ "nb", BASE "/nb/records/rec-6.html" },
		{ "de", BASE "/records/rec-6.html" },
		{ NULL, BASE "/records/rec-6.html" },
	};
	struct record	*ents[3];
	struct feed_page p;
	xmlDocPtr	 d;
	json_error_t	 je;
	json_t		*f;
	char		*s;
	size_t		 i;

	recs[6].links = &links[6][1];
	recs[6].nlinks = 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		page_bg(&p, ents);
		p.lang = cases[i].lang;
		d = render(&p, FEED_ATOM);
		xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='alternate']/@href",
		    cases[i].want);
		xp_eq(d, "/a:feed/a:entry[2]/a:link[@rel='alternate']/@href",
		    BASE "/p/1");
		xmlFreeDoc(d);
		d = render(&p, FEED_RSS);
		xp_eq(d, "/rss/channel/item[1]/link", cases[i].want);
		xp_eq(d, "/rss/channel/item[2]/link", BASE "/p/1");
		xmlFreeDoc(d);
		s = render_raw(&p, FEED_JSON);
		ck_assert_msg((f = json_loads(s, 0, &je)) != NULL, "%s",
		    je.text);
		ck_assert_str_eq(js(f, "items.0.url"), cases[i].want);
		ck_assert_str_eq(js(f, "items.1.url"), BASE "/p/1");
		json_decref(f);
		free(s);
	}
}
END_TEST

START_TEST(test_lang_rss)
{
	struct record	*ents[3];
	struct feed_page p;
	xmlDocPtr	 d;

	page_bg(&p, ents);
	p.self_path = "/lang/bg/sets/region:bulgaria.rss";
	p.alt_path = "/lang/bg/sets/region:bulgaria.atom";
	d = render(&p, FEED_RSS);
	xp_eq(d, "/rss/channel/language", "bg");
	xp_eq(d, "/rss/channel/a:link[@rel='alternate']/@href",
	    BASE "/lang/bg/sets/region:bulgaria.atom");
	xp_eq(d, "count(/rss/channel/a:link[@rel='related'])", "2");
	xp_eq(d, "/rss/channel/a:link[@rel='related'][@hreflang='nb']/@href",
	    BASE "/lang/nb/sets/region:bulgaria.rss");
	xp_eq(d, "/rss/channel/item[1]/@xml:lang", "nb");
	xp_eq(d, "/rss/channel/item[1]/title", ttl[6]);
	xp_eq(d, "count(/rss/channel/item[1]/title/@xml:lang)", "0");
	xp_eq(d, "count(/rss/channel/item[2]/@xml:lang)", "0");
	xp_eq(d, "/rss/channel/item[3]/title", "Заглавие на български");
	xp_eq(d, "/rss/channel/item[3]/title/@xml:lang", "bg-BG");
	xp_eq(d, "/rss/channel/item[3]/description", "Резюме на български.");
	xp_eq(d, "/rss/channel/item[3]/description/@xml:lang", "BG");
	xmlFreeDoc(d);
}
END_TEST

START_TEST(test_lang_json)
{
	struct record	*ents[3];
	struct feed_page p;
	json_error_t	 je;
	json_t		*f;
	char		*s;

	page_bg(&p, ents);
	p.self_path = "/lang/bg/sets/region:bulgaria.json";
	s = render_raw(&p, FEED_JSON);
	ck_assert_msg((f = json_loads(s, 0, &je)) != NULL, "%s", je.text);
	ck_assert_str_eq(js(f, "language"), "bg");
	ck_assert_uint_eq(json_array_size(json_object_get(f, "_languages")),
	    2);
	ck_assert_str_eq(js(f, "_languages.0.language"), "en");
	ck_assert_str_eq(js(f, "_languages.1.feed_url"),
	    BASE "/lang/nb/sets/region:bulgaria.json");
	ck_assert_str_eq(js(f, "items.0.title"), ttl[6]);
	ck_assert_str_eq(js(f, "items.0.language"), "nb");
	ck_assert_str_eq(js(f, "items.0.summary"), "Sammendrag på norsk.");
	ck_assert_str_eq(js(f, "items.2.title"), "Заглавие на български");
	ck_assert_str_eq(js(f, "items.2.language"), "bg-BG");
	ck_assert_str_eq(js(f, "items.2.summary"), "Резюме на български.");
	ck_assert_str_eq(js(f, "items.2.content_text"),
	    "Резюме на български.");
	json_decref(f);
	free(s);
}
END_TEST

START_TEST(test_ics)
{
	struct record	*ents[NRECS];
	struct feed_page p;
	icalcomponent	*cal, *ve, *tz;
	xmlDocPtr	 d;
	char		*s;
	int		 n = 0;

	page_current(&p, ents, NRECS);
	p.self_path = "/feed.ics";
	s = render_raw(&p, FEED_ICS);
	ck_assert_ptr_nonnull(strstr(s, "\r\nX-WR-CALNAME:Pubfeed\r\n"));
	ck_assert_msg((cal = icalparser_parse_string(s)) != NULL, "%s", s);
	/* one VEVENT: rec-5 is the only event of the page; day-only */
	for (ve = icalcomponent_get_first_component(cal,
	    ICAL_VEVENT_COMPONENT); ve != NULL;
	    ve = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		n++;
	ck_assert_int_eq(n, 1);
	ve = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	ck_assert_str_eq(ics_text(ve, ICAL_UID_PROPERTY), TAG "record/rec-5");
	ck_assert_str_eq(ics_prop(ve, ICAL_DTSTART_PROPERTY), "20190601");
	/* the end is exclusive: the 3rd lasts all day */
	ck_assert_str_eq(ics_prop(ve, ICAL_DTEND_PROPERTY), "20190604");
	ck_assert_str_eq(ics_prop(ve, ICAL_DTSTAMP_PROPERTY),
	    "20190516T000000Z");
	ck_assert_str_eq(ics_prop(ve, ICAL_LASTMODIFIED_PROPERTY),
	    "20190516T000000Z");
	/* seconds from 2000-01-01 to the datestamp, 2019-05-16 */
	ck_assert_str_eq(ics_prop(ve, ICAL_SEQUENCE_PROPERTY), "611280000");
	ck_assert_str_eq(ics_prop(ve, ICAL_STATUS_PROPERTY), "CONFIRMED");
	ck_assert_str_eq(ics_text(ve, ICAL_LOCATION_PROPERTY), "София, BG");
	ck_assert_str_eq(ics_text(ve, ICAL_CATEGORIES_PROPERTY), "България");
	ck_assert_ptr_null(icalcomponent_get_first_component(cal,
	    ICAL_VTIMEZONE_COMPONENT));
	icalcomponent_free(cal);
	free(s);

	/* timed, in Europe/Oslo, cancelled */
	event.start = (struct date){ date_from_civil(2027, 6, 10, 7, 0, 0),
	    DATE_SECOND };
	event.end = (struct date){ date_from_civil(2027, 6, 10, 9, 30, 0),
	    DATE_SECOND };
	event.timezone = "Europe/Oslo";
	event.status = RECORD_EVENT_CANCELLED;
	s = render_raw(&p, FEED_ICS);
	ck_assert_ptr_nonnull(strstr(s,
	    "\r\nDTSTART;TZID=Europe/Oslo:20270610T090000\r\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "\r\nDTEND;TZID=Europe/Oslo:20270610T113000\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\nSTATUS:CANCELLED\r\n"));
	/* the feeds' summaries say the same local time, with the zone */
	d = render(&p, FEED_ATOM);
	xp_eq(d, "/a:feed/a:entry[2]/a:summary",
	    "2027-06-10 09:00\xe2\x80\x93" "11:30 Europe/Oslo, София (BG). "
	    "Резюме.");
	xmlFreeDoc(d);
	cal = icalparser_parse_string(s);
	tz = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
	ck_assert_ptr_nonnull(tz);
	ck_assert_str_eq(ics_text(tz, ICAL_TZID_PROPERTY), "Europe/Oslo");
	icalcomponent_free(cal);
	free(s);

	/* a timed start with a day-only end: until that day's end, local */
	event.end = (struct date){ date_from_civil(2027, 6, 11, 0, 0, 0),
	    DATE_DAY };
	s = render_raw(&p, FEED_ICS);
	ck_assert_ptr_nonnull(strstr(s,
	    "\r\nDTEND;TZID=Europe/Oslo:20270612T000000\r\n"));
	free(s);
	/* no end: no DTEND */
	event.end = event.start;
	event.timezone = NULL;
	s = render_raw(&p, FEED_ICS);
	ck_assert_ptr_nonnull(strstr(s, "\r\nDTSTART:20270610T070000Z\r\n"));
	d = render(&p, FEED_ATOM);
	xp_eq(d, "/a:feed/a:entry[2]/a:summary",
	    "2027-06-10 07:00 UTC, София (BG). Резюме.");
	xmlFreeDoc(d);
	ck_assert_ptr_null(strstr(s, "DTEND"));
	free(s);
}
END_TEST

START_TEST(test_tag_id)
{
	struct conf	 c = conf;
	struct feed_conf fc;
	struct buf	 b;

	c.tag_authority = (char *)tag_cases[_i].auth;
	c.base_url = (char *)tag_cases[_i].base;
	feed_conf_init(&fc, &c);
	buf_init(&b, 1024);
	ck_assert_int_eq(feed_tag_id(&fc, tag_cases[_i].what, tag_cases[_i].id,
	    &b), 0);
	ck_assert_str_eq(b.data, tag_cases[_i].want);
	buf_release(&b);
}
END_TEST

/*
 * The renderers' key covers every field of struct feed_conf and nothing
 * else of struct conf.  The string and int fields come from the same lists
 * that declare them (FEED_CONF_STRINGS, FEED_CONF_INTS), so a field added
 * there is tested here without editing this file.
 */
static const size_t conf_key_strings[] = {
#define OFF(f)	offsetof(struct conf, f),
	FEED_CONF_STRINGS(OFF)
#undef OFF
};
static const size_t conf_key_ints[] = {
#define OFF(f)	offsetof(struct conf, f),
	FEED_CONF_INTS(OFF)
#undef OFF
};

static struct conf_target key_targets[] = {
	{ CONF_TARGET_WEBSUB, "https://hub.example.org/", NULL },
	{ CONF_TARGET_PING_POST, "https://ping.example.org/", "u={feed}" },
};

static void
conf_key(const struct conf *c, unsigned char key[HASH_LEN])
{
	struct feed_conf	 fc;

	feed_conf_init(&fc, c);
	memcpy(key, fc.key, HASH_LEN);
}

static struct conf
key_base(void)
{
	struct conf	 c = conf;

	c.targets = key_targets;
	c.ntargets = 2;
	return c;
}

static void
assert_key_differs(const struct conf *c, const char *what)
{
	struct conf	 base = key_base();
	unsigned char	 a[HASH_LEN], b[HASH_LEN];

	conf_key(&base, a);
	conf_key(c, b);
	ck_assert_msg(memcmp(a, b, HASH_LEN) != 0, "%s: key unchanged", what);
}

START_TEST(test_key_string_field)
{
	struct conf	 c = key_base();
	char		**f = (char **)((char *)&c + conf_key_strings[_i]);

	const char	*was = *f;

	*f = "changed";
	assert_key_differs(&c, "string field");
	/* NULL and "" are different values too */
	*f = was == NULL ? "" : NULL;
	assert_key_differs(&c, "string field NULL/empty");
}
END_TEST

START_TEST(test_key_int_field)
{
	struct conf	 c = key_base();
	int		*f = (int *)((char *)&c + conf_key_ints[_i]);

	*f += 1;
	assert_key_differs(&c, "int field");
}
END_TEST

START_TEST(test_key_arrays)
{
	struct conf_set		 sets[2];
	struct conf_target	 tg[2];
	struct conf		 c;
	int			 i;

	for (i = 0; i < 3; i++) {
		c = key_base();
		memcpy(sets, conf_sets, sizeof(sets));
		c.sets = sets;
		if (i == 0)
			sets[1].spec = "region:norway";
		else if (i == 1)
			sets[1].name = "Bulgaria";
		else
			sets[0].description = "Every region";
		assert_key_differs(&c, "set");
	}
	c = key_base();
	c.nsets = 1;
	assert_key_differs(&c, "nsets");
	for (i = 0; i < 3; i++) {
		c = key_base();
		memcpy(tg, key_targets, sizeof(tg));
		c.targets = tg;
		if (i == 0)
			tg[0].url = "https://other-hub.example.org/";
		else if (i == 1)
			tg[1].kind = CONF_TARGET_PING_GET;
		else
			tg[1].body = "v={feed}";
		assert_key_differs(&c, "target");
	}
	c = key_base();
	c.ntargets = 1;
	assert_key_differs(&c, "ntargets");
}
END_TEST

/* What no feed renderer reads leaves the key alone. */
START_TEST(test_key_unrelated)
{
	static char	*other_admins[] = { "other@example.org", "x@y.org" };
	struct conf	 base = key_base(), c = base;
	unsigned char	 a[HASH_LEN], b[HASH_LEN];

	c.path = "/elsewhere.conf";
	c.admin_emails = other_admins;
	c.nadmin_emails = 2;
	c.records_dir = "/srv/records";
	c.state_dir = "/var/lib/x";
	c.max_record_bytes = 12345;
	c.listen_addr = "0.0.0.0";
	c.listen_port = 9999;
	c.threads = 7;
	c.max_age = 1;
	c.access_log = 1;
	c.oai_namespace = "other.example.org";
	c.oai_page_size = 3;
	c.oai_token_key = "secret";
	c.debounce_ms = 5;
	c.rescan_interval = 6;
	c.notify_timeout = 7;
	c.notify_max_attempts = 8;
	c.notify_backoff_max = 9;
	conf_key(&base, a);
	conf_key(&c, b);
	ck_assert(memcmp(a, b, HASH_LEN) == 0);
}
END_TEST

/* Snapshot-level tests: feed_build() with the real snap.c. */

static struct snap *
build(struct record **rv, size_t n, const struct snap *prev)
{
	struct snap	*s;
	struct err	 e;

	err_init(&e);
	s = snap_new(&conf, rv, n, NULL, 0, &e);
	ck_assert_msg(s != NULL, "snap_new: %s", e.msg);
	ck_assert_msg(feed_build(s, prev, &e) == 0, "feed_build: %s", e.msg);
	snap_seal(s);
	err_release(&e);
	return s;
}

static xmlDocPtr
doc_at(const struct snap *s, const char *path, const char *type)
{
	const struct snap_doc	*d = snap_doc_find(s, path);
	xmlDocPtr		 x;

	ck_assert_msg(d != NULL, "no document at %s", path);
	ck_assert_str_eq(d->content_type, type);
	x = parse(d->body, d->len);
	return x;
}

static void
check_archive(const struct snap *s, const char *path, const char *prev,
    const char *next, const char *first, const char *second)
{
	xmlDocPtr	 d = doc_at(s, path, FEED_ATOM_TYPE);
	char		 self[256];

	snprintf(self, sizeof(self), "%s%s", BASE, path);
	assert_atom_valid(d, path);
	xp_eq(d, "/a:feed/a:id", TAG "feed");
	xp_eq(d, "count(/a:feed/fh:archive)", "1");
	xp_eq(d, "/a:feed/a:link[@rel='self']/@href", self);
	xp_eq(d, "/a:feed/a:link[@rel='current']/@href", BASE "/feed.atom");
	xp_eq(d, "string(/a:feed/a:link[@rel='prev-archive']/@href)", prev);
	xp_eq(d, "/a:feed/a:link[@rel='next-archive']/@href", next);
	xp_eq(d, "count(/a:feed/a:entry)", "2");
	xp_eq(d, "/a:feed/a:entry[1]/a:id", first);
	xp_eq(d, "/a:feed/a:entry[2]/a:id", second);
	xmlFreeDoc(d);
}

START_TEST(test_archives)
{
	struct snap	*s;
	xmlDocPtr	 d;

	s = build(recp, NRECS, NULL);
	d = doc_at(s, "/feed.atom", FEED_ATOM_TYPE);
	assert_atom_valid(d, "/feed.atom");
	xp_eq(d, "/a:feed/a:link[@rel='prev-archive']/@href",
	    BASE "/archive/3.atom");
	xp_eq(d, "count(/a:feed/a:link[@rel='next-archive'])", "0");
	xp_eq(d, "count(/a:feed/a:link[@rel='current'])", "0");
	xp_eq(d, "count(/a:feed/fh:archive)", "0");
	xp_eq(d, "count(/a:feed/a:entry)", "2");
	xp_eq(d, "/a:feed/a:entry[1]/a:id", TAG "record/rec-6");
	xmlFreeDoc(d);
	ck_assert_int_eq(snap_doc_find(s, "/feed.atom")->last_modified,
	    recs[6].datestamp);
	check_archive(s, "/archive/1.atom", "", BASE "/archive/2.atom",
	    TAG "record/rec-1", TAG "record/rec-0");
	check_archive(s, "/archive/2.atom", BASE "/archive/1.atom",
	    BASE "/archive/3.atom", TAG "record/rec-3", TAG "record/rec-2");
	check_archive(s, "/archive/3.atom", BASE "/archive/2.atom",
	    BASE "/feed.atom", TAG "record/rec-5", TAG "record/rec-4");
	ck_assert_ptr_null(snap_doc_find(s, "/archive/4.atom"));
	ck_assert_ptr_null(snap_doc_find(s, "/archive/0.atom"));

	d = doc_at(s, "/archive/2.rss", FEED_RSS_TYPE);
	xp_eq(d, "count(/rss/channel/fh:archive)", "1");
	xp_eq(d, "/rss/channel/a:link[@rel='self']/@href",
	    BASE "/archive/2.rss");
	xp_eq(d, "/rss/channel/a:link[@rel='prev-archive']/@href",
	    BASE "/archive/1.rss");
	xp_eq(d, "/rss/channel/a:link[@rel='next-archive']/@href",
	    BASE "/archive/3.rss");
	xp_eq(d, "/rss/channel/a:link[@rel='current']/@href",
	    BASE "/feed.rss");
	xmlFreeDoc(d);

	d = doc_at(s, "/sets/region:bulgaria/archive/3.atom", FEED_ATOM_TYPE);
	assert_atom_valid(d, "set archive");
	xp_eq(d, "/a:feed/a:id", TAG "set/region:bulgaria");
	xp_eq(d, "/a:feed/a:title", "Pubfeed ÆØÅ: България");
	xp_eq(d, "/a:feed/a:subtitle", "Публикации за България");
	xp_eq(d, "/a:feed/a:link[@rel='current']/@href",
	    BASE "/sets/region:bulgaria.atom");
	xmlFreeDoc(d);
	d = doc_at(s, "/sets/region.rss", FEED_RSS_TYPE);
	xp_eq(d, "count(/rss/channel/item)", "2");
	xp_eq(d, "/rss/channel/a:link[@rel='prev-archive']/@href",
	    BASE "/sets/region/archive/3.rss");
	xmlFreeDoc(d);
	ck_assert_ptr_nonnull(snap_doc_find(s, "/"));
	snap_release(s);
}
END_TEST

/*
 * A collection whose records pubfeed all saw at its first start: no entry
 * says that moment; a record added or changed later says when.  The first
 * sighting is the snapshot's earliest datestamp, so when it moves (the last
 * record stamped at the first start changed) the pages are rendered again,
 * archives too, exactly as a fresh build renders them.
 */
START_TEST(test_first_start_dates)
{
	struct snap		*s1, *s2, *s3, *fresh;
	struct record		 chg[NRECS];
	struct record		*rv[NRECS];
	const struct snap_doc	*a, *b;
	xmlDocPtr		 d;
	int64_t			 t0 = date_from_civil(2024, 3, 1, 12, 0, 0);
	size_t			 i;

	for (i = 0; i < NRECS; i++)
		recs[i].datestamp = t0;
	recs[1].datestamp = t0 + 7200;		/* added later */
	s1 = build(recp, NRECS, NULL);
	d = doc_at(s1, "/feed.atom", FEED_ATOM_TYPE);
	xp_eq(d, "/a:feed/a:entry[1]/a:updated", "2019-05-16T00:00:00Z");
	xp_eq(d, "count(//a:updated[.='2024-03-01T12:00:00Z'])", "0");
	xmlFreeDoc(d);
	d = doc_at(s1, "/archive/1.atom", FEED_ATOM_TYPE);
	xp_eq(d, "/a:feed/a:entry[1]/a:updated", "2024-03-01T14:00:00Z");
	xp_eq(d, "/a:feed/a:entry[2]/a:updated", "2019-05-10T00:00:00Z");
	xmlFreeDoc(d);
	/* Last-Modified still says when pubfeed saw the bytes change */
	ck_assert_int_eq(snap_doc_find(s1, "/feed.atom")->last_modified, t0);

	/* rec-2..6 change: they say so; rec-0 still says issued */
	memcpy(rv, recp, sizeof(rv));
	for (i = 2; i < NRECS; i++) {
		chg[i] = recs[i];
		chg[i].datestamp = t0 + 3600;
		chg[i].hash[0] ^= 1;
		rv[i] = &chg[i];
	}
	s2 = build(rv, NRECS, s1);
	d = doc_at(s2, "/archive/2.atom", FEED_ATOM_TYPE);
	xp_eq(d, "/a:feed/a:entry[1]/a:updated", "2024-03-01T13:00:00Z");
	xmlFreeDoc(d);
	d = doc_at(s2, "/archive/1.atom", FEED_ATOM_TYPE);
	xp_eq(d, "/a:feed/a:entry[2]/a:updated", "2019-05-10T00:00:00Z");
	xmlFreeDoc(d);

	/* rec-0 changes too: the first sighting moves, archive 2 follows */
	chg[0] = recs[0];
	chg[0].datestamp = t0 + 5400;
	chg[0].hash[0] ^= 1;
	rv[0] = &chg[0];
	s3 = build(rv, NRECS, s2);
	fresh = build(rv, NRECS, NULL);
	a = snap_doc_find(s3, "/archive/2.atom");
	b = snap_doc_find(fresh, "/archive/2.atom");
	ck_assert_ptr_ne(a, snap_doc_find(s2, "/archive/2.atom"));
	ck_assert_uint_eq(a->len, b->len);
	ck_assert_int_eq(memcmp(a->body, b->body, a->len), 0);
	snap_release(fresh);
	snap_release(s3);
	snap_release(s2);
	snap_release(s1);
}
END_TEST

static const char *const all_paths[] = {
	"/", "/feed.atom", "/feed.rss", "/archive/1.atom", "/archive/3.rss",
	"/sets/region.atom", "/sets/region:bulgaria.rss",
	"/sets/region:bulgaria/archive/2.atom",
};

START_TEST(test_reuse)
{
	struct snap	*s1, *s2, *s3;
	struct record	 changed;
	struct record	*rv[NRECS];
	size_t		 i;

	s1 = build(recp, NRECS, NULL);
	s2 = build(recp, NRECS, s1);
	ck_assert_uint_eq(s1->ndocs, s2->ndocs);
	/* nothing changed: every document is shared, none re-rendered */
	for (i = 0; i < s1->ndocs; i++)
		ck_assert_msg(s2->docs[i] == s1->docs[i], "%s re-rendered",
		    s1->docs[i]->path);
	/* rec-6 changes: the live documents change, full archives do not */
	changed = recs[6];
	changed.datestamp += 3600;
	changed.hash[0] ^= 1;
	memcpy(rv, recp, sizeof(rv));
	rv[6] = &changed;
	s3 = build(rv, NRECS, s2);
	for (i = 0; i < sizeof(all_paths) / sizeof(all_paths[0]); i++)
		ck_assert_ptr_nonnull(snap_doc_find(s3, all_paths[i]));
	ck_assert_ptr_ne(snap_doc_find(s3, "/feed.atom"),
	    snap_doc_find(s2, "/feed.atom"));
	ck_assert_ptr_ne(snap_doc_find(s3, "/feed.rss"),
	    snap_doc_find(s2, "/feed.rss"));
	ck_assert_ptr_ne(snap_doc_find(s3, "/"), snap_doc_find(s2, "/"));
	ck_assert_ptr_ne(snap_doc_find(s3, "/sets/region:bulgaria.atom"),
	    snap_doc_find(s2, "/sets/region:bulgaria.atom"));
	ck_assert_ptr_eq(snap_doc_find(s3, "/archive/3.atom"),
	    snap_doc_find(s2, "/archive/3.atom"));
	ck_assert_ptr_eq(snap_doc_find(s3, "/archive/1.rss"),
	    snap_doc_find(s2, "/archive/1.rss"));
	ck_assert_int_eq(snap_doc_find(s3, "/feed.atom")->last_modified,
	    changed.datestamp);
	snap_release(s3);
	snap_release(s2);
	snap_release(s1);
}
END_TEST

/*
 * Archive pages are rendered on first request: threads asking for the same
 * page at once all get the one document, complete; the next snapshot shares
 * it, and paths that are not archive pages find nothing.
 */
static void *
lazy_get(void *arg)
{
	return (void *)(uintptr_t)snap_doc_find(arg, "/archive/2.atom");
}

START_TEST(test_lazy_once)
{
	struct snap		*s, *s2;
	const struct snap_doc	*d;
	pthread_t		 t[4];
	void			*got[4];
	size_t			 i;

	s = build(recp, NRECS, NULL);
	ck_assert_uint_eq(s->pages.npages, 3);
	for (i = 0; i < SNAP_PAGE_KINDS * 3; i++)
		ck_assert(!snap_slot_is_ready(s->pages.slots[i]));
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, lazy_get, s), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], &got[i]), 0);
	d = got[0];
	ck_assert_ptr_nonnull(d);
	for (i = 1; i < 4; i++)
		ck_assert_ptr_eq(got[i], d);
	ck_assert_str_eq(d->path, "/archive/2.atom");
	ck_assert(snap_slot_is_ready(s->pages.slots[1]));
	ck_assert(!snap_slot_is_ready(s->pages.slots[0]));
	/* page 2: rec-3 and rec-2, linked as itself */
	ck_assert_ptr_nonnull(strstr(d->body, BASE "/archive/2.atom"));
	ck_assert_ptr_nonnull(strstr(d->body, TAG "record/rec-3<"));
	ck_assert_ptr_nonnull(strstr(d->body, TAG "record/rec-2<"));
	ck_assert_ptr_null(strstr(d->body, TAG "record/rec-4<"));
	ck_assert_uint_gt(d->gzlen, 0);
	ck_assert_int_eq(d->etag[0], '"');
	/* the next snapshot shares the page, rendered once */
	s2 = build(recp, NRECS, s);
	ck_assert_ptr_eq(snap_doc_find(s2, "/archive/2.atom"), d);
	ck_assert_ptr_eq(s2->pages.slots[0], s->pages.slots[0]);
	ck_assert_ptr_null(snap_doc_find(s2, "/archive/2.xml"));
	ck_assert_ptr_null(snap_doc_find(s2, "/archive/02.atom"));
	ck_assert_ptr_null(snap_doc_find(s2, "/sets/nope/archive/1.atom"));
	ck_assert_ptr_null(snap_doc_find(s2, "/sets//archive/1.atom"));
	snap_release(s2);
	snap_release(s);
}
END_TEST

/* A copy of what a document serves, to compare after it is gone. */
struct doc_copy {
	char	*body, *gz;
	size_t	 len, gzlen;
	char	 etag[64], etag_gz[64];
	int64_t	 lm;
};

static void
doc_copy(struct doc_copy *c, const struct snap_doc *d)
{
	ck_assert_ptr_nonnull(d);
	c->body = malloc(d->len + 1);
	c->gz = malloc(d->gzlen + 1);
	ck_assert(c->body != NULL && c->gz != NULL);
	memcpy(c->body, d->body, d->len);
	memcpy(c->gz, d->gz, d->gzlen);
	c->len = d->len;
	c->gzlen = d->gzlen;
	snprintf(c->etag, sizeof(c->etag), "%s", d->etag);
	snprintf(c->etag_gz, sizeof(c->etag_gz), "%s", d->etag_gz);
	c->lm = d->last_modified;
}

static void
doc_same(const struct doc_copy *c, const struct snap_doc *d)
{
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->len, c->len);
	ck_assert(memcmp(d->body, c->body, c->len) == 0);
	ck_assert_uint_eq(d->gzlen, c->gzlen);
	ck_assert(memcmp(d->gz, c->gz, c->gzlen) == 0);
	ck_assert_str_eq(d->etag, c->etag);
	ck_assert_str_eq(d->etag_gz, c->etag_gz);
	ck_assert_int_eq(d->last_modified, c->lm);
}

static void
doc_copy_free(struct doc_copy *c)
{
	free(c->body);
	free(c->gz);
}

/*
 * The documents rendered on request: every lazy one, archive and landing
 * page, rendered, evicted (a cache of 0 bytes keeps only the last), then
 * rendered again, is the same bytes with the same validators; a set's
 * current documents are lazy, the collection's are not.
 */
START_TEST(test_cache_evicted_same)
{
	static const char *const paths[] = { "/sets/region.atom",
	    "/sets/region:bulgaria.rss", "/sets/region.json",
	    "/sets/region.html", "/bg/sets/region:bulgaria.html",
	    "/sets/region.ics", "/lang/bg/feed.atom",
	    "/lang/nb/sets/region.rss", "/events/rec-5.ics",
	    "/archive/2.atom", "/nb/archive/1.html", "/records/rec-2.html",
	    "/bg/records/rec-3.html" };
	struct doc_copy		 c[sizeof(paths) / sizeof(paths[0])];
	const struct snap_doc	*old[sizeof(paths) / sizeof(paths[0])];
	struct snap		*s;
	const struct snap_doc	*d;
	size_t			 i, n = sizeof(paths) / sizeof(paths[0]);

	s = build(recp, NRECS, NULL);
	ck_assert_ptr_nonnull(snap_lazy_find(s, "/sets/region.atom"));
	ck_assert_ptr_nonnull(snap_lazy_find(s, "/lang/bg/feed.atom"));
	ck_assert_ptr_null(snap_lazy_find(s, "/feed.atom"));
	ck_assert_ptr_null(snap_lazy_find(s, "/"));
	for (i = 0; i < n; i++) {
		d = snap_doc_find(s, paths[i]);
		ck_assert_msg(d != NULL, "no %s", paths[i]);
		ck_assert(d->is_cached);
		ck_assert_str_eq(d->path, paths[i]);
		doc_copy(&c[i], d);
		old[i] = d;
	}
	ck_assert(!snap_doc_find(s, "/feed.atom")->is_cached);
	/* a limit of 0 keeps none but the last rendered: all rendered anew */
	snap_doc_cache_limit(0);
	ck_assert_uint_eq(snap_doc_cache_bytes(), 0);
	ck_assert(!snap_slot_is_ready(snap_lazy_find(s, paths[0])));
	for (i = 0; i < n; i++) {
		d = snap_doc_find(s, paths[i]);
		ck_assert_ptr_ne(d, old[i]);	/* the old one is still held */
		doc_same(&c[i], d);
	}
	ck_assert(!snap_slot_is_ready(snap_lazy_find(s, paths[0])));
	snap_doc_cache_limit(SNAP_DOC_CACHE_DEFAULT);
	for (i = 0; i < n; i++)
		doc_copy_free(&c[i]);
	snap_release(s);
}
END_TEST

/*
 * A change is never served from the cache: the set's documents of the next
 * snapshot are new slots with the new bytes, the other set's are shared,
 * and the old snapshot keeps serving its own.
 */
START_TEST(test_cache_not_stale)
{
	struct snap		*s1, *s2;
	const struct snap_doc	*a, *b, *o1, *o2;
	struct record		 changed;
	struct record		*rv[NRECS];
	struct doc_copy		 old;

	s1 = build(recp, NRECS, NULL);
	a = snap_doc_find(s1, "/sets/region:bulgaria.atom");
	doc_copy(&old, a);
	ck_assert_ptr_null(strstr(a->body, "Changed title"));
	changed = recs[6];
	changed.datestamp += 3600;
	changed.hash[0] ^= 1;
	changed.titles = &(struct record_text){ "en", "Changed title" };
	memcpy(rv, recp, sizeof(rv));
	rv[6] = &changed;
	s2 = build(rv, NRECS, s1);
	ck_assert_ptr_ne(snap_lazy_find(s2, "/sets/region:bulgaria.atom"),
	    snap_lazy_find(s1, "/sets/region:bulgaria.atom"));
	b = snap_doc_find(s2, "/sets/region:bulgaria.atom");
	ck_assert_ptr_nonnull(strstr(b->body, "Changed title"));
	ck_assert_str_ne(b->etag, old.etag);
	/* the one before still serves what it had */
	doc_same(&old, snap_doc_find(s1, "/sets/region:bulgaria.atom"));
	/* evicted, the old snapshot renders its old bytes again */
	snap_doc_cache_limit(0);
	(void)snap_doc_find(s2, "/sets/region:bulgaria.rss");
	ck_assert(!snap_slot_is_ready(snap_lazy_find(s1,
	    "/sets/region:bulgaria.atom")));
	doc_same(&old, snap_doc_find(s1, "/sets/region:bulgaria.atom"));
	snap_doc_cache_limit(SNAP_DOC_CACHE_DEFAULT);
	doc_copy_free(&old);
	snap_release(s2);
	snap_release(s1);
	/* nothing changed: the next snapshot shares the slot, rendered */
	s1 = build(recp, NRECS, NULL);
	o1 = snap_doc_find(s1, "/sets/region.rss");
	s2 = build(recp, NRECS, s1);
	ck_assert_ptr_eq(snap_lazy_find(s2, "/sets/region.rss"),
	    snap_lazy_find(s1, "/sets/region.rss"));
	o2 = snap_doc_find(s2, "/sets/region.rss");
	ck_assert_ptr_eq(o1, o2);
	snap_release(s2);
	snap_release(s1);
}
END_TEST

/*
 * The cache holds at most its limit plus one document, however many are
 * asked for, and what it holds goes when the snapshots go.
 */
START_TEST(test_cache_cap)
{
	struct snap		*s;
	const struct snap_doc	*d;
	size_t			 i, cap, max = 0, before;

	before = snap_doc_cache_bytes();
	s = build(recp, NRECS, NULL);
	ck_assert_uint_eq(snap_doc_cache_bytes(), before);
	ck_assert_uint_gt(s->nlazy, 20);
	d = snap_doc_find(s, snap_lazy_path(s, 0));
	cap = 3 * d->len;	/* (the macro keeps d for the teardown) */
	snap_doc_cache_limit(cap);
	for (i = 0; i < s->nlazy; i++) {
		d = (snap_doc_find)(s, snap_lazy_path(s, i));
		ck_assert_msg(d != NULL, "%s", snap_lazy_path(s, i));
		/* rendered on request from what the build registered */
		ck_assert_msg(memcmp(d->key, snap_slot_key(snap_lazy_find(s,
		    snap_lazy_path(s, i))), HASH_LEN) == 0, "%s: other inputs",
		    snap_lazy_path(s, i));
		if (d->len + d->gzlen > max)
			max = d->len + d->gzlen;
		snap_doc_done(d);
		/* the document itself, its path and bytes: 1 KB of room */
		ck_assert_uint_le(snap_doc_cache_bytes(), cap + max + 1024);
	}
	ck_assert_uint_gt(snap_doc_cache_bytes(), 0);
	snap_doc_cache_limit(SNAP_DOC_CACHE_DEFAULT);
	snap_release(s);
	ck_assert_uint_eq(snap_doc_cache_bytes(), before);
}
END_TEST

/*
 * Threads asking for documents at once, while the cache evicts under them
 * (a limit of one document): each gets complete bytes, the ones a lone
 * request gets; with room, threads asking for one document at once get the
 * one rendering (render-once).
 */
struct storm {
	const struct snap	*s;
	const char *const	*paths;
	size_t			 n;
	const struct doc_copy	*want;
	int			 seed;
	const struct snap_doc	*first;
};

static void *
storm_run(void *arg)
{
	struct storm		*st = arg;
	const struct snap_doc	*d;
	size_t			 i, k;

	for (i = 0; i < 200; i++) {
		k = (i * 7 + (size_t)st->seed) % st->n;
		if ((d = (snap_doc_find)(st->s, st->paths[k])) == NULL)
			return (void *)1;
		if (d->len != st->want[k].len ||
		    memcmp(d->body, st->want[k].body, d->len) != 0 ||
		    strcmp(d->etag, st->want[k].etag) != 0) {
			snap_doc_done(d);
			return (void *)1;
		}
		if (i == 0 && st->first == NULL)
			st->first = d;
		else
			snap_doc_done(d);
	}
	return NULL;
}

START_TEST(test_cache_threads)
{
	static const char *const paths[] = { "/sets/region.atom",
	    "/sets/region.rss", "/sets/region:bulgaria.json",
	    "/nb/sets/region.html", "/lang/en/feed.rss",
	    "/records/rec-4.html", "/archive/1.rss" };
	struct doc_copy		 want[sizeof(paths) / sizeof(paths[0])];
	struct storm		 st[8];
	pthread_t		 t[8];
	struct snap		*s;
	const struct snap_doc	*d;
	void			*rv;
	size_t			 i, n = sizeof(paths) / sizeof(paths[0]);

	s = build(recp, NRECS, NULL);
	for (i = 0; i < n; i++) {
		d = snap_doc_find(s, paths[i]);
		ck_assert_msg(d != NULL, "%s", paths[i]);
		doc_copy(&want[i], d);
	}
	snap_release(s);
	/* churn: every request may render and evict */
	s = build(recp, NRECS, NULL);
	snap_doc_cache_limit(1);
	for (i = 0; i < 8; i++) {
		st[i] = (struct storm){ s, paths, n, want, (int)i, NULL };
		ck_assert_int_eq(pthread_create(&t[i], NULL, storm_run,
		    &st[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rv), 0);
		ck_assert_ptr_null(rv);
		snap_doc_done(st[i].first);
	}
	snap_doc_cache_limit(SNAP_DOC_CACHE_DEFAULT);
	snap_release(s);
	/* room for all: the first requests of one page share one rendering */
	s = build(recp, NRECS, NULL);
	for (i = 0; i < 8; i++) {
		st[i] = (struct storm){ s, paths, 1, want, 0, NULL };
		ck_assert_int_eq(pthread_create(&t[i], NULL, storm_run,
		    &st[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rv), 0);
		ck_assert_ptr_null(rv);
		ck_assert_ptr_eq(st[i].first, st[0].first);
	}
	for (i = 0; i < 8; i++)
		snap_doc_done(st[i].first);
	snap_release(s);
	for (i = 0; i < n; i++)
		doc_copy_free(&want[i]);
}
END_TEST

/* Only void elements may be written "<x/>" in HTML. */
static void
assert_no_selfclosed(const char *html)
{
	const char	*p, *lt;
	size_t		 n;

	for (p = html; (p = strstr(p, "/>")) != NULL; p += 2) {
		for (lt = p; lt > html && *lt != '<'; lt--)
			;
		n = strcspn(lt + 1, " />");
		ck_assert_msg((n == 4 && strncmp(lt + 1, "link", 4) == 0) ||
		    (n == 4 && strncmp(lt + 1, "meta", 4) == 0),
		    "self-closed non-void element: %.20s", lt);
	}
}

START_TEST(test_index)
{
	struct snap		*s;
	const struct snap_doc	*doc;
	htmlDocPtr		 d;

	s = build(recp, NRECS, NULL);
	doc = snap_doc_find(s, "/");
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(doc->content_type, FEED_HTML_TYPE);
	ck_assert_msg(strncmp(doc->body, "<!DOCTYPE html>\n", 16) == 0,
	    "no doctype: %.40s", doc->body);
	ck_assert_ptr_null(strstr(doc->body, "<?xml"));
	ck_assert_ptr_null(strstr(doc->body, "\x01"));
	assert_no_selfclosed(doc->body);
	d = htmlReadMemory(doc->body, (int)doc->len, "index.html", "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	ck_assert_ptr_nonnull(d);
	xp_eq(d, "/html/@lang", "en");
	xp_eq(d, "/html/head/meta/@charset", "utf-8");
	xp_eq(d, "/html/head/title", "Pubfeed ÆØÅ");
	/* autodiscovery: this page's own feeds only, not every set's */
	xp_eq(d, "count(//head/link[@rel='alternate'][@type])", "4");
	xp_eq(d, "//head/link[@type='application/atom+xml']/@href",
	    BASE "/feed.atom");
	xp_eq(d, "//head/link[@type='application/rss+xml']/@href",
	    BASE "/feed.rss");
	{
		char	 want[256];

		snprintf(want, sizeof(want), "%s%s", BASE, page_style_path());
		xp_eq(d, "//head/link[@rel='stylesheet']/@href", want);
	}
	xp_eq(d, "//header/a[@class='name']", "Институт æøå");
	xp_eq(d, "//h1", "Events and publications");
	/* the newest page (2 entries), linked to the landing pages */
	xp_eq(d, "count(//main/section[1]/ol/li)", "2");
	xp_eq(d, "//ol/li[1]/h3/a/@href", BASE "/records/rec-6.html");
	xp_eq(d, "//ol/li[1]/h3/a", "Rapport om æøå 6");
	xp_eq(d, "//ol/li[1]//time/@datetime", "2019-05-16");
	xp_eq(d, "//ol/li[1]//span[@class='authors']", "Иван Петров, Søk AS");
	xp_eq(d, "//ol/li[1]/span[@class='kind']", "Report");
	xp_eq(d, "normalize-space(//ol/li[1]//ul[@class='files']/li)",
	    "Full text (PDF, 12 kB, "
	    "bg)");
	/* rec-5 is an event: its own dates and place */
	xp_eq(d, "//ol/li[2]/span[@class='kind']", "Event");
	xp_eq(d, "//ol/li[2]//time", "2019-06-01 \u2013 2019-06-03");
	xp_eq(d, "//ol/li[2]//span[@class='place']", "София (BG)");
	/* every record is reachable: the pager goes to the newest archive */
	xp_eq(d, "//nav[@class='pager']/a/@href", BASE "/archive/3.html");
	/* the sets as a tree, by name, with counts */
	xp_eq(d, "//ul[@class='sets']/li/a", "Regions");
	xp_eq(d, "//ul[@class='sets']/li/a/@href", BASE "/sets/region.html");
	xp_eq(d, "//ul[@class='sets']/li/ul/li/a", "България");
	xp_eq(d, "//ul[@class='sets']/li/span[@class='count']", " (7)");
	xp_eq(d, "count(//a[@href='" BASE "/oai'])", "2");
	xmlFreeDoc(d);
	snap_release(s);
}
END_TEST

/* HTML archive pages and set pages: the same chain as the feeds. */
START_TEST(test_html_pages)
{
	struct snap		*s;
	const struct snap_doc	*doc;
	htmlDocPtr		 d;

	s = build(recp, NRECS, NULL);
	doc = snap_doc_find(s, "/archive/1.html");
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(doc->content_type, FEED_HTML_TYPE);
	assert_no_selfclosed(doc->body);
	d = htmlReadMemory(doc->body, (int)doc->len, "a.html", "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	xp_eq(d, "count(//main/section[1]/ol/li)", "2");
	xp_eq(d, "//ol/li[1]/h3/a/@href", BASE "/records/rec-1.html");
	xp_eq(d, "//nav[@class='pager']/a/@href", BASE "/archive/2.html");
	xp_eq(d, "count(//ul[@class='sets'])", "0");
	xmlFreeDoc(d);
	doc = snap_doc_find(s, "/archive/3.html");
	d = htmlReadMemory(doc->body, (int)doc->len, "a.html", "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	xp_eq(d, "//nav[@class='pager']/a[1]/@href", BASE "/");
	xmlFreeDoc(d);
	ck_assert_ptr_null(snap_doc_find(s, "/archive/4.html"));
	doc = snap_doc_find(s, "/sets/region:bulgaria.html");
	ck_assert_ptr_nonnull(doc);
	d = htmlReadMemory(doc->body, (int)doc->len, "s.html", "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	xp_eq(d, "//h1", "България");
	xp_eq(d, "//p[@class='description']", "Публикации за България");
	xp_eq(d, "//main/p/a/@href", BASE "/sets/region.html");
	xp_eq(d, "count(//head/link[@rel='alternate'][@type])", "4");
	xp_eq(d, "//head/link[@type='application/rss+xml']/@href",
	    BASE "/sets/region:bulgaria.rss");
	xp_eq(d, "//nav[@class='pager']/a/@href",
	    BASE "/sets/region:bulgaria/archive/3.html");
	xp_eq(d, "count(//h2[.='Subsets'])", "0");	/* none: no section */
	xmlFreeDoc(d);
	doc = snap_doc_find(s, "/sets/region.html");
	d = htmlReadMemory(doc->body, (int)doc->len, "s.html", "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	xp_eq(d, "count(//h2[.='Subsets'])", "1");
	xp_eq(d, "//ul[@class='sets']/li/a/@href",
	    BASE "/sets/region:bulgaria.html");
	xmlFreeDoc(d);
	ck_assert_ptr_nonnull(snap_doc_find(s,
	    "/sets/region:bulgaria/archive/1.html"));
	snap_release(s);
}
END_TEST

START_TEST(test_index_empty)
{
	struct snap		*s;
	const struct snap_doc	*doc;

	s = build(NULL, 0, NULL);
	doc = snap_doc_find(s, "/");
	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_nonnull(strstr(doc->body, "Nothing published yet."));
	assert_no_selfclosed(doc->body);
	ck_assert_ptr_nonnull(snap_doc_find(s, "/feed.atom"));
	ck_assert_ptr_null(snap_doc_find(s, "/archive/1.atom"));
	ck_assert_ptr_null(snap_doc_find(s, "/records/rec-1.html"));
	snap_release(s);
}
END_TEST

/* An upcoming event is listed first, soonest first, and only there. */
START_TEST(test_index_upcoming)
{
	struct snap		*s;
	const struct snap_doc	*doc;
	struct record_event	 ev;
	htmlDocPtr		 d;
	int64_t			 now = date_now();

	ev = event;
	ev.start = (struct date){ now + 86400 * 30, DATE_SECOND };
	ev.end = (struct date){ now + 86400 * 30 + 3600, DATE_SECOND };
	recs[6].type = RECORD_EVENT;
	recs[6].event = &ev;
	recs[3].type = RECORD_EVENT;	/* still on: ends later today */
	recs[3].event = &ev;
	s = build(recp, NRECS, NULL);
	doc = snap_doc_find(s, "/");
	d = htmlReadMemory(doc->body, (int)doc->len, "index.html", "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	xp_eq(d, "//main/section[1]/h2", "Upcoming events");
	xp_eq(d, "count(//main/section[1]/ol/li[@class='event'])", "2");
	xp_eq(d, "//main/section[1]/ol/li[1]/h3/a/@href",
	    BASE "/records/rec-3.html");
	/* rec-6 is upcoming, so not repeated in the newest list */
	xp_eq(d, "count(//main/section[2]/ol/li)", "1");
	xp_eq(d, "//main/section[2]/ol/li/h3/a/@href",
	    BASE "/records/rec-5.html");
	xmlFreeDoc(d);
	snap_release(s);
}
END_TEST

static htmlDocPtr
landing(struct snap *s, const char *path, const struct snap_doc **docp)
{
	const struct snap_doc	*doc;

	doc = snap_doc_find(s, path);
	ck_assert_msg(doc != NULL, "%s: not found", path);
	ck_assert_str_eq(doc->content_type, FEED_HTML_TYPE);
	assert_no_selfclosed(doc->body);
	if (docp != NULL)
		*docp = doc;
	return htmlReadMemory(doc->body, (int)doc->len, "r.html", "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
}

/* The landing page: citation_* tags, canonical, JSON-LD through jansson. */
START_TEST(test_record_page)
{
	struct snap		*s;
	const struct snap_doc	*doc;
	struct record_ident	 doi = { RECORD_ID_DOI, "10.1234/a<b>&c" };
	htmlDocPtr		 d;
	json_t			*j;
	json_error_t		 je;
	char			*ld;

	recs[2].idents = &doi;
	recs[2].nidents = 1;
	recs[2].license = "https://creativecommons.org/licenses/by/4.0/";
	recs[2].publisher = "Søk </script> AS";
	s = build(recp, NRECS, NULL);
	d = landing(s, "/records/rec-2.html", &doc);
	/* the English page; the Norwegian title is marked as such */
	xp_eq(d, "/html/@lang", "en");
	xp_eq(d, "//h1", "Rapport om æøå 2");
	xp_eq(d, "//h1/@lang", "nb");
	xp_eq(d, "//head/link[@rel='canonical']/@href", BASE "/p/1");
	xp_eq(d, "//meta[@name='citation_title']/@content",
	    "Rapport om æøå 2");
	xp_eq(d, "count(//meta[@name='citation_author'])", "2");
	xp_eq(d, "//meta[@name='citation_author'][1]/@content",
	    "Петров, Иван");
	xp_eq(d, "//meta[@name='citation_author'][2]/@content", "Søk AS");
	xp_eq(d, "//meta[@name='citation_publication_date']/@content",
	    "2019/05/12");
	xp_eq(d, "//meta[@name='citation_doi']/@content", "10.1234/a<b>&c");
	xp_eq(d, "//meta[@name='citation_pdf_url']/@content", BASE "/p/1.pdf");
	xp_eq(d, "//meta[@name='citation_technical_report_institution']"
	    "/@content", "Søk </script> AS");
	xp_eq(d, "//head/link[@rel='cite-as']/@href",
	    "https://doi.org/10.1234/a<b>&c");
	xp_eq(d, "//head/link[@rel='license']/@href",
	    "https://creativecommons.org/licenses/by/4.0/");
	xp_eq(d, "//head/link[@rel='author']/@href",
	    "https://orcid.org/0000-0002-1825-0097");
	xp_eq(d, "//dd//a[@rel='author']/@href",
	    "https://orcid.org/0000-0002-1825-0097");
	xp_eq(d, "//head/link[@rel='item']/@type", "application/pdf");
	xp_eq(d, "count(//head/link[@rel='describedby'])", "3");
	xp_eq(d, "//dd/ul/li/a[contains(@href, '/sets/')]/@href",
	    BASE "/sets/region:bulgaria.html");
	xp_eq(d, "//dd/ul/li/a[contains(@href, '/sets/')]", "България");
	/* the script holds no '<' at all, so no markup can end it early */
	ld = xp(d, "//script[@type='application/ld+json']");
	ck_assert_ptr_null(strstr(strstr(doc->body, "ld+json"), "</script> AS"));
	j = json_loads(ld, 0, &je);
	ck_assert_msg(j != NULL, "JSON-LD: %s", je.text);
	ck_assert_str_eq(json_string_value(json_object_get(j, "@type")),
	    "Report");
	ck_assert_str_eq(json_string_value(json_object_get(j, "@context")),
	    "https://schema.org");
	ck_assert_str_eq(json_string_value(json_object_get(j, "sameAs")),
	    "https://doi.org/10.1234/a<b>&c");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "publisher"), "name")), "Søk </script> AS");
	ck_assert_int_eq(json_array_size(json_object_get(j, "author")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "author"), 0), "@id")),
	    "https://orcid.org/0000-0002-1825-0097");
	json_decref(j);
	free(ld);
	xmlFreeDoc(d);
	/* an event: schema.org Event with dates, place and organisers */
	d = landing(s, "/records/rec-5.html", NULL);
	ld = xp(d, "//script[@type='application/ld+json']");
	j = json_loads(ld, 0, &je);
	ck_assert_msg(j != NULL, "JSON-LD: %s", je.text);
	ck_assert_str_eq(json_string_value(json_object_get(j, "@type")),
	    "Event");
	ck_assert_str_eq(json_string_value(json_object_get(j, "startDate")),
	    "2019-06-01");
	ck_assert_str_eq(json_string_value(json_object_get(j, "endDate")),
	    "2019-06-03");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "location"), "name")), "София");
	ck_assert_int_eq(json_array_size(json_object_get(j, "organizer")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(j, "eventStatus")),
	    "https://schema.org/EventScheduled");
	json_decref(j);
	free(ld);
	xmlFreeDoc(d);
	ck_assert_ptr_null(snap_doc_find(s, "/records/rec-7.html"));
	ck_assert_ptr_null(snap_doc_find(s, "/records/rec-1.htm"));
	ck_assert_ptr_null(snap_doc_find(s, "/records/rec-1"));
	ck_assert_ptr_null(snap_doc_find(s, "/records/.html"));
	snap_release(s);
}
END_TEST

/*
 * The date a record was published reads as the editor gave it, on its page
 * and in the lists: "2020" for a year (not "2020-01-01"), the day of a
 * timestamp (not "2019-05-14T08:00:00Z"); the instant stays in datetime.
 */
START_TEST(test_published_date_text)
{
	struct snap	*s;
	htmlDocPtr	 d;

	recs[4].issued = (struct date){ date_from_civil(2020, 1, 1, 0, 0, 0),
	    DATE_YEAR };
	recs[2].issued = (struct date){ date_from_civil(2019, 5, 14, 8, 0, 0),
	    DATE_SECOND };
	s = build(recp, NRECS, NULL);
	d = landing(s, "/records/rec-4.html", NULL);
	xp_eq(d, "//dl[@class='facts']/dd/time", "2020");
	xp_eq(d, "//dl[@class='facts']/dd/time/@datetime", "2020");
	xmlFreeDoc(d);
	d = landing(s, "/records/rec-2.html", NULL);
	xp_eq(d, "//dl[@class='facts']/dd/time", "2019-05-14");
	xp_eq(d, "//dl[@class='facts']/dd/time/@datetime",
	    "2019-05-14T08:00:00Z");
	xmlFreeDoc(d);
	d = landing(s, "/", NULL);
	xp_eq(d, "//li[h3/a/@href='" BASE "/records/rec-4.html']"
	    "/p[@class='meta']/time", "2020");
	xmlFreeDoc(d);
	snap_release(s);
}
END_TEST

/*
 * An event's page and its line in a list say when it is on the wall clock
 * of its zone, as its calendar entry and feed summary do: the Oslo time
 * with the zone named, not UTC (the pages said "07:00 UTC" before).
 */
START_TEST(test_event_local_time)
{
	static const char	*const when_oslo =
	    "2027-06-10 09:00\xe2\x80\x93" "11:30 Europe/Oslo";
	struct snap		*s;
	struct record_event	 ev, ev_utc;
	htmlDocPtr		 d;
	struct buf		 b;

	ev = event;
	ev.start = (struct date){ date_from_civil(2027, 6, 10, 7, 0, 0),
	    DATE_SECOND };
	ev.end = (struct date){ date_from_civil(2027, 6, 10, 9, 30, 0),
	    DATE_SECOND };
	ev.timezone = "Europe/Oslo";
	ev_utc = ev;
	ev_utc.timezone = NULL;
	recs[5].event = &ev;
	recs[4].type = RECORD_EVENT;
	recs[4].event = &ev_utc;
	s = build(recp, NRECS, NULL);
	d = landing(s, "/records/rec-5.html", NULL);
	xp_eq(d, "//dl[@class='facts']/dd/time", when_oslo);
	xp_eq(d, "//dl[@class='facts']/dd/time/@datetime",
	    "2027-06-10T07:00:00Z");
	xmlFreeDoc(d);
	d = landing(s, "/records/rec-4.html", NULL);
	xp_eq(d, "//dl[@class='facts']/dd/time",
	    "2027-06-10 07:00\xe2\x80\x93" "09:30 UTC");
	xmlFreeDoc(d);
	d = landing(s, "/", NULL);
	xp_eq(d, "//li[h3/a/@href='" BASE "/records/rec-5.html']"
	    "/p[@class='meta']/time", when_oslo);
	xmlFreeDoc(d);
	/* 22:30 to 21:00 UTC: one day in Oslo, the day after in UTC */
	ev.start.t = date_from_civil(2027, 6, 10, 22, 30, 0);
	ev.end.t = date_from_civil(2027, 6, 11, 21, 0, 0);
	buf_init(&b, 256);
	ck_assert_int_eq(feed_event_when(&b, &ev), 0);
	ck_assert_str_eq(b.data,
	    "2027-06-11 00:30\xe2\x80\x93" "23:00 Europe/Oslo");
	buf_release(&b);
	snap_release(s);
}
END_TEST

/*
 * Every landing page and list page in English, Bulgarian and Norwegian:
 * <html lang>, hreflang versions, the switcher, UI texts from the
 * catalogue, record texts in the page's language first.
 */
START_TEST(test_pages_in_every_language)
{
	static const char *const	 tag[] = { "en", "bg", "nb" };
	static const char *const	 pre[] = { "", "/bg", "/nb" };
	struct snap			*s;
	htmlDocPtr			 d;
	char				 path[256], want[128];
	int				 l;

	s = build(recp, NRECS, NULL);
	for (l = 0; l < 3; l++) {
		snprintf(path, sizeof(path), "%s/records/rec-2.html", pre[l]);
		d = landing(s, path, NULL);
		xp_eq(d, "/html/@lang", tag[l]);
		xp_eq(d, "count(//head/link[@hreflang])", "4");
		snprintf(want, sizeof(want), BASE "%s/records/rec-2.html",
		    pre[l]);
		snprintf(path, sizeof(path),
		    "//head/link[@hreflang='%s']/@href", tag[l]);
		xp_eq(d, path, want);
		xp_eq(d, "//head/link[@hreflang='x-default']/@href",
		    BASE "/records/rec-2.html");
		/* the switcher: the two other versions, this one current */
		xp_eq(d, "count(//nav[@class='langs']//a)", "2");
		xp_eq(d, "//nav[@class='langs']//*[@aria-current]/@lang",
		    tag[l]);
		/* rec-2 is Norwegian: unmarked on the nb page only */
		xp_eq(d, "count(//h1[@lang='nb'])", l == 2 ? "0" : "1");
		/* abstracts: en and nb; the page's first, else the record's */
		xp_eq(d, "//article/section[1]/@lang", l == 0 ? "en" : "nb");
		xp_eq(d, "//dt[1]", l == 0 ? "Authors" : l == 1 ?
		    "\u0410\u0432\u0442\u043e\u0440\u0438" : "Forfattere");
		/* the set link stays in the page's language */
		snprintf(want, sizeof(want), BASE "%s/sets/region:bulgaria.html",
		    pre[l]);
		xp_eq(d, "//dd/ul/li/a[contains(@href, '/sets/')]/@href", want);
		xmlFreeDoc(d);
		snprintf(path, sizeof(path), "%s/", pre[l]);
		d = landing(s, path, NULL);
		xp_eq(d, "/html/@lang", tag[l]);
		xp_eq(d, "count(//head/link[@rel='alternate'][@type])", "4");
		/* every entry links its landing page in this language */
		snprintf(want, sizeof(want), BASE "%s/records/rec-", pre[l]);
		snprintf(path, sizeof(path), "count(//h3/a[not(starts-with("
		    "@href, '%s'))]) = 0 and count(//h3/a) > 0", want);
		xp_eq(d, path, "true");
		xmlFreeDoc(d);
	}
	/* feeds have no language versions */
	ck_assert_ptr_null(snap_doc_find(s, "/bg/feed.atom"));
	ck_assert_ptr_null(snap_doc_find(s, "/nb/records/rec-7.html"));
	ck_assert_ptr_null(snap_doc_find(s, "/de/records/rec-2.html"));
	snap_release(s);
}
END_TEST

/* Without a landing page of its own, the page is its own canonical. */
START_TEST(test_record_canonical_self)
{
	struct snap	*s;
	htmlDocPtr	 d;

	recs[1].links = &links[1][1];
	recs[1].nlinks = 1;
	s = build(recp, NRECS, NULL);
	d = landing(s, "/records/rec-1.html", NULL);
	xp_eq(d, "//head/link[@rel='canonical']/@href",
	    BASE "/records/rec-1.html");
	xp_eq(d, "//head/link[@rel='cite-as']/@href",
	    BASE "/records/rec-1.html");
	xmlFreeDoc(d);
	snap_release(s);
}
END_TEST

/* Without a landing page of its own, an entry points at the one here. */
START_TEST(test_entry_links_here)
{
	struct snap	*s;
	xmlDocPtr	 d;

	recs[1].links = &links[1][1];
	recs[1].nlinks = 1;
	s = build(recp, NRECS, NULL);
	d = doc_at(s, "/archive/1.atom", FEED_ATOM_TYPE);
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='alternate']/@href",
	    BASE "/records/rec-1.html");
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='alternate']/@type",
	    "text/html");
	xp_eq(d, "/a:feed/a:entry[1]/a:link[@rel='enclosure']/@href",
	    BASE "/p/1.pdf");
	xp_eq(d, "/a:feed/a:entry[2]/a:link[@rel='alternate']/@href",
	    BASE "/p/1");
	xmlFreeDoc(d);
	d = doc_at(s, "/archive/1.rss", FEED_RSS_TYPE);
	xp_eq(d, "/rss/channel/item[1]/link", BASE "/records/rec-1.html");
	xp_eq(d, "/rss/channel/item[2]/link", BASE "/p/1");
	xmlFreeDoc(d);
	snap_release(s);
}
END_TEST

/* The Signposting Link header: the same links as the page's head. */
START_TEST(test_record_links)
{
	struct snap	*s;
	struct buf	 b;
	char		 want[512], *first;
	const char	*p;
	size_t		 i, n, k;

	buf_init(&b, 1 << 20);
	s = build(recp, NRECS, NULL);
	ck_assert_int_eq(feed_doc_links(s, "/feed.atom", &b), 0);
	ck_assert_int_eq(feed_doc_links(s, "/records/nope.html", &b), 0);
	ck_assert_int_eq(feed_doc_links(s, "/records/rec-4.html", &b), 1);
	ck_assert_ptr_nonnull(strstr(b.data, "<" BASE
	    "/records/rec-4.html>; rel=\"cite-as\""));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "<https://orcid.org/0000-0002-1825-0097>; rel=\"author\""));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "<https://schema.org/Report>; rel=\"type\""));
	ck_assert_ptr_nonnull(strstr(b.data, "<" BASE "/p/1.pdf>; "
	    "rel=\"item\"; type=\"application/pdf\""));
	ck_assert_ptr_nonnull(strstr(b.data, "<" BASE "/oai?verb=GetRecord&"
	    "metadataPrefix=oai_dc&identifier=oai%3Apubs.example.org%3Arec-4>;"
	    " rel=\"describedby\"; type=\"application/xml\"; profile="
	    "\"http://www.openarchives.org/OAI/2.0/oai_dc/\""));
	ck_assert_ptr_null(strstr(b.data, "license"));
	/*
	 * describedby: every format the OAI-PMH module disseminates this
	 * record in, no other (oai_openaire takes only records that state
	 * their access rights)
	 */
	n = 0;
	k = 0;
	for (i = 0; oai_formats[i] != NULL; i++) {
		snprintf(want, sizeof(want), "metadataPrefix=%s&identifier="
		    "oai%%3Apubs.example.org%%3Arec-4>; rel=\"describedby\"; "
		    "type=\"application/xml\"; profile=\"%s\"",
		    oai_formats[i]->prefix, oai_formats[i]->ns);
		if (!oai_format_offers(oai_formats[i], &recs[4])) {
			ck_assert_msg(strstr(b.data, want) == NULL, "%s", want);
			continue;
		}
		ck_assert_msg(strstr(b.data, want) != NULL, "no %s", want);
		k++;
	}
	ck_assert_uint_ge(k, 3);
	for (p = b.data; (p = strstr(p, "describedby")) != NULL; p++)
		n++;
	ck_assert_uint_eq(n, k);
	/* built once: kept on the record, the same bytes the next time */
	ck_assert_ptr_nonnull(recs[4].cache);
	first = strdup(b.data);
	ck_assert_int_eq(feed_doc_links(s, "/records/rec-4.html", &b), 1);
	ck_assert_str_eq(b.data, first);
	ck_assert_ptr_null(recs[4].cache->next);
	free(first);
	snap_release(s);
	buf_release(&b);
}
END_TEST

/*
 * The shape RFC 9264 4.2 gives application/linkset+json: one member,
 * "linkset", an array of link context objects, each with an "anchor" and
 * arrays of target objects with an "href"; "type" a string, extension
 * attributes ("profile") arrays of strings.  Returns the context whose
 * anchor is anchor, or NULL.
 */
static json_t *
linkset_shape(json_t *top, const char *anchor)
{
	json_t		*set, *ctx, *rels, *t, *v, *found = NULL;
	const char	*k, *tk;
	size_t		 i, j;

	ck_assert(json_is_object(top));
	ck_assert_uint_eq(json_object_size(top), 1);
	set = json_object_get(top, "linkset");
	ck_assert(json_is_array(set) && json_array_size(set) > 0);
	json_array_foreach(set, i, ctx) {
		ck_assert(json_is_object(ctx));
		ck_assert(json_is_string(json_object_get(ctx, "anchor")));
		if (strcmp(json_string_value(json_object_get(ctx, "anchor")),
		    anchor) == 0)
			found = ctx;
		json_object_foreach(ctx, k, rels) {
			if (strcmp(k, "anchor") == 0)
				continue;
			ck_assert_msg(json_is_array(rels) &&
			    json_array_size(rels) > 0, "%s", k);
			json_array_foreach(rels, j, t) {
				ck_assert(json_is_object(t));
				ck_assert(json_is_string(json_object_get(t,
				    "href")));
				json_object_foreach(t, tk, v) {
					if (strcmp(tk, "href") == 0 ||
					    strcmp(tk, "type") == 0)
						ck_assert(json_is_string(v));
					else
						ck_assert_msg(json_is_array(v),
						    "%s", tk);
				}
			}
		}
	}
	return found;
}

/* Attribute attr of target i of rel in a link context, or NULL. */
static const char *
target_of(json_t *ctx, const char *rel, size_t i, const char *attr)
{
	json_t	*t = json_array_get(json_object_get(ctx, rel), i);

	return t != NULL ? json_string_value(json_object_get(t, attr)) : NULL;
}

/* FAIR Signposting level 2: the link set in both forms. */
START_TEST(test_record_linkset)
{
	const struct snap_doc	*d;
	struct snap		*s;
	json_t			*top, *ctx;
	json_error_t		 je;
	const char		*page = BASE "/records/rec-4.html";
	const char		*p;
	size_t			 n;

	s = build(recp, NRECS, NULL);
	d = snap_doc_find(s, "/records/rec-4.linkset.json");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->content_type, "application/linkset+json");
	ck_assert_int_eq(d->last_modified, recs[4].datestamp);
	top = json_loadb(d->body, d->len, 0, &je);
	ck_assert_msg(top != NULL, "%s", je.text);
	ctx = linkset_shape(top, page);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(target_of(ctx, "cite-as", 0, "href"), page);
	ck_assert_str_eq(target_of(ctx, "type", 0, "href"),
	    "https://schema.org/AboutPage");
	ck_assert_str_eq(target_of(ctx, "type", 1, "href"),
	    "https://schema.org/Report");
	ck_assert_str_eq(target_of(ctx, "author", 0, "href"),
	    "https://orcid.org/0000-0002-1825-0097");
	ck_assert_str_eq(target_of(ctx, "item", 0, "href"), BASE "/p/1.pdf");
	ck_assert_str_eq(target_of(ctx, "item", 0, "type"),
	    "application/pdf");
	ck_assert_str_eq(target_of(ctx, "describedby", 0, "type"),
	    "application/xml");
	ck_assert_ptr_null(json_object_get(ctx, "linkset"));
	ck_assert_ptr_null(json_object_get(ctx, "license"));
	/* the content resource and the metadata resources link back */
	ctx = linkset_shape(top, BASE "/p/1.pdf");
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(target_of(ctx, "collection", 0, "href"), page);
	ck_assert_str_eq(target_of(ctx, "collection", 0, "type"),
	    "text/html");
	ctx = linkset_shape(top, BASE "/oai?verb=GetRecord&metadataPrefix="
	    "oai_dc&identifier=oai%3Apubs.example.org%3Arec-4");
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(target_of(ctx, "describes", 0, "href"), page);
	json_decref(top);

	/* application/linkset: the same links, each with its anchor */
	d = snap_doc_find(s, "/records/rec-4.linkset");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->content_type, "application/linkset");
	ck_assert_ptr_nonnull(strstr(d->body, "<" BASE "/p/1.pdf>; rel=\"item\""
	    "; type=\"application/pdf\"; anchor=\"" BASE
	    "/records/rec-4.html\""));
	ck_assert_ptr_nonnull(strstr(d->body, "<" BASE "/records/rec-4.html>;"
	    " rel=\"collection\"; type=\"text/html\"; anchor=\"" BASE
	    "/p/1.pdf\""));
	for (n = 0, p = d->body; (p = strstr(p, "; anchor=\"")) != NULL; p++)
		n++;
	for (p = d->body; (p = strchr(p, '<')) != NULL; p++)
		n--;
	ck_assert_uint_eq(n, 0);	/* every link has its anchor */
	ck_assert_ptr_null(strstr(d->body, "rel=\"linkset\""));
	/* only the record's own, in no page language */
	ck_assert_ptr_null(snap_doc_find(s, "/bg/records/rec-4.linkset"));
	ck_assert_ptr_null(snap_doc_find(s, "/records/nope.linkset.json"));
	ck_assert_ptr_null(snap_doc_find(s, "/records/rec-4.linkset.jsonx"));
	snap_release(s);
}
END_TEST

/*
 * The Link header stays within its budget: the link sets, cite-as and
 * type first, the authors dropped first; all of them are in the link set.
 */
START_TEST(test_record_links_budget)
{
	struct record_agent	*many;
	struct snap		*s;
	struct buf		 b, full;
	const struct snap_doc	*d;
	const char		*ls = "<" BASE "/records/rec-4.linkset>; "
	    "rel=\"linkset\"; type=\"application/linkset\"";
	const char		*lsj = "<" BASE "/records/rec-4.linkset.json>; "
	    "rel=\"linkset\"; type=\"application/linkset+json\"";
	size_t			 i, budget;

	buf_init(&b, 1 << 20);
	buf_init(&full, 1 << 20);
	many = calloc(400, sizeof(*many));
	ck_assert_ptr_nonnull(many);
	for (i = 0; i < 400; i++)
		many[i] = (struct record_agent){ RECORD_PERSON, "A N Other",
		    "Other", "A N", NULL, "0000-0002-1694-233X", NULL, NULL };
	recs[4].creators = many;
	recs[4].ncreators = 400;
	s = build(recp, NRECS, NULL);
	ck_assert_int_eq(feed_record_links(s, &recs[4], 1 << 20, &full), 0);
	ck_assert_uint_gt(full.len, 20000);	/* 400 authors do not fit */
	ck_assert_int_eq(feed_doc_links(s, "/records/rec-4.html", &b), 1);
	ck_assert_uint_le(b.len, FEED_LINK_MAX);
	ck_assert_ptr_nonnull(strstr(b.data, ls));
	ck_assert_ptr_nonnull(strstr(b.data, lsj));
	ck_assert_ptr_nonnull(strstr(b.data, "rel=\"cite-as\""));
	ck_assert_ptr_nonnull(strstr(b.data, "rel=\"describedby\""));
	ck_assert_ptr_nonnull(strstr(b.data, "rel=\"item\""));
	/* some authors fit, the rest do not */
	ck_assert_ptr_nonnull(strstr(b.data, "rel=\"author\""));
	ck_assert_uint_lt(b.len, full.len);
	/* a budget with room for the link sets, cite-as and type only */
	budget = strlen(ls) + 2 + strlen(lsj) + 2 + strlen("<" BASE
	    "/records/rec-4.html>; rel=\"cite-as\"") + 2 +
	    strlen("<https://schema.org/AboutPage>; rel=\"type\"") + 2 +
	    strlen("<https://schema.org/Report>; rel=\"type\"");
	ck_assert_int_eq(feed_record_links(s, &recs[4], budget, &b), 0);
	ck_assert_uint_eq(b.len, budget);
	ck_assert_ptr_null(strstr(b.data, "author"));
	ck_assert_ptr_null(strstr(b.data, "item"));
	ck_assert_ptr_null(strstr(b.data, "describedby"));
	ck_assert_ptr_nonnull(strstr(b.data, "rel=\"cite-as\""));
	ck_assert_ptr_nonnull(strstr(b.data, lsj));
	/* one byte less: the second type link goes, the rest stays */
	ck_assert_int_eq(feed_record_links(s, &recs[4], budget - 1, &b), 0);
	ck_assert_ptr_null(strstr(b.data, "schema.org/Report"));
	ck_assert_ptr_nonnull(strstr(b.data, "schema.org/AboutPage"));
	/* not even the link sets: no header at all */
	ck_assert_int_eq(feed_record_links(s, &recs[4], 40, &b), 0);
	ck_assert_uint_eq(b.len, 0);
	/* every author is in the link set */
	d = snap_doc_find(s, "/records/rec-4.linkset.json");
	ck_assert_ptr_nonnull(d);
	{
		json_error_t	 je;
		json_t		*top = json_loadb(d->body, d->len, 0, &je);

		ck_assert_ptr_nonnull(top);
		ck_assert_uint_eq(json_array_size(json_object_get(
		    linkset_shape(top, BASE "/records/rec-4.html"), "author")),
		    400);
		json_decref(top);
	}
	snap_release(s);
	recs[4].creators = creators[4];
	recs[4].ncreators = 2;
	free(many);
	buf_release(&b);
	buf_release(&full);
}
END_TEST

/* Landing pages: rendered once, on request; carried over unchanged. */
START_TEST(test_record_lazy)
{
	struct snap		*s1, *s2, *s3;
	const struct snap_doc	*d1;
	struct record		 changed;
	struct record		*rv[NRECS];

	s1 = build(recp, NRECS, NULL);
	ck_assert_uint_eq(s1->records.npages, NRECS);
	ck_assert(!snap_slot_is_ready(s1->records.slots[2]));
	d1 = snap_doc_find(s1, "/records/rec-2.html");
	ck_assert_ptr_nonnull(d1);
	ck_assert(snap_slot_is_ready(s1->records.slots[2]));
	ck_assert(!snap_slot_is_ready(s1->records.slots[3]));
	ck_assert_ptr_eq(snap_doc_find(s1, "/records/rec-2.html"), d1);
	ck_assert_ptr_nonnull(snap_doc_find(s1, "/records/rec-3.html"));
	changed = recs[3];
	changed.hash[0] ^= 1;
	memcpy(rv, recp, sizeof(rv));
	rv[3] = &changed;
	s2 = build(rv, NRECS, s1);
	ck_assert_ptr_eq(snap_doc_find(s2, "/records/rec-2.html"), d1);
	ck_assert_ptr_ne(s2->records.slots[3], s1->records.slots[3]);
	s3 = build(rv, NRECS - 1, s2);	/* rec-6 gone */
	ck_assert_ptr_null(snap_doc_find(s3, "/records/rec-6.html"));
	ck_assert_ptr_eq(snap_doc_find(s3, "/records/rec-2.html"), d1);
	snap_release(s3);
	snap_release(s2);
	snap_release(s1);
}
END_TEST

/* "pubfeed export" writes the HTML pages too, landing pages included. */
START_TEST(test_export_pages)
{
	struct snap		*s;
	struct export_stats	 st;
	struct err		 e;
	struct stat		 sb;
	char			 dir[512], path[1024];
	const char		*want[] = { "index.html", "archive/1.html",
	    "sets/region:bulgaria.html", "records/rec-0.html",
	    "records/rec-6.html", "records/rec-6.html.gz" };
	size_t			 i;

	tl_mkdtemp(dir, sizeof(dir), "export");
	err_init(&e);
	s = build(recp, NRECS, NULL);
	ck_assert_msg(export_snapshot(s, dir, &st, &e) == 0, "%s", e.msg);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, want[i]);
		ck_assert_msg(stat(path, &sb) == 0, "%s not exported", path);
	}
	snprintf(path, sizeof(path), "%s%s", dir, page_style_path());
	ck_assert_msg(stat(path, &sb) == 0, "%s not exported", path);
	snap_release(s);
	err_release(&e);
	tl_rm_rf(dir);
}
END_TEST

/* One stylesheet at a content-hashed path, linked from every page. */
START_TEST(test_style)
{
	struct snap		*s;
	const struct snap_doc	*doc;
	size_t			 len;
	const char		*css = page_style_css(&len);

	s = build(recp, NRECS, NULL);
	ck_assert_int_eq(strncmp(page_style_path(), "/style.", 7), 0);
	doc = snap_doc_find(s, page_style_path());
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(doc->content_type, PAGE_STYLE_TYPE);
	ck_assert_uint_eq(doc->len, len);
	ck_assert_int_eq(memcmp(doc->body, css, len), 0);
	ck_assert_ptr_nonnull(doc->gz);
	ck_assert_ptr_nonnull(strstr(snap_doc_find(s,
	    "/records/rec-1.html")->body, page_style_path()));
	ck_assert_ptr_nonnull(strstr(snap_doc_find(s,
	    "/archive/2.html")->body, page_style_path()));
	ck_assert_ptr_nonnull(strstr(css, "@media print"));
	snap_release(s);
}
END_TEST

/*
 * feed_build() gives every language of the collection (own languages and
 * those of titles and abstracts) its current documents, whole collection
 * and per set, linked from the record-language feeds; no archives.
 */
START_TEST(test_lang_build)
{
	static const char *const paths[] = {
		"/lang/bg/feed.atom", "/lang/bg/feed.rss", "/lang/bg/feed.json",
		"/lang/en/feed.atom", "/lang/nb/feed.json",
		"/lang/nb/sets/region:bulgaria.atom",
		"/lang/en/sets/region.rss", "/lang/bg/sets/region.json",
	};
	struct feed_langs fl;
	struct snap	*s1, *s2;
	xmlDocPtr	 d;
	size_t		 i;

	s1 = build(recp, NRECS, NULL);
	feed_langs(&fl, s1);
	ck_assert_uint_eq(fl.n, 3);
	ck_assert_str_eq(fl.tags[0], "bg");
	ck_assert_str_eq(fl.tags[1], "en");
	ck_assert_str_eq(fl.tags[2], "nb");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		ck_assert_msg(snap_doc_find(s1, paths[i]) != NULL, "no %s",
		    paths[i]);
	ck_assert_ptr_null(snap_doc_find(s1, "/lang/bg/archive/1.atom"));
	ck_assert_ptr_null(snap_doc_find(s1, "/lang/bg/feed.ics"));
	ck_assert_ptr_null(snap_doc_find(s1, "/lang/fr/feed.atom"));
	d = doc_at(s1, "/lang/nb/sets/region:bulgaria.atom", FEED_ATOM_TYPE);
	assert_atom_valid(d, "/lang/nb/sets/region:bulgaria.atom");
	xp_eq(d, "/a:feed/@xml:lang", "nb");
	xp_eq(d, "count(/a:feed/a:link[@rel='prev-archive'])", "0");
	xp_eq(d, "count(/a:feed/a:entry)", "2");
	/* rec-5 has nothing in Norwegian: its own language, marked */
	xp_eq(d, "/a:feed/a:entry[2]/a:id", TAG "record/rec-5");
	xp_eq(d, "/a:feed/a:entry[2]/@xml:lang", "bg");
	xmlFreeDoc(d);
	d = doc_at(s1, "/lang/en/feed.atom", FEED_ATOM_TYPE);
	xp_eq(d, "/a:feed/a:entry[1]/a:summary", "In English.");
	xp_eq(d, "/a:feed/a:entry[1]/a:summary/@xml:lang", "en");
	xmlFreeDoc(d);
	d = doc_at(s1, "/feed.atom", FEED_ATOM_TYPE);
	xp_eq(d, "count(/a:feed/a:link[@rel='related'])", "3");
	xp_eq(d, "/a:feed/a:link[@hreflang='bg']/@href",
	    BASE "/lang/bg/feed.atom");
	xmlFreeDoc(d);
	/* archive pages link no versions: they are not versioned */
	d = doc_at(s1, "/archive/1.atom", FEED_ATOM_TYPE);
	xp_eq(d, "count(/a:feed/a:link[@rel='related'])", "0");
	xmlFreeDoc(d);
	/* nothing changed: the versions are shared too */
	s2 = build(recp, NRECS, s1);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		ck_assert_ptr_eq(snap_doc_find(s2, paths[i]),
		    snap_doc_find(s1, paths[i]));
	snap_release(s2);
	snap_release(s1);
}
END_TEST

/*
 * At most FEED_LANGS_MAX languages, the most used first: 40 one-record
 * languages ("aa".."bn") and "zz", used by two records; ties go to the
 * lower tag.  A language is counted once per record however many of its
 * texts use it.
 */
START_TEST(test_lang_cap)
{
	static struct record_text many[40 + 3];
	static char	 tags[40][3];
	struct record	 r0, r1;
	struct record	*rv[2] = { &r0, &r1 };
	struct feed_langs fl;
	struct snap	*s;
	struct err	 e;
	size_t		 i;

	for (i = 0; i < 40; i++) {
		tags[i][0] = (char)('a' + i / 26);
		tags[i][1] = (char)('a' + i % 26);
		tags[i][2] = '\0';
		many[i] = (struct record_text){ tags[i], "t" };
	}
	/* three "aa" texts more: still one record */
	for (i = 40; i < 43; i++)
		many[i] = (struct record_text){ "AA-x-y", "t" };
	r0 = recs[0];
	r0.lang = "zz";
	r0.titles = many;
	r0.ntitles = 43;
	r1 = recs[1];
	r1.lang = "zz";
	r1.titles = &many[0];
	r1.ntitles = 1;
	r1.abstracts = NULL;
	r1.nabstracts = 0;
	r0.abstracts = NULL;
	r0.nabstracts = 0;
	err_init(&e);
	s = snap_new(&conf, rv, 2, NULL, 0, &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	feed_langs(&fl, s);
	ck_assert_uint_eq(fl.n, FEED_LANGS_MAX);
	/* aa (2 records), zz (2), then ab..be (30 of the 39 ties) */
	ck_assert_str_eq(fl.tags[0], "aa");
	ck_assert_str_eq(fl.tags[1], "ab");
	ck_assert_str_eq(fl.tags[30], "be");
	ck_assert_str_eq(fl.tags[31], "zz");
	snap_release(s);
	err_release(&e);
}
END_TEST

static Suite *
feed_suite(void)
{
	Suite	*s = suite_create("feed");
	TCase	*tc = tcase_create("render");

	tcase_add_checked_fixture(tc, fixtures, pins_release);
	tcase_add_test(tc, test_atom_current);
	tcase_add_test(tc, test_atom_empty);
	tcase_add_test(tc, test_rss);
	tcase_add_test(tc, test_publish_emails);
	tcase_add_test(tc, test_entry_dates);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_ics);
	tcase_add_loop_test(tc, test_lang_norm, 0,
	    sizeof(lang_cases) / sizeof(lang_cases[0]));
	tcase_add_test(tc, test_lang_atom);
	tcase_add_test(tc, test_lang_entry_links);
	tcase_add_test(tc, test_lang_rss);
	tcase_add_test(tc, test_lang_json);
	tcase_add_loop_test(tc, test_key_string_field, 0,
	    sizeof(conf_key_strings) / sizeof(conf_key_strings[0]));
	tcase_add_loop_test(tc, test_key_int_field, 0,
	    sizeof(conf_key_ints) / sizeof(conf_key_ints[0]));
	tcase_add_test(tc, test_key_arrays);
	tcase_add_test(tc, test_key_unrelated);
	tcase_add_loop_test(tc, test_tag_id, 0,
	    sizeof(tag_cases) / sizeof(tag_cases[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("build");
	tcase_add_checked_fixture(tc, fixtures, pins_release);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_archives);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_first_start_dates);
	tcase_add_test(tc, test_lazy_once);
	tcase_add_test(tc, test_cache_evicted_same);
	tcase_add_test(tc, test_cache_not_stale);
	tcase_add_test(tc, test_cache_cap);
	tcase_add_test(tc, test_cache_threads);
	tcase_add_test(tc, test_index);
	tcase_add_test(tc, test_index_empty);
	tcase_add_test(tc, test_index_upcoming);
	tcase_add_test(tc, test_html_pages);
	tcase_add_test(tc, test_record_page);
	tcase_add_test(tc, test_event_local_time);
	tcase_add_test(tc, test_published_date_text);
	tcase_add_test(tc, test_pages_in_every_language);
	tcase_add_test(tc, test_record_canonical_self);
	tcase_add_test(tc, test_record_links);
	tcase_add_test(tc, test_record_linkset);
	tcase_add_test(tc, test_record_links_budget);
	tcase_add_test(tc, test_entry_links_here);
	tcase_add_test(tc, test_record_lazy);
	tcase_add_test(tc, test_export_pages);
	tcase_add_test(tc, test_style);
	tcase_add_test(tc, test_lang_build);
	tcase_add_test(tc, test_lang_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(feed_suite());
}
