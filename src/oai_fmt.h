/*
 * oai_fmt: what the metadata-format writers (oai_dc.c, oai_marc.c,
 * oai_datacite.c, oai_openaire.c) share and nothing else includes: the
 * inverted personal name, the type labels, small date helpers.
 *
 * Every function is pure (no state, no allocation beyond the caller's
 * buffer), so the writers stay safe to call from any HTTP thread.
 */
#ifndef PUBFEED_OAI_FMT_H
#define PUBFEED_OAI_FMT_H

#include "buf.h"
#include "date.h"
#include "oai_int.h"
#include "record.h"
#include "xw.h"

#define OAI_FMT_XSI_NS	"http://www.w3.org/2001/XMLSchema-instance"
#define OAI_FMT_TMP_MAX	(256 * 1024)	/* cap on one composed string */

/*
 * The catalogue form of a name into out (reset first): "Family, Given" for
 * a person ("Family" when there is no given name), the name itself for an
 * organisation.  Returns out->data, or NULL when out's cap is reached.
 */
const char	*oai_fmt_name(const struct record_agent *, struct buf *out);

/*
 * The subtitle that goes with r->titles[i]: the first one in the same
 * language; for the main title, else an untagged first subtitle.  NULL if
 * none.
 */
const struct record_text *oai_fmt_subtitle(const struct record *r, size_t i);

/*
 * The COAR access right of an access statement: its concept URI
 * ("http://purl.org/coar/access_right/c_abf2") and, in *label, its
 * preferred label ("open access").  NULL for RECORD_ACCESS_UNSTATED: no
 * format calls a record open access unless the record says so.
 */
const char	*oai_fmt_coar_access(enum record_access, const char **label);

/* The info:eu-repo/semantics access level ("openAccess"); NULL if unstated. */
const char	*oai_fmt_eurepo_access(enum record_access);

/* Human label of a type: "Policy brief", "Working paper", ... */
const char	*oai_fmt_type_label(enum record_type);

/* Calendar year of d (UTC). */
int		 oai_fmt_year(const struct date *d);

/*
 * 1 when r->links[i] is a full text with a media type that no earlier full
 * text of r has: iterating i so lists each format once, in link order.
 */
int		 oai_fmt_new_format(const struct record *r, size_t i);

/* 1 when the two language tags are equal, ignoring case; NULL == NULL. */
int		 oai_fmt_same_lang(const char *a, const char *b);

/*
 * Start the payload root: xw_start(name) plus its namespace declarations
 * and xsi:schemaLocation="ns schema".  Written as plain attributes because
 * libxml2's writer re-declares a namespace on every StartElementNS call;
 * this way each prefix is declared exactly once, on the payload root.
 * decls is a NULL-terminated list of attribute name/value pairs
 * ("xmlns:dc", DC_NS, ..., NULL).
 */
void		 oai_fmt_root(struct xw *, const char *name,
		    const char *const *decls, const char *ns,
		    const char *schema);

#endif
