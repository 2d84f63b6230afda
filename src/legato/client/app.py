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
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

from legato.adapters.aws.catalog import sdk_catalog
from legato.adapters.aws.clients import AwsClients, AwsSettings
from legato.adapters.http_task.connections import Auth, HttpConnection
from legato.adapters.http_task.invoke import HttpTasks
from legato.client.builtin_steps import register_builtin_steps
from legato.client.event_sources import EventSources
from legato.client.event_triggers import EventDetail, EventTriggers
from legato.client.handle import ExecutionStatus, Handle
from legato.client.labels import encode_labels
from legato.client.schedules import ScheduleDef, ScheduleMethods
from legato.client.stores import DEFAULT_URL, open_store
from legato.core import codec, decide, error_names
from legato.core.asl.arns import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    AwsIdentity,
    execution_name_of,
    identity_problem,
)
from legato.core.asl.express import express_problems
from legato.core.definitions import canonical_json, check_name, check_version, content_hash
from legato.core.durations import optional_seconds, to_ms
from legato.core.events import Status, SuspendKind
from legato.core.retry import Retry
from legato.core.started_by import encode as started_by_json
from legato.core.subscriptions import Subscription
from legato.core.transition import ExecutionUpdate, NewExecution
from legato.engine import messages, operations, tracing
from legato.engine.clock import SystemClock
from legato.engine.closed_watch import ClosedWatcher
from legato.engine.engine import Engine
from legato.engine.reconnect import reconnecting
from legato.engine.registry import Registry, WorkflowDef
from legato.engine.statemachine.mocking import Mocks, mock_setting
from legato.engine.stored_machines import StateMachines
from legato.errors import (
    ConfigurationError,
    DefinitionNotFound,
    ExecutionAlreadyExists,
    ExecutionStateError,
    InvalidDefinitionError,
    PayloadTooLarge,
)
from legato.ports.clock import Clock
from legato.ports.definitions import DefinitionSummary, DefinitionVersion, Put, StoredDefinition
from legato.ports.events import DeadLetter, IngestResult
from legato.ports.executions import (
    ExecutionFilter,
    ExecutionRow,
    StartResult,
    new_execution_row,
)
from legato.ports.store import Store

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_INLINE_PAYLOAD_BYTES = 256 * 1024
T = TypeVar("T")


class App(ScheduleMethods):
    """A Legato application: its workflows and steps, and the database they run on (and its
    schedules: ``legato.client.schedules``)."""

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
        inline_payload_bytes: int = DEFAULT_INLINE_PAYLOAD_BYTES,
        aws_region: str = DEFAULT_REGION,
        aws_account: str = DEFAULT_ACCOUNT,
        aws: AwsSettings | None = None,
        http_connections: Mapping[str, HttpConnection | Auth] | None = None,
        http_allow: Sequence[str] = (),
        item_buckets: Mapping[str, str] | None = None,
    ) -> None:
        """``grace_seconds``: how long stopping the engine (``shutdown``, the end of ``async
        with app``, SIGTERM of ``legato worker``) waits for running steps to finish so their
        outcomes are recorded; steps still running then are cancelled and run again elsewhere.
        ``reconnect_seconds``: how long a call keeps retrying a database it cannot reach (a
        restart, a failover) before it raises ``DatabaseUnavailableError``; 0 raises at once.
        ``inline_payload_bytes``: an input, signal payload or task output larger than this (as
        JSON) is refused with ``PayloadTooLarge`` before anything is written.
        ``aws_region``, ``aws_account``: the region and 12-digit account that state machines'
        ARNs name (``$$.Execution.Id``, ``$$.StateMachine.Id``, a started child's
        ``ExecutionArn``), by default those of AWS's examples, ``us-east-1`` and
        ``123456789012``.
        ``aws``: where state machines' AWS service integrations send their calls (an endpoint
        for a local emulator, per service or for all); credentials and region come from the
        standard AWS chain.
        ``http_connections``: the connections HTTP Tasks name in ``Authentication.ConnectionArn``
        (by the ARN's connection name, or a plain name): API key, Basic or OAuth client
        credentials, and headers, query and body fields added to each request.
        ``http_allow``: addresses, networks (``"10.0.0.0/8"``) and host names HTTP Tasks may
        call although they are not public (loopback, private, link-local, metadata...).
        ``item_buckets``: bucket names a Distributed Map's ItemReader and ResultWriter read and
        write in a folder or fsspec URL instead of S3 (``{"my-bucket": "file:///srv/data"}``)."""
        self.url = url
        self.item_buckets: dict[str, str] = dict(item_buckets or {})
        self.registry = Registry()
        self.machines = StateMachines(self.registry)  # stored definitions; registered ones
        self._set_aws(aws_region, aws_account)
        self.cache_size = cache_size
        self.lease_seconds = lease_seconds
        self.concurrency = concurrency
        self.grace_seconds = grace_seconds
        self.reconnect_seconds = reconnect_seconds
        self.inline_payload_bytes = inline_payload_bytes
        self.clock: Clock = clock or SystemClock()
        self._engine: Engine | None = None
        self._store: Store | None = None
        self._store_open = False
        self._opening: asyncio.Future[Store] | None = None
        self._watcher: ClosedWatcher | None = None
        self._declared: dict[str, ScheduleDef] = {}  # app.schedule(...)
        self._events = EventTriggers(self)
        self.event_sources = EventSources()
        self.aws_clients = AwsClients(aws, aws_region)  # the integrations' SDK clients
        self.http_tasks = HttpTasks(http_connections, http_allow)  # the HTTP Tasks' client
        register_builtin_steps(self)

    @property
    def aws_region(self) -> str:
        return self.machines.aws.region

    @aws_region.setter
    def aws_region(self, region: str) -> None:
        self._set_aws(region, self.aws_account)

    @property
    def aws_account(self) -> str:
        return self.machines.aws.account

    @aws_account.setter
    def aws_account(self, account: str) -> None:
        self._set_aws(self.aws_region, account)

    def _set_aws(self, region: str, account: str) -> None:
        problem = identity_problem(region, account)
        if problem is not None:
            raise ConfigurationError(problem)
        self.machines.aws = AwsIdentity(region, account)

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
        self,
        name: str,
        definition: Mapping[str, Any] | str | Path,
        version: str = "1",
        *,
        type: Literal["STANDARD", "EXPRESS"] = "STANDARD",
        role_arn: str | None = None,
    ) -> WorkflowDef:
        """Register an Amazon States Language state machine as workflow ``name``: a dict, a
        path to a .json/.yaml file, or JSON/YAML text. It is validated first
        (``InvalidDefinitionError`` lists every problem). Start it like any workflow:
        ``await app.start("name", input)``. ``type`` is Step Functions' workflow type
        (STANDARD or EXPRESS: the Context object differs), ``role_arn`` the role its
        executions report as ``$$.Execution.RoleArn`` (a placeholder ARN by default). An
        EXPRESS machine runs the Request Response pattern only, as in Step Functions: a Task
        with ``.sync`` or ``.waitForTaskToken``, or an activity, is refused."""
        from legato.engine.statemachine import MachineOptions, read_definition

        try:
            options = MachineOptions(type) if role_arn is None else MachineOptions(type, role_arn)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        data = read_definition(definition, sdk_catalog())
        if options.type == "EXPRESS" and (problems := express_problems(data)):
            raise InvalidDefinitionError(problems, f"(EXPRESS state machine {name!r})")
        return self.machines.register(name, str(version), data, options)

    def use_mocks(self, mocks: Mocks | None, test_case: str | None = None) -> None:
        """Run this app's state machines on Step Functions Local's mock configuration
        (``MockConfigFile.json``: a path, JSON text, a dict, or a ``MockConfig``): each
        execution of a machine that has ``test_case`` in the configuration gets its mocked
        Task states' responses instead of calling anything; other Task states and machines run
        for real. ``None`` turns mocks off. Read when an execution begins: a running execution
        keeps the test case it began with, and an engine resuming it after a restart must use
        the same mocks (see ``legato.testing``). Raises
        ``InvalidMockConfigError`` naming each problem's JSON path."""
        self.machines.mocks = mock_setting(mocks, test_case)

    def event_source(self, url: str) -> None:
        """Consume events from a broker while this app runs an orchestrating engine (``async
        with app``, ``legato dev``, ``legato server``): each message is a CloudEvent that
        starts the subscriptions it matches, acknowledged once that is committed. ``url``:
        ``nats://HOST:PORT?stream=S&subjects=events.>&durable=D`` (JetStream),
        ``redis://HOST:PORT/DB?stream=S&group=G`` (a consumer group) or
        ``amqp://USER:PASS@HOST:PORT/?queue=Q`` (RabbitMQ); see ``docs/ARCHITECTURE.md``,
        "Event sources". Raises ``ConfigurationError`` for a URL it cannot use."""
        self.event_sources.add(url)

    # --- definitions stored in the database -----------------------------------------------------
    async def push_definition(
        self,
        name: str,
        definition: Mapping[str, Any] | str | Path,
        version: str | int | None = None,
    ) -> Put:
        """Store a state machine definition (validated first) as ``version`` of ``name``, or,
        without a version, as the version that has this content already, else the next one.
        A version never changes: other content under a stored version raises
        ``DefinitionVersionExists``. Any engine on the database can then run it by name."""
        from legato.engine.statemachine import read_definition

        # a thread: an unknown aws-sdk name may read every botocore model (seconds)
        data = await asyncio.to_thread(read_definition, definition, sdk_catalog())
        wanted = None if version is None else str(version)
        for problem in (check_name(name), None if wanted is None else check_version(wanted)):
            if problem is not None:
                raise ConfigurationError(problem)
        text = canonical_json(data)
        digest = content_hash(text)
        now = self.clock.now_ms()

        async def put(store: Store) -> Put:
            return await store.put_definition(name, wanted, text, digest, now)

        done = await self._retrying(f"storing definition {name!r}", put)
        if done.created:
            await self._resume_unregistered(name, done.stored.version)
        return done

    async def _resume_unregistered(self, name: str, version: str) -> None:
        """Executions suspended because no engine knew (name, version) run now that it is
        stored (an engine also retries them when it takes their partition up)."""
        now = self.clock.now_ms()

        async def resume(store: Store) -> int:
            woken = 0
            for row in await store.list_executions(Status.SUSPENDED, name, 10_000):
                if row.version == version and row.suspend_kind == SuspendKind.UNREGISTERED:
                    try:
                        await operations.resume(store, row.id, now)
                    except ExecutionStateError:  # resumed (or closed) meanwhile
                        continue
                    woken += 1
            return woken

        if await self._retrying(f"resuming executions of {name!r}", resume):
            self._wake()

    async def record_state_machines(self) -> None:
        """Store the state machines this app registers (its engine does so when it starts);
        ``ConfigurationError`` if one differs from the version stored under its name."""
        now = self.clock.now_ms()

        async def record(store: Store) -> None:
            await self.machines.record(store, now)

        await self._retrying("recording the app's state machines", record)

    async def get_definition(self, name: str, version: str | int | None = None) -> StoredDefinition:
        """A stored version of ``name`` (its latest by default); ``DefinitionNotFound``."""
        wanted = None if version is None else str(version)

        async def get(store: Store) -> StoredDefinition | None:
            return await store.get_definition(name, wanted)

        found = await self._retrying(f"reading definition {name!r}", get)
        if found is None:
            raise DefinitionNotFound(name, wanted)
        return found

    async def definition_by_hash(self, name: str, digest: str) -> StoredDefinition | None:
        """The stored version of ``name`` with this content hash, if there is one."""

        async def get(store: Store) -> StoredDefinition | None:
            return await store.definition_by_hash(name, digest)

        return await self._retrying(f"reading definition {name!r}", get)

    async def list_definitions(self) -> list[DefinitionSummary]:
        """Every stored definition name with its versions (oldest first)."""

        async def rows(store: Store) -> list[DefinitionSummary]:
            return await store.list_definitions()

        return await self._retrying("listing definitions", rows)

    async def definition_versions(self, name: str) -> list[DefinitionVersion]:
        """The stored versions of ``name``, oldest first; ``DefinitionNotFound`` if none."""

        async def rows(store: Store) -> list[DefinitionVersion]:
            return await store.definition_versions(name)

        versions = await self._retrying(f"listing versions of {name!r}", rows)
        if not versions:
            raise DefinitionNotFound(name)
        return versions

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
            machines=self.machines,
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
        if orchestrate and self._declared:
            try:
                await self.apply_declared_schedules()
            except BaseException:
                await self.shutdown()
                raise
        if orchestrate:  # what the sources start is picked up here at once
            self.event_sources.start(self.ingest_events)
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
        await self.event_sources.stop(self.grace_seconds)  # first: the batch in hand is recorded
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
        await self.aws_clients.close()  # after the workers: no call is in flight any more

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
        labels: Mapping[str, str] | None = None,
        version: str | int | None = None,
        **kwargs: Any,
    ) -> Handle[Any]:
        """Start an execution of a registered workflow (the function, or its name; ``version``
        picks one of a name's versions, default the latest registered); the same ``id`` and
        input again returns the same execution. ``timeout``: past it the execution ends
        TIMED_OUT (default: the workflow's own, if it has one). ``labels``: strings to find it
        by (``list_executions(labels=...)``, the API's ``?label=k=v``).

        ``connection``: the caller's own ``psycopg.AsyncConnection`` (PostgreSQL apps). The
        execution is written in the caller's open transaction, so it commits or rolls back
        together with the caller's own rows (the outbox pattern for your data).

        A name the registry lacks (or ``version`` of it) is a state machine definition stored
        in the database (``legato definitions push``): its latest version, or ``version``."""
        wf = await self.workflow_def(workflow, None if version is None else str(version))
        return await self.start_call(
            wf, args, kwargs, id=id, connection=connection, timeout=timeout, labels=labels
        )

    async def start_call(
        self,
        wf: WorkflowDef,
        args: tuple[Any, ...] | list[Any],
        kwargs: dict[str, Any],
        *,
        id: str | None = None,
        connection: Any = None,
        timeout: float | timedelta | None = None,
        labels: Mapping[str, str] | None = None,
        started_by: Mapping[str, Any] | None = None,
    ) -> Handle[Any]:
        """``start`` with the arguments as a list and a dict (the HTTP API's start: a
        workflow's own parameters may be named ``id`` or ``timeout``). ``started_by``: what
        started it, recorded with it (``{"kind": "api"}``, a schedule's fire, an event)."""
        what = f"input of workflow {wf.name!r}"
        input_json = wf.signature.encode_args(tuple(args), kwargs, what)
        self.check_payload(input_json, what)
        labels_json = encode_labels(labels)
        by = started_by_json(started_by)
        # The id is chosen once: a start retried after its commit was cut finds the execution
        # it did record (same id, workflow and input) and returns it (``_handle_for``).
        execution_id = id or str(uuid.uuid4())
        limit = optional_seconds(timeout)
        if limit is not None and limit <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, not {limit}")
        timeout_ms = wf.timeout_ms if limit is None else to_ms(limit)
        if connection is not None:  # the caller's transaction: theirs to retry, whole
            done = await self._start_in(
                connection, wf, execution_id, input_json, timeout_ms, labels_json, by
            )
            return self._handle_for(done, wf, execution_id, input_json, labels_json)

        async def start(store: Store) -> StartResult:
            return await self._start(
                store, wf, execution_id, input_json, timeout_ms, labels_json, by
            )

        result = await self._retrying(f"starting execution {execution_id!r}", start)
        return self._handle_for(result, wf, execution_id, input_json, labels_json)

    async def workflow_def(
        self, workflow: Callable[..., Any] | str, version: str | None = None
    ) -> WorkflowDef:
        """The workflow a start names: the function, or a name (and version) registered here,
        else a state machine stored in the database (its latest version, or ``version``)."""
        if not isinstance(workflow, str):
            return self.registry.workflow_for(workflow)
        return await self._workflow_named(workflow, version)

    def check_payload(self, text: str | None, what: str) -> None:
        """Refuse a payload (JSON text) above ``inline_payload_bytes``."""
        if text is not None and len(text) > self.inline_payload_bytes // 4:  # cheap first
            size = len(text.encode())
            if size > self.inline_payload_bytes:
                raise PayloadTooLarge(what, size, self.inline_payload_bytes)

    async def _workflow_named(self, name: str, version: str | None) -> WorkflowDef:
        """Registered (the latest registered version, or the one asked for), else stored."""
        wf = self.registry.registered(name, version)
        if wf is not None:
            return wf

        async def stored(store: Store) -> WorkflowDef:
            return await self.machines.for_start(store, name, version)

        return await self._retrying(f"looking up workflow {name!r}", stored)

    async def _start(
        self,
        store: Store,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None,
        labels: str | None = None,
        started_by: str | None = None,
    ) -> StartResult:
        if not self.machines.recorded and self.machines.registered:  # once per app
            await self.machines.record(store, self.clock.now_ms())
        orch = self._engine.orchestrator if self._engine else None
        result: StartResult | None = None
        if orch is not None:  # the first decision decodes (validates) the input right here
            result = await orch.start(wf, execution_id, input_json, timeout_ms, labels, started_by)
        if result is None:  # no engine here, or another replica decides this execution
            wf.signature.decode_args(input_json)  # the workflow must accept it: fail here
            pending = self._pending(wf, execution_id, input_json, timeout_ms, labels, started_by)
            result = await store.start_execution(pending)
            if result.created:
                result = StartResult(True, row=new_execution_row(pending))
        return result

    def _pending(
        self,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None,
        labels: str | None = None,
        started_by: str | None = None,
    ) -> NewExecution:
        """An execution recorded for whichever engine serves the database to pick up."""
        now = self.clock.now_ms()
        return decide.pending_start(
            execution_id, wf.name, wf.version, input_json, now, timeout_ms, labels, started_by,
            tracing.current_traceparent(),
        )  # fmt: skip

    async def _start_in(
        self,
        connection: Any,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None,
        labels: str | None = None,
        started_by: str | None = None,
    ) -> StartResult:
        if not self.url.startswith(("postgresql://", "postgres://")):
            raise ConfigurationError("app.start(connection=...) needs a PostgreSQL app")
        from legato.adapters.postgres.store import start_in_transaction

        wf.signature.decode_args(input_json)
        pending = self._pending(wf, execution_id, input_json, timeout_ms, labels, started_by)
        return await start_in_transaction(connection, pending)

    def _handle_for(
        self,
        result: StartResult,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        labels: str | None = None,
    ) -> Handle[Any]:
        if not result.created:
            existing = result.existing
            assert existing is not None
            if existing.workflow != wf.name or existing.input != input_json:
                raise ExecutionAlreadyExists(
                    execution_id,
                    f"with workflow {existing.workflow!r} and a different input",
                )
            if (existing.labels or None) != labels:
                raise ExecutionAlreadyExists(execution_id, "with other labels")
        handle: Handle[Any] = Handle(self, execution_id, wf)
        handle.created = result.created
        handle.started_row = result.row
        return handle

    async def start_served(
        self,
        workflow: str,
        version: str,
        input_json: str,
        *,
        id: str | None = None,
        timeout: float | timedelta | None = None,
        labels: Mapping[str, str] | None = None,
        started_by: Mapping[str, Any] | None = None,
    ) -> Handle[Any]:
        """Start a workflow this app has not registered but an engine on its database serves
        (recorded in ``workflow_types``): the execution is recorded PENDING for that engine.
        ``input_json``: ``[args, kwargs]``, already checked by the caller."""
        self.check_payload(input_json, f"input of workflow {workflow!r}")
        labels_json = encode_labels(labels)
        by = started_by_json(started_by)
        execution_id = id or str(uuid.uuid4())
        limit = optional_seconds(timeout)
        timeout_ms = None if limit is None else to_ms(limit)

        async def start(store: Store) -> StartResult:
            now = self.clock.now_ms()
            new = decide.pending_start(
                execution_id, workflow, version, input_json, now, timeout_ms, labels_json, by,
                tracing.current_traceparent(),
            )  # fmt: skip
            return await store.start_execution(new)

        result = await self._retrying(f"starting execution {execution_id!r}", start)
        if not result.created:
            existing = result.existing
            assert existing is not None
            if (existing.workflow, existing.input, existing.labels or None) != (
                workflow,
                input_json,
                labels_json,
            ):
                raise ExecutionAlreadyExists(execution_id, "with another workflow or input")
        handle: Handle[Any] = Handle(self, execution_id)
        handle.created = result.created
        return handle

    async def store_ready(self) -> Store:
        """The app's store, opened (and migrated) on first use."""
        return await self._store_ready()

    # --- messages to executions ---------------------------------------------------------------
    async def signal(self, execution_id: str, name: str, payload: Any = None) -> None:
        """Send a signal (JSON ``payload``) to a running execution; it is recorded durably and
        handed to ``ctx.wait_for_signal(name)``. Raises ``ExecutionNotFound`` or
        ``ExecutionClosed``."""
        self.check_payload(codec.dumps(payload, "signal payload"), f"signal {name!r} payload")
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
        self.check_payload(codec.dumps(output, "task output"), "task output")
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
        self.check_payload(cause, "task failure cause")
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
        """The execution ``execution_id``, also given as its execution ARN (a state machine's
        ``$$.Execution.Id`` or a started child's ``ExecutionArn``)."""
        return Handle(self, execution_name_of(execution_id))

    async def list_executions(
        self,
        status: Status | str | None = None,
        limit: int = 100,
        *,
        workflow: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[ExecutionStatus]:
        """Newest first; ``labels``: only executions that have every one of them."""
        wanted = Status(status) if status else None
        filters = ExecutionFilter(labels=dict(labels)) if labels else None

        async def rows(store: Store) -> list[ExecutionRow]:
            return await store.list_executions(wanted, workflow, limit, filters=filters)

        return [
            ExecutionStatus.from_row(r) for r in await self._retrying("listing executions", rows)
        ]

    # --- events and subscriptions (client/event_triggers.py) ----------------------------------
    async def ingest_events(
        self, bodies: Sequence[bytes | str | Mapping[str, Any]], via: str
    ) -> list[IngestResult]:
        """Take a batch of CloudEvents (JSON bodies, or decoded objects), one result per body,
        in order: each event not seen before (dedupe on ``source`` + ``id``) starts each
        matching subscription's workflow once; bodies that are not events, and events whose
        filter or transform failed, become dead letters. Returns once the whole batch is
        committed (one transaction); raises only if the database cannot be written, so a
        broker consumer acknowledges after it returns. ``via``: where the batch came from
        (``"http"``, ``"nats:SUBJECT"``...), kept with the events and dead letters."""
        return await self._events.ingest(bodies, via)

    async def publish_event(
        self,
        type: str,
        data: Any = None,
        *,
        source: str = "legato-cli",
        id: str | None = None,
        subject: str | None = None,
        via: str = "app",
    ) -> IngestResult:
        """Ingest one event made here (``id``: a new UUID unless given; ``time``: now)."""
        return await self._events.publish(type, data, source, id, subject, via)

    async def create_subscription(
        self,
        name: str,
        event_type: str,
        workflow: Callable[..., Any] | str,
        *,
        version: str | None = None,
        filter: str | None = None,
        transform: str | None = None,
    ) -> Subscription:
        """Start ``workflow`` (a registered function, or the name of a workflow or state
        machine) for each event of ``event_type`` whose JSONata ``filter`` over the event
        (``{id, source, type, subject, time, data}``) is truthy, with the JSONata
        ``transform``'s result as its input (default: the event's ``data``). The same
        subscription again is no change; another under the name is ``SubscriptionExists``."""
        if not isinstance(workflow, str):
            wf = self.registry.workflow_for(workflow)
            workflow = wf.name
        sub = Subscription(name, event_type, workflow, version, filter, transform)
        return await self._events.create_subscription(sub)

    async def get_subscription(self, name: str) -> Subscription:
        """Raises ``SubscriptionNotFound``."""
        return await self._events.get_subscription(name)

    async def list_subscriptions(self) -> list[Subscription]:
        return await self._events.list_subscriptions()

    async def delete_subscription(self, name: str) -> None:
        """Raises ``SubscriptionNotFound``; executions it started are left as they are."""
        await self._events.delete_subscription(name)

    async def get_event(self, source: str, id: str) -> EventDetail:
        """An event as recorded, with the executions it started and their status; raises
        ``EventNotFound``."""
        return await self._events.get_event(source, id)

    async def dead_letters(self, limit: int = 100, cursor: str | None = None) -> list[DeadLetter]:
        """Newest first; ``cursor``: ``dead_letter_cursor`` of the last of the previous page."""
        return await self._events.dead_letters(limit, cursor)

    async def redrive_dead_letter(self, letter_id: str) -> DeadLetter:
        """Ingest a dead letter's event again, as it would be now (the subscription it failed
        on, or every one of its type for a body that was not an event), and mark the letter
        redriven with the executions it started; the letter as it is then. Once only: a
        letter redriven already is returned as it is. ``DeadLetterNotFound``;
        ``DeadLetterStillFails`` (nothing written) if it fails again."""
        return await self._events.redrive_dead_letter(letter_id)

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
