"""Wiring is one explicit list (fleet.wiring), never a side effect of importing a package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fleet

FLEET = Path(fleet.__file__).parent

FRESH = """
import fleet.markets, fleet.recovery, fleet.jobs.runner
from fleet.visits import candidates, outcomes
assert candidates.SOURCES is None, candidates.SOURCES
assert outcomes.RECOVERY_HANDLERS == [] and outcomes.COLLECTION_HANDLERS == []
from fleet import wiring
wiring.plug_in()
assert candidates.SOURCES == wiring.CANDIDATE_SOURCES
assert outcomes.RECOVERY_HANDLERS == wiring.RECOVERY_HANDLERS
assert outcomes.COLLECTION_HANDLERS == wiring.COLLECTION_HANDLERS
print("ok")
"""


def test_importing_a_package_plugs_nothing_in_and_plug_in_does_it_all() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FRESH], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_no_import_error_is_caught_for_our_own_modules() -> None:
    found = [
        str(path.relative_to(FLEET.parent))
        for path in FLEET.rglob("*.py")
        if "except ImportError" in path.read_text(encoding="utf-8")
        or "except ModuleNotFoundError" in path.read_text(encoding="utf-8")
    ]
    assert found == []
