"""The app of the browser tests, before and after a fix: ``legato dev ui_app:broken`` serves
the ``checkout`` state machine, whose Task ``charge`` fails (the payment gateway refuses),
``gated`` (its Task ``hold`` runs until the file ``$UI_GATE`` exists), and the code workflows
``greeting`` (a step, a timer and a child) and ``approval`` (waits for a signal);
``ui_app:fixed`` is the same app with ``charge`` fixed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import legato

CHECKOUT = {
    "Comment": "price an order, charge it, ship it",
    "StartAt": "Price",
    "States": {
        "Price": {"Type": "Pass", "Parameters": {"order.$": "$.order", "total.$": "$.amount"},
                  "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "charge", "ResultPath": "$.charged",
                   "Next": "Ship"},
        "Ship": {"Type": "Pass", "Result": "shipped", "ResultPath": "$.shipping", "End": True},
    },
}  # fmt: skip
GATED = {
    "StartAt": "Hold",
    "States": {
        "Hold": {"Type": "Task", "Resource": "hold", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
Charge = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def make_app(charge: Charge) -> legato.App:
    app = legato.App()
    app.step(name="charge", retry=legato.Retry.none())(charge)

    @app.step(name="hold")
    async def hold(data: Any) -> Any:
        gate = Path(os.environ["UI_GATE"])
        while not gate.exists():
            await asyncio.sleep(0.05)
        return data

    @app.step(name="shout")
    async def shout(name: str) -> str:
        return f"HELLO {name.upper()}"

    @app.workflow(name="wrap")
    async def wrap(ctx: legato.Context, text: str) -> str:
        return f"*{text}*"

    @app.workflow(name="greeting")
    async def greeting(ctx: legato.Context, name: str) -> str:
        loud = await ctx.step(shout, name)
        await ctx.sleep(0.05)
        return str(await ctx.child(wrap, loud))

    @app.workflow(name="approval")
    async def approval(ctx: legato.Context, order: str) -> Any:
        return {"order": order, "decision": await ctx.wait_for_signal("decision")}

    app.register_state_machine("checkout", CHECKOUT)
    app.register_state_machine("gated", GATED)
    return app


async def charge_refused(order: dict[str, Any]) -> dict[str, Any]:
    raise ConnectionError(f"the payment gateway refused order {order['order']}")


async def charge_paid(order: dict[str, Any]) -> dict[str, Any]:
    return {"order": order["order"], "paid": order["total"]}


broken = make_app(charge_refused)
fixed = make_app(charge_paid)
