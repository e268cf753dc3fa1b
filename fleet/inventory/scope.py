"""Branch subtrees, and the visibility rule applied to every inventory object."""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from sqlmodel import Session, SQLModel, select

from fleet.core.access import Actor
from fleet.core.errors import NotFound
from fleet.inventory.models import Branch

M = TypeVar("M", bound=SQLModel)


def subtree_ids(session: Session, root_id: int) -> frozenset[int]:
    """The ids of `root_id` and every branch below it."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for branch_id, parent_id in session.execute(select(Branch.id, Branch.parent_id)):
        children[parent_id].append(branch_id)
    found, stack = {root_id}, [root_id]
    while stack:
        for child in children[stack.pop()]:
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)


def visible(actor: Actor, obj: M | None, *, what: str, key: object) -> M:
    """`obj` if the actor may see it; otherwise the same NotFound as for a missing object."""
    branch_id = getattr(obj, "branch_id", None) if not isinstance(obj, Branch) else obj.id
    if obj is None or (branch_id is not None and not actor.sees_branch(branch_id)):
        raise _not_found(what, key)
    return obj


def _not_found(what: str, key: object) -> NotFound:
    # One message per kind of object, so that each reads as a sentence in Chinese too.
    match what:
        case "branch":
            return NotFound("branch {key} not found", key=key)
        case "market":
            return NotFound("market {key} not found", key=key)
        case "merchant":
            return NotFound("merchant {key} not found", key=key)
        case "terminal":
            return NotFound("terminal {key} not found", key=key)
        case "campaign":
            return NotFound("campaign {key} not found", key=key)
        case "user":
            return NotFound("user {key} not found", key=key)
        case _:
            return NotFound("{what} {key} not found", what=what, key=key)
