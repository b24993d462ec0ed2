"""bench/pfbench.py: what the Python benchmarks (scale.sh, snapshot.sh,
live.sh, state.sh) share: a free loopback port, a generated collection, a
serve configuration, starting the daemon until
/healthz answers, its CPU and RSS from /proc, and evicting files from the
page cache for a cold start.  Imported by the scripts' embedded Python,
which finds it through PFBENCH_DIR (the scripts set it to their folder)."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def collection(data, nrec, say):
    """The synthetic collection of nrec records under data (shared by the
    scripts that name the same folder, never modified by them), generated
    once by gen_records.py under a temporary name, then renamed."""
    records = os.path.join(data, "records-%d" % nrec)
    if not os.path.isdir(records):
        say("generating %d records into %s" % (nrec, records))
        os.makedirs(data, exist_ok=True)
        tmp = records + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        r = subprocess.run(["/usr/bin/python3", os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "gen_records.py"),
            tmp, str(nrec)], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.exit("gen_records.py failed: " + r.stderr.decode()[-500:])
        os.rename(tmp, records)
    return records


def write_conf(path, port, records, state, extra=""):
    """A serve configuration for generated records (they name sets freely:
    open-sets); returns the base URL."""
    base = "http://127.0.0.1:%d" % port
    with open(path, "w") as f:
        f.write('repository-name "Bench"\nbase-url %s\nadmin-email a@b.org\n'
                'feed-author-name X\nrecords %s\nstate %s\n'
                'oai-namespace bench.example.org\nrescan-interval 0\n'
                'listen 127.0.0.1:%d\nopen-sets yes\n%s'
                % (base, records, state, port, extra))
    return base


def cpu(pid):
    """User + system seconds of pid so far."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TCK


def rss(pid, field="VmRSS"):
    """VmRSS of pid in MB (field="VmHWM": its peak so far)."""
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0


def start(pubfeed, conf, base, log):
    """Start serve on conf; (process, seconds until /healthz answered, its
    CPU seconds by then).  Exits with the log's tail if the daemon does."""
    t0 = time.monotonic()
    p = subprocess.Popen([pubfeed, "serve", "-c", conf], stdout=log,
                         stderr=subprocess.STDOUT)
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=60).read()
            return p, time.monotonic() - t0, cpu(p.pid)
        except Exception:
            if p.poll() is not None:
                log.flush()
                sys.exit("the daemon exited (%d):\n%s" % (
                    p.returncode, open(log.name).read()[-3000:]))
            time.sleep(0.02)


def evict(*roots):
    """Drop the clean pages of every file below roots from the page cache
    (fsync first: dirty pages cannot be dropped; then posix_fadvise
    DONTNEED; no root needed); the bytes still resident
    after it, by fincore(1), or None without fincore (unchecked)."""
    files = []
    for root in roots:
        for d, _, names in os.walk(root):
            for n in names:
                path = os.path.join(d, n)
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.fsync(fd)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
                files.append(path)
    if shutil.which("fincore") is None:
        return None
    left = 0
    for i in range(0, len(files), 2000):
        out = subprocess.run(["fincore", "-b", "-n", "-o", "RES"] +
                             files[i:i + 2000], capture_output=True,
                             text=True).stdout
        left += sum(int(x) for x in out.split())
    return left


def evicted(left):
    """The line to print after evict()."""
    return ("evicted the records and the state from the page cache (%s)"
            % ("unchecked: no fincore" if left is None else
               "%d KB still resident" % (left // 1024)))
