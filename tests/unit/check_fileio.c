/*
 * check_fileio: the atomic write (replace, mode, no temporary left, a full
 * disk, no permission, a crash in the middle leaves the old file), its
 * options (exact mode, mtime), the capped read and mkdir -p.  Every test works in its own temporary
 * directory under $TMPDIR (or /tmp) and removes it.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "testlib.h"
#include "banned.h"

static char	 tmpdir[256];
static int	 mounted;

static void
setup(void)
{
	tl_mkdtemp(tmpdir, sizeof(tmpdir), "check_fileio");
	mounted = 0;
}

static void
teardown(void)
{
	char	 p[512];

	if (mounted) {
		snprintf(p, sizeof(p), "%s/small", tmpdir);
		umount2(p, MNT_DETACH);
	}
	tl_rm_rf(tmpdir);
}

static void
tpath(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

/* Names in dir, sorted, space-separated. */
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
		if (strcmp(v[i]->d_name, ".") != 0 &&
		    strcmp(v[i]->d_name, "..") != 0)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			    used ? " " : "", v[i]->d_name);
		free(v[i]);
	}
	free(v);
}

/* The whole of path, which must hold exactly want. */
static void
assert_holds(const char *path, const char *want)
{
	struct err	 e;
	char		*data;
	size_t		 len;

	err_init(&e);
	ck_assert_msg(fileio_read_file(path, 1 << 24, &data, &len, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_msg(memcmp(data, want, len) == 0, "%s holds another text",
	    path);
	ck_assert_int_eq(data[len], '\0');
	free(data);
	err_release(&e);
}

START_TEST(test_roundtrip)
{
	struct stat	 sb;
	struct err	 e;
	char		 p[512], list[512];

	err_init(&e);
	tpath(p, sizeof(p), "a/b/c");
	ck_assert_int_eq(fileio_mkdirs(p, &e), 0);
	ck_assert_int_eq(fileio_mkdirs(p, &e), 0);	/* exists: fine */
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	tpath(p, sizeof(p), "a/b/c/f");
	ck_assert_int_eq(fileio_write_file(p, "one", 3, 0600, &e), 0);
	ck_assert_int_eq(fileio_write_file(p, "second", 6, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	assert_holds(p, "second");
	ck_assert_int_eq(fileio_write_file(p, "", 0, 0600, &e), 0);
	assert_holds(p, "");
	tpath(p, sizeof(p), "a/b/c");
	dir_list(p, list, sizeof(list));
	ck_assert_str_eq(list, "f");	/* no temporary file left */
	ck_assert_int_eq(e.count, 0);
	err_release(&e);
}
END_TEST

/* Options: the mode exactly despite the umask, the mtime given. */
START_TEST(test_write_opts)
{
	struct fileio_wopts	 o = { 0644, 0, 1500000000 };
	struct stat		 sb;
	struct err		 e;
	char			 p[512], list[512];

	err_init(&e);
	umask(077);
	tpath(p, sizeof(p), "plain");
	ck_assert_int_eq(fileio_write(p, "x", 1, &o, &e), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);	/* umask applied */
	ck_assert_int_ne(sb.st_mtime, 1500000000);
	tpath(p, sizeof(p), "exact");
	o.flags = FILEIO_EXACT_MODE | FILEIO_MTIME | FILEIO_NOSYNC;
	ck_assert_int_eq(fileio_write(p, "y", 1, &o, &e), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0644);
	ck_assert_int_eq(sb.st_mtime, 1500000000);
	assert_holds(p, "y");
	dir_list(tmpdir, list, sizeof(list));
	ck_assert_str_eq(list, "exact plain");
	ck_assert_int_eq(e.count, 0);
	err_release(&e);
}
END_TEST

START_TEST(test_read_cap)
{
	struct err	 e;
	char		 p[512], *data = NULL;
	size_t		 len = 7;

	err_init(&e);
	tpath(p, sizeof(p), "f");
	ck_assert_int_eq(fileio_write_file(p, "12345", 5, 0644, &e), 0);
	ck_assert_int_eq(fileio_read_file(p, 5, &data, &len, &e), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(data, "12345");
	free(data);
	data = NULL;
	len = 7;
	/* one byte over the cap: an error naming the file, *out untouched */
	ck_assert_int_eq(fileio_read_file(p, 4, &data, &len, &e), -1);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(e.count, 1);
	ck_assert_ptr_nonnull(strstr(e.msg, "/f: File too large"));
	err_clear(&e);
	tpath(p, sizeof(p), "missing");
	ck_assert_int_eq(fileio_read_file(p, 5, &data, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "/missing: No such file"));
	err_release(&e);
}
END_TEST

START_TEST(test_mkdirs_errors)
{
	struct err	 e;
	char		 p[512];

	err_init(&e);
	ck_assert_int_eq(fileio_mkdirs("", &e), -1);
	ck_assert_str_eq(e.msg, "bad directory ''");
	err_clear(&e);
	tpath(p, sizeof(p), "file");
	ck_assert_int_eq(fileio_write_file(p, "x", 1, 0644, &e), 0);
	tpath(p, sizeof(p), "file/sub/dir");
	ck_assert_int_eq(fileio_mkdirs(p, &e), -1);
	/* the component that failed, not the whole path */
	ck_assert_msg(strstr(e.msg, "/file/sub: Not a directory") != NULL,
	    "%s", e.msg);
	err_release(&e);
}
END_TEST

/*
 * Permission: as root (CI, the containers) the effective uid drops to
 * nobody around the calls, so EACCES is real, not simulated.
 */
START_TEST(test_eacces)
{
	struct err	 e;
	char		 p[512], *data = NULL;
	size_t		 len;

	err_init(&e);
	tpath(p, sizeof(p), "ro");
	ck_assert_int_eq(fileio_mkdirs(p, &e), 0);
	tpath(p, sizeof(p), "ro/f");
	ck_assert_int_eq(fileio_write_file(p, "old", 3, 0600, &e), 0);
	tpath(p, sizeof(p), "ro");
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	ck_assert_int_eq(chmod(p, 0555), 0);
	if (getuid() == 0)
		ck_assert_int_eq(seteuid(65534), 0);
	tpath(p, sizeof(p), "ro/f");
	ck_assert_int_eq(fileio_write_file(p, "new", 3, 0600, &e), -1);
	ck_assert_msg(strstr(e.msg, "ro/.f.tmp.") != NULL &&
	    strstr(e.msg, ": Permission denied") != NULL, "%s", e.msg);
	ck_assert_int_eq(fileio_read_file(p, 100, &data, &len, &e), -1);
	ck_assert_ptr_null(data);
	ck_assert_int_eq(e.count, 2);
	ck_assert_msg(strstr(e.all, "ro/f: Permission denied\n") != NULL,
	    "%s", e.all);
	tpath(p, sizeof(p), "ro/sub");
	ck_assert_int_eq(fileio_mkdirs(p, &e), -1);
	ck_assert_int_eq(e.count, 3);
	if (getuid() == 0)
		ck_assert_int_eq(seteuid(0), 0);
	tpath(p, sizeof(p), "ro/f");
	assert_holds(p, "old");
	tpath(p, sizeof(p), "ro");
	ck_assert_int_eq(chmod(p, 0755), 0);
	err_release(&e);
}
END_TEST

/*
 * A full disk: a 64 KiB tmpfs (root only; elsewhere the test says SKIP and
 * passes).  The write fails naming the temporary file, which is removed;
 * the old file is untouched.
 */
START_TEST(test_enospc)
{
	struct err	 e;
	char		 p[512], list[512], *big;
	size_t		 n = 1 << 20;

	err_init(&e);
	tpath(p, sizeof(p), "small");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	if (getuid() != 0 || mount("tmpfs", p, "tmpfs", 0, "size=64k") == -1) {
		printf("SKIP: check_fileio: ENOSPC needs a tmpfs mount: %s\n",
		    getuid() != 0 ? "not root" : strerror(errno));
		err_release(&e);
		return;
	}
	mounted = 1;
	tpath(p, sizeof(p), "small/f");
	ck_assert_int_eq(fileio_write_file(p, "old", 3, 0644, &e), 0);
	ck_assert_ptr_nonnull(big = malloc(n));
	memset(big, 'n', n);
	ck_assert_int_eq(fileio_write_file(p, big, n, 0644, &e), -1);
	free(big);
	ck_assert_msg(strstr(e.msg, "small/.f.tmp.") != NULL &&
	    strstr(e.msg, "No space left on device") != NULL, "%s", e.msg);
	assert_holds(p, "old");
	tpath(p, sizeof(p), "small");
	dir_list(p, list, sizeof(list));
	ck_assert_str_eq(list, "f");
	ck_assert_int_eq(umount(p), 0);
	mounted = 0;
	err_release(&e);
}
END_TEST

/*
 * A crash in the middle of the write: a child whose file size limit is 4
 * KiB is killed by SIGXFSZ while it writes 64 KiB.  The file still holds
 * the old text; only the temporary file is left (state_open() removes such
 * leftovers).  The same child without the limit leaves the new text.
 */
START_TEST(test_crash_leaves_old_or_new)
{
	struct rlimit	 rl = { 4096, 4096 };
	struct err	 e;
	char		 p[512], list[512], want[64], *big;
	size_t		 n = 64 * 1024;
	pid_t		 pid;
	int		 status, round;

	err_init(&e);
	tpath(p, sizeof(p), "f");
	ck_assert_int_eq(fileio_write_file(p, "old", 3, 0644, &e), 0);
	ck_assert_ptr_nonnull(big = malloc(n + 1));
	memset(big, 'n', n);
	big[n] = '\0';
	for (round = 0; round < 2; round++) {
		if ((pid = fork()) == 0) {
			if (round == 0)
				setrlimit(RLIMIT_FSIZE, &rl);
			_exit(fileio_write_file(p, big, n, 0644, &e) == 0 ?
			    0 : 1);
		}
		ck_assert_int_ne(pid, -1);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		dir_list(tmpdir, list, sizeof(list));
		if (round == 0) {
			ck_assert(WIFSIGNALED(status));
			ck_assert_int_eq(WTERMSIG(status), SIGXFSZ);
			assert_holds(p, "old");
			snprintf(want, sizeof(want), ".f.tmp.%ld f", (long)pid);
			ck_assert_str_eq(list, want);
		} else {
			ck_assert(WIFEXITED(status));
			ck_assert_int_eq(WEXITSTATUS(status), 0);
			assert_holds(p, big);
		}
	}
	free(big);
	err_release(&e);
}
END_TEST

/* A write error (EFBIG once SIGXFSZ is ignored) removes the temporary. */
START_TEST(test_write_error_cleans_up)
{
	struct rlimit	 rl = { 4096, 4096 };
	struct err	 e;
	char		 p[512], list[512], *big;
	size_t		 n = 64 * 1024;

	err_init(&e);
	tpath(p, sizeof(p), "f");
	ck_assert_int_eq(fileio_write_file(p, "old", 3, 0644, &e), 0);
	ck_assert_ptr_nonnull(big = calloc(1, n));
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(fileio_write_file(p, big, n, 0644, &e), -1);
	free(big);
	ck_assert_msg(strstr(e.msg, "/.f.tmp.") != NULL &&
	    strstr(e.msg, "File too large") != NULL, "%s", e.msg);
	assert_holds(p, "old");
	dir_list(tmpdir, list, sizeof(list));
	ck_assert_str_eq(list, "f");
	err_release(&e);
}
END_TEST

static Suite *
fileio_suite(void)
{
	Suite	*s = suite_create("fileio");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_write_opts);
	tcase_add_test(tc, test_read_cap);
	tcase_add_test(tc, test_mkdirs_errors);
	tcase_add_test(tc, test_eacces);
	tcase_add_test(tc, test_enospc);
	tcase_add_test(tc, test_crash_leaves_old_or_new);
	tcase_add_test(tc, test_write_error_cleans_up);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(fileio_suite());
}
