#!/usr/bin/python3
"""Sets are a closed list in serve too: a record naming a set spec that is
not configured is refused like any invalid record (left out, its last good
version kept, the reason in the log with pubfeed check's wording); a
configured parent does not admit its children; SIGHUP with the set added
takes the record in; "open-sets yes" opts out."""
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pf import Daemon, mkdtemp, run, test  # noqa: E402
from lxml import etree  # noqa: E402

OAI = "{http://www.openarchives.org/OAI/2.0/}"

NSR = "https://pubfeed.org/ns/record/1"
REC = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="%s" id="%s" type="report">
  <title>%s</title>
  <issued>2020-01-01</issued>
  <language>en</language>
  <set>%s</set>
</record>
"""
SETS = ('set topic "Topics"\nset topic:smuggling "Smuggling"\n'
        'set region:bulgaria "Bulgaria"\n')


def write(d, name, rid, title, spec):
    tmp = os.path.join(d.records, "." + name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(REC % (NSR, rid, title, spec))
    os.rename(tmp, os.path.join(d.records, name))


def closed(d, sets, open_sets="no"):
    """The daemon's configuration with exactly these sets; pf.BASE_CONF's
    own (and its "open-sets yes", for the sample collection) left out."""
    d.write_conf(sets)
    with open(d.conf) as f:
        text = f.read()
    text = text.replace("open-sets yes", "open-sets " + open_sets)
    text = text.replace('set topic "Topics" "Everything by topic"\n', "", 1)
    text = text.replace('set region:bulgaria "Bulgaria"\n', "", 1)
    with open(d.conf, "w") as f:
        f.write(text)


def ids(d):
    st, _, b = d.oai("verb=ListIdentifiers&metadataPrefix=oai_dc")
    assert st == 200, b
    return {h.findtext(OAI + "identifier").split(":", 2)[2]
            for h in etree.fromstring(b).iter(OAI + "header")}


def new_daemon():
    d = Daemon(records=mkdtemp())
    closed(d, SETS)
    write(d, "a.xml", "a", "Good", "topic:smuggling")
    write(d, "b.xml", "b", "Typo", "topic:smugling")
    write(d, "c.xml", "c", "Child of a configured parent", "topic:cybercrime")
    write(d, "p.xml", "p", "Parent", "topic")
    return d.start()


@test
def test_unconfigured_set_is_refused():
    d = new_daemon()
    assert ids(d) == {"a", "p"}, ids(d)
    log = d.logtext()
    assert ("b.xml:6: set 'topic:smugling' is not configured: did you mean "
            "'topic:smuggling'?") in log, log
    assert "set 'topic:cybercrime' is not configured" in log, log
    st, _, body = d.get("/status")
    assert st == 200 and b"2 invalid files" in body, body
    st, _, b = d.oai("verb=ListSets")
    assert b"topic:smugling" not in b and b"topic:cybercrime" not in b, b
    d.stop()


@test
def test_last_good_version_stays():
    d = new_daemon()
    write(d, "a.xml", "a", "Renamed", "topic:smugglin")
    d.wait_for(lambda: "topic:smugglin' is not configured" in d.logtext(),
               what="the refusal in the log")
    st, _, b = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier="
                     "oai:research.example.org:a")
    assert st == 200 and b"Good" in b and b"Renamed" not in b, b
    d.stop()


@test
def test_sighup_with_the_set_admits_the_record():
    d = new_daemon()
    closed(d, SETS + 'set topic:cybercrime "Cybercrime"\n')
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: "c" in ids(d), timeout=20, what="c after SIGHUP")
    assert ids(d) == {"a", "c", "p"}, ids(d)
    # and a set taken out of the configuration refuses its records again,
    # keeping the version on line
    closed(d, 'set topic "Topics"\nset topic:cybercrime "Cybercrime"\n')
    d.signal(signal.SIGHUP)
    d.wait_for(lambda: "'topic:smuggling' is not configured" in d.logtext(),
               timeout=20, what="a refused after SIGHUP")
    assert "a" in ids(d)
    d.stop()


@test
def test_open_sets_opts_out():
    d = Daemon(records=mkdtemp())
    closed(d, SETS, open_sets="yes")
    write(d, "b.xml", "b", "Typo", "topic:smugling")
    d.start()
    assert ids(d) == {"b"}, ids(d)
    d.stop()


run()
