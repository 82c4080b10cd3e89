"""ZIP code areas are built at a long-running process's start (oms/core/process_tuning.py), not
by the first order to an address in each area (about 5 ms each, inside its route_order)."""

import subprocess
import sys

from oms.core import geo


def test_a_process_that_froze_its_start_up_heap_locates_any_us_zip_without_building_an_area():
    # A fresh interpreter: this process's tables may be built already.
    script = (
        "import django; django.setup(); "
        "from oms.core import geo; from oms.core.process_tuning import freeze_startup_heap; "
        "freeze_startup_heap(); before = geo._zip_area.cache_info().misses; "
        "places = [geo.resolve_postal_code(z, 'US') for z in "
        "('00601', '10001', '43215', '60601', '89501', '94105', '99501')]; "
        "assert all(places), places; "
        "assert geo._zip_area.cache_info().misses == before, geo._zip_area.cache_info(); "
        "print(geo._zip_area.cache_info().currsize)"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )

    assert out.stdout.strip() == "100"


def test_the_preloaded_tables_are_the_lazily_built_ones():
    geo._zip_area.cache_clear()
    lazy = geo.resolve_postal_code("43215", "US")

    geo.preload_zip_areas()

    assert geo.resolve_postal_code("43215", "US") == lazy
    assert geo._zip_area.cache_info().currsize == 100
