"""test_service: running mxdnsd as a service.

As root: started with `user: nobody` it binds, then runs as nobody (every
uid and gid in /proc/PID/status), answers, reloads through its control
socket; a configuration without `user:` and without `run-as-root` is
refused with a message naming the file and the fix; `run-as-root: yes` and
--run-as-root allow it; the quick start without a configuration only warns.
An unknown user is an error at start. chroot: the jail is the process's
root, zones inside it reload, one outside is refused at start. docs/mxdnsd.service passes
`systemd-analyze verify` (when systemd-analyze exists), pointed at the
built binary.

Not root: the privilege checks cannot be made; the test says so and passes
after checking the service file. Run by ctest with MXDNSD and MXDNS set."""
import os
import pwd
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

HOST = mxtest.HOST
ZONE_TEXT = """$TTL 300
@ SOA ns hostmaster %d 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
www A 192.0.2.1
"""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def ids(pid):
    """(uids, gids, groups) from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    uids = [int(x) for x in re.search(r"^Uid:\s+(.*)$", st, re.M).group(1).split()]
    gids = [int(x) for x in re.search(r"^Gid:\s+(.*)$", st, re.M).group(1).split()]
    groups = [int(x) for x in re.search(r"^Groups:[ \t]*(.*)$", st, re.M).group(1).split()]
    return uids, gids, groups


def conf_text(port, d, extra):
    return ("server:\n  listen: %s@%d\n  workers: 2\n  control: %s/ctl.sock\n%s"
            "zone:\n  name: svc.test\n  file: %s/svc.zone\n" % (HOST, port, d, extra, d))


def run_refused(conf, d):
    p = subprocess.run([mxtest.binary("MXDNSD", "mxdnsd"), "-c", conf], capture_output=True,
                       text=True, timeout=20)
    return p


def case_drops_to_nobody(d):
    nobody = pwd.getpwnam("nobody")
    port = mxtest.free_port()
    conf = os.path.join(d, "nobody.conf")
    write(conf, conf_text(port, d, "  user: nobody\n"))
    # Started directly (mxtest would add --run-as-root for a config).
    argv = [mxtest.binary("MXDNSD", "mxdnsd"), "-c", conf]
    srv = mxtest.Server("mxdnsd", argv, port, os.path.join(d, "nobody.log"))
    try:
        mxtest.wait_ready(port, ("svc.test", "SOA"), srv)
        uids, gids, groups = ids(srv.proc.pid)
        print("user nobody: Uid %s Gid %s Groups %s" % (uids, gids, groups))
        check(uids == [nobody.pw_uid] * 4, "uids %s, want nobody's %d" % (uids, nobody.pw_uid))
        check(gids == [nobody.pw_gid] * 4, "gids %s, want %d" % (gids, nobody.pw_gid))
        check(0 not in groups, "still in group root: %s" % groups)
        r = dns.query.udp(dns.message.make_query("www.svc.test", "A"), HOST, port=port, timeout=2)
        check(r.rcode() == dns.rcode.NOERROR and r.answer, "no answer as nobody")
        r = dns.query.tcp(dns.message.make_query("www.svc.test", "A"), HOST, port=port, timeout=2)
        check(r.answer, "no TCP answer as nobody")
        # Reloads read the zone as nobody.
        write(os.path.join(d, "svc.zone"), ZONE_TEXT % 2)
        t = time.time() + 5
        os.utime(os.path.join(d, "svc.zone"), (t, t))
        p = subprocess.run([mxtest.binary("MXDNS", "mxdns"), "ctl", "--control",
                            os.path.join(d, "ctl.sock"), "reload"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "loaded svc.test. serial=2" in p.stdout,
              "reload as nobody: %s %s" % (p.stdout, p.stderr))
        check("running as root" not in srv.log(), "warned about root as nobody")
    finally:
        srv.stop()


def case_refuses_root(d):
    port = mxtest.free_port()
    conf = os.path.join(d, "root.conf")
    write(conf, conf_text(port, d, ""))
    p = run_refused(conf, d)
    print("no user: exit %d: %s" % (p.returncode, p.stderr.strip().splitlines()[-1]))
    check(p.returncode != 0, "ran on as root without user: or run-as-root")
    check("refusing to keep running as root" in p.stderr and conf in p.stderr
          and "run-as-root" in p.stderr and "user:" in p.stderr,
          "unclear refusal: %s" % p.stderr)

    # Allowed by the key, and by the option.
    for how, extra, args in (("key", "  run-as-root: yes\n", []), ("option", "", ["--run-as-root"])):
        port = mxtest.free_port()
        write(conf, conf_text(port, d, extra))
        argv = [mxtest.binary("MXDNSD", "mxdnsd"), "-c", conf] + args
        srv = mxtest.Server("mxdnsd", argv, port, os.path.join(d, "root-%s.log" % how))
        try:
            mxtest.wait_ready(port, ("svc.test", "SOA"), srv)
            check(ids(srv.proc.pid)[0][0] == 0, "run-as-root by %s: not root" % how)
        finally:
            srv.stop()

    # The quick start (no configuration file) warns and serves.
    port = mxtest.free_port()
    srv = mxtest.start_mxdnsd(port, logdir=d)
    try:
        check(srv.alive(), "quick start died")
        check("running as root" in srv.log(), "quick start did not warn:\n%s" % srv.log())
    finally:
        srv.stop()

    # An unknown user is an error, not a silent root.
    write(conf, conf_text(mxtest.free_port(), d, "  user: no-such-user-mxdns\n"))
    p = run_refused(conf, d)
    check(p.returncode != 0 and "no-such-user-mxdns" in p.stderr, "unknown user: %s" % p.stderr)


def case_unit_file(d):
    src = os.environ.get("MXDNS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    unit = os.path.join(src, "docs", "mxdnsd.service")
    with open(unit) as f:
        text = f.read()
    for want in ("AmbientCapabilities=CAP_NET_BIND_SERVICE", "ProtectSystem=strict", "ProtectHome=yes",
                 "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                 "SystemCallFilter=@system-service", "RuntimeDirectory=mxdnsd",
                 "ExecReload=/bin/kill -HUP $MAINPID"):
        check(want in text, "mxdnsd.service lacks %s" % want)
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("systemd-analyze not found: unit file checked by content only")
        return
    local = os.path.join(d, "mxdnsd.service")
    write(local, text.replace("/usr/local/sbin/mxdnsd", os.path.abspath(mxtest.binary("MXDNSD", "mxdnsd"))))
    p = subprocess.run([analyze, "verify", "--man=no", local], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "systemd-analyze verify: %s%s" % (p.stdout, p.stderr))
    print("systemd-analyze verify: ok")


def case_chroot(d):
    """chroot: the process's root is the jail, it runs as nobody, zone
    files given by their full path are served and reloaded from inside, a
    DNSBL database outside the jail keeps answering across reloads, and a
    zone file outside the jail is refused at start with its name."""
    jail = os.path.join(d, "jail")
    os.makedirs(os.path.join(jail, "zones"), exist_ok=True)
    os.chmod(jail, 0o755)
    os.chmod(os.path.join(jail, "zones"), 0o755)
    zone = os.path.join(jail, "zones", "svc.zone")
    write(zone, ZONE_TEXT % 1)
    db = os.path.join(d, "bl.mdb")
    subprocess.run([mxtest.binary("MXDNS", "mxdns"), "bl", "--db", db, "--list", "bl.test", "-q",
                    "add", "192.0.2.7"], check=True, timeout=30)
    os.chmod(db, 0o644)
    port = mxtest.free_port()
    conf = os.path.join(d, "chroot.conf")
    text = ("server:\n  listen: %s@%d\n  workers: 1\n  control: %s/chroot-ctl.sock\n"
            "  user: nobody\n  chroot: %s\nzone:\n  name: svc.test\n  file: %s\n"
            "dnsbl:\n  name: bl.test\n  db: %s\n" % (HOST, port, d, jail, zone, db))
    write(conf, text)
    argv = [mxtest.binary("MXDNSD", "mxdnsd"), "-c", conf]
    srv = mxtest.Server("mxdnsd", argv, port, os.path.join(d, "chroot.log"))
    try:
        mxtest.wait_ready(port, ("svc.test", "SOA"), srv)
        root = os.readlink("/proc/%d/root" % srv.proc.pid)
        print("chroot: /proc/PID/root -> %s" % root)
        check(os.path.realpath(root) == os.path.realpath(jail), "root is %s, not the jail" % root)
        check(ids(srv.proc.pid)[0][0] == pwd.getpwnam("nobody").pw_uid, "not nobody in the jail")
        write(zone, ZONE_TEXT.replace("www A", "new A 192.0.2.9\nwww A") % 2)
        t = time.time() + 5
        os.utime(zone, (t, t))
        p = subprocess.run([mxtest.binary("MXDNS", "mxdns"), "ctl", "--control",
                            os.path.join(d, "chroot-ctl.sock"), "reload"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "loaded svc.test. serial=2" in p.stdout,
              "reload in the jail: %s %s" % (p.stdout, p.stderr))
        r = dns.query.udp(dns.message.make_query("new.svc.test", "A"), HOST, port=port, timeout=2)
        check(r.rcode() == dns.rcode.NOERROR and r.answer, "reloaded record not served")
        r = dns.query.udp(dns.message.make_query("7.2.0.192.bl.test", "A"), HOST, port=port,
                          timeout=2)
        check(r.rcode() == dns.rcode.NOERROR and r.answer, "DNSBL outside the jail: %s" % r)
    finally:
        srv.stop()

    outside = os.path.join(d, "svc.zone")
    write(conf, text.replace(zone, outside))
    p = run_refused(conf, d)
    check(p.returncode != 0 and outside in p.stderr and "outside chroot" in p.stderr,
          "zone outside the jail: exit %d: %s" % (p.returncode, p.stderr))


def main():
    with mxtest.workdir() as d:
        # nobody must read the zone on reload and reach the socket dir.
        os.chmod(d, 0o755)
        write(os.path.join(d, "svc.zone"), ZONE_TEXT % 1)
        case_unit_file(d)
        if os.geteuid() != 0:
            print("test_service: not root, privilege cases not run (unit file checked)")
            return
        case_drops_to_nobody(d)
        case_refuses_root(d)
        case_chroot(d)
    print("test_service: ok")


if __name__ == "__main__":
    main()
