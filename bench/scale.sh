#!/bin/sh
# bench/scale.sh RECORDS_DIR: start-up and OAI-PMH at scale (issue 14, the
# 1M run).  Serves RECORDS_DIR (read only; generate one with
# bench/gen_records.py) on a fresh state: the first start (every file
# validated), a second start on that state (the parse cache warm), wall
# time to /healthz 200, the daemon's CPU (user + system) by then, VmRSS
# 0.5 s later and its peak (VmHWM) by then; then GetRecord latency
# (median of 50), a full ListRecords oai_dc harvest on one keep-alive
# connection (records/s; the time of page 1, page 1000 and the last page
# as the harvest met them, each rendered for the first time), the same
# three pages again (median of 20; kept pages, oai_cache.h) and the RSS
# after the harvest.  Environment: PUBFEED
# (default build/pubfeed); STARTS (2: the first and STARTS - 1 warm
# starts); STARTS_ONLY=1 stops after the starts (the start-up comparisons
# of bench/README.md alternate two builds this way); KEEPLOG=1 prints the
# daemon's start-up lines (its phases); COLD=1 makes every start after the
# first a cold one: the records tree and the state directory are evicted
# from the page cache first (posix_fadvise DONTNEED on each file, checked
# with mincore through fincore(1) when it is installed; no root needed).
# Summary lines start with "summary: ".
PFBENCH_DIR=$(cd "$(dirname "$0")" && pwd) exec /usr/bin/python3 - "$@" <<'EOF'
import http.client, os, re, shutil, signal, statistics, sys, tempfile, time

sys.path.insert(0, os.environ["PFBENCH_DIR"])
from pfbench import evict, evicted, free_port, rss, start, write_conf

PUBFEED = os.path.abspath(os.environ.get("PUBFEED", "build/pubfeed"))
STARTS = int(os.environ.get("STARTS", "2"))
STARTS_ONLY = os.environ.get("STARTS_ONLY") == "1"
KEEPLOG = os.environ.get("KEEPLOG") == "1"
COLD = os.environ.get("COLD") == "1"
RECS = os.path.abspath(sys.argv[1])
TOKEN = re.compile(rb'<resumptionToken[^>]*?(?:/>|>([A-Za-z0-9_-]*)'
                   rb'</resumptionToken>)')


def main():
    work = tempfile.mkdtemp(prefix="pf-scale-")
    port = free_port()
    conf = os.path.join(work, "pubfeed.conf")
    base = write_conf(conf, port, RECS, os.path.join(work, "state"))
    log = open(os.path.join(work, "serve.log"), "w")
    p = None
    try:
        for i in range(max(2, STARTS)):
            if p is not None:
                p.send_signal(signal.SIGTERM)
                p.wait()
            kind = "first" if i == 0 else "cold" if COLD else "warm"
            if kind == "cold":
                print("summary: " + evicted(evict(RECS, os.path.join(
                    work, "state"))), flush=True)
            p, w, c = start(PUBFEED, conf, base, log)
            time.sleep(0.5)
            r = rss(p.pid)
            print("summary: %s start %.1f s, CPU %.2f s, RSS %.0f MB "
                  "(peak %.0f MB)" % (kind, w, c, r, rss(p.pid, "VmHWM")),
                  flush=True)
        if KEEPLOG:
            log.flush()
            for line in open(log.name):
                if "start-up:" in line:
                    print(line, end="")
        if STARTS_ONLY:
            return
        h = http.client.HTTPConnection("127.0.0.1", port)

        def get(q):
            t = time.perf_counter()
            h.request("GET", "/oai?" + q)
            resp = h.getresponse()
            body = resp.read()
            if resp.status != 200:
                sys.exit("%s: %d" % (q, resp.status))
            return body, (time.perf_counter() - t) * 1000
        body, _ = get("verb=ListIdentifiers&metadataPrefix=oai_dc")
        ident = re.search(rb"<identifier>([^<]+)</identifier>",
                          body).group(1).decode()
        gr = "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + ident
        get(gr)
        lat = statistics.median(get(gr)[1] for _ in range(50))
        print("summary: GetRecord %.3f ms (median of 50)" % lat, flush=True)
        q = "verb=ListRecords&metadataPrefix=oai_dc"
        pages, nrec, keep, times = 0, 0, {}, {}
        t0 = time.monotonic()
        while True:
            body, ms = get(q)
            pages += 1
            nrec += body.count(b"<record>")
            if pages in (1, 1000):
                keep[pages], times[pages] = q, ms
            m = TOKEN.search(body)
            if m is None or not m.group(1):
                keep["last"], times["last"] = q, ms
                break
            q = "verb=ListRecords&resumptionToken=" + m.group(1).decode()
        dt = time.monotonic() - t0
        print("summary: harvest %d records in %d pages, %.1f s, %.0f rec/s"
              % (nrec, pages, dt, nrec / dt), flush=True)
        print("summary: first hit: page 1 %.2f ms, page 1000 %.2f ms, "
              "last page %.2f ms" % (times[1], times.get(1000, 0),
                                     times["last"]), flush=True)
        again = {k: statistics.median(get(v)[1] for _ in range(20))
                 for k, v in keep.items()}
        print("summary: again (median of 20): page 1 %.3f ms, page 1000 "
              "%.3f ms, last page %.3f ms" % (again[1], again.get(1000, 0),
                                              again["last"]), flush=True)
        print("summary: RSS after the harvest %.0f MB" % rss(p.pid))
    finally:
        if p is not None:
            p.send_signal(signal.SIGTERM)
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


main()
EOF
