"""The app the API tests serve: code workflows with annotated arguments, one that waits for a
signal, one on a task token, one that fails, and a state machine; and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import BaseModel

import legato
from legato.api.server import create_api
from legato.api.settings import ApiSettings

ORDER_MACHINE = {
    "StartAt": "Price",
    "States": {
        "Price": {"Type": "Pass", "Parameters": {"total.$": "$.amount"}, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


class Item(BaseModel):
    sku: str
    quantity: int


def make_app(url: str, **options: Any) -> legato.App:
    app = legato.App(url, **options)

    @app.step
    async def price(items: list[Item]) -> int:
        return sum(i.quantity for i in items)

    @app.workflow(name="order")
    async def order(
        ctx: legato.Context, customer: str, items: list[Item], rush: bool = False
    ) -> dict[str, Any]:
        total = await ctx.step(price, items)
        return {"customer": customer, "total": total, "rush": rush}

    @app.workflow(name="waiter")
    async def waiter(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("go")

    @app.workflow(name="callback")
    async def callback(ctx: legato.Context) -> Any:
        fut, _token = ctx.external_task()
        return await fut

    @app.workflow(name="broken")
    async def broken(ctx: legato.Context) -> None:
        raise ValueError("always")

    app.register_state_machine("priced", ORDER_MACHINE)
    return app


@asynccontextmanager
async def serving(
    url: str, settings: ApiSettings | None = None, **options: Any
) -> AsyncIterator[tuple[legato.App, httpx.AsyncClient]]:
    """The app running its engine, and an HTTP client on its API (in process, over ASGI)."""
    app = make_app(url, **options)
    async with app:
        api = create_api(app, settings)
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://legato") as client:
            yield app, client
