/*
 * feed.c: the helpers every renderer shares, feed_render()'s dispatch, and
 * feed_build(), which decides which documents exist (current feeds, RFC 5005
 * archive pages, per set, the home page) and renders only those whose
 * inputs changed since the previous snapshot.
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
	struct snap		*s;
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
build_emit(struct feed_build *b, const struct feed_page *p,
    enum feed_format fmt)
{
	unsigned char	 key[HASH_LEN];

	feed_page_key(b->conf_key, p, fmt, key);
	if (snap_doc_reuse(b->s, b->prev, p->self_path, key) == 1) {
		b->reused++;
		return 0;
	}
	buf_reset(&b->body);
	if (feed_render(b->conf, p, fmt, &b->body, b->e) == -1)
		return -1;
	if (snap_doc_add(b->s, p->self_path,
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

/* The current document and every archive page of one feed in one format. */
static int
build_format(struct feed_build *b, struct feed_page *p,
    struct record *const *recs, size_t n, enum feed_format fmt)
{
	const char	*ext = fmt == FEED_ATOM ? "atom" : "rss";
	const char	*alt = fmt == FEED_ATOM ? "rss" : "atom";
	size_t		 npages = n / b->per_page, pg;

	if (build_path(&b->cur, p->set_spec, 0, ext) == -1)
		goto toolong;
	for (pg = 0; pg <= npages; pg++) {
		if (build_path(&b->self, p->set_spec, pg, ext) == -1 ||
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
		if (build_emit(b, p, fmt) == -1)
			return -1;
	}
	return 0;
toolong:
	return err_set(b->e, "feed path too long for set '%s'",
	    p->set_spec != NULL ? p->set_spec : "");
}

static int
build_feed(struct feed_build *b, const struct snap_set *set)
{
	const struct conf	*c = b->conf;
	struct feed_page	 p;
	struct record *const	*recs = set != NULL ? set->feed : b->s->feed;
	size_t			 n = set != NULL ? set->nfeed : b->s->nfeed;

	memset(&p, 0, sizeof(p));
	p.title = feed_conf_title(c);
	p.subtitle = c->feed_subtitle;
	if (set != NULL) {
		buf_reset(&b->title);
		if (buf_printf(&b->title, "%s: %s", feed_conf_title(c),
		    set->name != NULL ? set->name : set->spec) == -1)
			return err_set(b->e, "feed title too long for set "
			    "'%s'", set->spec);
		p.title = b->title.data;
		if (set->description != NULL)
			p.subtitle = set->description;
		p.set_spec = set->spec;
	}
	if (build_format(b, &p, recs, n, FEED_ATOM) == -1 ||
	    build_format(b, &p, recs, n, FEED_RSS) == -1)
		return -1;
	return 0;
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
	if (snap_doc_reuse(b->s, b->prev, "/", key) == 1) {
		b->reused++;
		return 0;
	}
	buf_reset(&b->body);
	if (feed_render_index(s, &b->body, b->e) == -1)
		return -1;
	/* the newest change of any kind, deletions included */
	if (snap_doc_add(b->s, "/", FEED_HTML_TYPE, b->body.data, b->body.len,
	    key, s->latest) == -1)
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

	memset(&b, 0, sizeof(b));
	b.s = s;
	b.prev = prev;
	b.conf = s->conf;
	b.e = e;
	b.per_page = s->conf->feed_entries > 0 ?
	    (size_t)s->conf->feed_entries : FEED_DEFAULT_ENTRIES;
	buf_init(&b.body, FEED_BUF_MAX);
	buf_init(&b.self, FEED_URL_MAX);
	buf_init(&b.alt, FEED_URL_MAX);
	buf_init(&b.cur, FEED_URL_MAX);
	buf_init(&b.prevp, FEED_URL_MAX);
	buf_init(&b.nextp, FEED_URL_MAX);
	buf_init(&b.title, FEED_URL_MAX);
	if ((b.ents = calloc(b.per_page, sizeof(*b.ents))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	feed_conf_key(s->conf, b.conf_key);
	if (build_feed(&b, NULL) == -1)
		goto out;
	for (i = 0; i < s->nsets; i++)
		if (build_feed(&b, &s->sets[i]) == -1)
			goto out;
	if (build_index(&b) == -1)
		goto out;
	rc = 0;
out:
	free(b.ents);
	buf_release(&b.body);
	buf_release(&b.self);
	buf_release(&b.alt);
	buf_release(&b.cur);
	buf_release(&b.prevp);
	buf_release(&b.nextp);
	buf_release(&b.title);
	return rc;
}
