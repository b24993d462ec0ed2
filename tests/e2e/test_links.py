#!/usr/bin/python3
"""End-to-end: where feeds and OAI-PMH metadata send a reader, and that
no link inside the site is broken (issue 12 points 3 and 5).

One daemon serves the sample collection with the landing page taken out
of every other record (sorted by id), so both kinds are there: a record
with a landing page of its own is linked there, and pubfeed's page for it
names that one rel="canonical"; a record without one is linked to
pubfeed's page, base-url + "/records/ID.html" (in the feed's language for
the /lang/bg/ and /lang/nb/ feeds, whose pages exist under /bg/ and /nb/).
Checked with real parsers: feedparser for Atom and RSS, json for JSON
Feed, python3-icalendar for iCalendar, lxml for OAI-PMH (every response
also validated against ../shared/standards; MARC::Lint, as test_oai.py
runs it, on every marc21 record).  Every link that points into the site
answers 200 with the record's title.

A record alone in a set is then deleted: the set, kept only by its
tombstone, leaves ListSets, the /oai page and the home page in every
language, while ListIdentifiers&set=SPEC still answers the deleted header
with its setSpec (OAI-PMH 2.0 sections 2.5.1 and 2.7.2).

Last, a crawl from "/", "/bg/" and "/nb/" plus every landing page, every
feed entry link and every OAI identifier that points into the site: every
internal href and src answers 200.
"""
import glob
import json
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

import feedparser  # noqa: E402
import icalendar  # noqa: E402
from lxml import etree, html as lhtml  # noqa: E402

from pf import (Daemon, SAMPLES, mkdtemp, run, skip,  # noqa: E402
                test, validate_atom, validate_oai)

RNS = "{https://pubfeed.org/ns/record/1}"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
NS = {
    "oai": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "marc": "http://www.loc.gov/MARC21/slim",
    "k": "http://datacite.org/schema/kernel-4",
    "datacite": "http://datacite.org/schema/kernel-4",
    "oaire": "http://namespace.openaire.eu/schema/oaire/",
}
LANGS = {"en": "", "bg": "/bg", "nb": "/nb"}
GONE_SET = "topic:withdrawn-only"
GONE_ID = "2099-withdrawn-alone"
GONE = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="%s" type="report">
  <title>Withdrawn before anything else joined its set</title>
  <issued>2020-01-01</issued>
  <language>en</language>
  <set>%s</set>
</record>
""" % (GONE_ID, GONE_SET)

_g = {}


def records_dir():
    """The samples, every other record without its landing page; returns
    (dir, {id: own landing URL or None}, {id: {lang: title}})."""
    d = os.path.join(mkdtemp(), "records")
    own, titles, files = {}, {}, {}
    for src in sorted(glob.glob(os.path.join(SAMPLES, "**", "*.xml"),
                                recursive=True)):
        root = etree.parse(src).getroot()
        files[root.get("id")] = src
    for n, rid in enumerate(sorted(files)):
        src = files[rid]
        with open(src, encoding="utf-8") as f:
            text = f.read()
        if n % 2 == 1:
            text = re.sub(r'\s*<link rel="landing"[^>]*/>', "", text)
        dst = os.path.join(d, os.path.relpath(src, SAMPLES))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w", encoding="utf-8") as f:
            f.write(text)
        root = etree.fromstring(text.encode("utf-8"))
        land = [ln.get("href") for ln in root.iter(RNS + "link")
                if ln.get("rel") == "landing"]
        own[rid] = land[0] if land else None
        titles[rid] = {t.get("{http://www.w3.org/XML/1998/namespace}lang"):
                       t.text for t in root.findall(RNS + "title")}
    with open(os.path.join(d, "gone.xml"), "w", encoding="utf-8") as f:
        f.write(GONE)
    own[GONE_ID] = None
    titles[GONE_ID] = {None: etree.fromstring(GONE.encode()).findtext(
        RNS + "title")}
    return d, own, titles


def daemon():
    if "d" not in _g:
        recs, own, titles = records_dir()
        _g["own"], _g["titles"] = own, titles
        assert any(v is None for v in own.values()), own
        assert any(v is not None for v in own.values()), own
        d = Daemon(records=recs, copy=False, entries=100, page=5)
        d.start()
        _g["d"] = d
    return _g["d"]


def path_of(d, url):
    """The path + query of a URL into the site, or None."""
    if not url.startswith(d.base + "/"):
        return None
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def here(d, rid, lang="en"):
    return d.base + LANGS[lang] + "/records/%s.html" % rid


def norm(s):
    return " ".join(s.split())


def page_says(d, url, title, lang=None):
    """url answers 200 with an HTML page whose text holds title."""
    st, h, body = d.get(path_of(d, url))
    assert st == 200, (url, st)
    assert h["content-type"].startswith("text/html"), (url, h)
    doc = lhtml.fromstring(body)
    assert norm(title) in norm(doc.text_content()), (url, title)
    if lang is not None:
        assert doc.get("lang") == lang, (url, doc.get("lang"))
    return doc


def want_link(d, rid, lang="en"):
    own = _g["own"][rid]
    return own if own is not None else here(d, rid, lang)


def check_entry(d, rid, link, title, lang="en"):
    """An entry's link: the record's own landing page, else pubfeed's,
    which then answers with the title; pubfeed's page for a record with
    its own names that one canonical."""
    assert link == want_link(d, rid, lang), (rid, link, lang)
    if _g["own"][rid] is None:
        page_says(d, link, title, lang)
    else:
        doc = page_says(d, here(d, rid, lang), title, lang)
        canon = doc.xpath("//head/link[@rel='canonical']/@href")
        assert canon == [_g["own"][rid]], (rid, canon)


def id_of_entry(e):
    m = re.search(r"record[:/](.+)$", e)
    assert m, e
    return m.group(1)


def atom_rss(d, path, lang="en"):
    st, _, body = d.get(path)
    assert st == 200, (path, st)
    if path.endswith(".atom"):
        validate_atom(body)
    f = feedparser.parse(body)
    assert f.bozo == 0, (path, f.bozo_exception)
    assert f.entries, path
    n = 0
    for e in f.entries:
        rid = id_of_entry(e.id)
        if rid == GONE_ID:
            continue
        if path.endswith(".atom"):
            alt = [ln.href for ln in e.links if ln.rel == "alternate"]
            assert len(alt) == 1, (rid, e.links)
            types = [ln.type for ln in e.links if ln.rel == "alternate"]
            assert types == ["text/html"], (rid, types)
            link = alt[0]
        else:
            link = e.link
        check_entry(d, rid, link, e.title, lang)
        n += 1
    return n


@test
def atom_and_rss_entries_link_the_landing_page():
    d = daemon()
    for path in ("/feed.atom", "/feed.rss"):
        n = atom_rss(d, path)
        assert n >= 30, (path, n)


@test
def language_feeds_link_the_page_in_their_language():
    d = daemon()
    for lang in ("bg", "nb"):
        for ext in ("atom", "rss"):
            assert atom_rss(d, "/lang/%s/feed.%s" % (lang, ext), lang) > 0


@test
def json_feed_items_link_the_landing_page():
    d = daemon()
    for path, lang in (("/feed.json", "en"), ("/lang/bg/feed.json", "bg"),
                       ("/lang/nb/feed.json", "nb")):
        st, _, body = d.get(path)
        assert st == 200, path
        items = json.loads(body)["items"]
        assert items, path
        for it in items:
            rid = id_of_entry(it["id"])
            if rid == GONE_ID:
                continue
            assert "url" in it, (path, rid)
            check_entry(d, rid, it["url"], it["title"], lang)


@test
def calendar_events_link_the_landing_page():
    d = daemon()
    st, _, body = d.get("/feed.ics")
    assert st == 200
    cal = icalendar.Calendar.from_ical(body)
    events = list(cal.walk("VEVENT"))
    assert events
    kinds = set()
    for ev in events:
        rid = id_of_entry(str(ev["UID"]))
        url = str(ev["URL"])
        kinds.add(_g["own"][rid] is None)
        check_entry(d, rid, url, str(ev["SUMMARY"]))
    # the sample events are of both kinds here
    assert kinds == {True, False}, kinds


def oai_list(d, prefix, schema="oai-pmh-all.xsd", extra=""):
    """Every record of ListRecords in prefix, each response validated."""
    out = []
    q = "verb=ListRecords&metadataPrefix=%s%s" % (prefix, extra)
    while True:
        st, _, body = d.oai(q)
        assert st == 200, body[:300]
        validate_oai(body, schema)
        doc = etree.fromstring(body)
        assert not doc.findall(OAI + "error"), body[:500]
        out += doc.iter(OAI + "record")
        tok = doc.findtext(".//" + OAI + "resumptionToken")
        if not tok:
            return out
        q = "verb=ListRecords&resumptionToken=" + urllib.parse.quote(tok)


def rec_id(rec):
    return rec.findtext(OAI + "header/" + OAI + "identifier").split(":",
                                                                   2)[2]


def title_of(rid):
    t = _g["titles"][rid]
    return t.get(None) or next(iter(t.values()))


def check_oai_url(d, rid, url):
    """An identifier naming a landing page: the record's own, else ours,
    which answers 200 with the record's title (English, x-default, page:
    the record's main title is on it whatever its language)."""
    assert url == want_link(d, rid), (rid, url)
    if _g["own"][rid] is None:
        page_says(d, url, title_of(rid))


@test
def oai_dc_identifier_names_the_landing_page_first():
    d = daemon()
    recs = [r for r in oai_list(d, "oai_dc")
            if r.find(OAI + "header").get("status") != "deleted"]
    assert len(recs) == len(_g["own"]), len(recs)
    for r in recs:
        rid = rec_id(r)
        ids = r.xpath(".//oai_dc:dc/dc:identifier/text()", namespaces=NS)
        assert ids, rid
        check_oai_url(d, rid, ids[0])
        ours = [i for i in ids if i.startswith(d.base)]
        assert ours == ([] if _g["own"][rid] else [here(d, rid)]), (rid,
                                                                   ids)


def marc_lint(recs):
    """MARC::Lint's warnings about these marc:record elements, the ISBD
    punctuation test_oai.py allows left out (its checker, imported)."""
    import importlib
    # imported for its checker only: neither its tests nor its run()
    saved = pf.run, pf.test
    pf.run, pf.test = (lambda: None), (lambda fn: fn)
    try:
        t = importlib.import_module("test_oai")
    finally:
        pf.run, pf.test = saved
    p = subprocess.run(["perl", "-e", t.LINT_PL], input="\n\n".join(
        t.marc_lines(r) for r in recs).encode(), capture_output=True,
        check=True)
    return [ln for ln in p.stdout.decode().splitlines()
            if " place " not in ln and not ln.endswith(t.LINT_PUNCTUATION)]


@test
def marc_856_40_names_the_landing_page():
    d = daemon()
    recs = []
    for r in oai_list(d, "marc21"):
        if r.find(OAI + "header").get("status") == "deleted":
            continue
        recs.append(r.find(".//marc:record", NS))
        rid = rec_id(r)
        us = r.xpath(".//marc:datafield[@tag='856'][@ind1='4']"
                     "[@ind2='0']/marc:subfield[@code='u']/text()",
                     namespaces=NS)
        assert want_link(d, rid) in us, (rid, us)
        check_oai_url(d, rid, want_link(d, rid))
        assert [u for u in us if u.startswith(d.base)] == \
            ([] if _g["own"][rid] else [here(d, rid)]), (rid, us)
    if subprocess.run(["perl", "-MMARC::Lint", "-e", "1"],
                      stderr=subprocess.DEVNULL).returncode != 0:
        skip("MARC::Lint (libmarc-lint-perl) not installed")
        return
    warnings = marc_lint(recs)
    assert warnings == [], "\n".join(warnings)


def kernel_urls(r, pfx):
    """(identifier type, identifier, alternate URLs) of a kernel record."""
    ident = r.xpath(".//%s:identifier" % pfx, namespaces=NS)
    assert len(ident) == 1, etree.tostring(r)[:400]
    alts = r.xpath(".//%s:alternateIdentifier[@alternateIdentifierType="
                   "'URL']/text()" % pfx, namespaces=NS)
    return ident[0].get("identifierType"), ident[0].text, alts


@test
def datacite_and_openaire_carry_the_landing_page():
    d = daemon()
    seen = {"datacite": 0, "openaire": 0}
    for prefix, pfx, schema in (
            ("oai_datacite", "k", "oai-pmh-all.xsd"),
            ("oai_openaire", "datacite", "oai-pmh-openaire.xsd")):
        for r in oai_list(d, prefix, schema):
            if r.find(OAI + "header").get("status") == "deleted":
                continue
            rid = rec_id(r)
            typ, ident, alts = kernel_urls(r, pfx)
            land = want_link(d, rid)
            # the identifier itself (type URL) when nothing outranks it,
            # else an alternateIdentifier of type URL
            assert (typ == "URL" and ident == land) or land in alts, \
                (prefix, rid, typ, ident, alts)
            assert not (typ == "URL" and ident == land and land in alts)
            urls = alts + ([ident] if typ == "URL" else [])
            assert [u for u in urls if u.startswith(d.base)] == \
                ([] if _g["own"][rid] else [here(d, rid)]), (rid, urls)
            check_oai_url(d, rid, land)
            seen[prefix[4:]] += 1
    assert seen["datacite"] == len(_g["own"]), seen
    # oai_openaire: every research output stating its access rights, also
    # those left with no identifier of their own (pubfeed's landing page
    # is then the identifier)
    want, bare = 0, 0
    for f in glob.glob(os.path.join(d.records, "**", "*.xml"), recursive=True):
        root = etree.parse(f).getroot()
        if root.get("type") in ("event", "news") or \
                root.find(RNS + "access") is None:
            continue
        want += 1
        bare += _g["own"][root.get("id")] is None and not [
            i for i in root.findall(RNS + "identifier")
            if i.get("type") in ("doi", "handle", "urn", "url")]
    assert seen["openaire"] == want, (seen, want)
    assert bare > 0, bare


def delete_gone(d):
    """Delete the one record of GONE_SET, once; wait for its tombstone."""
    if "gone" in _g:
        return
    os.unlink(os.path.join(d.records, "gone.xml"))

    def deleted():
        st, _, b = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier="
                         "oai:research.example.org:" + GONE_ID)
        return b'status="deleted"' in b
    d.wait_for(deleted, timeout=20, what="the tombstone")
    _g["gone"] = True


def list_sets(d):
    specs, q = [], "verb=ListSets"
    while True:
        st, _, b = d.oai(q)
        assert st == 200
        validate_oai(b)
        doc = etree.fromstring(b)
        specs += [s.text for s in doc.iter(OAI + "setSpec")]
        tok = doc.findtext(".//" + OAI + "resumptionToken")
        if not tok:
            return specs
        q = "verb=ListSets&resumptionToken=" + urllib.parse.quote(tok)


@test
def set_of_only_a_tombstone_is_not_listed_but_still_harvested():
    d = daemon()
    assert GONE_SET in list_sets(d)
    st, _, home = d.get("/")
    assert ("/sets/%s.html" % GONE_SET).encode() in home
    delete_gone(d)
    specs = list_sets(d)
    assert GONE_SET not in specs, specs
    assert len(specs) == len(set(specs)) and specs, specs
    # ListSets is paged (oai-page-size 5): completeListSize counts the
    # listed sets only
    st, _, b = d.oai("verb=ListSets")
    tok = etree.fromstring(b).find(".//" + OAI + "resumptionToken")
    assert tok is not None and \
        int(tok.get("completeListSize")) == len(specs), b[-400:]
    for pre in LANGS.values():
        st, _, body = d.get(pre + "/")
        assert st == 200
        assert ("/sets/%s.html" % GONE_SET).encode() not in body, pre
    st, _, page = d.get("/oai", headers={"Accept": "text/html"})
    assert st == 200 and GONE_SET.encode() not in page
    # selective harvesting still answers the deleted header with its set
    st, _, b = d.oai("verb=ListIdentifiers&metadataPrefix=oai_dc&set=" +
                     GONE_SET)
    validate_oai(b)
    hs = list(etree.fromstring(b).iter(OAI + "header"))
    assert len(hs) == 1, b
    assert hs[0].get("status") == "deleted", b
    assert hs[0].findtext(OAI + "identifier").endswith(":" + GONE_ID)
    assert GONE_SET in [s.text for s in hs[0].iter(OAI + "setSpec")]


class Crawl:
    def __init__(self, d):
        self.d, self.seen, self.queue = d, {}, []

    def add(self, url_or_path, why):
        p = url_or_path if url_or_path.startswith("/") else \
            path_of(self.d, url_or_path)
        if p is not None and p not in self.seen and \
                p not in [q for q, _ in self.queue]:
            self.queue.append((p, why))

    def run(self, limit=4000):
        while self.queue and len(self.seen) < limit:
            p, why = self.queue.pop(0)
            if p in self.seen:
                continue
            st, h, body = self.d.get(p)
            self.seen[p] = (st, why)
            if st != 200 or not h.get("content-type", "").startswith(
                    "text/html"):
                continue
            doc = lhtml.fromstring(body)
            for el, attr, url, _pos in doc.iterlinks():
                if attr not in ("href", "src") or url.startswith("#"):
                    continue
                self.add(urllib.parse.urljoin(self.d.base + p, url),
                         "%s in %s" % (attr, p))
        assert not self.queue, "crawl bound reached"
        return self.seen


@test
def every_internal_link_resolves():
    d = daemon()
    c = Crawl(d)
    for pre in LANGS.values():
        c.add(pre + "/", "start")
        for rid in _g["own"]:
            if rid != GONE_ID or "gone" not in _g:
                c.add("%s/records/%s.html" % (pre, rid), "landing page")
    feeds = ["/feed.atom", "/feed.rss", "/lang/bg/feed.atom",
             "/lang/nb/feed.rss"]
    n = 0
    for path in feeds:
        for e in feedparser.parse(d.get(path)[2]).entries:
            for ln in e.links:
                c.add(ln.href, "entry link in " + path)
                n += ln.href.startswith(d.base)
    for path in ("/feed.json", "/lang/bg/feed.json"):
        for it in json.loads(d.get(path)[2])["items"]:
            c.add(it.get("url", ""), "url in " + path)
            n += it.get("url", "").startswith(d.base)
    for ev in icalendar.Calendar.from_ical(d.get("/feed.ics")[2]).walk(
            "VEVENT"):
        c.add(str(ev["URL"]), "URL in /feed.ics")
    for r in oai_list(d, "oai_dc"):
        for i in r.xpath(".//dc:identifier/text()", namespaces=NS):
            c.add(i, "dc:identifier")
            n += i.startswith(d.base)
    assert n > 0
    seen = c.run()
    bad = {p: v for p, v in seen.items() if v[0] != 200}
    assert not bad, bad
    live = {"%s/records/%s.html" % (pre, rid) for pre in LANGS.values()
            for rid in _g["own"] if rid != GONE_ID}
    assert live <= set(seen), live - set(seen)


run()
