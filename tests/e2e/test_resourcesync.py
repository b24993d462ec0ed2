"""End-to-end: ResourceSync (ANSI/NISO Z39.99-2017) as a destination sees it.

Every document reachable from /.well-known/resourcesync is parsed with lxml
as a sitemap with the rs: namespace, the links are walked end to end
(description -> capability list -> resource list / change list, indexes ->
sublists and back up), and an incremental sync is run: a baseline from the
Resource List, then a record changed, one added and one deleted, then the
Change List applied, after which the destination's copy equals a fresh
Resource List.  Also: a HEAD on /oai?... answers like the GET, without a
body.
"""
import gzip
import os
import re
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from lxml import etree  # noqa: E402

from pf import Daemon, run, test  # noqa: E402

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
RS = "{http://www.openarchives.org/rs/terms/}"
PAGE = 25       # resourcesync-page-size: the samples need several sublists
FORMATS = ("oai_dc", "marc21", "oai_datacite", "oai_openaire")


def fetch(d, url):
    assert url.startswith(d.base), url
    st, h, body = d.get(url[len(d.base):])
    assert st == 200, (url, st)
    assert h["content-type"] == "application/xml", (url, h)
    doc = etree.fromstring(body)
    assert doc.tag in (SM + "urlset", SM + "sitemapindex"), (url, doc.tag)
    return doc


def md(el):
    m = el.findall(RS + "md")
    assert len(m) == 1, etree.tostring(el)
    return m[0]


def links(el):
    return {ln.get("rel"): ln.get("href") for ln in el.findall(RS + "ln")}


def urls(doc):
    return doc.findall(SM + "url")


def walk_list(d, url, capability, cap_url):
    """Every <url> of a list, through its index if it has one."""
    doc = fetch(d, url)
    assert md(doc).get("capability") == capability
    assert links(doc)["up"] == cap_url
    if doc.tag == SM + "urlset":
        assert len(urls(doc)) <= PAGE
        return doc, urls(doc)
    out = []
    subs = doc.findall(SM + "sitemap")
    assert len(subs) >= 2, "an index of one sublist"
    for i, sm in enumerate(subs):
        loc = sm.findtext(SM + "loc")
        assert md(sm).get("capability") == capability
        sub = fetch(d, loc)
        assert sub.tag == SM + "urlset"
        assert md(sub).get("capability") == capability
        assert links(sub) == {"up": cap_url, "index": url}, links(sub)
        u = urls(sub)
        # at most PAGE each, cut where the items say (rs.h), not every PAGE
        assert 1 <= len(u) <= PAGE, (loc, len(u))
        if capability == "changelist":
            assert md(sub).get("from") == md(sm).get("from")
            assert md(sub).get("until") == md(sm).get("until")
            if i + 1 == len(subs):
                assert md(sub).get("until") is None, "the newest is open"
        out += u
    assert len(subs) >= -(-len(out) // PAGE), (len(subs), len(out))
    return doc, out


def discover(d):
    """(resource list url, change list url) from the well-known URI."""
    desc = fetch(d, d.base + "/.well-known/resourcesync")
    assert md(desc).get("capability") == "description"
    caps = urls(desc)
    assert len(caps) == 1
    cap_url = caps[0].findtext(SM + "loc")
    assert md(caps[0]).get("capability") == "capabilitylist"
    cap = fetch(d, cap_url)
    assert md(cap).get("capability") == "capabilitylist"
    assert links(cap)["up"] == d.base + "/.well-known/resourcesync"
    got = {md(u).get("capability"): u.findtext(SM + "loc") for u in urls(cap)}
    assert set(got) == {"resourcelist", "changelist"}, got
    return cap_url, got["resourcelist"], got["changelist"]


def state(entries):
    """url -> what a destination keeps of a resource."""
    out = {}
    for u in entries:
        m = md(u)
        loc = u.findtext(SM + "loc")
        assert loc not in out, "listed twice: " + loc
        out[loc] = (u.findtext(SM + "lastmod"), m.get("type"),
                    m.get("length"), links(u).get("describedby"))
    return out


def baseline(d):
    cap_url, rl, cl = discover(d)
    doc, entries = walk_list(d, rl, "resourcelist", cap_url)
    return md(doc).get("at"), state(entries)


def edit(d, name, fn):
    path = os.path.join(d.records, name)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tmp = os.path.join(d.records, ".edit.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(fn(text))
    os.replace(tmp, path)


def with_fulltext(d):
    names = sorted(os.path.relpath(os.path.join(top, f), d.records)
                   for top, _, fs in os.walk(d.records)
                   for f in fs if f.endswith(".xml"))
    out = []
    for n in names:
        with open(os.path.join(d.records, n), encoding="utf-8") as f:
            if 'rel="fulltext"' in f.read():
                out.append(n)
    return out


def record_id(d, name):
    with open(os.path.join(d.records, name), encoding="utf-8") as f:
        return re.search(r'<record [^>]*id="([^"]+)"', f.read()).group(1)


@test
def documents_walk_end_to_end_and_match_oai():
    d = Daemon(extra="resourcesync-page-size %d\n" % PAGE).start()
    at, res = baseline(d)
    # every live record's metadata, per format it is offered in, and its
    # full texts; the GetRecord URLs answer with the datestamp as lastmod
    recs = pf.source_records(d.records)
    meta = [u for u in res if "verb=GetRecord" in u]
    dc = {u for u in meta if u.endswith("metadataPrefix=oai_dc")}
    assert len(dc) == len(recs), (len(dc), len(recs))
    want = sum(3 + (1 if r["openaire"] else 0) for r in recs.values())
    assert len(meta) == want, (len(meta), want)
    for u in sorted(meta)[::7]:
        doc = etree.fromstring(d.get(u[len(d.base):])[2])
        ds = doc.findtext(".//{http://www.openarchives.org/OAI/2.0/}datestamp")
        assert ds == res[u][0], (u, ds, res[u])
        assert doc.find(".//{http://www.openarchives.org/OAI/2.0/}error") is None
    files = {u: v for u, v in res.items() if u not in meta}
    assert files, "no full text listed"
    for u, (lastmod, typ, length, by) in files.items():
        assert typ and int(length) > 0, (u, typ, length)
        assert by in dc, (u, by)
    # served from memory like the feeds: gzip, strong ETag, 304
    st, h, body = d.get("/resourcesync/changelist.xml",
                        {"Accept-Encoding": "gzip"})
    assert st == 200 and h["content-encoding"] == "gzip"
    plain = d.get("/resourcesync/changelist.xml")[2]
    assert gzip.decompress(body) == plain
    st, h2, _ = d.get("/resourcesync/changelist.xml",
                      {"If-None-Match": h["etag"], "Accept-Encoding": "gzip"})
    assert st == 304 and h2["etag"] == h["etag"]
    d.stop()


def apply_changes(d, since, copy, seen):
    """Apply every change at or after since; returns the ids touched."""
    cap_url, _, cl = discover(d)
    _, entries = walk_list(d, cl, "changelist", cap_url)
    times = [md(u).get("datetime") for u in entries]
    assert times == sorted(times), "not in time order"
    described = {}
    for u in entries:
        m = md(u)
        if m.get("datetime") < since:
            continue
        loc = u.findtext(SM + "loc")
        ch = m.get("change")
        assert ch in ("created", "updated", "deleted"), ch
        seen.append((loc, ch))
        if ch == "deleted":
            assert u.findtext(SM + "lastmod") is None
            copy.pop(loc, None)
            if loc.endswith("metadataPrefix=oai_dc"):
                described.setdefault(loc, set())
            continue
        copy[loc] = (u.findtext(SM + "lastmod"), m.get("type"),
                     m.get("length"), links(u).get("describedby"))
        if loc.endswith("metadataPrefix=oai_dc"):
            described.setdefault(loc, set())
        by = links(u).get("describedby")
        if by is not None:
            described.setdefault(by, set()).add(loc)
    # a full text goes with the metadata that described it (rs.h)
    for loc in list(copy):
        by = copy[loc][3]
        if by in described and loc not in described[by]:
            del copy[loc]


@test
def incremental_sync_ends_equal_to_the_source():
    d = Daemon(extra="resourcesync-page-size %d\n" % PAGE).start()
    at, copy = baseline(d)
    ft = with_fulltext(d)
    changed, gone = ft[0], ft[1]
    changed_id, gone_id = record_id(d, changed), record_id(d, gone)
    # change the title and move the full text; delete one; add one
    edit(d, changed, lambda t: re.sub(
        r'(<link rel="fulltext" href=")[^"]+', r"\1https://research.example.org/files/moved.pdf",
        re.sub(r"(<title[^>]*>)", r"\1Revised: ", t, count=1), count=1))
    os.remove(os.path.join(d.records, gone))
    with open(os.path.join(d.records, ft[2]), encoding="utf-8") as f:
        text = f.read()
    added_id = "e2e-rs-added"
    text = re.sub(r'(<record [^>]*id=")[^"]+', r"\1" + added_id, text, count=1)
    n = iter(range(100))
    text = re.sub(r'(<link rel="fulltext" href=")[^"]+', lambda m: m.group(1) +
                  "https://research.example.org/files/added%d.pdf" % next(n), text)
    with open(os.path.join(d.records, "e2e-rs-added.xml"), "w", encoding="utf-8") as f:
        f.write(text)
    d.signal(signal.SIGHUP)

    def live():
        st, _, b = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier="
                         "oai:research.example.org:" + gone_id)
        st2, _, b2 = d.oai("verb=GetRecord&metadataPrefix=oai_dc&identifier="
                           "oai:research.example.org:" + added_id)
        return b'status="deleted"' in b and b"idDoesNotExist" not in b2
    d.wait_for(live, what="the three changes live")
    seen = []
    apply_changes(d, at, copy, seen)
    _, source = baseline(d)
    assert copy == source, (sorted(set(copy) ^ set(source)))
    kinds = {}
    for loc, ch in seen:
        kinds.setdefault(ch, set()).add(loc)
    ident = "identifier=oai:research.example.org:"
    assert any(ident + gone_id + "&" in u for u in kinds["deleted"]), kinds
    # "created" only for what the first import found: within its second
    # a change is stamped like it
    fresh = kinds.get("updated", set()) | kinds.get("created", set())
    assert any(ident + changed_id + "&" in u for u in fresh), kinds
    assert any(ident + added_id + "&" in u for u in fresh), kinds
    assert "https://research.example.org/files/moved.pdf" in source
    assert "https://research.example.org/files/added0.pdf" in source
    # the deletion stays in the Change List after a restart (the state)
    d.stop()
    d.start()
    seen2 = []
    apply_changes(d, at, copy, seen2)
    assert any(ident + gone_id + "&" in u and ch == "deleted"
               for u, ch in seen2), seen2
    assert copy == baseline(d)[1]
    d.stop()


@test
def head_on_oai_answers_like_get_without_a_body():
    d = Daemon().start()
    for q in ("verb=Identify", "verb=ListMetadataFormats",
              "verb=ListRecords&metadataPrefix=oai_dc", "verb=Nonsense"):
        st, h, body = d.get("/oai?" + q)
        hst, hh, hbody = d.request("HEAD", "/oai?" + q)
        assert (hst, hbody) == (st, b""), (q, hst, hbody[:200])
        for k in ("content-type", "cache-control", "vary"):
            assert hh.get(k) == h.get(k), (q, k, hh, h)
        # same length: the responseDate has a fixed width
        assert hh["content-length"] == str(len(body)), (q, hh, len(body))
    d.stop()


if __name__ == "__main__":
    run()
