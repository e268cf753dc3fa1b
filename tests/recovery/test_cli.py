"""`fleet recovery suggest|list` and `fleet redeploy suggest` as a script runs them."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.db import session_scope
from tests import factories
from tests.recovery.conftest import Region

runner = CliRunner()


def run(*args: str, lang: str = "en") -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": lang})
    return result.exit_code, result.stdout, result.stderr


def test_suggest_prints_reasons_and_raises_on_request(region: Region) -> None:
    code, out, err = run("recovery", "suggest", "--branch", "A", "--limit", "2")
    assert (code, err) == (0, "")
    assert out.startswith("2 of 4 units suggested for recovery (--all shows every one)")
    assert (
        "[Merchant closed or moved]" in out
        and "The merchant record says the merchant has closed" in out
    )
    code, out, _ = run("recovery", "suggest", "--branch", "A", "--limit", "2", "--all")
    assert code == 0 and out.startswith("4 units suggested for recovery\n")
    # The reasons in the user's language (the locale's): worded from one catalogue.
    code, out, _ = run("recovery", "suggest", "--branch", "A", "--limit", "2", lang="zh_CN.UTF-8")
    assert code == 0 and "商户档案显示商户已关门" in out
    assert out.startswith("建议回收的终端共 4 台，显示前 2 台（加 --all 显示全部）")
    assert "[商户已关闭或搬迁]" in out and "依据：状态 " in out

    code, out, _ = run("recovery", "suggest", "--branch", "B", "--json")
    assert code == 0
    body = json.loads(out)
    assert (body["total"], body["shown"]) == (1, 1)
    [only] = body["items"]
    assert (only["sn"], only["rule"]) == ("UB", "never_used")
    assert set(only["evidence"]) >= {"usage", "merchant_status", "visits"}

    code, out, _ = run("recovery", "suggest", "--raise", "--limit", "1")
    assert code == 0 and out.rstrip().endswith("5 requests raised")
    code, out, _ = run("recovery", "list", "--json")
    assert code == 0 and json.loads(out)["total"] == 5 == len(json.loads(out)["items"])
    code, out, _ = run("recovery", "list", "--limit", "2")
    assert code == 0 and out.startswith("2 of 5 pending requests (--all shows every one)")
    code, out, _ = run("recovery", "list", "--branch", "B")
    assert code == 0 and out.startswith("1 pending requests")


def test_bad_input_is_one_line_and_non_zero(region: Region) -> None:
    code, _, err = run("recovery", "list", "--status", "maybe")
    assert code == 1 and err.startswith("error: --status 'maybe'")
    code, _, err = run("recovery", "suggest", "--branch", "NOPE")
    assert code == 1 and "NOPE" in err


def test_redeploy_suggest_lists_stock_with_targets(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        factories.terminal(session, "NEW1", "A1")
    code, out, _ = run("redeploy", "suggest", "--json")
    assert code == 0
    [unit] = json.loads(out)["items"]
    assert unit["sn"] == "NEW1" and unit["targets"][0]["market_code"] == "MKA"
    assert [p["merchant_code"] for p in unit["targets"][0]["prospects"]] == ["MA7", "MA8", "MA9"]
    code, out, _ = run("redeploy", "suggest")
    assert code == 0 and out.startswith("1 in-stock units")
    assert "市场MKA (Hardware)" in out and "merchants: MA7 商户MA7" in out
    code, out, _ = run("redeploy", "suggest", lang="zh")
    assert "市场MKA（五金）" in out
    assert out.startswith("在库终端共 1 台，等待最久的在前\n") and "商户：MA7 商户MA7" in out


def test_a_cut_stock_list_says_so_and_how_to_see_the_rest(engine: Engine, region: Region) -> None:
    """`fleet redeploy suggest` showed 20 of 380 units under "20 in-stock units"."""
    with session_scope(engine) as session:
        for n in range(3):
            factories.terminal(session, f"NEW{n}", "A1")
    code, out, _ = run("redeploy", "suggest", "--limit", "2")
    assert code == 0
    assert out.startswith("2 of 3 in-stock units, longest waiting first (--all shows every one)")
    assert "网点A1 (A1)" in out  # the branch by name, its code after
    body = json.loads(run("redeploy", "suggest", "--limit", "2", "--json")[1])
    assert (body["total"], body["shown"], len(body["items"])) == (3, 2, 2)
    code, out, _ = run("redeploy", "suggest", "--limit", "2", "--all")
    assert out.startswith("3 in-stock units, longest waiting first\n")
    assert out.count("\nNEW") == 3
