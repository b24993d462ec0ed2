#!/bin/sh
# bench/live.sh: live updates in a large collection.
#
#   visible  one record file in BENCH_LIVE_RECORDS (default 100,000) is
#            replaced the way editors and deploy tools do it (a modified
#            copy written under a hidden temporary name, then rename(2) over
#            the original); the time until OAI-PMH GetRecord serves the new
#            title, polled every 5 ms.  BENCH_LIVE_CHANGES changes (default
#            20), median and max.
#   notify   the time from the same kind of rename until a WebSub publish
#            POST reaches a hub ("websub-hub http://127.0.0.1:PORT/", a tiny
#            receiver in this script on loopback).  BENCH_NOTIFY_CHANGES
#            changes (default 100; fewer if BENCH_NOTIFY_BUDGET seconds,
#            default 180, run out), median and max.  Prints "not available"
#            when no POST arrives at all (notifications not working yet).
#
# Both phases use one daemon (threads BENCH_WORKERS, default 2) with the
# default debounce (200 ms, included in every number) and rescan-interval
# 0, so only inotify can see the change.  Each change waits until the
# previous one is visible / notified and the hub has been quiet for 0.5 s.
# The collection is shared with bench/oai.sh (BENCH_OAI_DIR, default
# /tmp/pubfeed-bench-oai) and is never modified: the daemon serves a
# hard-linked copy, and a rename replaces only the copy's link.
#
# Other environment: PUBFEED (default build/pubfeed), BENCH_START_TIMEOUT
# (seconds for start-up, default 900), BENCH_LIVE_TIMEOUT (seconds per
# change, default 60).  Summary lines start with "summary: ".

PFBENCH_DIR=$(cd "$(dirname "$0")" && pwd) exec /usr/bin/python3 - "$@" <<'PYEOF'
import http.client
import http.server
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.environ["PFBENCH_DIR"])
from pfbench import collection, free_port

PUBFEED = os.path.abspath(os.environ.get("PUBFEED", "build/pubfeed"))
DATA = os.environ.get("BENCH_OAI_DIR", "/tmp/pubfeed-bench-oai")
NREC = int(os.environ.get("BENCH_LIVE_RECORDS", "100000"))
NVIS = int(os.environ.get("BENCH_LIVE_CHANGES", "20"))
NNOT = int(os.environ.get("BENCH_NOTIFY_CHANGES", "100"))
BUDGET = float(os.environ.get("BENCH_NOTIFY_BUDGET", "180"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
START_TIMEOUT = float(os.environ.get("BENCH_START_TIMEOUT", "900"))
TIMEOUT = float(os.environ.get("BENCH_LIVE_TIMEOUT", "60"))
NS = "bench.example.org"
QUIET = 0.5


def say(msg):
    print("live: " + msg, flush=True)


def die(msg):
    print("live: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def ms(v):
    return "%.0f" % (v * 1000)


def stats(xs):
    return "median %s ms, max %s ms (n=%d)" % (
        ms(statistics.median(xs)), ms(max(xs)), len(xs))


class Hub(http.server.BaseHTTPRequestHandler):
    """Records the arrival time and body of every POST; answers 204."""
    events = []
    cond = threading.Condition()

    def do_POST(self):
        t = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        with Hub.cond:
            Hub.events.append((t, body))
            Hub.cond.notify_all()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Daemon:
    def __init__(self, work, records, hub_port):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.conf = os.path.join(work, "pubfeed.conf")
        self.logpath = os.path.join(work, "pubfeed.log")
        with open(self.conf, "w") as f:
            f.write("""repository-name "Pubfeed Benchmark"
base-url %s
listen 127.0.0.1:%d
admin-email admin@bench.example.org
tag-authority bench.example.org,2024
records %s
state %s
feed-author-name "Benchmark"
feed-entries 50
oai-namespace %s
threads %d
access-log no
log-level warning
rescan-interval 0
open-sets yes
websub-hub http://127.0.0.1:%d/
notify-timeout 5
""" % (self.base, self.port, records, os.path.join(work, "state"), NS,
                WORKERS, hub_port))
        self.proc = None
        self.conn = None

    def start(self):
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([PUBFEED, "serve", "-c", self.conf],
                                     stdout=log, stderr=log, env=env)
        t0 = time.monotonic()
        while time.monotonic() - t0 < START_TIMEOUT:
            if self.proc.poll() is not None:
                die("pubfeed exited %d:\n%s" % (self.proc.returncode,
                                                 self.logtext()))
            try:
                if self.get("/healthz")[0] == 200:
                    return time.monotonic() - t0
            except OSError:
                self.conn = None
            time.sleep(0.1)
        die("pubfeed not ready after %.0fs:\n%s" % (START_TIMEOUT,
                                                    self.logtext()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def logtext(self):
        with open(self.logpath, encoding="utf-8", errors="replace") as f:
            return f.read()[-3000:]

    def get(self, path):
        """(status, body) over one keep-alive connection."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=30)
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def record(self, rid):
        st, body = self.get("/oai?verb=GetRecord&metadataPrefix=oai_dc&"
                            "identifier=oai:%s:%s" % (NS, rid))
        if st != 200:
            die("GetRecord %s answered %d" % (rid, st))
        return body.decode("utf-8", "replace")


TITLE = re.compile(r"(<title[^>]*>)([^<]*)(</title>)")


class Changer:
    """Rewrites record files in place, like an editor: copy, rename over."""

    def __init__(self, records):
        files = []
        for d, _, names in os.walk(records):
            files.extend(os.path.join(d, n) for n in names
                         if n.endswith(".xml"))
        files.sort()
        if len(files) < 10:
            die("too few records in " + records)
        self.files = files
        self.n = 0

    def pick(self, i):
        f = self.files[(i * 7919) % len(self.files)]
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        rid = re.search(r'<record[^>]* id="([^"]+)"', text).group(1)
        return f, rid, text

    def change(self, f, text):
        """Returns (marker, time just before the rename)."""
        self.n += 1
        marker = "bench-rev-%d-%d" % (os.getpid(), self.n)
        new, k = TITLE.subn(lambda m: m.group(1) + m.group(2) + " " + marker +
                            m.group(3), text, count=1)
        if k != 1:
            die("no <title> in " + f)
        tmp = os.path.join(os.path.dirname(f), "." + os.path.basename(f) +
                           ".bench")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(new)
            fh.flush()
            os.fsync(fh.fileno())
        t0 = time.monotonic()
        os.rename(tmp, f)
        return marker, t0


def wait_quiet():
    """Until the hub has had no POST for QUIET seconds."""
    while True:
        with Hub.cond:
            last = Hub.events[-1][0] if Hub.events else 0
        idle = time.monotonic() - last
        if idle >= QUIET:
            return
        time.sleep(QUIET - idle)


def phase_visible(d, ch):
    lat = []
    for i in range(NVIS):
        f, rid, text = ch.pick(i)
        if i == 0 and "<dc:title" not in d.record(rid):
            die("GetRecord %s has no dc:title" % rid)
        wait_quiet()
        marker, t0 = ch.change(f, text)
        while True:
            if marker in d.record(rid):
                lat.append(time.monotonic() - t0)
                break
            if time.monotonic() - t0 > TIMEOUT:
                if not lat:
                    return None
                die("change %d (%s) not visible after %.0fs" % (i + 1, rid,
                                                                TIMEOUT))
            time.sleep(0.005)
    return lat


def phase_notify(d, ch):
    lat = []
    start = time.monotonic()
    topic = "hub.url=" + d.base.replace(":", "%3A").replace("/", "%2F")
    for i in range(NNOT):
        if time.monotonic() - start > BUDGET:
            say("notify: budget of %.0fs used up after %d changes" % (BUDGET,
                                                                      i))
            break
        f, rid, text = ch.pick(NVIS + i)
        wait_quiet()
        with Hub.cond:
            seen = len(Hub.events)
        marker, t0 = ch.change(f, text)
        limit = TIMEOUT if lat else min(TIMEOUT, 30)
        with Hub.cond:
            while len(Hub.events) == seen:
                left = t0 + limit - time.monotonic()
                if left <= 0:
                    break
                Hub.cond.wait(left)
            got = Hub.events[seen:]
        if not got:
            if not lat:
                return None
            die("change %d: no WebSub POST within %.0fs" % (i + 1, limit))
        t, body = got[0]
        if "hub.mode=publish" not in body or topic not in body:
            die("unexpected hub POST body: %r" % body[:300])
        lat.append(t - t0)
    return lat


def main():
    if not os.access(PUBFEED, os.X_OK):
        die(PUBFEED + " not built (make pubfeed)")
    if not os.path.isfile("bench/gen_records.py"):
        die("run from the repository root")
    records = os.path.realpath(collection(DATA, NREC, say))
    work = tempfile.mkdtemp(prefix="pubfeed-bench-live.")
    d = None
    hub = None
    try:
        copy = os.path.join(work, "records")
        if subprocess.run(["cp", "-al", records, copy]).returncode != 0:
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(records, copy)
        hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
        threading.Thread(target=hub.serve_forever, daemon=True).start()
        d = Daemon(work, copy, hub.server_address[1])
        say("starting pubfeed (%d records, threads %d) on %s" %
            (NREC, WORKERS, d.base))
        up = d.start()
        say("ready in %.1fs" % up)
        ch = Changer(copy)

        vis = phase_visible(d, ch)
        if vis is None:
            say("a changed record was not visible within %.0fs" % TIMEOUT)
            print("summary: live change-to-visible (%d records): not "
                  "available (no change seen in %.0fs)" % (NREC, TIMEOUT))
        else:
            say("change-to-visible: " + stats(vis))

        wait_quiet()
        with Hub.cond:
            early = len(Hub.events)
        say("%d WebSub POSTs during the visibility phase" % early)
        nl = phase_notify(d, ch)
        if nl is None:
            say("no WebSub POST arrived within 30s of a change")
        else:
            say("change-to-notification: " + stats(nl))
        if d.proc.poll() is not None:
            die("pubfeed died:\n" + d.logtext())

        print()
        print("summary: live start-up with %d records: %.1fs" % (NREC, up))
        if vis is not None:
            print("summary: live change-to-visible (1 of %d files, GetRecord):"
                  " %s" % (NREC, stats(vis)))
        if nl is None:
            print("summary: live change-to-notification (WebSub POST): not "
                  "available (no POST within 30s)")
        else:
            print("summary: live change-to-notification (WebSub POST): %s" %
                  stats(nl))
    finally:
        if d is not None:
            d.stop()
        if hub is not None:
            hub.shutdown()
        shutil.rmtree(work, ignore_errors=True)


main()
PYEOF
