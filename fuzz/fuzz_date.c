/* fuzz_date: the three date parsers; whatever parses must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct date	 d, d2;
	char		 iso[DATE_ISO_LEN], http[DATE_HTTP_LEN], *s;
	int64_t		 t, t2;

	if (date_parse((const char *)data, size, &d, NULL) == 0) {
		date_fmt(&d, iso);
		if (date_parse(iso, strlen(iso), &d2, NULL) != 0 ||
		    d2.t != d.t || d2.gran != d.gran)
			abort();
	}
	if (date_parse_record((const char *)data, size, &d, NULL) == 0) {
		date_fmt(&d, iso);
		if (date_parse(iso, strlen(iso), &d2, NULL) != 0 || d2.t != d.t)
			abort();
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (date_parse_http(s, &t) == 0) {
		date_fmt_http(t, http);
		if (date_parse_http(http, &t2) != 0 || t2 != t)
			abort();
	}
	free(s);
	return 0;
}
