"""Names, not codes: branches by their name and people by their full name on every list, the
code after it in small print (the `named` macro); the same in text (core.names.named)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.core.names import named
from tests.pages.test_ops import build_world
from tests.pages.test_session import sign_in


def named_html(name: str, code: str) -> str:
    return f'{name} <small class="code">{code}</small>'


def test_named_puts_the_name_first() -> None:
    assert named("兰山支行", "LY01") == "兰山支行 (LY01)"
    assert named(None, "LY01") == "LY01"
    assert named("LY01", "LY01") == "LY01"
    assert named(None, None) == "–"


def test_the_recovery_queue_names_the_branch_and_the_person(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path)
    sign_in(client, "branch_ops_a")
    queue = client.get("/ops/recovery").text
    card = queue.split(f'id="request-{world.requests["UA3"]}"', 1)[1].split("</li>", 1)[0]
    assert named_html("网点A1", "A1") in card
    # Raised by field_a, whose full name is Field_A: the name, then the username.
    assert named_html("Field_A", "field_a") in card

    detail = client.get(f"/ops/recovery/{world.requests['UA3']}").text
    assert named_html("网点A1", "A1") in detail

    overview = client.get("/ops").text  # A's KPIs by the branches below it
    assert named_html("网点A1", "A1") in overview

    unit = client.get(f"/ops/terminals/{world.ids['UA3']}").text
    assert named_html("网点A1", "A1") in unit
    assert named_html("Field_A", "field_a") in unit


def test_the_market_ranking_and_admin_lists_lead_with_names(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path)
    sign_in(client, "admin")
    ranking = client.get("/marketing/markets").text
    row = re.search(r'<tr data-market="MKA1">.*?</tr>', ranking, re.S)
    assert row and named_html("网点A1", "A1") in row.group(0)

    users = client.get("/admin/users").text
    assert named_html("Field_A", "field_a") in users
    assert named_html("网点A", "A") in users  # field_a's branch

    branches = client.get("/admin/branches").text
    assert named_html("网点LY", "LY") in branches
