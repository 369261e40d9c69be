"""test_coalesce: UDP receive coalescing (udp-coalesce in mxdnsd.conf(5)).

- An idle server never pauses: 200 queries asked one at a time are all
  answered and the udp-pauses counter stays 0, so a lone query is never
  held back.
- Under load it does: dnsperf flat out for 2 s against one worker makes it
  pause (udp-pauses > 0), and dnsperf gets its answers.
- udp-coalesce: 0 turns it off: the same load, no pause.

Needs dnsperf. Run by ctest with MXDNSD and MXDNS set; /usr/bin/python3
(dnspython)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

HOST = mxtest.HOST
ZONE = "coalesce.test"
ZONE_TEXT = """$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
@ MX 10 mx
ns A 127.0.0.1
mx A 192.0.2.25
"""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Daemon:
    def __init__(self, d, coalesce):
        self.port = mxtest.free_port()
        self.sock = os.path.join(d, "ctl-%d.sock" % self.port)
        conf = os.path.join(d, "coalesce-%d.conf" % self.port)
        extra = "" if coalesce is None else "  udp-coalesce: %d\n" % coalesce
        with open(conf, "w") as f:
            f.write("server:\n  listen: %s@%d\n  workers: 1\n  control: %s\n%s"
                    "zone:\n  name: %s\n  file: %s\n"
                    % (HOST, self.port, self.sock, extra, ZONE, os.path.join(d, "zone")))
        self.srv = mxtest.start_mxdnsd(self.port, args=["-c", conf], logdir=d, probe=(ZONE, "SOA"))

    def pauses(self):
        return mxtest.ctl_stats(self.sock)["udp-pauses"]

    def load(self, qfile):
        """dnsperf flat out for 2 s; returns (sent, completed)."""
        sent, done, _ = mxtest.dnsperf(self.port, qfile, 2, clients=4)
        return sent, done


def main():
    if shutil.which("dnsperf") is None:
        raise SystemExit("test_coalesce: dnsperf not found (apt-get install dnsperf)")
    with mxtest.workdir() as d:
        with open(os.path.join(d, "zone"), "w") as f:
            f.write(ZONE_TEXT)
        qfile = os.path.join(d, "queries.txt")
        with open(qfile, "w") as f:
            f.write("coalesce.test MX\nmx.coalesce.test A\nnx.coalesce.test A\n" * 100)

        dm = Daemon(d, None)  # the default: on
        try:
            for i in range(200):
                r = dns.query.udp(dns.message.make_query("mx." + ZONE, "A"), HOST, port=dm.port, timeout=2)
                check(r.rcode() == dns.rcode.NOERROR and r.answer[0][0].address == "192.0.2.25",
                      "query %d one at a time: %s" % (i, r))
            idle = dm.pauses()
            check(idle == 0, "%d pauses with one query at a time" % idle)
            sent, done = dm.load(qfile)
            busy = dm.pauses()
            print("coalescing on: %d pauses idle; under load %d of %d answered, %d pauses"
                  % (idle, done, sent, busy))
            check(done >= 0.9 * sent, "only %d of %d answered under load" % (done, sent))
            check(busy > 0, "no pause under load with udp-coalesce on")
        finally:
            dm.srv.stop()

        dm = Daemon(d, 0)
        try:
            sent, done = dm.load(qfile)
            off = dm.pauses()
            print("udp-coalesce: 0: under load %d of %d answered, %d pauses" % (done, sent, off))
            check(done >= 0.9 * sent, "only %d of %d answered with coalescing off" % (done, sent))
            check(off == 0, "%d pauses with udp-coalesce: 0" % off)
        finally:
            dm.srv.stop()
    print("test_coalesce: ok")


if __name__ == "__main__":
    main()
