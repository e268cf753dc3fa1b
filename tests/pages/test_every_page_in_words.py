"""Every page each role may open reads in Chinese: no snake_case code, no English sentence.

The demo is built (small, through its own code path), then each role signs in and opens every
GET page of the route table it may open, path parameters filled from the demo's data. The
page's text nodes (what a person reads; not scripts, styles, the small grey codes that follow
a name, or the raw lines of a file shown as code) are searched for words that are not
Chinese: a snake_case code ("wants_recovery", "field_lanshan_1") or English words. A short
allow list holds the proper nouns and units a Chinese page uses as they are (SN, km, XLSX…).
One role's pages are also read in headless Chromium, as the person sees them. Then the same
pages with each user's language set to English: no Chinese of fleet's own (names, addresses,
trades and notes people typed are data, and stay as typed)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from fnmatch import fnmatch
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.models import UserCreate
from fleet.core.access import Role, system_actor
from fleet.core.db import session_scope
from fleet.demo.build import build_demo
from fleet.demo.generator import DEMO_PASSWORD
from fleet.inventory.models import Branch, Market, Merchant, Terminal
from fleet.maps import presets
from fleet.web.app import create_app
from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, Browser, needs_browser
from tests.web.test_route_security import app_routes

SEED = 7
# The demo's sign-ins, and a service staff member added as an admin would.
ROLES = {
    "admin": "admin",
    "branch_ops": "ops_lanshan",
    "field": "field_lanshan_1",
    "marketing": "marketing_1",
    "service": "service_lanshan",
}
# Not pages: machine answers, the API's documentation (English by design) and downloads.
NOT_PAGES = re.compile(
    r"^/(api/|docs|redoc|openapi|healthz|readyz|metrics)|\.(xlsx|csv|json|png|svg|pdf)$"
)
# Words a Chinese page shows as they are: units, file formats, proper nouns, brand names.
ALLOWED = {
    "SN", "km", "XLSX", "CSV", "JSON", "API", "POS", "QR", "KPI", "SLA", "PDF", "HTML", "ID",
    "AMap", "OpenStreetMap", "OSM", "Leaflet", "WGS", "GCJ", "fleet", "Fleet", "FLEET",
    "FLEET_MAP_TILES_URL", "English", "PostgreSQL", "SQLite", "UTC", "CNY", "Excel", "xlsx", "csv",
    # what an admin types as it is: an HTTP header's value, cron's weekday names
    "Authorization", "Bearer", "token", "cron", "mon", "sun",
    # the map tiles' licence notice, which must stay as written ("© OpenStreetMap contributors")
    "contributors",
}  # fmt: skip
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
# Text inside these is not read as page text (or is a code shown on purpose after a name).
SKIPPED_TAGS = {"script", "style", "code", "kbd", "pre", "template", "noscript"}


# Attributes a person reads: a field's hint, a tooltip, what a screen reader says, a picture's
# text, the question a button asks before it acts.
READ_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "data-confirm"}


class _Text(HTMLParser):
    """The text nodes (and read attributes) of a page a person reads, without the skipped
    elements."""

    VOID: ClassVar[set[str]] = {
        "br", "img", "input", "meta", "link", "hr", "area", "base", "col", "source", "wbr",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # for each open element: is its text skipped?
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        classes = (given.get("class") or "").split()
        skipped = tag in SKIPPED_TAGS or "code" in classes or "lang-switch" in classes
        skipped = skipped or (bool(self.stack) and self.stack[-1])
        if not skipped:  # what a person reads in attributes: hints, labels, confirm dialogs
            self.texts += [v.strip() for k, v in attrs if k in READ_ATTRIBUTES and v and v.strip()]
        if tag not in self.VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]) and data.strip():
            self.texts.append(data.strip())


def page_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


def not_chinese(text: str) -> list[str]:
    """The snake_case codes and the English words (not allowed as they are) in one text."""
    found = SNAKE.findall(text)
    rest = SNAKE.sub(" ", text)
    for word in WORD.findall(rest):
        if word in ALLOWED or word.isupper() or len(word) == 1:
            continue  # SN, XLSX, the A of 'A1': codes and units
        if re.fullmatch(r"[A-Z]{1,4}\d*[A-Za-z]?", word):
            continue
        found.append(word)
    return found


def test_the_detector_finds_codes_and_english_but_not_names_and_units() -> None:
    html = (
        "<main><p>回访结果：visit 2: wants_recovery</p><p>终端 SN S001，3.2 km，XLSX</p>"
        "<p>邱秀 <small class='code'>field_lanshan_1</small></p><p>Recovery approved</p>"
        "<script>var not_text = 1</script><p>LY01 兰山支行</p></main>"
    )
    found = [w for t in page_texts(html) for w in not_chinese(t)]
    assert found == ["wants_recovery", "visit", "Recovery", "approved"]


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[dict[str, list[str]]]:
    """The small demo in the test database, a service login added; the values each path
    parameter takes (ids of the ops user's subtree first)."""
    build_demo(TEST_URL, seed=SEED, scale=0.05, echo=lambda _: None)
    with session_scope(engine) as session:
        admin = system_actor("demo")
        lanshan = (
            session.execute(
                select(Branch).where(col(Branch.name).contains("兰山")).order_by(col(Branch.id))
            )
            .scalars()
            .first()
        )
        assert lanshan is not None
        auth.create_user(
            session,
            admin,
            UserCreate(
                username="service_lanshan",
                full_name="孙师傅",
                role=Role.service,
                branch_code=lanshan.code,
                password=DEMO_PASSWORD,
            ),
        )
        values = _parameter_values(session)
    yield values


def _ids(session: Session, stmt: Any, n: int = 3) -> list[str]:
    """The first n values, the same on either database (ties broken by the value itself)."""
    ordered = stmt.order_by(stmt.selected_columns[0])
    return [str(v) for v in session.execute(ordered.limit(n)).scalars()]


def _parameter_values(session: Session) -> dict[str, list[str]]:
    """Values for each path parameter: a few of each kind of row, the ops user's first."""
    from fleet.aftersales.models import Contractor, Ticket
    from fleet.auth.models import User
    from fleet.feeds.models import FeedSource, IngestRun
    from fleet.markets.models import Campaign
    from fleet.recovery.models import RecoveryRequest
    from fleet.visits.models import Visit

    lanshan = [
        b.id
        for b in session.execute(select(Branch).where(col(Branch.name).contains("兰山"))).scalars()
    ]
    return {
        "branch_id": _ids(session, select(Branch.id).order_by(col(Branch.id))),
        "user_id": _ids(session, select(User.id).order_by(col(User.id))),
        "source_id": _ids(session, select(FeedSource.id)),
        # The field user's own visits first (others' are not theirs to open).
        "visit_id": _ids(
            session,
            select(Visit.id)
            .join(User, col(User.id) == col(Visit.staff_id))
            .order_by(col(User.username) != ROLES["field"], col(Visit.id)),
        ),
        "campaign_id": _ids(session, select(Campaign.id)),
        "market_id": _ids(session, select(Market.id).order_by(col(Market.id))),
        "run_id": _ids(session, select(IngestRun.id)),
        "merchant_id": _ids(
            session, select(Merchant.id).where(col(Merchant.branch_id).in_(lanshan))
        ),
        "terminal_id": _ids(
            session,
            select(Terminal.id)
            .where(col(Terminal.branch_id).in_(lanshan))
            .order_by(col(Terminal.merchant_id).is_(None), col(Terminal.id)),
        ),
        "request_id": _ids(
            session,
            select(RecoveryRequest.id).where(col(RecoveryRequest.branch_id).in_(lanshan)),
        ),
        "ticket_id": _ids(session, select(Ticket.id)),
        "code": _ids(session, select(Contractor.code)),
    }


def page_paths(values: dict[str, list[str]]) -> list[list[str]]:
    """Every GET page of the route table, as the paths to try for it: each path parameter
    filled from the demo, first values first (a parameter the demo has no value for leaves
    the page out)."""
    found = []
    for method, path in sorted(set(app_routes(create_app()))):
        if method != "GET" or NOT_PAGES.search(path):
            continue
        names = re.findall(r"\{(\w+)\}", path)
        if any(not values.get(n) for n in names):
            continue
        tries = max([len(values[n]) for n in names], default=1)

        def nth(match: re.Match[str], i: int) -> str:
            given = values[match.group(1)]
            return given[min(i, len(given) - 1)]

        found.append([re.sub(r"\{(\w+)\}", lambda m, i=i: nth(m, i), path) for i in range(tries)])
    return found


def sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, (username, answer.text[:300])


def findings_of(
    client: TestClient,
    pages: list[list[str]],
    foreign: Callable[[str], list[str]] = not_chinese,
) -> tuple[list[str], dict[str, list[str]]]:
    """The pages this client may open (the first of each page's paths that opens), and what
    each shows in the other language (not Chinese, by default)."""
    opened, found = [], {}
    for paths in pages:
        for path in paths:
            answer = client.get(path)
            assert answer.status_code < 500, (path, answer.text[:500])
            if answer.status_code == 200:
                break
        if answer.status_code != 200 or "text/html" not in answer.headers["content-type"]:
            continue
        opened.append(path)
        words = sorted({w for t in page_texts(answer.text) for w in foreign(t)})
        if words:
            found[path] = words
    return opened, found


# The text a person sees in the browser, without what the HTML reading leaves out too.
VISIBLE_TEXT_JS = """() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll("script, style, code, kbd, pre, template, noscript, .code, .lang-switch")
        .forEach(node => node.remove());
    document.body.appendChild(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}"""


@needs_browser
def test_every_page_each_role_may_open_is_in_chinese_and_in_english(
    demo: dict[str, list[str]], server: str, chromium: Any, engine: Engine
) -> None:
    """Each role's pages in Chinese (and branch operations' in Chromium), then the same pages
    with the user's language set to English (one demo: the tables are emptied after a test)."""
    pages = page_paths(demo)
    report, opened_by = [], {}
    for role, username in ROLES.items():
        client = TestClient(create_app())
        sign_in(client, username)
        opened, found = findings_of(client, pages)
        assert len(opened) >= 2, f"{role} opened only {opened}"
        opened_by[role] = opened
        report += [f"{role} {path}: {', '.join(words)}" for path, words in found.items()]
    # Branch operations' pages as the person sees them, in Chromium.
    tab = Browser(chromium, server, DESKTOP, "zh-CN")
    try:
        tab.sign_in(ROLES["branch_ops"], DEMO_PASSWORD)
        for path in opened_by["branch_ops"]:
            tab.goto(path)
            # Each page says its language (screen readers, the browser's Chinese glyphs).
            assert tab.page.locator("html").get_attribute("lang") == "zh-CN", path
            lines = tab.page.evaluate(VISIBLE_TEXT_JS).splitlines()
            words = sorted({w for line in lines for w in not_chinese(line)})
            if words:
                report.append(f"branch_ops (Chromium) {path}: {', '.join(words)}")
        # The network cut catches what a page asks; its policy refuses a CDN's asset before.
        refused = [e for e in tab.errors if e.startswith("CSP violation")]
        asked = internet(tab.blocked) + refused
        report += [f"branch_ops (Chromium) asked the internet: {u}" for u in asked]
    finally:
        tab.close()
    report += english_report(pages, engine)
    report += english_in_chromium(chromium, server, opened_by["branch_ops"], engine)
    assert not report, "pages showing codes or English in Chinese (Chinese in English):\n" + (
        "\n".join(report)
    )


def internet(asked: list[str]) -> list[str]:
    """What a page asked of hosts other than fleet's own and the tile servers of the base maps
    it offers (issue 17, item 4: nothing else comes from the internet)."""
    tiles = [urlsplit(s).netloc for s in presets.tile_sources(presets.load(None), None)]
    return [url for url in asked if not any(fnmatch(urlsplit(url).netloc, h) for h in tiles)]


HAN = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]+")
# Chinese an English page shows as it is: the switch to the other language.
ALLOWED_CHINESE = {"中文"}


def data_words(session: Session) -> list[str]:
    """What people typed or imported in Chinese (names, addresses, trades, notes): data an
    English page shows as it is, longest first."""
    from fleet.aftersales.models import Contractor, Ticket, TicketEvent
    from fleet.auth.models import User
    from fleet.feeds.models import IngestRun
    from fleet.markets.models import Campaign
    from fleet.pay.contract_models import Contract

    columns: list[Any] = [
        Branch.name, Branch.address, User.full_name, Market.name, Market.address,
        Merchant.name, Merchant.address, Merchant.contact_name, Merchant.category,
        Campaign.name, Campaign.notes, Contract.name, Contractor.name, IngestRun.source,
        Ticket.description, Ticket.resolution_note, TicketEvent.note,
    ]  # fmt: skip
    found = {v for c in columns for v in session.execute(select(c).distinct()).scalars() if v}
    return sorted(found, key=len, reverse=True)


def not_english(data: list[str]) -> Callable[[str], list[str]]:
    """The Chinese in one text of an English page that is fleet's own (not data)."""

    def found(text: str) -> list[str]:
        for value in data:
            text = text.replace(value, " ")
        return [w for w in HAN.findall(text) if w not in ALLOWED_CHINESE]

    return found


def test_the_english_detector_finds_chinese_but_not_data() -> None:
    texts = ["Visit outcome: 商户无需求", "兰山支行 (LY01)", "Recovery approved", "中文"]
    assert [w for t in texts for w in not_english(["兰山支行"])(t)] == ["商户无需求"]


def english_report(pages: list[list[str]], engine: Engine) -> list[str]:
    """The same walk with each user's language set to English: no Chinese of fleet's own
    (names, addresses and other data stay as they were typed)."""
    with session_scope(engine) as session:
        foreign = not_english(data_words(session))
    report = []
    for role, username in ROLES.items():
        client = TestClient(create_app(), headers={"Accept-Language": "en-US,en"})
        sign_in(client, username)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
        assert csrf, role
        chosen = {"csrf": csrf.group(1), "next": "/"}
        client.post("/settings/language", data=chosen | {"language": "en"})
        try:
            opened, found = findings_of(client, pages, foreign)
        finally:
            client.post("/settings/language", data=chosen | {"language": "zh"})
        assert len(opened) >= 2, f"{role} opened only {opened}"
        report += [f"{role} (English) {path}: {', '.join(words)}" for path, words in found.items()]
    return report


def english_in_chromium(chromium: Any, server: str, paths: list[str], engine: Engine) -> list[str]:
    """Branch operations' pages in Chromium after choosing English with the page's own
    switch, as the person sees them (what scripts draw included)."""
    with session_scope(engine) as session:
        foreign = not_english(data_words(session))
    report = []
    tab = Browser(chromium, server, DESKTOP, "en-US")
    try:
        tab.sign_in(ROLES["branch_ops"], DEMO_PASSWORD)
        tab.page.get_by_role("button", name="English").click()
        tab.page.wait_for_load_state("load")
        for path in paths:
            tab.goto(path)
            assert tab.page.locator("html").get_attribute("lang") == "en", path
            lines = tab.page.evaluate(VISIBLE_TEXT_JS).splitlines()
            words = sorted({w for line in lines for w in foreign(line)})
            if words:
                report.append(f"branch_ops (Chromium, English) {path}: {', '.join(words)}")
    finally:
        tab.close()
    return report
