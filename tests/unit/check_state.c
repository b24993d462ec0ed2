/*
 * check_state: the state database (commit, rollback, reopen, lock,
 * read-only use, corruption, the import of the old text state, the parse
 * cache's database, its corruption and the schema steps that dropped its
 * old table from the state) and the
 * resumption-token key (the file helpers are check_fileio's).  Every test
 * works in its own temporary directory under $TMPDIR (or /tmp) and removes
 * it.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "hash.h"
#include "state.h"
#include "testlib.h"
#include "banned.h"

#define MAGIC	"# pubfeed state 1\n"
#define HASH_A	"00112233445566778899aabbccddeeff" \
		"00112233445566778899aabbccddeeff"

static char	 tmpdir[256];

static void
setup(void)
{
	tl_mkdtemp(tmpdir, sizeof(tmpdir), "check_state");
}

static void
teardown(void)
{
	tl_rm_rf(tmpdir);
}

static void
tpath(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

/* Names in the temporary directory, sorted, space-separated. */
static void
dir_list(const char *dir, char *out, size_t len)
{
	struct dirent	**v;
	int		 i, n;
	size_t		 used = 0;

	out[0] = '\0';
	n = scandir(dir, &v, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	for (i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.' && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			    used ? " " : "", v[i]->d_name);
		free(v[i]);
	}
	free(v);
}

static void
fill(struct state *st)
{
	static const char *sets_a[] = { "topic:smuggling", "region" };
	static const char *sets_c[] = { "type:events" };
	struct state_entry *en;

	en = state_get(st, "rec-a");
	ck_assert_ptr_nonnull(en);
	memset(en->hash, 0xa5, HASH_LEN);
	en->datestamp = 1700000000;
	ck_assert_int_eq(state_set_sets(en, sets_a, 2), 0);
	en = state_get(st, "rec-b");
	memset(en->hash, 0x01, HASH_LEN);
	en->datestamp = 1600000000;
	en->is_deleted = 1;
	en = state_get(st, "rec-c");
	memset(en->hash, 0xff, HASH_LEN);
	en->datestamp = 1;
	en->is_deleted = 1;
	ck_assert_int_eq(state_set_sets(en, sets_c, 1), 0);
}

/* tmpdir/st as a primary would open it. */
static void
open_primary(struct state *st, const char *sub)
{
	struct err	 e;
	char		 dir[512];

	err_init(&e);
	tpath(dir, sizeof(dir), sub);
	ck_assert_int_eq(fileio_mkdirs(dir, &e), 0);
	state_init(st);
	ck_assert_msg(state_open(st, dir, 0, &e) == 0, "%s", e.msg);
	err_release(&e);
}

static void
touch_all(struct state *st)
{
	size_t	 i;

	for (i = 0; i < st->n; i++)
		ck_assert_int_eq(state_touch(st, &st->v[i]), 0);
}

static int64_t
sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*q;
	int64_t		 v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static void
check_filled(struct state *st)
{
	struct state_entry	*en;

	ck_assert_uint_eq(st->n, 3);
	en = state_find(st, "rec-a");
	ck_assert_ptr_nonnull(en);
	ck_assert_int_eq(en->hash[0], 0xa5);
	ck_assert_int_eq(en->hash[HASH_LEN - 1], 0xa5);
	ck_assert_int_eq(en->datestamp, 1700000000);
	ck_assert_int_eq(en->is_deleted, 0);
	ck_assert_uint_eq(en->nsets, 2);
	ck_assert_str_eq(en->sets[0], "topic:smuggling");
	ck_assert_str_eq(en->sets[1], "region");
	en = state_find(st, "rec-b");
	ck_assert_int_eq(en->is_deleted, 1);
	ck_assert_int_eq(en->datestamp, 1600000000);
	ck_assert_uint_eq(en->nsets, 0);
	en = state_find(st, "rec-c");
	ck_assert_int_eq(en->is_deleted, 1);
	ck_assert_int_eq(en->hash[3], 0xff);
	/* a tombstone keeps its sets */
	ck_assert_uint_eq(en->nsets, 1);
	ck_assert_str_eq(en->sets[0], "type:events");
}

START_TEST(test_round_trip)
{
	struct state	 st;
	struct err	 e;
	char		 list[512], dir[512];

	err_init(&e);
	open_primary(&st, "st");
	ck_assert_uint_eq(st.n, 0);
	fill(&st);
	touch_all(&st);
	ck_assert_uint_eq(st.npending, 3);
	ck_assert_int_eq(state_touch(&st, &st.v[0]), 0);	/* once */
	ck_assert_uint_eq(st.npending, 3);
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(st.npending, 0);
	ck_assert_int_eq(sql_int(st.db, "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_int_eq(sql_int(st.db, "SELECT count(*) FROM records"), 3);
	ck_assert_int_eq(sql_int(st.db, "SELECT is_deleted FROM records "
	    "WHERE id = 'rec-c'"), 1);
	state_release(&st);
	tpath(dir, sizeof(dir), "st");
	dir_list(dir, list, sizeof(list));
	ck_assert_str_eq(list, "parse-cache.db pubfeed.db pubfeed.lock");

	open_primary(&st, "st");
	check_filled(&st);
	ck_assert_uint_eq(st.npending, 0);
	/* nothing queued: nothing to do */
	ck_assert_int_eq(state_commit(&st, &e), 0);
	state_release(&st);
	err_release(&e);
}
END_TEST

/* A commit writes the queued rows only, in one transaction. */
START_TEST(test_commit_changed_only)
{
	struct state		 st;
	struct state_entry	*en;
	struct err		 e;
	int			 before;

	err_init(&e);
	open_primary(&st, "st");
	fill(&st);
	touch_all(&st);
	ck_assert_int_eq(state_commit(&st, &e), 0);
	before = sqlite3_total_changes(st.db);
	en = state_find(&st, "rec-a");
	en->datestamp = 1800000000;
	ck_assert_int_eq(state_touch(&st, en), 0);
	ck_assert_int_eq(state_commit(&st, &e), 0);
	ck_assert_int_eq(sqlite3_total_changes(st.db) - before, 1);
	ck_assert_int_eq(sql_int(st.db, "SELECT datestamp FROM records "
	    "WHERE id = 'rec-a'"), 1800000000);
	ck_assert_int_eq(sql_int(st.db, "PRAGMA synchronous"), 2);  /* FULL */
	state_release(&st);
	err_release(&e);
}
END_TEST

/*
 * A failed commit changes nothing on disk and keeps the queue, so the
 * next commit writes it; state_reload() goes back to what is on disk.
 */
START_TEST(test_commit_failure)
{
	struct state		 st, again;
	struct state_entry	*en;
	struct err		 e;
	sqlite3			*other;
	char			 path[512];

	err_init(&e);
	open_primary(&st, "st");
	fill(&st);
	touch_all(&st);
	ck_assert_int_eq(state_commit(&st, &e), 0);
	en = state_find(&st, "rec-b");
	en->is_deleted = 0;
	en->datestamp = 1900000000;
	ck_assert_int_eq(state_touch(&st, en), 0);
	en = state_get(&st, "rec-new");
	en->datestamp = 1900000000;
	ck_assert_int_eq(state_touch(&st, en), 0);

	/* another writer holds the database: the commit cannot go through */
	tpath(path, sizeof(path), "st/pubfeed.db");
	ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(st.db, 10);
	ck_assert_int_eq(state_commit(&st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "pubfeed.db"));
	ck_assert_uint_eq(st.npending, 2);
	ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sql_int(other, "SELECT count(*) FROM records"), 3);
	ck_assert_int_eq(sql_int(other, "SELECT is_deleted FROM records "
	    "WHERE id = 'rec-b'"), 1);

	/* the retry writes both rows */
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(st.npending, 0);
	ck_assert_int_eq(sql_int(other, "SELECT count(*) FROM records"), 4);
	ck_assert_int_eq(sql_int(other, "SELECT is_deleted FROM records "
	    "WHERE id = 'rec-b'"), 0);

	/* uncommitted memory goes away with a reload */
	en = state_find(&st, "rec-a");
	en->datestamp = 5;
	ck_assert_int_eq(state_touch(&st, en), 0);
	state_get(&st, "rec-ghost");
	ck_assert_int_eq(state_reload(&st, 1, NULL, &e), 0);
	ck_assert_uint_eq(st.npending, 0);
	ck_assert_uint_eq(st.n, 4);
	ck_assert_ptr_null(state_find(&st, "rec-ghost"));
	ck_assert_int_eq(state_find(&st, "rec-a")->datestamp, 1700000000);
	sqlite3_close(other);
	state_release(&st);

	/* and a reopen sees exactly what was committed */
	open_primary(&again, "st");
	ck_assert_uint_eq(again.n, 4);
	ck_assert_int_eq(state_find(&again, "rec-b")->datestamp, 1900000000);
	state_release(&again);
	err_release(&e);
}
END_TEST

/* One primary per state directory; read-only users take no lock. */
START_TEST(test_lock)
{
	struct state	 a, b, ro;
	struct err	 e;
	char		 dir[512];

	err_init(&e);
	open_primary(&a, "st");
	tpath(dir, sizeof(dir), "st");
	state_init(&b);
	ck_assert_int_eq(state_open(&b, dir, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "in use by another pubfeed "
	    "serve"));
	ck_assert_ptr_nonnull(strstr(e.msg, dir));
	state_release(&b);
	state_init(&ro);
	ck_assert_msg(state_open(&ro, dir, STATE_RDONLY, &e) == 0, "%s",
	    e.msg);
	state_release(&ro);
	state_release(&a);
	/* released with the first */
	open_primary(&b, "st");
	state_release(&b);
	err_release(&e);
}
END_TEST

/*
 * state_since(): a digest keeps the time it was first seen, across a
 * commit and a reopen; another digest takes now; a reader only looks, and
 * a rolled-back change is forgotten.
 */
START_TEST(test_since)
{
	struct state	 st, ro;
	struct err	 e;
	unsigned char	 d1[HASH_LEN], d2[HASH_LEN];
	char		 dir[512], name[STATE_SINCE_NAME_MAX + 2];
	int		 changed;

	err_init(&e);
	hash_sha256("one", 3, d1);
	hash_sha256("two", 3, d2);
	tpath(dir, sizeof(dir), "st");
	open_primary(&st, "st");
	ck_assert_int_eq(state_since(&st, "sets", d1, 100), 100);
	ck_assert_int_eq(state_since(&st, "sets", d1, 200), 100);
	ck_assert_int_eq(state_since(&st, "sets:topic", d2, 300), 300);
	ck_assert_int_eq(state_since(&st, "sets", d1, 0), 100);
	ck_assert_int_eq(state_commit(&st, &e), 0);
	state_release(&st);

	open_primary(&st, "st");
	ck_assert_int_eq(state_since(&st, "sets", d1, 400), 100);
	ck_assert_int_eq(state_since(&st, "sets:topic", d2, 400), 300);
	/* a reader sees what was committed, and only looks */
	state_init(&ro);
	ck_assert_int_eq(state_open(&ro, dir, STATE_RDONLY, &e), 0);
	ck_assert_int_eq(state_since(&ro, "sets", d1, 500), 100);
	ck_assert_int_eq(state_since(&ro, "sets", d2, 500), 0);
	ck_assert_int_eq(state_since(&ro, "sets:other", d2, 500), 0);
	/* another digest: now, and the reader sees it once committed */
	ck_assert_int_eq(state_since(&st, "sets", d2, 600), 600);
	ck_assert_int_eq(state_since(&st, "sets", d2, 700), 600);
	ck_assert_int_eq(state_since(&st, "sets", d1, 0), 0);	/* only look */
	ck_assert_int_eq(state_commit(&st, &e), 0);
	ck_assert_int_eq(state_reload(&ro, 0, &changed, &e), 0);
	ck_assert_int_eq(state_since(&ro, "sets", d2, 0), 600);
	ck_assert_int_eq(state_since(&ro, "sets", d1, 0), 0);
	/* uncommitted, then reloaded from the database: forgotten */
	ck_assert_int_eq(state_since(&st, "sets", d1, 800), 800);
	ck_assert_int_eq(state_reload(&st, 1, NULL, &e), 0);
	ck_assert_int_eq(state_since(&st, "sets", d2, 900), 600);
	/* a name too long is never kept */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(state_since(&st, name, d1, 900), 0);
	state_release(&ro);
	state_release(&st);
	err_release(&e);
}
END_TEST

/* Read-only: nothing created; the primary's commits show on reload. */
START_TEST(test_readonly)
{
	struct state	 pri, ro;
	struct err	 e;
	char		 dir[512], list[512];
	int		 changed;

	err_init(&e);
	tpath(dir, sizeof(dir), "st");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	state_init(&ro);
	ck_assert_int_eq(state_open(&ro, dir, STATE_RDONLY, &e), 0);
	ck_assert_uint_eq(ro.n, 0);
	dir_list(dir, list, sizeof(list));
	ck_assert_str_eq(list, "");
	ck_assert_int_eq(state_commit(&ro, &e), 0);	/* nothing queued */

	open_primary(&pri, "st");
	fill(&pri);
	touch_all(&pri);
	ck_assert_int_eq(state_commit(&pri, &e), 0);
	ck_assert_int_eq(state_reload(&ro, 0, &changed, &e), 0);
	ck_assert_int_eq(changed, 1);
	check_filled(&ro);
	ck_assert_int_eq(state_reload(&ro, 0, &changed, &e), 0);
	ck_assert_int_eq(changed, 0);
	state_find(&pri, "rec-a")->datestamp = 1750000000;
	ck_assert_int_eq(state_touch(&pri, state_find(&pri, "rec-a")), 0);
	ck_assert_int_eq(state_commit(&pri, &e), 0);
	ck_assert_int_eq(state_reload(&ro, 0, &changed, &e), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(state_find(&ro, "rec-a")->datestamp, 1750000000);
	/* a read-only state never writes */
	ck_assert_int_eq(state_touch(&ro, state_find(&ro, "rec-a")), 0);
	ck_assert_int_eq(state_commit(&ro, &e), -1);
	state_release(&ro);
	state_release(&pri);
	err_release(&e);
}
END_TEST

static void
scribble(const char *path, long off, size_t n)
{
	FILE	*fp;
	size_t	 i;

	ck_assert_ptr_nonnull(fp = fopen(path, "r+"));
	ck_assert_int_eq(fseek(fp, off, SEEK_SET), 0);
	for (i = 0; i < n; i++)
		fputc((int)((i * 7919 + 13) & 0xff), fp);
	fclose(fp);
}

/* The records and meta tables as every schema version had them. */
#define OLD_TABLES \
	"CREATE TABLE records (" \
	" id TEXT PRIMARY KEY NOT NULL, hash TEXT NOT NULL," \
	" datestamp INTEGER NOT NULL, is_deleted INTEGER NOT NULL," \
	" sets TEXT NOT NULL DEFAULT '') WITHOUT ROWID;" \
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT);"

/* A state directory "st" (into dir) whose database sql makes: an old one. */
static void
old_state(char *dir, size_t dirsz, char *path, size_t pathsz, const char *sql)
{
	sqlite3	*db;

	tpath(dir, dirsz, "st");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, pathsz, "%s/" STATE_DB_NAME, dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A damaged database is refused, never taken for an empty one. */
START_TEST(test_corrupt)
{
	struct state	 st;
	struct err	 e;
	char		 dir[512], path[512], id[32];
	struct stat	 sb;
	int		 i;

	err_init(&e);
	open_primary(&st, "st");
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "record-%d", i);
		state_get(&st, id)->datestamp = i + 1;
	}
	touch_all(&st);
	ck_assert_int_eq(state_commit(&st, &e), 0);
	state_release(&st);	/* checkpoints the WAL into the file */
	tpath(dir, sizeof(dir), "st");
	tpath(path, sizeof(path), "st/pubfeed.db");
	ck_assert_int_eq(stat(path, &sb), 0);
	/* the start of a page in the middle: a records b-tree page */
	scribble(path, sb.st_size / 2 / 4096 * 4096, 2000);
	state_init(&st);
	ck_assert_int_eq(state_open(&st, dir, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "pubfeed.db: database is"));
	ck_assert_ptr_nonnull(strstr(e.msg, "refusing to start"));
	state_release(&st);
	state_init(&st);
	ck_assert_int_eq(state_open(&st, dir, STATE_RDONLY, &e), -1);
	state_release(&st);
	scribble(path, 0, 100);			/* the header */
	state_init(&st);
	err_clear(&e);
	ck_assert_int_eq(state_open(&st, dir, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "refusing to start"));
	state_release(&st);
	err_release(&e);
}
END_TEST

/* What a kill -9 left of an atomic write goes at the next start. */
START_TEST(test_stale_tmp)
{
	struct state	 st;
	char		 p[512], list[512];

	tpath(p, sizeof(p), "st");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	tpath(p, sizeof(p), "st/records.state.tmp.123");
	tl_write_file(p, "half");
	tpath(p, sizeof(p), "st/token.key.tmp.9");
	tl_write_file(p, "");
	tpath(p, sizeof(p), "st/keep.tmp.x1");
	tl_write_file(p, "");
	open_primary(&st, "st");
	state_release(&st);
	tpath(p, sizeof(p), "st");
	dir_list(p, list, sizeof(list));
	ck_assert_str_eq(list, "keep.tmp.x1 parse-cache.db pubfeed.db pubfeed.lock");
}
END_TEST

#define OLD_STATE \
	MAGIC \
	"rec-a\t" HASH_A "\t1700000000\tlive\ttopic:smuggling region\n" \
	"rec-b\t" HASH_A "\t1600000000\tdeleted\t\n" \
	"rec-c\t" HASH_A "\t1\tdeleted\ttype:events\n"

/* The text state of pubfeed < 0.2 is imported once and kept as *.bak. */
START_TEST(test_migrate)
{
	struct state	 st;
	struct err	 e;
	char		 p[512], list[512];

	err_init(&e);
	tpath(p, sizeof(p), "st");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	tpath(p, sizeof(p), "st/records.state");
	tl_write_file(p, OLD_STATE);
	tpath(p, sizeof(p), "st/outbox");
	tl_write_file(p, "# pubfeed outbox 1\n"
	    "websub-hub https://hub.ex/ - https://ex.org/feed.atom 3 5\n"
	    "ping-post http://p.ex/ a=b%20c https://ex.org/f%20x 0 0\n");
	tpath(p, sizeof(p), "st/notify.status");
	tl_write_file(p, "# pubfeed notify status 1\n"
	    "websub-hub https://hub.ex/ - 12 3 1 1700000000 1700000100 "
	    "HTTP%20500\n");

	/* read-only users see it without touching anything */
	tpath(p, sizeof(p), "st");
	state_init(&st);
	ck_assert_msg(state_open(&st, p, STATE_RDONLY, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(st.n, 3);
	state_release(&st);
	dir_list(p, list, sizeof(list));
	ck_assert_str_eq(list, "notify.status outbox records.state");

	open_primary(&st, "st");
	ck_assert_uint_eq(st.n, 3);
	ck_assert_int_eq(state_find(&st, "rec-a")->hash[1], 0x11);
	ck_assert_int_eq(state_find(&st, "rec-c")->is_deleted, 1);
	ck_assert_str_eq(state_find(&st, "rec-c")->sets[0], "type:events");
	ck_assert_int_eq(sql_int(st.db, "SELECT count(*) FROM outbox"), 2);
	ck_assert_int_eq(sql_int(st.db, "SELECT attempts FROM outbox WHERE "
	    "kind = 'websub-hub'"), 3);
	ck_assert_int_eq(sql_int(st.db, "SELECT count(*) FROM outbox WHERE "
	    "body = 'a=b c' AND topic = 'https://ex.org/f x'"), 1);
	ck_assert_int_eq(sql_int(st.db, "SELECT sent FROM target_status"), 12);
	state_release(&st);
	tpath(p, sizeof(p), "st");
	dir_list(p, list, sizeof(list));
	ck_assert_str_eq(list, "notify.status.bak outbox.bak parse-cache.db "
	    "pubfeed.db pubfeed.lock records.state.bak");

	/*
	 * A crash after the commit, before the renames: the file is renamed,
	 * not imported again (the database already holds newer values).
	 */
	tpath(p, sizeof(p), "st/records.state");
	tl_write_file(p, MAGIC "rec-z\t" HASH_A "\t5\tlive\t\n");
	open_primary(&st, "st");
	ck_assert_uint_eq(st.n, 3);
	ck_assert_ptr_null(state_find(&st, "rec-z"));
	state_release(&st);
	tpath(p, sizeof(p), "st/records.state");
	ck_assert_int_eq(access(p, F_OK), -1);
	err_release(&e);
}
END_TEST

/* Defect 11: an empty or truncated old state is refused, not half-read. */
static const struct {
	const char	*text;
	const char	*msg;
} bad_old[] = {
	{ "", "records.state: empty file" },
	{ MAGIC "rec-a\t" HASH_A "\t1700000000\tlive\t",
	    "records.state: last line is not terminated" },
	{ MAGIC "rec-a\t" HASH_A "\t1700000000\tlive\n",
	    "records.state:2: expected 5 fields" },
	{ MAGIC "rec-a\tzz\t1\tlive\t\n", "records.state:2: bad hash" },
	{ MAGIC "rec-a\t" HASH_A "\t-1\tlive\t\n",
	    "records.state:2: bad datestamp '-1'" },
	{ MAGIC "rec-a\t" HASH_A "\t1\tgone\t\n",
	    "records.state:2: bad status 'gone'" },
	{ MAGIC "rec-a\t" HASH_A "\t1\tlive\t\nrec-a\t" HASH_A "\t2\tlive\t\n",
	    "records.state:3: repeated entry" },
	{ "# something else\n", "records.state:1: not a pubfeed file" },
};

START_TEST(test_migrate_refuses)
{
	struct state	 st;
	struct err	 e;
	char		 p[512], dir[512];

	err_init(&e);
	tpath(dir, sizeof(dir), "st");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	tpath(p, sizeof(p), "st/records.state");
	tl_write_file(p, bad_old[_i].text);
	state_init(&st);
	ck_assert_int_eq(state_open(&st, dir, 0, &e), -1);
	ck_assert_msg(strstr(e.msg, bad_old[_i].msg) != NULL, "%s", e.msg);
	state_release(&st);
	/* nothing imported, the file left alone for the operator */
	ck_assert_int_eq(access(p, F_OK), 0);
	state_init(&st);
	err_clear(&e);
	ck_assert_int_eq(state_open(&st, dir, 0, &e), -1);
	state_release(&st);
	tpath(p, sizeof(p), "st/records.state.bak");
	ck_assert_int_eq(access(p, F_OK), -1);
	err_release(&e);
}
END_TEST

/*
 * Percent-encoded outbox fields decode with either case of hex digit;
 * a short, non-hex or NUL escape refuses the whole file.
 */
static const struct {
	const char	*body;
	const char	*decoded;	/* NULL: refused */
} pct_old[] = {
	{ "a%2fb%2F%41", "a/b/A" },
	{ "%e2%82%ac", "\xe2\x82\xac" },
	{ "a%2", NULL },
	{ "a%", NULL },
	{ "a%g1", NULL },
	{ "a%1g", NULL },
	{ "a%00b", NULL },
};

START_TEST(test_migrate_percent)
{
	struct state	 st;
	struct err	 e;
	char		 p[512], line[256], sql[256];

	err_init(&e);
	tpath(p, sizeof(p), "st");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	tpath(p, sizeof(p), "st/records.state");
	tl_write_file(p, MAGIC "rec-a\t" HASH_A "\t1\tlive\t\n");
	snprintf(line, sizeof(line), "# pubfeed outbox 1\n"
	    "ping-post http://p.ex/ %s https://ex.org/f 0 0\n",
	    pct_old[_i].body);
	tpath(p, sizeof(p), "st/outbox");
	tl_write_file(p, line);
	tpath(p, sizeof(p), "st");
	state_init(&st);
	if (pct_old[_i].decoded == NULL) {
		ck_assert_int_eq(state_open(&st, p, 0, &e), -1);
		ck_assert_msg(strstr(e.msg, "outbox:2: bad target URL or body")
		    != NULL, "%s", e.msg);
	} else {
		ck_assert_msg(state_open(&st, p, 0, &e) == 0, "%s", e.msg);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE "
		    "body = '%s'", pct_old[_i].decoded);
		ck_assert_int_eq(sql_int(st.db, sql), 1);
	}
	state_release(&st);
	err_release(&e);
}
END_TEST

START_TEST(test_many_entries)
{
	struct state		 st;
	struct state_entry	*en;
	char			 id[32];
	int			 i;

	state_init(&st);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		en = state_get(&st, id);
		ck_assert_ptr_nonnull(en);
		en->datestamp = i + 1;
	}
	ck_assert_uint_eq(st.n, 5000);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		en = state_find(&st, id);
		ck_assert_ptr_nonnull(en);
		ck_assert_int_eq(en->datestamp, i + 1);
		ck_assert_ptr_eq(state_get(&st, id), en);
	}
	ck_assert_uint_eq(st.n, 5000);
	ck_assert_ptr_null(state_find(&st, "id-5000"));
	state_release(&st);
	ck_assert_uint_eq(st.n, 0);
	ck_assert_ptr_null(state_find(&st, "id-1"));
}
END_TEST

START_TEST(test_token_key_file)
{
	unsigned char	 k1[256], k2[256], zero[HASH_LEN];
	size_t		 l1, l2;
	struct stat	 sb;
	struct err	 e;
	char		 p[512], *data;
	size_t		 len;

	err_init(&e);
	ck_assert_msg(state_token_key(NULL, tmpdir, k1, &l1, &e) == 0, "%s",
	    e.msg);
	ck_assert_uint_eq(l1, HASH_LEN);
	memset(zero, 0, sizeof(zero));
	ck_assert_mem_ne(k1, zero, HASH_LEN);
	tpath(p, sizeof(p), "token.key");
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(fileio_read_file(p, 4096, &data, &len, &e), 0);
	ck_assert_uint_eq(len, 65);
	ck_assert_int_eq(data[64], '\n');
	ck_assert_uint_eq(strspn(data, "0123456789abcdef"), 64);
	free(data);
	/* stable across loads */
	ck_assert_int_eq(state_token_key(NULL, tmpdir, k2, &l2, &e), 0);
	ck_assert_uint_eq(l2, HASH_LEN);
	ck_assert_mem_eq(k1, k2, HASH_LEN);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);

	/* a damaged key file is an error, never silently replaced */
	tl_write_file(p, "not hex\n");
	ck_assert_int_eq(state_token_key(NULL, tmpdir, k2, &l2, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg,
	    "/token.key:1: not a 64-digit hex key"));
	ck_assert_int_eq(fileio_read_file(p, 4096, &data, &len, &e), 0);
	ck_assert_str_eq(data, "not hex\n");
	free(data);
	err_release(&e);
}
END_TEST

START_TEST(test_token_key_configured)
{
	unsigned char	 k[256];
	size_t		 l;
	struct err	 e;
	char		 p[512], list[64];

	err_init(&e);
	ck_assert_int_eq(state_token_key("s3cret key", tmpdir, k, &l, &e), 0);
	ck_assert_uint_eq(l, 10);
	ck_assert_mem_eq(k, "s3cret key", 10);
	dir_list(tmpdir, list, sizeof(list));
	ck_assert_str_eq(list, "");
	/* even with a key file present, the configured key wins */
	tpath(p, sizeof(p), "token.key");
	tl_write_file(p, HASH_A "\n");
	ck_assert_int_eq(state_token_key("other", tmpdir, k, &l, &e), 0);
	ck_assert_uint_eq(l, 5);
	ck_assert_mem_eq(k, "other", 5);
	ck_assert_int_eq(state_token_key(NULL, tmpdir, k, &l, &e), 0);
	ck_assert_uint_eq(l, HASH_LEN);
	ck_assert_int_eq(k[0], 0x00);
	ck_assert_int_eq(k[1], 0x11);
	ck_assert_int_eq(k[31], 0xff);
	ck_assert_int_eq(e.count, 0);
	err_release(&e);
}
END_TEST

START_TEST(test_set_sets)
{
	static const char *one[] = { "a", "b:c" };
	static const char *two[] = { "z" };
	struct state		 st;
	struct state_entry	*en;

	state_init(&st);
	en = state_get(&st, "x");
	ck_assert_int_eq(en->datestamp, 0);
	ck_assert_int_eq(en->is_deleted, 0);
	ck_assert_uint_eq(en->nsets, 0);
	ck_assert_int_eq(state_set_sets(en, one, 2), 0);
	ck_assert_str_eq(en->sets[1], "b:c");
	ck_assert_ptr_ne(en->sets[1], one[1]);	/* a copy */
	ck_assert_int_eq(state_set_sets(en, two, 1), 0);
	ck_assert_uint_eq(en->nsets, 1);
	ck_assert_str_eq(en->sets[0], "z");
	ck_assert_ptr_null(en->sets[1]);
	ck_assert_int_eq(state_set_sets(en, NULL, 0), 0);
	ck_assert_uint_eq(en->nsets, 0);
	ck_assert_ptr_null(en->sets[0]);
	state_release(&st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The parse cache table */

struct pc_seen {
	char			 paths[8][64];
	struct state_pcache	 rows[8];
	int			 n;
};

static void
pc_collect(void *arg, const char *path, const struct state_pcache *row)
{
	struct pc_seen	*ps = arg;

	ck_assert_int_lt(ps->n, 8);
	snprintf(ps->paths[ps->n], sizeof(ps->paths[0]), "%s", path);
	ps->rows[ps->n++] = *row;
}

/* A reader (a replica) of the state in dir: it opens, and the cache is empty. */
static void
reader_sees_no_cache(const char *dir, const unsigned char *validator)
{
	struct state	 st;
	struct pc_seen	 ps;
	struct err	 e;

	err_init(&e);
	state_init(&st);
	ck_assert_int_eq(state_open(&st, dir, STATE_RDONLY, &e), 0);
	memset(&ps, 0, sizeof(ps));
	ck_assert_msg(state_pcache_load(&st, validator, pc_collect, &ps, &e) ==
	    0, "%s", e.msg);
	ck_assert_int_eq(ps.n, 0);
	state_release(&st);
	err_release(&e);
}

static void
pc_row(struct state_pcache *row, int64_t ino, int v)
{
	memset(row, 0, sizeof(*row));
	row->dev = 8;
	row->ino = ino;
	row->size = 100 + ino;
	row->mtime_ns = 1700000000123456789LL + ino;
	row->ctime_ns = 1700000000987654321LL + ino;
	memset(row->hash, (int)(0x10 + ino), HASH_LEN);
	memset(row->validator, v, HASH_LEN);
}

START_TEST(test_pcache)
{
	struct state		 st, ro;
	struct state_pcache	 row;
	struct pc_seen		 ps;
	struct err		 e;
	unsigned char		 v1[HASH_LEN], v2[HASH_LEN];
	char			 dir[512];

	err_init(&e);
	memset(v1, 1, sizeof(v1));
	memset(v2, 2, sizeof(v2));
	open_primary(&st, "st");
	pc_row(&row, 1, 1);
	ck_assert_int_eq(state_pcache_put(&st, "r/a.xml", &row), 0);
	pc_row(&row, 2, 1);
	ck_assert_int_eq(state_pcache_put(&st, "r/b.xml", &row), 0);
	pc_row(&row, 3, 2);	/* another validator */
	ck_assert_int_eq(state_pcache_put(&st, "r/c.xml", &row), 0);
	/* queued only: nothing in the table before the commit */
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache"),
	    0);
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache"),
	    3);
	/* in its own file, at NORMAL; the state keeps FULL and no table */
	ck_assert_int_eq(sql_int(st.pcdb, "PRAGMA synchronous"), 1);
	ck_assert_int_eq(sql_int(st.db, "PRAGMA synchronous"), 2);
	ck_assert_int_eq(sql_int(st.db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'parse_cache'"), 0);
	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(state_pcache_load(&st, v1, pc_collect, &ps, &e), 0);
	ck_assert_int_eq(ps.n, 2);
	pc_row(&row, 1, 1);
	ck_assert_str_eq(ps.paths[0], "r/a.xml");
	ck_assert_int_eq(memcmp(&ps.rows[0], &row, sizeof(row)), 0);
	/* an update and a deletion, in one commit */
	pc_row(&row, 9, 1);
	ck_assert_int_eq(state_pcache_put(&st, "r/a.xml", &row), 0);
	ck_assert_int_eq(state_pcache_del(&st, "r/b.xml"), 0);
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	state_release(&st);

	/* read-only: the same rows, and it never queues anything */
	tpath(dir, sizeof(dir), "st");
	state_init(&ro);
	ck_assert_int_eq(state_open(&ro, dir, STATE_RDONLY, &e), 0);
	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(state_pcache_load(&ro, v1, pc_collect, &ps, &e), 0);
	ck_assert_int_eq(ps.n, 1);
	ck_assert_str_eq(ps.paths[0], "r/a.xml");
	ck_assert_int_eq(ps.rows[0].ino, 9);
	ck_assert_int_eq(ps.rows[0].mtime_ns, 1700000000123456789LL + 9);
	ck_assert_int_eq(state_pcache_del(&ro, "r/a.xml"), 0);
	ck_assert_uint_eq(ro.npcq, 0);
	ck_assert_int_eq(state_commit(&ro, &e), 0);	/* nothing to write */
	state_release(&ro);
	err_release(&e);
}
END_TEST

/* A version 1 database gets the table; a reader of an old one sees none. */
START_TEST(test_pcache_schema_v1)
{
	struct state		 st;
	struct err		 e;
	unsigned char		 v1[HASH_LEN];
	char			 dir[512], path[600];

	err_init(&e);
	memset(v1, 1, sizeof(v1));
	old_state(dir, sizeof(dir), path, sizeof(path), OLD_TABLES
	    "INSERT INTO records VALUES ('old', '" HASH_A "', 1600000000, 0,"
	    " '');"
	    "PRAGMA user_version = 1;");

	/* a reader of the old database: no table, no cache, no error */
	reader_sees_no_cache(dir, v1);

	/* the primary migrates: the records stay, the cache is there */
	open_primary(&st, "st");
	ck_assert_int_eq(sql_int(st.db, "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_ptr_nonnull(state_find(&st, "old"));
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache"),
	    0);
	state_release(&st);
	err_release(&e);
}
END_TEST

/* Images: queued copies, written with the row, loaded back byte for byte. */
static void
pc_image(void *arg, const char *path, const struct state_pcache *row)
{
	struct buf	*b = arg;

	if (strcmp(path, "r/i.xml") == 0 && row->image != NULL)
		ck_assert_int_eq(buf_add(b, row->image, row->image_len), 0);
}

START_TEST(test_pcache_image)
{
	struct state		 st;
	struct state_pcache	 row;
	struct err		 e;
	struct buf		 b;
	unsigned char		 v1[HASH_LEN], img[3000];
	size_t			 i;

	err_init(&e);
	buf_init(&b, 1 << 20);
	memset(v1, 1, sizeof(v1));
	for (i = 0; i < sizeof(img); i++)
		img[i] = (unsigned char)(i * 7);
	open_primary(&st, "st");
	pc_row(&row, 1, 1);
	row.image = img;
	row.image_len = sizeof(img);
	ck_assert_int_eq(state_pcache_put(&st, "r/i.xml", &row), 0);
	memset(img, 0, sizeof(img));	/* put copied it */
	pc_row(&row, 2, 1);		/* no image: NULL */
	ck_assert_int_eq(state_pcache_put(&st, "r/n.xml", &row), 0);
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(image) FROM "
	    "parse_cache"), 1);
	ck_assert_int_eq(state_pcache_load(&st, v1, pc_image, &b, &e), 0);
	ck_assert_uint_eq(b.len, sizeof(img));
	for (i = 0; i < sizeof(img); i++)
		ck_assert_int_eq((unsigned char)b.data[i],
		    (unsigned char)(i * 7));
	state_release(&st);
	buf_release(&b);
	err_release(&e);
}
END_TEST

/*
 * A commit writes both tables in key order, whatever order the records
 * were read in: with SQLite's page cache far smaller than the key's
 * b-tree (as at 1M records), an insert in key order goes next to the last
 * one and reads nothing back, an insert in read order nearly always reads
 * a page back (SQLITE_DBSTATUS_CACHE_MISS).  For one path queued twice
 * the last change wins.
 */
START_TEST(test_commit_key_order)
{
	struct state		 st;
	struct state_pcache	 row;
	struct state_entry	*en;
	struct err		 e;
	unsigned char		 img[600];
	char			 key[64];
	int			 i, k, miss, hi, n = 4000;

	err_init(&e);
	memset(img, 0x5a, sizeof(img));
	open_primary(&st, "st");
	ck_assert_int_eq(sqlite3_exec(st.db, "PRAGMA cache_size = 10", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(st.pcdb, "PRAGMA cache_size = 10",
	    NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		k = i * 1237 % n;	/* a permutation: 1237 is prime to n */
		snprintf(key, sizeof(key), "record-%06d-with-a-longer-id", k);
		ck_assert_ptr_nonnull(en = state_get(&st, key));
		memset(en->hash, k & 0xff, HASH_LEN);
		en->datestamp = k + 1;
		ck_assert_int_eq(state_touch(&st, en), 0);
		snprintf(key, sizeof(key), "records/%02d/r-%06d.xml", k % 50,
		    k);
		pc_row(&row, k, 1);
		row.image = img;
		row.image_len = sizeof(img);
		ck_assert_int_eq(state_pcache_put(&st, key, &row), 0);
	}
	/* queued twice: put then deletion, deletion then put, two puts */
	ck_assert_int_eq(state_pcache_del(&st, "records/00/r-000000.xml"), 0);
	ck_assert_int_eq(state_pcache_del(&st, "records/01/r-000001.xml"), 0);
	pc_row(&row, 77, 1);
	ck_assert_int_eq(state_pcache_put(&st, "records/01/r-000001.xml",
	    &row), 0);
	ck_assert_int_eq(state_pcache_put(&st, "records/02/r-000002.xml",
	    &row), 0);
	sqlite3_db_status(st.db, SQLITE_DBSTATUS_CACHE_MISS, &miss, &hi, 1);
	sqlite3_db_status(st.pcdb, SQLITE_DBSTATUS_CACHE_MISS, &miss, &hi, 1);
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	sqlite3_db_status(st.db, SQLITE_DBSTATUS_CACHE_MISS, &miss, &hi, 0);
	ck_assert_msg(miss < n / 20, "records: %d pages read back", miss);
	sqlite3_db_status(st.pcdb, SQLITE_DBSTATUS_CACHE_MISS, &miss, &hi, 0);
	ck_assert_msg(miss < n / 20, "parse cache: %d pages read back", miss);
	/* the rowids of a new table are the order of the inserts */
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache "
	    "a, parse_cache b WHERE a.rowid < b.rowid AND a.path > b.path"),
	    0);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache"),
	    n - 1);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT ino FROM parse_cache WHERE "
	    "path = 'records/01/r-000001.xml'"), 77);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT ino FROM parse_cache WHERE "
	    "path = 'records/02/r-000002.xml'"), 77);
	ck_assert_int_eq(sql_int(st.db, "SELECT count(*) FROM records"), n);
	ck_assert_int_eq(sql_int(st.db, "SELECT datestamp FROM records WHERE "
	    "id = 'record-003999-with-a-longer-id'"), 4000);
	state_release(&st);
	err_release(&e);
}
END_TEST

/* A cache of 300 rows with images, committed with the state's "kept". */
static void
pc_fill(const char *sub)
{
	struct state		 st;
	struct state_pcache	 row;
	struct err		 e;
	unsigned char		 img[1500];
	char			 p[32];
	int			 i;

	err_init(&e);
	memset(img, 0x5a, sizeof(img));
	open_primary(&st, sub);
	state_get(&st, "kept")->datestamp = 7;
	touch_all(&st);
	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "r/%d.xml", i);
		pc_row(&row, i % 8, 1);
		row.image = img;
		row.image_len = sizeof(img);
		ck_assert_int_eq(state_pcache_put(&st, p, &row), 0);
	}
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache"),
	    300);
	state_release(&st);	/* checkpoints both WALs into the files */
	err_release(&e);
}

/*
 * A corrupt parse-cache.db (0: a page of its b-tree scribbled, 1: garbage
 * over its header, 2: truncated) is found at the open or at the load:
 * told once naming the file, moved aside, created again empty and written
 * again; the state, a file of its own, is untouched.  A read-only user
 * only says so and leaves the file alone.
 */
START_TEST(test_pcache_corrupt)
{
	struct state		 st;
	struct state_pcache	 row;
	struct state_entry	*en;
	struct pc_seen		 ps;
	struct err		 e;
	struct stat		 sb, sb2;
	unsigned char		 v1[HASH_LEN];
	char			 dir[512], path[512], aside[600];
	sqlite3			*db;
	int64_t			 root = 0, psize = 4096;

	err_init(&e);
	memset(v1, 1, sizeof(v1));
	pc_fill("pcd");
	tpath(dir, sizeof(dir), "pcd");
	tpath(path, sizeof(path), "pcd/" STATE_PCACHE_NAME);
	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	root = sql_int(db, "SELECT rootpage FROM sqlite_schema WHERE "
	    "name = 'parse_cache'");
	psize = sql_int(db, "PRAGMA page_size");
	sqlite3_close(db);
	ck_assert_int_gt(root, 1);
	ck_assert_int_eq(stat(path, &sb), 0);
	if (_i == 0)
		scribble(path, (long)((root - 1) * psize), (size_t)psize);
	else if (_i == 1)
		scribble(path, 0, 4096);
	else
		ck_assert_int_eq(truncate(path, sb.st_size / 3 + 100), 0);
	ck_assert_int_eq(stat(path, &sb), 0);

	/* read-only: not used, said, and not touched */
	state_init(&st);
	ck_assert_msg(state_open(&st, dir, STATE_RDONLY, &e) == 0, "%s",
	    e.msg);
	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(state_pcache_load(&st, v1, pc_collect, &ps, &e), -1);
	ck_assert_msg(strstr(e.msg, STATE_PCACHE_NAME) != NULL, "%s", e.msg);
	state_release(&st);
	ck_assert_int_eq(stat(path, &sb2), 0);
	ck_assert_int_eq(sb2.st_size, sb.st_size);
	ck_assert_int_eq(sb2.st_ino, sb.st_ino);
	ck_assert_int_eq(access(aside, F_OK), -1);
	err_clear(&e);

	/* the primary: the state opens (its whole check passes) */
	state_init(&st);
	ck_assert_msg(state_open(&st, dir, 0, &e) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(en = state_find(&st, "kept"));
	ck_assert_int_eq(en->datestamp, 7);
	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(state_pcache_load(&st, v1, pc_collect, &ps, &e), -1);
	ck_assert_int_eq(e.count, 1);
	ck_assert_msg(strstr(e.msg, path) != NULL &&
	    strstr(e.msg, "corrupt") != NULL &&
	    strstr(e.msg, "moved aside") != NULL, "%s", e.msg);
	ck_assert_int_eq(access(aside, F_OK), 0);
	/* told once */
	err_clear(&e);
	ck_assert_int_eq(state_pcache_warning(&st, &e), 0);
	memset(&ps, 0, sizeof(ps));
	ck_assert_msg(state_pcache_load(&st, v1, pc_collect, &ps, &e) == 0,
	    "%s", e.msg);
	ck_assert_int_eq(ps.n, 0);
	/* written again, with the records' commit */
	en = state_get(&st, "added");
	en->datestamp = 9;
	ck_assert_int_eq(state_touch(&st, en), 0);
	pc_row(&row, 1, 1);
	ck_assert_int_eq(state_pcache_put(&st, "r/1.xml", &row), 0);
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(st.npcq, 0);
	state_release(&st);
	state_init(&st);
	ck_assert_msg(state_open(&st, dir, 0, &e) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(en = state_find(&st, "added"));
	ck_assert_int_eq(en->datestamp, 9);
	memset(&ps, 0, sizeof(ps));
	ck_assert_msg(state_pcache_load(&st, v1, pc_collect, &ps, &e) == 0,
	    "%s", e.msg);
	ck_assert_int_eq(ps.n, 1);
	ck_assert_str_eq(ps.paths[0], "r/1.xml");
	state_release(&st);
	err_release(&e);
}
END_TEST

/* Rows counted on whatever thread state_open_pcache() runs fn on. */
struct pc_count {
	int	 n;
	size_t	 bytes;
};

static void
pc_count(void *arg, const char *path, const struct state_pcache *row)
{
	struct pc_count	*pc = arg;

	(void)path;
	pc->n++;
	pc->bytes += row->image_len;
}

/*
 * state_open_pcache(): the rows load alongside the records and come out as
 * state_pcache_load() gives them (300 rows and their images, the state's
 * "kept"); a corrupt file (0: a b-tree page scribbled, found by the load on
 * the thread; 1: garbage over its header, found at the open) is told once
 * naming it, moved aside and created again empty, the state untouched.
 */
START_TEST(test_pcache_alongside)
{
	struct state		 st;
	struct state_entry	*en;
	struct pc_count		 pc;
	struct err		 e, pe;
	unsigned char		 v1[HASH_LEN];
	char			 dir[512], path[512], aside[600];
	sqlite3			*db;
	int64_t			 root, psize, ms;
	int			 rc;

	err_init(&e);
	err_init(&pe);
	memset(v1, 1, sizeof(v1));
	pc_fill("pca");
	tpath(dir, sizeof(dir), "pca");
	tpath(path, sizeof(path), "pca/" STATE_PCACHE_NAME);
	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	state_init(&st);
	memset(&pc, 0, sizeof(pc));
	ck_assert_msg(state_open_pcache(&st, dir, v1, pc_count, &pc, &e) ==
	    0, "%s", e.msg);
	rc = state_pcache_wait(&st, &ms, &pe);
	ck_assert_msg(rc == 0, "%s", pe.msg);
	ck_assert_int_eq(pc.n, 300);
	ck_assert_uint_eq(pc.bytes, 300 * 1500);
	ck_assert_int_ge(ms, 0);
	ck_assert_ptr_nonnull(en = state_find(&st, "kept"));
	ck_assert_int_eq(en->datestamp, 7);
	ck_assert_ptr_nonnull(st.pcdb);
	state_release(&st);

	/* another validator: no rows, no message */
	memset(v1, 2, sizeof(v1));
	memset(&pc, 0, sizeof(pc));
	ck_assert_msg(state_open_pcache(&st, dir, v1, pc_count, &pc, &e) ==
	    0, "%s", e.msg);
	rc = state_pcache_wait(&st, &ms, &pe);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(pc.n, 0);
	ck_assert_int_eq(pe.count, 0);
	state_release(&st);
	memset(v1, 1, sizeof(v1));

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	root = sql_int(db, "SELECT rootpage FROM sqlite_schema WHERE "
	    "name = 'parse_cache'");
	psize = sql_int(db, "PRAGMA page_size");
	sqlite3_close(db);
	ck_assert_int_gt(root, 1);
	if (_i == 0)
		scribble(path, (long)((root - 1) * psize), (size_t)psize);
	else
		scribble(path, 0, 4096);
	state_init(&st);
	memset(&pc, 0, sizeof(pc));
	ck_assert_msg(state_open_pcache(&st, dir, v1, pc_count, &pc, &e) ==
	    0, "%s", e.msg);
	rc = state_pcache_wait(&st, &ms, &pe);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(pe.count, 1);
	ck_assert_msg(strstr(pe.msg, path) != NULL &&
	    strstr(pe.msg, "corrupt") != NULL &&
	    strstr(pe.msg, "moved aside") != NULL, "%s", pe.msg);
	ck_assert_int_eq(access(aside, F_OK), 0);
	ck_assert_ptr_nonnull(st.pcdb);		/* the new, empty file */
	ck_assert_ptr_nonnull(en = state_find(&st, "kept"));
	ck_assert_int_eq(en->datestamp, 7);
	/* told once */
	err_clear(&pe);
	ck_assert_int_eq(state_pcache_warning(&st, &pe), 0);
	state_release(&st);
	memset(&pc, 0, sizeof(pc));
	ck_assert_msg(state_open_pcache(&st, dir, v1, pc_count, &pc, &e) ==
	    0, "%s", e.msg);
	rc = state_pcache_wait(&st, &ms, &pe);
	ck_assert_msg(rc == 0, "%s", pe.msg);
	ck_assert_int_eq(pc.n, 0);
	state_release(&st);
	err_release(&pe);
	err_release(&e);
}
END_TEST

/* Rows taken only once the test lets them (a byte on gate[0]). */
struct pc_gate {
	int	 gate[2];
	int	 n;
};

static void
pc_gated(void *arg, const char *path, const struct state_pcache *row)
{
	struct pc_gate	*pg = arg;
	char		 c;

	(void)path;
	(void)row;
	if (pg->n++ == 0)
		ck_assert_int_eq(read(pg->gate[0], &c, 1), 1);
}

/*
 * state_open_pcache() returns while the rows still load (their thread
 * blocks on the first row until after it has returned: a join in it would
 * never return), state_pcache_wait() gives them all, a second wait
 * nothing; a state released without a wait joins the thread first.
 */
START_TEST(test_pcache_wait)
{
	struct state	 st;
	struct pc_gate	 pg;
	struct err	 e, pe;
	unsigned char	 v1[HASH_LEN];
	char		 dir[512];
	int64_t		 ms;

	err_init(&e);
	err_init(&pe);
	memset(v1, 1, sizeof(v1));
	pc_fill("pcg");
	tpath(dir, sizeof(dir), "pcg");
	memset(&pg, 0, sizeof(pg));
	ck_assert_int_eq(pipe(pg.gate), 0);
	state_init(&st);
	ck_assert_msg(state_open_pcache(&st, dir, v1, pc_gated, &pg, &e) ==
	    0, "%s", e.msg);
	ck_assert_ptr_nonnull(st.pc_load);
	ck_assert_ptr_nonnull(state_find(&st, "kept"));
	ck_assert_int_eq(write(pg.gate[1], "x", 1), 1);
	ck_assert_msg(state_pcache_wait(&st, &ms, &pe) == 0, "%s", pe.msg);
	ck_assert_int_eq(pg.n, 300);
	ck_assert_ptr_null(st.pc_load);
	ck_assert_int_eq(state_pcache_wait(&st, &ms, &pe), 0);
	ck_assert_int_eq(ms, 0);
	state_release(&st);

	pg.n = 0;
	ck_assert_msg(state_open_pcache(&st, dir, v1, pc_gated, &pg, &e) ==
	    0, "%s", e.msg);
	ck_assert_int_eq(write(pg.gate[1], "x", 1), 1);
	state_release(&st);
	ck_assert_int_eq(pg.n, 300);
	close(pg.gate[0]);
	close(pg.gate[1]);
	err_release(&pe);
	err_release(&e);
}
END_TEST

/*
 * The cache written by a commit and found corrupt then: replaced, and said
 * by state_pcache_warning() once.
 */
START_TEST(test_pcache_corrupt_commit)
{
	struct state		 st;
	struct state_pcache	 row;
	struct pc_seen		 ps;
	struct err		 e;
	unsigned char		 v1[HASH_LEN];
	char			 dir[512], path[512];

	err_init(&e);
	memset(v1, 1, sizeof(v1));
	pc_fill("pcw");
	tpath(dir, sizeof(dir), "pcw");
	tpath(path, sizeof(path), "pcw/" STATE_PCACHE_NAME);
	state_init(&st);
	ck_assert_msg(state_open(&st, dir, 0, &e) == 0, "%s", e.msg);
	/* behind the open connection's back, past the header it read */
	scribble(path, 4096, 8 * 4096);
	sqlite3_exec(st.pcdb, "PRAGMA cache_size = 0", NULL, NULL, NULL);
	pc_row(&row, 3, 1);
	ck_assert_int_eq(state_pcache_put(&st, "r/new.xml", &row), 0);
	ck_assert_int_eq(state_pcache_del(&st, "r/5.xml"), 0);
	state_get(&st, "x")->datestamp = 3;
	touch_all(&st);
	ck_assert_msg(state_commit(&st, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(state_pcache_warning(&st, &e), -1);
	ck_assert_msg(strstr(e.msg, path) != NULL &&
	    strstr(e.msg, "moved aside") != NULL, "%s", e.msg);
	ck_assert_int_eq(state_pcache_warning(&st, &e), 0);
	memset(&ps, 0, sizeof(ps));
	err_clear(&e);
	ck_assert_msg(state_pcache_load(&st, v1, pc_collect, &ps, &e) == 0,
	    "%s", e.msg);
	ck_assert_int_eq(ps.n, 0);
	ck_assert_ptr_nonnull(state_find(&st, "x"));
	state_release(&st);
	err_release(&e);
}
END_TEST

/*
 * The state's quick_check at open covers every table again: a damaged
 * page of a table named parse_cache in pubfeed.db (what d5cd755 left out
 * of the check) stops the start like any other.
 */
START_TEST(test_check_whole_state)
{
	struct state	 st;
	struct err	 e;
	sqlite3		*db;
	char		 dir[512], path[512];
	int64_t		 root, psize;

	err_init(&e);
	open_primary(&st, "wc");
	ck_assert_int_eq(sqlite3_exec(st.db, "CREATE TABLE parse_cache (k "
	    "INTEGER PRIMARY KEY, v BLOB);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 300) INSERT INTO parse_cache SELECT i, "
	    "randomblob(1500) FROM n;", NULL, NULL, NULL), SQLITE_OK);
	state_release(&st);
	tpath(dir, sizeof(dir), "wc");
	tpath(path, sizeof(path), "wc/" STATE_DB_NAME);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	root = sql_int(db, "SELECT rootpage FROM sqlite_schema WHERE "
	    "name = 'parse_cache'");
	psize = sql_int(db, "PRAGMA page_size");
	sqlite3_close(db);
	scribble(path, (long)((root - 1) * psize), (size_t)psize);
	state_init(&st);
	ck_assert_int_eq(state_open(&st, dir, 0, &e), -1);
	ck_assert_msg(strstr(e.msg, "refusing to start") != NULL, "%s",
	    e.msg);
	state_release(&st);
	err_release(&e);
}
END_TEST

/*
 * A version-3 state (the parse cache with images in it): the primary drops
 * the table in the step to version 4 and gives its pages back; the records
 * stay; parse-cache.db starts empty.  A reader of the old one has no cache.
 */
START_TEST(test_pcache_schema_v3)
{
	struct state		 st;
	struct err		 e;
	unsigned char		 v1[HASH_LEN];
	char			 dir[512], path[600];
	struct stat		 sb0, sb1;

	err_init(&e);
	memset(v1, 1, sizeof(v1));
	old_state(dir, sizeof(dir), path, sizeof(path),
	    "PRAGMA journal_mode = WAL;" OLD_TABLES
	    "CREATE TABLE parse_cache (path TEXT PRIMARY KEY NOT NULL,"
	    " dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT"
	    " NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
	    " hash BLOB NOT NULL, validator BLOB NOT NULL, image BLOB);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 500) INSERT INTO parse_cache SELECT 'r/' || i || "
	    "'.xml', 1, i, 3, 4, 5, zeroblob(32), x'01010101010101010101010101"
	    "01010101010101010101010101010101010101', randomblob(1700) FROM n;"
	    "INSERT INTO records VALUES ('old', '" HASH_A "', 1600000000, 0,"
	    " 'a b');"
	    "PRAGMA user_version = 3;");
	ck_assert_int_eq(stat(path, &sb0), 0);
	/* a reader of the old state: no parse-cache.db, no cache, no error */
	reader_sees_no_cache(dir, v1);
	open_primary(&st, "st");
	ck_assert_int_eq(sql_int(st.db, "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_int_eq(sql_int(st.db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'parse_cache'"), 0);
	ck_assert_int_eq(sql_int(st.db, "PRAGMA freelist_count"), 0);
	ck_assert_ptr_nonnull(state_find(&st, "old"));
	ck_assert_uint_eq(state_find(&st, "old")->nsets, 2);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache"),
	    0);
	state_release(&st);
	ck_assert_int_eq(stat(path, &sb1), 0);
	ck_assert_int_lt(sb1.st_size, sb0.st_size / 4);
	err_release(&e);
}
END_TEST

/* A version-2 parse cache (no image column) is dropped, the rest kept. */
START_TEST(test_pcache_schema_v2)
{
	struct state		 st;
	struct err		 e;
	unsigned char		 v1[HASH_LEN];
	char			 dir[512], path[600];

	err_init(&e);
	memset(v1, 1, sizeof(v1));
	old_state(dir, sizeof(dir), path, sizeof(path), OLD_TABLES
	    "CREATE TABLE parse_cache (path TEXT PRIMARY KEY NOT NULL,"
	    " dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT"
	    " NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
	    " hash BLOB NOT NULL, validator BLOB NOT NULL) WITHOUT ROWID;"
	    "INSERT INTO parse_cache VALUES ('r/a.xml', 1, 2, 3, 4, 5,"
	    " zeroblob(32), x'0101010101010101010101010101010101010101010101"
	    "010101010101010101');"
	    "INSERT INTO records VALUES ('old', '" HASH_A "', 1600000000, 0,"
	    " '');"
	    "PRAGMA user_version = 2;");
	/* a reader of the old table: an empty cache, no error */
	reader_sees_no_cache(dir, v1);
	/* the primary upgrades: the table goes, the cache's file is new */
	open_primary(&st, "st");
	ck_assert_int_eq(sql_int(st.db, "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_ptr_nonnull(state_find(&st, "old"));
	ck_assert_int_eq(sql_int(st.db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'parse_cache'"), 0);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM parse_cache"),
	    0);
	ck_assert_int_eq(sql_int(st.pcdb, "SELECT count(*) FROM "
	    "pragma_table_info('parse_cache') WHERE name = 'image'"), 1);
	state_release(&st);
	err_release(&e);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_commit_changed_only);
	tcase_add_test(tc, test_commit_failure);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_stale_tmp);
	tcase_add_test(tc, test_migrate);
	tcase_add_loop_test(tc, test_migrate_refuses, 0,
	    (int)(sizeof(bad_old) / sizeof(bad_old[0])));
	tcase_add_loop_test(tc, test_migrate_percent, 0,
	    (int)(sizeof(pct_old) / sizeof(pct_old[0])));
	tcase_add_test(tc, test_many_entries);
	tcase_add_test(tc, test_token_key_file);
	tcase_add_test(tc, test_token_key_configured);
	tcase_add_test(tc, test_set_sets);
	tcase_add_test(tc, test_pcache);
	tcase_add_test(tc, test_pcache_schema_v1);
	tcase_add_test(tc, test_pcache_schema_v2);
	tcase_add_test(tc, test_pcache_image);
	tcase_add_test(tc, test_commit_key_order);
	tcase_add_test(tc, test_since);
	tcase_add_loop_test(tc, test_pcache_corrupt, 0, 3);
	tcase_add_test(tc, test_pcache_corrupt_commit);
	tcase_add_loop_test(tc, test_pcache_alongside, 0, 2);
	tcase_add_test(tc, test_pcache_wait);
	tcase_add_test(tc, test_check_whole_state);
	tcase_add_test(tc, test_pcache_schema_v3);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(state_suite());
}
