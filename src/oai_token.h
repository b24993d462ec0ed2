/*
 * oai_token: internal to the oai module (oai.c, oai_args.c, oai_token.c,
 * oai_html.c); nothing outside src/oai*.c includes it.
 *
 * It holds the request model the verbs work on (struct oai_req, filled by
 * oai_req_check() from the decoded arguments) and the resumption tokens that
 * carry that request from one page to the next.
 *
 * A token is stateless and keyset-based: it names the list (verb,
 * metadataPrefix, set, inclusive datestamp bounds), the last entity already
 * sent ((datestamp, id) of an item, or the setSpec for ListSets) and the
 * cursor.  The next page starts at the first entity after that key, so a
 * token stays meaningful on any later snapshot and on any instance that
 * shares the MAC key: nothing is kept on the server.  The payload is
 * authenticated with HMAC-SHA-256 and the whole is written in URL-safe base64
 * without padding (RFC 4648 section 5: A-Z a-z 0-9 - _), characters that
 * need no percent-encoding anywhere in a URL or in XML.
 */
#ifndef PUBFEED_OAI_TOKEN_H
#define PUBFEED_OAI_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "date.h"
#include "oai.h"

enum oai_verb {
	OAI_IDENTIFY,
	OAI_LIST_METADATA_FORMATS,
	OAI_LIST_SETS,
	OAI_GET_RECORD,
	OAI_LIST_IDENTIFIERS,
	OAI_LIST_RECORDS,
	OAI_VERB_COUNT,
	OAI_VERB_BAD = OAI_VERB_COUNT	/* missing, repeated or unknown */
};

/* The six error codes of OAI-PMH 2.0 section 3.6 plus badVerb/badArgument. */
#define OAI_ERR_BAD_ARGUMENT		"badArgument"
#define OAI_ERR_BAD_TOKEN		"badResumptionToken"
#define OAI_ERR_BAD_VERB		"badVerb"
#define OAI_ERR_CANNOT_DISSEMINATE	"cannotDisseminateFormat"
#define OAI_ERR_ID_DOES_NOT_EXIST	"idDoesNotExist"
#define OAI_ERR_NO_RECORDS		"noRecordsMatch"
#define OAI_ERR_NO_FORMATS		"noMetadataFormats"
#define OAI_ERR_NO_SET_HIERARCHY	"noSetHierarchy"

#define OAI_ERRORS_MAX	8		/* more are dropped silently */
#define OAI_ERROR_MSG	160

struct oai_error {
	const char	*code;			/* OAI_ERR_* */
	char		 msg[OAI_ERROR_MSG];	/* for a human reader */
};

/*
 * One request after the argument rules.  String fields point into the
 * oai_args it was checked from (NULL when absent).  from/until are only
 * meaningful when has_from/has_until.
 */
struct oai_req {
	enum oai_verb		 verb;
	const char		*identifier;
	const char		*prefix;	/* metadataPrefix */
	const char		*set;
	const char		*token;		/* resumptionToken */
	int			 has_from, has_until;
	struct date		 from, until;
	struct oai_error	 errs[OAI_ERRORS_MAX];
	size_t			 nerrs;
};

/* "Identify" ... "ListRecords"; "" for OAI_VERB_BAD. */
const char	*oai_verb_name(enum oai_verb);

/*
 * Apply OAI-PMH's argument rules to decoded arguments: find the verb
 * (badVerb if missing, repeated or unknown) and then report every illegal,
 * repeated, missing or malformed argument as badArgument in r->errs.
 * Returns the number of errors recorded.
 */
size_t		 oai_req_check(const struct oai_args *, struct oai_req *);
/* Record one error (dropped beyond OAI_ERRORS_MAX). */
void		 oai_req_error(struct oai_req *, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The registry of metadata formats (oai.c), NULL-terminated. */
extern const struct oai_format *const oai_formats[];
const struct oai_format *oai_format_find(const char *prefix);

/*
 * A decoded token.  Strings are "" rather than NULL when absent (no set;
 * ListSets has no prefix).  from/until are inclusive bounds, INT64_MIN and
 * INT64_MAX when open.  last_ds/last are the key of the last entity sent:
 * (datestamp, id) of an item, or (0, setSpec) for ListSets.  cursor is how
 * many entities were sent before the page the token asks for.
 */
struct oai_token {
	enum oai_verb	 verb;
	const char	*prefix;
	const char	*set;
	int64_t		 from, until;
	int64_t		 last_ds;
	const char	*last;
	uint64_t	 cursor;
	char		 arena[OAI_ARG_MAX];	/* decoded strings */
};

/*
 * Append the token for t to out (URL-safe base64 of payload + MAC).  Returns
 * 0, or -1 when out is full or the token would pass OAI_ARG_MAX characters
 * (so harvesters could not send it back).
 */
int	oai_token_encode(const struct oai_token *t, const unsigned char *key,
	    size_t keylen, struct buf *out);

/*
 * Decode and authenticate s (len bytes, from the network).  Any damage:
 * bad base64, wrong length, wrong MAC (compared in constant time), unknown
 * version, malformed payload, gives -1 and leaves nothing useful in out.
 * Reads only from memory; never allocates.
 */
int	oai_token_decode(const char *s, size_t len, const unsigned char *key,
	    size_t keylen, struct oai_token *out);

#endif
