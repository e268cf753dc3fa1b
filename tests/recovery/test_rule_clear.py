"""Removing a branch's own rule numbers: the branch follows the one above it again."""

from __future__ import annotations

from sqlmodel import Session, col, select

from fleet.core.audit import AuditEntry
from fleet.inventory import service as inventory
from fleet.recovery import rules
from tests import factories


def test_clearing_an_override_restores_the_inherited_numbers(session: Session) -> None:
    factories.two_branches(session)
    city = inventory.branch_by_code(session, factories.SYSTEM, "LY")
    county = inventory.branch_by_code(session, factories.SYSTEM, "A")
    rules.set_override(session, factories.SYSTEM, city, "never_used", {"days": 50})
    rules.set_override(session, factories.SYSTEM, county, "never_used", {"days": 40})
    assert rules.Overrides(session).for_branch(county.id or 0)["never_used"]["days"] == 40

    assert rules.clear_override(session, factories.SYSTEM, county, "never_used") is True
    assert rules.Overrides(session).for_branch(county.id or 0)["never_used"]["days"] == 50
    assert rules.clear_override(session, factories.SYSTEM, county, "never_used") is False
    entry = session.execute(
        select(AuditEntry).where(col(AuditEntry.action) == "clear_rule")
    ).scalar_one()
    assert (entry.entity_id, entry.changes) == ("A:never_used", {"params": [{"days": 40}, None]})
