"""Merchant contact details (phone numbers, contact names): the one rule for showing them.

A caller sees them in clear when their role holds Permission.read_contacts (field staff at the
door, branch operations, admins); everyone else (marketing) sees them masked: 138****5678, 张**.
Exports are masked unless the caller asks for contacts AND holds the permission, so that a
file copied around carries no phone numbers by accident. API responses, map popups and
exports all go through `shown` and the maskers here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from fleet.core.access import Actor, Permission

M = TypeVar("M", bound=BaseModel)
FIELDS = ("phone", "contact_name")


def shown(actor: Actor, *, asked: bool = True) -> bool:
    """Whether `actor` gets contacts in clear; exports pass `asked` (default: not asked)."""
    return asked and actor.can(Permission.read_contacts)


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the first three and last four characters, never the length in between."""
    if not phone:
        return phone
    text = phone.strip()
    if len(text) >= 8:
        return f"{text[:3]}****{text[-4:]}"
    return "****" + text[-2:] if len(text) > 2 else "****"


def mask_name(name: str | None) -> str | None:
    """张**: the first character (the family name) and a star for each of the others."""
    if not name:
        return name
    text = name.strip()
    return text[:1] + "*" * max(1, len(text) - 1)


_MASKERS = {"phone": mask_phone, "contact_name": mask_name}


def mask_item(item: M) -> M:
    """A copy of `item` (a model with phone and/or contact_name) with them masked."""
    update = {f: _MASKERS[f](getattr(item, f)) for f in FIELDS if hasattr(item, f)}
    return item.model_copy(update=update)


def masked(item: M, actor: Actor, *, asked: bool = True) -> M:
    """`item` as `actor` may see it."""
    return item if shown(actor, asked=asked) else mask_item(item)


def masked_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """An export row (a dict by column name) with its contact columns masked."""
    return {k: _MASKERS[k](v) if k in _MASKERS else v for k, v in record.items()}


def is_mask_of(field: str, stored: str | None, value: str | None) -> bool:
    """Whether `value` is what masking makes of the `stored` contact (an export read back)."""
    return bool(stored) and value != stored and _MASKERS[field](stored) == value


def masked_values(field: str, values: list[Any], actor: Actor) -> list[Any]:
    """A column of `field` values (as the map layers hold them) as `actor` may see it."""
    if shown(actor):
        return values
    return [_MASKERS[field](v) for v in values]
