#!/usr/bin/python3
"""Crash safety: kill -9 `mxdns bl import --replace` at random points.

The list holds an old set (200 entries around 198.51.100.0/24 and
127.0.0.2); each round replaces it with a new set of 300,000 entries and
kills the writer after a random delay (some before, some during, some
after the commit). After every kill:
  - mdb_stat reads the environment and mdb_dump walks every page
    (lmdb-utils) without error;
  - `mxdns bl stats` opens it and the list has exactly the old or the new
    number of entries, and `mxdns bl query` agrees with which one.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MXDNS = os.environ.get("MXDNS", "build/mxdns")
LIST = "crash.bl.test"
ROUNDS = 12
N_NEW = 300000


def run(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError(f"{args}: {p.returncode}: {p.stderr}")
    return p


def main():
    if shutil.which("mdb_stat") is None:
        print("SKIP: mdb_stat (lmdb-utils) is not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="dnsbl_crash.")
    db = os.path.join(tmp, "bl.mdb")
    old = os.path.join(tmp, "old.txt")
    new = os.path.join(tmp, "new.txt")
    failures = []
    random.seed(int(os.environ.get("SEED", time.time())))
    try:
        with open(old, "w") as f:
            f.write("127.0.0.2\n")
            for i in range(199):
                f.write("198.51.100.%d old\n" % i)
        with open(new, "w") as f:
            f.write("127.0.0.2\n")
            for i in range(N_NEW - 1):
                f.write("10.%d.%d.%d new\n" % (i >> 16, (i >> 8) & 255, i & 255))
        base = [MXDNS, "bl", "--db", db, "--list", LIST, "-q"]
        run(*base, "import", old, "--format", "plain")
        # how long an import takes, to spread the kills over it
        t0 = time.time()
        run(*base, "import", new, "--format", "plain", "--replace")
        full = time.time() - t0
        run(*base, "import", old, "--format", "plain", "--replace")
        outcomes = {"old": 0, "new": 0}
        for r in range(ROUNDS):
            src = new if r % 2 == 0 else old
            before = json.loads(run(MXDNS, "bl", "--db", db, "--list", LIST, "stats", "--json").stdout)
            n_before = sum(before["lists"][0][k] for k in ("ipv4", "ipv6", "domains"))
            p = subprocess.Popen(base + ["import", src, "--format", "plain", "--replace"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(random.uniform(0, full * 1.2))
            p.send_signal(signal.SIGKILL)
            p.wait()
            st = run("mdb_stat", "-n", "-a", db, check=False)
            if st.returncode != 0:
                failures.append(f"round {r}: mdb_stat: {st.stderr.strip()}")
                break
            dump = run("mdb_dump", "-n", "-a", db, check=False)
            if dump.returncode != 0:
                failures.append(f"round {r}: mdb_dump: {dump.stderr.strip()}")
                break
            s = run(MXDNS, "bl", "--db", db, "--list", LIST, "stats", "--json", check=False)
            if s.returncode != 0:
                failures.append(f"round {r}: stats failed: {s.stderr.strip()}")
                break
            lst = json.loads(s.stdout)["lists"][0]
            n = lst["ipv4"] + lst["ipv6"] + lst["domains"]
            is_new = run(MXDNS, "bl", "--db", db, "--list", LIST, "query", "10.0.0.5", check=False).returncode == 0
            is_old = run(MXDNS, "bl", "--db", db, "--list", LIST, "query", "198.51.100.5", check=False).returncode == 0
            if n == N_NEW and is_new and not is_old:
                outcomes["new"] += 1
            elif n == 200 and is_old and not is_new:
                outcomes["old"] += 1
            else:
                failures.append(f"round {r}: a mix: {n} entries, new={is_new} old={is_old} (before: {n_before})")
        print(f"{ROUNDS} kills (import takes {full:.2f} s): {outcomes}; database intact each time")
        if not failures and (outcomes["old"] == 0 and outcomes["new"] == 0):
            failures.append("no round finished")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
