/*
 * feed_atom.c: Atom 1.0 (RFC 4287) documents with RFC 5005 archive links.
 *
 * The feed-level author is always written: records without creators rely
 * on it (RFC 4287 4.1.1 requires an author on every entry, directly or
 * through the feed).  Every entry gets a rel=alternate link, or a text
 * content when the record has no link at all (4.1.1's other way out).
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

struct atom {
	const struct feed_conf	*conf;
	const struct feed_page	*page;
	struct xw		 w;
	struct buf		 tmp;
	const char		*lang;	/* in scope: feed's, then entry's */
};

static int
atom_differs(const char *lang, const char *scope)
{
	return lang != NULL && (scope == NULL || strcmp(lang, scope) != 0);
}

static void
atom_date(struct atom *a, const char *name, int64_t t)
{
	char	 d[DATE_ISO_LEN];

	date_fmt_iso(t, d);
	xw_elem(&a->w, name, d);
}

static void
atom_link(struct atom *a, const char *rel, const char *type, const char *path)
{
	feed_write_link(&a->w, &a->tmp, a->conf, "link", rel, type, path);
}

static void
atom_person(struct atom *a, const char *elem, const char *name,
    const char *email, const char *uri)
{
	xw_start(&a->w, elem);
	xw_elem(&a->w, "name", name);
	xw_elem(&a->w, "uri", uri);
	xw_elem(&a->w, "email", email);
	xw_end(&a->w);
}

static void
atom_agent(struct atom *a, const char *elem, const struct record_agent *ag)
{
	const char	*uri = NULL;

	buf_reset(&a->tmp);
	if (ag->orcid != NULL && buf_printf(&a->tmp, "https://orcid.org/%s",
	    ag->orcid) == 0)
		uri = a->tmp.data;
	atom_person(a, elem, ag->name, feed_agent_email(a->conf, ag), uri);
}

static void
atom_head(struct atom *a, const struct feed_page *p)
{
	const struct feed_conf	*c = a->conf;
	const char		*self_type = "application/atom+xml";

	if (feed_id(&a->tmp, c, p->set_spec) == 0)
		xw_elem(&a->w, "id", a->tmp.data);
	/* a language version's title and subtitle are the configured ones */
	xw_elem_lang(&a->w, "title", atom_differs(feed_conf_lang(c), a->lang) ?
	    feed_conf_lang(c) : NULL, p->title);
	xw_elem_lang(&a->w, "subtitle", atom_differs(feed_conf_lang(c),
	    a->lang) ? feed_conf_lang(c) : NULL, p->subtitle);
	atom_date(a, "updated", feed_page_updated(p));
	atom_person(a, "author", c->feed_author_name != NULL ?
	    c->feed_author_name : feed_conf_title(c), c->feed_author_email,
	    c->feed_author_uri);
	atom_link(a, "self", self_type, p->self_path);
	/* alternate is the web site only: readers open it as the home page */
	atom_link(a, "alternate", "text/html", "/");
	atom_link(a, "current", self_type, p->current_path);
	atom_link(a, "prev-archive", self_type, p->prev_archive);
	atom_link(a, "next-archive", self_type, p->next_archive);
	/* not alternate, which is the web site's: see feed_write_lang_links */
	feed_write_lang_links(&a->w, &a->tmp, c, p, "link", self_type, "atom");
	feed_write_hubs(&a->w, a->conf, "link");
	if (p->is_archive) {
		xw_start(&a->w, "fh:archive");
		xw_end(&a->w);
	}
	xw_start(&a->w, "generator");
	xw_attr(&a->w, "version", PUBFEED_VERSION);
	xw_text(&a->w, "pubfeed");
	xw_end(&a->w);
	xw_elem(&a->w, "icon", c->feed_icon);
	xw_elem(&a->w, "logo", c->feed_logo);
	xw_elem(&a->w, "rights", c->feed_rights);
}

static void
atom_entry_link(struct atom *a, const char *rel, const struct record_link *l)
{
	const char	*type = l->type;

	if (type == NULL && l->rel == RECORD_LINK_LANDING)
		type = "text/html";
	xw_start(&a->w, "link");
	xw_attr(&a->w, "rel", rel);
	xw_attr(&a->w, "type", type);
	xw_attr(&a->w, "hreflang", l->lang);
	xw_attr(&a->w, "title", l->title);
	if (l->rel == RECORD_LINK_FULLTEXT && l->length >= 0)
		xw_attr_int(&a->w, "length", (long long)l->length);
	xw_attr(&a->w, "href", l->href);
	xw_end(&a->w);
}

static void
atom_entry_links(struct atom *a, const struct record *r)
{
	const struct record_link	*alt = feed_entry_link(r), *l;
	struct record_link		 here = { RECORD_LINK_LANDING, NULL,
					    NULL, -1, NULL, NULL };
	size_t				 i;

	if (alt != NULL)
		atom_entry_link(a, "alternate", alt);
	else if ((here.href = feed_entry_url(&a->tmp, a->conf, a->page,
	    r)) != NULL)
		atom_entry_link(a, "alternate", &here);
	for (i = 0; i < r->nlinks; i++) {
		l = &r->links[i];
		if (l->rel == RECORD_LINK_FULLTEXT)
			atom_entry_link(a, "enclosure", l);
		else if (l != alt)
			atom_entry_link(a, "related", l);
	}
	if (r->license != NULL) {
		xw_start(&a->w, "link");
		xw_attr(&a->w, "rel", "license");
		xw_attr(&a->w, "href", r->license);
		xw_end(&a->w);
	}
}

/* scheme_set: a set category (scheme: ListSets); else no scheme. */
static void
atom_category(struct atom *a, const char *term, int scheme_set,
    const char *label)
{
	xw_start(&a->w, "category");
	xw_attr(&a->w, "term", term);
	if (scheme_set && feed_set_scheme(&a->tmp, a->conf) == 0)
		xw_attr(&a->w, "scheme", a->tmp.data);
	xw_attr(&a->w, "label", label);
	xw_end(&a->w);
}

static void
atom_entry(struct atom *a, const struct record *r)
{
	const struct record_text	*title = feed_entry_title(a->page, r);
	const char			*feed_lang = a->lang, *lang;
	size_t				 i;

	xw_start(&a->w, "entry");
	if (atom_differs(r->lang, a->lang)) {
		xw_attr(&a->w, "xml:lang", r->lang);
		a->lang = r->lang;
	}
	buf_reset(&a->tmp);
	if (feed_tag_id(a->conf, "record", r->id, &a->tmp) == 0)
		xw_elem(&a->w, "id", a->tmp.data);
	if (title != NULL)
		xw_elem_lang(&a->w, "title", atom_differs(title->lang,
		    a->lang) ? title->lang : NULL, title->text);
	else
		xw_elem(&a->w, "title", r->id);
	atom_date(a, "published", r->issued.t);
	atom_date(a, "updated", feed_entry_updated(a->page, r));
	for (i = 0; i < r->ncreators; i++)
		atom_agent(a, "author", &r->creators[i]);
	for (i = 0; i < r->ncontributors; i++)
		atom_agent(a, "contributor", &r->contributors[i]);
	for (i = 0; i < r->nsets; i++)
		atom_category(a, r->sets[i], 1,
		    feed_set_label(a->conf, r->sets[i]));
	atom_category(a, record_type_name(r->type), 0, NULL);
	atom_entry_links(a, r);
	if (feed_summary(&a->tmp, r, a->page->lang, &lang) == 0 &&
	    a->tmp.len > 0) {
		xw_start(&a->w, "summary");
		xw_attr(&a->w, "type", "text");
		if (atom_differs(lang, a->lang))
			xw_attr(&a->w, "xml:lang", lang);
		xw_text(&a->w, a->tmp.data);
		xw_end(&a->w);
	}
	if (feed_entry_link(r) == NULL) {
		xw_start(&a->w, "content");
		xw_attr(&a->w, "type", "text");
		if (title != NULL && atom_differs(title->lang, a->lang))
			xw_attr(&a->w, "xml:lang", title->lang);
		xw_text(&a->w, title != NULL ? title->text : r->id);
		xw_end(&a->w);
	}
	xw_elem(&a->w, "rights", r->rights);
	feed_write_event(&a->w, &a->tmp, r);
	xw_end(&a->w);
	a->lang = feed_lang;
}

int
feed_render_atom(const struct feed_conf *c, const struct feed_page *p,
    struct buf *out, struct err *e)
{
	struct atom	 a;
	size_t		 i;
	int		 rc;

	memset(&a, 0, sizeof(a));
	a.conf = c;
	a.page = p;
	a.lang = feed_page_lang(c, p);
	buf_init(&a.tmp, FEED_URL_MAX);
	if (xw_open(&a.w, out, 1, 1) == -1) {
		buf_release(&a.tmp);
		return err_set(e, "%s: cannot start the XML writer",
		    p->self_path);
	}
	xw_start_ns(&a.w, NULL, "feed", FEED_ATOM_NS);
	if (p->is_archive)
		xw_attr(&a.w, "xmlns:fh", FEED_FH_NS);
	if (feed_page_has_event(p))
		xw_attr(&a.w, "xmlns:ev", FEED_EV_NS);
	xw_attr(&a.w, "xml:lang", a.lang);
	atom_head(&a, p);
	for (i = 0; i < p->nentries; i++)
		atom_entry(&a, p->entries[i]);
	xw_end(&a.w);
	rc = xw_close(&a.w);
	buf_release(&a.tmp);
	if (rc == -1)
		return err_set(e, "%s: cannot render the Atom document "
		    "(over %d MiB?)", p->self_path, FEED_BUF_MAX >> 20);
	return 0;
}
