"""End-to-end: FAIR Signposting, level 1 and level 2 (https://signposting.org/FAIR/).

Every landing page has a link set in both forms of RFC 9264,
/records/ID.linkset (application/linkset) and /records/ID.linkset.json
(application/linkset+json), which its Link header and its HTML head link
with rel="linkset".  The Link header stays within 2048 bytes, so that
libmicrohttpd's 16 KB connection pool always has room for it after the
request; the walk over request sizes checks that every request gets an
answer on that pool.
"""
import gzip
import http.client
import json
import os
import re
import socket
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from pf import Daemon, run, test  # noqa: E402

LINK_MAX = 2048         # FEED_LINK_MAX
DOI_REC = "2023-corruption-procurement-border"
ORCID = "0000-0002-1694-233X"

_LINK = re.compile(r'\s*<([^>]*)>((?:\s*;\s*[A-Za-z*-]+\s*=\s*(?:"[^"]*"|[^;,\s]*))*)\s*(?:,|$)')
_PARAM = re.compile(r'\s*;\s*([A-Za-z*-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))')


def parse_links(value):
    """RFC 8288 Link header syntax (the application/linkset form too):
    [(href, {param: value})]; every byte must belong to a link."""
    out, pos, value = [], 0, value.strip()
    while pos < len(value):
        m = _LINK.match(value, pos)
        assert m and m.end() > pos, "unparsable at %d: %r" % (pos, value[pos:pos + 80])
        params = {}
        for p in _PARAM.finditer(m.group(2)):
            assert p.group(1) not in params, p.group(1)
            params[p.group(1)] = p.group(2) if p.group(2) is not None else p.group(3)
        assert "rel" in params, m.group(0)
        out.append((m.group(1), params))
        pos = m.end()
    return out


def check_linkset_json(doc):
    """RFC 9264 4.2: a sole "linkset" member, an array of link context
    objects, each with an "anchor" and, per relation type, an array of
    target objects with "href"; "type" a string, extension target
    attributes ("profile") arrays of strings.  Returns (anchor, rel, href,
    type, profile) tuples."""
    assert isinstance(doc, dict) and list(doc) == ["linkset"], list(doc)
    assert isinstance(doc["linkset"], list) and doc["linkset"]
    links = []
    for ctx in doc["linkset"]:
        assert isinstance(ctx, dict) and isinstance(ctx.get("anchor"), str), ctx
        assert urllib.parse.urlsplit(ctx["anchor"]).scheme in ("http", "https")
        for rel, targets in ctx.items():
            if rel == "anchor":
                continue
            assert isinstance(targets, list) and targets, rel
            for t in targets:
                assert isinstance(t, dict) and isinstance(t.get("href"), str), t
                for k, v in t.items():
                    if k in ("href", "type"):
                        assert isinstance(v, str), (k, v)
                    else:
                        assert isinstance(v, list) and all(isinstance(x, str) for x in v), (k, v)
                links.append((ctx["anchor"], rel, t["href"], t.get("type"),
                              (t.get("profile") or [None])[0]))
    return links


def get(d, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def linksets_of(link):
    return {p["type"]: href for href, p in parse_links(link) if p["rel"] == "linkset"}


_d = []


def daemon():
    if not _d:
        _d.append(Daemon().start())
    return _d[0]


@test
def every_landing_page_links_its_link_set_in_both_forms():
    d = daemon()
    page = d.base + "/records/%s.html" % DOI_REC
    for lang in ("", "/bg", "/nb"):
        r, body = get(d, "%s/records/%s.html" % (lang, DOI_REC))
        assert r.status == 200, r.status
        sets = linksets_of(r.getheader("Link"))
        assert sets == {
            "application/linkset": d.base + "/records/%s.linkset" % DOI_REC,
            "application/linkset+json": d.base + "/records/%s.linkset.json" % DOI_REC,
        }, sets
        # the HTML head: every typed link, the link sets too
        for typ, href in sets.items():
            assert ('<link rel="linkset" href="%s" type="%s"/>' % (href, typ)).encode() in body
    r, _ = get(d, "/records/%s.html" % DOI_REC)
    header = parse_links(r.getheader("Link"))
    r, body = get(d, "/records/%s.linkset.json" % DOI_REC)
    assert r.status == 200 and r.getheader("Content-Type") == "application/linkset+json"
    links = check_linkset_json(json.loads(body))
    # level 2: what the header says of the landing page, and more
    for href, p in header:
        if p["rel"] == "linkset":
            continue
        assert (page, p["rel"], href, p.get("type"), p.get("profile")) in links, (href, p)
    rels = {(a == page, rel) for a, rel, *_ in links}
    for rel in ("cite-as", "type", "author", "item", "describedby", "license"):
        assert (True, rel) in rels, rel
    assert any(rel == "cite-as" and href == "https://doi.org/10.5555/csd.2023.checkpoint-capture"
               for _, rel, href, *_ in links)
    # content resources link back with collection, metadata with describes
    items = [h for a, rel, h, *_ in links if a == page and rel == "item"]
    metas = [h for a, rel, h, *_ in links if a == page and rel == "describedby"]
    assert items and metas
    for h in items:
        assert (h, "collection", page, "text/html", None) in links, h
    for h in metas:
        assert (h, "describes", page, "text/html", None) in links, h
    # application/linkset: the same links, each with its anchor
    r, text = get(d, "/records/%s.linkset" % DOI_REC)
    assert r.status == 200 and r.getheader("Content-Type") == "application/linkset"
    got = parse_links(text.decode())
    assert all("anchor" in p for _, p in got)
    assert sorted((p["anchor"], p["rel"], h, p.get("type"), p.get("profile"))
                  for h, p in got) == sorted(links)


@test
def link_sets_are_documents_like_every_other():
    d = daemon()
    for path in ("/records/%s.linkset" % DOI_REC, "/records/%s.linkset.json" % DOI_REC):
        r, plain = get(d, path)
        etag, lm = r.getheader("ETag"), r.getheader("Last-Modified")
        assert r.status == 200 and etag and lm, (r.status, etag, lm)
        assert r.getheader("Vary") == "Accept-Encoding"
        assert "max-age" in r.getheader("Cache-Control")
        assert r.getheader("Link") is None      # the landing page's only
        r, gz = get(d, path, {"Accept-Encoding": "gzip"})
        assert r.getheader("Content-Encoding") == "gzip" and gzip.decompress(gz) == plain
        for h in ({"If-None-Match": etag}, {"If-Modified-Since": lm},
                  {"If-None-Match": r.getheader("ETag"), "Accept-Encoding": "gzip"}):
            r, body = get(d, path, h)
            assert r.status == 304 and body == b"", (path, h, r.status)
    for path in ("/bg/records/%s.linkset" % DOI_REC, "/records/nope.linkset.json",
                 "/records/%s.linkset.jsonx" % DOI_REC, "/records/.linkset"):
        assert get(d, path)[0].status == 404, path


def worst_record(path):
    """400 authors with an ORCID iD, 60 full texts with long URLs, a
    2,000-character title, a long DOI, a 100-character id."""
    rid = "W" * 100
    creators = "".join(
        "<creator><person><family>Author%d</family><given>Given</given>"
        "<orcid>%s</orcid></person></creator>" % (i, ORCID) for i in range(400))
    links = "".join(
        '<link rel="fulltext" href="https://files.example.org/very/long/path/'
        'to/the/full/text/%d/%s.pdf" type="application/pdf" length="1234" '
        'xml:lang="en"/>' % (i, "x" * 100) for i in range(60))
    with open(os.path.join(path, "worst.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<record xmlns="https://pubfeed.org/ns/record/1" id="%s" '
                'type="article"><title>%s</title>%s'
                '<issued>2021-07-01T12:00:00Z</issued><language>en</language>'
                '<access>open</access>'
                '<rights license="https://creativecommons.org/licenses/by/4.0/">'
                'x</rights><identifier type="doi">10.1234/%s</identifier>%s'
                '</record>\n' % (rid, "T" * 2000, creators, "d" * 200, links))
    return rid


_w = []


def worst():
    if not _w:
        recs = pf.mkdtemp()
        rid = worst_record(recs)
        _w.append((Daemon(records=recs).start(), rid))
    return _w[0]


@test
def a_record_of_400_authors_has_a_bounded_header_and_a_full_link_set():
    d, rid = worst()
    path = "/records/%s.html" % rid
    for enc in ({}, {"Accept-Encoding": "gzip"}):
        r, _ = get(d, path, enc)
        assert r.status == 200, r.status
        link = r.getheader("Link")
        assert link and len(link) <= LINK_MAX, len(link or "")
        got = parse_links(link)
        rels = [p["rel"] for _, p in got]
        # level 1 first: the link sets, cite-as, type, describedby, licence
        for rel in ("linkset", "cite-as", "type", "describedby", "license"):
            assert rel in rels, (rel, rels)
        assert rels.count("linkset") == 2 and rels.count("type") == 2
        assert rels.count("author") < 400
        etag = r.getheader("ETag")
        r, body = get(d, path, dict(enc, **{"If-None-Match": etag}))
        assert r.status == 304 and r.getheader("Link") == link, r.status
    r, body = get(d, "/records/%s.linkset.json" % rid)
    links = check_linkset_json(json.loads(body))
    page = d.base + path
    assert sum(1 for a, rel, *_ in links if a == page and rel == "author") == 400
    assert sum(1 for a, rel, *_ in links if a == page and rel == "item") == 60
    assert sum(1 for _, rel, *_ in links if rel == "collection") == 60
    r, text = get(d, "/records/%s.linkset" % rid)
    assert len(parse_links(text.decode())) == len(links)


def raw(port, req):
    """The response head to req, or None when the connection closed without one."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return None
            data += chunk
        return data.split(b"\r\n\r\n")[0]
    finally:
        s.close()


def status(head):
    return int(head.split(b" ")[1]) if head else None


@test
def large_requests_get_their_answers_on_a_16_kb_pool():
    d, rid = worst()
    path = ("/records/%s.html" % rid).encode()
    base = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n" % path
    # a 6 KB cookie: the landing page with its whole header
    head = raw(d.port, base + b"Cookie: " + b"c" * 6144 + b"\r\n\r\n")
    assert status(head) == 200, head and head[:100]
    link = [l for l in head.split(b"\r\n") if l.startswith(b"Link: ")]
    assert len(link) == 1 and parse_links(link[0][6:].decode())
    # a 6 KB resumption token by GET: an OAI-PMH answer (badResumptionToken)
    tok = "x" * 6144
    r, body = get(d, "/oai?verb=ListRecords&resumptionToken=" + tok)
    assert r.status == 200 and b"badResumptionToken" in body, (r.status, body[:200])
    # past the limit: 414 for a long request-target, 431 for the fields
    r, _ = get(d, "/oai?verb=ListRecords&resumptionToken=" + "x" * 16384)
    assert r.status == 414, r.status
    head = raw(d.port, base + b"Cookie: " + b"c" * 8192 + b"\r\n\r\n")
    assert status(head) == 431, head
    # every size, one large field or many small ones: an answer, never a
    # connection closed without one, and the page whenever it is answered.
    # Up to 7.8 KB: libmicrohttpd 0.9.75 itself closes some 100 bytes
    # below where its read buffer stops growing (8 KB and 16 KB on this
    # pool, 16 KB and 32 KB on its default one) whatever the answer.
    for n in range(0, 7700, 97):
        head = raw(d.port, base + b"Cookie: " + b"c" * n + b"\r\n\r\n")
        assert status(head) in (200, 431), (n, head)
        if n <= 6144:
            assert status(head) == 200, n
    for n in range(0, 400, 3):
        fields = b"".join(b"X-F%d: v\r\n" % i for i in range(n))
        head = raw(d.port, base + fields + b"\r\n")
        assert status(head) in (200, 431), (n, head)
        if n <= 20:
            assert status(head) == 200, n
    for n in range(0, 7700, 211):
        head = raw(d.port, b"GET /oai?verb=Identify&x=%s HTTP/1.1\r\nHost: "
                   b"127.0.0.1\r\n\r\n" % (b"y" * n))
        assert status(head) in (200, 414), (n, head)
    for n in (9000, 12000, 15000):
        head = raw(d.port, base + b"Cookie: " + b"c" * n + b"\r\n\r\n")
        assert status(head) == 431, (n, head)

run()
