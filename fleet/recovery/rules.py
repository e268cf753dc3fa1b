"""The recovery rules: which deployed units to take back, and why, in words and evidence.

Each rule reads one unit's `Facts` (its latest score, its merchant's status, its done visits)
and its effective parameters: the settings' defaults, overridden by the nearest branch above
the unit that set its own (table recovery_rule_override), so a city branch can tune a rule
for every outlet below it and an outlet can tune it again for itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Invalid
from fleet.core.phrases import Phrase, day, phrase
from fleet.inventory.models import Branch
from fleet.recovery.models import RuleOverride

# Visit outcomes (fleet.visits) that say the merchant does not want the unit, or is gone.
NO_NEED_OUTCOMES = ("no_need", "wants_recovery")
GONE_OUTCOMES = ("closed", "moved")
# Visits meant to get a unit used: a later lack of use means they did not work.
ACTIVATING_KINDS = ("revisit", "follow_up")


def defaults(settings: Settings | None = None) -> dict[str, dict[str, Any]]:
    """Every rule's parameters as the settings give them; `enabled` turns a rule off."""
    s = settings or get_settings()
    return {
        "dormant_revisited": {
            "enabled": True,
            "dormant_days": s.recovery_dormant_days,
            "revisit_wait_days": s.recovery_revisit_wait_days,
        },
        "never_used": {"enabled": True, "days": s.recovery_never_used_days},
        "no_need": {"enabled": True},
        "merchant_gone": {"enabled": True},
    }


@dataclass
class VisitFact:
    day: date
    kind: str
    outcome: str | None

    def as_evidence(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "kind": self.kind, "outcome": self.outcome}


@dataclass
class Facts:
    """What the rules know of one deployed unit, as of the latest scoring."""

    as_of: date | None
    status: str | None = None  # usage status of the latest score
    deployed_on: date | None = None
    last_used_on: date | None = None
    days_since_use: int | None = None
    count_30: int = 0
    count_90: int = 0
    merchant_status: str = "open"
    # The data coverage start the unit was scored with (fleet.feeds.coverage): use before it
    # is unknown, so "never used" counts from the later of it and deployed_on.
    data_from: date | None = None
    visits: list[VisitFact] = field(default_factory=list)  # done visits, oldest first

    def usage(self) -> dict[str, Any]:
        return {
            "scored_as_of": self.as_of and self.as_of.isoformat(),
            "status": self.status,
            "deployed_on": self.deployed_on and self.deployed_on.isoformat(),
            "last_used_on": self.last_used_on and self.last_used_on.isoformat(),
            "days_since_use": self.days_since_use,
            "count_30": self.count_30,
            "count_90": self.count_90,
        }


@dataclass
class Finding:
    rule: str
    why: Phrase
    evidence: dict[str, Any]


def _evidence(facts: Facts, **more: Any) -> dict[str, Any]:
    return {
        "usage": facts.usage(),
        "merchant_status": facts.merchant_status,
        "visits": [v.as_evidence() for v in facts.visits[-5:]],
        **more,
    }


def dormant_revisited(facts: Facts, p: dict[str, Any]) -> Finding | None:
    """Unused for `dormant_days`, and a revisit at least `revisit_wait_days` ago changed nothing."""
    if facts.as_of is None or facts.last_used_on is None or facts.days_since_use is None:
        return None
    if facts.days_since_use < p["dormant_days"]:
        return None
    # The latest activating visit after the last use, old enough to have shown an effect.
    tried = [
        v
        for v in facts.visits
        if v.kind in ACTIVATING_KINDS
        and v.day > facts.last_used_on
        and (facts.as_of - v.day).days >= p["revisit_wait_days"]
    ]
    if not tried:
        return None
    visit = tried[-1]
    waited = (facts.as_of - visit.day).days
    return Finding(
        "dormant_revisited",
        phrase(
            "rule_dormant_revisited",
            days=facts.days_since_use,
            last_used=day(facts.last_used_on),
            waited=waited,
            visit_day=day(visit.day),
        ),
        _evidence(facts, revisit=visit.as_evidence()),
    )


def never_used(facts: Facts, p: dict[str, Any]) -> Finding | None:
    """Never used in `days` days or more of data: since it was deployed, or since the data
    coverage start when that is later (fleet.feeds.coverage)."""
    if facts.as_of is None or facts.deployed_on is None or facts.last_used_on is not None:
        return None
    if facts.data_from is not None and facts.data_from > facts.deployed_on:
        # Say only what the data shows: no use since the bank's feed is complete.
        seen = (facts.as_of - facts.data_from).days
        if seen < p["days"]:
            return None
        return Finding(
            "never_used",
            phrase(
                "rule_unused_in_data",
                days=seen,
                since=day(facts.data_from),
                deployed=day(facts.deployed_on),
            ),
            _evidence(
                facts,
                data_from=facts.data_from.isoformat(),
                reason={
                    "code": "unused_in_data",
                    "days": seen,
                    "since": facts.data_from.isoformat(),
                },
            ),
        )
    days = (facts.as_of - facts.deployed_on).days
    if days < p["days"]:
        return None
    return Finding(
        "never_used",
        phrase("rule_never_used", days=days, since=day(facts.deployed_on)),
        _evidence(
            facts,
            reason={"code": "never_used", "days": days, "since": facts.deployed_on.isoformat()},
        ),
    )


def no_need(facts: Facts, p: dict[str, Any]) -> Finding | None:
    """The latest visit found the merchant has no need of the unit; unused since."""
    said = [v for v in facts.visits if v.outcome is not None]
    if not said or said[-1].outcome not in NO_NEED_OUTCOMES:
        return None
    visit = said[-1]
    if facts.last_used_on is not None and facts.last_used_on >= visit.day:
        return None
    code = "rule_no_need" if visit.outcome == "no_need" else "rule_wants_recovery"
    return Finding(
        "no_need",
        phrase(code, visit_day=day(visit.day)),
        _evidence(facts, visit=visit.as_evidence()),
    )


def merchant_gone(facts: Facts, p: dict[str, Any]) -> Finding | None:
    """The merchant is recorded as closed or moved away, or the latest visit found it so."""
    said = [v for v in facts.visits if v.outcome is not None]
    seen = said[-1] if said and said[-1].outcome in GONE_OUTCOMES else None
    if facts.merchant_status in GONE_OUTCOMES:
        how = facts.merchant_status
        why = phrase("rule_closed_record" if how == "closed" else "rule_moved_record")
    elif seen is not None:
        how = seen.outcome or ""
        code = "rule_closed_visit" if how == "closed" else "rule_moved_visit"
        why = phrase(code, visit_day=day(seen.day))
    else:
        return None
    return Finding(
        "merchant_gone",
        why,
        _evidence(facts, **({"visit": seen.as_evidence()} if seen else {})),
    )


RULES: dict[str, Callable[[Facts, dict[str, Any]], Finding | None]] = {
    # Most telling first: the first rule that fires gives the reason.
    "merchant_gone": merchant_gone,
    "no_need": no_need,
    "dormant_revisited": dormant_revisited,
    "never_used": never_used,
}


def evaluate(facts: Facts, params: dict[str, dict[str, Any]]) -> Finding | None:
    """The first enabled rule that fires for this unit, if any."""
    for name, rule in RULES.items():
        p = params[name]
        if p.get("enabled", True):
            found = rule(facts, p)
            if found is not None:
                return found
    return None


# --- per-branch overrides ---------------------------------------------------------------------


class Overrides:
    """Effective rule parameters per branch: defaults, then each override from the root down."""

    def __init__(self, session: Session, settings: Settings | None = None) -> None:
        self.base = defaults(settings)
        self.parent = {b: p for b, p in session.execute(select(Branch.id, Branch.parent_id))}
        self.own: dict[int, dict[str, dict[str, Any]]] = {}
        for row in session.execute(select(RuleOverride)).scalars():
            self.own.setdefault(row.branch_id, {})[row.rule] = dict(row.params)
        self._cache: dict[int, dict[str, dict[str, Any]]] = {}

    def for_branch(self, branch_id: int) -> dict[str, dict[str, Any]]:
        if branch_id not in self._cache:
            chain: list[int] = []
            at: int | None = branch_id
            while at is not None and at not in chain:
                chain.append(at)
                at = self.parent.get(at)
            params = {name: dict(p) for name, p in self.base.items()}
            for b in reversed(chain):  # the nearest branch's numbers win
                for name, p in self.own.get(b, {}).items():
                    params[name].update(p)
            self._cache[branch_id] = params
        return self._cache[branch_id]


def set_override(
    session: Session, actor: Actor, branch: Branch, rule: str, params: dict[str, Any]
) -> RuleOverride:
    """Sets a branch's own parameters for one rule (branch ops of its subtree, or admin)."""
    actor.require(Permission.change_lifecycle)
    known = defaults()
    if rule not in known:
        raise Invalid(
            "unknown rule {rule}; rules: {rules}", rule=repr(rule), rules=", ".join(sorted(known))
        )
    for key, value in params.items():
        if key not in known[rule]:
            allowed = ", ".join(sorted(known[rule]))
            raise Invalid(
                "rule {rule} has no parameter {parameter}; it has {allowed}",
                rule=rule,
                parameter=repr(key),
                allowed=allowed,
            )
        if type(value) is not type(known[rule][key]):
            raise Invalid(
                "{rule}.{parameter} must be {kind}",
                rule=rule,
                parameter=key,
                kind=type(known[rule][key]).__name__,
            )
    row = session.execute(
        select(RuleOverride).where(
            col(RuleOverride.branch_id) == branch.id, col(RuleOverride.rule) == rule
        )
    ).scalar_one_or_none()
    before = dict(row.params) if row else None
    if row is None:
        row = RuleOverride(branch_id=branch.id or 0, rule=rule)
    row.params, row.updated_at, row.updated_by_name = dict(params), utcnow(), actor.username
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="set_rule",
        entity="recovery_rule",
        entity_id=f"{branch.code}:{rule}",
        branch_id=branch.id,
        changes={"params": [before, params]},
    )
    return row


def clear_override(session: Session, actor: Actor, branch: Branch, rule: str) -> bool:
    """Removes a branch's own parameters for one rule: it follows the branch above again.
    Returns whether there was anything to remove."""
    actor.require(Permission.change_lifecycle)
    row = session.execute(
        select(RuleOverride).where(
            col(RuleOverride.branch_id) == branch.id, col(RuleOverride.rule) == rule
        )
    ).scalar_one_or_none()
    if row is None:
        return False
    before = dict(row.params)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="clear_rule",
        entity="recovery_rule",
        entity_id=f"{branch.code}:{rule}",
        branch_id=branch.id,
        changes={"params": [before, None]},
    )
    return True
