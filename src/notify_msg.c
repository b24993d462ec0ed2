/*
 * notify_msg.c: the helpers every notify file may call — target kinds and
 * identity, percent-encoding, freeing a request.  It calls nothing of the
 * module (contracts in notify_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "notify_int.h"
#include "syntax.h"
#include "banned.h"

static const char *const kind_names[] = {
	[CONF_TARGET_WEBSUB] = "websub-hub",
	[CONF_TARGET_XMLRPC] = "xmlrpc-ping",
	[CONF_TARGET_PING_GET] = "ping-get",
	[CONF_TARGET_PING_POST] = "ping-post",
	[CONF_TARGET_COAR] = "coar-inbox",
};

const char *
notify_kind_name(enum conf_target_kind k)
{
	if ((size_t)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "unknown";
	return kind_names[k];
}

int
notify_kind_parse(const char *s, enum conf_target_kind *k)
{
	size_t	 i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum conf_target_kind)i;
			return 0;
		}
	return -1;
}

/* NULL and "" are the same: the text forms cannot tell them apart. */
static int
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

int
notify_target_eq(const struct conf_target *a, const struct conf_target *b)
{
	return a->kind == b->kind && str_eq(a->url, b->url) &&
	    str_eq(a->body, b->body);
}

int
notify_target_copy(struct conf_target *dst, const struct conf_target *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	if ((dst->url = strdup(src->url)) == NULL ||
	    (src->body != NULL && (dst->body = strdup(src->body)) == NULL)) {
		notify_target_release(dst);
		return -1;
	}
	return 0;
}

void
notify_target_release(struct conf_target *t)
{
	free(t->url);
	free(t->body);
	t->url = t->body = NULL;
}

int
notify_pct_encode(struct buf *b, const char *s)
{
	return syntax_pct_encode(b, s);
}

void
notify_msg_release(struct notify_msg *m)
{
	free(m->url);
	free(m->body);
	memset(m, 0, sizeof(*m));
}
