/*
 * notify_coar.c: COAR Notify (https://coar-notify.net), a W3C Linked Data
 * Notification POSTed to a service's inbox for each new or changed record.
 *
 * Which pattern: COAR Notify 1.0.1 has no "announce" pattern for a
 * repository's own new item — its Announce patterns announce a review, an
 * endorsement, a relationship or a service result *about* a resource, sent
 * by the service.  What a repository sends a service that should take its
 * new or updated item in is the request pattern built on the vocabulary
 * term coar-notify:IngestAction (published in 1.0.1's vocabulary; the
 * "Request Ingest" pattern of 0.9.0, which DSpace 8 sends aggregators and
 * archives): an Offer whose object is the item's landing page, with its
 * cite-as PID and its content file, in 1.0.1's object form.  The
 * activity id is a UUID derived from the record id and datestamp, so every
 * retry of one change carries the same id (a service can de-duplicate)
 * and a later change a new one.
 *
 * Pure: builds the request from the record; calls only notify_msg.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed.h"
#include "hash.h"
#include "notify_int.h"
#include "banned.h"

#define LDN_TYPE	"application/ld+json"
#define DOI_URL		"https://doi.org/"

/*
 * RFC 9562 UUIDv8 (custom) from SHA-256 of (id, datestamp): the version
 * and variant bits set, the other 122 bits the hash's.
 */
static void
coar_uuid(const char *id, int64_t datestamp, char out[46])
{
	struct hash_ctx	 h;
	unsigned char	 d[HASH_LEN];
	char		 hex[HASH_HEX_LEN];

	hash_init(&h);
	hash_update_str(&h, "pubfeed coar-notify offer");
	hash_update_str(&h, id);
	hash_update_i64(&h, datestamp);
	hash_final(&h, d);
	d[6] = (unsigned char)((d[6] & 0x0f) | 0x80);
	d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
	hash_hex(d, 16, hex);
	snprintf(out, 46, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
	    hex + 12, hex + 16, hex + 20);
}

/* Set key to a new string; 0 or -1 (no memory). */
static int
set_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, json_string(v));
}

static json_t *
pair(const char *a, const char *b)
{
	json_t	*v = json_array();

	if (v != NULL && (json_array_append_new(v, json_string(a)) == -1 ||
	    json_array_append_new(v, json_string(b)) == -1)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* {"id", "type": "Service"} with inbox and name when given. */
static json_t *
service(const char *id, const char *inbox, const char *name)
{
	json_t	*o = json_object();

	if (o == NULL || set_str(o, "id", id) == -1 ||
	    (inbox != NULL && set_str(o, "inbox", inbox) == -1) ||
	    (name != NULL && set_str(o, "name", name) == -1) ||
	    set_str(o, "type", "Service") == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The service's id when the target names none: its inbox's origin
 * ("https://host[:port]/"), the closest thing the URL says about it.
 */
static char *
origin_of(const char *url)
{
	const char	*p = strstr(url, "://");
	size_t		 n;
	char		*s;

	p = p != NULL ? p + 3 : url;
	n = (size_t)(p - url) + strcspn(p, "/?#");
	if ((s = malloc(n + 2)) == NULL)
		return NULL;
	memcpy(s, url, n);
	s[n] = '/';
	s[n + 1] = '\0';
	return s;
}

/* The item's landing page, cite-as PID and first full text. */
static json_t *
offered_object(const struct record *r, const char *landing)
{
	const struct record_link	*ft;
	json_t				*o, *item;
	char				 doi[1024];
	size_t				 i;

	if ((o = json_object()) == NULL || set_str(o, "id", landing) == -1 ||
	    json_object_set_new(o, "type", pair("Page", "sorg:AboutPage")) ==
	    -1)
		goto fail;
	for (i = 0; i < r->nidents; i++)
		if (r->idents[i].kind == RECORD_ID_DOI) {
			snprintf(doi, sizeof(doi), DOI_URL "%s",
			    r->idents[i].value);
			if (set_str(o, "ietf:cite-as", doi) == -1)
				goto fail;
			break;
		}
	if ((ft = record_link_find(r, RECORD_LINK_FULLTEXT)) != NULL) {
		char	 type[64];

		snprintf(type, sizeof(type), "sorg:%s",
		    feed_schema_type(r->type));
		if ((item = json_object()) == NULL ||
		    json_object_set_new(o, "ietf:item", item) == -1 ||
		    set_str(item, "id", ft->href) == -1 ||
		    set_str(item, "mediaType", ft->type) == -1 ||
		    json_object_set_new(item, "type", pair("Document", type)) ==
		    -1)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

int
notify_coar_build(const struct conf_target *t, const struct notify_site *s,
    struct notify_msg *m, struct err *e)
{
	const struct record_link	*own;
	const struct record		*r = s->rec;
	struct buf			 page;
	json_t				*o = NULL, *ctx;
	char				 id[46], *target_id = NULL;
	const char			*landing;
	char				*body = NULL;
	int				 rc = -1;

	buf_init(&page, NOTIFY_RESP_MAX);
	/* the canonical page: the record's own, else ours */
	if ((own = record_link_find(r, RECORD_LINK_LANDING)) != NULL)
		landing = own->href;
	else if (feed_page_url(&page, s->base_url, I18N_EN, r->id) == 0)
		landing = page.data;
	else
		goto nomem;
	if ((target_id = t->body != NULL && t->body[0] != '\0' ?
	    strdup(t->body) : origin_of(t->url)) == NULL)
		goto nomem;
	coar_uuid(r->id, s->datestamp, id);
	if ((o = json_object()) == NULL || (ctx = pair(
	    "https://www.w3.org/ns/activitystreams",
	    "https://coar-notify.net")) == NULL ||
	    json_object_set_new(o, "@context", ctx) == -1 ||
	    set_str(o, "id", id) == -1 ||
	    json_object_set_new(o, "type", pair("Offer",
	    "coar-notify:IngestAction")) == -1 ||
	    json_object_set_new(o, "actor", service(s->site, NULL,
	    s->name)) == -1 ||
	    json_object_set_new(o, "origin", service(s->site, NULL,
	    NULL)) == -1 ||
	    json_object_set_new(o, "target", service(target_id, t->url,
	    NULL)) == -1 ||
	    json_object_set_new(o, "object", offered_object(r, landing)) == -1)
		goto nomem;
	if ((body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (m->url = strdup(t->url)) == NULL)
		goto nomem;
	m->body = body;
	m->bodylen = strlen(body);
	m->content_type = LDN_TYPE;
	body = NULL;
	rc = 0;
	goto out;
nomem:
	err_set(e, "out of memory");
out:
	free(body);
	buf_release(&page);
	free(target_id);
	json_decref(o);
	return rc;
}
