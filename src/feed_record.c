/*
 * feed_record.c: a record's landing page, for people and for machines:
 * Highwire Press citation_* meta tags (what Google Scholar's inclusion
 * guidelines read), schema.org JSON-LD (built with jansson, never pasted
 * together) and FAIR Signposting typed links, as <link> elements here, as
 * the bounded Link header that feed_doc_links() gives HTTP, and as the
 * record's link sets (level 2, RFC 9264; feed_render_linkset()).  They
 * depend on the record and the configuration only (feed_build.c carries
 * them over on that condition).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "i18n.h"
#include "oai.h"
#include "record.h"
#include "snap.h"
#include "syntax.h"
#include "vec.h"
#include "xw.h"
#include "banned.h"

#define SCHEMA		"https://schema.org/"
#define DOI_URL		"https://doi.org/"
#define ORCID_URL	"https://orcid.org/"


const char *
feed_schema_type(enum record_type t)
{
	switch (t) {
	case RECORD_REPORT:
	case RECORD_POLICY_BRIEF:
	case RECORD_WORKING_PAPER:
		return "Report";
	case RECORD_BOOK:
		return "Book";
	case RECORD_CHAPTER:
		return "Chapter";
	case RECORD_ARTICLE:
		return "ScholarlyArticle";
	case RECORD_DATASET:
		return "Dataset";
	case RECORD_PRESENTATION:
		return "PresentationDigitalDocument";
	case RECORD_EVENT:
		return "Event";
	case RECORD_NEWS:
		return "NewsArticle";
	case RECORD_TYPE_COUNT:
		break;
	}
	return "CreativeWork";
}

static int
is_report(enum record_type t)
{
	return t == RECORD_REPORT || t == RECORD_POLICY_BRIEF ||
	    t == RECORD_WORKING_PAPER;
}

/* The page's own URL into b. */
static int
page_url(struct buf *b, const struct feed_conf *c, const struct record *r)
{
	return feed_record_url(b, c, I18N_EN, r);
}

/* GetRecord URL of one format into b. */
static int
getrecord_url(struct buf *b, const struct snap *s, const struct record *r,
    const char *prefix)
{
	struct buf	 id;
	int		 rc;

	buf_reset(b);
	if (s->conf->oai_namespace == NULL)
		return -1;
	if (buf_printf(b, "%s%s?verb=GetRecord&metadataPrefix=%s&identifier=",
	    s->conf->base_url, s->conf->oai_path != NULL ? s->conf->oai_path :
	    "/oai", prefix) == -1)
		return -1;
	/* "oai:NS:ID", percent-encoded as a query value */
	buf_init(&id, FEED_URL_MAX);
	rc = buf_printf(&id, "oai:%s:%s", s->conf->oai_namespace, r->id);
	if (rc == 0)
		rc = syntax_pct_encode(b, id.data);
	buf_release(&id);
	return rc;
}

static int
jset(json_t *o, const char *k, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, k, v);
}

static int
jstr(json_t *o, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	return jset(o, k, json_string(v));
}

/* Signposting */

/*
 * Every typed link of a record, once, as FAIR Signposting has them: the
 * level 1 links with the landing page as origin, then (in the link set
 * only) the content resources' "collection" and the metadata resources'
 * "describes" links back to the page.  prio orders what the Link header
 * keeps when they do not all fit its budget: the link sets, cite-as, type,
 * describedby, license, item, then the authors, dropped first.
 */
enum sp_prio { SP_LINKSET, SP_CITE, SP_TYPE, SP_DESCRIBEDBY, SP_LICENSE,
	SP_ITEM, SP_AUTHOR, SP_PRIOS, SP_SET_ONLY = SP_PRIOS };

struct sp_link {
	char		*href;
	char		*anchor;	/* NULL: the landing page */
	const char	*rel;
	const char	*type;		/* may be NULL */
	const char	*profile;	/* may be NULL */
	int		 prio;
	int		 keep;		/* in the header */
};

struct signpost {
	struct sp_link	*v;
	size_t		 n, cap;
	char		*page;		/* the landing page, the anchor */
	int		 failed;
};

static void
sp_add(struct signpost *sp, const char *href, const char *anchor,
    const char *rel, const char *type, const char *profile, int prio)
{
	struct sp_link	*l;

	if (sp->failed || vec_grow((void **)&sp->v, &sp->cap, sp->n + 1,
	    sizeof(*sp->v)) == -1) {
		sp->failed = 1;
		return;
	}
	l = &sp->v[sp->n];
	memset(l, 0, sizeof(*l));
	l->href = strdup(href);
	l->anchor = anchor != NULL ? strdup(anchor) : NULL;
	if (l->href == NULL || (anchor != NULL && l->anchor == NULL)) {
		free(l->href);
		free(l->anchor);
		sp->failed = 1;
		return;
	}
	l->rel = rel;
	l->type = type;
	l->profile = profile;
	l->prio = prio;
	sp->n++;
}

static void
sp_release(struct signpost *sp)
{
	size_t	 i;

	for (i = 0; i < sp->n; i++) {
		free(sp->v[i].href);
		free(sp->v[i].anchor);
	}
	free(sp->v);
	free(sp->page);
	memset(sp, 0, sizeof(*sp));
}

/* The URL of r's link set in a form (FEED_LINKSET_EXT...) into b. */
static int
linkset_url(struct buf *b, const struct feed_conf *c, const struct record *r,
    const char *ext)
{
	buf_reset(b);
	return buf_printf(b, "%s" FEED_RECORD_PREFIX "%s%s", c->base_url,
	    r->id, ext);
}

static int
signpost(struct signpost *sp, const struct feed_conf *c, const struct snap *s,
    const struct record *r)
{
	const struct record_ident	*doi;
	struct buf			 u;
	size_t				 i;

	memset(sp, 0, sizeof(*sp));
	buf_init(&u, FEED_URL_MAX);
	if (page_url(&u, c, r) == -1 || (sp->page = strdup(u.data)) == NULL) {
		buf_release(&u);
		return -1;
	}
	if ((doi = record_ident_find(r, RECORD_ID_DOI)) != NULL) {
		buf_reset(&u);
		if (buf_printf(&u, DOI_URL "%s", doi->value) == 0)
			sp_add(sp, u.data, NULL, "cite-as", NULL, NULL,
			    SP_CITE);
	} else
		sp_add(sp, sp->page, NULL, "cite-as", NULL, NULL, SP_CITE);
	for (i = 0; i < r->ncreators; i++) {
		if (r->creators[i].orcid == NULL)
			continue;
		buf_reset(&u);
		if (buf_printf(&u, ORCID_URL "%s", r->creators[i].orcid) == 0)
			sp_add(sp, u.data, NULL, "author", NULL, NULL,
			    SP_AUTHOR);
	}
	sp_add(sp, SCHEMA "AboutPage", NULL, "type", NULL, NULL, SP_TYPE);
	buf_reset(&u);
	if (buf_printf(&u, SCHEMA "%s", feed_schema_type(r->type)) == 0)
		sp_add(sp, u.data, NULL, "type", NULL, NULL, SP_TYPE);
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_FULLTEXT)
			sp_add(sp, r->links[i].href, NULL, "item",
			    r->links[i].type, NULL, SP_ITEM);
	/* the formats the OAI-PMH module disseminates r in, no other */
	for (i = 0; oai_prefix(i) != NULL; i++)
		if (oai_offered(i, r) &&
		    getrecord_url(&u, s, r, oai_prefix(i)) == 0)
			sp_add(sp, u.data, NULL, "describedby",
			    "application/xml", oai_prefix_ns(i),
			    SP_DESCRIBEDBY);
	if (r->license != NULL)
		sp_add(sp, r->license, NULL, "license", NULL, NULL,
		    SP_LICENSE);
	if (linkset_url(&u, c, r, FEED_LINKSET_EXT) == 0)
		sp_add(sp, u.data, NULL, "linkset", FEED_LINKSET_TYPE, NULL,
		    SP_LINKSET);
	if (linkset_url(&u, c, r, FEED_LINKSET_JSON_EXT) == 0)
		sp_add(sp, u.data, NULL, "linkset", FEED_LINKSET_JSON_TYPE,
		    NULL, SP_LINKSET);
	/* level 2: the content and metadata resources as link origins */
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_FULLTEXT)
			sp_add(sp, sp->page, r->links[i].href, "collection",
			    "text/html", NULL, SP_SET_ONLY);
	for (i = 0; oai_prefix(i) != NULL; i++)
		if (oai_offered(i, r) &&
		    getrecord_url(&u, s, r, oai_prefix(i)) == 0)
			sp_add(sp, sp->page, u.data, "describes", "text/html",
			    NULL, SP_SET_ONLY);
	buf_release(&u);
	return sp->failed ? -1 : 0;
}

/*
 * One link in the Link header syntax, with its anchor when with_anchor
 * (the link set's form, RFC 9264 4.1).  hrefs and anchors are checked
 * URLs (no '<', '>', '"' or space); types and profiles are media types
 * and URIs likewise.
 */
static int
sp_format(struct buf *b, const struct sp_link *l, const char *page,
    int with_anchor)
{
	if (buf_printf(b, "<%s>; rel=\"%s\"", l->href, l->rel) == -1 ||
	    (l->type != NULL && buf_printf(b, "; type=\"%s\"", l->type) ==
	    -1) || (l->profile != NULL && buf_printf(b, "; profile=\"%s\"",
	    l->profile) == -1))
		return -1;
	if (with_anchor && buf_printf(b, "; anchor=\"%s\"",
	    l->anchor != NULL ? l->anchor : page) == -1)
		return -1;
	return 0;
}

/*
 * The Link header value into out (reset first), at most budget bytes:
 * whole priority levels' links in order as long as they fit (the first
 * that does not ends it: what follows is less important), written in the
 * order of the list.  Nothing when not even the link sets fit.
 */
static int
sp_header(struct signpost *sp, size_t budget, struct buf *out)
{
	struct buf	 one;
	size_t		 i, used = 0;
	int		 p, full = 0, rc = -1;

	buf_reset(out);
	buf_init(&one, FEED_URL_MAX);
	for (p = 0; p < SP_PRIOS && !full; p++)
		for (i = 0; i < sp->n && !full; i++) {
			if (sp->v[i].prio != p)
				continue;
			buf_reset(&one);
			if (sp_format(&one, &sp->v[i], sp->page, 0) == -1)
				goto out;
			if (used + (used > 0 ? 2 : 0) + one.len > budget)
				full = 1;
			else {
				used += (used > 0 ? 2 : 0) + one.len;
				sp->v[i].keep = 1;
			}
		}
	for (i = 0; i < sp->n; i++) {
		if (!sp->v[i].keep)
			continue;
		if ((out->len > 0 && buf_addstr(out, ", ") == -1) ||
		    sp_format(out, &sp->v[i], sp->page, 0) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_release(&one);
	return rc;
}

/* Every link of the landing page as <link> elements (level 1 in HTML). */
static void
sp_html(const struct signpost *sp, struct feed_html *h)
{
	size_t	 i;

	for (i = 0; i < sp->n; i++) {
		if (sp->v[i].prio == SP_SET_ONLY)
			continue;
		xw_start(&h->w, "link");
		xw_attr(&h->w, "rel", sp->v[i].rel);
		xw_attr(&h->w, "href", sp->v[i].href);
		xw_attr(&h->w, "type", sp->v[i].type);
		xw_attr(&h->w, "profile", sp->v[i].profile);
		xw_end(&h->w);
	}
}

/* application/linkset: every link with its anchor, one a line. */
static int
sp_linkset(const struct signpost *sp, struct buf *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < sp->n; i++) {
		if (sp->v[i].prio == SP_LINKSET)
			continue;
		if ((n++ > 0 && buf_addstr(out, ",\n") == -1) ||
		    sp_format(out, &sp->v[i], sp->page, 1) == -1)
			return -1;
	}
	return buf_addch(out, '\n');
}

/*
 * application/linkset+json (RFC 9264 4.2): {"linkset": [context...]}, a
 * context object per anchor in the order of first use, its "anchor" and
 * one array of target objects per relation type, in the order of first
 * use; "type" a string, the extension attribute "profile" an array of
 * strings (4.2.4.3).
 */
static int
sp_linkset_json(const struct signpost *sp, struct buf *out)
{
	json_t		*top, *set, *ctx, *rels, *t;
	const char	*anchor;
	char		*text = NULL;
	size_t		 i, k;
	int		 rc = -1;

	if ((top = json_object()) == NULL)
		return -1;
	if ((set = json_array()) == NULL ||
	    json_object_set_new(top, "linkset", set) == -1)
		goto out;
	for (i = 0; i < sp->n; i++) {
		if (sp->v[i].prio == SP_LINKSET)
			continue;
		anchor = sp->v[i].anchor != NULL ? sp->v[i].anchor : sp->page;
		ctx = NULL;
		for (k = 0; k < json_array_size(set); k++) {
			json_t *c = json_array_get(set, k);

			if (strcmp(json_string_value(json_object_get(c,
			    "anchor")), anchor) == 0) {
				ctx = c;
				break;
			}
		}
		if (ctx == NULL && ((ctx = json_object()) == NULL ||
		    json_array_append_new(set, ctx) == -1 ||
		    jstr(ctx, "anchor", anchor) == -1))
			goto out;
		if ((rels = json_object_get(ctx, sp->v[i].rel)) == NULL &&
		    ((rels = json_array()) == NULL ||
		    json_object_set_new(ctx, sp->v[i].rel, rels) == -1))
			goto out;
		if ((t = json_object()) == NULL ||
		    json_array_append_new(rels, t) == -1 ||
		    jstr(t, "href", sp->v[i].href) == -1 ||
		    jstr(t, "type", sp->v[i].type) == -1)
			goto out;
		if (sp->v[i].profile != NULL) {
			json_t *a = json_array();

			if (a == NULL || jset(t, "profile", a) == -1 ||
			    json_array_append_new(a,
			    json_string(sp->v[i].profile)) == -1)
				goto out;
		}
	}
	if ((text = json_dumps(top, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) ==
	    NULL || buf_addstr(out, text) == -1 || buf_addch(out, '\n') == -1)
		goto out;
	rc = 0;
out:
	free(text);
	json_decref(top);
	return rc;
}

/* What the links read of the configuration: base_url, the OAI endpoint. */
static void
sp_conf(struct feed_conf *fc, const struct snap *s)
{
	/* only base_url is read from fc: no feed_conf_init() hash */
	memset(fc, 0, sizeof(*fc));
	fc->base_url = s->conf->base_url;
}

int
feed_record_links(const struct snap *s, const struct record *r,
    size_t budget, struct buf *out)
{
	struct feed_conf	 fc;
	struct signpost		 sp;
	int			 rc;

	sp_conf(&fc, s);
	rc = signpost(&sp, &fc, s, r) == -1 ? -1 : sp_header(&sp, budget, out);
	sp_release(&sp);
	return rc;
}

int
feed_render_linkset(const struct feed_conf *c, const struct snap *s,
    const struct record *r, int is_json, struct buf *out, struct err *e)
{
	struct signpost	 sp;
	int		 rc;

	if ((rc = signpost(&sp, c, s, r)) == 0)
		rc = is_json ? sp_linkset_json(&sp, out) :
		    sp_linkset(&sp, out);
	sp_release(&sp);
	return rc == -1 ? err_set(e, "%s: cannot write the link set", r->id) :
	    0;
}

/*
 * The header is asked for on every request, so it is built once per record
 * and configuration and kept on the record (record_cache_add()), keyed on
 * what it reads from the configuration.  The tag is apart from the OAI-PMH
 * module's (0 .. number of formats).
 */
#define FEED_TAG_SIGNPOST	0x7369676e	/* "sign" */

int
feed_doc_links(const struct snap *s, const char *path, struct buf *out)
{
	const struct record_cache	*c;
	struct record			*r;
	struct buf			 key;
	int				 rc = -1;

	buf_reset(out);
	if ((r = (struct record *)feed_path_record(s, path)) == NULL)
		return 0;
	buf_init(&key, FEED_URL_MAX);
	if (buf_printf(&key, "%s%c%s%c%s", s->conf->base_url, 0,
	    s->conf->oai_path != NULL ? s->conf->oai_path : "", 0,
	    s->conf->oai_namespace != NULL ? s->conf->oai_namespace : "") ==
	    -1)
		goto out;
	if ((c = record_cache_find(r, FEED_TAG_SIGNPOST, key.data,
	    key.len)) != NULL) {
		rc = buf_add(out, c->data + c->keylen, c->len) == -1 ? -1 : 1;
		goto out;
	}
	if (feed_record_links(s, r, FEED_LINK_MAX, out) == -1)
		goto out;
	record_cache_add(r, FEED_TAG_SIGNPOST, key.data, key.len, out->data,
	    out->len);
	rc = out->len > 0 ? 1 : 0;
out:
	buf_release(&key);
	return rc;
}

/* citation_* meta tags */

static void
meta(struct feed_html *h, const char *name, const char *content)
{
	if (content == NULL || content[0] == '\0')
		return;
	xw_start(&h->w, "meta");
	xw_attr(&h->w, "name", name);
	xw_attr(&h->w, "content", content);
	xw_end(&h->w);
}

/* "2010/5/12": the date form Google Scholar's guidelines ask for. */
static void
scholar_date(const struct date *d, char out[DATE_DAY_LEN])
{
	date_fmt_day(d->t, out);
	out[4] = out[7] = '/';
}

static void
citation_meta(struct feed_html *h, const struct record *r)
{
	const struct record_ident	*id;
	const struct record_link	*pdf = NULL;
	char				 day[DATE_DAY_LEN];
	size_t				 i;

	meta(h, "citation_title", feed_record_title(r));
	for (i = 0; i < r->ncreators; i++) {
		const struct record_agent *a = &r->creators[i];

		buf_reset(&h->tmp);
		if (a->kind == RECORD_PERSON && a->family != NULL &&
		    buf_printf(&h->tmp, "%s%s%s", a->family,
		    a->given != NULL ? ", " : "",
		    a->given != NULL ? a->given : "") == 0)
			meta(h, "citation_author", h->tmp.data);
		else
			meta(h, "citation_author", a->name);
		meta(h, "citation_author_institution", a->affiliation);
		meta(h, "citation_author_orcid", a->orcid);
	}
	scholar_date(&r->issued, day);
	meta(h, "citation_publication_date", day);
	if (r->nlanguages > 0)
		meta(h, "citation_language", r->languages[0]);
	else
		meta(h, "citation_language", r->lang);
	meta(h, "citation_publisher", r->publisher);
	if (is_report(r->type))
		meta(h, "citation_technical_report_institution",
		    r->publisher != NULL ? r->publisher :
		    r->ncreators > 0 && r->creators[0].kind == RECORD_ORG ?
		    r->creators[0].name : NULL);
	if (r->type == RECORD_ARTICLE)
		meta(h, "citation_journal_title", r->series);
	else if (r->type == RECORD_CHAPTER)
		meta(h, "citation_inbook_title", r->series);
	for (i = 0; i < r->nidents; i++) {
		id = &r->idents[i];
		if (id->kind == RECORD_ID_DOI)
			meta(h, "citation_doi", id->value);
		else if (id->kind == RECORD_ID_ISBN)
			meta(h, "citation_isbn", id->value);
		else if (id->kind == RECORD_ID_ISSN)
			meta(h, "citation_issn", id->value);
	}
	for (i = 0; i < r->nsubjects; i++)
		meta(h, "citation_keywords", r->subjects[i].text);
	/* the PDF in the record's main language, else the first PDF */
	for (i = 0; i < r->nlinks; i++) {
		const struct record_link *l = &r->links[i];

		if (l->rel != RECORD_LINK_FULLTEXT || l->type == NULL ||
		    strcmp(l->type, "application/pdf") != 0)
			continue;
		if (pdf == NULL || (r->lang != NULL && l->lang != NULL &&
		    strcmp(l->lang, r->lang) == 0 && (pdf->lang == NULL ||
		    strcmp(pdf->lang, r->lang) != 0)))
			pdf = l;
	}
	if (pdf != NULL)
		meta(h, "citation_pdf_url", pdf->href);
	if (page_url(&h->url, h->conf, r) == 0)
		meta(h, "citation_abstract_html_url", h->url.data);
}

/* JSON-LD */

static json_t *
jagent(const struct record_agent *a)
{
	json_t	*o = json_object(), *aff;
	char	 url[sizeof(ORCID_URL) + 32];
	int	 rc = 0;

	if (o == NULL)
		return NULL;
	rc |= jstr(o, "@type", a->kind == RECORD_PERSON ? "Person" :
	    "Organization");
	rc |= jstr(o, "name", a->name);
	if (a->kind == RECORD_PERSON) {
		rc |= jstr(o, "familyName", a->family);
		rc |= jstr(o, "givenName", a->given);
	}
	if (a->orcid != NULL) {
		snprintf(url, sizeof(url), ORCID_URL "%s", a->orcid);
		rc |= jstr(o, "@id", url);
	}
	if (a->affiliation != NULL) {
		if ((aff = json_object()) == NULL)
			rc = -1;
		else {
			rc |= jstr(aff, "@type", "Organization");
			rc |= jstr(aff, "name", a->affiliation);
			rc |= jset(o, "affiliation", aff);
		}
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
jdate(const struct date *d)
{
	char	 iso[DATE_ISO_LEN];

	date_fmt(d, iso);
	return json_string(iso);
}

static json_t *
jsonld(const struct feed_html *h, const struct record *r, const char *url)
{
	const struct record_text	*ab;
	const struct record_ident	*doi;
	json_t				*o, *a, *x;
	char				 buf[FEED_URL_MAX];
	size_t				 i;
	int				 rc = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	rc |= jstr(o, "@context", "https://schema.org");
	rc |= jstr(o, "@type", feed_schema_type(r->type));
	rc |= jstr(o, "@id", url);
	rc |= jstr(o, "url", url);
	rc |= jstr(o, "name", feed_record_title(r));
	if (r->type != RECORD_EVENT)
		rc |= jstr(o, "headline", feed_record_title(r));
	rc |= jstr(o, "inLanguage", r->lang);
	if ((ab = record_text_pick(r->abstracts, r->nabstracts, r->lang)) !=
	    NULL)
		rc |= jstr(o, "description", ab->text);
	if (r->type != RECORD_EVENT)
		rc |= jset(o, "datePublished", jdate(&r->issued));
	if (r->ncreators > 0) {
		if ((a = json_array()) == NULL)
			rc = -1;
		for (i = 0; a != NULL && i < r->ncreators; i++)
			if (json_array_append_new(a,
			    jagent(&r->creators[i])) == -1)
				rc = -1;
		if (a != NULL)
			rc |= jset(o, r->type == RECORD_EVENT ? "organizer" :
			    "author", a);
	}
	if (r->publisher != NULL && r->type != RECORD_EVENT &&
	    (x = json_object()) != NULL) {
		rc |= jstr(x, "@type", "Organization");
		rc |= jstr(x, "name", r->publisher);
		rc |= jset(o, "publisher", x);
	}
	if ((doi = record_ident_find(r, RECORD_ID_DOI)) != NULL) {
		snprintf(buf, sizeof(buf), DOI_URL "%s", doi->value);
		rc |= jstr(o, "sameAs", buf);
	}
	if ((doi = record_ident_find(r, RECORD_ID_ISBN)) != NULL &&
	    (r->type == RECORD_BOOK || r->type == RECORD_CHAPTER))
		rc |= jstr(o, "isbn", doi->value);
	rc |= jstr(o, "license", r->license);
	rc |= jstr(o, "copyrightNotice", r->rights);
	if (r->nsubjects > 0 && (a = json_array()) != NULL) {
		for (i = 0; i < r->nsubjects; i++)
			if (json_array_append_new(a,
			    json_string(r->subjects[i].text)) == -1)
				rc = -1;
		rc |= jset(o, "keywords", a);
	}
	a = NULL;
	for (i = 0; i < r->nlinks; i++) {
		const struct record_link *l = &r->links[i];

		if (l->rel != RECORD_LINK_FULLTEXT)
			continue;
		if (a == NULL && (a = json_array()) == NULL) {
			rc = -1;
			break;
		}
		if ((x = json_object()) == NULL) {
			rc = -1;
			break;
		}
		rc |= jstr(x, "@type", r->type == RECORD_DATASET ?
		    "DataDownload" : "MediaObject");
		rc |= jstr(x, "contentUrl", l->href);
		rc |= jstr(x, "encodingFormat", l->type);
		rc |= jstr(x, "inLanguage", l->lang);
		if (l->length >= 0) {
			snprintf(buf, sizeof(buf), "%lld B",
			    (long long)l->length);
			rc |= jstr(x, "contentSize", buf);
		}
		if (json_array_append_new(a, x) == -1)
			rc = -1;
	}
	if (a != NULL)
		rc |= jset(o, r->type == RECORD_DATASET ? "distribution" :
		    "encoding", a);
	if (r->event != NULL) {
		rc |= jset(o, "startDate", jdate(&r->event->start));
		rc |= jset(o, "endDate", jdate(&r->event->end));
		rc |= jstr(o, "eventStatus", SCHEMA "EventScheduled");
		if ((x = json_object()) != NULL) {
			rc |= jstr(x, "@type", "Place");
			rc |= jstr(x, "name", r->event->place != NULL ?
			    r->event->place : "To be announced");
			if (r->event->country != NULL) {
				json_t *ad = json_object();

				if (ad == NULL)
					rc = -1;
				else {
					rc |= jstr(ad, "@type",
					    "PostalAddress");
					rc |= jstr(ad, "addressCountry",
					    r->event->country);
					rc |= jset(x, "address", ad);
				}
			}
			rc |= jset(o, "location", x);
		} else
			rc = -1;
	}
	(void)h;
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The JSON-LD as a <script> body.  HTML ends a script at "</script" and
 * changes state at "<!--", so every '<' (only ever inside a JSON string)
 * is written as the JSON escape \u003c, and '>' and '&' likewise.
 */
static int
write_jsonld(struct feed_html *h, const struct record *r, const char *url)
{
	json_t		*o;
	struct buf	 js;
	char		*s, *p;
	int		 rc = -1;

	if ((o = jsonld(h, r, url)) == NULL)
		return -1;
	s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return -1;
	/* not h->tmp: 400 authors and their ORCID iDs pass its 64 KB */
	buf_init(&js, FEED_BUF_MAX);
	for (p = s; *p != '\0'; p++) {
		if (*p == '<' || *p == '>' || *p == '&') {
			if (buf_printf(&js, "\\u%04x", (unsigned)*p) == -1)
				goto out;
		} else if (buf_addch(&js, *p) == -1)
			goto out;
	}
	xw_start(&h->w, "script");
	xw_attr(&h->w, "type", "application/ld+json");
	xw_raw(&h->w, "\n", 1);
	xw_raw(&h->w, js.data, js.len);
	xw_raw(&h->w, "\n", 1);
	xw_end(&h->w);
	rc = 0;
out:
	buf_release(&js);
	free(s);
	return rc;
}

/* The body */

static void
dt(struct feed_html *h, const char *term)
{
	xw_elem(&h->w, "dt", term);
}

static void
dd_text(struct feed_html *h, const char *term, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	dt(h, term);
	xw_elem(&h->w, "dd", text);
}

static void
dd_link(struct feed_html *h, const char *term, const char *href,
    const char *text)
{
	dt(h, term);
	xw_start(&h->w, "dd");
	xw_start(&h->w, "a");
	xw_attr(&h->w, "href", href);
	xw_text(&h->w, text);
	xw_end(&h->w);
	xw_end(&h->w);
}

static void
agents(struct feed_html *h, const char *title, const struct record_agent *v,
    size_t n)
{
	size_t	 i;

	if (n == 0)
		return;
	dt(h, title);
	xw_start(&h->w, "dd");
	xw_start(&h->w, "ul");
	xw_attr(&h->w, "class", "plain");
	for (i = 0; i < n; i++) {
		const struct record_agent *a = &v[i];

		xw_start(&h->w, "li");
		xw_start(&h->w, "span");
		xw_attr(&h->w, "class", "agent");
		/*
		 * One text node: the writer indents after an element's end,
		 * which would put a space before the comma.
		 */
		xw_text(&h->w, a->name != NULL ? a->name : "");
		if (a->role != NULL) {
			xw_text(&h->w, " (");
			xw_text(&h->w, a->role);
			xw_text(&h->w, ")");
		}
		if (a->affiliation != NULL) {
			xw_text(&h->w, ", ");
			xw_text(&h->w, a->affiliation);
		}
		xw_end(&h->w);
		if (a->orcid != NULL) {
			buf_reset(&h->url);
			if (buf_printf(&h->url, ORCID_URL "%s", a->orcid) ==
			    0) {
				xw_text(&h->w, " ");
				xw_start(&h->w, "a");
				xw_attr(&h->w, "href", h->url.data);
				xw_attr(&h->w, "rel", "author");
				xw_text(&h->w, "ORCID ");
				xw_text(&h->w, a->orcid);
				xw_end(&h->w);
			}
		}
		xw_end(&h->w);
	}
	xw_end(&h->w);
	xw_end(&h->w);
}

static void
idents(struct feed_html *h, const struct record *r)
{
	static const char *const name[] = {
		[RECORD_ID_DOI] = "DOI", [RECORD_ID_ISBN] = "ISBN",
		[RECORD_ID_ISSN] = "ISSN", [RECORD_ID_HANDLE] = "Handle",
		[RECORD_ID_URN] = "URN", [RECORD_ID_URL] = "URL",
	};
	size_t	 i;

	for (i = 0; i < r->nidents; i++) {
		const struct record_ident *id = &r->idents[i];

		buf_reset(&h->url);
		if (id->kind == RECORD_ID_DOI && buf_printf(&h->url,
		    DOI_URL "%s", id->value) == 0)
			dd_link(h, "DOI", h->url.data, h->url.data);
		else if (id->kind == RECORD_ID_HANDLE && buf_printf(&h->url,
		    "https://hdl.handle.net/%s", id->value) == 0)
			dd_link(h, "Handle", h->url.data, id->value);
		else if (id->kind == RECORD_ID_URL)
			dd_link(h, "URL", id->value, id->value);
		else
			dd_text(h, name[id->kind], id->value);
	}
}

static void
files(struct feed_html *h, const struct record *r)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->nlinks; i++) {
		const struct record_link *l = &r->links[i];
		const char *what = feed_html_msg(h,
		    l->rel == RECORD_LINK_FULLTEXT ? I18N_FULL_TEXT :
		    l->rel == RECORD_LINK_LANDING ? I18N_PUBLISHER_PAGE :
		    I18N_RELATED);

		if (n++ == 0) {
			xw_start(&h->w, "section");
			xw_elem(&h->w, "h2", feed_html_msg(h, I18N_FILES));
			xw_start(&h->w, "ul");
		}
		xw_start(&h->w, "li");
		xw_start(&h->w, "a");
		xw_attr(&h->w, "href", l->href);
		if (l->lang != NULL)
			xw_attr(&h->w, "hreflang", l->lang);
		xw_attr(&h->w, "type", l->type);
		xw_text(&h->w, l->title != NULL ? l->title : what);
		xw_end(&h->w);
		if (l->rel == RECORD_LINK_FULLTEXT &&
		    feed_file_label(&h->tmp, h->lang, l) == 0) {
			if (l->lang != NULL)
				buf_printf(&h->tmp, ", %s", l->lang);
			xw_text(&h->w, " (");
			xw_text(&h->w, h->tmp.data);
			xw_text(&h->w, ")");
		}
		xw_end(&h->w);
	}
	if (n > 0) {
		xw_end(&h->w);
		xw_end(&h->w);
	}
}

/* Abstract i of r as a section in its language. */
static void
abstract(struct feed_html *h, const struct record *r, size_t i)
{
	xw_start(&h->w, "section");
	if (r->abstracts[i].lang != NULL)
		xw_attr(&h->w, "lang", r->abstracts[i].lang);
	buf_reset(&h->tmp);
	if (r->nabstracts > 1 && r->abstracts[i].lang != NULL &&
	    buf_printf(&h->tmp, feed_html_msg(h, I18N_ABSTRACT_IN),
	    r->abstracts[i].lang) == 0)
		xw_elem(&h->w, "h2", h->tmp.data);
	else
		xw_elem(&h->w, "h2", feed_html_msg(h, I18N_ABSTRACT));
	xw_elem(&h->w, "p", r->abstracts[i].text);
	xw_end(&h->w);
}

static void
body(struct feed_html *h, const struct snap *s, const struct record *r)
{
	const char			*title, *tlang;
	char				 day[DATE_ISO_LEN];
	size_t				 i;

	xw_start(&h->w, "article");
	feed_html_elem(h, "p", "kind", feed_type_label(h->lang, r->type));
	title = feed_record_title_in(r, h->lang, &tlang);
	xw_start(&h->w, "h1");
	xw_attr(&h->w, "lang", tlang);
	xw_text(&h->w, title);
	xw_end(&h->w);
	for (i = 0; i < r->nsubtitles; i++) {
		xw_start(&h->w, "p");
		xw_attr(&h->w, "class", "subtitle");
		xw_attr(&h->w, "lang", r->subtitles[i].lang);
		xw_text(&h->w, r->subtitles[i].text);
		xw_end(&h->w);
	}
	for (i = 0; i < r->ntitles; i++) {
		if (r->titles[i].text == title)
			continue;
		xw_start(&h->w, "p");
		xw_attr(&h->w, "class", "meta");
		xw_attr(&h->w, "lang", r->titles[i].lang);
		xw_text(&h->w, r->titles[i].text);
		xw_end(&h->w);
	}
	xw_start(&h->w, "dl");
	xw_attr(&h->w, "class", "facts");
	agents(h, feed_html_msg(h, r->type == RECORD_EVENT ? I18N_ORGANISERS :
	    I18N_AUTHORS), r->creators, r->ncreators);
	agents(h, feed_html_msg(h, I18N_CONTRIBUTORS), r->contributors,
	    r->ncontributors);
	if (r->event != NULL) {
		if (feed_event_when(&h->tmp, r->event) == 0) {
			dt(h, feed_html_msg(h, I18N_WHEN));
			xw_start(&h->w, "dd");
			date_fmt(&r->event->start, day);
			xw_start(&h->w, "time");
			xw_attr(&h->w, "datetime", day);
			xw_text(&h->w, h->tmp.data);
			xw_end(&h->w);
			xw_end(&h->w);
		}
		buf_reset(&h->tmp);
		if (r->event->place != NULL && buf_printf(&h->tmp, "%s%s%s%s",
		    r->event->place, r->event->country != NULL ? " (" : "",
		    r->event->country != NULL ? r->event->country : "",
		    r->event->country != NULL ? ")" : "") == 0)
			dd_text(h, feed_html_msg(h, I18N_WHERE), h->tmp.data);
	}
	date_fmt(&r->issued, day);
	dt(h, feed_html_msg(h, r->type == RECORD_EVENT ? I18N_ANNOUNCED :
	    I18N_PUBLISHED));
	xw_start(&h->w, "dd");
	xw_start(&h->w, "time");
	xw_attr(&h->w, "datetime", day);
	/* for a reader the day, as the lists say; the instant for machines */
	date_fmt_coarse(&r->issued, day);
	xw_text(&h->w, day);
	xw_end(&h->w);
	xw_end(&h->w);
	dd_text(h, feed_html_msg(h, I18N_PUBLISHER), r->publisher);
	dd_text(h, feed_html_msg(h, I18N_PLACE), r->place);
	dd_text(h, feed_html_msg(h, I18N_SERIES), r->series);
	buf_reset(&h->tmp);
	for (i = 0; i < r->nlanguages; i++)
		buf_printf(&h->tmp, "%s%s", i > 0 ? ", " : "",
		    r->languages[i]);
	if (h->tmp.len > 0)
		dd_text(h, feed_html_msg(h, I18N_LANGUAGES), h->tmp.data);
	idents(h, r);
	dd_text(h, feed_html_msg(h, I18N_RIGHTS), r->rights);
	if (r->license != NULL) {
		dt(h, feed_html_msg(h, I18N_LICENCE));
		xw_start(&h->w, "dd");
		xw_start(&h->w, "a");
		xw_attr(&h->w, "rel", "license");
		xw_attr(&h->w, "href", r->license);
		xw_text(&h->w, r->license);
		xw_end(&h->w);
		xw_end(&h->w);
	}
	buf_reset(&h->tmp);
	for (i = 0; i < r->nsubjects; i++)
		buf_printf(&h->tmp, "%s%s", i > 0 ? "; " : "",
		    r->subjects[i].text);
	if (h->tmp.len > 0)
		dd_text(h, feed_html_msg(h, I18N_KEYWORDS), h->tmp.data);
	if (r->nsets > 0) {
		dt(h, feed_html_msg(h, I18N_COLLECTIONS));
		xw_start(&h->w, "dd");
		xw_start(&h->w, "ul");
		xw_attr(&h->w, "class", "plain");
		for (i = 0; i < r->nsets; i++) {
			const struct snap_set *set = snap_set_find(s,
			    r->sets[i]);

			xw_start(&h->w, "li");
			buf_reset(&h->tmp);
			if (buf_printf(&h->tmp, "/sets/%s.html",
			    r->sets[i]) == 0)
				feed_html_page_a(h, h->tmp.data, set != NULL &&
				    set->name != NULL ? set->name :
				    r->sets[i]);
			xw_end(&h->w);
		}
		xw_end(&h->w);
		xw_end(&h->w);
	}
	xw_end(&h->w);		/* dl */
	/* the abstract in the page's language first */
	for (i = 0; i < r->nabstracts; i++) {
		size_t	 k = i;

		if (r->nabstracts > 1) {
			const struct record_text *ab = feed_text_for(
			    r->abstracts, r->nabstracts, r->lang, h->lang,
			    &tlang);
			size_t	 first = (size_t)(ab - r->abstracts);

			k = i == 0 ? first : i <= first ? i - 1 : i;
		}
		abstract(h, r, k);
	}
	files(h, r);
	xw_start(&h->w, "section");
	xw_elem(&h->w, "h2", feed_html_msg(h, I18N_METADATA));
	xw_start(&h->w, "ul");
	for (i = 0; oai_prefix(i) != NULL; i++) {
		if (!oai_offered(i, r) ||
		    getrecord_url(&h->url, s, r, oai_prefix(i)) == -1)
			continue;
		xw_start(&h->w, "li");
		xw_start(&h->w, "a");
		xw_attr(&h->w, "href", h->url.data);
		xw_attr(&h->w, "type", "application/xml");
		xw_text(&h->w, oai_prefix(i));
		xw_text(&h->w, " (OAI-PMH)");
		xw_end(&h->w);
		xw_end(&h->w);
	}
	xw_end(&h->w);
	xw_end(&h->w);
	xw_end(&h->w);		/* article */
}

int
feed_render_record(const struct feed_conf *c, const struct snap *s,
    const struct record *r, enum i18n_lang l, struct buf *out,
    struct err *e)
{
	const struct record_link	*landing;
	struct feed_html		 h;
	struct signpost			 sp;
	struct buf			 self, page;
	const char			*tlang;
	int				 rc, jfail;

	buf_init(&self, FEED_URL_MAX);
	buf_init(&page, FEED_URL_MAX);
	if (page_url(&self, c, r) == -1 || buf_printf(&page,
	    FEED_RECORD_PREFIX "%s.html", r->id) == -1) {
		buf_release(&self);
		buf_release(&page);
		return err_set(e, "%s: landing page URL too long", r->id);
	}
	if (feed_html_open(&h, c, out, l, page.data,
	    feed_record_title_in(r, l, &tlang)) == -1) {
		buf_release(&self);
		buf_release(&page);
		return err_set(e, "%s: cannot start the XML writer", r->id);
	}
	/*
	 * The record's own landing page when it has one; else this language
	 * version itself (each version is canonical for its language, the
	 * hreflang alternates tie them together).
	 */
	landing = record_link_find(r, RECORD_LINK_LANDING);
	if (landing != NULL || feed_html_page_url(&h, page.data) == 0) {
		xw_start(&h.w, "link");
		xw_attr(&h.w, "rel", "canonical");
		xw_attr(&h.w, "href", landing != NULL ? landing->href :
		    h.url.data);
		xw_end(&h.w);
	}
	citation_meta(&h, r);
	if (signpost(&sp, c, s, r) == 0)
		sp_html(&sp, &h);
	sp_release(&sp);
	jfail = write_jsonld(&h, r, self.data) == -1;
	feed_html_body(&h);
	body(&h, s, r);
	rc = feed_html_close(&h, r->id, e);
	if (rc == 0 && jfail)
		rc = err_set(e, "%s: cannot write the JSON-LD", r->id);
	buf_release(&self);
	buf_release(&page);
	return rc;
}
