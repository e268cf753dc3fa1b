"""Settings an admin may change at run time, kept in the database over the environment's.

`Settings` (fleet.core.config) comes from FLEET_* variables, fixed at start-up. A few numbers
the bank tunes as it learns (the scoring windows) are also editable by an admin: the stored
value wins over the environment's. Only the keys in EDITABLE may be stored; every change is
validated by the Settings model itself and audited. Code that should honour the overrides
asks `effective_settings(session)` instead of `get_settings()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Text
from sqlmodel import Field, Session, SQLModel, select

from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import Settings, get_settings
from fleet.core.db import UTCDateTime, utcnow
from fleet.core.errors import Invalid

# Bank-wide numbers: written by admins only, the same permission that guards the branch tree.
WRITE = Permission.write_branches


# Each check raises its own message, so that the message is a literal the catalogue can hold.
def _at_least_one(key: str, value: Any) -> None:
    if value < 1:
        raise Invalid("{key} must be at least 1", key=key)


def _fraction(key: str, value: Any) -> None:
    if not 0 < value < 1:
        raise Invalid("{key} must be between 0 and 1 (exclusive)", key=key)


def _some_types(key: str, value: Any) -> None:
    if not (value and all(v.strip() for v in value)):
        raise Invalid("{key} must name at least one type", key=key)


# The keys an admin may override, each with the check beyond its type that Settings has no
# need of for environment values (a typo there fails at start-up, not in the next night's job).
EDITABLE: dict[str, Callable[[str, Any], None]] = {
    "active_days": _at_least_one,
    "dormant_days": _at_least_one,
    "never_used_after_days": _at_least_one,
    "declining_ratio": _fraction,
    "declining_previous_days": _at_least_one,
    "peer_group": lambda _key, _value: None,  # its Literal type is the whole check
    "financial_types": _some_types,
}


class SettingOverride(SQLModel, table=True):
    """An admin's value for one setting (JSON text), in force over the environment's."""

    __tablename__ = "setting_override"

    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(sa_type=Text)
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class SettingState:
    """One editable setting as the admin page shows it."""

    key: str
    default: Any  # the environment's value
    effective: Any
    overridden: bool
    updated_by: str | None = None
    updated_at: datetime | None = None


def _rows(session: Session) -> dict[str, SettingOverride]:
    rows = session.execute(select(SettingOverride)).scalars()
    return {row.key: row for row in rows if row.key in EDITABLE}


def _stored(session: Session) -> dict[str, Any]:
    return {key: json.loads(row.value) for key, row in _rows(session).items()}


def _validated(base: Settings, values: dict[str, Any]) -> Settings:
    """`base` with `values` over it, validated by the Settings model; Invalid says what is wrong."""
    try:
        # model_validate checks the fields without reading the environment again.
        merged = Settings.model_validate(base.model_dump() | values)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        ]
        # Pydantic's own English: no msgid to look up, so it is passed as it comes.
        summary = "; ".join(problems)
        raise Invalid(summary) from None
    for key in values:
        EDITABLE[key](key, getattr(merged, key))
    if merged.active_days >= merged.dormant_days:
        raise Invalid(
            "active_days ({active}) must be less than dormant_days ({dormant}): "
            "idle lies between them",
            active=merged.active_days,
            dormant=merged.dormant_days,
        )
    return merged


def effective_settings(session: Session, base: Settings | None = None) -> Settings:
    """The settings with the admins' stored overrides applied over the environment's."""
    base = base or get_settings()
    stored = _stored(session)
    return _validated(base, stored) if stored else base


def _as_value(key: str, value: Any) -> Any:
    """A form's text for a list setting is comma-separated; everything else Settings parses."""
    if key == "financial_types" and isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value.strip() if isinstance(value, str) else value


def _check_key(key: str) -> None:
    if key not in EDITABLE:
        raise Invalid(
            "setting {key} cannot be changed here; editable: {editable}",
            key=repr(key),
            editable=", ".join(EDITABLE),
        )


def set_override(session: Session, actor: Actor, key: str, value: Any) -> Settings:
    """Stores an admin's value for `key` (refused with a clear message when invalid); returns
    the settings now in force."""
    actor.require(WRITE)
    _check_key(key)
    before = effective_settings(session)
    after = _validated(get_settings(), _stored(session) | {key: _as_value(key, value)})
    new = after.model_dump(mode="json")[key]
    row = session.get(SettingOverride, key) or SettingOverride(key=key, value="", updated_by="")
    row.value, row.updated_by, row.updated_at = json.dumps(new), actor.username, utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="set",
        entity="setting",
        entity_id=key,
        changes={"value": [before.model_dump(mode="json")[key], new]},
    )
    return after


def reset_override(session: Session, actor: Actor, key: str) -> Settings:
    """Drops the stored value for `key`: the environment's is in force again."""
    actor.require(WRITE)
    _check_key(key)
    row = session.get(SettingOverride, key)
    if row is not None:
        old = json.loads(row.value)
        session.delete(row)
        session.flush()
        default = get_settings().model_dump(mode="json")[key]
        audit.record(
            session,
            actor=actor,
            action="reset",
            entity="setting",
            entity_id=key,
            changes={"value": [old, default]},
        )
    return effective_settings(session)


def describe(session: Session, actor: Actor) -> list[SettingState]:
    """Every editable setting: its environment default, the value in force, who changed it."""
    actor.require(WRITE)
    defaults = get_settings()
    rows = _rows(session)
    effective = effective_settings(session, defaults)
    return [
        SettingState(
            key=key,
            default=getattr(defaults, key),
            effective=getattr(effective, key),
            overridden=key in rows,
            updated_by=rows[key].updated_by if key in rows else None,
            updated_at=rows[key].updated_at if key in rows else None,
        )
        for key in EDITABLE
    ]
