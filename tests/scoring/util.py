"""Hand-built usage for the scorer: deployments on given days, rollup rows put in directly."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from fleet.feeds.models import TerminalDay
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal, TerminalCreate, TerminalState
from fleet.scoring.service import today_local
from tests.factories import SYSTEM

SHANGHAI = ZoneInfo("Asia/Shanghai")


def as_of() -> date:
    """The as-of date the tests score: today where the bank is, so every day before is past."""
    return today_local()


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=SHANGHAI)


def deploy(session: Session, sn: str, branch: str, merchant: str, on: date) -> Terminal:
    """A unit registered as deployed at `merchant` at noon (Shanghai) on `on`."""
    return inventory.create_terminal(
        session,
        SYSTEM,
        TerminalCreate(
            sn=sn, model="T100", branch_code=branch, merchant_code=merchant, deployed_at=noon(on)
        ),
    )


def recover(session: Session, terminal: Terminal, on: date) -> None:
    """Takes the unit back from its merchant at noon on `on`, back into stock."""
    for state in (
        TerminalState.recovery_requested,
        TerminalState.recovery_approved,
        TerminalState.recovered,
        TerminalState.in_stock,
    ):
        lifecycle.transition(session, SYSTEM, terminal, state, reason="test", at=noon(on))


def redeploy(session: Session, terminal: Terminal, merchant: str, on: date) -> None:
    lifecycle.transition(
        session, SYSTEM, terminal, TerminalState.deployed, merchant_code=merchant, at=noon(on)
    )


def add_usage(
    session: Session,
    terminal_id: int | None,
    day: date,
    count: int,
    amount_fen: int | None = None,
    other: int = 0,
) -> None:
    """One rollup row: `count` successful financial transactions on `day` (local)."""
    session.add(
        TerminalDay(
            terminal_id=terminal_id or 0,
            day=day,
            txn_count=count,
            amount_fen=count * 10_000 if amount_fen is None else amount_fen,
            other_count=other,
        )
    )
    session.flush()


def add_daily(
    session: Session, terminal_id: int | None, first: date, last: date, count: int = 1
) -> None:
    """`count` transactions on every day from `first` to `last` inclusive."""
    for offset in range((last - first).days + 1):
        session.add(
            TerminalDay(
                terminal_id=terminal_id or 0,
                day=first + timedelta(days=offset),
                txn_count=count,
                amount_fen=count * 10_000,
            )
        )
    session.flush()
