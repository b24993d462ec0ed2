/*
 * page_style: the one stylesheet of every HTML page pubfeed serves (the
 * home and set pages, the record landing pages, the OAI-PMH endpoint's
 * page).  It is compiled in, never changes while the binary runs, and its
 * URL path carries a hash of its bytes, so caches may keep it for a year:
 * a new stylesheet is a new URL.  Thread-safe; nothing to free.
 */
#ifndef PUBFEED_PAGE_STYLE_H
#define PUBFEED_PAGE_STYLE_H

#include <stddef.h>

#define PAGE_STYLE_TYPE	"text/css; charset=utf-8"
/* Cache-Control of the stylesheet: its URL changes with its bytes. */
#define PAGE_STYLE_CACHE "public, max-age=31536000, immutable"
#define PAGE_STYLE_PREFIX "/style."

/* The stylesheet's bytes (NUL-terminated) and their length in *len. */
const char	*page_style_css(size_t *len);
/* "/style.0123456789abcdef.css": the path to serve it at and link to. */
const char	*page_style_path(void);

#endif
