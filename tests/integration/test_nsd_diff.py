#!/usr/bin/python3
"""test_nsd_diff: the differential test. The zones in tests/data/diff/ are
served by NSD and by mxdnsd (each started here on a free loopback port); every
query of tests/data/diff/queries.txt goes to both, and the answers are compared
field by field: rcode, opcode, header flags, the question as sent (case
included), each section as a set of RRs (owner names lowercased, TTLs
compared), the case of answer owners, and EDNS (version, DO, options).

Where the RFCs allow both servers' behaviour, the difference is counted as
"allowed" with the rule that permits it (see ALLOWED below), never skipped
silently. Any other difference fails the test.

  test_nsd_diff.py                  NSD against mxdnsd ($MXDNSD)
  test_nsd_diff.py --peer knot      NSD against Knot DNS (checks the harness)
  test_nsd_diff.py --ref knot --peer mxdnsd
  --random N (default 1000), --seed S: also N queries drawn with seed S from
  the zones' names (numbered from 100001), --random-only: those alone;
  -v: print allowed differences too; --only TEXT: queries containing TEXT;
  --no-kdig: skip the kdig subset; --peer-data DIR: the peer serves the zone
  files of DIR (a changed copy shows the harness catching differences).
"""
import argparse
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.edns  # noqa: E402
import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.opcode  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402

SRC = os.environ.get("MXDNS_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = os.path.join(SRC, "tests", "data", "diff")
ZONES = [("diff.test", os.path.join(DATA, "diff.test.zone")),
         ("sub.diff.test", os.path.join(DATA, "sub.diff.test.zone"))]
TIMEOUT = 2.0

# The differences the RFCs permit, by key. Each one is a case where two
# correct servers may answer differently; the test counts them separately.
ALLOWED = {
    # RFC 4892 §2-3 and RFC 8482 do not fix what version.bind, id.server and
    # friends say; a server may also refuse them (REFUSED), as mxdnsd does
    # when the text is hidden.
    "chaos": "CHAOS TXT text or refusal is the server's choice (RFC 4892 §2, §3)",
    # RFC 8482 §4.1-§4.3: an ANY answer may be everything, one RRset, or a
    # synthesized HINFO; over UDP a server may also truncate.
    "any": "ANY may return a subset of the RRsets (RFC 8482 §4)",
    # RFC 2181 §9: with TC=1 the client retries over TCP and ignores the
    # rest; whole RRsets that fit may be included or left out.
    "tc": "contents of a truncated (TC=1) response (RFC 2181 §9)",
    # RFC 6891 §6.2.5: each responder advertises its own UDP payload size.
    "payload": "EDNS UDP payload size of the responder (RFC 6891 §6.2.5)",
    # RFC 1034 §4.3.2 step 6 and RFC 2181 §5.4.1: additional-section data is
    # optional beyond the glue a referral needs; one server adding A/AAAA
    # for targets the other leaves out is correct either way.
    "additional": "optional additional records (RFC 1034 §4.3.2 step 6, RFC 2181 §5.4.1)",
    # RFC 1034 §4.3.2 step 3a requires only the answer for a positive reply;
    # its §6.2 examples also copy the zone's NS RRset into the authority
    # section. Both are correct (NSD is run with minimal-responses to match
    # mxdnsd, but may still differ for out-of-zone targets).
    "authority-ns": "apex NS in the authority section of a positive answer (RFC 1034 §4.3.2, §6.2)",
    # RFC 1035 §4.1.1 leaves the rcode for an opcode a server does not do
    # between NOTIMP and REFUSED (RFC 3425 §3: IQUERY gets NOTIMP, but older
    # servers refuse it).
    "opcode": "rcode for an unimplemented opcode: NOTIMP or REFUSED (RFC 1035 §4.1.1, RFC 3425 §3)",
    # RFC 1034 §3.6.2: a server should not follow a CNAME loop; how far it
    # follows before it stops is not fixed (NSD stops at the first repeated
    # name, Knot after a number of steps).
    "loop": "how many CNAMEs of a loop are copied before stopping (RFC 1034 §3.6.2)",
    # RFC 1034 §4.3.2 step 3a restarts the algorithm at step 1, over every
    # zone the server holds, so a CNAME into another zone served here may be
    # followed (NSD); within the first zone the target lies below a cut, so
    # stopping with that zone's referral is just as correct (Knot), and
    # RFC 2181 §5.4.1 ranks such out-of-zone data low for resolvers anyway.
    "cross-zone": "following a CNAME/DNAME into another zone the server holds (RFC 1034 §4.3.2 step 3a)",
    # RFC 1035 §4.1.1 defines no content for error responses: NSD omits the
    # question of a REFUSED/NOTIMP/FORMERR reply, others echo it.
    "error-question": "question section of an error response (RFC 1035 §4.1.1)",
    # RFC 6891 §6.1.1 wants an OPT in every response to a query with one;
    # NSD leaves it out of some error responses. The peer is right then.
    "ref-no-opt": "the reference omits OPT in an error response (RFC 6891 §6.1.1: the peer is right)",
    # RFC 1034 §5.3.1: "If QCLASS=* is used, then authoritative answers
    # won't be available." mxdnsd answers the IN data without AA and without
    # the negative SOA (as NSD mostly does); Knot answers as for IN, with AA
    # and the SOA; NSD sets AA again when a CNAME leads into a referral.
    "class-any": "AA and the negative SOA in a QCLASS=* answer (RFC 1034 §5.3.1)",
    # RFC 1034 §4.3.2 step 3a follows a CNAME for every other type, RRSIG and
    # NSEC included (NSD, mxdnsd); in a signed zone those two live at the
    # alias itself (RFC 4035 §2.5), and Knot answers NODATA there when the
    # alias has none. Where the alias has them, all three answer them.
    "dnssec-at-cname": "RRSIG/NSEC at an unsigned alias: followed or NODATA (RFC 1034 §4.3.2, RFC 4035 §2.5)",
    # RFC 8914 §3: Extended DNS Errors are optional.
    "ede": "Extended DNS Error option present in one response only (RFC 8914 §3)",
    # RFC 5001 §2.2: a server may be configured not to return an NSID.
    "nsid": "NSID returned by one server only (RFC 5001 §2.2)",
    # RFC 3225 §3 copies DO into responses; RFC 6891 §6.1.3 says a BADVERS
    # reply is only the header and an OPT: servers differ on DO there.
    "badvers-do": "DO bit in a BADVERS response (RFC 3225 §3, RFC 6891 §6.1.3)",
    # RFC 4035 §3.2.2 makes copying CD a duty of recursive servers; §3.1.6
    # calls CD "not relevant" to authoritative servers. NSD and Knot clear
    # it, copying it (as mxdnsd does) is just as correct.
    "cd": "CD bit copied or cleared by an authoritative server (RFC 4035 §3.1.6, §3.2.2)",
}


# ---------------------------------------------------------------- queries

class Query:
    def __init__(self, lineno, text):
        self.lineno = lineno
        self.text = text
        parts = text.split()
        if len(parts) < 2:
            raise ValueError("queries.txt:%d: need NAME TYPE" % lineno)
        self.qname, self.qtype = parts[0], parts[1].upper()
        self.tcp = False
        self.edns = 0
        self.bufsize = 1232
        self.dnssec = False
        self.nsid = False
        self.rd = True
        self.cd = False
        self.qclass = "IN"
        self.opcode = 0
        self.options = []
        self.kdig = False
        for f in parts[2:]:
            k, _, v = f.partition("=")
            if k == "+tcp":
                self.tcp = True
            elif k == "+noedns":
                self.edns = -1
            elif k == "+bufsize":
                self.bufsize = int(v)
            elif k == "+dnssec":
                self.dnssec = True
            elif k == "+ednsver":
                self.edns = int(v)
            elif k == "+nsid":
                self.nsid = True
            elif k == "+norec":
                self.rd = False
            elif k == "+cd":
                self.cd = True
            elif k == "+class":
                self.qclass = v.upper()
            elif k == "+opcode":
                self.opcode = int(v)
            elif k == "+ednsopt":
                code, _, hexdata = v.partition(":")
                self.options.append((int(code), bytes.fromhex(hexdata)))
            elif k == "+kdig":
                self.kdig = True
            else:
                raise ValueError("queries.txt:%d: unknown flag %s" % (lineno, f))

    def wire(self):
        opts = [dns.edns.GenericOption(c, d) for c, d in self.options]
        if self.nsid:
            opts.append(dns.edns.GenericOption(dns.edns.NSID, b""))
        q = dns.message.make_query(dns.name.from_text(self.qname),
                                   dns.rdatatype.from_text(self.qtype),
                                   dns.rdataclass.from_text(self.qclass),
                                   use_edns=self.edns, payload=self.bufsize,
                                   want_dnssec=self.dnssec, options=opts)
        if not self.rd:
            q.flags &= ~dns.flags.RD
        if self.cd:
            q.flags |= dns.flags.CD
        q.set_opcode(self.opcode)
        return q.to_wire()


def load_queries(path):
    out = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(Query(i, line))
    return out


RANDOM_TYPES = ("A AAAA MX TXT NS SOA CNAME DNAME SRV TLSA CAA PTR ANY NSEC DNSKEY DS RRSIG "
                "HINFO SPF NULL TYPE65534 HTTPS SVCB NAPTR").split()


def random_queries(n, seed):
    """n queries drawn with a fixed seed from the served zones' owner names
    (and names below them, in mixed case, with odd labels) with random
    types, transports, EDNS sizes and options, and QCLASS *: what a
    hand-written corpus does not think of. Numbered from 100001 on, so a
    failure names its query; --random-only replays them alone."""
    rnd = random.Random(seed)
    owners = set()
    for origin, path in ZONES:
        with open(path) as f:
            for line in f:
                if not line.strip() or line[0] in " \t;$(\"":
                    continue
                o = line.split()[0]
                owners.add(origin if o == "@" else o[:-1] if o.endswith(".") else o + "." + origin)
    owners = sorted(owners)

    def name():
        n = rnd.choice(owners)
        r = rnd.random()
        if r < 0.2:
            n = "x%d.%s" % (rnd.randrange(100), n.replace("*.", ""))
        elif r < 0.3:
            n = n.replace("*", "q%d" % rnd.randrange(10))
        elif r < 0.35:
            n = "a.b.c." + n
        elif r < 0.4:
            n = ".".join("x" * rnd.randrange(1, 64) for _ in range(rnd.randrange(1, 4))) + "." + n
        elif r < 0.42:
            n = rnd.choice(["a\\.b", "\\000x", "\\255\\001", "-", "_", "a\\032b"]) + "." + n
        if rnd.random() < 0.3:
            n = "".join(c.upper() if rnd.random() < 0.5 else c for c in n)
        return n

    out = []
    for i in range(n):
        q = [name(), rnd.choice(RANDOM_TYPES)]
        if rnd.random() < 0.2:
            q.append("+tcp")
        r = rnd.random()
        if r < 0.15:
            q.append("+noedns")
        elif r < 0.3:
            q.append("+bufsize=%d" % rnd.choice([0, 100, 511, 512, 513, 600, 1000, 1232, 1400, 4096, 65535]))
        if rnd.random() < 0.2:
            q.append("+dnssec")
        if rnd.random() < 0.1:
            q.append("+norec")
        if rnd.random() < 0.05:
            q.append("+cd")
        if rnd.random() < 0.05:
            q.append("+class=ANY")
        if "+noedns" not in q:
            r = rnd.random()
            if r < 0.05:
                q.append("+ednsver=%d" % rnd.choice([1, 2, 255]))
            elif r < 0.1:
                q.append("+nsid")
            elif r < 0.2:
                q.append("+ednsopt=%d:%s" % (rnd.choice([8, 10, 11, 12, 15, 65001]),
                                             rnd.choice(["", "00", "0001", "deadbeefdeadbeef"])))
        out.append(Query(100001 + i, " ".join(q)))
    return out


# ---------------------------------------------------------------- transport

def exchange(wire, port, tcp):
    """Sends wire, returns the response bytes or None (no answer in time)."""
    for _ in range(2):  # one retry: loopback UDP does not lose, but be safe
        try:
            if tcp:
                with socket.create_connection((mxtest.HOST, port), timeout=TIMEOUT) as s:
                    s.sendall(struct.pack("!H", len(wire)) + wire)
                    hdr = recv_exact(s, 2)
                    if hdr is None:
                        return None
                    return recv_exact(s, struct.unpack("!H", hdr)[0])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(TIMEOUT)
                s.sendto(wire, (mxtest.HOST, port))
                while True:
                    data, _ = s.recvfrom(65535)
                    if data[:2] == wire[:2]:
                        return data
        except socket.timeout:
            continue
        except ConnectionError:
            return None
    return None


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


# ---------------------------------------------------------------- normalizing

class RR:
    """One record, compared by owner (lowercased), TTL, class, type and the
    canonical wire form of its rdata (names in it lowercased, RFC 4034 §6.2:
    NSD, for one, compresses rdata names against a mixed-case qname)."""
    TARGETS = ("NS", "MX", "SRV", "CNAME", "DNAME", "SVCB", "HTTPS", "PTR")

    def __init__(self, owner, ttl, cls, rtype, rd):
        self.owner = owner.to_text().lower()
        self.ttl = ttl
        self.cls = dns.rdataclass.to_text(cls)
        self.type = dns.rdatatype.to_text(rtype)
        self.canon = rd.to_digestable(dns.name.root)
        self.text = rd.to_text()
        t = getattr(rd, "target", None) or getattr(rd, "exchange", None)
        self.target = t.to_text().lower() if isinstance(t, dns.name.Name) else None
        self.key = (self.owner, self.ttl, self.cls, self.type, self.canon)

    def __eq__(self, other):
        return self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __str__(self):
        return "%s %d %s %s %s" % (self.owner, self.ttl, self.cls, self.type, self.text)


def rrs(section):
    return frozenset(RR(rrset.name, rrset.ttl, rrset.rdclass, rrset.rdtype, rd)
                     for rrset in section for rd in rrset)


def parse_wire(data):
    """dnspython refuses opcodes it does not know (3, 7-15); parse such a
    message with the opcode bits cleared and put the real opcode back."""
    try:
        return dns.message.from_wire(data, ignore_trailing=False), None
    except dns.exception.DNSException:
        raise
    except ValueError:
        if len(data) < 12:
            raise
        real = (data[2] >> 3) & 0xF
        fixed = data[:2] + bytes([data[2] & 0x87]) + data[3:]
        return dns.message.from_wire(fixed, ignore_trailing=False), real


def normalize(data, query):
    """The comparable form of a response (a dict), or a marker for none."""
    if data is None:
        return {"none": True}
    try:
        m, real_opcode = parse_wire(data)
    except Exception as e:  # a response dnspython cannot parse is a finding
        return {"unparseable": "%s: %s" % (type(e).__name__, data.hex())}
    qn = dns.name.from_text(query.qname)
    d = {
        "rcode": dns.rcode.to_text(m.rcode()),
        "opcode": dns.opcode.to_text(m.opcode()) if real_opcode is None else str(real_opcode),
        "flags": dns.flags.to_text(m.flags),
        "question": " ".join("%s %s %s" % (r.name.to_text(), dns.rdataclass.to_text(r.rdclass),
                                           dns.rdatatype.to_text(r.rdtype)) for r in m.question),
        "answer": rrs(m.answer),
        "authority": rrs(m.authority),
        "additional": rrs(m.additional),
        # RFC 4343 §4.1: the owner of the answer to the qname keeps the
        # query's case (servers point back at the question).
        "owner_case": " ".join(sorted({r.name.to_text() for r in m.answer if r.name == qn})),
        "edns": None if m.edns < 0 else (m.edns, "DO" if m.ednsflags & dns.flags.DO else "",
                                         tuple(sorted(o.otype for o in m.options))),
        "payload": None if m.edns < 0 else m.payload,
    }
    return d


def checks(query, d, sent_qname):
    """Per-server rules that need no peer. Returns a list of problems."""
    bad = []
    if d.get("none") or d.get("unparseable"):
        return bad
    q = d["question"].split(" ")[0] if d["question"] else ""
    # RFC 1035 §4.1.2 / RFC 4343 §4.1: the question is echoed as sent.
    if d["question"] and q != sent_qname.to_text():
        bad.append("question not echoed as sent: %r" % d["question"])
    # Additional data must be about something in the response: addresses of
    # the NS, MX, SRV or SVCB targets named in it (RFC 1035 §3.3, RFC 2782,
    # RFC 9460 §4). Anything else is noise at best, a poisoning aid at worst.
    targets = {rr.target for sect in ("answer", "authority") for rr in d[sect]
               if rr.target and rr.type not in ("CNAME", "DNAME", "PTR")}
    for rr in d["additional"]:
        if rr.type not in ("A", "AAAA") or rr.owner not in targets:
            bad.append("additional record not named by the response: %s" % rr)
    return bad


# ---------------------------------------------------------------- classifying

def ns_glue(d):
    """Additional A/AAAA that a referral must carry: addresses of NS targets
    at or below the delegation point (RFC 1034 §4.3.2 step 3b, RFC 9471)."""
    cuts = {}
    for rr in d["authority"]:
        if rr.type == "NS":
            cuts.setdefault(rr.owner, set()).add(rr.target)
    need = set()
    for owner, targets in cuts.items():
        for rr in d["additional"]:
            if rr.type in ("A", "AAAA") and rr.owner in targets and \
               (rr.owner == owner or rr.owner.endswith("." + owner)):
                need.add(rr)
    return need


def zone_of(name):
    """The served zone a name falls in (longest match), or None."""
    best = None
    for z, _ in ZONES:
        z = z + "."
        if (name == z or name.endswith("." + z)) and (best is None or len(z) > len(best)):
            best = z
    return best


def crosses_zone(d):
    """True when the response follows a CNAME or DNAME from one served zone
    into another."""
    return any(rr.type in ("CNAME", "DNAME") and rr.target and zone_of(rr.target) and
               zone_of(rr.target) != zone_of(rr.owner) for rr in d["answer"])


def classify(query, a, b):
    """Returns (failures, allowed): lists of (aspect, detail). a is the
    reference server's normalized answer, b the peer's."""
    fail, allow = [], []
    if a.get("none") or b.get("none") or a.get("unparseable") or b.get("unparseable"):
        if brief(a) != brief(b):
            fail.append(("response", "%s | %s" % (brief(a), brief(b))))
        return fail, allow
    chaos = query.qclass == "CH"
    cd = {"CD"} if query.cd else set()  # a flag the "cd" rule allows to differ
    classany = query.qclass == "ANY" and a["rcode"] == b["rcode"] and flags_minus(a, b, {"AA"} | cd)
    dnssec_cname = query.qtype in ("RRSIG", "NSEC") and \
        ((only_type(a["answer"], "CNAME") and not b["answer"]) or
         (only_type(b["answer"], "CNAME") and not a["answer"]))
    anyq = query.qtype == "ANY"
    # flags an ANY answer may differ in besides TC: CD and, for QCLASS *, AA (above)
    any_ignore = {"TC"} | cd | ({"AA"} if query.qclass == "ANY" else set())
    tc = "TC" in a["flags"].split() and "TC" in b["flags"].split()
    loop = re.match(r"(loop\d|self)\.", query.qname.lower()) is not None
    error = a["rcode"] == b["rcode"] and a["rcode"] in ("FORMERR", "NOTIMP", "REFUSED")
    cross = crosses_zone(a) or crosses_zone(b)
    for k in ("rcode", "opcode", "flags", "question", "owner_case", "edns", "payload",
              "answer", "authority", "additional"):
        if a[k] == b[k]:
            continue
        detail = diff_text(k, a[k], b[k])
        rule = None
        if chaos:
            rule = "chaos"
        elif k == "payload":
            rule = "payload"
        elif classany and (k == "flags" or (k == "authority" and only_type(a[k] ^ b[k], "SOA"))):
            rule = "class-any"
        elif dnssec_cname and k in ("rcode", "flags", "answer", "authority", "additional", "owner_case"):
            rule = "dnssec-at-cname"
        elif k == "flags" and query.cd and flags_minus(a, b, {"CD"}):
            rule = "cd"
        elif query.opcode != 0 and k == "rcode" and {a[k], b[k]} <= {"NOTIMP", "REFUSED"}:
            rule = "opcode"
        elif k == "question" and error and "" in (a[k], b[k]):
            rule = "error-question"
        elif k == "edns" and a[k] is None and error and query.edns >= 0:
            rule = "ref-no-opt"
        elif k == "edns" and a[k] is not None and b[k] is not None and a[k][0] == b[k][0]:
            rule = edns_rule(a[k], b[k], a["rcode"])
        elif anyq and k in ("answer", "authority", "additional", "flags") and \
                a["rcode"] == b["rcode"] and flags_minus(a, b, any_ignore):
            rule = "any"
        elif tc and k in ("answer", "authority", "additional"):
            rule = "tc"
        elif loop and k in ("answer", "owner_case") and a["rcode"] == b["rcode"]:
            rule = "loop"
        elif cross and k in ("answer", "authority", "additional") and a["rcode"] == b["rcode"]:
            rule = "cross-zone"
        elif k == "additional" and (a[k] <= b[k] or b[k] <= a[k]) and ns_glue(a) == ns_glue(b) \
                and not untrue(a[k] ^ b[k]):
            rule = "additional"
        elif k == "authority" and a["answer"] and b["rcode"] == a["rcode"] == "NOERROR" and \
                apex_ns_only(a[k] ^ b[k]):
            rule = "authority-ns"
        if rule:
            allow.append((rule, detail))
        else:
            fail.append((k, detail))
    return fail, allow


# The reference server's port, so that optional additional records can be
# checked against what it says about their owner (set by main()).
TRUTH = {"port": None, "cache": {}}


def untrue(records):
    """The records in a set of additional A/AAAA that the reference server
    does not confirm (same owner, TTL and data) when asked directly."""
    bad = []
    for rr in records:
        key = (rr.owner, rr.type)
        if key not in TRUTH["cache"]:
            q = dns.message.make_query(rr.owner, rr.type, use_edns=0, payload=4096)
            q.flags &= ~dns.flags.RD
            r = exchange(q.to_wire(), TRUTH["port"], True)
            m = dns.message.from_wire(r) if r else None
            TRUTH["cache"][key] = set() if m is None else \
                set(rrs(m.answer)) | set(rrs(m.additional))
        if rr not in TRUTH["cache"][key]:
            bad.append(rr)
    return bad


def edns_rule(x, y, rcode):
    """x, y: (version, DO, option codes) that differ. Returns the rule that
    allows the difference, or None."""
    _, do_x, opts_x = x
    _, do_y, opts_y = y
    extra = set(opts_x) ^ set(opts_y)
    if do_x != do_y:
        if rcode == "BADVERS" and extra <= {dns.edns.EDE}:
            return "badvers-do"
        return None
    if extra <= {dns.edns.EDE}:
        return "ede"
    if extra <= {dns.edns.NSID, dns.edns.EDE}:
        return "nsid"
    return None


def flags_minus(a, b, ignore):
    return set(a["flags"].split()) - ignore == set(b["flags"].split()) - ignore


def only_type(rrs, rrtype):
    """True for a non-empty set of RRs that are all of rrtype."""
    return bool(rrs) and all(rr.type == rrtype for rr in rrs)


def apex_ns_only(rrs_diff):
    """True when the RRs in which the two authority sections differ are all
    NS records of one of the served zones' apexes."""
    apexes = {z + "." for z, _ in ZONES}
    return bool(rrs_diff) and all(rr.type == "NS" and rr.owner in apexes for rr in rrs_diff)


def brief(d):
    if d.get("none"):
        return "no response"
    if d.get("unparseable"):
        return "unparseable " + d["unparseable"][:200]
    return d["rcode"]


def diff_text(k, x, y):
    if isinstance(x, frozenset) and isinstance(y, frozenset):
        only_a = sorted(str(r) for r in x - y)
        only_b = sorted(str(r) for r in y - x)
        return "%s: only ref: %s; only peer: %s" % (k, only_a or "-", only_b or "-")
    return "%s: ref %r, peer %r" % (k, x, y)


# ---------------------------------------------------------------- kdig

def kdig_args(q, port):
    a = ["kdig", "@%s" % mxtest.HOST, "-p", str(port), "+time=2", "+retry=0", "-c", q.qclass,
         "-t", q.qtype, "-q", q.qname]
    if q.tcp:
        a.append("+tcp")
    if q.edns < 0:
        a.append("+noedns")
    else:
        a += ["+edns=%d" % q.edns, "+bufsize=%d" % q.bufsize]
        if q.dnssec:
            a.append("+dnssec")
        if q.nsid:
            a.append("+nsid")
    if not q.rd:
        a.append("+norec")
    if q.cd:
        a.append("+cdflag")
    a.append("+notcp" if not q.tcp else "+tcp")
    a.append("+ignore")  # do not retry over TCP on TC: compare what UDP gave
    return a


def kdig(q, port):
    """Runs kdig and parses its text into the normalized form's main fields."""
    p = subprocess.run(kdig_args(q, port), capture_output=True, text=True, timeout=10)
    out = p.stdout
    d = {"rcode": None, "flags": None, "answer": set(), "authority": set(), "additional": set()}
    m = re.search(r"status: (\w+)", out)
    if not m:
        return {"none": True, "raw": out + p.stderr}
    d["rcode"] = m.group(1)
    m = re.search(r";; Flags: ([^;]*);", out)
    d["flags"] = " ".join(sorted(m.group(1).upper().split())) if m else ""
    sect = None
    for line in out.splitlines():
        h = re.match(r";; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line)
        if h:
            sect = h.group(1).lower()
            continue
        if line.startswith(";;") or not line.strip():
            if line.startswith(";;") and "SECTION" in line:
                sect = None
            continue
        if sect:
            f = line.split(None, 4)
            if len(f) == 5 and f[3] != "OPT":
                d[sect].add(kdig_rr(f))
    for k in ("answer", "authority", "additional"):
        d[k] = frozenset(d[k])
    return d


def kdig_rr(f):
    """An RR from kdig's presentation fields (owner, TTL, class, type, rdata)."""
    cls, rtype = dns.rdataclass.from_text(f[2]), dns.rdatatype.from_text(f[3])
    rd = dns.rdata.from_text(cls, rtype, f[4], origin=dns.name.root)
    return RR(dns.name.from_text(f[0]), int(f[1]), cls, rtype, rd)


def kdig_classify(q, a, b):
    fail, allow = [], []
    if a.get("none") or b.get("none"):
        if a.get("none") != b.get("none"):
            fail.append(("kdig", "response: %s | %s" % (a.get("rcode"), b.get("rcode"))))
        return fail, allow
    full = {"question": "", "opcode": "", "owner_case": "", "edns": None, "payload": None}
    return classify(q, dict(full, **a), dict(full, **b))


# ---------------------------------------------------------------- main

def start(kind, port, d, datadir=None):
    zones = ZONES
    if datadir:  # the same zone names from other files (--peer-data)
        zones = [(z, os.path.join(datadir, os.path.basename(f))) for z, f in ZONES]
    if kind == "nsd":
        return mxtest.start_nsd(port, zones, d)
    if kind == "knot":
        return mxtest.start_knot(port, zones, d)
    if kind == "mxdnsd":
        return mxtest.start_mxdnsd(port, zones, logdir=d)
    raise SystemExit("unknown server kind %s" % kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", default="nsd", choices=["nsd", "knot", "mxdnsd"])
    ap.add_argument("--peer", default=os.environ.get("MXDIFF_PEER", "mxdnsd"),
                    choices=["nsd", "knot", "mxdnsd"])
    ap.add_argument("--queries", default=os.path.join(DATA, "queries.txt"))
    ap.add_argument("--only", help="run only the queries whose line contains this text")
    ap.add_argument("--no-kdig", action="store_true")
    ap.add_argument("--peer-data", help="serve the peer's zones from this directory instead "
                    "(to see the harness catch a difference)")
    ap.add_argument("--random", type=int, default=1000, metavar="N",
                    help="also N queries drawn from the zones (default 1000; 0: none)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("MXDIFF_SEED", "1")),
                    help="for --random (default 1, or $MXDIFF_SEED)")
    ap.add_argument("--random-only", action="store_true", help="only the random queries")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    queries = [] if args.random_only else load_queries(args.queries)
    if args.random:
        queries += random_queries(args.random, args.seed)
    if args.only:
        queries = [q for q in queries if args.only in q.text]
    if len(queries) < 200 and not args.only:
        print("corpus too small: %d queries" % len(queries))
        return 1
    use_kdig = not args.no_kdig and subprocess.run(["which", "kdig"], capture_output=True).returncode == 0

    passed = failed = allowed = 0
    by_rule = {}
    t0 = time.monotonic()
    with mxtest.workdir("mxdiff-ref-") as d1, mxtest.workdir("mxdiff-peer-") as d2:
        ref = start(args.ref, mxtest.free_port(), d1)
        try:
            peer = start(args.peer, mxtest.free_port(), d2, args.peer_data)
        except Exception:
            ref.stop()
            raise
        TRUTH["port"] = ref.port
        print("ref %s on %d, peer %s on %d, %d queries" % (args.ref, ref.port, args.peer, peer.port,
                                                             len(queries)))
        try:
            for q in queries:
                wire = q.wire()
                ra = normalize(exchange(wire, ref.port, q.tcp), q)
                rb = normalize(exchange(wire, peer.port, q.tcp), q)
                sent = dns.name.from_text(q.qname)
                fail, allow = classify(q, ra, rb)
                fail += [("ref-check", p) for p in checks(q, ra, sent)]
                fail += [("peer-check", p) for p in checks(q, rb, sent)]
                fail += partial_rrsets(q, wire, ra, ref.port, "ref")
                fail += partial_rrsets(q, wire, rb, peer.port, "peer")
                if q.kdig and use_kdig:
                    kf, ka = kdig_classify(q, kdig(q, ref.port), kdig(q, peer.port))
                    fail += [("kdig " + k, v) for k, v in kf]
                    allow += [(k, "kdig " + v) for k, v in ka]
                if fail:
                    failed += 1
                    print("FAIL line %d: %s" % (q.lineno, q.text))
                    for k, v in fail:
                        print("    %s" % v if v.startswith(k) else "    %s: %s" % (k, v))
                    if not (ra.get("none") or ra.get("unparseable")) and args.verbose:
                        print("    ref rcode %s flags %s" % (ra["rcode"], ra["flags"]))
                elif allow:
                    allowed += 1
                    for k in {k for k, _ in allow}:
                        by_rule[k] = by_rule.get(k, 0) + 1
                    if args.verbose:
                        print("allowed line %d: %s" % (q.lineno, q.text))
                        for k, v in allow:
                            print("    [%s] %s" % (k, v))
                else:
                    passed += 1
        finally:
            errors = []
            for s in (ref, peer):
                try:
                    s.stop()
                except RuntimeError as e:
                    errors.append(str(e))
    for e in errors:
        print("SERVER PROBLEM:", e)
        failed += 1
    print("\nqueries with an allowed difference, by rule:")
    for k in sorted(by_rule):
        print("  %3d  %s" % (by_rule[k], ALLOWED[k]))
    print("%d passed, %d failed, %d allowed differences (%d queries, %.1fs)" % (
        passed, failed, allowed, len(queries), time.monotonic() - t0))
    return 1 if failed else 0


def partial_rrsets(q, wire, d, port, who):
    """RFC 2181 §9: a truncated response must not carry part of an RRset.
    Each RRset in a TC=1 answer is compared with the same RRset over TCP."""
    if q.tcp or d.get("none") or d.get("unparseable") or "TC" not in d["flags"].split():
        return []
    full = normalize(exchange(wire, port, True), q)
    if full.get("none") or full.get("unparseable"):
        return [(who + "-tc", "no usable TCP answer after TC=1")]
    bad = []
    for sect in ("answer", "authority"):
        for key in {(r[0], r[3]) for r in d[sect]}:
            part = {r for r in d[sect] if (r[0], r[3]) == key}
            whole = {r for r in full[sect] if (r[0], r[3]) == key}
            if part != whole:
                bad.append((who + "-tc", "partial RRset %s %s in %s (%d of %d RRs)" % (
                    key[0], key[1], sect, len(part), len(whole))))
    return bad


if __name__ == "__main__":
    sys.exit(main())
