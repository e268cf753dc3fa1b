"""Writes the README's screenshots of the three main pages, from the demo region:

    .venv/bin/python -m tests.pages.demo_screenshots [--db fleet-demo.db] [--out docs]

docs/page-field.png (field officer, phone-sized), docs/page-ops.png (branch operations) and
docs/page-marketing.png (market ranking). Builds the demo (`fleet demo --no-serve`) into a
temporary SQLite file unless --db names one already built; serves it on a free port; signs
in through the sign-in page in headless Chromium with the network cut.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

PAGES = [
    # (file, user, path, viewport)
    ("page-field.png", "field_lanshan_1", "/field/today", (390, 844)),
    ("page-ops.png", "ops_lanshan", "/ops", (1280, 1000)),
    ("page-marketing.png", "marketing_1", "/marketing/markets", (1280, 1000)),
]


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", type=Path, help="an already built demo database (SQLite file)")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    from fleet import wiring

    wiring.plug_in()  # as `fleet demo` is, at start-up
    with tempfile.TemporaryDirectory(prefix="fleet-pages-") as folder:
        db = args.db or Path(folder) / "demo.db"
        url = f"sqlite:///{db.resolve()}"
        os.environ["FLEET_DATABASE_URL"] = url
        if args.db is None:
            from fleet.demo import build
            from fleet.demo.generator import DEFAULT_SEED

            build.build_demo(url, seed=DEFAULT_SEED)
        return _shoot(args.out)


def _shoot(out: Path) -> list[Path]:
    from fleet.core.config import get_settings
    from fleet.demo import DEMO_PASSWORD
    from tests.live import serve_fleet
    from tests.maps import browser
    from tests.pages.conftest import Browser

    get_settings.cache_clear()
    written = []
    with serve_fleet() as base, browser.chromium() as chromium:
        for name, user, path, viewport in PAGES:
            tab = Browser(chromium, base, viewport, "zh-CN")
            tab.sign_in(user, DEMO_PASSWORD, path=path)
            out.mkdir(parents=True, exist_ok=True)
            target = out / name
            tab.page.screenshot(path=str(target))
            assert not tab.errors, tab.errors
            tab.close()
            written.append(target)
            print(f"wrote {target}")
    return written


if __name__ == "__main__":
    main()
