"""The `suspicion_phrases` revision: a feed-suspected ticket stored with its reason as two
sentences (and the Chinese one again as its description) keeps a phrase instead, made from the
same figures, so it reads in either language; then `visit_ticket_description`: a field visit's
ticket stores no English line in place of a note. Downgrades put the sentences back. Tried on
the database under test's kind (SQLite file, or a PostgreSQL database of its own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlmodel import col, select

from fleet.aftersales import service
from fleet.aftersales.models import Symptom, Ticket, TicketEvent, TicketSource
from fleet.core.access import Role
from fleet.core.db import make_engine, session_scope
from fleet.core.i18n import texts_for
from fleet.core.phrases import percent, phrase
from fleet.inventory.models import Terminal
from fleet.migrations import alembic_config, upgrade
from fleet.visits.models import Visit, VisitKind, VisitPlan
from tests import factories
from tests.own_database import own_database

BEFORE = "prospect_phrases"
ZH, EN = texts_for("zh"), texts_for("en")
SILENT_ZH = "连续 3 天无成功交易（此前 30 天中有 100% 的天数有交易）"
SILENT_EN = "no successful transaction for 3 days (it transacted on 100% of the 30 days before)"
SILENT = {"code": "silent", "silent_days": 3, "baseline_days": 30, "active_share": 1.0}
FAILING = {"code": "failed_share", "recent_days": 3, "attempts": 6, "failed": 4,
           "failed_share": 0.667, "baseline_share": 0.1}  # fmt: skip
NOON = dt.datetime(2026, 11, 20, 4, tzinfo=dt.UTC)
FAILING_WHY = phrase(
    "suspect_failing", days=3, share=percent(0.667), failed=4, attempts=6, before=percent(0.1)
)


@pytest.fixture
def old_url(tmp_path: Path) -> Iterator[str]:
    with own_database(tmp_path, "suspicion_phrases") as url:
        yield url


def _old_tickets(url: str) -> None:
    """Suspected tickets as the nightly step opened them: before phrases (two sentences, the
    Chinese one as description), after (a phrase, its Chinese as description), and one whose
    figures were lost, with a description of another kind."""
    old: list[tuple[str, dict[str, Any], str]] = [
        ("S1", {**SILENT, "reason_zh": SILENT_ZH, "reason_en": SILENT_EN}, SILENT_ZH),
        ("S2", {**FAILING, "why": FAILING_WHY}, ZH.phrase(FAILING_WHY)),
        ("S3", {"code": "odd", "reason_zh": "某个旧原因", "reason_en": "an old reason"}, "另记"),
    ]
    engine = make_engine(url)
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        for sn, suspicion, description in old:
            factories.merchant(session, f"M{sn}", "LY")
            unit = factories.terminal(session, sn, "LY", f"M{sn}")
            service.open_ticket(
                session,
                factories.SYSTEM,
                unit,
                Symptom.other,
                source=TicketSource.feed,
                description=description,
                suspicion=suspicion,
            )
    engine.dispose()


def _tickets(url: str) -> dict[str, tuple[Ticket, str]]:
    """Each unit's ticket, with its opening event's note."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Terminal.sn, Ticket, TicketEvent.note)
            .join(Ticket, col(Ticket.terminal_id) == col(Terminal.id))
            .join(TicketEvent, col(TicketEvent.ticket_id) == col(Ticket.id))
        ).all()
        session.expunge_all()
    engine.dispose()
    return {sn: (ticket, note) for sn, ticket, note in rows}


def test_suspicions_keep_a_phrase_instead_of_sentences(old_url: str) -> None:
    upgrade(old_url, BEFORE)
    _old_tickets(old_url)
    upgrade(old_url)
    tickets = _tickets(old_url)

    one, note = tickets["S1"]
    assert one.suspicion == {
        **SILENT,
        "why": {
            "code": "suspect_silent",
            "values": {"days": 3, "baseline": 30, "share": {"percent": 1.0, "digits": 0}},
        },
    }
    assert ZH.phrase(one.suspicion["why"]) == SILENT_ZH
    assert EN.phrase(one.suspicion["why"]) == (
        "No successful transaction for 3 days (it transacted on 100% of the 30 days before)"
    )
    # The description said the same again, in Chinese only: the pages word `why` instead.
    assert (one.description, note) == ("", "")

    two, note = tickets["S2"]
    assert two.suspicion == {**FAILING, "why": FAILING_WHY}
    assert (two.description, note) == ("", "")

    three, note = tickets["S3"]
    assert three.suspicion == {
        "code": "odd",
        "why": {"code": "legacy", "values": {"zh": "某个旧原因", "en": "an old reason"}},
    }
    assert EN.phrase(three.suspicion["why"]) == "an old reason"
    assert (three.description, note) == ("另记", "另记")  # not a sentence fleet wrote: kept


def test_the_downgrade_puts_the_sentences_back(old_url: str) -> None:
    upgrade(old_url, BEFORE)
    _old_tickets(old_url)
    upgrade(old_url)
    command.downgrade(alembic_config(old_url), BEFORE)
    tickets = _tickets(old_url)
    one, note = tickets["S1"]
    assert one.suspicion is not None
    assert (one.suspicion["reason_zh"], one.description, note) == (SILENT_ZH, SILENT_ZH, SILENT_ZH)
    assert one.suspicion["reason_en"].startswith("No successful transaction for 3 days")
    assert tickets["S3"][0].description == "另记"


def _visit_tickets(url: str) -> dict[str, int]:
    """Tickets from field visits as fleet opened them before: without a note, the English line
    "reported faulty at visit N" as description; with one, the note."""
    engine = make_engine(url)
    ids = {}
    with session_scope(engine) as session:
        branch = factories.branch(session, "LY", level="city")
        staff = factories.user(session, "field_a", Role.field, "LY")
        plan = VisitPlan(branch_id=branch.id or 0, plan_date=dt.date(2026, 11, 20))
        session.add(plan)
        session.flush()
        for sn, note in (("V1", None), ("V2", "屏幕不亮")):
            merchant = factories.merchant(session, f"M{sn}", "LY")
            unit = factories.terminal(session, sn, "LY", f"M{sn}")
            visit = Visit(
                plan_id=plan.id or 0, plan_date=plan.plan_date, staff_id=staff.id or 0, seq=1,
                kind=VisitKind.revisit, terminal_id=unit.id, merchant_id=merchant.id or 0,
                branch_id=branch.id or 0, planned_arrival=NOON, planned_start=NOON,
                planned_departure=NOON,
            )  # fmt: skip
            session.add(visit)
            session.flush()
            ticket = service.open_ticket(
                session,
                factories.SYSTEM,
                unit,
                Symptom.other,
                source=TicketSource.field_visit,
                description=note or f"reported faulty at visit {visit.id}",
                visit_id=visit.id,
            )
            ids[sn] = visit.id or 0
            assert ticket.id
    engine.dispose()
    return ids


def test_a_field_visits_ticket_keeps_no_english_line(old_url: str) -> None:
    upgrade(old_url, "suspicion_phrases")
    visits = _visit_tickets(old_url)
    upgrade(old_url)
    tickets = _tickets(old_url)
    assert (tickets["V1"][0].description, tickets["V1"][1]) == ("", "")
    assert tickets["V1"][0].visit_id == visits["V1"]  # where it came from, without a sentence
    assert (tickets["V2"][0].description, tickets["V2"][1]) == ("屏幕不亮", "屏幕不亮")
    command.downgrade(alembic_config(old_url), "suspicion_phrases")
    line = f"reported faulty at visit {visits['V1']}"
    assert (_tickets(old_url)["V1"][0].description, _tickets(old_url)["V1"][1]) == (line, line)
