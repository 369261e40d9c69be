#!/usr/bin/python3
"""test_check: `mxdns check --domain D` against zones served by mxdnsd.

mxdnsd serves tests/data/check/: good.test (everything right),
broken.test (one of each usual mistake, commented in the zone file),
nomail.test (a null MX), the reverse zones of 192.0.2.0/24 and
2001:db8::/32 (PTR), and a DNSBL zone bl.test from an LMDB made with
`mxdns bl add` that lists broken.test's MX address 192.0.2.66.

Checked: every expected finding with its level (OK/WARN/FAIL), in --json
and in the text report (the same lines), the exit codes (0 no FAIL, 1 a
FAIL, 2 usage error or no answer), DKIM selectors guessed only when none is
given (and only found ones reported), the implicit MX of a name with only
an address, the null MX.

Run by ctest with MXDNSD and MXDNS set; /usr/bin/python3 (dnspython)."""
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

SRC = os.environ.get("MXDNS_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = os.path.join(SRC, "tests", "data", "check")
MXDNS = mxtest.binary("MXDNS", "mxdns")
ZONES = ["good.test", "broken.test", "nomail.test", "2.0.192.in-addr.arpa",
         "8.b.d.0.1.0.0.2.ip6.arpa"]

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args, timeout=60):
    t0 = time.monotonic()
    p = subprocess.run([MXDNS, "check"] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p, time.monotonic() - t0


def check_json(port, *args):
    p, _ = run("--server", "127.0.0.1@%d" % port, "--json", *args)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        failures.append("not JSON for %s: rc %d\n%s\n%s" % (args, p.returncode, p.stdout,
                                                            p.stderr))
        return p.returncode, None
    return p.returncode, doc


def lines(doc):
    """[(section, status, text)] of a JSON report."""
    return [(s["name"], l["status"], l["text"]) for s in doc["sections"] for l in s["lines"]]


def section(doc, name):
    return next(s for s in doc["sections"] if s["name"] == name)


def has(doc, sec, status, pattern):
    rx = re.compile(pattern)
    return any(s == sec and st == status and rx.search(t) for s, st, t in lines(doc))


def want(doc, sec, status, pattern, what):
    expect(has(doc, sec, status, pattern), "%s: want %s %s /%s/ in %s" % (
        what, sec, status, pattern,
        [(st, t) for s, st, t in lines(doc) if s == sec]))


def text_lines(out):
    """[(section, status, text)] of a text report."""
    got, sec = [], None
    for line in out.splitlines():
        m = re.match(r"^(MX|SPF|DKIM|DMARC|MTA-STS|TLS-RPT|TLSA|DNSBL): (\w+)$", line)
        if m:
            sec = m.group(1)
            continue
        m = re.match(r"^  (OK|INFO|WARN|FAIL) +(.*)$", line)
        if m and sec:
            got.append((sec, m.group(1), m.group(2)))
    return got


def test_good(port):
    rc, doc = check_json(port, "--domain", "good.test", "--selector", "sel1",
                         "--dnsbl", "bl.test")
    if doc is None:
        return
    expect(rc == 0, "good.test: exit %d, want 0: %s" % (rc, lines(doc)))
    expect(doc["ok"] is True and doc["fail"] == 0 and doc["warn"] == 0,
           "good.test: ok/fail/warn %s %s %s" % (doc["ok"], doc["fail"], doc["warn"]))
    for s in doc["sections"]:
        expect(s["status"] == "OK", "good.test: section %s is %s" % (s["name"], s["status"]))
    expect(doc["mx"] == [
        {"preference": 10, "host": "mx1.good.test", "addresses": ["192.0.2.10", "2001:db8::10"]},
        {"preference": 20, "host": "mx2.good.test", "addresses": ["192.0.2.20"]}],
        "good.test: mx %s" % doc["mx"])
    want(doc, "MX", "OK", r"^192\.0\.2\.10 \(mx1\.good\.test\) PTR mx1\.good\.test\., "
         r"forward-confirmed", "good FCrDNS v4")
    want(doc, "MX", "OK", r"^2001:db8::10 \(mx1\.good\.test\) PTR mx1\.good\.test\., "
         r"forward-confirmed", "good FCrDNS v6")
    want(doc, "SPF", "OK", r"^v=spf1 mx ip4:192\.0\.2\.0/24 -all$", "good SPF record")
    want(doc, "SPF", "OK", r"^1 of 10 DNS lookups, 0 of 2 void", "good SPF count")
    want(doc, "DKIM", "OK", r"^sel1: rsa key of 2048 bits", "good DKIM")
    expect(not any("guessed" in t or "tried" in t for _, _, t in lines(doc)),
           "good.test: selectors guessed although --selector was given")
    want(doc, "DMARC", "OK", r"^policy p=reject$", "good DMARC policy")
    want(doc, "DMARC", "OK", r"^aggregate reports to mailto:dmarc@good\.test", "good rua")
    want(doc, "MTA-STS", "OK", r"^v=STSv1; id=20260101000000$", "good MTA-STS")
    want(doc, "MTA-STS", "INFO", r"not fetched", "MTA-STS says it does not fetch")
    want(doc, "TLS-RPT", "OK", r"^v=TLSRPTv1", "good TLS-RPT")
    want(doc, "TLSA", "OK", r"^_25\._tcp\.mx1\.good\.test: TLSA 3 1 1 \(DANE-EE\)", "TLSA mx1")
    want(doc, "TLSA", "OK", r"^_25\._tcp\.mx2\.good\.test: TLSA 3 1 1", "TLSA mx2")
    want(doc, "TLSA", "INFO", r"DNSSEC is not validated", "TLSA DNSSEC note")
    for a in ("192.0.2.10", "2001:db8::10", "192.0.2.20"):
        want(doc, "DNSBL", "OK", r"^%s \(mx\d\.good\.test\) is not listed in bl\.test$" %
             re.escape(a), "good DNSBL " + a)

    # the text report carries the same lines, and the same exit code
    p, _ = run("--server", "127.0.0.1@%d" % port, "--domain", "good.test", "--selector", "sel1",
               "--dnsbl", "bl.test")
    expect(p.returncode == 0, "good.test text: exit %d" % p.returncode)
    expect(text_lines(p.stdout) == lines(doc), "good.test: text and JSON differ:\n%s\n%s" % (
        p.stdout, lines(doc)))
    expect("passed: 0 FAIL, 0 WARN" in p.stdout, "good.test text: no summary")

    # without --selector: the common selectors are tried, the found one reported
    rc, doc = check_json(port, "--domain", "good.test")
    if doc is None:
        return
    expect(rc == 0, "good.test without selector: exit %d" % rc)
    want(doc, "DKIM", "INFO", r"cannot be discovered.*default, selector1, selector2, google, "
         r"mail, dkim, s1, s2, k1", "DKIM discovery note")
    want(doc, "DKIM", "OK", r"^selector1 \(guessed\): ed25519 key of 256 bits", "guessed key")
    dkim = [t for s, _, t in lines(doc) if s == "DKIM"]
    expect(len(dkim) == 2, "good.test: only the found selector is reported: %s" % dkim)
    want(doc, "DNSBL", "INFO", r"no --dnsbl", "no DNSBL note")


def test_broken(port):
    rc, doc = check_json(port, "--domain", "broken.test", "--selector", "sel1",
                         "--selector", "nosuch", "--dnsbl", "bl.test")
    if doc is None:
        return
    expect(rc == 1, "broken.test: exit %d, want 1" % rc)
    expect(doc["ok"] is False, "broken.test: ok is not false")
    # MX
    want(doc, "MX", "WARN", r"^alias\.broken\.test is an alias \(CNAME to mx1\.broken\.test\.\)"
         r".*RFC 2181 §10\.3", "MX to a CNAME")
    want(doc, "MX", "FAIL", r"^noaddr\.broken\.test has no A or AAAA record", "MX without address")
    want(doc, "MX", "FAIL", r"^MX 40 192\.0\.2\.99 is written as an address", "MX IP literal")
    want(doc, "MX", "WARN", r"^192\.0\.2\.66 \(mx1\.broken\.test\) PTR host66\.elsewhere\.test\.,"
         r" which does not resolve back", "PTR not forward-confirmed")
    # SPF
    want(doc, "SPF", "FAIL", r"has 2 SPF records.*RFC 7208 §4\.5", "two SPF records")
    want(doc, "SPF", "FAIL", r"^13 DNS-querying terms through includes.*limit is 10",
         "SPF over 10 lookups")
    # DKIM
    want(doc, "DKIM", "WARN", r"^sel1: the key at sel1\._domainkey\.broken\.test is revoked",
         "DKIM revoked")
    want(doc, "DKIM", "FAIL", r"^nosuch: no DKIM key at nosuch\._domainkey\.broken\.test",
         "DKIM selector missing")
    # DMARC
    want(doc, "DMARC", "FAIL", r"^no DMARC record at _dmarc\.broken\.test", "DMARC missing")
    want(doc, "DMARC", "INFO", r"organizational domain", "org-domain fallback note")
    # MTA-STS, TLS-RPT, TLSA
    want(doc, "MTA-STS", "FAIL", r"^policy host mta-sts\.broken\.test has no A/AAAA",
         "MTA-STS host")
    want(doc, "TLS-RPT", "WARN", r"^no TLS-RPT record at _smtp\._tls\.broken\.test",
         "TLS-RPT missing beside MTA-STS")
    want(doc, "TLSA", "FAIL", r"^_25\._tcp\.mx1\.broken\.test: TLSA 3 1 1 holds 2 bytes",
         "TLSA bad length")
    want(doc, "TLSA", "INFO", r"^no TLSA at _25\._tcp\.alias\.broken\.test", "no TLSA")
    # DNSBL: listed with the TXT reason ('$' is the address), asked once
    # although two MX hosts share the address
    want(doc, "DNSBL", "FAIL", r"^192\.0\.2\.66 \(mx1\.broken\.test\) is listed in bl\.test "
         r"\(127\.0\.0\.2\): spam source, see https://bl\.test/192\.0\.2\.66$", "DNSBL listed")
    bl = [t for s, _, t in lines(doc) if s == "DNSBL"]
    expect(len(bl) == 1, "broken.test: DNSBL lines %s" % bl)
    for name in ("MX", "SPF", "DKIM", "DMARC", "MTA-STS", "TLSA", "DNSBL"):
        expect(section(doc, name)["status"] == "FAIL",
               "broken.test: section %s is %s" % (name, section(doc, name)["status"]))
    expect(section(doc, "TLS-RPT")["status"] == "WARN", "broken.test: TLS-RPT not WARN")
    expect(doc["fail"] == sum(1 for _, st, _ in lines(doc) if st == "FAIL"),
           "broken.test: fail count")

    p, _ = run("--server", "127.0.0.1@%d" % port, "--domain", "broken.test", "--selector", "sel1",
               "--selector", "nosuch", "--dnsbl", "bl.test")
    expect(p.returncode == 1, "broken.test text: exit %d" % p.returncode)
    expect(text_lines(p.stdout) == lines(doc), "broken.test: text and JSON differ")
    expect(re.search(r"^FAILED: \d+ FAIL, \d+ WARN$", p.stdout, re.M), "broken text summary")


def test_other_domains(port):
    # null MX: accepted and nothing to resolve behind it
    rc, doc = check_json(port, "--domain", "nomail.test", "--dnsbl", "bl.test")
    if doc is not None:
        expect(rc == 0, "nomail.test: exit %d: %s" % (rc, lines(doc)))
        want(doc, "MX", "OK", r"^null MX \(RFC 7505\)", "null MX")
        expect(doc["null_mx"] is True and doc["mx"] == [], "nomail.test: mx %s" % doc["mx"])
        want(doc, "DNSBL", "INFO", r"no MX address", "null MX: nothing listed")
    # a name with only an address: the implicit MX (RFC 5321 §5.1)
    rc, doc = check_json(port, "--domain", "ns1.good.test", "--dnsbl", "bl.test")
    if doc is not None:
        expect(rc == 1, "ns1.good.test: exit %d (no SPF, no DMARC)" % rc)
        want(doc, "MX", "WARN", r"^no MX record.*implicit MX, RFC 5321 §5\.1", "implicit MX")
        expect(doc["implicit_mx"] is True and doc["mx"][0]["addresses"] == ["192.0.2.53"],
               "implicit MX: %s" % doc["mx"])
        want(doc, "MX", "WARN", r"^192\.0\.2\.53 \(ns1\.good\.test\) has no PTR", "no PTR")
        want(doc, "DNSBL", "OK", r"^192\.0\.2\.53 .* not listed", "implicit MX in DNSBL")
    # a name that does not exist: one FAIL, the rest skipped
    rc, doc = check_json(port, "--domain", "nx.good.test")
    if doc is not None:
        expect(rc == 1, "nx.good.test: exit %d" % rc)
        want(doc, "MX", "FAIL", r"does not exist \(NXDOMAIN\)", "NXDOMAIN")
        expect(section(doc, "SPF")["status"] == "SKIPPED", "nx: SPF not skipped")


def test_usage_and_network(port):
    for args in ([], ["--domain"], ["--domain", "a..b"], ["--domain", "good.test", "--bogus"],
                 ["--domain", "good.test", "extra"], ["--domain", "good.test", "--selector", "a b"],
                 ["--domain", "good.test", "--server", "not-an-address"]):
        p, _ = run(*args)
        expect(p.returncode == 2 and p.stderr.startswith("mxdns check: ") and p.stdout == "",
               "usage %s: exit %d, stderr %r" % (args, p.returncode, p.stderr))
    p, _ = run("--help")
    expect(p.returncode == 0 and "usage: mxdns check" in p.stdout, "--help")
    # a port where nothing listens, and one where a socket swallows queries
    dead = mxtest.free_port()
    p, _ = run("--domain", "good.test", "--server", "127.0.0.1@%d" % dead)
    expect(p.returncode == 2 and "no answer" in p.stderr, "dead server: exit %d %r" % (
        p.returncode, p.stderr))
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    try:
        p, took = run("--domain", "good.test", "--server", "127.0.0.1@%d" % sink.getsockname()[1],
                      "--json")
        expect(p.returncode == 2 and p.stdout == "", "silent server: exit %d, out %r" % (
            p.returncode, p.stdout))
        expect(took < 30, "silent server: took %.1fs" % took)
    finally:
        sink.close()


def main():
    with mxtest.workdir("check-") as d:
        db = os.path.join(d, "bl.mdb")
        p = subprocess.run([MXDNS, "bl", "add", "192.0.2.66", "127.0.0.2",
                            "--reason", "spam source, see https://bl.test/$",
                            "--db", db, "--list", "bl.test"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            print("mxdns bl add failed:", p.stderr)
            return 1
        port = mxtest.free_port()
        zones = [(z, os.path.join(DATA, z + ".zone")) for z in ZONES]
        srv = mxtest.start_mxdnsd(port, zones=zones, args=["--dnsbl", "bl.test:" + db],
                                  logdir=d)
        try:
            test_good(port)
            test_broken(port)
            test_other_domains(port)
            test_usage_and_network(port)
        finally:
            srv.stop()
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
