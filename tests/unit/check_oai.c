/*
 * check_oai: the OAI-PMH 2.0 data provider over a hand-built snapshot.
 *
 * Argument decoding, tokens (round trip, forgery, keys), a table of
 * requests with their expected error codes, full harvests following
 * resumption tokens, tokens surviving a rebuilt snapshot, and every
 * response validated against the official schemas through the standards
 * kit's catalog (PUBFEED_STANDARDS, default ../shared/standards).
 * The record cache: responses built from cached blocks are the bytes
 * rendered without it, blocks never cross configurations, threads racing to
 * fill a cache agree.
 */
#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "conf.h"
#include "oai.h"
#include "oai_cache.h"
#include "oai_int.h"
#include "record.h"
#include "snap.h"
#include "testlib.h"

#define OUT_MAX		(16 * 1024 * 1024)
#define DAY		86400
/* 2020-09-13T01:00:00Z */
#define T0		INT64_C(1599958800)

static const char conf_text[] =
    "repository-name \"Test Repository\"\n"
    "base-url http://example.org/pub\n"
    "admin-email a@example.org\n"
    "admin-email b@example.org\n"
    "records /nonexistent\n"
    "state /nonexistent\n"
    "feed-author-name Tester\n"
    "oai-namespace example.org\n"
    "oai-page-size 2\n"
    "set topic Topics \"All the topics\"\n"
    "set topic:smuggling Smuggling\n";

static const char conf_nosets_text[] =
    "repository-name \"Plain Repository\"\n"
    "base-url http://example.org\n"
    "admin-email a@example.org\n"
    "records /nonexistent\n"
    "state /nonexistent\n"
    "feed-author-name Tester\n"
    "oai-namespace plain.example.org\n";

static const struct {
	const char	*id;
	int64_t		 ds;
	const char	*set1, *set2;
} live[] = {
	{ "a1", T0, "topic:smuggling", NULL },
	{ "a2", T0, "region:bulgaria", NULL },
	{ "a3", T0 + 100, "topic:smuggling", "region:bulgaria" },
	{ "a4", T0 + DAY, NULL, NULL },
	{ "a5", T0 + 2 * DAY, "topic", NULL },
	{ "a6", T0 + 2 * DAY + 5, "topic:trafficking", NULL },
	{ "a7", T0 + 10 * DAY, NULL, NULL },
};

static const char *const d1_sets[] = { "topic:smuggling" };
static const struct snap_tomb tombs[] = {
	{ "d1", T0 + 50, d1_sets, 1 },
	{ "d2", T0 + 3 * DAY, NULL, 0 },
};

static const unsigned char key1[] = "first key, 32 bytes of secret..";
static const unsigned char key2[] = "another key entirely";
static const struct oai_ctx ctx1 = {
	.key = key1, .keylen = sizeof(key1) - 1, .now = T0 + 20 * DAY
};
static const struct oai_ctx ctx2 = {
	.key = key2, .keylen = sizeof(key2) - 1, .now = T0 + 20 * DAY
};

static struct record_schema	*rschema;
static struct conf		*conf, *conf_nosets;
static struct record		*recs[NELEM(live)];
static struct snap		*snap, *snap_nosets, *snap_empty;
static xmlSchemaPtr		 xsd;
static xmlSchemaPtr		 xsd_oaire;	/* oai-pmh-openaire.xsd */

/* ------------------------------------------------------------------ */
/* Fixtures */

static struct record *
make_record(const char *id, int64_t ds, const char *s1, const char *s2)
{
	char		 xml[2048], sets[256] = "";
	struct err	 e;
	struct record	*r;

	if (s1 != NULL)
		snprintf(sets, sizeof(sets), "<set>%s</set>%s%s%s", s1,
		    s2 != NULL ? "<set>" : "", s2 != NULL ? s2 : "",
		    s2 != NULL ? "</set>" : "");
	snprintf(xml, sizeof(xml),
	    "<record xmlns=\"" RECORD_NS "\" id=\"%s\" type=\"report\" "
	    "xml:lang=\"en\"><title xml:lang=\"en\">Title of %s</title>"
	    "<creator><person><family>Doe</family><given>Jane</given>"
	    "</person></creator><issued>2020-01-0%c</issued>"
	    "<language>en</language><subject>crime</subject>"
	    "<abstract xml:lang=\"en\">About %s &amp; more.</abstract>"
	    "<publisher>Test Press</publisher>"
	    "<identifier type=\"doi\">10.1234/%s</identifier>"
	    "<link rel=\"landing\" href=\"https://example.org/p/%s\"/>"
	    "%s</record>", id, id, id[1], id, id, id, sets);
	err_init(&e);
	r = record_parse_mem(rschema, xml, strlen(xml), id, 0, &e);
	if (r == NULL)
		fprintf(stderr, "record %s: %s\n", id, e.msg);
	err_release(&e);
	if (r != NULL)
		r->datestamp = ds;
	return r;
}

static struct conf *
make_conf(const char *text)
{
	struct err	 e;
	struct conf	*c;

	err_init(&e);
	c = conf_parse_mem(text, strlen(text), "test.conf", &e);
	if (c == NULL)
		fprintf(stderr, "conf: %s\n", e.all != NULL ? e.all : e.msg);
	err_release(&e);
	return c;
}

static struct snap *
make_snap(struct conf *c, struct record *const *r, size_t n,
    const struct snap_tomb *t, size_t nt)
{
	struct err	 e;
	struct snap	*s;

	err_init(&e);
	s = snap_new(c, r, n, t, nt, &e);
	if (s == NULL)
		fprintf(stderr, "snap: %s\n", e.msg);
	err_release(&e);
	return s;
}

static void
load_schema(void)
{
	char	 path[1024];

	if (tl_standard(path, sizeof(path), "oai-pmh/oai-pmh-all.xsd") == -1) {
		printf("SKIP: %s not found: responses are checked for "
		    "well-formedness only, not against the OAI-PMH schema "
		    "(set PUBFEED_STANDARDS)\n", path);
		return;
	}
	/* the kit's README: the xml: namespace warnings are harmless */
	/* it imports MARC21slim.xsd too: marc21 payloads are validated */
	xsd = tl_xsd_load(path, tl_stderr);
	/* oai_openaire payloads need OpenAIRE's own DataCite and DC schemas */
	if (tl_standard(path, sizeof(path), "oai-pmh/oai-pmh-openaire.xsd") ==
	    0)
		xsd_oaire = tl_xsd_load(path, tl_quiet);
}

static void
setup(void)
{
	struct record	*plain[2];
	struct err	 e;
	size_t		 i;

	err_init(&e);
	xmlInitParser();
	load_schema();
	if ((rschema = record_schema_new(&e)) == NULL) {
		fprintf(stderr, "record schema: %s\n", e.msg);
		exit(1);
	}
	conf = make_conf(conf_text);
	conf_nosets = make_conf(conf_nosets_text);
	if (conf == NULL || conf_nosets == NULL)
		exit(1);
	for (i = 0; i < NELEM(live); i++)
		if ((recs[i] = make_record(live[i].id, live[i].ds,
		    live[i].set1, live[i].set2)) == NULL)
			exit(1);
	snap = make_snap(conf, recs, NELEM(live), tombs, NELEM(tombs));
	/* the same records without sets: a repository with no set hierarchy */
	plain[0] = recs[3];
	plain[1] = recs[6];
	snap_nosets = make_snap(conf_nosets, plain, 2, NULL, 0);
	snap_empty = make_snap(conf_nosets, NULL, 0, NULL, 0);
	if (snap == NULL || snap_nosets == NULL || snap_empty == NULL)
		exit(1);
	err_release(&e);
}

static void
teardown(void)
{
	size_t	 i;

	snap_release(snap);
	snap_release(snap_nosets);
	snap_release(snap_empty);
	for (i = 0; i < NELEM(live); i++)
		record_unref(recs[i]);
	conf_unref(conf);
	conf_unref(conf_nosets);
	record_schema_free(rschema);
	if (xsd != NULL)
		xmlSchemaFree(xsd);
	if (xsd_oaire != NULL)
		xmlSchemaFree(xsd_oaire);
}

/* ------------------------------------------------------------------ */
/* Responses */

static const char *const oai_ns[] = {
	"o", "http://www.openarchives.org/OAI/2.0/",
	"i", "http://www.openarchives.org/OAI/2.0/oai-identifier",
	NULL
};

static xmlXPathObjectPtr
xpath(xmlDocPtr doc, const char *expr)
{
	return tl_xpath(doc, oai_ns, expr);
}

/* The string value of expr (a copy, "" when nothing matches). */
static char *
xstr(xmlDocPtr doc, const char *expr)
{
	return tl_xpath_str(doc, oai_ns, expr);
}

static int
xcount(xmlDocPtr doc, const char *expr)
{
	return tl_xpath_count(doc, oai_ns, expr);
}

static void
validate(xmlDocPtr doc, const char *body)
{
	xmlSchemaValidCtxtPtr	 vc;
	int			 rc;

	if (xsd == NULL)
		return;
	if (strstr(body, "http://namespace.openaire.eu/schema/oaire/") !=
	    NULL) {
		if (xsd_oaire == NULL)
			return;
		vc = xmlSchemaNewValidCtxt(xsd_oaire);
	} else
		vc = xmlSchemaNewValidCtxt(xsd);
	rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	if (rc != 0)
		fprintf(stderr, "invalid response:\n%s\n", body);
	ck_assert_int_eq(rc, 0);
}

/* Answer q and return the parsed, validated document. */
static xmlDocPtr
ask(const struct snap *s, const struct oai_ctx *c, const char *q)
{
	struct buf	 out;
	struct err	 e;
	xmlDocPtr	 doc;
	const char	*verb;

	buf_init(&out, OUT_MAX);
	err_init(&e);
	verb = oai_respond(s, c, q, strlen(q), &out, &e);
	ck_assert_msg(verb != NULL, "%s: %s", q, e.msg);
	doc = xmlReadMemory(out.data, (int)out.len, "response.xml", NULL,
	    XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "not well-formed: %s", out.data);
	validate(doc, out.data);
	buf_release(&out);
	err_release(&e);
	return doc;
}

/* The error codes of a response, comma-separated, "" for none. */
static char *
codes(xmlDocPtr doc)
{
	xmlXPathObjectPtr	 o = xpath(doc, "/o:OAI-PMH/o:error/@code");
	char			 all[512] = "";
	xmlChar			*v;
	int			 i;

	for (i = 0; o->nodesetval != NULL && i < o->nodesetval->nodeNr;
	    i++) {
		v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
		if (i > 0)
			strncat(all, ",", sizeof(all) - strlen(all) - 1);
		strncat(all, (char *)v, sizeof(all) - strlen(all) - 1);
		xmlFree(v);
	}
	xmlXPathFreeObject(o);
	return strdup(all);
}

/* ------------------------------------------------------------------ */
/* oai_args_parse */

static const struct {
	const char	*in;
	int		 n;
	int		 bad_encoding, too_many;
	const char	*key0, *value0;
} args_cases[] = {
	{ "", 0, 0, 0, NULL, NULL },
	{ "&&", 0, 0, 0, NULL, NULL },
	{ "verb=Identify", 1, 0, 0, "verb", "Identify" },
	{ "verb=Identify&", 1, 0, 0, "verb", "Identify" },
	{ "a+b=c+d", 1, 0, 0, "a b", "c d" },
	{ "id=oai%3Aex.org%3Aab%253Ccd", 1, 0, 0, "id", "oai:ex.org:ab%3Ccd" },
	{ "k=%e2%82%ac", 1, 0, 0, "k", "\xe2\x82\xac" },
	{ "flag", 1, 0, 0, "flag", "" },
	{ "=v", 1, 0, 0, "", "v" },
	{ "a=b=c", 1, 0, 0, "a", "b=c" },
	{ "k=%zz", 1, 1, 0, "k", "zz" },
	{ "k=%4", 1, 1, 0, "k", "4" },
	{ "k=%", 1, 1, 0, "k", "" },
	{ "k=a%00b", 1, 1, 0, "k", "ab" },
	{ "k=%C3%28", 1, 1, 0, NULL, NULL },
	{ "k=%ED%A0%80", 1, 1, 0, NULL, NULL },		/* surrogate */
	{ "k=%C0%AF", 1, 1, 0, NULL, NULL },		/* overlong */
	{ "k=%01", 1, 1, 0, NULL, NULL },		/* XML-forbidden */
	{ "%ff=1", 1, 1, 0, NULL, NULL },
};

START_TEST(test_args_parse)
{
	struct oai_args	 a;
	const char	*in = args_cases[_i].in;

	ck_assert_int_eq(oai_args_parse(in, strlen(in), &a), 0);
	ck_assert_int_eq((int)a.n, args_cases[_i].n);
	ck_assert_int_eq(a.bad_encoding, args_cases[_i].bad_encoding);
	ck_assert_int_eq(a.too_many, args_cases[_i].too_many);
	if (args_cases[_i].key0 != NULL) {
		ck_assert_str_eq(a.v[0].key, args_cases[_i].key0);
		ck_assert_str_eq(a.v[0].value, args_cases[_i].value0);
	}
	oai_args_release(&a);
}
END_TEST

START_TEST(test_args_limits)
{
	struct oai_args	 a;
	char		*q;
	size_t		 i, n = 0;

	q = malloc(3 * OAI_ARG_MAX);
	for (i = 0; i < OAI_ARGS_MAX; i++)
		n += (size_t)snprintf(q + n, 64, "k%zu=v&", i);
	ck_assert_int_eq(oai_args_parse(q, n, &a), 0);
	ck_assert_int_eq((int)a.n, OAI_ARGS_MAX);
	ck_assert_int_eq(a.too_many, 0);
	oai_args_release(&a);
	n += (size_t)snprintf(q + n, 64, "one=more");
	ck_assert_int_eq(oai_args_parse(q, n, &a), 0);
	ck_assert_int_eq(a.too_many, 1);
	oai_args_release(&a);
	/* a value of exactly OAI_ARG_MAX bytes is fine, one more is not */
	memcpy(q, "k=", 2);
	memset(q + 2, 'x', OAI_ARG_MAX + 1);
	ck_assert_int_eq(oai_args_parse(q, 2 + OAI_ARG_MAX, &a), 0);
	ck_assert_int_eq(a.too_many, 0);
	oai_args_release(&a);
	ck_assert_int_eq(oai_args_parse(q, 3 + OAI_ARG_MAX, &a), 0);
	ck_assert_int_eq(a.too_many, 1);
	ck_assert_int_eq((int)a.n, 0);
	oai_args_release(&a);
	/* a NUL byte in the raw input */
	ck_assert_int_eq(oai_args_parse("k=a\0b", 5, &a), 0);
	ck_assert_int_eq(a.bad_encoding, 1);
	oai_args_release(&a);
	free(q);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Tokens */

static void
sample_token(struct oai_token *t)
{
	memset(t, 0, sizeof(*t));
	t->verb = OAI_LIST_RECORDS;
	t->prefix = "oai_dc";
	t->set = "topic:smuggling";
	t->from = INT64_MIN;
	t->until = T0 + DAY - 1;
	t->last_ds = T0 + 100;
	t->last = "a3";
	t->cursor = 42;
}

START_TEST(test_token_roundtrip)
{
	struct oai_token	 t, d;
	struct buf		 b;
	size_t			 i;

	sample_token(&t);
	buf_init(&b, 8192);
	ck_assert_int_eq(oai_token_encode(&t, key1, 10, &b), 0);
	/* URL-safe: nothing a harvester would have to escape */
	for (i = 0; i < b.len; i++)
		ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_", b.data[i]) != NULL);
	ck_assert_int_eq(oai_token_decode(b.data, b.len, key1, 10, &d), 0);
	ck_assert_int_eq(d.verb, t.verb);
	ck_assert_str_eq(d.prefix, t.prefix);
	ck_assert_str_eq(d.set, t.set);
	ck_assert(d.from == t.from && d.until == t.until);
	ck_assert(d.last_ds == t.last_ds && d.cursor == t.cursor);
	ck_assert_str_eq(d.last, t.last);
	/* another key, a truncated token, a longer one */
	ck_assert_int_eq(oai_token_decode(b.data, b.len, key2, 10, &d), -1);
	ck_assert_int_eq(oai_token_decode(b.data, b.len - 1, key1, 10, &d),
	    -1);
	ck_assert_int_eq(oai_token_decode(b.data, 10, key1, 10, &d), -1);
	ck_assert_int_eq(oai_token_decode("", 0, key1, 10, &d), -1);
	buf_addch(&b, 'A');
	ck_assert_int_eq(oai_token_decode(b.data, b.len, key1, 10, &d), -1);
	buf_release(&b);
}
END_TEST

START_TEST(test_token_flip)
{
	struct oai_token	 t, d;
	struct buf		 b;
	size_t			 i;
	char			 keep;

	sample_token(&t);
	buf_init(&b, 8192);
	ck_assert_int_eq(oai_token_encode(&t, key1, 10, &b), 0);
	/* every single-character change is caught */
	for (i = 0; i < b.len; i++) {
		keep = b.data[i];
		b.data[i] = keep == 'A' ? 'B' : 'A';
		ck_assert_int_eq(oai_token_decode(b.data, b.len, key1, 10,
		    &d), -1);
		b.data[i] = '=';
		ck_assert_int_eq(oai_token_decode(b.data, b.len, key1, 10,
		    &d), -1);
		b.data[i] = keep;
	}
	ck_assert_int_eq(oai_token_decode(b.data, b.len, key1, 10, &d), 0);
	buf_release(&b);
}
END_TEST

START_TEST(test_token_too_long)
{
	struct oai_token	 t;
	struct buf		 b;
	char			*id = malloc(OAI_ARG_MAX);

	memset(id, 'x', OAI_ARG_MAX - 1);
	id[OAI_ARG_MAX - 1] = '\0';
	sample_token(&t);
	t.last = id;
	buf_init(&b, 64 * 1024);
	ck_assert_int_eq(oai_token_encode(&t, key1, 10, &b), -1);
	ck_assert_int_eq((int)b.len, 0);
	buf_release(&b);
	free(id);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Requests: expected error codes, "" for a normal answer */

#define LI	"verb=ListIdentifiers&metadataPrefix=oai_dc"
#define LR	"verb=ListRecords&metadataPrefix=oai_dc"
#define GR	"verb=GetRecord&identifier=oai:example.org:"

static const struct {
	const char	*q;
	const char	*codes;
	int		 n;	/* entities listed, -1: any */
} reqs[] = {
	{ "", "badVerb", -1 },
	{ "verb=Foo", "badVerb", -1 },
	{ "verb=identify", "badVerb", -1 },
	{ "Verb=Identify", "badVerb", -1 },
	{ "verb=Identify&verb=Identify", "badVerb", -1 },
	{ "verb=Identify&verb=ListSets", "badVerb", -1 },
	{ "metadataPrefix=oai_dc", "badVerb", -1 },
	{ "verb=Identify", "", -1 },
	{ "verb=Identify&foo=bar", "badArgument", -1 },
	{ "verb=Identify&metadataPrefix=oai_dc", "badArgument", -1 },
	{ "verb=Identify&%zz=1", "badArgument,badArgument", -1 },
	{ "verb=Identify&x=%00", "badArgument,badArgument", -1 },
	{ "verb=Identify&x=%C3%28", "badArgument,badArgument", -1 },
	{ "verb=ListMetadataFormats", "", 4 },
	/* a1 states no access right: OpenAIRE cannot take it */
	{ "verb=ListMetadataFormats&identifier=oai:example.org:a1", "", 3 },
	{ "verb=ListMetadataFormats&identifier=oai:example.org:d1", "", 4 },
	{ "verb=ListMetadataFormats&identifier=oai:example.org:zz",
	    "idDoesNotExist", -1 },
	{ "verb=ListMetadataFormats&identifier=oai:other.org:a1",
	    "idDoesNotExist", -1 },
	{ "verb=ListMetadataFormats&identifier=a1", "idDoesNotExist", -1 },
	{ "verb=ListMetadataFormats&identifier=oai:example.org:",
	    "idDoesNotExist", -1 },
	{ "verb=ListMetadataFormats&identifier=a&identifier=b",
	    "badArgument", -1 },
	{ "verb=ListMetadataFormats&identifier=a%20b", "badArgument", -1 },
	{ "verb=ListMetadataFormats&metadataPrefix=oai_dc", "badArgument",
	    -1 },
	{ "verb=ListSets", "", 2 },
	{ "verb=ListSets&set=topic", "badArgument", -1 },
	{ "verb=ListSets&resumptionToken=", "badArgument", -1 },
	{ "verb=ListSets&resumptionToken=junk", "badResumptionToken", -1 },
	{ "verb=ListSets&resumptionToken=a&resumptionToken=a",
	    "badArgument", -1 },
	{ GR "a1&metadataPrefix=oai_dc", "", 1 },
	{ GR "d1&metadataPrefix=oai_dc", "", 1 },
	{ GR "a1", "badArgument", -1 },
	{ "verb=GetRecord&metadataPrefix=oai_dc", "badArgument", -1 },
	{ "verb=GetRecord", "badArgument,badArgument", -1 },
	{ GR "a1&metadataPrefix=nope", "cannotDisseminateFormat", -1 },
	{ GR "a1&metadataPrefix=oai_openaire", "cannotDisseminateFormat",
	    -1 },
	{ GR "d1&metadataPrefix=oai_openaire", "", 1 },
	/* no live record states access rights: only the deleted headers */
	{ "verb=ListRecords&metadataPrefix=oai_openaire", "", 2 },
	{ GR "a1&metadataPrefix=oai%20dc", "badArgument", -1 },
	{ GR "zz&metadataPrefix=oai_dc", "idDoesNotExist", -1 },
	{ GR "zz&metadataPrefix=nope",
	    "idDoesNotExist,cannotDisseminateFormat", -1 },
	{ GR "a1&metadataPrefix=oai_dc&set=topic", "badArgument", -1 },
	{ GR "a1&metadataPrefix=oai_dc&metadataPrefix=oai_dc",
	    "badArgument", -1 },
	{ GR "a1&metadataPrefix=oai_dc&resumptionToken=x",
	    "badArgument", -1 },
	{ "verb=ListIdentifiers", "badArgument", -1 },
	{ LI, "", 2 },
	{ "verb=ListIdentifiers&metadataPrefix=nope",
	    "cannotDisseminateFormat", -1 },
	{ LI "&from=2020-09-13", "", 2 },
	{ LI "&from=2020-13-01", "badArgument", -1 },
	{ LI "&from=2020-09-13T00:00:00%2B01:00", "badArgument", -1 },
	{ LI "&from=2020-09-13T00:00:00", "badArgument", -1 },
	{ LI "&from=2020-09-13T00:00:00.5Z", "badArgument", -1 },
	{ LI "&from=2020-09-13&until=2020-09-14T00:00:00Z", "badArgument",
	    -1 },
	{ LI "&from=2020-09-14&until=2020-09-13", "badArgument", -1 },
	{ LI "&from=2020-09-13&from=2020-09-13", "badArgument", -1 },
	{ LI "&until=2000-01-01", "noRecordsMatch", -1 },
	{ LI "&from=2030-01-01", "noRecordsMatch", -1 },
	{ LI "&until=2020-09-13T00:59:59Z", "noRecordsMatch", -1 },
	{ LI "&from=2020-09-13T01:00:00Z&until=2020-09-13T01:00:00Z", "", 2 },
	{ LI "&from=2020-09-23T01:00:00Z", "", 1 },
	{ LI "&set=topic", "", 2 },
	{ LI "&set=nosuch", "noRecordsMatch", -1 },
	{ LI "&set=bad%20set", "badArgument", -1 },
	{ LI "&set=topic:", "badArgument", -1 },
	{ LI "&resumptionToken=abc", "badArgument", -1 },
	{ "verb=ListIdentifiers&resumptionToken=abc", "badResumptionToken",
	    -1 },
	{ "verb=ListRecords", "badArgument", -1 },
	{ LR, "", 2 },
	{ "verb=ListRecords&metadataPrefix=marc21", "", 2 },
	{ "verb=ListRecords&metadataPrefix=oai_datacite", "", 2 },
	{ GR "a2&metadataPrefix=oai_datacite", "", 1 },
	{ LR "&until=2020-09-13", "", 2 },
	{ LR "&from=2020-09-13&until=2020-09-13", "", 2 },
	{ LR "&bogus=1", "badArgument", -1 },
	{ LR "&from=2020-09-13&bogus=1&set=x:", "badArgument,badArgument",
	    -1 },
};

START_TEST(test_requests)
{
	struct oai_args	 a;
	xmlDocPtr	 doc = ask(snap, &ctx1, reqs[_i].q);
	char		*c = codes(doc), *name;
	int		 echo, n;

	ck_assert_msg(strcmp(c, reqs[_i].codes) == 0, "%s: got '%s' want '%s'",
	    reqs[_i].q, c, reqs[_i].codes);
	/* the request element and its attributes (section 3.2) */
	name = xstr(doc, "/o:OAI-PMH/o:request");
	ck_assert_str_eq(name, "http://example.org/pub/oai");
	free(name);
	ck_assert_int_eq(oai_args_parse(reqs[_i].q, strlen(reqs[_i].q), &a),
	    0);
	echo = strstr(c, "badVerb") == NULL && strstr(c, "badArgument") ==
	    NULL;
	ck_assert_int_eq(xcount(doc, "/o:OAI-PMH/o:request/@*"),
	    echo ? (int)a.n : 0);
	oai_args_release(&a);
	if (*c == '\0') {
		name = xstr(doc, "local-name(/o:OAI-PMH/*[3])");
		ck_assert(strstr(reqs[_i].q, name) != NULL);
		free(name);
	}
	if (reqs[_i].n >= 0) {
		n = xcount(doc, "//o:header") + xcount(doc, "//o:set") +
		    xcount(doc, "//o:metadataFormat");
		ck_assert_int_eq(n, reqs[_i].n);
	}
	ck_assert_int_eq(xcount(doc, "/o:OAI-PMH/o:responseDate"
	    "[.='2020-10-03T01:00:00Z']"), 1);
	free(c);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_too_many_args)
{
	char		 q[1024];
	size_t		 n, i;
	xmlDocPtr	 doc;
	char		*c;

	n = (size_t)snprintf(q, sizeof(q), "verb=Identify");
	for (i = 0; i < OAI_ARGS_MAX; i++)
		n += (size_t)snprintf(q + n, sizeof(q) - n, "&k%zu=1", i);
	doc = ask(snap, &ctx1, q);
	c = codes(doc);
	ck_assert(strncmp(c, "badArgument", 11) == 0);
	ck_assert_int_eq(xcount(doc, "/o:OAI-PMH/o:request/@*"), 0);
	free(c);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_no_sets)
{
	static const char *const q[] = {
		"verb=ListSets",
		LI "&set=topic",
		LR "&set=topic",
	};
	xmlDocPtr	 doc;
	char		*c;
	int		 i;

	for (i = 0; i < NELEM(q); i++) {
		doc = ask(snap_nosets, &ctx1, q[i]);
		c = codes(doc);
		ck_assert_str_eq(c, "noSetHierarchy");
		ck_assert_int_eq(xcount(doc, "/o:OAI-PMH/o:request/@verb"), 1);
		free(c);
		xmlFreeDoc(doc);
	}
	doc = ask(snap_empty, &ctx1, LR);
	c = codes(doc);
	ck_assert_str_eq(c, "noRecordsMatch");
	free(c);
	xmlFreeDoc(doc);
	doc = ask(snap_empty, &ctx1, "verb=Identify");
	c = xstr(doc, "//o:earliestDatestamp");
	ck_assert_str_eq(c, "1970-01-01T00:00:00Z");
	free(c);
	c = xstr(doc, "//o:baseURL");
	ck_assert_str_eq(c, "http://example.org/oai");
	free(c);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_identify)
{
	static const struct {
		const char	*xp, *want;
	} f[] = {
		{ "//o:repositoryName", "Test Repository" },
		{ "//o:baseURL", "http://example.org/pub/oai" },
		{ "//o:protocolVersion", "2.0" },
		{ "//o:adminEmail[1]", "a@example.org" },
		{ "//o:adminEmail[2]", "b@example.org" },
		{ "//o:earliestDatestamp", "2020-09-13T01:00:00Z" },
		{ "//o:deletedRecord", "persistent" },
		{ "//o:granularity", "YYYY-MM-DDThh:mm:ssZ" },
		{ "//o:compression[1]", "gzip" },
		{ "//o:compression[2]", "deflate" },
		{ "//i:oai-identifier/i:scheme", "oai" },
		{ "//i:repositoryIdentifier", "example.org" },
		{ "//i:delimiter", ":" },
		{ "//i:sampleIdentifier", "oai:example.org:a1" },
		{ "/o:OAI-PMH/o:request/@verb", "Identify" },
	};
	xmlDocPtr	 doc = ask(snap, &ctx1, "verb=Identify");
	char		*v;
	int		 i;

	for (i = 0; i < NELEM(f); i++) {
		v = xstr(doc, f[i].xp);
		ck_assert_msg(strcmp(v, f[i].want) == 0, "%s: '%s'", f[i].xp,
		    v);
		free(v);
	}
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_records)
{
	xmlDocPtr	 doc;
	char		*v;

	/* a live record: every set, its metadata */
	doc = ask(snap, &ctx1, GR "a3&metadataPrefix=oai_dc");
	ck_assert_int_eq(xcount(doc, "//o:header/o:setSpec"), 2);
	ck_assert_int_eq(xcount(doc, "//o:header/@status"), 0);
	ck_assert_int_eq(xcount(doc, "//o:metadata/*"), 1);
	v = xstr(doc, "//o:header/o:datestamp");
	ck_assert_str_eq(v, "2020-09-13T01:01:40Z");
	free(v);
	xmlFreeDoc(doc);
	/* a deleted one: status, sets, no metadata */
	doc = ask(snap, &ctx1, GR "d1&metadataPrefix=marc21");
	v = xstr(doc, "//o:header/@status");
	ck_assert_str_eq(v, "deleted");
	free(v);
	ck_assert_int_eq(xcount(doc, "//o:header/o:setSpec"), 1);
	ck_assert_int_eq(xcount(doc, "//o:metadata"), 0);
	xmlFreeDoc(doc);
	/* ListSets: the name is the spec when none is configured */
	doc = ask(snap, &ctx1, "verb=ListSets");
	v = xstr(doc, "//o:set[o:setSpec='region']/o:setName");
	ck_assert_str_eq(v, "region");
	free(v);
	xmlFreeDoc(doc);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Harvests */

struct harvest {
	char	 ids[64][64];	/* identifiers or setSpecs, in order */
	int	 n;
	int	 pages;
	char	 last_token[8192];	/* the last non-empty one */
};

/* Collect the page's entities; return its token ("" at the end). */
static char *
take_page(xmlDocPtr doc, struct harvest *h, int expect_total)
{
	xmlXPathObjectPtr	 o;
	xmlChar			*v;
	char			*tok, *s;
	int			 i, cursor;

	o = xpath(doc, "//o:header/o:identifier | //o:set/o:setSpec");
	ck_assert(o->nodesetval != NULL && o->nodesetval->nodeNr > 0);
	if (xcount(doc, "//o:resumptionToken") == 1) {
		s = xstr(doc, "//o:resumptionToken/@cursor");
		cursor = (int)strtol(s, NULL, 10);
		free(s);
		ck_assert_int_eq(cursor, h->n);
		s = xstr(doc, "//o:resumptionToken/@completeListSize");
		if (expect_total >= 0)
			ck_assert_int_eq((int)strtol(s, NULL, 10),
			    expect_total);
		free(s);
	} else
		ck_assert_int_eq(h->pages, 0);	/* complete in one page */
	for (i = 0; i < o->nodesetval->nodeNr; i++) {
		v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
		ck_assert(h->n < 64);
		snprintf(h->ids[h->n++], 64, "%s", (char *)v);
		xmlFree(v);
	}
	xmlXPathFreeObject(o);
	h->pages++;
	tok = xstr(doc, "//o:resumptionToken");
	if (*tok != '\0')
		snprintf(h->last_token, sizeof(h->last_token), "%s", tok);
	return tok;
}

static void
harvest_from(const struct snap *s, const char *verb, char *tok,
    struct harvest *h, int total)
{
	char		 q[8400];
	xmlDocPtr	 doc;

	while (*tok != '\0') {
		snprintf(q, sizeof(q), "verb=%s&resumptionToken=%s", verb, tok);
		free(tok);
		doc = ask(s, &ctx1, q);
		tok = take_page(doc, h, total);
		xmlFreeDoc(doc);
	}
	free(tok);
}

static void
harvest(const struct snap *s, const char *verb, const char *args,
    struct harvest *h, int total)
{
	char		 q[512];
	xmlDocPtr	 doc;

	memset(h, 0, sizeof(*h));
	snprintf(q, sizeof(q), "verb=%s%s", verb, args);
	doc = ask(s, &ctx1, q);
	harvest_from(s, verb, take_page(doc, h, total), h, total);
	xmlFreeDoc(doc);
}

static int
has_id(const struct harvest *h, const char *id)
{
	int	 i, n = 0;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->ids[i], id) == 0 ||
		    (strncmp(h->ids[i], "oai:example.org:", 16) == 0 &&
		    strcmp(h->ids[i] + 16, id) == 0))
			n++;
	return n;
}

static const struct {
	const char	*verb, *args;
	const char	*want;	/* local ids in (datestamp, id) order */
} harvests[] = {
	{ "ListIdentifiers", "&metadataPrefix=oai_dc",
	    "a1 a2 d1 a3 a4 a5 a6 d2 a7" },
	{ "ListRecords", "&metadataPrefix=oai_dc",
	    "a1 a2 d1 a3 a4 a5 a6 d2 a7" },
	{ "ListRecords", "&metadataPrefix=marc21",
	    "a1 a2 d1 a3 a4 a5 a6 d2 a7" },
	{ "ListRecords", "&metadataPrefix=oai_datacite",
	    "a1 a2 d1 a3 a4 a5 a6 d2 a7" },
	{ "ListIdentifiers", "&metadataPrefix=oai_dc&set=topic",
	    "a1 d1 a3 a5 a6" },
	{ "ListRecords", "&metadataPrefix=oai_dc&set=topic:smuggling",
	    "a1 d1 a3" },
	{ "ListRecords", "&metadataPrefix=oai_dc&set=region",
	    "a2 a3" },
	{ "ListIdentifiers", "&metadataPrefix=oai_dc&from=2020-09-13"
	    "&until=2020-09-14", "a1 a2 d1 a3 a4" },
	{ "ListIdentifiers", "&metadataPrefix=oai_dc"
	    "&from=2020-09-13T01:00:50Z&until=2020-09-15T01:00:00Z",
	    "d1 a3 a4 a5" },
	{ "ListIdentifiers", "&metadataPrefix=oai_dc&set=topic"
	    "&from=2020-09-13T01:00:01Z", "d1 a3 a5 a6" },
	{ "ListSets", "",
	    "region region:bulgaria topic topic:smuggling topic:trafficking" },
};

START_TEST(test_harvest)
{
	struct harvest	 h;
	char		 want[256], *w, *save = NULL;
	int		 n = 0;

	snprintf(want, sizeof(want), "%s", harvests[_i].want);
	for (w = want; *w != '\0'; w++)
		n += *w == ' ';
	harvest(snap, harvests[_i].verb, harvests[_i].args, &h, n + 1);
	ck_assert_int_eq(h.n, n + 1);
	n = 0;
	for (w = strtok_r(want, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		ck_assert_msg(has_id(&h, w) == 1, "%s: %s", harvests[_i].args,
		    w);
		ck_assert(strstr(h.ids[n++], w) != NULL);
	}
	ck_assert_int_eq(h.pages, (h.n + 1) / 2);
}
END_TEST

/* Re-issuing a token while nothing changed gives the same bytes. */
START_TEST(test_token_idempotent)
{
	struct harvest	 h;
	char		 q[8400];
	struct buf	 a, b;
	struct err	 e;

	harvest(snap, "ListRecords", "&metadataPrefix=oai_dc", &h, 9);
	snprintf(q, sizeof(q), "verb=ListRecords&resumptionToken=%s",
	    h.last_token);
	buf_init(&a, OUT_MAX);
	buf_init(&b, OUT_MAX);
	err_init(&e);
	ck_assert(oai_respond(snap, &ctx1, q, strlen(q), &a, &e) != NULL);
	ck_assert(oai_respond(snap, &ctx1, q, strlen(q), &b, &e) != NULL);
	ck_assert(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	/* the last page ends with an empty token carrying cursor and size */
	ck_assert(strstr(a.data, "completeListSize=\"9\" cursor=\"8\"/>") !=
	    NULL);
	buf_release(&a);
	buf_release(&b);
	err_release(&e);
}
END_TEST

static char *
first_token(const struct snap *s, const struct oai_ctx *c, const char *q)
{
	xmlDocPtr	 doc = ask(s, c, q);
	char		*t = xstr(doc, "//o:resumptionToken");

	xmlFreeDoc(doc);
	ck_assert(*t != '\0');
	return t;
}

static void
expect_bad_token(const char *verb, const char *tok)
{
	char		 q[8400];
	xmlDocPtr	 doc;
	char		*c;

	snprintf(q, sizeof(q), "verb=%s&resumptionToken=%s", verb, tok);
	doc = ask(snap, &ctx1, q);
	c = codes(doc);
	ck_assert_msg(strcmp(c, "badResumptionToken") == 0, "%s: %s", q, c);
	/* not badArgument: the request is echoed */
	ck_assert_int_eq(xcount(doc, "/o:OAI-PMH/o:request/@*"), 2);
	free(c);
	xmlFreeDoc(doc);
}

START_TEST(test_forged_tokens)
{
	char	*t = first_token(snap, &ctx1, LI);
	char	*other = first_token(snap, &ctx2, LI);
	size_t	 i;
	char	 keep;

	for (i = 0; t[i] != '\0'; i++) {
		keep = t[i];
		t[i] = keep == 'x' ? 'y' : 'x';
		expect_bad_token("ListIdentifiers", t);
		t[i] = keep;
	}
	/* a MAC made with another key */
	expect_bad_token("ListIdentifiers", other);
	/* a good token for another verb */
	expect_bad_token("ListRecords", t);
	expect_bad_token("ListSets", t);
	free(t);
	free(other);
}
END_TEST

/* ListSets page 2: a configured set's description as oai_dc. */
START_TEST(test_set_description)
{
	char		 q[8400];
	char		*t = first_token(snap, &ctx1, "verb=ListSets"), *v;
	xmlDocPtr	 doc;

	snprintf(q, sizeof(q), "verb=ListSets&resumptionToken=%s", t);
	doc = ask(snap, &ctx1, q);
	v = xstr(doc, "//o:set[o:setSpec='topic']/o:setName");
	ck_assert_str_eq(v, "Topics");
	free(v);
	v = xstr(doc, "//o:set[o:setSpec='topic']/o:setDescription/*/*");
	ck_assert_str_eq(v, "All the topics");
	free(v);
	ck_assert_int_eq(xcount(doc, "//o:setDescription"), 1);
	xmlFreeDoc(doc);
	free(t);
}
END_TEST

/*
 * A token from one snapshot, used on a rebuilt one where a1 (already sent)
 * and a5 (not yet sent) changed: the harvest goes on, a1 comes again at the
 * end, a5 comes once, and no original record goes missing.
 */
START_TEST(test_token_rebuild)
{
	struct record	*r2[NELEM(live)];
	struct snap	*s2;
	struct harvest	 h;
	xmlDocPtr	 doc;
	char		*tok;
	size_t		 i;

	memset(&h, 0, sizeof(h));
	doc = ask(snap, &ctx1, LI);
	tok = take_page(doc, &h, 9);
	xmlFreeDoc(doc);
	ck_assert_int_eq(h.n, 2);
	ck_assert(has_id(&h, "a1") == 1 && has_id(&h, "a2") == 1);
	for (i = 0; i < NELEM(live); i++)
		r2[i] = record_ref(recs[i]);
	record_unref(r2[0]);
	record_unref(r2[4]);
	r2[0] = make_record("a1", T0 + 15 * DAY, "topic:smuggling", NULL);
	r2[4] = make_record("a5", T0 + 16 * DAY, "topic", NULL);
	ck_assert(r2[0] != NULL && r2[4] != NULL);
	s2 = make_snap(conf, r2, NELEM(live), tombs, NELEM(tombs));
	ck_assert(s2 != NULL);
	harvest_from(s2, "ListIdentifiers", tok, &h, -1);
	for (i = 0; i < NELEM(live); i++)
		ck_assert_msg(has_id(&h, live[i].id) >= 1, "%s", live[i].id);
	ck_assert_int_eq(has_id(&h, "d1"), 1);
	ck_assert_int_eq(has_id(&h, "d2"), 1);
	/* a1 changed after it was sent: it comes again */
	ck_assert_int_eq(has_id(&h, "a1"), 2);
	ck_assert_int_eq(has_id(&h, "a5"), 1);
	ck_assert_int_eq(h.n, 10);
	ck_assert(strstr(h.ids[h.n - 1], "a5") != NULL);
	snap_release(s2);
	for (i = 0; i < NELEM(live); i++)
		record_unref(r2[i]);
}
END_TEST

START_TEST(test_html)
{
	struct buf	 out;
	struct err	 e;
	xmlDocPtr	 doc;

	buf_init(&out, OUT_MAX);
	err_init(&e);
	ck_assert_int_eq(oai_render_html(snap, &out, &e), 0);
	ck_assert(strncmp(out.data, "<!DOCTYPE html>", 15) == 0);
	ck_assert(strstr(out.data, "http://example.org/pub/oai?verb=Identify")
	    != NULL);
	ck_assert(strstr(out.data, "verb=ListRecords&amp;metadataPrefix="
	    "oai_dc&amp;set=topic%3Asmuggling") != NULL);
	ck_assert(strstr(out.data, "marc21") != NULL);
	ck_assert(strstr(out.data, "verb=GetRecord&amp;identifier="
	    "oai%3Aexample.org%3Aa7") != NULL);
	ck_assert(strstr(out.data, "7, and 2 deleted") != NULL);
	/* well-formed XML syntax as well as HTML */
	doc = xmlReadMemory(out.data, (int)out.len, "page.html", NULL,
	    XML_PARSE_NONET);
	ck_assert(doc != NULL);
	xmlFreeDoc(doc);
	buf_release(&out);
	err_release(&e);
}
END_TEST

/* The output cap is an internal failure, and out is left as it was. */
START_TEST(test_output_cap)
{
	struct buf	 out;
	struct err	 e;

	buf_init(&out, 300);
	err_init(&e);
	buf_addstr(&out, "keep");
	ck_assert(oai_respond(snap, &ctx1, LR, strlen(LR), &out, &e) ==
	    NULL);
	ck_assert(e.msg[0] != '\0');
	ck_assert_str_eq(out.data, "keep");
	buf_release(&out);
	err_release(&e);
}
END_TEST

/*
 * The record cache's key covers every field of struct oai_conf and nothing
 * else of struct conf.  The string and int fields come from the lists that
 * declare them (OAI_CONF_STRINGS, OAI_CONF_INTS), so a field added there is
 * tested here without editing this file.
 */
static const size_t oai_key_strings[] = {
#define OFF(f)	offsetof(struct conf, f),
	OAI_CONF_STRINGS(OFF)
#undef OFF
};
static const size_t oai_key_ints[] = {
#define OFF(f)	offsetof(struct conf, f),
	OAI_CONF_INTS(OFF)
#undef OFF
};

static int
key_equal(const struct conf *a, const struct conf *b)
{
	struct oai_conf	 x, y;

	oai_conf_init(&x, a);
	oai_conf_init(&y, b);
	return memcmp(x.key, y.key, HASH_LEN) == 0;
}

START_TEST(test_key_string_field)
{
	struct conf	 c = *snap->conf;
	char		**f = (char **)((char *)&c + oai_key_strings[_i]);
	const char	*was = *f;

	*f = "changed";
	ck_assert(!key_equal(snap->conf, &c));
	*f = was == NULL ? "" : NULL;
	ck_assert(!key_equal(snap->conf, &c));
}
END_TEST

START_TEST(test_key_int_field)
{
	struct conf	 c = *snap->conf;
	int		*f = (int *)((char *)&c + oai_key_ints[_i]);

	*f += 1;
	ck_assert(!key_equal(snap->conf, &c));
}
END_TEST

START_TEST(test_key_admins)
{
	static char	*two[] = { "admin@example.org", "b@example.org" };
	static char	*other[] = { "other@example.org" };
	struct conf	 c = *snap->conf;

	c.admin_emails = two;
	c.nadmin_emails = 2;
	ck_assert(!key_equal(snap->conf, &c));
	c = *snap->conf;
	c.admin_emails = other;
	c.nadmin_emails = 1;
	ck_assert(!key_equal(snap->conf, &c));
}
END_TEST

/* What the oai module does not read leaves the key alone. */
START_TEST(test_key_unrelated)
{
	static struct conf_set	 sets[] = { { "x", "X", "Xs" } };
	struct conf		 c = *snap->conf;

	c.path = "/elsewhere.conf";
	c.tag_authority = "other.example.org,2001";
	c.records_dir = "/srv/records";
	c.state_dir = "/var/lib/x";
	c.listen_addr = "0.0.0.0";
	c.listen_port = 9999;
	c.threads = 7;
	c.feed_title = "Another title";
	c.feed_author_name = "Someone";
	c.feed_entries = 3;
	c.sets = sets;
	c.nsets = 1;
	c.oai_max_requests = 1;
	c.oai_retry_after = 2;
	c.oai_token_key = "secret";
	c.notify_timeout = 7;
	ck_assert(key_equal(snap->conf, &c));
}
END_TEST

/*
 * A format that does not take every record (oai_openaire) skips the others
 * in both lists, counts only its own in completeListSize and cursor, ends
 * the list when only records it skips remain, and says noRecordsMatch when
 * a selection holds none of its records.
 */
static struct record *
make_typed(const char *id, int64_t ds, const char *type, const char *access)
{
	char		 xml[1024];
	struct err	 e;
	struct record	*r;

	snprintf(xml, sizeof(xml),
	    "<record xmlns=\"" RECORD_NS "\" id=\"%s\" type=\"%s\">"
	    "<title>T %s</title><issued>2020-01-01</issued>"
	    "<language>en</language>%s"
	    "<link rel=\"landing\" href=\"https://example.org/p/%s\"/>"
	    "<set>%s</set></record>", id, type, id, access, id, type);
	err_init(&e);
	r = record_parse_mem(rschema, xml, strlen(xml), id, 0, &e);
	ck_assert_msg(r != NULL, "%s: %s", id, e.msg);
	err_release(&e);
	r->datestamp = ds;
	return r;
}

static char *
page_ids(xmlDocPtr doc)
{
	xmlXPathObjectPtr	 o = xpath(doc, "//o:header/o:identifier");
	char			 all[512] = "";
	xmlChar			*v;
	int			 i;

	for (i = 0; o->nodesetval != NULL && i < o->nodesetval->nodeNr;
	    i++) {
		v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
		    i > 0 ? "," : "", (const char *)v + strlen("oai:"
		    "example.org:"));
		xmlFree(v);
	}
	xmlXPathFreeObject(o);
	return strdup(all);
}

START_TEST(test_format_filter)
{
	static const struct {
		const char	*id, *type, *access;
	} def[] = {
		{ "o1", "report", "<access>open</access>" },
		{ "o2", "news", "<access>open</access>" },
		{ "o3", "report", "" },
		{ "o4", "article", "<access until=\"2030-01-01\">embargoed"
		    "</access>" },
		{ "o5", "news", "<access>open</access>" },
		{ "o6", "book", "<access>metadata-only</access>" },
		{ "o7", "news", "" },
	};
	static const char *const verbs[] = { "ListRecords", "ListIdentifiers" };
	struct record	*r[NELEM(def)];
	struct snap	*s;
	xmlDocPtr	 doc;
	char		 q[1024], *c, *tok, *ids;
	size_t		 i, v;

	for (i = 0; i < NELEM(def); i++)
		r[i] = make_typed(def[i].id, T0 + (int64_t)i, def[i].type,
		    def[i].access);
	s = make_snap(conf, r, NELEM(def), NULL, 0);
	ck_assert_ptr_nonnull(s);
	for (v = 0; v < NELEM(verbs); v++) {
		snprintf(q, sizeof(q), "verb=%s&metadataPrefix=oai_openaire",
		    verbs[v]);
		doc = ask(s, &ctx1, q);
		ids = page_ids(doc);
		ck_assert_str_eq(ids, "o1,o4");
		free(ids);
		c = xstr(doc, "//o:resumptionToken/@completeListSize");
		ck_assert_str_eq(c, "3");
		free(c);
		tok = xstr(doc, "//o:resumptionToken");
		xmlFreeDoc(doc);
		snprintf(q, sizeof(q), "verb=%s&resumptionToken=%s", verbs[v],
		    tok);
		free(tok);
		doc = ask(s, &ctx1, q);
		ids = page_ids(doc);
		ck_assert_str_eq(ids, "o6");
		free(ids);
		c = xstr(doc, "//o:resumptionToken/@cursor");
		ck_assert_str_eq(c, "2");
		free(c);
		c = xstr(doc, "//o:resumptionToken/@completeListSize");
		ck_assert_str_eq(c, "3");
		free(c);
		/* o7 follows but is not offered: this is the last page */
		c = xstr(doc, "//o:resumptionToken");
		ck_assert_str_eq(c, "");
		free(c);
		xmlFreeDoc(doc);
		/* a selection of skipped records only */
		snprintf(q, sizeof(q), "verb=%s&metadataPrefix=oai_openaire&"
		    "set=news", verbs[v]);
		doc = ask(s, &ctx1, q);
		c = codes(doc);
		ck_assert_str_eq(c, "noRecordsMatch");
		free(c);
		xmlFreeDoc(doc);
		/* oai_dc takes them all */
		snprintf(q, sizeof(q), "verb=%s&metadataPrefix=oai_dc&set=news",
		    verbs[v]);
		doc = ask(s, &ctx1, q);
		ids = page_ids(doc);
		ck_assert_str_eq(ids, "o2,o5");
		free(ids);
		xmlFreeDoc(doc);
	}
	doc = ask(s, &ctx1, "verb=GetRecord&metadataPrefix=oai_openaire&"
	    "identifier=oai:example.org:o5");
	c = codes(doc);
	ck_assert_str_eq(c, "cannotDisseminateFormat");
	free(c);
	xmlFreeDoc(doc);
	doc = ask(s, &ctx1, "verb=GetRecord&metadataPrefix=oai_openaire&"
	    "identifier=oai:example.org:o6");
	ck_assert_int_eq(xcount(doc, "//o:metadata"), 1);
	xmlFreeDoc(doc);
	doc = ask(s, &ctx1, "verb=ListMetadataFormats&"
	    "identifier=oai:example.org:o2");
	ck_assert_int_eq(xcount(doc, "//o:metadataFormat"), 3);
	ck_assert_int_eq(xcount(doc, "//o:metadataPrefix[.='oai_openaire']"),
	    0);
	xmlFreeDoc(doc);
	doc = ask(s, &ctx1, "verb=ListMetadataFormats&"
	    "identifier=oai:example.org:o1");
	ck_assert_int_eq(xcount(doc, "//o:metadataPrefix[.='oai_openaire']"),
	    1);
	xmlFreeDoc(doc);
	snap_release(s);
	for (i = 0; i < NELEM(def); i++)
		record_unref(r[i]);
}
END_TEST

/*
 * The compressed forms (oai_zip.c): gzip and zlib share one deflate
 * stream, and each inflates to exactly the plain response.
 */
static size_t
inflate_all(const char *data, size_t len, int gzip, struct buf *out)
{
	z_stream	 s;
	unsigned char	 chunk[4096];
	int		 rc;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(inflateInit2(&s, gzip ? 31 : 15), Z_OK);
	s.next_in = (unsigned char *)(uintptr_t)data;
	s.avail_in = (uInt)len;
	do {
		s.next_out = chunk;
		s.avail_out = sizeof(chunk);
		rc = inflate(&s, Z_NO_FLUSH);
		ck_assert_msg(rc == Z_OK || rc == Z_STREAM_END, "inflate %d",
		    rc);
		ck_assert_int_eq(buf_add(out, chunk, sizeof(chunk) -
		    s.avail_out), 0);
	} while (rc != Z_STREAM_END);
	ck_assert_uint_eq(s.avail_in, 0);	/* nothing after the trailer */
	inflateEnd(&s);
	return out->len;
}

/* 1 when data (len bytes, gzip or zlib) inflates to exactly plain. */
static int
inflates_to(const char *data, size_t len, int gzip, const char *plain,
    size_t plainlen)
{
	struct buf	 back;
	int		 same;

	buf_init(&back, OUT_MAX);
	inflate_all(data, len, gzip, &back);
	same = back.len == plainlen && memcmp(back.data, plain, plainlen) == 0;
	buf_release(&back);
	return same;
}

static const char *const zip_queries[] = {
	"verb=ListRecords&metadataPrefix=oai_dc",
	"verb=ListRecords&metadataPrefix=marc21&set=topic",
	"verb=ListRecords&metadataPrefix=oai_datacite&from=2020-09-14",
	"verb=ListIdentifiers&metadataPrefix=oai_dc",
	"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:a3",
	"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:d1",
	"verb=ListRecords&metadataPrefix=oai_dc&until=2000-01-01",
	"verb=ListSets",
	"verb=Identify",
	"verb=Bogus",
};

START_TEST(test_zip)
{
	struct buf	 out, gz, zl;
	struct err	 e;
	const char	*q = zip_queries[_i];

	buf_init(&out, OUT_MAX);
	buf_init(&gz, OUT_MAX);
	buf_init(&zl, OUT_MAX);
	err_init(&e);
	ck_assert_ptr_nonnull(oai_respond(snap, &ctx1, q, strlen(q), &out,
	    &e));
	ck_assert_int_eq(oai_zip_whole(out.data, out.len, &gz), 0);
	ck_assert_int_eq(oai_zip_zlib_of(gz.data, gz.len, out.data, out.len,
	    &zl), 0);
	ck_assert_uint_lt(gz.len, out.len);
	ck_assert(inflates_to(gz.data, gz.len, 1, out.data, out.len));
	ck_assert(inflates_to(zl.data, zl.len, 0, out.data, out.len));
	/* the same deflate stream: only the containers differ */
	ck_assert_uint_eq(gz.len - 18, zl.len - 6);
	ck_assert(memcmp(gz.data + 10, zl.data + 2, gz.len - 18) == 0);
	/* not a gzip body oai_zip_whole() wrote: refused */
	buf_reset(&zl);
	ck_assert_int_eq(oai_zip_zlib_of(out.data, out.len, out.data,
	    out.len, &zl), -1);
	ck_assert_int_eq(oai_zip_zlib_of(gz.data, 10, out.data, out.len,
	    &zl), -1);
	err_release(&e);
	buf_release(&out);
	buf_release(&gz);
	buf_release(&zl);
}
END_TEST

/* A cap reached while compressing: -1, never a truncated body passed on. */
START_TEST(test_zip_cap)
{
	struct buf	 out, gz, zl;
	struct err	 e;
	const char	*q = zip_queries[0];

	buf_init(&out, OUT_MAX);
	buf_init(&gz, 64);
	err_init(&e);
	ck_assert_ptr_nonnull(oai_respond(snap, &ctx1, q, strlen(q), &out,
	    &e));
	ck_assert_int_eq(oai_zip_whole(out.data, out.len, &gz), -1);
	buf_release(&gz);
	buf_init(&gz, OUT_MAX);
	ck_assert_int_eq(oai_zip_whole(out.data, out.len, &gz), 0);
	buf_init(&zl, gz.len / 2);
	ck_assert_int_eq(oai_zip_zlib_of(gz.data, gz.len, out.data, out.len,
	    &zl), -1);
	err_release(&e);
	buf_release(&out);
	buf_release(&gz);
	buf_release(&zl);
}
END_TEST

START_TEST(test_identifiers)
{
	struct oai_conf	 oc;
	struct buf	 b;

	oai_conf_init(&oc, snap->conf);
	buf_init(&b, 256);
	ck_assert_int_eq(oai_identifier(&oc, "x-1", &b), 0);
	ck_assert_str_eq(b.data, "oai:example.org:x-1");
	ck_assert_str_eq(oai_local_id(&oc, b.data), "x-1");
	ck_assert(oai_local_id(&oc, "oai:example.orgx:x-1") == NULL);
	ck_assert(oai_local_id(&oc, "oai:example.org") == NULL);
	ck_assert(oai_local_id(&oc, "oai:example.org:") == NULL);
	ck_assert(oai_local_id(&oc, "OAI:example.org:x") == NULL);
	ck_assert(oai_local_id(&oc, "") == NULL);
	buf_release(&b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Cached item blocks */

/* The whole response to q, as a string the caller frees. */
static char *
answer(const struct snap *s, const char *q)
{
	struct buf	 out;
	struct err	 e;
	char		*body;
	size_t		 len;

	buf_init(&out, OUT_MAX);
	err_init(&e);
	ck_assert_msg(oai_respond(s, &ctx1, q, strlen(q), &out, &e) != NULL,
	    "%s: %s", q, e.msg);
	err_release(&e);
	body = buf_detach(&out, &len);
	ck_assert(body != NULL);
	return body;
}

static const char *const cache_queries[] = {
	"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:a3",
	"verb=GetRecord&metadataPrefix=marc21&identifier=oai:example.org:a3",
	"verb=GetRecord&metadataPrefix=oai_datacite&identifier="
	    "oai:example.org:a3",
	"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:d1",
	LR,
	LI,
	"verb=ListRecords&metadataPrefix=marc21&set=topic:smuggling",
	"verb=ListRecords&metadataPrefix=oai_datacite&from=2020-09-14",
	"verb=ListIdentifiers&metadataPrefix=marc21&set=topic",
};

/* A snapshot over freshly parsed records, whose caches are empty. */
static struct snap *
fresh_snap(struct conf *c, struct record **r)
{
	struct snap	*s;
	size_t		 i;

	for (i = 0; i < NELEM(live); i++) {
		r[i] = make_record(live[i].id, live[i].ds, live[i].set1,
		    live[i].set2);
		ck_assert(r[i] != NULL);
	}
	s = make_snap(c, r, NELEM(live), tombs, NELEM(tombs));
	ck_assert(s != NULL);
	return s;
}

static void
fresh_release(struct snap *s, struct record **r)
{
	size_t	 i;

	snap_release(s);
	for (i = 0; i < NELEM(live); i++)
		record_unref(r[i]);
}

/*
 * A response assembled from cached blocks is byte for byte the response
 * rendered without any cache, on the first request and on later ones.
 */
START_TEST(test_cache_identical)
{
	struct record	*r1[NELEM(live)], *r2[NELEM(live)];
	struct snap	*cold, *warm;
	char		*ref, *a, *b;
	size_t		 base = record_cache_bytes(), before;

	record_cache_limit(0);
	cold = fresh_snap(conf, r1);
	ref = answer(cold, cache_queries[_i]);
	ck_assert_uint_eq(record_cache_bytes(), base);
	record_cache_limit(RECORD_CACHE_DEFAULT);
	warm = fresh_snap(conf, r2);
	a = answer(warm, cache_queries[_i]);
	before = record_cache_bytes();
	/* d1 is deleted: nothing to cache on */
	ck_assert(before > base || strstr(cache_queries[_i], "d1") != NULL);
	b = answer(warm, cache_queries[_i]);
	ck_assert_uint_eq(record_cache_bytes(), before);
	ck_assert_str_eq(a, ref);
	ck_assert_str_eq(b, ref);
	free(ref);
	free(a);
	free(b);
	fresh_release(cold, r1);
	fresh_release(warm, r2);
	ck_assert_uint_eq(record_cache_bytes(), base);
}
END_TEST

/*
 * Records are shared by snapshots with different configurations: a
 * cached block made under one namespace is never served under another.
 */
START_TEST(test_cache_conf_change)
{
	static const char text2[] =
	    "repository-name \"Renamed Repository\"\n"
	    "base-url http://example.org/pub\n"
	    "admin-email a@example.org\n"
	    "records /nonexistent\n"
	    "state /nonexistent\n"
	    "feed-author-name Tester\n"
	    "oai-namespace other.example.org\n"
	    "oai-page-size 2\n";
	static const char *const q[] = {
		"verb=GetRecord&metadataPrefix=oai_datacite&identifier="
		    "oai:%s:a1",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:%s:a1",
		"verb=ListIdentifiers&metadataPrefix=oai_dc%.0s",
	};
	struct conf	*c2 = make_conf(text2);
	struct snap	*s2;
	char		 query[256], *a, *b;
	size_t		 i;

	ck_assert(c2 != NULL);
	s2 = make_snap(c2, recs, NELEM(live), tombs, NELEM(tombs));
	ck_assert(s2 != NULL);
	for (i = 0; i < NELEM(q); i++) {
		snprintf(query, sizeof(query), q[i], "example.org");
		a = answer(snap, query);
		snprintf(query, sizeof(query), q[i], "other.example.org");
		b = answer(s2, query);
		ck_assert(strstr(a, "<identifier>oai:example.org:a1<") !=
		    NULL);
		ck_assert(strstr(b, "<identifier>oai:other.example.org:a1<")
		    != NULL);
		ck_assert(strstr(b, "oai:example.org:") == NULL);
		free(a);
		free(b);
		/* and the first snapshot's blocks are still its own */
		snprintf(query, sizeof(query), q[i], "example.org");
		a = answer(snap, query);
		ck_assert(strstr(a, "other.example.org") == NULL);
		free(a);
	}
	snap_release(s2);
	conf_unref(c2);
}
END_TEST

START_TEST(test_cache_api)
{
	struct record			*r = make_record("c1", T0, NULL, NULL);
	const struct record_cache	*c, *d;
	size_t				 base = record_cache_bytes(), i;
	char				 key[16], big[100];

	ck_assert(r != NULL);
	ck_assert(record_cache_find(r, 1, "k", 1) == NULL);
	c = record_cache_add(r, 1, "k", 1, "value", 5);
	ck_assert(c != NULL);
	ck_assert_uint_eq(c->len, 5);
	ck_assert(memcmp(c->data + c->keylen, "value", 5) == 0);
	ck_assert(record_cache_find(r, 1, "k", 1) == c);
	ck_assert(record_cache_find(r, 2, "k", 1) == NULL);
	ck_assert(record_cache_find(r, 1, "k2", 2) == NULL);
	/* the first rendering stays: an entry never changes */
	ck_assert(record_cache_add(r, 1, "k", 1, "other", 5) == c);
	ck_assert(record_cache_bytes() > base);
	for (i = 1; i < RECORD_CACHE_ENTRIES; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		ck_assert(record_cache_add(r, 1, key, strlen(key), "v", 1) !=
		    NULL);
	}
	ck_assert(record_cache_add(r, 1, "one more", 8, "v", 1) == NULL);
	ck_assert(record_cache_find(r, 1, "k", 1) == c);
	record_unref(r);
	ck_assert_uint_eq(record_cache_bytes(), base);

	r = make_record("c2", T0, NULL, NULL);
	ck_assert(r != NULL);
	record_cache_limit(base + 100);
	ck_assert(record_cache_add(r, 1, "k", 1, "small", 5) != NULL);
	memset(big, 'x', sizeof(big));
	d = record_cache_add(r, 2, "k", 1, big, sizeof(big));
	ck_assert(d == NULL);
	ck_assert(record_cache_find(r, 2, "k", 1) == NULL);
	record_cache_limit(RECORD_CACHE_DEFAULT);
	record_unref(r);
	ck_assert_uint_eq(record_cache_bytes(), base);
}
END_TEST

/* Threads racing to fill the same caches all get the right bytes. */
struct race {
	const struct snap	*s;
	char			*ref[NELEM(cache_queries)];
	int			 bad;
};

static void *
race_run(void *arg)
{
	struct race	*rc = arg;
	struct buf	 out;
	struct err	 e;
	int		 i, k;

	buf_init(&out, OUT_MAX);
	err_init(&e);
	for (k = 0; k < 20; k++)
		for (i = 0; i < NELEM(cache_queries); i++) {
			buf_reset(&out);
			if (oai_respond(rc->s, &ctx1, cache_queries[i],
			    strlen(cache_queries[i]), &out, &e) == NULL ||
			    strcmp(out.data, rc->ref[i]) != 0)
				__atomic_add_fetch(&rc->bad, 1,
				    __ATOMIC_RELAXED);
		}
	buf_release(&out);
	err_release(&e);
	return NULL;
}

START_TEST(test_cache_race)
{
	struct record	*r1[NELEM(live)], *r2[NELEM(live)];
	struct snap	*cold, *warm;
	struct race	 rc;
	pthread_t	 t[4];
	int		 i;

	memset(&rc, 0, sizeof(rc));
	record_cache_limit(0);
	cold = fresh_snap(conf, r1);
	for (i = 0; i < NELEM(cache_queries); i++)
		rc.ref[i] = answer(cold, cache_queries[i]);
	record_cache_limit(RECORD_CACHE_DEFAULT);
	rc.s = warm = fresh_snap(conf, r2);
	for (i = 0; i < NELEM(t); i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race_run, &rc), 0);
	for (i = 0; i < NELEM(t); i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(rc.bad, 0);
	for (i = 0; i < NELEM(cache_queries); i++)
		free(rc.ref[i]);
	fresh_release(cold, r1);
	fresh_release(warm, r2);
}
END_TEST


/* ------------------------------------------------------------------ */
/* The page cache (oai_cache.h) */

#define PC_CAP		(64 * 1024 * 1024)

static int	pc_freed;	/* prepared slots freed (atomic) */

static void
pc_prep_free(void *v)
{
	__atomic_add_fetch(&pc_freed, 1, __ATOMIC_RELAXED);
	free(v);
}

/* oai_respond() of q on s at c: the bytes a page must hold. */
static void
fresh(const struct snap *s, const struct oai_ctx *c, const char *q,
    struct buf *out)
{
	struct err	 e;

	buf_init(out, OUT_MAX);
	err_init(&e);
	ck_assert_msg(oai_respond(s, c, q, strlen(q), out, &e) != NULL,
	    "%s: %s", q, e.msg);
	err_release(&e);
}

static struct oai_page *
pc_get(struct oai_cache *pc, const struct snap *s, const struct oai_ctx *c,
    const char *q, enum oai_enc enc, size_t cap)
{
	struct oai_page	*p;
	struct err	 e;

	err_init(&e);
	p = oai_cache_get(pc, s, c, q, strlen(q), enc, cap, &e);
	ck_assert_msg(p != NULL, "%s: %s", q, e.msg);
	err_release(&e);
	return p;
}

/* p holds exactly want, and its compressed forms (when made) inflate to it. */
static void
pc_check(const struct oai_page *p, const struct buf *want)
{
	const struct oai_body	*b = p->body;

	ck_assert_uint_eq(b[OAI_ENC_IDENTITY].len, want->len);
	ck_assert(memcmp(b[OAI_ENC_IDENTITY].data, want->data,
	    want->len) == 0);
	if (b[OAI_ENC_GZIP].data != NULL)
		ck_assert(inflates_to(b[OAI_ENC_GZIP].data,
		    b[OAI_ENC_GZIP].len, 1, want->data, want->len));
	if (b[OAI_ENC_DEFLATE].data != NULL)
		ck_assert(inflates_to(b[OAI_ENC_DEFLATE].data,
		    b[OAI_ENC_DEFLATE].len, 0, want->data, want->len));
}

/* A kept page is byte-identical to a fresh response, in every form. */
START_TEST(test_pcache_identical)
{
	struct oai_cache	*pc = oai_cache_new(NULL);
	struct oai_page		*p, *p2;
	struct buf		 want;
	const char		*q = zip_queries[_i];
	enum oai_enc		 enc;

	fresh(snap, &ctx1, q, &want);
	p = pc_get(pc, snap, &ctx1, q, OAI_ENC_IDENTITY, PC_CAP);
	ck_assert_ptr_null(p->body[OAI_ENC_GZIP].data);	/* not asked */
	pc_check(p, &want);
	for (enc = OAI_ENC_IDENTITY; enc < OAI_ENC_N; enc++) {
		p2 = pc_get(pc, snap, &ctx1, q, enc, PC_CAP);
		ck_assert_ptr_eq(p2, p);	/* kept, not built again */
		ck_assert_ptr_nonnull(p2->body[enc].data);
		pc_check(p2, &want);
		oai_page_unref(p2);
	}
	/* strong, distinct validators per form */
	ck_assert_str_ne(p->body[OAI_ENC_IDENTITY].etag,
	    p->body[OAI_ENC_GZIP].etag);
	ck_assert_str_ne(p->body[OAI_ENC_GZIP].etag,
	    p->body[OAI_ENC_DEFLATE].etag);
	ck_assert_uint_eq(oai_cache_count(pc), 1);
	oai_page_unref(p);
	oai_cache_free(pc);
	buf_release(&want);
}
END_TEST

/*
 * A changed record makes a new snapshot whose page differs, and the old
 * snapshot's pages are gone: never served stale.  A request still running
 * on the old snapshot gets its own page, which is not kept.
 */
START_TEST(test_pcache_new_snapshot)
{
	struct oai_cache	*pc = oai_cache_new(NULL);
	struct record		*r2[NELEM(live)];
	struct snap		*s1, *s2;
	struct oai_page		*p1, *p2, *p3;
	struct buf		 want1, want2;
	const char		*q = "verb=ListRecords&metadataPrefix=oai_dc";
	size_t			 i;

	s1 = make_snap(conf, recs, NELEM(live), tombs, NELEM(tombs));
	fresh(s1, &ctx1, q, &want1);
	p1 = pc_get(pc, s1, &ctx1, q, OAI_ENC_GZIP, PC_CAP);
	pc_check(p1, &want1);
	/* a1 changes: same id, a later datestamp */
	for (i = 0; i < NELEM(live); i++)
		r2[i] = recs[i];
	r2[0] = make_record("a1", T0 + 30, "topic:smuggling", NULL);
	ck_assert_ptr_nonnull(r2[0]);
	s2 = make_snap(conf, r2, NELEM(live), tombs, NELEM(tombs));
	ck_assert_uint_gt(s2->generation, s1->generation);
	fresh(s2, &ctx1, q, &want2);
	ck_assert(want1.len != want2.len ||
	    memcmp(want1.data, want2.data, want1.len) != 0);
	p2 = pc_get(pc, s2, &ctx1, q, OAI_ENC_GZIP, PC_CAP);
	ck_assert_ptr_ne(p2, p1);
	pc_check(p2, &want2);
	ck_assert_str_ne(p2->body[OAI_ENC_GZIP].etag,
	    p1->body[OAI_ENC_GZIP].etag);
	ck_assert_uint_eq(oai_cache_count(pc), 1);	/* s1's page dropped */
	ck_assert(!p1->in_cache);
	/* the old snapshot again: its own bytes, not kept */
	p3 = pc_get(pc, s1, &ctx1, q, OAI_ENC_IDENTITY, PC_CAP);
	pc_check(p3, &want1);
	ck_assert(!p3->in_cache);
	ck_assert_uint_eq(oai_cache_count(pc), 1);
	oai_page_unref(p3);
	/* the new snapshot is still served from its page */
	p3 = pc_get(pc, s2, &ctx1, q, OAI_ENC_IDENTITY, PC_CAP);
	ck_assert_ptr_eq(p3, p2);
	oai_page_unref(p3);
	oai_page_unref(p1);
	oai_page_unref(p2);
	oai_cache_free(pc);
	snap_release(s1);
	snap_release(s2);
	record_unref(r2[0]);
	buf_release(&want1);
	buf_release(&want2);
}
END_TEST

/* Requests that differ in anything that changes the bytes never share. */
static const char *const pc_distinct[] = {
	"verb=ListRecords&metadataPrefix=oai_dc",
	"verb=ListIdentifiers&metadataPrefix=oai_dc",
	"verb=ListRecords&metadataPrefix=marc21",
	"verb=ListRecords&metadataPrefix=oai_dc&from=2020-09-14",
	"verb=ListRecords&metadataPrefix=oai_dc&until=2020-09-14",
	"verb=ListRecords&metadataPrefix=oai_dc&from=2020-09-13&until=2020-09-14",
	"verb=ListRecords&metadataPrefix=oai_dc&set=topic",
	"verb=ListRecords&metadataPrefix=oai_dc&set=topic:smuggling",
	"verb=ListRecords&resumptionToken=bogus",
	"verb=ListRecords&resumptionToken=bogus2",
	"verb=ListSets",
	"verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc",
	"metadataPrefix=oai_dc&verb=ListRecords",	/* echoed in order */
	"verb=ListRecords&metadataPrefix=oai_dc&x=%ZZ",	/* bad encoding */
	"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:a1",
	"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:a2",
};

START_TEST(test_pcache_args)
{
	struct oai_cache	*pc = oai_cache_new(NULL);
	struct oai_page		*p[NELEM(pc_distinct)], *q, *t;
	struct buf		 want;
	const char		*tok0;
	size_t			 i, j;
	char			 qs[1024];

	for (i = 0; i < NELEM(pc_distinct); i++) {
		fresh(snap, &ctx1, pc_distinct[i], &want);
		p[i] = pc_get(pc, snap, &ctx1, pc_distinct[i],
		    OAI_ENC_IDENTITY, PC_CAP);
		pc_check(p[i], &want);
		for (j = 0; j < i; j++)
			ck_assert_ptr_ne(p[i], p[j]);
		buf_release(&want);
	}
	ck_assert_uint_eq(oai_cache_count(pc), NELEM(pc_distinct));
	/* the same arguments, encoded otherwise: the same page */
	q = pc_get(pc, snap, &ctx1, "verb=ListRecords&metadataPrefix=oai%5Fdc",
	    OAI_ENC_IDENTITY, PC_CAP);
	ck_assert_ptr_eq(q, p[0]);
	oai_page_unref(q);
	/* another token key: tokens differ, so pages do */
	fresh(snap, &ctx2, pc_distinct[0], &want);
	q = pc_get(pc, snap, &ctx2, pc_distinct[0], OAI_ENC_IDENTITY, PC_CAP);
	ck_assert_ptr_ne(q, p[0]);
	pc_check(q, &want);
	buf_release(&want);
	oai_page_unref(q);
	/* another configuration (another snapshot): its own page */
	q = pc_get(pc, snap_nosets, &ctx1, pc_distinct[0], OAI_ENC_IDENTITY,
	    PC_CAP);
	fresh(snap_nosets, &ctx1, pc_distinct[0], &want);
	pc_check(q, &want);
	buf_release(&want);
	oai_page_unref(q);
	/* a real token: page 2, its own page, the same as fresh */
	tok0 = strstr(p[0]->body[0].data, "<resumptionToken");
	ck_assert_ptr_nonnull(tok0);
	tok0 = strchr(tok0, '>') + 1;
	snprintf(qs, sizeof(qs), "verb=ListRecords&resumptionToken=%.*s",
	    (int)strcspn(tok0, "<"), tok0);
	fresh(snap, &ctx1, qs, &want);
	ck_assert_ptr_null(strstr(want.data, "<error"));
	t = pc_get(pc, snap, &ctx1, qs, OAI_ENC_DEFLATE, PC_CAP);
	for (i = 0; i < NELEM(pc_distinct); i++)
		ck_assert_ptr_ne(t, p[i]);
	pc_check(t, &want);
	buf_release(&want);
	oai_page_unref(t);
	for (i = 0; i < NELEM(pc_distinct); i++)
		oai_page_unref(p[i]);
	oai_cache_free(pc);
}
END_TEST

/* The byte cap holds; least recently used pages go first; 0 keeps none. */
START_TEST(test_pcache_cap)
{
	struct oai_cache	*pc = oai_cache_new(NULL);
	struct oai_page		*p, *first;
	char			 q[256];
	size_t			 i, one, cap, n = 40;

	p = pc_get(pc, snap, &ctx1, zip_queries[0], OAI_ENC_GZIP, PC_CAP);
	one = p->bytes;
	oai_page_unref(p);
	oai_cache_free(pc);
	pc = oai_cache_new(NULL);
	cap = 5 * one;
	first = pc_get(pc, snap, &ctx1, "verb=ListRecords&metadataPrefix="
	    "oai_dc&from=2020-01-01", OAI_ENC_GZIP, cap);
	for (i = 0; i < n; i++) {
		/* distinct requests of about the same size */
		snprintf(q, sizeof(q), "verb=ListRecords&metadataPrefix=oai_dc"
		    "&from=2020-01-01&until=%04zu-01-01", 2030 + i);
		p = pc_get(pc, snap, &ctx1, q, i % 2 ? OAI_ENC_GZIP :
		    OAI_ENC_IDENTITY, cap);
		oai_page_unref(p);
		ck_assert_uint_le(oai_cache_bytes(pc), cap);
		/* the first page, used again every time, stays */
		p = pc_get(pc, snap, &ctx1, "verb=ListRecords&metadataPrefix="
		    "oai_dc&from=2020-01-01", OAI_ENC_GZIP, cap);
		ck_assert_ptr_eq(p, first);
		oai_page_unref(p);
	}
	ck_assert_uint_lt(oai_cache_count(pc), n);
	ck_assert_uint_ge(oai_cache_count(pc), 2);
	oai_page_unref(first);
	/* a page larger than the cap, or a cap of 0: served, not kept */
	oai_cache_free(pc);
	pc = oai_cache_new(NULL);
	p = pc_get(pc, snap, &ctx1, zip_queries[0], OAI_ENC_GZIP, one / 2);
	ck_assert(!p->in_cache);
	oai_page_unref(p);
	p = pc_get(pc, snap, &ctx1, zip_queries[0], OAI_ENC_GZIP, 0);
	ck_assert(!p->in_cache);
	ck_assert_ptr_nonnull(p->body[OAI_ENC_GZIP].data);
	oai_page_unref(p);
	ck_assert_uint_eq(oai_cache_count(pc), 0);
	ck_assert_uint_eq(oai_cache_bytes(pc), 0);
	oai_cache_free(pc);
}
END_TEST

/* responseDate: a page lasts OAI_CACHE_TTL seconds, then is made anew. */
START_TEST(test_pcache_ttl)
{
	struct oai_cache	*pc = oai_cache_new(NULL);
	struct oai_ctx		 c = ctx1;
	struct oai_page		*p, *p2;
	struct buf		 want;
	const char		*q = zip_queries[0];

	p = pc_get(pc, snap, &c, q, OAI_ENC_IDENTITY, PC_CAP);
	c.now += OAI_CACHE_TTL - 1;
	p2 = pc_get(pc, snap, &c, q, OAI_ENC_IDENTITY, PC_CAP);
	ck_assert_ptr_eq(p2, p);
	oai_page_unref(p2);
	c.now += 1;
	p2 = pc_get(pc, snap, &c, q, OAI_ENC_IDENTITY, PC_CAP);
	ck_assert_ptr_ne(p2, p);
	fresh(snap, &c, q, &want);
	pc_check(p2, &want);
	ck_assert_str_ne(p2->body[0].etag, p->body[0].etag);
	oai_page_unref(p2);
	/* a clock stepped back: not a page from the future either */
	c.now -= 2 * OAI_CACHE_TTL;
	p2 = pc_get(pc, snap, &c, q, OAI_ENC_IDENTITY, PC_CAP);
	buf_release(&want);
	fresh(snap, &c, q, &want);
	pc_check(p2, &want);
	oai_page_unref(p2);
	oai_page_unref(p);
	ck_assert_uint_eq(oai_cache_count(pc), 1);
	oai_cache_free(pc);
	buf_release(&want);
}
END_TEST

/*
 * Prepared slots: set once, freed with the page's last reference; the
 * bytes outlive it while held (a response still being sent).
 */
START_TEST(test_pcache_prep)
{
	struct oai_cache	*pc = oai_cache_new(pc_prep_free);
	struct oai_page		*p, *h;
	void			*v;
	struct buf		 want;

	pc_freed = 0;
	fresh(snap, &ctx1, zip_queries[0], &want);
	p = pc_get(pc, snap, &ctx1, zip_queries[0], OAI_ENC_GZIP, PC_CAP);
	ck_assert_ptr_null(oai_page_prep(p, OAI_ENC_GZIP));
	v = malloc(1);
	ck_assert_int_eq(oai_page_prep_set(p, OAI_ENC_GZIP, v), 1);
	ck_assert_int_eq(oai_page_prep_set(p, OAI_ENC_GZIP, p), 0);
	ck_assert_ptr_eq(oai_page_prep(p, OAI_ENC_GZIP), v);
	h = oai_page_hold(p);
	oai_page_unref(p);
	oai_cache_free(pc);	/* the cache's reference: the last one */
	ck_assert_int_eq(pc_freed, 1);
	pc_check(h, &want);	/* held: still readable (ASan) */
	oai_page_drop(h);
	buf_release(&want);
}
END_TEST

/*
 * Threads asking for a few pages in every form, with a cap that evicts
 * all the time: every page holds its request's bytes (run under SAN=1).
 */
#define PC_THREADS	6
#define PC_ROUNDS	150

static struct buf	 pc_want[4];
static struct oai_cache	*pc_shared;
static size_t		 pc_cap;

static void *
pc_worker(void *arg)
{
	size_t		 i, k, seed = (size_t)(uintptr_t)arg;
	struct oai_page	*p;
	struct err	 e;
	enum oai_enc	 enc;

	for (i = 0; i < PC_ROUNDS; i++) {
		k = (i * 7 + seed) % 4;
		enc = (enum oai_enc)((i + seed) % OAI_ENC_N);
		err_init(&e);
		p = oai_cache_get(pc_shared, snap, &ctx1, zip_queries[k],
		    strlen(zip_queries[k]), enc, pc_cap, &e);
		err_release(&e);
		if (p == NULL)
			return (void *)1;
		if (p->body[0].len != pc_want[k].len || memcmp(p->body[0].data,
		    pc_want[k].data, pc_want[k].len) != 0 ||
		    p->body[enc].data == NULL || (enc != OAI_ENC_IDENTITY &&
		    !inflates_to(p->body[enc].data, p->body[enc].len,
		    enc == OAI_ENC_GZIP, pc_want[k].data, pc_want[k].len))) {
			oai_page_unref(p);
			return (void *)1;
		}
		oai_page_unref(p);
	}
	return NULL;
}

START_TEST(test_pcache_race)
{
	pthread_t	 t[PC_THREADS];
	struct oai_page	*p;
	size_t		 i;
	void		*rv;

	for (i = 0; i < 4; i++)
		fresh(snap, &ctx1, zip_queries[i], &pc_want[i]);
	pc_shared = oai_cache_new(pc_prep_free);
	p = pc_get(pc_shared, snap, &ctx1, zip_queries[0], OAI_ENC_GZIP,
	    PC_CAP);
	pc_cap = 2 * p->bytes;	/* about two of the four pages fit */
	oai_page_unref(p);
	for (i = 0; i < PC_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, pc_worker,
		    (void *)(uintptr_t)i), 0);
	for (i = 0; i < PC_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rv), 0);
		ck_assert_ptr_null(rv);
	}
	ck_assert_uint_le(oai_cache_bytes(pc_shared), pc_cap);
	oai_cache_free(pc_shared);
	for (i = 0; i < 4; i++)
		buf_release(&pc_want[i]);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("oai");
	TCase	*tc;

	tc = tcase_create("args");
	tcase_add_loop_test(tc, test_args_parse, 0, NELEM(args_cases));
	tcase_add_test(tc, test_args_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("token");
	tcase_add_test(tc, test_token_roundtrip);
	tcase_add_test(tc, test_token_flip);
	tcase_add_test(tc, test_token_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("verbs");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_requests, 0, NELEM(reqs));
	tcase_add_test(tc, test_too_many_args);
	tcase_add_test(tc, test_no_sets);
	tcase_add_test(tc, test_identify);
	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_identifiers);
	tcase_add_test(tc, test_format_filter);
	tcase_add_loop_test(tc, test_zip, 0, NELEM(zip_queries));
	tcase_add_test(tc, test_zip_cap);
	tcase_add_loop_test(tc, test_key_string_field, 0,
	    NELEM(oai_key_strings));
	tcase_add_loop_test(tc, test_key_int_field, 0, NELEM(oai_key_ints));
	tcase_add_test(tc, test_key_admins);
	tcase_add_test(tc, test_key_unrelated);
	tcase_add_loop_test(tc, test_harvest, 0, NELEM(harvests));
	tcase_add_test(tc, test_token_idempotent);
	tcase_add_test(tc, test_forged_tokens);
	tcase_add_test(tc, test_token_rebuild);
	tcase_add_test(tc, test_set_description);
	tcase_add_test(tc, test_html);
	tcase_add_test(tc, test_output_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cache_identical, 0,
	    NELEM(cache_queries));
	tcase_add_test(tc, test_cache_conf_change);
	tcase_add_test(tc, test_cache_api);
	tcase_add_test(tc, test_cache_race);
	suite_add_tcase(s, tc);

	tc = tcase_create("page cache");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_pcache_identical, 0, NELEM(zip_queries));
	tcase_add_test(tc, test_pcache_new_snapshot);
	tcase_add_test(tc, test_pcache_args);
	tcase_add_test(tc, test_pcache_cap);
	tcase_add_test(tc, test_pcache_ttl);
	tcase_add_test(tc, test_pcache_prep);
	tcase_add_test(tc, test_pcache_race);
	suite_add_tcase(s, tc);

	return tl_run(s);
}
