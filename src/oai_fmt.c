/*
 * Shared helpers of the OAI-PMH metadata-format writers.  See oai_fmt.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oai_fmt.h"
#include "banned.h"

/*
 * Every ISO 639-1 code with its ISO 639-2/T and 639-2/B codes, sorted by
 * the 639-1 code for bsearch().  T and B differ for twenty languages only;
 * the MARC code list follows 639-2/B.
 */
static const struct lang {
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

static int
lang_cmp(const void *key, const void *elem)
{
	const struct lang *l = elem;

	return strcmp(key, l->iso1);
}

static const struct lang *
lang_find(const char *tag)
{
	char	 key[3];

	if (tag == NULL || !isalpha((unsigned char)tag[0]) ||
	    !isalpha((unsigned char)tag[1]) ||
	    (tag[2] != '\0' && tag[2] != '-' && tag[2] != '_'))
		return NULL;
	key[0] = (char)tolower((unsigned char)tag[0]);
	key[1] = (char)tolower((unsigned char)tag[1]);
	key[2] = '\0';
	return bsearch(key, langs, sizeof(langs) / sizeof(langs[0]),
	    sizeof(langs[0]), lang_cmp);
}

const char *
oai_fmt_lang_t(const char *tag)
{
	const struct lang *l = lang_find(tag);

	return l == NULL ? NULL : l->t;
}

const char *
oai_fmt_lang_b(const char *tag)
{
	const struct lang *l = lang_find(tag);

	return l == NULL ? NULL : l->b;
}

const char *
oai_fmt_name(const struct record_agent *a, struct buf *out)
{
	int	 rc;

	buf_reset(out);
	if (a->kind == RECORD_PERSON && a->family != NULL) {
		if (a->given != NULL && a->given[0] != '\0')
			rc = buf_printf(out, "%s, %s", a->family, a->given);
		else
			rc = buf_addstr(out, a->family);
	} else
		rc = buf_addstr(out, a->name != NULL ? a->name : "");
	return rc == -1 ? NULL : out->data;
}

const struct record_text *
oai_fmt_subtitle(const struct record *r, size_t i)
{
	size_t	 j;

	for (j = 0; j < r->nsubtitles; j++)
		if (oai_fmt_same_lang(r->titles[i].lang, r->subtitles[j].lang))
			return &r->subtitles[j];
	if (i == 0 && r->nsubtitles > 0 && r->subtitles[0].lang == NULL)
		return &r->subtitles[0];
	return NULL;
}

const char *
oai_fmt_type_label(enum record_type t)
{
	static const char *const labels[RECORD_TYPE_COUNT] = {
		[RECORD_REPORT] = "Report",
		[RECORD_POLICY_BRIEF] = "Policy brief",
		[RECORD_WORKING_PAPER] = "Working paper",
		[RECORD_BOOK] = "Book", [RECORD_CHAPTER] = "Book chapter",
		[RECORD_ARTICLE] = "Article", [RECORD_DATASET] = "Dataset",
		[RECORD_PRESENTATION] = "Presentation",
		[RECORD_EVENT] = "Event", [RECORD_NEWS] = "News",
	};

	if ((unsigned)t >= RECORD_TYPE_COUNT || labels[t] == NULL)
		return "Text";
	return labels[t];
}

int
oai_fmt_year(const struct date *d)
{
	char	 day[DATE_DAY_LEN];

	date_fmt_day(d->t, day);
	return (day[0] - '0') * 1000 + (day[1] - '0') * 100 +
	    (day[2] - '0') * 10 + (day[3] - '0');
}

int
oai_fmt_new_format(const struct record *r, size_t i)
{
	const struct record_link	*l = &r->links[i];
	size_t				 j;

	if (l->rel != RECORD_LINK_FULLTEXT || l->type == NULL)
		return 0;
	for (j = 0; j < i; j++)
		if (r->links[j].rel == RECORD_LINK_FULLTEXT &&
		    r->links[j].type != NULL &&
		    strcmp(r->links[j].type, l->type) == 0)
			return 0;
	return 1;
}

const char *
oai_fmt_coar_access(enum record_access a, const char **label)
{
	static const struct {
		const char	*uri, *label;
	} coar[] = {
		[RECORD_ACCESS_OPEN] = { "http://purl.org/coar/access_right/"
		    "c_abf2", "open access" },
		[RECORD_ACCESS_EMBARGOED] = { "http://purl.org/coar/"
		    "access_right/c_f1cf", "embargoed access" },
		[RECORD_ACCESS_RESTRICTED] = { "http://purl.org/coar/"
		    "access_right/c_16ec", "restricted access" },
		[RECORD_ACCESS_METADATA_ONLY] = { "http://purl.org/coar/"
		    "access_right/c_14cb", "metadata only access" },
	};

	if ((size_t)a >= sizeof(coar) / sizeof(*coar) || coar[a].uri == NULL)
		return NULL;
	if (label != NULL)
		*label = coar[a].label;
	return coar[a].uri;
}

const char *
oai_fmt_eurepo_access(enum record_access a)
{
	switch (a) {
	case RECORD_ACCESS_OPEN:
		return "info:eu-repo/semantics/openAccess";
	case RECORD_ACCESS_EMBARGOED:
		return "info:eu-repo/semantics/embargoedAccess";
	case RECORD_ACCESS_RESTRICTED:
		return "info:eu-repo/semantics/restrictedAccess";
	case RECORD_ACCESS_METADATA_ONLY:
		return "info:eu-repo/semantics/closedAccess";
	default:
		return NULL;
	}
}

int
oai_fmt_same_lang(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

void
oai_fmt_root(struct xw *xw, const char *name, const char *const *decls,
    const char *ns, const char *schema)
{
	char	 loc[512];
	size_t	 i;

	xw_start(xw, name);
	for (i = 0; decls[i] != NULL && decls[i + 1] != NULL; i += 2)
		xw_attr(xw, decls[i], decls[i + 1]);
	xw_attr(xw, "xmlns:xsi", OAI_FMT_XSI_NS);
	snprintf(loc, sizeof(loc), "%s %s", ns, schema);
	xw_attr(xw, "xsi:schemaLocation", loc);
}

int
oai_format_write(const struct oai_format *f, struct xw *xw,
    const struct oai_conf *oc, const struct record *r)
{
	struct buf	 tmp, tmp2;
	int		 rc;

	buf_init(&tmp, OAI_FMT_TMP_MAX);
	buf_init(&tmp2, OAI_FMT_TMP_MAX);
	rc = f->body(xw, oc, r, &tmp, &tmp2);
	buf_release(&tmp);
	buf_release(&tmp2);
	if (rc == -1 || xw->failed) {
		xw->failed = 1;	/* the payload is unfinished: poison it */
		return -1;
	}
	return 0;
}
