"""mxtest: what the integration tests share. Start mxdnsd, NSD or Knot on a
free loopback port, wait until it answers, stop it; temporary directories.

    import mxtest
    with mxtest.workdir() as d:
        port = mxtest.free_port()
        srv = mxtest.start_mxdnsd(port, zones=[("diff.test", path)], logdir=d)
        try:
            ...  # query 127.0.0.1@port
        finally:
            srv.stop()          # raises if the server crashed meanwhile

The API, kept small on purpose:
  free_port()                          a port free for UDP and TCP on 127.0.0.1
  workdir()                            context manager: a temp dir, removed after
  binary(env, name)                    path of a built binary ($MXDNSD, ...)
  start_mxdnsd(port, zones=(), args=(), logdir=None, probe=None) -> Server
  start_nsd(port, zones, d) -> Server  zones: [(name, file)], d: a temp dir
  start_knot(port, zones, d) -> Server
  wait_ready(port, probe, proc=None, timeout=10, noerror=False)
  Server.stop(), Server.alive(), Server.log() (its stderr so far), Server.port

Servers are started in the foreground as child processes; stop() sends
SIGTERM, then SIGKILL after a few seconds. Everything must run with Debian's
/usr/bin/python3 (dnspython).
"""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import dns.message
import dns.query
import dns.rcode
import dns.exception

HOST = "127.0.0.1"


class Checker:
    """Counts checks; a failed one is printed with what was checked."""

    def __init__(self, port):
        self.port = port
        self.passed = self.failed = 0

    def ok(self, what, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s%s" % (what, (": " + detail) if detail else ""))
        return cond


def dnsperf(port, qfile, seconds, clients=8, outstanding=200):
    """dnsperf flat out over UDP against 127.0.0.1@port for seconds;
    returns (sent, completed, queries per second). A failed run raises."""
    p = subprocess.run(["dnsperf", "-s", HOST, "-p", str(port), "-d", qfile, "-l", str(seconds),
                        "-c", str(clients), "-q", str(outstanding), "-t", "2"],
                       capture_output=True, text=True, timeout=seconds + 60)
    if p.returncode != 0:
        raise AssertionError("dnsperf failed: %s %s" % (p.stdout[-2000:], p.stderr[-2000:]))
    sent = int(re.search(r"Queries sent:\s+(\d+)", p.stdout).group(1))
    done = int(re.search(r"Queries completed:\s+(\d+)", p.stdout).group(1))
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", p.stdout).group(1))
    return sent, done, qps


def ctl_stats(sock):
    """The counters of the mxdnsd whose control socket is sock
    (`mxdns ctl stats --json`), as a dict. A failed call raises."""
    p = subprocess.run([binary("MXDNS", "mxdns"), "ctl", "--control", sock, "stats", "--json"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("ctl stats: %s" % p.stderr)
    return json.loads(p.stdout)


def free_port():
    """A port that is free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind((HOST, 0))
            port = t.getsockname()[1]
            try:
                u.bind((HOST, port))
            except OSError:
                continue
            return port
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port found")


@contextlib.contextmanager
def workdir(prefix="mxtest-"):
    """A temporary directory, removed afterwards (kept if MXTEST_KEEP is set)."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        yield d
    finally:
        if os.environ.get("MXTEST_KEEP"):
            print("mxtest: kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)


def binary(env, name):
    """The binary named by environment variable env (set by ctest), else
    build/NAME under the source tree; raises if neither exists."""
    path = os.environ.get(env)
    if not path:
        src = os.environ.get("MXDNS_SOURCE_DIR",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
        build = os.environ.get("MXDNS_BUILD_DIR", os.path.join(src, "build"))
        path = os.path.join(build, name)
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s not found (set %s)" % (path, env))
    return path


class Server:
    """A server started as a child process, its stderr+stdout in a file."""

    def __init__(self, name, argv, port, logpath, cwd=None):
        self.name = name
        self.port = port
        self.argv = argv
        self._logpath = logpath
        self._logf = open(logpath, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, cwd=cwd)

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        try:
            with open(self._logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        """Stops the server. Raises RuntimeError if it had died by itself
        (a crash is a test failure even when every answer was right) or
        exited with a sanitizer report."""
        crashed = self.proc.poll()
        if crashed is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._logf.close()
        text = self.log()
        if crashed is not None:
            raise RuntimeError("%s exited by itself with %s:\n%s" % (self.name, crashed, text[-4000:]))
        if "ERROR: AddressSanitizer" in text or "runtime error:" in text or \
           "ERROR: LeakSanitizer" in text:
            raise RuntimeError("%s: sanitizer report:\n%s" % (self.name, text[-6000:]))


def wait_ready(port, probe, proc=None, timeout=10.0, noerror=False):
    """Waits until a UDP query (probe: (qname, qtype)) gets an answer (with
    noerror: a NOERROR one, since Knot says SERVFAIL until its zones are
    loaded) and a TCP connection is accepted. Raises if the process exits or
    time is up."""
    qname, qtype = probe
    deadline = time.monotonic() + timeout
    q = dns.message.make_query(qname, qtype)
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError("%s exited during start-up:\n%s" % (proc.name, proc.log()[-4000:]))
        try:
            r = dns.query.udp(q, HOST, port=port, timeout=0.3)
            if noerror and r.rcode() != dns.rcode.NOERROR:
                time.sleep(0.1)
                continue
            with socket.create_connection((HOST, port), timeout=0.5):
                pass
            return
        except (OSError, dns.exception.DNSException):
            time.sleep(0.1)
    raise RuntimeError("server on port %d not ready after %.0fs%s" % (
        port, timeout, (":\n" + proc.log()[-4000:]) if proc else ""))


def _started(srv, probe, timeout=10.0, noerror=False):
    try:
        wait_ready(srv.port, probe, srv, timeout, noerror)
    except Exception:
        if srv.alive():
            srv.proc.kill()
            srv.proc.wait()
        raise
    return srv


def start_mxdnsd(port, zones=(), args=(), logdir=None, probe=None, timeout=10.0):
    """mxdnsd --listen 127.0.0.1@PORT [--zone NAME:FILE ...] ARGS. With no
    zones it serves its embedded default. probe defaults to the first zone's
    SOA (or example.com SOA)."""
    argv = [binary("MXDNSD", "mxdnsd"), "--listen", "%s@%d" % (HOST, port)]
    for name, path in zones:
        argv += ["--zone", "%s:%s" % (name, os.path.abspath(path))]
    argv += list(args)
    if os.geteuid() == 0 and ("-c" in argv or "--config" in argv) and "--run-as-root" not in argv:
        # mxdnsd refuses to stay root with a configuration file unless told.
        argv.append("--run-as-root")
    if logdir is None:
        logdir = tempfile.mkdtemp(prefix="mxtest-log-")
    probe = probe or ((zones[0][0] if zones else "example.com"), "SOA")
    srv = Server("mxdnsd", argv, port, os.path.join(logdir, "mxdnsd-%d.log" % port))
    return _started(srv, probe, timeout)


def start_nsd(port, zones, d, extra="", timeout=10.0):
    """NSD in the foreground (nsd -d) with everything in directory d.
    minimal-responses keeps NS out of the authority section of positive
    answers, as mxdnsd does; rate limiting is off. extra: more server: lines."""
    nsd = shutil.which("nsd") or "/usr/sbin/nsd"
    conf = os.path.join(d, "nsd.conf")
    lines = ["server:",
             "  ip-address: %s@%d" % (HOST, port),
             "  do-ip6: no",
             "  username: \"\"",
             "  chroot: \"\"",
             "  zonesdir: \"%s\"" % d,
             "  database: \"\"",
             "  zonelistfile: \"%s/zone.list\"" % d,
             "  pidfile: \"%s/nsd.pid\"" % d,
             "  xfrdfile: \"%s/xfrd.state\"" % d,
             "  xfrdir: \"%s\"" % d,
             "  server-count: 1",
             "  verbosity: 1",
             "  minimal-responses: yes",
             "  rrl-ratelimit: 0",
             "  rrl-whitelist-ratelimit: 0",
             "  tcp-count: 100",
             extra,
             "remote-control:",
             "  control-enable: no"]
    for name, path in zones:
        lines += ["zone:", "  name: \"%s\"" % name, "  zonefile: \"%s\"" % os.path.abspath(path)]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    srv = Server("nsd", [nsd, "-d", "-c", conf], port, os.path.join(d, "nsd.log"), cwd=d)
    return _started(srv, (zones[0][0], "SOA"), timeout, noerror=True)


def start_knot(port, zones, d, timeout=10.0):
    """knotd in the foreground with config, rundir and storage in d. The zone
    files are read once and never written back (zonefile-sync: -1)."""
    knotd = shutil.which("knotd") or "/usr/sbin/knotd"
    conf = os.path.join(d, "knot.conf")
    lines = ["server:",
             "  rundir: \"%s\"" % d,
             "  listen: %s@%d" % (HOST, port),
             "  udp-workers: 1",
             "  tcp-workers: 1",
             "  background-workers: 1",
             "log:",
             "  - target: stderr",
             "    any: info",
             "database:",
             "  storage: \"%s\"" % d,
             "template:",
             "  - id: default",
             "    storage: \"%s\"" % d,
             "    zonefile-sync: -1",
             "    zonefile-load: whole",
             "    journal-content: none",
             "zone:"]
    for name, path in zones:
        lines += ["  - domain: \"%s\"" % name, "    file: \"%s\"" % os.path.abspath(path)]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    srv = Server("knotd", [knotd, "-c", conf], port, os.path.join(d, "knot.log"), cwd=d)
    return _started(srv, (zones[0][0], "SOA"), timeout, noerror=True)
