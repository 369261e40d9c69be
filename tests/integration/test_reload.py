"""test_reload: zone reloads in the running mxdnsd, by SIGHUP and by
`mxdns ctl reload` over the control socket: a changed file is served with
its new serial, a broken one keeps the old serial serving and is reported
with file:line, and queries running through 20 reloads never fail or see
anything but a serial that was published.

Run by ctest with MXDNSD and MXDNS set."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

HOST = mxtest.HOST
ZONE = "reload.test"


def zone_text(serial, broken=False):
    text = """$ORIGIN reload.test.
$TTL 300
@     IN SOA ns1 hostmaster %d 3600 600 86400 300
@     IN NS  ns1
ns1   IN A   192.0.2.53
www   IN A   192.0.2.%d
""" % (serial, serial % 250 + 1)
    if broken:
        text += "www2  IN A   192.0.2.300\n"  # line 7
    return text


BROKEN_LINE = 7


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Setup:
    def __init__(self, d, port, workers=2):
        self.d = d
        self.port = port
        self.zone = os.path.join(d, "reload.test.zone")
        self.sock = os.path.join(d, "control.sock")
        self.conf = os.path.join(d, "mxdnsd.conf")
        self.write(1)
        with open(self.conf, "w") as f:
            f.write("server:\n  listen: %s@%d\n  workers: %d\n  control: control.sock\n"
                    "zone:\n  name: %s\n  file: reload.test.zone\n" % (HOST, port, workers, ZONE))
        self.srv = mxtest.start_mxdnsd(port, args=["-c", self.conf], logdir=d, probe=(ZONE, "SOA"))

    def write(self, serial, broken=False):
        # Write then rename, as editors and mxdns zone do; then make sure
        # the mtime differs from the previous version's even on coarse
        # clocks.
        tmp = self.zone + ".tmp"
        with open(tmp, "w") as f:
            f.write(zone_text(serial, broken))
        os.rename(tmp, self.zone)
        t = time.time() + serial * 0.001
        os.utime(self.zone, (t, t))

    def serial(self, tcp=False):
        q = dns.message.make_query(ZONE, "SOA")
        if tcp:
            r = dns.query.tcp(q, HOST, port=self.port, timeout=2)
        else:
            r = dns.query.udp(q, HOST, port=self.port, timeout=2)
        check(r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA,
              "SOA query: rcode %s flags %s" % (dns.rcode.to_text(r.rcode()), dns.flags.to_text(r.flags)))
        return r.answer[0][0].serial

    def wait_serial(self, want, timeout=5.0):
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.serial()
            if got == want:
                return
            time.sleep(0.05)
        raise AssertionError("serial %s, want %d\n%s" % (got, want, self.srv.log()[-3000:]))

    def hup(self):
        self.srv.proc.send_signal(signal.SIGHUP)

    def ctl(self, *args):
        mxdns = mxtest.binary("MXDNS", "mxdns")
        return subprocess.run([mxdns, "ctl", "--control", self.sock] + list(args),
                              capture_output=True, text=True, timeout=60)


def case_sighup(d, port):
    s = Setup(d, port)
    try:
        check(s.serial() == 1, "initial serial")
        s.write(2)
        s.hup()
        s.wait_serial(2)
        check(s.serial(tcp=True) == 2, "new serial over TCP")
        # A broken file: the old serial keeps serving, the log names file:line.
        s.write(3, broken=True)
        s.hup()
        where = "%s:%d" % (s.zone, BROKEN_LINE)
        deadline = time.monotonic() + 5
        while where not in s.srv.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        check(where in s.srv.log(), "the log does not name %s:\n%s" % (where, s.srv.log()[-3000:]))
        check(s.serial() == 2, "a broken file replaced the served zone")
        # Fixed again: served.
        s.write(4)
        s.hup()
        s.wait_serial(4)
    finally:
        s.srv.stop()


def case_control_socket(d, port):
    s = Setup(d, port)
    try:
        st = os.stat(s.sock)
        check(oct(st.st_mode & 0o777) == oct(0o660), "control socket mode %o, want 0660" % (st.st_mode & 0o777))
        p = s.ctl("status")
        check(p.returncode == 0 and "zones: 1\n" in p.stdout and "generation: 1\n" in p.stdout,
              "ctl status: %d %s %s" % (p.returncode, p.stdout, p.stderr))
        p = s.ctl("zones", "--json")
        check(p.returncode == 0, "ctl zones --json: %d %s" % (p.returncode, p.stderr))
        z = json.loads(p.stdout)
        check(z["ok"] and z["zones"][0]["name"] == ZONE + "." and z["zones"][0]["serial"] == 1,
              "ctl zones --json: %s" % p.stdout)
        # Unchanged file: nothing reloaded, ok.
        p = s.ctl("reload")
        check(p.returncode == 0 and "unchanged %s." % ZONE in p.stdout, "ctl reload (unchanged): %s" % p.stdout)
        s.write(5)
        p = s.ctl("reload")
        check(p.returncode == 0 and "loaded %s. serial=5" % ZONE in p.stdout,
              "ctl reload: %d %s %s" % (p.returncode, p.stdout, p.stderr))
        check(s.serial() == 5, "serial after ctl reload")
        s.write(6, broken=True)
        p = s.ctl("reload")
        where = "%s:%d" % (s.zone, BROKEN_LINE)
        check(p.returncode == 1, "ctl reload of a broken file: exit %d" % p.returncode)
        check(where in p.stdout, "ctl reload does not name %s:\n%s" % (where, p.stdout))
        check(s.serial() == 5, "a broken file replaced the served zone")
        p = s.ctl("reload", ZONE, "--json")
        r = json.loads(p.stdout)
        check(p.returncode == 1 and not r["ok"] and where in r["zones"][0]["error"], "reload --json: %s" % p.stdout)
        # reload ZONE forces a reload even when the file did not change.
        s.write(7)
        p = s.ctl("reload", ZONE)
        check(p.returncode == 0 and "serial=7" in p.stdout, "ctl reload ZONE: %s" % p.stdout)
        p = s.ctl("reload", "other.test")
        check(p.returncode == 1 and "other.test" in p.stderr, "reload of an unknown zone: %d %s" % (p.returncode, p.stderr))
        # Unreachable daemon: exit 2 naming the socket.
        mxdns = mxtest.binary("MXDNS", "mxdns")
        gone = os.path.join(d, "nobody.sock")
        p = subprocess.run([mxdns, "ctl", "--control", gone, "status"], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and gone in p.stderr, "unreachable: %d %s" % (p.returncode, p.stderr))
        # -c CONFIG finds the socket.
        p = subprocess.run([mxdns, "ctl", "-c", s.conf, "status"], capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "reloads:" in p.stdout, "ctl -c CONFIG: %d %s" % (p.returncode, p.stderr))
    finally:
        s.srv.stop()
    check(not os.path.exists(s.sock), "the control socket is left behind after stop")


def case_queries_during_reloads(d, port):
    s = Setup(d, port)
    published = {1}
    errors = []
    counts = {"udp": 0, "tcp": 0}
    stop = threading.Event()

    def hammer(tcp):
        q = dns.message.make_query(ZONE, "SOA")
        while not stop.is_set():
            try:
                if tcp:
                    r = dns.query.tcp(q, HOST, port=port, timeout=2)
                else:
                    r = dns.query.udp(q, HOST, port=port, timeout=2)
                serial = r.answer[0][0].serial if r.answer else None
                if r.rcode() != dns.rcode.NOERROR or serial not in published:
                    errors.append("rcode %s serial %s" % (dns.rcode.to_text(r.rcode()), serial))
                counts["tcp" if tcp else "udp"] += 1
            except Exception as e:  # a timeout is a dropped query
                errors.append("%s: %r" % ("tcp" if tcp else "udp", e))

    threads = [threading.Thread(target=hammer, args=(t,)) for t in (False, False, True)]
    for t in threads:
        t.start()
    try:
        for i in range(20):
            serial = 10 + i
            broken = i % 5 == 4
            if not broken:
                published.add(serial)
            s.write(serial, broken=broken)
            if i % 2:
                s.hup()
            else:
                p = s.ctl("reload")
                check(p.returncode == (1 if broken else 0),
                      "reload %d: exit %d\n%s%s" % (i, p.returncode, p.stdout, p.stderr))
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join()
        s.srv.stop()
    check(not errors, "%d bad answers during reloads, first: %s" % (len(errors), errors[:5]))
    check(counts["udp"] > 50 and counts["tcp"] > 20, "too few queries ran: %s" % counts)


CASES = [case_sighup, case_control_socket, case_queries_during_reloads]


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
