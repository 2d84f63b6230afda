"""The W1 workflow as an app module for ``legato dev`` / ``legato worker`` (bench/scaling.py).

The CLI loads this module (``PYTHONPATH=bench``) and points its app at ``--db``; the benchmark's
client registers the same workflow and step on an ``App`` of its own with ``register`` so that
``app.start`` can encode the input, while the engine processes run it.
"""

from __future__ import annotations

import legato


def register(app: legato.App) -> legato.App:
    """Register W1's step and workflow on ``app`` (the engines' and the client's alike)."""

    @app.step
    async def inc(x: int) -> int:
        """Trivial step: no I/O, so the cost measured is Legato's own."""
        return x + 1

    @app.workflow(name="sequential")
    async def sequential(ctx: legato.Context, k: int) -> int:
        """K sequential steps, each checkpointed before the next is scheduled."""
        x = 0
        for _ in range(k):
            x = await ctx.step(inc, x)
        return x

    return app


app = register(legato.App())
