/* Fuzz the HTTP header parsers with arbitrary header values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	http_accepts_coding(s, "gzip");
	http_accepts_coding(s, "deflate");
	http_etag_match(s, "\"0123456789abcdef\"");
	http_etag_match("\"a\", W/\"b\", *", s);
	http_media_type_is(s, "application/x-www-form-urlencoded");
	(void)http_prefers_html(s);
	(void)http_origin_path(s);
	free(s);
	return 0;
}
