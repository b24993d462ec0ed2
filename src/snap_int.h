/*
 * snap_int.h: what the files of the snap module share, and nothing outside
 * it includes.  Calls go one way: snap_build.c (building) uses snap.c
 * (references, lookups), which uses snap_doc.c (documents) to free a
 * snapshot; snap_doc.c calls neither.
 */
#ifndef PUBFEED_SNAP_INT_H
#define PUBFEED_SNAP_INT_H

#include "snap.h"

/* snap.c */
/*
 * Make it the tombstone t: its id and sets copied into one counted block
 * that successive snapshots share.  0, or -1 when out of memory (it is
 * left unset).
 */
int	snap_add_tomb(struct snap_item *it, const struct snap_tomb *t);
/* One more reference to what an item holds (its record or tombstone). */
void	snap_item_ref(struct snap_item *);
void	snap_item_unref(struct snap_item *);

/* snap_doc.c */
/* Drop the documents, archive pages and deflate stream of s. */
void	snap_docs_release(struct snap *s);

#endif
