"""The demo's three months of 五提升 scorecards in 兰山支行, made the way people make them:
operations approve each month's plan (freezing its baseline), an admin sets the field
officers' weights, and the four other rates come in as a GBK CSV with Chinese headers from
"the bank's other systems" (seeded example values). Runs after the demo's contracts, which
set the example fee schedule."""

from __future__ import annotations

import random
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core.access import Role, system_actor
from fleet.core.db import session_scope
from fleet.core.errors import Reason
from fleet.inventory.models import Branch
from fleet.inventory.scope import subtree_ids
from fleet.pay import periods, plans, rates, weights
from fleet.pay.scorecard import scorecard

COUNTY = "兰山支行"
OPS = "ops_lanshan"
WEIGHTS = {
    "activation": 40,
    "atm_diversion": 15,
    "passbook_to_card": 15,
    "corporate_ebank": 15,
    "personal_ebank": 15,
}


def last_months(as_of: date, n: int = 3) -> list[periods.Period]:
    """The n complete months before as_of's, oldest first."""
    found = [periods.parse(f"{as_of:%Y-%m}").previous()]
    while len(found) < n:
        found.insert(0, found[0].previous())
    return found


def demo_scorecards(engine: Engine, as_of: date, seed: int = 7) -> list[Reason]:
    """Approves the plans, sets weights, imports the rates; returns a report line a month
    (msgid and values)."""
    rng = random.Random(seed)
    months = last_months(as_of)
    lines = []
    with session_scope(engine) as session:
        county = session.exec(select(Branch).where(col(Branch.name) == COUNTY)).one()
        ops = auth.actor_for(
            session, session.exec(select(User).where(col(User.username) == OPS)).one()
        )
        weights.set_weights(session, system_actor("demo"), Role.field.value, WEIGHTS)
        for month in months:
            plan = plans.create_plan(session, ops, period=month.text, branch_code=county.code)
            assert plan.id is not None
            plans.approve(session, ops, plan.id)
        below = subtree_ids(session, county.id or 0)
        staff = session.exec(
            select(User)
            .where(col(User.role) == Role.field, col(User.branch_id).in_(below))
            .order_by(col(User.username))
        ).all()
        with tempfile.TemporaryDirectory(prefix="fleet-demo-rates-") as folder:
            sheet = Path(folder) / "五提升其他四率.csv"
            text = ["工号,期间,ATM分流率,存折换卡,企业网银覆盖率,个人网银动户率"]
            for person in staff:
                for month in months:
                    values = [f"{rng.uniform(30, 90):.1f}%" for _ in range(4)]
                    text.append(",".join([person.username, month.text, *values]))
            sheet.write_bytes(("\n".join(text) + "\n").encode("gbk"))
            rates.import_rates(session, ops, sheet, sheet.name)
        for month in months:
            card = scorecard(session, ops, period=month, branch_id=county.id)
            cohort = sum(r.cohort for r in card.rows)
            woke = sum(r.activated for r in card.rows)
            top = card.rows[0] if card.rows else None
            said = dict(
                month=month.text, staff=len(card.rows), cohort=f"{cohort:.0f}", woke=f"{woke:.0f}"
            )
            if top and top.points:
                lines.append(
                    Reason(
                        "{month}: {staff} staff, cohort {cohort}, activated {woke}; first {name} "
                        "{points} points",
                        **said,
                        name=top.name,
                        points=f"{top.points:.1f}",
                    )
                )
            else:
                lines.append(
                    Reason("{month}: {staff} staff, cohort {cohort}, activated {woke}", **said)
                )
    return lines
