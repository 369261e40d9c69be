#!/usr/bin/python3
"""SPF interop: `mxdns spf eval` against pyspf (Debian python3-spf) on a
corpus of records served by a real authoritative server on loopback.

The zones are tests/data/spf/spf.test.zone and 2.0.192.in-addr.arpa.zone.
Both evaluators ask the same server: mxdns with --server 127.0.0.1@PORT,
pyspf through a dnspython resolver pointed at it. For every case both must
give the expected result, and for fail the same explanation.

Server: mxdnsd by default; if it does not start or does not answer the test
zone (e.g. REFUSED while it is still being written), the test says so and
uses NSD. MXDNS_SPF_SERVER=nsd forces NSD, =mxdnsd forces mxdnsd (no
fallback). Needs /usr/bin/python3 (dnspython, spf).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.resolver  # noqa: E402
import spf  # noqa: E402

SRC = os.environ.get("MXDNS_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = os.path.join(SRC, "tests", "data", "spf")
ZONES = [("spf.test", os.path.join(DATA, "spf.test.zone")),
         ("2.0.192.in-addr.arpa", os.path.join(DATA, "2.0.192.in-addr.arpa.zone"))]
DEFAULT_EXP = "SPF fail - not authorized"

# (ip, mail from, helo, expected result[, expected explanation])
CASES = [
    ("192.0.2.10", "user@s1.spf.test", "mx.example.org", "pass"),
    ("198.51.100.1", "user@s1.spf.test", "mx.example.org", "fail"),
    ("2001:db8::1", "user@s2.spf.test", "mx.example.org", "pass"),
    ("2001:db9::1", "user@s2.spf.test", "mx.example.org", "softfail"),
    ("192.0.2.3", "user@s3.spf.test", "mx.example.org", "pass"),
    ("192.0.2.4", "user@s3.spf.test", "mx.example.org", "fail"),
    ("192.0.2.7", "user@s4.spf.test", "mx.example.org", "pass"),
    ("198.51.100.25", "user@s5.spf.test", "mx.example.org", "pass"),
    ("192.0.2.26", "user@s5.spf.test", "mx.example.org", "fail"),
    ("2001:db8:1::99", "user@s6.spf.test", "mx.example.org", "pass"),
    ("203.0.113.5", "user@s7.spf.test", "mx.example.org", "pass"),
    ("198.51.100.5", "user@s7.spf.test", "mx.example.org", "fail"),
    ("192.0.2.8", "user@s8.spf.test", "mx.example.org", "permerror"),
    ("203.0.113.9", "user@s9.spf.test", "mx.example.org", "pass"),
    ("192.0.2.9", "user@s9.spf.test", "mx.example.org", "fail"),
    ("192.0.2.10", "user@s10.spf.test", "mx.example.org", "permerror"),
    ("192.0.2.99", "user@s11.spf.test", "mx.example.org", "pass"),
    ("192.0.2.98", "user@s11.spf.test", "mx.example.org", "fail"),
    ("192.0.2.12", "user@s12.spf.test", "mx.example.org", "fail",
     "192.0.2.12 may not send for s12.spf.test (sender user@s12.spf.test, helo mx.example.org)"),
    ("192.0.2.13", "user@s13.spf.test", "mx.example.org", "softfail"),
    ("192.0.2.14", "user@s14.spf.test", "mx.example.org", "neutral"),
    ("192.0.2.15", "user@s15.spf.test", "mx.example.org", "none"),
    ("192.0.2.15", "user@nospf.spf.test", "mx.example.org", "none"),
    ("192.0.2.1", "user@s16.spf.test", "mx.example.org", "permerror"),
    ("192.0.2.1", "user@s17.spf.test", "mx.example.org", "permerror"),
    ("192.0.2.1", "user@s18.spf.test", "mx.example.org", "permerror"),
    ("192.0.2.1", "user@s19.spf.test", "mx.example.org", "permerror"),
    ("192.0.2.20", "user@s20.spf.test", "mx.example.org", "pass"),
    ("192.0.2.21", "user@s20.spf.test", "mx.example.org", "fail"),
    ("192.0.2.20", "user@s21.spf.test", "mx.example.org", "fail"),
    ("192.0.2.23", "foo-bar+baz@s23.spf.test", "mx.example.org", "pass"),
    ("192.0.2.24", "a+b@s24.spf.test", "mx.example.org", "fail",
     "see http://example.com/why?s=a%2Bb%40s24.spf.test&ip=192.0.2.24"),
    ("192.0.2.25", "user@s25.spf.test", "mx.example.org", "temperror"),
    ("203.0.113.1", "user@s26.spf.test", "mx.example.org", "fail"),
    ("192.0.2.1", "user@s27.spf.test", "mx.example.org", "fail"),
    ("192.0.2.200", "user@s27.spf.test", "mx.example.org", "pass"),
    ("198.51.100.3", "user@s28.spf.test", "mx.example.org", "pass"),
    ("192.0.2.1", "user@s28.spf.test", "mx.example.org", "fail"),
    ("198.51.100.77", "user@s29.spf.test", "mx.example.org", "pass"),
    ("192.0.2.30", "user@s30.spf.test", "mx.example.org", "pass"),
    ("192.0.2.31", "user@s30.spf.test", "mx.example.org", "fail"),
    ("192.0.2.1", "user@s32.spf.test", "mx.example.org", "pass"),
    ("192.0.2.33", "user@s33.spf.test", "mx.example.org", "fail"),
    ("192.0.2.34", "user@s34.spf.test", "mx.example.org", "pass"),
    ("192.0.2.35", "user@s35.spf.test", "mx.example.org", "pass"),
    ("203.0.113.1", "bad@s36.spf.test", "mx.example.org", "fail"),
    ("203.0.113.1", "good@s36.spf.test", "mx.example.org", "pass"),
    ("192.0.2.1", "user@s37.spf.test", "mx.example.org", "permerror"),
    ("203.0.113.38", "user@s38.spf.test", "mx.example.org", "pass"),
    ("192.0.2.40", "user@s39.spf.test", "mx.example.org", "fail", DEFAULT_EXP),
    ("192.0.2.3", "", "s3.spf.test", "pass"),
    ("2001:db8::10", "user@s1.spf.test", "mx.example.org", "fail"),
]


def answers(port):
    """Whether the server answers the test zone authoritatively."""
    try:
        q = dns.message.make_query("s1.spf.test", "TXT")
        r = dns.query.udp(q, mxtest.HOST, port=port, timeout=2)
        return r.rcode() == dns.rcode.NOERROR and len(r.answer) > 0, dns.rcode.to_text(r.rcode())
    except Exception as e:  # noqa: BLE001 - any failure means "not usable"
        return False, str(e)


def start_server(d, port):
    choice = os.environ.get("MXDNS_SPF_SERVER", "")
    if choice != "nsd":
        srv = None
        try:
            srv = mxtest.start_mxdnsd(port, zones=ZONES, logdir=d)
            ok, why = answers(port)
            if ok:
                print("server: mxdnsd")
                return srv
            msg = "mxdnsd answers %s for the test zone" % why
        except Exception as e:  # noqa: BLE001
            msg = "mxdnsd did not start: %s" % str(e).splitlines()[0]
        if srv is not None:
            try:
                srv.stop()
            except RuntimeError as e:
                msg += "; and it had died: %s" % str(e).splitlines()[0]
        if choice == "mxdnsd":
            raise RuntimeError(msg)
        print("%s; falling back to NSD" % msg)
    srv = mxtest.start_nsd(port, ZONES, d)
    ok, why = answers(port)
    if not ok:
        srv.stop()
        raise RuntimeError("NSD does not answer the test zone: %s" % why)
    print("server: nsd")
    return srv


def run_mxdns(mxdns, port, ip, sender, helo):
    argv = [mxdns, "spf", "eval", "--ip", ip, "--sender", sender, "--helo", helo,
            "--server", "127.0.0.1@%d" % port, "--default-exp", DEFAULT_EXP, "--json"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode not in (0, 1):
        raise RuntimeError("%s exited %d: %s" % (" ".join(argv), p.returncode, p.stderr))
    return json.loads(p.stdout)


def run_pyspf(ip, sender, helo):
    q = spf.query(i=ip, s=sender, h=helo, timeout=5)
    res, _code, exp = q.check()
    return res, exp


def main():
    mxdns = mxtest.binary("MXDNS", "mxdns")
    bad = 0
    with mxtest.workdir("mxtest-spf-") as d:
        port = mxtest.free_port()
        srv = start_server(d, port)
        try:
            r = dns.resolver.Resolver(configure=False)
            r.nameservers = [mxtest.HOST]
            r.port = port
            r.lifetime = 5
            r.timeout = 2
            dns.resolver.default_resolver = r
            for case in CASES:
                ip, sender, helo, want = case[:4]
                want_exp = case[4] if len(case) > 4 else None
                ours = run_mxdns(mxdns, port, ip, sender, helo)
                theirs, their_exp = run_pyspf(ip, sender, helo)
                problems = []
                if ours["result"] != want:
                    problems.append("mxdns says %s (%s)" % (ours["result"], ours["reason"]))
                if theirs != want:
                    problems.append("pyspf says %s" % theirs)
                if want == "fail":
                    if ours["explanation"] != their_exp:
                        problems.append("explanations differ: mxdns %r, pyspf %r" %
                                        (ours["explanation"], their_exp))
                    if want_exp is not None and ours["explanation"] != want_exp:
                        problems.append("mxdns explanation %r, want %r" %
                                        (ours["explanation"], want_exp))
                label = "%s from %s (helo %s)" % (sender or "<>", ip, helo)
                if problems:
                    bad += 1
                    print("FAIL %s: want %s: %s" % (label, want, "; ".join(problems)))
                else:
                    print("ok   %s: %s%s" % (label, want,
                                            (" [" + ours["mechanism"] + "]") if ours["mechanism"] else ""))
        finally:
            srv.stop()
    print("%d cases, %d agree, %d differ" % (len(CASES), len(CASES) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
