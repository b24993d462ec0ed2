/*
 * import: items to record files (see import.h).  The readers live in
 * import_csl.c, import_ris.c and import_csv.c; this file holds what they
 * share, the id rules, the record writer and the command.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "date.h"
#include "fileio.h"
#include "import.h"
#include "record.h"
#include "strmap.h"
#include "vec.h"
#include "xw.h"
#include "banned.h"

void
import_item_init(struct import_item *it)
{
	memset(it, 0, sizeof(*it));
}

static void
strs_release(struct import_strs *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void
texts_release(struct import_texts *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].lang);
		free(t->v[i].text);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static void
agents_release(struct import_agents *a)
{
	size_t	 i;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].family);
		free(a->v[i].given);
		free(a->v[i].org);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void
import_item_release(struct import_item *it)
{
	free(it->key);
	free(it->type);
	free(it->lang);
	texts_release(&it->titles);
	texts_release(&it->subtitles);
	agents_release(&it->authors);
	agents_release(&it->editors);
	free(it->issued);
	free(it->event_start);
	free(it->event_end);
	free(it->event_place);
	strs_release(&it->languages);
	texts_release(&it->subjects);
	texts_release(&it->abstracts);
	free(it->publisher);
	free(it->place);
	free(it->series);
	free(it->doi);
	strs_release(&it->isbns);
	strs_release(&it->issns);
	free(it->url);
	strs_release(&it->sets);
	memset(it, 0, sizeof(*it));
}

/* A trimmed copy, or NULL in *out when nothing is left; -1 on ENOMEM. */
static int
dup_trim(const char *s, size_t len, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	len = len == (size_t)-1 ? strlen(s) : strnlen(s, len);
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return 0;
	if ((*out = strndup(s, len)) == NULL)
		return -1;
	return 0;
}

int
import_set(char **dst, const char *s, size_t len)
{
	char	*v;

	if (*dst != NULL)
		return 0;
	if (dup_trim(s, len, &v) == -1)
		return -1;
	*dst = v;
	return 0;
}

int
import_strs_add(struct import_strs *l, const char *s, size_t len)
{
	char	*v;

	if (dup_trim(s, len, &v) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (vec_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) == -1) {
		free(v);
		return -1;
	}
	l->v[l->n++] = v;
	return 0;
}

int
import_strs_split(struct import_strs *l, const char *s, size_t len, char sep)
{
	const char	*p, *end;

	if (s == NULL)
		return 0;
	if (len == (size_t)-1)
		len = strlen(s);
	end = s + len;
	while (s < end) {
		if ((p = memchr(s, sep, (size_t)(end - s))) == NULL)
			p = end;
		if (import_strs_add(l, s, (size_t)(p - s)) == -1)
			return -1;
		s = p + 1;
	}
	return 0;
}

int
import_texts_split(struct import_texts *t, const char *lang, const char *s,
    size_t len, char sep)
{
	const char	*p, *end;

	if (s == NULL)
		return 0;
	if (len == (size_t)-1)
		len = strlen(s);
	end = s + len;
	while (s < end) {
		if ((p = memchr(s, sep, (size_t)(end - s))) == NULL)
			p = end;
		if (import_texts_add(t, lang, s, (size_t)(p - s)) == -1)
			return -1;
		s = p + 1;
	}
	return 0;
}

int
import_texts_add(struct import_texts *t, const char *lang, const char *s,
    size_t len)
{
	char	*v, *l = NULL;

	if (dup_trim(s, len, &v) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (dup_trim(lang, (size_t)-1, &l) == -1 ||
	    vec_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)) == -1) {
		free(v);
		free(l);
		return -1;
	}
	t->v[t->n].lang = l;
	t->v[t->n].text = v;
	t->n++;
	return 0;
}

int
import_agents_add(struct import_agents *a, const char *family,
    const char *given, const char *org)
{
	struct import_agent	 g;

	memset(&g, 0, sizeof(g));
	if (dup_trim(family, (size_t)-1, &g.family) == -1 ||
	    dup_trim(given, (size_t)-1, &g.given) == -1 ||
	    dup_trim(org, (size_t)-1, &g.org) == -1)
		goto fail;
	if (g.family == NULL && g.org == NULL && g.given != NULL) {
		/* "given" alone: a mononym, kept as the family name */
		g.family = g.given;
		g.given = NULL;
	}
	if (g.family == NULL && g.org == NULL)
		return 0;
	if (g.org != NULL) {
		free(g.family);
		free(g.given);
		g.family = g.given = NULL;
	}
	if (vec_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v)) == -1)
		goto fail;
	a->v[a->n++] = g;
	return 0;
fail:
	free(g.family);
	free(g.given);
	free(g.org);
	return -1;
}

int
import_agents_add_name(struct import_agents *a, const char *s, size_t len)
{
	char	*v, *comma;
	int	 rc;

	if (dup_trim(s, len, &v) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if ((comma = strchr(v, ',')) != NULL) {
		*comma = '\0';
		rc = import_agents_add(a, v, comma + 1, NULL);
	} else
		rc = import_agents_add(a, NULL, NULL, v);
	free(v);
	return rc;
}

static int
digits(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

char *
import_date_iso(const char *s, size_t len)
{
	const char	*p, *end;
	char		 out[64];
	int		 part[3], n = 0;
	size_t		 k;

	if (len == (size_t)-1)
		len = strlen(s);
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	/* a full date-time is the record parser's to judge */
	if (len > 10 && len < sizeof(out) && s[10] == 'T' && digits(s, 4))
		return strndup(s, len);
	end = s + len;
	p = s;
	/* RIS: "2019/05/14/other info"; the trailing part is dropped */
	while (p < end && n < 3) {
		k = 0;
		while (p + k < end && isdigit((unsigned char)p[k]))
			k++;
		if (k == 0 || k > (n == 0 ? 4 : 2) || (n == 0 && k != 4))
			break;
		part[n] = 0;
		while (k-- > 0)
			part[n] = part[n] * 10 + (*p++ - '0');
		n++;
		if (p < end && (*p == '-' || *p == '/'))
			p++;
		else
			break;
	}
	if (n == 0 || (p < end && !(s[len - 1] == '/' || *(p - 1) == '/')))
		return NULL;
	/* "2019//" (RIS with empty month): only the year */
	if (n >= 2 && (part[1] < 1 || part[1] > 12))
		return NULL;
	if (n == 3 && !date_is_valid(part[0], part[1], part[2]))
		return NULL;
	if (n == 1)
		snprintf(out, sizeof(out), "%04d", part[0]);
	else if (n == 2)
		snprintf(out, sizeof(out), "%04d-%02d", part[0], part[1]);
	else
		snprintf(out, sizeof(out), "%04d-%02d-%02d", part[0], part[1],
		    part[2]);
	return strdup(out);
}

/* ---- ids ------------------------------------------------------------ */

/* Latin Extended-A, U+0100..U+017F, by base letter. */
static const char latin_ext_a[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkk"
    "lllllllllnnnnnnnnnooooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyy"
    "zzzzzzs";

/* Latin-1 U+00C0..U+00FF (upper and lower case folded). */
static const char *const latin1[32] = {
	"a", "a", "a", "a", "a", "aa", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", NULL,
	"oe", "u", "u", "u", "u", "y", "th", "ss",
};

/* Bulgarian streamlined system; U+0430..U+044F. */
static const char *const cyrillic[32] = {
	"a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l",
	"m", "n", "o", "p", "r", "s", "t", "u", "f", "h", "ts", "ch",
	"sh", "sht", "a", "y", "y", "e", "yu", "ya",
};

/* Decode one UTF-8 sequence at s (n bytes left); *cp = -1 when invalid. */
static size_t
utf8_next(const unsigned char *s, size_t n, long *cp)
{
	size_t	 k, i;
	long	 c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else {
		*cp = -1;
		return 1;
	}
	if (k > n) {
		*cp = -1;
		return 1;
	}
	c = s[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = -1;
			return i;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return k;
}

static const char *
translit(long c, char one[2])
{
	if (c < 0x80) {
		if (isalnum((int)c)) {
			one[0] = (char)tolower((int)c);
			one[1] = '\0';
			return one;
		}
		if (c == '.' || c == '_') {
			one[0] = (char)c;
			one[1] = '\0';
			return one;
		}
		return NULL;
	}
	if (c >= 0xc0 && c <= 0xff)
		return latin1[(c - 0xc0) & 0x1f];
	if (c >= 0x100 && c <= 0x17f) {
		one[0] = latin_ext_a[c - 0x100];
		one[1] = '\0';
		return one;
	}
	if (c >= 0x410 && c <= 0x42f)
		c += 0x20;
	if (c >= 0x430 && c <= 0x44f)
		return cyrillic[c - 0x430];
	if (c == 0x451 || c == 0x401)
		return "yo";
	if (c == 0x454 || c == 0x404)
		return "ye";
	if (c == 0x456 || c == 0x406 || c == 0x457 || c == 0x407)
		return "i";
	return NULL;
}

size_t
import_slug(const char *s, char *out, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len = 0, k, cut;
	const char		*t;
	char			 one[2];
	long			 c;
	int			 dash = 0;

	while (n > 0 && len < max + 1) {
		k = utf8_next(p, n, &c);
		p += k;
		n -= k;
		if ((t = translit(c, one)) == NULL) {
			dash = len > 0;
			continue;
		}
		if (len == 0 && (*t == '.' || *t == '_'))
			continue;
		if (dash) {
			out[len++] = '-';
			dash = 0;
		}
		for (; *t != '\0' && len < max + 1; t++)
			out[len++] = *t;
	}
	if (len > max) {
		/* cut at a '-' in the last third, else hard at max */
		cut = max;
		for (k = max; k > max * 2 / 3; k--)
			if (out[k] == '-') {
				cut = k;
				break;
			}
		len = cut;
	}
	while (len > 0 && (out[len - 1] == '-' || out[len - 1] == '.' ||
	    out[len - 1] == '_'))
		len--;
	out[len] = '\0';
	return len;
}

/* A DOI without its resolver or scheme prefix. */
static const char *
doi_bare(const char *d)
{
	static const char *const pfx[] = {
		"https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
		"http://dx.doi.org/", "doi.org/", "doi:", "DOI:", "doi: ",
	};
	size_t	 i, n;

	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		n = strlen(pfx[i]);
		if (strncasecmp(d, pfx[i], n) == 0)
			return d + n;
	}
	return d;
}

int
import_item_id(const struct import_item *it, char out[IMPORT_ID_MAX + 1])
{
	size_t	 n;

	if (it->key != NULL && import_slug(it->key, out, IMPORT_ID_MAX) > 0)
		return 0;
	if (it->doi != NULL) {
		memcpy(out, "doi-", 4);
		if (import_slug(doi_bare(it->doi), out + 4,
		    IMPORT_ID_MAX - 4) > 0)
			return 0;
	}
	if (it->titles.n == 0)
		return -1;
	n = 0;
	if (it->issued != NULL && digits(it->issued, 4)) {
		memcpy(out, it->issued, 4);
		out[4] = '-';
		n = 5;
	}
	if (import_slug(it->titles.v[0].text, out + n, IMPORT_TITLE_SLUG) == 0)
		return -1;
	return 0;
}

/* ---- the record ----------------------------------------------------- */

/* ISO 639-2 and English names of the languages most seen, to ISO 639-1. */
static const struct {
	const char	*from, *to;
} lang_map[] = {
	{ "eng", "en" }, { "english", "en" }, { "bul", "bg" },
	{ "bulgarian", "bg" }, { "nor", "no" }, { "norwegian", "no" },
	{ "nob", "nb" }, { "bokmål", "nb" }, { "norwegian bokmål", "nb" },
	{ "nno", "nn" }, { "nynorsk", "nn" }, { "norwegian nynorsk", "nn" },
	{ "ger", "de" }, { "deu", "de" }, { "german", "de" },
	{ "fre", "fr" }, { "fra", "fr" }, { "french", "fr" },
	{ "rus", "ru" }, { "russian", "ru" }, { "swe", "sv" },
	{ "swedish", "sv" }, { "dan", "da" }, { "danish", "da" },
	{ "ser", "sr" }, { "srp", "sr" }, { "serbian", "sr" },
	{ "mac", "mk" }, { "mkd", "mk" }, { "macedonian", "mk" },
	{ "rum", "ro" }, { "ron", "ro" }, { "romanian", "ro" },
	{ "gre", "el" }, { "ell", "el" }, { "greek", "el" },
	{ "tur", "tr" }, { "turkish", "tr" }, { "spa", "es" },
	{ "spanish", "es" }, { "ita", "it" }, { "italian", "it" },
};

/*
 * The language as the record wants it: a listed name or ISO 639-2 code
 * mapped, else the primary subtag of a tag ("en-GB" -> "en"), lower case.
 * The record parser judges what is left.
 */
static void
lang_code(const char *s, char out[16])
{
	size_t	 i, n;

	for (i = 0; i < sizeof(lang_map) / sizeof(lang_map[0]); i++)
		if (strcasecmp(s, lang_map[i].from) == 0) {
			snprintf(out, 16, "%s", lang_map[i].to);
			return;
		}
	n = strcspn(s, "-_");
	if (n > 15)
		n = 15;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
}

static void
write_agent(struct xw *w, const struct import_agent *a)
{
	if (a->org != NULL) {
		xw_elem(w, "organisation", a->org);
		return;
	}
	xw_start(w, "person");
	xw_elem(w, "family", a->family);
	xw_elem(w, "given", a->given);
	xw_end(w);
}

static void
write_texts(struct xw *w, const char *name, const struct import_texts *t)
{
	char	 l[16];
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].lang != NULL)
			lang_code(t->v[i].lang, l);
		xw_elem_lang(w, name, t->v[i].lang != NULL ? l : NULL,
		    t->v[i].text);
	}
}

/*
 * A date as the record takes it; when pad, a year or year-month becomes
 * its first day.  *partial says whether it was one.
 */
static int
fmt_date(const char *what, const char *s, int pad, char out[64],
    int *partial, struct err *e)
{
	size_t	 n = strlen(s);

	if (n >= 64)
		return err_set(e, "%s is not a date: '%s'", what, s);
	if (n == 4 || n == 7) {
		*partial = 1;
		if (pad)
			snprintf(out, 64, "%s%s", s, n == 4 ? "-01-01" : "-01");
		else
			snprintf(out, 64, "%s", s);
		return 0;
	}
	snprintf(out, 64, "%s", s);
	return 0;
}

int
import_render(const struct import_item *it, const char *id, int pad,
    struct buf *out, int *partial, struct err *e)
{
	struct xw	 w;
	enum record_type t;
	char		 issued[64], start[64], end[64], l[16];
	const char	*d;
	size_t		 i, j;
	int		 is_event;

	*partial = 0;
	if (it->type == NULL)
		return err_set(e, "no type");
	if (record_type_parse(it->type, &t) == -1)
		return err_set(e, "type is not a record type: '%s'", it->type);
	is_event = t == RECORD_EVENT;
	if (it->titles.n == 0)
		return err_set(e, "no title");
	if (it->languages.n == 0 && it->lang == NULL)
		return err_set(e, "no language: say which language the item "
		    "is in");
	d = it->issued != NULL ? it->issued : is_event ? it->event_start :
	    NULL;
	if (d == NULL)
		return err_set(e, "no date of publication");
	if (fmt_date("issued", d, pad, issued, partial, e) == -1)
		return -1;
	if (is_event) {
		if (it->event_start == NULL && it->issued == NULL)
			return err_set(e, "event without a start date");
		if (it->event_place == NULL && it->place == NULL)
			return err_set(e, "event without a place");
		if (fmt_date("event start", it->event_start != NULL ?
		    it->event_start : it->issued, pad, start, partial, e) == -1)
			return -1;
		end[0] = '\0';
		if (it->event_end != NULL && fmt_date("event end",
		    it->event_end, pad, end, partial, e) == -1)
			return -1;
	}

	if (xw_open(&w, out, 1, 1) == -1)
		return err_set(e, "out of memory");
	xw_start_ns(&w, NULL, "record", RECORD_NS);
	xw_attr(&w, "id", id);
	xw_attr(&w, "type", record_type_name(t));
	if (it->lang != NULL) {
		lang_code(it->lang, l);
		xw_attr(&w, "xml:lang", l);
	}
	write_texts(&w, "title", &it->titles);
	write_texts(&w, "subtitle", &it->subtitles);
	for (i = 0; i < it->authors.n; i++) {
		xw_start(&w, "creator");
		write_agent(&w, &it->authors.v[i]);
		xw_end(&w);
	}
	for (i = 0; i < it->editors.n; i++) {
		xw_start(&w, "contributor");
		xw_attr(&w, "role", "editor");
		write_agent(&w, &it->editors.v[i]);
		xw_end(&w);
	}
	xw_elem(&w, "issued", issued);
	if (is_event) {
		xw_start(&w, "event");
		xw_elem(&w, "start", start);
		xw_elem(&w, "end", end[0] != '\0' ? end : NULL);
		xw_elem(&w, "place", it->event_place != NULL ?
		    it->event_place : it->place);
		xw_end(&w);
	}
	if (it->languages.n == 0) {
		lang_code(it->lang, l);
		xw_elem(&w, "language", l);
	}
	for (i = 0; i < it->languages.n; i++) {
		char	 prev[16];

		lang_code(it->languages.v[i], l);
		for (j = 0; j < i; j++) {
			lang_code(it->languages.v[j], prev);
			if (strcmp(prev, l) == 0)
				break;
		}
		if (j == i)
			xw_elem(&w, "language", l);
	}
	write_texts(&w, "subject", &it->subjects);
	write_texts(&w, "abstract", &it->abstracts);
	xw_elem(&w, "publisher", it->publisher);
	if (!is_event || it->event_place != NULL)
		xw_elem(&w, "place", it->place);
	xw_elem(&w, "series", it->series);
	for (i = 0; i < it->isbns.n; i++) {
		xw_start(&w, "identifier");
		xw_attr(&w, "type", "isbn");
		xw_text(&w, it->isbns.v[i]);
		xw_end(&w);
	}
	for (i = 0; i < it->issns.n; i++) {
		xw_start(&w, "identifier");
		xw_attr(&w, "type", "issn");
		xw_text(&w, it->issns.v[i]);
		xw_end(&w);
	}
	if (it->doi != NULL) {
		xw_start(&w, "identifier");
		xw_attr(&w, "type", "doi");
		xw_text(&w, doi_bare(it->doi));
		xw_end(&w);
	}
	if (it->url != NULL) {
		xw_start(&w, "link");
		xw_attr(&w, "rel", "landing");
		xw_attr(&w, "href", it->url);
		xw_end(&w);
	}
	for (i = 0; i < it->sets.n; i++)
		xw_elem(&w, "set", it->sets.v[i]);
	xw_end(&w);
	if (xw_close(&w) == -1)
		return err_set(e, "record too large or out of memory");
	return 0;
}

/* ---- the command ---------------------------------------------------- */

struct run {
	const struct import_opts *o;
	struct record_schema	*schema;
	const char		*path;	/* the input file */
	struct strmap		 ids;	/* id -> index in where */
	char			**where;	/* "FILE:N" of each id */
	size_t			 nwhere, cwhere;
	size_t			 nitems, nwritten, nsame, nfailed;
};

static int
item_fail(struct run *r, long pos, const char *msg)
{
	fprintf(stderr, "%s:%ld: %s\n", r->path, pos, msg);
	r->nfailed++;
	return 0;
}

/* 1 when path holds exactly data, 0 when it differs, -1 when absent. */
static int
same_file(const char *path, const struct buf *data)
{
	struct err	 e;
	char		*old;
	size_t		 len;
	int		 rc;

	if (access(path, F_OK) == -1 && errno == ENOENT)
		return -1;
	err_init(&e);
	/* unreadable or too large: it exists, and it is not ours to replace */
	if (fileio_read_file(path, RECORD_MAX_BYTES, &old, &len, &e) == -1) {
		err_release(&e);
		return 0;
	}
	rc = len == data->len && memcmp(old, data->data, len) == 0;
	free(old);
	err_release(&e);
	return rc;
}

/* Render, and ask the record parser whether exactly these bytes pass. */
static int
render_checked(struct run *r, const struct import_item *it, const char *id,
    const char *file, struct buf *out, int *padded, struct err *e)
{
	struct record	*rec;
	int		 partial, pad;

	*padded = 0;
	for (pad = 0; pad < 2; pad++) {
		buf_reset(out);
		err_clear(e);
		if (import_render(it, id, pad, out, &partial, e) == -1)
			return -1;
		rec = record_parse_mem(r->schema, out->data, out->len, file, 0,
		    e);
		if (rec != NULL) {
			record_unref(rec);
			*padded = pad;
			return 0;
		}
		/* a year or a month the format refuses: try its first day */
		if (!partial)
			break;
	}
	return -1;
}

/*
 * The record parser's message without its "FILE:LINE:COL: " (the file was
 * never written, so its lines mean nothing to the editor).
 */
static const char *
strip_loc(const char *msg, const char *file)
{
	size_t		 n = strlen(file);
	const char	*p;
	int		 i;

	if (strncmp(msg, file, n) != 0 || msg[n] != ':')
		return msg;
	p = msg + n;
	for (i = 0; i < 2 && p[0] == ':' && isdigit((unsigned char)p[1]); i++)
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (p[0] == ':' && p[1] == ' ')
		return p + 2;
	return msg;
}

static int
on_item(void *arg, struct import_item *it, long pos, const char *why)
{
	struct run		*r = arg;
	struct strmap_ent	*ent;
	struct buf		 out;
	struct err		 e;
	char			 id[IMPORT_ID_MAX + 1], file[FILEIO_PATH_MAX];
	char			*w, *nl;
	size_t			 idlen, wlen;
	int			 n, padded, same;

	r->nitems++;
	if (it == NULL)
		return item_fail(r, pos, why);
	if (import_item_id(it, id) == -1)
		return item_fail(r, pos, "no citation key, DOI or title to "
		    "make an id from");
	if ((ent = strmap_find_str(&r->ids, id)) != NULL) {
		char	 msg[FILEIO_PATH_MAX + 256];

		snprintf(msg, sizeof(msg), "id '%s' is also the id of the item "
		    "at %s: give one of them its own citation key", id,
		    r->where[ent->val] + strlen(r->where[ent->val]) + 1);
		return item_fail(r, pos, msg);
	}
	n = snprintf(file, sizeof(file), "%s/%s.xml", r->o->dir, id);
	if (n < 0 || (size_t)n >= sizeof(file))
		return item_fail(r, pos, "records directory path too long");
	/* one block: the id (the map's key), NUL, "FILE:N" */
	idlen = strlen(id);
	wlen = idlen + 1 + strlen(r->path) + 32;
	if (vec_grow((void **)&r->where, &r->cwhere, r->nwhere + 1,
	    sizeof(*r->where)) == -1 || (w = malloc(wlen)) == NULL)
		return -1;
	memcpy(w, id, idlen + 1);
	snprintf(w + idlen + 1, wlen - idlen - 1, "%s:%ld", r->path, pos);
	if (strmap_put_str(&r->ids, w, r->nwhere) == NULL) {
		free(w);
		return -1;
	}
	r->where[r->nwhere++] = w;

	buf_init(&out, RECORD_MAX_BYTES);
	err_init(&e);
	if (render_checked(r, it, id, file, &out, &padded, &e) == -1) {
		char	 msg[ERR_MSG_MAX + 64];

		if ((nl = strchr(e.msg, '\n')) != NULL)
			*nl = '\0';
		snprintf(msg, sizeof(msg), "%s", strip_loc(e.msg, file));
		item_fail(r, pos, msg);
		goto out;
	}
	same = same_file(file, &out);
	if (same == 1) {
		r->nsame++;
		printf("%s: unchanged\n", file);
		goto out;
	}
	if (same == 0 && !r->o->is_update) {
		char	 msg[FILEIO_PATH_MAX + 128];

		snprintf(msg, sizeof(msg), "%s exists: not replaced (use "
		    "--update to replace it)", file);
		item_fail(r, pos, msg);
		goto out;
	}
	if (fileio_write_file(file, out.data, out.len, 0644, &e) == -1) {
		item_fail(r, pos, e.msg);
		goto out;
	}
	r->nwritten++;
	printf("%s: %s\n", file, same == 0 ? "updated" : "created");
	if (padded)
		fprintf(stderr, "%s:%ld: warning: the date has no day; "
		    "written as the first day of the period\n", r->path, pos);
out:
	err_release(&e);
	buf_release(&out);
	return 0;
}

int
import_run(const struct import_opts *o)
{
	struct run	 r;
	struct err	 e;
	char		*data;
	size_t		 len, i;
	int		 rc, nbad = 0;

	memset(&r, 0, sizeof(r));
	r.o = o;
	strmap_init(&r.ids);
	err_init(&e);
	if ((r.schema = record_schema_new(&e)) == NULL ||
	    fileio_mkdirs(o->dir, &e) == -1) {
		fprintf(stderr, "pubfeed: %s\n", e.msg);
		nbad++;
		goto out;
	}
	for (i = 0; i < o->nfiles; i++) {
		r.path = o->files[i];
		err_clear(&e);
		if (fileio_read_file(r.path, IMPORT_MAX_BYTES, &data, &len,
		    &e) == -1) {
			fprintf(stderr, "%s\n", e.msg);
			nbad++;
			continue;
		}
		if (strcmp(o->from, "csl-json") == 0)
			rc = import_csl_parse(data, len, on_item, &r, &e);
		else if (strcmp(o->from, "ris") == 0)
			rc = import_ris_parse(data, len, on_item, &r, &e);
		else
			rc = import_csv_parse(data, len, on_item, &r, &e);
		free(data);
		if (rc == -1) {
			fprintf(stderr, "%s:%s\n", r.path, e.msg[0] == '\0' ?
			    " out of memory" : e.msg);
			nbad++;
		}
	}
	fprintf(stderr, "%zu item%s: %zu written, %zu unchanged, %zu "
	    "failed%s\n", r.nitems, r.nitems == 1 ? "" : "s", r.nwritten,
	    r.nsame, r.nfailed, nbad > 0 ? "; some files not read" : "");
out:
	for (i = 0; i < r.nwhere; i++)
		free(r.where[i]);
	free(r.where);
	strmap_release(&r.ids);
	record_schema_free(r.schema);
	err_release(&e);
	return nbad > 0 || r.nfailed > 0 ? 1 : 0;
}
