#!/usr/bin/python3
"""No heap allocation per query (DESIGN.md: "never malloc on the query path").

Runs mxdnsd (one worker, the example zones and a DNSBL zone) under valgrind's
memcheck twice, answering N and then 2N queries (UDP, one by one so every
query is its own recvmmsg batch too, plus a tenth as many pipelined over one
TCP connection), and compares valgrind's "total heap usage: A allocs". The
count is deterministic, not timed: a per-query (or per-batch) allocation
shows as a difference of about N, start-up and shutdown cancel out. The
difference must stay under SLACK.

Environment: MXDNSD and MXDNS (the binaries). Needs valgrind; a missing valgrind fails
the test rather than passing silently. ALLOC_QUERIES overrides N (10000).
"""
import glob
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

N = int(os.environ.get("ALLOC_QUERIES", "10000"))
SLACK = 50   # allocations allowed to differ between the runs
TIMEOUT = 120

# The mail mix against the built-in example.com, with and without EDNS,
# and names that take the NXDOMAIN, NODATA, referral-free and CHAOS paths.
QUERIES = [
    ("example.com.", "MX", True), ("example.com.", "TXT", True),
    ("mx1.example.com.", "A", False), ("mx1.example.com.", "AAAA", True),
    ("mail2026._domainkey.example.com.", "TXT", True), ("_dmarc.example.com.", "TXT", False),
    ("_25._tcp.mx1.example.com.", "TLSA", True), ("_mta-sts.example.com.", "TXT", True),
    ("nx.example.com.", "A", True), ("mx1.example.com.", "MX", False),
    ("example.com.", "SOA", True), ("example.com.", "NS", False),
    ("EXAMPLE.COM.", "mx", True), ("25.2.0.192.in-addr.arpa.", "PTR", True),
    ("not-ours.test.", "A", True), ("version.bind.", "TXT", False),
    # The DNSBL: listed (A, and TXT with the address put in), unlisted in
    # an empty /24 (stops at the filter) and next to a listing (walks the
    # B-tree), the RFC 5782 test point.
    ("5.2.0.192.bl.test.", "A", True), ("5.2.0.192.bl.test.", "TXT", True),
    ("7.100.51.198.bl.test.", "A", True), ("9.3.0.192.bl.test.", "A", False),
    ("2.0.0.127.bl.test.", "TXT", True),
]
SRC = os.environ.get("MXDNS_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def wires():
    out = []
    for i, (name, qtype, edns) in enumerate(QUERIES):
        rdclass = "CH" if name == "version.bind." else "IN"
        m = dns.message.make_query(name, qtype, rdclass, use_edns=0 if edns else None)
        m.id = i
        out.append(m.to_wire())
    return out


def udp_queries(port, n, wire):
    """Sends n queries one at a time; returns the answers' rcodes seen."""
    seen = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2.0)
        s.connect((mxtest.HOST, port))
        for i in range(n):
            q = wire[i % len(wire)]
            for attempt in range(5):
                s.send(q)
                try:
                    r = s.recv(65535)
                except socket.timeout:
                    continue
                if r[:2] == q[:2]:
                    break
            else:
                raise AssertionError("no answer to UDP query %d" % i)
            seen[r[3] & 15] = seen.get(r[3] & 15, 0) + 1
    return seen


def tcp_queries(port, n, wire):
    """n queries pipelined over one connection, in windows of 50."""
    got = 0
    with socket.create_connection((mxtest.HOST, port), timeout=10) as s:
        buf = b""
        sent = 0
        while got < n:
            window = min(50, n - sent)
            s.sendall(b"".join(struct.pack("!H", len(q)) + q for q in
                               (wire[(sent + k) % len(wire)] for k in range(window))))
            sent += window
            while got < sent:
                while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise AssertionError("TCP connection closed after %d answers" % got)
                    buf += chunk
                ln = struct.unpack("!H", buf[:2])[0]
                buf = buf[2 + ln:]
                got += 1
    return got


def run(n, d, tag):
    port = mxtest.free_port()
    log = os.path.join(d, "vg-%s.log" % tag)
    cmd = ["valgrind", "--tool=memcheck", "--log-file=" + log, "--error-exitcode=0",
           os.environ["MXDNSD"], "--listen", "%s@%d" % (mxtest.HOST, port), "--workers", "1",
           "--log-level", "warning", "--dnsbl", "bl.test:" + os.path.join(d, "bl.mdb")]
    for f in sorted(glob.glob(os.path.join(SRC, "zones", "examples", "*.zone"))):
        cmd += ["--zone", "%s:%s" % (os.path.basename(f)[:-len(".zone")], f)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        mxtest.wait_ready(port, ("example.com.", "MX"), timeout=60, noerror=True)
        r = dns.query.udp(dns.message.make_query("5.2.0.192.bl.test.", "A"), mxtest.HOST,
                          port=port, timeout=10)
        if r.rcode() != dns.rcode.NOERROR or not r.answer:
            raise AssertionError("the DNSBL zone does not answer:\n%s" % r)
        wire = wires()
        seen = udp_queries(port, n, wire)
        if seen.get(0, 0) < n // 2:
            raise AssertionError("too few NOERROR answers: %r" % seen)
        tcp_queries(port, n // 10, wire)
        p.send_signal(signal.SIGTERM)
        p.wait(TIMEOUT)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    with open(log) as f:
        text = f.read()
    m = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes", text)
    if not m:
        raise AssertionError("no heap summary from valgrind (%s):\n%s" % (log, text[-2000:]))
    allocs = int(m.group(1).replace(",", ""))
    print("%s: %d UDP + %d TCP queries: %d allocs, %s frees, %s bytes"
          % (tag, n, n // 10, allocs, m.group(2), m.group(3)))
    return allocs


def main():
    if not shutil.which("valgrind"):
        print("FAIL: valgrind is not installed (apt-get install valgrind)")
        return 1
    mxdnsd = os.environ["MXDNSD"]
    libs = subprocess.run(["ldd", mxdnsd], capture_output=True, text=True).stdout
    if "libasan" in libs:
        # valgrind cannot run an AddressSanitizer binary; the plain build
        # of the same test command runs this check.
        print("skipped: %s is an ASan build, which valgrind cannot run" % mxdnsd)
        return 0
    t0 = time.monotonic()
    with mxtest.workdir() as d:
        subprocess.run([mxtest.binary("MXDNS", "mxdns"), "bl", "--db", os.path.join(d, "bl.mdb"),
                        "--list", "bl.test", "-q", "add", "192.0.2.0/29", "192.0.3.1",
                        "--reason", "listed: see https://bl.test/?ip=$"], check=True, timeout=60)
        a = run(N, d, "N")
        b = run(2 * N, d, "2N")
    diff = b - a
    print("difference: %d allocations for %d more queries (%.4f per query), %.0f s"
          % (diff, N + N // 10, diff / (N + N // 10), time.monotonic() - t0))
    if abs(diff) >= SLACK:
        print("FAIL: the query path allocates (about %.2f allocations per query)"
              % (diff / (N + N // 10)))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
