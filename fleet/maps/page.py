"""A map page from a payload: base maps, fleet layers, legend (fleet-layers.js), assets.

Shared by the route and campaign maps; the coverage map builds its page the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import folium
from branca.element import Figure

from fleet.core.config import Settings
from fleet.maps import assets, presets
from fleet.maps.coverage import Finish, FleetLayer, Raw, _add_base_layers, _json_for_html
from fleet.maps.labels import Lang
from fleet.maps.presets import BaseMap, Presets


def bases(
    style: Presets,
    chosen: BaseMap,
    lang: Lang,
    s: Settings,
    base_href: Callable[[str], str] | None,
) -> list[dict[str, Any]]:
    """The base maps on offer, with links to the same map on each (pages only)."""
    return [
        {
            "key": key,
            "label": b.name(lang),
            "current": key == chosen.key,
            "href": base_href(key) if base_href else None,
        }
        for key, b in presets.base_maps(style, s).items()
    ]


def build(
    payload: dict[str, Any],
    overlays: list[tuple[str, str, bool]],
    *,
    style: Presets,
    chosen: BaseMap,
    lang: Lang,
    mode: assets.Mode,
    settings: Settings,
) -> str:
    """The HTML page: `overlays` are (kind, name in the layer control, shown at first)."""
    head = assets.head_html(mode, settings)
    figure = Figure(title=payload["title"])
    m = folium.Map(
        location=list(style.default_center),
        zoom_start=style.default_zoom,
        tiles=None,
        max_zoom=chosen.max_zoom,
        control_scale=True,
    )
    m.default_js = []
    m.default_css = []
    figure.add_child(m)
    figure.header.add_child(Raw(head), name="fleet_assets")
    figure.html.add_child(
        Raw(
            f'<script type="application/json" id="fleet-map-data">{_json_for_html(payload)}'
            "</script>"
        ),
        name="fleet_map_data",
    )
    _add_base_layers(m, style, chosen, lang, settings)
    for kind, name, show in overlays:
        FleetLayer(kind, name, show).add_to(m)
    folium.LayerControl(collapsed=False, position="topleft").add_to(m)
    Finish().add_to(m)
    return str(figure.render())
