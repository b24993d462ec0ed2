/*
 * page_style.c: the stylesheet.  System fonts, one column that reads on a
 * 390 px phone and a 1280 px desktop, colours that pass WCAG 2.1 AA
 * contrast (4.5:1 for text, links underlined), no JavaScript, and a print
 * rule set that drops navigation and prints link targets.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "page_style.h"
#include "banned.h"

static const char css[] =
    ":root{--fg:#1b1b1b;--muted:#4a4a4a;--bg:#fff;--line:#d0d0d0;"
    "--accent:#0b4f8a;--soft:#f3f5f8}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;color:var(--fg);background:var(--bg);"
    "font:1rem/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Noto Sans\",sans-serif}\n"
    "a{color:var(--accent)}a:focus-visible{outline:2px solid var(--accent);"
    "outline-offset:2px}\n"
    ".skip{position:absolute;left:-999em}.skip:focus{left:1em;top:1em;"
    "background:var(--bg);padding:.3em .6em}\n"
    "header.site,main,footer.site{max-width:54rem;margin:0 auto;"
    "padding:0 1rem}\n"
    "header.site{border-bottom:1px solid var(--line);padding-top:1rem;"
    "padding-bottom:.6rem}\n"
    "header.site .name{font-size:1.35rem;font-weight:700;"
    "text-decoration:none;color:var(--fg)}\n"
    "header.site p{margin:.2rem 0;color:var(--muted)}\n"
    "nav ul{list-style:none;margin:.4rem 0 0;padding:0;display:flex;"
    "flex-wrap:wrap;gap:.3rem 1rem}\n"
    "nav.langs [aria-current]{font-weight:700}\n"
    "h1{font-size:1.6rem;line-height:1.25;margin:1.2rem 0 .4rem}\n"
    "h2{font-size:1.2rem;margin:1.6rem 0 .5rem;border-bottom:1px solid "
    "var(--line);padding-bottom:.2rem}\n"
    "h3{font-size:1.05rem;margin:0 0 .2rem}\n"
    "ol.items,ul.items,ul.plain{list-style:none;margin:0;padding:0}\n"
    ".items>li{padding:.7rem 0;border-bottom:1px solid var(--line)}\n"
    ".meta{color:var(--muted);font-size:.92rem;margin:.1rem 0}\n"
    /* the space after an escape ends it: the second one is the text's */
    ".meta>*+*::before{content:\" \\00b7  \"}\n"
    ".kind{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;"
    "color:var(--muted)}\n"
    ".excerpt{margin:.3rem 0}\n"
    ".files{margin:.2rem 0;padding:0;list-style:none;display:flex;"
    "flex-wrap:wrap;gap:.2rem 1rem;font-size:.92rem}\n"
    ".items>li.event{background:var(--soft);border-left:4px solid "
    "var(--accent);padding:.6rem .8rem;margin:.6rem 0}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.2rem 1rem;margin:.8rem 0}\n"
    "dl.facts dt{font-weight:600}dl.facts dd{margin:0}\n"
    "ul.sets,ul.sets ul{list-style:none;padding-left:1rem;margin:.2rem 0}\n"
    "ul.sets{padding-left:0}\n"
    ".count{color:var(--muted);font-size:.9rem}\n"
    ".pager{display:flex;justify-content:space-between;gap:1rem;"
    "margin:1rem 0}\n"
    "table{border-collapse:collapse;width:100%;display:block;"
    "overflow-x:auto}\n"
    "td,th{border:1px solid var(--line);padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}\n"
    "code{background:var(--soft);padding:0 .2em;overflow-wrap:anywhere}\n"
    "footer.site{border-top:1px solid var(--line);margin-top:2rem;"
    "padding-top:.6rem;padding-bottom:2rem;color:var(--muted);"
    "font-size:.9rem}\n"
    "@media (max-width:40rem){dl.facts{grid-template-columns:1fr}"
    "dl.facts dd{margin-bottom:.4rem}h1{font-size:1.35rem}}\n"
    "@media print{nav,.skip,.pager,footer.site{display:none}"
    "body{font-size:11pt}a{color:inherit}"
    "main a[href^=\"http\"]::after{content:\" <\" attr(href) \">\";"
    "font-size:.85em;overflow-wrap:anywhere}"
    ".items>li.event{background:none}}\n";

static char		path[sizeof(PAGE_STYLE_PREFIX) + 16 + sizeof(".css")];
static pthread_once_t	path_once = PTHREAD_ONCE_INIT;

static void
path_init(void)
{
	unsigned char	 h[HASH_LEN];
	size_t		 i, off;

	hash_sha256(css, sizeof(css) - 1, h);
	off = (size_t)snprintf(path, sizeof(path), "%s", PAGE_STYLE_PREFIX);
	for (i = 0; i < 8; i++)
		off += (size_t)snprintf(path + off, sizeof(path) - off,
		    "%02x", h[i]);
	snprintf(path + off, sizeof(path) - off, ".css");
}

const char *
page_style_css(size_t *len)
{
	*len = sizeof(css) - 1;
	return css;
}

const char *
page_style_path(void)
{
	pthread_once(&path_once, path_init);
	return path;
}
