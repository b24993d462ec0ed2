#!/usr/bin/python3
"""Legacy data, end to end: records issued in a year or a month only, with
ISO 639-2/3 language codes and their children in any order.  Every OAI-PMH
format keeps the precision ("2008", "2008-04") and writes the language in its
own code list (ISO 639-3 for oai_dc and OpenAIRE, MARC codes in 008/041, BCP
47 for DataCite); the feeds, which need an instant, get the first instant of
the period.  Every OAI-PMH body is validated against the official schemas
when the standards kit is there."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pf import Daemon, HAVE_STANDARDS, mkdtemp, run, test, validate_oai  # noqa: E402
from lxml import etree  # noqa: E402

OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {"o": OAI, "m": "http://www.loc.gov/MARC21/slim",
      "dc": "http://purl.org/dc/elements/1.1/",
      "dcite": "http://datacite.org/schema/kernel-4",
      "oaire": "http://namespace.openaire.eu/schema/oaire/",
      "datacite": "http://datacite.org/schema/kernel-4",
      "a": "http://www.w3.org/2005/Atom"}
REPO = "research.example.org"
NSR = "https://pubfeed.org/ns/record/1"

# issued to the year, Bulgarian and Norwegian in ISO 639-2, children out of
# the documented order (language and set first, email before affiliation)
YEAR = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="%s" id="2008-legacy-year" type="report">
  <language>bul</language>
  <language>nor</language>
  <set>topic</set>
  <issued>2008</issued>
  <access>open</access>
  <creator><person><email>a@example.org</email>
    <affiliation>Centre</affiliation><family>Petrova</family></person></creator>
  <title>Контрабанда през границата</title>
  <publisher>Centre</publisher>
  <identifier type="doi">10.1234/legacy-2008</identifier>
</record>
""" % NSR
MONTH = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="%s" id="2008-legacy-month" type="report" xml:lang="nob">
  <title>Smugling over grensen</title>
  <issued>2008-04</issued>
  <language>nob</language>
  <access>open</access>
  <link rel="landing" href="https://research.example.org/2008-04"/>
</record>
""" % NSR
EVENT = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="%s" id="2008-legacy-event" type="event">
  <event><place>Sofia</place><start>2008-04</start></event>
  <title>Spring seminar</title>
  <language>eng</language>
  <issued>2008-03</issued>
</record>
""" % NSR

_d = {}


def daemon():
    if "d" in _d:
        return _d["d"]
    src = mkdtemp()
    for name, body in (("year.xml", YEAR), ("month.xml", MONTH),
                       ("event.xml", EVENT)):
        with open(os.path.join(src, name), "w", encoding="utf-8") as f:
            f.write(body)
    d = Daemon(records=src).start()
    _d["d"] = d
    return d


def metadata(rid, fmt):
    st, _, b = daemon().oai("verb=GetRecord&metadataPrefix=%s&identifier=oai:%s:%s"
                            % (fmt, REPO, rid))
    assert st == 200, (st, b)
    root = etree.fromstring(b)
    assert root.find("o:error", NS) is None, b
    if HAVE_STANDARDS and fmt != "marc21":
        validate_oai(b, "oai-pmh-openaire.xsd" if fmt == "oai_openaire"
                     else "oai-pmh-all.xsd")
    return root.find("o:GetRecord/o:record/o:metadata", NS)[0]


@test
def test_all_records_served():
    st, _, b = daemon().oai("verb=ListIdentifiers&metadataPrefix=oai_dc")
    assert st == 200
    ids = sorted(x.text.split(":", 2)[2] for x in
                 etree.fromstring(b).iter("{%s}identifier" % OAI))
    assert ids == ["2008-legacy-event", "2008-legacy-month", "2008-legacy-year"], ids


@test
def test_oai_dc_precision_and_languages():
    md = metadata("2008-legacy-year", "oai_dc")
    assert md.findtext("dc:date", namespaces=NS) == "2008"
    assert [x.text for x in md.findall("dc:language", NS)] == ["bul", "nor"]
    md = metadata("2008-legacy-month", "oai_dc")
    assert md.findtext("dc:date", namespaces=NS) == "2008-04"
    assert [x.text for x in md.findall("dc:language", NS)] == ["nob"]
    md = metadata("2008-legacy-event", "oai_dc")
    assert md.findtext("dc:date", namespaces=NS) == "2008-04"


@test
def test_datacite_precision():
    md = metadata("2008-legacy-year", "oai_datacite")
    dates = {x.get("dateType"): x.text for x in md.iter("{%s}date" % NS["dcite"])}
    assert dates["Issued"] == "2008", dates
    assert md.findtext(".//dcite:publicationYear", namespaces=NS) == "2008"
    assert md.findtext(".//dcite:language", namespaces=NS) == "bg"
    md = metadata("2008-legacy-month", "oai_datacite")
    dates = {x.get("dateType"): x.text for x in md.iter("{%s}date" % NS["dcite"])}
    assert dates["Issued"] == "2008-04", dates
    md = metadata("2008-legacy-event", "oai_datacite")
    dates = {x.get("dateType"): x.text for x in md.iter("{%s}date" % NS["dcite"])}
    assert dates["Issued"] == "2008-03" and dates["Other"] == "2008-04", dates


@test
def test_marc_languages_and_dates():
    md = metadata("2008-legacy-year", "marc21")
    f008 = md.findtext("m:controlfield[@tag='008']", namespaces=NS)
    assert f008[7:11] == "2008" and f008[35:38] == "bul", f008
    assert [x.text for x in md.findall(
        "m:datafield[@tag='041']/m:subfield[@code='a']", NS)] == ["bul", "nor"]
    c = md.findtext("m:datafield[@tag='264']/m:subfield[@code='c']", namespaces=NS)
    assert c is not None and "2008" in c, c
    md = metadata("2008-legacy-month", "marc21")
    f008 = md.findtext("m:controlfield[@tag='008']", namespaces=NS)
    assert f008[7:11] == "2008" and f008[35:38] == "nob", f008


@test
def test_openaire_iso639_3_and_precision():
    md = metadata("2008-legacy-year", "oai_openaire")
    assert [x.text for x in md.findall("dc:language", NS)] == ["bul", "nor"]
    dates = {x.get("dateType"): x.text for x in md.iter("{%s}date" % NS["datacite"])}
    assert dates["Issued"] == "2008", dates
    md = metadata("2008-legacy-month", "oai_openaire")
    dates = {x.get("dateType"): x.text for x in md.iter("{%s}date" % NS["datacite"])}
    assert dates["Issued"] == "2008-04", dates


@test
def test_feeds_first_instant():
    d = daemon()
    st, _, b = d.get("/feed.atom")
    assert st == 200
    pub = {e.findtext("a:title", namespaces=NS): e.findtext("a:published", namespaces=NS)
           for e in etree.fromstring(b).findall("a:entry", NS)}
    assert pub["Контрабанда през границата"] == "2008-01-01T00:00:00Z", pub
    assert pub["Smugling over grensen"] == "2008-04-01T00:00:00Z", pub
    langs = {e.findtext("a:title", namespaces=NS): e.get("{http://www.w3.org/XML/1998/namespace}lang")
             for e in etree.fromstring(b).findall("a:entry", NS)}
    assert langs["Контрабанда през границата"] == "bg", langs
    assert langs["Smugling over grensen"] == "nb", langs
    st, _, b = d.get("/feed.json")
    assert st == 200
    items = {i["title"]: i for i in json.loads(b)["items"]}
    assert items["Smugling over grensen"]["date_published"] == "2008-04-01T00:00:00Z"
    assert items["Smugling over grensen"]["language"] == "nb"
    st, _, b = d.get("/feed.rss")
    assert st == 200 and b"Tue, 01 Jan 2008 00:00:00 GMT" in b, b[:2000]


run()
