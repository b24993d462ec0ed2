/*
 * oai_marc: MARC 21 bibliographic records in MARCXML (metadataPrefix
 * "marc21", the OAI MARCXML guidelines' name for it).
 *
 * Content designators follow the MARC 21 Format for Bibliographic Data.
 * Fields come out in tag order.  ISBD punctuation is not added (leader/18
 * 'c' says so); names are in inverted form with relator terms and codes.
 * Field choices worth knowing:
 *   008/15-17 and 044 the MARC country code of the place of publication's
 *   country ("xx " unknown); 020 ISBN without hyphens, a qualifier in $q
 *   (a chapter's ISBN is its book's: 773 $z); 024 7_ DOI/handle/URN/URL
 *   with $2 doi/hdl/urn/uri;
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

#include "lang.h"
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

/* The MARC code of r->languages[i], in out when not a static one. */
static const char *
marc_lang(const struct record *r, size_t i, char out[LANG_CODE_LEN])
{
	const char	*b;

	if (i >= r->nlanguages || (b = lang_marc(r->languages[i], out)) == NULL)
		return "und";
	return b;
}

/*
 * The MARC Code List for Countries code of an ISO 3166-1 alpha-2 code, for
 * the countries of Europe and the larger others; NULL when not listed.
 */
static const char *
marc_country(const char *iso)
{
	static const struct {
		char	iso[3];
		char	marc[4];
	} map[] = {
		{ "AL", "aa " }, { "AT", "au " }, { "AU", "at " },
		{ "BA", "bn " }, { "BE", "be " }, { "BG", "bu " },
		{ "BY", "bw " }, { "CA", "xxc" }, { "CH", "sz " },
		{ "CN", "cc " }, { "CY", "cy " }, { "CZ", "xr " },
		{ "DE", "gw " }, { "DK", "dk " }, { "EE", "er " },
		{ "ES", "sp " }, { "FI", "fi " }, { "FR", "fr " },
		{ "GB", "xxk" }, { "GR", "gr " }, { "HR", "ci " },
		{ "HU", "hu " }, { "IE", "ie " }, { "IN", "ii " },
		{ "IS", "ic " }, { "IT", "it " }, { "JP", "ja " },
		{ "LT", "li " }, { "LU", "lu " }, { "LV", "lv " },
		{ "MD", "mv " }, { "ME", "mo " }, { "MK", "xn " },
		{ "MT", "mm " }, { "NL", "ne " }, { "NO", "no " },
		{ "PL", "pl " }, { "PT", "po " }, { "RO", "rm " },
		{ "RS", "rb " }, { "RU", "ru " }, { "SE", "sw " },
		{ "SI", "xv " }, { "SK", "xo " }, { "TR", "tu " },
		{ "UA", "un " }, { "US", "xxu" }, { "XK", "kv " },
	};
	size_t	 i;

	for (i = 0; iso != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(iso, map[i].iso) == 0)
			return map[i].marc;
	return NULL;
}

/* Leader, 001, 005 and 008 (books, or computer files for datasets). */
static void
marc_control_fields(struct xw *xw, const struct record *r)
{
	char	 leader[25], f005[24], f008[41], iso[DATE_ISO_LEN];
	char	 c3[LANG_CODE_LEN];
	const char *place = marc_country(r->place_country);
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
	 * 00-05 entered, 06 's' single date, 07-10 date 1, 15-17 place of
	 * publication ('xx ' unknown), 18-34 form-specific,
	 * 35-37 language, 38 unmodified, 39 'd' other cataloguing source.
	 * Books: 23 'o' online, 29 conference, 30 festschrift, 31 index,
	 * 33 '0' not fiction.  Computer files: 23 'o', 26 'a' numeric data.
	 */
	snprintf(f008, sizeof(f008), "%.2s%.2s%.2ss%04d    %s%s%s d",
	    iso + 2, iso + 5, iso + 8, oai_fmt_year(&r->issued),
	    place != NULL ? place : "xx ",
	    is_data ? "     o  a        " :
	    is_conf ? "     o     100 0 " : "     o     000 0 ",
	    marc_lang(r, 0, c3));
	marc_control(xw, "008", f008);
}

/*
 * 020: the ISBN's digits (and final X) without hyphens or spaces in $a, any
 * text after them ("(pbk.)") in $q; a value without 10 or 13 of them is
 * not an ISBN and goes in $z as given.
 */
static void
marc_isbn(struct xw *xw, const char *v)
{
	char		 isbn[16], q[256];
	const char	*p;
	size_t		 n = 0, len;

	for (p = v; *p != '\0' && n < sizeof(isbn) - 1; p++) {
		if (*p >= '0' && *p <= '9')
			isbn[n++] = *p;
		else if ((*p == 'X' || *p == 'x') && (n == 9 || n == 12))
			isbn[n++] = 'X';
		else if (*p != '-' && *p != ' ')
			break;
	}
	isbn[n] = '\0';
	while (*p == ' ' || *p == '(' || *p == ':' || *p == ';')
		p++;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ')' || p[len - 1] == ' '))
		len--;
	if (len >= sizeof(q))
		len = sizeof(q) - 1;
	memcpy(q, p, len);
	q[len] = '\0';
	marc_field(xw, "020", ' ', ' ');
	/* a qualifier must be set off from the number ("...-7 (pbk.)") */
	if ((n == 10 || n == 13) && (*p == '\0' || p > v + n)) {
		marc_sub(xw, 'a', isbn);
		marc_sub(xw, 'q', q);
	} else
		marc_sub(xw, 'z', v);
	xw_end(xw);
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
	const char	*c;
	char		 code[4], c3[LANG_CODE_LEN];
	size_t		 i, k;

	for (i = 0; i < r->nidents && r->type != RECORD_CHAPTER; i++)
		if (r->idents[i].kind == RECORD_ID_ISBN)
			marc_isbn(xw, r->idents[i].value);
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
	if (r->nlanguages > 0) {
		marc_field(xw, "041", ' ', ' ');
		for (i = 0; i < r->nlanguages; i++)
			marc_sub(xw, 'a', marc_lang(r, i, c3));
		xw_end(xw);
	}
	if ((c = marc_country(r->place_country)) != NULL) {
		/* the code without the blank that pads it in 008 */
		snprintf(code, sizeof(code), "%.*s", c[2] == ' ' ? 2 : 3, c);
		marc_field1(xw, "044", ' ', ' ', 'a', code);
	}
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

/*
 * A chapter's host item: its book, named by the chapter's related link
 * (a chapter's related page is its book), published where and by whom the
 * chapter was, with the book's ISBN and series ISSN.
 */
static int
marc_host_book(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const struct record_link *rel = record_link_find(r,
	    RECORD_LINK_RELATED);
	size_t	 i;

	buf_reset(tmp);
	if ((r->place != NULL && buf_printf(tmp, "%s : ", r->place) == -1) ||
	    (r->publisher != NULL && buf_printf(tmp, "%s, ",
	    r->publisher) == -1) ||
	    buf_printf(tmp, "%04d", oai_fmt_year(&r->issued)) == -1)
		return -1;
	marc_field(xw, "773", '0', ' ');
	if (rel != NULL)
		marc_sub(xw, 't', rel->title);
	marc_sub(xw, 'd', tmp->data);
	for (i = 0; i < r->nidents; i++)
		if (r->idents[i].kind == RECORD_ID_ISSN)
			marc_sub(xw, 'x', r->idents[i].value);
	for (i = 0; i < r->nidents; i++)
		if (r->idents[i].kind == RECORD_ID_ISBN)
			marc_sub(xw, 'z', r->idents[i].value);
	xw_end(xw);
	return 0;
}

/* An article's host item: its journal (the series field) and ISSN. */
static int
marc_host(struct xw *xw, const struct record *r, struct buf *tmp)
{
	const struct record_ident *issn = NULL;
	size_t	 i;

	if (r->type == RECORD_CHAPTER)
		return marc_host_book(xw, r, tmp);
	if (r->type != RECORD_ARTICLE)
		return 0;
	for (i = 0; i < r->nidents && issn == NULL; i++)
		if (r->idents[i].kind == RECORD_ID_ISSN)
			issn = &r->idents[i];
	if (r->series == NULL && issn == NULL)
		return 0;
	marc_field(xw, "773", '0', ' ');
	marc_sub(xw, 't', r->series);
	if (issn != NULL)
		marc_sub(xw, 'x', issn->value);
	xw_end(xw);
	return 0;
}

/*
 * 856 40 for the landing page and the full texts, 856 42 for related
 * links.  With no landing page of its own the record's landing page is
 * pubfeed's (oai_landing_here(), in tmp), listed first.
 */
static void
marc_links(struct xw *xw, const struct oai_conf *oc, const struct record *r,
    struct buf *tmp)
{
	const struct record_link *l;
	char	 size[32];
	size_t	 i;

	if (record_link_find(r, RECORD_LINK_LANDING) == NULL &&
	    oai_landing_here(oc, r, tmp) == 0) {
		marc_field(xw, "856", '4', '0');
		marc_sub(xw, 'q', "text/html");
		marc_sub(xw, 'u', tmp->data);
		xw_end(xw);
	}

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
	if (marc_host(xw, r, tmp) == -1)
		return -1;
	marc_links(xw, oc, r, tmp);
	xw_end(xw);
	return 0;
}

const struct oai_format oai_format_marc = {
	.prefix = "marc21",
	.schema = MARC_XSD,
	.ns = MARC_NS,
	.body = marc_body,
};
