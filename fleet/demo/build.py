"""Builds the demo region: generate its files, then load them with the import code users use."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from fleet.core.access import system_actor
from fleet.core.db import make_engine, session_scope
from fleet.imports import service as imports
from fleet.inventory.models import Terminal, TerminalState
from fleet.migrations import upgrade


@dataclass
class DemoReport:
    database: str
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    deployed: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = ", ".join(f"{n} {kind}" for kind, n in self.counts.items())
        return (
            f"demo region (Linyi) built in {self.seconds:.1f} s: {parts}; "
            f"{self.deployed} terminals deployed"
        )


def build_demo(
    url: str,
    *,
    seed: int,
    as_of: date | None = None,
    echo: Callable[[str], object] = print,
    scale: float = 1.0,
) -> DemoReport:
    """Migrates `url`, generates the region with `seed`, imports it kind by kind."""
    from fleet.demo.generator import DEMO_LOGINS, generate

    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    actor = system_actor("demo")
    report = DemoReport(database=url, logins=list(DEMO_LOGINS))
    with tempfile.TemporaryDirectory(prefix="fleet-demo-") as folder:
        files = generate(Path(folder), seed=seed, scale=scale, as_of=as_of or date.today())
        for kind in imports.KINDS:
            with session_scope(engine) as session:
                result = imports.import_file(session, actor, kind, files[kind])
            report.counts[kind] = result.rows
            echo(
                f"  {kind:<10} {result.rows:>6} rows  ({result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged)"
            )
    with session_scope(engine) as session:
        report.deployed = session.execute(
            select(func.count()).where(Terminal.state == TerminalState.deployed)
        ).scalar_one()
    engine.dispose()
    report.seconds = time.perf_counter() - started
    return report
