/*
 * record_msg.c: libxml2 and XSD errors in the editor's terms (see
 * record_int.h).  The people who write records are editors, not XML
 * engineers: "Element 'subject': This element is not expected. Expected is
 * one of ( event, language )" becomes "<record> has no <language> element
 * ...".  Raw libxml2 wording only appears when nothing here applies, and
 * then after an explanation of what kind of problem it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "record.h"
#include "record_int.h"
#include "nearest.h"
#include "banned.h"

#define XS_NS	"http://www.w3.org/2001/XMLSchema"
#define MAX_KIDS 64

/* One child element a complex type of the schema allows. */
struct kid {
	const char	*name;
	const char	*type;		/* without prefix; NULL: simple */
	int		 is_required;	/* minOccurs != 0 outside a choice */
	int		 is_many;	/* maxOccurs != 1 */
	xmlNodePtr	 choice;	/* the required xs:choice it is in */
};

/* ------------------------------------------------------------------ */
/* The schema's structure, read from its source */

static int
is_xs(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, XS_NS) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

static const char *
xs_attr(xmlNodePtr n, const char *name)
{
	xmlAttrPtr	 a;

	for (a = n->properties; a != NULL; a = a->next)
		if (a->ns == NULL && strcmp((const char *)a->name, name) == 0 &&
		    a->children != NULL)
			return (const char *)a->children->content;
	return NULL;
}

static const char *
no_prefix(const char *s)
{
	const char	*c;

	if (s == NULL)
		return NULL;
	return (c = strchr(s, ':')) != NULL ? c + 1 : s;
}

/* The top-level xs:<kind> named name. */
static xmlNodePtr
xs_global(xmlDocPtr xsd, const char *kind, const char *name)
{
	xmlNodePtr	 n, root = xmlDocGetRootElement(xsd);

	for (n = root != NULL ? root->children : NULL; n != NULL; n = n->next)
		if (is_xs(n, kind) && xs_attr(n, "name") != NULL &&
		    strcmp(xs_attr(n, "name"), name) == 0)
			return n;
	return NULL;
}

static void
collect(xmlDocPtr xsd, xmlNodePtr n, xmlNodePtr choice, struct kid *k,
    size_t *nk, int depth)
{
	const char	*min, *max, *base;
	xmlNodePtr	 c, t;

	if (depth > 8)
		return;
	for (c = n->children; c != NULL; c = c->next) {
		if (is_xs(c, "element") && *nk < MAX_KIDS &&
		    xs_attr(c, "name") != NULL) {
			min = xs_attr(c, "minOccurs");
			max = xs_attr(c, "maxOccurs");
			k[*nk].name = xs_attr(c, "name");
			k[*nk].type = no_prefix(xs_attr(c, "type"));
			k[*nk].is_required = choice == NULL &&
			    (min == NULL || strcmp(min, "0") != 0);
			k[*nk].is_many = max != NULL && strcmp(max, "1") != 0;
			k[*nk].choice = choice;
			(*nk)++;
		} else if (is_xs(c, "choice"))
			collect(xsd, c, (min = xs_attr(c, "minOccurs")) ==
			    NULL || strcmp(min, "0") != 0 ? c : NULL, k, nk,
			    depth + 1);
		else if (is_xs(c, "extension") &&
		    (base = no_prefix(xs_attr(c, "base"))) != NULL &&
		    (t = xs_global(xsd, "complexType", base)) != NULL) {
			collect(xsd, t, choice, k, nk, depth + 1);
			collect(xsd, c, choice, k, nk, depth + 1);
		} else if (is_xs(c, "sequence") || is_xs(c, "all") ||
		    is_xs(c, "complexContent"))
			collect(xsd, c, choice, k, nk, depth + 1);
	}
}

/* The complex type an instance element has, or NULL. */
static const char *
type_of(xmlDocPtr xsd, xmlNodePtr n, int depth)
{
	struct kid	 k[MAX_KIDS];
	xmlNodePtr	 t, g;
	const char	*pt;
	size_t		 nk = 0, i;

	if (xsd == NULL || n == NULL || n->type != XML_ELEMENT_NODE ||
	    depth > 16)
		return NULL;
	if (n->parent == NULL || n->parent->type != XML_ELEMENT_NODE) {
		g = xs_global(xsd, "element", (const char *)n->name);
		return g != NULL ? no_prefix(xs_attr(g, "type")) : NULL;
	}
	if ((pt = type_of(xsd, n->parent, depth + 1)) == NULL ||
	    (t = xs_global(xsd, "complexType", pt)) == NULL)
		return NULL;
	collect(xsd, t, NULL, k, &nk, 0);
	for (i = 0; i < nk; i++)
		if (strcmp(k[i].name, (const char *)n->name) == 0)
			return k[i].type;
	return NULL;
}

/* The children the schema allows in element p; 0 when unknown. */
static size_t
kids_of(xmlDocPtr xsd, xmlNodePtr p, struct kid *k)
{
	const char	*tn;
	xmlNodePtr	 t;
	size_t		 nk = 0;

	if ((tn = type_of(xsd, p, 0)) == NULL ||
	    (t = xs_global(xsd, "complexType", tn)) == NULL)
		return 0;
	collect(xsd, t, NULL, k, &nk, 0);
	return nk;
}

static int
has_child(xmlNodePtr p, const char *name)
{
	xmlNodePtr	 c;

	for (c = p->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Schema errors */

/* The first required child p lacks, as a message; 0 when none. */
static int
missing_kid(xmlDocPtr xsd, xmlNodePtr p, char *out, size_t outsz)
{
	struct kid	 k[MAX_KIDS];
	size_t		 nk, i, j, o;
	int		 any;

	nk = kids_of(xsd, p, k);
	for (i = 0; i < nk; i++)
		if (k[i].is_required && !has_child(p, k[i].name)) {
			snprintf(out, outsz, "<%s> has no <%s> element, and "
			    "it needs one: add <%s>...</%s>", p->name,
			    k[i].name, k[i].name, k[i].name);
			return 1;
		}
	for (i = 0; i < nk; i++) {
		if (k[i].choice == NULL)
			continue;
		for (any = 0, j = 0; j < nk; j++)
			if (k[j].choice == k[i].choice &&
			    has_child(p, k[j].name))
				any = 1;
		if (any)
			continue;
		o = (size_t)snprintf(out, outsz, "<%s> needs one of", p->name);
		for (j = 0; j < nk && o < outsz; j++)
			if (k[j].choice == k[i].choice)
				o += (size_t)snprintf(out + o, outsz - o,
				    "%s <%s>", j == i ? "" : " or", k[j].name);
		return 1;
	}
	return 0;
}

void
record_msg_counts(xmlDocPtr xsd, xmlNodePtr p, record_msg_count_fn *fn,
    void *arg)
{
	struct kid	 k[MAX_KIDS];
	char		 msg[RECORD_MSG_MAX];
	xmlNodePtr	 c, s;
	size_t		 nk, i;

	nk = kids_of(xsd, p, k);
	for (i = 0; i < nk; i++)
		if (k[i].is_required && !has_child(p, k[i].name)) {
			snprintf(msg, sizeof(msg), "<%s> has no <%s> element, "
			    "and it needs one: add <%s>...</%s>", p->name,
			    k[i].name, k[i].name, k[i].name);
			fn(arg, xmlGetLineNo(p), "missing-element", msg);
		}
	for (c = p->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (i = 0; i < nk; i++)
			if (strcmp(k[i].name, (const char *)c->name) == 0)
				break;
		if (i == nk || k[i].is_many)
			continue;
		/* Report the second one only, not the third as well. */
		for (s = c->prev; s != NULL; s = s->prev)
			if (s->type == XML_ELEMENT_NODE && strcmp((const char *)
			    s->name, (const char *)c->name) == 0)
				break;
		if (s == NULL)
			continue;
		for (s = s->prev; s != NULL; s = s->prev)
			if (s->type == XML_ELEMENT_NODE && strcmp((const char *)
			    s->name, (const char *)c->name) == 0)
				break;
		if (s != NULL)
			continue;
		snprintf(msg, sizeof(msg), "<%s> appears more than once in "
		    "<%s>: keep one", c->name, p->name);
		fn(arg, xmlGetLineNo(c), "duplicate-element", msg);
	}
}

static const char *
not_expected(xmlDocPtr xsd, xmlNodePtr n, const char *raw, char *out,
    size_t outsz)
{
	struct kid	 k[MAX_KIDS];
	const char	*names[MAX_KIDS], *near, *exp;
	xmlNodePtr	 p = n->parent, s;
	size_t		 nk, i;

	if (p == NULL || p->type != XML_ELEMENT_NODE ||
	    (nk = kids_of(xsd, p, k)) == 0)
		return NULL;
	for (i = 0; i < nk; i++)
		names[i] = k[i].name;
	for (i = 0; i < nk; i++)
		if (strcmp(k[i].name, (const char *)n->name) == 0)
			break;
	if (i == nk) {
		near = nearest_name((const char *)n->name, names, nk);
		if (near != NULL)
			snprintf(out, outsz, "<%s> is not an element of <%s>: "
			    "did you mean <%s>?", n->name, p->name, near);
		else
			snprintf(out, outsz, "<%s> is not an element of <%s>: "
			    "remove it (schemas/README.md lists the elements "
			    "of a record)", n->name, p->name);
		return "unknown-element";
	}
	if (!k[i].is_many)
		for (s = n->prev; s != NULL; s = s->prev)
			if (s->type == XML_ELEMENT_NODE &&
			    strcmp((const char *)s->name,
			    (const char *)n->name) == 0) {
				snprintf(out, outsz, "<%s> appears more than "
				    "once in <%s>: keep one", n->name,
				    p->name);
				return "duplicate-element";
			}
	if (missing_kid(xsd, p, out, outsz))
		return "missing-element";
	exp = strstr(raw, "Expected is ");
	snprintf(out, outsz, "<%s> is out of order in <%s>: %s%s", n->name,
	    p->name, exp != NULL ? "expected here " : "move it (see the order "
	    "in schemas/README.md)", exp != NULL ? exp + 12 : "");
	return "element-order";
}

/* The value libxml2 quotes after "The value '". */
static void
quoted_value(const char *raw, char *v, size_t vsz)
{
	const char	*p = strstr(raw, "The value '"), *q;
	size_t		 n;

	v[0] = '\0';
	if (p == NULL)
		return;
	p += 11;
	if ((q = strstr(p, "' is ")) == NULL)
		return;
	n = (size_t)(q - p) < vsz - 1 ? (size_t)(q - p) : vsz - 1;
	memcpy(v, p, n);
	v[n] = '\0';
}

/* The attribute libxml2 names ("attribute 'rel':"), or "". */
static void
attr_name(const char *raw, char *a, size_t asz)
{
	const char	*p = strstr(raw, "attribute '"), *q;
	size_t		 n;

	a[0] = '\0';
	if (p == NULL || (q = strchr(p + 11, '\'')) == NULL)
		return;
	p += 11;
	n = (size_t)(q - p) < asz - 1 ? (size_t)(q - p) : asz - 1;
	memcpy(a, p, n);
	a[n] = '\0';
}

static int
is_date_el(const char *name)
{
	return strcmp(name, "issued") == 0 || strcmp(name, "modified") == 0 ||
	    strcmp(name, "start") == 0 || strcmp(name, "end") == 0;
}

/* "30.01.2026" or "30/01/2026": what the editor probably meant. */
static int
guess_date(const char *v, char *g, size_t gsz)
{
	int	 d, m, y;
	char	 s1, s2, tail;

	if (sscanf(v, "%2d%c%2d%c%4d%c", &d, &s1, &m, &s2, &y, &tail) != 5 ||
	    s1 != s2 || (s1 != '.' && s1 != '/' && s1 != '-') || m < 1 ||
	    m > 12 || d < 1 || d > 31 || y < 1000)
		return 0;
	snprintf(g, gsz, "%04d-%02d-%02d", y, m, d);
	return 1;
}

static const char *
bad_value(const xmlError *xe, const char *raw, char *out, size_t outsz)
{
	xmlNodePtr	 n = xe->node;
	const char	*el = n != NULL ? (const char *)n->name : "?";
	char		 v[256], a[64], g[48];

	quoted_value(raw, v, sizeof(v));
	attr_name(raw, a, sizeof(a));
	if (a[0] == '\0' && is_date_el(el)) {
		if (guess_date(v, g, sizeof(g)))
			snprintf(out, outsz, "<%s> is not a date: '%s': write "
			    "'%s' (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ with a "
			    "time)", el, v, g);
		else if (strcmp(el, "modified") != 0)
			snprintf(out, outsz, "<%s> is not a date: '%s': write "
			    "YYYY-MM-DD, YYYY-MM or YYYY, or YYYY-MM-DDThh:mm:ssZ "
			    "with a time", el, v);
		else
			snprintf(out, outsz, "<%s> is not a date: '%s': write "
			    "YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ with a time",
			    el, v);
		return "bad-date";
	}
	if (a[0] == '\0' && strcmp(el, "language") == 0) {
		snprintf(out, outsz, "<language> is not a language code: '%s': "
		    "write an ISO 639 code or a BCP 47 tag, for example 'en', "
		    "'eng', 'nb' or 'en-GB'", v);
		return "bad-language";
	}
	if (strcmp(a, "id") == 0 && strcmp(el, "record") == 0) {
		snprintf(out, outsz, "<record id> is not a record id: '%s': use "
		    "letters, digits, '.', '_' and '-', starting with a letter "
		    "or a digit, at most 128 characters", v);
		return "bad-id";
	}
	if (a[0] == '\0' && strcmp(el, "set") == 0) {
		snprintf(out, outsz, "<set> is not a set spec: '%s': write "
		    "words of letters, digits and -_.!~*'() joined by single "
		    "':', e.g. 'topic:smuggling'", v);
		return "bad-set";
	}
	if (strcmp(a, "length") == 0) {
		snprintf(out, outsz, "attribute 'length' of <%s> is not a byte "
		    "count: '%s': write the file's size in bytes, e.g. "
		    "length=\"482113\"", el, v);
		return "bad-length";
	}
	if (a[0] != '\0')
		snprintf(out, outsz, "attribute '%s' of <%s> has a value the "
		    "record format does not allow: '%s' (%s)", a, el, v, raw);
	else
		snprintf(out, outsz, "<%s> has a value the record format does "
		    "not allow: '%s' (%s)", el, v, raw);
	return "bad-value";
}

/* "{'report', 'policy-brief'}" of an enumeration error: the nearest one. */
static const char *
bad_enum(const xmlError *xe, const char *raw, char *out, size_t outsz)
{
	const char	*names[64], *near, *p, *q, *set;
	xmlNodePtr	 n = xe->node;
	char		 v[256], a[64], list[512], words[512], *w;
	size_t		 nn = 0, o = 0, i;

	quoted_value(raw, v, sizeof(v));
	attr_name(raw, a, sizeof(a));
	if ((set = strchr(raw, '{')) == NULL || n == NULL)
		return NULL;
	for (p = set; (p = strchr(p, '\'')) != NULL && nn < 64; p = q + 1) {
		if ((q = strchr(p + 1, '\'')) == NULL ||
		    o + (size_t)(q - p) + 3 >= sizeof(list))
			break;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%.*s",
		    nn > 0 ? ", " : "", (int)(q - p - 1), p + 1);
		nn++;
	}
	if (nn == 0)
		return NULL;
	/* the words, cut on a copy of the list */
	memcpy(words, list, o + 1);
	for (i = 0, w = words; i < nn && w != NULL; i++) {
		names[i] = w;
		if ((w = strstr(w, ", ")) != NULL) {
			*w = '\0';
			w += 2;
		}
	}
	near = nearest_name(v, names, i);
	snprintf(out, outsz, "%s%s%s of <%s> is not one of %s: '%s'%s%s%s",
	    a[0] ? "attribute '" : "the value", a, a[0] ? "'" : "", n->name,
	    list, v, near ? ": did you mean '" : "", near ? near : "",
	    near ? "'?" : "");
	return "bad-value";
}

static const char *
schema_msg(xmlDocPtr xsd, const xmlError *xe, const char *raw, char *out,
    size_t outsz)
{
	xmlNodePtr	 n = xe->node;
	const char	*code = NULL;
	char		 a[64];

	switch (xe->code) {
	case XML_SCHEMAV_ELEMENT_CONTENT:
		if (n == NULL)
			break;
		if (strstr(raw, "Missing child") != NULL &&
		    missing_kid(xsd, n, out, outsz))
			return "missing-element";
		if (strstr(raw, "not expected") != NULL)
			code = not_expected(xsd, n, raw, out, outsz);
		break;
	case XML_SCHEMAV_CVC_PATTERN_VALID:
	case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1:
	case XML_SCHEMAV_CVC_MININCLUSIVE_VALID:
		return bad_value(xe, raw, out, outsz);
	case XML_SCHEMAV_CVC_ENUMERATION_VALID:
		code = bad_enum(xe, raw, out, outsz);
		break;
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_4:
		attr_name(raw, a, sizeof(a));
		if (n == NULL || a[0] == '\0')
			break;
		snprintf(out, outsz, "<%s> needs a '%s' attribute: add %s=\"...\"",
		    n->name, a, a);
		return "missing-attribute";
	case XML_SCHEMAV_CVC_ELT_1:
		snprintf(out, outsz, "the root element is not a pubfeed "
		    "record: start the file with <record xmlns=\"%s\" id=\"...\" "
		    "type=\"...\">", RECORD_NS);
		return "not-a-record";
	default:
		break;
	}
	if (code != NULL)
		return code;
	snprintf(out, outsz, "the record does not follow the record "
	    "schema: %s", raw);
	return "schema";
}

/* ------------------------------------------------------------------ */
/* Parser errors */

static const char *
parser_msg(const xmlError *xe, const char *raw, char *out, size_t outsz)
{
	const char	*s1 = xe->str1, *s2 = xe->str2;

	switch (xe->code) {
	case XML_ERR_NAME_REQUIRED:
	case XML_ERR_ENTITYREF_SEMICOL_MISSING:
		if (strstr(raw, "EntityRef") == NULL)
			break;
		snprintf(out, outsz, "a bare '&' starts an entity reference: "
		    "write '&amp;' for the character '&'");
		return "unescaped-amp";
	case XML_ERR_LT_IN_ATTRIBUTE:
		snprintf(out, outsz, "'<' in an attribute value: write '&lt;' "
		    "for the character '<'");
		return "unescaped-lt";
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
		snprintf(out, outsz, "entity '&%s;' is not defined: records "
		    "have no DTD, so write the character itself or a numeric "
		    "reference such as '&#160;' (and '&amp;' for '&')",
		    s1 != NULL ? s1 : "?");
		return "unknown-entity";
	case XML_ERR_TAG_NAME_MISMATCH:
		if (s1 == NULL || s2 == NULL)
			break;
		snprintf(out, outsz, "<%s> opened on line %d is closed by "
		    "</%s>: close it with </%s> first", s1, xe->int1, s2,
		    s1);
		return "tag-mismatch";
	case XML_ERR_DOCUMENT_EMPTY:
		if (strstr(raw, "Document is empty") == NULL) {
			snprintf(out, outsz, "not well-formed: the file does "
			    "not start with a tag: a record starts with "
			    "<record xmlns=\"%s\" ...>", RECORD_NS);
			return "not-well-formed";
		}
		snprintf(out, outsz, "the file is empty: a record starts "
		    "with <record xmlns=\"%s\" ...>", RECORD_NS);
		return "empty-file";
	default:
		break;
	}
	if ((s1 = strstr(raw, "xmlParseCharRef: invalid xmlChar value "))
	    != NULL) {
		snprintf(out, outsz, "character reference '&#%s;' names a "
		    "character XML does not allow (a control character or a "
		    "non-character): remove it", s1 + 39);
		return "bad-char";
	}
	/* '<' in text: libxml2 reads it as the start of a tag */
	if (strstr(raw, "StartTag: invalid element name") != NULL) {
		snprintf(out, outsz, "'<' that does not start a tag: write "
		    "'&lt;' for the character '<'");
		return "unescaped-lt";
	}
	snprintf(out, outsz, "not well-formed: %s", raw);
	return "not-well-formed";
}

const char *
record_msg_xml(xmlDocPtr xsd, const xmlError *xe, int is_schema, char *out,
    size_t outsz)
{
	char		 raw[RECORD_MSG_MAX];
	const char	*in = xe->message != NULL ? xe->message : "unknown "
			    "error";
	static const char ns[] = "{" RECORD_NS "}";
	size_t		 o = 0;

	/* without its newline, and without our namespace in "{ns}title" */
	while (*in != '\0' && o + 1 < sizeof(raw)) {
		if (strncmp(in, ns, sizeof(ns) - 1) == 0) {
			in += sizeof(ns) - 1;
			continue;
		}
		raw[o++] = *in == '\n' ? ' ' : *in;
		in++;
	}
	while (o > 0 && raw[o - 1] == ' ')
		o--;
	raw[o] = '\0';
	return is_schema ? schema_msg(xsd, xe, raw, out, outsz) :
	    parser_msg(xe, raw, out, outsz);
}

/* ------------------------------------------------------------------ */
/* UTF-8 and codes */

size_t
record_msg_utf8_bad(const char *buf, size_t len)
{
	const unsigned char	*s = (const unsigned char *)buf;
	size_t			 i = 0, n, j;
	unsigned long		 cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 2, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 3, cp = s[i] & 0x07;
		else
			return i;
		for (j = 1; j <= n; j++) {
			if (i + j >= len || (s[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

/* The formats record.c reports with, and their codes. */
static const struct {
	const char	*prefix;
	const char	*code;
} codes[] = {
	{ "file is larger", "too-large" },
	{ "element '%s' has %ld attributes", "too-many-attributes" },
	{ "more than %d attributes", "too-many-attributes" },
	{ "DOCTYPE", "doctype" },
	{ "not UTF-8", "not-utf8" },
	{ "%s is empty", "empty-element" },
	{ "%s is not a date", "bad-date" },
	{ "<%s> is not a date", "bad-date" },
	{ "<%s> is not a real date", "bad-date" },
	{ "<language> is not a language code", "bad-language" },
	{ "%s is not an absolute", "bad-url" },
	{ "orcid", "bad-orcid" },
	{ "abstract in language", "duplicate-abstract" },
	{ "event", "event" },
	{ "type 'event'", "event" },
	{ "doi", "bad-doi" },
	{ "length", "bad-length" },
	{ "fulltext link", "fulltext" },
	{ "xml:lang", "bad-language" },
	{ "rights", "empty-element" },
	{ "type is unknown", "bad-value" },
	{ "out of memory", "out-of-memory" },
	{ "no schema", "internal" },
	{ "not valid against", "schema" },
	{ "not well-formed", "not-well-formed" },
};

const char *
record_msg_code(const char *fmt)
{
	size_t	 i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strncmp(fmt, codes[i].prefix,
		    strlen(codes[i].prefix)) == 0)
			return codes[i].code;
	return "invalid";
}
