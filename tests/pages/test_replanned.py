"""A re-planned day gives no old visit id to another visit: the visits it replaces keep their
ids (cancelled), and an outcome for one of them is refused with the reason, in the user's
language, on the API and the field page (before, id 23 moved to another officer and unit, and a
form opened before the re-plan recorded its outcome on the wrong visit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.db import session_scope
from fleet.visits import plan as planning
from fleet.visits.models import Visit, VisitStatus
from tests import factories
from tests.factories import SYSTEM
from tests.pages.forms import form_for
from tests.pages.test_field import OWNER, FieldDay, field_day, sign_in

REFUSED_EN = "was re-planned away: its day was planned again and it is on no route now"
REFUSED_ZH = "已因重新排计划而取消"


@pytest.fixture
def day(engine: Engine) -> Iterator[FieldDay]:
    yield from field_day(engine)


def replan_for_everyone(engine: Engine, day: FieldDay) -> dict[int, tuple[int, int | None]]:
    """County A's day planned again, now with all its field staff; the visits it had before
    (id -> staff, unit) as they were."""
    with session_scope(engine) as session:
        before = {
            v.id or 0: (v.staff_id, v.terminal_id)
            for v in session.execute(select(Visit).where(col(Visit.id).in_(day.visits))).scalars()
        }
        planning.plan_day(session, SYSTEM, branch_code="A", plan_date=day.today)
    return before


def test_re_planning_gives_no_old_id_to_another_visit(engine: Engine, day: FieldDay) -> None:
    before = replan_for_everyone(engine, day)
    with session_scope(engine) as session:
        visits = list(session.execute(select(Visit)).scalars())
    by_id = {v.id: v for v in visits}
    for visit_id, (staff, unit) in before.items():
        old = by_id[visit_id]
        assert (old.staff_id, old.terminal_id, old.status) == (staff, unit, VisitStatus.cancelled)
    newest_before = max(day.visits + day.yesterday + [day.other_visit])
    new = [v for v in visits if v.plan_date == day.today and v.status is VisitStatus.planned]
    assert len({v.staff_id for v in new}) > 1  # the day is shared out anew
    assert all((v.id or 0) > newest_before for v in new if v.id not in (day.other_visit,))


def test_an_outcome_for_a_visit_re_planned_away_is_refused_with_the_reason(
    client: TestClient, engine: Engine, day: FieldDay
) -> None:
    sign_in(client, OWNER)
    old = day.visits[0]
    opened = client.get(f"/field/visits/{old}")  # the form, opened before the re-plan
    form = dict(form_for(opened.text, f"/field/visits/{old}/outcome"))
    form["outcome"] = "reached_promised"
    replan_for_everyone(engine, day)

    page = client.post(f"/field/visits/{old}/outcome", data=form, follow_redirects=False)
    assert page.status_code == 409
    assert REFUSED_ZH in page.text
    assert f'action="/field/visits/{old}/outcome"' not in page.text
    assert REFUSED_ZH in client.get(f"/field/visits/{old}").text
    assert f"v{old}" not in client.get("/field/today").text  # no longer on today's route

    token = client.post(
        "/api/v1/auth/token", data={"username": OWNER, "password": factories.PASSWORD}
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {"outcome": "reached_promised"}
    english = client.post(f"/api/v1/visits/{old}/outcome", json=body, headers=bearer)
    chinese = client.post(
        f"/api/v1/visits/{old}/outcome", json=body, headers=bearer | {"Accept-Language": "zh"}
    )
    assert english.status_code == 409
    assert (
        english.json()["error"]["message"]
        == f"visit {old} {REFUSED_EN}; open the day's visits again"
    )
    assert REFUSED_ZH in chinese.json()["error"]["message"]
    with session_scope(engine) as session:
        untouched = session.get(Visit, old)
        assert untouched is not None
        assert (untouched.status, untouched.outcome) == (VisitStatus.cancelled, None)
