/*
 * feed: Atom 1.0 (RFC 4287) and RSS 2.0 renderers, RFC 5005 archives, and the
 * HTML home page, all built once per snapshot and added to it as documents.
 *
 * URL layout (paths below conf->base_url):
 *   /                          HTML page, autodiscovery links, newest items
 *   /feed.atom  /feed.rss      whole collection, newest conf->feed_entries
 *   /archive/N.atom|.rss       whole collection, archive page N (1 = oldest)
 *   /sets/SPEC.atom|.rss       one set (and its descendants)
 *   /sets/SPEC/archive/N.atom|.rss
 *   /feed.json  /sets/SPEC.json   JSON Feed 1.1 twins of the current feeds
 *   /feed.ics   /sets/SPEC.ics    iCalendar of every event record (not only
 *                              the newest), of the collection or the set
 *   /events/ID.ics             one event, for "add to calendar"
 *   /lang/LL/feed.atom|.rss|.json        language versions (feed_langs()):
 *   /lang/LL/sets/SPEC.atom|.rss|.json   every entry in language LL where
 *                              the record has it; current documents only
 * Archive page N holds entries [(N-1)*E, N*E) of the feed in (issued, id)
 * order, and only full pages are archived, so a page never changes while
 * new publications arrive at the newest end (RFC 5005 section 4).
 *
 * Entry ids are tag: URIs (RFC 4151) built from conf->tag_authority and the
 * record id, independent of any URL.  Renderers are pure: they read the
 * snapshot and a struct feed_conf and write bytes; they never log.
 *
 * Layout: feed_build.c decides which documents exist and calls the
 * renderers (feed_atom.c, feed_rss.c, feed_html.c, feed_record.c); they
 * call only the helpers of feed_util.c and feed_html.c (feed_int.h), which
 * call nothing back.
 *
 * The HTML pages, for people and search engines (every one links the
 * stylesheet of page_style.h, served at page_style_path()):
 *   /                          events and publications: the upcoming events,
 *                              the newest entries, the sets as a tree
 *   /archive/N.html            older entries, page N as in the feeds
 *   /sets/SPEC.html            one set: its events, entries, subsets, feeds
 *   /sets/SPEC/archive/N.html
 *   /records/ID.html           a record's landing page: citation_* meta
 *                              tags, schema.org JSON-LD, FAIR Signposting
 * each in English at these paths and in every other language of i18n.h
 * under its prefix ("/bg/", "/nb/sets/SPEC.html").  Archive page slots
 * (struct snap_pages kinds) are FEED_ATOM, FEED_RSS, FEED_HTML (English),
 * then one per other language, FEED_HTML in it (page_kind() of
 * feed_build.c); the
 * landing page slots are kind = enum i18n_lang.
 * A record id is [A-Za-z0-9][A-Za-z0-9._-]* (record.h), so it needs no
 * escaping in a path.
 */
#ifndef PUBFEED_FEED_H
#define PUBFEED_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "hash.h"
#include "i18n.h"
#include "record.h"
#include "snap.h"

/*
 * The languages of the collection that get feeds of their own: the
 * distinct feed languages (feed_lang_norm()) of the live records' own
 * language and of their titles and abstracts, at most FEED_LANGS_MAX (the
 * ones most records use; ties by tag), in tag order.  tags[i] points into
 * tag[i].
 */
#define FEED_LANG_LEN	4	/* a primary subtag and its NUL */
#define FEED_LANGS_MAX	32

struct feed_langs {
	size_t		 n;
	char		 tag[FEED_LANGS_MAX][FEED_LANG_LEN];
	const char	*tags[FEED_LANGS_MAX];
};

/*
 * The feed language of a BCP 47 tag into out: its primary language
 * subtag, in lower case, with the Norwegian macrolanguage "no" read as
 * Bokmal "nb" (what the records of a Norwegian institute write), so that
 * "nb-NO", "no" and "NB" share one feed; "nn" stays its own.  -1, out
 * empty, for a tag with no such language: NULL, private use ("x-..."),
 * grandfathered "i-...", a reserved or registered 4-8 letter subtag, and
 * "und", "mul", "zxx", "mis".
 */
int	feed_lang_norm(const char *tag, char out[FEED_LANG_LEN]);

/* The feed languages of s (see struct feed_langs).  Never fails. */
void	feed_langs(struct feed_langs *, const struct snap *s);

/* Atom and RSS first: they index the archive pages (SNAP_PAGE_KINDS). */
enum feed_format {
	FEED_ATOM,
	FEED_RSS,
	FEED_HTML,	/* the list pages: /, /sets/SPEC.html, archives */
	FEED_JSON,	/* JSON Feed 1.1 */
	FEED_ICS,	/* iCalendar (RFC 5545): the page's event entries */
};

#define FEED_ATOM_TYPE	"application/atom+xml; charset=utf-8"
#define FEED_RSS_TYPE	"application/rss+xml; charset=utf-8"
#define FEED_JSON_TYPE	"application/feed+json"
#define FEED_ICS_TYPE	"text/calendar; charset=utf-8"
#define FEED_HTML_TYPE	"text/html; charset=utf-8"
#define FEED_RECORD_PREFIX "/records/"	/* + ID + ".html" */
/*
 * A record's FAIR Signposting link set (level 2, RFC 9264), in both forms:
 * "/records/ID.linkset" and "/records/ID.linkset.json".
 */
#define FEED_LINKSET_EXT	".linkset"
#define FEED_LINKSET_JSON_EXT	".linkset.json"
#define FEED_LINKSET_TYPE	"application/linkset"
#define FEED_LINKSET_JSON_TYPE	"application/linkset+json"
/*
 * The budget of a landing page's Link header value, in bytes: the whole
 * response header then stays under 2.4 KB (pubfeed's other headers take
 * less than 350 bytes), within what a proxy holds in one buffer (nginx's
 * proxy_buffer_size: one memory page, 4 KB on x86-64) and what http.c's
 * 16 KB connection pool has room for after the request.  Level 1 needs
 * some 1.5 KB (the link sets, cite-as, two types, a describedby per
 * OAI-PMH format, the licence); what does not fit is in the link sets,
 * which the header always links.
 */
#define FEED_LINK_MAX		2048

/*
 * The URL pubfeed serves record id's landing page at, in page language l:
 * base_url + "/bg" + "/records/ID.html", into b (reset first).  The one
 * place that spells it: feeds, OAI metadata and COAR Notify all link it.
 * 0 or -1 (b's cap).
 */
int		 feed_page_url(struct buf *b, const char *base_url,
		    enum i18n_lang l, const char *id);

/* The schema.org type of a record ("Report", "ScholarlyArticle" ...). */
const char	*feed_schema_type(enum record_type);

/*
 * The configuration the feed renderers read, and nothing else: renderers
 * take this, never struct conf, so what they can read is what the key
 * covers.  The fields are listed once, here; the list declares them,
 * feed_conf_init() copies them from struct conf (same names) and the key
 * hashes them in this order, so a field added to the list is in the key.
 * Strings may be NULL.  sets and targets point into the conf, which must
 * outlive this (a snapshot holds its conf).
 */
#define FEED_CONF_STRINGS(X)						\
	X(repository_name) X(base_url) X(tag_authority) X(feed_title)	\
	X(feed_subtitle) X(feed_author_name) X(feed_author_email)	\
	X(feed_author_uri) X(feed_icon) X(feed_logo) X(feed_rights)	\
	X(feed_lang) X(oai_path)
#define FEED_CONF_INTS(X)	X(feed_entries) X(publish_emails)

struct feed_conf {
#define FEED_CONF_STRING(f)	const char *f;
#define FEED_CONF_INT(f)	int f;
	FEED_CONF_STRINGS(FEED_CONF_STRING)
	FEED_CONF_INTS(FEED_CONF_INT)
#undef FEED_CONF_STRING
#undef FEED_CONF_INT
	const struct conf_set		*sets;		/* set labels */
	size_t				 nsets;
	const struct conf_target	*targets;	/* WebSub hubs */
	size_t				 ntargets;
	/* SHA-256 of the version and every field above, in order */
	unsigned char			 key[HASH_LEN];
};

/* Fill fc from c and compute fc->key.  Never fails. */
void	feed_conf_init(struct feed_conf *fc, const struct conf *c);

/* One feed document to render. */
struct feed_page {
	const char		*title;
	const char		*subtitle;	/* may be NULL */
	const char		*set_spec;	/* NULL: whole collection */
	const char		*self_path;	/* "/feed.atom" */
	const char		*alt_path;	/* the other format's path */
	const char		*current_path;	/* archives: the live document */
	const char		*prev_archive;	/* may be NULL */
	const char		*next_archive;	/* may be NULL */
	int			 is_archive;
	/*
	 * FEED_HTML: the page's language; self_path then carries its prefix
	 * (i18n.h).  Feeds are in no page language (I18N_EN).
	 */
	enum i18n_lang		 page_lang;
	/*
	 * A language version (/lang/LL/...): each entry's title and summary
	 * in this feed language where the record has them, else the record's
	 * own, marked.  NULL: every entry in its record's own language.
	 */
	const char		*lang;
	/* the language versions of this feed to link (rel="related") */
	const char *const	*langs;
	size_t			 nlangs;
	/*
	 * When pubfeed first saw the collection (the snapshot's earliest
	 * datestamp): entries stamped then take their own dates
	 * (feed_entry_updated()).
	 */
	int64_t			 first_seen;
	/* entries, newest first */
	struct record *const	*entries;
	size_t			 nentries;
	/*
	 * No Last-Modified older than this (feed_page_changed()): for a
	 * current document since when it has shown these records (snap.h
	 * window_changed: a deletion or an edited date or set changes them
	 * without anything newer appearing); for a calendar of every event
	 * the newest deletion in its set; for an HTML current page also when
	 * its tree of sets last changed, when its last upcoming event ended
	 * and its events' datestamps.  0 for an archive page (see
	 * archive_page()) and for the page of one record.
	 */
	int64_t			 lm_floor;
	/*
	 * HTML current pages only (NULL/0 for feeds and archives, which must
	 * not change when other sets do): the snapshot, for the tree of sets,
	 * and the upcoming events of the page, soonest first.
	 */
	const struct snap	*snap;
	struct record *const	*events;
	size_t			 nevents;
};

/* Render one document into out (appending).  0, or -1 with e set. */
int	feed_render(const struct feed_conf *, const struct feed_page *,
	    enum feed_format, struct buf *out, struct err *e);

/*
 * The landing page of r (an item of s) in language l, HTML5, into out
 * (appending).  0, or -1 with e set.
 */
int	feed_render_record(const struct feed_conf *, const struct snap *s,
	    const struct record *r, enum i18n_lang l, struct buf *out,
	    struct err *e);
/*
 * The FAIR Signposting Link header value of the document at path (a
 * landing page) into out (reset first), at most FEED_LINK_MAX bytes: 1
 * when there is one, 0 when path is no landing page of s, -1 when out's
 * cap is reached.
 */
int	feed_doc_links(const struct snap *s, const char *path,
	    struct buf *out);
/*
 * That header value of r (an item of s) for a budget of budget bytes into
 * out (reset first): out->len <= budget.  The links go in by priority,
 * the link sets, cite-as, type, describedby, license, item, author, up to
 * the first that does not fit; all of them are in the link sets.  0 or -1.
 */
int	feed_record_links(const struct snap *s, const struct record *r,
	    size_t budget, struct buf *out);
/*
 * r's link set into out (appending): every typed link of the landing page
 * with its anchor, and the content and metadata resources' links to it,
 * as application/linkset+json when is_json, else application/linkset.
 * 0, or -1 with e set.
 */
int	feed_render_linkset(const struct feed_conf *, const struct snap *s,
	    const struct record *r, int is_json, struct buf *out,
	    struct err *e);

/*
 * Give s its documents, reusing from prev (may be NULL) what did not
 * change.  The collection's current documents (/feed.*, /, /bg/, /nb/) are
 * rendered now and go into the document table.  The rest are only
 * registered, as slots rendered on request into the document cache
 * (snap_slot_get()): the current documents of sets, the language versions
 * and "/events/ID.ics" in s's lazy table (keyed, so an unchanged one is the
 * same slot in the next snapshot), RFC 5005 archive pages in s->pages and
 * set->pages (kind = enum feed_format), landing pages (kind = the page
 * language) and link sets (the two kinds after) in s->records;
 * s->resolve = feed_resolve finds them.  So a snapshot costs memory for the
 * documents asked for lately, and ETag, Last-Modified and the bytes are
 * what rendering them at build time would have given.
 */
int	feed_build(struct snap *s, const struct snap *prev, struct err *e);

/*
 * The lazy document, archive page ("/archive/N.EXT",
 * "/sets/SPEC/archive/N.EXT"), landing page ("/records/ID.html") or link
 * set ("/records/ID.linkset", "/records/ID.linkset.json") at
 * path, with a reference (snap_doc_done()), rendered now unless the
 * document cache has it; NULL if s has no such page (or memory ran out).
 * Thread-safe: s->resolve of every built snapshot.
 */
const struct snap_doc *feed_resolve(const struct snap *s, const char *path);

/*
 * fn(arg, d, e) on every document of s, one at a time, in the order export
 * writes them (current documents by path, archive pages by feed, kind and
 * page, landing pages by language and id, link sets by form and id); a
 * document rendered on request is rendered for the call and given back
 * after it, so the walk holds no more than the document cache does.  With
 * want (may be NULL), every document rendered on request is first offered
 * as want(arg, path, key, owner, e), key (HASH_LEN bytes) naming everything
 * its bytes and Last-Modified are made of, the same in every process, owner
 * what the document belongs to in s: the struct record of a landing page or
 * link set, the slot (struct snap_slot) of an archive page, NULL for any
 * other document: 1 renders it for fn, 0 skips it (not rendered), -1
 * stops.  Documents rendered with the snapshot go to fn unasked.  Stops at
 * the first -1.
 *
 * With prev (may be NULL: walk everything), a snapshot the caller walked
 * before and still holds a reference to (so nothing of it can be freed and
 * another allocated at its address): the documents of an owner that is
 * kept are not walked at all (neither offered nor given to fn), their keys
 * being what they were in prev.  A record is kept when it is the same
 * struct record (so the same bytes and datestamp) at the same id in prev
 * and s, and everything else the keys of its landing pages and link sets
 * cover is the same in both: the feed conf's key, the OAI namespace and the
 * names of the sets.  An archive page's slot is kept when it is the same
 * slot at the same page of the same feed and kind in both (feed_build()
 * shares a slot only when the page's inputs are the same: it is the same
 * document).  drop(arg, owner) is called once for every owner of prev that
 * is not kept, before feed_each_doc() returns; drop may be NULL only with
 * prev NULL.  0 or -1.
 */
typedef int	 feed_doc_fn(void *arg, const struct snap_doc *d, struct err *e);
typedef int	 feed_want_fn(void *arg, const char *path,
		    const unsigned char *key, const void *owner,
		    struct err *e);
typedef void	 feed_drop_fn(void *arg, const void *owner);
int	feed_each_doc(const struct snap *s, const struct snap *prev,
	    feed_want_fn *want, feed_drop_fn *drop, feed_doc_fn *fn, void *arg,
	    struct err *e);

/* "tag:AUTHORITY:record/ID" for a record, into out.  0 or -1. */
int	feed_tag_id(const struct feed_conf *, const char *what, const char *id,
	    struct buf *out);

#endif
