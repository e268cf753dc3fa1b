"""What the command-line tests share."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from fleet.core.config import get_settings


@pytest.fixture
def elsewhere() -> Iterator[None]:
    """Commands pointed at other databases (FLEET_DATABASE_URL, `fleet demo --db`); back to
    the suite's afterwards."""
    url = os.environ["FLEET_DATABASE_URL"]
    yield
    os.environ["FLEET_DATABASE_URL"] = url
    get_settings.cache_clear()
