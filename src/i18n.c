/*
 * i18n.c: the message catalogue (share/i18n/messages.def) as one table,
 * and the language prefixes of page paths.
 */
#include <string.h>

#include "buf.h"
#include "i18n.h"
#include "banned.h"

static const char *const msgs[I18N_NMSGS][I18N_NLANGS] = {
#define I18N_MSG(key, en, bg, nb)	[I18N_##key] = { en, bg, nb },
#include "../share/i18n/messages.def"
#undef I18N_MSG
};

static const char *const keys[I18N_NMSGS] = {
#define I18N_MSG(key, en, bg, nb)	[I18N_##key] = #key,
#include "../share/i18n/messages.def"
#undef I18N_MSG
};

static const char *const tags[I18N_NLANGS] = { "en", "bg", "nb" };
static const char *const names[I18N_NLANGS] = { "English",
	"\u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438",
	"Norsk bokm\u00e5l" };
static const char *const prefixes[I18N_NLANGS] = { "", "/bg", "/nb" };

const char *
i18n_msg(enum i18n_lang l, enum i18n_msg m)
{
	if ((unsigned)l >= I18N_NLANGS || (unsigned)m >= I18N_NMSGS ||
	    msgs[m][l] == NULL)
		return "";
	return msgs[m][l];
}

const char *
i18n_key(enum i18n_msg m)
{
	return (unsigned)m < I18N_NMSGS ? keys[m] : "";
}

const char *
i18n_tag(enum i18n_lang l)
{
	return (unsigned)l < I18N_NLANGS ? tags[l] : tags[I18N_EN];
}

const char *
i18n_name(enum i18n_lang l)
{
	return (unsigned)l < I18N_NLANGS ? names[l] : names[I18N_EN];
}

const char *
i18n_prefix(enum i18n_lang l)
{
	return (unsigned)l < I18N_NLANGS ? prefixes[l] : "";
}

enum i18n_lang
i18n_path_lang(const char *path, const char **rest)
{
	size_t	 n;
	int	 l;

	for (l = I18N_EN + 1; l < I18N_NLANGS; l++) {
		n = strlen(prefixes[l]);
		if (strncmp(path, prefixes[l], n) == 0 && path[n] == '/') {
			*rest = path + n;
			return (enum i18n_lang)l;
		}
	}
	*rest = path;
	return I18N_EN;
}

int
i18n_path(struct buf *b, enum i18n_lang l, const char *path)
{
	if (buf_addstr(b, i18n_prefix(l)) == -1)
		return -1;
	return buf_addstr(b, path);
}
