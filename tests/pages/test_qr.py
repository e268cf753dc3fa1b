"""The merchant's QR page at the protocol level, on both databases: a live code shows the
shop's name and the fault form (symptoms in Chinese) and nothing of its contacts; a report
opens a ticket (source qr) that operations see; a forged, malformed or renewed code answers
404 and opens nothing; views are rate-limited per address and reports per unit."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from fleet.aftersales import qr
from fleet.aftersales.models import Ticket, TicketSource
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from tests import factories
from tests.pages.test_session import sign_in


@dataclass
class QrWorld:
    token: str
    shop: str = "五金店甲"
    phone: str = "13912345678"
    contact: str = "王老板"


def qr_world(engine: Engine) -> QrWorld:
    with session_scope(engine) as session:
        factories.two_branches(session)
        factories.merchant(
            session, "CQ1", "A1", lat=35.01, lng=118.36, phone="13912345678", contact_name="王老板"
        )
        merchant = inventory.merchant_by_code(session, factories.SYSTEM, "CQ1")
        merchant.name = "五金店甲"
        unit = factories.terminal(session, "SNQ1", "A1", "CQ1")
        return QrWorld(token=qr.issue(session, factories.SYSTEM, unit).token)


@pytest.fixture
def qw(engine: Engine) -> QrWorld:
    return qr_world(engine)


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLEET_QR_RATE_PER_IP", "4")
    monkeypatch.setenv("FLEET_QR_REPORTS_PER_UNIT", "2")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("FLEET_QR_RATE_PER_IP")
    monkeypatch.delenv("FLEET_QR_REPORTS_PER_UNIT")
    get_settings.cache_clear()


def tickets(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(Ticket)).scalar_one())


def unit_state(engine: Engine) -> TerminalState:
    with session_scope(engine) as session:
        return inventory.terminal_by_sn(session, factories.SYSTEM, "SNQ1").state


def test_the_sticker_opens_the_shop_and_a_report_opens_a_ticket(
    client: TestClient, engine: Engine, qw: QrWorld
) -> None:
    page = client.get(f"/qr/{qw.token}", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200
    assert qw.shop in page.text
    assert "电话线路 / 无拨号音" in page.text and "读卡器故障" in page.text
    assert qw.phone not in page.text and qw.contact not in page.text
    assert "SNQ1" not in page.text  # nothing but the shop's name
    assert 'name="symptom"' in page.text

    # No symptom chosen: said on the form, nothing opened.
    refused = client.post(f"/qr/{qw.token}", data={"note": "x"}, follow_redirects=False)
    assert refused.status_code == 422 and "请选择机具出了什么问题" in refused.text
    assert tickets(engine) == 0

    sent = client.post(
        f"/qr/{qw.token}",
        data={"symptom": "printer", "note": "打印不出小票"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    thanks = client.get(sent.headers["location"])
    assert "谢谢，您的报修已送达银行售后团队" in thanks.text
    with session_scope(engine) as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        assert ticket.source is TicketSource.qr and ticket.description == "打印不出小票"
        assert ticket.symptom.value == "printer" and ticket.opened_by_id is None
    assert unit_state(engine) is TerminalState.faulty

    # Scanned again while it is being handled: the shop still opens, nothing new is opened.
    assert client.get(f"/qr/{qw.token}").status_code == 200
    again = client.post(f"/qr/{qw.token}", data={"symptom": "printer"})
    assert "该机具的故障已经报修，正在处理中" in again.text
    assert tickets(engine) == 1

    # Operations see it in their queue, from the QR report.
    sign_in(client, "branch_ops_a")
    queue = client.get("/ops/tickets").text
    assert f'data-ticket="{ticket.id}"' in queue and "商户扫码报修" in queue


def test_forged_malformed_and_old_codes_open_nothing(
    client: TestClient, engine: Engine, qw: QrWorld
) -> None:
    forged = secrets.token_urlsafe(18)
    for token in (forged, "short", qw.token[:-1] + ("A" if qw.token[-1] != "A" else "B")):
        assert client.get(f"/qr/{token}").status_code == 404
        answer = client.post(f"/qr/{token}", data={"symptom": "power"})
        assert answer.status_code == 404
        assert qw.shop not in answer.text
    # A renewed sticker: the old code stops, the new one works.
    with session_scope(engine) as session:
        unit = inventory.terminal_by_sn(session, factories.SYSTEM, "SNQ1")
        new = qr.issue(session, factories.SYSTEM, unit, renew=True).token
    assert client.get(f"/qr/{qw.token}").status_code == 404
    assert client.post(f"/qr/{qw.token}", data={"symptom": "power"}).status_code == 404
    assert tickets(engine) == 0 and unit_state(engine) is TerminalState.deployed
    assert client.get(f"/qr/{new}").status_code == 200
    # A unit no longer at the merchant (lost): its sticker opens nothing either.
    with session_scope(engine) as session:
        from fleet.inventory import lifecycle

        unit = inventory.terminal_by_sn(session, factories.SYSTEM, "SNQ1")
        lifecycle.transition(session, factories.SYSTEM, unit, TerminalState.lost, reason="t")
    assert client.get(f"/qr/{new}").status_code == 404


def test_views_are_limited_per_address(
    client: TestClient, engine: Engine, qw: QrWorld, limits: None
) -> None:
    forged = secrets.token_urlsafe(18)
    answers = [client.get(f"/qr/{forged}").status_code for _ in range(4)]
    assert answers == [404] * 4  # guessing counts too
    blocked = client.get(f"/qr/{qw.token}")
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "报修过于频繁" in blocked.text
    assert client.post(f"/qr/{qw.token}", data={"symptom": "power"}).status_code == 429
    assert tickets(engine) == 0


def test_reports_are_limited_per_unit(
    client: TestClient, engine: Engine, qw: QrWorld, limits: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_QR_RATE_PER_IP", "0")  # only the unit's limit here
    get_settings.cache_clear()
    first = client.post(f"/qr/{qw.token}", data={"symptom": "power"}, follow_redirects=False)
    assert first.status_code == 303
    # Operations cancel it (a prank); reported again, then once more: the unit's limit.
    with session_scope(engine) as session:
        from fleet.aftersales import service

        live = session.execute(select(Ticket).where(col(Ticket.state) == "open")).scalar_one()
        service.cancel(session, factories.SYSTEM, live.id or 0)
    second = client.post(f"/qr/{qw.token}", data={"symptom": "power"}, follow_redirects=False)
    assert second.status_code == 303
    assert client.post(f"/qr/{qw.token}", data={"symptom": "power"}).status_code == 429
    assert tickets(engine) == 2
