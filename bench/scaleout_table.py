"""Print the scale-out table of one `make bench` run from the JSON files its scale-out step wrote
in the run's temporary folder (bench/run.sh), and append it as one JSON line to --jsonl.

Rows: capture orders/s with 1, 2 and 4 gunicorn workers (scale-web-N.json, capture_load.py);
end-to-end orders/s with 1 and 2 Celery worker processes (scale-celery-N.json, e2e_bench.py);
outbox relay events/s with 1 and 2 relays (scale-relay.json, relay_bench.py). Each figure is
also given relative to the first row of its group: on one 2-core machine the web tier, the
workers and PostgreSQL share the same cores, so what this shows is where the single machine
saturates, not what more machines would give (docs/performance.md).
"""

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def load(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tmp", type=Path, required=True)
    parser.add_argument("--jsonl", type=Path, required=True)
    parser.add_argument("--meta", default="{}")
    args = parser.parse_args()

    rows: list[tuple[str, str, float | None]] = []
    web = {w: load(args.tmp / f"scale-web-{w}.json") for w in (1, 2, 4)}
    for w, result in web.items():
        rows.append(
            (
                "capture (POST /orders/)",
                f"{w} gunicorn worker{'s' if w > 1 else ''}",
                result["orders_per_s"] if result else None,
            )
        )
    celery = {c: load(args.tmp / f"scale-celery-{c}.json") for c in (1, 2)}
    for c, result in celery.items():
        rows.append(
            (
                "end to end (captured->released)",
                f"{c} Celery worker process{'es' if c > 1 else ''}",
                round(result["full"]["pipeline_per_s"], 1) if result else None,
            )
        )
    relay = load(args.tmp / "scale-relay.json") or []
    for r in relay:
        rows.append(
            (
                f"outbox relay (events/s, {r['duplicates']} duplicated)",
                f"{r['relays']} relay{'s' if r['relays'] > 1 else ''}",
                r["events_per_s"],
            )
        )

    print()
    print("scale-out (one machine, 2 cores; relative to the first row of each group):")
    width = max(len(what) for what, _, _ in rows)
    first: dict[str, float] = {}
    for what, how, value in rows:
        if value is None:
            print(f"  {what:<{width}}  {how:<26}  not measured")
            continue
        base = first.setdefault(what.split(" (")[0], value)
        rel = f"{value / base:.2f}x" if base else "-"
        print(f"  {what:<{width}}  {how:<26}  {value:>8.1f}/s  {rel}")
    record = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        **json.loads(args.meta),
        "rows": [{"what": w, "setting": h, "per_s": v} for w, h, v in rows],
    }
    args.jsonl.parent.mkdir(parents=True, exist_ok=True)
    with args.jsonl.open("a") as out:
        out.write(json.dumps(record) + "\n")
    return 0 if all(v is not None for _, _, v in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
