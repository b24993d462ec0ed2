"""End-to-end: pubfeed import (CSL-JSON, RIS, CSV) into the records directory
of a running daemon, then the feeds and every OAI-PMH format carry what the
fixture says; and pubfeed new TYPE gives templates that pass check once
filled.  The fixtures (tests/data/import/) are read here by Python's own json
and csv modules and a small RIS reader, independently of the C readers."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from lxml import etree  # noqa: E402

from pf import (Daemon, PUBFEED, ROOT, mkdtemp, run, test,  # noqa: E402
                validate_atom, validate_oai)

DATA = os.path.join(ROOT, "tests", "data", "import")
FILES = {"csl-json": "publications.csl.json", "ris": "publications.ris",
         "csv": "publications.csv"}
OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
DCK = "{http://datacite.org/schema/kernel-4}"
A = "{http://www.w3.org/2005/Atom}"
# the one item with neither citation key nor DOI: its id is year + title,
# transliterated (Bulgarian streamlined system)
TITLE_ID = "2025-onlayn-verbuvane-za-trafik-na-hora"
WAIT = 20


def pubfeed(*args, stdin=None):
    e = dict(os.environ)
    e.pop("PUBFEED_CONF", None)
    p = subprocess.run([PUBFEED] + list(args), capture_output=True,
                       cwd=ROOT, env=e, timeout=60, input=stdin)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def slug_id(key, doi):
    if key:
        return key.lower()
    if doi:
        return "doi-" + re.sub(r"[^a-z0-9._]+", "-", doi.lower())
    return TITLE_ID


def item(key, doi, title, authors, date, isbns=(), extra_titles=(),
         start=None):
    """start: an event's first day, which oai_dc gives as its date."""
    return {"id": slug_id(key, doi), "title": title, "authors": authors,
            "date": date, "doi": doi, "isbns": list(isbns),
            "titles": [title] + list(extra_titles),
            "dc_date": start or date}


def iso(parts):
    return "-".join("%04d" % v if i == 0 else "%02d" % v
                    for i, v in enumerate(parts))


def read_csl(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out = []
    for o in data:
        key = o["id"] if "://" not in o["id"] else None
        authors = [a["literal"] if "literal" in a else
                   (a["family"], a["given"]) for a in o["author"]]
        date = iso(o["issued"]["date-parts"][0])
        start = iso(o["event-date"]["date-parts"][0]) \
            if "event-date" in o else None
        out.append(item(key, o.get("DOI"), o["title"], authors, date,
                        [o["ISBN"]] if "ISBN" in o else [], start=start))
    return out


def read_ris(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    out, cur = [], None
    for line in text.split("\r\n"):
        m = re.match(r"^([A-Z][A-Z0-9])  - ?(.*)$", line)
        if not m:
            continue
        tag, val = m.groups()
        if tag == "TY":
            cur = {"ty": val}
            continue
        if tag == "ER":
            authors = [tuple(a.split(", ", 1)) if ", " in a else a
                       for a in cur.get("AU", [])]
            date = cur["DA"][0].replace("/", "-") if "DA" in cur else \
                cur["PY"][0]
            sn = [s for s in cur.get("SN", []) if len(s) > 9]
            out.append(item(cur.get("ID", [None])[0],
                            cur.get("DO", [None])[0], cur["TI"][0],
                            authors, date, sn))
            cur = None
            continue
        cur.setdefault(tag, []).append(val)
    return out


def read_csv(path):
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            authors = [tuple(a.strip().split(", ", 1)) if "," in a else
                       a.strip() for a in row["authors"].split(";")]
            date = row["issued"]
            out.append(item(row["id"] or None, row["doi"] or None,
                            row["title"], authors, date,
                            [row["isbn"]] if row["isbn"] else [],
                            [row["title@en"]] if row["title@en"] else [],
                            start=row["event-start"] or None))
    return out


READERS = {"csl-json": read_csl, "ris": read_ris, "csv": read_csv}


def list_records(d, prefix):
    """id -> <metadata> element of every record ListRecords gives."""
    recs, q = {}, "verb=ListRecords&metadataPrefix=" + prefix
    while True:
        st, _, body = d.oai(q)
        assert st == 200, st
        validate_oai(body)
        root = etree.fromstring(body)
        err = root.find(OAI + "error")
        if err is not None:
            assert err.get("code") == "noRecordsMatch", etree.tostring(err)
            return recs
        for r in root.iter(OAI + "record"):
            rid = r.findtext(OAI + "header/" + OAI + "identifier")
            recs[rid.rsplit(":", 1)[-1]] = r.find(OAI + "metadata")
        tok = root.findtext(".//" + OAI + "resumptionToken")
        if not tok:
            return recs
        q = "verb=ListRecords&resumptionToken=" + tok


def dc_name(a):
    return a if isinstance(a, str) else "%s, %s" % a


def feed_name(a):
    return a if isinstance(a, str) else "%s %s" % (a[1], a[0])


def empty_daemon():
    records = os.path.join(mkdtemp(), "records")
    os.makedirs(records)
    return Daemon(records=records, copy=False, entries=100, page=7).start()


def import_round_trip(fmt):
    want = READERS[fmt](os.path.join(DATA, FILES[fmt]))
    assert len(want) >= 20, len(want)
    assert len({w["id"] for w in want}) == len(want)
    d = empty_daemon()
    rc, out, err = pubfeed("import", "-c", d.conf, "--from", fmt,
                           os.path.join(DATA, FILES[fmt]))
    assert rc == 0, (rc, out, err)
    assert "%d items: %d written, 0 unchanged, 0 failed" % (
        len(want), len(want)) in err, err
    # the one year-only date is kept as written: the record format takes
    # year and year-month dates, so there is nothing to warn about
    assert "warning" not in err, err
    written = sorted(f[:-4] for f in os.listdir(d.records))
    assert written == sorted(w["id"] for w in want), written
    assert not [f for f in os.listdir(d.records) if f.startswith(".")]

    def all_in_feed():
        st, _, body = d.get("/feed.atom")
        root = etree.fromstring(body)
        got = {e.findtext(A + "id").rsplit("/", 1)[-1]: e
               for e in root.iter(A + "entry")}
        return len(got) == len(want) and (body, got)
    body, entries = d.wait_for(all_in_feed, WAIT, "every item in the feed")
    validate_atom(body)
    for w in want:
        e = entries[w["id"]]
        assert e.findtext(A + "title") == w["title"], (w, e.findtext(A + "title"))
        names = [a.findtext(A + "name") for a in e.findall(A + "author")]
        assert names == [feed_name(a) for a in w["authors"]], (w, names)

    dc = list_records(d, "oai_dc")
    assert sorted(dc) == sorted(w["id"] for w in want), sorted(dc)
    for w in want:
        m = dc[w["id"]]
        titles = [t.text for t in m.iter(DC + "title")]
        assert titles == w["titles"], (w, titles)
        creators = [c.text for c in m.iter(DC + "creator")]
        assert creators == [dc_name(a) for a in w["authors"]], (w, creators)
        dates = [t.text for t in m.iter(DC + "date")]
        # a year-only date: the year, or its first day where the format
        # needs a day
        assert len(dates) == 1 and dates[0].startswith(w["dc_date"]), \
            (w, dates)
        ids = [t.text for t in m.iter(DC + "identifier")]
        if w["doi"]:
            assert "https://doi.org/" + w["doi"] in ids, (w, ids)
        for isbn in w["isbns"]:
            assert "urn:isbn:" + isbn in ids, (w, ids)

    dci = list_records(d, "oai_datacite")
    assert sorted(dci) == sorted(w["id"] for w in want), sorted(dci)
    for w in want:
        m = dci[w["id"]]
        assert [t.text for t in m.iter(DCK + "title")] == w["titles"], w
        assert [c.text for c in m.iter(DCK + "creatorName")] == \
            [dc_name(a) for a in w["authors"]], w
        assert m.findtext(".//" + DCK + "publicationYear") == w["date"][:4]
        ident = m.find(".//" + DCK + "identifier")
        if w["doi"]:
            assert ident.get("identifierType") == "DOI" and \
                ident.text == w["doi"], (w, etree.tostring(ident))
        # a book's ISBN is an alternate identifier, a chapter's that of
        # the book it is part of (a related identifier)
        text = etree.tostring(m, encoding="unicode")
        for isbn in w["isbns"]:
            assert ">%s<" % isbn in text, (w, text)

    # every other format: each record it disseminates names the title, the
    # authors' family names and the DOI
    st, _, body = d.oai("verb=ListMetadataFormats")
    prefixes = [p.text for p in etree.fromstring(body).iter(
        OAI + "metadataPrefix")]
    assert "oai_dc" in prefixes and "oai_datacite" in prefixes, prefixes
    byid = {w["id"]: w for w in want}
    for prefix in prefixes:
        if prefix in ("oai_dc", "oai_datacite"):
            continue
        for rid, m in list_records(d, prefix).items():
            text = etree.tostring(m, encoding="unicode")
            w = byid[rid]
            assert w["title"] in text.replace("&amp;", "&"), (prefix, rid)
            for a in w["authors"]:
                assert (a if isinstance(a, str) else a[0]) in text, \
                    (prefix, rid, a)
            if w["doi"]:
                assert w["doi"] in text, (prefix, rid)
    assert ".tmp" not in d.logtext(), d.logtext()[-2000:]
    return d


@test
def import_csl_json_into_running_daemon():
    import_round_trip("csl-json")


@test
def import_ris_into_running_daemon():
    import_round_trip("ris")


@test
def import_csv_into_running_daemon():
    import_round_trip("csv")


@test
def import_never_clobbers_without_update():
    d = import_round_trip("csv")
    src = os.path.join(DATA, FILES["csv"])
    # the same file again: every record unchanged, nothing rewritten
    rc, out, err = pubfeed("import", "--into", d.records, "--from", "csv",
                           src)
    assert rc == 0, (rc, err)
    assert "0 written, 22 unchanged, 0 failed" in err, err
    # a changed title: refused without --update, by position
    changed = os.path.join(mkdtemp(), "changed.csv")
    with open(src, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("csv-larsen2016book,book,Crime without Borders,",
                        "csv-larsen2016book,book,Crime without Borders "
                        "(2nd edition),", 1)
    with open(changed, "w", encoding="utf-8") as f:
        f.write(text)
    line = [i + 1 for i, l in enumerate(text.splitlines())
            if l.startswith("csv-larsen2016book,")][0]
    path = os.path.join(d.records, "csv-larsen2016book.xml")
    with open(path, "rb") as f:
        before = f.read()
    rc, out, err = pubfeed("import", "--into", d.records, "--from", "csv",
                           changed)
    assert rc == 1, (rc, err)
    assert "%s:%d: %s exists: not replaced (use --update to replace it)" % (
        changed, line, path) in err, err
    with open(path, "rb") as f:
        assert f.read() == before
    rc, out, err = pubfeed("import", "--into", d.records, "--from", "csv",
                           "--update", changed)
    assert rc == 0, (rc, err)
    assert "%s: updated" % path in out, out
    assert "1 written, 21 unchanged" in err, err

    def new_title():
        st, _, body = d.get("/feed.atom")
        return "Crime without Borders (2nd edition)" in body.decode()
    d.wait_for(new_title, WAIT, "the updated title in the feed")


@test
def import_reports_bad_items_and_imports_the_rest():
    tmp = mkdtemp()
    into = os.path.join(tmp, "records")
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w", encoding="utf-8") as f:
        f.write('id,type,title,authors,issued,language,doi\n'
                'good-one,report,A good report,"Bezlov, Tihomir",2019-05-14,en,\n'
                'bad-date,report,A bad date,,2019-13-01,en,\n'
                'no-title,report,,,2019-05-14,en,\n'
                '"multi\nline",report,"A title\nover two lines",,2020-01-02,bg,\n'
                'bad-type,pamphlet,Unknown type,,2019-05-14,en,\n'
                'extra,report,Too many cells,,2019-05-14,en,,surplus\n'
                'bad-url,report,A DOI that is not one,,2019-05-14,en,11.1/x\n'
                ',report,No language,,2019-05-14,,\n'
                'good-two,article,Второ заглавие,"Иванов, Иван",2021-02-03,bg,10.5555/x.1\n')
    rc, out, err = pubfeed("import", "--into", into, "--from", "csv", bad)
    assert rc == 1, (rc, err)
    # the row with line breaks in quoted cells spans lines 5 to 7
    for line, msg in ((3, "issued is not a date"), (4, "no title"),
                      (8, "type is not a record type: 'pamphlet'"),
                      (9, "row has 8 cells, the header 7"),
                      (10, "doi does not start with '10.'"),
                      (11, "no language")):
        assert re.search(r"^%s:%d: %s" % (re.escape(bad), line,
                                           re.escape(msg)), err, re.M), \
            (line, msg, err)
    assert "9 items: 3 written, 0 unchanged, 6 failed" in err, err
    assert sorted(os.listdir(into)) == ["good-one.xml", "good-two.xml",
                                       "multi-line.xml"], os.listdir(into)
    rc, out, err = pubfeed("check", into)
    assert rc == 0, (out, err)


@test
def import_reports_unreadable_files():
    tmp = mkdtemp()
    into = os.path.join(tmp, "records")
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('[{"type": "report", "title": "x"},\n  oops]\n')
    rc, out, err = pubfeed("import", "--into", into, "--from", "csl-json",
                           bad)
    assert rc == 1 and re.search(r"^%s:2:\d+: not CSL-JSON" % re.escape(bad),
                                 err, re.M), err
    rc, out, err = pubfeed("import", "--into", into, "--from", "csv",
                           os.path.join(DATA, FILES["ris"]))
    assert rc == 1 and "1: column 1: unknown column 'ty  - rprt'" in err, err
    rc, out, err = pubfeed("import", "--into", into, "--from", "bibtex",
                           bad)
    assert rc == 2 and "--from: expected" in err, err
    rc, out, err = pubfeed("import", "--into", into, bad)
    assert rc == 2 and "needs --from" in err, err


def fill(template, rtype):
    subst = {"@ID@": "new-" + rtype, "@LANGUAGE@": "en",
             "@TITLE@": "A &amp; B: what works", "@SUBTITLE@": "Notes",
             "@FAMILY@": "Bjørnstad", "@GIVEN@": "Eirik",
             "@ISSUED@": "2024-01-02", "@START@": "2024-03-12T09:00:00Z",
             "@END@": "2024-03-12T17:00:00Z", "@VENUE@": "Oslo",
             "@SUBJECT@": "smuggling", "@ABSTRACT@": "One.", "@PUBLISHER@":
             "CSD", "@SERIES@": "Reports", "@ISBN@": "978-954-477-123-4",
             "@DOI@": "10.1234/x", "@LANDING_URL@": "https://example.org/x"}
    # the way an editor would: sed over the file
    args = ["sed"]
    for k, v in subst.items():
        args += ["-e", "s|%s|%s|g" % (k, v.replace("&", "\\&"))]
    p = subprocess.run(args, input=template, capture_output=True, check=True)
    return p.stdout


@test
def new_templates_pass_check_once_filled():
    tmp = mkdtemp()
    types = ("report", "policy-brief", "working-paper", "book", "chapter",
             "article", "dataset", "presentation", "event", "news")
    for t in types:
        rc, out, err = pubfeed("new", t)
        assert rc == 0 and err == "", (t, rc, err)
        assert "<!--" in out and 'type="%s"' % t in out, out
        raw = os.path.join(tmp, "raw-%s.xml" % t)
        with open(raw, "w") as f:
            f.write(out)
        rc, _, err = pubfeed("check", raw)
        assert rc == 1, (t, "an unfilled template must not pass")
        filled = os.path.join(tmp, "filled", "%s.xml" % t)
        os.makedirs(os.path.dirname(filled), exist_ok=True)
        with open(filled, "wb") as f:
            f.write(fill(out.encode(), t))
        left = re.findall(rb"@[A-Z_]+@", open(filled, "rb").read())
        assert not left, (t, left)
    rc, out, err = pubfeed("check", os.path.join(tmp, "filled"))
    assert rc == 0, (out, err)
    assert "0 errors, 0 warnings in %d files" % len(types) in out + err, \
        out + err
    rc, out, err = pubfeed("new", "--id", "2026-my-brief", "policy-brief")
    assert rc == 0 and 'id="2026-my-brief"' in out, out
    rc, out, err = pubfeed("new", "pamphlet")
    assert rc == 2 and "not a record type: 'pamphlet'; one of report" in err
    rc, out, err = pubfeed("new", "--id", "no spaces", "report")
    assert rc == 2 and "--id: not a record id" in err, err


run()
