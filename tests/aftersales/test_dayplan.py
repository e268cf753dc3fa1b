"""The service day: tickets routed for service staff with restore deadlines as time windows,
assignees kept, swaps only with a spare of the staff member's branch, every route checked
independently; and the order the service phone page shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col

from fleet.aftersales import dayplan, service, spares
from fleet.aftersales.models import Priority, Symptom, Ticket, TicketSource
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.inventory import service as inventory
from fleet.visits import routes, solver
from fleet.visits.present import notes_said
from tests import factories
from tests.aftersales.conftest import SYSTEM, World
from tests.terminal import EN

DAY = date(2030, 3, 5)  # a Tuesday, a working day
SHANGHAI = ZoneInfo("Asia/Shanghai")

ZH = texts_for("zh")


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


def more_units(world: World, count: int, outlet: str = "A1") -> list[str]:
    """Deployed units at new merchants spread around the outlet."""
    sns = []
    with session_scope(world.engine) as session:
        for n in range(count):
            code = f"M{outlet}{n}"
            lat = 35.0 + (0.0 if outlet == "A1" else 0.5) + 0.004 * (n % 5)
            factories.merchant(session, code, outlet, lat=lat, lng=118.35 + 0.004 * (n // 5))
            factories.terminal(session, f"SN{code}", outlet, code)
            sns.append(f"SN{code}")
    return sns


def ticket(
    world: World,
    sn: str,
    due: datetime,
    symptom: Symptom = Symptom.phone_line,
    who: str = "branch_ops_a",
    priority: Priority = Priority.normal,
) -> int:
    """A ticket opened as operations do, with its restore deadline set to `due` (the SLA clock
    has its own tests; here the deadline is the input)."""
    actor = world.actor(who)
    with session_scope(world.engine) as session:
        unit = inventory.terminal_by_sn(session, actor, sn)
        opened = service.open_ticket(
            session, actor, unit, symptom, source=TicketSource.phone, priority=priority
        )
        session.execute(update(Ticket).where(col(Ticket.id) == opened.id).values(restore_by=due))
        return opened.id or 0


def plan(world: World, code: str = "A", seconds: float = 1.0) -> dayplan.ServicePlan:
    with session_scope(world.engine) as session:
        made = dayplan.plan_service_day(
            session, SYSTEM, branch_code=code, plan_date=DAY, seconds=seconds
        )
        session.expunge(made)
        return made


def order(world: World, username: str) -> list[int]:
    with session_scope(world.engine) as session:
        user_id = world.actor(username).user_id or 0
        return dayplan.service_day_order(session, user_id, DAY)


def shown(world: World, code: str = "A") -> dayplan.PlanPublic:
    with session_scope(world.engine) as session:
        stored = dayplan.get_plan(session, SYSTEM, branch_code=code, plan_date=DAY)
        return dayplan.plan_public(session, stored)


def test_deadlines_are_kept_and_the_order_is_what_the_phone_shows(world: World) -> None:
    sns = more_units(world, 6)
    # Due at 10:00 (a required stop, visit ending by then), the others later in the day.
    early = ticket(world, sns[0], at(10))
    others = [ticket(world, sn, at(17, 30)) for sn in sns[1:]]
    made = plan(world)
    assert made.unplanned == []
    public = shown(world)
    stops = {s.visit_id: s for r in public.routes for s in r.stops}
    assert set(stops) == {early, *others}
    assert stops[early].departure.astimezone(UTC) <= at(10)
    assert "10:00 前修复" in ZH.phrase(stops[early].why)
    # The phone page's order: each staff member's tickets, in route order, from the plan.
    seen = order(world, "svc_a") + order(world, "svc_a2")
    assert sorted(seen) == sorted([early, *others])
    for route in public.routes:
        assert order(world, route.username) == [s.visit_id for s in route.stops]
    assert order(world, "svc_b") == []
    # Re-planning replaces the stops rather than adding to them.
    plan(world)
    assert sorted(order(world, "svc_a") + order(world, "svc_a2")) == sorted([early, *others])


def test_an_assigned_ticket_stays_with_its_assignee(world: World) -> None:
    sns = more_units(world, 3)
    ids = [ticket(world, sn, at(16)) for sn in sns]
    with session_scope(world.engine) as session:
        service.assign(session, world.actor("branch_ops_a"), ids[1], "svc_a2")
    plan(world)
    assert ids[1] in order(world, "svc_a2") and ids[1] not in order(world, "svc_a")


def test_a_swap_needs_a_spare_of_the_staff_members_branch(world: World) -> None:
    [sn] = more_units(world, 1)
    swap = ticket(world, sn, at(16), Symptom.card_reader)
    plan(world)
    public = shown(world)
    assert [u.reason_code for u in public.unplanned] == ["no_goods"]
    assert ZH.phrase({"code": "unplanned_no_goods"}) == "本网点没有可用备机"
    # B1's spare is no use at A1 (restore would refuse it): still unplanned.
    with session_scope(world.engine) as session:
        spares.mark(session, SYSTEM, "SPB1")
    plan(world, "LY")
    assert [u.reason_code for u in shown(world, "LY").unplanned] == ["no_goods"]
    with session_scope(world.engine) as session:
        spares.mark(session, SYSTEM, "SPA1")
    made = plan(world)
    assert made.unplanned == []
    [carrier] = [r for r in made.routes if r["spares"]]
    assert carrier["spares"] == ["SPA1"]
    assert any("换机，带备机" in ZH.phrase(s.why) for r in shown(world).routes for s in r.stops)
    assert swap in order(world, "svc_a") + order(world, "svc_a2")


def test_late_and_unreachable_tickets_come_first_but_are_not_forced(world: World) -> None:
    sns = more_units(world, 3)
    late = ticket(world, sns[0], at(16, day=date(2030, 3, 4)))  # due yesterday
    # Due at 09:16: a 45-minute visit would have to start by 08:31, one minute after the shift
    # starts, and the shop is farther than that: served as early as possible instead.
    behind = ticket(world, sns[1], at(9, 16))
    later = ticket(world, sns[2], at(11, day=date(2030, 3, 7)))
    made = plan(world)
    assert made.unplanned == []
    assert any("cannot be reached by their deadline" in n for n in notes_said(made.notes))
    assert {late, behind, later} <= set(order(world, "svc_a") + order(world, "svc_a2"))


def test_the_validator_finds_a_missed_deadline_a_spare_not_carried_and_a_stranger() -> None:
    import numpy as np

    from fleet.visits.validate import Call, Rules, check_route

    rules = Rules(shift=(30600, 63000), lunch=(43200, 46800), lunch_latest=45000, service_s=2700)
    durations = np.zeros((2, 2), dtype=np.int64)
    call = Call(
        1, "08:00-18:00", 32400, 32400, 35100, due=34200, goods="spare:7", only=frozenset({2})
    )
    found = check_route(
        rules,
        durations,
        start=0,
        end=0,
        earliest=30600,
        depart=32400,
        back=36000,
        calls=[call],
        lunch=None,
        who=1,
        carrying={"spare:8": 1},
    )
    assert found == [
        "stop 1: ends at 09:45:00, after its deadline 09:30:00",
        "stop 1: not one this person may make",
        "takes 1 of spare:7, carries 0",
    ]


def test_required_stops_that_cannot_all_fit_keep_as_many_as_fit(world: World) -> None:
    # Twelve tickets due by 10:00, two staff: at most a few fit; the rest are left out, and
    # what is planned keeps every deadline.
    sns = more_units(world, 12)
    for sn in sns:
        ticket(world, sn, at(10))
    made = plan(world)
    kept = order(world, "svc_a") + order(world, "svc_a2")
    assert 2 <= len(kept) < 12
    assert len(made.unplanned) == 12 - len(kept)
    for route in shown(world).routes:
        assert all(s.departure.astimezone(UTC) <= at(10) for s in route.stops)
    assert solver.REQUIRED_PRIZE > 0 and routes.Routed


def test_planning_is_for_operations(world: World) -> None:
    import pytest

    from fleet.core.errors import Forbidden

    with pytest.raises(Forbidden), session_scope(world.engine) as session:
        dayplan.plan_service_day(
            session, world.actor("svc_a"), branch_code="A", plan_date=DAY, seconds=0.5
        )


def test_the_command_line_plans_and_writes_the_day(world: World, tmp_path: object) -> None:
    import json
    from pathlib import Path

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from fleet.cli.main import app

    [sn] = more_units(world, 1)
    ticket_id = ticket(world, sn, at(15))
    runner = CliRunner()
    args = ["service", "plan", "--branch", "A", "--date", DAY.isoformat(), "--seconds", "0.5"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert [s["visit_id"] for r in body["routes"] for s in r["stops"]] == [ticket_id]
    assert body["routes"][0]["stops"][0]["kind"] == "service"
    out = Path(str(tmp_path)) / "day.xlsx"
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0 and "的售后计划：1 张工单，已写入" in result.stdout
    book = load_workbook(out)
    cells = [c for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert "故障维修" in cells and any(
        isinstance(c, str) and f"工单 #{ticket_id}" in c for c in cells
    )
    page = Path(str(tmp_path)) / "day.html"
    assert runner.invoke(app, [*args, "--out", str(page)]).exit_code == 0
    assert f"工单 #{ticket_id}" in page.read_text(encoding="utf-8")
    drawn = Path(str(tmp_path)) / "map.html"
    result = runner.invoke(
        app,
        [
            "map",
            "routes",
            "--branch",
            "A",
            "--date",
            DAY.isoformat(),
            "--service",
            "--out",
            str(drawn),
        ],
    )
    assert result.exit_code == 0 and "2 条路线，1 站" in result.stdout, result.stderr
    assert result.stdout.startswith("服务路线图 · ") and "回访路线图" not in result.stdout
    assert "商户MA10" in drawn.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["service", "plan", "--branch", "A", "--date", "tomorrow"], env=EN)
    assert bad.exit_code == 1 and "is not a date" in bad.stderr


def test_the_api_plans_the_day_and_shows_a_staff_member_theirs(
    client: object, world: World
) -> None:
    from fastapi.testclient import TestClient

    from tests.web.conftest import sign_in

    assert isinstance(client, TestClient)
    [sn] = more_units(world, 1)
    ticket_id = ticket(world, sn, at(15))
    with session_scope(world.engine) as session:
        service.assign(session, world.actor("branch_ops_a"), ticket_id, "svc_a")
    ops, svc = sign_in(client, "branch_ops_a"), sign_in(client, "svc_a")
    body = {"branch_code": "A", "date": DAY.isoformat(), "seconds": 0.5}
    made = client.post("/api/v1/service/plan", json=body, headers=ops)
    assert made.status_code == 200, made.text
    assert client.post("/api/v1/service/plan", json=body, headers=svc).status_code == 403
    mine = client.get("/api/v1/service/my-day", params={"date": DAY.isoformat()}, headers=svc)
    assert mine.status_code == 200, mine.text
    assert [s["visit_id"] for r in mine.json()["routes"] for s in r["stops"]] == [ticket_id]
    other = sign_in(client, "svc_a2")
    none = client.get(
        "/api/v1/service/my-day",
        params={"date": DAY.isoformat()},
        headers={**other, "Accept-Language": "zh-CN"},
    )
    assert none.status_code == 404
    assert none.json()["error"]["message"] == "2030-03-05 没有为您安排售后路线"
    stored = client.get(
        "/api/v1/service/plan", params={"branch_code": "A", "date": DAY.isoformat()}, headers=ops
    )
    assert stored.status_code == 200 and stored.json()["planned"] == 1
