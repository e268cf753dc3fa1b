"""A contract's statement as a workbook for payroll: the terms and figures, each member's
share, and one row per line (unit, baseline, clawback) whose amounts add up to the total."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from fleet.core import sheets
from fleet.pay.contract_models import ContractPublic, LineKind, Statement

KIND = {
    LineKind.unit: "终端 Unit",
    LineKind.baseline: "基数 Baseline",
    LineKind.clawback: "追回 Clawback",
}
HEADER = [
    "类型 Kind",
    "终端 SN",
    "商户 Merchant",
    "商户编号 Merchant code",
    "网点 Branch",
    "激活月份 Activated in",
    "回落日期 Fell back on",
    "交易笔数 Transactions",
    "净收益（元）Net revenue (yuan)",
    "提成（元）Commission (yuan)",
]


def yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def shares(total_fen: int, members: int) -> list[int]:
    """The total split equally (in fen), the first members taking the odd fen."""
    if members <= 0:
        return []
    base, extra = divmod(abs(total_fen), members)
    sign = -1 if total_fen < 0 else 1
    return [sign * (base + (1 if n < extra else 0)) for n in range(members)]


def title(contract: ContractPublic, statement: Statement) -> str:
    if statement.final:
        state = "结算 Settlement" if statement.settled else "结算（未定稿）Settlement (not final)"
    else:
        state = "月度计提 Monthly accrual"
    return f"{contract.name} 承包{state} {statement.period} ({statement.start} – {statement.end})"


def write_xlsx(contract: ContractPublic, statement: Statement, path: Path) -> None:
    """The statement of `contract` as a workbook at `path`."""
    book = Workbook()
    summary = book.active
    summary.title = "汇总 Summary"
    rows: list[tuple[str, object]] = [
        ("合同 Contract", f"#{contract.id} {contract.name}"),
        ("承包人 Held by", "、".join(f"{m.full_name} ({m.username})" for m in contract.members)),
        ("网点 Branch", f"{contract.branch_name} ({contract.branch_code})"),
        ("承包范围 Portfolio", contract.portfolio_label),
        ("承包期 Period", contract.period),
        ("提成比例 Commission", f"{contract.commission_ppm / 10_000:g}%"),
        ("仅超基数部分 Only above the baseline", "是 yes" if contract.above_baseline else "否 no"),
        ("起付线 Threshold", f"{contract.threshold_pct}%"),
        ("封顶 Cap", f"{contract.cap_pct}%"),
        ("目标动户率 Target active rate", contract.target_active_rate),
        ("目标收益（元）Target revenue (yuan)", yuan(statement.target_revenue_fen)),
        ("终端数 Units", statement.units),
        ("动户率 Active rate", statement.active_rate),
        ("净收益（元）Net revenue (yuan)", yuan(statement.net_fen)),
        ("基数（元）Baseline (yuan)", yuan(statement.baseline_fen)),
        ("达成率 Attainment", round(statement.attainment, 4)),
        ("计发系数 Factor", round(statement.factor, 4)),
        ("合计提成（元）Total (yuan)", yuan(statement.total_fen)),
    ]
    sheets.append(summary, [title(contract, statement)])
    for label, value in rows:
        sheets.append(summary, [label, value])
    sheets.append(summary, [])
    sheets.append(summary, ["分配 Shares", "提成（元）Commission (yuan)"])
    for member, share in zip(
        contract.members, shares(statement.total_fen, len(contract.members)), strict=True
    ):
        sheets.append(summary, [f"{member.full_name} ({member.username})", yuan(share)])
    lines = book.create_sheet("明细 Lines")
    sheets.append(lines, HEADER)
    for line in statement.lines:
        sheets.append(
            lines,
            [
                KIND[line.kind],
                line.sn,
                line.merchant_name,
                line.merchant_code,
                line.branch_code,
                line.month,
                line.lapsed_on,
                line.txn_count,
                yuan(line.net_fen),
                yuan(line.commission_fen),
            ],
        )
    sheets.append(lines, ["合计 Total", *[None] * 8, yuan(statement.total_fen)])
    book.save(path)
