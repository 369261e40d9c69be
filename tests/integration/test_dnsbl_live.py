#!/usr/bin/python3
"""Live updates: mxdnsd keeps answering right while `mxdns bl` writes.

A query loop (two threads, dnspython over UDP) runs the whole time and
checks every answer:
  - 192.0.2.1 is listed (127.0.0.2) and 127.0.0.1 never is: no query may
    fail, time out, SERVFAIL or give another answer;
  - the first and the last entry of a 1,000,000-entry import appear
    together (one transaction: never the first without the last).
Then entries are added and deleted one at a time, and each change must be
answered within one second.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.message
import dns.query
import dns.rcode

MXDNSD = os.environ.get("MXDNSD", "build/mxdnsd")
MXDNS = os.environ.get("MXDNS", "build/mxdns")
ZONE = "live.bl.test"
N = 1000000


def free_port():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    u.close()
    return port


def state(port, addr, timeout=2.0):
    """'listed CODE', 'nx', or raises on failure."""
    name = ".".join(reversed(addr.split("."))) + "." + ZONE
    r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=timeout)
    if r.rcode() == dns.rcode.NXDOMAIN:
        return "nx"
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return "bad rcode %s" % dns.rcode.to_text(r.rcode())
    return "listed " + ",".join(sorted(rr.to_text() for rr in r.answer[0]))


def mxdns(db, *args):
    p = subprocess.run([MXDNS, "bl", "--db", db, "--list", ZONE, "-q"] + list(args),
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"mxdns bl {args}: {p.returncode} {p.stderr}")


def addr_of(i):
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


def main():
    tmp = tempfile.mkdtemp(prefix="dnsbl_live.")
    db = os.path.join(tmp, "bl.mdb")
    data = os.path.join(tmp, "big.txt")
    errors = []
    stop = threading.Event()
    counts = {"queries": 0, "first_seen": None, "both_seen": None}
    lock = threading.Lock()
    daemon = None
    try:
        mxdns(db, "add", "127.0.0.2", "192.0.2.1")
        with open(data, "w") as f:
            for i in range(N):
                f.write(addr_of(i) + " bulk\n")
        port = free_port()
        log = open(os.path.join(tmp, "mxdnsd.log"), "w")
        daemon = subprocess.Popen([MXDNSD, "--listen", f"127.0.0.1@{port}", "--dnsbl", f"{ZONE}:{db}"],
                                  stdout=log, stderr=log)
        deadline = time.time() + 15
        while True:
            try:
                if state(port, "192.0.2.1", 0.5) == "listed 127.0.0.2":
                    break
            except Exception:
                pass
            if time.time() > deadline or daemon.poll() is not None:
                print("FAIL: mxdnsd did not answer")
                return 1
            time.sleep(0.2)

        first, last = addr_of(0), addr_of(N - 1)

        def loop():
            while not stop.is_set():
                try:
                    s1 = state(port, "192.0.2.1")
                    s2 = state(port, "127.0.0.1")
                    a = state(port, first)
                    b = state(port, last)
                except Exception as e:  # timeouts count as failures
                    with lock:
                        errors.append(f"query failed: {e!r}")
                    continue
                with lock:
                    counts["queries"] += 4
                    if s1 != "listed 127.0.0.2":
                        errors.append(f"192.0.2.1: {s1}")
                    if s2 != "nx":
                        errors.append(f"127.0.0.1: {s2}")
                    if a.startswith("listed") and not b.startswith("listed"):
                        errors.append("half an import visible: first entry without the last")
                    if a.startswith("listed") and counts["first_seen"] is None:
                        counts["first_seen"] = time.time()

        threads = [threading.Thread(target=loop) for _ in range(2)]
        for t in threads:
            t.start()
        t0 = time.time()
        mxdns(db, "import", data, "--format", "plain")
        t_commit = time.time()
        # visible within a second of the commit
        while state(port, last) == "nx" and time.time() - t_commit < 1.0:
            time.sleep(0.01)
        seen = time.time() - t_commit
        if state(port, last) == "nx":
            errors.append("the import was not visible within 1 s")
        print(f"import of {N} entries took {t_commit - t0:.2f} s, visible after {seen:.3f} s")

        worst = 0.0
        for k in range(20):
            a = "198.51.100.%d" % (k + 1)
            mxdns(db, "add", a, "--code", "127.0.0.%d" % (k + 3))
            t1 = time.time()
            while state(port, a) == "nx" and time.time() - t1 < 1.0:
                time.sleep(0.005)
            dt = time.time() - t1
            # Each worker renews its read transaction every few ms, so for
            # those ms one worker may answer from the older snapshot than
            # another (the guarantee is every worker within 1 s): let them
            # all catch up before asking again.
            time.sleep(0.05)
            if state(port, a) != "listed 127.0.0.%d" % (k + 3):
                errors.append(f"add {a} not visible within 1 s")
            mxdns(db, "del", a)
            t1 = time.time()
            while state(port, a) != "nx" and time.time() - t1 < 1.0:
                time.sleep(0.005)
            dt = max(dt, time.time() - t1)
            time.sleep(0.05)
            if state(port, a) != "nx":
                errors.append(f"del {a} not visible within 1 s")
            worst = max(worst, dt)
        print(f"20 adds and deletes: each visible within {worst * 1000:.0f} ms")
        stop.set()
        for t in threads:
            t.join(10)
        print(f"{counts['queries']} queries in the loop, {len(errors)} errors")
        if counts["queries"] < 1000:
            errors.append(f"only {counts['queries']} queries ran: the loop did not really run")
    finally:
        stop.set()
        if daemon:
            daemon.terminate()
            try:
                daemon.wait(5)
            except subprocess.TimeoutExpired:
                daemon.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    for e in errors[:20]:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
