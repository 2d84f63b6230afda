"""The app of the rolling-deploy test, in two versions: the new one (the default) has the
steps ``first`` and ``second``; the old one (``DEPLOY_OLD=1``) lacks ``second``, as a worker
still running the previous release would. The workflow calls ``second`` by name."""

from __future__ import annotations

import os

import legato

app = legato.App(lease_seconds=2.0)


@app.step
async def first(x: int) -> int:
    return x + 1


if os.environ.get("DEPLOY_OLD") != "1":

    @app.step
    async def second(x: int) -> int:
        return x * 10


@app.workflow(name="deploy")
async def deploy(ctx: legato.Context, x: int) -> int:
    return await ctx.step("second", await ctx.step(first, x))  # type: ignore[no-any-return]
