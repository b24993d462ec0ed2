/*
 * record: parse, validate and check one record file (see record.h and
 * schemas/README.md).
 *
 * Three stages, each reporting every problem it can: libxml2 parsing (a
 * DOCTYPE stops it at once, before any declaration in it is read), schema
 * validation against the compiled-in XSD, then the semantic checks while the
 * struct is built.  libxml2 is driven through per-context structured error
 * callbacks only, so nothing here touches its global handlers and nothing is
 * ever printed.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libical/ical.h>

#include "lang.h"
#include "record.h"
#include "record_int.h"
#include "syntax.h"
#include "banned.h"

/* Generated from schemas/record.xsd by the Makefile (build/record_xsd.c). */
extern const unsigned char record_xsd[];
extern const unsigned long record_xsd_len;

struct record_schema {
	xmlSchemaPtr	 schema;
	xmlDocPtr	 xsd;	/* its source, for record_msg.c */
	unsigned char	 validator[HASH_LEN];	/* record_schema_validator() */
};

/*
 * A bump allocator: every string and array of one record, and the record
 * itself, live in a chain of zeroed chunks freed together.
 */
#define ARENA_CHUNK	4096

/* Bytes held by every record's rendering cache, and the limit (atomic). */
static size_t	 cache_bytes;
static size_t	 cache_max = RECORD_CACHE_DEFAULT;

/*
 * A record's arena.  A record is built twice (parse_mem()): once to learn
 * how many bytes its layout takes (laid out as one block: virt), then into
 * one chunk of exactly that size, so a record costs what it holds and not
 * a 4 KB chunk mostly empty (bench/README.md, Memory).  Strings are packed
 * (alignment 1), structures aligned for any type.
 */
struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;
	size_t			 used;
	max_align_t		 data[];
};

struct arena {
	struct arena_chunk	*head;
	size_t			 virt;	/* the layout's size as one block */
};

static void *
arena_alloc_al(struct arena *a, size_t n, size_t al)
{
	struct arena_chunk	*c = a->head;
	size_t			 sz, off;
	void			*p;

	if (n > SIZE_MAX / 4)
		return NULL;
	a->virt = ((a->virt + al - 1) & ~(al - 1)) + n;
	off = c != NULL ? (c->used + al - 1) & ~(al - 1) : 0;
	if (c == NULL || off > c->size || c->size - off < n) {
		sz = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		if ((c = calloc(1, sizeof(*c) + sz)) == NULL)
			return NULL;
		c->size = sz;
		c->next = a->head;
		a->head = c;
		off = 0;
	}
	p = (char *)c->data + off;
	c->used = off + n;
	return p;
}

/* Room for any structure. */
static void *
arena_alloc(struct arena *a, size_t n)
{
	return arena_alloc_al(a, n, alignof(max_align_t));
}

/* Room for a string of n bytes, NUL included. */
static char *
arena_str(struct arena *a, size_t n)
{
	return arena_alloc_al(a, n, 1);
}

/* An empty arena whose first chunk holds size bytes exactly; or NULL. */
static struct arena *
arena_new(size_t size)
{
	struct arena	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if (size > 0) {
		if ((a->head = calloc(1, sizeof(*a->head) + size)) == NULL) {
			free(a);
			return NULL;
		}
		a->head->size = size;
	}
	return a;
}

static void
arena_free(struct arena *a)
{
	struct arena_chunk	*c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/*
 * The strings many records share (set specs, language tags, publishers,
 * organisations, licences, media types...) are kept once for the process,
 * in a pool that only grows and never frees: records point into it without
 * references, and a string in it never changes.  Bounded (INTERN_MAX
 * bytes; strings up to INTERN_LEN) so that editing cannot grow it without
 * end: past the bound a string is the record's own, as before.  One lock:
 * taken a few dozen times per record parsed, never while serving.
 */
#define INTERN_MAX	((size_t)16 * 1024 * 1024)
#define INTERN_LEN	256

static pthread_mutex_t	 intern_lock = PTHREAD_MUTEX_INITIALIZER;
static const char	**intern_tab;	/* open addressing, 2^k slots */
static size_t		 intern_cap, intern_n, intern_bytes;
static struct arena	 intern_arena;

static uint64_t
intern_hash(const char *s, size_t len)
{
	uint64_t	 h = 1469598103934665603ULL;	/* FNV-1a */
	size_t		 i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* Under intern_lock: the table twice as large, or -1. */
static int
intern_grow(void)
{
	const char	**t;
	size_t		 cap = intern_cap ? 2 * intern_cap : 4096, i, k;

	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return -1;
	for (i = 0; i < intern_cap; i++) {
		if (intern_tab[i] == NULL)
			continue;
		k = intern_hash(intern_tab[i], strlen(intern_tab[i])) &
		    (cap - 1);
		while (t[k] != NULL)
			k = (k + 1) & (cap - 1);
		t[k] = intern_tab[i];
	}
	free(intern_tab);
	intern_tab = t;
	intern_cap = cap;
	return 0;
}

/*
 * The pool's copy of s (len bytes, NUL-terminated) into *out: 0; 1 when
 * the pool does not take it (too long, pool full: full stays full, so
 * both builds of a record decide alike); -1 when out of memory.
 */
/* intern() with intern_lock held. */
static int
intern_locked(const char *s, size_t len, const char **out)
{
	char	*q;
	size_t	 k;

	*out = NULL;
	if (len > INTERN_LEN)
		return 1;
	for (k = intern_cap > 0 ? intern_hash(s, len) & (intern_cap - 1) : 0;
	    intern_cap > 0 && intern_tab[k] != NULL;
	    k = (k + 1) & (intern_cap - 1))
		if (strcmp(intern_tab[k], s) == 0) {
			*out = intern_tab[k];
			return 0;
		}
	if (intern_bytes + len + 1 > INTERN_MAX)
		return 1;
	if ((intern_n + 1) * 4 > intern_cap * 3 && intern_grow() == -1)
		return -1;
	k = intern_hash(s, len) & (intern_cap - 1);
	while (intern_tab[k] != NULL)
		k = (k + 1) & (intern_cap - 1);
	if ((q = arena_str(&intern_arena, len + 1)) == NULL)
		return -1;
	memcpy(q, s, len + 1);
	intern_tab[k] = *out = q;
	intern_n++;
	intern_bytes += len + 1;
	return 0;
}

static int
intern(const char *s, size_t len, const char **out)
{
	int	 rc;

	*out = NULL;
	if (len > INTERN_LEN)
		return 1;
	pthread_mutex_lock(&intern_lock);
	rc = intern_locked(s, len, out);
	pthread_mutex_unlock(&intern_lock);
	return rc;
}

/* record_int.h: the same arena and pool for record_image.c */
void *
record_arena_block(size_t size, void **arena)
{
	struct arena	*a;

	*arena = NULL;
	if (size == 0 || (a = arena_new(size)) == NULL)
		return NULL;
	a->head->used = a->virt = size;
	*arena = a;
	return a->head->data;
}

int
record_arena_one(const void *arena, const void **data, size_t *len)
{
	const struct arena	*a = arena;

	if (a == NULL || a->head == NULL || a->head->next != NULL)
		return -1;
	*data = a->head->data;
	*len = a->head->used;
	return 0;
}

void
record_arena_free(void *arena)
{
	arena_free(arena);
}

int
record_intern(const char *s, size_t len, const char **out)
{
	return intern(s, len, out);
}

int
record_intern_all(const char **s, const size_t *len, size_t n)
{
	const char	*p;
	size_t		 i;
	int		 rc = 0;

	pthread_mutex_lock(&intern_lock);
	for (i = 0; i < n; i++) {
		switch (intern_locked(s[i], len[i], &p)) {
		case -1:
			rc = -1;
			goto out;
		case 0:
			s[i] = p;
			break;
		default:
			s[i] = NULL;
		}
	}
out:
	pthread_mutex_unlock(&intern_lock);
	return rc;
}

/* What the libxml2 callbacks and the builder share for one parse. */
#define RPARSE_XSD_LINES	64

struct rparse {
	const char	*path;
	struct err	*e;
	int		 nerr;		/* messages recorded by this parse */
	int		 stop;		/* a fatal error: ignore the cascade */
	int		 doctype;	/* a DOCTYPE was seen */
	struct arena	*a;
	struct record	*r;
	int		 nomem;
	int		 is_quiet;	/* the second build: tell nothing */
	int		 share;		/* > 0: texts go to the pool */
	record_diag_fn	*fn;		/* NULL: errors into e only */
	void		*arg;
	xmlDocPtr	 xsd;
	const unsigned char *hash;	/* the bytes' SHA-256, or NULL */
	int		 is_valid;	/* they pass the schema: skip it */
	/* lines the schema objected to (lint_values() leaves them alone) */
	long		 xsd_lines[RPARSE_XSD_LINES];
	size_t		 nxsd_lines;
};

static const char *const type_names[RECORD_TYPE_COUNT] = {
	"report", "policy-brief", "working-paper", "book", "chapter",
	"article", "dataset", "presentation", "event", "news",
};

const char *
record_type_name(enum record_type t)
{
	if ((unsigned)t >= RECORD_TYPE_COUNT)
		return NULL;
	return type_names[t];
}

int
record_type_parse(const char *s, enum record_type *out)
{
	int	 i;

	for (i = 0; s != NULL && i < RECORD_TYPE_COUNT; i++)
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum record_type)i;
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Messages */

/* Report one problem: to the caller's fn, and errors into e. */
static void
rp_diag(struct rparse *rp, enum record_severity sev, const char *code,
    long line, int col, const char *text)
{
	struct record_diag	 d;

	if (line < 0 || line > INT_MAX)
		line = 0;
	if (sev == RECORD_ERROR)
		rp->nerr++;
	if (rp->is_quiet)
		return;
	if (rp->fn != NULL) {
		d.severity = sev;
		d.code = code;
		d.line = line;
		d.col = col;
		d.msg = text;
		rp->fn(rp->arg, &d);
	} else if (sev == RECORD_ERROR)
		err_at(rp->e, rp->path, (int)line, col, "%s", text);
}

/* Record one error; its code is the one of its format (record_msg.c). */
static void
rp_err(struct rparse *rp, long line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
rp_err(struct rparse *rp, long line, int col, const char *fmt, ...)
{
	char	 text[ERR_MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rp_diag(rp, RECORD_ERROR, record_msg_code(fmt), line, col, text);
}

/* A warning: reported, but the record is still good. */
static void
rp_warn(struct rparse *rp, const char *code, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
rp_warn(struct rparse *rp, const char *code, long line, const char *fmt, ...)
{
	char	 text[ERR_MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rp_diag(rp, RECORD_WARNING, code, line, 0, text);
}

/*
 * libxml2's message without its trailing newline, and with our own namespace
 * dropped from "{https://pubfeed.org/ns/record/1}title": every element of a
 * valid record is in it, so it only makes the messages unreadable.
 */
static void
xml_msg(const char *in, char *out, size_t outsz)
{
	static const char	 ns[] = "{" RECORD_NS "}";
	size_t			 o = 0;

	if (in == NULL)
		in = "unknown error";
	while (*in != '\0' && o + 1 < outsz) {
		if (strncmp(in, ns, sizeof(ns) - 1) == 0) {
			in += sizeof(ns) - 1;
			continue;
		}
		out[o++] = *in == '\n' ? ' ' : *in;
		in++;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* Structured error callback of the parser context; data is the context. */
static void
parse_error(void *data, xmlErrorPtr xe)
{
	xmlParserCtxtPtr	 ctxt = data;
	struct rparse		*rp = ctxt->_private;
	const char		*code;
	char			 msg[ERR_MSG_MAX];

	if (rp == NULL || rp->stop || xe == NULL ||
	    xe->level < XML_ERR_ERROR)
		return;
	code = record_msg_xml(NULL, xe, 0, msg, sizeof(msg));
	rp_diag(rp, RECORD_ERROR, code, xe->line, xe->int2, msg);
	if (xe->level == XML_ERR_FATAL)
		rp->stop = 1;
}

/* Schema validation and schema compilation errors. */
static void
valid_error(void *data, xmlErrorPtr xe)
{
	struct rparse	*rp = data;
	const char	*code;
	char		 msg[ERR_MSG_MAX];

	if (xe == NULL || xe->level < XML_ERR_ERROR)
		return;
	if (rp->xsd == NULL) {		/* compiling the schema itself */
		xml_msg(xe->message, msg, sizeof(msg));
		rp_err(rp, xe->line, xe->int2, "%s", msg);
		return;
	}
	code = record_msg_xml(rp->xsd, xe, 1, msg, sizeof(msg));
	rp_diag(rp, RECORD_ERROR, code, xe->line, xe->int2, msg);
	if (rp->nxsd_lines < RPARSE_XSD_LINES)
		rp->xsd_lines[rp->nxsd_lines++] = xe->line;
}

/*
 * SAX internalSubset: called as soon as "<!DOCTYPE name ExternalID" has been
 * read, before the internal subset or any external DTD.  Stopping here means
 * no entity is ever declared, expanded or fetched.
 */
static void
parse_doctype(void *data, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	static const char	 kw[] = "<!DOCTYPE";
	xmlParserCtxtPtr	 ctxt = data;
	struct rparse		*rp = ctxt->_private;
	xmlParserInputPtr	 in = ctxt->input;
	const xmlChar		*p, *q;
	long			 line = 0;
	int			 col = 0;

	if (in != NULL && in->base != NULL && in->cur != NULL) {
		line = in->line;
		for (p = in->cur; p >= in->base + sizeof(kw) - 1; p--)
			if (memcmp(p - (sizeof(kw) - 1), kw,
			    sizeof(kw) - 1) == 0)
				break;
		if (p >= in->base + sizeof(kw) - 1) {
			p -= sizeof(kw) - 1;
			for (q = p; q < in->cur; q++)
				if (*q == '\n')
					line--;
			for (q = p; q > in->base && q[-1] != '\n'; q--)
				continue;
			col = (int)(p - q) + 1;
		}
	}
	if (!rp->stop)
		rp_err(rp, line, col, "DOCTYPE is not allowed: records are "
		    "read without a DTD and never expand entities (a DTD can "
		    "read other files or the network, or blow up in size): "
		    "delete the <!DOCTYPE ...> declaration");
	rp->doctype = 1;
	rp->stop = 1;
	xmlStopParser(ctxt);
}

/* ------------------------------------------------------------------ */
/* Schema */

struct record_schema *
record_schema_new(struct err *e)
{
	struct record_schema	*rs = NULL;
	xmlSchemaParserCtxtPtr	 pc = NULL;
	struct rparse		 rp;

	memset(&rp, 0, sizeof(rp));
	rp.path = "record.xsd";
	rp.e = e;
	xmlInitParser();
	/*
	 * libical fills its zone table on the first lookup, and a lookup on
	 * another thread meanwhile reads the half-built table (a crash with
	 * the store's reader threads): filled here, before any parse or
	 * calendar rendering runs on a thread.
	 */
	(void)icaltimezone_get_builtin_timezones();
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		err_set(e, "record schema: out of memory");
		goto out;
	}
	pc = xmlSchemaNewMemParserCtxt((const char *)record_xsd,
	    (int)record_xsd_len);
	if (pc == NULL) {
		err_set(e, "record schema: out of memory");
		goto out;
	}
	xmlSchemaSetParserStructuredErrors(pc, valid_error, &rp);
	rs->schema = xmlSchemaParse(pc);
	if (rs->schema == NULL && rp.nerr == 0)
		err_set(e, "record schema: cannot compile record.xsd");
	if (rs->schema != NULL && (rs->xsd = xmlReadMemory(
	    (const char *)record_xsd, (int)record_xsd_len, "record.xsd", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) ==
	    NULL) {
		err_set(e, "record schema: out of memory");
		xmlSchemaFree(rs->schema);
		rs->schema = NULL;
	}
	if (rs->schema != NULL) {
		struct hash_ctx	 hc;

		hash_init(&hc);
		hash_update_str(&hc, PUBFEED_VERSION);
		hash_update_str(&hc, xmlParserVersion);
		hash_update_i64(&hc, (int64_t)record_xsd_len);
		hash_update(&hc, record_xsd, record_xsd_len);
		record_image_layout(&hc);
		hash_final(&hc, rs->validator);
	}
out:
	if (pc != NULL)
		xmlSchemaFreeParserCtxt(pc);
	if (rs != NULL && rs->schema == NULL) {
		free(rs);
		rs = NULL;
	}
	return rs;
}

const unsigned char *
record_schema_validator(const struct record_schema *rs)
{
	return rs->validator;
}

void
record_schema_free(struct record_schema *rs)
{
	if (rs == NULL)
		return;
	xmlSchemaFree(rs->schema);
	xmlFreeDoc(rs->xsd);
	free(rs);
}

/* ------------------------------------------------------------------ */
/* Pre-scan */

/*
 * libxml2 2.9 checks an element's attributes for duplicates pairwise: one
 * start tag with 100,000 attributes costs minutes.  Before libxml2 sees the
 * bytes, one linear pass counts attributes per start tag and in all, and
 * refuses a file past RECORD_MAX_ATTRS or RECORD_MAX_ATTRS_TOTAL, naming
 * the start tag (line:col of its '<').  Comments, CDATA sections,
 * processing instructions and declarations are skipped; anything the pass
 * does not understand ends it and is left to the parser, whose own cost on
 * malformed input is linear (it stops at the first fatal error).
 */
#define PRESCAN_MAX_MSGS	10

struct prescan {
	const char	*p, *end;
	long		 line;
	const char	*bol;		/* first byte of this line */
};

static void
ps_adv(struct prescan *ps, size_t n)
{
	while (n-- > 0 && ps->p < ps->end)
		if (*ps->p++ == '\n') {
			ps->line++;
			ps->bol = ps->p;
		}
}

/* Skip past the first occurrence of s; 0 when it is not there. */
static int
ps_skip_past(struct prescan *ps, const char *s)
{
	const char	*q;
	size_t		 n = strlen(s);

	q = memmem(ps->p, (size_t)(ps->end - ps->p), s, n);
	if (q == NULL)
		return 0;
	ps_adv(ps, (size_t)(q - ps->p) + n);
	return 1;
}

static int
ps_starts(const struct prescan *ps, const char *s)
{
	size_t	 n = strlen(s);

	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static int
ps_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The start tag at ps->p (just past '<'): the number of its attributes,
 * or -1 when it is not something the pass understands.
 */
static long
ps_start_tag(struct prescan *ps, char *name, size_t namesz)
{
	size_t	 n = 0;
	long	 count = 0;
	char	 q;

	while (ps->p < ps->end && !ps_is_space(*ps->p) && *ps->p != '>' &&
	    *ps->p != '/') {
		if (n + 1 < namesz)
			name[n++] = *ps->p;
		ps_adv(ps, 1);
	}
	name[n] = '\0';
	for (;;) {
		while (ps->p < ps->end && ps_is_space(*ps->p))
			ps_adv(ps, 1);
		if (ps->p >= ps->end)
			return -1;
		if (*ps->p == '>' || ps_starts(ps, "/>"))
			return count;
		/* an attribute: name, '=', a quoted value */
		while (ps->p < ps->end && *ps->p != '=' && *ps->p != '>' &&
		    !ps_is_space(*ps->p))
			ps_adv(ps, 1);
		while (ps->p < ps->end && ps_is_space(*ps->p))
			ps_adv(ps, 1);
		if (ps->p >= ps->end || *ps->p != '=')
			return -1;
		ps_adv(ps, 1);
		while (ps->p < ps->end && ps_is_space(*ps->p))
			ps_adv(ps, 1);
		if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
			return -1;
		q = *ps->p;
		ps_adv(ps, 1);
		if (!ps_skip_past(ps, q == '"' ? "\"" : "'"))
			return -1;
		count++;
	}
}

/* 0, or -1 after reporting every element (up to a few) over the limits. */
static int
prescan(struct rparse *rp, const char *buf, size_t len)
{
	struct prescan	 ps = { buf, buf + len, 1, buf };
	char		 name[64];
	long		 n, line, total = 0;
	int		 col, nmsg = 0;

	while (ps.p < ps.end && nmsg < PRESCAN_MAX_MSGS) {
		const char *lt = memchr(ps.p, '<', (size_t)(ps.end - ps.p));

		if (lt == NULL)
			break;
		ps_adv(&ps, (size_t)(lt - ps.p));
		line = ps.line;
		col = (int)(ps.p - ps.bol) + 1;
		if (ps_starts(&ps, "<!--")) {
			if (!ps_skip_past(&ps, "-->"))
				break;
		} else if (ps_starts(&ps, "<![CDATA[")) {
			if (!ps_skip_past(&ps, "]]>"))
				break;
		} else if (ps_starts(&ps, "<?")) {
			if (!ps_skip_past(&ps, "?>"))
				break;
		} else if (ps_starts(&ps, "<!") || ps_starts(&ps, "</")) {
			if (!ps_skip_past(&ps, ">"))
				break;
		} else {
			ps_adv(&ps, 1);
			if ((n = ps_start_tag(&ps, name, sizeof(name))) == -1)
				break;
			if (n > RECORD_MAX_ATTRS) {
				rp_err(rp, line, col, "element '%s' has %ld "
				    "attributes, more than %d: refused before "
				    "parsing", name, n, RECORD_MAX_ATTRS);
				nmsg++;
			}
			/* one message per element: the first limit hit */
			else if (total <= RECORD_MAX_ATTRS_TOTAL &&
			    total + n > RECORD_MAX_ATTRS_TOTAL) {
				rp_err(rp, line, col, "more than %d "
				    "attributes in the file: refused before "
				    "parsing", RECORD_MAX_ATTRS_TOTAL);
				nmsg++;
			}
			total += n;
		}
	}
	return nmsg > 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Parsing */

/*
 * Records are UTF-8: the first byte that is not, by its offset, line and
 * column, and how to fix it (libxml2 only says "Input is not proper UTF-8,
 * indicate encoding !").
 */
static int
utf8_check(struct rparse *rp, const char *buf, size_t len)
{
	size_t		 off = record_msg_utf8_bad(buf, len), i, bol = 0;
	long		 line = 1;

	if (off == len)
		return 0;
	for (i = 0; i < off; i++)
		if (buf[i] == '\n') {
			line++;
			bol = i + 1;
		}
	rp_err(rp, line, (int)(off - bol) + 1, "not UTF-8: byte 0x%02X at "
	    "offset %zu is not UTF-8 (the file was probably saved as "
	    "windows-1252 or latin-1): save it as UTF-8 (in most editors: "
	    "Save As, Encoding: UTF-8)", (unsigned char)buf[off], off);
	return -1;
}

/* Parse well-formed XML without a DOCTYPE; NULL after reporting why. */
static xmlDocPtr
parse_xml(struct rparse *rp, const char *buf, size_t len)
{
	xmlParserCtxtPtr	 ctxt;
	xmlDocPtr		 doc = NULL;

	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		rp_err(rp, 0, 0, "out of memory");
		return NULL;
	}
	ctxt->_private = rp;
	ctxt->sax->serror = parse_error;
	ctxt->sax->internalSubset = parse_doctype;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->resolveEntity = NULL;
	/*
	 * Records are UTF-8.  Forcing it also keeps libxml2 away from iconv,
	 * whose conversion errors carry no parser context and would go to
	 * the process-wide handler (stderr) instead of ours.
	 */
	if (len >= 2 && ((buf[0] == '\xfe' && buf[1] == '\xff') ||
	    (buf[0] == '\xff' && buf[1] == '\xfe'))) {
		rp_err(rp, 1, 1, "not UTF-8: the file is UTF-16 (it starts "
		    "with a UTF-16 byte order mark): save it as UTF-8");
		goto out;
	}
	if (utf8_check(rp, buf, len) == -1)
		goto out;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOCDATA);
	if (doc != NULL && (rp->nerr > 0 || rp->doctype ||
	    !ctxt->wellFormed || !ctxt->nsWellFormed)) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (doc == NULL && rp->nerr == 0)
		rp_err(rp, 0, 0, "not well-formed");
out:
	xmlFreeParserCtxt(ctxt);
	return doc;
}

static int
validate(struct rparse *rp, struct record_schema *rs, xmlDocPtr doc)
{
	xmlSchemaValidCtxtPtr	 vc;
	int			 before = rp->nerr, rc;

	if ((vc = xmlSchemaNewValidCtxt(rs->schema)) == NULL) {
		rp_err(rp, 0, 0, "out of memory");
		return -1;
	}
	xmlSchemaSetValidStructuredErrors(vc, valid_error, rp);
	rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	if (rc != 0 && rp->nerr == before)
		rp_err(rp, 0, 0, "not valid against the record schema");
	return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Building: text helpers */

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *shared(struct rparse *, const char *);

/*
 * s into o (room for strlen(s) + 1) with white space trimmed and runs
 * collapsed to one space.  With paragraphs, a run holding a blank line
 * becomes "\n\n" so an abstract keeps its paragraphs.
 */
static void
text_norm(char *o, const char *s, int paragraphs)
{
	int	 nl;

	while (is_space((unsigned char)*s))
		s++;
	while (*s != '\0') {
		if (!is_space((unsigned char)*s)) {
			*o++ = *s++;
			continue;
		}
		for (nl = 0; is_space((unsigned char)*s); s++)
			nl += *s == '\n';
		if (*s == '\0')
			break;
		if (paragraphs && nl >= 2) {
			*o++ = '\n';
			*o++ = '\n';
		} else
			*o++ = ' ';
	}
	*o = '\0';
}

/* s normalised (text_norm()): the pool's when rp->share, else the arena's. */
static const char *
arena_text(struct rparse *rp, const char *s, int paragraphs)
{
	char	*out, tmp[INTERN_LEN + 1];
	size_t	 n = strlen(s) + 1;

	if (rp->share > 0 && n <= sizeof(tmp)) {
		text_norm(tmp, s, paragraphs);
		return shared(rp, tmp);
	}
	if ((out = arena_str(rp->a, n)) == NULL) {
		rp->nomem = 1;
		return "";
	}
	text_norm(out, s, paragraphs);
	return out;
}

/* s (a scratch copy) from the pool, else copied into the arena. */
static const char *
shared(struct rparse *rp, const char *s)
{
	const char	*p;
	char		*q;
	size_t		 n = strlen(s);

	switch (intern(s, n, &p)) {
	case 0:
		return p;
	case -1:
		rp->nomem = 1;	/* as any allocation of the record */
		return "";
	}
	if ((q = arena_str(rp->a, n + 1)) == NULL) {
		rp->nomem = 1;
		return "";
	}
	memcpy(q, s, n + 1);
	return q;
}

/* The element's text, normalised, in the arena; "" when empty. */
static const char *
node_text(struct rparse *rp, xmlNodePtr n, int paragraphs)
{
	xmlChar		*c;
	const char	*s;

	if ((c = xmlNodeGetContent(n)) == NULL)
		return arena_text(rp, "", 0);
	s = arena_text(rp, (const char *)c, paragraphs);
	xmlFree(c);
	return s;
}

/* Text that must not be empty. */
static const char *
node_text_req(struct rparse *rp, xmlNodePtr n, int paragraphs)
{
	const char	*s = node_text(rp, n, paragraphs);

	if (*s == '\0')
		rp_err(rp, xmlGetLineNo(n), 0, "%s is empty",
		    (const char *)n->name);
	return s;
}

/* An unqualified attribute, normalised, or NULL when absent. */
static const char *
attr(struct rparse *rp, xmlNodePtr n, const char *name)
{
	xmlChar		*v;
	const char	*s;

	if ((v = xmlGetNoNsProp(n, (const xmlChar *)name)) == NULL)
		return NULL;
	s = arena_text(rp, (const char *)v, 0);
	xmlFree(v);
	return s;
}

/*
 * A language code in its canonical form (lang_canon(): "eng" is "en"), in
 * the arena; s itself when it is a tag without a code ("x-klingon", "i-").
 */
static const char *
canon_lang(struct rparse *rp, const char *s)
{
	char	*out, tmp[INTERN_LEN + 1];
	size_t	 n = strlen(s) + 1;

	/* a language tag is the string records share most */
	if (n <= sizeof(tmp))
		return lang_canon(s, tmp, n) != NULL ? shared(rp, tmp) : s;
	if ((out = arena_str(rp->a, n)) == NULL) {
		rp->nomem = 1;
		return s;
	}
	return lang_canon(s, out, n) != NULL ? out : s;
}

/* The element's own xml:lang (canonical), or NULL; reports a bad one. */
static const char *
own_lang(struct rparse *rp, xmlNodePtr n)
{
	xmlChar		*v;
	const char	*s;

	v = xmlGetNsProp(n, (const xmlChar *)"lang", XML_XML_NAMESPACE);
	if (v == NULL)
		return NULL;
	rp->share++;
	s = arena_text(rp, (const char *)v, 0);
	rp->share--;
	xmlFree(v);
	if (!syntax_is_lang(s)) {
		rp_err(rp, xmlGetLineNo(n), 0,
		    "xml:lang is not a language tag: '%s'", s);
		return NULL;
	}
	return canon_lang(rp, s);
}

static int
is_el(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr
first_el(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	 n;

	for (n = parent->children; n != NULL; n = n->next)
		if (is_el(n, name))
			return n;
	return NULL;
}

static size_t
count_el(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	 n;
	size_t		 c = 0;

	for (n = parent->children; n != NULL; n = n->next)
		c += is_el(n, name);
	return c;
}

/* Zeroed array of n elements of size sz in the arena (n may be 0). */
static void *
arena_array(struct rparse *rp, size_t n, size_t sz)
{
	void	*p;

	if (n == 0)
		return NULL;
	if (n > SIZE_MAX / sz || (p = arena_alloc(rp->a, n * sz)) == NULL) {
		rp->nomem = 1;
		return NULL;
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* Building: checks */

/* With partial, a year or a month alone is a date too (issued, event). */
static void
check_date(struct rparse *rp, xmlNodePtr n, struct date *out, int partial)
{
	const char	*s = node_text(rp, n, 0), *why;

	if (partial && date_parse_partial(s, strlen(s), out, &why) == -1)
		rp_err(rp, xmlGetLineNo(n), 0, "<%s> is not a real date: '%s' "
		    "(%s): write YYYY-MM-DD, YYYY-MM or YYYY, or "
		    "YYYY-MM-DDThh:mm:ssZ with a time", (const char *)n->name,
		    s, why != NULL ? why : "out of range");
	else if (!partial && date_parse_record(s, strlen(s), out, &why) == -1)
		rp_err(rp, xmlGetLineNo(n), 0, "<%s> is not a real date: '%s' "
		    "(%s): write YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ with a "
		    "time", (const char *)n->name,
		    s, why != NULL ? why : "out of range");
}

static void
check_url(struct rparse *rp, xmlNodePtr n, const char *what, const char *s)
{
	if (s != NULL && !syntax_is_http_url(s))
		rp_err(rp, xmlGetLineNo(n), 0,
		    "%s is not an absolute http(s) URL: '%s': write it in "
		    "full, starting with https://", what, s);
}

/* The event's timezone attribute, or NULL; one libical cannot find is told. */
static const char *
check_timezone(struct rparse *rp, xmlNodePtr ev)
{
	const char	*tz;

	if ((tz = attr(rp, ev, "timezone")) != NULL &&
	    icaltimezone_get_builtin_timezone(tz) == NULL)
		rp_err(rp, xmlGetLineNo(ev), 0, "unknown time zone '%s'", tz);
	return tz;
}

static int
xsd_objected(const struct rparse *rp, long line)
{
	size_t	 i;

	for (i = 0; i < rp->nxsd_lines; i++)
		if (rp->xsd_lines[i] == line)
			return 1;
	/* past the table's end the schema may have objected to anything */
	return rp->nxsd_lines == RPARSE_XSD_LINES;
}

/*
 * The checks of values the schema cannot see (dates, URLs, time zones),
 * run when it said no and no record is built: so an editor hears of every
 * problem in one run of "pubfeed check", not of one kind per run.  The
 * same checks and messages as the build; elements on a line the schema
 * objected to are left to its message.
 */
static void
lint_one(struct rparse *rp, xmlNodePtr n, int in_event)
{
	struct date	 d;

	if (is_el(n, "issued") ||
	    (in_event && (is_el(n, "start") || is_el(n, "end"))))
		check_date(rp, n, &d, 1);
	else if (is_el(n, "modified"))
		check_date(rp, n, &d, 0);
	else if (is_el(n, "link"))
		check_url(rp, n, "<link href>", attr(rp, n, "href"));
	else if (is_el(n, "event"))
		(void)check_timezone(rp, n);
}

static void
lint_values(struct rparse *rp, xmlNodePtr parent, int in_event)
{
	xmlNodePtr	 n;

	for (n = parent->children; n != NULL && !rp->nomem; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!xsd_objected(rp, xmlGetLineNo(n)))
			lint_one(rp, n, in_event);
		/* an event's dates are one level down; nothing is deeper */
		if (parent->parent != NULL &&
		    parent->parent->type == XML_DOCUMENT_NODE)
			lint_values(rp, n, is_el(n, "event"));
	}
}

/* ORCID check digit: ISO 7064 MOD 11-2 over the first 15 digits. */
static int
orcid_ok(const char *s)
{
	int	 total = 0, digits = 0, r;

	for (; *s != '\0'; s++) {
		if (*s == '-')
			continue;
		if (digits == 15)
			break;
		if (*s < '0' || *s > '9')
			return 0;
		total = (total + (*s - '0')) * 2;
		digits++;
	}
	if (digits != 15 || s[1] != '\0')
		return 0;
	r = (12 - total % 11) % 11;
	return *s == (r == 10 ? 'X' : '0' + r);
}

/* ------------------------------------------------------------------ */
/* Building: elements */

static void
build_texts(struct rparse *rp, xmlNodePtr root, const char *name,
    struct record_text **out, size_t *nout, int paragraphs)
{
	struct record_text	*t;
	xmlNodePtr		 n;
	const char		*lang;
	size_t			 i = 0;
	int			 is_subject = strcmp(name, "subject") == 0;

	*nout = count_el(root, name);
	if ((t = *out = arena_array(rp, *nout, sizeof(*t))) == NULL) {
		*nout = 0;
		return;
	}
	for (n = root->children; n != NULL; n = n->next) {
		if (!is_el(n, name))
			continue;
		lang = own_lang(rp, n);
		t[i].lang = lang != NULL ? lang : rp->r->lang;
		/* keywords repeat across records; titles, abstracts do not */
		rp->share += is_subject;
		t[i].text = node_text_req(rp, n, paragraphs);
		rp->share -= is_subject;
		i++;
	}
}

/* Two abstracts in one language: the second one is an error. */
static void
check_abstracts(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n, m;
	size_t		 i = 0, j;

	for (n = root->children; n != NULL && i < r->nabstracts;
	    n = n->next) {
		if (!is_el(n, "abstract"))
			continue;
		for (j = 0, m = root->children; j < i; m = m->next) {
			if (!is_el(m, "abstract"))
				continue;
			if ((r->abstracts[i].lang == NULL &&
			    r->abstracts[j].lang == NULL) ||
			    (r->abstracts[i].lang != NULL &&
			    r->abstracts[j].lang != NULL &&
			    strcasecmp(r->abstracts[i].lang,
			    r->abstracts[j].lang) == 0)) {
				rp_err(rp, xmlGetLineNo(n), 0, "abstract in "
				    "language '%s' repeats the one on line %ld",
				    r->abstracts[i].lang != NULL ?
				    r->abstracts[i].lang : "",
				    xmlGetLineNo(m));
				break;
			}
			j++;
		}
		i++;
	}
}

static void
build_person(struct rparse *rp, xmlNodePtr p, struct record_agent *ag)
{
	xmlNodePtr	 n;
	const char	*s;
	char		*name;
	size_t		 len;

	ag->kind = RECORD_PERSON;
	for (n = p->children; n != NULL; n = n->next) {
		rp->share++;	/* authors and their institutes repeat */
		if (is_el(n, "family"))
			ag->family = node_text_req(rp, n, 0);
		else if (is_el(n, "given"))
			ag->given = node_text_req(rp, n, 0);
		else if (is_el(n, "affiliation"))
			ag->affiliation = node_text_req(rp, n, 0);
		rp->share--;
		if (is_el(n, "family") || is_el(n, "given") ||
		    is_el(n, "affiliation"))
			continue;
		if (is_el(n, "email"))
			ag->email = node_text(rp, n, 0);
		else if (is_el(n, "orcid")) {
			s = ag->orcid = node_text(rp, n, 0);
			if (!orcid_ok(s))
				rp_err(rp, xmlGetLineNo(n), 0,
				    "orcid has a bad check digit: '%s'", s);
		}
	}
	if (ag->family == NULL)
		ag->family = "";
	if (ag->given == NULL || *ag->given == '\0') {
		ag->name = ag->family;
		return;
	}
	len = strlen(ag->given) + 1 + strlen(ag->family) + 1;
	if ((name = arena_str(rp->a, len)) == NULL) {
		rp->nomem = 1;
		ag->name = ag->family;
		return;
	}
	snprintf(name, len, "%s %s", ag->given, ag->family);
	ag->name = name;
}

static void
build_agents(struct rparse *rp, xmlNodePtr root, const char *name,
    struct record_agent **out, size_t *nout)
{
	struct record_agent	*ag;
	xmlNodePtr		 n, c;
	size_t			 i = 0;

	*nout = count_el(root, name);
	if ((ag = *out = arena_array(rp, *nout, sizeof(*ag))) == NULL) {
		*nout = 0;
		return;
	}
	for (n = root->children; n != NULL; n = n->next) {
		if (!is_el(n, name))
			continue;
		rp->share++;
		ag[i].role = attr(rp, n, "role");
		rp->share--;
		ag[i].name = "";
		if ((c = first_el(n, "person")) != NULL)
			build_person(rp, c, &ag[i]);
		else if ((c = first_el(n, "organisation")) != NULL) {
			ag[i].kind = RECORD_ORG;
			rp->share++;
			ag[i].name = node_text_req(rp, c, 0);
			rp->share--;
		}
		i++;
	}
}

/*
 * The zone must be one the calendar renderer can emit a VTIMEZONE for, so
 * it is looked up where that renderer looks: libical's zone table (the
 * system's zoneinfo on Debian).  The table is a fixed list of names, so a
 * name like "../x" can never reach the file system.
 */
static void
build_event_attrs(struct rparse *rp, xmlNodePtr ev, struct record_event *e)
{
	const char	*st;

	e->timezone = check_timezone(rp, ev);
	e->status = RECORD_EVENT_CONFIRMED;
	if ((st = attr(rp, ev, "status")) == NULL)
		return;
	if (strcmp(st, "tentative") == 0)
		e->status = RECORD_EVENT_TENTATIVE;
	else if (strcmp(st, "cancelled") == 0)
		e->status = RECORD_EVENT_CANCELLED;
}

static void
build_event(struct rparse *rp, xmlNodePtr ev)
{
	struct record_event	*e;
	xmlNodePtr		 n, end = NULL;
	int64_t			 last;
	char			 a[DATE_ISO_LEN], b[DATE_ISO_LEN];

	if ((e = arena_array(rp, 1, sizeof(*e))) == NULL)
		return;
	rp->r->event = e;
	e->end.t = INT64_MIN;
	build_event_attrs(rp, ev, e);
	for (n = ev->children; n != NULL; n = n->next) {
		if (is_el(n, "start"))
			check_date(rp, n, &e->start, 1);
		else if (is_el(n, "end"))
			check_date(rp, (end = n), &e->end, 1);
		else if (is_el(n, "place")) {
			e->place = node_text_req(rp, n, 0);
			e->country = attr(rp, n, "country");
		}
	}
	if (end == NULL) {
		e->end = e->start;
		return;
	}
	/* A day, month or year end lasts until the end of that period. */
	last = e->end.gran == DATE_SECOND ? e->end.t : date_end(&e->end) - 1;
	if (last < e->start.t) {
		date_fmt(&e->end, a);
		date_fmt(&e->start, b);
		rp_err(rp, xmlGetLineNo(end), 0,
		    "event end '%s' is before its start '%s'", a, b);
	}
}

static void
build_idents(struct rparse *rp, xmlNodePtr root)
{
	static const char *const kinds[] = {
		"doi", "isbn", "issn", "handle", "urn", "url",
	};
	struct record		*r = rp->r;
	struct record_ident	*id;
	xmlNodePtr		 n;
	const char		*k;
	size_t			 i = 0, j;

	r->nidents = count_el(root, "identifier");
	if ((id = r->idents = arena_array(rp, r->nidents,
	    sizeof(*id))) == NULL) {
		r->nidents = 0;
		return;
	}
	for (n = root->children; n != NULL; n = n->next) {
		if (!is_el(n, "identifier"))
			continue;
		k = attr(rp, n, "type");
		for (j = 0; k != NULL && j < sizeof(kinds) / sizeof(*kinds);
		    j++)
			if (strcmp(k, kinds[j]) == 0)
				id[i].kind = (enum record_id_kind)j;
		id[i].value = node_text_req(rp, n, 0);
		if (id[i].kind == RECORD_ID_DOI &&
		    strncmp(id[i].value, "10.", 3) != 0)
			rp_err(rp, xmlGetLineNo(n), 0,
			    "doi does not start with '10.': '%s'",
			    id[i].value);
		if (id[i].kind == RECORD_ID_URL)
			check_url(rp, n, "<identifier type=\"url\">",
			    id[i].value);
		i++;
	}
}

static void
build_link(struct rparse *rp, xmlNodePtr n, struct record_link *l)
{
	const char	*rel, *len;
	char		*end;
	long long	 v;

	rp->share++;
	rel = attr(rp, n, "rel");
	rp->share--;
	l->rel = RECORD_LINK_RELATED;
	if (rel != NULL && strcmp(rel, "landing") == 0)
		l->rel = RECORD_LINK_LANDING;
	else if (rel != NULL && strcmp(rel, "fulltext") == 0)
		l->rel = RECORD_LINK_FULLTEXT;
	l->href = attr(rp, n, "href");
	if (l->href == NULL)
		l->href = "";
	check_url(rp, n, "<link href>", l->href);
	rp->share++;		/* media types and link labels repeat */
	l->type = attr(rp, n, "type");
	l->title = attr(rp, n, "title");
	rp->share--;
	l->lang = own_lang(rp, n);
	l->length = -1;
	if ((len = attr(rp, n, "length")) != NULL) {
		errno = 0;
		v = strtoll(len, &end, 10);
		if (errno != 0 || end == len || *end != '\0' || v < 0)
			rp_err(rp, xmlGetLineNo(n), 0,
			    "length is not a byte count: '%s'", len);
		else
			l->length = v;
	}
	if (l->rel != RECORD_LINK_FULLTEXT)
		return;
	if (l->type == NULL)
		rp_err(rp, xmlGetLineNo(n), 0,
		    "fulltext link needs a type attribute: add the media "
		    "type, e.g. type=\"application/pdf\"");
	if (len == NULL)
		rp_warn(rp, "fulltext-no-length", xmlGetLineNo(n),
		    "<link rel=\"fulltext\"> has no length attribute: add "
		    "length=\"BYTES\", the file's size, so that feed readers "
		    "can show it");
}

static void
build_links(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n;
	size_t		 i = 0;

	r->nlinks = count_el(root, "link");
	if ((r->links = arena_array(rp, r->nlinks,
	    sizeof(*r->links))) == NULL) {
		r->nlinks = 0;
		return;
	}
	for (n = root->children; n != NULL; n = n->next)
		if (is_el(n, "link"))
			build_link(rp, n, &r->links[i++]);
}

/* Elements of which there are many plain strings: language and set. */
static void
build_strings(struct rparse *rp, xmlNodePtr root, const char *name,
    const char ***out, size_t *nout)
{
	xmlNodePtr	 n;
	size_t		 i = 0;

	*nout = count_el(root, name);
	if ((*out = arena_array(rp, *nout, sizeof(**out))) == NULL) {
		*nout = 0;
		return;
	}
	rp->share++;		/* set specs and language codes repeat */
	for (n = root->children; n != NULL; n = n->next)
		if (is_el(n, name))
			(*out)[i++] = node_text(rp, n, 0);
	rp->share--;
}

/* language: any ISO 639 code or BCP 47 tag, kept in canonical form. */
static void
build_languages(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n;
	size_t		 i = 0;

	build_strings(rp, root, "language", &r->languages, &r->nlanguages);
	for (n = root->children; n != NULL; n = n->next) {
		if (!is_el(n, "language") || i >= r->nlanguages)
			continue;
		if (!lang_is_code(r->languages[i]))
			rp_err(rp, xmlGetLineNo(n), 0, "<language> is not a "
			    "language code: '%s': write an ISO 639 code or a "
			    "BCP 47 tag, for example 'en', 'eng', 'nb' or "
			    "'en-GB'", r->languages[i]);
		else
			r->languages[i] = canon_lang(rp, r->languages[i]);
		i++;
	}
}

/* The single optional elements: publisher, place, series, rights. */
static void
build_singles(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n;

	rp->share++;		/* each of them repeats across records */
	if ((n = first_el(root, "publisher")) != NULL)
		r->publisher = node_text_req(rp, n, 0);
	if ((n = first_el(root, "place")) != NULL) {
		r->place = node_text_req(rp, n, 0);
		r->place_country = attr(rp, n, "country");
	}
	if ((n = first_el(root, "series")) != NULL)
		r->series = node_text_req(rp, n, 0);
	if ((n = first_el(root, "rights")) != NULL) {
		r->rights = node_text(rp, n, 0);
		if (*r->rights == '\0')
			r->rights = NULL;
		r->license = attr(rp, n, "license");
		check_url(rp, n, "<rights license>", r->license);
		if (r->rights == NULL && r->license == NULL)
			rp_err(rp, xmlGetLineNo(n), 0, "rights is empty");
	}
	rp->share--;
}

static const char *const access_names[] = {
	"", "open", "embargoed", "restricted", "metadata-only",
};

const char *
record_access_name(enum record_access a)
{
	if ((size_t)a >= sizeof(access_names) / sizeof(*access_names))
		return "";
	return access_names[a];
}

/* access: the COAR access right; an embargo names the day it ends. */
static void
build_access(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n;
	const char	*s, *until, *why;
	size_t		 i;

	if ((n = first_el(root, "access")) == NULL)
		return;
	s = node_text(rp, n, 0);
	for (i = 1; i < sizeof(access_names) / sizeof(*access_names); i++)
		if (strcmp(s, access_names[i]) == 0)
			r->access = (enum record_access)i;
	until = attr(rp, n, "until");
	if (r->access == RECORD_ACCESS_EMBARGOED && until == NULL)
		rp_err(rp, xmlGetLineNo(n), 0,
		    "embargoed access needs an until date");
	else if (r->access != RECORD_ACCESS_EMBARGOED && until != NULL)
		rp_err(rp, xmlGetLineNo(n), 0,
		    "until is only allowed when access is 'embargoed'");
	else if (until != NULL && date_parse_record(until, strlen(until),
	    &r->embargo_end, &why) == -1)
		rp_err(rp, xmlGetLineNo(n), 0, "until is not a date: '%s'",
		    until);
}

/* A funder id must be a URL of its scheme's registry. */
static void
check_funder_id(struct rparse *rp, xmlNodePtr n, struct record_funding *f)
{
	static const char *const schemes[] = {
		"crossref", "ror", "isni", "grid", "other",
	};
	const char	*s = attr(rp, n, "scheme"), *p;
	size_t		 i;

	f->funder_id = attr(rp, n, "id");
	if (f->funder_id == NULL) {
		if (s != NULL)
			rp_err(rp, xmlGetLineNo(n), 0,
			    "funder scheme '%s' without an id", s);
		return;
	}
	if (s == NULL) {
		rp_err(rp, xmlGetLineNo(n), 0, "funder id needs a scheme");
		return;
	}
	for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
		if (strcmp(s, schemes[i]) == 0)
			f->funder_scheme = (enum record_funder_scheme)i;
	if (!syntax_is_http_url(f->funder_id)) {
		check_url(rp, n, "funder id", f->funder_id);
		return;
	}
	p = strstr(f->funder_id, "://") + 3;
	if (f->funder_scheme == RECORD_FUNDER_CROSSREF &&
	    strncmp(p, "doi.org/10.13039/", 17) != 0 &&
	    strncmp(p, "dx.doi.org/10.13039/", 20) != 0)
		rp_err(rp, xmlGetLineNo(n), 0, "crossref funder id is not "
		    "https://doi.org/10.13039/...: '%s'", f->funder_id);
	else if (f->funder_scheme == RECORD_FUNDER_ROR &&
	    strncmp(p, "ror.org/0", 9) != 0)
		rp_err(rp, xmlGetLineNo(n), 0, "ror funder id is not "
		    "https://ror.org/0...: '%s'", f->funder_id);
}

static void
build_funding(struct rparse *rp, xmlNodePtr fn, struct record_funding *f)
{
	xmlNodePtr	 n;

	for (n = fn->children; n != NULL; n = n->next) {
		if (is_el(n, "funder")) {
			f->funder = node_text_req(rp, n, 0);
			check_funder_id(rp, n, f);
		} else if (is_el(n, "programme"))
			f->programme = node_text_req(rp, n, 0);
		else if (is_el(n, "award")) {
			f->award_title = node_text(rp, n, 0);
			if (*f->award_title == '\0')
				f->award_title = NULL;
			f->award_number = attr(rp, n, "number");
			f->award_uri = attr(rp, n, "uri");
			check_url(rp, n, "award uri", f->award_uri);
			if (f->award_title == NULL && f->award_number == NULL &&
			    f->award_uri == NULL)
				rp_err(rp, xmlGetLineNo(n), 0,
				    "award is empty");
		}
	}
	if (f->funder == NULL)
		f->funder = "";
}

static void
build_fundings(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n;
	size_t		 i = 0;

	r->nfundings = count_el(root, "funding");
	if ((r->fundings = arena_array(rp, r->nfundings,
	    sizeof(*r->fundings))) == NULL) {
		r->nfundings = 0;
		return;
	}
	for (n = root->children; n != NULL; n = n->next)
		if (is_el(n, "funding"))
			build_funding(rp, n, &r->fundings[i++]);
}

static void
build_dates(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n;

	if ((n = first_el(root, "issued")) != NULL)
		check_date(rp, n, &r->issued, 1);
	if ((n = first_el(root, "modified")) != NULL)
		check_date(rp, n, &r->modified, 0);
	n = first_el(root, "event");
	if (r->type == RECORD_EVENT && n == NULL)
		rp_err(rp, xmlGetLineNo(root), 0,
		    "type 'event' needs an event element");
	else if (r->type != RECORD_EVENT && n != NULL)
		rp_err(rp, xmlGetLineNo(n), 0,
		    "event element is only allowed when type is 'event'");
	else if (n != NULL)
		build_event(rp, n);
}

static struct record *parse_mem(struct rparse *, struct record_schema *,
    const char *, size_t, const char *, size_t);

static void
count_diag(void *arg, long line, const char *code, const char *msg)
{
	rp_diag(arg, RECORD_ERROR, code, line, 0, msg);
}

/* Fill rp->r from a schema-valid document, reporting every problem. */
static void
build(struct rparse *rp, xmlNodePtr root)
{
	struct record	*r = rp->r;
	xmlNodePtr	 n;
	const char	*s;

	record_msg_counts(rp->xsd, root, count_diag, rp);

	r->id = attr(rp, root, "id");
	if ((s = attr(rp, root, "type")) == NULL ||
	    record_type_parse(s, &r->type) == -1)
		rp_err(rp, xmlGetLineNo(root), 0, "type is unknown: '%s'",
		    s != NULL ? s : "");
	build_languages(rp, root);
	r->lang = own_lang(rp, root);
	if (r->lang == NULL && r->nlanguages > 0)
		r->lang = r->languages[0];
	build_texts(rp, root, "title", &r->titles, &r->ntitles, 0);
	build_texts(rp, root, "subtitle", &r->subtitles, &r->nsubtitles, 0);
	build_agents(rp, root, "creator", &r->creators, &r->ncreators);
	build_agents(rp, root, "contributor", &r->contributors,
	    &r->ncontributors);
	build_dates(rp, root);
	build_texts(rp, root, "subject", &r->subjects, &r->nsubjects, 0);
	build_texts(rp, root, "abstract", &r->abstracts, &r->nabstracts, 1);
	check_abstracts(rp, root);
	build_singles(rp, root);
	build_access(rp, root);
	if ((n = first_el(root, "version")) != NULL)
		r->version = node_text(rp, n, 0);
	build_fundings(rp, root);
	build_idents(rp, root);
	build_links(rp, root);
	build_strings(rp, root, "set", &r->sets, &r->nsets);
}

struct record *
record_parse_mem(struct record_schema *rs, const char *buf, size_t len,
    const char *path, size_t max_bytes, struct err *e)
{
	struct rparse	 rp;

	memset(&rp, 0, sizeof(rp));
	rp.e = e;
	return parse_mem(&rp, rs, buf, len, path, max_bytes);
}

struct record *
record_parse_known(struct record_schema *rs, const char *buf, size_t len,
    const char *path, size_t max_bytes, const unsigned char hash[HASH_LEN],
    int is_valid, struct err *e)
{
	struct rparse	 rp;

	memset(&rp, 0, sizeof(rp));
	rp.e = e;
	rp.hash = hash;
	rp.is_valid = is_valid;
	return parse_mem(&rp, rs, buf, len, path, max_bytes);
}

struct record *
record_check_mem(struct record_schema *rs, const char *buf, size_t len,
    const char *path, size_t max_bytes, record_diag_fn *fn, void *arg)
{
	struct rparse	 rp;

	memset(&rp, 0, sizeof(rp));
	rp.fn = fn;
	rp.arg = arg;
	return parse_mem(&rp, rs, buf, len, path, max_bytes);
}

/* Build the record of root into rp->a; NULL on an error (reported). */
static struct record *
fill(struct rparse *rp, xmlNodePtr root, const unsigned char *hash)
{
	struct record	*r;
	char		*p;
	size_t		 n = strlen(rp->path) + 1;

	if ((r = rp->r = arena_alloc(rp->a, sizeof(*r))) == NULL ||
	    (p = arena_str(rp->a, n)) == NULL) {
		rp_err(rp, 0, 0, "out of memory");
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->arena = rp->a;
	r->refs = 1;
	memcpy(p, rp->path, n);
	r->path = p;
	memcpy(r->hash, hash, HASH_LEN);
	build(rp, root);
	if (rp->nomem)
		rp_err(rp, 0, 0, "out of memory");
	return rp->nerr > 0 ? NULL : r;
}

static struct record *
parse_mem(struct rparse *rpp, struct record_schema *rs, const char *buf,
    size_t len, const char *path, size_t max_bytes)
{
	struct rparse	 rp = *rpp;
	xmlDocPtr	 doc = NULL;
	xmlNodePtr	 root;
	struct record	*r = NULL;
	struct arena	*a;
	unsigned char	 hash[HASH_LEN];

	rp.path = path != NULL ? path : "-";
	rp.xsd = rs != NULL ? rs->xsd : NULL;
	if (max_bytes == 0)
		max_bytes = RECORD_MAX_BYTES;
	if (max_bytes > INT_MAX)
		max_bytes = INT_MAX;	/* libxml2 takes an int */
	if (len > max_bytes) {
		rp_err(&rp, 0, 0, "file is larger than %zu bytes", max_bytes);
		goto out;
	}
	if (rs == NULL || buf == NULL) {
		rp_err(&rp, 0, 0, "no schema or no input");
		goto out;
	}
	if (prescan(&rp, buf, len) == -1 ||
	    (doc = parse_xml(&rp, buf, len)) == NULL)
		goto out;
	if ((root = xmlDocGetRootElement(doc)) == NULL)
		goto out;
	if (!rp.is_valid && validate(&rp, rs, doc) == -1) {
		if ((rp.a = arena_new(0)) == NULL)
			rp_err(&rp, 0, 0, "out of memory");
		else
			lint_values(&rp, root, 0);
		goto out;
	}
	/* the caller's when it already has it (the store, for the cache) */
	if (rp.hash != NULL)
		memcpy(hash, rp.hash, HASH_LEN);
	else
		hash_sha256(buf, len, hash);
	/* the first build finds the problems and the size, the second keeps */
	if ((rp.a = arena_new(0)) == NULL) {
		rp_err(&rp, 0, 0, "out of memory");
		goto out;
	}
	if ((r = fill(&rp, root, hash)) == NULL)
		goto out;
	if ((a = arena_new(rp.a->virt)) == NULL) {
		rp_err(&rp, 0, 0, "out of memory");
		goto out;
	}
	arena_free(rp.a);
	rp.a = a;
	rp.is_quiet = 1;	/* the same build: its problems are told */
	r = fill(&rp, root, hash);
out:
	if (doc != NULL)
		xmlFreeDoc(doc);
	if (rp.nerr > 0) {
		arena_free(rp.a);
		r = NULL;
	}
	return r;
}

struct record *
record_ref(struct record *r)
{
	if (r != NULL)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
	return r;
}

void
record_unref(struct record *r)
{
	struct record_cache	*c, *next;

	if (r == NULL)
		return;
	if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (c = r->cache; c != NULL; c = next) {
		next = c->next;
		__atomic_sub_fetch(&cache_bytes, sizeof(*c) + c->keylen +
		    c->len + 1, __ATOMIC_RELAXED);
		free(c);
	}
	arena_free(r->arena);	/* r itself lives in the arena */
}

/* ------------------------------------------------------------------ */
/* Rendering caches */

static const struct record_cache *
cache_find(const struct record_cache *c, int tag, const void *key,
    size_t keylen, size_t *n)
{
	for (*n = 0; c != NULL; c = c->next, (*n)++)
		if (c->tag == tag && c->keylen == keylen &&
		    memcmp(c->data, key, keylen) == 0)
			return c;
	return NULL;
}

const struct record_cache *
record_cache_find(const struct record *r, int tag, const void *key,
    size_t keylen)
{
	size_t	 n;

	return cache_find(__atomic_load_n(&r->cache, __ATOMIC_ACQUIRE), tag,
	    key, keylen, &n);
}

const struct record_cache *
record_cache_add(struct record *r, int tag, const void *key, size_t keylen,
    const void *val, size_t len)
{
	struct record_cache		*c, *head;
	const struct record_cache	*hit;
	size_t				 size, n;

	if (keylen > SIZE_MAX / 4 || len > SIZE_MAX / 4)
		return NULL;
	size = sizeof(*c) + keylen + len + 1;
	/* Reserve first, so racing threads cannot overshoot together. */
	if (__atomic_add_fetch(&cache_bytes, size, __ATOMIC_RELAXED) >
	    __atomic_load_n(&cache_max, __ATOMIC_RELAXED) ||
	    (c = malloc(size)) == NULL) {
		__atomic_sub_fetch(&cache_bytes, size, __ATOMIC_RELAXED);
		return NULL;
	}
	c->tag = tag;
	c->keylen = keylen;
	c->len = len;
	memcpy(c->data, key, keylen);
	memcpy(c->data + keylen, val, len);
	c->data[keylen + len] = '\0';
	head = __atomic_load_n(&r->cache, __ATOMIC_ACQUIRE);
	do {
		hit = cache_find(head, tag, key, keylen, &n);
		if (hit != NULL || n >= RECORD_CACHE_ENTRIES) {
			__atomic_sub_fetch(&cache_bytes, size,
			    __ATOMIC_RELAXED);
			free(c);
			return hit;
		}
		c->next = head;
	} while (!__atomic_compare_exchange_n(&r->cache, &head, c, 0,
	    __ATOMIC_RELEASE, __ATOMIC_ACQUIRE));
	return c;
}

size_t
record_cache_bytes(void)
{
	return __atomic_load_n(&cache_bytes, __ATOMIC_RELAXED);
}

void
record_cache_limit(size_t max)
{
	__atomic_store_n(&cache_max, max, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Lookups */

/* The primary subtag of a ("en" of "en-GB") matches b's. */
static int
same_primary(const char *a, const char *b)
{
	size_t	 na = strcspn(a, "-"), nb = strcspn(b, "-");

	return na == nb && strncasecmp(a, b, na) == 0;
}

/*
 * Texts without their own xml:lang carry the record's main language (see
 * build_texts()), and [0] is the main one, so "else the record's main
 * language, else the first" comes down to: exact tag, same primary
 * language, then [0].
 */
const struct record_text *
record_text_pick(const struct record_text *t, size_t n, const char *lang)
{
	size_t	 i;

	if (t == NULL || n == 0)
		return NULL;
	if (lang == NULL || *lang == '\0')
		return &t[0];
	for (i = 0; i < n; i++)
		if (t[i].lang != NULL && strcasecmp(t[i].lang, lang) == 0)
			return &t[i];
	for (i = 0; i < n; i++)
		if (t[i].lang != NULL && same_primary(t[i].lang, lang))
			return &t[i];
	return &t[0];
}

const struct record_link *
record_link_find(const struct record *r, enum record_link_rel rel)
{
	size_t	 i;

	for (i = 0; r != NULL && i < r->nlinks; i++)
		if (r->links[i].rel == rel)
			return &r->links[i];
	return NULL;
}

const struct record_ident *
record_ident_find(const struct record *r, enum record_id_kind kind)
{
	size_t	 i;

	for (i = 0; r != NULL && i < r->nidents; i++)
		if (r->idents[i].kind == kind)
			return &r->idents[i];
	return NULL;
}
