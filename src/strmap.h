/*
 * strmap: a string -> size_t map, open addressing with linear probing over
 * FNV-1a hashes, the one hash table every module uses (the store's path
 * index, the state's id index, the snapshot's setSpec table).
 *
 * Keys are borrowed: the map keeps the caller's pointer and length, so a
 * key must stay alive and unchanged while it is in the map (the index of
 * an array of strings points into that array's own strings).  A key is any
 * run of bytes, NUL-terminated or not ("a" as the first byte of "a:b").
 * The load factor stays at most one half.  Growth is overflow-checked and
 * commits the new table only once it is allocated: when a put fails the
 * map is exactly as it was.  No removal: rebuild with strmap_clear().  No
 * state of its own; thread-safe on distinct maps, and a map nobody writes
 * may be read from any thread.
 */
#ifndef PUBFEED_STRMAP_H
#define PUBFEED_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * FNV-1a (64-bit offset basis and prime), so a caller walking a string can
 * hash its prefixes as it goes.
 */
#define STRMAP_HASH_INIT	14695981039346656037ULL
#define STRMAP_HASH_STEP(h, c)	(((h) ^ (unsigned char)(c)) * 1099511628211ULL)

struct strmap_ent {
	const char	*key;	/* NULL: an empty slot */
	size_t		 len;
	uint64_t	 hash;
	size_t		 val;
};

/*
 * v[0..cap) are the slots (cap is 0 or a power of two); n of them hold a
 * key.  Callers may walk v to visit every entry, in no particular order.
 */
struct strmap {
	struct strmap_ent	*v;
	size_t			 n, cap;
};

/* An empty map (no memory); strmap_release() frees and empties it again. */
void	strmap_init(struct strmap *);
void	strmap_release(struct strmap *);
/* Forget every entry, keep the table: putting as many again cannot fail. */
void	strmap_clear(struct strmap *);

/* The hash of the len bytes at key, as the map computes it. */
uint64_t strmap_hash(const char *key, size_t len);

/* Room for n entries without growing: 0, or -1 (map unchanged). */
int	strmap_reserve(struct strmap *, size_t n);

/*
 * The entry of the len bytes at key whose hash is hash (strmap_hash() or
 * STRMAP_HASH_STEP over the same bytes), or NULL.  The entry pointer is
 * valid until the next put; its val may be changed in place.
 */
struct strmap_ent *strmap_find(const struct strmap *, const char *key,
	    size_t len, uint64_t hash);
/*
 * Add key -> val unless the key is there already; either way its entry
 * (an existing one keeps its val).  NULL when the table cannot grow: the
 * map is unchanged.
 */
struct strmap_ent *strmap_put(struct strmap *, const char *key, size_t len,
	    uint64_t hash, size_t val);

/* The same for a NUL-terminated key. */
struct strmap_ent *strmap_find_str(const struct strmap *, const char *key);
struct strmap_ent *strmap_put_str(struct strmap *, const char *key,
	    size_t val);

#endif
