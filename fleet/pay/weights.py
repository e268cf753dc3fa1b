"""The weights of the five measures in each role's points, set by an admin (20 each unless
set: the five improvements count alike)."""

from __future__ import annotations

from sqlmodel import Session, select

from fleet.core import audit
from fleet.core.access import Actor, Permission, Role
from fleet.core.db import utcnow
from fleet.core.errors import Invalid
from fleet.pay.scorecard_models import Measure, ScorecardWeight

DEFAULT = 20


def all_roles(session: Session) -> dict[str, dict[Measure, int]]:
    """role → measure → weight, defaults filled in."""
    found = {r.value: dict.fromkeys(Measure, DEFAULT) for r in Role}
    for row in session.exec(select(ScorecardWeight)):
        found.setdefault(row.role, dict.fromkeys(Measure, DEFAULT))[row.measure] = row.weight
    return found


def set_weights(
    session: Session, actor: Actor, role: str, weights: dict[str, int]
) -> dict[Measure, int]:
    """Sets some or all of one role's weights (0..100 each, not all 0)."""
    actor.require(Permission.set_scorecard_weights)
    if role not in {r.value for r in Role}:
        raise Invalid("{role} is not a role", role=role)
    unknown = sorted(set(weights) - {m.value for m in Measure})
    if unknown:
        raise Invalid("{measures} are not measures of the scorecard", measures=", ".join(unknown))
    bad = sorted(m for m, w in weights.items() if not 0 <= w <= 100)
    if bad:
        raise Invalid("a weight is from 0 to 100: {measures}", measures=", ".join(bad))
    current = all_roles(session)[role]
    after = current | {Measure(m): w for m, w in weights.items()}
    if sum(after.values()) == 0:
        raise Invalid("at least one weight must be above 0")
    for measure, weight in after.items():
        row = session.get(ScorecardWeight, (role, measure))
        if row is None:
            row = ScorecardWeight(role=role, measure=measure, weight=weight)
        row.weight, row.updated_at, row.updated_by = weight, utcnow(), actor.username
        session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="set_weights",
        entity="scorecard_weight",
        entity_id=role,
        changes={m.value: [current[m], after[m]] for m in Measure if current[m] != after[m]},
    )
    return after
