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
 * from DOI to handle, URN, the record's landing page, pubfeed's landing
 * page for it (oai_landing_here()), any URL and finally the OAI identifier
 * (the kernel schema leaves identifierType open; the last three only
 * without a configuration); creators and publisher fall back to
 * DataCite's "(:unav)" standard value.  The landing page, the record's own
 * or else pubfeed's, is an alternateIdentifier of type URL when it is not
 * the identifier (DataCite kernel 4: "URL" is an alternateIdentifierType;
 * the OpenAIRE v4 profile embeds the same property).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "oai_fmt.h"
#include "oai_kernel.h"
#include "banned.h"

#define DCO_NS		"http://schema.datacite.org/oai/oai-1.1/"
#define DCO_XSD		"http://schema.datacite.org/oai/oai-1.1/oai.xsd"
#define KERNEL_NS	"http://datacite.org/schema/kernel-4"
#define KERNEL_XSD	"http://schema.datacite.org/meta/kernel-4/metadata.xsd"
#define SCHEMA_VERSION	"4.7"
#define UNAV		OAI_KERNEL_UNAV

/* The kernel as DataCite itself lists it: elements in the default namespace. */
static const struct oai_kernel kernel = {
	.prefix = "",
	.funding_prefix = "",
	.orcid_scheme_uri = "https://orcid.org/",
	.has_translator = 1,
	.publisher_as_creator = 1,
	.published_in = 1,
	.related_links = 1,
};

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

/* The kernel's mandatory identifier: the most persistent one we hold. */
static int
dcite_identifier(struct xw *xw, const struct oai_conf *oc,
    const struct record *r, struct buf *tmp, const void **used,
    const char **here)
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
	/* else the landing page here, which every live record has */
	if (type == NULL && *here != NULL) {
		type = "URL";
		value = *here;
		*here = NULL;
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

static void
dcite_date(struct xw *xw, const char *type, const char *info,
    const char *value)
{
	oai_kernel_typed(xw, &kernel, "date", "dateType", type,
	    "dateInformation", info, value);
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

/* sizes and formats of the full texts */
static void
dcite_files(struct xw *xw, const struct record *r)
{
	size_t	 i;
	int	 open = 0;

	oai_kernel_sizes(xw, &kernel, r);
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

/* the event's place, then the funding references */
static int
dcite_place_funders(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const struct record_event *ev = r->event;

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
	return oai_kernel_funding(xw, &kernel, r, tmp);
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
	const char	*pub = r->publisher, *here = NULL;
	char		 year[16];

	/* pubfeed's landing page stands in when r has none of its own */
	if (record_link_find(r, RECORD_LINK_LANDING) == NULL &&
	    oai_landing_here(oc, r, tmp2) == 0)
		here = tmp2->data;
	dcite_open(xw, oc);
	if (dcite_identifier(xw, oc, r, tmp, &used, &here) == -1 ||
	    oai_kernel_creators(xw, &kernel, r, tmp) == -1)
		return -1;
	oai_kernel_titles(xw, &kernel, r);
	if (pub == NULL && oc != NULL)
		pub = oc->repository_name;
	xw_elem(xw, "publisher", pub != NULL && pub[0] != '\0' ? pub : UNAV);
	snprintf(year, sizeof(year), "%04d", oai_fmt_year(&r->issued));
	xw_elem(xw, "publicationYear", year);
	oai_kernel_typed(xw, &kernel, "resourceType", "resourceTypeGeneral",
	    dcite_type(r->type), NULL, NULL, oai_fmt_type_label(r->type));
	oai_kernel_subjects(xw, &kernel, r);
	if (oai_kernel_contributors(xw, &kernel, r, tmp) == -1 ||
	    dcite_dates(xw, r, tmp) == -1)
		return -1;
	if (r->nlanguages > 0)
		xw_elem(xw, "language", r->languages[0]);
	oai_kernel_alternates(xw, &kernel, r, used, here);
	oai_kernel_related(xw, &kernel, r);
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
