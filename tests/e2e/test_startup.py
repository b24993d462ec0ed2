#!/usr/bin/python3
"""The start-up report: when the first snapshot is served, "pubfeed serve"
logs one line with the records and how long start-up took, in all and by
phase, and /metrics shows the same figures as gauges.  The phases add up:
the ones that run one after the other (all but the outbox, the watches,
the listing of the tree and a primary's parse-cache rows, which run
alongside the others) never take longer together than the whole, the
whole is no longer than the test saw from spawn to /healthz, and a first
start, which validates every file, spends more on reading than walking."""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pf import ROOT, Daemon, mkdtemp, run, test  # noqa: E402

PHASES = ["state", "notify", "watch", "list", "rows", "index", "read",
          "snapshot", "documents", "listen"]
ALONGSIDE = ("notify", "watch", "list", "rows")
LINE = re.compile(r"start-up: (\d+) records in (\d+\.\d\d) s \((.*)\)$", re.M)


def report(text):
    """(records, total, {phase: seconds}) of the last start-up line."""
    found = LINE.findall(text)
    assert found, text[-3000:]
    n, total, rest = found[-1]
    ph = {}
    for part in rest.split(", "):
        m = re.fullmatch(r"([a-z]+) (\d+\.\d\d) s( alongside)?", part)
        assert m, part
        assert (m.group(3) is not None) == (m.group(1) in ALONGSIDE), part
        ph[m.group(1)] = float(m.group(2))
    assert list(ph) == PHASES, rest
    return int(n), float(total), ph


def gauges(d):
    st, _, body = d.get("/metrics")
    assert st == 200, st
    text = body.decode()
    m = re.search(r"^pubfeed_startup_seconds (\d+\.\d+)$", text, re.M)
    assert m, text
    ph = dict((k, float(v)) for k, v in re.findall(
        r'^pubfeed_startup_phase_seconds\{phase="([a-z]+)"\} (\d+\.\d+)$',
        text, re.M))
    live = re.search(r'^pubfeed_records\{status="live"\} (\d+)$', text, re.M)
    return float(m.group(1)), ph, int(live.group(1))


def check(d, waited, nlines=1):
    # logged right after the listener starts: /healthz may answer first
    d.wait_for(lambda: len(LINE.findall(d.logtext())) >= nlines,
               what="the start-up line")
    n, total, ph = report(d.logtext())
    gtotal, gph, live = gauges(d)
    assert n == live > 0, (n, live)
    assert total > 0 and total <= waited + 0.05, (total, waited)
    serial = sum(v for k, v in ph.items() if k not in ALONGSIDE)
    # each figure is rounded to 10 ms: at most 5 ms off
    assert serial <= total + 0.005 * (len(ph) + 1), (serial, total, ph)
    assert max(ph.values()) <= total + 0.01, (total, ph)
    # /metrics: the same figures, to the millisecond
    assert abs(gtotal - total) <= 0.006, (gtotal, total)
    assert list(gph) == PHASES, gph
    for k in PHASES:
        assert abs(gph[k] - ph[k]) <= 0.006, (k, gph[k], ph[k])
    return n, total, ph


@test
def startup_report_adds_up():
    recs = os.path.join(mkdtemp(), "records")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench",
                    "gen_records.py"), recs, "1500"], check=True,
                   stdout=subprocess.DEVNULL)
    d = Daemon(records=recs, copy=False)
    t0 = time.monotonic()
    d.start()
    waited = time.monotonic() - t0
    n, total, ph = check(d, waited)
    assert n == 1500, n
    # the first start reads and validates all 1500: far more than a walk
    assert ph["read"] > ph["list"] and ph["read"] > ph["index"], ph
    assert len(LINE.findall(d.logtext())) == 1
    d.stop()
    # a second start reports again, for its own start-up only
    t0 = time.monotonic()
    d.start()
    waited = time.monotonic() - t0
    assert check(d, waited, 2)[0] == 1500
    assert len(LINE.findall(d.logtext())) == 2
    d.stop()


@test
def reload_reports_no_start_up():
    """A reload rebuilds without a new start-up line."""
    d = Daemon()
    d.start()
    check(d, 60)
    d.signal(1)     # SIGHUP
    d.wait_for(lambda: "configuration reloaded" in d.logtext(),
               what="the reload")
    d.wait_for(lambda: d.logtext().count("snapshot ") >= 2,
               what="the second snapshot")
    assert len(LINE.findall(d.logtext())) == 1, d.logtext()
    d.stop()


if __name__ == "__main__":
    run()
