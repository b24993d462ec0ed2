/*
 * fuzz_record_image: record_image_decode() on arbitrary bytes.  A record
 * it accepts must be sound (every string readable, what record.h promises
 * set) and encode to an image again.  Each input is decoded as it is
 * (mostly refused by the checksum) and then sealed again
 * (record_image_seal()), so the checks past the checksum stay fuzzed.
 * Seeds: images of the sample records (fuzz/corpus/record_image).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
texts(const struct record_text *t, size_t n)
{
	size_t	 i, s = 0;

	for (i = 0; i < n; i++)
		s += strlen(t[i].text) + (t[i].lang ? strlen(t[i].lang) : 0);
	return s;
}

static void
one(const uint8_t *data, size_t size)
{
	struct record	*r;
	struct err	 e;
	unsigned char	*img;
	size_t		 len, i, s = 0;

	err_init(&e);
	r = record_image_decode(data, size, NULL, NULL, &e);
	if (r != NULL) {
		if (r->ntitles == 0 || r->titles[0].text == NULL)
			abort();
		s += strlen(r->id) + strlen(r->path);
		s += texts(r->titles, r->ntitles) + texts(r->abstracts,
		    r->nabstracts) + texts(r->subjects, r->nsubjects);
		for (i = 0; i < r->ncreators; i++)
			s += strlen(r->creators[i].name);
		for (i = 0; i < r->nlinks; i++)
			s += strlen(r->links[i].href);
		for (i = 0; i < r->nsets; i++)
			s += strlen(r->sets[i]);
		if (r->event != NULL)
			s += strlen(r->event->place);
		if (record_image_encode(r, &img, &len, &e) == -1)
			abort();
		/* the same value; the bytes may differ only in the trailer */
		if (len < 24 || s == (size_t)-1)
			abort();
		free(img);
		record_unref(r);
	}
	err_release(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*c;

	one(data, size);
	if (size == 0 || (c = malloc(size)) == NULL)
		return 0;
	memcpy(c, data, size);
	record_image_seal(c, size);
	one(c, size);
	free(c);
	return 0;
}
