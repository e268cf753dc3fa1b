"""Opening hours, settings and timestamps."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from fleet.core.config import Settings
from fleet.inventory.hours import normalise_hours, parse_hours


def test_opening_hours_are_parsed_and_normalised() -> None:
    assert parse_hours("08:00-12:00,13:30-18:00") == [(480, 720), (810, 1080)]
    assert normalise_hours(" 7:30 ~ 19:00 ") == "07:30-19:00"
    assert normalise_hours("8:00-12:00；14:00-18:00") == "08:00-12:00,14:00-18:00"
    # Open day and night, as shops and sheets write it (was refused: "should look like …").
    for written in ("全天", "24小时", "24小时营业", "全天营业", "24h", "２４小时"):
        assert normalise_hours(written) == "00:00-24:00", written


@pytest.mark.parametrize(
    "text", ["all day", "18:00-08:00", "08:00-12:00,11:00-14:00", "25:00-26:00"]
)
def test_impossible_opening_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(text)


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEET_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="FLEET_SECRET_KEY must be set"):
        Settings(environment="production", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(environment="production", secret_key="s3cret", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="published development value"):
        Settings(secret_key="fleet-development-secret-change-me", _env_file=None)  # type: ignore[call-arg]
    key = "k" * 32
    assert Settings(environment="production", secret_key=key, _env_file=None).secret_key == key  # type: ignore[call-arg]


def test_naive_datetimes_are_refused(session) -> None:  # type: ignore[no-untyped-def]
    from tests import factories

    factories.branch(session, "LY", level="city")
    merchant = factories.merchant(session, "C1", "LY")
    merchant.updated_at = datetime(2026, 1, 1)
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()
    session.rollback()
