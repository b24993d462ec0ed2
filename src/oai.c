/*
 * The six OAI-PMH 2.0 verbs over one snapshot.
 *
 * Every list (ListIdentifiers, ListRecords, ListSets) is a "view": the
 * snapshot's items, or a set's index into them, both in (datestamp, id)
 * order; sets are in spec order.  from/until select a contiguous range of
 * a view, so the range, its size (completeListSize) and the position after
 * a token's key are binary searches: O(log n) per request however deep the
 * harvest, with no offsets and no server-side state.
 *
 * Output.  Responses are pretty-printed XML written by libxml2's writer
 * (xw), but a list page must cost little more than copying bytes, so a page
 * is assembled: the constant envelope is written as literal bytes (exactly
 * what the writer would write), everything derived from the request (the
 * echo, error messages) and every small verb body is written by xw as a
 * "fragment" (see frag_open()), and each item is the block of bytes the
 * writer produced for it, kept on the immutable record by the record cache
 * (record.h) per metadata format, so every later page, harvest or
 * GetRecord copies it instead of rendering it again.  A block depends on the
 * record, the format, and the struct oai_conf it was written from, so that
 * is its cache key; a deleted item has no record and is rendered every
 * time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "oai_int.h"
#include "banned.h"

#define OAI_NS		"http://www.openarchives.org/OAI/2.0/"
#define OAI_XSD		"http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
#define OAI_XSI_NS	"http://www.w3.org/2001/XMLSchema-instance"
#define OAI_ID_NS	"http://www.openarchives.org/OAI/2.0/oai-identifier"
#define OAI_ID_XSD	\
    "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
#define OAI_DC_NS	"http://www.openarchives.org/OAI/2.0/oai_dc/"
#define OAI_DC_XSD	"http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
#define DC_NS		"http://purl.org/dc/elements/1.1/"
#define OAI_PAGE_DEFAULT 100
#define OAI_TMP_MAX	(64 * 1024)

/* What the writer writes for the document start and end (see respond()). */
#define OAI_HEAD	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"	\
    "<OAI-PMH xmlns=\"" OAI_NS "\" xmlns:xsi=\"" OAI_XSI_NS "\" "	\
    "xsi:schemaLocation=\"" OAI_NS " " OAI_XSD "\">\n"		\
    "  <responseDate>%s</responseDate>\n"
#define OAI_TAIL	"</OAI-PMH>\n"
#define OAI_TAG_HEADER	0	/* record cache tag of a bare <header> */

struct resp {
	const struct snap	*s;
	const struct oai_ctx	*ctx;
	struct oai_conf		 conf;	/* its key: what cached blocks depend on */
	const struct oai_args	*args;
	struct oai_req		 req;
	struct xw		 xw;
	struct buf		 tmp;	/* identifiers, tokens */
	struct buf		 frag;	/* the fragment being written */
	struct err		*e;
	int			 failed;	/* e is set */
};

/* A list in (datestamp, id) order: all items, or one set's index. */
struct view {
	const struct snap	*s;
	const size_t		*idx;	/* NULL: s->items itself */
	size_t			 n;
};

/*
 * What a ListIdentifiers / ListRecords page or a GetRecord sends, worked out
 * before anything is written: positions [start, end) of the view, within
 * the selected range [lo, hi).
 */
struct plan {
	const struct oai_format	*f;	/* NULL: headers only */
	const struct oai_format	*of;	/* the list's format: which items */
	struct view		 v;
	size_t			 lo, hi, start, end;
	size_t			 total;	/* offered items in [lo, hi) */
	size_t			 nsent;	/* offered items in [start, end) */
	int			 more;	/* an offered item after end */
	int			 resumed;
	const struct snap_item	*one;	/* GetRecord */
	struct oai_token	 t;
};

static const struct snap_item *
view_at(const struct view *v, size_t i)
{
	return &v->s->items[v->idx != NULL ? v->idx[i] : i];
}

/* First position whose datestamp is >= t. */
static size_t
view_lower(const struct view *v, int64_t t)
{
	size_t	 lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (view_at(v, mid)->datestamp < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First position whose (datestamp, id) is after (ds, id). */
static size_t
view_after(const struct view *v, int64_t ds, const char *id)
{
	const struct snap_item	*it;
	size_t			 lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		it = view_at(v, mid);
		if (it->datestamp < ds ||
		    (it->datestamp == ds && strcmp(it->id, id) <= 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* An internal failure: the first message wins. */
static int
fail(struct resp *r, const char *msg)
{
	if (!r->failed)
		err_set(r->e, "%s", msg);
	r->failed = 1;
	return -1;
}

/*
 * Fragments.  Pretty-printing indents by nesting depth, so a piece written
 * by a writer of its own would not be the bytes the same piece gets inside
 * the document.  A fragment is therefore written inside depth dummy
 * elements and cut out of them: the result is exactly what the document's
 * writer would have written at that depth, and well-formed because libxml2
 * wrote it.  r->xw is the fragment's writer in between.
 */
#define FRAG_DEPTH_MAX	2
static const char *const frag_head[FRAG_DEPTH_MAX + 1] = {
	"", "<x>\n", "<x>\n  <x>\n"
};
static const char *const frag_tail[FRAG_DEPTH_MAX + 1] = {
	"", "</x>\n", "  </x>\n</x>\n"
};

static int
frag_open(struct resp *r, int depth)
{
	int	 i;

	buf_reset(&r->frag);
	if (xw_open(&r->xw, &r->frag, 1, 0) == -1)
		return fail(r, "cannot start the XML writer");
	for (i = 0; i < depth; i++)
		xw_start(&r->xw, "x");
	return 0;
}

/* Finish the fragment: its bytes are r->frag.data + *off, *len of them. */
static int
frag_close(struct resp *r, int depth, size_t *off, size_t *len)
{
	const char	*b;
	size_t		 hl = strlen(frag_head[depth]);
	size_t		 tl = strlen(frag_tail[depth]);

	if (xw_close(&r->xw) == -1 || r->failed)
		return fail(r, "OAI-PMH response over the output cap");
	b = r->frag.data;	/* closing flushes, which may move it */
	/* Anything else means the writer's layout is not what we assume. */
	if (b == NULL || r->frag.len < hl + tl ||
	    memcmp(b, frag_head[depth], hl) != 0 ||
	    memcmp(b + r->frag.len - tl, frag_tail[depth], tl) != 0)
		return fail(r, "unexpected XML writer output");
	*off = hl;
	*len = r->frag.len - hl - tl;
	return 0;
}

/* Append the finished fragment to out. */
static int
frag_append(struct resp *r, int depth, struct buf *out)
{
	size_t	 off, len;

	if (frag_close(r, depth, &off, &len) == -1)
		return -1;
	if (buf_add(out, r->frag.data + off, len) == -1)
		return fail(r, "OAI-PMH response over the output cap");
	return 0;
}

static void
write_errors(struct resp *r)
{
	size_t	 i;

	for (i = 0; i < r->req.nerrs; i++) {
		xw_start(&r->xw, "error");
		xw_attr(&r->xw, "code", r->req.errs[i].code);
		xw_text(&r->xw, r->req.errs[i].msg);
		xw_end(&r->xw);
	}
}

static const char *
item_identifier(struct resp *r, const char *id)
{
	buf_reset(&r->tmp);
	if (oai_identifier(&r->conf, id, &r->tmp) == -1) {
		r->xw.failed = 1;
		return "";
	}
	return r->tmp.data;
}

static void
write_header(struct resp *r, const struct snap_item *it)
{
	char	 d[DATE_ISO_LEN];
	size_t	 i;

	xw_start(&r->xw, "header");
	if (it->rec == NULL)
		xw_attr(&r->xw, "status", "deleted");
	xw_elem(&r->xw, "identifier", item_identifier(r, it->id));
	date_fmt_iso(it->datestamp, d);
	xw_elem(&r->xw, "datestamp", d);
	for (i = 0; i < it->nsets; i++)
		xw_elem(&r->xw, "setSpec", it->sets[i]);
	xw_end(&r->xw);
}

/* <record>: the header, and the metadata unless the item is deleted. */
static void
write_record(struct resp *r, const struct snap_item *it,
    const struct oai_format *f)
{
	xw_start(&r->xw, "record");
	write_header(r, it);
	if (it->rec != NULL) {
		xw_start(&r->xw, "metadata");
		if (!r->xw.failed && oai_format_write(f, &r->xw, &r->conf,
		    it->rec) == -1) {
			if (!r->failed)
				err_set(r->e, "%s: metadata format %s failed",
				    it->id, f->prefix);
			r->failed = 1;
			r->xw.failed = 1;
		}
		xw_end(&r->xw);
	}
	xw_end(&r->xw);
}

/*
 * Append an item's <record> (f != NULL) or <header> block, as written at
 * depth 2 (OAI-PMH, the verb's element, the block), from the record's cache
 * when it is there, else rendered and offered to the cache.
 */
static int
item_block(struct resp *r, const struct snap_item *it,
    const struct oai_format *f, struct buf *out)
{
	const struct record_cache	*c = NULL;
	int				 tag = OAI_TAG_HEADER;
	size_t				 off, len;

	while (f != NULL && oai_formats[tag] != NULL && oai_formats[tag] != f)
		tag++;
	if (f != NULL)
		tag++;
	if (it->rec != NULL)
		c = record_cache_find(it->rec, tag, r->conf.key,
		    sizeof(r->conf.key));
	if (c == NULL) {
		if (frag_open(r, 2) == -1)
			return -1;
		if (f != NULL)
			write_record(r, it, f);
		else
			write_header(r, it);
		if (frag_close(r, 2, &off, &len) == -1)
			return -1;
		if (it->rec == NULL || (c = record_cache_add(it->rec, tag,
		    r->conf.key, sizeof(r->conf.key), r->frag.data + off,
		    len)) == NULL) {
			if (buf_add(out, r->frag.data + off, len) == -1)
				goto full;
			return 0;
		}
	}
	if (buf_add(out, c->data + c->keylen, c->len) == -1)
		goto full;
	return 0;
full:
	return fail(r, "OAI-PMH response over the output cap");
}

/* The oai-identifier description (guidelines-oai-identifier section 3). */
static void
write_identify_description(struct resp *r)
{
	const struct oai_conf	*c = &r->conf;

	xw_start(&r->xw, "description");
	xw_start(&r->xw, "oai-identifier");
	xw_attr(&r->xw, "xmlns", OAI_ID_NS);
	xw_attr(&r->xw, "xsi:schemaLocation", OAI_ID_NS " " OAI_ID_XSD);
	xw_elem(&r->xw, "scheme", "oai");
	xw_elem(&r->xw, "repositoryIdentifier", c->oai_namespace);
	xw_elem(&r->xw, "delimiter", ":");
	xw_elem(&r->xw, "sampleIdentifier", item_identifier(r,
	    r->s->nitems > 0 ? r->s->items[0].id : "example-1"));
	xw_end(&r->xw);
	xw_end(&r->xw);
}

static void
verb_identify(struct resp *r, const char *base)
{
	const struct oai_conf	*c = &r->conf;
	char			 d[DATE_ISO_LEN];
	size_t			 i;

	xw_start(&r->xw, "Identify");
	xw_elem(&r->xw, "repositoryName", c->repository_name);
	xw_elem(&r->xw, "baseURL", base);
	xw_elem(&r->xw, "protocolVersion", "2.0");
	for (i = 0; i < c->nadmin_emails; i++)
		xw_elem(&r->xw, "adminEmail", c->admin_emails[i]);
	/*
	 * An empty repository has no datestamps yet; the epoch is a lower
	 * limit that stays true whatever datestamps later records get.
	 */
	date_fmt_iso(r->s->nitems > 0 ? r->s->earliest : 0, d);
	xw_elem(&r->xw, "earliestDatestamp", d);
	xw_elem(&r->xw, "deletedRecord", "persistent");
	xw_elem(&r->xw, "granularity", "YYYY-MM-DDThh:mm:ssZ");
	/* every response is kept with both forms (oai_cache.h) */
	xw_elem(&r->xw, "compression", "gzip");
	xw_elem(&r->xw, "compression", "deflate");
	write_identify_description(r);
	xw_end(&r->xw);
}

static const struct snap_item *
find_item(struct resp *r, const char *identifier)
{
	const struct snap_item	*it = NULL;
	const char		*lid;

	if ((lid = oai_local_id(&r->conf, identifier)) != NULL)
		it = snap_item_find(r->s, lid);
	if (it == NULL)
		oai_req_error(&r->req, OAI_ERR_ID_DOES_NOT_EXIST,
		    "no item has this identifier in this repository");
	return it;
}

/*
 * A deleted item is disseminated as a deleted header in every format
 * (section 2.5.1); a live one in every format that accepts its record
 * (oai_format_offers()), so an identifier lists only those and
 * noMetadataFormats arises only when none accepts it.
 */
static void
verb_list_formats(struct resp *r)
{
	const struct oai_format	*f;
	const struct snap_item	*it = NULL;
	const struct record	*rec = NULL;
	size_t			 i, n = 0;

	if (r->req.identifier != NULL &&
	    (it = find_item(r, r->req.identifier)) == NULL)
		goto out;
	if (it != NULL)
		rec = it->rec;
	for (i = 0; (f = oai_formats[i]) != NULL; i++)
		n += oai_format_offers(f, rec);
	if (n == 0)
		oai_req_error(&r->req, OAI_ERR_NO_FORMATS,
		    "no metadata formats are available for this item");
	if (r->req.nerrs > 0)
		goto out;
	xw_start(&r->xw, "ListMetadataFormats");
	for (i = 0; (f = oai_formats[i]) != NULL; i++) {
		if (!oai_format_offers(f, rec))
			continue;
		xw_start(&r->xw, "metadataFormat");
		xw_elem(&r->xw, "metadataPrefix", f->prefix);
		xw_elem(&r->xw, "schema", f->schema);
		xw_elem(&r->xw, "metadataNamespace", f->ns);
		xw_end(&r->xw);
	}
	xw_end(&r->xw);
	return;
out:
	write_errors(r);
}

/* GetRecord: 0 when there is a record to send, -1 after an OAI error. */
static int
plan_get(struct resp *r, struct plan *p)
{
	p->one = find_item(r, r->req.identifier);
	p->f = oai_format_find(r->req.prefix);
	if (p->f == NULL)
		oai_req_error(&r->req, OAI_ERR_CANNOT_DISSEMINATE,
		    "metadata format '%s' is not supported", r->req.prefix);
	else if (p->one != NULL && !oai_format_offers(p->f, p->one->rec))
		oai_req_error(&r->req, OAI_ERR_CANNOT_DISSEMINATE,
		    "this item is not available in metadata format '%s'",
		    r->req.prefix);
	return r->req.nerrs > 0 ? -1 : 0;
}

static int
emit_get(struct resp *r, struct plan *p, struct buf *out)
{
	if (buf_addstr(out, "  <GetRecord>\n") == -1 ||
	    item_block(r, p->one, p->f, out) == -1 ||
	    buf_addstr(out, "  </GetRecord>\n") == -1)
		return fail(r, "OAI-PMH response over the output cap");
	return 0;
}

/*
 * <resumptionToken> of a page that follows t->cursor entities and holds
 * sent more: the token for what comes after it when more follows, else
 * empty (the last page), with completeListSize and cursor on every page
 * (guidelines-repository 5.5).  Encoding fails only on the output cap or an
 * absurdly long id or spec, both internal failures.
 */
static void
write_token(struct resp *r, struct oai_token *t, size_t total, size_t sent,
    int more)
{
	xw_start(&r->xw, "resumptionToken");
	xw_attr_int(&r->xw, "completeListSize", (long long)total);
	xw_attr_int(&r->xw, "cursor", (long long)t->cursor);
	t->cursor += sent;
	if (more) {
		buf_reset(&r->tmp);
		if (oai_token_encode(t, r->ctx->key, r->ctx->keylen,
		    &r->tmp) == -1) {
			err_set(r->e, "cannot encode a resumption token "
			    "after '%s'", t->last);
			r->failed = 1;
			r->xw.failed = 1;
		} else
			xw_text(&r->xw, r->tmp.data);
	}
	xw_end(&r->xw);
}

static size_t
page_size(const struct resp *r)
{
	int	 n = r->conf.oai_page_size;

	return n > 0 ? (size_t)n : OAI_PAGE_DEFAULT;
}

/* The token, or badResumptionToken; 0 when it is good for this verb. */
static int
token_load(struct resp *r, struct oai_token *t)
{
	const char	*tok = r->req.token;

	if (oai_token_decode(tok, strlen(tok), r->ctx->key, r->ctx->keylen,
	    t) == -1 || t->verb != r->req.verb ||
	    (r->req.verb != OAI_LIST_SETS && oai_format_find(t->prefix) ==
	    NULL)) {
		oai_req_error(&r->req, OAI_ERR_BAD_TOKEN,
		    "the resumptionToken is invalid; restart the list "
		    "request");
		return -1;
	}
	return 0;
}

/* A fresh list request as a token without a position yet. */
static int
list_start(struct resp *r, struct oai_token *t)
{
	const struct oai_req	*q = &r->req;

	t->verb = q->verb;
	t->prefix = q->prefix != NULL ? q->prefix : "";
	t->set = q->set != NULL ? q->set : "";
	t->from = q->has_from ? q->from.t : INT64_MIN;
	/* until is inclusive: a day means up to its last second */
	t->until = !q->has_until ? INT64_MAX :
	    q->until.t + (q->until.gran == DATE_DAY ? 86399 : 0);
	t->last_ds = 0;
	t->last = "";
	t->cursor = 0;
	if (q->verb != OAI_LIST_SETS && oai_format_find(q->prefix) == NULL)
		oai_req_error(&r->req, OAI_ERR_CANNOT_DISSEMINATE,
		    "metadata format '%s' is not supported", q->prefix);
	if (q->set != NULL && r->s->nsets == 0)
		oai_req_error(&r->req, OAI_ERR_NO_SET_HIERARCHY,
		    "this repository has no sets");
	return r->req.nerrs > 0 ? -1 : 0;
}

/* An unknown set is an empty view: noRecordsMatch (guidelines). */
static void
view_init(struct view *v, const struct snap *s, const char *set)
{
	const struct snap_set	*ss;

	v->s = s;
	v->idx = NULL;
	v->n = s->nitems;
	if (*set == '\0')
		return;
	if ((ss = snap_set_find(s, set)) == NULL)
		v->n = 0;
	else {
		v->idx = ss->items;
		v->n = ss->nitems;
	}
}

static int
plan_offers(const struct plan *p, size_t i)
{
	return oai_format_offers(p->of, view_at(&p->v, i)->rec);
}

/*
 * A page of a format that does not take every record: start moves to the
 * first offered item (hi when none is left), end to just after the last
 * of at most n offered items; completeListSize counts the offered items of
 * the whole range, a scan the size of the range, paid only by such formats.
 */
static void
plan_filter(struct plan *p, size_t n)
{
	size_t	 i;

	p->total = 0;
	for (i = p->lo; i < p->hi; i++)
		p->total += plan_offers(p, i);
	while (p->start < p->hi && !plan_offers(p, p->start))
		p->start++;
	p->nsent = 0;
	for (i = p->start; i < p->hi && p->nsent < n; i++)
		if (plan_offers(p, i)) {
			p->nsent++;
			p->end = i + 1;
		}
	p->more = 0;
	for (i = p->end; i < p->hi && !p->more; i++)
		p->more = plan_offers(p, i);
}

/*
 * ListIdentifiers and ListRecords: 0 when there is a page to send, -1
 * after an OAI error.
 */
static int
plan_items(struct resp *r, struct plan *p)
{
	struct oai_token	*t = &p->t;

	p->resumed = r->req.token != NULL;
	if ((p->resumed ? token_load(r, t) : list_start(r, t)) == -1)
		return -1;
	p->of = oai_format_find(t->prefix);
	if (r->req.verb == OAI_LIST_RECORDS)
		p->f = p->of;
	view_init(&p->v, r->s, t->set);
	p->lo = t->from == INT64_MIN ? 0 : view_lower(&p->v, t->from);
	p->hi = t->until == INT64_MAX ? p->v.n :
	    view_lower(&p->v, t->until + 1);
	p->hi = p->hi < p->lo ? p->lo : p->hi;
	p->start = p->resumed ? view_after(&p->v, t->last_ds, t->last) :
	    p->lo;
	p->start = p->start < p->lo ? p->lo : p->start;
	if (p->of->accepts != NULL)
		plan_filter(p, page_size(r));
	else {
		p->end = p->hi - p->start > page_size(r) ?
		    p->start + page_size(r) : p->hi;
		p->total = p->hi - p->lo;
		p->nsent = p->end - p->start;
		p->more = p->end < p->hi;
	}
	if (p->start >= p->hi) {
		oai_req_error(&r->req, OAI_ERR_NO_RECORDS, p->resumed ?
		    "no records remain in this list" :
		    "no records match the request");
		return -1;
	}
	return 0;
}

/*
 * The <resumptionToken> at depth 2, as write_token() would write it: with
 * completeListSize and cursor on every page, empty on the last one.  The
 * token is URL-safe base64, which needs no escaping.
 */
static int
emit_token(struct resp *r, struct plan *p, struct buf *out)
{
	struct oai_token	*t = &p->t;
	const struct snap_item	*last = view_at(&p->v, p->end - 1);
	uint64_t		 cursor = t->cursor;
	int			 more = p->more;

	t->last_ds = last->datestamp;
	t->last = last->id;
	t->cursor += p->nsent;
	buf_reset(&r->tmp);
	if (more && oai_token_encode(t, r->ctx->key, r->ctx->keylen,
	    &r->tmp) == -1) {
		err_set(r->e, "cannot encode a resumption token after '%s'",
		    t->last);
		r->failed = 1;
		return -1;
	}
	if (buf_printf(out, "    <resumptionToken completeListSize=\"%zu\" "
	    "cursor=\"%llu\"", p->total, (unsigned long long)cursor) ==
	    -1 || (more ? buf_printf(out, ">%s</resumptionToken>\n",
	    r->tmp.data) : buf_addstr(out, "/>\n")) == -1)
		return fail(r, "OAI-PMH response over the output cap");
	return 0;
}

static int
emit_items(struct resp *r, struct plan *p, struct buf *out)
{
	const char	*verb = oai_verb_name(r->req.verb);
	size_t		 i;

	if (buf_printf(out, "  <%s>\n", verb) == -1)
		return fail(r, "OAI-PMH response over the output cap");
	for (i = p->start; i < p->end; i++)
		if (plan_offers(p, i) &&
		    item_block(r, view_at(&p->v, i), p->f, out) == -1)
			return -1;
	if ((p->resumed || p->more) && emit_token(r, p, out) == -1)
		return -1;
	if (buf_printf(out, "  </%s>\n", verb) == -1)
		return fail(r, "OAI-PMH response over the output cap");
	return 0;
}

/* First set whose spec sorts after spec. */
static size_t
sets_after(const struct snap *s, const char *spec)
{
	size_t	 lo = 0, hi = s->nsets, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(s->sets[mid].spec, spec) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A set's description as the Dublin Core container guidelines advise. */
static void
write_set(struct resp *r, const struct snap_set *set)
{
	xw_start(&r->xw, "set");
	xw_elem(&r->xw, "setSpec", set->spec);
	xw_elem(&r->xw, "setName", set->name);
	if (set->description != NULL) {
		xw_start(&r->xw, "setDescription");
		xw_start(&r->xw, "oai_dc:dc");
		xw_attr(&r->xw, "xmlns:oai_dc", OAI_DC_NS);
		xw_attr(&r->xw, "xmlns:dc", DC_NS);
		xw_attr(&r->xw, "xsi:schemaLocation", OAI_DC_NS " " OAI_DC_XSD);
		xw_elem(&r->xw, "dc:description", set->description);
		xw_end(&r->xw);
		xw_end(&r->xw);
	}
	xw_end(&r->xw);
}

static void
verb_list_sets(struct resp *r)
{
	struct oai_token	 t;
	const char		*last = NULL;
	size_t			 start = 0, i, n = 0, left = 0, sent = 0;
	int			 resumed = r->req.token != NULL;

	if ((resumed ? token_load(r, &t) : list_start(r, &t)) == -1)
		goto errors;
	if (resumed)
		start = sets_after(r->s, t.last);
	for (i = 0; i < r->s->nsets; i++)
		if (oai_set_is_listed(&r->s->sets[i])) {
			n++;
			left += i >= start;
		}
	if (n == 0)
		oai_req_error(&r->req, OAI_ERR_NO_SET_HIERARCHY,
		    "this repository has no sets");
	else if (left == 0)	/* the sets after the token vanished */
		oai_req_error(&r->req, OAI_ERR_BAD_TOKEN,
		    "no sets remain in this list; restart the list request");
	if (r->req.nerrs > 0)
		goto errors;
	xw_start(&r->xw, "ListSets");
	for (i = start; i < r->s->nsets && sent < page_size(r); i++)
		if (oai_set_is_listed(&r->s->sets[i])) {
			write_set(r, &r->s->sets[i]);
			last = r->s->sets[i].spec;
			sent++;
		}
	if (resumed || sent < left) {
		t.last = last;
		write_token(r, &t, n, sent, sent < left);
	}
	xw_end(&r->xw);
	return;
errors:
	write_errors(r);
}

/*
 * Section 3.2: the request element echoes the arguments, except after
 * badVerb or badArgument, when it holds the base URL only.
 */
static void
write_request(struct resp *r, const char *base)
{
	size_t	 i;
	int	 echo = 1;

	for (i = 0; i < r->req.nerrs; i++)
		if (strcmp(r->req.errs[i].code, OAI_ERR_BAD_VERB) == 0 ||
		    strcmp(r->req.errs[i].code, OAI_ERR_BAD_ARGUMENT) == 0)
			echo = 0;
	xw_start(&r->xw, "request");
	for (i = 0; echo && i < r->args->n; i++)
		xw_attr(&r->xw, r->args->v[i].key, r->args->v[i].value);
	xw_text(&r->xw, base);
	xw_end(&r->xw);
}

static void
write_body(struct resp *r, const char *base)
{
	if (r->req.nerrs > 0) {
		write_errors(r);
		return;
	}
	switch (r->req.verb) {
	case OAI_IDENTIFY:
		verb_identify(r, base);
		break;
	case OAI_LIST_METADATA_FORMATS:
		verb_list_formats(r);
		break;
	case OAI_LIST_SETS:
		verb_list_sets(r);
		break;
	default:	/* the item verbs: see respond() */
		break;
	}
}

/*
 * The document: the constant head, then one fragment with the request
 * echo and, unless it is an item verb with something to send, the body;
 * then the items' blocks; then the constant tail.
 */
static int
respond(struct resp *r, struct buf *out)
{
	const struct oai_conf	*c = &r->conf;
	struct plan		 p;
	struct buf		 base;
	char			 d[DATE_ISO_LEN];
	int			 rc = -1, items = 0;

	memset(&p, 0, sizeof(p));
	buf_init(&base, OAI_TMP_MAX);
	if (buf_printf(&base, "%s%s", c->base_url, c->oai_path) == -1) {
		fail(r, "base URL too long");
		goto out;
	}
	date_fmt_iso(r->ctx->now, d);
	if (buf_printf(out, OAI_HEAD, d) == -1) {
		fail(r, "OAI-PMH response over the output cap");
		goto out;
	}
	if (r->req.nerrs == 0 && r->req.verb == OAI_GET_RECORD)
		items = plan_get(r, &p) == 0;
	else if (r->req.nerrs == 0 && (r->req.verb == OAI_LIST_RECORDS ||
	    r->req.verb == OAI_LIST_IDENTIFIERS))
		items = plan_items(r, &p) == 0;
	if (frag_open(r, 1) == -1)
		goto out;
	write_request(r, base.data);
	if (!items)
		write_body(r, base.data);
	if (frag_append(r, 1, out) == -1)
		goto out;
	if (items && (r->req.verb == OAI_GET_RECORD ? emit_get(r, &p, out) :
	    emit_items(r, &p, out)) == -1)
		goto out;
	if (buf_addstr(out, OAI_TAIL) == -1) {
		fail(r, "OAI-PMH response over the output cap");
		goto out;
	}
	rc = 0;
out:
	buf_release(&base);
	return rc;
}

const char *
oai_respond(const struct snap *s, const struct oai_ctx *ctx,
    const char *query, size_t len, struct buf *out, struct err *e)
{
	struct oai_args	 args;
	struct resp	 r;
	size_t		 start = out->len;
	const char	*verb = NULL;

	memset(&r, 0, sizeof(r));
	r.s = s;
	r.ctx = ctx;
	oai_conf_init(&r.conf, s->conf);
	r.args = &args;
	r.e = e;
	if (oai_args_parse(query, len, &args) == -1) {
		err_set(e, "out of memory decoding the OAI-PMH arguments");
		return NULL;
	}
	buf_init(&r.tmp, OAI_TMP_MAX);
	buf_init(&r.frag, out->max);
	oai_req_check(&args, &r.req);
	if (respond(&r, out) == 0)
		verb = oai_verb_name(r.req.verb);
	else {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	buf_release(&r.tmp);
	buf_release(&r.frag);
	oai_args_release(&args);
	return verb;
}
