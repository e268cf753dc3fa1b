"""A lease in the database: of several schedulers, one runs each job, and a dead one's job is
taken over when its lease runs out.

Acquiring reads the job's row, then makes one conditional UPDATE … WHERE (expired OR mine) AND
the last firing done is still the one read, or the INSERT of the job's row on its first use; of
two INSERTs the primary key lets one win. Both work the same on SQLite (writes serialised) and
PostgreSQL (the row lock makes the second UPDATE re-check its WHERE after the first commits,
and find the lease taken or another firing done).

A firing is run only if it is later than the last one done: a scheduler that named its firing
and was then held up (a busy machine, a take-over first) must not run it after another
scheduler has finished it and a later one, when the row no longer says it was done. A firing
skipped that way is coalesced into the later run, as a busy scheduler coalesces missed ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from fleet.core.db import separate_transaction, utcnow
from fleet.jobs.models import JobLock


def is_later(key: str, done_key: str | None) -> bool:
    """Whether firing `key` comes after the last firing done. Firings are local times to the
    minute or the second (scheduler.firing_of), compared as times, so that a schedule changed
    from one precision to the other still compares right; keys that are not times are only
    told apart by being different."""
    if done_key is None:
        return True
    try:
        return datetime.fromisoformat(key) > datetime.fromisoformat(done_key)
    except ValueError:
        return key != done_key


def acquire(
    engine: Engine, name: str, holder: str, *, lease_seconds: float, key: str | None = None
) -> bool:
    """Takes (or renews) the lease on `name` for `holder`; False if someone else holds it, or
    the firing `key` is not later than the last firing run to the end by anyone."""
    now = utcnow()
    values = {
        "holder": holder,
        "acquired_at": now,
        "expires_at": now + timedelta(seconds=lease_seconds),
        "run_key": key,
    }
    table = JobLock.__table__  # type: ignore[attr-defined]
    with separate_transaction(engine) as own:
        conn = own.connection()
        row = conn.execute(select(col(JobLock.done_key)).where(col(JobLock.name) == name)).first()
        if row is not None:
            done: str | None = row[0]
            if key is not None and not is_later(key, done):
                return False
            # A dead holder's unfinished firing must be taken over (acquired with its own key)
            # before another firing may overwrite it and so lose it.
            unfinished_is_mine = [
                col(JobLock.run_key).is_(None),
                col(JobLock.run_key) == col(JobLock.done_key),
                col(JobLock.holder) == holder,
            ]
            if key is not None:
                unfinished_is_mine.append(col(JobLock.run_key) == key)
            where = [
                col(JobLock.name) == name,
                or_(col(JobLock.expires_at) < now, col(JobLock.holder) == holder),
                # Still the firing done that was read: one finished since may be this one.
                col(JobLock.done_key).is_(None) if done is None else col(JobLock.done_key) == done,
                or_(*unfinished_is_mine),
            ]
            return bool(conn.execute(update(table).where(*where).values(values)).rowcount == 1)
    try:
        with separate_transaction(engine) as own:
            own.connection().execute(insert(table).values(name=name, **values))
    except IntegrityError:
        return False  # another scheduler inserted it first: theirs
    return True


def release(engine: Engine, name: str, holder: str, *, done_key: str | None = None) -> bool:
    """Gives the lease up; with `done_key`, marks that firing as run to the end. False if the
    lease was no longer this holder's (it ran out and another took it over)."""
    with separate_transaction(engine) as own:
        return release_in(own.connection(), name, holder, done_key=done_key)


def release_in(conn: Connection, name: str, holder: str, *, done_key: str | None = None) -> bool:
    """`release` inside the caller's transaction (to mark a firing done together with the
    record of its run)."""
    values: dict[str, object] = {"expires_at": utcnow()}
    if done_key is not None:
        values["done_key"] = done_key
    table = JobLock.__table__  # type: ignore[attr-defined]
    updated = conn.execute(
        update(table).where(col(JobLock.name) == name, col(JobLock.holder) == holder).values(values)
    )
    return bool(updated.rowcount == 1)


def holder_of(conn: Connection, name: str) -> str | None:
    """Who holds (or last held) the lease on `name`."""
    return conn.execute(select(col(JobLock.holder)).where(col(JobLock.name) == name)).scalar()
