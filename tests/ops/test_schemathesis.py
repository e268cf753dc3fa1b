"""Hostile input: schemathesis sends schema-driven and malformed requests to every operation of
the OpenAPI schema, as an admin and as a branch-scoped field user of a small world. No answer
may be a 5xx, and every answer must be as documented: its status code listed for the
operation, its content type and body matching the response model (errors:
{"error": {"code", "message", "details"}}).

The budget is bounded: a few examples per operation and phase, no shrinking, one world for the
whole module (built once; each operation may change it, as users would). It runs on both
databases in CI, since how each backend refuses a bad value is part of what it checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from fleet.auth.models import User
from fleet.auth.security import create_access_token
from fleet.core.access import Role
from fleet.core.db import metadata, session_scope
from fleet.web.app import create_app
from tests import factories

# Examples per operation and phase (~95 operations). The admin, who reaches every code path,
# also gets the coverage phase (boundary and malformed values of every parameter: most of
# the defects found); the field user, mostly refused, gets the random phase only. About 65 s
# of CPU on SQLite, the same on PostgreSQL.
EXAMPLES = 5
app = create_app()


def _schema(coverage: bool) -> Any:
    phases = {"stateful": {"enabled": False}, "coverage": {"enabled": coverage}}
    config = SchemathesisConfig.from_dict(
        {"generation": {"max-examples": EXAMPLES}, "phases": phases}
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


deep = _schema(coverage=True)
quick = _schema(coverage=False)

# What the API promises: no server error, and every answer as documented. (Schemathesis's
# other checks judge API design, such as whether a lax input ought to be refused.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: CI fails on a defect, not on luck
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
SIGNED_IN = {"admin": Role.admin, "field_a": Role.field}


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[factories.TwoBranches]:
    """One world for every operation (building it per operation would cost minutes), emptied
    when the module ends."""
    with session_scope(engine) as session:
        built = factories.two_branches(session)
    yield built
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture
def _empty_tables() -> None:
    """Overrides the suite's emptying after each test: the module's world lives on."""


@pytest.fixture
def headers_of(engine: Engine, world: factories.TwoBranches) -> Callable[[str], dict[str, str]]:
    """headers_of(username): a fresh token for each case, so that a case that signed the user
    out everywhere, or changed them, does not blind the cases after it."""
    ids = {name: world.users[name].id or 0 for name in SIGNED_IN}
    home = {name: world.users[name].branch_id for name in SIGNED_IN}

    def headers(username: str) -> dict[str, str]:
        with engine.begin() as conn:
            conn.execute(
                update(User)
                .where(col(User.id) == ids[username])
                .values(
                    role=SIGNED_IN[username],
                    branch_id=home[username],
                    is_active=True,
                    locked_until=None,
                )
            )
        with Session(engine) as session:
            user = session.get(User, ids[username])
            version = user.token_version if user else 0
        token, _ = create_access_token(ids[username], version)
        return {"Authorization": f"Bearer {token}"}

    return headers


@deep.parametrize()
@BOUNDED
def test_every_operation_as_an_admin(case, headers_of) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=headers_of("admin"), checks=CHECKS)


@quick.parametrize()
@BOUNDED
def test_every_operation_as_a_field_user(case, headers_of) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=headers_of("field_a"), checks=CHECKS)
