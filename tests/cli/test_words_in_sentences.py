"""A status said inside an English sentence is lower case ("69 active, 15 declining",
"the unit is deployed", "#2 …: running, 12 merchants"), as a heading, a label or a table cell
it keeps its capital ("Active"). One msgid per word (fleet.core.words): Texts.in_sentence
says it in a sentence. Chinese has no case and is unchanged."""

from __future__ import annotations

import re
from datetime import date

from fleet.core.errors import Reason
from fleet.core.i18n import texts_for
from fleet.core.words import CONTRACT_STATUS, WORDS
from fleet.demo.build import DemoReport
from fleet.inventory.models import TerminalState
from fleet.pay.contract_models import ContractStatus

EN, ZH = texts_for("en"), texts_for("zh")
# The statuses (what a thing is now); kinds and categories ("Hardware", "Card reader") are
# names a label or a gloss shows as they are.
STATUSES = [
    *(WORDS[kind] for kind in ("usage", "state", "ticket", "request", "visit_status")),
    *(WORDS[kind] for kind in ("merchant_status", "run_status", "campaign_phase")),
    WORDS["prospect_status"],
    CONTRACT_STATUS,
]
CAPITALISED = sorted(
    {m for table in STATUSES for m in table.values() if m[:1].isupper()}, key=len, reverse=True
)
# A capitalised word right after a word, a number, a comma, a colon or an opening parenthesis
# (one space: two or more part a table's cells).
MID_SENTENCE = re.compile(
    r"(?:(?<=[\w%)]) |, |: |\()(" + "|".join(re.escape(w) for w in CAPITALISED) + r")\b"
)


def mid_sentence_capitals(text: str) -> list[str]:
    return [m.group(1) for m in MID_SENTENCE.finditer(text)]


def test_the_detector() -> None:
    assert mid_sentence_capitals("scored: 69 Active, 15 Declining") == ["Active", "Declining"]
    assert mid_sentence_capitals("#1    Settled 2026-Q3") == []  # a table's cell
    assert mid_sentence_capitals("Active 69") == []  # a line's first word


def test_a_word_in_a_sentence_is_lower_case_in_english_only() -> None:
    assert EN.in_sentence("Active") == "active"
    assert EN.in_sentence("Never used") == "never used"
    assert EN.in_sentence("A list of merchants") == "a list of merchants"
    assert EN.in_sentence("SLA breach") == "SLA breach"  # an abbreviation keeps its capitals
    assert ZH.in_sentence("Active") == ZH.gettext("Active")


def test_a_domain_errors_status_value_reads_lower_case_in_english() -> None:
    reason = Reason("terminal {sn} is {state}", sn="SN1", state=TerminalState.in_stock)
    assert EN.reason(reason) == "terminal SN1 is in stock"
    reason = Reason("{status}, {merchants} merchants", status=ContractStatus.running, merchants=12)
    assert EN.reason(reason) == "running, 12 merchants"


def test_the_demos_summary_says_statuses_in_lower_case() -> None:
    report = DemoReport(
        database="sqlite://", statuses={"active": 69, "never_used": 10}, as_of=date(2026, 12, 7)
    )
    said = report.summary(EN)
    assert "scored as of 2026-12-07: 69 active, 10 never used" in said, said
    assert mid_sentence_capitals(said) == []
    assert ZH.gettext("Active") in report.summary(ZH)
