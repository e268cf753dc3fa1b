"""The command line's help in the user's language (issue 17): every command's and option's
help stays an English msgid in the code (a docstring or `help=`); when the terminal's language
(fleet.cli.common.cli_lang) is Chinese, the click command tree is translated from the
catalogues (translations/zh_CN/LC_MESSAGES/cli.po) once, before click parses anything, so
`fleet --help`, `fleet <command> --help` and the help shown for a bare group all read Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# typer's own words around the help (panel titles and the option notes); English msgids.
FRAME_WORDS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "DEFAULT_STRING": "[default: {}]",
    "REQUIRED_LONG_STRING": "[required]",
}
HELP_OPTION = "Show this message and exit."


def _walk(command: Any, path: str) -> Iterator[tuple[Any, str]]:
    yield command, path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, f"{path} {name}")


def help_texts(command: Any) -> dict[str, str]:
    """Every text the help of `command` (the `fleet` group) and its subcommands shows, as
    msgid -> where it is shown (`fleet db upgrade`, `fleet serve --port`)."""
    found: dict[str, str] = {word: "typer's help frame" for word in FRAME_WORDS.values()}
    found[HELP_OPTION] = "fleet --help"
    for cmd, path in _walk(command, "fleet"):
        for text in (cmd.help, cmd.short_help):
            if text:
                found.setdefault(text, path)
        for param in cmd.params:
            if getattr(param, "help", None):
                found.setdefault(param.help, f"{path} {param.name}")
    return found


def translate_help(command: Any, gettext: Callable[[str], str]) -> None:
    """Puts the translations in place of the English texts, in the tree and in typer's frame."""
    from typer import rich_utils

    for name, msgid in FRAME_WORDS.items():
        setattr(rich_utils, name, gettext(msgid))
    for cmd, _path in _walk(command, "fleet"):
        if cmd.help:
            cmd.help = gettext(cmd.help)
        if cmd.short_help:
            cmd.short_help = gettext(cmd.short_help)
        for param in cmd.params:
            if getattr(param, "help", None):
                param.help = gettext(param.help)
        _translate_help_option(cmd, gettext(HELP_OPTION))


def _translate_help_option(cmd: Any, text: str) -> None:
    """click makes each command's --help option when it is first asked for; this wraps that."""
    make = cmd.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None:
            option.help = text
        return option

    cmd.get_help_option = get_help_option
