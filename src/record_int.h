/*
 * record_int.h: between record.c (parsing, checks) and record_msg.c
 * (libxml2 and XSD errors in the editor's terms).
 *
 * record_msg.c turns what libxml2 reports into a message that names the
 * element as written in the record, says what is wrong and how to fix it,
 * with a stable code (see record.h, struct record_diag).  It reads the
 * structure of the record schema from the schema's own source (the XSD
 * compiled into the binary), so an element added to schemas/record.xsd is
 * known here without a second list.  No state of its own; no logging.
 */
#ifndef PUBFEED_RECORD_INT_H
#define PUBFEED_RECORD_INT_H

#include <stddef.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#define RECORD_MSG_MAX	512

/*
 * The translation of one libxml2 parser error (is_schema 0) or schema
 * validation error (is_schema 1).  xsd is the parsed schema source (may be
 * NULL: then only the message shapes are used).  buf and len are the
 * record's bytes, for offsets.  Writes the message to out and returns its
 * stable code; when no translation applies the code is "not-well-formed" or
 * "schema" and the raw libxml2 text follows a record-level explanation.
 */
const char	*record_msg_xml(xmlDocPtr xsd, const xmlError *xe,
		    int is_schema, char *out, size_t outsz);

/*
 * The offset of the first byte of buf that is not part of valid UTF-8
 * (overlongs, surrogates and code points past U+10FFFF included), or len.
 */
size_t		 record_msg_utf8_bad(const char *buf, size_t len);

/*
 * The cardinalities the schema cannot enforce on p: its children come from
 * an unbounded xs:choice (any order), so for each child the XSD declares
 * required, fn gets a "missing-element" message when p lacks it, and for
 * each declared at most once, a "duplicate-element" message at its second
 * occurrence.  Read from the XSD, so the schema stays the one list.
 */
typedef void	 record_msg_count_fn(void *arg, long line, const char *code,
		    const char *msg);
void		 record_msg_counts(xmlDocPtr xsd, xmlNodePtr p,
		    record_msg_count_fn *fn, void *arg);

/* The stable code of a message format that record.c reports itself. */
const char	*record_msg_code(const char *fmt);

/*
 * record.c's allocation, for record_image.c.  A record is one arena of one
 * block (struct record at its start); strings many records share live in
 * the process-wide pool instead.
 *
 * record_arena_block(): a new arena holding one zeroed block of size bytes,
 * all of it in use; returns the block (NULL when out of memory) and the
 * arena in *arena (the record's arena field; record_unref() frees it, or
 * record_arena_free() before the record exists).  record_arena_one(): 0 and
 * the block when arena is one block, -1 otherwise.  record_intern(): the
 * pool's copy of s (len bytes, NUL-terminated) in *out: 0; 1 when the pool
 * does not take it (too long, pool full); -1 out of memory.  Any thread.
 */
void		*record_arena_block(size_t size, void **arena);
int		 record_arena_one(const void *arena, const void **data,
		    size_t *len);
void		 record_arena_free(void *arena);
int		 record_intern(const char *s, size_t len, const char **out);
/*
 * record_intern() of n strings (s[i], len[i] bytes, NUL-terminated) under
 * one acquisition of the pool's lock: each s[i] is replaced by the pool's
 * copy, or NULL when the pool does not take it.  0, or -1 when out of
 * memory (s then partly replaced).  Any thread.
 */
int		 record_intern_all(const char **s, const size_t *len, size_t n);

/*
 * record_image.c: fold RECORD_IMAGE_VERSION and the layout of struct record
 * and its parts (sizes, offsets) into a validator, so an image written by a
 * build with another layout is never read.
 */
struct hash_ctx;
void		 record_image_layout(struct hash_ctx *);
/*
 * Write the checksum of an image of len bytes into its header (the tests
 * and the fuzzer, to reach the decoder's checks past it with bytes they
 * changed).  Nothing when len is shorter than a header.
 */
void		 record_image_seal(unsigned char *img, size_t len);

#endif
