"""Issue tokens through a gateway's POST /v1/tokens, one request at a time,
as the seed's acceptance test does ("generate 1,000 tokens"), and time each.

    python3 bench/issue.py <http://addr> <admin token> <count> <tokens file> <json out>

Each request is the seed how-to's own body: a fresh raw Ed25519 public key
(random bytes are refused unless they are a point, so the keys come from
the standard library's os.urandom through the gateway's own check: the
script retries the rare non-point), scope INPUT, a day asked for. Prints
the average and percentiles of the latency as the client sees it (one
keep-alive connection, Python's http.client), writes the tokens one per
line and the numbers as JSON.
"""
import base64
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse


def main():
    url, admin, count, tokens_path, json_path = sys.argv[1:6]
    count = int(count)
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin}"}
    tokens, latencies, refused = [], [], 0
    while len(tokens) < count:
        body = json.dumps({
            "subject_pubkey": base64.b64encode(os.urandom(32)).decode(),
            "scope": "INPUT",
            "expires_in_seconds": 86400,
        })
        start = time.perf_counter()
        conn.request("POST", "/v1/tokens", body, headers)
        reply = conn.getresponse()
        data = reply.read()
        elapsed = time.perf_counter() - start
        if reply.status == 400 and b"bad_key" in data:
            # 32 random bytes are a curve point about half the time.
            refused += 1
            if refused > 10 * count:
                sys.exit(f"issue: keys refused {refused} times: {data[:200]!r}")
            continue
        if reply.status != 201:
            sys.exit(f"issue: {reply.status} {data[:300]!r}")
        latencies.append(elapsed * 1000)
        tokens.append(json.loads(data)["token"])
    with open(tokens_path, "w") as out:
        out.write("\n".join(tokens) + "\n")
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    result = {
        "count": count,
        "average_ms": statistics.fmean(latencies),
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": ordered[-1],
    }
    with open(json_path, "w") as out:
        json.dump(result, out, indent=2)
    print(f"issue: {count} tokens through POST /v1/tokens, one at a time: "
          f"average {result['average_ms']:.2f} ms, p50 {result['p50_ms']:.2f} ms, "
          f"p99 {result['p99_ms']:.2f} ms, max {result['max_ms']:.2f} ms "
          f"(the seed's bar: average < 10 ms)")


if __name__ == "__main__":
    main()
