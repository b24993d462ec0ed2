"""Production service behaviour: sd_notify, signals, socket activation,
logging, /metrics and /healthz, graceful shutdown with a request in flight.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from pf import (Daemon, PUBFEED, SAMPLES, free_port, mkdtemp, run, skip,
                spawn, test, validate_oai)

NRECORDS = 34           # config/records


def count_samples():
    n = 0
    for _, _, files in os.walk(SAMPLES):
        n += sum(1 for f in files if f.endswith(".xml"))
    return n


class NotifySocket:
    """A stand-in for systemd's notification socket (AF_UNIX datagrams)."""

    def __init__(self):
        self.dir = mkdtemp(prefix="pubfeed-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return
            self.messages.extend(data.decode().split("\n"))

    def wait_for(self, want, after=0, timeout=15):
        """Index of the first message == want (or starting with want if it
        ends with '='), at or after index after."""
        t = time.monotonic() + timeout
        while time.monotonic() < t:
            self.drain()
            for i in range(after, len(self.messages)):
                m = self.messages[i]
                if m == want or (want.endswith("=") and m.startswith(want)):
                    return i
        raise AssertionError("no %r from the daemon; got %r" % (want, self.messages))

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def parse_prometheus(text):
    """Prometheus text format 0.0.4 -> {(name, frozenset(labels)): value},
    checking that every sample follows a TYPE line for its family."""
    samples = {}
    typed = set()
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            typed.add(name)
            continue
        if line.startswith("#"):
            continue
        m = line_re.match(line)
        assert m, "bad metrics line: %r" % line
        name, _, labels, value = m.groups()
        assert name in typed or re.sub(r'_(bucket|sum|count)$', '', name) in typed, \
            "sample before its TYPE: %r" % line
        lab = {}
        if labels:
            pos = 0
            while pos < len(labels):
                lm = label_re.match(labels, pos)
                assert lm, "bad labels: %r" % line
                lab[lm.group(1)] = lm.group(2)
                pos = lm.end()
        key = (name, frozenset(lab.items()))
        assert key not in samples, "duplicate sample: %r" % line
        samples[key] = float(value)
    return samples


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


@test
def notify_ready_reload_stopping():
    assert count_samples() == NRECORDS
    ns = NotifySocket()
    try:
        d = Daemon()
        d.start(env={"NOTIFY_SOCKET": ns.path})
        i = ns.wait_for("READY=1")
        st = ns.wait_for("STATUS=")
        assert ns.messages[st].startswith("STATUS=serving %d records " % NRECORDS), ns.messages
        assert st < i, "STATUS= must come with the first snapshot, before READY=1"
        d.signal(signal.SIGHUP)
        r = ns.wait_for("RELOADING=1", after=i + 1)
        s2 = ns.wait_for("STATUS=", after=r + 1)
        assert "serving %d records" % NRECORDS in ns.messages[s2]
        ready2 = ns.wait_for("READY=1", after=r + 1)
        assert ready2 > r
        assert d.stop() == 0
        stop = ns.wait_for("STOPPING=1", after=ready2 + 1)
        assert stop > ready2
    finally:
        ns.close()


@test
def sighup_applies_new_config_and_keeps_serving_on_bad_one():
    d = Daemon().start()
    st, _, body = d.get("/feed.atom")
    assert st == 200 and b"<title>Research Centre publications</title>" in body
    assert b"Renamed rights" not in body
    d.write_conf(extra='feed-rights "Renamed rights"')
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: b"<rights>Renamed rights</rights>" in d.get("/feed.atom")[2],
               what="new rights after SIGHUP")
    with open(d.conf, "a") as f:
        f.write("no-such-directive 1\n")
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: "keeping the running one" in d.logtext(), what="refused reload")
    st, _, body = d.get("/feed.atom")
    assert st == 200 and b"<rights>Renamed rights</rights>" in body
    assert d.stop() == 0


@test
def check_config_only():
    d = Daemon()
    # a broken record fails "check" but not "check --config-only"
    with open(os.path.join(d.records, "broken.xml"), "w") as f:
        f.write("<record")
    p = subprocess.run([PUBFEED, "check", "-c", d.conf], capture_output=True, text=True)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "broken.xml" in p.stderr
    p = subprocess.run([PUBFEED, "check", "--config-only", "-c", d.conf],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip() == d.conf + ": configuration ok"
    with open(d.conf, "a") as f:
        f.write("feed-entries 0\n")
    p = subprocess.run([PUBFEED, "check", "--config-only", "-c", d.conf],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "feed-entries" in p.stderr, p.stdout + p.stderr


@test
def sigterm_finishes_request_in_flight():
    d = Daemon().start()
    query = b"verb=ListIdentifiers&metadataPrefix=oai_dc"
    s = socket.create_connection(("127.0.0.1", d.port), timeout=20)
    # headers and half the body: the request is in flight from here on
    s.sendall(b"POST /oai HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: %d\r\n\r\n" % len(query) + query[:10])
    time.sleep(0.3)
    d.signal(signal.SIGTERM)
    d.wait_for(lambda: "shutting down" in d.logtext(), what="shutdown to start")
    time.sleep(0.3)
    assert d.proc.poll() is None, "exited with a request in flight"
    # no new connections once shutting down
    try:
        c = socket.create_connection(("127.0.0.1", d.port), timeout=2)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        refused = c.recv(100) == b""
        c.close()
    except OSError:
        refused = True
    assert refused, "a new connection was served during shutdown"
    s.sendall(query[10:])
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    if b"chunked" in head.lower():
        raise AssertionError("unexpected chunked body")
    assert body.count(b"<header>") == 5, body[:500]      # page size 5
    validate_oai(body)
    assert d.proc.wait(20) == 0
    assert "stopped" in d.logtext()


@test
def socket_activation():
    if shutil.which("systemd-socket-activate") is None:
        skip("systemd-socket-activate not installed")
        return
    d = Daemon()
    port = free_port()
    logf = open(d.log, "ab")
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env.pop("JOURNAL_STREAM", None)
    p = spawn(["systemd-socket-activate", "-l", "127.0.0.1:%d" % port,
               PUBFEED, "serve", "-c", d.conf],
              stdout=logf, stderr=logf, env=env)
    try:
        d.port = port
        # the socket exists before pubfeed starts: the first request waits
        # for it instead of being refused
        t = time.monotonic() + 20
        while True:
            try:
                st, _, body = d.get("/feed.atom")
                break
            except OSError:
                if time.monotonic() > t:
                    raise
                time.sleep(0.05)
        assert st == 200 and body.count(b"</entry>") == 10, body[:300]
        d.wait_for(lambda: "serving on the socket systemd passed" in d.logtext(),
                   what="socket activation log line")
        # the configured listen port was not used
        assert "listening on" not in d.logtext()
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@test
def journald_priorities_and_log_level():
    d = Daemon().start(env={"JOURNAL_STREAM": "8:12345"})
    d.stop()
    lines = [l for l in d.logtext().splitlines() if l]
    assert lines, "no log"
    assert all(re.match(r"^<[0-7]>", l) for l in lines), lines
    assert any(l.startswith("<6>") and "snapshot" in l for l in lines), lines
    # without journald: no prefixes
    d2 = Daemon().start()
    d2.stop()
    assert not any(re.match(r"^<[0-7]>", l) for l in d2.logtext().splitlines())
    # log-level warning: the info lines go, the warning about a bad file stays
    d3 = Daemon(extra="log-level warning")
    with open(os.path.join(d3.records, "broken.xml"), "w") as f:
        f.write("<record")
    d3.start(env={"JOURNAL_STREAM": "8:12345"})
    d3.stop()
    lines = [l for l in d3.logtext().splitlines() if l]
    assert lines and not any(l.startswith("<6>") for l in lines), lines
    assert any(l.startswith("<4>") and "broken.xml" in l for l in lines), lines


@test
def access_log():
    d = Daemon(extra="access-log yes").start()
    st, _, body = d.get("/feed.atom", headers={"User-Agent": "pf-test/1.0"})
    assert st == 200
    st404, _, body404 = d.get("/nope", headers={"User-Agent": "pf-test/2.0"})
    assert st404 == 404
    d.wait_for(lambda: "pf-test/2.0" in d.logtext() and "pf-test/1.0" in d.logtext(),
               what="access log lines")
    lines = d.logtext().splitlines()
    feed = [l for l in lines if "GET /feed.atom 200" in l]
    assert len(feed) == 1, lines
    m = re.search(r'access: GET /feed\.atom 200 (\d+) ([0-9.]+)ms "pf-test/1\.0"$', feed[0])
    assert m, feed[0]
    assert int(m.group(1)) == len(body)
    nf = [l for l in lines if "GET /nope 404" in l]
    assert len(nf) == 1 and nf[0].endswith('"pf-test/2.0"') and \
        (" 404 %d " % len(body404)) in nf[0], nf
    # off by default
    d2 = Daemon().start()
    d2.get("/feed.atom")
    d2.stop()
    assert "access:" not in d2.logtext()


@test
def metrics_counts_a_known_sequence():
    d = Daemon().start()
    # the readiness probe hit /healthz: count what we send from now on
    # (its completion may be counted a moment after the answer arrived)
    # wait_for() may poll more than once: count every scrape we make
    scrapes = [0]

    def healthz_count():
        scrapes[0] += 1
        m = parse_prometheus(d.get("/metrics")[2].decode())
        return metric(m, "pubfeed_http_requests_total", route="healthz", status="200")
    h0 = d.wait_for(lambda: healthz_count() or None, what="readiness probe counted")
    while True:
        h = healthz_count()
        if h == h0:
            break
        h0 = h
    n_scrapes = scrapes[0]
    for _ in range(3):
        assert d.get("/feed.atom")[0] == 200
    assert d.get("/feed.rss", headers={"Accept-Encoding": "gzip"})[0] == 200
    st, hdrs, _ = d.get("/feed.atom")
    assert d.get("/feed.atom", headers={"If-None-Match": hdrs["etag"]})[0] == 304
    assert d.get("/")[0] == 200
    assert d.get("/nope")[0] == 404
    assert d.request("DELETE", "/feed.atom")[0] == 405
    assert d.get("/healthz")[0] == 200
    assert d.oai("verb=Identify")[0] == 200
    assert d.oai("verb=Identify", post=True)[0] == 200
    assert d.oai("verb=ListRecords&metadataPrefix=oai_dc")[0] == 200
    assert d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:x:y")[0] == 200
    assert d.oai("verb=Nonsense")[0] == 200
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: d.logtext().count("snapshot") >= 2, what="reload")
    time.sleep(0.1)
    st, hdrs, text = d.get("/metrics")
    assert st == 200 and hdrs["content-type"].startswith("text/plain; version=0.0.4")
    m = parse_prometheus(text.decode())
    req = lambda route, status: metric(m, "pubfeed_http_requests_total",
                                       route=route, status=status)
    assert req("feed", "200") == 5
    assert req("feed", "304") == 1
    assert req("home", "200") == 1
    assert req("other", "404") == 1
    assert req("feed", "405") + req("other", "405") == 1
    assert req("healthz", "200") == h0 + 1
    assert req("oai", "200") == 5
    assert req("metrics", "200") == n_scrapes   # the scrapes before
    verbs = {v: metric(m, "pubfeed_oai_requests_total", verb=v) for v in
             ("Identify", "ListRecords", "GetRecord", "ListIdentifiers",
              "ListSets", "ListMetadataFormats", "badVerb")}
    assert verbs == {"Identify": 2, "ListRecords": 1, "GetRecord": 1,
                     "ListIdentifiers": 0, "ListSets": 0,
                     "ListMetadataFormats": 0, "badVerb": 1}, verbs
    assert metric(m, "pubfeed_records", status="live") == NRECORDS
    assert metric(m, "pubfeed_records", status="deleted") == 0
    assert metric(m, "pubfeed_invalid_records") == 0
    assert metric(m, "pubfeed_reloads_total", result="ok") == 2
    assert metric(m, "pubfeed_reloads_total", result="failed") == 0
    assert 0 <= metric(m, "pubfeed_snapshot_age_seconds") < 60
    assert metric(m, "pubfeed_reload_duration_seconds") >= 0
    assert ("pubfeed_http_response_bytes_total", frozenset()) in m
    d.stop()


def non_loopback_address():
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("192.0.2.1", 9))     # no packet is sent for UDP connect
        addr = s.getsockname()[0]
        s.close()
        return None if addr.startswith("127.") else addr
    except OSError:
        return None


def start_on_every_address(extra):
    """A daemon on 0.0.0.0 (the harness's --listen binds loopback only).  A
    port free on loopback may be taken on another address, or by another
    suite running in parallel, before the daemon binds it: try again."""
    for attempt in range(5):
        d = Daemon(port=free_port("0.0.0.0"), extra=extra)
        d.proc = spawn([PUBFEED, "serve", "-c", d.conf, "--listen",
                        "0.0.0.0:%d" % d.port],
                       stdout=open(d.log, "ab"), stderr=subprocess.STDOUT)
        Daemon.running.append(d)
        try:
            d.wait_ready()
            return d
        except AssertionError:
            if "Address already in use" not in d.logtext() or attempt == 4:
                raise
            d.stop()


@test
def metrics_local_only_healthz_open():
    addr = non_loopback_address()
    if addr is None:
        skip("no non-loopback IPv4 address: metrics-local-only not tested remotely")
        return
    import http.client
    for local_only, want in (("yes", 403), ("no", 200)):
        d = start_on_every_address("metrics-local-only " + local_only)

        def get(path):
            c = http.client.HTTPConnection(addr, d.port, timeout=10)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            return r.status
        assert get("/metrics") == want
        assert get("/status") == want
        assert get("/healthz") == 200
        assert d.get("/metrics")[0] == 200      # loopback always
        assert d.stop() == 0


run()
