/*
 * feed_build.c: the orchestrator of the feed module.  feed_conf_init()
 * takes from conf what the renderers read; feed_render() dispatches to a
 * renderer; feed_build() decides which documents exist (current feeds,
 * RFC 5005 archive pages, per set, their language versions, the home page)
 * and renders the current ones whose inputs changed since the previous
 * snapshot; feed_resolve() renders an archive page on its first request.
 * Renderers never call back into this file.
 */
#include <sys/types.h>

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
#include "i18n.h"
#include "page_style.h"
#include "record.h"
#include "snap.h"
#include "banned.h"

#ifndef PUBFEED_VERSION
#define PUBFEED_VERSION "unknown"
#endif

#define FEED_DEFAULT_ENTRIES	50

/*
 * The key's serialization: the generator version (written into every
 * document), each field of FEED_CONF_STRINGS and FEED_CONF_INTS in list
 * order, then the sets and the notification targets, each array as its
 * length then every member of every element.
 */
void
feed_conf_init(struct feed_conf *fc, const struct conf *c)
{
	struct hash_ctx	 h;
	size_t		 i;

	memset(fc, 0, sizeof(*fc));
	hash_init(&h);
	hash_update_str(&h, "pubfeed " PUBFEED_VERSION);
#define FEED_CONF_COPY_STRING(f)	fc->f = c->f; hash_update_str(&h, fc->f);
#define FEED_CONF_COPY_INT(f)		fc->f = c->f; hash_update_i64(&h, fc->f);
	FEED_CONF_STRINGS(FEED_CONF_COPY_STRING)
	FEED_CONF_INTS(FEED_CONF_COPY_INT)
#undef FEED_CONF_COPY_STRING
#undef FEED_CONF_COPY_INT
	fc->sets = c->sets;
	fc->nsets = c->nsets;
	hash_update_i64(&h, (int64_t)fc->nsets);
	for (i = 0; i < fc->nsets; i++) {
		hash_update_str(&h, fc->sets[i].spec);
		hash_update_str(&h, fc->sets[i].name);
		hash_update_str(&h, fc->sets[i].description);
	}
	fc->targets = c->targets;
	fc->ntargets = c->ntargets;
	hash_update_i64(&h, (int64_t)fc->ntargets);
	for (i = 0; i < fc->ntargets; i++) {
		hash_update_i64(&h, (int64_t)fc->targets[i].kind);
		hash_update_str(&h, fc->targets[i].url);
		hash_update_str(&h, fc->targets[i].body);
	}
	hash_final(&h, fc->key);
}

/* Path extension and Content-Type of each format, by enum feed_format. */
static const char *const fmt_ext[] = { "atom", "rss", "html", "json", "ics" };
static const char *const fmt_type[] = { FEED_ATOM_TYPE, FEED_RSS_TYPE,
	FEED_HTML_TYPE, FEED_JSON_TYPE, FEED_ICS_TYPE };

/*
 * The archive page slot kind of a format in a page language: Atom, RSS,
 * English HTML, then the HTML of each other language (feed.h); and back.
 */
static size_t
page_kind(enum feed_format fmt, enum i18n_lang l)
{
	return fmt == FEED_HTML && l != I18N_EN ? (size_t)FEED_HTML + l :
	    (size_t)fmt;
}

static enum feed_format
kind_format(size_t k, enum i18n_lang *l)
{
	*l = k > FEED_HTML ? (enum i18n_lang)(k - FEED_HTML) : I18N_EN;
	return k > FEED_HTML ? FEED_HTML : (enum feed_format)k;
}

/* The kinds must fill the slots of snap.h exactly. */
_Static_assert(FEED_HTML + I18N_NLANGS == SNAP_PAGE_KINDS,
    "SNAP_PAGE_KINDS must be Atom, RSS and HTML in every page language");

/*
 * A record's slots in s->records: its landing page in each page language
 * (kind = the language), then its link set in both forms.
 */
#define REC_LINKSET		I18N_NLANGS
#define REC_LINKSET_JSON	(I18N_NLANGS + 1)
#define REC_KINDS		(I18N_NLANGS + 2)
_Static_assert(REC_KINDS <= SNAP_PAGE_KINDS,
    "a record's pages and link sets must fit its SNAP_PAGE_KINDS slots");

int
feed_render(const struct feed_conf *c, const struct feed_page *p,
    enum feed_format fmt, struct buf *out, struct err *e)
{
	switch (fmt) {
	case FEED_ATOM:
		return feed_render_atom(c, p, out, e);
	case FEED_RSS:
		return feed_render_rss(c, p, out, e);
	case FEED_JSON:
		return feed_render_json(c, p, out, e);
	case FEED_ICS:
		return feed_render_ics(c, p, out, e);
	case FEED_HTML:
		return feed_render_html(c, p, out, e);
	}
	return err_set(e, "unknown feed format %d", (int)fmt);
}

/* feed_build() */

struct feed_build {
	const struct snap	*s;	/* what is rendered */
	struct snap		*out;	/* where documents go; NULL: resolve */
	const struct snap	*prev;
	struct feed_conf	 conf;
	size_t			 per_page;
	struct record		**ents;		/* one page, newest first */
	struct record		**events;	/* upcoming, soonest first */
	int64_t			 now;
	struct buf		 body;
	struct buf		 self, alt, cur, prevp, nextp, title, lpath;
	struct err		*e;
	size_t			 rendered, reused;
	struct feed_langs	 langs;
	/*
	 * Documents emitted while is_lazy go into the lazy table instead of
	 * being rendered (feed_build()).  With want set (feed_resolve()), the
	 * one document at that path is rendered into body (got, got_*) and
	 * nothing is added anywhere: the same walk decides what both see.
	 */
	int			 is_lazy;
	const char		*want;
	int			 got;
	enum feed_format	 got_fmt;
	int64_t			 got_lm;
	unsigned char		 got_key[HASH_LEN];
};

/*
 * The entries of a page by content, never by address: a key must mean the
 * same in another process (export compares it with the one its manifest
 * kept).  A record's value is its file's SHA-256 and its datestamp (the
 * entry's updated, the document's Last-Modified); what the renderers read
 * of a record comes from those bytes.  40 bytes per entry; archive pages,
 * the bulk of the entries, are not keyed while a snapshot is built
 * (build_archives() compares by identity) but only when export asks.  The
 * entries go into a key as their own digest, which the five kinds of an
 * archive page share (feed_each_doc() makes it once per page).
 */
static void
entries_digest(struct record *const *ents, size_t n,
    unsigned char out[HASH_LEN])
{
	struct hash_ctx	 h;
	size_t		 i;

	hash_init(&h);
	for (i = 0; i < n; i++) {
		hash_update(&h, ents[i]->hash, HASH_LEN);
		hash_update_i64(&h, ents[i]->datestamp);
	}
	hash_final(&h, out);
}

static void
key_entries(struct hash_ctx *h, struct record *const *ents, size_t n)
{
	unsigned char	 d[HASH_LEN];

	entries_digest(ents, n, d);
	hash_update(h, d, HASH_LEN);
}

/* ents (may be NULL): entries_digest() of p's entries, made already. */
static void
feed_page_key(const struct feed_conf *fc, const struct feed_page *p,
    enum feed_format fmt, const unsigned char *ents,
    unsigned char key[HASH_LEN])
{
	struct hash_ctx	 h;
	size_t		 i;

	hash_init(&h);
	hash_update_str(&h, fmt_ext[fmt]);
	hash_update(&h, fc->key, HASH_LEN);
	hash_update_str(&h, p->title);
	hash_update_str(&h, p->subtitle);
	hash_update_str(&h, p->set_spec);
	hash_update_str(&h, p->self_path);
	hash_update_str(&h, p->alt_path);
	hash_update_str(&h, p->current_path);
	hash_update_str(&h, p->prev_archive);
	hash_update_str(&h, p->next_archive);
	hash_update_i64(&h, p->is_archive);
	hash_update_i64(&h, p->page_lang);
	hash_update_str(&h, p->lang);
	hash_update_i64(&h, (int64_t)p->nlangs);
	for (i = 0; i < p->nlangs; i++)
		hash_update_str(&h, p->langs[i]);
	hash_update_i64(&h, p->first_seen);
	hash_update_i64(&h, (int64_t)p->nentries);
	if (ents != NULL)
		hash_update(&h, ents, HASH_LEN);
	else
		key_entries(&h, p->entries, p->nentries);
	hash_update_i64(&h, p->lm_floor);
	/* an HTML current page also shows its sets and the upcoming events */
	if (p->snap != NULL) {
		const struct snap_set	*set = p->set_spec != NULL ?
		    snap_set_find(p->snap, p->set_spec) : NULL;

		hash_update(&h, set != NULL ? set->tree_digest :
		    p->snap->tree_digest, HASH_LEN);
		hash_update_i64(&h, (int64_t)p->nevents);
		key_entries(&h, p->events, p->nevents);
	}
	hash_final(&h, key);
}

/*
 * A landing page's key: the conf, the page language, the record's bytes and
 * datestamp, and what of the snapshot the page shows (the OAI namespace of
 * its identifiers, the names of its sets).
 */
static void
feed_record_key(const struct feed_conf *fc, const struct snap *s,
    const struct record *r, enum i18n_lang l, unsigned char key[HASH_LEN])
{
	const struct snap_set	*set;
	struct hash_ctx		 h;
	size_t			 i;

	hash_init(&h);
	hash_update_str(&h, "record");
	hash_update(&h, fc->key, HASH_LEN);
	hash_update_i64(&h, l);
	hash_update(&h, r->hash, HASH_LEN);
	hash_update_i64(&h, r->datestamp);
	hash_update_str(&h, s->conf->oai_namespace);
	hash_update_i64(&h, (int64_t)r->nsets);
	for (i = 0; i < r->nsets; i++) {
		set = snap_set_find(s, r->sets[i]);
		hash_update_str(&h, set != NULL ? set->name : NULL);
	}
	hash_final(&h, key);
}

/*
 * A link set's key: its form, the conf, the record's bytes and datestamp
 * and the OAI namespace of its GetRecord links.
 */
static void
feed_linkset_key(const struct feed_conf *fc, const struct snap *s,
    const struct record *r, int is_json, unsigned char key[HASH_LEN])
{
	struct hash_ctx		 h;

	hash_init(&h);
	hash_update_str(&h, is_json ? "linkset.json" : "linkset");
	hash_update(&h, fc->key, HASH_LEN);
	hash_update(&h, r->hash, HASH_LEN);
	hash_update_i64(&h, r->datestamp);
	hash_update_str(&h, s->conf->oai_namespace);
	hash_final(&h, key);
}

/*
 * When pubfeed first saw the collection: the first import the state
 * remembers, else (a state older than that) the earliest datestamp, exact
 * while one record of the first start is unchanged.
 */
static int64_t
feed_first_seen(const struct snap *s)
{
	return s->first_import != 0 ? s->first_import : s->earliest;
}

static int
fb_init(struct feed_build *b, const struct snap *s, struct err *e)
{
	memset(b, 0, sizeof(*b));
	b->s = s;
	feed_conf_init(&b->conf, s->conf);
	b->e = e;
	b->per_page = b->conf.feed_entries > 0 ?
	    (size_t)b->conf.feed_entries : FEED_DEFAULT_ENTRIES;
	buf_init(&b->body, FEED_BUF_MAX);
	buf_init(&b->self, FEED_URL_MAX);
	buf_init(&b->alt, FEED_URL_MAX);
	buf_init(&b->cur, FEED_URL_MAX);
	buf_init(&b->prevp, FEED_URL_MAX);
	buf_init(&b->nextp, FEED_URL_MAX);
	buf_init(&b->title, FEED_URL_MAX);
	buf_init(&b->lpath, FEED_URL_MAX);
	if ((b->ents = calloc(b->per_page, sizeof(*b->ents))) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

static void
fb_release(struct feed_build *b)
{
	free(b->ents);
	free(b->events);
	buf_release(&b->body);
	buf_release(&b->self);
	buf_release(&b->alt);
	buf_release(&b->cur);
	buf_release(&b->prevp);
	buf_release(&b->nextp);
	buf_release(&b->title);
	buf_release(&b->lpath);
}


static int
build_emit(struct feed_build *b, const struct feed_page *p,
    enum feed_format fmt)
{
	unsigned char	 key[HASH_LEN];
	int64_t		 lm;

	if (b->want != NULL && (b->got || strcmp(p->self_path, b->want) != 0))
		return 0;
	feed_page_key(&b->conf, p, fmt, NULL, key);
	if (b->want == NULL && b->is_lazy) {
		if (snap_lazy_add(b->out, b->prev, p->self_path, key) == -1)
			return err_set(b->e, "out of memory");
		return 0;
	}
	if (b->want == NULL &&
	    snap_doc_reuse(b->out, b->prev, p->self_path, key) == 1) {
		b->reused++;
		return 0;
	}
	lm = feed_page_changed(p);
	buf_reset(&b->body);
	if (feed_render(&b->conf, p, fmt, &b->body, b->e) == -1)
		return -1;
	if (b->want != NULL) {
		b->got = 1;
		b->got_fmt = fmt;
		b->got_lm = lm;
		memcpy(b->got_key, key, HASH_LEN);
		return 0;
	}
	if (snap_doc_add(b->out, p->self_path, fmt_type[fmt], b->body.data,
	    b->body.len, key, lm) == -1)
		return err_set(b->e, "%s: cannot add the document",
		    p->self_path);
	b->rendered++;
	return 0;
}

/* An HTML page in every page language, at its path under each prefix. */
static int
build_emit_langs(struct feed_build *b, struct feed_page *p)
{
	const char	*path = p->self_path;
	int		 l, rc = 0;

	for (l = 0; rc == 0 && l < I18N_NLANGS; l++) {
		buf_reset(&b->lpath);
		if (i18n_path(&b->lpath, (enum i18n_lang)l, path) == -1) {
			rc = err_set(b->e, "%s: page path too long", path);
			break;
		}
		p->page_lang = (enum i18n_lang)l;
		p->self_path = b->lpath.data;
		rc = build_emit(b, p, FEED_HTML);
	}
	p->page_lang = I18N_EN;
	p->self_path = path;
	return rc;
}

/* "/feed.EXT", "/sets/SPEC.EXT", or archive page n of either. */
static int
build_path(struct buf *b, const char *spec, size_t n, const char *ext)
{
	buf_reset(b);
	if (spec == NULL && n == 0 && strcmp(ext, "html") == 0)
		return buf_addstr(b, "/");
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
	const char	*ext = fmt_ext[fmt];
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
	const struct feed_conf	*c = &b->conf;

	memset(p, 0, sizeof(*p));
	p->first_seen = feed_first_seen(b->s);
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
 * compared by record identity, which prev keeps alive; still or still not the
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
	struct snap_slot *d;

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
				d = snap_slot_share(ppg->slots[k *
				    ppg->npages + i - 1]);
				b->reused++;
			} else if ((d = snap_slot_new()) == NULL)
				return err_set(b->e, "out of memory");
			pg->slots[k * np + i - 1] = d;
		}
	}
	return 0;
}

/*
 * The calendar of a feed (every event of recs, not only the newest) at
 * "/feed.ics" or "/sets/SPEC.ics", and for the whole collection one
 * "/events/ID.ics" per event.  p comes from build_head().
 */
static int
build_calendars(struct feed_build *b, struct feed_page *p,
    const struct snap_set *set, struct record *const *recs, size_t n)
{
	struct record	**ev;
	size_t		 i, nev = 0;
	int64_t		 floor = p->lm_floor;
	int		 rc = -1;

	/* every event the feed ever had: one deleted changes it */
	p->lm_floor = set != NULL ? set->gone : b->s->gone;
	if ((ev = calloc(n > 0 ? n : 1, sizeof(*ev))) == NULL)
		return err_set(b->e, "out of memory");
	for (i = 0; i < n; i++)
		if (recs[i]->event != NULL)
			ev[nev++] = recs[i];
	buf_reset(&b->self);
	if ((set == NULL ? buf_addstr(&b->self, "/feed.ics") :
	    buf_printf(&b->self, "/sets/%s.ics", set->spec)) == -1) {
		err_set(b->e, "calendar path too long");
		goto out;
	}
	p->self_path = b->self.data;
	p->alt_path = p->current_path = NULL;
	p->prev_archive = p->next_archive = NULL;
	p->is_archive = 0;
	p->entries = ev;
	p->nentries = nev;
	/*
	 * Every event the feed ever had (8.5 MB at 100k records): rendered on
	 * its first request, like the per-event ones ("add to calendar": one
	 * event, rarely), not at every start and every change.
	 */
	b->is_lazy = 1;
	if (build_emit(b, p, FEED_ICS) == -1)
		goto out;
	for (i = 0; set == NULL && i < nev; i++) {
		buf_reset(&b->self);
		if (buf_printf(&b->self, "/events/%s.ics", ev[i]->id) == -1) {
			err_set(b->e, "calendar path too long");
			goto out;
		}
		p->entries = &ev[i];
		p->nentries = 1;
		p->lm_floor = 0;	/* one event's page: its record alone */
		if (build_emit(b, p, FEED_ICS) == -1)
			goto out;
	}
	rc = 0;
out:
	b->is_lazy = set != NULL;
	p->entries = NULL;
	p->nentries = 0;
	p->lm_floor = floor;
	free(ev);
	return rc;
}

/*
 * The language versions of a feed: its current Atom, RSS and JSON Feed
 * documents, each entry in that language where the record has it.  They
 * have no archives (RFC 5005 pages are the record's own language), so
 * they carry no paging links.  p comes from build_head().
 */
static int
build_langs(struct feed_build *b, struct feed_page *p,
    struct record *const *recs, size_t n)
{
	static const enum feed_format fmts[] = { FEED_ATOM, FEED_RSS,
	    FEED_JSON };
	const char	*title = p->title;
	size_t		 i, k;
	int		 was_lazy = b->is_lazy;

	b->is_lazy = 1;		/* rarely asked for: rendered on request */
	for (i = 0; i < b->langs.n; i++) {
		p->lang = b->langs.tags[i];
		buf_reset(&b->cur);
		if (buf_printf(&b->cur, "%s (%s)", title, p->lang) == -1)
			return err_set(b->e, "feed title too long");
		p->title = b->cur.data;
		for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
			if (feed_lang_path(&b->self, p->lang, p->set_spec,
			    fmt_ext[fmts[k]]) == -1 ||
			    feed_lang_path(&b->alt, p->lang, p->set_spec,
			    fmts[k] == FEED_ATOM ? "rss" : "atom") == -1)
				return err_set(b->e, "feed path too long for "
				    "set '%s'", p->set_spec != NULL ?
				    p->set_spec : "");
			p->self_path = b->self.data;
			p->alt_path = b->alt.data;
			p->current_path = NULL;
			p->prev_archive = p->next_archive = NULL;
			p->is_archive = 0;
			p->entries = b->ents;
			p->nentries = build_entries(b, recs, n, 0);
			if (build_emit(b, p, fmts[k]) == -1)
				return -1;
		}
		p->title = title;
	}
	b->is_lazy = was_lazy;
	p->lang = NULL;
	return 0;
}

static int
event_cmp(const void *a, const void *b)
{
	const struct record	*x = *(struct record *const *)a;
	const struct record	*y = *(struct record *const *)b;

	if (x->event->start.t != y->event->start.t)
		return x->event->start.t < y->event->start.t ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The events of recs that have not ended by b->now, soonest first. */
static size_t
build_events(struct feed_build *b, struct record *const *recs, size_t n,
    int64_t *changed)
{
	size_t	 i, k = 0;
	int64_t	 end;

	for (i = 0; i < n; i++) {
		const struct record_event *ev = recs[i]->event;

		if (ev == NULL)
			continue;
		end = ev->end.gran == DATE_SECOND ? ev->end.t :
		    date_end(&ev->end);
		if (end > b->now) {
			b->events[k++] = recs[i];
			if (recs[i]->datestamp > *changed)
				*changed = recs[i]->datestamp;
		} else if (end > *changed)
			*changed = end;	/* left the list then */
	}
	qsort(b->events, k, sizeof(*b->events), event_cmp);
	return k;
}

/*
 * An HTML current page's Last-Modified floor: besides its entries (and
 * since when it has shown them, win), the page shows a tree of sets
 * (changed when the state says; unknown: the newest change of all) and
 * the upcoming events (their datestamps, and when the last one to go
 * ended).
 */
static int64_t
html_floor(struct feed_build *b, const struct snap_set *set,
    struct record *const *recs, size_t n, int64_t win, size_t *nevents)
{
	int64_t	 t = 0;

	if (set == NULL || set->has_tree) {
		t = set != NULL ? set->tree_changed : b->s->tree_changed;
		if (t == 0)
			t = b->s->latest;
	}
	if (win > t)
		t = win;
	*nevents = build_events(b, recs, n, &t);
	return t;
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
	int64_t			 win;

	if (build_head(b, &p, set) == -1)
		return -1;
	/*
	 * Since when the current documents have shown these records; unknown
	 * (no state, or a replica's primary ahead of it): the newest deletion
	 * in the set, which is what changes them most often.
	 */
	win = set != NULL ? set->window_changed : b->s->window_changed;
	if (win == 0)
		win = set != NULL ? set->gone : b->s->gone;
	p.lm_floor = win;
	/*
	 * The collection's own documents are the ones asked for all the time
	 * (and what bench/feeds.sh measures): rendered now.  A set's are
	 * rendered on request and kept in the document cache.
	 */
	b->is_lazy = set != NULL;
	/* the current documents link their language versions */
	p.langs = b->langs.tags;
	p.nlangs = b->langs.n;
	if (build_page(b, &p, recs, n, 0, FEED_ATOM) == -1 ||
	    build_emit(b, &p, FEED_ATOM) == -1 ||
	    build_page(b, &p, recs, n, 0, FEED_RSS) == -1 ||
	    build_emit(b, &p, FEED_RSS) == -1 ||
	    build_page(b, &p, recs, n, 0, FEED_JSON) == -1 ||
	    build_emit(b, &p, FEED_JSON) == -1 ||
	    build_page(b, &p, recs, n, 0, FEED_HTML) == -1)
		return -1;
	p.snap = b->s;
	p.events = b->events;
	p.lm_floor = html_floor(b, set, recs, n, win, &p.nevents);
	if (build_emit_langs(b, &p) == -1)
		return -1;
	p.snap = NULL;		/* the HTML page's alone */
	p.events = NULL;
	p.nevents = 0;
	p.lm_floor = win;
	if (build_langs(b, &p, recs, n) == -1)
		return -1;
	p.langs = NULL;
	p.nlangs = 0;
	if (build_calendars(b, &p, set, recs, n) == -1)
		return -1;
	if (b->out == NULL)	/* feed_resolve(): current documents only */
		return 0;
	/*
	 * A new conf, or a new first_seen (every entry's updated may move),
	 * may change any page: then nothing is carried over.
	 */
	if (b->prev != NULL && b->prev->conf == b->s->conf &&
	    feed_first_seen(b->prev) == feed_first_seen(b->s)) {
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

/* The stylesheet, at its content-hashed path. */
static int
build_style(struct feed_build *b)
{
	unsigned char	 key[HASH_LEN];
	const char	*css;
	size_t		 len;

	css = page_style_css(&len);
	hash_sha256(css, len, key);
	if (snap_doc_reuse(b->out, b->prev, page_style_path(), key) == 1) {
		b->reused++;
		return 0;
	}
	/* Last-Modified: the stylesheet is as old as the binary's build */
	if (snap_doc_add(b->out, page_style_path(), PAGE_STYLE_TYPE, css, len,
	    key, 0) == -1)
		return err_set(b->e, "%s: cannot add the document",
		    page_style_path());
	b->rendered++;
	return 0;
}

/*
 * A landing page slot per item of s->by_id and page language (kind = the
 * language), made on its first request (snap_slot_at(): 100,000 records
 * would hold 300,000 empty slots otherwise).  A record's page depends on
 * the record and the conf only, so with the same conf the slot of the same
 * record object is carried over from prev, rendered or not.  Both by_id
 * arrays are sorted by id: one merge walk.
 */
static int
build_records(struct feed_build *b)
{
	struct snap		*s = b->out;
	const struct snap	*prev = b->prev;
	size_t			 i, j = 0, pn = 0, n = s->nitems;
	struct snap_slot	*d;
	int			 c, l;

	if (prev == NULL)
		return snap_pages_init(&s->records, s->nitems) == -1 ?
		    err_set(b->e, "out of memory") : 0;
	if (snap_pages_init(&s->records, s->nitems) == -1)
		return err_set(b->e, "out of memory");
	if (prev != NULL && prev->conf == s->conf &&
	    prev->records.npages == prev->nitems)
		pn = prev->nitems;
	for (i = 0; i < s->nitems; i++) {
		const struct snap_item *it = s->by_id[i];

		if (it->rec == NULL)
			continue;
		c = 1;
		while (j < pn && (c = strcmp(prev->by_id[j]->id, it->id)) < 0)
			j++;
		/* kind = the page language, then the link sets */
		for (l = 0; c == 0 && l < REC_KINDS; l++) {
			/* prev is published: a request may be making it */
			d = __atomic_load_n(&prev->records.slots[l * pn + j],
			    __ATOMIC_ACQUIRE);
			if (prev->by_id[j]->rec != it->rec || d == NULL)
				continue;
			s->records.slots[l * n + i] = snap_slot_share(d);
			b->reused++;
		}
	}
	return 0;
}

/* src into dst: tags[] is sorted, so it points into tag[] in any order. */
static void
langs_copy(struct feed_langs *dst, const struct feed_langs *src)
{
	size_t	 i;

	memcpy(dst, src, sizeof(*dst));
	for (i = 0; i < src->n; i++)
		dst->tags[i] = dst->tag[(size_t)(src->tags[i] - src->tag[0]) /
		    FEED_LANG_LEN];
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
	b.now = s->feed_now = date_now();
	snap_doc_cache_limit(s->conf->doc_cache_bytes);
	record_cache_limit(s->conf->record_cache_bytes);
	if ((b.events = calloc(s->nfeed + 1, sizeof(*b.events))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	feed_langs(&b.langs, s);
	free(s->render_ctx);
	if ((s->render_ctx = malloc(sizeof(b.langs))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	langs_copy(s->render_ctx, &b.langs);
	if (build_feed(&b, NULL) == -1)
		goto out;
	for (i = 0; i < s->nsets; i++)
		if (build_feed(&b, &s->sets[i]) == -1)
			goto out;
	if (build_style(&b) == -1 || build_records(&b) == -1)
		goto out;
	s->resolve = feed_resolve;
	rc = 0;
out:
	fb_release(&b);
	return rc;
}

/* feed_resolve(): archive pages on demand */

/* "N.atom" / "N.rss" / "N.html" exactly as build_path() writes them. */
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
	else if (strcmp(p, ".html") == 0)
		*fmt = FEED_HTML;
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

/*
 * The index in s->by_id of the record a landing page or link set path
 * names, or -1, its form into *kind (REC_LINKSET, REC_LINKSET_JSON, else
 * 0).  "/records/ID.html" exactly: ids never hold '/'.
 */
static ssize_t
record_index(const struct snap *s, const char *path, int *kind)
{
	static const char *const ext[] = { ".html", FEED_LINKSET_EXT,
		FEED_LINKSET_JSON_EXT };
	static const int kinds[] = { 0, REC_LINKSET, REC_LINKSET_JSON };
	const char	*id = path + strlen(FEED_RECORD_PREFIX);
	size_t		 len = strlen(id), lo = 0, hi = s->nitems, mid;
	size_t		 k, el = 0;
	int		 c;

	for (k = 0; k < 3; k++) {
		el = strlen(ext[k]);
		if (len > el && strcmp(id + len - el, ext[k]) == 0)
			break;
	}
	if (k == 3)
		return -1;
	*kind = kinds[k];
	len -= el;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(s->by_id[mid]->id, id, len);
		if (c == 0 && s->by_id[mid]->id[len] != '\0')
			c = 1;
		if (c == 0)
			return s->by_id[mid]->rec != NULL ? (ssize_t)mid : -1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The record of a landing page path, or NULL. */
const struct record *
feed_path_record(const struct snap *s, const char *path)
{
	ssize_t	 i;
	int	 kind;

	i18n_path_lang(path, &path);
	if (strncmp(path, FEED_RECORD_PREFIX, strlen(FEED_RECORD_PREFIX)) !=
	    0 || (i = record_index(s, path, &kind)) < 0 || kind != 0)
		return NULL;
	return s->by_id[i]->rec;
}

/* What a slot's renderer needs. */
struct feed_job {
	const struct snap	*s;
	const char		*path;		/* as requested */
	const char		*rest;		/* without language prefix */
	enum i18n_lang		 l;
	ssize_t			 rec;		/* landing page: by_id index */
	int			 rec_kind;	/* 0, REC_LINKSET(_JSON) */
	const struct snap_set	*set;		/* archive page: its feed */
	size_t			 page;
	enum feed_format	 fmt;
	struct feed_build	 b;
	struct err		 e;
};

static int
render_record(void *arg, struct snap_render *out)
{
	struct feed_job		*j = arg;
	const struct record	*r = j->s->by_id[j->rec]->rec;

	if (fb_init(&j->b, j->s, &j->e) == -1 ||
	    feed_render_record(&j->b.conf, j->s, r, j->l, &j->b.body,
	    &j->e) == -1)
		return -1;
	out->path = j->path;
	out->content_type = FEED_HTML_TYPE;
	out->body = j->b.body.data;
	out->len = j->b.body.len;
	feed_record_key(&j->b.conf, j->s, r, j->l, out->key);
	out->last_modified = r->datestamp;
	return 0;
}

/* A record's link set, in the form j->rec_kind says. */
static int
render_linkset(void *arg, struct snap_render *out)
{
	struct feed_job		*j = arg;
	const struct record	*r = j->s->by_id[j->rec]->rec;
	int			 is_json = j->rec_kind == REC_LINKSET_JSON;

	if (fb_init(&j->b, j->s, &j->e) == -1 ||
	    feed_render_linkset(&j->b.conf, j->s, r, is_json, &j->b.body,
	    &j->e) == -1)
		return -1;
	out->path = j->path;
	out->content_type = is_json ? FEED_LINKSET_JSON_TYPE :
	    FEED_LINKSET_TYPE;
	out->body = j->b.body.data;
	out->len = j->b.body.len;
	feed_linkset_key(&j->b.conf, j->s, r, is_json, out->key);
	out->last_modified = r->datestamp;
	return 0;
}

/*
 * Page j->page of j->set's feed in j->fmt and j->l at j->path into p, its
 * key into key: what render_archive() renders, and all feed_each_doc()
 * needs to know whether export must.  b is fb_init()ed.  ents (may be
 * NULL): the digest of the page's entries, made now when is_new.
 */
static int
archive_page(struct feed_build *b, const struct feed_job *j,
    struct feed_page *p, unsigned char *ents, int is_new,
    unsigned char key[HASH_LEN])
{
	if (build_head(b, p, j->set) == -1 ||
	    build_page(b, p, j->set != NULL ? j->set->feed : j->s->feed,
	    j->set != NULL ? j->set->nfeed : j->s->nfeed, j->page,
	    j->fmt) == -1)
		return -1;
	p->page_lang = j->l;
	p->self_path = j->path;
	/*
	 * An archive page's Last-Modified is its entries' alone: its slot is
	 * shared with the previous snapshot while they are the same
	 * (build_archives()), so anything more would make a long-running
	 * process and a fresh one disagree.  (A deletion or a record dated
	 * back shifts the pages after it: their ETag changes, their
	 * Last-Modified need not.)
	 */
	p->lm_floor = 0;
	if (ents != NULL && is_new)
		entries_digest(p->entries, p->nentries, ents);
	feed_page_key(&b->conf, p, j->fmt, ents, key);
	return 0;
}

static int
render_archive(void *arg, struct snap_render *out)
{
	struct feed_job		*j = arg;
	struct feed_build	*b = &j->b;
	struct feed_page	 p;

	if (fb_init(b, j->s, &j->e) == -1 ||
	    archive_page(b, j, &p, NULL, 0, out->key) == -1)
		return -1;
	buf_reset(&b->body);
	if (feed_render(&b->conf, &p, j->fmt, &b->body, &j->e) == -1)
		return -1;
	out->path = j->path;
	out->content_type = fmt_type[j->fmt];
	out->body = b->body.data;
	out->len = b->body.len;
	out->last_modified = feed_page_changed(&p);
	return 0;
}

/* The live event record of "/events/ID.ics", or NULL. */
static struct record *
event_record(const struct snap *s, const char *path)
{
	const struct snap_item	*it;
	char			*id;
	size_t			 len = strlen(path + 8);

	if (len <= 4 || strcmp(path + 8 + len - 4, ".ics") != 0 ||
	    (id = strndup(path + 8, len - 4)) == NULL)
		return NULL;
	it = snap_item_find(s, id);
	free(id);
	return it != NULL && it->rec != NULL && it->rec->event != NULL ?
	    it->rec : NULL;
}

/*
 * A current document of the lazy table: the walk feed_build() made, for
 * the one feed the path belongs to ("/sets/SPEC.*" and its language
 * versions and pages, else the collection), rendering only that path, with
 * the snapshot's "now": the bytes feed_build() would have made.
 */
static int
render_current(void *arg, struct snap_render *out)
{
	struct feed_job		*j = arg;
	struct feed_build	*b = &j->b;
	const struct snap_set	*set = NULL;
	struct feed_page	 p;
	struct record		*rec;
	const char		*sp, *dot;
	char			*spec;

	if ((sp = strstr(j->rest, "/sets/")) != NULL) {
		sp += 6;
		if ((dot = strrchr(sp, '.')) == NULL ||
		    (spec = strndup(sp, (size_t)(dot - sp))) == NULL)
			return -1;
		set = snap_set_find(j->s, spec);
		free(spec);
		if (set == NULL)
			return -1;
	}
	if (fb_init(b, j->s, &j->e) == -1 ||
	    (b->events = calloc(j->s->nfeed + 1, sizeof(*b->events))) == NULL)
		return -1;
	b->now = j->s->feed_now;
	b->want = j->path;
	if (j->s->render_ctx == NULL)
		return -1;
	langs_copy(&b->langs, j->s->render_ctx);
	if (strncmp(j->rest, "/events/", 8) == 0) {
		/* build_calendars()'s page of one event, without the walk */
		if ((rec = event_record(j->s, j->rest)) == NULL ||
		    build_head(b, &p, NULL) == -1)
			return -1;
		p.self_path = j->path;
		p.entries = &rec;
		p.nentries = 1;
		if (build_emit(b, &p, FEED_ICS) == -1 || !b->got)
			return -1;
	} else if (build_feed(b, (struct snap_set *)(uintptr_t)set) == -1 ||
	    !b->got)
		return -1;
	out->path = j->path;
	out->content_type = fmt_type[b->got_fmt];
	out->body = b->body.data;
	out->len = b->body.len;
	memcpy(out->key, b->got_key, HASH_LEN);
	out->last_modified = b->got_lm;
	return 0;
}

static const struct snap_doc *
resolve_slot(struct feed_job *j, struct snap_slot *sl, snap_render_fn *fn)
{
	const struct snap_doc	*d;

	err_init(&j->e);
	d = snap_slot_get(sl, fn, j);
	fb_release(&j->b);
	err_release(&j->e);
	return d;
}

const struct snap_doc *
feed_resolve(const struct snap *s, const char *path)
{
	const struct snap_pages	*pg;
	struct snap_slot	*sl;
	struct feed_job		 j;

	memset(&j, 0, sizeof(j));
	j.s = s;
	j.path = path;
	j.l = i18n_path_lang(path, &j.rest);
	if ((sl = snap_lazy_find(s, path)) != NULL)
		return resolve_slot(&j, sl, render_current);
	if (strncmp(j.rest, FEED_RECORD_PREFIX,
	    strlen(FEED_RECORD_PREFIX)) == 0) {
		/* the link sets are in no page language */
		if ((j.rec = record_index(s, j.rest, &j.rec_kind)) < 0 ||
		    (j.rec_kind != 0 && j.l != I18N_EN) ||
		    s->records.npages != s->nitems ||
		    (sl = snap_slot_at(&s->records.slots[(j.rec_kind != 0 ?
		    (size_t)j.rec_kind : (size_t)j.l) * s->nitems +
		    (size_t)j.rec])) == NULL)
			return NULL;
		return resolve_slot(&j, sl, j.rec_kind != 0 ? render_linkset :
		    render_record);
	}
	/* feeds are in no page language: "/bg/archive/1.atom" is none */
	if (parse_archive(s, j.rest, &j.set, &j.page, &j.fmt) == -1 ||
	    (j.l != I18N_EN && j.fmt != FEED_HTML))
		return NULL;
	pg = j.set != NULL ? &j.set->pages : &s->pages;
	if (j.page < 1 || j.page > pg->npages)
		return NULL;
	sl = pg->slots[page_kind(j.fmt, j.l) * pg->npages + j.page - 1];
	return resolve_slot(&j, sl, render_archive);
}

/*
 * fn on the document at path, rendered now if need be, unless want (when
 * given a key) says it is not wanted; owner: its owner, for want.
 */
static int
each_one(const struct snap *s, const char *path, const unsigned char *key,
    const void *owner, feed_want_fn *want, feed_doc_fn *fn, void *arg,
    struct err *e)
{
	const struct snap_doc	*d;
	int			 rc;

	if (key != NULL && want != NULL &&
	    (rc = want(arg, path, key, owner, e)) != 1)
		return rc;
	if ((d = snap_doc_find(s, path)) == NULL)
		return err_set(e, "%s: cannot render", path);
	rc = fn(arg, d, e);
	snap_doc_done(d);
	return rc;
}

/* Every path of s's documents, by path (table and lazy merged). */
static int
each_current(const struct snap *s, feed_want_fn *want, feed_doc_fn *fn,
    void *arg, struct err *e)
{
	size_t	 i = 0, k = 0;

	while (i < s->ndocs || k < s->nlazy) {
		if (k == s->nlazy || (i < s->ndocs &&
		    strcmp(s->docs[i]->path, snap_lazy_path(s, k)) < 0)) {
			/*
			 * The table's, rendered with the snapshot: no key
			 * asked (find() inflates one kept as gzip)
			 */
			if (each_one(s, s->docs[i++]->path, NULL, NULL, want,
			    fn, arg, e) == -1)
				return -1;
			continue;
		}
		if (each_one(s, snap_lazy_path(s, k), snap_slot_key(s->lazy[k]),
		    NULL, want, fn, arg, e) == -1)
			return -1;
		k++;
	}
	return 0;
}

/*
 * What of s, besides the record, feed_record_key() and feed_linkset_key()
 * read: the feed conf's key, the OAI namespace, and the names of the sets
 * (all of them: a superset of any one record's).  Equal in two snapshots,
 * a record that is the same in both has the same keys in both.  Whatever
 * those keys come to cover of s must be hashed here too.
 */
static void
record_ctx(const struct feed_conf *fc, const struct snap *s,
    unsigned char out[HASH_LEN])
{
	struct hash_ctx	 h;
	size_t		 i;

	hash_init(&h);
	hash_update_str(&h, "record-ctx");
	hash_update(&h, fc->key, HASH_LEN);
	hash_update_str(&h, s->conf->oai_namespace);
	hash_update_i64(&h, (int64_t)s->nsets);
	for (i = 0; i < s->nsets; i++) {
		hash_update_str(&h, s->sets[i].spec);
		hash_update_str(&h, s->sets[i].name);
	}
	hash_final(&h, out);
}

/*
 * Which live records of s (by by_id index) are kept from prev (feed.h):
 * kept[i] set; drop() on every live record of prev that is not.  Both
 * by_id arrays are by id: one merge.
 */
static void
each_kept(const struct snap *s, const struct snap *prev,
    const struct feed_conf *fc, feed_drop_fn *drop, void *arg,
    unsigned char *kept)
{
	const struct snap_item	*a, *b;
	struct feed_conf	 pfc;
	unsigned char		 c[HASH_LEN], pc[HASH_LEN];
	size_t			 i = 0, j = 0;
	int			 same, cmp;

	feed_conf_init(&pfc, prev->conf);
	record_ctx(fc, s, c);
	record_ctx(&pfc, prev, pc);
	same = memcmp(c, pc, HASH_LEN) == 0;
	while (j < prev->nitems) {
		b = prev->by_id[j];
		if (i == s->nitems) {
			cmp = 1;
		} else {
			a = s->by_id[i];
			/* the same record has the same id: no strcmp */
			cmp = a->rec != NULL && a->rec == b->rec ? 0 :
			    strcmp(a->id, b->id);
		}
		if (cmp < 0) {
			i++;
			continue;
		}
		if (cmp == 0 && same && b->rec != NULL &&
		    s->by_id[i]->rec == b->rec &&
		    s->by_id[i]->datestamp == b->datestamp)
			kept[i] = 1;
		else if (b->rec != NULL)
			drop(arg, b->rec);
		if (cmp == 0)
			i++;
		j++;
	}
}

/* The archive pages of prev's feed of set (NULL: the collection's). */
static const struct snap_pages *
each_prev_pages(const struct snap *prev, const struct snap_set *set)
{
	const struct snap_set	*pset;

	if (prev == NULL)
		return NULL;
	if (set == NULL)
		return &prev->pages;
	return (pset = snap_set_find(prev, set->spec)) != NULL ?
	    &pset->pages : NULL;
}

/*
 * drop() on every archive page slot of prev that s does not have at the
 * same page of the same feed and kind.
 */
static void
each_dropped_pages(const struct snap *s, const struct snap *prev,
    feed_drop_fn *drop, void *arg)
{
	const struct snap_pages	*pg, *ppg;
	const struct snap_set	*set;
	size_t			 i, k, n;

	for (i = 0; i <= prev->nsets; i++) {
		ppg = i > 0 ? &prev->sets[i - 1].pages : &prev->pages;
		if (i == 0)
			pg = &s->pages;
		else
			pg = (set = snap_set_find(s, prev->sets[i - 1].spec)) !=
			    NULL ? &set->pages : NULL;
		for (k = 0; k < SNAP_PAGE_KINDS; k++)
			for (n = 1; n <= ppg->npages; n++)
				if (pg == NULL || n > pg->npages ||
				    pg->slots[k * pg->npages + n - 1] !=
				    ppg->slots[k * ppg->npages + n - 1])
					drop(arg, ppg->slots[k * ppg->npages +
					    n - 1]);
	}
}

/* prefix + FEED_RECORD_PREFIX + id + ext into b, reset first. */
static int
each_record_path(struct buf *b, const char *prefix, const char *id,
    const char *ext)
{
	buf_reset(b);
	return buf_addstr(b, prefix) == -1 ||
	    buf_addstr(b, FEED_RECORD_PREFIX) == -1 ||
	    buf_addstr(b, id) == -1 || buf_addstr(b, ext) == -1 ? -1 : 0;
}

int
feed_each_doc(const struct snap *s, const struct snap *prev,
    feed_want_fn *want, feed_drop_fn *drop, feed_doc_fn *fn, void *arg,
    struct err *e)
{
	const struct snap_pages	*pg, *ppg;
	const struct snap_slot	*sl;
	struct feed_build	 b;
	struct feed_page	 p;
	struct feed_job		 j;
	struct buf		 path, lpath;
	unsigned char		 key[HASH_LEN], *dig = NULL, *made = NULL;
	unsigned char		*kept = NULL;
	size_t			 i, k, n;
	int			 rc = -1, li;

	buf_init(&path, FEED_URL_MAX);
	buf_init(&lpath, FEED_URL_MAX);
	if (fb_init(&b, s, e) == -1 || each_current(s, want, fn, arg, e) == -1)
		goto out;
	memset(&j, 0, sizeof(j));
	j.s = s;
	if (prev != NULL)
		each_dropped_pages(s, prev, drop, arg);
	for (i = 0; i <= s->nsets; i++) {
		j.set = i > 0 ? &s->sets[i - 1] : NULL;
		pg = j.set != NULL ? &j.set->pages : &s->pages;
		ppg = each_prev_pages(prev, j.set);
		free(dig);
		free(made);
		made = NULL;
		if ((dig = calloc(pg->npages + 1, HASH_LEN)) == NULL ||
		    (made = calloc(pg->npages + 1, 1)) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
		for (k = 0; k < SNAP_PAGE_KINDS; k++) {
			j.fmt = kind_format(k, &j.l);
			for (n = 1; n <= pg->npages; n++) {
				sl = pg->slots[k * pg->npages + n - 1];
				/* the same slot: the same document */
				if (ppg != NULL && n <= ppg->npages &&
				    ppg->slots[k * ppg->npages + n - 1] == sl)
					continue;
				buf_reset(&lpath);
				if (build_path(&path, j.set != NULL ?
				    j.set->spec : NULL, n, fmt_ext[j.fmt]) ==
				    -1 || i18n_path(&lpath, j.l, path.data) ==
				    -1) {
					err_set(e, "feed path too long");
					goto out;
				}
				j.path = lpath.data;
				j.page = n;
				/* the page's kinds share its entries' digest */
				if (want != NULL && archive_page(&b, &j, &p,
				    dig + (n - 1) * HASH_LEN, !made[n - 1],
				    key) == -1)
					goto out;
				made[n - 1] = 1;
				if (each_one(s, lpath.data, key, sl, want, fn,
				    arg, e) == -1)
					goto out;
			}
		}
	}
	if ((kept = calloc(s->nitems + 1, 1)) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if (prev != NULL)
		each_kept(s, prev, &b.conf, drop, arg, kept);
	/* landing pages, by kind (language) then id, as export had them */
	for (li = 0; li < I18N_NLANGS; li++) {
		for (i = 0; i < s->nitems; i++) {
			const struct record *r = s->by_id[i]->rec;

			if (r == NULL || kept[i])
				continue;
			if (each_record_path(&path,
			    i18n_prefix((enum i18n_lang)li), s->by_id[i]->id,
			    ".html") == -1) {
				err_set(e, "%s: path too long",
				    s->by_id[i]->id);
				goto out;
			}
			feed_record_key(&b.conf, s, r, (enum i18n_lang)li, key);
			if (each_one(s, path.data, key, r, want, fn, arg,
			    e) == -1)
				goto out;
		}
	}
	/* then the link sets, by form then id */
	for (li = 0; li < 2; li++) {
		for (i = 0; i < s->nitems; i++) {
			const struct record *r = s->by_id[i]->rec;

			if (r == NULL || kept[i])
				continue;
			if (each_record_path(&path, "", s->by_id[i]->id, li ?
			    FEED_LINKSET_JSON_EXT : FEED_LINKSET_EXT) == -1) {
				err_set(e, "%s: path too long",
				    s->by_id[i]->id);
				goto out;
			}
			feed_linkset_key(&b.conf, s, r, li, key);
			if (each_one(s, path.data, key, r, want, fn, arg,
			    e) == -1)
				goto out;
		}
	}
	rc = 0;
out:
	fb_release(&b);
	buf_release(&path);
	buf_release(&lpath);
	free(dig);
	free(made);
	free(kept);
	return rc;
}
