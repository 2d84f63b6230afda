"""``legato events`` (send, show, dead-letters) and ``legato subscriptions`` (create, list,
delete): on the database (``--db``, an ``App`` with no engine: a start is recorded PENDING for
the engine that serves it) or through a server (``--server``, ``legato.Client``). Both give the
API's JSON shapes, printed the same way whichever it was."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from legato.cli.backend import ApiKeyOption, ServerOption
from legato.cli.common import (
    DbOption,
    JsonOption,
    console,
    database_url,
    json_value,
    locate,
    run_command,
)
from legato.cli.help import HelpGroup
from legato.cli.output import UtcOption, make_console, moment
from legato.cli.render import STATUS_STYLE
from legato.client import App, Client
from legato.client.event_triggers import dead_letter_cursor, subscription_json
from legato.core import codec
from legato.errors import ConfigurationError

events_cli = typer.Typer(
    cls=HelpGroup,
    help="Send events that start workflows; show an event and its executions; dead letters.",
    no_args_is_help=True,
)
subscriptions_cli = typer.Typer(
    cls=HelpGroup,
    help="Which events start which workflows: create, list, delete.",
    no_args_is_help=True,
)
_out = make_console(soft_wrap=True, highlight=False)
T = TypeVar("T")
BODY_SHOWN = 80  # characters of a dead letter's body in the table


@contextlib.asynccontextmanager
async def _backend(
    db: str | None, server: str | None, key: str | None, creating: bool
) -> AsyncIterator[Any]:
    """The database's ``App`` or a server's ``Client``; the callers use their common calls.
    Only a command that writes (``creating``) makes a database that is not there."""
    if server and db:
        raise ConfigurationError("give --db or --server, not both")
    if server:
        async with Client(server, api_key=key) as client:
            yield client
    else:
        app = App(database_url(db) if creating else locate(db))
        try:
            yield app
        finally:
            await app.shutdown()


def _on(
    db: str | None,
    server: str | None,
    key: str | None,
    on_app: Callable[[App], Awaitable[T]],
    on_client: Callable[[Client], Awaitable[T]],
    *,
    creating: bool = False,
) -> T:
    async def main() -> T:
        async with _backend(db, server, key, creating) as backend:
            if isinstance(backend, Client):
                return await on_client(backend)
            return await on_app(backend)

    return run_command(main)


def _print_json(value: Any) -> None:
    print(codec.dumps(value, "output", indent=2))


@events_cli.command("send")
def send(
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="the event's type")],
    data: Annotated[str, typer.Option("--data", help="the event's data: JSON, or @file")] = "null",
    source: Annotated[str, typer.Option("--source", help="the event's source")] = "legato-cli",
    event_id: Annotated[
        str | None, typer.Option("--id", help="the event's id (default: a new UUID)")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="the event's subject")] = None,
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send one event: it starts the workflow of each subscription it matches, once (the same
    --source and --id again starts nothing)."""

    async def parse() -> Any:  # a bad --data is one red line, as every error
        return json_value(data, "--data")

    value = run_command(parse)

    async def on_app(app: App) -> dict[str, Any]:
        result = await app.publish_event(
            event_type, value, source=source, id=event_id, subject=subject, via="cli"
        )
        return result.as_json()

    async def on_client(client: Client) -> dict[str, Any]:
        return await client.publish_event(
            event_type, value, source=source, id=event_id, subject=subject
        )

    result = _on(db, server, api_key, on_app, on_client, creating=True)
    if as_json:
        _print_json(result)
        return
    said = {"started": "green", "duplicate": "yellow", "no_match": "white",
            "dead_letter": "red"}  # fmt: skip
    status = result["status"]
    _out.print(
        f"event {escape(str(result['source']))} {escape(str(result['id']))}: "
        f"[{said.get(status, '')}]{status}[/]"
    )
    for eid in result["execution_ids"]:
        _out.print(f"  started {escape(eid)}")
    if result.get("reason"):
        _out.print(f"  [red]{escape(result['reason'])}[/]")
    if status == "dead_letter":
        raise typer.Exit(1)


@events_cli.command("show")
def show(
    source: Annotated[str, typer.Argument(help="the event's source")],
    event_id: Annotated[str, typer.Argument(metavar="ID", help="the event's id")],
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """An event as received, and the executions it started with their status."""

    async def on_app(app: App) -> dict[str, Any]:
        return (await app.get_event(source, event_id)).as_json()

    async def on_client(client: Client) -> dict[str, Any]:
        return await client.get_event(source, event_id)

    event = _on(db, server, api_key, on_app, on_client)
    if as_json:
        _print_json(event)
        return
    for label, key in (("source", "source"), ("id", "id"), ("type", "type"),
                       ("subject", "subject"), ("time", "time"), ("received", "received_at"),
                       ("via", "via")):  # fmt: skip
        if event.get(key) is not None:
            _out.print(f"[bold]{label:>9}[/]  {escape(str(event[key]))}")
    _out.print(f"[bold]{'data':>9}[/]  {escape(codec.dumps(event['data'], 'data'))}")
    if not event["executions"]:
        _out.print("it started no execution")
        return
    table = Table(title="Executions it started")
    for column in ("id", "workflow", "version", "status"):
        table.add_column(column)
    for e in event["executions"]:
        style = STATUS_STYLE.get(e["status"], "")
        table.add_row(escape(e["id"]), escape(e["workflow"]), escape(e["version"]),
                      f"[{style}]{e['status']}[/]")  # fmt: skip
    console.print(table)


dead_letters_cli = typer.Typer(
    cls=HelpGroup,
    help="What could not be acted on (listed with no command), and redrive ID.",
)
events_cli.add_typer(dead_letters_cli, name="dead-letters")


@dead_letters_cli.callback(invoke_without_command=True)
def dead_letters(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="the page after this")] = None,
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
    utc: UtcOption = False,
) -> None:
    """What could not be acted on, newest first: the reason, where it came from, the body;
    legato events dead-letters redrive ID ingests one again."""
    if ctx.invoked_subcommand is not None:
        return

    async def on_app(app: App) -> dict[str, Any]:
        found = await app.dead_letters(limit, cursor)
        more = dead_letter_cursor(found[-1]) if len(found) == limit else None
        return {"items": [d.as_json() for d in found], "next_cursor": more}

    async def on_client(client: Client) -> dict[str, Any]:
        return await client.dead_letters(limit, cursor)

    page = _on(db, server, api_key, on_app, on_client)
    if as_json:
        _print_json(page)
        return
    if not page["items"]:
        _out.print("no dead letters")
        return
    table = Table(title="Dead letters")
    table.add_column("id", no_wrap=True)
    for column in ("received", "via", "reason", "subscription", "event", "body"):
        table.add_column(column, overflow="fold")
    for d in page["items"]:
        event = f"{d['event_source']} {d['event_id']}" if d["event_source"] else ""
        body = d["body"] if len(d["body"]) <= BODY_SHOWN else d["body"][:BODY_SHOWN] + "…"
        reason = escape(d["reason"])
        if d.get("redriven_at"):
            reason += f"\n[green]redriven {moment(datetime.fromisoformat(d['redriven_at']))}[/]"
        received = moment(datetime.fromisoformat(d["received_at"]))
        table.add_row(escape(d["id"]), received, escape(d["via"]), reason,
                      escape(d["subscription"] or ""), escape(event), escape(body))  # fmt: skip
    console.print(table)
    if page["next_cursor"]:
        _out.print(f"more: --cursor {page['next_cursor']}")


@dead_letters_cli.command("redrive")
def redrive(
    letter_id: Annotated[str, typer.Argument(metavar="ID", help="the dead letter's id")],
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest a dead letter's event again, as it would be now (after the subscription's filter
    or transform was fixed, or its workflow registered): the executions it starts, once. If it
    fails again, the reason, and nothing is written."""

    async def on_app(app: App) -> dict[str, Any]:
        return (await app.redrive_dead_letter(letter_id)).as_json()

    async def on_client(client: Client) -> dict[str, Any]:
        return await client.redrive_dead_letter(letter_id)

    letter = _on(db, server, api_key, on_app, on_client)
    if as_json:
        _print_json(letter)
        return
    started = letter["redriven_to"] or []
    if started:
        _out.print(Text(f"redriven {letter_id}: started {', '.join(started)}"))
    else:
        _out.print(Text(f"redriven {letter_id}: it started no execution"))


@subscriptions_cli.command("create")
def create(
    name: Annotated[str, typer.Argument(help="the subscription's name")],
    event_type: Annotated[str, typer.Option("--type", help="the event type it takes")],
    workflow: Annotated[str, typer.Option("--workflow", help="workflow or state machine")],
    version: Annotated[
        str | None, typer.Option("--version", help="the workflow's version (default: latest)")
    ] = None,
    filter: Annotated[
        str | None, typer.Option("--filter", help="JSONata over the event: truthy starts")
    ] = None,
    transform: Annotated[
        str | None, typer.Option("--transform", help="JSONata making the input (default: data)")
    ] = None,
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start WORKFLOW for each event of TYPE that passes the filter."""

    async def on_app(app: App) -> dict[str, Any]:
        sub = await app.create_subscription(name, event_type, workflow, version=version,
                                            filter=filter, transform=transform)  # fmt: skip
        return subscription_json(sub)

    async def on_client(client: Client) -> dict[str, Any]:
        return await client.create_subscription(name, event_type, workflow, version=version,
                                                filter=filter, transform=transform)  # fmt: skip

    sub = _on(db, server, api_key, on_app, on_client, creating=True)
    if as_json:
        _print_json(sub)
    else:
        _out.print(f"subscription {escape(sub['name'])}: {escape(sub['event_type'])} → "
                   f"{escape(sub['workflow'])}")  # fmt: skip


@subscriptions_cli.command("list")
def list_cmd(
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every subscription, by name."""

    async def on_app(app: App) -> list[dict[str, Any]]:
        return [subscription_json(s) for s in await app.list_subscriptions()]

    async def on_client(client: Client) -> list[dict[str, Any]]:
        return await client.list_subscriptions()

    subs = _on(db, server, api_key, on_app, on_client)
    if as_json:
        _print_json(subs)
        return
    if not subs:
        _out.print("no subscriptions")
        return
    table = Table(title="Subscriptions")
    for column in ("name", "event type", "workflow", "version", "filter", "transform"):
        table.add_column(column, overflow="fold")
    for s in subs:
        table.add_row(*(escape(s[k] or "") for k in ("name", "event_type", "workflow", "version",
                                                      "filter", "transform")))  # fmt: skip
    console.print(table)


@subscriptions_cli.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="the subscription's name")],
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Events of its type start nothing more; what it started is left as it is."""

    async def on_app(app: App) -> None:
        await app.delete_subscription(name)

    async def on_client(client: Client) -> None:
        await client.delete_subscription(name)

    _on(db, server, api_key, on_app, on_client)
    _out.print(f"subscription {escape(name)} deleted")
