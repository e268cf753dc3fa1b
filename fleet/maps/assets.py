"""Leaflet and its plugins, served by fleet itself or inlined into a map file: no CDN, ever.

The vendor files are installed from npm at setup (maps/assets/package.json, into
maps/assets/node_modules, which git ignores) and served at /static/vendor; fleet's own script
and style are served at /static/maps. A file written by `fleet map` carries all of them
inline, images as data: URIs, so it opens offline, on any machine, wherever it is copied.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from fleet import __version__
from fleet.core.config import Settings, get_settings
from fleet.core.errors import Unavailable
from fleet.maps.presets import MAPS_DIR

log = logging.getLogger(__name__)

OWN_DIR = Path(__file__).resolve().parent / "static"
VENDOR_URL = "/static/vendor"
OWN_URL = "/static/maps"


class Mode(StrEnum):
    served = "served"  # <script src="/static/...">: pages served by fleet
    inline = "inline"  # everything in the file: maps written by the CLI


@dataclass(frozen=True)
class Asset:
    path: str  # under the vendor dir, or under OWN_DIR when own
    kind: str  # "js" or "css"
    own: bool = False


# In load order: Leaflet first, then what builds on it.
ASSETS = (
    Asset("leaflet/dist/leaflet.css", "css"),
    Asset("fleet-map.css", "css", own=True),
    Asset("leaflet/dist/leaflet.js", "js"),
    Asset("supercluster/dist/supercluster.min.js", "js"),
    Asset("fleet-layers.js", "js", own=True),
)


def vendor_dir(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.map_assets_dir or MAPS_DIR / "assets" / "node_modules"


def _file(asset: Asset, settings: Settings | None) -> Path:
    return (OWN_DIR if asset.own else vendor_dir(settings)) / asset.path


def check(settings: Settings | None = None) -> None:
    """Refuses to draw a map whose scripts are missing, saying how to install them."""
    missing = [a for a in ASSETS if not _file(a, settings).is_file()]
    if missing:
        # The answer names the asset, never the server's folders; the log has the full path.
        log.warning("map asset missing: %s", _file(missing[0], settings))
        raise Unavailable(
            "map assets are not installed ({asset} is missing): run scripts/setup.sh, "
            "or npm ci --prefix maps/assets",
            asset=missing[0].path,
        )


def _url(asset: Asset) -> str:
    if asset.own:
        return f"{OWN_URL}/{asset.path}?v={__version__}"
    return f"{VENDOR_URL}/{asset.path}"


def _data_uri(path: Path) -> str:
    mime = "image/png" if path.suffix == ".png" else "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _inline_css(path: Path) -> str:
    """The stylesheet with each relative url(...) replaced by the file's content."""

    def embed(match: re.Match[str]) -> str:
        target = path.parent / match.group(1).strip("'\"")
        return f"url({_data_uri(target)})" if target.is_file() else match.group(0)

    return re.sub(r"url\(((?!data:|#|https?:)[^)]+)\)", embed, path.read_text(encoding="utf-8"))


def head_html(mode: Mode, settings: Settings | None = None) -> str:
    """The <link>/<script> tags, or the inlined files, for a map page's <head>."""
    check(settings)
    parts = []
    for asset in ASSETS:
        path = _file(asset, settings)
        if mode is Mode.served:
            parts.append(
                f'<link rel="stylesheet" href="{_url(asset)}"/>'
                if asset.kind == "css"
                else f'<script src="{_url(asset)}"></script>'
            )
        elif asset.kind == "css":
            parts.append(f"<style>{_inline_css(path)}</style>")
        else:
            # A literal "</script" inside a script would end it early.
            body = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
            parts.append(f"<script>{body}</script>")
    return "\n".join(parts)
