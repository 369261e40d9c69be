#!/usr/bin/python3
"""Differential test: mxdnsd vs rbldnsd on the same rbldnsd data files.

Each file in tests/data/dnsbl is imported with `mxdns bl import --format
rbldnsd-TYPE` into one LMDB database (one list per zone) and served by
mxdnsd, while rbldnsd serves the very same files. For listed, unlisted and
excluded names of every format, and 200 names per zone drawn around them
with a fixed seed ($MXDIFF_SEED), the A and TXT answers (rcode and RDATA
sets) must be the same.

Where mxdnsd differs on purpose, this test checks our behaviour instead:
  - names above listings (2.0.192.zone, partial nibble names): rbldnsd
    answers NXDOMAIN, mxdnsd NOERROR/NODATA (RFC 8020), so resolvers that
    use QNAME minimisation (RFC 9156) still reach the listed names;
  - RFC 5782 test points: mxdnsd never lists 127.0.0.1, whatever the data;
  - TCP: rbldnsd has none, mxdnsd answers the same over TCP;
  - TTLs are not compared (mxdnsd takes them from its configuration).
"""
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

MXDNSD = os.environ.get("MXDNSD", "build/mxdnsd")
MXDNS = os.environ.get("MXDNS", "build/mxdns")
SRC = os.environ.get("MXDNS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.abspath(os.path.join(SRC, "tests", "data", "dnsbl"))

V6_5782 = "2.0.0.0.0.0.f.7.f.f.f.f" + ".0" * 20


def nib(addr):
    import ipaddress
    h = ipaddress.ip_address(addr).exploded.replace(":", "")
    return ".".join(reversed(h))


def rev4(a):
    return ".".join(reversed(a.split(".")))


# zone label -> (rbldnsd type, file, [relative query names])
ZONES = {
    "ip4set": ("ip4set", "ip4set.txt", [rev4(a) for a in [
        "127.0.0.2", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5",
        "198.51.100.0", "198.51.100.255", "198.51.101.1", "203.0.113.9", "203.0.113.10",
        "203.0.113.20", "203.0.113.21", "10.15.255.255", "10.16.0.0", "10.31.255.255",
        "10.32.0.0", "172.16.0.1", "172.31.255.255", "172.16.5.5", "172.16.6.1",
        "172.16.6.129", "172.32.0.0",
        # unlisted: /8s with nothing, a /24 beside listed ones, just
        # outside the /12 (mxdnsd answers these from the /24 filter)
        "8.8.8.8", "1.2.3.4", "203.0.114.15", "203.0.112.255", "198.51.99.255",
        "172.15.255.255", "10.32.0.1", "10.15.0.1", "192.0.3.1"]]),
    "ip4tset": ("ip4tset", "ip4tset.txt", [rev4(a) for a in [
        "127.0.0.2", "192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.200",
        "198.51.100.201"]]),
    "ip4trie": ("ip4trie", "ip4trie.txt", [rev4(a) for a in [
        "127.0.0.2", "10.0.0.1", "10.1.0.1", "10.1.1.1", "10.1.1.64", "10.1.1.70",
        "10.1.1.127", "10.1.1.128", "10.1.2.0", "11.0.0.0", "192.0.2.1", "192.0.2.200",
        "192.0.3.1", "9.255.255.255", "4.3.2.1", "192.0.1.255"]]),
    "ip6tset": ("ip6tset", "ip6tset.txt", [nib(a) for a in [
        "2001:db8:1:1::1", "2001:db8:1:1:ffff:ffff:ffff:ffff", "2001:db8:1:2::1",
        "2001:db8:1:2::5", "2001:db8:1:2::6", "2001:db8:1:3::1"]]),
    "ip6trie": ("ip6trie", "ip6trie.txt", [nib(a) for a in [
        "2001:db8:c000::1", "2001:db8:cfff::1", "2001:db8:d000::1",
        "2001:db8:def7:4242::9", "2001:db8:def7:4243::9", "2001:db8:42::1",
        "2001:db8:42::bead", "2001:db8:42:1000::1"]]),
    "dnset": ("dnset", "dnset.txt", [
        "test", "spam.example", "www.spam.example", "a.wild.example", "x.y.wild.example",
        "ok.wild.example", "both.example", "a.both.example",
        "deep.a.b.c.example", "unlisted.example"]),
    "generic": ("generic", "generic.txt", ["www", "info", "nothing"]),
}

CHILDREN = ["child.wild.example.dnset.bl.test.", "child.unlisted.example.dnset.bl.test."]

COMBINED = ["127.0.0.2", "127.0.0.10", "192.0.2.50", "127.0.2.10", "192.0.2.60",
            "127.0.9.12", "192.0.2.70"]


def random_names(label, names, rnd, n):
    """n names drawn around the zone's query names: addresses with random
    low bits flipped (range edges, neighbours), nibble names with one nibble
    changed, domains with a label added. Always the full length: names
    above listings differ on purpose (RFC 8020, see above)."""
    out = []
    for _ in range(n):
        base = rnd.choice(names)
        labels = base.split(".")
        if label.startswith("ip4") and len(labels) == 4 and base != "2.0.0.127":
            v = int.from_bytes(bytes(int(x) for x in reversed(labels)), "big")
            v ^= 1 << rnd.randrange(rnd.choice([8, 16, 24]))
            out.append(rev4(".".join(str(b) for b in v.to_bytes(4, "big"))))
        elif label.startswith("ip6") and len(labels) == 32:
            i = rnd.randrange(32)
            labels[i] = "%x" % rnd.randrange(16)
            out.append(".".join(labels))
        elif label in ("dnset", "generic"):
            out.append(rnd.choice(["x", "mail", "a.b", "*"]) + "." + base)
    return out


def free_port():
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def ask(port, name, rdtype, tcp=False):
    q = dns.message.make_query(name, rdtype)
    for attempt in range(3):
        try:
            if tcp:
                return dns.query.tcp(q, "127.0.0.1", port=port, timeout=2)
            return dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
        except dns.exception.Timeout:
            if attempt == 2:
                raise


def summary(r, rdtype):
    rd = sorted(rr.to_text() for rs in r.answer for rr in rs
                if rs.rdtype == dns.rdatatype.from_text(rdtype))
    return (dns.rcode.to_text(r.rcode()), rd)


def wait_ready(port, name, proc, what):
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            ask(port, name, "SOA")
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer on port {port}")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.returncode}: {p.stderr}")
    return p


def main():
    if shutil.which("rbldnsd") is None and not os.path.exists("/usr/sbin/rbldnsd"):
        print("SKIP: rbldnsd is not installed (apt-get install rbldnsd)")
        return 77
    rbldnsd = shutil.which("rbldnsd") or "/usr/sbin/rbldnsd"
    tmp = tempfile.mkdtemp(prefix="dnsbl_rbldnsd.")
    db = os.path.join(tmp, "bl.mdb")
    procs = []
    failures = []
    try:
        dnsbl_args, rbl_args = [], []
        for label, (typ, fname, _) in ZONES.items():
            zone = f"{label}.bl.test"
            run([MXDNS, "bl", "--db", db, "--list", zone, "import", os.path.join(DATA, fname),
                 "--format", "rbldnsd-" + typ, "--force", "-q"])
            dnsbl_args += ["--dnsbl", f"{zone}:{db}"]
            rbl_args.append(f"{zone}:{typ}:{fname}")
        run([MXDNS, "bl", "--db", db, "--list", "combined.bl.test", "import",
             os.path.join(DATA, "combined.txt"), "--format", "rbldnsd-combined", "-q"])
        for sub in ["", "proxies.", "relays.", "multihop."]:
            dnsbl_args += ["--dnsbl", f"{sub}combined.bl.test:{db}"]
        rbl_args.append("combined.bl.test:combined:combined.txt")

        # Two zones served below the dnset DNSBL zone (which has no NS for
        # them), for the DS checks below; no compared query reaches into them.
        for child in CHILDREN:
            path = os.path.join(tmp, child + "zone")
            with open(path, "w") as f:
                f.write(f"$ORIGIN {child}\n$TTL 300\n"
                        "@ SOA ns1.example. hostmaster.example. 1 3600 600 86400 300\n"
                        "@ NS ns1.example.\n@ A 192.0.2.1\n")
            dnsbl_args += ["--zone", f"{child}:{path}"]

        p_mx, p_rb = free_port(), free_port()
        mx = subprocess.Popen([MXDNSD, "--listen", f"127.0.0.1@{p_mx}"] + dnsbl_args,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "mx.log"), "w"))
        procs.append(mx)
        rb = subprocess.Popen([rbldnsd, "-n", "-f", "-b", f"127.0.0.1/{p_rb}", "-r", DATA] + rbl_args,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "rb.log"), "w"))
        procs.append(rb)
        wait_ready(p_mx, "ip4set.bl.test", mx, "mxdnsd")
        # rbldnsd answers SOA because the file has $SOA; ask something else for readiness
        deadline = time.time() + 15
        while True:
            try:
                ask(p_rb, "2.0.0.127.ip4set.bl.test", "A")
                break
            except Exception:
                if time.time() > deadline or rb.poll() is not None:
                    raise RuntimeError("rbldnsd did not start: " + open(os.path.join(tmp, "rb.log")).read())
                time.sleep(0.2)

        n = 0
        queries = [(f"{q}.{label}.bl.test", label) for label, (_, _, qs) in ZONES.items() for q in qs]
        rnd = random.Random(int(os.environ.get("MXDIFF_SEED", "1")))
        queries += [(f"{q}.{label}.bl.test", label) for label, (_, _, qs) in ZONES.items()
                    for q in random_names(label, qs, rnd, 200)]
        for sub in ["", "proxies.", "relays.", "multihop."]:
            # 127.0.0.2 is not in the relays data: rbldnsd says NXDOMAIN,
            # mxdnsd answers the RFC 5782 test point (checked below)
            queries += [(f"{rev4(a)}.{sub}combined.bl.test", "combined") for a in COMBINED
                        if not (sub == "relays." and a == "127.0.0.2")]
        listed = 0
        for name, label in queries:
            for rdtype in ("A", "TXT"):
                a = summary(ask(p_mx, name, rdtype), rdtype)
                b = summary(ask(p_rb, name, rdtype), rdtype)
                n += 1
                listed += a[1] != []
                if a != b:
                    failures.append(f"{name} {rdtype}: mxdnsd {a} rbldnsd {b}")
        if listed < 40:
            failures.append(f"only {listed} listed answers: the data did not load?")

        # Deliberate differences, checked on our side.
        r = ask(p_mx, "2.0.192.ip4set.bl.test", "A")
        if r.rcode() != dns.rcode.NOERROR or r.answer:
            failures.append("2.0.192 above listings: want NOERROR/NODATA (RFC 8020)")
        if not any(rs.rdtype == dns.rdatatype.SOA for rs in r.authority):
            failures.append("NODATA without the SOA in authority")
        rb_r = ask(p_rb, "2.0.192.ip4set.bl.test", "A")
        print(f"note: above a listing rbldnsd says {dns.rcode.to_text(rb_r.rcode())}, mxdnsd NOERROR/NODATA")
        r = ask(p_mx, "wild.example.dnset.bl.test", "A")
        if r.rcode() != dns.rcode.NOERROR or r.answer:
            failures.append("wild.example (only *.wild.example listed): want NODATA (RFC 8020)")
        for name in ["2.0.0.127.relays.combined.bl.test", V6_5782 + ".ip6trie.bl.test",
                     "test.ip4set.bl.test"]:
            if summary(ask(p_mx, name, "A"), "A") != ("NOERROR", ["127.0.0.2"]):
                failures.append(f"{name}: the RFC 5782 test point must be listed")
        r = ask(p_mx, "1.0.0.127.ip4set.bl.test", "A")
        if r.rcode() != dns.rcode.NXDOMAIN:
            failures.append("127.0.0.1 must never be listed (RFC 5782 §5)")
        r = ask(p_mx, "1.2.0.192.ip4set.bl.test", "A", tcp=True)
        if summary(r, "A") != ("NOERROR", ["127.0.0.2"]) or not (r.flags & dns.flags.AA):
            failures.append(f"TCP answer wrong: {r}")
        # DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): the
        # DNSBL parent answers it. The child's apex exists, listed there
        # (the *.wild.example wildcard) or not, and a DNSBL holds no DS:
        # NODATA with the parent's SOA, as NSD and Knot answer for a cut.
        # NXDOMAIN would deny the child zone (RFC 8020: and all below it).
        for child in CHILDREN:
            r = ask(p_mx, child, "DS")
            soa = [rs for rs in r.authority if rs.rdtype == dns.rdatatype.SOA]
            if r.rcode() != dns.rcode.NOERROR or r.answer or not soa or str(soa[0].name) != "dnset.bl.test.":
                failures.append(f"DS {child}: want NODATA from dnset.bl.test: {r}")
            if summary(ask(p_mx, child, "A"), "A") != ("NOERROR", ["192.0.2.1"]):
                failures.append(f"A {child}: the child zone must answer")
        r = ask(p_mx, "1.2.0.192.IP4SET.bl.test", "A")
        if str(r.answer[0].name) != "1.2.0.192.IP4SET.bl.test.":
            failures.append("qname case not preserved")
        print(f"compared {n} answers ({listed} listed), {len(failures)} differences")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
