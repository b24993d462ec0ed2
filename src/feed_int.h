/*
 * feed_int: private to the feed module (the public contract is feed.h);
 * nothing outside src/feed*.c includes it.  The renderers' entry points,
 * which only feed_build.c calls, and the helpers of feed_util.c, which the
 * renderers and feed_build.c call and which call no renderer.
 *
 * The helpers are pure functions of a record or of a feed_conf; every "url"
 * helper resets the buffer it is given and leaves a NUL-terminated string in
 * it.
 */
#ifndef PUBFEED_FEED_INT_H
#define PUBFEED_FEED_INT_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "feed.h"
#include "i18n.h"
#include "record.h"
#include "xw.h"

#define FEED_ATOM_NS	"http://www.w3.org/2005/Atom"
#define FEED_FH_NS	"http://purl.org/syndication/history/1.0"
#define FEED_DC_NS	"http://purl.org/dc/elements/1.1/"
/* The RSS 1.0 event module, in Atom and RSS: ev:startdate, ev:enddate ... */
#define FEED_EV_NS	"http://purl.org/rss/1.0/modules/event/"
/* cap of one document: /feed.ics, every event, is 85 MB at 1M records */
#define FEED_BUF_MAX	(256 * 1024 * 1024)
#define FEED_URL_MAX	(64 * 1024)		/* cap of one built URL */
#define FEED_INDEX_ITEMS 20		/* newest items on the home page */

/* Atom 1.0 and RSS 2.0 bodies of feed_render(). */
int	feed_render_atom(const struct feed_conf *, const struct feed_page *,
	    struct buf *out, struct err *e);
int	feed_render_rss(const struct feed_conf *, const struct feed_page *,
	    struct buf *out, struct err *e);
/* JSON Feed 1.1 (feed_json.c, with jansson). */
int	feed_render_json(const struct feed_conf *, const struct feed_page *,
	    struct buf *out, struct err *e);
/*
 * iCalendar (feed_ics.c, with libical): one VEVENT per event entry of the
 * page (other entries are skipped), a VTIMEZONE per zone they use.
 */
int	feed_render_ics(const struct feed_conf *, const struct feed_page *,
	    struct buf *out, struct err *e);

/*
 * s without the C0 control characters XML cannot carry (tab, LF and CR
 * stay), as the XML writer drops them, so the JSON and iCalendar renderers
 * say what Atom says (configuration strings may hold them; record text
 * cannot).  Returns s itself when it has none, else a copy in b (reset
 * first); NULL when s is NULL or b's cap is reached.
 */
const char *feed_clean_text(struct buf *b, const char *s);
/* The list pages (FEED_HTML) of feed_render(); feed_html.c. */
int	feed_render_html(const struct feed_conf *, const struct feed_page *,
	    struct buf *out, struct err *e);

/*
 * The HTML writing both page renderers share (feed_html.c).  A page is
 * XHTML-compatible HTML5 written through xw; every non-void element gets
 * text or children (xmlTextWriter would close an empty one as "<x/>").
 * url and tmp are scratch buffers of FEED_URL_MAX.
 */
struct feed_html {
	const struct feed_conf	*conf;
	enum i18n_lang		 lang;	/* of the page and its links */
	const char		*page;	/* its path without language prefix */
	struct xw		 w;
	struct buf		 url;
	struct buf		 tmp;
};

/*
 * Doctype, <html lang> of lang, <head> with charset, viewport, title,
 * stylesheet, icon and the page's language versions (<link rel=alternate
 * hreflang> per language and x-default); <head> is left open for the
 * caller's links and metadata.  page is the page's path without language
 * prefix ("/", "/records/ID.html"); it must outlive h.
 */
int	feed_html_open(struct feed_html *, const struct feed_conf *,
	    struct buf *out, enum i18n_lang lang, const char *page,
	    const char *title);
/* h's message m. */
const char *feed_html_msg(const struct feed_html *, enum i18n_msg m);
/*
 * Close </head>, open <body> with the site banner, the language switcher
 * (the same page in the other languages) and <main>.
 */
void	feed_html_body(struct feed_html *);
/* Close <main>, write the footer, finish.  0 or -1 (with e set). */
int	feed_html_close(struct feed_html *, const char *what, struct err *e);
/*
 * <link rel=alternate> for the feeds of one set (NULL: the collection);
 * their language versions in lang ("/lang/LL/...") when lang is not NULL.
 */
void	feed_html_discovery(struct feed_html *, const char *spec,
	    const char *name, const char *lang);
/* <name class=class>s</name>; nothing when s is NULL or empty. */
void	feed_html_elem(struct feed_html *, const char *name,
	    const char *class, const char *s);
/* <a href="base_url + path">text</a>: a document in no language (feeds) */
void	feed_html_a(struct feed_html *, const char *path, const char *text);
/* <a href="base_url + prefix + path">text</a>: a page in h's language */
void	feed_html_page_a(struct feed_html *, const char *path,
	    const char *text);
/* base_url + prefix of h's language + path into h->url.  0 or -1. */
int	feed_html_page_url(struct feed_html *, const char *path);
/* "Report", "Policy brief", ...: a record type in words, in l. */
const char *feed_type_label(enum i18n_lang l, enum record_type);
/* "PDF, 3.4 MB" for a full-text link, in l, into b (reset first).  0/-1. */
int	feed_file_label(struct buf *b, enum i18n_lang l,
	    const struct record_link *);
/*
 * The text of ts (n of them) for a page in l: the one in l when there is
 * one, else the record's own (in lang).  *tlang gets its language, or NULL
 * when that is the page's (then no lang attribute is needed).
 */
const struct record_text *feed_text_for(const struct record_text *ts,
	    size_t n, const char *lang, enum i18n_lang l, const char **tlang);
/*
 * When ev is, into b (reset first): "2019-05-14 – 2019-05-16",
 * "2026-12-09 13:00–14:30 UTC", "2027-06-10 09:00–11:30
 * Europe/Oslo": the wall clock of the event's zone, as in its calendar
 * entry and its feed summary (feed_util.c, the one place).
 */
int	feed_event_when(struct buf *b, const struct record_event *);
/* The live record a "/records/ID.html" path names in s, or NULL. */
const struct record *feed_path_record(const struct snap *, const char *path);
/* The main title of r (its id when it has none). */
const char *feed_record_title(const struct record *);
/*
 * The title of r for a page in l: in l when r has one, else the main one;
 * *tlang as feed_text_for() (r->titles[0]'s language, or r->lang).
 */
const char *feed_record_title_in(const struct record *, enum i18n_lang l,
	    const char **tlang);

/* feed_title, else the repository name; feed_lang, else "en". */
const char *feed_conf_title(const struct feed_conf *);
const char *feed_conf_lang(const struct feed_conf *);

/* The document's language: p->lang, else feed_conf_lang(). */
const char *feed_page_lang(const struct feed_conf *, const struct feed_page *);
/*
 * "/lang/LL/feed.EXT", or "/lang/LL/sets/SPEC.EXT" for a set, into b
 * (reset first).  0 or -1 (cap).
 */
int	feed_lang_path(struct buf *b, const char *lang, const char *set_spec,
	    const char *ext);
/*
 * The text of t[0..n) to show in feed language want (feed_lang_norm()
 * form, or NULL): the first whose tag has that feed language, else
 * record_text_pick(t, n, own).  NULL when n is 0.
 */
const struct record_text *feed_text_in(const struct record_text *t, size_t n,
	    const char *want, const char *own);
/* The entry's title in p->lang (feed_text_in()), or NULL: none at all. */
const struct record_text *feed_entry_title(const struct feed_page *,
	    const struct record *);
/*
 * <ELEM rel="related" type=TYPE hreflang=LL href=/> to the EXT document of
 * every language version in p->langs but p's own.
 */
void	feed_write_lang_links(struct xw *, struct buf *tmp,
	    const struct feed_conf *, const struct feed_page *,
	    const char *elem, const char *type, const char *ext);

/* base_url + path into b (reset first).  0 or -1 (cap). */
int	feed_url(struct buf *b, const struct feed_conf *, const char *path);
/* The feed's id: "tag:AUTH:feed", or "tag:AUTH:set/SPEC" for a set. */
int	feed_id(struct buf *b, const struct feed_conf *, const char *set_spec);

/*
 * When an entry of p last changed for a reader (Atom updated, JSON Feed
 * date_modified): the record's own modified when it has one; else issued
 * when its datestamp is p->first_seen (content pubfeed already had when it
 * first saw the collection, never the moment of that first start); else
 * the datestamp (the change, or addition, pubfeed observed).  Never before
 * issued.  Stable across restarts: every input is persisted.
 */
int64_t	feed_entry_updated(const struct feed_page *, const struct record *);
/* The newest entry's updated; 0 (the epoch) for an empty page. */
int64_t	feed_page_updated(const struct feed_page *);
/*
 * The document's HTTP Last-Modified: the newest of its entries' updated
 * and datestamps, so a change that keeps a record's own modified still
 * moves it, and p->lm_floor.
 */
int64_t	feed_page_changed(const struct feed_page *);
/*
 * The record's own landing page, or NULL: then its entries point at its
 * landing page here (feed_entry_url()).
 */
const struct record_link *feed_entry_link(const struct record *);
/*
 * The landing page pubfeed serves for r in page language l, as the HTTP
 * server answers it: base_url + prefix of l + "/records/ID.html" into b
 * (reset first).  0 or -1 (cap).
 */
int	feed_record_url(struct buf *b, const struct feed_conf *,
	    enum i18n_lang l, const struct record *);
/*
 * Where an entry of p links (Atom alternate, RSS link, JSON Feed url,
 * iCalendar URL): the record's own landing page when it has one; else
 * feed_record_url() in p's feed language when pubfeed has pages in it
 * (/lang/bg/... links /bg/records/ID.html), else in English (x-default;
 * p may be NULL).  The URL (in b when built there), or NULL (b's cap).
 */
const char *feed_entry_url(struct buf *b, const struct feed_conf *,
	    const struct feed_page *p, const struct record *);
/*
 * The text of an entry's summary into b (reset first): for events a
 * "2019-05-14 – 2019-05-16, Sofia (BG)." prefix, then the abstract in
 * feed language want (feed_text_in(); NULL: the record's main language).
 * *lang gets the abstract's language (may be NULL).  0 or -1 (cap); b is
 * left empty when there is nothing to say.
 */
int	feed_summary(struct buf *b, const struct record *, const char *want,
	    const char **lang);
/*
 * A creator's e-mail as a public document may show it: NULL unless
 * publish-emails is on (personal addresses stay private by default).
 */
const char *feed_agent_email(const struct feed_conf *,
	    const struct record_agent *);
/* The configured name of a set, or NULL. */
const char *feed_set_label(const struct feed_conf *, const char *spec);
/*
 * The scheme (Atom) / domain (RSS) of set categories into b: the OAI-PMH
 * ListSets response, which pubfeed serves and which names every set.
 */
int	feed_set_scheme(struct buf *b, const struct feed_conf *);
/*
 * <ELEM rel= type= href=base_url+path/>, with tmp as scratch; nothing when
 * path is NULL.  ELEM is "link" in Atom, "atom:link" in RSS.
 */
void	feed_write_link(struct xw *, struct buf *tmp, const struct feed_conf *,
	    const char *elem, const char *rel, const char *type,
	    const char *path);
/* WebSub discovery (W3C WebSub 4): <ELEM rel="hub" href=/> per hub. */
void	feed_write_hubs(struct xw *, const struct feed_conf *,
	    const char *elem);
/* 1 when an entry of p is an event (the page declares the ev: prefix). */
int	feed_page_has_event(const struct feed_page *);
/*
 * The ev: elements of an event record (nothing for others), tmp as
 * scratch.
 */
void	feed_write_event(struct xw *, struct buf *tmp, const struct record *);

#endif
