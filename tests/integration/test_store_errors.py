"""A database Legato cannot use: corrupt, read-only, locked. Each is a clear StoreError."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import legato


def build(url: str) -> tuple[legato.App, Callable[..., object]]:
    app = legato.App(url)

    @app.workflow(name="w")
    async def w(ctx: legato.Context) -> int:
        return 1

    return app, w


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 16,
        b"this is a text file, not a database\n" * 10,
        b"SQLite format 3\x00" + b"\xff" * 4080,  # a header, then garbage
    ],
    ids=["random-bytes", "text", "bad-pages"],
)
async def test_corrupt_file_raises_database_corrupt_error(
    db_path: Path, db_url: str, content: bytes
) -> None:
    db_path.write_bytes(content)
    app, w = build(db_url)
    with pytest.raises(legato.DatabaseCorruptError, match=str(db_path)):
        async with app:
            pass
    # a client app (no engine) says the same
    with pytest.raises(legato.DatabaseCorruptError):
        await app.start(w)
    await app.shutdown()
    assert db_path.read_bytes() == content  # left as it was


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Makes paths read-only in a way that binds this process. As root (which ignores file
    modes), with the immutable attribute; undone at the end of the test."""
    done: list[Path] = []

    def protect(path: Path) -> None:
        if os.geteuid() != 0:
            path.chmod(0o555 if path.is_dir() else 0o444)
        else:
            result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
            if result.returncode != 0:
                pytest.fail(f"running as root and `chattr +i` is unavailable here: {result.stderr}")
        done.append(path)

    yield protect
    for path in reversed(done):
        if os.geteuid() != 0:
            path.chmod(0o755 if path.is_dir() else 0o644)
        else:
            subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("folder_too", [False, True], ids=["file", "file-and-folder"])
async def test_read_only_existing_database_fails_at_engine_start(
    db_path: Path, db_url: str, folder_too: bool, make_read_only: Callable[[Path], None]
) -> None:
    app, _ = build(db_url)
    async with app:  # a valid Legato database first
        pass
    make_read_only(db_path)
    if folder_too:
        make_read_only(db_path.parent)
    app, _ = build(db_url)
    with pytest.raises(legato.DatabaseReadOnlyError, match=re.escape(str(db_path))):
        async with app:
            pass


@pytest.mark.parametrize("folder_too", [False, True], ids=["file", "file-and-folder"])
async def test_read_only_existing_database_fails_at_client_start(
    db_path: Path, db_url: str, folder_too: bool, make_read_only: Callable[[Path], None]
) -> None:
    app, w = build(db_url)
    async with app:
        pass
    make_read_only(db_path)
    if folder_too:
        make_read_only(db_path.parent)
    client, w = build(db_url)
    try:
        with pytest.raises(legato.DatabaseReadOnlyError, match=re.escape(str(db_path))):
            await client.start(w, id="never-written")
    finally:
        await client.shutdown()


@pytest.mark.parametrize("relative", ["new.db", "missing/folder/new.db"])
async def test_new_database_in_a_read_only_folder(
    tmp_path: Path, relative: str, make_read_only: Callable[[Path], None]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    make_read_only(folder)
    app, _ = build(f"sqlite:///{folder / relative}")
    with pytest.raises(legato.DatabaseReadOnlyError, match=re.escape(str(folder))):
        async with app:
            pass
    assert list(folder.iterdir()) == []


async def test_locked_database_raises_database_locked_error(db_path: Path, db_url: str) -> None:
    app, _ = build(db_url)
    async with app:
        pass
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        other.execute("INSERT INTO schema_migrations VALUES (999, 'other', 'x', 0)")
        app, _ = build(db_url)
        with pytest.raises(legato.DatabaseLockedError, match="locked"):  # after the busy timeout
            async with app:
                pass
    finally:
        other.execute("ROLLBACK")
        other.close()
    # once the other writer is gone, the same database opens
    app, w = build(db_url)
    async with app:
        assert await (await app.start(w)).result() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///:memory:", "needs a database file"),
        ("sqlite:///", "needs a database file"),
        ("mysql://localhost/x", "unsupported database URL"),
    ],
)
async def test_unusable_urls_are_configuration_errors(url: str, message: str) -> None:
    app, _ = build(url)
    with pytest.raises(legato.ConfigurationError, match=message):
        async with app:
            pass
