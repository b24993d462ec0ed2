/*
 * feed_util.c: the helpers every renderer shares (feed_int.h): titles,
 * URLs and tag: ids from the feed_conf, and what an entry says (its date,
 * link, summary, event).  Pure functions; they call no renderer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "buf.h"
#include "conf.h"
#include "date.h"
#include "feed.h"
#include "feed_int.h"
#include "record.h"
#include "snap.h"
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

const char *
feed_page_lang(const struct feed_conf *c, const struct feed_page *p)
{
	return p->lang != NULL ? p->lang : feed_conf_lang(c);
}

/* Language feeds */

int
feed_lang_norm(const char *tag, char out[FEED_LANG_LEN])
{
	static const char *const none[] = { "und", "mul", "zxx", "mis" };
	size_t	 n, i;

	out[0] = '\0';
	if (tag == NULL)
		return -1;
	n = strcspn(tag, "-");
	if (n < 2 || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		char ch = tag[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch < 'a' || ch > 'z') {
			out[0] = '\0';
			return -1;
		}
		out[i] = ch;
	}
	out[n] = '\0';
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (strcmp(out, none[i]) == 0) {
			out[0] = '\0';
			return -1;
		}
	if (strcmp(out, "no") == 0)
		memcpy(out, "nb", 3);
	return 0;
}

/*
 * A feed language as a slot of a dense table: two letters in [0, 676),
 * three in [676, 676 + 17576).  Counting by slot keeps feed_langs() linear
 * in the collection whatever its records hold.
 */
#define LANG_SLOTS	(26 * 26 + 26 * 26 * 26)

static size_t
lang_slot(const char *l)
{
	size_t	 a = (size_t)(l[0] - 'a'), b = (size_t)(l[1] - 'a');

	if (l[2] == '\0')
		return a * 26 + b;
	return 26 * 26 + (a * 26 + b) * 26 + (size_t)(l[2] - 'a');
}

static void
lang_unslot(size_t k, char out[FEED_LANG_LEN])
{
	if (k < 26 * 26) {
		out[0] = (char)('a' + k / 26);
		out[1] = (char)('a' + k % 26);
		out[2] = '\0';
		return;
	}
	k -= 26 * 26;
	out[0] = (char)('a' + k / 676);
	out[1] = (char)('a' + k / 26 % 26);
	out[2] = (char)('a' + k % 26);
	out[3] = '\0';
}

/* Count l once for record number stamp. */
static void
lang_count(uint32_t *count, uint32_t *seen, uint32_t stamp, const char *l)
{
	char	 t[FEED_LANG_LEN];
	size_t	 k;

	if (feed_lang_norm(l, t) == -1)
		return;
	k = lang_slot(t);
	if (seen[k] == stamp)
		return;
	seen[k] = stamp;
	count[k]++;
}

static int
lang_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
feed_langs(struct feed_langs *fl, const struct snap *s)
{
	uint32_t	*count, *seen;
	size_t		 i, k, best, n = 0;
	const struct record *r;

	memset(fl, 0, sizeof(*fl));
	if ((count = calloc(2 * LANG_SLOTS, sizeof(*count))) == NULL)
		return;
	seen = count + LANG_SLOTS;
	for (i = 0; i < s->nfeed; i++) {
		r = s->feed[i];
		lang_count(count, seen, (uint32_t)i + 1, r->lang);
		for (k = 0; k < r->ntitles; k++)
			lang_count(count, seen, (uint32_t)i + 1,
			    r->titles[k].lang);
		for (k = 0; k < r->nabstracts; k++)
			lang_count(count, seen, (uint32_t)i + 1,
			    r->abstracts[k].lang);
	}
	/* the most used first; a tie goes to the lower slot, the lower tag */
	while (n < FEED_LANGS_MAX) {
		best = LANG_SLOTS;
		for (k = 0; k < LANG_SLOTS; k++)
			if (count[k] > 0 && (best == LANG_SLOTS ||
			    count[k] > count[best]))
				best = k;
		if (best == LANG_SLOTS)
			break;
		count[best] = 0;
		lang_unslot(best, fl->tag[n]);
		fl->tags[n] = fl->tag[n];
		n++;
	}
	fl->n = n;
	free(count);
	qsort(fl->tags, fl->n, sizeof(fl->tags[0]), lang_cmp);
}

/* feed_lang_path(), appended to b. */
static int
lang_path_add(struct buf *b, const char *lang, const char *set_spec,
    const char *ext)
{
	if (set_spec == NULL)
		return buf_printf(b, "/lang/%s/feed.%s", lang, ext);
	return buf_printf(b, "/lang/%s/sets/%s.%s", lang, set_spec, ext);
}

int
feed_lang_path(struct buf *b, const char *lang, const char *set_spec,
    const char *ext)
{
	buf_reset(b);
	return lang_path_add(b, lang, set_spec, ext);
}

const struct record_text *
feed_text_in(const struct record_text *t, size_t n, const char *want,
    const char *own)
{
	char	 l[FEED_LANG_LEN];
	size_t	 i;

	for (i = 0; want != NULL && i < n; i++)
		if (feed_lang_norm(t[i].lang, l) == 0 && strcmp(l, want) == 0)
			return &t[i];
	return record_text_pick(t, n, own);
}

const struct record_text *
feed_entry_title(const struct feed_page *p, const struct record *r)
{
	return feed_text_in(r->titles, r->ntitles, p->lang, r->lang);
}

void
feed_write_lang_links(struct xw *w, struct buf *tmp,
    const struct feed_conf *c, const struct feed_page *p, const char *elem,
    const char *type, const char *ext)
{
	size_t	 i;

	for (i = 0; i < p->nlangs; i++) {
		if (p->lang != NULL && strcmp(p->langs[i], p->lang) == 0)
			continue;
		if (feed_url(tmp, c, "") == -1 ||
		    lang_path_add(tmp, p->langs[i], p->set_spec, ext) == -1)
			continue;
		xw_start(w, elem);
		xw_attr(w, "rel", "related");
		xw_attr(w, "type", type);
		xw_attr(w, "hreflang", p->langs[i]);
		xw_attr(w, "href", tmp->data);
		xw_end(w);
	}
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

/*
 * See feed_int.h.  A datestamp equal to the page's first_seen is the
 * moment pubfeed first saw the collection, not a change of the record, so
 * it says nothing a reader wants: issued does.
 */
int64_t
feed_entry_updated(const struct feed_page *p, const struct record *r)
{
	int64_t	 t;

	if (r->modified.t != 0)
		t = r->modified.t;
	else if (r->datestamp == 0 || r->datestamp == p->first_seen)
		t = r->issued.t;
	else
		t = r->datestamp;
	return t < r->issued.t ? r->issued.t : t;
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
		if ((u = feed_entry_updated(p, p->entries[i])) > t)
			t = u;
	return t;
}

int64_t
feed_page_changed(const struct feed_page *p)
{
	int64_t	 t = feed_page_updated(p);
	size_t	 i;

	if (p->lm_floor > t)
		t = p->lm_floor;
	for (i = 0; i < p->nentries; i++)
		if (p->entries[i]->datestamp > t)
			t = p->entries[i]->datestamp;
	return t;
}

const struct record_link *
feed_entry_link(const struct record *r)
{
	return record_link_find(r, RECORD_LINK_LANDING);
}

int
feed_page_url(struct buf *b, const char *base_url, enum i18n_lang l,
    const char *id)
{
	buf_reset(b);
	return buf_printf(b, "%s%s" FEED_RECORD_PREFIX "%s.html",
	    base_url != NULL ? base_url : "", i18n_prefix(l), id);
}

int
feed_record_url(struct buf *b, const struct feed_conf *c, enum i18n_lang l,
    const struct record *r)
{
	return feed_page_url(b, c->base_url, l, r->id);
}

/*
 * The page language of a feed language version: the HTML pages link
 * their landing pages in their own language, so a /lang/bg/ entry links
 * /bg/records/ID.html; a feed in no page language (the whole collection,
 * every entry in its record's own language, or /lang/de/) links the
 * x-default, English page.
 */
static enum i18n_lang
entry_page_lang(const struct feed_page *p)
{
	int	 l;

	for (l = 0; p != NULL && p->lang != NULL && l < I18N_NLANGS; l++)
		if (strcmp(p->lang, i18n_tag((enum i18n_lang)l)) == 0)
			return (enum i18n_lang)l;
	return I18N_EN;
}

const char *
feed_entry_url(struct buf *b, const struct feed_conf *c,
    const struct feed_page *p, const struct record *r)
{
	const struct record_link	*own = feed_entry_link(r);

	if (own != NULL)
		return own->href;
	if (feed_record_url(b, c, entry_page_lang(p), r) == -1)
		return NULL;
	return b->data;
}

/*
 * The wall clock of d in the event's zone (record.c checked it exists; NULL
 * or a zone libical cannot convert: UTC): "YYYY-MM-DD" into day, "hh:mm"
 * into hm ("" for a day-only date, whose day is its own).
 */
static void
feed_event_local(const struct date *d, const char *zone, char day[DATE_DAY_LEN],
    char hm[6])
{
	icaltimezone		*z = NULL;
	struct icaltimetype	 tt;
	char			 iso[DATE_ISO_LEN];

	hm[0] = '\0';
	if (d->gran != DATE_SECOND) {
		date_fmt_coarse(d, day);
		return;
	}
	if (zone != NULL)
		z = icaltimezone_get_builtin_timezone(zone);
	if (z == NULL)
		z = icaltimezone_get_utc_timezone();
	tt = icaltime_from_timet_with_zone((time_t)d->t, 0, z);
	/* the wall clock as if it were UTC, to format it the one way */
	date_fmt_iso(date_from_civil(tt.year, tt.month, tt.day, tt.hour,
	    tt.minute, tt.second), iso);
	memcpy(day, iso, DATE_DAY_LEN - 1);
	day[DATE_DAY_LEN - 1] = '\0';
	memcpy(hm, iso + 11, 5);
	hm[5] = '\0';
}

/*
 * When the event is, appended to b: "2019-05-14 – 2019-05-16",
 * "2026-12-09 13:00–14:30 UTC", "2027-06-10 09:00–11:30
 * Europe/Oslo" (the wall clock of the event's zone, named, as its
 * calendar entry has it).
 */
static int
event_when_add(struct buf *b, const struct record_event *ev)
{
	char	 d1[DATE_DAY_LEN], d2[DATE_DAY_LEN], t1[6], t2[6];
	int	 timed = ev->start.gran == DATE_SECOND ||
		    ev->end.gran == DATE_SECOND;

	feed_event_local(&ev->start, ev->timezone, d1, t1);
	feed_event_local(&ev->end, ev->timezone, d2, t2);
	if (buf_addstr(b, d1) == -1 ||
	    (t1[0] != '\0' && buf_printf(b, " %s", t1) == -1))
		return -1;
	if (strcmp(d1, d2) != 0) {
		if (buf_printf(b, " \xe2\x80\x93 %s", d2) == -1 ||
		    (t2[0] != '\0' && buf_printf(b, " %s", t2) == -1))
			return -1;
	} else if (ev->end.t > ev->start.t && t2[0] != '\0' &&
	    buf_printf(b, "\xe2\x80\x93%s", t2) == -1)
		return -1;
	if (timed && buf_printf(b, " %s", ev->timezone != NULL ?
	    ev->timezone : "UTC") == -1)
		return -1;
	return 0;
}

int
feed_event_when(struct buf *b, const struct record_event *ev)
{
	buf_reset(b);
	return event_when_add(b, ev);
}

/* The summary's first sentence: when the event is, then the place. */
static int
feed_event_prefix(struct buf *b, const struct record_event *ev)
{
	if (event_when_add(b, ev) == -1)
		return -1;
	if (ev->place != NULL && buf_printf(b, ", %s", ev->place) == -1)
		return -1;
	if (ev->country != NULL && buf_printf(b, " (%s)", ev->country) == -1)
		return -1;
	return buf_addch(b, '.');
}

int
feed_summary(struct buf *b, const struct record *r, const char *want,
    const char **lang)
{
	const struct record_text	*ab;

	buf_reset(b);
	*lang = NULL;
	if (r->event != NULL && feed_event_prefix(b, r->event) == -1)
		return -1;
	ab = feed_text_in(r->abstracts, r->nabstracts, want, r->lang);
	if (ab == NULL || ab->text == NULL)
		return 0;
	*lang = ab->lang;
	if (b->len > 0 && buf_addch(b, ' ') == -1)
		return -1;
	return buf_addstr(b, ab->text);
}

const char *
feed_agent_email(const struct feed_conf *c, const struct record_agent *ag)
{
	return c->publish_emails ? ag->email : NULL;
}

int
feed_set_scheme(struct buf *b, const struct feed_conf *c)
{
	if (feed_url(b, c, c->oai_path != NULL ? c->oai_path : "/oai") == -1)
		return -1;
	return buf_addstr(b, "?verb=ListSets");
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

/*
 * The RSS 1.0 event module (web.resource.org/rss/1.0/modules/event/):
 * W3CDTF dates, the place as text, one organizer per creator.  The record
 * has no kind of event, so there is no ev:type.
 */
void
feed_write_event(struct xw *w, struct buf *tmp, const struct record *r)
{
	const struct record_event	*ev = r->event;
	char				 d[DATE_ISO_LEN];
	size_t				 i;

	if (ev == NULL)
		return;
	date_fmt(&ev->start, d);
	xw_elem(w, "ev:startdate", d);
	date_fmt(&ev->end, d);
	xw_elem(w, "ev:enddate", d);
	buf_reset(tmp);
	if (ev->place != NULL && buf_addstr(tmp, ev->place) == 0 &&
	    (ev->country == NULL || buf_printf(tmp, " (%s)", ev->country) == 0))
		xw_elem(w, "ev:location", tmp->data);
	else if (ev->place == NULL && ev->country != NULL)
		xw_elem(w, "ev:location", ev->country);
	for (i = 0; i < r->ncreators; i++)
		xw_elem(w, "ev:organizer", r->creators[i].name);
}
