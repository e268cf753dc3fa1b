"""Two people assigning, or closing, one ticket at the same moment, in two threads with their
own connections: exactly one wins, the other gets a Conflict (409) saying what happened."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlmodel import Session

from fleet.aftersales import service
from fleet.aftersales.models import Resolution, RestoreRequest, Ticket, TicketState
from fleet.core.access import Actor
from fleet.core.db import session_scope
from fleet.core.errors import Conflict
from tests.aftersales.conftest import World, open_for

Work = Callable[[Session, Actor, int], object]


def race(world: World, ticket_id: int, work: Work, users: tuple[str, str]) -> list[str]:
    """Runs `work` for both users at once; what each got: "ok" or the Conflict's message."""
    actors = [world.actor(u) for u in users]
    ready = threading.Barrier(2)
    results: list[str] = ["", ""]

    def one(i: int) -> None:
        try:
            with session_scope(world.engine) as session:
                service.get_ticket(session, actors[i], ticket_id)  # both have read it
                ready.wait(timeout=10)
                work(session, actors[i], ticket_id)
            results[i] = "ok"
        except Conflict as lost:
            results[i] = lost.message
        except Exception as other:
            results[i] = f"unexpected {type(other).__name__}: {other}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def lost_one(results: list[str]) -> str:
    """The loser's Conflict message, once the other has won."""
    assert results.count("ok") == 1, results
    return results[1 - results.index("ok")]


def test_of_two_taking_one_ticket_at_once_one_wins(world: World) -> None:
    ticket_id = open_for(world)
    results = race(world, ticket_id, lambda s, a, t: service.assign(s, a, t), ("svc_a", "svc_a2"))
    assert lost_one(results) == f"ticket {ticket_id} was changed meanwhile; it is now assigned"
    winner = ("svc_a", "svc_a2")[results.index("ok")]
    with session_scope(world.engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.state is TicketState.assigned
        assert ticket.assignee_id == world.actor(winner).user_id
        assert ticket.version == 2


def test_of_two_closing_one_ticket_at_once_one_wins(world: World) -> None:
    ticket_id = open_for(world)
    ops = world.actor("branch_ops_a")
    with session_scope(world.engine) as session:
        service.assign(session, ops, ticket_id)
        service.restore(
            session, ops, ticket_id, RestoreRequest(resolution=Resolution.no_fault_found)
        )
    results = race(
        world, ticket_id, lambda s, a, t: service.close(s, a, t), ("branch_ops_a", "admin")
    )
    # Depending on who read when: it changed under the loser, or the loser read it closed.
    assert lost_one(results) in (
        f"ticket {ticket_id} was changed meanwhile; it is now closed",
        f"ticket {ticket_id} is closed already",
    )
