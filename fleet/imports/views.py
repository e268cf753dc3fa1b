"""Import and export over the API: the same code paths as `fleet import` and `fleet export`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse

from fleet.auth.dependencies import ActorDep
from fleet.core import files
from fleet.core.access import Permission
from fleet.core.requests import SessionDep
from fleet.imports import service as imports

router = APIRouter()
Kind = Literal["branches", "staff", "markets", "merchants", "terminals"]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@router.post("/imports/{kind}", tags=["import and export"])
def upload(
    session: SessionDep,
    actor: ActorDep,
    kind: Kind,
    file: Annotated[UploadFile, File()],
    skip_bad: Annotated[bool, Query(description="Import the good rows, keep the bad.")] = False,
    problems: Annotated[
        Literal["first", "all"],
        Query(
            description="Which problems `errors` lists: the first FLEET_IMPORT_ERRORS_LISTED "
            "(errors_total counts them all), or all of them."
        ),
    ] = "first",
) -> dict[str, Any]:
    """Imports a CSV or XLSX file of one kind, with English or Chinese headers.

    Upserts by natural key. A file with bad rows imports nothing and answers 422 listing the
    first bad rows (row, column, reason; FLEET_IMPORT_ERRORS_LISTED of them) and
    `errors_total`; `problems=all` lists every one. With `skip_bad` the good rows are
    imported and the bad rows are reported the same way. Files past FLEET_IMPORT_MAX_BYTES
    unpacked or FLEET_IMPORT_MAX_ROWS rows are refused.
    """
    every = problems == "all"
    actor.require(Permission.import_data)
    with files.upload_folder() as folder:
        path = files.save_upload(file, folder, limit=MAX_UPLOAD_BYTES)
        rejects = folder / "rejects.csv"
        try:
            report = imports.import_file(
                session,
                actor,
                kind,
                path,
                skip_bad=skip_bad,
                rejects_path=rejects if skip_bad else None,
                filename=path.name,
            )
        except imports.FileRefused as refused:
            if every:
                refused.details = {
                    **refused.details,
                    "errors": imports.problem_list(refused.problems),
                }
            raise
        result = report.to_dict(every=every)
        result["rejects_path"] = None  # a server-side temporary file means nothing to the caller
        return result


@router.get("/exports/{kind}", tags=["import and export"], response_class=FileResponse)
def download(
    session: SessionDep,
    actor: ActorDep,
    kind: Kind,
    format: Literal["csv", "xlsx"] = "csv",
    with_contacts: Annotated[
        bool,
        Query(description="Merchant phones and contact names in clear (masked otherwise)."),
    ] = False,
) -> FileResponse:
    """Exports one kind as CSV or XLSX, with the columns that import reads. Merchant contacts
    are masked unless `with_contacts=true` and your role may read them."""
    actor.require(Permission.read_inventory)
    return files.download(
        f"{kind}.{format}",
        lambda path: imports.export_kind(session, actor, kind, path, with_contacts=with_contacts),
    )
