"""Turns a block of feed lines into typed transactions and explained rejects, column-wise.

Every line gets exactly one outcome: valid, or the first reason it fails, in the order of
REASON_ORDER. The work is done by polars on whole columns; only lines with quotes (CSV) or
any NDJSON line take a per-line path.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from fleet.feeds.formats import FIELDS, REQUIRED, Mapping
from fleet.feeds.models import RejectReason

R = RejectReason
MAX_REF = 64
# Control characters (C0, DEL, C1): no field holds one, and PostgreSQL text cannot hold NUL.
# A raw line may hold tabs (a TSV's separator, or between JSON tokens), a field may not.
CONTROL_IN_LINE = r"[\x00-\x08\x0B-\x1F\x7F-\x9F]"
CONTROL_IN_FIELD = r"[\x00-\x1F\x7F-\x9F]"
NOW_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Context:
    """What every block is checked against: the terminals and where they were placed."""

    terminals: pl.DataFrame  # sn, terminal_id
    placements: pl.DataFrame  # terminal_id, started_at, ended_at (UTC; null while open)
    type_codes: dict[str, str]
    status_codes: dict[str, str]
    timestamp_format: str | None
    timezone: str
    now: datetime


def _split_csv(lines: pl.Series, positions: list[str | None], delimiter: str) -> pl.DataFrame:
    """Columns for each kept field, plus `malformed` where the field count is wrong."""
    width = len(positions)
    frame = pl.DataFrame({"line": lines})
    quoted = frame["line"].str.contains('"', literal=True)
    counts = frame["line"].str.count_matches(delimiter, literal=True)
    fast = frame.with_columns(
        malformed=(counts != width - 1) & ~quoted,
        parts=pl.col("line").str.split_exact(delimiter, width - 1),
    )
    columns = {
        field: fast["parts"].struct.field(f"field_{i}")
        for i, field in enumerate(positions)
        if field is not None
    }
    out = pl.DataFrame(columns).with_columns(malformed=fast["malformed"])
    if quoted.any():
        out = _fix_quoted(out, frame["line"], quoted, positions, delimiter)
    return out


def _fix_quoted(
    out: pl.DataFrame,
    lines: pl.Series,
    quoted: pl.Series,
    positions: list[str | None],
    delimiter: str,
) -> pl.DataFrame:
    """Re-reads the few lines that use CSV quoting with the csv module."""
    rows = out.to_dicts()
    for index in quoted.arg_true().to_list():
        parsed = next(csv.reader([lines[index]], delimiter=delimiter), [])
        row = rows[index]
        if len(parsed) != len(positions):
            row["malformed"] = True
            continue
        row["malformed"] = False
        for value, field in zip(parsed, positions, strict=True):
            if field is not None:
                row[field] = value
    return pl.DataFrame(rows, schema=out.schema)


def _parse_ndjson(lines: pl.Series) -> pl.DataFrame:
    records: dict[str, list[str | None]] = {f: [] for f in FIELDS}
    malformed: list[bool] = []
    for line in lines.to_list():
        try:
            item = json.loads(line)
            ok = isinstance(item, dict)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            ok = False
        malformed.append(not ok)
        for f in FIELDS:
            value = item.get(f) if ok else None
            records[f].append(None if value is None else str(value))
    return pl.DataFrame(records, schema={f: pl.String for f in FIELDS}).with_columns(
        malformed=pl.Series(malformed, dtype=pl.Boolean)
    )


def records_frame(records: list[dict[str, object]]) -> pl.DataFrame:
    """The same columns as a parsed block, from JSON objects (an HTTP feed's `items`)."""
    return _parse_ndjson(pl.Series([json.dumps(r, ensure_ascii=False) for r in records]))


def parse_block(
    series: pl.Series, *, fmt: str, positions: list[str | None], mapping: Mapping
) -> pl.DataFrame:
    """Raw string columns for a block of lines (blank lines are dropped before this)."""
    if fmt == "ndjson":
        return _parse_ndjson(series)
    return _split_csv(series, positions, mapping.delimiter)


# Each directive of a timestamp format as the exact text it stands for: chrono, under polars,
# takes "2018041912291" for %Y%m%d%H%M%S (a short field) and second 60 as the next minute.
_DIRECTIVES = {
    "%Y": r"\d{4}",
    "%y": r"\d{2}",
    "%m": r"(0[1-9]|1[0-2])",
    "%d": r"(0[1-9]|[12]\d|3[01])",
    "%H": r"([01]\d|2[0-3])",
    "%M": r"[0-5]\d",
    "%S": r"[0-5]\d",
    "%F": r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])",
    "%T": r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d",
    "%.f": r"(\.\d{1,9})?",
    "%.3f": r"\.\d{3}",
    "%.6f": r"\.\d{6}",
    "%.9f": r"\.\d{9}",
    "%3f": r"\d{3}",
    "%6f": r"\d{6}",
    "%9f": r"\d{9}",
    "%f": r"\d{1,9}",
    "%z": r"[+-]\d{4}",
    "%:z": r"[+-]\d{2}:\d{2}",
    "%#z": r"(Z|[+-]\d{2}(:?\d{2})?)",
    "%%": "%",
}
_DIRECTIVE = re.compile("|".join(re.escape(d) for d in sorted(_DIRECTIVES, key=len, reverse=True)))
# ISO 8601 as fleet reads it: a date, T or a space, a time, maybe fractions and an offset.
ISO_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
ISO_WORDS = "an ISO 8601 time (YYYY-MM-DD hh:mm:ss, maybe .ffffff and an offset)"


def format_pattern(fmt: str) -> str:
    """The regular expression a value must match in full to be a time in `fmt`: fixed field
    widths, and months, days, hours, minutes and seconds in range. A directive without a
    fixed form (%b, %e, ...) is left to the parser."""
    parts, at = ["^"], 0
    for match in _DIRECTIVE.finditer(fmt):
        parts += [_literal(fmt[at : match.start()]), _DIRECTIVES[match.group(0)]]
        at = match.end()
    return "".join([*parts, _literal(fmt[at:]), "$"])


def _literal(text: str) -> str:
    return re.sub(r"%[-_0^#]?[A-Za-z]", ".+?", re.escape(text))


def _timestamps(raw: pl.Series, ctx: Context) -> pl.Series:
    """UTC instants; values without an offset are local time in the feed's timezone. A value
    that does not match its format exactly is null (refused), never a time made up for it."""
    fmt = ctx.timestamp_format
    exact = raw.str.contains(format_pattern(fmt) if fmt else ISO_PATTERN)
    raw = pl.select(pl.when(exact).then(raw)).to_series()
    if ctx.timestamp_format:
        naive = raw.str.to_datetime(ctx.timestamp_format, strict=False, time_unit="us")
        return naive.dt.replace_time_zone(ctx.timezone, ambiguous="earliest").dt.convert_time_zone(
            "UTC"
        )
    text = raw.str.replace(" ", "T", literal=True, n=1)
    naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    local = naive.dt.replace_time_zone(
        ctx.timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    if not (local.is_null() & text.is_not_null()).any():
        return local  # no value left for the second, slower reading with an offset
    offset = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us")
    return pl.select(pl.coalesce(local, offset.dt.convert_time_zone("UTC"))).to_series()


# What a valid line becomes (the txn table's columns, but for the ones the store derives).
VALID_COLUMNS = (
    "txn_ref",
    "terminal_id",
    "occurred_at",
    "amount_fen",
    "txn_type",
    "status",
    "merchant_code",
    "fee_fen",
)
# What a rejected line keeps: where it was, why, and the text to show for it.
REJECTED_COLUMNS = ("line_no", "reason", "detail", "raw")


def check(
    frame: pl.DataFrame, ctx: Context, *, line_no: pl.Series, raw: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid lines, rejected lines) of a parsed block.

    Every line gets the first reason it fails, in the order below. The reasons are computed
    for every line as small integers; the text that explains one only for the lines rejected.
    The rejected frame has REJECTED_COLUMNS plus the kept fields as written (`ts_text`,
    `amount_text`, ...), which masking leaves alone.
    """
    present = [f for f in FIELDS if f in frame.columns]
    control = pl.any_horizontal(
        pl.col("raw").str.contains(CONTROL_IN_LINE),
        *(pl.col(f).str.contains(CONTROL_IN_FIELD) for f in present),
    )
    df = frame.with_columns(line_no=line_no, raw=raw)
    df = df.with_columns(control=control.fill_null(False))
    df = df.with_columns(pl.col(f).str.strip_chars() for f in present)
    for f in FIELDS:
        if f not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(f))
    df = df.with_columns(missing=pl.any_horizontal([_empty(f) for f in REQUIRED]))
    # At most 15 digits of yuan: the fen fit in 64 bits with room to add them up.
    amount_ok = pl.col("amount").str.contains(r"^[+-]?\d{1,15}(\.\d{1,2})?$")
    df = df.with_columns(
        occurred_at=_timestamps(df["occurred_at"], ctx),
        txn_type=pl.col("txn_type")
        .str.to_lowercase()
        .replace_strict(ctx.type_codes, default=None, return_dtype=pl.String),
        status=pl.col("status")
        .str.to_lowercase()
        .replace_strict(ctx.status_codes, default=None, return_dtype=pl.String),
        amount_fen=pl.when(amount_ok).then(_fen(pl.col("amount"))),
        # An unreadable or negative fee is refused below (bad_amount); none is null.
        fee_fen=pl.when(pl.col("fee").str.contains(r"^\+?\d{1,15}(\.\d{1,2})?$")).then(
            _fen(pl.col("fee").str.strip_prefix("+"))
        ),
        ts_text=pl.col("occurred_at"),
        type_text=pl.col("txn_type"),
        status_text=pl.col("status"),
        amount_text=pl.col("amount"),
    )
    df = df.join(ctx.terminals, left_on="terminal_sn", right_on="sn", how="left")
    df = df.with_columns(deployed=_deployed(df, ctx))
    checks = _checks(ctx)
    failed: pl.Expr = pl.lit(None, dtype=pl.Int8)  # the number of the first check failed
    for number, (condition, _, _) in reversed(list(enumerate(checks))):
        hit = condition.fill_null(False)
        failed = pl.when(hit).then(pl.lit(number, dtype=pl.Int8)).otherwise(failed)
    df = df.with_columns(failed=failed)
    valid = df.lazy().filter(pl.col("failed").is_null()).select(VALID_COLUMNS).collect()
    bad = df.filter(pl.col("failed").is_not_null())
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    detail: pl.Expr = pl.lit(None, dtype=pl.String)
    for number, (_, code, text) in reversed(list(enumerate(checks))):
        hit = pl.col("failed") == number
        reason = pl.when(hit).then(pl.lit(code.value)).otherwise(reason)
        detail = pl.when(hit).then(text).otherwise(detail)
    return valid, bad.with_columns(reason=reason, detail=detail)


def _checks(ctx: Context) -> list[tuple[pl.Expr, R, pl.Expr]]:
    """(failed when, reason, detail) in the order a line is judged."""
    # The fields as written: the converted columns are null for bad values, not only empty ones.
    written = [TEXT_OF.get(f, f) for f in REQUIRED]
    empty = [pl.when(_empty(c)).then(pl.lit(f)) for f, c in zip(REQUIRED, written, strict=True)]
    missing = pl.concat_str(empty, separator=", ", ignore_nulls=True)
    future_limit = ctx.now + NOW_TOLERANCE
    return [
        (
            pl.col("raw").str.contains("\ufffd", literal=True),
            R.bad_encoding,
            pl.lit("bytes that are not valid text in this encoding"),
        ),
        (pl.col("control"), R.control_character, pl.lit("a NUL or other control character")),
        (pl.col("malformed"), R.malformed_line, pl.lit("wrong number of fields or not JSON")),
        (pl.col("missing"), R.missing_field, pl.format("empty: {}", missing)),
        (
            pl.col("txn_ref").str.len_chars() > MAX_REF,
            R.malformed_line,
            pl.lit(f"txn_ref longer than {MAX_REF} characters"),
        ),
        (
            pl.col("occurred_at").is_null(),
            R.bad_timestamp,
            pl.concat_str(
                pl.lit("'"),
                pl.col("ts_text"),
                pl.lit(
                    f"' is not a time in the format {ctx.timestamp_format}"
                    if ctx.timestamp_format
                    else f"' is not {ISO_WORDS}"
                ),
            ),
        ),
        (
            pl.col("occurred_at") > pl.lit(future_limit),
            R.future_timestamp,
            pl.format("{} is in the future", pl.col("ts_text")),
        ),
        (
            pl.col("amount_fen").is_null(),
            R.bad_amount,
            pl.format("'{}' is not an amount in yuan", pl.col("amount_text")),
        ),
        (
            pl.col("amount_fen") <= 0,
            R.non_positive_amount,
            pl.format("amount {} is not positive", pl.col("amount_text")),
        ),
        (
            pl.col("fee_fen").is_null() & ~_empty("fee"),
            R.bad_amount,
            pl.format("fee '{}' is not an amount in yuan of zero or more", pl.col("fee")),
        ),
        (
            pl.col("txn_type").is_null(),
            R.unknown_type,
            pl.format("unknown transaction type '{}'", pl.col("type_text")),
        ),
        (
            pl.col("status").is_null(),
            R.unknown_status,
            pl.format("unknown status '{}'", pl.col("status_text")),
        ),
        (
            pl.col("terminal_id").is_null(),
            R.unknown_terminal,
            pl.format("no terminal {}", pl.col("terminal_sn")),
        ),
        (
            ~pl.col("deployed"),
            R.not_deployed,
            pl.format(
                "terminal {} was not at a merchant at {}", pl.col("terminal_sn"), pl.col("ts_text")
            ),
        ),
    ]


# The columns that keep a field's text as written, once the field itself is converted.
TEXT_OF = {
    "occurred_at": "ts_text",
    "txn_type": "type_text",
    "status": "status_text",
    "amount": "amount_text",
}


def _empty(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column) == "")


def _fen(amount: pl.Expr) -> pl.Expr:
    """Exact yuan text (already checked against `amount_ok`) to integer fen, without floats:
    the digits without the point, times 100, 10 or 1 for the decimals written."""
    point = amount.str.find(".", literal=True)
    decimals = pl.when(point.is_null()).then(0).otherwise(amount.str.len_bytes() - point - 1)
    digits = amount.str.replace(".", "", literal=True).cast(pl.Int64, strict=False)
    return digits * pl.when(decimals == 0).then(100).when(decimals == 1).then(10).otherwise(1)


def _deployed(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Whether each line's terminal had a placement covering the line's time."""
    keyed = df.select(pl.int_range(0, df.height).alias("row"), "terminal_id", "occurred_at")
    matches = (
        keyed.drop_nulls()
        .join(ctx.placements, on="terminal_id", how="inner")
        .filter(
            (pl.col("occurred_at") >= pl.col("started_at"))
            & (pl.col("ended_at").is_null() | (pl.col("occurred_at") < pl.col("ended_at")))
        )
        .select("row")
        .unique()
    )
    hit = keyed.select("row").join(matches.with_columns(ok=pl.lit(True)), on="row", how="left")
    return hit.sort("row")["ok"].fill_null(False)
