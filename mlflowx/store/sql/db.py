"""A thin DB-API layer under the SQL tracking store.

Statements are written once, with ``:name`` parameters, in the SQL that SQLite and PostgreSQL
share (``INSERT ... ON CONFLICT``, row values). SQLite runs them through the standard library's
``sqlite3`` (no SQLAlchemy import on the embedded path; ~0.05 ms per committed write); every other
database runs them through a pooled SQLAlchemy engine with ``text()``.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mlflowx.exceptions import InvalidParameter, TemporarilyUnavailable

Params = Mapping[str, Any] | Sequence[Any]
Row = tuple[Any, ...]

_log = logging.getLogger(__name__)


class ColumnarReadError(Exception):
    """The columnar driver failed on a read (the caller reads the rows instead)."""


class ColumnarReader(ABC):
    """Reads of numeric columns as arrays, on a connection of their own (see
    :meth:`Database.columnar`). Used by one thread at a time."""

    @abstractmethod
    def read(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        """The result's columns as numpy arrays, in the statement's order. Raises
        :class:`ColumnarReadError` when the driver fails."""


class Connection(ABC):
    """One connection inside one transaction."""

    dialect: str

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a statement; returns its rows (empty for writes)."""

    @abstractmethod
    def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run a write; returns the number of rows it changed."""

    def execute_plain(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        """Like :meth:`execute` for a large read of plain columns (numbers, text): the rows
        as the driver returns them, without a result layer's per-row processing."""
        return self.execute(sql, params)

    @abstractmethod
    def executemany(self, sql: str, params: Sequence[Params]) -> None: ...

    @abstractmethod
    def executemany_rows(self, sql: str, rows: Sequence[Row]) -> int:
        """Like :meth:`executemany`, with each row a tuple of the statement's ``:name``
        parameters in the order they first appear (cheaper to build and bind than dicts).
        Returns the number of rows changed as the driver reports it (-1 when it cannot)."""


_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=64)
def placeholder_names(sql: str) -> tuple[str, ...]:
    """The ``:name`` parameters of a statement, each once, in order of first appearance."""
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(sql)))


@lru_cache(maxsize=64)
def _pyformat(sql: str) -> str:
    """The statement with ``:name`` turned into ``%(name)s`` (and ``%`` escaped)."""
    return _PLACEHOLDER.sub(r"%(\1)s", sql.replace("%", "%%"))


@lru_cache(maxsize=64)
def numbered(sql: str) -> str:
    """The statement with ``:name`` turned into SQLite's ``?N`` (N: position in the row)."""
    index = {name: i for i, name in enumerate(placeholder_names(sql), 1)}
    return _PLACEHOLDER.sub(lambda m: f"?{index[m.group(1)]}", sql)


class Database(ABC):
    dialect: str
    #: The driver's exceptions for a violated unique or foreign key constraint.
    integrity_errors: tuple[type[BaseException], ...] = ()
    #: Connections pooled per process (0: not pooled, e.g. SQLite's one per thread).
    pool_size: int = 0

    @abstractmethod
    def write(self) -> Any:
        """Context manager: a connection in a write transaction, committed on success."""

    @abstractmethod
    def read(self) -> Any:
        """Context manager: a connection with a consistent snapshot for several reads."""

    @abstractmethod
    def autocommit(self) -> Any:
        """Context manager: a connection outside any transaction, each statement committed on
        its own (one round trip for a statement that does all its work itself)."""

    @abstractmethod
    def close(self) -> None: ...

    @contextmanager
    def columnar(self) -> Iterator[ColumnarReader | None]:
        """Context manager: a :class:`ColumnarReader` when this database has a columnar driver
        (SQLite files with the ``arrow`` extra, through ADBC), else ``None``. Its reads run on
        a connection of their own, in one read transaction: they share one snapshot (taken at
        the first read), not the snapshot of a transaction the caller has open."""
        yield None


# --------------------------------------------------------------------------------------- SQLite
def sqlite_path(uri: str) -> str:
    """The file of ``sqlite:///rel.db`` or ``sqlite:////abs.db``; ``sqlite://`` is in memory."""
    if not uri.startswith("sqlite://"):
        raise InvalidParameter(f"Not a SQLite URI: {uri!r}")
    rest = uri[len("sqlite://") :]
    if rest in ("", "/", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/"):
        raise InvalidParameter(f"Invalid SQLite URI {uri!r}: expected sqlite:///path/to/file.db")
    path = unquote(rest[1:].split("?", 1)[0])
    return str(Path(path).expanduser())


class _SqliteConnection(Connection):
    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        return self.raw.execute(sql, params).fetchall()

    def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return self.raw.execute(sql, params).rowcount

    def executemany(self, sql: str, params: Sequence[Params]) -> None:
        self.raw.executemany(sql, params)

    def executemany_rows(self, sql: str, rows: Sequence[Row]) -> int:
        # An INSERT of one row per VALUES group runs as INSERTs of many groups: per row, one
        # statement step and reset fewer (a metric batch's insert: ~1.8x the rows per second).
        # SQLite applies the groups in order, one row at a time (conflicts and upserts see the
        # rows before), so the effect is executemany's.
        plan = _multi_row_plan(sql)
        if plan is None or len(rows) < 2:
            return self.raw.executemany(numbered(sql), rows).rowcount
        head, width, tail = plan
        per = max(
            1, min(_MULTI_ROW_MAX, self.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
        )
        changed = 0
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            flat = [value for row in chunk for value in row]
            changed += self.raw.execute(
                _multi_row_sql(head, width, tail, len(chunk)), flat
            ).rowcount
        return changed


#: Rows per multi-row INSERT (100 per statement measured 1.8x executemany; the cap keeps the
#: statements, and the cache of their texts, small).
_MULTI_ROW_MAX = 200
_ONE_ROW_INSERT = re.compile(
    r"(?P<head>INSERT\s.*?\sVALUES\s*)\((?P<group>\s*:\w+(?:\s*,\s*:\w+)*\s*)\)(?P<tail>.*)",
    re.DOTALL | re.IGNORECASE,
)


@lru_cache(maxsize=64)
def _multi_row_plan(sql: str) -> tuple[str, int, str] | None:
    """``(head, width, tail)`` of ``INSERT ... VALUES (:a, :b, ...) tail`` whose group names
    each of the statement's parameters once, in order, and whose tail names none; None for
    any other statement (run row by row)."""
    match = _ONE_ROW_INSERT.fullmatch(sql.strip())
    if match is None:
        return None
    group = _PLACEHOLDER.findall(match["group"])
    if tuple(group) != placeholder_names(sql) or _PLACEHOLDER.search(match["tail"]):
        return None
    return match["head"], len(group), match["tail"]


@lru_cache(maxsize=256)
def _multi_row_sql(head: str, width: int, tail: str, rows: int) -> str:
    group = "(" + ", ".join("?" * width) + ")"
    return head + ", ".join([group] * rows) + tail


class SqliteDatabase(Database):
    """SQLite in WAL mode: many readers, one writer at a time, safe across processes.

    Each thread gets its own connection. Write transactions start with ``BEGIN IMMEDIATE`` so two
    writers queue on the lock (with a busy timeout) instead of failing on upgrade.
    """

    dialect = "sqlite"
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, uri: str, busy_timeout_ms: int = 30_000) -> None:
        self.path = sqlite_path(uri)
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._memory: sqlite3.Connection | None = None
        self._memory_lock = threading.RLock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
            timeout=self._busy_timeout_ms / 1000,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        if self.path != ":memory:":
            self._enable_wal(conn)
            # NORMAL is durable against process crashes in WAL mode; FULL adds an fsync per commit.
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # MLflow's LIKE is case-sensitive (ILIKE is the insensitive one); SQLite's is not.
        conn.execute("PRAGMA case_sensitive_like = ON")
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (a persistent setting), retrying while another opener holds it.

        Changing the journal mode needs an exclusive lock, and SQLite reports ``database is
        locked`` at once instead of calling the busy handler when another connection is doing
        the same switch, so concurrent first opens of a new file retry here until the timeout.
        """
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        delay = 0.005
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise TemporarilyUnavailable(f"The SQLite database is busy: {exc}") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _conn(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            if self._memory is None:
                self._memory = self._connect()
            return self._memory
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or getattr(local, "pid", None) != os.getpid():
            conn = self._connect()
            local.conn, local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Connection]:
        with self._memory_lock if self.path == ":memory:" else _nullcontext():
            raw = self._conn()
            try:
                raw.execute(begin)
            except sqlite3.OperationalError as exc:
                raise TemporarilyUnavailable(f"The SQLite database is busy: {exc}") from exc
            try:
                yield _SqliteConnection(raw)
            except OverflowError as exc:  # an integer beyond SQLite's 64 bits
                raw.execute("ROLLBACK")
                raise InvalidParameter(f"A value is out of range for the database: {exc}") from None
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            else:
                raw.execute("COMMIT")

    def raw_connection(self) -> sqlite3.Connection:
        """This thread's sqlite3 connection (autocommit mode), for scripts."""
        return self._conn()

    def write(self) -> Any:
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> Any:
        return self._transaction("BEGIN")

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        with self._memory_lock if self.path == ":memory:" else _nullcontext():
            yield _SqliteConnection(self._conn())  # isolation_level=None: autocommit

    def autocommit(self) -> Any:
        return self._autocommit()

    @contextmanager
    def columnar(self) -> Iterator[ColumnarReader | None]:
        dbapi = _adbc_sqlite()
        if dbapi is None or self.path == ":memory:":
            yield None
            return
        try:
            conn = dbapi.connect(self.path)
        except dbapi.Error as exc:
            _log.warning("ADBC could not open %s, reading rows instead: %s", self.path, exc)
            yield None
            return
        with closing(conn):
            yield _AdbcSqliteReader(conn, dbapi, self._busy_timeout_ms)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._memory is not None:
            self._memory.close()
            self._memory = None


@contextmanager
def _nullcontext() -> Iterator[None]:
    yield


@cache
def _adbc_sqlite() -> Any:
    """ADBC's SQLite driver (DB-API module), or ``None`` without the ``arrow`` extra."""
    try:
        import adbc_driver_sqlite.dbapi
        import pyarrow  # noqa: F401  (binding parameters and fetching tables need it)
    except ImportError:
        return None
    return adbc_driver_sqlite.dbapi


class _AdbcSqliteReader(ColumnarReader):
    """Results straight into Arrow columns, in C: a million rows of four numbers in ~0.3 s,
    where ``sqlite3`` builds a tuple and four objects per row (~1 s)."""

    def __init__(self, conn: Any, dbapi: Any, busy_timeout_ms: int) -> None:
        self._conn, self._dbapi = conn, dbapi
        self._busy_timeout_ms = busy_timeout_ms
        self._ready = False

    def read(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        args = tuple(params[name] for name in placeholder_names(sql))
        try:
            with closing(self._conn.cursor()) as cursor:
                if not self._ready:
                    cursor.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
                    self._ready = True
                cursor.execute(numbered(sql), args)
                table = cursor.fetch_arrow_table()
        except self._dbapi.Error as exc:
            raise ColumnarReadError(str(exc)) from exc
        return [column.to_numpy() for column in table.columns]


# ----------------------------------------------------------------------------------- SQLAlchemy
class _SqlAlchemyConnection(Connection):
    def __init__(self, conn: Any, dialect: str, cache: dict[str, Any]) -> None:
        self._conn = conn
        self.dialect = dialect
        self._cache = cache

    def _text(self, sql: str) -> Any:
        stmt = self._cache.get(sql)
        if stmt is None:
            from sqlalchemy import text

            stmt = self._cache[sql] = text(sql)
        return stmt

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        result = self._conn.execute(self._text(sql), params or {})
        return [tuple(row) for row in result.fetchall()] if result.returns_rows else []

    def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return int(self._conn.execute(self._text(sql), params or {}).rowcount)

    def execute_plain(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        # SQLAlchemy's Row objects cost as much as the query for a million rows; drivers with
        # "pyformat" parameters (psycopg, PyMySQL) take the statement on their own cursor.
        if self._conn.dialect.paramstyle != "pyformat":
            return self.execute(sql, params)
        raw = self._conn.connection.dbapi_connection
        # psycopg 3 returns the rows in binary: numbers are copied, not parsed from text (a
        # million history rows: ~1.3 s instead of ~2 s); the values are the same.
        cursor = raw.cursor(binary=True) if self._conn.dialect.driver == "psycopg" else raw.cursor()
        try:
            cursor.execute(_pyformat(sql), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def executemany(self, sql: str, params: Sequence[Params]) -> None:
        self._executemany(sql, params)

    def _executemany(self, sql: str, params: Sequence[Params]) -> int:
        if not params:
            return 0
        return int(self._conn.execute(self._text(sql), list(params)).rowcount)

    def executemany_rows(self, sql: str, rows: Sequence[Row]) -> int:
        names = placeholder_names(sql)
        return self._executemany(sql, [dict(zip(names, row, strict=True)) for row in rows])


#: Connections kept open per process (``$MLFLOWX_SQL_POOL_SIZE``); the server lets at most this
#: many writes run at once per worker, so a burst of clients waits for a pooled connection
#: instead of opening (and closing) new ones.
DEFAULT_POOL_SIZE = 10
#: A pooled connection idle for longer than this is pinged before use (one round trip);
#: one in steady use is not (``pool_pre_ping`` would add a round trip to every request).
PING_IF_IDLE_S = 5.0


def pool_size_from_env() -> int:
    raw = os.environ.get("MLFLOWX_SQL_POOL_SIZE", "")
    if not raw:
        return DEFAULT_POOL_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise InvalidParameter(
            f"MLFLOWX_SQL_POOL_SIZE must be a positive integer, got {raw!r}: unset it for the "
            f"default ({DEFAULT_POOL_SIZE}) or give the connections to keep per process."
        )
    return size


def _ping_if_idle(engine: Any) -> None:
    """Pessimistic disconnect handling for idle connections only (SQLAlchemy's checkout-event
    recipe): a connection back in the pool for over ``PING_IF_IDLE_S`` is pinged on checkout,
    and a dead one is replaced (``DisconnectionError`` makes the pool retry)."""
    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError

    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IF_IDLE_S:
            return  # new, or used a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc
        if not alive:
            raise DisconnectionError("stale pooled connection")


def sqlalchemy_url(uri: str) -> str:
    """MLflow-style URIs name no driver for PostgreSQL; pick psycopg 3."""
    if uri.startswith("postgresql://") or uri.startswith("postgres://"):
        return "postgresql+psycopg://" + uri.split("://", 1)[1]
    return uri


class SqlAlchemyDatabase(Database):
    """PostgreSQL, MySQL and anything else SQLAlchemy speaks, through a connection pool."""

    def __init__(self, uri: str, pool_size: int | None = None) -> None:
        try:
            from sqlalchemy import create_engine
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise InvalidParameter(
                f"The tracking URI {urlsplit(uri).scheme}://... needs SQLAlchemy: "
                "pip install 'mlflowx[postgres]'"
            ) from exc
        from sqlalchemy.exc import IntegrityError

        self.pool_size = pool_size or pool_size_from_env()
        # LIFO: the connections in use stay warm (prepared statements, caches) and the rest can
        # time out on the server; the overflow is a safety margin, not a working set.
        self.engine = create_engine(
            sqlalchemy_url(uri),
            pool_size=self.pool_size,
            max_overflow=self.pool_size,
            pool_use_lifo=True,
        )
        _ping_if_idle(self.engine)
        self.integrity_errors = (IntegrityError,)
        self.dialect = self.engine.dialect.name
        self._cache: dict[str, Any] = {}

    @contextmanager
    def _transaction(self, autocommit: bool = False) -> Iterator[Connection]:
        from sqlalchemy.exc import DataError, OperationalError

        ctx: Any
        try:
            if autocommit:  # the driver's autocommit flag: no BEGIN, no COMMIT round trip
                ctx = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            else:
                ctx = self.engine.begin()
            conn = ctx.__enter__()
        except OperationalError as exc:
            raise TemporarilyUnavailable(f"The database is unreachable: {exc.orig}") from exc
        try:
            yield _SqlAlchemyConnection(conn, self.dialect, self._cache)
        except DataError as exc:  # too long for its column, out of range ...: the caller's input
            ctx.__exit__(type(exc), exc, exc.__traceback__)
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise InvalidParameter(f"A value does not fit the database: {detail}") from None
        except BaseException as exc:
            ctx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        else:
            ctx.__exit__(None, None, None)

    def write(self) -> Any:
        return self._transaction()

    def read(self) -> Any:
        return self._transaction()

    def autocommit(self) -> Any:
        return self._transaction(autocommit=True)

    def close(self) -> None:
        self.engine.dispose()


def open_database(uri: str) -> Database:
    if uri.startswith("sqlite:"):
        return SqliteDatabase(uri)
    return SqlAlchemyDatabase(uri)
