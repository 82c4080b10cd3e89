"""What beat does in production, for the bench: merge the order search indexes' pending lists
every 5 seconds (ops.tasks.flush_search_indexes_task's schedule in oms/celery.py; ADR 0028).

bench/run.sh runs it beside the loads on the bench's database, so the merges' PostgreSQL CPU is
taken from the server under load, as in production, and no capture finds a list over its limit.
Without it the lists would only grow during a run: captures would look cheaper than they are.
Stops on SIGTERM and prints how many merges ran and the pages they merged.
"""

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from oms.celery import app
    from ops.services.search_indexes import flush_pending_lists

    every = float(app.conf.beat_schedule["flush-search-indexes"]["schedule"])
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runs = pages = 0
    longest = 0.0
    due = time.monotonic() + every
    while not stopping:
        time.sleep(min(0.2, max(0.0, due - time.monotonic())))
        if time.monotonic() < due:
            continue
        due += every
        started = time.monotonic()
        report = flush_pending_lists()
        connection.close()  # no session held between merges (other tools copy the database)
        longest = max(longest, time.monotonic() - started)
        runs += 1
        pages += report.total_pages
        if report.failed:
            print(f"search flusher: not flushed: {', '.join(report.failed)}", file=sys.stderr)
    print(
        f"search flusher ({settings.DATABASES['default']['NAME']}, every {every:g} s): "
        f"{runs} merges, {pages} pending-list pages merged, longest {longest * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
