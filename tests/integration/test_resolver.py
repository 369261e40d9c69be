#!/usr/bin/python3
"""test_resolver: mxdnsd behind a real recursive resolver (Unbound).

Mail servers do not ask mxdnsd directly: they ask their resolver, which
follows referrals, retries over TCP after TC=1, and caches by the TTLs and
SOA minimum it was given. This test puts Unbound (stub zones pointing at
mxdnsd on loopback) between the client and mxdnsd, which serves the example
zones and a DNSBL list, and checks through the resolver:

  - every RRset of zones/examples/example.com.zone, the reverse zones and
    a zone with a 4096-bit DKIM key arrives as in the file (data; TTL at
    most the file's);
  - Unbound's EDNS buffer is set to 512 bytes, so the 4096-bit key and a
    40-address RRset come back with TC=1 and must be fetched over TCP;
  - NXDOMAIN and NODATA reach the client as such, with the zone's SOA;
  - the DNSBL: the RFC 5782 test point, a listed address with its TXT
    reason, an unlisted address (NXDOMAIN), all as an MTA would ask.
Prints "N passed, N failed" and exits non-zero on any failure.
"""
import base64
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.zone  # noqa: E402

SRC = os.environ.get("MXDNS_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(SRC, "zones", "examples")
BL = "bl.example.net"
BIG = "big.example.org"


class Checker(mxtest.Checker):
    def ask(self, qname, qtype):
        """Through the resolver, as a stub resolver asks: RD=1 over UDP,
        EDNS with a buffer large enough that the resolver's answer fits."""
        q = dns.message.make_query(qname, qtype, use_edns=0, payload=4096)
        return dns.query.udp(q, mxtest.HOST, port=self.port, timeout=5)


def start_unbound(port, mx_port, zones, d):
    unbound = shutil.which("unbound") or "/usr/sbin/unbound"
    lines = ["server:",
             "  interface: %s@%d" % (mxtest.HOST, port),
             "  port: %d" % port,
             "  do-ip6: no",
             "  username: \"\"",
             "  chroot: \"\"",
             "  directory: \"%s\"" % d,
             "  pidfile: \"%s/unbound.pid\"" % d,
             "  use-syslog: no",
             "  logfile: \"\"",
             "  verbosity: 1",
             "  num-threads: 1",
             "  module-config: \"iterator\"",
             "  do-not-query-localhost: no",
             "  access-control: 127.0.0.0/8 allow",
             # Small enough that the DKIM TXT and the MX answer with its
             # additional data are truncated: the TCP retry is tested.
             "  edns-buffer-size: 512",
             "  qname-minimisation: yes",
             "  harden-referral-path: no",
             "  minimal-responses: no",
             "remote-control:",
             "  control-enable: no"]
    # Unbound answers the documentation ranges' reverse zones itself
    # (RFC 6303 local zones) unless told not to.
    lines[-2:-2] = ["  local-zone: \"%s\" nodefault" % z for z in zones]
    for z in zones:
        lines += ["stub-zone:", "  name: \"%s\"" % z, "  stub-addr: %s@%d" % (mxtest.HOST, mx_port)]
    conf = os.path.join(d, "unbound.conf")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    srv = mxtest.Server("unbound", [unbound, "-d", "-c", conf], port, os.path.join(d, "unbound.log"))
    return mxtest._started(srv, ("example.com", "SOA"), 15.0, noerror=True)


def check_zone(c, path):
    z = dns.zone.from_file(path, relativize=False, check_origin=False)
    for name, node in z.nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype == dns.rdatatype.SOA and name != z.origin:
                continue
            what = "%s %s" % (name, dns.rdatatype.to_text(rds.rdtype))
            r = c.ask(name, rds.rdtype)
            if not c.ok(what + ": NOERROR", r.rcode() == dns.rcode.NOERROR,
                        dns.rcode.to_text(r.rcode())):
                continue
            got = r.get_rrset(r.answer, name, rds.rdclass, rds.rdtype)
            if not c.ok(what + ": answered", got is not None, str(r)):
                continue
            c.ok(what + ": data", set(got) == set(rds),
                 "got %s, want %s" % (sorted(map(str, got)), sorted(map(str, rds))))
            c.ok(what + ": TTL", 0 < got.ttl <= rds.ttl, "%d > %d" % (got.ttl, rds.ttl))


def write_big_zone(d):
    """A zone whose DKIM key (RSA 4096, as some senders publish) and
    address RRset do not fit in 512 bytes."""
    key = base64.b64encode(os.urandom(550)).decode()
    txt = " ".join('"%s"' % key[i:i + 255] for i in range(0, len(key), 255))
    lines = ["$ORIGIN %s." % BIG, "$TTL 3600",
             "@ SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
             "@ NS ns1.example.com.",
             "@ MX 10 mx.%s." % BIG,
             "mx A 192.0.2.25",
             's4096._domainkey TXT "v=DKIM1; k=rsa; p=" %s' % txt]
    lines += ["many A 198.51.100.%d" % i for i in range(1, 41)]
    path = os.path.join(d, BIG + ".zone")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def check_truncation_path(c, mx_port):
    """The resolver asks with a 512-byte buffer: these answers do not fit,
    so check_zone() went through Unbound's TCP retry."""
    for name, qtype in (("s4096._domainkey." + BIG, "TXT"), ("many." + BIG, "A")):
        q = dns.message.make_query(name, qtype, use_edns=0, payload=512)
        r = dns.query.udp(q, mxtest.HOST, port=mx_port, timeout=3)
        c.ok("%s %s from mxdnsd at a 512-byte buffer: TC=1" % (name, qtype), r.flags & dns.flags.TC)


def check_negative(c):
    r = c.ask("no-such-host.example.com", "A")
    c.ok("NXDOMAIN through the resolver", r.rcode() == dns.rcode.NXDOMAIN, dns.rcode.to_text(r.rcode()))
    c.ok("NXDOMAIN carries the SOA", any(rs.rdtype == dns.rdatatype.SOA for rs in r.authority), str(r))
    r = c.ask("mx1.example.com", "TLSA")
    c.ok("NODATA through the resolver", r.rcode() == dns.rcode.NOERROR and not r.answer, str(r))
    c.ok("NODATA carries the SOA", any(rs.rdtype == dns.rdatatype.SOA for rs in r.authority), str(r))
    # A second time: now from Unbound's negative cache, which it fills only
    # from an answer with a usable SOA (RFC 2308 §5).
    r = c.ask("no-such-host.example.com", "A")
    c.ok("NXDOMAIN again (cached)", r.rcode() == dns.rcode.NXDOMAIN, dns.rcode.to_text(r.rcode()))


def check_dnsbl(c):
    def a_and_txt(addr):
        name = ".".join(reversed(addr.split("."))) + "." + BL
        return c.ask(name, "A"), c.ask(name, "TXT")

    a, t = a_and_txt("127.0.0.2")
    c.ok("DNSBL test point 127.0.0.2 listed", a.rcode() == dns.rcode.NOERROR and a.answer, str(a))
    a, t = a_and_txt("192.0.2.99")
    c.ok("listed address: A 127.0.0.3",
         a.answer and sorted(str(rr) for rr in a.answer[0]) == ["127.0.0.3"], str(a))
    c.ok("listed address: TXT reason with the address",
         t.answer and "listed by test 192.0.2.99" in str(t.answer[0]), str(t))
    a, _ = a_and_txt("198.51.100.7")
    c.ok("unlisted address: NXDOMAIN", a.rcode() == dns.rcode.NXDOMAIN, dns.rcode.to_text(a.rcode()))
    a, _ = a_and_txt("127.0.0.1")
    c.ok("DNSBL test point 127.0.0.1 not listed", a.rcode() == dns.rcode.NXDOMAIN,
         dns.rcode.to_text(a.rcode()))


def main():
    if not (shutil.which("unbound") or os.access("/usr/sbin/unbound", os.X_OK)):
        print("FAIL: unbound is not installed (.ci/setup.sh installs it)")
        return 1
    mxdns = mxtest.binary("MXDNS", "mxdns")
    files = sorted(glob.glob(os.path.join(EXAMPLES, "*.zone")))
    zones = [(os.path.basename(f)[:-len(".zone")], f) for f in files]
    with mxtest.workdir("mxresolver-") as d:
        zones.append((BIG, write_big_zone(d)))
        db = os.path.join(d, "bl.mdb")
        subprocess.run([mxdns, "bl", "--db", db, "--list", BL, "-q", "add", "192.0.2.0/24",
                        "--code", "127.0.0.3", "--reason", "listed by test $"], check=True, timeout=60)
        mx = mxtest.start_mxdnsd(mxtest.free_port(), zones,
                                 ["--dnsbl", "%s:%s" % (BL, db)], logdir=d)
        ub = None
        try:
            ub = start_unbound(mxtest.free_port(), mx.port, [z for z, _ in zones] + [BL], d)
            c = Checker(ub.port)
            for _, f in zones:
                check_zone(c, f)
            check_truncation_path(c, mx.port)
            check_negative(c)
            check_dnsbl(c)
        finally:
            if ub:
                ub.stop()
            mx.stop()
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
