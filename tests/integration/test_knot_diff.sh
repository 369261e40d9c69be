#!/bin/bash
# test_knot_diff: the differential corpus of test_nsd_diff.py with Knot DNS
# as the reference instead of NSD. The two peers differ in places the RFCs
# allow (Knot adds EDE and NSID, follows CNAME loops further); the rules
# for those are in test_nsd_diff.py and every difference is counted there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v knotd >/dev/null || [ -x /usr/sbin/knotd ] || { echo "knotd is not installed" >&2; exit 1; }
exec /usr/bin/python3 "$here/test_nsd_diff.py" --ref knot --peer mxdnsd "$@"
