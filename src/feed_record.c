/*
 * feed_record.c: a record's landing page, for people and for machines:
 * Highwire Press citation_* meta tags (what Google Scholar's inclusion
 * guidelines read), schema.org JSON-LD (built with jansson, never pasted
 * together) and FAIR Signposting typed links, as <link> elements here and
 * as the Link header that feed_doc_links() gives HTTP.  The page depends on
 * the record and the configuration only (feed_build.c carries it over on
 * that condition).
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

/* Signposting */

/*
 * Every typed link of the page, once: writes the Link header value into
 * hdr (when not NULL) and <link> elements into h (when not NULL).
 */
struct signpost {
	struct buf		*hdr;
	struct feed_html	*h;
	int			 failed;
};

static void
sp_link(struct signpost *sp, const char *href, const char *rel,
    const char *type, const char *profile)
{
	if (sp->hdr != NULL && !sp->failed) {
		/* hrefs are checked URLs (no '<', '>', '"' or space) */
		if (buf_printf(sp->hdr, "%s<%s>; rel=\"%s\"",
		    sp->hdr->len > 0 ? ", " : "", href, rel) == -1 ||
		    (type != NULL && buf_printf(sp->hdr, "; type=\"%s\"",
		    type) == -1) ||
		    (profile != NULL && buf_printf(sp->hdr,
		    "; profile=\"%s\"", profile) == -1))
			sp->failed = 1;
	}
	if (sp->h != NULL) {
		xw_start(&sp->h->w, "link");
		xw_attr(&sp->h->w, "rel", rel);
		xw_attr(&sp->h->w, "href", href);
		xw_attr(&sp->h->w, "type", type);
		xw_attr(&sp->h->w, "profile", profile);
		xw_end(&sp->h->w);
	}
}

static int
signpost(struct signpost *sp, const struct feed_conf *c, const struct snap *s,
    const struct record *r)
{
	const struct record_ident	*doi;
	struct buf			 u;
	size_t				 i;

	buf_init(&u, FEED_URL_MAX);
	if ((doi = record_ident_find(r, RECORD_ID_DOI)) != NULL) {
		if (buf_printf(&u, DOI_URL "%s", doi->value) == 0)
			sp_link(sp, u.data, "cite-as", NULL, NULL);
	} else if (page_url(&u, c, r) == 0)
		sp_link(sp, u.data, "cite-as", NULL, NULL);
	for (i = 0; i < r->ncreators; i++) {
		if (r->creators[i].orcid == NULL)
			continue;
		buf_reset(&u);
		if (buf_printf(&u, ORCID_URL "%s", r->creators[i].orcid) == 0)
			sp_link(sp, u.data, "author", NULL, NULL);
	}
	sp_link(sp, SCHEMA "AboutPage", "type", NULL, NULL);
	buf_reset(&u);
	if (buf_printf(&u, SCHEMA "%s", feed_schema_type(r->type)) == 0)
		sp_link(sp, u.data, "type", NULL, NULL);
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_FULLTEXT)
			sp_link(sp, r->links[i].href, "item", r->links[i].type,
			    NULL);
	/* the formats the OAI-PMH module disseminates r in, no other */
	for (i = 0; oai_prefix(i) != NULL; i++)
		if (oai_offered(i, r) &&
		    getrecord_url(&u, s, r, oai_prefix(i)) == 0)
			sp_link(sp, u.data, "describedby", "application/xml",
			    oai_prefix_ns(i));
	if (r->license != NULL)
		sp_link(sp, r->license, "license", NULL, NULL);
	buf_release(&u);
	return sp->failed ? -1 : 0;
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
	struct feed_conf		 fc;
	struct signpost			 sp;
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
	/* only base_url is read from fc: no feed_conf_init() hash */
	memset(&fc, 0, sizeof(fc));
	fc.base_url = s->conf->base_url;
	memset(&sp, 0, sizeof(sp));
	sp.hdr = out;
	if (signpost(&sp, &fc, s, r) == -1)
		goto out;
	record_cache_add(r, FEED_TAG_SIGNPOST, key.data, key.len, out->data,
	    out->len);
	rc = 1;
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
	json_t	*o;
	char	*s, *p;
	int	 rc = -1;

	if ((o = jsonld(h, r, url)) == NULL)
		return -1;
	s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return -1;
	buf_reset(&h->tmp);
	for (p = s; *p != '\0'; p++) {
		if (*p == '<' || *p == '>' || *p == '&') {
			if (buf_printf(&h->tmp, "\\u%04x", (unsigned)*p) == -1)
				goto out;
		} else if (buf_addch(&h->tmp, *p) == -1)
			goto out;
	}
	xw_start(&h->w, "script");
	xw_attr(&h->w, "type", "application/ld+json");
	xw_raw(&h->w, "\n", 1);
	xw_raw(&h->w, h->tmp.data, h->tmp.len);
	xw_raw(&h->w, "\n", 1);
	xw_end(&h->w);
	rc = 0;
out:
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
	memset(&sp, 0, sizeof(sp));
	sp.h = &h;
	signpost(&sp, c, s, r);
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
