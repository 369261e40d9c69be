"""test_server: the real mxdnsd on a free loopback port, queried over UDP and
TCP with dnspython, kdig and raw sockets: answers, truncation and TCP
fallback, RFC 7766 pipelining, idle and read timeouts, connection limits,
isolation of UDP from silent TCP clients, malformed input, the embedded
default, --check and configuration errors.

Run by ctest with MXDNSD set; exits non-zero on the first failed check of
each case and reports every case."""
import os
import re
import socket
import struct
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

HOST = mxtest.HOST
ZONE = "srv.test"
BIG_TXT = " ".join('"%s"' % (("%03d" % i) * 60) for i in range(12))  # ~2.2 KB

ZONE_TEXT = """$ORIGIN srv.test.
$TTL 300
@       IN SOA ns1 hostmaster 2024010101 3600 600 86400 300
@       IN NS  ns1
@       IN NS  ns2
ns1     IN A   192.0.2.53
ns2     IN A   192.0.2.54
@       IN A   192.0.2.1
@       IN MX  10 mail
mail    IN A   192.0.2.25
mail    IN AAAA 2001:db8::25
big     IN TXT %s
""" % BIG_TXT


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def query(port, name, rdtype, tcp=False, timeout=2.0, payload=1232):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=payload)
    if tcp:
        return dns.query.tcp(q, HOST, port=port, timeout=timeout)
    return dns.query.udp(q, HOST, port=port, timeout=timeout)


def expect_auth(r, what):
    check(r.rcode() == dns.rcode.NOERROR, "%s: rcode %s, want NOERROR" % (what, dns.rcode.to_text(r.rcode())))
    check(r.flags & dns.flags.AA, "%s: AA not set" % what)


def tcp_frame(wire):
    return struct.pack("!H", len(wire)) + wire


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_msg(s):
    (n,) = struct.unpack("!H", recv_exact(s, 2))
    return dns.message.from_wire(recv_exact(s, n))


def closed_by_peer(s, timeout):
    """True if the server closes s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def start(d, port, extra_conf="", args=()):
    """mxdnsd with a config file (for the TCP limits) and the test zone."""
    zone = os.path.join(d, "srv.test.zone")
    write(zone, ZONE_TEXT)
    conf = os.path.join(d, "mxdnsd.conf")
    write(conf, "server:\n  listen: %s@%d\n  workers: 2\n%s\nzone:\n  name: %s\n  file: srv.test.zone\n"
          % (HOST, port, extra_conf, ZONE))
    return mxtest.start_mxdnsd(port, args=["-c", conf] + list(args), logdir=d,
                               probe=(ZONE, "SOA"))


# The cases. Each gets a fresh directory and port.

def case_udp_tcp_dnspython(d, port):
    srv = start(d, port)
    try:
        for tcp in (False, True):
            how = "tcp" if tcp else "udp"
            r = query(port, ZONE, "SOA", tcp)
            expect_auth(r, how + " SOA")
            check(r.answer and r.answer[0].rdtype == dns.rdatatype.SOA, how + ": no SOA in answer")
            check(r.answer[0][0].serial == 2024010101, how + ": wrong serial")
            r = query(port, ZONE, "MX", tcp)
            expect_auth(r, how + " MX")
            check(str(r.answer[0][0].exchange) == "mail.srv.test.", how + ": wrong MX")
            r = query(port, "mail." + ZONE, "A", tcp)
            expect_auth(r, how + " A")
            check(r.answer[0][0].address == "192.0.2.25", how + ": wrong A")
            r = query(port, "nope." + ZONE, "A", tcp)
            check(r.rcode() == dns.rcode.NXDOMAIN, how + ": want NXDOMAIN")
            r = query(port, "example.net", "A", tcp)
            check(r.rcode() == dns.rcode.REFUSED, how + ": want REFUSED outside our zones")
    finally:
        srv.stop()


def case_kdig(d, port):
    srv = start(d, port)
    try:
        for extra in ([], ["+tcp"]):
            out = subprocess.run(["kdig", "@%s" % HOST, "-p", str(port), ZONE, "MX", "+norec"] + extra,
                                 capture_output=True, text=True, timeout=10).stdout
            check("status: NOERROR" in out, "kdig %s: no NOERROR:\n%s" % (extra, out))
            check(re.search(r"flags: qr aa", out, re.I), "kdig %s: not authoritative:\n%s" % (extra, out))
            check("10 mail.srv.test." in out, "kdig %s: no MX:\n%s" % (extra, out))
    finally:
        srv.stop()


def case_truncation_then_tcp(d, port):
    srv = start(d, port)
    try:
        r = query(port, "big." + ZONE, "TXT", tcp=False, payload=1232)
        check(r.flags & dns.flags.TC, "a 2 KB TXT over UDP/1232 must be truncated")
        check(not r.answer, "a truncated answer carries no partial RRset")
        r = query(port, "big." + ZONE, "TXT", tcp=True)
        expect_auth(r, "big TXT over TCP")
        check(not (r.flags & dns.flags.TC), "TC over TCP")
        check(len(b"".join(r.answer[0][0].strings)) == 12 * 180, "TXT over TCP is incomplete")
        out = subprocess.run(["dig", "@%s" % HOST, "-p", str(port), "big." + ZONE, "TXT", "+bufsize=1232"],
                             capture_output=True, text=True, timeout=10).stdout
        check("Truncated, retrying in TCP mode" in out or "(TCP)" in out, "dig did not fall back to TCP:\n" + out)
        check("status: NOERROR" in out and "000000000" in out, "dig over TCP got no TXT:\n" + out)
    finally:
        srv.stop()


def case_pipelining(d, port):
    srv = start(d, port)
    try:
        names = [ZONE, "mail." + ZONE, "ns1." + ZONE, "ns2." + ZONE, "nope." + ZONE]
        types = ["SOA", "A", "A", "A", "A"]
        msgs = []
        for i, (n, t) in enumerate(zip(names, types)):
            q = dns.message.make_query(n, t)
            q.id = 1000 + i
            msgs.append(q)
        with socket.create_connection((HOST, port), timeout=3) as s:
            # RFC 7766 §6.2.1.1: several queries in one write on one connection.
            s.sendall(b"".join(tcp_frame(q.to_wire()) for q in msgs))
            got = {}
            for _ in msgs:
                r = recv_msg(s)
                got[r.id] = r
        check(sorted(got) == [1000 + i for i in range(5)], "ids %s" % sorted(got))
        for q in msgs:
            r = got[q.id]
            check(r.question[0].name == q.question[0].name, "answer %d is for another question" % q.id)
        check(got[1004].rcode() == dns.rcode.NXDOMAIN, "5th: want NXDOMAIN")
        check(got[1001].answer[0][0].address == "192.0.2.25", "2nd: wrong A")
        # And the connection stays usable for a second round.
        with socket.create_connection((HOST, port), timeout=3) as s:
            for i in range(3):
                q = dns.message.make_query(ZONE, "SOA")
                s.sendall(tcp_frame(q.to_wire()))
                check(recv_msg(s).id == q.id, "sequential query %d" % i)
    finally:
        srv.stop()


def case_idle_and_read_timeouts(d, port):
    srv = start(d, port, "  tcp-idle-timeout: 600\n  tcp-read-timeout: 800\n")
    try:
        # A silent client is closed after the idle timeout, not before.
        s = socket.create_connection((HOST, port), timeout=3)
        t0 = time.monotonic()
        check(not closed_by_peer(s, 0.3), "closed before the idle timeout")
        check(closed_by_peer(s, 3.0), "idle connection not closed")
        took = time.monotonic() - t0
        check(0.4 < took < 2.5, "idle close after %.2fs, want ~0.6s" % took)
        s.close()
        # A client that sends half a message and stalls: the read timeout.
        s = socket.create_connection((HOST, port), timeout=3)
        wire = dns.message.make_query(ZONE, "SOA").to_wire()
        s.sendall(tcp_frame(wire)[:5])
        t0 = time.monotonic()
        check(closed_by_peer(s, 3.0), "stalled message not closed")
        took = time.monotonic() - t0
        check(0.5 < took < 2.5, "read timeout after %.2fs, want ~0.8s" % took)
        s.close()
        # Dribbling bytes does not extend the read timeout (slowloris).
        s = socket.create_connection((HOST, port), timeout=3)
        t0 = time.monotonic()
        frame = tcp_frame(wire)
        closed = False
        for i in range(len(frame) - 1):
            try:
                s.sendall(frame[i:i + 1])
            except OSError:
                closed = True
                break
            if closed_by_peer(s, 0.25):
                closed = True
                break
        took = time.monotonic() - t0
        check(closed and took < 2.5, "a dribbling client kept its connection for %.2fs" % took)
        s.close()
        # The server still answers afterwards.
        expect_auth(query(port, ZONE, "SOA", tcp=True), "after timeouts")
    finally:
        srv.stop()


def case_silent_tcp_does_not_delay_udp(d, port):
    srv = start(d, port, "  tcp-max-per-ip: 200\n  tcp-idle-timeout: 20000\n  tcp-read-timeout: 20000\n")
    socks = []
    try:
        for i in range(100):
            s = socket.create_connection((HOST, port), timeout=3)
            if i % 2:
                s.sendall(b"\x00\x40\x12")  # a message that never completes
            socks.append(s)
        worst = 0.0
        for i in range(200):
            t0 = time.monotonic()
            r = query(port, ZONE, "SOA", timeout=1.0)
            worst = max(worst, time.monotonic() - t0)
            expect_auth(r, "udp query %d with 100 silent TCP clients" % i)
        check(worst < 0.5, "slowest UDP answer took %.3fs" % worst)
        # A new TCP client is served too.
        expect_auth(query(port, ZONE, "SOA", tcp=True), "tcp with silent clients")
    finally:
        for s in socks:
            s.close()
        srv.stop()


def case_connection_limits(d, port):
    # Per client address: 3 (across all workers).
    srv = start(d, port, "  tcp-max-per-ip: 3\n")
    held = []
    try:
        time.sleep(0.3)  # the start-up probe's connection is gone
        for i in range(3):
            s = socket.create_connection((HOST, port), timeout=3)
            q = dns.message.make_query(ZONE, "SOA")
            s.sendall(tcp_frame(q.to_wire()))
            check(recv_msg(s).id == q.id, "connection %d within the limit not served" % i)
            held.append(s)
        s = socket.create_connection((HOST, port), timeout=3)
        check(closed_by_peer(s, 2.0), "4th connection from one address not refused")
        s.close()
        held.pop().close()
        time.sleep(0.2)
        expect_auth(query(port, ZONE, "SOA", tcp=True), "a slot freed by a close is reusable")
    finally:
        for s in held:
            s.close()
        srv.stop()
    # In total per worker: 2, with one worker.
    port2 = mxtest.free_port()
    d2 = os.path.join(d, "total")
    os.mkdir(d2)
    srv = start(d2, port2, "  tcp-max-connections: 2\n", args=["--workers", "1"])
    held = []
    try:
        time.sleep(0.3)  # the start-up probe's connection is gone
        for i in range(2):
            s = socket.create_connection((HOST, port2), timeout=3)
            q = dns.message.make_query(ZONE, "SOA")
            s.sendall(tcp_frame(q.to_wire()))
            check(recv_msg(s).id == q.id, "connection %d within tcp-max-connections not served" % i)
            held.append(s)
        s = socket.create_connection((HOST, port2), timeout=3)
        check(closed_by_peer(s, 2.0), "3rd connection over tcp-max-connections not refused")
        s.close()
        expect_auth(query(port2, ZONE, "SOA"), "UDP while TCP is full")
    finally:
        for s in held:
            s.close()
        srv.stop()


def case_malformed(d, port):
    srv = start(d, port)
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for junk in (b"", b"\x00", b"\x12\x34" + b"\xff" * 10, os.urandom(700),
                     b"\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"):
            u.sendto(junk, (HOST, port))
        u.close()
        for junk in (b"\x00", b"\x00\x20", b"\xff\xff" + b"x" * 100, b"\x00\x05hello"):
            s = socket.create_connection((HOST, port), timeout=3)
            s.sendall(junk)
            s.close()
        time.sleep(0.2)
        expect_auth(query(port, ZONE, "SOA"), "udp after junk")
        expect_auth(query(port, ZONE, "SOA", tcp=True), "tcp after junk")
        check(srv.alive(), "mxdnsd died on junk")
    finally:
        srv.stop()


def wildcard_free_port():
    for _ in range(50):
        port = mxtest.free_port()
        try:
            for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(fam, kind) as s:
                        s.bind((addr, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on the wildcard addresses")


def case_wildcard_answers_from_the_address_asked(d, port):
    # Bound to a wildcard address, answers must leave from the address the
    # query came to (IP_PKTINFO / IPV6_PKTINFO), or resolvers drop them;
    # dnspython raises UnexpectedSource then. "::" also takes IPv4 clients
    # (v4-mapped) when 0.0.0.0 is not listed on that port.
    zone = os.path.join(d, "srv.test.zone")
    write(zone, ZONE_TEXT)
    # free_port() checks 127.0.0.1 only; a wildcard bind also collides with
    # any other address's use of the port, so check the wildcards.
    port, port6 = wildcard_free_port(), wildcard_free_port()
    have6 = socket.has_ipv6
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))
    except OSError:
        have6 = False
    args = ["--zone", "%s:%s" % (ZONE, zone)]
    if have6:
        args += ["--listen", "::@%d" % port6]
    argv = [mxtest.binary("MXDNSD", "mxdnsd"), "--listen", "0.0.0.0@%d" % port] + args
    srv = mxtest.Server("mxdnsd", argv, port, os.path.join(d, "wild.log"))
    mxtest._started(srv, (ZONE, "SOA"))
    try:
        targets = [("127.0.0.1", port), ("127.0.0.2", port)]
        if have6:
            targets += [("::1", port6), ("127.0.0.3", port6)]
        for addr, p in targets:
            q = dns.message.make_query(ZONE, "SOA")
            r = dns.query.udp(q, addr, port=p, timeout=2)
            expect_auth(r, "udp to %s@%d" % (addr, p))
            r = dns.query.tcp(q, addr, port=p, timeout=2)
            expect_auth(r, "tcp to %s@%d" % (addr, p))
    finally:
        srv.stop()


def case_embedded_default(d, port):
    srv = mxtest.start_mxdnsd(port, logdir=d, probe=("example.com", "SOA"))
    try:
        for tcp in (False, True):
            r = query(port, "example.com", "SOA", tcp)
            expect_auth(r, "embedded example.com SOA (%s)" % ("tcp" if tcp else "udp"))
            r = query(port, "example.com", "MX", tcp)
            expect_auth(r, "embedded example.com MX")
            check(len(r.answer[0]) == 2, "embedded example.com: want an MX pair")
        line = "dig @127.0.0.1 -p %d example.com MX" % port
        check(line in srv.log(), "no ready-to-paste '%s' line in:\n%s" % (line, srv.log()))
    finally:
        srv.stop()


def case_check_and_config_errors(d, port):
    mxdnsd = mxtest.binary("MXDNSD", "mxdnsd")
    zone = os.path.join(d, "srv.test.zone")
    write(zone, ZONE_TEXT)
    conf = os.path.join(d, "good.conf")
    write(conf, "server:\n  listen: 127.0.0.1@%d\nzone:\n  name: srv.test\n  file: srv.test.zone\n" % port)
    p = subprocess.run([mxdnsd, "-c", conf, "--check"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "--check of a good config: exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
    check("loaded srv.test. serial=2024010101" in p.stdout, "--check report:\n" + p.stdout)

    bad_zone = os.path.join(d, "bad.zone")
    write(bad_zone, ZONE_TEXT + "oops IN A 300.1.2.3\n")
    lineno = ZONE_TEXT.count("\n") + 1
    p = subprocess.run([mxdnsd, "--zone", "srv.test:" + bad_zone, "--check"], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 1, "--check of a broken zone: exit %d" % p.returncode)
    check("%s:%d" % (bad_zone, lineno) in p.stdout + p.stderr,
          "--check does not name %s:%d:\n%s%s" % (bad_zone, lineno, p.stdout, p.stderr))

    bad_conf = os.path.join(d, "bad.conf")
    write(bad_conf, "server:\n  listen: 127.0.0.1@%d\n  udp-size: 99999\n" % port)
    p = subprocess.run([mxdnsd, "-c", bad_conf], capture_output=True, text=True, timeout=30)
    check(p.returncode != 0, "a bad config was accepted")
    check("%s:3: key 'udp-size'" % bad_conf in p.stderr, "config error message:\n" + p.stderr)

    for args in (["--listen", "nowhere"], ["--zone", "nofile"], ["--workers", "0"], ["--bogus"]):
        p = subprocess.run([mxdnsd] + args, capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and p.stderr.startswith("mxdnsd: "),
              "%s: exit %d, stderr %r" % (args, p.returncode, p.stderr))
    example = os.path.join(os.environ.get("MXDNS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                           "docs", "mxdnsd.conf.example")
    p = subprocess.run([mxdnsd, "-c", example, "--check"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "3 zone(s) loaded, 0 failed" in p.stdout,
          "docs/mxdnsd.conf.example --check: %d\n%s%s" % (p.returncode, p.stdout, p.stderr))

    p = subprocess.run([mxdnsd, "--version"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and p.stdout.startswith("mxdnsd "), "--version")
    p = subprocess.run([mxdnsd, "--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "--listen" in p.stdout, "--help")


CASES = [
    case_udp_tcp_dnspython,
    case_kdig,
    case_truncation_then_tcp,
    case_pipelining,
    case_idle_and_read_timeouts,
    case_silent_tcp_does_not_delay_udp,
    case_connection_limits,
    case_malformed,
    case_wildcard_answers_from_the_address_asked,
    case_embedded_default,
    case_check_and_config_errors,
]


def main():
    only = sys.argv[1:]
    failed = []
    for case in CASES:
        if only and case.__name__ not in only:
            continue
        with mxtest.workdir() as d:
            port = mxtest.free_port()
            t0 = time.monotonic()
            try:
                case(d, port)
                print("ok   %s (%.1fs)" % (case.__name__, time.monotonic() - t0), flush=True)
            except Exception:
                failed.append(case.__name__)
                print("FAIL %s\n%s" % (case.__name__, traceback.format_exc()), flush=True)
    print("%d case(s) failed" % len(failed) if failed else "all cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
