"""How the engine's background loops wait between turns."""

from __future__ import annotations

import asyncio


async def wait_or_timeout(event: asyncio.Event, timeout: float) -> None:
    """Sleep until ``event`` is set or ``timeout`` passes, then clear it.

    A cancellation that arrives while the event is already set would otherwise go unseen until
    the loop next suspends (and ``wait_for`` on 3.11 can lose it altogether): check for it, so a
    stopping engine never waits on a loop that did not notice."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        pass
    event.clear()
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()
