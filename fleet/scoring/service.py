"""Scoring: each deployed terminal's status and score as of a date, kept per as-of date.

One SQL query does the heavy part (a GROUP BY over the per terminal-day rollups, portable to
SQLite and PostgreSQL); the rules of `fleet.scoring.rules` run over its ~one row per terminal
in Python; the as-of date's rows are then replaced in bulk. The definitions are in rules.py.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from fleet.core.access import Actor
from fleet.core.config import Settings, get_settings
from fleet.core.errors import Conflict, Invalid
from fleet.core.overrides import effective_settings
from fleet.core.paging import fetch_page
from fleet.feeds import coverage
from fleet.feeds.models import TerminalDay
from fleet.inventory import service as inventory
from fleet.inventory.models import Market, Merchant, Placement, Terminal
from fleet.inventory.scope import subtree_ids
from fleet.scoring import rules
from fleet.scoring.models import ScoreRun, ScoreSummary, TerminalScore, UsageStatus
from fleet.scoring.sql import local_day

INSERT_CHUNK = 20_000
DATE_COLUMNS = ("as_of", "deployed_on", "data_from", "last_used_on")
SETTINGS_RECORDED = (
    "financial_types",
    "active_days",
    "dormant_days",
    "never_used_after_days",
    "declining_ratio",
    "declining_previous_days",
    "peer_group",
    "feed_timezone",
)


def today_local(settings: Settings | None = None) -> date:
    """Today's date where the bank is (the feed time zone): the default as-of date."""
    settings = settings or get_settings()
    return datetime.now(ZoneInfo(settings.feed_timezone)).date()


def latest_as_of(session: Session) -> date | None:
    """The newest as-of date that has been scored, if any."""
    return session.execute(select(func.max(col(ScoreRun.as_of)))).scalar_one_or_none()


def stored_as_ofs(session: Session) -> list[date]:
    """Every scored as-of date, oldest first."""
    return list(
        session.execute(select(col(ScoreRun.as_of)).order_by(col(ScoreRun.as_of))).scalars()
    )


def score(session: Session, *, as_of: date, settings: Settings | None = None) -> ScoreSummary:
    """Scores every terminal deployed on `as_of` and replaces that date's stored scores."""
    # The windows an admin set on the settings page win over the environment's.
    settings = settings or effective_settings(session)
    if as_of > today_local(settings):
        raise Invalid(
            "as-of date {day} is in the future; its days have no transactions yet", day=as_of
        )
    started = time.perf_counter()
    session.flush()
    zone = ZoneInfo(settings.feed_timezone)
    # Deployed "on" D: the placement began on a local day before D and had not ended before D.
    day_start = datetime.combine(as_of, clock(0), tzinfo=zone).astimezone(UTC)
    windows = rules.Windows.of(as_of, settings)
    data_from = coverage.start(session)
    measured = _measure(session, windows, day_start, settings.feed_timezone, data_from)
    rows = _score_rows(measured, windows, settings, data_from)
    _replace(session, as_of, rows, settings, data_from)
    counts = Counter(row["status"] for row in rows)
    return ScoreSummary(
        as_of=as_of,
        terminals=len(rows),
        by_status={s.value: counts.get(s.value, 0) for s in UsageStatus},
        seconds=round(time.perf_counter() - started, 3),
    )


def score_weeks(
    session: Session, *, as_of: date, weeks: int, settings: Settings | None = None
) -> list[ScoreSummary]:
    """Scores `as_of` and the `weeks` weekly as-of dates before it, oldest first."""
    if weeks < 0:
        raise Invalid("weeks must not be negative")
    dates = [as_of - timedelta(days=7 * k) for k in range(weeks, -1, -1)]
    return [score(session, as_of=d, settings=settings) for d in dates]


def _covering(day_start: datetime) -> ColumnElement[bool]:
    return and_(
        col(Placement.started_at) < day_start,
        or_(col(Placement.ended_at).is_(None), col(Placement.ended_at) >= day_start),
    )


def _measure(
    session: Session,
    windows: rules.Windows,
    day_start: datetime,
    zone: str,
    data_from: date | None,
) -> list[Any]:
    """The one heavy query: per placement covering the as-of date, its merchant's grouping keys,
    its last use and its windowed sums, all counted from the day the placement began (and not
    before the data coverage start: lines older than that are stray, not history)."""
    day = col(TerminalDay.day)
    count, amount = col(TerminalDay.txn_count), col(TerminalDay.amount_fen)
    placed_on = local_day(col(Placement.started_at), zone, windows.as_of)
    since_placed = and_(
        col(TerminalDay.terminal_id) == col(Placement.terminal_id),
        day < windows.as_of,
        day >= placed_on,
        # A day with only inquiries or failed transactions is no use: leave it out everywhere.
        count > 0,
    )
    if data_from is not None:
        since_placed = and_(since_placed, day >= data_from)

    def window(value: Any, first: date, before: date | None = None) -> Any:
        inside = day >= first if before is None else and_(day >= first, day < before)
        return func.sum(case((inside, value)))

    # The sums read only the rows of the windows. A unit with no use there may have used it
    # further back: for those alone, an index walk back from the as-of date finds the last use.
    sums = (
        select(
            col(Placement.terminal_id),
            func.max(day).label("last_in_window"),
            window(count, windows.recent_from).label("c30"),
            window(amount, windows.recent_from).label("a30"),
            window(count, windows.long_from).label("c90"),
            window(amount, windows.long_from).label("a90"),
            window(count, windows.previous_from, windows.recent_from).label("cprev"),
        )
        .join(
            TerminalDay,
            and_(since_placed, day >= min(windows.long_from, windows.previous_from)),
        )
        .where(_covering(day_start))
        .group_by(col(Placement.terminal_id))
        .subquery("sums")
    )
    earlier_use = select(func.max(day)).where(since_placed).scalar_subquery()
    stmt = (
        select(
            col(Placement.terminal_id),
            col(Placement.merchant_id),
            placed_on,
            col(Terminal.branch_id),
            col(Merchant.category),
            col(Merchant.market_id),
            col(Merchant.staff_id),
            col(Market.category),
            # COALESCE evaluates its second argument only where the first is null.
            func.coalesce(sums.c.last_in_window, earlier_use),
            sums.c.c30,
            sums.c.a30,
            sums.c.c90,
            sums.c.a90,
            sums.c.cprev,
        )
        .join(Terminal, col(Terminal.id) == col(Placement.terminal_id))
        .join(Merchant, col(Merchant.id) == col(Placement.merchant_id))
        .outerjoin(Market, col(Market.id) == col(Merchant.market_id))
        .outerjoin(sums, sums.c.terminal_id == col(Placement.terminal_id))
        .where(_covering(day_start))
        # By terminal, so that the scores go in in key order; by start, so the later one wins.
        .order_by(col(Placement.terminal_id), col(Placement.started_at))
    )
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Compiling this one-pass query (JIT) costs PostgreSQL more than it saves: ~1 s of 3.
        session.execute(text("SET LOCAL jit = off"))
    elif dialect == "sqlite":
        _refresh_sqlite_statistics(session)
    # At most one placement covers a day; should two, the later one is where the unit is.
    return list({row[0]: tuple(row) for row in session.execute(stmt)}.values())


def _refresh_sqlite_statistics(session: Session) -> None:
    """Gives SQLite's planner fresh row counts for the tables this query reads.

    Without statistics SQLite takes the day index for the window's rows and joins each of
    millions of rollup rows to its placement (4 s of CPU for 100k terminals and 4M rollup rows);
    with them it walks each placement's days along the primary key (1.6 s). Sampling at most
    1,000 rows per index keeps this to tens of milliseconds at any size.
    """
    session.execute(text("PRAGMA analysis_limit = 1000"))
    for table in ("placement", "terminal_day"):
        session.execute(text(f"ANALYZE {table}"))


def _score_rows(
    measured: list[tuple[Any, ...]],
    windows: rules.Windows,
    settings: Settings,
    data_from: date | None = None,
) -> list[dict[str, Any]]:
    """One terminal_score row per measured placement: the rules, then peer-group scores."""
    rows: list[dict[str, Any]] = []
    rates: list[tuple[int, str, float]] = []
    as_of = windows.as_of
    for (
        terminal_id,
        merchant_id,
        deployed_on,
        branch_id,
        category,
        market_id,
        staff_id,
        market_category,
        last_used,
        *sums,
    ) in measured:
        c30, a30, c90, a90, cprev = (int(v or 0) for v in sums)
        use = rules.Usage(last_used, c30, a30, c90, a90, cprev)
        since = rules.counted_from(deployed_on, data_from)
        monthly = rules.previous_monthly(use, deployed_on, windows, settings, data_from)
        group = rules.peer_group(settings, category, market_category, market_id is not None)
        rates.append((terminal_id, group, rules.daily_rate(use, since, as_of, settings)))
        rows.append(
            {
                "as_of": as_of,
                "terminal_id": terminal_id,
                "status": rules.status_of(use, since, monthly, as_of, settings).value,
                "deployed_on": deployed_on,
                "data_from": data_from,
                "last_used_on": last_used,
                "days_since_use": (as_of - last_used).days if last_used else None,
                "count_30": c30,
                "amount_30_fen": a30,
                "count_90": c90,
                "amount_90_fen": a90,
                "previous_monthly": monthly or 0.0,
                "trend": c30 / monthly if monthly else None,
                "score": 0.0,
                "peer_group": group,
                "branch_id": branch_id,
                "merchant_id": merchant_id,
                "market_id": market_id,
                "staff_id": staff_id,
                "category": category,
            }
        )
    scores = rules.peer_scores(rates)
    for row in rows:
        row["score"] = scores[row["terminal_id"]]
    return rows


def _replace(
    session: Session,
    as_of: date,
    rows: list[dict[str, Any]],
    settings: Settings,
    data_from: date | None = None,
) -> None:
    """Replaces the as-of date's scores: one delete, bulk inserts, and the run's record."""
    # The run's row first, locked: a second scoring of the same date waits for this one.
    run = session.get(ScoreRun, as_of, with_for_update=True)
    if run is None:
        run = ScoreRun(as_of=as_of)
        session.add(run)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("{day} is being scored by another run; try again", day=as_of) from None
    session.execute(delete(TerminalScore).where(col(TerminalScore.as_of) == as_of))
    _insert_scores(session, rows)
    recorded: dict[str, Any] = {name: getattr(settings, name) for name in SETTINGS_RECORDED}
    recorded["data_from"] = data_from and data_from.isoformat()
    run.computed_at = datetime.now(UTC)
    run.terminals = len(rows)
    run.settings = json.dumps(recorded, ensure_ascii=False)[:1000]
    session.add(run)
    session.flush()


def _insert_scores(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk insert at the driver, as the feed store does: COPY on PostgreSQL (as DESIGN.md says
    for bulk loads), executemany on SQLite; each about twice as fast as through the ORM layer."""
    if not rows:
        return
    connection = session.connection()
    columns = list(rows[0])
    driver: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY terminal_score ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns])
    elif connection.dialect.name == "sqlite":
        # SQLite keeps dates as ISO text, as SQLAlchemy writes them.
        dated = [i for i, c in enumerate(columns) if c in DATE_COLUMNS]
        values = []
        for row in rows:
            value = list(row.values())
            for i in dated:
                value[i] = value[i] and value[i].isoformat()
            values.append(value)
        marks = ", ".join("?" * len(columns))
        driver.executemany(
            f"INSERT INTO terminal_score ({', '.join(columns)}) VALUES ({marks})", values
        )
    else:
        table = TerminalScore.__table__  # type: ignore[attr-defined]
        for start in range(0, len(rows), INSERT_CHUNK):
            session.execute(insert(table), rows[start : start + INSERT_CHUNK])


# --- reading scores -----------------------------------------------------------------------------

# fetch_page sorts by attributes of `model` and breaks ties on `model.id`; a score's id is its
# terminal, within one as-of date.
_SORTABLE = SimpleNamespace(
    id=col(TerminalScore.terminal_id),
    terminal_id=col(TerminalScore.terminal_id),
    score=col(TerminalScore.score),
    status=col(TerminalScore.status),
    days_since_use=col(TerminalScore.days_since_use),
    count_30=col(TerminalScore.count_30),
    count_90=col(TerminalScore.count_90),
    trend=col(TerminalScore.trend),
)


def scope_branch_ids(
    session: Session, actor: Actor, branch_id: int | None
) -> frozenset[int] | None:
    """The branches whose terminals the actor asks about: their scope, narrowed to a subtree."""
    if branch_id is None:
        return actor.branch_ids
    inventory.get_branch(session, actor, branch_id)  # 404 outside the actor's scope
    below = subtree_ids(session, branch_id)
    return below if actor.branch_ids is None else below & actor.branch_ids


def list_scores(
    session: Session,
    actor: Actor,
    *,
    as_of: date | None = None,
    status: UsageStatus | None = None,
    branch_id: int | None = None,
    market_id: int | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[date | None, list[TerminalScore], int]:
    """Scores as of a date (the latest by default) in the actor's scope, filtered and paged."""
    as_of = as_of or latest_as_of(session)
    stmt = select(TerminalScore).where(col(TerminalScore.as_of) == as_of)
    branches = scope_branch_ids(session, actor, branch_id)
    if branches is not None:
        stmt = stmt.where(col(TerminalScore.branch_id).in_(branches))
    if status is not None:
        stmt = stmt.where(col(TerminalScore.status) == status)
    if market_id is not None:
        stmt = stmt.where(col(TerminalScore.market_id) == market_id)
    rows, total = fetch_page(
        session,
        stmt,
        model=_SORTABLE,
        sort=sort,
        sortable=set(vars(_SORTABLE)) - {"id"},
        limit=limit,
        offset=offset,
    )
    return as_of, rows, total


def terminal_history(session: Session, actor: Actor, terminal_id: int) -> list[TerminalScore]:
    """One terminal's scores, oldest as-of date first; 404 outside the actor's scope."""
    terminal = inventory.get_terminal(session, actor, terminal_id)
    stmt = select(TerminalScore).where(col(TerminalScore.terminal_id) == terminal.id)
    return list(session.execute(stmt.order_by(col(TerminalScore.as_of))).scalars())
