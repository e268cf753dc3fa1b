"""Writes a checked block: accepted transactions (the database decides what is a duplicate),
their per terminal-day rollups, and the rejected lines. SQLite through executemany, PostgreSQL
through COPY into a staging table; the SQL is the same upsert on both.

Each store splits its work in two: `stage` (column-wise polars work, safe to run in another
thread, ahead of the database) and `add` (the database work, on the connection's thread).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
import psycopg
from sqlalchemy import Connection, text

from fleet.core.config import Settings
from fleet.feeds import revenue
from fleet.feeds.formats import Mapping
from fleet.feeds.validate import Context

TXN_COLUMNS = (
    "txn_ref",
    "terminal_id",
    "occurred_at",
    "day",
    "amount_fen",
    "txn_type",
    "status",
    "merchant_code",
    "ingest_id",
)
# terminal_day's counts, written by every rollup.
COUNT_COLUMNS = ("terminal_id", "day", "txn_count", "amount_fen", "other_count", "failed_count")
DAY_COLUMNS = (*COUNT_COLUMNS, *revenue.REVENUE_COLUMNS)
# A transaction already stored is a duplicate: the key of exactly-once. The acquirer's
# reference with its terminal, so that a line for one unit never makes another's a duplicate.
TXN_CONFLICT = " ON CONFLICT (txn_ref, terminal_id) DO NOTHING"
COUNTS_TAIL = (
    " ON CONFLICT (terminal_id, day) DO UPDATE SET"
    " txn_count = terminal_day.txn_count + excluded.txn_count,"
    " amount_fen = terminal_day.amount_fen + excluded.amount_fen,"
    " other_count = terminal_day.other_count + excluded.other_count,"
    " failed_count = terminal_day.failed_count + excluded.failed_count"
)
UPSERT_DAY_TAIL = COUNTS_TAIL + "".join(
    f", {c} = terminal_day.{c} + excluded.{c}" for c in revenue.REVENUE_COLUMNS
)
# Card-number-like digit runs (13–19 digits, Luhn-valid) are masked before a raw line is kept.
_PAN = re.compile(r"(?<![\d.])(\d{6})\d{3,9}(\d{4})(?![\d.])")
# A 14-digit local time (%Y%m%d%H%M%S), which a bank writes in columns fleet does not keep.
_STAMP = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])[0-5]\d[0-5]\d")
MAX_RAW = 4000


def luhn_valid(digits: str) -> bool:
    """The check digit that every card number carries (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_number_like(run: str) -> bool:
    """13–19 digits with a valid Luhn check, and not a 14-digit timestamp."""
    return luhn_valid(run) and not (len(run) == 14 and _STAMP.fullmatch(run))


def mask_card_numbers(line: str, keep: tuple[str | None, ...] = ()) -> str:
    """The line with card-number-like digit runs masked, except inside the fields we keep.
    Runs next to a decimal point are amounts, not card numbers."""

    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        if not card_number_like(run) or any(value and run in value for value in keep):
            return run
        return f"{match.group(1)}******{match.group(2)}"

    return _PAN.sub(mask, line)


def load_context(
    conn: Connection, settings: Settings, mapping: Mapping, branch_ids: frozenset[int] | None = None
) -> Context:
    """A snapshot of terminals and placements to check a whole feed against.

    `branch_ids`: the uploader's branches (None: all). A unit outside them is not known to the
    run, so its lines are refused exactly like a unit that does not exist.
    """
    terminals = pl.DataFrame(
        conn.execute(text("SELECT sn, id, branch_id FROM terminal")).all(),
        schema={"sn": pl.String, "terminal_id": pl.Int64, "branch_id": pl.Int64},
        orient="row",
    )
    if branch_ids is not None:
        terminals = terminals.filter(pl.col("branch_id").is_in(sorted(branch_ids)))
    terminals = terminals.drop("branch_id")
    rows = conn.execute(text("SELECT terminal_id, started_at, ended_at FROM placement")).all()
    placements = _placements_frame(rows) if conn.dialect.name == "sqlite" else None
    if placements is None:
        placements = pl.DataFrame(
            [(r[0], _utc(r[1]), _utc(r[2])) for r in rows],
            schema={
                "terminal_id": pl.Int64,
                "started_at": pl.Datetime("us", "UTC"),
                "ended_at": pl.Datetime("us", "UTC"),
            },
            orient="row",
        )
    return Context(
        terminals=terminals,
        placements=placements,
        type_codes=mapping.type_codes(),
        status_codes=mapping.status_codes(),
        timestamp_format=mapping.timestamp_format,
        timezone=settings.feed_timezone,
        now=datetime.now(UTC),
    )


def _placements_frame(rows: Sequence[Any]) -> pl.DataFrame | None:
    """SQLite's stored text parsed column-wise; None when it is not in SQLAlchemy's format."""
    raw = pl.DataFrame(
        rows,
        schema=["terminal_id", "started_at", "ended_at"],
        orient="row",
        schema_overrides={"started_at": pl.String, "ended_at": pl.String},
    )
    # SQLAlchemy writes naive UTC; a driver given aware datetimes adds the offset.
    for stamp in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f%#z"):
        try:
            return raw.with_columns(
                pl.col(c)
                .str.to_datetime(stamp, time_unit="us", time_zone="UTC")
                .dt.convert_time_zone("UTC")
                for c in ("started_at", "ended_at")
            ).cast({"terminal_id": pl.Int64})
        except pl.exceptions.PolarsError:
            continue
    return None


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back text through a plain text() query
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def accepted_frame(valid: pl.DataFrame, ingest_id: int, timezone: str) -> pl.DataFrame:
    """Valid lines in the column order of the txn table, sorted by key for index locality."""
    return valid.select(
        "txn_ref",
        "terminal_id",
        "occurred_at",
        pl.col("occurred_at").dt.convert_time_zone(timezone).dt.date().alias("day"),
        "amount_fen",
        "txn_type",
        "status",
        pl.when(pl.col("merchant_code") == "")
        .then(None)
        .otherwise(pl.col("merchant_code"))
        .alias("merchant_code"),
        pl.lit(ingest_id, dtype=pl.Int64).alias("ingest_id"),
        # The feed's fee, if any: priced with the rest into the rollup (fleet/feeds/revenue.py).
        "fee_fen",
    ).sort("txn_ref")


def rollup(
    rows: pl.DataFrame, financial_types: tuple[str, ...], with_revenue: bool = True
) -> pl.DataFrame:
    """Per terminal-day counts and revenue of rows priced by revenue.with_fees (counts only,
    of unpriced rows, when not `with_revenue`: see `store_for`)."""
    financial = pl.col("txn_type").is_in(list(financial_types)) & (pl.col("status") == "success")
    # Each row's share first, over the whole block at once, then plain sums per group:
    # conditions inside the aggregation would be evaluated group by group, twice as slow.
    shares = [
        financial.cast(pl.Int64).alias("txn_count"),
        pl.when(financial).then(pl.col("amount_fen")).otherwise(0).alias("amount_fen"),
        (~financial).cast(pl.Int64).alias("other_count"),
        (pl.col("status") == "failed").cast(pl.Int64).alias("failed_count"),
        *(revenue.revenue_values(financial_types) if with_revenue else ()),
    ]
    summed = COUNT_COLUMNS[2:] + (revenue.REVENUE_COLUMNS if with_revenue else ())
    # In key order: the upsert then walks terminal_day's key once instead of jumping about.
    return (
        rows.select("terminal_id", "day", *shares)
        .group_by("terminal_id", "day")
        .agg(pl.col(c).sum() for c in summed)
        .sort("terminal_id", "day")
    )


def _driver(conn: Connection) -> Any:
    """The driver's own connection (sqlite3 or psycopg), inside the same transaction."""
    return conn.connection.driver_connection


REJECT_COLUMNS = ("ingest_id", "line_no", "reason", "detail", "raw")
INSERT_REJECT = (
    f"INSERT INTO rejected_row ({', '.join(REJECT_COLUMNS)}) VALUES "
    f"({', '.join('?' * len(REJECT_COLUMNS))})"
)
# SQLAlchemy's text form of a SQLite datetime: what every other reader of these tables expects.
SQLITE_STAMP = "%Y-%m-%d %H:%M:%S%.6f"


@dataclass
class Staged:
    """A block's accepted rows in the driver's form, and their rollup should all be new."""

    rows: pl.DataFrame
    days: pl.DataFrame | None = None


def _financial_sql(financial_types: tuple[str, ...]) -> str:
    fin = ", ".join(f"'{t}'" for t in financial_types)
    return f"(txn_type IN ({fin}) AND status = 'success')"


def rollup_sql(
    financial_types: tuple[str, ...],
    source: str,
    priced: bool = True,
    with_revenue: bool = True,
) -> str:
    """The rollup of `source`'s rows as an upsert (`source` may end in a WHERE clause); its
    rows carry fee_fen and net_fen when `priced`, else they earn nothing. Not
    `with_revenue`: the counts alone, the revenue columns left out (see `store_for`)."""
    is_fin = _financial_sql(financial_types)
    sums = f", {revenue.revenue_sql(financial_types, priced)}" if with_revenue else ""
    return (
        f"INSERT INTO terminal_day ({', '.join(DAY_COLUMNS if with_revenue else COUNT_COLUMNS)}) "
        f"SELECT terminal_id, day, sum(CASE WHEN {is_fin} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {is_fin} THEN amount_fen ELSE 0 END), "
        f"sum(CASE WHEN {is_fin} THEN 0 ELSE 1 END), "
        f"sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END){sums} "
        f"FROM {source} GROUP BY terminal_id, day"
        + (UPSERT_DAY_TAIL if with_revenue else COUNTS_TAIL)
    )


# Rows per INSERT statement on SQLite: one statement's setup and reset then serve a hundred
# rows, about 15% less work than one statement per row (and far below SQLite's 32,766 `?`s).
ROWS_PER_STATEMENT = 100


def _insert_rows(
    cursor: Any, table: str, columns: tuple[str, ...], frame: pl.DataFrame, tail: str
) -> None:
    """INSERT of the frame's rows (in `columns` order) with `tail`, many rows per statement."""
    width = len(columns)
    row = f"({', '.join('?' * width)})"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    # The values row after row in one list, each column slotted in by one slice assignment:
    # half the Python work of making a tuple per row and flattening them again.
    values: list[Any] = [None] * (frame.height * width)
    for k, name in enumerate(columns):
        values[k::width] = frame.get_column(name).to_list()
    per_statement = ROWS_PER_STATEMENT * width
    whole = len(values) - len(values) % per_statement
    cursor.executemany(
        head + ", ".join([row] * ROWS_PER_STATEMENT) + tail,
        (values[i : i + per_statement] for i in range(0, whole, per_statement)),
    )
    if whole < len(values):
        rest = (len(values) - whole) // width
        cursor.execute(head + ", ".join([row] * rest) + tail, values[whole:])


class SqliteStore:
    """SQLite: executemany on the run's own connection, inside its transaction."""

    # The key index of a large txn table does not fit SQLite's default 2 MB page cache.
    INGEST_CACHE_KIB = 256 * 1024

    def __init__(
        self, conn: Connection, financial_types: tuple[str, ...], with_revenue: bool = True
    ) -> None:
        self.financial_types, self.with_revenue = financial_types, with_revenue
        self.day_columns = DAY_COLUMNS if with_revenue else COUNT_COLUMNS
        self.day_tail = UPSERT_DAY_TAIL if with_revenue else COUNTS_TAIL
        self.book = revenue.FeeBook.load(conn)
        self.dbapi = _driver(conn)
        self.dbapi.execute(f"PRAGMA cache_size = -{self.INGEST_CACHE_KIB}")

    def close(self) -> None:
        self.dbapi.execute("PRAGMA cache_size = -2000")

    def stage(self, rows: pl.DataFrame) -> Staged:
        """SQLite keeps datetimes and dates as text, as SQLAlchemy writes them."""
        priced = (
            revenue.with_fees(rows, self.book, self.financial_types) if self.with_revenue else rows
        )
        as_text = priced.with_columns(
            pl.col("occurred_at").dt.convert_time_zone("UTC").dt.strftime(SQLITE_STAMP),
            pl.col("day").cast(pl.String),
        )
        days = rollup(as_text, self.financial_types, self.with_revenue).select(self.day_columns)
        return Staged(as_text, days)

    def add(self, staged: Staged) -> int:
        """Inserts the rows that are new; returns how many were."""
        if staged.rows.height == 0:
            return 0
        cursor = self.dbapi.cursor()
        # Read before this run holds the write lock (SQLite begins a transaction at its first
        # write), so rows of another run may land above it: only the rows carrying this run's
        # id are its own.
        before = cursor.execute("SELECT coalesce(max(id), 0) FROM txn").fetchone()[0]
        _insert_rows(cursor, "txn", TXN_COLUMNS, staged.rows, TXN_CONFLICT)
        own = "txn WHERE id > ? AND ingest_id = ?"
        mine = (before, staged.rows.get_column("ingest_id")[0])
        inserted = cursor.execute(f"SELECT count(*) FROM {own}", mine).fetchone()[0]
        if inserted == staged.rows.height and staged.days is not None:
            _insert_rows(cursor, "terminal_day", self.day_columns, staged.days, self.day_tail)
        elif inserted:  # some were duplicates: count only what the database took
            new = cursor.execute(f"SELECT txn_ref, terminal_id FROM {own}", mine).fetchall()
            keys = pl.DataFrame(new, schema=["txn_ref", "terminal_id"], orient="row")
            taken = staged.rows.join(keys, on=["txn_ref", "terminal_id"], how="semi").unique(
                ["txn_ref", "terminal_id"], keep="first"
            )
            days = rollup(taken, self.financial_types, self.with_revenue).select(self.day_columns)
            _insert_rows(cursor, "terminal_day", self.day_columns, days, self.day_tail)
        cursor.close()
        return int(inserted)

    def reject(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.dbapi.executemany(INSERT_REJECT, rows)


# The stage holds each row's price beside the transaction's own columns.
STAGE_COLUMNS = (*TXN_COLUMNS, "fee_fen", "net_fen")


class PostgresStore:
    """PostgreSQL: each block is COPYed straight into `txn` (COPY writes rows a page at a
    time; an INSERT ... SELECT ... ON CONFLICT writes and logs them one at a time, twice as
    slow), from a savepoint. When some rows are stored already (a re-run, an overlapping file,
    another run meanwhile) the COPY stops at the first one; the block is then taken the
    careful way: into a staging table and on with ON CONFLICT DO NOTHING. The rollup of a
    COPYed block is computed in polars in the worker thread and upserted in key order."""

    def close(self) -> None:
        pass

    def __init__(
        self, conn: Connection, financial_types: tuple[str, ...], with_revenue: bool = True
    ) -> None:
        self.financial_types, self.with_revenue = financial_types, with_revenue
        self.day_columns = DAY_COLUMNS if with_revenue else COUNT_COLUMNS
        self.day_tail = UPSERT_DAY_TAIL if with_revenue else COUNTS_TAIL
        self.dbapi = _driver(conn)
        with self.dbapi.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS txn_stage AS SELECT {', '.join(TXN_COLUMNS)} "
                "FROM txn WITH NO DATA"
            )
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS day_stage AS SELECT {', '.join(DAY_COLUMNS)} "
                "FROM terminal_day WITH NO DATA"
            )
            # Each row's fee and net (null when it earns none), for the careful way's rollup.
            cursor.execute(
                "ALTER TABLE txn_stage ADD COLUMN IF NOT EXISTS fee_fen bigint, "
                "ADD COLUMN IF NOT EXISTS net_fen bigint"
            )
        self.book = revenue.FeeBook.load(conn)

    def _copy(self, table: str, columns: tuple[str, ...], frame: pl.DataFrame) -> None:
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="")
        with (
            self.dbapi.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(buffer.getvalue())

    def stage(self, rows: pl.DataFrame) -> Staged:
        """One row per key (a key twice in a block is a duplicate), as COPY reads them."""
        unique = rows.unique("txn_ref", keep="first", maintain_order=True)
        if self.with_revenue:
            unique = revenue.with_fees(unique, self.book, self.financial_types)
        else:  # unpriced: the staging table's price columns stay empty
            unique = unique.with_columns(fee_fen=None, net_fen=None)
        return Staged(
            unique.with_columns(
                pl.col("occurred_at")
                .dt.convert_time_zone("UTC")
                .dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00")
            ),
            rollup(unique, self.financial_types, self.with_revenue).select(self.day_columns),
        )

    def add(self, staged: Staged) -> int:
        """Inserts the rows that are new; returns how many were."""
        rows = staged.rows
        if rows.height == 0:
            return 0
        with self.dbapi.cursor() as cursor:
            cursor.execute("SAVEPOINT fleet_block")
            try:
                self._copy("txn", TXN_COLUMNS, rows.select(TXN_COLUMNS))
            except psycopg.errors.UniqueViolation:  # some are stored already: duplicates
                cursor.execute("ROLLBACK TO SAVEPOINT fleet_block")
                return self._add_carefully(cursor, rows)
            cursor.execute("RELEASE SAVEPOINT fleet_block")
            cursor.execute("TRUNCATE day_stage")
            days = (
                staged.days
                if staged.days is not None
                else rollup(rows, self.financial_types, self.with_revenue)
            )
            self._copy("day_stage", self.day_columns, days.select(self.day_columns))
            names = ", ".join(self.day_columns)
            cursor.execute(
                f"INSERT INTO terminal_day ({names}) SELECT {names} FROM day_stage "
                "ORDER BY terminal_id, day" + self.day_tail
            )
        return rows.height

    def _add_carefully(self, cursor: Any, rows: pl.DataFrame) -> int:
        """The rows that are still new, through the staging table and ON CONFLICT."""
        cursor.execute("TRUNCATE txn_stage")
        self._copy("txn_stage", STAGE_COLUMNS, rows.select(STAGE_COLUMNS))
        cols = ", ".join(TXN_COLUMNS)
        # The rollup reads the priced stage for the rows inserted (the stage has one row
        # per txn_ref, so each is read once).
        new_rows = (
            "txn_stage WHERE (txn_ref, terminal_id) IN (SELECT txn_ref, terminal_id FROM ins)"
        )
        cursor.execute(
            f"WITH ins AS (INSERT INTO txn ({cols}) SELECT {cols} FROM txn_stage "
            f"{TXN_CONFLICT} RETURNING txn_ref, terminal_id), "
            f"up AS ({rollup_sql(self.financial_types, new_rows, with_revenue=self.with_revenue)}"
            " RETURNING 1) "
            "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM up)"
        )
        return int(cursor.fetchone()[0])

    def reject(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._copy(
                "rejected_row",
                REJECT_COLUMNS,
                pl.DataFrame(rows, schema=list(REJECT_COLUMNS), orient="row"),
            )


def store_for(
    conn: Connection, financial_types: tuple[str, ...], with_revenue: bool = True
) -> SqliteStore | PostgresStore:
    """The dialect's store. `with_revenue=False` prices nothing and leaves the revenue columns
    out of the rollup and its upsert (they keep their defaults): only for the ingest
    benchmark's side-by-side measure of what revenue costs (bench_ingest.py
    --revenue-overhead); fleet itself always ingests with revenue."""
    if conn.dialect.name == "sqlite":
        return SqliteStore(conn, financial_types, with_revenue)
    return PostgresStore(conn, financial_types, with_revenue)
