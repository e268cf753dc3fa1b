"""Answers to heavy read-only questions (KPI reports, the market ranking, coverage maps),
kept for a little while.

Many people open the same branch's dashboard and map between two nightly scoring runs, and
each answer takes hundreds of milliseconds to seconds of database and Python work. These
answers come from the scores (recomputed nightly) and the inventory (which changes by a few
units a day): an answer is kept for FLEET_MEMO_SECONDS (60 s; 0 switches memoising off), and
dropped at once when a scoring or ingest run finishes. So a dashboard may trail a deployment
or a new merchant by up to a minute, never a scoring run. The key holds the question and who
asks (role and branch scope), so nobody gets another scope's answer or unmasked contacts.
Each worker process keeps its own answers; while one request computes an answer, others
asking the same question wait for it instead of computing it again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlmodel import Session

from fleet.core.access import Actor
from fleet.core.config import get_settings

T = TypeVar("T")
MAX_ANSWERS = 256

_VERSION = text(
    "SELECT (SELECT max(computed_at) FROM score_run), (SELECT max(finished_at) FROM ingest_run)"
)


def data_version(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(_VERSION).one())


class Memo:
    def __init__(self, size: int = MAX_ANSWERS) -> None:
        self._answers: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._size = size

    def answer(
        self,
        session: Session,
        actor: Actor,
        question: tuple[Hashable, ...],
        compute: Callable[[], T],
    ) -> T:
        """`compute()`'s answer to `question` asked by `actor`, kept while the data is the same.
        Callers must not change what they get back: others may be reading it."""
        seconds = get_settings().memo_seconds
        if seconds <= 0:
            return compute()
        scope = None if actor.branch_ids is None else tuple(sorted(actor.branch_ids))
        key = (question, actor.role, scope, data_version(session))
        found = self._fresh(key, seconds)
        if found is not None:
            return found[1]
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found = self._fresh(key, seconds)
            if found is not None:
                return found[1]
            value = compute()
            with self._lock:
                self._answers[key] = (time.monotonic(), value)
                self._answers.move_to_end(key)
                while len(self._answers) > self._size:
                    self._answers.popitem(last=False)
                self._computing.pop(key, None)
            return value

    def _fresh(self, key: Hashable, seconds: float) -> tuple[float, Any] | None:
        with self._lock:
            found = self._answers.get(key)
            if found is None or time.monotonic() - found[0] > seconds:
                return None
            return found

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


memo = Memo()
