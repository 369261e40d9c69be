#!/usr/bin/python3
"""The benchmark driver behind tests/bench/run.sh (see README.md there).

Starts each server in turn on a loopback high port (pinned with taskset to
the server CPU), measures it with dnsperf (pinned to the client CPU), stops
it, and repeats for several rounds in a rotating order; prints one table of
medians with mxdnsd's ratio to each peer, and writes the raw samples as
JSON. Every child runs in its own session and is killed on exit; every
dnsperf run is bounded in time (-l) and count (-n), and every wait has a
timeout.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PIDDIR = None          # where live server pids are recorded for run.sh's trap
LIVE = {}              # pid -> Popen


# ---------------------------------------------------------------- processes

def record_pid(p):
    LIVE[p.pid] = p
    if PIDDIR:
        open(os.path.join(PIDDIR, str(p.pid)), "w").close()


def kill_tree(p, timeout=10.0):
    """TERM to the server's session (NSD forks), then KILL if it lingers."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)
    # Children of a session leader may outlive it for a moment.
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    LIVE.pop(p.pid, None)
    if PIDDIR:
        try:
            os.unlink(os.path.join(PIDDIR, str(p.pid)))
        except FileNotFoundError:
            pass


def kill_all(*_):
    for p in list(LIVE.values()):
        kill_tree(p, 3)


def tree_pids(root):
    """root and all its descendants, from /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        parent[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return out


def cpu_times(root):
    """(user, system) seconds of the whole process tree."""
    u = s = 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        u += int(fields[11])  # utime is field 14; fields[] starts at field 3
        s += int(fields[12])
    return u / CLK_TCK, s / CLK_TCK


def sleeps(root):
    """Voluntary context switches of every thread in the tree: how often
    the server went to sleep waiting for work, so each one is a wake-up."""
    n = 0
    for pid in tree_pids(root):
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            n += int(line.split()[1])
            except OSError:
                pass
    return n


def peak_rss_mb(root):
    """The largest VmHWM in the tree (forked children share the zone data,
    so a sum would count it twice)."""
    best = 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best / 1024.0


def free_port():
    for _ in range(100):
        port = random.randrange(20000, 60000)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


# --------------------------------------------------------------- DNS probe

TYPES = {"A": 1, "NS": 2, "MX": 15, "TXT": 16, "AAAA": 28, "TLSA": 52}


def make_query(name, qtype, qid=0x4242):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + wire + b"\0" + \
        struct.pack("!HH", TYPES[qtype], 1)


def wait_ready(port, probe, p, timeout, echo=False):
    """Seconds until the server answers the probe with data (NOERROR and
    an answer), or None if it died or timed out."""
    name, qtype = probe
    q = make_query(name, qtype)
    t0 = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.02)
        while time.monotonic() - t0 < timeout:
            if p.poll() is not None:
                return None
            try:
                s.sendto(q, ("127.0.0.1", port))
                r, _ = s.recvfrom(65535)
                if len(r) >= 12 and r[:2] == q[:2]:
                    rcode = r[3] & 15
                    ancount = struct.unpack("!H", r[6:8])[0]
                    if echo or (rcode == 0 and ancount > 0):
                        return time.monotonic() - t0
            except (socket.timeout, ConnectionRefusedError):
                pass
            time.sleep(0.005)
    return None


# ----------------------------------------------------------------- servers

class Server:
    """One server under test: how to configure and start it."""
    name = "?"
    tcp = True
    echo = False

    def __init__(self, args):
        self.args = args

    def kinds(self):
        return ("mail",)

    def command(self, work, port, ds, workers):
        raise NotImplementedError


class Nsd(Server):
    name = "NSD"

    def command(self, work, port, ds, workers):
        zones = "".join("zone:\n\tname: %s\n\tzonefile: %s\n" % z for z in ds["zones"])
        conf = os.path.join(work, "nsd.conf")
        with open(conf, "w") as f:
            f.write("""server:
	ip-address: 127.0.0.1@{port}
	port: {port}
	server-count: {w}
	reuseport: {reuse}
	username: ""
	chroot: ""
	database: ""
	zonelistfile: "{d}/zone.list"
	xfrdfile: "{d}/xfrd.state"
	xfrdir: "{d}"
	pidfile: "{d}/nsd.pid"
	logfile: "{d}/nsd.log"
	verbosity: 0
	tcp-count: 100
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
{zones}""".format(port=port, w=workers, reuse="yes" if workers > 1 else "no", d=work,
                  zones=zones))
        return ["nsd", "-d", "-c", conf]


class Knot(Server):
    name = "Knot"

    def command(self, work, port, ds, workers):
        zones = "".join("  - domain: %s\n    file: \"%s\"\n" % z for z in ds["zones"])
        conf = os.path.join(work, "knot.conf")
        with open(conf, "w") as f:
            f.write("""server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
    udp-workers: {w}
    tcp-workers: {w}
    background-workers: 1
database:
    storage: "{d}/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
{zones}""".format(port=port, w=workers, d=work, zones=zones))
        return ["knotd", "-c", conf]


class Rbldnsd(Server):
    name = "rbldnsd"
    tcp = False  # rbldnsd answers over UDP only

    def kinds(self):
        return ("dnsbl",)

    def command(self, work, port, ds, workers):
        return ["rbldnsd", "-n", "-u", "rbldns", "-b", "127.0.0.1/%d" % port, "-w", ds["dir"],
                "-t", "3600", "-c", "3600",
                "bl.bench:ip4set:list4.ip4set", "bl.bench:ip6trie:list6.ip6trie"]


class Mxdnsd(Server):
    name = "mxdnsd"

    def kinds(self):
        return ("mail", "dnsbl") if self.args.mxdns_bl else ("mail",)

    def command(self, work, port, ds, workers):
        cmd = [self.args.mxdnsd, "--listen", "127.0.0.1@%d" % port, "--workers", str(workers),
               "--log-level", "warning"]
        if ds["kind"] == "mail":
            for name, path in ds["zones"]:
                cmd += ["--zone", "%s:%s" % (name, path)]
        else:
            cmd += ["--dnsbl", "bl.bench:%s:bench" % ds["mxdb"]]
        return cmd


class MxdnsdC0(Mxdnsd):
    """mxdnsd without its UDP receive coalescing (udp-coalesce: 0): what
    the pause under load buys, and mxdnsd on the zero-work responder's
    terms (which reads again at once)."""
    name = "mxdnsd-c0"
    tcp = False  # the pause is UDP only: the TCP figures would repeat mxdnsd's

    def command(self, work, port, ds, workers):
        conf = os.path.join(work, "mxdnsd-c0.conf")
        with open(conf, "w") as f:
            f.write("server:\n    udp-coalesce: 0\n")
        return super().command(work, port, ds, workers) + ["-c", conf, "--run-as-root"]


class MxdnsdBase(Mxdnsd):
    """Another build of mxdnsd (--baseline BIN), e.g. of the commit before
    a change: run in the same rounds, so a change is measured against its
    own baseline under the same noise."""
    name = "mxdnsd-base"

    def command(self, work, port, ds, workers):
        cmd = super().command(work, port, ds, workers)
        return [self.args.baseline] + cmd[1:]


class Zerowork(Server):
    name = "zero-work"
    tcp = False
    echo = True

    def kinds(self):
        return ("mail", "dnsbl")

    def command(self, work, port, ds, workers):
        return [self.args.zerowork, "127.0.0.1", str(port), str(workers)]


# ----------------------------------------------------------------- dnsperf

def parse_dnsperf(text):
    def num(pat, default=0.0):
        m = re.search(pat, text)
        return float(m.group(1)) if m else default
    return {
        "sent": num(r"Queries sent:\s+(\d+)"),
        "completed": num(r"Queries completed:\s+(\d+)"),
        "lost": num(r"Queries lost:\s+(\d+)"),
        "qps": num(r"Queries per second:\s+([\d.]+)"),
        "avg_lat": num(r"Average Latency \(s\):\s+([\d.]+)"),
        "noerror": num(r"NOERROR (\d+)"),
        "nxdomain": num(r"NXDOMAIN (\d+)"),
        "servfail": num(r"SERVFAIL (\d+)"),
        "formerr": num(r"FORMERR (\d+)"),
        "refused": num(r"REFUSED (\d+)"),
    }


def dnsperf_cmd(a, port, ds, mode, clients, duration, extra=()):
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", ds["queries"],
           "-l", "%g" % duration, "-n", "1000", "-c", str(clients), "-t", "2"]
    if mode == "tcp":
        cmd += ["-m", "tcp", "-q", str(a.tcp_outstanding)]
    else:
        cmd += ["-q", str(a.outstanding)]
    if ds["kind"] == "mail":
        cmd += ["-e"]  # resolvers send EDNS (RFC 6891); DKIM answers need it
    return cmd + list(extra)


def niced(a, cmd):
    """On a shared machine a negative nice keeps other jobs from taking
    the measured processes' CPU (it changes nothing on an idle one)."""
    return ["nice", "-n", str(a.nice)] + cmd if a.nice else cmd


def run_clients(cmds, timeout):
    """Runs the dnsperf commands concurrently; returns their outputs and
    the clients' CPU seconds (from wait4)."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for c in cmds]
    outs = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        outs.append(out)
    # communicate() reaped them: their CPU time shows in os.times()'s
    # children fields, which the caller reads before and after.
    return outs


def machine_busy():
    """Busy CPU seconds of the whole machine (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return (sum(v[:8]) - idle) / CLK_TCK


def children_cpu():
    r = os.times()
    return r.children_user + r.children_system


def throughput(a, srv_pid, port, ds, mode, n_clients, pin, duration):
    cmds = []
    for i in range(n_clients):
        c = dnsperf_cmd(a, port, ds, mode, a.tcp_conns if mode == "tcp" else a.udp_sockets,
                        duration)
        if pin:
            c = ["taskset", "-c", a.client_cpu] + c
        cmds.append(niced(a, c))
    u0, s0 = cpu_times(srv_pid)
    w0 = sleeps(srv_pid)
    c0 = children_cpu()
    m0 = machine_busy()
    t0 = time.monotonic()
    outs = run_clients(cmds, duration + 30)
    wall = time.monotonic() - t0
    c1 = children_cpu()
    m1 = machine_busy()
    u1, s1 = cpu_times(srv_pid)
    wakes = sleeps(srv_pid) - w0
    res = [parse_dnsperf(o) for o in outs]
    done = sum(r["completed"] for r in res)
    sent = sum(r["sent"] for r in res)
    srv = (u1 - u0) + (s1 - s0)
    out = {
        "qps": sum(r["qps"] for r in res),
        "completed": done,
        "lost_pct": 100.0 * (sent - done) / sent if sent else 100.0,
        "srv_user_s": u1 - u0, "srv_sys_s": s1 - s0,
        "srv_util": srv / wall,
        "cli_util": (c1 - c0) / wall,
        # CPUs used by everything else on the machine meanwhile (other
        # jobs, kernel threads): what the two measured processes competed with.
        "other_util": max(0.0, (m1 - m0) - srv - (c1 - c0)) / wall,
        "ans_per_cpu_s": done / srv if srv > 0 else 0.0,
        "user_us": 1e6 * (u1 - u0) / done if done else 0.0,
        "sys_us": 1e6 * (s1 - s0) / done if done else 0.0,
        # Answers per wake-up: with dnsperf the limit, how often the server
        # ran out of queries and slept (a cost apart from its syscalls).
        "ans_per_wake": done / wakes if wakes > 0 else 0.0,
        "rcodes": {k: sum(r[k] for r in res) for k in
                   ("noerror", "nxdomain", "servfail", "formerr", "refused")},
    }
    if done == 0:
        out["dnsperf_output"] = outs[0][-2000:]
    return out


def latency(a, port, ds):
    """p50/p99 in ms at a fixed moderate rate, from dnsperf -v per-query lines."""
    cmd = niced(a, ["taskset", "-c", a.client_cpu] + dnsperf_cmd(
        a, port, ds, "udp", 1, a.lat_duration, ["-Q", str(a.lat_rate), "-v"]))
    cmd[cmd.index("-q") + 1] = "1000"
    out = run_clients([cmd], a.lat_duration + 30)[0]
    lats = sorted(float(m.group(1)) for m in re.finditer(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M))
    if not lats:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "lat_n": 0}
    return {"p50_ms": 1e3 * lats[len(lats) // 2],
            "p99_ms": 1e3 * lats[min(len(lats) - 1, int(len(lats) * 0.99))],
            "lat_n": len(lats)}


# ---------------------------------------------------------------- the runs

def one(a, srv, ds, workers, pin, modes, work):
    """Starts srv on ds, measures, stops. Returns {mode: result}."""
    sub = os.path.join(work, "run-%s" % srv.name)
    shutil.rmtree(sub, ignore_errors=True)
    os.makedirs(sub)
    os.chmod(sub, 0o755)
    port = free_port()
    cmd = srv.command(sub, port, ds, workers)
    if pin:
        cmd = ["taskset", "-c", a.server_cpu] + cmd
    cmd = niced(a, cmd)
    log = open(os.path.join(sub, "server.log"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    record_pid(p)
    results = {}
    try:
        ready = wait_ready(port, ds["probe"], p, a.load_timeout, srv.echo)
        if ready is None:
            log.flush()
            with open(os.path.join(sub, "server.log")) as f:
                tail = f.read()[-1500:]
            print("  %s did not answer on %s (see %s):\n%s" % (srv.name, ds["label"], sub, tail),
                  file=sys.stderr)
            return {}
        load_s = time.monotonic() - t0
        time.sleep(0.2)  # let the server's start-up work settle
        if pin:
            repin(p.pid, a.server_cpu)
        for mode in modes:
            if mode == "tcp" and not srv.tcp:
                continue
            r = throughput(a, p.pid, port, ds, "tcp" if mode == "tcp" else "udp",
                           1 if workers == 1 else 2, pin, a.duration)
            if mode == "udp" and workers == 1 and a.lat_duration > 0:
                r.update(latency(a, port, ds))
            r["load_s"] = load_s
            r["rss_mb"] = peak_rss_mb(p.pid)
            results[mode] = r
    finally:
        kill_tree(p)
        log.close()
    return results


def repin(root, cpu):
    """Knot sets its own thread affinity (its UDP workers go round-robin
    over all CPUs, so one lands on dnsperf's core): put every thread of
    the server's tree back on the server's core after start-up."""
    for pid in tree_pids(root):
        subprocess.run(["taskset", "-a", "-p", "-c", cpu, str(pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def median_of(samples, key):
    vals = [s[key] for s in samples if key in s]
    return statistics.median(vals) if vals else None


COLS = [
    ("qps", "qps", "%.0f"),
    ("ans/CPU-s", "ans_per_cpu_s", "%.0f"),
    ("user us/ans", "user_us", "%.2f"),
    ("sys us/ans", "sys_us", "%.2f"),
    ("ans/wake", "ans_per_wake", "%.1f"),
    ("srv CPU", "srv_util", "%.2f"),
    ("cli CPU", "cli_util", "%.2f"),
    ("other CPU", "other_util", "%.2f"),
    ("lost %", "lost_pct", "%.2f"),
    ("p50 ms", "p50_ms", "%.3f"),
    ("p99 ms", "p99_ms", "%.3f"),
    ("load s", "load_s", "%.2f"),
    ("RSS MB", "rss_mb", "%.1f"),
]


def table(groups):
    """One table: a row per (data set, mode, server) with medians, then a
    row per peer with mxdnsd's ratio (mxdnsd / peer) on each column."""
    head = ["data set", "mode", "server"] + [c[0] for c in COLS]
    rows = []
    for (label, mode), per in groups.items():
        med = {}
        for name, samples in per.items():
            med[name] = {k: median_of(samples, k) for _, k, _ in COLS}
            rows.append([label, mode, name] +
                        [(f % med[name][k]) if med[name][k] is not None else "-"
                         for _, k, f in COLS])
        if "mxdnsd" in med:
            for peer in ("NSD", "Knot", "rbldnsd", "zero-work", "mxdnsd-c0", "mxdnsd-base"):
                if peer not in med:
                    continue
                cells = []
                for _, k, _ in COLS:
                    x, y = med["mxdnsd"][k], med[peer][k]
                    cells.append("%.2f" % (x / y) if x is not None and y else "-")
                rows.append([label, mode, "mxdnsd/" + peer] + cells)
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def user_ratios(groups):
    """mxdnsd's user time per answer against each peer's, two more ways
    than the table's ratio of medians: the median of the per-round ratios
    (a round runs the servers back to back, so host drift cancels) and the
    ratio of the user time pooled over all rounds (the most ticks). The
    user/system split is tick-sampled, the noisiest figure on a guest
    without hardware counters (docs/PERFORMANCE.md)."""
    def pooled(v):
        n = sum(s["completed"] for s in v)
        return sum(s["srv_user_s"] for s in v) / n if n else 0.0

    lines = []
    for (label, mode), per in groups.items():
        mx = per.get("mxdnsd")
        for peer in ("NSD", "Knot", "rbldnsd", "mxdnsd-base"):
            ps = per.get(peer)
            if not mx or not ps:
                continue
            rounds = [m["user_us"] / p["user_us"] for m, p in zip(mx, ps) if p["user_us"] > 0]
            if not rounds or not pooled(ps):
                continue
            lines.append("user us/ans, mxdnsd/%s, %s %s: ratio of medians %.2f, median of %d "
                         "per-round ratios %.2f, pooled %.2f" %
                         (peer, label, mode, median_of(mx, "user_us") / median_of(ps, "user_us"),
                          len(rounds), statistics.median(rounds), pooled(mx) / pooled(ps)))
    return "\n".join(lines)


def load_dataset(kind, d, a, work):
    ds = {"kind": kind, "dir": d, "queries": os.path.join(d, "queries.txt")}
    with open(os.path.join(d, "probe.txt")) as f:
        name, qtype = f.read().split()
    ds["probe"] = (name, qtype)
    if kind == "mail":
        with open(os.path.join(d, "zones.txt")) as f:
            ds["zones"] = [tuple(l.split()) for l in f if l.strip()]
    with open(os.path.join(d, "label")) as f:
        ds["label"] = f.read().strip()
    if kind == "dnsbl" and a.mxdns_bl:
        ds["mxdb"] = os.path.join(d, "mxdns.mdb")
    return ds


def main():
    global PIDDIR
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--mxdnsd", required=True)
    ap.add_argument("--zerowork", required=True)
    ap.add_argument("--mxdns-bl", action="store_true", help="mxdnsd serves the DNSBL sets")
    ap.add_argument("--mail", action="append", default=[], help="data set dir (gen_data.py mail)")
    ap.add_argument("--dnsbl", action="append", default=[], help="data set dir (gen_data.py dnsbl)")
    ap.add_argument("--servers", default="NSD,Knot,rbldnsd,mxdnsd,mxdnsd-c0,zero-work")
    ap.add_argument("--baseline", help="another mxdnsd binary, run as server mxdnsd-base")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--lat-rate", type=int, default=10000)
    ap.add_argument("--lat-duration", type=float, default=5)
    ap.add_argument("--outstanding", type=int, default=500)
    ap.add_argument("--udp-sockets", type=int, default=4)
    ap.add_argument("--tcp-conns", type=int, default=10)
    ap.add_argument("--tcp-outstanding", type=int, default=100)
    ap.add_argument("--no-tcp", action="store_true")
    ap.add_argument("--two-workers", action="store_true",
                    help="also run 2 workers, unpinned, two dnsperf processes (first data set of each kind)")
    ap.add_argument("--server-cpu", default="1")
    ap.add_argument("--client-cpu", default="0")
    ap.add_argument("--nice", type=int, default=0, help="run servers and dnsperf at this nice value")
    ap.add_argument("--load-timeout", type=float, default=600)
    ap.add_argument("--json", help="write the samples here")
    a = ap.parse_args()

    PIDDIR = os.path.join(a.work, "pids")
    os.makedirs(PIDDIR, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

    allsrv = [Nsd(a), Knot(a), Rbldnsd(a), Mxdnsd(a), MxdnsdC0(a), MxdnsdBase(a), Zerowork(a)]
    wanted = a.servers.split(",")
    if a.baseline:
        a.baseline = os.path.abspath(a.baseline)
        if not os.access(a.baseline, os.X_OK):
            ap.error("--baseline %s: not an executable file" % a.baseline)
        wanted.append("mxdnsd-base")
    servers = [s for s in allsrv if s.name in wanted]
    sets = [load_dataset("mail", d, a, a.work) for d in a.mail] + \
        [load_dataset("dnsbl", d, a, a.work) for d in a.dnsbl]
    modes = ["udp"] + ([] if a.no_tcp else ["tcp"])
    with open("/proc/loadavg") as f:
        load0 = f.read().split()[0]
    groups = {}
    samples = []

    def add(ds, mode, srv, r):
        groups.setdefault((ds["label"], mode), {}).setdefault(srv.name, []).append(r)
        samples.append({"data": ds["label"], "mode": mode, "server": srv.name, **r})

    try:
        for rnd in range(a.rounds):
            for ds in sets:
                todo = [s for s in servers if ds["kind"] in s.kinds()]
                # Rotate the order each round so no server always runs first.
                k = rnd % len(todo)
                for srv in todo[k:] + todo[:k]:
                    print("round %d/%d  %-10s %-18s" % (rnd + 1, a.rounds, srv.name, ds["label"]),
                          file=sys.stderr, flush=True)
                    res = one(a, srv, ds, 1, True, modes, a.work)
                    for mode, r in res.items():
                        add(ds, mode, srv, r)
                        print("    %-4s %9.0f qps  %8.0f ans/CPU-s  srv %.2f cli %.2f CPU" %
                              (mode, r["qps"], r["ans_per_cpu_s"], r["srv_util"], r["cli_util"]),
                              file=sys.stderr, flush=True)
            if a.two_workers:
                firsts = []
                for kind in ("mail", "dnsbl"):
                    firsts += [ds for ds in sets if ds["kind"] == kind][:1]
                for ds in firsts:
                    for srv in servers:
                        if ds["kind"] not in srv.kinds() or srv.name == "rbldnsd":
                            continue  # rbldnsd is single-threaded
                        print("round %d/%d  %-10s %-18s 2 workers" %
                              (rnd + 1, a.rounds, srv.name, ds["label"]), file=sys.stderr, flush=True)
                        res = one(a, srv, ds, 2, False, ["udp"], a.work)
                        for mode, r in res.items():
                            add(ds, "udp-2w", srv, r)
                            print("    2w   %9.0f qps  %8.0f ans/CPU-s  srv %.2f cli %.2f CPU" %
                                  (r["qps"], r["ans_per_cpu_s"], r["srv_util"], r["cli_util"]),
                                  file=sys.stderr, flush=True)
    finally:
        kill_all()
        if a.json:
            with open(a.json, "w") as f:
                json.dump(samples, f, indent=1)
    with open("/proc/loadavg") as f:
        load1 = f.read().split()[0]
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print("%d x %s, %s; %d round(s) x %gs, medians; load average at start %s, at end %s\n"
          % (os.cpu_count(), model, os.uname().release, a.rounds, a.duration, load0, load1))
    print(table(groups))
    ratios = user_ratios(groups)
    if ratios:
        print("\n" + ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
