"""The API docs with no internet (issue 17): headless Chromium, its network cut to the fleet
server alone, opens /docs (Swagger UI) and /redoc (ReDoc) and finds the operations listed,
with nothing blocked and nothing refused by the pages' Content-Security-Policy. Run once, in
the SQLite pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def operation_count(tab: Any) -> int:
    schema = tab.page.evaluate("async () => (await (await fetch('/openapi.json')).json()).paths")
    return sum(len(methods) for methods in schema.values())


def operations_drawn_scrolling(page: Any) -> set[str]:
    drawn: set[str] = set()
    last = -1
    while True:
        drawn.update(page.eval_on_selector_all(".opblock", "els => els.map(e => e.id)"))
        y = page.evaluate(
            "() => { window.scrollBy(0, window.innerHeight * 0.8); return window.scrollY; }"
        )
        page.wait_for_timeout(100)
        if y == last:
            return drawn
        last = y


def test_swagger_ui_lists_the_operations_offline(open_browser: Any) -> None:
    from playwright.sync_api import expect

    tab = open_browser(viewport=DESKTOP, locale="en-US")
    tab.goto("/docs")
    # A 1.5 MB bundle and the whole schema: generous waits on a loaded 2-core machine.
    expect(tab.page.locator(".opblock-summary-path").first).to_be_visible(timeout=60_000)
    # Swagger UI keeps only the operations near the viewport in the page: scroll it through
    # and gather every operation drawn on the way.
    expected = operation_count(tab)
    assert expected > 50
    assert len(operations_drawn_scrolling(tab.page)) == expected
    tab.page.evaluate("() => window.scrollTo(0, 0)")
    path = tab.page.locator(".opblock-summary-path", has_text="/api/v1/auth/me").first
    expect(path).to_be_visible()
    # Opening an operation shows its parameters and its "Try it out": the UI works, not only
    # its first paint.
    path.click()
    expect(tab.page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert tab.blocked == [] and tab.errors == [], (tab.blocked, tab.errors)


def test_redoc_lists_the_operations_offline(open_browser: Any) -> None:
    from playwright.sync_api import expect

    tab = open_browser(viewport=DESKTOP, locale="en-US")
    tab.goto("/redoc")
    # ReDoc draws each operation in its own section, listed in the menu by its tag.
    operations = tab.page.locator("[data-section-id^='operation/']")
    expected = operation_count(tab)
    assert expected > 50
    expect(operations).to_have_count(expected, timeout=60_000)
    menu = tab.page.locator("[data-section-id^='tag/'][data-section-id*='/operation/']")
    assert menu.count() == operations.count()
    expect(tab.page.get_by_text("/api/v1/branches", exact=True).first).to_be_attached()
    # ReDoc's menu shows Redocly's logo from its CDN and drops it when it fails to load: the
    # policy refuses it before any request leaves the browser, and that is the only refusal.
    badge = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert tab.blocked == [] and all(badge in e for e in tab.errors), (tab.blocked, tab.errors)
