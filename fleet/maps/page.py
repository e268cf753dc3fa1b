"""A map page from a payload: base maps, fleet layers, legend (fleet-layers.js), assets.

The one builder of the coverage, route and campaign maps: each starts a `MapPage` (settings,
presets, the chosen base map, the asset tags, checked first), makes its payload, and asks the
page for its HTML.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from jinja2 import Template
from starlette.responses import HTMLResponse

from fleet.core import security_headers
from fleet.core.config import Settings, get_settings
from fleet.maps import assets, labels, presets
from fleet.maps.labels import Lang
from fleet.maps.presets import BaseMap, Presets


class FleetLayer(Layer):
    """One data layer drawn by fleet-layers.js, listed in the layer control."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = FleetMap.layer({{ this._parent.get_name() }}, {{ this.kind|tojson }});
{% endmacro %}"""
    )

    def __init__(self, kind: str, name: str, show: bool) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "FleetLayer"
        self.kind = kind


class Raw(Element):
    """HTML put in the page as it is: never parsed as a Jinja template (which would be slow
    for megabytes of data, and would run any "{{ }}" found in a merchant's name)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self._html = html

    def render(self, **kwargs: Any) -> str:
        return self._html


class Finish(MacroElement):
    """Adds the title box and legend, fits the view, and raises the 'drawn' flag; on a
    phone it folds the layer control (`layers`) into its button."""

    _template = Template(
        """{% macro script(this, kwargs) %}
FleetMap.finish({{ this._parent.get_name() }}, {{ this.layers.get_name() }});
{% endmacro %}"""
    )

    def __init__(self, layers: folium.LayerControl) -> None:
        super().__init__()
        self.layers = layers


# A served map's inline scripts and styles are folium's own, written from its templates (the
# data travels in the JSON block, where no "<" is left): build() marks each with this slot, and
# each answer fills it with a fresh nonce that its Content-Security-Policy allows
# (fleet.core.security_headers). Random per process, so that no text in the data can be the slot.
NONCE_SLOT = "fleet-nonce-" + secrets.token_hex(12)
# Inline code only: a script with a src is fleet's own file ('self'), and the JSON data block
# is never run.
_INLINE_TAG = re.compile(r"<(script|style)(?=[\s>])(?![^>]*\b(?:src=|type=\"application/json\"))")


def _mark_inline(html: str) -> str:
    return _INLINE_TAG.sub(lambda m: f'<{m.group(1)} nonce="{NONCE_SLOT}"', html)


def with_nonce(html: str, nonce: str) -> str:
    """A built map page for one answer: its marked tags carry `nonce`."""
    return html.replace(NONCE_SLOT, nonce)


def response(html: str, settings: Settings | None = None) -> HTMLResponse:
    """A served map page as an answer: a fresh nonce allows its marked inline scripts and
    styles, and its Content-Security-Policy the tiles of the base maps on offer."""
    nonce = secrets.token_urlsafe(16)
    answer = HTMLResponse(with_nonce(html, nonce))
    tiles = presets.tile_sources(presets.load(settings), settings)
    answer.headers["content-security-policy"] = security_headers.nonce_policy(nonce, tiles)
    return answer


def _json_for_html(payload: dict[str, Any]) -> str:
    # "<" only occurs inside strings, where \u003c means the same: no "</script>" can slip in.
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c")


def _add_base_layers(m: folium.Map, style: Presets, base: BaseMap, lang: Lang, s: Settings) -> None:
    """The chosen base map, and the others drawn in the same datum as alternatives."""
    same_datum = [b for b in presets.base_maps(style, s).values() if b.datum is base.datum]
    for other in sorted(same_datum, key=lambda b: b.key != base.key):
        chosen = other.key == base.key
        folium.TileLayer(
            tiles=other.tiles(lang, s.tianditu_key),
            attr=other.attribution or other.name(lang),
            name=other.name(lang),
            max_zoom=other.max_zoom,
            subdomains=other.subdomains,
            overlay=False,
            control=True,
            show=chosen,
        ).add_to(m)
        label_tiles = other.label_tiles(lang, s.tianditu_key)
        if label_tiles and chosen:
            folium.TileLayer(
                tiles=label_tiles,
                attr=other.attribution or other.name(lang),
                name=f"{other.name(lang)} · {labels.TEXT[lang]['legend']}",
                max_zoom=other.max_zoom,
                subdomains=other.subdomains,
                overlay=True,
                control=True,
                show=True,
            ).add_to(m)


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


HTML_LANG: dict[Lang, str] = {"zh": "zh-CN", "en": "en"}


def build(
    payload: dict[str, Any],
    overlays: list[tuple[str, str, bool]],
    *,
    style: Presets,
    chosen: BaseMap,
    lang: Lang,
    mode: assets.Mode,
    settings: Settings,
    head: str | None = None,
) -> str:
    """The HTML page: `overlays` are (kind, name in the layer control, shown at first)."""
    head = head if head is not None else assets.head_html(mode, settings)
    figure = Figure(title=payload["title"])
    m = folium.Map(
        location=list(style.default_center),
        zoom_start=style.default_zoom,
        tiles=None,
        max_zoom=chosen.max_zoom,
        control_scale=True,
    )
    # Folium would pull Leaflet, jQuery, Bootstrap and icon fonts from CDNs: none of it here.
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
    layers = folium.LayerControl(collapsed=False, position="topleft")
    layers.add_to(m)
    Finish(layers).add_to(m)
    # The page's language, for screen readers and the browser's choice of Chinese glyphs
    # (folium's figure writes a bare <html>).
    html = str(figure.render()).replace("<html>", f'<html lang="{HTML_LANG[lang]}">', 1)
    return _mark_inline(html) if mode is assets.Mode.served else html


def tiles_note(chosen: BaseMap, lang: Lang) -> str | None:
    """What the map says when its base tiles come from the internet (every preset but the
    bank's own, FLEET_MAP_TILES_URL): on an intranet they stay grey, and this says why and
    what to set."""
    if chosen.key == presets.CUSTOM:
        return None
    return labels.TEXT[lang]["tiles_note"].format(name=chosen.name(lang))


@dataclass(frozen=True)
class MapPage:
    """What every map page starts from; `html` finishes it from the map's own payload."""

    settings: Settings
    style: Presets
    chosen: BaseMap
    lang: Lang
    mode: assets.Mode
    head: str
    base_href: Callable[[str], str] | None

    @classmethod
    def start(
        cls,
        *,
        base: str | None,
        lang: Lang,
        mode: assets.Mode,
        base_href: Callable[[str], str] | None,
        settings: Settings | None,
    ) -> MapPage:
        """Loads the presets and chooses the base map; fails early, and clearly, when the map
        assets are missing."""
        s = settings or get_settings()
        style = presets.load(s)
        chosen = presets.choose_base(style, base, s)
        head = assets.head_html(mode, s)
        return cls(s, style, chosen, lang, mode, head, base_href)

    def html(self, payload: dict[str, Any], overlays: list[tuple[str, str, bool]]) -> str:
        """The page: `payload` gets the base maps on offer, `overlays` its layer control."""
        payload["bases"] = bases(self.style, self.chosen, self.lang, self.settings, self.base_href)
        payload["tiles_note"] = tiles_note(self.chosen, self.lang)
        return build(
            payload,
            overlays,
            style=self.style,
            chosen=self.chosen,
            lang=self.lang,
            mode=self.mode,
            settings=self.settings,
            head=self.head,
        )
