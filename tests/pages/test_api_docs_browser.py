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


def test_swagger_ui_lists_the_operations_offline(open_browser: Any) -> None:
    from playwright.sync_api import expect

    tab = open_browser(viewport=DESKTOP, locale="en-US")
    tab.goto("/docs")
    expect(tab.page.locator(".opblock-summary-path").first).to_be_visible()
    listed = tab.page.locator(".opblock").count()
    assert listed == operation_count(tab) > 50
    path = tab.page.locator(".opblock-summary-path", has_text="/api/v1/branches").first
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
    expect(operations.first).to_be_visible()
    assert operations.count() == operation_count(tab) > 50
    menu = tab.page.locator("[data-section-id^='tag/'][data-section-id*='/operation/']")
    assert menu.count() == operations.count()
    expect(tab.page.get_by_text("/api/v1/branches", exact=True).first).to_be_attached()
    # ReDoc's menu shows Redocly's logo from its CDN and drops it when it fails to load: the
    # policy refuses it before any request leaves the browser, and that is the only refusal.
    badge = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert tab.blocked == [] and all(badge in e for e in tab.errors), (tab.blocked, tab.errors)
