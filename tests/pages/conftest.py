"""Pages in a real browser: fleet served on a free port, headless Chromium with the network
cut (tests.maps.browser), signed in through the sign-in page like a person would."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.factories import PASSWORD
from tests.live import serve_fleet
from tests.maps import browser
from tests.web.conftest import as_user, world  # noqa: F401  (fixtures of the page tests)

PHONE = (360, 740)
DESKTOP = (1280, 860)
# Screenshots of every walk; CI keeps them as artefacts when FLEET_SCREENSHOTS is set.
SHOTS = Path(os.environ.get("FLEET_SCREENSHOTS") or "/tmp/fleet-page-shots")
AXE = Path(__file__).parents[2] / "maps/assets/node_modules/axe-core/axe.min.js"

_missing = browser.available()
needs_browser = pytest.mark.skipif(
    bool(_missing) and not os.environ.get("CI"), reason=_missing or ""
)


@pytest.fixture(scope="module")
def server(engine: Engine) -> Iterator[str]:
    """fleet served on a free 127.0.0.1 port for the module's tests."""
    with serve_fleet() as base:
        yield base


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as instance:
        yield instance


class Browser:
    """One person's browser tab: network cut to 127.0.0.1, script errors collected."""

    def __init__(
        self,
        chromium: Any,
        base: str,
        viewport: tuple[int, int],
        locale: str,
        geolocation: tuple[float, float] | None = None,
    ) -> None:
        self.base = base
        # A phone that grants its position (lat, lng) when a page asks for it.
        located: dict[str, Any] = {}
        if geolocation is not None:
            located = {
                "permissions": ["geolocation"],
                "geolocation": {"latitude": geolocation[0], "longitude": geolocation[1]},
            }
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.accessibility: dict[str, list[str]] = {}
        self.context = chromium.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            locale=locale,
            service_workers="block",
            **located,
        )
        self.context.route("**/*", self._route)
        self.context.add_init_script(browser.REPORT_CSP_JS)
        # axe-core comes with every page as an init script: the pages' CSP refuses an inline
        # script tag (add_script_tag), and it should.
        self.context.add_init_script(path=str(AXE))
        self.page = self.context.new_page()
        self.page.set_default_timeout(browser.TIMEOUT_MS)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(m.text)
                if m.type == "error" and browser.is_local(m.location.get("url") or "file:")
                else None
            ),
        )

    def _route(self, route: Any) -> None:
        if browser.is_local(route.request.url):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort("internetdisconnected")

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path, wait_until="load")

    def sign_in(self, username: str, password: str = PASSWORD, path: str = "/") -> None:
        self.goto(path)
        self.page.get_by_label(re.compile("用户名|Username")).fill(username)
        self.page.get_by_label(re.compile("密码|Password")).fill(password)
        self.page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
        self.page.wait_for_load_state("load")

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        # Every page a walk shows is also checked for accessibility (asserted at the end).
        self.accessibility[name] = self.accessibility_problems()
        return path

    def accessibility_problems(self) -> list[str]:
        """What axe-core (installed from npm at setup) finds against WCAG 2.1 A and AA on the
        page as it is now: labels, names, contrast, landmarks, keyboard traps..."""
        found = self.page.evaluate(
            """async () => (await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
            })).violations.map(v => v.id + ": " + v.help + " -> " +
                v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))"""
        )
        return [str(problem) for problem in found]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_browser(chromium: Any, server: str) -> Iterator[Any]:
    """open_browser(viewport=PHONE, locale="zh-CN") -> a fresh Browser, closed afterwards."""
    opened: list[Browser] = []

    def make(
        viewport: tuple[int, int] = DESKTOP,
        locale: str = "zh-CN",
        geolocation: tuple[float, float] | None = None,
    ) -> Browser:
        tab = Browser(chromium, server, viewport, locale, geolocation)
        opened.append(tab)
        return tab

    yield make
    for tab in opened:
        tab.close()
    problems = {page: found for tab in opened for page, found in tab.accessibility.items() if found}
    assert not problems, f"accessibility (axe-core, WCAG 2.1 AA): {problems}"
