"""End-to-end: "pubfeed export DIR" is reproducible and incremental.

Export keeps the state serve keeps (unless a serve runs on it), so two
runs over unchanged records give the same bytes; a second run writes only
the files whose bytes changed (checked by inode: every file is replaced by
a rename, so a rewritten file has a new inode), and removes the files of
documents that are gone, never a file export did not write.
"""
import gzip
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from pf import Daemon, PUBFEED, mkdtemp, run, test  # noqa: E402

MANIFEST = ".pubfeed-export"
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
    assert {k: v[2] for k, v in a.items()} == {k: v[2] for k, v in c.items()}
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
    # exactly the files whose bytes or mtime changed (the manifest among them)
    assert MANIFEST in changed
    assert rewritten == changed | redated, (rewritten ^ (changed | redated))
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
    with open(os.path.join(out, MANIFEST)) as f:
        named = {ln.split(" ", 4)[4].rstrip("\n") for ln in f.readlines()[1:]}
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
    with open(os.path.join(out, MANIFEST)) as f:
        assert any((" " + h["etag"] + " ") in ln and
                   ln.rstrip("\n").endswith(" feed.atom") for ln in f), h
    assert os.stat(db).st_mtime_ns == before
    assert d.get("/healthz")[0] == 200
    d.stop()


def counts(log):
    """(rendered, reused) documents from export's log line."""
    m = re.search(r" (\d+) rendered, (\d+) reused in ", log)
    assert m, log
    return int(m.group(1)), int(m.group(2))


def manifest(out):
    """{file: (key, etag, size, mtime)} of out's manifest."""
    with open(os.path.join(out, MANIFEST)) as f:
        lines = f.read().splitlines()
    assert lines[0] == "pubfeed-export 2", lines[0]
    m = {}
    for ln in lines[1:]:
        key, etag, size, mtime, path = ln.split(" ", 4)
        m[path] = (key, etag, size, mtime)
    return m


def keyed(m):
    """The documents (plain files) of manifest m that carry a key."""
    return {k: v[0] for k, v in m.items()
            if v[0] != "-" and not k.endswith(".gz")}


def bytes_of(t):
    return {k: v[2] for k, v in t.items()}


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
        assert len(m[k][0]) == 65, (k, m[k])
    assert m["records/r-03.html.gz"][0] == m["records/r-03.html"][0]
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
    with open(os.path.join(a, MANIFEST), "rb") as f, \
            open(os.path.join(b, MANIFEST), "rb") as g:
        assert f.read() == g.read()
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
    # the same bytes (manifest included) and mtimes as a cold export
    cold = os.path.join(d.dir, "cold")
    export(d, cold)
    c = tree(cold)
    assert bytes_of(b) == bytes_of(c), \
        sorted(k for k in set(b) | set(c) if b.get(k) != c.get(k))
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
    path = os.path.join(out, MANIFEST)
    with open(path) as f:
        text = f.read()
    lines = text.splitlines(True)
    # another key for one document, another size for another
    for i, ln in enumerate(lines):
        if ln.endswith(" nb/records/r-05.html\n"):
            lines[i] = "0" * 64 + "g" + ln[65:]
        if ln.endswith(" bg/records/r-06.html\n"):
            f = ln.split(" ")
            f[2] = str(int(f[2]) + 1)
            lines[i] = " ".join(f)
    assert "".join(lines) != text
    with open(path, "w") as f:
        f.write("".join(lines))
    log = export(d, out)
    rendered, _ = counts(log)
    assert rendered == 5, log
    assert bytes_of(tree(out)) == want
    assert counts(export(d, out))[0] == 0


@test
def a_manifest_of_format_1_is_read_and_replaced():
    """The manifest of an export before keys: its files are compared by
    ETag (nothing written) and every document rendered once to key it."""
    d = collection()
    out = os.path.join(d.dir, "out")
    export(d, out)
    n = len(keyed(manifest(out)))
    path = os.path.join(out, MANIFEST)
    with open(path) as f:
        lines = f.read().splitlines(True)
    with open(path, "w") as f:
        f.write("pubfeed-export 1\n")
        f.writelines(ln.split(" ", 1)[1] for ln in lines[1:])
    log = export(d, out)
    assert counts(log) == (n, 0), log
    assert " 0 files, 0 bytes written" in log and " 0 removed" in log, log
    assert len(keyed(manifest(out))) == n
    assert counts(export(d, out)) == (0, n)


if __name__ == "__main__":
    run()
