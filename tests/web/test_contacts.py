"""Merchant phones and contact names: in clear for roles that need them, masked for the rest
(API, map popups), and masked in every export unless asked for by a role that may read them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app as cli
from fleet.core.db import session_scope
from fleet.imports.service import import_file
from fleet.inventory import contacts
from fleet.inventory import service as inventory
from tests.factories import SYSTEM
from tests.web import world as twin
from tests.web.world import CONTACT, PHONE, World

MASKED_PHONE, MASKED_NAME = "138****5678", "张**"


@pytest.fixture
def w(engine: Engine) -> World:
    return twin.build(engine)


def test_the_maskers() -> None:
    assert contacts.mask_phone("13812345678") == MASKED_PHONE
    assert contacts.mask_phone("0539-1234567") == "053****4567"
    assert contacts.mask_phone("12345") == "****45"
    assert contacts.mask_phone(None) is None
    assert contacts.mask_name("张三丰") == MASKED_NAME
    assert contacts.mask_name("王五") == "王*"
    assert contacts.mask_name("Li") == "L*"
    assert contacts.mask_name("") == ""


@pytest.mark.parametrize(
    ("user", "in_clear"),
    [("ops_a", True), ("field_a", True), ("marketing_a", False), ("admin", True)],
)
def test_the_api_masks_contacts_for_roles_without_read_contacts(
    client: TestClient, w: World, user: str, in_clear: bool
) -> None:
    merchant_id = w.ids["A"]["merchant_id"]
    one = client.get(f"/api/v1/merchants/{merchant_id}", headers=w.token(user)).json()
    listed = client.get("/api/v1/merchants", params={"q": "CA1"}, headers=w.token(user)).json()
    for shown in (one, listed["items"][0]):
        assert (shown["phone"], shown["contact_name"]) == (
            (PHONE, CONTACT) if in_clear else (MASKED_PHONE, MASKED_NAME)
        )


def test_a_masked_answer_does_not_change_what_is_stored(client: TestClient, w: World) -> None:
    merchant_id = w.ids["A"]["merchant_id"]
    answer = client.patch(
        f"/api/v1/merchants/{merchant_id}", json={"name": "新名"}, headers=w.token("ops_a")
    )
    assert answer.json()["phone"] == PHONE


def _export(client: TestClient, w: World, user: str, **params: object) -> dict[str, str]:
    answer = client.get(
        "/api/v1/exports/merchants", params={"format": "csv", **params}, headers=w.token(user)
    )
    assert answer.status_code == 200, answer.text
    rows = csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")))
    return next(r for r in rows if r["code"] == "CA1")


@pytest.mark.parametrize(
    ("user", "asked", "in_clear"),
    [
        ("ops_a", False, False),  # not asked: masked, whoever asks
        ("ops_a", True, True),
        ("admin", True, True),
        ("marketing_a", True, False),  # asked, but the role may not read contacts
        ("marketing_a", False, False),
    ],
)
def test_exports_mask_unless_asked_by_a_role_that_may_read_contacts(
    client: TestClient, w: World, user: str, asked: bool, in_clear: bool
) -> None:
    row = _export(client, w, user, with_contacts=asked)
    expected = (PHONE, CONTACT) if in_clear else (MASKED_PHONE, MASKED_NAME)
    assert (row["phone"], row["contact_name"]) == expected


def test_a_masked_export_imported_again_keeps_the_real_contacts(
    engine: Engine, client: TestClient, w: World, tmp_path: Path
) -> None:
    answer = client.get("/api/v1/exports/merchants", headers=w.token("ops_a"))
    path = tmp_path / "merchants.csv"
    path.write_bytes(answer.content)
    assert MASKED_PHONE in answer.content.decode("utf-8-sig")
    with session_scope(engine) as session:
        report = import_file(session, SYSTEM, "merchants", path)
        assert report.updated == 0
        merchant = inventory.merchant_by_code(session, SYSTEM, "CA1")
        assert (merchant.phone, merchant.contact_name) == (PHONE, CONTACT)


def test_the_cli_export_masks_unless_with_contacts(w: World, tmp_path: Path) -> None:
    runner = CliRunner()
    plain, full = tmp_path / "plain.csv", tmp_path / "full.csv"
    assert runner.invoke(cli, ["export", "merchants", "--out", str(plain)]).exit_code == 0
    result = runner.invoke(cli, ["export", "merchants", "--out", str(full), "--with-contacts"])
    assert result.exit_code == 0, result.output
    assert PHONE not in plain.read_text("utf-8-sig")
    assert MASKED_PHONE in plain.read_text("utf-8-sig")
    assert PHONE in full.read_text("utf-8-sig")
    assert CONTACT in full.read_text("utf-8-sig")


@pytest.mark.parametrize("fmt", ["csv", "json", "html", "xlsx"])
def test_visit_list_exports_carry_contacts_for_those_who_call_the_shops(
    client: TestClient, w: World, fmt: str
) -> None:
    """A printed route is for calling the shops on it (issue 17): field staff and operations
    get the contacts by default, and may ask for them masked; marketing gets no route sheet."""
    query = {"branch_code": "A1", "date": w.today.isoformat(), "format": fmt}
    headers = w.token("ops_a")
    plain = client.get(
        "/api/v1/revisits/export", params={**query, "with_contacts": False}, headers=headers
    )
    full = client.get("/api/v1/revisits/export", params=query, headers=headers)
    assert plain.status_code == full.status_code == 200, plain.text

    def cells(content: bytes) -> str:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content))
        return " ".join(
            str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r if c.value
        )

    if fmt == "xlsx":
        plain_text, full_text = cells(plain.content), cells(full.content)
    else:
        plain_text, full_text = plain.content.decode(), full.content.decode()
    assert PHONE not in plain_text and CONTACT not in plain_text
    assert MASKED_PHONE in plain_text
    assert PHONE in full_text and CONTACT in full_text
    # The plan itself, on screen, shows them to the staff who need them.
    shown = client.get(
        "/api/v1/revisits", params={k: query[k] for k in ("branch_code", "date")}, headers=headers
    )
    assert shown.json()["routes"][0]["stops"][0]["phone"] == PHONE
    # The field officer whose route it is prints it with the numbers to call.
    field = client.get("/api/v1/revisits/export", params=query, headers=w.token("staff_a1"))
    assert field.status_code == 200, field.text
    field_text = cells(field.content) if fmt == "xlsx" else field.content.decode()
    assert PHONE in field_text and MASKED_PHONE not in field_text
    marketing = client.get("/api/v1/revisits/export", params=query, headers=w.token("marketing_a"))
    assert marketing.status_code == 403


@pytest.mark.parametrize(("user", "in_clear"), [("ops_a", True), ("marketing_a", False)])
def test_the_coverage_map_popups_mask_phones_for_marketing(
    client: TestClient, w: World, user: str, in_clear: bool
) -> None:
    page = client.get("/maps/coverage", headers=w.token(user))
    if page.status_code == 503:
        pytest.skip("map assets not installed (scripts/setup.sh installs them)")
    assert page.status_code == 200
    assert (PHONE in page.text) is in_clear
    assert (MASKED_PHONE in page.text) is not in_clear
