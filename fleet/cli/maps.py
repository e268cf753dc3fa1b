"""`fleet map coverage|routes|campaign`: maps written as self-contained HTML files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from fleet.cli import lang as cli_words
from fleet.cli.common import cli_actor, fail, reports_errors
from fleet.core.config import get_settings
from fleet.maps.labels import Lang

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
        raise fail("--out must name an .html file, not {file!r}", file=out.name)
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
    map_lang = _lang(lang)
    path = _out("coverage", branch, out)
    with session_scope() as session:
        rendered = coverage_map.render(
            session,
            cli_actor(),
            branch_code=branch,
            base=base,
            lang=map_lang,
            mode=assets.Mode.inline,
            api_prefix=settings.public_url,
        )
    _write(path, rendered.html)
    c = rendered.counts
    t = cli_words.texts()
    typer.echo(
        t.gettext(
            "{title}: {terminals} terminals, {markets} markets, {branches} branches, "
            "{spots} merchants without a terminal -> {path} ({mb} MB)",
            title=rendered.title,
            terminals=c["terminals"],
            markets=c["markets"],
            branches=c["branches"],
            spots=c["white_spots"],
            path=path,
            mb=f"{path.stat().st_size / 1e6:.1f}",
        )
    )
    if c["unplaced"]:
        typer.echo(
            t.gettext(
                "{n} terminals are not shown: their merchants have no coordinates",
                n=c["unplaced"],
            )
        )


LangOption = Annotated[
    str | None, typer.Option(help="zh or en; default FLEET_DEFAULT_LANGUAGE (zh).")
]
BaseOption = Annotated[
    str | None,
    typer.Option(
        help="Base map: osm, amap, amap_satellite, tianditu (needs FLEET_TIANDITU_KEY) or "
        "custom (FLEET_MAP_TILES_URL); points are shifted to its datum."
    ),
]


def _lang(lang: str | None) -> Lang:
    if lang not in (None, "zh", "en"):
        raise fail("--lang must be zh or en, not {lang!r}", lang=lang)
    return "en" if (lang or get_settings().default_language) == "en" else "zh"


def _write(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


@app.command("routes")
@reports_errors
def routes(
    branch: Annotated[str, typer.Option(help="The planned branch's code.")],
    date: Annotated[str, typer.Option(help="The plan's day, YYYY-MM-DD.")],
    out: OutOption = None,
    lang: LangOption = None,
    base: BaseOption = None,
    service: Annotated[
        bool, typer.Option("--service", help="The branch's service day (fleet service plan).")
    ] = False,
) -> None:
    """Writes the route map of a branch's stored visit plan (or, with --service, its service
    day): a coloured layer per staff member, numbered stops in order with planned times, lines
    between them, the home branch."""
    from fleet.core.db import session_scope
    from fleet.maps import assets
    from fleet.maps import routes as routes_map

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise fail("--date must be YYYY-MM-DD, not {date!r}", date=date) from None
    language = _lang(lang)
    path = _out(f"{'service-' if service else ''}routes-{day.isoformat()}", branch, out)
    with session_scope() as session:
        rendered = routes_map.render(
            session,
            cli_actor(),
            branch_code=branch,
            plan_date=day,
            base=base,
            lang=language,
            mode=assets.Mode.inline,
            service=service,
        )
    _write(path, rendered.html)
    c = rendered.counts
    t = cli_words.texts()
    typer.echo(
        t.gettext(
            "{title}: {routes} routes, {stops} stops -> {path}",
            title=rendered.title,
            routes=c["routes"],
            stops=c["stops"],
            path=path,
        )
    )
    if c["unplaced"]:
        typer.echo(
            t.gettext(
                "{n} stops are not shown: their merchants have no coordinates", n=c["unplaced"]
            )
        )


@app.command("campaign")
@reports_errors
def campaign(
    campaign_id: Annotated[int, typer.Argument(metavar="ID", help="The campaign's id.")],
    out: OutOption = None,
    lang: LangOption = None,
    base: BaseOption = None,
) -> None:
    """Writes the map of a market campaign: the market, prospects by outcome, units placed,
    and the branches holding the units set aside."""
    from fleet.core.db import session_scope
    from fleet.maps import assets
    from fleet.maps import campaign as campaign_map

    language = _lang(lang)
    path = _out(f"campaign-{campaign_id}", None, out)
    with session_scope() as session:
        rendered = campaign_map.render(
            session,
            cli_actor(),
            campaign_id,
            base=base,
            lang=language,
            mode=assets.Mode.inline,
        )
    _write(path, rendered.html)
    c = rendered.counts
    t = cli_words.texts()
    typer.echo(
        t.gettext(
            "{title}: {prospects} prospects ({won} placed, {pending} pending, {declined} "
            "declined), {placed} units placed -> {path}",
            title=rendered.title,
            prospects=c["prospects"],
            won=c["prospect_placed"],
            pending=c["prospect_pending"],
            declined=c["prospect_declined"],
            placed=c["placed"],
            path=path,
        )
    )
    if c["unplaced"]:
        typer.echo(
            t.gettext("{n} prospects are not shown: they have no coordinates", n=c["unplaced"])
        )
