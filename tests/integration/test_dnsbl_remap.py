#!/usr/bin/python3
"""test_dnsbl_remap: the DNSBL database outgrows the daemon's map.

mxdnsd maps a DNSBL database read-only with room to spare (256 GiB of
address space), so that `mxdns bl` can grow the file while it runs. When
the data does pass the daemon's map, LMDB refuses the daemon's next read
transaction (MDB_MAP_RESIZED) and the daemon must map the file again and
go on answering. This test gives the daemon a 16 MiB map
(MXDNS_BLSTORE_READER_MAPSIZE, a test hook) and imports 800,000 addresses
(about 30 MB) while it answers, then checks:

  - the file did grow past 16 MiB (else the test proved nothing);
  - the daemon answers the new entries within 10 s, and the old ones;
  - it stayed up, said it remapped, and answered no query wrongly (a
    SERVFAIL while it remaps is allowed: the query is retried).
Run by ctest with MXDNSD and MXDNS set.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

ZONE = "bl.test"
N = 800000
READER_MAP = 16 << 20


def state(port, addr):
    name = ".".join(reversed(addr.split("."))) + "." + ZONE
    r = dns.query.udp(dns.message.make_query(name, "A"), mxtest.HOST, port=port, timeout=2)
    if r.rcode() == dns.rcode.NXDOMAIN:
        return "nx"
    if r.rcode() == dns.rcode.SERVFAIL:
        return "servfail"
    if r.rcode() == dns.rcode.NOERROR and r.answer:
        return "listed"
    return "bad: %s" % r


def mxdns(db, *args):
    p = subprocess.run([mxtest.binary("MXDNS", "mxdns"), "bl", "--db", db, "--list", ZONE] +
                       list(args), capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("mxdns bl %s: %s" % (args[0], p.stderr))
    return p.stdout


def main():
    failures = []
    with mxtest.workdir("mxremap-") as d:
        db = os.path.join(d, "bl.mdb")
        mxdns(db, "-q", "add", "192.0.2.1")
        big = os.path.join(d, "big.txt")
        with open(big, "w") as f:
            for i in range(N):
                f.write("10.%d.%d.%d\n" % (i >> 16, (i >> 8) & 255, i & 255))
        last = "10.%d.%d.%d" % ((N - 1) >> 16, ((N - 1) >> 8) & 255, (N - 1) & 255)
        port = mxtest.free_port()
        os.environ["MXDNS_BLSTORE_READER_MAPSIZE"] = str(READER_MAP)
        try:
            srv = mxtest.start_mxdnsd(port, args=["--dnsbl", "%s:%s" % (ZONE, db),
                                                  "--log-level", "info"],
                                      logdir=d, probe=("1.2.0.192." + ZONE, "A"))
        finally:
            del os.environ["MXDNS_BLSTORE_READER_MAPSIZE"]
        try:
            if state(port, "192.0.2.1") != "listed":
                failures.append("192.0.2.1 not listed before the import")
            mxdns(db, "-q", "import", big, "--format", "plain", "--force")
            size = os.path.getsize(db)
            if size <= READER_MAP:
                failures.append("the file (%d bytes) did not outgrow the daemon's map" % size)
            deadline = time.monotonic() + 10
            seen = {}
            while True:
                try:
                    s = state(port, last)
                except dns.exception.Timeout:
                    s = "timeout"
                seen[s] = seen.get(s, 0) + 1
                if s == "listed" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            print("after the import: %s" % seen)
            if s != "listed":
                failures.append("%s not answered within 10 s (%s)" % (last, seen))
            if state(port, "192.0.2.1") != "listed" or state(port, "10.0.0.1") != "listed":
                failures.append("older or first imported entries not answered after the remap")
            if state(port, "172.16.0.1") != "nx":
                failures.append("an unlisted address is not NXDOMAIN after the remap")
            if not re.search(r"grew, remapped", srv.log()):
                failures.append("no remap in the log:\n%s" % srv.log()[-2000:])
            bad = [k for k in seen if k not in ("nx", "servfail", "listed", "timeout")]
            if bad:
                failures.append("wrong answers during the remap: %s" % bad)
        finally:
            srv.stop()
    for f in failures:
        print("FAIL " + f)
    print("ok" if not failures else "%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
