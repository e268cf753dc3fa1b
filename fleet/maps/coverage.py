"""The coverage map: terminals by status, activity density, markets, branches, white spots.

`coverage_payload` gathers what the map shows in the caller's scope (one query per layer);
`render` puts it on a folium map with switchable layers, a legend and the base maps of the
chosen datum. The same function serves /maps/coverage and writes `fleet map coverage` files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from fleet.core.access import Actor
from fleet.core.config import Settings
from fleet.inventory import contacts
from fleet.maps import assets, data, labels, layers, page, presets
from fleet.maps.labels import Lang
from fleet.maps.presets import BaseMap
from fleet.maps.tickets import ticket_items
from fleet.scoring.rules import ACTIVE

LAYER_KINDS = ("density", "terminals", "markets", "branches", "white_spots", "tickets")
_ACTIVE_KEYS = frozenset(s.value for s in ACTIVE)


@dataclass
class RenderedMap:
    """A map page, and what is on it (the CLI prints it; tests check it)."""

    html: str
    title: str
    counts: dict[str, int] = field(default_factory=dict)


def _title(scope: data.Scope, branch_rows: list[Any], lang: Lang) -> str:
    text = labels.TEXT[lang]
    if scope.branch is not None:
        where = scope.branch.name
    elif scope.branch_ids is None:
        where = text["all_branches"]
    else:
        # The top of the caller's subtree: the branch whose parent lies outside it.
        tops = [r.name for r in branch_rows if r.parent_id not in scope.branch_ids]
        where = " · ".join(tops) or text["all_branches"]
    return f"{text['coverage_title']} · {where}"


def coverage_payload(
    session: Session,
    actor: Actor,
    *,
    branch_code: str | None = None,
    base: BaseMap,
    lang: Lang,
    api_prefix: str = "",
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Everything the coverage map draws, in the caller's scope, shifted to `base`'s datum."""
    style = presets.load(settings)
    scope = data.resolve_scope(session, actor, branch_code)
    as_of = data.latest_as_of(session)
    shift = layers.shifter(base.datum)
    bounds = layers.Bounds()

    terminal_rows = data.terminals(session, scope, as_of)
    terminals = layers.terminal_columns(terminal_rows, shift, bounds)
    # Popups show the merchant's phone: masked for roles that do not need it.
    terminals["phone"] = contacts.masked_values("phone", terminals["phone"], actor)
    white = layers.white_columns(data.white_spots(session, scope), shift, bounds)
    white["phone"] = contacts.masked_values("phone", white["phone"], actor)
    branch_rows = data.branches(session, scope)
    market_rows = data.markets(session, scope)
    coverage = data.market_coverage(session, scope, as_of)
    settings_layers = style.layers
    return {
        "lang": lang,
        "title": _title(scope, branch_rows, lang),
        "as_of": as_of.isoformat() if as_of else None,
        "datum": base.datum.value,
        "api": f"{api_prefix.rstrip('/')}/api/v1",
        "text": labels.TEXT[lang],
        "statuses": [
            {
                "key": key,
                "label": labels.STATUS[lang][key],
                "color": style.status_colors[key],
                "active": key in _ACTIVE_KEYS,
            }
            for key in layers.STATUSES
        ],
        "states": [labels.STATE[lang][s] for s in layers.STATES],
        "terminals": terminals,
        "hexes": layers.hexagons(terminals, float(settings_layers.get("hex_radius_m", 1000))),
        "markets": layers.market_items(market_rows, coverage, style, lang, shift, bounds),
        "branches": layers.branch_items(branch_rows, terminal_rows, style, lang, shift, bounds),
        "white": white,
        # Live fault tickets coloured by their SLA clock (fleet.maps.tickets).
        "tickets": ticket_items(session, actor, scope, lang, shift, bounds),
        "bounds": bounds.corners(),
        "max_zoom": base.max_zoom,
        "bases": [],
        "style": {
            "cluster_radius_px": settings_layers.get("cluster_radius_px", 50),
            "rate_breaks": settings_layers["rate_breaks"],
            "rate_colors": settings_layers["rate_colors"],
            "hex_opacity": settings_layers.get("hex_opacity", 0.55),
            "white_spot_color": settings_layers["white_spot_color"],
            "branch_color": settings_layers["branch_color"],
            "no_data_color": "#adb5bd",
        },
    }


def render(
    session: Session,
    actor: Actor,
    *,
    branch_code: str | None = None,
    base: str | None = None,
    lang: Lang = "zh",
    mode: assets.Mode = assets.Mode.served,
    api_prefix: str = "",
    base_href: Callable[[str], str] | None = None,
    settings: Settings | None = None,
) -> RenderedMap:
    """The coverage map page; `base_href(key)` links to the same map on another base map."""
    start = page.MapPage.start(
        base=base, lang=lang, mode=mode, base_href=base_href, settings=settings
    )
    payload = coverage_payload(
        session,
        actor,
        branch_code=branch_code,
        base=start.chosen,
        lang=lang,
        api_prefix=api_prefix,
        settings=start.settings,
    )
    show = start.style.layers.get("show", {})
    overlays = [
        (kind, labels.TEXT[lang][f"layer_{kind}"], bool(show.get(kind, True)))
        for kind in LAYER_KINDS
    ]
    html = start.html(payload, overlays)

    terminals = payload["terminals"]
    counts = {
        "terminals": len(terminals["id"]),
        "unplaced": terminals["unplaced"],
        "markets": len(payload["markets"]),
        "branches": len(payload["branches"]),
        "white_spots": len(payload["white"]["id"]),
        "white_markets": sum(1 for mk in payload["markets"] if mk["deployed"] == 0),
        "tickets": len(payload["tickets"]),
        "hexes": len(payload["hexes"]["lat"]),
        **{f"status_{k}": v for k, v in terminals["by_status"].items()},
    }
    return RenderedMap(html=html, title=payload["title"], counts=counts)
