#!/usr/bin/python3
"""test_malformed: broken packets against the real mxdnsd, over UDP and TCP.

Each case sends one packet and checks what comes back: FORMERR where the
server can answer (RFC 1035 §4.1.1: "the name server was unable to interpret
the query"), nothing where it must not answer (a response, QR=1, is dropped so
that two servers cannot loop; fewer than 12 bytes hold no ID to answer to).
After every case the server must still answer a good query over UDP and over
TCP, and at the end it must not have crashed or printed a sanitizer report.
Prints "N passed, N failed" and exits non-zero on any failure.
"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

SRC = os.environ.get("MXDNS_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZONE = ("example.com", os.path.join(SRC, "zones", "examples", "example.com.zone"))
NOERROR, FORMERR = 0, 1
DROP = "drop"      # no response at all
ANYRESP = "any"    # a well-formed response of any rcode, or none (garbage)
WAIT = 0.6         # how long "no response" is waited for


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def name(text):
    out = b""
    for label in text.split(".") if text else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def question(qname="example.com", qtype=6, qclass=1):
    return name(qname) + struct.pack("!HH", qtype, qclass)


def opt(owner=b"\x00", size=1232, rdata=b"", rdlen=None):
    return owner + struct.pack("!HHIH", 41, size, 0, len(rdata) if rdlen is None else rdlen) + rdata


GOOD = header(qid=0x4242) + question()

# (description, packet, expected): expected is an rcode, DROP or ANYRESP.
CASES = [("empty datagram", b"", DROP)]
for n in range(1, 12):
    CASES.append(("header truncated to %d bytes" % n, GOOD[:n], DROP))
CASES += [
    ("header only, QDCOUNT 1 but no question", header(), FORMERR),
    ("QDCOUNT 0", header(qd=0), FORMERR),
    ("QDCOUNT 0 with a question present", header(qd=0) + question(), FORMERR),
    ("QDCOUNT 2", header(qd=2) + question() + question("www.example.com", 1), FORMERR),
    ("QDCOUNT 2, one question sent", header(qd=2) + question(), FORMERR),
    ("question without type and class", header() + name("example.com"), FORMERR),
    ("question with half a type", header() + name("example.com") + b"\x00", FORMERR),
    ("name without its root label", header() + b"\x07example\x03com", FORMERR),
    ("label length 64", header() + b"\x40" + b"a" * 64 + b"\x00" + struct.pack("!HH", 1, 1), FORMERR),
    ("label length 0x80 (reserved label type)", header() + b"\x80abc\x00" + struct.pack("!HH", 1, 1),
     FORMERR),
    ("label longer than the packet", header() + b"\x3fabc", FORMERR),
    ("name of 320 bytes", header() + (b"\x3f" + b"a" * 63) * 5 + b"\x00" + struct.pack("!HH", 1, 1),
     FORMERR),
    ("name of 256 bytes", header() + (b"\x3f" + b"b" * 63) * 3 + b"\x3e" + b"c" * 62 + b"\x00" +
     struct.pack("!HH", 1, 1), FORMERR),
    ("compression pointer to itself", header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1), FORMERR),
    ("compression loop of two pointers", header() + b"\x01a\xc0\x0e\xc0\x0c" + struct.pack("!HH", 1, 1),
     FORMERR),
    ("forward compression pointer", header() + b"\xc0\x12" + struct.pack("!HH", 1, 1) + name("example.com"),
     FORMERR),
    ("pointer into the header", header() + b"\xc0\x00" + struct.pack("!HH", 1, 1), FORMERR),
    ("pointer past the end", header() + b"\xc0\xff" + struct.pack("!HH", 1, 1), FORMERR),
    ("QR=1 (a response): dropped", header(flags=0x8100) + question(), DROP),
    ("QR=1 with garbage", header(flags=0x8000) + b"\xff" * 20, DROP),
    ("huge claimed counts", header(an=0xffff, ns=0xffff, ar=0xffff) + question(), FORMERR),
    ("ARCOUNT 1, no record", header(ar=1) + question(), FORMERR),
    ("two OPT records (RFC 6891 §6.1.1)", header(ar=2) + question() + opt() + opt(), FORMERR),
    ("OPT owner not the root (RFC 6891 §6.1.2)", header(ar=1) + question() + opt(owner=name("example.com")),
     FORMERR),
    ("OPT RDLENGTH past the end", header(ar=1) + question() + opt(rdlen=40), FORMERR),
    ("OPT option longer than its RDATA", header(ar=1) + question() + opt(rdata=struct.pack("!HH", 10, 8) + b"ab"),
     FORMERR),
    ("OPT cut in the middle", header(ar=1) + question() + opt()[:5], FORMERR),
]


def parse_reply(data):
    """(id, qr, rcode) of a response, or None if it is shorter than a header."""
    if data is None or len(data) < 12:
        return None
    qid, flags = struct.unpack("!HH", data[:4])
    return qid, flags >> 15, flags & 0xF


def udp(port, pkt, wait):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(wait)
        s.sendto(pkt, (mxtest.HOST, port))
        try:
            return s.recvfrom(65535)[0]
        except socket.timeout:
            return None


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp(port, pkt, wait):
    """Sends pkt with its length prefix; returns the response, or None when
    the server closed the connection or said nothing in time."""
    with socket.create_connection((mxtest.HOST, port), timeout=2) as s:
        s.settimeout(wait)
        s.sendall(struct.pack("!H", len(pkt)) + pkt)
        try:
            hdr = recv_exact(s, 2)
            return None if hdr is None else recv_exact(s, struct.unpack("!H", hdr)[0])
        except (socket.timeout, ConnectionError):
            return None


def check(expected, pkt, reply):
    """None if reply is what expected says, else the problem."""
    r = parse_reply(reply)
    if expected == DROP:
        return None if reply is None else "expected no reply, got %r" % (reply[:32].hex(),)
    if expected == ANYRESP:
        if reply is None:
            return None
        if r is None or r[1] != 1:
            return "reply is not a DNS response: %r" % reply[:32].hex()
        if len(pkt) >= 2 and r[0] != struct.unpack("!H", pkt[:2])[0]:
            return "reply ID %04x does not match" % r[0]
        return None
    if r is None:
        return "expected rcode %d, got %s" % (expected, "no reply" if reply is None else reply.hex())
    if r[1] != 1 or r[0] != struct.unpack("!H", pkt[:2])[0]:
        return "reply has QR=%d ID %04x" % (r[1], r[0])
    if r[2] != expected:
        return "expected rcode %d, got %d" % (expected, r[2])
    return None


def good(port):
    """None if the server answers the good query over UDP and TCP."""
    for proto, fn in (("udp", udp), ("tcp", tcp)):
        try:
            r = parse_reply(fn(port, GOOD, 2.0))
        except OSError as e:
            return "good query over %s: %s" % (proto, e)
        if r is None or r[:3] != (0x4242, 1, NOERROR):
            return "good query over %s: %s" % (proto, r)
    return None


def tcp_raw(port, data, hold=0.2):
    """Sends raw bytes on a fresh connection, waits a little, closes."""
    with socket.create_connection((mxtest.HOST, port), timeout=2) as s:
        if data:
            s.sendall(data)
        time.sleep(hold)


def main():
    passed = failed = 0

    def result(desc, problem):
        nonlocal passed, failed
        if problem:
            failed += 1
            print("FAIL %s: %s" % (desc, problem))
        else:
            passed += 1

    with mxtest.workdir("mxmalformed-") as d:
        srv = mxtest.start_mxdnsd(mxtest.free_port(), [ZONE], logdir=d)
        port = srv.port
        try:
            result("server answers before the first case", good(port))
            for desc, pkt, expected in CASES:
                result("udp: " + desc, check(expected, pkt, udp(port, pkt, WAIT if expected == DROP else 2.0)))
                if len(pkt) > 0:
                    # Over TCP the same message, length-prefixed (RFC 7766 §8).
                    result("tcp: " + desc, check(expected, pkt, tcp(port, pkt, WAIT if expected == DROP else 2.0)))
                result("alive after: " + desc, good(port))

            # TCP framing (RFC 7766 §8): the length prefix alone, a zero
            # length, a partial body, half a prefix; then close.
            for desc, data in (("tcp: length prefix without body", struct.pack("!H", 40)),
                               ("tcp: length prefix 0", struct.pack("!H", 0)),
                               ("tcp: length 0 then a good query", struct.pack("!H", 0) +
                                struct.pack("!H", len(GOOD)) + GOOD),
                               ("tcp: partial body then close", struct.pack("!H", len(GOOD)) + GOOD[:7]),
                               ("tcp: one byte of prefix then close", b"\x00"),
                               ("tcp: connect and close", b"")):
                try:
                    tcp_raw(port, data)
                    result(desc, good(port))
                except OSError as e:
                    result(desc, str(e))

            # Several broken messages pipelined on one connection, then a
            # good one: each broken one gets FORMERR, the good one NOERROR.
            stream = b""
            bad = [c for c in CASES if c[2] == FORMERR][:5]
            for _, pkt, _ in bad:
                stream += struct.pack("!H", len(pkt)) + pkt
            stream += struct.pack("!H", len(GOOD)) + GOOD
            try:
                with socket.create_connection((mxtest.HOST, port), timeout=3) as s:
                    s.sendall(stream)
                    got = []
                    for _ in range(len(bad) + 1):
                        hdr = recv_exact(s, 2)
                        if hdr is None:
                            break
                        got.append(parse_reply(recv_exact(s, struct.unpack("!H", hdr)[0])))
                rcodes = sorted(r[2] for r in got if r)
                want = sorted([FORMERR] * len(bad) + [NOERROR])
                result("tcp: pipelined broken messages", None if rcodes == want else
                       "rcodes %s, want %s" % (rcodes, want))
            except OSError as e:
                result("tcp: pipelined broken messages", str(e))

            # Garbage: seeded so a failure can be replayed. Any well-formed
            # response (or none) will do; the server must live.
            rnd = random.Random(5300)
            for i in range(300):
                n = rnd.choice([12, 13, 17, 29, 64, 200, 512, 1400])
                pkt = bytes(rnd.getrandbits(8) for _ in range(n))
                if i % 2:  # half of them look like queries, so parsing goes deeper
                    pkt = pkt[:2] + bytes([pkt[2] & 0x7f]) + pkt[3:]
                result("udp garbage #%d" % i, check(ANYRESP, pkt, udp(port, pkt, 0.15)))
                if i % 25 == 0:
                    result("alive after garbage #%d" % i, good(port))
            for i in range(30):
                pkt = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([12, 40, 300])))
                pkt = pkt[:2] + bytes([pkt[2] & 0x7f]) + pkt[3:]
                result("tcp garbage #%d" % i, check(ANYRESP, pkt, tcp(port, pkt, 0.3)))
            result("alive after garbage", good(port))
        finally:
            try:
                srv.stop()
            except RuntimeError as e:
                result("server exit", str(e))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
