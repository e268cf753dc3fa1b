"""Branch-operations pages at the protocol level, on both databases: the numbers each page shows
for a world built through the real services (a feed ingested, scored week by week, recoveries
raised, a day planned and one outcome recorded), decisions through the page, and scope."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core import phrases
from fleet.core.access import Actor
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.feeds import coverage
from fleet.feeds import service as feeds
from fleet.feeds.models import IngestRun
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from fleet.recovery import service as recovery
from fleet.recovery.models import RecoveryRequest, RequestStatus
from fleet.scoring import service as scoring
from fleet.visits import outcomes
from fleet.visits import plan as planning
from fleet.visits.models import Outcome, Visit
from fleet.visits.schemas import OutcomeRequest
from tests import factories
from tests.feeds.util import HEADER
from tests.pages.forms import form_for
from tests.pages.test_session import sign_in
from tests.scoring.util import as_of, deploy


def actor_of(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return auth.actor_for(session, user)


@dataclass
class OpsWorld:
    """two_branches, plus in outlet A1 units UA1..UA4 (market MKA1) and in B1 unit UB1, all
    deployed 60 days ago; a feed ingested by branch_ops_a gives them usage:

        UA1 used daily over the last 10 days → active      UA2 used 3 days ago → active (new)
        UA3 never used → never_used, recovery raised       UA4 used 45 days ago → idle
        UB1 used 2 days ago (branch B), recovery raised by branch_ops_b

    The feed has 21 records: 18 accepted, 1 duplicate, 2 rejected (file lines 21 and 22).
    Scored at today and the two weeks before; today's revisit plan for A has one outcome.
    """

    today: date
    ids: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    run_id: int = 0
    run_b: int = 0
    visited: int = 0  # the unit of the visit with an outcome


def feed_lines(today: date) -> list[str]:
    def at(days_ago: int, hour: int = 10) -> str:
        return f"{today - timedelta(days=days_ago)}T{hour:02d}:00:00"

    lines = [f"R-UA1-{d},UA1,{at(d)},100.00,transfer,success,MA1" for d in range(1, 11)]
    lines += [f"R-UA2-{n},UA2,{at(3, 9 + n)},50.00,card_payment,success,MA2" for n in (1, 2)]
    lines += [f"R-UA4-1,UA4,{at(45)},20.00,transfer,success,MA4"]
    lines += [lines[0]]  # a duplicate
    lines += [
        f"R-X-1,NOPE,{at(1)},10.00,transfer,success,",
        f"R-X-2,UA1,{at(1)},-5,transfer,success,",
    ]
    return lines


def build_world(engine: Engine, folder: Path) -> OpsWorld:
    today = as_of()
    world = OpsWorld(today=today)
    with session_scope(engine) as session:
        factories.two_branches(session)
        for n in range(1, 5):
            factories.merchant(
                session, f"MA{n}", "A1", lat=35.01, lng=118.36, market_code="MKA1",
                contact_name="王老板", phone="13812345678",
            )  # fmt: skip
            deploy(session, f"UA{n}", "A1", f"MA{n}", today - timedelta(days=60))
        factories.merchant(session, "MB1", "B1", lat=35.51, lng=118.36)
        deploy(session, "UB1", "B1", "MB1", today - timedelta(days=60))
    feed = folder / "feed.csv"
    feed.write_text("\n".join([HEADER, *feed_lines(today)]) + "\n", encoding="utf-8")
    with session_scope(engine) as session:
        ops_a, ops_b = actor_of(session, "branch_ops_a"), actor_of(session, "branch_ops_b")
    world.run_id = feeds.ingest_file(feed, actor=ops_a, engine=engine).run_id or 0
    other = folder / "feed-b.csv"
    day_b = today - timedelta(days=2)
    # Branch B's units are fed by branch B (an upload takes only the uploader's units).
    b_lines = [
        f"R-UB1-{n},UB1,{today - timedelta(days=2)}T{9 + n:02d}:00:00,10.00,transfer,success,MB1"
        for n in range(1, 6)
    ]
    other.write_text(
        "\n".join([HEADER, *b_lines]) + f"\nR-B-8,UB1,{day_b}T15:00:00,1,transfer,success,\n"
        f"R-B-9,NOPE,{day_b}T16:00:00,1,transfer,success,\n"
    )
    world.run_b = feeds.ingest_file(other, actor=ops_b, engine=engine).run_id or 0
    with session_scope(engine) as session:
        # The bank's feed is complete since the units were deployed: a thin feed of a few days
        # would otherwise leave too little data to call a unit idle or never used.
        coverage.set_start(session, factories.SYSTEM, "default", today - timedelta(days=60))
        scoring.score_weeks(session, as_of=today, weeks=2)
        for sn in ("UA1", "UA2", "UA3", "UA4", "UB1", "SNA1"):
            world.ids[sn] = inventory.terminal_by_sn(session, factories.SYSTEM, sn).id or 0
        field_a = actor_of(session, "field_a")
        for sn, who in (("UA3", field_a), (("UB1"), ops_b)):
            unit = inventory.terminal_by_sn(session, factories.SYSTEM, sn)
            raised = recovery.raise_request(session, who, unit, why=phrases.text("商户从未使用"))
            world.requests[sn] = raised.id or 0
    with session_scope(engine) as session:
        planning.plan_day(session, factories.SYSTEM, branch_code="A", plan_date=today, seconds=0.3)
    with session_scope(engine) as session:
        visit = (
            session.execute(
                select(Visit).where(col(Visit.plan_date) == today).order_by(col(Visit.seq))
            )
            .scalars()
            .first()
        )
        assert visit is not None and visit.terminal_id, "the plan has no stop"
        world.visited = visit.terminal_id
        outcomes.record_outcome(
            session,
            actor_of(session, "field_a"),
            visit.id or 0,
            OutcomeRequest(outcome=Outcome.needs_training, note="不会用"),
        )
    return world


@pytest.fixture
def ops_world(engine: Engine, tmp_path: Path) -> OpsWorld:
    return build_world(engine, tmp_path)


def text_of(html: str) -> str:
    """The page's text with tags dropped and whitespace squeezed, for reading numbers."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def kpi(html: str, name: str) -> str:
    found = re.search(rf'id="kpi-{name}".*?class="value">(?:<a [^>]*>)?([^<]*)<', html, re.S)
    assert found, f"no KPI {name}"
    return found.group(1).strip()


# --- /ops ------------------------------------------------------------------------------------


def test_overview_shows_the_branch_kpis_and_its_sub_branches(
    client: TestClient, ops_world: OpsWorld
) -> None:
    sign_in(client, "branch_ops_a")
    page = client.get("/ops")
    assert page.status_code == 200
    html = page.text
    # A's subtree: UA1..UA4 scored (SNA1 was placed today: too new to count), UA1 and UA2 active.
    assert kpi(html, "deployed") == "4"
    assert kpi(html, "active") == "2"
    assert kpi(html, "active-rate") == "50.0%"
    # 12 transactions over 30 days on 4 units: 0.10 per terminal per day.
    assert kpi(html, "usage-rate") == "0.10"
    assert kpi(html, "activations") == "1"  # UA2: never used a week ago, active now
    assert kpi(html, "recovery-raised") == "1" and kpi(html, "recovery-waiting") == "1"
    assert kpi(html, "recovery-approved") == "0"
    status_cells = dict(re.findall(r'data-status="(\w+)">(\d+)<', html))
    assert status_cells == {
        "active": "2", "declining": "0", "idle": "1", "dormant": "0", "never_used": "1", "new": "0",
    }  # fmt: skip
    assert html.count('<svg class="chart"') == 3
    # The sub-branches table: A's own units (none) and outlet A1 with every unit.
    assert re.search(r'data-code="A1">.*?>4<.*?>2<.*?50.0%', html, re.S)
    # The picker offers A's subtree only.
    assert 'value="A1"' in html and 'value="B1"' not in html and 'value="LY"' not in html


def test_overview_narrows_to_a_sub_branch_and_refuses_another_branch(
    client: TestClient, ops_world: OpsWorld
) -> None:
    sign_in(client, "branch_ops_a")
    outlet = client.get("/ops?branch=A1")
    assert outlet.status_code == 200 and kpi(outlet.text, "deployed") == "4"
    other = client.get("/ops?branch=B1")
    assert other.status_code == 404
    assert "未找到" in other.text or "Not found" in other.text


def test_admin_sees_the_whole_city(client: TestClient, ops_world: OpsWorld) -> None:
    sign_in(client, "admin")
    html = client.get("/ops").text
    assert kpi(html, "deployed") == "5"  # UA1..UA4 and UB1
    assert kpi(html, "active") == "3"
    assert kpi(html, "recovery-waiting") == "2"
    assert 'data-code="A"' in html and 'data-code="B"' in html


def test_field_and_marketing_users_get_the_403_page(
    client: TestClient, ops_world: OpsWorld
) -> None:
    for username in ("field_a", "marketing_a"):
        sign_in(client, username)
        for path in ("/ops", "/ops/recovery", "/ops/search", "/ops/plans", "/ops/ingests"):
            answer = client.get(path)
            assert answer.status_code == 403, (username, path)
            assert "<html" in answer.text and "此页面仅供网点运营主管使用" in answer.text


# --- /ops/recovery ---------------------------------------------------------------------------


def test_the_queue_shows_the_evidence_of_each_request(
    client: TestClient, ops_world: OpsWorld
) -> None:
    sign_in(client, "branch_ops_a")
    html = client.get("/ops/recovery").text
    request_id = ops_world.requests["UA3"]
    assert f'id="request-{request_id}"' in html
    assert f'id="request-{ops_world.requests["UB1"]}"' not in html  # branch B's
    card = text_of(html.split(f'id="request-{request_id}"')[1].split("</li>")[0])
    assert "UA3" in card and "商户MA3" in card and "商户从未使用" in card
    assert "field_a" in card  # who raised it
    assert "待审批回收" in card  # the unit's state: recovery requested
    assert "从未使用" in card  # usage: never used
    assert "1 个申请待审批" in text_of(html)


def test_approving_through_the_page_moves_the_unit_and_is_audited(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    request_id = ops_world.requests["UA3"]
    queue = client.get("/ops/recovery").text
    before = kpi(client.get("/ops").text, "recovery-approved")
    fields = form_for(queue, f"/ops/recovery/{request_id}/decision")
    assert dict(fields)["decision"] == "approve"
    answer = client.post(f"/ops/recovery/{request_id}/decision", data=dict(fields))
    assert answer.status_code == 200  # followed the redirect back to the queue
    assert "UA3" in answer.text and "已批准" in answer.text  # the flash, and "decided lately"
    assert f'id="request-{request_id}"' not in answer.text  # the queue shrank
    with session_scope(engine) as session:
        row = session.get(RecoveryRequest, request_id)
        assert row is not None and row.status is RequestStatus.approved
        assert row.decided_by_name == "branch_ops_a"
        unit = inventory.terminal_by_sn(session, factories.SYSTEM, "UA3")
        assert unit.state is TerminalState.recovery_approved
        entry = session.execute(
            select(AuditEntry).where(
                AuditEntry.entity == "recovery_request",
                AuditEntry.entity_id == str(request_id),
                AuditEntry.action == "approve",
            )
        ).scalar_one()
        assert entry.actor_name == "branch_ops_a"
    assert (before, kpi(client.get("/ops").text, "recovery-approved")) == ("0", "1")
    trail = client.get(f"/ops/recovery/{request_id}").text
    # Who did it, by full name (the staff accounts' usernames stay out of sight).
    assert re.search(r'data-action="raise">.*?Field_A', trail, re.S)
    assert re.search(r'data-action="approve">.*?Branch_Ops_A', trail, re.S)


def test_rejecting_needs_a_reason_shown_next_to_the_field(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    request_id = ops_world.requests["UA3"]
    action = f"/ops/recovery/{request_id}/decision"
    forms = [f for a, f in _forms(client.get("/ops/recovery").text) if a == action]
    reject = dict(forms[1])
    assert reject["decision"] == "reject"
    empty = client.post(action, data=reject | {"reason": "  "})
    assert empty.status_code == 422
    assert f'id="e-reason-{request_id}"' in empty.text
    with session_scope(engine) as session:
        assert session.get(RecoveryRequest, request_id).status is RequestStatus.pending  # type: ignore[union-attr]
    done = client.post(action, data=reject | {"reason": "商户下月开业"}, follow_redirects=False)
    assert done.status_code == 303
    with session_scope(engine) as session:
        row = session.get(RecoveryRequest, request_id)
        assert row is not None and row.status is RequestStatus.rejected
        assert row.decision_note == "商户下月开业"
        unit = inventory.terminal_by_sn(session, factories.SYSTEM, "UA3")
        assert unit.state is TerminalState.deployed
    trail = client.get(f"/ops/recovery/{request_id}").text
    assert re.search(r'data-action="reject">.*?Branch_Ops_A.*?商户下月开业', trail, re.S)
    # Deciding it again (an old tab): 409, saying what was decided.
    again = client.post(action, data=dict(forms[0]))
    assert again.status_code == 409
    assert (
        "已有他人先行审批：回收申请 #" in again.text
        and "已是已驳回状态（Branch_Ops_A 审批）" in again.text
    )


def _forms(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    from tests.pages.forms import forms

    return forms(html)


def test_another_branchs_request_cannot_be_seen_or_decided(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    theirs = ops_world.requests["UB1"]
    assert client.get(f"/ops/recovery/{theirs}").status_code == 404
    csrf = dict(
        form_for(
            client.get("/ops/recovery").text, f"/ops/recovery/{ops_world.requests['UA3']}/decision"
        )
    )["csrf"]
    answer = client.post(
        f"/ops/recovery/{theirs}/decision", data={"csrf": csrf, "decision": "approve"}
    )
    assert answer.status_code == 404
    with session_scope(engine) as session:
        assert session.get(RecoveryRequest, theirs).status is RequestStatus.pending  # type: ignore[union-attr]


# --- search and details ----------------------------------------------------------------------


def test_search_finds_units_by_serial_or_merchant_within_scope(
    client: TestClient, ops_world: OpsWorld
) -> None:
    sign_in(client, "branch_ops_a")
    by_sn = client.get("/ops/search?q=UA")
    assert by_sn.status_code == 200
    assert _count(by_sn.text) == "4"
    assert client.get("/ops/search?q=UB1").text.count("/ops/terminals/") == 0
    by_merchant = client.get("/ops/search?q=商户MA2")
    assert (
        _count(by_merchant.text) == "1"
        and f"/ops/terminals/{ops_world.ids['UA2']}" in by_merchant.text
    )
    requested = client.get("/ops/search?status=recovery_requested")
    assert _count(requested.text) == "1" and "UA3" in requested.text
    in_market = client.get("/ops/search?market=MKA1")  # UA1..UA4, and SNA1 at CA1
    assert _count(in_market.text) == "5"
    merchants = client.get("/ops/search?kind=merchants&market=MKA1&status=open")
    assert _count(merchants.text) == "5"
    bad = client.get("/ops/search?status=nonsense")
    assert bad.status_code == 422 and 'id="e-status"' in bad.text


def _count(html: str) -> str:
    found = re.search(r'id="result-count">\D*(\d+)', html)
    assert found, "no result count"
    return found.group(1)


def test_search_pages_through_results(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    with session_scope(engine) as session:
        for n in range(25):
            factories.terminal(session, f"ZZ{n:02d}", "A1")
    sign_in(client, "branch_ops_a")
    first = client.get("/ops/search?q=ZZ")
    assert _count(first.text) == "25" and "ZZ19" in first.text and "ZZ20" not in first.text
    assert 'href="/ops/search?kind=terminals&amp;q=ZZ&amp;offset=20"' in first.text
    second = client.get("/ops/search?kind=terminals&q=ZZ&offset=20")
    assert "ZZ24" in second.text and "ZZ00" not in second.text


def test_terminal_page_shows_its_history(client: TestClient, ops_world: OpsWorld) -> None:
    sign_in(client, "branch_ops_a")
    page = client.get(f"/ops/terminals/{ops_world.ids['UA4']}")
    visited = client.get(f"/ops/terminals/{ops_world.visited}").text
    assert "需要培训" in visited and "不会用" in visited  # the visit and its outcome
    assert page.status_code == 200
    html = page.text
    assert '<svg class="chart"' in html  # scores over time
    assert len(re.findall(r'<tr><td>[^<]+</td><td><span class="badge', html)) == 3  # 3 scorings
    assert "商户MA4" in html  # its merchant
    events = client.get(f"/ops/terminals/{ops_world.ids['UA3']}").text
    assert "商户从未使用" in events  # the recovery request
    assert "登记为已布放" in events  # the lifecycle, in words
    assert "field:" not in events and "Field_A" in events  # who: by full name


def test_merchant_page_shows_its_units_contact_and_market(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    with session_scope(engine) as session:
        merchant = inventory.merchant_by_code(session, factories.SYSTEM, "MA1")
        other = inventory.merchant_by_code(session, factories.SYSTEM, "MB1")
    sign_in(client, "branch_ops_a")
    html = client.get(f"/ops/merchants/{merchant.id}").text
    assert "UA1" in html and "王老板" in html and "13812345678" in html and "市场MKA1" in html
    assert client.get(f"/ops/merchants/{other.id}").status_code == 404
    assert client.get(f"/ops/terminals/{ops_world.ids['UB1']}").status_code == 404


# --- plans and ingests -----------------------------------------------------------------------


def test_plans_show_each_staff_members_stops_and_outcomes(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    with session_scope(engine) as session:
        planned = (
            session.execute(select(Visit).where(col(Visit.plan_date) == ops_world.today))
            .scalars()
            .all()
        )
    sign_in(client, "branch_ops_a")
    html = client.get("/ops/plans").text
    counts = re.search(r'data-staff="field_a" data-done="(\d+)" data-undone="(\d+)"', html)
    assert counts and counts.groups() == ("1", str(len(planned) - 1))
    assert len(planned) >= 1 and "需要培训" in html
    assert f'href="/maps/routes?branch_code=A&amp;date={ops_world.today}"' in html
    empty = client.get(f"/ops/plans?date={ops_world.today + timedelta(days=1)}")
    assert empty.status_code == 200 and "data-staff" not in empty.text
    bad = client.get("/ops/plans?date=31/12")
    assert bad.status_code == 422 and 'id="e-date"' in bad.text and 'value="31/12"' in bad.text
    sign_in(client, "branch_ops_b")
    assert "data-staff" not in client.get("/ops/plans").text


def test_ingest_history_and_its_rejected_lines(client: TestClient, ops_world: OpsWorld) -> None:
    sign_in(client, "branch_ops_a")
    html = client.get("/ops/ingests").text
    row = re.search(rf'data-run="{ops_world.run_id}">(.*?)</tr>', html, re.S)
    assert row and re.findall(r'class="num">(?:<a [^>]*>)?(\d+)', row.group(1)) == [
        "16",
        "13",
        "1",
        "2",
    ]
    assert "branch_ops_a" in row.group(1)
    assert f'data-run="{ops_world.run_b}"' not in html  # branch B's import
    detail = client.get(f"/ops/ingests/{ops_world.run_id}").text
    assert "未知终端" in detail and "NOPE" in detail and "R-X-2" in detail
    download = client.get(f"/ops/ingests/{ops_world.run_id}/rejects.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "reason", "detail", "raw"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("16", "unknown_terminal"),
        ("17", "non_positive_amount"),
    ]
    assert rows[1][3].startswith("R-X-1,NOPE,")
    assert client.get(f"/ops/ingests/{ops_world.run_b}").status_code == 404
    assert client.get(f"/ops/ingests/{ops_world.run_b}/rejects.csv").status_code == 404


def test_a_unit_deployed_before_the_data_reads_no_use_in_the_data(
    client: TestClient, ops_world: OpsWorld, engine: Engine
) -> None:
    since = ops_world.today - timedelta(days=40)
    with session_scope(engine) as session:
        coverage.set_start(session, factories.SYSTEM, "default", since)
        scoring.score(session, as_of=ops_world.today)
    sign_in(client, "branch_ops_a")
    html = client.get("/ops/recovery").text
    card = text_of(html.split(f'id="request-{ops_world.requests["UA3"]}"')[1].split("</li>")[0])
    assert f"数据内未使用（数据自{since.year}年{since.month}月{since.day}日起）" in card


def test_ops_see_an_admins_import_that_fed_their_units_without_its_refused_lines(
    client: TestClient, ops_world: OpsWorld, engine: Engine, tmp_path: Path
) -> None:
    day = ops_world.today - timedelta(days=1)
    feed = tmp_path / "admin.csv"
    feed.write_text(
        f"{HEADER}\nR-ADM-1,UB1,{day}T10:00:00,10.00,transfer,success,MB1\n"
        f"R-ADM-2,UB1,{day}T11:00:00,-1,transfer,success,SECRET-LINE\n",
        encoding="utf-8",
    )
    with session_scope(engine) as session:
        admin = actor_of(session, "admin")
    run_id = feeds.ingest_file(feed, actor=admin, engine=engine).run_id or 0

    sign_in(client, "branch_ops_b")
    runs = client.get("/ops/ingests").text
    assert f'data-run="{run_id}"' in runs
    # The lines a feed refused, in one word on the list and on the run ("拒绝"); 已驳回 is
    # what becomes of a recovery request.
    head = text_of(runs.split('id="runs"')[1].split("</thead>")[0]).split()
    assert head[-3:] == ["重复", "拒绝", "操作人"], head
    detail = client.get(f"/ops/ingests/{run_id}")
    assert detail.status_code == 200
    assert "本次导入由其他机构发起" in detail.text and "SECRET-LINE" not in detail.text
    # Why it failed, in the reader's words (it was the English sentence stored with the run).
    said = " ".join(text_of(detail.text).split())
    assert "失败 2 行中有 1 行被拒绝（50.0%），超过允许的 5.0%" in said, said
    assert "lines were refused" not in said
    with session_scope(engine) as session:
        run = session.get(IngestRun, run_id)
        assert run is not None
        assert texts_for("en").phrase(run.why) == (
            "1 of 2 lines were refused (50.0%), more than the 5.0% allowed (--max-rejected-share)"
        )
    assert client.get(f"/ops/ingests/{run_id}/rejects.csv").status_code == 403

    sign_in(client, "branch_ops_a")  # the import fed no unit of branch A
    assert f'data-run="{run_id}"' not in client.get("/ops/ingests").text
    assert client.get(f"/ops/ingests/{run_id}").status_code == 404
