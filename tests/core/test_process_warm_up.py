"""Long-running processes build at start what Django, Celery and oms would otherwise build in
their first request or task (oms/core/process_tuning.py, load_lazy_tables): a gunicorn worker's
first capture took 290 ms of CPU against 3-4 ms for the next ones."""

import subprocess
import sys

# A fresh interpreter: this one has resolved URLs and finalized Celery long ago.
SCRIPT = """
import sys
import django
django.setup()
from oms.core.process_tuning import freeze_startup_heap
freeze_startup_heap()
from django.urls import resolve
from oms.celery import app
from oms.core.countries import iso_countries
from django.utils.functional import empty
before = set(sys.modules)
match = resolve("/api/v1/orders/")
new = sorted(set(sys.modules) - before)
assert not new, new
assert app.finalized
assert iso_countries.cache_info().currsize == 1
from django.core.validators import EmailValidator
assert EmailValidator.domain_regex._wrapped is not empty
assert EmailValidator.user_regex._wrapped is not empty
print(match.func.view_class.__name__)
"""


def test_a_started_process_resolves_the_api_and_publishes_without_importing_anything():
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )

    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "OrderListCreateView"
