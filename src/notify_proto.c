/*
 * notify_proto.c: a request built, and its answer judged, by the target
 * kind's protocol file (notify_websub.c, notify_xmlrpc.c, notify_ping.c).
 * The notifier calls here; the protocol files call only notify_msg.c, so
 * calls go one way (contracts in notify_int.h).
 */
#include <string.h>

#include "notify_int.h"
#include "banned.h"

int
notify_build(const struct conf_target *t, const char *topic,
    const struct notify_site *s, int phase, struct notify_msg *m,
    struct err *e)
{
	memset(m, 0, sizeof(*m));
	switch (t->kind) {
	case CONF_TARGET_WEBSUB:
		return notify_websub_build(t, topic, m, e);
	case CONF_TARGET_XMLRPC:
		return notify_xmlrpc_build(t, topic, s, phase, m, e);
	case CONF_TARGET_PING_GET:
	case CONF_TARGET_PING_POST:
		return notify_ping_build(t, topic, s, m, e);
	case CONF_TARGET_COAR:
		if (s->rec == NULL)
			return err_set(e, "coar-inbox: no record for '%s'",
			    topic);
		return notify_coar_build(t, s, m, e);
	}
	return err_set(e, "unknown target kind %d", (int)t->kind);
}

enum notify_verdict
notify_judge(enum conf_target_kind k, int phase, long status,
    const char *body, size_t len, struct err *e)
{
	struct notify_xmlrpc_reply	 r;

	if (status < 200 || status > 299) {
		err_set(e, "HTTP %ld", status);
		return NOTIFY_FAIL;
	}
	if (k != CONF_TARGET_XMLRPC)
		return NOTIFY_OK;
	if (notify_xmlrpc_parse(body, len, &r, e) == -1)
		return NOTIFY_FAIL;
	if (!r.is_fault && !r.flerror)
		return NOTIFY_OK;
	err_set(e, "xml-rpc %s%s%s", r.is_fault ? "fault" : "flerror",
	    r.message[0] != '\0' ? ": " : "", r.message);
	return phase == 0 ? NOTIFY_FALLBACK : NOTIFY_FAIL;
}
