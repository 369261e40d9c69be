"""test_tcp_flood: 5,000 idle TCP connections against mxdnsd.

1. With limits high enough (tcp-max-connections 4000 per worker, 25
   connections from each of 200 loopback addresses under tcp-max-per-ip 32)
   all 5,000 stay open; the UDP answer rate measured by dnsperf with and
   without them differs by less than 20% (medians of 3 runs each); a new
   TCP client still gets its answers; the status counts them open.
2. With a low limit (tcp-max-connections 50 per worker, 2 workers) the
   limit is enforced: of 300 connections at most 100 are served, the rest
   are closed at accept and counted as refused, and tcp-max-per-ip caps one
   address; UDP and new TCP clients are served once the flood is gone.

Raises RLIMIT_NOFILE in this process (mxdnsd inherits it). Needs dnsperf.
Run by ctest with MXDNSD and MXDNS set; /usr/bin/python3 (dnspython)."""
import os
import re
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

HOST = mxtest.HOST
CI = os.environ.get("CI") == "true"
RUN_S = 2 if CI else 3
N_CONN = 5000
PER_ADDR = 25

ZONE_TEXT = """$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
www A 192.0.2.1
"""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def ctl(sock, *args):
    p = subprocess.run([mxtest.binary("MXDNS", "mxdns"), "ctl", "--control", sock] + list(args),
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "ctl %s: %s" % (args, p.stderr))
    return dict(line.split(": ", 1) for line in p.stdout.splitlines() if ": " in line)


def udp_qps(port, qfile):
    p = subprocess.run(["dnsperf", "-s", HOST, "-p", str(port), "-d", qfile, "-l", str(RUN_S),
                        "-c", "4", "-q", "100", "-t", "2"],
                       capture_output=True, text=True, timeout=RUN_S + 60)
    check(p.returncode == 0, "dnsperf: %s" % p.stderr)
    return float(re.search(r"Queries per second:\s+([\d.]+)", p.stdout).group(1))


def median_qps(port, qfile):
    return statistics.median(udp_qps(port, qfile) for _ in range(3))


def open_idle(n, first_octets, per_addr, port):
    socks = []
    for i in range(n):
        a = i // per_addr
        src = "127.%d.%d.%d" % (first_octets, a // 250, a % 250 + 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect((HOST, port))
        socks.append(s)
    return socks


def tcp_ask(s, qname="www.flood.test"):
    """One query on an open connection; True if answered."""
    q = dns.message.make_query(qname, "A")
    w = q.to_wire()
    try:
        s.settimeout(2)
        s.sendall(struct.pack("!H", len(w)) + w)
        hdr = s.recv(2)
        if len(hdr) < 2:
            return False
        n = struct.unpack("!H", hdr)[0]
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                return False
            data += chunk
        return dns.message.from_wire(data).id == q.id
    except OSError:
        return False


def fresh_client(port, src):
    for i in range(10):
        r = dns.query.tcp(dns.message.make_query("www.flood.test", "A"), HOST, port=port, timeout=2,
                          source=src)
        check(r.rcode() == dns.rcode.NOERROR and r.answer, "new TCP client: %s" % r)


def start(d, port, extra):
    conf = os.path.join(d, "mxdnsd-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("server:\n  listen: %s@%d\n  workers: 2\n  control: %s/ctl-%d.sock\n%s"
                "zone:\n  name: flood.test\n  file: %s/flood.zone\n" % (HOST, port, d, port, extra, d))
    return mxtest.start_mxdnsd(port, args=["-c", conf], logdir=d, probe=("flood.test", "SOA"))


def case_many_idle(d, qfile):
    port = mxtest.free_port()
    srv = start(d, port, "  tcp-max-connections: 4000\n  tcp-max-per-ip: 32\n"
                         "  tcp-idle-timeout: 120000\n  tcp-read-timeout: 60000\n")
    sock = "%s/ctl-%d.sock" % (d, port)
    socks = []
    try:
        before = median_qps(port, qfile)
        t0 = time.monotonic()
        socks = open_idle(N_CONN, 3, PER_ADDR, port)
        # accept() runs on the workers: wait until all are counted.
        deadline = time.monotonic() + 20
        st = ctl(sock, "status")
        while int(st["tcp-open"]) < N_CONN and time.monotonic() < deadline:
            time.sleep(0.2)
            st = ctl(sock, "status")
        print("%d idle connections open in %.1fs; status tcp-open %s refused %s"
              % (len(socks), time.monotonic() - t0, st["tcp-open"], st["tcp-refused"]))
        check(int(st["tcp-open"]) == N_CONN, "tcp-open %s, want %d" % (st["tcp-open"], N_CONN))
        check(int(st["tcp-refused"]) == 0, "connections refused under the limits")
        during = median_qps(port, qfile)
        diff = abs(during - before) / before
        print("UDP qps: %.0f without, %.0f with %d idle TCP connections (%.1f%%)"
              % (before, during, N_CONN, 100 * diff))
        check(diff < 0.20, "UDP rate changed by %.0f%% with idle TCP connections" % (100 * diff))
        fresh_client(port, "127.4.0.1")
        # The idle ones are still served when they speak.
        check(all(tcp_ask(s) for s in socks[:50] + socks[-50:]), "an idle connection was not served")
    finally:
        for s in socks:
            s.close()
        srv.stop()


def case_limits(d):
    port = mxtest.free_port()
    srv = start(d, port, "  tcp-max-connections: 50\n  tcp-max-per-ip: 32\n"
                         "  tcp-idle-timeout: 60000\n")
    sock = "%s/ctl-%d.sock" % (d, port)
    socks = []
    try:
        socks = open_idle(300, 5, 1, port)
        time.sleep(0.5)
        served = sum(tcp_ask(s) for s in socks)
        st = ctl(sock, "status")
        print("limit 2x50: %d of 300 served, refused %s, open %s"
              % (served, st["tcp-refused"], st["tcp-open"]))
        check(served <= 100, "%d connections served over a limit of 100" % served)
        check(served >= 50, "only %d connections served" % served)
        check(int(st["tcp-refused"]) >= 300 - served - 5, "refusals not counted: %s" % st["tcp-refused"])
        r = dns.query.udp(dns.message.make_query("www.flood.test", "A"), HOST, port=port, timeout=2)
        check(r.answer, "UDP not answered at the TCP limit")
        for s in socks:
            s.close()
        socks = []
        time.sleep(0.5)
        # Per address: 40 from one address, at most 32 served.
        socks = open_idle(40, 6, 40, port)
        time.sleep(0.3)
        served = sum(tcp_ask(s) for s in socks)
        print("tcp-max-per-ip 32: %d of 40 from one address served" % served)
        check(served <= 32, "%d connections from one address served" % served)
        check(served >= 25, "only %d served from one address" % served)
        for s in socks:
            s.close()
        socks = []
        time.sleep(0.5)
        fresh_client(port, "127.7.0.1")
    finally:
        for s in socks:
            s.close()
        srv.stop()


def main():
    if shutil.which("dnsperf") is None:
        raise SystemExit("test_tcp_flood: dnsperf not found")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = N_CONN + 2000
    if hard != resource.RLIM_INFINITY and hard < want:
        raise SystemExit("test_tcp_flood: RLIMIT_NOFILE hard limit %d < %d" % (hard, want))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    with mxtest.workdir() as d:
        with open(os.path.join(d, "flood.zone"), "w") as f:
            f.write(ZONE_TEXT)
        qfile = os.path.join(d, "q.txt")
        with open(qfile, "w") as f:
            f.write("www.flood.test A\nnx.flood.test A\nflood.test SOA\n" * 100)
        case_many_idle(d, qfile)
        case_limits(d)
    print("test_tcp_flood: ok")


if __name__ == "__main__":
    main()
