"""End-to-end: notifications to aggregators.  Loopback peers written here
(a WebSub hub stand-in that checks the publish form and fetches the topic,
xmlrpc.server weblogUpdates servers, a plain HTTP receiver for ping-get and
ping-post) on free ports; the real daemon is told of changes by modifying a
record and sending SIGHUP.  Waits only bound how long a test may take;
nothing asserts on elapsed time.
"""
import glob
import http.server
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import xmlrpc.server

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from lxml import etree  # noqa: E402

from pf import Daemon, PUBFEED, free_port, run, test  # noqa: E402

A = "{http://www.w3.org/2005/Atom}"
REC = "data/2021-dataset-trafficking-cases.xml"
NAME = "Test Centre for Cross-Border Crime Research"


class Peer:
    """A plain HTTP receiver: records every request; answers 200, 500 or
    hangs as told.  on_ok(req) runs in a thread after a 200."""

    def __init__(self, port=None, on_ok=None):
        self.lock = threading.Lock()
        self.reqs = []
        self.mode = "ok"            # ok | fail | hang
        self.release = threading.Event()
        self.on_ok = on_ok
        peer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8") if n else ""
                u = urllib.parse.urlsplit(self.path)
                req = {"method": self.command, "path": u.path,
                       "query": urllib.parse.parse_qs(u.query),
                       "form": urllib.parse.parse_qs(body), "body": body,
                       "headers": dict(self.headers), "mode": peer.mode}
                req["status"] = None
                with peer.lock:
                    peer.reqs.append(req)
                if req["mode"] == "hang":
                    peer.release.wait(10)
                    req["mode"] = peer.mode
                status = 500 if req["mode"] == "fail" else 200
                req["status"] = status
                data = b"ok\n" if status == 200 else b"broken\n"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    return
                if status == 200 and peer.on_ok:
                    threading.Thread(target=peer.on_ok, args=(req,),
                                     daemon=True).start()

            do_GET = do_POST = handle_one

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port or 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def set_mode(self, mode):
        self.mode = mode
        if mode != "hang":
            self.release.set()

    def ok(self, key):
        """Topic -> number of requests answered 200."""
        out = {}
        with self.lock:
            for r in self.reqs:
                if r["status"] == 200:
                    t = key(r)
                    out[t] = out.get(t, 0) + 1
        return out

    def count(self):
        with self.lock:
            return len(self.reqs)

    def clear(self):
        with self.lock:
            self.reqs = []

    def close(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()


class Hub(Peer):
    """WebSub hub stand-in: checks the publish form, then fetches the topic
    as a hub would and keeps what it saw."""

    def __init__(self):
        self.fetched = []
        self.problems = []
        super().__init__(on_ok=self.fetch)
        self.url = self.url + "/hub"

    def fetch(self, req):
        f = req["form"]
        if f.get("hub.mode") != ["publish"] or f.get("hub.url") != f.get("hub.topic") \
                or len(f.get("hub.topic", [])) != 1:
            self.problems.append("bad form: %r" % req["body"])
            return
        if req["headers"].get("Content-Type") != "application/x-www-form-urlencoded":
            self.problems.append("bad type: %r" % req["headers"].get("Content-Type"))
        topic = f["hub.topic"][0]
        try:
            with urllib.request.urlopen(topic, timeout=10) as r:
                links = r.headers.get_all("Link") or []
                body = r.read()
                status = r.status
        except Exception as e:     # noqa: BLE001 (reported by the test)
            self.problems.append("fetch %s: %s" % (topic, e))
            return
        with self.lock:
            self.fetched.append((topic, status, links, body))

    @staticmethod
    def topic(r):
        return r["form"].get("hub.topic", ["?"])[0]


class RPC:
    """weblogUpdates over xmlrpc.server; fault=True faults on extendedPing."""

    def __init__(self, fault=False):
        self.lock = threading.Lock()
        self.ext = []
        self.ping = []
        self.srv = xmlrpc.server.SimpleXMLRPCServer(
            ("127.0.0.1", 0), logRequests=False, allow_none=True)

        def extended(name, site, check, feed):
            with self.lock:
                self.ext.append((name, site, check, feed))
            if fault:
                raise Exception("extendedPing is not supported here")
            return {"flerror": False, "message": "Thanks for the ping."}

        def ping(name, site):
            with self.lock:
                self.ping.append((name, site))
            return {"flerror": False, "message": "Thanks for the ping."}

        self.srv.register_function(extended, "weblogUpdates.extendedPing")
        self.srv.register_function(ping, "weblogUpdates.ping")
        self.url = "http://127.0.0.1:%d/RPC2" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def q_feed(r):
    return r["query"].get("feed", ["?"])[0]


def f_url(r):
    return r["form"].get("url", ["?"])[0]


def counts(items):
    out = {}
    for t in items:
        out[t] = out.get(t, 0) + 1
    return out


def record_sets(d):
    with open(os.path.join(d.records, REC), encoding="utf-8") as f:
        sets = re.findall(r"<set>([^<]+)</set>", f.read())
    out = set()
    for s in sets:
        parts = s.split(":")
        for i in range(1, len(parts) + 1):
            out.add(":".join(parts[:i]))
    return out


def feed_langs(d):
    """The languages with feeds of their own (README "Languages"), read
    from the records: own, title and abstract xml:lang by primary subtag,
    "no" as "nb"."""
    xl = "{http://www.w3.org/XML/1998/namespace}lang"
    rn = "{https://pubfeed.org/ns/record/1}"
    out = set()
    for path in glob.glob(os.path.join(d.records, "**", "*.xml"),
                          recursive=True):
        try:
            root = etree.parse(path).getroot()
        except etree.XMLSyntaxError:
            continue
        for e in [root] + root.findall(rn + "title") + \
                root.findall(rn + "abstract"):
            p = (e.get(xl) or "").split("-")[0].lower()
            if re.match(r"^[a-z]{2,3}$", p) and \
                    p not in ("und", "mul", "zxx", "mis"):
                out.add("nb" if p == "no" else p)
    return out


def topics_for(d, sets):
    ext = ("atom", "rss", "json", "ics")
    t = {"%s/feed.%s" % (d.base, x) for x in ext}
    for s in sets:
        t |= {"%s/sets/%s.%s" % (d.base, s, x) for x in ext}
    # the language versions: no calendar
    for lang in feed_langs(d):
        t |= {"%s/lang/%s/feed.%s" % (d.base, lang, x) for x in ext[:3]}
        for s in sets:
            t |= {"%s/lang/%s/sets/%s.%s" % (d.base, lang, s, x)
                  for x in ext[:3]}
    return t


def hub_topics(d, want):
    """A WebSub hub is told of the ResourceSync Change List as well."""
    return want | {d.base + "/resourcesync/changelist.xml"}


def change(d, tag):
    """Rewrite the record's title (atomically, as editors do), then SIGHUP."""
    path = os.path.join(d.records, REC)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"(<title xml:lang=\"en\">)[^<]*(</title>)",
                  r"\1Trafficking Case Files %s\2" % tag, text, count=1)
    tmp = os.path.join(os.path.dirname(path), ".edit.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    d.proc.send_signal(signal.SIGHUP)


def metrics(d):
    st, _, body = d.get("/metrics")
    assert st == 200, st
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r'(pubfeed_notify_\w+)\{kind="([^"]+)",target="([^"]+)"\} (\d+)', line)
        if m:
            out[(m.group(1), m.group(2), m.group(3))] = int(m.group(4))
    return out


def settled(d):
    m = metrics(d)
    p = [v for k, v in m.items() if k[0] == "pubfeed_notify_pending"]
    return bool(p) and all(v == 0 for v in p)


NOTIFY_CONF = """
notify-timeout 1
notify-backoff-max 1
notify-max-attempts 50
"""


def prepared(extra, notify_conf=NOTIFY_CONF):
    """A daemon whose state already holds the collection, so starting it
    with targets sends nothing until something changes."""
    d = Daemon()
    d.start()
    d.stop()
    d.write_conf(notify_conf + extra)
    return d.start()


def pubfeed_cmd(*args):
    e = dict(os.environ)
    e.pop("PUBFEED_CONF", None)
    e.pop("NOTIFY_SOCKET", None)
    p = subprocess.run([PUBFEED] + list(args), capture_output=True, env=e,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


@test
def one_change_one_notification_per_target_and_topic():
    hub, rpc, plain = Hub(), RPC(), Peer()
    try:
        d = Daemon(extra=NOTIFY_CONF + """
websub-hub %s
xmlrpc-ping %s
ping-get "%s/get?feed={feed}&name={name}&site={site}"
ping-post %s/post "url={feed}&site={site}"
""" % (hub.url, rpc.url, plain.url, plain.url)).start()
        # a fresh state: the whole collection is new, everything is told
        d.wait_for(lambda: settled(d) and hub.ok(Hub.topic), what="first burst")
        first = hub.ok(Hub.topic)
        assert d.base + "/feed.atom" in first and d.base + "/sets/region:bulgaria.rss" in first, first
        d.wait_for(lambda: len(hub.fetched) >= len(first), what="hub fetches")
        hub.clear()
        plain.clear()
        with rpc.lock:
            rpc.ext.clear()
        hub.fetched.clear()

        want = topics_for(d, record_sets(d))
        # the collection and 7 sets, 4 documents each, and their Atom, RSS
        # and JSON Feed versions in bg, en and nb
        assert len(want) == 8 * 4 + 3 * 8 * 3, sorted(want)
        assert d.base + "/lang/nb/sets/region:bulgaria.json" in want
        change(d, "v1")

        def done():
            return (set(hub.ok(Hub.topic)) == hub_topics(d, want) and
                    set(t[3] for t in rpc.ext) == want and
                    set(plain.ok(q_feed)) >= want and
                    set(plain.ok(f_url)) >= want)
        d.wait_for(done, what="one notification per target and topic")
        d.wait_for(lambda: settled(d), what="outbox empty")
        time.sleep(0.5)     # anything extra would have arrived by now
        assert all(v == 1 for v in hub.ok(Hub.topic).values()), hub.ok(Hub.topic)
        assert counts(t[3] for t in rpc.ext) == {t: 1 for t in want}
        gets = [r for r in plain.reqs if r["method"] == "GET"]
        posts = [r for r in plain.reqs if r["method"] == "POST"]
        assert counts(q_feed(r) for r in gets) == {t: 1 for t in want}
        assert counts(f_url(r) for r in posts) == {t: 1 for t in want}
        # the templates got every substitution
        assert gets[0]["query"]["name"] == [NAME], gets[0]["query"]
        assert gets[0]["query"]["site"] == [d.base + "/"]
        assert posts[0]["form"]["site"] == [d.base + "/"]
        assert posts[0]["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
        assert gets[0]["headers"]["User-Agent"].startswith("pubfeed/")
        name, site, check, _ = rpc.ext[0]
        assert (name, site, check) == (NAME, d.base + "/", d.base + "/")
        assert not rpc.ping, rpc.ping      # no fallback needed

        # what the hub saw when it fetched the topics
        d.wait_for(lambda: len(hub.fetched) >= len(want), what="hub fetches")
        assert not hub.problems, hub.problems
        for topic, status, links, body in hub.fetched:
            assert status == 200, (topic, status)
            assert '<%s>; rel="hub"' % hub.url in links, (topic, links)
            assert '<%s>; rel="self"' % topic in links, (topic, links)
            if topic.endswith(".json"):
                hubs = json.loads(body)["hubs"]
                assert [h["url"] for h in hubs] == [hub.url], (topic, hubs)
                continue
            if topic.endswith(".ics"):
                assert body.startswith(b"BEGIN:VCALENDAR\r\n"), topic
                continue    # iCalendar has no hub element: the Link header
            if topic.endswith("/changelist.xml"):
                assert b'capability="changelist"' in body, body[:600]
                continue    # its hubs: the Link header and the capability list
            doc = etree.fromstring(body)
            if topic.endswith(".atom"):
                hubs = doc.findall(A + "link[@rel='hub']")
            else:
                hubs = doc.findall("channel/" + A + "link[@rel='hub']")
            assert [h.get("href") for h in hubs] == [hub.url], (topic, body[:600])
        rec = [b for t, _, _, b in hub.fetched if t == d.base + "/sets/type:data.atom"]
        assert rec and b"Trafficking Case Files v1" in rec[0]
        d.stop()
    finally:
        hub.close()
        rpc.close()
        plain.close()


@test
def hundred_quick_changes_coalesce():
    hub = Hub()
    try:
        d = prepared("websub-hub %s\n" % hub.url)
        want = topics_for(d, record_sets(d))
        for i in range(100):
            change(d, "burst %d" % i)
        last = d.base + "/sets/type:data.atom"

        def final_seen():
            with hub.lock:
                bodies = [b for t, _, _, b in hub.fetched if t == last]
            return bodies and b"Trafficking Case Files burst 99<" in bodies[-1]
        d.wait_for(final_seen, timeout=30, what="the last version notified")
        d.wait_for(lambda: settled(d), what="outbox empty")
        time.sleep(0.5)
        got = hub.ok(Hub.topic)
        assert set(got) == hub_topics(d, want), sorted(got)
        print("coalesced: %d to %d per topic" % (min(got.values()), max(got.values())))
        assert max(got.values()) <= 20, got     # far fewer than 100
        assert not hub.problems, hub.problems
        d.stop()
    finally:
        hub.close()


@test
def failing_and_hanging_targets_retry_and_delay_nobody():
    hub, bad, slow = Hub(), Peer(), Peer()
    bad.set_mode("fail")
    slow.set_mode("hang")
    try:
        d = prepared("""
websub-hub %s
ping-get %s/bad?feed={feed}
ping-get %s/slow?feed={feed}
""" % (hub.url, bad.url, slow.url))
        want = topics_for(d, record_sets(d))
        change(d, "retry")
        # the healthy hub is served while the others fail or hang
        d.wait_for(lambda: set(hub.ok(Hub.topic)) == hub_topics(d, want), what="hub served")
        assert not bad.ok(q_feed) and not slow.ok(q_feed)
        d.wait_for(lambda: len(bad.reqs) > len(want), what="retries of 500s")
        d.wait_for(lambda: slow.count() >= 1, what="the hanging target tried")
        # the hub may count its answer before the daemon has read it
        d.wait_for(lambda: metrics(d)[("pubfeed_notify_sent_total", "websub-hub", hub.url)]
                   == len(want) + 1, what="hub acknowledgements counted")
        m = metrics(d)
        assert m[("pubfeed_notify_failed_total", "ping-get", bad.url + "/bad?feed={feed}")] > 0, m
        assert m[("pubfeed_notify_pending", "ping-get", bad.url + "/bad?feed={feed}")] == len(want), m

        bad.set_mode("ok")
        d.wait_for(lambda: set(bad.ok(q_feed)) == want, timeout=20, what="500 target recovered")
        d.wait_for(lambda: slow.count() > 4, timeout=20, what="hanging target retried")
        slow.set_mode("ok")
        d.wait_for(lambda: set(slow.ok(q_feed)) >= want, timeout=30, what="hanging target recovered")
        d.wait_for(lambda: settled(d), what="outbox empty")
        assert all(v == 1 for v in hub.ok(Hub.topic).values())
        assert all(v == 1 for v in bad.ok(q_feed).values()), bad.ok(q_feed)

        m = metrics(d)
        key = ("pubfeed_notify_sent_total", "ping-get", bad.url + "/bad?feed={feed}")
        assert m[key] == len(want), m
        assert m[("pubfeed_notify_last_success_seconds", "ping-get", bad.url + "/bad?feed={feed}")] > 0
        st, _, body = d.get("/status")
        text = body.decode()
        assert st == 200 and "notify ping-get %s/bad" % bad.url in text, text

        def status_says_success():
            rc, out, err = pubfeed_cmd("status", "-c", d.conf)
            assert rc == 0, err
            # the daemon writes the status file at most once a second
            return "last success never" not in out and out
        out = d.wait_for(status_says_success, what="status file")
        line = [ln for ln in out.splitlines() if "/bad?" in ln][0]
        assert re.search(r"last success 20\d\d-", line), line
        assert re.search(r"last failure 20\d\d-.*\(HTTP 500\)", line), line
        line = [ln for ln in out.splitlines() if "/slow?" in ln][0]
        assert re.search(r"last failure 20\d\d-.*timed out", line), line
        d.stop()
    finally:
        hub.close()
        bad.close()
        slow.close()


def outbox_rows(d, kind=None):
    """The outbox table of the daemon's state database."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(d.state, "pubfeed.db"),
                         uri=True)
    try:
        return [r for r in db.execute("SELECT kind, url, body, topic FROM outbox")
                if kind is None or r[0] == kind]
    finally:
        db.close()


@test
def pending_notifications_survive_sigkill():
    port = free_port()      # nothing listens there yet
    url = "http://127.0.0.1:%d/p?feed={feed}" % port
    d = prepared("ping-get %s\n" % url)
    want = topics_for(d, record_sets(d))
    change(d, "crash")

    def queued():
        try:
            return len(outbox_rows(d, "ping-get")) == len(want)
        except sqlite3.Error:
            return False
    d.wait_for(queued, what="outbox written")
    d.wait_for(lambda: metrics(d)[("pubfeed_notify_failed_total", "ping-get", url)] > 0,
               what="a failed attempt")
    d.kill()
    peer = Peer(port=port)
    try:
        d.start()
        d.wait_for(lambda: set(peer.ok(q_feed)) == want, timeout=20,
                   what="delivery after the restart")
        d.wait_for(lambda: settled(d), what="outbox empty")
        assert d.stop() == 0
        assert outbox_rows(d) == []
        # acknowledged ones are never sent again
        n = peer.count()
        d.start()
        time.sleep(1.5)
        assert peer.count() == n, peer.reqs[n:]
        d.stop()
    finally:
        peer.close()


@test
def sigterm_with_a_hanging_target_keeps_the_outbox():
    slow = Peer()
    slow.set_mode("hang")
    try:
        d = prepared("ping-get %s/slow?feed={feed}\n" % slow.url,
                     NOTIFY_CONF.replace("notify-timeout 1", "notify-timeout 30"))
        want = topics_for(d, record_sets(d))
        change(d, "term")
        d.wait_for(lambda: slow.count() >= 1, what="a request on the wire")
        t0 = time.monotonic()
        assert d.stop() == 0
        # bounded by the 2 s drain, not by the 30 s request timeout
        assert time.monotonic() - t0 < 15
        lines = outbox_rows(d, "ping-get")
        assert len(lines) == len(want), lines
        slow.set_mode("ok")
        d.start()
        d.wait_for(lambda: settled(d), timeout=20, what="delivered after restart")
        assert set(slow.ok(q_feed)) >= want
        d.stop()
    finally:
        slow.close()


@test
def ping_command_sends_everything_and_status_reports():
    hub, rpc, plain = Hub(), RPC(fault=True), Peer()
    down = "http://127.0.0.1:%d/down?feed={feed}" % free_port()
    try:
        d = Daemon(extra=NOTIFY_CONF + """
websub-hub %s
xmlrpc-ping %s
ping-post %s/post "<ping><feed>{feed}</feed><name>{name}</name></ping>"
""" % (hub.url, rpc.url, plain.url))
        rc, out, err = pubfeed_cmd("ping", "-c", d.conf)
        assert rc == 0, out + err
        oks = [ln for ln in out.splitlines() if ln.startswith("ok ")]
        # the hub alone is also told of the ResourceSync Change List
        changelist = d.base + "/resourcesync/changelist.xml"
        assert changelist in set(hub.ok(Hub.topic))
        topics = set(hub.ok(Hub.topic)) - {changelist}
        assert len(oks) == 3 * len(topics) + 1, out
        assert {d.base + "/feed.atom", d.base + "/feed.rss",
                d.base + "/sets/region:bulgaria.atom",
                d.base + "/sets/topic.rss"} <= topics, topics
        assert set(t[3] for t in rpc.ext) == topics
        # extendedPing faulted every time: ping(name, site) took over
        assert len(rpc.ping) == len(topics), rpc.ping
        assert set(rpc.ping) == {(NAME, d.base + "/")}
        posts = plain.reqs
        assert posts[0]["headers"]["Content-Type"] == "text/xml"
        feeds = set(re.search(r"<feed>([^<]*)</feed>", r["body"]).group(1) for r in posts)
        assert feeds == topics
        assert "<name>%s</name>" % NAME in posts[0]["body"]

        d.write_conf(d.extra + "ping-get %s\n" % down)
        rc, out, err = pubfeed_cmd("ping", "-c", d.conf)
        assert rc == 1, out + err
        assert re.search(r"^FAIL ping-get .*/down\?feed=\{feed\} \S+/feed.atom: ", out, re.M), out
        rc, out, err = pubfeed_cmd("status", "-c", d.conf)
        assert rc == 0, err
        lines = dict((ln.split(" ")[1], ln) for ln in out.splitlines())
        assert re.search(r"last success 20\d\d-.*last failure never", lines["websub-hub"]), out
        assert re.search(r"last success never, last failure 20\d\d-", lines["ping-get"])
        assert "sent %d," % (2 * len(topics) + 2) in lines["websub-hub"], lines
    finally:
        hub.close()
        rpc.close()
        plain.close()


# Short backoff (0.5 to 1 s between attempts) and no attempt limit: the
# defaults but for the waits.
RETRY_CONF = """
notify-timeout 1
notify-backoff-max 1
"""
OLD_BUDGET = 8      # notify-max-attempts' old default
JOURNAL = {"JOURNAL_STREAM": "0:0"}     # "<N>" priorities on every line


def one_record_collection():
    """A records tree of REC alone, in one set: 22 topics instead of the
    samples' 105, so an outage test that needs every topic to fail several
    times (one probe at a time while a target is down) waits a fifth as
    long for it."""
    root = pf.mkdtemp(prefix="pubfeed-one-")
    path = os.path.join(root, REC)
    os.makedirs(os.path.dirname(path))
    with open(os.path.join(pf.SAMPLES, REC), encoding="utf-8") as f:
        text = f.read()
    sets = re.findall(r"[ \t]*<set>[^<]+</set>\n", text)
    assert len(sets) > 1, sets
    for extra in sets[1:]:
        text = text.replace(extra, "", 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return root


def discard(d):
    """Stop d if it runs and remove its directory."""
    if d is not None:
        d.kill()
        shutil.rmtree(d.dir, ignore_errors=True)


def notify_lines(d, prio, what):
    return [ln for ln in d.logtext().splitlines()
            if ln.startswith("<%d>notify:" % prio) and what in ln]


@test
def outage_longer_than_the_old_budget_and_kill9_delivered_once():
    hub = Hub()
    hub.set_mode("fail")
    d = None
    try:
        d = Daemon(records=one_record_collection())
        d.start()
        d.stop()
        d.write_conf(RETRY_CONF + "websub-hub %s\n" % hub.url)
        d.start(env=JOURNAL)
        want = hub_topics(d, topics_for(d, record_sets(d)))
        change(d, "outage")

        def tries():
            with hub.lock:
                return counts(Hub.topic(r) for r in hub.reqs)

        # every topic failed more often than the old limit allowed
        d.wait_for(lambda: set(tries()) == want and
                   min(tries().values()) > OLD_BUDGET + 1, timeout=60,
                   what="more attempts than the old budget")
        before = tries()
        d.kill()
        d.start(env=JOURNAL)
        d.wait_for(lambda: min(tries()[t] - before[t] for t in want) >= 2,
                   timeout=20, what="retries after the restart")
        assert not hub.ok(Hub.topic), hub.ok(Hub.topic)
        hub.set_mode("ok")
        d.wait_for(lambda: set(hub.ok(Hub.topic)) == hub_topics(d, want), timeout=20,
                   what="delivery once the hub is back")
        d.wait_for(lambda: settled(d), what="outbox empty")
        time.sleep(1.5)     # a duplicate would have arrived by now
        assert hub.ok(Hub.topic) == {t: 1 for t in hub_topics(d, want)}, hub.ok(Hub.topic)
        m = metrics(d)
        assert m[("pubfeed_notify_dropped_total", "websub-hub", hub.url)] == 0, m
        assert m[("pubfeed_notify_target_down", "websub-hub", hub.url)] == 0, m
        assert d.stop() == 0
        # an acknowledged one is never sent again
        n = hub.count()
        d.start(env=JOURNAL)
        time.sleep(1.5)
        assert hub.count() == n, hub.reqs[n:]
        d.stop()

        # the log tells the outage once and the recovery once, across
        # the kill -9; the attempts only at debug level
        total = sum(tries().values())
        print("%d attempts for %d topics" % (total, len(want)))
        warn = notify_lines(d, 4, "")
        assert len(warn) == 1, warn
        assert "is failing: HTTP 500" in warn[0] and hub.url in warn[0], warn
        info = notify_lines(d, 6, "recovered")
        assert len(info) == 1, info
        assert re.search(r"recovered after at least [0-9.]+ s down, \d+ "
                         r"failed attempts since the restart", info[0]), info
        per_attempt = [ln for ln in d.logtext().splitlines()
                       if "notify:" in ln and not ln.startswith("<7>")
                       and ln not in warn + info]
        assert not per_attempt, per_attempt
        assert not hub.problems, hub.problems
    finally:
        discard(d)
        hub.close()


@test
def outage_without_restart_one_warning_one_recovery():
    hub, other = Hub(), Peer()
    hub.set_mode("fail")
    d = None
    try:
        d = Daemon(records=one_record_collection())
        d.start()
        d.stop()
        d.write_conf(RETRY_CONF + "websub-hub %s\nping-get %s/p?feed={feed}\n"
                     % (hub.url, other.url))
        d.start(env=JOURNAL)
        want = topics_for(d, record_sets(d))
        change(d, "blip")
        # the healthy target is not held up by the failing one
        d.wait_for(lambda: set(other.ok(q_feed)) == want, what="other target")
        # one probe at a time while down: about 20 attempts a second on an
        # idle machine; the bound leaves room for a loaded one
        d.wait_for(lambda: hub.count() > 3 * len(want), timeout=90,
                   what="several rounds of failures")
        assert metrics(d)[("pubfeed_notify_target_down", "websub-hub", hub.url)] == 1
        hub.set_mode("ok")
        d.wait_for(lambda: settled(d), timeout=20, what="outbox empty")
        d.stop()
        assert hub.ok(Hub.topic) == {t: 1 for t in hub_topics(d, want)}, hub.ok(Hub.topic)
        warn = notify_lines(d, 4, "")
        assert len(warn) == 1 and "is failing: HTTP 500" in warn[0], warn
        info = notify_lines(d, 6, "recovered")
        assert len(info) == 1, info
        m = re.search(r"recovered after [0-9.]+ s down, (\d+) failed attempts$", info[0])
        assert m and int(m.group(1)) >= 3 * len(want), info
        assert "at least" not in info[0], info
    finally:
        discard(d)
        hub.close()
        other.close()


class Flood:
    """Answers every request with `status` and a 100 MB body, streamed from
    one 64 KiB block; counts what each answer got out before the client
    hung up."""

    SIZE = 100 * 1024 * 1024
    BLOCK = b"x" * 65536

    def __init__(self, status=202, ctype="text/plain"):
        self.lock = threading.Lock()
        self.sent = []
        flood = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle(self):
                try:
                    super().handle()
                except OSError:     # the daemon hung up, as it should
                    pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                out = 0
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(Flood.SIZE))
                    self.end_headers()
                    while out < Flood.SIZE:
                        self.wfile.write(Flood.BLOCK)
                        out += len(Flood.BLOCK)
                except OSError:
                    pass
                with flood.lock:
                    flood.sent.append(out)
                self.close_connection = True

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d/flood" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def rss_kb(d):
    with open("/proc/%d/status" % d.proc.pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    raise AssertionError("no VmRSS")


@test
def hundred_megabyte_answers_are_cut():
    hub, rpc = Flood(202), Flood(200, "text/xml")
    d = None
    try:
        d = Daemon()
        d.start()
        d.stop()
        d.write_conf("notify-timeout 5\nnotify-backoff-max 1\nnotify-max-attempts 2\n"
                     "websub-hub %s\nxmlrpc-ping %s\n" % (hub.url, rpc.url))
        # under ASan, a small quarantine: freed blocks are not kept resident
        asan = os.environ.get("ASAN_OPTIONS", "")
        d.start(env=dict(JOURNAL, ASAN_OPTIONS=(asan + ":" if asan else "") +
                         "quarantine_size_mb=4"))
        want = topics_for(d, record_sets(d))
        rss0 = rss_kb(d)
        change(d, "flood")

        def done():
            m = metrics(d)
            return (m[("pubfeed_notify_sent_total", "websub-hub", hub.url)] +
                    m[("pubfeed_notify_dropped_total", "xmlrpc-ping", rpc.url)]
                    == 2 * len(want) + 1)
        d.wait_for(done, timeout=30, what="every item judged")
        assert settled(d)
        rss1 = rss_kb(d)
        m = metrics(d)
        # WebSub speaks through its status: a 202 with 100 MB is a success
        assert m[("pubfeed_notify_sent_total", "websub-hub", hub.url)] == len(want) + 1, m
        assert m[("pubfeed_notify_failed_total", "websub-hub", hub.url)] == 0, m
        # no XML-RPC answer is that large: a failure, given up after 2
        assert m[("pubfeed_notify_sent_total", "xmlrpc-ping", rpc.url)] == 0, m
        assert m[("pubfeed_notify_dropped_total", "xmlrpc-ping", rpc.url)] == len(want), m
        gave_up = notify_lines(d, 4, "giving up")
        assert len(gave_up) == len(want), gave_up
        assert "xml-rpc answer larger than 65536 bytes" in gave_up[0], gave_up
        d.stop()
        with hub.lock, rpc.lock:
            sent = hub.sent + rpc.sent
        print("RSS %d -> %d kB; per answer at most %.1f MB of 100 went out"
              % (rss0, rss1, max(sent) / 1048576.0))
        assert len(sent) >= 3 * len(want), len(sent)
        # the reader stopped early (what went out is mostly socket buffers)
        assert max(sent) < 16 * 1024 * 1024, sent
        assert rss1 - rss0 < 16 * 1024, (rss0, rss1)
    finally:
        discard(d)
        hub.close()
        rpc.close()


@test
def nine_hanging_targets_do_not_starve_a_healthy_hub():
    hub = Hub()
    slow = [Peer() for _ in range(9)]
    for p in slow:
        p.set_mode("hang")
    d = None
    try:
        # the hub comes last: its items are the last in the outbox
        d = prepared("".join("ping-get %s/slow?feed={feed}\n" % p.url for p in slow) +
                     "websub-hub %s\n" % hub.url,
                     "notify-timeout 30\nnotify-backoff-max 1\n")
        want = topics_for(d, record_sets(d))
        change(d, "starve")
        # served while every hanging target still holds its requests
        # (a Peer hangs for 10 s at most): nobody waited for them
        d.wait_for(lambda: set(hub.ok(Hub.topic)) == hub_topics(d, want), timeout=8,
                   what="the hub served despite nine hanging targets")
        for p in slow:
            with p.lock:
                assert p.reqs and all(r["status"] is None for r in p.reqs), p.reqs
        assert d.stop() == 0
    finally:
        discard(d)
        hub.close()
        for p in slow:
            p.close()


@test
def huge_response_headers_are_cut():
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle(self):
            try:
                super().handle()
            except OSError:     # the daemon hung up, as it should
                pass

        def do_GET(self):
            try:
                self.send_response(200)
                for i in range(200):    # 200 KiB of headers
                    self.send_header("X-Pad-%d" % i, "p" * 1024)
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"ok\n")
            except OSError:
                pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/h?feed={feed}" % srv.server_address[1]
    d = None
    try:
        d = Daemon()
        d.start()
        d.stop()
        d.write_conf("notify-timeout 5\nnotify-max-attempts 1\nping-get %s\n" % url)
        d.start(env=JOURNAL)
        want = topics_for(d, record_sets(d))
        change(d, "headers")
        d.wait_for(lambda: metrics(d)[("pubfeed_notify_dropped_total", "ping-get", url)]
                   == len(want), timeout=20, what="every item given up")
        assert metrics(d)[("pubfeed_notify_sent_total", "ping-get", url)] == 0
        d.stop()
        warn = notify_lines(d, 4, "is failing")
        assert len(warn) == 1, warn
        assert "response headers larger than 65536 bytes" in warn[0], warn
    finally:
        discard(d)
        srv.shutdown()
        srv.server_close()



COAR_CTX = ["https://www.w3.org/ns/activitystreams", "https://coar-notify.net"]


def coar_offers(peer):
    """The COAR Notify Offers the inbox accepted, parsed, checked."""
    out = []
    with peer.lock:
        reqs = [r for r in peer.reqs if r["status"] == 200]
    for r in reqs:
        assert r["method"] == "POST" and r["path"] == "/inbox", r
        assert r["headers"].get("Content-Type") == "application/ld+json", r["headers"]
        o = json.loads(r["body"])
        assert o["@context"] == COAR_CTX, o
        assert o["type"] == ["Offer", "coar-notify:IngestAction"], o
        assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-"
                            r"[89ab][0-9a-f]{3}-[0-9a-f]{12}", o["id"]), o["id"]
        for k in ("actor", "origin", "target"):
            assert o[k]["type"] == "Service" and o[k]["id"].startswith("http"), o
        assert o["target"]["inbox"] == peer.url + "/inbox", o
        assert o["object"]["type"] == ["Page", "sorg:AboutPage"], o
        out.append(o)
    return out


@test
def coar_notify_offers_each_changed_record_once_never_the_first_import():
    inbox = Peer()
    try:
        # a fresh state: the first import is not offered, feeds are not topics
        d = Daemon(extra=NOTIFY_CONF + "coar-inbox %s/inbox\n" % inbox.url).start()
        d.wait_for(lambda: metrics(d).get(("pubfeed_notify_pending",
                   "coar-inbox", inbox.url + "/inbox")) == 0, what="coar target idle")
        time.sleep(1)
        assert inbox.count() == 0, inbox.reqs
        change(d, "coar")
        d.wait_for(lambda: inbox.ok(lambda r: r["path"]), what="the offer")
        d.wait_for(lambda: settled(d), what="outbox empty")
        offers = coar_offers(inbox)
        assert len(offers) == 1, offers
        o = offers[0]
        assert o["actor"]["id"] == d.base + "/", o
        assert o["actor"]["name"] == NAME, o
        # the record's own page is canonical; its DOI is the PID
        assert o["object"]["id"] == "https://research.example.org/data/2021-dataset-trafficking-cases", o
        assert o["object"]["ietf:cite-as"] == "https://doi.org/10.5555/csd.data.2021.thb-cases", o
        assert o["object"]["ietf:item"]["mediaType"] == "text/csv", o
        d.wait_for(lambda: not rows_of(d, "coar-inbox"), what="the row removed")
        # a record added without a page of its own: offered as ours, and
        # that page answers
        src = os.path.join(d.records, "briefs/2017-brief-prosecuting-smugglers.xml")
        with open(src, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r'id="[^"]+"', 'id="2026-brief-new-coar"', text, count=1)
        text = re.sub(r"\s*<link rel=\"landing\"[^>]*/>", "", text)
        tmp = os.path.join(d.records, "briefs/.new.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(d.records, "briefs/2026-brief-new-coar.xml"))
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: len(coar_offers(inbox)) == 2, what="the second offer")
        o2 = coar_offers(inbox)[1]
        assert o2["object"]["id"] == d.base + "/records/2026-brief-new-coar.html", o2
        assert o2["id"] != o["id"]
        st, _, body = d.get("/records/2026-brief-new-coar.html")
        assert st == 200 and b"2026-brief-new-coar" in body, st
        # a deletion is not offered
        os.unlink(os.path.join(d.records, "briefs/2026-brief-new-coar.xml"))
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: d.get("/records/2026-brief-new-coar.html")[0] != 200,
                   what="the deletion")
        time.sleep(1)
        assert len(coar_offers(inbox)) == 2, coar_offers(inbox)
        assert d.stop() == 0
    finally:
        inbox.close()


def rows_of(d, kind):
    return outbox_rows(d, kind)


@test
def coar_offer_survives_an_outage_and_sigkill_with_the_same_id():
    port = free_port()          # the inbox is down
    url = "http://127.0.0.1:%d/inbox" % port
    d = prepared("coar-inbox %s\n" % url)
    change(d, "outage")

    def queued():
        try:
            return rows_of(d, "coar-inbox") == [("coar-inbox", url, "",
                                                 "2021-dataset-trafficking-cases")]
        except sqlite3.Error:
            return False
    d.wait_for(queued, what="the offer in the outbox")
    d.wait_for(lambda: metrics(d)[("pubfeed_notify_failed_total", "coar-inbox", url)] > 0,
               what="a failed attempt")
    d.kill()
    inbox = Peer(port=port)
    try:
        d.start()
        d.wait_for(lambda: coar_offers(inbox), timeout=20, what="delivery after the restart")
        d.wait_for(lambda: settled(d), what="outbox empty")
        assert d.stop() == 0
        assert rows_of(d, "coar-inbox") == []
        assert len(coar_offers(inbox)) == 1, coar_offers(inbox)
        # the same change offered again (pubfeed ping does not) keeps its id
        rc, out, _ = pubfeed_cmd("ping", "-c", d.conf)
        assert "skip coar-inbox" in out, out
        assert len(coar_offers(inbox)) == 1
    finally:
        inbox.close()

run()
