/*
 * oai_marc: MARC 21 bibliographic records in MARCXML (metadataPrefix
 * "marc21", the OAI MARCXML guidelines' name for it).
 *
 * Content designators follow the MARC 21 Format for Bibliographic Data.
 * Fields come out in tag order.  ISBD punctuation is not added (leader/18
 * 'c' says so); names are in inverted form with relator terms and codes.
 * Field choices worth knowing:
 *   020 ISBN; 024 7_ DOI/handle/URN/URL with $2 doi/hdl/urn/uri;
 *   100/110 the first creator, 700/710 the others and every contributor;
 *   245 main title and subtitle, 246 31 the other-language (parallel) titles;
 *   264 _1 publication; 490 0_ series with its ISSN in $x (773 0_ for an
 *   article, whose ISSN is its journal's; 022 when there is no series);
 *   518 and 711 2_ for an event; 520 3_ abstracts; 540 rights and licence;
 *   653 uncontrolled keywords; 856 40 landing/fulltext, 856 42 related.
 * There is no 003 (no MARC organisation code to put there) and no 506:
 * the record does not say anything about access restrictions.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "oai_fmt.h"
#include "banned.h"

#define MARC_NS		"http://www.loc.gov/MARC21/slim"
#define MARC_XSD \
	"http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"

static void
marc_control(struct xw *xw, const char *tag, const char *value)
{
	xw_start(xw, "marc:controlfield");
	xw_attr(xw, "tag", tag);
	xw_text(xw, value);
	xw_end(xw);
}

static void
marc_field(struct xw *xw, const char *tag, char ind1, char ind2)
{
	char	 i1[2] = { ind1, '\0' }, i2[2] = { ind2, '\0' };

	xw_start(xw, "marc:datafield");
	xw_attr(xw, "tag", tag);
	xw_attr(xw, "ind1", i1);
	xw_attr(xw, "ind2", i2);
}

/* Empty values are skipped: a subfield always carries data. */
static void
marc_sub(struct xw *xw, char code, const char *value)
{
	char	 c[2] = { code, '\0' };

	if (value == NULL || value[0] == '\0')
		return;
	xw_start(xw, "marc:subfield");
	xw_attr(xw, "code", c);
	xw_text(xw, value);
	xw_end(xw);
}

/* A field with a single subfield; nothing when value is empty. */
static void
marc_field1(struct xw *xw, const char *tag, char ind1, char ind2, char code,
    const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	marc_field(xw, tag, ind1, ind2);
	marc_sub(xw, code, value);
	xw_end(xw);
}

static const char *
marc_lang(const struct record *r, size_t i)
{
	const char	*b;

	if (i >= r->nlanguages || (b = oai_fmt_lang_b(r->languages[i])) == NULL)
		return "und";
	return b;
}

/* Leader, 001, 005 and 008 (books, or computer files for datasets). */
static void
marc_control_fields(struct xw *xw, const struct record *r)
{
	char	 leader[25], f005[24], f008[41], iso[DATE_ISO_LEN];
	int64_t	 when;
	int	 is_data = r->type == RECORD_DATASET;
	int	 is_part = r->type == RECORD_ARTICLE ||
		    r->type == RECORD_CHAPTER;
	int	 is_conf = r->type == RECORD_EVENT ||
		    r->type == RECORD_PRESENTATION;

	/*
	 * 05 new, 06 language material or computer file, 07 monograph or
	 * component part, 09 UCS/Unicode, 17 minimal level (derived from
	 * publisher-supplied metadata), 18 ISBD punctuation omitted.  Length
	 * and base address are meaningless in MARCXML and left as zeros.
	 */
	snprintf(leader, sizeof(leader), "00000n%c%c a2200000%cc 4500",
	    is_data ? 'm' : 'a', is_part ? 'a' : 'm', '7');
	xw_start(xw, "marc:leader");
	xw_text(xw, leader);
	xw_end(xw);
	marc_control(xw, "001", r->id);

	when = r->datestamp != 0 ? r->datestamp :
	    r->modified.t != 0 ? r->modified.t : r->issued.t;
	date_fmt_iso(when, iso);	/* 2017-01-02T03:04:05Z */
	snprintf(f005, sizeof(f005), "%.4s%.2s%.2s%.2s%.2s%.2s.0", iso,
	    iso + 5, iso + 8, iso + 11, iso + 14, iso + 17);
	marc_control(xw, "005", f005);

	/*
	 * 00-05 entered, 06 's' single date, 07-10 date 1, 15-17 'xx '
	 * unknown place (we hold no MARC country code), 18-34 form-specific,
	 * 35-37 language, 38 unmodified, 39 'd' other cataloguing source.
	 * Books: 23 'o' online, 29 conference, 30 festschrift, 31 index,
	 * 33 '0' not fiction.  Computer files: 23 'o', 26 'a' numeric data.
	 */
	snprintf(f008, sizeof(f008), "%.2s%.2s%.2ss%04d    xx %s%s d",
	    iso + 2, iso + 5, iso + 8, oai_fmt_year(&r->issued),
	    is_data ? "     o  a        " :
	    is_conf ? "     o     100 0 " : "     o     000 0 ",
	    marc_lang(r, 0));
	marc_control(xw, "008", f008);
}

static void
marc_numbers(struct xw *xw, const struct record *r)
{
	static const struct {
		enum record_id_kind	 kind;
		const char		*source;
	} std[] = {
		{ RECORD_ID_DOI, "doi" }, { RECORD_ID_HANDLE, "hdl" },
		{ RECORD_ID_URN, "urn" }, { RECORD_ID_URL, "uri" },
	};
	size_t	 i, k;

	for (i = 0; i < r->nidents; i++)
		if (r->idents[i].kind == RECORD_ID_ISBN)
			marc_field1(xw, "020", ' ', ' ', 'a',
			    r->idents[i].value);
	if (r->series == NULL && r->type != RECORD_ARTICLE)
		for (i = 0; i < r->nidents; i++)
			if (r->idents[i].kind == RECORD_ID_ISSN)
				marc_field1(xw, "022", ' ', ' ', 'a',
				    r->idents[i].value);
	for (k = 0; k < sizeof(std) / sizeof(std[0]); k++)
		for (i = 0; i < r->nidents; i++) {
			if (r->idents[i].kind != std[k].kind)
				continue;
			marc_field(xw, "024", '7', ' ');
			marc_sub(xw, 'a', r->idents[i].value);
			marc_sub(xw, '2', std[k].source);
			xw_end(xw);
		}
	if (r->nlanguages == 0)
		return;
	marc_field(xw, "041", ' ', ' ');
	for (i = 0; i < r->nlanguages; i++)
		marc_sub(xw, 'a', marc_lang(r, i));
	xw_end(xw);
}

/* MARC relator term and code of a contributor role (the record's list). */
static void
marc_relator(const char *role, const char **term, const char **code)
{
	static const struct {
		const char	*role, *term, *code;
	} map[] = {
		{ "editor", "editor", "edt" },
		{ "translator", "translator", "trl" },
		{ "reviewer", "reviewer", "rev" },
		{ "speaker", "speaker", "spk" },
		{ "moderator", "moderator", "mod" },
		{ "organiser", "organizer", "orm" },
		{ "organizer", "organizer", "orm" },
		{ "funder", "funder", "fnd" },
	};
	size_t	 i;

	*term = "contributor";
	*code = "ctb";
	for (i = 0; role != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(role, map[i].role) == 0) {
			*term = map[i].term;
			*code = map[i].code;
		}
}

/* 100/110 (main, '1') or 700/710 (added, '7'). */
static int
marc_agent(struct xw *xw, char block, const struct record_agent *a,
    const char *term, const char *code, struct buf *tmp)
{
	char		 tag[4] = { block, '0', '0', '\0' };
	const char	*name;
	int		 is_person = a->kind == RECORD_PERSON;

	if (!is_person)
		tag[1] = '1';
	if ((name = oai_fmt_name(a, tmp)) == NULL)
		return -1;
	marc_field(xw, tag, is_person ? '1' : '2', ' ');
	marc_sub(xw, 'a', name);
	marc_sub(xw, 'e', term);
	marc_sub(xw, 'u', a->affiliation);
	if (a->orcid != NULL) {
		buf_reset(tmp);
		if (buf_printf(tmp, "(orcid)%s", a->orcid) == -1)
			return -1;
		marc_sub(xw, '0', tmp->data);
		buf_reset(tmp);
		if (buf_printf(tmp, "https://orcid.org/%s", a->orcid) == -1)
			return -1;
		marc_sub(xw, '1', tmp->data);
	}
	marc_sub(xw, '4', code);
	xw_end(xw);
	return 0;
}

/* Leading English article to skip when filing (245 second indicator). */
static char
marc_nonfiling(const struct record *r)
{
	const char	*lang = r->titles[0].lang != NULL ? r->titles[0].lang :
			    r->lang != NULL ? r->lang : r->nlanguages > 0 ?
			    r->languages[0] : NULL;
	const char	*t = r->titles[0].text;

	if (lang == NULL || strncasecmp(lang, "en", 2) != 0 ||
	    (lang[2] != '\0' && lang[2] != '-'))
		return '0';
	if (strncmp(t, "The ", 4) == 0)
		return '4';
	if (strncmp(t, "An ", 3) == 0)
		return '3';
	if (strncmp(t, "A ", 2) == 0)
		return '2';
	return '0';
}

static void
marc_titles(struct xw *xw, const struct record *r, int has_main)
{
	const struct record_text *sub;
	size_t	 i;

	marc_field(xw, "245", has_main ? '1' : '0', marc_nonfiling(r));
	marc_sub(xw, 'a', r->titles[0].text);
	if ((sub = oai_fmt_subtitle(r, 0)) != NULL)
		marc_sub(xw, 'b', sub->text);
	xw_end(xw);
	for (i = 1; i < r->ntitles; i++) {
		marc_field(xw, "246", '3', '1');
		marc_sub(xw, 'a', r->titles[i].text);
		if ((sub = oai_fmt_subtitle(r, i)) != NULL)
			marc_sub(xw, 'b', sub->text);
		xw_end(xw);
	}
}

static void
marc_publication(struct xw *xw, const struct record *r)
{
	char	 year[16];
	size_t	 i;

	snprintf(year, sizeof(year), "%04d", oai_fmt_year(&r->issued));
	marc_field(xw, "264", ' ', '1');
	marc_sub(xw, 'a', r->place);
	marc_sub(xw, 'b', r->publisher);
	marc_sub(xw, 'c', year);
	xw_end(xw);
	if (r->series == NULL || r->type == RECORD_ARTICLE)
		return;
	marc_field(xw, "490", '0', ' ');
	marc_sub(xw, 'a', r->series);
	for (i = 0; i < r->nidents; i++)
		if (r->idents[i].kind == RECORD_ID_ISSN)
			marc_sub(xw, 'x', r->idents[i].value);
	xw_end(xw);
}

/* "Place, CC" and "start/end" of an event into two buffers. */
static int
marc_event_strings(const struct record_event *ev, struct buf *place,
    struct buf *when)
{
	char	 a[DATE_ISO_LEN], b[DATE_ISO_LEN];

	buf_reset(place);
	buf_reset(when);
	if (buf_addstr(place, ev->place != NULL ? ev->place : "") == -1 ||
	    (ev->country != NULL && buf_printf(place, "%s%s",
	    place->len > 0 ? ", " : "", ev->country) == -1))
		return -1;
	date_fmt(&ev->start, a);
	date_fmt(&ev->end, b);
	if (strcmp(a, b) == 0)
		return buf_addstr(when, a);
	return buf_printf(when, "%s/%s", a, b);
}

static int
marc_notes(struct xw *xw, const struct record *r, struct buf *tmp,
    struct buf *tmp2)
{
	size_t	 i;

	if (r->event != NULL) {
		if (marc_event_strings(r->event, tmp, tmp2) == -1)
			return -1;
		marc_field(xw, "518", ' ', ' ');
		marc_sub(xw, 'd', tmp2->data);
		marc_sub(xw, 'p', tmp->data);
		xw_end(xw);
	}
	for (i = 0; i < r->nabstracts; i++)
		marc_field1(xw, "520", '3', ' ', 'a', r->abstracts[i].text);
	if (r->rights != NULL || r->license != NULL) {
		marc_field(xw, "540", ' ', ' ');
		marc_sub(xw, 'a', r->rights != NULL ? r->rights : r->license);
		marc_sub(xw, 'u', r->license);
		xw_end(xw);
	}
	for (i = 0; i < r->nsubjects; i++)
		marc_field1(xw, "653", ' ', ' ', 'a', r->subjects[i].text);
	return 0;
}

/*
 * 700 then 710 (tags ascending): the other creators, then every
 * contributor with its relator; then 711 for an event.
 */
static int
marc_added(struct xw *xw, const struct record *r, struct buf *tmp,
    struct buf *tmp2)
{
	const char	*term, *code;
	int		 is_event = r->type == RECORD_EVENT;
	const char	*cterm = is_event ? "organizer" : "author";
	const char	*ccode = is_event ? "orm" : "aut";
	size_t		 i;
	int		 kind;

	for (kind = RECORD_PERSON; kind <= RECORD_ORG; kind++) {
		for (i = 1; i < r->ncreators; i++)
			if ((int)r->creators[i].kind == kind &&
			    marc_agent(xw, '7', &r->creators[i], cterm, ccode,
			    tmp) == -1)
				return -1;
		for (i = 0; i < r->ncontributors; i++) {
			if ((int)r->contributors[i].kind != kind)
				continue;
			marc_relator(r->contributors[i].role, &term, &code);
			if (marc_agent(xw, '7', &r->contributors[i], term,
			    code, tmp) == -1)
				return -1;
		}
	}
	if (r->event != NULL) {
		if (marc_event_strings(r->event, tmp, tmp2) == -1)
			return -1;
		marc_field(xw, "711", '2', ' ');
		marc_sub(xw, 'a', r->titles[0].text);
		marc_sub(xw, 'c', tmp->data);
		marc_sub(xw, 'd', tmp2->data);
		xw_end(xw);
	}
	return 0;
}

/* An article's host item: its journal (the series field) and ISSN. */
static void
marc_host(struct xw *xw, const struct record *r)
{
	const struct record_ident *issn = NULL;
	size_t	 i;

	if (r->type != RECORD_ARTICLE)
		return;
	for (i = 0; i < r->nidents && issn == NULL; i++)
		if (r->idents[i].kind == RECORD_ID_ISSN)
			issn = &r->idents[i];
	if (r->series == NULL && issn == NULL)
		return;
	marc_field(xw, "773", '0', ' ');
	marc_sub(xw, 't', r->series);
	if (issn != NULL)
		marc_sub(xw, 'x', issn->value);
	xw_end(xw);
}

static void
marc_links(struct xw *xw, const struct record *r)
{
	const struct record_link *l;
	char	 size[32];
	size_t	 i;

	for (i = 0; i < r->nlinks; i++) {
		l = &r->links[i];
		marc_field(xw, "856", '4', l->rel == RECORD_LINK_RELATED ?
		    '2' : '0');
		if (l->rel == RECORD_LINK_FULLTEXT)
			marc_sub(xw, '3', "Full text");
		marc_sub(xw, 'q', l->type);
		if (l->length >= 0) {
			snprintf(size, sizeof(size), "%lld bytes",
			    (long long)l->length);
			marc_sub(xw, 's', size);
		}
		marc_sub(xw, 'u', l->href);
		marc_sub(xw, 'y', l->title);
		xw_end(xw);
	}
}

static int
marc_body(struct xw *xw, const struct oai_conf *oc, const struct record *r,
    struct buf *tmp, struct buf *tmp2)
{
	static const char *const decls[] = { "xmlns:marc", MARC_NS, NULL };

	(void)oc;
	oai_fmt_root(xw, "marc:record", decls, MARC_NS, MARC_XSD);
	marc_control_fields(xw, r);
	marc_numbers(xw, r);
	if (r->ncreators > 0 && marc_agent(xw, '1', &r->creators[0],
	    r->type == RECORD_EVENT ? "organizer" : "author",
	    r->type == RECORD_EVENT ? "orm" : "aut", tmp) == -1)
		return -1;
	marc_titles(xw, r, r->ncreators > 0);
	marc_publication(xw, r);
	if (marc_notes(xw, r, tmp, tmp2) == -1 ||
	    marc_added(xw, r, tmp, tmp2) == -1)
		return -1;
	marc_host(xw, r);
	marc_links(xw, r);
	xw_end(xw);
	return 0;
}

const struct oai_format oai_format_marc = {
	.prefix = "marc21",
	.schema = MARC_XSD,
	.ns = MARC_NS,
	.body = marc_body,
};
