/*
 * rs.c: the ResourceSync documents of a snapshot (contracts in rs.h).
 *
 * A list (resources or changes) is a sequence of items, each giving a few
 * URLs; pages cut that sequence where is_cut() says and before an item
 * that would overflow rs_page_size URLs (an item of more URLs than that,
 * with a tiny rs_page_size, straddles pages).  A page's key hashes what its URLs are made of (the
 * items it touches, where it starts in the first one, the configuration),
 * so an unchanged page is shared with the previous snapshot, never
 * rendered or compressed again.  List pages (resourcesync-page-size URLs
 * each; 219 MB in all at 100k records) are only keyed when a snapshot is
 * built: they are lazy slots rendered on their first request
 * (rs_resolve()), from the same snapshot and so to the bytes the key
 * names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "date.h"
#include "feed.h"
#include "hash.h"
#include "oai.h"
#include "rs.h"
#include "strmap.h"
#include "vec.h"
#include "xw.h"
#include "banned.h"

#define RS_DOC_MAX	((size_t)64 * 1024 * 1024)	/* 50,000 URLs fit */
#define RS_VERSION	"rs-1"		/* bump when the output changes */

enum rs_list {
	RS_LIST_RESOURCES,
	RS_LIST_CHANGES,
};

struct rs_build {
	struct snap		*s;
	const struct snap	*prev;
	struct err		*e;
	struct buf		 body;
	struct buf		 path;
	struct buf		 url;		/* scratch: one composed URL */
	struct buf		 md;		/* scratch: the oai_dc URL */
	size_t			 nformats;
	size_t			 page_size;
	size_t			 cut_every;	/* is_cut() */
	unsigned char		 conf_key[HASH_LEN];
};

/* The items of a list, in list order. */
static size_t
list_len(const struct snap *s, enum rs_list l)
{
	return s->nitems;
}

static const struct snap_item *
list_item(const struct snap *s, enum rs_list l, size_t i)
{
	return l == RS_LIST_RESOURCES ? s->by_id[i] : &s->items[i];
}

static size_t
nfulltexts(const struct record *r)
{
	size_t	 i, n = 0;

	for (i = 0; r != NULL && i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_FULLTEXT)
			n++;
	return n;
}

/* How many URLs item it gives in list l: formats, then full texts. */
static size_t
item_urls(const struct rs_build *b, enum rs_list l,
    const struct snap_item *it)
{
	size_t	 i, n = 0;

	if (l == RS_LIST_CHANGES)
		return b->nformats + nfulltexts(it->rec);
	if (it->rec == NULL)
		return 0;
	for (i = 0; i < b->nformats; i++)
		n += oai_offered(i, it->rec);
	return n + nfulltexts(it->rec);
}

static void
date_attr(struct xw *w, const char *name, int64_t t)
{
	char	 d[DATE_ISO_LEN];

	date_fmt_iso(t, d);
	xw_attr(w, name, d);
}

static void
root(struct xw *w, const char *name)
{
	xw_start(w, name);
	xw_attr(w, "xmlns", RS_SITEMAP_NS);
	xw_attr(w, "xmlns:rs", RS_NS);
}

/* The GetRecord URL of item id in format i, into out (reset first). */
static int
getrecord_url(const struct snap *s, const char *id, size_t i, struct buf *out)
{
	const struct conf	*c = s->conf;

	buf_reset(out);
	return buf_printf(out, "%s%s?verb=GetRecord&identifier=oai:%s:%s"
	    "&metadataPrefix=%s", c->base_url, c->oai_path, c->oai_namespace,
	    id, oai_prefix(i));
}

/* <url> of format i of item it; change is NULL in the Resource List. */
static void
url_meta(struct rs_build *b, struct xw *w, const struct snap_item *it,
    size_t i, const char *change)
{
	char	 d[DATE_ISO_LEN];

	if (getrecord_url(b->s, it->id, i, &b->url) == -1) {
		w->failed = 1;
		return;
	}
	date_fmt_iso(it->datestamp, d);
	xw_start(w, "url");
	xw_elem(w, "loc", b->url.data);
	if (change == NULL || strcmp(change, "deleted") != 0)
		xw_elem(w, "lastmod", d);
	xw_start(w, "rs:md");
	if (change != NULL) {
		xw_attr(w, "change", change);
		xw_attr(w, "datetime", d);
	}
	if (change == NULL || strcmp(change, "deleted") != 0)
		xw_attr(w, "type", "text/xml");
	xw_end(w);
	xw_end(w);
}

/* <url> of full text lk of the live item it. */
static void
url_fulltext(struct rs_build *b, struct xw *w, const struct snap_item *it,
    const struct record_link *lk, const char *change)
{
	char	 d[DATE_ISO_LEN];

	if (getrecord_url(b->s, it->id, 0, &b->md) == -1) {
		w->failed = 1;
		return;
	}
	date_fmt_iso(it->datestamp, d);
	xw_start(w, "url");
	xw_elem(w, "loc", lk->href);
	xw_elem(w, "lastmod", d);
	xw_start(w, "rs:md");
	if (change != NULL) {
		xw_attr(w, "change", change);
		xw_attr(w, "datetime", d);
	}
	if (lk->length >= 0)
		xw_attr_int(w, "length", (long long)lk->length);
	xw_attr(w, "type", lk->type);
	xw_end(w);
	xw_start(w, "rs:ln");
	xw_attr(w, "rel", "describedby");
	xw_attr(w, "href", b->md.data);
	xw_attr(w, "type", "text/xml");
	xw_end(w);
	xw_end(w);
}

/* What an item of the Change List says happened to it last. */
static const char *
item_change(const struct snap *s, const struct snap_item *it)
{
	if (it->rec == NULL)
		return "deleted";
	return s->first_import != 0 && it->datestamp == s->first_import ?
	    "created" : "updated";
}

/* URLs [from, to) of item it, in the order item_urls() counts them. */
static void
item_write(struct rs_build *b, struct xw *w, enum rs_list l,
    const struct snap_item *it, size_t from, size_t to)
{
	const char	*change = NULL;
	size_t		 i, k = 0;

	if (l == RS_LIST_CHANGES)
		change = item_change(b->s, it);
	for (i = 0; i < b->nformats; i++) {
		const char	*c = change;

		if (it->rec != NULL && !oai_offered(i, it->rec)) {
			if (l == RS_LIST_RESOURCES)
				continue;
			c = "deleted";	/* GetRecord: cannotDisseminate */
		}
		if (k >= from && k < to)
			url_meta(b, w, it, i, c);
		k++;
	}
	for (i = 0; it->rec != NULL && i < it->rec->nlinks; i++) {
		if (it->rec->links[i].rel != RECORD_LINK_FULLTEXT)
			continue;
		if (k >= from && k < to)
			url_fulltext(b, w, it, &it->rec->links[i], change);
		k++;
	}
}

/*
 * Where a page starts: the item (i0) and the URL inside it (skip); cut
 * once per snapshot (build_pages()).
 */
struct rs_page {
	size_t		 i0, skip;	/* first item, URLs of it already paged */
	size_t		 i1;		/* one past the last item touched */
	size_t		 nurls;
	int64_t		 first, last;	/* datestamps of the first/last item */
	int64_t		 newest;	/* the greatest datestamp */
};

/*
 * 1 when a page starts at item it whatever came before: where pages are
 * cut depends on the items, not on their count, so an item added, removed
 * or moved changes its own page (and, moved, the one it goes to), not
 * every page after it.  About one item in cut_every, by a hash of its id.
 */
static int
is_cut(const struct rs_build *b, const struct snap_item *it)
{
	return strmap_hash(it->id, strlen(it->id)) % b->cut_every == 0;
}

/*
 * Cut list l into pages of at most b->page_size URLs, *np of them (>= 1):
 * one when the list fits, else before an item is_cut() picks and before
 * an item that would not fit in the page (an item of more URLs than a
 * page fills pages of its own).
 */
static struct rs_page *
paginate(struct rs_build *b, enum rs_list l, size_t *np)
{
	struct rs_page	*pg = NULL, *p;
	size_t		 n = list_len(b->s, l), cap = 0, i, left, u;
	size_t		 total = 0;

	for (i = 0; i < n && total <= b->page_size; i++)
		total += item_urls(b, l, list_item(b->s, l, i));
	*np = 0;
	for (i = 0; i < n; i++) {
		const struct snap_item	*it = list_item(b->s, l, i);
		int			 cut;

		if ((u = item_urls(b, l, it)) == 0)
			continue;
		cut = *np > 0 && total > b->page_size && (is_cut(b, it) ||
		    pg[*np - 1].nurls + u > b->page_size);
		for (left = u; left > 0; cut = 0) {
			size_t	 take;

			if (*np == 0 || cut ||
			    pg[*np - 1].nurls == b->page_size) {
				if (vec_grow((void **)&pg, &cap, *np + 1,
				    sizeof(*pg)) == -1)
					goto fail;
				p = &pg[(*np)++];
				memset(p, 0, sizeof(*p));
				p->i0 = i;
				p->skip = u - left;
				p->first = it->datestamp;
			}
			p = &pg[*np - 1];
			take = b->page_size - p->nurls;
			if (take > left)
				take = left;
			p->nurls += take;
			left -= take;
			p->i1 = i + 1;
			p->last = it->datestamp;
			if (it->datestamp > p->newest)
				p->newest = it->datestamp;
		}
	}
	if (*np == 0) {
		if ((pg = calloc(1, sizeof(*pg))) == NULL)
			goto fail;
		*np = 1;
	}
	return pg;
fail:
	free(pg);
	return NULL;
}

/* The configuration every document depends on, hashed once. */
static void
conf_key(struct rs_build *b)
{
	const struct conf	*c = b->s->conf;
	struct hash_ctx		 h;
	size_t			 i;

	hash_init(&h);
	hash_update_str(&h, RS_VERSION);
	hash_update_str(&h, c->base_url);
	hash_update_str(&h, c->oai_path);
	hash_update_str(&h, c->oai_namespace);
	hash_update_i64(&h, (int64_t)b->page_size);
	for (i = 0; i < b->nformats; i++)
		hash_update_str(&h, oai_prefix(i));
	for (i = 0; i < c->ntargets; i++)
		if (c->targets[i].kind == CONF_TARGET_WEBSUB)
			hash_update_str(&h, c->targets[i].url);
	hash_final(&h, b->conf_key);
}

/* Everything page p of list l is rendered from. */
static void
page_key(struct rs_build *b, enum rs_list l, const struct rs_page *p,
    size_t np, size_t n, unsigned char key[HASH_LEN])
{
	struct hash_ctx		 h;
	size_t			 i;

	hash_init(&h);
	hash_update(&h, b->conf_key, HASH_LEN);
	hash_update_i64(&h, l);
	hash_update_i64(&h, (int64_t)n);
	hash_update_i64(&h, np == 1);	/* a lone list links no index */
	hash_update_i64(&h, n == np);	/* the last page is open */
	hash_update_i64(&h, (int64_t)p->skip);
	hash_update_i64(&h, (int64_t)p->nurls);
	if (l == RS_LIST_CHANGES)
		hash_update_i64(&h, b->s->first_import);
	for (i = p->i0; i < p->i1; i++) {
		const struct snap_item	*it = list_item(b->s, l, i);

		hash_update_str(&h, it->id);
		hash_update_i64(&h, it->datestamp);
		hash_update_i64(&h, it->rec != NULL);
		if (it->rec != NULL)
			hash_update(&h, it->rec->hash, HASH_LEN);
	}
	if (np == 1 && l == RS_LIST_RESOURCES)
		hash_update_i64(&h, b->s->latest);	/* "at" */
	hash_final(&h, key);
}

static int
url_of(struct rs_build *b, const char *path)
{
	buf_reset(&b->url);
	return buf_printf(&b->url, "%s%s", b->s->conf->base_url, path);
}

static void
rs_ln(struct rs_build *b, struct xw *w, const char *rel, const char *path)
{
	if (url_of(b, path) == -1) {
		w->failed = 1;
		return;
	}
	xw_start(w, "rs:ln");
	xw_attr(w, "rel", rel);
	xw_attr(w, "href", b->url.data);
	xw_end(w);
}

/* "/resourcesync/resourcelist/N.xml"; n == 0: the list or its index. */
static int
list_path(struct buf *out, enum rs_list l, size_t n)
{
	const char	*name = l == RS_LIST_RESOURCES ? "resourcelist" :
			    "changelist";

	buf_reset(out);
	if (n == 0)
		return buf_printf(out, "/resourcesync/%s.xml", name);
	return buf_printf(out, "/resourcesync/%s/%zu.xml", name, n);
}

/* The capability's own rs:md of a list or sublist. */
static void
list_md(struct rs_build *b, struct xw *w, enum rs_list l, int64_t at,
    int64_t from, int64_t until)
{
	xw_start(w, "rs:md");
	if (l == RS_LIST_RESOURCES) {
		xw_attr(w, "capability", "resourcelist");
		date_attr(w, "at", at);
		date_attr(w, "completed", at);
	} else {
		xw_attr(w, "capability", "changelist");
		date_attr(w, "from", from);
		if (until != INT64_MIN)
			date_attr(w, "until", until);
	}
	xw_end(w);
}

/* When list l starts: the Change List's from. */
static int64_t
list_from(const struct snap *s)
{
	return s->nitems > 0 ? s->items[0].datestamp : s->latest;
}

/*
 * Add the document in b->body at path, unless prev has it with key.  Its
 * Last-Modified, lm, must follow from what key hashes, never from when it
 * was rendered: a document kept from an older snapshot and one a fresh
 * process renders must agree.
 */
static int
emit(struct rs_build *b, const char *path, const unsigned char *key,
    int64_t lm, int (*render)(struct rs_build *, const void *),
    const void *arg)
{
	if (snap_doc_reuse(b->s, b->prev, path, key) == 1)
		return 0;
	buf_reset(&b->body);
	if (render(b, arg) == -1)
		return err_set(b->e, "%s: cannot render (%zu bytes max)",
		    path, RS_DOC_MAX);
	if (snap_doc_add(b->s, path, RS_TYPE, b->body.data, b->body.len,
	    key, lm) == -1)
		return err_set(b->e, "%s: cannot add the document", path);
	return 0;
}

/*
 * What the configuration alone gives (the Source Description, the
 * Capability List) has been there since pubfeed first saw the collection.
 */
static int64_t
first_seen(const struct snap *s)
{
	return s->first_import != 0 ? s->first_import : s->earliest;
}

struct rs_page_arg {
	enum rs_list		 l;
	const struct rs_page	*p;
	size_t			 n, np;
};

static int
render_page(struct rs_build *b, const void *arg)
{
	const struct rs_page_arg *a = arg;
	const struct rs_page	*p = a->p;
	struct xw		 w;
	size_t			 i, k, u, from, to;
	struct buf		 idx;

	if (xw_open(&w, &b->body, 1, 1) == -1)
		return -1;
	buf_init(&idx, 256);
	root(&w, "urlset");
	rs_ln(b, &w, "up", RS_CAPABILITIES);
	if (a->np > 1) {
		if (list_path(&idx, a->l, 0) == -1)
			w.failed = 1;
		else
			rs_ln(b, &w, "index", idx.data);
		list_md(b, &w, a->l, p->newest, p->first,
		    a->n == a->np ? INT64_MIN : p->last);
	} else
		list_md(b, &w, a->l, b->s->latest, list_from(b->s),
		    INT64_MIN);
	/* URLs [skip, skip + nurls) of the walk from item i0 */
	for (i = p->i0, k = 0; i < p->i1 && k < p->nurls; i++) {
		const struct snap_item	*it = list_item(b->s, a->l, i);

		u = item_urls(b, a->l, it);
		from = i == p->i0 ? p->skip : 0;
		to = from + (p->nurls - k);
		if (to > u)
			to = u;
		if (from >= to)
			continue;
		item_write(b, &w, a->l, it, from, to);
		k += to - from;
	}
	buf_release(&idx);
	return xw_close(&w);
}

struct rs_index_arg {
	enum rs_list		 l;
	const struct rs_page	*pg;
	size_t			 np;
};

static int
render_index(struct rs_build *b, const void *arg)
{
	const struct rs_index_arg *a = arg;
	struct xw		 w;
	struct buf		 path;
	size_t			 i;

	if (xw_open(&w, &b->body, 1, 1) == -1)
		return -1;
	buf_init(&path, 256);
	root(&w, "sitemapindex");
	rs_ln(b, &w, "up", RS_CAPABILITIES);
	list_md(b, &w, a->l, b->s->latest, list_from(b->s), INT64_MIN);
	for (i = 0; i < a->np; i++) {
		const struct rs_page	*p = &a->pg[i];

		if (list_path(&path, a->l, i + 1) == -1 ||
		    url_of(b, path.data) == -1) {
			w.failed = 1;
			break;
		}
		xw_start(&w, "sitemap");
		xw_elem(&w, "loc", b->url.data);
		list_md(b, &w, a->l, p->newest, p->first,
		    i + 1 == a->np ? INT64_MIN : p->last);
		xw_end(&w);
	}
	buf_release(&path);
	return xw_close(&w);
}

/*
 * The pages of both lists, kept with the snapshot (s->rs_ctx, one block
 * for free()) so that rendering a page on request need not cut the list
 * again: pages[0, np[0]) are the Resource List's, then the Change List's.
 */
struct rs_ctx {
	size_t		 np[2];
	struct rs_page	 pages[];
};

/* The list l of b->s: one document, or an index and its sublists. */
static int
build_list(struct rs_build *b, enum rs_list l, const struct rs_page *pg,
    size_t np)
{
	struct rs_index_arg	 ia;
	struct hash_ctx		 h;
	unsigned char		 key[HASH_LEN], ikey[HASH_LEN];
	size_t			 i;
	int			 rc = -1;

	hash_init(&h);
	hash_update(&h, b->conf_key, HASH_LEN);
	hash_update_i64(&h, l);
	hash_update_i64(&h, b->s->latest);
	hash_update_i64(&h, list_from(b->s));
	for (i = 0; i < np; i++) {
		page_key(b, l, &pg[i], np, i + 1, key);
		hash_update(&h, key, HASH_LEN);
		if (list_path(&b->path, l, np == 1 ? 0 : i + 1) == -1 ||
		    snap_lazy_add(b->s, b->prev, b->path.data, key) == -1)
			goto out;
	}
	hash_final(&h, ikey);
	if (np > 1) {
		ia.l = l;
		ia.pg = pg;
		ia.np = np;
		if (list_path(&b->path, l, 0) == -1 ||
		    emit(b, b->path.data, ikey, b->s->latest, render_index,
		    &ia) == -1)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1 && b->e->msg[0] == '\0')
		err_set(b->e, "resourcesync: out of memory");
	return rc;
}

/* Cut both lists of b->s into s->rs_ctx. */
static int
build_pages(struct rs_build *b)
{
	struct rs_page	*pg[2] = { NULL, NULL };
	struct rs_ctx	*x = NULL;
	size_t		 np[2];

	if ((pg[0] = paginate(b, RS_LIST_RESOURCES, &np[0])) == NULL ||
	    (pg[1] = paginate(b, RS_LIST_CHANGES, &np[1])) == NULL ||
	    (x = malloc(sizeof(*x) + (np[0] + np[1]) *
	    sizeof(x->pages[0]))) == NULL) {
		free(pg[0]);
		free(pg[1]);
		return err_set(b->e, "resourcesync: out of memory");
	}
	x->np[0] = np[0];
	x->np[1] = np[1];
	memcpy(x->pages, pg[0], np[0] * sizeof(*pg[0]));
	memcpy(x->pages + np[0], pg[1], np[1] * sizeof(*pg[1]));
	free(pg[0]);
	free(pg[1]);
	free(b->s->rs_ctx);
	b->s->rs_ctx = x;
	return 0;
}

/* The pages of list l of s as build_pages() cut them, *np of them. */
static const struct rs_page *
list_pages(const struct snap *s, enum rs_list l, size_t *np)
{
	const struct rs_ctx	*x = s->rs_ctx;

	if (x == NULL)
		return NULL;
	*np = x->np[l == RS_LIST_CHANGES];
	return x->pages + (l == RS_LIST_CHANGES ? x->np[0] : 0);
}

static int
render_description(struct rs_build *b, const void *arg)
{
	struct xw	 w;

	if (xw_open(&w, &b->body, 1, 1) == -1)
		return -1;
	root(&w, "urlset");
	rs_ln(b, &w, "describedby", "/");
	xw_start(&w, "rs:md");
	xw_attr(&w, "capability", "description");
	xw_end(&w);
	if (url_of(b, RS_CAPABILITIES) == -1)
		w.failed = 1;
	xw_start(&w, "url");
	xw_elem(&w, "loc", b->url.data);
	xw_start(&w, "rs:md");
	xw_attr(&w, "capability", "capabilitylist");
	xw_end(&w);
	xw_end(&w);
	return xw_close(&w);
}

static int
render_capabilities(struct rs_build *b, const void *arg)
{
	const struct conf	*c = b->s->conf;
	static const char *const caps[] = { "resourcelist", "changelist" };
	static const char *const paths[] = { RS_RESOURCES, RS_CHANGES };
	struct xw		 w;
	size_t			 i;

	if (xw_open(&w, &b->body, 1, 1) == -1)
		return -1;
	root(&w, "urlset");
	rs_ln(b, &w, "up", RS_WELL_KNOWN);
	/* ResourceSync Change Notification: the hubs told of changes */
	for (i = 0; i < c->ntargets; i++) {
		if (c->targets[i].kind != CONF_TARGET_WEBSUB)
			continue;
		xw_start(&w, "rs:ln");
		xw_attr(&w, "rel", "hub");
		xw_attr(&w, "href", c->targets[i].url);
		xw_end(&w);
	}
	xw_start(&w, "rs:md");
	xw_attr(&w, "capability", "capabilitylist");
	xw_end(&w);
	for (i = 0; i < 2; i++) {
		if (url_of(b, paths[i]) == -1)
			w.failed = 1;
		xw_start(&w, "url");
		xw_elem(&w, "loc", b->url.data);
		xw_start(&w, "rs:md");
		xw_attr(&w, "capability", caps[i]);
		xw_end(&w);
		xw_end(&w);
	}
	return xw_close(&w);
}

static void
rs_init(struct rs_build *b, struct snap *s, const struct snap *prev,
    struct err *e)
{
	memset(b, 0, sizeof(*b));
	b->s = s;
	b->prev = prev;
	b->e = e;
	while (oai_prefix(b->nformats) != NULL)
		b->nformats++;
	b->page_size = s->conf->rs_page_size > 0 &&
	    s->conf->rs_page_size <= RS_MAX_URLS ?
	    (size_t)s->conf->rs_page_size : RS_MAX_URLS;
	/* pages half full on average: an item gives up to nformats + 1 URLs */
	b->cut_every = b->page_size / (2 * (b->nformats + 1));
	if (b->cut_every == 0)
		b->cut_every = 1;
	buf_init(&b->body, RS_DOC_MAX);
	buf_init(&b->path, 256);
	buf_init(&b->url, 8192);
	buf_init(&b->md, 8192);
	conf_key(b);
}

static void
rs_release(struct rs_build *b)
{
	buf_release(&b->body);
	buf_release(&b->path);
	buf_release(&b->url);
	buf_release(&b->md);
}

/* A list page asked for: which list, which page (0: the lone list). */
struct rs_job {
	const struct snap	*s;
	const char		*path;
	enum rs_list		 l;
	size_t			 n;
	struct rs_build		 b;
	struct err		 e;
};

/* path as a list page: 0, or -1 when it names none. */
static int
rs_parse_path(const char *path, enum rs_list *l, size_t *n)
{
	static const char *const names[] = { "resourcelist", "changelist" };
	const char	*p;
	char		*end;
	unsigned long	 v;
	size_t		 k, len;

	if (strncmp(path, "/resourcesync/", 14) != 0)
		return -1;
	p = path + 14;
	for (k = 0; k < 2; k++) {
		len = strlen(names[k]);
		if (strncmp(p, names[k], len) != 0)
			continue;
		*l = k == 0 ? RS_LIST_RESOURCES : RS_LIST_CHANGES;
		if (strcmp(p + len, ".xml") == 0) {
			*n = 0;
			return 0;
		}
		if (p[len] != '/' || p[len + 1] < '1' || p[len + 1] > '9')
			return -1;
		v = strtoul(p + len + 1, &end, 10);
		if (strcmp(end, ".xml") != 0)
			return -1;
		*n = v;
		return 0;
	}
	return -1;
}

/* snap_render_fn: page j->n of list j->l, as rs_build() keyed it. */
static int
render_lazy(void *arg, struct snap_render *out)
{
	struct rs_job		*j = arg;
	struct rs_build		*b = &j->b;
	struct rs_page_arg	 pa;
	const struct rs_page	*pg;
	size_t			 np = 0;

	if ((pg = list_pages(j->s, j->l, &np)) == NULL ||
	    (np == 1) != (j->n == 0) || j->n > np)
		return -1;
	pa.l = j->l;
	pa.n = np == 1 ? 1 : j->n;
	pa.p = &pg[pa.n - 1];
	pa.np = np;
	page_key(b, j->l, pa.p, np, pa.n, out->key);
	buf_reset(&b->body);
	if (render_page(b, &pa) == -1)
		return -1;
	out->path = j->path;
	out->content_type = RS_TYPE;
	out->body = b->body.data;
	out->len = b->body.len;
	/* a lone Resource List says "at" latest (its key has it); a page
	 * its newest item */
	out->last_modified = np == 1 && j->l == RS_LIST_RESOURCES ?
	    j->s->latest : pa.p->newest;
	return 0;
}

/* The list page at path, rendered now unless the document cache has it. */
static const struct snap_doc *
rs_find(const struct snap *s, const char *path, int *is_rs)
{
	const struct snap_doc	*d;
	struct snap_slot	*sl;
	struct rs_job		 j;

	memset(&j, 0, sizeof(j));
	*is_rs = rs_parse_path(path, &j.l, &j.n) == 0 &&
	    (sl = snap_lazy_find(s, path)) != NULL;
	if (!*is_rs)
		return NULL;
	j.s = s;
	j.path = path;
	err_init(&j.e);
	/* render_page() only reads the snapshot, published or not */
	rs_init(&j.b, (struct snap *)(uintptr_t)s, NULL, &j.e);
	d = snap_slot_get(sl, render_lazy, &j);
	rs_release(&j.b);
	err_release(&j.e);
	return d;
}

/* s->resolve after feed_build(): list pages here, the rest there. */
static const struct snap_doc *
rs_resolve_feed(const struct snap *s, const char *path)
{
	const struct snap_doc	*d;
	int			 is_rs;

	d = rs_find(s, path, &is_rs);
	return is_rs ? d : feed_resolve(s, path);
}

/* s->resolve of a snapshot without feed_build()'s documents. */
static const struct snap_doc *
rs_resolve_alone(const struct snap *s, const char *path)
{
	int	 is_rs;

	return rs_find(s, path, &is_rs);
}

int
rs_build(struct snap *s, const struct snap *prev, struct err *e)
{
	struct rs_build		 b;
	const struct rs_page	*pg;
	size_t			 np = 0;
	int			 rc = -1;

	rs_init(&b, s, prev, e);
	if (emit(&b, RS_WELL_KNOWN, b.conf_key, first_seen(s),
	    render_description, NULL) == -1 || emit(&b, RS_CAPABILITIES,
	    b.conf_key, first_seen(s), render_capabilities, NULL) == -1 ||
	    build_pages(&b) == -1)
		goto out;
	pg = list_pages(s, RS_LIST_RESOURCES, &np);
	if (build_list(&b, RS_LIST_RESOURCES, pg, np) == -1)
		goto out;
	pg = list_pages(s, RS_LIST_CHANGES, &np);
	if (build_list(&b, RS_LIST_CHANGES, pg, np) == -1)
		goto out;
	s->resolve = s->resolve == feed_resolve || s->resolve ==
	    rs_resolve_feed ? rs_resolve_feed : rs_resolve_alone;
	rc = 0;
out:
	rs_release(&b);
	return rc;
}
