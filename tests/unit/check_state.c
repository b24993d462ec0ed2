/*
 * check_state: the persistent state table (parse, save, atomic writes) and
 * the resumption-token key.  Every test works in its own temporary
 * directory under $TMPDIR (or /tmp) and removes it.
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

#include "err.h"
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

START_TEST(test_round_trip)
{
	struct state		 st, in;
	struct state_entry	*en;
	struct err		 e;
	char			 p[512], *a, *b;
	size_t			 alen, blen;
	unsigned char		 h[HASH_LEN];

	err_init(&e);
	state_init(&st);
	fill(&st);
	ck_assert_int_eq(st.dirty, 1);
	tpath(p, sizeof(p), "records.state");
	ck_assert_int_eq(state_save(&st, p, &e), 0);
	ck_assert_int_eq(st.dirty, 0);

	state_init(&in);
	ck_assert_msg(state_load(&in, p, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(in.n, 3);
	ck_assert_int_eq(in.dirty, 0);
	en = state_find(&in, "rec-a");
	ck_assert_ptr_nonnull(en);
	memset(h, 0xa5, HASH_LEN);
	ck_assert_mem_eq(en->hash, h, HASH_LEN);
	ck_assert_int_eq(en->datestamp, 1700000000);
	ck_assert_int_eq(en->is_deleted, 0);
	ck_assert_uint_eq(en->nsets, 2);
	ck_assert_str_eq(en->sets[0], "topic:smuggling");
	ck_assert_str_eq(en->sets[1], "region");
	ck_assert_ptr_null(en->sets[2]);
	en = state_find(&in, "rec-b");
	ck_assert_ptr_nonnull(en);
	ck_assert_int_eq(en->is_deleted, 1);
	ck_assert_int_eq(en->datestamp, 1600000000);
	ck_assert_uint_eq(en->nsets, 0);
	en = state_find(&in, "rec-c");
	ck_assert_int_eq(en->is_deleted, 1);
	ck_assert_int_eq(en->datestamp, 1);
	ck_assert_str_eq(en->sets[0], "type:events");
	ck_assert_ptr_null(state_find(&in, "rec-d"));

	/* Saving what was loaded gives the same bytes. */
	ck_assert_int_eq(state_read_file(p, 1 << 20, &a, &alen, &e), 0);
	ck_assert_int_eq(state_save(&in, p, &e), 0);
	ck_assert_int_eq(state_read_file(p, 1 << 20, &b, &blen, &e), 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(a, b, alen);
	ck_assert_int_eq(strncmp(a, MAGIC, strlen(MAGIC)), 0);
	ck_assert_ptr_nonnull(strstr(a, "rec-b\t0101"));
	ck_assert_ptr_nonnull(strstr(a, "\t1600000000\tdeleted\t\n"));
	ck_assert_ptr_nonnull(strstr(a,
	    "\t1700000000\tlive\ttopic:smuggling region\n"));
	free(a);
	free(b);
	state_release(&st);
	state_release(&in);
	ck_assert_int_eq(e.count, 0);
	err_release(&e);
}
END_TEST

START_TEST(test_atomic_save)
{
	struct state	 st;
	struct stat	 before, after;
	mode_t		 mask;
	struct err	 e;
	char		 p[512], list[512], *data;
	size_t		 len;

	err_init(&e);
	state_init(&st);
	tpath(p, sizeof(p), "records.state");
	tl_write_file(p, MAGIC);
	ck_assert_int_eq(stat(p, &before), 0);
	fill(&st);
	ck_assert_int_eq(state_save(&st, p, &e), 0);
	ck_assert_int_eq(stat(p, &after), 0);
	/* a new file renamed over the old one, not rewritten in place */
	ck_assert_uint_ne(before.st_ino, after.st_ino);
	mask = umask(0);
	umask(mask);
	ck_assert_int_eq(after.st_mode & 0777, 0644 & ~mask);
	dir_list(tmpdir, list, sizeof(list));
	ck_assert_str_eq(list, "records.state");
	ck_assert_int_eq(state_read_file(p, 1 << 20, &data, &len, &e), 0);
	ck_assert_ptr_nonnull(strstr(data, "rec-c"));
	free(data);

	/* A directory that cannot take the file: error, old file intact. */
	tpath(p, sizeof(p), "nodir/records.state");
	ck_assert_int_eq(state_save(&st, p, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "nodir/records.state.tmp."));
	dir_list(tmpdir, list, sizeof(list));
	ck_assert_str_eq(list, "records.state");
	state_release(&st);
	err_release(&e);
}
END_TEST

START_TEST(test_write_file)
{
	struct stat	 sb;
	struct err	 e;
	char		 p[512], list[512], *data;
	size_t		 len;

	err_init(&e);
	tpath(p, sizeof(p), "a/b/c");
	ck_assert_int_eq(state_mkdirs(p, &e), 0);
	ck_assert_int_eq(state_mkdirs(p, &e), 0);	/* exists: fine */
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	tpath(p, sizeof(p), "a/b/c/f");
	ck_assert_int_eq(state_write_file(p, "one", 3, 0600, &e), 0);
	ck_assert_int_eq(state_write_file(p, "second", 6, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(state_read_file(p, 100, &data, &len, &e), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(data, "second");
	free(data);
	tpath(p, sizeof(p), "a/b/c");
	dir_list(p, list, sizeof(list));
	ck_assert_str_eq(list, "f");

	/* cap: a file larger than the cap is an error naming the file */
	tpath(p, sizeof(p), "a/b/c/f");
	ck_assert_int_eq(state_read_file(p, 5, &data, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "a/b/c/f: "));
	ck_assert_int_eq(e.count, 1);
	tpath(p, sizeof(p), "missing");
	ck_assert_int_eq(state_read_file(p, 5, &data, &len, &e), -1);
	ck_assert_int_eq(e.count, 2);
	err_release(&e);
}
END_TEST

START_TEST(test_bad_lines)
{
	static const char text[] =
	    MAGIC						/* 1 */
	    "good1\t" HASH_A "\t100\tlive\ta:b\n"		/* 2 */
	    "short\t" HASH_A "\t100\tlive\n"			/* 3 */
	    "badhash\t00zz\t100\tlive\t\n"			/* 4 */
	    "# a comment\n"					/* 5 */
	    "\n"						/* 6 */
	    "baddate\t" HASH_A "\t12x\tlive\t\n"		/* 7 */
	    "badstatus\t" HASH_A "\t100\tgone\t\n"		/* 8 */
	    "good1\t" HASH_A "\t200\tlive\t\n"			/* 9 */
	    "\t" HASH_A "\t100\tlive\t\n"			/* 10 */
	    "neg\t" HASH_A "\t-5\tdeleted\t\n"			/* 11 */
	    "good2\t" HASH_A "\t300\tdeleted\tx y z";		/* 12 */
	struct state		 st;
	struct state_entry	*en;
	struct err		 e;

	err_init(&e);
	state_init(&st);
	ck_assert_int_eq(state_parse_mem(&st, text, strlen(text), "s.state",
	    &e), -1);
	ck_assert_int_eq(e.count, 7);
	ck_assert_str_eq(e.msg, "s.state:3: expected 5 fields");
	ck_assert_str_eq(e.all,
	    "s.state:3: expected 5 fields\n"
	    "s.state:4: bad hash\n"
	    "s.state:7: bad datestamp '12x'\n"
	    "s.state:8: bad status 'gone'\n"
	    "s.state:9: empty or repeated id 'good1'\n"
	    "s.state:10: empty or repeated id ''\n"
	    "s.state:11: bad datestamp '-5'\n");
	/* the good lines were still read; the repeat did not overwrite */
	ck_assert_uint_eq(st.n, 2);
	en = state_find(&st, "good1");
	ck_assert_int_eq(en->datestamp, 100);
	ck_assert_str_eq(en->sets[0], "a:b");
	en = state_find(&st, "good2");
	ck_assert_ptr_nonnull(en);
	ck_assert_int_eq(en->is_deleted, 1);
	ck_assert_uint_eq(en->nsets, 3);
	ck_assert_str_eq(en->sets[2], "z");
	state_release(&st);
	err_release(&e);
}
END_TEST

START_TEST(test_bad_file)
{
	static const char nul[] = MAGIC "a\0b";
	struct state	 st;
	struct err	 e;
	char		 p[512];

	err_init(&e);
	state_init(&st);
	ck_assert_int_eq(state_parse_mem(&st, "hello\n", 6, "x", &e), -1);
	ck_assert_str_eq(e.msg, "x:1: not a pubfeed state file");
	ck_assert_int_eq(state_parse_mem(&st, nul, sizeof(nul) - 1, "x", &e),
	    -1);
	ck_assert_int_eq(e.count, 2);
	ck_assert_uint_eq(st.n, 0);
	/* empty input and a bare header are empty states */
	ck_assert_int_eq(state_parse_mem(&st, "", 0, "x", &e), 0);
	ck_assert_int_eq(state_parse_mem(&st, MAGIC, strlen(MAGIC), "x", &e),
	    0);
	ck_assert_uint_eq(st.n, 0);

	/* state_load reports the real path and line */
	tpath(p, sizeof(p), "records.state");
	tl_write_file(p, MAGIC "id\tnothex\t1\tlive\t\n");
	err_clear(&e);
	ck_assert_int_eq(state_load(&st, p, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "/records.state:2: bad hash"));
	state_release(&st);
	err_release(&e);
}
END_TEST

START_TEST(test_missing_file)
{
	struct state	 st;
	struct err	 e;
	char		 p[512];

	err_init(&e);
	state_init(&st);
	tpath(p, sizeof(p), "records.state");
	ck_assert_int_eq(state_load(&st, p, &e), 0);
	ck_assert_uint_eq(st.n, 0);
	ck_assert_ptr_null(state_find(&st, "x"));
	ck_assert_int_eq(e.count, 0);
	ck_assert_int_eq(access(p, F_OK), -1);
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
	ck_assert_int_eq(state_read_file(p, 4096, &data, &len, &e), 0);
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
	ck_assert_int_eq(state_read_file(p, 4096, &data, &len, &e), 0);
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

static Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_atomic_save);
	tcase_add_test(tc, test_write_file);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_bad_file);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_many_entries);
	tcase_add_test(tc, test_token_key_file);
	tcase_add_test(tc, test_token_key_configured);
	tcase_add_test(tc, test_set_sets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(state_suite());
}
