"""Page language: message catalogues (gettext .po files read with Babel) and locale formats.

Strings in templates and page code are English msgids; `translations/zh_CN` carries the
Chinese, one .po file per page area (all of them make one catalogue). Chinese is the default;
a user may choose English. The .po files are read at start-up, so there is no compile step to
forget. `python -m fleet.core.i18n` lists the msgids that still lack a translation (the test
suite fails on any).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from markupsafe import Markup, escape

from fleet.core.errors import FleetError, Listed, Reason

Lang = Literal["zh", "en"]
FLEET = Path(__file__).parent.parent
# The catalogues sit with the templates they mostly serve; domain errors use them too.
PAGES = FLEET / "pages"
TRANSLATIONS = PAGES / "translations"
LOCALES: dict[Lang, str] = {"zh": "zh_CN", "en": "en"}
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

__all__ = [
    "LOCALES",
    "N_",
    "Lang",
    "Texts",
    "catalogue",
    "lang_of",
    "local_day",
    "local_moment",
    "texts_for",
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# The command line's own refusals: `fail(message, **values)` (fleet.cli.common) says a msgid.
CLI_KEYWORDS: dict[str, tuple[int, int] | None] = {"fail": None}
# Domain errors anywhere in fleet: their message (first argument) is a msgid (errors.po);
# `_invalid(field, message)` makes an Invalid that names the field at fault.
ERROR_KEYWORDS: dict[str, tuple[int] | None] = {"_invalid": (2,)} | {
    name: None
    for name in (
        "FleetError",
        "NotFound",
        "Conflict",
        "Invalid",
        "Unauthorized",
        "Forbidden",
        "TooManyRequests",
        "Unavailable",
        "Busy",
        "Reason",
        "FileRefused",  # fleet.imports.service: an import refused whole
        "TooManyRows",  # fleet.imports.files: a file over a row limit
    )
}


def lang_of(text: str | None) -> Lang:
    """'en' for any English locale (en, en-GB, …), else Chinese."""
    return "en" if (text or "").lower().startswith("en") else "zh"


def local_moment(value: dt.datetime) -> dt.datetime:
    """A stored moment in Beijing time (a naive one is UTC, as the database keeps them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LOCAL_TZ)


def local_day(value: dt.date | dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar day of a moment (a date is its own day): the one day every
    page, export and command shows, never the UTC date (00:00 Beijing is 16:00 UTC the day
    before)."""
    if isinstance(value, dt.datetime):
        return local_moment(value).date()
    return value


def N_(message: str) -> str:
    """Marks a msgid for extraction; it is translated where it is shown."""
    return message


@cache
def catalogue(lang: Lang) -> dict[str, str]:
    """msgid -> translation for `lang` (empty for English: the msgids are English)."""
    found: dict[str, str] = {}
    for path in sorted((TRANSLATIONS / LOCALES[lang] / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            po = read_po(handle, locale=LOCALES[lang])
        found.update(
            (str(m.id), str(m.string))
            for m in po
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
        )
    return found


def extract_msgids() -> dict[str, str]:
    """Every msgid the pages use (from their Python code and templates) -> where first seen."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, str] = {}
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        PAGES, method_map, options_map=options, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, f"{filename}:{lineno}")
    # core's words and phrases, pay's workbook headers (fleet.pay.sheet), the maps' labels,
    # the command line's own words (its tables' headings), after-sales' statement workbook,
    # the plans' sheets (fleet.visits.exports), the campaign workbook (fleet.markets.exports)
    for package in ("core", "pay", "maps", "cli", "aftersales", "visits", "markets"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            FLEET / package, [("**.py", "python")], keywords=KEYWORDS | CLI_KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            found.setdefault(msgid, f"fleet/{package}/{filename}:{lineno}")
    for filename, lineno, message, _comments, _context in extract_from_dir(
        FLEET, [("**.py", "python")], keywords=ERROR_KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, f"fleet/{filename}:{lineno}")
    return found


def untranslated(lang: Lang = "zh") -> dict[str, str]:
    known = catalogue(lang)
    return {m: where for m, where in extract_msgids().items() if m not in known}


@dataclass(frozen=True)
class Texts:
    """Translations and number/date formats for one language; templates get it as `t`."""

    lang: Lang

    @property
    def locale(self) -> Locale:
        return Locale.parse(LOCALES[self.lang])

    @property
    def comma(self) -> str:
        """Between the items of a list: 、 in Chinese, ", " in English."""
        return "、" if self.lang == "zh" else ", "

    @property
    def colon(self) -> str:
        """After a label: ： in Chinese, ": " in English."""
        return "：" if self.lang == "zh" else ": "

    def gettext(self, message: str, **values: object) -> str:
        text = catalogue(self.lang).get(message, message)
        if any(isinstance(v, Markup) for v in values.values()):
            # A value a template marked up (a name with its code in small print): the
            # sentence becomes markup too, every other value escaped.
            return escape(text).format(**values)
        return text.format(**values) if values else text

    def in_sentence(self, message: str, **values: object) -> str:
        """A word (a status, a kind: fleet.core.words) said inside a sentence. Its msgid is
        capitalised as a heading, a label or a table's cell shows it ("Active"); inside an
        English sentence it is lower case ("69 active, 15 declining"), unless it begins with
        an abbreviation ("SLA …"). Chinese has no case."""
        said = self.gettext(message, **values)
        if self.lang == "en" and said[:1].isupper() and not said[1:2].isupper():
            return said[0].lower() + said[1:]
        return said

    def error(self, exc: FleetError | Reason) -> str:
        """A domain error's message (or a reason) in this language (English when it has no
        translation), its status values in words ("已布放", not "deployed")."""
        from fleet.core.words import BY_TYPE  # words.py imports this module

        def said(value: object) -> object:
            if isinstance(value, Listed):
                return self.comma.join(str(said(v)) for v in value)
            if isinstance(value, Reason):
                return self.error(value)
            if not isinstance(value, StrEnum):
                return value
            table = BY_TYPE.get(type(value).__name__, {})
            return self.in_sentence(table[value.value]) if value.value in table else value

        return self.gettext(exc.template, **{k: said(v) for k, v in exc.values.items()})

    reason = error

    def phrase(self, stored: Mapping[str, object] | None) -> str:
        """A stored phrase (fleet.core.phrases) in this language."""
        from fleet.core.phrases import say  # phrases.py imports this module

        return say(stored, self)

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        # Chinese has one form; English picks by n. Both go through the catalogue by singular.
        chosen = singular if n == 1 or self.lang == "zh" else plural
        return self.gettext(chosen, n=n, **values)

    def date(self, value: dt.date | None, form: str = "medium") -> str:
        """A day, or a moment's Beijing day."""
        return "" if value is None else format_date(local_day(value), form, locale=self.locale)

    def datetime(self, value: dt.datetime | None, form: str = "short") -> str:
        if value is None:
            return ""
        return format_datetime(local_moment(value), form, locale=self.locale)

    def time(self, value: dt.datetime | dt.time | None) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            # A naive clock time is already local (a route's planned arrival).
            value = local_moment(value).time() if value.tzinfo else value.time()
        return value.strftime("%H:%M")

    def number(self, value: float | int | Decimal | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None, digits: int = 1) -> str:
        """`value` is a fraction (0.42 -> 42.0%)."""
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(value, format=pattern, locale=self.locale)

    def money(self, value: float | Decimal | None) -> str:
        if value is None:
            return "–"
        return format_currency(value, "CNY", locale=self.locale)


def first_wish(accept_language: str) -> str:
    """The first language a client's Accept-Language header asks for, lower case ('' if none)."""
    return accept_language.split(",")[0].split(";")[0].strip().lower()


def api_file_lang(accept_language: str) -> Lang:
    """The language of a file the API writes (a workbook): Chinese when the client asks for
    it first, else English, the API's language."""
    return "zh" if first_wish(accept_language).startswith("zh") else "en"


@cache
def texts_for(lang: str | None) -> Texts:
    return Texts(lang_of(lang))


if __name__ == "__main__":
    # The missing entries, as .po text to paste into the right file and translate.
    for msgid, where in sorted(untranslated().items(), key=lambda item: item[1]):
        quoted = msgid.replace("\\", "\\\\").replace('"', '\\"')
        print(f'#: {where}\nmsgid "{quoted}"\nmsgstr ""\n')
