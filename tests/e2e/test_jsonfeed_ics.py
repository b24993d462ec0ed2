"""End-to-end: JSON Feed 1.1 and iCalendar documents as readers' clients
see them.

One daemon serves the sample collection plus two events written here (a
cancelled one in Europe/Oslo with a full text, a day-only one).  Every JSON
Feed the home page advertises is validated against
tests/data/jsonfeed-1.1.schema.json (written from jsonfeed.org/version/1.1)
with python3-jsonschema, compared with its Atom twin, and read with the npm
client @extractus/feed-extractor.  Every calendar is parsed with
python3-icalendar and compared with the source records (parsed here with
lxml), and the collection's calendar is imported into khal and read back.
"""
import datetime
import glob
import gzip
import html.parser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

import icalendar  # noqa: E402
import jsonschema  # noqa: E402
from lxml import etree  # noqa: E402

from pf import Daemon, ROOT, mkdtemp, run, skip, test  # noqa: E402

R = "{https://pubfeed.org/ns/record/1}"
A = "{http://www.w3.org/2005/Atom}"
AUTHORITY = "research.example.org,2008"
SCHEMA = os.path.join(ROOT, "tests", "data", "jsonfeed-1.1.schema.json")
UTC = datetime.timezone.utc

CANCELLED = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="e2e-ics-cancelled" type="event" xml:lang="en">
  <title>Workshop, cancelled: "Quotes", commas; and semicolons</title>
  <creator><organisation>Research Centre</organisation></creator>
  <issued>2027-03-01</issued>
  <event timezone="Europe/Oslo" status="cancelled">
    <start>2027-06-10T07:00:00Z</start>
    <end>2027-06-10T09:30:00+00:00</end>
    <place country="NO">Oslo, room 1</place>
  </event>
  <language>en</language>
  <subject>workshops</subject>
  <abstract>Called off; a new date follows.</abstract>
  <link rel="landing" href="https://research.example.org/events/e2e-ics-cancelled"/>
  <link rel="fulltext" href="https://research.example.org/files/e2e.pdf" type="application/pdf" length="12345" title="Programme"/>
  <set>type:events</set>
  <set>region:norway</set>
</record>
"""

DAYS = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="e2e-ics-days" type="event" xml:lang="bg">
  <title>Лятно училище</title>
  <issued>2027-04-01</issued>
  <event timezone="Europe/Sofia" status="tentative">
    <start>2027-09-01</start>
    <end>2027-09-03</end>
    <place country="BG">Созопол</place>
  </event>
  <language>bg</language>
  <set>type:events</set>
</record>
"""

_g = {}


# The source records, read independently of pubfeed

def load_events(records):
    """id -> what the calendar must say, for every event record."""
    out = {}
    for f in glob.glob(os.path.join(records, "**", "*.xml"), recursive=True):
        try:
            root = etree.parse(f).getroot()
        except etree.XMLSyntaxError:
            continue
        ev = root.find(R + "event")
        if ev is None:
            continue
        place = ev.find(R + "place")
        out[root.get("id")] = {
            "title": " ".join(root.find(R + "title").text.split()),
            "start": ev.find(R + "start").text.strip(),
            "end": (ev.find(R + "end").text.strip()
                    if ev.find(R + "end") is not None else None),
            "tz": ev.get("timezone"),
            "status": (ev.get("status") or "confirmed").upper(),
            "place": place.text.strip(),
            "country": place.get("country"),
            "sets": [s.text for s in root.findall(R + "set")],
            "landing": [ln.get("href") for ln in root.findall(R + "link")
                        if ln.get("rel") == "landing"],
        }
    return out


def parse_dt(s):
    if len(s) == 10:
        return datetime.date.fromisoformat(s)
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def daemon():
    if "d" in _g:
        return _g["d"]
    d = Daemon(entries=50)
    for name, body in (("e2e-ics-cancelled.xml", CANCELLED),
                       ("e2e-ics-days.xml", DAYS)):
        with open(os.path.join(d.records, name), "w", encoding="utf-8") as f:
            f.write(body)
    d.start()
    _g.update(d=d, events=load_events(d.records))
    return d


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.alternates = []
        self.anchors = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates.append((a.get("type"), a.get("href")))
        if tag == "a":
            self.anchors.append(a.get("href"))

    handle_startendtag = handle_starttag


def home_links(d):
    st, _, body = d.get("/")
    assert st == 200
    lp = Links()
    lp.feed(body.decode("utf-8"))
    return lp


def path_of(d, href):
    assert href.startswith(d.base + "/"), href
    return href[len(d.base):]


def advertised(d, typ):
    """What / and the set pages it links advertise: each page lists only
    its own feeds."""
    home = home_links(d)
    pages = [home]
    for href in sorted(set(home.anchors)):
        if href and re.search(r"/sets/[^/]+\.html$", href):
            st, _, body = d.get(path_of(d, href))
            assert st == 200, href
            lp = Links()
            lp.feed(body.decode("utf-8"))
            pages.append(lp)
    paths = [path_of(d, h) for lp in pages for t, h in lp.alternates
             if t == typ]
    assert paths, typ
    return sorted(set(paths))


def get_ok(d, path, ctype):
    st, h, body = d.get(path)
    assert st == 200, (path, st)
    assert h["content-type"] == ctype, (path, h["content-type"])
    return body


def set_members(events, spec):
    return {i for i, e in events.items()
            if any(s == spec or s.startswith(spec + ":") for s in e["sets"])}


# JSON Feed

@test
def every_json_feed_is_valid_json_feed_1_1():
    d = daemon()
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    v = jsonschema.Draft7Validator(schema,
                                   format_checker=jsonschema.FormatChecker())
    paths = advertised(d, "application/feed+json")
    assert "/feed.json" in paths and "/sets/type:events.json" in paths, paths
    for p in paths:
        doc = json.loads(get_ok(d, p, "application/feed+json"))
        errs = sorted(v.iter_errors(doc), key=str)
        assert not errs, (p, [e.message for e in errs[:5]])
        assert doc["feed_url"] == d.base + p
        assert doc["language"] == "en"
    # the schema is no rubber stamp: a feed without content or with a bad
    # attachment fails it
    doc = json.loads(get_ok(d, "/feed.json", "application/feed+json"))
    bad = json.loads(json.dumps(doc))
    del bad["items"][0]["content_text"]
    assert list(v.iter_errors(bad))
    bad = json.loads(json.dumps(doc))
    bad["items"][0]["attachments"] = [{"url": "https://x.example/a"}]
    assert list(v.iter_errors(bad))


@test
def json_feed_items_match_the_atom_twin():
    d = daemon()
    for p in advertised(d, "application/feed+json"):
        doc = json.loads(get_ok(d, p, "application/feed+json"))
        atom = etree.fromstring(get_ok(d, p[:-len("json")] + "atom",
                                       "application/atom+xml; charset=utf-8"))
        entries = atom.findall(A + "entry")
        assert [i["id"] for i in doc["items"]] == \
            [e.findtext(A + "id") for e in entries], p
        assert doc["title"] == atom.findtext(A + "title")
        for it, e in zip(doc["items"], entries):
            assert it["title"] == e.findtext(A + "title")
            assert parse_dt(it["date_published"]) == \
                parse_dt(e.findtext(A + "published")), it["id"]
            assert parse_dt(it["date_modified"]) == \
                parse_dt(e.findtext(A + "updated")), it["id"]
            enc = [(ln.get("href"), ln.get("type"), int(ln.get("length")))
                   for ln in e.findall(A + "link[@rel='enclosure']")]
            att = [(a["url"], a["mime_type"], a["size_in_bytes"])
                   for a in it.get("attachments", [])]
            assert att == enc, it["id"]
            assert "email" not in json.dumps(it.get("authors", []))


@test
def json_feed_of_the_cancelled_event():
    d = daemon()
    doc = json.loads(get_ok(d, "/sets/type:events.json", "application/feed+json"))
    it = [i for i in doc["items"]
          if i["id"] == "tag:%s:record/e2e-ics-cancelled" % AUTHORITY]
    assert len(it) == 1, [i["id"] for i in doc["items"]]
    it = it[0]
    assert it["url"] == "https://research.example.org/events/e2e-ics-cancelled"
    assert it["language"] == "en"
    assert it["attachments"] == [{
        "url": "https://research.example.org/files/e2e.pdf",
        "mime_type": "application/pdf", "size_in_bytes": 12345,
        "title": "Programme"}]
    assert "workshops" in it["tags"] and "Norway" not in it["tags"], it["tags"]
    assert it["_event"]["timezone"] == "Europe/Oslo"
    assert it["_event"]["status"] == "cancelled"
    assert it["summary"] == "Called off; a new date follows."


def npm_ready():
    if "npm" in _g:
        return _g["npm"]
    mod = os.path.join(HERE, "node_modules", "@extractus", "feed-extractor")
    ok = False
    if not shutil.which("node"):
        skip("feed-extractor: node is not installed")
    elif os.path.isdir(mod):
        ok = True
    elif not shutil.which("npm"):
        skip("feed-extractor: npm is not installed")
    else:
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"],
                           cwd=HERE, capture_output=True, timeout=300)
        ok = p.returncode == 0 and os.path.isdir(mod)
        if not ok:
            skip("feed-extractor: 'npm ci' in tests/e2e failed (registry unreachable?): "
                 + p.stderr.decode("utf-8", "replace").strip()[-300:])
    _g["npm"] = ok
    return ok


@test
def feed_extractor_reads_the_json_feeds():
    d = daemon()
    if not npm_ready():
        return
    for p in ("/feed.json", "/sets/type:events.json"):
        doc = json.loads(get_ok(d, p, "application/feed+json"))
        r = subprocess.run(["node", os.path.join(HERE, "feed_extract.js"),
                            d.base + p], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode("utf-8", "replace")[-2000:]
        got = json.loads(r.stdout)
        assert got["title"] == doc["title"]
        assert got["language"] == "en"
        assert got["link"] == d.base + "/"
        assert [e["id"] for e in got["entries"]] == [i["id"] for i in doc["items"]]
        for e, i in zip(got["entries"], doc["items"]):
            assert e["title"] == i["title"]
            assert e["link"] == i.get("url", ""), (e["link"], i.get("url"))
            # the client's published is the item's, normalized to ISO
            assert parse_dt(e["published"]) == parse_dt(i["date_published"]), e
            assert e["date_modified"] == i["date_modified"]
            assert e.get("attachments") == i.get("attachments")
            assert e["description"], e


# iCalendar

def vevents(body):
    cal = icalendar.Calendar.from_ical(body)
    return cal, [c for c in cal.walk("VEVENT")]


def expected_times(e):
    """DTSTART/DTEND as icalendar decodes them, from the record."""
    s = parse_dt(e["start"])
    end = parse_dt(e["end"]) if e["end"] else s
    if isinstance(s, datetime.date) and not isinstance(s, datetime.datetime):
        if isinstance(end, datetime.datetime):
            end = end.astimezone(UTC).date()
        return s, end + datetime.timedelta(days=1)
    z = zoneinfo.ZoneInfo(e["tz"]) if e["tz"] else UTC
    s = s.astimezone(z)
    if not isinstance(end, datetime.datetime):
        end = datetime.datetime.combine(end + datetime.timedelta(days=1),
                                        datetime.time(), z)
    elif end == s:
        return s, None
    return s, end.astimezone(z)


def check_vevent(ve, rid, e):
    assert str(ve["UID"]) == "tag:%s:record/%s" % (AUTHORITY, rid)
    assert str(ve["SUMMARY"]) == e["title"], (ve["SUMMARY"], e["title"])
    s, end = expected_times(e)
    got_s = ve.decoded("DTSTART")
    assert got_s == s and type(got_s) is type(s), (rid, got_s, s)
    if e["tz"] and isinstance(s, datetime.datetime):
        # wall-clock time in the event's own zone, named by its IANA name
        assert ve["DTSTART"].params["TZID"] == e["tz"], ve["DTSTART"].params
        assert got_s.utcoffset() == s.utcoffset()
        assert got_s.replace(tzinfo=None) == s.replace(tzinfo=None)
    if end is None:
        assert "DTEND" not in ve
    else:
        assert ve.decoded("DTEND") == end, (rid, ve.decoded("DTEND"), end)
    assert str(ve["STATUS"]) == e["status"]
    loc = e["place"] + (", " + e["country"] if e["country"] else "")
    assert str(ve["LOCATION"]) == loc, (ve["LOCATION"], loc)
    if e["landing"]:
        assert str(ve["URL"]) == e["landing"][0]
    cats = ve.get("CATEGORIES")
    cats = cats if isinstance(cats, list) else [cats] if cats else []
    got = [str(c) for p in cats for c in p.cats]
    assert len(got) == len(e["sets"]), (got, e["sets"])
    # stable: never "now"; the same instant as LAST-MODIFIED
    assert ve.decoded("DTSTAMP") == ve.decoded("LAST-MODIFIED")
    assert ve.decoded("DTSTAMP") < datetime.datetime.now(UTC) + \
        datetime.timedelta(seconds=5)
    seq = int(ve["SEQUENCE"])
    assert 0 < seq < 2 ** 31
    # SEQUENCE is seconds from 2000-01-01 to that datestamp
    assert seq == int((ve.decoded("DTSTAMP") - datetime.datetime(
        2000, 1, 1, tzinfo=UTC)).total_seconds())


@test
def calendars_match_the_records():
    d = daemon()
    events = _g["events"]
    assert len(events) == 7, sorted(events)
    paths = advertised(d, "text/calendar")
    assert "/feed.ics" in paths and "/sets/type:events.ics" in paths, paths
    for p in paths:
        body = get_ok(d, p, "text/calendar; charset=utf-8")
        assert body.startswith(b"BEGIN:VCALENDAR\r\n") and \
            body.endswith(b"END:VCALENDAR\r\n"), p
        assert all(len(ln) <= 75 for ln in body.split(b"\r\n")), p
        cal, ves = vevents(body)
        assert str(cal["VERSION"]) == "2.0" and "pubfeed" in str(cal["PRODID"])
        if p == "/feed.ics":
            want = set(events)
        else:
            want = set_members(events, p[len("/sets/"):-len(".ics")])
        got = {str(v["UID"]).rsplit("/", 1)[1]: v for v in ves}
        assert set(got) == want and len(ves) == len(want), (p, set(got) ^ want)
        for rid, ve in got.items():
            check_vevent(ve, rid, events[rid])
        # one VTIMEZONE per zone in use, under its IANA name
        zones = sorted(str(z["TZID"]) for z in cal.walk("VTIMEZONE"))
        assert zones == sorted({events[i]["tz"] for i in want
                                if events[i]["tz"] and "T" in events[i]["start"]}), (p, zones)


@test
def one_calendar_per_event_linked_from_the_home_page():
    d = daemon()
    events = _g["events"]
    anchors = {path_of(d, a) for a in home_links(d).anchors
               if a and a.startswith(d.base + "/events/")}
    # the home page lists the newest 20: the events among them
    assert "/events/e2e-ics-cancelled.ics" in anchors, anchors
    assert all(a[len("/events/"):-len(".ics")] in events for a in anchors)
    for rid, e in events.items():
        body = get_ok(d, "/events/%s.ics" % rid, "text/calendar; charset=utf-8")
        cal, ves = vevents(body)
        assert len(ves) == 1
        check_vevent(ves[0], rid, e)
    # a publication that is no event has no calendar
    assert d.get("/events/2019-presentation-smuggling-prices.ics")[0] == 404


@test
def new_documents_are_served_with_gzip_etag_and_304():
    d = daemon()
    for p, ctype in (("/feed.json", "application/feed+json"),
                     ("/sets/region:norway.json", "application/feed+json"),
                     ("/feed.ics", "text/calendar; charset=utf-8"),
                     ("/events/e2e-ics-cancelled.ics",
                      "text/calendar; charset=utf-8")):
        st, h, body = d.get(p)
        assert st == 200 and h["content-type"] == ctype, (p, st, h)
        etag = h["etag"]
        assert re.fullmatch(r'"[0-9a-f]+"', etag), etag     # strong
        st, hz, zbody = d.get(p, headers={"Accept-Encoding": "gzip"})
        assert st == 200 and hz["content-encoding"] == "gzip", hz
        assert gzip.decompress(zbody) == body
        assert len(zbody) < len(body)
        st, h3, b3 = d.get(p, headers={"If-None-Match": etag})
        assert st == 304 and b3 == b"", (p, st)
        assert "last-modified" in h


def fetch_event(d, rid):
    st, h, body = d.get("/events/%s.ics" % rid)
    assert st == 200
    return body, vevents(body)[1][0]


@test
def sequence_grows_on_change_and_restarts_change_nothing():
    d = daemon()
    before = {r: fetch_event(d, r) for r in _g["events"]}
    whole = d.get("/feed.ics")[2]
    # a restart (same state) renders the same bytes: nothing reads the clock
    d.stop()
    d.start()
    assert d.get("/feed.ics")[2] == whole
    path = os.path.join(d.records, "e2e-ics-cancelled.xml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text.replace("room 1", "room 2"))
    os.replace(tmp, path)
    old_body, old = before["e2e-ics-cancelled"]
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: fetch_event(d, "e2e-ics-cancelled")[0] != old_body,
               what="the changed event's calendar")
    _, new = fetch_event(d, "e2e-ics-cancelled")
    assert str(new["LOCATION"]) == "Oslo, room 2, NO", new.to_ical()
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert new.decoded("DTSTAMP") > old.decoded("DTSTAMP")
    assert str(new["UID"]) == str(old["UID"])
    for rid, (body, ve) in before.items():
        if rid != "e2e-ics-cancelled":
            assert fetch_event(d, rid)[0] == body, rid
    _g["events"] = load_events(d.records)


KHAL_CONF = """[calendars]
[[pubfeed]]
path = {cal}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = {tz}
default_timezone = {tz}

[sqlite]
path = {db}
"""


def khal(home, *args):
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home,
               XDG_DATA_HOME=home, XDG_CACHE_HOME=home, LANG="C.UTF-8")
    p = subprocess.run(["khal", "-c", os.path.join(home, "khal.conf")]
                       + list(args), capture_output=True, env=env, timeout=120)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout.decode("utf-8")


@test
def khal_imports_the_calendar_and_lists_the_events():
    d = daemon()
    if not shutil.which("khal"):
        skip("khal is not installed")
        return
    events = _g["events"]
    home = mkdtemp("pubfeed-khal-")
    cal = os.path.join(home, "cal")
    os.mkdir(cal)
    with open(os.path.join(home, "khal.conf"), "w") as f:
        f.write(KHAL_CONF.format(cal=cal, tz="Europe/Oslo",
                                 db=os.path.join(home, "khal.db")))
    ics = os.path.join(home, "feed.ics")
    with open(ics, "wb") as f:
        f.write(get_ok(d, "/feed.ics", "text/calendar; charset=utf-8"))
    khal(home, "import", "--batch", "-a", "pubfeed", ics)
    assert len(os.listdir(cal)) == len(events), os.listdir(cal)
    out = khal(home, "list", "--day-format", "",
               "--format", "{uid}|{title}|{start}|{end}|{cancelled}",
               "2018-01-01", "2028-12-31")
    rows = {}
    for ln in out.splitlines():
        if ln.count("|") == 4:
            uid, title, start, end, cancelled = ln.split("|")
            rows.setdefault(uid, (title, start, end, cancelled))
    assert len(rows) == len(events), out
    oslo = zoneinfo.ZoneInfo("Europe/Oslo")
    for rid, e in events.items():
        title, start, end, cancelled = rows["tag:%s:record/%s" % (AUTHORITY, rid)]
        assert title == e["title"], (title, e["title"])
        s, _ = expected_times(e)
        if isinstance(s, datetime.datetime):
            want = s.astimezone(oslo).strftime("%Y-%m-%d %H:%M")
        else:
            want = s.strftime("%Y-%m-%d")
        assert start == want, (rid, start, want)
        assert (cancelled != "") == (e["status"] == "CANCELLED"), (rid, cancelled)
    # the cancelled Oslo workshop: 07:00Z is 09:00 in Oslo in June
    assert rows["tag:%s:record/e2e-ics-cancelled" % AUTHORITY][1] == "2027-06-10 09:00"


if __name__ == "__main__":
    run()
