"""A campaign from plan to report: prospects imported and drawn, staff assigned, visits for the
lists, units placed through the lifecycle, outcomes, report and XLSX (world of conftest.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.core.i18n import texts_for
from fleet.inventory import lifecycle
from fleet.inventory.models import Merchant, Placement, Terminal, TerminalState
from fleet.markets import campaigns, exports, prospects, report, run
from fleet.markets.models import Campaign, CampaignCreate, CampaignPlacement, ProspectStatus
from fleet.markets.settings import MarketSettings
from fleet.scoring import service as scoring
from tests.markets.conftest import MK1, World, near
from tests.scoring.util import add_usage

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZH = texts_for("zh")


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=SHANGHAI)


def branch_records(tmp_path: Path) -> Path:
    """A branch's counter-cash records: a new merchant inside MK1, a known one, one elsewhere."""
    p1 = near(MK1, -100)
    path = tmp_path / "大额现金商户.csv"
    path.write_text(
        "商户编号,商户名称,行业,纬度,经度,所属网点编号,月均柜面现金次数,平均现金金额\n"
        f"P1,鑫源五金,五金,{p1['lat']},{p1['lng']},A1,20,50000\n"
        "M4,,,,,,2,2000\n"
        "P2,城南粮油,粮油,35.3,118.6,A1,8,\n",
        encoding="utf-8",
    )
    return path


def plan(session: Session, world: World, tmp_path: Path) -> Campaign:
    marketing = world.actor(session, "marketing_a")
    imported = prospects.import_prospects(session, marketing, branch_records(tmp_path))
    assert (imported.rows, imported.merchants_created, imported.records_created) == (3, 2, 3)
    d = world.today
    return campaigns.create_campaign(
        session,
        marketing,
        CampaignCreate(
            name="五金城春季营销",
            market_code="MK1",
            starts_on=d - timedelta(days=70),
            ends_on=d - timedelta(days=10),
            target_placements=4,
            staff_usernames=["field_a1", "field_a2"],
            unit_sns=["S1", "S2", "S3"],
        ),
    )


def test_plan_run_and_report(engine: Engine, world: World, tmp_path: Path) -> None:
    d = world.today
    with session_scope(engine) as session:
        campaign = plan(session, world, tmp_path)
        cid = campaign.id or 0
        # Drawn from MK1: its open merchants without a unit, P1 (new, inside it), M4, M5.
        # P1: 0.35·1 + 0.25·log10(50)/2 + 0.2 + 0.2·trade = 84; M5 (no records) 43;
        # M4 (2 visits, 2,000 yuan) 35. Trade: hardware 50% active, volume 0.52 of the fleet.
        listed = report.prospect_list(session, campaign)
        assert [(p.merchant_code, p.priority, p.staff_username) for p in listed] == [
            ("P1", 84, "field_a1"),
            ("M5", 43, "field_a2"),
            ("M4", 35, "field_a1"),
        ]
        # The reason is kept as phrases, worded in the reader's language (English for the API).
        assert ZH.phrase(listed[0].why) == (
            "月均到柜存现20次、笔均5.0万元；在市场MK1（五金，同业动户率50%）"
        )
        assert listed[0].reason == (
            "20 counter cash visits a month, 50,000 yuan on average; "
            "in 市场MK1 (Hardware, trade 50% active)"
        )

        # The visit lists take them in: best first, with the units set aside, by serial number.
        due = run.campaign_candidates(session, branch_ids=None, day=d - timedelta(days=60))
        assert [(c.merchant_code, c.terminal_sn, c.staff_username) for c in due] == [
            ("P1", "S1", "field_a1"),
            ("M5", "S2", "field_a2"),
            ("M4", "S3", "field_a1"),
        ]
        assert due[0].lat == pytest.approx(near(MK1, -100)["lat"])
        assert due[0].opening_hours == "08:00-18:00"
        assert run.campaign_candidates(session, branch_ids=None, day=d) == []  # ended
        b_only = frozenset({world.branches["B"], world.branches["B1"]})
        assert run.campaign_candidates(session, branch_ids=b_only, day=d - timedelta(60)) == []

        # Run: field_a1 places S1 at P1; marketing places S2 at M5 and, later, S3 at M4.
        field = world.actor(session, "field_a1")
        marketing = world.actor(session, "marketing_a")
        run.place_unit(
            session, field, campaign, sn="S1", merchant_code="P1", at=noon(d - timedelta(65))
        )
        run.place_unit(
            session, marketing, campaign, sn="S2", merchant_code="M5", at=noon(d - timedelta(50))
        )
        run.record_outcome(
            session, marketing, campaign, world.merchants["M4"], ProspectStatus.declined
        )
        run.place_unit(
            session, marketing, campaign, sn="S3", merchant_code="M4", at=noon(d - timedelta(15))
        )
        s1 = session.execute(select(Terminal).where(col(Terminal.sn) == "S1")).scalar_one()
        p1 = session.execute(select(Merchant).where(col(Merchant.code) == "P1")).scalar_one()
        assert (s1.state, s1.merchant_id) == (TerminalState.deployed, p1.id)
        event = lifecycle.events(session, s1)[-1]
        why = {"code": "campaign_placed", "values": {"campaign": "五金城春季营销"}}
        assert (event.actor_name, event.why) == ("field_a1", why)
        links = (
            session.execute(select(CampaignPlacement).order_by(col(CampaignPlacement.placed_at)))
            .scalars()
            .all()
        )
        assert [session.get(Placement, link.placement_id).terminal_id for link in links] == [
            world.units["S1"], world.units["S2"], world.units["S3"]
        ]  # fmt: skip
        assert run.campaign_candidates(session, branch_ids=None, day=d - timedelta(days=12)) == []

        # Usage: S1 is used five days after its placement, S2 never; then score again.
        add_usage(session, world.units["S1"], d - timedelta(days=60), 7)
        for back in (77, 7, 0):
            scoring.score(session, as_of=d - timedelta(days=back))
        result = report.campaign_report(session, campaign)

    assert (result.target, result.placed, result.placed_vs_target) == (4, 3, 0.75)
    assert (result.units_set_aside, result.units_unused) == (3, 0)
    assert result.prospects_by_status == {"pending": 0, "visited": 0, "placed": 3, "declined": 0}
    assert [(p.sn, p.active_after_30, p.txn_first_30) for p in result.placements] == [
        ("S1", True, 7),
        ("S2", False, 0),
        ("S3", None, 0),  # placed 15 days before the data ends: not judged yet
    ]
    assert (result.judged, result.active_after_30, result.pending_30) == (2, 1, 1)
    assert result.active_rate_after_30 == 0.5
    # Cost: 3 units x 300 + 3 visits x 50 yuan, for one active placement.
    assert (result.visits_made, result.total_cost_yuan, result.cost_per_active_yuan) == (
        3,
        1050,
        1050,
    )
    # MK1 before (D-77: its four old units never used yet) and after (D: t1, t3 active of 7).
    assert result.before is not None and result.after is not None
    assert (result.before.as_of, result.before.active_rate) == (d - timedelta(days=77), 0.0)
    assert (result.after.as_of, result.after.deployed, result.after.active) == (d, 7, 2)
    assert result.active_rate_change == round(2 / 7, 4)

    with session_scope(engine) as session:
        campaign = session.get(Campaign, cid)
        cheap = MarketSettings(campaign_cost_per_unit_yuan=100, campaign_cost_per_visit_yuan=0)
        assert report.campaign_report(session, campaign, settings=cheap).total_cost_yuan == 300
        shown = report.campaign_report(session, campaign)
        prospects_listed = report.prospect_list(session, campaign)
        names = exports.names_for(session, shown, prospects_listed)
        path = exports.write_report_xlsx(shown, prospects_listed, tmp_path / "report.xlsx", names)
        branch = shown.campaign.branch_code
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["汇总", "布放明细", "意向商户"]
    summary = {row[0]: row[1] for row in workbook["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["活动名称"] == "五金城春季营销"
    assert summary["市场"] == "市场MK1 (MK1)"
    # Branches and staff by name, the code after it.
    assert summary["负责网点"] == f"网点{branch} ({branch})"
    assert "邱秀 (field_a1)" in summary["客户经理"].split("、")
    assert (summary["目标布放数"], summary["已布放机具"], summary["完成率"]) == (4, 3, 0.75)
    assert (summary["30天后活跃数"], summary["每个活跃布放成本(元)"]) == (1, 1050)
    assert summary["活动后市场动户率"] == round(2 / 7, 4)
    assert summary["阶段"] == "已结束"
    placed = list(workbook["布放明细"].iter_rows(values_only=True))
    assert placed[0] == tuple(texts_for("zh").gettext(h) for h in exports.PLACEMENT_HEADERS)
    assert placed[0][:2] == ("终端号", "商户编号")
    assert [(r[0], r[1], r[4], r[7]) for r in placed[1:]] == [
        ("S1", "P1", "邱秀 (field_a1)", "是"),
        ("S2", "M5", "王芳 (field_a2)", "否"),
        ("S3", "M4", "邱秀 (field_a1)", "未满30天"),
    ]
    assert placed[1][3].date() == d - timedelta(days=65)
    listed_rows = list(workbook["意向商户"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4], r[7]) for r in listed_rows] == [
        ("P1", 84, "已布放"),
        ("M5", 43, "已布放"),
        ("M4", 35, "已布放"),
    ]
    # Why and how each came onto the list, in the same Chinese words as the pages.
    assert listed_rows[0][5] == "月均到柜存现20次、笔均5.0万元；在市场MK1（五金，同业动户率50%）"
    assert [r[6] for r in listed_rows] == ["市场内商户"] * 3


def test_who_may_plan_run_and_read(engine: Engine, world: World, tmp_path: Path) -> None:
    d = world.today
    with session_scope(engine) as session:
        campaign = plan(session, world, tmp_path)
        ops_a, ops_b = world.actor(session, "ops_a"), world.actor(session, "ops_b")
        field_b = world.actor(session, "field_b1")
        assert campaigns.get_campaign(session, ops_a, campaign.id or 0) is campaign
        with pytest.raises(NotFound):
            campaigns.get_campaign(session, ops_b, campaign.id or 0)
        with pytest.raises(Forbidden):
            campaigns.create_campaign(
                session,
                ops_a,
                CampaignCreate(name="x", market_code="MK1", starts_on=d, ends_on=d),
            )
        with pytest.raises(Forbidden):  # operations read; they do not run campaigns
            run.place_unit(
                session, ops_a, campaign, sn="S1", merchant_code="M5", at=noon(d - timedelta(30))
            )
        # A field officer not on the campaign: as if it did not exist (no oracle, issue 14).
        with pytest.raises(NotFound):
            campaigns.get_campaign(session, field_b, campaign.id or 0)
        assert [c.id for c in campaigns.list_campaigns(session, ops_a)] == [campaign.id]
        assert campaigns.list_campaigns(session, ops_b) == []


def test_placements_are_checked(engine: Engine, world: World, tmp_path: Path) -> None:
    d = world.today
    with session_scope(engine) as session:
        campaign = plan(session, world, tmp_path)
        marketing = world.actor(session, "marketing_a")
        with pytest.raises(Invalid, match="outside it"):
            run.place_unit(
                session, marketing, campaign, sn="S1", merchant_code="M5", at=noon(d - timedelta(5))
            )
        with pytest.raises(Invalid, match="neither on campaign"):
            run.place_unit(
                session,
                marketing,
                campaign,
                sn="S1",
                merchant_code="G1",
                at=noon(d - timedelta(30)),
            )
        with pytest.raises(Conflict, match="not in stock"):
            run.place_unit(
                session,
                marketing,
                campaign,
                sn="T1",
                merchant_code="M5",
                at=noon(d - timedelta(30)),
            )
        with pytest.raises(Invalid, match="not on this campaign's staff"):
            run.place_unit(
                session, marketing, campaign, sn="S1", merchant_code="M5",
                at=noon(d - timedelta(30)), staff_username="field_b1",
            )  # fmt: skip
        # A unit set aside by another campaign that has not ended is refused; one set aside by
        # a campaign that has ended (as `campaign` has) is free again.
        future = {"market_code": "MK1", "starts_on": d, "ends_on": d + timedelta(9),
                  "draw_prospects": False}  # fmt: skip
        campaigns.create_campaign(
            session, marketing, CampaignCreate(name="下一个活动", unit_sns=["S1"], **future)
        )
        with pytest.raises(Conflict, match="set aside for campaign"):
            campaigns.create_campaign(
                session, marketing, CampaignCreate(name="再一个活动", unit_sns=["S1"], **future)
            )


def test_staff_changes_share_the_prospects_again_and_deleting(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        campaign = plan(session, world, tmp_path)
        marketing = world.actor(session, "marketing_a")
        campaigns.set_staff(session, marketing, campaign, ["field_a2"])
        assert {p.staff_username for p in report.prospect_list(session, campaign)} == {"field_a2"}
        campaigns.release_unit(session, marketing, campaign, "S3")
        public = report.campaigns_public(session, [campaign])[0]
        assert (public.staff, public.units_set_aside, public.prospects) == (["field_a2"], 2, 3)
        campaigns.delete_campaign(session, marketing, campaign)
        assert session.execute(select(Campaign)).first() is None


def test_prospect_import_errors_list_every_bad_row(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "商户编号,商户名称,纬度,经度,所属网点编号,月均柜面现金次数\n"
        "Q1,新商户,35.1,,A1,3\n"
        "Q2,,35.1,118.4,A1,-1\n"
        "Q2,重复,35.1,118.4,A1,x\n",
        encoding="utf-8",
    )
    with session_scope(engine) as session, pytest.raises(Invalid) as caught:
        prospects.import_prospects(session, world.actor(session, "marketing_a"), path)
    errors = caught.value.details["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "lat"), (3, "counter_visits_month"), (4, "counter_visits_month"), (4, "code")
    ]  # fmt: skip
    with session_scope(engine) as session:
        ops = world.actor(session, "ops_a")
        report_ = prospects.import_prospects(session, ops, branch_records(tmp_path))
        assert report_.merchants_created == 2
        rows = prospects.list_prospects(session, ops)
        # P2: 0.35·8/20 + 0.25·0.25 (no amount) + 0 (no market) + 0.2·0.6 (the fleet: 4 of 6
        # active, its own volume) = 32.
        assert [(r.code, r.priority) for r in rows] == [("P1", 84), ("M4", 35), ("P2", 32)]
        assert ZH.phrase(rows[2].why) == "月均到柜存现8次；不在专业市场（粮油，动户率67%）"
        assert rows[2].reason == "8 counter cash visits a month; not in a market (粮油, 67% active)"
