"""Geocoding of addresses: the configured geocoder, rate-limited, with answers cached in the DB.

Settings pick the service (none | nominatim | baidu). A service that cannot be reached does
not fail the caller: lookups stop for the rest of the run and `unavailable` says why.
Call `save()` after the lookups to keep the new answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from geopy.exc import GeocoderQueryError, GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim
from sqlalchemy import select
from sqlmodel import Field, Session, SQLModel

from fleet.core.config import Settings, get_settings
from fleet.core.db import UTCDateTime, dialect_insert, utcnow
from fleet.core.errors import Reason
from fleet.core.geo import Datum, to_wgs84

log = logging.getLogger(__name__)
Point = tuple[float, float]
Lookup = Callable[[str], Point | None]
USER_AGENT = "fleet"


class GeocodeCache(SQLModel, table=True):
    """One geocoder answer per address; lat and lng are null when it was not found."""

    __tablename__ = "geocode_cache"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=300, unique=True, index=True)
    lat: float | None = None
    lng: float | None = None
    provider: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GeocoderConfigError(Exception):
    """The configured geocoder cannot be built (a bad URL, a missing API key)."""


def normalise_address(address: str) -> str:
    """The cache key of an address: single spaces, no padding."""
    return " ".join(address.split())[:300]


def _nominatim(settings: Settings) -> Lookup:
    url = urlsplit(settings.geocoder_url or "https://nominatim.openstreetmap.org")
    if url.scheme not in ("http", "https") or not url.netloc:
        raise GeocoderConfigError(
            Reason(
                "FLEET_GEOCODER_URL {url} is not an http(s) URL", url=repr(settings.geocoder_url)
            )
        )
    service = Nominatim(
        domain=url.netloc + url.path.rstrip("/"),
        scheme=url.scheme,
        user_agent=USER_AGENT,
        timeout=settings.geocoder_timeout_seconds,
    )
    find = _limited(service.geocode, settings)

    def lookup(address: str) -> Point | None:
        found = find(address, exactly_one=True)
        return None if found is None else to_wgs84(found.latitude, found.longitude, Datum.wgs84)

    return lookup


def _baidu(settings: Settings) -> Lookup:
    if not settings.geocoder_api_key:
        raise GeocoderConfigError(Reason("the baidu geocoder needs FLEET_GEOCODER_API_KEY"))
    service = BaiduV3(
        api_key=settings.geocoder_api_key,
        user_agent=USER_AGENT,
        timeout=settings.geocoder_timeout_seconds,
    )
    if settings.geocoder_url:
        # geopy fixes Baidu's host; a proxy or test server replaces it here.
        service.api = settings.geocoder_url.rstrip("/") + service.api_path
    find = _limited(service.geocode, settings)

    def lookup(address: str) -> Point | None:
        found = find(address, exactly_one=True)
        # Baidu answers in its own BD-09 datum.
        return None if found is None else to_wgs84(found.latitude, found.longitude, Datum.bd09)

    return lookup


def _limited(func: Callable[..., Any], settings: Settings) -> Callable[..., Any]:
    # One retry for a hiccup; a service that is down fails fast and is not asked again.
    return RateLimiter(
        func,
        min_delay_seconds=settings.geocoder_min_delay_seconds,
        max_retries=1,
        error_wait_seconds=settings.geocoder_min_delay_seconds,
        swallow_exceptions=False,
    )


PROVIDERS: dict[str, Callable[[Settings], Lookup]] = {"nominatim": _nominatim, "baidu": _baidu}


class Geocoder:
    """Finds WGS-84 points for addresses: the DB cache first, then the configured service."""

    def __init__(self, session: Session, settings: Settings | None = None) -> None:
        self.session = session
        self.settings = settings or get_settings()
        self.provider = self.settings.geocoder
        # Why lookups stopped, said where shown (the import preview in the reader's language).
        self.unavailable: Reason | None = None
        self._lookup: Lookup | None = None
        self._answers: dict[str, Point | None] = {}
        # Written by save(), not per lookup: a write would hold SQLite's lock while we wait
        # on the network (a second per address, on the public Nominatim).
        self._new: dict[str, Point | None] = {}

    @property
    def enabled(self) -> bool:
        return self.provider != "none"

    def locate(self, address: str) -> Point | None:
        """The point for `address`, or None when it is unknown or cannot be looked up now."""
        key = normalise_address(address)
        if not key or not self.enabled:
            return None
        if key in self._answers:
            return self._answers[key]
        hit, point = self._cached(key)
        if not hit:
            point, answered = self._ask(key)
            if not answered:
                return None
            self._new[key] = point
        self._answers[key] = point
        return point

    def _cached(self, key: str) -> tuple[bool, Point | None]:
        """(whether the cache answers, the point it holds)."""
        row = self.session.execute(
            select(GeocodeCache).where(GeocodeCache.address == key)  # type: ignore[arg-type]
        ).scalar_one_or_none()
        if row is None:
            return False, None
        if row.lat is not None and row.lng is not None:
            return True, (row.lat, row.lng)
        # A "not found" from another provider is worth asking this one again.
        return row.provider == self.provider, None

    def _ask(self, key: str) -> tuple[Point | None, bool]:
        """(point or None, whether the service answered)."""
        if self.unavailable:
            return None, False
        try:
            if self._lookup is None:
                self._lookup = PROVIDERS[self.provider](self.settings)
            return self._lookup(key), True
        except GeocoderConfigError as exc:
            self.unavailable = Reason("geocoding is off: {why}", why=exc.args[0])
        except GeocoderQueryError as exc:
            log.info("geocoder refused address %r: %s", key, exc)
            return None, False
        except GeopyError as exc:
            where = self.settings.geocoder_url or self.provider
            self.unavailable = Reason(
                "the {provider} geocoder at {where} cannot be reached; the remaining addresses "
                "were not geocoded",
                provider=self.provider,
                where=where,
            )
            log.warning("%s (%s: %s)", self.unavailable, type(exc).__name__, exc)
            return None, False
        log.warning("%s", self.unavailable)
        return None, False

    def save(self) -> int:
        """Writes the new answers to the cache (in the caller's transaction); returns how many."""
        if not self._new:
            return 0
        insert = dialect_insert(self.session)
        now = utcnow()
        for key, point in self._new.items():
            lat, lng = point if point else (None, None)
            statement = insert(GeocodeCache).values(
                address=key, lat=lat, lng=lng, provider=self.provider, created_at=now
            )
            # An upsert: two imports geocoding the same address at once must not fail.
            self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["address"],
                    set_={"lat": lat, "lng": lng, "provider": self.provider},
                )
            )
        saved, self._new = len(self._new), {}
        return saved
