#!/usr/bin/python3
"""bench/starts.py PUBFEED RECORDS [N]: N starts of `pubfeed serve` over
RECORDS on one fresh state (the first with an empty state, so every file
is validated and its image stored; the others warm), each timed to
/healthz 200, with the daemon's CPU (user + system) by then and its VmRSS
0.5 s later.  KEEPLOG=1 also prints the daemon's start-up lines (the
phases).  RECORDS is only read.  Used for the side-by-side start-up
figures of bench/README.md: run it for two builds, alternating."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TCK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TCK


def rss(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    pubfeed = os.path.abspath(sys.argv[1])
    recs = os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    work = tempfile.mkdtemp(prefix="pf-starts-")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    base = "http://127.0.0.1:%d" % port
    conf = os.path.join(work, "pubfeed.conf")
    with open(conf, "w") as f:
        f.write('repository-name "Bench"\nbase-url %s\nadmin-email a@b.org\n'
                'feed-author-name X\nrecords %s\nstate %s/state\n'
                'oai-namespace bench.example.org\nrescan-interval 0\n'
                'listen 127.0.0.1:%d\nopen-sets yes\n'
                % (base, recs, work, port))
    logname = os.path.join(work, "serve.log")
    log = open(logname, "w")
    p = None
    try:
        for i in range(n):
            t0 = time.monotonic()
            p = subprocess.Popen([pubfeed, "serve", "-c", conf], stdout=log,
                                 stderr=subprocess.STDOUT)
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz",
                                           timeout=30).read()
                    break
                except Exception:
                    if p.poll() is not None:
                        log.flush()
                        sys.exit(open(logname).read()[-2000:])
                    time.sleep(0.02)
            wall, c = time.monotonic() - t0, cpu(p.pid)
            time.sleep(0.5)
            print("start %d: %.2f s CPU %.2f s RSS %.0f MB"
                  % (i, wall, c, rss(p.pid)), flush=True)
            p.send_signal(signal.SIGTERM)
            p.wait()
            p = None
    finally:
        if p is not None:
            p.kill()
            p.wait()
        log.close()
        if os.environ.get("KEEPLOG"):
            for line in open(logname):
                if "start-up:" in line:
                    print(line, end="")
        shutil.rmtree(work)


main()
