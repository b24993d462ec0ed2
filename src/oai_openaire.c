/*
 * oai_openaire: the OpenAIRE Guidelines for Literature Repositories v4.0
 * (metadataPrefix "oai_openaire", root oaire:resource), the only format
 * OpenAIRE's aggregator harvests from literature repositories.
 *
 * A record is offered only when every mandatory field can be filled
 * truthfully: its type has a COAR resource type (events and news items are
 * not research outputs) and it states its access rights (the COAR access
 * right is mandatory and there is no "unknown" in the vocabulary).  The
 * resource identifier never goes missing: every live record has a landing
 * page here (base-url is a required directive), so a record naming no
 * identifier of its own gets pubfeed's (oai_landing_here()).  Title,
 * language and publication date are required by the record format itself.
 *
 * The COAR URIs are those the official schema enumerates
 * (oaire-resourceType-v4.xsd, oaire-accessRight-v4.xsd).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lang.h"
#include "oai_fmt.h"
#include "oai_kernel.h"
#include "banned.h"

#define OAIRE_NS	"http://namespace.openaire.eu/schema/oaire/"
#define OAIRE_XSD	"https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
#define DATACITE_NS	"http://datacite.org/schema/kernel-4"
#define DC_NS		"http://purl.org/dc/elements/1.1/"
#define COAR_TYPE	"http://purl.org/coar/resource_type/"

/*
 * The kernel as the Guidelines embed it: "datacite:" elements, ORCID as a
 * URI, no Translator, no creator when there is none ("mandatory if
 * applicable"), hosts IsPartOf, related links left out (the relation types
 * of their list are all specific), funding in oaire: with a fundingStream.
 */
static const struct oai_kernel kernel = {
	.prefix = "datacite:",
	.funding_prefix = "oaire:",
	.orcid_scheme_uri = "https://orcid.org",
	.orcid_as_uri = 1,
	.funding_stream = 1,
};

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

/*
 * The resource identifier (datacite:identifier, mandatory, occurrence 1):
 * the most persistent one, then the landing page, the record's own or else
 * pubfeed's (here, oai_landing_here()), then a URN or URL.  OpenAIRE
 * Guidelines for Literature Repositories v4, "Resource Identifier (M)"
 * (github.com/openaire/guidelines-literature-repositories,
 * docs/field_resourceidentifier.rst): "The ideal use of this element is
 * to use a direct link or a link to a jump-off page (persistent URL)",
 * identifierType from their list (ARK, DOI, Handle, PURL, URL, URN; the
 * schema spells the handle "HANDLE"); the official sample gives the
 * landing page there as type URL.  What does not win is an
 * alternateIdentifier, "an identifier or identifiers other than the
 * primary Identifier applied to the resource" (field_alternativeidentifier
 * .rst; oai_kernel_alternates()).  here may be NULL (no configuration):
 * then only r's own can win.
 */
static int
oaire_identifier(const struct record *r, const char *here,
    struct oaire_id *out)
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
	if (here != NULL) {
		out->type = "URL";
		out->value = here;
		out->used = here;
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

/*
 * No identifier test: the one r lacks is pubfeed's landing page, which the
 * daemon always has (base-url is required), so acceptance stays a
 * property of the record alone and every record with a COAR type and
 * access right is offered.
 */
static int
oaire_accepts(const struct record *r)
{
	return oaire_type(r->type) != NULL &&
	    oai_fmt_coar_access(r->access, NULL) != NULL;
}

static void
oaire_date(struct xw *xw, const char *type, const char *day)
{
	oai_kernel_typed(xw, &kernel, "date", "dateType", type, NULL, NULL,
	    day);
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
	date_fmt_coarse(&r->issued, day);
	oaire_date(xw, "Issued", day);
	if (r->access == RECORD_ACCESS_EMBARGOED) {
		oaire_date(xw, "Accepted", day);
		date_fmt_day(r->embargo_end.t, day);
		oaire_date(xw, "Available", day);
	}
	if (r->modified.t != 0) {
		date_fmt_day(r->modified.t, day);
		oaire_date(xw, "Updated", day);
	}
	xw_end(xw);
}

static void
oaire_languages(struct xw *xw, const struct record *r)
{
	const char	*code;
	char		 c3[LANG_CODE_LEN];
	size_t		 i;

	for (i = 0; i < r->nlanguages; i++) {
		code = lang_iso3(r->languages[i], c3);
		xw_elem(xw, "dc:language", code != NULL ? code :
		    r->languages[i]);
	}
}

/* Access right, licence condition, and one oaire:file per full text. */
static void
oaire_rights_files(struct xw *xw, const struct record *r)
{
	const char	*label = NULL, *uri;
	char		 day[DATE_DAY_LEN];
	size_t		 i;

	uri = oai_fmt_coar_access(r->access, &label);
	oai_kernel_typed(xw, &kernel, "rights", "rightsURI", uri, NULL, NULL,
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
	oai_kernel_sizes(xw, &kernel, r);
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
	const char		*here = NULL;
	size_t			 i;

	if (record_link_find(r, RECORD_LINK_LANDING) == NULL &&
	    oai_landing_here(oc, r, tmp2) == 0)
		here = tmp2->data;
	/*
	 * The verbs never ask for a record the format does not accept, and
	 * always with a base_url; without one (oc NULL) a record naming no
	 * identifier has nothing for the mandatory field, and no payload.
	 */
	if (t == NULL || oaire_identifier(r, here, &id) == -1 ||
	    oai_fmt_coar_access(r->access, NULL) == NULL)
		return -1;
	oai_fmt_root(xw, "oaire:resource", decls, OAIRE_NS, OAIRE_XSD);
	oai_kernel_titles(xw, &kernel, r);
	if (oai_kernel_creators(xw, &kernel, r, tmp) == -1 ||
	    oai_kernel_contributors(xw, &kernel, r, tmp) == -1 ||
	    oai_kernel_funding(xw, &kernel, r, tmp) == -1)
		return -1;
	oai_kernel_alternates(xw, &kernel, r, id.used,
	    id.used != here ? here : NULL);
	oai_kernel_related(xw, &kernel, r);
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
	oai_kernel_typed(xw, &kernel, "identifier", "identifierType", id.type,
	    NULL, NULL, id.value);
	oaire_rights_files(xw, r);
	oai_kernel_subjects(xw, &kernel, r);
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
