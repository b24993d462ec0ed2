/*
 * oai_util.c: what every file of the oai module shares (oai_int.h): the
 * registry of metadata formats, oai identifiers, and the configuration
 * the module reads with its key.  Calls no verb and no format writer.
 */
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "feed.h"	/* feed_page_url(): where the landing pages are */
#include "hash.h"
#include "oai.h"
#include "oai_int.h"
#include "snap.h"
#include "banned.h"

const struct oai_format *const oai_formats[] = {
	&oai_format_dc, &oai_format_marc, &oai_format_datacite,
	&oai_format_openaire, NULL
};

const struct oai_format *
oai_format_find(const char *prefix)
{
	size_t	 i;

	for (i = 0; prefix != NULL && oai_formats[i] != NULL; i++)
		if (strcmp(oai_formats[i]->prefix, prefix) == 0)
			return oai_formats[i];
	return NULL;
}

int
oai_format_offers(const struct oai_format *f, const struct record *r)
{
	return r == NULL || f->accepts == NULL || f->accepts(r);
}

const char *
oai_prefix(size_t i)
{
	size_t	 n;

	for (n = 0; n < i && oai_formats[n] != NULL; n++)
		;
	return oai_formats[n] != NULL ? oai_formats[n]->prefix : NULL;
}

const char *
oai_prefix_ns(size_t i)
{
	return oai_prefix(i) != NULL ? oai_formats[i]->ns : NULL;
}

int
oai_offered(size_t i, const struct record *r)
{
	return oai_prefix(i) != NULL && oai_format_offers(oai_formats[i], r);
}

/*
 * The key's serialization: each field of OAI_CONF_STRINGS and OAI_CONF_INTS
 * in list order, then the admin e-mails as their count and each one.
 */
void
oai_conf_init(struct oai_conf *oc, const struct conf *c)
{
	struct hash_ctx	 h;
	size_t		 i;

	memset(oc, 0, sizeof(*oc));
	hash_init(&h);
#define OAI_CONF_COPY_STRING(f)	oc->f = c->f; hash_update_str(&h, oc->f);
#define OAI_CONF_COPY_INT(f)	oc->f = c->f; hash_update_i64(&h, oc->f);
	OAI_CONF_STRINGS(OAI_CONF_COPY_STRING)
	OAI_CONF_INTS(OAI_CONF_COPY_INT)
#undef OAI_CONF_COPY_STRING
#undef OAI_CONF_COPY_INT
	oc->admin_emails = c->admin_emails;
	oc->nadmin_emails = c->nadmin_emails;
	hash_update_i64(&h, (int64_t)oc->nadmin_emails);
	for (i = 0; i < oc->nadmin_emails; i++)
		hash_update_str(&h, oc->admin_emails[i]);
	hash_final(&h, oc->key);
}

int
oai_identifier(const struct oai_conf *oc, const char *id, struct buf *out)
{
	return buf_printf(out, "oai:%s:%s", oc->oai_namespace, id);
}

const char *
oai_local_id(const struct oai_conf *oc, const char *identifier)
{
	const char	*ns = oc->oai_namespace;
	size_t		 n = strlen(ns);

	if (strncmp(identifier, "oai:", 4) != 0 ||
	    strncmp(identifier + 4, ns, n) != 0 || identifier[4 + n] != ':' ||
	    identifier[5 + n] == '\0')
		return NULL;
	return identifier + 5 + n;
}

int
oai_landing_here(const struct oai_conf *oc, const struct record *r,
    struct buf *out)
{
	buf_reset(out);
	if (oc == NULL || oc->base_url == NULL)
		return -1;
	return feed_page_url(out, oc->base_url, I18N_EN, r->id);
}

/*
 * Sets with no live record (kept alive only by tombstones, or configured
 * and still empty) are left out of ListSets: section 4.6 makes it "the set
 * structure of a repository, useful for selective harvesting", and nothing
 * in sections 2.6 or 4.6 requires it to name every setSpec a header
 * carries.  Selective harvesting with set=SPEC still answers the deleted
 * records' headers, which keep their setSpec (sections 2.5.1 and 2.7.2).
 */
int
oai_set_is_listed(const struct snap_set *set)
{
	return set->nfeed > 0;
}
