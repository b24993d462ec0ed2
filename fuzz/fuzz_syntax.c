/*
 * fuzz_syntax: the URL, language-tag, setSpec and percent-encoding rules of
 * syntax.c, checked against the programs their answers are handed to.
 *
 * URLs: whatever syntax_is_http_url() accepts, libcurl's URL parser must
 * accept with the flags CURLOPT_URL uses (notify hands target URLs to curl
 * that way), with the host syntax_url_host() returns (the differences
 * syntax.h documents: percent-escapes decoded, IPv6 and legacy IPv4 forms
 * normalised, case), and libxml2's xmlParseURI() must parse it once mapped
 * from IRI to URI (RFC 3987 3.1: non-ASCII bytes percent-encoded), the form
 * an Atom href or OAI-PMH anyURI consumer parses.
 *
 * Language tags: lang.c never reads past the tag (the input is copied into a
 * buffer of its exact size), a code is a well-formed tag, lang_canon() gives
 * a well-formed code that is its own canonical form and names the same
 * language, and the ISO 639 forms are lower-case codes of the right length.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/uri.h>

#include "buf.h"
#include "lang.h"
#include "syntax.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CURL_URL_FLAGS	(CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME)

/* The percent-decoded copy of [p, p + n), NUL-terminated; NULL on OOM. */
static char *
pct_decode(const char *p, size_t n)
{
	char	*d, *q;
	size_t	 i;
	int	 c;

	if ((d = q = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n &&
		    (c = syntax_hex2(p + i + 1)) != -1) {
			*q++ = (char)c;
			i += 2;
		} else
			*q++ = p[i];
	}
	*q = '\0';
	return d;
}

/* The bracketed IPv6 literals a and b are the same address. */
static int
same_ipv6(const char *a, size_t an, const char *b)
{
	unsigned char	 x[16], y[16];
	char		 t[64];
	size_t		 bn = strlen(b);

	if (an < 2 || an - 2 >= sizeof(t) || bn < 2 || bn - 2 >= sizeof(t) ||
	    a[0] != '[' || b[0] != '[')
		return 0;
	memcpy(t, a + 1, an - 2);
	t[an - 2] = '\0';
	if (inet_pton(AF_INET6, t, x) != 1)
		return 0;
	memcpy(t, b + 1, bn - 2);
	t[bn - 2] = '\0';
	if (inet_pton(AF_INET6, t, y) != 1)
		return 0;
	return memcmp(x, y, sizeof(x)) == 0;
}

/*
 * curl's host ch is the host syntax_url_host() gave: the same after
 * percent-decoding (ASCII case aside), or the same address when curl
 * normalised an IP address.
 */
static int
same_host(const char *h, size_t n, const char *ch)
{
	struct in_addr	 a;
	char		*d, q[INET_ADDRSTRLEN];
	int		 ok;

	if (h[0] == '[')
		return same_ipv6(h, n, ch);
	if ((d = pct_decode(h, n)) == NULL)
		return 1;
	ok = strcasecmp(d, ch) == 0;
	/* curl reads "0x7f.1" and "1.2.3.04" as inet_aton() does */
	if (!ok && inet_aton(d, &a) == 1 &&
	    inet_ntop(AF_INET, &a, q, sizeof(q)) != NULL)
		ok = strcmp(q, ch) == 0;
	free(d);
	return ok;
}

/* The IRI s mapped to a URI: every byte from 0x80 percent-encoded. */
static char *
iri_to_uri(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct buf		 b;
	unsigned char		 c;
	char			 e[3];

	buf_init(&b, 4 * strlen(s) + 16);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c < 0x80) {
			if (buf_addch(&b, (char)c) == -1)
				goto fail;
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		if (buf_add(&b, e, sizeof(e)) == -1)
			goto fail;
	}
	if (buf_addstr(&b, "") == -1)
		goto fail;
	return buf_detach(&b, NULL);
fail:
	buf_release(&b);
	return NULL;
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void
check_url(const char *s)
{
	CURLU		*u;
	CURLUcode	 rc;
	xmlURIPtr	 x;
	const char	*h;
	char		*ch = NULL, *sch = NULL, *ph = NULL, *m;
	size_t		 n;
	int		 is_url, is_tmpl, is_base;

	is_url = syntax_is_http_url(s);
	is_tmpl = syntax_is_http_template(s);
	is_base = syntax_is_base_url(s);
	if ((is_url && !is_tmpl) || (is_base && !is_url) ||
	    (syntax_url_host(s, &h, &n) == 0) != is_url)
		abort();
	if (is_tmpl && !is_url) {
		/* ping-get templates go to curl expanded or left as written */
		if ((u = curl_url()) == NULL)
			return;
		rc = curl_url_set(u, CURLUPART_URL, s, CURL_URL_FLAGS);
		if (rc != CURLUE_OK && rc != CURLUE_OUT_OF_MEMORY)
			abort();
		curl_url_cleanup(u);
		return;
	}
	if (!is_url)
		return;
	if (h < s || h + n > s + strlen(s) || n == 0)
		abort();
	if (is_base && strpbrk(h + n, "?#") != NULL)
		abort();

	if ((u = curl_url()) == NULL)
		return;
	rc = curl_url_set(u, CURLUPART_URL, s, CURL_URL_FLAGS);
	if (rc == CURLUE_OUT_OF_MEMORY)
		goto out;
	if (rc != CURLUE_OK)
		abort();	/* accepted here, refused by curl */
	if (curl_url_get(u, CURLUPART_SCHEME, &sch, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &ch, 0) != CURLUE_OK)
		goto out;
	if (strcmp(sch, "http") != 0 && strcmp(sch, "https") != 0)
		abort();
	if (!same_host(h, n, ch))
		abort();
	/*
	 * IDNA2008 is the documented difference (syntax.h): curl may refuse
	 * a non-ASCII host when it converts it, an ASCII host never.
	 */
	if (curl_url_get(u, CURLUPART_HOST, &ph, CURLU_PUNYCODE) ==
	    CURLUE_OK) {
		if (is_ascii(ch) && strcmp(ph, ch) != 0)
			abort();
	} else if (is_ascii(ch))
		abort();

	if ((m = iri_to_uri(s)) != NULL) {
		if ((x = xmlParseURI(m)) == NULL)
			abort();
		xmlFreeURI(x);
		free(m);
	}
out:
	curl_free(ph);
	curl_free(ch);
	curl_free(sch);
	curl_url_cleanup(u);
}

static int
is_lower_code(const char *c, size_t lo, size_t hi)
{
	size_t	 i;

	for (i = 0; c[i] != '\0'; i++)
		if (c[i] < 'a' || c[i] > 'z')
			return 0;
	return i >= lo && i <= hi;
}

static void
check_lang(const char *s, size_t len)
{
	char		 out[LANG_CODE_LEN], out2[LANG_CODE_LEN], *c, *c2;
	const char	*r, *r2;
	size_t		 clen;

	if (!syntax_is_lang(s)) {
		if (lang_is_code(s) || lang_iso1(s) != NULL ||
		    lang_iso3(s, out) != NULL || lang_marc(s, out) != NULL)
			abort();
		return;
	}
	if (!lang_is_code(s)) {
		if (lang_iso1(s) != NULL || lang_iso3(s, out) != NULL)
			abort();
		return;
	}
	/* exact-size buffers: ASan sees a write past the canonical form */
	if ((c = malloc(len + 1)) == NULL)
		return;
	if (lang_canon(s, c, len + 1) != c)
		abort();
	clen = strlen(c);
	if (!syntax_is_lang(c) || !lang_is_code(c) || clen > len)
		abort();
	if (clen > 0 && lang_canon(s, c, clen) != NULL)
		abort();	/* one byte short must fail, not truncate */
	if (lang_canon(s, c, clen + 1) != c)
		abort();
	if ((c2 = malloc(clen + 1)) == NULL)
		goto out;
	if (lang_canon(c, c2, clen + 1) != c2 || strcmp(c, c2) != 0)
		abort();	/* canonical form is a fixed point */
	free(c2);

	r = lang_iso3(s, out);
	r2 = lang_iso3(c, out2);
	if ((r == NULL) != (r2 == NULL) || (r != NULL && (strcmp(r, r2) != 0 ||
	    !is_lower_code(r, 3, 3) || !lang_is_code(r))))
		abort();
	r = lang_marc(s, out);
	r2 = lang_marc(c, out2);
	if ((r == NULL) != (r2 == NULL) || (r != NULL && (strcmp(r, r2) != 0 ||
	    !is_lower_code(r, 3, 3) || !lang_is_code(r))))
		abort();
	if ((lang_iso3(s, out) == NULL) != (r == NULL))
		abort();
	r = lang_iso1(s);
	r2 = lang_iso1(c);
	if ((r == NULL) != (r2 == NULL) || (r != NULL && (strcmp(r, r2) != 0 ||
	    !is_lower_code(r, 2, 2) || strncmp(c, r, 2) != 0 ||
	    (c[2] != '\0' && c[2] != '-'))))
		abort();
out:
	free(c);
}

static void
check_setspec(const char *s)
{
	size_t	 i;

	if (!syntax_is_setspec(s))
		return;
	if (s[0] == ':' || s[0] == '\0' || s[strlen(s) - 1] == ':' ||
	    strstr(s, "::") != NULL)
		abort();
	for (i = 0; s[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.!~*'():", s[i]) == NULL)
			abort();
}

/* syntax_pct_encode(): only unreserved and %HH, and it decodes back. */
static void
check_pct(const char *s)
{
	struct buf	 b;
	char		*d;
	size_t		 i;

	buf_init(&b, 3 * strlen(s) + 1);
	if (syntax_pct_encode(&b, s) == -1) {
		buf_release(&b);
		return;
	}
	for (i = 0; i < b.len; i++)
		if (b.data[i] == '%') {
			if (syntax_hex2(b.data + i + 1) == -1)
				abort();
			i += 2;
		} else if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", b.data[i]) ==
		    NULL || b.data[i] == '\0')
			abort();
	if ((d = pct_decode(b.data, b.len)) != NULL) {
		if (strcmp(d, s) != 0)
			abort();
		free(d);
	}
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;
	size_t	 len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	if (len != size) {
		/* exact-size copy so a read past the NUL is seen */
		free(s);
		if ((s = malloc(len + 1)) == NULL)
			return 0;
		memcpy(s, data, len);
		s[len] = '\0';
	}
	check_url(s);
	check_lang(s, len);
	check_setspec(s);
	check_pct(s);
	free(s);
	return 0;
}
