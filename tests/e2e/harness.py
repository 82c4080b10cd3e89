"""What every browser test shares: the Chromium binary and flags, where screenshots go, and a
screenshot that waits for the page to settle.

Headless Chromium can stall a screenshot taken while a form post is still navigating (the
compositor waits for a frame of a document that is being replaced; seen as `Page.screenshot:
Timeout ... fonts loaded`). `screenshot()` therefore waits for the navigation to finish first and
takes it again once if a frame still does not come.
"""

import shutil
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOT_TIMEOUT_MS = 30_000


def screenshot(page: Page, path: Path, *, full_page: bool = False) -> None:
    """Save what the page shows at `path`, once its document has loaded."""
    for attempt in (1, 2):
        page.wait_for_load_state("load")
        try:
            page.screenshot(
                path=str(path), full_page=full_page, timeout=SHOT_TIMEOUT_MS, animations="disabled"
            )
            return
        except PlaywrightError:
            if attempt == 2:
                raise
            # A stalled frame: let the renderer draw again, then take it once more.
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
