/*
 * xmlTextWriter over an xmlOutputBuffer whose write callback appends to a
 * struct buf.  The struct xw is the callback's context, so it must not move
 * between xw_open() and xw_close() (renderers keep it on their stack).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "buf.h"
#include "xw.h"
#include "banned.h"

#define W(x)	((xmlTextWriterPtr)(x)->writer)
#define XC(s)	((const xmlChar *)(s))

static const char	 replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

/*
 * Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), its
 * code point in *cp; or 0 with *bad = the length of the maximal ill-formed
 * prefix, which becomes a single U+FFFD (Unicode's "maximal subpart"
 * practice, as browsers do).  Surrogates and > U+10FFFF are ill-formed here.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n, uint32_t *cp, size_t *bad)
{
	unsigned char	 lo = 0x80, hi = 0xBF;
	uint32_t	 c = p[0];
	size_t		 need, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		c &= 0x0F;
		lo = p[0] == 0xE0 ? 0xA0 : 0x80;	/* overlong */
		hi = p[0] == 0xED ? 0x9F : 0xBF;	/* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		c &= 0x07;
		lo = p[0] == 0xF0 ? 0x90 : 0x80;	/* overlong */
		hi = p[0] == 0xF4 ? 0x8F : 0xBF;	/* > U+10FFFF */
	} else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		c = c << 6 | (p[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = c;
	return need + 1;
}

/* XML 1.0 Char, given a well-formed scalar value. */
static int
xml_forbidden(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n' && cp != '\r';
	return cp == 0xFFFE || cp == 0xFFFF;
}

int
xw_clean(struct buf *out, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, run = 0, n, bad = 0;
	uint32_t		 cp = 0;

	/* Copy runs of good bytes at once; stop only at what must change. */
	while (i < len) {
		n = utf8_seq(p + i, len - i, &cp, &bad);
		if (n > 0 && !xml_forbidden(cp)) {
			i += n;
			continue;
		}
		if (i > run && buf_add(out, p + run, i - run) == -1)
			return -1;
		if (n == 0) {
			if (buf_add(out, replacement, 3) == -1)
				return -1;
			i += bad;
		} else
			i += n;
		run = i;
	}
	if (i > run && buf_add(out, p + run, i - run) == -1)
		return -1;
	return 0;
}

int
xw_is_clean(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, bad;
	uint32_t		 cp;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i, &cp, &bad)) == 0 ||
		    xml_forbidden(cp))
			return 0;
		i += n;
	}
	return 1;
}

/*
 * On failure, claim success and let the sticky flag do the rest: a -1 here
 * makes libxml2 print "I/O error" on stderr, and library modules never log.
 */
static int
xw_write_cb(void *ctx, const char *data, int len)
{
	struct xw	*x = ctx;

	if (!x->failed && (len < 0 || buf_add(x->out, data, (size_t)len) == -1))
		x->failed = 1;
	return len;
}

/* Record a writer failure; libxml2 returns -1 from any call that failed. */
static void
xw_check(struct xw *x, int rc)
{
	if (rc < 0)
		x->failed = 1;
}

/* The cleaned copy of s in the scratch buffer, or NULL after a failure. */
static const xmlChar *
xw_cleaned(struct xw *x, const char *s)
{
	buf_reset(&x->scratch);
	if (xw_clean(&x->scratch, s, strlen(s)) == -1) {
		x->failed = 1;
		return NULL;
	}
	return XC(x->scratch.data != NULL ? x->scratch.data : "");
}

int
xw_open(struct xw *x, struct buf *out, int indent, int with_decl)
{
	xmlOutputBufferPtr	 ob;
	xmlTextWriterPtr	 w;

	memset(x, 0, sizeof(*x));
	x->out = out;
	/* A cleaned string longer than the output's cap could never fit. */
	buf_init(&x->scratch, out->max);
	x->failed = 1;
	if ((ob = xmlOutputBufferCreateIO(xw_write_cb, NULL, x, NULL)) == NULL)
		return -1;
	if ((w = xmlNewTextWriter(ob)) == NULL) {
		xmlOutputBufferClose(ob);
		return -1;
	}
	if ((indent && (xmlTextWriterSetIndent(w, 1) < 0 ||
	    xmlTextWriterSetIndentString(w, XC("  ")) < 0)) ||
	    (with_decl && xmlTextWriterStartDocument(w, "1.0", "UTF-8",
	    NULL) < 0)) {
		xmlFreeTextWriter(w);	/* closes ob */
		return -1;
	}
	/* Left failed and writer-less on error, so xw_close() is still safe. */
	x->writer = w;
	x->failed = 0;
	return 0;
}

int
xw_close(struct xw *x)
{
	if (x->writer != NULL) {
		if (!x->failed) {
			xw_check(x, xmlTextWriterEndDocument(W(x)));
			xw_check(x, xmlTextWriterFlush(W(x)));
		}
		xmlFreeTextWriter(W(x));
		x->writer = NULL;
	}
	buf_release(&x->scratch);
	return x->failed ? -1 : 0;
}

void
xw_start(struct xw *x, const char *name)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterStartElement(W(x), XC(name)));
}

void
xw_start_ns(struct xw *x, const char *prefix, const char *name,
    const char *uri)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterStartElementNS(W(x), XC(prefix),
		    XC(name), XC(uri)));
}

void
xw_end(struct xw *x)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterEndElement(W(x)));
}

void
xw_attr(struct xw *x, const char *name, const char *value)
{
	const xmlChar	*v;

	if (x->failed || value == NULL || (v = xw_cleaned(x, value)) == NULL)
		return;
	xw_check(x, xmlTextWriterWriteAttribute(W(x), XC(name), v));
}

void
xw_attr_ns(struct xw *x, const char *prefix, const char *name,
    const char *uri, const char *value)
{
	const xmlChar	*v;

	if (x->failed || value == NULL || (v = xw_cleaned(x, value)) == NULL)
		return;
	xw_check(x, xmlTextWriterWriteAttributeNS(W(x), XC(prefix), XC(name),
	    XC(uri), v));
}

void
xw_attr_int(struct xw *x, const char *name, long long value)
{
	char	 num[32];

	if (x->failed)
		return;
	snprintf(num, sizeof(num), "%lld", value);
	xw_check(x, xmlTextWriterWriteAttribute(W(x), XC(name), XC(num)));
}

void
xw_text(struct xw *x, const char *text)
{
	const xmlChar	*v;

	if (x->failed || text == NULL || (v = xw_cleaned(x, text)) == NULL)
		return;
	xw_check(x, xmlTextWriterWriteString(W(x), v));
}

void
xw_elem(struct xw *x, const char *name, const char *text)
{
	xw_elem_lang(x, name, NULL, text);
}

void
xw_elem_lang(struct xw *x, const char *name, const char *lang,
    const char *text)
{
	if (x->failed || text == NULL)
		return;
	xw_start(x, name);
	xw_attr(x, "xml:lang", lang);
	xw_text(x, text);
	xw_end(x);
}

void
xw_raw(struct xw *x, const char *xml, size_t len)
{
	if (x->failed || xml == NULL || len == 0)
		return;
	if (len > INT32_MAX) {
		x->failed = 1;
		return;
	}
	xw_check(x, xmlTextWriterWriteRawLen(W(x), XC(xml), (int)len));
}

void
xw_comment(struct xw *x, const char *text)
{
	char	*p;
	size_t	 i;

	if (x->failed || text == NULL || xw_cleaned(x, text) == NULL)
		return;
	/* "--" may not occur in a comment, nor may it end with "-". */
	p = x->scratch.data;
	for (i = 0; p != NULL && i < x->scratch.len; i++)
		if (p[i] == '-' && (i + 1 == x->scratch.len || p[i + 1] == '-'))
			p[i] = ' ';
	xw_check(x, xmlTextWriterWriteComment(W(x), XC(p != NULL ? p : "")));
}
