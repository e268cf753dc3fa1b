"""Fleet's own words come from the one catalogue: no Chinese in the code's strings.

Every text fleet says (pages, workbooks, printable sheets, maps, the command line) is an
English msgid worded from the .po catalogues in the reader's language, so a wording fix
reaches every place and an English reader gets English. Chinese may stay in code only where
it is not fleet's wording: what fleet accepts as input (import headers and values, coordinate
system names), the demo's generated data, and docstrings or msgids that quote a Chinese term.
A Chinese sheet heading written in code (visits' and campaigns' workbooks, the printable
route sheet, the QR stickers, "全部 all", "本行地图") fails here."""

from __future__ import annotations

import ast
import re

from fleet.core.i18n import FLEET

HAN = re.compile(r"[\u4e00-\u9fff]")
# Calls whose string arguments are msgids (English, perhaps quoting a Chinese term).
MSGID_CALLS = {
    "N_", "_", "gettext", "ngettext", "fail", "Reason", "Invalid", "Conflict", "NotFound",
    "FleetError", "Forbidden", "Unavailable", "Busy", "TooManyRequests", "Unauthorized",
}  # fmt: skip
# Chinese that is not fleet's wording, by module.
NOT_WORDING = {
    # what fleet accepts in files and forms: column headers, values, names of datums, times
    "imports/columns.py", "imports/values.py", "markets/prospects.py", "pay/rates.py",
    "feeds/formats.py", "core/geo.py", "inventory/hours.py",
    # the demo's generated region, people, shops, transactions and the files it imports
    "demo/names.py", "demo/org.py", "demo/region.py", "demo/generator.py", "demo/build.py",
    "demo/aftersales.py", "feeds/synth.py", "markets/demo.py", "pay/contract_demo.py",
    "pay/scorecard_demo.py",
    # a language named in itself (the users page's language column: 中文 / English)
    "pages/admin/views.py",
    # the API's documentation (English) naming the Chinese values it accepts
    "web/app.py", "markets/views.py",
}  # fmt: skip


def _chinese_strings(tree: ast.Module) -> list[tuple[int, str]]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skipped.add(id(first.value))  # a docstring
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in MSGID_CALLS:
                skipped |= {id(a) for a in node.args[:2] if isinstance(a, ast.Constant)}
            skipped |= {id(k.value) for k in node.keywords if k.arg in ("help", "description")}
    return [
        (node.lineno, node.value[:40])
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and HAN.search(node.value)
        and id(node) not in skipped
    ]


def test_no_chinese_wording_in_the_code() -> None:
    found = []
    for path in sorted(FLEET.rglob("*.py")):
        where = str(path.relative_to(FLEET))
        if "migrations" in path.parts or where in NOT_WORDING:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        found += [f"fleet/{where}:{line}: {text!r}" for line, text in _chinese_strings(tree)]
    assert not found, "Chinese written in code, not the catalogue:\n" + "\n".join(found)


def test_the_exceptions_are_still_there() -> None:
    """An exception for a module that is gone (or renamed) is dropped, not left to grow."""
    assert not [m for m in NOT_WORDING if not (FLEET / m).is_file()]
