"""The public test kit.

``WorkflowEnvironment(app)`` runs the app's engine on a temporary SQLite file with a
time-skipping clock: whenever nothing is running, time jumps to the next timer or retry, so a
workflow that sleeps 30 days finishes in milliseconds. A task token's deadline (a
``.waitForTaskToken`` state's TimeoutSeconds or HeartbeatSeconds, ``ctx.external_task``'s
timeouts) is different: its callback comes from outside the engine, from the test, a moment
after the step that handed the token out returned. Time jumps to it only after
``callback_grace`` seconds of real idle time, or when the test calls ``env.skip()``.

``run_state_machine(definition, input, steps={...})`` runs an Amazon States Language definition
to completion the same way and returns its status, output, error, cause and history.

**Testing without AWS.** ``run_state_machine(definition, input, mocks="MockConfigFile.json",
test_case="HappyPath")`` reads the mock configuration of AWS Step Functions Local
(``StateMachines`` -> ``TestCases`` -> state -> mocked response; ``MockedResponses`` -> response
-> ``"0"``, ``"1-2"`` -> ``Return`` or ``Throw {Error, Cause}``): each Task state the test case
names returns its response for that invocation (counted per state per execution from 0,
retries and Map iterations included), or fails with its error (Retry and Catch apply), and
calls nothing: no step, no AWS endpoint, no network. A Task state the test case does not name
runs for real (a registered step, or the service), as in Step Functions Local. The test case
is that of the machine named ``name`` (default: the one machine of the file that has the test
case); a state it names that is not a Task state of the definition is an error.
``app.use_mocks(path, test_case)`` sets the same for every execution of an app's state machines
(``legato run FILE --mock-config PATH --test-case NAME --wait`` does it from the command line).

**A local AWS emulator** (moto's server, LocalStack): the integrations' calls go where the app's
AWS settings say, ``App(aws=legato.AwsSettings(endpoint_url="http://127.0.0.1:5000"))`` for every
service (``endpoints={"sqs": URL}`` for one), or where the environment says: botocore reads
``AWS_ENDPOINT_URL`` (all services) and ``AWS_ENDPOINT_URL_<SERVICE>`` (one, e.g.
``AWS_ENDPOINT_URL_DYNAMODB``) itself. Credentials and region come from the standard chain
(an emulator takes any: ``AWS_ACCESS_KEY_ID=test``, ``AWS_SECRET_ACCESS_KEY=test``,
``AWS_DEFAULT_REGION=us-east-1``).

``replay(app, histories)`` runs recorded histories (``legato executions history ID --json``)
against the current code and reports every non-determinism, so breaking changes fail in CI.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from legato.client import App
from legato.core import codec
from legato.core.asl.execution_status import aws_status
from legato.core.durations import epoch_ms, instant
from legato.core.events import Event, StateEntered, Status
from legato.core.export import import_history
from legato.engine.clock import DEFAULT_CALLBACK_GRACE, SkippingClock
from legato.engine.instance import WorkflowInstance
from legato.engine.statemachine import read_definition
from legato.engine.statemachine.mocking import Mocks, mock_setting, mocked_machine
from legato.errors import ExecutionFailedError, NonDeterminismError
from legato.ports.clock import Clock

__all__ = [
    "ReplayReport",
    "ReplayResult",
    "StateMachineRun",
    "WorkflowEnvironment",
    "replay",
    "run_state_machine",
]


class WorkflowEnvironment:
    """``async with WorkflowEnvironment(app) as env:`` — the app runs on a throw-away database."""

    def __init__(
        self,
        app: App,
        *,
        start: datetime | None = None,
        lease_seconds: float = 2.0,
        url: str | None = None,
        still_time: bool = False,
        callback_grace: float | None = DEFAULT_CALLBACK_GRACE,
    ) -> None:
        """``url``: an empty database to use instead of a temporary SQLite file (for example
        a PostgreSQL database, to run the same tests on it). ``still_time``: time moves only
        when it skips (or ``clock.advance``), never with the wall clock, so a test can assert
        when things happened to the millisecond. ``callback_grace``: how long (real seconds)
        the engine must have been idle before time jumps to a task token's timeout or
        heartbeat deadline, whose callback the test may still send; None: only ``skip()``
        jumps to one."""
        self.app = app
        self._url = url
        start_ms = epoch_ms(start) if start else None
        self.clock = SkippingClock(start_ms, still=still_time, callback_grace=callback_grace)
        self.lease_seconds = lease_seconds
        self._saved: tuple[str, Clock, float] | None = None
        self._dir: str | None = None

    @property
    def url(self) -> str:
        if self._url is not None:
            return self._url
        assert self._dir is not None
        return f"sqlite:///{self._dir}/legato.db"

    def now(self) -> datetime:
        return instant(self.clock.now_ms())

    def skip(self, seconds: float | None = None) -> None:
        """Move time forward now: by ``seconds``, or to the next timer, a task token's deadline
        included (a wait whose callback the test will not send times out)."""
        if seconds is None:
            self.clock.skip()
        else:
            self.clock.advance(seconds)

    async def __aenter__(self) -> WorkflowEnvironment:
        if self._url is None:
            self._dir = tempfile.mkdtemp(prefix="legato-test-")
        app = self.app
        self._saved = (app.url, app.clock, app.lease_seconds)
        app.configure(url=self.url, clock=self.clock, lease_seconds=self.lease_seconds)
        await app.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.app.shutdown()
        finally:
            assert self._saved is not None
            url, clock, lease = self._saved
            self.app.configure(url=url, clock=clock, lease_seconds=lease)
            if self._dir:
                shutil.rmtree(self._dir, ignore_errors=True)


@dataclass(frozen=True)
class ReplayResult:
    execution_id: str
    workflow: str
    version: str
    error: NonDeterminismError | None
    problem: str | None = None  # e.g. the workflow is not registered

    @property
    def ok(self) -> bool:
        return self.error is None and self.problem is None


@dataclass(frozen=True)
class ReplayReport:
    results: list[ReplayResult]

    @property
    def failures(self) -> list[ReplayResult]:
        return [r for r in self.results if not r.ok]

    def raise_for_failures(self) -> None:
        if self.failures:
            lines = [
                f"{r.execution_id} ({r.workflow} v{r.version}): {r.error or r.problem}"
                for r in self.failures
            ]
            raise AssertionError("replay found incompatible histories:\n" + "\n".join(lines))


def replay(app: App, histories: Sequence[dict[str, Any] | str | Path]) -> ReplayReport:
    """Replay each history (a dict, or a path to an exported JSON file) against ``app``'s code."""
    results = []
    for item in histories:
        data = codec.loads(Path(item).read_text()) if isinstance(item, str | Path) else item
        execution_id, workflow, version, events = import_history(data)
        wf = app.registry.lookup_workflow(workflow, version)
        if wf is None:
            results.append(
                ReplayResult(
                    execution_id,
                    workflow,
                    version,
                    None,
                    f"workflow {workflow!r} version {version!r} is not registered",
                )
            )
            continue
        instance = WorkflowInstance(wf, app.registry, execution_id)
        try:
            instance.replay(events)
            results.append(ReplayResult(execution_id, workflow, version, None))
        except NonDeterminismError as exc:
            results.append(ReplayResult(execution_id, workflow, version, exc))
        finally:
            instance.close()
    return ReplayReport(results)


@dataclass(frozen=True)
class StateMachineRun:
    """How a state machine run ended: ``status`` is ``SUCCEEDED``-style Legato status
    (``COMPLETED``, ``FAILED``, ``SUSPENDED``...), ``output`` the final output when it
    completed, ``error``/``cause`` the ASL error name and cause when it failed."""

    execution_id: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[Event]

    @property
    def aws_status(self) -> str:
        """The status as Step Functions names it: SUCCEEDED, FAILED, ABORTED, TIMED_OUT..."""
        return aws_status(Status(self.status))

    def states_entered(self) -> list[str]:
        """Names of the states entered, in the order the history records them."""
        return [e.state for e in self.history if isinstance(e, StateEntered)]


async def run_state_machine(
    definition: Mapping[str, Any] | str | Path,
    input: Any = None,
    *,
    steps: Mapping[str, Callable[..., Any]] | None = None,
    timeout: float = 30.0,
    start: datetime | None = None,
    name: str | None = None,
    app: App | None = None,
    still_time: bool = False,
    type: Literal["STANDARD", "EXPRESS"] = "STANDARD",
    role_arn: str | None = None,
    mocks: Mocks | None = None,
    test_case: str | None = None,
) -> StateMachineRun:
    """Run ``definition`` on a throw-away SQLite database with a time-skipping clock (a Wait
    of a week takes milliseconds). ``steps`` maps Task resource names (or Lambda function
    names) to plain functions taking the task's input; or pass an ``app`` that has them
    registered. ``timeout`` bounds the real time the run may take. ``type`` (STANDARD or
    EXPRESS) and ``role_arn`` are the machine's, as ``App.register_state_machine`` takes
    them. ``mocks`` (a path to a mock configuration file, its JSON text or dict) and
    ``test_case``: Step Functions Local's mocked Task states (module docstring); ``name``, the
    machine's, is then by default the one the file has the test case for (else
    ``"state_machine"``)."""
    app = app or App()
    for step_name, fn in (steps or {}).items():
        app.registry.add_step(fn, step_name, None, None, None, None)
    checked = read_definition(definition)
    saved = app.machines.mocks  # an app's own mocks apply unless ``mocks`` replaces them
    if mocks is not None:
        setting = mock_setting(mocks, test_case)
        assert setting is not None
        name = mocked_machine(setting, checked, name, "state_machine")
        app.use_mocks(setting.config, setting.test_case)
    name = name or "state_machine"
    try:
        app.register_state_machine(name, checked, type=type, role_arn=role_arn)
        async with WorkflowEnvironment(app, start=start, still_time=still_time) as env:
            handle = await app.start(name, input)
            try:
                await handle.result(timeout=timeout)
            except ExecutionFailedError:
                pass
            row = await handle.status_row()
            history = await handle.history()
            del env
    finally:
        app.machines.mocks = saved  # this run's mocks do not outlive it
    output = codec.loads(row.output) if row.output is not None else None
    return StateMachineRun(
        row.id, row.status.value, output, row.error_type, row.error_message, history
    )
