"""End-to-end: one feed per language (README "URLs", /lang/LL/...).

One daemon serves the sample collection (config/records: English, Bulgarian
and Norwegian Bokmal records, many with translated titles and abstracts)
with feed-entries 50, so every record is in every current document.  The
languages are read from the source records independently of pubfeed (the
tag rule: primary subtag, lower case, "no" read as "nb"), and for every
language, the whole collection and every set:

- Atom, RSS and JSON Feed documents exist, are linked to each other with
  rel="related" hreflang (Atom's only alternate stays the HTML page), are
  served with gzip, a strong ETag and 304;
- Atom and RSS pass feedparser (bozo == 0), Atom passes atom.rng, and both
  pass the W3C Feed Validator with no error and no warning (the one allowed
  warning is test_validator.py's: DuplicateUpdated where the records
  themselves share the date); JSON Feed passes the JSON Feed 1.1 schema;
- every entry's title and summary are the record's text in that language
  when it has one, else its own, and the xml:lang in scope (Atom, RSS) or
  the item's language (JSON Feed) says which.
"""
import collections
import concurrent.futures
import glob
import gzip
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

import feedparser  # noqa: E402
import jsonschema  # noqa: E402
from lxml import etree  # noqa: E402

from pf import Daemon, ROOT, mkdtemp, run, shared_for_real, skip, test, validate_atom  # noqa: E402

TOOLS = os.environ.get("PUBFEED_TOOLS",
                       os.path.join(ROOT, "..", "shared", "tools"))
VALIDATE = os.path.join(TOOLS, "feedvalidate")
SCHEMA = os.path.join(ROOT, "tests", "data", "jsonfeed-1.1.schema.json")
ATOM = "{http://www.w3.org/2005/Atom}"
R = "{https://pubfeed.org/ns/record/1}"
XL = "{http://www.w3.org/XML/1998/namespace}lang"
AUTHORITY = "research.example.org,2008"
DUP_UPDATED = "Two entries with the same value for atom:updated"
TYPES = {"atom": "application/atom+xml; charset=utf-8",
         "rss": "application/rss+xml; charset=utf-8",
         "json": "application/feed+json"}

_state = {}


def norm(s):
    return re.sub(r"[ \t\r\n]+", " ", s or "").strip(" ")


def feed_lang(tag):
    """The feed language of a tag, as README states the rule; None."""
    if not tag:
        return None
    p = tag.split("-")[0].lower()
    if not re.match(r"^[a-z]{2,3}$", p) or p in ("und", "mul", "zxx",
                                                  "mis"):
        return None
    return "nb" if p == "no" else p


def sources():
    recs = {}
    for path in glob.glob(os.path.join(ROOT, "config", "records", "**",
                                       "*.xml"), recursive=True):
        root = etree.parse(path).getroot()
        own = root.get(XL)

        def texts(name):
            return [(e.get(XL) or own, norm(e.text))
                    for e in root.findall(R + name)]
        d = root.findtext(R + "modified") or root.findtext(R + "issued")
        if len(d) == 10:
            d += "T00:00:00Z"
        sets = set()
        for s in root.findall(R + "set"):
            parts = norm(s.text).split(":")
            sets.update(":".join(parts[:i]) for i in
                        range(1, len(parts) + 1))
        recs["tag:%s:record/%s" % (AUTHORITY, root.get("id"))] = {
            "lang": own, "titles": texts("title"),
            "abstracts": texts("abstract"), "date": d, "sets": sets}
    return recs


def pick(texts, want, own):
    """The text a feed in language want shows: (lang, text) or None."""
    for lang, t in texts:
        if feed_lang(lang) == want:
            return lang, t
    for lang, t in texts:
        if lang and own and lang.lower() == own.lower():
            return lang, t
    return texts[0] if texts else None


def setup():
    if _state:
        return _state
    recs = sources()
    langs = set()
    for r in recs.values():
        for tag in [r["lang"]] + [l for l, _ in r["titles"] +
                                  r["abstracts"]]:
            if feed_lang(tag):
                langs.add(feed_lang(tag))
    sets = sorted(set().union(*(r["sets"] for r in recs.values())))
    d = Daemon(records=os.path.join(ROOT, "config", "records"), entries=50)
    d.start()
    docs = {}
    for lang in sorted(langs):
        for spec in [None] + sets:
            for ext in ("atom", "rss", "json"):
                path = "/lang/%s/%s.%s" % (
                    lang, "feed" if spec is None else "sets/" + spec, ext)
                st, h, body = d.get(path)
                assert st == 200, "%s: %d" % (path, st)
                assert h["content-type"] == TYPES[ext], (path, h)
                docs[path] = (lang, spec, ext, h, body)
    _state.update(d=d, recs=recs, langs=sorted(langs), sets=sets,
                  docs=docs)
    return _state


def in_scope(el, default):
    v = el.xpath("ancestor-or-self::*[@xml:lang][1]/@xml:lang")
    return v[0] if v else default


@test
def the_collection_has_its_three_languages():
    s = setup()
    assert s["langs"] == ["bg", "en", "nb"], s["langs"]
    # and none other is served
    st, _, _ = s["d"].get("/lang/fr/feed.atom")
    assert st == 404, st
    st, _, _ = s["d"].get("/lang/bg/archive/1.atom")
    assert st == 404, st
    assert len(s["docs"]) == 3 * 3 * (1 + len(s["sets"]))


@test
def language_versions_link_each_other():
    s = setup()
    base = s["d"].base
    for path, (lang, spec, ext, h, body) in s["docs"].items():
        others = [l for l in s["langs"] if l != lang]
        tail = "feed" if spec is None else "sets/" + spec
        want = {l: "%s/lang/%s/%s.%s" % (base, l, tail, ext)
                for l in others}
        if ext == "json":
            doc = json.loads(body)
            got = {x["language"]: x["feed_url"] for x in doc["_languages"]}
            assert got == want, (path, got)
            continue
        root = etree.fromstring(body)
        node = root if ext == "atom" else root.find("channel")
        links = node.findall(ATOM + "link")
        got = {l.get("hreflang"): l.get("href") for l in links
               if l.get("rel") == "related"}
        assert got == want, (path, got)
        alts = [l for l in links if l.get("rel") == "alternate"]
        if ext == "atom":
            assert [(l.get("type"), l.get("href")) for l in alts] == \
                [("text/html", base + "/")], (path, alts)
        else:
            assert [l.get("href") for l in alts] == [
                "%s/lang/%s/%s.atom" % (base, lang, tail)], path
    # the record-language feeds link every version
    st, _, body = s["d"].get("/sets/region:norway.atom")
    got = sorted(l.get("hreflang") for l in
                 etree.fromstring(body).findall(ATOM + "link")
                 if l.get("rel") == "related")
    assert got == s["langs"], got


@test
def feed_language_is_declared():
    s = setup()
    for path, (lang, spec, ext, h, body) in s["docs"].items():
        if ext == "json":
            assert json.loads(body)["language"] == lang, path
        elif ext == "atom":
            assert etree.fromstring(body).get(XL) == lang, path
        else:
            assert etree.fromstring(body).findtext(
                "channel/language") == lang, path


@test
def titles_and_summaries_are_in_the_feeds_language():
    s = setup()
    translated = collections.Counter()
    for path, (lang, spec, ext, h, body) in s["docs"].items():
        want_ids = {i for i, r in s["recs"].items()
                    if spec is None or spec in r["sets"]}
        got_ids = set()
        if ext == "json":
            for it in json.loads(body)["items"]:
                r = s["recs"][it["id"]]
                tl, tt = pick(r["titles"], lang, r["lang"])
                assert it["title"] == tt, (path, it["id"], it["title"])
                assert it["language"] == tl, (path, it["id"])
                ab = pick(r["abstracts"], lang, r["lang"])
                if ab:
                    assert it["summary"] == ab[1], (path, it["id"])
                got_ids.add(it["id"])
            assert got_ids == want_ids, path
            continue
        root = etree.fromstring(body)
        if ext == "atom":
            entries, tid, default = root.findall(ATOM + "entry"), \
                ATOM + "id", lang
            title, summary = ATOM + "title", ATOM + "summary"
        else:
            entries, tid, default = root.findall("channel/item"), "guid", \
                root.findtext("channel/language")
            title, summary = "title", "description"
        for e in entries:
            rid = e.findtext(tid)
            r = s["recs"][rid]
            tl, tt = pick(r["titles"], lang, r["lang"])
            t = e.find(title)
            assert t.text == tt, (path, rid, t.text, tt)
            assert in_scope(t, default) == tl, (path, rid, tl)
            if feed_lang(tl) == lang and feed_lang(r["lang"]) != lang:
                translated[lang] += 1
            ab = pick(r["abstracts"], lang, r["lang"])
            if ab:
                su = e.find(summary)
                assert su.text.endswith(ab[1]), (path, rid)
                assert in_scope(su, default) == ab[0], (path, rid)
            got_ids.add(rid)
        assert got_ids == want_ids, path
    # the sample records do carry translations: the check is not vacuous
    assert translated["bg"] > 0 and translated["nb"] > 0 and \
        translated["en"] > 0, translated
    print("translated titles shown (all documents): %s" %
          dict(sorted(translated.items())))


@test
def feedparser_and_atom_rng_read_every_version():
    s = setup()
    for path, (lang, spec, ext, h, body) in s["docs"].items():
        if ext == "json":
            continue
        fp = feedparser.parse(body)
        assert fp.bozo == 0, (path, fp.get("bozo_exception"))
        assert fp.entries, path
        assert fp.feed.get("language") == lang, (path, fp.feed.get(
            "language"))
        if ext == "atom":
            validate_atom(body)


@test
def json_versions_pass_the_json_feed_schema():
    s = setup()
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    v = jsonschema.Draft7Validator(schema,
                                   format_checker=jsonschema.FormatChecker())
    for path, (lang, spec, ext, h, body) in s["docs"].items():
        if ext != "json":
            continue
        doc = json.loads(body)
        errs = sorted(v.iter_errors(doc), key=str)
        assert not errs, (path, [e.message for e in errs[:5]])
        assert doc["feed_url"] == s["d"].base + path


@test
def every_version_passes_the_w3c_validator():
    if not os.path.isfile(VALIDATE):
        skip("W3C Feed Validator: %s not found" % VALIDATE)
        return
    s = setup()
    dates = {i: r["date"] for i, r in s["recs"].items()}
    tmp = mkdtemp()
    bad = []
    summary = collections.Counter()

    def one(item):
        path, (lang, spec, ext, h, body) = item
        f = os.path.join(tmp, path.strip("/").replace("/", "_"))
        with open(f, "wb") as fp:
            fp.write(body)
        p = subprocess.run(["/usr/bin/python3", VALIDATE, "--base",
                            s["d"].base + path, "--type",
                            h["content-type"], f],
                           capture_output=True, text=True, timeout=300)
        return path, ext, body, f, p

    to_check = [i for i in sorted(s["docs"].items()) if i[1][2] != "json"]
    # two at a time: the validator's start-up is most of its time
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        results = list(ex.map(one, to_check))
    for path, ext, body, f, p in results:
        summary[ext + " documents"] += 1
        found = 0
        for line in p.stdout.splitlines():
            if line == f + ": ok":
                continue
            m = re.match(r"^.*?:(\d+):(\d+): (error|warning): (.*)$", line)
            assert m, "unexpected validator output: %r\n%s" % (line,
                                                               p.stderr)
            found += 1
            if m.group(3) == "warning" and \
                    m.group(4).startswith(DUP_UPDATED) and \
                    ext == "atom" and shared_for_real(body, dates):
                summary["DuplicateUpdated in the records"] += 1
                continue
            summary[m.group(3) + "s"] += 1
            bad.append("%s:%s: %s" % (path, m.group(1), m.group(4)))
        assert p.returncode == (1 if found else 0), (path, p.stderr)
    print("validator summary, language versions: %s" %
          dict(sorted(summary.items())))
    assert not bad, "\n".join(bad)


@test
def versions_are_served_with_gzip_etag_and_304():
    s = setup()
    d = s["d"]
    for path in ("/lang/bg/feed.atom", "/lang/nb/sets/region:norway.rss",
                 "/lang/en/feed.json"):
        body = s["docs"][path][4]
        st, h, gz = d.get(path, headers={"Accept-Encoding": "gzip"})
        assert st == 200 and h.get("content-encoding") == "gzip", (path, h)
        assert gzip.decompress(gz) == body, path
        etag = h["etag"]
        assert etag.startswith('"'), etag
        st, h2, b = d.get(path, headers={"If-None-Match": etag,
                                         "Accept-Encoding": "gzip"})
        assert st == 304 and b == b"" and h2["etag"] == etag, (path, st)
        st, h3, b = d.get(path)
        assert st == 200 and b == body and h3["etag"].startswith('"'), path
        st, h4, b = d.get(path, headers={"If-None-Match": h3["etag"]})
        assert st == 304 and b == b"", (path, st)
        assert '<%s%s>; rel="self"' % (d.base, path) in \
            h.get("link", ""), (path, h.get("link"))


if __name__ == "__main__":
    run()
