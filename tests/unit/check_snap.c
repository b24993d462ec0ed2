/*
 * check_snap: snapshot ordering and indexes, sets, pre-rendered documents,
 * reference counting and the current-snapshot pointer.  Records and the
 * configuration come from the real parsers so that `make check-asan` sees
 * every reference the snapshot takes and drops.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "conf.h"
#include "date.h"
#include "err.h"
#include "hash.h"
#include "record.h"
#include "snap.h"
#include "testlib.h"
#include "tl_realloc.h"
#include "banned.h"

#define CONF_TEXT \
	"repository-name R\n" \
	"base-url https://example.org\n" \
	"admin-email a@example.org\n" \
	"records recs\n" \
	"state st\n" \
	"feed-author-name A\n" \
	"oai-namespace example.org\n" \
	"set topic \"Topics\" \"Records by subject\"\n" \
	"set region:bulgaria \"Bulgaria\"\n" \
	"set empty:configured \"Nothing yet\" \"No records\"\n"

static struct record_schema	*schema;
static struct conf		*conf;

static void
setup(void)
{
	schema = tl_record_schema();
	conf = tl_conf(CONF_TEXT);
}

static void
teardown(void)
{
	snap_publish(NULL);
	ck_assert_int_eq(conf->refs, 1);	/* every snapshot let go */
	conf_unref(conf);
	record_schema_free(schema);
}

/* A record with the given id, issue date, datestamp and sets ("a b:c"). */
static struct record *
mkrec(const char *id, const char *issued, int64_t datestamp,
    const char *sets)
{
	char		 xml[4096];
	size_t		 n;
	struct record	*r;

	n = (size_t)snprintf(xml, sizeof(xml),
	    "<record xmlns=\"" RECORD_NS "\" id=\"%s\" type=\"report\">"
	    "<title>Title of %s</title><issued>%s</issued>"
	    "<language>en</language>", id, id, issued);
	n = tl_add_sets(xml, sizeof(xml), n, sets, "<set>%.*s</set>");
	n += (size_t)snprintf(xml + n, sizeof(xml) - n, "</record>");
	r = tl_record(schema, xml, n, id);
	r->datestamp = datestamp;
	return r;
}

static void
unref_all(struct record **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(v[i]->refs, 1);	/* ours only, again */
		record_unref(v[i]);
	}
}

static struct snap *
mksnap(struct record *const *recs, size_t n, const struct snap_tomb *t,
    size_t nt)
{
	struct snap	*s;
	struct err	 e;

	err_init(&e);
	s = snap_new(conf, recs, n, t, nt, &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	err_release(&e);
	return s;
}

START_TEST(test_order)
{
	static const char *tsets[] = { "topic:x" };
	struct snap_tomb tombs[] = {
		{ "t-early", 50, tsets, 1 },
		{ "t-late", 900, NULL, 0 },
		{ "a-mid", 300, NULL, 0 },
	};
	struct record		*r[4];
	struct snap		*s;
	const struct snap_item	*it;
	size_t			 i;
	static const char *want[] = {
		"t-early", "r-b", "r-c", "a-mid", "r-a", "r-d", "t-late"
	};

	r[0] = mkrec("r-d", "2001-01-01", 400, NULL);
	r[1] = mkrec("r-c", "2020-05-05", 200, NULL);
	r[2] = mkrec("r-a", "2020-05-05", 300, NULL);
	r[3] = mkrec("r-b", "1999-12-31", 200, NULL);
	s = mksnap(r, 4, tombs, 3);
	ck_assert_uint_eq(s->refs, 1);
	ck_assert_uint_eq(s->nitems, 7);
	ck_assert_uint_eq(s->nlive, 4);
	ck_assert_ptr_eq(s->conf, conf);
	/* (datestamp, id), tombstones in line with the live ones */
	for (i = 0; i < 7; i++)
		ck_assert_str_eq(s->items[i].id, want[i]);
	ck_assert_ptr_null(s->items[0].rec);
	ck_assert_ptr_eq(s->items[1].rec, r[3]);
	ck_assert_int_eq(s->items[2].datestamp, 200);
	ck_assert_int_eq(s->earliest, 50);
	ck_assert_int_eq(s->latest, 900);
	/* by_id: sorted by id, every item once */
	for (i = 0; i < 7; i++) {
		if (i > 0)
			ck_assert_int_lt(strcmp(s->by_id[i - 1]->id,
			    s->by_id[i]->id), 0);
		ck_assert_ptr_eq(snap_item_find(s, s->by_id[i]->id),
		    s->by_id[i]);
	}
	ck_assert_str_eq(s->by_id[0]->id, "a-mid");
	ck_assert_str_eq(s->by_id[6]->id, "t-late");
	/* a tombstone keeps its own copy of id and sets */
	it = snap_item_find(s, "t-early");
	ck_assert_ptr_nonnull(it);
	ck_assert_ptr_null(it->rec);
	ck_assert_int_eq(it->datestamp, 50);
	ck_assert_uint_eq(it->nsets, 1);
	ck_assert_str_eq(it->sets[0], "topic:x");
	ck_assert_ptr_ne(it->sets[0], tsets[0]);
	ck_assert_ptr_ne(it->id, tombs[0].id);
	it = snap_item_find(s, "r-c");
	ck_assert_ptr_eq(it->rec, r[1]);
	ck_assert_int_eq(it->datestamp, 200);
	ck_assert_ptr_null(snap_item_find(s, "r-e"));
	ck_assert_ptr_null(snap_item_find(s, ""));
	/* feed: live only, by (issued, id) */
	ck_assert_uint_eq(s->nfeed, 4);
	ck_assert_ptr_eq(s->feed[0], r[3]);
	ck_assert_ptr_eq(s->feed[1], r[0]);
	ck_assert_ptr_eq(s->feed[2], r[2]);	/* same day: r-a before r-c */
	ck_assert_ptr_eq(s->feed[3], r[1]);
	/* the snapshot holds a reference to every record */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(r[i]->refs, 2);
	snap_release(s);
	unref_all(r, 4);
}
END_TEST

START_TEST(test_earliest_live)
{
	struct snap_tomb	 tomb = { "gone", 700, NULL, 0 };
	struct record		*r[2];
	struct snap		*s;

	r[0] = mkrec("x", "2020-01-01", 500, NULL);
	r[1] = mkrec("y", "2020-01-01", 600, NULL);
	s = mksnap(r, 2, &tomb, 1);
	ck_assert_int_eq(s->earliest, 500);
	ck_assert_int_eq(s->latest, 700);	/* a deletion is a change */
	snap_release(s);
	s = mksnap(NULL, 0, NULL, 0);
	ck_assert_uint_eq(s->nitems, 0);
	ck_assert_uint_eq(s->nfeed, 0);
	ck_assert_int_eq(s->earliest, 0);
	ck_assert_int_eq(s->latest, 0);
	ck_assert_ptr_null(snap_item_find(s, "x"));
	ck_assert_ptr_null(snap_doc_find(s, "/feed.atom"));
	/* the configured sets exist even with no records */
	ck_assert_ptr_nonnull(snap_set_find(s, "topic"));
	ck_assert_ptr_nonnull(snap_set_find(s, "region"));
	snap_release(s);
	unref_all(r, 2);
}
END_TEST

/* Set spec, items (ids in order), feed (ids in order). */
static void
check_set(const struct snap *s, const char *spec, const char *items,
    const char *feed)
{
	const struct snap_set	*set = snap_set_find(s, spec);
	char			 got[512];
	size_t			 i, n = 0;

	ck_assert_msg(set != NULL, "set %s missing", spec);
	ck_assert_str_eq(set->spec, spec);
	got[0] = '\0';
	for (i = 0; i < set->nitems; i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s",
		    i ? " " : "", s->items[set->items[i]].id);
	ck_assert_msg(strcmp(got, items) == 0, "%s items: '%s' != '%s'",
	    spec, got, items);
	n = 0;
	got[0] = '\0';
	for (i = 0; i < set->nfeed; i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s",
		    i ? " " : "", set->feed[i]->id);
	ck_assert_msg(strcmp(got, feed) == 0, "%s feed: '%s' != '%s'",
	    spec, got, feed);
}

START_TEST(test_sets)
{
	static const char *tsets[] = { "a:d", "a" };
	struct snap_tomb	 tomb = { "t1", 150, tsets, 2 };
	struct record		*r[4];
	struct snap		*s;
	const struct snap_set	*set;
	size_t			 i;
	static const char *specs[] = {
		"a", "a:b", "a:b:c", "a:d", "empty", "empty:configured",
		"region", "region:bulgaria", "topic", "x"
	};

	/* r1 is in a:b and in a: it must still appear once in a */
	r[0] = mkrec("r1", "2020-03-01", 100, "a:b a");
	r[1] = mkrec("r2", "2019-03-01", 200, "a:b:c");
	r[2] = mkrec("r3", "2021-03-01", 300, "x region:bulgaria");
	r[3] = mkrec("r4", "2018-03-01", 400, NULL);
	s = mksnap(r, 4, &tomb, 1);
	ck_assert_uint_eq(s->nsets, sizeof(specs) / sizeof(specs[0]));
	for (i = 0; i < s->nsets; i++)
		ck_assert_str_eq(s->sets[i].spec, specs[i]);

	check_set(s, "a", "r1 t1 r2", "r2 r1");
	check_set(s, "a:b", "r1 r2", "r2 r1");
	check_set(s, "a:b:c", "r2", "r2");
	check_set(s, "a:d", "t1", "");
	check_set(s, "x", "r3", "r3");
	check_set(s, "region", "r3", "r3");
	check_set(s, "region:bulgaria", "r3", "r3");
	check_set(s, "topic", "", "");
	check_set(s, "empty:configured", "", "");

	/* names and descriptions from the configuration, else the spec */
	set = snap_set_find(s, "topic");
	ck_assert_int_eq(set->is_configured, 1);
	ck_assert_str_eq(set->name, "Topics");
	ck_assert_str_eq(set->description, "Records by subject");
	set = snap_set_find(s, "region:bulgaria");
	ck_assert_int_eq(set->is_configured, 1);
	ck_assert_str_eq(set->name, "Bulgaria");
	ck_assert_ptr_null(set->description);
	set = snap_set_find(s, "region");	/* implied by region:bulgaria */
	ck_assert_int_eq(set->is_configured, 0);
	ck_assert_str_eq(set->name, "region");
	ck_assert_ptr_null(set->description);
	set = snap_set_find(s, "empty:configured");
	ck_assert_str_eq(set->name, "Nothing yet");
	set = snap_set_find(s, "a:d");	/* only a tombstone names it */
	ck_assert_int_eq(set->is_configured, 0);
	ck_assert_str_eq(set->name, "a:d");

	ck_assert_ptr_null(snap_set_find(s, "a:"));
	ck_assert_ptr_null(snap_set_find(s, "b"));
	ck_assert_ptr_null(snap_set_find(s, ""));
	snap_release(s);
	unref_all(r, 4);
}
END_TEST

/* A setSpec has no length limit in the schema: long ones work too. */
START_TEST(test_long_spec)
{
	struct record		*r[2];
	struct snap		*s;
	char			 spec[700], leaf[800];

	memset(spec, 'x', sizeof(spec));
	memcpy(spec, "a:", 2);
	spec[600] = '\0';
	snprintf(leaf, sizeof(leaf), "%s:y", spec);
	r[0] = mkrec("long", "2020-01-01", 10, leaf);
	r[1] = mkrec("mid", "2020-01-02", 20, spec);
	s = mksnap(r, 2, NULL, 0);
	ck_assert_ptr_nonnull(snap_set_find(s, leaf));
	check_set(s, leaf, "long", "long");
	check_set(s, spec, "long mid", "long mid");
	check_set(s, "a", "long mid", "long mid");
	snap_release(s);
	unref_all(r, 2);
}
END_TEST

static const struct {
	const char	*set, *spec;
	int		 covers;
} covers[] = {
	{ "a", "a", 1 },
	{ "a", "a:b", 1 },
	{ "a", "a:b:c", 1 },
	{ "a:b", "a:b:c", 1 },
	{ "topic", "topic:smuggling", 1 },
	{ "a", "ab", 0 },
	{ "a", "b", 0 },
	{ "a:b", "a", 0 },
	{ "a:b", "a:bc", 0 },
	{ "a:b", "a:c", 0 },
	{ "topic:s", "topic:smuggling", 0 },
	{ "topic:smuggling", "topic", 0 },
	{ "region", "regions:x", 0 },
};

START_TEST(test_spec_covers)
{
	ck_assert_msg(snap_spec_covers(covers[_i].set, covers[_i].spec) ==
	    covers[_i].covers, "covers(%s, %s) != %d", covers[_i].set,
	    covers[_i].spec, covers[_i].covers);
}
END_TEST

static void
gunzip_eq(const struct snap_doc *d)
{
	z_stream	 z;
	char		*out;
	size_t		 cap = d->len + 64;

	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 16 + 15), Z_OK);	/* gzip only */
	z.next_in = (unsigned char *)d->gz;
	z.avail_in = (uInt)d->gzlen;
	z.next_out = (unsigned char *)out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, d->len);
	ck_assert_uint_eq(z.total_in, d->gzlen);
	ck_assert_mem_eq(out, d->body, d->len);
	inflateEnd(&z);
	free(out);
}

static void
key_of(const char *s, unsigned char key[HASH_LEN])
{
	hash_sha256(s, strlen(s), key);
}

START_TEST(test_docs)
{
	static const char *paths[] = {
		"/sets/topic.atom", "/feed.atom", "/", "/archive/1.atom",
		"/feed.rss",
	};
	struct snap		*s;
	const struct snap_doc	*d;
	unsigned char		 key[HASH_LEN];
	char			 body[4096];
	size_t			 i, n;

	s = mksnap(NULL, 0, NULL, 0);
	for (i = 0; i < 5; i++) {
		n = 0;
		while (n < 3000)	/* compressible, distinct per path */
			n += (size_t)snprintf(body + n, sizeof(body) - n,
			    "<entry>%s %zu</entry>\n", paths[i], n);
		key_of(paths[i], key);
		ck_assert_int_eq(snap_doc_add(s, paths[i],
		    "application/atom+xml", body, n, key, 1000 + (int64_t)i),
		    0);
	}
	key_of("empty", key);
	ck_assert_int_eq(snap_doc_add(s, "/empty", "text/plain", "", 0, key,
	    5), 0);
	snap_seal(s);
	ck_assert_uint_eq(s->ndocs, 6);
	ck_assert_ptr_null(s->zs);
	for (i = 0; i < 5; i++) {
		d = snap_doc_find(s, paths[i]);
		ck_assert_msg(d != NULL, "%s", paths[i]);
		ck_assert_str_eq(d->path, paths[i]);
		ck_assert_str_eq(d->content_type, "application/atom+xml");
		ck_assert_int_eq(d->last_modified, 1000 + (int64_t)i);
		ck_assert_uint_ge(d->len, 3000);
		ck_assert_int_eq(d->body[d->len], '\0');
		ck_assert_ptr_nonnull(strstr(d->body, paths[i]));
		ck_assert_uint_lt(d->gzlen, d->len / 2);
		gunzip_eq(d);
		key_of(paths[i], key);
		ck_assert_mem_eq(d->key, key, HASH_LEN);
		/* "\"<24 hex><8 hex>\"" and the same with -gz */
		ck_assert_uint_eq(strlen(d->etag), 34);
		ck_assert_int_eq(d->etag[0], '"');
		ck_assert_int_eq(d->etag[33], '"');
		ck_assert_uint_eq(strspn(d->etag + 1, "0123456789abcdef"), 32);
		ck_assert_uint_eq(strlen(d->etag_gz), 37);
		ck_assert_int_eq(strncmp(d->etag_gz, d->etag, 33), 0);
		ck_assert_str_eq(d->etag_gz + 33, "-gz\"");
	}
	d = snap_doc_find(s, "/empty");
	ck_assert_uint_eq(d->len, 0);
	ck_assert_str_eq(d->body, "");
	gunzip_eq(d);
	ck_assert_str_ne(snap_doc_find(s, "/feed.atom")->etag,
	    snap_doc_find(s, "/feed.rss")->etag);
	ck_assert_ptr_null(snap_doc_find(s, "/nope"));
	ck_assert_ptr_null(snap_doc_find(s, "/feed.atom2"));
	ck_assert_ptr_null(snap_doc_find(s, ""));
	snap_release(s);
}
END_TEST

/*
 * A document table whose growth failed once takes the next documents
 * as if nothing happened: the capacity was not raised without the memory
 * (before vec_grow(), the next add wrote past the end of the table).
 */
#define NDOCS	100

static int
add_docs(struct snap *s)
{
	unsigned char	 key[HASH_LEN];
	char		 path[32];
	size_t		 i;
	int		 failures = 0;

	for (i = 0; i < NDOCS; i++) {
		snprintf(path, sizeof(path), "/d/%03zu", i);
		key_of(path, key);
		if (snap_doc_add(s, path, "text/plain", path, strlen(path),
		    key, 1) == -1)
			failures++;
	}
	return failures;
}

START_TEST(test_doc_add_fail_nth)
{
	struct snap	*s;
	long		 total, nth;
	int		 failures;
	char		 path[32];
	size_t		 i, found;

	s = mksnap(NULL, 0, NULL, 0);
	tl_realloc_arm(-1);	/* count only */
	ck_assert_int_eq(add_docs(s), 0);
	total = tl_realloc_calls;
	tl_realloc_arm(0);
	snap_release(s);
	ck_assert_int_gt(total, 1);
	for (nth = 1; nth <= total + 1; nth++) {
		s = mksnap(NULL, 0, NULL, 0);
		tl_realloc_arm(nth);
		failures = add_docs(s);
		tl_realloc_arm(0);
		ck_assert_int_eq(failures, nth <= total ? 1 : 0);
		snap_seal(s);
		ck_assert_uint_eq(s->ndocs, NDOCS - (size_t)failures);
		for (i = found = 0; i < NDOCS; i++) {
			snprintf(path, sizeof(path), "/d/%03zu", i);
			found += snap_doc_find(s, path) != NULL;
		}
		ck_assert_uint_eq(found, s->ndocs);
		snap_release(s);
	}
}
END_TEST

/* snap_new() over sets whose lists grow: any failed growth, no snapshot. */
START_TEST(test_new_fail_nth)
{
	struct record	*recs[200];
	struct snap	*s;
	struct err	 e;
	char		 id[32];
	long		 total, nth;
	size_t		 i;

	for (i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "r%03zu", i);
		recs[i] = mkrec(id, "2020-01-01", 100 + (int64_t)i,
		    i % 2 ? "topic:a region:bulgaria" : "topic:b");
	}
	tl_realloc_arm(-1);
	s = mksnap(recs, 200, NULL, 0);
	total = tl_realloc_calls;
	tl_realloc_arm(0);
	ck_assert_uint_eq(snap_set_find(s, "topic")->nitems, 200);
	snap_release(s);
	ck_assert_int_gt(total, 1);
	for (nth = 1; nth <= total + 1; nth++) {
		err_init(&e);
		tl_realloc_arm(nth);
		s = snap_new(conf, recs, 200, NULL, 0, &e);
		tl_realloc_arm(0);
		if (nth <= total) {
			ck_assert_ptr_null(s);
			ck_assert_str_eq(e.msg,
			    "out of memory building the snapshot");
		} else
			ck_assert_uint_eq(snap_set_find(s, "topic")->nitems,
			    200);
		snap_release(s);
		err_release(&e);
	}
	unref_all(recs, 200);
}
END_TEST

/*
 * A document of SNAP_DOC_COLD_MIN bytes or more keeps only its gzip form:
 * found, it is inflated into the document cache with the bytes, gzip and
 * validators it was added with; evicted, found again, the same; it stays
 * valid while held after its snapshot and the cache let go of it.
 */
START_TEST(test_doc_cold)
{
	struct snap		*s, *s2;
	const struct snap_doc	*t, *d, *d2, *h;
	unsigned char		 key[HASH_LEN];
	char			*body, etag[64];
	size_t			 n = SNAP_DOC_COLD_MIN + 12345, k = 0;

	ck_assert_ptr_nonnull(body = malloc(n + 64));
	while (k < n)
		k += (size_t)snprintf(body + k, n + 64 - k, "<url>%zu</url>\n",
		    k);
	n = k;
	s = mksnap(NULL, 0, NULL, 0);
	key_of("/big.xml", key);
	ck_assert_int_eq(snap_doc_add(s, "/big.xml", "application/xml", body,
	    n, key, 77), 0);
	key_of("/small", key);
	ck_assert_int_eq(snap_doc_add(s, "/small", "text/plain", "x", 1, key,
	    1), 0);
	snap_seal(s);
	t = s->docs[0];
	ck_assert_str_eq(t->path, "/big.xml");
	ck_assert_ptr_null(t->body);		/* gzip only */
	ck_assert_ptr_nonnull(t->gz);
	ck_assert_ptr_null(s->docs[1]->cold);
	d = snap_doc_find(s, "/big.xml");
	ck_assert_ptr_ne(d, t);
	ck_assert(d->is_cached);
	ck_assert_uint_eq(d->len, n);
	ck_assert(memcmp(d->body, body, n) == 0);
	ck_assert_int_eq(d->body[n], '\0');
	ck_assert_ptr_eq(d->gz, t->gz);
	ck_assert_uint_eq(d->gzlen, t->gzlen);
	ck_assert_str_eq(d->etag, t->etag);
	ck_assert_str_eq(d->etag_gz, t->etag_gz);
	ck_assert_int_eq(d->last_modified, 77);
	ck_assert_str_eq(d->content_type, "application/xml");
	snprintf(etag, sizeof(etag), "%s", d->etag);
	ck_assert_ptr_eq(snap_doc_find(s, "/big.xml"), d);	/* cached */
	snap_doc_done(d);
	/* evicted, inflated again: the same */
	snap_doc_cache_limit(0);
	ck_assert(!snap_slot_is_ready(t->cold));
	d2 = snap_doc_find(s, "/big.xml");
	ck_assert_uint_eq(d2->len, n);
	ck_assert(memcmp(d2->body, body, n) == 0);
	ck_assert_str_eq(d2->etag, etag);
	/* the next snapshot shares it; the held copy outlives both */
	s2 = mksnap(NULL, 0, NULL, 0);
	ck_assert_int_eq(snap_doc_reuse(s2, s, "/big.xml", t->key), 1);
	snap_seal(s2);
	h = snap_doc_hold(d2);
	snap_doc_done(d2);
	snap_doc_done(d);
	snap_release(s);
	snap_release(s2);
	snap_doc_cache_limit(SNAP_DOC_CACHE_DEFAULT);
	ck_assert(memcmp(h->body, body, n) == 0);
	ck_assert(h->gzlen > 0 && h->gz[0] == '\x1f');
	snap_doc_drop(h);
	free(body);
}
END_TEST

START_TEST(test_doc_etag_reuse)
{
	struct snap		*a, *b;
	const struct snap_doc	*da, *db;
	unsigned char		 k1[HASH_LEN], k2[HASH_LEN];
	static const char	 one[] = "<feed>one</feed>";
	static const char	 two[] = "<feed>two</feed>";
	char			 etag[64];

	key_of("k1", k1);
	key_of("k2", k2);
	a = mksnap(NULL, 0, NULL, 0);
	ck_assert_int_eq(snap_doc_add(a, "/same", "text/xml", one,
	    strlen(one), k1, 1), 0);
	ck_assert_int_eq(snap_doc_add(a, "/bytes", "text/xml", one,
	    strlen(one), k1, 1), 0);
	ck_assert_int_eq(snap_doc_add(a, "/keep", "text/xml", two,
	    strlen(two), k2, 1), 0);
	ck_assert_int_eq(snap_doc_add(a, "/otherkey", "text/xml", one,
	    strlen(one), k2, 1), 0);
	snap_seal(a);

	b = mksnap(NULL, 0, NULL, 0);
	/* same key, same bytes: same ETag, even when rendered again */
	ck_assert_int_eq(snap_doc_add(b, "/same", "text/xml", one,
	    strlen(one), k1, 2), 0);
	/* same key, other bytes: another ETag */
	ck_assert_int_eq(snap_doc_add(b, "/bytes", "text/xml", two,
	    strlen(two), k1, 2), 0);
	/* reuse: only for the same path and key */
	ck_assert_int_eq(snap_doc_reuse(b, a, "/keep", k1), 0);
	ck_assert_int_eq(snap_doc_reuse(b, a, "/missing", k2), 0);
	ck_assert_int_eq(snap_doc_reuse(b, NULL, "/keep", k2), 0);
	ck_assert_uint_eq(b->ndocs, 2);
	ck_assert_int_eq(snap_doc_reuse(b, a, "/keep", k2), 1);
	snap_seal(b);
	ck_assert_uint_eq(b->ndocs, 3);

	ck_assert_str_eq(snap_doc_find(a, "/same")->etag,
	    snap_doc_find(b, "/same")->etag);
	ck_assert_str_eq(snap_doc_find(a, "/same")->etag_gz,
	    snap_doc_find(b, "/same")->etag_gz);
	ck_assert_str_ne(snap_doc_find(a, "/bytes")->etag,
	    snap_doc_find(b, "/bytes")->etag);
	/*
	 * other key, same bytes: the same ETag (a key folds record addresses,
	 * so a restart renders the same bytes under another key)
	 */
	ck_assert_str_eq(snap_doc_find(a, "/same")->etag,
	    snap_doc_find(a, "/otherkey")->etag);
	ck_assert_str_ne(snap_doc_find(a, "/same")->etag,
	    snap_doc_find(a, "/keep")->etag);
	da = snap_doc_find(a, "/keep");
	db = snap_doc_find(b, "/keep");
	ck_assert_ptr_eq(da, db);	/* shared, not copied */
	ck_assert_int_eq(db->refs, 2);
	snprintf(etag, sizeof(etag), "%s", da->etag);
	/* the shared document outlives the snapshot that made it */
	snap_release(a);
	db = snap_doc_find(b, "/keep");
	ck_assert_int_eq(db->refs, 1);
	ck_assert_str_eq(db->etag, etag);
	ck_assert_str_eq(db->body, two);
	gunzip_eq(db);
	snap_release(b);
}
END_TEST

/*
 * snap_next() against snap_new(): a collection in a model, random changes
 * (edits, deletions, revivals, new ids, datestamps older than the newest),
 * and after each round the incremental snapshot must equal a full build
 * item for item, set for set, feed entry for feed entry.
 */
#define NPOOL	160

static const char *const next_sets[] = {
	"topic", "topic:a", "topic:b", "region:bulgaria", "region:norway",
	"type:x",
};
#define NNEXT_SETS (sizeof(next_sets) / sizeof(next_sets[0]))

struct next_model {
	char		 id[16];
	struct record	*rec;		/* live, or NULL */
	int		 is_tomb;
	int64_t		 ds;
	const char	*tsets[2];
	size_t		 ntsets;
};

static uint32_t
next_rand(uint32_t *st)
{
	*st = *st * 1103515245 + 12345;
	return (*st >> 8) & 0xffffff;
}

static void
next_live(struct next_model *m, uint32_t *rs, int64_t ds)
{
	char	 issued[16], sets[64];
	size_t	 a = next_rand(rs) % NNEXT_SETS, b = next_rand(rs) % NNEXT_SETS;

	/* few distinct dates: ties in issued and datestamp order by id */
	snprintf(issued, sizeof(issued), "20%02u-01-%02u",
	    10 + next_rand(rs) % 5, 1 + next_rand(rs) % 3);
	snprintf(sets, sizeof(sets), "%s %s", next_sets[a],
	    a == b ? "" : next_sets[b]);
	if (m->rec != NULL)
		record_unref(m->rec);
	m->rec = mkrec(m->id, issued, ds, sets);
	m->is_tomb = 0;
	m->ds = ds;
}

static struct snap *
next_full(struct next_model *m)
{
	struct record		*recs[NPOOL];
	struct snap_tomb	 tombs[NPOOL];
	size_t			 i, nr = 0, nt = 0;

	for (i = 0; i < NPOOL; i++) {
		if (m[i].rec != NULL)
			recs[nr++] = m[i].rec;
		else if (m[i].is_tomb) {
			tombs[nt].id = m[i].id;
			tombs[nt].datestamp = m[i].ds;
			tombs[nt].sets = m[i].tsets;
			tombs[nt++].nsets = m[i].ntsets;
		}
	}
	return mksnap(recs, nr, tombs, nt);
}

static void
next_same(const struct snap *a, const struct snap *b)
{
	size_t	 i, j;

	ck_assert_uint_eq(a->nitems, b->nitems);
	ck_assert_uint_eq(a->nlive, b->nlive);
	ck_assert_uint_eq(a->nfeed, b->nfeed);
	ck_assert_int_eq(a->earliest, b->earliest);
	ck_assert_int_eq(a->latest, b->latest);
	for (i = 0; i < a->nitems; i++) {
		ck_assert_str_eq(a->items[i].id, b->items[i].id);
		ck_assert_int_eq(a->items[i].datestamp, b->items[i].datestamp);
		ck_assert_ptr_eq(a->items[i].rec, b->items[i].rec);
		ck_assert_uint_eq(a->items[i].nsets, b->items[i].nsets);
		for (j = 0; j < a->items[i].nsets; j++)
			ck_assert_str_eq(a->items[i].sets[j],
			    b->items[i].sets[j]);
		ck_assert_int_eq(a->by_id[i] - a->items,
		    b->by_id[i] - b->items);
	}
	for (i = 0; i < a->nfeed; i++)
		ck_assert_ptr_eq(a->feed[i], b->feed[i]);
	ck_assert_uint_eq(a->nsets, b->nsets);
	for (i = 0; i < a->nsets; i++) {
		const struct snap_set *x = &a->sets[i], *y = &b->sets[i];

		ck_assert_str_eq(x->spec, y->spec);
		ck_assert_str_eq(x->name, y->name);
		ck_assert_int_eq(x->is_configured, y->is_configured);
		ck_assert_uint_eq(x->nitems, y->nitems);
		ck_assert_uint_eq(x->nfeed, y->nfeed);
		for (j = 0; j < x->nitems; j++)
			ck_assert_uint_eq(x->items[j], y->items[j]);
		for (j = 0; j < x->nfeed; j++)
			ck_assert_ptr_eq(x->feed[j], y->feed[j]);
	}
}

START_TEST(test_next_equals_full)
{
	struct next_model	 m[NPOOL];
	struct snap_upd		 upd[8];
	struct snap_tomb	 tombs[8];
	struct snap		*prev, *inc, *full;
	uint32_t		 rs = 12345 + (uint32_t)_i;
	int64_t			 now = 1000000;
	size_t			 i, k, round, nu, nincr = 0;

	memset(m, 0, sizeof(m));
	for (i = 0; i < NPOOL; i++) {
		snprintf(m[i].id, sizeof(m[i].id), "id-%03zu", i);
		if (i < 100)
			next_live(&m[i], &rs, now - (int64_t)(next_rand(&rs) %
			    50));
		else if (i < 120) {
			m[i].is_tomb = 1;
			m[i].ds = now - 10;
			m[i].tsets[0] = next_sets[i % NNEXT_SETS];
			m[i].ntsets = 1;
		}
	}
	prev = next_full(m);
	for (round = 0; round < 60; round++) {
		now += next_rand(&rs) % 3;	/* same second now and then */
		nu = 1 + next_rand(&rs) % 6;
		for (k = 0; k < nu; k++) {
			/* distinct ids within a round */
			i = (round * 7 + k * 23 + next_rand(&rs) % 20) % NPOOL;
			upd[k].id = m[i].id;
			upd[k].rec = NULL;
			upd[k].tomb = NULL;
			if (m[i].rec != NULL && next_rand(&rs) % 3 == 0) {
				m[i].ntsets = m[i].rec->nsets > 2 ? 2 :
				    m[i].rec->nsets;
				for (size_t j = 0; j < m[i].ntsets; j++)
					m[i].tsets[j] = next_sets[0];
				record_unref(m[i].rec);
				m[i].rec = NULL;
				m[i].is_tomb = 1;
				m[i].ds = now;
				tombs[k].id = m[i].id;
				tombs[k].datestamp = now;
				tombs[k].sets = m[i].tsets;
				tombs[k].nsets = m[i].ntsets;
				upd[k].tomb = &tombs[k];
			} else {
				/* now and then a datestamp in the past */
				next_live(&m[i], &rs, next_rand(&rs) % 5 == 0 ?
				    now - 30 : now);
				upd[k].rec = m[i].rec;
			}
		}
		/* the same id twice in a round: keep the last change only */
		for (k = 0; k < nu; k++)
			for (i = k + 1; i < nu; i++)
				if (strcmp(upd[k].id, upd[i].id) == 0)
					upd[k].id = NULL;
		for (k = i = 0; k < nu; k++)
			if (upd[k].id != NULL) {
				upd[i] = upd[k];
				if (upd[i].tomb != NULL) {
					tombs[i] = *upd[k].tomb;
					upd[i].tomb = &tombs[i];
				}
				i++;
			}
		inc = snap_next(prev, upd, i);
		full = next_full(m);
		if (inc != NULL) {
			nincr++;
			next_same(inc, full);
			snap_release(full);
			full = inc;
		}
		snap_release(prev);
		prev = full;
	}
	ck_assert_msg(nincr > 40, "only %zu of 60 rounds incremental", nincr);
	snap_release(prev);
	for (i = 0; i < NPOOL; i++)
		record_unref(m[i].rec);
}
END_TEST

START_TEST(test_refcount)
{
	struct record	*r[3];
	struct snap	*a, *b, *c, *cur;
	int		 conf_refs = conf->refs;

	r[0] = mkrec("one", "2020-01-01", 10, "a");
	r[1] = mkrec("two", "2020-01-02", 20, "a:b");
	r[2] = mkrec("three", "2020-01-03", 30, NULL);
	ck_assert_ptr_null(snap_current());

	a = mksnap(r, 3, NULL, 0);
	b = mksnap(r, 2, NULL, 0);	/* shares one and two */
	ck_assert_uint_gt(b->generation, a->generation);
	ck_assert_int_eq(r[0]->refs, 3);
	ck_assert_int_eq(r[2]->refs, 2);
	ck_assert_int_eq(conf->refs, conf_refs + 2);

	snap_publish(a);		/* takes our reference */
	cur = snap_current();
	ck_assert_ptr_eq(cur, a);
	ck_assert_int_eq(a->refs, 2);
	snap_publish(b);
	/* a is no longer current but our reference keeps it alive */
	ck_assert_int_eq(a->refs, 1);
	ck_assert_str_eq(snap_item_find(cur, "three")->rec->id, "three");
	snap_release(cur);		/* frees a */
	ck_assert_int_eq(r[0]->refs, 2);
	ck_assert_int_eq(r[2]->refs, 1);
	ck_assert_int_eq(conf->refs, conf_refs + 1);

	c = snap_current();
	ck_assert_ptr_eq(c, b);
	ck_assert_ptr_eq(snap_ref(c), b);
	ck_assert_int_eq(b->refs, 3);
	snap_release(c);
	snap_release(c);
	snap_publish(NULL);		/* frees b */
	ck_assert_ptr_null(snap_current());
	snap_ref(NULL);
	snap_release(NULL);
	ck_assert_int_eq(conf->refs, conf_refs);
	unref_all(r, 3);
}
END_TEST

#define NREADERS	4
#define NPUBLISH	1000

struct reader {
	pthread_t	 t;
	int		*stop;
	size_t		 reads;
	int		 bad;
};

static void *
reader_run(void *arg)
{
	struct reader		*rd = arg;
	struct snap		*s;
	const struct snap_doc	*d;
	uint64_t		 last = 0;

	while (!__atomic_load_n(rd->stop, __ATOMIC_ACQUIRE)) {
		if ((s = snap_current()) == NULL)
			continue;
		/* published in creation order: never goes backwards */
		if (s->generation < last || s->nitems != 3 ||
		    snap_item_find(s, "two") == NULL ||
		    (d = snap_doc_find(s, "/feed.atom")) == NULL ||
		    d->len != 6 || memcmp(d->body, "<feed>", 6) != 0)
			rd->bad++;
		last = s->generation;
		rd->reads++;
		snap_release(s);
	}
	return NULL;
}

START_TEST(test_concurrency)
{
	struct reader	 rd[NREADERS];
	struct record	*r[3];
	struct snap	*s;
	unsigned char	 key[HASH_LEN];
	int		 stop = 0, i;

	r[0] = mkrec("one", "2020-01-01", 10, "a");
	r[1] = mkrec("two", "2020-01-02", 20, "a:b");
	r[2] = mkrec("three", "2020-01-03", 30, NULL);
	key_of("feed", key);
	memset(rd, 0, sizeof(rd));
	for (i = 0; i < NREADERS; i++) {
		rd[i].stop = &stop;
		ck_assert_int_eq(pthread_create(&rd[i].t, NULL, reader_run,
		    &rd[i]), 0);
	}
	for (i = 0; i < NPUBLISH; i++) {
		s = mksnap(r, 3, NULL, 0);
		ck_assert_int_eq(snap_doc_add(s, "/feed.atom", "text/xml",
		    "<feed>", 6, key, i), 0);
		snap_seal(s);
		snap_publish(s);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NREADERS; i++) {
		ck_assert_int_eq(pthread_join(rd[i].t, NULL), 0);
		ck_assert_int_eq(rd[i].bad, 0);
	}
	s = snap_current();
	ck_assert_int_eq(s->refs, 2);	/* current + ours: no leaked refs */
	snap_release(s);
	snap_publish(NULL);
	unref_all(r, 3);
}
END_TEST

static Suite *
snap_suite(void)
{
	Suite	*s = suite_create("snap");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_earliest_live);
	tcase_add_test(tc, test_sets);
	tcase_add_test(tc, test_long_spec);
	tcase_add_loop_test(tc, test_spec_covers, 0,
	    sizeof(covers) / sizeof(covers[0]));
	tcase_add_test(tc, test_docs);
	tcase_add_test(tc, test_doc_etag_reuse);
	tcase_add_test(tc, test_doc_cold);
	tcase_add_test(tc, test_doc_add_fail_nth);
	tcase_add_test(tc, test_new_fail_nth);
	tcase_add_loop_test(tc, test_next_equals_full, 0, 4);
	tcase_add_test(tc, test_refcount);
	tcase_add_test(tc, test_concurrency);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(snap_suite());
}
