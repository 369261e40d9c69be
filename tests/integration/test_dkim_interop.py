"""DKIM interop: keys made by `mxdns dkim keygen` (RSA and Ed25519), their
records published in a zone served on loopback, then checked by real tools:

  - opendkim-testkey (RSA) through libunbound forwarding "." to the server;
  - dkimpy: a message signed with each private key file verifies against
    the served record, and a tampered copy does not;
  - `mxdns dkim check --server` passes with the right key and fails with
    the wrong one, a revoked key and a missing selector.

The server is mxdnsd when it serves the zone correctly, else NSD (mxdnsd
is being written); the test prints which one it used.
"""
import os
import subprocess
import sys

import json

import dkim
import dns.flags
import dns.message
import dns.query
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

DOMAIN = "dkim.test"
FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def txt_value(port, name):
    """The TXT value at name on the server, strings joined, or None."""
    q = dns.message.make_query(name, "TXT")
    r = dns.query.udp(q, mxtest.HOST, port=port, timeout=2)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, mxtest.HOST, port=port, timeout=2)
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            return b"".join(list(rrset)[0].strings)
    return None


def serves(port, expect):
    try:
        return all(txt_value(port, name) == value for name, value in expect.items())
    except Exception:
        return False


def start_server(d, zonefile, expect):
    """mxdnsd if it answers our records right, else NSD."""
    try:
        srv = mxtest.start_mxdnsd(mxtest.free_port(), zones=[(DOMAIN, zonefile)], logdir=d,
                                  timeout=5)
    except Exception as e:  # not built yet, not ready, crashed
        print("mxdnsd unusable (%s); falling back to NSD" % str(e).splitlines()[0])
        srv = None
    if srv is not None:
        if serves(srv.port, expect):
            print("server: mxdnsd on port %d" % srv.port)
            return srv
        print("mxdnsd does not serve the zone yet (REFUSED or wrong data); falling back to NSD")
        try:
            srv.stop()
        except RuntimeError as e:
            print("note: " + str(e).splitlines()[0])
    srv = mxtest.start_nsd(mxtest.free_port(), [(DOMAIN, zonefile)], d)
    if not serves(srv.port, expect):
        srv.stop()
        raise RuntimeError("NSD does not serve the DKIM records as expected")
    print("server: nsd on port %d" % srv.port)
    return srv


def main():
    mxdns = mxtest.binary("MXDNS", "mxdns")
    with mxtest.workdir("mxtest-dkim-") as d:
        keys = os.path.join(d, "keys")
        os.mkdir(keys)
        records = {}
        for sel, algo in (("rsa1", "rsa"), ("ed1", "ed25519"), ("old", "rsa")):
            r = run([mxdns, "dkim", "keygen", "--domain", DOMAIN, "--selector", sel,
                     "--algo", algo, "--out", keys])
            check(r.returncode == 0, "keygen %s %s: %s" % (algo, sel, r.stderr.strip()))
            records[sel] = r.stdout.strip()
        mode = os.stat(os.path.join(keys, "rsa1.private")).st_mode & 0o777
        check(mode == 0o600, "private key mode is 0600 (got %o)" % mode)
        r = run([mxdns, "dkim", "keygen", "--domain", DOMAIN, "--selector", "rsa1",
                 "--out", keys])
        check(r.returncode == 1, "keygen refuses to overwrite an existing key")

        # The zone: the generated .txt files as they are, plus a revoked key.
        zonefile = os.path.join(d, DOMAIN + ".zone")
        with open(zonefile, "w") as z:
            z.write("$TTL 3600\n"
                    "@ IN SOA ns1.%s. hostmaster.%s. 1 3600 900 604800 300\n"
                    "@ IN NS ns1.%s.\n"
                    "ns1 IN A 127.0.0.1\n" % (DOMAIN, DOMAIN, DOMAIN))
            for sel in ("rsa1", "ed1"):
                with open(os.path.join(keys, sel + ".txt")) as t:
                    z.write(t.read())
            z.write('revoked._domainkey IN TXT "v=DKIM1; k=rsa; p="\n')
        expect = {}
        for sel in ("rsa1", "ed1"):
            r = run([mxdns, "dkim", "record", "--key", os.path.join(keys, sel + ".private"),
                     "--domain", DOMAIN, "--selector", sel, "--json"])
            expect["%s._domainkey.%s." % (sel, DOMAIN)] = json.loads(r.stdout)["value"].encode()
            check(r.returncode == 0 and json.loads(r.stdout)["record"] == records[sel],
                  "dkim record --key %s gives the keygen record" % sel)

        srv = start_server(d, zonefile, expect)
        port = srv.port
        try:
            # (a) opendkim-testkey through libunbound forwarding to the server
            ub = os.path.join(d, "unbound.conf")
            with open(ub, "w") as f:
                f.write("server:\n  do-not-query-localhost: no\n"
                        "  module-config: \"iterator\"\n"
                        # .test is one of unbound's default local zones (RFC 6761)
                        "  local-zone: \"test.\" nodefault\n"
                        "forward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1@%d\n" % port)
            conf = os.path.join(d, "opendkim.conf")
            with open(conf, "w") as f:
                f.write("ResolverConfiguration %s\n" % ub)
            r = run(["opendkim-testkey", "-d", DOMAIN, "-s", "rsa1",
                     "-k", os.path.join(keys, "rsa1.private"), "-x", conf, "-vvv"])
            out = (r.stdout + r.stderr).strip()
            check(r.returncode == 0 and "key OK" in out,
                  "opendkim-testkey accepts the RSA key: %s" % out.replace("\n", " | "))
            r = run(["opendkim-testkey", "-d", DOMAIN, "-s", "rsa1",
                     "-k", os.path.join(keys, "old.private"), "-x", conf, "-vvv"])
            out = (r.stdout + r.stderr).strip()
            check(r.returncode != 0 and "not found" not in out,
                  "opendkim-testkey rejects a key that does not match: %s" % out.replace("\n", " | "))

            # (b) dkimpy signs with our key files and verifies against the server
            def dnsfunc(name, timeout=5):
                if isinstance(name, bytes):
                    name = name.decode()
                return txt_value(port, name)

            msg = (b"From: a@dkim.test\r\nTo: b@example.org\r\nSubject: interop\r\n"
                   b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nHello from mxdns.\r\n")
            for sel, keyfile, algo in (("rsa1", "rsa1.private", b"rsa-sha256"),
                                       ("ed1", "ed1.ed25519", b"ed25519-sha256")):
                with open(os.path.join(keys, keyfile), "rb") as f:
                    priv = f.read().strip()
                sig = dkim.sign(msg, sel.encode(), DOMAIN.encode(), priv,
                                include_headers=[b"from", b"to", b"subject"],
                                signature_algorithm=algo)
                check(dkim.verify(sig + msg, dnsfunc=dnsfunc),
                      "dkimpy: %s signature verifies against the served record" % algo.decode())
                check(not dkim.verify(sig + msg.replace(b"Hello", b"Jello"), dnsfunc=dnsfunc),
                      "dkimpy: a tampered %s message fails" % algo.decode())

            # (c) mxdns dkim check against the server
            server = "127.0.0.1@%d" % port
            for sel in ("rsa1", "ed1"):
                r = run([mxdns, "dkim", "check", "--domain", DOMAIN, "--selector", sel,
                         "--key", os.path.join(keys, sel + ".private"), "--server", server])
                check(r.returncode == 0, "mxdns dkim check %s: %s" % (sel, r.stdout.strip()))
            r = run([mxdns, "dkim", "check", "--domain", DOMAIN, "--selector", "ed1",
                     "--key", os.path.join(keys, "ed1.ed25519"), "--server", server, "--json"])
            check(r.returncode == 0 and json.loads(r.stdout)["matches_key"] is True,
                  "mxdns dkim check --json with the dkimpy seed file")
            r = run([mxdns, "dkim", "check", "--domain", DOMAIN, "--selector", "rsa1",
                     "--key", os.path.join(keys, "old.private"), "--server", server])
            check(r.returncode == 1 and "does not match" in r.stdout,
                  "mxdns dkim check fails with the wrong key")
            r = run([mxdns, "dkim", "check", "--domain", DOMAIN, "--selector", "revoked",
                     "--server", server])
            check(r.returncode == 1 and "revoked" in r.stdout, "mxdns dkim check: revoked key")
            r = run([mxdns, "dkim", "check", "--domain", DOMAIN, "--selector", "nosuch",
                     "--server", server])
            check(r.returncode == 1, "mxdns dkim check: missing selector fails")
        finally:
            srv.stop()
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("all DKIM interop checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
