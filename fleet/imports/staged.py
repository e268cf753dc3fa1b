"""Import in two steps, for the pages: an upload is kept (core.files' stage) and previewed
(every bad row with its reason, what the good rows would do; kept, so that a refresh shows
the same preview without geocoding again), then confirmed: the good rows
are imported. A confirm is bound to the staged file and to the user who uploaded it by the
stage's token; confirming again changes nothing and shows what the first confirm did.

The preview runs the real import inside a savepoint that is then undone, so it finds what the
import would find (codes missing, rows outside the user's branches), and writes nothing.
"""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from sqlmodel import Session

from fleet.core import files
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import attempt, on_outcome
from fleet.core.errors import FleetError, Invalid, NotFound, Reason
from fleet.imports.files import TooManyRows, read_table
from fleet.imports.service import ImportReport, import_file, kind_spec

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # as the API's import
REJECTS = "rejects.xlsx"
PREVIEW = "preview.pickle"
COUNTS = ("rows", "created", "updated", "unchanged", "skipped")


@dataclass
class Staged:
    """A kept upload: its token, kind and file name, and the file."""

    token: str
    kind: str
    filename: str
    path: Path

    @property
    def rejects(self) -> Path:
        return self.path.parent.parent / REJECTS


def may_import(actor: Actor, kind: str) -> bool:
    """Whether the actor may import `kind` (admins everything; ops all but branches)."""
    spec = kind_spec(kind)
    return actor.can(Permission.import_data) and actor.can(spec.permission)


def stage(actor: Actor, kind: str, upload: UploadFile) -> str:
    """Keeps an uploaded file of `kind` for the actor to preview and confirm; its token."""
    spec = kind_spec(kind)
    actor.require(Permission.import_data)
    actor.require(spec.permission)
    note: dict[str, object] = {"kind": kind, "user_id": actor.user_id, "username": actor.username}
    token = files.stage_upload(upload, limit=MAX_UPLOAD_BYTES, note=note)
    path, _ = files.stage_path(token)
    limit = get_settings().page_import_rows
    try:
        read_table(path, path.name, max_rows=limit)
    except TooManyRows as exc:
        if exc.limit < limit:  # over FLEET_IMPORT_MAX_ROWS: the preview says so, as any import
            return token
        files.drop_stage(token)
        raise Invalid(
            "{file} has more than {limit} rows, more than an import from the pages may hold "
            "(FLEET_PAGE_IMPORT_MAX_ROWS): import it on the server with 'fleet import {kind} "
            "FILE', which has no such limit, or split it into files of at most {limit} rows; "
            "nothing was imported",
            file=path.name,
            limit=limit,
            kind=kind,
        ) from None
    except FleetError:
        pass  # a file that cannot be read: its preview says why
    return token


def staged(actor: Actor, token: str) -> Staged:
    """The actor's staged upload of `token`; NotFound for another user's (as for none)."""
    path, note = files.stage_path(token)
    if note.get("username") != actor.username or note.get("user_id") != actor.user_id:
        raise NotFound("this upload is no longer kept; upload the file again")
    return Staged(token=token, kind=str(note["kind"]), filename=path.name, path=path)


class _Undo(Exception):
    """Raised inside the preview's savepoint to undo what the import wrote."""


def preview(
    session: Session, actor: Actor, token: str, say: Callable[[Reason], str]
) -> ImportReport:
    """What importing the good rows of the staged file would do, and every bad row with its
    reason; nothing is written. The bad rows are kept as an XLSX in `say`'s language."""
    upload = staged(actor, token)
    kept = upload.path.parent.parent / PREVIEW
    if kept.is_file():
        # The preview made at the first look, kept with the upload: a refresh asks the
        # geocoder (slow, often paid) nothing again. The file is fleet's own, in its stage.
        with kept.open("rb") as handle:
            found = pickle.load(handle)
        if isinstance(found, ImportReport):
            return found
    report = ImportReport(kind=upload.kind)
    try:
        with attempt(session):
            report = _import(session, actor, upload, say)
            raise _Undo
    except _Undo:
        pass
    with kept.open("wb") as handle:
        pickle.dump(report, handle)
    return report


def confirm(
    session: Session, actor: Actor, token: str, say: Callable[[Reason], str]
) -> tuple[dict[str, Any], bool]:
    """Imports the good rows of the staged file, once: (the counts, True) the first time;
    (the first time's counts, False) after, with nothing written."""
    upload = staged(actor, token)
    earlier = files.claim_stage(token)
    if earlier is not None:
        return earlier, False
    try:
        report = _import(session, actor, upload, say)
    except BaseException:
        files.unclaim_stage(token)
        raise
    counts = {name: getattr(report, name) for name in COUNTS}
    # Recorded once the rows are committed: a commit that fails releases the claim, so the
    # page never says "imported already" of a file whose rows were lost.
    on_outcome(
        session,
        committed=lambda: files.record_stage(token, counts),
        rolled_back=lambda: files.unclaim_stage(token),
    )
    return counts, True


def result(actor: Actor, token: str) -> dict[str, Any] | None:
    """The counts the confirm of `token` imported ({} while it runs); None before it."""
    staged(actor, token)
    return files.stage_result(token)


def rejects(actor: Actor, token: str) -> Path:
    """The XLSX of the bad rows that the last preview or confirm of `token` found."""
    upload = staged(actor, token)
    if not upload.rejects.is_file():
        raise NotFound("this upload is no longer kept; upload the file again")
    return upload.rejects


def copy_rejects(actor: Actor, token: str) -> Callable[[Path], object]:
    """A writer for core.files.download: the rejects XLSX of `token`."""
    source = rejects(actor, token)
    return lambda path: shutil.copyfile(source, path)


def _import(
    session: Session, actor: Actor, upload: Staged, say: Callable[[Reason], str]
) -> ImportReport:
    return import_file(
        session,
        actor,
        upload.kind,
        upload.path,
        skip_bad=True,
        rejects_path=upload.rejects,
        filename=upload.filename,
        say=say,
    )
