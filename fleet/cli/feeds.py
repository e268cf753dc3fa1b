"""`fleet ingest`: take a transaction feed from a file or a paged HTTP endpoint."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.cli.common import cli_actor, fail, reports_errors

if TYPE_CHECKING:
    from fleet.feeds.service import IngestReport


@reports_errors
def ingest(
    source: Annotated[
        str, typer.Argument(help="Feed file (CSV or NDJSON, maybe .gz) or http(s) URL.")
    ],
    rejects: Annotated[
        Path | None, typer.Option(help="Also write rejected lines, with reasons, to this CSV.")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="JSON or TOML file mapping the bank's columns and codes onto ours."),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="utf-8 or gb18030; detected when omitted.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print received/accepted/duplicate/rejected as JSON.")
    ] = False,
    max_rejected_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Fail (exit 1) when more than this share of lines is refused; "
            "default FLEET_FEED_MAX_REJECTED_SHARE (0.05).",
        ),
    ] = None,
) -> None:
    """Takes every valid transaction exactly once; prints what was received, accepted,
    duplicate and rejected (received = accepted + duplicate + rejected).

    Exits 1, after printing the counts, when nothing was accepted from a non-empty feed (a
    feed of duplicates only succeeds) or too many lines were refused; accepted lines stay."""
    from fleet.feeds import service

    actor = cli_actor()
    if source.startswith(("http://", "https://")):
        from fleet.feeds import pull

        report = pull.ingest_url(
            source,
            actor=actor,
            rejects_path=rejects,
            mapping_path=mapping,
            max_rejected_share=max_rejected_share,
        )
    else:
        path = Path(source)
        if not path.is_file():
            raise fail("{source} is not a file or an http(s) URL", source=source)
        with _progress(path) as progress:
            report = service.ingest_file(
                path,
                actor=actor,
                rejects_path=rejects,
                mapping_path=mapping,
                encoding=encoding,
                progress=progress,
                max_rejected_share=max_rejected_share,
            )
    if as_json:
        typer.echo(json.dumps(report.counts()))
    else:
        _say(report)
    if report.failure:
        raise report.failure  # after the counts: one line on stderr, exit 1


def _say(report: IngestReport) -> None:
    from fleet.cli import lang

    t = lang.texts()
    typer.echo(
        t.gettext(
            "received {received}, accepted {accepted}, duplicate {duplicate}, rejected "
            "{rejected} (run {run}, {seconds} s)",
            received=report.received,
            accepted=report.accepted,
            duplicate=report.duplicate,
            rejected=report.rejected,
            run=report.run_id,
            seconds=f"{report.seconds:.1f}",
        )
    )
    if report.rejected and report.rejects_path:
        typer.echo(t.gettext("rejected lines and their reasons: {path}", path=report.rejects_path))
    elif report.rejected:
        typer.echo(
            t.gettext(
                "see the reasons with: {request}",
                request=f"GET /api/v1/ingests/{report.run_id}/rejects",
            )
        )


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over the file's bytes, on a terminal only."""
    if not sys.stderr.isatty():
        yield None
        return
    done = 0
    with typer.progressbar(length=path.stat().st_size, label="ingesting", file=sys.stderr) as bar:

        def update(position: int) -> None:
            nonlocal done
            bar.update(position - done)
            done = position

        yield update
