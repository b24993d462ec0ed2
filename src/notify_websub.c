/*
 * notify_websub.c: W3C WebSub has no standard publish request; the de facto
 * one (PubSubHubbub 0.4, what Google's, Superfeedr's and WebSub.Rocks' hubs
 * take) is a form POST of hub.mode=publish with the topic URL.  We send it
 * as both hub.url (0.4) and hub.topic (newer hubs); any 2xx acknowledges.
 */
#include <stdlib.h>
#include <string.h>

#include "notify_int.h"
#include "banned.h"

#define WEBSUB_FORM	"application/x-www-form-urlencoded"

int
notify_websub_build(const struct conf_target *t, const char *topic,
    struct notify_msg *m, struct err *e)
{
	struct buf	 b;

	buf_init(&b, NOTIFY_RESP_MAX);
	if (buf_addstr(&b, "hub.mode=publish&hub.url=") == -1 ||
	    notify_pct_encode(&b, topic) == -1 ||
	    buf_addstr(&b, "&hub.topic=") == -1 ||
	    notify_pct_encode(&b, topic) == -1) {
		buf_release(&b);
		return err_set(e, "websub: topic too long: '%s'", topic);
	}
	if ((m->url = strdup(t->url)) == NULL) {
		buf_release(&b);
		return err_set(e, "out of memory");
	}
	m->body = buf_detach(&b, &m->bodylen);
	m->content_type = WEBSUB_FORM;
	return m->body != NULL ? 0 : err_set(e, "out of memory");
}
