"""End-to-end: the prepared responses http.c keeps per document.

Every document's responses (plain, gzip, and their 304s) are made on its
first request and queued as they are afterwards.  These tests prove that a
prepared response answers exactly as a freshly made one did, that a changed
record is never served from a stale one, and that a reload which changes
the headers (not the bytes) is seen on documents already asked for.
"""
import gzip
import http.client
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from pf import Daemon, mkdtemp, run, test  # noqa: E402

DOCS = ("/feed.atom", "/feed.rss", "/", "/sets/topic.rss")
REC = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="{rid}" type="report" xml:lang="en">
  <title xml:lang="en">{title}</title>
  <creator><person><family>Bezlov</family><given>Tihomir</given></person></creator>
  <issued>2019-05-14</issued>
  <language>en</language>
  <abstract xml:lang="en">An abstract.</abstract>
  <link rel="landing" href="https://research.example.org/p/{rid}"/>
  <set>topic:smuggling</set>
</record>
"""
# headers that must be the same on every answer of one representation
SAME = ("content-type", "content-encoding", "content-length", "etag",
        "last-modified", "cache-control", "vary", "link")


def write_rec(d, rid, title):
    path = os.path.join(d.records, rid + ".xml")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(REC.format(rid=rid, title=title))
    os.rename(path + ".tmp", path)


def pick(h):
    return {k: h.get(k) for k in SAME}


def answers(d, path, conn=None):
    """plain, gzip, 304 and gzip 304 answers, as (status, headers, body)."""
    p = d.get(path, conn=conn)
    g = d.get(path, headers={"Accept-Encoding": "gzip"}, conn=conn)
    n = d.get(path, headers={"If-None-Match": p[1]["etag"]}, conn=conn)
    ng = d.get(path, headers={"Accept-Encoding": "gzip",
                              "If-None-Match": g[1]["etag"]}, conn=conn)
    return p, g, n, ng


@test
def prepared_responses_answer_like_the_first():
    d = Daemon(entries=30).start()
    first = {p: answers(d, p) for p in DOCS}
    for p, (pl, gz, nm, ngz) in first.items():
        assert pl[0] == 200 and gz[0] == 200, p
        assert nm[0] == 304 and ngz[0] == 304 and nm[2] == ngz[2] == b"", p
        assert gz[1].get("content-encoding") == "gzip", p
        assert gzip.decompress(gz[2]) == pl[2], p
        assert nm[1]["etag"] == pl[1]["etag"], p
        assert ngz[1]["etag"] == gz[1]["etag"] != pl[1]["etag"], p
    # again, on fresh connections and on one kept-alive connection
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    for c in (None, conn, conn):
        for p in DOCS:
            for a, b in zip(first[p], answers(d, p, conn=c)):
                assert a[0] == b[0] and a[2] == b[2], p
                assert pick(a[1]) == pick(b[1]), (p, a[1], b[1])
            st, h, body = d.request("HEAD", p, conn=c)
            assert st == 200 and body == b"", p
            assert pick(h) == pick(first[p][0][1]), p
    conn.close()
    d.stop()


@test
def changed_record_is_never_served_stale():
    d = Daemon(records=mkdtemp(), entries=10)
    write_rec(d, "r-change", "Title zero")
    write_rec(d, "r-other", "Other title")
    d.start()
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    old = {p: answers(d, p, conn=conn) for p in ("/feed.atom", "/feed.rss")}
    for i in range(1, 6):
        title = "Title number %d" % i
        write_rec(d, "r-change", title)
        d.wait_for(lambda: title.encode() in d.get("/feed.atom")[2],
                   what="the change in /feed.atom")
        for p, (pl, gz, _, _) in old.items():
            new = answers(d, p, conn=conn)
            npl, ngz, nnm, nngz = new
            assert title.encode() in npl[2], p
            assert gzip.decompress(ngz[2]) == npl[2], p
            assert npl[1]["etag"] != pl[1]["etag"], p
            assert ngz[1]["etag"] != gz[1]["etag"], p
            assert nnm[0] == 304 and nngz[0] == 304, p
            # the old validators no longer match: the new bytes, whole
            st, h, body = d.get(p, headers={"If-None-Match": pl[1]["etag"]},
                                conn=conn)
            assert st == 200 and body == npl[2], p
            st, h, body = d.get(p, headers={
                "Accept-Encoding": "gzip",
                "If-None-Match": gz[1]["etag"]}, conn=conn)
            assert st == 200 and body == ngz[2], p
            assert int(h["content-length"]) == len(ngz[2]), p
            old[p] = new
    conn.close()
    d.stop()


@test
def reload_changes_headers_of_documents_already_served():
    d = Daemon(entries=30, extra="max-age 100").start()
    for p in DOCS:
        answers(d, p)
        assert d.get(p)[1]["cache-control"] == "public, max-age=100", p
    d.write_conf("max-age 200")
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: d.get("/feed.atom")[1]["cache-control"] ==
               "public, max-age=200", what="the reload")
    for p in DOCS:
        for st, h, _ in answers(d, p):
            assert h["cache-control"] == "public, max-age=200", (p, st, h)
    d.stop()


@test
def validators_survive_a_restart():
    """The same bytes keep their ETag in a new process (and Last-Modified,
    from the state), so caches stay valid across restarts."""
    d = Daemon(entries=30).start()
    before = {p: answers(d, p) for p in DOCS}
    d.stop()
    d.start()
    for p, old in before.items():
        for a, b in zip(old, answers(d, p)):
            assert a[2] == b[2], p
            assert pick(a[1]) == pick(b[1]), (p, a[1], b[1])
        st, _, body = d.get(p, headers={"If-None-Match":
                                        old[0][1]["etag"]})
        assert st == 304 and body == b"", p
    d.stop()


if __name__ == "__main__":
    run()
