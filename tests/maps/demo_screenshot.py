"""Writes docs/coverage.png: the demo region's coverage map, as headless Chromium draws it
with the network cut off (so no base map tiles: the data layers alone).

    .venv/bin/python -m tests.maps.demo_screenshot [--out docs/coverage.png] [--scale 1.0]

Builds the demo (`fleet demo --no-serve`) into a temporary SQLite file, writes the map as
`fleet map coverage` does, opens it with the density layer on, centred on the city's markets.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.maps import browser

SHOW = """() => {
  const box = [...document.querySelectorAll(".leaflet-control-layers-overlays label")]
    .find((label) => label.textContent.includes("活跃密度"));
  if (box && !box.querySelector("input").checked) box.querySelector("input").click();
  FleetMap.map.setView([35.08, 118.36], 11, { animate: false });
  return FleetMap.drawnCount("terminals");
}"""


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/coverage.png"))
    parser.add_argument("--scale", type=float, default=1.0, help="demo size (1.0: full)")
    args = parser.parse_args(argv)
    from sqlmodel import Session

    from fleet import wiring

    wiring.plug_in()  # as `fleet demo` is, at start-up

    from fleet.cli.common import use_database
    from fleet.core.access import system_actor
    from fleet.core.db import make_engine
    from fleet.demo import build
    from fleet.maps import assets, coverage

    with tempfile.TemporaryDirectory(prefix="fleet-shot-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        use_database(url)
        report = build.build_demo(url, seed=20261128, scale=args.scale, echo=lambda _: None)
        print(report.summary())
        engine = make_engine(url)
        with Session(engine) as session:
            rendered = coverage.render(session, system_actor("docs"), mode=assets.Mode.inline)
        engine.dispose()
        html = Path(folder) / "coverage.html"
        html.write_text(rendered.html, encoding="utf-8")
        with browser.chromium() as chromium:
            shot = browser.open_map(
                chromium, html.as_uri(), screenshot=args.out, after_ready=[SHOW]
            )
    assert shot.errors == [], shot.errors
    print(f"{args.out}: {rendered.counts['terminals']} terminals ({shot.results[0]} in view)")
    return args.out


if __name__ == "__main__":
    main()
