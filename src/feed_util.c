/*
 * feed_util.c: the helpers every renderer shares (feed_int.h): titles,
 * URLs and tag: ids from the feed_conf, and what an entry says (its date,
 * link, summary, event).  Pure functions; they call no renderer.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "date.h"
#include "feed.h"
#include "feed_int.h"
#include "record.h"
#include "xw.h"
#include "banned.h"

const char *
feed_conf_title(const struct feed_conf *c)
{
	if (c->feed_title != NULL && c->feed_title[0] != '\0')
		return c->feed_title;
	return c->repository_name != NULL ? c->repository_name : "pubfeed";
}

const char *
feed_conf_lang(const struct feed_conf *c)
{
	if (c->feed_lang != NULL && c->feed_lang[0] != '\0')
		return c->feed_lang;
	return "en";
}

int
feed_url(struct buf *b, const struct feed_conf *c, const char *path)
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
feed_tag_authority(const struct feed_conf *c, struct buf *out)
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
feed_tag_id(const struct feed_conf *c, const char *what, const char *id,
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
feed_id(struct buf *b, const struct feed_conf *c, const char *set_spec)
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
	return record_link_find(r, RECORD_LINK_LANDING);
}

int
feed_record_url(struct buf *b, const struct feed_conf *c,
    const struct record *r)
{
	buf_reset(b);
	return buf_printf(b, "%s" FEED_RECORD_PREFIX "%s.html", c->base_url,
	    r->id);
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
feed_set_label(const struct feed_conf *c, const char *spec)
{
	size_t	 i;

	for (i = 0; i < c->nsets; i++)
		if (c->sets[i].spec != NULL &&
		    strcmp(c->sets[i].spec, spec) == 0)
			return c->sets[i].name;
	return NULL;
}

void
feed_write_link(struct xw *w, struct buf *tmp, const struct feed_conf *c,
    const char *elem, const char *rel, const char *type, const char *path)
{
	if (path == NULL || feed_url(tmp, c, path) == -1)
		return;
	xw_start(w, elem);
	xw_attr(w, "rel", rel);
	xw_attr(w, "type", type);
	xw_attr(w, "href", tmp->data);
	xw_end(w);
}

void
feed_write_hubs(struct xw *w, const struct feed_conf *c, const char *elem)
{
	size_t	 i;

	for (i = 0; i < c->ntargets; i++) {
		if (c->targets[i].kind != CONF_TARGET_WEBSUB)
			continue;
		xw_start(w, elem);
		xw_attr(w, "rel", "hub");
		xw_attr(w, "href", c->targets[i].url);
		xw_end(w);
	}
}

int
feed_page_has_event(const struct feed_page *p)
{
	size_t	 i;

	for (i = 0; i < p->nentries; i++)
		if (p->entries[i]->event != NULL)
			return 1;
	return 0;
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
