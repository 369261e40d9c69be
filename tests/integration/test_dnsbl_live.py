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

mxdnsd answers most unlisted IPv4 addresses from a /24 filter without
walking the B-tree, caching filter chunks per worker per snapshot; so the
changes are also made where a stale or wrong filter would show as a wrong
NXDOMAIN: an address in a /8 that was empty (and queried, so cached as
empty) before, a delete then a re-add, an exclusion inside a listed /16, a
/4. Last, a schema 2 database (no filters; made from a current one with
mdb_dump/mdb_load) is served, then upgraded by `mxdns bl add` while
mxdnsd runs.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import re

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


def settle(port, addr, want, what, errors):
    """Polls until addr answers want (at most 1 s), then asks again a few
    times: every worker must have caught up (each renews its snapshot
    every few ms; the queries come from random ports, so from all of
    them). Returns the seconds it took."""
    t1 = time.time()
    while state(port, addr) != want and time.time() - t1 < 1.0:
        time.sleep(0.005)
    dt = time.time() - t1
    time.sleep(0.05)
    for _ in range(6):
        got = state(port, addr)
        if got != want:
            errors.append(f"{what}: {addr} answers {got}, want {want} (1 s after the commit)")
            break
    return dt


def filter_changes(port, db, errors):
    """Changes where the /24 filter decides an unlisted answer."""
    L = "listed 127.0.0.2"
    worst = 0.0
    # an empty /8, asked about first so every worker caches it as empty
    for a in ("44.1.2.3", "44.1.2.4", "44.200.0.1"):
        if state(port, a) != "nx":
            errors.append(f"{a} listed before any entry in 44/8")
    for _ in range(10):
        state(port, "44.1.2.3")
    mxdns(db, "add", "44.1.2.3")
    worst = max(worst, settle(port, "44.1.2.3", L, "add in an empty /8", errors))
    settle(port, "44.1.2.4", "nx", "the rest of the /24", errors)
    settle(port, "44.200.0.1", "nx", "the rest of the /8", errors)
    # delete, then add again (the bit stays set across the delete)
    mxdns(db, "del", "44.1.2.3")
    worst = max(worst, settle(port, "44.1.2.3", "nx", "del", errors))
    mxdns(db, "add", "44.1.2.3", "--code", "127.0.0.9")
    worst = max(worst, settle(port, "44.1.2.3", "listed 127.0.0.9", "re-add", errors))
    # an exclusion inside a listed /16
    mxdns(db, "add", "172.20.0.0/16")
    worst = max(worst, settle(port, "172.20.9.5", L, "a /16", errors))
    mxdns(db, "add", "!172.20.9.0/24")
    worst = max(worst, settle(port, "172.20.9.5", "nx", "an exclusion in the /16", errors))
    settle(port, "172.20.10.5", L, "the /16 beside the exclusion", errors)
    settle(port, "172.21.0.1", "nx", "beside the /16", errors)
    # a /4: sixteen whole /8s
    for a in ("80.0.0.1", "95.255.255.254"):
        state(port, a)
    mxdns(db, "add", "80.0.0.0/4", "--force")
    for a in ("80.0.0.1", "88.77.66.55", "95.255.255.254"):
        worst = max(worst, settle(port, a, L, "a /4", errors))
    for a in ("79.255.255.255", "96.0.0.0"):
        settle(port, a, "nx", "beside the /4", errors)
    print(f"filter cases: each visible within {worst * 1000:.0f} ms")


# The schema a writer leaves (BLSTORE_SCHEMA), as mdb_dump shows the record.
# The copy keeps the "str:" texts and version 2 values of schemas 4 and 5:
# this mxdnsd reads them whatever the schema record says. It drops the
# "fast:" answer index of schema 6 with the filters.
SCHEMA = "00000006"


def dump_edit_schema2(db, out):
    """A schema 2 copy of db: the meta records without the filters and
    with version 2 (mdb_dump's bytevalue format: a line per key and per
    value, hex, each starting with a space)."""
    text = subprocess.run(["mdb_dump", "-n", "-a", db], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    res, i, section, dropped = [], 0, None, 0
    while i < len(text):
        line = text[i]
        if line.startswith("database="):
            section = line.split("=", 1)[1]
        if section == "meta" and line.startswith(" ") and i + 1 < len(text):
            key, val = line[1:], text[i + 1][1:]
            i += 2
            if key.startswith(b"filt:".hex()):
                dropped += 1
                continue
            if key.startswith(b"fast:".hex()):
                continue
            if key == b"schema".hex():
                if val != SCHEMA:
                    raise RuntimeError(f"schema record {val}, expected {SCHEMA}")
                val = "00000002"
            res += [" " + key, " " + val]
            continue
        if not line.startswith("db_pagesize="):  # mdb_load does not take it back
            res.append(line)
        i += 1
    with open(out + ".dump", "w") as f:
        f.write("\n".join(res) + "\n")
    subprocess.run(["mdb_load", "-n", "-f", out + ".dump", out], check=True)
    return dropped


def schema2_phase(tmp, errors):
    if shutil.which("mdb_dump") is None or shutil.which("mdb_load") is None:
        print("SKIP (schema 2 part): mdb_dump/mdb_load (lmdb-utils) are not installed")
        return
    src, db = os.path.join(tmp, "s3.mdb"), os.path.join(tmp, "s2.mdb")
    mxdns(src, "add", "127.0.0.2", "192.0.2.1", "10.20.0.0/16", "!10.20.9.0/24")
    dropped = dump_edit_schema2(src, db)
    if dropped != 3:  # 127/8, 192/8, 10/8
        errors.append(f"schema 2 copy: {dropped} filter chunks dropped, want 3")
    port = free_port()
    daemon, why = start_daemon(tmp, "mxdnsd2.log", port, db)
    if daemon is None:
        errors.append("schema 2: " + why)
        return
    try:
        want = {"192.0.2.1": "listed 127.0.0.2", "10.20.1.1": "listed 127.0.0.2",
                "10.20.9.1": "nx", "192.0.2.2": "nx", "44.0.0.1": "nx", "127.0.0.1": "nx",
                "127.0.0.2": "listed 127.0.0.2"}
        for a, w in want.items():
            if state(port, a) != w:
                errors.append(f"schema 2 database: {a} answers {state(port, a)}, want {w}")
        # the writer upgrades it (filters, then the current version) and adds
        mxdns(db, "add", "44.0.0.1", "192.0.2.2")
        meta = subprocess.run(["mdb_dump", "-n", "-s", "meta", db], capture_output=True,
                              text=True, check=True).stdout
        if " " + b"schema".hex() + "\n " + SCHEMA not in meta:
            errors.append(f"schema 2 database not upgraded to {SCHEMA} by a write")
        if len(re.findall("^ " + b"filt:".hex(), meta, re.M)) != 4:
            errors.append("upgraded database: want 4 filter chunks (10/8, 44/8, 127/8, 192/8)")
        if len(re.findall("^ " + b"fast:".hex(), meta, re.M)) != 4:
            errors.append("upgraded database: want 4 answer index records (10/8, 44/8, 127/8, "
                          "192/8)")
        want.update({"44.0.0.1": "listed 127.0.0.2", "192.0.2.2": "listed 127.0.0.2"})
        for a, w in want.items():
            settle(port, a, w, "after the upgrade", errors)
        settle(port, "44.0.0.2", "nx", "after the upgrade", errors)
        print("schema 2 database served, then upgraded by a write while running")
    finally:
        daemon.terminate()
        try:
            daemon.wait(5)
        except subprocess.TimeoutExpired:
            daemon.kill()


def start_daemon(tmp, logname, port, db):
    """mxdnsd serving db, once it answers 192.0.2.1 as listed: (process,
    None), or (None, why) with the end of its log."""
    path = os.path.join(tmp, logname)
    with open(path, "w") as log:
        daemon = subprocess.Popen([MXDNSD, "--listen", f"127.0.0.1@{port}",
                                   "--dnsbl", f"{ZONE}:{db}"], stdout=log, stderr=log)
    deadline = time.time() + 15
    while True:
        try:
            if state(port, "192.0.2.1", 0.5) == "listed 127.0.0.2":
                return daemon, None
        except Exception:
            pass
        if time.time() > deadline or daemon.poll() is not None:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
            with open(path) as f:
                return None, "mxdnsd did not answer: " + f.read()[-500:]
        time.sleep(0.2)


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
        daemon, why = start_daemon(tmp, "mxdnsd.log", port, db)
        if daemon is None:
            print("FAIL: " + why)
            return 1

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
        filter_changes(port, db, errors)
        stop.set()
        for t in threads:
            t.join(10)
        print(f"{counts['queries']} queries in the loop, {len(errors)} errors")
        if counts["queries"] < 1000:
            errors.append(f"only {counts['queries']} queries ran: the loop did not really run")
        schema2_phase(tmp, errors)
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
