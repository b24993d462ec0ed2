#!/usr/bin/env node
// Read a feed with the npm package "@extractus/feed-extractor", as a web
// application would, and print what it understood as JSON on stdout.
//
// usage: node feed_extract.js URL
// Prints {"title", "language", "link", "entries": [{"id", "title", "link",
// "published", "description", "date_modified", "tags", "attachments"}]};
// exits 1 with the client's message on any error.
'use strict'

const { extract } = require('@extractus/feed-extractor')

async function main () {
  const url = process.argv[2]
  if (!url) {
    throw new Error('usage: feed_extract.js URL')
  }
  const feed = await extract(url, {
    useISODateFormat: true,
    descriptionMaxLen: 100000,
    // JSON Feed members the normalized entry leaves out
    getExtraEntryFields: (item) => ({
      date_modified: item.date_modified,
      tags: item.tags,
      attachments: item.attachments
    })
  })
  process.stdout.write(JSON.stringify(feed) + '\n')
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n')
  process.exit(1)
})
