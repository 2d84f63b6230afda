"""``App``: Legato as users see it.

Inside ``async with app:`` the app runs an engine (orchestrator and worker) in this process and
starts executions on the local fast path. Without it, the app is a client of whatever engine
serves its database: ``start`` records the execution and that engine picks it up.

Every call that reads or writes the database (``start``, ``signal``, the task-token calls, a
handle's ``status`` and ``result``) rides through a database that is restarting: it retries
while the database cannot be reached, for up to ``reconnect_seconds`` (``engine.reconnect``).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, overload

from legato.client.handle import ExecutionStatus, Handle
from legato.client.stores import DEFAULT_URL, open_store
from legato.core import codec, decide, error_names
from legato.core.durations import optional_seconds, to_ms
from legato.core.events import Status
from legato.core.retry import Retry
from legato.core.transition import ExecutionUpdate, NewExecution
from legato.engine import messages, operations
from legato.engine.clock import SystemClock
from legato.engine.closed_watch import ClosedWatcher
from legato.engine.engine import Engine
from legato.engine.reconnect import reconnecting
from legato.engine.registry import Registry, WorkflowDef
from legato.errors import (
    ConfigurationError,
    ExecutionAlreadyExists,
)
from legato.ports.clock import Clock
from legato.ports.executions import ExecutionRow, StartResult
from legato.ports.store import Store

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class App:
    """A Legato application: its workflows and steps, and the database they run on."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        cache_size: int = 10_000,
        lease_seconds: float = 30.0,
        concurrency: int = 100,
        clock: Clock | None = None,
        grace_seconds: float = 30.0,
        reconnect_seconds: float = 60.0,
    ) -> None:
        """``grace_seconds``: how long stopping the engine (``shutdown``, the end of ``async
        with app``, SIGTERM of ``legato worker``) waits for running steps to finish so their
        outcomes are recorded; steps still running then are cancelled and run again elsewhere.
        ``reconnect_seconds``: how long a call keeps retrying a database it cannot reach (a
        restart, a failover) before it raises ``DatabaseUnavailableError``; 0 raises at once."""
        self.url = url
        self.registry = Registry()
        self.cache_size = cache_size
        self.lease_seconds = lease_seconds
        self.concurrency = concurrency
        self.grace_seconds = grace_seconds
        self.reconnect_seconds = reconnect_seconds
        self.clock: Clock = clock or SystemClock()
        self._engine: Engine | None = None
        self._store: Store | None = None
        self._store_open = False
        self._opening: asyncio.Future[Store] | None = None
        self._watcher: ClosedWatcher | None = None

    # --- registration -------------------------------------------------------------------------
    def workflow(
        self,
        name: str | None = None,
        version: str = "1",
        *,
        timeout: float | timedelta | None = None,
    ) -> Callable[[F], F]:
        """Register an ``async def`` workflow. ``timeout``: its executions' timeout, past which
        one ends TIMED_OUT (``app.start(..., timeout=...)`` sets one execution's)."""

        def register(fn: F) -> F:
            self.registry.add_workflow(fn, name, version, timeout)
            return fn

        return register

    @overload
    def step(self, fn: F, /) -> F: ...
    @overload
    def step(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        retry: Retry | None = None,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
        queue: str | None = None,
        schedule_to_start_timeout: float | timedelta | None = None,
    ) -> Callable[[F], F]: ...

    def step(
        self,
        fn: F | None = None,
        /,
        *,
        name: str | None = None,
        retry: Retry | None = None,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
        queue: str | None = None,
        schedule_to_start_timeout: float | timedelta | None = None,
    ) -> F | Callable[[F], F]:
        """Register a step (sync or async). ``timeout`` is start-to-close per attempt;
        ``schedule_to_start_timeout``: if no worker has started it that long after it was
        scheduled, it fails with ``States.Timeout`` (not retried). Without it a step waits for
        a worker however long (a rolling deploy)."""

        def register(f: F) -> F:
            self.registry.add_step(
                f, name, retry, timeout, heartbeat_timeout, queue, schedule_to_start_timeout
            )
            return f

        return register(fn) if fn is not None else register

    def register_state_machine(
        self, name: str, definition: Mapping[str, Any] | str | Path, version: str = "1"
    ) -> WorkflowDef:
        """Register an Amazon States Language state machine as workflow ``name``: a dict, a
        path to a .json/.yaml file, or JSON/YAML text. It is validated first
        (``InvalidDefinitionError`` lists every problem). Start it like any workflow:
        ``await app.start("name", input)``."""
        from legato.engine.statemachine import read_definition, state_machine_workflow

        data = read_definition(definition)
        limit = data.get("TimeoutSeconds")  # validated: a positive integer if present
        timeout = float(limit) if isinstance(limit, int) and not isinstance(limit, bool) else None
        code = hashlib.sha256(codec.dumps(data, "definition").encode()).hexdigest()[:16]
        fn = state_machine_workflow(name, data)
        return self.registry.add_workflow(fn, name, version, timeout, code_hash=code)

    # --- running an engine in this process ---------------------------------------------------
    def configure(self, **options: Any) -> None:
        """Change settings before the engine starts (``legato dev --db URL`` uses this)."""
        for key, value in options.items():
            if not hasattr(self, key) or key.startswith("_"):
                raise ConfigurationError(f"unknown App option {key!r}")
            setattr(self, key, value)

    def engine(self, *, orchestrate: bool = True, work: bool = True, **options: Any) -> Engine:
        if self._engine is not None:
            raise ConfigurationError("this app already runs an engine")
        self._store = open_store(self.url)
        self._engine = Engine(
            self._store,
            self.registry,
            self.clock,
            orchestrate=orchestrate,
            work=work,
            cache_size=self.cache_size,
            lease_seconds=self.lease_seconds,
            concurrency=self.concurrency,
            grace_seconds=self.grace_seconds,
            **options,
        )
        return self._engine

    async def start_engine(
        self, *, orchestrate: bool = True, work: bool = True, queues: list[str] | None = None
    ) -> Engine:
        """Start the engine in this process (``async with app`` starts both roles)."""
        engine = self.engine(orchestrate=orchestrate, work=work, queues=queues)
        try:
            await engine.start()
        except BaseException:  # the engine closed what it had opened (its pool, its locks)
            self._engine = None
            self._store = None
            raise
        self._store_open = True
        return engine

    @property
    def running_engine(self) -> Engine | None:
        """The engine this process runs, if it runs one (the HTTP API's routes for remote
        workers reach its store and wake its orchestrator)."""
        return self._engine

    async def __aenter__(self) -> App:
        await self.start_engine()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        if self._engine is not None:
            await self._engine.stop()
        elif self._store is not None and self._store_open:
            await self._store.close()
        self._engine = None
        self._store = None
        self._store_open = False

    def _closed_watcher(self, store: Store) -> ClosedWatcher:
        watcher = self._watcher
        if (
            watcher is None
            or watcher.store is not store
            or watcher.loop is not asyncio.get_running_loop()
        ):
            watcher = self._watcher = ClosedWatcher(store, self.reconnect_seconds)
        return watcher

    async def _store_ready(self) -> Store:
        """The store, opened on first use; concurrent first calls share one opening (one pool)."""
        if self._store is not None and self._store_open:
            return self._store
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open_store())
        opening = self._opening
        try:
            return await asyncio.shield(opening)
        finally:
            if opening.done() and self._opening is opening:
                self._opening = None

    async def _retrying(self, what: str, op: Callable[[Store], Awaitable[T]]) -> T:
        """``op(store)``, tried again while the database cannot be reached (opening the store
        included: a client's first call may come while the server restarts)."""

        async def attempt() -> T:
            return await op(await self._store_ready())

        return await reconnecting(attempt, self.reconnect_seconds, what)

    async def _retrying_once(self, what: str, op: Callable[[Store, bool], Awaitable[T]]) -> T:
        """``_retrying`` for a call that must not act twice: ``op(store, repeat)``, where
        ``repeat`` (a retry) lets it find its own earlier attempt's work, done by a commit whose
        answer was lost, and count that as done."""
        attempts = 0

        async def attempt(store: Store) -> T:
            nonlocal attempts
            attempts += 1
            return await op(store, attempts > 1)

        return await self._retrying(what, attempt)

    async def _open_store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.url)
        store = self._store
        if not self._store_open:
            await store.open()
            self._store_open = True
        return store

    # --- executions ---------------------------------------------------------------------------
    async def start(
        self,
        workflow: Callable[..., Any] | str,
        *args: Any,
        id: str | None = None,
        connection: Any = None,
        timeout: float | timedelta | None = None,
        **kwargs: Any,
    ) -> Handle[Any]:
        """Start an execution of a registered workflow (the function, or its name); the same
        ``id`` and input again returns the same execution. ``timeout``: past it the execution
        ends TIMED_OUT (default: the workflow's own, if it has one).

        ``connection``: the caller's own ``psycopg.AsyncConnection`` (PostgreSQL apps). The
        execution is written in the caller's open transaction, so it commits or rolls back
        together with the caller's own rows (the outbox pattern for your data)."""
        if isinstance(workflow, str):
            wf = self.registry.workflow_named(workflow)
        else:
            wf = self.registry.workflow_for(workflow)
        what = f"input of workflow {wf.name!r}"
        input_json = wf.signature.encode_args(args, kwargs, what)
        # The id is chosen once: a start retried after its commit was cut finds the execution
        # it did record (same id, workflow and input) and returns it (``_handle_for``).
        execution_id = id or str(uuid.uuid4())
        limit = optional_seconds(timeout)
        if limit is not None and limit <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, not {limit}")
        timeout_ms = wf.timeout_ms if limit is None else to_ms(limit)
        if connection is not None:  # the caller's transaction: theirs to retry, whole
            done = await self._start_in(connection, wf, execution_id, input_json, timeout_ms)
            return self._handle_for(done, wf, execution_id, input_json)

        async def start(store: Store) -> StartResult:
            return await self._start(store, wf, execution_id, input_json, timeout_ms)

        result = await self._retrying(f"starting execution {execution_id!r}", start)
        return self._handle_for(result, wf, execution_id, input_json)

    async def _start(
        self,
        store: Store,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None,
    ) -> StartResult:
        orch = self._engine.orchestrator if self._engine else None
        result: StartResult | None = None
        if orch is not None:  # the first decision decodes (validates) the input right here
            result = await orch.start(wf, execution_id, input_json, timeout_ms)
        if result is None:  # no engine here, or another replica decides this execution
            wf.signature.decode_args(input_json)  # the workflow must accept it: fail here
            pending = self._pending(wf, execution_id, input_json, timeout_ms)
            result = await store.start_execution(pending)
        return result

    def _pending(
        self, wf: WorkflowDef, execution_id: str, input_json: str, timeout_ms: int | None
    ) -> NewExecution:
        """An execution recorded for whichever engine serves the database to pick up."""
        now = self.clock.now_ms()
        return decide.pending_start(execution_id, wf.name, wf.version, input_json, now, timeout_ms)

    async def _start_in(
        self,
        connection: Any,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None,
    ) -> StartResult:
        if not self.url.startswith(("postgresql://", "postgres://")):
            raise ConfigurationError("app.start(connection=...) needs a PostgreSQL app")
        from legato.adapters.postgres.store import start_in_transaction

        wf.signature.decode_args(input_json)
        pending = self._pending(wf, execution_id, input_json, timeout_ms)
        return await start_in_transaction(connection, pending)

    def _handle_for(
        self, result: StartResult, wf: WorkflowDef, execution_id: str, input_json: str
    ) -> Handle[Any]:
        if not result.created:
            existing = result.existing
            assert existing is not None
            if existing.workflow != wf.name or existing.input != input_json:
                raise ExecutionAlreadyExists(
                    execution_id,
                    f"with workflow {existing.workflow!r} and a different input",
                )
        return Handle(self, execution_id, wf)

    # --- messages to executions ---------------------------------------------------------------
    async def signal(self, execution_id: str, name: str, payload: Any = None) -> None:
        """Send a signal (JSON ``payload``) to a running execution; it is recorded durably and
        handed to ``ctx.wait_for_signal(name)``. Raises ``ExecutionNotFound`` or
        ``ExecutionClosed``."""
        now = self.clock.now_ms()

        async def send(store: Store) -> None:
            await messages.signal(store, execution_id, name, payload, now)

        # A signal whose commit was cut and is sent again may be recorded twice (signals carry
        # no idempotency key); workflows that must not see one twice dedupe on the payload.
        await self._retrying(f"signalling execution {execution_id!r}", send)
        self._wake()

    async def send_task_success(self, token: str, output: Any = None) -> None:
        """Complete the external task of ``token`` with ``output``. Raises
        ``InvalidTaskToken`` or ``TaskTokenClosed`` (already completed, failed, timed out)."""
        now = self.clock.now_ms()

        async def send(store: Store, repeat: bool) -> None:
            await messages.task_success(store, token, output, now, repeat=repeat)

        await self._retrying_once("completing an external task", send)
        self._wake()

    async def send_task_failure(
        self, token: str, error: str = error_names.TASK_FAILED, cause: str = ""
    ) -> None:
        """Fail the external task of ``token``: the workflow gets ``ExternalTaskFailed`` with
        ``error_type=error`` and ``message=cause``."""
        now = self.clock.now_ms()

        async def send(store: Store, repeat: bool) -> None:
            await messages.task_failure(store, token, error, cause, now, repeat=repeat)

        await self._retrying_once("failing an external task", send)
        self._wake()

    async def send_task_heartbeat(self, token: str) -> None:
        """Report that the external task of ``token`` is alive (re-arms its heartbeat timeout)."""
        now = self.clock.now_ms()

        async def send(store: Store) -> None:
            await messages.task_heartbeat(store, token, now)

        await self._retrying("heartbeating an external task", send)
        self._wake()

    def _wake(self) -> None:
        if self._engine is not None:
            self._engine.wake_orchestrator()

    # --- operating executions ------------------------------------------------------------------
    async def cancel(self, execution_id: str, reason: str | None = None) -> None:
        """Ask an execution to stop: its code sees ``legato.Cancelled`` at its next await (and
        may clean up, or compensate), its running steps are told; it ends CANCELLED. Raises
        ``ExecutionNotFound`` or ``ExecutionClosed``. Sent twice (a retry), it is recorded once."""
        now = self.clock.now_ms()

        async def send(store: Store) -> None:
            await messages.cancel(store, execution_id, reason, now)

        await self._retrying(f"cancelling execution {execution_id!r}", send)
        self._wake()

    async def terminate(self, execution_id: str, reason: str | None = None) -> None:
        """End an execution at once: TERMINATED, no more of its code runs, the results of its
        running steps are dropped (the steps are told to stop). Raises ``ExecutionNotFound``,
        or ``ExecutionClosed`` if it had ended."""
        now = self.clock.now_ms()

        async def stop(store: Store, repeat: bool) -> ExecutionUpdate | None:
            return await operations.terminate(store, execution_id, reason, now, repeat)

        update = await self._retrying_once(f"terminating execution {execution_id!r}", stop)
        orch = self._engine.orchestrator if self._engine else None
        if orch is not None:
            orch.closed_elsewhere(execution_id, update)
        self._wake()

    async def redrive(self, execution_id: str) -> Handle[Any]:
        """Continue a FAILED, TIMED_OUT or CANCELLED execution from where it failed, with the
        code now registered: its history is kept (``ExecutionRedriven``), the failed step runs
        again with a fresh retry budget, a state machine enters its failed state again."""
        now = self.clock.now_ms()

        async def reopen(store: Store, repeat: bool) -> None:
            await operations.redrive_execution(store, execution_id, now, repeat)

        await self._retrying_once(f"redriving execution {execution_id!r}", reopen)
        self._wake()
        return Handle(self, execution_id)

    async def resume(self, execution_id: str) -> Handle[Any]:
        """Retry a SUSPENDED execution with the code now running (it suspends again if that
        code still does not match its history)."""
        now = self.clock.now_ms()

        async def reopen(store: Store, repeat: bool) -> None:
            await operations.resume(store, execution_id, now, repeat)

        await self._retrying_once(f"resuming execution {execution_id!r}", reopen)
        self._wake()
        return Handle(self, execution_id)

    def get_handle(self, execution_id: str) -> Handle[Any]:
        return Handle(self, execution_id)

    async def list_executions(
        self, status: Status | str | None = None, limit: int = 100
    ) -> list[ExecutionStatus]:
        wanted = Status(status) if status else None

        async def rows(store: Store) -> list[ExecutionRow]:
            return await store.list_executions(wanted, None, limit)

        return [
            ExecutionStatus.from_row(r) for r in await self._retrying("listing executions", rows)
        ]

    @property
    def stats(self) -> dict[str, int]:
        """Counters for tests and benchmarks: replays, transitions, commits."""
        engine = self._engine
        orch = engine.orchestrator if engine else None
        store = self._store
        return {
            "replays": orch.replays if orch else 0,
            "transitions": orch.transitions if orch else 0,
            "commits": store.commits() if store else 0,
            "cached": len(orch.cache) if orch else 0,
        }
