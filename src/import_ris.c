/*
 * import_ris: RIS (EndNote, Zotero, Citavi, Google Scholar).  Each line is
 * "TG  - value": a two-character tag, spaces, a hyphen; a reference runs
 * from TY to ER.  A line that is not a tag continues the value before it
 * (long abstracts are wrapped that way).  The position of an item is the
 * line of its TY.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "banned.h"

static const struct {
	const char	*ris, *type;
} types[] = {
	{ "RPRT", "report" }, { "GEN", "report" }, { "GOVDOC", "report" },
	{ "JOUR", "article" }, { "JFULL", "article" }, { "EJOUR", "article" },
	{ "MGZN", "article" }, { "NEWS", "article" }, { "CPAPER", "article" },
	{ "CHAP", "chapter" }, { "ECHAP", "chapter" }, { "ENCYC", "chapter" },
	{ "BOOK", "book" }, { "EBOOK", "book" }, { "EDBOOK", "book" },
	{ "CONF", "event" }, { "SLIDE", "presentation" },
	{ "DATA", "dataset" }, { "DBASE", "dataset" },
	{ "UNPB", "working-paper" }, { "MANSCPT", "working-paper" },
	{ "PAMP", "policy-brief" }, { "BLOG", "news" }, { "ELEC", "news" },
	{ "WEB", "news" },
};

/* M3, "type of work", refines a report. */
static const struct {
	const char	*work, *type;
} works[] = {
	{ "policy brief", "policy-brief" }, { "working paper", "working-paper" },
};

/* One reference being read: its tags' values as they come. */
struct ref {
	struct import_item	 it;
	long			 line;		/* of TY */
	char			*ty;
	char			*title, *t2, *t3, *jo, *py, *da, *m3, *cy;
	char			**last;		/* value a continuation extends */
	const char		*why;		/* first problem, or NULL */
	int			 open;
};

static void
ref_release(struct ref *r)
{
	import_item_release(&r->it);
	free(r->ty);
	free(r->title);
	free(r->t2);
	free(r->t3);
	free(r->jo);
	free(r->py);
	free(r->da);
	free(r->m3);
	free(r->cy);
	memset(r, 0, sizeof(*r));
}

/* Append " text" to *dst (a wrapped value). */
static int
extend(char **dst, const char *s, size_t len)
{
	char	*v;
	size_t	 n;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || *dst == NULL)
		return 0;
	n = strlen(*dst);
	if ((v = realloc(*dst, n + 1 + len + 1)) == NULL)
		return -1;
	v[n] = ' ';
	memcpy(v + n + 1, s, len);
	v[n + 1 + len] = '\0';
	*dst = v;
	return 0;
}

/* "1234-5678" (an ISSN) or anything else (an ISBN). */
static int
is_issn(const char *s)
{
	size_t	 i, n = 0;

	for (i = 0; s[i] != '\0'; i++)
		if (isdigit((unsigned char)s[i]) || s[i] == 'X' || s[i] == 'x')
			n++;
		else if (s[i] != '-' && s[i] != ' ')
			return 0;
	return n == 8;
}

static int
add_sn(struct import_item *it, const char *v, size_t len)
{
	struct import_strs	 s;
	size_t			 i;
	int			 rc = 0;

	memset(&s, 0, sizeof(s));
	if (import_strs_split(&s, v, len, ';') == -1)
		rc = -1;
	for (i = 0; i < s.n; i++) {
		if (rc == 0 && import_strs_add(is_issn(s.v[i]) ? &it->issns :
		    &it->isbns, s.v[i], (size_t)-1) == -1)
			rc = -1;
		free(s.v[i]);
	}
	free(s.v);
	return rc;
}

/* One tag of the open reference. */
static int
tag(struct ref *r, const char *t, const char *v, size_t len)
{
	struct import_item	*it = &r->it;
	char			**dst = NULL;

	r->last = NULL;
	if (strcmp(t, "ID") == 0)
		dst = &it->key;
	else if (strcmp(t, "TI") == 0 || strcmp(t, "T1") == 0)
		dst = &r->title;
	else if (strcmp(t, "T2") == 0 || strcmp(t, "BT") == 0)
		dst = &r->t2;
	else if (strcmp(t, "T3") == 0)
		dst = &r->t3;
	else if (strcmp(t, "JO") == 0 || strcmp(t, "JF") == 0 ||
	    strcmp(t, "JA") == 0)
		dst = &r->jo;
	else if (strcmp(t, "PY") == 0 || strcmp(t, "Y1") == 0)
		dst = &r->py;
	else if (strcmp(t, "DA") == 0)
		dst = &r->da;
	else if (strcmp(t, "M3") == 0)
		dst = &r->m3;
	else if (strcmp(t, "CY") == 0 || strcmp(t, "PP") == 0)
		dst = &r->cy;
	else if (strcmp(t, "PB") == 0)
		dst = &it->publisher;
	else if (strcmp(t, "DO") == 0)
		dst = &it->doi;
	else if (strcmp(t, "LA") == 0)
		dst = &it->lang;
	else if (strcmp(t, "UR") == 0 || strcmp(t, "L2") == 0) {
		if (len >= 4 && strncmp(v, "http", 4) == 0)
			dst = &it->url;
	} else if (strcmp(t, "AU") == 0 || strcmp(t, "A1") == 0)
		return import_agents_add_name(&it->authors, v, len);
	else if (strcmp(t, "A2") == 0 || strcmp(t, "ED") == 0)
		return import_agents_add_name(&it->editors, v, len);
	else if (strcmp(t, "KW") == 0)
		return import_texts_split(&it->subjects, NULL, v, len, ';');
	else if (strcmp(t, "AB") == 0 || strcmp(t, "N2") == 0) {
		if (it->abstracts.n > 0)
			return 0;
		if (import_texts_add(&it->abstracts, NULL, v, len) == -1)
			return -1;
		if (it->abstracts.n > 0)
			r->last = &it->abstracts.v[0].text;
		return 0;
	} else if (strcmp(t, "SN") == 0)
		return add_sn(it, v, len);
	if (dst == NULL)
		return 0;
	if (import_set(dst, v, len) == -1)
		return -1;
	r->last = dst;
	return 0;
}

/* The reference is complete: map what it said onto the item. */
static int
finish(struct ref *r)
{
	struct import_item	*it = &r->it;
	char			*d;
	size_t			 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(r->ty, types[i].ris) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		r->why = "TY is not a reference type pubfeed can map to a "
		    "record type";
		return 0;
	}
	if (import_set(&it->type, types[i].type, (size_t)-1) == -1)
		return -1;
	if (r->m3 != NULL)
		for (i = 0; i < sizeof(works) / sizeof(works[0]); i++)
			if (strcasecmp(r->m3, works[i].work) == 0) {
				free(it->type);
				if ((it->type = strdup(works[i].type)) == NULL)
					return -1;
			}
	if (import_texts_add(&it->titles, NULL, r->title, (size_t)-1) == -1)
		return -1;
	if (it->lang != NULL &&
	    import_strs_add(&it->languages, it->lang, (size_t)-1) == -1)
		return -1;
	/* the series, else the journal, else the book or conference */
	it->series = r->t3 != NULL ? r->t3 : r->jo != NULL ? r->jo :
	    strcmp(it->type, "event") != 0 ? r->t2 : NULL;
	if (it->series == r->t3)
		r->t3 = NULL;
	else if (it->series == r->jo)
		r->jo = NULL;
	else
		r->t2 = NULL;
	if (strcmp(it->type, "event") == 0) {
		it->event_place = r->cy;
		r->cy = NULL;
	} else {
		it->place = r->cy;
		r->cy = NULL;
	}
	/* DA is the full date when there is one; PY often the year alone */
	d = NULL;
	if (r->da != NULL && (d = import_date_iso(r->da, (size_t)-1)) == NULL &&
	    r->py == NULL) {
		r->why = "DA is not a date (YYYY/MM/DD)";
		return 0;
	}
	if (d == NULL && r->py != NULL &&
	    (d = import_date_iso(r->py, (size_t)-1)) == NULL) {
		r->why = "PY is not a year or a date (YYYY or YYYY/MM/DD)";
		return 0;
	}
	it->issued = d;
	if (strcmp(it->type, "event") == 0 && d != NULL &&
	    (it->event_start = strdup(d)) == NULL)
		return -1;
	return 0;
}

int
import_ris_parse(const char *buf, size_t len, import_item_fn *fn, void *arg,
    struct err *e)
{
	struct ref	 r;
	const char	*p = buf, *end = buf + len, *nl, *v;
	char		 t[3];
	size_t		 n, k;
	long		 line = 0, stray = 0;
	int		 rc = -1;

	memset(&r, 0, sizeof(r));
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		/* "TG  - value": tag, at least one space, '-' */
		k = 2;
		while (k < n && p[k] == ' ')
			k++;
		if (n >= 2 && isupper((unsigned char)p[0]) &&
		    isalnum((unsigned char)p[1]) && k > 2 && k < n &&
		    p[k] == '-' && (k + 1 == n || p[k + 1] == ' ')) {
			t[0] = p[0];
			t[1] = p[1];
			t[2] = '\0';
			v = p + k + 1;
			n -= k + 1;
		} else {
			if (r.open && r.last != NULL) {
				if (extend(r.last, p, n) == -1)
					goto oom;
			} else if (!r.open && stray == 0) {
				for (k = 0; k < n && isspace((unsigned char)
				    p[k]); k++)
					;
				if (k < n) {
					stray = line;
					if (fn(arg, NULL, line, "text outside a "
					    "reference (a reference starts "
					    "with 'TY  - ')") == -1)
						goto oom;
				}
			}
			continue;
		}
		if (strcmp(t, "TY") == 0) {
			if (r.open) {
				if (fn(arg, NULL, r.line, "reference not "
				    "closed by 'ER  -'") == -1)
					goto oom;
				ref_release(&r);
			}
			memset(&r, 0, sizeof(r));
			r.open = 1;
			r.line = line;
			stray = 0;
			if (import_set(&r.ty, v, n) == -1)
				goto oom;
			if (r.ty == NULL)
				r.why = "TY has no reference type";
			continue;
		}
		if (!r.open) {
			if (stray == 0) {
				stray = line;
				if (fn(arg, NULL, line, "tag outside a "
				    "reference (a reference starts with "
				    "'TY  - ')") == -1)
					goto oom;
			}
			continue;
		}
		if (strcmp(t, "ER") == 0) {
			if (r.why == NULL && finish(&r) == -1)
				goto oom;
			if (fn(arg, r.why == NULL ? &r.it : NULL, r.line,
			    r.why) == -1)
				goto oom;
			ref_release(&r);
			continue;
		}
		if (tag(&r, t, v, n) == -1)
			goto oom;
	}
	if (r.open && fn(arg, NULL, r.line, "reference not closed by "
	    "'ER  -' (is the file cut short?)") == -1)
		goto oom;
	rc = 0;
	goto out;
oom:
	err_set(e, "%ld: out of memory", line);
out:
	ref_release(&r);
	return rc;
}
