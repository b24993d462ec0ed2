/*
 * xw: thin helpers over libxml2's xmlTextWriter, writing into a struct buf.
 *
 * Every renderer (feeds, HTML page, OAI-PMH, XML-RPC) writes markup through
 * these, never with printf.  Every string that reaches the writer is first
 * cleaned: invalid UTF-8 becomes U+FFFD and characters XML 1.0 forbids
 * (C0 controls other than TAB/LF/CR, U+FFFE, U+FFFF, lone surrogates) are
 * dropped, so no output can ever be malformed whatever the input held.
 *
 * Errors are sticky: after the first failure (writer error, buffer cap) every
 * call is a no-op and xw_close() returns -1.  That keeps renderers linear.
 * NULL text/attribute values are skipped, so optional fields need no ifs.
 */
#ifndef PUBFEED_XW_H
#define PUBFEED_XW_H

#include <stddef.h>

#include "buf.h"

struct xw {
	void		*writer;	/* xmlTextWriterPtr */
	struct buf	*out;
	struct buf	 scratch;	/* cleaned copy of the current string */
	int		 failed;
};

/*
 * Start writing into out (appending).  indent: pretty-print with two spaces.
 * with_decl: emit <?xml version="1.0" encoding="UTF-8"?>.
 */
int	xw_open(struct xw *, struct buf *out, int indent, int with_decl);
/* Finish every open element, flush, free the writer.  0 or -1. */
int	xw_close(struct xw *);

void	xw_start(struct xw *, const char *name);
/* Start an element in a namespace given by prefix (may be NULL) and URI. */
void	xw_start_ns(struct xw *, const char *prefix, const char *name,
	    const char *uri);
void	xw_end(struct xw *);
void	xw_attr(struct xw *, const char *name, const char *value);
void	xw_attr_ns(struct xw *, const char *prefix, const char *name,
	    const char *uri, const char *value);
void	xw_attr_int(struct xw *, const char *name, long long value);
void	xw_text(struct xw *, const char *text);
/* <name>text</name>; nothing at all when text is NULL. */
void	xw_elem(struct xw *, const char *name, const char *text);
/* Same with an xml:lang attribute (omitted when lang is NULL). */
void	xw_elem_lang(struct xw *, const char *name, const char *lang,
	    const char *text);
/* Copy already well-formed XML verbatim (a pre-rendered fragment). */
void	xw_raw(struct xw *, const char *xml, size_t len);
void	xw_comment(struct xw *, const char *text);

/*
 * Append s (len bytes) to out with invalid UTF-8 replaced and XML-forbidden
 * characters dropped.  Returns -1 only when out's cap is reached.
 */
int	xw_clean(struct buf *out, const char *s, size_t len);
/* 1 when s is valid UTF-8 free of XML-forbidden characters. */
int	xw_is_clean(const char *s, size_t len);

#endif
