/*
 * oai_zip: the compressed forms of a kept OAI-PMH response.
 *
 * A page is deflated whole, once, when oai_cache.c keeps it, and both
 * codings share that stream: gzip (RFC 1952) around it with its CRC-32,
 * zlib (RFC 1950, HTTP's "deflate") with its Adler-32.  Whole, because
 * the per-record blocks this file once deflated one by one (and a page
 * assembled from them per request) lose every back-reference between
 * records: a 100-record oai_dc page came out 89 KB against 16 KB deflated
 * whole, and a gzip harvest was slower end to end (bench/README.md).
 * Level 6 with zlib: libdeflate was not faster at equal size on both real
 * documents (bench/zbench.c).
 */
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "oai_int.h"
#include "banned.h"

#define ZIP_LEVEL	6		/* made once per kept page */
#define ZIP_CHUNK	16384

/* The gzip header: deflate, no name or time, Unix. */
static const unsigned char zip_gz_head[10] = {
	0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3
};

/* Deflate len bytes into out to the end, through a stack chunk (out's cap). */
static int
zip_run(z_stream *z, const char *data, size_t len, struct buf *out)
{
	unsigned char	 chunk[ZIP_CHUNK];
	int		 rc;

	z->next_in = (unsigned char *)(uintptr_t)data;
	z->avail_in = (uInt)len;
	do {
		z->next_out = chunk;
		z->avail_out = sizeof(chunk);
		rc = deflate(z, Z_FINISH);
		if (rc == Z_STREAM_ERROR)
			return -1;
		if (buf_add(out, chunk, sizeof(chunk) - z->avail_out) == -1)
			return -1;
	} while (rc != Z_STREAM_END);
	return 0;
}

int
oai_zip_whole(const char *data, size_t len, struct buf *out)
{
	unsigned char	 tail[8];
	uLong		 crc;
	z_stream	 z;
	size_t		 i;
	int		 rc = -1;

	memset(&z, 0, sizeof(z));
	if (len > UINT32_MAX || deflateInit2(&z, ZIP_LEVEL, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	crc = crc32(0L, (const Bytef *)data, (uInt)len);
	if (buf_add(out, zip_gz_head, sizeof(zip_gz_head)) == -1 ||
	    zip_run(&z, data, len, out) == -1)
		goto out;
	for (i = 0; i < 4; i++) {
		tail[i] = (unsigned char)(crc >> (8 * i));
		tail[4 + i] = (unsigned char)(len >> (8 * i));
	}
	if (buf_add(out, tail, sizeof(tail)) == -1)
		goto out;
	rc = 0;
out:
	deflateEnd(&z);
	return rc;
}

int
oai_zip_zlib_of(const char *gz, size_t gzlen, const char *plain,
    size_t plainlen, struct buf *out)
{
	static const unsigned char zlib_head[2] = { 0x78, 0x9c }	/* 32K window, default level */;
	unsigned char	 tail[4];
	uLong		 adler;
	size_t		 i;

	if (gzlen < sizeof(zip_gz_head) + 8 || plainlen > UINT32_MAX ||
	    memcmp(gz, zip_gz_head, sizeof(zip_gz_head)) != 0)
		return -1;
	adler = adler32(1L, (const Bytef *)plain, (uInt)plainlen);
	for (i = 0; i < 4; i++)
		tail[i] = (unsigned char)(adler >> (24 - 8 * i));
	if (buf_add(out, zlib_head, sizeof(zlib_head)) == -1 ||
	    buf_add(out, gz + sizeof(zip_gz_head), gzlen -
	    sizeof(zip_gz_head) - 8) == -1 ||
	    buf_add(out, tail, sizeof(tail)) == -1)
		return -1;
	return 0;
}
