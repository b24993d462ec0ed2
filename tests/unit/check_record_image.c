/*
 * check_record_image: record_image_encode() / record_image_decode().
 *
 * Every sample record (config/records, tests/data/records/good and warn)
 * goes through an image and back and must deep-equal the parsed one, its
 * pooled strings pooled again; an image encodes to the same bytes twice.
 * Images damaged every way the decoder guards against (truncated, each
 * bit flipped, offsets out of range or misaligned or overlapping, bad
 * enums, strings without NUL or not UTF-8, sizes that do not add up,
 * other bytes or another path) are refused with a message, never a crash;
 * those are sealed again (record_image_seal()) to get past the checksum,
 * which refuses any bit flipped anywhere, text included
 * (Check forks per test; the suite also runs under ASan and UBSan).
 */
#include <check.h>
#include <glob.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "record.h"
#include "record_int.h"
#include "testlib.h"

#define HDR	32	/* record_image.c's header */
#define CRC	24	/* the checksum in it */

static struct record_schema	*schema;
static glob_t			 files;

static void
setup(void)
{
	struct err	 e;

	err_init(&e);
	schema = record_schema_new(&e);
	ck_assert_ptr_nonnull(schema);
}

static void
teardown(void)
{
	record_schema_free(schema);
}

static struct record *
parse(const char *path)
{
	struct record	*r;
	struct err	 e;
	size_t		 len;
	char		*b = tl_slurp(path, &len);

	err_init(&e);
	r = record_parse_mem(schema, b, len, path, 0, &e);
	free(b);
	err_release(&e);
	return r;
}

/* ---- deep comparison -------------------------------------------------- */

static int
in_block(const struct record *r, const char *s)
{
	const void	*data;
	size_t		 len;

	if (record_arena_one(r->arena, &data, &len) == -1)
		return 0;
	return s >= (const char *)data && s < (const char *)data + len;
}

static void
str_eq(const struct record *a, const struct record *b, const char *x,
    const char *y, const char *what)
{
	if (x == NULL || y == NULL) {
		ck_assert_msg(x == y, "%s: %s: NULL differs", a->path, what);
		return;
	}
	ck_assert_msg(strcmp(x, y) == 0, "%s: %s: '%s' != '%s'", a->path,
	    what, x, y);
	/* a pooled string is the pool's again, not a copy */
	if (!in_block(a, x))
		ck_assert_msg(x == y || !in_block(b, y),
		    "%s: %s: pooled string copied", a->path, what);
}

static void
date_eq(const struct date *x, const struct date *y)
{
	ck_assert_int_eq(x->t, y->t);
	ck_assert_int_eq(x->gran, y->gran);
}

static void
texts_eq(const struct record *a, const struct record *b,
    const struct record_text *x, size_t nx, const struct record_text *y,
    size_t ny)
{
	size_t	 i;

	ck_assert_uint_eq(nx, ny);
	for (i = 0; i < nx; i++) {
		str_eq(a, b, x[i].lang, y[i].lang, "text lang");
		str_eq(a, b, x[i].text, y[i].text, "text");
	}
}

static void
agents_eq(const struct record *a, const struct record *b,
    const struct record_agent *x, size_t nx, const struct record_agent *y,
    size_t ny)
{
	size_t	 i;

	ck_assert_uint_eq(nx, ny);
	for (i = 0; i < nx; i++) {
		ck_assert_int_eq(x[i].kind, y[i].kind);
		str_eq(a, b, x[i].name, y[i].name, "name");
		str_eq(a, b, x[i].family, y[i].family, "family");
		str_eq(a, b, x[i].given, y[i].given, "given");
		str_eq(a, b, x[i].affiliation, y[i].affiliation, "affiliation");
		str_eq(a, b, x[i].orcid, y[i].orcid, "orcid");
		str_eq(a, b, x[i].email, y[i].email, "email");
		str_eq(a, b, x[i].role, y[i].role, "role");
	}
}

static void
strs_eq(const struct record *a, const struct record *b,
    const char *const *x, size_t nx, const char *const *y, size_t ny)
{
	size_t	 i;

	ck_assert_uint_eq(nx, ny);
	for (i = 0; i < nx; i++)
		str_eq(a, b, x[i], y[i], "string");
}

/* a and b hold the same value (record.h: all but refs, arena, cache). */
static void
record_eq(const struct record *a, const struct record *b)
{
	size_t	 i;

	str_eq(a, b, a->id, b->id, "id");
	str_eq(a, b, a->path, b->path, "path");
	ck_assert_int_eq(a->type, b->type);
	str_eq(a, b, a->lang, b->lang, "lang");
	texts_eq(a, b, a->titles, a->ntitles, b->titles, b->ntitles);
	texts_eq(a, b, a->subtitles, a->nsubtitles, b->subtitles,
	    b->nsubtitles);
	agents_eq(a, b, a->creators, a->ncreators, b->creators, b->ncreators);
	agents_eq(a, b, a->contributors, a->ncontributors, b->contributors,
	    b->ncontributors);
	date_eq(&a->issued, &b->issued);
	date_eq(&a->modified, &b->modified);
	ck_assert_int_eq(a->event == NULL, b->event == NULL);
	if (a->event != NULL) {
		date_eq(&a->event->start, &b->event->start);
		date_eq(&a->event->end, &b->event->end);
		str_eq(a, b, a->event->place, b->event->place, "place");
		str_eq(a, b, a->event->country, b->event->country, "country");
		str_eq(a, b, a->event->timezone, b->event->timezone, "tz");
		ck_assert_int_eq(a->event->status, b->event->status);
	}
	strs_eq(a, b, a->languages, a->nlanguages, b->languages,
	    b->nlanguages);
	texts_eq(a, b, a->subjects, a->nsubjects, b->subjects, b->nsubjects);
	texts_eq(a, b, a->abstracts, a->nabstracts, b->abstracts,
	    b->nabstracts);
	str_eq(a, b, a->publisher, b->publisher, "publisher");
	str_eq(a, b, a->place, b->place, "place");
	str_eq(a, b, a->place_country, b->place_country, "place_country");
	str_eq(a, b, a->series, b->series, "series");
	str_eq(a, b, a->rights, b->rights, "rights");
	str_eq(a, b, a->license, b->license, "license");
	ck_assert_int_eq(a->access, b->access);
	date_eq(&a->embargo_end, &b->embargo_end);
	str_eq(a, b, a->version, b->version, "version");
	ck_assert_uint_eq(a->nfundings, b->nfundings);
	for (i = 0; i < a->nfundings; i++) {
		const struct record_funding *x = &a->fundings[i];
		const struct record_funding *y = &b->fundings[i];

		str_eq(a, b, x->funder, y->funder, "funder");
		str_eq(a, b, x->funder_id, y->funder_id, "funder_id");
		ck_assert_int_eq(x->funder_scheme, y->funder_scheme);
		str_eq(a, b, x->programme, y->programme, "programme");
		str_eq(a, b, x->award_number, y->award_number, "award_number");
		str_eq(a, b, x->award_title, y->award_title, "award_title");
		str_eq(a, b, x->award_uri, y->award_uri, "award_uri");
	}
	ck_assert_uint_eq(a->nidents, b->nidents);
	for (i = 0; i < a->nidents; i++) {
		ck_assert_int_eq(a->idents[i].kind, b->idents[i].kind);
		str_eq(a, b, a->idents[i].value, b->idents[i].value, "ident");
	}
	ck_assert_uint_eq(a->nlinks, b->nlinks);
	for (i = 0; i < a->nlinks; i++) {
		const struct record_link *x = &a->links[i], *y = &b->links[i];

		ck_assert_int_eq(x->rel, y->rel);
		str_eq(a, b, x->href, y->href, "href");
		str_eq(a, b, x->type, y->type, "link type");
		ck_assert_int_eq(x->length, y->length);
		str_eq(a, b, x->lang, y->lang, "link lang");
		str_eq(a, b, x->title, y->title, "link title");
	}
	strs_eq(a, b, a->sets, a->nsets, b->sets, b->nsets);
	ck_assert_int_eq(memcmp(a->hash, b->hash, HASH_LEN), 0);
	ck_assert_int_eq(b->refs, 1);
	ck_assert_int_eq(b->datestamp, 0);
	ck_assert_ptr_null(b->cache);
}

/* ---- round trips ------------------------------------------------------ */

START_TEST(test_round_trip)
{
	const char	*path = files.gl_pathv[_i];
	struct record	*r, *d;
	unsigned char	*img, *img2;
	size_t		 len, len2;
	struct err	 e;

	err_init(&e);
	if ((r = parse(path)) == NULL)
		return;		/* a sample that does not parse: not ours */
	ck_assert_msg(record_image_encode(r, &img, &len, &e) == 0, "%s: %s",
	    path, e.msg);
	d = record_image_decode(img, len, r->path, r->hash, &e);
	ck_assert_msg(d != NULL, "%s: %s", path, e.msg);
	record_eq(r, d);
	/* the image of the decoded record is the same bytes */
	ck_assert_int_eq(record_image_encode(d, &img2, &len2, &e), 0);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(img, img2, len), 0);
	/* datestamp and refs are not part of it */
	r->datestamp = 12345;
	free(img2);
	ck_assert_int_eq(record_image_encode(r, &img2, &len2, &e), 0);
	ck_assert_int_eq(memcmp(img, img2, len), 0);
	free(img2);
	free(img);
	record_unref(d);
	record_unref(r);
	err_release(&e);
}
END_TEST

START_TEST(test_samples_parse)
{
	size_t		 i, n = 0;
	struct record	*r;

	for (i = 0; i < files.gl_pathc; i++)
		if ((r = parse(files.gl_pathv[i])) != NULL) {
			n++;
			record_unref(r);
		}
	ck_assert_uint_ge(n, 15);
}
END_TEST

/* ---- hostile images --------------------------------------------------- */

static unsigned char	*good;
static size_t		 good_len;
static struct record	*good_rec;

static void
setup_img(void)
{
	struct err	 e;

	setup();
	err_init(&e);
	good_rec = parse("tests/data/records/good/full-report.xml");
	ck_assert_ptr_nonnull(good_rec);
	ck_assert_int_eq(record_image_encode(good_rec, &good, &good_len, &e),
	    0);
}

static void
teardown_img(void)
{
	free(good);
	record_unref(good_rec);
	teardown();
}

/* A copy of the good image; *len its size. */
static unsigned char *
copy(size_t *len)
{
	unsigned char	*c = malloc(good_len);

	ck_assert_ptr_nonnull(c);
	memcpy(c, good, good_len);
	*len = good_len;
	return c;
}

static uint64_t
blen(void)
{
	uint64_t	 v;

	memcpy(&v, good + 8, sizeof(v));
	return v;
}

static void
word_put(unsigned char *img, size_t field_off, uintptr_t w)
{
	memcpy(img + HDR + field_off, &w, sizeof(w));
}

static uintptr_t
word_get(const unsigned char *img, size_t field_off)
{
	uintptr_t	 w;

	memcpy(&w, img + HDR + field_off, sizeof(w));
	return w;
}

/* img must be refused with a message holding want. */
static void
refused(const unsigned char *img, size_t len, const char *want)
{
	struct record	*r;
	struct err	 e;

	err_init(&e);
	r = record_image_decode(img, len, good_rec->path, good_rec->hash, &e);
	ck_assert_msg(r == NULL, "accepted; wanted '%s'", want);
	ck_assert_msg(strstr(e.msg, want) != NULL, "'%s' lacks '%s'", e.msg,
	    want);
	err_release(&e);
}

/* refused() past the checksum: img (changed) sealed again first. */
static void
refused_sealed(unsigned char *img, size_t len, const char *want)
{
	record_image_seal(img, len);
	refused(img, len, want);
}

START_TEST(test_good_decodes)
{
	struct record	*r;
	struct err	 e;

	err_init(&e);
	r = record_image_decode(good, good_len, good_rec->path, good_rec->hash,
	    &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	record_eq(good_rec, r);
	record_unref(r);
	/* without path and hash to compare */
	ck_assert_ptr_nonnull(r = record_image_decode(good, good_len, NULL,
	    NULL, &e));
	record_unref(r);
}
END_TEST

START_TEST(test_truncated)
{
	size_t	 n;

	for (n = 0; n < good_len; n++)
		refused(good, n, "");
	refused(NULL, 0, "not an image");
}
END_TEST

/*
 * Every bit flipped, text included: refused by the checksum (the magic
 * and the version before it); sealed again, refused or a sound record
 * (ASan watches), and flips inside text then give other text.
 */
START_TEST(test_bit_flips)
{
	unsigned char	*c;
	struct record	*r;
	struct err	 e;
	size_t		 len, i, k, nok = 0;
	int		 b;

	c = copy(&len);
	err_init(&e);
	for (i = 0; i < len; i++)
		for (b = 0; b < 8; b++) {
			c[i] ^= (unsigned char)(1 << b);
			refused(c, len, i < 8 ? "not an image" : "checksum");
			record_image_seal(c, len);
			r = record_image_decode(c, len, NULL, NULL, &e);
			if (r != NULL) {
				nok++;
				ck_assert_uint_ge(r->ntitles, 1);
				for (k = 0; k < r->ntitles; k++)
					ck_assert_uint_ge(strlen(
					    r->titles[k].text), 0);
				for (k = 0; k < r->nsets; k++)
					ck_assert_uint_ge(strlen(r->sets[k]),
					    0);
				record_unref(r);
			}
			err_clear(&e);
			memcpy(c, good, len);
		}
	ck_assert_uint_gt(nok, 0);
	ck_assert_uint_lt(nok, len * 8);
	free(c);
	err_release(&e);
}
END_TEST

/*
 * A letter of the first title changed, as a rotted byte of an overflow
 * page would: still a clean string, refused by the checksum alone.
 */
START_TEST(test_text_rot)
{
	unsigned char	*c;
	size_t		 len, toff;
	uintptr_t	 w;
	struct record	*r;
	struct err	 e;

	c = copy(&len);
	w = word_get(good, offsetof(struct record, titles)) >> 1;
	toff = word_get(good, w + offsetof(struct record_text, text)) >> 1;
	ck_assert_uint_gt(strlen((const char *)good + HDR + toff), 0);
	c[HDR + toff] = c[HDR + toff] == 'Q' ? 'R' : 'Q';
	refused(c, len, "checksum");
	/* the very bytes sealed decode: only the checksum stood in the way */
	record_image_seal(c, len);
	err_init(&e);
	r = record_image_decode(c, len, good_rec->path, good_rec->hash, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	ck_assert_int_eq(r->titles[0].text[0], c[HDR + toff]);
	record_unref(r);
	err_release(&e);
	free(c);
}
END_TEST

START_TEST(test_offsets)
{
	unsigned char	*c;
	size_t		 len, ti = offsetof(struct record, titles);
	uintptr_t	 w = word_get(good, ti);

	c = copy(&len);
	/* past the block */
	word_put(c, ti, (uintptr_t)(blen() + 16) << 1);
	refused_sealed(c, len, "out of range");
	/* misaligned */
	word_put(c, ti, w + 2);
	refused_sealed(c, len, "misaligned");
	/* over struct record itself */
	word_put(c, ti, (uintptr_t)16 << 1);
	refused_sealed(c, len, "overlaps");
	/* over another array: the subjects */
	memcpy(c, good, len);
	word_put(c, ti, word_get(good, offsetof(struct record, subjects)));
	refused_sealed(c, len, "overlaps");
	/* a count that does not fit */
	memcpy(c, good, len);
	word_put(c, offsetof(struct record, ntitles), (uintptr_t)1 << 60);
	refused_sealed(c, len, "out of range");
	/* an array where there is none */
	memcpy(c, good, len);
	word_put(c, offsetof(struct record, ntitles), 0);
	refused_sealed(c, len, "empty array");
	/* a trailer index past the trailer */
	memcpy(c, good, len);
	word_put(c, offsetof(struct record, id), ((uintptr_t)999 << 1) | 1);
	refused_sealed(c, len, "index");
	/* a required string missing */
	memcpy(c, good, len);
	word_put(c, offsetof(struct record, id), 0);
	refused_sealed(c, len, "required");
	/* a string over a structure (the titles array) */
	memcpy(c, good, len);
	word_put(c, offsetof(struct record, publisher), w);
	refused_sealed(c, len, "overlaps");
	free(c);
}
END_TEST

START_TEST(test_enums)
{
	unsigned char	*c;
	size_t		 len;
	int		 v;

	c = copy(&len);
	v = RECORD_TYPE_COUNT;
	memcpy(c + HDR + offsetof(struct record, type), &v, sizeof(v));
	refused_sealed(c, len, "out of range");
	memcpy(c, good, len);
	v = -1;
	memcpy(c + HDR + offsetof(struct record, access), &v, sizeof(v));
	refused_sealed(c, len, "out of range");
	memcpy(c, good, len);
	v = 7;
	memcpy(c + HDR + offsetof(struct record, issued) +
	    offsetof(struct date, gran), &v, sizeof(v));
	refused_sealed(c, len, "out of range");
	free(c);
}
END_TEST

START_TEST(test_strings)
{
	unsigned char	*c;
	size_t		 len, last = blen() - 1, off;

	c = copy(&len);
	/* the id at the block's last byte, which is not a NUL */
	c[HDR + last] = 'A';
	word_put(c, offsetof(struct record, id), (uintptr_t)last << 1);
	refused_sealed(c, len, "NUL");
	/* not UTF-8: the id's first byte */
	memcpy(c, good, len);
	off = word_get(good, offsetof(struct record, id)) >> 1;
	c[HDR + off] = 0xff;
	refused_sealed(c, len, "UTF-8");
	/* a control character XML forbids */
	c[HDR + off] = 0x01;
	refused_sealed(c, len, "UTF-8");
	/* an id off the id syntax */
	c[HDR + off] = '/';
	refused_sealed(c, len, "id syntax");
	free(c);
}
END_TEST

/* d decodes, or is refused for its characters, as want_bad says. */
static void
chars(unsigned char *d, size_t len, int want_bad)
{
	struct record	*r;
	struct err	 e;

	err_init(&e);
	record_image_seal(d, len);
	r = record_image_decode(d, len, good_rec->path, good_rec->hash, &e);
	if (want_bad) {
		ck_assert_ptr_null(r);
		ck_assert_msg(strstr(e.msg, "UTF-8") != NULL, "%s", e.msg);
	} else
		ck_assert_msg(r != NULL, "%s", e.msg);
	record_unref(r);
	err_release(&e);
}

/*
 * The decoder's ASCII fast path: a byte XML forbids, or one of a broken
 * sequence, at any place of a long string of the block or of the trailer
 * (inside a word of eight or in the tail) is refused; a tab, a newline,
 * DEL and a sound two-byte sequence are not.
 */
START_TEST(test_chars)
{
	static const unsigned char bad[] = { 0x01, 0x1f, 0x0b, 0x80,
	    0xc3, 0xff };
	static const unsigned char ok[] = { '\t', '\n', 0x7f };
	unsigned char	*c;
	size_t		 len, toff, tlen, i, j, k, t;
	uintptr_t	 w;

	c = copy(&len);
	w = word_get(good, offsetof(struct record, titles)) >> 1;
	toff = word_get(good, w + offsetof(struct record_text, text)) >> 1;
	for (k = 0; k < 2; k++) {
		/* the first title in the block, then the first trailer string */
		if (k == 0)
			t = HDR + toff;
		else	/* the longest */
			for (t = i = HDR + blen(); i < good_len;
			    i += strlen((const char *)good + i) + 1)
				if (strlen((const char *)good + i) >
				    strlen((const char *)good + t))
					t = i;
		tlen = strlen((const char *)good + t);
		ck_assert_uint_gt(tlen, 9);
		for (i = 0; i < tlen; i++) {
			for (j = 0; j < sizeof(bad); j++) {
				memcpy(c, good, len);
				c[t + i] = bad[j];
				chars(c, len, 1);
			}
			for (j = 0; j < sizeof(ok); j++) {
				memcpy(c, good, len);
				c[t + i] = ok[j];
				chars(c, len, 0);
			}
			if (i + 1 < tlen) {
				memcpy(c, good, len);
				c[t + i] = 0xc3;	/* é */
				c[t + i + 1] = 0xa9;
				chars(c, len, 0);
			}
		}
	}
	free(c);
}
END_TEST

START_TEST(test_header)
{
	unsigned char	*c;
	size_t		 len;
	uint32_t	 v;

	c = copy(&len);
	c[0] ^= 1;
	refused(c, len, "not an image");
	memcpy(c, good, len);
	v = RECORD_IMAGE_VERSION + 1;
	memcpy(c + 4, &v, sizeof(v));
	refused(c, len, "not an image");
	memcpy(c, good, len);
	v = 0xffffffffu;
	memcpy(c + 16, &v, sizeof(v));		/* string count */
	refused_sealed(c, len, "sizes");
	memcpy(c, good, len);
	memset(c + 8, 0xff, 8);			/* block size */
	refused_sealed(c, len, "sizes");
	memcpy(c, good, len);
	c[CRC + 4] = 1;				/* not zero */
	refused_sealed(c, len, "sizes");
	/* the checksum itself */
	memcpy(c, good, len);
	c[CRC] ^= 1;
	refused(c, len, "checksum");
	free(c);
	/* a byte too many */
	c = malloc(good_len + 1);
	memcpy(c, good, good_len);
	c[good_len] = 0;
	refused_sealed(c, good_len + 1, "sizes");
	free(c);
}
END_TEST

START_TEST(test_other_bytes)
{
	unsigned char	 h[HASH_LEN];
	struct err	 e;

	memcpy(h, good_rec->hash, HASH_LEN);
	h[0] ^= 1;
	err_init(&e);
	ck_assert_ptr_null(record_image_decode(good, good_len, good_rec->path,
	    h, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "other bytes"));
	err_clear(&e);
	ck_assert_ptr_null(record_image_decode(good, good_len, "other.xml",
	    good_rec->hash, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "another file"));
	err_release(&e);
}
END_TEST

static Suite *
image_suite(void)
{
	Suite	*s = suite_create("record_image");
	TCase	*tc;

	tc = tcase_create("round trip");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_round_trip, 0, (int)files.gl_pathc);
	tcase_add_test(tc, test_samples_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup_img, teardown_img);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_good_decodes);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_bit_flips);
	tcase_add_test(tc, test_text_rot);
	tcase_add_test(tc, test_offsets);
	tcase_add_test(tc, test_enums);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_chars);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_other_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	 rc;

	if (tl_chdir_srcdir() == -1)
		return 1;
	if (glob("config/records/*.xml", 0, NULL, &files) == GLOB_NOSPACE ||
	    glob("config/records/*/*.xml", GLOB_APPEND, NULL, &files) ==
	    GLOB_NOSPACE ||
	    glob("tests/data/records/good/*.xml", GLOB_APPEND, NULL, &files) ==
	    GLOB_NOSPACE ||
	    glob("tests/data/records/warn/*.xml", GLOB_APPEND, NULL, &files) ==
	    GLOB_NOSPACE ||
	    glob("tests/data/e2e/good/*.xml", GLOB_APPEND, NULL, &files) ==
	    GLOB_NOSPACE)
		return 1;
	rc = tl_run(image_suite());
	globfree(&files);
	return rc;
}
