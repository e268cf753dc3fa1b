"""One way to do each common thing: an upload and a download through fleet.core.files, a map
page through fleet.maps.page.MapPage. A copy elsewhere is found by reading the source."""

from __future__ import annotations

from pathlib import Path

import fleet

FLEET = Path(fleet.__file__).parent
# (what a copy would contain, the one module that may contain it)
ONE_PLACE = [
    (".file.read(", {"core/files.py"}),
    ("mkdtemp(", {"core/files.py"}),
    ("FileResponse(", {"core/files.py"}),
    ("presets.choose_base(", {"maps/page.py"}),
    ("page.build(", set()),
    ("page.bases(", set()),
]
# The demo builder writes its own scratch files, not answers.
COMMANDS = ("demo/", "markets/demo.py", "cli/")


def test_uploads_downloads_and_map_pages_have_one_helper_each() -> None:
    found = []
    for path in sorted(FLEET.rglob("*.py")):
        name = path.relative_to(FLEET).as_posix()
        if name.startswith(COMMANDS):
            continue
        text = path.read_text(encoding="utf-8")
        found += [
            f"fleet/{name}: {what}" for what, home in ONE_PLACE if what in text and name not in home
        ]
    assert found == []
