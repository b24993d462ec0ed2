"""End-to-end: live updates.  The real daemon (debounce 50 ms) serves a copy
of the sample collection; the tests change files the way people and tools
do (write, editor save through a temporary, rsync, git checkout, mkdir,
delete, SIGHUP) and poll /feed.atom and OAI-PMH until the change shows, or
check that it never shows.  Nothing asserts on elapsed time: waits only
bound how long a test may take.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from lxml import etree  # noqa: E402

from pf import Daemon, run, test, validate_atom, skip  # noqa: E402

ATOM = "{http://www.w3.org/2005/Atom}"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
REPO = "research.example.org"
WAIT = 15       # seconds a change may take to show before a test fails

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="{id}" type="news" xml:lang="en">
  <title xml:lang="en">{title}</title>
  <creator><organisation>Center for the Study of Democracy</organisation></creator>
  <issued>{issued}</issued>
  <language>en</language>
  <abstract xml:lang="en">A record written by the live-update tests.</abstract>
  <publisher>Center for the Study of Democracy</publisher>
  <link rel="landing" href="https://research.example.org/news/{id}"/>
  <set>topic:organised-crime</set>
  <set>type:news</set>
</record>
"""


def record(rid, title, issued="2027-03-01T09:00:00Z"):
    return TEMPLATE.format(id=rid, title=title, issued=issued)


def write(path, text):
    """Write in place (open, write, close), as cp or a plain editor does."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def save_via_temp(path, text, tmpname=None):
    """Editor / rsync style: a temporary next to the file, renamed over it."""
    d, base = os.path.split(path)
    tmp = os.path.join(d, tmpname or ("." + base + ".tmp"))
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def feed(d):
    """{record id: title} of /feed.atom (the body must parse and be Atom)."""
    st, _, body = d.get("/feed.atom")
    assert st == 200, st
    root = etree.fromstring(body)
    assert root.tag == ATOM + "feed", root.tag
    out = {}
    for e in root.iter(ATOM + "entry"):
        out[e.findtext(ATOM + "id").rsplit("/", 1)[-1]] = e.findtext(ATOM + "title")
    return out


def feed_title(d):
    st, _, body = d.get("/feed.atom")
    assert st == 200, st
    return etree.fromstring(body).findtext(ATOM + "title")


def oai_get(d, rid):
    """("missing"|"deleted"|"live", datestamp, title) from GetRecord."""
    st, _, body = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:%s:%s" % (REPO, rid))
    assert st == 200, st
    root = etree.fromstring(body)
    assert root.tag == OAI + "OAI-PMH", root.tag
    err = root.find(OAI + "error")
    if err is not None:
        assert err.get("code") == "idDoesNotExist", err.get("code")
        return ("missing", None, None)
    hdr = root.find(".//" + OAI + "header")
    stamp = hdr.findtext(OAI + "datestamp")
    if hdr.get("status") == "deleted":
        return ("deleted", stamp, None)
    return ("live", stamp, root.findtext(".//" + DC + "title"))


def oai_list_ids(d):
    """Every identifier ListIdentifiers returns, with its status."""
    ids, q = {}, "verb=ListIdentifiers&metadataPrefix=oai_dc"
    while True:
        st, _, body = d.oai(q)
        assert st == 200, st
        root = etree.fromstring(body)
        for h in root.iter(OAI + "header"):
            ids[h.findtext(OAI + "identifier").rsplit(":", 1)[-1]] = h.get("status") or "live"
        tok = root.findtext(".//" + OAI + "resumptionToken")
        if not tok:
            return ids
        q = "verb=ListIdentifiers&resumptionToken=" + tok


def snapshots(d):
    return len(re.findall(r"snapshot \d+:", d.logtext()))


def started(**kw):
    return Daemon(entries=10, page=50, **kw).start()


@test
def test_add_change_delete():
    d = started()
    p = os.path.join(d.records, "news", "live-one.xml")
    assert "live-one" not in feed(d)
    write(p, record("live-one", "Live one, first version"))
    d.wait_for(lambda: feed(d).get("live-one") == "Live one, first version",
               WAIT, "the new record in /feed.atom")
    validate_atom(d.get("/feed.atom")[2])
    st, stamp1, title = d.wait_for(lambda: oai_get(d, "live-one")[0] == "live" and oai_get(d, "live-one"),
                                   WAIT, "the new record in OAI-PMH")
    assert title == "Live one, first version", title
    assert oai_list_ids(d).get("live-one") == "live"

    write(p, record("live-one", "Live one, second version"))
    d.wait_for(lambda: feed(d).get("live-one") == "Live one, second version",
               WAIT, "the changed title in /feed.atom")
    assert oai_get(d, "live-one")[2] == "Live one, second version"

    os.unlink(p)
    d.wait_for(lambda: "live-one" not in feed(d), WAIT, "the record gone from /feed.atom")
    st, stamp3, title = d.wait_for(lambda: oai_get(d, "live-one")[0] == "deleted" and oai_get(d, "live-one"),
                                   WAIT, "an OAI-PMH tombstone")
    assert stamp3 >= stamp1, (stamp1, stamp3)
    assert oai_list_ids(d).get("live-one") == "deleted"
    # an unchanged sample record is untouched throughout
    assert oai_get(d, "2019-news-joint-programme-launch")[0] == "live"


@test
def test_editor_save_is_one_update():
    d = started()
    rid = "2019-news-joint-programme-launch"
    p = os.path.join(d.records, "news", rid + ".xml")
    with open(p, encoding="utf-8") as f:
        old = f.read()
    st, stamp0, title0 = oai_get(d, rid)
    assert st == "live" and title0.startswith("CSD and Nordic Partners"), (st, title0)
    # a new datestamp must be able to differ from the old one (seconds)
    while time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) <= stamp0:
        time.sleep(0.05)
    before = snapshots(d)
    seen, stop = [], threading.Event()

    def poll():
        while not stop.is_set():
            seen.append(oai_get(d, rid))

    t = threading.Thread(target=poll)
    t.start()
    try:
        while len(seen) < 3:
            time.sleep(0.01)
        new = old.replace("CSD and Nordic Partners Launch", "CSD and Nordic Partners Relaunch")
        assert new != old
        save_via_temp(p, new)
        d.wait_for(lambda: seen and seen[-1][2] is not None and "Relaunch" in seen[-1][2],
                   WAIT, "the saved title in GetRecord")
        n = len(seen)
        while len(seen) < n + 5:
            time.sleep(0.01)
    finally:
        stop.set()
        t.join()
    assert all(s[0] == "live" for s in seen), [s for s in seen if s[0] != "live"][:3]
    stamps = [s[1] for s in seen]
    changes = [i for i in range(1, len(stamps)) if stamps[i] != stamps[i - 1]]
    assert len(changes) == 1 and stamps[-1] > stamp0, (stamp0, sorted(set(stamps)))
    titles = [s[2] for s in seen]
    flips = [i for i in range(1, len(titles)) if titles[i] != titles[i - 1]]
    assert len(flips) == 1, flips
    assert snapshots(d) == before + 1, (before, snapshots(d), d.logtext()[-2000:])
    # rsync style: ".name.XXXXXX" renamed over the file
    save_via_temp(p, old, tmpname="." + rid + ".xml.Qx81ab")
    d.wait_for(lambda: oai_get(d, rid)[2] == title0, WAIT, "the rsync'd title")


@test
def test_git_checkout_unlink_and_create():
    d = started()
    rid = "2023-news-procurement-report-parliament"
    p = os.path.join(d.records, "news", rid + ".xml")
    with open(p, encoding="utf-8") as f:
        text = f.read()
    os.unlink(p)
    new = re.sub(r'(<title xml:lang="\w+">)', r"\1Checked out: ", text, count=1)
    assert new != text
    write(p, new)
    d.wait_for(lambda: (oai_get(d, rid)[2] or "").startswith("Checked out: "),
               WAIT, "the checked-out version")
    assert oai_get(d, rid)[0] == "live"


@test
def test_invalid_edit_keeps_last_good():
    d = started()
    rid = "2026-news-call-for-papers-2027"
    p = os.path.join(d.records, "news", rid + ".xml")
    st, stamp0, title0 = oai_get(d, rid)
    assert st == "live"
    save_via_temp(p, '<?xml version="1.0"?>\n<record xmlns="https://pubfeed.org/ns/record/1"\n'
                     '  id="%s" type="news">\n<title>broken\n</record>\n' % rid)
    rel = re.escape(p) + r":\d+"
    d.wait_for(lambda: re.search(rel, d.logtext()), WAIT, "the error with file:line in the log")
    assert "keeping the last good version" in d.logtext()
    assert oai_get(d, rid) == ("live", stamp0, title0)
    # another change rebuilds; the broken file is not reported again
    write(os.path.join(d.records, "news", "live-two.xml"), record("live-two", "Live two"))
    d.wait_for(lambda: "live-two" in feed(d), WAIT, "the other record")
    assert len(re.findall(rel, d.logtext())) == 1, d.logtext()[-3000:]
    assert oai_get(d, rid) == ("live", stamp0, title0)
    st, _, body = d.get("/status")
    assert st == 200
    # fixed again: served, and the new content counts as a change
    with open(os.path.join(pf.SAMPLES, "news", rid + ".xml"), encoding="utf-8") as f:
        good = f.read()
    save_via_temp(p, good.replace("<title xml:lang=\"en\">", "<title xml:lang=\"en\">Fixed: ", 1))
    d.wait_for(lambda: (oai_get(d, rid)[2] or "").startswith("Fixed: "), WAIT, "the fixed record")


@test
def test_new_subdirectories():
    d = started()
    # mkdir and write at once: the file may land before the watch exists
    write(os.path.join(d.records, "fresh", "deep", "sub-one.xml"), record("sub-one", "Sub one"))
    d.wait_for(lambda: "sub-one" in feed(d), WAIT, "a record in a new subdirectory")
    write(os.path.join(d.records, "fresh", "deep", "sub-two.xml"), record("sub-two", "Sub two"))
    d.wait_for(lambda: "sub-two" in feed(d), WAIT, "a later record in it")
    # a directory prepared elsewhere and moved in
    outside = os.path.join(d.dir, "incoming")
    write(os.path.join(outside, "moved-in.xml"), record("moved-in", "Moved in"))
    os.rename(outside, os.path.join(d.records, "incoming"))
    d.wait_for(lambda: "moved-in" in feed(d), WAIT, "a moved-in directory")
    # and moved away again: its records become tombstones
    os.rename(os.path.join(d.records, "incoming"), outside)
    d.wait_for(lambda: oai_get(d, "moved-in")[0] == "deleted", WAIT, "tombstone of a moved-away dir")
    shutil.rmtree(os.path.join(d.records, "fresh"))
    d.wait_for(lambda: oai_get(d, "sub-one")[0] == "deleted" and oai_get(d, "sub-two")[0] == "deleted",
               WAIT, "tombstones of a deleted directory")


@test
def test_editor_temporaries_ignored():
    d = started()
    news = os.path.join(d.records, "news")
    for i, name in enumerate([".tmp-one.xml.swp", "tmp-two.xml~", ".#tmp-three.xml",
                              "tmp-four.xml.tmp", ".tmp-five.xml"]):
        write(os.path.join(news, name), record("tmp-%d" % i, "Temporary %d" % i))
    before = snapshots(d)
    # a real change afterwards: once it shows, the temporaries were seen too
    write(os.path.join(news, "real.xml"), record("real", "Real"))
    d.wait_for(lambda: "real" in feed(d), WAIT, "the real record")
    ids = oai_list_ids(d)
    assert not [k for k in ids if k.startswith("tmp-")], ids
    assert not [k for k in feed(d) if k.startswith("tmp-")]
    assert snapshots(d) == before + 1, (before, snapshots(d))


@test
def test_sighup_config():
    d = started()
    assert feed_title(d) == "Research Centre publications"
    good = open(d.conf).read()
    with open(d.conf, "a") as f:
        f.write("no-such-directive 1\nfeed-entries many\n")
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: "keeping the running one" in d.logtext(), WAIT, "the bad config to be refused")
    assert d.proc.poll() is None
    assert d.get("/healthz")[0] == 200
    assert feed_title(d) == "Research Centre publications"
    # still live-updating after the refused reload
    write(os.path.join(d.records, "news", "after-hup.xml"), record("after-hup", "After HUP"))
    d.wait_for(lambda: "after-hup" in feed(d), WAIT, "a change after a refused reload")
    with open(d.conf, "w") as f:
        f.write(good.replace('feed-title "Research Centre publications"',
                             'feed-title "Renamed publications"'))
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: feed_title(d) == "Renamed publications", WAIT, "the new feed title")
    write(os.path.join(d.records, "news", "after-hup2.xml"), record("after-hup2", "After HUP 2"))
    d.wait_for(lambda: "after-hup2" in feed(d), WAIT, "a change after a good reload")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@test
def test_changes_under_load():
    # an ASan build holds freed memory in its quarantine: keep it small so
    # RSS shows what the daemon keeps (no effect on a normal build)
    asan = os.environ.get("ASAN_OPTIONS", "")
    d = Daemon(entries=10, page=50).start(env={
        "ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=4"})
    p = os.path.join(d.records, "news", "churn.xml")
    write(p, record("churn", "Churn 0"))
    d.wait_for(lambda: feed(d).get("churn") == "Churn 0", WAIT, "the churn record")
    bad, counts, stop = [], [0], threading.Event()

    def hammer(paths):
        while not stop.is_set():
            for path in paths:
                try:
                    st, h, body = d.get(path)
                    assert st == 200, "%s: %d" % (path, st)
                    root = etree.fromstring(body)
                    assert root.tag in (ATOM + "feed", OAI + "OAI-PMH", "rss"), root.tag
                    if root.tag == OAI + "OAI-PMH":
                        assert root.find(OAI + "error") is None, body[:300]
                    counts[0] += 1
                except Exception as e:  # noqa: BLE001 - every failure counts
                    bad.append("%s: %r" % (path, e))

    paths = ["/feed.atom", "/feed.rss", "/sets/topic.atom",
             "/oai?verb=ListRecords&metadataPrefix=oai_dc",
             "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:%s:churn" % REPO]
    threads = [threading.Thread(target=hammer, args=(paths[i:] + paths[:i],)) for i in range(4)]
    wrk = None
    if shutil.which("wrk"):
        wrk = pf.spawn(["wrk", "-t2", "-c16", "-d8s", d.base + "/feed.atom"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    else:
        skip("wrk not installed: load from Python threads only")
    for t in threads:
        t.start()
    try:
        rss = []
        for i in range(1, 51):
            save_via_temp(p, record("churn", "Churn %d" % i))
            if i % 5 == 0:
                d.wait_for(lambda: feed(d).get("churn") == "Churn %d" % i, WAIT, "change %d" % i)
                rss.append(rss_kb(d.proc.pid))
            else:
                time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join()
    if wrk is not None:
        out = wrk.communicate(timeout=60)[0].decode()
        assert wrk.returncode == 0, out
        assert "Non-2xx" not in out and "Socket errors" not in out, out
        assert re.search(r"\d+ requests in", out), out
    assert not bad, bad[:5]
    assert counts[0] > 50, counts
    assert oai_get(d, "churn")[2] == "Churn 50"
    print("VmRSS kB after every 5th change: %s" % rss, flush=True)
    warm = rss[1]
    assert max(rss[2:]) < 2 * warm, rss
    assert d.proc.poll() is None
    assert d.stop() == 0
    assert "LeakSanitizer" not in d.logtext() and "ERROR:" not in d.logtext(), d.logtext()[-3000:]


run()
