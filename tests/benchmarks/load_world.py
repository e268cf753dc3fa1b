"""The load benchmark's world: the demo region's organisation scaled to a bank-sized fleet, a
transaction history, scores, a recovery queue and the benchmark's own sign-in accounts.

Built once per database and marked as built (see `MARKER`), so reruns start at once. What runs
through fleet's own code: the demo generator (branches, staff, markets, merchants, terminals),
the import service (branches, staff and markets), the demo campaign, the synthetic feed
(`fleet.feeds.synth`) ingested by `fleet ingest`'s code (COPY on PostgreSQL), scoring, the
recovery rules and user creation. Merchants and terminals are bulk-inserted from the
generator's files: the import service takes ~7 ms a row with its checks and audit trail, about
25 minutes for this fleet, and this benchmark measures requests, not the import.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine

AS_OF = date(2026, 11, 28)  # the benchmark world's "today": scores, plans and KPIs are as of it
SEED = 20261128
PASSWORD = "load-bench-2026"
TREND_WEEKS = 4
BATCH = 10_000


@dataclass(frozen=True)
class WorldSize:
    scale: float  # of the demo region: 38.5 gives ~100,000 terminals, ~119,000 merchants
    feed_days: int  # days of transactions before AS_OF
    field_outlets: int  # outlets whose field staff sign in (one county each)
    field_per_outlet: int
    queue_per_county: int  # pending recovery requests raised in each of those counties
    plan_seconds: float = 3.0  # the route solver's budget per outlet
    marketing: int = 3
    pending_per_run: int = 100  # visits waiting for an outcome: a run records about one a second

    def key(self) -> str:
        return (
            f"bench_load v1 seed={SEED} scale={self.scale} days={self.feed_days} "
            f"outlets={self.field_outlets}x{self.field_per_outlet} queue={self.queue_per_county}"
        )


FULL = WorldSize(
    scale=38.5, feed_days=45, field_outlets=4, field_per_outlet=5, queue_per_county=150
)
SMOKE = WorldSize(
    scale=0.08, feed_days=20, field_outlets=1, field_per_outlet=2, queue_per_county=5,
    plan_seconds=1.0, marketing=1, pending_per_run=1,
)  # fmt: skip


@dataclass
class Accounts:
    """The benchmark's sign-in accounts by role, and the branches they work in."""

    outlets: dict[str, str]  # outlet code -> its county's code
    field: dict[str, str]  # username -> outlet code
    ops: dict[str, str]  # username -> county code
    marketing: list[str]
    admin: list[str]


# --- the marker: PostgreSQL keeps it as the database's comment; SQLite in a side table ---


def read_marker(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = current_database()"
                )
            ).scalar()
        exists = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'bench_load_marker'")
        ).scalar()
        return conn.execute(text("SELECT key FROM bench_load_marker")).scalar() if exists else None


def write_marker(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            name = conn.execute(text("SELECT current_database()")).scalar()
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{key}'"))
        else:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_load_marker (key TEXT)"))
            conn.execute(text("DELETE FROM bench_load_marker"))
            conn.execute(text("INSERT INTO bench_load_marker VALUES (:key)"), {"key": key})


# --- building ----------------------------------------------------------------------------------


def build(url: str, size: WorldSize, echo: Callable[[str], object] = print) -> None:
    """Builds the whole world into the empty database at `url`, then marks it."""
    from fleet import wiring
    from fleet.core.access import system_actor
    from fleet.core.db import make_engine, session_scope
    from fleet.demo.build import feed_terminals
    from fleet.demo.generator import generate
    from fleet.feeds import service as feeds
    from fleet.feeds.synth import generate_feed
    from fleet.imports import service as imports
    from fleet.markets.demo import plan_demo_campaign
    from fleet.migrations import upgrade
    from fleet.scoring import service as scoring

    wiring.plug_in()
    upgrade(url)
    engine = make_engine(url)
    actor = system_actor("bench_load")
    started = time.perf_counter()

    def step(what: str) -> None:
        echo(f"  {time.perf_counter() - started:7.1f} s  {what}")

    with tempfile.TemporaryDirectory(prefix="fleet-load-") as folder:
        files = generate(Path(folder), seed=SEED, scale=size.scale, as_of=AS_OF)
        for kind in ("branches", "staff", "markets"):
            with session_scope(engine) as session:
                imports.import_file(session, actor, kind, files[kind])
        merchants, terminals = _bulk_load(engine, files["merchants"], files["terminals"])
        step(f"{merchants:,} merchants, {terminals:,} terminals")
        step(str(plan_demo_campaign(engine, AS_OF, SEED)))
        feed = Path(folder) / "feed.csv"
        stats = generate_feed(feed, feed_terminals(engine), as_of=AS_OF, days=size.feed_days)
        step(f"feed of {stats.rows:,} rows over {size.feed_days} days generated")
        report = feeds.ingest_file(feed, actor=actor, engine=engine, source_name="bench_load")
        step(f"ingested: {report.counts()}")
    with session_scope(engine) as session:
        summaries = scoring.score_weeks(session, as_of=AS_OF, weeks=TREND_WEEKS)
    step(f"scored {len(summaries)} weekly dates: {dict(summaries[-1].by_status)}")
    accounts = create_accounts(engine, size)
    raised = _raise_recovery_queue(engine, accounts, size.queue_per_county)
    people = len(accounts.field) + len(accounts.ops) + len(accounts.marketing) + 1
    step(f"{people} accounts, {raised} recovery requests")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    write_marker(engine, size.key())
    step("analysed and marked")
    engine.dispose()


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _bulk_load(engine: Engine, merchants_csv: Path, terminals_csv: Path) -> tuple[int, int]:
    """Merchants, terminals and their open placements from the generator's files, with the
    values the import would store (WGS-84 coordinates, Beijing-time deployment dates)."""
    from fleet.auth.models import User
    from fleet.core.geo import parse_datum, to_wgs84
    from fleet.imports.values import moment
    from fleet.inventory.models import Branch, Market, Merchant, Placement, Terminal

    with engine.connect() as conn:
        branch = dict(conn.execute(select(Branch.code, Branch.id)).all())
        market = dict(conn.execute(select(Market.code, Market.id)).all())
        staff = dict(conn.execute(select(User.username, User.id)).all())
    now = datetime.now(UTC)
    merchant_rows: list[dict[str, Any]] = []
    for row in _rows(merchants_csv):
        lat, lng = to_wgs84(float(row["lat"]), float(row["lng"]), parse_datum(row["coord_system"]))
        merchant_rows.append(
            {k: row[k] or None for k in ("code", "name", "category", "address", "contact_name")}
            | {"phone": row["phone"] or None, "opening_hours": row["opening_hours"]}
            | {"lat": round(lat, 6), "lng": round(lng, 6), "status": row["status"]}
            | {"branch_id": branch[row["branch_code"]], "market_id": market.get(row["market_code"])}
            | {"staff_id": staff.get(row["staff_username"]), "created_at": now, "updated_at": now}
        )
    merchant_ids = {m["code"]: i for i, m in enumerate(merchant_rows, start=1)}
    terminal_rows, placements = [], []
    for row in _rows(terminals_csv):
        tid = len(terminal_rows) + 1
        at = merchant_ids.get(row["merchant_code"])
        since = moment(row["deployed_at"]) if at else now
        terminal_rows.append(
            {"id": tid, "sn": row["sn"], "model": row["model"], "state": row["state"]}
            | {"branch_id": branch[row["branch_code"]], "merchant_id": at}
            | {"state_since": since, "created_at": since, "updated_at": since}
        )
        if at:
            placements.append({"terminal_id": tid, "merchant_id": at, "started_at": since})
    with engine.begin() as conn:
        first = conn.execute(select(func.coalesce(func.max(Merchant.id), 0))).scalar_one()
        if first:
            raise RuntimeError("the database already holds merchants: build into an empty one")
        rows_by_table: list[tuple[Any, list[dict[str, Any]]]] = [
            (Merchant, [m | {"id": i} for i, m in enumerate(merchant_rows, start=1)]),
            (Terminal, terminal_rows),
            (Placement, placements),
        ]
        for table, rows in rows_by_table:
            for start in range(0, len(rows), BATCH):
                conn.execute(insert(table), rows[start : start + BATCH])
        if engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for table in ("merchant", "terminal"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    return len(merchant_rows), len(terminal_rows)


def pick_branches(engine: Engine, outlets: int) -> list[tuple[str, str]]:
    """(outlet, county) codes: the busiest outlet of each of the busiest counties."""
    from fleet.inventory.models import Branch, Terminal

    with engine.connect() as conn:
        counts = conn.execute(
            select(Branch.code, Branch.parent_id, func.count())
            .join(Terminal, Terminal.branch_id == Branch.id)
            .where(Branch.level == "outlet")
            .group_by(Branch.code, Branch.parent_id)
            .order_by(func.count().desc(), Branch.code)
        ).all()
        codes = dict(conn.execute(select(Branch.id, Branch.code)).all())
    picked: dict[str, str] = {}
    for outlet, parent, _ in counts:
        county = codes[parent]
        if county not in picked.values() and len(picked) < outlets:
            picked[outlet] = county
    return list(picked.items())


def accounts_for(engine: Engine, size: WorldSize) -> Accounts:
    """The benchmark's usernames, by role (the same every time for one world)."""
    field, ops = {}, {}
    outlets = dict(pick_branches(engine, size.field_outlets))
    for n, (outlet, county) in enumerate(outlets.items(), start=1):
        ops[f"load_ops_{n}"] = county
        for k in range(1, size.field_per_outlet + 1):
            field[f"load_field_{n}_{k}"] = outlet
    marketing = [f"load_marketing_{k}" for k in range(1, size.marketing + 1)]
    return Accounts(outlets, field, ops, marketing, admin=["load_admin"])


def create_accounts(engine: Engine, size: WorldSize) -> Accounts:
    """Creates the accounts through fleet's user service (argon2 hashes and all)."""
    from fleet.auth import service as auth
    from fleet.auth.models import UserCreate
    from fleet.core.access import Role, system_actor
    from fleet.core.db import session_scope
    from fleet.demo.org import CITY_CODE

    accounts = accounts_for(engine, size)
    wanted = (
        [(u, Role.field, b) for u, b in accounts.field.items()]
        + [(u, Role.branch_ops, b) for u, b in accounts.ops.items()]
        + [(u, Role.marketing, CITY_CODE) for u in accounts.marketing]
        + [(u, Role.admin, CITY_CODE) for u in accounts.admin]
    )
    with session_scope(engine) as session:
        for username, role, branch in wanted:
            auth.create_user(
                session,
                system_actor("bench_load"),
                UserCreate(
                    username=username,
                    full_name=username,
                    role=role,
                    branch_code=branch,
                    password=PASSWORD,
                ),
            )
    return accounts


def _raise_recovery_queue(engine: Engine, accounts: Accounts, per_county: int) -> int:
    """Pending recovery requests in the benchmark's counties: the rules' first suggestions,
    raised as the nightly job raises them (the job raises all; a queue of this size is enough)."""
    from fleet.core import phrases
    from fleet.core.access import system_actor
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory
    from fleet.inventory.models import Branch, Terminal, TerminalState
    from fleet.inventory.scope import subtree_ids
    from fleet.recovery import service as recovery
    from fleet.recovery.suggestions import suggest
    from fleet.scoring.models import TerminalScore, UsageStatus

    actor = system_actor("bench_load")
    raised = 0
    for county in sorted(set(accounts.ops.values())):
        with session_scope(engine) as session:
            branch_id = session.execute(select(Branch.id).where(Branch.code == county)).scalar_one()
            taken = set()
            for s in suggest(session, actor, branch_id=branch_id, limit=per_county):
                recovery.raise_request(
                    session,
                    actor,
                    inventory.get_terminal(session, actor, s.terminal_id),
                    why=s.why,
                    source="rule",
                    rule=s.rule,
                    evidence=s.evidence,
                )
                taken.add(s.terminal_id)
            # A short history fires few rules (never used 60+ days needs 60 days of data):
            # the rest of the queue is what field staff raise by hand for never-used units.
            idle = session.execute(
                select(TerminalScore.terminal_id)
                .join(Terminal, Terminal.id == TerminalScore.terminal_id)
                .where(
                    TerminalScore.as_of == AS_OF,
                    TerminalScore.status == UsageStatus.never_used,
                    Terminal.state == TerminalState.deployed,
                    Terminal.branch_id.in_(subtree_ids(session, branch_id)),
                )
                .order_by(TerminalScore.terminal_id)
                .limit(per_county)
            ).scalars()
            for terminal_id in [t for t in idle if t not in taken][: per_county - len(taken)]:
                recovery.raise_request(
                    session,
                    actor,
                    inventory.get_terminal(session, actor, terminal_id),
                    why=phrases.text("商户表示不需要机具"),
                )
                raised += 1
            raised += len(taken)
    return raised


def ensure_plans(
    engine: Engine, size: WorldSize, *, min_pending: int, echo: Callable[[str], object] = print
) -> date:
    """The field day the run works on: the first from AS_OF on whose visits (of the benchmark's
    field accounts) still have `min_pending` waiting for an outcome; a day not planned yet is
    planned for every field outlet, as the nightly job does, not under load (an outlet of a few
    thousand units takes from seconds to a minute, see the README)."""
    from fleet.auth.models import User
    from fleet.core.access import system_actor
    from fleet.core.db import session_scope
    from fleet.scoring import service as scoring
    from fleet.visits import plan as planning
    from fleet.visits.models import Visit, VisitStatus
    from fleet.visits.present import notes_said

    accounts = accounts_for(engine, size)
    # Forward from AS_OF up to today (an outcome cannot be recorded for a day still to come),
    # then backward from the day before AS_OF.
    today = scoring.today_local()
    forward = [AS_OF + timedelta(days=n) for n in range(60) if AS_OF + timedelta(days=n) <= today]
    backward = [AS_OF - timedelta(days=n) for n in range(1, 60)]
    for day in (forward or [AS_OF]) + backward:
        with engine.connect() as conn:
            planned, pending = conn.execute(
                select(
                    func.count(),
                    func.count().filter(Visit.status == VisitStatus.planned),
                )
                .select_from(Visit)
                .join(User, User.id == Visit.staff_id)
                .where(Visit.plan_date == day, User.username.in_(list(accounts.field)))
            ).one()
        if pending >= min_pending:
            return day
        if planned:
            continue  # used up: the next day
        for outlet in accounts.outlets:
            started = time.perf_counter()
            with session_scope(engine) as session:
                plan = planning.plan_day(
                    session, system_actor("bench_load"), branch_code=outlet, plan_date=day,
                    seconds=size.plan_seconds,
                )  # fmt: skip
                notes = "; ".join(notes_said(plan.notes[-2:])) if hasattr(plan, "notes") else ""
            echo(f"  planned {outlet} {day} in {time.perf_counter() - started:.0f} s: {notes}")
        return day
    raise RuntimeError("no field day with visits left around AS_OF: rebuild with --reset")
