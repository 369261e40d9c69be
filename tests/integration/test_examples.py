#!/usr/bin/python3
"""test_examples: the embedded default. mxdnsd started with only --listen
serves zones/examples/ (built into the binary); this test checks that

  - the zone files are accepted by kzonecheck (Knot) and nsd-checkzone (NSD);
  - every RRset in each file is served exactly (data and TTL, over TCP);
  - the mail records mean what they should: the MX pair with addresses in
    the additional section, one SPF record, a DKIM key that reassembles
    into a 2048-bit RSA key OpenSSL and dkimpy parse, DMARC, MTA-STS,
    TLS-RPT, DANE TLSA 3 1 1 for each MX, the RFC 6186 SRV records, CAA;
  - each mail host's addresses have PTRs back to the host (FCrDNS) in the
    two reverse zones.
Prints "N passed, N failed" and exits non-zero on any failure.
"""
import base64
import glob
import os
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
import dns.reversename  # noqa: E402
import dns.zone  # noqa: E402

SRC = os.environ.get("MXDNS_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(SRC, "zones", "examples")
MAIL_HOSTS = ["mx1.example.com.", "mx2.example.com.", "mail.example.com."]


class Checker(mxtest.Checker):
    def ask(self, qname, qtype, tcp=True):
        q = dns.message.make_query(qname, qtype, use_edns=0, payload=1232)
        fn = dns.query.tcp if tcp else dns.query.udp
        return fn(q, mxtest.HOST, port=self.port, timeout=3)

    def rrset(self, qname, qtype):
        """The answer RRset for qname/qtype (NOERROR, AA), or None."""
        r = self.ask(qname, qtype)
        if not self.ok("%s %s: NOERROR and AA" % (qname, qtype),
                       r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA,
                       "rcode %s flags %s" % (dns.rcode.to_text(r.rcode()), dns.flags.to_text(r.flags))):
            return None
        rt = dns.rdatatype.from_text(qtype)
        for rs in r.answer:
            if rs.rdtype == rt and rs.name == dns.name.from_text(qname):
                return rs
        self.ok("%s %s: answer present" % (qname, qtype), False, str(r.answer))
        return None

    def txt(self, qname):
        """The TXT records of qname, each with its strings joined."""
        rs = self.rrset(qname, "TXT")
        return [b"".join(rd.strings).decode() for rd in rs] if rs else []


def zone_files():
    return sorted(glob.glob(os.path.join(EXAMPLES, "*.zone")))


def check_files(c):
    for path in zone_files():
        zname = os.path.basename(path)[:-len(".zone")]
        for tool in (["kzonecheck", "-o", zname, path], ["nsd-checkzone", zname, path]):
            try:
                p = subprocess.run(tool, capture_output=True, text=True, timeout=30)
                c.ok("%s accepts %s" % (tool[0], zname), p.returncode == 0, p.stdout + p.stderr)
            except FileNotFoundError:
                c.ok("%s installed (bash .ci/setup.sh test installs it)" % tool[0], False)


def check_served_exactly(c):
    """Every RRset of every file, asked over TCP, comes back identical."""
    for path in zone_files():
        zname = os.path.basename(path)[:-len(".zone")]
        z = dns.zone.from_file(path, origin=zname, relativize=False)
        for name, node in z.nodes.items():
            for rds in node.rdatasets:
                qtype = dns.rdatatype.to_text(rds.rdtype)
                r = c.ask(name, qtype)
                got = [rs for rs in r.answer if rs.name == name and rs.rdtype == rds.rdtype]
                want = "%s %s: served as in %s" % (name, qtype, os.path.basename(path))
                if c.ok(want, len(got) == 1 and r.flags & dns.flags.AA,
                        "rcode %s answer %s" % (dns.rcode.to_text(r.rcode()), r.answer)):
                    c.ok(want + " (data)", set(got[0]) == set(rds), "%s vs %s" % (got[0], rds))
                    c.ok(want + " (TTL)", got[0].ttl == rds.ttl, "%d vs %d" % (got[0].ttl, rds.ttl))


def check_mail(c):
    # MX pair, targets' addresses in the additional section (RFC 1035 §3.3.9).
    r = c.ask("example.com.", "MX", tcp=False)
    mx = sorted((rd.preference, rd.exchange.to_text()) for rs in r.answer for rd in rs
                if rs.rdtype == dns.rdatatype.MX)
    c.ok("MX pair", mx == [(10, "mx1.example.com."), (20, "mx2.example.com.")], str(mx))
    extra = {(rs.name.to_text(), dns.rdatatype.to_text(rs.rdtype)) for rs in r.additional}
    for h in ("mx1.example.com.", "mx2.example.com."):
        for t in ("A", "AAAA"):
            c.ok("MX additional %s %s" % (h, t), (h, t) in extra, str(sorted(extra)))

    # SPF: exactly one record at the apex (RFC 7208 §4.5).
    spf = [t for t in c.txt("example.com.") if t.lower().startswith("v=spf1")]
    c.ok("one SPF record", len(spf) == 1 and spf[0].split()[-1] in ("-all", "~all"), str(spf))

    # DKIM (RFC 6376 §3.6.1): strings <= 255 bytes joined into a key.
    rs = c.rrset("mail2026._domainkey.example.com.", "TXT")
    if rs:
        rd = list(rs)[0]
        c.ok("DKIM record split in strings of at most 255 bytes",
             len(rd.strings) > 1 and all(len(s) <= 255 for s in rd.strings))
        tags = dict(t.strip().split("=", 1) for t in b"".join(rd.strings).decode().split(";") if t.strip())
        c.ok("DKIM v=DKIM1 k=rsa", tags.get("v") == "DKIM1" and tags.get("k", "rsa") == "rsa", str(tags))
        der = base64.b64decode(tags.get("p", ""))
        p = subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-noout", "-text"],
                           input=der, capture_output=True, timeout=30)
        out = p.stdout.decode(errors="replace")
        c.ok("DKIM key parses with openssl as 2048-bit RSA", p.returncode == 0 and "(2048 bit)" in out,
             out[:200] + p.stderr.decode(errors="replace"))
        try:
            import dkim.crypto
            key = dkim.crypto.parse_public_key(der)
            c.ok("DKIM key parses with dkimpy", key["modulus"].bit_length() == 2048)
        except ImportError:
            pass
        except Exception as e:
            c.ok("DKIM key parses with dkimpy", False, str(e))

    dmarc = c.txt("_dmarc.example.com.")
    c.ok("DMARC record (RFC 7489 §6.1)", len(dmarc) == 1 and dmarc[0].startswith("v=DMARC1;") and
         "p=" in dmarc[0], str(dmarc))
    sts = c.txt("_mta-sts.example.com.")
    c.ok("MTA-STS record (RFC 8461 §3.1)", len(sts) == 1 and sts[0].startswith("v=STSv1;") and
         "id=" in sts[0], str(sts))
    for t in ("A", "AAAA"):
        c.rrset("mta-sts.example.com.", t)
    rpt = c.txt("_smtp._tls.example.com.")
    c.ok("TLS-RPT record (RFC 8460 §3)", len(rpt) == 1 and rpt[0].startswith("v=TLSRPTv1;") and
         "rua=" in rpt[0], str(rpt))

    # DANE (RFC 7672 §3.1): 3 1 1 with a SHA-256 digest for each MX.
    for h in ("mx1", "mx2"):
        rs = c.rrset("_25._tcp.%s.example.com." % h, "TLSA")
        if rs:
            rd = list(rs)[0]
            c.ok("TLSA %s is 3 1 1 with 32 bytes" % h,
                 (rd.usage, rd.selector, rd.mtype, len(rd.cert)) == (3, 1, 1, 32), str(rd))

    # RFC 6186 SRV: submission 587, submissions 465, imaps 993, no imap.
    for svc, port in (("_submission", 587), ("_submissions", 465), ("_imaps", 993)):
        rs = c.rrset("%s._tcp.example.com." % svc, "SRV")
        if rs:
            rd = list(rs)[0]
            c.ok("SRV %s port %d" % (svc, port), rd.port == port and rd.target.to_text() == "mail.example.com.",
                 str(rd))
    rs = c.rrset("_imap._tcp.example.com.", "SRV")
    if rs:
        c.ok("SRV _imap target '.' (RFC 6186 §4)", list(rs)[0].target == dns.name.root, str(rs))

    rs = c.rrset("example.com.", "CAA")
    if rs:
        c.ok("CAA issue", any(rd.tag == b"issue" for rd in rs), str(rs))

    # NXDOMAIN with the SOA (RFC 2308 §3).
    r = c.ask("nothere.example.com.", "A")
    c.ok("NXDOMAIN for a missing name", r.rcode() == dns.rcode.NXDOMAIN and
         any(rs.rdtype == dns.rdatatype.SOA for rs in r.authority), str(r))


def check_reverse(c):
    for zone in ("2.0.192.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa."):
        c.rrset(zone, "SOA")
        c.rrset(zone, "NS")
    # Forward-confirmed reverse DNS for every mail host and both families.
    for host in MAIL_HOSTS:
        for t in ("A", "AAAA"):
            rs = c.rrset(host, t)
            for rd in rs or []:
                rev = dns.reversename.from_address(rd.address)
                ptr = c.rrset(rev.to_text(), "PTR")
                if ptr:
                    c.ok("PTR %s -> %s" % (rd.address, host), [p.target.to_text() for p in ptr] == [host],
                         str(ptr))


def main():
    with mxtest.workdir("mxexamples-") as d:
        c = None
        srv = mxtest.start_mxdnsd(mxtest.free_port(), logdir=d, probe=("example.com", "SOA"))
        try:
            c = Checker(srv.port)
            check_files(c)
            check_served_exactly(c)
            check_mail(c)
            check_reverse(c)
        finally:
            try:
                srv.stop()
            except RuntimeError as e:
                if c:
                    c.ok("server exit", False, str(e))
                else:
                    raise
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
