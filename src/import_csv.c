/*
 * import_csv: a spreadsheet saved as CSV (RFC 4180: comma-separated, fields
 * with commas, quotes or line breaks in double quotes), read with libcsv.
 * Quoting is strict (a row with a stray '"' is reported and skipped).
 * The first row names the columns (README.md, "Importing"); lists inside a
 * cell are separated by ';'; "title@bg" is the title in Bulgarian.  The
 * position of an item is the line its row starts on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "import.h"
#include "vec.h"
#include "banned.h"

enum col {
	COL_NONE,	/* an empty header cell: the column is ignored */
	COL_ID, COL_TYPE, COL_TITLE, COL_SUBTITLE, COL_AUTHORS, COL_EDITORS,
	COL_ISSUED, COL_LANGUAGE, COL_SUBJECTS, COL_ABSTRACT, COL_PUBLISHER,
	COL_PLACE, COL_SERIES, COL_DOI, COL_ISBN, COL_ISSN, COL_URL,
	COL_EVENT_START, COL_EVENT_END, COL_EVENT_PLACE, COL_SETS,
};

static const struct {
	const char	*name;
	enum col	 col;
	int		 has_lang;	/* takes "@LANG" */
} cols[] = {
	{ "id", COL_ID, 0 }, { "type", COL_TYPE, 0 },
	{ "title", COL_TITLE, 1 }, { "subtitle", COL_SUBTITLE, 1 },
	{ "authors", COL_AUTHORS, 0 }, { "editors", COL_EDITORS, 0 },
	{ "issued", COL_ISSUED, 0 }, { "language", COL_LANGUAGE, 0 },
	{ "subjects", COL_SUBJECTS, 1 }, { "abstract", COL_ABSTRACT, 1 },
	{ "publisher", COL_PUBLISHER, 0 }, { "place", COL_PLACE, 0 },
	{ "series", COL_SERIES, 0 }, { "doi", COL_DOI, 0 },
	{ "isbn", COL_ISBN, 0 }, { "issn", COL_ISSN, 0 }, { "url", COL_URL, 0 },
	{ "event-start", COL_EVENT_START, 0 },
	{ "event-end", COL_EVENT_END, 0 },
	{ "event-place", COL_EVENT_PLACE, 0 }, { "sets", COL_SETS, 0 },
};

struct hdr {
	enum col	 col;
	char		*lang;		/* "bg" of "title@bg", or NULL */
};

struct field {
	char	*s;
	size_t	 len;
};

struct csvr {
	import_item_fn	*fn;
	void		*arg;
	struct err	*e;
	struct hdr	*hdr;
	size_t		 nhdr, chdr;
	int		 have_hdr;
	struct field	*f;		/* the row being read */
	size_t		 nf, cf;
	long		 line;		/* physical line being fed */
	long		 row_line;	/* the line the current row began on */
	int		 row_pending;	/* next line fed starts a row */
	int		 failed;	/* stop: oom, bad header, fn said so */
};

static void
on_field(void *s, size_t len, void *arg)
{
	struct csvr	*c = arg;
	char		*v;

	if (c->failed)
		return;
	if (vec_grow((void **)&c->f, &c->cf, c->nf + 1, sizeof(*c->f)) == -1 ||
	    (v = malloc(len + 1)) == NULL) {
		err_set(c->e, "%ld: out of memory", c->row_line);
		c->failed = 1;
		return;
	}
	if (len > 0)
		memcpy(v, s, len);
	v[len] = '\0';
	c->f[c->nf].s = v;
	c->f[c->nf].len = len;
	c->nf++;
}

static void
row_clear(struct csvr *c)
{
	size_t	 i;

	for (i = 0; i < c->nf; i++)
		free(c->f[i].s);
	c->nf = 0;
}

/* The header row: every column known, none twice. */
static int
header(struct csvr *c)
{
	char	 name[64], *at;
	size_t	 i, j, n;

	for (i = 0; i < c->nf; i++) {
		const char	*s = c->f[i].s;

		/* a spreadsheet's UTF-8 byte order mark */
		if (i == 0 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		while (isspace((unsigned char)*s))
			s++;
		n = strlen(s);
		while (n > 0 && isspace((unsigned char)s[n - 1]))
			n--;
		if (vec_grow((void **)&c->hdr, &c->chdr, c->nhdr + 1,
		    sizeof(*c->hdr)) == -1)
			return err_set(c->e, "1: out of memory");
		c->hdr[c->nhdr].col = COL_NONE;
		c->hdr[c->nhdr].lang = NULL;
		c->nhdr++;
		if (n == 0)
			continue;
		if (n >= sizeof(name))
			return err_set(c->e, "%ld: column %zu: unknown column "
			    "'%.40s...'", c->row_line, i + 1, s);
		for (j = 0; j < n; j++)
			name[j] = (char)tolower((unsigned char)s[j]);
		name[n] = '\0';
		if ((at = strchr(name, '@')) != NULL)
			*at++ = '\0';
		for (j = 0; j < sizeof(cols) / sizeof(cols[0]); j++)
			if (strcmp(name, cols[j].name) == 0)
				break;
		if (j == sizeof(cols) / sizeof(cols[0]))
			return err_set(c->e, "%ld: column %zu: unknown column "
			    "'%s' (see README.md, \"Importing\", for the "
			    "columns)", c->row_line, i + 1, name);
		if (at != NULL && (!cols[j].has_lang || *at == '\0'))
			return err_set(c->e, "%ld: column %zu: '%s' does not "
			    "take a language (only title, subtitle, subjects "
			    "and abstract do)", c->row_line, i + 1, name);
		c->hdr[c->nhdr - 1].col = cols[j].col;
		if (at != NULL && (c->hdr[c->nhdr - 1].lang = strdup(at)) ==
		    NULL)
			return err_set(c->e, "1: out of memory");
		for (n = 0; n + 1 < c->nhdr; n++)
			if (c->hdr[n].col == cols[j].col && (c->hdr[n].lang ==
			    NULL ? at == NULL : at != NULL &&
			    strcmp(c->hdr[n].lang, at) == 0))
				return err_set(c->e, "%ld: column %zu: '%s' "
				    "appears twice", c->row_line, i + 1,
				    c->f[i].s);
	}
	c->have_hdr = 1;
	return 0;
}

/* A date cell; *why set when it is not one. */
static int
cell_date(char **dst, const struct field *f, const char *what,
    const char **why)
{
	char	*d;

	if (f->len == 0 || strspn(f->s, " \t") == f->len)
		return 0;
	if ((d = import_date_iso(f->s, f->len)) == NULL) {
		*why = what;
		return 0;
	}
	free(*dst);
	*dst = d;
	return 0;
}

/* Fill the item from one row; -1 out of memory, *why for a bad cell. */
static int
convert(struct csvr *c, struct import_item *it, const char **why)
{
	const struct field	*f;
	const char		*l;
	size_t			 i;
	int			 pass, rc = 0;

	/* columns without a language first: "title" is the main title */
	for (pass = 0; pass < 2; pass++)
	for (i = 0; i < c->nf && i < c->nhdr && rc == 0; i++) {
		f = &c->f[i];
		l = c->hdr[i].lang;
		if ((l != NULL) != pass)
			continue;
		switch (c->hdr[i].col) {
		case COL_NONE:
			break;
		case COL_ID:
			rc = import_set(&it->key, f->s, f->len);
			break;
		case COL_TYPE:
			rc = import_set(&it->type, f->s, f->len);
			break;
		case COL_TITLE:
			rc = import_texts_add(&it->titles, l, f->s, f->len);
			break;
		case COL_SUBTITLE:
			rc = import_texts_add(&it->subtitles, l, f->s, f->len);
			break;
		case COL_AUTHORS:
		case COL_EDITORS: {
			struct import_strs	 s;
			size_t			 j;

			memset(&s, 0, sizeof(s));
			rc = import_strs_split(&s, f->s, f->len, ';');
			for (j = 0; j < s.n; j++) {
				if (rc == 0)
					rc = import_agents_add_name(
					    c->hdr[i].col == COL_AUTHORS ?
					    &it->authors : &it->editors,
					    s.v[j], (size_t)-1);
				free(s.v[j]);
			}
			free(s.v);
			break;
		}
		case COL_ISSUED:
			rc = cell_date(&it->issued, f, "issued is not a date "
			    "(YYYY-MM-DD, YYYY-MM or YYYY)", why);
			break;
		case COL_LANGUAGE:
			rc = import_strs_split(&it->languages, f->s, f->len,
			    ';');
			if (rc == 0 && it->lang == NULL && it->languages.n > 0)
				rc = import_set(&it->lang, it->languages.v[0],
				    (size_t)-1);
			break;
		case COL_SUBJECTS:
			rc = import_texts_split(&it->subjects, l, f->s, f->len,
			    ';');
			break;
		case COL_ABSTRACT:
			rc = import_texts_add(&it->abstracts, l, f->s, f->len);
			break;
		case COL_PUBLISHER:
			rc = import_set(&it->publisher, f->s, f->len);
			break;
		case COL_PLACE:
			rc = import_set(&it->place, f->s, f->len);
			break;
		case COL_SERIES:
			rc = import_set(&it->series, f->s, f->len);
			break;
		case COL_DOI:
			rc = import_set(&it->doi, f->s, f->len);
			break;
		case COL_ISBN:
			rc = import_strs_split(&it->isbns, f->s, f->len, ';');
			break;
		case COL_ISSN:
			rc = import_strs_split(&it->issns, f->s, f->len, ';');
			break;
		case COL_URL:
			rc = import_set(&it->url, f->s, f->len);
			break;
		case COL_EVENT_START:
			rc = cell_date(&it->event_start, f, "event-start is "
			    "not a date or a date-time", why);
			break;
		case COL_EVENT_END:
			rc = cell_date(&it->event_end, f, "event-end is not "
			    "a date or a date-time", why);
			break;
		case COL_EVENT_PLACE:
			rc = import_set(&it->event_place, f->s, f->len);
			break;
		case COL_SETS:
			rc = import_strs_split(&it->sets, f->s, f->len, ';');
			break;
		}
	}
	return rc;
}

static void
on_row(int term, void *arg)
{
	struct csvr		*c = arg;
	struct import_item	 it;
	const char		*why = NULL;
	size_t			 i;
	char			 msg[128];

	if (c->failed)
		goto out;
	if (!c->have_hdr) {
		if (header(c) == -1)
			c->failed = 1;
		goto out;
	}
	for (i = 0; i < c->nf; i++)
		if (strspn(c->f[i].s, " \t") != c->f[i].len)
			break;
	if (i == c->nf)		/* a row of empty cells */
		goto out;
	import_item_init(&it);
	/* a spreadsheet pads rows with empty cells: only text beyond counts */
	for (i = c->nhdr; i < c->nf; i++)
		if (strspn(c->f[i].s, " \t") != c->f[i].len)
			break;
	if (i < c->nf) {
		snprintf(msg, sizeof(msg), "row has %zu cells, the header "
		    "%zu (a comma in an unquoted cell?)", c->nf, c->nhdr);
		why = msg;
	} else if (convert(c, &it, &why) == -1) {
		err_set(c->e, "%ld: out of memory", c->row_line);
		c->failed = 1;
		import_item_release(&it);
		goto out;
	}
	if (c->fn(c->arg, why == NULL ? &it : NULL, c->row_line, why) == -1) {
		err_set(c->e, "%ld: out of memory", c->row_line);
		c->failed = 1;
	}
	import_item_release(&it);
out:
	row_clear(c);
	c->row_pending = 1;
}

int
import_csv_parse(const char *buf, size_t len, import_item_fn *fn, void *arg,
    struct err *e)
{
	struct csv_parser	 p;
	struct csvr		 c;
	const char		*s = buf, *end = buf + len, *nl;
	size_t			 i, n;
	int			 rc = -1;

	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.arg = arg;
	c.e = e;
	c.row_pending = 1;
	if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0)
		return err_set(e, "1: out of memory");
	/* line by line, so each row knows the line it began on */
	for (; s < end && !c.failed; s = nl) {
		c.line++;
		if (c.row_pending) {
			c.row_line = c.line;
			c.row_pending = 0;
		}
		nl = memchr(s, '\n', (size_t)(end - s));
		nl = nl == NULL ? end : nl + 1;
		n = (size_t)(nl - s);
		if (csv_parse(&p, s, n, on_field, on_row, &c) == n || c.failed)
			continue;
		/*
		 * A '"' inside an unquoted cell, or text after a closing
		 * one: the row is reported, and reading starts again with a
		 * fresh parser on the next line.
		 */
		if (!c.have_hdr) {
			err_set(e, "%ld: the header row is not valid CSV (a "
			    "stray '\"')", c.row_line);
			c.failed = 1;
			break;
		}
		row_clear(&c);
		csv_free(&p);
		if (fn(arg, NULL, c.row_line, "not valid CSV: a '\"' inside "
		    "a cell that does not start with one, or text after the "
		    "closing '\"'") == -1 ||
		    csv_init(&p, CSV_STRICT | CSV_APPEND_NULL |
		    CSV_STRICT_FINI) != 0) {
			csv_init(&p, 0);
			err_set(e, "%ld: out of memory", c.line);
			c.failed = 1;
			break;
		}
		c.row_pending = 1;
	}
	if (!c.failed && csv_fini(&p, on_field, on_row, &c) != 0) {
		c.failed = 1;
		if (fn(arg, NULL, c.row_line, "a quoted cell is not closed "
		    "(a missing '\"')") == 0) {
			c.failed = 0;
			row_clear(&c);
		} else
			err_set(e, "%ld: out of memory", c.row_line);
	}
	if (!c.failed && !c.have_hdr)
		err_set(e, "1: no header row (see README.md, \"Importing\")");
	else if (!c.failed)
		rc = 0;
	csv_free(&p);
	row_clear(&c);
	free(c.f);
	for (i = 0; i < c.nhdr; i++)
		free(c.hdr[i].lang);
	free(c.hdr);
	return rc;
}
