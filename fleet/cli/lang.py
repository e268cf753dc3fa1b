"""The command line's language: FLEET_LANG, else the locale (LC_ALL, LC_MESSAGES, LANG).

Chinese when it names Chinese (zh_CN.UTF-8, zh), English otherwise: the commands' help and
what they print are worded through the same catalogues as the pages.
"""

from __future__ import annotations

import os

from fleet.core.i18n import Lang, Texts, texts_for


def cli_lang() -> Lang:
    """The language the command line speaks to this user."""
    for name in ("FLEET_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").strip().lower()
        if value and value not in ("c", "posix", "c.utf-8"):
            return "zh" if value.startswith("zh") else "en"
    return "en"


def texts() -> Texts:
    """Translations and formats in the command line's language."""
    return texts_for(cli_lang())
