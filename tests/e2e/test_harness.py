"""The harness itself: a test file that fails, raises or is killed with
SIGTERM leaves no temporary directory and no daemon behind."""
import os
import subprocess
import sys
import time

from pf import ROOT, mkdtemp, run, test

HERE = os.path.dirname(os.path.abspath(__file__))

# A test file in miniature: a daemon, a scratch directory with an unreadable
# subdirectory, then it reports both and ends the way argv[1] says.
CHILD = r"""
import os, signal, sys, time
sys.path.insert(0, %(here)r)
import pf
d = pf.Daemon()
d.start()
extra = pf.mkdtemp()
os.mkdir(os.path.join(extra, "locked"))
open(os.path.join(extra, "locked", "f"), "w").close()
os.chmod(os.path.join(extra, "locked"), 0)
print(d.proc.pid, d.dir, extra, flush=True)
how = sys.argv[1]
if how == "raise":
    raise RuntimeError("boom")
if how == "sigterm":
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
if how == "fail":
    @pf.test
    def fails():
        assert False
    pf.run()
"""


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def child(how):
    tmp = mkdtemp(prefix="pubfeed-harness-")
    env = dict(os.environ, TMPDIR=tmp)
    p = subprocess.run([sys.executable, "-c", CHILD % {"here": HERE}, how],
                       capture_output=True, text=True, env=env, cwd=ROOT,
                       timeout=60)
    first = p.stdout.splitlines()[0].split()
    pid, dirs = int(first[0]), first[1:]
    return p, pid, dirs, tmp


def check(how, want_rc):
    p, pid, dirs, tmp = child(how)
    assert p.returncode == want_rc, (how, p.returncode, p.stdout, p.stderr)
    for d in dirs:
        assert d.startswith(tmp + "/"), (d, tmp)
        assert not os.path.lexists(d), (how, d, os.listdir(tmp))
    assert os.listdir(tmp) == [], (how, os.listdir(tmp))
    t = time.monotonic() + 5
    while alive(pid) and time.monotonic() < t:
        time.sleep(0.05)
    assert not alive(pid), (how, "daemon %d still running" % pid)


@test
def cleanup_after_an_exception():
    check("raise", 1)


@test
def cleanup_after_sigterm():
    check("sigterm", 128 + 15)


@test
def cleanup_after_a_failed_test():
    check("fail", 1)


@test
def cleanup_after_a_normal_exit():
    check("exit", 0)


run()
