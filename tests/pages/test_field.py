"""Field pages at the protocol level, on both databases: today's route, the outcome form (the
same service as the API, so the same next steps), proof of visit, scope, flagged visits."""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.auth import service as auth
from fleet.auth.models import User, UserUpdate
from fleet.core.audit import AuditEntry
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.geo import distance_m, wgs84_to_gcj02
from fleet.inventory.models import Merchant, Terminal
from fleet.recovery.models import RecoveryRequest
from fleet.scoring.service import today_local
from fleet.visits import plan as planning
from fleet.visits.models import FollowUp, Visit, VisitStatus
from tests import factories
from tests.factories import SYSTEM
from tests.pages.forms import form_for
from tests.visits.conftest import build_region

OWNER, OTHER = "field_a1", "field_a2"  # with one staff member, county A's day is field_a1's


@dataclass
class FieldDay:
    today: date
    visits: list[int]  # today's visits of OWNER, in route order
    yesterday: list[int]  # yesterday's, all still planned
    other_visit: int  # a visit of OTHER (planned for another branch, B1: ops_a cannot see it)


def plan_field_day(engine: Engine) -> FieldDay:
    """The visits test region; county A planned yesterday and today for field_a1 alone, county B
    today for field_b1. Those who sign in get the factories' password."""
    os.environ["FLEET_REVISIT_SOLVER_SECONDS"] = "0.5"
    get_settings.cache_clear()
    today = today_local()
    with session_scope(engine) as session:
        build_region(session, today)
        for name in (OWNER, OTHER, "field_b1", "ops_a", "ops_b"):
            user = session.execute(select(User).where(User.username == name)).scalar_one()
            auth.update_user(session, SYSTEM, user, UserUpdate(password=factories.PASSWORD))
        before = planning.plan_day(
            session, SYSTEM, branch_code="A", plan_date=today - timedelta(days=1), staff_limit=1
        )
        plan = planning.plan_day(session, SYSTEM, branch_code="A", plan_date=today, staff_limit=1)
        planning.plan_day(session, SYSTEM, branch_code="B", plan_date=today)

        def ids(plan_id: int | None) -> list[int]:
            stmt = select(Visit).where(col(Visit.plan_id) == plan_id).order_by(col(Visit.seq))
            return [v.id or 0 for v in session.execute(stmt).scalars()]

        other = session.execute(
            select(Visit).where(col(Visit.plan_id) != plan.id, col(Visit.plan_id) != before.id)
        ).scalars()
        return FieldDay(today, ids(plan.id), ids(before.id), next(v.id or 0 for v in other))


def field_day(engine: Engine) -> Iterator[FieldDay]:
    """The planned day, and the solver's budget put back afterwards."""
    yield plan_field_day(engine)
    os.environ.pop("FLEET_REVISIT_SOLVER_SECONDS", None)
    get_settings.cache_clear()


@pytest.fixture
def day(engine: Engine) -> Iterator[FieldDay]:
    yield from field_day(engine)


def local_zone() -> ZoneInfo:
    """The bank's time zone, in which the pages show times."""
    return ZoneInfo(get_settings().feed_timezone)


def sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login",
        data={"username": username, "password": factories.PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def visit(engine: Engine, visit_id: int) -> Visit:
    with session_scope(engine) as session:
        found = session.get(Visit, visit_id)
        assert found is not None
        return found


def merchant_of(engine: Engine, visit_id: int) -> Merchant:
    with session_scope(engine) as session:
        found = session.get(Merchant, visit(engine, visit_id).merchant_id)
        assert found is not None
        return found


def stop_card(html: str, visit_id: int) -> str:
    """The part of a route page about one stop."""
    card = html[html.index(f'id="v{visit_id}"') :]
    return card[: card.index("</ol>")].split('<li id="v')[0]


def post_outcome(client: TestClient, visit_id: int, **fields: str) -> Any:
    page = client.get(f"/field/visits/{visit_id}")
    assert page.status_code == 200, page.text
    form = dict(form_for(page.text, f"/field/visits/{visit_id}/outcome"))
    assert "share_location" not in form  # unticked until the officer agrees
    form.update(fields)
    return client.post(f"/field/visits/{visit_id}/outcome", data=form, follow_redirects=False)


def test_today_lists_my_stops_in_route_order_with_times_and_navigation(
    client: TestClient, day: FieldDay, engine: Engine
) -> None:
    assert len(day.visits) >= 3 and day.yesterday
    sign_in(client, OWNER)
    page = client.get("/field/today")
    assert page.status_code == 200
    html = page.text
    with session_scope(engine) as session:
        stops = [session.get(Visit, i) for i in day.visits]
        merchants = [session.get(Merchant, v.merchant_id) for v in stops if v]
    # Route order, each stop with its number and planned arrival (bank time).
    positions = [html.index(f'id="v{i}"') for i in day.visits]
    assert positions == sorted(positions)
    today_part = html[: html.index("昨天未完成")]
    for stop, merchant in zip(stops, merchants, strict=True):
        assert stop is not None and merchant is not None
        arrival = stop.planned_arrival.astimezone(local_zone()).strftime("%H:%M")
        card = stop_card(today_part + "</ol>", stop.id or 0)
        assert card.index(arrival) < card.index(merchant.name)
        # AMap wants GCJ-02: the stored WGS-84 point shifted, longitude first.
        glat, glng = wgs84_to_gcj02(merchant.lat or 0, merchant.lng or 0)
        assert f"https://uri.amap.com/navigation?to={glng:.6f},{glat:.6f}," in card
        assert "&amp;mode=car&amp;" in card  # navigation by car, not a marker
        assert f"geo:{merchant.lat:.6f},{merchant.lng:.6f}?q=" in card
        assert distance_m((glat, glng), (merchant.lat or 0, merchant.lng or 0)) > 100
        assert 'href="tel:05391234567"' in card and merchant.opening_hours in card
    # Why each unit is on the list: status and days without use.
    assert "闲置" in html and "天未使用" in html
    # The sketch numbers every stop; the full map is a link away.
    sketch = html[html.index("<svg") : html.index("</svg>")]
    assert len(re.findall(r"<circle ", sketch)) == len(day.visits)
    assert f'href="/maps/routes?branch_code=A&amp;date={day.today.isoformat()}"' in html
    # Yesterday's unfinished visits come after today's.
    rest = html[html.index("昨天未完成") :]
    assert all(f'id="v{i}"' in rest for i in day.yesterday)
    # The route map page opens with the same cookie.
    route_map = client.get(
        f"/maps/routes?branch_code=A&date={day.today.isoformat()}",
        headers={"Accept": "text/html"},
    )
    assert route_map.status_code == 200
    # County A planned field_a1 alone: to field_a2 its plan stays outside their outlet's scope.
    client.cookies.clear()
    sign_in(client, OTHER)
    outside = client.get(
        f"/maps/routes?branch_code=A&date={day.today.isoformat()}",
        headers={"Accept": "text/html"},
    )
    assert outside.status_code == 404


def snapshot(engine: Engine, visit_id: int) -> dict[str, Any]:
    """What recording an outcome left behind, without ids and times."""
    with session_scope(engine) as session:
        v = session.get(Visit, visit_id)
        assert v is not None
        unit = session.get(Terminal, v.terminal_id)
        requests = session.execute(
            select(RecoveryRequest).where(col(RecoveryRequest.terminal_id) == v.terminal_id)
        ).scalars()
        follow_ups = session.execute(
            select(FollowUp).where(col(FollowUp.from_visit_id) == visit_id)
        ).scalars()
        entries = session.execute(
            select(AuditEntry).where(
                col(AuditEntry.entity) == "visit", col(AuditEntry.entity_id) == str(visit_id)
            )
        ).scalars()
        return {
            "status": v.status,
            "outcome": v.outcome,
            "note": v.note,
            "follow_up_on": v.follow_up_on and (v.follow_up_on - v.plan_date).days,
            "recorded_by": v.recorded_by_id,
            "steps": [s["kind"] for s in v.next_steps],
            "unit": unit.state if unit else None,
            "requests": [(r.status, r.source) for r in requests],
            "follow_ups": [((f.due_on - v.plan_date).days, f.staff_id, f.note) for f in follow_ups],
            "audit": [(e.action, e.actor_name, sorted(e.changes)) for e in entries],
            "proof": (v.proof_lat, v.proof_lng, v.proof_accuracy_m, v.proof_flagged),
        }


@pytest.mark.parametrize(
    ("outcome", "days_later"),
    [("wants_recovery", None), ("needs_training", 3), ("device_faulty", None)],
)
def test_an_outcome_through_the_page_lands_as_through_the_api(
    client: TestClient, day: FieldDay, engine: Engine, outcome: str, days_later: int | None
) -> None:
    by_page, by_api = day.visits[0], day.visits[1]
    follow_up = (day.today + timedelta(days=days_later)).isoformat() if days_later else ""
    sign_in(client, OWNER)
    answer = post_outcome(
        client, by_page, outcome=outcome, note="老板说下周再来", follow_up_on=follow_up
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/field/today#v{by_page}"
    token = client.post(
        "/api/v1/auth/token", data={"username": OWNER, "password": factories.PASSWORD}
    ).json()["access_token"]
    body: dict[str, Any] = {"outcome": outcome, "note": "老板说下周再来"}
    if follow_up:
        body["follow_up_on"] = follow_up
    api = client.post(
        f"/api/v1/visits/{by_api}/outcome",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 200, api.text
    assert snapshot(engine, by_page) == snapshot(engine, by_api)
    assert snapshot(engine, by_page)["status"] is VisitStatus.done
    # The page shows what was recorded, and its next step.
    today = client.get("/field/today").text
    card = stop_card(today, by_page)
    assert {"wants_recovery": "商户要求回收", "needs_training": "需要培训"}.get(
        outcome, "机具故障"
    ) in card
    assert "老板说下周再来" in card and "未共享位置" in card
    # No form left for a done visit.
    assert (
        f'action="/field/visits/{by_page}/outcome"'
        not in client.get(f"/field/visits/{by_page}").text
    )


def test_the_form_shows_problems_next_to_their_fields_and_keeps_what_was_typed(
    client: TestClient, day: FieldDay, engine: Engine
) -> None:
    sign_in(client, OWNER)
    target = day.visits[0]
    nothing = post_outcome(client, target, outcome="", note="写了一半")
    assert nothing.status_code == 422
    assert 'id="e-outcome"' in nothing.text and "请选择拜访结果" in nothing.text
    assert "写了一半" in nothing.text
    bad_date = post_outcome(client, target, outcome="needs_training", follow_up_on="12/05")
    assert bad_date.status_code == 422 and 'id="e-follow_up_on"' in bad_date.text
    # The service's rule (a follow-up after the visit), said next to the date field.
    too_soon = post_outcome(
        client, target, outcome="needs_training", follow_up_on=day.today.isoformat()
    )
    assert too_soon.status_code == 422
    error = too_soon.text[too_soon.text.index('id="e-follow_up_on"') :]
    assert error.startswith('id="e-follow_up_on">跟进日期必须在拜访之后')
    # Only a recover visit can be "collected": not offered, and refused when posted anyway.
    assert 'value="recovered"' not in client.get(f"/field/visits/{target}").text
    forged = post_outcome(client, target, outcome="recovered")
    assert forged.status_code == 422 and 'id="e-outcome"' in forged.text
    assert visit(engine, target).status is VisitStatus.planned


def test_proof_of_visit_near_far_and_without_consent(
    client: TestClient, day: FieldDay, engine: Engine
) -> None:
    near, far, unshared = day.visits[0], day.visits[1], day.visits[2]
    shop = merchant_of(engine, near)
    sign_in(client, OWNER)
    # About 100 m north of the shop, then about 2 km away; the third shares nothing.
    post_outcome(
        client,
        near,
        outcome="reached_promised",
        share_location="1",
        lat=f"{(shop.lat or 0) + 0.0009:.6f}",
        lng=f"{shop.lng:.6f}",
        accuracy_m="25",
    )
    away = merchant_of(engine, far)
    post_outcome(
        client,
        far,
        outcome="reached_promised",
        share_location="1",
        lat=f"{(away.lat or 0) + 0.018:.6f}",
        lng=f"{away.lng:.6f}",
        accuracy_m="30",
    )
    # Coordinates without the tick are not taken.
    post_outcome(client, unshared, outcome="reached_promised", lat="35.1", lng="118.3")
    close, distant, none = visit(engine, near), visit(engine, far), visit(engine, unshared)
    assert close.proof_distance_m is not None and 90 < close.proof_distance_m < 110
    assert close.proof_accuracy_m == 25 and not close.proof_flagged
    assert distant.proof_distance_m is not None and distant.proof_distance_m > 1900
    assert distant.proof_flagged
    assert none.status is VisitStatus.done
    assert (none.proof_lat, none.proof_lng, none.proof_distance_m) == (None, None, None)
    assert not none.proof_flagged
    today = client.get("/field/today").text
    assert re.search(r"离店(9\d|10\d|110)米", stop_card(today, near))
    assert "离店较远" not in stop_card(today, near)
    assert "离店较远" in stop_card(today, far) and "未共享位置" in stop_card(today, unshared)
    # The API's read model of the outcome carries the proof too.
    token = client.post(
        "/api/v1/auth/token", data={"username": OWNER, "password": factories.PASSWORD}
    ).json()["access_token"]
    shown = client.get(f"/api/v1/visits/{far}", headers={"Authorization": f"Bearer {token}"})
    assert shown.json()["proof"]["flagged"] is True
    assert shown.json()["proof"]["distance_m"] == distant.proof_distance_m
    unproved = client.get(
        f"/api/v1/visits/{unshared}", headers={"Authorization": f"Bearer {token}"}
    )
    assert unproved.json()["proof"] is None
    # Branch operations see the far one on the flags page; another county's do not.
    client.cookies.clear()
    sign_in(client, "ops_a")
    flags = client.get("/field/flags")
    assert flags.status_code == 200
    assert away.name in flags.text and shop.name not in flags.text
    client.cookies.clear()
    sign_in(client, "ops_b")
    assert away.name not in client.get("/field/flags").text


def test_a_field_user_sees_and_records_only_their_own_visits(
    client: TestClient, day: FieldDay, engine: Engine
) -> None:
    sign_in(client, OTHER)  # planned nothing in county A today
    mine = client.get("/field/today")
    assert mine.status_code == 200 and "今天没有给你安排的拜访" in mine.text
    assert all(f'id="v{i}"' not in mine.text for i in day.visits)
    theirs = client.get(f"/field/visits/{day.visits[0]}")
    assert theirs.status_code == 404 and "<h1>" in theirs.text
    # Posting for someone else's visit is refused, with a valid token of one's own.
    sign_in(client, OTHER)
    csrf = dict(form_for(client.get("/field/today").text, "/logout"))["csrf"]
    refused = client.post(
        f"/field/visits/{day.visits[0]}/outcome",
        data={"csrf": csrf, "outcome": "reached_promised"},
    )
    assert refused.status_code == 404
    assert visit(engine, day.visits[0]).status is VisitStatus.planned
    # Field staff do not get the branch's flags page.
    assert client.get("/field/flags").status_code == 403


def test_the_page_is_light(client: TestClient, day: FieldDay) -> None:
    """A slow connection: today's page, its style sheet and script stay small."""
    sign_in(client, OWNER)
    page = client.get("/field/today")
    css = client.get("/pages/static/pages.css")
    js = client.get("/pages/static/pages.js")
    total = len(page.content) + len(css.content) + len(js.content)
    packed = sum(len(gzip.compress(r.content)) for r in (page, css, js))
    print(f"\n/field/today: page {len(page.content)} B, with CSS+JS {total} B ({packed} B gzipped)")
    assert len(page.content) < 25_000, len(page.content)
    assert total < 40_000, total


def test_a_unit_never_used_in_the_data_says_so_on_its_stop(
    client: TestClient, day: FieldDay, engine: Engine
) -> None:
    # The reason's values as the visit list stores them for a unit deployed before the data.
    with session_scope(engine) as session:
        stop = session.get(Visit, day.visits[0])
        assert stop is not None
        said = {"status": "never_used", "days_idle": 61, "data_from": "2026-10-06"}
        stop.reason = {**stop.reason, **said}
        session.add(stop)
    sign_in(client, OWNER)
    card = stop_card(client.get("/field/today").text, day.visits[0])
    assert "61天数据内未使用（数据自2026-10-06起）" in card
    assert "61天未使用" not in card
