"""The targets of one `make bench` run (issue 17), PASS or FAIL each, from the results the steps
appended to bench/results/*.jsonl during this run (lines older than --since are ignored: a step
that did not run shows as "not run"). Prints only; the exit status is always 0 (the targets are
goals, reported, not gates; bench/README.md).
"""

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

CAPTURE_TARGET = 0.15
E2E_TARGET = 0.10


def last_record(path: Path, since: float) -> dict[str, Any] | None:
    if not path.exists():
        return None
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        return None
    record = json.loads(lines[-1])
    ts = datetime.fromisoformat(record["ts"]).timestamp()
    return record if ts >= since else None


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--since", type=float, required=True, help="epoch seconds")
    args = parser.parse_args()

    rows: list[tuple[str, str, str]] = []
    capture = last_record(args.results / "capture.jsonl", args.since)
    if capture and capture.get("capture_ratio") is not None:
        ratio = capture["capture_ratio"]
        rows.append(
            (
                f"capture ratio >= {CAPTURE_TARGET}",
                f"{ratio:.3f} ({capture['oms']['orders_per_s']} / "
                f"{capture['floor']['uniform']['tps']:.1f} orders/s)",
                verdict(ratio >= CAPTURE_TARGET),
            )
        )
    else:
        rows.append((f"capture ratio >= {CAPTURE_TARGET}", "not run", "-"))

    e2e = last_record(args.results / "e2e.jsonl", args.since)
    if e2e and e2e.get("e2e_ratio") is not None:
        rows.append(
            (
                f"end-to-end ratio >= {E2E_TARGET}",
                f"{e2e['e2e_ratio']:.3f} ({e2e['full']['pipeline_per_s']:.1f} / "
                f"{e2e['floor']['tps']:.1f} orders/s)",
                verdict(e2e["e2e_ratio"] >= E2E_TARGET),
            )
        )
        paced = e2e.get("paced") or {}
        if paced:
            keeps_up = paced["orchestrated_per_s"] >= 0.95 * paced["captured_per_s"]
            rows.append(
                (
                    "no backlog growth (paced)",
                    f"backlog {paced['backlog_start']} -> {paced['backlog_end']} at "
                    f"{paced['captured_per_s']:.1f}/s; capture->release p50/p99 "
                    f"{paced['latency_p50_ms']:.0f}/{paced['latency_p99_ms']:.0f} ms",
                    verdict(keeps_up),
                )
            )
    else:
        rows.append((f"end-to-end ratio >= {E2E_TARGET}", "not run", "-"))

    routing = last_record(args.results / "routing.jsonl", args.since)
    if routing:
        route = routing["route_order"]
        targets = routing.get("targets", {})
        for size in ("1", "3", "10"):
            if size not in route:
                continue
            target = targets.get(size)
            rows.append(
                (
                    f"route_order p99, {size} line{'s' if size != '1' else ''}"
                    + (f" <= {target['p99_ms_max']:g} ms" if target else ""),
                    f"{route[size]['p99_ms']:.2f} ms",
                    verdict(target["pass"]) if target else "(no target)",
                )
            )
        availability = routing.get("availability")
        if availability and availability.get("floor"):
            floor = availability["floor"]
            rows.append(
                (
                    "availability p99 <= 15 ms",
                    f"{availability['p99_ms']:.2f} ms (floor p99 {floor['p99_ms']:.2f} ms)",
                    verdict(availability["p99_ms"] <= 15.0),
                )
            )
            rows.append(
                (
                    f"availability >= 400 req/s, {availability['clients']} clients",
                    f"{availability['requests_per_s']} req/s (floor {floor['tps']:.0f} req/s, "
                    f"ratio {availability['requests_per_s'] / floor['tps']:.3f})",
                    verdict(availability["requests_per_s"] >= 400.0),
                )
            )
    else:
        rows.append(("routing and availability", "not run", "-"))

    history = last_record(args.results / "history.jsonl", args.since)
    if history:
        label = f"history {history['small']['orders']:,} vs {history['big']['orders']:,} orders"
        for name, row in history["rows"].items():
            rows.append(
                (
                    f"{label}: {name} <= 1.15x",
                    f"{row['ratio']:.2f}x (p50 {row['small']['p50_ms']:.1f} -> "
                    f"{row['big']['p50_ms']:.1f} ms)",
                    verdict(row["pass"]),
                )
            )
        kpi = history["rows"].get("KPI dashboard")
        if kpi:
            rows.append(
                (
                    f"KPI dashboard <= 200 ms at {history['big']['orders']:,} orders",
                    f"{kpi['big']['p50_ms']:.0f} ms",
                    verdict(kpi["big"]["p50_ms"] <= 200),
                )
            )
    else:
        rows.append(("history comparison", "not run", "-"))
    scale = last_record(args.results / "scaleout.jsonl", args.since)
    if scale:
        relay = [r for r in scale["rows"] if r["what"].startswith("outbox relay")]
        duplicated = sum(int(r["what"].split("(events/s, ")[1].split()[0]) for r in relay)
        measured = sum(1 for r in scale["rows"] if r["per_s"] is not None)
        rows.append(
            (
                "scale-out table; relays never duplicate",
                f"{measured} of {len(scale['rows'])} rows measured (table above), "
                f"{duplicated} duplicated deliveries",
                verdict(measured == len(scale["rows"]) and duplicated == 0),
            )
        )
    else:
        rows.append(("scale-out table", "not run", "-"))

    width = max(len(name) for name, _, _ in rows)
    print()
    print("== targets (issue 17), this run")
    for name, value, result in rows:
        print(f"  {name:<{width}}  {result:<4}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
