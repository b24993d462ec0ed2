/*
 * oai_kernel: the DataCite kernel-4 elements that oai_datacite and
 * oai_openaire both write, under the prefix each format gives.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "oai_fmt.h"
#include "oai_kernel.h"
#include "banned.h"

#define NAME_MAX_LEN	64	/* "datacite:alternateIdentifiers" fits */

/* prefix + local into name; the element names are all short constants */
static const char *
kname(char *name, const char *prefix, const char *local)
{
	snprintf(name, NAME_MAX_LEN, "%s%s", prefix, local);
	return name;
}

static void
kstart(struct xw *xw, const char *prefix, const char *local)
{
	char	 name[NAME_MAX_LEN];

	xw_start(xw, kname(name, prefix, local));
}

static void
kelem_lang(struct xw *xw, const char *prefix, const char *local,
    const char *lang, const char *text)
{
	char	 name[NAME_MAX_LEN];

	xw_elem_lang(xw, kname(name, prefix, local), lang, text);
}

static void
kelem(struct xw *xw, const char *prefix, const char *local,
    const char *text)
{
	kelem_lang(xw, prefix, local, NULL, text);
}

const char *
oai_kernel_contrib_type(const struct oai_kernel *k, const char *role)
{
	if (role == NULL)
		return "Other";
	if (strcasecmp(role, "editor") == 0)
		return "Editor";
	if (k->has_translator && strcasecmp(role, "translator") == 0)
		return "Translator";
	if (strcasecmp(role, "funder") == 0)
		return NULL;
	/* reviewer, speaker, moderator, organiser have no term in the list */
	return "Other";
}

void
oai_kernel_typed(struct xw *xw, const struct oai_kernel *k, const char *elem,
    const char *attr, const char *type, const char *attr2,
    const char *value2, const char *text)
{
	kstart(xw, k->prefix, elem);
	xw_attr(xw, attr, type);
	xw_attr(xw, attr2, value2);
	xw_text(xw, text);
	xw_end(xw);
}

void
oai_kernel_titles(struct xw *xw, const struct oai_kernel *k,
    const struct record *r)
{
	size_t	 i;

	kstart(xw, k->prefix, "titles");
	for (i = 0; i < r->ntitles; i++) {
		kstart(xw, k->prefix, "title");
		xw_attr(xw, "xml:lang", r->titles[i].lang);
		if (i > 0)
			xw_attr(xw, "titleType", "TranslatedTitle");
		xw_text(xw, r->titles[i].text);
		xw_end(xw);
	}
	for (i = 0; i < r->nsubtitles; i++) {
		kstart(xw, k->prefix, "title");
		xw_attr(xw, "xml:lang", r->subtitles[i].lang);
		xw_attr(xw, "titleType", "Subtitle");
		xw_text(xw, r->subtitles[i].text);
		xw_end(xw);
	}
	xw_end(xw);
}

/* creatorName or contributorName, given, family, ORCID, affiliation */
static int
agent_body(struct xw *xw, const struct oai_kernel *k, const char *elem,
    const struct record_agent *a, struct buf *tmp)
{
	const char	*name, *orcid = a->orcid;
	int		 is_person = a->kind == RECORD_PERSON;

	if ((name = oai_fmt_name(a, tmp)) == NULL)
		return -1;
	kstart(xw, k->prefix, elem);
	xw_attr(xw, "nameType", is_person ? "Personal" : "Organizational");
	xw_text(xw, name);
	xw_end(xw);
	if (is_person) {
		kelem(xw, k->prefix, "givenName", a->given);
		kelem(xw, k->prefix, "familyName", a->family);
	}
	if (orcid != NULL) {
		if (k->orcid_as_uri) {
			buf_reset(tmp);
			if (buf_printf(tmp, "https://orcid.org/%s", orcid) == -1)
				return -1;
			orcid = tmp->data;
		}
		kstart(xw, k->prefix, "nameIdentifier");
		xw_attr(xw, "nameIdentifierScheme", "ORCID");
		xw_attr(xw, "schemeURI", k->orcid_scheme_uri);
		xw_text(xw, orcid);
		xw_end(xw);
	}
	kelem(xw, k->prefix, "affiliation", a->affiliation);
	return 0;
}

int
oai_kernel_creators(struct xw *xw, const struct oai_kernel *k,
    const struct record *r, struct buf *tmp)
{
	size_t	 i;

	if (r->ncreators == 0 && !k->publisher_as_creator)
		return 0;
	kstart(xw, k->prefix, "creators");
	for (i = 0; i < r->ncreators; i++) {
		kstart(xw, k->prefix, "creator");
		if (agent_body(xw, k, "creatorName", &r->creators[i],
		    tmp) == -1)
			return -1;
		xw_end(xw);
	}
	if (r->ncreators == 0) {
		/* the publisher is the creator of record, per DataCite */
		kstart(xw, k->prefix, "creator");
		kstart(xw, k->prefix, "creatorName");
		if (r->publisher != NULL)
			xw_attr(xw, "nameType", "Organizational");
		xw_text(xw, r->publisher != NULL ? r->publisher :
		    OAI_KERNEL_UNAV);
		xw_end(xw);
		xw_end(xw);
	}
	xw_end(xw);
	return 0;
}

int
oai_kernel_contributors(struct xw *xw, const struct oai_kernel *k,
    const struct record *r, struct buf *tmp)
{
	const char	*type;
	size_t		 i;
	int		 open = 0;

	for (i = 0; i < r->ncontributors; i++) {
		type = oai_kernel_contrib_type(k, r->contributors[i].role);
		if (type == NULL)
			continue;
		if (!open++)
			kstart(xw, k->prefix, "contributors");
		kstart(xw, k->prefix, "contributor");
		xw_attr(xw, "contributorType", type);
		if (agent_body(xw, k, "contributorName", &r->contributors[i],
		    tmp) == -1)
			return -1;
		xw_end(xw);
	}
	if (open)
		xw_end(xw);
	return 0;
}

void
oai_kernel_subjects(struct xw *xw, const struct oai_kernel *k,
    const struct record *r)
{
	size_t	 i;

	if (r->nsubjects == 0)
		return;
	kstart(xw, k->prefix, "subjects");
	for (i = 0; i < r->nsubjects; i++)
		kelem_lang(xw, k->prefix, "subject", r->subjects[i].lang,
		    r->subjects[i].text);
	xw_end(xw);
}

void
oai_kernel_alternates(struct xw *xw, const struct oai_kernel *k,
    const struct record *r, const void *used, const char *here)
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
			kstart(xw, k->prefix, "alternateIdentifiers");
		oai_kernel_typed(xw, k, "alternateIdentifier",
		    "alternateIdentifierType", names[id->kind], NULL, NULL,
		    id->value);
	}
	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_LANDING ||
		    (const void *)&r->links[i] == used)
			continue;
		if (!open++)
			kstart(xw, k->prefix, "alternateIdentifiers");
		oai_kernel_typed(xw, k, "alternateIdentifier",
		    "alternateIdentifierType", "URL", NULL, NULL,
		    r->links[i].href);
	}
	if (here != NULL) {
		if (!open++)
			kstart(xw, k->prefix, "alternateIdentifiers");
		oai_kernel_typed(xw, k, "alternateIdentifier",
		    "alternateIdentifierType", "URL", NULL, NULL, here);
	}
	if (open)
		xw_end(xw);
}

void
oai_kernel_related(struct xw *xw, const struct oai_kernel *k,
    const struct record *r)
{
	const struct record_ident *id;
	const char	*in = "IsPartOf";
	size_t		 i;
	int		 open = 0;

	if (k->published_in && (r->type == RECORD_ARTICLE ||
	    r->type == RECORD_CHAPTER))
		in = "IsPublishedIn";
	for (i = 0; i < r->nidents; i++) {
		id = &r->idents[i];
		if (id->kind != RECORD_ID_ISSN && (id->kind != RECORD_ID_ISBN ||
		    r->type != RECORD_CHAPTER))
			continue;
		if (!open++)
			kstart(xw, k->prefix, "relatedIdentifiers");
		oai_kernel_typed(xw, k, "relatedIdentifier",
		    "relatedIdentifierType", id->kind == RECORD_ID_ISSN ?
		    "ISSN" : "ISBN", "relationType", in, id->value);
	}
	for (i = 0; i < r->nlinks && k->related_links; i++) {
		if (r->links[i].rel != RECORD_LINK_RELATED)
			continue;
		if (!open++)
			kstart(xw, k->prefix, "relatedIdentifiers");
		/* a related link says nothing more specific than that */
		oai_kernel_typed(xw, k, "relatedIdentifier",
		    "relatedIdentifierType", "URL", "relationType", "Other",
		    r->links[i].href);
	}
	if (open)
		xw_end(xw);
}

void
oai_kernel_sizes(struct xw *xw, const struct oai_kernel *k,
    const struct record *r)
{
	char	 size[32];
	size_t	 i;
	int	 open = 0;

	for (i = 0; i < r->nlinks; i++) {
		if (r->links[i].rel != RECORD_LINK_FULLTEXT ||
		    r->links[i].length < 0)
			continue;
		if (!open++)
			kstart(xw, k->prefix, "sizes");
		snprintf(size, sizeof(size), "%lld bytes",
		    (long long)r->links[i].length);
		kelem(xw, k->prefix, "size", size);
	}
	if (open)
		xw_end(xw);
}

/* One fundingReference: funder, its identifier, programme, award. */
static void
funding1(struct xw *xw, const struct oai_kernel *k,
    const struct record_funding *f)
{
	static const char *const types[] = {
		[RECORD_FUNDER_CROSSREF] = "Crossref Funder ID",
		[RECORD_FUNDER_ROR] = "ROR", [RECORD_FUNDER_ISNI] = "ISNI",
		[RECORD_FUNDER_GRID] = "GRID", [RECORD_FUNDER_OTHER] = "Other",
	};
	const char	*p = k->funding_prefix;

	kstart(xw, p, "fundingReference");
	kelem(xw, p, "funderName", f->funder);
	if (f->funder_id != NULL) {
		kstart(xw, p, "funderIdentifier");
		xw_attr(xw, "funderIdentifierType", types[f->funder_scheme]);
		xw_text(xw, f->funder_id);
		xw_end(xw);
	}
	if (k->funding_stream)
		kelem(xw, p, "fundingStream", f->programme);
	if (f->award_number != NULL || f->award_uri != NULL) {
		kstart(xw, p, "awardNumber");
		xw_attr(xw, "awardURI", f->award_uri);
		xw_text(xw, f->award_number != NULL ? f->award_number : "");
		xw_end(xw);
	}
	kelem(xw, p, "awardTitle", f->award_title);
	xw_end(xw);
}

int
oai_kernel_funding(struct xw *xw, const struct oai_kernel *k,
    const struct record *r, struct buf *tmp)
{
	const char	*name, *p = k->funding_prefix;
	size_t		 i, j;
	int		 open = 0;

	for (i = 0; i < r->nfundings; i++) {
		if (!open++)
			kstart(xw, p, "fundingReferences");
		funding1(xw, k, &r->fundings[i]);
	}
	for (i = 0; i < r->ncontributors; i++) {
		if (oai_kernel_contrib_type(k, r->contributors[i].role) !=
		    NULL)
			continue;
		if ((name = oai_fmt_name(&r->contributors[i], tmp)) == NULL)
			return -1;
		for (j = 0; j < r->nfundings; j++)
			if (strcmp(r->fundings[j].funder, name) == 0)
				break;
		if (j < r->nfundings)
			continue;	/* already a funding reference */
		if (!open++)
			kstart(xw, p, "fundingReferences");
		kstart(xw, p, "fundingReference");
		kelem(xw, p, "funderName", name);
		xw_end(xw);
	}
	if (open)
		xw_end(xw);
	return 0;
}
