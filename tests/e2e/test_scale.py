"""Several instances: one primary owning the state directory, a replica
(serve --replica) reading it.  A harvester switching between them sees one
consistent repository: same datestamps, resumption tokens valid on both."""
import os
import re
import signal
import time

from pf import Daemon, run, test, validate_oai

KEY = 'oai-token-key "shared-secret-for-every-instance"'
NS = b"research.example.org"
SAMPLE = "briefs/2011-brief-anti-corruption-customs.xml"
SAMPLE_ID = "2011-brief-anti-corruption-customs"
OLD_TITLE = "Tackling Corruption in Customs"


def headers(body):
    """[(identifier, datestamp, deleted)] of a ListIdentifiers/ListRecords page."""
    out = []
    for m in re.finditer(rb'<header( status="deleted")?>\s*<identifier>([^<]*)</identifier>'
                         rb'\s*<datestamp>([^<]*)</datestamp>', body):
        out.append((m.group(2).decode(), m.group(3).decode(), bool(m.group(1))))
    return out


def token(body):
    m = re.search(rb'<resumptionToken[^>]*>([^<]*)</resumptionToken>', body)
    return m.group(1).decode() if m else ""


def harvest(instances, verb="ListIdentifiers"):
    """Harvest, asking the instances in turn for successive pages."""
    seen, i = [], 0
    st, _, body = instances[0].oai("verb=%s&metadataPrefix=oai_dc" % verb)
    while True:
        assert st == 200 and b"<error" not in body, body[:600]
        validate_oai(body)
        seen += headers(body)
        t = token(body)
        if not t:
            return seen
        i += 1
        st, _, body = instances[i % len(instances)].oai(
            "verb=%s&resumptionToken=%s" % (verb, t))


def get_record(d, ident):
    st, _, body = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:%s:%s"
                        % (NS.decode(), ident))
    assert st == 200
    h = headers(body)
    return (h[0], body) if h else (None, body)


def pair():
    """A primary and a replica over the same records and state."""
    p = Daemon(extra=KEY)
    r = Daemon(records=p.records, copy=False, state=p.state,
               extra=KEY, args=["--replica"])
    return p, r


def state_files(d):
    out = {}
    for name in sorted(os.listdir(d.state)):
        st = os.stat(os.path.join(d.state, name))
        out[name] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


@test
def alternate_harvest_across_instances():
    p, r = pair()
    p.start()
    time.sleep(1.1)     # a replica stamping on its own would differ now
    r.start()
    one = harvest([p])
    assert len(one) == 34 and len({h[0] for h in one}) == 34
    assert harvest([r]) == one
    assert harvest([p, r]) == one
    assert harvest([r, p]) == one
    recs = harvest([r, p], "ListRecords")
    assert recs == one
    for d in (p, r):
        st, _, body = d.oai("verb=Identify")
        assert st == 200
    e = [re.search(rb"<earliestDatestamp>([^<]*)<", d.oai("verb=Identify")[2]).group(1)
         for d in (p, r)]
    assert e[0] == e[1]
    r.stop()
    p.stop()


@test
def replica_follows_the_primary_and_never_writes():
    p, r = pair()
    p.start()
    before, _ = get_record(p, SAMPLE_ID)
    assert p.stop() == 0
    files = state_files(p)
    assert "pubfeed.db" in files
    r.start()
    assert get_record(r, SAMPLE_ID)[0] == before
    # a new record and a changed one, while the primary is down
    path = os.path.join(r.records, SAMPLE)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(r.records, "briefs", "new-brief.xml"), "w", encoding="utf-8") as f:
        f.write(text.replace('id="%s"' % SAMPLE_ID, 'id="new-brief"', 1))
    time.sleep(1.1)     # datestamps have one-second granularity
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(OLD_TITLE, "Customs Corruption Revisited", 1))
    r.signal(signal.SIGHUP)
    r.wait_for(lambda: r.logtext().count("snapshot") >= 2, what="replica rebuild")
    # not stamped by the primary yet: held back / previous version kept
    h, body = get_record(r, "new-brief")
    assert h is None and b"idDoesNotExist" in body, body[:500]
    h, body = get_record(r, SAMPLE_ID)
    assert h == before and OLD_TITLE.encode() in body
    assert len(harvest([r])) == 34
    assert state_files(p) == files, "the replica wrote to the primary's state"
    # the primary stamps both; the replica takes its datestamps on its next rebuild
    p.start()
    new_p, _ = get_record(p, "new-brief")
    changed_p, body = get_record(p, SAMPLE_ID)
    assert new_p is not None and changed_p[1] > before[1]
    assert b"Customs Corruption Revisited" in body
    r.signal(signal.SIGHUP)
    r.wait_for(lambda: get_record(r, "new-brief")[0] is not None, what="replica sees new-brief")
    assert get_record(r, "new-brief")[0] == new_p
    changed_r, body = get_record(r, SAMPLE_ID)
    assert changed_r == changed_p and b"Customs Corruption Revisited" in body
    # a deletion: the tombstone carries the primary's datestamp everywhere
    os.unlink(os.path.join(r.records, "briefs", "new-brief.xml"))
    p.signal(signal.SIGHUP)
    p.wait_for(lambda: (get_record(p, "new-brief")[0] or (0, 0, 0))[2], what="tombstone")
    tomb = get_record(p, "new-brief")[0]
    r.signal(signal.SIGHUP)
    r.wait_for(lambda: get_record(r, "new-brief")[0] == tomb, what="replica tombstone")
    assert harvest([p, r]) == harvest([r, p]) == harvest([p])
    assert len(harvest([p])) == 35
    r.stop()
    p.stop()


@test
def replica_without_primary_state_serves_nothing_and_creates_nothing():
    d = Daemon(extra=KEY, args=["--replica"])
    os.makedirs(d.state)
    d.start()
    assert os.listdir(d.state) == []
    st, _, body = d.oai("verb=ListIdentifiers&metadataPrefix=oai_dc")
    assert st == 200 and b"noRecordsMatch" in body
    st, _, body = d.get("/feed.atom")
    assert st == 200 and b"<entry" not in body
    assert d.stop() == 0
    assert os.listdir(d.state) == []


run()
