/*
 * check_conf: the configuration parser.  Run from the repository root (or
 * set PUBFEED_SRCDIR): it reads config/pubfeed.conf and tests/data/conf/.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "record.h"
#include "testlib.h"
#include "banned.h"

/* Seven lines: an extra line appended to it is line 8. */
#define BASE \
	"repository-name R\n" \
	"base-url https://example.org\n" \
	"admin-email a@example.org\n" \
	"records recs\n" \
	"state st\n" \
	"feed-author-name A\n" \
	"oai-namespace example.org\n"

static struct conf *
parse(const char *text, struct err *e)
{
	err_init(e);
	return conf_parse_mem(text, strlen(text), "t.conf", e);
}

static struct conf *
parse_ok(const char *text)
{
	struct conf	*c;
	struct err	 e;

	c = parse(text, &e);
	ck_assert_msg(c != NULL, "unexpected error: %s", e.all);
	err_release(&e);
	return c;
}

START_TEST(test_example)
{
	struct conf		*c;
	const struct conf_set	*s;
	struct err		 e;

	err_init(&e);
	c = conf_load("config/pubfeed.conf", &e);
	ck_assert_msg(c != NULL, "config/pubfeed.conf: %s", e.all);
	ck_assert_str_eq(c->path, "config/pubfeed.conf");
	ck_assert_str_eq(c->repository_name, "Centre for the Study of Cross-Border Crime: Publications");
	ck_assert_str_eq(c->base_url, "http://127.0.0.1:8080");
	ck_assert_uint_eq(c->nadmin_emails, 1);
	ck_assert_str_eq(c->admin_emails[0], "repository@research.example.org");
	ck_assert_str_eq(c->tag_authority, "research.example.org,2008");
	ck_assert_str_eq(c->records_dir, "config/records");
	ck_assert_str_eq(c->state_dir, "build/state");
	ck_assert_str_eq(c->listen_addr, "127.0.0.1");
	ck_assert_int_eq(c->listen_port, 8080);
	ck_assert_str_eq(c->feed_author_name, "Centre for the Study of Cross-Border Crime");
	ck_assert_str_eq(c->oai_namespace, "research.example.org");
	ck_assert_str_eq(c->oai_path, "/oai");
	ck_assert_uint_eq(c->ntargets, 0);
	ck_assert_uint_eq(c->nsets, 19);
	s = conf_set_find(c, "topic:organised-crime");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->name, "Organised crime");
	s = conf_set_find(c, "region:bulgaria");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(s->description);
	ck_assert_ptr_nonnull(conf_set_find(c, "type:events"));
	ck_assert_ptr_null(conf_set_find(c, "type:event"));
	conf_unref(c);
	err_release(&e);
}
END_TEST

START_TEST(test_defaults)
{
	struct conf	*c;

	c = parse_ok("repository-name \"My Repo\"\n"
	    "base-url https://Example.ORG/\n"
	    "admin-email a@example.org\nrecords r\nstate s\n"
	    "feed-author-name A\noai-namespace example.org\n");
	ck_assert_int_eq(c->refs, 1);
	ck_assert_str_eq(c->path, "t.conf");
	ck_assert_str_eq(c->base_url, "https://Example.ORG");
	ck_assert_str_eq(c->tag_authority, "example.org,2000");
	ck_assert_str_eq(c->feed_title, "My Repo");
	ck_assert_uint_eq(c->max_record_bytes, RECORD_MAX_BYTES);
	ck_assert_str_eq(c->listen_addr, "127.0.0.1");
	ck_assert_int_eq(c->listen_port, 8080);
	ck_assert_int_eq(c->threads, 4);
	ck_assert_int_eq(c->max_age, 300);
	ck_assert_int_eq(c->metrics_local_only, 1);
	ck_assert_int_eq(c->access_log, 0);
	ck_assert_int_eq(c->log_level, LOG_LEVEL_INFO);
	ck_assert_ptr_null(c->feed_subtitle);
	ck_assert_ptr_null(c->feed_author_email);
	ck_assert_ptr_null(c->feed_author_uri);
	ck_assert_ptr_null(c->feed_icon);
	ck_assert_ptr_null(c->feed_logo);
	ck_assert_ptr_null(c->feed_rights);
	ck_assert_str_eq(c->feed_lang, "en");
	ck_assert_int_eq(c->feed_entries, 50);
	ck_assert_uint_eq(c->nsets, 0);
	ck_assert_str_eq(c->oai_path, "/oai");
	ck_assert_int_eq(c->oai_page_size, 100);
	ck_assert_int_eq(c->oai_max_requests, 16);
	ck_assert_int_eq(c->oai_retry_after, 10);
	ck_assert_ptr_null(c->oai_token_key);
	ck_assert_int_eq(c->debounce_ms, 200);
	ck_assert_int_eq(c->rescan_interval, 300);
	ck_assert_uint_eq(c->ntargets, 0);
	ck_assert_int_eq(c->notify_timeout, 10);
	ck_assert_int_eq(c->notify_max_attempts, 0);
	ck_assert_int_eq(c->notify_backoff_max, 3600);
	/* "64M": SNAP_DOC_CACHE_DEFAULT */
	ck_assert_uint_eq(c->doc_cache_bytes, 64 * 1024 * 1024);
	ck_assert_uint_eq(c->record_cache_bytes, RECORD_CACHE_DEFAULT);
	ck_assert_uint_eq(c->record_cache_bytes, 128 * 1024 * 1024);
	conf_unref(c);
}
END_TEST

START_TEST(test_every_directive)
{
	struct conf	*c;

	c = parse_ok(BASE
	    "admin-email b@example.org\n"
	    "tag-authority me@example.org,2024-02-29\n"
	    "max-record-size 512k\nlisten [::1]:0\nthreads 256\n"
	    "document-cache 3M\nrecord-cache 0\n"
	    "max-age 0\nmetrics-local-only no\naccess-log yes\n"
	    "log-level debug\nfeed-title T\nfeed-subtitle S\n"
	    "feed-author-email x@y\nfeed-author-uri http://a.example/\n"
	    "feed-icon https://a.example/i.png\n"
	    "feed-logo https://a.example/l.png\nfeed-rights \"(c) me\"\n"
	    "feed-language pt-BR\nfeed-entries 1000\n"
	    "set a:b-c_d.e!f~g*h'i(j) \"N\" \"D\"\n"
	    "oai-path /x/oai\noai-page-size 10000\noai-max-requests 1\n"
	    "oai-retry-after 86400\noai-token-key 0123456789abcdef\n"
	    "debounce 0\nrescan-interval 0\n"
	    "websub-hub https://hub.example/\n"
	    "xmlrpc-ping http://rpc.example/RPC2\n"
	    "ping-get \"http://p.example/?u={feed}\"\n"
	    "ping-post http://p.example/ \"{\\\"f\\\": \\\"{feed}\\\"}\"\n"
	    "notify-timeout 600\nnotify-max-attempts 100\n"
	    "notify-backoff-max 604800\n");
	ck_assert_uint_eq(c->nadmin_emails, 2);
	ck_assert_str_eq(c->admin_emails[1], "b@example.org");
	ck_assert_str_eq(c->tag_authority, "me@example.org,2024-02-29");
	ck_assert_uint_eq(c->max_record_bytes, 512 * 1024);
	ck_assert_str_eq(c->listen_addr, "::1");
	ck_assert_int_eq(c->listen_port, 0);
	ck_assert_int_eq(c->threads, 256);
	ck_assert_uint_eq(c->doc_cache_bytes, 3 * 1024 * 1024);
	ck_assert_uint_eq(c->record_cache_bytes, 0);
	ck_assert_int_eq(c->max_age, 0);
	ck_assert_int_eq(c->metrics_local_only, 0);
	ck_assert_int_eq(c->access_log, 1);
	ck_assert_int_eq(c->log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(c->feed_title, "T");
	ck_assert_str_eq(c->feed_subtitle, "S");
	ck_assert_str_eq(c->feed_author_email, "x@y");
	ck_assert_str_eq(c->feed_author_uri, "http://a.example/");
	ck_assert_str_eq(c->feed_icon, "https://a.example/i.png");
	ck_assert_str_eq(c->feed_logo, "https://a.example/l.png");
	ck_assert_str_eq(c->feed_rights, "(c) me");
	ck_assert_str_eq(c->feed_lang, "pt-BR");
	ck_assert_int_eq(c->feed_entries, 1000);
	ck_assert_uint_eq(c->nsets, 1);
	ck_assert_str_eq(c->sets[0].spec, "a:b-c_d.e!f~g*h'i(j)");
	ck_assert_str_eq(c->sets[0].description, "D");
	ck_assert_str_eq(c->oai_path, "/x/oai");
	ck_assert_int_eq(c->oai_page_size, 10000);
	ck_assert_int_eq(c->oai_max_requests, 1);
	ck_assert_int_eq(c->oai_retry_after, 86400);
	ck_assert_str_eq(c->oai_token_key, "0123456789abcdef");
	ck_assert_int_eq(c->debounce_ms, 0);
	ck_assert_int_eq(c->rescan_interval, 0);
	ck_assert_uint_eq(c->ntargets, 4);
	ck_assert_int_eq(c->targets[0].kind, CONF_TARGET_WEBSUB);
	ck_assert_int_eq(c->targets[1].kind, CONF_TARGET_XMLRPC);
	ck_assert_int_eq(c->targets[2].kind, CONF_TARGET_PING_GET);
	ck_assert_str_eq(c->targets[2].url, "http://p.example/?u={feed}");
	ck_assert_ptr_null(c->targets[2].body);
	ck_assert_int_eq(c->targets[3].kind, CONF_TARGET_PING_POST);
	ck_assert_str_eq(c->targets[3].body, "{\"f\": \"{feed}\"}");
	ck_assert_int_eq(c->notify_timeout, 600);
	ck_assert_int_eq(c->notify_max_attempts, 100);
	ck_assert_int_eq(c->notify_backoff_max, 604800);
	conf_unref(c);
}
END_TEST

/* Lexical details: quotes, escapes, comments, CRLF, BOM, blank lines. */
START_TEST(test_quoting)
{
	struct conf	*c;

	c = parse_ok("\xef\xbb\xbf# comment\r\n\r\n   \t\n"
	    "repository-name \"a \\\"quoted\\\" # not a comment \\\\\""
	    " # one\r\n"
	    "base-url https://example.org/x/   # trailing\n"
	    "admin-email\ta@example.org\n"
	    "records \"dir with spaces\"\nstate \"\\\\srv\\\\st\"\n"
	    "feed-author-name \"A\"# a comment right after a quote\n"
	    "oai-namespace example.org");
	ck_assert_str_eq(c->repository_name,
	    "a \"quoted\" # not a comment \\");
	ck_assert_str_eq(c->base_url, "https://example.org/x");
	ck_assert_str_eq(c->records_dir, "dir with spaces");
	ck_assert_str_eq(c->state_dir, "\\srv\\st");
	ck_assert_str_eq(c->oai_namespace, "example.org");
	conf_unref(c);
}
END_TEST

START_TEST(test_cyrillic)
{
	static const char name[] =
	    "Център за изследване на демокрацията";
	static const char desc[] = "Контрабанда — „стоки“ и хора";
	char		 text[2048];
	struct conf	*c;
	struct err	 e;

	snprintf(text, sizeof(text), "repository-name \"%s\"\n"
	    "base-url https://example.org\nadmin-email a@example.org\n"
	    "records записи\nstate st\nfeed-author-name Иван\n"
	    "oai-namespace example.org\nfeed-rights ©\n"
	    "set region:bulgaria \"България\" \"%s\"\n"
	    "feed-language bg\n", name, desc);
	c = parse_ok(text);
	ck_assert_str_eq(c->repository_name, name);
	ck_assert_str_eq(c->feed_title, name);
	ck_assert_str_eq(c->records_dir, "записи");
	ck_assert_str_eq(c->feed_author_name, "Иван");
	ck_assert_str_eq(c->feed_rights, "©");
	ck_assert_str_eq(c->sets[0].name, "България");
	ck_assert_str_eq(c->sets[0].description, desc);
	ck_assert_str_eq(c->feed_lang, "bg");
	conf_unref(c);
	/* A setSpec is ASCII only (URI unreserved characters). */
	c = parse(BASE "set topic:контрабанда x\n", &e);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.all, "t.conf:8: set spec is not a valid setSpec: "
	    "'topic:контрабанда'\n");
	err_release(&e);
}
END_TEST

START_TEST(test_refcount)
{
	struct conf	*c;

	c = parse_ok(BASE);
	ck_assert_ptr_eq(conf_ref(c), c);
	ck_assert_int_eq(c->refs, 2);
	conf_unref(c);
	ck_assert_int_eq(c->refs, 1);
	conf_unref(c);
	conf_unref(NULL);
	ck_assert_ptr_null(conf_ref(NULL));
}
END_TEST

static const struct {
	const char	*line;	/* appended to BASE as line 8 */
	const char	*msg;	/* every message, '\n'-terminated */
} errors[] = {
	{ "feed-titel x", "t.conf:8: unknown directive 'feed-titel'\n" },
	{ "feed-entries 0",
	    "t.conf:8: feed-entries must be between 1 and 1000: '0'\n" },
	{ "feed-entries 1001",
	    "t.conf:8: feed-entries must be between 1 and 1000: '1001'\n" },
	{ "feed-entries -5",
	    "t.conf:8: feed-entries must be between 1 and 1000: '-5'\n" },
	{ "feed-entries 99999999999999999999",
	    "t.conf:8: feed-entries must be between 1 and 1000: "
	    "'99999999999999999999'\n" },
	{ "oai-page-size 10001",
	    "t.conf:8: oai-page-size must be between 1 and 10000: "
	    "'10001'\n" },
	{ "threads four",
	    "t.conf:8: threads must be between 1 and 256: 'four'\n" },
	{ "max-record-size 65M",
	    "t.conf:8: max-record-size must be between 1k and 64M: "
	    "'65M'\n" },
	{ "max-record-size 1023",
	    "t.conf:8: max-record-size must be between 1k and 64M: "
	    "'1023'\n" },
	{ "max-record-size 4G",
	    "t.conf:8: max-record-size must be between 1k and 64M: "
	    "'4G'\n" },
	{ "feed-title",
	    "t.conf:8: feed-title takes 1 value, got 0\n" },
	{ "feed-title a b",
	    "t.conf:8: feed-title takes 1 value, got 2\n" },
	{ "set topic",
	    "t.conf:8: set takes 2 or 3 values, got 1\n" },
	{ "ping-post http://x.example/",
	    "t.conf:8: ping-post takes 2 values, got 1\n" },
	{ "records again",
	    "t.conf:8: duplicate directive 'records' (first on line 4)\n" },
	{ "repository-name \"\"",
	    "t.conf:8: duplicate directive 'repository-name' "
	    "(first on line 1)\n" },
	{ "feed-subtitle \"\"",
	    "t.conf:8: feed-subtitle must not be empty\n" },
	{ "feed-icon ftp://x.example/i.png",
	    "t.conf:8: feed-icon is not an absolute http(s) URL: "
	    "'ftp://x.example/i.png'\n" },
	{ "feed-logo /logo.png",
	    "t.conf:8: feed-logo is not an absolute http(s) URL: "
	    "'/logo.png'\n" },
	{ "feed-author-uri \"http://x.example/a b\"",
	    "t.conf:8: feed-author-uri is not an absolute http(s) URL: "
	    "'http://x.example/a b'\n" },
	{ "websub-hub http:///nohost",
	    "t.conf:8: websub-hub is not an absolute http(s) URL: "
	    "'http:///nohost'\n" },
	{ "xmlrpc-ping http://x.example:80a/",
	    "t.conf:8: xmlrpc-ping is not an absolute http(s) URL: "
	    "'http://x.example:80a/'\n" },
	{ "feed-author-email a@b@c",
	    "t.conf:8: feed-author-email is not an e-mail address: "
	    "'a@b@c'\n" },
	{ "admin-email @example.org",
	    "t.conf:8: admin-email is not an e-mail address: "
	    "'@example.org'\n" },
	{ "admin-email \"a b@example.org\"",
	    "t.conf:8: admin-email is not an e-mail address: "
	    "'a b@example.org'\n" },
	{ "admin-email nobody@",
	    "t.conf:8: admin-email is not an e-mail address: 'nobody@'\n" },
	{ "tag-authority example.org",
	    "t.conf:8: tag-authority is not 'DOMAIN,YYYY[-MM[-DD]]' "
	    "(RFC 4151): 'example.org'\n" },
	{ "tag-authority example.org,2023-02-29",
	    "t.conf:8: tag-authority is not 'DOMAIN,YYYY[-MM[-DD]]' "
	    "(RFC 4151): 'example.org,2023-02-29'\n" },
	{ "tag-authority -bad.org,2020",
	    "t.conf:8: tag-authority is not 'DOMAIN,YYYY[-MM[-DD]]' "
	    "(RFC 4151): '-bad.org,2020'\n" },
	{ "tag-authority example.org,20",
	    "t.conf:8: tag-authority is not 'DOMAIN,YYYY[-MM[-DD]]' "
	    "(RFC 4151): 'example.org,20'\n" },
	{ "metrics-local-only maybe",
	    "t.conf:8: metrics-local-only must be 'yes' or 'no': "
	    "'maybe'\n" },
	{ "access-log YES",
	    "t.conf:8: access-log must be 'yes' or 'no': 'YES'\n" },
	{ "log-level loud",
	    "t.conf:8: log-level must be error, warning, info or debug: "
	    "'loud'\n" },
	{ "listen 127.0.0.1",
	    "t.conf:8: listen is not IPV4:PORT or [IPV6]:PORT: "
	    "'127.0.0.1'\n" },
	{ "listen localhost:80",
	    "t.conf:8: listen is not IPV4:PORT or [IPV6]:PORT: "
	    "'localhost:80'\n" },
	{ "listen ::1:80",
	    "t.conf:8: listen is not IPV4:PORT or [IPV6]:PORT: "
	    "'::1:80'\n" },
	{ "listen [::1]80",
	    "t.conf:8: listen is not IPV4:PORT or [IPV6]:PORT: "
	    "'[::1]80'\n" },
	{ "listen 0.0.0.0:65536",
	    "t.conf:8: listen port must be between 0 and 65535: "
	    "'65536'\n" },
	{ "listen [::]:",
	    "t.conf:8: listen port must be between 0 and 65535: ''\n" },
	{ "feed-language en_GB",
	    "t.conf:8: feed-language is not a language tag: 'en_GB'\n" },
	{ "feed-language en-a",
	    "t.conf:8: feed-language is not a language tag: 'en-a'\n" },
	{ "feed-language en-GB-US",
	    "t.conf:8: feed-language is not a language tag: 'en-GB-US'\n" },
	{ "feed-icon http://x.example/a|b",
	    "t.conf:8: feed-icon is not an absolute http(s) URL: "
	    "'http://x.example/a|b'\n" },
	{ "feed-icon http://x.example/%zz",
	    "t.conf:8: feed-icon is not an absolute http(s) URL: "
	    "'http://x.example/%zz'\n" },
	{ "websub-hub http://h.example/?u={feed}",
	    "t.conf:8: websub-hub is not an absolute http(s) URL: "
	    "'http://h.example/?u={feed}'\n" },
	{ "set topic:a/b \"N\"",
	    "t.conf:8: set spec is not a valid setSpec: 'topic:a/b'\n" },
	{ "set topic: \"N\"",
	    "t.conf:8: set spec is not a valid setSpec: 'topic:'\n" },
	{ "set :x \"N\"",
	    "t.conf:8: set spec is not a valid setSpec: ':x'\n" },
	{ "set x \"\"",
	    "t.conf:8: set name must not be empty: 'x'\n" },
	{ "oai-path oai",
	    "t.conf:8: oai-path must start with '/': 'oai'\n" },
	{ "oai-path /oai?x",
	    "t.conf:8: oai-path must be a plain path: '/oai?x'\n" },
	{ "oai-token-key short",
	    "t.conf:8: oai-token-key must be at least 16 characters\n" },
	{ "debounce 60001",
	    "t.conf:8: debounce must be between 0 and 60000: '60001'\n" },
	{ "rescan-interval 86401",
	    "t.conf:8: rescan-interval must be between 0 and 86400: "
	    "'86401'\n" },
	{ "notify-timeout 0",
	    "t.conf:8: notify-timeout must be between 1 and 600: '0'\n" },
	{ "feed-title \"unterminated",
	    "t.conf:8:12: unterminated quoted string\n" },
	{ "feed-title \"bad \\n escape\"",
	    "t.conf:8:17: invalid escape: only \\\" and \\\\\n" },
	{ "feed-title \"a\"b",
	    "t.conf:8:15: missing space after closing quote\n" },
	{ "feed-title a\"b\"",
	    "t.conf:8:13: unexpected '\"' in unquoted value\n" },
	{ "feed-title \xc3\x28",
	    "t.conf:8:12: invalid UTF-8\n" },
	{ "feed-title \xc0\xaf",
	    "t.conf:8:12: invalid UTF-8\n" },
	{ "feed-title \xed\xa0\x80",
	    "t.conf:8:12: invalid UTF-8\n" },
	{ "feed-title \xf4\x90\x80\x80",
	    "t.conf:8:12: invalid UTF-8\n" },
	{ "feed-title \xef\xbf\xbe",
	    "t.conf:8:12: character not allowed in XML\n" },
	{ "feed-title a\x01",
	    "t.conf:8:13: control character\n" },
	{ "feed-title a\rb",
	    "t.conf:8:13: control character\n" },
};

START_TEST(test_errors)
{
	char		 text[1024];
	struct conf	*c;
	struct err	 e;

	snprintf(text, sizeof(text), BASE "%s\n", errors[_i].line);
	c = parse(text, &e);
	ck_assert_msg(c == NULL, "accepted '%s'", errors[_i].line);
	ck_assert_str_eq(e.all, errors[_i].msg);
	ck_assert_int_eq(e.count, 1);
	err_release(&e);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = BASE "feed-title a\0b\n";
	struct conf	*c;
	struct err	 e;

	err_init(&e);
	c = conf_parse_mem(text, sizeof(text) - 1, "t.conf", &e);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.all, "t.conf:8:13: NUL byte\n");
	err_release(&e);
}
END_TEST

START_TEST(test_missing)
{
	struct conf	*c;
	struct err	 e;

	c = parse("# nothing\n", &e);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(e.count, 7);
	ck_assert_str_eq(e.msg,
	    "t.conf: missing required directive 'repository-name'");
	ck_assert_str_eq(e.all,
	    "t.conf: missing required directive 'repository-name'\n"
	    "t.conf: missing required directive 'base-url'\n"
	    "t.conf: missing required directive 'admin-email'\n"
	    "t.conf: missing required directive 'records'\n"
	    "t.conf: missing required directive 'state'\n"
	    "t.conf: missing required directive 'feed-author-name'\n"
	    "t.conf: missing required directive 'oai-namespace'\n");
	err_release(&e);
	/* A bad value is not also reported as missing. */
	c = parse("repository-name R\nbase-url x\n"
	    "admin-email a@example.org\nrecords r\nstate s\n"
	    "feed-author-name A\noai-namespace org\n", &e);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.all,
	    "t.conf:2: base-url is not an absolute http(s) URL: 'x'\n"
	    "t.conf:7: oai-namespace is not a repository identifier such "
	    "as 'example.org': 'org'\n");
	err_release(&e);
}
END_TEST

START_TEST(test_tag_default)
{
	struct conf	*c;
	struct err	 e;

	c = parse("repository-name R\nbase-url http://[::1]:8080\n"
	    "admin-email a@example.org\nrecords r\nstate s\n"
	    "feed-author-name A\noai-namespace example.org\n", &e);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.all, "t.conf: tag-authority is required: "
	    "base-url host '[::1]' is not a DNS name\n");
	err_release(&e);
	c = parse_ok("repository-name R\n"
	    "base-url https://user@Pub.Example.org:8443/feeds\n"
	    "admin-email a@example.org\nrecords r\nstate s\n"
	    "feed-author-name A\noai-namespace example.org\n");
	ck_assert_str_eq(c->tag_authority, "pub.example.org,2000");
	ck_assert_str_eq(c->base_url,
	    "https://user@Pub.Example.org:8443/feeds");
	conf_unref(c);
}
END_TEST

/*
 * One URL rule everywhere: IRIs (non-ASCII as UTF-8) are URLs in the file
 * as in records and on the command line; braces only in ping templates.
 */
START_TEST(test_iri)
{
	struct conf	*c;

	c = parse_ok("repository-name R\n"
	    "base-url https://example.org/b\xc3\xbc" "cher\n"
	    "admin-email a@example.org\nrecords r\nstate s\n"
	    "feed-author-name A\noai-namespace example.org\n"
	    "feed-icon https://example.org/\xd0\xb8.png\n"
	    "feed-language sr-Latn-RS\n"
	    "ping-get http://p.example/?u={feed}&n={name}\n");
	ck_assert_str_eq(c->base_url, "https://example.org/b\xc3\xbc" "cher");
	ck_assert_str_eq(c->feed_lang, "sr-Latn-RS");
	ck_assert_str_eq(c->tag_authority, "example.org,2000");
	conf_unref(c);
}
END_TEST

START_TEST(test_load_errors)
{
	struct conf	*c;
	struct err	 e;
	char		*big;

	err_init(&e);
	c = conf_load("tests/data/conf/no-such-file.conf", &e);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.msg, "tests/data/conf/no-such-file.conf: "
	    "cannot open: No such file or directory");
	err_release(&e);
	big = malloc(1024 * 1024 + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', 1024 * 1024 + 1);
	c = conf_parse_mem(big, 1024 * 1024 + 1, "big.conf", &e);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.msg, "big.conf: file is larger than 1 MiB");
	err_release(&e);
	free(big);
	/* NULL path and NULL err are tolerated. */
	ck_assert_ptr_null(conf_parse_mem("x", 1, NULL, NULL));
}
END_TEST

/* Whole files beside goldens holding every expected message. */
static const char *const goldens[] = {
	"unknown", "ranges", "many", "missing", "lexical", "encoding",
};

START_TEST(test_golden)
{
	char		 conf[256], golden[256];
	struct conf	*c;
	struct err	 e;

	snprintf(conf, sizeof(conf), "tests/data/conf/bad/%s.conf",
	    goldens[_i]);
	snprintf(golden, sizeof(golden), "tests/data/conf/bad/%s.err",
	    goldens[_i]);
	err_init(&e);
	c = conf_load(conf, &e);
	ck_assert_ptr_null(c);
	tl_assert_golden(e.all, golden);
	err_release(&e);
}
END_TEST

/* oai-cache-size: 64M by default, 0 keeps nothing, at most 4096M. */
START_TEST(test_oai_cache_size)
{
	static const char base[] = "repository-name R\n"
	    "base-url https://example.org\nadmin-email a@example.org\n"
	    "records r\nstate s\nfeed-author-name A\n"
	    "oai-namespace example.org\n";
	char		 text[512];
	struct conf	*c;
	struct err	 e;

	c = parse_ok(base);
	ck_assert_uint_eq(c->oai_cache_bytes, 64 * 1024 * 1024);
	conf_unref(c);
	snprintf(text, sizeof(text), "%soai-cache-size 0\n", base);
	c = parse_ok(text);
	ck_assert_uint_eq(c->oai_cache_bytes, 0);
	conf_unref(c);
	snprintf(text, sizeof(text), "%soai-cache-size 4096M\n", base);
	c = parse_ok(text);
	ck_assert_uint_eq(c->oai_cache_bytes, 4096ULL * 1024 * 1024);
	conf_unref(c);
	snprintf(text, sizeof(text), "%soai-cache-size 4097M\n", base);
	ck_assert_ptr_null(parse(text, &e));
	ck_assert_str_eq(e.all, "t.conf:8: oai-cache-size must be between 0M "
	    "and 4096M: '4097M'\n");
	err_release(&e);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("conf");

	tcase_add_test(tc, test_example);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_oai_cache_size);
	tcase_add_test(tc, test_every_directive);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_cyrillic);
	tcase_add_test(tc, test_refcount);
	tcase_add_loop_test(tc, test_errors, 0,
	    sizeof(errors) / sizeof(errors[0]));
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_tag_default);
	tcase_add_test(tc, test_iri);
	tcase_add_test(tc, test_load_errors);
	tcase_add_loop_test(tc, test_golden, 0,
	    sizeof(goldens) / sizeof(goldens[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (tl_chdir_srcdir() == -1)
		return 1;
	return tl_run(conf_suite());
}
