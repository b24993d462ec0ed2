/*
 * feed_html.c: the list pages ("Events and Publications": /, the set pages
 * and their HTML archive pages) and the HTML writing they share with the
 * landing pages of feed_record.c.  Written through xw like every other
 * document, so escaping and character cleaning live in one place.
 *
 * xmlTextWriter closes an element without content as "<x/>", which HTML
 * parsers read as an unclosed start tag for anything but void elements, so
 * every non-void element here is given text (never empty) or children.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "i18n.h"
#include "page_style.h"
#include "record.h"
#include "snap.h"
#include "xw.h"
#include "banned.h"

#define HTML_EXCERPT	280	/* bytes of an abstract on a list page */

/* Shared helpers */

void
feed_html_elem(struct feed_html *h, const char *name, const char *class,
    const char *s)
{
	if (s == NULL || s[0] == '\0')
		return;
	xw_start(&h->w, name);
	xw_attr(&h->w, "class", class);
	xw_text(&h->w, s);
	xw_end(&h->w);
}

void
feed_html_a(struct feed_html *h, const char *path, const char *text)
{
	if (feed_url(&h->url, h->conf, path) == -1)
		return;
	xw_start(&h->w, "a");
	xw_attr(&h->w, "href", h->url.data);
	xw_text(&h->w, text);
	xw_end(&h->w);
}

int
feed_html_page_url(struct feed_html *h, const char *path)
{
	buf_reset(&h->url);
	if (buf_addstr(&h->url, h->conf->base_url != NULL ?
	    h->conf->base_url : "") == -1)
		return -1;
	return i18n_path(&h->url, h->lang, path);
}

void
feed_html_page_a(struct feed_html *h, const char *path, const char *text)
{
	if (feed_html_page_url(h, path) == -1)
		return;
	xw_start(&h->w, "a");
	xw_attr(&h->w, "href", h->url.data);
	xw_text(&h->w, text);
	xw_end(&h->w);
}

const char *
feed_html_msg(const struct feed_html *h, enum i18n_msg m)
{
	return i18n_msg(h->lang, m);
}

const char *
feed_type_label(enum i18n_lang lang, enum record_type t)
{
	static const enum i18n_msg label[RECORD_TYPE_COUNT] = {
		[RECORD_REPORT] = I18N_TYPE_REPORT,
		[RECORD_POLICY_BRIEF] = I18N_TYPE_POLICY_BRIEF,
		[RECORD_WORKING_PAPER] = I18N_TYPE_WORKING_PAPER,
		[RECORD_BOOK] = I18N_TYPE_BOOK,
		[RECORD_CHAPTER] = I18N_TYPE_CHAPTER,
		[RECORD_ARTICLE] = I18N_TYPE_ARTICLE,
		[RECORD_DATASET] = I18N_TYPE_DATASET,
		[RECORD_PRESENTATION] = I18N_TYPE_PRESENTATION,
		[RECORD_EVENT] = I18N_TYPE_EVENT,
		[RECORD_NEWS] = I18N_TYPE_NEWS,
	};

	return i18n_msg(lang, (unsigned)t < RECORD_TYPE_COUNT ? label[t] :
	    I18N_TYPE_OTHER);
}

/* 1 when tag t is l's tag or a subtag of it ("nb-NO" for "nb"). */
static int
is_lang(const char *t, const char *l)
{
	size_t	 n = strlen(l);

	return t != NULL && strncasecmp(t, l, n) == 0 &&
	    (t[n] == '\0' || t[n] == '-');
}

const struct record_text *
feed_text_for(const struct record_text *ts, size_t n, const char *lang,
    enum i18n_lang l, const char **tlang)
{
	const struct record_text	*t;
	const char			*tag = i18n_tag(l);

	*tlang = NULL;
	if ((t = record_text_pick(ts, n, tag)) == NULL || is_lang(t->lang, tag))
		return t;
	/* none in l: the record's own, in its own language */
	if ((t = record_text_pick(ts, n, lang)) != NULL)
		*tlang = t->lang != NULL ? t->lang : lang;
	if (is_lang(*tlang, tag))
		*tlang = NULL;
	return t;
}

const char *
feed_record_title_in(const struct record *r, enum i18n_lang l,
    const char **tlang)
{
	const struct record_text	*t;

	t = feed_text_for(r->titles, r->ntitles, r->lang, l, tlang);
	if (t != NULL && t->text != NULL && t->text[0] != '\0')
		return t->text;
	*tlang = NULL;
	return r->id;
}

int
feed_file_label(struct buf *b, enum i18n_lang lang,
    const struct record_link *l)
{
	static const struct {
		const char	*type;
		const char	*name;
	} fmt[] = {
		{ "application/pdf", "PDF" },
		{ "application/epub+zip", "EPUB" },
		{ "text/html", "HTML" },
		{ "text/csv", "CSV" },
		{ "application/zip", "ZIP" },
		{ "application/vnd.openxmlformats-officedocument."
		    "wordprocessingml.document", "DOCX" },
		{ "application/vnd.openxmlformats-officedocument."
		    "spreadsheetml.sheet", "XLSX" },
		{ "application/vnd.oasis.opendocument.text", "ODT" },
		{ "application/json", "JSON" },
		{ "video/mp4", "MP4" },
	};
	const char	*name = l->type != NULL ? l->type : "file";
	double		 v = (double)l->length;
	size_t		 i;

	buf_reset(b);
	for (i = 0; l->type != NULL && i < sizeof(fmt) / sizeof(fmt[0]); i++)
		if (strcmp(l->type, fmt[i].type) == 0)
			name = fmt[i].name;
	if (buf_addstr(b, name) == -1)
		return -1;
	if (l->length < 0)
		return 0;
	if (l->length < 1000 && buf_addstr(b, ", ") == -1)
		return -1;
	if (l->length < 1000)
		return buf_printf(b, i18n_msg(lang, I18N_BYTES),
		    (long long)l->length);
	if (l->length < 1000 * 1000)
		return buf_printf(b, ", %.0f kB", v / 1e3);
	if (l->length < 1000LL * 1000 * 1000)
		return buf_printf(b, ", %.1f MB", v / 1e6);
	return buf_printf(b, ", %.1f GB", v / 1e9);
}

const char *
feed_record_title(const struct record *r)
{
	if (r->ntitles > 0 && r->titles[0].text != NULL &&
	    r->titles[0].text[0] != '\0')
		return r->titles[0].text;
	return r->id;
}

/* <link rel=alternate hreflang> for every language version of the page. */
static void
html_alternates(struct feed_html *h)
{
	enum i18n_lang	 own = h->lang;
	int		 l;

	for (l = 0; l <= I18N_NLANGS; l++) {
		h->lang = l < I18N_NLANGS ? (enum i18n_lang)l : I18N_EN;
		if (feed_html_page_url(h, h->page) == -1)
			continue;
		xw_start(&h->w, "link");
		xw_attr(&h->w, "rel", "alternate");
		xw_attr(&h->w, "hreflang", l < I18N_NLANGS ?
		    i18n_tag(h->lang) : "x-default");
		xw_attr(&h->w, "href", h->url.data);
		xw_end(&h->w);
	}
	h->lang = own;
}

/* The language switcher: this page in every language, its own marked. */
static void
html_switcher(struct feed_html *h)
{
	enum i18n_lang	 own = h->lang;
	int		 l;

	xw_start(&h->w, "nav");
	xw_attr(&h->w, "class", "langs");
	xw_attr(&h->w, "aria-label", feed_html_msg(h, I18N_NAV_LANG));
	xw_start(&h->w, "ul");
	for (l = 0; l < I18N_NLANGS; l++) {
		h->lang = (enum i18n_lang)l;
		xw_start(&h->w, "li");
		if (h->lang == own || feed_html_page_url(h, h->page) == -1) {
			xw_start(&h->w, "span");
			xw_attr(&h->w, "aria-current", "true");
		} else {
			xw_start(&h->w, "a");
			xw_attr(&h->w, "href", h->url.data);
			xw_attr(&h->w, "hreflang", i18n_tag(h->lang));
		}
		xw_attr(&h->w, "lang", i18n_tag(h->lang));
		xw_text(&h->w, i18n_name(h->lang));
		xw_end(&h->w);
		xw_end(&h->w);
	}
	h->lang = own;
	xw_end(&h->w);
	xw_end(&h->w);
}

int
feed_html_open(struct feed_html *h, const struct feed_conf *c,
    struct buf *out, enum i18n_lang lang, const char *page,
    const char *title)
{
	static const char	 doctype[] = "<!DOCTYPE html>\n";

	memset(h, 0, sizeof(*h));
	h->conf = c;
	h->lang = lang;
	h->page = page;
	buf_init(&h->url, FEED_URL_MAX);
	buf_init(&h->tmp, FEED_URL_MAX);
	if (xw_open(&h->w, out, 1, 0) == -1)
		return -1;
	xw_raw(&h->w, doctype, sizeof(doctype) - 1);
	xw_start(&h->w, "html");
	xw_attr(&h->w, "lang", i18n_tag(lang));
	xw_start(&h->w, "head");
	xw_start(&h->w, "meta");
	xw_attr(&h->w, "charset", "utf-8");
	xw_end(&h->w);
	xw_start(&h->w, "meta");
	xw_attr(&h->w, "name", "viewport");
	xw_attr(&h->w, "content", "width=device-width, initial-scale=1");
	xw_end(&h->w);
	xw_elem(&h->w, "title", title);
	if (feed_url(&h->url, c, page_style_path()) == 0) {
		xw_start(&h->w, "link");
		xw_attr(&h->w, "rel", "stylesheet");
		xw_attr(&h->w, "href", h->url.data);
		xw_end(&h->w);
	}
	if (c->feed_icon != NULL) {
		xw_start(&h->w, "link");
		xw_attr(&h->w, "rel", "icon");
		xw_attr(&h->w, "href", c->feed_icon);
		xw_end(&h->w);
	}
	html_alternates(h);
	return 0;
}

void
feed_html_body(struct feed_html *h)
{
	const struct feed_conf	*c = h->conf;

	xw_end(&h->w);		/* head */
	xw_start(&h->w, "body");
	xw_start(&h->w, "a");
	xw_attr(&h->w, "class", "skip");
	xw_attr(&h->w, "href", "#main");
	xw_text(&h->w, feed_html_msg(h, I18N_SKIP_LINK));
	xw_end(&h->w);
	xw_start(&h->w, "header");
	xw_attr(&h->w, "class", "site");
	if (feed_html_page_url(h, "/") == 0) {
		xw_start(&h->w, "a");
		xw_attr(&h->w, "class", "name");
		xw_attr(&h->w, "href", h->url.data);
		xw_text(&h->w, c->repository_name != NULL ?
		    c->repository_name : feed_conf_title(c));
		xw_end(&h->w);
	}
	feed_html_elem(h, "p", NULL, c->feed_subtitle);
	xw_start(&h->w, "nav");
	xw_attr(&h->w, "aria-label", feed_html_msg(h, I18N_NAV_SITE));
	xw_start(&h->w, "ul");
	xw_start(&h->w, "li");
	feed_html_page_a(h, "/", feed_html_msg(h, I18N_HOME));
	xw_end(&h->w);
	xw_start(&h->w, "li");
	feed_html_a(h, "/feed.atom", feed_html_msg(h, I18N_ATOM_FEED));
	xw_end(&h->w);
	xw_start(&h->w, "li");
	feed_html_a(h, c->oai_path != NULL ? c->oai_path : "/oai",
	    "OAI-PMH");
	xw_end(&h->w);
	xw_end(&h->w);
	xw_end(&h->w);
	html_switcher(h);
	xw_end(&h->w);		/* header */
	xw_start(&h->w, "main");
	xw_attr(&h->w, "id", "main");
}

int
feed_html_close(struct feed_html *h, const char *what, struct err *e)
{
	int	 rc;

	xw_end(&h->w);		/* main */
	xw_start(&h->w, "footer");
	xw_attr(&h->w, "class", "site");
	xw_start(&h->w, "p");
	xw_text(&h->w, feed_conf_title(h->conf));
	xw_text(&h->w, " \u00b7 ");
	feed_html_a(h, "/feed.rss", "RSS");
	xw_text(&h->w, " \u00b7 ");
	feed_html_a(h, h->conf->oai_path != NULL ? h->conf->oai_path : "/oai",
	    feed_html_msg(h, I18N_OAI_ENDPOINT));
	xw_end(&h->w);
	feed_html_elem(h, "p", NULL, h->conf->feed_rights);
	xw_end(&h->w);
	if ((rc = xw_close(&h->w)) == -1)
		err_set(e, "%s: cannot render the page", what);
	buf_release(&h->url);
	buf_release(&h->tmp);
	return rc;
}

/*
 * The path of a feed of spec (NULL: the collection) in format ext into b:
 * its language version "/lang/LL/..." when lang is not NULL and the format
 * has language versions (not the calendar), else the feed itself.
 */
static int
html_feed_path(struct buf *b, const char *spec, const char *ext,
    const char *lang)
{
	if (lang != NULL && strcmp(ext, "ics") != 0)
		return feed_lang_path(b, lang, spec, ext);
	buf_reset(b);
	return buf_printf(b, "%s/%s.%s", spec != NULL ? "/sets" : "",
	    spec != NULL ? spec : "feed", ext);
}

/*
 * Atom and RSS autodiscovery links of one feed.  The one place a page's
 * head lists its feeds: a new feed format adds its link here.
 */
void
feed_html_discovery(struct feed_html *h, const char *spec, const char *name,
    const char *lang)
{
	static const char *const	 ext[4] = { "atom", "rss", "json",
	    "ics" };
	static const char *const	 type[4] = { "application/atom+xml",
	    "application/rss+xml", "application/feed+json", "text/calendar" };
	const char			*label[4] = { "Atom", "RSS",
	    feed_html_msg(h, I18N_JSON_FEED), feed_html_msg(h, I18N_CALENDAR) };
	int				 i;

	for (i = 0; i < 4; i++) {
		if (html_feed_path(&h->url, spec, ext[i], lang) == -1 ||
		    feed_url(&h->tmp, h->conf, h->url.data) == -1)
			return;
		xw_start(&h->w, "link");
		xw_attr(&h->w, "rel", "alternate");
		xw_attr(&h->w, "type", type[i]);
		buf_reset(&h->url);
		if (buf_printf(&h->url, "%s%s%s (%s)", feed_conf_title(h->conf),
		    name != NULL ? ": " : "", name != NULL ? name : "",
		    label[i]) == 0)
			xw_attr(&h->w, "title", h->url.data);
		xw_attr(&h->w, "href", h->tmp.data);
		xw_end(&h->w);
	}
}

/* The list pages */

/* "A. One, B. Two" into h->tmp; NULL when there are no creators. */
static const char *
html_authors(struct feed_html *h, const struct record *r)
{
	size_t	 i;

	buf_reset(&h->tmp);
	for (i = 0; i < r->ncreators; i++)
		if (r->creators[i].name != NULL && buf_printf(&h->tmp, "%s%s",
		    h->tmp.len > 0 ? ", " : "", r->creators[i].name) == -1)
			return NULL;
	return h->tmp.len > 0 ? h->tmp.data : NULL;
}

/* The first HTML_EXCERPT bytes of s, cut at a space, into h->tmp. */
static const char *
html_excerpt(struct feed_html *h, const char *s)
{
	size_t	 n = strlen(s), cut;

	buf_reset(&h->tmp);
	if (n <= HTML_EXCERPT)
		return s;
	for (cut = HTML_EXCERPT; cut > HTML_EXCERPT / 2 && s[cut] != ' ';
	    cut--)
		;
	/* never inside a UTF-8 sequence */
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	if (buf_add(&h->tmp, s, cut) == -1 ||
	    buf_addstr(&h->tmp, "\u2026") == -1)
		return NULL;
	return h->tmp.data;
}

static void
html_time(struct feed_html *h, const struct date *d, const char *text)
{
	char	 iso[DATE_ISO_LEN];

	date_fmt(d, iso);
	xw_start(&h->w, "time");
	xw_attr(&h->w, "datetime", iso);
	xw_text(&h->w, text != NULL ? text : iso);
	xw_end(&h->w);
}

/* The full texts of r as a list of links with format and size. */
static void
html_files(struct feed_html *h, const struct record *r)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->nlinks; i++) {
		const struct record_link *l = &r->links[i];

		if (l->rel != RECORD_LINK_FULLTEXT ||
		    feed_file_label(&h->tmp, h->lang, l) == -1)
			continue;
		if (n++ == 0) {
			xw_start(&h->w, "ul");
			xw_attr(&h->w, "class", "files");
		}
		if (l->lang != NULL && buf_printf(&h->tmp, ", %s", l->lang) ==
		    -1)
			continue;
		xw_start(&h->w, "li");
		xw_start(&h->w, "a");
		xw_attr(&h->w, "href", l->href);
		if (l->lang != NULL)
			xw_attr(&h->w, "hreflang", l->lang);
		xw_attr(&h->w, "type", l->type);
		xw_text(&h->w, l->title != NULL ? l->title :
		    feed_html_msg(h, I18N_FULL_TEXT));
		xw_end(&h->w);
		xw_text(&h->w, " (");
		xw_text(&h->w, h->tmp.data);
		xw_text(&h->w, ")");
		xw_end(&h->w);
	}
	if (n > 0)
		xw_end(&h->w);
}

static void
html_item(struct feed_html *h, const struct record *r, int as_event)
{
	const struct record_text	*ab;
	const char			*title, *tlang, *alang;
	char				 day[DATE_DAY_LEN];

	xw_start(&h->w, "li");
	if (as_event)
		xw_attr(&h->w, "class", "event");
	feed_html_elem(h, "span", "kind", feed_type_label(h->lang, r->type));
	title = feed_record_title_in(r, h->lang, &tlang);
	xw_start(&h->w, "h3");
	xw_attr(&h->w, "lang", tlang);
	buf_reset(&h->tmp);
	if (buf_printf(&h->tmp, FEED_RECORD_PREFIX "%s.html", r->id) == 0 &&
	    feed_html_page_url(h, h->tmp.data) == 0) {
		xw_start(&h->w, "a");
		xw_attr(&h->w, "href", h->url.data);
		xw_text(&h->w, title);
		xw_end(&h->w);
	} else
		xw_text(&h->w, title);
	xw_end(&h->w);
	xw_start(&h->w, "p");
	xw_attr(&h->w, "class", "meta");
	if (r->event != NULL && feed_event_when(&h->tmp, r->event) == 0)
		html_time(h, &r->event->start, h->tmp.data);
	else {
		/* "2019" for a book of 2019, not "2019-01-01" */
		date_fmt_coarse(&r->issued, day);
		html_time(h, &r->issued, day);
	}
	if (r->event != NULL && r->event->place != NULL) {
		buf_reset(&h->tmp);
		if (buf_printf(&h->tmp, "%s%s%s%s", r->event->place,
		    r->event->country != NULL ? " (" : "",
		    r->event->country != NULL ? r->event->country : "",
		    r->event->country != NULL ? ")" : "") == 0)
			feed_html_elem(h, "span", "place", h->tmp.data);
	}
	feed_html_elem(h, "span", "authors", html_authors(h, r));
	xw_end(&h->w);
	if ((ab = feed_text_for(r->abstracts, r->nabstracts, r->lang, h->lang,
	    &alang)) != NULL && ab->text != NULL) {
		xw_start(&h->w, "p");
		xw_attr(&h->w, "class", "excerpt");
		xw_attr(&h->w, "lang", alang);
		xw_text(&h->w, html_excerpt(h, ab->text));
		xw_end(&h->w);
	}
	html_files(h, r);
	/* "add to calendar": the event's own .ics (feed_build.c) */
	buf_reset(&h->tmp);
	if (r->event != NULL && buf_printf(&h->tmp, "/events/%s.ics",
	    r->id) == 0) {
		xw_start(&h->w, "p");
		xw_attr(&h->w, "class", "calendar");
		feed_html_a(h, h->tmp.data, feed_html_msg(h, I18N_ADD_CAL));
		xw_end(&h->w);
	}
	xw_end(&h->w);
}

/* The sets under parent (NULL: the top level) that have records, nested. */
static void
html_set_tree(struct feed_html *h, const struct snap *s, const char *parent,
    int depth)
{
	size_t	 i, plen = parent != NULL ? strlen(parent) : 0, n = 0;
	char	 num[32];

	if (depth > 16)
		return;
	for (i = 0; i < s->nsets; i++) {
		const struct snap_set	*set = &s->sets[i];
		const char		*rest = set->spec;

		if (set->nfeed == 0)
			continue;
		if (parent != NULL) {
			if (strncmp(set->spec, parent, plen) != 0 ||
			    set->spec[plen] != ':')
				continue;
			rest = set->spec + plen + 1;
		}
		if (strchr(rest, ':') != NULL)
			continue;
		if (n++ == 0) {
			xw_start(&h->w, "ul");
			xw_attr(&h->w, "class", "sets");
		}
		xw_start(&h->w, "li");
		buf_reset(&h->tmp);
		if (buf_printf(&h->tmp, "/sets/%s.html", set->spec) == 0)
			feed_html_page_a(h, h->tmp.data, set->name != NULL ?
			    set->name : set->spec);
		snprintf(num, sizeof(num), " (%zu)", set->nfeed);
		feed_html_elem(h, "span", "count", num);
		html_set_tree(h, s, set->spec, depth + 1);
		xw_end(&h->w);
	}
	if (n > 0)
		xw_end(&h->w);
}

/* 1 when a set under parent (NULL: any) has records. */
static int
has_subsets(const struct snap *s, const char *parent)
{
	size_t	 i, plen = parent != NULL ? strlen(parent) : 0;

	for (i = 0; i < s->nsets; i++)
		if (s->sets[i].nfeed > 0 && (parent == NULL ||
		    (strncmp(s->sets[i].spec, parent, plen) == 0 &&
		    s->sets[i].spec[plen] == ':')))
			return 1;
	return 0;
}

/* The page's own feeds, as links in the body. */
static void
html_feeds(struct feed_html *h, const struct feed_page *p, const char *lang)
{
	static const char *const	 ext[4] = { "atom", "rss", "json",
	    "ics" };
	static const enum i18n_msg	 label[4] = { I18N_ATOM_FEED,
	    I18N_RSS_FEED, I18N_JSON_FEED, I18N_CALENDAR };
	int				 i;

	xw_start(&h->w, "section");
	xw_elem(&h->w, "h2", feed_html_msg(h, I18N_FEEDS));
	xw_start(&h->w, "ul");
	for (i = 0; i < 4; i++) {
		if (html_feed_path(&h->tmp, p->set_spec, ext[i], lang) == -1)
			continue;
		xw_start(&h->w, "li");
		feed_html_a(h, h->tmp.data, feed_html_msg(h, label[i]));
		xw_end(&h->w);
	}
	xw_end(&h->w);
	xw_end(&h->w);
}

static void
html_pager(struct feed_html *h, const struct feed_page *p)
{
	if (p->prev_archive == NULL && p->next_archive == NULL)
		return;
	xw_start(&h->w, "nav");
	xw_attr(&h->w, "class", "pager");
	xw_attr(&h->w, "aria-label", feed_html_msg(h, I18N_PAGES));
	if (p->next_archive != NULL)
		feed_html_page_a(h, p->next_archive,
		    feed_html_msg(h, I18N_NEWER));
	else
		xw_elem(&h->w, "span", " ");
	if (p->prev_archive != NULL)
		feed_html_page_a(h, p->prev_archive,
		    feed_html_msg(h, I18N_OLDER));
	xw_end(&h->w);
}

/* The parent set of a set page, as a link ("a:b" is under "a"). */
static void
html_parent(struct feed_html *h, const struct feed_page *p)
{
	const struct snap_set	*up;
	const char		*colon = strrchr(p->set_spec, ':');
	char			*spec;

	if (colon == NULL || p->snap == NULL ||
	    (spec = strndup(p->set_spec, (size_t)(colon - p->set_spec))) ==
	    NULL)
		return;
	if ((up = snap_set_find(p->snap, spec)) != NULL) {
		xw_start(&h->w, "p");
		xw_text(&h->w, feed_html_msg(h, I18N_PART_OF));
		buf_reset(&h->tmp);
		if (buf_printf(&h->tmp, "/sets/%s.html", up->spec) == 0)
			feed_html_page_a(h, h->tmp.data, up->name != NULL ?
			    up->name : up->spec);
		xw_end(&h->w);
	}
	free(spec);
}

/* 1 when r is listed under "Upcoming events" on this page already. */
static int
is_upcoming(const struct feed_page *p, const struct record *r)
{
	size_t	 i;

	for (i = 0; r->event != NULL && i < p->nevents; i++)
		if (p->events[i] == r)
			return 1;
	return 0;
}

int
feed_render_html(const struct feed_conf *c, const struct feed_page *p,
    struct buf *out, struct err *e)
{
	struct feed_html	 h;
	size_t			 i;
	const char		*name = NULL, *page, *flang = NULL;

	if (p->set_spec != NULL) {
		name = feed_set_label(c, p->set_spec);
		if (name == NULL)
			name = p->set_spec;
	}
	i18n_path_lang(p->self_path, &page);
	if (feed_html_open(&h, c, out, p->page_lang, page, p->title) == -1)
		return err_set(e, "%s: cannot start the XML writer",
		    p->self_path);
	/* the page's language version of its feeds, when there is one */
	for (i = 0; p->page_lang != I18N_EN && i < p->nlangs; i++)
		if (strcmp(p->langs[i], i18n_tag(p->page_lang)) == 0)
			flang = p->langs[i];
	feed_html_discovery(&h, p->set_spec, name, flang);
	feed_html_body(&h);
	xw_elem(&h.w, "h1", p->set_spec == NULL ?
	    feed_html_msg(&h, I18N_HOME) : name);
	if (p->set_spec != NULL && p->subtitle != NULL &&
	    p->subtitle != c->feed_subtitle)
		feed_html_elem(&h, "p", "description", p->subtitle);
	if (p->set_spec != NULL)
		html_parent(&h, p);
	if (p->nevents > 0) {
		xw_start(&h.w, "section");
		xw_elem(&h.w, "h2", feed_html_msg(&h, I18N_UPCOMING));
		xw_start(&h.w, "ol");
		xw_attr(&h.w, "class", "items");
		for (i = 0; i < p->nevents; i++)
			html_item(&h, p->events[i], 1);
		xw_end(&h.w);
		xw_end(&h.w);
	}
	xw_start(&h.w, "section");
	xw_elem(&h.w, "h2", feed_html_msg(&h, p->is_archive ? I18N_EARLIER :
	    I18N_NEWEST));
	if (p->nentries == 0)
		xw_elem(&h.w, "p", feed_html_msg(&h, I18N_NOTHING));
	else {
		xw_start(&h.w, "ol");
		xw_attr(&h.w, "class", "items");
		for (i = 0; i < p->nentries; i++)
			if (!is_upcoming(p, p->entries[i]))
				html_item(&h, p->entries[i], 0);
		xw_end(&h.w);
	}
	html_pager(&h, p);
	xw_end(&h.w);
	if (p->snap != NULL && has_subsets(p->snap, p->set_spec)) {
		xw_start(&h.w, "section");
		xw_elem(&h.w, "h2", feed_html_msg(&h, p->set_spec == NULL ?
		    I18N_COLLECTIONS : I18N_SUBSETS));
		buf_reset(&h.tmp);
		html_set_tree(&h, p->snap, p->set_spec, 0);
		xw_end(&h.w);
	}
	html_feeds(&h, p, flang);
	return feed_html_close(&h, p->self_path, e);
}
