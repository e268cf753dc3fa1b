"""Passwords are argon2id hashes at the recommended cost everywhere but the test suite."""

from __future__ import annotations

import pytest

from fleet.auth import security
from fleet.core.config import get_settings


@pytest.mark.parametrize("environment", ["production", "development"])
def test_outside_the_suite_the_hash_is_argon2id_at_full_cost(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setenv("FLEET_ENVIRONMENT", environment)
    monkeypatch.setenv("FLEET_SECRET_KEY", "a-production-secret-for-this-test")
    get_settings.cache_clear()
    try:
        hashed = security._password_hasher().hash("correct-horse-42")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    # A hash made at either cost is checked by the other: parameters travel in the hash.
    assert security.verify_password("correct-horse-42", hashed)
