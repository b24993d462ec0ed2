/*
 * lang: language codes, written once for every module that reads or writes
 * them.  A record may name its languages by ISO 639-1 ("en"), ISO 639-2/B
 * ("ger"), ISO 639-2/T or ISO 639-3 ("deu", "nob") or as a BCP 47 tag
 * ("en-GB"); each output wants its own form: BCP 47 with the ISO 639-1
 * primary subtag where one exists (xml:lang, dc:language in feeds, JSON
 * Feed), ISO 639-3 (OpenAIRE, oai_dc), the MARC codes, which are ISO
 * 639-2/B (MARC 008/041).
 *
 * The table holds every ISO 639-1 language with its 639-2/T code (also
 * its ISO 639-3 code) and 639-2/B code.  A well-formed three-letter code
 * that is not in it ("smj", "und") passes through unchanged.  Only the
 * primary subtag is mapped; the rest of a tag is kept.  Pure functions:
 * no state, no allocation, safe from any thread.
 */
#ifndef PUBFEED_LANG_H
#define PUBFEED_LANG_H

#include <stddef.h>

#define LANG_CODE_LEN	4	/* "nob" + NUL */

/*
 * 1 if tag is a language code a record accepts: a well-formed BCP 47 tag
 * (syntax_is_lang()) whose primary subtag has two or three letters.
 */
int		 lang_is_code(const char *tag);

/*
 * The canonical BCP 47 form of tag into out: the primary subtag
 * lower-cased and replaced by its ISO 639-1 code when it has one ("eng" and
 * "EN" give "en", "ger-CH" gives "de-CH", "nob" gives "nb"), the other
 * subtags as written.  Returns out, or NULL when tag is not
 * lang_is_code() or out is too small.
 */
const char	*lang_canon(const char *tag, char *out, size_t outsz);

/*
 * The ISO 639-3 code (lang_iso3: "deu", "nor") or the MARC code (lang_marc:
 * ISO 639-2/B, "ger", "nor") of tag's primary subtag: a static string, or
 * an unknown three-letter code copied lower-cased into out.  NULL for a
 * two-letter code that is not ISO 639-1 or a tag that is not a code.
 */
const char	*lang_iso3(const char *tag, char out[LANG_CODE_LEN]);
const char	*lang_marc(const char *tag, char out[LANG_CODE_LEN]);

/* The ISO 639-1 code of tag's primary subtag ("bul" gives "bg"), or NULL. */
const char	*lang_iso1(const char *tag);

#endif
