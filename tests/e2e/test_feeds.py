"""End-to-end: the feeds as a crawler sees them.

One daemon serves the sample collection plus tests/data/e2e/good (a record
in Norwegian with æøå and Cyrillic creators, one without creators or links)
and tests/data/e2e/bad (forbidden character references, a broken file).
Starting from "/" and the set pages it links, the crawl follows the HTML
autodiscovery links to every feed and walks each RFC 5005 prev-archive chain to its end, in both formats;
everything it finds is checked against the source XML files, parsed here
independently with lxml.
"""
import email.utils
import datetime
import glob
import html.parser
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

import feedparser  # noqa: E402
from lxml import etree  # noqa: E402

from pf import Daemon, ROOT, mkdtemp, run, test, validate_atom  # noqa: E402

RNS = "https://pubfeed.org/ns/record/1"
ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"
DC = "http://purl.org/dc/elements/1.1/"
R = "{%s}" % RNS
A = "{%s}" % ATOM
AUTHORITY = "research.example.org,2008"
E2E = os.path.join(ROOT, "tests", "data", "e2e")
BAD = ["e2e-charref-control.xml", "e2e-charref-nonchar.xml", "e2e-broken.xml"]
ENTRIES = 5
LABELS = {"topic": "Topics", "region:bulgaria": "Bulgaria"}  # pf.BASE_CONF

_state = {}


# The source records, read independently of pubfeed

def norm(s):
    """record.c's normalisation: ASCII white space trimmed, runs to one."""
    return re.sub(r"[ \t\r\n]+", " ", s or "").strip(" ")


def issued_dt(s):
    m = re.match(r"^(.{19})([+-])(\d\d):(\d\d)$", s)
    if m:
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
        off = datetime.timedelta(hours=int(m.group(3)),
                                 minutes=int(m.group(4)))
        t = t - off if m.group(2) == "+" else t + off
        return t.replace(tzinfo=datetime.timezone.utc)
    if len(s) == 10:
        return datetime.datetime.strptime(s, "%Y-%m-%d").replace(
            tzinfo=datetime.timezone.utc)
    assert s.endswith("Z"), s
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def load_sources(records):
    recs = {}
    for path in sorted(glob.glob(os.path.join(records, "**", "*.xml"),
                                 recursive=True)):
        if os.path.basename(path) in BAD:
            continue
        root = etree.parse(path).getroot()
        assert root.tag == R + "record", path
        creators = []
        for c in root.findall(R + "creator"):
            p = c.find(R + "person")
            if p is not None:
                given = p.findtext(R + "given")
                fam = norm(p.findtext(R + "family"))
                creators.append(norm(given) + " " + fam if given else fam)
            else:
                creators.append(norm(c.findtext(R + "organisation")))
        fulltext = [(l.get("href"), l.get("type"), int(l.get("length")))
                    for l in root.findall(R + "link")
                    if l.get("rel") == "fulltext"]
        rid = root.get("id")
        assert rid not in recs, "duplicate id %s" % rid
        recs[rid] = {
            "path": path,
            "lang": root.get("{http://www.w3.org/XML/1998/namespace}lang"),
            "title": norm(root.findtext(R + "title")),
            "issued": issued_dt(norm(root.findtext(R + "issued"))),
            "modified": issued_dt(norm(root.findtext(R + "modified")))
            if root.findtext(R + "modified") else None,
            "creators": creators,
            "fulltext": fulltext,
            "sets": [norm(s.text) for s in root.findall(R + "set")],
        }
    return recs


def ancestors(spec):
    parts = spec.split(":")
    return [":".join(parts[:i]) for i in range(1, len(parts) + 1)]


def set_members(recs):
    members = {}
    for rid, r in recs.items():
        for s in r["sets"]:
            for a in ancestors(s):
                members.setdefault(a, set()).add(rid)
    return members


def tag_id(rid):
    return "tag:%s:record/%s" % (AUTHORITY, rid)


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(dt):
    return email.utils.format_datetime(dt, usegmt=True)


# The crawl

class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.alternates = []
        self.set_pages = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate" and a.get("type"):
            self.alternates.append((a.get("type"), a.get("href")))
        if tag == "a" and re.search(r"/sets/[^/]+\.html$", a.get("href", "")):
            self.set_pages.append(a.get("href"))

    handle_startendtag = handle_starttag


def path_of(d, url):
    assert url.startswith(d.base + "/"), url
    return url[len(d.base):]


def fetch(d, path, docs):
    if path not in docs:
        st, h, body = d.get(path)
        assert st == 200, "%s: %d %r" % (path, st, body[:200])
        docs[path] = (h, body)
    return docs[path][1]


def atom_links(root, rel):
    return [l.get("href") for l in root.findall(A + "link")
            if l.get("rel") == rel]


def rss_links(chan, rel):
    return [l.get("href") for l in chan.findall(A + "link")
            if l.get("rel") == rel]


def walk(d, start, fmt, docs):
    """The current document and its archive pages, newest first."""
    chain = [start]
    path = start
    while True:
        root = etree.fromstring(fetch(d, path, docs))
        node = root if fmt == "atom" else root.find("channel")
        prev = (atom_links if fmt == "atom" else rss_links)(node,
                                                             "prev-archive")
        assert len(prev) <= 1, path
        if not prev:
            return chain
        path = path_of(d, prev[0])
        assert path not in chain, "archive loop at " + path
        assert len(chain) < 100, "archive chain too long from " + start
        chain.append(path)


def crawl():
    if _state:
        return _state
    d = Daemon(entries=ENTRIES)
    for sub in ("good", "bad"):
        for f in glob.glob(os.path.join(E2E, sub, "*.xml")):
            shutil.copy(f, d.records)
    d.start()
    st, h, home = d.get("/")
    assert st == 200
    assert h["content-type"] == "text/html; charset=utf-8"
    lp = Links()
    lp.feed(home.decode("utf-8"))
    # each page advertises only its own feeds: the sets' are on the set
    # pages, which "/" links as a tree
    for href in sorted(set(lp.set_pages)):
        st, _, page = d.get(path_of(d, href))
        assert st == 200, href
        sp = Links()
        sp.feed(page.decode("utf-8"))
        # Atom, RSS, JSON Feed, calendar
        assert len(sp.alternates) == 4, (href, sp.alternates)
        lp.alternates += sp.alternates
    docs = {}
    chains = {}
    for typ, href in lp.alternates:
        fmt = {"application/atom+xml": "atom",
               "application/rss+xml": "rss"}.get(typ)
        if fmt is None:
            continue    # JSON Feed and calendars: test_jsonfeed_ics.py
        p = path_of(d, href)
        chains[p] = (fmt, walk(d, p, fmt, docs))
    _state.update(d=d, docs=docs, chains=chains, home=home,
                  alternates=lp.alternates,
                  recs=load_sources(d.records))
    return _state


def current_paths(fmt):
    return sorted(p for p, (f, _) in crawl()["chains"].items() if f == fmt)


def atom_entries(body):
    return etree.fromstring(body).findall(A + "entry")


def rss_items(body):
    return etree.fromstring(body).find("channel").findall("item")


def feed_ids(chain, fmt):
    docs = crawl()["docs"]
    ids = []
    for p in chain:
        if fmt == "atom":
            ids += [e.findtext(A + "id") for e in atom_entries(docs[p][1])]
        else:
            ids += [i.findtext("guid") for i in rss_items(docs[p][1])]
    return ids


def spec_of(path):
    """The set of a current feed path; None for the whole collection."""
    m = re.match(r"^/sets/(.+)\.(atom|rss)$", path)
    return m.group(1) if m else None


# The tests

@test
def crawl_finds_every_feed():
    s = crawl()
    sets = set(set_members(s["recs"]))
    assert {"topic", "region", "type", "topic:smuggling",
            "region:norway"} <= sets
    want = {"/feed.atom", "/feed.rss"}
    for spec in sets:
        want |= {"/sets/%s.atom" % spec, "/sets/%s.rss" % spec}
    assert set(s["chains"]) == want, set(s["chains"]) ^ want
    # 36 records, 5 per page: 7 full archive pages behind the current one
    assert s["chains"]["/feed.atom"][1] == ["/feed.atom"] + [
        "/archive/%d.atom" % n for n in range(7, 0, -1)]
    assert s["chains"]["/feed.rss"][1] == ["/feed.rss"] + [
        "/archive/%d.rss" % n for n in range(7, 0, -1)]
    # a set with more than one page has archives too
    assert len(s["chains"]["/sets/topic.atom"][1]) > 2


@test
def every_atom_document_validates():
    docs = crawl()["docs"]
    atoms = [p for p in docs if p.endswith(".atom")]
    assert len(atoms) > 40, len(atoms)
    for p in atoms:
        assert docs[p][0]["content-type"] == \
            "application/atom+xml; charset=utf-8", p
        validate_atom(docs[p][1])


@test
def every_document_parses_with_feedparser():
    s = crawl()
    for p, (h, body) in s["docs"].items():
        fp = feedparser.parse(body)
        assert fp.bozo == 0, "%s: %r" % (p, fp.get("bozo_exception"))
        want = "atom10" if p.endswith(".atom") else "rss20"
        assert fp.version == want, (p, fp.version)
        if p.endswith(".atom"):
            ents = atom_entries(body)
            ids = [e.findtext(A + "id") for e in ents]
            titles = [e.findtext(A + "title") for e in ents]
        else:
            ents = rss_items(body)
            ids = [e.findtext("guid") for e in ents]
            titles = [e.findtext("title") for e in ents]
        assert [e.id for e in fp.entries] == ids, p
        assert [e.title for e in fp.entries] == titles, p
        assert len(ids) == len(set(ids)), "duplicate entry in " + p


@test
def union_of_current_and_archives_is_every_record():
    s = crawl()
    want = {tag_id(r) for r in s["recs"]}
    assert len(want) == 36
    for fmt in ("atom", "rss"):
        chain = s["chains"]["/feed." + fmt][1]
        ids = feed_ids(chain, fmt)
        assert set(ids) == want, set(ids) ^ want
        # archive pages are full and disjoint; only the current document
        # may repeat entries of the newest page
        arch = feed_ids(chain[1:], fmt)
        assert len(arch) == len(set(arch)) == 35
        for p in chain[1:]:
            assert len(feed_ids([p], fmt)) == ENTRIES, p
        assert len(feed_ids(chain[:1], fmt)) == ENTRIES


@test
def set_feeds_hold_exactly_their_members():
    s = crawl()
    members = set_members(s["recs"])
    for cur, (fmt, chain) in s["chains"].items():
        spec = spec_of(cur)
        if spec is None:
            continue
        ids = set(feed_ids(chain, fmt))
        want = {tag_id(r) for r in members[spec]}
        assert ids == want, "%s: %r" % (cur, ids ^ want)
    assert len(members["topic"]) > len(members["topic:smuggling"])
    assert tag_id("e2e-nb-grenser") in feed_ids(
        s["chains"]["/sets/topic.atom"][1], "atom")


@test
def archive_pages_link_back():
    s = crawl()
    docs = s["docs"]
    for cur, (fmt, chain) in s["chains"].items():
        for i, p in enumerate(chain):
            root = etree.fromstring(docs[p][1])
            node = root if fmt == "atom" else root.find("channel")
            links = atom_links if fmt == "atom" else rss_links
            self_url = links(node, "self")
            assert self_url == [s["d"].base + p], (p, self_url)
            if i == 0:
                assert node.find("{%s}archive" % FH) is None, p
                assert links(node, "current") == []
                continue
            assert node.find("{%s}archive" % FH) is not None, p
            assert links(node, "current") == [s["d"].base + cur], p
            assert links(node, "next-archive") == [s["d"].base + chain[i - 1]], p


def source_of(rid):
    return crawl()["recs"][rid]


@test
def atom_entries_match_their_records():
    s = crawl()
    seen = set()
    for cur in current_paths("atom"):
        for p in s["chains"][cur][1]:
            for e in atom_entries(s["docs"][p][1]):
                eid = e.findtext(A + "id")
                m = re.match(r"^tag:%s:record/(.+)$" % re.escape(AUTHORITY),
                             eid)
                assert m, eid
                r = source_of(m.group(1))
                assert e.findtext(A + "title") == r["title"], eid
                assert e.findtext(A + "published") == rfc3339(r["issued"])
                # all there at the first start: the record's own dates
                want = max(r["modified"] or r["issued"], r["issued"])
                assert e.findtext(A + "updated") == rfc3339(want), eid
                names = [a.findtext(A + "name")
                         for a in e.findall(A + "author")]
                assert names == r["creators"], (eid, names)
                enc = [(l.get("href"), l.get("type"), int(l.get("length")))
                       for l in e.findall(A + "link")
                       if l.get("rel") == "enclosure"]
                assert enc == r["fulltext"], (eid, enc)
                terms = [c.get("term") for c in e.findall(A + "category")]
                assert set(r["sets"]) <= set(terms), (eid, terms)
                seen.add(m.group(1))
    assert seen == set(s["recs"])


@test
def rss_items_match_their_records():
    s = crawl()
    seen = set()
    for cur in current_paths("rss"):
        for p in s["chains"][cur][1]:
            for it in rss_items(s["docs"][p][1]):
                g = it.find("guid")
                assert g.get("isPermaLink") == "false"
                m = re.match(r"^tag:%s:record/(.+)$" % re.escape(AUTHORITY),
                             g.text)
                assert m, g.text
                r = source_of(m.group(1))
                assert it.findtext("title") == r["title"], g.text
                pd = it.findtext("pubDate")
                assert pd == rfc822(r["issued"]), (g.text, pd)
                assert email.utils.parsedate_to_datetime(pd) == r["issued"]
                names = [c.text for c in it.findall("{%s}creator" % DC)]
                assert names == r["creators"], (g.text, names)
                enc = [(x.get("url"), x.get("type"), int(x.get("length")))
                       for x in it.findall("enclosure")]
                assert enc == r["fulltext"][:1], (g.text, enc)
                dom = s["d"].base + "/oai?verb=ListSets"
                terms = [c.text for c in it.findall("category")
                         if c.get("domain") == dom]
                assert sorted(LABELS.get(x, x) for x in r["sets"]) == \
                    sorted(terms), (g.text, terms)
                seen.add(m.group(1))
    assert seen == set(s["recs"])


@test
def feed_updated_is_the_newest_entry():
    s = crawl()
    docs = s["docs"]
    for cur in current_paths("atom"):
        for p in s["chains"][cur][1]:
            root = etree.fromstring(docs[p][1])
            ups = [e.findtext(A + "updated") for e in root.findall(A + "entry")]
            assert ups, p
            assert root.findtext(A + "updated") == max(ups), p
            # the RSS twin says the same instant
            rp = p[:-len(".atom")] + ".rss"
            chan = etree.fromstring(docs[rp][1]).find("channel")
            lbd = email.utils.parsedate_to_datetime(
                chan.findtext("lastBuildDate"))
            assert rfc3339(lbd) == max(ups), rp


@test
def feed_updated_is_never_now():
    """Datestamps survive a restart: nothing in a feed is the render time."""
    s = crawl()
    d0 = s["d"]
    before = {p: s["docs"][p][1] for p in ("/feed.atom", "/feed.rss",
                                            "/archive/1.atom", "/sets/topic.rss")}
    before.update((p, body) for p, (h, body) in s["docs"].items())
    lm = d0.get("/feed.atom")[1]["last-modified"]
    d = d0
    for _ in range(2):      # two restarts
        time.sleep(1.1)
        d = Daemon(records=d0.records, entries=ENTRIES, copy=False,
                   state=d0.state, port=d0.port)
        s["d"].stop()
        s["d"] = d
        d.start()
        for p, body in before.items():
            st, h, now = d.get(p)
            assert st == 200
            assert now == body, p + " changed across a restart"
        assert d.get("/feed.atom")[1]["last-modified"] == lm
    # Last-Modified is when pubfeed saw the bytes change, never before the
    # feed's updated (the records' own dates, which may be older)
    up = etree.fromstring(before["/feed.atom"]).findtext(A + "updated")
    assert email.utils.parsedate_to_datetime(lm) >= datetime.datetime.strptime(
        up, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


@test
def every_entry_has_an_author():
    s = crawl()
    docs = s["docs"]
    lonely = 0
    for p, (h, body) in docs.items():
        if p.endswith(".atom"):
            root = etree.fromstring(body)
            feed_author = root.find(A + "author")
            assert feed_author is not None and \
                feed_author.findtext(A + "name") == "Research Centre", p
            for e in root.findall(A + "entry"):
                if e.find(A + "author") is None:
                    lonely += 1
                    assert e.findtext(A + "id") == tag_id("e2e-no-creator")
                    # no link at all: RFC 4287 4.1.1 wants content
                    assert e.find(A + "content") is not None
            fp = feedparser.parse(body)
            assert fp.feed.get("author"), p
            for e in fp.entries:
                assert e.get("author") or e.id == tag_id("e2e-no-creator")
        else:
            chan = etree.fromstring(body).find("channel")
            assert chan.findtext("managingEditor") == \
                "info@research.example.org (Research Centre)", p
    assert lonely >= 2   # the whole collection and its sets


@test
def rss_has_self_link_and_rfc822_dates():
    s = crawl()
    for p, (h, body) in s["docs"].items():
        if not p.endswith(".rss"):
            continue
        assert h["content-type"] == "application/rss+xml; charset=utf-8"
        root = etree.fromstring(body)
        assert root.tag == "rss" and root.get("version") == "2.0"
        chan = root.find("channel")
        selfs = [l for l in chan.findall(A + "link") if l.get("rel") == "self"]
        assert len(selfs) == 1 and selfs[0].get("href") == s["d"].base + p
        assert selfs[0].get("type") == "application/rss+xml"
        for it in chan.findall("item"):
            pd = it.findtext("pubDate")
            assert re.match(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                            r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|"
                            r"Dec) \d{4} \d\d:\d\d:\d\d GMT$", pd), pd
            assert email.utils.parsedate_to_datetime(pd).tzinfo is not None


def raw_element(path, name, lang):
    """The bytes of the first <name xml:lang="lang"> in a source file."""
    with open(path, "rb") as f:
        data = f.read()
    m = re.search(rb"<" + name + rb' xml:lang="' + lang + rb'">(.*?)</' +
                  name + rb">", data, re.S)
    assert m, (path, name, lang)
    return re.sub(rb"[ \t\r\n]+", b" ", m.group(1)).strip()


def doc_with(rid, fmt):
    s = crawl()
    for p in s["chains"]["/feed." + fmt][1]:
        if tag_id(rid).encode() in s["docs"][p][1]:
            return s["docs"][p][1]
    raise AssertionError("%s not in any %s document" % (rid, fmt))


@test
def cyrillic_and_norwegian_survive_byte_for_byte():
    cases = [("e2e-nb-grenser", b"nb"),
             ("2016-migrant-smuggling-channels-bg", b"bg"),
             ("e2e-no-creator", b"bg"),
             ("2024-article-forced-begging-nb", b"nb")]
    for rid, lang in cases:
        path = source_of(rid)["path"]
        title = raw_element(path, b"title", lang)
        abstract = raw_element(path, b"abstract", lang)
        assert any(b > 0x7f for b in title + abstract), rid
        atom = doc_with(rid, "atom")
        assert re.search(rb"<title(?: xml:lang=\"[^\"]*\")?>" +
                         re.escape(title) + rb"</title>", atom), rid
        assert re.search(rb"<summary type=\"text\"(?: xml:lang=\"[^\"]*\")?>"
                         + re.escape(abstract) + rb"</summary>", atom), rid
        rss = doc_with(rid, "rss")
        assert b"<title>" + title + b"</title>" in rss, rid
        assert b"<description>" + abstract + b"</description>" in rss, rid
    t = raw_element(source_of("e2e-nb-grenser")["path"], b"title", b"nb")
    assert all(c.encode() in t for c in "ØæåÅ"), t
    names = [n.encode() for n in source_of("e2e-nb-grenser")["creators"]]
    assert names[:2] == ["Øystein Åsheim".encode(), "Мария Дочева".encode()]
    atom = doc_with("e2e-nb-grenser", "atom")
    for n in names:
        assert b"<name>" + n + b"</name>" in atom


@test
def forbidden_character_references_are_rejected():
    s = crawl()
    log = s["d"].logtext()
    for name, line, ref in (("e2e-charref-control.xml", 3, "27"),
                            ("e2e-charref-nonchar.xml", 6, "65534")):
        assert re.search(re.escape(name) + r":%d:\d+: .*%s" % (line, ref),
                         log), log
    for rid in ("e2e-charref-control", "e2e-charref-nonchar", "e2e-broken"):
        for p, (h, body) in s["docs"].items():
            assert rid.encode() not in body, (rid, p)
        assert rid.encode() not in s["home"]
    # nor does the raw control character or U+FFFE reach any document
    for p, (h, body) in s["docs"].items():
        assert b"\x1b" not in body and "\ufffe".encode() not in body, p
    st, h, body = s["d"].get("/status")
    assert st == 200 and b"3 invalid files" in body, body



# Dates and privacy, each on a daemon of its own

PERSON = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="{rid}" type="report" xml:lang="en">
  <title xml:lang="en">{title}</title>
  <creator><person><family>Bezlov</family><given>Tihomir</given><email>t.bezlov@example.org</email></person></creator>
  <contributor role="editor"><person><family>Ivanova</family><given>Maria</given><email>m.ivanova@example.org</email></person></contributor>
  <issued>2019-05-14</issued>
  {modified}
  <language>en</language>
  <abstract xml:lang="en">{abstract}</abstract>
  <link rel="landing" href="https://research.example.org/p/{rid}"/>
  <set>topic:smuggling</set>
</record>
"""


def write_rec(d, rid, title="A report", modified="", abstract="First."):
    path = os.path.join(d.records, rid + ".xml")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(PERSON.format(rid=rid, title=title, abstract=abstract,
                              modified=modified))
    os.rename(path + ".tmp", path)


def oai_datestamp(d, rid):
    st, _, body = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier="
                        "oai:research.example.org:" + rid)
    assert st == 200, body
    ds = etree.fromstring(body).findtext(
        ".//{http://www.openarchives.org/OAI/2.0/}datestamp")
    return datetime.datetime.strptime(ds, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def atom_updated(body):
    """{record id: (updated, feedparser's updated, published)}."""
    out = {}
    for e in feedparser.parse(body).entries:
        rid = e.id.rsplit("/", 1)[1]
        out[rid] = (e.updated, datetime.datetime(
            *e.updated_parsed[:6], tzinfo=datetime.timezone.utc),
            datetime.datetime(*e.published_parsed[:6],
                              tzinfo=datetime.timezone.utc))
    return out


@test
def entry_dates_are_what_readers_think():
    """First start: every entry says the record's modified, else issued.
    After that an added or changed record says when pubfeed saw it (its
    OAI datestamp) unless it gives its own modified; RSS pubDate stays
    issued; two restarts change no byte."""
    d = Daemon(records=mkdtemp(), entries=50)
    write_rec(d, "r-plain")
    write_rec(d, "r-modified", modified="<modified>2020-02-03</modified>")
    write_rec(d, "r-stays")
    d.start()
    issued = datetime.datetime(2019, 5, 14, tzinfo=datetime.timezone.utc)
    mod = datetime.datetime(2020, 2, 3, tzinfo=datetime.timezone.utc)
    up = atom_updated(d.get("/feed.atom")[2])
    assert up["r-plain"][1] == issued and up["r-stays"][1] == issued, up
    assert up["r-modified"][1] == mod, up
    assert all(v[2] == issued for v in up.values()), up
    before = d.get("/feed.atom")[2]
    time.sleep(1.1)         # datestamps have one-second resolution
    write_rec(d, "r-plain", abstract="Second.")
    write_rec(d, "r-modified", abstract="Second.",
              modified="<modified>2020-02-03</modified>")
    write_rec(d, "r-new")
    d.wait_for(lambda: b"r-new" in d.get("/feed.atom")[2], what="r-new")
    feed = d.get("/feed.atom")[2]
    assert feed != before
    up = atom_updated(feed)
    assert up["r-plain"][1] == oai_datestamp(d, "r-plain") > issued, up
    assert up["r-new"][1] == oai_datestamp(d, "r-new"), up
    assert up["r-modified"][1] == mod, up
    assert up["r-stays"][1] == issued, up
    root = etree.fromstring(feed)
    assert root.findtext(A + "updated") == max(v[0] for v in up.values())
    for it in rss_items(d.get("/feed.rss")[2]):
        assert it.findtext("pubDate") == rfc822(issued)
    docs = {p: d.get(p)[2] for p in ("/feed.atom", "/feed.rss",
                                     "/sets/topic.atom", "/")}
    for _ in range(2):
        d.stop()
        time.sleep(1.1)
        d.start()
        for p, body in docs.items():
            assert d.get(p)[2] == body, p + " changed across a restart"


@test
def changing_every_first_start_record_keeps_their_dates_honest():
    """When every record of the first start has changed since, the first
    start is still known (the state remembers it): a changed record says
    when pubfeed saw the change, not its issued date, also after a
    restart."""
    d = Daemon(records=mkdtemp(), entries=50)
    write_rec(d, "r-one")
    write_rec(d, "r-two")
    d.start()
    issued = datetime.datetime(2019, 5, 14, tzinfo=datetime.timezone.utc)
    time.sleep(1.1)         # datestamps have one-second resolution
    write_rec(d, "r-one", abstract="Second.")
    d.wait_for(lambda: b"Second." in d.get("/feed.atom")[2], what="r-one")
    time.sleep(1.1)
    write_rec(d, "r-two", abstract="Second too.")
    d.wait_for(lambda: b"Second too." in d.get("/feed.atom")[2], what="r-two")
    for _ in range(2):
        up = atom_updated(d.get("/feed.atom")[2])
        for rid in ("r-one", "r-two"):
            assert up[rid][1] == oai_datestamp(d, rid) > issued, up
        d.stop()
        d.start()


def every_public_document(d):
    """/, every feed and archive page, every OAI-PMH format's records."""
    docs = {"/": d.get("/")[2]}
    lp = Links()
    lp.feed(docs["/"].decode("utf-8"))
    for typ, href in lp.alternates:
        fmt = {"application/atom+xml": "atom",
               "application/rss+xml": "rss"}.get(typ)
        if fmt is None:         # JSON Feed, calendars: no archives
            fetch(d, path_of(d, href), docs)
            continue
        walk(d, path_of(d, href), fmt, docs)
    for p in list(docs):
        if isinstance(docs[p], tuple):
            docs[p] = docs[p][1]
    for fmt in ("oai_dc", "marc21", "oai_datacite"):
        st, _, body = d.oai("verb=ListRecords&metadataPrefix=" + fmt)
        assert st == 200 and b"<record>" in body, (fmt, body[:300])
        docs["/oai " + fmt] = body
    return docs


@test
def personal_emails_stay_private_unless_published():
    d = Daemon(entries=2)
    write_rec(d, "r-person")
    d.start()
    docs = every_public_document(d)
    assert len(docs) > 20
    for p, body in docs.items():
        assert b"@example.org" not in body.replace(
            b"info@research.example.org", b"").replace(
            b"admin@research.example.org", b"").replace(
            b"oai@research.example.org", b""), p
    atom = doc_with_in(docs, "r-person", ".atom")
    assert b"<name>Tihomir Bezlov</name>" in atom
    d.stop()
    d.write_conf(extra="publish-emails yes")
    d.start()
    docs = every_public_document(d)
    atom = doc_with_in(docs, "r-person", ".atom")
    e = [x for x in feedparser.parse(atom).entries
         if x.id.endswith("/r-person")][0]
    assert e.author_detail.email == "t.bezlov@example.org", e.author_detail
    assert b"<email>m.ivanova@example.org</email>" in atom
    rss = etree.fromstring(doc_with_in(docs, "r-person", ".rss"))
    it = [i for i in rss.iter("item")
          if i.findtext("guid").endswith("/r-person")][0]
    assert it.findtext("author") == "t.bezlov@example.org (Tihomir Bezlov)"
    # the directive is about the feeds: OAI-PMH never carries them
    for fmt in ("oai_dc", "marc21", "oai_datacite"):
        st, _, body = d.oai("verb=GetRecord&metadataPrefix=%s&identifier="
                            "oai:research.example.org:r-person" % fmt)
        assert st == 200 and b"Bezlov" in body, fmt
        assert b"@example.org" not in body.replace(
            b"admin@research.example.org", b"").replace(
            b"oai@research.example.org", b""), fmt
    assert b"bezlov@" not in docs["/"]


def doc_with_in(docs, rid, ext):
    for p, body in docs.items():
        if p.endswith(ext) and tag_id(rid).encode() in body:
            return body
    raise AssertionError(rid + " in no " + ext + " document")


run()
