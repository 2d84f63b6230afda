"""The app ``legato dev client_app`` serves for the HTTP client tests (tests/api): a workflow
that adds through a step, one that waits for a signal, one whose step fails for good, one
that waits for an external task's token, and a state machine."""

from __future__ import annotations

from typing import Any

import legato

app = legato.App()


@app.step
async def add(a: int, b: int) -> int:
    return a + b


@app.workflow(name="adder")
async def adder(ctx: legato.Context, a: int, b: int = 1) -> int:
    return await ctx.step(add, a, b)  # type: ignore[no-any-return]


@app.workflow(name="waiter")
async def waiter(ctx: legato.Context, tag: str) -> dict[str, Any]:
    got = await ctx.wait_for_signal("go")
    return {"tag": tag, "got": got}


@app.step(retry=legato.Retry(max_attempts=1))
async def refuse(reason: str) -> None:
    raise ValueError(reason)


@app.workflow(name="refuser")
async def refuser(ctx: legato.Context, reason: str) -> None:
    await ctx.step(refuse, reason)


@app.workflow(name="callback")
async def callback(ctx: legato.Context) -> dict[str, Any]:
    fut, token = ctx.external_task()
    try:
        return {"ok": await fut}
    except legato.ExternalTaskFailed as exc:
        return {"error": exc.error_type, "cause": exc.message}


app.register_state_machine(
    "greeter",
    {
        "StartAt": "Greet",
        "States": {
            "Greet": {
                "Type": "Pass",
                "Parameters": {"greeting.$": "States.Format('hello {}', $.name)"},
                "End": True,
            }
        },
    },
)
