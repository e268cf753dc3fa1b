"""The import page at the protocol level, on both databases: upload, a preview that writes
nothing and lists every bad row with its reason in Chinese, a confirm bound to the file and
the user (a second one changes nothing), the rejects as XLSX, and an ops user's rows of
another branch refused with their reason."""

from __future__ import annotations

import csv
import io
import re
import socket
from collections.abc import Callable
from html import unescape

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.core.audit import AuditEntry
from fleet.core.config import Settings, get_settings
from fleet.core.db import session_scope
from fleet.core.files import STAGES
from fleet.inventory.models import Merchant
from tests import factories
from tests.imports.test_geocode import HEADER as GEO_HEADER
from tests.imports.test_geocode import KNOWN, UNKNOWN, FakeGeocoder, server, use_geocoder  # noqa: F401
from tests.pages.forms import form_for
from tests.pages.test_session import sign_in

HEADER = ["商户编号", "商户名称", "所属网点编号", "状态", "纬度", "经度"]
ROWS = [
    ["CN1", "老王五金", "A1", "营业中", "35.01", "118.36"],
    ["CN2", "小李石材", "A1", "已关店", "abc", "118.36"],
    ["CN3", "别家商户", "B1", "", "", ""],  # branch B is not branch_ops_a's
    ["CN4", "张记建材", "A1", "", "", ""],
]


def merchants_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return out.getvalue().encode("utf-8")


def counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        merchants = session.execute(select(func.count()).select_from(Merchant)).scalar_one()
        audits = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return merchants, audits


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def upload(client: TestClient, kind: str = "merchants", data: bytes | None = None) -> str:
    """Uploads the file through the form; the preview's path."""
    page = client.get("/ops/imports")
    assert page.status_code == 200
    fields = dict(form_for(page.text, "/ops/imports"))
    answer = client.post(
        "/ops/imports",
        data={**fields, "kind": kind},
        files={"file": ("商户.csv", data or merchants_csv(), "text/csv")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_preview_lists_every_bad_row_in_chinese_and_writes_nothing(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    before = counts(engine)
    preview = client.get(upload(client))
    assert preview.status_code == 200
    text = text_of(preview.text)
    assert "共 4 行：2 行可以导入（新增 2、更新 0、无变化 0），2 行有问题。" in text
    table = text_of(preview.text.split('id="bad-rows"')[1].split("</table>")[0])
    assert "3 纬度 “abc”不是数字" in " ".join(table.split())
    assert "4 所属网点编号 未找到网点 B1" in " ".join(table.split())
    assert "abc" in text and "not a number" not in text
    assert counts(engine) == before  # the preview wrote nothing, not even an audit entry


def test_confirm_imports_the_good_rows_once(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    merchants, audits = counts(engine)
    where = upload(client)
    fields = form_for(client.get(where).text, f"{where}/confirm")
    done = client.post(f"{where}/confirm", data=dict(fields), follow_redirects=True)
    assert "已导入：新增 2 条，更新 0 条，无变化 0 条；有问题的 2 行未导入。" in text_of(done.text)
    after = counts(engine)
    assert after[0] == merchants + 2 and after[1] > audits
    with Session(engine) as session:
        stored = session.execute(select(Merchant).where(Merchant.code == "CN1")).scalar_one()
        assert stored.status == "open" and stored.name == "老王五金"
    # A second confirm (a double click, the back button) changes nothing.
    again = client.post(f"{where}/confirm", data=dict(fields), follow_redirects=True)
    assert "这个文件已经导入过了。" in text_of(again.text)
    assert counts(engine) == after


def test_rejects_download_as_xlsx_in_chinese_and_import_again(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    where = upload(client)
    client.get(where)
    answer = client.get(f"{where}/rejects.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [*HEADER, "行号", "出错列", "原因"]
    assert rows[1][:2] == ["CN2", "小李石材"] and rows[1][6:] == [3, "纬度", "“abc”不是数字"]
    assert rows[2][6:] == [4, "所属网点编号", "未找到网点 B1"]
    # Corrected, the rejects file uploads as it is (its own three columns are ignored).
    rows[1][4], rows[2][2] = "35.02", "A1"
    out = io.BytesIO()
    book = Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    book.save(out)
    fixed = client.post(
        "/ops/imports",
        data={
            **dict(form_for(client.get("/ops/imports").text, "/ops/imports")),
            "kind": "merchants",
        },
        files={"file": ("rejects.xlsx", out.getvalue(), "application/octet-stream")},
        follow_redirects=True,
    )
    assert "共 2 行：2 行可以导入" in text_of(fixed.text)


def test_a_token_is_bound_to_its_user(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    where = upload(client)
    fields = form_for(client.get(where).text, f"{where}/confirm")
    client.cookies.clear()
    sign_in(client, "branch_ops_b")
    assert client.get(where).status_code == 404
    assert client.get(f"{where}/rejects.xlsx").status_code == 404
    csrf = dict(form_for(client.get("/ops/imports").text, "/ops/imports"))
    before = counts(engine)
    client.post(f"{where}/confirm", data={**dict(fields), **csrf}, follow_redirects=True)
    assert counts(engine) == before
    assert client.get("/ops/imports/not-a-token").status_code == 404


def test_ops_may_not_import_branches_and_bad_files_are_said(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "branch_ops_a")
    page = client.get("/ops/imports")
    assert 'value="branches"' not in page.text and 'value="merchants"' in page.text
    fields = dict(form_for(page.text, "/ops/imports"))
    refused = client.post(
        "/ops/imports",
        data={**fields, "kind": "branches"},
        files={"file": ("b.csv", b"code,name\nX,Y\n", "text/csv")},
    )
    assert refused.status_code == 422 and "请选择文件内容的类别。" in text_of(refused.text)
    wrong = client.get(upload(client, data="名字,电话\n甲,1\n".encode()))
    assert wrong.status_code == 422
    assert "没有“名字”这一列" in text_of(wrong.text)
    pdf = client.post(
        "/ops/imports",
        data={**fields, "kind": "merchants"},
        files={"file": ("x.pdf", b"%PDF", "application/pdf")},
        follow_redirects=True,
    )
    assert "x.pdf" in text_of(pdf.text) and pdf.status_code == 422


def test_a_refreshed_preview_is_the_kept_one_and_asks_the_geocoder_nothing_again(
    client: TestClient,
    world: factories.TwoBranches,
    server: FakeGeocoder,  # noqa: F811 (the geocoding tests' fixture)
    use_geocoder: Callable[..., None],  # noqa: F811
) -> None:
    """The preview looks each address up once: refreshing the page shows the preview kept
    with the upload (nothing asked of the geocoder again, which may be slow or paid)."""
    use_geocoder("nominatim", server.url)
    sign_in(client, "branch_ops_a")
    rows = [["CG1", "老王五金", "A1", KNOWN, "", ""], ["CG2", "无名店", "A1", UNKNOWN, "", ""]]
    data = ("\n".join(",".join(r) for r in [GEO_HEADER, *rows]) + "\n").encode()
    preview = upload(client, data=data)
    first = client.get(preview)
    assert first.status_code == 200
    assert sorted(server.queries) == sorted([KNOWN, UNKNOWN])
    again = client.get(preview)
    assert again.status_code == 200
    assert sorted(server.queries) == sorted([KNOWN, UNKNOWN])  # not asked again
    assert text_of(again.text) == text_of(first.text)


def test_the_geocoders_trouble_is_said_in_chinese_on_the_preview(
    client: TestClient,
    world: factories.TwoBranches,
    use_geocoder: Callable[..., None],  # noqa: F811
) -> None:
    """A geocoder that cannot be reached (nothing listens on the port): the preview says so
    in the page's language, not in the log's English."""
    with socket.socket() as probe:  # a free port, closed again: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    use_geocoder("nominatim", f"http://127.0.0.1:{port}")
    sign_in(client, "branch_ops_a")
    data = (
        "\n".join(",".join(r) for r in [GEO_HEADER, ["CG1", "老王五金", "A1", KNOWN, "", ""]])
        + "\n"
    ).encode()
    preview = client.get(upload(client, data=data))
    assert preview.status_code == 200
    text = text_of(preview.text)
    assert "其余地址未能定位" in text, text[-600:]
    assert "geocoder" not in text and "failed" not in text


def test_a_confirm_whose_commit_fails_can_be_confirmed_again(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    """The database refuses the commit (here: SQLAlchemy's own before_commit hook raising, as
    a lost connection would): nothing was written, so the file is not 'imported already' —
    the next confirm imports it."""
    from sqlalchemy import event

    sign_in(client, "branch_ops_a")
    merchants, _ = counts(engine)
    where = upload(client)
    fields = dict(form_for(client.get(where).text, f"{where}/confirm"))

    wrote: set[int] = set()

    def note(session: Session, _context: object) -> None:
        if any(isinstance(o, Merchant) for o in session.new):
            wrote.add(id(session))

    def refuse(session: Session) -> None:
        # The request's own commit of the imported rows (not a savepoint's).
        if id(session) in wrote and not session.in_nested_transaction():
            raise OSError("the database went away at commit")

    event.listen(Session, "after_flush", note)
    event.listen(Session, "before_commit", refuse)
    try:
        with pytest.raises(OSError, match="went away"):  # the test client re-raises the 500's cause
            client.post(f"{where}/confirm", data=fields)
    finally:
        event.remove(Session, "before_commit", refuse)
        event.remove(Session, "after_flush", note)
    assert counts(engine)[0] == merchants
    assert "这个文件已经导入过了" not in text_of(client.get(where).text)
    done = client.post(f"{where}/confirm", data=fields, follow_redirects=True)
    assert "已导入：新增 2 条" in text_of(done.text)
    assert counts(engine)[0] == merchants + 2


def bad_rows(html: str) -> list[str]:
    """The rows of the preview's table of problems, as "row column reason" texts."""
    table = html.split('id="bad-rows"')[1].split("</table>")[0]
    cells = re.findall(r"<tr><td[^>]*>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return [unescape(" ".join(c for c in row if c)) for row in cells]


def test_a_control_character_in_a_cell_is_a_bad_row_with_its_reason(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    """A NUL byte (an export from an old system, a damaged file) is a bad row, said in Chinese;
    it was imported before (and PostgreSQL refuses NUL in text, which then failed the page)."""
    sign_in(client, "branch_ops_a")
    data = "商户编号,商户名称,所属网点编号\nCN1,老王\x00五金,A1\nCN4,张记建材,A1\n".encode()
    where = upload(client, data=data)
    preview = client.get(where)
    assert preview.status_code == 200
    assert "共 2 行：1 行可以导入（新增 1、更新 0、无变化 0），1 行有问题。" in text_of(
        preview.text
    )
    assert bad_rows(preview.text) == ["2 商户名称 含有不可见的控制字符（NUL），请删去后再导入"]
    fields = form_for(preview.text, f"{where}/confirm")
    done = client.post(f"{where}/confirm", data=dict(fields), follow_redirects=True)
    assert "已导入：新增 1 条" in text_of(done.text)
    with Session(engine) as session:
        names = session.execute(select(Merchant.name).where(Merchant.code.in_(["CN1", "CN4"])))
        assert sorted(names.scalars()) == ["张记建材"]


def test_every_problem_with_the_header_is_listed_with_the_columns_in_chinese(
    client: TestClient, world: factories.TwoBranches
) -> None:
    """A file with the wrong columns: each problem of its header is a row of the table (not
    the first and "4 more"), and the columns a file may have are named as the pages do."""
    sign_in(client, "branch_ops_a")
    preview = client.get(upload(client, data="编号,名称,网点\nM1,a,A1\n".encode()))
    assert preview.status_code == 422
    problems = bad_rows(preview.text)
    assert len(problems) == 6, problems  # three unknown columns, three required ones missing
    assert problems[0].startswith(
        "1 编号 商户文件没有“编号”这一列，可用的列：商户编号（code）、商户名称（name）"
    )
    assert problems[-1] == "1 所属网点编号 缺少必需的列 所属网点编号（branch_code）"
    assert "code, name" not in text_of(preview.text)


def test_a_damaged_workbook_is_said_in_chinese_without_pythons_words(
    client: TestClient, world: factories.TwoBranches
) -> None:
    sign_in(client, "branch_ops_a")
    page = client.get("/ops/imports")
    answer = client.post(
        "/ops/imports",
        data={**dict(form_for(page.text, "/ops/imports")), "kind": "merchants"},
        files={
            "file": ("商户.xlsx", b"PK\x03\x04not really a workbook", "application/octet-stream")
        },
        follow_redirects=True,
    )
    assert answer.status_code == 422
    said = text_of(answer.text)
    assert (
        "无法读取 XLSX 工作簿 商户.xlsx：文件已损坏或不是 Excel 文件"
        "（请用 Excel 打开后另存为 .xlsx）" in said
    )
    assert "zip" not in said


def test_a_role_not_the_importers_to_grant_is_refused_in_its_column(
    client: TestClient, world: factories.TwoBranches
) -> None:
    sign_in(client, "branch_ops_a")
    data = "工号,姓名,角色,所属网点编号\nnew_admin,王五,管理员,A1\nnew_field,赵六,客户经理,A1\n"
    preview = client.get(upload(client, kind="staff", data=data.encode()))
    assert "共 2 行：1 行可以导入" in text_of(preview.text)
    assert bad_rows(preview.text) == ["2 角色 只有管理员可以授予管理员角色"]


def test_a_title_above_the_column_names_is_named_as_the_problem(
    client: TestClient, world: factories.TwoBranches
) -> None:
    """A bank report's sheet: a title and a date above the table. The preview said only that
    the columns 商户清单 … are unknown and 商户编号 is missing, though it is right below."""
    sign_in(client, "branch_ops_a")
    data = (
        "商户清单（兰山）,,\n导出日期：2026-12-01,,\n商户编号,商户名称,所属网点编号\nCN1,老王,A1\n"
    )
    preview = client.get(upload(client, data=data.encode()))
    assert preview.status_code == 422
    assert bad_rows(preview.text)[0] == "1 列名在第 3 行：请删去它上面的行（第一行应为列名）"


def test_a_file_over_the_pages_row_limit_is_refused_at_upload_with_the_way_to_import_it(
    client: TestClient,
    world: factories.TwoBranches,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page import holds the database for its whole preview and confirm (SQLite's write lock:
    others' sign-ins wait, then fail); a file over FLEET_PAGE_IMPORT_MAX_ROWS is refused when
    uploaded, nothing kept or imported, saying the limit and the command that has none."""
    monkeypatch.setattr(get_settings(), "page_import_max_rows", 3)
    sign_in(client, "branch_ops_a")
    before = counts(engine)
    kept = set(STAGES.iterdir()) if STAGES.is_dir() else set()
    fields = dict(form_for(client.get("/ops/imports").text, "/ops/imports"))
    answer = client.post(
        "/ops/imports",
        data={**fields, "kind": "merchants"},
        files={"file": ("商户.csv", merchants_csv(), "text/csv")},
        follow_redirects=False,
    )
    assert answer.status_code == 422
    said = " ".join(text_of(answer.text).split())
    assert (
        "商户.csv 超过 3 行，超出页面导入的上限（FLEET_PAGE_IMPORT_MAX_ROWS）：请在服务器上用 "
        "'fleet import merchants FILE' 导入（命令行没有此上限），或把它拆成每个不超过 3 行的文件；"
        "未导入任何内容"
    ) in said
    assert counts(engine) == before
    assert (set(STAGES.iterdir()) if STAGES.is_dir() else set()) == kept  # nothing kept
    # In English for a reader who chose it.
    chosen = {"csrf": fields["csrf"], "next": "/ops/imports", "language": "en"}
    client.post("/settings/language", data=chosen)
    english = client.post(
        "/ops/imports",
        data={**fields, "kind": "terminals"},
        files={"file": ("units.csv", b"sn,model,branch_code\n1,T,A1\n2,T,A1\n3,T,A1\n4,T,A1\n")},
    )
    assert english.status_code == 422
    assert (
        "units.csv has more than 3 rows, more than an import from the pages may hold "
        "(FLEET_PAGE_IMPORT_MAX_ROWS): import it on the server with 'fleet import terminals "
        "FILE', which has no such limit, or split it into files of at most 3 rows"
    ) in " ".join(text_of(english.text).split())
    client.post("/settings/language", data=chosen | {"language": "zh"})
    assert counts(engine) == before
    # At the limit, the file is taken.
    monkeypatch.setattr(get_settings(), "page_import_max_rows", 4)
    assert "共 4 行" in text_of(client.get(upload(client)).text)


def test_the_pages_row_limit_follows_the_database_unless_set() -> None:
    """SQLite's write lock bounds a page import to 500 rows; on PostgreSQL others' work goes
    on, so the bound is the request's time (5,000); FLEET_PAGE_IMPORT_MAX_ROWS overrides both."""
    sqlite = Settings(database_url="sqlite:///fleet.db")
    postgres = Settings(database_url="postgresql+psycopg://fleet@db/fleet")
    assert (sqlite.page_import_rows, postgres.page_import_rows) == (500, 5_000)
    chosen = Settings(database_url="postgresql+psycopg://fleet@db/fleet", page_import_max_rows=800)
    assert chosen.page_import_rows == 800
