"""Units under repair, or just restored, stay off revisit lists and recovery suggestions: the
days they were down are not idleness."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from fleet.aftersales import service
from fleet.aftersales.models import Resolution, RestoreRequest, Symptom, TicketSource
from fleet.auth import service as auth
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.recovery import suggestions
from tests.factories import SYSTEM
from tests.recovery.conftest import build as recovery_region
from tests.visits.conftest import build_region as visits_region
from tests.visits.test_candidates import candidates, kinds


def restored_and_suspected(restore_sn: str, suspect_sn: str) -> None:
    """`restore_sn` had a fault repaired today (deployed again, its score still says idle);
    the feed suspects `suspect_sn` (still deployed, not yet confirmed)."""
    with session_scope() as session:
        unit = inventory.terminal_by_sn(session, SYSTEM, restore_sn)
        ticket = service.open_ticket(
            session, SYSTEM, unit, Symptom.power, source=TicketSource.phone
        )
        admin = inventory.staff_by_username(session, SYSTEM, "admin")
        actor = auth.actor_for(session, admin)
        service.assign(session, actor, ticket.id or 0)
        service.restore(
            session, actor, ticket.id or 0, RestoreRequest(resolution=Resolution.repaired_on_site)
        )
        suspect = inventory.terminal_by_sn(session, SYSTEM, suspect_sn)
        service.open_ticket(
            session,
            SYSTEM,
            suspect,
            Symptom.other,
            source=TicketSource.feed,
            suspicion={"code": "silent"},
        )


def test_recovery_suggestions_leave_out_units_under_repair(engine: Engine) -> None:
    with session_scope(engine) as session:
        recovery_region(session)
    with session_scope(engine) as session:
        before = {s.sn for s in suggestions.suggest(session, SYSTEM)}
    assert {"U1", "U3"} <= before
    restored_and_suspected("U1", "U3")
    with session_scope(engine) as session:
        after = {s.sn for s in suggestions.suggest(session, SYSTEM)}
    assert after == before - {"U1", "U3"}


def test_revisit_lists_leave_out_units_under_repair(engine: Engine) -> None:
    from fleet.scoring.service import today_local

    with session_scope(engine) as session:
        region = visits_region(session, today_local())
    assert {"IDLE", "DORM"} <= set(kinds(candidates(engine, region)))
    restored_and_suspected("IDLE", "DORM")
    found = candidates(engine, region)
    assert "IDLE" not in kinds(found) and "DORM" not in kinds(found)
    assert found.left_out["under_repair"] == 2


def test_a_field_day_is_planned_with_units_under_repair_left_out(engine: Engine) -> None:
    """`fleet revisits` failed (KeyError 'under_repair') when a unit was held by after-sales:
    the plan's note for the units it left out had no phrase."""
    from typer.testing import CliRunner

    from fleet.cli.main import app
    from fleet.scoring.service import today_local

    with session_scope(engine) as session:
        region = visits_region(session, today_local())
    restored_and_suspected("IDLE", "DORM")
    chinese = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    done = CliRunner().invoke(
        app,
        ["revisits", "--branch", "A", "--date", str(region.today), "--seconds", "0.3"],
        env=chinese,
    )
    assert done.exit_code == 0, done.stderr
    assert "说明：2台机具正在维修或刚修复，未列入" in done.stdout
