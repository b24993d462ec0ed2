/*
 * oai_zip: a compressed response assembled from compressed pieces.
 *
 * A list page is mostly the blocks of its records, which the record cache
 * keeps (oai.c), so each block is also kept deflated: a raw deflate stream
 * of its own, started fresh and ended with a full flush, so it refers to no
 * byte before it, none after it refers into it, and it ends on a byte
 * boundary.  Such streams concatenate into one valid deflate stream (as
 * pigz does), so a page is the container header, the bytes between the
 * cached blocks deflated now (one stream, a full flush after each piece),
 * the cached blocks copied, a final empty block, and the trailer, whose
 * CRC-32 or Adler-32 comes from the pieces' own with crc32_combine() and
 * adler32_combine().  Deflating a page then costs the few hundred bytes of
 * its envelope, not the whole page.  Blocks compressed one by one lose the
 * back-references between records: the page is a little larger than one
 * deflated whole.
 */
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "oai_int.h"
#include "banned.h"

#define ZIP_LEVEL	1		/* the envelope: made per request */
#define ZIP_BLOCK_LEVEL	9		/* a block: made once, then cached */
#define ZIP_WHOLE_LEVEL	6		/* a whole page: made once, then cached */
#define ZIP_CHUNK	16384

/* The gzip header oai_zip_page() and oai_zip_whole() write. */
static const unsigned char zip_gz_head[10] = {
	0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3	/* deflate, Unix */
};

/* The head of a cached deflated block; the raw deflate bytes follow. */
struct zip_head {
	uint32_t	 crc;		/* CRC-32 of the plain bytes */
	uint32_t	 adler;		/* Adler-32 of the plain bytes */
	uint64_t	 len;		/* plain length */
};

/*
 * Deflate len bytes into out with flush (Z_FULL_FLUSH between pieces,
 * Z_FINISH at the end), through a stack chunk so out's cap is respected.
 */
static int
zip_run(z_stream *z, const char *data, size_t len, int flush,
    struct buf *out)
{
	unsigned char	 chunk[ZIP_CHUNK];
	int		 rc;

	z->next_in = (unsigned char *)(uintptr_t)data;
	z->avail_in = (uInt)len;
	do {
		z->next_out = chunk;
		z->avail_out = sizeof(chunk);
		rc = deflate(z, flush);
		if (rc == Z_STREAM_ERROR)
			return -1;
		if (buf_add(out, chunk, sizeof(chunk) - z->avail_out) == -1)
			return -1;
	} while (z->avail_out == 0 || (flush == Z_FINISH &&
	    rc != Z_STREAM_END));
	return z->avail_in == 0 ? 0 : -1;
}

static int
zip_init(z_stream *z, int level)
{
	memset(z, 0, sizeof(*z));
	return deflateInit2(z, level, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

int
oai_zip_block(const char *data, size_t len, struct buf *out)
{
	struct zip_head	 h;
	z_stream	 z;
	int		 rc = -1;

	if (len > UINT32_MAX || zip_init(&z, ZIP_BLOCK_LEVEL) == -1)
		return -1;
	h.crc = (uint32_t)crc32(0L, (const Bytef *)data, (uInt)len);
	h.adler = (uint32_t)adler32(1L, (const Bytef *)data, (uInt)len);
	h.len = len;
	if (buf_add(out, &h, sizeof(h)) == -1 ||
	    zip_run(&z, data, len, Z_FULL_FLUSH, out) == -1)
		goto out;
	rc = 0;
out:
	deflateEnd(&z);
	return rc;
}

/* Account for len plain bytes with checksums crc and adler. */
static void
zip_sum(uLong *crc, uLong *adler, uint32_t c, uint32_t a, uint64_t len)
{
	*crc = crc32_combine(*crc, c, (z_off_t)len);
	*adler = adler32_combine(*adler, a, (z_off_t)len);
}

static int
zip_gap(z_stream *z, const char *p, size_t len, uLong *crc, uLong *adler,
    int flush, struct buf *out)
{
	if (len == 0 && flush != Z_FINISH)
		return 0;
	zip_sum(crc, adler, (uint32_t)crc32(0L, (const Bytef *)p, (uInt)len),
	    (uint32_t)adler32(1L, (const Bytef *)p, (uInt)len), len);
	return zip_run(z, p, len, flush, out);
}

int
oai_zip_page(const struct buf *plain, const struct oai_zseg *segs,
    size_t nsegs, int gzip, struct buf *out)
{
	static const unsigned char zlib_head[2] = { 0x78, 0x01 };
	struct zip_head		 h;
	unsigned char		 tail[8];
	uLong			 crc = crc32(0L, Z_NULL, 0);
	uLong			 adler = adler32(0L, Z_NULL, 0);
	z_stream		 z;
	size_t			 at = 0, i;
	int			 rc = -1;

	if (plain->len > UINT32_MAX || zip_init(&z, ZIP_LEVEL) == -1)
		return -1;
	if (buf_add(out, gzip ? zip_gz_head : zlib_head, gzip ?
	    sizeof(zip_gz_head) : sizeof(zlib_head)) == -1)
		goto out;
	for (i = 0; i < nsegs; i++) {
		if (segs[i].off < at || segs[i].off > plain->len)
			goto out;	/* not in order: a bug, not data */
		if (zip_gap(&z, plain->data + at, segs[i].off - at, &crc,
		    &adler, Z_FULL_FLUSH, out) == -1)
			goto out;
		if (segs[i].zlen < sizeof(h))
			goto out;
		memcpy(&h, segs[i].z, sizeof(h));	/* may be unaligned */
		if (h.len != segs[i].len || buf_add(out, segs[i].z +
		    sizeof(h), segs[i].zlen - sizeof(h)) == -1)
			goto out;
		zip_sum(&crc, &adler, h.crc, h.adler, h.len);
		at = segs[i].off + segs[i].len;
	}
	if (at > plain->len || zip_gap(&z, plain->data + at, plain->len - at,
	    &crc, &adler, Z_FINISH, out) == -1)
		goto out;
	if (gzip) {
		for (i = 0; i < 4; i++) {
			tail[i] = (unsigned char)(crc >> (8 * i));
			tail[4 + i] = (unsigned char)(plain->len >> (8 * i));
		}
	} else
		for (i = 0; i < 4; i++)
			tail[i] = (unsigned char)(adler >> (24 - 8 * i));
	if (buf_add(out, tail, gzip ? 8 : 4) == -1)
		goto out;
	rc = 0;
out:
	deflateEnd(&z);
	return rc;
}

int
oai_zip_whole(const char *data, size_t len, struct buf *out)
{
	unsigned char	 tail[8];
	uLong		 crc;
	z_stream	 z;
	size_t		 i;
	int		 rc = -1;

	if (len > UINT32_MAX || zip_init(&z, ZIP_WHOLE_LEVEL) == -1)
		return -1;
	crc = crc32(0L, (const Bytef *)data, (uInt)len);
	if (buf_add(out, zip_gz_head, sizeof(zip_gz_head)) == -1 ||
	    zip_run(&z, data, len, Z_FINISH, out) == -1)
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
	static const unsigned char zlib_head[2] = { 0x78, 0x01 };
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
