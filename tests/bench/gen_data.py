#!/usr/bin/python3
"""Benchmark data: mail zones and DNSBL lists, with dnsperf query files.

  gen_data.py mail --records N --out DIR [--zones K] [--queries Q] [--seed S]
      Writes DIR/zoneK.zone (K zones z0.bench. .. z{K-1}.bench.), each
      holding many mail domains (d<i>.z<k>.bench.) with MX, A, AAAA, apex
      TXT SPF, DKIM TXT (2048-bit key size), DMARC TXT and TLSA, about N
      records in all; DIR/zones.txt lists "NAME FILE" per zone;
      DIR/queries.txt holds Q queries in dnsperf format with the mail mix
      (MX 30%, A 15%, AAAA 10%, apex TXT 10%, DKIM TXT 10%, DMARC TXT 15%,
      TLSA 5%, NXDOMAIN 5%); DIR/probe.txt names one existing MX owner.

  gen_data.py dnsbl --entries N --out DIR [--queries Q] [--seed S]
      Writes DIR/list4.ip4set (N - N/100 IPv4 entries, 2% of them /24
      ranges, rbldnsd ip4set format), DIR/list6.ip6trie (N/100 IPv6 /64
      prefixes, ip6trie format) and DIR/queries.txt for the zone
      bl.bench.: 40% listed, 55% unlisted IPv4, 5% IPv6 (half listed).

Deterministic for a given seed, so every server and every round sees the
same data. Uses only the standard library.
"""
import argparse
import base64
import ipaddress
import os
import random
import sys

# Records per mail domain written by mail_domain(); keeps --records honest.
RR_PER_DOMAIN = 11


def mail_domain(w, rnd, i, d):
    """Writes one domain's records (RR_PER_DOMAIN of them)."""
    a = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    b = "10.%d.%d.%d" % (128 | ((i >> 16) & 127), (i >> 8) & 255, i & 255)
    v6 = "2001:db8:%x:%x::1" % ((i >> 16) & 0xFFFF, i & 0xFFFF)
    key = base64.b64encode(rnd.randbytes(294)).decode()  # 2048-bit SPKI size
    tlsa = rnd.randbytes(32).hex()
    w("%s 3600 IN MX 10 mx1.%s\n" % (d, d))
    w("%s 3600 IN MX 20 mx2.%s\n" % (d, d))
    w("%s 3600 IN A %s\n" % (d, a))
    w("%s 3600 IN AAAA %s\n" % (d, v6))
    w('%s 3600 IN TXT "v=spf1 mx ip4:%s/32 include:_spf.bench -all"\n' % (d, b))
    w("mx1.%s 3600 IN A %s\n" % (d, a))
    w("mx1.%s 3600 IN AAAA %s\n" % (d, v6))
    w("mx2.%s 3600 IN A %s\n" % (d, b))
    # RFC 6376 §3.6.2.2: a TXT record's strings are concatenated; 255 max each.
    k = "v=DKIM1; k=rsa; p=" + key
    parts = " ".join('"%s"' % k[j:j + 255] for j in range(0, len(k), 255))
    w("sel1._domainkey.%s 3600 IN TXT %s\n" % (d, parts))
    w('_dmarc.%s 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@%s"\n' % (d, d.rstrip(".")))
    w("_25._tcp.mx1.%s 3600 IN TLSA 3 1 1 %s\n" % (d, tlsa))


MAIL_MIX = [
    (30, "MX"), (15, "A"), (10, "AAAA"), (10, "TXT"), (10, "DKIM"),
    (15, "DMARC"), (5, "TLSA"), (5, "NX"),
]


def mail(args):
    rnd = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    n_dom = max(1, args.records // RR_PER_DOMAIN)
    zones = ["z%d.bench." % k for k in range(args.zones)]
    per_zone = [[] for _ in zones]
    for i in range(n_dom):
        per_zone[i % len(zones)].append(i)
    listing = []
    total = 0
    for k, z in enumerate(zones):
        path = os.path.join(args.out, "zone%d.zone" % k)
        with open(path, "w") as f:
            w = f.write
            w("$ORIGIN %s\n$TTL 3600\n" % z)
            w("@ IN SOA ns1.%s hostmaster.%s 1 7200 3600 1209600 300\n" % (z, z))
            w("@ IN NS ns1.%s\n@ IN NS ns2.%s\n" % (z, z))
            w("ns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2\n")
            total += 5
            for i in per_zone[k]:
                mail_domain(w, rnd, i, "d%d.%s" % (i, z))
                total += RR_PER_DOMAIN
        listing.append("%s %s\n" % (z, path))
    with open(os.path.join(args.out, "zones.txt"), "w") as f:
        f.writelines(listing)
    with open(os.path.join(args.out, "probe.txt"), "w") as f:
        f.write("d%d.%s MX\n" % (per_zone[0][0], zones[0]))

    weights = [m[0] for m in MAIL_MIX]
    kinds = [m[1] for m in MAIL_MIX]
    with open(os.path.join(args.out, "queries.txt"), "w") as f:
        for _ in range(args.queries):
            i = rnd.randrange(n_dom)
            d = "d%d.%s" % (i, zones[i % len(zones)])
            kind = rnd.choices(kinds, weights)[0]
            if kind == "MX":
                f.write("%s MX\n" % d)
            elif kind == "A":
                f.write("mx%d.%s A\n" % (1 + (i & 1), d))
            elif kind == "AAAA":
                f.write("mx1.%s AAAA\n" % d)
            elif kind == "TXT":
                f.write("%s TXT\n" % d)
            elif kind == "DKIM":
                f.write("sel1._domainkey.%s TXT\n" % d)
            elif kind == "DMARC":
                f.write("_dmarc.%s TXT\n" % d)
            elif kind == "TLSA":
                f.write("_25._tcp.mx1.%s TLSA\n" % d)
            else:
                f.write("nx%d.%s A\n" % (rnd.randrange(1 << 30), d))
    print("mail: %d records, %d domains, %d zone(s), %d queries in %s"
          % (total, n_dom, len(zones), args.queries, args.out))


def rev4(ip):
    return ".".join(reversed(str(ip).split(".")))


def rev6(ip):
    return ".".join(reversed(ipaddress.IPv6Address(ip).exploded.replace(":", "")))


def dnsbl(args):
    rnd = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    n6 = max(1, args.entries // 100)
    n4 = max(1, args.entries - n6)
    singles = []
    seen = set()
    with open(os.path.join(args.out, "list4.ip4set"), "w") as f:
        f.write(":127.0.0.2:Listed, see https://bl.bench/lookup?ip=$\n")
        n = 0
        while n < n4:
            # Public-looking space, away from 0/8, 10/8, 127/8 and 224/3.
            v = rnd.randrange(0x0B000000, 0xDF000000)
            if rnd.random() < 0.02:
                v &= 0xFFFFFF00
                if (v | 1) in seen:
                    continue
                seen.add(v | 1)
                f.write("%s/24\n" % ipaddress.IPv4Address(v))
            else:
                if v in seen:
                    continue
                seen.add(v)
                singles.append(v)
                f.write("%s\n" % ipaddress.IPv4Address(v))
            n += 1
    pfx6 = []
    with open(os.path.join(args.out, "list6.ip6trie"), "w") as f:
        f.write(":127.0.0.2:Listed, see https://bl.bench/lookup?ip=$\n")
        for _ in range(n6):
            p = (0x2a00 << 112) | (rnd.getrandbits(48) << 64)
            pfx6.append(p)
            f.write("%s/64\n" % ipaddress.IPv6Address(p))
    with open(os.path.join(args.out, "probe.txt"), "w") as f:
        f.write("%s.bl.bench. A\n" % rev4(ipaddress.IPv4Address(singles[0])))
    with open(os.path.join(args.out, "queries.txt"), "w") as f:
        for _ in range(args.queries):
            r = rnd.random()
            if r < 0.05:
                if r < 0.025:
                    a = pfx6[rnd.randrange(len(pfx6))] | rnd.getrandbits(64)
                else:
                    a = (0x2a01 << 112) | rnd.getrandbits(112)
                f.write("%s.bl.bench A\n" % rev6(ipaddress.IPv6Address(a)))
            elif r < 0.45:
                ip = ipaddress.IPv4Address(singles[rnd.randrange(len(singles))])
                f.write("%s.bl.bench A\n" % rev4(ip))
            else:
                # Unlisted, spread over the listed space as real traffic
                # is (a block below every key would sit in one cached
                # page and flatter any sorted store).
                while True:
                    v = rnd.randrange(0x0B000000, 0xDF000000)
                    if v not in seen and (v & 0xFFFFFF00 | 1) not in seen:
                        break
                f.write("%s.bl.bench A\n" % rev4(ipaddress.IPv4Address(v)))
    print("dnsbl: %d IPv4 entries, %d IPv6 prefixes, %d queries in %s"
          % (n4, n6, args.queries, args.out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mail")
    m.add_argument("--records", type=int, required=True)
    m.add_argument("--zones", type=int, default=1)
    d = sub.add_parser("dnsbl")
    d.add_argument("--entries", type=int, required=True)
    for p in (m, d):
        p.add_argument("--out", required=True)
        p.add_argument("--queries", type=int, default=200000)
        p.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "mail":
        mail(args)
    else:
        dnsbl(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
