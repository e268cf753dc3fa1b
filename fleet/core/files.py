"""Files over HTTP, one way each: an upload saved under a size limit into a temporary folder,
and a file written into a temporary folder of its own and answered as a download; and an
upload kept between two requests (a preview, then a confirm) as a stage named by a token."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from fleet.core.errors import Invalid, NotFound

CHUNK_BYTES = 1 << 20
# Staged uploads live here until confirmed and for a day at most (any stage call clears the
# older ones); one folder per token, holding the file and a small JSON note of its owner.
STAGES = Path(tempfile.gettempdir()) / "fleet-staged"
STAGE_SECONDS = 24 * 3600
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@contextmanager
def upload_folder() -> Iterator[Path]:
    """A temporary folder for a request's uploads, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="fleet-upload-") as folder:
        yield Path(folder)


def save_upload(
    upload: UploadFile, folder: Path, *, limit: int, default_name: str = "upload.csv"
) -> Path:
    """Writes `upload` into `folder` under its own file name (never a path), refusing it once
    it is larger than `limit` bytes."""
    path = folder / Path(upload.filename or default_name).name
    size = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise Invalid(
                    "{file} is larger than {megabytes} MB", file=path.name, megabytes=limit >> 20
                )
            out.write(chunk)
    return path


def download(filename: str, write: Callable[[Path], object]) -> FileResponse:
    """`write(path)` makes the file in a temporary folder of its own; the answer sends it as
    `filename`, and the folder is removed once it is sent (or at once if writing fails)."""
    folder = Path(tempfile.mkdtemp(prefix="fleet-export-"))
    path = folder / filename
    try:
        write(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def stage_upload(upload: UploadFile, *, limit: int, note: dict[str, object]) -> str:
    """Keeps `upload` (under `limit` bytes) for a later request; returns its token. `note`
    (who uploaded it, for what) is kept with it and given back by `staged`."""
    _clear_old_stages()
    token = secrets.token_urlsafe(18)
    folder = STAGES / token
    (folder / "upload").mkdir(parents=True, mode=0o700)
    try:
        path = save_upload(upload, folder / "upload", limit=limit)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / "stage.json").write_text(json.dumps({**note, "file": path.name}))
    return token


def drop_stage(token: str) -> None:
    """Removes the stage of `token` (a file refused as soon as it was kept)."""
    if token and set(token) <= _TOKEN_CHARS:
        shutil.rmtree(STAGES / token, ignore_errors=True)


def stage_path(token: str) -> tuple[Path, dict[str, object]]:
    """The staged file of `token` and its note; NotFound once removed or expired. The stage's
    folder (the file's parent's parent) may hold what was made from the file."""
    folder = STAGES / token
    if not token or not set(token) <= _TOKEN_CHARS or not (folder / "stage.json").is_file():
        raise NotFound("this upload is no longer kept; upload the file again")
    note = json.loads((folder / "stage.json").read_text())
    return folder / "upload" / str(note["file"]), note


def claim_stage(token: str) -> dict[str, object] | None:
    """Marks the stage as used, once: None the first time (go on), else what the first use
    recorded with `record_stage` ({} while it runs), so a second confirm changes nothing."""
    marker = STAGES / token / "claimed.json"
    try:
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return stage_result(token) or {}
    return None


def stage_result(token: str) -> dict[str, object] | None:
    """What the stage's use recorded ({} while it runs), or None when it was not used."""
    marker = STAGES / token / "claimed.json"
    if not marker.is_file():
        return None
    text = marker.read_text()
    return json.loads(text) if text else {}


def unclaim_stage(token: str) -> None:
    """Undoes `claim_stage` (the use it guarded failed)."""
    (STAGES / token / "claimed.json").unlink(missing_ok=True)


def record_stage(token: str, result: dict[str, object]) -> None:
    """What the stage's use did, for a later look (and a second confirm)."""
    (STAGES / token / "claimed.json").write_text(json.dumps(result))


def _clear_old_stages() -> None:
    if not STAGES.is_dir():
        return
    cutoff = time.time() - STAGE_SECONDS
    for folder in STAGES.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
