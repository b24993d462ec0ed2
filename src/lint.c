/*
 * lint.c: the harvester rules (see lint.h).  Each rule reads the parsed
 * record; the file is parsed once more only to give each warning the line
 * of the element it is about.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "err.h"
#include "lint.h"
#include "oai.h"
#include "syntax.h"
#include "banned.h"

struct lint {
	record_diag_fn	*fn;
	void		*arg;
	int		 n;		/* warnings reported */
	long		 root;		/* line of <record> */
	long		*ident;		/* line of each <identifier> */
	long		*link;		/* line of each <link> */
};

static void
lint_warn(struct lint *l, const char *code, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
lint_warn(struct lint *l, const char *code, long line, const char *fmt, ...)
{
	struct record_diag	 d;
	char			 text[ERR_MSG_MAX];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	d.severity = RECORD_WARNING;
	d.code = code;
	d.line = line > 0 ? line : 0;
	d.col = 0;
	d.msg = text;
	l->fn(l->arg, &d);
	l->n++;
}

/*
 * The lines of the root and of its <identifier> and <link> children, in
 * the order record.c builds r->idents and r->links from them.  The file
 * was validated already (no DOCTYPE, so nothing to substitute or load).
 */
static void
lint_lines(struct lint *l, const struct record *r, const char *buf,
    size_t len)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, n;
	size_t		 i = 0, j = 0;

	if (buf == NULL || len > INT32_MAX || (doc = xmlReadMemory(buf,
	    (int)len, NULL, "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES)) == NULL)
		return;
	if ((root = xmlDocGetRootElement(doc)) != NULL) {
		l->root = xmlGetLineNo(root);
		for (n = root->children; n != NULL; n = n->next) {
			if (n->type != XML_ELEMENT_NODE)
				continue;
			if (strcmp((const char *)n->name, "identifier") == 0 &&
			    i < r->nidents)
				l->ident[i++] = xmlGetLineNo(n);
			else if (strcmp((const char *)n->name, "link") == 0 &&
			    j < r->nlinks)
				l->link[j++] = xmlGetLineNo(n);
		}
	}
	xmlFreeDoc(doc);
}

/* ------------------------------------------------------------------ */
/* OpenAIRE */

#define FIX_ACCESS	1
#define FIX_TYPE	2
#define FIX_ALL		(FIX_ACCESS | FIX_TYPE)

/*
 * Whether oai_openaire would take r with the fields in fix filled in:
 * the format's own predicate, asked about a copy, so that lint names the
 * missing field without a second copy of the format's rules.  No resource
 * identifier to fill: the one a record lacks is the landing page pubfeed
 * serves for it (base-url is required), so none is ever missing.
 */
static int
offered_with(size_t f, const struct record *r, int fix)
{
	struct record	 c = *r;

	if ((fix & FIX_ACCESS) && c.access == RECORD_ACCESS_UNSTATED)
		c.access = RECORD_ACCESS_OPEN;
	if (fix & FIX_TYPE)
		c.type = RECORD_REPORT;
	return oai_offered(f, &c);
}

static void
lint_openaire(struct lint *l, const struct record *r)
{
	const char	*p;
	size_t		 f;
	int		 access, type;

	for (f = 0; (p = oai_prefix(f)) != NULL; f++)
		if (strcmp(p, "oai_openaire") == 0)
			break;
	if (p == NULL || oai_offered(f, r))
		return;
	if (!offered_with(f, r, FIX_ALL)) {
		lint_warn(l, "openaire", l->root, "oai_openaire leaves the "
		    "record out: OpenAIRE will not see it");
		return;
	}
	access = !offered_with(f, r, FIX_ALL & ~FIX_ACCESS);
	type = !offered_with(f, r, FIX_ALL & ~FIX_TYPE);
	/*
	 * An event or a news item is not for OpenAIRE (events state access
	 * rights for their programmes too); one with a DOI, the mark of a
	 * registered research output, probably has the wrong type.
	 */
	if (type && record_ident_find(r, RECORD_ID_DOI) == NULL)
		return;
	if (type)
		lint_warn(l, "openaire-type", l->root, "type '%s' has no COAR "
		    "resource type (OpenAIRE takes research outputs only), so "
		    "oai_openaire leaves the record out although it has a "
		    "DOI: if it is a publication, give it a publication type "
		    "such as type=\"report\"", record_type_name(r->type));
	if (access)
		lint_warn(l, "openaire-access", l->root, "the record states "
		    "no access rights, and OpenAIRE requires a COAR access "
		    "right, so oai_openaire leaves the record out: add "
		    "<access>open</access> (or embargoed with until=\"DATE\", "
		    "restricted, metadata-only)");
}

/* ------------------------------------------------------------------ */
/* DOIs */

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * Why s is not a well-formed DOI (DOI Handbook 2.2: "10." and a registrant
 * code, which the DOI Foundation assigns as digits, optionally subdivided
 * by "."; "/"; a suffix of any printable Unicode characters), or NULL.  No
 * minimum of four digits: two-digit registrant codes exist (10.21/...).
 */
static const char *
doi_problem(const char *s)
{
	const unsigned char	*p;

	if (strncmp(s, "10.", 3) != 0)
		return "it does not start with '10.'";
	p = (const unsigned char *)s + 3;
	if (!is_digit(*p) && strchr(s, '/') != NULL)
		return "the registrant code between '10.' and '/' is not "
		    "digits (optionally joined by '.')";
	while (is_digit(*p)) {
		while (is_digit(*p))
			p++;
		if (*p == '.' && is_digit(p[1]))
			p++;
	}
	if (*p != '/' && strchr(s, '/') == NULL)
		return "there is no '/' between the prefix and the suffix";
	if (*p != '/')
		return "the registrant code between '10.' and '/' is not "
		    "digits (optionally joined by '.')";
	if (*++p == '\0')
		return "the suffix after '/' is empty";
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0xa0) ||
		    (p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8b ||
		    p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) ||
		    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
			return "the suffix holds white space or a control "
			    "character";
	return NULL;
}

static void
lint_dois(struct lint *l, const struct record *r)
{
	const char	*why;
	size_t		 i;

	for (i = 0; i < r->nidents; i++)
		if (r->idents[i].kind == RECORD_ID_DOI &&
		    (why = doi_problem(r->idents[i].value)) != NULL)
			lint_warn(l, "doi-syntax", l->ident[i], "<identifier "
			    "type=\"doi\"> is not a well-formed DOI: '%s': %s: "
			    "write it as 10.NNNN/suffix, e.g. 10.1000/xyz123",
			    r->idents[i].value, why);
}

/* ------------------------------------------------------------------ */
/* Full-text links */

/* The file name extensions CORE expects of a media type; first: usual. */
static const struct {
	const char	*type;
	const char	*ext[3];
} exts[] = {
	{ "application/pdf", { "pdf" } },
	{ "application/epub+zip", { "epub" } },
	{ "application/msword", { "doc" } },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	    "document", { "docx" } },
	{ "application/vnd.oasis.opendocument.text", { "odt" } },
	{ "application/rtf", { "rtf" } },
	{ "text/rtf", { "rtf" } },
	{ "application/postscript", { "ps", "eps" } },
	{ "text/plain", { "txt" } },
	{ "text/html", { "html", "htm" } },
	{ "application/xhtml+xml", { "xhtml", "html", "htm" } },
	{ "application/xml", { "xml" } },
	{ "text/xml", { "xml" } },
	{ "application/jats+xml", { "xml" } },
	{ "text/csv", { "csv" } },
	{ "application/json", { "json" } },
	{ "application/zip", { "zip" } },
	{ "application/vnd.ms-excel", { "xls" } },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    { "xlsx" } },
	{ "application/vnd.oasis.opendocument.spreadsheet", { "ods" } },
	{ "application/vnd.ms-powerpoint", { "ppt" } },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	    "presentation", { "pptx" } },
	{ "application/vnd.oasis.opendocument.presentation", { "odp" } },
};

/* The extensions of media type t (parameters ignored), or NULL. */
static const char *const *
type_exts(const char *t)
{
	size_t	 n, i;

	if (t == NULL)
		return NULL;
	n = strcspn(t, "; \t");
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strlen(exts[i].type) == n &&
		    strncasecmp(t, exts[i].type, n) == 0)
			return exts[i].ext;
	return NULL;
}

/* The last segment of the path of http(s) URL s: [*name, +*len). */
static void
url_file_name(const char *s, const char **name, int *len)
{
	const char	*p = strstr(s, "://"), *end, *q;

	p = p != NULL ? p + 3 : s;
	p += strcspn(p, "/?#");		/* past the authority */
	end = p + strcspn(p, "?#");
	for (q = end; q > p && q[-1] != '/'; q--)
		;
	*name = q;
	*len = (int)(end - q);
}

static void
lint_file_name(struct lint *l, const struct record_link *k, long line)
{
	const char *const	*want = type_exts(k->type);
	const char		*name, *dot;
	int			 len, elen, i;

	url_file_name(k->href, &name, &len);
	if (len == 0) {
		lint_warn(l, "fulltext-file-name", line, "<link "
		    "rel=\"fulltext\"> does not end in a file name: '%s': "
		    "CORE recognises a full text by its file name: end the "
		    "path with the file's name, e.g. '.../report.%s'",
		    k->href, want != NULL ? want[0] : "pdf");
		return;
	}
	dot = memrchr(name, '.', (size_t)len);
	elen = dot != NULL ? len - (int)(dot - name) - 1 : 0;
	if (elen == 0) {
		if (want != NULL)
			lint_warn(l, "fulltext-file-name", line, "<link "
			    "rel=\"fulltext\"> file name '%.*s' has no "
			    "extension: CORE recognises a full text by it: "
			    "name the file '%.*s.%s' (type %s)", len, name,
			    dot != NULL ? len - 1 : len, name, want[0],
			    k->type);
		else
			lint_warn(l, "fulltext-file-name", line, "<link "
			    "rel=\"fulltext\"> file name '%.*s' has no "
			    "extension: CORE recognises a full text by it: "
			    "give the file the extension of its type %s",
			    len, name, k->type);
		return;
	}
	for (i = 0; want != NULL && i < 3 && want[i] != NULL; i++)
		if ((int)strlen(want[i]) == elen &&
		    strncasecmp(dot + 1, want[i], (size_t)elen) == 0)
			return;
	if (want != NULL)
		lint_warn(l, "fulltext-file-name", line, "<link "
		    "rel=\"fulltext\"> file name '%.*s' does not end in "
		    "'.%s', the extension of its type %s: CORE takes the file "
		    "for something else: rename the file or correct the type",
		    len, name, want[0], k->type);
}

/* The host without a trailing '.' and a leading "www.". */
static void
host_core(const char **h, size_t *n)
{
	if (*n > 0 && (*h)[*n - 1] == '.')
		(*n)--;
	if (*n > 4 && strncasecmp(*h, "www.", 4) == 0) {
		*h += 4;
		*n -= 4;
	}
}

static void
lint_links(struct lint *l, const struct record *r)
{
	const struct record_link	*land, *k;
	const char			*lh = NULL, *fh, *lh0 = NULL;
	size_t				 i, ln = 0, fn, ln0 = 0;

	land = record_link_find(r, RECORD_LINK_LANDING);
	if (land != NULL && syntax_url_host(land->href, &lh, &ln) == 0) {
		lh0 = lh;
		ln0 = ln;
		host_core(&lh, &ln);
	}
	for (i = 0; i < r->nlinks; i++) {
		k = &r->links[i];
		if (k->rel != RECORD_LINK_FULLTEXT)
			continue;
		if (syntax_url_host(k->href, &fh, &fn) == -1) {
			lint_warn(l, "fulltext-not-http", l->link[i], "<link "
			    "rel=\"fulltext\"> is not an absolute http(s) "
			    "URL: '%s': harvesters fetch the full text from "
			    "the link as it is: write it in full, starting "
			    "with https://", k->href);
			continue;
		}
		if (lh0 != NULL) {
			const char	*h = fh;
			size_t		 n = fn;

			host_core(&h, &n);
			if (n != ln || strncasecmp(h, lh, n) != 0)
				lint_warn(l, "fulltext-other-host", l->link[i],
				    "<link rel=\"fulltext\"> is on host "
				    "'%.*s', its landing page on '%.*s': CORE "
				    "takes full texts from the repository's "
				    "own host only: serve the file from "
				    "'%.*s'", (int)fn, fh, (int)ln0, lh0,
				    (int)ln0, lh0);
		}
		lint_file_name(l, k, l->link[i]);
	}
}

int
lint_record(const struct record *r, const char *buf, size_t len,
    record_diag_fn *fn, void *arg)
{
	struct lint	 l;
	int		 rc = -1;

	memset(&l, 0, sizeof(l));
	l.fn = fn;
	l.arg = arg;
	if ((l.ident = calloc(r->nidents + 1, sizeof(*l.ident))) == NULL ||
	    (l.link = calloc(r->nlinks + 1, sizeof(*l.link))) == NULL)
		goto out;
	lint_lines(&l, r, buf, len);
	/* in the order of the file: <record>, <identifier>s, <link>s */
	lint_openaire(&l, r);
	lint_dois(&l, r);
	lint_links(&l, r);
	rc = l.n;
out:
	free(l.ident);
	free(l.link);
	return rc;
}
