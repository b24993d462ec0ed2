/*
 * feed_json.c: JSON Feed 1.1 (https://jsonfeed.org/version/1.1), the twin
 * of the Atom document of the same page, built as a jansson tree and
 * serialized once, so every string is escaped by the library.
 *
 * Mapping: the item id is the entry's tag: URI (as Atom's id); url is the
 * entry's link; content_text is the Atom summary (the title when there is
 * none: an item needs content); summary is the abstract alone;
 * date_published is issued and date_modified is Atom's updated, both from
 * the helpers the Atom renderer uses; tags are the sets' labels then the
 * subjects; full texts are attachments with their type and size.  Event
 * data goes in the "_event" extension object (section "Extensions").
 * E-mail addresses are never written: JSON Feed authors have no such field.
 * The language versions of a feed (feed.h) are listed in the "_languages"
 * extension array, each {"language", "feed_url"}.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "record.h"
#include "banned.h"

#define JSON_FEED_VERSION	"https://jsonfeed.org/version/1.1"

struct jf {
	const struct feed_conf	*conf;
	const struct feed_page	*page;	/* its entries' dates depend on it */
	struct buf		 tmp;
	struct buf		 clean;		/* feed_clean_text()'s */
	struct buf		 path;
	int			 failed;	/* out of memory somewhere */
};

const char *
feed_clean_text(struct buf *b, const char *s)
{
	const unsigned char	*p;

	if (s == NULL)
		return NULL;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			break;
	if (*p == '\0')
		return s;
	buf_reset(b);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r') &&
		    buf_addch(b, (char)*p) == -1)
			return NULL;
	if (buf_addstr(b, "") == -1)
		return NULL;
	return b->data != NULL ? b->data : "";
}

/* Set key to a copy of s; nothing when s is NULL. */
static void
jf_str(struct jf *j, json_t *o, const char *key, const char *s)
{
	if (s == NULL)
		return;
	if ((s = feed_clean_text(&j->clean, s)) == NULL ||
	    json_object_set_new(o, key, json_string(s)) == -1)
		j->failed = 1;
}

static void
jf_date(struct jf *j, json_t *o, const char *key, int64_t t)
{
	char	 d[DATE_ISO_LEN];

	date_fmt_iso(t, d);
	jf_str(j, o, key, d);
}

/* base_url + path under key; nothing when path is NULL. */
static void
jf_url(struct jf *j, json_t *o, const char *key, const char *path)
{
	if (path == NULL)
		return;
	if (feed_url(&j->tmp, j->conf, path) == -1) {
		j->failed = 1;
		return;
	}
	jf_str(j, o, key, j->tmp.data);
}

/* Append v (new reference) to a, or note the failure. */
static void
jf_push(struct jf *j, json_t *a, json_t *v)
{
	if (v == NULL || json_array_append_new(a, v) == -1)
		j->failed = 1;
}

/* Set key to v (new reference) when v is a non-empty array or an object. */
static void
jf_set(struct jf *j, json_t *o, const char *key, json_t *v)
{
	if (v == NULL) {
		j->failed = 1;
		return;
	}
	if (json_is_array(v) && json_array_size(v) == 0) {
		json_decref(v);
		return;
	}
	if (json_object_set_new(o, key, v) == -1)
		j->failed = 1;
}

static json_t *
jf_author(struct jf *j, const struct record_agent *ag)
{
	json_t	*a;

	if ((a = json_object()) == NULL)
		return NULL;
	jf_str(j, a, "name", ag->name);
	if (ag->orcid != NULL) {
		buf_reset(&j->tmp);
		if (buf_printf(&j->tmp, "https://orcid.org/%s",
		    ag->orcid) == 0)
			jf_str(j, a, "url", j->tmp.data);
	}
	return a;
}

static json_t *
jf_attachment(struct jf *j, const struct record_link *l)
{
	json_t	*a;

	if ((a = json_object()) == NULL)
		return NULL;
	jf_str(j, a, "url", l->href);
	jf_str(j, a, "mime_type", l->type);
	jf_str(j, a, "title", l->title);
	if (l->length >= 0 && json_object_set_new(a, "size_in_bytes",
	    json_integer((json_int_t)l->length)) == -1)
		j->failed = 1;
	return a;
}

static json_t *
jf_event(struct jf *j, const struct record_event *ev)
{
	static const char *const status[] = { "confirmed", "tentative",
	    "cancelled" };
	char	 d[DATE_ISO_LEN];
	json_t	*o;

	if ((o = json_object()) == NULL)
		return NULL;
	date_fmt(&ev->start, d);
	jf_str(j, o, "start", d);
	date_fmt(&ev->end, d);
	jf_str(j, o, "end", d);
	jf_str(j, o, "place", ev->place);
	jf_str(j, o, "country", ev->country);
	jf_str(j, o, "timezone", ev->timezone);
	jf_str(j, o, "status", status[ev->status]);
	return o;
}

static json_t *
jf_item(struct jf *j, const struct record *r)
{
	const struct record_text	*ab, *title = feed_entry_title(j->page,
					    r);
	const char			*lang, *label, *url;
	json_t				*it, *a;
	size_t				 i;

	if ((it = json_object()) == NULL)
		return NULL;
	buf_reset(&j->tmp);
	if (feed_tag_id(j->conf, "record", r->id, &j->tmp) == -1)
		j->failed = 1;
	else
		jf_str(j, it, "id", j->tmp.data);
	buf_reset(&j->tmp);
	if ((url = feed_entry_url(&j->tmp, j->conf, j->page, r)) == NULL)
		j->failed = 1;
	else
		jf_str(j, it, "url", url);
	jf_str(j, it, "title", title != NULL ? title->text : r->id);
	if (feed_summary(&j->tmp, r, j->page->lang, &lang) == -1)
		j->failed = 1;
	jf_str(j, it, "content_text", j->tmp.len > 0 ? j->tmp.data :
	    title != NULL ? title->text : r->id);
	ab = feed_text_in(r->abstracts, r->nabstracts, j->page->lang,
	    r->lang);
	if (ab != NULL)
		jf_str(j, it, "summary", ab->text);
	jf_date(j, it, "date_published", r->issued.t);
	jf_date(j, it, "date_modified", feed_entry_updated(j->page, r));
	if ((a = json_array()) != NULL)
		for (i = 0; i < r->ncreators; i++)
			jf_push(j, a, jf_author(j, &r->creators[i]));
	jf_set(j, it, "authors", a);
	if ((a = json_array()) != NULL) {
		for (i = 0; i < r->nsets; i++) {
			label = feed_set_label(j->conf, r->sets[i]);
			jf_push(j, a, json_string(feed_clean_text(&j->clean,
			    label != NULL ? label : r->sets[i])));
		}
		for (i = 0; i < r->nsubjects; i++)
			jf_push(j, a, json_string(r->subjects[i].text));
	}
	jf_set(j, it, "tags", a);
	/* a language version: the language of the title shown */
	jf_str(j, it, "language", j->page->lang != NULL && title != NULL &&
	    title->lang != NULL ? title->lang : r->lang);
	if ((a = json_array()) != NULL)
		for (i = 0; i < r->nlinks; i++)
			if (r->links[i].rel == RECORD_LINK_FULLTEXT)
				jf_push(j, a, jf_attachment(j, &r->links[i]));
	jf_set(j, it, "attachments", a);
	if (r->event != NULL)
		jf_set(j, it, "_event", jf_event(j, r->event));
	return it;
}

static json_t *
jf_feed(struct jf *j, const struct feed_page *p)
{
	const struct feed_conf	*c = j->conf;
	json_t			*f, *a, *o;
	size_t			 i;

	if ((f = json_object()) == NULL)
		return NULL;
	jf_str(j, f, "version", JSON_FEED_VERSION);
	jf_str(j, f, "title", p->title);
	jf_url(j, f, "home_page_url", "/");
	jf_url(j, f, "feed_url", p->self_path);
	jf_str(j, f, "description", p->subtitle);
	jf_str(j, f, "icon", c->feed_logo);
	jf_str(j, f, "favicon", c->feed_icon);
	if ((a = json_array()) != NULL && (o = json_object()) != NULL) {
		jf_str(j, o, "name", c->feed_author_name != NULL ?
		    c->feed_author_name : feed_conf_title(c));
		jf_str(j, o, "url", c->feed_author_uri);
		jf_push(j, a, o);
	}
	jf_set(j, f, "authors", a);
	jf_str(j, f, "language", feed_page_lang(c, p));
	/* the language versions: an extension, JSON Feed has no field */
	if ((a = json_array()) != NULL)
		for (i = 0; i < p->nlangs; i++) {
			if (p->lang != NULL && strcmp(p->langs[i],
			    p->lang) == 0)
				continue;
			if ((o = json_object()) == NULL ||
			    feed_lang_path(&j->path, p->langs[i], p->set_spec,
			    "json") == -1) {
				json_decref(o);
				j->failed = 1;
				break;
			}
			jf_str(j, o, "language", p->langs[i]);
			jf_url(j, o, "feed_url", j->path.data);
			jf_push(j, a, o);
		}
	jf_set(j, f, "_languages", a);
	if ((a = json_array()) != NULL)
		for (i = 0; i < c->ntargets; i++) {
			if (c->targets[i].kind != CONF_TARGET_WEBSUB)
				continue;
			if ((o = json_object()) == NULL) {
				j->failed = 1;
				break;
			}
			jf_str(j, o, "type", "WebSub");
			jf_str(j, o, "url", c->targets[i].url);
			jf_push(j, a, o);
		}
	jf_set(j, f, "hubs", a);
	/* items is required, even when empty */
	if ((a = json_array()) == NULL ||
	    json_object_set_new(f, "items", a) == -1)
		j->failed = 1;
	for (i = 0; a != NULL && i < p->nentries; i++)
		jf_push(j, a, jf_item(j, p->entries[i]));
	return f;
}

int
feed_render_json(const struct feed_conf *c, const struct feed_page *p,
    struct buf *out, struct err *e)
{
	struct jf	 j;
	json_t		*f;
	char		*s = NULL;
	int		 rc = -1;

	memset(&j, 0, sizeof(j));
	j.conf = c;
	j.page = p;
	buf_init(&j.tmp, FEED_URL_MAX);
	buf_init(&j.clean, FEED_URL_MAX);
	buf_init(&j.path, FEED_URL_MAX);
	f = jf_feed(&j, p);
	if (f == NULL || j.failed) {
		err_set(e, "%s: cannot build the JSON feed (out of memory?)",
		    p->self_path);
		goto out;
	}
	/* sorted keys: the same inputs always give the same bytes */
	if ((s = json_dumps(f, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL) {
		err_set(e, "%s: cannot serialize the JSON feed", p->self_path);
		goto out;
	}
	if (buf_addstr(out, s) == -1 || buf_addch(out, '\n') == -1) {
		err_set(e, "%s: cannot render the JSON feed (over %d MiB?)",
		    p->self_path, FEED_BUF_MAX >> 20);
		goto out;
	}
	rc = 0;
out:
	free(s);
	json_decref(f);
	buf_release(&j.tmp);
	buf_release(&j.clean);
	buf_release(&j.path);
	return rc;
}
