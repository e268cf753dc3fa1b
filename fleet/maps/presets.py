"""Map presets: base maps with their datum, colours and layer settings, read from maps/presets.toml.

The file is the one place to change how maps look; settings add the bank's own tile server
(FLEET_MAP_TILES_URL) and the Tianditu key, and choose the default base map.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fleet.core.config import Settings, get_settings
from fleet.core.errors import Invalid, Unavailable
from fleet.core.geo import Datum, parse_datum
from fleet.core.i18n import N_, texts_for

log = logging.getLogger(__name__)

# The repository's maps/ folder (next to the package in a checkout and in the Docker image).
MAPS_DIR = Path(__file__).resolve().parents[2] / "maps"
CUSTOM = "custom"
# The bank's own tiles (FLEET_MAP_TILES_URL) in the layer switcher; the presets' bases name
# themselves in the presets file (a deployment's configuration).
BANK_MAP = N_("Bank map")


@dataclass(frozen=True)
class BaseMap:
    """One tile provider: where its tiles come from and which datum they are drawn in."""

    key: str
    name_zh: str
    name_en: str
    datum: Datum
    url: str
    attribution: str
    max_zoom: int = 18
    subdomains: str = "abc"
    url_en: str | None = None
    labels_url: str | None = None
    labels_url_en: str | None = None
    needs_key: bool = False

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def tiles(self, lang: str, key: str | None = None) -> str:
        """The tile URL template for `lang`, with the provider's key filled in."""
        url = (self.url_en if lang == "en" else None) or self.url
        return url.replace("{tk}", key or "")

    def label_tiles(self, lang: str, key: str | None = None) -> str | None:
        """The tile URL template of the provider's label overlay, if it has one."""
        url = (self.labels_url_en if lang == "en" else None) or self.labels_url
        return url.replace("{tk}", key or "") if url else None


@dataclass(frozen=True)
class Presets:
    bases: dict[str, BaseMap]
    default_base: str
    default_center: tuple[float, float]
    default_zoom: int
    status_colors: dict[str, str]
    trade_colors: dict[str, str]
    layers: dict[str, Any]


def presets_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.map_presets or MAPS_DIR / "presets.toml"


@lru_cache
def _read(path: Path, mtime: float) -> Presets:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    bases = {
        key: BaseMap(key=key, **{**spec, "datum": parse_datum(spec.get("datum"))})
        for key, spec in raw.get("base", {}).items()
    }
    lat, lng = raw.get("default_center", (35.1, 118.35))
    return Presets(
        bases=bases,
        default_base=raw.get("default_base", "osm"),
        default_center=(float(lat), float(lng)),
        default_zoom=int(raw.get("default_zoom", 10)),
        status_colors=dict(raw["status_colors"]),
        trade_colors=dict(raw["trade_colors"]),
        layers=dict(raw["layers"]),
    )


def load(settings: Settings | None = None) -> Presets:
    """The presets file, read again whenever it changes."""
    path = presets_path(settings)
    if not path.is_file():
        log.warning("map presets not found at %s", path)  # the answer names no server path
        raise Unavailable("map presets not found; set FLEET_MAP_PRESETS")
    return _read(path, path.stat().st_mtime)


def base_maps(presets: Presets, settings: Settings | None = None) -> dict[str, BaseMap]:
    """The base maps on offer: the presets' (Tianditu only with a key) and the bank's own."""
    settings = settings or get_settings()
    offered = {
        key: base
        for key, base in presets.bases.items()
        if not base.needs_key or settings.tianditu_key
    }
    if settings.map_tiles_url:
        offered[CUSTOM] = BaseMap(
            key=CUSTOM,
            name_zh=texts_for("zh").gettext(BANK_MAP),
            name_en=BANK_MAP,
            datum=Datum(settings.map_tiles_datum),
            url=settings.map_tiles_url,
            attribution=settings.map_tiles_attribution,
        )
    return offered


def choose_base(
    presets: Presets, key: str | None = None, settings: Settings | None = None
) -> BaseMap:
    """The base map asked for, else the configured default: the bank's own tiles if set."""
    settings = settings or get_settings()
    offered = base_maps(presets, settings)
    wanted = key or settings.map_base or (CUSTOM if CUSTOM in offered else presets.default_base)
    if wanted not in offered:
        if wanted in presets.bases:
            raise Invalid(
                "unknown base map {name} (set FLEET_TIANDITU_KEY); use {offered}",
                name=repr(wanted),
                offered=", ".join(offered),
            )
        raise Invalid(
            "unknown base map {name}; use {offered}", name=repr(wanted), offered=", ".join(offered)
        )
    return offered[wanted]


def tile_sources(presets: Presets, settings: Settings | None = None) -> list[str]:
    """Where the tiles of the base maps on offer come from, as Content-Security-Policy sources
    (scheme://host[:port]); a subdomain placeholder ({s}, t{s}) becomes a wildcard label."""
    found: set[str] = set()
    for base in base_maps(presets, settings).values():
        for url in (base.url, base.url_en, base.labels_url, base.labels_url_en):
            source = _tile_source(url) if url else None
            if source:
                found.add(source)
    return sorted(found)


def _tile_source(url: str) -> str | None:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None  # a path on fleet's own server: 'self' covers it
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    host, colon, port = authority.rpartition(":") if "]" not in authority else (authority, "", "")
    if not colon or "{" in port:
        host, port = authority, ""
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    if templated:
        labels = ["*", *labels[templated[-1] + 1 :]]
    return f"{scheme}://{'.'.join(labels)}{':' + port if port else ''}"
