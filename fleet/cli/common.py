"""What every command shares: one-line errors, the acting user, the database in use."""

from __future__ import annotations

import errno
import functools
import os
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from fleet.core.access import Actor, system_actor
from fleet.core.config import get_settings
from fleet.core.errors import FleetError, Reason
from fleet.core.i18n import N_, Lang, Texts, lang_of

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

F = TypeVar("F", bound=Callable[..., Any])
# Every command that lists at most --limit things takes --all, and heads a cut list
# "20 of 380 …" (core.paging.counted); its --json says total and shown.
ShowAll = Annotated[bool, typer.Option("--all", help="List every one, not only the first --limit.")]
KINDS_HELP = "branches, staff, markets, merchants or terminals"
# How to see the bad rows a refused import does not list.
SEE_ALL_ROWS = N_("--rejects FILE writes every bad row with its reason")


def listed_json(page: Any) -> str:
    """A (possibly cut) list as JSON: {"total": 380, "shown": 20, "items": [...]}."""
    import json

    items = [item.model_dump(mode="json") for item in page.items]
    body = {"total": page.total, "shown": page.shown, "items": items}
    return json.dumps(body, ensure_ascii=False, indent=1)


def fail(message: str | Reason, code: int = 1, **values: object) -> typer.Exit:
    """A refusal of the command line itself, as one line on stderr in the language of the
    terminal (cli_lang). `message` is an English msgid with `{name}` fields filled from
    `values` (said from the catalogues, cli.po), as a FleetError's is; never an f-string,
    which no catalogue could look up (tests/cli/test_refusals.py fails on one)."""
    reason = message if isinstance(message, Reason) else Reason(message, **values)
    typer.echo(said_reason(reason), err=True)
    return typer.Exit(code)


def reports_errors(func: F) -> F:
    """Turns a FleetError into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FleetError as exc:
            typer.echo(said_error(exc), err=True)
            for problem in _row_errors(exc):
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


REFUSED = N_("error: {what}")  # how a refusal starts, in the terminal's language


def said_error(exc: FleetError) -> str:
    """A domain error as one line in the terminal's language (cli_lang), from the errors
    catalogue as the pages say it."""
    return said_reason(Reason.of(exc))


def said_reason(reason: Reason) -> str:
    """A refusal as one line, "错误：…" or "error: …", in the terminal's language (cli_lang)."""
    from fleet.core.i18n import texts_for

    lang = cli_lang()
    # English keeps the message as the code wrote it (its values as codes, as before).
    what = texts_for("zh").reason(reason) if lang == "zh" else str(reason)
    return texts_for(lang).gettext(REFUSED, what=what)


def _row_errors(exc: FleetError) -> list[str]:
    """The bad rows a refused file lists (an import's), each where and why, in the terminal's
    language (cli_lang): said from the reasons the error carries (`row_reasons`, kept as
    codes and values), else as its JSON details say them (English)."""
    from fleet.core.i18n import texts_for

    details = exc.details
    if not isinstance(details, dict):
        return []
    listed = details.get("errors", [])
    reasons: list[Reason] | None = getattr(exc, "row_reasons", None)
    if reasons is not None:
        t = texts_for(cli_lang())
        lines = [t.reason(r) for r in reasons]
    else:
        t = texts_for("en")
        lines = [
            f"row {e['row']}"
            + (f", column {e['column']}" if e.get("column") else "")
            + f": {e['reason']}"
            for e in listed
        ]
    total = details.get("errors_total", len(listed))
    if written := details.get("rejects_path"):
        said = t.gettext(
            "all {n} bad rows, with their reasons: {path}",
            n=details.get("bad_rows", total),
            path=written,
        )
        return [*lines, said]
    more = total - len(lines)
    if more <= 0:
        return lines
    return [*lines, t.gettext("... and {n} more ({how})", n=more, how=t.gettext(SEE_ALL_ROWS))]


def counted_said(page: Any, t: Texts, whole: str, cut: str, more: str | None = None) -> str:
    """A list's heading in `t`'s language (core.paging.counted's, worded): `whole` ("{total}
    in-stock units") when every one is shown, else `cut` ("{shown} of {total} in-stock units
    ({more})"), `more` saying how to see the rest (--all, unless given)."""
    if not page.is_cut:
        return t.gettext(whole, total=page.total)
    said = t.gettext(more or N_("--all shows every one"))
    return t.gettext(cut, shown=page.shown, total=page.total, more=said)


def use_database(url: str) -> None:
    """Points every later get_engine()/get_settings() call at `url`."""
    os.environ["FLEET_DATABASE_URL"] = url
    get_settings.cache_clear()


def cli_actor() -> Actor:
    return system_actor(f"cli:{os.environ.get('USER') or 'local'}")


# How to get a database that can serve a command.
SET_UP = Reason(
    "run `fleet db upgrade` to set it up, or point FLEET_DATABASE_URL at a set-up one "
    "(`fleet demo` prints its own, e.g. FLEET_DATABASE_URL=sqlite:////path/to/fleet-demo.db)"
)


def database_not_set_up(url: str) -> Reason | None:
    """Why the database at `url` cannot serve a command (missing, empty, unreachable), with
    the fix, or None. Never creates a SQLite file: connecting to a missing one would."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from fleet.core.db import get_engine

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    fix = SET_UP
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file() or path.stat().st_size == 0:
            return Reason(
                "the database {url} is not set up (no such file or an empty one): {fix}",
                url=shown,
                fix=fix,
            )
    try:
        tables = inspect(get_engine()).get_table_names()
    except SQLAlchemyError as exc:
        # The driver's own words (it speaks English), after ours.
        problem = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return said_database_error(exc, url) or _unreachable(parsed, shown, problem)
    if not tables:
        return Reason(
            "the database {url} is not set up (it has no tables): {fix}", url=shown, fix=fix
        )
    return None


def said_failure(exc: BaseException) -> Reason | None:
    """What a failure a user can cause and mend means, with the fix (a path that is missing,
    a folder, not allowed or on a read-only disk; a database that cannot be reached or is not
    set up), or None for one nobody foresaw (a bug: report_crash logs it)."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, OSError) and exc.filename is not None:
        return said_os_error(exc)
    if isinstance(exc, DBAPIError):
        return said_database_error(exc)
    return None


# What an OSError on a path the user gave means, by its errno: a msgid with the fix.
_OS_PROBLEMS = {
    errno.ENOENT: N_("{path} does not exist: check the path"),
    errno.EISDIR: N_("{path} is a folder: give the path of a file in it"),
    errno.ENOTDIR: N_("{path}: a part of the path is a file, not a folder: check the path"),
    errno.EACCES: N_("no permission to use {path}: choose a file or folder you may use"),
    errno.EPERM: N_("no permission to use {path}: choose a file or folder you may use"),
    errno.EROFS: N_("{path} is on a read-only disk: choose a file or folder elsewhere"),
    errno.ENOSPC: N_("the disk holding {path} is full: free some space and run it again"),
}


def said_os_error(exc: OSError) -> Reason | None:
    """An OSError on a path as one reason with the fix, or None for an errno not foreseen."""
    problem = _OS_PROBLEMS.get(exc.errno or 0)
    if problem is None:
        return None
    return Reason(problem, path=os.fsdecode(exc.filename))


def _tables() -> list[str]:
    """The tables of the configured database ([] when it cannot say)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from fleet.core.db import get_engine

    try:
        return inspect(get_engine()).get_table_names()
    except SQLAlchemyError:
        return []


def said_database_error(exc: Exception, database_url: str | None = None) -> Reason | None:
    """A database that cannot be reached, opened or written, or was never set up: found by
    the check before a command, or in its middle (it went away; `fleet db upgrade`)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

    url = make_url(database_url or get_settings().database_url)
    shown = url.render_as_string(hide_password=True)
    orig = getattr(exc, "orig", None) or exc
    problem = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    # A table or a column the code reads is not there (SQLite's words, PostgreSQL's codes).
    missing = any(s in problem for s in ("no such table", "no such column")) or getattr(
        orig, "sqlstate", None
    ) in ("42P01", "42703")
    if isinstance(exc, OperationalError | ProgrammingError) and missing:
        if not _tables():
            return Reason(
                "the database {url} is not set up (it has no tables): {fix}", url=shown, fix=SET_UP
            )
        # Set up by an older fleet, not upgraded since this one was installed.
        return Reason(
            "the database {url} has an older schema than this fleet: run `fleet db upgrade` "
            "(`fleet db backup FILE` first keeps a copy)",
            url=shown,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        if url.get_backend_name() == "sqlite" and "readonly" in problem:
            return Reason(
                "the database file {path} is read-only: fleet must be able to write it and "
                "its folder",
                path=url.database,
            )
        if url.get_backend_name() == "sqlite" and "unable to open" in problem:
            return Reason(
                "cannot open the database file {path}: its folder must exist and be writable",
                path=url.database,
            )
        return _unreachable(url, shown, problem)
    return None


def _unreachable(url: URL, shown: str, problem: str) -> Reason:
    """Why a database server did not let fleet in, with the fix where the driver's words
    (libpq's, English) say which of the URL's parts is wrong."""
    if "does not exist" in problem and f'database "{url.database}"' in problem:
        return Reason(
            "the database {name} does not exist on the server of {url}: create it "
            "(createdb {name}), then run `fleet db upgrade`",
            name=url.database,
            url=shown,
        )
    if "password authentication failed" in problem or (
        "does not exist" in problem and f'role "{url.username}"' in problem
    ):
        return Reason(
            "the server of {url} refused its user or password: correct them in "
            "FLEET_DATABASE_URL ({problem})",
            url=shown,
            problem=problem,
        )
    if "Connection refused" in problem:
        return Reason(
            "cannot reach the database {url}: nothing answers at that host and port; start "
            "PostgreSQL there, or correct FLEET_DATABASE_URL",
            url=shown,
        )
    return Reason("cannot reach the database {url}: {problem}", url=shown, problem=problem)


def cli_lang() -> Lang:
    """The language of everything a command says (help, reports, refusals, domain errors,
    click's own words): the locale's (LC_ALL, LC_MESSAGES, LANG, the first one set) when it
    names Chinese or English, else FLEET_DEFAULT_LANGUAGE (Chinese unless set), as the pages
    default to it. A bare C or POSIX locale (a server's, a cron job's) names no language, so
    the bank's documented default holds; a script that reads English sets LANG=en_US.UTF-8
    or FLEET_DEFAULT_LANGUAGE=en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").lower()
        if value.startswith(("zh", "en")):
            return lang_of(value)
        if value:
            break
    try:
        return get_settings().default_language
    except Exception:  # another bad setting, reported by the command itself in this language
        return lang_of(os.environ.get("FLEET_DEFAULT_LANGUAGE"))


def report_crash(exc: BaseException, argv: list[str]) -> int:
    """A command's unexpected failure: its traceback to the CLI's log file, one line in the
    user's language to stderr; the exit code."""
    from fleet.core.logs import crash_line, write_crash

    where = write_crash(exc, argv)
    typer.echo(crash_line(exc, where, cli_lang()), err=True)
    return 1


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns (on the left when `right`)."""
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space
