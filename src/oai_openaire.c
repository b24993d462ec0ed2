/*
 * oai_openaire: the OpenAIRE Guidelines for Literature Repositories v4.0
 * (metadataPrefix "oai_openaire", root oaire:resource), the only format
 * OpenAIRE's aggregator harvests from literature repositories.
 *
 * A record is offered only when every mandatory field can be filled
 * truthfully: its type has a COAR resource type (events and news items are
 * not research outputs), it states its access rights (the COAR access
 * right is mandatory and there is no "unknown" in the vocabulary), and it
 * has a resource identifier (DOI, handle, landing page, URN or URL).  Title,
 * language and publication date are required by the record format itself.
 *
 * The COAR URIs are those the official schema enumerates
 * (oaire-resourceType-v4.xsd, oaire-accessRight-v4.xsd).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "oai_fmt.h"
#include "banned.h"

#define OAIRE_NS	"http://namespace.openaire.eu/schema/oaire/"
#define OAIRE_XSD	"https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
#define DATACITE_NS	"http://datacite.org/schema/kernel-4"
#define DC_NS		"http://purl.org/dc/elements/1.1/"
#define COAR_TYPE	"http://purl.org/coar/resource_type/"

struct oaire_type {
	const char	*general;	/* resourceTypeGeneral */
	const char	*uri;
	const char	*label;		/* the COAR preferred label */
};

/* The COAR resource type of a record type; NULL when there is none. */
static const struct oaire_type *
oaire_type(enum record_type t)
{
	static const struct oaire_type types[RECORD_TYPE_COUNT] = {
		[RECORD_REPORT] = { "literature", COAR_TYPE "c_93fc",
		    "report" },
		[RECORD_POLICY_BRIEF] = { "literature", COAR_TYPE "c_186u",
		    "policy report" },
		[RECORD_WORKING_PAPER] = { "literature", COAR_TYPE "c_8042",
		    "working paper" },
		[RECORD_BOOK] = { "literature", COAR_TYPE "c_2f33", "book" },
		[RECORD_CHAPTER] = { "literature", COAR_TYPE "c_3248",
		    "book part" },
		[RECORD_ARTICLE] = { "literature", COAR_TYPE "c_6501",
		    "journal article" },
		[RECORD_DATASET] = { "dataset", COAR_TYPE "c_ddb1",
		    "dataset" },
		/* slides of a talk: the DRIVER "conferenceObject" */
		[RECORD_PRESENTATION] = { "literature", COAR_TYPE "c_c94f",
		    "conference object" },
	};

	if ((unsigned)t >= RECORD_TYPE_COUNT || types[t].uri == NULL)
		return NULL;
	return &types[t];
}

struct oaire_id {
	const char	*type;		/* identifierType */
	const char	*value;
	const void	*used;		/* the ident or link it came from */
};

/* The resource identifier: the most persistent one, then the landing page. */
static int
oaire_identifier(const struct record *r, struct oaire_id *out)
{
	static const struct {
		enum record_id_kind	 kind;
		const char		*type;
	} order[] = {
		{ RECORD_ID_DOI, "DOI" }, { RECORD_ID_HANDLE, "HANDLE" },
	};
	size_t	 i, k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (i = 0; i < r->nidents; i++)
			if (r->idents[i].kind == order[k].kind) {
				out->type = order[k].type;
				out->value = r->idents[i].value;
				out->used = &r->idents[i];
				return 0;
			}
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_LANDING) {
			out->type = "URL";
			out->value = r->links[i].href;
			out->used = &r->links[i];
			return 0;
		}
	for (i = 0; i < r->nidents; i++)
		if (r->idents[i].kind == RECORD_ID_URN ||
		    r->idents[i].kind == RECORD_ID_URL) {
			out->type = r->idents[i].kind == RECORD_ID_URN ?
			    "URN" : "URL";
			out->value = r->idents[i].value;
			out->used = &r->idents[i];
			return 0;
		}
	return -1;
}

static int
oaire_accepts(const struct record *r)
{
	struct oaire_id	 id;

	return oaire_type(r->type) != NULL &&
	    oai_fmt_coar_access(r->access, NULL) != NULL &&
	    oaire_identifier(r, &id) == 0;
}

static void
oaire_titles(struct xw *xw, const struct record *r)
{
	size_t	 i;

	xw_start(xw, "datacite:titles");
	for (i = 0; i < r->ntitles; i++) {
		xw_start(xw, "datacite:title");
		if (r->titles[i].lang != NULL)
			xw_attr(xw, "xml:lang", r->titles[i].lang);
		if (i > 0)
			xw_attr(xw, "titleType", "TranslatedTitle");
		xw_text(xw, r->titles[i].text);
		xw_end(xw);
	}
	for (i = 0; i < r->nsubtitles; i++) {
		xw_start(xw, "datacite:title");
		if (r->subtitles[i].lang != NULL)
			xw_attr(xw, "xml:lang", r->subtitles[i].lang);
		xw_attr(xw, "titleType", "Subtitle");
		xw_text(xw, r->subtitles[i].text);
		xw_end(xw);
	}
	xw_end(xw);
}

/* name, given and family name, ORCID, affiliation of a creator/contributor */
static int
oaire_agent(struct xw *xw, const char *elem, const struct record_agent *a,
    struct buf *tmp)
{
	const char	*name;
	int		 is_person = a->kind == RECORD_PERSON;

	if ((name = oai_fmt_name(a, tmp)) == NULL)
		return -1;
	xw_start(xw, elem);
	xw_attr(xw, "nameType", is_person ? "Personal" : "Organizational");
	xw_text(xw, name);
	xw_end(xw);
	if (is_person) {
		xw_elem(xw, "datacite:givenName", a->given);
		xw_elem(xw, "datacite:familyName", a->family);
	}
	if (a->orcid != NULL) {
		buf_reset(tmp);
		if (buf_printf(tmp, "https://orcid.org/%s", a->orcid) == -1)
			return -1;
		xw_start(xw, "datacite:nameIdentifier");
		xw_attr(xw, "nameIdentifierScheme", "ORCID");
		xw_attr(xw, "schemeURI", "https://orcid.org");
		xw_text(xw, tmp->data);
		xw_end(xw);
	}
	xw_elem(xw, "datacite:affiliation", a->affiliation);
	return 0;
}

static int
oaire_creators(struct xw *xw, const struct record *r, struct buf *tmp)
{
	size_t	 i;

	if (r->ncreators == 0)
		return 0;	/* "mandatory if applicable" */
	xw_start(xw, "datacite:creators");
	for (i = 0; i < r->ncreators; i++) {
		xw_start(xw, "datacite:creator");
		if (oaire_agent(xw, "datacite:creatorName", &r->creators[i],
		    tmp) == -1)
			return -1;
		xw_end(xw);
	}
	xw_end(xw);
	return 0;
}

/* contributorType of a role; NULL for funders (they are funding refs). */
static const char *
oaire_contrib_type(const char *role)
{
	if (role != NULL && strcasecmp(role, "editor") == 0)
		return "Editor";
	if (role != NULL && strcasecmp(role, "funder") == 0)
		return NULL;
	/* translator, reviewer, speaker, ... have no term in the list */
	return "Other";
}

static int
oaire_contributors(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const char	*type;
	size_t		 i;
	int		 open = 0;

	for (i = 0; i < r->ncontributors; i++) {
		if ((type = oaire_contrib_type(r->contributors[i].role)) ==
		    NULL)
			continue;
		if (!open++)
			xw_start(xw, "datacite:contributors");
		xw_start(xw, "datacite:contributor");
		xw_attr(xw, "contributorType", type);
		if (oaire_agent(xw, "datacite:contributorName",
		    &r->contributors[i], tmp) == -1)
			return -1;
		xw_end(xw);
	}
	if (open)
		xw_end(xw);
	return 0;
}

static const char *
oaire_funder_type(enum record_funder_scheme s)
{
	switch (s) {
	case RECORD_FUNDER_CROSSREF:
		return "Crossref Funder ID";
	case RECORD_FUNDER_ROR:
		return "ROR";
	case RECORD_FUNDER_ISNI:
		return "ISNI";
	case RECORD_FUNDER_GRID:
		return "GRID";
	default:
		return "Other";
	}
}

/*
 * The record's funding references, then contributors in the funder role
 * that no funding reference names (older records say it that way).
 */
static int
oaire_funding(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const struct record_funding *f;
	const char	*name;
	size_t		 i, j;
	int		 open = 0;

	for (i = 0; i < r->nfundings; i++) {
		f = &r->fundings[i];
		if (!open++)
			xw_start(xw, "oaire:fundingReferences");
		xw_start(xw, "oaire:fundingReference");
		xw_elem(xw, "oaire:funderName", f->funder);
		if (f->funder_id != NULL) {
			xw_start(xw, "oaire:funderIdentifier");
			xw_attr(xw, "funderIdentifierType",
			    oaire_funder_type(f->funder_scheme));
			xw_text(xw, f->funder_id);
			xw_end(xw);
		}
		xw_elem(xw, "oaire:fundingStream", f->programme);
		if (f->award_number != NULL || f->award_uri != NULL) {
			xw_start(xw, "oaire:awardNumber");
			xw_attr(xw, "awardURI", f->award_uri);
			xw_text(xw, f->award_number != NULL ?
			    f->award_number : "");
			xw_end(xw);
		}
		xw_elem(xw, "oaire:awardTitle", f->award_title);
		xw_end(xw);
	}
	for (i = 0; i < r->ncontributors; i++) {
		if (oaire_contrib_type(r->contributors[i].role) != NULL)
			continue;
		if ((name = oai_fmt_name(&r->contributors[i], tmp)) == NULL)
			return -1;
		for (j = 0; j < r->nfundings; j++)
			if (strcmp(r->fundings[j].funder, name) == 0)
				break;
		if (j < r->nfundings)
			continue;
		if (!open++)
			xw_start(xw, "oaire:fundingReferences");
		xw_start(xw, "oaire:fundingReference");
		xw_elem(xw, "oaire:funderName", name);
		xw_end(xw);
	}
	if (open)
		xw_end(xw);
	return 0;
}

static void
oaire_typed(struct xw *xw, const char *elem, const char *attr,
    const char *type, const char *attr2, const char *v2, const char *text)
{
	xw_start(xw, elem);
	xw_attr(xw, attr, type);
	if (attr2 != NULL)
		xw_attr(xw, attr2, v2);
	xw_text(xw, text);
	xw_end(xw);
}

/*
 * Alternate identifiers: every identifier of this item but the resource
 * identifier; an ISSN (and a chapter's ISBN) names the host, so it is a
 * related identifier instead.
 */
static void
oaire_alternates(struct xw *xw, const struct record *r, const void *used)
{
	static const char *const names[] = {
		[RECORD_ID_DOI] = "DOI", [RECORD_ID_ISBN] = "ISBN",
		[RECORD_ID_ISSN] = "ISSN", [RECORD_ID_HANDLE] = "Handle",
		[RECORD_ID_URN] = "URN", [RECORD_ID_URL] = "URL",
	};
	const struct record_ident *id;
	size_t	 i;
	int	 open = 0;

	for (i = 0; i < r->nidents; i++) {
		id = &r->idents[i];
		if ((const void *)id == used || id->kind == RECORD_ID_ISSN ||
		    (id->kind == RECORD_ID_ISBN && r->type == RECORD_CHAPTER))
			continue;
		if (!open++)
			xw_start(xw, "datacite:alternateIdentifiers");
		oaire_typed(xw, "datacite:alternateIdentifier",
		    "alternateIdentifierType", names[id->kind], NULL, NULL,
		    id->value);
	}
	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_LANDING ||
		    (const void *)&r->links[i] == used)
			continue;
		if (!open++)
			xw_start(xw, "datacite:alternateIdentifiers");
		oaire_typed(xw, "datacite:alternateIdentifier",
		    "alternateIdentifierType", "URL", NULL, NULL,
		    r->links[i].href);
	}
	if (open)
		xw_end(xw);
}

/*
 * Related identifiers: the host's ISSN or ISBN (IsPartOf).  A related link
 * says no more than "related", and the relation types of the Guidelines'
 * list are all specific, so related links are left out here.
 */
static void
oaire_related(struct xw *xw, const struct record *r)
{
	const struct record_ident *id;
	size_t	 i;
	int	 open = 0;

	for (i = 0; i < r->nidents; i++) {
		id = &r->idents[i];
		if (id->kind != RECORD_ID_ISSN && (id->kind != RECORD_ID_ISBN ||
		    r->type != RECORD_CHAPTER))
			continue;
		if (!open++)
			xw_start(xw, "datacite:relatedIdentifiers");
		oaire_typed(xw, "datacite:relatedIdentifier",
		    "relatedIdentifierType", id->kind == RECORD_ID_ISSN ?
		    "ISSN" : "ISBN", "relationType", "IsPartOf", id->value);
	}
	if (open)
		xw_end(xw);
}

/*
 * Issued; for an embargo the end (Available) and the start (Accepted),
 * which is the publication date: the record is embargoed from the day it
 * is issued.  Updated when the source says when it changed.
 */
static void
oaire_dates(struct xw *xw, const struct record *r)
{
	char	 day[DATE_DAY_LEN];

	xw_start(xw, "datacite:dates");
	date_fmt_day(r->issued.t, day);
	oaire_typed(xw, "datacite:date", "dateType", "Issued", NULL, NULL,
	    day);
	if (r->access == RECORD_ACCESS_EMBARGOED) {
		oaire_typed(xw, "datacite:date", "dateType", "Accepted", NULL,
		    NULL, day);
		date_fmt_day(r->embargo_end.t, day);
		oaire_typed(xw, "datacite:date", "dateType", "Available", NULL,
		    NULL, day);
	}
	if (r->modified.t != 0) {
		date_fmt_day(r->modified.t, day);
		oaire_typed(xw, "datacite:date", "dateType", "Updated", NULL,
		    NULL, day);
	}
	xw_end(xw);
}

static void
oaire_languages(struct xw *xw, const struct record *r)
{
	const char	*code;
	size_t		 i;

	for (i = 0; i < r->nlanguages; i++) {
		code = oai_fmt_lang_t(r->languages[i]);
		xw_elem(xw, "dc:language", code != NULL ? code :
		    r->languages[i]);
	}
}

/* Access right, licence condition, and one oaire:file per full text. */
static int
oaire_rights_files(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const char	*label = NULL, *uri;
	char		 day[DATE_DAY_LEN];
	size_t		 i;
	int		 sizes = 0;

	uri = oai_fmt_coar_access(r->access, &label);
	oaire_typed(xw, "datacite:rights", "rightsURI", uri, NULL, NULL,
	    label);
	if (r->license != NULL || r->rights != NULL) {
		xw_start(xw, "oaire:licenseCondition");
		/* an embargoed text is licensed from the embargo's end */
		if (r->access == RECORD_ACCESS_EMBARGOED) {
			date_fmt_day(r->embargo_end.t, day);
			xw_attr(xw, "startDate", day);
		}
		xw_attr(xw, "uri", r->license);
		xw_text(xw, r->rights != NULL ? r->rights : r->license);
		xw_end(xw);
	}
	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_FULLTEXT)
			continue;
		if (r->links[i].length >= 0) {
			if (!sizes++)
				xw_start(xw, "datacite:sizes");
			buf_reset(tmp);
			if (buf_printf(tmp, "%lld bytes",
			    (long long)r->links[i].length) == -1)
				return -1;
			xw_elem(xw, "datacite:size", tmp->data);
		}
	}
	if (sizes)
		xw_end(xw);
	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_FULLTEXT)
			continue;
		xw_start(xw, "oaire:file");
		xw_attr(xw, "accessRightsURI", uri);
		xw_attr(xw, "mimeType", r->links[i].type);
		xw_attr(xw, "objectType", r->type == RECORD_DATASET ?
		    "dataset" : "fulltext");
		xw_text(xw, r->links[i].href);
		xw_end(xw);
	}
	return 0;
}

/* The COAR version type of a JAV abbreviation (the record schema's list). */
static const char *
oaire_version(const char *v)
{
	static const struct {
		const char	*abbr, *uri;
	} map[] = {
		{ "AO", "c_b1a7d7d4d402bcce" }, { "SMUR", "c_71e4c1898caa6e32" },
		{ "AM", "c_ab4af688f83e57aa" }, { "P", "c_fa2ee174bc00049f" },
		{ "VoR", "c_970fb48d4fbd8a85" }, { "CVoR", "c_e19f295774971610" },
		{ "EVoR", "c_dc82b40f9837b551" }, { "NA", "c_be7fb7dd8ff6fe43" },
	};
	size_t	 i;

	for (i = 0; v != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(v, map[i].abbr) == 0)
			return map[i].uri;
	return NULL;
}

static int
oaire_body(struct xw *xw, const struct oai_conf *oc, const struct record *r,
    struct buf *tmp, struct buf *tmp2)
{
	static const char *const decls[] = {
		"xmlns:oaire", OAIRE_NS, "xmlns:datacite", DATACITE_NS,
		"xmlns:dc", DC_NS, NULL
	};
	const struct oaire_type	*t = oaire_type(r->type);
	struct oaire_id		 id;
	size_t			 i;

	(void)oc;
	(void)tmp2;
	/* the verbs never ask for a record the format does not accept */
	if (t == NULL || oaire_identifier(r, &id) == -1 ||
	    oai_fmt_coar_access(r->access, NULL) == NULL)
		return -1;
	oai_fmt_root(xw, "oaire:resource", decls, OAIRE_NS, OAIRE_XSD);
	oaire_titles(xw, r);
	if (oaire_creators(xw, r, tmp) == -1 ||
	    oaire_contributors(xw, r, tmp) == -1 ||
	    oaire_funding(xw, r, tmp) == -1)
		return -1;
	oaire_alternates(xw, r, id.used);
	oaire_related(xw, r);
	oaire_dates(xw, r);
	oaire_languages(xw, r);
	xw_elem(xw, "dc:publisher", r->publisher);
	xw_start(xw, "oaire:resourceType");
	xw_attr(xw, "resourceTypeGeneral", t->general);
	xw_attr(xw, "uri", t->uri);
	xw_text(xw, t->label);
	xw_end(xw);
	for (i = 0; i < r->nabstracts; i++)
		xw_elem_lang(xw, "dc:description", r->abstracts[i].lang,
		    r->abstracts[i].text);
	for (i = 0; i < r->nlinks; i++)
		if (oai_fmt_new_format(r, i))
			xw_elem(xw, "dc:format", r->links[i].type);
	oaire_typed(xw, "datacite:identifier", "identifierType", id.type,
	    NULL, NULL, id.value);
	if (oaire_rights_files(xw, r, tmp) == -1)
		return -1;
	if (r->nsubjects > 0) {
		xw_start(xw, "datacite:subjects");
		for (i = 0; i < r->nsubjects; i++)
			xw_elem_lang(xw, "datacite:subject",
			    r->subjects[i].lang, r->subjects[i].text);
		xw_end(xw);
	}
	if (r->type == RECORD_ARTICLE)
		xw_elem(xw, "oaire:citationTitle", r->series);
	if (oaire_version(r->version) != NULL) {
		buf_reset(tmp);
		if (buf_printf(tmp, "http://purl.org/coar/version/%s",
		    oaire_version(r->version)) == -1)
			return -1;
		xw_start(xw, "oaire:version");
		xw_attr(xw, "uri", tmp->data);
		xw_text(xw, r->version);
		xw_end(xw);
	}
	xw_end(xw);
	return 0;
}

const struct oai_format oai_format_openaire = {
	.prefix = "oai_openaire",
	.schema = OAIRE_XSD,
	.ns = OAIRE_NS,
	.body = oaire_body,
	.accepts = oaire_accepts,
};
