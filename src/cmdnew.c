/*
 * cmdnew: "pubfeed new TYPE [--id ID]", a commented record template (see
 * cmdnew.h).  Written through xmlTextWriter like every other document.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmdnew.h"
#include "record.h"
#include "xw.h"
#include "banned.h"

/* The schema's id pattern, [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
static int
is_id(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= 128 && isalnum((unsigned char)s[0]) &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

static void
person(struct xw *w, const char *elem, const char *role)
{
	xw_start(w, elem);
	xw_attr(w, "role", role);
	xw_start(w, "person");
	xw_elem(w, "family", "@FAMILY@");
	xw_elem(w, "given", "@GIVEN@");
	xw_end(w);
	xw_end(w);
}

static void
render(struct xw *w, enum record_type t, const char *id)
{
	int	 is_event = t == RECORD_EVENT;

	xw_comment(w, " pubfeed record template (pubfeed new). Replace every "
	    "placeholder in @...@, delete the optional elements you do not need "
	    "(each is marked so), then check the file with: pubfeed check "
	    "FILE. The format is described in schemas/README.md. ");
	xw_start_ns(w, NULL, "record", RECORD_NS);
	xw_attr(w, "id", id != NULL ? id : "@ID@");
	xw_attr(w, "type", record_type_name(t));
	xw_attr(w, "xml:lang", "@LANGUAGE@");
	xw_comment(w, " id: letters, digits, '.', '_' and '-', never changed "
	    "once published; xml:lang: the main language, e.g. en or bg ");
	xw_comment(w, " required: the main title; more titles may follow, "
	    "each with its xml:lang ");
	xw_elem(w, "title", "@TITLE@");
	xw_comment(w, " optional ");
	xw_elem(w, "subtitle", "@SUBTITLE@");
	if (!is_event) {
		xw_comment(w, " authors, one creator each: a person, or "
		    "<organisation>Name</organisation> instead ");
		xw_start(w, "creator");
		xw_start(w, "person");
		xw_elem(w, "family", "@FAMILY@");
		xw_elem(w, "given", "@GIVEN@");
		xw_end(w);
		xw_end(w);
	}
	if (t == RECORD_BOOK || t == RECORD_CHAPTER) {
		xw_comment(w, " optional: the book's editors ");
		person(w, "contributor", "editor");
	}
	if (is_event) {
		xw_comment(w, " speakers (role also moderator, organiser) ");
		person(w, "contributor", "speaker");
	}
	xw_comment(w, is_event ? " required: the date the event was "
	    "announced, YYYY-MM-DD " : " required: the publication date, "
	    "YYYY-MM-DD ");
	xw_elem(w, "issued", "@ISSUED@");
	if (is_event) {
		xw_comment(w, " required: when and where; start and end are "
		    "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ; end is optional ");
		xw_start(w, "event");
		xw_elem(w, "start", "@START@");
		xw_elem(w, "end", "@END@");
		xw_elem(w, "place", "@VENUE@");
		xw_end(w);
	}
	xw_comment(w, " required: the language of the text, two letters; "
	    "one element per language ");
	xw_elem(w, "language", "@LANGUAGE@");
	xw_comment(w, " optional: keywords, one per element ");
	xw_elem(w, "subject", "@SUBJECT@");
	xw_comment(w, " optional: a summary; a blank line starts a new "
	    "paragraph ");
	xw_elem(w, "abstract", "@ABSTRACT@");
	if (!is_event && t != RECORD_NEWS) {
		xw_comment(w, " optional ");
		xw_elem(w, "publisher", "@PUBLISHER@");
		xw_comment(w, " access rights, which OpenAIRE requires: open, "
		    "embargoed (with until=\"YYYY-MM-DD\"), restricted or "
		    "metadata-only ");
		xw_elem(w, "access", "open");
	}
	if (t == RECORD_ARTICLE || t == RECORD_CHAPTER) {
		xw_comment(w, t == RECORD_ARTICLE ? " optional: the journal " :
		    " optional: the book the chapter is in ");
		xw_elem(w, "series", "@SERIES@");
	} else if (t == RECORD_REPORT || t == RECORD_POLICY_BRIEF ||
	    t == RECORD_WORKING_PAPER) {
		xw_comment(w, " optional: the series ");
		xw_elem(w, "series", "@SERIES@");
	}
	if (t == RECORD_BOOK || t == RECORD_CHAPTER || t == RECORD_REPORT) {
		xw_comment(w, " optional: ISBN ");
		xw_start(w, "identifier");
		xw_attr(w, "type", "isbn");
		xw_text(w, "@ISBN@");
		xw_end(w);
	}
	if (!is_event && t != RECORD_NEWS) {
		xw_comment(w, " optional: the DOI, bare: 10.1234/abc ");
		xw_start(w, "identifier");
		xw_attr(w, "type", "doi");
		xw_text(w, "@DOI@");
		xw_end(w);
	}
	xw_comment(w, " optional: the web page, an absolute http(s) URL ");
	xw_start(w, "link");
	xw_attr(w, "rel", "landing");
	xw_attr(w, "href", "@LANDING_URL@");
	xw_end(w);
	xw_comment(w, " optional: OAI-PMH sets, as configured in "
	    "pubfeed.conf, e.g. <set>topic:smuggling</set> ");
	xw_end(w);
}

int
cmdnew_print(const char *type, const char *id, FILE *out)
{
	enum record_type t;
	struct buf	 b;
	struct xw	 w;
	int		 i, rc = 2;

	if (record_type_parse(type, &t) == -1) {
		fprintf(stderr, "pubfeed: new: not a record type: '%s'; one of",
		    type);
		for (i = 0; i < RECORD_TYPE_COUNT; i++)
			fprintf(stderr, " %s", record_type_name(
			    (enum record_type)i));
		fprintf(stderr, "\n");
		return 2;
	}
	if (id != NULL && !is_id(id)) {
		fprintf(stderr, "pubfeed: new: --id: not a record id (a letter "
		    "or digit, then up to 127 letters, digits, '.', '_' or "
		    "'-'): '%s'\n", id);
		return 2;
	}
	buf_init(&b, 1024 * 1024);
	if (xw_open(&w, &b, 1, 1) == -1) {
		fprintf(stderr, "pubfeed: out of memory\n");
		goto out;
	}
	render(&w, t, id);
	if (xw_close(&w) == -1) {
		fprintf(stderr, "pubfeed: out of memory\n");
		goto out;
	}
	if (fwrite(b.data, 1, b.len, out) != b.len || fflush(out) != 0) {
		fprintf(stderr, "pubfeed: new: cannot write the template\n");
		rc = 1;
		goto out;
	}
	rc = 0;
out:
	buf_release(&b);
	return rc;
}
