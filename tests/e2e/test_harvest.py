#!/usr/bin/python3
"""Full OAI-PMH harvests with real harvesters: Debian's libhttp-oai-perl
(its oai_pmh command), the npm package oai-pmh (harvest_npm.js), and a
small lxml harvester written here; over the sample collection and over
10,000 generated records (bench/gen_records.py).  Every harvest is compared
with the record files: each identifier exactly once.  Also: a harvest
survives records being added, changed and deleted between its pages;
forged tokens are refused; tokens move between two instances that share
the records and the token key.

Both collections get a seeded state file (datestamps chosen here, spread
over months), so from/until selections are known without waiting.
"""
import calendar
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402

from lxml import etree  # noqa: E402

from pf import (Daemon, ROOT, run, skip, test, validate_oai, iso, day,  # noqa: E402
                source_records, seed_state, forge)

OAI = "http://www.openarchives.org/OAI/2.0/"
REC = "https://pubfeed.org/ns/record/1"
NS = {"o": OAI}
REPO = "research.example.org"
KEY = "0123456789abcdef0123"
BIG = 10000
BASE_TS = calendar.timegm((2022, 1, 1, 0, 0, 0))
NPM_DIR = HERE

_g = {}


def oid(local):
    return "oai:%s:%s" % (REPO, local)


def stamps_for(recs, step):
    """A datestamp per record: sorted ids, step seconds apart, jittered."""
    return {rid: BASE_TS + i * step + (i * 7919) % (step // 2)
            for i, rid in enumerate(sorted(recs))}


def in_set(sets, spec):
    return any(s == spec or s.startswith(spec + ":") for s in sets)


def expected(coll, set=None, frm=None, until=None, prefix=None):
    """Identifiers a list request must return, from the files + seeds."""
    recs, st = coll["recs"], coll["stamps"]
    return sorted(oid(r) for r in recs
                  if (set is None or in_set(recs[r]["sets"], set))
                  and (prefix != "oai_openaire" or recs[r]["openaire"])
                  and (frm is None or st[r] >= frm) and (until is None or st[r] <= until))


# ---------------------------------------------------------------- harvesters

class LxmlHarvester:
    """A harvester in a few lines: GET with gzip, follow tokens, check the
    token bookkeeping (cursor, completeListSize, empty final token)."""

    def __init__(self, base):
        self.base = base
        self.requests = 0

    def fetch(self, query):
        req = urllib.request.Request(self.base + "?" + query,
                                     headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=60) as r:
            data = r.read()
            if r.headers.get("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
        self.requests += 1
        root = etree.fromstring(data)
        err = root.find("o:error", NS)
        if err is not None:
            raise OaiError(err.get("code"), err.text)
        return root, data

    def page(self, verb, args=None, token=None):
        """One page: (items as (id, datestamp, status), token or None)."""
        if token is not None:
            q = "verb=%s&resumptionToken=%s" % (verb, urllib.parse.quote(token))
        else:
            q = "verb=%s&%s" % (verb, urllib.parse.urlencode(args))
        root, data = self.fetch(q)
        lst = root.find("o:" + verb, NS)
        out = []
        for h in lst.iter("{%s}header" % OAI):
            out.append((h.findtext("o:identifier", namespaces=NS),
                        h.findtext("o:datestamp", namespaces=NS),
                        h.get("status") or "live"))
        tok = lst.find("o:resumptionToken", NS)
        return out, tok, data

    def harvest(self, verb, args, bases=None, validate_first=True):
        """Whole list; bases, when given, are used in turn page by page."""
        items, token, cursor, size, n = [], None, 0, None, 0
        while True:
            if bases:
                self.base = bases[n % len(bases)]
            got, tok, data = self.page(verb, args, token)
            if n == 0 and validate_first and b"MARC21/slim" not in data:
                # test_oai checks every format in depth
                validate_oai(data, "oai-pmh-openaire.xsd"
                             if b"namespace.openaire.eu" in data else "oai-pmh-all.xsd")
            n += 1
            if tok is not None:
                assert tok.get("cursor") == str(cursor), (tok.attrib, cursor)
                size = size or tok.get("completeListSize")
                assert tok.get("completeListSize") == size, (tok.attrib, size)
            items.extend(got)
            cursor += len(got)
            if tok is None or not (tok.text or "").strip():
                if size is not None:
                    assert int(size) == len(items), (size, len(items))
                return items
            token = tok.text


class OaiError(Exception):
    def __init__(self, code, text):
        Exception.__init__(self, "%s: %s" % (code, text))
        self.code = code


def perl_harvest(base, verb, prefix, set=None, frm=None, until=None):
    """Debian's libhttp-oai-perl: its oai_pmh command follows the tokens."""
    cmd = ["oai_pmh", "-X", verb, "--metadataPrefix", prefix]
    for opt, v in (("--set", set), ("--from", frm), ("--until", until)):
        if v is not None:
            cmd += [opt, v]
    p = subprocess.run(cmd + [base], capture_output=True, timeout=300)
    assert p.returncode == 0, "oai_pmh failed: " + p.stderr.decode("utf-8", "replace")[-2000:]
    out = []
    for chunk in p.stdout.split(b"\f"):
        m = re.search(rb"^identifier: (.*)$", chunk, re.M)
        if not m:
            assert not chunk.strip(), chunk[:200]
            continue
        ds = re.search(rb"^datestamp: (.*)$", chunk, re.M).group(1).decode()
        st = re.search(rb"^status: (.*)$", chunk, re.M).group(1).decode() or "live"
        out.append((m.group(1).decode(), ds, st))
    return out


def npm_ready():
    if "npm" in _g:
        return _g["npm"]
    ok = False
    if not shutil.which("node"):
        skip("npm harvester: node is not installed")
    elif os.path.isdir(os.path.join(NPM_DIR, "node_modules", "oai-pmh")):
        ok = True
    elif not shutil.which("npm"):
        skip("npm harvester: npm is not installed")
    else:
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"],
                           cwd=NPM_DIR, capture_output=True, timeout=300)
        ok = p.returncode == 0 and os.path.isdir(
            os.path.join(NPM_DIR, "node_modules", "oai-pmh"))
        if not ok:
            skip("npm harvester: 'npm ci' in tests/e2e failed (registry unreachable?): "
                 + p.stderr.decode("utf-8", "replace").strip()[-300:])
    _g["npm"] = ok
    return ok


def npm_harvest(base, verb, prefix, page, n_expected, set=None, frm=None, until=None):
    """The npm oai-pmh client; None (with a visible SKIP) when unavailable.
    Its xml2js setup turns a one-item page into an object it cannot
    iterate, so a list whose last page would hold one item is skipped."""
    if not npm_ready():
        return None
    if n_expected % page == 1:
        skip("npm harvester: a list of %d with page size %d ends in a one-item page, "
             "which oai-pmh 2.0.3 cannot read (xml2js explicitArray: false)"
             % (n_expected, page))
        return None
    cmd = ["node", os.path.join(HERE, "harvest_npm.js"), base, verb, prefix]
    for k, v in (("set", set), ("from", frm), ("until", until)):
        if v is not None:
            cmd.append("%s=%s" % (k, v))
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    assert p.returncode == 0, "harvest_npm.js failed: " + p.stderr.decode("utf-8", "replace")[-2000:]
    return [tuple(line.split("\t")) for line in p.stdout.decode().splitlines()]


def assert_exactly(items, want, what):
    ids = [i[0] for i in items]
    dup = sorted({i for i in ids if ids.count(i) > 1}) if len(ids) != len(set(ids)) else []
    assert not dup, "%s: listed more than once: %s" % (what, dup[:10])
    got = sorted(ids)
    assert got == want, "%s: %d harvested, %d expected; missing %s, extra %s" % (
        what, len(got), len(want), sorted(set(want) - set(got))[:10],
        sorted(set(got) - set(want))[:10])


def three_clients(coll, verb, prefix, set=None, frm=None, until=None, clients="lpn"):
    """Harvest with each client and compare with the files; returns counts."""
    want = expected(coll, set, frm, until, prefix)
    fs = iso(frm) if frm is not None else None
    us = iso(until) if until is not None else None
    if frm is not None and frm % 86400 == 0 and until is not None and until % 86400 == 86399:
        fs, us = day(frm), day(until)      # day granularity, both ends inclusive
    d, what = coll["d"], "%s %s set=%s from=%s until=%s" % (verb, prefix, set, fs, us)
    args = {"metadataPrefix": prefix}
    for k, v in (("set", set), ("from", fs), ("until", us)):
        if v is not None:
            args[k] = v
    assert want, what
    if "l" in clients:
        assert_exactly(LxmlHarvester(d.base + "/oai").harvest(verb, args), want, "lxml " + what)
    if "p" in clients:
        assert_exactly(perl_harvest(d.base + "/oai", verb, prefix, set, fs, us), want,
                       "perl " + what)
    if "n" in clients:
        got = npm_harvest(d.base + "/oai", verb, prefix, d.page, len(want), set, fs, us)
        if got is not None:
            assert_exactly(got, want, "npm " + what)
    return len(want)


# ---------------------------------------------------------------- collections

def samples():
    if "samples" in _g:
        return _g["samples"]
    # page 7: no list below ends in a one-item page (see npm_harvest)
    d = Daemon(page=7)
    recs = source_records(d.records)
    stamps = stamps_for(recs, 86400 * 9)
    seed_state(d.state, recs, stamps)
    d.start()
    _g["samples"] = {"d": d, "recs": recs, "stamps": stamps}
    return _g["samples"]


def big():
    """10,000 generated records, generated once per run, served by two
    daemons over the same directory with the same token key and the same
    (seeded, as if replicated) state; started together to halve the wait."""
    if "big" in _g:
        return _g["big"]
    src = pf.mkdtemp(prefix="pubfeed-e2e-gen-")
    _g["gen"] = src
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "gen_records.py"),
                    src, str(BIG)], check=True, stdout=subprocess.DEVNULL)
    recs = source_records(src)
    assert len(recs) == BIG, len(recs)
    stamps = stamps_for(recs, 3600)
    pair = []
    for _ in range(2):
        d = Daemon(records=src, copy=False, page=500, entries=1000,
                   extra="oai-token-key %s\n" % KEY)
        seed_state(d.state, recs, stamps)
        pair.append(d.start(wait=False))
    for d in pair:
        d.wait_ready(timeout=240)
    _g["big"] = {"d": pair[0], "twin": pair[1], "recs": recs, "stamps": stamps}
    return _g["big"]


# ---------------------------------------------------------------- tests

@test
def test_samples_harvests():
    """Each client: the whole list, and a set with a day-granularity range;
    the lxml harvester besides: every format, more sets, open ranges."""
    c = samples()
    st = sorted(c["stamps"].values())
    three_clients(c, "ListRecords", "oai_dc")
    lo = st[3] - st[3] % 86400
    hi = st[30] - st[30] % 86400 + 86399
    three_clients(c, "ListRecords", "oai_dc", set="region", frm=lo, until=hi)
    three_clients(c, "ListIdentifiers", "marc21", clients="l")
    three_clients(c, "ListRecords", "oai_datacite", clients="l")
    for spec in ("topic", "region:bulgaria", "type:reports", "topic:smuggling"):
        three_clients(c, "ListIdentifiers", "oai_dc", set=spec, clients="l")
    three_clients(c, "ListRecords", "marc21", frm=st[10], clients="l")
    three_clients(c, "ListIdentifiers", "oai_datacite", until=st[12], clients="l")
    # a format that skips records: perl's and lxml's harvests end exactly
    n = three_clients(c, "ListRecords", "oai_openaire", clients="lp")
    assert 0 < n < len(c["recs"]), n
    three_clients(c, "ListIdentifiers", "oai_openaire", set="topic", clients="l")


@test
def test_big_harvests():
    """10,000 records: each client over the whole list (20 pages) and over
    a set with a seconds-granularity range."""
    c = big()
    st = sorted(c["stamps"].values())
    assert three_clients(c, "ListIdentifiers", "oai_dc") == BIG
    three_clients(c, "ListIdentifiers", "oai_dc", set="topic:smuggling",
                  frm=st[1000], until=st[8000])
    three_clients(c, "ListRecords", "oai_dc", clients="l")
    three_clients(c, "ListIdentifiers", "oai_dc", set="region", clients="l")
    lo = st[2000] - st[2000] % 86400
    hi = st[2500] - st[2500] % 86400 + 86399
    three_clients(c, "ListRecords", "oai_dc", set="type", frm=lo, until=hi, clients="l")


@test
def test_harvest_twice_from_kept_pages():
    """The same 10,000-record list walked twice in a row by each client:
    the second walk is served from the kept pages (gzip for lxml) and
    still ends exactly, token bookkeeping and all."""
    c = big()
    for _ in range(2):
        assert three_clients(c, "ListIdentifiers", "oai_dc", clients="lp") == BIG
        three_clients(c, "ListRecords", "oai_dc", set="topic:smuggling", clients="l")


def write_record(path, rid, title):
    """A new valid record: a sample record with another id and title."""
    with open(os.path.join(pf.SAMPLES, "reports", "2015-smuggling-balkan-route.xml"),
              encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r'(<record [^>]*\bid=")[^"]*"', r'\g<1>%s"' % rid, text, count=1)
    text = re.sub(r"(<title[^>]*>)[^<]*", r"\g<1>" + title, text, count=1)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


@test
def test_harvest_survives_changes():
    d = Daemon(page=4)
    recs = source_records(d.records)
    seed_state(d.state, recs, stamps_for(recs, 86400))   # so an edit is always later
    d.start()
    start = {oid(r) for r in recs}
    h = LxmlHarvester(d.base + "/oai")
    ids = sorted(recs)
    plan = {  # page number -> change made before fetching it
        1: ("add", "2099-new-record-one"),
        2: ("change", ids[0]),            # already harvested: comes again
        3: ("delete", ids[-1]),           # not harvested yet
        4: ("change", ids[-2]),           # not harvested yet: moves to the end
        5: ("delete", ids[1]),            # already harvested
        6: ("add", "2099-new-record-two"),
    }
    items, token, page = [], None, 0
    added = set()
    while True:
        if page in plan:
            op, rid = plan[page]
            if op == "add":
                write_record(os.path.join(d.records, rid + ".xml"), rid, "Added " + rid)
                added.add(oid(rid))
                probe = lambda: _status(h, rid) == "live"  # noqa: E731
            elif op == "change":
                p = recs[rid]["path"]
                with open(p, encoding="utf-8") as f:
                    text = f.read()
                with open(p, "w", encoding="utf-8") as f:
                    f.write(text.replace("</record>", "<!-- edit %d -->\n</record>" % page))
                old = _datestamp(h, rid)
                probe = lambda: _datestamp(h, rid) != old  # noqa: E731
            else:
                os.unlink(recs[rid]["path"])
                probe = lambda: _status(h, rid) == "deleted"  # noqa: E731
            d.signal(signal.SIGHUP)
            d.wait_for(probe, timeout=20, what="%s %s" % (op, rid))
        got, tok, _ = h.page("ListIdentifiers", {"metadataPrefix": "oai_dc"},
                             token.text if token is not None else None)
        items.extend(got)
        page += 1
        if tok is None or not (tok.text or "").strip():
            break
        token = tok
    assert page > max(plan), "the harvest ended before all the changes were made"
    seen = {i[0] for i in items}
    lost = start - seen
    assert not lost, "records that existed at the start were lost: %s" % sorted(lost)
    assert added <= seen, "records added during the harvest missing: %s" % sorted(added - seen)
    # the two deletions: each reported, the unharvested one as deleted
    assert (oid(ids[-1]), "deleted") in {(i[0], i[2]) for i in items}
    d.stop()


def _status(h, rid):
    try:
        root, _ = h.fetch("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + oid(rid))
    except OaiError:
        return None
    return root.find("o:GetRecord/o:record/o:header", NS).get("status") or "live"


def _datestamp(h, rid):
    root, _ = h.fetch("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + oid(rid))
    return root.findtext("o:GetRecord/o:record/o:header/o:datestamp", namespaces=NS)


@test
def test_forged_tokens_refused():
    c = big()
    h = LxmlHarvester(c["d"].base + "/oai")
    _, tok, _ = h.page("ListIdentifiers", {"metadataPrefix": "oai_dc", "set": "region"})
    real = tok.text
    # an instance with its own random key: a well-formed token, wrong MAC
    _, otok, _ = LxmlHarvester(samples()["d"].base + "/oai").page(
        "ListIdentifiers", {"metadataPrefix": "oai_dc", "set": "region"})
    assert otok.text != real
    for bad in (forge(real), real[:-1], real + "A", otok.text, real[::-1],
                real.replace("-", "+"), "x" + real[1:]):
        for verb in ("ListIdentifiers", "ListRecords"):
            try:
                h.page(verb, token=bad)
            except OaiError as e:
                assert e.code == "badResumptionToken", (bad, e)
            else:
                raise AssertionError("forged token accepted: %s %s" % (verb, bad))
    got, tok2, _ = h.page("ListIdentifiers", token=real)
    assert len(got) == 500 and tok2 is not None


@test
def test_tokens_move_between_instances():
    c = big()
    a, b = c["d"], c["twin"]
    assert a.records == b.records and a.state != b.state
    bases = [a.base + "/oai", b.base + "/oai"]
    h = LxmlHarvester(bases[0])
    items = h.harvest("ListIdentifiers", {"metadataPrefix": "oai_dc"}, bases=bases)
    assert h.requests == BIG // 500
    assert_exactly(items, expected(c), "alternating ListIdentifiers")
    st = sorted(c["stamps"].values())
    items = h.harvest("ListRecords", {"metadataPrefix": "marc21", "set": "topic",
                                      "from": iso(st[3000])}, bases=bases[::-1])
    assert_exactly(items, expected(c, "topic", st[3000]), "alternating ListRecords")


def cleanup():
    if "gen" in _g:
        shutil.rmtree(_g["gen"], ignore_errors=True)


try:
    run()
finally:
    cleanup()
