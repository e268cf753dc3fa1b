"""Each recovery rule on the hand-built histories of conftest.py, and per-branch tuning."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from fleet.core import phrases
from fleet.core.db import session_scope
from fleet.core.errors import Invalid
from fleet.core.i18n import texts_for
from fleet.inventory import service as inventory
from fleet.recovery import rules, service, suggestions
from fleet.recovery.models import Suggestion
from tests.factories import SYSTEM
from tests.recovery.conftest import Region

ZH, EN = texts_for("zh"), texts_for("en")


def suggested(engine: Engine) -> dict[str, Suggestion]:
    with session_scope(engine) as session:
        return {s.sn: s for s in suggestions.suggest(session, SYSTEM)}


def test_each_rule_fires_on_its_history_and_only_there(engine: Engine, region: Region) -> None:
    found = suggested(engine)
    assert {sn: s.rule for sn, s in found.items()} == {
        "U1": "dormant_revisited",
        "U3": "never_used",
        "U5": "no_need",
        "U6": "merchant_gone",
        "UB": "never_used",
    }
    # The most telling reasons come first.
    assert [s.rule for s in found.values()][:2] == ["merchant_gone", "no_need"]


def test_reasons_are_plain_words_with_the_evidence_behind_them(
    engine: Engine, region: Region
) -> None:
    found = suggested(engine)
    u1 = found["U1"]
    assert "120 天未用" in ZH.phrase(u1.why) and "回访后 40 天仍未使用" in ZH.phrase(u1.why)
    assert "Unused for 120 days" in EN.phrase(u1.why)
    assert u1.evidence["usage"]["status"] == "dormant"
    assert u1.evidence["revisit"]["outcome"] == "reached_promised"
    assert "从未使用" in ZH.phrase(found["U3"].why) and "70 days" in EN.phrase(found["U3"].why)
    assert "商户表示不需要" in ZH.phrase(found["U5"].why)
    assert found["U5"].evidence["visit"]["outcome"] == "no_need"
    assert "已关门" in ZH.phrase(found["U6"].why)
    assert found["U6"].evidence["merchant_status"] == "closed"


def test_a_revisit_too_recent_or_use_since_it_stops_the_dormant_rule() -> None:
    today = date(2026, 6, 1)
    facts = rules.Facts(
        as_of=today,
        last_used_on=date(2026, 1, 1),
        days_since_use=151,
        visits=[rules.VisitFact(date(2026, 5, 20), "revisit", None)],
    )
    p = rules.defaults()["dormant_revisited"]
    assert rules.dormant_revisited(facts, p) is None  # 12 days: too soon to judge
    facts.visits = [rules.VisitFact(date(2025, 12, 1), "revisit", None)]
    assert rules.dormant_revisited(facts, p) is None  # used after that visit
    facts.visits = [rules.VisitFact(date(2026, 4, 1), "revisit", None)]
    assert rules.dormant_revisited(facts, p) is not None
    facts.days_since_use = 80
    assert rules.dormant_revisited(facts, p) is None  # not dormant long enough


def test_use_after_a_no_need_visit_clears_it() -> None:
    facts = rules.Facts(
        as_of=date(2026, 6, 1),
        last_used_on=date(2026, 5, 25),
        visits=[rules.VisitFact(date(2026, 5, 20), "revisit", "no_need")],
    )
    assert rules.no_need(facts, {}) is None
    facts.last_used_on = date(2026, 5, 1)
    assert rules.no_need(facts, {}) is not None


def test_a_branch_tunes_a_rule_for_its_subtree_only(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        county = inventory.branch_by_code(session, SYSTEM, "A")
        rules.set_override(session, SYSTEM, county, "never_used", {"days": 40})
        city = inventory.branch_by_code(session, SYSTEM, "LY")
        rules.set_override(session, SYSTEM, city, "merchant_gone", {"enabled": False})
    found = suggested(engine)
    assert found["U4"].rule == "never_used"  # 45 days, under A's 40
    assert "U6" not in found  # the city switched merchant_gone off for everyone
    with session_scope(engine) as session:
        overrides = rules.Overrides(session)
        assert overrides.for_branch(region.branches["B1"])["never_used"]["days"] == 60
        assert overrides.for_branch(region.branches["A1"])["never_used"]["days"] == 40


def test_an_override_with_an_unknown_parameter_is_refused(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        branch = inventory.branch_by_code(session, SYSTEM, "A")
        with pytest.raises(Invalid, match="no parameter"):
            rules.set_override(session, SYSTEM, branch, "never_used", {"weeks": 4})
        with pytest.raises(Invalid, match="unknown rule"):
            rules.set_override(session, SYSTEM, branch, "too_pretty", {})


def test_a_rejected_unit_is_left_alone_for_a_while(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U3")
        request = service.raise_request(session, SYSTEM, terminal, why=phrases.text("试"))
        service.decide(session, SYSTEM, request.id or 0, "reject", reason="商户下月开业旺季")
    assert "U3" not in suggested(engine)


def test_units_with_an_open_request_are_not_suggested_again(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        raised = suggestions.raise_suggestions(session, SYSTEM)
        assert len(raised) == 5
        assert {r.source for r in raised} == {"rule"}
    assert suggested(engine) == {}


def test_never_used_claims_only_the_days_our_data_covers() -> None:
    facts = rules.Facts(
        as_of=date(2026, 6, 1), deployed_on=date(2024, 1, 1), data_from=date(2026, 5, 1)
    )
    p = rules.defaults()["never_used"]
    assert rules.never_used(facts, p) is None  # 31 days of data: too few to say
    facts.data_from = date(2026, 1, 1)
    found = rules.never_used(facts, p)
    assert found is not None
    assert ZH.phrase(found.why) == "151 天数据内未使用（数据自 2026年1月1日 起，2024年1月1日 布放）"
    assert EN.phrase(found.why) == (
        "Not used in 151 days of data (data since Jan 1, 2026; deployed on Jan 1, 2024)"
    )
    reason = {"code": "unused_in_data", "days": 151, "since": "2026-01-01"}
    assert found.evidence["reason"] == reason
