"""test_publish_crash: kill -9 `mxdns zone add` at random points of a zone
edit, 200 times; after each kill the zone file is byte for byte either the
old text or the new one (never a mix, never truncated), and it loads
(`mxdns zone check`, the daemon's own loader).

The zone is large (4000 records) so an edit takes a while, and on every
other run MXDNS_TEST_SLOW_WRITE (a test-only hook in zones/zonefile.c)
sleeps between the steps of the commit (temporary file created, half
written, written and fsynced, checked, renamed), so the kills land inside
each step and not only in parsing.

A killed edit may leave its temporary file (.NAME.mxdns-tmp.XXXXXX); the
next edit removes it under the lock, so at most one is ever seen, and none
after a clean run at the end.

Run by ctest with MXDNS set; /usr/bin/python3."""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mxtest  # noqa: E402

ITERATIONS = 200
N_RECORDS = 4000


def zone_text(serial):
    lines = ["; crash test zone\n", "$ORIGIN crash.test.\n", "$TTL 300\n",
             "@ IN SOA ns1 hostmaster ( %d ; serial\n\t3600 600 86400 300 )\n" % serial,
             "\tIN NS ns1\n", "ns1 IN A 192.0.2.1\n"]
    for i in range(N_RECORDS):
        lines.append("h%d IN A 10.%d.%d.%d ; host %d\n" % (i, i >> 16 & 255, i >> 8 & 255, i & 255, i))
    return "".join(lines)


def main():
    mxdns = mxtest.binary("MXDNS", "mxdns")
    rng = random.Random(int(os.environ.get("MXTEST_SEED", "4242")))
    failures = []
    with mxtest.workdir("mxtest-crash-") as d:
        zf = os.path.join(d, "crash.test.zone")
        serial = 1000
        text = zone_text(serial)
        with open(zf, "w") as f:
            f.write(text)

        def run(k, env_extra=None, kill_after=None):
            env = dict(os.environ)
            env.pop("MXDNS_TEST_SLOW_WRITE", None)
            if env_extra:
                env.update(env_extra)
            argv = [mxdns, "zone", "add", zf, "n%d IN A 198.51.100.%d" % (k, k % 250 + 1),
                    "--origin", "crash.test", "--no-reload"]
            p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            if kill_after is not None:
                time.sleep(kill_after)
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _, err = p.communicate(timeout=120)
            return p.returncode, err.decode("utf-8", "replace")

        def new_text(old, old_serial, k):
            t = old.replace("( %d ; serial" % old_serial, "( %d ; serial" % (old_serial + 1), 1)
            return t + "n%d\tIN\tA\t198.51.100.%d\n" % (k, k % 250 + 1)

        # calibrate: how long an uninterrupted edit takes, with and without the hook
        t0 = time.monotonic()
        rc, err = run(0)
        plain = time.monotonic() - t0
        expect = new_text(text, serial, 0)
        if rc != 0 or open(zf).read() != expect:
            print("FAIL: the uninterrupted edit did not give the expected text:", err)
            return 1
        text, serial = expect, serial + 1
        t0 = time.monotonic()
        rc, err = run(1, {"MXDNS_TEST_SLOW_WRITE": "8"})
        slow = time.monotonic() - t0
        expect = new_text(text, serial, 1)
        if rc != 0 or open(zf).read() != expect:
            print("FAIL: the slowed edit did not give the expected text:", err)
            return 1
        text, serial = expect, serial + 1
        print("an edit takes %.0f ms (%.0f ms with MXDNS_TEST_SLOW_WRITE=8)" % (plain * 1000, slow * 1000))

        outcomes = {"old": 0, "new": 0, "finished": 0}
        most_temps = 0
        for k in range(2, ITERATIONS + 2):
            slowed = k % 2 == 0
            limit = slow if slowed else plain
            # Every tenth edit runs to the end, so "new" outcomes happen
            # whatever the machine's load does to the calibration; the
            # others are killed anywhere up to half again the edit's time.
            kill = None if k % 10 == 0 else rng.uniform(0, limit * 1.5)
            rc, err = run(k, {"MXDNS_TEST_SLOW_WRITE": "8"} if slowed else None, kill_after=kill)
            now = open(zf).read()
            expect = new_text(text, serial, k)
            if now == text:
                outcomes["old"] += 1
            elif now == expect:
                outcomes["new"] += 1
                text, serial = expect, serial + 1
            else:
                failures.append("iteration %d: the file is neither the old nor the new text "
                                "(%d bytes; old %d, new %d)" % (k, len(now), len(text), len(expect)))
                break
            if rc == 0:
                outcomes["finished"] += 1
            elif rc != -signal.SIGKILL:
                failures.append("iteration %d: exit %d: %s" % (k, rc, err.strip()))
            temps = [n for n in os.listdir(d) if ".mxdns-tmp." in n]
            most_temps = max(most_temps, len(temps))
            if len(temps) > 1:
                failures.append("iteration %d: %d temporary files: %s" % (k, len(temps), temps))
                break
            if k % 10 == 0 or now == expect:
                p = subprocess.run([mxdns, "zone", "check", zf, "--origin", "crash.test"],
                                   capture_output=True, text=True, timeout=60)
                if p.returncode != 0 or not p.stdout.startswith("loaded crash.test. serial=%d" % serial):
                    failures.append("iteration %d: zone check: %s %s" % (k, p.stdout, p.stderr))
                    break
        print("outcomes: %s; at most %d stale temporary file(s) at once" % (outcomes, most_temps))
        if outcomes["old"] == 0 or outcomes["new"] == 0:
            failures.append("the kills never left the %s text: timing did not cover the edit"
                            % ("old" if outcomes["old"] == 0 else "new"))
        # a clean edit removes whatever a killed one left
        k = ITERATIONS + 10
        rc, err = run(k)
        if rc != 0 or open(zf).read() != new_text(text, serial, k):
            failures.append("the final clean edit failed: %s" % err)
        temps = [n for n in os.listdir(d) if ".mxdns-tmp." in n]
        if temps:
            failures.append("temporary files left after a clean edit: %s" % temps)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
