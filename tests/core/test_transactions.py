"""One owner of each transaction: a test that reads fleet's source.

`session_scope` (fleet.core.db) is the unit of work of a request, a job or a CLI command;
`separate_transaction` names the few writes that deliberately stand on their own (an ingest,
a failed sign-in, a job's lease and run record); `attempt` is a savepoint. Nothing else
commits, rolls back or begins a transaction, and `session_scope` itself is opened only where
a unit of work starts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import fleet

FLEET = Path(fleet.__file__).parent
OWNER = "core/db.py"
TRANSACTION_CALLS = {"commit", "rollback", "begin", "begin_nested"}
# Where a unit of work starts: the request's dependency, the error pages' handlers (the
# request's session is closed by then), CLI commands, job bodies, the demo builder.
SCOPE_OPENERS = (
    "core/requests.py",
    "pages/views.py",
    "cli/",
    "demo/",
    "markets/demo.py",
    "aftersales/demo_stickers.py",
    "pay/contract_demo.py",
    "pay/scorecard_demo.py",
    "jobs/cleanup.py",
    "scoring/jobs.py",
    "recovery/jobs.py",
    "aftersales/jobs.py",
    "visits/jobs.py",
    "feeds/jobs.py",
)


def _calls(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
    ]


def _sources() -> list[tuple[str, Path]]:
    return [(p.relative_to(FLEET).as_posix(), p) for p in sorted(FLEET.rglob("*.py"))]


def test_only_the_transaction_helpers_commit_roll_back_or_begin() -> None:
    found = [
        f"fleet/{name}:{line} {call}()"
        for name, path in _sources()
        if name != OWNER and not name.startswith("migrations/")
        for call, line in _calls(path)
        if call in TRANSACTION_CALLS
    ]
    assert found == [], "use session_scope, separate_transaction or attempt (fleet.core.db)"


def test_session_scope_is_opened_only_where_a_unit_of_work_starts() -> None:
    found = [
        f"fleet/{name}:{line}"
        for name, path in _sources()
        if name != OWNER and not name.startswith(SCOPE_OPENERS)
        for call, line in _calls(path)
        if call == "session_scope"
    ]
    assert found == [], "take the caller's session, or name a separate_transaction"
