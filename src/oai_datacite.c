/*
 * oai_datacite: a DataCite Metadata Schema kernel-4 <resource> inside the
 * oai_datacite 1.1 wrapper (metadataPrefix "oai_datacite"), the format
 * DataCite's own OAI-PMH provider and OpenAIRE harvest.
 *
 * The wrapper's three children are all required by oai.xsd 1.1.  We are not
 * a DataCite data centre, so datacentreSymbol carries the repository's
 * OAI namespace (its repositoryIdentifier), the closest thing we have to a
 * symbol.  schemaVersion is 4.7: the schemaLocation points at kernel-4,
 * which DataCite serves as the newest 4.x, and "Presentation" and the
 * relation type "Other" exist only since 4.7.
 *
 * Mandatory kernel properties never go missing: the identifier falls back
 * from DOI to handle, URN, landing page, any URL and finally the OAI
 * identifier (the kernel schema leaves identifierType open); creators and
 * publisher fall back to DataCite's "(:unav)" standard value.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "oai_fmt.h"
#include "banned.h"

#define DCO_NS		"http://schema.datacite.org/oai/oai-1.1/"
#define DCO_XSD		"http://schema.datacite.org/oai/oai-1.1/oai.xsd"
#define KERNEL_NS	"http://datacite.org/schema/kernel-4"
#define KERNEL_XSD	"http://schema.datacite.org/meta/kernel-4/metadata.xsd"
#define SCHEMA_VERSION	"4.7"
#define UNAV		"(:unav)"

/* resourceTypeGeneral; "Text" for a type the kernel has no word for. */
static const char *
dcite_type(enum record_type t)
{
	static const char *const types[RECORD_TYPE_COUNT] = {
		[RECORD_REPORT] = "Report", [RECORD_POLICY_BRIEF] = "Report",
		[RECORD_WORKING_PAPER] = "Preprint", [RECORD_BOOK] = "Book",
		[RECORD_CHAPTER] = "BookChapter",
		[RECORD_ARTICLE] = "JournalArticle",
		[RECORD_DATASET] = "Dataset",
		[RECORD_PRESENTATION] = "Presentation",
		[RECORD_EVENT] = "Event",
	};

	if ((unsigned)t >= RECORD_TYPE_COUNT || types[t] == NULL)
		return "Text";
	return types[t];
}

/* contributorType from the kernel's closed list; NULL for funders. */
static const char *
dcite_contrib_type(const char *role)
{
	if (role == NULL)
		return "Other";
	if (strcasecmp(role, "editor") == 0)
		return "Editor";
	if (strcasecmp(role, "translator") == 0)
		return "Translator";
	if (strcasecmp(role, "funder") == 0)
		return NULL;
	/* reviewer, speaker, moderator, organiser have no kernel term */
	return "Other";
}

/* The kernel's mandatory identifier: the most persistent one we hold. */
static int
dcite_identifier(struct xw *xw, const struct oai_conf *oc,
    const struct record *r, struct buf *tmp, const void **used)
{
	static const struct {
		enum record_id_kind	 kind;
		const char		*type;
	} order[] = {
		{ RECORD_ID_DOI, "DOI" }, { RECORD_ID_HANDLE, "Handle" },
		{ RECORD_ID_URN, "URN" },
	};
	const char	*type = NULL, *value = NULL;
	size_t		 i, k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]) && type == NULL; k++)
		for (i = 0; i < r->nidents && type == NULL; i++)
			if (r->idents[i].kind == order[k].kind) {
				type = order[k].type;
				value = r->idents[i].value;
				*used = &r->idents[i];
			}
	/* then a URL: the landing page, a URL identifier, the full text */
	for (i = 0; i < r->nlinks && type == NULL; i++)
		if (r->links[i].rel == RECORD_LINK_LANDING) {
			type = "URL";
			value = r->links[i].href;
			*used = &r->links[i];
		}
	for (i = 0; i < r->nidents && type == NULL; i++)
		if (r->idents[i].kind == RECORD_ID_URL) {
			type = "URL";
			value = r->idents[i].value;
			*used = &r->idents[i];
		}
	for (i = 0; i < r->nlinks && type == NULL; i++)
		if (r->links[i].rel == RECORD_LINK_FULLTEXT) {
			type = "URL";
			value = r->links[i].href;
			*used = &r->links[i];
		}
	if (type == NULL) {
		buf_reset(tmp);
		if (oc != NULL && oc->oai_namespace != NULL) {
			type = "OAI";
			if (oai_identifier(oc, r->id, tmp) == -1)
				return -1;
		} else {
			type = "Local";
			if (buf_addstr(tmp, r->id) == -1)
				return -1;
		}
		value = tmp->data;
	}
	xw_start(xw, "identifier");
	xw_attr(xw, "identifierType", type);
	xw_text(xw, value);
	xw_end(xw);
	return 0;
}

/* creator or contributor body: name, given, family, ORCID, affiliation */
static int
dcite_agent_body(struct xw *xw, const char *elem,
    const struct record_agent *a, struct buf *tmp)
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
		xw_elem(xw, "givenName", a->given);
		xw_elem(xw, "familyName", a->family);
	}
	if (a->orcid != NULL) {
		xw_start(xw, "nameIdentifier");
		xw_attr(xw, "nameIdentifierScheme", "ORCID");
		xw_attr(xw, "schemeURI", "https://orcid.org/");
		xw_text(xw, a->orcid);
		xw_end(xw);
	}
	xw_elem(xw, "affiliation", a->affiliation);
	return 0;
}

static int
dcite_creators(struct xw *xw, const struct record *r, struct buf *tmp)
{
	size_t	 i;

	xw_start(xw, "creators");
	for (i = 0; i < r->ncreators; i++) {
		xw_start(xw, "creator");
		if (dcite_agent_body(xw, "creatorName", &r->creators[i],
		    tmp) == -1)
			return -1;
		xw_end(xw);
	}
	if (r->ncreators == 0) {
		/* the publisher is the creator of record, per DataCite */
		xw_start(xw, "creator");
		xw_start(xw, "creatorName");
		if (r->publisher != NULL)
			xw_attr(xw, "nameType", "Organizational");
		xw_text(xw, r->publisher != NULL ? r->publisher : UNAV);
		xw_end(xw);
		xw_end(xw);
	}
	xw_end(xw);
	return 0;
}

static void
dcite_titles(struct xw *xw, const struct record *r)
{
	size_t	 i;

	xw_start(xw, "titles");
	for (i = 0; i < r->ntitles; i++) {
		xw_start(xw, "title");
		if (r->titles[i].lang != NULL)
			xw_attr(xw, "xml:lang", r->titles[i].lang);
		if (i > 0)
			xw_attr(xw, "titleType", "TranslatedTitle");
		xw_text(xw, r->titles[i].text);
		xw_end(xw);
	}
	for (i = 0; i < r->nsubtitles; i++) {
		xw_start(xw, "title");
		if (r->subtitles[i].lang != NULL)
			xw_attr(xw, "xml:lang", r->subtitles[i].lang);
		xw_attr(xw, "titleType", "Subtitle");
		xw_text(xw, r->subtitles[i].text);
		xw_end(xw);
	}
	xw_end(xw);
}

static int
dcite_contributors(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const char	*type;
	size_t		 i;
	int		 open = 0;

	for (i = 0; i < r->ncontributors; i++) {
		if ((type = dcite_contrib_type(r->contributors[i].role)) ==
		    NULL)
			continue;
		if (!open++)
			xw_start(xw, "contributors");
		xw_start(xw, "contributor");
		xw_attr(xw, "contributorType", type);
		if (dcite_agent_body(xw, "contributorName",
		    &r->contributors[i], tmp) == -1)
			return -1;
		xw_end(xw);
	}
	if (open)
		xw_end(xw);
	return 0;
}

/*
 * <elem attr="type" attr2="value2">text</elem>, the kernel's typed-value
 * shape; attr2 (may be NULL) is left out when value2 is NULL.
 */
static void
dcite_typed(struct xw *xw, const char *elem, const char *attr,
    const char *type, const char *attr2, const char *value2, const char *text)
{
	xw_start(xw, elem);
	xw_attr(xw, attr, type);
	xw_attr(xw, attr2, value2);
	xw_text(xw, text);
	xw_end(xw);
}

static void
dcite_date(struct xw *xw, const char *type, const char *info,
    const char *value)
{
	dcite_typed(xw, "date", "dateType", type, "dateInformation", info,
	    value);
}

static int
dcite_dates(struct xw *xw, const struct record *r, struct buf *tmp)
{
	char	 a[DATE_ISO_LEN], b[DATE_ISO_LEN];

	xw_start(xw, "dates");
	date_fmt(&r->issued, a);
	dcite_date(xw, "Issued", NULL, a);
	if (r->modified.t != 0) {
		date_fmt(&r->modified, a);
		dcite_date(xw, "Updated", NULL, a);
	}
	if (r->access == RECORD_ACCESS_EMBARGOED) {
		/* the kernel's "end of an embargo period" */
		date_fmt(&r->embargo_end, a);
		dcite_date(xw, "Available", NULL, a);
	}
	if (r->event != NULL) {
		date_fmt(&r->event->start, a);
		date_fmt(&r->event->end, b);
		buf_reset(tmp);
		/* a range in RKMS-ISO8601, as the kernel asks */
		if (strcmp(a, b) == 0 ? buf_addstr(tmp, a) == -1 :
		    buf_printf(tmp, "%s/%s", a, b) == -1)
			return -1;
		dcite_date(xw, "Other", "Event", tmp->data);
	}
	xw_end(xw);
	return 0;
}

/*
 * ISBN/ISSN/handle/URN/URL numbers and the landing page, except the one
 * used as the identifier and those naming a container (ISSN; a chapter's
 * ISBN), which are related identifiers instead.
 */
static void
dcite_alternates(struct xw *xw, const struct record *r, const void *used)
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
		    (id->kind == RECORD_ID_ISBN &&
		    r->type == RECORD_CHAPTER))
			continue;
		if (!open++)
			xw_start(xw, "alternateIdentifiers");
		dcite_typed(xw, "alternateIdentifier",
		    "alternateIdentifierType", names[id->kind], NULL, NULL,
		    id->value);
	}
	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_LANDING ||
		    (const void *)&r->links[i] == used)
			continue;
		if (!open++)
			xw_start(xw, "alternateIdentifiers");
		dcite_typed(xw, "alternateIdentifier",
		    "alternateIdentifierType", "URL", NULL, NULL,
		    r->links[i].href);
	}
	if (open)
		xw_end(xw);
}

static void
dcite_related1(struct xw *xw, const char *type, const char *rel,
    const char *value)
{
	dcite_typed(xw, "relatedIdentifier", "relatedIdentifierType", type,
	    "relationType", rel, value);
}

static void
dcite_related(struct xw *xw, const struct record *r)
{
	const char	*in = r->type == RECORD_ARTICLE ||
			    r->type == RECORD_CHAPTER ? "IsPublishedIn" :
			    "IsPartOf";
	size_t		 i;
	int		 open = 0;

	for (i = 0; i < r->nidents; i++) {
		if (r->idents[i].kind != RECORD_ID_ISSN &&
		    (r->idents[i].kind != RECORD_ID_ISBN ||
		    r->type != RECORD_CHAPTER))
			continue;
		if (!open++)
			xw_start(xw, "relatedIdentifiers");
		dcite_related1(xw, r->idents[i].kind == RECORD_ID_ISSN ?
		    "ISSN" : "ISBN", in, r->idents[i].value);
	}
	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_RELATED)
			continue;
		if (!open++)
			xw_start(xw, "relatedIdentifiers");
		/* a related link says nothing more specific than that */
		dcite_related1(xw, "URL", "Other", r->links[i].href);
	}
	if (open)
		xw_end(xw);
}

/* sizes and formats of the full texts */
static void
dcite_files(struct xw *xw, const struct record *r)
{
	char	 size[32];
	size_t	 i;
	int	 open = 0;

	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_FULLTEXT ||
		    r->links[i].length < 0)
			continue;
		if (!open++)
			xw_start(xw, "sizes");
		snprintf(size, sizeof(size), "%lld bytes",
		    (long long)r->links[i].length);
		xw_elem(xw, "size", size);
	}
	if (open)
		xw_end(xw);
	open = 0;
	for (i = 0; i < r->nlinks; i++) {
		if (!oai_fmt_new_format(r, i))
			continue;
		if (!open++)
			xw_start(xw, "formats");
		xw_elem(xw, "format", r->links[i].type);
	}
	if (open)
		xw_end(xw);
}

/*
 * SPDX identifier of a Creative Commons licence URL, for the version-
 * generic licences SPDX lists ("CC-BY-4.0", "CC0-1.0"); 0 if none.
 */
static int
dcite_spdx(const char *url, char *out, size_t outsz)
{
	static const char *const codes[] = {
		"by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd",
	};
	static const char *const versions[] = { "2.0", "2.5", "3.0", "4.0" };
	char		 code[16], ver[8], rest[8];
	const char	*p;
	size_t		 i, k;

	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return 0;
	if (strncmp(p, "creativecommons.org/publicdomain/zero/1.0", 41) ==
	    0 && (p[41] == '\0' || strcmp(p + 41, "/") == 0)) {
		snprintf(out, outsz, "CC0-1.0");
		return 1;
	}
	rest[0] = '\0';
	if (sscanf(p, "creativecommons.org/licenses/%15[a-z-]/%7[0-9.]%7s",
	    code, ver, rest) < 2 || (rest[0] != '\0' && strcmp(rest, "/")))
		return 0;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (k = 0; k < sizeof(versions) / sizeof(versions[0]); k++)
			if (strcmp(code, codes[i]) == 0 &&
			    strcmp(ver, versions[k]) == 0) {
				snprintf(out, outsz, "CC-%s-%s", code, ver);
				for (p = out; *p != '\0'; p++)
					if (*p >= 'a' && *p <= 'z')
						out[p - out] = *p - 'a' + 'A';
				return 1;
			}
	return 0;
}

static void
dcite_rights(struct xw *xw, const struct record *r)
{
	const char	*coar, *label = NULL;
	char		 spdx[32];
	int		 has_spdx;

	coar = oai_fmt_coar_access(r->access, &label);
	if (r->rights == NULL && r->license == NULL && coar == NULL)
		return;
	xw_start(xw, "rightsList");
	if (r->rights != NULL || r->license != NULL) {
		has_spdx = r->license != NULL &&
		    dcite_spdx(r->license, spdx, sizeof(spdx));
		xw_start(xw, "rights");
		xw_attr(xw, "rightsURI", r->license);
		if (has_spdx) {
			xw_attr(xw, "rightsIdentifier", spdx);
			xw_attr(xw, "rightsIdentifierScheme", "SPDX");
			xw_attr(xw, "schemeURI", "https://spdx.org/licenses/");
		}
		xw_text(xw, r->rights != NULL ? r->rights :
		    has_spdx ? spdx : r->license);
		xw_end(xw);
	}
	if (coar != NULL) {
		/*
		 * The COAR access right, as OpenAIRE's data guidelines read
		 * it from the rights list; only when the record states it.
		 */
		xw_start(xw, "rights");
		xw_attr(xw, "rightsURI", coar);
		xw_text(xw, label);
		xw_end(xw);
	}
	xw_end(xw);
}

static void
dcite_descriptions(struct xw *xw, const struct record *r)
{
	size_t	 i;

	if (r->nabstracts == 0 && r->series == NULL)
		return;
	xw_start(xw, "descriptions");
	for (i = 0; i < r->nabstracts; i++) {
		xw_start(xw, "description");
		if (r->abstracts[i].lang != NULL)
			xw_attr(xw, "xml:lang", r->abstracts[i].lang);
		xw_attr(xw, "descriptionType", "Abstract");
		xw_text(xw, r->abstracts[i].text);
		xw_end(xw);
	}
	if (r->series != NULL) {
		xw_start(xw, "description");
		xw_attr(xw, "descriptionType", "SeriesInformation");
		xw_text(xw, r->series);
		xw_end(xw);
	}
	xw_end(xw);
}

/* One fundingReference; the programme has no kernel property of its own. */
static void
dcite_funding(struct xw *xw, const struct record_funding *f)
{
	static const char *const types[] = {
		[RECORD_FUNDER_CROSSREF] = "Crossref Funder ID",
		[RECORD_FUNDER_ROR] = "ROR", [RECORD_FUNDER_ISNI] = "ISNI",
		[RECORD_FUNDER_GRID] = "GRID", [RECORD_FUNDER_OTHER] = "Other",
	};

	xw_start(xw, "fundingReference");
	xw_elem(xw, "funderName", f->funder);
	if (f->funder_id != NULL) {
		xw_start(xw, "funderIdentifier");
		xw_attr(xw, "funderIdentifierType", types[f->funder_scheme]);
		xw_text(xw, f->funder_id);
		xw_end(xw);
	}
	if (f->award_number != NULL || f->award_uri != NULL) {
		xw_start(xw, "awardNumber");
		xw_attr(xw, "awardURI", f->award_uri);
		xw_text(xw, f->award_number != NULL ? f->award_number : "");
		xw_end(xw);
	}
	xw_elem(xw, "awardTitle", f->award_title);
	xw_end(xw);
}

static int
dcite_place_funders(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const struct record_event *ev = r->event;
	const char	*name;
	size_t		 i, j;
	int		 open = 0;

	buf_reset(tmp);
	if (ev != NULL && (buf_addstr(tmp, ev->place != NULL ? ev->place :
	    "") == -1 || (ev->country != NULL && buf_printf(tmp, "%s%s",
	    tmp->len > 0 ? ", " : "", ev->country) == -1)))
		return -1;
	if (ev != NULL && tmp->len > 0) {
		xw_start(xw, "geoLocations");
		xw_start(xw, "geoLocation");
		xw_elem(xw, "geoLocationPlace", tmp->data);
		xw_end(xw);
		xw_end(xw);
	}
	for (i = 0; i < r->nfundings; i++) {
		if (!open++)
			xw_start(xw, "fundingReferences");
		dcite_funding(xw, &r->fundings[i]);
	}
	for (i = 0; i < r->ncontributors; i++) {
		if (dcite_contrib_type(r->contributors[i].role) != NULL)
			continue;
		if ((name = oai_fmt_name(&r->contributors[i], tmp)) == NULL)
			return -1;
		for (j = 0; j < r->nfundings; j++)
			if (strcmp(r->fundings[j].funder, name) == 0)
				break;
		if (j < r->nfundings)
			continue;	/* already a funding reference */
		if (!open++)
			xw_start(xw, "fundingReferences");
		xw_start(xw, "fundingReference");
		xw_elem(xw, "funderName", name);
		xw_end(xw);
	}
	if (open)
		xw_end(xw);
	return 0;
}

static void
dcite_open(struct xw *xw, const struct oai_conf *oc)
{
	static const char *const decls[] = { "xmlns", DCO_NS, NULL };
	const char	*symbol = NULL;

	if (oc != NULL)
		symbol = oc->oai_namespace;
	oai_fmt_root(xw, "oai_datacite", decls, DCO_NS, DCO_XSD);
	xw_elem(xw, "schemaVersion", SCHEMA_VERSION);
	xw_elem(xw, "datacentreSymbol", symbol != NULL ? symbol : UNAV);
	xw_start(xw, "payload");
	xw_start(xw, "resource");
	xw_attr(xw, "xmlns", KERNEL_NS);
	xw_attr(xw, "xsi:schemaLocation", KERNEL_NS " " KERNEL_XSD);
}

static int
dcite_body(struct xw *xw, const struct oai_conf *oc, const struct record *r,
    struct buf *tmp, struct buf *tmp2)
{
	const void	*used = NULL;
	const char	*pub = r->publisher;
	char		 year[16];
	size_t		 i;

	(void)tmp2;
	dcite_open(xw, oc);
	if (dcite_identifier(xw, oc, r, tmp, &used) == -1 ||
	    dcite_creators(xw, r, tmp) == -1)
		return -1;
	dcite_titles(xw, r);
	if (pub == NULL && oc != NULL)
		pub = oc->repository_name;
	xw_elem(xw, "publisher", pub != NULL && pub[0] != '\0' ? pub : UNAV);
	snprintf(year, sizeof(year), "%04d", oai_fmt_year(&r->issued));
	xw_elem(xw, "publicationYear", year);
	dcite_typed(xw, "resourceType", "resourceTypeGeneral",
	    dcite_type(r->type), NULL, NULL, oai_fmt_type_label(r->type));
	if (r->nsubjects > 0) {
		xw_start(xw, "subjects");
		for (i = 0; i < r->nsubjects; i++)
			xw_elem_lang(xw, "subject", r->subjects[i].lang,
			    r->subjects[i].text);
		xw_end(xw);
	}
	if (dcite_contributors(xw, r, tmp) == -1 ||
	    dcite_dates(xw, r, tmp) == -1)
		return -1;
	if (r->nlanguages > 0)
		xw_elem(xw, "language", r->languages[0]);
	dcite_alternates(xw, r, used);
	dcite_related(xw, r);
	dcite_files(xw, r);
	dcite_rights(xw, r);
	dcite_descriptions(xw, r);
	if (dcite_place_funders(xw, r, tmp) == -1)
		return -1;
	xw_end(xw);	/* resource */
	xw_end(xw);	/* payload */
	xw_end(xw);	/* oai_datacite */
	return 0;
}

const struct oai_format oai_format_datacite = {
	.prefix = "oai_datacite",
	.schema = DCO_XSD,
	.ns = DCO_NS,
	.body = dcite_body,
};
