"""Another revision's code beside this checkout's, for benchmarks that compare the two side by
side in one run (`--against REV`): the machines are noisy, so ratios of alternating runs."""

from __future__ import annotations

import subprocess
from pathlib import Path


def checkouts(rev: str, folder: Path) -> dict[str, Path]:
    """REV's `fleet` extracted into `folder`, and this checkout's: the codes to compare."""
    here = Path(__file__).resolve().parents[2]
    commit = subprocess.run(
        ["git", "-C", str(here), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(here), "archive", commit, "fleet"], capture_output=True, check=True
    ).stdout
    (folder / commit).mkdir()
    subprocess.run(["tar", "-x", "-C", str(folder / commit)], input=archive, check=True)
    print(f"comparing {commit} (old) with this checkout (new)")
    return {"old": folder / commit, "new": here}
