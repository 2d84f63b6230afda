"""Long polls (a remote worker's claim, an activity poll): look, and if nothing is there,
wait until the engine says tasks may have become claimable (``Engine.tasks_ready``, rung by
its commits and, on PostgreSQL, by other processes' notifications), then look again; at
least every ``RECHECK_S`` too (a lease that ran out rings nothing), and never past the
caller's wait or the server's stop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request

from legato.api.problems import Problem
from legato.client import App
from legato.engine.engine import Engine

T = TypeVar("T")
RECHECK_S = 1.0


def engine_of(app: App) -> Engine:
    engine = app.running_engine
    if engine is None:
        raise Problem(503, "no-engine", "this server runs no engine: it cannot hand out tasks")
    return engine


async def long_poll(
    engine: Engine,
    look: Callable[[], Awaitable[list[T]]],
    wait_seconds: float,
    closing: asyncio.Event,
    request: Request,
) -> list[T]:
    """``look()`` until it finds something, ``wait_seconds`` pass or the server stops."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        ring = engine.tasks_ready.ring  # taken before looking: a ring meanwhile is not lost
        found = await look()
        left = deadline - loop.time()
        if found or left <= 0 or closing.is_set():
            return found
        await _either(ring, closing, min(left, RECHECK_S))
        if closing.is_set() or await request.is_disconnected():
            return []  # nobody to hand tasks to: claim nothing for a caller that left


async def _either(a: asyncio.Event, b: asyncio.Event, timeout: float) -> None:
    waits = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
