"""End-to-end harness: start the real pubfeed on a free loopback port, talk
to it over HTTP, validate with the official schemas.  Stdlib + Debian's
python3-lxml / python3-feedparser only (run with /usr/bin/python3).

Each test file registers functions with @test and calls run(); the last line
printed is "RESULT: N passed, M failed", which tests/run.sh adds up.

Nothing outlives a test file: every temporary directory comes from mkdtemp()
below and every child process from spawn() (Daemon uses both); at exit --
normal, an exception, SIGTERM, SIGINT or SIGHUP -- cleanup() kills the
process group of each child still running and removes each directory, even
one a test left unreadable.  Use these, never tempfile.mkdtemp() or a bare
subprocess.Popen() for anything that may outlive a test.
"""
import atexit
import gzip
import hashlib
import http.client
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUBFEED = os.path.abspath(os.path.join(ROOT, os.environ.get("PUBFEED", "build/pubfeed")))
STANDARDS = os.environ.get("PUBFEED_STANDARDS",
                           os.path.join(ROOT, "..", "shared", "standards"))
SAMPLES = os.path.join(ROOT, "config", "records")
HAVE_STANDARDS = os.path.isdir(STANDARDS)

_tests = []
_skips = []
_tmpdirs = []
_procs = []


def mkdtemp(prefix="pubfeed-e2e-"):
    """A fresh directory under $TMPDIR, removed by cleanup()."""
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def spawn(argv, **kw):
    """subprocess.Popen in a process group of its own, killed by cleanup()."""
    kw.setdefault("start_new_session", True)
    p = subprocess.Popen(argv, **kw)
    _procs.append(p)
    return p


def _rmtree(d):
    def fix(func, path, _exc):
        # a test may have left a directory chmod 000: make it removable
        for q in (os.path.dirname(path), path):
            try:
                os.chmod(q, 0o700)
            except OSError:
                pass
        try:
            func(path)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(d):
        shutil.rmtree(d, onerror=fix)


def cleanup():
    """Stop every child still running, then remove every temporary dir."""
    for d in list(Daemon.running):
        try:
            d.stop(timeout=5)
        except Exception:
            pass
    Daemon.running = []
    while _procs:
        p = _procs.pop()
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                p.kill()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass
    while _tmpdirs:
        d = _tmpdirs.pop()
        try:
            _rmtree(d)
        except OSError as ex:
            print("cleanup: cannot remove %s: %s" % (d, ex), flush=True)


def _on_signal(sig, _frame):
    sys.exit(128 + sig)     # atexit runs cleanup()


atexit.register(cleanup)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def test(fn):
    _tests.append(fn)
    return fn


def skip(why):
    """Record a visible skip (never a silent pass)."""
    if why not in _skips:
        _skips.append(why)
        print("SKIP: " + why, flush=True)


def run():
    passed = failed = 0
    only = os.environ.get("PUBFEED_TEST")
    for fn in _tests:
        if only and only not in fn.__name__:
            continue
        t0 = time.monotonic()
        try:
            fn()
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__, flush=True)
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("ok   %s (%.2fs)" % (fn.__name__, time.monotonic() - t0), flush=True)
    Daemon.stop_all()
    cleanup()
    print("RESULT: %d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


# ---- Records and state, as the OAI-PMH suites seed them -----------------

REC_NS = "https://pubfeed.org/ns/record/1"


def iso(t):
    """t (seconds since the epoch) as an OAI-PMH UTC datestamp."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def day(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def source_records(path):
    """id -> {"path", "sets"} read from the record files themselves."""
    from lxml import etree
    out = {}
    for top, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if not f.endswith(".xml") or f.startswith("."):
                continue
            p = os.path.join(top, f)
            root = etree.parse(p).getroot()
            out[root.get("id")] = {
                "path": p,
                "sets": [s.text for s in root.findall("{%s}set" % REC_NS)],
                # what oai_openaire takes: a research output that states
                # its access rights (the samples all have a link)
                "openaire": root.get("type") not in ("event", "news") and
                root.find("{%s}access" % REC_NS) is not None}
    return out


def seed_state(state_dir, recs, stamps, tombs=()):
    """Write STATE/records.state so unchanged files keep these datestamps;
    tombs: (id, datestamp, sets) of deleted records."""
    os.makedirs(state_dir, exist_ok=True)
    lines = ["# pubfeed state 1"]
    for rid in sorted(recs):
        with open(recs[rid]["path"], "rb") as f:
            h = hashlib.sha256(f.read()).hexdigest()
        lines.append("%s\t%s\t%d\tlive\t%s" % (rid, h, stamps[rid],
                                                " ".join(recs[rid]["sets"])))
    for rid, ts, sets in tombs:
        lines.append("%s\t%s\t%d\tdeleted\t%s" % (rid, "0" * 64, ts, " ".join(sets)))
    with open(os.path.join(state_dir, "records.state"), "w") as f:
        f.write("\n".join(lines) + "\n")


def forge(tok):
    """Change one character in the middle of a token (still base64url)."""
    i = len(tok) // 2
    return tok[:i] + ("B" if tok[i] != "B" else "C") + tok[i + 1:]


_handed_out = set()


def free_port(addr="127.0.0.1"):
    """A port nothing listens on, and never one this process handed out
    before: a test that takes a port for a peer it starts later (an outage)
    must not find the daemon started meanwhile on the same port."""
    while True:
        s = socket.socket()
        s.bind((addr, 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _handed_out:
            _handed_out.add(port)
            return port


BASE_CONF = """
repository-name "Test Centre for Cross-Border Crime Research"
base-url {base}
admin-email admin@research.example.org
admin-email oai@research.example.org
tag-authority research.example.org,2008
records {records}
state {state}
feed-author-name "Research Centre"
feed-author-email info@research.example.org
feed-title "Research Centre publications"
feed-subtitle "Reports, briefs and events"
feed-entries {entries}
oai-namespace research.example.org
oai-page-size {page}
rescan-interval 0
debounce 50
set topic "Topics" "Everything by topic"
set region:bulgaria "Bulgaria"
# the sample collection names its sets in the records (test_sets.py checks
# the closed list)
open-sets yes
{extra}
"""


EXPORT_MANIFEST = ".pubfeed-export.db"


def export_rows(out):
    """The rows of "pubfeed export"'s manifest in out, by path: (path, key,
    etag, size, mtime, gz_etag, gz_size)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        out, EXPORT_MANIFEST), uri=True)
    try:
        return db.execute("SELECT path, key, etag, size, mtime, gz_etag, "
                          "gz_size FROM doc ORDER BY path").fetchall()
    finally:
        db.close()

class Daemon:
    running = []

    def __init__(self, records=None, entries=10, page=5, extra="", copy=True,
                 state=None, port=None, args=()):
        self.dir = mkdtemp()
        if records is None:
            records = SAMPLES
        if copy:
            self.records = os.path.join(self.dir, "records")
            shutil.copytree(records, self.records)
        else:
            self.records = records
        self.state = state or os.path.join(self.dir, "state")
        self.port = port or free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.conf = os.path.join(self.dir, "pubfeed.conf")
        self.extra = extra
        self.entries = entries
        self.page = page
        self.args = list(args)
        self.write_conf()
        self.proc = None
        self.log = os.path.join(self.dir, "pubfeed.log")

    def write_conf(self, extra=None):
        if extra is not None:
            self.extra = extra
        with open(self.conf, "w") as f:
            f.write(BASE_CONF.format(base=self.base, records=self.records,
                                     state=self.state, entries=self.entries,
                                     page=self.page, extra=self.extra))

    def start(self, wait=True, env=None):
        logf = open(self.log, "ab")
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.pop("NOTIFY_SOCKET", None)
        if env:
            e.update(env)
        self.proc = spawn(
            [PUBFEED, "serve", "-c", self.conf, "--listen",
             "127.0.0.1:%d" % self.port] + self.args,
            stdout=logf, stderr=logf, env=e)
        logf.close()
        Daemon.running.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        t = time.monotonic() + timeout
        while time.monotonic() < t:
            if self.proc.poll() is not None:
                raise AssertionError("pubfeed exited %d:\n%s" % (self.proc.returncode, self.logtext()))
            try:
                st, _, _ = self.get("/healthz")
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("pubfeed not ready:\n" + self.logtext())

    def logtext(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=None, timeout=20):
        # (a default of signal.SIGTERM would resolve to the method below)
        sig = sig or signal.SIGTERM
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("pubfeed did not stop on %s" % sig)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @classmethod
    def stop_all(cls):
        for d in cls.running:
            try:
                d.stop()
            except Exception:
                d.kill()
        cls.running = []

    def request(self, method, path, body=None, headers=None, conn=None):
        """Returns (status, headers dict (lower-case, joined), body bytes)."""
        own = conn is None
        if own:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        if own:
            conn.close()
        return r.status, hdrs, data

    def get(self, path, headers=None, conn=None):
        return self.request("GET", path, headers=headers, conn=conn)

    def oai(self, query, post=False):
        if post:
            return self.request("POST", "/oai", body=query, headers={
                "Content-Type": "application/x-www-form-urlencoded"})
        return self.get("/oai?" + query)

    def wait_for(self, pred, timeout=10, what="condition"):
        t = time.monotonic() + timeout
        while time.monotonic() < t:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError("timed out waiting for " + what + "\n" + self.logtext()[-3000:])


def xmllint(data, *args):
    """Run xmllint --nonet with the standards catalog; returns (rc, output)."""
    env = dict(os.environ)
    env["XML_CATALOG_FILES"] = os.path.join(STANDARDS, "catalog.xml")
    p = subprocess.run(["xmllint", "--nonet", "--noout"] + list(args) + ["-"],
                       input=data, capture_output=True, env=env)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")



def shared_for_real(body, dates):
    """1 when every atom:updated two Atom entries share is what their
    records themselves say (dates: entry id -> the record's date), so the
    validator's DuplicateUpdated is in the data, not pubfeed's doing."""
    import collections
    from lxml import etree
    atom = "{http://www.w3.org/2005/Atom}"
    seen = collections.defaultdict(list)
    for e in etree.fromstring(body).findall(atom + "entry"):
        seen[e.findtext(atom + "updated")].append(e.findtext(atom + "id"))
    for up, ids in seen.items():
        if len(ids) > 1 and any(dates.get(i) != up for i in ids):
            return 0
    return 1

def validate_atom(data):
    if not HAVE_STANDARDS:
        skip("Atom RELAX NG validation: %s not found" % STANDARDS)
        return
    rc, out = xmllint(data, "--relaxng", os.path.join(STANDARDS, "feeds", "atom.rng"))
    assert rc == 0, "Atom feed does not validate:\n" + out[-2000:]


def validate_oai(data, schema="oai-pmh-all.xsd"):
    if not HAVE_STANDARDS:
        skip("OAI-PMH schema validation: %s not found" % STANDARDS)
        return
    rc, out = xmllint(data, "--schema", os.path.join(STANDARDS, "oai-pmh", schema))
    assert rc == 0, "OAI-PMH response does not validate:\n" + out[-2000:]


def well_formed(data):
    rc, out = xmllint(data)
    assert rc == 0, "not well-formed:\n" + out[-2000:]
