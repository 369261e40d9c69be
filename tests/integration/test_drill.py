"""ldns's own client, drill, against the embedded default zones over UDP
and TCP: the third independent client library (after dnspython and
kdig/dig) that must read our answers as we mean them."""
import re
import subprocess
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import mxtest  # noqa: E402

FAILED = []
PASSED = []


def drill(port, *args):
    out = subprocess.run(["drill", "-p", str(port), *args, "@127.0.0.1"],
                         capture_output=True, text=True, timeout=10)
    return out.returncode, out.stdout


def section(text, name):
    """The records of one ;; NAME SECTION: block, whitespace-normalised."""
    m = re.search(r";; %s SECTION:\n(.*?)(?:\n\n|\Z)" % name, text, re.S)
    if not m:
        return []
    return [" ".join(line.split()) for line in m.group(1).splitlines()
            if line.strip() and not line.startswith(";")]


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else ": " + detail))
    (PASSED if cond else FAILED).append(what)


def main():
    with mxtest.workdir() as d:
        port = mxtest.free_port()
        srv = mxtest.start_mxdnsd(port, logdir=d)
        try:
            for proto in ([], ["-t"]):
                tag = "tcp" if proto else "udp"
                rc, out = drill(port, *proto, "example.com", "MX")
                ans = section(out, "ANSWER")
                check(f"{tag}: MX answered", rc == 0 and "rcode: NOERROR" in out, out)
                check(f"{tag}: AA set", re.search(r"flags: [^;]*\baa\b", out) is not None, out)
                check(f"{tag}: both MX", any(" MX 10 mx1.example.com." in r for r in ans)
                      and any(" MX 20 mx2.example.com." in r for r in ans), str(ans))
                add = section(out, "ADDITIONAL")
                check(f"{tag}: MX addresses in additional",
                      any(r.startswith("mx1.example.com.") and " A " in r for r in add), str(add))
                rc, out = drill(port, *proto, "mail2026._domainkey.example.com", "TXT")
                txt = " ".join(section(out, "ANSWER"))
                check(f"{tag}: DKIM key", "v=DKIM1" in txt and "p=MIIB" in txt, txt)
                rc, out = drill(port, *proto, "nothere.example.com", "A")
                check(f"{tag}: NXDOMAIN with SOA", "rcode: NXDOMAIN" in out
                      and any(" SOA " in r for r in section(out, "AUTHORITY")), out)
                rc, out = drill(port, *proto, "-x", "192.0.2.25")
                check(f"{tag}: PTR of mx1", any("PTR mx1.example.com." in r
                                                for r in section(out, "ANSWER")), out)
        finally:
            srv.stop()
    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
