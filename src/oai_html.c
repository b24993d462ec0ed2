/*
 * The page a browser gets at the bare OAI-PMH endpoint: what the endpoint
 * is, its base URL, and a working link for every verb, format and set, so
 * a person can explore the repository without knowing the protocol.
 * Written with xw like every other document (HTML5 in XML syntax).
 */
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "oai_int.h"
#include "page_style.h"
#include "syntax.h"
#include "banned.h"

#define HTML_TMP_MAX	(64 * 1024)

struct page {
	const struct snap	*s;
	struct oai_conf		 conf;
	struct xw		 xw;
	struct buf		 base;	/* base_url + oai_path */
	struct buf		 url;	/* scratch for one link */
};

/* Append "&key=value" with value percent-encoded (RFC 3986 unreserved). */
static int
add_arg(struct buf *b, const char *key, const char *value)
{
	if (buf_printf(b, "&%s=", key) == -1)
		return -1;
	return syntax_pct_encode(b, value);
}

/*
 * A link to base?verb=VERB plus up to two more arguments (NULL key: none),
 * with label as its text.
 */
static void
page_link(struct page *pg, const char *label, const char *verb, const char *k1,
    const char *v1, const char *k2, const char *v2)
{
	struct buf	*u = &pg->url;

	buf_reset(u);
	if (buf_printf(u, "%s?verb=%s", pg->base.data, verb) == -1 ||
	    (k1 != NULL && add_arg(u, k1, v1) == -1) ||
	    (k2 != NULL && add_arg(u, k2, v2) == -1)) {
		pg->xw.failed = 1;
		return;
	}
	xw_start(&pg->xw, "a");
	xw_attr(&pg->xw, "href", u->data);
	xw_text(&pg->xw, label);
	xw_end(&pg->xw);
}

static void
intro(struct page *pg)
{
	const struct snap	*s = pg->s;
	char			 n[64], d[DATE_ISO_LEN];

	xw_start(&pg->xw, "p");
	xw_text(&pg->xw, "This is the OAI-PMH 2.0 interface of this "
	    "repository. OAI-PMH (the Open Archives Initiative Protocol for "
	    "Metadata Harvesting) lets library catalogues, aggregators and "
	    "search services collect the metadata of every publication here, "
	    "and fetch only what changed since their last visit. Point a "
	    "harvester at the base URL below; the links try each request "
	    "in your browser.");
	xw_end(&pg->xw);
	xw_start(&pg->xw, "dl");
	xw_elem(&pg->xw, "dt", "Base URL");
	xw_start(&pg->xw, "dd");
	xw_elem(&pg->xw, "code", pg->base.data);
	xw_end(&pg->xw);
	xw_elem(&pg->xw, "dt", "Records");
	snprintf(n, sizeof(n), "%zu, and %zu deleted", s->nlive,
	    s->nitems - s->nlive);
	xw_elem(&pg->xw, "dd", n);
	if (s->nitems > 0) {
		xw_elem(&pg->xw, "dt", "Last change");
		date_fmt_iso(s->latest, d);
		xw_elem(&pg->xw, "dd", d);
	}
	xw_end(&pg->xw);
}

static void
verbs(struct page *pg)
{
	static const struct {
		const char	*verb;
		int		 with_prefix;
	} v[] = {
		{ "Identify", 0 }, { "ListMetadataFormats", 0 },
		{ "ListSets", 0 }, { "ListIdentifiers", 1 },
		{ "ListRecords", 1 },
	};
	const struct snap	*s = pg->s;
	const char		*p = oai_formats[0] != NULL ?
	    oai_formats[0]->prefix : "oai_dc";
	struct buf		 id;
	size_t			 i;

	xw_elem(&pg->xw, "h2", "Requests");
	xw_start(&pg->xw, "ul");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		xw_start(&pg->xw, "li");
		page_link(pg, v[i].verb, v[i].verb,
		    v[i].with_prefix ? "metadataPrefix" : NULL, p, NULL, NULL);
		xw_end(&pg->xw);
	}
	if (s->nitems > 0) {
		buf_init(&id, HTML_TMP_MAX);
		if (oai_identifier(&pg->conf, s->items[s->nitems - 1].id,
		    &id) == -1)
			pg->xw.failed = 1;
		xw_start(&pg->xw, "li");
		page_link(pg, "GetRecord", "GetRecord", "identifier",
		    id.data != NULL ? id.data : "", "metadataPrefix", p);
		xw_text(&pg->xw, " (the most recently changed item)");
		xw_end(&pg->xw);
		buf_release(&id);
	}
	xw_end(&pg->xw);
}

static void
formats(struct page *pg)
{
	const struct oai_format	*f;
	size_t			 i;

	xw_elem(&pg->xw, "h2", "Metadata formats");
	xw_start(&pg->xw, "table");
	xw_start(&pg->xw, "tr");
	xw_elem(&pg->xw, "th", "metadataPrefix");
	xw_elem(&pg->xw, "th", "Namespace");
	xw_elem(&pg->xw, "th", "Records");
	xw_end(&pg->xw);
	for (i = 0; (f = oai_formats[i]) != NULL; i++) {
		xw_start(&pg->xw, "tr");
		xw_start(&pg->xw, "td");
		xw_start(&pg->xw, "a");
		xw_attr(&pg->xw, "href", f->schema);
		xw_text(&pg->xw, f->prefix);
		xw_end(&pg->xw);
		xw_end(&pg->xw);
		xw_elem(&pg->xw, "td", f->ns);
		xw_start(&pg->xw, "td");
		page_link(pg, "ListRecords", "ListRecords", "metadataPrefix",
		    f->prefix, NULL, NULL);
		xw_end(&pg->xw);
		xw_end(&pg->xw);
	}
	xw_end(&pg->xw);
}

static void
sets(struct page *pg)
{
	const struct snap_set	*set;
	char			 n[32];
	size_t			 i, listed = 0;

	xw_elem(&pg->xw, "h2", "Sets");
	for (i = 0; i < pg->s->nsets; i++)
		listed += oai_set_is_listed(&pg->s->sets[i]);
	if (listed == 0) {
		xw_elem(&pg->xw, "p", "This repository has no sets.");
		return;
	}
	xw_start(&pg->xw, "table");
	xw_start(&pg->xw, "tr");
	xw_elem(&pg->xw, "th", "setSpec");
	xw_elem(&pg->xw, "th", "Name");
	xw_elem(&pg->xw, "th", "Items");
	xw_end(&pg->xw);
	for (i = 0; i < pg->s->nsets; i++) {
		set = &pg->s->sets[i];
		if (!oai_set_is_listed(set))
			continue;	/* as ListSets */
		xw_start(&pg->xw, "tr");
		xw_start(&pg->xw, "td");
		page_link(pg, set->spec, "ListRecords", "metadataPrefix",
		    oai_formats[0] != NULL ? oai_formats[0]->prefix : "oai_dc",
		    "set", set->spec);
		xw_end(&pg->xw);
		xw_elem(&pg->xw, "td", set->name);
		snprintf(n, sizeof(n), "%zu", set->nitems);
		xw_elem(&pg->xw, "td", n);
		xw_end(&pg->xw);
	}
	xw_end(&pg->xw);
}

static void
head(struct page *pg)
{
	const char	*name = pg->conf.repository_name;

	xw_raw(&pg->xw, "<!DOCTYPE html>\n", 16);
	xw_start(&pg->xw, "html");
	xw_attr(&pg->xw, "lang", "en");
	xw_start(&pg->xw, "head");
	xw_start(&pg->xw, "meta");
	xw_attr(&pg->xw, "charset", "utf-8");
	xw_end(&pg->xw);
	xw_start(&pg->xw, "meta");
	xw_attr(&pg->xw, "name", "viewport");
	xw_attr(&pg->xw, "content", "width=device-width, initial-scale=1");
	xw_end(&pg->xw);
	xw_start(&pg->xw, "title");
	xw_text(&pg->xw, name);
	xw_text(&pg->xw, " \xE2\x80\x93 OAI-PMH");
	xw_end(&pg->xw);
	/* the site's one stylesheet (page_style.h) */
	buf_reset(&pg->url);
	if (buf_printf(&pg->url, "%s%s", pg->conf.base_url,
	    page_style_path()) == 0) {
		xw_start(&pg->xw, "link");
		xw_attr(&pg->xw, "rel", "stylesheet");
		xw_attr(&pg->xw, "href", pg->url.data);
		xw_end(&pg->xw);
	}
	xw_end(&pg->xw);
}

int
oai_render_html(const struct snap *s, struct buf *out, struct err *e)
{
	struct page	 pg;
	size_t		 start = out->len;
	int		 rc = -1;

	memset(&pg, 0, sizeof(pg));
	pg.s = s;
	oai_conf_init(&pg.conf, s->conf);
	buf_init(&pg.base, HTML_TMP_MAX);
	buf_init(&pg.url, HTML_TMP_MAX);
	if (buf_printf(&pg.base, "%s%s", pg.conf.base_url,
	    pg.conf.oai_path) == -1 || xw_open(&pg.xw, out, 1, 0) == -1) {
		err_set(e, "cannot start the OAI-PMH HTML page");
		goto out;
	}
	head(&pg);
	xw_start(&pg.xw, "body");
	xw_start(&pg.xw, "main");
	xw_elem(&pg.xw, "h1", pg.conf.repository_name);
	intro(&pg);
	verbs(&pg);
	formats(&pg);
	sets(&pg);
	xw_end(&pg.xw);
	xw_end(&pg.xw);
	xw_end(&pg.xw);
	if (xw_close(&pg.xw) == -1) {
		err_set(e, "OAI-PMH HTML page over the output cap");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	buf_release(&pg.base);
	buf_release(&pg.url);
	return rc;
}
