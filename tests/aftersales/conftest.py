"""Two counties with a deployed unit each (SNA1 at CA1, SNB1 at CB1), a spare in stock in
each outlet, and service staff: svc_a and svc_a2 in outlet A1, svc_b in B1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.aftersales import service
from fleet.auth import service as auth
from fleet.core.access import Actor, Role
from fleet.core.db import session_scope
from tests import factories

SYSTEM = factories.SYSTEM


@dataclass
class World:
    engine: Engine

    def actor(self, username: str) -> Actor:
        with session_scope(self.engine) as session:
            return auth.actor_for(session, auth.user_by_username(session, SYSTEM, username))

    def session(self) -> Iterator[Session]:
        return session_scope(self.engine)  # type: ignore[return-value]


@pytest.fixture
def world(engine: Engine) -> World:
    with session_scope(engine) as session:
        factories.two_branches(session)
        factories.terminal(session, "SPA1", "A1")
        factories.terminal(session, "SPB1", "B1")
        factories.user(session, "svc_a", Role.service, "A1")
        factories.user(session, "svc_a2", Role.service, "A1")
        factories.user(session, "svc_b", Role.service, "B1")
    return World(engine)


def open_for(world: World, sn: str = "SNA1", who: str = "branch_ops_a") -> int:
    from fleet.aftersales.models import Symptom, TicketSource
    from fleet.inventory import service as inventory

    actor = world.actor(who)
    with session_scope(world.engine) as session:
        unit = inventory.terminal_by_sn(session, actor, sn)
        ticket = service.open_ticket(
            session, actor, unit, Symptom.card_reader, source=TicketSource.phone
        )
        return ticket.id or 0
