"""test_publish_generators: every record generator's --zone against a zone
served by mxdnsd: `dkim keygen`, `dkim record`, `spf build`, `dmarc build`,
`mta-sts build`, `tls-rpt build` and `tlsa` each put their record into the
zone file, the daemon reloads it over the control socket and answers with
the new record and a higher SOA serial; a second run replaces the record
rather than adding a second one, and other TXT records at the same name
stay; an SPF record over the 10-lookup limit is refused (exit 1, file and
served zone unchanged) unless --force; --dry-run writes nothing; without
--zone the generators print as before; --json says what was published.

Run by ctest with MXDNSD and MXDNS set; /usr/bin/python3 (dnspython)."""
import json
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

ZONE = """$ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster 2024010101 3600 600 86400 300
  IN NS ns1
  IN MX 10 mx1
  IN TXT "site-verification=abc123"
ns1 IN A 192.0.2.1
mx1 IN A 192.0.2.25
_dmarc IN TXT "not a dmarc record, kept"
"""

D = "example.test"
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def mxdns(*args):
    p = subprocess.run([mxtest.binary("MXDNS", "mxdns")] + list(args), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def query(port, name, rdtype):
    q = dns.message.make_query(name, rdtype)
    r = dns.query.udp(q, mxtest.HOST, port=port, timeout=2)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, mxtest.HOST, port=port, timeout=2)
    return r


def txts(port, name):
    r = query(port, name, "TXT")
    return [b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset
            if rrset.rdtype == dns.rdatatype.TXT]


def tlsas(port, name):
    r = query(port, name, "TLSA")
    return [(rd.usage, rd.selector, rd.mtype, rd.cert.hex()) for rrset in r.answer
            for rd in rrset if rrset.rdtype == dns.rdatatype.TLSA]


def serial(port):
    r = query(port, D + ".", "SOA")
    return r.answer[0][0].serial


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Publisher:
    """Runs a generator with the publish options and checks what the daemon
    serves afterwards."""

    def __init__(self, port, zf, sock):
        self.port, self.zf, self.sock = port, zf, sock

    def run(self, what, *args, zone=None, expect=0):
        before = serial(self.port)
        rc, out, err = mxdns(*args, "--zone", zone or self.zf, "--control", self.sock, "--json")
        check(rc == expect, "%s: exit %d (%s)" % (what, rc, err.strip()[-300:]))
        doc = {}
        try:
            doc = json.loads(out) if out.strip() else {}
        except ValueError:
            check(False, "%s: --json output parses: %r" % (what, out[:300]))
        if expect != 0:
            return doc
        pub = doc.get("published", {})
        after = serial(self.port)
        check(pub.get("ok") is True and pub.get("written") is True and
              pub.get("reload") == "ok", "%s: --json reports the publishing: %s" % (what, pub))
        check(after > before and pub.get("new_serial") == after and
              pub.get("old_serial") == before,
              "%s: served serial bumped %d -> %d (json %s -> %s)" % (
                  what, before, after, pub.get("old_serial"), pub.get("new_serial")))
        return doc


def main():
    with mxtest.workdir("mxtest-pubgen-") as d:
        zf = os.path.join(d, "example.test.zone")
        with open(zf, "w") as f:
            f.write(ZONE)
        sock = os.path.join(d, "ctl.sock")
        keys = os.path.join(d, "keys")
        os.mkdir(keys)
        port = mxtest.free_port()
        srv = mxtest.start_mxdnsd(port, zones=[(D, zf)], args=["--control", sock], logdir=d)
        pub = Publisher(port, zf, sock)
        try:
            run_all(pub, port, zf, sock, d, keys)
        finally:
            srv.stop()
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all ok")
    return 0


def run_all(pub, port, zf, sock, d, keys):
    # ---- dkim keygen: key files written, then the record published ----
    sel = "k1._domainkey.%s." % D
    doc = pub.run("dkim keygen", "dkim", "keygen", "--domain", D, "--selector", "k1",
                  "--out", keys)
    mode = stat.S_IMODE(os.stat(os.path.join(keys, "k1.private")).st_mode)
    check(mode == 0o600, "dkim keygen: k1.private has mode 0600 (%o)" % mode)
    served = txts(port, sel)
    check(served == [doc.get("value")] and served[0].startswith("v=DKIM1; k=rsa; p=MII"),
          "dkim keygen: the daemon serves the key record (%d records)" % len(served))
    rc, out, err = mxdns("dkim", "check", "--domain", D, "--selector", "k1", "--key",
                         os.path.join(keys, "k1.private"), "--server", "127.0.0.1@%d" % port)
    check(rc == 0, "dkim check: the published record matches the key (%s)" % out.strip())
    first = served[0]
    # again with a new key (--force overwrites the files): replaced, not added
    doc = pub.run("dkim keygen --force", "dkim", "keygen", "--domain", D, "--selector", "k1",
                  "--out", keys, "--algo", "ed25519", "--force")
    served = txts(port, sel)
    check(len(served) == 1 and served[0] == doc.get("value") and served[0] != first and
          served[0].startswith("v=DKIM1; k=ed25519; p="),
          "dkim keygen: the second key replaced the first: %s" % served)
    rc, out, err = mxdns("dkim", "keygen", "--domain", D, "--selector", "k1", "--out", keys,
                         "--zone", zf, "--control", sock)
    check(rc == 1 and "exists" in err, "dkim keygen: an existing key is not overwritten (%d)" % rc)

    # ---- dkim record: from an existing key, by zone name (the daemon knows the file) ----
    doc = pub.run("dkim record", "dkim", "record", "--key", os.path.join(keys, "k1.private"),
                  "--domain", D, "--selector", "k2", zone=D)
    check(txts(port, "k2._domainkey.%s." % D) == [doc.get("value")] and
          doc.get("value") == served[0], "dkim record: k2 serves k1's key")
    before = read(zf)
    rc, out, err = mxdns("dkim", "record", "--key", os.path.join(keys, "k1.private"),
                         "--domain", D, "--selector", "k2", "--zone", zf, "--control", sock)
    check(rc == 0 and read(zf) == before and "nothing to change" in err,
          "dkim record: the same record again changes nothing (%d %s)" % (rc, err.strip()))

    # ---- spf build: D's v=spf1 record; the other apex TXT stays ----
    doc = pub.run("spf build", "spf", "build", "--mx", "--ip4", "192.0.2.0/24", "--all", "fail",
                  "--domain", D)
    apex = txts(port, D + ".")
    check(sorted(apex) == sorted(["site-verification=abc123", "v=spf1 mx ip4:192.0.2.0/24 -all"]),
          "spf build: served beside the other TXT: %s" % apex)
    pub.run("spf build again", "spf", "build", "--mx", "--ip4", "198.51.100.0/24", "--domain", D)
    apex = txts(port, D + ".")
    check(sorted(apex) == sorted(["site-verification=abc123",
                                  "v=spf1 mx ip4:198.51.100.0/24 ~all"]),
          "spf build: the second run replaced the SPF record: %s" % apex)
    rc, out, err = mxdns("spf", "build", "--mx", "--zone", zf, "--control", sock)
    check(rc == 2 and "--domain" in err, "spf build --zone needs --domain (%d)" % rc)

    # over the lookup limit: refused, the file and the served zone unchanged
    incl = []
    for i in range(11):
        incl += ["--include", "spf%d.example.net" % i]
    before, s0 = read(zf), serial(port)
    rc, out, err = mxdns("spf", "build", *incl, "--domain", D, "--zone", zf, "--control", sock)
    check(rc == 1 and "refused" in err, "spf build: 11 includes refused (%d %s)" % (rc, err.strip()))
    check(read(zf) == before and serial(port) == s0, "spf build: refusal left the zone unchanged")
    check(not any("spf0.example.net" in t for t in txts(port, D + ".")),
          "spf build: the refused record is not served")
    doc = pub.run("spf build --force", "spf", "build", *incl, "--domain", D, "--force")
    apex = txts(port, D + ".")
    spf = [t for t in apex if t.startswith("v=spf1")]
    check(len(spf) == 1 and "include:spf10.example.net" in spf[0] and
          "site-verification=abc123" in apex,
          "spf build --force: the long record is served, once: %s" % spf)
    pub.run("spf build restore", "spf", "build", "--mx", "--all", "fail", "--domain", D)
    check([t for t in txts(port, D + ".") if t.startswith("v=spf1")] == ["v=spf1 mx -all"],
          "spf build: back to a short record")

    # ---- dmarc build: _dmarc.D's v=DMARC1 record; other TXT there stays ----
    name = "_dmarc.%s." % D
    pub.run("dmarc build", "dmarc", "build", "--domain", D, "--policy", "reject", "--rua",
            "dmarc@%s" % D)
    got = txts(port, name)
    check(sorted(got) == sorted(["not a dmarc record, kept",
                                 "v=DMARC1; p=reject; rua=mailto:dmarc@%s" % D]),
          "dmarc build: served: %s" % got)
    pub.run("dmarc build again", "dmarc", "build", "--domain", D, "--policy", "quarantine")
    got = txts(port, name)
    check(sorted(got) == sorted(["not a dmarc record, kept", "v=DMARC1; p=quarantine"]),
          "dmarc build: replaced: %s" % got)
    before = read(zf)
    rc, out, err = mxdns("dmarc", "build", "--domain", D, "--policy", "bogus", "--zone", zf,
                         "--control", sock)
    check(rc == 1 and read(zf) == before, "dmarc build: a bad record is refused (%d)" % rc)

    # ---- mta-sts build: the TXT published, the policy written first ----
    name = "_mta-sts.%s." % D
    policy = os.path.join(d, "mta-sts.txt")
    doc = pub.run("mta-sts build", "mta-sts", "build", "--domain", D, "--mx", "mx1.%s" % D,
                  "--id", "20240101", "--policy-out", policy)
    check(txts(port, name) == ["v=STSv1; id=20240101"], "mta-sts build: served: %s" % txts(port, name))
    text = read(policy).decode()
    check("version: STSv1\n" in text and "mx: mx1.%s\n" % D in text and
          doc.get("policy") == text, "mta-sts build: the policy file is written: %r" % text)
    rc, out, err = mxdns("mta-sts", "build", "--domain", D, "--mx", "mx1.%s" % D, "--id", "2",
                         "--zone", zf, "--control", sock)
    check(rc == 0 and "version: STSv1" in out and "mode: enforce" in out,
          "mta-sts build --zone without --policy-out prints the policy (%d)" % rc)
    check(txts(port, name) == ["v=STSv1; id=2"], "mta-sts build: replaced: %s" % txts(port, name))

    # ---- tls-rpt build ----
    name = "_smtp._tls.%s." % D
    pub.run("tls-rpt build", "tls-rpt", "build", "--domain", D, "--rua", "tlsrpt@%s" % D)
    check(txts(port, name) == ["v=TLSRPTv1; rua=mailto:tlsrpt@%s" % D],
          "tls-rpt build: served: %s" % txts(port, name))
    pub.run("tls-rpt build again", "tls-rpt", "build", "--domain", D, "--rua",
            "https://reports.example.net/tlsrpt")
    check(txts(port, name) == ["v=TLSRPTv1; rua=https://reports.example.net/tlsrpt"],
          "tls-rpt build: replaced: %s" % txts(port, name))

    # ---- tlsa: the RRset of _25._tcp.MX replaced ----
    name = "_25._tcp.mx1.%s." % D
    certs = []
    for i in range(2):
        key, cert = os.path.join(d, "c%d.key" % i), os.path.join(d, "c%d.pem" % i)
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "30", "-subj", "/CN=mx1.%s" % D],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("openssl: " + r.stderr)
        certs.append(cert)
    doc = pub.run("tlsa", "tlsa", "--cert", certs[0], "--host", "mx1.%s" % D)
    check(tlsas(port, name) == [(3, 1, 1, doc.get("data"))], "tlsa: served: %s" % tlsas(port, name))
    rc, out, err = mxdns("tlsa", "--cert", certs[0], "--host", "mx1.%s" % D)
    check(rc == 0 and doc.get("data") in out and out.startswith(name),
          "tlsa without --zone prints the same record: %s" % out.strip())
    doc = pub.run("tlsa again", "tlsa", "--cert", certs[1], "--host", "mx1.%s" % D)
    check(tlsas(port, name) == [(3, 1, 1, doc.get("data"))],
          "tlsa: the RRset was replaced: %s" % tlsas(port, name))

    # ---- --dry-run: a diff, nothing written, nothing reloaded ----
    before, s0 = read(zf), serial(port)
    rc, out, err = mxdns("dmarc", "build", "--domain", D, "--policy", "none", "--zone", zf,
                         "--control", sock, "--dry-run")
    check(rc == 0 and "+" in out and "p=none" in out and read(zf) == before and
          serial(port) == s0, "dmarc build --dry-run: diff shown, nothing written (%d)" % rc)
    rc, out, err = mxdns("tls-rpt", "build", "--domain", D, "--rua", "x@%s" % D, "--zone", zf,
                         "--control", sock, "--dry-run", "--json")
    doc = json.loads(out) if rc == 0 else {}
    check(doc.get("published", {}).get("dry_run") is True and
          "x@%s" % D in doc.get("published", {}).get("diff", "") and read(zf) == before,
          "tls-rpt build --dry-run --json: the diff in the JSON")

    # ---- without --zone: printed as before, the zone untouched ----
    rc, out, err = mxdns("dmarc", "build", "--domain", D, "--policy", "reject")
    check(rc == 0 and out.startswith("_dmarc.%s. 3600 IN TXT \"v=DMARC1; p=reject\"" % D) and
          read(zf) == before, "dmarc build without --zone prints the record: %s" % out.strip())
    rc, out, err = mxdns("tls-rpt", "lint", "v=TLSRPTv1; rua=mailto:a@b.example", "--zone", zf)
    check(rc == 2, "tls-rpt lint does not take --zone (%d)" % rc)

    # the zone file still loads and holds one record of each kind
    rc, out, err = mxdns("zone", "check", zf, "--control", sock)
    check(rc == 0, "the edited zone file loads: %s" % out.strip())


if __name__ == "__main__":
    sys.exit(main())
