#!/usr/bin/python3
"""OAI-PMH provider, end to end: the error table of section 3.6 by GET and
POST, Identify, compression, malformed input, overload (503 + Retry-After),
deletions and datestamps across restarts and reloads, sets, from/until.

Every OAI-PMH body this file receives goes through oai() below, which
validates it against the official schemas (validate_oai); marc21 payloads
have no schema in the standards kit, so their <metadata> is checked with
lxml and the envelope without it against oai-pmh-core.xsd.

The shared daemon gets a seeded state file: each sample record keeps a
datestamp chosen here (one per day, at different hours), so from/until
results are known exactly without waiting for the clock.
"""
import calendar
import gzip
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pf import (Daemon, ROOT, STANDARDS, HAVE_STANDARDS, SAMPLES, run, skip,  # noqa: E402
                test, validate_oai, iso, day, source_records, seed_state, forge,
                mkdtemp)
from lxml import etree  # noqa: E402

OAI = "http://www.openarchives.org/OAI/2.0/"
MARC = "http://www.loc.gov/MARC21/slim"
REC = "https://pubfeed.org/ns/record/1"
OAIRE = "http://namespace.openaire.eu/schema/oaire/"
NS = {"o": OAI, "m": MARC, "id": "http://www.openarchives.org/OAI/2.0/oai-identifier",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "dc": "http://purl.org/dc/elements/1.1/", "oaire": OAIRE,
      "datacite": "http://datacite.org/schema/kernel-4", "r": REC}
REPO = "research.example.org"
FORMATS = ("oai_dc", "marc21", "oai_datacite")

BASE_TS = calendar.timegm((2021, 3, 1, 0, 0, 0))
TOMB_ID = "2005-withdrawn-report"
TOMB_TS = calendar.timegm((2020, 6, 15, 8, 30, 0))
TOMB_SETS = ["topic:corruption", "type:reports"]
EXTRA_SETS = """set empty:shelf "Empty shelf" "Nothing here yet"
set topic:smuggling "Smuggling" "Smuggling of goods and migrants"
"""


def parse_iso(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def oid(local):
    return "oai:%s:%s" % (REPO, local)


def decode_body(h, b):
    ce = h.get("content-encoding")
    if ce == "gzip":
        return gzip.decompress(b)
    if ce == "deflate":
        return zlib.decompress(b)
    assert ce is None, "unexpected Content-Encoding %r" % ce
    return b


def check_body(b):
    """Validate one OAI-PMH response body; returns its lxml root."""
    root = etree.fromstring(b)
    assert root.tag == "{%s}OAI-PMH" % OAI, root.tag
    if OAIRE.encode() in b:
        # OpenAIRE ships its own DataCite and DC schemas: its own driver
        validate_oai(b, "oai-pmh-openaire.xsd")
        return root
    if MARC.encode() not in b:
        # an error document has no payload: the core driver schema is
        # enough and loads in half the time
        is_error = root.find("o:error", NS) is not None
        validate_oai(b, "oai-pmh-core.xsd" if is_error else "oai-pmh-all.xsd")
        return root
    # no MARC21slim.xsd in the kit: check the payload with lxml, then the
    # envelope without <metadata> (optional in recordType) against the core
    env = etree.fromstring(b)
    for md in env.iter("{%s}metadata" % OAI):
        rec = md[0]
        assert len(md) == 1 and rec.tag == "{%s}record" % MARC, rec.tag
        assert rec.find("m:leader", NS) is not None and len(rec.find("m:leader", NS).text) == 24
        hdr = md.getparent().find("o:header", NS)
        local = hdr.findtext("o:identifier", namespaces=NS).split(":", 2)[2]
        assert rec.findtext("m:controlfield[@tag='001']", namespaces=NS) == local
        assert rec.find("m:datafield[@tag='245']/m:subfield[@code='a']", NS) is not None
        md.getparent().remove(md)
    validate_oai(etree.tostring(env, xml_declaration=True, encoding="UTF-8"),
                 "oai-pmh-core.xsd")
    return root


def oai(d, query, post=False, headers=None):
    """One OAI-PMH request; every XML body is validated.  (st, h, body, root)"""
    hdrs = dict(headers or {})
    if post:
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        st, h, b = d.request("POST", "/oai", body=query, headers=hdrs)
    else:
        st, h, b = d.request("GET", "/oai?" + query, headers=hdrs)
    root = None
    if st == 200 and h.get("content-type", "").startswith("text/xml"):
        b = decode_body(h, b)
        root = check_body(b)
    return st, h, b, root


def errors(root):
    return [e.get("code") for e in root.findall("o:error", NS)]


def expect_ok(d, query, post=False):
    st, h, b, root = oai(d, query, post)
    assert st == 200 and root is not None, (query, st, b[:300])
    assert errors(root) == [], (query, b[:1000])
    return root


def walk(d, verb, args, post=False):
    """Follow a list to its end; returns (items, pages).  Checks the token
    bookkeeping: cursor, constant completeListSize, empty last token."""
    item = {"ListIdentifiers": "o:header", "ListRecords": "o:record",
            "ListSets": "o:set"}[verb]
    q = "verb=%s&%s" % (verb, urllib.parse.urlencode(args)) if args else "verb=" + verb
    out, pages, size = [], 0, None
    while True:
        root = expect_ok(d, q, post)
        lst = root.find("o:" + verb, NS)
        got = lst.findall(item, NS)
        tok = lst.find("o:resumptionToken", NS)
        pages += 1
        if tok is not None:
            assert tok.get("cursor") == str(len(out)), (tok.attrib, len(out))
            if size is None:
                size = tok.get("completeListSize")
            assert tok.get("completeListSize") == size
        out.extend(got)
        if tok is None or not (tok.text or "").strip():
            if size is not None:
                assert int(size) == len(out), (size, len(out))
            return out, pages
        assert got, "a non-final page with no items"
        q = "verb=%s&resumptionToken=%s" % (verb, urllib.parse.quote(tok.text))


def header_map(items):
    """identifier -> (datestamp, status, [setSpec]) from headers or records."""
    out = {}
    for it in items:
        h = it if it.tag == "{%s}header" % OAI else it.find("o:header", NS)
        ident = h.findtext("o:identifier", namespaces=NS)
        assert ident not in out, "identifier listed twice: " + ident
        out[ident] = (h.findtext("o:datestamp", namespaces=NS), h.get("status"),
                      [s.text for s in h.findall("o:setSpec", NS)])
    return out


# ---------------------------------------------------------------- shared daemon

_shared = {}


def shared():
    """The sample collection with seeded datestamps and one old tombstone."""
    if "d" in _shared:
        return _shared["d"]
    d = Daemon(page=9, extra=EXTRA_SETS)
    recs = source_records(d.records)
    stamps = {}
    for i, rid in enumerate(sorted(recs)):
        stamps[rid] = BASE_TS + i * 86400 + (i * 5 % 24) * 3600 + i * 7
    seed_state(d.state, recs, stamps, [(TOMB_ID, TOMB_TS, TOMB_SETS)])
    d.start()
    _shared.update(d=d, recs=recs, stamps=stamps)
    all_stamps = dict(stamps)
    all_stamps[TOMB_ID] = TOMB_TS
    _shared["all"] = all_stamps
    # a real token of each list kind, for the error table
    r = expect_ok(d, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    _shared["tok_li"] = r.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    r = expect_ok(d, "verb=ListSets")
    _shared["tok_ls"] = r.findtext("o:ListSets/o:resumptionToken", namespaces=NS)
    return d


# ---------------------------------------------------------------- error table

A = "2020-article-trust-violence-smuggling"
GOOD = oid(A)

# (query, expected error codes); {li}/{ls} are real tokens, {li_forged} one
# with a changed byte, {li_cut} a truncated one.
ERROR_TABLE = [
    # badVerb: missing, unknown, repeated
    ("metadataPrefix=oai_dc", {"badVerb"}),
    ("identifier=" + GOOD, {"badVerb"}),
    ("verb=", {"badVerb"}),
    ("verb=Bogus", {"badVerb"}),
    ("verb=identify", {"badVerb"}),
    ("verb=ListRecords%20", {"badVerb"}),
    ("verb=Identify&verb=Identify", {"badVerb"}),
    ("verb=Identify&verb=ListSets", {"badVerb"}),
    ("verb=GetRecord&verb=GetRecord&identifier=%s&metadataPrefix=oai_dc" % GOOD, {"badVerb"}),
    ("VERB=Identify", {"badVerb"}),
    # Identify: takes no argument
    ("verb=Identify&foo=bar", {"badArgument"}),
    ("verb=Identify&identifier=" + GOOD, {"badArgument"}),
    ("verb=Identify&metadataPrefix=oai_dc", {"badArgument"}),
    ("verb=Identify&resumptionToken={li}", {"badArgument"}),
    # ListMetadataFormats
    ("verb=ListMetadataFormats&metadataPrefix=oai_dc", {"badArgument"}),
    ("verb=ListMetadataFormats&set=topic", {"badArgument"}),
    ("verb=ListMetadataFormats&identifier=%s&identifier=%s" % (GOOD, GOOD), {"badArgument"}),
    ("verb=ListMetadataFormats&identifier=oai:%s:no-such-record" % REPO, {"idDoesNotExist"}),
    ("verb=ListMetadataFormats&identifier=oai:other.example.org:" + A, {"idDoesNotExist"}),
    # ListSets
    ("verb=ListSets&set=topic", {"badArgument"}),
    ("verb=ListSets&metadataPrefix=oai_dc", {"badArgument"}),
    ("verb=ListSets&from=2020-01-01", {"badArgument"}),
    ("verb=ListSets&resumptionToken={ls}&foo=1", {"badArgument"}),
    ("verb=ListSets&resumptionToken={ls}&resumptionToken={ls}", {"badArgument"}),
    ("verb=ListSets&resumptionToken=abc", {"badResumptionToken"}),
    ("verb=ListSets&resumptionToken={li}", {"badResumptionToken"}),
    # GetRecord
    ("verb=GetRecord", {"badArgument"}),
    ("verb=GetRecord&metadataPrefix=oai_dc", {"badArgument"}),
    ("verb=GetRecord&identifier=" + GOOD, {"badArgument"}),
    ("verb=GetRecord&identifier=%s&metadataPrefix=oai_dc&set=topic" % GOOD, {"badArgument"}),
    ("verb=GetRecord&identifier=%s&metadataPrefix=oai_dc&from=2020-01-01" % GOOD, {"badArgument"}),
    ("verb=GetRecord&identifier=%s&identifier=%s&metadataPrefix=oai_dc" % (GOOD, GOOD), {"badArgument"}),
    ("verb=GetRecord&resumptionToken={li}", {"badArgument"}),
    ("verb=GetRecord&identifier=%s&metadataPrefix=bogus" % GOOD, {"cannotDisseminateFormat"}),
    ("verb=GetRecord&identifier=%s&metadataPrefix=OAI_DC" % GOOD, {"cannotDisseminateFormat"}),
    ("verb=GetRecord&identifier=oai:%s:no-such-record&metadataPrefix=oai_dc" % REPO, {"idDoesNotExist"}),
    ("verb=GetRecord&identifier=oai:other.example.org:%s&metadataPrefix=oai_dc" % A, {"idDoesNotExist"}),
    ("verb=GetRecord&identifier=%s&metadataPrefix=oai_dc" % A, {"idDoesNotExist"}),
    ("verb=GetRecord&identifier=http://%s/%s&metadataPrefix=oai_dc" % (REPO, A), {"idDoesNotExist"}),
]

for _v in ("ListIdentifiers", "ListRecords"):
    _L = "verb=%s&metadataPrefix=oai_dc" % _v
    ERROR_TABLE += [
        ("verb=" + _v, {"badArgument"}),
        ("verb=%s&set=topic" % _v, {"badArgument"}),
        (_L + "&metadataPrefix=oai_dc", {"badArgument"}),
        (_L + "&identifier=" + GOOD, {"badArgument"}),
        (_L + "&foo=bar", {"badArgument"}),
        (_L + "&set=topic&set=region", {"badArgument"}),
        (_L + "&resumptionToken={li}", {"badArgument"}),
        ("verb=%s&set=topic&resumptionToken={li}" % _v, {"badArgument"}),
        ("verb=%s&from=2020-01-01&resumptionToken={li}" % _v, {"badArgument"}),
        ("verb=%s&resumptionToken=" % _v, {"badArgument"}),
        ("verb=%s&metadataPrefix=oai%%20dc" % _v, {"badArgument"}),
        (_L + "&set=topic::smuggling", {"badArgument"}),
        (_L + "&set=:topic", {"badArgument"}),
        # dates: invalid, mixed granularity, not Z, reversed
        (_L + "&from=2020-02-30", {"badArgument"}),
        (_L + "&from=2020-13-01", {"badArgument"}),
        (_L + "&until=2021-01-01T24:00:00Z", {"badArgument"}),
        (_L + "&until=2021-01-01T12:00:60Z", {"badArgument"}),
        (_L + "&from=2020", {"badArgument"}),
        (_L + "&from=2020-01", {"badArgument"}),
        (_L + "&from=20200101", {"badArgument"}),
        (_L + "&from=2020-01-01T00:00:00", {"badArgument"}),
        (_L + "&from=2020-01-01T00:00Z", {"badArgument"}),
        (_L + "&from=2020-01-01T00:00:00%2B01:00", {"badArgument"}),
        (_L + "&until=2020-01-01T00:00:00-05:00", {"badArgument"}),
        (_L + "&from=2020-01-01T00:00:00.5Z", {"badArgument"}),
        (_L + "&until=2020-01-01T00:00:00z", {"badArgument"}),
        (_L + "&from=2020-01-01&until=2021-01-01T00:00:00Z", {"badArgument"}),
        (_L + "&from=2021-01-01T00:00:00Z&until=2022-01-01", {"badArgument"}),
        (_L + "&from=2022-01-01&until=2021-01-01", {"badArgument"}),
        # formats
        ("verb=%s&metadataPrefix=bogus" % _v, {"cannotDisseminateFormat"}),
        ("verb=%s&metadataPrefix=marc" % _v, {"cannotDisseminateFormat"}),
        # empty results: unknown set, configured set with no records,
        # until before earliestDatestamp, from in the future
        (_L + "&set=nosuch", {"noRecordsMatch"}),
        (_L + "&set=empty:shelf", {"noRecordsMatch"}),
        (_L + "&set=topic:smuggling:nothing-below", {"noRecordsMatch"}),
        (_L + "&until=2019-12-31", {"noRecordsMatch"}),
        (_L + "&until=" + iso(TOMB_TS - 1), {"noRecordsMatch"}),
        (_L + "&from=2099-01-01", {"noRecordsMatch"}),
        (_L + "&from=2099-01-01T00:00:00Z&until=2099-12-31T00:00:00Z", {"noRecordsMatch"}),
        # tokens: junk, forged, truncated, another list's
        ("verb=%s&resumptionToken=abc" % _v, {"badResumptionToken"}),
        ("verb=%s&resumptionToken={li_forged}" % _v, {"badResumptionToken"}),
        ("verb=%s&resumptionToken={li_cut}" % _v, {"badResumptionToken"}),
        ("verb=%s&resumptionToken={li}AA" % _v, {"badResumptionToken"}),
        ("verb=%s&resumptionToken={ls}" % _v, {"badResumptionToken"}),
        ("verb=%s&resumptionToken=%s" % (_v, "A" * 200), {"badResumptionToken"}),
    ]
ERROR_TABLE.append(("verb=ListRecords&resumptionToken={li}", {"badResumptionToken"}))


def table_query(q):
    s = _shared
    return q.format(li=s["tok_li"], ls=s["tok_ls"], li_forged=forge(s["tok_li"]),
                    li_cut=s["tok_li"][:-5])


@test
def test_error_table():
    d = shared()
    assert len(ERROR_TABLE) >= 40, len(ERROR_TABLE)
    url = d.base + "/oai"
    bad = []
    for q, want in ERROR_TABLE:
        q = table_query(q)
        for post in (False, True):
            st, h, b, root = oai(d, q, post)
            try:
                assert st == 200, st
                assert h["content-type"] == "text/xml; charset=utf-8", h["content-type"]
                got = errors(root)
                assert set(got) == want, got
                # the third child is the error, nothing else
                assert [c.tag for c in root] == (["{%s}responseDate" % OAI, "{%s}request" % OAI]
                                                 + ["{%s}error" % OAI] * len(got))
                req = root.find("o:request", NS)
                assert req.text == url, req.text
                if want & {"badVerb", "badArgument"}:
                    want_attrs = {}
                else:
                    want_attrs = dict(urllib.parse.parse_qsl(q, keep_blank_values=True))
                assert dict(req.attrib) == want_attrs, dict(req.attrib)
            except AssertionError as e:
                bad.append("%s %s: %s\n%s" % ("POST" if post else "GET", q, e,
                                             b.decode("utf-8", "replace")[:600]))
    assert not bad, "%d of %d requests wrong:\n" % (len(bad), 2 * len(ERROR_TABLE)) + \
        "\n".join(bad[:8])


@test
def test_success_request_echo():
    """Without an error the request element echoes every argument."""
    d = shared()
    for q in ("verb=Identify", "verb=ListMetadataFormats",
              "verb=ListMetadataFormats&identifier=" + GOOD,
              "verb=ListSets", "verb=GetRecord&identifier=%s&metadataPrefix=marc21" % GOOD,
              "verb=ListIdentifiers&metadataPrefix=oai_datacite&set=topic&from=2021-01-01&until=2030-01-01",
              "verb=ListRecords&metadataPrefix=oai_dc&set=region:bulgaria&until=2022-01-01T00:00:00Z"):
        for post in (False, True):
            root = expect_ok(d, q, post)
            req = root.find("o:request", NS)
            assert dict(req.attrib) == dict(urllib.parse.parse_qsl(q)), (q, dict(req.attrib))
            assert req.text == d.base + "/oai"
            verb = req.get("verb")
            assert root[2].tag == "{%s}%s" % (OAI, verb), root[2].tag


# ---------------------------------------------------------------- Identify

@test
def test_identify():
    d = shared()
    for post in (False, True):
        st, h, b, root = oai(d, "verb=Identify", post)
        now = parse_iso(root.findtext("o:responseDate", namespaces=NS))
        assert abs(now - time.time()) < 300, root.findtext("o:responseDate", namespaces=NS)
        # byte-identical: base-url + the endpoint path, nothing re-encoded
        assert b"<baseURL>" + d.base.encode() + b"/oai</baseURL>" in b
        idf = root.find("o:Identify", NS)
        t = lambda n: idf.findtext("o:" + n, namespaces=NS)  # noqa: E731
        assert t("repositoryName") == "Test Centre for Cross-Border Crime Research"
        assert t("baseURL") == d.base + "/oai"
        assert t("protocolVersion") == "2.0"
        assert [e.text for e in idf.findall("o:adminEmail", NS)] == [
            "admin@research.example.org", "oai@research.example.org"]
        # the tombstone is the oldest change
        assert t("earliestDatestamp") == iso(TOMB_TS), t("earliestDatestamp")
        assert t("deletedRecord") == "persistent"
        assert t("granularity") == "YYYY-MM-DDThh:mm:ssZ"
        assert sorted(e.text for e in idf.findall("o:compression", NS)) == ["deflate", "gzip"]
        oi = idf.find("o:description/id:oai-identifier", NS)
        assert oi is not None, "no oai-identifier description"
        assert oi.findtext("id:scheme", namespaces=NS) == "oai"
        assert oi.findtext("id:repositoryIdentifier", namespaces=NS) == REPO
        assert oi.findtext("id:delimiter", namespaces=NS) == ":"
        sample = oi.findtext("id:sampleIdentifier", namespaces=NS)
        assert sample.startswith("oai:%s:" % REPO)
    r = expect_ok(d, "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + sample)
    assert r.findtext("o:GetRecord/o:record/o:header/o:identifier", namespaces=NS) == sample


@test
def test_list_metadata_formats():
    d = shared()
    for q in ("verb=ListMetadataFormats", "verb=ListMetadataFormats&identifier=" + GOOD):
        r = expect_ok(d, q)
        got = [(f.findtext("o:metadataPrefix", namespaces=NS),
                f.findtext("o:metadataNamespace", namespaces=NS))
               for f in r.findall("o:ListMetadataFormats/o:metadataFormat", NS)]
        assert got == [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
                       ("marc21", MARC),
                       ("oai_datacite", "http://schema.datacite.org/oai/oai-1.1/"),
                       ("oai_openaire", OAIRE)], got
    # a news item is no research output: OpenAIRE's format is not offered
    r = expect_ok(d, "verb=ListMetadataFormats&identifier=" + oid(NEWS))
    got = [f.findtext("o:metadataPrefix", namespaces=NS)
           for f in r.findall("o:ListMetadataFormats/o:metadataFormat", NS)]
    assert got == ["oai_dc", "marc21", "oai_datacite"], got


# ---------------------------------------------------------------- OpenAIRE

NEWS = "2019-news-joint-programme-launch"
COAR_TYPES = {"report": "c_93fc", "policy-brief": "c_186u", "working-paper": "c_8042",
              "book": "c_2f33", "chapter": "c_3248", "article": "c_6501",
              "dataset": "c_ddb1", "presentation": "c_c94f"}
COAR_ACCESS = {"open": "c_abf2", "embargoed": "c_f1cf", "restricted": "c_16ec",
               "metadata-only": "c_14cb"}
EU_REPO_ACCESS = {"open": "openAccess", "embargoed": "embargoedAccess",
                  "restricted": "restrictedAccess", "metadata-only": "closedAccess"}


def source_facts(path):
    root = etree.parse(path).getroot()
    return {"type": root.get("type"), "access": root.findtext("r:access", namespaces=NS),
            "until": (root.find("r:access", NS).get("until")
                      if root.find("r:access", NS) is not None else None),
            "fulltexts": [ln.get("href") for ln in root.findall("r:link", NS)
                          if ln.get("rel") == "fulltext"],
            "funders": [f.findtext("r:funder", namespaces=NS)
                        for f in root.findall("r:funding", NS)]}


@test
def test_openaire():
    """Every oai_openaire response validates (oai() → check_body); exactly
    the research outputs that state their access rights are offered, with
    their COAR type, access right, files and funding."""
    d = shared()
    recs = _shared["recs"]
    facts = {rid: source_facts(recs[rid]["path"]) for rid in recs}
    want = {oid(rid) for rid, f in facts.items()
            if f["type"] in COAR_TYPES and f["access"] is not None}
    assert 15 < len(want) < len(recs), len(want)
    items, pages = walk(d, "ListRecords", {"metadataPrefix": "oai_openaire"})
    got = header_map(items)
    live = {i for i, v in got.items() if v[1] is None}
    assert live == want, sorted(live ^ want)
    assert {i for i, v in got.items() if v[1] == "deleted"} == {oid(TOMB_ID)}
    assert pages > 1
    for it in items:
        res = it.find("o:metadata/oaire:resource", NS)
        if res is None:
            continue
        rid = it.findtext("o:header/o:identifier", namespaces=NS).split(":", 2)[2]
        f = facts[rid]
        rt = res.find("oaire:resourceType", NS)
        assert rt.get("uri") == "http://purl.org/coar/resource_type/" + COAR_TYPES[f["type"]], rid
        coar = "http://purl.org/coar/access_right/" + COAR_ACCESS[f["access"]]
        assert res.find("datacite:rights", NS).get("rightsURI") == coar, rid
        files = res.findall("oaire:file", NS)
        assert [x.text for x in files] == f["fulltexts"], rid
        assert all(x.get("accessRightsURI") == coar and x.get("mimeType") and
                   x.get("objectType") for x in files), rid
        funders = [x.text for x in res.findall(
            "oaire:fundingReferences/oaire:fundingReference/oaire:funderName", NS)]
        for name in f["funders"]:
            assert name in funders, (rid, name, funders)
        if f["until"]:
            assert res.findtext("datacite:dates/datacite:date[@dateType='Available']",
                                namespaces=NS) == f["until"], rid
        ver = etree.parse(recs[rid]["path"]).getroot().findtext("r:version", namespaces=NS)
        assert res.findtext("oaire:version", namespaces=NS) == ver, rid
        for lang in res.findall("dc:language", NS):
            assert re.fullmatch("[a-z]{3}", lang.text), (rid, lang.text)
    assert any(it.find("o:metadata/oaire:resource/oaire:version", NS) is not None
               for it in items)
    funded = [rid for rid in recs if facts[rid]["funders"]]
    assert funded and all(oid(rid) in want for rid in funded)
    ids, _ = walk(d, "ListIdentifiers", {"metadataPrefix": "oai_openaire"})
    assert set(header_map(ids)) == set(got)
    st, h, b, r = oai(d, "verb=GetRecord&metadataPrefix=oai_openaire&identifier=" + oid(NEWS))
    assert errors(r) == ["cannotDisseminateFormat"], b[:500]
    st, h, b, r = oai(d, "verb=ListRecords&metadataPrefix=oai_openaire&set=type:news")
    assert errors(r) == ["noRecordsMatch"], b[:500]
    # events are no research output, even those whose programme is open
    assert any(facts[rid]["type"] == "event" and facts[rid]["access"] for rid in recs)
    st, h, b, r = oai(d, "verb=ListIdentifiers&metadataPrefix=oai_openaire&set=type:events")
    assert errors(r) == ["noRecordsMatch"], b[:500]
    # a presentation is one
    r = expect_ok(d, "verb=ListIdentifiers&metadataPrefix=oai_openaire&set=type:presentations")
    assert len(r.findall("o:ListIdentifiers/o:header", NS)) == 1


NO_ID = "2021-report-no-identifier"
NO_ACCESS = "2021-report-no-access"
BARE_RECORD = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="https://pubfeed.org/ns/record/1" id="%s" type="report">
  <title>%s</title>
  <issued>2021-04-01</issued>
  <language>en</language>
  %s
  <identifier type="isbn">9789544771234</identifier>
</record>
"""


def signposted_prefixes(d, rid):
    """The metadataPrefixes of the landing page's describedby links, from
    the Link header and from the <head> (which must agree)."""
    st, h, body = d.get("/records/%s.html" % rid)
    assert st == 200, (rid, st)
    got = []
    for part in re.findall(r'<[^>]*>[^,<]*', h.get("link", "")):
        if 'rel="describedby"' in part:
            q = urllib.parse.urlsplit(part[1:part.index(">")]).query
            got.append(urllib.parse.parse_qs(q)["metadataPrefix"][0])
    head = etree.HTML(body).xpath("//head/link[@rel='describedby']/@href")
    assert sorted(got) == sorted(urllib.parse.parse_qs(
        urllib.parse.urlsplit(u).query)["metadataPrefix"][0]
        for u in head), (rid, got, head)
    return got


@test
def test_openaire_without_identifier_of_its_own():
    """A record that names no DOI, handle, landing page, URN or URL (only
    an ISBN) is offered in oai_openaire with pubfeed's landing page as
    datacite:identifier type URL (the Guidelines' "link to a jump-off
    page"), in lists, GetRecord, ListMetadataFormats and the landing
    page's describedby links; one stating no access right still is not."""
    recs = os.path.join(mkdtemp(), "records")
    os.makedirs(recs)
    for rid, access in ((NO_ID, "<access>open</access>"), (NO_ACCESS, "")):
        with open(os.path.join(recs, rid + ".xml"), "w", encoding="utf-8") as f:
            f.write(BARE_RECORD % (rid, "A report: " + rid, access))
    d = Daemon(records=recs, copy=False, page=5).start()
    try:
        landing = d.base + "/records/%s.html" % NO_ID
        items, _ = walk(d, "ListRecords", {"metadataPrefix": "oai_openaire"})
        assert sorted(header_map(items)) == [oid(NO_ID)], header_map(items)
        res = items[0].find("o:metadata/oaire:resource", NS)
        ident = res.findall("datacite:identifier", NS)
        assert [(i.get("identifierType"), i.text) for i in ident] == \
            [("URL", landing)], [(i.attrib, i.text) for i in ident]
        # the ISBN is no resource identifier, and pubfeed's page is not
        # listed twice
        assert landing not in [a.text for a in res.iter(
            "{%s}alternateIdentifier" % NS["datacite"])]
        r = expect_ok(d, "verb=GetRecord&metadataPrefix=oai_openaire"
                      "&identifier=" + oid(NO_ID))
        assert r.findtext(".//datacite:identifier", namespaces=NS) == landing
        st, h, b, r = oai(d, "verb=GetRecord&metadataPrefix=oai_openaire"
                          "&identifier=" + oid(NO_ACCESS))
        assert errors(r) == ["cannotDisseminateFormat"], b[:500]
        for rid, want in ((NO_ID, list(FORMATS) + ["oai_openaire"]),
                          (NO_ACCESS, list(FORMATS))):
            r = expect_ok(d, "verb=ListMetadataFormats&identifier=" + oid(rid))
            got = [f.findtext("o:metadataPrefix", namespaces=NS) for f in
                   r.findall("o:ListMetadataFormats/o:metadataFormat", NS)]
            assert got == want, (rid, got)
            # Signposting follows the formats the record is offered in
            assert signposted_prefixes(d, rid) == want, rid
    finally:
        d.stop()


@test
def test_dc_rights_only_when_stated():
    """oai_dc calls a record open access only when the record says so."""
    d = shared()
    recs = _shared["recs"]
    items, _ = walk(d, "ListRecords", {"metadataPrefix": "oai_dc"})
    seen_unstated_fulltext = False
    for it in items:
        md = it.find("o:metadata/oai_dc:dc", NS)
        if md is None:
            continue
        rid = it.findtext("o:header/o:identifier", namespaces=NS).split(":", 2)[2]
        f = source_facts(recs[rid]["path"])
        levels = [x.text for x in md.findall("dc:rights", NS)
                  if x.text.startswith("info:eu-repo/semantics/")]
        want = ["info:eu-repo/semantics/" + EU_REPO_ACCESS[f["access"]]] if f["access"] else []
        assert levels == want, (rid, levels, want)
        if f["fulltexts"] and not f["access"]:
            seen_unstated_fulltext = True
    # the sample collection has a record with a PDF and no access statement
    assert seen_unstated_fulltext


@test
def test_bare_endpoint_negotiates():
    """GET /oai with no arguments: badVerb XML unless HTML is preferred."""
    d = shared()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept, html in ((None, False), ("*/*", False), ("application/xml", False),
                         ("text/xml", False), ("text/html;q=0.5, application/xml", False),
                         (browser, True), ("text/html", True)):
        hdrs = {"Accept": accept} if accept else {}
        st, h, b = d.request("GET", "/oai", headers=hdrs)
        assert st == 200, (accept, st)
        if html:
            assert h["content-type"].startswith("text/html"), (accept, h)
            assert b"<html" in b.lower()
        else:
            assert h["content-type"].startswith("text/xml"), (accept, h)
            st, h, b, root = oai(d, "", headers=hdrs)
            assert errors(root) == ["badVerb"], (accept, b[:300])


# ---------------------------------------------------------------- MARC::Lint

# Records as tab-separated lines on stdin (LDR / 00X value / tag ind1 ind2
# code value ...), a blank line between records; prints "id: warning".
# MARC::Lint (Debian libmarc-lint-perl) checks the fields it knows; 008/15-17
# and 044 are checked here against its own MARC country code list.
LINT_PL = r"""
use strict; use warnings;
use MARC::Record; use MARC::Field; use MARC::Lint;
use MARC::Lint::CodeData qw(%CountryCodes);
my $lint = MARC::Lint->new; local $/ = "";
while (my $block = <STDIN>) {
    my $rec = MARC::Record->new; my $id = "?";
    for my $line (split /\n/, $block) {
        my @f = split /\t/, $line, -1;
        if ($f[0] eq "LDR") { $rec->leader($f[1]); next }
        if ($f[0] lt "010") {
            $id = $f[1] if $f[0] eq "001";
            $rec->append_fields(MARC::Field->new($f[0], $f[1])); next;
        }
        my ($tag, $i1, $i2, @subs) = @f;
        $rec->append_fields(MARC::Field->new($tag, $i1, $i2, @subs));
    }
    $lint->check_record($rec);
    print "$id: $_\n" for $lint->warnings;
    my $place = substr($rec->field("008")->data, 15, 3);
    print "$id: 008/15-17 '$place' is not a MARC country code\n"
        unless $CountryCodes{$place};
    for my $f ($rec->field("044")) {
        my $c = sprintf("%-3s", $f->subfield("a"));
        print "$id: 044 '$c' is not a MARC country code\n" unless $CountryCodes{$c};
    }
    print "$id: place $place\n";
}
"""

# leader/18 is 'c' (ISBD punctuation omitted), which MARC::Lint does not
# read: these are the only punctuation rules it applies to our fields
LINT_PUNCTUATION = ("245: Must end with . (period).",
                    "245: Subfield _b should be preceded by space-colon, "
                    "space-semicolon, or space-equals sign.")


def marc_lines(rec):
    out = ["LDR\t" + rec.findtext("m:leader", namespaces=NS)]
    for f in rec:
        if f.tag == "{%s}controlfield" % MARC:
            out.append(f.get("tag") + "\t" + f.text)
        elif f.tag == "{%s}datafield" % MARC:
            parts = [f.get("tag"), f.get("ind1"), f.get("ind2")]
            for sf in f:
                assert "\t" not in sf.text and "\n" not in sf.text
                parts += [sf.get("code"), sf.text]
            out.append("\t".join(parts))
    return "\n".join(out)


@test
def test_marc_lint():
    """MARC::Lint has nothing to say about any marc21 record but the ISBD
    punctuation the leader says is omitted; places are MARC country codes."""
    if subprocess.run(["perl", "-MMARC::Lint", "-e", "1"],
                      stderr=subprocess.DEVNULL).returncode != 0:
        skip("MARC::Lint (libmarc-lint-perl) not installed")
        return
    d = shared()
    items, _ = walk(d, "ListRecords", {"metadataPrefix": "marc21"})
    recs = [it.find("o:metadata/m:record", NS) for it in items]
    recs = [r for r in recs if r is not None]
    assert len(recs) == len(_shared["recs"])
    p = subprocess.run(["perl", "-e", LINT_PL], input="\n\n".join(
        marc_lines(r) for r in recs).encode(), capture_output=True, check=True)
    lines = p.stdout.decode().splitlines()
    warnings = [ln for ln in lines if " place " not in ln and
                not ln.endswith(LINT_PUNCTUATION)]
    assert warnings == [], "\n".join(warnings)
    places = dict(ln.split(": place ") for ln in lines if ": place " in ln)
    assert len(places) == len(recs), len(places)
    assert places["2019-cross-border-crime-bulgaria-norway"] == "bu "
    assert places["2021-labour-exploitation-norway"] == "no "
    # an event's venue is no place of publication
    assert places["2022-event-oslo-seminar"] == "xx "
    # a chapter names its book as host item; hyphen-free ISBNs
    chapter = [r for r in recs if r.findtext("m:controlfield[@tag='001']",
                                             namespaces=NS) ==
               "2016-chapter-bulgarian-networks-oslo"][0]
    assert chapter.find("m:datafield[@tag='773']", NS) is not None
    for r in recs:
        for a in r.findall("m:datafield[@tag='020']/m:subfield[@code='a']", NS):
            assert re.fullmatch(r"[0-9]{9}[0-9X]|[0-9]{12}[0-9X]", a.text), a.text


# ---------------------------------------------------------------- compression

def strip_date(b):
    return re.sub(rb"<responseDate>[^<]*</responseDate>", b"", b)


@test
def test_compression():
    d = shared()
    for q in ("verb=Identify", "verb=ListRecords&metadataPrefix=oai_datacite&set=topic"):
        st, h, plain = d.get("/oai?" + q)
        assert st == 200 and "content-encoding" not in h, h
        check_body(plain)
        for ae, want in (("gzip", "gzip"), ("deflate", "deflate"),
                         ("gzip;q=0, deflate", "deflate"), ("identity", None),
                         ("br", None), ("deflate, gzip", "gzip")):
            st, h, raw = d.get("/oai?" + q, headers={"Accept-Encoding": ae})
            assert st == 200
            assert h.get("content-encoding") == want, (ae, h)
            assert "accept-encoding" in h.get("vary", "").lower(), h
            body = decode_body(h, raw)
            check_body(body)
            assert strip_date(body) == strip_date(plain), ae
            if want:
                assert len(raw) < len(body)
        # POST gets the same treatment
        st, h, b, root = oai(d, q, post=True, headers={"Accept-Encoding": "gzip"})
        assert h.get("content-encoding") == "gzip" and root is not None


def page_forms(d, q):
    """The plain, gzip and deflate responses of q from one kept page (the
    same responseDate): (plain, {coding: (headers, raw)})."""
    for _ in range(3):   # a page is rebuilt once a minute: retry across that
        st, h0, plain = d.get("/oai?" + q)
        assert st == 200 and "content-encoding" not in h0, h0
        forms = {None: (h0, plain)}
        for ae in ("gzip", "deflate"):
            st, h, raw = d.get("/oai?" + q, headers={"Accept-Encoding": ae})
            assert st == 200 and h.get("content-encoding") == ae, h
            forms[ae] = (h, raw)
        st, _, again = d.get("/oai?" + q)
        if again == plain:
            return plain, forms
    raise AssertionError("the page changed under three tries")


@test
def test_compressed_page_exact():
    """A compressed ListRecords page is the plain page's exact bytes (not
    just the same after the date), every form has its own strong ETag and
    answers If-None-Match with a 304, and HEAD gets the headers only."""
    d = shared()
    q = "verb=ListRecords&metadataPrefix=oai_dc"
    plain, forms = page_forms(d, q)
    assert b"<resumptionToken" in plain      # a real, paged list
    assert gzip.decompress(forms["gzip"][1]) == plain
    assert zlib.decompress(forms["deflate"][1]) == plain
    assert len(forms["gzip"][1]) * 2 < len(plain)
    tags = {ae: h["etag"] for ae, (h, _) in forms.items()}
    assert len(set(tags.values())) == 3, tags
    for ae, tag in tags.items():
        assert re.fullmatch(r'"[0-9a-f]+(-gz|-df)?"', tag), tag   # strong
        hdrs = {"If-None-Match": tag}
        if ae:
            hdrs["Accept-Encoding"] = ae
        st, h, b = d.get("/oai?" + q, headers=hdrs)
        assert st == 304 and b == b"" and h["etag"] == tag, (ae, st, h)
        # the tag of another form is not a match
        other = tags["gzip" if ae is None else None]
        st, h, b = d.get("/oai?" + q, headers=dict(hdrs, **{"If-None-Match": other}))
        assert st == 200 and h["etag"] == tag and decode_body(h, b) == plain, (ae, st)
        st, h, b = d.request("HEAD", "/oai?" + q, headers=dict(hdrs, **{"If-None-Match": "x"}))
        assert st == 200 and b == b"" and h["etag"] == tag, (ae, st)
        assert h["content-length"] == forms[ae][0]["content-length"]
    # the same arguments by POST: the same page
    st, h, b = d.request("POST", "/oai", body=q, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept-Encoding": "gzip"})
    assert st == 200 and h["etag"] == tags["gzip"] and b == forms["gzip"][1]


@test
def test_compressed_page_never_stale():
    """A record changed: the next snapshot's page differs, old ETags no
    longer match, and every form is the new page."""
    d = Daemon(page=4)
    recs = source_records(d.records)
    ids = sorted(recs)
    stamps = {r: BASE_TS + i * 86400 for i, r in enumerate(ids)}
    seed_state(d.state, recs, stamps)
    d.start()
    try:
        q = "verb=ListRecords&metadataPrefix=oai_dc"
        plain, forms = page_forms(d, q)
        first = oid(ids[0]).encode()
        assert first in plain
        p = recs[ids[0]]["path"]
        with open(p, encoding="utf-8") as f:
            text = f.read()
        with open(p, "w", encoding="utf-8") as f:
            f.write(text.replace("</record>", "<!-- edited -->\n</record>"))
        d.signal(signal.SIGHUP)
        # the edited record's datestamp is now the latest: it leaves page 1
        d.wait_for(lambda: first not in d.get("/oai?" + q)[2], timeout=20,
                   what="the edit to reach page 1")
        plain2, forms2 = page_forms(d, q)
        assert plain2 != plain and first not in plain2
        for ae in ("gzip", "deflate"):
            old = forms[ae][0]["etag"]
            st, h, b = d.get("/oai?" + q, headers={"Accept-Encoding": ae,
                                                   "If-None-Match": old})
            assert st == 200 and h["etag"] != old, (ae, st)
            assert decode_body(h, b) == plain2
    finally:
        d.stop()


# ---------------------------------------------------------------- malformed input

def alive(d):
    assert d.proc.poll() is None, "daemon died:\n" + d.logtext()[-3000:]
    st, _, _ = d.get("/healthz")
    assert st == 200, st


def raw_http(d, data):
    """Send raw bytes; returns the status code (0 if the server just closed)."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return int(m.group(1)) if m else 0


@test
def test_malformed_input():
    d = shared()
    many = "verb=Identify&" + "&".join("a%d=%d" % (i, i) for i in range(10000))
    cases = [
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + "a" * 100000,
        "verb=ListRecords&metadataPrefix=oai_dc&set=" + "x" * 5000,
        "verb=ListRecords&resumptionToken=" + "A" * 20000,
        "verb=Identify&x=%zz", "verb=Identify%", "verb=%", "verb=Identify&x=%4",
        "verb=%49dentify", "verb=Identify&x=%00", "verb=Ident%00ify",
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:%s:%%00%s" % (REPO, A),
        "verb=ListRecords&metadataPrefix=oai_dc&set=%C3%28",
        "verb=ListRecords&metadataPrefix=oai_dc&set=%FF%FE",
        "verb=ListRecords&metadataPrefix=oai_dc&set=%01",
        "verb=ListRecords&metadataPrefix=oai_dc&set=%EF%BF%BE",
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:other.example.org:" + A,
        "verb=Identify&&&&", "&&&", "=&=&=", "verb", "verb&verb", "==verb==Identify",
        "verb=Identify&" + "=" * 3000,
        many,
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=" + "9" * 4000,
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=99999-01-01",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=-2020-01-01",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&until=0000-00-00",
        "verb=ListIdentifiers&metadataPrefix=%3Cx%3E&set=%22%3E%3C",
    ]
    seen = {}
    for q in cases:
        for post in (False, True):
            st, h, b, root = oai(d, q, post)
            assert st < 500, (q[:100], st, b[:200])
            if st == 200:
                assert root is not None, (q[:100], b[:200])
                if q == "verb=%49dentify":
                    assert errors(root) == [], b[:500]
                elif q != "verb=Identify&&&&":
                    assert errors(root), (q[:100], b[:500])
            else:
                assert 400 <= st < 500, st
            seen[st] = seen.get(st, 0) + 1
        alive(d)
    # NUL bytes and invalid percent-encoding in a POST body, raw
    for body in (b"verb=Identify\x00&x=1", b"verb=Iden\x00tify", b"\x00\x00\x00",
                 b"verb=GetRecord&metadataPrefix=oai_dc&identifier=" + GOOD.encode() + b"\x00",
                 b"verb=Identify&x=\xff\xfe", b"verb=ListSets&resumptionToken=%zz%"):
        st, h, b = d.request("POST", "/oai", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        assert st == 200, (body, st)
        root = check_body(b)
        assert errors(root), (body, b[:300])
        assert set(errors(root)) <= {"badArgument", "badVerb"}, b[:500]
    # a POST body over the server's limit, a wrong content type
    st, h, b = d.request("POST", "/oai", body=many.encode() * 4, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= st < 500 or (st == 200 and errors(check_body(b))), st
    st, h, b = d.request("POST", "/oai", body=b"verb=Identify",
                         headers={"Content-Type": "text/plain"})
    assert 400 <= st < 500, st
    # raw request lines http.client would refuse to send
    for line in (b"GET /oai?verb=Identify\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /oai?verb=Identify%zz%%% HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /oai?verb=Identify\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /oai?" + b"verb=Identify&" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"):
        st = raw_http(d, line)
        assert st == 0 or st < 500, (line[:60], st)
        alive(d)
    alive(d)


# ---------------------------------------------------------------- overload

@test
def test_overload_503():
    gen = os.path.join(ROOT, "bench", "gen_records.py")
    tmp = Daemon(page=1000, entries=1000, extra="oai-max-requests 1\noai-retry-after 7\n",
                 records=os.path.join(SAMPLES, "reports"))
    shutil.rmtree(tmp.records)
    subprocess.run(["/usr/bin/python3", gen, tmp.records, "2000"], check=True,
                   stdout=subprocess.DEVNULL)
    d = tmp.start()
    results, lock = [], threading.Lock()
    validated = set()

    def one(barrier, fmt):
        barrier.wait()
        st, h, b = d.get("/oai?verb=ListRecords&metadataPrefix=" + fmt)
        with lock:
            results.append((st, h, b, fmt))

    got503 = 0
    for rnd in range(8):
        barrier = threading.Barrier(12)
        ths = [threading.Thread(target=one, args=(barrier, FORMATS[i % 3])) for i in range(12)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        for st, h, b, fmt in results:
            assert st in (200, 503), (st, b[:300])
            if st == 503:
                got503 += 1
                assert h.get("retry-after") == "7", h
                assert not b.startswith(b"<?xml"), b[:100]
            else:
                key = (fmt, hashlib.sha256(strip_date(b)).digest())
                if key not in validated:
                    root = check_body(b)
                    assert errors(root) == [] and len(root.findall(
                        "o:ListRecords/o:record", NS)) == 1000
                    validated.add(key)
        results.clear()
        if got503 and rnd >= 1:
            break
    assert got503 > 0, "no request was turned away with oai-max-requests 1"
    # every slot was given back: sequential requests all succeed
    for _ in range(5):
        expect_ok(d, "verb=Identify")
    alive(d)
    d.stop()


# ---------------------------------------------------------------- deletion

def get_header(d, local, fmt):
    r = expect_ok(d, "verb=GetRecord&metadataPrefix=%s&identifier=%s" % (fmt, oid(local)))
    rec = r.find("o:GetRecord/o:record", NS)
    return rec.find("o:header", NS), rec.find("o:metadata", NS)


def reload_and_wait(d, pred, what):
    d.signal(signal.SIGHUP)
    return d.wait_for(pred, timeout=20, what=what)


def wait_next_second(t):
    while time.time() < t + 1.05:
        time.sleep(0.05)


@test
def test_deletion_and_restore():
    d = Daemon(page=7).start()
    victim = "2016-book-crime-without-borders"
    recs = source_records(d.records)
    path = recs[victim]["path"]
    with open(path, "rb") as f:
        content = f.read()
    h0, md = get_header(d, victim, "oai_dc")
    assert h0.get("status") is None and md is not None
    ds0 = h0.findtext("o:datestamp", namespaces=NS)
    sets0 = [s.text for s in h0.findall("o:setSpec", NS)]
    assert sets0 == recs[victim]["sets"], sets0
    wait_next_second(parse_iso(ds0))
    os.unlink(path)
    reload_and_wait(d, lambda: get_header(d, victim, "oai_dc")[0].get("status") == "deleted",
                    "the record to be deleted")
    ds_del = None
    for fmt in FORMATS:
        h, md = get_header(d, victim, fmt)
        assert h.get("status") == "deleted" and md is None, fmt
        ds = h.findtext("o:datestamp", namespaces=NS)
        assert ds_del in (None, ds)
        ds_del = ds
        assert [s.text for s in h.findall("o:setSpec", NS)] == sets0
    assert parse_iso(ds_del) > parse_iso(ds0), (ds0, ds_del)
    for verb in ("ListIdentifiers", "ListRecords"):
        items, _ = walk(d, verb, {"metadataPrefix": "marc21"})
        hm = header_map(items)
        assert set(hm) == {oid(r) for r in recs}, "deleted record lost from the list"
        assert hm[oid(victim)][:2] == (ds_del, "deleted"), hm[oid(victim)]
        assert sum(1 for v in hm.values() if v[1] == "deleted") == 1
        if verb == "ListRecords":
            dead = [r for r in items if r.find("o:header", NS).get("status") == "deleted"]
            assert len(dead) == 1 and dead[0].find("o:metadata", NS) is None
    # a deletion is only listed from its own datestamp on
    items, _ = walk(d, "ListIdentifiers", {"metadataPrefix": "oai_dc", "from": ds_del})
    assert oid(victim) in header_map(items)
    # persistent: survives a restart with the same datestamp
    d.stop()
    d.start()
    h, md = get_header(d, victim, "oai_datacite")
    assert h.get("status") == "deleted" and h.findtext("o:datestamp", namespaces=NS) == ds_del
    # the file comes back: live again, later datestamp
    wait_next_second(parse_iso(ds_del))
    with open(path, "wb") as f:
        f.write(content)
    reload_and_wait(d, lambda: get_header(d, victim, "oai_dc")[0].get("status") is None,
                    "the record to come back")
    for fmt in FORMATS:
        h, md = get_header(d, victim, fmt)
        assert h.get("status") is None and md is not None
        assert parse_iso(h.findtext("o:datestamp", namespaces=NS)) > parse_iso(ds_del)
    items, _ = walk(d, "ListIdentifiers", {"metadataPrefix": "oai_dc"})
    assert all(v[1] is None for v in header_map(items).values())
    d.stop()


@test
def test_restart_keeps_datestamps():
    d = Daemon(page=10).start()
    before = header_map(walk(d, "ListIdentifiers", {"metadataPrefix": "oai_dc"})[0])
    assert len(before) == 34
    wait_next_second(max(parse_iso(v[0]) for v in before.values()))
    recs = source_records(d.records)
    touched = "2021-labour-exploitation-norway"
    changed = "2009-wp-measuring-corruption"
    os.utime(recs[touched]["path"])          # a newer mtime, same bytes
    d.stop()
    d.start()
    after = header_map(walk(d, "ListIdentifiers", {"metadataPrefix": "oai_dc"})[0])
    assert after == before, "datestamps changed across a restart"
    # a reload after touch keeps it too; a real edit changes only that one
    os.utime(recs[touched]["path"])
    p = recs[changed]["path"]
    with open(p, encoding="utf-8") as f:
        text = f.read()
    with open(p, "w", encoding="utf-8") as f:
        f.write(text.replace("</record>", "<!-- edited -->\n</record>"))
    d.signal(signal.SIGHUP)

    def edited():
        try:    # a walk that straddles the reload may list the edit twice
            m = header_map(walk(d, "ListIdentifiers", {"metadataPrefix": "oai_dc"})[0])
        except AssertionError:
            return None
        return m if m[oid(changed)][0] != before[oid(changed)][0] else None
    cur = d.wait_for(edited, what="the edited record's new datestamp")
    for k, v in cur.items():
        if k == oid(changed):
            assert parse_iso(v[0]) > parse_iso(before[k][0])
        else:
            assert v == before[k], (k, v, before[k])
    d.stop()
    d.start()
    assert header_map(walk(d, "ListIdentifiers", {"metadataPrefix": "oai_dc"})[0]) == cur
    d.stop()


# ---------------------------------------------------------------- sets

def expected_sets():
    recs = _shared["recs"]
    specs = set()
    for r in list(recs.values()) + [{"sets": TOMB_SETS}]:
        for s in r["sets"]:
            parts = s.split(":")
            for i in range(1, len(parts) + 1):
                specs.add(":".join(parts[:i]))
    return specs


def members(spec):
    """Local ids (tombstone included) in spec or below it."""
    out = set()
    recs = dict(_shared["recs"])
    recs[TOMB_ID] = {"sets": TOMB_SETS}
    for rid, r in recs.items():
        if any(s == spec or s.startswith(spec + ":") for s in r["sets"]):
            out.add(rid)
    return out


@test
def test_list_sets():
    d = shared()
    items, pages = walk(d, "ListSets", {})
    assert pages > 1
    got = {}
    for s in items:
        spec = s.findtext("o:setSpec", namespaces=NS)
        assert spec not in got, "set listed twice: " + spec
        got[spec] = (s.findtext("o:setName", namespaces=NS),
                     s.findtext("o:setDescription/oai_dc:dc/dc:description", namespaces=NS))
    want = expected_sets()
    # every set a record is in, with its parents; configured ones besides
    assert want <= set(got), sorted(want - set(got))
    assert set(got) <= want | {"empty:shelf", "empty"}, sorted(set(got) - want)
    assert got["topic"] == ("Topics", "Everything by topic"), got["topic"]
    assert got["region:bulgaria"] == ("Bulgaria", None), got["region:bulgaria"]
    assert got["topic:smuggling"] == ("Smuggling", "Smuggling of goods and migrants")
    assert got["region"][0] in ("region", "Region", "Regions"), got["region"]
    if "empty:shelf" in got:
        assert got["empty:shelf"] == ("Empty shelf", "Nothing here yet")


@test
def test_set_selection():
    d = shared()
    for spec in sorted(expected_sets()):
        want = {oid(r) for r in members(spec)}
        for verb, fmt in (("ListIdentifiers", "oai_dc"), ("ListRecords", "oai_datacite")):
            items, _ = walk(d, verb, {"metadataPrefix": fmt, "set": spec})
            hm = header_map(items)
            assert set(hm) == want, (spec, verb, sorted(set(hm) ^ want))


@test
def test_setspecs_identical_everywhere():
    d = shared()
    recs = _shared["recs"]
    li = header_map(walk(d, "ListIdentifiers", {"metadataPrefix": "oai_dc"})[0])
    assert set(li) == {oid(r) for r in recs} | {oid(TOMB_ID)}
    assert li[oid(TOMB_ID)] == (iso(TOMB_TS), "deleted", TOMB_SETS), li[oid(TOMB_ID)]
    for fmt in FORMATS:
        lr = header_map(walk(d, "ListRecords", {"metadataPrefix": fmt})[0])
        assert lr == li, fmt
    for rid in sorted(recs)[::3] + [TOMB_ID]:
        h, _ = get_header(d, rid, FORMATS[len(rid) % 3])
        got = (h.findtext("o:datestamp", namespaces=NS), h.get("status"),
               [s.text for s in h.findall("o:setSpec", NS)])
        assert got == li[oid(rid)], (rid, got)
    for rid in recs:
        assert li[oid(rid)] == (iso(_shared["stamps"][rid]), None, recs[rid]["sets"]), rid


# ---------------------------------------------------------------- from / until

@test
def test_from_until_inclusive():
    d = shared()
    allts = _shared["all"]
    ids = sorted(allts, key=lambda r: (allts[r], r))

    def check(args, pred, what):
        want = {oid(r) for r in ids if pred(allts[r])}
        args = dict(args, metadataPrefix="oai_dc")
        if not want:
            st, h, b, root = oai(d, "verb=ListIdentifiers&" + urllib.parse.urlencode(args))
            assert errors(root) == ["noRecordsMatch"], (what, b[:400])
            return
        for verb in ("ListIdentifiers", "ListRecords")[:1 + (len(what) % 2)]:
            got = set(header_map(walk(d, verb, args)[0]))
            assert got == want, (what, verb, sorted(got ^ want))

    for k in (0, 1, 17, len(ids) - 1):
        t = allts[ids[k]]
        d0 = t - t % 86400
        check({"from": iso(t)}, lambda x: x >= t, "from exact %d" % k)
        check({"from": iso(t + 1)}, lambda x: x > t, "from +1s %d" % k)
        check({"until": iso(t)}, lambda x: x <= t, "until exact %d" % k)
        check({"until": iso(t - 1)}, lambda x: x < t, "until -1s %d" % k)
        check({"from": iso(t), "until": iso(t)}, lambda x: x == t, "from=until %d" % k)
        check({"from": day(t)}, lambda x: x >= d0, "from day %d" % k)
        check({"until": day(t)}, lambda x: x < d0 + 86400, "until day %d" % k)
        check({"from": day(t), "until": day(t)},
              lambda x: d0 <= x < d0 + 86400, "from=until day %d" % k)
    t1, t2 = allts[ids[3]], allts[ids[20]]
    check({"from": day(t1), "until": day(t2)},
          lambda x: t1 - t1 % 86400 <= x < t2 - t2 % 86400 + 86400, "day range")
    check({"from": iso(t1), "until": iso(t2)}, lambda x: t1 <= x <= t2, "second range")
    # a set and dates together
    spec = "region:bulgaria"
    mem = members(spec)
    want = {oid(r) for r in mem if t1 <= allts[r] <= t2}
    got = set(header_map(walk(d, "ListIdentifiers", {"metadataPrefix": "marc21", "set": spec,
                                                     "from": iso(t1), "until": iso(t2)})[0]))
    assert got == want, sorted(got ^ want)


@test
def test_get_record_all_formats():
    d = shared()
    recs = _shared["recs"]
    for rid in sorted(recs)[::4]:
        for fmt in FORMATS:
            h, md = get_header(d, rid, fmt)
            assert h.findtext("o:identifier", namespaces=NS) == oid(rid)
            assert md is not None and len(md) == 1
    # a tombstone has no metadata in any format
    for fmt in FORMATS:
        h, md = get_header(d, TOMB_ID, fmt)
        assert h.get("status") == "deleted" and md is None


if not HAVE_STANDARDS:
    skip("schema validation of OAI-PMH bodies: %s not found" % STANDARDS)
run()
