/*
 * feed_ics.c: iCalendar (RFC 5545) of the event entries of a page, built
 * with libical: a VCALENDAR with one VTIMEZONE per zone the events use and
 * one VEVENT per event record.
 *
 * The calendar must be a pure function of the records (a reused document
 * and a fresh rendering agree), so nothing here reads the clock:
 *   UID            the entry's tag: URI, the id the feeds give it
 *   DTSTAMP,       the record's datestamp (when its content last changed);
 *   LAST-MODIFIED  RFC 5545 3.8.7.2 allows DTSTAMP to be the time the
 *                  information was last revised when METHOD is absent
 *   SEQUENCE       seconds from 2000-01-01T00:00:00Z to the datestamp: the
 *                  datestamp only moves forward when the content changes
 *                  (the store keeps it across restarts), so the number
 *                  grows with every change without keeping a counter;
 *                  it fits a signed 32-bit integer until 2068
 *   DTSTART/DTEND  in the event's own zone (TZID=Europe/Oslo and that
 *                  zone's VTIMEZONE, renamed from libical's prefixed TZID
 *                  to the IANA name clients know), else in UTC; day-only
 *                  events are DATE values with an exclusive end
 *   STATUS         CONFIRMED, TENTATIVE or CANCELLED from the record
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "record.h"
#include "banned.h"

#ifndef PUBFEED_VERSION
#define PUBFEED_VERSION "unknown"
#endif

#define ICS_SEQ_EPOCH	INT64_C(946684800)	/* 2000-01-01T00:00:00Z */

struct ics {
	const struct feed_conf	*conf;
	struct buf		 tmp;
	struct buf		 clean;		/* feed_clean_text()'s */
	int			 failed;
};

/* The zone of an event, or NULL for UTC (no zone, or a zone of offset 0
 * without rules, which libical gives no VTIMEZONE for). */
static icaltimezone *
ics_zone(const struct record_event *ev)
{
	icaltimezone	*z;

	if (ev->timezone == NULL ||
	    (z = icaltimezone_get_builtin_timezone(ev->timezone)) == NULL ||
	    z == icaltimezone_get_utc_timezone() ||
	    icaltimezone_get_component(z) == NULL)
		return NULL;
	return z;
}

static struct icaltimetype
ics_utc(int64_t t)
{
	return icaltime_from_timet_with_zone((time_t)t, 0,
	    icaltimezone_get_utc_timezone());
}

/*
 * Add DTSTART or DTEND: tt is a UTC time (or a date); with a zone it is
 * shown as the zone's wall-clock time with a TZID parameter.
 */
static void
ics_add_time(struct ics *c, icalcomponent *ve, icalproperty_kind kind,
    struct icaltimetype tt, icaltimezone *z, const char *tzname)
{
	icalproperty	*p;

	if (!tt.is_date && z != NULL) {
		icaltimezone_convert_time(&tt, icaltimezone_get_utc_timezone(),
		    z);
		tt.zone = NULL;
	}
	p = kind == ICAL_DTSTART_PROPERTY ? icalproperty_new_dtstart(tt) :
	    icalproperty_new_dtend(tt);
	if (p == NULL) {
		c->failed = 1;
		return;
	}
	if (tt.is_date)
		icalproperty_add_parameter(p,
		    icalparameter_new_value(ICAL_VALUE_DATE));
	else if (z != NULL)
		icalproperty_add_parameter(p, icalparameter_new_tzid(tzname));
	icalcomponent_add_property(ve, p);
}

static void
ics_times(struct ics *c, icalcomponent *ve, const struct record_event *ev)
{
	icaltimezone		*z = ics_zone(ev);
	struct icaltimetype	 s, e;
	int64_t			 end;

	if (ev->start.gran != DATE_SECOND) {
		/* a day-only event: whole days, the end exclusive */
		s = icaltime_from_timet_with_zone((time_t)ev->start.t, 1,
		    NULL);
		e = icaltime_from_timet_with_zone(ev->end.gran != DATE_SECOND ?
		    (time_t)date_end(&ev->end) : (time_t)(ev->end.t -
		    (ev->end.t % 86400 + 86400) % 86400 + 86400), 1, NULL);
		ics_add_time(c, ve, ICAL_DTSTART_PROPERTY, s, NULL, NULL);
		ics_add_time(c, ve, ICAL_DTEND_PROPERTY, e, NULL, NULL);
		return;
	}
	ics_add_time(c, ve, ICAL_DTSTART_PROPERTY, ics_utc(ev->start.t), z,
	    ev->timezone);
	if (ev->end.gran != DATE_SECOND) {
		/* a timed start and a day-only end: until that day's end */
		e = icaltime_from_timet_with_zone((time_t)date_end(&ev->end),
		    1, NULL);
		e.is_date = 0;
		e.hour = e.minute = e.second = 0;
		if (z != NULL) {
			icalproperty *p = icalproperty_new_dtend(e);

			if (p == NULL) {
				c->failed = 1;
				return;
			}
			icalproperty_add_parameter(p,
			    icalparameter_new_tzid(ev->timezone));
			icalcomponent_add_property(ve, p);
			return;
		}
		end = date_end(&ev->end);
		ics_add_time(c, ve, ICAL_DTEND_PROPERTY, ics_utc(end), NULL,
		    NULL);
		return;
	}
	if (ev->end.t > ev->start.t)
		ics_add_time(c, ve, ICAL_DTEND_PROPERTY, ics_utc(ev->end.t), z,
		    ev->timezone);
}

static void
ics_add(struct ics *c, icalcomponent *comp, icalproperty *p)
{
	if (p == NULL) {
		c->failed = 1;
		return;
	}
	icalcomponent_add_property(comp, p);
}

static void
ics_event(struct ics *c, icalcomponent *cal, const struct record *r)
{
	static const enum icalproperty_status st[] = { ICAL_STATUS_CONFIRMED,
	    ICAL_STATUS_TENTATIVE, ICAL_STATUS_CANCELLED };
	const struct record_event	*ev = r->event;
	const char			*lang, *label, *url;
	icalcomponent			*ve;
	int64_t				 seq;
	size_t				 i;

	if ((ve = icalcomponent_new(ICAL_VEVENT_COMPONENT)) == NULL) {
		c->failed = 1;
		return;
	}
	buf_reset(&c->tmp);
	if (feed_tag_id(c->conf, "record", r->id, &c->tmp) == -1)
		c->failed = 1;
	else
		ics_add(c, ve, icalproperty_new_uid(c->tmp.data));
	ics_add(c, ve, icalproperty_new_dtstamp(ics_utc(r->datestamp)));
	ics_add(c, ve, icalproperty_new_lastmodified(ics_utc(r->datestamp)));
	seq = r->datestamp - ICS_SEQ_EPOCH;
	seq = seq < 0 ? 0 : seq > INT_MAX ? INT_MAX : seq;
	ics_add(c, ve, icalproperty_new_sequence((int)seq));
	ics_times(c, ve, ev);
	ics_add(c, ve, icalproperty_new_summary(r->ntitles > 0 ?
	    r->titles[0].text : r->id));
	buf_reset(&c->tmp);
	if (ev->place != NULL && buf_addstr(&c->tmp, ev->place) == -1)
		c->failed = 1;
	if (ev->country != NULL && buf_printf(&c->tmp, "%s%s",
	    c->tmp.len > 0 ? ", " : "", ev->country) == -1)
		c->failed = 1;
	if (c->tmp.len > 0)
		ics_add(c, ve, icalproperty_new_location(c->tmp.data));
	if ((url = feed_entry_url(&c->tmp, c->conf, NULL, r)) == NULL)
		c->failed = 1;
	else
		ics_add(c, ve, icalproperty_new_url(url));
	if (feed_summary(&c->tmp, r, NULL, &lang) == -1)
		c->failed = 1;
	else if (c->tmp.len > 0)
		ics_add(c, ve, icalproperty_new_description(c->tmp.data));
	for (i = 0; i < r->nsets; i++) {
		label = feed_set_label(c->conf, r->sets[i]);
		ics_add(c, ve, icalproperty_new_categories(feed_clean_text(
		    &c->clean, label != NULL ? label : r->sets[i])));
	}
	ics_add(c, ve, icalproperty_new_status(st[ev->status]));
	icalcomponent_add_component(cal, ve);
}

/*
 * The VTIMEZONE of the zone named name, as TZID name, cut to start at the
 * earliest event in it (start, UTC) so a calendar does not carry a
 * century of transitions.
 */
static void
ics_vtimezone(struct ics *c, icalcomponent *cal, const char *name,
    int64_t start)
{
	icaltimezone	*z = icaltimezone_get_builtin_timezone(name);
	icalcomponent	*vtz;
	icalproperty	*p;

	if ((vtz = icalcomponent_new_clone(icaltimezone_get_component(z))) ==
	    NULL) {
		c->failed = 1;
		return;
	}
	if ((p = icalcomponent_get_first_property(vtz,
	    ICAL_TZID_PROPERTY)) != NULL)
		icalproperty_set_tzid(p, name);
	icaltimezone_truncate_vtimezone(vtz, ics_utc(start - 366 * 86400),
	    icaltime_null_time(), 0);
	icalcomponent_add_component(cal, vtz);
}

/* One VTIMEZONE per distinct zone of the events of p. */
static void
ics_vtimezones(struct ics *c, icalcomponent *cal, const struct feed_page *p)
{
	const struct record_event	*ev, *ej;
	size_t				 i, k;
	int64_t				 first;

	for (i = 0; i < p->nentries; i++) {
		if ((ev = p->entries[i]->event) == NULL || ics_zone(ev) == NULL)
			continue;
		/* only at the first event in this zone */
		for (k = 0; k < i; k++)
			if ((ej = p->entries[k]->event) != NULL &&
			    ej->timezone != NULL &&
			    strcmp(ej->timezone, ev->timezone) == 0)
				break;
		if (k < i)
			continue;
		first = ev->start.t;
		for (k = i + 1; k < p->nentries; k++)
			if ((ej = p->entries[k]->event) != NULL &&
			    ej->timezone != NULL &&
			    strcmp(ej->timezone, ev->timezone) == 0 &&
			    ej->start.t < first)
				first = ej->start.t;
		ics_vtimezone(c, cal, ev->timezone, first);
	}
}

int
feed_render_ics(const struct feed_conf *fc, const struct feed_page *p,
    struct buf *out, struct err *e)
{
	struct ics	 c;
	icalcomponent	*cal;
	icalproperty	*x;
	char		*s = NULL;
	size_t		 i;
	int		 rc = -1;

	memset(&c, 0, sizeof(c));
	c.conf = fc;
	buf_init(&c.tmp, FEED_URL_MAX);
	buf_init(&c.clean, FEED_URL_MAX);
	if ((cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT)) == NULL) {
		err_set(e, "%s: cannot start the calendar", p->self_path);
		goto out;
	}
	ics_add(&c, cal, icalproperty_new_version("2.0"));
	ics_add(&c, cal, icalproperty_new_prodid("-//pubfeed//pubfeed "
	    PUBFEED_VERSION "//EN"));
	ics_add(&c, cal, icalproperty_new_calscale("GREGORIAN"));
	/* the name calendar applications show for a subscription */
	if ((x = icalproperty_new_x(feed_clean_text(&c.clean, p->title))) !=
	    NULL) {
		icalproperty_set_x_name(x, "X-WR-CALNAME");
		icalcomponent_add_property(cal, x);
	} else
		c.failed = 1;
	if (p->subtitle != NULL) {
		if ((x = icalproperty_new_x(feed_clean_text(&c.clean,
		    p->subtitle))) != NULL) {
			icalproperty_set_x_name(x, "X-WR-CALDESC");
			icalcomponent_add_property(cal, x);
		} else
			c.failed = 1;
	}
	ics_vtimezones(&c, cal, p);
	for (i = 0; i < p->nentries; i++)
		if (p->entries[i]->event != NULL)
			ics_event(&c, cal, p->entries[i]);
	if (c.failed || (s = icalcomponent_as_ical_string_r(cal)) == NULL) {
		err_set(e, "%s: cannot build the calendar (out of memory?)",
		    p->self_path);
		goto out;
	}
	if (buf_addstr(out, s) == -1) {
		err_set(e, "%s: cannot render the calendar (over %d MiB?)",
		    p->self_path, FEED_BUF_MAX >> 20);
		goto out;
	}
	rc = 0;
out:
	free(s);
	if (cal != NULL)
		icalcomponent_free(cal);
	buf_release(&c.tmp);
	buf_release(&c.clean);
	return rc;
}
