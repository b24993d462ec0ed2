/*
 * conf: parse the configuration file.
 *
 * The parser is table-driven: every directive is one row naming its value
 * count, whether it is required or repeatable, and the handler that checks
 * and stores its value.  Errors never stop the pass; every one is appended to
 * the caller's struct err and the result is NULL if there was any.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "log.h"
#include "nearest.h"
#include "record.h"
#include "syntax.h"
#include "vec.h"
#include "banned.h"

#define CONF_MAX_BYTES	(1024 * 1024)
#define CONF_MAX_WORDS	8	/* more than any directive takes */

struct directive;

struct parser {
	struct conf	*c;
	const char	*path;
	struct err	*e;
	int		 line;
	int		 errors;
	int		 skipped;	/* lines lost to encoding/quoting */
	int		 oom;
	int		*seen;		/* first line of each directive */
	size_t		 cap_admin;	/* capacities of the conf's lists */
	size_t		 cap_sets;
	size_t		 cap_targets;
};

enum {
	D_REQUIRED = 0x1,
	D_MULTI = 0x2,
	D_STR = 0x4,	/* off is a char * the conf owns: conf_free frees it */
};

/*
 * One row per directive: what it takes, where it goes and what it is when
 * absent.  A new scalar directive is its struct conf field plus one row:
 * conf_defaults() applies def through the row's own handler (as if the file
 * said "name def"), and conf_free() frees every D_STR field.
 */
struct directive {
	const char	*name;
	int		 minargs;
	int		 maxargs;
	unsigned	 flags;
	int		(*fn)(struct parser *, const struct directive *,
			    char **, int);
	size_t		 off;	/* field in struct conf */
	long long	 min;	/* integer range, or target kind */
	long long	 max;
	const char	*def;	/* the value when absent, as in the file */
};

static int	 d_string(struct parser *, const struct directive *, char **,
		    int);
static int	 d_url(struct parser *, const struct directive *, char **, int);
static int	 d_base_url(struct parser *, const struct directive *, char **,
		    int);
static int	 d_email(struct parser *, const struct directive *, char **,
		    int);
static int	 d_admin(struct parser *, const struct directive *, char **,
		    int);
static int	 d_tag(struct parser *, const struct directive *, char **, int);
static int	 d_int(struct parser *, const struct directive *, char **, int);
static int	 d_size(struct parser *, const struct directive *, char **,
		    int);
static int	 d_bool(struct parser *, const struct directive *, char **,
		    int);
static int	 d_loglevel(struct parser *, const struct directive *, char **,
		    int);
static int	 d_listen(struct parser *, const struct directive *, char **,
		    int);
static int	 d_lang(struct parser *, const struct directive *, char **,
		    int);
static int	 d_set(struct parser *, const struct directive *, char **, int);
static int	 d_oai_path(struct parser *, const struct directive *, char **,
		    int);
static int	 d_namespace(struct parser *, const struct directive *, char **,
		    int);
static int	 d_token_key(struct parser *, const struct directive *, char **,
		    int);
static int	 d_target(struct parser *, const struct directive *, char **,
		    int);

#define OFF(f)	offsetof(struct conf, f)
#define STR(n, f, fl)	{ n, 1, 1, (fl) | D_STR, d_string, OFF(f), 0, 0, NULL }
#define URL(n, f)	{ n, 1, 1, D_STR, d_url, OFF(f), 0, 0, NULL }
#define INT(n, f, lo, hi, def) { n, 1, 1, 0, d_int, OFF(f), lo, hi, def }
#define BOOL(n, f, def)	{ n, 1, 1, 0, d_bool, OFF(f), 0, 0, def }
#define TARGET(n, k, a)	{ n, a, a, D_MULTI, d_target, 0, k, 0, NULL }

static const struct directive directives[] = {
	STR("repository-name", repository_name, D_REQUIRED),
	{ "base-url", 1, 1, D_REQUIRED | D_STR, d_base_url, OFF(base_url),
	    0, 0, NULL },
	{ "admin-email", 1, 1, D_REQUIRED | D_MULTI, d_admin, 0, 0, 0, NULL },
	{ "tag-authority", 1, 1, D_STR, d_tag, OFF(tag_authority), 0, 0,
	    NULL },
	STR("records", records_dir, D_REQUIRED),
	STR("state", state_dir, D_REQUIRED),
	/* "4M": RECORD_MAX_BYTES (check_conf's test_defaults holds them equal) */
	{ "max-record-size", 1, 1, 0, d_size, OFF(max_record_bytes),
	    1024, 64 * 1024 * 1024, "4M" },
	{ "listen", 1, 1, D_STR, d_listen, OFF(listen_addr), 0, 0,
	    "127.0.0.1:8080" },
	INT("threads", threads, 1, 256, "4"),
	/* "64M": SNAP_DOC_CACHE_DEFAULT */
	{ "document-cache", 1, 1, 0, d_size, OFF(doc_cache_bytes),
	    0, 16LL * 1024 * 1024 * 1024, "64M" },
	/* renderings kept on records (record_cache_add()); 0: none */
	{ "record-cache", 1, 1, 0, d_size, OFF(record_cache_bytes),
	    0, 16LL * 1024 * 1024 * 1024, "128M" },
	INT("max-age", max_age, 0, 31536000, "300"),
	BOOL("metrics-local-only", metrics_local_only, "yes"),
	BOOL("access-log", access_log, "no"),
	{ "log-level", 1, 1, 0, d_loglevel, OFF(log_level), 0, 0, "info" },
	STR("feed-title", feed_title, 0),
	STR("feed-subtitle", feed_subtitle, 0),
	STR("feed-author-name", feed_author_name, D_REQUIRED),
	{ "feed-author-email", 1, 1, D_STR, d_email, OFF(feed_author_email),
	    0, 0, NULL },
	URL("feed-author-uri", feed_author_uri),
	URL("feed-icon", feed_icon),
	URL("feed-logo", feed_logo),
	STR("feed-rights", feed_rights, 0),
	{ "feed-language", 1, 1, D_STR, d_lang, OFF(feed_lang), 0, 0, "en" },
	INT("feed-entries", feed_entries, 1, 1000, "50"),
	BOOL("publish-emails", publish_emails, "no"),
	{ "set", 2, 3, D_MULTI, d_set, 0, 0, 0, NULL },
	BOOL("open-sets", open_sets, "no"),
	{ "oai-path", 1, 1, D_STR, d_oai_path, OFF(oai_path), 0, 0, "/oai" },
	{ "oai-namespace", 1, 1, D_REQUIRED | D_STR, d_namespace,
	    OFF(oai_namespace), 0, 0, NULL },
	INT("oai-page-size", oai_page_size, 1, 10000, "100"),
	INT("resourcesync-page-size", rs_page_size, 1, 50000, "1000"),
	INT("oai-max-requests", oai_max_requests, 1, 1024, "16"),
	INT("oai-retry-after", oai_retry_after, 1, 86400, "10"),
	/* prepared OAI-PMH responses (oai_cache.h); 0: none kept */
	{ "oai-cache-size", 1, 1, 0, d_size, OFF(oai_cache_bytes), 0,
	    4096LL * 1024 * 1024, "64M" },
	{ "oai-token-key", 1, 1, D_STR, d_token_key, OFF(oai_token_key), 0, 0,
	    NULL },
	INT("debounce", debounce_ms, 0, 60000, "200"),
	INT("rescan-interval", rescan_interval, 0, 86400, "300"),
	TARGET("websub-hub", CONF_TARGET_WEBSUB, 1),
	TARGET("xmlrpc-ping", CONF_TARGET_XMLRPC, 1),
	TARGET("ping-get", CONF_TARGET_PING_GET, 1),
	TARGET("ping-post", CONF_TARGET_PING_POST, 2),
	{ "coar-inbox", 1, 2, D_MULTI, d_target, 0, CONF_TARGET_COAR, 0, NULL },
	INT("notify-timeout", notify_timeout, 1, 600, "10"),
	/* 0: no limit */
	INT("notify-max-attempts", notify_max_attempts, 0, 1000000, "0"),
	INT("notify-backoff-max", notify_backoff_max, 1, 604800, "3600"),
};
#define NDIRECTIVES	(sizeof(directives) / sizeof(directives[0]))

/* Record one problem at the current line; col 0 leaves the column out. */
static int
perr(struct parser *p, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, int col, const char *fmt, ...)
{
	char	 text[ERR_MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	p->errors++;
	return err_at(p->e, p->path, p->line, col, "%s", text);
}

static char *
pstrdup(struct parser *p, const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		p->oom = 1;
	return d;
}

/* Room for n + 1 elements in *arr (capacity *cap); -1 and oom if not. */
static int
pgrow(struct parser *p, void *arr, size_t *cap, size_t n, size_t size)
{
	if (vec_grow(arr, cap, n + 1, size) == -1) {
		p->oom = 1;
		return -1;
	}
	return 0;
}

static int
is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

static int
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
is_digits(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* RFC 4151 DNSname: DNScomp *("." DNScomp), alphaNum at both ends. */
static int
dns_name_ok(const char *s, size_t n)
{
	size_t	 i, start = 0;

	if (n == 0)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_alnum((unsigned char)s[i]) && s[i] != '-')
				return 0;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

static int
date_part_ok(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	size_t		 n = strlen(s);
	int		 y, m, d, leap;

	if ((n != 4 && n != 7 && n != 10) || !is_digits(s, 4))
		return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	if (n == 4)
		return 1;
	if (s[4] != '-' || !is_digits(s + 5, 2))
		return 0;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	if (m < 1 || m > 12)
		return 0;
	if (n == 7)
		return 1;
	if (s[7] != '-' || !is_digits(s + 8, 2))
		return 0;
	d = (s[8] - '0') * 10 + (s[9] - '0');
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return 0;
	return d >= 1 && d <= mdays[m - 1];
}

/* RFC 4151 taggingEntity: (DNSname / emailAddress) "," date. */
static int
tag_authority_ok(const char *s)
{
	const char	*comma, *at, *q;

	if ((comma = strchr(s, ',')) == NULL || !date_part_ok(comma + 1))
		return 0;
	if ((at = memchr(s, '@', comma - s)) != NULL) {
		if (at == s)
			return 0;
		for (q = s; q < at; q++)
			if (!is_alnum((unsigned char)*q) &&
			    strchr("-._", *q) == NULL)
				return 0;
		s = at + 1;
	}
	return dns_name_ok(s, comma - s);
}

static int
email_ok(const char *s)
{
	const char	*at = strchr(s, '@');
	size_t		 i;

	if (at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

/* oai-identifier repositoryIdentifier: at least two dotted labels. */
static int
namespace_ok(const char *s)
{
	int	 labels = 0;

	for (;;) {
		if (!is_alpha((unsigned char)*s))
			return 0;
		while (is_alnum((unsigned char)*s) || *s == '-')
			s++;
		labels++;
		if (*s == '\0')
			return labels >= 2;
		if (*s++ != '.')
			return 0;
	}
}

/* Unsigned decimal with no sign or spaces; -1 if not one or too long. */
static int
parse_uint(const char *s, size_t n, long long *out)
{
	long long	 v = 0;
	size_t		 i;

	if (!is_digits(s, n) || n > 15)
		return -1;
	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	*out = v;
	return 0;
}

static char **
field_str(struct parser *p, const struct directive *d)
{
	return (char **)(void *)((char *)p->c + d->off);
}

static int *
field_int(struct parser *p, const struct directive *d)
{
	return (int *)(void *)((char *)p->c + d->off);
}

static int
store_str(struct parser *p, const struct directive *d, const char *v)
{
	char	**fp = field_str(p, d);

	free(*fp);
	*fp = pstrdup(p, v);
	return *fp != NULL ? 0 : -1;
}

static int
d_string(struct parser *p, const struct directive *d, char **v, int n)
{
	if (v[0][0] == '\0')
		return perr(p, 0, "%s must not be empty", d->name);
	return store_str(p, d, v[0]);
}

static int
d_url(struct parser *p, const struct directive *d, char **v, int n)
{
	if (!syntax_is_http_url(v[0]))
		return perr(p, 0, "%s is not an absolute http(s) URL: '%s'",
		    d->name, v[0]);
	return store_str(p, d, v[0]);
}

static int
d_base_url(struct parser *p, const struct directive *d, char **v, int n)
{
	size_t	 len = strlen(v[0]);

	if (!syntax_is_http_url(v[0]))
		return d_url(p, d, v, n);
	/* It is a prefix every link is built on. */
	if (!syntax_is_base_url(v[0]))
		return perr(p, 0, "%s must not have a query or fragment: '%s'",
		    d->name, v[0]);
	if (v[0][len - 1] == '/')
		v[0][len - 1] = '\0';
	return store_str(p, d, v[0]);
}

static int
d_email(struct parser *p, const struct directive *d, char **v, int n)
{
	if (!email_ok(v[0]))
		return perr(p, 0, "%s is not an e-mail address: '%s'",
		    d->name, v[0]);
	return store_str(p, d, v[0]);
}

static int
d_admin(struct parser *p, const struct directive *d, char **v, int n)
{
	struct conf	*c = p->c;

	if (!email_ok(v[0]))
		return perr(p, 0, "%s is not an e-mail address: '%s'",
		    d->name, v[0]);
	if (pgrow(p, (void **)&c->admin_emails, &p->cap_admin,
	    c->nadmin_emails, sizeof(*c->admin_emails)) == -1)
		return -1;
	if ((c->admin_emails[c->nadmin_emails] = pstrdup(p, v[0])) != NULL)
		c->nadmin_emails++;
	return 0;
}

static int
d_tag(struct parser *p, const struct directive *d, char **v, int n)
{
	if (!tag_authority_ok(v[0]))
		return perr(p, 0, "%s is not 'DOMAIN,YYYY[-MM[-DD]]' "
		    "(RFC 4151): '%s'", d->name, v[0]);
	return store_str(p, d, v[0]);
}

static int
d_int(struct parser *p, const struct directive *d, char **v, int n)
{
	long long	 x;

	if (parse_uint(v[0], strlen(v[0]), &x) == -1 || x < d->min ||
	    x > d->max)
		return perr(p, 0, "%s must be between %lld and %lld: '%s'",
		    d->name, d->min, d->max, v[0]);
	*field_int(p, d) = (int)x;
	return 0;
}

static void
size_name(long long n, char *out, size_t len)
{
	if (n % (1024 * 1024) == 0)
		snprintf(out, len, "%lldM", n / (1024 * 1024));
	else if (n % 1024 == 0)
		snprintf(out, len, "%lldk", n / 1024);
	else
		snprintf(out, len, "%lld", n);
}

/* Bytes, or k / M for KiB / MiB: "4M", "512k". */
static int
d_size(struct parser *p, const struct directive *d, char **v, int n)
{
	const char	*s = v[0];
	size_t		 len = strlen(s);
	long long	 x, mul = 1;
	char		 lo[32], hi[32];

	if (len > 0 && (s[len - 1] == 'k' || s[len - 1] == 'K'))
		mul = 1024;
	else if (len > 0 && s[len - 1] == 'M')
		mul = 1024 * 1024;
	if (mul != 1)
		len--;
	if (parse_uint(s, len, &x) == -1 || x * mul < d->min ||
	    x * mul > d->max) {
		size_name(d->min, lo, sizeof(lo));
		size_name(d->max, hi, sizeof(hi));
		return perr(p, 0, "%s must be between %s and %s: '%s'",
		    d->name, lo, hi, s);
	}
	*(size_t *)(void *)((char *)p->c + d->off) = (size_t)(x * mul);
	return 0;
}

static int
d_bool(struct parser *p, const struct directive *d, char **v, int n)
{
	if (strcmp(v[0], "yes") == 0)
		*field_int(p, d) = 1;
	else if (strcmp(v[0], "no") == 0)
		*field_int(p, d) = 0;
	else
		return perr(p, 0, "%s must be 'yes' or 'no': '%s'", d->name,
		    v[0]);
	return 0;
}

static int
d_loglevel(struct parser *p, const struct directive *d, char **v, int n)
{
	enum log_level	 l;

	if (log_level_parse(v[0], &l) == -1)
		return perr(p, 0, "%s must be error, warning, info or debug: "
		    "'%s'", d->name, v[0]);
	p->c->log_level = l;
	return 0;
}

/* "127.0.0.1:8080" or "[::1]:8080"; the address is kept without brackets. */
static int
d_listen(struct parser *p, const struct directive *d, char **v, int n)
{
	const char	*s = v[0], *a = s, *sep;
	char		 addr[64];
	unsigned char	 sa[16];
	long long	 x;
	int		 af = AF_INET;

	if (s[0] == '[') {
		af = AF_INET6;
		a = s + 1;
		if ((sep = strchr(s, ']')) != NULL && *++sep != ':')
			sep = NULL;
	} else
		sep = strrchr(s, ':');
	if (sep == NULL || (size_t)(sep - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, a, sep - a);
	addr[sep - a - (af == AF_INET6)] = '\0';
	if (inet_pton(af, addr, sa) != 1)
		goto bad;
	if (parse_uint(sep + 1, strlen(sep + 1), &x) == -1 || x > 65535)
		return perr(p, 0, "%s port must be between 0 and 65535: '%s'",
		    d->name, sep + 1);
	if (store_str(p, d, addr) == -1)
		return -1;
	p->c->listen_port = (int)x;
	return 0;
bad:
	return perr(p, 0, "%s is not IPV4:PORT or [IPV6]:PORT: '%s'", d->name,
	    s);
}

static int
d_lang(struct parser *p, const struct directive *d, char **v, int n)
{
	if (!syntax_is_lang(v[0]))
		return perr(p, 0, "%s is not a language tag: '%s'", d->name,
		    v[0]);
	return store_str(p, d, v[0]);
}

static int
d_set(struct parser *p, const struct directive *d, char **v, int n)
{
	struct conf	*c = p->c;
	struct conf_set	*s;

	if (!syntax_is_setspec(v[0]))
		return perr(p, 0, "set spec is not a valid setSpec: '%s'",
		    v[0]);
	if (conf_set_find(c, v[0]) != NULL)
		return perr(p, 0, "duplicate set '%s'", v[0]);
	if (v[1][0] == '\0')
		return perr(p, 0, "set name must not be empty: '%s'", v[0]);
	if (pgrow(p, (void **)&c->sets, &p->cap_sets, c->nsets,
	    sizeof(*c->sets)) == -1)
		return -1;
	s = &c->sets[c->nsets];
	memset(s, 0, sizeof(*s));
	s->spec = pstrdup(p, v[0]);
	s->name = pstrdup(p, v[1]);
	if (n > 2 && v[2][0] != '\0')
		s->description = pstrdup(p, v[2]);
	/* Counted even half-built so conf_free() releases it. */
	c->nsets++;
	return 0;
}

static int
d_oai_path(struct parser *p, const struct directive *d, char **v, int n)
{
	if (v[0][0] != '/')
		return perr(p, 0, "%s must start with '/': '%s'", d->name,
		    v[0]);
	if (strcspn(v[0], "?# \t") != strlen(v[0]))
		return perr(p, 0, "%s must be a plain path: '%s'", d->name,
		    v[0]);
	return store_str(p, d, v[0]);
}

static int
d_namespace(struct parser *p, const struct directive *d, char **v, int n)
{
	if (!namespace_ok(v[0]))
		return perr(p, 0, "%s is not a repository identifier such as "
		    "'example.org': '%s'", d->name, v[0]);
	return store_str(p, d, v[0]);
}

static int
d_token_key(struct parser *p, const struct directive *d, char **v, int n)
{
	/* Never echo a secret into a log. */
	if (strlen(v[0]) < 16)
		return perr(p, 0, "%s must be at least 16 characters",
		    d->name);
	return store_str(p, d, v[0]);
}

static int
d_target(struct parser *p, const struct directive *d, char **v, int n)
{
	struct conf		*c = p->c;
	struct conf_target	*t;

	if (d->min == CONF_TARGET_PING_GET || d->min == CONF_TARGET_PING_POST ?
	    !syntax_is_http_template(v[0]) : !syntax_is_http_url(v[0]))
		return perr(p, 0, "%s is not an absolute http(s) URL: '%s'",
		    d->name, v[0]);
	if (d->min == CONF_TARGET_COAR && n > 1 && !syntax_is_http_url(v[1]))
		return perr(p, 0, "%s: the service id is not an absolute "
		    "http(s) URL: '%s'", d->name, v[1]);
	if (pgrow(p, (void **)&c->targets, &p->cap_targets, c->ntargets,
	    sizeof(*c->targets)) == -1)
		return -1;
	t = &c->targets[c->ntargets++];
	memset(t, 0, sizeof(*t));
	t->kind = (enum conf_target_kind)d->min;
	t->url = pstrdup(p, v[0]);
	if (n > 1)
		t->body = pstrdup(p, v[1]);
	return 0;
}

/*
 * Length of the well-formed UTF-8 sequence at s (1 to 4), 0 if there is
 * none: overlong forms, surrogates and values past U+10FFFF are refused.
 */
static size_t
utf8_len(const unsigned char *s, size_t len, unsigned long *cp)
{
	unsigned long	 min;
	size_t		 n, k;

	if (s[0] < 0x80)
		n = 0, *cp = s[0], min = 0;
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, *cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, *cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, *cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (k = 1; k <= n; k++) {
		if (k >= len || (s[k] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n + 1;
}

/*
 * Check one line's bytes: UTF-8, no NUL, no control character but tab, no
 * U+FFFE/U+FFFF (XML 1.0 forbids them, and values end up in feeds).
 * Returns the 0-based offset of the first bad byte, or -1.
 */
static long
line_bad_byte(const unsigned char *s, size_t len, const char **why)
{
	unsigned long	 cp;
	size_t		 i, n;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_len(s + i, len - i, &cp)) == 0)
			*why = "invalid UTF-8";
		else if (cp == 0)
			*why = "NUL byte";
		else if ((cp < 0x20 && cp != '\t') || cp == 0x7f)
			*why = "control character";
		else if (cp == 0xfffe || cp == 0xffff)
			*why = "character not allowed in XML";
		else
			continue;
		return (long)i;
	}
	return -1;
}

/*
 * Split a line into words in out (at least len + 1 bytes).  A word is a run
 * of non-blanks or a "quoted string" with \" and \\; '#' outside quotes
 * starts a comment.  Returns the word count (which may exceed what fits in
 * argv) or -1 after reporting the problem.
 */
static int
tokenize(struct parser *p, const char *s, size_t len, char *out, char **argv)
{
	size_t	 i = 0, start;
	int	 argc = 0;

	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len || s[i] == '#')
			return argc;
		if (argc < CONF_MAX_WORDS)
			argv[argc] = out;
		argc++;
		if (s[i] != '"') {
			for (; i < len && !strchr(" \t#", s[i]); i++) {
				if (s[i] == '"')
					return perr(p, (int)i + 1, "unexpected "
					    "'\"' in unquoted value");
				*out++ = s[i];
			}
			*out++ = '\0';
			continue;
		}
		for (start = i++; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\') {
				if (i + 1 == len || (s[i + 1] != '"' &&
				    s[i + 1] != '\\'))
					return perr(p, (int)i + 1, "invalid "
					    "escape: only \\\" and \\\\");
				i++;
			}
			*out++ = s[i];
		}
		if (i == len)
			return perr(p, (int)start + 1,
			    "unterminated quoted string");
		*out++ = '\0';
		if (++i < len && !strchr(" \t#", s[i]))
			return perr(p, (int)i + 1,
			    "missing space after closing quote");
	}
}

static const struct directive *
directive_find(const char *name, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < NDIRECTIVES; i++) {
		if (strcmp(directives[i].name, name) == 0) {
			*idx = i;
			return &directives[i];
		}
	}
	return NULL;
}

static void
dispatch(struct parser *p, char **argv, int argc)
{
	const struct directive	*d;
	size_t			 idx;
	int			 n = argc - 1;

	if ((d = directive_find(argv[0], &idx)) == NULL) {
		perr(p, 0, "unknown directive '%s'", argv[0]);
		return;
	}
	if (n < d->minargs || n > d->maxargs) {
		if (d->minargs == d->maxargs)
			perr(p, 0, "%s takes %d value%s, got %d", d->name,
			    d->minargs, d->minargs == 1 ? "" : "s", n);
		else
			perr(p, 0, "%s takes %d or %d values, got %d",
			    d->name, d->minargs, d->maxargs, n);
		p->seen[idx] = p->seen[idx] ? p->seen[idx] : p->line;
		return;
	}
	if (p->seen[idx] != 0 && !(d->flags & D_MULTI)) {
		perr(p, 0, "duplicate directive '%s' (first on line %d)",
		    d->name, p->seen[idx]);
		return;
	}
	if (p->seen[idx] == 0)
		p->seen[idx] = p->line;
	d->fn(p, d, argv + 1, n);
}

static void
parse_line(struct parser *p, const char *s, size_t len, char *scratch)
{
	char		*argv[CONF_MAX_WORDS];
	const char	*why;
	long		 bad;
	int		 argc;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if ((bad = line_bad_byte((const unsigned char *)s, len, &why)) >= 0) {
		perr(p, (int)bad + 1, "%s", why);
		p->skipped++;
		return;
	}
	if ((argc = tokenize(p, s, len, scratch, argv)) == -1) {
		p->skipped++;
		return;
	}
	if (argc > 0)
		dispatch(p, argv, argc);
}

/* Every row's def, through its handler; the line is 0 in any message. */
static void
conf_defaults(struct parser *p)
{
	char	 v[64], *argv[1] = { v };
	size_t	 i;

	for (i = 0; i < NDIRECTIVES; i++) {
		if (directives[i].def == NULL)
			continue;
		snprintf(v, sizeof(v), "%s", directives[i].def);
		directives[i].fn(p, &directives[i], argv, 1);
	}
}

/* tag-authority defaults to base-url's host with the year 2000. */
static void
default_tag_authority(struct parser *p)
{
	struct conf	*c = p->c;
	const char	*h;
	size_t		 n, i;
	char		*t;

	if (c->tag_authority != NULL || c->base_url == NULL ||
	    syntax_url_host(c->base_url, &h, &n) == -1)
		return;
	if (!dns_name_ok(h, n)) {
		p->line = 0;
		perr(p, 0, "tag-authority is required: base-url host '%.*s' "
		    "is not a DNS name", (int)n, h);
		return;
	}
	if ((t = malloc(n + sizeof(",2000"))) == NULL) {
		p->oom = 1;
		return;
	}
	for (i = 0; i < n; i++)
		t[i] = (h[i] >= 'A' && h[i] <= 'Z') ? h[i] - 'A' + 'a' : h[i];
	memcpy(t + n, ",2000", sizeof(",2000"));
	c->tag_authority = t;
}

static void
finish(struct parser *p)
{
	size_t	 i;

	p->line = 0;
	/*
	 * A line lost to bad bytes or quoting may well have held the
	 * directive; claiming it is missing would only mislead.
	 */
	for (i = 0; i < NDIRECTIVES && p->skipped == 0; i++)
		if ((directives[i].flags & D_REQUIRED) && p->seen[i] == 0)
			perr(p, 0, "missing required directive '%s'",
			    directives[i].name);
	if (p->c->feed_title == NULL && p->c->repository_name != NULL)
		p->c->feed_title = pstrdup(p, p->c->repository_name);
	if (p->errors == 0)
		default_tag_authority(p);
}

struct conf *
conf_parse_mem(const char *buf, size_t len, const char *path, struct err *e)
{
	struct parser	 p;
	const char	*s = buf, *end = buf + len, *nl;
	char		*scratch = NULL;
	int		 seen[NDIRECTIVES];

	memset(&p, 0, sizeof(p));
	memset(seen, 0, sizeof(seen));
	p.path = path != NULL ? path : "<config>";
	p.e = e;
	p.seen = seen;
	if (len > CONF_MAX_BYTES) {
		err_at(e, p.path, 0, 0, "file is larger than 1 MiB");
		return NULL;
	}
	if ((p.c = calloc(1, sizeof(*p.c))) == NULL) {
		p.oom = 1;
		goto out;
	}
	p.c->refs = 1;
	conf_defaults(&p);
	if ((p.c->path = strdup(p.path)) == NULL ||
	    (scratch = malloc(len + 1)) == NULL) {
		p.oom = 1;
		goto out;
	}
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end) {
		p.line++;
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		parse_line(&p, s, nl - s, scratch);
		s = nl + 1;
	}
	finish(&p);
out:
	free(scratch);
	if (p.oom)
		err_at(e, p.path, 0, 0, "out of memory");
	if (p.oom || p.errors > 0) {
		conf_unref(p.c);
		return NULL;
	}
	return p.c;
}

struct conf *
conf_load(const char *path, struct err *e)
{
	struct conf	*c = NULL;
	struct buf	 b;
	FILE		*fp;
	char		 chunk[8192];
	size_t		 n;

	buf_init(&b, CONF_MAX_BYTES);
	if ((fp = fopen(path, "r")) == NULL) {
		err_at(e, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b.len + n > CONF_MAX_BYTES) {
			err_at(e, path, 0, 0, "file is larger than 1 MiB");
			goto out;
		}
		if (buf_add(&b, chunk, n) == -1) {
			err_at(e, path, 0, 0, "out of memory");
			goto out;
		}
	}
	if (ferror(fp)) {
		err_at(e, path, 0, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	c = conf_parse_mem(b.data != NULL ? b.data : "", b.len, path, e);
out:
	fclose(fp);
	buf_release(&b);
	return c;
}

struct conf *
conf_ref(struct conf *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

static void
conf_free(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < NDIRECTIVES; i++)
		if (directives[i].flags & D_STR)
			free(*(char **)(void *)((char *)c + directives[i].off));
	/* the lists of the D_MULTI rows */
	for (i = 0; i < c->nadmin_emails; i++)
		free(c->admin_emails[i]);
	for (i = 0; i < c->nsets; i++) {
		free(c->sets[i].spec);
		free(c->sets[i].name);
		free(c->sets[i].description);
	}
	for (i = 0; i < c->ntargets; i++) {
		free(c->targets[i].url);
		free(c->targets[i].body);
	}
	free(c->admin_emails);
	free(c->sets);
	free(c->targets);
	free(c->path);
	free(c);
}

void
conf_unref(struct conf *c)
{
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(c);
}

const struct conf_set *
conf_set_find(const struct conf *c, const char *spec)
{
	size_t	 i;

	for (i = 0; i < c->nsets; i++)
		if (c->sets[i].spec != NULL &&
		    strcmp(c->sets[i].spec, spec) == 0)
			return &c->sets[i];
	return NULL;
}

int
conf_set_check(const struct conf *c, const char *spec, char *msg,
    size_t msgsz)
{
	const char	*cands[64], *near, *colon;
	size_t		 i, n = 0, o, plen;

	if (c->open_sets || conf_set_find(c, spec) != NULL)
		return 0;
	for (i = 0; i < c->nsets && n < 64; i++)
		cands[n++] = c->sets[i].spec;
	o = (size_t)snprintf(msg, msgsz, "set '%s' is not configured", spec);
	if ((near = nearest_name(spec, cands, n)) != NULL) {
		snprintf(msg + o, msgsz - o, ": did you mean '%s'? (or add a "
		    "'set %s NAME' line to the configuration)", near, spec);
		return -1;
	}
	/* no likely typo: the configured specs of the same family */
	plen = (colon = strchr(spec, ':')) != NULL ? (size_t)(colon - spec) :
	    strlen(spec);
	for (i = 0, near = NULL; i < n && o < msgsz; i++)
		if (strncmp(cands[i], spec, plen) == 0 &&
		    (cands[i][plen] == ':' || cands[i][plen] == '\0'))
			o += (size_t)snprintf(msg + o, msgsz - o, "%s'%s'",
			    near++ == NULL ? ": configured are " : ", ",
			    cands[i]);
	if (o < msgsz)
		snprintf(msg + o, msgsz - o, ": fix the spelling or add a "
		    "'set %s NAME' line to the configuration", spec);
	return -1;
}
