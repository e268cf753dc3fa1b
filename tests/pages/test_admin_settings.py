"""Admin pages for feed sources and settings at the protocol level, on both databases: saved
through the page with an audit entry, secrets never rendered, problems next to the fields,
a scoring setting changed on the page changes the next scoring."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.db import session_scope
from fleet.feeds import sources
from fleet.feeds.models import FeedSource, IngestRun
from fleet.recovery import rules
from fleet.scoring import jobs as scoring_jobs
from fleet.scoring.models import TerminalScore
from tests import factories
from tests.feeds.pulling import FeedServer, good_items
from tests.pages.test_admin import audit, error_next_to, post_form, sign_in
from tests.scoring.util import add_usage, as_of, deploy

SECRET = "Bearer s3cret-token-0123456789-wxyz"


def source_row(engine: Engine, name: str) -> FeedSource:
    with Session(engine) as session:
        return session.execute(select(FeedSource).where(FeedSource.name == name)).scalar_one()


def assert_no_secret(html: str) -> None:
    # Neither the header, nor its token, nor the masked tail the API would show.
    for part in (SECRET, "s3cret", "wxyz", "****"):
        assert part not in html


def test_a_feed_source_is_added_and_its_secret_never_shown(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    answer = post_form(
        client, "/admin/feeds/new", "/admin/feeds/new",
        name="core-banking", url="https://feeds.bank.local/txns", auth_header=SECRET,
        schedule="0 2 * * *", page_size="500", enabled="1",
    )  # fmt: skip
    assert answer.status_code == 303  # type: ignore[attr-defined]
    row = source_row(engine, "core-banking")
    assert (row.url, row.auth_header, row.page_size, row.enabled) == (
        "https://feeds.bank.local/txns",
        SECRET,
        500,
        True,
    )
    [entry] = audit(engine, "feed_source", "core-banking")
    assert entry.actor_name == "admin" and SECRET not in str(entry.changes)
    listing = client.get("/admin/feeds").text
    assert "core-banking" in listing and "已设置" in listing
    assert_no_secret(listing)
    form = client.get(f"/admin/feeds/{row.id}").text
    assert "已保存：已设置" in form
    assert_no_secret(form)


def test_editing_a_feed_source_keeps_or_clears_the_secret(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    with session_scope(engine) as session:
        made = sources.create_source(
            session,
            factories.SYSTEM,
            sources.FeedSourceCreate(name="core", url="https://a.bank/x", auth_header=SECRET),
        )
    sign_in(client, "admin")
    page = f"/admin/feeds/{made.id}"
    fields = {"name": "core", "url": "https://b.bank/y", "schedule": "30 1 * * *"}
    kept = post_form(client, page, page, **fields, page_size="1000", enabled="1", auth_header="")
    assert kept.status_code == 303  # type: ignore[attr-defined]
    row = source_row(engine, "core")
    assert (row.url, row.schedule, row.auth_header) == ("https://b.bank/y", "30 1 * * *", SECRET)
    cleared = post_form(client, page, page, **fields, page_size="1000", clear_auth="1")
    assert cleared.status_code == 303  # type: ignore[attr-defined]
    row = source_row(engine, "core")
    assert (row.auth_header, row.enabled) == (None, False)  # "enabled" left unticked: off
    assert "未设置" in client.get("/admin/feeds").text
    changes = [e.changes for e in audit(engine, "feed_source", "core") if e.action == "update"]
    assert changes[0]["url"] == ["https://a.bank/x", "https://b.bank/y"]
    assert changes[1]["enabled"] == [True, False] and changes[1]["auth_header"][1] is None
    assert SECRET not in str(changes)


def test_feed_form_problems_are_shown_next_to_the_fields(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    answer = post_form(
        client, "/admin/feeds/new", "/admin/feeds/new",
        name="typed", url="ftp://nope", auth_header=SECRET, schedule="0 2 * * 1", page_size="x",
    )  # fmt: skip
    assert answer.status_code == 422  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert error_next_to(html, "url") == "must be an http:// or https:// URL"
    assert "use names (mon, tue" in error_next_to(html, "schedule")
    assert error_next_to(html, "page_size") == "请输入整数。"
    assert 'value="typed"' in html and 'value="ftp://nope"' in html
    assert_no_secret(html)  # what was typed into the secret field is not sent back either
    with Session(engine) as session:
        assert session.execute(select(FeedSource)).first() is None


@pytest.fixture
def feed(world: factories.TwoBranches) -> Iterator[FeedServer]:
    with FeedServer(good_items(5)).running() as server:
        yield server


def test_a_source_is_switched_off_and_pulled_now(
    client: TestClient, world: factories.TwoBranches, engine: Engine, feed: FeedServer
) -> None:
    with session_scope(engine) as session:
        made = sources.create_source(
            session,
            factories.SYSTEM,
            sources.FeedSourceCreate(name="nightly", url=feed.url, auth_header=SECRET),
        )
    sign_in(client, "admin")
    pulled = post_form(client, "/admin/feeds", f"/admin/feeds/{made.id}/pull")
    assert pulled.status_code == 303  # type: ignore[attr-defined]
    listing = client.get("/admin/feeds").text
    # The world has no SN1/SN2: every line is received and rejected, none accepted.
    assert "拉取完成：收到 5 条，接收 0 条，拒收 5 条。" in listing
    assert {r["authorization"] for r in feed.requests} == {SECRET}
    with Session(engine) as session:
        run = session.execute(select(IngestRun)).scalar_one()
        assert run.feed_source_id == made.id
    assert_no_secret(listing)

    off = post_form(client, "/admin/feeds", f"/admin/feeds/{made.id}/enabled", enabled="0")
    assert off.status_code == 303  # type: ignore[attr-defined]
    assert source_row(engine, "nightly").enabled is False
    listing = client.get("/admin/feeds").text
    assert f"/admin/feeds/{made.id}/pull" not in listing  # no pulling a source that is off
    [entry] = [e for e in audit(engine, "feed_source", "nightly") if e.action == "update"]
    assert entry.changes == {"enabled": [True, False]}


@pytest.fixture
def used_20_days_ago(engine: Engine, world: factories.TwoBranches) -> int:
    with session_scope(engine) as session:
        unit = deploy(session, "SN9", "A1", "CA1", as_of() - timedelta(days=200))
        add_usage(session, unit.id, as_of() - timedelta(days=20), 3)
        return unit.id or 0


def status_of(engine: Engine, terminal_id: int) -> str:
    with Session(engine) as session:
        row = session.execute(
            select(TerminalScore).where(
                col(TerminalScore.terminal_id) == terminal_id, col(TerminalScore.as_of) == as_of()
            )
        ).scalar_one()
        return row.status.value


def test_a_scoring_setting_changed_on_the_page_changes_the_next_scoring(
    client: TestClient, engine: Engine, used_20_days_ago: int
) -> None:
    scoring_jobs.score_today(engine)
    assert status_of(engine, used_20_days_ago) == "active"
    sign_in(client, "admin")
    answer = post_form(
        client, "/admin/settings", "/admin/settings/scoring/active_days", active_days="10"
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = client.get("/admin/settings").text
    assert "由 admin 修改" in page and "/admin/settings/scoring/active_days/reset" in page
    [entry] = audit(engine, "setting", "active_days")
    assert (entry.action, entry.actor_name, entry.changes) == ("set", "admin", {"value": [30, 10]})
    scoring_jobs.score_today(engine)
    assert status_of(engine, used_20_days_ago) == "idle"

    reset = post_form(client, "/admin/settings", "/admin/settings/scoring/active_days/reset")
    assert reset.status_code == 303  # type: ignore[attr-defined]
    assert "/admin/settings/scoring/active_days/reset" not in client.get("/admin/settings").text
    scoring_jobs.score_today(engine)
    assert status_of(engine, used_20_days_ago) == "active"
    assert [e.action for e in audit(engine, "setting", "active_days")] == ["set", "reset"]


def test_a_bad_setting_is_refused_next_to_its_field(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    answer = post_form(
        client, "/admin/settings", "/admin/settings/scoring/active_days", active_days="120"
    )
    assert answer.status_code == 422  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert error_next_to(html, "active_days") == (
        "active_days（120）必须小于 dormant_days（90）：两者之间为闲置"
    )
    assert 'id="f-active_days" name="active_days" type="text" value="120"' in html
    assert audit(engine, "setting", "active_days") == []


def test_recovery_rules_are_set_and_cleared_per_branch(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    page = "/admin/settings?branch=A"
    action = "/admin/settings/rules/A/never_used"
    bad = post_form(client, page, action, **{"never_used.enabled": "1", "never_used.days": "soon"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert error_next_to(bad.text, "never_used.days") == "请输入整数。"  # type: ignore[attr-defined]

    saved = post_form(client, page, action, **{"never_used.enabled": "1", "never_used.days": "45"})
    assert saved.status_code == 303  # type: ignore[attr-defined]
    with Session(engine) as session:
        in_force = rules.Overrides(session)
        assert in_force.for_branch(world.branches["A1"].id or 0)["never_used"]["days"] == 45
        assert in_force.for_branch(world.branches["B1"].id or 0)["never_used"]["days"] == 60
    assert "A 自行设置" in client.get(page).text
    assert "沿用上级" in client.get("/admin/settings?branch=A1").text
    [entry] = audit(engine, "recovery_rule", "A:never_used")
    assert (entry.actor_name, entry.changes) == (
        "admin",
        {"params": [None, {"enabled": True, "days": 45}]},
    )

    cleared = post_form(client, page, f"{action}/clear")
    assert cleared.status_code == 303  # type: ignore[attr-defined]
    with Session(engine) as session:
        assert (
            rules.Overrides(session).for_branch(world.branches["A1"].id or 0)["never_used"]["days"]
            == 60
        )


def test_the_data_coverage_set_on_the_page_changes_the_next_scoring(
    client: TestClient, engine: Engine, world: factories.TwoBranches
) -> None:
    with session_scope(engine) as session:
        unit = deploy(session, "SN8", "A1", "CA1", as_of() - timedelta(days=200)).id or 0
    scoring_jobs.score_today(engine)
    assert status_of(engine, unit) == "never_used"
    sign_in(client, "admin")
    page = client.get("/admin/settings").text
    assert "数据覆盖" in page and "各机具的布放日（尚无数据覆盖）" in page
    action = "/admin/settings/coverage/default"
    field = "starts_on:default"
    bad = post_form(client, "/admin/settings", action, **{field: "2026-13-01"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert error_next_to(bad.text, field) == "请输入日期（YYYY-MM-DD）。"  # type: ignore[attr-defined]
    day = as_of() - timedelta(days=20)
    answer = post_form(client, "/admin/settings", action, **{field: day.isoformat()})
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert "由 admin 设置。" in client.get("/admin/settings").text
    [entry] = audit(engine, "data_coverage", "default")
    assert entry.changes == {"starts_on": [None, day.isoformat()]}
    scoring_jobs.score_today(engine)
    assert status_of(engine, unit) == "new"  # 20 days of data: too few to call it never used
    cleared = post_form(client, "/admin/settings", f"{action}/clear")
    assert cleared.status_code == 303  # type: ignore[attr-defined]
    scoring_jobs.score_today(engine)
    assert status_of(engine, unit) == "never_used"
