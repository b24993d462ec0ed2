/*
 * cmdcheck: the "pubfeed check" command.  Checks record files, or every record
 * of a records directory, the way an editor needs: every problem of every
 * file in one run, as "path:line:col: error: message" (or "warning:"), or
 * one JSON object per line per problem.  Without a configuration the
 * records are checked on their own and set names cannot be (it says so
 * once, on stderr).  Called by main only; prints on stdout and stderr.
 */
#ifndef PUBFEED_CMDCHECK_H
#define PUBFEED_CMDCHECK_H

#include <stddef.h>

#include "conf.h"

struct cmdcheck_opts {
	const struct conf	*conf;	/* NULL: no configuration */
	const char		*const *paths;	/* files or directories */
	size_t			 npaths;	/* 0: conf's records directory */
	int			 is_strict;	/* warnings fail too */
	int			 is_json;	/* --format json */
};

/*
 * Check and print.  Returns the exit status: 1 when any file had an error
 * (or, is_strict, a warning), else 0.
 */
int	cmdcheck_run(const struct cmdcheck_opts *);

#endif
