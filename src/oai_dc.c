/*
 * oai_dc: unqualified Dublin Core, the format every OAI-PMH repository must
 * offer, written the way the OpenAIRE Guidelines for Literature Repositories
 * (v3, DRIVER lineage) ask for it: an info:eu-repo publication type first,
 * an info:eu-repo access level in dc:rights when the record states one, alternative identifiers as
 * info:eu-repo/semantics/altIdentifier relations, ISO 639-3 languages
 * ("best practice" there; a 639-1 code not in the table is passed as is).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lang.h"
#include "oai_fmt.h"
#include "banned.h"

#define DC_NS		"http://purl.org/dc/elements/1.1/"
#define OAI_DC_NS	"http://www.openarchives.org/OAI/2.0/oai_dc/"
#define OAI_DC_XSD	"http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
#define EU_REPO		"info:eu-repo/semantics/"

/* info:eu-repo publication type, then the DCMI Type Vocabulary term. */
static void
dc_types(struct xw *xw, enum record_type t)
{
	const char	*eu, *dcmi = "Text";
	char		 tmp[64];

	switch (t) {
	case RECORD_REPORT:
	case RECORD_POLICY_BRIEF:
		eu = "report";
		break;
	case RECORD_WORKING_PAPER:
		eu = "workingPaper";
		break;
	case RECORD_BOOK:
		eu = "book";
		break;
	case RECORD_CHAPTER:
		eu = "bookPart";
		break;
	case RECORD_ARTICLE:
		eu = "article";
		break;
	case RECORD_PRESENTATION:
		/* "conference presentation (slides)" in the DRIVER list */
		eu = "conferenceObject";
		break;
	case RECORD_DATASET:
		eu = "other";
		dcmi = "Dataset";
		break;
	case RECORD_EVENT:
		eu = "other";
		dcmi = "Event";
		break;
	default:
		eu = "other";
		break;
	}
	snprintf(tmp, sizeof(tmp), EU_REPO "%s", eu);
	xw_elem(xw, "dc:type", tmp);
	xw_elem(xw, "dc:type", dcmi);
	/* the free-text subtype OpenAIRE allows as a later dc:type */
	if (strcmp(oai_fmt_type_label(t), dcmi) != 0)
		xw_elem(xw, "dc:type", oai_fmt_type_label(t));
}

/*
 * The info:eu-repo version type of a COAR version, where the two
 * vocabularies agree; NULL for a proof, "not applicable" or none.
 */
static const char *
dc_version(const char *v)
{
	if (v == NULL)
		return NULL;
	if (strcmp(v, "VoR") == 0 || strcmp(v, "CVoR") == 0 ||
	    strcmp(v, "EVoR") == 0)
		return EU_REPO "publishedVersion";
	if (strcmp(v, "AM") == 0)
		return EU_REPO "acceptedVersion";
	if (strcmp(v, "SMUR") == 0)
		return EU_REPO "submittedVersion";
	if (strcmp(v, "AO") == 0)
		return EU_REPO "draft";
	return NULL;
}

/* "Title: Subtitle" per language, the subtitle paired by xml:lang. */
static int
dc_titles(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const struct record_text *t, *sub;
	size_t	 i;

	for (i = 0; i < r->ntitles; i++) {
		t = &r->titles[i];
		sub = oai_fmt_subtitle(r, i);
		buf_reset(tmp);
		if (buf_addstr(tmp, t->text) == -1 || (sub != NULL &&
		    buf_printf(tmp, ": %s", sub->text) == -1))
			return -1;
		xw_elem_lang(xw, "dc:title", t->lang, tmp->data);
	}
	return 0;
}

static int
dc_agents(struct xw *xw, const char *elem, const struct record_agent *a,
    size_t n, struct buf *tmp)
{
	const char	*name;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if ((name = oai_fmt_name(&a[i], tmp)) == NULL)
			return -1;
		xw_elem(xw, elem, name);
	}
	return 0;
}

/* An identifier as an actionable URI where one exists. */
static int
dc_ident_uri(const struct record_ident *id, struct buf *tmp)
{
	buf_reset(tmp);
	switch (id->kind) {
	case RECORD_ID_DOI:
		return buf_printf(tmp, "https://doi.org/%s", id->value);
	case RECORD_ID_ISBN:
		return buf_printf(tmp, "urn:isbn:%s", id->value);
	case RECORD_ID_ISSN:
		return buf_printf(tmp, "urn:issn:%s", id->value);
	case RECORD_ID_HANDLE:
		return buf_printf(tmp, "https://hdl.handle.net/%s", id->value);
	default:
		return buf_addstr(tmp, id->value);
	}
}

/*
 * The landing page comes first, as an http URL: the record's own, else
 * pubfeed's (oai_landing_here()).  The OpenAIRE Guidelines (dc:identifier:
 * "a link to a jump-off page") and BASE, which links its hits through an
 * http dc:identifier, take the first one to send readers to.
 */
static int
dc_identifiers(struct xw *xw, const struct oai_conf *oc,
    const struct record *r, struct buf *tmp)
{
	size_t	 i;

	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_LANDING)
			xw_elem(xw, "dc:identifier", r->links[i].href);
	if (record_link_find(r, RECORD_LINK_LANDING) == NULL &&
	    oai_landing_here(oc, r, tmp) == 0)
		xw_elem(xw, "dc:identifier", tmp->data);
	for (i = 0; i < r->nidents; i++) {
		/* an ISSN names the series or journal, not this item */
		if (r->idents[i].kind == RECORD_ID_ISSN)
			continue;
		if (dc_ident_uri(&r->idents[i], tmp) == -1)
			return -1;
		xw_elem(xw, "dc:identifier", tmp->data);
	}
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_FULLTEXT)
			xw_elem(xw, "dc:identifier", r->links[i].href);
	return 0;
}

static int
dc_relations(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const char	*scheme;
	size_t		 i;

	xw_elem(xw, "dc:relation", r->series);
	for (i = 0; i < r->nidents; i++) {
		const struct record_ident *id = &r->idents[i];

		switch (id->kind) {
		case RECORD_ID_ISSN:
			if (dc_ident_uri(id, tmp) == -1)
				return -1;
			xw_elem(xw, "dc:relation", tmp->data);
			continue;
		case RECORD_ID_DOI:
			scheme = "doi";
			break;
		case RECORD_ID_ISBN:
			scheme = "isbn";
			break;
		case RECORD_ID_HANDLE:
			scheme = "hdl";
			break;
		case RECORD_ID_URN:
			scheme = "urn";
			break;
		default:
			continue;
		}
		buf_reset(tmp);
		if (buf_printf(tmp, EU_REPO "altIdentifier/%s/%s", scheme,
		    id->value) == -1)
			return -1;
		xw_elem(xw, "dc:relation", tmp->data);
	}
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_RELATED)
			xw_elem(xw, "dc:relation", r->links[i].href);
	return 0;
}

static void
dc_formats(struct xw *xw, const struct record *r)
{
	size_t	 i;

	for (i = 0; i < r->nlinks; i++)
		if (oai_fmt_new_format(r, i))
			xw_elem(xw, "dc:format", r->links[i].type);
}

/* Where and when an event took place. */
static int
dc_coverage(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const struct record_event *ev = r->event;
	char	 a[DATE_ISO_LEN], b[DATE_ISO_LEN];

	if (ev == NULL)
		return 0;
	buf_reset(tmp);
	if (ev->place != NULL && buf_addstr(tmp, ev->place) == -1)
		return -1;
	if (ev->country != NULL && buf_printf(tmp, "%s%s",
	    tmp->len > 0 ? ", " : "", ev->country) == -1)
		return -1;
	if (tmp->len > 0)
		xw_elem(xw, "dc:coverage", tmp->data);
	date_fmt(&ev->start, a);
	date_fmt(&ev->end, b);
	buf_reset(tmp);
	if (strcmp(a, b) == 0 ? buf_addstr(tmp, a) == -1 :
	    buf_printf(tmp, "%s/%s", a, b) == -1)
		return -1;
	xw_elem(xw, "dc:coverage", tmp->data);
	return 0;
}

/*
 * The info:eu-repo access level OpenAIRE (v3) reads from dc:rights, only
 * as the record states it: a record that says nothing about access gets no
 * access level, whatever links it has.  An embargo's end goes in dc:date
 * as info:eu-repo/date/embargoEnd/YYYY-MM-DD, as those guidelines ask.
 */
static void
dc_rights(struct xw *xw, const struct record *r)
{
	char	 day[DATE_DAY_LEN], tmp[64];

	xw_elem(xw, "dc:rights", oai_fmt_eurepo_access(r->access));
	xw_elem(xw, "dc:rights", r->rights);
	xw_elem(xw, "dc:rights", r->license);
	if (r->access == RECORD_ACCESS_EMBARGOED) {
		date_fmt_day(r->embargo_end.t, day);
		snprintf(tmp, sizeof(tmp), "info:eu-repo/date/embargoEnd/%s",
		    day);
		xw_elem(xw, "dc:date", tmp);
	}
}

static int
dc_body(struct xw *xw, const struct oai_conf *oc, const struct record *r,
    struct buf *tmp, struct buf *tmp2)
{
	static const char *const decls[] = {
		"xmlns:oai_dc", OAI_DC_NS, "xmlns:dc", DC_NS, NULL
	};
	char		 day[DATE_DAY_LEN];
	const char	*code;
	char		 c3[LANG_CODE_LEN];
	size_t		 i;

	(void)tmp2;
	oai_fmt_root(xw, "oai_dc:dc", decls, OAI_DC_NS, OAI_DC_XSD);
	if (dc_titles(xw, r, tmp) == -1 ||
	    dc_agents(xw, "dc:creator", r->creators, r->ncreators,
	    tmp) == -1)
		return -1;
	for (i = 0; i < r->nsubjects; i++)
		xw_elem_lang(xw, "dc:subject", r->subjects[i].lang,
		    r->subjects[i].text);
	for (i = 0; i < r->nabstracts; i++)
		xw_elem_lang(xw, "dc:description", r->abstracts[i].lang,
		    r->abstracts[i].text);
	xw_elem(xw, "dc:publisher", r->publisher);
	if (dc_agents(xw, "dc:contributor", r->contributors,
	    r->ncontributors, tmp) == -1)
		return -1;
	date_fmt_coarse(r->event != NULL ? &r->event->start : &r->issued, day);
	xw_elem(xw, "dc:date", day);
	dc_types(xw, r->type);
	xw_elem(xw, "dc:type", dc_version(r->version));
	dc_formats(xw, r);
	if (dc_identifiers(xw, oc, r, tmp) == -1)
		return -1;
	for (i = 0; i < r->nlanguages; i++) {
		code = lang_iso3(r->languages[i], c3);
		xw_elem(xw, "dc:language", code != NULL ? code :
		    r->languages[i]);
	}
	if (dc_relations(xw, r, tmp) == -1 || dc_coverage(xw, r, tmp) == -1)
		return -1;
	dc_rights(xw, r);
	xw_end(xw);
	return 0;
}

const struct oai_format oai_format_dc = {
	.prefix = "oai_dc",
	.schema = OAI_DC_XSD,
	.ns = OAI_DC_NS,
	.body = dc_body,
};
