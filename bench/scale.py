#!/usr/bin/env python3
"""The numbers of docs/SCALE.md, from a model of a deployment and a few
measured inputs. Standard library only; runs anywhere Python 3 does.

    python3 bench/scale.py                      # the deployment SCALE.md describes
    python3 bench/scale.py --gateways 20 --json # another one, as JSON

What it computes, for G gateways sharing one PostgreSQL database:
  - the database's load per second (writes, by kind, and reads), on average
    and at a peak hour, against the write ceiling measured for the store's
    serialized writes (--write-ceiling, from bench/http.sh's issue rounds on
    PostgreSQL);
  - the revocation lists a browser downloads: the signed id list (built
    here, entry by entry, as the gateway writes it) and a status list (one
    bit per issued token, zlib-compressed exactly as the gateway does),
    their sizes, and the download cost at a given bandwidth;
  - propagation: a revocation acknowledged by one gateway is refused by
    every other at its next verify (each reads the shared table), so the
    delay is that verify's own round trip (--propagation-ms, measured by
    host/tests/gateway/shared.rs);
  - what breaks first, and at what scale.

Everything random is seeded: the same arguments print the same numbers.
"""

import argparse
import base64
import json
import random
import zlib

DAY = 86_400


def id_list_bytes(revoked, seed):
    """The signed revocation list's payload for `revoked` ids, as JSON:
    each entry {"jti", "revoked_at", "reason"}, a 22-character jti (128
    bits, base64url), a ten-digit time and the default reason."""
    rng = random.Random(seed)
    entries = []
    for _ in range(revoked):
        jti = base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()
        entries.append({"jti": jti, "revoked_at": 1_780_000_000 + rng.randrange(DAY),
                        "reason": "unspecified"})
    entries.sort(key=lambda e: e["jti"])
    payload = json.dumps({"seq": revoked, "revoked": entries}, separators=(",", ":"))
    # A JWS: header and payload base64url, then a 64-byte signature.
    return len(payload) * 4 // 3 + 120


# The DEFLATE length codes (RFC 1951): base lengths and extra bits.
LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83,
               99, 115, 131, 163, 195, 227, 258]
LENGTH_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]


def captoken_zlib_len(data):
    """The length of what core's zlib::compress writes for `data`: one
    fixed-Huffman block, each run of equal bytes as a literal and
    distance-one matches (3..258, a remainder of 1 or 2 as literals)."""
    def literal_bits(symbol):
        return 8 if symbol < 144 else 9 if symbol < 256 else 7 if symbol < 280 else 8
    bits, i = 3, 0
    while i < len(data):
        byte, j = data[i], i
        while j < len(data) and data[j] == byte:
            j += 1
        bits += literal_bits(byte)
        left = j - i - 1
        while left >= 3:
            length = min(left, 258)
            if 0 < left - length < 3:
                length -= 3
            index = max(k for k, base in enumerate(LENGTH_BASE) if base <= length)
            bits += literal_bits(257 + index) + LENGTH_EXTRA[index] + 5
            left -= length
        bits += left * literal_bits(byte)
        i = j
    bits += 7  # end of block
    return 2 + (bits + 7) // 8 + 4  # header, data, Adler-32


def status_list_bytes(issued, revoked, seed):
    """A status list of `issued` tokens (bit i is bit i % 8, least
    significant first, of byte i // 8) with `revoked` of them set at
    random: the length core's writer compresses it to, zlib -9's for
    comparison, and the signed list's (lst is base64url inside a
    base64url payload)."""
    rng = random.Random(seed)
    bits = bytearray((issued + 7) // 8)
    for index in rng.sample(range(issued), revoked):
        bits[index // 8] |= 1 << (index % 8)
    ours = captoken_zlib_len(bytes(bits))
    best = len(zlib.compress(bytes(bits), 9))
    return ours, best, (ours * 4 // 3 + 150) * 4 // 3 + 130


def model(args):
    tokens_per_second = args.tokens_per_day / DAY
    peak = args.peak_factor
    # Writes: an issue is one transaction (row + audit record); a
    # revocation one (id + rows + seq + record); a single-use verify one
    # (replay-guard row), a delegation recorded one (row + edge + record).
    writes = {
        "issue": tokens_per_second,
        "revoke": args.revocations_per_day / DAY,
        "single_use_spend": tokens_per_second * args.single_use_share * args.uses_per_token,
        "grant": tokens_per_second * args.delegated_share,
    }
    write_total = sum(writes.values())
    # Reads: every verify looks each id of its chain up in sec_revocations
    # (one primary-key read each); the revocation list and status list are
    # re-read by each gateway when its cached copy goes stale.
    verifies = tokens_per_second * args.uses_per_token
    chain = 1 + args.delegated_share
    reads = {
        "verify_revocation_lookups": verifies * chain,
        "list_rebuilds": args.gateways * 2 / args.list_interval,
    }
    read_total = sum(reads.values())
    raw, best, status_jwt = status_list_bytes(args.issued_live, args.live_revocations, args.seed)
    id_list = id_list_bytes(args.live_revocations, args.seed)
    bandwidth = args.browser_mbit * 1_000_000 / 8
    out = {
        "inputs": vars(args),
        "database": {
            "writes_per_second": {k: round(v, 2) for k, v in writes.items()},
            "writes_per_second_total": round(write_total, 2),
            "writes_per_second_peak": round(write_total * peak, 2),
            "write_ceiling_per_second": args.write_ceiling,
            "write_headroom_at_peak": round(args.write_ceiling / (write_total * peak), 1),
            "reads_per_second": {k: round(v, 2) for k, v in reads.items()},
            "reads_per_second_total": round(read_total, 2),
            "reads_per_second_peak": round(read_total * peak, 2),
            "connections": args.gateways * (1 + args.readers_per_gateway),
        },
        "propagation_ms": args.propagation_ms,
        "lists": {
            "id_list_bytes": id_list,
            "id_list_fits_the_1_mib_limit": id_list <= 1 << 20,
            "status_list_compressed_bytes": raw,
            "status_list_zlib9_bytes": best,
            "status_list_jwt_bytes": status_jwt,
            "status_list_download_ms": round(status_jwt / bandwidth * 1000, 1),
            "id_list_download_ms": round(id_list / bandwidth * 1000, 1),
        },
    }
    # What breaks first: the first of the limits the load reaches, and the
    # scale (times today's load) at which it does.
    limits = [
        ("the serialized write path (one advisory lock)",
         args.write_ceiling / (write_total * peak)),
        ("PostgreSQL connections (max_connections)",
         args.max_connections / out["database"]["connections"]),
        ("the signed id list's 1 MiB ceiling",
         (1 << 20) / id_list),
    ]
    limits.sort(key=lambda item: item[1])
    out["breaks_first"] = [{"limit": name, "at_times_this_load": round(factor, 1)}
                           for name, factor in limits]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gateways", type=int, default=100)
    p.add_argument("--tokens-per-day", type=float, default=1_000_000)
    p.add_argument("--live-revocations", type=int, default=10_000)
    p.add_argument("--revocations-per-day", type=float, default=10_000,
                   help="new revocations a day (tokens live a day, so about the live count)")
    p.add_argument("--issued-live", type=int, default=1_000_000,
                   help="tokens a status list covers (one day's, at a day's TTL)")
    p.add_argument("--uses-per-token", type=float, default=20,
                   help="verifies of each token over its life")
    p.add_argument("--single-use-share", type=float, default=0.05)
    p.add_argument("--delegated-share", type=float, default=0.2)
    p.add_argument("--peak-factor", type=float, default=5,
                   help="peak hour over the day's average")
    p.add_argument("--list-interval", type=float, default=300,
                   help="seconds a signed list stays fresh (--revocation-list-interval)")
    p.add_argument("--readers-per-gateway", type=int, default=2,
                   help="reader connections a gateway keeps at this load (up to 16 when busy)")
    p.add_argument("--max-connections", type=int, default=100,
                   help="PostgreSQL's max_connections (its default is 100)")
    p.add_argument("--write-ceiling", type=float, default=899,
                   help="serialized writes a second the database takes (measured: docs/SCALE.md)")
    p.add_argument("--propagation-ms", type=float, default=0.96,
                   help="revoked on one gateway to refused by another (measured: docs/SCALE.md)")
    p.add_argument("--browser-mbit", type=float, default=10)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    out = model(args)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    db, lists = out["database"], out["lists"]
    print(f"{args.gateways} gateways, {args.tokens_per_day:,.0f} tokens a day, "
          f"{args.live_revocations:,} live revocations")
    print("database writes/s (average):")
    for kind, rate in db["writes_per_second"].items():
        print(f"  {kind:<28} {rate:>10.2f}")
    print(f"  {'total':<28} {db['writes_per_second_total']:>10.2f}"
          f"   peak {db['writes_per_second_peak']:.1f}"
          f"   ceiling {db['write_ceiling_per_second']:.0f}"
          f"   headroom {db['write_headroom_at_peak']}x")
    print("database reads/s (average):")
    for kind, rate in db["reads_per_second"].items():
        print(f"  {kind:<28} {rate:>10.2f}")
    print(f"  {'total':<28} {db['reads_per_second_total']:>10.2f}"
          f"   peak {db['reads_per_second_peak']:.1f}")
    print(f"connections to the database: {db['connections']}")
    print(f"propagation: {out['propagation_ms']} ms (the next verify after the acknowledgement)")
    print(f"signed id list: {lists['id_list_bytes']:,} bytes"
          f" ({lists['id_list_download_ms']} ms at {args.browser_mbit:g} Mbit/s;"
          f" fits 1 MiB: {lists['id_list_fits_the_1_mib_limit']})")
    print(f"status list: {lists['status_list_compressed_bytes']:,} bytes compressed"
          f" (zlib -9: {lists['status_list_zlib9_bytes']:,}),"
          f" {lists['status_list_jwt_bytes']:,} as a signed JWT"
          f" ({lists['status_list_download_ms']} ms)")
    print("what breaks first (times this load):")
    for item in out["breaks_first"]:
        print(f"  {item['at_times_this_load']:>8}x  {item['limit']}")


if __name__ == "__main__":
    main()
