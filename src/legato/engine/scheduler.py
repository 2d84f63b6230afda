"""A deterministic, single-threaded scheduler for workflow coroutines.

Workflow code must not run on the asyncio loop: its order of resumption has to be the same on
every replay. Here a workflow awaits only ``WFuture``s; resolved futures wake their waiters in
registration order, and ready coroutines run first-in first-out until all are blocked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from legato.errors import WorkflowUsageError


class Diverged(BaseException):  # noqa: N818 - internal control flow, never reaches users
    """Unwinds workflow code after non-determinism; a BaseException so ``except Exception`` in
    user code cannot swallow it."""


class WFuture:
    __slots__ = ("done", "value", "error", "_callbacks")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        self._callbacks: list[Callable[[], None]] = []

    def __await__(self) -> Generator[WFuture, None, Any]:
        if not self.done:
            yield self
        if self.error is not None:
            raise self.error
        return self.value

    def forget(self, waiter: object) -> None:
        """Drop the wake-up of a task that no longer waits here (an error was thrown in it):
        the scheduler's callbacks carry their task as their default argument."""
        kept = [cb for cb in self._callbacks if waiter not in _defaults(cb)]
        self._callbacks = kept

    def add_done_callback(self, cb: Callable[[], None]) -> None:
        if self.done:
            cb()
        else:
            self._callbacks.append(cb)

    def resolve(self, value: Any) -> None:
        if self.done:
            return
        self.done, self.value = True, value
        self._wake()

    def fail(self, error: BaseException) -> None:
        if self.done:
            return
        self.done, self.error = True, error
        self._wake()

    def _wake(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()


def _defaults(fn: Callable[[], None]) -> tuple[object, ...]:
    return getattr(fn, "__defaults__", None) or ()


class _Task:
    __slots__ = ("coro", "result", "send_error", "waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.result = WFuture()
        self.send_error: BaseException | None = None
        self.waiting_on: WFuture | None = None  # the future it last blocked on


class Scheduler:
    def __init__(self) -> None:
        self._ready: deque[_Task] = deque()
        self._tasks: list[_Task] = []

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> WFuture:
        task = _Task(coro)
        self._tasks.append(task)
        self._ready.append(task)
        return task.result

    def as_future(self, aw: Awaitable[Any]) -> WFuture:
        if isinstance(aw, WFuture):
            return aw
        if isinstance(aw, Coroutine):
            return self.spawn(aw)
        raise WorkflowUsageError(
            f"ctx.gather() takes ctx.step(...) calls or coroutines, not {type(aw).__name__}"
        )

    def gather(self, *aws: Awaitable[Any]) -> WFuture:
        futures = [self.as_future(aw) for aw in aws]
        out = WFuture()
        if not futures:
            out.resolve([])
            return out
        remaining = [len(futures)]

        def on_done(fut: WFuture) -> None:
            if out.done:
                return
            if fut.error is not None:
                out.fail(fut.error)
                return
            remaining[0] -= 1
            if remaining[0] == 0:
                out.resolve([f.value for f in futures])

        for fut in futures:
            fut.add_done_callback(lambda f=fut: on_done(f))  # type: ignore[misc]
        return out

    def run_until_blocked(self) -> None:
        ready = self._ready
        while ready:
            task = ready.popleft()
            try:
                if task.send_error is not None:
                    err, task.send_error = task.send_error, None
                    awaited = task.coro.throw(err)
                else:
                    awaited = task.coro.send(None)
            except StopIteration as stop:
                self._tasks.remove(task)
                task.result.resolve(stop.value)
                continue
            except BaseException as exc:  # the workflow's own failure, reported via its future
                self._tasks.remove(task)
                task.result.fail(exc)
                if isinstance(exc, Diverged):
                    raise
                continue
            if not isinstance(awaited, WFuture):
                task.send_error = WorkflowUsageError(
                    f"workflow code awaited {type(awaited).__name__}; a workflow may only await "
                    "ctx.step(), ctx.sleep(), ctx.gather() and its own coroutines"
                )
                ready.append(task)
            elif awaited.done:
                ready.append(task)
            else:
                task.waiting_on = awaited
                awaited.add_done_callback(lambda t=task: ready.append(t))  # type: ignore[misc]

    def throw(self, result: WFuture, error: BaseException) -> bool:
        """Raise ``error`` in the coroutine whose result ``result`` is, at the await where it
        is blocked (a cancellation); False if it has finished."""
        task = next((t for t in self._tasks if t.result is result), None)
        if task is None:
            return False
        task.send_error = error
        awaited, task.waiting_on = task.waiting_on, None
        if awaited is not None and not awaited.done:  # blocked: wake it now, not when it ends
            awaited.forget(task)
            self._ready.append(task)
        return True

    def close(self) -> None:
        """Drop every coroutine (eviction from the sticky cache)."""
        for task in self._tasks:
            task.coro.close()
        self._tasks.clear()
        self._ready.clear()
