"""Merchants inside a market's extent belong to it: when the merchant is created or moves, and
when the market is registered, moved, resized or given a polygon."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.imports import service as imports
from fleet.inventory import service as inventory
from fleet.inventory.models import Market, MarketUpdate, Merchant, MerchantUpdate
from tests import factories
from tests.factories import SYSTEM
from tests.markets.conftest import near

CENTRE = (35.06, 118.36)


def market_of(session: Session) -> dict[str, str | None]:
    """{merchant code: its market's code} for every merchant."""
    codes = {m.id: m.code for m in session.execute(select(Market)).scalars()}
    return {
        m.code: codes.get(m.market_id)
        for m in session.execute(select(Merchant).order_by(col(Merchant.code))).scalars()
    }


def setup_merchants(session: Session) -> None:
    """Merchants 100, 300 and 700 m north of the centre, and one with no location."""
    factories.branch(session, "A1", level="city")
    for code, north in (("P100", 100), ("P300", 300), ("P700", 700)):
        factories.merchant(session, code, "A1", **near(CENTRE, north))
    inventory.create_merchant(
        session, SYSTEM, inventory.MerchantCreate(code="NOWHERE", name="x", branch_code="A1")
    )


def test_a_new_market_takes_in_the_merchants_inside_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        setup_merchants(session)
        factories.market(session, "MK", "A1", *CENTRE, radius_m=400)
        assert market_of(session) == {"NOWHERE": None, "P100": "MK", "P300": "MK", "P700": None}
        entries = (
            session.execute(
                select(AuditEntry).where(
                    col(AuditEntry.entity) == "merchant", col(AuditEntry.action) == "update"
                )
            )
            .scalars()
            .all()
        )
        assert sorted(e.entity_id for e in entries) == ["P100", "P300"]
        assert entries[0].changes["reason"] == "extent of market MK"


def test_resizing_moving_and_reshaping_a_market(engine: Engine) -> None:
    with session_scope(engine) as session:
        setup_merchants(session)
        mk = factories.market(session, "MK", "A1", *CENTRE, radius_m=400)
        # Shrunk to 200 m: P300 is outside now, and no other market holds it.
        inventory.update_market(session, SYSTEM, mk, MarketUpdate(radius_m=200))
        assert market_of(session)["P300"] is None
        # Grown to 800 m: all three are inside.
        inventory.update_market(session, SYSTEM, mk, MarketUpdate(radius_m=800))
        assert market_of(session) == {"NOWHERE": None, "P100": "MK", "P300": "MK", "P700": "MK"}
        # A polygon covering only the band 200-500 m north: P300 stays, the others go.
        south, north = near(CENTRE, 200)["lat"], near(CENTRE, 500)["lat"]
        band = [[south, 118.35], [south, 118.37], [north, 118.37], [north, 118.35]]
        inventory.update_market(session, SYSTEM, mk, MarketUpdate(polygon=band))
        assert market_of(session) == {"NOWHERE": None, "P100": None, "P300": "MK", "P700": None}
        # A change that leaves the extent alone re-assigns nobody.
        inventory.update_market(session, SYSTEM, mk, MarketUpdate(name="改名"))
        assert market_of(session)["P300"] == "MK"


def test_the_smaller_of_two_overlapping_markets_wins(engine: Engine) -> None:
    with session_scope(engine) as session:
        setup_merchants(session)
        factories.market(session, "BIG", "A1", *CENTRE, radius_m=1000)
        assert set(market_of(session).values()) == {"BIG", None}
        small = factories.market(session, "SMALL", "A1", *CENTRE, radius_m=200)
        assert market_of(session) == {
            "NOWHERE": None,
            "P100": "SMALL",
            "P300": "BIG",
            "P700": "BIG",
        }
        # Moved away, the small market lets P100 go back to the big one that still holds it.
        far = near(CENTRE, 5000)
        inventory.update_market(session, SYSTEM, small, MarketUpdate(lat=far["lat"]))
        assert market_of(session)["P100"] == "BIG"


def test_a_hand_assignment_outside_the_extent_is_left_alone(engine: Engine) -> None:
    with session_scope(engine) as session:
        setup_merchants(session)
        mk = factories.market(session, "MK", "A1", *CENTRE, radius_m=400)
        p700 = inventory.get_or_none(session, Merchant, code="P700")
        inventory.update_merchant(session, SYSTEM, p700, MerchantUpdate(market_code="MK"))
        inventory.update_market(session, SYSTEM, mk, MarketUpdate(radius_m=350))
        assert market_of(session)["P700"] == "MK"


def test_merchants_moving_in_and_out(engine: Engine) -> None:
    with session_scope(engine) as session:
        setup_merchants(session)
        factories.market(session, "MK", "A1", *CENTRE, radius_m=400)
        p700 = inventory.get_or_none(session, Merchant, code="P700")
        inventory.update_merchant(session, SYSTEM, p700, MerchantUpdate(**near(CENTRE, 50)))
        assert market_of(session)["P700"] == "MK"
        inventory.update_merchant(session, SYSTEM, p700, MerchantUpdate(**near(CENTRE, 900)))
        assert market_of(session)["P700"] is None


def test_importing_a_market_assigns_its_merchants(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        setup_merchants(session)
        path = tmp_path / "markets.csv"
        path.write_text(
            "市场编号,市场名称,类别,纬度,经度,半径米,负责网点编号\n"
            f"MK9,临沂五金城,五金,{CENTRE[0]},{CENTRE[1]},350,A1\n",
            encoding="utf-8",
        )
        report = imports.import_file(session, SYSTEM, "markets", path)
        assert report.created == 1
        assert market_of(session) == {"NOWHERE": None, "P100": "MK9", "P300": "MK9", "P700": None}
