/*
 * conf: the configuration file.
 *
 * Syntax: one directive per line, "name value ...", '#' starts a comment,
 * values may be double-quoted (with \" and \\ escapes) to hold spaces.
 * conf_parse_mem() reports every problem it finds as "path:line: message"
 * (unknown directive, bad value, repeated single directive, missing required
 * directive) and returns NULL if there was any.  A struct conf is immutable
 * once parsed; on SIGHUP a new one is parsed and swapped in with the next
 * snapshot, which holds a reference (conf_ref/conf_unref are thread-safe).
 *
 * Relative paths are kept as written: they are relative to the working
 * directory, as the quick start runs from the repository root.
 */
#ifndef PUBFEED_CONF_H
#define PUBFEED_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "log.h"

struct conf_set {
	char	*spec;		/* "region:bulgaria" */
	char	*name;
	char	*description;	/* may be NULL */
};

enum conf_target_kind {
	CONF_TARGET_WEBSUB,	/* websub-hub URL */
	CONF_TARGET_XMLRPC,	/* xmlrpc-ping URL */
	CONF_TARGET_PING_GET,	/* ping-get URL-with-{feed} */
	CONF_TARGET_PING_POST,	/* ping-post URL body-with-{feed} */
	CONF_TARGET_COAR,	/* coar-inbox URL [service-id]: per record */
};

struct conf_target {
	enum conf_target_kind	 kind;
	char			*url;	/* may contain {feed}, {site}, {name} */
	char			*body;	/* ping-post; coar-inbox: service id */
};

struct conf {
	int		 refs;
	char		*path;			/* file it came from */

	/* identity */
	char		*repository_name;	/* required */
	char		*base_url;	/* required, absolute, no trailing / */
	char		**admin_emails;		/* required, >= 1 */
	size_t		 nadmin_emails;
	char		*tag_authority;	/* "example.org,2024" for tag: ids */

	/* files */
	char		*records_dir;		/* required */
	char		*state_dir;		/* required */
	size_t		 max_record_bytes;	/* default RECORD_MAX_BYTES */

	/* serving */
	size_t		 doc_cache_bytes;	/* document-cache, default 64M */
	size_t		 record_cache_bytes;	/* record-cache, default 128M */
	char		*listen_addr;		/* default "127.0.0.1" */
	int		 listen_port;		/* default 8080; 0 = any */
	int		 threads;		/* default 4 */
	int		 max_age;		/* Cache-Control, default 300 s */
	int		 metrics_local_only;	/* default 1 */
	int		 access_log;		/* default 0 */
	enum log_level	 log_level;		/* default info */

	/* feeds */
	char		*feed_title;		/* default repository_name */
	char		*feed_subtitle;
	char		*feed_author_name;	/* required */
	char		*feed_author_email;
	char		*feed_author_uri;
	char		*feed_icon;		/* absolute URL */
	char		*feed_logo;		/* absolute URL */
	char		*feed_rights;
	char		*feed_lang;		/* default "en" */
	int		 feed_entries;		/* per document, default 50 */
	int		 publish_emails;	/* records' e-mails, default 0 */
	struct conf_set	*sets;			/* "set SPEC NAME [DESC]" */
	size_t		 nsets;
	int		 open_sets;	/* records may name any set; default 0 */

	/* OAI-PMH */
	char		*oai_path;		/* default "/oai" */
	char		*oai_namespace;	/* required: repositoryIdentifier */
	int		 oai_page_size;		/* default 100 */
	int		 oai_max_requests;	/* concurrent, default 16 */
	int		 oai_retry_after;	/* seconds, default 10 */
	size_t		 oai_cache_bytes;	/* default 64 MiB; 0 = off */
	char		*oai_token_key;	/* hex or text; default: state file */

	/* ResourceSync */
	int		 rs_page_size;		/* URLs a sitemap, default 50000 */

	/* live updates */
	int		 debounce_ms;		/* default 200 */
	int		 rescan_interval;	/* seconds, default 300; 0 = off */

	/* notifications */
	struct conf_target *targets;
	size_t		 ntargets;
	int		 notify_timeout;	/* seconds, default 10 */
	int		 notify_max_attempts;	/* 0 (default): no limit */
	int		 notify_backoff_max;	/* seconds, default 3600 */
};

/*
 * Parse a configuration held in memory; path names it in messages.  Returns
 * a conf with refs == 1, or NULL with every problem in e.
 */
struct conf	*conf_parse_mem(const char *buf, size_t len, const char *path,
		    struct err *e);
/* Read path and parse it. */
struct conf	*conf_load(const char *path, struct err *e);

struct conf	*conf_ref(struct conf *);
void		 conf_unref(struct conf *);

/* The configured set, or NULL. */
const struct conf_set *conf_set_find(const struct conf *, const char *spec);
/*
 * 0 when a record may name set spec: it is configured, or "open-sets yes".
 * Else -1 with the message for the editor in msg (what is wrong, the nearest
 * configured specs, how to fix it).
 */
int		 conf_set_check(const struct conf *, const char *spec,
		    char *msg, size_t msgsz);

#endif
