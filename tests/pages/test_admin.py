"""Admin pages for users and branches at the protocol level, on both databases: what is
saved through a page lands in the database with its audit entry, problems are shown next to
their fields with the input kept, and nobody but an admin gets in."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.browser import COOKIE, csrf_token
from fleet.auth.models import User, UserCreate
from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.inventory.models import Branch
from tests import factories
from tests.pages.forms import form_for


def sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login",
        data={"username": username, "password": factories.PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def post_form(client: TestClient, page: str, action: str, **fields: str) -> object:
    """Posts the form of `page` that goes to `action` (its CSRF token included) with `fields`."""
    html = client.get(page).text
    data = dict(form_for(html, action))
    for name in [n for n in data if n not in ("csrf",)]:
        data.pop(name)  # the test says every value it sends
    return client.post(action, data=data | fields, follow_redirects=False)


def audit(engine: Engine, entity: str, key: str) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(
            session.execute(
                select(AuditEntry)
                .where(col(AuditEntry.entity) == entity, col(AuditEntry.entity_id) == key)
                .order_by(col(AuditEntry.id))
            ).scalars()
        )


def user_row(engine: Engine, username: str) -> User:
    with Session(engine) as session:
        return session.execute(select(User).where(User.username == username)).scalar_one()


def error_next_to(html: str, name: str) -> str:
    """The error message shown next to field `name` (its aria-describedby target)."""
    found = re.search(rf'<p class="error" id="e-{re.escape(name)}">([^<]*)</p>', html)
    assert found, f"no error next to {name}"
    return found.group(1)


ADMIN_PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/branches",
    "/admin/branches/new",
    "/admin/feeds",
    "/admin/feeds/new",
    "/admin/settings",
]


def test_only_admins_get_in(client: TestClient, world: factories.TwoBranches) -> None:
    sign_in(client, "branch_ops_a")
    for page in ADMIN_PAGES:
        refused = client.get(page)
        assert refused.status_code == 403, page
        assert texts_for("zh").gettext("Not allowed") in refused.text  # the 403 page
    sign_in(client, "admin")
    for page in ADMIN_PAGES:
        shown = client.get(page)
        assert shown.status_code == 200, page
        # Every admin page opens with the admin sub-menu.
        assert 'class="submenu"' in shown.text and 'href="/admin/settings"' in shown.text


def test_a_branch_ops_user_cannot_post_to_admin_pages(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    csrf = csrf_token(client.cookies[COOKIE])  # a valid token of their own session
    answer = client.post(
        "/admin/users/new",
        data={"csrf": csrf, "username": "sneaky", "role": "admin", "branch_code": "A"},
    )
    assert answer.status_code == 403
    with Session(engine) as session:
        assert session.execute(select(User).where(User.username == "sneaky")).first() is None


def test_the_user_list_searches_and_pages(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    with session_scope(engine) as session:
        for n in range(30):  # without a password: hashing 30 would be slow
            auth.create_user(
                session,
                factories.SYSTEM,
                UserCreate(username=f"clerk{n:02d}", role=Role.field, branch_code="A1"),
            )
    sign_in(client, "admin")
    first = client.get("/admin/users").text
    zh = texts_for("zh")
    assert zh.gettext("{start}–{end} of {total}", start=1, end=25, total=35) in first
    assert 'href="/admin/users?q=&amp;offset=25"' in first
    second = client.get("/admin/users?offset=25").text
    assert "field_a" in second and "admin" in first
    found = client.get("/admin/users?q=clerk0").text
    assert found.count('href="/admin/users/') - found.count('href="/admin/users/new"') == 10


def test_creating_a_user_lands_in_the_database_with_its_audit_entry(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    answer = post_form(
        client,
        "/admin/users/new",
        "/admin/users/new",
        username="wang_li",
        full_name="王丽",
        role="field",
        branch_code="A1",
        phone="13800000000",
        language="en",
        is_active="1",
        password="a-good-password",
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    made = user_row(engine, "wang_li")
    assert (made.full_name, made.role.value, made.language, made.is_active) == (
        "王丽",
        "field",
        "en",
        True,
    )
    with Session(engine) as session:
        assert session.get(Branch, made.branch_id).code == "A1"  # type: ignore[union-attr]
    [entry] = audit(engine, "user", "wang_li")
    assert (entry.action, entry.actor_name) == ("create", "admin")
    assert entry.changes["password_set"] is True and "password" not in entry.changes
    page = client.get(answer.headers["location"]).text  # type: ignore[attr-defined]
    assert "wang_li" in page and "a-good-password" not in page
    # The new user signs in with the password the admin set.
    fresh = TestClient(client.app)
    assert (
        fresh.post(
            "/login",
            data={"username": "wang_li", "password": "a-good-password"},
            follow_redirects=False,
        ).status_code
        == 303
    )


def test_user_form_problems_are_shown_next_to_the_fields_with_the_input_kept(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    answer = post_form(
        client,
        "/admin/users/new",
        "/admin/users/new",
        username="field_a",  # taken
        full_name="Typed Name",
        role="field",
        branch_code="A1",
        language="zh",
        password="",
    )
    assert answer.status_code == 422  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert error_next_to(html, "username") == "该用户名已被占用。"
    assert 'value="Typed Name"' in html and 'value="field_a"' in html

    short = post_form(
        client,
        "/admin/users/new",
        "/admin/users/new",
        username="newbie",
        full_name="Kept",
        role="field",
        branch_code="A1",
        language="zh",
        password="short",
    )
    assert short.status_code == 422  # type: ignore[attr-defined]
    assert error_next_to(short.text, "password") == "至少 8 个字符。"  # type: ignore[attr-defined]
    assert 'value="newbie"' in short.text and 'value="Kept"' in short.text  # type: ignore[attr-defined]
    assert 'value="short"' not in short.text  # type: ignore[attr-defined]  (never echoed)
    with Session(engine) as session:
        assert session.execute(select(User).where(User.username == "newbie")).first() is None


def test_editing_a_user_resets_the_password_and_is_audited(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    target = world.users["field_a"]
    sign_in(client, "admin")
    page = f"/admin/users/{target.id}"
    answer = post_form(
        client,
        page,
        page,
        full_name="Field A Renamed",
        role="marketing",
        branch_code="B1",
        phone="",
        language="en",
        password="a-brand-new-pass",
    )  # is_active left unticked: the account is disabled
    assert answer.status_code == 303  # type: ignore[attr-defined]
    row = user_row(engine, "field_a")
    assert (row.full_name, row.role.value, row.language, row.is_active) == (
        "Field A Renamed",
        "marketing",
        "en",
        False,
    )
    [entry] = [e for e in audit(engine, "user", "field_a") if e.action == "update"]
    assert entry.actor_name == "admin"
    assert entry.changes["role"] == ["field", "marketing"]
    assert entry.changes["is_active"] == [True, False]
    assert entry.changes["password"] == "changed"
    assert entry.changes["branch_id"] == [world.branches["A"].id, world.branches["B1"].id]


def test_signing_a_user_out_everywhere(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    theirs = TestClient(client.app)
    sign_in(theirs, "field_a")
    assert theirs.get("/field/today", follow_redirects=False).status_code != 303
    before = user_row(engine, "field_a").token_version
    sign_in(client, "admin")
    page = f"/admin/users/{world.users['field_a'].id}"
    answer = post_form(client, page, f"{page}/logout-all")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert user_row(engine, "field_a").token_version == before + 1
    [entry] = audit(engine, "user", "field_a")[-1:]
    assert (entry.action, entry.actor_name) == ("logout_all", "admin")
    # Their open session is over: the next page sends them to sign in.
    gone = theirs.get("/field/today", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


# A branch in the tree: its name, then its code in small print (the code is what is read).
BRANCH_LINK = r'<a href="/admin/branches/\d+">[^<]+ <small class="code">([^<]+)</small></a>'


def test_the_branch_tree_and_creating_a_branch(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    tree = client.get("/admin/branches").text
    order = [m.group(1) for m in re.finditer(BRANCH_LINK, tree)]
    assert order == ["LY", "A", "A1", "B", "B1"]
    answer = post_form(
        client,
        "/admin/branches/new",
        "/admin/branches/new",
        code="A2",
        name="城东网点",
        level="outlet",
        parent_code="A",
        address="临沂市兰山区",
        lat="35.06",
        lng="118.34",
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    with Session(engine) as session:
        made = session.execute(select(Branch).where(Branch.code == "A2")).scalar_one()
        assert (made.name, made.parent_id, made.lat, made.lng) == (
            "城东网点",
            world.branches["A"].id,
            35.06,
            118.34,
        )
    [entry] = audit(engine, "branch", "A2")
    assert (entry.action, entry.actor_name) == ("create", "admin")
    order = [m.group(1) for m in re.finditer(BRANCH_LINK, client.get("/admin/branches").text)]
    assert order == ["LY", "A", "A1", "A2", "B", "B1"]


def test_branch_form_problems_are_shown_next_to_the_fields(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    answer = post_form(
        client,
        "/admin/branches/new",
        "/admin/branches/new",
        code="A1",
        name="",
        level="outlet",
        parent_code="A",
        lat="north",
        lng="118.3",
    )
    assert answer.status_code == 422  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert error_next_to(html, "name") == "必填。"
    assert error_next_to(html, "lat") == "请输入数字。"
    assert 'value="north"' in html and 'value="118.3"' in html

    taken = post_form(
        client, "/admin/branches/new", "/admin/branches/new",
        code="A1", name="重复", level="outlet", parent_code="A",
    )  # fmt: skip
    assert error_next_to(taken.text, "code") == "该编码已被占用。"  # type: ignore[attr-defined]

    county = world.branches["A"]
    moved = post_form(
        client, f"/admin/branches/{county.id}", f"/admin/branches/{county.id}",
        name="A县支行", level="county", parent_code="A1",
    )  # fmt: skip
    assert moved.status_code == 422  # type: ignore[attr-defined]
    assert error_next_to(moved.text, "parent_code") == "机构不能挂在自己下面。"  # type: ignore[attr-defined]
    with Session(engine) as session:
        assert session.get(Branch, county.id).parent_id == world.branches["LY"].id  # type: ignore[union-attr]


def test_editing_a_branch_is_audited(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "admin")
    outlet = world.branches["B1"]
    page = f"/admin/branches/{outlet.id}"
    answer = post_form(
        client, page, page,
        name="B1 新名", level="outlet", parent_code="A", address="", lat="35.2", lng="118.1",
    )  # fmt: skip
    assert answer.status_code == 303  # type: ignore[attr-defined]
    [entry] = [e for e in audit(engine, "branch", "B1") if e.action == "update"]
    assert entry.changes["name"] == ["网点B1", "B1 新名"]
    assert entry.changes["parent_id"] == [world.branches["B"].id, world.branches["A"].id]
    assert entry.changes["lat"] == [35.5, 35.2]
