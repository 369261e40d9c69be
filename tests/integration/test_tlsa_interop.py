"""TLSA interop: `mxdns tlsa` prints exactly what `ldns-dane create` prints
for certificates made here by openssl (RSA and ECDSA self-signed, and a
leaf + CA chain), over the usage/selector/matching-type combinations, and
the key-only form (selector 1 from the private key) gives the same data.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def openssl(*args):
    r = run(["openssl"] + list(args))
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr))


def main():
    mxdns = mxtest.binary("MXDNS", "mxdns")
    with mxtest.workdir("mxtest-tlsa-") as d:
        p = lambda name: os.path.join(d, name)  # noqa: E731
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("rsa.key"),
                "-out", p("rsa.pem"), "-subj", "/CN=mx1.example.com", "-days", "30")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", p("ec.key"), "-out", p("ec.pem"),
                "-subj", "/CN=mx2.example.com", "-days", "30")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"),
                "-out", p("ca.pem"), "-subj", "/CN=Test CA", "-days", "30",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", p("leaf.key"), "-out", p("leaf.csr"), "-subj", "/CN=mx3.example.com")
        openssl("x509", "-req", "-in", p("leaf.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                "-CAcreateserial", "-out", p("leaf.pem"), "-days", "30")
        with open(p("chain.pem"), "w") as out:
            for f in ("leaf.pem", "ca.pem"):
                with open(p(f)) as src:
                    out.write(src.read())

        cases = []
        for cert, host in (("rsa.pem", "mx1.example.com"), ("ec.pem", "mx2.example.com")):
            for usage in (3, 2):
                for sel in (0, 1):
                    for match in (0, 1, 2):
                        cases.append((cert, host, 25, usage, sel, match, []))
        for usage in (0, 1, 2, 3):
            for sel in (0, 1):
                # PKIX usages need ldns-dane to validate the chain against the CA
                cases.append(("chain.pem", "mx3.example.com", 25, usage, sel, 1,
                              ["-f", p("ca.pem")] if usage in (0, 1) else []))
        cases.append(("rsa.pem", "mx1.example.com", 465, 3, 1, 1, []))

        for cert, host, port, usage, sel, match, extra in cases:
            ours = run([mxdns, "tlsa", "--cert", p(cert), "--host", host, "--port", str(port),
                        "--usage", str(usage), "--selector", str(sel), "--match", str(match)])
            theirs = run(["ldns-dane"] + extra + ["-c", p(cert), "create", host, str(port),
                                                  str(usage), str(sel), str(match)])
            what = "%s %s port %d: %d %d %d" % (cert, host, port, usage, sel, match)
            if theirs.returncode != 0:
                check(False, what + ": ldns-dane failed: " + theirs.stderr.strip())
                continue
            check(ours.returncode == 0 and ours.stdout == theirs.stdout and ours.stdout,
                  what + ("" if ours.stdout == theirs.stdout else
                          "\n  mxdns:     %r\n  ldns-dane: %r" % (ours.stdout, theirs.stdout)))

        # a key instead of a certificate: selector 1 only, same data
        for key, cert, host in (("rsa.key", "rsa.pem", "mx1.example.com"),
                                ("ec.key", "ec.pem", "mx2.example.com")):
            ours = run([mxdns, "tlsa", "--cert", p(key), "--host", host])
            theirs = run(["ldns-dane", "-c", p(cert), "create", host, "25", "3", "1", "1"])
            check(ours.returncode == 0 and ours.stdout == theirs.stdout,
                  "%s (key) gives the same 3 1 1 as its certificate" % key)
            r = run([mxdns, "tlsa", "--cert", p(key), "--host", host, "--selector", "0"])
            check(r.returncode == 2 and "selector 1" in r.stderr,
                  "%s (key) refuses selector 0" % key)
        r = run([mxdns, "tlsa", "--cert", p("leaf.csr"), "--host", "mx.example.com"])
        check(r.returncode == 2, "a CSR is refused with exit code 2")
        r = run([mxdns, "tlsa", "--cert", p("rsa.pem"), "--host", "mx.example.com",
                 "--usage", "4"])
        check(r.returncode == 2, "--usage 4 is refused")
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("all %d TLSA interop checks passed" % (len(cases) + 6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
