"""SLA policies an admin sets at run time (area × priority: business hours to respond, to be on
site and to restore), kept in the database over FLEET_SERVICE_SLA's. New deadlines use the
policy in force when the ticket opens (or is confirmed); tickets already open keep theirs."""

from __future__ import annotations

import json

from sqlmodel import Session

from fleet.aftersales.models import Area, Priority
from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Invalid
from fleet.core.overrides import SettingOverride

KEY = "service_sla"
Hours = tuple[float, float, float]


def in_force(session: Session, base: Settings | None = None) -> dict[str, Hours]:
    """ "area:priority" -> (respond, on site, restore) hours: the environment's, with the
    admins' stored values over them."""
    policies = dict((base or get_settings()).service_sla)
    row = session.get(SettingOverride, KEY)
    if row is not None:
        for key, hours in json.loads(row.value).items():
            policies[key] = (float(hours[0]), float(hours[1]), float(hours[2]))
    return policies


def settings_in_force(session: Session, base: Settings | None = None) -> Settings:
    base = base or get_settings()
    if session.get(SettingOverride, KEY) is None:
        return base
    return base.model_copy(update={KEY: in_force(session, base)})


def set_policy(
    session: Session, actor: Actor, area: Area, priority: Priority, hours: Hours
) -> dict[str, Hours]:
    """Sets one policy (admins); refused unless 0 < respond ≤ on site ≤ restore ≤ 1000."""
    actor.require(Permission.manage_contractors)
    respond, on_site, restore = hours
    if not 0 < respond <= on_site <= restore <= 1000:
        raise Invalid("the hours must be above 0, at most 1000, and respond ≤ on site ≤ restore")
    key = f"{area.value}:{priority.value}"
    before = in_force(session)
    stored = session.get(SettingOverride, KEY)
    values = json.loads(stored.value) if stored else {}
    values[key] = [respond, on_site, restore]
    row = stored or SettingOverride(key=KEY, value="", updated_by="")
    row.value, row.updated_by, row.updated_at = json.dumps(values), actor.username, utcnow()
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="set",
        entity="sla_policy",
        entity_id=key,
        changes={"hours": [list(before.get(key, ())), [respond, on_site, restore]]},
    )
    session.flush()
    return in_force(session)
