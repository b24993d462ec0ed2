/*
 * record: one publication or event, parsed from one XML file.
 *
 * The format is the project's own (namespace RECORD_NS, schema
 * schemas/record.xsd, documented in schemas/README.md).  record_parse_mem()
 * reads from memory with libxml2 without network access, DTD loading or
 * entity substitution, rejects any DOCTYPE, anything over the size cap and
 * absurd attribute counts (a linear pre-scan, before libxml2 sees the bytes),
 * validates against the compiled-in schema and then checks what a schema
 * cannot: real calendar dates, absolute http(s) URLs, end >= start, the
 * required and single children of record (which come in any order), the
 * fulltext link carrying a media type and a byte size, an embargo end date
 * iff the access is embargoed, funder ids that fit their scheme.
 *
 * A parsed record is immutable.  It is reference-counted because successive
 * snapshots share unchanged records: record_ref() / record_unref() are
 * thread-safe; the last unref frees it.  Every string hangs off one arena that
 * the record owns.  All strings are valid UTF-8 free of XML-forbidden
 * characters (libxml2 guarantees it for parsed text).
 */
#ifndef PUBFEED_RECORD_H
#define PUBFEED_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "err.h"
#include "hash.h"

#define RECORD_NS	"https://pubfeed.org/ns/record/1"
#define RECORD_MAX_BYTES (4 * 1024 * 1024)	/* default size cap */
/*
 * Refused before parsing (libxml2 2.9 checks an element's attributes for
 * duplicates in quadratic time): more attributes than this on one element,
 * namespace declarations included, or in the whole file.
 */
#define RECORD_MAX_ATTRS	256
#define RECORD_MAX_ATTRS_TOTAL	50000

enum record_type {
	RECORD_REPORT,
	RECORD_POLICY_BRIEF,
	RECORD_WORKING_PAPER,
	RECORD_BOOK,
	RECORD_CHAPTER,
	RECORD_ARTICLE,
	RECORD_DATASET,
	RECORD_PRESENTATION,
	RECORD_EVENT,
	RECORD_NEWS,
	RECORD_TYPE_COUNT
};

/*
 * Text with its language (xml:lang, BCP 47 in lang_canon() form); lang is
 * NULL when unstated.
 */
struct record_text {
	const char	*lang;
	const char	*text;
};

enum record_agent_kind {
	RECORD_PERSON,
	RECORD_ORG,
};

struct record_agent {
	enum record_agent_kind	 kind;
	const char		*name;	/* display: "Given Family" or the org */
	const char		*family;	/* persons only */
	const char		*given;		/* persons; may be NULL */
	const char		*affiliation;	/* may be NULL */
	const char		*orcid;	/* "0000-0002-1825-0097"; may be NULL */
	const char		*email;	/* may be NULL */
	const char		*role;	/* contributors: "editor", ...; or NULL */
};

enum record_id_kind {
	RECORD_ID_DOI,		/* bare "10.1234/abc" */
	RECORD_ID_ISBN,
	RECORD_ID_ISSN,
	RECORD_ID_HANDLE,
	RECORD_ID_URN,
	RECORD_ID_URL,
};

struct record_ident {
	enum record_id_kind	 kind;
	const char		*value;
};

enum record_link_rel {
	RECORD_LINK_LANDING,	/* the publication's web page */
	RECORD_LINK_FULLTEXT,	/* the full text (PDF, EPUB ...) */
	RECORD_LINK_RELATED,
};

struct record_link {
	enum record_link_rel	 rel;
	const char		*href;	/* absolute http(s) URL */
	const char		*type;	/* media type; always set for FULLTEXT */
	int64_t			 length; /* bytes; -1 when unknown */
	const char		*lang;	/* may be NULL */
	const char		*title;	/* may be NULL */
};

enum record_event_status {
	RECORD_EVENT_CONFIRMED,		/* the default */
	RECORD_EVENT_TENTATIVE,
	RECORD_EVENT_CANCELLED,
};

struct record_event {
	struct date		 start;
	struct date		 end;	/* == start when a one-day event */
	const char		*place;	/* venue or city, human readable */
	const char		*country; /* ISO 3166-1 alpha-2, may be NULL */
	/* IANA zone the event happens in ("Europe/Oslo"); it exists; NULL */
	const char		*timezone;
	enum record_event_status status;
};

/* Access to the full text (COAR access rights); UNSTATED: no access element. */
enum record_access {
	RECORD_ACCESS_UNSTATED,
	RECORD_ACCESS_OPEN,
	RECORD_ACCESS_EMBARGOED,
	RECORD_ACCESS_RESTRICTED,
	RECORD_ACCESS_METADATA_ONLY,
};

/* The identifier scheme of a funder id. */
enum record_funder_scheme {
	RECORD_FUNDER_CROSSREF,	/* Crossref Funder ID, https://doi.org/10.13039/ */
	RECORD_FUNDER_ROR,	/* https://ror.org/0... */
	RECORD_FUNDER_ISNI,
	RECORD_FUNDER_GRID,
	RECORD_FUNDER_OTHER,
};

/* One funding reference; every field but funder may be NULL. */
struct record_funding {
	const char			*funder;	/* name */
	const char			*funder_id;	/* absolute URL */
	enum record_funder_scheme	 funder_scheme;	/* iff funder_id */
	const char			*programme;
	const char			*award_number;
	const char			*award_title;
	const char			*award_uri;	/* absolute URL */
};

struct record {
	int			 refs;	/* atomic; see record_ref() */
	const char		*id;	/* local id: [A-Za-z0-9][A-Za-z0-9._-]* */
	const char		*path;	/* source file, as given to the parser */
	enum record_type	 type;
	const char		*lang;	/* root xml:lang: the main language */

	struct record_text	*titles;	/* >= 1; [0] is the main title */
	size_t			 ntitles;
	struct record_text	*subtitles;
	size_t			 nsubtitles;
	struct record_agent	*creators;
	size_t			 ncreators;
	struct record_agent	*contributors;
	size_t			 ncontributors;

	/* publication date, required; to the year or month (gran) too */
	struct date		 issued;
	struct date		 modified;	/* source's own; t == 0 if none */
	struct record_event	*event;		/* set iff type == EVENT */

	/* canonical BCP 47 (lang_canon(): "en", "nb", "en-GB", "smj") */
	const char		**languages;
	size_t			 nlanguages;
	struct record_text	*subjects;	/* keywords, per language */
	size_t			 nsubjects;
	struct record_text	*abstracts;	/* one per language */
	size_t			 nabstracts;

	const char		*publisher;	/* may be NULL */
	const char		*place;	/* place of publication; may be NULL */
	const char		*place_country;	/* ISO 3166-1 alpha-2 or NULL */
	const char		*series;	/* may be NULL */
	const char		*rights;	/* statement; may be NULL */
	const char		*license;	/* licence URL; may be NULL */
	enum record_access	 access;
	struct date		 embargo_end;	/* set iff access is EMBARGOED */
	const char		*version;	/* COAR "VoR", "AM"...; or NULL */
	struct record_funding	*fundings;
	size_t			 nfundings;

	struct record_ident	*idents;
	size_t			 nidents;
	struct record_link	*links;
	size_t			 nlinks;
	const char		**sets;		/* setSpecs, "parent:child" */
	size_t			 nsets;

	unsigned char		 hash[HASH_LEN]; /* SHA-256 of the file bytes */
	/*
	 * When the record's content last changed in the repository (OAI-PMH
	 * datestamp, Atom updated).  Filled in by the store before the record
	 * is shared, never changed afterwards.
	 */
	int64_t			 datestamp;

	void			*arena;	/* owns every string above */

	/*
	 * Renderings cached on the record (not part of its value): a list
	 * that only grows, read without locks; see record_cache_add().
	 */
	struct record_cache	*cache;
};

/*
 * A rendering of a record that a renderer keeps on the record itself (the
 * OAI-PMH provider caches each record's <record> block per metadata
 * format), so successive snapshots, which share unchanged records, share it
 * too, and a changed file, which is a new record, starts without one.
 *
 * Contract: the record stays immutable, so a rendering depends only on the
 * record and on the key the renderer supplies (which format, which
 * configuration values).  An entry never changes once added; entries are
 * pushed on the record's list with one atomic compare-and-swap, readers walk
 * the list without locks, and the record_unref() that frees the record frees
 * them.  Nothing is evicted: a process-wide byte limit (record_cache_limit())
 * and RECORD_CACHE_ENTRIES per record bound the memory, and past them
 * record_cache_add() declines and the renderer renders every time.
 */
struct record_cache {
	struct record_cache	*next;
	int			 tag;		/* the renderer's kind */
	size_t			 keylen;	/* key: data[0, keylen) */
	size_t			 len;		/* value: data[keylen, +len) */
	char			 data[];	/* key, value, NUL */
};

/* the OAI provider keeps 10 per configuration key (oai.c): room for 3 */
#define RECORD_CACHE_ENTRIES	32
/* until the configuration's record-cache says (feed_build()) */
#define RECORD_CACHE_DEFAULT	((size_t)128 * 1024 * 1024)	/* bytes */

/*
 * The compiled record schema.  Building it parses the XSD compiled into the
 * binary and initialises what parsing shares with other threads (libxml2,
 * libical's zone table): build it before any thread parses.  Validation
 * contexts are created per call, so one schema is shared by the store's
 * reader threads, each parse on one thread.
 */
struct record_schema;

struct record_schema *record_schema_new(struct err *);
void	 record_schema_free(struct record_schema *);
/*
 * What a schema validation's outcome depends on besides the bytes: the
 * SHA-256 of pubfeed's version, libxml2's run-time version and the
 * compiled-in record.xsd.  Bytes found valid under one validator hash are
 * valid under every schema with the same hash (the store's parse cache).
 */
const unsigned char *record_schema_validator(const struct record_schema *);

/*
 * Parse and check one record.  path is used in messages only.  On failure
 * returns NULL and records every error found as "path:line:col: reason"
 * in e (warnings are not recorded).  max_bytes 0 means RECORD_MAX_BYTES.  The caller owns the result
 * (refs == 1) and releases it with record_unref().
 */
struct record *record_parse_mem(struct record_schema *, const char *buf,
	    size_t len, const char *path, size_t max_bytes, struct err *e);

/*
 * As record_parse_mem(), with the bytes' SHA-256 already known (hash, which
 * becomes the record's hash; the caller computed it with hash_sha256()).
 * is_valid 1: the bytes are known to pass the schema (they passed it
 * before under the same record_schema_validator()), so XSD validation is
 * skipped; the pre-scan, parsing and every semantic check still run.
 */
struct record *record_parse_known(struct record_schema *, const char *buf,
	    size_t len, const char *path, size_t max_bytes,
	    const unsigned char hash[HASH_LEN], int is_valid, struct err *e);

/*
 * One problem found in a record, in the editor's terms: the message names
 * the element as written in the record, what is wrong and how to fix it,
 * without path or position; code is stable ("missing-element", "bad-date",
 * "unescaped-amp", ...: the table in schemas/README.md) for tools.  Both
 * strings live only during the call.
 */
enum record_severity {
	RECORD_ERROR,
	RECORD_WARNING,
};

struct record_diag {
	enum record_severity	 severity;
	const char		*code;
	long			 line;	/* 0 when the file as a whole */
	int			 col;	/* 0 when unknown */
	const char		*msg;
};

typedef void	 record_diag_fn(void *arg, const struct record_diag *);

/*
 * As record_parse_mem(), but every problem, warnings included, goes to
 * fn(arg, ...) in the order found.  Returns the record when there was no
 * error (warnings alone do not fail it), else NULL.
 */
struct record *record_check_mem(struct record_schema *, const char *buf,
	    size_t len, const char *path, size_t max_bytes, record_diag_fn *fn,
	    void *arg);

/*
 * Images: a record as bytes that a later process turns back into the same
 * record without parsing (the store's parse cache keeps one per file).
 *
 * An image is the record's block (struct record at offset 0, every array
 * and string that is the record's own) with each pointer replaced by a
 * word: 0 for NULL, offset << 1 for a place in the block, index << 1 | 1
 * for a string of the trailer, which holds the strings that lived outside
 * the block (in the process-wide pool of shared strings) and are pooled
 * again on decoding, so that decoded records share them as parsed ones do.
 * Header: "PFRI", RECORD_IMAGE_VERSION, the block's size, the trailer's
 * string count and size, zlib's CRC-32 of the whole image but these four
 * bytes, four zero bytes (host byte order, 32 bytes).  The checksum is
 * checked first: SQLite checks no overflow page, and a byte rotted inside
 * a text would pass every other check (a wrong letter served).  refs, datestamp,
 * arena and cache are not part of the value: zero in an image, set afresh
 * by decoding (datestamp stays 0: the store fills it as for a parsed one).
 *
 * One walker in record_image.c visits every pointer field of struct record
 * and its parts, for encoding and decoding alike: a field added to any of
 * them is added there, once, and RECORD_IMAGE_VERSION is bumped when the
 * meaning of a field changes (sizes and offsets are in
 * record_schema_validator() already).
 *
 * Images are a cache: the bytes come from a database the operator may
 * edit, so decoding trusts nothing.  Every offset lies in the block and is
 * aligned for what it points at, arrays of structures never overlap one
 * another or a string, every count fits, every string ends with a NUL
 * inside the block and is valid UTF-8 free of XML-forbidden characters,
 * every enum is in range and every date in years 0-9999, and what the
 * renderers rely on holds (a title, an id of the id syntax, event iff type
 * event, a type on each full-text link, names and values where record.h
 * says they are set).  Anything else is refused with -1/NULL and e set.
 */
#define RECORD_IMAGE_VERSION	2

/*
 * r as an image into *out (malloc'd, caller frees) of *len bytes.  -1 with
 * e set when r is not one block (it then simply has no image) or out of
 * memory.  Thread-safe; r is not changed.
 */
int	 record_image_encode(const struct record *r, unsigned char **out,
	    size_t *len, struct err *e);
/*
 * The record of an image (refs == 1, datestamp 0, no cache), or NULL with
 * e set when the bytes are not a sound image.  path, when not NULL, must be
 * the record's path, and hash, when not NULL, its hash (the caller hashed
 * the file again): an image of other bytes or another file is refused.
 * Thread-safe.
 */
struct record *record_image_decode(const void *img, size_t len,
	    const char *path, const unsigned char hash[HASH_LEN],
	    struct err *e);

struct record *record_ref(struct record *);
void	 record_unref(struct record *);

/* The entry with this tag and key, or NULL.  Any thread, no locks. */
const struct record_cache *record_cache_find(const struct record *, int tag,
	    const void *key, size_t keylen);
/*
 * Add a copy of val (len bytes) under tag and key; any thread.  Returns the
 * entry now on the list (another thread's, if it added the same tag and key
 * first), or NULL when the byte limit or the per-record entry limit is
 * reached or memory runs out: then simply use val.
 */
const struct record_cache *record_cache_add(struct record *, int tag,
	    const void *key, size_t keylen, const void *val, size_t len);
/* Bytes held by the caches of all live records; the limit on that total. */
size_t	 record_cache_bytes(void);
void	 record_cache_limit(size_t max);

/* "open", "embargoed", ... (the schema's spelling); "" for UNSTATED. */
const char *record_access_name(enum record_access);

/* "report", "policy-brief", ... (the schema's spelling) and back. */
const char *record_type_name(enum record_type);
int	 record_type_parse(const char *, enum record_type *);

/* The text in lang, else in the record's main language, else the first. */
const struct record_text *record_text_pick(const struct record_text *,
	    size_t n, const char *lang);
/* The first link with the given rel, or NULL. */
const struct record_link *record_link_find(const struct record *,
	    enum record_link_rel);
/* The first identifier of the given kind, or NULL. */
const struct record_ident *record_ident_find(const struct record *,
	    enum record_id_kind);

#endif
