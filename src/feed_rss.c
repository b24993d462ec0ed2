/*
 * feed_rss.c: RSS 2.0 documents (rssboard.org specification), with the
 * Atom vocabulary for self links and RFC 5005 paging (RFC 5005 appendix B)
 * and Dublin Core for every creator, since RSS's own <author> holds only
 * one e-mail address.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "record.h"
#include "xw.h"
#include "banned.h"

#ifndef PUBFEED_VERSION
#define PUBFEED_VERSION "unknown"
#endif

struct rss {
	const struct feed_conf	*conf;
	const struct feed_page	*page;
	const char		*lang;	/* the channel's <language> */
	struct xw		 w;
	struct buf		 tmp;
};

static void
rss_date(struct rss *r, const char *name, int64_t t)
{
	char	 d[DATE_RFC822_LEN];

	date_fmt_rfc822(t, d);
	xw_elem(&r->w, name, d);
}

static void
rss_atom_link(struct rss *r, const char *rel, const char *type,
    const char *path)
{
	feed_write_link(&r->w, &r->tmp, r->conf, "atom:link", rel, type, path);
}

/* "email (Name)", the RSS 2.0 form of a person. */
static const char *
rss_person(struct rss *r, const char *email, const char *name)
{
	if (email == NULL)
		return NULL;
	buf_reset(&r->tmp);
	if (buf_addstr(&r->tmp, email) == -1 || (name != NULL &&
	    buf_printf(&r->tmp, " (%s)", name) == -1))
		return NULL;
	return r->tmp.data;
}

static void
rss_head(struct rss *r, const struct feed_page *p)
{
	const struct feed_conf	*c = r->conf;
	const char		*type = "application/rss+xml";

	xw_elem(&r->w, "title", p->title);
	if (feed_url(&r->tmp, c, "/") == 0)
		xw_elem(&r->w, "link", r->tmp.data);
	xw_elem(&r->w, "description", p->subtitle != NULL ? p->subtitle :
	    p->title);
	xw_elem(&r->w, "language", r->lang);
	xw_elem(&r->w, "copyright", c->feed_rights);
	xw_elem(&r->w, "managingEditor", rss_person(r, c->feed_author_email,
	    c->feed_author_name));
	rss_date(r, "lastBuildDate", feed_page_updated(p));
	xw_elem(&r->w, "generator", "pubfeed " PUBFEED_VERSION);
	xw_elem(&r->w, "docs", "https://www.rssboard.org/rss-specification");
	if (c->feed_logo != NULL) {
		xw_start(&r->w, "image");
		xw_elem(&r->w, "url", c->feed_logo);
		xw_elem(&r->w, "title", p->title);
		if (feed_url(&r->tmp, c, "/") == 0)
			xw_elem(&r->w, "link", r->tmp.data);
		xw_end(&r->w);
	}
	rss_atom_link(r, "self", type, p->self_path);
	rss_atom_link(r, "alternate", "application/atom+xml", p->alt_path);
	rss_atom_link(r, "current", type, p->current_path);
	rss_atom_link(r, "prev-archive", type, p->prev_archive);
	rss_atom_link(r, "next-archive", type, p->next_archive);
	feed_write_lang_links(&r->w, &r->tmp, c, p, "atom:link", type, "rss");
	feed_write_hubs(&r->w, r->conf, "atom:link");
	if (p->is_archive) {
		xw_start(&r->w, "fh:archive");
		xw_end(&r->w);
	}
}

/* A set as a category: its label, the taxonomy being ListSets. */
static void
rss_category(struct rss *r, const char *spec)
{
	const char	*label = feed_set_label(r->conf, spec);

	xw_start(&r->w, "category");
	if (feed_set_scheme(&r->tmp, r->conf) == 0)
		xw_attr(&r->w, "domain", r->tmp.data);
	xw_text(&r->w, label != NULL ? label : spec);
	xw_end(&r->w);
}

/* RSS allows one enclosure per item: the first full text. */
static void
rss_enclosure(struct rss *r, const struct record *rec)
{
	const struct record_link	*l;

	if ((l = record_link_find(rec, RECORD_LINK_FULLTEXT)) == NULL)
		return;
	xw_start(&r->w, "enclosure");
	xw_attr(&r->w, "url", l->href);
	xw_attr_int(&r->w, "length", l->length >= 0 ? (long long)l->length :
	    0);
	xw_attr(&r->w, "type", l->type != NULL ? l->type :
	    "application/octet-stream");
	xw_end(&r->w);
}

/* lang when it is not the one in scope, else NULL (no xml:lang). */
static const char *
rss_differs(const char *lang, const char *scope)
{
	return lang != NULL && (scope == NULL || strcmp(lang, scope) != 0) ?
	    lang : NULL;
}

/*
 * RSS 2.0 has only the channel's <language>; xml:lang, which XML gives
 * every element, marks an item, title or description in another one (the
 * W3C validator and feedparser both take it).
 */
static void
rss_item(struct rss *r, const struct record *rec)
{
	const struct record_text	*title = feed_entry_title(r->page,
					    rec);
	const char			*lang, *email, *scope;
	size_t				 i;

	xw_start(&r->w, "item");
	scope = r->lang;
	if ((lang = rss_differs(rec->lang, scope)) != NULL) {
		xw_attr(&r->w, "xml:lang", lang);
		scope = lang;
	}
	if (title != NULL)
		xw_elem_lang(&r->w, "title", rss_differs(title->lang, scope),
		    title->text);
	else
		xw_elem(&r->w, "title", rec->id);
	xw_elem(&r->w, "link", feed_entry_url(&r->tmp, r->conf, r->page,
	    rec));
	if (feed_summary(&r->tmp, rec, r->page->lang, &lang) == 0 &&
	    r->tmp.len > 0)
		xw_elem_lang(&r->w, "description", rss_differs(lang, scope),
		    r->tmp.data);
	buf_reset(&r->tmp);
	if (feed_tag_id(r->conf, "record", rec->id, &r->tmp) == 0) {
		xw_start(&r->w, "guid");
		xw_attr(&r->w, "isPermaLink", "false");
		xw_text(&r->w, r->tmp.data);
		xw_end(&r->w);
	}
	rss_date(r, "pubDate", rec->issued.t);
	for (i = 0; i < rec->ncreators; i++)
		xw_elem(&r->w, "dc:creator", rec->creators[i].name);
	for (i = 0; i < rec->ncreators; i++)
		if ((email = feed_agent_email(r->conf,
		    &rec->creators[i])) != NULL) {
			xw_elem(&r->w, "author", rss_person(r, email,
			    rec->creators[i].name));
			break;
		}
	for (i = 0; i < rec->nsets; i++)
		rss_category(r, rec->sets[i]);
	xw_elem(&r->w, "category", record_type_name(rec->type));
	rss_enclosure(r, rec);
	feed_write_event(&r->w, &r->tmp, rec);
	xw_end(&r->w);
}

int
feed_render_rss(const struct feed_conf *c, const struct feed_page *p,
    struct buf *out, struct err *e)
{
	struct rss	 r;
	size_t		 i;
	int		 rc;

	memset(&r, 0, sizeof(r));
	r.conf = c;
	r.page = p;
	r.lang = feed_page_lang(c, p);
	buf_init(&r.tmp, FEED_URL_MAX);
	if (xw_open(&r.w, out, 1, 1) == -1) {
		buf_release(&r.tmp);
		return err_set(e, "%s: cannot start the XML writer",
		    p->self_path);
	}
	xw_start(&r.w, "rss");
	xw_attr(&r.w, "version", "2.0");
	xw_attr(&r.w, "xmlns:atom", FEED_ATOM_NS);
	xw_attr(&r.w, "xmlns:dc", FEED_DC_NS);
	if (p->is_archive)
		xw_attr(&r.w, "xmlns:fh", FEED_FH_NS);
	if (feed_page_has_event(p))
		xw_attr(&r.w, "xmlns:ev", FEED_EV_NS);
	xw_start(&r.w, "channel");
	rss_head(&r, p);
	for (i = 0; i < p->nentries; i++)
		rss_item(&r, p->entries[i]);
	xw_end(&r.w);
	xw_end(&r.w);
	rc = xw_close(&r.w);
	buf_release(&r.tmp);
	if (rc == -1)
		return err_set(e, "%s: cannot render the RSS document "
		    "(over %d MiB?)", p->self_path, FEED_BUF_MAX >> 20);
	return 0;
}
