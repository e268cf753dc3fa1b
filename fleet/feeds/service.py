"""Ingest: take every valid transaction of a feed exactly once, and explain every refusal.

received = accepted + duplicate + rejected, always. A file is taken in one database
transaction, so a crash or kill leaves the data as before the run; the run itself is
recorded first, and a run that never finished is marked interrupted by the next one.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from queue import Full, Queue
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import Connection, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core import metrics, phrases, sheets
from fleet.core.access import Actor, Permission
from fleet.core.config import Settings, get_settings
from fleet.core.db import get_engine, separate_transaction, utcnow
from fleet.core.errors import FleetError, Invalid
from fleet.feeds import coverage, store, validate
from fleet.feeds.formats import FeedFile, Limits, Mapping, header_fields
from fleet.feeds.models import IngestRun, IngestRunBranch, RunStatus
from fleet.inventory.models import Terminal

Progress = Callable[[int], object]  # called with bytes of input consumed so far
T = TypeVar("T")


@dataclass
class IngestReport:
    received: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    rejects_path: str | None = None
    run_id: int | None = None
    seconds: float = 0.0
    sha256: str | None = None
    # Why the run failed though it finished (all refused, too many refused): the counts stand.
    failure: FleetError | None = None
    # Valid lines per local day: what the source's derived coverage start is taken from.
    lines_per_day: Counter[date] = field(default_factory=Counter)
    # Units the run took lines for, and their branches as recorded (`ingest_run_branch`).
    terminal_ids: set[int] = field(default_factory=set)
    branch_ids: set[int] = field(default_factory=set)

    def counts(self) -> dict[str, object]:
        """Exactly the keys `fleet ingest --json` promises."""
        keys = ("received", "accepted", "duplicate", "rejected", "rejects_path")
        # Read field by field: asdict would deep-copy the run's day counts and unit sets too.
        return {k: getattr(self, k) for k in keys}


# The fields fleet keeps, as written in the feed: a digit run inside them is not a card number.
KEPT_TEXT = ("txn_ref", "terminal_sn", "merchant_code", "ts_text", "amount_text")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """Control characters written out (NUL as \\x00): PostgreSQL text cannot hold NUL, and a
    person reading a rejected line should see what was there."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class Rejects:
    """The optional rejects file (`--rejects PATH`): line, reason, detail, raw text."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file = path.open("w", encoding="utf-8-sig", newline="") if path else None
        self._csv = sheets.csv_writer(self._file) if self._file else None
        if self._csv:
            self._csv.writerow(["line", "reason", "detail", "raw"])

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if self._csv:
            self._csv.writerows([row[1:] for row in rows])

    def close(self) -> None:
        if self._file:
            self._file.close()


@dataclass
class Checked:
    """One block, checked and staged for the store: what `Batch.store_block` writes."""

    staged: store.Staged
    received: int
    valid: int
    rejected: list[tuple[Any, ...]]
    lines_per_day: dict[date, int]
    terminal_ids: set[int] = field(default_factory=set)


class Batch:
    """Checks and stores blocks of one run on one open connection, adding to its report.

    `check` is column-wise work that touches neither the database nor the report, so a file's
    next block is checked in a worker thread while `store_block` writes this one.
    """

    def __init__(
        self,
        conn: Connection,
        report: IngestReport,
        ctx: validate.Context,
        settings: Settings,
        rejects: Rejects,
        with_revenue: bool = True,
    ) -> None:
        self.report, self.ctx, self.settings, self.rejects = report, ctx, settings, rejects
        self.conn = conn
        self.store = store.store_for(conn, settings.financial_types, with_revenue)

    def take(self, frame: pl.DataFrame, line_no: pl.Series, raw: pl.Series) -> None:
        """Checks a parsed block and stores its valid and rejected lines."""
        if frame.height:
            self.store_block(self.check(frame, line_no, raw))

    def check(self, frame: pl.DataFrame, line_no: pl.Series, raw: pl.Series) -> Checked:
        """The block's verdicts: valid rows staged for the store, rejected rows masked."""
        run_id = self.report.run_id or 0
        valid, bad = validate.check(frame, self.ctx, line_no=line_no, raw=raw)
        # Early, before each refused line is written out: the blocks before may still be
        # being stored, so `store_block` checks again with the exact count.
        self.refuse_beyond_limit(
            bad.get_column("line_no").head(self.settings.feed_max_rejected + 1).to_list()
        )
        accepted = store.accepted_frame(valid, run_id, self.settings.feed_timezone)
        staged = self.store.stage(accepted)
        per_day = dict(accepted.group_by("day").len().iter_rows())
        rows = [
            (
                run_id,
                n,
                reason,
                visible((detail or "")[:300]),
                visible(store.mask_card_numbers(line, keep=tuple(kept))[: store.MAX_RAW]),
            )
            for n, reason, detail, line, *kept in bad.select(
                *validate.REJECTED_COLUMNS, *KEPT_TEXT
            ).iter_rows()
        ]
        return Checked(
            staged,
            received=frame.height,
            valid=valid.height,
            rejected=rows,
            lines_per_day=per_day,
            terminal_ids=set(accepted.get_column("terminal_id").unique().to_list()),
        )

    def refuse_beyond_limit(self, refused_lines: list[int]) -> None:
        """Invalid when these refused lines take the run past FLEET_FEED_MAX_REJECTED."""
        room = max(self.settings.feed_max_rejected - self.report.rejected, 0)
        if len(refused_lines) > room:
            raise Invalid(
                "the run stopped at line {line}: more than {limit} lines were refused "
                "(FLEET_FEED_MAX_REJECTED), so the feed or the inventory is wrong",
                limit=self.settings.feed_max_rejected,
                line=refused_lines[room],
            )

    def store_block(self, block: Checked) -> None:
        """Writes a checked block and counts it."""
        self.refuse_beyond_limit([row[1] for row in block.rejected])
        accepted = self.store.add(block.staged)
        self.report.received += block.received
        self.report.accepted += accepted
        self.report.duplicate += block.valid - accepted
        self.report.rejected += len(block.rejected)
        self.report.lines_per_day.update(block.lines_per_day)
        self.record_branches(block.terminal_ids)
        if block.rejected:
            self.store.reject(block.rejected)
            self.rejects.write(block.rejected)

    def record_branches(self, terminal_ids: set[int]) -> None:
        """Records, in the block's transaction, the branches of units new to the run: who
        beyond the starter may see it. Reads the terminal table only for units not seen yet."""
        new = sorted(terminal_ids - self.report.terminal_ids)
        if not new:
            return
        self.report.terminal_ids.update(new)
        found: set[int] = set()
        for start in range(0, len(new), 500):
            found.update(
                self.conn.execute(
                    select(Terminal.branch_id)
                    .where(col(Terminal.id).in_(new[start : start + 500]))
                    .distinct()
                ).scalars()
            )
        fresh = sorted(found - self.report.branch_ids)
        if fresh:
            self.conn.execute(
                insert(IngestRunBranch),
                [{"ingest_id": self.report.run_id, "branch_id": b} for b in fresh],
            )
            self.report.branch_ids.update(fresh)


def _ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, each computed in a worker thread while the caller handles the one before.

    At most two items wait (one queued, one being made), so memory stays at a few blocks.
    An error in the worker is raised in the caller; a caller that stops early stops the worker.
    """
    queue: Queue[tuple[str, Any]] = Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the caller, which raises it
            put(("error", exc))

    worker = threading.Thread(target=work, name="ingest-check", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


def _non_blank(first_line: int, lines: list[str]) -> tuple[pl.Series, pl.Series]:
    series = pl.Series("line", lines, dtype=pl.String)
    numbers = pl.int_range(first_line, first_line + len(lines), dtype=pl.Int64, eager=True)
    keep = series.str.strip_chars() != ""
    return series.filter(keep), numbers.filter(keep)


def _file_blocks(
    feed: FeedFile, mapping: Mapping, trailer: list[str], limits: Limits | None = None
) -> Iterator[tuple[pl.DataFrame, pl.Series, pl.Series, int]]:
    """(parsed block, line numbers, raw lines, first line number) for each block of the file.

    The mapping's `skip_header_lines` (physical lines at the top) and `skip_trailer_lines`
    (the last non-blank lines) are not records; the trailer's lines are put into `trailer`.
    """
    positions: list[str | None] | None = None
    to_skip, hold = mapping.skip_header_lines, mapping.skip_trailer_lines
    held = (pl.Series("line", [], dtype=pl.String), pl.Series("", [], dtype=pl.Int64))
    for first_line, block in feed.blocks(limits):
        lines = block
        if to_skip:
            lines, to_skip = lines[to_skip:], max(0, to_skip - len(lines))
        raw, numbers = _non_blank(first_line + len(block) - len(lines), lines)
        if hold:  # the last lines read may be the trailer: keep them back until the end
            raw, numbers = pl.concat([held[0], raw]), pl.concat([held[1], numbers])
            cut = max(0, raw.len() - hold)
            held = (raw.slice(cut), numbers.slice(cut))
            raw, numbers = raw.slice(0, cut), numbers.slice(0, cut)
        if feed.format == "csv" and positions is None:
            if raw.len() == 0:
                continue
            names = _split_header(raw[0], mapping.delimiter)
            positions = header_fields(names, mapping, raw[0])
            raw, numbers = raw.slice(1), numbers.slice(1)
        frame = validate.parse_block(
            raw, fmt=feed.format, positions=positions or [], mapping=mapping
        )
        yield frame, numbers, raw, first_line
    if feed.format == "csv" and positions is None:
        raise Invalid("{file} is empty: no header row", file=feed.path.name)
    trailer.extend(held[0].to_list())


def _split_header(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _start_run(
    engine: Engine, actor: Actor, *, kind: str, source: str, feed_source_id: int | None = None
) -> int:
    with separate_transaction(engine) as session:
        _mark_interrupted(session)
        run = IngestRun(
            source_kind=kind,
            source=source[:500],
            actor_id=actor.user_id,
            actor_name=actor.username,
            host=socket.gethostname()[:100],
            pid=os.getpid(),
            feed_source_id=feed_source_id,
        )
        session.add(run)
        session.flush()
        return run.id or 0


def _mark_interrupted(session: Session) -> None:
    """Runs left `running` by a process of this host that no longer exists were killed."""
    host = socket.gethostname()[:100]
    for run in session.execute(
        select(IngestRun).where(
            col(IngestRun.status) == RunStatus.running, col(IngestRun.host) == host
        )
    ).scalars():
        if run.pid != os.getpid() and not _alive(run.pid):
            run.status = RunStatus.interrupted
            run.finished_at = utcnow()
            run.why = phrases.phrase(
                "run_stopped_resumable" if run.source_kind == "url" else "run_stopped"
            )
            run.error = phrases.PHRASES[run.why["code"]]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fail_run(engine: Engine, run_id: int, error: str | FleetError) -> None:
    """Ends the run as failed; a domain error is kept as a phrase too, for the pages."""
    why = phrases.error(error) if isinstance(error, FleetError) else None
    text = error.message if isinstance(error, FleetError) else error
    with separate_transaction(engine) as session:
        session.execute(
            update(IngestRun)
            .where(col(IngestRun.id) == run_id)
            .values(
                status=RunStatus.failed, finished_at=utcnow(), error=visible(text)[:1000], why=why
            )
        )


def verdict(report: IngestReport, max_rejected_share: float) -> FleetError | None:
    """Why a finished run fails: nothing taken from a non-empty feed (a feed of duplicates
    only is a re-run and succeeds), or more of its lines refused than the share allowed."""
    if report.received and report.accepted + report.duplicate == 0:
        return Invalid(
            "nothing was accepted: all {received} lines were refused", received=report.received
        )
    share = report.rejected / report.received if report.received else 0.0
    if share > max_rejected_share:
        return Invalid(
            "{rejected} of {received} lines were refused ({share}), more than the {most} "
            "allowed (--max-rejected-share)",
            rejected=report.rejected,
            received=report.received,
            share=f"{share:.1%}",
            most=f"{max_rejected_share:.1%}",
        )
    return None


def _finish(
    conn: Connection, report: IngestReport, max_rejected_share: float, **extra: object
) -> None:
    """Records the counts; the run fails, with its reason, when `verdict` finds one."""
    metrics.count_ingest(report)
    report.failure = verdict(report, max_rejected_share)
    conn.execute(
        update(IngestRun)
        .where(col(IngestRun.id) == report.run_id)
        .values(
            status=RunStatus.failed if report.failure else RunStatus.succeeded,
            error=report.failure.message if report.failure else None,
            why=phrases.error(report.failure) if report.failure else None,
            finished_at=utcnow(),
            received=report.received,
            accepted=report.accepted,
            duplicate=report.duplicate,
            rejected=report.rejected,
            rejects_path=report.rejects_path,
            **extra,
        )
    )
    coverage.after_ingest(conn, report.run_id, report.lines_per_day)


def _take_file(batch: Batch, feed: FeedFile, mapping: Mapping, progress: Progress | None) -> None:
    """Checks each block in a worker thread while the one before is being written."""
    settings = batch.settings
    limits = Limits(
        max_bytes=settings.feed_max_bytes,
        max_line_bytes=settings.feed_max_line_bytes,
        max_lines=settings.feed_max_lines,
    )
    trailer: list[str] = []
    checked = (
        batch.check(frame, numbers, raw)
        for frame, numbers, raw, _ in _file_blocks(feed, mapping, trailer, limits)
        if frame.height
    )
    for block in _ahead(checked):
        batch.store_block(block)
        if progress:
            progress(feed.position)
    batch.report.sha256 = feed.sha256
    mapping.check_count(feed.path.name, trailer, batch.report.received)


def ingest_file(
    path: Path,
    *,
    actor: Actor,
    rejects_path: Path | None = None,
    mapping_path: Path | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    source_kind: str = "file",
    source_name: str | None = None,
    engine: Engine | None = None,
    max_rejected_share: float | None = None,
    with_revenue: bool = True,
) -> IngestReport:
    """Ingests one feed file (CSV or NDJSON, gzipped or not) in one transaction.

    A file that is taken but fails the `verdict` (default share: the settings') keeps what
    was accepted; its run is failed and `report.failure` says why. `with_revenue=False`
    (rollups without revenue) is only for the ingest benchmark's comparison: see
    `store.store_for`."""
    actor.require(Permission.import_data)
    engine = engine or get_engine()
    settings = get_settings()
    if max_rejected_share is None:
        max_rejected_share = settings.feed_max_rejected_share
    mapping = Mapping.load(mapping_path)
    feed = FeedFile.open(path, mapping, encoding)
    started = time.perf_counter()
    run_id = _start_run(engine, actor, kind=source_kind, source=source_name or str(path))
    report = IngestReport(run_id=run_id, rejects_path=str(rejects_path) if rejects_path else None)
    rejects = Rejects(rejects_path)
    try:
        with separate_transaction(engine) as own:
            conn = own.connection()
            ctx = store.load_context(conn, settings, mapping, actor.branch_ids)
            batch = Batch(conn, report, ctx, settings, rejects, with_revenue)
            _take_file(batch, feed, mapping, progress)
            batch.store.close()
            _finish(
                conn,
                report,
                max_rejected_share,
                sha256=feed.sha256,
                size_bytes=feed.size,
                encoding=feed.encoding,
                format=feed.format,
            )
    except FleetError as exc:
        _fail_run(engine, run_id, exc)
        raise
    except Exception as exc:
        _fail_run(engine, run_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        rejects.close()
    report.seconds = time.perf_counter() - started
    return report
