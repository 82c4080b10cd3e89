"""What every browser test shares: the Chromium binary and flags, where screenshots go, and a
screenshot that waits for the page to settle.

Headless Chromium can stall a screenshot taken while a form post is still navigating (the
compositor waits for a frame of a document that is being replaced; seen as `Page.screenshot:
Timeout ... fonts loaded`). `screenshot()` therefore waits for the navigation to finish first and
takes it again once if a frame still does not come.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

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


@dataclass
class Browser:
    """One test's page against the live server, and the screenshots it took (NN-step.png)."""

    page: Page
    base_url: str
    shots: Path
    taken: list[Path] = field(default_factory=list)
    full_page: bool = True

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")

    def shot(self, step: str, *, full_page: bool | None = None) -> None:
        path = self.shots / f"{len(self.taken) + 1:02d}-{step}.png"
        screenshot(self.page, path, full_page=self.full_page if full_page is None else full_page)
        self.taken.append(path)


def launch[B: "Browser"](
    request: pytest.FixtureRequest,
    live_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    browser_class: type[B],
    **context: Any,
) -> Iterator[B]:
    """A fixture's body: headless Chromium with one page (`context`: new_context's options), and
    an empty test-artifacts/e2e/<test name>/ for its screenshots."""
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM reads are
    # synchronous and safe here (the server answers from its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = ARTIFACTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        browser_context = chromium.new_context(**context)
        page = browser_context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield browser_class(page=page, base_url=live_server.url, shots=shots)
        finally:
            browser_context.close()
            chromium.close()
