/* syntax.c: see syntax.h. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "syntax.h"
#include "banned.h"

#define URL_TEMPLATE	0x1	/* '{' and '}' allowed after the authority */

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

/* RFC 3986 unreserved. */
static int
is_unreserved(int c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int
is_sub_delim(int c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

int
syntax_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
syntax_hex2(const char *p)
{
	int	 hi, lo;

	if ((hi = syntax_hexval((unsigned char)p[0])) == -1 ||
	    (lo = syntax_hexval((unsigned char)p[1])) == -1)
		return -1;
	return hi << 4 | lo;
}

/*
 * Length of the RFC 3987 ucschar at s (well-formed UTF-8, U+00A0 or
 * above, no surrogate, no value past U+10FFFF), 0 if there is none.
 */
static size_t
ucs_len(const unsigned char *s)
{
	unsigned long	 cp, min;
	size_t		 n, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, cp = s[0] & 0x1f, min = 0xa0;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

/*
 * Length of one URL character of [p, end) that the component allows
 * (extra: the characters it takes besides unreserved, sub-delims and
 * pct-encoded; iri: non-ASCII too), 0 if there is none.
 */
static size_t
url_char(const char *p, const char *end, const char *extra, int iri)
{
	unsigned char	 c = (unsigned char)*p;

	if (c >= 0x80)
		return iri ? ucs_len((const unsigned char *)p) : 0;
	if (c == '%')
		return end - p >= 3 && syntax_hex2(p + 1) != -1 ? 3 : 0;
	if (is_unreserved(c) || is_sub_delim(c) ||
	    (c != '\0' && strchr(extra, c) != NULL))
		return 1;
	return 0;
}

/* Every character of [p, end) is one url_char() allows. */
static int
url_run(const char *p, const char *end, const char *extra, int iri)
{
	size_t	 n;

	for (; p < end; p += n)
		if ((n = url_char(p, end, extra, iri)) == 0)
			return 0;
	return 1;
}

/*
 * A reg-name of unreserved characters, %HH escapes of unreserved or
 * non-ASCII bytes and IRI characters: no sub-delims, which RFC 3986
 * allows but no DNS name holds and libcurl refuses, also when escaped.
 */
static int
host_run(const char *p, const char *end)
{
	size_t	 n;
	int	 c;

	for (; p < end; p += n) {
		if ((n = url_char(p, end, "", 1)) == 0 ||
		    is_sub_delim((unsigned char)*p))
			return 0;
		if (*p == '%' && (c = syntax_hex2(p + 1)) < 0x80 &&
		    !is_unreserved(c))
			return 0;
	}
	return 1;
}

/* An IP-literal without its brackets: an IPv6 address. */
static int
ipv6_ok(const char *p, size_t n)
{
	char		 a[64];
	unsigned char	 sa[16];

	if (n == 0 || n >= sizeof(a))
		return 0;
	memcpy(a, p, n);
	a[n] = '\0';
	return inet_pton(AF_INET6, a, sa) == 1;
}

/*
 * Check s; the host span into *host and *hostlen, where the path starts
 * into *rest.  0, or -1 if s is not an http(s) URL under flags.
 */
static int
url_parse(const char *s, unsigned flags, const char **host, size_t *hostlen,
    const char **rest)
{
	const char	*auth, *end, *h, *hend, *p, *frag;
	const char	*pchar = (flags & URL_TEMPLATE) ? ":@/?{}" : ":@/?";
	long		 port;

	if (strncasecmp(s, "http://", 7) == 0)
		auth = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		auth = s + 8;
	else
		return -1;
	end = auth + strcspn(auth, "/?#");
	h = auth;
	for (p = auth; p < end; p++)
		if (*p == '@')
			h = p + 1;
	if (h > auth && !url_run(auth, h - 1, ":", 1))
		return -1;
	if (*h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL ||
		    !ipv6_ok(h + 1, (size_t)(hend - h - 1)))
			return -1;
		hend++;
	} else {
		if ((hend = memchr(h, ':', (size_t)(end - h))) == NULL)
			hend = end;
		if (hend == h || !host_run(h, hend))
			return -1;
	}
	if (hend < end) {
		if (*hend != ':' || hend + 1 == end)
			return -1;
		for (port = 0, p = hend + 1; p < end; p++)
			if (!is_digit((unsigned char)*p) ||
			    (port = port * 10 + (*p - '0')) > 65535)
				return -1;
	}
	/* path and query, then one fragment (which may hold '?' and '/') */
	if ((frag = strchr(end, '#')) == NULL)
		frag = end + strlen(end);
	if (!url_run(end, frag, pchar, 1) || (*frag == '#' &&
	    !url_run(frag + 1, frag + strlen(frag), pchar, 1)))
		return -1;
	*host = h;
	*hostlen = (size_t)(hend - h);
	*rest = end;
	return 0;
}

int
syntax_is_http_url(const char *s)
{
	const char	*h, *r;
	size_t		 n;

	return s != NULL && url_parse(s, 0, &h, &n, &r) == 0;
}

int
syntax_is_http_template(const char *s)
{
	const char	*h, *r;
	size_t		 n;

	return s != NULL && url_parse(s, URL_TEMPLATE, &h, &n, &r) == 0;
}

int
syntax_is_base_url(const char *s)
{
	const char	*h, *r;
	size_t		 n;

	return s != NULL && url_parse(s, 0, &h, &n, &r) == 0 &&
	    strpbrk(r, "?#") == NULL;
}

int
syntax_url_host(const char *s, const char **host, size_t *len)
{
	const char	*r;

	return s != NULL ? url_parse(s, 0, host, len, &r) : -1;
}

/* ---- Language tags (RFC 5646 section 2.1) ------------------------------ */

/* Tags that do not match langtag but are well-formed by registration. */
static const char *const irregular[] = {
	"en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak",
	"i-klingon", "i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao",
	"i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
};

/* Subtag lengths and kinds, for the production tests below. */
struct subtag {
	const char	*p;
	size_t		 n;
};

static int
all_of(const struct subtag *t, int (*fn)(int))
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (!fn((unsigned char)t->p[i]))
			return 0;
	return 1;
}

static int
st_alpha(const struct subtag *t, size_t lo, size_t hi)
{
	return t->n >= lo && t->n <= hi && all_of(t, is_alpha);
}

static int
st_alnum(const struct subtag *t, size_t lo, size_t hi)
{
	return t->n >= lo && t->n <= hi && all_of(t, is_alnum);
}

static int
is_region(const struct subtag *t)
{
	return st_alpha(t, 2, 2) || (t->n == 3 && all_of(t, is_digit));
}

static int
is_variant(const struct subtag *t)
{
	return st_alnum(t, 5, 8) || (st_alnum(t, 4, 4) &&
	    is_digit((unsigned char)t->p[0]));
}

static int
is_x(const struct subtag *t)
{
	return t->n == 1 && (t->p[0] == 'x' || t->p[0] == 'X');
}

/* Split s at '-' into at most max subtags of 1 to 8 alphanumerics. */
static int
split_subtags(const char *s, struct subtag *t, size_t max, size_t *n)
{
	for (*n = 0; *n < max; (*n)++) {
		t[*n].p = s;
		t[*n].n = strcspn(s, "-");
		if (!st_alnum(&t[*n], 1, 8))
			return -1;
		s += t[*n].n;
		if (*s == '\0') {
			(*n)++;
			return 0;
		}
		s++;
	}
	return -1;
}

/* privateuse from subtag i ("x" 1*("-" 1*8alphanum)) runs to the end. */
static int
privateuse_ok(size_t i, size_t n)
{
	return i + 1 < n;	/* split_subtags() checked 1*8alphanum */
}

int
syntax_is_lang(const char *s)
{
	struct subtag	 t[64];
	size_t		 n, i, k;

	if (s == NULL)
		return 0;
	for (i = 0; i < sizeof(irregular) / sizeof(irregular[0]); i++)
		if (strcasecmp(s, irregular[i]) == 0)
			return 1;
	if (split_subtags(s, t, sizeof(t) / sizeof(t[0]), &n) == -1)
		return 0;
	if (is_x(&t[0]))
		return privateuse_ok(0, n);
	if (!st_alpha(&t[0], 2, 8))
		return 0;
	i = 1;
	if (t[0].n <= 3)
		for (k = 0; k < 3 && i < n && st_alpha(&t[i], 3, 3); k++)
			i++;
	if (i < n && st_alpha(&t[i], 4, 4))
		i++;
	if (i < n && is_region(&t[i]))
		i++;
	while (i < n && is_variant(&t[i]))
		i++;
	while (i < n && t[i].n == 1 && !is_x(&t[i])) {
		/* extension: singleton 1*("-" 2*8alphanum) */
		for (k = i + 1; k < n && t[k].n >= 2; k++)
			;
		if (k == i + 1)
			return 0;
		i = k;
	}
	if (i < n && is_x(&t[i]))
		return privateuse_ok(i, n);
	return i == n;
}

/* ---- OAI-PMH ----------------------------------------------------------- */

int
syntax_is_setspec(const char *s)
{
	size_t	 run = 0;

	if (s == NULL)
		return 0;
	for (;; s++) {
		if (*s == ':' || *s == '\0') {
			if (run == 0)
				return 0;
			if (*s == '\0')
				return 1;
			run = 0;
		} else if (is_alnum((unsigned char)*s) ||
		    strchr("-_.!~*'()", *s) != NULL)
			run++;
		else
			return 0;
	}
}

/* ---- Percent-encoding -------------------------------------------------- */

int
syntax_pct_encode(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			 e[3];

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (is_unreserved(c)) {
			if (buf_addch(b, (char)c) == -1)
				return -1;
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		if (buf_add(b, e, sizeof(e)) == -1)
			return -1;
	}
	return buf_addstr(b, "");
}
