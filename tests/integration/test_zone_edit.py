"""test_zone_edit: `mxdns zone` edits a zone that mxdnsd serves and asks it
to reload over the control socket; the daemon then answers the new record
with the new serial. Also: a refused edit changes neither the file nor what
is served, the zone can be named instead of the file (the daemon knows its
file), --dry-run/diff write nothing, and a daemon that is not running is
only a warning.

Run by ctest with MXDNSD and MXDNS set; /usr/bin/python3 (dnspython)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

ZONE = """; example.test: hand-written, comments must survive edits
$ORIGIN example.test.
$TTL 300
@       IN SOA ns1 hostmaster (
                2024010101 ; serial
                3600 600 86400 300 )
        IN NS  ns1
        IN MX  10 mail      ; the one MX
ns1     IN A   192.0.2.1
mail    IN A   192.0.2.2
@       IN TXT "v=spf1 mx -all"
www     IN CNAME mail
"""

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def mxdns(*args, timeout=60):
    p = subprocess.run([mxtest.binary("MXDNS", "mxdns")] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def query(port, name, rdtype):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, mxtest.HOST, port=port, timeout=2)


def answer(port, name, rdtype):
    r = query(port, name, rdtype)
    return r, sorted(rd.to_text() for rrset in r.answer for rd in rrset
                     if rrset.rdtype == dns.rdatatype.from_text(rdtype))


def serial(port):
    r, a = answer(port, "example.test.", "SOA")
    return int(a[0].split()[2]) if a else None


def main():
    with mxtest.workdir("mxtest-zoneedit-") as d:
        zf = os.path.join(d, "example.test.zone")
        with open(zf, "w") as f:
            f.write(ZONE)
        sock = os.path.join(d, "ctl.sock")
        port = mxtest.free_port()
        srv = mxtest.start_mxdnsd(port, zones=[("example.test", zf)],
                                  args=["--control", sock], logdir=d)
        try:
            check(serial(port) == 2024010101, "served serial before the edit")
            r, a = answer(port, "new.example.test.", "A")
            check(r.rcode() == dns.rcode.NXDOMAIN, "new.example.test absent before")

            # add by file, reload over the control socket
            rc, out, err = mxdns("zone", "add", zf, "new 600 IN A 192.0.2.77", "--control", sock)
            check(rc == 0, "zone add exit 0 (%d: %s)" % (rc, err.strip()))
            r, a = answer(port, "new.example.test.", "A")
            check(a == ["192.0.2.77"], "daemon answers the added record: %s" % a)
            s1 = serial(port)
            check(s1 is not None and s1 > 2024010101, "daemon serves the bumped serial %s" % s1)
            text = open(zf).read()
            check("; example.test: hand-written, comments must survive edits\n" in text and
                  "        IN MX  10 mail      ; the one MX\n" in text,
                  "comments and formatting kept")
            check(str(s1) + " ; serial" in text, "serial replaced in place")

            # by zone name: the daemon tells where the file is
            rc, out, err = mxdns("zone", "set", "example.test", "@ TXT \"v=spf1 a mx -all\"",
                                 "--control", sock, "--json")
            check(rc == 0 and '"written":true' in out, "zone set by name (%d: %s)" % (rc, err.strip()))
            r, a = answer(port, "example.test.", "TXT")
            check(a == ['"v=spf1 a mx -all"'], "SPF replaced in the daemon: %s" % a)
            s2 = serial(port)
            check(s2 is not None and s2 > s1, "serial bumped again (%s > %s)" % (s2, s1))

            # refusals: nothing changes, neither file nor daemon
            before = open(zf).read()
            rc, out, err = mxdns("zone", "add", zf, "www TXT \"x\"", "--control", sock)
            check(rc == 1 and "CNAME" in err, "CNAME beside other data refused: %d %s" % (rc, err.strip()))
            rc, out, err = mxdns("zone", "add", zf, "@ TXT \"v=spf1 -all\"", "--control", sock)
            check(rc == 1 and "SPF" in err, "second SPF refused: %d %s" % (rc, err.strip()))
            check(open(zf).read() == before, "refused edits leave the file as it was")
            check(serial(port) == s2, "refused edits leave the served serial")

            # diff / --dry-run: a diff on stdout, nothing written
            rc, out, err = mxdns("zone", "diff", zf, "del", "mail", "A", "--control", sock)
            check(rc == 0 and "-mail    IN A   192.0.2.2" in out and "+++ " in out,
                  "diff shows the deletion: %r" % out)
            check(open(zf).read() == before and serial(port) == s2, "diff writes nothing")

            # del by owner/type/rdata
            rc, out, err = mxdns("zone", "del", zf, "new A 192.0.2.77", "--control", sock)
            check(rc == 0, "zone del exit 0 (%s)" % err.strip())
            r, a = answer(port, "new.example.test.", "A")
            check(r.rcode() == dns.rcode.NXDOMAIN, "deleted record gone from the daemon")

            # show and check
            rc, out, err = mxdns("zone", "show", zf, "@", "MX", "--control", sock)
            check(rc == 0 and "mail.example.test." in out and out.count("\n") == 1,
                  "show @ MX: %r" % out)
            rc, out, err = mxdns("zone", "check", zf, "--control", sock)
            check(rc == 0 and out.startswith("loaded example.test. serial="), "check: %r" % out)
        finally:
            srv.stop()

        # the daemon is gone: the edit is written, the reload only warned
        rc, out, err = mxdns("zone", "add", zf, "late A 192.0.2.99", "--control", sock,
                             "--origin", "example.test")
        check(rc == 0 and "warning" in err and "192.0.2.99" in open(zf).read(),
              "daemon not running: written with a warning (%d: %s)" % (rc, err.strip()))
        rc, out, err = mxdns("zone", "check", zf, "--origin", "example.test")
        check(rc == 0, "the file still loads")
        leftovers = [n for n in os.listdir(d) if ".mxdns-tmp." in n]
        check(not leftovers, "no temporary files left: %s" % leftovers)

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
