/*
 * syntax: the identifier rules pubfeed takes from the standards, each
 * written once: http(s) URLs (RFC 3986, with RFC 3987 IRIs), percent-
 * encoding, language tags (RFC 5646) and OAI-PMH setSpecs.  conf, record,
 * the command line, oai and notify all check with these, so a value one of
 * them accepts the others accept too.
 *
 * URLs: absolute, scheme http or https (any case), "//", a non-empty host
 * (a reg-name, an IPv4 address or a bracketed IPv6 literal), an optional
 * port of digits up to 65535, then path, query and fragment made of RFC
 * 3986 pchar, '/', '?' and one '#'.  '%' must start a %HH escape.  Never
 * allowed: controls, space, DEL and the characters RFC 3986 leaves out of
 * every component ("<>\^`{|} and a second '#'); '[' and ']' only around an
 * IPv6 host.  Non-ASCII: accepted as IRI characters (RFC 3987 ucschar: any
 * well-formed UTF-8 character from U+00A0 up) in the host, path, query
 * and fragment, because record links and identifiers are often IRIs and
 * every place a URL ends up (Atom hrefs, OAI-PMH anyURI, HTML) takes IRIs;
 * malformed UTF-8 and C1 controls are refused.
 *
 * Where this is stricter than RFC 3986, it is so that libcurl, which
 * notify hands target URLs to, and libxml2's xmlParseURI() (its anyURI
 * check) take every URL accepted here: a reg-name holds unreserved
 * characters, IRI characters and %HH escapes of unreserved or non-ASCII
 * bytes, never sub-delims ("!$&'()*+,;=", also escaped), which no DNS
 * name holds and libcurl refuses; a port is 1 or more digits up to 65535
 * (libcurl refuses more, xmlParseURI() a ':' with no digits).  Left to the
 * connection: a non-ASCII host is checked as an RFC 3987 ireg-name, not
 * against IDNA2008, which libcurl applies (libidn2) only when it
 * connects.  fuzz/fuzz_syntax.c checks all this against both libraries.
 *
 * Pure functions over NUL-terminated strings; no state, thread-safe.
 */
#ifndef PUBFEED_SYNTAX_H
#define PUBFEED_SYNTAX_H

#include <stddef.h>

#include "buf.h"

/* 1 if s is an absolute http(s) URL as described above, else 0. */
int	 syntax_is_http_url(const char *s);
/*
 * The same, but '{' and '}' may also stand in the path, query and
 * fragment: a template such as ping-get's "http://h/?u={feed}".
 */
int	 syntax_is_http_template(const char *s);
/*
 * 1 if s is an http(s) URL with neither query nor fragment: a prefix
 * other URLs are built on (base-url, --base-url).
 */
int	 syntax_is_base_url(const char *s);
/*
 * The host of an http(s) URL s: *host points into s (an IPv6 literal
 * keeps its brackets), *len its length.  0, or -1 if s is not one.  The
 * host as written: its case and %HH escapes kept, where libcurl's
 * CURLUPART_HOST decodes the escapes and rewrites an IPv6 literal
 * ("[0:0::1]" is "[::1]") or a legacy IPv4 form ("0x7f.1", "1.2.3.04")
 * to its canonical form.
 */
int	 syntax_url_host(const char *s, const char **host, size_t *len);

/*
 * 1 if s is a well-formed RFC 5646 language tag (the Language-Tag
 * production: langtag, privateuse or grandfathered; case-insensitive),
 * else 0.  Well-formed, not valid: subtags are not looked up in the IANA
 * registry.
 */
int	 syntax_is_lang(const char *s);

/*
 * 1 if s is an OAI-PMH setSpec: one or more runs of
 * [A-Za-z0-9-_.!~*'()] separated by single ':', else 0.
 */
int	 syntax_is_setspec(const char *s);

/* The value of the hexadecimal digit c, or -1. */
int	 syntax_hexval(int c);
/* The byte that the two hex digits at p spell ("%41": p + 1), or -1. */
int	 syntax_hex2(const char *p);
/*
 * Append s to b percent-encoded: RFC 3986 unreserved characters as they
 * are, every other byte as %HH (upper case).  b is NUL-terminated after,
 * even for "".  0, or -1 when b is full or out of memory.
 */
int	 syntax_pct_encode(struct buf *b, const char *s);

#endif
