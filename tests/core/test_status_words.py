"""One word per status, everywhere: the word a page shows for a status (core.words, through the
catalogue) is the word every other page, export, map and command uses for it. A second word for
the same status (睡眠 beside 休眠) fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from fleet.core.i18n import FLEET, TRANSLATIONS, catalogue
from fleet.core.words import TICKET, WORDS, said

# The statuses (what a thing is now), each a table of code -> English msgid.
STATUSES = {
    "usage": WORDS["usage"],
    "state": WORDS["state"],
    "request": WORDS["request"],
    "ticket": TICKET,
    "visit_status": WORDS["visit_status"],
    "merchant_status": WORDS["merchant_status"],
    "run_status": WORDS["run_status"],
    "campaign_phase": WORDS["campaign_phase"],
    "prospect_status": WORDS["prospect_status"],
    "contract_status": WORDS["contract_status"],
}
# Words that have been used for a status beside its own word; none may come back.
ALTERNATES = {
    ("usage", "dormant"): ("睡眠", "沉睡"),
    ("usage", "declining"): ("交易下降",),
    ("state", "recovery_requested"): ("申请回收中",),
    ("state", "recovery_approved"): ("同意回收",),
    ("prospect_status", "pending"): ("待走访",),  # the campaign map's legend said it once
}
TEMPLATES = FLEET / "pages" / "templates"


def po_entries() -> list[tuple[str, str, str]]:
    """(file, msgid, msgstr) of every Chinese catalogue entry."""
    found = []
    for path in sorted((TRANSLATIONS / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and isinstance(message.id, str):
                    found.append((path.name, message.id, str(message.string or "")))
    return found


def sources() -> list[Path]:
    return [p for p in FLEET.rglob("*.py") if "migrations" not in p.parts]


def test_each_status_has_one_word_in_every_catalogue() -> None:
    zh = catalogue("zh")
    wrong = [
        f"{name}: {msgid!r} is {text!r}, elsewhere {zh[msgid]!r}"
        for name, msgid, text in po_entries()
        for table in STATUSES.values()
        if msgid in table.values() and text != zh[msgid]
    ]
    assert not wrong, wrong
    for kind, table in STATUSES.items():
        words = [zh.get(msgid, msgid) for msgid in table.values()]
        assert len(set(words)) == len(words), f"two {kind} statuses share a word: {words}"


def test_labels_that_start_with_a_usage_status_use_its_word() -> None:
    """ "Dormant: unused for this many days" is 休眠：…, as the status reads on the pages."""
    wrong = []
    for name, msgid, text in po_entries():
        for code, english in WORDS["usage"].items():
            leads = re.match(rf"{re.escape(english)}(:| for | after )", msgid)
            if leads and said("usage", code) not in text:
                wrong.append(f"{name}: {msgid!r} -> {text!r} lacks {said('usage', code)!r}")
    assert not wrong, wrong


@pytest.mark.parametrize(("status", "others"), list(ALTERNATES.items()))
def test_no_second_word_for_a_status(status: tuple[str, str], others: tuple[str, ...]) -> None:
    own = said(*status)
    texts = {f"{name}: {msgid}": text for name, msgid, text in po_entries()}
    texts |= {str(p.relative_to(FLEET)): p.read_text("utf-8") for p in TEMPLATES.rglob("*.html")}
    texts |= {str(p.relative_to(FLEET)): p.read_text("utf-8") for p in sources()}
    found = [
        f"{where}: {other!r} (the word is {own!r})"
        for where, text in texts.items()
        for other in others
        if other in text
    ]
    assert not found, found


def test_no_table_of_status_words_outside_core_words() -> None:
    """Exports, maps and commands say a status with `words.said`, never their own table."""
    found = []
    for path in sources():
        if path == FLEET / "core" / "words.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Dict):
                continue
            worded = {
                key.value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
                and not re.fullmatch(r"#[0-9a-fA-F]{3,8}", value.value)  # a colour, not a word
            }
            for kind, table in STATUSES.items():
                if len(worded & table.keys()) >= 3:
                    found.append(f"{path.relative_to(FLEET)}:{node.lineno} words for {kind}")
    assert not found, found


def test_the_words_are_the_pages_words() -> None:
    assert said("usage", "dormant") == "休眠"
    assert said("usage", "dormant", "en") == "Dormant"
