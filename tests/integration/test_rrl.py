"""test_rrl: response rate limiting against a spoofed-source flood.

mxdnsd runs with rrl-responses-per-second: RATE and rrl-slip: 2. A "spoofed"
flood comes from 50 sockets bound to 127.0.0.2..51 (one /24; loopback
accepts all of 127/8), paced well above RATE for DURATION seconds. It must
be answered at the configured rate (full answers = RATE per second the
flood touched, with tolerance), and about every other limited response must
come back truncated (TC=1, no records: the slip). Meanwhile a client in
another /24 (127.1.0.1) asking below the rate gets every answer, a zone with
its own rrl-responses-per-second: 0 is not limited, TCP is never limited,
and the counters show drops and slips.

Run by ctest with MXDNSD and MXDNS set; /usr/bin/python3 (dnspython)."""
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

HOST = mxtest.HOST
RATE = 50
DURATION = 3.0 if os.environ.get("CI") == "true" else 5.0
FLOOD_QPS = 2000
SOURCES = ["127.0.0.%d" % i for i in range(2, 52)]

ZONE_TEXT = """$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
www A 192.0.2.1
"""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def flood(port, qname, duration, qps):
    """Sends qname A from SOURCES round-robin at qps for duration seconds;
    returns (sent, full answers, truncated answers, other)."""
    socks = []
    sel = selectors.DefaultSelector()
    for a in SOURCES:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 0))
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
    wire = dns.message.make_query(qname, "A").to_wire()
    sent = full = tc = other = 0
    start = time.monotonic()
    end = start + duration
    i = 0

    def drain(timeout):
        nonlocal full, tc, other
        for key, _ in sel.select(timeout):
            while True:
                try:
                    data = key.fileobj.recv(4096)
                except BlockingIOError:
                    break
                r = dns.message.from_wire(data)
                if r.flags & dns.flags.TC:
                    check(not r.answer and not r.authority, "a slip carries records")
                    tc += 1
                elif r.rcode() == dns.rcode.NOERROR and r.answer:
                    full += 1
                else:
                    other += 1

    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * qps)
        while sent < due:
            try:
                socks[i % len(socks)].sendto(wire, (HOST, port))
            except BlockingIOError:
                pass
            sent += 1
            i += 1
        drain(0.002)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        drain(0.05)
    for s in socks:
        sel.unregister(s)
        s.close()
    return sent, full, tc, other


def steady_client(port, qname, duration, qps, result):
    """Another /24 asking below the rate: every query must be answered."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.1.0.1", 0))
    s.settimeout(2.0)
    asked = answered = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        q = dns.message.make_query(qname, "A")
        s.sendto(q.to_wire(), (HOST, port))
        asked += 1
        try:
            data = s.recv(4096)
            r = dns.message.from_wire(data)
            if r.id == q.id and not (r.flags & dns.flags.TC) and r.answer:
                answered += 1
        except socket.timeout:
            pass
        time.sleep(1.0 / qps)
    s.close()
    result["asked"], result["answered"] = asked, answered


def ctl_stats(sock):
    p = subprocess.run([mxtest.binary("MXDNS", "mxdns"), "ctl", "--control", sock, "stats", "--json"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "ctl stats: %s" % p.stderr)
    return json.loads(p.stdout)


def scrape(port):
    """The Prometheus endpoint's samples: {'name{labels}': value}."""
    with urllib.request.urlopen("http://%s:%d/metrics" % (HOST, port), timeout=5) as r:
        check(r.status == 200, "metrics status %d" % r.status)
        check(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
              "metrics content type %s" % r.headers["Content-Type"])
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def main():
    with mxtest.workdir() as d:
        port = mxtest.free_port()
        mport = mxtest.free_port()
        write(os.path.join(d, "rrl.zone"), ZONE_TEXT)
        write(os.path.join(d, "free.zone"), ZONE_TEXT)
        conf = os.path.join(d, "mxdnsd.conf")
        sock = os.path.join(d, "ctl.sock")
        write(conf, "server:\n  listen: %s@%d\n  workers: 2\n  control: %s\n"
                    "  rrl-responses-per-second: %d\n  rrl-slip: 2\n  metrics-listen: %s@%d\n"
                    "zone:\n  name: rrl.test\n  file: rrl.zone\n"
                    "zone:\n  name: free.test\n  file: free.zone\n  rrl-responses-per-second: 0\n"
              % (HOST, port, sock, RATE, HOST, mport))
        srv = mxtest.start_mxdnsd(port, args=["-c", conf], logdir=d, probe=("rrl.test", "SOA"))
        try:
            time.sleep(1.1)  # the probes' bucket refills
            m0 = scrape(mport)
            res = {}
            t = threading.Thread(target=steady_client, args=(port, "www.rrl.test", DURATION, 10, res))
            t0 = time.monotonic()
            t.start()
            sent, full, tc, other = flood(port, "www.rrl.test", DURATION, FLOOD_QPS)
            elapsed = time.monotonic() - t0
            t.join()
            limited = sent - full
            print("flood: %d sent in %.1fs, %d answered, %d truncated (slips), %d other; "
                  "steady client: %d/%d" % (sent, elapsed, full, tc, other, res["answered"], res["asked"]))
            # The bucket refills each second: RATE answers per second
            # touched, i.e. between RATE*DURATION and RATE*(DURATION+1),
            # with 20% either way for scheduling.
            check(full >= 0.8 * RATE * DURATION, "too few answers: %d (rate %d for %.0fs)" % (full, RATE, DURATION))
            check(full <= 1.2 * RATE * (DURATION + 1), "too many answers: %d (rate %d for %.0fs)" % (full, RATE, DURATION))
            check(sent > 5 * full, "the flood was not a flood: %d sent" % sent)
            check(0.35 * limited <= tc <= 0.65 * limited,
                  "slip 2 should truncate about half of %d limited responses, got %d" % (limited, tc))
            check(other == 0, "%d odd answers" % other)
            check(res["asked"] >= 0.8 * 10 * DURATION, "steady client asked too little: %d" % res["asked"])
            check(res["answered"] == res["asked"],
                  "the other /24 lost answers: %d of %d" % (res["answered"], res["asked"]))

            # The zone with rrl-responses-per-second: 0 is not limited.
            sent2, full2, tc2, _ = flood(port, "www.free.test", 1.0, 500)
            check(tc2 == 0 and full2 >= 0.98 * sent2,
                  "free.test was limited: %d of %d answered, %d truncated" % (full2, sent2, tc2))

            # TCP from the flooding /24 is not limited.
            for i in range(20):
                q = dns.message.make_query("www.rrl.test", "A")
                r = dns.query.tcp(q, HOST, port=port, timeout=2, source="127.0.0.9")
                check(r.answer and not r.flags & dns.flags.TC, "TCP answer %d limited" % i)

            st = ctl_stats(sock)
            print("stats: rrl-dropped %d rrl-slipped %d" % (st["rrl-dropped"], st["rrl-slipped"]))
            check(st["rrl-slipped"] >= tc, "rrl-slipped %d < %d slips seen" % (st["rrl-slipped"], tc))
            check(st["rrl-dropped"] + st["rrl-slipped"] >= 0.95 * limited,
                  "rrl counters %d+%d for %d limited" % (st["rrl-dropped"], st["rrl-slipped"], limited))
            check(st["queries"]["tcp"] >= 20, "tcp queries not counted")

            # The Prometheus endpoint moved with the flood.
            m1 = scrape(mport)

            def moved(k):
                return m1.get(k, 0) - m0.get(k, 0)
            udp = moved('mxdns_queries_total{proto="udp"}')
            print("metrics: udp +%d, rrl dropped +%d slipped +%d, rrl.test +%d" % (
                udp, moved('mxdns_rrl_responses_total{action="dropped"}'),
                moved('mxdns_rrl_responses_total{action="slipped"}'),
                moved('mxdns_zone_queries_total{zone="rrl.test."}')))
            check(udp >= sent + sent2, "udp queries moved by %d for %d sent" % (udp, sent + sent2))
            check(moved('mxdns_queries_total{proto="tcp"}') >= 20, "tcp queries did not move")
            check(moved('mxdns_rrl_responses_total{action="slipped"}') >= tc, "slips did not move")
            check(moved('mxdns_rrl_responses_total{action="dropped"}') > 0, "drops did not move")
            check(moved('mxdns_zone_queries_total{zone="rrl.test."}') >= sent, "zone counter did not move")
            check(moved('mxdns_zone_queries_total{zone="free.test."}') >= sent2, "free.test counter")
            check(moved('mxdns_queries_by_qtype_total{qtype="A"}') >= sent, "qtype A did not move")
            check(m1['mxdns_responses_total{rcode="NOERROR"}'] > m0['mxdns_responses_total{rcode="NOERROR"}'],
                  "NOERROR did not move")
            try:
                urllib.request.urlopen("http://%s:%d/other" % (HOST, mport), timeout=5)
                check(False, "/other answered")
            except urllib.error.HTTPError as e:
                check(e.code == 404, "/other: %d" % e.code)
        finally:
            srv.stop()
    print("test_rrl: ok")


if __name__ == "__main__":
    main()
