"""test_overload: dnsperf at its maximum against mxdnsd for 30 s. The daemon keeps answering (dnsperf completes most queries and a
probe client is answered during the run), its memory stays flat (VmRSS
after the run within a small bound of VmRSS after a warm-up run), and it
answers normally afterwards.

Needs dnsperf (a missing dnsperf fails the test). Run by ctest with MXDNSD
set; /usr/bin/python3 (dnspython)."""
import os
import re
import shutil
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

HOST = mxtest.HOST
DURATION = 30
RSS_SLACK_KB = 8 * 1024

ZONE_TEXT = """$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
@ MX 10 mx
ns A 127.0.0.1
mx A 192.0.2.25
www A 192.0.2.1
*.wild TXT "wildcard"
sub NS ns.sub
ns.sub A 192.0.2.53
"""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def probe(port, stop, res):
    """A normal client asking twice a second during the overload."""
    while not stop.is_set():
        res["asked"] += 1
        try:
            r = dns.query.udp(dns.message.make_query("www.load.test", "A"), HOST, port=port, timeout=1)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                res["answered"] += 1
        except dns.exception.Timeout:
            pass
        stop.wait(0.5)


def normal_answers(port, n=100):
    for i in range(n):
        q = dns.message.make_query("www.load.test", "A")
        r = dns.query.udp(q, HOST, port=port, timeout=2) if i % 2 else dns.query.tcp(q, HOST, port=port, timeout=2)
        check(r.rcode() == dns.rcode.NOERROR and r.answer[0][0].address == "192.0.2.1",
              "query %d after the load: %s" % (i, r))
        r = dns.query.udp(dns.message.make_query("nx%d.load.test" % i, "A"), HOST, port=port, timeout=2)
        check(r.rcode() == dns.rcode.NXDOMAIN, "NXDOMAIN %d after the load" % i)


def main():
    if shutil.which("dnsperf") is None:
        raise SystemExit("test_overload: dnsperf not found (apt-get install dnsperf)")
    with mxtest.workdir() as d:
        zone = os.path.join(d, "load.zone")
        with open(zone, "w") as f:
            f.write(ZONE_TEXT)
        qfile = os.path.join(d, "queries.txt")
        with open(qfile, "w") as f:
            # A mix: positive, MX with additional, NXDOMAIN, NODATA,
            # wildcard, referral, refused.
            for i in range(1000):
                f.write("www.load.test A\nload.test MX\nnx%d.load.test A\nwww.load.test AAAA\n"
                        "x%d.wild.load.test TXT\nh%d.sub.load.test A\nelsewhere.example A\n" % (i, i, i))
        port = mxtest.free_port()
        srv = mxtest.start_mxdnsd(port, zones=[("load.test", zone)], args=["--workers", "2"], logdir=d)
        try:
            pid = srv.proc.pid
            sent, done, qps = mxtest.dnsperf(port, qfile, 3)
            rss0 = rss_kb(pid)
            print("warm-up: %d sent, %d completed, %.0f qps; VmRSS %d kB" % (sent, done, qps, rss0))
            stop = threading.Event()
            res = {"asked": 0, "answered": 0}
            t = threading.Thread(target=probe, args=(port, stop, res))
            t.start()
            try:
                sent, done, qps = mxtest.dnsperf(port, qfile, DURATION)
            finally:
                stop.set()
                t.join()
            rss1 = rss_kb(pid)
            print("overload %ds: %d sent, %d completed (%.1f%%), %.0f qps; probe %d/%d; VmRSS %d kB (%+d)"
                  % (DURATION, sent, done, 100.0 * done / max(sent, 1), qps, res["answered"], res["asked"],
                     rss1, rss1 - rss0))
            check(srv.alive(), "mxdnsd died under load")
            check(done >= 0.9 * sent, "only %d of %d queries answered under load" % (done, sent))
            check(res["answered"] >= 0.8 * res["asked"],
                  "probe answered %d of %d during the load" % (res["answered"], res["asked"]))
            check(rss1 - rss0 <= RSS_SLACK_KB, "VmRSS grew by %d kB under load" % (rss1 - rss0))
            normal_answers(port)
            check(rss_kb(pid) - rss0 <= RSS_SLACK_KB, "VmRSS grew after the load")
        finally:
            srv.stop()
    print("test_overload: ok")


if __name__ == "__main__":
    main()
