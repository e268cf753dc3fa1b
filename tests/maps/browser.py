"""Headless Chromium (Debian's /usr/bin/chromium, driven by playwright) with the network cut:
every request that is not to 127.0.0.1 (or a file) is aborted and recorded.

Used by the map tests, the map benchmark and the README screenshot.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = os.environ.get("FLEET_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
]
# Generous: a 2-core CI machine runs the suite while Chromium draws.
TIMEOUT_MS = 90_000
STATE_JS = """() => ({
  ready: FleetMap.state.ready,
  drawnMs: FleetMap.state.drawnMs,
  counts: FleetMap.state.counts,
  byStatus: FleetMap.state.byStatus,
  drawnTerminals: FleetMap.drawnCount("terminals"),
  layers: Object.keys(FleetMap.state.layers),
  overlays: document.querySelectorAll(".leaflet-control-layers-overlays input").length,
  dataset: Object.assign({}, FleetMap.map.getContainer().dataset),
})"""

# Every Content-Security-Policy violation is a script error of the page (issue 14): said on
# the console, where the browser tests collect errors, even where Chromium would only warn.
REPORT_CSP_JS = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " " + (e.blockedURI || "inline"));
});"""

LOAD_MS_JS = "() => performance.timing.loadEventEnd - performance.timing.navigationStart"


def available() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing (scripts/ensure-chromium.sh installs it)"
    if importlib.util.find_spec("playwright") is None:
        return "python playwright is not installed"
    return None


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in {"file", "data", "blob", "about"} or parsed.hostname == "127.0.0.1"


@dataclass
class PageReport:
    """What a map page did: its state, its script errors, the requests that were blocked."""

    state: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    load_ms: float = 0.0
    results: list[Any] = field(default_factory=list)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_map(
    browser: Any,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    screenshot: Path | None = None,
    viewport: tuple[int, int] = (1280, 800),
    after_ready: list[str | tuple[str, Any]] | None = None,
) -> PageReport:
    """Opens a map page with the network cut, waits until it is drawn, reports on it.

    `after_ready` scripts (or (script, argument) pairs) run once the map is drawn, before the
    screenshot; their results are in the report."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        extra_http_headers=headers or {},
        service_workers="block",
    )
    blocked: list[str] = []
    errors: list[str] = []

    def route(request_route: Any) -> None:
        if is_local(request_route.request.url):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort("internetdisconnected")

    def console(message: Any) -> None:
        # A blocked tile's "Failed to load resource" is the cut network, not a script error.
        if message.type == "error" and is_local(message.location.get("url") or "file:"):
            errors.append(message.text)

    context.route("**/*", route)
    context.add_init_script(REPORT_CSP_JS)
    page = context.new_page()
    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    try:
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => window.FleetMap && FleetMap.state.ready === true", timeout=TIMEOUT_MS
        )
        state = page.evaluate(STATE_JS)
        load_ms = float(page.evaluate(LOAD_MS_JS))
        results = []
        for script in after_ready or []:
            code, arg = script if isinstance(script, tuple) else (script, None)
            results.append(page.evaluate(code, arg))
        if results:
            page.wait_for_timeout(300)  # let the canvas repaint before the screenshot
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
    finally:
        context.close()
    return PageReport(state=state, errors=errors, blocked=blocked, load_ms=load_ms, results=results)
