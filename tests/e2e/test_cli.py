"""End-to-end: the command line (pubfeed --version/--help, check, serve)."""
import os
import re
import shutil
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pf  # noqa: E402,F401

from lxml import etree  # noqa: E402

from pf import Daemon, PUBFEED, ROOT, free_port, run, test  # noqa: E402

E2E = os.path.join(ROOT, "tests", "data", "e2e")
A = "{http://www.w3.org/2005/Atom}"


def pubfeed(*args, env=None, timeout=30):
    e = dict(os.environ)
    e.pop("PUBFEED_CONF", None)
    e.pop("NOTIFY_SOCKET", None)
    if env:
        e.update(env)
    p = subprocess.run([PUBFEED] + list(args), capture_output=True,
                       cwd=ROOT, env=e, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def listening(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@test
def version():
    rc, out, err = pubfeed("--version")
    assert rc == 0, (rc, err)
    assert re.match(r"^pubfeed \d+\.\d+\.\d+\S*\n$", out), out
    assert err == ""


@test
def help_goes_to_stdout():
    for arg in ("--help", "-h"):
        rc, out, err = pubfeed(arg)
        assert rc == 0, (arg, rc)
        assert err == "", err
        assert out.startswith("usage: pubfeed serve"), out
        for word in ("check", "--listen", "--base-url", "--config",
                     "--version"):
            assert word in out, word


@test
def options_before_or_after_the_command():
    for args in (("-c", "config/pubfeed.conf", "check"),
                 ("check", "-c", "config/pubfeed.conf"),
                 ("--config=config/pubfeed.conf", "check", "--config-only")):
        rc, out, err = pubfeed(*args)
        assert rc == 0, (args, rc, err)
        assert "configuration ok" in out, (args, out)


@test
def usage_errors_exit_2():
    for args in ((), ("frobnicate",), ("serve", "--frobnicate"),
                 ("check", "-x"), ("check", "--format", "x", "."),
                 ("--no-such-option",), ("serve", "-c")):
        rc, out, err = pubfeed(*args)
        assert rc == 2, (args, rc, out, err)
        assert out == "", (args, out)
        assert "usage: pubfeed serve" in err, (args, err)


@test
def check_sample_config():
    rc, out, err = pubfeed("check", "-c", "config/pubfeed.conf")
    assert rc == 0, (rc, out, err)
    assert err == "", err
    assert out == ("config/pubfeed.conf: configuration ok; 34 records ok "
                   "in config/records\n"), out
    # the same through $PUBFEED_CONF
    rc, out2, err = pubfeed("check", env={
        "PUBFEED_CONF": "config/pubfeed.conf"})
    assert rc == 0 and out2 == out, (rc, out2, err)


@test
def check_reports_every_config_error():
    rel = "tests/data/e2e/conf/several-errors.conf"
    rc, out, err = pubfeed("check", "-c", rel)
    assert rc == 1, (rc, out, err)
    assert out == ""
    want = [(3, "base-url", "'research.example.org'"),
            (9, "feed-entries", "'0'"),
            (10, "threads", "'many'"),
            (12, "duplicate set", "'topic'"),
            (14, "log-level", "'loud'"),
            (15, "unknown directive", "'colour'")]
    lines = err.splitlines()
    for line, what, subject in want:
        pat = re.compile(r"^%s:%d: .*%s.*%s" % (re.escape(rel), line,
                                                  re.escape(what),
                                                  re.escape(subject)))
        assert any(pat.match(l) for l in lines), (line, what, err)
    located = [l for l in lines if re.match(re.escape(rel) + r":\d+: ", l)]
    assert len(located) == len(want), err
    assert re.search(r"\b6 errors\b", err), err
    assert not os.path.exists(os.path.join(ROOT, "build",
                                           "e2e-never-created"))


@test
def check_missing_files():
    rc, out, err = pubfeed("check", "-c", "/nonexistent/pubfeed.conf")
    assert rc == 1 and out == "", (rc, out)
    assert err.startswith("/nonexistent/pubfeed.conf: "), err
    d = Daemon(records="/nonexistent/records", copy=False)
    rc, out, err = pubfeed("check", "-c", d.conf)
    assert rc == 1 and out == "", (rc, out)
    assert "/nonexistent/records" in err, err
    shutil.rmtree(d.dir)


@test
def check_reports_every_bad_record():
    d = Daemon()
    for name in ("e2e-broken.xml", "e2e-charref-control.xml"):
        shutil.copy(os.path.join(E2E, "bad", name),
                    os.path.join(d.records, "reports"))
    rc, out, err = pubfeed("check", "-c", d.conf)
    assert rc == 1, (rc, out, err)
    assert out == ""
    rd = os.path.join(d.records, "reports")
    for name, line in (("e2e-broken.xml", 6), ("e2e-charref-control.xml", 3)):
        pat = r"^%s:%d:\d+: \S" % (re.escape(os.path.join(rd, name)), line)
        assert re.search(pat, err, re.M), (name, err)
    assert re.search(r"\b2 problems\b", err), err
    assert "34 valid records" in err, err
    # check never writes the state directory
    assert not os.path.exists(d.state), os.listdir(d.state)
    shutil.rmtree(d.dir)


def bad_links_record(name, n):
    """A record with n bad link hrefs: n messages from one file."""
    links = "".join('  <link rel="landing" href="not a url %d, with a long '
                    'description to make the message line long"/>\n' % i
                    for i in range(n))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<record xmlns="https://pubfeed.org/ns/record/1" id="%s" '
            'type="report" xml:lang="en">\n'
            '  <title>Many errors</title>\n'
            '  <issued>2019-05-16</issued>\n'
            '  <language>en</language>\n%s</record>\n' % (name, links))


@test
def check_prints_every_message_of_a_file():
    # 12 messages of one file once printed as 5 lines (cut at 512 bytes
    # mid-line) and counted as "1 problem"
    d = Daemon()
    path = os.path.join(d.records, "reports", "many.xml")
    with open(path, "w") as f:
        f.write(bad_links_record("many", 12))
    rc, out, err = pubfeed("check", "-c", d.conf)
    assert rc == 1 and out == "", (rc, out, err)
    lines = err.splitlines()
    for i in range(12):
        want = ("%s:%d: <link href> is not an absolute http(s) URL: 'not a url %d, "
                "with a long description to make the message line long': "
                "write it in full, starting with https://" % (path, 6 + i, i))
        assert want in lines, (want, err)
    assert len(lines) == 13, err
    assert lines[-1] == "12 problems; 34 valid records in %s" % d.records, err


@test
def check_prints_every_message_past_256k():
    # the accumulated list was silently capped at 256 KB
    d = Daemon()
    per, files = 1500, 4
    paths = []
    for k in range(files):
        p = os.path.join(d.records, "reports", "many-%d.xml" % k)
        with open(p, "w") as f:
            f.write(bad_links_record("many-%d" % k, per))
        paths.append(p)
    rc, out, err = pubfeed("check", "-c", d.conf)
    assert rc == 1 and out == "", (rc, out, err[-500:])
    assert len(err) > 3 * 256 * 1024, len(err)
    lines = err.splitlines()
    for p in paths:
        got = [l for l in lines if l.startswith(p + ":")]
        assert len(got) == per, (p, len(got))
        assert got[-1].startswith("%s:%d: <link href> " % (p, 5 + per)), got[-1]
    assert len(lines) == files * per + 1, len(lines)
    assert lines[-1] == "%d problems; 34 valid records in %s" % (
        files * per, d.records), lines[-1]


@test
def serve_with_bad_config_starts_nothing():
    port = free_port()
    d = Daemon(port=port)
    with open(d.conf, "a") as f:
        f.write("max-age forever\nfrobnicate yes\n")
    rc, out, err = pubfeed("serve", "-c", d.conf, "--listen",
                           "127.0.0.1:%d" % port, timeout=20)
    assert rc == 1, (rc, out, err)
    assert re.search(re.escape(d.conf) + r":\d+: max-age .*'forever'", err), err
    assert re.search(re.escape(d.conf) + r":\d+: unknown directive "
                     r"'frobnicate'", err), err
    assert "nothing started" in err, err
    assert not listening(port)
    assert not os.path.exists(d.state)
    # a bad --base-url is a configuration error too
    d.write_conf("")
    rc, out, err = pubfeed("serve", "-c", d.conf, "--listen",
                           "127.0.0.1:%d" % port, "--base-url",
                           "ftp://example.org/", timeout=20)
    assert rc == 1 and "--base-url" in err, (rc, err)
    # ... by the rule base-url has in the file: no query, no fragment
    rc, out, err = pubfeed("serve", "-c", d.conf, "--listen",
                           "127.0.0.1:%d" % port, "--base-url",
                           "https://example.org/?x", timeout=20)
    assert rc == 1 and "--base-url" in err, (rc, err)
    assert not listening(port)
    shutil.rmtree(d.dir)


@test
def listen_on_port_zero_logs_the_port():
    d = Daemon(args=["--listen", "127.0.0.1:0"])
    d.start(wait=False)
    m = d.wait_for(lambda: re.search(
        r"listening on http://127\.0\.0\.1:(\d+)/", d.logtext()),
        what="the listening line")
    port = int(m.group(1))
    assert port != 0 and port != d.port
    d.port = port
    st, h, body = d.get("/healthz")
    assert st == 200 and body == b"ok\n"
    st, h, body = d.get("/feed.atom")
    assert st == 200
    assert len(etree.fromstring(body).findall(A + "entry")) == 10
    assert d.stop() == 0
    assert not listening(port)


@test
def base_url_override_in_self_links():
    base = "https://feeds.example.net/pub"
    d = Daemon(args=["--base-url", base + "/"]).start()
    st, h, body = d.get("/feed.atom")
    root = etree.fromstring(body)
    selfs = [l.get("href") for l in root.findall(A + "link")
             if l.get("rel") == "self"]
    assert selfs == [base + "/feed.atom"], selfs
    assert h["link"] == '<%s/feed.atom>; rel="self"' % base, h["link"]
    st, h, body = d.get("/sets/topic.rss")
    chan = etree.fromstring(body).find("channel")
    selfs = [l.get("href") for l in chan.findall(A + "link")
             if l.get("rel") == "self"]
    assert selfs == [base + "/sets/topic.rss"], selfs
    assert chan.findtext("link") == base + "/"
    st, h, body = d.get("/")
    assert ('href="%s/feed.rss"' % base).encode() in body
    assert d.base.encode() not in body
    assert "public URL %s/" % base in d.logtext()
    d.stop()


BAD = os.path.join(ROOT, "tests", "data", "records", "bad")
GOOD = os.path.join(ROOT, "config", "records")


@test
def check_paths_without_config():
    """Files and directories, no configuration: one note, every problem."""
    rc, out, err = pubfeed("check", GOOD)
    assert rc == 0, (rc, out, err)
    # the samples keep two reports that state no access rights (oai_dc
    # must not call them open access): OpenAIRE cannot take those
    assert [l.split(": warning: ")[0] for l in out.splitlines()] == [
        GOOD + "/reports/2008-illicit-markets-bulgaria.xml:2",
        GOOD + "/reports/2010-corruption-border-customs.xml:2"], out
    assert out.count("states no access rights") == 2, out
    assert err.count("no configuration") == 1, err
    assert re.search(r"^0 errors, 2 warnings in \d+ files$", err, re.M), err
    f = os.path.join("tests", "data", "records", "bad", "misspelt-element.xml")
    rc, out, err = pubfeed("check", f, "tests/data/records/bad/unescaped-amp.xml")
    assert rc == 1, (rc, out, err)
    assert out == (
        f + ":4: error: <isued> is not an element of <record>: did you mean "
        "<issued>?\n"
        "tests/data/records/bad/unescaped-amp.xml:3:17: error: a bare '&' "
        "starts an entity reference: write '&amp;' for the character '&'\n"
    ), out
    rc, out, err = pubfeed("check", "tests/data/records/bad")
    assert rc == 1
    files = {l.split(":")[0] for l in out.splitlines()}
    assert len(files) >= 25, files
    assert "Element '" not in out and "xmlParse" not in out, out
    assert "facet" not in out and "Expected is" not in out, out


@test
def check_warnings_and_strict():
    f = "tests/data/records/bad/fulltext-no-length.xml"
    rc, out, err = pubfeed("check", f)
    assert rc == 0, (rc, out, err)
    assert ": warning: <link rel=\"fulltext\"> has no length" in out, out
    rc, out, err = pubfeed("check", "--strict", f)
    assert rc == 1, (rc, out, err)


WARN = os.path.join("tests", "data", "records", "warn")


@test
def check_harvester_rules():
    """Harvester rules: warnings with file:line, exit 0; 1 with --strict."""
    rc, out, err = pubfeed("check", WARN)
    assert rc == 0, (rc, out, err)
    want = ""
    for f in sorted(os.listdir(os.path.join(ROOT, WARN))):
        if f.endswith(".err"):
            with open(os.path.join(ROOT, WARN, f), encoding="utf-8") as fp:
                want += fp.read()
    assert out == want, out
    n = len(want.splitlines())
    assert n >= 15, want
    assert re.search(r"^0 errors, %d warnings in 7 files$" % n, err, re.M), err
    rc, out, err = pubfeed("check", "--strict", WARN)
    assert rc == 1, (rc, out, err)
    rc, out, err = pubfeed("check", "--strict", os.path.join(WARN,
                                                             "openaire-news.xml"))
    assert rc == 0 and out == "", (rc, out, err)
    # no identifier of its own: pubfeed's landing page is OpenAIRE's
    rc, out, err = pubfeed("check", "--strict", os.path.join(
        WARN, "openaire-landing-here.xml"))
    assert rc == 0 and out == "", (rc, out, err)
    rc, out, err = pubfeed("check", "--format", "json", WARN)
    assert rc == 0, (rc, err)
    import json
    objs = [json.loads(l) for l in out.splitlines()]
    assert len(objs) == n, objs
    for o in objs:
        assert o["severity"] == "warning" and o["line"] > 0, o
        assert o["path"].startswith(WARN + "/"), o
    assert {o["code"] for o in objs} == {
        "fulltext-other-host", "fulltext-file-name", "openaire-access",
        "openaire-type", "doi-syntax"}, objs


@test
def check_format_json():
    rc, out, err = pubfeed("check", "--format", "json", "tests/data/records/bad")
    assert rc == 1, (rc, err)
    lines = out.splitlines()
    assert len(lines) >= 30, out
    p = subprocess.run(["/usr/bin/python3", "-c",
                        "import json, sys\n"
                        "for l in sys.stdin: json.loads(l)\n"],
                       input=out, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    import json
    objs = [json.loads(l) for l in lines]
    for o in objs:
        assert set(o) == {"path", "line", "col", "severity", "code",
                          "message"}, o
        assert o["severity"] in ("error", "warning"), o
    codes = {o["code"] for o in objs}
    for c in ("missing-element", "unknown-element", "bad-date",
              "bad-language", "unescaped-amp", "unescaped-lt", "not-utf8",
              "bad-url", "doctype"):
        assert c in codes, (c, codes)
    rc, out, err = pubfeed("check", "--format", "yaml", GOOD)
    assert rc == 2, (rc, err)


def conf_with_sets(tmp, records, extra=""):
    c = os.path.join(tmp, "pubfeed.conf")
    with open(c, "w") as f:
        f.write("base-url http://127.0.0.1:1\nrecords %s\nstate %s\n"
                "repository-name T\nadmin-email a@example.org\n"
                "feed-author-name T\noai-namespace example.org\n"
                "set topic:smuggling S\nset topic:trafficking T\n%s"
                % (records, os.path.join(tmp, "state"), extra))
    return c


def rec(path, rid, sets=()):
    with open(path, "w") as f:
        f.write('<record xmlns="https://pubfeed.org/ns/record/1" id="%s" '
                'type="report">\n  <title>T</title>\n  <issued>2020-01-01'
                '</issued>\n  <language>en</language>\n'
                '  <access>open</access>\n'
                '  <link rel="landing" href="https://example.org/r/%s"/>\n'
                '%s</record>\n'
                % (rid, rid, "".join("  <set>%s</set>\n" % s for s in sets)))


@test
def check_unknown_set_and_duplicate_id():
    import tempfile
    tmp = tempfile.mkdtemp(prefix="pf-check.")
    try:
        r = os.path.join(tmp, "records")
        os.mkdir(r)
        rec(os.path.join(r, "a.xml"), "same", ["topic:smugling"])
        rec(os.path.join(r, "b.xml"), "same")
        c = conf_with_sets(tmp, r)
        rc, out, err = pubfeed("check", "-c", c, r)
        assert rc == 1, (rc, out, err)
        assert out == (
            "%s/a.xml:7: error: set 'topic:smugling' is not configured: did "
            "you mean 'topic:smuggling'? (or add a 'set topic:smugling NAME' "
            "line to the configuration)\n"
            "%s/b.xml:1: error: id 'same' is already used by %s/a.xml:1: "
            "give one of the two records another id\n" % (r, r, r)), out
        assert "no configuration" not in err
        c = conf_with_sets(tmp, r, "open-sets yes\n")
        rc, out, err = pubfeed("check", "-c", c, os.path.join(r, "a.xml"))
        assert rc == 0, (rc, out, err)
    finally:
        shutil.rmtree(tmp)


run()
