"""test_dkim_rotate: `mxdns dkim rotate` against a zone served by mxdnsd:
a new selector is published beside the old one and answered by the
daemon; revoking empties p= and notes the date; removing is refused inside
the overlap and done after it; `mxdns dkim list` shows each state; the last
active key is not revoked without --force.

Run by ctest with MXDNSD and MXDNS set; /usr/bin/python3 (dnspython)."""
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

ZONE = """$ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
  IN NS ns1
ns1 IN A 192.0.2.1
"""

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def mxdns(*args):
    p = subprocess.run([mxtest.binary("MXDNS", "mxdns")] + list(args), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def txt(port, name):
    r = dns.query.udp(dns.message.make_query(name, "TXT"), mxtest.HOST, port=port, timeout=2)
    return r.rcode(), [b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset]


def main():
    with mxtest.workdir("mxtest-dkimrot-") as d:
        zf = os.path.join(d, "example.test.zone")
        with open(zf, "w") as f:
            f.write(ZONE)
        sock = os.path.join(d, "ctl.sock")
        port = mxtest.free_port()
        srv = mxtest.start_mxdnsd(port, zones=[("example.test", zf)],
                                  args=["--control", sock], logdir=d)
        common = ["--zone", "example.test", "--control", sock, "--domain", "example.test"]
        try:
            rc, out, err = mxdns("dkim", "rotate", *common, "--new-selector", "s1", "--out", d)
            check(rc == 0, "publish s1 (%d %s)" % (rc, err.strip()))
            mode = stat.S_IMODE(os.stat(os.path.join(d, "s1.private")).st_mode)
            check(mode == 0o600, "s1.private has mode 0600 (%o)" % mode)
            rc, out, err = mxdns("dkim", "rotate", *common, "--new-selector", "s2",
                                 "--old-selector", "s1", "--out", d, "--algo", "ed25519")
            check(rc == 0, "publish s2 beside s1 (%s)" % err.strip())
            rc, v1 = txt(port, "s1._domainkey.example.test.")
            rc2, v2 = txt(port, "s2._domainkey.example.test.")
            check(len(v1) == 1 and v1[0].startswith("v=DKIM1; k=rsa; p=MII"), "s1 served: %s" % v1)
            check(len(v2) == 1 and v2[0].startswith("v=DKIM1; k=ed25519; p="), "s2 served: %s" % v2)
            rc, out, err = mxdns("dkim", "rotate", *common, "--new-selector", "s1", "--out", d)
            check(rc == 1 and "already" in err, "a selector is not reused (%d)" % rc)

            rc, out, err = mxdns("dkim", "rotate", *common, "--revoke", "s1")
            check(rc == 0, "revoke s1 (%s)" % err.strip())
            today = time.strftime("%Y-%m-%d", time.gmtime())
            rc, v1 = txt(port, "s1._domainkey.example.test.")
            check(v1 == ["v=DKIM1; k=rsa; n=revoked %s; p=" % today], "s1 revoked in the daemon: %s" % v1)
            rc, out, err = mxdns("dkim", "list", "--zone", zf, "--control", sock)
            check("s1\texample.test\trevoked since %s" % today in out and
                  "s2\texample.test\tactive ed25519-256" in out, "list: %r" % out)

            rc, out, err = mxdns("dkim", "rotate", *common, "--revoke", "s2")
            check(rc == 1 and "last active" in err, "the last active key is kept (%d)" % rc)
            rc, out, err = mxdns("dkim", "rotate", *common, "--remove", "s2", "--overlap", "0")
            check(rc == 1 and "revoke it first" in err, "an active key is not removed (%d)" % rc)
            rc, out, err = mxdns("dkim", "rotate", *common, "--remove", "s1")
            check(rc == 1 and "overlap" in err, "removal inside the overlap refused (%d)" % rc)
            rc, v1 = txt(port, "s1._domainkey.example.test.")
            check(len(v1) == 1, "s1 still served after the refusal")
            rc, out, err = mxdns("dkim", "rotate", *common, "--remove", "s1", "--overlap", "0")
            check(rc == 0, "removal after the overlap (%s)" % err.strip())
            rc, v1 = txt(port, "s1._domainkey.example.test.")
            check(rc == dns.rcode.NXDOMAIN, "s1 gone from the daemon (%s)" % dns.rcode.to_text(rc))
            rc, out, err = mxdns("dkim", "list", "--zone", zf, "--control", sock, "--json")
            check(rc == 0 and '"selector":"s2"' in out and '"s1"' not in out, "list --json: %s" % out)
        finally:
            srv.stop()
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
