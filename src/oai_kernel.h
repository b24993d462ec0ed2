/*
 * oai_kernel: DataCite Metadata Schema kernel-4 elements, written under a
 * given element prefix.  oai_datacite.c writes them in the default
 * namespace of its <resource> (prefix ""); oai_openaire.c writes them as
 * "datacite:" elements, since the OpenAIRE Guidelines v4 embed the kernel.
 *
 * Calls go one way: the format writers call these, they call nothing of the
 * formats.  What the two formats really do differently is spelled out in
 * struct oai_kernel, not guessed from the prefix.  Every writer is pure
 * (the xw and the caller's scratch buffer are the only state), like the
 * rest of oai_fmt.h.
 */
#ifndef PUBFEED_OAI_KERNEL_H
#define PUBFEED_OAI_KERNEL_H

#include "buf.h"
#include "record.h"
#include "xw.h"

struct oai_kernel {
	const char	*prefix;	/* of kernel elements: "", "datacite:" */
	const char	*funding_prefix; /* of fundingReferences and below */
	/* ORCID: the schemeURI, and the value as that URI + ID, not the ID */
	const char	*orcid_scheme_uri;
	int		 orcid_as_uri;
	/* "Translator" is in the contributorType list (kernel, not OpenAIRE) */
	int		 has_translator;
	/* with no creator the publisher, else "(:unav)", stands as creator */
	int		 publisher_as_creator;
	/* an article's or chapter's host is IsPublishedIn, not IsPartOf */
	int		 published_in;
	/* related links become relatedIdentifier URL, relationType "Other" */
	int		 related_links;
	/* fundingStream carries the programme */
	int		 funding_stream;
};

/* DataCite's standard value for a mandatory property we do not know. */
#define OAI_KERNEL_UNAV	"(:unav)"

/*
 * contributorType of a role under k's list; NULL for a funder, who is a
 * funding reference instead of a contributor.
 */
const char	*oai_kernel_contrib_type(const struct oai_kernel *k,
		    const char *role);

/*
 * <elem attr="type" attr2="value2">text</elem> under k's prefix, the
 * kernel's typed-value shape; attr2 is left out when value2 is NULL.
 */
void	 oai_kernel_typed(struct xw *, const struct oai_kernel *k,
	    const char *elem, const char *attr, const char *type,
	    const char *attr2, const char *value2, const char *text);

/* titles: the main title, translated titles, subtitles. */
void	 oai_kernel_titles(struct xw *, const struct oai_kernel *k,
	    const struct record *r);

/*
 * creators, then contributors (funders left out); names are composed in
 * tmp.  -1 when tmp's cap is reached.
 */
int	 oai_kernel_creators(struct xw *, const struct oai_kernel *k,
	    const struct record *r, struct buf *tmp);
int	 oai_kernel_contributors(struct xw *, const struct oai_kernel *k,
	    const struct record *r, struct buf *tmp);

/* subjects, with their languages; nothing when the record has none. */
void	 oai_kernel_subjects(struct xw *, const struct oai_kernel *k,
	    const struct record *r);

/*
 * alternateIdentifiers: every identifier but used (the one written as the
 * resource identifier, an ident or a link of r) and those naming a host
 * (ISSN; a chapter's ISBN), then the landing pages: r's own, else here
 * (pubfeed's, oai_landing_here(); NULL when r has its own or it is the
 * resource identifier), each as type URL.
 */
void	 oai_kernel_alternates(struct xw *, const struct oai_kernel *k,
	    const struct record *r, const void *used, const char *here);

/* relatedIdentifiers: the host's ISSN or ISBN, and the related links. */
void	 oai_kernel_related(struct xw *, const struct oai_kernel *k,
	    const struct record *r);

/* sizes: the byte size of each full text that states one. */
void	 oai_kernel_sizes(struct xw *, const struct oai_kernel *k,
	    const struct record *r);

/*
 * fundingReferences: the record's, then contributors in the funder role
 * that none of them names (older records say it that way).  -1 when tmp's
 * cap is reached.
 */
int	 oai_kernel_funding(struct xw *, const struct oai_kernel *k,
	    const struct record *r, struct buf *tmp);

#endif
