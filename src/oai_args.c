/*
 * OAI-PMH arguments: application/x-www-form-urlencoded decoding and the
 * argument rules of each verb (OAI-PMH 2.0 sections 3.1.1 and 4).
 *
 * Decoding never fails on user input; it flags what it cannot accept and
 * oai_req_check() turns the flags into badArgument.  Besides invalid
 * %-escapes, NUL and invalid UTF-8, characters XML 1.0 forbids count as bad
 * encoding too: the request element must echo the arguments exactly, and
 * such characters could not be written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai_int.h"
#include "syntax.h"
#include "xw.h"
#include "banned.h"

enum {
	A_IDENTIFIER = 1 << 0,
	A_PREFIX = 1 << 1,
	A_FROM = 1 << 2,
	A_UNTIL = 1 << 3,
	A_SET = 1 << 4,
	A_TOKEN = 1 << 5,
};

static const char *const arg_names[] = {
	"identifier", "metadataPrefix", "from", "until", "set",
	"resumptionToken"
};
#define NARGS	(sizeof(arg_names) / sizeof(arg_names[0]))

#define LIST_ARGS	(A_PREFIX | A_FROM | A_UNTIL | A_SET | A_TOKEN)

/* Section 4: what each verb allows and requires (without a token). */
static const struct {
	const char	*name;
	unsigned	 allowed;
	unsigned	 required;
} verbs[OAI_VERB_COUNT] = {
	[OAI_IDENTIFY] = { "Identify", 0, 0 },
	[OAI_LIST_METADATA_FORMATS] = { "ListMetadataFormats", A_IDENTIFIER,
	    0 },
	[OAI_LIST_SETS] = { "ListSets", A_TOKEN, 0 },
	[OAI_GET_RECORD] = { "GetRecord", A_IDENTIFIER | A_PREFIX,
	    A_IDENTIFIER | A_PREFIX },
	[OAI_LIST_IDENTIFIERS] = { "ListIdentifiers", LIST_ARGS, A_PREFIX },
	[OAI_LIST_RECORDS] = { "ListRecords", LIST_ARGS, A_PREFIX },
};

const char *
oai_verb_name(enum oai_verb v)
{
	return v < OAI_VERB_COUNT ? verbs[v].name : "";
}

/* Percent-decode p[0..n) into a new string; NUL bytes are dropped. */
static char *
form_decode(const char *p, size_t n, int *bad)
{
	char	*s, *q;
	size_t	 i;
	int	 b;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0, q = s; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (n - i < 3 || (b = syntax_hex2(p + i + 1)) == -1) {
				*bad = 1;
				continue;
			}
			c = (unsigned char)b;
			i += 2;
		}
		if (c == '\0') {
			*bad = 1;
			continue;
		}
		*q++ = (char)c;
	}
	*q = '\0';
	if (!xw_is_clean(s, (size_t)(q - s)))
		*bad = 1;
	return s;
}

/* Decode one "key=value" segment and append it, or flag it. */
static int
args_add(struct oai_args *a, const char *seg, size_t n)
{
	const char	*eq = memchr(seg, '=', n);
	size_t		 klen = eq != NULL ? (size_t)(eq - seg) : n;
	size_t		 vlen = eq != NULL ? n - klen - 1 : 0;
	char		*k, *v;
	/* an over-long token is a bad token (badResumptionToken), not a bad
	 * argument: "!" is never a token */
	int		 is_token = klen == 15 &&
			    memcmp(seg, "resumptionToken", 15) == 0;

	if (is_token && vlen > 3 * OAI_ARG_MAX) {
		seg = "resumptionToken=!";
		eq = seg + klen;
		vlen = 1;
	}
	if (a->n == OAI_ARGS_MAX || klen > 3 * OAI_ARG_MAX ||
	    vlen > 3 * OAI_ARG_MAX) {
		a->too_many = 1;
		return 0;
	}
	if ((k = form_decode(seg, klen, &a->bad_encoding)) == NULL)
		return -1;
	if ((v = form_decode(eq != NULL ? eq + 1 : "", vlen,
	    &a->bad_encoding)) == NULL) {
		free(k);
		return -1;
	}
	if (is_token && strlen(v) > OAI_ARG_MAX)
		memcpy(v, "!", 2);
	if (strlen(k) > OAI_ARG_MAX || strlen(v) > OAI_ARG_MAX) {
		a->too_many = 1;
		free(k);
		free(v);
		return 0;
	}
	a->v[a->n].key = k;
	a->v[a->n].value = v;
	a->n++;
	return 0;
}

int
oai_args_parse(const char *s, size_t len, struct oai_args *out)
{
	const char	*end;
	size_t		 pos = 0, n;

	memset(out, 0, sizeof(*out));
	if ((out->v = calloc(OAI_ARGS_MAX, sizeof(*out->v))) == NULL)
		return -1;
	while (pos < len) {
		end = memchr(s + pos, '&', len - pos);
		n = end != NULL ? (size_t)(end - (s + pos)) : len - pos;
		/* "a=1&&b=2" and a trailing '&' are harmless: skip empties */
		if (n > 0 && args_add(out, s + pos, n) == -1) {
			oai_args_release(out);
			return -1;
		}
		pos += n + 1;
	}
	return 0;
}

void
oai_args_release(struct oai_args *a)
{
	size_t	 i;

	for (i = 0; a->v != NULL && i < a->n; i++) {
		free(a->v[i].key);
		free(a->v[i].value);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void
oai_req_error(struct oai_req *r, const char *code, const char *fmt, ...)
{
	va_list	 ap;

	if (r->nerrs == OAI_ERRORS_MAX)
		return;
	r->errs[r->nerrs].code = code;
	va_start(ap, fmt);
	vsnprintf(r->errs[r->nerrs].msg, OAI_ERROR_MSG, fmt, ap);
	va_end(ap);
	r->nerrs++;
}

/* The characters OAI-PMH.xsd allows in metadataPrefix and setSpec parts. */
static int
is_spec_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || strchr("-_.!~*'()", c) != NULL;
}

static int
is_prefix(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_spec_char((unsigned char)*s))
			return 0;
	return 1;
}

/* RFC 2396 uric: what an identifier (xsd:anyURI) may hold unescaped. */
static int
is_identifier(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++) {
		if (*p == '%') {
			if (syntax_hex2((const char *)p + 1) == -1)
				return 0;
			p += 2;
		} else if (!is_spec_char(*p) &&
		    strchr(";/?:@&=+$,", *p) == NULL)
			return 0;
	}
	return 1;
}

static enum oai_verb
find_verb(const struct oai_args *a, struct oai_req *r)
{
	const char	*name = NULL;
	size_t		 i, n = 0;
	int		 v;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, "verb") == 0) {
			name = a->v[i].value;
			n++;
		}
	if (n == 0) {
		oai_req_error(r, OAI_ERR_BAD_VERB,
		    "the verb argument is missing");
		return OAI_VERB_BAD;
	}
	if (n > 1) {
		oai_req_error(r, OAI_ERR_BAD_VERB,
		    "the verb argument is repeated");
		return OAI_VERB_BAD;
	}
	for (v = 0; v < OAI_VERB_COUNT; v++)
		if (strcmp(name, verbs[v].name) == 0)
			return (enum oai_verb)v;
	oai_req_error(r, OAI_ERR_BAD_VERB, "illegal OAI verb");
	return OAI_VERB_BAD;
}

static const char **
arg_slot(struct oai_req *r, unsigned bit)
{
	switch (bit) {
	case A_IDENTIFIER:
		return &r->identifier;
	case A_PREFIX:
		return &r->prefix;
	case A_SET:
		return &r->set;
	case A_TOKEN:
		return &r->token;
	}
	return NULL;
}

/* Illegal and repeated arguments; returns the bits of those present. */
static unsigned
check_names(const struct oai_args *a, struct oai_req *r, const char **from,
    const char **until)
{
	unsigned	 seen = 0, bit;
	size_t		 i, j, k;

	for (i = 0; i < a->n; i++) {
		const char *key = a->v[i].key;

		if (strcmp(key, "verb") == 0)
			continue;
		for (k = 0; k < NARGS && strcmp(key, arg_names[k]) != 0; k++)
			;
		bit = k < NARGS ? 1u << k : 0;
		for (j = 0; j < i && strcmp(a->v[j].key, key) != 0; j++)
			;
		if (j < i)	/* reported with its first occurrence */
			continue;
		if (bit == 0 || (verbs[r->verb].allowed & bit) == 0) {
			oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
			    "illegal argument '%.64s' for %s", key,
			    verbs[r->verb].name);
			continue;
		}
		for (j = i + 1; j < a->n && strcmp(a->v[j].key, key) != 0; j++)
			;
		if (j < a->n)
			oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
			    "repeated argument '%s'", key);
		seen |= bit;
		if (bit == A_FROM)
			*from = a->v[i].value;
		else if (bit == A_UNTIL)
			*until = a->v[i].value;
		else
			*arg_slot(r, bit) = a->v[i].value;
	}
	return seen;
}

static void
check_dates(struct oai_req *r, const char *from, const char *until)
{
	const char	*why;

	if (from != NULL) {
		if (date_parse(from, strlen(from), &r->from, &why) == 0)
			r->has_from = 1;
		else
			oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
			    "from is not a UTCdatetime: %s", why);
	}
	if (until != NULL) {
		if (date_parse(until, strlen(until), &r->until, &why) == 0)
			r->has_until = 1;
		else
			oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
			    "until is not a UTCdatetime: %s", why);
	}
	if (!r->has_from || !r->has_until)
		return;
	if (r->from.gran != r->until.gran)
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "from and until have different granularities");
	else if (r->from.t > r->until.t)
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "from is later than until");
}

static void
check_syntax(struct oai_req *r, const char *from, const char *until)
{
	if (r->prefix != NULL && !is_prefix(r->prefix))
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "metadataPrefix has an illegal syntax");
	if (r->set != NULL && !syntax_is_setspec(r->set))
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "set is not a valid setSpec");
	if (r->identifier != NULL && !is_identifier(r->identifier))
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "identifier has an illegal syntax");
	if (r->token != NULL && *r->token == '\0')
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "resumptionToken is empty");
	check_dates(r, from, until);
}

size_t
oai_req_check(const struct oai_args *a, struct oai_req *r)
{
	const char	*from = NULL, *until = NULL;
	unsigned	 seen, missing;
	size_t		 k;

	memset(r, 0, sizeof(*r));
	if ((r->verb = find_verb(a, r)) == OAI_VERB_BAD)
		return r->nerrs;
	if (a->bad_encoding)
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "the arguments are not correctly encoded (%%-escapes, "
		    "UTF-8, characters XML allows)");
	if (a->too_many)
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "too many arguments or an argument over %d bytes",
		    OAI_ARG_MAX);
	seen = check_names(a, r, &from, &until);
	if ((seen & A_TOKEN) != 0 && seen != A_TOKEN)
		oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
		    "resumptionToken is an exclusive argument");
	missing = (seen & A_TOKEN) != 0 ? 0 : verbs[r->verb].required & ~seen;
	for (k = 0; k < NARGS; k++)
		if ((missing & (1u << k)) != 0)
			oai_req_error(r, OAI_ERR_BAD_ARGUMENT,
			    "missing required argument '%s'", arg_names[k]);
	check_syntax(r, from, until);
	return r->nerrs;
}
