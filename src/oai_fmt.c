/*
 * Shared helpers of the OAI-PMH metadata-format writers.  See oai_fmt.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oai_fmt.h"
#include "banned.h"

const char *
oai_fmt_name(const struct record_agent *a, struct buf *out)
{
	int	 rc;

	buf_reset(out);
	if (a->kind == RECORD_PERSON && a->family != NULL) {
		if (a->given != NULL && a->given[0] != '\0')
			rc = buf_printf(out, "%s, %s", a->family, a->given);
		else
			rc = buf_addstr(out, a->family);
	} else
		rc = buf_addstr(out, a->name != NULL ? a->name : "");
	return rc == -1 ? NULL : out->data;
}

const struct record_text *
oai_fmt_subtitle(const struct record *r, size_t i)
{
	size_t	 j;

	for (j = 0; j < r->nsubtitles; j++)
		if (oai_fmt_same_lang(r->titles[i].lang, r->subtitles[j].lang))
			return &r->subtitles[j];
	if (i == 0 && r->nsubtitles > 0 && r->subtitles[0].lang == NULL)
		return &r->subtitles[0];
	return NULL;
}

const char *
oai_fmt_type_label(enum record_type t)
{
	static const char *const labels[RECORD_TYPE_COUNT] = {
		[RECORD_REPORT] = "Report",
		[RECORD_POLICY_BRIEF] = "Policy brief",
		[RECORD_WORKING_PAPER] = "Working paper",
		[RECORD_BOOK] = "Book", [RECORD_CHAPTER] = "Book chapter",
		[RECORD_ARTICLE] = "Article", [RECORD_DATASET] = "Dataset",
		[RECORD_PRESENTATION] = "Presentation",
		[RECORD_EVENT] = "Event", [RECORD_NEWS] = "News",
	};

	if ((unsigned)t >= RECORD_TYPE_COUNT || labels[t] == NULL)
		return "Text";
	return labels[t];
}

int
oai_fmt_year(const struct date *d)
{
	char	 day[DATE_DAY_LEN];

	date_fmt_day(d->t, day);
	return (day[0] - '0') * 1000 + (day[1] - '0') * 100 +
	    (day[2] - '0') * 10 + (day[3] - '0');
}

int
oai_fmt_new_format(const struct record *r, size_t i)
{
	const struct record_link	*l = &r->links[i];
	size_t				 j;

	if (l->rel != RECORD_LINK_FULLTEXT || l->type == NULL)
		return 0;
	for (j = 0; j < i; j++)
		if (r->links[j].rel == RECORD_LINK_FULLTEXT &&
		    r->links[j].type != NULL &&
		    strcmp(r->links[j].type, l->type) == 0)
			return 0;
	return 1;
}

const char *
oai_fmt_coar_access(enum record_access a, const char **label)
{
	static const struct {
		const char	*uri, *label;
	} coar[] = {
		[RECORD_ACCESS_OPEN] = { "http://purl.org/coar/access_right/"
		    "c_abf2", "open access" },
		[RECORD_ACCESS_EMBARGOED] = { "http://purl.org/coar/"
		    "access_right/c_f1cf", "embargoed access" },
		[RECORD_ACCESS_RESTRICTED] = { "http://purl.org/coar/"
		    "access_right/c_16ec", "restricted access" },
		[RECORD_ACCESS_METADATA_ONLY] = { "http://purl.org/coar/"
		    "access_right/c_14cb", "metadata only access" },
	};

	if ((size_t)a >= sizeof(coar) / sizeof(*coar) || coar[a].uri == NULL)
		return NULL;
	if (label != NULL)
		*label = coar[a].label;
	return coar[a].uri;
}

const char *
oai_fmt_eurepo_access(enum record_access a)
{
	switch (a) {
	case RECORD_ACCESS_OPEN:
		return "info:eu-repo/semantics/openAccess";
	case RECORD_ACCESS_EMBARGOED:
		return "info:eu-repo/semantics/embargoedAccess";
	case RECORD_ACCESS_RESTRICTED:
		return "info:eu-repo/semantics/restrictedAccess";
	case RECORD_ACCESS_METADATA_ONLY:
		return "info:eu-repo/semantics/closedAccess";
	default:
		return NULL;
	}
}

int
oai_fmt_same_lang(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

void
oai_fmt_root(struct xw *xw, const char *name, const char *const *decls,
    const char *ns, const char *schema)
{
	char	 loc[512];
	size_t	 i;

	xw_start(xw, name);
	for (i = 0; decls[i] != NULL && decls[i + 1] != NULL; i += 2)
		xw_attr(xw, decls[i], decls[i + 1]);
	xw_attr(xw, "xmlns:xsi", OAI_FMT_XSI_NS);
	snprintf(loc, sizeof(loc), "%s %s", ns, schema);
	xw_attr(xw, "xsi:schemaLocation", loc);
}

int
oai_format_write(const struct oai_format *f, struct xw *xw,
    const struct oai_conf *oc, const struct record *r)
{
	struct buf	 tmp, tmp2;
	int		 rc;

	buf_init(&tmp, OAI_FMT_TMP_MAX);
	buf_init(&tmp2, OAI_FMT_TMP_MAX);
	rc = f->body(xw, oc, r, &tmp, &tmp2);
	buf_release(&tmp);
	buf_release(&tmp2);
	if (rc == -1 || xw->failed) {
		xw->failed = 1;	/* the payload is unfinished: poison it */
		return -1;
	}
	return 0;
}
