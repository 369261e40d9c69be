#!/usr/bin/python3
"""test_dnsbl_monotonic: a client never sees a DNSBL change undone.

Each mxdnsd worker reads the LMDB database in its own read transaction,
renewed every few milliseconds. With two workers, a query answered by the
one that renewed after a commit and the next query answered by the other
(still on the snapshot before it) would show an address listed, then not
listed: an MTA asking A and then TXT would get contradicting answers. So a
worker whose snapshot is older than the newest any worker has answered
from renews first.

The test runs mxdnsd with two workers, commits 100 single adds with
`mxdns bl add`, and after each one queries the new address from fresh
sockets (so SO_REUSEPORT spreads them over both workers): once an answer
says listed, no later answer may say otherwise. Before the fix this saw
85 reversals in 150 commits. Run by ctest with MXDNSD and MXDNS set.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

ZONE = "bl.test"
COMMITS = 100


def listed(port, addr):
    name = ".".join(reversed(addr.split("."))) + "." + ZONE
    r = dns.query.udp(dns.message.make_query(name, "A"), mxtest.HOST, port=port, timeout=2)
    if r.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise AssertionError("%s: %s" % (addr, dns.rcode.to_text(r.rcode())))
    return r.rcode() == dns.rcode.NOERROR and bool(r.answer)


def main():
    mxdns = mxtest.binary("MXDNS", "mxdns")
    reversals, unseen = [], []
    with mxtest.workdir("mxmono-") as d:
        db = os.path.join(d, "bl.mdb")
        subprocess.run([mxdns, "bl", "--db", db, "--list", ZONE, "-q", "add", "192.0.2.1"],
                       check=True, timeout=60)
        srv = mxtest.start_mxdnsd(mxtest.free_port(),
                                  args=["--workers", "2", "--dnsbl", "%s:%s" % (ZONE, db)],
                                  logdir=d, probe=("1.2.0.192." + ZONE, "A"))
        try:
            for i in range(COMMITS):
                addr = "198.18.%d.%d" % (i // 250, i % 250 + 1)
                # Query while the add commits, and on for 50 ms after the
                # first "listed", which covers the workers' renewal period.
                w = subprocess.Popen([mxdns, "bl", "--db", db, "--list", ZONE, "-q", "add", addr])
                first, t0 = None, time.monotonic()
                while time.monotonic() - t0 < 5:
                    now = listed(srv.port, addr)
                    if first is not None and not now:
                        reversals.append(addr)
                        break
                    if now and first is None:
                        first = time.monotonic()
                    if first is not None and time.monotonic() - first > 0.05:
                        break
                if w.wait(timeout=60) != 0:
                    raise AssertionError("mxdns bl add %s failed" % addr)
                if first is None:
                    unseen.append(addr)
        finally:
            srv.stop()
    print("%d commits, %d reversals, %d never seen listed within 5 s"
          % (COMMITS, len(reversals), len(unseen)))
    if reversals or unseen:
        print("FAIL: reversed: %s; unseen: %s" % (reversals[:5], unseen[:5]))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
