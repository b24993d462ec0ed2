"""End-to-end: "pubfeed export DIR --watch" follows the records.

It keeps running on serve's watch and rebuild machinery and exports every
new snapshot: a changed record's files get the new bytes, a deleted
record's files go, a new record's files appear, all by rename, so a web
server reading DIR meanwhile never sees half a file, a missing one or a
temporary.  It holds the state lock like serve (it writes datestamps), so
no serve and no second --watch can run on the same state beside it.
SIGTERM stops it with exit status 0.
"""
import gzip
import json
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

from pf import (Daemon, EXPORT_MANIFEST, PUBFEED, export_rows, mkdtemp,  # noqa: E402
                run, spawn, test)

MANIFEST = EXPORT_MANIFEST
CHANGED = "reports/2015-smuggling-balkan-route.xml"
DELETED = "reports/2025-smuggling-goes-online.xml"
NEW_ID = "2026-watch-new-report"
NEW = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="%s" type="report" xml:lang="en">
  <title xml:lang="en">Exported while watching</title>
  <creator><person><family>Bezlov</family><given>Tihomir</given></person></creator>
  <issued>2026-11-20</issued>
  <language>en</language>
  <abstract xml:lang="en">A record added while export --watch runs.</abstract>
  <set>topic:smuggling</set>
</record>
""" % NEW_ID
XML_EXT = (".atom", ".rss", ".xml")


def rid(rel):
    return os.path.basename(rel)[:-len(".xml")]


def tree(out):
    """{relative path: bytes} of every file under out."""
    files = {}
    for root, _, names in os.walk(out):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, out)] = f.read()
    return files


def save(path, data):
    """As an editor saves: a hidden temporary renamed over the name."""
    tmp = os.path.join(os.path.dirname(path), ".save.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
    os.rename(tmp, path)


def retitle(d, rel, prefix):
    """Save record rel of d with prefix before its English title."""
    path = os.path.join(d.records, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    title = "<title xml:lang=\"en\">"
    assert title in text, rel
    save(path, text.replace(title, title + prefix, 1))


def start_watch(d, out):
    log = open(os.path.join(d.dir, "watch.log"), "ab")
    p = spawn([PUBFEED, "export", "-c", d.conf, "--watch", out],
              stdout=log, stderr=log)
    log.close()
    return p


def watching(entries=50):
    """A daemon's records (50 entries a feed) and a watcher exporting them
    to its www, once the first export is done: (d, out, process)."""
    d = Daemon(entries=entries)
    out = os.path.join(d.dir, "www")
    p = start_watch(d, out)
    wait_until(lambda: "exporting every change" in watch_log(d),
               "first export", p, d)
    return d, out, p


def watch_log(d):
    with open(os.path.join(d.dir, "watch.log"), encoding="utf-8",
              errors="replace") as f:
        return f.read()


def wait_until(pred, what, p, d, timeout=30):
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if p.poll() is not None:
            raise AssertionError("export --watch exited %d:\n%s"
                                 % (p.returncode, watch_log(d)))
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("%s: not within %ds:\n%s" % (what, timeout,
                                                     watch_log(d)))


def stop(p):
    """SIGTERM: exit 0, and nothing of its process group left running."""
    p.send_signal(signal.SIGTERM)
    assert p.wait(20) == 0, p.returncode
    try:
        os.killpg(p.pid, 0)
        raise AssertionError("a process of export --watch's group is left")
    except ProcessLookupError:
        pass


class Reader(threading.Thread):
    """A web server's view: reads every file of out, over and over."""

    def __init__(self, out, always):
        super().__init__(daemon=True)
        self.out, self.always = out, always
        self.halt = threading.Event()
        self.problems, self.vanished, self.tmps = [], set(), set()
        self.reads = self.parsed = 0

    def check(self, rel, data):
        if rel.endswith(".gz"):
            data = gzip.decompress(data)    # a cut gzip raises
            rel = rel[:-3]
        if rel.endswith(XML_EXT):
            etree.fromstring(data)
            self.parsed += 1
        elif rel.endswith(".json"):
            json.loads(data)
        elif rel.endswith(".html"):
            assert data.rstrip().endswith(b"</html>"), "cut html"

    def run(self):
        while not self.halt.is_set():
            for root, _, names in os.walk(self.out):
                for n in names:
                    p = os.path.join(root, n)
                    rel = os.path.relpath(p, self.out)
                    if ".tmp" in n:
                        self.tmps.add(rel)
                        continue
                    try:
                        with open(p, "rb") as f:
                            data = f.read()
                    except FileNotFoundError:
                        self.vanished.add(rel)
                        continue
                    self.reads += 1
                    try:
                        self.check(rel, data)
                    except Exception as ex:  # noqa: BLE001
                        self.problems.append("%s: %s" % (rel, ex))
            for rel in self.always:
                if not os.path.exists(os.path.join(self.out, rel)):
                    self.problems.append("%s: missing" % rel)


@test
def watch_follows_change_delete_and_add_atomically():
    d, out, p = watching()
    a = tree(out)
    changed, deleted = rid(CHANGED), rid(DELETED)
    assert "records/%s.html" % deleted in a, sorted(a)
    assert "records/%s.html" % NEW_ID not in a
    assert b"Balkan" in a["feed.atom"], "the changed record is not in the feed"
    always = [k for k in a if k != MANIFEST and deleted not in k and
              not k.startswith("archive")]
    reader = Reader(out, always)
    reader.start()
    try:
        time.sleep(0.3)
        retitle(d, CHANGED, "Watched: ")
        os.unlink(os.path.join(d.records, DELETED))
        save(os.path.join(d.records, "reports", NEW_ID + ".xml"), NEW)

        def converged():
            try:
                with open(os.path.join(out, "records", NEW_ID + ".html"),
                          "rb") as f:
                    new = f.read()
                with open(os.path.join(out, "records", changed + ".html"),
                          "rb") as f:
                    page = f.read()
            except FileNotFoundError:
                return False
            return (b"Exported while watching" in new and
                    b"Watched: " in page and not os.path.exists(
                        os.path.join(out, "records", deleted + ".html")))
        wait_until(converged, "the three changes exported", p, d)
        time.sleep(0.5)     # the reader sees the settled tree too
    finally:
        reader.halt.set()
        reader.join(30)
    assert reader.reads > 100 and reader.parsed > 20, (reader.reads,
                                                      reader.parsed)
    assert not reader.problems, reader.problems[:10]
    # temporaries exist while a file is written (hidden ".NAME.tmp.PID",
    # renamed over NAME), but none is left behind
    assert all(os.path.basename(k).startswith(".") for k in reader.tmps), \
        sorted(reader.tmps)
    b = tree(out)
    assert b"Watched: " in b["feed.atom"]
    assert gzip.decompress(b["feed.atom.gz"]) == b["feed.atom"]
    assert b["feed.atom"] != a["feed.atom"]
    assert not [k for k in b if deleted in k], [k for k in b if deleted in k]
    assert [k for k in b if NEW_ID in k], sorted(b)
    # only files of gone documents ever vanished, and they stay gone
    assert not [k for k in reader.vanished if k in b], reader.vanished
    # what a one-shot export of the same records and state gives (it
    # reads the state --watch holds): DIR converged to exactly that
    ref = os.path.join(d.dir, "ref")
    r = subprocess.run([PUBFEED, "export", "-c", d.conf, ref],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    c = tree(ref)
    diff = sorted(k for k in set(b) | set(c)
                  if k != MANIFEST and b.get(k) != c.get(k))
    assert not diff, diff[:10]
    assert not [k for k in b if ".tmp" in k]
    stop(p)
    assert "SIGTERM: shutting down" in watch_log(d), watch_log(d)


def exports(d):
    """The "exported snapshot" lines of the log so far."""
    return [ln for ln in watch_log(d).splitlines()
            if "exported snapshot" in ln]


def one_shot(d, name):
    """{relative path: bytes} of a one-shot export of the same records."""
    ref = os.path.join(d.dir, name)
    r = subprocess.run([PUBFEED, "export", "-c", d.conf, ref],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return tree(ref)


def same_as_one_shot(d, out, name):
    b, c = tree(out), one_shot(d, name)
    diff = sorted(k for k in set(b) | set(c)
                  if k != MANIFEST and b.get(k) != c.get(k))
    assert not diff, diff[:10]


def next_export(d, p, n, what):
    """Wait for the export after the n-th, return its log line."""
    wait_until(lambda: len(exports(d)) > n, what, p, d)
    return exports(d)[n]


@test
def a_record_changed_again_and_back_is_never_exported_stale():
    """The watcher keeps its rows in memory between snapshots: each
    change, one back to the first bytes of many documents (a set left and
    joined again: the rows read at the start name those bytes, the files
    hold others), a deletion and the same record again all land in DIR as
    a one-shot export of the same records writes them, and only the first
    export stats every file."""
    d = Daemon(entries=50)
    out = os.path.join(d.dir, "www")
    one_shot(d, "www")      # the watcher starts on the rows of a run
    p = start_watch(d, out)
    wait_until(lambda: "exporting every change" in watch_log(d),
               "first export", p, d)
    assert "every file checked" in exports(d)[0], exports(d)
    first = tree(out)
    path = os.path.join(d.records, CHANGED)
    with open(path, encoding="utf-8") as f:
        orig = f.read()
    title = "<title xml:lang=\"en\">"
    bg = "  <set>region:bulgaria</set>\n"
    assert bg in orig
    page = "records/%s.html" % rid(CHANGED)
    steps = [orig.replace(title, title + "Once: ", 1),
             orig.replace(bg, ""), orig, None, orig,
             orig.replace(title, title + "Again: ", 1)]
    for i, text in enumerate(steps):
        n = len(exports(d))
        if text is None:
            os.unlink(path)
        else:
            save(path, text)
        line = next_export(d, p, n, "step %d exported" % i)
        assert "every file checked" not in line, line
        now = tree(out)
        assert (page in now) == (text is not None), (i, line)
        if i == 2:
            # these files have their first bytes again
            back = ["sets/region.html", "sets/region:bulgaria.html", page]
            assert [k for k in back if now[k] != first[k]] == []
        same_as_one_shot(d, out, "ref%d" % i)
    stop(p)


def files(out):
    """{relative path: (bytes, mtime)} of every file under out but the
    manifest, and the manifest's rows, sorted."""
    got = {}
    for k, data in tree(out).items():
        if k.startswith(MANIFEST):
            continue
        got[k] = (data, int(os.stat(os.path.join(out, k)).st_mtime))
    return got, export_rows(out)


def same_files_as_one_shot(d, out, name):
    """out holds what a one-shot export into an empty directory writes:
    the same files, bytes and mtimes, and the same manifest rows."""
    one_shot(d, name)
    (a, arows), (b, brows) = files(out), files(os.path.join(d.dir, name))
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    assert not diff, (name, diff[:10])
    rdiff = sorted(set(arows) ^ set(brows))
    assert not rdiff, (name, rdiff[:10])


@test
def a_change_renders_what_a_one_shot_export_renders():
    """After an export the watcher's rows in memory are what it wrote: the
    next change, to another record, renders exactly the documents that a
    one-shot export into a copy of the directory as it was renders (rows
    left as they were before the first change would render the first
    record's documents again), and leaves the first record's files alone
    (same inode: not rewritten, not even with the same bytes).  An update
    walks only the documents of the records that changed and keeps the
    rows of the others as they are: after each change (a retitle, a
    record added, one deleted, the deleted one back, another retitled),
    DIR holds exactly the files, bytes and mtimes, and the manifest
    exactly the rows, of a one-shot export into an empty directory; a row
    of an unchanged record dropped, a file of a changed one left stale or
    one of a deleted one left behind differs.  5 entries a feed: archive
    pages too, some of them changed by each step, most not."""
    d, out, p = watching(entries=5)
    page = os.path.join(out, "records", rid(CHANGED) + ".html")
    new = os.path.join(d.records, "reports", NEW_ID + ".xml")
    deleted = os.path.join(d.records, DELETED)
    with open(deleted, encoding="utf-8") as f:
        gone = f.read()
    steps = [lambda: retitle(d, CHANGED, "Step 0: "),
             lambda: retitle(d, DELETED, "Step 1: "),
             lambda: save(new, NEW),
             lambda: os.unlink(deleted),
             lambda: save(deleted, gone),
             lambda: retitle(d, "reports/%s.xml" % NEW_ID, "Step 5: ")]
    for i, step in enumerate(steps):
        if i == 1:
            before = os.path.join(d.dir, "before")
            shutil.copytree(out, before)
            ino = os.stat(page).st_ino, os.stat(page + ".gz").st_ino
        n = len(exports(d))
        step()
        line = next_export(d, p, n, "change %d exported" % i)
        assert "every file checked" not in line, line
        if i == 1:
            r = subprocess.run([PUBFEED, "export", "-c", d.conf, before],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            want = re.search(r"(\d+) rendered", r.stderr + r.stdout)
            got = re.search(r"(\d+) rendered", line)
            assert want and got and int(want.group(1)) > 0, (r.stderr,
                                                             line)
            assert got.group(1) == want.group(1), (line, r.stderr)
            # the documents an update skipped count as a full walk's
            want = re.search(r"(\d+) reused", r.stderr + r.stdout)
            got = re.search(r"(\d+) reused", line)
            assert want and got and got.group(1) == want.group(1), (
                line, r.stderr)
            assert (os.stat(page).st_ino,
                    os.stat(page + ".gz").st_ino) == ino
            a, b = tree(before), tree(out)
            assert sorted(k for k in set(a) | set(b) if k != MANIFEST and
                          a.get(k) != b.get(k)) == []
        same_files_as_one_shot(d, out, "ref%d" % i)
    stop(p)


@test
def files_changed_by_hand_are_restored_on_sighup():
    """A running watcher trusts the files it wrote itself; SIGHUP (and a
    restart) checks every file again and restores what was removed or
    changed by hand, and the next change still lands."""
    d, out, p = watching()
    good = tree(out)
    gone = os.path.join(out, "records", rid(DELETED) + ".html")
    os.unlink(gone)
    os.unlink(os.path.join(out, "feed.atom.gz"))
    with open(os.path.join(out, "feed.rss"), "ab") as f:
        f.write(b"<!-- edited -->")
    n = len(exports(d))
    p.send_signal(signal.SIGHUP)
    line = next_export(d, p, n, "the export after SIGHUP")
    assert "every file checked" in line, line
    b = tree(out)
    assert sorted(b) == sorted(good)
    assert [k for k in b if b[k] != good[k] and k != MANIFEST] == []
    # and the next change, under the fast path again
    n = len(exports(d))
    retitle(d, CHANGED, "After HUP: ")
    line = next_export(d, p, n, "the change after SIGHUP")
    assert "every file checked" not in line, line
    same_as_one_shot(d, out, "ref")
    stop(p)


@test
def another_export_into_the_directory_is_noticed():
    """A one-shot export into the watcher's directory (here with another
    base URL, so every file gets other bytes) commits rows the watcher
    does not hold in memory: its next export reads the rows again and
    brings every file back to its own snapshot, not only the changed
    record's."""
    d, out, p = watching()
    r = subprocess.run([PUBFEED, "export", "-c", d.conf, "--base-url",
                        "https://other.example.org/", out],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert b"other.example.org" in tree(out)["feed.atom"]
    n = len(exports(d))
    retitle(d, CHANGED, "Noticed: ")
    line = next_export(d, p, n, "the change after the other export")
    assert "every file checked" in line, line
    b = tree(out)
    assert not [k for k in b if b"other.example.org" in b[k]]
    same_as_one_shot(d, out, "ref")
    stop(p)


@test
def watch_holds_the_state_lock():
    d = Daemon()
    out = os.path.join(d.dir, "www")
    p = start_watch(d, out)
    wait_until(lambda: "exporting every change" in watch_log(d),
               "first export", p, d)
    # a second --watch, and a serve, on the same state are refused
    q = subprocess.run([PUBFEED, "export", "-c", d.conf, "--watch",
                        os.path.join(d.dir, "www2")], capture_output=True,
                       text=True, timeout=30)
    assert q.returncode == 1, (q.returncode, q.stderr)
    assert "is in use by another pubfeed" in q.stderr, q.stderr
    assert not os.path.exists(os.path.join(d.dir, "www2", MANIFEST))
    d.start(wait=False)
    assert d.proc.wait(30) != 0
    assert "is in use by another pubfeed" in d.logtext(), d.logtext()
    Daemon.running.remove(d)
    stop(p)
    # and once it has stopped, serve starts on that state
    d.start()
    d.stop()


@test
def watch_stops_on_sigint_and_rejects_bad_use():
    d = Daemon()
    out = os.path.join(d.dir, "www")
    p = start_watch(d, out)
    wait_until(lambda: "exporting every change" in watch_log(d),
               "first export", p, d)
    p.send_signal(signal.SIGINT)
    assert p.wait(20) == 0
    assert "SIGINT: shutting down" in watch_log(d)
    # --watch belongs to export only
    r = subprocess.run([PUBFEED, "serve", "-c", d.conf, "--watch"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    h = subprocess.run([PUBFEED, "--help"], capture_output=True, text=True)
    assert "--watch" in h.stdout


if __name__ == "__main__":
    run()
