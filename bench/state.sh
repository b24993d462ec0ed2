#!/bin/sh
# bench/state.sh: what one state change costs in a large collection.
#
# One record file in BENCH_STATE_RECORDS (default 100,000) gets a new title
# (a modified copy renamed over the original), BENCH_STATE_CHANGES times
# (default 5).  For each change: the time until OAI-PMH GetRecord serves
# the new title ("visible"), the time until the daemon's last write for it
# ("written": /proc/PID/io stops changing for 1 s, polled every 2 ms), and
# the bytes the daemon wrote meanwhile: write_bytes (what reached the block
# layer, i.e. the state) and wchar (every write(2), sockets included).
# Medians are printed.  Run it against any build with PUBFEED=path, e.g. an
# older commit's, to compare.  The collection is shared with bench/oai.sh
# (BENCH_OAI_DIR, default /tmp/pubfeed-bench-oai) and never modified: the
# daemon serves a hard-linked copy.  Summary lines start with "summary: ".

PFBENCH_DIR=$(cd "$(dirname "$0")" && pwd) exec /usr/bin/python3 - "$@" <<'PYEOF'
import http.client
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
NREC = int(os.environ.get("BENCH_STATE_RECORDS", "100000"))
N = int(os.environ.get("BENCH_STATE_CHANGES", "5"))
NS = "bench.example.org"


def say(msg):
    print("state: " + msg, flush=True)


def io(pid):
    out = {}
    with open("/proc/%d/io" % pid) as f:  # the whole process, all threads
        for line in f:
            k, v = line.split(":")
            out[k] = int(v)
    return out["write_bytes"], out["wchar"]


def main():
    src = collection(DATA, NREC, say)
    work = tempfile.mkdtemp(prefix="pubfeed-bench-state-")
    proc = None
    try:
        records = os.path.join(work, "records")
        shutil.copytree(src, records, copy_function=os.link)
        port = free_port()
        conf = os.path.join(work, "pubfeed.conf")
        with open(conf, "w") as f:
            f.write("repository-name B\nbase-url http://127.0.0.1:%d\n"
                    "admin-email a@bench.example.org\nrecords %s\nstate %s\n"
                    "feed-author-name B\noai-namespace %s\nlog-level warning\nopen-sets yes\n"
                    "rescan-interval 0\n" % (port, records, os.path.join(work, "state"), NS))
        log = open(os.path.join(work, "log"), "ab")
        proc = subprocess.Popen([PUBFEED, "serve", "-c", conf, "--listen",
                                 "127.0.0.1:%d" % port], stdout=log, stderr=log)
        t0 = time.monotonic()
        conn = None
        while True:
            if proc.poll() is not None:
                sys.exit("pubfeed exited %d" % proc.returncode)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        say("ready in %.1f s" % (time.monotonic() - t0))
        time.sleep(3)   # let the first save settle
        files = []
        for dp, _, fs in os.walk(records):
            files += [os.path.join(dp, f) for f in fs if f.endswith(".xml")]
            if len(files) > 100:
                break
        vis, wrt, wb, wc = [], [], [], []
        for i in range(N):
            path = files[i * 7]
            with open(path, encoding="utf-8") as f:
                text = f.read()
            rid = re.search(r' id="([^"]+)"', text).group(1)
            title = "Bench state change %d %d" % (i, os.getpid())
            text = re.sub(r"(<title[^>]*>)[^<]*(</title>)", r"\g<1>%s\2" % title, text, count=1)
            tmp = os.path.join(os.path.dirname(path), ".bench.tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            b0, c0 = io(proc.pid)
            last = [time.monotonic(), b0, c0]
            done = threading.Event()

            def watch():
                while not done.is_set():
                    b, c = io(proc.pid)
                    if (b, c) != tuple(last[1:]):
                        last[:] = [time.monotonic(), b, c]
                    time.sleep(0.002)
            th = threading.Thread(target=watch)
            th.start()
            t0 = time.monotonic()
            os.replace(tmp, path)
            while True:
                conn.request("GET", "/oai?verb=GetRecord&metadataPrefix=oai_dc&"
                             "identifier=oai:%s:%s" % (NS, rid))
                if title.encode() in conn.getresponse().read():
                    break
                time.sleep(0.005)
            vis.append(time.monotonic() - t0)
            while time.monotonic() - last[0] < 1.0:
                time.sleep(0.05)
            done.set()
            th.join()
            wrt.append(last[0] - t0)
            b, c = io(proc.pid)
            wb.append(b - b0)
            wc.append(c - c0)
            say("change %d: visible %.0f ms, written %.0f ms, write_bytes %d, wchar %d"
                % (i, vis[-1] * 1000, wrt[-1] * 1000, wb[-1], wc[-1]))
        sz = sum(os.path.getsize(os.path.join(work, "state", n))
                 for n in os.listdir(os.path.join(work, "state")))
        print("summary: state change at %d records: visible %.0f ms, written %.0f ms, "
              "%d bytes to disk (write_bytes), %d bytes written (wchar), state dir %d bytes"
              % (NREC, statistics.median(vis) * 1000, statistics.median(wrt) * 1000,
                 statistics.median(wb), statistics.median(wc), sz), flush=True)
    finally:
        if proc is not None and proc.poll() is not None:
            with open(os.path.join(work, "log"), errors="replace") as f:
                say("pubfeed exited %d:\n%s" % (proc.returncode, f.read()[-3000:]))
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        shutil.rmtree(work, ignore_errors=True)


main()
PYEOF
