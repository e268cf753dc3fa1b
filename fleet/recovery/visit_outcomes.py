"""Visit outcomes that ask for a recovery ("wants recovery", "no need") become requests here,
so that they join the approval queue with their evidence (fleet.visits calls this)."""

from __future__ import annotations

from sqlmodel import Session

from fleet.core.access import Actor
from fleet.inventory.models import Terminal
from fleet.recovery import service
from fleet.visits import outcomes
from fleet.visits.models import Visit


def request_from_visit(
    session: Session, actor: Actor, terminal: Terminal, visit: Visit, reason: str
) -> dict[str, object]:
    """Raises the recovery request an outcome asks for; the step the visit records."""
    request = service.raise_request(
        session,
        actor,
        terminal,
        reason_zh=f"回访结果：{reason}",
        reason_en=f"visit outcome: {reason}",
        source="visit",
        evidence={"visit_id": visit.id, "visit_date": str(visit.plan_date)},
    )
    return {"kind": "recovery_requested", "terminal_id": terminal.id, "request_id": request.id}


def register() -> None:
    """Lets visit outcomes raise requests through this layer (once)."""
    if request_from_visit not in outcomes.RECOVERY_HANDLERS:
        outcomes.RECOVERY_HANDLERS.append(request_from_visit)
