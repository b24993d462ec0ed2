/*
 * state_migrate.c: the one-time import of the text state pubfeed < 0.2
 * wrote — STATE_DIR/records.state ("id TAB hash TAB datestamp TAB
 * live|deleted TAB sets" lines under "# pubfeed state 1"), STATE_DIR/outbox
 * and STATE_DIR/notify.status (space-separated, percent-encoded fields under
 * their magic lines).  These readers exist for that import only.
 *
 * The import is all or nothing: one transaction, and a file that is empty,
 * truncated (the writer always ended with a newline) or has a bad line is
 * refused, because starting without part of the table would silently turn
 * tombstones harvesters saw into "idDoesNotExist".  The files are renamed to
 * *.bak only after the commit; a crash in between finds meta "migrated" set
 * and just renames them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"
#include "state.h"
#include "syntax.h"
#include "banned.h"

#define RECORDS_MAGIC	"# pubfeed state 1"
#define OUTBOX_MAGIC	"# pubfeed outbox 1"
#define STATUS_MAGIC	"# pubfeed notify status 1"
#define MIGRATE_MAX	(512UL * 1024 * 1024)
#define MAX_FIELDS	9
#define MAX_ATTEMPTS	1000

static const char *const old_files[] = { "records.state", "outbox",
    "notify.status" };
static const char *const kinds[] = { "websub-hub", "xmlrpc-ping",
    "ping-get", "ping-post" };

struct mig {
	sqlite3		*db;
	sqlite3_stmt	*q;
	const char	*path;
	struct err	*e;
};

/* Decode a percent-encoded field in place; "-" is "".  -1 when bad. */
static int
field_get(char *s)
{
	char	*w = s;
	int	 c;

	if (*s == '\0')
		return -1;
	if (strcmp(s, "-") == 0) {
		*s = '\0';
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if ((c = syntax_hex2(s + 1)) == -1 || c == 0)
			return -1;
		*w++ = (char)c;
		s += 2;
	}
	*w = '\0';
	return 0;
}

static int
num_get(const char *s, unsigned long long max, int64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (int64_t)(v > INT64_MAX ? INT64_MAX : v);
	return 0;
}

static int
step(struct mig *m, int lineno)
{
	int	 rc = sqlite3_step(m->q);

	sqlite3_reset(m->q);
	sqlite3_clear_bindings(m->q);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY && lineno > 0)
		return err_at(m->e, m->path, lineno, 0, "repeated entry");
	if (rc != SQLITE_DONE)
		return err_set(m->e, "%s: %s", m->path, sqlite3_errmsg(m->db));
	return 0;
}

static int
records_line(struct mig *m, char *line, int lineno)
{
	char		*f[5], *p = line, *tok, *save;
	struct buf	 sets;
	int64_t		 ds;
	size_t		 n = 0, i;
	int		 rc;

	while (n < 5) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 5 || p != NULL)
		return err_at(m->e, m->path, lineno, 0, "expected 5 fields");
	if (*f[0] == '\0')
		return err_at(m->e, m->path, lineno, 0, "empty id");
	if (strlen(f[1]) != 2 * HASH_LEN)
		return err_at(m->e, m->path, lineno, 0, "bad hash");
	for (i = 0; f[1][i] != '\0'; i++) {
		if (syntax_hexval((unsigned char)f[1][i]) == -1)
			return err_at(m->e, m->path, lineno, 0, "bad hash");
		if (f[1][i] >= 'A' && f[1][i] <= 'F')
			f[1][i] = (char)(f[1][i] - 'A' + 'a');
	}
	if (num_get(f[2], INT64_MAX, &ds) == -1)
		return err_at(m->e, m->path, lineno, 0, "bad datestamp '%s'",
		    f[2]);
	if (strcmp(f[3], "live") != 0 && strcmp(f[3], "deleted") != 0)
		return err_at(m->e, m->path, lineno, 0, "bad status '%s'",
		    f[3]);
	buf_init(&sets, 1024 * 1024);
	for (tok = strtok_r(f[4], " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		if (buf_printf(&sets, "%s%s", sets.len ? " " : "", tok) == -1) {
			buf_release(&sets);
			return err_set(m->e, "out of memory");
		}
	if (buf_addch(&sets, '\0') == -1) {
		buf_release(&sets);
		return err_set(m->e, "out of memory");
	}
	sqlite3_bind_text(m->q, 1, f[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(m->q, 2, f[1], -1, SQLITE_STATIC);
	sqlite3_bind_int64(m->q, 3, ds);
	sqlite3_bind_int(m->q, 4, f[3][0] == 'd');
	sqlite3_bind_text(m->q, 5, sets.data, -1, SQLITE_STATIC);
	rc = step(m, lineno);
	buf_release(&sets);
	return rc;
}

/* Outbox and status lines: "KIND URL BODY ..." */
static int
target_get(struct mig *m, char **f, int lineno)
{
	size_t	 i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(f[0], kinds[i]) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return err_at(m->e, m->path, lineno, 0,
		    "unknown target kind '%s'", f[0]);
	if (field_get(f[1]) == -1 || *f[1] == '\0' || field_get(f[2]) == -1)
		return err_at(m->e, m->path, lineno, 0,
		    "bad target URL or body");
	sqlite3_bind_text(m->q, 1, f[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(m->q, 2, f[1], -1, SQLITE_STATIC);
	sqlite3_bind_text(m->q, 3, f[2], -1, SQLITE_STATIC);
	return 0;
}

static int
outbox_line(struct mig *m, char **f, int nf, int lineno)
{
	int64_t	 attempts, nb;

	if (nf != 6)
		return err_at(m->e, m->path, lineno, 0,
		    "expected 6 fields, not %d", nf);
	if (target_get(m, f, lineno) == -1)
		return -1;
	if (field_get(f[3]) == -1 || *f[3] == '\0')
		return err_at(m->e, m->path, lineno, 0, "bad topic");
	if (num_get(f[4], MAX_ATTEMPTS, &attempts) == -1 ||
	    num_get(f[5], INT64_MAX, &nb) == -1)
		return err_at(m->e, m->path, lineno, 0,
		    "bad attempt count or time");
	sqlite3_bind_text(m->q, 4, f[3], -1, SQLITE_STATIC);
	sqlite3_bind_int64(m->q, 5, attempts);
	sqlite3_bind_int64(m->q, 6, nb);
	return step(m, 0);	/* a repeat was coalesced: OR IGNORE */
}

static int
status_line(struct mig *m, char **f, int nf, int lineno)
{
	int64_t	 n[5];
	int	 i;

	if (nf != 9)
		return err_at(m->e, m->path, lineno, 0,
		    "expected 9 fields, not %d", nf);
	if (target_get(m, f, lineno) == -1)
		return -1;
	for (i = 0; i < 5; i++)
		if (num_get(f[3 + i], i < 3 ? UINT64_MAX : INT64_MAX,
		    &n[i]) == -1)
			return err_at(m->e, m->path, lineno, 0,
			    "bad number '%s'", f[3 + i]);
	if (field_get(f[8]) == -1)
		return err_at(m->e, m->path, lineno, 0, "bad reason");
	for (i = 0; i < 5; i++)
		sqlite3_bind_int64(m->q, 4 + i, n[i]);
	if (*f[8] != '\0')
		sqlite3_bind_text(m->q, 9, f[8], -1, SQLITE_STATIC);
	return step(m, 0);
}

int
state_migrate_mem(sqlite3 *db, int which, const char *buf, size_t len,
    const char *path, struct err *e)
{
	static const char *const sql[] = {
	    "INSERT INTO records (id, hash, datestamp, is_deleted, sets) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	    "INSERT OR IGNORE INTO outbox (kind, url, body, topic, attempts, "
	    "not_before) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    "INSERT OR REPLACE INTO target_status (kind, url, body, sent, "
	    "failed, dropped, last_ok, last_fail, reason) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	};
	static const char *const magic[] = { RECORDS_MAGIC, OUTBOX_MAGIC,
	    STATUS_MAGIC };
	struct mig	 m;
	char		*copy = NULL, *line, *next, *f[MAX_FIELDS + 1], *sp;
	int		 k, lineno = 0, nf, rc = -1, bad = 0;

	k = which == 'r' ? 0 : which == 'o' ? 1 : 2;
	m.db = db;
	m.path = path;
	m.e = e;
	m.q = NULL;
	if (len == 0)
		return err_at(e, path, 0, 0, "empty file (truncated by a "
		    "crash?); refusing to import it: restore it from a "
		    "backup, or remove it to start without it");
	if (memchr(buf, '\0', len) != NULL)
		return err_at(e, path, 0, 0, "file contains a NUL byte");
	if (buf[len - 1] != '\n')
		return err_at(e, path, 0, 0, "last line is not terminated "
		    "(truncated by a crash?); refusing to import it: restore "
		    "it from a backup, or remove it to start without it");
	if (sqlite3_prepare_v2(db, sql[k], -1, &m.q, NULL) != SQLITE_OK)
		return err_set(e, "%s: %s", path, sqlite3_errmsg(db));
	if ((copy = malloc(len + 1)) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (lineno == 1) {
			if (strcmp(line, magic[k]) != 0) {
				err_at(e, path, 1, 0, "not a pubfeed file of "
				    "this kind (expected '%s')", magic[k]);
				goto out;
			}
			continue;
		}
		if (*line == '\0' || *line == '#')
			continue;
		if (k == 0) {
			if (records_line(&m, line, lineno) == -1)
				bad = 1;
			continue;
		}
		for (nf = 0, sp = line; nf <= MAX_FIELDS && sp != NULL; nf++) {
			f[nf] = sp;
			if ((sp = strchr(sp, ' ')) != NULL)
				*sp++ = '\0';
		}
		if (sp != NULL) {
			bad = err_at(e, path, lineno, 0, "too many fields");
			continue;
		}
		if ((k == 1 ? outbox_line(&m, f, nf, lineno) :
		    status_line(&m, f, nf, lineno)) == -1)
			bad = 1;
	}
	rc = bad ? -1 : 0;
out:
	sqlite3_finalize(m.q);
	free(copy);
	return rc;
}

static int
meta_migrated(sqlite3 *db, int *yes, struct err *e)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key = "
	    "'migrated'", -1, &q, NULL) != SQLITE_OK)
		return err_set(e, "%s: %s", sqlite3_db_filename(db, NULL),
		    sqlite3_errmsg(db));
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return err_set(e, "%s: %s", sqlite3_db_filename(db, NULL),
		    sqlite3_errmsg(db));
	*yes = rc == SQLITE_ROW;
	return 0;
}

static int
rename_bak(const char *dir, struct err *e)
{
	char	 from[4096], to[4200];
	size_t	 i;

	for (i = 0; i < sizeof(old_files) / sizeof(old_files[0]); i++) {
		snprintf(from, sizeof(from), "%s/%s", dir, old_files[i]);
		snprintf(to, sizeof(to), "%s.bak", from);
		if (rename(from, to) == -1 && errno != ENOENT)
			return err_set(e, "%s: rename to %s: %s", from, to,
			    strerror(errno));
	}
	return 0;
}

int
state_migrate(sqlite3 *db, const char *dir, int rename_files, struct err *e)
{
	sqlite3_stmt	*q = NULL;
	char		 path[4096], *data = NULL, when[32];
	size_t		 i, len, nfound = 0;
	int		 done = 0, rc = -1;

	if (meta_migrated(db, &done, e) == -1)
		return -1;
	for (i = 0; i < sizeof(old_files) / sizeof(old_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, old_files[i]);
		if (access(path, F_OK) == 0)
			nfound++;
	}
	if (nfound == 0)
		return 0;
	if (done)
		return rename_files ? rename_bak(dir, e) : 0;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return err_set(e, "%s: %s", dir, sqlite3_errmsg(db));
	for (i = 0; i < sizeof(old_files) / sizeof(old_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, old_files[i]);
		if (access(path, F_OK) == -1 && errno == ENOENT)
			continue;
		if (fileio_read_file(path, MIGRATE_MAX, &data, &len, e) == -1 ||
		    state_migrate_mem(db, "ros"[i], data, len, path, e) == -1)
			goto out;
		free(data);
		data = NULL;
	}
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES ('migrated', ?1)", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(q, 1, when, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_DONE ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		err_set(e, "%s: cannot import the old state: %s", dir,
		    sqlite3_errmsg(db));
		goto out;
	}
	rc = rename_files ? rename_bak(dir, e) : 0;
out:
	sqlite3_finalize(q);
	free(data);
	if (rc == -1 && sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
