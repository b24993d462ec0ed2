#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "banned.h"

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The q value of one list element's parameters ("; q=0.5"), default 1. */
static double
element_q(const char *params, const char *end)
{
	const char	*p = params;
	char		 num[16];
	size_t		 n;

	while (p < end && (p = memchr(p, ';', (size_t)(end - p))) != NULL) {
		p = skip_ows(p + 1);
		if (p + 2 <= end && (p[0] == 'q' || p[0] == 'Q') &&
		    p[1] == '=') {
			p += 2;
			n = (size_t)(end - p);
			if (n >= sizeof(num))
				n = sizeof(num) - 1;
			memcpy(num, p, n);
			num[n] = '\0';
			return strtod(num, NULL);
		}
	}
	return 1.0;
}

int
http_accepts_coding(const char *ae, const char *coding)
{
	const char	*p, *end, *tok_end;
	size_t		 n = strlen(coding), len;
	double		 star = -1, exact = -1, q;

	for (p = ae; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		p = skip_ows(p);
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		tok_end = p;
		while (tok_end < end && *tok_end != ';' && *tok_end != ' ' &&
		    *tok_end != '\t')
			tok_end++;
		len = (size_t)(tok_end - p);
		q = element_q(tok_end, end);
		if (len == n && strncasecmp(p, coding, n) == 0)
			exact = q;
		else if (len == 1 && *p == '*')
			star = q;
	}
	if (exact >= 0)
		return exact > 0;
	return star > 0;
}

/*
 * The q an Accept value gives type/subtype (lower case): that of its most
 * specific matching range (type/subtype over type/<any> over any, RFC 9110
 * 12.5.1); 0 when no range matches.
 */
static double
media_q(const char *accept, const char *type)
{
	const char	*p, *end, *tok_end, *slash = strchr(type, '/');
	size_t		 len, n = strlen(type), tn = (size_t)(slash - type);
	double		 q = 0;
	int		 best = 0, spec;

	for (p = accept; *p != '\0'; p = *end ? end + 1 : end) {
		p = skip_ows(p);
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		tok_end = p;
		while (tok_end < end && *tok_end != ';' && *tok_end != ' ' &&
		    *tok_end != '\t')
			tok_end++;
		len = (size_t)(tok_end - p);
		if (len == n && strncasecmp(p, type, n) == 0)
			spec = 3;
		else if (len == tn + 2 && strncasecmp(p, type, tn + 1) == 0 &&
		    p[tn + 1] == '*')
			spec = 2;
		else if (len == 3 && strncmp(p, "*/*", 3) == 0)
			spec = 1;
		else
			continue;
		if (spec > best) {
			best = spec;
			q = element_q(tok_end, end);
		}
	}
	return q;
}

int
http_prefers_html(const char *accept)
{
	double	 html, xml, axml;

	if (accept == NULL)
		return 0;
	html = media_q(accept, "text/html");
	xml = media_q(accept, "text/xml");
	axml = media_q(accept, "application/xml");
	return html > 0 && html > xml && html > axml;
}

int
http_etag_match(const char *inm, const char *etag)
{
	const char	*p = inm, *end;
	size_t		 n = strlen(etag), len;
	int		 nelem = 0, star = 0;

	/* weak comparison: a W/ prefix on either side is ignored */
	if (strncmp(etag, "W/", 2) == 0) {
		etag += 2;
		n -= 2;
	}
	/*
	 * "*" stands alone (RFC 7232 3.2: "*" / 1#entity-tag); a list that
	 * holds one is invalid and matches nothing.
	 */
	for (; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		p = skip_ows(p);
		if (p < end)	/* empty elements do not count (RFC 7230 7) */
			nelem++;
		if (*p == '*' && (p + 1 == end || skip_ows(p + 1) == end))
			star = 1;
	}
	if (star)
		return nelem == 1;
	for (p = inm; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		p = skip_ows(p);
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len >= 2 && strncmp(p, "W/", 2) == 0) {
			p += 2;
			len -= 2;
		}
		if (len == n && strncmp(p, etag, n) == 0)
			return 1;
	}
	return 0;
}

int
http_media_type_is(const char *value, const char *type)
{
	size_t		 n = strlen(type);
	const char	*p;

	if (value == NULL)
		return 0;
	value = skip_ows(value);
	if (strncasecmp(value, type, n) != 0)
		return 0;
	p = skip_ows(value + n);
	/* the type/subtype token ends here; parameters may follow */
	return *p == '\0' || *p == ';';
}

const char *
http_origin_path(const char *target)
{
	const char	*p;

	if (strncasecmp(target, "http://", 7) == 0)
		p = target + 7;
	else if (strncasecmp(target, "https://", 8) == 0)
		p = target + 8;
	else
		return target;
	/* the authority ends at the path, the query or the end */
	p += strcspn(p, "/?");
	return *p == '/' ? p : "/";
}
