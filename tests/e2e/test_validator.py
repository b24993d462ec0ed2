"""End-to-end: every document a reader can subscribe to passes the W3C Feed
Validator (../shared/tools/feedvalidate, offline, AA level) with no error
and no warning, keeps passing atom.rng, and feedparser reads it with
bozo == 0.

One daemon serves the sample collection (config/records) with a small
feed-entries, so that the whole collection and most sets have RFC 5005
archive pages.  Starting from "/", the crawl takes every autodiscovery link
and walks each prev-archive chain to its end; each document is validated
with --base set to its own URL (its rel="self").

The one warning allowed is "Two entries with the same value for
atom:updated" where those entries' records really give that date (their
own <modified>, else <issued>): the sample book and its chapter share
2016-11-15, the 2027 conference and its call for papers 2026-10-01T08:00Z.
The log ends with a summary per document kind, for the closing note.
"""
import collections
import concurrent.futures
import glob
import html.parser
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

import feedparser  # noqa: E402
from lxml import etree  # noqa: E402

from pf import Daemon, ROOT, mkdtemp, run, shared_for_real, skip, test, validate_atom  # noqa: E402

TOOLS = os.environ.get("PUBFEED_TOOLS",
                       os.path.join(ROOT, "..", "shared", "tools"))
VALIDATE = os.path.join(TOOLS, "feedvalidate")
ATOM = "{http://www.w3.org/2005/Atom}"
RNS = "{https://pubfeed.org/ns/record/1}"
ENTRIES = 4
DUP_UPDATED = "Two entries with the same value for atom:updated"

_state = {}


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.feeds = []
        self.set_pages = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate" and \
                a.get("type") in ("application/atom+xml",
                                  "application/rss+xml"):
            self.feeds.append((a["type"], a["href"]))
        if tag == "a" and re.search(r"/sets/[^/]+\.html$", a.get("href", "")):
            self.set_pages.append(a["href"])

    handle_startendtag = handle_starttag


def kind(path):
    """'atom current', 'rss set archive', ... of a document path."""
    fmt = path.rsplit(".", 1)[1]
    where = "set" if path.startswith("/sets/") else "collection"
    page = "archive" if "/archive/" in path else "current"
    return "%s %s %s" % (fmt, where, page)


def record_dates(records):
    """{record id: the date it gives for itself, as Atom writes it}."""
    out = {}
    for path in glob.glob(os.path.join(records, "**", "*.xml"),
                          recursive=True):
        root = etree.parse(path).getroot()
        d = root.findtext(RNS + "modified") or root.findtext(RNS + "issued")
        if len(d) == 10:
            d += "T00:00:00Z"
        out["tag:research.example.org,2008:record/" + root.get("id")] = d
    return out


def crawl():
    if _state:
        return _state
    d = Daemon(records=os.path.join(ROOT, "config", "records"),
               entries=ENTRIES)
    d.start()
    st, h, home = d.get("/")
    assert st == 200, st
    lp = Links()
    lp.feed(home.decode("utf-8"))
    # each page advertises its own feeds: the sets' are on the set pages
    for href in sorted(set(lp.set_pages)):
        st, _, page = d.get(href[len(d.base):])
        assert st == 200, href
        sp = Links()
        sp.feed(page.decode("utf-8"))
        lp.feeds += sp.feeds
    assert len(lp.feeds) >= 20, lp.feeds
    docs = {}
    todo = []
    for typ, href in lp.feeds:
        assert href.startswith(d.base + "/"), href
        todo.append((href[len(d.base):], typ.split("/")[1]))
    advertised = set(p for p, _ in todo)
    while todo:
        path, typ = todo.pop()
        if path in docs:
            continue
        st, h, body = d.get(path)
        assert st == 200, "%s: %d" % (path, st)
        docs[path] = (h["content-type"], body)
        root = etree.fromstring(body)
        node = root if root.tag == ATOM + "feed" else root.find("channel")
        for l in node.findall(ATOM + "link"):
            if l.get("rel") == "prev-archive":
                todo.append((l.get("href")[len(d.base):], typ))
    _state.update(d=d, docs=docs, advertised=advertised,
                  dates=record_dates(d.records))
    return _state


def validate(path, ctype, body):
    """feedvalidate's findings for one document: [(level, message)]."""
    s = crawl()
    tmp = mkdtemp()
    f = os.path.join(tmp, "doc." + path.rsplit(".", 1)[1])
    with open(f, "wb") as fp:
        fp.write(body)
    p = subprocess.run(["/usr/bin/python3", VALIDATE, "--base",
                        s["d"].base + path, "--type", ctype, f],
                       capture_output=True, text=True, timeout=300)
    out = []
    for line in p.stdout.splitlines():
        if line == f + ": ok":
            continue
        m = re.match(r"^.*?:(\d+):(\d+): (error|warning): (.*)$", line)
        assert m, "unexpected validator output: %r\n%s" % (line, p.stderr)
        out.append((int(m.group(1)), m.group(3), m.group(4)))
    assert p.returncode == (1 if out else 0), (p.returncode, p.stderr)
    return out


@test
def every_feed_and_archive_passes_the_w3c_validator():
    if not os.path.isfile(VALIDATE):
        skip("W3C Feed Validator: %s not found" % VALIDATE)
        return
    s = crawl()
    summary = collections.OrderedDict()
    bad = []
    paths = sorted(s["docs"], key=lambda p: (kind(p), p))
    # one validator process per document (each its own --base); they
    # spend their time in Python, so they run side by side, one per core
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as ex:
        results = ex.map(lambda p: validate(p, *s["docs"][p]), paths)
    for path, found in zip(paths, results):
        body = s["docs"][path][1]
        k = summary.setdefault(kind(path), collections.Counter())
        k["documents"] += 1
        for line, level, msg in found:
            if level == "warning" and msg.startswith(DUP_UPDATED) and \
                    path.endswith(".atom") and \
                    shared_for_real(body, s["dates"]):
                k["same date in the records"] += 1
                continue
            k[level + "s"] += 1
            bad.append("%s:%d: %s: %s" % (path, line, level, msg))
    print("validator summary (feedvalidate, AA level; sample records, "
          "feed-entries %d):" % ENTRIES)
    for name, c in summary.items():
        print("  %-24s %3d documents, %d errors, %d warnings%s" % (
            name, c["documents"], c["errors"], c["warnings"],
            (", %d DuplicateUpdated where the records share the date" %
             c["same date in the records"])
            if c["same date in the records"] else ""))
    total = sum(c["documents"] for c in summary.values())
    print("  %-24s %3d documents, %d findings" % ("all", total, len(bad)))
    assert not bad, "\n".join(bad)


@test
def every_feed_and_archive_is_read_cleanly():
    s = crawl()
    assert any("/archive/" in p for p in s["docs"]), sorted(s["docs"])
    assert any(p.startswith("/sets/") and "/archive/" in p
               for p in s["docs"])
    for path, (ctype, body) in s["docs"].items():
        fp = feedparser.parse(body)
        assert fp.bozo == 0, (path, fp.get("bozo_exception"))
        assert fp.entries, path
        if path.endswith(".atom"):
            validate_atom(body)


@test
def atom_alternate_is_html_only():
    s = crawl()
    for path, (ctype, body) in s["docs"].items():
        if not path.endswith(".atom"):
            continue
        root = etree.fromstring(body)
        alts = [l for l in root.findall(ATOM + "link")
                if l.get("rel", "alternate") == "alternate"]
        assert [l.get("type") for l in alts] == ["text/html"], path
        assert alts[0].get("href") == s["d"].base + "/", path
        fp = feedparser.parse(body)
        assert fp.feed.link == s["d"].base + "/", path


run()
