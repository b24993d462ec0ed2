/*
 * Language codes: ISO 639-1, ISO 639-2/B and /T, ISO 639-3 and BCP 47.
 * See lang.h.
 */
#include <stddef.h>
#include <string.h>

#include "lang.h"
#include "syntax.h"
#include "banned.h"

/*
 * Every ISO 639-1 code with its ISO 639-2/T and 639-2/B codes, sorted by
 * the 639-1 code for bsearch().  T and B differ for twenty languages only;
 * the MARC code list follows 639-2/B.
 */
static const struct lang_row {
	char	iso1[3];
	char	t[4];
	char	b[4];
} langs[] = {
	{ "aa", "aar", "aar" }, { "ab", "abk", "abk" }, { "ae", "ave", "ave" },
	{ "af", "afr", "afr" }, { "ak", "aka", "aka" }, { "am", "amh", "amh" },
	{ "an", "arg", "arg" }, { "ar", "ara", "ara" }, { "as", "asm", "asm" },
	{ "av", "ava", "ava" }, { "ay", "aym", "aym" }, { "az", "aze", "aze" },
	{ "ba", "bak", "bak" }, { "be", "bel", "bel" }, { "bg", "bul", "bul" },
	{ "bi", "bis", "bis" }, { "bm", "bam", "bam" }, { "bn", "ben", "ben" },
	{ "bo", "bod", "tib" }, { "br", "bre", "bre" }, { "bs", "bos", "bos" },
	{ "ca", "cat", "cat" }, { "ce", "che", "che" }, { "ch", "cha", "cha" },
	{ "co", "cos", "cos" }, { "cr", "cre", "cre" }, { "cs", "ces", "cze" },
	{ "cu", "chu", "chu" }, { "cv", "chv", "chv" }, { "cy", "cym", "wel" },
	{ "da", "dan", "dan" }, { "de", "deu", "ger" }, { "dv", "div", "div" },
	{ "dz", "dzo", "dzo" }, { "ee", "ewe", "ewe" }, { "el", "ell", "gre" },
	{ "en", "eng", "eng" }, { "eo", "epo", "epo" }, { "es", "spa", "spa" },
	{ "et", "est", "est" }, { "eu", "eus", "baq" }, { "fa", "fas", "per" },
	{ "ff", "ful", "ful" }, { "fi", "fin", "fin" }, { "fj", "fij", "fij" },
	{ "fo", "fao", "fao" }, { "fr", "fra", "fre" }, { "fy", "fry", "fry" },
	{ "ga", "gle", "gle" }, { "gd", "gla", "gla" }, { "gl", "glg", "glg" },
	{ "gn", "grn", "grn" }, { "gu", "guj", "guj" }, { "gv", "glv", "glv" },
	{ "ha", "hau", "hau" }, { "he", "heb", "heb" }, { "hi", "hin", "hin" },
	{ "ho", "hmo", "hmo" }, { "hr", "hrv", "hrv" }, { "ht", "hat", "hat" },
	{ "hu", "hun", "hun" }, { "hy", "hye", "arm" }, { "hz", "her", "her" },
	{ "ia", "ina", "ina" }, { "id", "ind", "ind" }, { "ie", "ile", "ile" },
	{ "ig", "ibo", "ibo" }, { "ii", "iii", "iii" }, { "ik", "ipk", "ipk" },
	{ "io", "ido", "ido" }, { "is", "isl", "ice" }, { "it", "ita", "ita" },
	{ "iu", "iku", "iku" }, { "ja", "jpn", "jpn" }, { "jv", "jav", "jav" },
	{ "ka", "kat", "geo" }, { "kg", "kon", "kon" }, { "ki", "kik", "kik" },
	{ "kj", "kua", "kua" }, { "kk", "kaz", "kaz" }, { "kl", "kal", "kal" },
	{ "km", "khm", "khm" }, { "kn", "kan", "kan" }, { "ko", "kor", "kor" },
	{ "kr", "kau", "kau" }, { "ks", "kas", "kas" }, { "ku", "kur", "kur" },
	{ "kv", "kom", "kom" }, { "kw", "cor", "cor" }, { "ky", "kir", "kir" },
	{ "la", "lat", "lat" }, { "lb", "ltz", "ltz" }, { "lg", "lug", "lug" },
	{ "li", "lim", "lim" }, { "ln", "lin", "lin" }, { "lo", "lao", "lao" },
	{ "lt", "lit", "lit" }, { "lu", "lub", "lub" }, { "lv", "lav", "lav" },
	{ "mg", "mlg", "mlg" }, { "mh", "mah", "mah" }, { "mi", "mri", "mao" },
	{ "mk", "mkd", "mac" }, { "ml", "mal", "mal" }, { "mn", "mon", "mon" },
	{ "mr", "mar", "mar" }, { "ms", "msa", "may" }, { "mt", "mlt", "mlt" },
	{ "my", "mya", "bur" }, { "na", "nau", "nau" }, { "nb", "nob", "nob" },
	{ "nd", "nde", "nde" }, { "ne", "nep", "nep" }, { "ng", "ndo", "ndo" },
	{ "nl", "nld", "dut" }, { "nn", "nno", "nno" }, { "no", "nor", "nor" },
	{ "nr", "nbl", "nbl" }, { "nv", "nav", "nav" }, { "ny", "nya", "nya" },
	{ "oc", "oci", "oci" }, { "oj", "oji", "oji" }, { "om", "orm", "orm" },
	{ "or", "ori", "ori" }, { "os", "oss", "oss" }, { "pa", "pan", "pan" },
	{ "pi", "pli", "pli" }, { "pl", "pol", "pol" }, { "ps", "pus", "pus" },
	{ "pt", "por", "por" }, { "qu", "que", "que" }, { "rm", "roh", "roh" },
	{ "rn", "run", "run" }, { "ro", "ron", "rum" }, { "ru", "rus", "rus" },
	{ "rw", "kin", "kin" }, { "sa", "san", "san" }, { "sc", "srd", "srd" },
	{ "sd", "snd", "snd" }, { "se", "sme", "sme" }, { "sg", "sag", "sag" },
	{ "si", "sin", "sin" }, { "sk", "slk", "slo" }, { "sl", "slv", "slv" },
	{ "sm", "smo", "smo" }, { "sn", "sna", "sna" }, { "so", "som", "som" },
	{ "sq", "sqi", "alb" }, { "sr", "srp", "srp" }, { "ss", "ssw", "ssw" },
	{ "st", "sot", "sot" }, { "su", "sun", "sun" }, { "sv", "swe", "swe" },
	{ "sw", "swa", "swa" }, { "ta", "tam", "tam" }, { "te", "tel", "tel" },
	{ "tg", "tgk", "tgk" }, { "th", "tha", "tha" }, { "ti", "tir", "tir" },
	{ "tk", "tuk", "tuk" }, { "tl", "tgl", "tgl" }, { "tn", "tsn", "tsn" },
	{ "to", "ton", "ton" }, { "tr", "tur", "tur" }, { "ts", "tso", "tso" },
	{ "tt", "tat", "tat" }, { "tw", "twi", "twi" }, { "ty", "tah", "tah" },
	{ "ug", "uig", "uig" }, { "uk", "ukr", "ukr" }, { "ur", "urd", "urd" },
	{ "uz", "uzb", "uzb" }, { "ve", "ven", "ven" }, { "vi", "vie", "vie" },
	{ "vo", "vol", "vol" }, { "wa", "wln", "wln" }, { "wo", "wol", "wol" },
	{ "xh", "xho", "xho" }, { "yi", "yid", "yid" }, { "yo", "yor", "yor" },
	{ "za", "zha", "zha" }, { "zh", "zho", "chi" }, { "zu", "zul", "zul" },
};

#define NLANGS	(sizeof(langs) / sizeof(langs[0]))

/* Never isalpha()/tolower(): they are locale-dependent. */
static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * The primary subtag of tag, lower-cased, into p: its length, or 0 when
 * tag is not a well-formed tag starting with a two- or three-letter one.
 */
static size_t
primary(const char *tag, char p[4])
{
	size_t	 n;

	if (tag == NULL)
		return 0;
	for (n = 0; n < 4 && is_alpha(tag[n]); n++)
		if (n < 3)
			p[n] = lower(tag[n]);
	if (n < 2 || n > 3 || (tag[n] != '\0' && tag[n] != '-') ||
	    !syntax_is_lang(tag))
		return 0;
	p[n] = '\0';
	return n;
}

/* The row of a two- or three-letter code (either ISO 639-2 form). */
static const struct lang_row *
row(const char *p, size_t n)
{
	size_t	 lo = 0, hi = NLANGS, mid, i;
	int	 c;

	if (n == 2) {
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if ((c = strcmp(p, langs[mid].iso1)) == 0)
				return &langs[mid];
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		return NULL;
	}
	for (i = 0; i < NLANGS; i++)
		if (strcmp(p, langs[i].t) == 0 || strcmp(p, langs[i].b) == 0)
			return &langs[i];
	return NULL;
}

int
lang_is_code(const char *tag)
{
	char	 p[4];

	return primary(tag, p) != 0;
}

const char *
lang_canon(const char *tag, char *out, size_t outsz)
{
	const struct lang_row	*l;
	const char		*rest;
	char			 p[4];
	size_t			 n, need;

	if ((n = primary(tag, p)) == 0)
		return NULL;
	l = row(p, n);
	rest = tag + n;
	need = (l != NULL ? 2 : n) + strlen(rest) + 1;
	if (need > outsz)
		return NULL;
	memcpy(out, l != NULL ? l->iso1 : p, l != NULL ? 2 : n);
	memcpy(out + (l != NULL ? 2 : n), rest, strlen(rest) + 1);
	return out;
}

/* The row's code, or an unknown three-letter code itself, or NULL. */
static const char *
three(const char *tag, char out[LANG_CODE_LEN], int b)
{
	const struct lang_row	*l;
	size_t			 n;

	if ((n = primary(tag, out)) == 0)
		return NULL;
	if ((l = row(out, n)) != NULL)
		return b ? l->b : l->t;
	return n == 3 ? out : NULL;
}

const char *
lang_iso3(const char *tag, char out[LANG_CODE_LEN])
{
	return three(tag, out, 0);
}

const char *
lang_marc(const char *tag, char out[LANG_CODE_LEN])
{
	return three(tag, out, 1);
}

const char *
lang_iso1(const char *tag)
{
	char	 p[4];
	size_t	 n;
	const struct lang_row *l;

	if ((n = primary(tag, p)) == 0 || (l = row(p, n)) == NULL)
		return NULL;
	return l->iso1;
}
