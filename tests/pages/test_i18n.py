"""Every text on the pages has its Chinese, and locale formats follow the user's language."""

from __future__ import annotations

import datetime as dt

from fleet.core.i18n import texts_for, untranslated


def test_every_page_text_is_translated_to_chinese() -> None:
    missing = untranslated("zh")
    assert not missing, "no Chinese for (run `python -m fleet.core.i18n`):\n" + "\n".join(
        f"{where}: {msgid!r}" for msgid, where in sorted(missing.items())
    )


def test_formats_follow_the_language() -> None:
    zh, en = texts_for("zh"), texts_for("en")
    day = dt.date(2026, 11, 28)
    assert zh.date(day) == "2026年11月28日"
    assert en.date(day) == "Nov 28, 2026"
    assert zh.money(1234.5) == "¥1,234.50"
    assert en.money(1234.5) == "CN¥1,234.50"
    assert zh.percent(0.4234) == "42.3%"
    noon_utc = dt.datetime(2026, 11, 28, 4, 0, tzinfo=dt.UTC)
    assert zh.time(noon_utc) == "12:00"  # shown in Asia/Shanghai
    assert zh.gettext("Sign in") == "登录" and en.gettext("Sign in") == "Sign in"


def test_no_text_means_two_things() -> None:
    """All catalogues make one: a msgid translated differently in two files would show one
    area's Chinese in the other's page."""
    from babel.messages.pofile import read_po

    from fleet.core.i18n import TRANSLATIONS

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted((TRANSLATIONS / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if not message.id or not message.string:
                    continue
                msgid, msgstr = str(message.id), str(message.string)
                if msgid in seen and seen[msgid][1] != msgstr:
                    clashes.append(f"{msgid!r}: {seen[msgid]} vs ({path.name}, {msgstr!r})")
                seen.setdefault(msgid, (path.name, msgstr))
    assert not clashes, "\n".join(clashes)


def test_no_translation_is_left_over() -> None:
    """A catalogue entry no page uses any more is dead weight that drifts; drop it."""
    from fleet.core.i18n import catalogue, extract_msgids

    unused = set(catalogue("zh")) - set(extract_msgids()) - set(_cli_help_texts())
    assert not unused, sorted(unused)


def _cli_help_texts() -> dict[str, str]:
    """The command line's help texts (cli.po): read off the click command tree, not the code."""
    import typer.main

    from fleet.cli.helptext import help_texts
    from fleet.cli.main import app

    return help_texts(typer.main.get_command(app))
