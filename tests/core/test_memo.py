"""Heavy answers are kept only while nothing was written, per scope, computed once at a time."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from fleet.core.access import Actor, Role
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.memo import Memo
from fleet.scoring.models import ScoreRun

OPS_A = Actor(username="a", role=Role.branch_ops, branch_ids=frozenset({1, 2}))
OPS_B = Actor(username="b", role=Role.branch_ops, branch_ids=frozenset({3}))


def test_an_answer_is_kept_until_the_scores_change(engine: Engine) -> None:
    memo, computed = Memo(), []

    def ask(actor: Actor = OPS_A) -> int:
        with session_scope(engine) as session:
            return memo.answer(
                session, actor, ("q", 1), lambda: computed.append(1) or len(computed)
            )

    assert ask() == 1 and ask() == 1
    assert ask(OPS_B) == 2  # another scope never gets the first scope's answer
    with session_scope(engine) as session:
        session.add(ScoreRun(as_of=date(2026, 11, 1)))
    assert ask() == 3  # a scoring run changed the data version
    assert len(computed) == 3


def test_off_when_its_lifetime_is_zero(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_MEMO_SECONDS", "0")
    get_settings.cache_clear()
    memo, computed = Memo(), []
    try:
        with session_scope(engine) as session:
            for _ in range(2):
                memo.answer(session, OPS_A, ("q",), lambda: computed.append(1))
        assert len(computed) == 2
    finally:
        monkeypatch.delenv("FLEET_MEMO_SECONDS")
        get_settings.cache_clear()


def test_one_computation_for_many_waiting(engine: Engine) -> None:
    memo, computed = Memo(), []

    def slow() -> str:
        computed.append(1)
        time.sleep(0.3)
        return "answer"

    answers: list[str] = []

    def ask() -> None:
        with session_scope(engine) as session:
            answers.append(memo.answer(session, OPS_A, ("slow",), slow))

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["answer"] * 5
    assert len(computed) == 1
