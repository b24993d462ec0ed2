"""The documentation says what the program does: pubfeed.conf(5) and the
example config/pubfeed.conf document exactly the directives of the table in
src/conf.c (no command prints them), pubfeed(8) every command and option of
"pubfeed --help" (each option under each command that takes it), and both
pages render without a groff warning."""
import os
import re
import shutil
import subprocess

from pf import PUBFEED, ROOT, run, skip, test

MAN8 = os.path.join(ROOT, "man", "pubfeed.8")
MAN5 = os.path.join(ROOT, "man", "pubfeed.conf.5")
CONF_C = os.path.join(ROOT, "src", "conf.c")
EXAMPLE = os.path.join(ROOT, "config", "pubfeed.conf")
OPT = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def table_directives():
    """Names in src/conf.c's directives[] table, in order."""
    src = read(CONF_C)
    m = re.search(r"^static const struct directive directives\[\] = \{\n"
                  r"(.*?)^\};", src, re.M | re.S)
    assert m, "directive table not found in src/conf.c"
    names = re.findall(r'^\s*(?:[A-Z]+\(|\{\s*)"([^"]+)"', m.group(1), re.M)
    assert len(names) >= 30 and len(set(names)) == len(names), names
    return names


def plain(roff):
    """Roff source to plain words: escapes and font changes dropped."""
    s = re.sub(r"\\f[BIRP]|\\&", "", roff)
    s = s.replace("\\-", "-").replace("\\e", "\\")
    s = re.sub(r"^\.(?:B|I|BR|RB|IR|RI|BI|IB)\s+", "", s, flags=re.M)
    return s.replace('"', "")


def section(roff, name):
    m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH |\Z)" % re.escape(name), roff,
                  re.M | re.S)
    assert m, "no section %s" % name
    return m.group(1)


def tagged(body):
    """The first word of each .TP tag line, after plain()."""
    tags = re.findall(r"^\.TP\n(.*)$", body, re.M)
    return [plain(t).split()[0].rstrip(",") for t in tags]


def help_usage():
    """({command: set of options}, every option) from pubfeed --help."""
    p = subprocess.run([PUBFEED, "--help"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    usage = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^(?:usage:)?\s+pubfeed (\w+) (.*)$", line)
        if m:
            usage[m.group(1)] = set(OPT.findall(m.group(2)))
    assert {"serve", "check", "export", "ping", "status"} <= set(usage), usage
    return usage, set(OPT.findall(p.stdout))


def man5_problems(roff):
    have, doc = table_directives(), tagged(section(roff, "DIRECTIVES"))
    bad = ["pubfeed.conf(5) lacks %s" % d for d in have if d not in doc]
    bad += ["pubfeed.conf(5) documents no such directive %s" % d
            for d in doc if d not in have]
    bad += ["pubfeed.conf(5) documents %s twice" % d
            for d in sorted(set(doc)) if doc.count(d) > 1]
    return bad


def example_problems(text):
    have = table_directives()
    # each directive has its "# name ARGS: what it does" paragraph
    bad = ["config/pubfeed.conf lacks %s" % d for d in have
           if not re.search(r"^# %s(?: [^\n]*?)?: " % re.escape(d), text,
                            re.M)]
    # and every line that sets one, commented out or not, names a real one
    used = re.findall(r"^#?([a-z][a-z0-9-]*)[ \t]", text, re.M)
    bad += ["config/pubfeed.conf sets no such directive %s" % u
            for u in sorted(set(used)) if u not in have]
    return bad


def man8_problems(roff):
    usage, every = help_usage()
    bad = []
    # SYNOPSIS: one block per command, separated by .br
    synopsis = {}
    for block in section(roff, "SYNOPSIS").split(".br\n"):
        words = plain(block).split()
        if len(words) >= 2 and words[0] == "pubfeed" and \
                not words[1].startswith("-"):
            synopsis[words[1]] = set(OPT.findall(" ".join(words[2:])))
    for cmd, opts in sorted(usage.items()):
        if cmd not in synopsis:
            bad.append("SYNOPSIS lacks pubfeed %s" % cmd)
        elif synopsis[cmd] != opts:
            bad.append("SYNOPSIS of %s: %s, --help: %s" % (
                cmd, sorted(synopsis[cmd]), sorted(opts)))
    bad += ["SYNOPSIS has no such command %s" % c
            for c in sorted(set(synopsis) - set(usage))]
    commands = set(tagged(section(roff, "COMMANDS")))
    bad += ["COMMANDS lacks %s" % c for c in sorted(set(usage) - commands)]
    bad += ["COMMANDS has no such command %s" % c
            for c in sorted(commands - set(usage))]
    # OPTIONS: every option --help mentions, and no other
    documented = set()
    for t in re.findall(r"^\.TP\n(.*)$", section(roff, "OPTIONS"), re.M):
        documented |= set(OPT.findall(plain(t)))
    bad += ["OPTIONS lacks %s" % o for o in sorted(every - documented)]
    bad += ["OPTIONS documents no such option %s" % o
            for o in sorted(documented - every)]
    return bad


@test
def man5_documents_every_directive():
    bad = man5_problems(read(MAN5))
    assert not bad, bad


@test
def example_config_documents_every_directive():
    bad = example_problems(read(EXAMPLE))
    assert not bad, bad


@test
def man8_documents_every_command_and_option():
    bad = man8_problems(read(MAN8))
    assert not bad, bad


@test
def the_checks_catch_what_the_pages_lacked():
    # what the issue found missing, removed again, is reported
    roff = read(MAN5)
    for d in ("listen", "metrics-local-only", "access-log", "log-level"):
        cut = re.sub(r"^\.TP\n\.B %s .*\n" % d, "", roff, flags=re.M)
        assert cut != roff, d
        assert "pubfeed.conf(5) lacks %s" % d in man5_problems(cut)
    extra = roff.replace(".SS Files\n", ".SS Files\n.TP\n.B colour \\fIX\\fP\nno.\n")
    assert "pubfeed.conf(5) documents no such directive colour" in \
        man5_problems(extra)
    roff = read(MAN8)
    cut = roff.replace(".B pubfeed ping\n.RB [ \\-c\n.IR FILE ]\n"
                       ".RB [ \\-\\-base\\-url\n.IR URL ]\n",
                       ".B pubfeed ping\n.RB [ \\-c\n.IR FILE ]\n")
    assert cut != roff
    assert any(b.startswith("SYNOPSIS of ping") for b in man8_problems(cut))
    text = read(EXAMPLE)
    cut = re.sub(r"^# listen ADDRESS:PORT: ", "# ", text, flags=re.M)
    assert cut != text
    assert "config/pubfeed.conf lacks listen" in example_problems(cut)
    assert "config/pubfeed.conf sets no such directive colour" in \
        example_problems(text + "#colour red\n")


@test
def man_pages_render_without_warnings():
    if shutil.which("groff") is None:
        skip("groff not installed: man pages not rendered")
        return
    for page in (MAN8, MAN5):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                           capture_output=True, text=True)
        assert p.returncode == 0 and p.stderr == "", "%s: %s" % (page,
                                                                 p.stderr)
    if shutil.which("man") is None:
        skip("man not installed: man -l not tried")
        return
    for page in (MAN8, MAN5):
        p = subprocess.run(["man", "--warnings", "-l", page],
                           capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat",
                                    PAGER="cat"))
        assert p.returncode == 0 and p.stderr == "", "%s: %s" % (page,
                                                                 p.stderr)
        assert "pubfeed" in p.stdout, p.stdout[:300]



SCHEMAS_README = os.path.join(ROOT, "schemas", "README.md")
BAD = os.path.join(ROOT, "tests", "data", "records", "bad")


def check(path):
    p = subprocess.run([PUBFEED, "check", path], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout


@test
def the_records_the_docs_show_pass_check():
    """The minimal and the complete example of schemas/README.md, and the
    minimal record of pubfeed(8), are records `pubfeed check` accepts."""
    import pf
    d = pf.mkdtemp()
    blocks = [b for b in re.findall(r"```xml\n(.*?)```", read(SCHEMAS_README), re.S)
              if b.lstrip().startswith(("<?xml", "<record"))]
    assert len(blocks) >= 2, len(blocks)
    man = read(MAN8).replace("\\-", "-")
    m = re.search(r"^\.nf\n(<\?xml.*?</record>)\n\.fi$", man, re.S | re.M)
    assert m, "no minimal record in pubfeed(8)"
    blocks.append(m.group(1))
    for i, text in enumerate(blocks):
        path = os.path.join(d, "doc-%d.xml" % i)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        rc, out = check(path)
        assert rc == 0 and ": error:" not in out, (i, out, text[:200])


@test
def every_error_kind_is_in_the_message_table():
    """Each golden message of tests/data/records/bad/ has its row in the
    error message table of schemas/README.md (its wording up to the first
    quote, colon or parenthesis)."""
    table = read(SCHEMAS_README)
    table = table[table.index("## Error messages"):table.index("## Harvester rules")]
    missing = []
    for name in sorted(os.listdir(BAD)):
        if not name.endswith(".err"):
            continue
        for line in read(os.path.join(BAD, name)).splitlines():
            msg = re.sub(r"^.*?: (error|warning): ", "", line)
            stem = re.split(r"[':(]", msg)[0].strip()
            # the element named and the numbers vary by record
            pat = re.escape(stem)
            pat = re.sub(r"<[^>]*>", "<[^>]+>", pat)
            pat = re.sub(r"\d+", r"\\d+", pat)
            if stem and not re.search(pat, table):
                missing.append("%s: %s" % (name, stem))
    assert not missing, missing

run()
