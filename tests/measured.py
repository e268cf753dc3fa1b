"""Runs a `fleet` command in a process of its own and measures what it really cost: the wall
time of the command (from after Python's start and fleet's imports, which a loaded test machine
slows the most, to its end; the imports include fleet.wiring, which every command but --help
loads before its work: seconds of a loaded machine's time) and the process's peak resident
memory, threads and all: the kernel's high-water mark of its memory (VmHWM). Not getrusage's
ru_maxrss: Linux carries that over from the image before exec, here the whole test process that
started the command."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from tests.conftest import TEST_URL
from tests.terminal import EN

_CHILD = """
import sys, time
from fleet.cli.main import app
import fleet.wiring  # the command's own imports (all of fleet, ~2 s of CPU): before the clock
sys.argv[0] = "fleet"
code = 0
started = time.perf_counter()
try:
    app()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
print("SECONDS", time.perf_counter() - started, file=sys.stderr)
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print("PEAK_KIB", peak, file=sys.stderr)
sys.exit(code)
"""


@dataclass
class Cost:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def run_fleet(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Cost:
    """`fleet ARGS...` against the test database, on an English terminal unless `env` (extra
    environment) says otherwise."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        env=os.environ | {"FLEET_DATABASE_URL": TEST_URL} | EN | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KIB ")]
    seconds = [line for line in done.stderr.splitlines() if line.startswith("SECONDS ")]
    assert peak and seconds, done.stderr
    return Cost(
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        seconds=float(seconds[-1].split()[1]),
        peak_mb=int(peak[-1].split()[1]) / 1024,
    )
