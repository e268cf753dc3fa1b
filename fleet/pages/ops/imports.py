"""Import from the pages: upload a file of branches, staff, markets, merchants or terminals,
see every bad row with its reason and what the good rows would do, import the good rows, and
download the bad ones as XLSX. Admins import everything; branch operations all but branches,
into their own branches (a row of another branch is a bad row, with its reason). The steps
are fleet.imports.staged's; the file is read by the same code as `fleet import`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core import files
from fleet.core.db import attempt
from fleet.core.errors import FleetError
from fleet.core.requests import SessionDep
from fleet.imports import columns, staged
from fleet.imports.service import KINDS, FileRefused, ImportReport, RowError
from fleet.pages.ops.common import render_ops, require_ops
from fleet.pages.render import redirect, texts_of

router = APIRouter(include_in_schema=False)
# Bad rows listed on the page; the XLSX has them all.
ROWS_SHOWN = 500


def _kinds(caller: PageCaller) -> list[str]:
    return [kind for kind in KINDS if staged.may_import(caller.actor, kind)]


def _form(
    request: Request, caller: PageCaller, *, error: str | None = None, kind: str = ""
) -> Response:
    t = texts_of(request, caller)
    return render_ops(
        request,
        "ops/imports.html",
        caller,
        status_code=422 if error else 200,
        title=t.gettext("Import files"),
        kinds=[(k, t.reason(columns.KIND_WORDS[k])) for k in _kinds(caller)],
        kind=kind,
        error=error,
    )


@router.get("/imports")
def imports_page(request: Request, caller: PageCallerDep) -> Response:
    require_ops(request, caller)
    return _form(request, caller)


@router.post("/imports")
def upload(
    request: Request,
    caller: PageCallerDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Keeps the file and shows its preview; nothing is imported yet."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    kind = caller.form.get("kind", "")
    if kind not in _kinds(caller):
        return _form(request, caller, error=t.gettext("Choose what the file holds."))
    if file is None or not file.filename:
        return _form(request, caller, error=t.gettext("Choose a file."), kind=kind)
    try:
        token = staged.stage(caller.actor, kind, file)
    except FleetError as exc:
        return _form(request, caller, error=t.error(exc), kind=kind)
    return redirect(f"/ops/imports/{token}")


@router.get("/imports/{token}")
def preview_page(
    request: Request, caller: PageCallerDep, session: SessionDep, token: str
) -> Response:
    """The preview of a kept file (nothing written), or what its confirm imported."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    upload = staged.staged(caller.actor, token)
    done = staged.result(caller.actor, token)
    report: ImportReport | None = None
    error = None
    problems: list[RowError] = []
    if done is None:
        try:
            report = staged.preview(session, caller.actor, token, t.reason)
            problems = report.errors
        except FileRefused as exc:  # its header: every problem of it is listed
            error, problems = t.error(exc), exc.problems
        except FleetError as exc:  # the file cannot be read: its size, format
            error = t.error(exc)
    rows = [
        (e.row, columns.column_word(upload.kind, e.column), t.reason(e.reason))
        for e in problems[:ROWS_SHOWN]
    ]
    return render_ops(
        request,
        "ops/import.html",
        caller,
        status_code=422 if error else 200,
        title=t.gettext("Import {file}", file=upload.filename),
        upload=upload,
        kind_word=t.reason(columns.KIND_WORDS[upload.kind]),
        report=report,
        good=(report.rows - report.bad_rows) if report else 0,
        rows=rows,
        errors_total=len(problems),
        done=done,
        error=error,
        has_rejects=upload.rejects.is_file() and (report is None or report.bad_rows > 0),
    )


@router.post("/imports/{token}/confirm")
def confirm(request: Request, caller: PageCallerDep, session: SessionDep, token: str) -> Response:
    """Imports the good rows of the kept file; a second confirm changes nothing."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    try:
        with attempt(session):
            counts, first = staged.confirm(session, caller.actor, token, t.reason)
    except FleetError as exc:
        return redirect(f"/ops/imports/{token}", flash=t.error(exc))
    if not first:
        return redirect(f"/ops/imports/{token}", flash=t.gettext("This file was imported already."))
    return redirect(
        f"/ops/imports/{token}",
        flash=t.gettext(
            "Imported: {created} new, {updated} updated, {unchanged} unchanged; "
            "{skipped} rows with problems left out.",
            **counts,
        ),
    )


@router.get("/imports/{token}/rejects.xlsx")
def rejects(request: Request, caller: PageCallerDep, token: str) -> Response:
    """The bad rows as they were, with a column saying why, to correct and upload again."""
    require_ops(request, caller)
    upload = staged.staged(caller.actor, token)
    name = f"{upload.path.stem}-rejects.xlsx"
    return files.download(name, staged.copy_rejects(caller.actor, token))
