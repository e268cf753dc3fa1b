"""The pages' Content-Security-Policy in Chromium (issue 14): an inline script is refused, and
the refusal is an error the browser tests see, so that a page that needs more than its policy
allows fails them. Run once, in the SQLite pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]

INJECT = """() => {
  var s = document.createElement("script");
  s.textContent = "window.injected = true;";
  document.body.appendChild(s);
  return window.injected === true;
}"""


def test_an_inline_script_is_refused_and_reported(
    open_browser: Any, world: factories.TwoBranches
) -> None:
    tab = open_browser(viewport=DESKTOP, locale="en-US")
    tab.sign_in("branch_ops_a", path="/ops")
    assert tab.errors == []  # the page itself needs nothing its policy refuses
    assert tab.page.evaluate(INJECT) is False
    tab.page.wait_for_timeout(200)  # the violation event is dispatched asynchronously
    assert any(e.startswith("CSP violation: script-src") for e in tab.errors), tab.errors
