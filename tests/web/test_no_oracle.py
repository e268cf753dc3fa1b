"""No oracle: for an object a role may not see, the answer is the same whether or not it
exists (issue 14): a field user asking for another branch's campaign gets what they get for a
campaign that was never made, 404, never a 403 that says "it exists"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.auth.browser import COOKIE
from fleet.auth.security import create_access_token
from fleet.core.access import Role
from tests.web import world as twin
from tests.web.test_route_security import PAGE, ROUTES, SIGNED_IN, USER, request, request_path
from tests.web.world import World

ROLES = (Role.branch_ops, Role.marketing, Role.field)
# Path parameters that name an object (the others name a kind, a rule or a setting).
OBJECT_PARAM = re.compile(r"\{(\w+_id|sn|code)\}")
MISSING: dict[str, Any] = {"sn": "NO-SUCH-SN", "code": "NO-SUCH-CODE"}


@pytest.fixture
def w(engine: Engine) -> World:
    return twin.build(engine)


def _missing(w: World) -> World:
    """The same world's ids, each replaced by one that no object has."""
    ids = {
        side: {k: (999_999 if isinstance(v, int) else f"NO-SUCH-{v}") for k, v in values.items()}
        for side, values in w.ids.items()
    }
    return World(today=w.today, ids=ids, user_ids=w.user_ids, source_id=999_999)


def test_another_branch_s_object_answers_as_a_missing_one(client: TestClient, w: World) -> None:
    nowhere = _missing(w)
    wrong: list[tuple[Any, ...]] = []
    checked = 0
    for key, rule in ROUTES.items():
        if rule.access != SIGNED_IN or not OBJECT_PARAM.search(key[1]):
            continue
        if rule.scope not in ("branch", "own"):
            continue  # bank-wide objects (feed sources): a role reads all or none of them
        for role in ROLES:
            headers = w.token(f"{USER[role]}_a")
            theirs = request(client, w, key, "B", headers)
            missing = request(client, nowhere, key, "B", headers)
            checked += 1
            # 403 for both: the role may not read such objects at all (its own neither).
            if theirs.status_code != missing.status_code or theirs.status_code not in (403, 404):
                wrong.append((key, role.value, theirs.status_code, missing.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
    assert checked > 30


def test_pages_answer_another_branch_s_object_as_a_missing_one(
    client: TestClient, w: World
) -> None:
    """The same for the pages (by session cookie): the page of another branch's object
    answers exactly as the page of an id that no object has."""
    nowhere = _missing(w)
    wrong: list[tuple[Any, ...]] = []
    checked = 0
    for key, rule in ROUTES.items():
        if rule.access != PAGE or key[0] != "GET" or not OBJECT_PARAM.search(key[1]):
            continue
        if "{source_id}" in key[1]:
            continue  # feed sources are bank-wide (admins' only)
        for role in ROLES:
            token, _ = create_access_token(w.user_ids[f"{USER[role]}_a"])
            client.cookies.set(COOKIE, token)
            theirs = client.get(request_path(w, key, "B"), follow_redirects=False)
            missing = client.get(request_path(nowhere, key, "B"), follow_redirects=False)
            checked += 1
            if theirs.status_code != missing.status_code:
                wrong.append((key, role.value, theirs.status_code, missing.status_code))
    client.cookies.clear()
    assert wrong == [], "\n".join(map(str, wrong))
    assert checked > 20
