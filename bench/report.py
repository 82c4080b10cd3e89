"""Combine one bench run: the OMS load result (JSON from capture_load.py) and the SQL floor's
output (run_floor.sh). Prints the capture ratio, appends one JSON line to the results file and
exits non-zero if the run is not valid (too many errors, floor not parsed, lost orders).
"""

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

FLOOR_LINE = re.compile(
    r"^(?P<name>\S+)\s+c=(?P<c>\d+)\s+tps=(?P<tps>[0-9.]+).*?"
    r"p50/p99_ms=(?P<p50>[0-9.]+)/(?P<p99>[0-9.]+).*?failed=(?P<failed>\S+)"
)


def parse_floor(text: str) -> dict[str, dict[str, float | str]]:
    runs = {}
    for line in text.splitlines():
        m = FLOOR_LINE.match(line.strip())
        if m:
            kind = m["name"].split("-r")[0]  # uniform-r1 -> uniform, hot-r1 -> hot
            runs[kind] = {
                "tps": float(m["tps"]),
                "p50_ms": float(m["p50"]),
                "p99_ms": float(m["p99"]),
                "failed": m["failed"],
            }
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-json", type=Path, required=True)
    parser.add_argument("--floor-out", type=Path, required=True)
    parser.add_argument("--jsonl", type=Path, required=True)
    parser.add_argument("--db-orders", type=int, default=-1)
    parser.add_argument("--queued-messages", type=int, default=-1)
    parser.add_argument("--meta", default="{}", help="extra JSON fields for the results line")
    args = parser.parse_args()

    problems = []
    load = json.loads(args.load_json.read_text()) if args.load_json.exists() else None
    floor = parse_floor(args.floor_out.read_text()) if args.floor_out.exists() else {}
    if load is None:
        problems.append("no OMS load result")
    if "uniform" not in floor:
        problems.append("could not parse the floor's uniform tps")

    oms = load["orders_per_s"] if load else 0.0
    uniform = floor.get("uniform", {}).get("tps", 0.0)
    hot = floor.get("hot", {}).get("tps", 0.0)
    ratio = oms / uniform if uniform else None
    hot_ratio = oms / hot if hot else None
    print()
    if ratio is not None:
        print(f"capture ratio: oms {oms:.1f} orders/s / floor {uniform:.1f} orders/s = {ratio:.3f}")
    if hot_ratio is not None:
        print(
            f"hot ratio:     oms {oms:.1f} orders/s / floor-hot {hot:.1f} orders/s = "
            f"{hot_ratio:.3f}  (oms load is uniform; the floor's hot run is for reference)"
        )

    if load:
        if load["error_rate"] > load["max_error_rate"]:
            problems.append(
                f"error rate {load['error_rate']:.3%} > {load['max_error_rate']:.3%} "
                f"(errors by status: {load['errors_total']})"
            )
        if args.db_orders >= 0 and args.db_orders != load["created_total"]:
            problems.append(
                f"{args.db_orders} orders in the database but "
                f"{load['created_total']} x 201 answered"
            )
        if args.queued_messages >= 0 and args.queued_messages != load["created_total"]:
            problems.append(
                f"{args.queued_messages} orchestration messages queued for "
                f"{load['created_total']} orders"
            )
        print(
            f"checks:        {args.db_orders} orders in oms_bench, {args.queued_messages} "
            f"orchestration messages queued, {load['created_total']} x 201 "
            f"(whole run incl. warm-up)"
        )

    record = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        **json.loads(args.meta),
        "oms": load,
        "floor": floor,
        "capture_ratio": round(ratio, 4) if ratio is not None else None,
        "hot_ratio": round(hot_ratio, 4) if hot_ratio is not None else None,
        "db_orders": args.db_orders,
        "queued_messages": args.queued_messages,
        "ok": not problems,
        "problems": problems,
    }
    args.jsonl.parent.mkdir(parents=True, exist_ok=True)
    with args.jsonl.open("a") as out:
        out.write(json.dumps(record) + "\n")
    print(f"results:       appended to {args.jsonl}")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
