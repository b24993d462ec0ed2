#!/usr/bin/python3
"""The parse cache across restarts (store.h): a second start of the same
collection validates nothing (every file is vouched for by the cache); a
record whose bytes changed while the daemon was stopped is validated again
even when its size and mtime were put back, and served with its new
content; an invalid edit is reported with its path:line:col message.  The
daemon's /metrics counters say what was validated and what the cache
vouched for; no timing is asserted.

The cache keeps each record's image (record_image_encode()): a warm start
decodes it instead of parsing.  An image damaged in the database is refused
and the file parsed (and the row given a new image); what is served from
an image is byte-identical to what parsing gives (three exports on one
state: parsed, from images, parsed again after the rows were deleted).  A
single letter of a title changed inside a stored image (as a rotted byte
of an overflow page would, which SQLite does not see) is refused by the
image's checksum: the right title is served.

The cache is a database of its own, STATE/parse-cache.db (state.h): garbage
over it or a truncation while the daemon is stopped is said once, naming
the file, which is moved aside; every file is validated, the same bytes
are served, and the cache is whole again for the next start.  A deleted
cache costs one validation of everything and changes no byte served.  A
replica reads the cache and never writes it."""
import filecmp
import os
import re
import shutil
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pf import PUBFEED, Daemon, run, test  # noqa: E402

NSR = "https://pubfeed.org/ns/record/1"


def rec(rid, title, lang_el="language"):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<record xmlns=\"%s\" id=\"%s\" type=\"news\">\n"
            "  <title>%s</title>\n"
            "  <issued>2020-02-29</issued>\n"
            "  <%s>en</%s>\n"
            "</record>\n" % (NSR, rid, title, lang_el, lang_el))


def counters(d):
    st, _, body = d.get("/metrics")
    assert st == 200, st
    text = body.decode()
    v = re.search(r"^pubfeed_records_validated_total (\d+)$", text, re.M)
    h = re.search(r"^pubfeed_parse_cache_hits_total (\d+)$", text, re.M)
    assert v and h, text
    return int(v.group(1)), int(h.group(1))


def nfiles(d):
    n = 0
    for _, dirs, files in os.walk(d.records):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        n += sum(1 for f in files
                 if f.endswith(".xml") and not f.startswith("."))
    return n


def title(d, rid):
    st, _, body = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier="
                        "oai:research.example.org:" + rid)
    assert st == 200, st
    m = re.search(r"<dc:title[^>]*>([^<]*)</dc:title>", body.decode())
    return m.group(1) if m else body.decode()


def rewrite_keep_mtime(path, text):
    sb = os.stat(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.utime(path, ns=(sb.st_atime_ns, sb.st_mtime_ns))
    now = os.stat(path)
    assert now.st_size == sb.st_size and now.st_mtime_ns == sb.st_mtime_ns


@test
def second_start_skips_validation():
    d = Daemon()
    path = os.path.join(d.records, "cache-probe.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(rec("cache-probe", "Probe AAAA"))
    n = nfiles(d)
    d.start()
    assert counters(d) == (n, 0), (counters(d), n)
    assert title(d, "cache-probe") == "Probe AAAA"
    d.stop()

    d.start()
    assert counters(d) == (0, n), (counters(d), n)
    assert title(d, "cache-probe") == "Probe AAAA"
    d.stop()

    # other bytes, same size, mtime put back: validated, never stale
    rewrite_keep_mtime(path, rec("cache-probe", "Probe BBBB"))
    d.start()
    assert counters(d) == (1, n - 1), (counters(d), n)
    assert title(d, "cache-probe") == "Probe BBBB"
    d.stop()

    # an invalid edit of the same size with its mtime put back
    rewrite_keep_mtime(path, rec("cache-probe", "Probe BBBB", "languagX"))
    d.start()
    assert counters(d) == (1, n - 1), (counters(d), n)
    log = d.logtext()
    assert re.search(re.escape(path) + r":5:(\d+:)? .*languagX", log), log
    d.stop()


@test
def live_edit_is_validated():
    d = Daemon()
    path = os.path.join(d.records, "cache-live.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(rec("cache-live", "Live AAAA"))
    n = nfiles(d)
    d.start()
    d.stop()
    d.start()
    assert counters(d) == (0, n), (counters(d), n)
    # while running: the watcher's look validates the changed file only
    tmp = os.path.join(d.records, ".cache-live.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(rec("cache-live", "Live BBBB"))
    os.rename(tmp, path)
    d.wait_for(lambda: title(d, "cache-live") == "Live BBBB",
               what="the edit to be served")
    d.wait_for(lambda: counters(d) == (1, n), what="the counters")
    d.stop()


def db(d):
    return sqlite3.connect(os.path.join(d.state, "parse-cache.db"))


def image(d, name):
    """The stored image of records/NAME.xml."""
    c = db(d)
    (img,) = c.execute("SELECT image FROM parse_cache WHERE path LIKE ?",
                       ("%" + name + ".xml",)).fetchone()
    c.close()
    return img


def set_image(d, name, img):
    c = db(d)
    c.execute("UPDATE parse_cache SET image = ? WHERE path LIKE ?",
              (bytes(img), "%" + name + ".xml"))
    c.commit()
    c.close()


@test
def damaged_image_falls_back_to_parsing():
    d = Daemon()
    path = os.path.join(d.records, "cache-img.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(rec("cache-img", "Image AAAA"))
    n = nfiles(d)
    d.start()
    d.stop()
    c = db(d)
    rows = c.execute("SELECT count(*), count(image) FROM parse_cache")
    assert rows.fetchone() == (n, n)
    c.close()
    img = image(d, "cache-img")
    # the title's bytes in the image, changed: still a sound image of
    # other content, so the hash of the file (not the image) decides;
    # then a pointer word past the block: refused
    assert b"Image AAAA" in img
    bad = bytearray(img)
    bad[bad.find(b"Image AAAA") + 6:][:4] = b"ZZZZ"
    bad[32 + 8:32 + 16] = (1 << 40).to_bytes(8, "little")
    set_image(d, "cache-img", bad)
    d.start()
    # bytes unchanged: the row still vouches (no validation), the file
    # is parsed and served as it is
    assert counters(d) == (0, n), (counters(d), n)
    assert title(d, "cache-img") == "Image AAAA"
    d.stop()
    assert image(d, "cache-img") == img, \
        "the row was not given a sound image again"
    d.start()
    assert title(d, "cache-img") == "Image AAAA"
    d.stop()


@test
def rotted_title_in_image_is_not_served():
    d = Daemon()
    path = os.path.join(d.records, "cache-rot.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(rec("cache-rot", "Rotting Title"))
    n = nfiles(d)
    d.start()
    assert title(d, "cache-rot") == "Rotting Title"
    d.stop()
    img = image(d, "cache-rot")
    at = img.find(b"Rotting Title")
    assert at > 0 and img.count(b"Rotting Title") == 1
    bad = bytearray(img)
    bad[at] = ord("P")      # "Potting Title": clean text, sound offsets
    set_image(d, "cache-rot", bad)
    d.start()
    # the file's bytes are the row's (no validation), the image refused
    assert counters(d) == (0, n), (counters(d), n)
    assert title(d, "cache-rot") == "Rotting Title"
    d.stop()
    assert image(d, "cache-rot") == img, \
        "the row was not given a sound image again"


def export(d, out):
    p = subprocess.run([PUBFEED, "export", "-c", d.conf, out],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stderr


def same_trees(a, b):
    cmp = filecmp.dircmp(a, b)
    stack = [cmp]
    while stack:
        c = stack.pop()
        assert not c.left_only and not c.right_only, (c.left_only,
                                                      c.right_only)
        _, mism, errs = filecmp.cmpfiles(c.left, c.right, c.common_files,
                                         shallow=False)
        assert not mism and not errs, (c.left, mism, errs)
        stack.extend(c.subdirs.values())


@test
def images_serve_what_parsing_serves():
    d = Daemon()
    good = os.path.join(HERE, "..", "data", "records", "good")
    shutil.copytree(good, os.path.join(d.records, "more"))
    outs = [os.path.join(d.dir, "out%d" % i) for i in range(3)]
    export(d, outs[0])              # parsed; the rows get images
    c = db(d)
    assert c.execute("SELECT count(image) FROM parse_cache").fetchone()[0] > 30
    c.close()
    export(d, outs[1])              # from the images
    c = db(d)
    c.execute("DELETE FROM parse_cache")
    c.commit()
    c.close()
    export(d, outs[2])              # parsed again
    same_trees(outs[0], outs[1])
    same_trees(outs[1], outs[2])


def served(d):
    out = []
    for path in ("/feed.atom", "/feed.json"):
        st, _, body = d.get(path)
        assert st == 200, (path, st)
        out.append(body)
    body = d.oai("verb=ListRecords&metadataPrefix=oai_dc")[2]
    out.append(re.sub(rb"<responseDate>[^<]*</responseDate>", b"", body))
    return out


def cache_file_damaged(how):
    d = Daemon()
    good = os.path.join(HERE, "..", "data", "records", "good")
    shutil.copytree(good, os.path.join(d.records, "more"))
    n = nfiles(d)
    d.start()
    before = served(d)
    d.stop()
    pc = os.path.join(d.state, "parse-cache.db")
    size = os.path.getsize(pc)
    assert size > 8192, size
    if how == "garbage":
        with open(pc, "r+b") as f:
            f.write(bytes((i * 7919 + 13) & 0xff for i in range(size)))
    elif how == "truncated":
        os.truncate(pc, size // 3 + 100)
    else:
        os.unlink(pc)
    d.start()
    assert counters(d) == (n, 0), (counters(d), n)
    assert served(d) == before
    log = d.logtext()
    warned = [ln for ln in log.splitlines() if "parse-cache.db" in ln]
    if how == "deleted":
        assert not warned, warned
    else:
        assert len(warned) == 1, log[-3000:]
        assert pc in warned[0] and "corrupt" in warned[0], warned
        assert os.path.exists(pc + ".corrupt")
    d.stop()
    c = db(d)
    assert c.execute("SELECT count(image) FROM parse_cache").fetchone() \
        == (n,)
    assert c.execute("PRAGMA quick_check").fetchone() == ("ok",)
    c.close()
    d.start()
    assert counters(d) == (0, n), (counters(d), n)
    assert served(d) == before
    d.stop()


@test
def garbage_cache_file_is_replaced():
    cache_file_damaged("garbage")


@test
def truncated_cache_file_is_replaced():
    cache_file_damaged("truncated")


@test
def deleted_cache_file_revalidates_the_same_bytes():
    cache_file_damaged("deleted")


def stat_of(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@test
def replica_reads_the_cache_and_never_writes_it():
    p = Daemon()
    n = nfiles(p)
    p.start()
    p.stop()
    pc = os.path.join(p.state, "parse-cache.db")
    files = {x: stat_of(x) for x in (pc, pc + "-wal", pc + "-shm")}
    assert files[pc] is not None and files[pc + "-wal"] is None
    r = Daemon(records=p.records, copy=False, state=p.state,
               args=["--replica"])
    path = os.path.join(r.records, "cache-rep.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(rec("cache-rep", "Replica AAAA"))
    r.start()
    # the primary's rows vouch for its files; the new one is validated
    assert counters(r) == (1, n), (counters(r), n)
    r.stop()
    assert {x: stat_of(x) for x in files} == files
    # with the primary running (a WAL there): the same, nothing written
    p.start()
    files = {x: stat_of(x) for x in (pc,)}
    r.start()
    assert counters(r) == (0, n + 1), (counters(r), n)
    r.stop()
    assert {x: stat_of(x) for x in files} == files
    p.stop()
    c = db(p)
    assert c.execute("SELECT count(*) FROM parse_cache WHERE path LIKE "
                     "'%cache-rep.xml'").fetchone() == (1,)
    c.close()


run()
