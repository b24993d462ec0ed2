/*
 * import: "pubfeed import", bibliographic data (CSL-JSON, RIS, CSV) turned
 * into record files.
 *
 * Each reader (import_csl.c, import_ris.c, import_csv.c) parses a whole file
 * from memory into neutral items, one at a time, and hands each to a
 * callback with its position in the file (the 1-based item index for
 * CSL-JSON, the line of its first tag for RIS, the line its row starts on
 * for CSV).  An item the reader cannot make sense of is handed over as an
 * error message instead, so the others still get through; only a file that
 * cannot be read at all (not JSON, a CSV header that names no known column)
 * fails the whole parse.  Readers never log and never touch the filesystem.
 *
 * import_render() writes one item as a record (schemas/record.xsd) through
 * xmlTextWriter; import_item_id() derives its id (see below).  import_run()
 * is the command: it reads the files, writes each record atomically into the
 * records directory after record_parse_mem() accepted exactly those bytes,
 * and reports every item that failed as "FILE:N: message" on stderr.
 *
 * Ids, in order of preference, each slugified by import_slug():
 *   1. the item's citation key (CSL "citation-key", else its "id"; RIS
 *      "ID"; CSV "id");
 *   2. its DOI, as "doi-" + the DOI ("doi-10.1234-csd.2019.1");
 *   3. its year and title, "2019-" + the title cut at a word boundary to at
 *      most IMPORT_TITLE_SLUG bytes.
 * The same item always yields the same id, so a second import with
 * --update replaces the same files.
 */
#ifndef PUBFEED_IMPORT_H
#define PUBFEED_IMPORT_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define IMPORT_ID_MAX		128	/* the record id's longest form */
#define IMPORT_TITLE_SLUG	60
#define IMPORT_MAX_BYTES	(64 * 1024 * 1024)	/* largest input file */

struct import_text {
	char	*lang;		/* BCP 47 tag; NULL: the item's language */
	char	*text;
};

struct import_texts {
	struct import_text	*v;
	size_t			 n, cap;
};

struct import_strs {
	char	**v;
	size_t	  n, cap;
};

/* A person (family set, given may be NULL) or an organisation (org set). */
struct import_agent {
	char	*family;
	char	*given;
	char	*org;
};

struct import_agents {
	struct import_agent	*v;
	size_t			 n, cap;
};

/*
 * One bibliographic item, every string owned by the item.  Dates are kept
 * as the source wrote them once brought to ISO order: "2019", "2019-05",
 * "2019-05-14" or a full date-time; import_render() checks them.
 */
struct import_item {
	char			*key;		/* citation key, or NULL */
	char			*type;		/* record type ("report"), or NULL */
	char			*lang;		/* main language, or NULL */
	struct import_texts	 titles;
	struct import_texts	 subtitles;
	struct import_agents	 authors;
	struct import_agents	 editors;
	char			*issued;
	char			*event_start;
	char			*event_end;
	char			*event_place;
	struct import_strs	 languages;
	struct import_texts	 subjects;
	struct import_texts	 abstracts;
	char			*publisher;
	char			*place;
	char			*series;	/* series, journal or book */
	char			*doi;
	struct import_strs	 isbns;
	struct import_strs	 issns;
	char			*url;		/* landing page */
	struct import_strs	 sets;
};

void	import_item_init(struct import_item *);
void	import_item_release(struct import_item *);

/*
 * Helpers for the readers.  Each copies what it is given (len bytes, or up
 * to the NUL when len is (size_t)-1), trims white space and ignores an empty
 * value; import_set() replaces *dst only when it is still NULL, so the first
 * of two synonyms wins.  0, or -1 when memory ran out.
 */
int	import_set(char **dst, const char *s, size_t len);
int	import_strs_add(struct import_strs *, const char *s, size_t len);
int	import_texts_add(struct import_texts *, const char *lang,
	    const char *s, size_t len);
/* "Family, Given" is a person; a name without a comma an organisation. */
int	import_agents_add_name(struct import_agents *, const char *s,
	    size_t len);
int	import_agents_add(struct import_agents *, const char *family,
	    const char *given, const char *org);
/* Split s at every sep and add each non-empty piece. */
int	import_strs_split(struct import_strs *, const char *s, size_t len,
	    char sep);
/* The same, each piece a text in lang. */
int	import_texts_split(struct import_texts *, const char *lang,
	    const char *s, size_t len, char sep);
/*
 * A source date ("2019", "2019-5", "2019/05/14/", "2019-05-14T10:00:00Z")
 * in ISO order, or NULL when it is not one.  Caller frees.
 */
char	*import_date_iso(const char *s, size_t len);

/*
 * Called once per item in file order: it is the item (the callee may steal
 * its strings; the reader releases it afterwards) or NULL with why saying
 * what was wrong.  pos: see above.  Return -1 to stop the reader.
 */
typedef int	import_item_fn(void *arg, struct import_item *it, long pos,
	    const char *why);

/* The readers: 0 when the file as a whole was read, else -1 with e set. */
int	import_csl_parse(const char *buf, size_t len, import_item_fn *fn,
	    void *arg, struct err *e);
int	import_ris_parse(const char *buf, size_t len, import_item_fn *fn,
	    void *arg, struct err *e);
int	import_csv_parse(const char *buf, size_t len, import_item_fn *fn,
	    void *arg, struct err *e);

/*
 * s as an id fragment: ASCII letters and digits kept (lower-cased), '.',
 * '_' and '-' kept, Latin letters with diacritics, Norwegian/Danish ae, oe,
 * aa and Cyrillic transliterated (Bulgarian streamlined system), everything
 * else one '-'; runs of '-' collapsed, no leading or trailing '-' or '.'.
 * At most max bytes (cut at a '-' when one is near), NUL-terminated in out
 * (max + 1 bytes).  Returns the length, 0 when nothing was left.
 */
size_t	import_slug(const char *s, char *out, size_t max);
/* The item's id (see above) in out; -1 when it has none of the three. */
int	import_item_id(const struct import_item *, char out[IMPORT_ID_MAX + 1]);

/*
 * Append the item as a record file with this id to out.  -1 with e set
 * (no location) when the item lacks something a record needs (a title, a
 * date, a language, a type).  Dates are written at the precision the item
 * has; *partial is set when one is a year or a year-month, and with pad such
 * a date is written as the first day of the period instead (import_run()
 * does that when the record parser refuses the shorter form).
 */
int	import_render(const struct import_item *, const char *id, int pad,
	    struct buf *out, int *partial, struct err *e);

struct import_opts {
	const char		*from;	/* "csl-json", "ris" or "csv" */
	const char		*dir;	/* records directory */
	int			 is_update;	/* replace existing files */
	const char *const	*files;
	size_t			 nfiles;
};

/*
 * The command: import every item of every file into o->dir.  Prints a line
 * per written file on stdout, a "FILE:N: message" per failed item on stderr
 * and a summary.  Returns the exit status: 1 when any item or file failed.
 */
int	import_run(const struct import_opts *);

#endif
