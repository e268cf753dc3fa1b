"""Engine factory and the transaction owners: `session_scope`, the one unit of work of a
request, a job or a CLI command; `separate_transaction`, for the few writes that must stand on
their own; `attempt`, a savepoint for an action whose refusal a page shows with the same session.
Nothing else in fleet commits or rolls back (tests/core/test_transactions.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Integer, MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from fleet.core.config import get_settings
from fleet.core.errors import Busy, FleetError, Invalid, Unavailable

# Stable constraint names, so that Alembic migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


_pinned_now: ContextVar[datetime | None] = ContextVar("fleet_pinned_now", default=None)


def utcnow() -> datetime:
    """Now, in UTC; the pinned moment inside `pinned_now`."""
    return _pinned_now.get() or datetime.now(UTC)


@contextmanager
def pinned_now(moment: datetime) -> Iterator[None]:
    """Makes utcnow() answer `moment` within the block: for replaying a history through the
    services users use (the demo's 180 days of fault tickets), never in a request or a job."""
    token = _pinned_now.set(moment)
    try:
        yield
    finally:
        _pinned_now.reset(token)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; fleet stores aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Bulk loads grow the WAL to gigabytes; give the space back once it is checkpointed.
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    """The engine for the configured database, built once per URL."""
    return _engine_for(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error. Services only flush."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException as exc:
        with suppress(DBAPIError):  # a lost connection has taken its transaction with it
            session.rollback()
        meaning = database_failure(exc)
        if meaning is not None:
            raise meaning from exc
        raise
    finally:
        session.close()


@contextmanager
def separate_transaction(engine: Engine | None = None) -> Iterator[Session]:
    """Deliberately a transaction of its own, committed when the block ends whatever becomes
    of the caller's: an ingest's pages and run record, a failed sign-in that must count even
    though its request fails, a job's lease and run record. (Code that works on a Connection
    takes `session.connection()`.)"""
    with session_scope(engine) as session:
        yield session


def _begun(session: Session) -> None:
    """Makes sure the driver has begun the transaction before we send a SAVEPOINT.

    pysqlite begins lazily, at the first write; a SAVEPOINT sent before that becomes the
    transaction itself, and releasing it would commit the caller's unit of work early.
    """
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and not getattr(raw, "in_transaction", True):
        connection.exec_driver_sql("BEGIN")


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """Runs the block in a savepoint of the caller's unit of work: if it raises, its writes
    are undone and the session stays usable (to show the refusal); if not, they stay, to be
    committed with the rest by the owner of the transaction."""
    _begun(session)
    with session.begin_nested():
        yield


def on_outcome(
    session: Session, committed: Callable[[], object], rolled_back: Callable[[], object]
) -> None:
    """Runs `committed` once the caller's unit of work has committed, or `rolled_back` if it
    ends without committing (a failed commit, an error, a close): for what lives outside the
    database, such as a file marking an upload as imported, which must never claim a write
    that was lost."""
    root = session.get_transaction()
    if root is None:
        raise RuntimeError("on_outcome needs a transaction in progress")
    state = {"committed": False, "settled": False}

    def after_commit(s: Session) -> None:
        if s.get_transaction() is root and not s.in_nested_transaction():
            state["committed"] = True

    def after_end(s: Session, transaction: object) -> None:
        # Listeners stay registered (removing one while SQLAlchemy calls them is not
        # allowed); the flag makes them act once.
        if transaction is not root or state["settled"]:
            return
        state["settled"] = True
        (committed if state["committed"] else rolled_back)()

    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_end)


# SQLite's OperationalError also means bugs (no such column, syntax); only these are outages.
_SQLITE_OUTAGES = ("database is locked", "unable to open database", "disk i/o error")
# Another writer held the lock past the busy timeout (SQLite), or past lock_timeout
# (PostgreSQL's lock_not_available): the database is fine, only busy.
_SQLITE_BUSY = ("database is locked", "database table is locked")
_POSTGRES_BUSY = "55P03"


def database_failure(exc: BaseException) -> FleetError | None:
    """What a database error means for the caller: Busy (503, retry in a moment) when another
    writer held the lock too long; Unavailable (503, retry later) when the database cannot be
    reached or the connection was lost (server restarting, network down); Invalid (422) when a
    value does not fit its column (a number beyond 64 bits, a text too long); None for
    anything else, which is a bug."""
    if isinstance(exc, OverflowError) and "SQLite INTEGER" in str(exc):
        return Invalid("a number is out of range (at most 64 bits)")
    if isinstance(exc, DataError):
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return Invalid("a value does not fit the database: {problem}", problem=first_line)
    if not isinstance(exc, DBAPIError):
        return None
    if is_busy(exc):
        return Busy("the database is busy with another change; try again in a few seconds")
    if isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("sqlite3"):
        if not any(s in str(exc.orig).lower() for s in _SQLITE_OUTAGES):
            return None
    elif not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
        return None
    # The driver's text names hosts and ports: for the log, not for the caller.
    return Unavailable("the database is unreachable or restarting; try again shortly")


def is_busy(exc: DBAPIError) -> bool:
    """Whether the database refused because another transaction held its lock too long."""
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(s in str(exc.orig).lower() for s in _SQLITE_BUSY)
    return getattr(exc.orig, "sqlstate", None) == _POSTGRES_BUSY


def ids_never_reused(tables: MetaData) -> None:
    """Declares AUTOINCREMENT on SQLite for every table whose key SQLite numbers itself: without
    it a deleted newest row's id goes to the next row, and with it whatever still points at the
    old one (its audit history, a form opened before a re-plan). PostgreSQL's sequences never
    go back. Migration `sqlite_autoincrement` did the same to the existing tables."""
    for table in tables.tables.values():
        key = list(table.primary_key.columns)
        if len(key) == 1 and isinstance(key[0].type, Integer) and not key[0].foreign_keys:
            table.dialect_options["sqlite"]["autoincrement"] = True


def dialect_insert(session: Session | Connection) -> Any:
    """The session's own dialect's INSERT (PostgreSQL's or SQLite's), which has ON CONFLICT:
    for upserts and for inserts that two requests may race to make."""
    bind = session if isinstance(session, Connection) else session.get_bind()
    if bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def enum_type(enum_class: type[Any]) -> Any:
    """Stores an enum as its text value (no database enum type, so new values need no DDL)."""
    from sqlalchemy import Enum

    return Enum(
        enum_class, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e]
    )
