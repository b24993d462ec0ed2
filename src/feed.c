/*
 * feed.c: the helpers every renderer shares, feed_render()'s dispatch,
 * feed_build(), which decides which documents exist (current feeds, RFC 5005
 * archive pages, per set, the home page) and renders the current ones whose
 * inputs changed since the previous snapshot, and feed_resolve(), which
 * renders an archive page on its first request.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "hash.h"
#include "record.h"
#include "snap.h"
#include "xw.h"
#include "banned.h"

#ifndef PUBFEED_VERSION
#define PUBFEED_VERSION "unknown"
#endif

#define FEED_DEFAULT_ENTRIES	50

const char *
feed_conf_title(const struct conf *c)
{
	if (c->feed_title != NULL && c->feed_title[0] != '\0')
		return c->feed_title;
	return c->repository_name != NULL ? c->repository_name : "pubfeed";
}

const char *
feed_conf_lang(const struct conf *c)
{
	if (c->feed_lang != NULL && c->feed_lang[0] != '\0')
		return c->feed_lang;
	return "en";
}

int
feed_url(struct buf *b, const struct conf *c, const char *path)
{
	buf_reset(b);
	if (buf_addstr(b, c->base_url != NULL ? c->base_url : "") == -1 ||
	    buf_addstr(b, path) == -1)
		return -1;
	return 0;
}

/*
 * conf.c is expected to always fill tag_authority; should it be missing we
 * still need stable ids, so fall back to the host of base_url with a fixed
 * year (ids must never change, so the year cannot be "now").
 */
static int
feed_tag_authority(const struct conf *c, struct buf *out)
{
	const char	*p, *end;

	if (c->tag_authority != NULL && c->tag_authority[0] != '\0')
		return buf_addstr(out, c->tag_authority);
	p = c->base_url != NULL ? c->base_url : "localhost";
	if ((end = strstr(p, "://")) != NULL)
		p = end + 3;
	end = p + strcspn(p, ":/");
	if (end == p)
		return buf_addstr(out, "localhost,2000");
	if (buf_add(out, p, (size_t)(end - p)) == -1)
		return -1;
	return buf_addstr(out, ",2000");
}

int
feed_tag_id(const struct conf *c, const char *what, const char *id,
    struct buf *out)
{
	if (buf_addstr(out, "tag:") == -1 ||
	    feed_tag_authority(c, out) == -1 ||
	    buf_addch(out, ':') == -1 || buf_addstr(out, what) == -1)
		return -1;
	if (id != NULL && (buf_addch(out, '/') == -1 ||
	    buf_addstr(out, id) == -1))
		return -1;
	return 0;
}

int
feed_id(struct buf *b, const struct conf *c, const char *set_spec)
{
	buf_reset(b);
	if (set_spec == NULL)
		return feed_tag_id(c, "feed", NULL, b);
	return feed_tag_id(c, "set", set_spec, b);
}

int64_t
feed_entry_updated(const struct record *r)
{
	return r->datestamp < r->issued.t ? r->issued.t : r->datestamp;
}

/*
 * An empty page says the epoch rather than "now" or the snapshot's latest
 * change: a document must be a pure function of what its key hashes, or a
 * reused copy and a fresh rendering of the same inputs would disagree.
 */
int64_t
feed_page_updated(const struct feed_page *p)
{
	int64_t	 t = 0, u;
	size_t	 i;

	for (i = 0; i < p->nentries; i++)
		if ((u = feed_entry_updated(p->entries[i])) > t)
			t = u;
	return t;
}

const struct record_link *
feed_entry_link(const struct record *r)
{
	const struct record_link	*l;

	if ((l = record_link_find(r, RECORD_LINK_LANDING)) != NULL ||
	    (l = record_link_find(r, RECORD_LINK_RELATED)) != NULL)
		return l;
	return record_link_find(r, RECORD_LINK_FULLTEXT);
}

/* "hh:mm" of a time with seconds, after a separator; nothing for days. */
static int
feed_event_time(struct buf *b, const struct date *d, const char *sep)
{
	char	 iso[DATE_ISO_LEN];

	if (d->gran != DATE_SECOND)
		return 0;
	date_fmt_iso(d->t, iso);
	return buf_printf(b, "%s%.5s", sep, iso + 11);
}

/* "2019-05-14 – 2019-05-16", "2026-12-09 13:00–14:30 UTC", then place. */
static int
feed_event_prefix(struct buf *b, const struct record_event *ev)
{
	char	 d1[DATE_DAY_LEN], d2[DATE_DAY_LEN];
	int	 timed = ev->start.gran == DATE_SECOND ||
		    ev->end.gran == DATE_SECOND;

	date_fmt_day(ev->start.t, d1);
	date_fmt_day(ev->end.t, d2);
	if (buf_addstr(b, d1) == -1 ||
	    feed_event_time(b, &ev->start, " ") == -1)
		return -1;
	if (strcmp(d1, d2) != 0) {
		if (buf_printf(b, " \xe2\x80\x93 %s", d2) == -1 ||
		    feed_event_time(b, &ev->end, " ") == -1)
			return -1;
	} else if (ev->end.t > ev->start.t &&
	    feed_event_time(b, &ev->end, "\xe2\x80\x93") == -1)
		return -1;
	if (timed && buf_addstr(b, " UTC") == -1)
		return -1;
	if (ev->place != NULL && buf_printf(b, ", %s", ev->place) == -1)
		return -1;
	if (ev->country != NULL && buf_printf(b, " (%s)", ev->country) == -1)
		return -1;
	return buf_addch(b, '.');
}

int
feed_summary(struct buf *b, const struct record *r, const char **lang)
{
	const struct record_text	*ab;

	buf_reset(b);
	*lang = NULL;
	if (r->event != NULL && feed_event_prefix(b, r->event) == -1)
		return -1;
	ab = record_text_pick(r->abstracts, r->nabstracts, r->lang);
	if (ab == NULL || ab->text == NULL)
		return 0;
	*lang = ab->lang;
	if (b->len > 0 && buf_addch(b, ' ') == -1)
		return -1;
	return buf_addstr(b, ab->text);
}

const char *
feed_set_label(const struct conf *c, const char *spec)
{
	const struct conf_set	*cs;

	if ((cs = conf_set_find(c, spec)) == NULL)
		return NULL;
	return cs->name;
}

void
feed_write_event(struct xw *w, const struct record *r)
{
	const struct record_event	*ev = r->event;
	char				 d[DATE_ISO_LEN];

	if (ev == NULL)
		return;
	xw_start(w, "pf:event");
	date_fmt(&ev->start, d);
	xw_attr(w, "start", d);
	date_fmt(&ev->end, d);
	xw_attr(w, "end", d);
	xw_attr(w, "place", ev->place);
	xw_attr(w, "country", ev->country);
	xw_end(w);
}

int
feed_render(const struct conf *c, const struct feed_page *p,
    enum feed_format fmt, struct buf *out, struct err *e)
{
	switch (fmt) {
	case FEED_ATOM:
		return feed_render_atom(c, p, out, e);
	case FEED_RSS:
		return feed_render_rss(c, p, out, e);
	}
	return err_set(e, "unknown feed format %d", (int)fmt);
}

/* feed_build() */

struct feed_build {
	const struct snap	*s;	/* what is rendered */
	struct snap		*out;	/* where documents go; NULL: resolve */
	const struct snap	*prev;
	const struct conf	*conf;
	size_t			 per_page;
	struct record		**ents;		/* one page, newest first */
	struct buf		 body;
	struct buf		 self, alt, cur, prevp, nextp, title;
	struct err		*e;
	size_t			 rendered, reused;
	unsigned char		 conf_key[HASH_LEN];
};

/* Each string with its length, so no two inputs hash alike by accident. */
static void
key_str(struct hash_ctx *h, const char *s)
{
	uint64_t	 n;

	n = s == NULL ? UINT64_MAX : (uint64_t)strlen(s);
	hash_update(h, &n, sizeof(n));
	if (s != NULL)
		hash_update(h, s, (size_t)n);
}

static void
key_int(struct hash_ctx *h, int64_t v)
{
	hash_update(h, &v, sizeof(v));
}

/* Everything of conf any renderer reads. */
static void
key_conf(struct hash_ctx *h, const struct conf *c)
{
	size_t	 i;

	key_str(h, "pubfeed " PUBFEED_VERSION);
	key_str(h, c->repository_name);
	key_str(h, c->base_url);
	key_str(h, c->tag_authority);
	key_str(h, c->feed_title);
	key_str(h, c->feed_subtitle);
	key_str(h, c->feed_author_name);
	key_str(h, c->feed_author_email);
	key_str(h, c->feed_author_uri);
	key_str(h, c->feed_icon);
	key_str(h, c->feed_logo);
	key_str(h, c->feed_rights);
	key_str(h, c->feed_lang);
	key_str(h, c->oai_path);
	key_int(h, c->feed_entries);
	key_int(h, (int64_t)c->nsets);
	for (i = 0; i < c->nsets; i++) {
		key_str(h, c->sets[i].spec);
		key_str(h, c->sets[i].name);
		key_str(h, c->sets[i].description);
	}
	/* WebSub hubs are linked from every feed */
	key_int(h, (int64_t)c->ntargets);
	for (i = 0; i < c->ntargets; i++) {
		key_int(h, (int64_t)c->targets[i].kind);
		key_str(h, c->targets[i].url);
		key_str(h, c->targets[i].body);
	}
}

static void
feed_conf_key(const struct conf *c, unsigned char out[HASH_LEN])
{
	struct hash_ctx	 h;

	hash_init(&h);
	key_conf(&h, c);
	hash_final(&h, out);
}

/*
 * The entries of a page fold into 128 bits by identity.  A record object is
 * immutable and a changed file becomes a new object, and every record a
 * previous document was keyed on is still alive while the next snapshot is
 * built (prev holds it), so equal addresses mean equal content.  This keeps
 * the reuse check of a 100k-record rebuild in milliseconds, where hashing
 * every entry's content took a third of a second.
 */
static void
key_entries(struct hash_ctx *h, struct record *const *ents, size_t n)
{
	uint64_t	 lane[2] = { 0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL };
	size_t		 i;

	for (i = 0; i < n; i++) {
		uint64_t v = (uint64_t)(uintptr_t)ents[i];

		lane[0] = (lane[0] ^ v) * 0xff51afd7ed558ccdULL;
		lane[0] ^= lane[0] >> 29;
		lane[1] = (lane[1] + v) * 0xc4ceb9fe1a85ec53ULL;
		lane[1] ^= lane[1] >> 31;
	}
	hash_update(h, lane, sizeof(lane));
}

static void
feed_page_key(const unsigned char conf_key[HASH_LEN],
    const struct feed_page *p, enum feed_format fmt,
    unsigned char key[HASH_LEN])
{
	struct hash_ctx	 h;

	hash_init(&h);
	key_str(&h, fmt == FEED_ATOM ? "atom" : "rss");
	hash_update(&h, conf_key, HASH_LEN);
	key_str(&h, p->title);
	key_str(&h, p->subtitle);
	key_str(&h, p->set_spec);
	key_str(&h, p->self_path);
	key_str(&h, p->alt_path);
	key_str(&h, p->current_path);
	key_str(&h, p->prev_archive);
	key_str(&h, p->next_archive);
	key_int(&h, p->is_archive);
	key_int(&h, (int64_t)p->nentries);
	key_entries(&h, p->entries, p->nentries);
	hash_final(&h, key);
}

static int
fb_init(struct feed_build *b, const struct snap *s, struct err *e)
{
	memset(b, 0, sizeof(*b));
	b->s = s;
	b->conf = s->conf;
	b->e = e;
	b->per_page = s->conf->feed_entries > 0 ?
	    (size_t)s->conf->feed_entries : FEED_DEFAULT_ENTRIES;
	buf_init(&b->body, FEED_BUF_MAX);
	buf_init(&b->self, FEED_URL_MAX);
	buf_init(&b->alt, FEED_URL_MAX);
	buf_init(&b->cur, FEED_URL_MAX);
	buf_init(&b->prevp, FEED_URL_MAX);
	buf_init(&b->nextp, FEED_URL_MAX);
	buf_init(&b->title, FEED_URL_MAX);
	feed_conf_key(s->conf, b->conf_key);
	if ((b->ents = calloc(b->per_page, sizeof(*b->ents))) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

static void
fb_release(struct feed_build *b)
{
	free(b->ents);
	buf_release(&b->body);
	buf_release(&b->self);
	buf_release(&b->alt);
	buf_release(&b->cur);
	buf_release(&b->prevp);
	buf_release(&b->nextp);
	buf_release(&b->title);
}

static int
build_emit(struct feed_build *b, const struct feed_page *p,
    enum feed_format fmt)
{
	unsigned char	 key[HASH_LEN];

	feed_page_key(b->conf_key, p, fmt, key);
	if (snap_doc_reuse(b->out, b->prev, p->self_path, key) == 1) {
		b->reused++;
		return 0;
	}
	buf_reset(&b->body);
	if (feed_render(b->conf, p, fmt, &b->body, b->e) == -1)
		return -1;
	if (snap_doc_add(b->out, p->self_path,
	    fmt == FEED_ATOM ? FEED_ATOM_TYPE : FEED_RSS_TYPE,
	    b->body.data, b->body.len, key, feed_page_updated(p)) == -1)
		return err_set(b->e, "%s: cannot add the document",
		    p->self_path);
	b->rendered++;
	return 0;
}

/* "/feed.EXT", "/sets/SPEC.EXT", or archive page n of either. */
static int
build_path(struct buf *b, const char *spec, size_t n, const char *ext)
{
	buf_reset(b);
	if (spec == NULL && n == 0)
		return buf_printf(b, "/feed.%s", ext);
	if (spec == NULL)
		return buf_printf(b, "/archive/%zu.%s", n, ext);
	if (n == 0)
		return buf_printf(b, "/sets/%s.%s", spec, ext);
	return buf_printf(b, "/sets/%s/archive/%zu.%s", spec, n, ext);
}

/* Page n (0: the current document) of recs, oldest first, into b->ents. */
static size_t
build_entries(struct feed_build *b, struct record *const *recs, size_t n,
    size_t page)
{
	size_t	 lo, hi, i, k = 0;

	if (page == 0) {
		hi = n;
		lo = n > b->per_page ? n - b->per_page : 0;
	} else {
		lo = (page - 1) * b->per_page;
		hi = lo + b->per_page;
	}
	for (i = hi; i > lo; i--)
		b->ents[k++] = recs[i - 1];
	return k;
}

/* Links and entries of page pg (0: the current document) of a feed. */
static int
build_page(struct feed_build *b, struct feed_page *p,
    struct record *const *recs, size_t n, size_t pg, enum feed_format fmt)
{
	const char	*ext = fmt == FEED_ATOM ? "atom" : "rss";
	const char	*alt = fmt == FEED_ATOM ? "rss" : "atom";
	size_t		 npages = n / b->per_page;

	if (build_path(&b->cur, p->set_spec, 0, ext) == -1 ||
	    build_path(&b->self, p->set_spec, pg, ext) == -1 ||
	    build_path(&b->alt, p->set_spec, pg, alt) == -1)
		goto toolong;
	p->self_path = b->self.data;
	p->alt_path = b->alt.data;
	p->is_archive = pg > 0;
	p->current_path = pg > 0 ? b->cur.data : NULL;
	p->prev_archive = p->next_archive = NULL;
	/* current: prev-archive is the newest archive page */
	if ((pg == 0 && npages > 0) || pg > 1) {
		if (build_path(&b->prevp, p->set_spec,
		    pg == 0 ? npages : pg - 1, ext) == -1)
			goto toolong;
		p->prev_archive = b->prevp.data;
	}
	/* the last archive page's successor is the current document */
	if (pg > 0) {
		if (build_path(&b->nextp, p->set_spec,
		    pg < npages ? pg + 1 : 0, ext) == -1)
			goto toolong;
		p->next_archive = b->nextp.data;
	}
	p->entries = b->ents;
	p->nentries = build_entries(b, recs, n, pg);
	return 0;
toolong:
	return err_set(b->e, "feed path too long for set '%s'",
	    p->set_spec != NULL ? p->set_spec : "");
}

/* Title, subtitle and set of the feed of set (NULL: the whole collection). */
static int
build_head(struct feed_build *b, struct feed_page *p,
    const struct snap_set *set)
{
	const struct conf	*c = b->conf;

	memset(p, 0, sizeof(*p));
	p->title = feed_conf_title(c);
	p->subtitle = c->feed_subtitle;
	if (set == NULL)
		return 0;
	buf_reset(&b->title);
	if (buf_printf(&b->title, "%s: %s", feed_conf_title(c),
	    set->name != NULL ? set->name : set->spec) == -1)
		return err_set(b->e, "feed title too long for set '%s'",
		    set->spec);
	p->title = b->title.data;
	if (set->description != NULL)
		p->subtitle = set->description;
	p->set_spec = set->spec;
	return 0;
}

/*
 * The archive pages of one feed, as empty documents rendered on their first
 * request (feed_resolve()).  A page whose inputs are those of the same page
 * in prev (same conf, so the same title and page size; the same entries,
 * compared by record identity as key_entries() does; still or still not the
 * last page, whose next-archive link is the current document) is the same
 * document, rendered or not.  The arrays compared are contiguous pointers,
 * so this stays a memcmp() of the collection per feed.
 */
static int
build_archives(struct feed_build *b, struct snap_pages *pg,
    const struct snap_pages *ppg, struct record *const *recs, size_t n,
    struct record *const *precs)
{
	size_t		 np = n / b->per_page, i, k, lo, same;
	struct snap_doc	*d;

	if (snap_pages_init(pg, np) == -1)
		return err_set(b->e, "out of memory");
	for (i = 1; i <= np; i++) {
		lo = (i - 1) * b->per_page;
		same = ppg != NULL && i <= ppg->npages &&
		    (i == np) == (i == ppg->npages) &&
		    memcmp(recs + lo, precs + lo, b->per_page *
		    sizeof(*recs)) == 0;
		for (k = 0; k < SNAP_PAGE_KINDS; k++) {
			if (same) {
				d = snap_doc_share(ppg->docs[k * ppg->npages +
				    i - 1]);
				b->reused++;
			} else if ((d = snap_doc_lazy()) == NULL)
				return err_set(b->e, "out of memory");
			pg->docs[k * np + i - 1] = d;
		}
	}
	return 0;
}

static int
build_feed(struct feed_build *b, struct snap_set *set)
{
	struct feed_page	 p;
	const struct snap_set	*pset = NULL;
	const struct snap_pages	*ppg = NULL;
	struct record *const	*recs = set != NULL ? set->feed : b->s->feed;
	struct record *const	*precs = NULL;
	size_t			 n = set != NULL ? set->nfeed : b->s->nfeed;

	if (build_head(b, &p, set) == -1 ||
	    build_page(b, &p, recs, n, 0, FEED_ATOM) == -1 ||
	    build_emit(b, &p, FEED_ATOM) == -1 ||
	    build_page(b, &p, recs, n, 0, FEED_RSS) == -1 ||
	    build_emit(b, &p, FEED_RSS) == -1)
		return -1;
	/* a new conf may change any page: then nothing is carried over */
	if (b->prev != NULL && b->prev->conf == b->s->conf) {
		if (set == NULL) {
			ppg = &b->prev->pages;
			precs = b->prev->feed;
		} else if ((pset = snap_set_find(b->prev, set->spec)) !=
		    NULL) {
			ppg = &pset->pages;
			precs = pset->feed;
		}
	}
	return build_archives(b, set != NULL ? &set->pages : &b->out->pages,
	    ppg, recs, n, precs);
}

/* The home page: what it shows is conf, the sets and the newest entries. */
static int
build_index(struct feed_build *b)
{
	const struct snap	*s = b->s;
	struct hash_ctx		 h;
	unsigned char		 key[HASH_LEN];
	size_t			 i, n;

	hash_init(&h);
	key_str(&h, "html");
	hash_update(&h, b->conf_key, HASH_LEN);
	key_int(&h, s->latest);
	key_int(&h, (int64_t)s->nfeed);
	key_int(&h, (int64_t)s->nsets);
	for (i = 0; i < s->nsets; i++) {
		key_str(&h, s->sets[i].spec);
		key_str(&h, s->sets[i].name);
		key_str(&h, s->sets[i].description);
		key_int(&h, (int64_t)s->sets[i].nfeed);
	}
	n = s->nfeed < FEED_INDEX_ITEMS ? s->nfeed : FEED_INDEX_ITEMS;
	key_entries(&h, s->feed + s->nfeed - n, n);
	hash_final(&h, key);
	if (snap_doc_reuse(b->out, b->prev, "/", key) == 1) {
		b->reused++;
		return 0;
	}
	buf_reset(&b->body);
	if (feed_render_index(s, &b->body, b->e) == -1)
		return -1;
	/* the newest change of any kind, deletions included */
	if (snap_doc_add(b->out, "/", FEED_HTML_TYPE, b->body.data,
	    b->body.len, key, s->latest) == -1)
		return err_set(b->e, "/: cannot add the document");
	b->rendered++;
	return 0;
}

int
feed_build(struct snap *s, const struct snap *prev, struct err *e)
{
	struct feed_build	 b;
	size_t			 i;
	int			 rc = -1;

	if (fb_init(&b, s, e) == -1)
		goto out;
	b.out = s;
	b.prev = prev;
	if (build_feed(&b, NULL) == -1)
		goto out;
	for (i = 0; i < s->nsets; i++)
		if (build_feed(&b, &s->sets[i]) == -1)
			goto out;
	if (build_index(&b) == -1)
		goto out;
	s->resolve = feed_resolve;
	rc = 0;
out:
	fb_release(&b);
	return rc;
}

/* feed_resolve(): archive pages on demand */

/* "N.atom" / "N.rss" exactly as build_path() writes them. */
static int
parse_page(const char *p, size_t *page, enum feed_format *fmt)
{
	size_t	 n = 0;

	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > SIZE_MAX / 10 - 1)
			return -1;
		n = n * 10 + (size_t)(*p - '0');
	}
	if (strcmp(p, ".atom") == 0)
		*fmt = FEED_ATOM;
	else if (strcmp(p, ".rss") == 0)
		*fmt = FEED_RSS;
	else
		return -1;
	*page = n;
	return 0;
}

/*
 * Which feed a path is an archive page of: set NULL for the whole
 * collection.  -1 when it is not an archive path of s.
 */
static int
parse_archive(const struct snap *s, const char *path,
    const struct snap_set **set, size_t *page, enum feed_format *fmt)
{
	const char	*a;
	char		*spec;

	*set = NULL;
	if (strncmp(path, "/archive/", 9) == 0)
		return parse_page(path + 9, page, fmt);
	if (strncmp(path, "/sets/", 6) != 0)
		return -1;
	/* a spec never holds '/', so the first "/archive/" ends it */
	if ((a = strstr(path + 6, "/archive/")) == NULL || a == path + 6 ||
	    parse_page(a + 9, page, fmt) == -1)
		return -1;
	if ((spec = strndup(path + 6, (size_t)(a - path - 6))) == NULL)
		return -1;
	*set = snap_set_find(s, spec);
	free(spec);
	return *set != NULL ? 0 : -1;
}

const struct snap_doc *
feed_resolve(const struct snap *s, const char *path)
{
	const struct snap_set	*set;
	const struct snap_pages	*pg;
	struct snap_doc		*d;
	struct feed_build	 b;
	struct feed_page	 p;
	struct err		 e;
	enum feed_format	 fmt;
	size_t			 page;
	unsigned char		 key[HASH_LEN];

	if (parse_archive(s, path, &set, &page, &fmt) == -1)
		return NULL;
	pg = set != NULL ? &set->pages : &s->pages;
	if (page < 1 || page > pg->npages)
		return NULL;
	d = pg->docs[(size_t)fmt * pg->npages + page - 1];
	if (snap_doc_is_ready(d))
		return d;
	err_init(&e);
	if (fb_init(&b, s, &e) == 0 && build_head(&b, &p, set) == 0 &&
	    build_page(&b, &p, set != NULL ? set->feed : s->feed,
	    set != NULL ? set->nfeed : s->nfeed, page, fmt) == 0) {
		buf_reset(&b.body);
		feed_page_key(b.conf_key, &p, fmt, key);
		if (feed_render(b.conf, &p, fmt, &b.body, &e) == 0)
			snap_doc_fill(d, p.self_path, fmt == FEED_ATOM ?
			    FEED_ATOM_TYPE : FEED_RSS_TYPE, b.body.data,
			    b.body.len, key, feed_page_updated(&p));
	}
	fb_release(&b);
	err_release(&e);
	return snap_doc_is_ready(d) ? d : NULL;
}

int
feed_materialize(const struct snap *s, struct err *e)
{
	const struct snap_pages	*pg;
	struct buf		 path;
	size_t			 i, k, n;
	int			 rc = -1;

	buf_init(&path, FEED_URL_MAX);
	for (i = 0; i <= s->nsets; i++) {
		const struct snap_set *set = i > 0 ? &s->sets[i - 1] : NULL;

		pg = set != NULL ? &set->pages : &s->pages;
		for (k = 0; k < SNAP_PAGE_KINDS; k++) {
			for (n = 1; n <= pg->npages; n++) {
				if (build_path(&path, set ? set->spec : NULL,
				    n, k == FEED_ATOM ? "atom" : "rss") == -1) {
					err_set(e, "feed path too long");
					goto out;
				}
				if (feed_resolve(s, path.data) == NULL) {
					err_set(e, "%s: cannot render",
					    path.data);
					goto out;
				}
			}
		}
	}
	rc = 0;
out:
	buf_release(&path);
	return rc;
}
