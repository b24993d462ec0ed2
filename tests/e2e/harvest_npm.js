#!/usr/bin/env node
// Harvest a pubfeed OAI-PMH endpoint with the npm package "oai-pmh"
// (paperhive's harvester), following resumption tokens the way it does.
//
// usage: node harvest_npm.js BASEURL ListIdentifiers|ListRecords PREFIX
//            [set=SPEC] [from=DATE] [until=DATE]
// Prints one line per item: "identifier<TAB>datestamp<TAB>status" (status
// "live" or "deleted"); exits 1 with the client's message on any error.
'use strict'

const { OaiPmh } = require('oai-pmh')

function header (item, verb) {
  return verb === 'ListRecords' ? item.header : item
}

async function main () {
  const [baseUrl, verb, prefix, ...rest] = process.argv.slice(2)
  if (!baseUrl || !verb || !prefix) {
    throw new Error('usage: harvest_npm.js BASEURL VERB PREFIX [k=v ...]')
  }
  const options = { metadataPrefix: prefix }
  for (const kv of rest) {
    const i = kv.indexOf('=')
    options[kv.slice(0, i)] = kv.slice(i + 1)
  }
  // no retry loop: a 503 is a test failure here, not something to wait out
  const client = new OaiPmh(baseUrl, { retry: false })
  const it = verb === 'ListRecords'
    ? client.listRecords(options)
    : client.listIdentifiers(options)
  const lines = []
  for await (const item of it) {
    const h = header(item, verb)
    const status = h.$ && h.$.status === 'deleted' ? 'deleted' : 'live'
    lines.push(`${h.identifier}\t${h.datestamp}\t${status}`)
  }
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''))
}

main().catch((e) => {
  process.stderr.write(`harvest_npm: ${e.message}${e.code ? ' (' + e.code + ')' : ''}\n`)
  process.exit(1)
})
