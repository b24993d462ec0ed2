/*
 * oai: the OAI-PMH 2.0 data provider (protocol version 2.0, 2015-01-08).
 *
 * oai_respond() turns the raw arguments of one request (a query string or
 * an application/x-www-form-urlencoded body, still percent-encoded) into a
 * complete response document; protocol errors are OAI <error> elements in a
 * 200 response, as the spec requires.  It reads only the snapshot it is given,
 * so it runs on any HTTP thread without locks.
 *
 * Layout: oai.c (the six verbs; list pages assembled from per-record blocks
 * kept in the record cache, see record.h), oai_args.c (form decoding and the
 * argument rules of each verb), oai_token.c (stateless, keyset-based,
 * HMAC-protected resumption tokens), oai_html.c (the page a browser gets at
 * the bare endpoint), one file per metadata format (oai_dc.c, oai_marc.c,
 * oai_datacite.c) and oai_util.c (what they all share); see oai_int.h.
 * oai_cache.h keeps whole responses, with their compressed forms.
 */
#ifndef PUBFEED_OAI_H
#define PUBFEED_OAI_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "snap.h"

#define OAI_TYPE	"text/xml; charset=utf-8"
#define OAI_ARGS_MAX	16		/* more arguments: badArgument */
#define OAI_ARG_MAX	4096		/* longer value: badArgument */

struct oai_arg {
	char	*key;
	char	*value;
};

struct oai_args {
	struct oai_arg	*v;
	size_t		 n;
	int		 bad_encoding;	/* invalid %-escape, NUL, bad UTF-8 */
	int		 too_many;	/* over OAI_ARGS_MAX / OAI_ARG_MAX */
};

/*
 * Decode "a=b&c=d" (percent-encoding, '+' as space).  Never fails on user
 * input: problems are flagged in out for oai_respond() to turn into
 * badArgument.  -1 only when memory runs out.  Release with
 * oai_args_release().
 */
int	oai_args_parse(const char *s, size_t len, struct oai_args *out);
void	oai_args_release(struct oai_args *);

/* Everything a response depends on besides the snapshot. */
struct oai_ctx {
	const unsigned char	*key;	/* resumption-token MAC key */
	size_t			 keylen;
	int64_t			 now;	/* responseDate */
};

/*
 * Answer one request: the whole XML document goes into out.  Returns the
 * verb answered (for metrics; "" for badVerb) or NULL on an internal
 * failure (memory, output cap), with e set.
 */
const char *oai_respond(const struct snap *, const struct oai_ctx *,
	    const char *query, size_t len, struct buf *out, struct err *e);

/*
 * The metadata formats, for documents that point at GetRecord URLs
 * (ResourceSync): oai_prefix(i) is the metadataPrefix of format i in
 * ListMetadataFormats order, NULL past the last; oai_offered(i, r) is 1 when
 * the live record r (NULL: a deleted item) is disseminated in format i.
 */
const char *oai_prefix(size_t i);
/* The namespace URI of format i's records (a Signposting profile). */
const char *oai_prefix_ns(size_t i);
int	oai_offered(size_t i, const struct record *r);

/* The HTML page for a browser opening the endpoint with no arguments. */
int	oai_render_html(const struct snap *, struct buf *out, struct err *e);

#endif
