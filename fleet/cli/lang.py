"""The command line's words: translations and formats in the language of the person at the
terminal (fleet.cli.common.cli_lang: the locale's, else FLEET_DEFAULT_LANGUAGE), through the
same catalogues as the pages."""

from __future__ import annotations

from fleet.cli.common import cli_lang
from fleet.core.i18n import Texts, texts_for


def texts() -> Texts:
    """Translations and formats in the command line's language."""
    return texts_for(cli_lang())
