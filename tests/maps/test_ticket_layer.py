"""The coverage map's fault-ticket layer: each live ticket at its shop, coloured by its SLA
clock, in the caller's scope; roles that may not see tickets get none; suspicions left out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from fleet.aftersales import service
from fleet.aftersales.models import Resolution, RestoreRequest, Symptom, Ticket, TicketSource
from fleet.auth import service as auth
from fleet.core.access import Actor
from fleet.core.db import session_scope, utcnow
from fleet.core.geo import wgs84_to_gcj02
from fleet.inventory import service as inventory
from fleet.maps import coverage, presets
from fleet.maps.tickets import SLA_COLORS
from tests import factories


def payload(engine: Engine, actor: Actor, base: str = "osm") -> dict[str, Any]:
    with session_scope(engine) as session:
        chosen = presets.choose_base(presets.load(), base)
        return coverage.coverage_payload(session, actor, base=chosen, lang="zh")


def actor_of(engine: Engine, username: str) -> Actor:
    with session_scope(engine) as session:
        return auth.actor_for(session, auth.user_by_username(session, factories.SYSTEM, username))


def opened(engine: Engine, sn: str) -> int:
    with session_scope(engine) as session:
        unit = inventory.terminal_by_sn(session, factories.SYSTEM, sn)
        made = service.open_ticket(
            session, factories.SYSTEM, unit, Symptom.printer, source=TicketSource.phone
        )
        return made.id or 0


def test_open_tickets_are_coloured_by_their_clock(engine: Engine) -> None:
    with session_scope(engine) as session:
        factories.two_branches(session)
        factories.merchant(session, "CA2", "A1", lat=35.02, lng=118.37)
        factories.terminal(session, "SNA2", "A1", "CA2")
    on_time, late, other = opened(engine, "SNA1"), opened(engine, "SNA2"), opened(engine, "SNB1")
    with session_scope(engine) as session:  # SNA2's restore deadline has passed
        session.execute(
            update(Ticket)
            .where(col(Ticket.id) == late)
            .values(restore_by=utcnow().replace(year=2020))
        )
    whole = {k["id"]: k for k in payload(engine, factories.SYSTEM)["tickets"]}
    assert set(whole) == {on_time, late, other}
    assert whole[late]["sla"] == "late" and whole[late]["color"] == SLA_COLORS["late"]
    assert whole[late]["left"].startswith("已超时")
    assert whole[on_time]["sla"] in ("ok", "soon") and "剩余" in whole[on_time]["left"]
    assert whole[on_time]["symptom"] == "打印机故障" and whole[on_time]["shop"] == "商户CA1"
    # On AMap the point sits where GCJ-02 puts the shop.
    amap = {k["id"]: k for k in payload(engine, factories.SYSTEM, base="amap")["tickets"]}
    lat, lng = wgs84_to_gcj02(35.01, 118.36)
    assert (amap[on_time]["lat"], amap[on_time]["lng"]) == (round(lat, 6), round(lng, 6))
    # County A's operations see A's; marketing sees no tickets.
    mine = {k["id"] for k in payload(engine, actor_of(engine, "branch_ops_a"))["tickets"]}
    assert mine == {on_time, late}
    assert payload(engine, actor_of(engine, "marketing_a"))["tickets"] == []
    # A restored ticket stays until operations close it.
    with session_scope(engine) as session:
        service.assign(session, factories.SYSTEM, on_time, "branch_ops_a")
        ops = actor_of(engine, "branch_ops_a")
        service.restore(session, ops, on_time, RestoreRequest(resolution=Resolution.no_fault_found))
    left = {k["id"] for k in payload(engine, factories.SYSTEM)["tickets"]}
    assert on_time in left  # restored but not closed: still live until operations close it
    with session_scope(engine) as session:
        service.close(session, factories.SYSTEM, on_time)
    assert on_time not in {k["id"] for k in payload(engine, factories.SYSTEM)["tickets"]}
