"""`fleet map coverage|routes|campaign`: maps written as self-contained HTML files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleet.cli.common import cli_actor, fail, reports_errors
from fleet.core.config import get_settings

app = typer.Typer(
    help="Maps written as HTML files that open offline (Leaflet inlined; tiles when online).",
    no_args_is_help=True,
)

BranchOption = Annotated[
    str | None,
    typer.Option(help="Branch code: that branch and every branch below it; all when omitted."),
]
OutOption = Annotated[
    Path | None,
    typer.Option(help="HTML file to write; default maps/<kind>[-<branch>].html."),
]


def _out(kind: str, branch: str | None, out: Path | None) -> Path:
    if out is None:
        return get_settings().map_dir / f"{kind}{'-' + branch if branch else ''}.html"
    if out.suffix.lower() not in (".html", ".htm"):
        raise fail(f"--out must name an .html file, not {out.name!r}")
    return out


@app.command("coverage")
@reports_errors
def coverage(
    branch: BranchOption = None,
    out: OutOption = None,
    lang: Annotated[
        str | None, typer.Option(help="zh or en; default FLEET_DEFAULT_LANGUAGE (zh).")
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            help="Base map: osm, amap, amap_satellite, tianditu (needs FLEET_TIANDITU_KEY) or "
            "custom (FLEET_MAP_TILES_URL); points are shifted to its datum."
        ),
    ] = None,
) -> None:
    """Writes the coverage map: terminals by status, density, markets, branches, white spots."""
    from fleet.core.db import session_scope
    from fleet.maps import assets
    from fleet.maps import coverage as coverage_map

    settings = get_settings()
    if lang not in (None, "zh", "en"):
        raise fail(f"--lang must be zh or en, not {lang!r}")
    path = _out("coverage", branch, out)
    with session_scope() as session:
        rendered = coverage_map.render(
            session,
            cli_actor(),
            branch_code=branch,
            base=base,
            lang="en" if (lang or settings.default_language) == "en" else "zh",
            mode=assets.Mode.inline,
            api_prefix=settings.public_url,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered.html, encoding="utf-8")
    c = rendered.counts
    typer.echo(
        f"{rendered.title}: {c['terminals']} terminals, {c['markets']} markets, "
        f"{c['branches']} branches, {c['white_spots']} merchants without a terminal "
        f"-> {path} ({path.stat().st_size / 1e6:.1f} MB)"
    )
    if c["unplaced"]:
        typer.echo(f"{c['unplaced']} terminals are not shown: their merchants have no coordinates")


@app.command("routes")
@reports_errors
def routes(branch: BranchOption = None, out: OutOption = None) -> None:
    """Route map of each staff member's day (not available yet: it comes with visit lists)."""
    from fleet.maps import pending

    raise pending.routes()


@app.command("campaign")
@reports_errors
def campaign(out: OutOption = None) -> None:
    """Map of a market campaign (not available yet: it comes with campaigns)."""
    from fleet.maps import pending

    raise pending.campaign()
