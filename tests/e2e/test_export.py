"""End-to-end: "pubfeed export DIR" is reproducible and incremental.

Export keeps the state serve keeps (unless a serve runs on it), so two
runs over unchanged records give the same bytes; a second run writes only
the files whose bytes changed (checked by inode: every file is replaced by
a rename, so a rewritten file has a new inode), and removes the files of
documents that are gone, never a file export did not write.  What export
wrote is in a SQLite database in the directory (the manifest).
"""
import gzip
import os
import re
import signal
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from pf import (Daemon, EXPORT_MANIFEST, PUBFEED, export_rows, mkdtemp,  # noqa: E402
                run, test)

MANIFEST = EXPORT_MANIFEST
OLD_MANIFEST = ".pubfeed-export"
REC = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="{rid}" type="report" xml:lang="en">
  <title xml:lang="en">{title}</title>
  <creator><person><family>Bezlov</family><given>Tihomir</given></person></creator>
  <issued>2019-05-{day:02d}</issued>
  <language>en</language>
  <abstract xml:lang="en">An abstract.</abstract>
  <link rel="landing" href="https://research.example.org/p/{rid}"/>
  <set>{set}</set>
</record>
"""


def write_rec(d, rid, title, spec="topic:smuggling", day=14):
    path = os.path.join(d.records, rid + ".xml")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(REC.format(rid=rid, title=title, set=spec, day=day))
    os.rename(path + ".tmp", path)


def export(d, out):
    p = subprocess.run([PUBFEED, "export", "-c", d.conf, out],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stderr


def tree(out):
    """{relative path: (inode, mtime, bytes)} of every file under out."""
    files = {}
    for root, _, names in os.walk(out):
        for n in names:
            p = os.path.join(root, n)
            st = os.stat(p)
            with open(p, "rb") as f:
                files[os.path.relpath(p, out)] = (st.st_ino, st.st_mtime_ns,
                                                  f.read())
    return files


def collection():
    d = Daemon(records=mkdtemp(), entries=5, page=5)
    for i in range(12):
        write_rec(d, "r-%02d" % i, "Report %d" % i, day=1 + i)
    write_rec(d, "r-lone", "The only one of its set", spec="topic:lonely")
    return d


@test
def two_runs_give_the_same_bytes_and_write_nothing():
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    a = tree(out)
    assert "feed.atom" in a and "feed.atom.gz" in a and MANIFEST in a, a
    assert gzip.decompress(a["feed.atom.gz"][2]) == a["feed.atom"][2]
    log = export(d, out)
    b = tree(out)
    assert a == b, sorted(k for k in a if a.get(k) != b.get(k))
    assert " 0 files, 0 bytes written" in log, log
    # and into a fresh directory: the same bytes, the same mtimes (each
    # document's Last-Modified; the manifest's is when it was written)
    out2 = os.path.join(d.dir, "out2")
    export(d, out2)
    c = tree(out2)
    assert bytes_of(a) == bytes_of(c)
    assert manifest(out) == manifest(out2)
    assert {k: v[1] for k, v in a.items() if k != MANIFEST} == \
        {k: v[1] for k, v in c.items() if k != MANIFEST}


@test
def a_run_that_changes_nothing_flushes_nothing():
    """syncfs(2) waits for every dirty page of the file system: only a run
    that wrote or removed something may call it."""
    import shutil
    from pf import skip
    if shutil.which("strace") is None:
        skip("strace not installed: syncfs of a no-change export not checked")
        return
    d = collection()
    out = os.path.join(d.dir, "out")

    def syncfs_calls():
        trace = os.path.join(d.dir, "strace.out")
        # LeakSanitizer cannot run under ptrace (SAN=1 builds)
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":detect_leaks=0").lstrip(":")
        p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=syncfs",
                            "-o", trace, PUBFEED, "export", "-c", d.conf,
                            out], capture_output=True, text=True,
                           timeout=120, env=env)
        assert p.returncode == 0, p.stderr
        with open(trace) as f:
            return sum("syncfs(" in line for line in f)
    assert syncfs_calls() == 1      # the first run writes everything
    assert syncfs_calls() == 0      # nothing changed
    write_rec(d, "r-03", "Report 3, retitled", day=4)
    assert syncfs_calls() == 1


@test
def one_changed_record_rewrites_only_its_files():
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    a = tree(out)
    write_rec(d, "r-11", "Report eleven, retitled", day=12)
    export(d, out)
    b = tree(out)
    assert set(a) == set(b)
    changed = {k for k in a if a[k][2] != b[k][2]}
    rewritten = {k for k in a if a[k][0] != b[k][0]}
    # a document whose Last-Modified moved (set pages and ResourceSync
    # take the collection's newest change, so when the change falls in a
    # later second than the first export) is rewritten for its mtime
    redated = {k for k in a if a[k][1] != b[k][1]}
    assert "feed.atom" in changed and "feed.atom.gz" in changed, changed
    # exactly the files whose bytes or mtime changed (the manifest, a
    # database, changes in place)
    assert MANIFEST in changed
    rewritten.add(MANIFEST)
    assert rewritten == changed | redated, (rewritten ^ (changed | redated))
    assert not [k for k in b if k.startswith(MANIFEST + "-")], sorted(b)
    assert len(changed) < len(a) / 2, (len(changed), len(a))
    assert b"Report eleven, retitled" in b["feed.atom"][2]


@test
def gone_documents_lose_their_files_and_others_stay():
    d = collection()
    out = os.path.join(d.dir, "out")
    mine = os.path.join(out, "not-from-export.txt")
    os.makedirs(out)
    with open(mine, "w") as f:
        f.write("kept\n")
    export(d, out)
    a = tree(out)
    lonely = {k for k in a if "topic:lonely" in k}
    assert lonely, sorted(a)
    # the record leaves its set: the set (and its feeds) no longer exist
    write_rec(d, "r-lone", "The only one of its set", spec="topic:smuggling")
    log = export(d, out)
    b = tree(out)
    gone = set(a) - set(b)
    assert lonely <= gone, (lonely, gone)
    assert not {k for k in b if "topic:lonely" in k}, sorted(b)
    assert "not-from-export.txt" in b
    assert " 0 removed" not in log, log
    named = named_files(manifest(out))
    assert named == set(b) - {MANIFEST, "not-from-export.txt"}, \
        named ^ (set(b) - {MANIFEST, "not-from-export.txt"})


@test
def export_beside_a_running_serve_reads_its_state():
    d = collection()
    d.start()
    st, h, body = d.get("/feed.atom")
    assert st == 200
    db = os.path.join(d.state, "pubfeed.db")
    before = os.stat(db).st_mtime_ns
    out = os.path.join(d.dir, "out")
    export(d, out)
    with open(os.path.join(out, "feed.atom"), "rb") as f:
        assert f.read() == body
    assert manifest(out)["feed.atom"][1] == h["etag"], h
    assert os.stat(db).st_mtime_ns == before
    assert d.get("/healthz")[0] == 200
    d.stop()


def counts(log):
    """(rendered, reused) documents from export's log line."""
    m = re.search(r" (\d+) rendered, (\d+) reused in ", log)
    assert m, log
    return int(m.group(1)), int(m.group(2))


def manifest(out):
    """{file: (key hex or None, etag, size, mtime, gz_etag, gz_size)}, a row
    per document, of out's manifest."""
    return {r[0]: (r[1].hex() if r[1] is not None else None,) + r[2:]
            for r in export_rows(out)}


def keyed(m):
    """The documents of manifest m that carry a key."""
    return {k: v[0] for k, v in m.items() if v[0] is not None}


def named_files(m):
    """Every file manifest m names."""
    return set(m) | {k + ".gz" for k, v in m.items() if v[4] is not None}


def bytes_of(t):
    """The bytes of every file of tree t but the manifest (a database: the
    same rows need not be the same bytes)."""
    return {k: v[2] for k, v in t.items() if k != MANIFEST}


@test
def a_no_change_export_renders_nothing():
    d = collection()
    out = os.path.join(d.dir, "out")
    rendered, reused = counts(export(d, out))
    assert rendered > 0 and reused == 0, (rendered, reused)
    m = manifest(out)
    # landing pages, archive pages and set feeds are keyed
    for k in ("records/r-03.html", "bg/records/r-03.html",
              "archive/1.atom", "sets/topic:smuggling.atom"):
        assert len(m[k][0]) == 64, (k, m[k])
    assert m["records/r-03.html"][4] is not None    # and its .gz
    assert "records/r-03.html.gz" not in m
    assert rendered == len(keyed(m)), (rendered, len(keyed(m)))
    log = export(d, out)
    assert counts(log) == (0, rendered), log
    assert " 0 files, 0 bytes written" in log, log


@test
def keys_are_the_same_in_every_process():
    """Two exports by separate processes into fresh directories: the same
    manifest, keys and all, and the same files."""
    d = collection()
    a, b = os.path.join(d.dir, "a"), os.path.join(d.dir, "b")
    export(d, a)
    export(d, b)
    assert manifest(a) == manifest(b)
    assert bytes_of(tree(a)) == bytes_of(tree(b))


@test
def one_changed_record_rerenders_the_documents_that_show_it():
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    a, ma = tree(out), manifest(out)
    write_rec(d, "r-07", "Report seven, retitled", day=8)
    rendered, reused = counts(export(d, out))
    b, mb = tree(out), manifest(out)
    ka, kb = keyed(ma), keyed(mb)
    assert set(ka) == set(kb)
    rekeyed = {k for k in ka if ka[k] != kb[k]}
    assert rendered == len(rekeyed) and reused == len(ka) - rendered, \
        (rendered, reused, len(rekeyed), len(ka))
    # its landing pages in every language, the set feeds and the archive
    # page that list it
    for k in ("records/r-07.html", "bg/records/r-07.html",
              "nb/records/r-07.html", "sets/topic:smuggling.atom",
              "sets/topic:smuggling.html"):
        assert k in rekeyed, (k, sorted(rekeyed))
    assert b"Report seven, retitled" in b["records/r-07.html"][2]
    # every other document rendered shows the record or took the
    # collection's newest change as its Last-Modified
    for k in rekeyed:
        assert b"r-07" in a[k][2] or b"r-07" in b[k][2] or \
            a[k][1] != b[k][1], k
    # a document not rendered again kept its file
    assert "records/r-03.html" not in rekeyed
    assert a["records/r-03.html"][0] == b["records/r-03.html"][0]
    assert a["archive/1.atom"][0] == b["archive/1.atom"][0]
    # the same bytes, rows and mtimes as a cold export
    cold = os.path.join(d.dir, "cold")
    export(d, cold)
    c = tree(cold)
    assert bytes_of(b) == bytes_of(c), \
        sorted(k for k in set(b) | set(c) if b.get(k) != c.get(k))
    assert manifest(out) == manifest(cold)
    assert {k: v[1] for k, v in b.items() if k != MANIFEST} == \
        {k: v[1] for k, v in c.items() if k != MANIFEST}


@test
def a_conf_change_rerenders_everything_it_shows_in():
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    n = len(keyed(manifest(out)))
    ka = keyed(manifest(out))
    d.write_conf(extra='feed-rights "Rights reserved by the centre"')
    rendered, reused = counts(export(d, out))
    b = tree(out)
    kb = keyed(manifest(out))
    # what shows the feed's rights has a new key and is rendered again;
    # only what does not show them (the ResourceSync lists) keeps its key
    same = sorted(k for k in kb if ka.get(k) == kb[k])
    assert (rendered, reused) == (n - len(same), len(same)), \
        (rendered, reused, n, same)
    for k in same:
        assert k.startswith("resourcesync/") or k.endswith(".ics"), k
        assert b"Rights reserved" not in b[k][2], k
    for k in ("archive/1.atom", "sets/topic:smuggling.atom"):
        assert b"Rights reserved by the centre" in b[k][2], k
    cold = os.path.join(d.dir, "cold")
    export(d, cold)
    assert bytes_of(b) == bytes_of(tree(cold))


def sql(out, *stmts):
    db = sqlite3.connect(os.path.join(out, MANIFEST))
    try:
        for st in stmts:
            db.execute(*st) if isinstance(st, tuple) else db.execute(st)
        db.commit()
    finally:
        db.close()


@test
def files_and_manifest_changed_by_hand_are_rewritten():
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    want = bytes_of(tree(out))
    os.unlink(os.path.join(out, "records", "r-03.html"))
    with open(os.path.join(out, "archive", "1.rss.gz"), "r+b") as f:
        f.truncate(10)
    with open(os.path.join(out, "sets", "topic:smuggling.json"), "r+b") as f:
        f.truncate(0)
    # a symbolic link where a file was is not the file
    sym = os.path.join(out, "records", "r-04.html")
    os.rename(sym, sym + ".moved")
    os.symlink("r-04.html.moved", sym)
    # another key for one document, another size for another
    sql(out, ("UPDATE doc SET key = ? WHERE path = ?",
              (bytes(32), "nb/records/r-05.html")),
        "UPDATE doc SET size = size + 1 WHERE path = 'bg/records/r-06.html'")
    log = export(d, out)
    rendered, _ = counts(log)
    assert rendered == 6, log
    assert not os.path.islink(sym)
    os.unlink(sym + ".moved")
    assert bytes_of(tree(out)) == want
    assert counts(export(d, out))[0] == 0


def old_manifest(out, fmt):
    """Replace out's manifest by a text manifest of format fmt (1 or 2)
    naming the same files, as pubfeed wrote before the database."""
    lines = []
    for k, v in sorted(manifest(out).items()):
        key = (v[0] or "-") + ("g" if v[4] else "-") if v[0] else "-"
        lines.append((key, v[1], v[2], v[3], k))
        if v[4]:
            lines.append((key, v[4], v[5], v[3], k + ".gz"))
    os.unlink(os.path.join(out, MANIFEST))
    with open(os.path.join(out, OLD_MANIFEST), "w") as f:
        f.write("pubfeed-export %d\n" % fmt)
        for ln in lines:
            f.write(" ".join(str(x) for x in (ln if fmt == 2 else ln[1:])) +
                    "\n")


@test
def an_old_text_manifest_is_read_once_and_its_stale_files_removed():
    """The text manifest of pubfeed before the database (formats 1 and 2):
    its files become pending rows, every document is written again (the
    same bytes), the files of documents gone since are removed, a file it
    did not name stays, and the text manifest is gone."""
    for fmt in (1, 2):
        d = collection()
        out = os.path.join(d.dir, "out")
        export(d, out)
        mine = os.path.join(out, "sets", "not-from-export.txt")
        with open(mine, "w") as f:
            f.write("kept\n")
        old_manifest(out, fmt)
        # the record leaves its set while the old manifest is the one
        write_rec(d, "r-lone", "The only one of its set",
                  spec="topic:smuggling")
        a = tree(out)
        lonely = {k for k in a if "topic:lonely" in k}
        assert lonely and "sets/topic:lonely.atom.gz" in lonely, sorted(a)
        log = export(d, out)
        b = tree(out)
        assert OLD_MANIFEST not in b and MANIFEST in b, sorted(b)
        assert not lonely & set(b), sorted(lonely & set(b))
        assert "sets/not-from-export.txt" in b
        n = len(manifest(out))
        assert counts(log)[0] == len(keyed(manifest(out))), log
        assert " 0 files, 0 bytes written" not in log, log
        os.unlink(mine)
        cold = os.path.join(d.dir, "cold")
        export(d, cold)
        c = tree(cold)
        assert bytes_of(tree(out)) == bytes_of(c)
        assert manifest(out) == manifest(cold)
        log = export(d, out)
        assert " 0 files, 0 bytes written" in log, log
        assert counts(log) == (0, len(keyed(manifest(out)))), log
        assert len(manifest(out)) == n


@test
def a_pending_row_is_written_again_or_removed():
    """A row without ETag (what a crash between writing a file and the
    commit that says what it holds leaves): its document, if it still
    exists, is written again; if it does not, its files are removed."""
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    want = bytes_of(tree(out))
    for name in ("stale/gone.html", "stale/gone.html.gz"):
        os.makedirs(os.path.join(out, "stale"), exist_ok=True)
        with open(os.path.join(out, name), "w") as f:
            f.write("written by a run that crashed\n")
    with open(os.path.join(out, "records", "r-02.html"), "w") as f:
        f.write("half")
    # fileio's temporaries of the crashed run beside its pending files go;
    # one beside a file of no pending row is not export's to remove
    tmps = ["stale/.gone.html.gz.tmp.4242", "records/.r-02.html.tmp.17",
            "stale/.a.tmp.html.tmp.5"]
    other = os.path.join(out, "records", ".r-03.html.tmp.17")
    for name in tmps + [other]:
        with open(os.path.join(out, name), "w") as f:
            f.write("half")
    sql(out, "INSERT INTO doc (path) VALUES ('stale/gone.html')",
        "INSERT INTO doc (path) VALUES ('stale/a.tmp.html')",
        "UPDATE doc SET key = NULL, etag = NULL, size = NULL, mtime = NULL,"
        " gz_etag = NULL, gz_size = NULL WHERE path = 'records/r-02.html'")
    log = export(d, out)
    assert counts(log)[0] == 1, log
    assert " 2 removed" in log, log
    assert not [t for t in tmps if os.path.exists(os.path.join(out, t))]
    os.unlink(other)
    got = bytes_of(tree(out))
    assert got == want, sorted(k for k in set(got) | set(want)
                               if got.get(k) != want.get(k))
    assert "stale/gone.html" not in manifest(out)
    assert "stale/a.tmp.html" not in manifest(out)
    assert " 0 files, 0 bytes written" in export(d, out)


@test
def an_export_killed_while_writing_leaves_nothing_unaccounted():
    """Killed (SIGKILL, by strace's fault injection) after the files of a
    set were written and before the rows that say what they hold: when the
    set is gone by the next run, that run removes its files, so the
    directory is exactly a cold export's."""
    import shutil
    from pf import skip
    if shutil.which("strace") is None:
        skip("strace not installed: a killed export not checked")
        return
    d = collection()
    # one writer: the order of the files is the walk's, the same each run
    d.write_conf(extra="threads 1")
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":detect_leaks=0").lstrip(":")
    # the renames of a complete export, in order: kill after the last file
    # of the set that will be gone
    calls = "rename,renameat,renameat2"
    probe = os.path.join(d.dir, "probe")
    trace = os.path.join(d.dir, "strace.out")
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=" + calls,
                        "-o", trace, PUBFEED, "export", "-c", d.conf, probe],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    with open(trace) as f:
        named = [ln for ln in f if "rename" in ln and "= 0" in ln]
    last = max(i for i, ln in enumerate(named) if "topic:lonely" in ln)
    assert last + 1 < len(named), (last, len(named))
    out = os.path.join(d.dir, "out")
    p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                        "trace=" + calls, "-e",
                        "inject=%s:signal=SIGKILL:when=%d" % (calls,
                                                               last + 2),
                        PUBFEED, "export", "-c", d.conf, out],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL, 137), \
        (p.returncode, p.stderr)
    assert os.path.exists(os.path.join(out, "sets", "topic:lonely.atom"))
    write_rec(d, "r-lone", "The only one of its set", spec="topic:smuggling")
    d.write_conf(extra="")
    export(d, out)
    cold = os.path.join(d.dir, "cold")
    export(d, cold)
    a, c = tree(out), tree(cold)
    assert set(a) == set(c), sorted(set(a) ^ set(c))
    assert bytes_of(a) == bytes_of(c)
    assert manifest(out) == manifest(cold)


@test
def several_writers_give_the_bytes_of_one_and_of_serve():
    """The documents rendered and written by several threads (threads 4)
    are the files one writer gives (threads 1), bytes, mtimes and rows, and
    what serve sends, plain and gzip; no temporary is left behind."""
    d = collection()
    outs = {}
    for n in (1, 4):
        d.write_conf(extra="threads %d" % n)
        outs[n] = os.path.join(d.dir, "out%d" % n)
        export(d, outs[n])
    a, b = tree(outs[1]), tree(outs[4])
    assert bytes_of(a) == bytes_of(b)
    assert {k: v[1] for k, v in a.items() if k != MANIFEST} == \
        {k: v[1] for k, v in b.items() if k != MANIFEST}
    assert manifest(outs[1]) == manifest(outs[4])
    assert not [k for k in b if ".tmp." in k], sorted(b)
    d.start()
    try:
        n = 0
        for rel, (_, _, body) in sorted(b.items()):
            if rel == MANIFEST or rel.endswith(".gz"):
                continue
            url = "/" + (rel[:-len("index.html")]
                         if rel.endswith("index.html") else rel)
            st, _, got = d.get(url)
            assert st == 200 and got == body, (url, st)
            if rel + ".gz" in b:
                st, _, got = d.get(url, {"Accept-Encoding": "gzip"})
                assert st == 200 and got == b[rel + ".gz"][2], (url, st)
            n += 1
        assert n > 20, n
    finally:
        d.stop()


@test
def a_failure_among_writers_stops_them_and_leaves_rows_pending():
    """A document that cannot be written (its directory is a file) stops
    the export with its name; the rows of what was to be written stay
    pending, and the next run, the way cleared, gives a cold export's
    directory."""
    d = collection()
    d.write_conf(extra="threads 4")
    out = os.path.join(d.dir, "out")
    os.makedirs(out)
    with open(os.path.join(out, "records"), "w") as f:
        f.write("in the way\n")
    p = subprocess.run([PUBFEED, "export", "-c", d.conf, out],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0, p.stderr
    assert os.path.join(out, "records") in p.stderr, p.stderr
    assert "Not a directory" in p.stderr, p.stderr
    db = sqlite3.connect(os.path.join(out, MANIFEST))
    try:
        rows = dict(db.execute("SELECT path, etag FROM doc").fetchall())
    finally:
        db.close()
    assert rows and all(v is None for v in rows.values()), rows
    assert "records/r-00.html" in rows and "feed.atom" in rows, sorted(rows)
    os.unlink(os.path.join(out, "records"))
    export(d, out)
    cold = os.path.join(d.dir, "cold")
    export(d, cold)
    a, c = tree(out), tree(cold)
    assert bytes_of(a) == bytes_of(c)
    assert manifest(out) == manifest(cold)


@test
def a_manifest_that_is_not_one_is_refused_by_name():
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    a = tree(out)
    path = os.path.join(out, MANIFEST)
    for bad in ("garbage", "other"):
        if bad == "garbage":
            with open(path, "r+b") as f:
                f.write(b"this is not a database at all" * 4)
        else:
            os.unlink(path)
            sql(out, "CREATE TABLE t (x)", "PRAGMA user_version = 7")
        p = subprocess.run([PUBFEED, "export", "-c", d.conf, out],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode != 0, p.stderr
        assert path in p.stderr and "move it away" in p.stderr, p.stderr
        b = tree(out)
        assert bytes_of(a) == bytes_of(b)


if __name__ == "__main__":
    run()
