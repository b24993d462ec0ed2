/*
 * check_export_walk: feed_each_doc() with a previous snapshot, the walk of
 * "export --watch": the documents of a kept owner (a record the same in
 * both, an archive page's shared slot) are not offered, and what they
 * would have been offered with is what was offered in the previous walk;
 * every owner of prev not kept is dropped; a change of what the keys
 * cover besides the record (here the conf) keeps none.  Records and conf
 * are built by hand, as in check_feed.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "date.h"
#include "err.h"
#include "feed.h"
#include "hash.h"
#include "record.h"
#include "snap.h"
#include "testlib.h"
#include "banned.h"

#define NRECS	9	/* 2 entries a page: 4 archive pages */
#define MAXDOCS	512

static struct conf_set conf_sets[] = {
	{ "region", "Regions", NULL },
	{ "region:bulgaria", "Bulgaria", NULL },
};

static char *admins[] = { "admin@example.org" };

static struct conf conf = {
	.refs = 1000,		/* static: conf_unref() must never free it */
	.repository_name = "Institute",
	.base_url = "https://pubs.example.org",
	.admin_emails = admins,
	.nadmin_emails = 1,
	.tag_authority = "pubs.example.org,2024",
	.feed_title = "Pubfeed",
	.feed_lang = "en",
	.feed_entries = 2,
	.sets = conf_sets,
	.nsets = 2,
	.oai_path = "/oai",
	.oai_namespace = "pubs.example.org",
	.doc_cache_bytes = SNAP_DOC_CACHE_DEFAULT,
	.record_cache_bytes = RECORD_CACHE_DEFAULT,
};

static struct record		 recs[NRECS + 1];	/* + a changed copy */
static struct record		*recp[NRECS];
static struct record_text	 titles[NRECS + 1][1];
static const char		*sets_bg[] = { "region:bulgaria" };
static char			 ids[NRECS][16];

static void
fixtures(void)
{
	struct record	*r;
	int		 i;

	memset(recs, 0, sizeof(recs));
	for (i = 0; i < NRECS; i++) {
		r = &recs[i];
		recp[i] = r;
		r->refs = 1000;
		snprintf(ids[i], sizeof(ids[i]), "rec-%d", i);
		r->id = ids[i];
		r->type = RECORD_REPORT;
		r->lang = "en";
		titles[i][0] = (struct record_text){ "en", "A report" };
		r->titles = titles[i];
		r->ntitles = 1;
		r->issued = (struct date){ date_from_civil(2019, 5, 10 + i,
		    0, 0, 0), DATE_DAY };
		r->datestamp = r->issued.t + 86400;
		r->sets = sets_bg;
		r->nsets = i % 2;
		memset(r->hash, i + 1, HASH_LEN);
	}
}

/* rec-i changed: a copy of it, other bytes and datestamp, at recs[NRECS]. */
static struct record *
changed(int i)
{
	struct record	*r = &recs[NRECS];

	*r = recs[i];
	titles[NRECS][0] = (struct record_text){ "en", "A changed report" };
	r->titles = titles[NRECS];
	memset(r->hash, 0xee, HASH_LEN);
	r->datestamp += 3600;
	return r;
}

static struct snap *
build(struct conf *c, struct record **rv, size_t n, const struct snap *prev)
{
	struct snap	*s;
	struct err	 e;

	err_init(&e);
	s = snap_new(c, rv, n, NULL, 0, &e);
	ck_assert_msg(s != NULL, "snap_new: %s", e.msg);
	ck_assert_msg(feed_build(s, prev, &e) == 0, "feed_build: %s", e.msg);
	snap_seal(s);
	err_release(&e);
	return s;
}

/* What one walk offered and dropped. */
struct walk {
	char		*path[MAXDOCS];
	unsigned char	 key[MAXDOCS][HASH_LEN];
	const void	*owner[MAXDOCS];
	size_t		 n;
	size_t		 nrecord;	/* landing pages and link sets */
	size_t		 narchive;
	const void	*drop[MAXDOCS];
	size_t		 ndrop;
};

static int
want(void *arg, const char *path, const unsigned char *key,
    const void *owner, struct err *e)
{
	struct walk	*w = arg;

	ck_assert_uint_lt(w->n, MAXDOCS);
	w->path[w->n] = strdup(path);
	ck_assert_ptr_nonnull(w->path[w->n]);
	memcpy(w->key[w->n], key, HASH_LEN);
	w->owner[w->n++] = owner;
	if (strstr(path, "/records/") != NULL) {
		w->nrecord++;
		ck_assert_ptr_nonnull(owner);
	} else if (strstr(path, "/archive/") != NULL) {
		w->narchive++;
		ck_assert_ptr_nonnull(owner);
	} else
		ck_assert_ptr_null(owner);
	return 0;
}

static void
drop(void *arg, const void *owner)
{
	struct walk	*w = arg;

	ck_assert_uint_lt(w->ndrop, MAXDOCS);
	w->drop[w->ndrop++] = owner;
}

static int
each(void *arg, const struct snap_doc *d, struct err *e)
{
	return 0;
}

static struct walk *
walk(const struct snap *s, const struct snap *prev)
{
	struct walk	*w = calloc(1, sizeof(*w));
	struct err	 e;

	ck_assert_ptr_nonnull(w);
	err_init(&e);
	ck_assert_msg(feed_each_doc(s, prev, want, drop, each, w, &e) == 0,
	    "feed_each_doc: %s", e.msg);
	err_release(&e);
	return w;
}

static void
walk_free(struct walk *w)
{
	size_t	 i;

	for (i = 0; i < w->n; i++)
		free(w->path[i]);
	free(w);
}

/* The key w offered path with, or NULL. */
static const unsigned char *
walk_key(const struct walk *w, const char *path)
{
	size_t	 i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->path[i], path) == 0)
			return w->key[i];
	return NULL;
}

static int
walk_dropped(const struct walk *w, const void *owner)
{
	size_t	 i;

	for (i = 0; i < w->ndrop; i++)
		if (w->drop[i] == owner)
			return 1;
	return 0;
}

/*
 * The walk of s after prev against the full walks of both: every document
 * of the full walk of s not offered is one of a kept owner, offered by the
 * full walk of prev with the same key; every one offered has the full
 * walk's key.
 */
static void
check_skips(const struct walk *skip, const struct walk *full,
    const struct walk *pfull)
{
	const unsigned char	*k, *pk;
	size_t			 i;

	for (i = 0; i < full->n; i++) {
		k = walk_key(skip, full->path[i]);
		if (k != NULL) {
			ck_assert_msg(memcmp(k, full->key[i], HASH_LEN) == 0,
			    "%s: not the full walk's key", full->path[i]);
			continue;
		}
		ck_assert_ptr_nonnull(full->owner[i]);
		ck_assert_msg(!walk_dropped(skip, full->owner[i]),
		    "%s: skipped, its owner dropped", full->path[i]);
		pk = walk_key(pfull, full->path[i]);
		ck_assert_msg(pk != NULL && memcmp(pk, full->key[i],
		    HASH_LEN) == 0, "%s: skipped, key not prev's",
		    full->path[i]);
	}
}

START_TEST(test_walk_same_records_skips_them)
{
	struct snap	*s1, *s2;
	struct walk	*w1, *w2, *w;

	fixtures();
	s1 = build(&conf, recp, NRECS, NULL);
	s2 = build(&conf, recp, NRECS, s1);
	w1 = walk(s1, NULL);
	w2 = walk(s2, NULL);
	ck_assert_uint_eq(w2->nrecord, NRECS * (I18N_NLANGS + 2));
	ck_assert_uint_gt(w2->narchive, 0);
	w = walk(s2, s1);
	/* nothing changed: every landing page, link set, archive page kept */
	ck_assert_uint_eq(w->nrecord, 0);
	ck_assert_uint_eq(w->narchive, 0);
	ck_assert_uint_eq(w->ndrop, 0);
	ck_assert_uint_eq(w->n, w2->n - w2->nrecord - w2->narchive);
	check_skips(w, w2, w1);
	walk_free(w);
	walk_free(w2);
	walk_free(w1);
	snap_release(s2);
	snap_release(s1);
}
END_TEST

START_TEST(test_walk_changed_and_deleted_records)
{
	struct record	*rv[NRECS];
	struct snap	*s1, *s2;
	struct walk	*w1, *w2, *w;
	size_t		 i;

	fixtures();
	s1 = build(&conf, recp, NRECS, NULL);
	/* rec-3 changed, rec-8 (the newest) deleted */
	memcpy(rv, recp, sizeof(rv));
	rv[3] = changed(3);
	s2 = build(&conf, rv, NRECS - 1, s1);
	w1 = walk(s1, NULL);
	w2 = walk(s2, NULL);
	w = walk(s2, s1);
	/* only rec-3's documents, with its new record */
	ck_assert_uint_eq(w->nrecord, I18N_NLANGS + 2);
	for (i = 0; i < w->n; i++)
		if (strstr(w->path[i], "/records/") != NULL) {
			ck_assert_ptr_nonnull(strstr(w->path[i], "rec-3."));
			ck_assert_ptr_eq(w->owner[i], rv[3]);
		}
	ck_assert(walk_dropped(w, &recs[3]));
	ck_assert(walk_dropped(w, &recs[8]));
	for (i = 0; i < NRECS; i++)
		if (i != 3 && i != 8)
			ck_assert_msg(!walk_dropped(w, &recs[i]),
			    "rec-%zu dropped", i);
	/* rec-3 is on archive page 2: the other pages kept */
	ck_assert_uint_gt(w->narchive, 0);
	ck_assert_uint_lt(w->narchive, w2->narchive);
	ck_assert_ptr_nonnull(walk_key(w, "/archive/2.atom"));
	ck_assert_ptr_null(walk_key(w, "/archive/1.atom"));
	check_skips(w, w2, w1);
	walk_free(w);
	walk_free(w2);
	walk_free(w1);
	snap_release(s2);
	snap_release(s1);
}
END_TEST

START_TEST(test_walk_other_conf_keeps_nothing)
{
	struct conf	 c2 = conf;
	struct snap	*s1, *s2;
	struct walk	*w2, *w;
	size_t		 i;

	fixtures();
	s1 = build(&conf, recp, NRECS, NULL);
	/* the same records, another OAI namespace: every key changes */
	c2.oai_namespace = "other.example.org";
	s2 = build(&c2, recp, NRECS, s1);
	w2 = walk(s2, NULL);
	w = walk(s2, s1);
	ck_assert_uint_eq(w->nrecord, w2->nrecord);
	ck_assert_uint_eq(w->narchive, w2->narchive);
	for (i = 0; i < NRECS; i++)
		ck_assert(walk_dropped(w, &recs[i]));
	walk_free(w);
	walk_free(w2);
	snap_release(s2);
	snap_release(s1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("export_walk");
	TCase	*tc = tcase_create("walk");

	tcase_add_test(tc, test_walk_same_records_skips_them);
	tcase_add_test(tc, test_walk_changed_and_deleted_records);
	tcase_add_test(tc, test_walk_other_conf_keeps_nothing);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
