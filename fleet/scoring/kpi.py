"""KPIs over the stored scores: 动户率, 使用率, counts by status and activations, by group.

For one as-of date and the actor's scope (optionally narrowed to a branch's subtree):
- deployed: terminals scored on that date (deployed on it);
- 动户率 active rate = (active + declining) / deployed;
- 使用率 usage rate = successful financial transactions over the last `active_days` days
  (the scores' count_30) / deployed / active_days: transactions per terminal per day;
- activations (激活): terminals that were idle, dormant or never used on the comparison date
  and are active or declining now. The comparison date is the latest scored date at least a
  week earlier, or failing that the earliest scored date within the week before; so with
  weekly scoring (`fleet score --weeks`) or nightly scoring alike, each point counts a week;
- with `weeks` > 1, the same figures at each of the `weeks` weekly as-of dates ending with
  it (as_of - 7k, oldest first; dates never scored are left out).

Grouping: `branch` rows are the subtrees of the direct children of a root branch (the
`branch_id` asked for, else the top of the actor's scope), plus the root's own terminals,
so that a city branch sees its counties and a county its outlets; `market`, `category`
(the merchant's) and `staff` (the merchant's responsible staff member) are flat.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Table, and_, func, select
from sqlmodel import Field, Session, SQLModel, col

from fleet.auth.models import User
from fleet.core.access import Actor, Permission
from fleet.core.errors import Invalid, NotFound
from fleet.core.memo import memo
from fleet.core.overrides import effective_settings
from fleet.inventory.models import Branch, Market
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore, UsageStatus
from fleet.scoring.rules import ACTIVATABLE, ACTIVE

GroupBy = Literal["branch", "market", "category", "staff"]
KEY_COLUMN: dict[str, str] = {
    "branch": "branch_id",
    "market": "market_id",
    "category": "category",
    "staff": "staff_id",
}
MAX_WEEKS = 104
TOTAL = ("total",)  # the key of the all-groups row, unlike any group's key


class KpiPoint(SQLModel):
    as_of: date
    compared_with: date | None
    deployed: int
    active: int
    active_rate: float | None
    usage_rate: float | None
    activations: int | None


# What a row of the report is (KpiRow.kind): its label is data (a name) or English; the
# pages and the command line word the total, a branch's own units and the units of no group
# themselves, by this code.
RowKind = Literal["group", "own", "none", "total"]


class KpiRow(SQLModel):
    id: int | None = None
    code: str | None = None
    label: str = Field(
        description="The group's name (a branch's, market's or staff member's), its code for "
        "a category, or English for the rows `kind` names: 'Total', 'not in a market', "
        "'unassigned'."
    )
    kind: RowKind = Field(
        default="group",
        description="group: one group; own: the branch's own units, not those below it "
        "(label: the branch's name); none: the units of no market or staff member; total: "
        "every group.",
    )
    deployed: int
    active: int
    active_rate: float | None
    usage_rate: float | None
    by_status: dict[str, int]
    txn_30: int
    amount_30_fen: int
    activations: int | None
    compared_with: date | None
    weeks: list[KpiPoint]


class KpiReport(SQLModel):
    as_of: date
    group_by: str | None
    branch_id: int | None
    window_days: int
    rows: list[KpiRow]
    total: KpiRow


@dataclass
class _Tally:
    by_status: Counter[str] = field(default_factory=Counter)
    txn_30: int = 0
    amount_30: int = 0
    activations: int = 0

    def add(self, other: _Tally) -> None:
        self.by_status.update(other.by_status)
        self.txn_30 += other.txn_30
        self.amount_30 += other.amount_30
        self.activations += other.activations


@dataclass
class _Group:
    key: Any
    id: int | None
    code: str | None
    label: str
    always: bool = False  # shown even with no terminals (a branch of the tree)
    kind: RowKind = "group"


def kpis(
    session: Session,
    actor: Actor,
    *,
    as_of: date | None = None,
    group_by: GroupBy | None = None,
    weeks: int = 1,
    branch_id: int | None = None,
) -> KpiReport:
    """KPIs as of a scored date (the latest by default) for the actor's scope, by group."""
    actor.require(Permission.read_inventory)
    question = ("kpis", as_of, group_by, weeks, branch_id)
    return memo.answer(
        session,
        actor,
        question,
        lambda: _kpis(
            session, actor, as_of=as_of, group_by=group_by, weeks=weeks, branch_id=branch_id
        ),
    )


def _kpis(
    session: Session,
    actor: Actor,
    *,
    as_of: date | None,
    group_by: GroupBy | None,
    weeks: int,
    branch_id: int | None,
) -> KpiReport:
    if group_by is not None and group_by not in KEY_COLUMN:
        raise Invalid(
            "cannot group by {group}; use branch, market, category or staff", group=repr(group_by)
        )
    if not 1 <= weeks <= MAX_WEEKS:
        raise Invalid("weeks must be between 1 and {most}", most=MAX_WEEKS)
    stored = scoring.stored_as_ofs(session)
    if not stored:
        raise NotFound("nothing has been scored yet; run `fleet score` first")
    as_of = as_of or stored[-1]
    if as_of not in stored:
        raise NotFound("no scores as of {day}; run `fleet score --as-of {day}` first", day=as_of)
    scope = scoring.scope_branch_ids(session, actor, branch_id)
    folds, groups = _groups(session, actor, group_by, branch_id)
    scored = set(stored)
    weekly = (as_of - timedelta(days=7 * k) for k in range(weeks - 1, -1, -1))
    dates = [d for d in weekly if d in scored]
    window_days = effective_settings(session).active_days

    per_date: dict[date, dict[Any, _Tally]] = {}
    compared: dict[date, date | None] = {}
    for day in dates:
        compared[day] = _comparison_date(stored, day)
        tallies = _tallies(session, day, compared[day], group_by, scope)
        per_date[day] = _fold(tallies, folds) if folds is not None else tallies

    if group_by not in (None, "branch"):
        found = {key for tallies in per_date.values() for key in tallies}
        groups = _flat_groups(session, group_by, found)
    rows = []
    for group in groups:
        row = _row(group, dates, per_date, compared, window_days)
        if group.always or any(p.deployed for p in row.weeks):
            rows.append(row)
    totals = {day: _sum(per_date[day].values()) for day in dates}
    total = _row(
        _Group(TOTAL, None, None, "Total", kind="total"),
        dates,
        {day: {TOTAL: t} for day, t in totals.items()},
        compared,
        window_days,
    )
    return KpiReport(
        as_of=as_of,
        group_by=group_by,
        branch_id=branch_id,
        window_days=window_days,
        rows=rows,
        total=total,
    )


def _comparison_date(stored: list[date], day: date) -> date | None:
    """The scored date to count activations against: a week or more before, else the earliest
    scored date in the week before."""
    week_before = day - timedelta(days=7)
    earlier = [d for d in stored if d <= week_before]
    if earlier:
        return earlier[-1]
    within = [d for d in stored if week_before < d < day]
    return within[0] if within else None


def _tallies(
    session: Session,
    day: date,
    compared_with: date | None,
    group_by: GroupBy | None,
    scope: frozenset[int] | None,
) -> dict[Any, _Tally]:
    """Per group key (None when not grouping): status counts, 30-day sums and activations."""
    table: Table = TerminalScore.__table__  # type: ignore[attr-defined]
    key = table.c[KEY_COLUMN[group_by]] if group_by else None
    where = [table.c.as_of == day]
    if scope is not None:
        where.append(table.c.branch_id.in_(scope))
    columns = [key] if key is not None else []
    stmt = (
        select(
            *columns,
            table.c.status,
            func.count(),
            func.sum(table.c.count_30),
            func.sum(table.c.amount_30_fen),
        )
        .where(*where)
        .group_by(*columns, table.c.status)
    )
    tallies: dict[Any, _Tally] = defaultdict(_Tally)
    for *group, status, count, txn_30, amount_30 in session.execute(stmt):
        tally = tallies[group[0] if group else None]
        tally.by_status[UsageStatus(status).value] += int(count)
        tally.txn_30 += int(txn_30 or 0)
        tally.amount_30 += int(amount_30 or 0)
    if compared_with is not None:
        before = table.alias("before")
        activated = (
            select(*columns, func.count())
            .select_from(
                table.join(
                    before,
                    and_(
                        before.c.terminal_id == table.c.terminal_id,
                        before.c.as_of == compared_with,
                    ),
                )
            )
            .where(
                *where,
                table.c.status.in_(sorted(ACTIVE)),
                before.c.status.in_(sorted(ACTIVATABLE)),
            )
            .group_by(*columns)
        )
        for *group, count in session.execute(activated):
            tallies[group[0] if group else None].activations += int(count)
    return dict(tallies)


def _sum(tallies: Any) -> _Tally:
    total = _Tally()
    for tally in tallies:
        total.add(tally)
    return total


def _fold(tallies: dict[Any, _Tally], folds: dict[int, int]) -> dict[Any, _Tally]:
    """Branch tallies summed into their groups (subtrees); branches in no group are dropped."""
    folded: dict[Any, _Tally] = defaultdict(_Tally)
    for branch_id, tally in tallies.items():
        if branch_id in folds:
            folded[folds[branch_id]].add(tally)
    return dict(folded)


def _row(
    group: _Group,
    dates: list[date],
    per_date: dict[date, dict[Any, _Tally]],
    compared: dict[date, date | None],
    window_days: int,
) -> KpiRow:
    points = []
    for day in dates:
        tally = per_date[day].get(group.key) or _Tally()
        deployed = sum(tally.by_status.values())
        active = sum(tally.by_status[s.value] for s in ACTIVE)
        points.append(
            KpiPoint(
                as_of=day,
                compared_with=compared[day],
                deployed=deployed,
                active=active,
                active_rate=round(active / deployed, 4) if deployed else None,
                usage_rate=round(tally.txn_30 / deployed / window_days, 4) if deployed else None,
                activations=tally.activations if compared[day] is not None else None,
            )
        )
    last = per_date[dates[-1]].get(group.key) or _Tally()
    now = points[-1]
    return KpiRow(
        id=group.id,
        code=group.code,
        label=group.label,
        kind=group.kind,
        deployed=now.deployed,
        active=now.active,
        active_rate=now.active_rate,
        usage_rate=now.usage_rate,
        by_status={s.value: last.by_status[s.value] for s in UsageStatus},
        txn_30=last.txn_30,
        amount_30_fen=last.amount_30,
        activations=now.activations,
        compared_with=now.compared_with,
        weeks=points,
    )


# --- groups ---------------------------------------------------------------------------------


def _groups(
    session: Session, actor: Actor, group_by: GroupBy | None, branch_id: int | None
) -> tuple[dict[int, int] | None, list[_Group]]:
    """The branch → group folding (for `branch`) and the groups known before counting."""
    if group_by != "branch":
        return None, []
    branches = {b.id: b for b in session.execute(select(Branch)).scalars()}
    children: dict[int | None, list[int]] = defaultdict(list)
    for b in sorted(branches.values(), key=lambda b: b.code):
        children[b.parent_id].append(b.id or 0)

    def sees(i: int | None) -> bool:
        return i is not None and actor.sees_branch(i)

    if branch_id is not None:
        roots = [branch_id]
    else:
        roots = [i for i, b in branches.items() if sees(i) and not sees(b.parent_id)]
        roots.sort(key=lambda i: branches[i].code)

    def subtree(root: int) -> list[int]:
        found, stack = [root], [root]
        while stack:
            for child in children[stack.pop()]:
                found.append(child)
                stack.append(child)
        return found

    folds: dict[int, int] = {}
    groups: list[_Group] = []
    if not roots:
        return folds, groups
    heads = children[roots[0]] if len(roots) == 1 else roots
    if len(roots) == 1:
        root = branches[roots[0]]
        folds[roots[0]] = roots[0]
        groups.append(_Group(roots[0], roots[0], root.code, root.name, kind="own"))
    for head in heads:
        for member in subtree(head):
            folds[member] = head
        groups.append(_Group(head, head, branches[head].code, branches[head].name, always=True))
    return folds, groups


def _flat_groups(session: Session, group_by: GroupBy, keys: set[Any]) -> list[_Group]:
    """One group per key found in the scores, labelled, sorted by code (none last)."""
    ids = {k for k in keys if k is not None}
    groups: list[_Group] = []
    if group_by == "market":
        stmt = select(col(Market.id), col(Market.code), col(Market.name)).where(
            col(Market.id).in_(ids)
        )
        groups = [_Group(i, i, code, name) for i, code, name in session.execute(stmt)]
        missing = "not in a market"
    elif group_by == "staff":
        stmt2 = select(col(User.id), col(User.username), col(User.full_name)).where(
            col(User.id).in_(ids)
        )
        groups = [_Group(i, i, u, n or u) for i, u, n in session.execute(stmt2)]
        missing = "unassigned"
    else:
        groups = [_Group(k, None, k, k or "—") for k in ids]
        missing = "—"
    groups.sort(key=lambda g: g.code or "")
    if None in keys:
        groups.append(_Group(None, None, None, missing, kind="none"))
    return groups
