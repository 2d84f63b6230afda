"""The one writer thread: takes every pending write, commits them in one transaction.

Group commit is the performance design (DESIGN.md §5): concurrent transitions share one fsync.
Transitions are applied with ``executemany`` per statement; each keeps its own savepoint so a
stale one is dropped without touching the others.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from legato.adapters.sqlite.connection import translate
from legato.adapters.sqlite.driver import bind
from legato.adapters.transition_rows import guard_rows, insert_rows, sweep_statements
from legato.core.transition import Transition
from legato.ports.executions import StaleTransition

MAX_BATCH = 2000
INLINE_MAX = 2
Op = Callable[[sqlite3.Connection], Any]
_Job = tuple["Transition | Op", asyncio.Future[Any], asyncio.AbstractEventLoop]
_Resolved = tuple[asyncio.Future[Any], Any, BaseException | None]


class Writer:
    """Commits jobs in batches. A small batch that finds the writer idle commits right on the
    event loop (no thread hand-offs: the latency path); anything else goes to the writer thread,
    so the loop keeps running Python while the disk syncs (the throughput path)."""

    def __init__(self, path: Path, queries: dict[str, str]) -> None:
        self.path = path
        self.q = queries
        self._batches: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one batch at a time on the connection
        self._gathering: list[_Job] = []
        self.pending = 0  # jobs submitted and not yet resolved (read by idle detection)
        self.commits = 0
        self.on_commit: Callable[[int, float], None] | None = None  # (jobs, seconds)
        self.paths: Counter[str] = Counter()  # batches by write path (docs/ARCHITECTURE.md)

    def start(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._thread = threading.Thread(target=self._run, name="legato-sqlite-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            if self._gathering:
                self._batches.put(self._gathering)
                self._gathering = []
            self._batches.put(None)
            self._thread.join()
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def submit(self, job: Transition | Op) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self.pending += 1
        if not self._gathering:
            loop.call_soon(self._flush)  # everything submitted in this loop turn goes together
        self._gathering.append((job, fut, loop))
        return fut

    def _flush(self) -> None:
        batch, self._gathering = self._gathering, []
        if not batch:
            return
        if len(batch) <= INLINE_MAX and self._batches.empty() and self._lock.acquire(False):
            try:
                results = self._commit(batch)
            finally:
                self._lock.release()
            self._resolve([(fut, v, e) for (_, fut, _), (v, e) in zip(batch, results, strict=True)])
        else:
            self._batches.put(batch)

    # --- writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch = self._batches.get()
            if batch is None:
                return
            while len(batch) < MAX_BATCH:
                try:
                    more = self._batches.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._batches.put(None)
                    break
                batch += more
            with self._lock:
                results = self._commit(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[_Resolved]] = {}
            for (_, fut, loop), (value, error) in zip(batch, results, strict=True):
                by_loop.setdefault(loop, []).append((fut, value, error))
            for loop, items in by_loop.items():
                try:
                    loop.call_soon_threadsafe(self._resolve, items)
                except RuntimeError:  # that loop is closed: nobody is waiting any more
                    pass

    def _commit(self, batch: list[_Job]) -> list[tuple[Any, BaseException | None]]:
        conn = self._conn
        assert conn is not None
        began = time.perf_counter()
        try:
            results = self._transaction(conn, batch, careful=False)
            if results is None:  # a transition was stale: redo the batch one by one
                results = self._transaction(conn, batch, careful=True)
                assert results is not None
            self.commits += 1
            if self.on_commit is not None:
                self.on_commit(len(batch), time.perf_counter() - began)
            return results
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            err = translate(exc, self.path)
            return [(None, err) for _ in batch]

    def _transaction(
        self, conn: sqlite3.Connection, batch: list[_Job], careful: bool
    ) -> list[tuple[Any, BaseException | None]] | None:
        """One transaction for the batch. The fast path applies all transitions with one
        ``executemany`` per statement and checks the summed row counts; if any guard fails it
        rolls back and returns None, and the careful path isolates each transition."""
        conn.execute("BEGIN IMMEDIATE")
        self.paths["one_by_one" if careful else "batch"] += 1
        outcome: dict[int, tuple[Any, BaseException | None]] = {}
        trs: list[tuple[int, Transition]] = []
        for i, (job, _, _) in enumerate(batch):
            if isinstance(job, Transition):
                trs.append((i, job))
            else:
                outcome[i] = self._run_op(conn, job)
        if careful:
            for (i, _), err in zip(trs, self._apply_each([t for _, t in trs], conn), strict=True):
                outcome[i] = (None, err)
        elif trs:
            if not apply_guards(conn, self.q, [t for _, t in trs]):
                conn.execute("ROLLBACK")
                return None
            insert_plain(conn, self.q, [t for _, t in trs])
            for i, _ in trs:
                outcome[i] = (None, None)
        conn.execute("COMMIT")
        return [outcome[i] for i in range(len(batch))]

    def _resolve(self, items: list[_Resolved]) -> None:
        self.pending -= len(items)
        for fut, value, error in items:
            if fut.cancelled():
                continue
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)

    def _run_op(self, conn: sqlite3.Connection, op: Op) -> tuple[Any, BaseException | None]:
        conn.execute("SAVEPOINT op")
        try:
            value = op(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            if isinstance(exc, sqlite3.Error):
                return None, translate(exc, self.path)
            return None, exc
        conn.execute("RELEASE op")
        return value, None

    def _apply_each(
        self, trs: list[Transition], conn: sqlite3.Connection
    ) -> list[BaseException | None]:
        """Guarded statements one by one, then the plain inserts for all transitions at once."""
        errors: list[BaseException | None] = []
        ok: list[Transition] = []
        for tr in trs:
            conn.execute("SAVEPOINT tr")
            if apply_guards(conn, self.q, [tr]):
                conn.execute("RELEASE tr")
                ok.append(tr)
                errors.append(None)
            else:
                conn.execute("ROLLBACK TO tr")
                conn.execute("RELEASE tr")
                errors.append(StaleTransition(tr.execution_id))
        insert_plain(conn, self.q, ok)
        return errors


def apply_guards(conn: sqlite3.Connection, q: dict[str, str], trs: list[Transition]) -> bool:
    """False if any guard fell short (see ``transition_rows``); the caller rolls back."""
    for name, rows in guard_rows(trs):
        if rows and conn.executemany(q[name], rows).rowcount != len(rows):
            return False
    for tr in trs:
        for name, params in sweep_statements(tr):
            conn.execute(q[name], bind(params))
    return True


def insert_plain(conn: sqlite3.Connection, q: dict[str, str], trs: list[Transition]) -> None:
    for name, rows in insert_rows(trs):
        if rows:
            conn.executemany(q[name], rows)
