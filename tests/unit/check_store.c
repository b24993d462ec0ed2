/*
 * check_store: scanning the records tree, last-good versions, duplicate ids,
 * datestamps and tombstones kept in the state directory across restarts,
 * updates of single paths, the editor-temporary rules and the parse cache.
 * Every test works in its own temporary directory; run from the repository
 * root (it copies records from config/records/).
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "conf.h"
#include "date.h"
#include "fileio.h"
#include "err.h"
#include "record.h"
#include "snap.h"
#include "state.h"
#include "store.h"
#include "store_int.h"
#include "testlib.h"
#include "banned.h"

#define REC_SMUG	"config/records/reports/2015-smuggling-balkan-route.xml"
#define ID_SMUG		"2015-smuggling-balkan-route"
#define REC_BRIEF	"config/records/briefs/2017-brief-prosecuting-smugglers.xml"
#define ID_BRIEF	"2017-brief-prosecuting-smugglers"
#define REC_EVENT	"config/records/events/2022-event-oslo-seminar.xml"
#define ID_EVENT	"2022-event-oslo-seminar"

static char		 tmpdir[256];
static struct conf	*conf;

/* tmpdir/rel */
static const char *
tp(const char *rel)
{
	static char	 buf[4][512];
	static int	 n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", tmpdir, rel);
	return buf[n];
}

static struct conf *
mkconf(const char *records, const char *state)
{
	char		 text[2048];

	snprintf(text, sizeof(text),
	    "repository-name R\n"
	    "base-url https://example.org\n"
	    "admin-email a@example.org\n"
	    "records \"%s\"\n"
	    "state \"%s\"\n"
	    "feed-author-name A\n"
	    /* these tests name sets freely; test_closed_sets does not */
	    "open-sets yes\n"
	    "oai-namespace example.org\n", tp(records), tp(state));
	return tl_conf(text);
}

static void
setup(void)
{
	tl_mkdtemp(tmpdir, sizeof(tmpdir), "check_store");
	ck_assert_int_eq(mkdir(tp("recs"), 0755), 0);
	conf = mkconf("recs", "st");
}

static void
teardown(void)
{
	conf_unref(conf);
	tl_rm_rf(tmpdir);
}

static void
write_file(const char *rel, const char *text)
{
	tl_write_file(tp(rel), text);
}

/* A small valid record; sets is a space-separated list or "". */
static void
write_rec(const char *rel, const char *id, const char *sets)
{
	char		 xml[2048];
	size_t		 n;

	n = (size_t)snprintf(xml, sizeof(xml),
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<record xmlns=\"" RECORD_NS "\" id=\"%s\" type=\"news\">\n"
	    "  <title>About %s</title>\n"
	    "  <issued>2020-02-29</issued>\n"
	    "  <language>en</language>\n", id, id);
	n = tl_add_sets(xml, sizeof(xml), n, sets, "  <set>%.*s</set>\n");
	snprintf(xml + n, sizeof(xml) - n, "</record>\n");
	write_file(rel, xml);
}

static void
copy_rec(const char *src, const char *rel)
{
	char		*data;
	size_t		 len;
	struct err	 e;

	err_init(&e);
	ck_assert_msg(fileio_read_file(src, 1 << 20, &data, &len, &e) == 0,
	    "%s (run from the repository root)", e.msg);
	write_file(rel, data);
	free(data);
	err_release(&e);
}

static struct store *
mkstore(int flags)
{
	struct store	*st;
	struct err	 e;

	err_init(&e);
	st = store_new(conf, flags, &e);
	ck_assert_msg(st != NULL, "%s", e.msg);
	err_release(&e);
	return st;
}

static void
scan_ok(struct store *st)
{
	struct err	 e;

	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_msg(e.count == 0, "%s", e.all);
	err_release(&e);
}

static void
update_ok(struct store *st, const char *rel)
{
	const char	*paths[1];
	struct err	 e;

	paths[0] = tp(rel);
	err_init(&e);
	ck_assert_int_eq(store_update(st, paths, 1, &e), 0);
	ck_assert_msg(e.count == 0, "%s", e.all);
	err_release(&e);
}

static struct snap *
snapshot(struct store *st, struct store_changes *chg)
{
	struct snap	*s;
	struct err	 e;

	err_init(&e);
	s = store_snapshot(st, chg, &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert_msg(e.count == 0, "%s", e.all);
	err_release(&e);
	return s;
}

static int
has_set(const struct store_changes *chg, const char *spec)
{
	size_t	 i;

	for (i = 0; i < chg->nsets; i++)
		if (strcmp(chg->sets[i], spec) == 0)
			return 1;
	return 0;
}

static const struct snap_item *
item(const struct snap *s, const char *id)
{
	const struct snap_item	*it = snap_item_find(s, id);

	ck_assert_msg(it != NULL, "no item %s", id);
	return it;
}

static int
exists(const char *rel)
{
	return access(tp(rel), F_OK) == 0;
}

static int64_t
db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*q;
	int64_t		 v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

START_TEST(test_scan)
{
	struct store		*st;
	struct snap		*s, *s2;
	struct store_changes	 chg;
	int64_t			 t0 = date_now(), t1;
	size_t			 i;

	ck_assert_int_eq(mkdir(tp("recs/sub"), 0755), 0);
	ck_assert_int_eq(mkdir(tp("recs/sub/deeper"), 0755), 0);
	ck_assert_int_eq(mkdir(tp("recs/.git"), 0755), 0);
	copy_rec(REC_SMUG, "recs/smug.xml");
	copy_rec(REC_BRIEF, "recs/sub/brief.xml");
	copy_rec(REC_EVENT, "recs/sub/deeper/event.xml");
	/* none of these is read (all would fail to parse) */
	write_file("recs/.hidden.xml", "junk");
	write_file("recs/.smug.xml.swp", "junk");
	write_file("recs/smug.xml~", "junk");
	write_file("recs/.#smug.xml", "junk");
	write_file("recs/notes.txt", "junk");
	write_file("recs/smug.xml.tmp", "junk");
	write_file("recs/.git/x.xml", "junk");

	st = mkstore(0);
	scan_ok(st);
	ck_assert_uint_eq(store_ninvalid(st), 0);
	s = snapshot(st, &chg);
	t1 = date_now();
	ck_assert_uint_eq(s->nitems, 3);
	ck_assert_uint_eq(s->nlive, 3);
	ck_assert_uint_eq(s->ninvalid, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_ge(s->items[i].datestamp, t0);
		ck_assert_int_le(s->items[i].datestamp, t1);
		ck_assert_int_eq(s->items[i].rec->datestamp,
		    s->items[i].datestamp);
	}
	ck_assert_str_eq(item(s, ID_BRIEF)->rec->path,
	    tp("recs/sub/brief.xml"));
	ck_assert_ptr_nonnull(item(s, ID_EVENT)->rec);
	ck_assert_uint_eq(chg.added, 3);
	ck_assert_uint_eq(chg.changed, 0);
	ck_assert_uint_eq(chg.deleted, 0);
	ck_assert_int_eq(chg.any, 1);
	/* leaves and their ancestors */
	ck_assert(has_set(&chg, "topic:smuggling"));
	ck_assert(has_set(&chg, "topic"));
	ck_assert(has_set(&chg, "region:norway"));
	ck_assert(has_set(&chg, "region"));
	ck_assert(has_set(&chg, "type:events"));
	ck_assert(has_set(&chg, "type"));
	ck_assert(!has_set(&chg, "topic:trafficking"));
	ck_assert_uint_eq(chg.nsets, 12);
	store_changes_release(&chg);
	ck_assert_uint_eq(chg.nsets, 0);
	ck_assert(exists("st/pubfeed.db"));
	ck_assert(exists("st/token.key"));

	/* nothing changed: nothing to report, the records are shared */
	scan_ok(st);
	s2 = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	ck_assert_uint_eq(chg.added + chg.changed + chg.deleted, 0);
	ck_assert_uint_eq(chg.nsets, 0);
	ck_assert_ptr_eq(item(s2, ID_SMUG)->rec, item(s, ID_SMUG)->rec);
	ck_assert_int_eq(item(s2, ID_SMUG)->datestamp,
	    item(s, ID_SMUG)->datestamp);
	ck_assert_uint_gt(s2->generation, s->generation);
	store_changes_release(&chg);
	store_changes_release(NULL);
	snap_release(s);
	snap_release(s2);
	store_free(st);
	store_free(NULL);
}
END_TEST

/* Restart, touch, change, delete, come back: one sleep for all of them. */
/*
 * serve's start-up: the tree is listed before the store exists (while the
 * state loads), then applied.  The outcome and the messages are a scan's;
 * a file written after the listing is the next scan's (the watch, set up
 * before the listing, reports it), and a file listed but deleted before it
 * is applied goes at the next look.
 */
START_TEST(test_scan_listed)
{
	struct store_list	*l;
	struct store		*st;
	struct snap		*s;
	struct err		 e;

	ck_assert_int_eq(mkdir(tp("recs/sub"), 0755), 0);
	write_rec("recs/a.xml", "a", "");
	write_rec("recs/sub/b.xml", "b", "");
	write_rec("recs/gone.xml", "gone", "");
	ck_assert_int_eq(mkfifo(tp("recs/fifo.xml"), 0644), 0);
	ck_assert_ptr_nonnull(l = store_list_new(tp("recs")));
	ck_assert_int_ge(store_list_ms(l), 0);
	st = mkstore(0);
	write_rec("recs/c.xml", "c", "");
	ck_assert_int_eq(unlink(tp("recs/gone.xml")), 0);
	err_init(&e);
	ck_assert_int_eq(store_scan_listed(st, l, &e), 0);
	store_list_free(l);
	ck_assert_msg(e.all != NULL && strstr(e.all, "fifo.xml") != NULL &&
	    strstr(e.all, "not a regular file") != NULL, "%s", e.all);
	err_release(&e);
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(snap_item_find(s, "a"));
	ck_assert_ptr_nonnull(snap_item_find(s, "b"));
	ck_assert_ptr_null(snap_item_find(s, "c"));
	ck_assert_ptr_null(snap_item_find(s, "gone"));
	snap_release(s);
	ck_assert_int_eq(unlink(tp("recs/fifo.xml")), 0);
	scan_ok(st);
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(snap_item_find(s, "c"));
	ck_assert_int_eq(s->nlive, 3);
	snap_release(s);
	store_free(st);
}
END_TEST

/* An unreadable records directory, listed: -1, and nothing is taken away. */
START_TEST(test_scan_listed_root_gone)
{
	struct store_list	*l;
	struct store		*st;
	struct snap		*s;
	struct err		 e;

	write_rec("recs/a.xml", "a", "");
	st = mkstore(0);
	scan_ok(st);
	snap_release(snapshot(st, NULL));
	ck_assert_int_eq(rename(tp("recs"), tp("recs.away")), 0);
	ck_assert_ptr_nonnull(l = store_list_new(tp("recs")));
	err_init(&e);
	ck_assert_int_eq(store_scan_listed(st, l, &e), -1);
	ck_assert_msg(strstr(e.msg, "cannot read directory") != NULL, "%s",
	    e.msg);
	store_list_free(l);
	err_release(&e);
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(snap_item_find(s, "a"));
	ck_assert_ptr_nonnull(snap_item_find(s, "a")->rec);
	snap_release(s);
	store_free(st);
}
END_TEST

START_TEST(test_datestamps)
{
	struct store		*st;
	struct snap		*s;
	struct store_changes	 chg;
	const struct snap_item	*it;
	struct timespec		 ts[2];
	struct timespec		 nap = { 1, 100 * 1000 * 1000 };
	int64_t			 d0, dz, dx;

	write_rec("recs/x.xml", "x", "a:b c");
	write_rec("recs/y.xml", "y", "");
	write_rec("recs/z.xml", "z", "p");
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, NULL);
	d0 = item(s, "x")->datestamp;
	ck_assert_int_eq(item(s, "y")->datestamp, d0);
	ck_assert_int_eq(item(s, "z")->datestamp, d0);
	snap_release(s);
	store_free(st);
	nanosleep(&nap, NULL);

	/* restart: the datestamps come from the state directory */
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	ck_assert_int_eq(item(s, "x")->datestamp, d0);
	ck_assert_int_eq(item(s, "y")->datestamp, d0);
	ck_assert_int_eq(s->latest, d0);
	store_changes_release(&chg);
	snap_release(s);

	/* touched, same bytes: same datestamp */
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) + 5;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, tp("recs/y.xml"), ts, 0), 0);
	update_ok(st, "recs/y.xml");
	s = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	ck_assert_int_eq(item(s, "y")->datestamp, d0);
	store_changes_release(&chg);
	snap_release(s);

	/* changed content: a later datestamp, old and new sets reported */
	write_rec("recs/z.xml", "z", "q:r");
	update_ok(st, "recs/z.xml");
	s = snapshot(st, &chg);
	dz = item(s, "z")->datestamp;
	ck_assert_int_gt(dz, d0);
	ck_assert_int_eq(s->latest, dz);
	ck_assert_int_eq(item(s, "x")->datestamp, d0);
	ck_assert_uint_eq(chg.changed, 1);
	ck_assert_uint_eq(chg.added + chg.deleted, 0);
	ck_assert_int_eq(chg.any, 1);
	ck_assert_uint_eq(chg.nsets, 3);
	ck_assert(has_set(&chg, "p"));
	ck_assert(has_set(&chg, "q"));
	ck_assert(has_set(&chg, "q:r"));
	store_changes_release(&chg);
	snap_release(s);

	/* deleted: a tombstone that keeps the sets */
	ck_assert_int_eq(unlink(tp("recs/x.xml")), 0);
	update_ok(st, "recs/x.xml");
	s = snapshot(st, &chg);
	it = item(s, "x");
	ck_assert_ptr_null(it->rec);
	dx = it->datestamp;
	ck_assert_int_ge(dx, dz);
	ck_assert_uint_eq(it->nsets, 2);
	ck_assert_str_eq(it->sets[0], "a:b");
	ck_assert_str_eq(it->sets[1], "c");
	ck_assert_uint_eq(s->nlive, 2);
	ck_assert_uint_eq(s->nitems, 3);
	ck_assert_uint_eq(chg.deleted, 1);
	ck_assert_uint_eq(chg.added + chg.changed, 0);
	ck_assert(has_set(&chg, "a"));
	ck_assert(has_set(&chg, "a:b"));
	ck_assert(has_set(&chg, "c"));
	/* the tombstone stays in its sets */
	ck_assert_uint_eq(snap_set_find(s, "a")->nitems, 1);
	ck_assert_uint_eq(snap_set_find(s, "a")->nfeed, 0);
	store_changes_release(&chg);
	snap_release(s);
	store_free(st);

	/* the tombstone survives a restart, sets and datestamp included */
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	it = item(s, "x");
	ck_assert_ptr_null(it->rec);
	ck_assert_int_eq(it->datestamp, dx);
	ck_assert_uint_eq(it->nsets, 2);
	ck_assert_str_eq(it->sets[1], "c");
	ck_assert_int_eq(item(s, "z")->datestamp, dz);
	store_changes_release(&chg);
	snap_release(s);

	/* back again, same bytes as before: live, with a new datestamp */
	write_rec("recs/x.xml", "x", "a:b c");
	update_ok(st, "recs/x.xml");
	s = snapshot(st, &chg);
	it = item(s, "x");
	ck_assert_ptr_nonnull(it->rec);
	ck_assert_int_ge(it->datestamp, dx);
	ck_assert_int_gt(it->datestamp, d0);
	ck_assert_uint_eq(chg.added, 1);
	ck_assert_uint_eq(s->nlive, 3);
	store_changes_release(&chg);
	snap_release(s);
	store_free(st);
}
END_TEST

/*
 * Sets are a closed list: a record naming an unconfigured set is invalid
 * (its last good version stays), a parent does not admit its children,
 * and a new configuration with the set reads the refused file again.
 */
START_TEST(test_closed_sets)
{
	struct store	*st;
	struct snap	*s;
	struct conf	*c2;
	struct err	 e;
	char		 text[2048], want[600];

	snprintf(text, sizeof(text), "repository-name R\n"
	    "base-url https://example.org\nadmin-email a@example.org\n"
	    "records \"%s\"\nstate \"%s\"\nfeed-author-name A\n"
	    "oai-namespace example.org\nset topic T\n", tp("recs"), tp("st"));
	conf_unref(conf);
	conf = tl_conf(text);
	write_rec("recs/ok.xml", "ok", "topic");
	write_rec("recs/child.xml", "child", "topic:x");
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_int_eq(e.count, 1);
	snprintf(want, sizeof(want), "%s:6: set 'topic:x' is not configured",
	    tp("recs/child.xml"));
	ck_assert_msg(strstr(e.all, want) != NULL, "%s", e.all);
	err_release(&e);
	ck_assert_uint_eq(store_ninvalid(st), 1);
	s = snapshot(st, NULL);
	ck_assert_ptr_null(snap_item_find(s, "child"));
	snap_release(s);

	/* the set configured: the same, unchanged file is valid now */
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
	    "set topic:x X\n");
	c2 = tl_conf(text);
	store_set_conf(st, c2);
	conf_unref(c2);
	scan_ok(st);
	ck_assert_uint_eq(store_ninvalid(st), 0);
	s = snapshot(st, NULL);
	ck_assert_str_eq(item(s, "child")->rec->sets[0], "topic:x");
	snap_release(s);
	store_free(st);
}
END_TEST

START_TEST(test_invalid_edit)
{
	struct store		*st;
	struct snap		*s, *s2;
	struct store_changes	 chg;
	struct err		 e;
	char			 want[600];

	write_rec("recs/good.xml", "good", "a");
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, NULL);

	/* a half-written save: reported, the last good version stays */
	write_file("recs/good.xml", "<?xml version=\"1.0\"?>\n"
	    "<record xmlns=\"" RECORD_NS "\" id=\"good\" type=\"news\">\n"
	    "  <title>Half\n");
	/* and a file that never was valid */
	write_file("recs/never.xml", "<record xmlns=\"" RECORD_NS "\"\n"
	    "  id=\"never\" type=\"no-such-type\"><title>T</title>"
	    "<issued>2020-01-01</issued><language>en</language>"
	    "</record>\n");
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_int_ge(e.count, 3);
	snprintf(want, sizeof(want), "%s:4", tp("recs/good.xml"));
	ck_assert_msg(strstr(e.all, want) != NULL, "%s", e.all);
	snprintf(want, sizeof(want), "%s: keeping the last good version on "
	    "line", tp("recs/good.xml"));
	ck_assert_msg(strstr(e.all, want) != NULL, "%s", e.all);
	snprintf(want, sizeof(want), "%s:", tp("recs/never.xml"));
	ck_assert_msg(strstr(e.all, want) != NULL, "%s", e.all);
	err_release(&e);
	ck_assert_uint_eq(store_ninvalid(st), 2);
	s2 = snapshot(st, &chg);
	ck_assert_uint_eq(s2->ninvalid, 2);
	ck_assert_uint_eq(s2->nitems, 1);
	ck_assert_ptr_eq(item(s2, "good")->rec, item(s, "good")->rec);
	ck_assert_int_eq(item(s2, "good")->datestamp,
	    item(s, "good")->datestamp);
	ck_assert_ptr_null(snap_item_find(s2, "never"));
	ck_assert_int_eq(chg.any, 0);
	store_changes_release(&chg);
	snap_release(s2);

	/* fixed again (same bytes as before): valid, nothing changed */
	write_rec("recs/good.xml", "good", "a");
	unlink(tp("recs/never.xml"));
	scan_ok(st);
	ck_assert_uint_eq(store_ninvalid(st), 0);
	s2 = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	ck_assert_uint_eq(s2->ninvalid, 0);
	ck_assert_int_eq(item(s2, "good")->datestamp,
	    item(s, "good")->datestamp);
	store_changes_release(&chg);
	snap_release(s2);
	snap_release(s);
	store_free(st);
}
END_TEST

START_TEST(test_duplicate_id)
{
	struct store	*st;
	struct snap	*s;
	struct err	 e;
	char		 want[600];

	write_rec("recs/b.xml", "dup", "from-b");
	write_rec("recs/a.xml", "dup", "from-a");
	write_rec("recs/c.xml", "other", "");
	st = mkstore(0);
	scan_ok(st);
	err_init(&e);
	ck_assert_uint_eq(store_check_ids(st, &e), 2);
	ck_assert_int_eq(e.count, 1);
	snprintf(want, sizeof(want), "%s: id 'dup' is already used by "
	    "%s; left out", tp("recs/b.xml"), tp("recs/a.xml"));
	ck_assert_str_eq(e.msg, want);
	err_clear(&e);

	s = store_snapshot(st, NULL, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(e.count, 1);
	ck_assert_str_eq(e.msg, want);
	err_release(&e);
	ck_assert_uint_eq(s->nitems, 2);
	ck_assert_str_eq(item(s, "dup")->rec->path, tp("recs/a.xml"));
	ck_assert_str_eq(item(s, "dup")->sets[0], "from-a");
	snap_release(s);

	/* the winner goes away: the other file takes over the id */
	unlink(tp("recs/a.xml"));
	update_ok(st, "recs/a.xml");
	s = snapshot(st, NULL);
	ck_assert_uint_eq(s->nlive, 2);
	ck_assert_str_eq(item(s, "dup")->rec->path, tp("recs/b.xml"));
	ck_assert_ptr_null(snap_set_find(s, "from-a"));
	snap_release(s);
	store_free(st);
}
END_TEST

START_TEST(test_update)
{
	struct store		*st;
	struct snap		*s;
	struct store_changes	 chg;
	const char		*paths[2];
	struct err		 e;

	ck_assert_int_eq(mkdir(tp("recs/sub"), 0755), 0);
	ck_assert_int_eq(mkdir(tp("recs/sub2"), 0755), 0);
	write_rec("recs/a.xml", "a", "");
	write_rec("recs/sub/s1.xml", "s1", "");
	write_rec("recs/sub/s2.xml", "s2", "");
	write_rec("recs/sub2/m1.xml", "m1", "");
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, NULL);
	ck_assert_uint_eq(s->nlive, 4);
	snap_release(s);

	/* a file added; another written but not named is not looked at */
	write_rec("recs/b.xml", "b", "");
	write_rec("recs/unseen.xml", "unseen", "");
	update_ok(st, "recs/b.xml");
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.added, 1);
	ck_assert_ptr_nonnull(item(s, "b")->rec);
	ck_assert_ptr_null(snap_item_find(s, "unseen"));
	store_changes_release(&chg);
	snap_release(s);
	unlink(tp("recs/unseen.xml"));

	/* editor temporaries are ignored, even if they vanish */
	write_file("recs/.a.xml.swp", "junk");
	write_file("recs/a.xml~", "junk");
	paths[0] = tp("recs/.a.xml.swp");
	paths[1] = tp("recs/a.xml~");
	err_init(&e);
	ck_assert_int_eq(store_update(st, paths, 2, &e), 0);
	ck_assert_int_eq(e.count, 0);
	unlink(paths[0]);
	ck_assert_int_eq(store_update(st, paths, 1, &e), 0);
	err_release(&e);
	s = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	ck_assert_uint_eq(s->nlive, 5);
	store_changes_release(&chg);
	snap_release(s);

	/* a file removed */
	unlink(tp("recs/b.xml"));
	update_ok(st, "recs/b.xml");
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.deleted, 1);
	ck_assert_ptr_null(item(s, "b")->rec);
	store_changes_release(&chg);
	snap_release(s);

	/* a directory removed: one event for the directory only */
	tl_rm_rf(tp("recs/sub"));
	update_ok(st, "recs/sub");
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.deleted, 2);
	ck_assert_ptr_null(item(s, "s1")->rec);
	ck_assert_ptr_null(item(s, "s2")->rec);
	ck_assert_ptr_nonnull(item(s, "a")->rec);
	store_changes_release(&chg);
	snap_release(s);

	/* a directory moved away, then back under another name */
	ck_assert_int_eq(rename(tp("recs/sub2"), tp("away")), 0);
	update_ok(st, "recs/sub2");
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.deleted, 1);
	ck_assert_ptr_null(item(s, "m1")->rec);
	store_changes_release(&chg);
	snap_release(s);
	ck_assert_int_eq(rename(tp("away"), tp("recs/sub3")), 0);
	update_ok(st, "recs/sub3");
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.added, 1);
	ck_assert_str_eq(item(s, "m1")->rec->path, tp("recs/sub3/m1.xml"));
	store_changes_release(&chg);
	snap_release(s);

	/* a directory replaced by another one of the same name */
	ck_assert_int_eq(rename(tp("recs/sub3"), tp("away")), 0);
	ck_assert_int_eq(mkdir(tp("recs/sub3"), 0755), 0);
	write_rec("recs/sub3/n1.xml", "n1", "");
	update_ok(st, "recs/sub3");
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.added, 1);
	ck_assert_uint_eq(chg.deleted, 1);
	ck_assert_ptr_null(item(s, "m1")->rec);
	ck_assert_ptr_nonnull(item(s, "n1")->rec);
	ck_assert_uint_eq(s->nlive, 2);	/* a, n1 */
	store_changes_release(&chg);
	snap_release(s);

	/* a full scan agrees with the updates */
	scan_ok(st);
	s = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	store_changes_release(&chg);
	snap_release(s);
	store_free(st);
}
END_TEST

START_TEST(test_records_dir_gone)
{
	struct store	*st;
	struct snap	*s;
	struct err	 e;

	write_rec("recs/a.xml", "a", "");
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, NULL);
	snap_release(s);
	/* unreadable for a moment: an error, and nothing is deleted */
	ck_assert_int_eq(rename(tp("recs"), tp("recs.moved")), 0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "/recs: "));
	err_release(&e);
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(item(s, "a")->rec);
	snap_release(s);
	store_free(st);

	/* a fresh store with no readable directory fails the scan */
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), -1);
	err_release(&e);
	store_free(st);
}
END_TEST

/*
 * Permission tests need a user the mode bits apply to: as root (CI, the
 * containers) the effective uid drops to nobody around the looks and comes
 * back (the saved uid stays 0), so EACCES is real, not simulated.
 */
static void
drop(void)
{
	if (getuid() != 0)
		return;
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	ck_assert_int_eq(seteuid(65534), 0);
}

static void
undrop(void)
{
	if (getuid() == 0)
		ck_assert_int_eq(seteuid(0), 0);
}

/* A scan as the dropped user; returns what it reported. */
static int
scan_dropped(struct store *st, struct err *e)
{
	int	 rc;

	drop();
	rc = store_scan(st, e);
	undrop();
	return rc;
}

static void
update_dropped(struct store *st, const char *rel, struct err *e)
{
	const char	*paths[1];

	paths[0] = tp(rel);
	drop();
	ck_assert_int_eq(store_update(st, paths, 1, e), 0);
	undrop();
}

/* Issue 8 defect 4: a failed read is not the file's state. */
START_TEST(test_failed_read_retried)
{
	struct store	*st;
	struct snap	*s;
	struct err	 e;

	write_rec("recs/a.xml", "a", "old");
	write_rec("recs/n.xml", "n", "");
	ck_assert_int_eq(chmod(tp("recs/n.xml"), 0), 0);
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(scan_dropped(st, &e), 0);
	ck_assert_int_eq(e.count, 1);
	s = snapshot(st, NULL);
	ck_assert_ptr_null(snap_item_find(s, "n"));
	snap_release(s);

	/* chmod alone (same size, same mtime): the next look reads it */
	ck_assert_int_eq(chmod(tp("recs/n.xml"), 0644), 0);
	ck_assert_int_eq(scan_dropped(st, &e), 0);
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(item(s, "n")->rec);
	snap_release(s);
	ck_assert_msg(strstr(e.msg, "recs/n.xml: cannot open: Permission "
	    "denied") != NULL, "%s", e.msg);
	ck_assert_int_eq(e.count, 1);
	err_clear(&e);

	/* a new version that cannot be read: the last good one stays */
	write_rec("recs/a.xml", "a", "new");
	ck_assert_int_eq(chmod(tp("recs/a.xml"), 0), 0);
	update_dropped(st, "recs/a.xml", &e);
	ck_assert_int_eq(e.count, 2);
	ck_assert_ptr_nonnull(strstr(e.all, "keeping the last good version"));
	err_clear(&e);
	s = snapshot(st, NULL);
	ck_assert_str_eq(item(s, "a")->rec->sets[0], "old");
	snap_release(s);
	/* and an event (here: the chmod's IN_ATTRIB) reads it again */
	ck_assert_int_eq(chmod(tp("recs/a.xml"), 0644), 0);
	update_dropped(st, "recs/a.xml", &e);
	ck_assert_msg(e.count == 0, "%s", e.all);
	s = snapshot(st, NULL);
	ck_assert_str_eq(item(s, "a")->rec->sets[0], "new");
	snap_release(s);
	err_release(&e);
	store_free(st);
}
END_TEST

/* EMFILE (descriptors exhausted) is a failed read too: tried again. */
START_TEST(test_emfile_retried)
{
	struct store	*st;
	struct snap	*s;
	struct rlimit	 old, low;
	struct err	 e;
	const char	*paths[1];
	int		 fd;

	write_rec("recs/m.xml", "m", "");
	paths[0] = tp("recs/m.xml");
	st = mkstore(0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	fd = dup(0);
	ck_assert_int_ne(fd, -1);
	close(fd);
	low = old;
	low.rlim_cur = (rlim_t)fd;	/* no descriptor left to open */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	err_init(&e);
	ck_assert_int_eq(store_update(st, paths, 1, &e), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(e.count, 1);
	ck_assert_msg(strstr(e.msg, "recs/m.xml: cannot open: Too many open "
	    "files") != NULL, "%s", e.msg);
	err_clear(&e);
	ck_assert_int_eq(store_update(st, paths, 1, &e), 0);
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(item(s, "m")->rec);
	snap_release(s);
	ck_assert_msg(e.count == 0, "%s", e.all);
	err_release(&e);
	store_free(st);
}
END_TEST

/* Issue 8 defect 5: an unreadable directory is an error, not a deletion. */
START_TEST(test_unreadable_dir_kept)
{
	struct store		*st;
	struct snap		*s;
	struct store_changes	 chg;
	struct err		 e;
	int64_t			 d;

	ck_assert_int_eq(mkdir(tp("recs/sub"), 0755), 0);
	ck_assert_int_eq(mkdir(tp("recs/sub/deep"), 0755), 0);
	write_rec("recs/top.xml", "top", "");
	write_rec("recs/sub/a.xml", "a", "");
	write_rec("recs/sub/deep/b.xml", "b", "");
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, NULL);
	d = item(s, "a")->datestamp;
	snap_release(s);

	/* no read permission: opendir fails */
	ck_assert_int_eq(chmod(tp("recs/sub"), 0), 0);
	err_init(&e);
	ck_assert_int_eq(scan_dropped(st, &e), 0);
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.deleted, 0);
	ck_assert_int_eq(chg.any, 0);
	ck_assert_ptr_nonnull(item(s, "a")->rec);
	ck_assert_ptr_nonnull(item(s, "b")->rec);
	store_changes_release(&chg);
	snap_release(s);
	ck_assert_int_eq(e.count, 1);
	ck_assert_msg(strstr(e.msg, "recs/sub: cannot read directory: "
	    "Permission denied; keeping its records as they were") != NULL,
	    "%s", e.msg);
	err_clear(&e);
	/* the watcher reporting the directory changes nothing either */
	update_dropped(st, "recs/sub", &e);
	ck_assert_int_eq(e.count, 1);
	err_clear(&e);

	/* read but no search permission: each lstat fails */
	ck_assert_int_eq(chmod(tp("recs/sub"), 0644), 0);
	ck_assert_int_eq(scan_dropped(st, &e), 0);
	ck_assert_msg(strstr(e.all, "recs/sub/a.xml: cannot look at: "
	    "Permission denied") != NULL, "%s", e.all);
	ck_assert_msg(strstr(e.all, "recs/sub/deep: cannot look at: "
	    "Permission denied") != NULL, "%s", e.all);
	err_clear(&e);
	update_dropped(st, "recs/sub/a.xml", &e);
	ck_assert_int_eq(e.count, 1);
	err_clear(&e);
	s = snapshot(st, &chg);
	ck_assert_uint_eq(chg.deleted, 0);
	ck_assert_ptr_nonnull(item(s, "a")->rec);
	ck_assert_ptr_nonnull(item(s, "b")->rec);
	store_changes_release(&chg);
	snap_release(s);

	/* restored: the same datestamps, nothing to notify */
	ck_assert_int_eq(chmod(tp("recs/sub"), 0755), 0);
	ck_assert_int_eq(scan_dropped(st, &e), 0);
	ck_assert_msg(e.count == 0, "%s", e.all);
	s = snapshot(st, &chg);
	ck_assert_int_eq(chg.any, 0);
	ck_assert_int_eq(item(s, "a")->datestamp, d);
	store_changes_release(&chg);
	snap_release(s);
	err_release(&e);
	store_free(st);
}
END_TEST

static volatile int	 swapping;

#define NPAD	2000

/*
 * The swapper's paths, made before it starts: tp() is a ring of static
 * buffers the main thread keeps using while the swapper runs.
 */
static char	 sw_fifo[512], sw_reg[512], sw_race[512];

/* Swap a FIFO and a regular file over recs/race.xml as fast as we can. */
static void *
swapper(void *arg)
{
	unsigned long	 k = 0;

	(void)arg;
	while (__atomic_load_n(&swapping, __ATOMIC_RELAXED)) {
		if (k++ % 2 == 0) {
			unlink(sw_fifo);
			if (mkfifo(sw_fifo, 0644) == 0)
				rename(sw_fifo, sw_race);
		} else {
			int fd = open(sw_reg, O_WRONLY | O_CREAT |
			    O_TRUNC, 0644);

			if (fd != -1 && write(fd, "<x/>", 4) == 4)
				rename(sw_reg, sw_race);
			if (fd != -1)
				close(fd);
		}
	}
	return NULL;
}

/*
 * Issue 8 defect 6: a FIFO renamed over a record between the walk's stat
 * and the open must not block the store (it did forever: no writer).  The
 * test's 30 s timeout fails it if any open blocks.
 */
START_TEST(test_fifo_never_blocks)
{
	struct store	*st;
	struct snap	*s;
	struct err	 e;
	const char	*paths[NPAD];
	pthread_t	 t;
	int		 i;

	write_rec("recs/good.xml", "good", "");
	st = mkstore(0);
	err_init(&e);
	snprintf(sw_fifo, sizeof(sw_fifo), "%s", tp("recs/.f"));
	snprintf(sw_reg, sizeof(sw_reg), "%s", tp("recs/.r"));
	snprintf(sw_race, sizeof(sw_race), "%s", tp("recs/race.xml"));
	swapping = 1;
	ck_assert_int_eq(pthread_create(&t, NULL, swapper, NULL), 0);
	/*
	 * The race file first, then paths that only cost a look each: they
	 * widen the window between the look and the open, so the FIFO is in
	 * place at the open about every other round.
	 */
	paths[0] = strdup(tp("recs/race.xml"));
	for (i = 1; i < NPAD; i++) {
		char	 rel[64];

		snprintf(rel, sizeof(rel), "recs/none-%d.xml", i);
		paths[i] = strdup(tp(rel));
	}
	for (i = 0; i < 300; i++) {
		ck_assert_int_eq(store_update(st, paths, NPAD, &e), 0);
		err_clear(&e);
	}
	for (i = 0; i < NPAD; i++)
		free((char *)paths[i]);
	__atomic_store_n(&swapping, 0, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ck_assert_int_eq(mkfifo(tp("recs/fifo.xml"), 0644), 0);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_msg(e.all != NULL && strstr(e.all, "recs/fifo.xml: not a "
	    "regular file; ignored") != NULL, "%s", e.msg);
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(item(s, "good")->rec);
	snap_release(s);
	err_release(&e);
	store_free(st);
}
END_TEST

/* Symbolic links are followed only within the records tree. */
START_TEST(test_symlinks)
{
	struct store	*st;
	struct snap	*s;
	struct err	 e;
	char		 target[600];

	ck_assert_int_eq(mkdir(tp("recs/data"), 0755), 0);
	write_rec("recs/data/in.rec", "in", "");
	write_rec("outside.xml", "outside", "");
	ck_assert_int_eq(symlink("data/in.rec", tp("recs/in.xml")), 0);
	snprintf(target, sizeof(target), "%s", tp("outside.xml"));
	ck_assert_int_eq(symlink(target, tp("recs/out.xml")), 0);
	ck_assert_int_eq(symlink("../outside.xml", tp("recs/rel.xml")), 0);
	ck_assert_int_eq(symlink("loop.xml", tp("recs/loop.xml")), 0);
	ck_assert_int_eq(symlink("nothing", tp("recs/dangling.xml")), 0);
	ck_assert_int_eq(symlink("/etc/passwd", tp("recs/passwd.xml")), 0);
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_int_eq(e.count, 5);
	ck_assert_msg(strstr(e.all, "recs/out.xml: symbolic link points "
	    "outside the records directory; not followed\n") != NULL, "%s",
	    e.all);
	ck_assert_ptr_nonnull(strstr(e.all, "recs/rel.xml: symbolic link "
	    "points outside"));
	ck_assert_ptr_nonnull(strstr(e.all, "recs/passwd.xml: symbolic link "
	    "points outside"));
	ck_assert_ptr_nonnull(strstr(e.all, "recs/loop.xml: cannot follow "
	    "symbolic link: Too many levels of symbolic links"));
	ck_assert_ptr_nonnull(strstr(e.all, "recs/dangling.xml: symbolic "
	    "link to a missing file; ignored"));
	s = snapshot(st, NULL);
	ck_assert_ptr_nonnull(item(s, "in")->rec);
	ck_assert_ptr_null(snap_item_find(s, "outside"));
	ck_assert_uint_eq(s->nlive, 1);
	snap_release(s);
	err_release(&e);
	store_free(st);
}
END_TEST

/* Issue 8 defect 12: a file name cannot forge a message line. */
START_TEST(test_names_escaped)
{
	struct store	*st;
	struct err	 e;
	const char	*p;
	int		 lines = 0;

	write_file("recs/a\nforged: b\x1b[2J\xff.xml", "junk");
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_int_eq(e.count, 1);
	for (p = e.all; *p != '\0'; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, 1);
	ck_assert_msg(strstr(e.all, "recs/a\\x0aforged: b\\x1b[2J\\xff.xml:")
	    != NULL, "%s", e.all);
	ck_assert_ptr_null(strchr(e.all, '\x1b'));
	err_release(&e);
	store_free(st);
}
END_TEST

static int	 stop_after;

static int
stop_counting(void *arg)
{
	(void)arg;
	return __atomic_sub_fetch(&stop_after, 1, __ATOMIC_RELAXED) < 0;
}

/*
 * A pending SIGTERM (here: a counter) cuts a batch of reads short; what
 * was not read is read at the next look, and nothing is lost meanwhile.
 */
START_TEST(test_interrupt)
{
	struct store		*st;
	struct snap		*s;
	struct store_changes	 chg;
	char			 rel[64], id[32];
	int			 i;

	for (i = 0; i < 200; i++) {
		snprintf(rel, sizeof(rel), "recs/r%d.xml", i);
		snprintf(id, sizeof(id), "r%d", i);
		write_rec(rel, id, "");
	}
	st = mkstore(0);
	stop_after = 10;
	store_set_interrupt(st, stop_counting, NULL);
	scan_ok(st);
	s = snapshot(st, NULL);
	ck_assert_uint_ge(s->nlive, 1);
	ck_assert_uint_le(s->nlive, 10);
	snap_release(s);
	store_set_interrupt(st, NULL, NULL);
	scan_ok(st);
	s = snapshot(st, &chg);
	ck_assert_uint_eq(s->nlive, 200);
	ck_assert_uint_eq(chg.deleted, 0);
	store_changes_release(&chg);
	snap_release(s);
	store_free(st);
}
END_TEST

START_TEST(test_readonly)
{
	struct store	*st;
	struct snap	*s;
	struct conf	*c;
	size_t		 len;

	write_rec("recs/a.xml", "a", "x");
	c = mkconf("recs", "ro-state/deeper");
	conf_unref(conf);
	conf = c;
	st = mkstore(STORE_READONLY);
	scan_ok(st);
	s = snapshot(st, NULL);
	ck_assert_uint_eq(s->nlive, 1);
	ck_assert_int_gt(item(s, "a")->datestamp, 0);
	snap_release(s);
	store_token_key(st, &len);
	ck_assert_uint_eq(len, 0);
	store_free(st);
	ck_assert(!exists("ro-state"));
	ck_assert(!exists("st"));
	ck_assert(exists("recs/a.xml"));
}
END_TEST

START_TEST(test_conf_switch)
{
	struct store	*st;
	struct snap	*s;
	struct conf	*c;

	ck_assert_int_eq(mkdir(tp("other"), 0755), 0);
	write_rec("recs/a.xml", "a", "");
	write_rec("other/b.xml", "b", "");
	st = mkstore(0);
	scan_ok(st);
	s = snapshot(st, NULL);
	ck_assert_ptr_eq(s->conf, conf);
	snap_release(s);
	/* SIGHUP with another records directory: a moves out, b in */
	c = mkconf("other", "st");
	store_set_conf(st, c);
	scan_ok(st);
	s = snapshot(st, NULL);
	ck_assert_ptr_eq(s->conf, c);
	ck_assert_ptr_null(item(s, "a")->rec);
	ck_assert_ptr_nonnull(item(s, "b")->rec);
	snap_release(s);
	store_free(st);
	ck_assert_int_eq(c->refs, 1);
	conf_unref(c);
}
END_TEST

static const struct {
	const char	*path;
	int		 wanted;
} wants[] = {
	{ "a.xml", 1 },
	{ "recs/sub/2015-report.xml", 1 },
	{ "/abs/path/x.xml", 1 },
	{ ".a.xml.swp", 0 },
	{ "recs/.a.xml.swp", 0 },
	{ "recs/.a.xml.swx", 0 },
	{ "recs/a.xml~", 0 },
	{ "recs/.#a.xml", 0 },
	{ "recs/#a.xml#", 0 },
	{ "recs/a.xml.tmp", 0 },
	{ "recs/a.tmp", 0 },
	{ "recs/records.state.tmp.123", 0 },
	{ "recs/.hidden.xml", 0 },
	{ "recs/README.md", 0 },
	{ "recs/.xml", 0 },
	{ "recs/xml", 0 },
	{ "recs/a.XML", 0 },
	{ "recs/a.xmlx", 0 },
	{ "", 0 },
};

/*
 * Many files at once (read on several threads), then live changes taken
 * incrementally: the snapshot must be the one a full build gives.
 */
START_TEST(test_many_incremental)
{
	struct store		*st;
	struct snap		*s, *s2, *full;
	struct store_changes	 chg;
	struct record		*recs[200];
	struct snap_tomb	 tombs[200];
	struct err		 e;
	char			 rel[64], id[32];
	const char		*paths[3];
	size_t			 i, j, nr = 0, nt = 0;

	ck_assert_int_eq(mkdir(tp("recs/many"), 0755), 0);
	for (i = 0; i < 150; i++) {
		snprintf(rel, sizeof(rel), "recs/many/r%03zu.xml", i);
		snprintf(id, sizeof(id), "many-%03zu", i);
		write_rec(rel, id, i % 3 == 0 ? "topic:a" : i % 3 == 1 ?
		    "topic:b region:x" : "");
	}
	write_file("recs/many/bad.xml", "<record>");
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_int_eq(e.count, 1);
	ck_assert_msg(strstr(e.msg, "bad.xml") != NULL, "%s", e.msg);
	err_release(&e);
	ck_assert_uint_eq(store_ninvalid(st), 1);
	s = snapshot(st, &chg);
	ck_assert_uint_eq(s->nlive, 150);
	ck_assert_uint_eq(chg.added, 150);
	store_changes_release(&chg);

	/* one edit (new sets), one deletion, one new file */
	write_rec("recs/many/r007.xml", "many-007", "topic:a");
	ck_assert_int_eq(unlink(tp("recs/many/r008.xml")), 0);
	write_rec("recs/many/new.xml", "many-new", "region:x");
	paths[0] = tp("recs/many/r007.xml");
	paths[1] = tp("recs/many/r008.xml");
	paths[2] = tp("recs/many/new.xml");
	err_init(&e);
	ck_assert_int_eq(store_update(st, paths, 3, &e), 0);
	ck_assert_msg(e.count == 0, "%s", e.all);
	err_release(&e);
	s2 = snapshot(st, &chg);
	ck_assert_uint_eq(chg.changed, 1);
	ck_assert_uint_eq(chg.deleted, 1);
	ck_assert_uint_eq(chg.added, 1);
	ck_assert(has_set(&chg, "topic:b") && has_set(&chg, "region:x"));
	store_changes_release(&chg);
	ck_assert_uint_eq(s2->nlive, 150);
	ck_assert_uint_eq(s2->nitems, 151);
	ck_assert_ptr_null(item(s2, "many-008")->rec);
	ck_assert_int_eq(item(s2, "many-009")->datestamp,
	    item(s, "many-009")->datestamp);
	ck_assert_ptr_eq(item(s2, "many-009")->rec, item(s, "many-009")->rec);

	/* the same items through snap_new(): same order everywhere */
	for (i = 0; i < s2->nitems; i++) {
		const struct snap_item *it = &s2->items[i];

		if (it->rec != NULL) {
			recs[nr++] = it->rec;
			continue;
		}
		tombs[nt].id = it->id;
		tombs[nt].datestamp = it->datestamp;
		tombs[nt].sets = it->sets;
		tombs[nt++].nsets = it->nsets;
	}
	err_init(&e);
	full = snap_new(s2->conf, recs, nr, tombs, nt, &e);
	ck_assert_ptr_nonnull(full);
	err_release(&e);
	ck_assert_uint_eq(full->nitems, s2->nitems);
	for (i = 0; i < full->nitems; i++) {
		ck_assert_str_eq(full->items[i].id, s2->items[i].id);
		ck_assert_str_eq(full->by_id[i]->id, s2->by_id[i]->id);
	}
	for (i = 0; i < full->nfeed; i++)
		ck_assert_ptr_eq(full->feed[i], s2->feed[i]);
	ck_assert_uint_eq(full->nsets, s2->nsets);
	for (i = 0; i < full->nsets; i++) {
		ck_assert_str_eq(full->sets[i].spec, s2->sets[i].spec);
		ck_assert_uint_eq(full->sets[i].nitems, s2->sets[i].nitems);
		ck_assert_uint_eq(full->sets[i].nfeed, s2->sets[i].nfeed);
		for (j = 0; j < full->sets[i].nitems; j++)
			ck_assert_uint_eq(full->sets[i].items[j],
			    s2->sets[i].items[j]);
		for (j = 0; j < full->sets[i].nfeed; j++)
			ck_assert_ptr_eq(full->sets[i].feed[j],
			    s2->sets[i].feed[j]);
	}
	snap_release(full);
	snap_release(s2);
	snap_release(s);
	store_free(st);
}
END_TEST

START_TEST(test_wants)
{
	ck_assert_msg(store_wants(wants[_i].path) == wants[_i].wanted,
	    "store_wants(%s) != %d", wants[_i].path, wants[_i].wanted);
}
END_TEST

/*
 * Commit before publish: a snapshot whose state cannot be committed is not
 * returned, the committed state is untouched, and the next call builds the
 * same change again (stamped then) and commits it.
 */
START_TEST(test_commit_failure)
{
	struct store_changes	 chg;
	struct store		*st;
	struct snap		*s, *s2;
	struct err		 e;
	sqlite3			*other;
	int64_t			 t0;

	err_init(&e);
	write_rec("recs/a.xml", "a", "topic:x");
	ck_assert_ptr_nonnull(st = store_new(conf, 0, &e));
	scan_ok(st);
	s = snapshot(st, NULL);
	/* another writer holds the database for longer than busy_timeout */
	ck_assert_int_eq(sqlite3_open(tp("st/pubfeed.db"), &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL,
	    NULL), SQLITE_OK);
	write_rec("recs/b.xml", "b", "topic:y");
	unlink(tp("recs/a.xml"));
	scan_ok(st);
	t0 = date_now();
	ck_assert_ptr_null(store_snapshot(st, &chg, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "cannot commit the state"));
	ck_assert_int_eq(store_state_failing(st), 1);
	store_changes_release(&chg);
	ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(db_int(other, "SELECT count(*) FROM records"), 1);
	ck_assert_int_eq(db_int(other, "SELECT is_deleted FROM records WHERE "
	    "id = 'a'"), 0);
	/* the retry reports and commits the whole change */
	s2 = snapshot(st, &chg);
	ck_assert_int_eq(store_state_failing(st), 0);
	ck_assert_uint_eq(chg.added, 1);
	ck_assert_uint_eq(chg.deleted, 1);
	ck_assert(has_set(&chg, "topic:y") && has_set(&chg, "topic:x"));
	store_changes_release(&chg);
	ck_assert_int_ge(item(s2, "b")->datestamp, t0 + 5);
	ck_assert_ptr_null(item(s2, "a")->rec);
	ck_assert_int_eq(db_int(other, "SELECT count(*) FROM records"), 2);
	ck_assert_int_eq(db_int(other, "SELECT datestamp FROM records WHERE "
	    "id = 'b'"), item(s2, "b")->datestamp);
	sqlite3_close(other);
	snap_release(s);
	snap_release(s2);
	store_free(st);
	err_release(&e);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The parse cache (store.h, state.h's parse_cache) */

static void
assert_counts(struct store *st, uint64_t validated, uint64_t hits)
{
	uint64_t	 v, h;

	store_parse_counts(st, &v, &h);
	ck_assert_msg(v == validated && h == hits, "validated %llu (want "
	    "%llu), cache hits %llu (want %llu)", (unsigned long long)v,
	    (unsigned long long)validated, (unsigned long long)h,
	    (unsigned long long)hits);
}

/* The parse_cache rows the state directory's cache database holds. */
static int64_t
pcache_rows(void)
{
	sqlite3	*db;
	int64_t	 n;

	ck_assert_int_eq(sqlite3_open(tp("st/" STATE_PCACHE_NAME), &db),
	    SQLITE_OK);
	n = db_int(db, "SELECT count(*) FROM parse_cache");
	sqlite3_close(db);
	return n;
}

static void
db_exec(const char *sql)
{
	sqlite3	*db;

	ck_assert_int_eq(sqlite3_open(tp("st/" STATE_PCACHE_NAME), &db),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Scan, snapshot (which commits the state, parse cache included). */
static void
scan_commit(struct store *st)
{
	scan_ok(st);
	snap_release(snapshot(st, NULL));
}

/* Rewrite rel with text, then give it back the mtime it had (as sb). */
static void
rewrite_keep_mtime(const char *rel, const char *text)
{
	struct stat	 sb, now;
	struct timespec	 ts[2];

	ck_assert_int_eq(stat(tp(rel), &sb), 0);
	/* ctime moves by the clock's tick: make sure it moves */
	usleep(20000);
	tl_write_file(tp(rel), text);
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, tp(rel), ts, 0), 0);
	ck_assert_int_eq(stat(tp(rel), &now), 0);
	ck_assert_int_eq(now.st_size, sb.st_size);
	ck_assert(now.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
	    now.st_mtim.tv_nsec == sb.st_mtim.tv_nsec);
}

static const char *
title_of(const struct snap *s, const char *id)
{
	return item(s, id)->rec->titles[0].text;
}

/* Record text for a: "About <who>", whose length is what the tests keep. */
static void
rec_text(char *buf, size_t size, const char *who, const char *lang_el)
{
	snprintf(buf, size,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<record xmlns=\"" RECORD_NS "\" id=\"a\" type=\"news\">\n"
	    "  <title>About %s</title>\n"
	    "  <issued>2020-02-29</issued>\n"
	    "  <%s>en</%s>\n"
	    "</record>\n", who, lang_el, lang_el);
}

START_TEST(test_pcache_restart)
{
	struct store	*st;
	struct snap	*s;
	char		 text[1024];

	rec_text(text, sizeof(text), "AAAA", "language");
	write_file("recs/a.xml", text);
	write_rec("recs/b.xml", "b", "x");
	st = mkstore(0);
	scan_commit(st);
	assert_counts(st, 2, 0);
	store_free(st);
	ck_assert_int_eq(pcache_rows(), 2);

	/* a restart: nothing is validated again, the records are the same */
	st = mkstore(0);
	scan_ok(st);
	assert_counts(st, 0, 2);
	s = snapshot(st, NULL);
	ck_assert_str_eq(title_of(s, "a"), "About AAAA");
	ck_assert_uint_eq(s->nlive, 2);
	snap_release(s);
	store_free(st);
}
END_TEST

/*
 * A warm start gives the copies of the images back while it reads them
 * (store_pcseg): three quarters of the way through the reads, at most
 * half of the copies are still mapped.  Before, every copy stayed until
 * the scan was over (the start-up peak: 502 MB at 100k, bench/README.md).
 */
#define PCSEG_FILES	600
static size_t	pcseg_calls, pcseg_first, pcseg_late, pcseg_n;

static int
pcseg_probe(void *arg)
{
	struct store	*st = arg;
	size_t		 n;

	n = __atomic_add_fetch(&pcseg_calls, 1, __ATOMIC_RELAXED);
	if (n == 1) {
		/* the rows are all in before the first read (no other yet) */
		pcseg_first = __atomic_load_n(&st->pcseg_mapped,
		    __ATOMIC_RELAXED);
		pcseg_n = st->npcseg;
	} else if (n == PCSEG_FILES * 3 / 4)
		pcseg_late = __atomic_load_n(&st->pcseg_mapped,
		    __ATOMIC_RELAXED);
	return 0;
}

/*
 * A first scan holds one load per file until every file is read: its
 * messages are kept apart (120 bytes a load; 664 with a struct err in
 * it, 54 MB more at the start-up peak of 100k files).
 */
START_TEST(test_load_small)
{
	ck_assert_uint_le(sizeof(struct store_load), 128);
}
END_TEST

START_TEST(test_pcache_images_unmapped)
{
	struct store	*st;
	struct snap	*s;
	char		 rel[64], id[32];
	size_t		 i;

	for (i = 0; i < PCSEG_FILES; i++) {
		snprintf(rel, sizeof(rel), "recs/r%04zu.xml", i);
		snprintf(id, sizeof(id), "r%04zu", i);
		write_rec(rel, id, "x");
	}
	st = mkstore(0);
	scan_commit(st);
	store_free(st);

	store_pcseg_bytes = 4096;	/* a few images a segment */
	st = mkstore(0);
	store_set_interrupt(st, pcseg_probe, st);
	scan_ok(st);
	assert_counts(st, 0, PCSEG_FILES);
	ck_assert_uint_eq(pcseg_calls, PCSEG_FILES);
	ck_assert_uint_ge(pcseg_n, 20);
	ck_assert_uint_ge(pcseg_first, (pcseg_n - 16) * 4096);
	ck_assert_msg(pcseg_late <= pcseg_first / 2, "%zu of %zu bytes of "
	    "images still mapped after 3/4 of the reads", pcseg_late,
	    pcseg_first);
	ck_assert_uint_eq(st->pcseg_mapped, 0);
	s = snapshot(st, NULL);
	ck_assert_uint_eq(s->nlive, PCSEG_FILES);
	ck_assert_str_eq(title_of(s, "r0123"), "About r0123");
	snap_release(s);
	store_free(st);
}
END_TEST

/*
 * Same size, same mtime, other bytes: validated again (after a restart
 * and in the running store), never served from the cache.
 */
START_TEST(test_pcache_same_mtime_new_bytes)
{
	struct store	*st;
	struct snap	*s;
	char		 text[1024];

	rec_text(text, sizeof(text), "AAAA", "language");
	write_file("recs/a.xml", text);
	st = mkstore(0);
	scan_commit(st);
	store_free(st);

	rec_text(text, sizeof(text), "BBBB", "language");
	rewrite_keep_mtime("recs/a.xml", text);
	st = mkstore(0);
	scan_ok(st);
	assert_counts(st, 1, 0);
	s = snapshot(st, NULL);
	ck_assert_str_eq(title_of(s, "a"), "About BBBB");
	snap_release(s);

	/* the running store: the same kind of edit is seen too */
	rec_text(text, sizeof(text), "CCCC", "language");
	rewrite_keep_mtime("recs/a.xml", text);
	scan_ok(st);
	assert_counts(st, 2, 0);
	s = snapshot(st, NULL);
	ck_assert_str_eq(title_of(s, "a"), "About CCCC");
	snap_release(s);
	store_free(st);

	/* and the cache now vouches for the new bytes only */
	st = mkstore(0);
	scan_ok(st);
	assert_counts(st, 0, 1);
	s = snapshot(st, NULL);
	ck_assert_str_eq(title_of(s, "a"), "About CCCC");
	snap_release(s);
	store_free(st);
}
END_TEST

/* An invalid edit with the mtime put back is rejected with its position. */
START_TEST(test_pcache_invalid_edit)
{
	struct store	*st;
	struct snap	*s;
	struct err	 e;
	char		 text[1024], want[600];

	rec_text(text, sizeof(text), "AAAA", "language");
	write_file("recs/a.xml", text);
	st = mkstore(0);
	scan_commit(st);
	store_free(st);

	/* same length: <language> becomes <languagX>, which the schema refuses */
	rec_text(text, sizeof(text), "AAAA", "languagX");
	rewrite_keep_mtime("recs/a.xml", text);
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	snprintf(want, sizeof(want), "%s:5:", tp("recs/a.xml"));
	ck_assert_msg(strstr(e.all, want) != NULL, "%s", e.all);
	ck_assert_msg(strstr(e.all, "languagX") != NULL, "%s", e.all);
	err_release(&e);
	assert_counts(st, 1, 0);
	ck_assert_uint_eq(store_ninvalid(st), 1);
	s = snapshot(st, NULL);
	ck_assert_uint_eq(s->nlive, 0);
	snap_release(s);
	store_free(st);
	/* an invalid file has no row: it stays validated at every start */
	ck_assert_int_eq(pcache_rows(), 0);
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	ck_assert_msg(strstr(e.all, want) != NULL, "%s", e.all);
	err_release(&e);
	assert_counts(st, 1, 0);
	store_free(st);
}
END_TEST

/* A row of another validator (pubfeed, libxml2 or schema) is not used. */
START_TEST(test_pcache_validator)
{
	struct store	*st;

	write_rec("recs/a.xml", "a", "x");
	st = mkstore(0);
	scan_commit(st);
	store_free(st);
	db_exec("UPDATE parse_cache SET validator = zeroblob(32)");
	st = mkstore(0);
	scan_commit(st);
	assert_counts(st, 1, 0);
	store_free(st);
	/* replaced by a row of this validator */
	ck_assert_int_eq(pcache_rows(), 1);
	st = mkstore(0);
	scan_ok(st);
	assert_counts(st, 0, 1);
	store_free(st);
	/* a row whose hash is not the bytes' (a forged or stale row) */
	db_exec("UPDATE parse_cache SET hash = zeroblob(32)");
	st = mkstore(0);
	scan_ok(st);
	assert_counts(st, 1, 0);
	store_free(st);
}
END_TEST

/* Rows of deleted files go, at a restart and in the running store. */
START_TEST(test_pcache_deleted)
{
	struct store	*st;

	write_rec("recs/a.xml", "a", "x");
	write_rec("recs/b.xml", "b", "x");
	write_rec("recs/c.xml", "c", "x");
	st = mkstore(0);
	scan_commit(st);
	ck_assert_int_eq(pcache_rows(), 3);
	unlink(tp("recs/a.xml"));
	scan_commit(st);
	ck_assert_int_eq(pcache_rows(), 2);
	store_free(st);
	unlink(tp("recs/b.xml"));
	st = mkstore(0);
	scan_commit(st);
	assert_counts(st, 0, 1);
	store_free(st);
	ck_assert_int_eq(pcache_rows(), 1);
}
END_TEST

/* A store on another's state (export, replica) reads the rows, never writes. */
START_TEST(test_pcache_readonly)
{
	struct store	*st;
	struct stat	 sb, pb;
	struct timespec	 before;

	write_rec("recs/a.xml", "a", "x");
	st = mkstore(0);
	scan_commit(st);
	store_free(st);
	ck_assert_int_eq(stat(tp("st/pubfeed.db"), &sb), 0);
	before = sb.st_mtim;
	ck_assert_int_eq(stat(tp("st/" STATE_PCACHE_NAME), &pb), 0);
	write_rec("recs/b.xml", "b", "x");
	unlink(tp("recs/a.xml"));
	st = mkstore(STORE_NOSAVE);
	scan_commit(st);
	assert_counts(st, 1, 0);
	store_free(st);
	write_rec("recs/a.xml", "a", "x");
	st = mkstore(STORE_NOSAVE);
	scan_commit(st);
	/* a.xml is a new file (new ctime): validated; b.xml has no row */
	assert_counts(st, 2, 0);
	store_free(st);
	ck_assert_int_eq(stat(tp("st/pubfeed.db"), &sb), 0);
	ck_assert(sb.st_mtim.tv_sec == before.tv_sec &&
	    sb.st_mtim.tv_nsec == before.tv_nsec);
	/* nor the cache's file, nor a -wal next to it */
	ck_assert_int_eq(stat(tp("st/" STATE_PCACHE_NAME), &sb), 0);
	ck_assert(sb.st_mtim.tv_sec == pb.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == pb.st_mtim.tv_nsec &&
	    sb.st_size == pb.st_size);
	ck_assert_int_eq(access(tp("st/" STATE_PCACHE_NAME "-wal"), F_OK), -1);
	ck_assert_int_eq(pcache_rows(), 1);
}
END_TEST

/*
 * Garbage over the cache's file (0) or none (1): the scan validates every
 * file, serves the same records, says once which file it replaced (0) or
 * nothing (1), and the cache is whole again after the commit.
 */
START_TEST(test_pcache_file_lost)
{
	struct store	*st;
	struct snap	*s;
	struct err	 e;
	FILE		*fp;
	char		 text[1024];
	int		 i;

	rec_text(text, sizeof(text), "AAAA", "language");
	write_file("recs/a.xml", text);
	write_rec("recs/b.xml", "b", "x");
	st = mkstore(0);
	scan_commit(st);
	store_free(st);
	ck_assert_int_eq(pcache_rows(), 2);
	if (_i == 0) {
		ck_assert_ptr_nonnull(fp = fopen(tp("st/" STATE_PCACHE_NAME),
		    "r+"));
		for (i = 0; i < 8192; i++)
			fputc((i * 7919 + 13) & 0xff, fp);
		fclose(fp);
	} else
		ck_assert_int_eq(unlink(tp("st/" STATE_PCACHE_NAME)), 0);
	st = mkstore(0);
	err_init(&e);
	ck_assert_int_eq(store_scan(st, &e), 0);
	if (_i == 0) {
		ck_assert_int_eq(e.count, 1);
		ck_assert_msg(strstr(e.msg, tp("st/" STATE_PCACHE_NAME)) !=
		    NULL && strstr(e.msg, "corrupt") != NULL, "%s", e.msg);
		ck_assert_int_eq(access(tp("st/" STATE_PCACHE_NAME ".corrupt"),
		    F_OK), 0);
	} else
		ck_assert_msg(e.count == 0, "%s", e.all);
	err_release(&e);
	assert_counts(st, 2, 0);
	s = snapshot(st, NULL);
	ck_assert_str_eq(title_of(s, "a"), "About AAAA");
	ck_assert_uint_eq(s->nlive, 2);
	snap_release(s);
	store_free(st);
	ck_assert_int_eq(pcache_rows(), 2);
	st = mkstore(0);
	scan_ok(st);
	assert_counts(st, 0, 2);
	store_free(st);
}
END_TEST

/* Unchanged bytes of a file a replica did not touch: the row serves it. */
START_TEST(test_pcache_readonly_hit)
{
	struct store	*st;

	write_rec("recs/a.xml", "a", "x");
	st = mkstore(0);
	scan_commit(st);
	store_free(st);
	st = mkstore(STORE_NOSAVE);
	scan_commit(st);
	assert_counts(st, 0, 1);
	store_free(st);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_commit_failure);
	tcase_add_test(tc, test_datestamps);
	tcase_add_test(tc, test_invalid_edit);
	tcase_add_test(tc, test_closed_sets);
	tcase_add_test(tc, test_duplicate_id);
	tcase_add_test(tc, test_update);
	tcase_add_test(tc, test_records_dir_gone);
	tcase_add_test(tc, test_failed_read_retried);
	tcase_add_test(tc, test_emfile_retried);
	tcase_add_test(tc, test_unreadable_dir_kept);
	tcase_add_test(tc, test_fifo_never_blocks);
	tcase_add_test(tc, test_symlinks);
	tcase_add_test(tc, test_names_escaped);
	tcase_add_test(tc, test_interrupt);
	tcase_add_test(tc, test_scan_listed);
	tcase_add_test(tc, test_scan_listed_root_gone);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_conf_switch);
	tcase_add_test(tc, test_many_incremental);
	tcase_add_test(tc, test_pcache_restart);
	tcase_add_test(tc, test_pcache_images_unmapped);
	tcase_add_test(tc, test_load_small);
	tcase_add_test(tc, test_pcache_same_mtime_new_bytes);
	tcase_add_test(tc, test_pcache_invalid_edit);
	tcase_add_test(tc, test_pcache_validator);
	tcase_add_test(tc, test_pcache_deleted);
	tcase_add_test(tc, test_pcache_readonly);
	tcase_add_test(tc, test_pcache_readonly_hit);
	tcase_add_loop_test(tc, test_pcache_file_lost, 0, 2);
	tcase_add_loop_test(tc, test_wants, 0,
	    sizeof(wants) / sizeof(wants[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(store_suite());
}
