"""Files over HTTP, one way each: an upload saved under a size limit into a temporary folder,
and a file written into a temporary folder of its own and answered as a download."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from fleet.core.errors import Invalid

CHUNK_BYTES = 1 << 20


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
