/*
 * check_notify: the pure parts of notify — request building for every
 * protocol, XML-RPC response parsing and judging, the outbox and
 * status in the state database (round trips, rows of unknown kinds), and
 * the retry policy: backoff schedule, coalescing, give-up and
 * failure/recovery transitions.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <jansson.h>
#include <sqlite3.h>

#include "buf.h"
#include "notify.h"
#include "notify_int.h"
#include "testlib.h"


static const struct notify_site site = {
	.name = "Centre for \"Crime\" & <Research>", .site = "https://ex.org/"
};

START_TEST(test_pct)
{
	struct buf	 b;

	buf_init(&b, 1024);
	ck_assert_int_eq(notify_pct_encode(&b,
	    "https://ex.org/sets/region:bg.atom?a=b&c=d e~_.-\xC3\xA9"), 0);
	ck_assert_str_eq(b.data, "https%3A%2F%2Fex.org%2Fsets%2Fregion%3Abg."
	    "atom%3Fa%3Db%26c%3Dd%20e~_.-%C3%A9");
	buf_release(&b);
}
END_TEST

START_TEST(test_websub)
{
	struct conf_target	 t = { CONF_TARGET_WEBSUB, "https://hub.ex/",
				    NULL };
	struct notify_msg	 m;
	struct err		 e;

	err_init(&e);
	ck_assert_int_eq(notify_build(&t, "https://ex.org/sets/a:b.atom",
	    &site, 0, &m, &e), 0);
	ck_assert_str_eq(m.url, "https://hub.ex/");
	ck_assert_str_eq(m.body, "hub.mode=publish&hub.url=https%3A%2F%2F"
	    "ex.org%2Fsets%2Fa%3Ab.atom&hub.topic=https%3A%2F%2Fex.org%2F"
	    "sets%2Fa%3Ab.atom");
	ck_assert_uint_eq(m.bodylen, strlen(m.body));
	ck_assert_str_eq(m.content_type, "application/x-www-form-urlencoded");
	notify_msg_release(&m);
	err_release(&e);
}
END_TEST

/* The methodCall parses back to the method and the string parameters. */
static void
check_call(const char *body, const char *method, const char *const *want,
    int nwant)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, n, p;
	xmlChar		*s;
	int		 i = 0;

	doc = xmlReadMemory(body, (int)strlen(body), NULL, NULL,
	    XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	root = xmlDocGetRootElement(doc);
	ck_assert_str_eq((const char *)root->name, "methodCall");
	for (n = root->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, "methodName") == 0) {
			s = xmlNodeGetContent(n);
			ck_assert_str_eq((const char *)s, method);
			xmlFree(s);
			continue;
		}
		for (p = n->children; p != NULL; p = p->next, i++) {
			ck_assert_int_lt(i, nwant);
			ck_assert_str_eq((const char *)p->name, "param");
			ck_assert_str_eq((const char *)p->children->children->
			    name, "string");
			s = xmlNodeGetContent(p);
			ck_assert_str_eq((const char *)s, want[i]);
			xmlFree(s);
		}
	}
	ck_assert_int_eq(i, nwant);
	xmlFreeDoc(doc);
}

START_TEST(test_xmlrpc_request)
{
	struct conf_target	 t = { CONF_TARGET_XMLRPC,
				    "http://rpc.ex/RPC2", NULL };
	const char		*ext[] = { site.name, site.site, site.site,
				    "https://ex.org/feed.rss" };
	struct notify_msg	 m;
	struct err		 e;

	err_init(&e);
	ck_assert_int_eq(notify_build(&t, ext[3], &site, 0, &m, &e), 0);
	ck_assert_str_eq(m.content_type, "text/xml");
	ck_assert_ptr_nonnull(strstr(m.body, "&amp;"));
	check_call(m.body, "weblogUpdates.extendedPing", ext, 4);
	notify_msg_release(&m);
	ck_assert_int_eq(notify_build(&t, ext[3], &site, 1, &m, &e), 0);
	check_call(m.body, "weblogUpdates.ping", ext, 2);
	notify_msg_release(&m);
	err_release(&e);
}
END_TEST

#define OK_STRUCT(v) "<?xml version=\"1.0\"?><methodResponse><params><param>" \
	"<value><struct><member><name>flerror</name><value>" v "</value>" \
	"</member><member><name>message</name><value>Thanks</value>" \
	"</member></struct></value></param></params></methodResponse>"

static const struct {
	const char	*xml;
	int		 rc;		/* of notify_xmlrpc_parse */
	int		 is_fault;
	int		 flerror;
	const char	*message;	/* or part of the error */
} parse_cases[] = {
	{ OK_STRUCT("<boolean>0</boolean>"), 0, 0, 0, "Thanks" },
	{ OK_STRUCT("<boolean>1</boolean>"), 0, 0, 1, "Thanks" },
	{ OK_STRUCT("<boolean> false </boolean>"), 0, 0, 0, "Thanks" },
	{ OK_STRUCT("<boolean>true</boolean>"), 0, 0, 1, "Thanks" },
	{ OK_STRUCT("<int>0</int>"), 0, 0, 0, "Thanks" },
	{ OK_STRUCT("<i4>1</i4>"), 0, 0, 1, "Thanks" },
	{ OK_STRUCT("<string>false</string>"), 0, 0, 0, "Thanks" },
	{ OK_STRUCT("<string>TRUE</string>"), 0, 0, 1, "Thanks" },
	{ OK_STRUCT("0"), 0, 0, 0, "Thanks" },
	{ OK_STRUCT("1"), 0, 0, 1, "Thanks" },
	{ OK_STRUCT(""), 0, 0, 0, "Thanks" },
	{ OK_STRUCT("<string>maybe</string>"), 0, 0, 1, "Thanks" },
	{ OK_STRUCT("<struct/>"), 0, 0, 1, "Thanks" },
	{ "<methodResponse>\n  <params>\n    <param>\n      <value><struct>"
	  "<member><name>message</name><value><string>ok &amp; fine</string>"
	  "</value></member></struct></value>\n    </param>\n  </params>\n"
	  "</methodResponse>\n", 0, 0, 0, "ok & fine" },
	{ "<methodResponse><params><param><value><boolean>1</boolean>"
	  "</value></param></params></methodResponse>", 0, 0, 0, "1" },
	{ "<methodResponse><params><param><value><boolean>0</boolean>"
	  "</value></param></params></methodResponse>", 0, 0, 1, "0" },
	{ "<methodResponse><params><param><value>Thanks for the ping."
	  "</value></param></params></methodResponse>", 0, 0, 0,
	  "Thanks for the ping." },
	{ "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n"
	  "<member>\n<name>faultCode</name>\n<value><int>1</int></value>\n"
	  "</member>\n<member>\n<name>faultString</name>\n<value><string>"
	  "&lt;class 'Exception'&gt;:not here</string></value>\n</member>\n"
	  "</struct></value>\n</fault>\n</methodResponse>\n", 0, 1, 0,
	  "<class 'Exception'>:not here" },
	{ "<methodResponse><fault/></methodResponse>", 0, 1, 0, "" },
	{ "<methodResponse/>", -1, 0, 0, "without params" },
	{ "<methodResponse><params/></methodResponse>", -1, 0, 0,
	  "without params" },
	{ "<methodCall/>", -1, 0, 0, "not a methodResponse" },
	{ "<x:methodResponse xmlns:x='urn:x'/>", -1, 0, 0,
	  "not a methodResponse" },
	{ "<!DOCTYPE methodResponse [<!ENTITY e 'x'>]><methodResponse>"
	  "<params><param><value>&e;</value></param></params>"
	  "</methodResponse>", -1, 0, 0, "DOCTYPE" },
	{ "<!DOCTYPE methodResponse SYSTEM 'http://ex/x.dtd'>"
	  "<methodResponse/>", -1, 0, 0, "DOCTYPE" },
	{ "<methodResponse><params><param><value>&e;</value></param>"
	  "</params></methodResponse>", -1, 0, 0, "xml-rpc" },
	{ "OK", -1, 0, 0, "xml-rpc" },
	{ "", -1, 0, 0, "xml-rpc" },
	{ "<methodResponse>", -1, 0, 0, "xml-rpc" },
};

START_TEST(test_xmlrpc_parse)
{
	struct notify_xmlrpc_reply	 r;
	struct err			 e;
	const char			*xml = parse_cases[_i].xml;

	err_init(&e);
	ck_assert_int_eq(notify_xmlrpc_parse(xml, strlen(xml), &r, &e),
	    parse_cases[_i].rc);
	if (parse_cases[_i].rc == 0) {
		ck_assert_int_eq(r.is_fault, parse_cases[_i].is_fault);
		ck_assert_int_eq(r.flerror, parse_cases[_i].flerror);
		ck_assert_str_eq(r.message, parse_cases[_i].message);
	} else
		ck_assert_msg(strstr(e.msg, parse_cases[_i].message) != NULL,
		    "%s", e.msg);
	err_release(&e);
}
END_TEST

static const struct {
	enum conf_target_kind	 kind;
	int			 phase;
	long			 status;
	const char		*body;
	enum notify_verdict	 v;
} judge_cases[] = {
	{ CONF_TARGET_WEBSUB, 0, 204, "", NOTIFY_OK },
	{ CONF_TARGET_WEBSUB, 0, 202, "", NOTIFY_OK },
	{ CONF_TARGET_WEBSUB, 0, 500, "", NOTIFY_FAIL },
	{ CONF_TARGET_WEBSUB, 0, 301, "", NOTIFY_FAIL },
	{ CONF_TARGET_WEBSUB, 0, 0, "", NOTIFY_FAIL },
	{ CONF_TARGET_PING_GET, 0, 200, "whatever", NOTIFY_OK },
	{ CONF_TARGET_PING_POST, 0, 404, "", NOTIFY_FAIL },
	{ CONF_TARGET_XMLRPC, 0, 200, OK_STRUCT("<boolean>0</boolean>"),
	  NOTIFY_OK },
	{ CONF_TARGET_XMLRPC, 0, 200, OK_STRUCT("<boolean>1</boolean>"),
	  NOTIFY_FALLBACK },
	{ CONF_TARGET_XMLRPC, 1, 200, OK_STRUCT("<boolean>1</boolean>"),
	  NOTIFY_FAIL },
	{ CONF_TARGET_XMLRPC, 0, 200, "<methodResponse><fault/>"
	  "</methodResponse>", NOTIFY_FALLBACK },
	{ CONF_TARGET_XMLRPC, 1, 200, "<methodResponse><fault/>"
	  "</methodResponse>", NOTIFY_FAIL },
	{ CONF_TARGET_XMLRPC, 0, 200, "not xml", NOTIFY_FAIL },
	{ CONF_TARGET_XMLRPC, 0, 503, OK_STRUCT("0"), NOTIFY_FAIL },
};

START_TEST(test_judge)
{
	struct err	 e;
	const char	*b = judge_cases[_i].body;

	err_init(&e);
	ck_assert_int_eq(notify_judge(judge_cases[_i].kind,
	    judge_cases[_i].phase, judge_cases[_i].status, b, strlen(b), &e),
	    judge_cases[_i].v);
	if (judge_cases[_i].v != NOTIFY_OK)
		ck_assert_str_ne(e.msg, "");
	if (judge_cases[_i].status == 500)
		ck_assert_str_eq(e.msg, "HTTP 500");
	err_release(&e);
}
END_TEST

static const struct {
	const char	*tmpl;
	enum notify_esc	 esc;
	const char	*out;
} expand_cases[] = {
	{ "http://p.ex/ping?url={feed}&n={name}",
	  NOTIFY_ESC_PCT, "http://p.ex/ping?url=https%3A%2F%2Fex.org%2Ffeed"
	  ".atom&n=Centre%20for%20%22Crime%22%20%26%20%3CResearch%3E" },
	{ "{site}{site}", NOTIFY_ESC_PCT,
	  "https%3A%2F%2Fex.org%2Fhttps%3A%2F%2Fex.org%2F" },
	{ "{nope} {feed", NOTIFY_ESC_PCT, "{nope} {feed" },
	{ "", NOTIFY_ESC_PCT, "" },
	{ "<p n=\"{name}\">{feed}</p>", NOTIFY_ESC_XML,
	  "<p n=\"Centre for &quot;Crime&quot; &amp; &lt;Research&gt;\">"
	  "https://ex.org/feed.atom</p>" },
	{ "{\"name\":\"{name}\",\"url\":\"{feed}\"}", NOTIFY_ESC_JSON,
	  "{\"name\":\"Centre for \\\"Crime\\\" & <Research>\","
	  "\"url\":\"https://ex.org/feed.atom\"}" },
};

START_TEST(test_expand)
{
	struct buf	 b;

	buf_init(&b, 4096);
	ck_assert_int_eq(notify_expand(&b, expand_cases[_i].tmpl,
	    expand_cases[_i].esc, "https://ex.org/feed.atom", &site), 0);
	ck_assert_str_eq(b.data, expand_cases[_i].out);
	buf_release(&b);
}
END_TEST

START_TEST(test_ping_build)
{
	struct conf_target	 get = { CONF_TARGET_PING_GET,
				    "http://p.ex/?u={feed}", NULL };
	struct conf_target	 post = { CONF_TARGET_PING_POST,
				    "http://p.ex/{name}", " <u>{feed}</u>" };
	struct conf_target	 json = { CONF_TARGET_PING_POST,
				    "http://p.ex/", "{\"u\":\"{feed}\"}" };
	struct conf_target	 form = { CONF_TARGET_PING_POST,
				    "http://p.ex/", "u={feed}" };
	struct notify_msg	 m;
	struct err		 e;

	err_init(&e);
	ck_assert_int_eq(notify_build(&get, "http://a/b&c", &site, 0, &m,
	    &e), 0);
	ck_assert_str_eq(m.url, "http://p.ex/?u=http%3A%2F%2Fa%2Fb%26c");
	ck_assert_ptr_null(m.body);
	notify_msg_release(&m);
	ck_assert_int_eq(notify_build(&post, "http://a/b&c", &site, 0, &m,
	    &e), 0);
	ck_assert_str_eq(m.url, "http://p.ex/Centre%20for%20%22Crime%22%20"
	    "%26%20%3CResearch%3E");
	ck_assert_str_eq(m.body, " <u>http://a/b&amp;c</u>");
	ck_assert_str_eq(m.content_type, "text/xml");
	notify_msg_release(&m);
	ck_assert_int_eq(notify_build(&json, "x\"y", &site, 0, &m, &e), 0);
	ck_assert_str_eq(m.body, "{\"u\":\"x\\\"y\"}");
	ck_assert_str_eq(m.content_type, "application/json");
	notify_msg_release(&m);
	ck_assert_int_eq(notify_build(&form, "a b", &site, 0, &m, &e), 0);
	ck_assert_str_eq(m.body, "u=a%20b");
	ck_assert_str_eq(m.content_type, "application/x-www-form-urlencoded");
	notify_msg_release(&m);
	err_release(&e);
}
END_TEST

/* A conf with three targets whose state lives in tmpdir/st. */
static struct conf *
db_conf(const char *tmpdir)
{
	char	 text[2048];

	snprintf(text, sizeof(text),
	    "repository-name R\n"
	    "base-url https://example.org\n"
	    "admin-email a@example.org\n"
	    "records \"%s/recs\"\n"
	    "state \"%s/st\"\n"
	    "feed-author-name A\n"
	    "oai-namespace example.org\n"
	    "websub-hub https://hub.ex/\n"
	    "ping-post http://p.ex/%%41 \"a=b c&u={feed} %%\"\n"
	    "xmlrpc-ping http://r.ex/\n", tmpdir, tmpdir);
	return tl_conf(text);
}

static int64_t
db_count(const char *tmpdir, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*q;
	char		 path[512];
	int64_t		 n = -1;

	snprintf(path, sizeof(path), "%s/st/pubfeed.db", tmpdir);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static void
db_exec(const char *tmpdir, const char *sql)
{
	sqlite3		*db;
	char		 path[512];

	snprintf(path, sizeof(path), "%s/st/pubfeed.db", tmpdir);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The outbox goes into the database on every change and comes back. */
START_TEST(test_outbox_db)
{
	char		 tmpdir[256];
	const char	*sets[] = { "topic", "topic:a" };
	struct conf	*c;
	struct notify	*n;
	struct buf	 b;
	struct err	 e;

	tl_mkdtemp(tmpdir, sizeof(tmpdir), "check_notify");
	c = db_conf(tmpdir);
	err_init(&e);
	buf_init(&b, 1 << 20);
	ck_assert_ptr_nonnull(n = notify_new(c, &e));
	ck_assert_int_eq(notify_changed(n, sets, 2), 0);
	notify_free(n);
	/*
	 * 3 targets x (collection + 2 sets) x (atom + rss + json + ics), and
	 * the hub's ResourceSync Change List
	 */
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox"), 37);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox "
	    "WHERE topic LIKE '%/resourcesync/changelist.xml'"), 1);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox "
	    "WHERE kind = 'ping-post' AND url = 'http://p.ex/%41' AND "
	    "body = 'a=b c&u={feed} %'"), 12);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox "
	    "WHERE kind = 'websub-hub' AND body = '' AND attempts = 0"), 13);
	/* a row of a kind nobody knows is skipped; the rest comes back */
	db_exec(tmpdir, "INSERT INTO outbox (kind, url, body, topic) VALUES "
	    "('smoke-signal', 'https://hub.ex/', '', 'https://x/')");
	ck_assert_ptr_nonnull(n = notify_new(c, &e));
	ck_assert_int_eq(notify_render_metrics(n, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "pubfeed_notify_pending{"
	    "kind=\"websub-hub\",target=\"https://hub.ex/\"} 13"));
	ck_assert_ptr_nonnull(strstr(b.data, "pubfeed_notify_pending{"
	    "kind=\"ping-post\",target=\"http://p.ex/%41\"} 12"));
	/* coalesced: queuing the same topics again adds nothing */
	ck_assert_int_eq(notify_changed(n, sets, 2), 0);
	notify_free(n);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox "
	    "WHERE kind != 'smoke-signal'"), 37);
	buf_release(&b);
	err_release(&e);
	conf_unref(c);
	tl_rm_rf(tmpdir);
}
END_TEST

/*
 * The language versions are topics: the collection's and each changed
 * set's Atom, RSS and JSON Feed per language (a version has no calendar);
 * a new list replaces the old one.
 */
START_TEST(test_lang_topics)
{
	char		 tmpdir[256];
	const char	*sets[] = { "topic" };
	const char	*langs[] = { "bg", "nb" };
	struct conf	*c;
	struct notify	*n;
	struct err	 e;

	tl_mkdtemp(tmpdir, sizeof(tmpdir), "check_notify");
	c = db_conf(tmpdir);
	err_init(&e);
	ck_assert_ptr_nonnull(n = notify_new(c, &e));
	ck_assert_int_eq(notify_set_langs(n, langs, 2), 0);
	ck_assert_int_eq(notify_changed(n, sets, 1), 0);
	/*
	 * 3 targets x (2 x 4 + 2 languages x 2 x 3), plus the ResourceSync
	 * Change List for the one WebSub hub
	 */
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox"), 61);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox WHERE "
	    "topic = 'https://example.org/lang/bg/sets/topic.json'"), 3);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox WHERE "
	    "topic = 'https://example.org/lang/nb/feed.atom'"), 3);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox WHERE "
	    "topic LIKE '%/lang/%.ics'"), 0);
	notify_free(n);
	/* only nb now: nothing for bg */
	db_exec(tmpdir, "DELETE FROM outbox");
	ck_assert_ptr_nonnull(n = notify_new(c, &e));
	ck_assert_int_eq(notify_set_langs(n, langs + 1, 1), 0);
	ck_assert_int_eq(notify_changed(n, NULL, 0), 0);
	notify_free(n);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox"),
	    3 * (4 + 3) + 1);
	ck_assert_int_eq(db_count(tmpdir, "SELECT count(*) FROM outbox WHERE "
	    "topic LIKE '%/lang/bg/%'"), 0);
	err_release(&e);
	conf_unref(c);
	tl_rm_rf(tmpdir);
}
END_TEST

/*
 * The outbox layer alone: save and load without a notifier; a missing
 * database loads nothing and creates nothing; an unknown kind is one
 * message, the rest loads; the status text counts what is pending.
 */
START_TEST(test_outbox_persist)
{
	char			 tmpdir[256], dir[300], text[1024];
	struct conf_target	 hub = { CONF_TARGET_WEBSUB, "https://hub.ex/",
				    NULL }, ping = { CONF_TARGET_PING_GET,
				    "http://p.ex/", NULL };
	struct conf		*c;
	struct notify_outbox	 ob, ob2;
	struct notify_stats	 st, st2;
	struct notify_item	*it;
	struct notify_stat	*s;
	struct buf		 b;
	struct err		 e;
	sqlite3			*db = NULL;

	tl_mkdtemp(tmpdir, sizeof(tmpdir), "check_notify");
	snprintf(dir, sizeof(dir), "%s/st", tmpdir);
	err_init(&e);
	notify_outbox_init(&ob);
	notify_stats_init(&st);
	ck_assert_int_eq(notify_outbox_load(&db, dir, &ob, &st, &e), 0);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(access(dir, F_OK), -1);	/* nothing created */
	ck_assert_ptr_nonnull(it = notify_outbox_add(&ob, &hub, "https://x/a"));
	it->attempts = 3;
	it->not_before = 1700000000123LL;
	ck_assert_ptr_nonnull(notify_outbox_add(&ob, &hub, "https://x/b"));
	ck_assert_ptr_nonnull(s = notify_stats_get(&st, &ping));
	s->sent = 7;
	ck_assert_ptr_nonnull(s->reason = strdup("HTTP 500"));
	s->last_fail = 1700000100;
	ck_assert_msg(notify_outbox_save(&db, dir, &ob, &st, &e) == 0, "%s",
	    e.msg);
	ck_assert_ptr_nonnull(db);
	/* NULL: that table stays */
	ck_assert_int_eq(notify_outbox_save(&db, dir, NULL, NULL, &e), 0);
	sqlite3_close(db);
	db = NULL;
	db_exec(tmpdir, "INSERT INTO outbox (kind, url, body, topic) VALUES "
	    "('smoke-signal', 'https://hub.ex/', '', 'https://x/')");
	notify_outbox_init(&ob2);
	notify_stats_init(&st2);
	ck_assert_int_eq(notify_outbox_load(&db, dir, &ob2, &st2, &e), -1);
	ck_assert_int_eq(e.count, 1);
	ck_assert_ptr_nonnull(strstr(e.msg,
	    "pubfeed.db: ignoring a row with target kind 'smoke-signal'"));
	ck_assert_uint_eq(ob2.n, 2);
	ck_assert_ptr_nonnull(it = notify_outbox_find(&ob2, &hub,
	    "https://x/a"));
	ck_assert_int_eq(it->attempts, 3);
	ck_assert_int_eq(it->not_before, 1700000000123LL);
	ck_assert_ptr_nonnull(s = notify_stats_find(&st2, &ping));
	ck_assert_uint_eq(s->sent, 7);
	ck_assert_str_eq(s->reason, "HTTP 500");
	sqlite3_close(db);
	/* the status text: one line per configured target */
	snprintf(text, sizeof(text), "repository-name R\n"
	    "base-url https://example.org\nadmin-email a@example.org\n"
	    "records \"%s/recs\"\nstate \"%s\"\nfeed-author-name A\n"
	    "oai-namespace example.org\nwebsub-hub https://hub.ex/\n"
	    "ping-get http://p.ex/\n", tmpdir, dir);
	c = tl_conf(text);
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(notify_status_text(c, &ob2, &st2, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "notify websub-hub "
	    "https://hub.ex/: last success never, last failure never, sent 0, "
	    "failed 0, dropped 0, pending 2\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "notify ping-get http://p.ex/: "
	    "last success never, last failure 2023-11-14T22:15:00Z "
	    "(HTTP 500), sent 7, failed 0, dropped 0, pending 0\n"));
	buf_release(&b);
	conf_unref(c);
	notify_outbox_release(&ob);
	notify_outbox_release(&ob2);
	notify_stats_release(&st);
	notify_stats_release(&st2);
	err_release(&e);
	tl_rm_rf(tmpdir);
}
END_TEST

/* target_status rows are what "pubfeed status" shows. */
START_TEST(test_status_db)
{
	char		 tmpdir[256];
	struct conf	*c;
	struct notify	*n;
	struct buf	 b;
	struct err	 e;

	tl_mkdtemp(tmpdir, sizeof(tmpdir), "check_notify");
	c = db_conf(tmpdir);
	err_init(&e);
	buf_init(&b, 1 << 20);
	ck_assert_ptr_nonnull(n = notify_new(c, &e));
	ck_assert_int_eq(notify_changed(n, NULL, 0), 0);
	notify_free(n);
	db_exec(tmpdir, "INSERT OR REPLACE INTO target_status (kind, url, "
	    "body, sent, failed, dropped, last_ok, last_fail, reason) VALUES "
	    "('websub-hub', 'https://hub.ex/', '', 12, 3, 1, 1700000000, "
	    "1700000100, 'HTTP 500 % and -')");
	ck_assert_ptr_nonnull(n = notify_new(c, &e));
	ck_assert_int_eq(notify_render_metrics(n, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "pubfeed_notify_sent_total{"
	    "kind=\"websub-hub\",target=\"https://hub.ex/\"} 12"));
	ck_assert_ptr_nonnull(strstr(b.data, "pubfeed_notify_failed_total{"
	    "kind=\"websub-hub\",target=\"https://hub.ex/\"} 3"));
	buf_reset(&b);
	ck_assert_int_eq(notify_render_status(n, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "HTTP 500 % and -"));
	notify_free(n);
	buf_release(&b);
	err_release(&e);
	conf_unref(c);
	tl_rm_rf(tmpdir);
}
END_TEST

START_TEST(test_kinds)
{
	enum conf_target_kind	 k;
	int			 i;

	for (i = CONF_TARGET_WEBSUB; i <= CONF_TARGET_COAR; i++) {
		ck_assert_int_eq(notify_kind_parse(notify_kind_name(
		    (enum conf_target_kind)i), &k), 0);
		ck_assert_int_eq((int)k, i);
	}
	ck_assert_int_eq(notify_kind_parse("websub", &k), -1);
}
END_TEST

#define COAR_REC	"config/records/articles/" \
			"2020-article-trust-violence-smuggling.xml"

static const char *
jstr(json_t *o, const char *path)
{
	char		 key[64];
	const char	*dot;
	json_t		*v = o;

	while (v != NULL && (dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		v = json_object_get(v, key);
		path = dot + 1;
	}
	v = v != NULL ? json_object_get(v, path) : NULL;
	ck_assert_msg(json_is_string(v), "%s is not a string", path);
	return json_string_value(v);
}

/* The body one coar-inbox item sends: parsed back, every part checked. */
static json_t *
coar_body(const struct conf_target *t, const struct record *r, int64_t ds)
{
	struct notify_site	 s = site;
	struct notify_msg	 m;
	struct err		 e;
	json_error_t		 je;
	json_t			*o;

	s.base_url = "https://ex.org";
	s.rec = r;
	s.datestamp = ds;
	err_init(&e);
	ck_assert_int_eq(notify_build(t, r->id, &s, 0, &m, &e), 0);
	ck_assert_str_eq(m.url, t->url);
	ck_assert_str_eq(m.content_type, "application/ld+json");
	o = json_loadb(m.body, m.bodylen, 0, &je);
	ck_assert_msg(o != NULL, "%s", je.text);
	notify_msg_release(&m);
	err_release(&e);
	return o;
}

START_TEST(test_coar_offer)
{
	struct conf_target	 t = { CONF_TARGET_COAR,
				    "https://svc.ex:8443/ldn/inbox", NULL };
	struct conf_target	 named = { CONF_TARGET_COAR,
				    "https://svc.ex/inbox", "https://svc.ex/" };
	struct conf_target	 ws = { CONF_TARGET_WEBSUB, "https://h/",
				    NULL };
	struct record_schema	*rs = tl_record_schema();
	struct notify_site	 s = site;
	struct notify_msg	 m;
	struct record		*r;
	struct err		 e;
	json_t			*o, *o2, *o3, *ty;
	char			*xml;
	size_t			 n;

	xml = tl_slurp(COAR_REC, &n);
	r = tl_record(rs, xml, n, COAR_REC);
	o = coar_body(&t, r, 1000);
	ty = json_object_get(o, "@context");
	ck_assert_str_eq(json_string_value(json_array_get(ty, 0)),
	    "https://www.w3.org/ns/activitystreams");
	ck_assert_str_eq(json_string_value(json_array_get(ty, 1)),
	    "https://coar-notify.net");
	ty = json_object_get(o, "type");
	ck_assert_str_eq(json_string_value(json_array_get(ty, 0)), "Offer");
	ck_assert_str_eq(json_string_value(json_array_get(ty, 1)),
	    "coar-notify:IngestAction");
	/* RFC 9562 layout, version 8, variant 10 */
	ck_assert_uint_eq(strlen(jstr(o, "id")), 45);
	ck_assert(strncmp(jstr(o, "id"), "urn:uuid:", 9) == 0);
	ck_assert_int_eq(jstr(o, "id")[23], '8');
	ck_assert(strchr("89ab", jstr(o, "id")[28]) != NULL);
	ck_assert_str_eq(jstr(o, "actor.id"), "https://ex.org/");
	ck_assert_str_eq(jstr(o, "actor.name"), site.name);
	ck_assert_str_eq(jstr(o, "actor.type"), "Service");
	ck_assert_str_eq(jstr(o, "origin.id"), "https://ex.org/");
	ck_assert_str_eq(jstr(o, "target.id"), "https://svc.ex:8443/");
	ck_assert_str_eq(jstr(o, "target.inbox"), t.url);
	/* its own landing page is the canonical one */
	ck_assert_str_eq(jstr(o, "object.id"), "https://research.example.org/"
	    "publications/2020-article-trust-violence-smuggling");
	ck_assert_str_eq(jstr(o, "object.ietf:cite-as"),
	    "https://doi.org/10.5555/jbcs.2020.0341");
	ck_assert_str_eq(jstr(o, "object.ietf:item.id"), "https://research."
	    "example.org/files/2020-article-trust-violence-smuggling-en.pdf");
	ck_assert_str_eq(jstr(o, "object.ietf:item.mediaType"),
	    "application/pdf");
	ty = json_object_get(json_object_get(json_object_get(o, "object"),
	    "ietf:item"), "type");
	ck_assert_str_eq(json_string_value(json_array_get(ty, 1)),
	    "sorg:ScholarlyArticle");
	/* a retry says the same; a later change is another offer */
	o2 = coar_body(&t, r, 1000);
	ck_assert(json_equal(o, o2));
	json_decref(o2);
	o2 = coar_body(&t, r, 1001);
	ck_assert_str_ne(jstr(o, "id"), jstr(o2, "id"));
	json_decref(o2);
	o3 = coar_body(&named, r, 1000);
	ck_assert_str_eq(jstr(o3, "target.id"), "https://svc.ex/");
	json_decref(o3);
	json_decref(o);
	/* no record: nothing to build; other kinds ignore the record */
	err_init(&e);
	s.base_url = "https://ex.org";
	ck_assert_int_eq(notify_build(&t, r->id, &s, 0, &m, &e), -1);
	s.rec = r;
	ck_assert_int_eq(notify_build(&ws, "https://ex.org/feed.atom", &s, 0,
	    &m, &e), 0);
	ck_assert_str_eq(m.content_type, "application/x-www-form-urlencoded");
	notify_msg_release(&m);
	err_release(&e);
	record_unref(r);
	free(xml);
	record_schema_free(rs);
}
END_TEST

/* A record without a landing page of its own is offered as ours. */
START_TEST(test_coar_offer_own_page)
{
	static const char xml[] =
	    "<record xmlns='https://pubfeed.org/ns/record/1' id='r-1' "
	    "type='report' xml:lang='en'><title xml:lang='en'>T</title>"
	    "<issued>2024</issued><language>en</language></record>";
	struct conf_target	 t = { CONF_TARGET_COAR, "http://127.0.0.1/in",
				    NULL };
	struct record_schema	*rs = tl_record_schema();
	struct record		*r = tl_record(rs, xml, sizeof(xml) - 1, "r.xml");
	json_t			*o = coar_body(&t, r, 5);

	ck_assert_str_eq(jstr(o, "object.id"),
	    "https://ex.org/records/r-1.html");
	ck_assert_ptr_null(json_object_get(json_object_get(o, "object"),
	    "ietf:cite-as"));
	ck_assert_ptr_null(json_object_get(json_object_get(o, "object"),
	    "ietf:item"));
	ck_assert_str_eq(jstr(o, "target.id"), "http://127.0.0.1/");
	json_decref(o);
	record_unref(r);
	record_schema_free(rs);
}
END_TEST

/* The retry schedule: never 0, never past the cap, monotone for a fixed r. */
START_TEST(test_backoff_schedule)
{
	static const int64_t	 caps[] = { 1, 1000, 30000, 3600000,
				    604800000LL };
	static const uint64_t	 rs[] = { 0, 1, UINT64_MAX, UINT64_MAX / 2,
				    0x9e3779b97f4a7c15ULL, 12345 };
	int64_t			 cap, d, prev, hi;
	size_t			 i, k;
	int			 a;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		for (k = 0; k < sizeof(rs) / sizeof(rs[0]); k++) {
			cap = caps[i] < NOTIFY_BACKOFF_MIN_MS ?
			    NOTIFY_BACKOFF_MIN_MS : caps[i];
			prev = 0;
			for (a = -1; a < 300; a++) {
				d = notify_backoff_ms(a, caps[i], rs[k]);
				ck_assert_int_ge(d, NOTIFY_BACKOFF_MIN_MS);
				ck_assert_int_le(d, cap);
				ck_assert_int_ge(d, prev);
				/* and never under half the ceiling */
				hi = a >= 40 ? cap : (int64_t)
				    NOTIFY_BACKOFF_BASE_MS << (a > 1 ? a - 1 : 0);
				if (hi > cap)
					hi = cap;
				ck_assert_int_ge(d, hi / 2);
				prev = d;
			}
			ck_assert_int_ge(notify_backoff_ms(INT32_MAX, caps[i],
			    rs[k]), cap / 2);
		}
	/* the first retry waits 0.5 to 1 s; the cap is reached */
	ck_assert_int_eq(notify_backoff_ms(1, 3600000, 0), 500);
	ck_assert_int_le(notify_backoff_ms(1, 3600000, UINT64_MAX), 1000);
	ck_assert_int_ge(notify_backoff_ms(1, 3600000, UINT64_MAX), 999);
	ck_assert_int_eq(notify_backoff_ms(30, 3600000, 0), 1800000);
	ck_assert_int_ge(notify_backoff_ms(30, 3600000, UINT64_MAX), 3599999);
	/* the jitter spreads: many r give many delays */
	for (k = 0, prev = -1, a = 0; k < 64; k++) {
		d = notify_backoff_ms(12, 3600000, (uint64_t)k << 58);
		a += d != prev;
		prev = d;
	}
	ck_assert_int_eq(a, 64);
}
END_TEST

START_TEST(test_after_failure)
{
	struct notify_item	 it;
	int			 i;

	/* no limit: retried for ever, always in the future */
	memset(&it, 0, sizeof(it));
	for (i = 1; i <= 100000; i++) {
		ck_assert_int_eq(notify_after_failure(&it, 0, 1000, 5000,
		    (uint64_t)i * 0x9e3779b97f4a7c15ULL), NOTIFY_RETRY);
		ck_assert_int_eq(it.attempts, i);
		ck_assert_int_ge(it.not_before, 5000 + NOTIFY_BACKOFF_MIN_MS);
		ck_assert_int_le(it.not_before, 6000);
	}
	/* a limit of 3: the third failure gives up */
	memset(&it, 0, sizeof(it));
	ck_assert_int_eq(notify_after_failure(&it, 3, 1000, 0, 0),
	    NOTIFY_RETRY);
	ck_assert_int_eq(notify_after_failure(&it, 3, 1000, 0, 0),
	    NOTIFY_RETRY);
	/* changed while on the wire: a new notification, a new count */
	it.again = 1;
	ck_assert_int_eq(notify_after_failure(&it, 3, 1000, 0, 0),
	    NOTIFY_RETRY);
	ck_assert_int_eq(it.attempts, 1);
	ck_assert_int_eq(it.again, 0);
	ck_assert_int_eq(notify_after_failure(&it, 3, 1000, 0, 0),
	    NOTIFY_RETRY);
	ck_assert_int_eq(notify_after_failure(&it, 3, 1000, 0, 0),
	    NOTIFY_GIVE_UP);
	ck_assert_int_eq(it.attempts, 3);
	memset(&it, 0, sizeof(it));
	ck_assert_int_eq(notify_after_failure(&it, 1, 1000, 0, 0),
	    NOTIFY_GIVE_UP);
}
END_TEST

/* However many changes, the outbox holds one item per target and topic. */
START_TEST(test_coalesce)
{
	struct conf_target	 t[] = {
		{ CONF_TARGET_WEBSUB, "https://hub.ex/", NULL },
		{ CONF_TARGET_PING_POST, "http://p.ex/", "a" },
		{ CONF_TARGET_PING_POST, "http://p.ex/", "b" },
	};
	static const char	*topics[] = { "https://ex.org/feed.atom",
				    "https://ex.org/feed.rss",
				    "https://ex.org/sets/a.atom",
				    "https://ex.org/sets/a.rss" };
	struct notify_outbox	 ob;
	struct notify_item	*it;
	size_t			 i, k, r, news = 0;
	int			 q;

	notify_outbox_init(&ob);
	for (r = 0; r < 50; r++)
		for (i = 0; i < 3; i++)
			for (k = 0; k < 4; k++) {
				q = notify_coalesce(&ob, &t[i], topics[k]);
				ck_assert_int_ne(q, -1);
				ck_assert_int_ne(q, NOTIFY_Q_AGAIN);
				news += q == NOTIFY_Q_NEW;
			}
	ck_assert_uint_eq(ob.n, 12);
	ck_assert_uint_eq(news, 12);
	/* on the wire: marked once to go again, then covered */
	it = notify_outbox_find(&ob, &t[1], topics[2]);
	ck_assert_ptr_nonnull(it);
	it->in_flight = 1;
	ck_assert_int_eq(notify_coalesce(&ob, &t[1], topics[2]),
	    NOTIFY_Q_AGAIN);
	ck_assert_int_eq(it->again, 1);
	ck_assert_int_eq(notify_coalesce(&ob, &t[1], topics[2]),
	    NOTIFY_Q_PENDING);
	ck_assert_uint_eq(ob.n, 12);
	/* an item in backoff is not reset by a newer change */
	it = notify_outbox_find(&ob, &t[0], topics[0]);
	it->attempts = 7;
	it->not_before = 123456;
	ck_assert_int_eq(notify_coalesce(&ob, &t[0], topics[0]),
	    NOTIFY_Q_PENDING);
	ck_assert_int_eq(it->attempts, 7);
	ck_assert_int_eq(it->not_before, 123456);
	notify_outbox_release(&ob);
}
END_TEST

/* One line when an outage starts, one when it ends, none per attempt. */
START_TEST(test_health_transitions)
{
	struct notify_health	 h;
	int64_t			 down = -1;
	uint64_t		 n = 0, seq;
	int			 i, ndown = 0, nup = 0;
	enum notify_transition	 tr;

	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(notify_health_update(&h, 1, h.ok_seq, 1000, &down,
	    &n), NOTIFY_T_NONE);
	/* 16 topics x 20 attempts against a dead hub */
	for (i = 0; i < 320; i++) {
		tr = notify_health_update(&h, 0, h.ok_seq, 2000 + i, &down,
		    &n);
		ndown += tr == NOTIFY_T_DOWN;
		nup += tr == NOTIFY_T_UP;
	}
	ck_assert_int_eq(ndown, 1);
	ck_assert_int_eq(nup, 0);
	ck_assert_int_eq(h.is_down, 1);
	ck_assert_int_eq(h.down_since, 2000);
	seq = h.ok_seq;		/* an attempt goes out during the outage */
	ck_assert_int_eq(notify_health_update(&h, 1, h.ok_seq, 62000, &down,
	    &n), NOTIFY_T_UP);
	ck_assert_int_eq(down, 60000);
	ck_assert_uint_eq(n, 320);
	ck_assert_int_eq(h.is_down, 0);
	/* it fails after the recovery: it was on the wire before, no news */
	ck_assert_int_eq(notify_health_update(&h, 0, seq, 62001, &down, &n),
	    NOTIFY_T_NONE);
	ck_assert_int_eq(h.is_down, 0);
	ck_assert_int_eq(notify_health_update(&h, 1, h.ok_seq, 62002, &down,
	    &n), NOTIFY_T_NONE);
	/* a fresh failure is a new outage */
	ck_assert_int_eq(notify_health_update(&h, 0, h.ok_seq, 70000, &down,
	    &n), NOTIFY_T_DOWN);
	ck_assert_int_eq(notify_health_update(&h, 1, h.ok_seq, 70500, &down,
	    &n), NOTIFY_T_UP);
	ck_assert_int_eq(down, 500);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* Down before the restart: no second warning, the recovery is told. */
START_TEST(test_health_inherit)
{
	struct notify_health	 h;
	int64_t			 down = -1;
	uint64_t		 n = 0;

	memset(&h, 0, sizeof(h));
	notify_health_inherit(&h, 100, 100);
	ck_assert_int_eq(h.is_down, 0);
	notify_health_inherit(&h, 200, 100);
	ck_assert_int_eq(h.is_down, 0);
	notify_health_inherit(&h, 0, 100);
	ck_assert_int_eq(h.is_down, 1);
	ck_assert_int_eq(h.is_inherited, 1);
	ck_assert_int_eq(notify_health_update(&h, 0, h.ok_seq, 101000, &down,
	    &n), NOTIFY_T_NONE);
	ck_assert_int_eq(notify_health_update(&h, 1, h.ok_seq, 130000, &down,
	    &n), NOTIFY_T_UP);
	ck_assert_int_eq(down, 30000);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(h.is_inherited, 1);	/* for the log line */
	ck_assert_int_eq(notify_health_update(&h, 0, h.ok_seq, 140000, &down,
	    &n), NOTIFY_T_DOWN);
	ck_assert_int_eq(h.is_inherited, 0);
}
END_TEST

START_TEST(test_duration)
{
	static const struct {
		int64_t		 ms;
		const char	*s;
	} c[] = {
		{ -5, "0.0 s" }, { 0, "0.0 s" }, { 400, "0.4 s" },
		{ 9999, "9.9 s" }, { 12000, "12 s" }, { 185000, "3 min 5 s" },
		{ 3720000, "1 h 2 min" }, { 90061000, "25 h 1 min" },
	};
	char	 out[64];
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		notify_fmt_duration(out, sizeof(out), c[i].ms);
		ck_assert_str_eq(out, c[i].s);
	}
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite	*s = suite_create("notify");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_pct);
	tcase_add_test(tc, test_websub);
	tcase_add_test(tc, test_xmlrpc_request);
	tcase_add_loop_test(tc, test_xmlrpc_parse, 0, NELEM(parse_cases));
	tcase_add_loop_test(tc, test_judge, 0, NELEM(judge_cases));
	tcase_add_loop_test(tc, test_expand, 0, NELEM(expand_cases));
	tcase_add_test(tc, test_ping_build);
	tcase_add_test(tc, test_outbox_db);
	tcase_add_test(tc, test_lang_topics);
	tcase_add_test(tc, test_status_db);
	tcase_add_test(tc, test_outbox_persist);
	tcase_add_test(tc, test_kinds);
	tcase_add_test(tc, test_backoff_schedule);
	tcase_add_test(tc, test_after_failure);
	tcase_add_test(tc, test_coalesce);
	tcase_add_test(tc, test_health_transitions);
	tcase_add_test(tc, test_health_inherit);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_coar_offer);
	tcase_add_test(tc, test_coar_offer_own_page);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	xmlInitParser();
	return tl_run(notify_suite());
}
