/*
 * lint: the harvester rules.  Warnings about a record that passes the
 * schema and every check of record.h, but that an aggregator would refuse
 * or mishandle:
 *
 * - CORE (and BASE) fetch the full text from the link as written: a
 *   fulltext href must be an absolute http(s) URL (syntax.h), on the host
 *   of the landing page (the repository's own host; a leading "www." and
 *   the case of the host do not count), and end in a file name whose
 *   extension matches the link's media type ("report.pdf" for
 *   application/pdf), which is how CORE recognises a full text without
 *   crawling;
 * - OpenAIRE takes a record only in oai_openaire, and only with every
 *   mandatory field: the oai module decides that (oai_offered()), lint
 *   only asks it which of the COAR access right and the COAR resource type
 *   is the missing one (the resource identifier never is: a record naming
 *   none gets the landing page pubfeed serves for it).  A record whose
 *   type is no research output (an event, a news item) is not meant for
 *   OpenAIRE and gets no warning, unless it has a DOI (the mark of a
 *   registered research output: then its type is probably wrong);
 * - a DOI must be well-formed (DOI Handbook 2.2): "10.", a registrant code
 *   of digits, optionally subdivided by ".", then "/" and a suffix that is
 *   not empty and holds no white space or control characters.
 *
 * Every warning has a stable code (the table in schemas/README.md).  It
 * sits above record and oai and below the commands: "pubfeed check" calls
 * it, the daemon serves such records as they are.  No state; thread-safe.
 */
#ifndef PUBFEED_LINT_H
#define PUBFEED_LINT_H

#include <stddef.h>

#include "record.h"

/*
 * Report to fn(arg, ...) every harvester rule the good record r breaks,
 * as RECORD_WARNING diagnostics in the order of the file.  buf (len bytes)
 * is the file r was parsed from, read again only for line numbers; with
 * buf NULL, or when it does not parse, lines are 0.  Returns the number of
 * warnings, or -1 when memory runs out (some may have been reported).
 */
int	 lint_record(const struct record *r, const char *buf, size_t len,
	    record_diag_fn *fn, void *arg);

#endif
