#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "state.h"
#include "banned.h"

#define STATE_MAGIC	"# pubfeed state 1"
#define STATE_MAX_BYTES	(512UL * 1024 * 1024)

void
state_init(struct state *st)
{
	memset(st, 0, sizeof(*st));
}

static void
entry_free_sets(struct state_entry *en)
{
	size_t	 i;

	for (i = 0; i < en->nsets; i++)
		free(en->sets[i]);
	free(en->sets);
	en->sets = NULL;
	en->nsets = 0;
}

void
state_release(struct state *st)
{
	size_t	 i;

	for (i = 0; i < st->n; i++) {
		free(st->v[i].id);
		entry_free_sets(&st->v[i]);
	}
	free(st->v);
	free(st->slots);
	state_init(st);
}

static uint64_t
state_strhash(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int
state_rehash(struct state *st)
{
	size_t	 i, j, n = st->nslots ? st->nslots * 2 : 1024;
	size_t	*slots;

	if ((slots = calloc(n, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i < st->n; i++) {
		j = state_strhash(st->v[i].id) & (n - 1);
		while (slots[j] != 0)
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(st->slots);
	st->slots = slots;
	st->nslots = n;
	return 0;
}

struct state_entry *
state_find(struct state *st, const char *id)
{
	size_t	 j;

	if (st->nslots == 0)
		return NULL;
	j = state_strhash(id) & (st->nslots - 1);
	for (; st->slots[j] != 0; j = (j + 1) & (st->nslots - 1))
		if (strcmp(st->v[st->slots[j] - 1].id, id) == 0)
			return &st->v[st->slots[j] - 1];
	return NULL;
}

struct state_entry *
state_get(struct state *st, const char *id)
{
	struct state_entry	*en, *v;
	size_t			 j;

	if ((en = state_find(st, id)) != NULL)
		return en;
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 256;
		if ((v = realloc(st->v, st->cap * sizeof(*v))) == NULL)
			return NULL;
		st->v = v;
	}
	/* keep the load factor under one half */
	if ((st->n + 1) * 2 > st->nslots && state_rehash(st) == -1)
		return NULL;
	en = &st->v[st->n];
	memset(en, 0, sizeof(*en));
	if ((en->id = strdup(id)) == NULL)
		return NULL;
	j = state_strhash(id) & (st->nslots - 1);
	while (st->slots[j] != 0)
		j = (j + 1) & (st->nslots - 1);
	st->slots[j] = ++st->n;
	st->dirty = 1;
	return en;
}

int
state_set_sets(struct state_entry *en, const char *const *sets, size_t nsets)
{
	char	**v;
	size_t	 i;

	if ((v = calloc(nsets + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < nsets; i++) {
		if ((v[i] = strdup(sets[i])) == NULL) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return -1;
		}
	}
	entry_free_sets(en);
	en->sets = v;
	en->nsets = nsets;
	return 0;
}

static int
hex_decode(const char *s, size_t len, unsigned char *out, size_t outlen)
{
	size_t	 i;

	if (len != 2 * outlen)
		return -1;
	for (i = 0; i < len; i++) {
		int c = s[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

/* Split line at tabs into at most nf fields; returns how many. */
static size_t
split_tabs(char *line, char **f, size_t nf)
{
	size_t	 n = 0;

	while (n < nf) {
		f[n++] = line;
		if ((line = strchr(line, '\t')) == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

static int
state_parse_line(struct state *st, char *line, const char *path, int lineno,
    struct err *e)
{
	char			*f[5], *end, *sp, *save = NULL;
	const char		*sets[256];
	size_t			 nsets = 0;
	unsigned char		 h[HASH_LEN];
	long long		 ds;
	struct state_entry	*en;

	if (split_tabs(line, f, 5) != 5)
		return err_at(e, path, lineno, 0, "expected 5 fields");
	if (*f[0] == '\0' || state_find(st, f[0]) != NULL)
		return err_at(e, path, lineno, 0, "empty or repeated id '%s'",
		    f[0]);
	if (hex_decode(f[1], strlen(f[1]), h, HASH_LEN) == -1)
		return err_at(e, path, lineno, 0, "bad hash");
	errno = 0;
	ds = strtoll(f[2], &end, 10);
	if (errno != 0 || *end != '\0' || end == f[2] || ds < 0)
		return err_at(e, path, lineno, 0, "bad datestamp '%s'", f[2]);
	if (strcmp(f[3], "live") != 0 && strcmp(f[3], "deleted") != 0)
		return err_at(e, path, lineno, 0, "bad status '%s'", f[3]);
	for (sp = strtok_r(f[4], " ", &save); sp != NULL && nsets < 256;
	    sp = strtok_r(NULL, " ", &save))
		sets[nsets++] = sp;
	if ((en = state_get(st, f[0])) == NULL ||
	    state_set_sets(en, sets, nsets) == -1)
		return err_set(e, "out of memory");
	memcpy(en->hash, h, HASH_LEN);
	en->datestamp = ds;
	en->is_deleted = f[3][0] == 'd';
	return 0;
}

int
state_parse_mem(struct state *st, const char *buf, size_t len,
    const char *path, struct err *e)
{
	char	*copy, *line, *nl;
	int	 lineno = 0, rc = 0;

	if ((copy = malloc(len + 1)) == NULL)
		return err_set(e, "out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		free(copy);
		return err_at(e, path, 0, 0, "file contains a NUL byte");
	}
	for (line = copy; line != NULL && *line != '\0'; line = nl) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (lineno == 1 && strcmp(line, STATE_MAGIC) != 0) {
			rc = err_at(e, path, 1, 0, "not a pubfeed state file");
			break;
		}
		if (*line == '#' || *line == '\0')
			continue;
		if (state_parse_line(st, line, path, lineno, e) == -1)
			rc = -1;
	}
	free(copy);
	st->dirty = 0;
	return rc;
}

int
state_read_file(const char *path, size_t cap, char **out, size_t *len,
    struct err *e)
{
	struct buf	 b;
	char		 chunk[65536];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_set(e, "%s: %s", path, strerror(errno));
	buf_init(&b, cap);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(&b, chunk, (size_t)n) == -1) {
			int saved = n == -1 ? errno : EFBIG;

			close(fd);
			buf_release(&b);
			return err_set(e, "%s: %s", path, strerror(saved));
		}
	}
	close(fd);
	*out = buf_detach(&b, len);
	return *out ? 0 : err_set(e, "out of memory");
}

int
state_load(struct state *st, const char *path, struct err *e)
{
	char	*data = NULL;
	size_t	 len;
	int	 rc;

	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (state_read_file(path, STATE_MAX_BYTES, &data, &len, e) == -1)
		return -1;
	rc = state_parse_mem(st, data, len, path, e);
	free(data);
	return rc;
}

static int
fsync_dir_of(const char *path)
{
	char	*copy, *dir;
	int	 fd, rc;

	if ((copy = strdup(path)) == NULL)
		return -1;
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
state_write_file(const char *path, const void *data, size_t len, int mode,
    struct err *e)
{
	char		 tmp[4096];
	const char	*p = data;
	int		 fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1)
		return err_set(e, "%s: %s", tmp, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(e, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		err_set(e, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(e, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		err_set(e, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	/* the rename itself is durable only once the directory is synced */
	if (fsync_dir_of(path) == -1) {
		err_set(e, "%s: fsync directory: %s", path, strerror(errno));
		return -1;
	}
	return 0;
out:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return rc;
}

int
state_save(struct state *st, const char *path, struct err *e)
{
	struct buf	 b;
	char		 hex[HASH_HEX_LEN];
	size_t		 i, j;
	int		 rc = -1;

	buf_init(&b, STATE_MAX_BYTES);
	if (buf_addstr(&b, STATE_MAGIC "\n") == -1)
		goto out;
	for (i = 0; i < st->n; i++) {
		const struct state_entry *en = &st->v[i];

		hash_hex(en->hash, HASH_LEN, hex);
		if (buf_printf(&b, "%s\t%s\t%" PRId64 "\t%s\t", en->id, hex,
		    en->datestamp, en->is_deleted ? "deleted" : "live") == -1)
			goto out;
		for (j = 0; j < en->nsets; j++)
			if (buf_printf(&b, "%s%s", j ? " " : "",
			    en->sets[j]) == -1)
				goto out;
		if (buf_addch(&b, '\n') == -1)
			goto out;
	}
	if (state_write_file(path, b.data, b.len, 0644, e) == 0) {
		st->dirty = 0;
		rc = 0;
	}
	buf_release(&b);
	return rc;
out:
	buf_release(&b);
	return err_set(e, "%s: state too large or out of memory", path);
}

int
state_mkdirs(const char *path, struct err *e)
{
	char	 tmp[4096];
	size_t	 i, len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return err_set(e, "bad directory '%s'", path);
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return err_set(e, "%s: %s", tmp, strerror(errno));
		tmp[i] = i < len ? '/' : '\0';
	}
	return 0;
}

int
state_token_key(const char *configured, const char *dir, unsigned char *key,
    size_t *keylen, struct err *e)
{
	char		 path[4096], hex[HASH_HEX_LEN], *data = NULL;
	unsigned char	 fresh[HASH_LEN];
	size_t		 len;

	if (configured != NULL) {
		len = strlen(configured);
		if (len > 256)
			len = 256;
		memcpy(key, configured, len);
		*keylen = len;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/token.key", dir);
	if (access(path, F_OK) == 0) {
		if (state_read_file(path, 4096, &data, &len, e) == -1)
			return -1;
		while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
			len--;
		if (hex_decode(data, len, key, HASH_LEN) == -1) {
			free(data);
			return err_at(e, path, 1, 0, "not a 64-digit hex key");
		}
		free(data);
		*keylen = HASH_LEN;
		return 0;
	}
	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh))
		return err_set(e, "getrandom: %s", strerror(errno));
	hash_hex(fresh, HASH_LEN, hex);
	hex[HASH_HEX_LEN - 1] = '\n';
	if (state_write_file(path, hex, HASH_HEX_LEN, 0600, e) == -1)
		return -1;
	memcpy(key, fresh, HASH_LEN);
	*keylen = HASH_LEN;
	return 0;
}
