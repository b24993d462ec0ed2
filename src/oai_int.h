/*
 * oai_int: what the files of the oai module share and nothing outside
 * src/oai*.c (and their tests and fuzz targets) includes; the public
 * contract is oai.h.
 *
 * Layout, calls one way: oai.c (the six verbs, assembled into a response)
 * calls oai_args.c (form decoding, the argument rules of each verb, struct
 * oai_req), oai_token.c (resumption tokens) and, through oai_formats[], one
 * file per metadata format (oai_dc.c, oai_marc.c, oai_datacite.c, sharing
 * oai_fmt.h); oai_html.c is the page at the bare endpoint.  All of them may
 * call oai_util.c (the format registry, oai identifiers, struct oai_conf),
 * which calls none of them.
 */
#ifndef PUBFEED_OAI_INT_H
#define PUBFEED_OAI_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "date.h"
#include "hash.h"
#include "oai.h"
#include "record.h"
#include "xw.h"

struct conf;

/*
 * The request model the verbs work on: struct oai_req, filled by
 * oai_req_check() (oai_args.c) from the decoded arguments.
 */
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

/*
 * The configuration the oai module reads, and nothing else: the verbs, the
 * format writers and the HTML page take this, never struct conf, and its
 * key is what every block in the record cache depends on, so a field the
 * module reads is in the key.  The fields are listed once, here; the list
 * declares them, oai_conf_init() copies them from struct conf (same names)
 * and hashes them in this order.  Strings may be NULL.  admin_emails points
 * into the conf, which must outlive this (a snapshot holds its conf).
 */
#define OAI_CONF_STRINGS(X)						\
	X(repository_name) X(base_url) X(oai_path) X(oai_namespace)
#define OAI_CONF_INTS(X)	X(oai_page_size)

struct oai_conf {
#define OAI_CONF_STRING(f)	const char *f;
#define OAI_CONF_INT(f)		int f;
	OAI_CONF_STRINGS(OAI_CONF_STRING)
	OAI_CONF_INTS(OAI_CONF_INT)
#undef OAI_CONF_STRING
#undef OAI_CONF_INT
	char *const	*admin_emails;
	size_t		 nadmin_emails;
	/* SHA-256 of every field above, in order */
	unsigned char	 key[HASH_LEN];
};

/* Fill oc from c and compute oc->key.  Never fails. */
void	oai_conf_init(struct oai_conf *oc, const struct conf *c);

/* "oai:NAMESPACE:ID" into out (appending); parse back (NULL if not ours). */
int	 oai_identifier(const struct oai_conf *, const char *id,
	    struct buf *out);
const char *oai_local_id(const struct oai_conf *, const char *identifier);

/*
 * 1 when ListSets (and the /oai page) list the set: it has a live record,
 * itself or in a descendant.  A set of deleted records only stays a valid
 * set argument, answered with their headers (OAI-PMH 2.0 sections 2.7.2,
 * 4.6; the reasoning is at the definition in oai_util.c).
 */
struct snap_set;
int	 oai_set_is_listed(const struct snap_set *);

/*
 * The landing page pubfeed serves for the live record r, as the HTTP
 * server answers it: base_url + "/records/ID.html" (feed.h), the English,
 * x-default version whose hreflang alternates name the /bg/ and /nb/ ones,
 * into out (reset first).  -1 when oc or its base_url is NULL, or out's
 * cap is reached.  Metadata links it when r has no landing page of its
 * own; when r has one, that page is canonical and ours says so.
 */
int	 oai_landing_here(const struct oai_conf *oc, const struct record *r,
	    struct buf *out);

/*
 * A format's body: writes r's payload with two scratch buffers (empty,
 * capped at OAI_FMT_TMP_MAX); -1 when a buffer's cap is reached.  oc may be
 * NULL (no configuration: the payload says so where it needs a value).
 */
typedef int	oai_fmt_body(struct xw *, const struct oai_conf *oc,
		    const struct record *r, struct buf *tmp, struct buf *tmp2);

/*
 * Whether a live record can be disseminated in a format at all (OpenAIRE
 * takes no news items, and no record lacking a field it makes mandatory).
 * Pure: depends on the record only, so a list's membership never changes
 * while the record does not.
 */
typedef int	oai_fmt_accepts(const struct record *r);

/* A metadata format: one file each, listed in oai_formats[]. */
struct oai_format {
	const char	*prefix;	/* "oai_dc" */
	const char	*schema;	/* official XSD URL */
	const char	*ns;		/* namespace URI */
	oai_fmt_body	*body;
	oai_fmt_accepts	*accepts;	/* NULL: every record */
};

/*
 * 1 when an item is offered in format f: a deleted item (r == NULL) in
 * every format (its header says so, section 2.5.1), a live one when f
 * accepts its record r.
 */
int	oai_format_offers(const struct oai_format *f, const struct record *r);

/*
 * The <metadata> payload of one live record in format f (oai_fmt.c): runs
 * f->body with fresh scratch buffers and frees them.  Returns -1, and
 * marks the writer failed (the payload is unfinished and must not be
 * sent), when the body or the writer failed; else 0.
 */
int	oai_format_write(const struct oai_format *f, struct xw *,
	    const struct oai_conf *oc, const struct record *r);

extern const struct oai_format	oai_format_dc;
extern const struct oai_format	oai_format_marc;
extern const struct oai_format	oai_format_datacite;
extern const struct oai_format	oai_format_openaire;

/* The registry of metadata formats (oai_util.c), NULL-terminated. */
extern const struct oai_format *const oai_formats[];
const struct oai_format *oai_format_find(const char *prefix);

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


/*
 * Compressed responses (oai_zip.c), made once per kept page (oai_cache.c).
 * oai_zip_whole() appends to out the gzip body of data, deflated whole;
 * oai_zip_zlib_of() appends the zlib ("deflate") body with the same
 * deflate stream as gz, a gzip body oai_zip_whole() wrote of plain, so one
 * compression serves both codings.  Both -1 when out's cap is reached or
 * zlib fails (out then holds a partial body to throw away), or when gz is
 * not such a body.
 */
int	oai_zip_whole(const char *data, size_t len, struct buf *out);
int	oai_zip_zlib_of(const char *gz, size_t gzlen, const char *plain,
	    size_t plainlen, struct buf *out);

/*
 * Resumption tokens (oai_token.c).
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
 *
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
