"""Lists that are cut say so: "显示 10 / 共 12" and the way to the rest, on every page that
shows part of a list (the `pager` and `shown_of` macros)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from fleet.core.paging import MAX_LIMIT
from fleet.feeds import coverage
from fleet.recovery import service as recovery
from fleet.recovery import suggestions
from fleet.scoring import service as scoring
from tests import factories
from tests.pages.test_ops import actor_of, text_of
from tests.pages.test_session import sign_in
from tests.scoring.util import as_of, deploy

UNITS = 12  # never used, each raised by the rule and approved: more than the 10 shown
STOCK = 32  # in stock: more than the planner's 30 and the search's 20 a page


@dataclass
class CutWorld:
    market_id: int = 0
    terminal_id: int = 0
    decided: list[int] = field(default_factory=list)


def build(engine: Engine) -> CutWorld:
    world = CutWorld()
    today = as_of()
    with session_scope(engine) as session:
        made = factories.two_branches(session)
        world.market_id = made.markets["A1"].id or 0
        for n in range(UNITS):
            factories.merchant(session, f"MC{n:02d}", "A1")
            unit = deploy(session, f"CUT{n:02d}", "A1", f"MC{n:02d}", today - timedelta(days=60))
            world.terminal_id = unit.id or 0
        for n in range(STOCK):
            factories.terminal(session, f"STK{n:02d}", "A1")
        coverage.set_start(session, factories.SYSTEM, "default", today - timedelta(days=60))
        scoring.score(session, as_of=today)
    with session_scope(engine) as session:
        ops = actor_of(session, "branch_ops_a")
        raised = suggestions.raise_suggestions(session, ops)
        for request in raised:
            recovery.decide(session, ops, request.id or 0, "approve")
            world.decided.append(request.id or 0)
    return world


def test_cut_lists_on_pages_say_how_many_and_lead_on(client: TestClient, engine: Engine) -> None:
    world = build(engine)
    assert len(world.decided) >= 11, "the rule raised too few to cut"
    sign_in(client, "branch_ops_a")

    queue = text_of(client.get("/ops/recovery").text)
    assert f"显示 10 / 共 {len(world.decided)}" in queue
    every = client.get("/ops/recovery?decided=all").text
    assert f"显示 10 / 共 {len(world.decided)}" not in text_of(every)
    assert every.count("<tr data-sn=") == len(world.decided)
    assert '<a href="/ops/recovery?decided=all#decided">' in client.get("/ops/recovery").text

    found = client.get("/ops/search", params={"q": "STK"}).text
    assert f"显示 20 / 共 {STOCK}" in text_of(found)
    assert "下一页" in text_of(found) or re.search(r'offset=20"', found)
    second = text_of(client.get("/ops/search", params={"q": "STK", "offset": 20}).text)
    assert f"显示 {STOCK - 20} / 共 {STOCK}" in second

    sign_in(client, "admin")
    planner = client.get(f"/marketing/campaigns/new?market={world.market_id}").text
    assert f"显示 30 / 共 {STOCK}" in text_of(planner)
    assert planner.count('name="unit:') == 30
    whole = client.get(f"/marketing/campaigns/new?market={world.market_id}&units=all").text
    assert whole.count('name="unit:') == STOCK
    assert "显示 30" not in text_of(whole)


def test_the_search_market_filter_says_when_its_list_is_cut_and_takes_any_market(
    client: TestClient, engine: Engine
) -> None:
    """More markets than a picker holds (1,000): the page says "显示 1,000 / 共 1,001 个市场"
    and any market's code still filters (here the one past the first thousand)."""
    with session_scope(engine) as session:
        factories.two_branches(session)
        for n in range(MAX_LIMIT):  # MKA1 and MKB1 are there already: 1,002 markets in all
            factories.market(session, f"MX{n:04d}", "A1")
        factories.merchant(session, "LAST", "A1", market_code="MX0999")
    sign_in(client, "admin")
    page = client.get("/ops/search", params={"kind": "merchants"})
    assert "显示 1,000 / 共 1,002 个市场" in text_of(page.text)
    assert "输入市场代码" in text_of(page.text)
    # MX0999 sorts last, past the picker's thousand: it filters all the same.
    found = client.get("/ops/search", params={"kind": "merchants", "market": "MX0999"})
    assert found.status_code == 200, text_of(found.text)[:400]
    assert "商户LAST" in found.text and "商户CA1" not in found.text
    # A list that is whole says nothing of the kind.
    sign_in(client, "branch_ops_b")
    assert "个市场" not in text_of(client.get("/ops/search").text)
