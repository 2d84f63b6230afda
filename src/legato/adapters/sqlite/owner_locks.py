"""Liveness on a SQLite database: operating-system file locks in a folder beside the file.

``<db>.owners/<owner>.lock`` is locked (``flock``) by its owner for the owner's whole life;
the kernel lets the lock go the moment the process dies, however it dies. Any process on the
same machine can test it: a lock it can take proves the owner dead. An owner on another host
(a shared folder) cannot be judged this way: its answer is None and lease expiry decides.
A lock file is created under a temporary name, locked, then renamed into place, so a lock
file that can be taken is never one whose owner is still starting.

``<db>.owners/engine.lock`` is held by the one engine that orchestrates the database, and
names it (JSON: owner, host, pid, since, command), so that a second one is refused with a
message saying which process runs: two orchestrators on one file would share its work,
one of them maybe with older code.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sys
from collections.abc import Collection
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from legato.core.owners import host_of, provable
from legato.errors import DatabaseLockedError, DatabaseReadOnlyError
from legato.ports.liveness import OwnerInfo

if sys.platform != "win32":
    import fcntl

ENGINE_LOCK = "engine.lock"
SUFFIX = ".lock"
_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")


def lock_folder(db: Path) -> Path:
    return db.with_name(db.name + ".owners")


def _file_name(owner: str) -> str:
    return _UNSAFE.sub("_", owner) + SUFFIX


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock without waiting; False if another open file holds it (in this
    process too: ``flock`` locks belong to open files, not to processes)."""
    if sys.platform == "win32":  # no flock: nothing is ever proven, nothing refused
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class OwnerLocks:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.folder = lock_folder(db)
        self._held: dict[str, int] = {}  # owner -> descriptor of its lock file
        self._engine: int | None = None  # descriptor of engine.lock while orchestrating

    def hold(self, info: OwnerInfo) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseReadOnlyError(
                f"database {self.db} cannot be used: its lock folder {self.folder} cannot be "
                f"created ({exc.strerror})"
            ) from exc
        text = json.dumps(asdict(info)).encode()
        if info.orchestrates:
            self._engine = self._take_engine_lock(text)
        try:
            self._held[info.owner] = self._create_locked(info.owner, text)
        except BaseException:
            self._let_go_engine()
            raise

    def _take_engine_lock(self, text: bytes) -> int:
        fd = os.open(self.folder / ENGINE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = os.pread(fd, 65_536, 0)
            os.close(fd)
            raise DatabaseLockedError(refusal(self.db, holder))
        os.ftruncate(fd, 0)
        os.pwrite(fd, text, 0)
        return fd

    def _create_locked(self, owner: str, text: bytes) -> int:
        final = self.folder / _file_name(owner)
        temporary = self.folder / f".{final.name}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _try_lock(fd)  # nobody else knows this name: always taken
            os.write(fd, text)
            os.replace(temporary, final)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        return fd

    def release(self, owner: str) -> None:
        """Closing the file lets the lock go; the file stays, and now tests as dead."""
        fd = self._held.pop(owner, None)
        if fd is not None:
            os.close(fd)
        self._let_go_engine()

    def release_all(self) -> None:
        for owner in list(self._held):
            self.release(owner)
        self._let_go_engine()

    def _let_go_engine(self) -> None:
        if self._engine is not None:
            os.close(self._engine)
            self._engine = None

    def alive(self, owners: list[str]) -> dict[str, bool | None]:
        here = socket.gethostname()
        return {o: self._alive(o) if host_of(o) == here and provable(o) else None for o in owners}

    def _alive(self, owner: str) -> bool | None:
        try:
            fd = os.open(self.folder / _file_name(owner), os.O_RDONLY)
        except FileNotFoundError:
            return None  # never held here (an older Legato), or swept after its takeover
        try:
            return not _try_lock(fd)
        finally:
            os.close(fd)  # lets go of the lock if this test took it

    def sweep(self, holding: Collection[str]) -> None:
        keep = {_file_name(o) for o in (*holding, *self._held)} | {ENGINE_LOCK}
        here = _UNSAFE.sub("_", socket.gethostname())
        try:
            names = [p for p in self.folder.iterdir() if p.name.endswith(SUFFIX)]
        except FileNotFoundError:
            return
        for path in names:
            mine = host_of(path.name.removesuffix(SUFFIX)) == here  # others' locks: theirs
            if path.name in keep or path.name.startswith(".") or not mine:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                if _try_lock(fd):  # dead: unlinked while locked, so no owner can be misjudged
                    path.unlink(missing_ok=True)
            finally:
                os.close(fd)


def refusal(db: Path, holder: bytes) -> str:
    """Why a second orchestrating engine may not start, naming the one that runs."""
    try:
        info = json.loads(holder)
        since = datetime.fromtimestamp(info["started_at"] / 1000, UTC)
        who = (
            f"engine {info['owner']} (pid {info['pid']} on {info['host']}, running since "
            f"{since:%Y-%m-%d %H:%M:%S} UTC: {info['command']})"
        )
    except (ValueError, KeyError, TypeError):
        who = "another engine (it is starting up)"
    return (
        f"database {db} is already orchestrated by {who}. One engine orchestrates a SQLite "
        "database at a time: stop that one first, or run `legato worker` beside it "
        "(PostgreSQL takes several)"
    )
