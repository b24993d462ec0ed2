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

#include "buf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
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

const char *
feed_type_label(enum record_type t)
{
	static const char *const label[RECORD_TYPE_COUNT] = {
		[RECORD_REPORT] = "Report",
		[RECORD_POLICY_BRIEF] = "Policy brief",
		[RECORD_WORKING_PAPER] = "Working paper",
		[RECORD_BOOK] = "Book",
		[RECORD_CHAPTER] = "Book chapter",
		[RECORD_ARTICLE] = "Journal article",
		[RECORD_DATASET] = "Dataset",
		[RECORD_PRESENTATION] = "Presentation",
		[RECORD_EVENT] = "Event",
		[RECORD_NEWS] = "News",
	};

	return (unsigned)t < RECORD_TYPE_COUNT ? label[t] : "Publication";
}

int
feed_file_label(struct buf *b, const struct record_link *l)
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
	if (l->length < 1000)
		return buf_printf(b, ", %lld bytes", (long long)l->length);
	if (l->length < 1000 * 1000)
		return buf_printf(b, ", %.0f kB", v / 1e3);
	if (l->length < 1000LL * 1000 * 1000)
		return buf_printf(b, ", %.1f MB", v / 1e6);
	return buf_printf(b, ", %.1f GB", v / 1e9);
}

int
feed_event_when(struct buf *b, const struct record_event *ev)
{
	char	 a[DATE_ISO_LEN], z[DATE_ISO_LEN];
	int	 same_day, timed;

	buf_reset(b);
	date_fmt_iso(ev->start.t, a);
	date_fmt_iso(ev->end.t, z);
	same_day = strncmp(a, z, 10) == 0;
	timed = ev->start.gran == DATE_SECOND;
	if (same_day && timed)
		return buf_printf(b, "%.10s, %.5s\u2013%.5s UTC", a, a + 11,
		    z + 11);
	if (same_day)
		return buf_printf(b, "%.10s", a);
	if (timed)
		return buf_printf(b, "%.10s %.5s UTC \u2013 %.10s %.5s UTC",
		    a, a + 11, z, z + 11);
	return buf_printf(b, "%.10s \u2013 %.10s", a, z);
}

const char *
feed_record_title(const struct record *r)
{
	if (r->ntitles > 0 && r->titles[0].text != NULL &&
	    r->titles[0].text[0] != '\0')
		return r->titles[0].text;
	return r->id;
}

int
feed_html_open(struct feed_html *h, const struct feed_conf *c,
    struct buf *out, const char *lang, const char *title)
{
	static const char	 doctype[] = "<!DOCTYPE html>\n";

	memset(h, 0, sizeof(*h));
	h->conf = c;
	buf_init(&h->url, FEED_URL_MAX);
	buf_init(&h->tmp, FEED_URL_MAX);
	if (xw_open(&h->w, out, 1, 0) == -1)
		return -1;
	xw_raw(&h->w, doctype, sizeof(doctype) - 1);
	xw_start(&h->w, "html");
	xw_attr(&h->w, "lang", lang != NULL ? lang : feed_conf_lang(c));
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
	xw_text(&h->w, "Skip to content");
	xw_end(&h->w);
	xw_start(&h->w, "header");
	xw_attr(&h->w, "class", "site");
	if (feed_url(&h->url, c, "/") == 0) {
		xw_start(&h->w, "a");
		xw_attr(&h->w, "class", "name");
		xw_attr(&h->w, "href", h->url.data);
		xw_text(&h->w, c->repository_name != NULL ?
		    c->repository_name : feed_conf_title(c));
		xw_end(&h->w);
	}
	feed_html_elem(h, "p", NULL, c->feed_subtitle);
	xw_start(&h->w, "nav");
	xw_attr(&h->w, "aria-label", "Site");
	xw_start(&h->w, "ul");
	xw_start(&h->w, "li");
	feed_html_a(h, "/", "Events and publications");
	xw_end(&h->w);
	xw_start(&h->w, "li");
	feed_html_a(h, "/feed.atom", "Atom feed");
	xw_end(&h->w);
	xw_start(&h->w, "li");
	feed_html_a(h, c->oai_path != NULL ? c->oai_path : "/oai",
	    "OAI-PMH");
	xw_end(&h->w);
	xw_end(&h->w);
	xw_end(&h->w);
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
	    "OAI-PMH endpoint");
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
 * Atom and RSS autodiscovery links of one feed.  The one place a page's
 * head lists its feeds: a new feed format adds its link here.
 */
void
feed_html_discovery(struct feed_html *h, const char *spec, const char *name)
{
	static const char *const	 ext[4] = { "atom", "rss", "json",
	    "ics" };
	static const char *const	 type[4] = { "application/atom+xml",
	    "application/rss+xml", "application/feed+json", "text/calendar" };
	static const char *const	 label[4] = { "Atom", "RSS", "JSON Feed",
	    "Calendar" };
	int				 i;

	for (i = 0; i < 4; i++) {
		buf_reset(&h->tmp);
		if (buf_printf(&h->tmp, "%s%s/%s.%s", h->conf->base_url,
		    spec != NULL ? "/sets" : "", spec != NULL ? spec : "feed",
		    ext[i]) == -1)
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
		    feed_file_label(&h->tmp, l) == -1)
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
		xw_text(&h->w, l->title != NULL ? l->title : "Full text");
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
	char				 day[DATE_DAY_LEN];

	xw_start(&h->w, "li");
	if (as_event)
		xw_attr(&h->w, "class", "event");
	if (r->lang != NULL)
		xw_attr(&h->w, "lang", r->lang);
	feed_html_elem(h, "span", "kind", feed_type_label(r->type));
	xw_start(&h->w, "h3");
	if (feed_record_url(&h->url, h->conf, r) == 0) {
		xw_start(&h->w, "a");
		xw_attr(&h->w, "href", h->url.data);
		xw_text(&h->w, feed_record_title(r));
		xw_end(&h->w);
	} else
		xw_text(&h->w, feed_record_title(r));
	xw_end(&h->w);
	xw_start(&h->w, "p");
	xw_attr(&h->w, "class", "meta");
	if (r->event != NULL && feed_event_when(&h->tmp, r->event) == 0)
		html_time(h, &r->event->start, h->tmp.data);
	else {
		date_fmt_day(r->issued.t, day);
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
	if ((ab = record_text_pick(r->abstracts, r->nabstracts, r->lang)) !=
	    NULL && ab->text != NULL) {
		xw_start(&h->w, "p");
		xw_attr(&h->w, "class", "excerpt");
		if (ab->lang != NULL && (r->lang == NULL ||
		    strcmp(ab->lang, r->lang) != 0))
			xw_attr(&h->w, "lang", ab->lang);
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
		feed_html_a(h, h->tmp.data, "Add to calendar");
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
			feed_html_a(h, h->tmp.data, set->name != NULL ?
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
html_feeds(struct feed_html *h, const struct feed_page *p)
{
	static const char *const	 ext[4] = { "atom", "rss", "json",
	    "ics" };
	static const char *const	 label[4] = { "Atom feed", "RSS feed",
	    "JSON Feed", "Calendar" };
	int				 i;

	xw_start(&h->w, "section");
	xw_elem(&h->w, "h2", "Feeds");
	xw_start(&h->w, "ul");
	for (i = 0; i < 4; i++) {
		buf_reset(&h->tmp);
		if (buf_printf(&h->tmp, "%s/%s.%s",
		    p->set_spec != NULL ? "/sets" : "",
		    p->set_spec != NULL ? p->set_spec : "feed", ext[i]) == -1)
			continue;
		xw_start(&h->w, "li");
		feed_html_a(h, h->tmp.data, label[i]);
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
	xw_attr(&h->w, "aria-label", "Pages");
	if (p->next_archive != NULL)
		feed_html_a(h, p->next_archive, "\u2190 Newer");
	else
		xw_elem(&h->w, "span", " ");
	if (p->prev_archive != NULL)
		feed_html_a(h, p->prev_archive, "Older \u2192");
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
		xw_text(&h->w, "Part of ");
		buf_reset(&h->tmp);
		if (buf_printf(&h->tmp, "/sets/%s.html", up->spec) == 0)
			feed_html_a(h, h->tmp.data, up->name != NULL ?
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
	const char		*name = NULL;

	if (p->set_spec != NULL) {
		name = feed_set_label(c, p->set_spec);
		if (name == NULL)
			name = p->set_spec;
	}
	if (feed_html_open(&h, c, out, NULL, p->title) == -1)
		return err_set(e, "%s: cannot start the XML writer",
		    p->self_path);
	feed_html_discovery(&h, p->set_spec, name);
	feed_html_body(&h);
	xw_elem(&h.w, "h1", p->set_spec == NULL ? "Events and publications" :
	    name);
	if (p->set_spec != NULL && p->subtitle != NULL &&
	    p->subtitle != c->feed_subtitle)
		feed_html_elem(&h, "p", "description", p->subtitle);
	if (p->set_spec != NULL)
		html_parent(&h, p);
	if (p->nevents > 0) {
		xw_start(&h.w, "section");
		xw_elem(&h.w, "h2", "Upcoming events");
		xw_start(&h.w, "ol");
		xw_attr(&h.w, "class", "items");
		for (i = 0; i < p->nevents; i++)
			html_item(&h, p->events[i], 1);
		xw_end(&h.w);
		xw_end(&h.w);
	}
	xw_start(&h.w, "section");
	xw_elem(&h.w, "h2", p->is_archive ? "Earlier publications and events" :
	    "Publications and events, newest first");
	if (p->nentries == 0)
		xw_elem(&h.w, "p", "Nothing published yet.");
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
		xw_elem(&h.w, "h2", p->set_spec == NULL ? "Collections" :
		    "Subsets");
		buf_reset(&h.tmp);
		html_set_tree(&h, p->snap, p->set_spec, 0);
		xw_end(&h.w);
	}
	html_feeds(&h, p);
	return feed_html_close(&h, p->self_path, e);
}
