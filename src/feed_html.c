/*
 * feed_html.c: the HTML5 home page, written through xw like every other
 * document so escaping and character cleaning live in one place.
 *
 * xmlTextWriter closes an element without content as "<x/>", which HTML
 * parsers read as an unclosed start tag for anything but void elements, so
 * every non-void element here is given text (never empty) or children.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "record.h"
#include "snap.h"
#include "xw.h"
#include "banned.h"

struct html {
	const struct feed_conf	*conf;
	struct xw		 w;
	struct buf		 url;
	struct buf		 tmp;
};

/* xw_elem() with a class attribute; s must not be empty. */
static void
html_elem(struct html *h, const char *name, const char *class,
    const char *s)
{
	if (s == NULL || s[0] == '\0')
		return;
	xw_start(&h->w, name);
	xw_attr(&h->w, "class", class);
	xw_text(&h->w, s);
	xw_end(&h->w);
}

/* <a href="base_url + path">text</a> */
static void
html_a(struct html *h, const char *path, const char *text)
{
	if (feed_url(&h->url, h->conf, path) == -1)
		return;
	xw_start(&h->w, "a");
	xw_attr(&h->w, "href", h->url.data);
	xw_text(&h->w, text);
	xw_end(&h->w);
}

/* Atom and RSS autodiscovery links of one feed. */
static void
html_discovery(struct html *h, const char *spec, const char *name)
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

static void
html_head(struct html *h, const struct snap *s)
{
	size_t	 i;

	xw_start(&h->w, "head");
	xw_start(&h->w, "meta");
	xw_attr(&h->w, "charset", "utf-8");
	xw_end(&h->w);
	xw_start(&h->w, "meta");
	xw_attr(&h->w, "name", "viewport");
	xw_attr(&h->w, "content", "width=device-width, initial-scale=1");
	xw_end(&h->w);
	xw_elem(&h->w, "title", feed_conf_title(h->conf));
	html_discovery(h, NULL, NULL);
	for (i = 0; i < s->nsets; i++)
		html_discovery(h, s->sets[i].spec, s->sets[i].name);
	if (h->conf->feed_icon != NULL) {
		xw_start(&h->w, "link");
		xw_attr(&h->w, "rel", "icon");
		xw_attr(&h->w, "href", h->conf->feed_icon);
		xw_end(&h->w);
	}
	xw_end(&h->w);
}

/* "A. One, B. Two" into h->tmp; NULL when there are no creators. */
static const char *
html_authors(struct html *h, const struct record *r)
{
	size_t	 i;

	buf_reset(&h->tmp);
	for (i = 0; i < r->ncreators; i++)
		if (r->creators[i].name != NULL && buf_printf(&h->tmp, "%s%s",
		    h->tmp.len > 0 ? ", " : "", r->creators[i].name) == -1)
			return NULL;
	return h->tmp.len > 0 ? h->tmp.data : NULL;
}

static void
html_item(struct html *h, const struct record *r)
{
	const struct record_link	*l = feed_entry_link(r);
	const char			*title = r->id;
	char				 day[DATE_DAY_LEN];

	if (r->ntitles > 0 && r->titles[0].text != NULL &&
	    r->titles[0].text[0] != '\0')
		title = r->titles[0].text;
	xw_start(&h->w, "li");
	if (r->lang != NULL)
		xw_attr(&h->w, "lang", r->lang);
	if (l != NULL) {
		xw_start(&h->w, "a");
		xw_attr(&h->w, "class", "title");
		xw_attr(&h->w, "href", l->href);
		xw_text(&h->w, title);
		xw_end(&h->w);
	} else
		html_elem(h, "span", "title", title);
	date_fmt_day(r->issued.t, day);
	xw_start(&h->w, "time");
	xw_attr(&h->w, "datetime", day);
	xw_text(&h->w, day);
	xw_end(&h->w);
	html_elem(h, "span", "authors", html_authors(h, r));
	html_elem(h, "span", "type", record_type_name(r->type));
	/* "add to calendar": the event's own .ics (feed_build.c) */
	buf_reset(&h->tmp);
	if (r->event != NULL && buf_printf(&h->tmp, "/events/%s.ics",
	    r->id) == 0)
		html_a(h, h->tmp.data, "Add to calendar");
	xw_end(&h->w);
}

static void
html_newest(struct html *h, const struct snap *s)
{
	size_t	 i;

	xw_start(&h->w, "section");
	xw_elem(&h->w, "h2", "Newest publications");
	if (s->nfeed == 0) {
		xw_elem(&h->w, "p", "No publications yet.");
		xw_end(&h->w);
		return;
	}
	xw_start(&h->w, "ol");
	xw_attr(&h->w, "class", "items");
	for (i = 0; i < s->nfeed && i < FEED_INDEX_ITEMS; i++)
		html_item(h, s->feed[s->nfeed - 1 - i]);
	xw_end(&h->w);
	xw_end(&h->w);
}

/* One <li>: the feed's name, then its Atom and RSS links. */
static void
html_feed_li(struct html *h, const char *spec, const char *name,
    const char *desc, size_t n)
{
	static const char *const	 ext[4] = { "atom", "rss", "json",
	    "ics" };
	static const char *const	 label[4] = { "Atom", "RSS", "JSON Feed",
	    "Calendar" };
	char				 num[32];
	int				 i;

	xw_start(&h->w, "li");
	html_elem(h, "span", "set", name);
	snprintf(num, sizeof(num), "%zu", n);
	html_elem(h, "span", "count", num);
	for (i = 0; i < 4; i++) {
		buf_reset(&h->tmp);
		if (buf_printf(&h->tmp, "%s/%s.%s", spec != NULL ? "/sets" : "",
		    spec != NULL ? spec : "feed", ext[i]) == -1)
			continue;
		html_a(h, h->tmp.data, label[i]);
	}
	html_elem(h, "span", "description", desc);
	xw_end(&h->w);
}

static void
html_feeds(struct html *h, const struct snap *s)
{
	size_t	 i;

	xw_start(&h->w, "section");
	xw_elem(&h->w, "h2", "Feeds");
	xw_start(&h->w, "ul");
	xw_attr(&h->w, "class", "feeds");
	html_feed_li(h, NULL, "All publications", NULL, s->nfeed);
	for (i = 0; i < s->nsets; i++)
		html_feed_li(h, s->sets[i].spec, s->sets[i].name != NULL ?
		    s->sets[i].name : s->sets[i].spec, s->sets[i].description,
		    s->sets[i].nfeed);
	xw_end(&h->w);
	xw_end(&h->w);
	xw_start(&h->w, "section");
	xw_elem(&h->w, "h2", "Harvesting");
	xw_start(&h->w, "p");
	html_a(h, h->conf->oai_path != NULL ? h->conf->oai_path : "/oai",
	    "OAI-PMH endpoint");
	xw_end(&h->w);
	xw_end(&h->w);
}

int
feed_render_index(const struct feed_conf *c, const struct snap *s,
    struct buf *out, struct err *e)
{
	static const char	 doctype[] = "<!DOCTYPE html>\n";
	struct html		 h;
	int			 rc;

	memset(&h, 0, sizeof(h));
	h.conf = c;
	buf_init(&h.url, FEED_URL_MAX);
	buf_init(&h.tmp, FEED_URL_MAX);
	if (xw_open(&h.w, out, 1, 0) == -1) {
		rc = err_set(e, "/: cannot start the XML writer");
		goto out;
	}
	xw_raw(&h.w, doctype, sizeof(doctype) - 1);
	xw_start(&h.w, "html");
	xw_attr(&h.w, "lang", feed_conf_lang(h.conf));
	html_head(&h, s);
	xw_start(&h.w, "body");
	xw_start(&h.w, "header");
	xw_elem(&h.w, "h1", h.conf->repository_name != NULL ?
	    h.conf->repository_name : feed_conf_title(h.conf));
	html_elem(&h, "p", "subtitle", h.conf->feed_subtitle);
	xw_end(&h.w);
	xw_start(&h.w, "main");
	html_newest(&h, s);
	html_feeds(&h, s);
	xw_end(&h.w);
	xw_end(&h.w);
	xw_end(&h.w);
	if ((rc = xw_close(&h.w)) == -1)
		err_set(e, "/: cannot render the home page");
out:
	buf_release(&h.url);
	buf_release(&h.tmp);
	return rc;
}
