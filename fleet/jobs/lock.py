"""A lease in the database: of several schedulers, one runs each job, and a dead one's job is
taken over when its lease runs out.

Acquiring is one atomic UPDATE … WHERE (expired OR mine) AND not already done for this firing,
or the INSERT of the job's row on its first use; of two INSERTs the primary key lets one win.
Both work the same on SQLite (writes serialised) and PostgreSQL (the row lock makes the second
UPDATE re-check its WHERE after the first commits, and find the lease taken).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from fleet.core.db import separate_transaction, utcnow
from fleet.jobs.models import JobLock


def acquire(
    engine: Engine, name: str, holder: str, *, lease_seconds: float, key: str | None = None
) -> bool:
    """Takes (or renews) the lease on `name` for `holder`; False if someone else holds it, or
    the firing `key` was already run to the end by anyone."""
    now = utcnow()
    values = {
        "holder": holder,
        "acquired_at": now,
        "expires_at": now + timedelta(seconds=lease_seconds),
        "run_key": key,
    }
    table = JobLock.__table__  # type: ignore[attr-defined]
    where = [
        col(JobLock.name) == name,
        or_(col(JobLock.expires_at) < now, col(JobLock.holder) == holder),
    ]
    if key is not None:
        where.append(or_(col(JobLock.done_key).is_(None), col(JobLock.done_key) != key))
    # A dead holder's unfinished firing must be taken over (acquired with its own key) before
    # another firing may overwrite it and so lose it.
    unfinished_is_mine = [
        col(JobLock.run_key).is_(None),
        col(JobLock.run_key) == col(JobLock.done_key),
        col(JobLock.holder) == holder,
    ]
    if key is not None:
        unfinished_is_mine.append(col(JobLock.run_key) == key)
    where.append(or_(*unfinished_is_mine))
    with separate_transaction(engine) as own:
        conn = own.connection()
        taken = conn.execute(update(table).where(*where).values(values)).rowcount
        if taken == 1:
            return True
        if conn.execute(select(col(JobLock.name)).where(col(JobLock.name) == name)).first():
            return False
    try:
        with separate_transaction(engine) as own:
            own.connection().execute(insert(table).values(name=name, **values))
    except IntegrityError:
        return False  # another scheduler inserted it first: theirs
    return True


def release(engine: Engine, name: str, holder: str, *, done_key: str | None = None) -> None:
    """Gives the lease up; with `done_key`, marks that firing as run to the end."""
    with separate_transaction(engine) as own:
        release_in(own.connection(), name, holder, done_key=done_key)


def release_in(conn: Connection, name: str, holder: str, *, done_key: str | None = None) -> None:
    """`release` inside the caller's transaction (to mark a firing done together with the
    record of its run)."""
    values: dict[str, object] = {"expires_at": utcnow()}
    if done_key is not None:
        values["done_key"] = done_key
    table = JobLock.__table__  # type: ignore[attr-defined]
    conn.execute(
        update(table).where(col(JobLock.name) == name, col(JobLock.holder) == holder).values(values)
    )
