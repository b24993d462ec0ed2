/*
 * Resumption tokens: a small big-endian payload, its HMAC-SHA-256, and
 * URL-safe base64 around both.  Payload layout (version 1):
 *
 *	u8 version, u8 verb, u64 cursor, i64 from, i64 until, i64 last_ds,
 *	then prefix, set and last, each as u16 length + bytes.
 *
 * The MAC covers the whole payload, so a harvester can neither forge a
 * position nor widen a list; any change makes oai_token_decode() fail.
 */
#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "oai_int.h"
#include "banned.h"

#define TOKEN_VERSION	1
#define TOKEN_FIXED	(1 + 1 + 8 + 8 + 8 + 8 + 3 * 2)
/* Decoded bytes that fit in a token of OAI_ARG_MAX characters. */
#define TOKEN_RAW_MAX	(OAI_ARG_MAX / 4 * 3)

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
put_u64(unsigned char *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
put_str(unsigned char *raw, size_t *n, const char *s)
{
	size_t	 len = s != NULL ? strlen(s) : 0;

	if (len > UINT16_MAX || *n + 2 + len > TOKEN_RAW_MAX)
		return -1;
	raw[(*n)++] = (len >> 8) & 0xff;
	raw[(*n)++] = len & 0xff;
	if (len > 0)
		memcpy(raw + *n, s, len);
	*n += len;
	return 0;
}

static int
b64_encode(const unsigned char *in, size_t n, struct buf *out)
{
	char		 q[4];
	uint32_t	 v;
	size_t		 i, k;

	for (i = 0; i < n; i += 3) {
		k = n - i >= 3 ? 3 : n - i;
		v = (uint32_t)in[i] << 16;
		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = b64[(v >> 6) & 63];
		q[3] = b64[v & 63];
		if (buf_add(out, q, k + 1) == -1)
			return -1;
	}
	return 0;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strict decoding: only the alphabet, no padding, and the unused low bits
 * of a final partial group must be zero, so every token has one spelling.
 */
static int
b64_decode(const char *s, size_t len, unsigned char *out, size_t *outlen)
{
	uint32_t	 v = 0;
	size_t		 i, n = 0;
	int		 bits = 0, d;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((d = b64_val((unsigned char)s[i])) == -1)
			return -1;
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (v >> bits) & 0xff;
		}
	}
	if (bits > 0 && (v & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = n;
	return 0;
}

int
oai_token_encode(const struct oai_token *t, const unsigned char *key,
    size_t keylen, struct buf *out)
{
	unsigned char	 raw[TOKEN_RAW_MAX];
	size_t		 n = 0, start = out->len;

	raw[n++] = TOKEN_VERSION;
	raw[n++] = (unsigned char)t->verb;
	put_u64(raw + n, t->cursor);
	put_u64(raw + n + 8, (uint64_t)t->from);
	put_u64(raw + n + 16, (uint64_t)t->until);
	put_u64(raw + n + 24, (uint64_t)t->last_ds);
	n += 32;
	if (put_str(raw, &n, t->prefix) == -1 ||
	    put_str(raw, &n, t->set) == -1 ||
	    put_str(raw, &n, t->last) == -1 || n + HASH_LEN > TOKEN_RAW_MAX)
		return -1;
	hash_hmac(key, keylen, raw, n, raw + n);
	n += HASH_LEN;
	if (b64_encode(raw, n, out) == -1 || out->len - start > OAI_ARG_MAX) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

/* Copy a u16-prefixed string into the arena; NUL bytes are refused. */
static int
get_str(const unsigned char *raw, size_t n, size_t *pos, char **arena,
    size_t *room, const char **out)
{
	size_t	 len;

	if (n - *pos < 2)
		return -1;
	len = (size_t)raw[*pos] << 8 | raw[*pos + 1];
	*pos += 2;
	if (n - *pos < len || len + 1 > *room ||
	    memchr(raw + *pos, '\0', len) != NULL)
		return -1;
	memcpy(*arena, raw + *pos, len);
	(*arena)[len] = '\0';
	*out = *arena;
	*arena += len + 1;
	*room -= len + 1;
	*pos += len;
	return 0;
}

int
oai_token_decode(const char *s, size_t len, const unsigned char *key,
    size_t keylen, struct oai_token *out)
{
	unsigned char	 raw[TOKEN_RAW_MAX], mac[HASH_LEN];
	size_t		 n, pos, room = sizeof(out->arena);
	char		*arena = out->arena;

	memset(out, 0, offsetof(struct oai_token, arena));
	if (len > OAI_ARG_MAX || b64_decode(s, len, raw, &n) == -1 ||
	    n < TOKEN_FIXED + HASH_LEN)
		return -1;
	n -= HASH_LEN;
	hash_hmac(key, keylen, raw, n, mac);
	if (!hash_equal(mac, raw + n, HASH_LEN))
		return -1;
	if (raw[0] != TOKEN_VERSION || raw[1] >= OAI_VERB_COUNT)
		return -1;
	out->verb = (enum oai_verb)raw[1];
	out->cursor = get_u64(raw + 2);
	out->from = (int64_t)get_u64(raw + 10);
	out->until = (int64_t)get_u64(raw + 18);
	out->last_ds = (int64_t)get_u64(raw + 26);
	pos = 34;
	if (get_str(raw, n, &pos, &arena, &room, &out->prefix) == -1 ||
	    get_str(raw, n, &pos, &arena, &room, &out->set) == -1 ||
	    get_str(raw, n, &pos, &arena, &room, &out->last) == -1 ||
	    pos != n)
		return -1;
	return 0;
}
