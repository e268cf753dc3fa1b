"""Prospects: merchants without a terminal, imported from branch records and scored 0-100.

A branch knows merchants who bring cash to the counter often; they are the ones a unit would
save a trip. A file of them (CSV or XLSX, English or Chinese headers) creates the merchants
fleet does not know yet (their market found from their location, as for any merchant) and
records how often they come and how much they bring. A merchant already known keeps its
stored details; only its counter figures are recorded.

Score = 100 x (0.35 visits + 0.25 amount + 0.20 in a market + 0.20 trade), where visits is
counter cash visits a month / 20 (capped at 1), amount is log10(average yuan / 1,000) / 2
(1,000 yuan: 0, 10,000: 0.5, 100,000 or more: 1), trade is how units of the merchant's trade
do (as in the market ranking); without branch records visits and amount count 0.25 each.
A merchant with a unit, or not open, scores 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Field, Session, SQLModel, col, select

from fleet.core.access import Actor, Permission, Role
from fleet.core.db import utcnow
from fleet.core.errors import FleetError, Invalid
from fleet.core.geo import Datum, to_wgs84
from fleet.core.i18n import texts_for
from fleet.core.phrases import Phrase, parts, percent, phrase, say, word, yuan
from fleet.imports import files
from fleet.imports import values as v
from fleet.imports.columns import Column, header_key
from fleet.inventory import service as inventory
from fleet.inventory.geocode import Geocoder
from fleet.inventory.models import (
    AT_MERCHANT,
    Branch,
    Market,
    Merchant,
    MerchantCreate,
    MerchantStatus,
    Terminal,
)
from fleet.markets import coverage as cov
from fleet.markets import ranking
from fleet.markets.models import Prospect
from fleet.scoring.models import TerminalScore

VISITS_FULL = 20.0  # counter cash visits a month that count fully (about every working day)
NO_RECORD = 0.25  # what visits and amount count when the branch has no record

COLUMNS: tuple[Column, ...] = (
    Column("code", ("商户编号",), required=True),
    Column("name", ("商户名称",)),
    Column("category", ("行业",)),
    Column("address", ("地址",)),
    Column("lat", ("纬度",), parse=v.number),
    Column("lng", ("经度",), parse=v.number),
    Column("coord_system", ("坐标系",), parse=v.datum),
    Column("opening_hours", ("营业时间",)),
    Column("contact_name", ("联系人",)),
    Column("phone", ("联系电话",)),
    Column("branch_code", ("所属网点编号", "网点编号", "机构号")),
    Column("staff_username", ("客户经理工号",)),
    Column("counter_visits_month", ("月均柜面现金次数", "柜面现金次数", "月均到柜次数"),
           parse=v.number),
    Column("avg_cash_yuan", ("平均现金金额", "笔均现金金额", "平均存现金额(元)", "平均存现金额"),
           parse=v.number),
)  # fmt: skip
_LOOKUP = {header_key(n): c for c in COLUMNS for n in (c.name, *c.aliases)}
_MERCHANT_FIELDS = ("name", "category", "address", "lat", "lng", "opening_hours", "contact_name",
                    "phone", "branch_code", "staff_username")  # fmt: skip


@dataclass
class ProspectImport:
    """What a prospect import did."""

    rows: int = 0
    merchants_created: int = 0
    records_created: int = 0
    records_updated: int = 0
    with_terminal: int = 0  # known merchants that already hold a unit: recorded, score 0
    ungeocoded: list[str] = field(default_factory=list)
    merchant_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ProspectScore(SQLModel):
    priority: int
    why: Phrase  # the reason: a phrase (fleet.core.phrases), worded where it is shown


class ProspectRow(SQLModel):
    merchant_id: int
    code: str
    name: str
    category: str
    market_code: str | None
    branch_code: str | None
    lat: float | None
    lng: float | None
    counter_visits_month: float | None
    avg_cash_yuan: float | None
    priority: int
    why: Phrase = Field(description="The reason as a phrase: a code and its values.")
    reason: str = Field(default="", description="The reason in words (English).")


def require_importer(actor: Actor) -> None:
    actor.require(Permission.import_prospects)


def as_operator(actor: Actor) -> Actor:
    """The actor with the rights of branch operations over merchants and units, same name.

    Marketing may create prospect merchants and place campaign units, which the inventory
    services reserve to operations: the campaign or import is what authorises it here.
    """
    if actor.can(Permission.write_inventory) and actor.can(Permission.change_lifecycle):
        return actor
    return Actor(actor.username, Role.branch_ops, actor.user_id, actor.branch_ids)


# --- import -----------------------------------------------------------------------------------


def _header(headers: list[str]) -> tuple[dict[int, Column], list[dict[str, Any]]]:
    layout: dict[int, Column] = {}
    problems: list[dict[str, Any]] = []
    for position, text in enumerate(headers):
        key = header_key(text)
        if not key:
            continue
        column = _LOOKUP.get(key)
        if column is None:
            known = ", ".join(c.name for c in COLUMNS)
            problems.append({"row": 1, "column": text, "reason": f"unknown column; known: {known}"})
        elif column in layout.values():
            problems.append({"row": 1, "column": text, "reason": f"{column.label} appears twice"})
        else:
            layout[position] = column
    if "code" not in {c.name for c in layout.values()}:
        problems.append({"row": 1, "column": "code", "reason": "required column code (商户编号)"})
    return layout, problems


def _parse(
    number: int, cells: list[str], layout: dict[int, Column]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    values: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    for position, column in layout.items():
        text = cells[position] if position < len(cells) else ""
        if not text:
            continue
        try:
            values[column.name] = column.parse(text)
        except ValueError as exc:
            problems.append({"row": number, "column": column.name, "reason": str(exc)})
    lat, lng = values.get("lat"), values.get("lng")
    if lat is not None and lng is not None:
        values["lat"], values["lng"] = to_wgs84(lat, lng, values.get("coord_system", Datum.wgs84))
    elif lat is not None or lng is not None:
        problems.append({"row": number, "column": "lat", "reason": "give both lat and lng"})
    for name in ("counter_visits_month", "avg_cash_yuan"):
        if values.get(name, 0) < 0:
            problems.append({"row": number, "column": name, "reason": "must not be negative"})
    return values, problems


def import_prospects(
    session: Session, actor: Actor, path: Path, *, filename: str | None = None
) -> ProspectImport:
    """Imports branch records of prospects: every row, or nothing and every bad row listed."""
    require_importer(actor)
    name = filename or path.name
    table = files.read_table(path, name)
    layout, problems = _header(table.headers)
    if problems:
        raise Invalid(
            "{file}: {problem}",
            details={"errors": problems},
            file=name,
            problem=problems[0]["reason"],
        )
    report = ProspectImport(rows=len(table.rows))
    parsed = []
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        values, row_problems = _parse(number, cells, layout)
        code = values.get("code", "")
        if code in seen:
            row_problems.append(
                {"row": number, "column": "code", "reason": f"{code} is also on row {seen[code]}"}
            )
        seen.setdefault(code, number)
        problems += row_problems
        parsed.append((number, values))
    if problems:
        raise Invalid(
            "{file}: {bad} rows have errors, so nothing was imported; first: row {row}: {problem}",
            details={"errors": problems},
            file=name,
            bad=len({p["row"] for p in problems}),
            row=problems[0]["row"],
            problem=problems[0]["reason"],
        )
    writer = as_operator(actor)
    geocoder = Geocoder(session)
    for number, values in parsed:
        try:
            _write(session, actor, writer, values, geocoder, report)
        except FleetError as exc:
            problems.append({"row": number, "column": None, "reason": exc.message})
    geocoder.save()
    if problems:
        raise Invalid(
            "{file}: row {row}: {problem}; nothing was imported",
            details={"errors": problems},
            file=name,
            row=problems[0]["row"],
            problem=problems[0]["reason"],
        )
    return report


def _write(
    session: Session,
    actor: Actor,
    writer: Actor,
    values: dict[str, Any],
    geocoder: Geocoder,
    report: ProspectImport,
) -> None:
    code = values["code"]
    merchant = inventory.get_or_none(session, Merchant, code=code)
    if merchant is None:
        for needed in ("name", "branch_code"):
            if not values.get(needed):
                raise Invalid(
                    "merchant {code} is new: {field} is required", code=code, field=needed
                )
        if values.get("lat") is None and values.get("address"):
            point = geocoder.locate(values["address"])
            if point is None:
                report.ungeocoded.append(values["address"])
            else:
                values["lat"], values["lng"] = point
        given = {k: values[k] for k in _MERCHANT_FIELDS if values.get(k) is not None}
        try:
            data = MerchantCreate(code=code, **given)
        except ValidationError as exc:
            raise Invalid(str(exc.errors()[0]["msg"])) from None
        merchant = inventory.create_merchant(session, writer, data)
        report.merchants_created += 1
    else:
        inventory.merchant_by_code(session, actor, code)  # 404 outside the actor's subtree
    record = session.execute(
        select(Prospect).where(col(Prospect.merchant_id) == merchant.id)
    ).scalar_one_or_none()
    if record is None:
        record = Prospect(merchant_id=merchant.id or 0, source=f"import by {actor.username}")
        report.records_created += 1
    else:
        report.records_updated += 1
    record.counter_visits_month = values.get("counter_visits_month")
    record.avg_cash_yuan = values.get("avg_cash_yuan")
    record.updated_at = utcnow()
    session.add(record)
    if _holds_unit(session, [merchant.id or 0]):
        report.with_terminal += 1
    report.merchant_ids.append(merchant.id or 0)
    session.flush()


# --- scoring ----------------------------------------------------------------------------------


def _holds_unit(session: Session, merchant_ids: list[int]) -> set[int]:
    stmt = select(col(Terminal.merchant_id)).where(
        col(Terminal.merchant_id).in_(merchant_ids),
        col(Terminal.state).in_(sorted(s.value for s in AT_MERCHANT)),
    )
    return {m for (m,) in session.execute(stmt)}


def _figure(value: float) -> int | float:
    """A count as it reads: 20 rather than 20.0."""
    return int(value) if value == int(value) else round(value, 2)


def score_prospects(
    session: Session, merchant_ids: list[int], *, as_of: date | None = None
) -> dict[int, ProspectScore]:
    """Priority 0-100 and a one-line reason (a phrase) for each merchant."""
    if not merchant_ids:
        return {}
    merchants = {
        m.id: m
        for m in session.execute(
            select(Merchant).where(col(Merchant.id).in_(merchant_ids))
        ).scalars()
    }
    markets = {
        m.id: m
        for m in session.execute(
            select(Market).where(col(Market.id).in_({m.market_id for m in merchants.values()}))
        ).scalars()
    }
    records = {
        r.merchant_id: r
        for r in session.execute(
            select(Prospect).where(col(Prospect.merchant_id).in_(merchant_ids))
        ).scalars()
    }
    holding = _holds_unit(session, merchant_ids)
    day = cov.scored_date(session, as_of)
    fleet = cov.fleet_tally(session, day)
    trades = cov.trade_tallies(session, day)
    by_category = cov.tallies(session, day, col(TerminalScore.category))
    out: dict[int, ProspectScore] = {}
    for merchant_id in merchant_ids:
        merchant = merchants.get(merchant_id)
        if merchant is None:
            continue
        market = markets.get(merchant.market_id)
        if merchant_id in holding:
            out[merchant_id] = ProspectScore(priority=0, why=phrase("prospect_has_unit"))
            continue
        if merchant.status is not MerchantStatus.open:
            out[merchant_id] = ProspectScore(priority=0, why=phrase("prospect_not_open"))
            continue
        trade = trades.get(market.category.value) if market else by_category.get(merchant.category)
        out[merchant_id] = _score_one(merchant, market, records.get(merchant_id), trade, fleet)
    return out


def _score_one(
    merchant: Merchant,
    market: Market | None,
    record: Prospect | None,
    trade: cov.Tally | None,
    fleet: cov.Tally,
) -> ProspectScore:
    visits = record.counter_visits_month if record else None
    cash = record.avg_cash_yuan if record else None
    visits_part = NO_RECORD if visits is None else min(1.0, visits / VISITS_FULL)
    cash_part = (
        NO_RECORD if cash is None else min(1.0, max(0.0, math.log10(max(cash, 1) / 1000) / 2))
    )
    trade_score, rate, _ratio = ranking.trade_part(trade, fleet)
    priority = 100 * (
        0.35 * visits_part + 0.25 * cash_part + 0.20 * (market is not None) + 0.20 * trade_score
    )
    if visits is None and cash is None:
        counter = phrase("prospect_no_records")
    elif cash is None:
        counter = phrase("prospect_counter", visits=_figure(visits or 0))
    else:
        counter = phrase("prospect_counter_cash", visits=_figure(visits or 0), cash=yuan(cash))
    # Before anything is scored there is no rate to quote.
    rated = {} if rate is None else {"rate": percent(rate)}
    if market is not None:
        category = word("market_category", market.category)
        code = "prospect_in_market" if rated else "prospect_in_market_unscored"
        where = phrase(code, market=market.name, trade=category, **rated)
    else:
        code = "prospect_outside" if rated else "prospect_outside_unscored"
        where = phrase(code, trade=merchant.category, **rated)
    return ProspectScore(priority=round(priority), why=parts(counter, where))


def list_prospects(
    session: Session,
    actor: Actor,
    *,
    market_id: int | None = None,
    limit: int = 100,
) -> list[ProspectRow]:
    """Merchants with branch records and no unit, in the actor's subtree, best first."""
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000")
    return ranked_prospects(session, actor, market_id=market_id)[:limit]


def ranked_prospects(
    session: Session, actor: Actor, *, market_id: int | None = None
) -> list[ProspectRow]:
    """Every prospect of `list_prospects`, best first (the list it cuts)."""
    actor.require(Permission.read_inventory)
    stmt = select(Merchant, Prospect).join(Prospect, col(Prospect.merchant_id) == col(Merchant.id))
    if actor.branch_ids is not None:
        stmt = stmt.where(col(Merchant.branch_id).in_(actor.branch_ids))
    if market_id is not None:
        stmt = stmt.where(col(Merchant.market_id) == market_id)
    pairs = list(session.execute(stmt))
    scores = score_prospects(session, [m.id or 0 for m, _ in pairs])
    english = texts_for("en")
    markets = inventory.codes(session, Market, {m.market_id for m, _ in pairs})
    branches = inventory.codes(session, Branch, {m.branch_id for m, _ in pairs})
    rows = [
        ProspectRow(
            merchant_id=m.id or 0,
            code=m.code,
            name=m.name,
            category=m.category,
            market_code=markets.get(m.market_id or 0),
            branch_code=branches.get(m.branch_id),
            lat=m.lat,
            lng=m.lng,
            counter_visits_month=p.counter_visits_month,
            avg_cash_yuan=p.avg_cash_yuan,
            priority=scores[m.id or 0].priority,
            why=scores[m.id or 0].why,
            reason=say(scores[m.id or 0].why, english),
        )
        for m, p in pairs
        if scores[m.id or 0].priority > 0
    ]
    rows.sort(key=lambda r: (-r.priority, r.code))
    return rows
