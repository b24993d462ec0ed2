/*
 * SHA-256 and HMAC-SHA-256 from OpenSSL's libcrypto.  The streaming context
 * is libcrypto's SHA256_CTX kept in the caller's struct hash_ctx: its
 * SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, but
 * they are the same implementation (SHA-NI, AVX2) without the heap, so a
 * context costs no allocation and no call can fail, which the callers rely
 * on (hash_init() is void; a context on the stack may be dropped unfinished).
 * HMAC goes through libcrypto's HMAC() (EVP underneath); should that fail
 * to allocate, the same RFC 2104 construction over the context is used.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "hash.h"
#include "banned.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct hash_ctx *)0)->u),
    "struct hash_ctx cannot hold a SHA256_CTX");
_Static_assert(SHA256_DIGEST_LENGTH == HASH_LEN, "SHA-256 is 32 bytes");

static SHA256_CTX *
sha(struct hash_ctx *c)
{
	return (SHA256_CTX *)(void *)c->u.bytes;
}

void
hash_init(struct hash_ctx *c)
{
	SHA256_Init(sha(c));
}

void
hash_update(struct hash_ctx *c, const void *data, size_t len)
{
	SHA256_Update(sha(c), data, len);
}

void
hash_final(struct hash_ctx *c, unsigned char out[HASH_LEN])
{
	SHA256_Final(out, sha(c));
	/* Leave no message bytes behind (the context may hold a MAC key). */
	explicit_bzero(c, sizeof(*c));
}

void
hash_sha256(const void *data, size_t len, unsigned char out[HASH_LEN])
{
	struct hash_ctx	 c;

	/* not EVP_Digest(): it fetches and allocates, for the same code */
	hash_init(&c);
	hash_update(&c, data, len);
	hash_final(&c, out);
}

/* RFC 2104 over the context: for when HMAC() cannot allocate. */
static void
hmac_plain(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char out[HASH_LEN])
{
	unsigned char	 k[64], pad[64], inner[HASH_LEN];
	struct hash_ctx	 c;
	size_t		 i;

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		hash_sha256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	hash_init(&c);
	hash_update(&c, pad, sizeof(pad));
	hash_update(&c, msg, len);
	hash_final(&c, inner);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	hash_init(&c);
	hash_update(&c, pad, sizeof(pad));
	hash_update(&c, inner, sizeof(inner));
	hash_final(&c, out);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
}

void
hash_hmac(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char out[HASH_LEN])
{
	unsigned int	 n = HASH_LEN;
	unsigned char	 none = 0;

	/* HMAC() wants non-NULL pointers even for empty keys and messages */
	if (keylen <= INT_MAX && HMAC(EVP_sha256(), keylen > 0 ? key : &none,
	    (int)keylen, len > 0 ? msg : &none, len, out, &n) != NULL &&
	    n == HASH_LEN)
		return;
	hmac_plain(key, keylen, msg, len, out);
}

void
hash_update_str(struct hash_ctx *h, const char *s)
{
	uint64_t	 n;

	n = s == NULL ? UINT64_MAX : (uint64_t)strlen(s);
	hash_update(h, &n, sizeof(n));
	if (s != NULL)
		hash_update(h, s, (size_t)n);
}

void
hash_update_i64(struct hash_ctx *h, int64_t v)
{
	hash_update(h, &v, sizeof(v));
}

void
hash_hex(const unsigned char *in, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
hash_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
