/*
 * notify_ping.c: plain pings, "ping-get URL" and "ping-post URL BODY", for
 * services with their own little API.  {feed}, {site} and {name} in the URL
 * are percent-encoded; in a POST body they are escaped for what the body
 * looks like: XML when it starts with '<', JSON with '{' or '[', a form
 * otherwise, and the Content-Type says the same.
 */
#include <stdlib.h>
#include <string.h>

#include "notify_int.h"
#include "banned.h"

static int
esc_xml(struct buf *b, const char *s)
{
	int	 rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		switch (*s) {
		case '&':
			rc = buf_addstr(b, "&amp;");
			break;
		case '<':
			rc = buf_addstr(b, "&lt;");
			break;
		case '>':
			rc = buf_addstr(b, "&gt;");
			break;
		case '"':
			rc = buf_addstr(b, "&quot;");
			break;
		case '\'':
			rc = buf_addstr(b, "&apos;");
			break;
		default:
			rc = buf_addch(b, *s);
		}
	}
	return rc;
}

static int
esc_json(struct buf *b, const char *s)
{
	int	 rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '"' || *s == '\\')
			rc = buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			rc = buf_printf(b, "\\u%04x", (unsigned char)*s);
		else
			rc = buf_addch(b, *s);
	}
	return rc;
}

int
notify_expand(struct buf *b, const char *tmpl, enum notify_esc esc,
    const char *topic, const struct notify_site *s)
{
	static const char *const names[] = { "{feed}", "{site}", "{name}" };
	const char	*vals[3] = { topic, s->site, s->name };
	const char	*p;
	size_t		 i, n;
	int		 rc;

	buf_reset(b);
	for (p = tmpl; *p != '\0'; ) {
		for (i = 0; i < 3; i++)
			if (strncmp(p, names[i], strlen(names[i])) == 0)
				break;
		if (i == 3) {
			n = strcspn(p + 1, "{") + 1;
			if (buf_add(b, p, n) == -1)
				return -1;
			p += n;
			continue;
		}
		if (esc == NOTIFY_ESC_XML)
			rc = esc_xml(b, vals[i] ? vals[i] : "");
		else if (esc == NOTIFY_ESC_JSON)
			rc = esc_json(b, vals[i] ? vals[i] : "");
		else
			rc = notify_pct_encode(b, vals[i] ? vals[i] : "");
		if (rc == -1)
			return -1;
		p += strlen(names[i]);
	}
	return buf_addstr(b, "");	/* NUL-terminate even when empty */
}

int
notify_ping_build(const struct conf_target *t, const char *topic,
    const struct notify_site *s, struct notify_msg *m, struct err *e)
{
	struct buf		 b;
	enum notify_esc		 esc = NOTIFY_ESC_PCT;
	const char		*p;
	int			 rc = -1;

	buf_init(&b, NOTIFY_RESP_MAX);
	if (notify_expand(&b, t->url, NOTIFY_ESC_PCT, topic, s) == -1 ||
	    (m->url = buf_detach(&b, NULL)) == NULL) {
		err_set(e, "ping: URL too long: '%s'", t->url);
		goto out;
	}
	if (t->kind == CONF_TARGET_PING_POST) {
		p = t->body != NULL ? t->body : "";
		p += strspn(p, " \t\r\n");
		m->content_type = "application/x-www-form-urlencoded";
		if (*p == '<') {
			esc = NOTIFY_ESC_XML;
			m->content_type = "text/xml";
		} else if (*p == '{' || *p == '[') {
			esc = NOTIFY_ESC_JSON;
			m->content_type = "application/json";
		}
		if (notify_expand(&b, t->body != NULL ? t->body : "", esc,
		    topic, s) == -1 ||
		    (m->body = buf_detach(&b, &m->bodylen)) == NULL) {
			err_set(e, "ping: body too long");
			goto out;
		}
	}
	rc = 0;
out:
	buf_release(&b);
	return rc;
}
