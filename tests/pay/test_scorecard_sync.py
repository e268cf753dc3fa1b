"""Recoveries completed by the requests' sync (`recovery:sync`: the unit was moved back by a
plain transition, not collected through its request) count in the scorecard for the person
who asked for the recovery, or, for a request no person raised (a rule's), for the one who
approved it; in the period the unit came back."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from fleet.core import phrases
from fleet.core.access import Actor, Role
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from fleet.recovery import completion
from fleet.recovery import service as recovery
from fleet.recovery.models import RecoveryRequest
from tests import factories
from tests.factories import SYSTEM
from tests.pay.test_scorecard import _actor, _shanghai, rows, world


def moved_back(session: Session, sn: str, asker: Actor, at: str) -> None:
    """A recovery asked for by `asker` a week before `at`, approved by ops, and the unit moved
    back by ops with a plain transition at `at` (Shanghai time); then the sync."""
    done = _shanghai(at)
    ops = _actor(session, "ops")
    unit = inventory.terminal_by_sn(session, SYSTEM, sn)
    request = recovery.raise_request(
        session, asker, unit, why=phrases.text("不用了"), at=done - timedelta(days=7)
    )
    recovery.decide(session, ops, request.id or 0, "approve", at=done - timedelta(days=6))
    lifecycle.transition(session, ops, unit, TerminalState.recovered, reason="回收", at=done)
    completion.sync(session)


def test_a_synced_recovery_counts_for_who_asked_else_who_approved(
    session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    factories.user(session, "ops", Role.branch_ops, "LY")
    moved_back(session, "T1", _actor(session, "li"), "2026-06-12T10:00")
    moved_back(session, "T4", SYSTEM, "2026-06-20T10:00")  # a rule's request: no person
    moved_back(session, "T5", _actor(session, "wang"), "2026-07-02T10:00")  # July
    session.commit()
    done = session.exec(
        select(RecoveryRequest.completed_by_name, RecoveryRequest.completed_at).order_by(
            col(RecoveryRequest.id)
        )
    ).all()
    assert [name for name, _ in done] == ["recovery:sync"] * 3
    assert isinstance(done[0][1], datetime)
    found = rows(session)
    assert found["li"].recoveries == 1
    assert found["ops"].recoveries == 1
    assert found["wang"].recoveries == 0  # its unit came back in July
    (branch,) = rows(session, by="branch").values()
    assert branch.recoveries == 2
