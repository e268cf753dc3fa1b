"""Settings an admin overrides in the database: validated, audited, reset, and used by the
scoring entry points that run in production (the nightly job and `fleet score`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from fleet.auth import service as auth
from fleet.cli.main import app
from fleet.core import overrides
from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Forbidden, Invalid
from fleet.scoring import jobs as scoring_jobs
from fleet.scoring.models import TerminalScore
from tests import factories
from tests.scoring.util import add_usage, as_of, deploy

ADMIN = factories.SYSTEM


def audit_of(session: Session, key: str) -> list[tuple[str, dict[str, object]]]:
    rows = session.execute(
        select(AuditEntry)
        .where(col(AuditEntry.entity) == "setting", col(AuditEntry.entity_id) == key)
        .order_by(col(AuditEntry.id))
    ).scalars()
    return [(r.action, r.changes) for r in rows]


def test_without_overrides_the_environment_holds(session: Session) -> None:
    assert overrides.effective_settings(session) == get_settings()
    states = {s.key: s for s in overrides.describe(session, ADMIN)}
    assert set(states) == set(overrides.EDITABLE)
    assert (states["active_days"].default, states["active_days"].effective) == (30, 30)
    assert not states["active_days"].overridden


def test_an_override_is_stored_audited_and_reset(engine: Engine) -> None:
    with session_scope(engine) as session:
        overrides.set_override(session, ADMIN, "active_days", "10")
        overrides.set_override(session, ADMIN, "financial_types", "transfer, card_payment")
    with session_scope(engine) as session:
        now = overrides.effective_settings(session)
        assert (now.active_days, now.financial_types) == (10, ("transfer", "card_payment"))
        assert get_settings().active_days == 30  # the environment's value is untouched
        state = {s.key: s for s in overrides.describe(session, ADMIN)}["active_days"]
        assert (state.default, state.effective, state.overridden) == (30, 10, True)
        assert state.updated_by == ADMIN.username
        assert audit_of(session, "active_days") == [("set", {"value": [30, 10]})]
        overrides.reset_override(session, ADMIN, "active_days")
    with session_scope(engine) as session:
        assert overrides.effective_settings(session).active_days == 30
        assert audit_of(session, "active_days")[-1] == ("reset", {"value": [10, 30]})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("active_days", "ten", "active_days: Input should be a valid integer"),
        ("active_days", "0", "active_days must be at least 1"),
        ("active_days", "90", "active_days (90) must be less than dormant_days (90)"),
        ("declining_ratio", "1.5", "declining_ratio must be between 0 and 1"),
        ("peer_group", "branch", "peer_group: Input should be 'market_or_category' or 'category'"),
        ("financial_types", " , ", "financial_types must name at least one type"),
        ("secret_key", "x", "setting 'secret_key' cannot be changed here"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(
    session: Session, key: str, value: str, message: str
) -> None:
    with pytest.raises(Invalid) as refused:
        overrides.set_override(session, ADMIN, key, value)
    assert message in refused.value.message
    assert overrides.effective_settings(session) == get_settings()


def test_only_admins_change_settings(session: Session) -> None:
    factories.branch(session, "LY", level="city")
    ops = factories.user(session, "ops", Role.branch_ops, "LY")
    with pytest.raises(Forbidden):
        overrides.set_override(session, auth.actor_for(session, ops), "active_days", "10")


def _status(engine: Engine, terminal_id: int) -> str:
    with session_scope(engine) as session:
        row = session.execute(
            select(TerminalScore).where(
                col(TerminalScore.terminal_id) == terminal_id, col(TerminalScore.as_of) == as_of()
            )
        ).scalar_one()
        return row.status.value


@pytest.fixture
def used_20_days_ago(engine: Engine) -> int:
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        factories.branch(session, "A1", "LY")
        factories.merchant(session, "M1", "A1", category="grocery")
        unit = deploy(session, "SN1", "A1", "M1", as_of() - timedelta(days=200))
        add_usage(session, unit.id, as_of() - timedelta(days=20), 3)
        return unit.id or 0


def test_an_override_changes_the_next_nightly_scoring(
    engine: Engine, used_20_days_ago: int
) -> None:
    scoring_jobs.score_today(engine)
    assert _status(engine, used_20_days_ago) == "active"
    with session_scope(engine) as session:
        overrides.set_override(session, ADMIN, "active_days", 10)
    result = scoring_jobs.score_today(engine)
    assert _status(engine, used_20_days_ago) == "idle"
    assert result.counts["idle"] == 1


def test_an_override_changes_fleet_score(engine: Engine, used_20_days_ago: int) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["score"]).exit_code == 0
    assert _status(engine, used_20_days_ago) == "active"
    with session_scope(engine) as session:
        overrides.set_override(session, ADMIN, "active_days", "10")
    answer = runner.invoke(app, ["score"], env={"LANG": "en_US.UTF-8", "LC_ALL": ""})
    assert answer.exit_code == 0, answer.output
    assert "idle 1" in answer.stdout
    assert _status(engine, used_20_days_ago) == "idle"
