"""test_tcp_flood: 5,000 idle TCP connections against mxdnsd.

1. With limits high enough (tcp-max-connections 4000 per worker, 25
   connections from each of 200 loopback addresses under tcp-max-per-ip 32)
   all 5,000 stay open; the UDP answer rate measured by dnsperf with them
   is not more than 20% below the rate without (medians of 3 interleaved
   runs each; asserted when the machine's load average is below its CPU
   count, since other processes move it), and mxdnsd's CPU time per UDP
   answer (which they move less) does not rise by more than 20%; a new
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


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def udp_qps(port, qfile, pid):
    """dnsperf for RUN_S seconds: (queries per second, mxdnsd CPU ticks
    per 1000 answered queries)."""
    t0 = cpu_ticks(pid)
    p = subprocess.run(["dnsperf", "-s", HOST, "-p", str(port), "-d", qfile, "-l", str(RUN_S),
                        "-c", "4", "-q", "100", "-t", "2"],
                       capture_output=True, text=True, timeout=RUN_S + 60)
    t1 = cpu_ticks(pid)
    check(p.returncode == 0, "dnsperf: %s" % p.stderr)
    done = int(re.search(r"Queries completed:\s+(\d+)", p.stdout).group(1))
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", p.stdout).group(1))
    return qps, 1000.0 * (t1 - t0) / max(done, 1)


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
        # Without and with, interleaved over 3 rounds (the machine's load
        # drifts; medians of interleaved runs compare like with like).
        without, with_ = [], []
        for rnd in range(3):
            without.append(udp_qps(port, qfile, srv.proc.pid))
            t0 = time.monotonic()
            socks = open_idle(N_CONN, 3, PER_ADDR, port)
            # accept() runs on the workers: wait until all are counted.
            deadline = time.monotonic() + 20
            st = ctl(sock, "status")
            while int(st["tcp-open"]) < N_CONN and time.monotonic() < deadline:
                time.sleep(0.2)
                st = ctl(sock, "status")
            print("round %d: %d idle connections open in %.1fs; status tcp-open %s refused %s"
                  % (rnd, len(socks), time.monotonic() - t0, st["tcp-open"], st["tcp-refused"]))
            check(int(st["tcp-open"]) == N_CONN, "tcp-open %s, want %d" % (st["tcp-open"], N_CONN))
            check(int(st["tcp-refused"]) == 0, "connections refused under the limits")
            with_.append(udp_qps(port, qfile, srv.proc.pid))
            if rnd < 2:
                for s in socks:
                    s.close()
                socks = []
                deadline = time.monotonic() + 20
                while int(ctl(sock, "status")["tcp-open"]) > 0 and time.monotonic() < deadline:
                    time.sleep(0.2)
        before = statistics.median(q for q, _ in without)
        during = statistics.median(q for q, _ in with_)
        cpu0 = statistics.median(c for _, c in without)
        cpu1 = statistics.median(c for _, c in with_)
        load = os.getloadavg()[0]
        print("UDP qps: %.0f without, %.0f with %d idle TCP connections (%+.1f%%); runs %s / %s"
              % (before, during, N_CONN, 100 * (during - before) / before,
                 ["%.0f" % q for q, _ in without], ["%.0f" % q for q, _ in with_]))
        print("mxdnsd CPU per 1000 UDP answers: %.2f ticks without, %.2f with (%+.1f%%); load %.1f on %d CPUs"
              % (cpu0, cpu1, 100 * (cpu1 - cpu0) / cpu0, load, os.cpu_count()))
        # The daemon's own cost per UDP answer does not depend on other
        # processes: it must not change with idle connections.
        # (Under contention batches grow and the cost per answer falls,
        # so only a rise is a finding.)
        # Both are read from scheduler ticks over a few seconds, so on a
        # machine busy with other work (a loaded CI box, a sanitizer build
        # beside other jobs) they are reported, not asserted; the
        # connection-limit and still-served checks around them always are.
        # Each round's run with the connections is judged against the run
        # without them just before it, and only a change in every round
        # fails: a cost the connections add shows each time, while the
        # host's drift (a third between runs on our CI guests) hits one.
        cpu_rise = [w[1] / o[1] for o, w in zip(without, with_)]
        rate_kept = [w[0] / o[0] for o, w in zip(without, with_)]
        print("per round, CPU per answer with/without: %s; rate with/without: %s"
              % (["%.2f" % x for x in cpu_rise], ["%.2f" % x for x in rate_kept]))
        if load < os.cpu_count():
            check(min(cpu_rise) <= 1.2,
                  "CPU per UDP answer rose by %.0f%% or more in every round with idle TCP "
                  "connections" % (100 * (min(cpu_rise) - 1)))
            # The rate (faster with them is noise either way).
            check(max(rate_kept) >= 0.8,
                  "UDP rate fell by %.0f%% or more in every round with idle TCP connections"
                  % (100 * (1 - max(rate_kept))))
        else:
            print("load %.1f >= %d CPUs: the CPU and qps comparisons are reported, not asserted"
                  % (load, os.cpu_count()))
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
