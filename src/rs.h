/*
 * rs: ResourceSync (ANSI/NISO Z39.99-2017, ResourceSync Framework 1.1)
 * documents of a snapshot, for CORE and other ResourceSync destinations.
 *
 * URL layout (paths below conf->base_url), every document a sitemap in the
 * namespaces RS_SITEMAP_NS and RS_NS, served as RS_TYPE:
 *   /.well-known/resourcesync          Source Description
 *   /resourcesync/capabilitylist.xml   Capability List
 *   /resourcesync/resourcelist.xml     Resource List, or its index
 *   /resourcesync/resourcelist/N.xml   sublist N (1-based) of the index
 *   /resourcesync/changelist.xml       Change List, or its index
 *   /resourcesync/changelist/N.xml     sublist N of the index
 * A list with more than conf->rs_page_size URLs (at most RS_MAX_URLS, the
 * sitemap limit) becomes an index of sublists of at most that many URLs
 * each, cut where the items say (before about one item in
 * rs_page_size / (2 x (formats + 1)), by a hash of its id) rather than
 * every N URLs: an item added, removed or changed changes its own page
 * (and, in the Change List, the last page it moves to), not every page
 * after it; the numbers of the pages after it change only when the item
 * is one a page starts with.
 *
 * Resources.  A record's metadata are its OAI-PMH GetRecord URLs, one per
 * format it is disseminated in (lastmod: its datestamp; type
 * application/xml; no length or hash, since every response carries its
 * own responseDate).  Each full text is a resource too (lastmod: the
 * record's datestamp; length and type from the record; rs:ln
 * rel="describedby" to the record's oai_dc GetRecord URL).  No hash is
 * given: pubfeed never fetches full texts.  The Resource List holds the
 * live records by id; its "at" is the snapshot's latest datestamp.
 *
 * Changes come from the persistent state that gives the OAI datestamps:
 * every item once, at its last change, in (datestamp, id) order, so a
 * deletion (a tombstone, kept forever) is never forgotten.  A live item is
 * "created" when it is stamped with the first import, else "updated" (the
 * state keeps when content last changed, not when it first appeared); it
 * lists every format, the ones it is not disseminated in as "deleted", and
 * its full texts.  A tombstone lists every format as "deleted".  A full
 * text that a record stopped linking is not listed (no history of links is
 * kept): it goes with the metadata that described it.
 *
 * rs_build() renders the Source Description, the Capability List and the
 * list indexes with each snapshot; list pages (and a list of one page) are
 * only keyed then, as lazy slots rendered on their first request through
 * s->resolve into the document cache, from the same snapshot (so the bytes
 * the key names).  A list page whose inputs did not change is the previous
 * snapshot's slot.  Pure: never logs.
 */
#ifndef PUBFEED_RS_H
#define PUBFEED_RS_H

#include "err.h"
#include "snap.h"

#define RS_SITEMAP_NS	"http://www.sitemaps.org/schemas/sitemap/0.9"
#define RS_NS		"http://www.openarchives.org/rs/terms/"
#define RS_TYPE		"application/xml"
#define RS_MAX_URLS	50000	/* per sitemap (sitemaps.org, RS 1.1 s. 7) */

#define RS_WELL_KNOWN	"/.well-known/resourcesync"
#define RS_CAPABILITIES	"/resourcesync/capabilitylist.xml"
#define RS_RESOURCES	"/resourcesync/resourcelist.xml"
#define RS_CHANGES	"/resourcesync/changelist.xml"

/*
 * Give s its ResourceSync documents (the document table and lazy slots),
 * sharing from prev (may be NULL) every one whose inputs did not change,
 * and set s->resolve to find the lazy ones (then feed_resolve(), when
 * feed_build() ran first).  0, or -1 with e set (memory, output cap).
 * Only before snap_seal().
 */
int	rs_build(struct snap *s, const struct snap *prev, struct err *e);

#endif
