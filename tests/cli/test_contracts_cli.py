"""`fleet contracts draft` and `fleet contracts approve --as USER`: the same rules as the API
(the approver is operations above the contractor and never a member; audit entries), and
refusals in one line, in Chinese on a Chinese terminal, with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.pay.contract_models import Contract
from tests import factories
from tests.pay.test_contracts import world

ZH = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
EN = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
JUNE = ["--period", "2026-06", "--commission", "10", "--member", "li"]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, ["contracts", *args], env=env or EN)
    return done.exit_code, done.stdout, done.stderr


def contracts_now(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Contract)).one()


def test_draft_and_approve_on_the_command_line(
    engine: object, session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    session.commit()
    code, out, err = run(
        "draft",
        "六月承包",
        *JUNE,
        "--merchant",
        "M2",
        "--merchant",
        "M3",
        "--target-revenue",
        "100",
        "--target-active-rate",
        "85",
        "--threshold",
        "70",
        "--above-baseline",
        "--as",
        "ops_ls",
        "--json",
    )
    assert code == 0, err
    made = json.loads(out)
    assert (made["status"], made["merchant_codes"], made["commission_ppm"]) == (
        "draft",
        ["M2", "M3"],
        100_000,
    )
    assert (made["target_revenue_fen"], made["target_active_rate"]) == (10_000, 0.85)
    assert (made["threshold_pct"], made["cap_pct"], made["above_baseline"]) == (70, 150, True)
    assert made["created_by_name"] == "ops_ls"
    cid = str(made["id"])
    # Staff may not approve; a sibling county's operations do not see it; nothing changes.
    code, out, err = run("approve", cid, "--as", "li")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, out, err = run("approve", cid, "--as", "ops_lb")
    assert (code, err.strip()) == (1, f"error: contract {cid} not found")
    code, out, err = run("approve", cid, "--as", "ops_ls")
    assert code == 0, err
    assert out.startswith(f"#{cid} 六月承包: running, approved by Ops_Ls (ops_ls); baseline ")
    code, out, err = run("approve", cid, "--as", "ops_ls", env=ZH)
    assert code == 1
    assert err.strip() == f"错误：承包合同 {cid} 状态为“进行中”：只有草稿可以审批"
    session.expire_all()
    actions = session.exec(
        select(AuditEntry.action, AuditEntry.actor_name)
        .where(AuditEntry.entity == "contract")
        .order_by(col(AuditEntry.id))
    ).all()
    assert actions == [("create_contract", "ops_ls"), ("approve_contract", "ops_ls")]


def test_a_member_does_not_approve_their_own_contract(
    engine: object, session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    factories.user(session, "ops_ls1", Role.branch_ops, "LS1")
    session.commit()
    code, out, err = run(
        "draft", "自己的", *JUNE, "--member", "ops_ls1", "--branch", "LS1", "--as", "ops_ls1"
    )
    assert code == 0, err
    cid = out.split()[0].lstrip("#")
    code, out, err = run("approve", cid, "--as", "ops_ls1", env=ZH)
    assert code == 1 and err.count("\n") == 1 and err.startswith("错误：")
    assert "Traceback" not in err and "approved by someone" not in err
    session.expire_all()
    assert session.exec(select(Contract.status)).one() == "draft"


def test_refusals_are_one_line_in_the_terminals_language(
    engine: object, session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    session.commit()
    # No portfolio, or two: refused before anything is read.
    code, _, err = run("draft", "x", *JUNE, env=ZH)
    assert (code, err.strip()) == (
        1,
        "错误：请用 --branch、--market 或 --merchant 三者之一给出承包范围",
    )
    code, _, err = run("draft", "x", *JUNE, "--branch", "LS", "--merchant", "M1")
    assert (code, err.strip()) == (
        1,
        "error: give the portfolio as one of --branch, --market or --merchant",
    )
    # A cap under 100%: named.
    code, _, err = run("draft", "x", *JUNE, "--merchant", "M1", "--cap", "90", env=ZH)
    assert code == 1 and err.startswith("错误：") and err.count("\n") == 1
    assert "cap_pct" not in err
    # A portfolio another contract covers in the same days: the other one is listed.
    assert run("draft", "first", *JUNE, "--merchant", "M1", "--as", "ops_ls")[0] == 0
    code, _, err = run("draft", "second", *JUNE, "--branch", "LS", "--as", "ops_ls", env=ZH)
    assert code == 1 and "#1 first (2026-06: M1)" in err and err.startswith("错误：")
    # An unknown user to act as.
    code, _, err = run("draft", "x", *JUNE, "--merchant", "M2", "--as", "nobody")
    assert (code, err.strip()) == (1, "error: user nobody not found")
    assert contracts_now(session) == 1
