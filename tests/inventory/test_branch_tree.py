"""The branch tree as the admin pages show it: depth first, children by code, in scope."""

from __future__ import annotations

from sqlmodel import Session

from fleet.auth import service as auth
from fleet.inventory import service as inventory
from tests import factories


def test_the_tree_is_depth_first_and_scoped(session: Session) -> None:
    world = factories.two_branches(session)
    factories.branch(session, "A0", "A")  # sorts before A1 below A
    tree = inventory.branch_tree(session, factories.SYSTEM)
    assert [(b.code, depth) for b, depth in tree] == [
        ("LY", 0),
        ("A", 1),
        ("A0", 2),
        ("A1", 2),
        ("B", 1),
        ("B1", 2),
    ]
    ops_b = auth.actor_for(session, world.users["branch_ops_b"])
    # Below the top of their scope, a user's own branch heads the tree.
    assert [(b.code, d) for b, d in inventory.branch_tree(session, ops_b)] == [("B", 0), ("B1", 1)]
