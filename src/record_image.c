/*
 * record_image: a record as a relocatable image and back (see record.h).
 *
 * walk_record() is the one list of the pointer fields, counts, enums and
 * dates of struct record and its parts.  It runs over a working copy of
 * the block with the operations of one direction: encoding reads each
 * pointer (into the record's own block) and writes its word; decoding reads
 * each word, checks it and writes the pointer into the new block.  Both
 * return the elements of an array as they lie in the working copy, so the
 * walk goes on there.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "hash.h"
#include "record.h"
#include "record_int.h"
#include "xw.h"
#include "banned.h"

#define IMG_MAGIC	0x49524650u	/* "PFRI" little-endian */
#define IMG_HDR		32
#define IMG_CRC		24	/* the checksum's place in the header */
#define IMG_MAX		((size_t)64 * 1024 * 1024)	/* block or trailer */

/* years 0000-9999: what every date parser of date.c can give */
#define IMG_T_MIN	(-62167219200LL)
#define IMG_T_MAX	253402300799LL

#define IMG_EXT0	96	/* extents without an allocation */
#define IMG_STR0	32	/* trailer strings without one */

_Static_assert(sizeof(uintptr_t) == sizeof(void *), "pointer words");
_Static_assert(sizeof(enum record_type) == sizeof(int), "enum size");

struct img;

/*
 * What a decoded block's bytes were claimed as: a structure (nothing else
 * may lie there) or a string, with its NUL (strings may share bytes, never
 * with a structure).  Checked once the walk is over, sorted by offset.
 */
struct img_ext {
	size_t		 off, len;
	int		 is_string;
};

struct img_ops {
	void	 (*str)(struct img *, const char **slot, int nullable);
	void	*(*arr)(struct img *, void *slot, size_t n, size_t size,
		    size_t align);
	void	 (*num)(struct img *, const void *field, size_t size,
		    int64_t lo, int64_t hi);
};

struct img {
	const struct img_ops	*ops;
	int			 failed;
	const char		*why;
	unsigned char		*blk;	/* the working copy */
	size_t			 len;	/* the block's size */
	/* encoding */
	const unsigned char	*orig;	/* the record's own block */
	const char		**strs;	/* trailer, by pointer */
	size_t			 nstr, strcap;
	/* decoding */
	const char		**res;	/* trailer strings as pooled */
	struct img_ext		*ext;	/* ext0, or allocated */
	size_t			 next, extcap;
	struct img_ext		 ext0[IMG_EXT0];
};

static int
img_fail(struct img *im, const char *why)
{
	if (!im->failed) {
		im->failed = 1;
		im->why = why;
	}
	return -1;
}

static uintptr_t
slot_get(const void *slot)
{
	uintptr_t	 w;

	memcpy(&w, slot, sizeof(w));
	return w;
}

static void
slot_put(void *slot, uintptr_t w)
{
	memcpy(slot, &w, sizeof(w));
}

/* ------------------------------------------------------------------ */
/* The walk: every field of struct record that encoding or decoding
 * must see, and nothing twice. */

#define STR(im, f)	(im)->ops->str((im), &(f), 1)
#define STR_REQ(im, f)	(im)->ops->str((im), &(f), 0)
#define ARR(im, f, n)	(im)->ops->arr((im), &(f), (n), sizeof(*(f)), \
			    alignof(__typeof__(*(f))))
#define NUM(im, f, lo, hi) (im)->ops->num((im), &(f), sizeof(f), (lo), (hi))

static void
walk_date(struct img *im, struct date *d)
{
	NUM(im, d->t, IMG_T_MIN, IMG_T_MAX);
	NUM(im, d->gran, DATE_DAY, DATE_YEAR);
}

static void
walk_texts(struct img *im, struct record_text **v, size_t n)
{
	struct record_text	*t = ARR(im, *v, n);
	size_t			 i;

	for (i = 0; t != NULL && i < n && !im->failed; i++) {
		STR(im, t[i].lang);
		STR_REQ(im, t[i].text);
	}
}

static void
walk_agents(struct img *im, struct record_agent **v, size_t n)
{
	struct record_agent	*a = ARR(im, *v, n);
	size_t			 i;

	for (i = 0; a != NULL && i < n && !im->failed; i++) {
		NUM(im, a[i].kind, RECORD_PERSON, RECORD_ORG);
		STR_REQ(im, a[i].name);
		STR(im, a[i].family);
		STR(im, a[i].given);
		STR(im, a[i].affiliation);
		STR(im, a[i].orcid);
		STR(im, a[i].email);
		STR(im, a[i].role);
	}
}

static void
walk_strings(struct img *im, const char ***v, size_t n)
{
	const char	**s = ARR(im, *v, n);
	size_t		 i;

	for (i = 0; s != NULL && i < n && !im->failed; i++)
		STR_REQ(im, s[i]);
}

static void
walk_event(struct img *im, struct record_event **v)
{
	struct record_event	*ev;

	if ((ev = ARR(im, *v, slot_get(v) != 0)) == NULL)
		return;
	walk_date(im, &ev->start);
	walk_date(im, &ev->end);
	STR_REQ(im, ev->place);
	STR(im, ev->country);
	STR(im, ev->timezone);
	NUM(im, ev->status, RECORD_EVENT_CONFIRMED, RECORD_EVENT_CANCELLED);
}

static void
walk_fundings(struct img *im, struct record_funding **v, size_t n)
{
	struct record_funding	*f = ARR(im, *v, n);
	size_t			 i;

	for (i = 0; f != NULL && i < n && !im->failed; i++) {
		STR_REQ(im, f[i].funder);
		STR(im, f[i].funder_id);
		NUM(im, f[i].funder_scheme, RECORD_FUNDER_CROSSREF,
		    RECORD_FUNDER_OTHER);
		STR(im, f[i].programme);
		STR(im, f[i].award_number);
		STR(im, f[i].award_title);
		STR(im, f[i].award_uri);
	}
}

static void
walk_idents(struct img *im, struct record_ident **v, size_t n)
{
	struct record_ident	*d = ARR(im, *v, n);
	size_t			 i;

	for (i = 0; d != NULL && i < n && !im->failed; i++) {
		NUM(im, d[i].kind, RECORD_ID_DOI, RECORD_ID_URL);
		STR_REQ(im, d[i].value);
	}
}

static void
walk_links(struct img *im, struct record_link **v, size_t n)
{
	struct record_link	*l = ARR(im, *v, n);
	size_t			 i;

	for (i = 0; l != NULL && i < n && !im->failed; i++) {
		NUM(im, l[i].rel, RECORD_LINK_LANDING, RECORD_LINK_RELATED);
		STR_REQ(im, l[i].href);
		STR(im, l[i].type);
		NUM(im, l[i].length, -1, INT64_MAX);
		STR(im, l[i].lang);
		STR(im, l[i].title);
	}
}

/* r: struct record at the start of the working copy. */
static void
walk_record(struct img *im, struct record *r)
{
	STR_REQ(im, r->id);
	STR_REQ(im, r->path);
	NUM(im, r->type, 0, RECORD_TYPE_COUNT - 1);
	STR(im, r->lang);
	walk_texts(im, &r->titles, r->ntitles);
	walk_texts(im, &r->subtitles, r->nsubtitles);
	walk_agents(im, &r->creators, r->ncreators);
	walk_agents(im, &r->contributors, r->ncontributors);
	walk_date(im, &r->issued);
	walk_date(im, &r->modified);
	walk_event(im, &r->event);
	walk_strings(im, &r->languages, r->nlanguages);
	walk_texts(im, &r->subjects, r->nsubjects);
	walk_texts(im, &r->abstracts, r->nabstracts);
	STR(im, r->publisher);
	STR(im, r->place);
	STR(im, r->place_country);
	STR(im, r->series);
	STR(im, r->rights);
	STR(im, r->license);
	NUM(im, r->access, RECORD_ACCESS_UNSTATED,
	    RECORD_ACCESS_METADATA_ONLY);
	walk_date(im, &r->embargo_end);
	STR(im, r->version);
	walk_fundings(im, &r->fundings, r->nfundings);
	walk_idents(im, &r->idents, r->nidents);
	walk_links(im, &r->links, r->nlinks);
	walk_strings(im, &r->sets, r->nsets);
}

/* The layout the walk assumes, for record_schema_validator(). */
void
record_image_layout(struct hash_ctx *hc)
{
#define SZ(t)		hash_update_i64(hc, (int64_t)sizeof(t))
#define OFF(t, f)	hash_update_i64(hc, (int64_t)offsetof(t, f))
	hash_update_str(hc, "record image");
	hash_update_i64(hc, RECORD_IMAGE_VERSION);
	SZ(void *);
	SZ(struct date);
	OFF(struct date, gran);
	SZ(struct record_text);
	OFF(struct record_text, text);
	SZ(struct record_agent);
	OFF(struct record_agent, name);
	OFF(struct record_agent, family);
	OFF(struct record_agent, given);
	OFF(struct record_agent, affiliation);
	OFF(struct record_agent, orcid);
	OFF(struct record_agent, email);
	OFF(struct record_agent, role);
	SZ(struct record_ident);
	OFF(struct record_ident, value);
	SZ(struct record_link);
	OFF(struct record_link, href);
	OFF(struct record_link, type);
	OFF(struct record_link, length);
	OFF(struct record_link, lang);
	OFF(struct record_link, title);
	SZ(struct record_event);
	OFF(struct record_event, end);
	OFF(struct record_event, place);
	OFF(struct record_event, country);
	OFF(struct record_event, timezone);
	OFF(struct record_event, status);
	SZ(struct record_funding);
	OFF(struct record_funding, funder_id);
	OFF(struct record_funding, funder_scheme);
	OFF(struct record_funding, programme);
	OFF(struct record_funding, award_number);
	OFF(struct record_funding, award_title);
	OFF(struct record_funding, award_uri);
	SZ(struct record);
	OFF(struct record, id);
	OFF(struct record, path);
	OFF(struct record, type);
	OFF(struct record, lang);
	OFF(struct record, titles);
	OFF(struct record, ntitles);
	OFF(struct record, subtitles);
	OFF(struct record, nsubtitles);
	OFF(struct record, creators);
	OFF(struct record, ncreators);
	OFF(struct record, contributors);
	OFF(struct record, ncontributors);
	OFF(struct record, issued);
	OFF(struct record, modified);
	OFF(struct record, event);
	OFF(struct record, languages);
	OFF(struct record, nlanguages);
	OFF(struct record, subjects);
	OFF(struct record, nsubjects);
	OFF(struct record, abstracts);
	OFF(struct record, nabstracts);
	OFF(struct record, publisher);
	OFF(struct record, place);
	OFF(struct record, place_country);
	OFF(struct record, series);
	OFF(struct record, rights);
	OFF(struct record, license);
	OFF(struct record, access);
	OFF(struct record, embargo_end);
	OFF(struct record, version);
	OFF(struct record, fundings);
	OFF(struct record, nfundings);
	OFF(struct record, idents);
	OFF(struct record, nidents);
	OFF(struct record, links);
	OFF(struct record, nlinks);
	OFF(struct record, sets);
	OFF(struct record, nsets);
	OFF(struct record, hash);
	OFF(struct record, datestamp);
	OFF(struct record, arena);
	OFF(struct record, cache);
#undef SZ
#undef OFF
}

/* ------------------------------------------------------------------ */
/* Encoding */

static void
enc_str(struct img *im, const char **slot, int nullable)
{
	const char	*p = (const char *)slot_get(slot);
	const unsigned char *u = (const unsigned char *)p;
	size_t		 i;

	(void)nullable;
	if (im->failed)
		return;
	if (p == NULL) {
		slot_put(slot, 0);
		return;
	}
	if (u >= im->orig && u < im->orig + im->len && memchr(u, '\0',
	    im->len - (size_t)(u - im->orig)) != NULL) {
		slot_put(slot, (uintptr_t)(u - im->orig) << 1);
		return;
	}
	/* the pool's (or a constant): by value, in the trailer */
	for (i = 0; i < im->nstr; i++)
		if (im->strs[i] == p)
			break;
	if (i == im->nstr) {
		if (im->nstr == im->strcap) {
			size_t	 ncap = im->strcap ? 2 * im->strcap : 32;
			void	*v;

			if ((v = reallocarray(im->strs, ncap,
			    sizeof(*im->strs))) == NULL) {
				img_fail(im, "out of memory");
				return;
			}
			im->strs = v;
			im->strcap = ncap;
		}
		im->strs[im->nstr++] = p;
	}
	slot_put(slot, ((uintptr_t)i << 1) | 1);
}

static void *
enc_arr(struct img *im, void *slot, size_t n, size_t size, size_t align)
{
	const unsigned char	*p = (const unsigned char *)slot_get(slot);
	size_t			 off;

	(void)align;
	if (im->failed)
		return NULL;
	if (n == 0 || p == NULL) {
		slot_put(slot, 0);
		return NULL;
	}
	if (p < im->orig || p >= im->orig + im->len) {
		img_fail(im, "an array outside the record's block");
		return NULL;
	}
	off = (size_t)(p - im->orig);
	if (n > (im->len - off) / size) {
		img_fail(im, "an array past the record's block");
		return NULL;
	}
	slot_put(slot, (uintptr_t)off << 1);
	return im->blk + off;
}

static void
enc_num(struct img *im, const void *field, size_t size, int64_t lo,
    int64_t hi)
{
	(void)im;
	(void)field;
	(void)size;
	(void)lo;
	(void)hi;
}

static const struct img_ops enc_ops = { enc_str, enc_arr, enc_num };

static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * zlib's CRC-32 of the whole image but its own four bytes (IMG_CRC): the
 * header, the block and the trailer.  len >= IMG_HDR.
 */
static uint32_t
img_crc(const unsigned char *b, size_t len)
{
	uLong	 c = crc32(0L, Z_NULL, 0);
	size_t	 off = IMG_CRC + 4, n;

	c = crc32(c, b, IMG_CRC);
	while (off < len) {
		n = len - off > 0x40000000u ? 0x40000000u : len - off;
		c = crc32(c, b + off, (uInt)n);
		off += n;
	}
	return (uint32_t)c;
}

void
record_image_seal(unsigned char *img, size_t len)
{
	if (img != NULL && len >= IMG_HDR)
		put32(img + IMG_CRC, img_crc(img, len));
}

int
record_image_encode(const struct record *r, unsigned char **out,
    size_t *len, struct err *e)
{
	struct img	 im;
	struct record	*c;
	const void	*data;
	unsigned char	*o = NULL, *p;
	size_t		 i, slen = 0, total;
	uint64_t	 blen;
	int		 rc = -1;

	*out = NULL;
	*len = 0;
	memset(&im, 0, sizeof(im));
	im.ops = &enc_ops;
	if (record_arena_one(r->arena, &data, &im.len) == -1 ||
	    data != (const void *)r || im.len < sizeof(*r) ||
	    im.len > IMG_MAX) {
		err_set(e, "%s: record is not one block: no image", r->path);
		goto out;
	}
	im.orig = data;
	if ((im.blk = malloc(im.len)) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	memcpy(im.blk, data, im.len);
	c = (struct record *)(void *)im.blk;
	walk_record(&im, c);
	if (im.failed) {
		err_set(e, "%s: no image: %s", r->path, im.why);
		goto out;
	}
	/* not the value: set again by decoding */
	c->refs = 0;
	c->datestamp = 0;
	c->arena = NULL;
	c->cache = NULL;
	for (i = 0; i < im.nstr; i++)
		if ((slen += strlen(im.strs[i]) + 1) > IMG_MAX) {
			err_set(e, "%s: no image: strings too long", r->path);
			goto out;
		}
	total = IMG_HDR + im.len + slen;
	if ((o = malloc(total)) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	put32(o, IMG_MAGIC);
	put32(o + 4, RECORD_IMAGE_VERSION);
	blen = im.len;
	memcpy(o + 8, &blen, sizeof(blen));
	put32(o + 16, (uint32_t)im.nstr);
	put32(o + 20, (uint32_t)slen);
	memset(o + IMG_CRC, 0, IMG_HDR - IMG_CRC);
	memcpy(o + IMG_HDR, im.blk, im.len);
	for (p = o + IMG_HDR + im.len, i = 0; i < im.nstr; i++) {
		size_t	 n = strlen(im.strs[i]) + 1;

		memcpy(p, im.strs[i], n);
		p += n;
	}
	record_image_seal(o, total);
	*out = o;
	*len = total;
	o = NULL;
	rc = 0;
out:
	free(o);
	free(im.blk);
	free(im.strs);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Decoding */

/* Note [off, off + n) as a structure or a string (img_ext); 0 or -1. */
static int
ext_add(struct img *im, size_t off, size_t n, int is_string)
{
	struct img_ext	*v;
	size_t		 ncap;

	if (im->next == im->extcap) {
		ncap = 2 * im->extcap;
		if (im->ext == im->ext0) {
			if ((v = reallocarray(NULL, ncap, sizeof(*v))) ==
			    NULL)
				return img_fail(im, "out of memory");
			memcpy(v, im->ext0, sizeof(im->ext0));
		} else if ((v = reallocarray(im->ext, ncap, sizeof(*v))) ==
		    NULL)
			return img_fail(im, "out of memory");
		im->ext = v;
		im->extcap = ncap;
	}
	im->ext[im->next].off = off;
	im->ext[im->next].len = n;
	im->ext[im->next].is_string = is_string;
	im->next++;
	return 0;
}

static int
ext_cmp(const void *a, const void *b)
{
	const struct img_ext	*x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * xw_is_clean() of s: printable ASCII, eight bytes at a time, is clean
 * (most strings of a record); anything else (a control character, even a
 * tab, or a byte of a multi-byte sequence) is left to xw_is_clean().  Of a
 * warm start, the UTF-8 walk was 5 % byte by byte.
 */
static int
img_clean(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint64_t		 w;
	size_t			 i;

	for (i = 0; i + sizeof(w) <= len; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		/* a byte >= 0x80, or one < 0x20 (it borrows: its top bit) */
		if ((w | (w - 0x2020202020202020ULL)) &
		    0x8080808080808080ULL)
			return xw_is_clean(s, len);
	}
	for (; i < len; i++)
		if (p[i] < 0x20 || p[i] >= 0x80)
			return xw_is_clean(s, len);
	return 1;
}

/*
 * The claims of the walk, sorted by offset: a structure begins after the
 * end of everything before it, a string after the end of every structure
 * before it (strings may share bytes), which with the order says that no
 * structure overlaps anything.  Each string is checked once per offset:
 * clean UTF-8 up to its NUL.  0 or -1.
 */
static int
ext_check(struct img *im)
{
	const struct img_ext	*x;
	size_t			 i, end_all = 0, end_struct = 0, last = 0;
	int			 is_last = 0;

	for (i = 1; i < im->next; i++)
		if (im->ext[i].off < im->ext[i - 1].off) {
			qsort(im->ext, im->next, sizeof(*im->ext), ext_cmp);
			break;
		}
	for (i = 0; i < im->next; i++) {
		x = &im->ext[i];
		if (!x->is_string) {
			if (x->off < end_all)
				return img_fail(im, "an array overlaps another "
				    "or a string");
			end_struct = x->off + x->len;
		} else {
			if (x->off < end_struct)
				return img_fail(im, "a string overlaps a "
				    "structure");
			/* one checked from this very offset ends here too */
			if ((!is_last || x->off != last) &&
			    !img_clean((const char *)im->blk + x->off,
			    x->len - 1))
				return img_fail(im, "a string is not UTF-8 or "
				    "holds characters XML forbids");
			last = x->off;
			is_last = 1;
		}
		if (x->off + x->len > end_all)
			end_all = x->off + x->len;
	}
	return 0;
}

static void
dec_str(struct img *im, const char **slot, int nullable)
{
	uintptr_t	 w = slot_get(slot);
	const char	*s, *end;
	size_t		 off;

	if (im->failed)
		return;
	if (w == 0) {
		if (!nullable)
			img_fail(im, "a required string is missing");
		slot_put(slot, 0);
		return;
	}
	if (w & 1) {
		if ((w >> 1) >= im->nstr) {
			img_fail(im, "a string index is out of range");
			return;
		}
		*slot = im->res[w >> 1];
		return;
	}
	off = w >> 1;
	if (off >= im->len) {
		img_fail(im, "a string offset is out of range");
		return;
	}
	s = (const char *)im->blk + off;
	if ((end = memchr(s, '\0', im->len - off)) == NULL) {
		img_fail(im, "a string is not NUL-terminated");
		return;
	}
	/* its bytes are checked once the walk is over (ext_check()) */
	if (ext_add(im, off, (size_t)(end - s) + 1, 1) == -1)
		return;
	*slot = s;
}

static void *
dec_arr(struct img *im, void *slot, size_t n, size_t size, size_t align)
{
	uintptr_t	 w = slot_get(slot);
	size_t		 off, i;

	if (im->failed)
		return NULL;
	if (n == 0) {
		if (w != 0)
			img_fail(im, "an empty array has a place");
		slot_put(slot, 0);
		return NULL;
	}
	if (w == 0 || (w & 1)) {
		img_fail(im, "an array has no place in the block");
		return NULL;
	}
	off = w >> 1;
	if (off >= im->len || off % align != 0 ||
	    n > (im->len - off) / size) {
		img_fail(im, "an array is out of range or misaligned");
		return NULL;
	}
	/*
	 * At once, against everything claimed so far (a record has 12
	 * arrays at most: its parts hold none), so the walk never goes on
	 * into bytes already walked; strings are checked after the walk.
	 */
	for (i = 0; i < im->next; i++)
		if (off < im->ext[i].off + im->ext[i].len &&
		    im->ext[i].off < off + n * size) {
			img_fail(im, "an array overlaps another or a string");
			return NULL;
		}
	if (ext_add(im, off, n * size, 0) == -1)
		return NULL;
	slot_put(slot, (uintptr_t)(im->blk + off));
	return im->blk + off;
}

static void
dec_num(struct img *im, const void *field, size_t size, int64_t lo,
    int64_t hi)
{
	int64_t		 v;
	int32_t		 v32;

	if (im->failed)
		return;
	if (size == sizeof(v32)) {
		memcpy(&v32, field, sizeof(v32));
		v = v32;
	} else if (size == sizeof(v))
		memcpy(&v, field, sizeof(v));
	else {
		img_fail(im, "a field of unknown size");
		return;
	}
	if (v < lo || v > hi)
		img_fail(im, "a value is out of range");
}

static const struct img_ops dec_ops = { dec_str, dec_arr, dec_num };

static int
id_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (i > 0 && (s[i] == '.' || s[i] == '_' || s[i] == '-'))))
			return 0;
	return i > 0;
}

/* What the renderers take for granted and the walk cannot say alone. */
static const char *
dec_values(const struct record *r)
{
	size_t	 i;

	if (r->ntitles == 0)
		return "no title";
	if (!id_ok(r->id))
		return "the id is not of the id syntax";
	if ((r->type == RECORD_EVENT) != (r->event != NULL))
		return "an event iff type event does not hold";
	for (i = 0; i < r->ncreators + r->ncontributors; i++) {
		const struct record_agent *a = i < r->ncreators ?
		    &r->creators[i] : &r->contributors[i - r->ncreators];

		if (a->kind == RECORD_PERSON && a->family == NULL)
			return "a person has no family name";
	}
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].rel == RECORD_LINK_FULLTEXT &&
		    r->links[i].type == NULL)
			return "a full-text link has no type";
	return NULL;
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t	 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The trailer's strings pooled into im->res (under one acquisition of the
 * pool's lock: record_intern_all()); those the pool does not take are
 * copied after the block (*extra bytes: two passes, the first with out
 * NULL; lens: room for im->nstr lengths).
 */
static int
dec_trailer(struct img *im, const unsigned char *s, size_t slen,
    char *out, size_t *extra, size_t *lens)
{
	const unsigned char	*end = s + slen, *z;
	size_t			 i, n;

	*extra = 0;
	for (i = 0; i < im->nstr; i++) {
		if ((z = memchr(s, '\0', (size_t)(end - s))) == NULL)
			return img_fail(im, "a trailer string is not "
			    "NUL-terminated");
		n = (size_t)(z - s);
		if (out == NULL && !img_clean((const char *)s, n))
			return img_fail(im, "a trailer string is not UTF-8 "
			    "or holds characters XML forbids");
		if (out == NULL) {
			im->res[i] = (const char *)s;
			lens[i] = n;
		} else if (im->res[i] == NULL) {
			memcpy(out, s, n + 1);
			im->res[i] = out;
			out += n + 1;
		}
		s = z + 1;
	}
	if (s != end)
		return img_fail(im, "bytes after the trailer");
	if (out != NULL)
		return 0;
	if (record_intern_all(im->res, lens, im->nstr) == -1)
		return img_fail(im, "out of memory");
	for (i = 0; i < im->nstr; i++)
		if (im->res[i] == NULL)
			*extra += lens[i] + 1;
	return 0;
}

struct record *
record_image_decode(const void *img, size_t len, const char *path,
    const unsigned char hash[HASH_LEN], struct err *e)
{
	const unsigned char	*b = img;
	struct img		 im;
	struct record		*r = NULL;
	void			*arena = NULL;
	uint64_t		 blen;
	size_t			 slen, extra, *lens = NULL;
	size_t			 lens0[IMG_STR0];
	const char		*res0[IMG_STR0];
	const char		*why;

	/* not ext0: 2 KB written for nothing */
	memset(&im, 0, offsetof(struct img, ext0));
	im.ops = &dec_ops;
	im.ext = im.ext0;
	im.next = 0;
	im.extcap = IMG_EXT0;
	if (b == NULL || len < IMG_HDR || get32(b) != IMG_MAGIC ||
	    get32(b + 4) != RECORD_IMAGE_VERSION) {
		img_fail(&im, "not an image of this version");
		goto out;
	}
	/* first: a byte rotted in text would pass every check below */
	if (get32(b + IMG_CRC) != img_crc(b, len)) {
		img_fail(&im, "the checksum does not match");
		goto out;
	}
	memcpy(&blen, b + 8, sizeof(blen));
	im.nstr = get32(b + 16);
	slen = get32(b + 20);
	if (blen < sizeof(struct record) || blen > IMG_MAX ||
	    slen > IMG_MAX || len != IMG_HDR + blen + slen ||
	    im.nstr > slen || get32(b + IMG_CRC + 4) != 0) {
		img_fail(&im, "sizes do not add up");
		goto out;
	}
	im.len = (size_t)blen;
	if (im.nstr <= IMG_STR0) {
		im.res = res0;
		lens = lens0;
	} else if ((im.res = calloc(im.nstr, sizeof(*im.res))) == NULL ||
	    (lens = calloc(im.nstr, sizeof(*lens))) == NULL) {
		img_fail(&im, "out of memory");
		goto out;
	}
	if (dec_trailer(&im, b + IMG_HDR + im.len, slen, NULL, &extra,
	    lens) == -1)
		goto out;
	if ((im.blk = record_arena_block(im.len + extra, &arena)) == NULL) {
		img_fail(&im, "out of memory");
		goto out;
	}
	memcpy(im.blk, b + IMG_HDR, im.len);
	if (dec_trailer(&im, b + IMG_HDR + im.len, slen,
	    (char *)im.blk + im.len, &extra, lens) == -1)
		goto out;
	r = (struct record *)(void *)im.blk;
	ext_add(&im, 0, sizeof(*r), 0);
	walk_record(&im, r);
	if (im.failed || ext_check(&im) == -1)
		goto out;
	if ((why = dec_values(r)) != NULL) {
		img_fail(&im, why);
		goto out;
	}
	if (path != NULL && strcmp(r->path, path) != 0) {
		img_fail(&im, "an image of another file");
		goto out;
	}
	if (hash != NULL && memcmp(r->hash, hash, HASH_LEN) != 0) {
		img_fail(&im, "an image of other bytes");
		goto out;
	}
	r->refs = 1;
	r->datestamp = 0;
	r->arena = arena;
	r->cache = NULL;
	arena = NULL;
out:
	if (im.failed) {
		err_set(e, "%s: parse cache image refused: %s",
		    path != NULL ? path : "-", im.why);
		r = NULL;
	}
	record_arena_free(arena);
	if (im.res != res0)
		free(im.res);
	if (lens != lens0)
		free(lens);
	if (im.ext != im.ext0)
		free(im.ext);
	return r;
}
