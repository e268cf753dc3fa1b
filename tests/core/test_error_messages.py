"""Domain errors speak the user's language: their message is a msgid with `{name}` fields, so
the pages and the API can show it in Chinese; an f-string could not be looked up."""

from __future__ import annotations

import ast
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

import fleet
from fleet.auth.models import User
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Invalid, TooManyRequests
from fleet.core.i18n import ERROR_KEYWORDS
from tests import factories
from tests.pages.test_admin import error_next_to, post_form
from tests.pages.test_admin import sign_in as sign_in_page
from tests.web.conftest import sign_in as sign_in_api

FLEET = Path(fleet.__file__).parent


def _unlookupable(tree: ast.AST) -> list[int]:
    """Lines where a domain error is raised with a message built before it is raised."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in ERROR_KEYWORDS:
            continue
        spec = ERROR_KEYWORDS[name]
        at = spec[0] - 1 if spec else 0  # where the message is among the arguments
        if len(node.args) <= at:
            continue
        first = node.args[at]
        built = isinstance(first, ast.JoinedStr | ast.BinOp) or (
            isinstance(first, ast.Call)
            and isinstance(first.func, ast.Attribute)
            and first.func.attr == "format"
        )
        if built:
            found.append(node.lineno)
    return found


def _offenders(check: Callable[[ast.AST], list[int]]) -> list[str]:
    """ "file:line" of every place in fleet's source that `check` finds."""
    return [
        f"{path.relative_to(FLEET.parent)}:{line}"
        for path in sorted(FLEET.rglob("*.py"))
        for line in check(ast.parse(path.read_text(encoding="utf-8")))
    ]


def test_no_error_message_is_built_before_it_is_raised() -> None:
    offenders = _offenders(_unlookupable)
    assert not offenders, (
        "pass the English text with {name} fields and the values as keywords, "
        "e.g. Invalid('no branch {code}', code=code):\n" + "\n".join(offenders)
    )


def test_the_check_finds_an_f_string() -> None:
    source = (
        'raise Invalid(f"no branch {code}")\nraise Conflict("a {x}".format(x=1))\n'
        'raise _invalid("day", f"bad {day}")'
    )
    assert _unlookupable(ast.parse(source)) == [1, 2, 3]
    assert _unlookupable(ast.parse('raise Invalid("no branch {code}", code=c)')) == []


def test_values_fill_the_message_and_its_translation() -> None:
    exc = Conflict("{what} is being planned; try again", what="B01")
    assert exc.message == str(exc) == "B01 is being planned; try again"
    assert (exc.template, exc.values) == ("{what} is being planned; try again", {"what": "B01"})
    # A message without values is taken as written, braces and all.
    assert Invalid("use {name} fields").message == "use {name} fields"
    limited = TooManyRequests("too many sign-ins; wait {n} s", retry_after=30, n=30)
    assert (limited.message, limited.retry_after) == ("too many sign-ins; wait 30 s", 30)


def _unfilled(tree: ast.AST) -> list[int]:
    """Lines where a message's {fields} and the values passed with it differ (a KeyError, or
    a value that never shows, when the error is raised)."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in ERROR_KEYWORDS:
            continue
        spec = ERROR_KEYWORDS[name]
        where = spec[0] - 1 if spec else 0  # the message's position, as extraction reads it
        message = node.args[where] if where < len(node.args) else None
        values = {k.arg for k in node.keywords} - {"details", "retry_after"}
        if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
            continue
        if not values or None in values:
            continue  # without values the text is taken as written; **values is not checked
        fields = {f for _, f, _, _ in string.Formatter().parse(message.value) if f is not None}
        if fields != values:
            found.append(node.lineno)
    return found


def test_every_field_of_a_message_has_its_value() -> None:
    offenders = _offenders(_unfilled)
    assert not offenders, "\n".join(offenders)
    assert _unfilled(ast.parse('Invalid("no branch {code}", cod=c)')) == [1]
    assert _unfilled(ast.parse('Invalid("no branch", code=c, details=d)')) == [1]
    assert _unfilled(ast.parse('_invalid("day", "no plan on {day}", day=d)')) == []
    assert _unfilled(ast.parse('_invalid("day", "no plan on {day}", date=d)')) == [1]


# --- what a user sees: the same refusal in English or in Chinese ----------------------------

NOT_SET_FOR = "deploying terminal NEW1 needs merchant_code"


@pytest.fixture
def signed_in(engine: Engine, client: TestClient) -> tuple[TestClient, dict[str, str]]:
    """A client of the two-branch world, and the headers of branch A's operations."""
    with session_scope(engine) as session:
        factories.two_branches(session)
    return client, sign_in_api(client, "branch_ops_a")


@pytest.mark.parametrize(
    ("accept_language", "not_found", "invalid"),
    [
        (None, "merchant CB1 not found", NOT_SET_FOR),
        ("en-GB,zh;q=0.5", "merchant CB1 not found", NOT_SET_FOR),
        ("zh-CN,zh;q=0.9", "未找到商户 CB1", "布放机具 NEW1 需要填写商户编号（merchant_code）"),
    ],
)
def test_the_api_answers_a_refusal_in_the_language_the_client_asks_for(
    signed_in: tuple[TestClient, dict[str, str]],
    accept_language: str | None,
    not_found: str,
    invalid: str,
) -> None:
    api, ops_a = signed_in
    unit = api.post("/api/v1/terminals", json={"sn": "NEW1", "branch_code": "A1"}, headers=ops_a)
    assert unit.status_code == 201, unit.text
    headers = ops_a | ({"Accept-Language": accept_language} if accept_language else {})
    move = f"/api/v1/terminals/{unit.json()['id']}/transitions"
    # CB1 is a merchant of the other branch: to branch A's operations it does not exist.
    answer = api.post(move, json={"to_state": "deployed", "merchant_code": "CB1"}, headers=headers)
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "not_found", "message": not_found, "details": None}}
    answer = api.post(move, json={"to_state": "deployed"}, headers=headers)
    assert answer.status_code == 422
    assert answer.json() == {"error": {"code": "invalid", "message": invalid, "details": None}}


@pytest.mark.parametrize(
    ("language", "shown"),
    [("zh", "active_days 至少为 1"), ("en", "active_days must be at least 1")],
)
def test_a_page_shows_a_refusal_in_the_users_language(
    signed_in: tuple[TestClient, dict[str, str]], engine: Engine, language: str, shown: str
) -> None:
    api, _ = signed_in
    with session_scope(engine) as session:
        admin = session.execute(select(User).where(User.username == "admin")).scalar_one()
        admin.language = language
    sign_in_page(api, "admin")
    # The settings service refuses 0 (fleet.core.overrides: "{key} must be at least 1").
    answer = post_form(
        api, "/admin/settings", "/admin/settings/scoring/active_days", active_days="0"
    )
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert error_next_to(answer.text, "active_days") == shown  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("accept_language", "said"),
    [
        (
            None,
            "terminal NEW1 is in_stock; it cannot become recovered "
            "(allowed from in_stock: deployed, faulty, lost, retired)",
        ),
        (
            "zh-CN",
            "机具 NEW1 当前状态为 在库，不能变为 已回收"
            "（在库 可变为：已布放、故障、已遗失、已报废）",
        ),
    ],
)
def test_the_states_in_a_refusal_are_said_in_words(
    signed_in: tuple[TestClient, dict[str, str]], accept_language: str | None, said: str
) -> None:
    """The lifecycle refuses an impossible move naming the unit's states: codes in English
    (what programs and logs read), the states' words in Chinese."""
    api, ops_a = signed_in
    unit = api.post("/api/v1/terminals", json={"sn": "NEW1", "branch_code": "A1"}, headers=ops_a)
    headers = ops_a | ({"Accept-Language": accept_language} if accept_language else {})
    move = f"/api/v1/terminals/{unit.json()['id']}/transitions"
    answer = api.post(move, json={"to_state": "recovered"}, headers=headers)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["message"] == said
    # Programs read the codes in `details`, whatever the language.
    assert answer.json()["error"]["details"]["allowed"] == ["deployed", "faulty", "lost", "retired"]
