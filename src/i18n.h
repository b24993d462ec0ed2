/*
 * i18n: the languages of the HTML pages and their message catalogue
 * (share/i18n/messages.def, compiled in).  English pages live at the plain
 * paths ("/", "/sets/SPEC.html", "/records/ID.html", archives); every other
 * language has the same tree under "/TAG" ("/bg/", "/nb/records/ID.html").
 * Pure functions over constant tables: thread-safe, nothing to free.
 */
#ifndef PUBFEED_I18N_H
#define PUBFEED_I18N_H

#include <stddef.h>

#include "buf.h"

/* The page languages; I18N_EN is the default (x-default, no prefix). */
enum i18n_lang {
	I18N_EN,
	I18N_BG,
	I18N_NB,
	I18N_NLANGS
};

enum i18n_msg {
#define I18N_MSG(key, en, bg, nb)	I18N_##key,
#include "../share/i18n/messages.def"
#undef I18N_MSG
	I18N_NMSGS
};

/* The message m in language l: never NULL for valid arguments ("" else). */
const char	*i18n_msg(enum i18n_lang l, enum i18n_msg m);
/* The catalogue key of m ("SKIP"), for tests and diagnostics. */
const char	*i18n_key(enum i18n_msg m);
/* The BCP 47 tag of l ("en", "bg", "nb"), as the sample records spell it. */
const char	*i18n_tag(enum i18n_lang l);
/* The language's own name ("English", "Български", "Norsk bokmål"). */
const char	*i18n_name(enum i18n_lang l);
/* The path prefix of l's pages: "" for English, else "/TAG". */
const char	*i18n_prefix(enum i18n_lang l);
/*
 * The language of a page path and, in *rest, the path without its prefix:
 * "/bg/sets/a.html" gives I18N_BG and "/sets/a.html", "/nb/" gives I18N_NB
 * and "/"; any other path is English and *rest is path itself.
 */
enum i18n_lang	 i18n_path_lang(const char *path, const char **rest);
/* prefix of l + path into b (appending).  0 or -1 (cap). */
int		 i18n_path(struct buf *b, enum i18n_lang l, const char *path);

#endif
