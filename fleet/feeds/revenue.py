"""Revenue at ingest: each accepted transaction's fee by the schedule in force on its day (or
the fee the feed carries), rolled up per terminal and day, by type, into terminal_day's
revenue columns: in the same rollup and upsert as the day's counts, so that revenue costs
ingest no extra rows to write.

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

FEE_TYPES = ("transfer", "card_payment", "bill_payment")
# terminal_day's revenue columns, in the order of `revenue_sums` and `revenue_sql`.
REVENUE_COLUMNS = (
    *(f"{t}_{what}" for t in FEE_TYPES for what in ("count", "fen", "fee_fen")),
    "net_fen",
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


def revenue_values(financial_types: tuple[str, ...]) -> list[pl.Expr]:
    """Each priced row's share of the revenue columns (for `with_columns`, then a plain sum
    per terminal-day: conditions evaluated once over the whole block, not group by group)."""
    earns = pl.col("txn_type").is_in(list(financial_types)) & (pl.col("status") == "success")
    values: list[pl.Expr] = []
    for kind in FEE_TYPES:
        this = earns & (pl.col("txn_type") == kind)
        values += [
            this.cast(pl.Int64).alias(f"{kind}_count"),
            pl.when(this).then(pl.col("amount_fen")).otherwise(0).alias(f"{kind}_fen"),
            pl.when(this).then(pl.col("fee_fen")).otherwise(0).alias(f"{kind}_fee_fen"),
        ]
    return [*values, pl.col("net_fen").fill_null(0).alias("net_fen")]


def revenue_sums() -> list[pl.Expr]:
    """The revenue columns summed per group, of rows with `revenue_values` added."""
    return [pl.col(c).sum() for c in REVENUE_COLUMNS]


def revenue_sql(financial_types: tuple[str, ...], priced: bool = True) -> str:
    """The revenue columns as SQL sums over a source with txn_type, status, amount_fen and
    (when `priced`) fee_fen and net_fen; unpriced sources count and earn nothing."""
    fin = ", ".join(f"'{t}'" for t in financial_types)
    parts = []
    for kind in FEE_TYPES:
        this = f"(txn_type = '{kind}' AND txn_type IN ({fin}) AND status = 'success')"
        fee = "coalesce(fee_fen, 0)" if priced else "0"
        parts += [
            f"sum(CASE WHEN {this} THEN 1 ELSE 0 END)",
            f"sum(CASE WHEN {this} THEN amount_fen ELSE 0 END)",
            f"sum(CASE WHEN {this} THEN {fee} ELSE 0 END)",
        ]
    parts.append("sum(coalesce(net_fen, 0))" if priced else "0")
    return ", ".join(parts)


# Days of transactions read at a time by the rebuild: a month of a large bank fits in memory.
REBUILD_DAYS = 31
FEE_COLUMNS = (*(f"{t}_fee_fen" for t in FEE_TYPES), "net_fen")


def rebuild(
    conn: Connection,
    financial_types: tuple[str, ...],
    *,
    since: date | None = None,
    until: date | None = None,
) -> int:
    """terminal_day's fees and net priced again from the stored transactions (days in
    [since, until)) by the current schedule and classes. Returns the transactions priced."""
    where = []
    params: dict[str, Any] = {}
    if since is not None:
        where.append("day >= :since")
        params["since"] = since
    if until is not None:
        where.append("day < :until")
        params["until"] = until
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    zero = ", ".join(f"{c} = 0" for c in FEE_COLUMNS)
    conn.execute(text(f"UPDATE terminal_day SET {zero}" + clause), params)
    first, last = conn.execute(text("SELECT min(day), max(day) FROM txn" + clause), params).one()
    if first is None:
        return 0
    book = FeeBook.load(conn)
    start, end = _day(first), _day(last)
    assert start is not None and end is not None
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    update = (
        f"UPDATE terminal_day SET {', '.join(f'{c} = {mark}' for c in FEE_COLUMNS)} "
        f"WHERE terminal_id = {mark} AND day = {mark}"
    )
    priced_count = 0
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
        priced = with_fees(frame, book, financial_types)
        priced_count += priced.select(pl.col("fee_fen").is_not_null().sum()).item()
        fees = (
            priced.with_columns(revenue_values(financial_types))
            .group_by("terminal_id", "day")
            .agg(revenue_sums())
            .select(*FEE_COLUMNS, "terminal_id", pl.col("day").cast(pl.String) if sqlite else "day")
        )
        if fees.height:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(update, fees.rows())
            cursor.close()
        start = stop
    return int(priced_count)
