"""Feeds as banks send them: exact timestamps, failures a cron job notices, a bank's own
mapping (Chinese targets, GBK, title and summary lines, the file's own count), masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.db import session_scope
from fleet.core.errors import Invalid
from fleet.feeds import service
from fleet.feeds.models import FeedSource, IngestRun, RejectedRow, RunStatus, Txn
from tests.factories import SYSTEM
from tests.feeds.pulling import ADMIN, FeedServer, good_items, world
from tests.feeds.util import line, rejects, small_fleet, stored, write_feed

__all__ = ["world"]  # a fixture
runner = CliRunner()
BANK_HEADER = "LSH|ZDH|JYSJ|JE|JYLX|ZT|KH"
BANK_COLUMNS = {
    "LSH": "txn_ref",
    "ZDH": "terminal_sn",
    "JYSJ": "occurred_at",
    "JE": "amount",
    "JYLX": "txn_type",
    "ZT": "status",
}


def ingest(path: Path, **options: object) -> service.IngestReport:
    return service.ingest_file(path, actor=SYSTEM, **options)  # type: ignore[arg-type]


def write_mapping(path: Path, data: dict[str, object], encoding: str = "utf-8") -> Path:
    path.write_bytes(json.dumps(data, ensure_ascii=False).encode(encoding))
    return path


def details(session: Session, run_id: int | None) -> list[str]:
    rows = session.execute(
        select(RejectedRow.detail)
        .where(col(RejectedRow.ingest_id) == run_id)
        .order_by(col(RejectedRow.line_no))
    ).all()
    return [d for (d,) in rows]


# --- strict times ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loose",
    [
        "2026050112291",  # 13 digits: a field short, not 12:29:01
        "20260501120060",  # second 60, not 12:01:00
        "20260501126000",  # minute 60
        "20260501250000",  # hour 25
        "202605011200000",  # a digit too many
    ],
)
def test_a_custom_format_is_matched_exactly(session: Session, tmp_path: Path, loose: str) -> None:
    small_fleet(session)
    mapping = write_mapping(
        tmp_path / "m.json",
        {"columns": BANK_COLUMNS, "delimiter": "|", "timestamp_format": "%Y%m%d%H%M%S"},
    )
    feed = write_feed(
        tmp_path / "f.txt",
        [
            "B1|T1|20260501122901|10.00|transfer|success|x",
            f"B2|T1|{loose}|10.00|transfer|success|x",
        ],
        header=BANK_HEADER,
    )
    report = ingest(feed, mapping_path=mapping, max_rejected_share=1.0)
    assert (report.accepted, report.rejected) == (1, 1)
    assert rejects(session, report.run_id) == [(3, "bad_timestamp")]
    assert details(session, report.run_id) == [
        f"'{loose}' is not a time in the format %Y%m%d%H%M%S"
    ]


@pytest.mark.parametrize(
    "loose",
    [
        "2026-05-01T12:00:0",  # one digit of seconds
        "2026-5-1 12:00:00",  # one-digit month and day
        "2026-05-01T24:00:00",  # hour 24
        "2026-05-01 12:00:60",  # second 60
        "2026-05-01T1:00:00",
    ],
)
def test_iso_times_are_matched_exactly(session: Session, tmp_path: Path, loose: str) -> None:
    small_fleet(session)
    feed = write_feed(
        tmp_path / "f.csv",
        [line("I1", at="2026-05-01 12:00:00.250"), line("I2", at=loose)],
    )
    report = ingest(feed, max_rejected_share=1.0)
    assert (report.accepted, report.rejected) == (1, 1)
    assert rejects(session, report.run_id) == [(3, "bad_timestamp")]
    [detail] = details(session, report.run_id)
    assert detail.startswith(f"'{loose}' is not an ISO 8601 time (YYYY-MM-DD hh:mm:ss")


# --- when a run fails -----------------------------------------------------------------------


def cli_ingest(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ingest", *args])
    return result.exit_code, result.stdout, result.stderr


def latest_run(session: Session) -> IngestRun:
    session.expire_all()
    return session.execute(
        select(IngestRun).order_by(col(IngestRun.id).desc()).limit(1)
    ).scalar_one()


def test_a_feed_with_every_line_refused_exits_non_zero(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    # A mapping without `values`: the bank's own codes are all unknown.
    mapping = write_mapping(tmp_path / "m.json", {"columns": BANK_COLUMNS, "delimiter": "|"})
    feed = write_feed(
        tmp_path / "f.txt",
        [f"B{n}|T1|2026-05-01 10:00:00|10.00|01|00|x" for n in range(3)],
        header=BANK_HEADER,
    )
    code, out, err = cli_ingest(str(feed), "--mapping", str(mapping), "--json")
    assert code == 1
    assert json.loads(out) == {
        "received": 3,
        "accepted": 0,
        "duplicate": 0,
        "rejected": 3,
        "rejects_path": None,
    }
    # the default language (a terminal that names none), as the report's
    assert err.strip() == "错误：未接收任何交易：全部 3 行均被拒绝"
    run = latest_run(session)
    assert (run.status, run.rejected) == (RunStatus.failed, 3)
    assert run.error == "nothing was accepted: all 3 lines were refused"
    # Even when any share of refusals is allowed, a feed that gave nothing fails.
    code, _, err = cli_ingest(str(feed), "--mapping", str(mapping), "--max-rejected-share", "1")
    assert code == 1 and "未接收任何交易" in err


def test_too_many_refused_lines_fail_the_run_but_keep_the_good_ones(
    session: Session, tmp_path: Path
) -> None:
    small_fleet(session)
    lines = [line(f"R{n}") for n in range(9)] + [line("BAD", amount="x")]
    feed = write_feed(tmp_path / "f.csv", lines)
    code, out, err = cli_ingest(str(feed))
    assert code == 1
    assert out.startswith("收到 10 行，接受 9 行，重复 0 行，拒绝 1 行")  # the default language
    assert err.startswith("错误：10 行中有 1 行被拒绝") and "--max-rejected-share" in err
    assert stored(session)["txns"] == 9  # what was good is kept
    run = latest_run(session)
    assert run.status == RunStatus.failed and "1 of 10 lines" in (run.error or "")
    # A re-run with a looser threshold: all duplicates and the same refusal, and it succeeds.
    code, out, _ = cli_ingest(str(feed), "--max-rejected-share", "0.2", "--json")
    assert code == 0
    assert json.loads(out)["duplicate"] == 9
    assert latest_run(session).status == RunStatus.succeeded


def test_a_feed_of_duplicates_only_succeeds(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    feed = write_feed(tmp_path / "f.csv", [line("D1"), line("D2")])
    assert cli_ingest(str(feed))[0] == 0
    code, out, _ = cli_ingest(str(feed), "--json")
    assert code == 0
    assert json.loads(out)["duplicate"] == 2
    assert latest_run(session).status == RunStatus.succeeded


# --- mappings -------------------------------------------------------------------------------


def test_chinese_targets_in_a_gbk_mapping(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    mapping = write_mapping(
        tmp_path / "映射.json",
        {
            "columns": {
                "流水": "交易流水号",
                "终端": "终端号",
                "时间": "交易时间",
                "金额": "amount",
            }
            | {"类型": "交易类型", "状态": "status"},
            "values": {
                "txn_type": {"01": "刷卡消费", "02": "转账"},
                "status": {"00": "成功", "99": "失败"},
            },
            "delimiter": "|",
        },
        encoding="gbk",
    )
    feed = write_feed(
        tmp_path / "f.txt",
        ["C1|T1|2026-05-01 10:00:00|10.00|01|00", "C2|T2|2026-05-01 10:00:00|5.00|02|99"],
        header="流水|终端|时间|金额|类型|状态",
        encoding="gbk",
    )
    report = ingest(feed, mapping_path=mapping)
    assert (report.accepted, report.rejected) == (2, 0)
    taken = session.execute(select(Txn.txn_ref, Txn.txn_type, Txn.status)).all()
    assert sorted((r, t, s.value if hasattr(s, "value") else s) for r, t, s in taken) == [
        ("C1", "card_payment", "success"),
        ("C2", "transfer", "failed"),
    ]


def test_a_toml_mapping_in_gbk(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    mapping = tmp_path / "bank.toml"
    mapping.write_bytes(
        (
            'delimiter = "|"\n[columns]\n"流水" = "txn_ref"\n"终端" = "terminal_sn"\n'
            '"时间" = "occurred_at"\n"金额" = "amount"\n"类型" = "txn_type"\n"状态" = "status"\n'
        ).encode("gbk")
    )
    feed = write_feed(
        tmp_path / "f.txt",
        ["T1R|T1|2026-05-01 10:00:00|10.00|转账|成功"],
        header="流水|终端|时间|金额|类型|状态",
    )
    assert ingest(feed, mapping_path=mapping).accepted == 1


def test_mapping_errors_name_the_mappings_own_keys(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    mapping = write_mapping(tmp_path / "m.json", {"columns": BANK_COLUMNS, "delimiter": "|"})
    typo = write_feed(
        tmp_path / "f.txt",
        ["B1|T1|2026-05-01 10:00:00|10.00|01|00|x"],
        header="LSH|ZDH|JYSJJ|JE|JYLX|ZT|KH",
    )
    with pytest.raises(Invalid) as caught:
        ingest(typo, mapping_path=mapping)
    assert caught.value.message.startswith(
        "the mapping's columns 'JYSJ' (occurred_at) are not in the header (found: LSH, ZDH, JYSJJ"
    )
    assert "--mapping" not in caught.value.message
    with pytest.raises(Invalid, match="maps to unknown '刷卡'"):
        write_mapping(tmp_path / "bad.json", {"values": {"txn_type": {"01": "刷卡"}}})
        ingest(typo, mapping_path=tmp_path / "bad.json")


def test_a_pipe_separated_header_suggests_its_delimiter(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    feed = write_feed(
        tmp_path / "f.txt",
        ["B1|T1|2026-05-01 10:00:00|10.00|transfer|success|M1"],
        header="txn_ref|terminal_sn|occurred_at|amount|txn_type|status|merchant_code",
    )
    with pytest.raises(Invalid) as caught:
        ingest(feed)
    assert caught.value.message == (
        "the header is not split by ','; it looks '|'-separated: "
        "set \"delimiter\" in the mapping to '|'"
    )


def bank_file(path: Path, records: int, said: int) -> Path:
    """A bank's export: a title block, the header, records, a summary line with a count."""
    body = [
        "某银行 收单交易明细",
        "导出日期: 2026-05-02",
        BANK_HEADER,
        *[f"B{n}|T1|20260501100000|10.00|01|00|x" for n in range(records)],
        f"合计|{said}|10.00",
        "",
    ]
    path.write_bytes("\n".join(body).encode("gbk"))
    return path


def bank_mapping(path: Path, **extra: object) -> Path:
    return write_mapping(
        path,
        {
            "columns": BANK_COLUMNS,
            "values": {"txn_type": {"01": "刷卡消费"}, "status": {"00": "成功"}},
            "timestamp_format": "%Y%m%d%H%M%S",
            "delimiter": "|",
            "skip_header_lines": 2,
            "skip_trailer_lines": 1,
        }
        | extra,
    )


def test_title_and_summary_lines_are_not_records(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    report = ingest(
        bank_file(tmp_path / "f.txt", 3, 3), mapping_path=bank_mapping(tmp_path / "m.json")
    )
    assert report.counts() == {
        "received": 3,
        "accepted": 3,
        "duplicate": 0,
        "rejected": 0,
        "rejects_path": None,
    }
    assert latest_run(session).status == RunStatus.succeeded


@pytest.mark.parametrize("where", [{"field": 2}, {"pattern": r"^合计\|([\d,]+)\|", "line": 1}])
def test_the_files_own_count_is_checked(
    session: Session, tmp_path: Path, where: dict[str, object]
) -> None:
    small_fleet(session)
    mapping = bank_mapping(tmp_path / "m.json", trailer_count=where)
    assert ingest(bank_file(tmp_path / "ok.txt", 3, 3), mapping_path=mapping).accepted == 3
    with pytest.raises(Invalid) as caught:
        ingest(bank_file(tmp_path / "short.txt", 4, 5), mapping_path=mapping)
    assert caught.value.message == "short.txt: the file says 5 lines; read 4"
    assert stored(session)["txns"] == 3  # the short file's run kept nothing
    run = latest_run(session)
    assert (run.status, run.error) == (RunStatus.failed, "short.txt: the file says 5 lines; read 4")


def test_a_trailer_count_without_a_trailer_line_is_refused(tmp_path: Path) -> None:
    from fleet.feeds.formats import Mapping

    bad = write_mapping(tmp_path / "m.json", {"trailer_count": {"field": 2}})
    with pytest.raises(Invalid, match="skip_trailer_lines is 0"):
        Mapping.load(bad)
    with pytest.raises(Invalid, match="trailer_count takes"):
        Mapping.load(write_mapping(tmp_path / "n.json", {"trailer_count": {"column": 2}}))


# --- masking --------------------------------------------------------------------------------


def test_only_card_numbers_are_masked_in_refused_lines(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    # Unkept columns: a 14-digit settlement time, a long amount, and a card number (Luhn-valid).
    feed = write_feed(
        tmp_path / "f.csv",
        [
            "M1,T404,2026-05-01T10:00:00,1.00,transfer,success,M1,20180415120060,"
            "1234567890123.45,4111111111111111,6222021234567890123"
        ],
        header="txn_ref,terminal_sn,occurred_at,amount,txn_type,status,merchant_code,"
        "settled,total,card,other",
    )
    report = ingest(feed, max_rejected_share=1.0)
    assert rejects(session, report.run_id) == [(2, "unknown_terminal")]
    raw = session.execute(select(RejectedRow.raw)).scalar_one()
    assert raw.endswith(",20180415120060,1234567890123.45,411111******1111,6222021234567890123")


def test_a_scheduled_pull_of_refused_lines_fails_its_job_run_once(
    engine: Engine, world: None
) -> None:
    from fleet.feeds import jobs as feed_jobs
    from fleet.feeds import sources
    from fleet.feeds.sources import FeedSourceCreate
    from fleet.jobs import runner
    from fleet.jobs.models import JobRun, Outcome

    items = [item | {"terminal_sn": "NOPE"} for item in good_items(4)]
    with FeedServer(items).running() as server:
        with session_scope(engine) as session:
            data = FeedSourceCreate(name="bank", url=server.url)
            source_id = sources.create_source(session, ADMIN, data).id
        job = feed_jobs.pull_one(source_id)
        run = runner.run_job(engine, job, attempts=3, backoff=0.0)
    assert run is not None
    assert (run.outcome, run.error) == (
        Outcome.failed,
        "nothing was accepted: all 4 lines were refused",
    )
    assert run.counts["rejected"] == 4
    with Session(engine) as session:
        attempts = session.execute(select(JobRun).where(col(JobRun.job) == job.name)).all()
        assert len(attempts) == 1  # a retry could not mend it: the next pull starts after
        source = session.get(FeedSource, source_id)
        assert source is not None and source.last_status == "failed"
