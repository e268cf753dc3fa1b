"""The operations' plans page at the protocol level, on both databases: a summary line per
field officer, one officer's stops per page, a stop moved to another officer through the page
(audited; refusals said in Chinese, nothing changed), the day planned again, and its sheets
printed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.scoring import service as scoring
from fleet.visits import plan as planning
from fleet.visits.models import Visit, VisitStatus
from tests import factories
from tests.pages.forms import form_for
from tests.pages.test_ops import OpsWorld, build_world, text_of
from tests.pages.test_session import sign_in
from tests.scoring.util import deploy


@pytest.fixture
def ops_world(engine: Engine, tmp_path: Path) -> OpsWorld:
    """test_ops' world, with three more never-used units in A1 and a second field officer,
    and the day planned again so that field_a has stops still to make."""
    world = build_world(engine, tmp_path)
    with session_scope(engine) as session:
        factories.user(session, "field_a2", factories.Role.field, "A1")
        for n in range(5, 8):
            factories.merchant(session, f"MA{n}", "A1", lat=35.01 + n / 1000, lng=118.36,
                               phone="13812345678")  # fmt: skip
            deploy(session, f"UA{n}", "A1", f"MA{n}", world.today - timedelta(days=60))
        scoring.score(session, as_of=world.today)
    with session_scope(engine) as session:
        planning.plan_day(session, factories.SYSTEM, branch_code="A", plan_date=world.today,
                          seconds=0.3, staff_limit=1)  # fmt: skip
    return world


def planned_of(engine: Engine, username: str) -> list[Visit]:
    with Session(engine) as session:
        from fleet.auth.models import User

        user = session.execute(select(User).where(User.username == username)).scalar_one()
        stmt = select(Visit).where(
            col(Visit.staff_id) == user.id, col(Visit.status) == VisitStatus.planned
        )
        return sorted(session.execute(stmt).scalars(), key=lambda v: v.seq)


def test_a_summary_line_per_officer_and_one_officers_stops_per_page(
    client: TestClient, ops_world: OpsWorld
) -> None:
    sign_in(client, "branch_ops_a")
    summary = client.get("/ops/plans").text
    assert 'id="officers"' in summary and 'id="stops"' not in summary
    day = ops_world.today.isoformat()
    link = f"/ops/plans?branch=A&amp;date={day}&amp;staff=field_a"
    assert link in summary
    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200 and 'id="stops"' in page.text
    assert "移交给" in page.text and "Field_A2" in page.text  # whom a stop may go to
    assert 'action="/ops/plans/move"' in page.text


def test_a_stop_moves_through_the_page_and_is_audited(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    day = ops_world.today.isoformat()
    page = client.get(f"/ops/plans?branch=A&date={day}&staff=field_a").text
    before = planned_of(engine, "field_a")
    assert before
    fields = dict(form_for(page, "/ops/plans/move"))
    with Session(engine) as session:
        from fleet.auth.models import User

        to = session.execute(select(User).where(User.username == "field_a2")).scalar_one().id
    assert fields["visit"] == str(before[0].id)  # the first stop's form
    fields["to"] = str(to)
    done = client.post("/ops/plans/move", data=fields, follow_redirects=True)
    assert "已移交给Field_A2，排在其路线第 1 站。" in text_of(done.text)
    assert [v.id for v in planned_of(engine, "field_a2")] == [before[0].id]
    assert [v.id for v in planned_of(engine, "field_a")] == [v.id for v in before[1:]]
    with Session(engine) as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.entity == "visit", AuditEntry.action == "move")
        ).scalar_one()
        assert entry.actor_name == "branch_ops_a"
    # The stop is done or gone now: moving it again is refused in words, nothing changes.
    again = client.post("/ops/plans/move", data={**fields, "to": str(to)})
    assert again.status_code == 422 and "请选择本计划所辖网点的另一位客户经理" in text_of(
        again.text
    )
    assert [v.id for v in planned_of(engine, "field_a2")] == [before[0].id]


def test_the_day_is_planned_again_and_printed(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    page = client.get("/ops/plans").text
    fields = form_for(page, "/ops/plans/replan")
    done = client.post("/ops/plans/replan", data=dict(fields), follow_redirects=True)
    assert "已重新规划当天" in text_of(done.text)
    day = ops_world.today.isoformat()
    printed = client.get(f"/ops/plans/print?branch=A&date={day}")
    assert printed.status_code == 200 and "回访计划" in printed.text
    policy = printed.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in printed.text and "script-src 'self' 'nonce-" in policy
    assert "13812345678" in printed.text  # ops print contacts, to call the shops
    one = client.get(f"/ops/plans/print?branch=A&date={day}&staff=field_a")
    assert one.status_code == 200 and "Field_A2" not in one.text
    # One sheet: no empty table of candidates left out on a page of its own.
    assert one.text.count("<section") == 1 and "未安排的候选（0）" not in one.text
    tomorrow = (ops_world.today + timedelta(days=1)).isoformat()
    assert client.get(f"/ops/plans/print?branch=A&date={tomorrow}").status_code == 404


def test_another_branchs_operations_cannot_move_or_print(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    day = ops_world.today.isoformat()
    fields = dict(form_for(client.get(f"/ops/plans?branch=A&date={day}&staff=field_a").text,
                           "/ops/plans/move"))  # fmt: skip
    client.cookies.clear()
    sign_in(client, "branch_ops_b")
    csrf = dict(form_for(client.get("/ops/plans").text, "/ops/plans/replan"))
    before = planned_of(engine, "field_a")
    answer = client.post("/ops/plans/move", data={**fields, **csrf, "to": str(before[0].staff_id)})
    assert answer.status_code == 404
    assert client.get(f"/ops/plans/print?branch=A&date={day}").status_code == 404
    assert [v.id for v in planned_of(engine, "field_a")] == [v.id for v in before]


def test_a_day_gone_by_is_not_planned_again_from_the_page(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    """A mistyped date planned hundreds of stops nobody would make, on a day already over."""
    from fleet.visits.models import VisitPlan

    sign_in(client, "branch_ops_a")
    fields = dict(form_for(client.get("/ops/plans").text, "/ops/plans/replan"))
    yesterday = ops_world.today - timedelta(days=1)
    refused = client.post("/ops/plans/replan", data=fields | {"date": yesterday.isoformat()})
    assert refused.status_code == 422
    assert "已过去的日子不能重新规划" in text_of(refused.text)
    with Session(engine) as session:
        plans = session.execute(
            select(VisitPlan).where(col(VisitPlan.plan_date) == yesterday)
        ).all()
        assert plans == []
    # Nor does the page offer it.
    shown = client.get(f"/ops/plans?branch=A&date={yesterday.isoformat()}").text
    assert 'action="/ops/plans/replan"' not in shown
