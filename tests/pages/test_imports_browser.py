"""Importing a file from the pages in headless Chromium, in Chinese: an operations user
uploads merchants, reads every bad row's reason, imports the good rows, and downloads the
bad ones as XLSX. Run once, in the SQLite pass (test_imports.py checks both databases)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser
from tests.pages.test_imports import merchants_csv

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def test_an_operations_user_imports_the_good_rows_and_downloads_the_rest(
    open_browser: Any, world: factories.TwoBranches, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    source = tmp_path / "商户.csv"
    source.write_bytes(merchants_csv())
    tab = open_browser(viewport=DESKTOP, locale="zh-CN")
    tab.sign_in("branch_ops_a", path="/ops")
    page = tab.page
    page.get_by_role("link", name="导入文件").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入文件")
    page.get_by_label("文件内容").select_option(label="商户")
    page.locator("#f-file").set_input_files(str(source))
    tab.shot("imports-1-upload")
    page.get_by_role("button", name="检查文件").click()
    page.wait_for_load_state("load")

    expect(page.locator("#import-counts")).to_have_text(
        "共 4 行：2 行可以导入（新增 2、更新 0、无变化 0），2 行有问题。"
    )
    bad = page.locator("#bad-rows tbody tr")
    expect(bad).to_have_count(2)
    expect(bad.nth(0)).to_contain_text("纬度")
    expect(bad.nth(0)).to_contain_text("“abc”不是数字")
    expect(bad.nth(1)).to_contain_text("未找到网点 B1")
    tab.shot("imports-2-preview")

    page.get_by_role("button", name="导入没有问题的 2 行").click()
    page.wait_for_load_state("load")
    expect(page.locator("p.flash")).to_contain_text("已导入：新增 2 条")
    expect(page.locator("#import-done")).to_contain_text("有问题的 2 行未导入")
    tab.shot("imports-3-done")

    with page.expect_download() as caught:
        page.get_by_role("link", name="下载有问题的行（Excel）").click()
    saved = tmp_path / "rejects.xlsx"
    caught.value.save_as(saved)
    assert caught.value.suggested_filename.endswith("-rejects.xlsx")
    rows = list(load_workbook(saved).worksheets[0].iter_rows(values_only=True))
    assert rows[0][-3:] == ("行号", "出错列", "原因")
    assert [row[0] for row in rows[1:]] == ["CN2", "CN3"]
    assert re.search("未找到网点 B1", str(rows[2][-1]))
    assert not tab.errors, tab.errors
