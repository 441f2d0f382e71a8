#!/usr/bin/env python3
"""Revocation propagation between two gateways on one store.

    python3 bench/propagation.py A B ADMIN N ISSUE_BODY

N times: issue a token through A, verify it on B (200), revoke it through
A, then verify on B until B refuses it (401 revoked), timing from A's 200
to B's refusal. Prints JSON: median, p99 and max in milliseconds, and how
many verifies on B the refusal took (1 when B refuses at its first look).
"""

import json
import statistics
import sys
import time
import urllib.error
import urllib.request


def call(base, path, body, admin=None):
    headers = {"Content-Type": "application/json"}
    if admin:
        headers["Authorization"] = f"Bearer {admin}"
    request = urllib.request.Request(f"{base}{path}", json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def main():
    a, b, admin, n, body_file = sys.argv[1:6]
    body = json.load(open(body_file))
    delays, looks = [], []
    for _ in range(int(n)):
        status, issued = call(a, "/v1/tokens", body, admin)
        assert status == 201, issued
        status, answer = call(b, "/v1/tokens/verify", {"token": issued["token"]})
        assert status == 200, answer
        status, answer = call(a, "/v1/tokens/revoke", {"jti": issued["jti"]}, admin)
        assert status == 200, answer
        acknowledged = time.perf_counter()
        tries = 0
        while True:
            tries += 1
            status, answer = call(b, "/v1/tokens/verify", {"token": issued["token"]})
            if status == 401 and answer.get("error") == "revoked":
                break
            assert status == 200, answer
            assert tries < 10_000, "B never refused the revoked token"
        delays.append((time.perf_counter() - acknowledged) * 1000)
        looks.append(tries)
    delays.sort()
    print(json.dumps({
        "n": len(delays),
        "median_ms": round(statistics.median(delays), 2),
        "p99_ms": round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 2),
        "max_ms": round(delays[-1], 2),
        "verifies_until_refused_max": max(looks),
    }))


if __name__ == "__main__":
    main()
