"""End-to-end: the state database under crashes and hostile disks.

kill -9 at random points over many change cycles, a full state disk (a
small tmpfs; with a parse cache there, the cache gives its space to the
state), a read-only state directory, a corrupted database, a second
primary, and the import of the old text state.  After every restart every
datestamp of unchanged content is unchanged and every tombstone is there.
Mounting needs root; without it the mount tests print SKIP (a failure under
CI=true).
"""
import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

from pf import Daemon, PUBFEED, run, skip, test

OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {"o": OAI}
REPO = "research.example.org"
REC_NS = "https://pubfeed.org/ns/record/1"


def record_xml(rid, title, sets=("topic:a",)):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<record xmlns=\"%s\" id=\"%s\" type=\"news\">\n"
            "  <title>%s</title>\n  <issued>2020-02-29</issued>\n"
            "  <language>en</language>\n%s</record>\n"
            % (REC_NS, rid, title, "".join("  <set>%s</set>\n" % s for s in sets)))


def write_record(d, rid, title, sets=("topic:a",)):
    path = os.path.join(d.records, rid + ".xml")
    tmp = os.path.join(d.records, ".%s.tmp" % rid)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(record_xml(rid, title, sets))
    os.replace(tmp, path)


def headers(d):
    """identifier -> (datestamp, is_deleted) over a full ListIdentifiers."""
    out = {}
    q = "verb=ListIdentifiers&metadataPrefix=oai_dc"
    while True:
        st, _, body = d.oai(q)
        assert st == 200, body[:300]
        root = ET.fromstring(body)
        if root.find("o:error", NS) is not None:
            assert root.find("o:error", NS).get("code") == "noRecordsMatch", body[:300]
            return out
        for h in root.iter("{%s}header" % OAI):
            ident = h.findtext("o:identifier", namespaces=NS).split(":", 2)[2]
            assert ident not in out, ident
            out[ident] = (h.findtext("o:datestamp", namespaces=NS),
                          h.get("status") == "deleted")
        tok = root.find(".//o:resumptionToken", NS)
        if tok is None or not (tok.text or "").strip():
            return out
        q = "verb=ListIdentifiers&resumptionToken=" + tok.text.strip()


def get_record(d, rid):
    st, _, body = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:%s:%s"
                        % (REPO, rid))
    assert st == 200
    root = ET.fromstring(body)
    err = root.find("o:error", NS)
    if err is not None:
        return err.get("code"), body
    h = root.find(".//o:header", NS)
    return (h.findtext("o:datestamp", namespaces=NS), h.get("status")), body


def health(d):
    st, _, body = d.get("/healthz")
    return st, body


def metric(d, name):
    _, _, body = d.get("/metrics")
    m = re.search(rb"^%s (\S+)$" % name.encode(), body, re.M)
    return float(m.group(1)) if m else None


def fresh_daemon(n=12, **kw):
    d = Daemon(records=tempfile.mkdtemp(prefix="pubfeed-e2e-recs-"), copy=False,
               page=500, **kw)
    d.own_records = d.records
    for i in range(n):
        write_record(d, "rec-%02d" % i, "Record %d" % i)
    return d


def cleanup(d):
    d.kill()
    for p in (getattr(d, "own_records", None), d.dir):
        if p:
            shutil.rmtree(p, ignore_errors=True)


class Tmpfs:
    """A small tmpfs at a fresh directory; None when mounting is impossible."""

    def __init__(self, size="256k"):
        self.path = tempfile.mkdtemp(prefix="pubfeed-e2e-tmpfs-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size,
                            "tmpfs", self.path], capture_output=True)
        self.ok = r.returncode == 0
        self.why = r.stderr.decode(errors="replace").strip()

    def remount(self, mode):
        subprocess.run(["mount", "-o", "remount,%s" % mode, self.path], check=True)

    def close(self):
        if self.ok:
            subprocess.run(["umount", "-l", self.path])
        shutil.rmtree(self.path, ignore_errors=True)


def need_mount(t):
    if t.ok:
        return True
    why = "cannot mount a tmpfs (%s)" % t.why
    if os.environ.get("CI") == "true":
        raise AssertionError("CI=true and " + why)
    skip(why)
    return False


def fill(path):
    """Fill the filesystem at path; returns the filler's name."""
    filler = os.path.join(path, "filler")
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass
    return filler


@test
def kill9_cycles_keep_datestamps_and_tombstones():
    rng = random.Random(os.environ.get("PUBFEED_SEED", "8"))
    d = fresh_daemon()
    cycles = int(os.environ.get("PUBFEED_KILL_CYCLES", "60"))
    try:
        d.start()
        seen = headers(d)
        content = {rid: "Record %d" % int(rid[4:]) for rid in seen}
        nxt = 100
        for cycle in range(cycles):
            live = sorted(r for r in content if content[r] is not None)
            op = rng.choice(["add", "modify", "delete"] if len(live) > 4 else ["add"])
            if op == "add":
                rid = "rec-%03d" % nxt
                nxt += 1
                content[rid] = "New %d" % cycle
                write_record(d, rid, content[rid])
            elif op == "modify":
                rid = rng.choice(live)
                content[rid] = "Changed %d" % cycle
                write_record(d, rid, content[rid])
            else:
                rid = rng.choice(live)
                content[rid] = None
                os.unlink(os.path.join(d.records, rid + ".xml"))
            published = None
            if cycle % 3 == 0:
                # the change is visible: it must have been committed
                def visible():
                    h, body = get_record(d, rid)
                    if op == "delete":
                        return h if h[1] == "deleted" else None
                    return h if content[rid].encode() in body else None
                published = d.wait_for(visible, what="change %d published" % cycle)
            else:
                # right after the change, while a commit may be in flight
                time.sleep(rng.choice([0, 0, 0.02, 0.05, 0.08, rng.random() * 0.3]))
            d.kill()
            d.start()
            now = headers(d)
            for ident, (ds, deleted) in seen.items():
                if ident == rid:
                    continue
                assert ident in now, "cycle %d: %s vanished" % (cycle, ident)
                assert now[ident] == (ds, deleted), \
                    "cycle %d: %s was %r, now %r" % (cycle, ident, (ds, deleted), now[ident])
            assert now[rid][1] == (op == "delete"), (cycle, rid, now.get(rid))
            if published is not None:
                assert now[rid] == (published[0], op == "delete"), \
                    (cycle, rid, published, now[rid])
            if op == "delete":
                code, _ = get_record(d, rid)
                assert code[1] == "deleted", code
            seen = now
        tombs = [r for r, (_, dl) in seen.items() if dl]
        assert tombs, "no tombstone was exercised"
        assert d.stop() == 0
        print("     %d kill -9 cycles, %d tombstones, %d live" %
              (cycles, len(tombs), len(seen) - len(tombs)))
    finally:
        cleanup(d)


@test
def full_disk_holds_the_change_back_until_it_commits():
    t = Tmpfs("256k")
    d = None
    try:
        if not need_mount(t):
            return
        d = fresh_daemon(state=os.path.join(t.path, "state"))
        # the state alone: no parse cache to give its space back (a
        # directory where parse-cache.db would be: not used, said once)
        os.makedirs(os.path.join(d.state, "parse-cache.db"))
        d.start()
        assert "parse-cache.db: cannot open the parse cache" in d.logtext()
        write_record(d, "gone", "Soon deleted", sets=("topic:b",))
        d.wait_for(lambda: "gone" in headers(d), what="gone published")
        os.unlink(os.path.join(d.records, "gone.xml"))
        d.wait_for(lambda: headers(d).get("gone", (0, False))[1], what="tombstone")
        before = headers(d)
        assert health(d)[0] == 200
        filler = fill(t.path)
        # a change large enough to need new pages
        for i in range(40):
            write_record(d, "full-%02d-%s" % (i, "x" * 100), "Full %d" % i)
        write_record(d, "rec-01", "Changed while full")
        d.wait_for(lambda: health(d)[0] == 503, what="/healthz failing")
        assert b"state: failing" in health(d)[1]
        assert metric(d, "pubfeed_state_ok") == 0
        assert metric(d, "pubfeed_state_commit_failures_total") >= 1
        time.sleep(2.5)     # a retry or two, still failing
        assert headers(d) == before, "a change went live without its commit"
        assert b"Record 1" in get_record(d, "rec-01")[1]
        assert "cannot commit the state" in d.logtext()
        os.unlink(filler)
        d.wait_for(lambda: health(d)[0] == 200, timeout=15, what="commit after space freed")
        # /healthz turns 200 at the commit, the snapshot is published after
        d.wait_for(lambda: len([k for k in headers(d) if k.startswith("full-")]) == 40,
                   timeout=15, what="the held-back change published")
        after = headers(d)
        assert after["rec-01"] != before["rec-01"]
        assert b"Changed while full" in get_record(d, "rec-01")[1]
        assert len([k for k in after if k.startswith("full-")]) == 40, (sorted(after), d.logtext()[-3000:])
        assert metric(d, "pubfeed_state_ok") == 1
        assert d.stop() == 0
        d.start()
        again = headers(d)
        assert again == after
        assert again["gone"] == before["gone"] and again["gone"][1]
        print("     state on the tmpfs: %s" % sorted(
            (n, os.path.getsize(os.path.join(d.state, n))) for n in os.listdir(d.state)))
        # SIGTERM while the state cannot be saved exits non-zero
        filler = fill(t.path)
        for i in range(40):
            write_record(d, "late-%02d-%s" % (i, "y" * 100), "Late %d" % i)
        d.wait_for(lambda: health(d)[0] == 503, what="/healthz failing again")
        rc = d.stop()
        assert rc != 0, rc
        assert "the state could not be saved" in d.logtext()
        if os.path.exists(filler):
            os.unlink(filler)
        d.start()
        final = headers(d)
        assert final["gone"] == before["gone"]
        for k, v in after.items():
            assert final[k] == v, k
        assert d.stop() == 0
    finally:
        if d is not None:
            cleanup(d)
        t.close()


@test
def full_disk_takes_the_parse_cache_first():
    """A full disk and a parse cache beside the state: the cache's file is
    removed (one warning) and the state's commit goes through; the next
    start validates everything, creates the cache again, and serves the
    same datestamps."""
    t = Tmpfs("512k")
    d = None
    try:
        if not need_mount(t):
            return
        d = fresh_daemon(n=60, state=os.path.join(t.path, "state"))
        d.start()
        before = headers(d)
        pc = os.path.join(d.state, "parse-cache.db")
        assert d.stop() == 0
        d.start()
        assert os.path.getsize(pc) > 8192
        filler = fill(t.path)
        for i in range(40):
            write_record(d, "full-%02d-%s" % (i, "x" * 100), "Full %d" % i)
        d.wait_for(lambda: len([k for k in headers(d) if k.startswith("full-")]) == 40,
                   timeout=15, what="the change published")
        assert health(d)[0] == 200
        assert metric(d, "pubfeed_state_commit_failures_total") == 0
        assert not os.path.exists(pc)
        after = headers(d)
        for k, v in before.items():
            assert after[k] == v, k
        d.wait_for(lambda: "parse-cache.db: removed: the disk is full" in d.logtext(),
                   what="the warning")
        os.unlink(filler)
        assert d.stop() == 0
        assert d.logtext().count("parse-cache.db: removed") == 1
        d.start()
        assert headers(d) == after
        assert d.stop() == 0
        assert os.path.getsize(pc) > 8192
    finally:
        if d is not None:
            cleanup(d)
        t.close()


@test
def read_only_state_directory():
    t = Tmpfs("4m")
    d = None
    rep = None
    try:
        if not need_mount(t):
            return
        d = fresh_daemon(state=os.path.join(t.path, "state"))
        d.start()
        os.unlink(os.path.join(d.records, "rec-03.xml"))
        d.wait_for(lambda: headers(d).get("rec-03", (0, False))[1], what="tombstone")
        before = headers(d)
        assert d.stop() == 0
        t.remount("ro")
        # a primary refuses to start on a read-only state directory
        d.start(wait=False)
        assert d.proc.wait(20) == 1
        log = d.logtext()
        assert d.state in log and "writable" in log, log[-2000:]
        # a replica reads it and creates nothing
        names = sorted(os.listdir(d.state))
        rep = Daemon(records=d.records, copy=False, state=d.state, args=["--replica"])
        rep.start()
        assert headers(rep) == before
        assert rep.stop() == 0
        assert sorted(os.listdir(d.state)) == names
        t.remount("rw")
        d.start()
        assert headers(d) == before
        assert d.stop() == 0
    finally:
        if rep is not None:
            rep.kill()
            shutil.rmtree(rep.dir, ignore_errors=True)
        if d is not None:
            cleanup(d)
        try:
            t.remount("rw")
        except Exception:
            pass
        t.close()


@test
def corrupted_database_refuses_to_start():
    d = fresh_daemon(n=200)
    try:
        d.start()
        assert d.stop() == 0
        db = os.path.join(d.state, "pubfeed.db")
        size = os.path.getsize(db)
        rng = random.Random(11)
        with open(db, "r+b") as f:
            f.seek(size // 2 // 4096 * 4096)
            f.write(bytes(rng.randrange(256) for _ in range(4096)))
        d.start(wait=False)
        assert d.proc.wait(20) == 1
        log = d.logtext()
        assert "pubfeed.db: database is" in log and "refusing to start" in log, log[-2000:]
        # nothing was replaced: the damaged file is still there for the operator
        assert os.path.getsize(db) == size
    finally:
        cleanup(d)


@test
def second_primary_refuses():
    d = fresh_daemon()
    other = None
    try:
        d.start()
        other = Daemon(records=d.records, copy=False, state=d.state)
        other.start(wait=False)
        assert other.proc.wait(20) == 1
        log = other.logtext()
        want = "state directory %s is in use by another pubfeed serve (pid %d)" % (
            d.state, d.proc.pid)
        assert want in log, log[-2000:]
        assert health(d)[0] == 200
        # a replica takes no lock
        rep = Daemon(records=d.records, copy=False, state=d.state, args=["--replica"])
        try:
            rep.start()
            assert headers(rep) == headers(d)
            assert rep.stop() == 0
        finally:
            rep.kill()
            shutil.rmtree(rep.dir, ignore_errors=True)
        assert d.stop() == 0
    finally:
        if other is not None:
            other.kill()
            shutil.rmtree(other.dir, ignore_errors=True)
        cleanup(d)


def old_state(d, stamps, tombs):
    os.makedirs(d.state, exist_ok=True)
    lines = ["# pubfeed state 1"]
    for rid, ts in sorted(stamps.items()):
        with open(os.path.join(d.records, rid + ".xml"), "rb") as f:
            h = hashlib.sha256(f.read()).hexdigest()
        lines.append("%s\t%s\t%d\tlive\ttopic:a" % (rid, h, ts))
    for rid, ts in tombs.items():
        lines.append("%s\t%s\t%d\tdeleted\ttopic:old" % (rid, "0" * 64, ts))
    return "\n".join(lines) + "\n"


@test
def migration_from_the_text_state():
    d = fresh_daemon(n=5, extra="websub-hub http://127.0.0.1:9/hub\n")
    try:
        stamps = {"rec-%02d" % i: 1500000000 + i * 86400 for i in range(5)}
        text = old_state(d, stamps, {"old-gone": 1400000000})
        # an empty or truncated file is refused, never half-imported
        for bad in ("", text[:-30]):
            os.makedirs(d.state, exist_ok=True)
            with open(os.path.join(d.state, "records.state"), "w") as f:
                f.write(bad)
            d.start(wait=False)
            assert d.proc.wait(20) == 1
            assert "records.state" in d.logtext() and "refusing to import" in d.logtext()
            assert not os.path.exists(os.path.join(d.state, "records.state.bak"))
        with open(os.path.join(d.state, "records.state"), "w") as f:
            f.write(text)
        with open(os.path.join(d.state, "records.state.tmp.4242"), "w") as f:
            f.write(text[:40])      # what a kill -9 left
        with open(os.path.join(d.state, "outbox"), "w") as f:
            f.write("# pubfeed outbox 1\n"
                    "websub-hub http://127.0.0.1:9/hub - %s/feed.atom 2 0\n" % d.base)
        with open(os.path.join(d.state, "notify.status"), "w") as f:
            f.write("# pubfeed notify status 1\n"
                    "websub-hub http://127.0.0.1:9/hub - 7 2 0 1600000000 1600000100 "
                    "HTTP%20503\n")
        d.start()
        h = headers(d)
        for rid, ts in stamps.items():
            assert h[rid] == (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)), False), rid
        assert h["old-gone"] == ("2014-05-13T16:53:20Z", True)
        code, _ = get_record(d, "old-gone")
        assert code[1] == "deleted"
        names = sorted(os.listdir(d.state))
        for n in ("records.state.bak", "outbox.bak", "notify.status.bak", "pubfeed.db"):
            assert n in names, names
        assert "records.state" not in names and "records.state.tmp.4242" not in names
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(d.state, "pubfeed.db"),
                             uri=True)
        try:
            assert db.execute("SELECT sent FROM target_status").fetchall() == [(7,)]
            assert db.execute("SELECT sets FROM records WHERE id = 'old-gone'").fetchall() == \
                [("topic:old",)]
        finally:
            db.close()
        assert d.stop() == 0
        # a second start imports nothing again
        d.start()
        assert headers(d) == h
        assert d.stop() == 0
    finally:
        cleanup(d)


run()
