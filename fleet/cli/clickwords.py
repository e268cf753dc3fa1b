"""The words click and typer say around a mistake on the command line, in the terminal's
language (issue 17): "No such option", "Missing argument", "Invalid value for …", the usage
line, "Try … for help." and the error panel's title.

typer's own copy of click writes these as English f-strings (no gettext to hook), so the
message a refusal carries is matched against the forms below and said through the catalogue
(translations/zh_CN/LC_MESSAGES/cli.po), with its values (the option's name, the value
given) kept as typed. On a Chinese terminal `install` puts translating versions of typer's
error display and of the usage line's prefix in place, before click parses anything; on any
other it puts typer's own back, so a process that runs both (the tests) gets each right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from typer import rich_utils
from typer._click import formatting

from fleet.core.i18n import N_, Texts

# typer's words around the error panel (rich_utils' constants), as English msgids.
FRAME_WORDS = {
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
}
USAGE = N_("Usage: ")
# The forms of click's and typer's messages (matched whole, in this order) and their msgids;
# a field named `detail` is itself a message, said the same way.
FORMS: list[tuple[str, str]] = [
    (
        r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.+)\)",
        N_("No such option: {name} (Possible options: {options})"),
    ),
    (r"No such option: (?P<name>.+)", N_("No such option: {name}")),
    (
        r"No such command (?P<name>.+?)\. Did you mean (?P<options>.+)\?",
        N_("No such command {name}. Did you mean {options}?"),
    ),
    (r"No such command (?P<name>.+)\.", N_("No such command {name}.")),
    (r"Missing command\.", N_("Missing command.")),
    (
        r"Got unexpected extra argument\(s\) \((?P<args>.*)\)",
        N_("Got unexpected extra argument(s) ({args})"),
    ),
    (r"Missing argument (?P<name>\S+)\.", N_("Missing argument {name}.")),
    (r"Missing option (?P<name>\S+)\.", N_("Missing option {name}.")),
    (
        r"Missing argument (?P<name>\S+)\. (?P<detail>.+)",
        N_("Missing argument {name}. {detail}"),
    ),
    (r"Missing option (?P<name>\S+)\. (?P<detail>.+)", N_("Missing option {name}. {detail}")),
    (r"Option (?P<name>.+) requires an argument\.", N_("Option {name} requires an argument.")),
    (
        r"Option (?P<name>.+) requires (?P<n>\d+) arguments\.",
        N_("Option {name} requires {n} arguments."),
    ),
    (r"Option (?P<name>.+) does not take a value\.", N_("Option {name} does not take a value.")),
    (
        r"Invalid value for (?P<name>.+?): (?P<detail>.+)",
        N_("Invalid value for {name}: {detail}"),
    ),
    (r"Invalid value: (?P<detail>.+)", N_("Invalid value: {detail}")),
    # what pydantic and typer say of the value itself
    (r"Input should be a valid integer\b.*", N_("Input should be a valid integer")),
    (r"Input should be a valid number\b.*", N_("Input should be a valid number")),
    (r"Input should be a valid date\b.*", N_("Input should be a valid date (YYYY-MM-DD)")),
    (r"(?P<value>.+) is not one of (?P<choices>.+)\.", N_("{value} is not one of {choices}.")),
    (r"Value (?P<value>.+) is not a valid (?P<kind>.+)\.", N_("{value} is not a valid {kind}.")),
]

_TYPERS: dict[str, Any] = {
    "rich_format_error": rich_utils.rich_format_error,
    "write_usage": formatting.HelpFormatter.write_usage,
    **{name: getattr(rich_utils, name) for name in FRAME_WORDS},
}


def translate(message: str, gettext: Callable[..., str]) -> str:
    """A click or typer message in the catalogue's words (as it is when no form matches)."""
    for pattern, msgid in FORMS:
        found = re.fullmatch(pattern, message.strip(), re.S)
        if found is None:
            continue
        values = {
            name: translate(value, gettext) if name == "detail" else value
            for name, value in found.groupdict().items()
            if value is not None
        }
        return gettext(msgid, **values)
    return message


def install(texts: Texts) -> None:
    """click's and typer's words in `texts`' language when it is Chinese, else typer's own."""
    if texts.lang != "zh":
        rich_utils.rich_format_error = _TYPERS["rich_format_error"]
        formatting.HelpFormatter.write_usage = _TYPERS["write_usage"]  # type: ignore[method-assign]
        for name in FRAME_WORDS:
            setattr(rich_utils, name, _TYPERS[name])
        return
    for name, msgid in FRAME_WORDS.items():
        setattr(rich_utils, name, texts.gettext(msgid))
    usage = texts.gettext(USAGE)
    show = _TYPERS["rich_format_error"]
    write_usage = _TYPERS["write_usage"]

    def rich_format_error(self: Any) -> None:
        said = translate(self.format_message(), texts.gettext)
        self.format_message = lambda: said  # this refusal only
        show(self)

    def write_usage_said(
        self: formatting.HelpFormatter, prog: str, args: str = "", prefix: str | None = None
    ) -> None:
        write_usage(self, prog, args, usage if prefix is None else prefix)

    rich_utils.rich_format_error = rich_format_error
    formatting.HelpFormatter.write_usage = write_usage_said  # type: ignore[method-assign]
