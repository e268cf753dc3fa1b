"""Who did it, in words: the name a record kept of its actor, shown as the person's full name.

Records keep the actor's username (`field_lanshan_1`), or for work done in someone's name a
prefixed one (`field:field_lanshan_1`, `ticket:…`, `visit:…`, `cli:…`, `job:…`). Pages show
the staff member's full name, and the system's own actors in words.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core import phrases
from fleet.core.phrases import Phrase

# Prefixes of work done in a person's name (fleet.recovery.service.mover and the like).
ON_BEHALF = ("field", "ticket", "visit")


def actor_phrases(session: Session, names: Iterable[str]) -> dict[str, Phrase]:
    """Each recorded actor name -> a phrase naming them (full name, or the system in words)."""
    names = {n for n in names if n}
    users = {n.split(":", 1)[1] if n.split(":", 1)[0] in ON_BEHALF else n for n in names}
    full = {
        u: f
        for u, f in session.execute(
            select(User.username, User.full_name).where(col(User.username).in_(users))
        )
    }
    out: dict[str, Phrase] = {}
    for name in names:
        prefix, _, rest = name.partition(":")
        person = rest if prefix in ON_BEHALF and rest else name
        if person in full:
            out[name] = phrases.text(full[person] or person)
        else:
            out[name] = phrases.actor(name) or phrases.text(person)
    return out
