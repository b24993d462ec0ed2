/*
 * cmdnew: the "pubfeed new TYPE [--id ID]" command.  Prints a commented
 * record template for one record type on out: the elements that type needs
 * and the optional ones it usually has, each value an @PLACEHOLDER@
 * (@ID@, @TITLE@, @ISSUED@, ...) and each element's rule in a comment next
 * to it.  Once every placeholder is replaced by a real value the file passes
 * "pubfeed check"; before that it does not (@ID@ is not an id, @ISSUED@ not
 * a date).  Called by main only.
 */
#ifndef PUBFEED_CMDNEW_H
#define PUBFEED_CMDNEW_H

#include <stdio.h>

/*
 * Print the template for type (the schema's spelling, "report"); id, when
 * not NULL, is filled in.  Returns the exit status: 0, 2 when type or id is
 * not valid (said on stderr), 1 when out could not be written.
 */
int	cmdnew_print(const char *type, const char *id, FILE *out);

#endif
