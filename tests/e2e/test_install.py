"""make install into a DESTDIR; the installed binary with the installed
configuration; the systemd units offline (verify + security)."""
import os
import re
import shutil
import subprocess

import pf
from pf import Daemon, ROOT, SAMPLES, mkdtemp, run, skip, test

_dest = []


def clean_env():
    # run from "make check-asan" too: the sub-make must not inherit SAN=1/B
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "B", "SAN", "PUBFEED"):
        env.pop(k, None)
    return env


def install(dest, *args):
    p = subprocess.run(["make", "--no-print-directory", "-s", "install",
                        "PREFIX=/usr", "DESTDIR=" + dest] + list(args),
                       cwd=ROOT, capture_output=True, text=True, env=clean_env())
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def destdir():
    if not _dest:
        d = mkdtemp(prefix="pubfeed-install-")
        install(d)
        _dest.append(d)
    return _dest[0]


@test
def installs_every_file():
    d = destdir()
    for f in ("usr/bin/pubfeed", "usr/share/pubfeed/schemas/record.xsd",
              "etc/pubfeed/pubfeed.conf", "usr/share/man/man8/pubfeed.8",
              "usr/share/man/man5/pubfeed.conf.5",
              "usr/lib/systemd/system/pubfeed.service",
              "usr/lib/systemd/system/pubfeed.socket"):
        assert os.path.isfile(os.path.join(d, f)), f
    assert os.access(os.path.join(d, "usr/bin/pubfeed"), os.X_OK)
    with open(os.path.join(d, "etc/pubfeed/pubfeed.conf")) as f:
        conf = f.read()
    assert re.search(r"^records /srv/pubfeed/records$", conf, re.M), conf[:2000]
    assert re.search(r"^state /var/lib/pubfeed$", conf, re.M)
    assert "config/records" not in conf and "build/state" not in conf
    with open(os.path.join(d, "usr/lib/systemd/system/pubfeed.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/bin/pubfeed serve -c /etc/pubfeed/pubfeed.conf" in unit


@test
def keeps_an_existing_configuration():
    d = mkdtemp(prefix="pubfeed-install-")
    install(d)
    conf = os.path.join(d, "etc/pubfeed/pubfeed.conf")
    with open(conf, "a") as f:
        f.write("# local change\n")
    out = install(d)
    with open(conf) as f:
        assert f.read().endswith("# local change\n")
    assert "keeping" in out


@test
def installed_binary_runs_the_installed_configuration():
    d = destdir()
    pubfeed = os.path.join(d, "usr/bin/pubfeed")
    conf = os.path.join(d, "etc/pubfeed/pubfeed.conf")
    p = subprocess.run([pubfeed, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("pubfeed "), p.stdout
    p = subprocess.run([pubfeed, "check", "--config-only", "-c", conf],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # the same file with only records/state moved into a scratch root
    work = mkdtemp(prefix="pubfeed-installed-")
    shutil.copytree(SAMPLES, os.path.join(work, "records"))
    with open(conf) as f:
        text = f.read()
    text = text.replace("records /srv/pubfeed/records",
                        "records " + os.path.join(work, "records"))
    text = text.replace("state /var/lib/pubfeed", "state " + os.path.join(work, "state"))
    local = os.path.join(work, "pubfeed.conf")
    with open(local, "w") as f:
        f.write(text)
    p = subprocess.run([pubfeed, "check", "-c", local], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "34 records ok" in p.stdout, p.stdout
    dm = Daemon(records=os.path.join(work, "records"), copy=False)
    dm.conf = local
    old = pf.PUBFEED
    pf.PUBFEED = pubfeed
    try:
        dm.start()
    finally:
        pf.PUBFEED = old
    st, _, body = dm.get("/feed.atom")
    title = re.search(r'^feed-title "([^"]*)"', text, re.M).group(1)
    assert st == 200 and ("<title>%s</title>" % title).encode() in body, body[:500]
    assert dm.stop() == 0
    assert os.path.isfile(os.path.join(work, "state", "pubfeed.db"))


def directive(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    assert m, name
    return m.group(1)


def start_installed(d, conf_text):
    """The installed binary on the installed configuration, untouched but
    for its two directories moved under DESTDIR (and a free port)."""
    text = conf_text
    for name in ("records", "state"):
        path = directive(text, name)
        text = re.sub(r"^%s \S+$" % name, "%s %s%s" % (name, d, path), text,
                      flags=re.M)
    local = os.path.join(d, "etc/pubfeed/pubfeed-destdir.conf")
    with open(local, "w") as f:
        f.write(text)
    return local


@test
def installs_the_directories_the_configuration_names():
    # make install created no records directory: the installed daemon
    # exited 1
    d = destdir()
    with open(os.path.join(d, "etc/pubfeed/pubfeed.conf")) as f:
        text = f.read()
    records, state = directive(text, "records"), directive(text, "state")
    assert os.path.isdir(d + records), records
    assert os.stat(d + records).st_mode & 0o777 == 0o755
    assert os.listdir(d + records) == []
    assert os.path.isdir(d + state), state
    assert os.stat(d + state).st_mode & 0o777 == 0o700
    # the unit's comment and StateDirectory= name the same directories
    with open(os.path.join(d, "usr/lib/systemd/system/pubfeed.service")) as f:
        unit = f.read()
    comments = "\n".join(l for l in unit.splitlines() if l.startswith("#"))
    assert records in comments, comments
    assert state in comments, comments
    assert "StateDirectory=" + os.path.basename(state) + "\n" in unit
    assert state == "/var/lib/" + os.path.basename(state)
    assert "/var/lib/pubfeed/records" not in unit
    pubfeed = os.path.join(d, "usr/bin/pubfeed")
    local = start_installed(d, text)
    p = subprocess.run([pubfeed, "check", "-c", local], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 records ok in %s%s" % (d, records) in p.stdout, p.stdout
    # and serve starts, answers and stops cleanly
    dm = Daemon(records=d + records, copy=False, state=d + state)
    dm.conf = local
    old = pf.PUBFEED
    pf.PUBFEED = pubfeed
    try:
        dm.start()
    finally:
        pf.PUBFEED = old
    st, _, body = dm.get("/healthz")
    assert st == 200, (st, body)
    assert dm.stop() == 0, dm.logtext()


@test
def install_directories_follow_the_variables():
    d = mkdtemp(prefix="pubfeed-install-")
    install(d, "INSTALL_RECORDS=/data/pf/records")
    with open(os.path.join(d, "etc/pubfeed/pubfeed.conf")) as f:
        text = f.read()
    assert directive(text, "records") == "/data/pf/records"
    assert os.path.isdir(os.path.join(d, "data/pf/records"))
    with open(os.path.join(d, "usr/lib/systemd/system/pubfeed.service")) as f:
        unit = f.read()
    assert "/data/pf/records" in unit and "/srv/pubfeed" not in unit


@test
def man_pages_render_cleanly():
    if shutil.which("groff") is None:
        skip("groff not installed: man pages not linted")
        return
    d = destdir()
    for m in ("usr/share/man/man8/pubfeed.8", "usr/share/man/man5/pubfeed.conf.5"):
        p = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(d, m)],
                           capture_output=True, text=True)
        assert p.returncode == 0 and p.stderr == "", m + ": " + p.stderr


@test
def systemd_units_verify_and_security():
    if shutil.which("systemd-analyze") is None:
        skip("systemd-analyze not installed: units not verified")
        return
    p = subprocess.run(["sh", ".ci/systemd-check.sh"], cwd=ROOT,
                       capture_output=True, text=True, env=clean_env())
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"exposure ([0-9.]+)", p.stdout)
    assert m and float(m.group(1)) <= 2.0, p.stdout
    # every directive the issue asks for is really there
    with open(os.path.join(ROOT, "systemd/pubfeed.service")) as f:
        unit = f.read()
    for want in ("Type=notify", "DynamicUser=yes", "StateDirectory=pubfeed",
                 "ConfigurationDirectory=pubfeed", "Restart=on-failure",
                 "ProtectSystem=strict", "PrivateUsers=yes",
                 "ExecReload=/usr/bin/pubfeed check --config-only",
                 "ExecReload=/bin/kill -HUP $MAINPID", "CapabilityBoundingSet=\n"):
        assert want in unit, want


run()
