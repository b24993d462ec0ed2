/*
 * seed_record_image: write the seeds of fuzz_record_image, the images of
 * the sample records (config/records, tests/data/records/good), as
 * fuzz/corpus/record_image/seed-N (N from 3, in glob order).  Not a fuzz
 * target; built and run by hand from the top directory after `make`:
 *
 *   cc -std=c11 -D_GNU_SOURCE -Isrc -Ibuild $(pkg-config --cflags
 *       libxml-2.0) -o build/seed_record_image fuzz/seed_record_image.c
 *       build/libpubfeed.a $(pkg-config --libs libxml-2.0 libmicrohttpd
 *       libcurl zlib libsystemd sqlite3 jansson libical libcrypto)
 *       -lcsv -lpthread -lm
 *   build/seed_record_image
 *
 * (the libraries are the Makefile's PF_LIBS).  Run again whenever the image
 * format changes (RECORD_IMAGE_VERSION).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>

#include "fileio.h"
#include "record.h"

int
main(void)
{
	struct record_schema	*schema;
	struct record		*r;
	struct err		 e;
	glob_t			 g;
	unsigned char		*img;
	char			*b, name[64];
	size_t			 i, len, ilen;
	FILE			*fp;
	int			 rc = 0;

	err_init(&e);
	if ((schema = record_schema_new(&e)) == NULL ||
	    glob("config/records/*.xml", 0, NULL, &g) == GLOB_NOSPACE ||
	    glob("config/records/*/*.xml", GLOB_APPEND, NULL, &g) ==
	    GLOB_NOSPACE ||
	    glob("tests/data/records/good/*.xml", GLOB_APPEND, NULL, &g) ==
	    GLOB_NOSPACE)
		return 1;
	for (i = 0; i < g.gl_pathc; i++) {
		if (fileio_read_file(g.gl_pathv[i], RECORD_MAX_BYTES, &b,
		    &len, &e) == -1 ||
		    (r = record_parse_mem(schema, b, len, g.gl_pathv[i], 0,
		    &e)) == NULL ||
		    record_image_encode(r, &img, &ilen, &e) == -1) {
			fprintf(stderr, "%s: %s\n", g.gl_pathv[i], e.msg);
			return 1;
		}
		snprintf(name, sizeof(name), "fuzz/corpus/record_image/"
		    "seed-%zu", i + 3);
		if ((fp = fopen(name, "wb")) == NULL ||
		    fwrite(img, 1, ilen, fp) != ilen || fclose(fp) != 0)
			rc = 1;
		free(img);
		free(b);
		record_unref(r);
	}
	globfree(&g);
	record_schema_free(schema);
	err_release(&e);
	return rc;
}
