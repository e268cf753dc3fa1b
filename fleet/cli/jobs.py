"""`fleet jobs list|run NAME` and `fleet scheduler`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fleet.cli import lang
from fleet.cli.common import fail, pad, reports_errors
from fleet.core.errors import Reason

app = typer.Typer(help="Scheduled jobs: list them, or run one now.", no_args_is_help=True)


@app.command("list")
@reports_errors
def list_jobs() -> None:
    """Every job with its cron line (local time); feed pulls are one job per enabled source."""
    from fleet.core.db import get_engine
    from fleet.jobs import runner

    for name, job in sorted(runner.registry(get_engine()).items()):
        t = lang.texts()
        schedule = job.schedule or t.gettext("(by hand)")
        doc = t.reason(job.doc) if isinstance(job.doc, Reason) else job.doc
        typer.echo(f"{name:<24} {pad(schedule, 16)} {doc}")


@app.command("run")
@reports_errors
def run(
    name: Annotated[str, typer.Argument(help="Job name, as `fleet jobs list` shows.")],
    attempts: Annotated[
        int | None, typer.Option(help="Tries before giving up (FLEET_JOB_ATTEMPTS).")
    ] = None,
) -> None:
    """Runs one job now, under the same lock as the scheduler, and records the run."""
    from fleet.core.db import get_engine
    from fleet.core.logs import setup_logging
    from fleet.jobs import runner

    setup_logging()
    engine = get_engine()
    run = runner.run_job(engine, runner.get_job(engine, name), attempts=attempts)
    if run is None:
        raise fail("job {name} is running elsewhere now; try again later", name=name)
    typer.echo(
        json.dumps(
            {
                "job": run.job,
                "outcome": run.outcome.value,
                "attempt": run.attempt,
                "counts": run.counts,
                "message": run.message,
                "error": run.error,
            },
            ensure_ascii=False,
            default=str,
        )
    )
    if run.outcome.value != "succeeded":
        raise typer.Exit(1)


@reports_errors
def scheduler() -> None:
    """Runs the scheduled jobs until stopped: start one or several (one runs each firing)."""
    from fleet.core.db import get_engine
    from fleet.core.logs import setup_logging
    from fleet.jobs import scheduler as scheduling

    setup_logging()
    try:
        scheduling.build(get_engine()).start()
    except (KeyboardInterrupt, SystemExit):
        typer.echo(lang.texts().gettext("scheduler stopped"))
