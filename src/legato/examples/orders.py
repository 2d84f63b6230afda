"""An order workflow: reserve stock, charge (with retries), wait a moment, ship in parallel.

legato dev legato.examples.orders --example
"""

from __future__ import annotations

import random

from pydantic import BaseModel

import legato

app = legato.App("sqlite:///.legato/legato.db")


class Order(BaseModel):
    id: str
    items: list[str]
    total_cents: int


class Receipt(BaseModel):
    order_id: str
    payment: str
    parcels: list[str]


@app.step
async def reserve_stock(order: Order) -> list[str]:
    return [f"{item}-reserved" for item in order.items]


@app.step(retry=legato.Retry(max_attempts=5, initial=0.2, backoff=2.0))
async def charge(order_id: str, amount_cents: int) -> str:
    ctx = legato.step_context()
    if ctx.attempt == 1 and random.random() < 0.5:  # the payment provider is flaky
        raise ConnectionError("payment provider timed out")
    return f"payment-{ctx.idempotency_key}"


@app.step
def ship(order_id: str, item: str) -> str:  # a sync step runs in the worker's thread pool
    return f"parcel-{order_id}-{item}"


@app.workflow(name="checkout", version="1")
async def checkout(ctx: legato.Context, order: Order) -> Receipt:
    await ctx.step(reserve_stock, order)
    payment = await ctx.step(charge, order.id, order.total_cents)
    await ctx.sleep(1)
    parcels = await ctx.gather(*(ctx.step(ship, order.id, item) for item in order.items))
    return Receipt(order_id=order.id, payment=payment, parcels=parcels)


EXAMPLE = ("checkout", [{"id": "order-1", "items": ["book", "lamp"], "total_cents": 4200}])
