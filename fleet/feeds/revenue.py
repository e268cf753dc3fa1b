"""Revenue at ingest: each accepted transaction's fee by the schedule in force on its day (or
the fee the feed carries), rolled up per terminal, day and type into `revenue_day`.

The schedule (`fee_rule`) and merchants' classes (`merchant_fee_class`) belong to fleet/pay;
they are read here by table name so that ingest, a lower layer, never imports pay. One
arithmetic serves ingest and the rebuild from stored transactions (`rebuild`), so the two
cannot disagree.

A transaction's merchant class is that of its terminal's current merchant (standard when it
has none or no class is set). The feed does not say whose card paid, so the bank's net assumes
its own card: the issuer's share is kept in the schedule for when it does.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, text

REVENUE_COLUMNS = (
    "terminal_id",
    "day",
    "txn_type",
    "txn_count",
    "amount_fen",
    "fee_fen",
    "net_fen",
)
UPSERT_REVENUE_TAIL = (
    " ON CONFLICT (terminal_id, day, txn_type) DO UPDATE SET"
    " txn_count = revenue_day.txn_count + excluded.txn_count,"
    " amount_fen = revenue_day.amount_fen + excluded.amount_fen,"
    " fee_fen = revenue_day.fee_fen + excluded.fee_fen,"
    " net_fen = revenue_day.net_fen + excluded.net_fen"
)
RULE_SCHEMA = {
    "txn_type": pl.String,
    "merchant_class": pl.String,
    "effective_from": pl.Date,
    "effective_to": pl.Date,
    "rate_ppm": pl.Int64,
    "fixed_fen": pl.Int64,
    "min_fen": pl.Int64,
    "cap_fen": pl.Int64,
    "network_ppm": pl.Int64,
    "network_cap_fen": pl.Int64,
}
STANDARD = "standard"


class FeeBook:
    """The schedule and the terminals' merchant classes, read once per ingest."""

    def __init__(self, rules: pl.DataFrame, classes: pl.DataFrame) -> None:
        self.rules = rules.sort("effective_from")
        self.classes = classes

    @classmethod
    def load(cls, conn: Connection) -> FeeBook:
        rules = conn.execute(
            text(f"SELECT {', '.join(RULE_SCHEMA)} FROM fee_rule ORDER BY effective_from")
        ).all()
        classes = conn.execute(
            text(
                "SELECT t.id, c.merchant_class FROM terminal t "
                "JOIN merchant_fee_class c ON c.merchant_id = t.merchant_id"
            )
        ).all()
        return cls(
            pl.DataFrame(
                [
                    tuple(
                        _day(v) if k.startswith("effective") else v
                        for k, v in zip(RULE_SCHEMA, r, strict=True)
                    )
                    for r in rules
                ],
                schema=RULE_SCHEMA,
                orient="row",
            ),
            pl.DataFrame(
                classes,
                schema={"terminal_id": pl.Int64, "merchant_class": pl.String},
                orient="row",
            ),
        )


def _day(value: Any) -> date | None:
    if isinstance(value, str):  # SQLite hands back text through a plain text() query
        return date.fromisoformat(value)
    return value


# Below this amount (fen) amount × ppm fits in 64 bits: 9.2 billion yuan.
SAFE_AMOUNT = 2**63 // 1_000_001


def _portion(amount: pl.Expr, ppm: pl.Expr, wide: bool) -> pl.Expr:
    """amount × ppm / 1,000,000 rounded half up; in 128 bits when an amount needs them."""
    if wide:
        product = amount.cast(pl.Int128) * ppm.cast(pl.Int128)
        return ((product + 500_000) // 1_000_000).cast(pl.Int64)
    return (amount * ppm + 500_000) // 1_000_000


def with_fees(rows: pl.DataFrame, book: FeeBook, financial_types: tuple[str, ...]) -> pl.DataFrame:
    """`rows` (with terminal_id, day as a date, txn_type, amount_fen, status, and optionally
    the feed's fee_fen) in their order, with `fee_fen` and `net_fen`: null on the rows that
    earn nothing (not financial, or not successful)."""
    earns = pl.col("txn_type").is_in(list(financial_types)) & (pl.col("status") == "success")
    feed_fee = (
        pl.col("fee_fen").cast(pl.Int64)
        if "fee_fen" in rows.columns
        else pl.lit(None, dtype=pl.Int64)
    )
    priced = rows.select("terminal_id", "day", "txn_type", "amount_fen", feed_fee.alias("feed_fee"))
    if book.classes.height:
        priced = priced.join(book.classes, on="terminal_id", how="left", maintain_order="left")
        priced = priced.with_columns(pl.col("merchant_class").fill_null(STANDARD))
    else:
        priced = priced.with_columns(merchant_class=pl.lit(STANDARD))
    # The version in force per type, class and day of this block: a small table (types ×
    # classes × days) that a hash join reads, instead of sorting the block by day.
    days = priced.select(pl.col("day").unique())
    in_force_by_day = (
        days.join(book.rules, how="cross")
        .filter(
            (pl.col("effective_from") <= pl.col("day"))
            & (pl.col("effective_to").is_null() | (pl.col("day") < pl.col("effective_to")))
        )
        .drop("effective_from", "effective_to")
    )
    priced = priced.join(
        in_force_by_day,
        on=["txn_type", "merchant_class", "day"],
        how="left",
        maintain_order="left",
    )
    in_force = pl.col("rate_ppm").is_not_null()
    wide = bool(rows.select(pl.col("amount_fen").max() >= SAFE_AMOUNT).item())
    by_rate = pl.col("fixed_fen") + _portion(pl.col("amount_fen"), pl.col("rate_ppm"), wide)
    by_rate = pl.max_horizontal(by_rate, pl.col("min_fen"))
    by_rate = (
        pl.when(pl.col("cap_fen").is_null())
        .then(by_rate)
        .otherwise(pl.min_horizontal(by_rate, pl.col("cap_fen")))
    )
    network = _portion(pl.col("amount_fen"), pl.col("network_ppm"), wide)
    network = (
        pl.when(pl.col("network_cap_fen").is_null())
        .then(network)
        .otherwise(pl.min_horizontal(network, pl.col("network_cap_fen")))
    )
    fee = pl.coalesce(pl.col("feed_fee"), pl.when(in_force).then(by_rate).otherwise(0))
    # The network takes its share of what the bank earns: none when nothing is charged.
    net = fee - pl.when(in_force & (fee > 0)).then(pl.min_horizontal(network, fee)).otherwise(0)
    priced = priced.select(fee_fen=fee, net_fen=net)
    return rows.with_columns(
        fee_fen=pl.when(earns).then(priced.get_column("fee_fen")),
        net_fen=pl.when(earns).then(priced.get_column("net_fen")),
    )


def revenue_rollup(priced: pl.DataFrame) -> pl.DataFrame:
    """Per terminal, day and type of rows priced by `with_fees`, in key order: count, amount,
    fee and net of the rows that earn."""
    return (
        priced.filter(pl.col("fee_fen").is_not_null())
        .group_by("terminal_id", "day", "txn_type")
        .agg(
            txn_count=pl.len().cast(pl.Int64),
            amount_fen=pl.col("amount_fen").sum(),
            fee_fen=pl.col("fee_fen").sum(),
            net_fen=pl.col("net_fen").sum(),
        )
        .sort("terminal_id", "day", "txn_type")
        .select(REVENUE_COLUMNS)
    )


def upsert_sql(placeholder: str) -> str:
    """One row's upsert into revenue_day, with the driver's placeholder (`?` or `%s`)."""
    values = ", ".join([placeholder] * len(REVENUE_COLUMNS))
    return (
        f"INSERT INTO revenue_day ({', '.join(REVENUE_COLUMNS)}) VALUES ({values})"
        + UPSERT_REVENUE_TAIL
    )


def write(conn: Connection, rollup: pl.DataFrame) -> None:
    """Adds a revenue rollup to revenue_day (on the connection's own transaction)."""
    if rollup.height == 0:
        return
    sqlite = conn.dialect.name == "sqlite"
    frame = rollup.with_columns(pl.col("day").cast(pl.String)) if sqlite else rollup
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(upsert_sql("?" if sqlite else "%s"), frame.rows())
    cursor.close()


# Days of transactions read at a time by the rebuild: a month of a large bank fits in memory.
REBUILD_DAYS = 31


def rebuild(
    conn: Connection,
    financial_types: tuple[str, ...],
    *,
    since: date | None = None,
    until: date | None = None,
) -> int:
    """revenue_day made again from the stored transactions (days in [since, until)), by the
    current schedule and classes. Returns the transactions counted."""
    where = []
    params: dict[str, Any] = {}
    if since is not None:
        where.append("day >= :since")
        params["since"] = since
    if until is not None:
        where.append("day < :until")
        params["until"] = until
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    conn.execute(text("DELETE FROM revenue_day" + clause), params)
    first, last = conn.execute(text("SELECT min(day), max(day) FROM txn" + clause), params).one()
    if first is None:
        return 0
    book = FeeBook.load(conn)
    start, end = _day(first), _day(last)
    assert start is not None and end is not None
    counted = 0
    while start <= end:
        stop = start + timedelta(days=REBUILD_DAYS)
        rows = conn.execute(
            text(
                "SELECT terminal_id, day, amount_fen, txn_type, status FROM txn "
                "WHERE day >= :start AND day < :stop AND day <= :last"
            ),
            {"start": start, "stop": stop, "last": end},
        ).all()
        frame = pl.DataFrame(
            [(r[0], _day(r[1]), r[2], r[3], r[4]) for r in rows],
            schema={
                "terminal_id": pl.Int64,
                "day": pl.Date,
                "amount_fen": pl.Int64,
                "txn_type": pl.String,
                "status": pl.String,
            },
            orient="row",
        )
        rollup = revenue_rollup(with_fees(frame, book, financial_types))
        counted += int(rollup.get_column("txn_count").sum() or 0)
        write(conn, rollup)
        start = stop
    return counted
