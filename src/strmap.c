#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "banned.h"

#define STRMAP_MIN_CAP	64
#define STRMAP_PAGE	4096

void
strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
strmap_release(struct strmap *m)
{
	free(m->v);
	strmap_init(m);
}

void
strmap_clear(struct strmap *m)
{
	if (m->v != NULL)
		memset(m->v, 0, m->cap * sizeof(*m->v));
	m->n = 0;
}

uint64_t
strmap_hash(const char *key, size_t len)
{
	uint64_t	 h = STRMAP_HASH_INIT;
	size_t		 i;

	for (i = 0; i < len; i++)
		h = STRMAP_HASH_STEP(h, key[i]);
	return h;
}

/* The slot of key in v (cap a power of two): its entry or the empty one. */
static size_t
strmap_slot(const struct strmap_ent *v, size_t cap, const char *key,
    size_t len, uint64_t hash)
{
	size_t	 j;

	for (j = hash & (cap - 1); v[j].key != NULL; j = (j + 1) & (cap - 1))
		if (v[j].hash == hash && v[j].len == len &&
		    memcmp(v[j].key, key, len) == 0)
			break;
	return j;
}

/*
 * Write one byte a page of a fresh table.  A large calloc() is fresh
 * mmap(): probing reads its pages first, so each is mapped to the shared
 * zero page and its first write is a copy-on-write fault that flushes the
 * TLB of every CPU running one of our threads (5 % of a warm start's CPU
 * at 100k records, bench/README.md).  A first write maps a page once.
 * Volatile: the compiler knows calloc's memory is zero and would drop
 * plain stores of zero.
 */
static void
strmap_touch(void *v, size_t len)
{
	volatile unsigned char	*p = v;
	size_t			 off;

	for (off = 0; off < len; off += STRMAP_PAGE)
		p[off] = 0;
}

int
strmap_reserve(struct strmap *m, size_t n)
{
	struct strmap_ent	*v;
	size_t			 i, ncap;

	if (n <= m->cap / 2)
		return 0;
	ncap = m->cap ? m->cap : STRMAP_MIN_CAP;
	while (ncap / 2 < n)
		if (ncap > SIZE_MAX / 2 / sizeof(*v))
			return -1;
		else
			ncap *= 2;
	if ((v = calloc(ncap, sizeof(*v))) == NULL)
		return -1;	/* m untouched: still consistent */
	strmap_touch(v, ncap * sizeof(*v));
	for (i = 0; i < m->cap; i++)
		if (m->v[i].key != NULL)
			v[strmap_slot(v, ncap, m->v[i].key, m->v[i].len,
			    m->v[i].hash)] = m->v[i];
	free(m->v);
	m->v = v;
	m->cap = ncap;
	return 0;
}

struct strmap_ent *
strmap_find(const struct strmap *m, const char *key, size_t len,
    uint64_t hash)
{
	struct strmap_ent	*e;

	if (m->cap == 0)
		return NULL;
	e = &m->v[strmap_slot(m->v, m->cap, key, len, hash)];
	return e->key != NULL ? e : NULL;
}

struct strmap_ent *
strmap_put(struct strmap *m, const char *key, size_t len, uint64_t hash,
    size_t val)
{
	struct strmap_ent	*e;

	if ((e = strmap_find(m, key, len, hash)) != NULL)
		return e;
	if (m->n == SIZE_MAX || strmap_reserve(m, m->n + 1) == -1)
		return NULL;
	e = &m->v[strmap_slot(m->v, m->cap, key, len, hash)];
	e->key = key;
	e->len = len;
	e->hash = hash;
	e->val = val;
	m->n++;
	return e;
}

struct strmap_ent *
strmap_find_str(const struct strmap *m, const char *key)
{
	size_t	 len = strlen(key);

	return strmap_find(m, key, len, strmap_hash(key, len));
}

struct strmap_ent *
strmap_put_str(struct strmap *m, const char *key, size_t val)
{
	size_t	 len = strlen(key);

	return strmap_put(m, key, len, strmap_hash(key, len), val);
}
