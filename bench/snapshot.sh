#!/bin/sh
# bench/snapshot.sh: start-up and incremental snapshot cost at scale.
#
# Serves a hard-linked copy of a generated collection (BENCH_SNAP_DIR,
# default /tmp/pubfeed-bench-snap, BENCH_SNAP_RECORDS records, default
# 100,000; generated once with bench/gen_records.py), then replaces
# BENCH_SNAP_CHANGES record files one at a time (default 10; written under a
# hidden temporary name, then rename(2) over the original, as editors do)
# and prints the daemon's own "snapshot N: ... built in X ms" lines plus
# the time from the rename until OAI-PMH GetRecord serves the new title
# (debounce 200 ms included).  Also prints start-up time (until /healthz)
# and the daemon's RSS after start-up and after the changes.
#
# Environment: PUBFEED (default build/pubfeed).  Summary lines start with
# "summary: ".
exec /usr/bin/python3 - "$@" <<'PYEOF'
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.request

PUBFEED = os.path.abspath(os.environ.get("PUBFEED", "build/pubfeed"))
DATA = os.environ.get("BENCH_SNAP_DIR", "/tmp/pubfeed-bench-snap")
NREC = int(os.environ.get("BENCH_SNAP_RECORDS", "100000"))
NCHG = int(os.environ.get("BENCH_SNAP_CHANGES", "10"))
GEN = os.path.join(os.path.dirname(os.path.abspath("bench/snapshot.sh")),
    "gen_records.py")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def main():
    src = os.path.join(DATA, "records")
    if not os.path.isdir(src):
        os.makedirs(DATA, exist_ok=True)
        subprocess.check_call(["/usr/bin/python3", GEN, src, str(NREC)])
    work = tempfile.mkdtemp(prefix="pf-snap-")
    recs = os.path.join(work, "records")
    shutil.copytree(src, recs, copy_function=os.link)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    base = "http://127.0.0.1:%d" % port
    conf = os.path.join(work, "pubfeed.conf")
    with open(conf, "w") as f:
        f.write('repository-name "Bench"\nbase-url %s\nadmin-email a@b.org\n'
                'feed-author-name X\nrecords %s\nstate %s/state\noai-namespace bench.example.org\n'
                'rescan-interval 0\nlisten 127.0.0.1:%d\ndebounce 200\nopen-sets yes\n'
                % (base, recs, work, port))
    log = open(os.path.join(work, "serve.log"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen([PUBFEED, "serve", "-c", conf], stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz").read()
                break
            except Exception:
                if p.poll() is not None:
                    sys.exit("daemon exited:\n" + open(os.path.join(work, "serve.log")).read())
                time.sleep(0.05)
        up = time.monotonic() - t0
        print("summary: start-up %.1f s, RSS %.0f MB" % (up, rss_mb(p.pid)),
              flush=True)
        d = os.path.join(recs, sorted(os.listdir(recs))[len(os.listdir(recs)) // 2])
        names = sorted(n for n in os.listdir(d) if n.endswith(".xml"))[:NCHG]
        lat = []
        for k, name in enumerate(names):
            path = os.path.join(d, name)
            text = open(path, encoding="utf-8").read()
            rid = re.search(r' id="([^"]+)"', text).group(1)
            tag = "snapbench-%d-%d" % (os.getpid(), k)
            new = re.sub(r'(<title xml:lang="[\w-]+">)', r"\g<1>" + tag + " ",
                         text, count=1)
            tmp = os.path.join(d, "." + name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(new)
            url = (base + "/oai?verb=GetRecord&metadataPrefix=oai_dc&"
                   "identifier=oai:bench.example.org:" + rid)
            t1 = time.monotonic()
            os.rename(tmp, path)
            while tag not in urllib.request.urlopen(url).read().decode():
                time.sleep(0.002)
            lat.append((time.monotonic() - t1) * 1000)
            time.sleep(0.5)
        log.flush()
        built = [int(m) for m in re.findall(r"built in (\d+) ms",
                 open(os.path.join(work, "serve.log")).read())]
        print("snapshot build times (ms): %s" % built)
        lat.sort()
        inc = sorted(built[1:])
        print("summary: change visible after rename: median %.0f ms, "
              "max %.0f ms (debounce 200 ms included)"
              % (lat[len(lat) // 2], lat[-1]))
        if inc:
            print("summary: incremental snapshot built in: median %d ms, "
                  "max %d ms" % (inc[len(inc) // 2], inc[-1]))
        print("summary: RSS after changes %.0f MB" % rss_mb(p.pid))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
        shutil.rmtree(work, ignore_errors=True)


main()
PYEOF
