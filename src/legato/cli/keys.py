"""``legato keys``: the API keys a server bound off loopback (or run with ``--require-keys``)
accepts. They are managed with the database (``--db``), not through the API: whoever can
reach the database is already trusted with everything in it.

``create`` prints the key once: the database keeps only its hash, so it cannot be shown again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import typer
from rich.table import Table

from legato.api.key_secrets import REFRESH_SECONDS, new_key
from legato.cli.common import DbOption, JsonOption, console, database_url, err_console, run_command
from legato.cli.help import HelpGroup
from legato.cli.output import moment
from legato.client import open_store
from legato.core import codec
from legato.core.durations import instant
from legato.errors import LegatoError
from legato.ports.api_keys import ApiKey
from legato.ports.store import Store

keys_cli = typer.Typer(
    cls=HelpGroup,
    help="API keys for the HTTP API: create (shown once), list, revoke.",
    no_args_is_help=True,
)


@contextlib.asynccontextmanager
async def _store(db: str | None) -> AsyncIterator[Store]:
    store = open_store(database_url(db))
    await store.open()  # the schema brought up to date, as legato dev would
    try:
        yield store
    finally:
        await store.close()


def _now_ms() -> int:
    return int(time.time() * 1000)


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="what the key is for (shown in legato keys list)")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a new API key and print it. It is shown this once: keep it (the database holds
    only its hash). Clients send it as 'Authorization: Bearer KEY'."""

    async def main() -> None:
        key = new_key()
        async with _store(db) as store:
            await store.create_api_key(key.id, name, key.secret_hash, _now_ms())
        if as_json:
            print(codec.dumps({"id": key.id, "name": name, "key": key.text}, "key", indent=2))
            return
        print(key.text)
        err_console.print(
            f"API key {key.id}{f' ({name})' if name else ''} created. It will not be shown "
            "again: store it now. Use it as 'Authorization: Bearer KEY', or --api-key / "
            "LEGATO_API_KEY with legato commands.",
            highlight=False,
        )

    run_command(main)


@keys_cli.command("list")
def keys_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every key (never its secret): id, name, when it was made, last used, revoked."""

    async def main() -> None:
        async with _store(db) as store:
            keys = await store.list_api_keys()
        if as_json:
            print(codec.dumps([_key_json(k) for k in keys], "keys", indent=2))
            return
        table = Table(title="API keys")
        for col in ("id", "name", "created", "last used", "revoked"):
            table.add_column(col)
        for k in keys:
            table.add_row(
                k.id, k.name, _time(k.created_at), _time(k.last_used_at), _time(k.revoked_at)
            )
        console.print(table)

    run_command(main)


@keys_cli.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (from legato keys list)")],
    db: DbOption = None,
) -> None:
    """Revoke a key: servers refuse it within a few seconds (the time they cache keys)."""

    async def main() -> None:
        now = _now_ms()
        async with _store(db) as store:
            key = await store.revoke_api_key(key_id, now)
        if key is None:
            raise LegatoError(f"no API key with id {key_id!r} (see legato keys list)")
        if key.revoked_at != now:
            console.print(f"API key {key_id} was revoked already, at {_time(key.revoked_at)}")
            return
        console.print(
            f"revoked API key {key_id}; servers refuse it within {REFRESH_SECONDS:g}s",
            highlight=False,
        )

    run_command(main)


def _time(ms: int | None) -> str:
    return "" if ms is None else moment(instant(ms))


def _key_json(k: ApiKey) -> dict[str, Any]:
    def iso(ms: int | None) -> str | None:
        return None if ms is None else instant(ms).isoformat()

    return {
        "id": k.id,
        "name": k.name,
        "created_at": iso(k.created_at),
        "last_used_at": iso(k.last_used_at),
        "revoked_at": iso(k.revoked_at),
    }
