"""End-to-end: HTTP semantics of the feed documents and the service routes.

One daemon (max-age 123, 30 entries a page: one archive page) serves the sample
collection plus a broken record file copied in before start.
"""
import datetime
import email.utils
import gzip
import glob
import html.parser
import http.client
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from lxml import etree  # noqa: E402

from pf import Daemon, ROOT, SAMPLES, run, test  # noqa: E402

A = "{http://www.w3.org/2005/Atom}"
RNS = "{https://pubfeed.org/ns/record/1}"
BROKEN = os.path.join(ROOT, "tests", "data", "e2e", "bad", "e2e-broken.xml")
FEEDS = ("/feed.atom", "/feed.rss", "/", "/archive/1.atom",
         "/sets/topic.rss", "/sets/region:bulgaria.atom")

_d = []


def daemon():
    if not _d:
        d = Daemon(entries=30, extra="max-age 123")
        shutil.copy(BROKEN, os.path.join(d.records, "reports"))
        _d.append(d.start())
    return _d[0]


def get(path, **hdrs):
    return daemon().get(path, headers=hdrs)


def sample_ids():
    ids = set()
    for p in glob.glob(os.path.join(SAMPLES, "**", "*.xml"), recursive=True):
        ids.add(etree.parse(p).getroot().get("id"))
    return ids


def sample_sets():
    sets = set()
    for p in glob.glob(os.path.join(SAMPLES, "**", "*.xml"), recursive=True):
        for s in etree.parse(p).getroot().findall(RNS + "set"):
            parts = s.text.strip().split(":")
            for i in range(1, len(parts) + 1):
                sets.add(":".join(parts[:i]))
    return sets


def http_date(s):
    return email.utils.parsedate_to_datetime(s)


def fmt_date(dt):
    return email.utils.format_datetime(dt, usegmt=True)


@test
def content_types_carry_a_charset():
    want = {"/feed.atom": "application/atom+xml; charset=utf-8",
            "/feed.rss": "application/rss+xml; charset=utf-8",
            "/archive/1.atom": "application/atom+xml; charset=utf-8",
            "/sets/topic.rss": "application/rss+xml; charset=utf-8",
            "/": "text/html; charset=utf-8",
            "/healthz": "text/plain; charset=utf-8"}
    for p, ct in want.items():
        st, h, body = get(p)
        assert st == 200, (p, st)
        assert h["content-type"] == ct, (p, h["content-type"])


@test
def strong_etag_and_last_modified():
    for p in FEEDS:
        st, h, body = get(p)
        assert st == 200, p
        assert re.match(r'^"[0-9A-Za-z._-]+"$', h["etag"]), h["etag"]
        lm = http_date(h["last-modified"])
        assert lm.tzinfo is not None and h["last-modified"].endswith(" GMT")
        assert int(h["content-length"]) == len(body)
    # Last-Modified is when pubfeed saw the entries change (their
    # datestamps), never before the feed's updated (the records' own dates)
    st, h, body = get("/feed.atom")
    up = etree.fromstring(body).findtext(A + "updated")
    assert datetime.datetime.strptime(up, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc) <= http_date(h["last-modified"]), \
        (up, h["last-modified"])
    # distinct documents, distinct tags; the same document, the same tag
    tags = {get(p)[1]["etag"] for p in FEEDS}
    assert len(tags) == len(FEEDS)
    assert get("/feed.rss")[1]["etag"] == get("/feed.rss")[1]["etag"]


@test
def if_none_match_gives_304():
    st, h, body = get("/feed.atom")
    tag = h["etag"]
    for inm in (tag, '"nope", ' + tag, '"a",' + tag + ',"b"', "W/" + tag,
                "*"):
        st2, h2, b2 = get("/feed.atom", **{"If-None-Match": inm})
        assert st2 == 304, (inm, st2)
        assert b2 == b"", inm
        assert h2["etag"] == tag
        assert h2["last-modified"] == h["last-modified"]
        # one framing header at most (the harness joins repeats with ", ")
        assert "," not in h2.get("content-length", ""), h2
        assert h2.get("cache-control") == h["cache-control"]
        assert h2.get("vary") == h["vary"]
    for inm in ('"nope"', tag[:-2] + '"', 'W/"x", "y"'):
        st2, h2, b2 = get("/feed.atom", **{"If-None-Match": inm})
        assert st2 == 200 and b2 == body, (inm, st2)


@test
def if_modified_since():
    st, h, body = get("/feed.rss")
    lm = http_date(h["last-modified"])
    for ims, want in ((h["last-modified"], 304),
                      (fmt_date(lm + datetime.timedelta(seconds=1)), 304),
                      (fmt_date(lm + datetime.timedelta(days=400)), 304),
                      (fmt_date(lm - datetime.timedelta(seconds=1)), 200),
                      (fmt_date(lm - datetime.timedelta(days=400)), 200),
                      ("not a date", 200)):
        st2, h2, b2 = get("/feed.rss", **{"If-Modified-Since": ims})
        assert st2 == want, (ims, st2)
        assert b2 == (body if want == 200 else b"")


@test
def if_none_match_takes_precedence():
    st, h, body = get("/feed.atom")
    st2, h2, b2 = get("/feed.atom", **{"If-None-Match": '"other"',
                                       "If-Modified-Since": h["last-modified"]})
    assert st2 == 200 and b2 == body
    st3, h3, b3 = get("/feed.atom", **{
        "If-None-Match": h["etag"],
        "If-Modified-Since": fmt_date(http_date(h["last-modified"]) -
                                      datetime.timedelta(days=1))})
    assert st3 == 304


@test
def head_has_the_headers_and_no_body():
    d = daemon()
    for p in FEEDS:
        st, h, body = d.get(p)
        st2, h2, b2 = d.request("HEAD", p)
        assert st2 == 200 and b2 == b"", p
        for k in ("content-type", "etag", "last-modified", "cache-control",
                  "vary", "content-length"):
            assert h2.get(k) == h.get(k), (p, k, h2.get(k), h.get(k))
    st, h, _ = d.get("/feed.atom")
    st2, h2, b2 = d.request("HEAD", "/feed.atom",
                            headers={"If-None-Match": h["etag"]})
    assert st2 == 304 and b2 == b""


@test
def gzip_when_accepted():
    for p in FEEDS:
        st, h, body = get(p)
        st2, h2, gz = get(p, **{"Accept-Encoding": "gzip"})
        assert st2 == 200 and h2["content-encoding"] == "gzip", p
        assert gzip.decompress(gz) == body, p
        assert len(gz) < len(body), p
        assert h2["etag"] != h["etag"], p
        assert h["vary"] == h2["vary"] == "Accept-Encoding"
        assert h2["content-type"] == h["content-type"]
        assert int(h2["content-length"]) == len(gz)
        # the compressed tag validates the compressed representation
        st3, _, b3 = get(p, **{"Accept-Encoding": "gzip",
                               "If-None-Match": h2["etag"]})
        assert st3 == 304 and b3 == b""
    for ae in ("gzip;q=0", "gzip; q=0", "gzip;q=0.0, identity", "gzip;Q=0",
               "identity", "br"):
        st, h, body = get("/feed.atom", **{"Accept-Encoding": ae})
        assert st == 200 and "content-encoding" not in h, ae
        assert body.startswith(b"<?xml"), ae
    st, h, gz = get("/feed.atom", **{"Accept-Encoding": "deflate, gzip;q=0.5"})
    assert h.get("content-encoding") == "gzip"
    assert gzip.decompress(gz).startswith(b"<?xml")


@test
def cache_control_from_config():
    for p in FEEDS:
        st, h, _ = get(p)
        assert h["cache-control"] == "public, max-age=123", (p, h)


@test
def not_found_and_method_not_allowed():
    d = daemon()
    for p in ("/nope", "/feed.xml", "/archive/999.atom", "/sets/nope.atom",
              "/feed.atom/", "/sets/topic"):
        st, h, body = d.get(p)
        assert st == 404, (p, st)
        assert len(body) < 64 and h["content-type"].startswith("text/plain")
    for m, p in (("POST", "/feed.atom"), ("PUT", "/feed.rss"),
                 ("DELETE", "/"), ("POST", "/archive/1.atom")):
        st, h, body = d.request(m, p, body=b"x=1")
        assert st == 405, (m, p, st)
        assert h["allow"] == "GET, HEAD", (m, p, h)
        assert len(body) < 64, body
    # the daemon keeps serving after both
    assert d.get("/feed.atom")[0] == 200


@test
def keep_alive_reuses_the_connection():
    d = daemon()
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    try:
        paths = ("/feed.atom", "/feed.rss", "/", "/nope", "/feed.atom")
        socks = []
        for p in paths:
            conn.request("GET", p)
            r = conn.getresponse()
            r.read()
            assert r.status in (200, 404), (p, r.status)
            assert (r.getheader("Connection") or "").lower() != "close", p
            assert not r.will_close, p
            assert conn.sock is not None, p
            socks.append((id(conn.sock), conn.sock.getsockname()))
        assert len(set(socks)) == 1, socks
    finally:
        conn.close()


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate" and a.get("type"):
            self.links.append((a.get("type"), a.get("href")))

    handle_startendtag = handle_starttag


@test
def every_page_advertises_its_own_feeds():
    d = daemon()
    sets = sample_sets()
    assert len(sets) == 19, sets
    kinds = (("application/atom+xml", "atom"), ("application/rss+xml", "rss"),
             ("application/feed+json", "json"), ("text/calendar", "ics"))
    pages = {"/": "/feed"}
    for s in sets:
        pages["/sets/%s.html" % s] = "/sets/%s" % s
    for page, stem in pages.items():
        st, h, body = d.get(page)
        assert st == 200, page
        lp = Links()
        lp.feed(body.decode("utf-8"))
        want = [(t, d.base + stem + "." + x) for t, x in kinds]
        assert lp.links == want, (page, lp.links)
        for typ, href in lp.links:
            st, h2, _ = d.get(href[len(d.base):])
            assert st == 200 and h2["content-type"].startswith(typ), href


@test
def bad_record_is_logged_and_the_rest_served():
    d = daemon()
    log = d.logtext()
    assert re.search(r"e2e-broken\.xml:6:\d+: <title> opened on line 3 is closed by </record>", log), log
    ids = set()
    for p in ("/feed.atom", "/archive/1.atom"):
        st, h, body = d.get(p)
        assert st == 200 and b"e2e-broken" not in body
        ids |= {e.findtext(A + "id").rsplit("/", 1)[1]
                for e in etree.fromstring(body).findall(A + "entry")}
    assert ids == sample_ids(), ids ^ sample_ids()
    assert len(ids) == 34


@test
def healthz():
    st, h, body = get("/healthz")
    assert st == 200 and body == b"ok\n"
    st, h, body = daemon().request("HEAD", "/healthz")
    assert st == 200 and body == b""


METRIC_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"'
    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? '
    r'[-+]?([0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$')


def metrics():
    st, h, body = get("/metrics")
    assert st == 200
    assert h["content-type"].startswith("text/plain; version=0.0.4"), h
    text = body.decode("utf-8")
    assert text.endswith("\n")
    values = {}
    typed = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind in ("counter", "gauge", "histogram", "summary",
                            "untyped"), line
            typed.add(name)
        elif line.startswith("#") or line == "":
            continue
        else:
            assert METRIC_LINE.match(line), line
            key, val = line.rsplit(" ", 1)
            values[key] = float(val)
            base = re.sub(r"(_bucket|_sum|_count)$", "", key.split("{")[0])
            assert key.split("{")[0] in typed or base in typed, line
    return values


@test
def metrics_are_prometheus_text():
    v = metrics()
    assert v['pubfeed_records{status="live"}'] == 34
    assert v["pubfeed_invalid_records"] == 1
    key = 'pubfeed_http_requests_total{route="feed",status="200"}'
    before = v.get(key, 0)
    for _ in range(3):
        get("/archive/1.atom")
    assert metrics()[key] == before + 3


@test
def a_long_link_header_is_sent_whole():
    """libmicrohttpd writes the response headers into the connection's
    memory pool, after the request; the pool is 16 KB (its zeroing costs
    CPU per request), so a landing page's Signposting Link header is
    bounded (2048 bytes: 400 authors with an ORCID iD would make 22 KB) and
    the rest is in the link set (test_signposting.py).  It is sent whole,
    200 and 304."""
    recs = pf.mkdtemp()
    creators = "".join(
        "<creator><person><family>Author%d</family>"
        "<orcid>0000-0002-1694-233X</orcid></person></creator>" % i
        for i in range(400))
    with open(os.path.join(recs, "big.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<record xmlns="https://pubfeed.org/ns/record/1" id="BIG_1" '
                'type="working-paper"><title>Many authors</title>%s'
                '<issued>2021-07-01T12:00:00Z</issued><language>en</language>'
                '</record>\n' % creators)
    d = Daemon(records=recs).start()
    try:
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
        c.request("GET", "/records/BIG_1.html")
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        link = r.getheader("Link")
        assert link is not None and 1500 < len(link) <= 2048, len(link or "")
        assert 0 < link.count('rel="author"') < 400, link[:300]
        assert link.count('rel="linkset"') == 2, link[-300:]
        assert link.endswith('type="application/linkset+json"'), link[-100:]
        etag = r.getheader("ETag")
        c.request("GET", "/records/BIG_1.html", headers={"If-None-Match": etag})
        r = c.getresponse()
        r.read()
        assert r.status == 304 and r.getheader("Link") == link, r.status
        c.close()
    finally:
        d.stop()


run()
