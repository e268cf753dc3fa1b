"""The 五提升 scorecard on a hand-built history: the cohort at the baseline, activation with
k, the Wilson bound, a portfolio handed over mid-period counted by days held, 动户率 and
使用率, the baseline frozen by an approved plan, weights and imported rates in the points,
and who sees what."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from fleet.core.access import Actor, Role
from fleet.core.audit import AuditEntry
from fleet.core.errors import Conflict, Forbidden, Invalid
from fleet.feeds import service
from fleet.inventory import holders
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from fleet.pay import periods, plans, rates, weights
from fleet.pay.figures import wilson_lower_bound
from fleet.pay.scorecard import ScoreRow, scorecard
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import DEPLOYED, line, write_feed

JUNE = periods.parse("2026-06")


def near(value: float) -> object:
    """Shares of units are given to 3 decimals."""
    return pytest.approx(value, abs=1e-3)


def uses(ref: str, sn: str, day: str, times: int) -> list[str]:
    merchant = "M" + sn[1:]
    return [line(f"{ref}{n}", sn, f"{day}T1{n}:00:00", merchant=merchant) for n in range(times)]


# Units deployed on 1 March. At 1 June: T1 idle (last use 15 April), T2 dormant (2 March),
# T3 and T5 never used, T4 active (20 May). In June T1 and T3 make 3 transactions (T3 on
# 30 June, the 30th day), T2 only 2. At 1 May (the baseline period): T2 idle, T3, T4 and T5
# never used; in May only T4 makes 3.
HISTORY = [
    *uses("A", "T1", "2026-04-15", 1),
    *uses("B", "T2", "2026-03-02", 1),
    *uses("C", "T4", "2026-05-20", 3),
    *uses("D", "T1", "2026-06-10", 3),
    *uses("E", "T2", "2026-06-11", 2),
    *uses("F", "T3", "2026-06-30", 3),
    *uses("G", "T5", "2026-07-01", 3),  # the 31st day: too late
]


def world(session: Session, tmp_path: Path) -> None:
    """li holds M1–M3, wang M4–M5, since ever; M3 is handed to wang from 11 June (li held it
    10 days of June, wang 20)."""
    factories.branch(session, "LY", level="city")
    for username in ("li", "wang"):
        factories.user(session, username, Role.field, "LY")
    for n in range(1, 6):
        factories.merchant(session, f"M{n}", "LY", staff_username="li" if n <= 3 else "wang")
        inventory.create_terminal(
            session,
            SYSTEM,
            TerminalCreate(
                sn=f"T{n}", branch_code="LY", merchant_code=f"M{n}", deployed_at=DEPLOYED
            ),
        )
    holders.hand_over(
        session,
        SYSTEM,
        inventory.merchant_by_code(session, SYSTEM, "M3"),
        inventory.staff_by_username(session, SYSTEM, "wang"),
        date(2026, 6, 11),
    )
    session.commit()
    ingest(tmp_path / "feed.csv", HISTORY)


def ingest(path: Path, lines: list[str]) -> None:
    report = service.ingest_file(write_feed(path, lines), actor=SYSTEM)
    assert report.rejected == 0


def rows(session: Session, actor: Actor = SYSTEM, **kw: object) -> dict[str, ScoreRow]:
    card = scorecard(session, actor, period=JUNE, **kw)  # type: ignore[arg-type]
    return {r.key: r for r in card.rows}


def test_the_cohort_activation_and_days_held(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    found = rows(session)
    li, wang = found["li"], found["wang"]
    # li: T1 and T2 whole, T3 for 10 of June's 30 days; T1 and T3 woke.
    assert (li.cohort, li.activated) == (near(2 + 1 / 3), near(1 + 1 / 3))
    assert (wang.cohort, wang.activated) == (near(1 + 2 / 3), near(2 / 3))
    assert li.wilson and li.score == near(wilson_lower_bound(4 / 3, 7 / 3))
    assert li.rate == near(4 / 7)
    # May's cohort, all of May held as before the handover: li T2, T3 (none woke); wang T4
    # (woke) and T5.
    assert (li.baseline_cohort, li.baseline_activated) == (2, 0)
    assert (wang.baseline_cohort, wang.baseline_activated) == (2, 1)
    assert li.change == near(wilson_lower_bound(4 / 3, 7 / 3) - 0)
    # 动户率 at the end of June: li's units all used; wang's T3 share of 2/3 of 2 2/3 units.
    assert li.active_rate == near(1.0) and wang.active_rate == near(0.25)
    # At 1 June only T4 (wang's) had been used in the 30 days before.
    assert li.active_rate_start == 0 and wang.active_rate_start == near(1 / (8 / 3))
    assert li.active_rate_change == near(1.0)
    # 使用率: li 3 + 2 + 3 × 10/30 transactions over 30 + 30 + 10 unit-days.
    assert li.usage_rate == near(6 / 70) and wang.usage_rate == near(2 / 80)
    assert li.sleeping == [] or set(li.sleeping) <= {"T2"}


def test_k_and_the_branch_rows(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    assert rows(session, k=2)["li"].activated == near(2 + 1 / 3)
    (branch,) = rows(session, by="branch").values()
    assert (branch.key, branch.cohort, branch.activated, branch.rate) == ("LY", 4, 2, 0.5)
    assert branch.wilson and branch.score == near(wilson_lower_bound(2, 4))


def test_an_approved_plan_freezes_the_baseline(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    field = Actor(username="li", role=Role.field, user_id=1)
    with pytest.raises(Forbidden):
        plans.create_plan(session, field, period="2026-06", branch_code="LY")
    plan = plans.create_plan(session, SYSTEM, period="2026-06", branch_code="LY")
    assert plan.id is not None
    plans.approve(session, SYSTEM, plan.id)
    with pytest.raises(Conflict):
        plans.approve(session, SYSTEM, plan.id)
    session.commit()
    # A late line: T2 was used on 20 May after all. Live, it leaves the June cohort; frozen,
    # it stays in it.
    ingest(tmp_path / "late.csv", uses("H", "T2", "2026-05-20", 1))
    card = scorecard(session, SYSTEM, period=JUNE)
    assert card.frozen
    assert {r.key: r.cohort for r in card.rows}["li"] == near(2 + 1 / 3)
    audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "scorecard_plan")).all()
    assert [a.action for a in audit] == ["create", "approve"]
    assert audit[1].changes["cohort"] == 4


def test_without_a_plan_the_baseline_moves(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    ingest(tmp_path / "late.csv", uses("H", "T2", "2026-05-20", 1))
    assert rows(session)["li"].cohort == near(1 + 1 / 3)


def test_points_from_weights_and_imported_rates(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    sheet = tmp_path / "rates.csv"
    sheet.write_bytes(
        "工号,期间,ATM分流率,存折换卡,企业网银覆盖率,个人网银动户率\n"
        "li,2026-06,80%,0.5,40,\n".encode("gbk")
    )
    assert rates.import_rates(session, SYSTEM, sheet, "rates.csv") == 3
    weights.set_weights(
        session,
        SYSTEM,
        "field",
        {
            "activation": 50,
            "atm_diversion": 50,
            "passbook_to_card": 0,
            "corporate_ebank": 0,
            "personal_ebank": 0,
        },
    )
    li = rows(session)["li"]
    assert li.rates == {"atm_diversion": 0.8, "passbook_to_card": 0.5, "corporate_ebank": 0.4}
    assert li.points == near(100 * (0.5 * li.score + 0.5 * 0.8))  # type: ignore[operator]
    assert li.rank == 1


def test_a_bad_rates_file_lists_its_rows_and_changes_nothing(
    session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    sheet = tmp_path / "rates.csv"
    sheet.write_text(
        "工号,期间,ATM分流率\nli,2026-06,80%\nnobody,2026-06,10%\nwang,2026-13,5%\nwang,2026-06,150%\n",
        encoding="utf-8",
    )
    with pytest.raises(Invalid) as refused:
        rates.import_rates(session, SYSTEM, sheet, "rates.csv")
    text = str(refused.value)
    assert "3 (nobody" in text and "4 (2026-13" in text and "5 (150%" in text
    assert rates.for_period(session, "2026-06") == {}
    with pytest.raises(Invalid):
        weights.set_weights(session, SYSTEM, "field", {"activation": 101})
    field = Actor(username="li", role=Role.field)
    with pytest.raises(Forbidden):
        weights.set_weights(session, field, "field", {"activation": 10})


def test_staff_see_their_own_line_without_money(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    li = inventory.staff_by_username(session, SYSTEM, "li")
    actor = Actor(username="li", role=Role.field, user_id=li.id, branch_ids=None)
    (own,) = scorecard(session, actor, period=JUNE).rows
    assert own.key == "li" and own.net_fen is None and own.yield_rate is None
    assert rows(session)["li"].net_fen == 0
    with pytest.raises(Forbidden):
        scorecard(session, actor, period=JUNE, by="branch")


def test_the_command_line_json_xlsx_plan_and_weights(session: Session, tmp_path: Path) -> None:
    import json

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from fleet.cli.main import app

    world(session, tmp_path)
    cli = CliRunner()
    result = cli.invoke(app, ["scorecard", "--period", "2026-06", "--json"])
    assert result.exit_code == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["k"] == 3 and not card["frozen"]
    assert {r["key"]: r["cohort"] for r in card["rows"]} == {"li": 2.333, "wang": 1.667}
    out = tmp_path / "hr.xlsx"
    result = cli.invoke(app, ["scorecard", "--period", "2026-06", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    sheet = load_workbook(out).active
    assert sheet is not None
    header, *lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:3] == ["排名", "名称", "用户名"] and "存量激活基数（户）" in header
    assert [(r[2], r[3]) for r in lines] == [("li", "客户经理"), ("wang", "客户经理")]
    # On an English terminal HR's workbook is English, as the text is.
    english_out = tmp_path / "hr-en.xlsx"
    result = cli.invoke(
        app,
        ["scorecard", "--period", "2026-06", "--out", str(english_out)],
        env={"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""},
    )
    assert result.exit_code == 0, result.stderr
    english_sheet = load_workbook(english_out).active
    assert english_sheet is not None
    english_header = next(english_sheet.iter_rows(values_only=True))
    assert "Activation cohort" in english_header and "存量激活基数（户）" not in english_header
    english = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    chinese = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    plan = cli.invoke(
        app, ["scorecard", "plan", "--period", "2026-06", "--branch", "LY"], env=chinese
    )
    assert plan.exit_code == 0 and plan.stdout.endswith("：2026-06 LY（k = 3），草稿\n")
    plan_id = plan.stdout.split()[1].split("：")[0]
    assert cli.invoke(app, ["scorecard", "approve", plan_id]).exit_code == 0
    again = cli.invoke(app, ["scorecard", "approve", plan_id], env=english)
    assert again.exit_code == 1 and "approved already" in again.stderr
    text = cli.invoke(app, ["scorecard", "--period", "2026-06"], env=english)
    assert "baseline frozen" in text.stdout
    text = cli.invoke(app, ["scorecard", "--period", "2026-06"], env=chinese)
    # The ranking names each person first, the username second, in the terminal's language.
    name = inventory.staff_by_username(session, SYSTEM, "li").full_name
    assert "基线已由批准的计划冻结" in text.stdout and f"{name} (li)" in text.stdout
    assert "cohort" not in text.stdout and "积分" in text.stdout
    set_ = cli.invoke(
        app, ["scorecard", "weights", "--role", "field", "--set", "activation=60", "--json"]
    )
    assert set_.exit_code == 0 and json.loads(set_.stdout)["field"]["activation"] == 60
    bad = cli.invoke(app, ["scorecard", "--period", "2026-06", "--by", "market"], env=english)
    assert bad.exit_code == 1 and "staff or branch" in bad.stderr


def test_a_placement_counts_for_the_holder_and_its_days(session: Session, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    world(session, tmp_path)
    inventory.create_terminal(
        session,
        SYSTEM,
        TerminalCreate(
            sn="T6",
            branch_code="LY",
            merchant_code="M1",
            deployed_at=datetime(2026, 6, 15, 2, tzinfo=UTC),
        ),
    )
    found = rows(session)
    assert (found["li"].placements, found["wang"].placements) == (1, 0)
    # T6 deployed 15–30 June: 16 more unit-days for li, and one more unit at the end.
    assert found["li"].usage_rate == near(6 / 86)
    assert found["li"].deployed == near(3 + 1 / 3)
    # Not in the cohort: it was not deployed at the baseline.
    assert found["li"].cohort == near(2 + 1 / 3)


def test_a_rates_refusal_names_each_row_in_the_readers_words(
    session: Session, tmp_path: Path
) -> None:
    from fleet.core.i18n import texts_for

    world(session, tmp_path)
    sheet = tmp_path / "rates.csv"
    sheet.write_bytes(
        "工号,期间,ATM分流率\nzhang3,2026-06,80%\nwang,2026-13,5%\nwang,2999-01,5%\n"
        "li,2026-06,150%\n".encode("gbk")
    )
    with pytest.raises(Invalid) as refused:
        rates.import_rates(session, SYSTEM, sheet, "rates.csv")
    assert texts_for("zh").error(refused.value) == (
        "rates.csv：未导入任何数据。第 2 行：未知员工 zhang3、第 3 行：2026-13 不是考核期、"
        "第 4 行：考核期 2999-01 尚未开始、第 5 行：150% 不是 0–100% 的比率"
    )
    assert texts_for("en").error(refused.value) == (
        "rates.csv: nothing was imported; rows 2 (zhang3: unknown staff member), "
        "3 (2026-13: not a period), 4 (2999-01: has not begun), 5 (150%: not a rate)"
    )
    assert rates.for_period(session, "2026-06") == {}


def _shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def _actor(session: Session, username: str) -> Actor:
    from fleet.auth import service as auth

    return auth.actor_for(session, inventory.staff_by_username(session, SYSTEM, username))


def _recovered(session: Session, sn: str, by: str, at: str) -> None:
    """A unit recovered through the recovery services: raised and approved a week before
    `at` (Shanghai time), collected by `by` at `at`."""
    from fleet.core import phrases
    from fleet.recovery import completion
    from fleet.recovery import service as recovery

    done = _shanghai(at)
    unit = inventory.terminal_by_sn(session, SYSTEM, sn)
    request = recovery.raise_request(
        session, SYSTEM, unit, why=phrases.text("沉睡"), at=done - timedelta(days=7)
    )
    recovery.decide(session, SYSTEM, request.id or 0, "approve", at=done - timedelta(days=6))
    completion.complete_recovery(session, _actor(session, by), request.id or 0, "ok", at=done)


def test_recoveries_done_count_for_who_collected_them_in_the_period(
    session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    factories.user(session, "ops", Role.branch_ops, "LY")
    _recovered(session, "T1", "li", "2026-06-15T10:00")
    _recovered(session, "T2", "li", "2026-06-01T00:10")  # June's first minutes (Shanghai)
    _recovered(session, "T4", "wang", "2026-06-30T23:50")  # June's last minutes
    _recovered(session, "T5", "wang", "2026-07-01T00:10")  # July in Shanghai, June in UTC
    _recovered(session, "T3", "ops", "2026-05-31T23:50")  # 31 May in Shanghai: not June
    session.commit()
    found = rows(session)
    assert (found["li"].recoveries, found["wang"].recoveries) == (2, 1)
    assert "ops" not in found  # nothing done in June, and not field or service staff
    (branch,) = rows(session, by="branch").values()
    assert branch.recoveries == 3


def _ticket(session: Session, sn: str, to: str, restored: str, *, late: bool) -> None:
    """A fault ticket through the after-sales services: opened, assigned to `to` and restored
    by them; then put at its time (the services stamp the present moment), late or not."""
    from sqlalchemy import update
    from sqlmodel import col

    from fleet.aftersales import service as aftersales
    from fleet.aftersales.models import (
        Resolution,
        RestoreRequest,
        Symptom,
        Ticket,
        TicketSource,
    )

    unit = inventory.terminal_by_sn(session, SYSTEM, sn)
    ticket = aftersales.open_ticket(
        session, SYSTEM, unit, Symptom.card_reader, source=TicketSource.phone
    )
    aftersales.assign(session, SYSTEM, ticket.id or 0, to)
    aftersales.restore(
        session,
        _actor(session, to),
        ticket.id or 0,
        RestoreRequest(resolution=Resolution.repaired_on_site),
    )
    session.execute(
        update(Ticket)
        .where(col(Ticket.id) == ticket.id)
        .values(
            opened_at=_shanghai(restored) - timedelta(hours=5),
            restored_at=_shanghai(restored),
            breached_restore=late,
        )
    )


def test_sla_met_for_service_staff_by_tickets_restored_in_the_period(
    session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    for username in ("zhou", "sun"):
        factories.user(session, username, Role.service, "LY")
    _ticket(session, "T1", "zhou", "2026-06-03T10:00", late=False)
    _ticket(session, "T2", "zhou", "2026-06-12T10:00", late=True)
    _ticket(session, "T3", "zhou", "2026-06-30T23:30", late=False)  # June's last half hour
    _ticket(session, "T4", "sun", "2026-06-20T10:00", late=True)
    _ticket(session, "T5", "sun", "2026-07-01T00:30", late=False)  # July in Shanghai
    session.commit()
    found = rows(session)
    zhou, sun = found["zhou"], found["sun"]
    assert (zhou.role, zhou.tickets, zhou.sla_met, zhou.sla_met_rate) == (
        "service",
        3,
        2,
        near(2 / 3),
    )
    assert (sun.tickets, sun.sla_met, sun.sla_met_rate) == (1, 0, 0)
    assert (found["li"].tickets, found["li"].sla_met_rate) == (0, None)
    (branch,) = rows(session, by="branch").values()
    assert (branch.tickets, branch.sla_met) == (4, 2)
