/*
 * check_watch: real inotify on a temporary tree; each test does what an
 * editor, rsync, git or a shell would do and checks the batch of paths.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "watch.h"
#include "testlib.h"
#include "tl_realloc.h"

static char		 top[256];	/* holds root and "outside" */
static char		 root[300];
static struct watch	*w;
static struct watch_batch b;

static void
rm_rf(const char *path)
{
	char	 cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		ck_abort_msg("cannot remove %s", path);
}

static const char *
at(const char *rel)
{
	static char	 bufs[4][600];
	static int	 k;

	k = (k + 1) % 4;
	snprintf(bufs[k], sizeof(bufs[k]), "%s/%s", root, rel);
	return bufs[k];
}

static void
put(const char *path, const char *text)
{
	int	 fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Read events until none arrived for 100 ms; then sort and dedupe. */
static void
collect(void)
{
	struct pollfd	 pfd = { .fd = watch_fd(w), .events = POLLIN };
	struct err	 e;

	err_init(&e);
	while (poll(&pfd, 1, 100) == 1)
		ck_assert_int_eq(watch_read(w, &b, &e), 0);
	err_release(&e);
	watch_batch_take(&b);
}

static int
has(const char *path)
{
	size_t	 i;

	for (i = 0; i < b.npaths; i++)
		if (strcmp(b.paths[i], path) == 0)
			return 1;
	return 0;
}

static void
expect_only(const char *rel)
{
	collect();
	ck_assert_int_eq(b.rescan, 0);
	ck_assert_msg(b.npaths == 1 && has(at(rel)), "want only %s, got %zu "
	    "paths, first %s", rel, b.npaths, b.npaths ? b.paths[0] : "-");
	watch_batch_clear(&b);
}

static void
expect_nothing(void)
{
	collect();
	ck_assert_msg(!watch_batch_pending(&b), "want nothing, got %zu paths, "
	    "first %s", b.npaths, b.npaths ? b.paths[0] : "-");
}

static void
setup(void)
{
	struct err	 e;

	snprintf(top, sizeof(top), "/tmp/check_watch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/records", top);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	ck_assert_int_eq(mkdir(at("old"), 0755), 0);
	put(at("old/a.xml"), "<a/>");
	err_init(&e);
	w = watch_new(root, store_wants, &e);
	ck_assert_msg(w != NULL, "%s", e.msg);
	err_release(&e);
	memset(&b, 0, sizeof(b));
}

static void
teardown(void)
{
	watch_batch_release(&b);
	watch_free(w);
	rm_rf(top);
}

START_TEST(test_initial_tree)
{
	ck_assert_int_eq((int)watch_ndirs(w), 2);
	ck_assert_str_eq(watch_root(w), root);
	expect_nothing();
}
END_TEST

START_TEST(test_create_modify_touch)
{
	put(at("new.xml"), "<x/>");
	expect_only("new.xml");
	put(at("old/a.xml"), "<b/>");
	put(at("old/a.xml"), "<c/>");
	expect_only("old/a.xml");	/* two saves, one path */
	ck_assert_int_eq(utimensat(AT_FDCWD, at("old/a.xml"), NULL, 0), 0);
	expect_only("old/a.xml");
}
END_TEST

START_TEST(test_temporaries_ignored)
{
	put(at(".a.xml.swp"), "x");
	put(at("a.xml~"), "x");
	put(at(".#a.xml"), "x");
	put(at("a.xml.tmp"), "x");
	put(at("notes.txt"), "x");
	ck_assert_int_eq(mkdir(at(".git"), 0755), 0);
	put(at(".git/index.xml"), "x");
	expect_nothing();
}
END_TEST

START_TEST(test_editor_save)
{
	/* write a temporary, rename it over the record: the record, once */
	put(at("old/.a.xml.tmp"), "<new/>");
	ck_assert_int_eq(rename(at("old/.a.xml.tmp"), at("old/a.xml")), 0);
	expect_only("old/a.xml");
	/* rsync: .name.XXXXXX then rename */
	put(at("old/.a.xml.Gx81Qa"), "<newer/>");
	ck_assert_int_eq(rename(at("old/.a.xml.Gx81Qa"), at("old/a.xml")), 0);
	expect_only("old/a.xml");
}
END_TEST

START_TEST(test_delete_and_rename)
{
	ck_assert_int_eq(unlink(at("old/a.xml")), 0);
	expect_only("old/a.xml");
	put(at("b.xml"), "<b/>");
	expect_only("b.xml");
	ck_assert_int_eq(rename(at("b.xml"), at("c.xml")), 0);
	collect();
	ck_assert_int_eq((int)b.npaths, 2);
	ck_assert(has(at("b.xml")) && has(at("c.xml")));
	watch_batch_clear(&b);
	/* git checkout: unlink and write again */
	ck_assert_int_eq(unlink(at("c.xml")), 0);
	put(at("c.xml"), "<c/>");
	expect_only("c.xml");
}
END_TEST

START_TEST(test_links)
{
	ck_assert_int_eq(link(at("old/a.xml"), at("hard.xml")), 0);
	expect_only("hard.xml");
	ck_assert_int_eq(symlink(at("old/a.xml"), at("soft.xml")), 0);
	expect_only("soft.xml");
}
END_TEST

START_TEST(test_new_subdir)
{
	/* written before the watch on "sub" can exist: the dir is reported */
	ck_assert_int_eq(mkdir(at("sub"), 0755), 0);
	ck_assert_int_eq(mkdir(at("sub/deep"), 0755), 0);
	put(at("sub/deep/early.xml"), "<e/>");
	collect();
	ck_assert_int_eq(b.rescan, 0);
	ck_assert(has(at("sub")));
	watch_batch_clear(&b);
	ck_assert_int_eq((int)watch_ndirs(w), 4);
	/* later writes arrive through the new watches */
	put(at("sub/late.xml"), "<l/>");
	expect_only("sub/late.xml");
	put(at("sub/deep/late.xml"), "<l/>");
	expect_only("sub/deep/late.xml");
}
END_TEST

START_TEST(test_moved_in_dir)
{
	char	 out[600];

	snprintf(out, sizeof(out), "%s/incoming", top);
	ck_assert_int_eq(mkdir(out, 0755), 0);
	snprintf(out, sizeof(out), "%s/incoming/i.xml", top);
	put(out, "<i/>");
	expect_nothing();
	snprintf(out, sizeof(out), "%s/incoming", top);
	ck_assert_int_eq(rename(out, at("incoming")), 0);
	expect_only("incoming");
	ck_assert_int_eq((int)watch_ndirs(w), 3);
	put(at("incoming/i.xml"), "<j/>");
	expect_only("incoming/i.xml");
}
END_TEST

START_TEST(test_dir_moved_away_and_deleted)
{
	char	 out[600];

	snprintf(out, sizeof(out), "%s/gone", top);
	ck_assert_int_eq(rename(at("old"), out), 0);
	expect_only("old");
	ck_assert_int_eq((int)watch_ndirs(w), 1);
	/* no longer ours: nothing reported */
	snprintf(out, sizeof(out), "%s/gone/a.xml", top);
	put(out, "<z/>");
	expect_nothing();
	ck_assert_int_eq(mkdir(at("d"), 0755), 0);
	expect_only("d");
	ck_assert_int_eq(rmdir(at("d")), 0);
	expect_only("d");
	ck_assert_int_eq((int)watch_ndirs(w), 1);
}
END_TEST

START_TEST(test_dir_renamed_inside)
{
	ck_assert_int_eq(rename(at("old"), at("new")), 0);
	collect();
	ck_assert(has(at("old")) && has(at("new")));
	watch_batch_clear(&b);
	put(at("new/a.xml"), "<n/>");
	expect_only("new/a.xml");
}
END_TEST

START_TEST(test_overflow)
{
	FILE		*fp;
	long		 max = 0, i;
	struct timespec	 ts[2];

	fp = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	if (fp != NULL) {
		if (fscanf(fp, "%ld", &max) != 1)
			max = 0;
		fclose(fp);
	}
	if (max <= 0 || max > 200000)
		return;		/* cannot overflow it cheaply here */
	put(at("b.xml"), "<b/>");
	collect();
	watch_batch_clear(&b);
	/* alternate files: the kernel merges identical consecutive events */
	for (i = 0; i <= max; i++) {
		ts[0].tv_sec = ts[1].tv_sec = i;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		utimensat(AT_FDCWD, at(i % 2 ? "b.xml" : "old/a.xml"), ts, 0);
	}
	collect();
	ck_assert_int_eq(b.rescan, 1);
	ck_assert_int_eq(b.lost, 1);
	ck_assert_int_eq((int)b.npaths, 0);
	watch_batch_clear(&b);
	ck_assert_int_eq(watch_resync(w, NULL), 0);	/* nothing missing */
	put(at("b.xml"), "<c/>");
	expect_only("b.xml");
}
END_TEST

START_TEST(test_root_deleted)
{
	struct err	 e;

	rm_rf(root);
	collect();
	ck_assert_int_eq(b.rescan, 1);
	watch_batch_clear(&b);
	ck_assert_int_eq((int)watch_ndirs(w), 0);
	err_init(&e);
	ck_assert_int_eq(watch_resync(w, &e), -1);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	ck_assert_int_eq(watch_resync(w, &e), 1);
	err_release(&e);
	put(at("back.xml"), "<b/>");
	expect_only("back.xml");
}
END_TEST

/*
 * Issue 8 defect 8: the records directory moved away and back is watched
 * again at once (it stayed unwatched until a periodic rescan, forever with
 * rescan-interval 0).
 */
START_TEST(test_root_moved_back)
{
	char	 away[600];

	snprintf(away, sizeof(away), "%s/away", top);
	ck_assert_int_eq(rename(root, away), 0);
	collect();
	ck_assert_int_eq(b.rescan, 1);
	ck_assert_int_eq(b.root_moved, 1);
	ck_assert_int_eq(b.lost, 0);
	ck_assert_int_eq(watch_root_lost(w), 1);
	watch_batch_clear(&b);
	ck_assert_int_eq(rename(away, root), 0);
	collect();
	ck_assert_int_eq(b.rescan, 1);
	ck_assert_int_eq(b.root_moved, 1);
	ck_assert_int_eq(watch_root_lost(w), 0);
	ck_assert_int_eq((int)watch_ndirs(w), 2);
	watch_batch_clear(&b);
	put(at("n.xml"), "<n/>");
	expect_only("n.xml");
	put(at("old/m.xml"), "<m/>");
	expect_only("old/m.xml");

	/* deleted and created again */
	rm_rf(root);
	collect();
	ck_assert_int_eq(watch_root_lost(w), 1);
	watch_batch_clear(&b);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	collect();
	ck_assert_int_eq(b.rescan, 1);
	ck_assert_int_eq(watch_root_lost(w), 0);
	watch_batch_clear(&b);
	put(at("again.xml"), "<a/>");
	expect_only("again.xml");
}
END_TEST

/* The parent replaced too: watch_resync() (SIGHUP) sets everything up. */
START_TEST(test_root_parent_replaced)
{
	char	 aside[600], saved[700];
	struct err e;

	snprintf(aside, sizeof(aside), "%s.aside", top);
	snprintf(saved, sizeof(saved), "%s/records", aside);
	ck_assert_int_eq(mkdir(aside, 0755), 0);
	ck_assert_int_eq(rename(root, saved), 0);
	collect();
	ck_assert_int_eq(rmdir(top), 0);
	ck_assert_int_eq(mkdir(top, 0755), 0);
	collect();
	ck_assert_int_eq(rename(saved, root), 0);
	rmdir(aside);
	collect();
	ck_assert_int_eq(watch_root_lost(w), 1);
	watch_batch_clear(&b);
	err_init(&e);
	ck_assert_int_eq(watch_resync(w, &e), 2);
	err_release(&e);
	ck_assert_int_eq(watch_root_lost(w), 0);
	put(at("n.xml"), "<n/>");
	expect_only("n.xml");
	/* and the new parent is watched: the next move is seen */
	ck_assert_int_eq(rename(root, aside), 0);
	collect();
	watch_batch_clear(&b);
	ck_assert_int_eq(rename(aside, root), 0);
	collect();
	ck_assert_int_eq(watch_root_lost(w), 0);
	watch_batch_clear(&b);
	put(at("m.xml"), "<m/>");
	expect_only("m.xml");
}
END_TEST

/* The root given with a trailing slash: its name is still recognised. */
START_TEST(test_root_trailing_slash)
{
	char		 slashed[400], away[600];
	struct err	 e;

	watch_free(w);
	snprintf(slashed, sizeof(slashed), "%s/", root);
	err_init(&e);
	w = watch_new(slashed, store_wants, &e);
	ck_assert_msg(w != NULL, "%s", e.msg);
	err_release(&e);
	snprintf(away, sizeof(away), "%s/away", top);
	ck_assert_int_eq(rename(root, away), 0);
	collect();
	ck_assert_int_eq(watch_root_lost(w), 1);
	watch_batch_clear(&b);
	ck_assert_int_eq(rename(away, root), 0);
	collect();
	ck_assert_int_eq(watch_root_lost(w), 0);
	watch_batch_clear(&b);
	put(at("n.xml"), "<n/>");
	collect();
	ck_assert_int_eq(b.rescan, 0);
	ck_assert_uint_eq(b.npaths, 1);
}
END_TEST

/* Many changes make a rescan, but nothing was lost: say so. */
START_TEST(test_many_paths_not_lost)
{
	struct err	 e;
	char		 rel[64];
	int		 i;

	err_init(&e);
	for (i = 0; i <= WATCH_MAX_PATHS; i++) {
		snprintf(rel, sizeof(rel), "f%d.xml", i);
		put(at(rel), "<f/>");
		if (i % 500 == 0)
			ck_assert_int_eq(watch_read(w, &b, &e), 0);
	}
	err_release(&e);
	collect();
	ck_assert_int_eq(b.rescan, 1);
	ck_assert_int_eq(b.lost, 0);
	ck_assert_int_eq(b.root_moved, 0);
	watch_batch_clear(&b);
}
END_TEST

/*
 * The batch's growth fails: a rescan, nothing lost.  After the batch is
 * cleared the next path goes into it: the capacity was not raised without
 * the memory (before vec_grow(), that path was written through NULL).
 */
START_TEST(test_batch_growth_fails)
{
	watch_batch_release(&b);	/* so the next path grows it */
	tl_realloc_arm(1);
	put(at("new.xml"), "<n/>");
	collect();
	ck_assert_int_eq(tl_realloc_calls, 1);
	tl_realloc_arm(0);
	ck_assert_int_eq(b.rescan, 1);
	ck_assert_uint_eq(b.npaths, 0);
	watch_batch_clear(&b);
	put(at("other.xml"), "<o/>");
	expect_only("other.xml");
}
END_TEST

static Suite *
watch_suite(void)
{
	Suite	*s = suite_create("watch");
	TCase	*tc = tcase_create("events");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_initial_tree);
	tcase_add_test(tc, test_create_modify_touch);
	tcase_add_test(tc, test_temporaries_ignored);
	tcase_add_test(tc, test_editor_save);
	tcase_add_test(tc, test_delete_and_rename);
	tcase_add_test(tc, test_links);
	tcase_add_test(tc, test_new_subdir);
	tcase_add_test(tc, test_moved_in_dir);
	tcase_add_test(tc, test_dir_moved_away_and_deleted);
	tcase_add_test(tc, test_dir_renamed_inside);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_batch_growth_fails);
	tcase_add_test(tc, test_root_deleted);
	tcase_add_test(tc, test_root_moved_back);
	tcase_add_test(tc, test_root_parent_replaced);
	tcase_add_test(tc, test_root_trailing_slash);
	tcase_add_test(tc, test_many_paths_not_lost);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(watch_suite());
}
