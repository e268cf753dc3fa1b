"""The accessibility check the browser walks run (axe-core) does find problems: a page with an
unlabelled input and faint text fails it, so the walks' clean results mean something."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TEST_URL
from tests.pages.conftest import Browser, needs_browser

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]

BAD_PAGE = """<html lang="en"><head><title>t</title></head><body><main>
<input type="text"><p style="color:#aaa;background:#fff">faint</p></main></body></html>"""


def test_axe_finds_a_missing_label_and_faint_text(chromium: Any) -> None:
    tab = Browser(chromium, "http://127.0.0.1:1", (800, 600), "en")
    try:
        tab.page.set_content(BAD_PAGE)
        found = tab.accessibility_problems()
    finally:
        tab.close()
    assert {problem.split(":")[0] for problem in found} == {"color-contrast", "label"}
