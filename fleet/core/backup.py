"""Backups of the whole database while fleet runs, and restoring one.

SQLite: the online backup API copies a consistent snapshot page by page (a plain file copy of
a WAL database can miss committed pages). PostgreSQL: `pg_dump --format=custom`, restored with
`pg_restore --clean`; both tools must be on PATH (Debian: postgresql-client).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from fleet.core.errors import Invalid, Unavailable


def backup(url: str, out: Path) -> Path:
    """Writes a snapshot of the database at `url` to `out` (replaced if it exists)."""
    parsed = make_url(url)
    if out.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch()  # a place that cannot be written says why (OSError), not sqlite3/pg_dump
    try:
        if parsed.get_backend_name() == "sqlite":
            with sqlite3.connect(_sqlite_path(parsed)) as src, sqlite3.connect(partial) as dest:
                src.backup(dest)
            dest.close()
        else:
            dump = [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}"]
            _run([*dump, _libpq(parsed)])
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)  # a reader never sees half a backup
    return out


def restore(url: str, backup_file: Path) -> None:
    """Replaces the database at `url` with the contents of `backup_file`. Stop the service
    and the schedulers first: connections open during a restore see a mix."""
    if not backup_file.is_file():
        raise Invalid("no backup at {path}", path=backup_file)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = Path(_sqlite_path(parsed))
        with closing(sqlite3.connect(backup_file)) as src:
            try:  # read before anything is replaced: a file of another kind is refused
                ours = src.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
                ).fetchone()
            except sqlite3.DatabaseError:
                ours = None
            if ours is None:
                raise Invalid(
                    "{path} is not a backup written by `fleet db backup`", path=backup_file
                ) from None
        with sqlite3.connect(backup_file) as src, sqlite3.connect(target) as dest:
            src.backup(dest)  # also replaces the WAL's view of the data, unlike a file copy
        dest.close()
        return
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq(parsed)}",
            str(backup_file),
        ]
    )


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise Invalid("an in-memory SQLite database cannot be backed up")
    return url.database


def _libpq(url: URL) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Unavailable(
            "{tool} is not installed (Debian: apt-get install postgresql-client)", tool=name
        )
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(command[0]).name
        last_line = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise Unavailable("{tool} failed: {problem}", tool=tool, problem=last_line)
