"""The `fleet` command line: a thin shell over the same services as the API."""

from __future__ import annotations

import _thread
import json
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, _click

from fleet.cli import aftersales as aftersales_cli
from fleet.cli import contracts as contract_cli
from fleet.cli import coverage as coverage_cli
from fleet.cli import feeds, scoring
from fleet.cli import jobs as job_cli
from fleet.cli import maps as map_cli
from fleet.cli import markets as market_cli
from fleet.cli import pay as pay_cli
from fleet.cli import recovery as recovery_cli
from fleet.cli import visits as visit_cli
from fleet.cli.common import (
    cli_actor,
    cli_lang,
    database_not_set_up,
    fail,
    pad,
    report_crash,
    reports_errors,
    said_failure,
    use_database,
)
from fleet.core.access import Role
from fleet.core.config import get_settings
from fleet.core.i18n import Texts


class _CtrlCInFinalizers:
    """Python swallows a KeyboardInterrupt raised inside a finalizer or a weakref callback (the
    garbage collector's work: it prints 'Exception ignored in …' with a traceback and goes
    on), so a Ctrl-C landing there was lost and the command ran to its end. While a command
    runs, such an interrupt is raised again in the main thread, where it stops the command,
    and remembered in case the command ends first."""

    def __enter__(self) -> _CtrlCInFinalizers:
        self.lost = False
        self._before = sys.unraisablehook
        sys.unraisablehook = self._hook
        return self

    def __exit__(self, *exc: object) -> None:
        sys.unraisablehook = self._before

    def _hook(self, unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.lost = True
            # From another thread, a moment later: raised now, it would land in this hook.
            later = threading.Timer(0.05, _thread.interrupt_main)
            later.daemon = True  # never holds up the end of the process
            later.start()
            return
        self._before(unraisable)


class _FleetGroup(TyperGroup):
    """Keeps the words after `fleet` for the callback, which runs before the command parses
    them: `fleet import --help` needs no database."""

    def invoke(self, ctx: _click.Context) -> Any:
        ctx.meta["fleet.argv"] = [*getattr(ctx, "_protected_args", []), *ctx.args]
        # A failure the user can mend (a path, the database) is one line with the fix, for
        # every command alike; Ctrl-C says it stopped (exit 130, as shells count it).
        try:
            with _CtrlCInFinalizers() as ctrl_c:
                done = super().invoke(ctx)
            if ctrl_c.lost:
                raise KeyboardInterrupt
            return done
        except KeyboardInterrupt:
            raise fail("stopped (Ctrl-C)", code=130) from None
        except Exception as exc:
            problem = said_failure(exc)
            if problem is None:
                raise
            raise fail(problem) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Help and click's own refusals in the terminal's language: the whole tree, before
        # click parses anything.
        from fleet.cli import clickwords
        from fleet.cli.helptext import translate_help
        from fleet.core.i18n import texts_for

        texts = texts_for(cli_lang())
        translate_help(self, texts.gettext)
        clickwords.install(texts)
        return super().main(*args, **kwargs)


class _FleetTyper(typer.Typer):
    """The `fleet` command: no traceback ever reaches the person at the terminal. A failure
    nobody foresaw writes its traceback to the CLI's log file (FLEET_CLI_LOG_FILE) and says so
    in one line, in the user's language, exiting 1. (Tests invoke the commands through
    CliRunner, which bypasses this and sees the exception itself.)"""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit:
            raise
        except KeyboardInterrupt:  # before or after a command: still one line, no traceback
            fail("stopped (Ctrl-C)", code=130)
            sys.exit(130)
        except Exception as exc:
            sys.exit(report_crash(exc, sys.argv[1:]))


app = _FleetTyper(
    cls=_FleetGroup,
    help="fleet: run a bank's fleet of transfer-phone terminals (转账电话).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(map_cli.app, name="map")
app.add_typer(market_cli.app, name="markets")
app.add_typer(market_cli.campaign_app, name="campaign")
app.add_typer(recovery_cli.app, name="recovery")
app.add_typer(recovery_cli.redeploy_app, name="redeploy")
app.add_typer(job_cli.app, name="jobs")
app.add_typer(aftersales_cli.app, name="tickets")
app.add_typer(aftersales_cli.service_app, name="service")
app.add_typer(pay_cli.fees_app, name="fees")
app.add_typer(pay_cli.revenue_app, name="revenue")
app.add_typer(pay_cli.scorecard_app, name="scorecard")
app.add_typer(coverage_cli.app, name="coverage")
app.add_typer(contract_cli.app, name="contracts")

KINDS_HELP = "branches, staff, markets, merchants or terminals"


@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Brings the database named by FLEET_DATABASE_URL to the newest schema."""
    from fleet.migrations import upgrade

    upgrade(get_settings().database_url)
    typer.echo(
        _t().gettext("database at newest schema: {url}", url=_safe_url(get_settings().database_url))
    )


@db_app.command("backup")
@reports_errors
def db_backup(
    out: Annotated[Path, typer.Argument(help="The backup file to write.")],
) -> None:
    """Writes a consistent snapshot of the database while fleet runs (SQLite: the online
    backup API; PostgreSQL: pg_dump's custom format)."""
    from fleet.core.backup import backup

    backup(get_settings().database_url, out)
    typer.echo(
        _t().gettext(
            "backup of {url} written to {path}",
            url=_safe_url(get_settings().database_url),
            path=out,
        )
    )


@db_app.command("restore")
@reports_errors
def db_restore(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `fleet db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace without asking.")] = False,
) -> None:
    """Replaces the database with a backup. Stop `fleet serve` and `fleet scheduler` first."""
    from fleet.core.backup import restore

    url = get_settings().database_url
    t = _t()
    if not yes:
        typer.confirm(
            t.gettext(
                "replace everything in {url} with {path}?", url=_safe_url(url), path=backup_file
            ),
            abort=True,
        )
    restore(url, backup_file)
    typer.echo(
        t.gettext(
            "{url} restored from {path}; run `fleet db upgrade` next",
            url=_safe_url(url),
            path=backup_file,
        )
    )


def _t() -> Texts:
    """The command line's words (fleet.cli.lang)."""
    from fleet.cli import lang

    return lang.texts()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("import")
@reports_errors
def import_(
    kind: Annotated[str, typer.Argument(help=KINDS_HELP)],
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8 or GBK) or XLSX file.", exists=True, dir_okay=False, readable=True
        ),
    ],
    skip_bad: Annotated[
        bool, typer.Option(help="Import the good rows; write bad ones aside.")
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where bad rows are written with their reasons: with --skip-bad, or when the "
            "file is refused (nothing imported)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Imports one kind from a file, upserting by natural key; a bad row stops the whole file."""
    from fleet.core.db import session_scope
    from fleet.imports import service as imports

    if kind not in imports.KINDS:
        raise fail(
            "unknown kind {kind!r}; use branches, staff, markets, merchants or terminals", kind=kind
        )
    if skip_bad and rejects is None:
        rejects = file.with_name(file.stem + ".rejects.csv")
    # The rejects file in the reader's words on a Chinese terminal (its added columns, the
    # columns at fault, the reasons), as the import page writes it; import ignores them.
    say = _t().reason if cli_lang() == "zh" else None
    with session_scope() as session:
        report = imports.import_file(
            session, cli_actor(), kind, file, skip_bad=skip_bad, rejects_path=rejects, say=say
        )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    from fleet.imports.columns import KIND_WORDS

    t = _t()
    typer.echo(
        t.gettext(
            "{kind}: {rows} rows: {created} created, {updated} updated, {unchanged} unchanged, "
            "{skipped} skipped",
            kind=t.reason(KIND_WORDS[kind]),
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            skipped=report.skipped,
        )
    )
    if report.skipped:
        typer.echo(t.gettext("bad rows written to {path}", path=report.rejects_path))
    if report.ungeocoded:
        typer.echo(
            t.gettext("{n} addresses could not be placed on the map:", n=len(report.ungeocoded))
        )
        for address in report.ungeocoded:
            typer.echo(f"  {address}")


@app.command("export")
@reports_errors
def export(
    kind: Annotated[str, typer.Argument(help=KINDS_HELP)],
    out: Annotated[Path, typer.Option(help="Output file, .csv or .xlsx.")],
    with_contacts: Annotated[
        bool, typer.Option(help="Merchant phones and contact names in clear (masked otherwise).")
    ] = False,
) -> None:
    """Writes one kind with the columns that import reads, so a round trip changes nothing
    (merchant contacts are masked unless --with-contacts)."""
    from fleet.core.db import session_scope
    from fleet.imports import service as imports

    if kind not in imports.KINDS:
        raise fail(
            "unknown kind {kind!r}; use branches, staff, markets, merchants or terminals", kind=kind
        )
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise fail("--out {out}: use a .csv or .xlsx file", out=out.name)
    out.parent.mkdir(parents=True, exist_ok=True)  # as every command that writes a file
    with session_scope() as session:
        count = imports.export_kind(session, cli_actor(), kind, out, with_contacts=with_contacts)
    from fleet.imports.columns import KIND_WORDS

    t = _t()
    typer.echo(
        t.gettext(
            "{n} {kind} written to {path}", n=count, kind=t.reason(KIND_WORDS[kind]), path=out
        )
    )


@user_app.command("create")
@reports_errors
def user_create(
    username: Annotated[str, typer.Argument(help="Login name, e.g. a staff number.")],
    role: Annotated[Role, typer.Option(help="admin, branch_ops, field or marketing.")],
    branch: Annotated[str, typer.Option(help="Home branch code.")],
    full_name: Annotated[str, typer.Option(help="Name shown to colleagues.")] = "",
    password: Annotated[
        str | None,
        typer.Option(
            help="Initial password; asked for when omitted (or read from FLEET_NEW_PASSWORD)."
        ),
    ] = None,
) -> None:
    """Creates a user who can sign in to the API and the pages."""
    from fleet.auth import service as auth
    from fleet.auth.models import UserCreate
    from fleet.core.db import session_scope

    password = password or os.environ.get("FLEET_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise fail("give --password, set FLEET_NEW_PASSWORD, or run in a terminal")
        password = typer.prompt(_t().gettext("password"), hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise fail("the password must have at least 8 characters")
    with session_scope() as session:
        user = auth.create_user(
            session,
            cli_actor(),
            UserCreate(
                username=username,
                role=role,
                branch_code=branch,
                full_name=full_name,
                password=password,
            ),
        )
    from fleet.core.words import ROLE

    t = _t()
    typer.echo(
        t.gettext(
            "user {username} ({role}) created at branch {branch}",
            username=user.username,
            role=t.gettext(ROLE[user.role.value]),
            branch=branch,
        )
    )


@app.command("serve")
@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (about one per CPU core).")
    ] = 1,
) -> None:
    """Serves the API and pages on the database named by FLEET_DATABASE_URL."""
    _can_listen(host, port)
    _serve(host, port, workers)


def _can_listen(host: str, port: int) -> None:
    """Refuses, in one line with the fix, an address nothing could serve on (a port in use,
    one below 1024 without the right, a host not this machine's), before anything starts."""
    import errno
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise fail(
                "port {port} on {host} is in use: stop what serves there or choose another --port",
                port=port,
                host=host,
            ) from None
        raise fail(
            "cannot serve on {host}:{port}: {problem}; choose another --host or --port",
            host=host,
            port=port,
            problem=exc.strerror or type(exc).__name__,
        ) from None


def _logged_app() -> Any:
    """The app with fleet's JSON log lines; each worker process builds its own."""
    from fleet.core.logs import setup_logging
    from fleet.web.app import create_app

    # JSON log lines with request ids (fleet.web.ops logs each request), not uvicorn's own.
    setup_logging()
    return create_app()


def _serve(host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    # Several workers import the app by name, each in its own process.
    app_: Any = _logged_app() if workers == 1 else "fleet.cli.main:_logged_app"
    uvicorn.run(
        app_,
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )


@app.command("demo")
@reports_errors
def demo(
    db: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file for the demo (rebuilt); default fleet-demo.db, or FLEET_DATABASE_URL "
            "when that is set."
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build, report, and stop.")] = False,
    seed: Annotated[int, typer.Option(help="Generator seed; same seed, same region.")] = 20261128,
    scale: Annotated[
        float, typer.Option(help="Merchants and terminals relative to the full demo (1.0).")
    ] = 1.0,
) -> None:
    """Builds the Linyi demo region through the import code users use, then serves it."""
    from fleet.demo import build

    if not no_serve:
        _can_listen(host, port)  # before the build, not after it
    if db is not None or "FLEET_DATABASE_URL" not in os.environ:
        path = (db or Path("fleet-demo.db")).resolve()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        use_database(f"sqlite:///{path}")
    t = _t()

    def said(step: build.Step) -> None:
        typer.echo(f"  {pad(t.reason(step.part), 10)} {t.reason(step.said)}")

    report = build.build_demo(get_settings().database_url, seed=seed, scale=scale, echo=said)
    typer.echo(report.summary(t))
    typer.echo(
        t.gettext(
            "later commands on this database: {command}",
            command=f"`export FLEET_DATABASE_URL={_safe_url(get_settings().database_url)}`",
        )
    )
    # The logins with --no-serve too: whoever serves the demo later (`fleet serve`) needs them.
    typer.echo(t.gettext("demo logins (username / password):"))
    for username, password, what in report.logins:
        typer.echo(f"  {username:<18} {password:<12} {t.reason(what)}")
    if no_serve:
        return
    site = f"http://{host}:{port}"
    said_site = t.gettext("serving on {site}  (API docs: {docs})", site=site, docs=f"{site}/docs")
    typer.echo(f"\n{said_site}")
    _serve(host, port)


# Commands that make or replace the database themselves; every other one needs it set up.
MAKES_ITS_DATABASE = {"db upgrade", "db restore", "demo"}


@app.callback()
def _plug_in(ctx: typer.Context) -> None:
    # Settings first: a bad one (a short FLEET_SECRET_KEY in production) is one clear line,
    # not a traceback that would also print the values given.
    from pydantic import ValidationError

    try:
        get_settings()
    except ValidationError as exc:
        problems = "; ".join(_said_problem(e) for e in exc.errors())
        raise fail("configuration: {problems}", problems=problems, code=2) from None
    # Every table known before the first query resolves foreign keys, and every layer's hooks
    # set (fleet.wiring), for every command alike.
    from fleet import wiring

    wiring.plug_in()
    words = ctx.meta.get("fleet.argv", [])
    command = " ".join(words[:2]) if ctx.invoked_subcommand == "db" else ctx.invoked_subcommand
    if command not in MAKES_ITS_DATABASE and "--help" not in words:
        problem = database_not_set_up(get_settings().database_url)
        if problem:
            raise fail(problem)


def _said_problem(error: Any) -> str:
    """One configuration problem in the refusal's language: fleet's own reasons (BadValue)
    from the catalogues, pydantic's words as click's are said (clickwords), else as given."""
    from fleet.cli.clickwords import translate
    from fleet.core.errors import BadValue
    from fleet.core.i18n import texts_for

    t = texts_for(cli_lang())
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, BadValue):
        return t.reason(cause.reason)
    said = str(error["msg"]).removeprefix("Value error, ")
    return translate(said, t.gettext) if t.lang == "zh" else said


app.command("ingest")(feeds.ingest)
app.command("score")(scoring.score)
app.command("kpi")(scoring.kpi)
app.command("revisits")(visit_cli.revisits)
app.command("scheduler")(job_cli.scheduler)

if __name__ == "__main__":  # pragma: no cover
    app()
