"""`fleet fees` as a user runs it: the example schedule, setting one from a file, refusals."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from tests.terminal import EN

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_example_schedule_is_marked_and_can_be_replaced(engine: Engine, tmp_path: Path) -> None:
    code, out, _ = run("fees", "example", "--from", "2021-09-30", "--apply")
    assert code == 0
    assert out.count("示例费率") == 9
    code, out, _ = run("fees", "show", "--json")
    rows = json.loads(out)
    assert len(rows) == 9 and all(r["example"] for r in rows)
    own = [
        {
            "txn_type": "transfer",
            "merchant_class": "standard",
            "effective_from": "2026-01-01",
            "fixed_fen": 150,
        }
    ]
    (tmp_path / "fees.json").write_text(json.dumps(own), encoding="utf-8")
    code, out, _ = run("fees", "set", str(tmp_path / "fees.json"))
    # (a terminal with no language of its own: FLEET_DEFAULT_LANGUAGE, Chinese)
    assert (code, out.strip()) == (0, "费率表已设置：1 行")
    code, out, _ = run("fees", "show")
    assert (
        out.strip()
        == "转账 标准类商户 2026-01-01 → …：150 分 + 百万分之 0，最低 0 分；网络服务费 百万分之 0"
    )


def test_a_bad_schedule_is_one_line_and_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    run("fees", "example", "--apply")
    bad = [
        {"txn_type": "transfer", "merchant_class": "standard", "effective_from": d, "min_fen": -1}
        for d in ("2026-01-01", "2026-02-01")
    ]
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    code, _, err = run("fees", "set", str(tmp_path / "bad.json"), env=EN)
    assert code == 1
    assert err.strip() == (
        "error: fees cannot be negative: rows 1 (transfer/standard 2026-01-01),"
        " 2 (transfer/standard 2026-02-01)"
    )
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    code, _, err = run("fees", "set", str(tmp_path / "junk.json"), env=EN)
    assert code == 1 and err.startswith("error: ")
    assert len(json.loads(run("fees", "show", "--json")[1])) == 9
    code, _, err = run("fees", "class", "NOPE", "gold")
    assert code == 1 and "gold" in err
