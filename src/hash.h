/*
 * hash: SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104, RFC 4231) over
 * OpenSSL's libcrypto, which uses the CPU's SHA extensions (SHA-NI) where
 * there are any.  Used for content hashes (datestamps change only when a
 * record's bytes do), ETags, cache keys and resumption-token MACs.  Plain
 * functions over memory that cannot fail: a context is the caller's
 * memory and SHA-256 allocates nothing (only hash_hmac() may, inside
 * libcrypto).
 */
#ifndef PUBFEED_HASH_H
#define PUBFEED_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_LEN	32
#define HASH_HEX_LEN	(2 * HASH_LEN + 1)

/* Opaque: libcrypto's SHA-256 state (hash.c checks that it fits). */
struct hash_ctx {
	union {
		uint64_t	 align;
		unsigned char	 bytes[128];
	}		 u;
};

void	hash_init(struct hash_ctx *);
void	hash_update(struct hash_ctx *, const void *, size_t);
void	hash_final(struct hash_ctx *, unsigned char out[HASH_LEN]);
void	hash_sha256(const void *, size_t, unsigned char out[HASH_LEN]);
void	hash_hmac(const void *key, size_t keylen, const void *msg, size_t len,
	    unsigned char out[HASH_LEN]);
/*
 * Fold typed values into h, so that a key is a defined serialization of its
 * fields: a string as its 64-bit length then its bytes (NULL as length
 * UINT64_MAX, so NULL, "" and two strings that concatenate alike all
 * differ), an integer as its 8 bytes.
 */
void	hash_update_str(struct hash_ctx *, const char *);
void	hash_update_i64(struct hash_ctx *, int64_t);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void	hash_hex(const unsigned char *in, size_t n, char *out);
/* Constant-time comparison of two n-byte strings: 1 when equal. */
int	hash_equal(const void *, const void *, size_t n);

#endif
