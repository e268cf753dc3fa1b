"""For the pull tests: a real paged feed endpoint on 127.0.0.1 with failures on demand, the
items it serves, and what one clean pull of them must leave in the database."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from fleet.core.db import session_scope
from fleet.feeds.models import IngestRun, TerminalDay, Txn
from fleet.feeds.pull import ingest_url
from fleet.feeds.service import IngestReport
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal, TerminalCreate
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
FINANCIAL = {"transfer", "card_payment", "bill_payment"}
TYPES = ["transfer", "card_payment", "bill_payment", "balance_inquiry", "reversal"]
NOW = datetime.now(UTC).replace(microsecond=0)
ADMIN = factories.SYSTEM
DayRow = tuple[str, date, int, int, int]


def good_items(n: int = 25, prefix: str = "R", start: timedelta = timedelta(days=8)) -> list[Any]:
    """Valid transactions every 7 hours from `start` ago: number and text amounts, UTC and local."""
    items = []
    for i in range(n):
        at = NOW - start + timedelta(hours=7 * i)
        stamp = (
            at.isoformat()
            if i % 2 == 0
            else at.astimezone(SHANGHAI).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
        )
        items.append(
            {
                "txn_ref": f"{prefix}{i:04d}",
                "terminal_sn": f"SN{1 + i % 2}",
                "occurred_at": stamp,
                "amount": 100 + i + 0.5 if i % 2 == 0 else f"{12 + i}.30",
                "txn_type": TYPES[i % len(TYPES)],
                "status": "failed" if i % 4 == 3 else "success",
                "merchant_code": "C1",
            }
        )
    return items


def expected_days(items: list[Any]) -> list[DayRow]:
    """The terminal-day rollups one clean pull of valid `items` must leave, worked out by hand."""
    days: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in items:
        at = datetime.fromisoformat(item["occurred_at"])
        at = at if at.tzinfo else at.replace(tzinfo=SHANGHAI)
        row = days[(item["terminal_sn"], at.astimezone(SHANGHAI).date())]
        if item["txn_type"] in FINANCIAL and item["status"] == "success":
            row[0] += 1
            row[1] += int(Decimal(str(item["amount"])) * 100)
        else:
            row[2] += 1
    return sorted((sn, day, n, fen, other) for (sn, day), (n, fen, other) in days.items())


def db_state(engine: Engine) -> tuple[int, list[DayRow]]:
    """(transactions stored, terminal-day rollups by terminal SN)."""
    with Session(engine) as session:
        txns = session.execute(select(func.count()).select_from(Txn)).scalar_one()
        rows = session.execute(
            sa_select(
                col(Terminal.sn),
                col(TerminalDay.day),
                col(TerminalDay.txn_count),
                col(TerminalDay.amount_fen),
                col(TerminalDay.other_count),
            ).join(Terminal, col(Terminal.id) == TerminalDay.terminal_id)
        ).all()
    return txns, sorted((sn, day, n, fen, other) for sn, day, n, fen, other in rows)


def runs(engine: Engine) -> list[IngestRun]:
    with Session(engine) as session:
        return list(session.execute(select(IngestRun).order_by(col(IngestRun.id))).scalars())


def counts(report: IngestReport) -> dict[str, int]:
    return {k: getattr(report, k) for k in ("received", "accepted", "duplicate", "rejected")}


def pull(url: str, engine: Engine, **options: Any) -> IngestReport:
    """ingest_url as the admin, with waits short enough for tests. The test feed refuses 3
    lines of 29 on purpose, more than the default share a run may refuse and succeed."""
    defaults: dict[str, Any] = {
        "actor": ADMIN,
        "backoff": 0.01,
        "retries": 3,
        "timeout": 5.0,
        "max_rejected_share": 0.5,
    }
    return ingest_url(url, engine=engine, **(defaults | options))


@pytest.fixture
def world(engine: Engine) -> None:
    """Outlet A1, merchant C1, terminals SN1 and SN2 deployed there ten days ago."""
    with session_scope(engine) as session:
        factories.branch(session, "A1")
        factories.merchant(session, "C1", "A1")
        for sn in ("SN1", "SN2"):
            inventory.create_terminal(
                session,
                ADMIN,
                TerminalCreate(
                    sn=sn,
                    branch_code="A1",
                    merchant_code="C1",
                    deployed_at=NOW - timedelta(days=10),
                ),
            )


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout, kill) leaves a broken pipe: expected here


class FeedServer:
    """Serves `items` in pages: cursor "c<offset>", `next_cursor` null at the end.

    With `tail=True` the last page's `next_cursor` points past the end (and an empty page
    answers that same cursor), like an append-only log that a nightly pull follows.
    `failures[offset]` lists what the next requests for the page at `offset` get instead
    of the page, one entry per request: "503", "429", "close", "401", "html", "no-items",
    "slow" (the page, late) or "hang" (no answer until `release` is set).
    `broken[offset]` is answered to every request for that page.
    """

    def __init__(self, items: list[Any], *, tail: bool = False) -> None:
        self.items = list(items)
        self.tail = tail
        self.failures: dict[int, list[str]] = {}
        self.broken: dict[int, str] = {}
        self.requests: list[dict[str, str | None]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.slow_seconds = 1.0
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed"

    def requests_for(self, offset: int) -> int:
        return sum(1 for r in self.requests if r["offset"] == str(offset))

    def _answer(self, query: dict[str, list[str]]) -> tuple[str | None, int, Any]:
        """(failure or None, offset, the page body)."""
        cursor = query.get("cursor", ["c0"])[0]
        offset = int(cursor.removeprefix("c"))
        limit = int(query.get("limit", ["100"])[0])
        with self.lock:
            queued = self.failures.get(offset)
            failure = queued.pop(0) if queued else self.broken.get(offset)
            page = self.items[offset : offset + limit]
            end = offset + len(page)
            more = end < len(self.items)
        next_cursor = f"c{end}" if more or self.tail else None
        return failure, offset, {"items": page, "next_cursor": next_cursor}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                failure, offset, body = server._answer(query)
                with server.lock:
                    server.requests.append(
                        {
                            "offset": str(offset),
                            "cursor": query.get("cursor", [None])[0],
                            "limit": query.get("limit", [None])[0],
                            "authorization": self.headers.get("Authorization"),
                            "failure": failure,
                        }
                    )
                if failure == "slow":
                    time.sleep(server.slow_seconds)
                    failure = None
                elif failure == "hang":
                    server.release.wait(60)
                    return
                if failure == "close":
                    self.close_connection = True  # no response at all: a dropped connection
                elif failure in ("503", "429"):
                    self._send(int(failure), b'{"error": "busy"}')
                elif failure == "401":
                    self._send(401, b'{"error": "token expired"}')
                elif failure == "html":
                    self._send(200, b"<html><body>maintenance</body></html>", "text/html")
                elif failure == "no-items":
                    self._send(200, b'{"data": []}')
                elif failure is None:
                    self._send(200, json.dumps(body).encode())

        return Handler

    @contextmanager
    def running(self) -> Iterator[FeedServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join(timeout=5)
