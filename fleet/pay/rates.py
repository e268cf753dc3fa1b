"""The four 五提升 rates fleet does not compute (ATM 分流率, 存折换卡, 企业网银覆盖率,
个人网银动户率), imported per staff member and period from the bank's other systems.

A CSV (UTF-8 or GBK) or XLSX file, read with the inventory imports' limits; headers in
Chinese or English: 工号 (the staff member's username), 期间 (2026-11, 2026-Q4 or 2026), and
any of the four rates. A rate is written 85%, 85 or 0.85 (a bare number above 1 is a
percentage); a blank cell leaves that rate as it was. Any row with an unknown staff member
(or one outside the importer's branches), a period that is not one or has not begun, or a
rate that is not 0–100%: the file is refused with those rows and their reasons listed, and
nothing changes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlmodel import Session, select

from fleet.auth.models import User
from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.db import utcnow
from fleet.core.errors import Invalid, Listed, Reason
from fleet.imports.columns import header_key
from fleet.imports.files import read_table
from fleet.inventory import holders
from fleet.pay.periods import parse as parse_period
from fleet.pay.scorecard_models import IMPORTED, Measure, ScorecardRate

HEADERS: dict[str, str] = {
    header_key(name): key
    for key, names in {
        "staff": ("工号", "员工", "员工工号", "用户名", "staff", "username"),
        "period": ("期间", "考核期", "月份", "period"),
        Measure.atm_diversion.value: ("ATM分流率", "atm_diversion"),
        Measure.passbook_to_card.value: ("存折换卡", "存折换卡率", "passbook_to_card"),
        Measure.corporate_ebank.value: ("企业网银覆盖率", "corporate_ebank"),
        Measure.personal_ebank.value: ("个人网银动户率", "personal_ebank"),
    }.items()
    for name in names
}


def for_period(session: Session, period: str) -> dict[int, dict[str, float]]:
    """staff id → measure → value of one period."""
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for row in session.exec(select(ScorecardRate).where(ScorecardRate.period == period)):
        found[row.staff_id][row.measure.value] = row.value
    return dict(found)


def _value(text: str) -> float | None:
    cleaned = text.strip().replace("％", "%")
    if not cleaned:
        return None
    percent = cleaned.endswith("%")
    number = float(cleaned.rstrip("%").strip())
    if percent or number > 1:
        number /= 100
    if not 0 <= number <= 1:
        raise ValueError(cleaned)
    return number


def import_rates(session: Session, actor: Actor, path: Path, name: str) -> int:
    """Imports the file's rates (see the module); returns how many values were stored."""
    actor.require(Permission.approve_scorecard)
    table = read_table(path, name)
    where: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        key = HEADERS.get(header_key(header))
        if key is None and header.strip():
            raise Invalid("{file}: unknown column {column}", file=name, column=repr(header))
        if key is not None:
            where[key] = i
    if "staff" not in where or "period" not in where:
        raise Invalid("{file} needs the columns 工号 and 期间", file=name)
    measures = [m for m in IMPORTED if m.value in where]
    if not measures:
        raise Invalid("{file} has none of the four rates", file=name)
    users = {
        u.username: u for u in session.exec(select(User)).all() if actor.sees_branch(u.branch_id)
    }
    today = holders.local_day(utcnow())
    problems: list[Reason] = []
    values: dict[tuple[str, int, Measure], float] = {}
    for number, cells in table.rows:

        def cell(key: str, cells: list[str] = cells) -> str:
            i = where[key]
            return cells[i].strip() if i < len(cells) else ""

        user = users.get(cell("staff"))
        if user is None:
            problems.append(
                Reason("{n} ({staff}: unknown staff member)", n=number, staff=cell("staff") or "-")
            )
            continue
        try:
            period = parse_period(cell("period"))
        except Invalid:
            problems.append(
                Reason("{n} ({period}: not a period)", n=number, period=cell("period") or "-")
            )
            continue
        if period.start > today:
            problems.append(Reason("{n} ({period}: has not begun)", n=number, period=period.text))
            continue
        for measure in measures:
            try:
                found = _value(cell(measure.value))
            except ValueError:
                problems.append(
                    Reason("{n} ({value}: not a rate)", n=number, value=cell(measure.value))
                )
                continue
            if found is not None:
                assert user.id is not None
                values[(period.text, user.id, measure)] = found
    if problems:
        raise Invalid("{file}: nothing was imported; rows {rows}", file=name, rows=Listed(problems))
    for (period_text, staff_id, measure), value in values.items():
        row = session.get(ScorecardRate, (period_text, staff_id, measure))
        if row is None:
            row = ScorecardRate(period=period_text, staff_id=staff_id, measure=measure, value=0)
        row.value, row.imported_at, row.imported_by = value, utcnow(), actor.username
        session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="import_rates",
        entity="scorecard_rate",
        entity_id=name[:100],
        changes={"values": len(values), "periods": sorted({p for p, _, _ in values})},
    )
    return len(values)
