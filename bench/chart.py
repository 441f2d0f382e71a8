"""Draw bench/results/*.json as one SVG a person can look at.

    python3 bench/chart.py            (writes bench/results/chart.svg)

Top: each operation in process, every side of bench/run.sh (the floors,
captoken natively, in wasmtime and in Node, the peers), µs per call on a
log scale. Then verify throughput over HTTP, the gateway beside the peer,
per scenario, with the ratio; then where a gateway verify's CPU goes
(bench/profile.sh). Standard library only.
"""
import json
import os
import sys
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


def text(x, y, s, size=12, anchor="start", weight="normal"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" font-family="sans-serif">{escape(s)}</text>')


def bar(x, y, w, h, color):
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" height="{h:.1f}" fill="{color}"/>'


KIND_COLORS = {"floor": "#bab0ac", "captoken": COLORS[0], "peer": COLORS[1]}


def sides(results, x0, y0):
    """Every side of every operation, µs per call on a log scale."""
    import math
    rows = [(r["op"], side) for res in results for r in res["ops"] for side in r["sides"]]
    top = max(side["median_us"] for _, side in rows)
    low = min(side["median_us"] for _, side in rows)
    lo, hi = math.log10(low / 2), math.log10(top * 1.2)
    out = [text(x0, y0, "In process, µs per call (log scale; grey: the Ed25519 floors, blue: captoken, "
                "orange: peers)", 14, weight="bold")]
    y, width = y0 + 10, 330
    for res in results:
        for r in res["ops"]:
            out.append(text(x0, y + 20, f"{r['op']} ({res['where']})", 12, weight="bold"))
            y += 26
            for side in r["sides"]:
                w = width * (math.log10(side["median_us"]) - lo) / (hi - lo)
                out.append(text(x0, y + 12, side["side"], 10))
                out.append(bar(x0 + 350, y + 2, w, 12, KIND_COLORS.get(side["kind"], COLORS[4])))
                out.append(text(x0 + 355 + w, y + 12, f"{side['median_us']:,.1f} µs ({side['vs_floor']:.2f}x)", 10))
                y += 16
    return out, y


def throughput(http, x0, y0):
    out = [text(x0, y0, f"POST /v1/tokens/verify, {http['load']}", 14, weight="bold")]
    scenarios = http["verify"]
    top = max(s[server]["rps"] for s in scenarios.values() for server in ("gateway", "uncached", "peer") if server in s)
    width, y = 380, y0 + 24
    for name, s in scenarios.items():
        ratios = ", ".join(f"{k.replace('_over_peer', '')} / peer = {v:.2f}x" for k, v in s.items() if k.endswith("_over_peer"))
        out.append(text(x0, y + 12, f"{name} tokens: {ratios}", 12, weight="bold"))
        y += 20
        labels = {"gateway": "captoken gateway", "uncached": "gateway, no cache", "peer": "axum + jsonwebtoken"}
        for server, color in (("gateway", COLORS[0]), ("uncached", COLORS[3]), ("peer", COLORS[1])):
            if server not in s:
                continue
            w = width * s[server]["rps"] / top
            label = labels[server]
            out.append(text(x0, y + 13, label, 11))
            out.append(bar(x0 + 130, y, w, 18, color))
            out.append(text(x0 + 135 + w, y + 13,
                            f"{s[server]['rps']:,.0f} req/s, p99 {s[server]['p99_ms']:.1f} ms", 11))
            y += 24
        y += 12
    issue = http.get("issue")
    if issue:
        out.append(text(x0, y + 12, f"POST /v1/tokens, {issue['count']} one at a time: average "
                        f"{issue['average_ms']:.2f} ms, p99 {issue['p99_ms']:.2f} ms (seed bar: average < 10 ms)", 11))
        y += 24
    return out, y


def profile(prof, x0, y0):
    options = prof.get("serve_options", "")
    out = [text(x0, y0, f"Gateway verify ({options}): {prof['us_per_verify']:.0f} us of CPU each "
                f"(at {prof['rps']:,.0f} req/s, perf, own time per sample)", 14, weight="bold")]
    y, width = y0 + 16, 600
    x = x0
    for i, row in enumerate(prof["categories"]):
        w = width * row["share"]
        out.append(bar(x, y, w, 26, COLORS[i % len(COLORS)]))
        x += w
    y += 44
    for i, row in enumerate(prof["categories"]):
        out.append(bar(x0, y - 10, 12, 12, COLORS[i % len(COLORS)]))
        out.append(text(x0 + 18, y, f"{row['category']}: {row['share'] * 100:.1f}%, "
                        f"{row['us_per_verify']:.0f} us", 11))
        y += 18
    return out, y


def main():
    parts, height = [], 20
    found = []
    for name, where in (("sides.json", "Rust: native and wasmtime"), ("node.json", "Node")):
        path = os.path.join(RESULTS, name)
        if os.path.exists(path):
            found.append(dict(json.load(open(path)), where=where))
    if found:
        drawn, height = sides(found, 20, 30)
        parts += drawn
    http_path = os.path.join(RESULTS, "http.json")
    prof_path = os.path.join(RESULTS, "profile.json")
    if os.path.exists(http_path):
        drawn, height = throughput(json.load(open(http_path)), 20, height + 30)
        parts += drawn
    if os.path.exists(prof_path):
        drawn, height = profile(json.load(open(prof_path)), 20, height + 30)
        parts += drawn
    if not parts:
        sys.exit("chart: nothing in bench/results/ yet: run bench/run.sh and bench/profile.sh")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{height + 20}" '
           f'viewBox="0 0 900 {height + 20}"><rect width="100%" height="100%" fill="white"/>'
           + "".join(parts) + "</svg>\n")
    out = os.path.join(RESULTS, "chart.svg")
    with open(out, "w") as f:
        f.write(svg)
    print(f"written: {out}")


if __name__ == "__main__":
    main()
