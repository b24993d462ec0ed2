"""End-to-end: Last-Modified moves with every change a page shows, and
only then.

A client that revalidates a current document with If-Modified-Since alone
(no ETag) must never get 304 for bytes that changed: a deletion and an event
leaving the upcoming list change it, though it shows nothing newer than
before.  And a page whose bytes did not change keeps its
validators, across a restart too, so caches and "pubfeed export" leave it
alone: an edit in one set does not touch another set's HTML page.
"""
import email.utils
import os
import sys
import time

import feedparser

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from pf import Daemon, mkdtemp, run, test  # noqa: E402

REC = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="{rid}" type="{kind}" xml:lang="en">
  <title xml:lang="en">{title}</title>
  <creator><person><family>Bezlov</family><given>Tihomir</given></person></creator>
  <issued>{issued}</issued>{event}
  <language>en</language>
  <abstract xml:lang="en">An abstract.</abstract>
  <link rel="landing" href="https://research.example.org/p/{rid}"/>
  <set>{set}</set>
</record>
"""
EVENT = """
  <event timezone="Europe/Sofia">
    <start>{start}</start>
    <end>{end}</end>
    <place country="BG">Sofia</place>
  </event>"""


def write_rec(d, rid, title, issued, sets, event=None):
    kind = "report"
    ev = ""
    if event is not None:
        kind = "event"
        ev = EVENT.format(start=iso(event[0]), end=iso(event[1]))
    path = os.path.join(d.records, rid + ".xml")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(REC.format(rid=rid, kind=kind, title=title, issued=issued,
                           event=ev, set=sets))
    os.rename(path + ".tmp", path)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def lm(h):
    return email.utils.parsedate_to_datetime(h["last-modified"]).timestamp()


def next_second():
    """Sleep into the next second: datestamps are whole seconds."""
    time.sleep(1.05 - time.time() % 1)


def revalidate(d, path, h):
    """The status answered to If-Modified-Since alone, with h's date."""
    return d.get(path, headers={"If-Modified-Since":
                                h["last-modified"]})[0]


@test
def a_deletion_moves_last_modified_of_the_pages_it_changes():
    d = Daemon(records=mkdtemp(), entries=1, page=1)
    write_rec(d, "r-old", "Old report", "2019-05-14", "topic:smuggling")
    write_rec(d, "r-mid", "Middle report", "2021-03-01", "topic:smuggling")
    write_rec(d, "r-new", "New report", "2024-09-12", "topic:smuggling")
    d.start()
    paths = ("/feed.atom", "/feed.rss", "/feed.json",
             "/sets/topic:smuggling.atom", "/lang/en/feed.atom", "/",
             "/sets/topic:smuggling.html", "/bg/")
    before = {p: d.get(p) for p in paths}
    for p, (st, h, body) in before.items():
        assert st == 200 and revalidate(d, p, h) == 304, p
    # a real reader that keeps only the date (feedparser's modified=)
    url = d.base + "/feed.atom"
    fp = feedparser.parse(url)
    assert fp.status == 200 and fp.entries[0].title == "New report", fp
    assert feedparser.parse(url, modified=fp.modified).status == 304
    next_second()
    os.unlink(os.path.join(d.records, "r-new.xml"))
    d.wait_for(lambda: b"r-new" not in d.get("/feed.atom")[2],
               what="the deletion in /feed.atom")
    again = feedparser.parse(url, modified=fp.modified)
    assert again.status == 200, again.get("status")
    assert [e.title for e in again.entries] == ["Middle report"]
    for p, (_, h, body) in before.items():
        st, nh, nbody = d.get(p)
        assert nbody != body, p
        # the page now shows r-mid (or r-old), both older than before
        assert lm(nh) > lm(h), (p, h["last-modified"], nh["last-modified"])
        assert revalidate(d, p, h) == 200, p
        assert revalidate(d, p, nh) == 304, p
    d.stop()


@test
def an_edit_in_one_set_keeps_another_sets_html_page():
    d = Daemon(records=mkdtemp(), entries=5)
    write_rec(d, "r-a", "Report A", "2020-01-10", "topic:smuggling")
    write_rec(d, "r-b", "Report B", "2021-02-11", "topic:corruption")
    d.start()
    other = "/sets/topic:corruption.html"
    mine = "/sets/topic:smuggling.html"
    st, h0, b0 = d.get(other)
    _, m0, _ = d.get(mine)
    assert st == 200
    next_second()
    write_rec(d, "r-a", "Report A, retitled", "2020-01-10",
              "topic:smuggling")
    d.wait_for(lambda: b"retitled" in d.get(mine)[2], what="the edit")
    st, h1, b1 = d.get(other)
    assert b1 == b0
    assert h1["etag"] == h0["etag"] and h1["last-modified"] == \
        h0["last-modified"], (h0, h1)
    assert lm(d.get(mine)[1]) > lm(m0)
    # a new record changes the counts of the trees of sets that show it
    trees = ("/", "/sets/topic.html", "/bg/sets/topic.html")
    t1 = {p: d.get(p) for p in trees}
    next_second()
    write_rec(d, "r-c", "Report C", "2019-03-12", "topic:smuggling")
    d.wait_for(lambda: b"r-c" in d.get(mine)[2], what="the new record")
    for p, (_, h, body) in t1.items():
        _, nh, nbody = d.get(p)
        assert nbody != body and nh["etag"] != h["etag"], p
        assert lm(nh) > lm(h) and revalidate(d, p, h) == 200, p
    st, h2, b2 = d.get(other)
    assert b2 == b1 and h2["etag"] == h1["etag"]
    assert h2["last-modified"] == h1["last-modified"]
    # and a restart keeps the time each tree last changed
    t2 = {p: d.get(p) for p in trees + (other,)}
    d.stop()
    d.start()
    for p, (_, h, body) in t2.items():
        _, nh, nbody = d.get(p)
        assert nbody == body and nh["etag"] == h["etag"], p
        assert nh["last-modified"] == h["last-modified"], (p, h, nh)
    d.stop()


@test
def an_event_leaving_the_upcoming_list_moves_last_modified():
    d = Daemon(records=mkdtemp(), entries=1)
    now = time.time()
    # the newest record is what "/" lists; the event is older, upcoming
    write_rec(d, "r-news", "Newest report", "2025-06-01", "topic:smuggling")
    write_rec(d, "r-old", "Old report", "2018-01-01", "topic:corruption")
    write_rec(d, "e-soon", "Round table", "2020-01-01", "type:events",
              event=(now - 3600, now + 3))
    d.start()
    st, h, body = d.get("/")
    assert b"Round table" in body
    while time.time() < now + 4.1:
        time.sleep(0.2)
    # a snapshot after the event ended; the edit shows nowhere on "/"
    write_rec(d, "r-old", "Old report, retitled", "2018-01-01",
              "topic:corruption")
    d.wait_for(lambda: b"retitled" in
               d.get("/sets/topic:corruption.html")[2], what="the edit")
    st, nh, nbody = d.get("/")
    assert b"Round table" not in nbody
    assert lm(nh) >= int(now + 3), (h["last-modified"], nh["last-modified"])
    assert revalidate(d, "/", h) == 200
    d.stop()


@test
def a_record_dated_back_out_of_the_current_feed_moves_last_modified():
    """The newest record's date is corrected to an old one: the current
    feed shows another record, older than anything it showed, and no
    deletion happened; its Last-Modified still moves (the state keeps
    since when the feed has shown which records), and a restart keeps it."""
    d = Daemon(records=mkdtemp(), entries=1)
    write_rec(d, "r-old", "Old report", "2019-05-14", "topic:smuggling")
    write_rec(d, "r-new", "New report", "2024-09-12", "topic:smuggling")
    d.start()
    paths = ("/feed.atom", "/sets/topic:smuggling.rss", "/feed.json")
    before = {p: d.get(p) for p in paths}
    next_second()
    write_rec(d, "r-new", "New report", "2010-01-01", "topic:smuggling")
    d.wait_for(lambda: b"Old report" in d.get("/feed.atom")[2],
               what="the older record in /feed.atom")
    after = {}
    for p, (_, h, body) in before.items():
        st, nh, nbody = d.get(p)
        assert nbody != body, p
        assert lm(nh) > lm(h), (p, h["last-modified"], nh["last-modified"])
        assert revalidate(d, p, h) == 200, p
        after[p] = nh
    # a retitle the current feed does not show leaves it alone
    next_second()
    write_rec(d, "r-new", "New report, retitled", "2010-01-01",
              "topic:smuggling")
    d.wait_for(lambda: b"retitled" in d.get("/archive/1.atom")[2],
               what="the edit in the archive")
    for p, h in after.items():
        assert d.get(p)[1]["last-modified"] == h["last-modified"], p
    d.stop()
    d.start()
    for p, h in after.items():
        nh = d.get(p)[1]
        assert nh["last-modified"] == h["last-modified"], (p, h, nh)
        assert nh["etag"] == h["etag"], p
    d.stop()


if __name__ == "__main__":
    run()
