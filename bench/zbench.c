/*
 * bench/zbench.c: one-shot gzip of real documents, zlib against libdeflate
 * at equal output size (issue 14, "compress once").
 *
 *	zbench [-r RUNS] FILE...
 *
 * For each file: zlib's gzip at level 6 (what snap_doc.c uses) against
 * the lowest libdeflate level whose gzip is no larger (equal size), then
 * against libdeflate's level 6; each compressed RUNS times (default 15)
 * per sample, 7 samples of each interleaved, median MB/s of input and the
 * median per-sample speed ratio libdeflate / zlib.  Every output is
 * decompressed with zlib and compared with the input before it counts.
 * Prints per file and pair:
 *	FILE zlib 6 BYTES MB/s libdeflate LEVEL BYTES MB/s ratio R
 * Built by bench/oai.sh (make bench), not by make.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libdeflate.h>
#include <zlib.h>

#define SAMPLES	7

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t
zlib_gzip(const unsigned char *in, size_t len, unsigned char *out,
    size_t cap, int level)
{
	z_stream	 z;
	size_t		 n;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, 16 + 15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	n = deflate(&z, Z_FINISH) == Z_STREAM_END ? z.total_out : 0;
	deflateEnd(&z);
	return n;
}

static size_t
ld_gzip(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
    int level)
{
	struct libdeflate_compressor	*c;
	size_t				 n;

	/* one-shot as a server would do it: the compressor made each time */
	if ((c = libdeflate_alloc_compressor(level)) == NULL)
		return 0;
	n = libdeflate_gzip_compress(c, in, len, out, cap);
	libdeflate_free_compressor(c);
	return n;
}

/* 1 when out[0, n) is a gzip stream of in[0, len). */
static int
check(const unsigned char *in, size_t len, const unsigned char *out,
    size_t n)
{
	unsigned char	*back = malloc(len + 1);
	z_stream	 z;
	int		 ok;

	memset(&z, 0, sizeof(z));
	if (back == NULL || inflateInit2(&z, 16 + 15) != Z_OK) {
		free(back);
		return 0;
	}
	z.next_in = (unsigned char *)out;
	z.avail_in = (uInt)n;
	z.next_out = back;
	z.avail_out = (uInt)len + 1;
	ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == len &&
	    memcmp(back, in, len) == 0;
	inflateEnd(&z);
	free(back);
	return ok;
}

typedef size_t	coder(const unsigned char *, size_t, unsigned char *, size_t,
		    int);

/* Seconds per call of f at level: runs calls in a row. */
static double
timed(coder *f, int level, const unsigned char *in, size_t len,
    unsigned char *out, size_t cap, int runs)
{
	double	 t0 = now();
	int	 j;

	for (j = 0; j < runs; j++)
		f(in, len, out, cap, level);
	return (now() - t0) / runs;
}

/* Output size of f at level, checked by decompressing it. */
static size_t
sized(coder *f, int level, const unsigned char *in, size_t len,
    unsigned char *out, size_t cap)
{
	size_t	 n = f(in, len, out, cap, level);

	if (n == 0 || !check(in, len, out, n)) {
		fprintf(stderr, "zbench: level %d: bad output\n", level);
		exit(1);
	}
	return n;
}

/*
 * Samples of a and b interleaved (the order alternating), so the load of
 * a shared machine hits both alike: median MB/s of each, and the median
 * of the per-sample ratios b / a (speed).
 */
static void
compare(coder *fa, int la, coder *fb, int lb, const unsigned char *in,
    size_t len, unsigned char *out, size_t cap, int runs, double *mba,
    double *mbb, double *ratio)
{
	double	 ta[SAMPLES], tb[SAMPLES], r[SAMPLES];
	int	 i;

	for (i = 0; i < SAMPLES; i++) {
		if (i % 2 == 0) {
			ta[i] = timed(fa, la, in, len, out, cap, runs);
			tb[i] = timed(fb, lb, in, len, out, cap, runs);
		} else {
			tb[i] = timed(fb, lb, in, len, out, cap, runs);
			ta[i] = timed(fa, la, in, len, out, cap, runs);
		}
		r[i] = ta[i] / tb[i];
	}
	qsort(ta, SAMPLES, sizeof(ta[0]), cmp_double);
	qsort(tb, SAMPLES, sizeof(tb[0]), cmp_double);
	qsort(r, SAMPLES, sizeof(r[0]), cmp_double);
	*mba = len / 1048576.0 / ta[SAMPLES / 2];
	*mbb = len / 1048576.0 / tb[SAMPLES / 2];
	*ratio = r[SAMPLES / 2];
}

int
main(int argc, char *argv[])
{
	unsigned char	*in, *out;
	size_t		 len, cap, zsize, lsize;
	double		 mza, mlb, ratio;
	FILE		*fp;
	long		 n;
	int		 a = 1, runs = 15, level;

	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		runs = (int)strtol(argv[2], NULL, 10);
		a = 3;
	}
	if (a >= argc || runs < 1) {
		fprintf(stderr, "usage: zbench [-r RUNS] FILE...\n");
		return 2;
	}
	for (; a < argc; a++) {
		if ((fp = fopen(argv[a], "rb")) == NULL ||
		    fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) <= 0 ||
		    fseek(fp, 0, SEEK_SET) == -1) {
			fprintf(stderr, "zbench: cannot read %s\n", argv[a]);
			return 1;
		}
		len = (size_t)n;
		cap = len + len / 8 + 1024;
		in = malloc(len);
		out = malloc(cap);
		if (in == NULL || out == NULL ||
		    fread(in, 1, len, fp) != len) {
			fprintf(stderr, "zbench: cannot read %s\n", argv[a]);
			return 1;
		}
		fclose(fp);
		zsize = sized(zlib_gzip, 6, in, len, out, cap);
		/* the lowest libdeflate level as small as zlib's 6 */
		for (level = 1; level < 12; level++) {
			lsize = sized(ld_gzip, level, in, len, out, cap);
			if (lsize <= zsize)
				break;
		}
		lsize = sized(ld_gzip, level, in, len, out, cap);
		compare(zlib_gzip, 6, ld_gzip, level, in, len, out, cap, runs,
		    &mza, &mlb, &ratio);
		printf("%s zlib 6 %zu %.1f libdeflate %d %zu %.1f ratio %.2f\n",
		    argv[a], zsize, mza, level, lsize, mlb, ratio);
		lsize = sized(ld_gzip, 6, in, len, out, cap);
		compare(zlib_gzip, 6, ld_gzip, 6, in, len, out, cap, runs,
		    &mza, &mlb, &ratio);
		printf("%s zlib 6 %zu %.1f libdeflate 6 %zu %.1f ratio %.2f\n",
		    argv[a], zsize, mza, lsize, mlb, ratio);
		free(in);
		free(out);
	}
	return 0;
}
