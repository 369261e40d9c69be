#!/usr/bin/python3
"""Writes the seed corpus of fuzz_answer: real DNS queries in wire form,
built with dnspython (an independent encoder), each prefixed with the mode
byte fuzz_answer.c reads (bit 0: TCP; bits 1-2: output capacity; bit 3:
server EDNS limit 512; bit 4: CHAOS answers hidden).

The corpus is committed; run this again only to change it:
    /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import hashlib
import os
import struct

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rdataclass
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "answer")


def query(name, rdtype, rdclass="IN", edns=-1, payload=1232, do=False, options=None):
    m = dns.message.make_query(name, rdtype, rdclass, use_edns=edns, payload=payload,
                               want_dnssec=do, options=options or [])
    m.id = 0x1234
    return m.to_wire()


def seeds():
    names = ["example.com", "EXAMPLE.com", "www.example.com", "c1.example.com",
             "loop1.example.com", "dangling.example.com", "ext.example.com",
             "a.b.c.ent.example.com", "c.ent.example.com", "x.wild.example.com",
             "exists.wild.example.com", "y.cnwild.example.com", "q.x.dnwild.example.com",
             "foo.dn.example.com", "x.dnin.example.com", "sub.example.com",
             "deep.below.sub.example.com", "ns.sub.example.com", "x.sub2.example.com",
             "sub2.example.com", "big.example.com", "many.example.com", "unk.example.com",
             "sv.example.com", "_25._tcp.mx1.example.com", "_submission._tcp.example.com",
             "_dmarc.example.com", "s1._domainkey.example.com", "nothere.example.com",
             "example.org", "25.2.0.192.in-addr.arpa", "."]
    types = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "ANY", "DS", "CNAME", "DNAME", "SRV",
             "TLSA", "PTR", "CAA", "HTTPS", "TYPE65400", "AXFR", "IXFR"]
    out = []
    for n in names:
        for t in ("A", "MX", "TXT", "ANY"):
            out.append((0, query(n, t)))
    for t in types:
        out.append((0, query("example.com", t, edns=0)))
    # EDNS: sizes, DO, BADVERS (version 1), an unknown option, a cookie.
    out.append((0, query("big.example.com", "TXT", edns=0, payload=512)))
    out.append((0, query("big.example.com", "TXT", edns=0, payload=4096)))
    out.append((1, query("big.example.com", "TXT", edns=0, payload=512)))
    out.append((1, query("big.example.com", "TXT")))
    out.append((0, query("example.com", "SOA", edns=0, do=True)))
    out.append((0, query("example.com", "SOA", edns=1)))
    out.append((0, query("example.com", "MX", edns=0,
                         options=[dns.edns.GenericOption(65001, b"\x01\x02")])))
    out.append((0, query("example.com", "MX", edns=0,
                         options=[dns.edns.GenericOption(10, b"abcdefgh")])))
    out.append((8, query("many.example.com", "ANY", edns=0, payload=4096)))
    out.append((2, query("big.example.com", "TXT", edns=0, payload=4096)))
    out.append((5, query("big.example.com", "TXT")))
    # The DNSBL zone: listed, excluded, test points, partial addresses
    # (RFC 8020 NODATA), IPv6 nibbles, domains and wildcards, the apex, and
    # a client the ACL refuses (mode bit 5).
    bl = ["2.0.0.127", "1.0.0.127", "1.2.0.192", "99.2.0.192", "7.100.51.198", "1.1.1.10",
          "2.0.192", "192", "1.2.3.4.5", "01.2.0.192",
          ".".join("1" + "0" * 23 + "8bd01002"[::-1].replace("", ".")[1:-1].split(".")[0]),
          ".".join(reversed("20010db8000000000000000000000002")),
          ".".join(reversed("20010db8000000000000000000000001")),
          ".".join(reversed("20010db8")), "spam.example", "x.evil.example",
          "good.evil.example", "evil.example", ""]
    for b in bl:
        n = (b + "." if b else "") + "bl.example.org"
        out.append((0, query(n, "A")))
        out.append((0, query(n, "TXT", edns=0)))
        out.append((0, query(n, "ANY")))
    out.append((32, query("1.2.0.192.bl.example.org", "A")))
    out.append((33, query("2.0.0.127.bl.example.org", "TXT")))
    for t in ("SOA", "NS", "MX"):
        out.append((0, query("bl.example.org", t)))
    # CHAOS.
    for n in ("version.bind", "version.server", "id.server", "hostname.bind"):
        out.append((0, query(n, "TXT", "CH")))
        out.append((16, query(n, "TXT", "CH")))
    out.append((0, query("example.com", "A", "ANY")))
    out.append((0, query("example.com", "A", "CH")))
    # Opcodes and flags.
    m = dns.message.make_query("example.com", "A")
    m.id = 0x1234
    m.set_opcode(dns.opcode.NOTIFY)
    out.append((0, m.to_wire()))
    m.set_opcode(dns.opcode.UPDATE)
    out.append((0, m.to_wire()))
    m = dns.message.make_query("example.com", "A")
    m.id = 0x1234
    m.flags |= dns.flags.QR
    out.append((0, m.to_wire()))
    # Broken on purpose: truncated, no question, two questions, a
    # compression pointer in the question, trailing garbage.
    good = query("www.example.com", "A")
    out.append((0, good[:11]))
    out.append((0, good[:20]))
    out.append((0, good[:-1]))
    out.append((0, good + b"\x00\x00garbage"))
    out.append((0, good[:4] + b"\x00\x00" + good[6:12]))
    out.append((0, good[:4] + b"\x00\x02" + good[6:] + good[12:]))
    out.append((0, good[:12] + b"\xc0\x0c\x00\x01\x00\x01"))
    out.append((0, good[:12] + b"\x03www\xc0\x0c\x00\x01\x00\x01"))
    out.append((0, good[:12] + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01"))
    # Two OPT records (RFC 6891 §6.1.1: FORMERR), and OPT in the answer
    # section instead of the additional section.
    e = query("example.com", "A", edns=0)
    out.append((0, e[:10] + b"\x00\x02" + e[12:] + e[len(e) - 11:]))
    out.append((0, e[:6] + b"\x00\x01\x00\x00\x00\x00" + e[12:]))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.unlink(os.path.join(OUT, f))
    for mode, wire in seeds():
        data = bytes([mode]) + wire
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
