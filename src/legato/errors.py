"""Every exception Legato raises, in one tree.

    LegatoError
    ├── ConfigurationError          bad URL, unknown module, option that makes no sense
    │   └── InvalidMockConfigError  a Step Functions Local mock configuration that cannot be used
    ├── InvalidDefinitionError      a state machine definition is unreadable or breaks ASL rules
    ├── StoreError                  the database cannot be used
    │   ├── DatabaseUnavailableError  cannot reach it now (restarting, network): clients retry
    │   ├── DatabaseLockedError     another process holds a lock that does not go away
    │   ├── DatabaseReadOnlyError   the file or its folder is not writable
    │   └── DatabaseCorruptError    the file is not a Legato (or any) SQLite database
    ├── SerializationError          a value is not JSON-serialisable, or not of its annotated
    │                               type (names where, and the type)
    ├── PayloadTooLarge             an input, signal payload or task output above the inline
    │                               limit (``App(inline_payload_bytes=...)``, 256 KiB)
    ├── RegistrationError           a workflow or step is used without being registered
    ├── ExecutionAlreadyExists      same execution id started with a different input
    ├── ExecutionNotFound           no execution with that id
    ├── ExecutionClosed             a signal (or message) for an execution that has ended
    ├── ExecutionStateError         an operation that does not apply to its status (redrive...)
    ├── ScheduleNotFound            no schedule of that name
    ├── ScheduleAlreadyExists       a schedule of that name exists (create)
    ├── InvalidEvent                an event that is not a CloudEvent (reason, JSON path)
    ├── InvalidSubscription         a subscription with a bad name or JSONata expression
    ├── SubscriptionExists          a subscription of that name exists (with other content)
    ├── SubscriptionNotFound        no subscription of that name
    ├── EventNotFound               no event with that source and id
    ├── DeadLetterNotFound          no dead letter with that id
    ├── DeadLetterStillFails        a dead letter redriven fails again (the reason)
    ├── InvalidTaskToken            a task token that names no external wait
    ├── TaskTokenClosed             a task token whose wait already ended (completed, timed out)
    ├── ExecutionFailedError        handle.result() of an execution that has no result: FAILED
    │   ├── ExecutionSuspended      ... SUSPENDED: it waits for an operator (reason, kind)
    │   ├── ExecutionCancelled      ... CANCELLED
    │   ├── ExecutionTerminated     ... TERMINATED
    │   └── ExecutionTimedOut       ... TIMED_OUT: its run timeout passed
    ├── WorkflowTimeoutError        handle.result(timeout=...) ran out (says where it stands)
    ├── NonDeterminismError         replay diverged from the recorded history
    ├── WorkflowUsageError          a workflow awaited something that is not a ctx operation
    └── StepFailed                  raised inside a workflow when a step failed for good (catchable)
        ├── ChildFailed             a child execution failed (or could not be started)
        ├── ExternalTaskFailed      a task token was failed, or its wait timed out
        └── CompensationFailed      a saga's compensation failed for good
    Cancelled (a BaseException)     raised in a workflow asked to cancel, at its next await

Engine errors carry the Amazon States Language names (``States.Timeout``,
``States.HeartbeatTimeout``) as their ``error_type`` so code workflows and state machines agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legato.core.asl.validate import Problem


class LegatoError(Exception):
    """Base of every error Legato raises on purpose."""


class ConfigurationError(LegatoError):
    pass


class InvalidMockConfigError(ConfigurationError):
    """A mock configuration (Step Functions Local's ``MockConfigFile.json``) that cannot be used:
    ``problems`` lists each, with the JSON path of the field and what is wrong."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        where = f" {source}" if source else ""
        lines = "".join(f"\n  {p.path}: {p.rule}" for p in problems)
        super().__init__(f"invalid mock configuration{where}:{lines}")
        self.problems = problems
        self.source = source


class InvalidDefinitionError(LegatoError):
    """A state machine definition cannot be read or breaks the Amazon States Language rules.

    ``problems`` lists every problem found, each with the JSON path of the field and the rule.
    """

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        where = f" {source}" if source else ""
        lines = "".join(f"\n  {p.path}: {p.rule}" for p in problems)
        super().__init__(f"invalid state machine definition{where}:{lines}")
        self.problems = problems
        self.source = source


class DefinitionVersionExists(LegatoError):
    """A state machine version is stored already with other content: a version never changes
    (executions pin it). Store the new content as another version, or under another name."""

    def __init__(self, name: str, version: str, stored_hash: str, new_hash: str) -> None:
        super().__init__(
            f"state machine {name!r} version {version!r} is stored already with other content "
            f"(sha256 {stored_hash[:12]}, this one {new_hash[:12]}); a version never changes: "
            "store it as a new version (leave the version out: the next one) or under another name"
        )
        self.name = name
        self.version = version
        self.stored_hash = stored_hash
        self.new_hash = new_hash


class StoreError(LegatoError):
    pass


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached right now: the server is down, restarting or out of
    connections, or the network dropped. Transient: client calls retry it for a while
    (``App(reconnect_seconds=...)``) before raising it."""


class DatabaseLockedError(StoreError):
    pass


class DatabaseReadOnlyError(StoreError):
    pass


class DatabaseCorruptError(StoreError):
    pass


class SerializationError(LegatoError, TypeError):
    pass


class PayloadTooLarge(LegatoError):
    """A payload larger than the app's ``inline_payload_bytes``: refused before anything is
    written, until large payloads are stored outside the history."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what} is {size} bytes as JSON, above the limit of {limit} bytes "
            "(App(inline_payload_bytes=...)); store it elsewhere and pass a reference"
        )
        self.size = size
        self.limit = limit


class RegistrationError(LegatoError):
    pass


class DefinitionNotFound(RegistrationError):
    """No state machine definition of that name (and version) is stored (nor is a workflow of
    that name registered, where one was asked to start)."""

    def __init__(self, name: str, version: str | None = None, hint: str = "") -> None:
        which = f" version {version!r}" if version is not None else ""
        super().__init__(
            f"no state machine definition {name!r}{which} is stored" + (f" {hint}" if hint else "")
        )
        self.name = name
        self.version = version


class ExecutionAlreadyExists(LegatoError):
    def __init__(self, execution_id: str, detail: str) -> None:
        super().__init__(f"execution {execution_id!r} already exists {detail}")
        self.execution_id = execution_id


class ExecutionNotFound(LegatoError):
    def __init__(self, execution_id: str) -> None:
        super().__init__(f"no execution with id {execution_id!r}")
        self.execution_id = execution_id


class ExecutionClosed(LegatoError):
    def __init__(self, execution_id: str, status: str) -> None:
        super().__init__(f"execution {execution_id!r} is {status}: it takes no more messages")
        self.execution_id = execution_id
        self.status = status


class ExecutionStateError(LegatoError):
    """An operation that does not apply to the execution as it is (redrive of a COMPLETED
    one, resume of one that is not SUSPENDED)."""

    def __init__(self, execution_id: str, status: str, why: str) -> None:
        super().__init__(f"execution {execution_id!r} ({status}) {why}")
        self.execution_id = execution_id
        self.status = status


class ScheduleNotFound(LegatoError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no schedule named {name!r}")
        self.name = name


class ScheduleAlreadyExists(LegatoError):
    """``create_schedule`` of a name that exists: change it with ``update_schedule``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a schedule named {name!r} exists already (update it instead)")
        self.name = name


class InvalidEvent(LegatoError):
    """An event that is not a structured-mode CloudEvent: bad JSON, or a required attribute
    missing or not a string. ``path`` is the JSON path of the field (``$`` for the whole)."""

    def __init__(self, reason: str, path: str = "$") -> None:
        super().__init__(f"invalid event: {path}: {reason}")
        self.reason = reason
        self.path = path


class InvalidSubscription(LegatoError):
    """A subscription that cannot be stored: ``field`` names what is wrong (``name``,
    ``filter``, ``transform``, ``workflow``...)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid subscription: {field}: {reason}")
        self.field = field
        self.reason = reason


class SubscriptionExists(LegatoError):
    def __init__(self, name: str) -> None:
        super().__init__(f"subscription {name!r} exists already with other content")
        self.name = name


class SubscriptionNotFound(LegatoError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no subscription named {name!r}")
        self.name = name


class EventNotFound(LegatoError):
    def __init__(self, source: str, event_id: str) -> None:
        super().__init__(f"no event with source {source!r} and id {event_id!r}")
        self.source = source
        self.event_id = event_id


class DeadLetterNotFound(LegatoError):
    def __init__(self, letter_id: str) -> None:
        super().__init__(f"no dead letter with id {letter_id!r}")
        self.letter_id = letter_id


class DeadLetterStillFails(LegatoError):
    """A redriven dead letter failed again (its filter, transform or input; a body that is
    still not an event): nothing was started, the dead letter stays as it was."""

    def __init__(self, letter_id: str, reason: str) -> None:
        super().__init__(f"dead letter {letter_id!r} fails again: {reason}")
        self.letter_id = letter_id
        self.reason = reason


class InvalidTaskToken(LegatoError):
    """Step Functions' ``InvalidToken``: the token is malformed or names no external wait."""

    def __init__(self, token: str, why: str) -> None:
        super().__init__(f"invalid task token {token[:80]!r}: {why}")
        self.token = token


class TaskTokenClosed(LegatoError):
    """Step Functions' ``TaskTimedOut``: the wait already completed, failed or timed out."""

    def __init__(self, token: str, why: str) -> None:
        super().__init__(f"task token {token[:80]!r} is closed: {why}")
        self.token = token


class ExecutionFailedError(LegatoError):
    """The awaited execution has no result: it ended without one, or (``ExecutionSuspended``)
    cannot go on without an operator. ``status`` is its status's value."""

    def __init__(
        self, execution_id: str, status: str, error_type: str | None, message: str | None
    ) -> None:
        super().__init__(f"execution {execution_id!r} is {status}: {error_type}: {message}")
        self.execution_id = execution_id
        self.status = status
        self.error_type = error_type
        self.message = message


class ExecutionSuspended(ExecutionFailedError):
    """The awaited execution is SUSPENDED: its code no longer matches its history, or no
    engine knows its workflow version. It waits for an operator (or a deployment that knows
    the version), so waiting for its result would wait for that. ``kind`` is the suspension's
    kind (``non-determinism``, ``unregistered``), ``reason`` what the engine found."""

    def __init__(self, execution_id: str, kind: str | None, reason: str | None) -> None:
        LegatoError.__init__(self, f"execution {execution_id!r} is SUSPENDED ({kind}): {reason}")
        self.execution_id = execution_id
        self.status = "SUSPENDED"
        self.error_type = kind
        self.message = reason
        self.kind = kind
        self.reason = reason


class ExecutionCancelled(ExecutionFailedError):
    """The awaited execution was cancelled."""


class ExecutionTerminated(ExecutionFailedError):
    """The awaited execution was terminated."""


class ExecutionTimedOut(ExecutionFailedError):
    """The awaited execution ran past its run timeout."""


class WorkflowTimeoutError(LegatoError, TimeoutError):
    pass


class NonDeterminismError(LegatoError):
    """The workflow code no longer issues what its history recorded."""

    def __init__(self, step: str, recorded: str, now: str) -> None:
        super().__init__(
            f"non-determinism at {step}: the history recorded {recorded}, the code now does {now}"
        )
        self.step = step
        self.recorded = recorded
        self.now = now


class WorkflowUsageError(LegatoError):
    pass


class StepFailed(LegatoError):
    """A step failed and will not be retried; raised inside the workflow that awaited it.

    ``error_type`` is the step exception's class name (or a ``States.*`` name for engine errors
    such as timeouts), ``message`` its message, ``traceback`` the step's traceback as the
    worker formatted it (None for an engine error).
    """

    #: the failed attempt's traceback, when the step raised it
    traceback: str | None = None

    def __init__(
        self, step: str, error_type: str, message: str, attempts: int, cause_ref: int | None = None
    ) -> None:
        super().__init__(
            f"step {step!r} failed after {attempts} attempt(s): {error_type}: {message}"
        )
        #: the command whose failure this is (a redrive runs it again); set by the engine
        self.cause_ref = cause_ref
        self.step = step
        self.error_type = error_type
        self.message = message
        self.attempts = attempts


class ChildFailed(StepFailed):
    """A child execution failed (``error_type``/``message`` are the child's), or could not be
    started (``ExecutionAlreadyExists``: its id is taken by a different execution)."""

    def __init__(
        self,
        child_id: str,
        workflow: str,
        error_type: str,
        message: str,
        cause_ref: int | None = None,
    ) -> None:
        LegatoError.__init__(
            self, f"child execution {child_id!r} ({workflow}) failed: {error_type}: {message}"
        )
        self.cause_ref = cause_ref
        self.step = workflow
        self.error_type = error_type
        self.message = message
        self.attempts = 1
        self.child_id = child_id


class ExternalTaskFailed(StepFailed):
    """An external task was failed with ``send_task_failure(token, error, cause)``
    (``error_type`` = error, ``message`` = cause), or timed out (``States.Timeout``,
    ``States.HeartbeatTimeout``)."""

    def __init__(
        self, token: str, error_type: str, message: str, cause_ref: int | None = None
    ) -> None:
        LegatoError.__init__(self, f"external task failed: {error_type}: {message}")
        self.cause_ref = cause_ref
        self.step = "external task"
        self.error_type = error_type
        self.message = message
        self.attempts = 1
        self.token = token


class Cancelled(BaseException):  # noqa: N818 - named as users read it: ``except Cancelled``
    """Raised in a workflow at its next await once it is asked to cancel (``handle.cancel``),
    and in a sync step by ``heartbeat()``. Catch it to clean up (run steps, compensate), then
    re-raise: the execution ends CANCELLED. A BaseException, like ``asyncio.CancelledError``,
    so ``except Exception`` does not swallow it."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "cancelled")
        self.reason = reason


class CompensationFailed(StepFailed):
    """A saga's compensation failed for good: the execution fails with both errors."""

    def __init__(self, original: BaseException, failed: StepFailed) -> None:
        LegatoError.__init__(
            self,
            f"compensation {failed.step!r} failed ({failed.error_type}: {failed.message}) "
            f"while undoing after: {type(original).__name__}: {original}",
        )
        self.step = failed.step
        self.error_type = failed.error_type
        self.message = str(self)
        self.attempts = failed.attempts
        self.cause_ref = failed.cause_ref
        self.original = original


class NonRetryableError(Exception):
    """Raise (or subclass) in a step to fail it at once, whatever its retry policy says."""


class NamedStepError(Exception):
    """Raise in a step to fail it with an error of this name rather than the exception's class
    name: a Task state's Retry and Catch match ``error``, and ``cause`` is its Cause. The
    built-in integrations fail with AWS's names this way
    (``DynamoDB.ConditionalCheckFailedException``, ``States.Http.StatusCode.404``)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(cause)
        self.error = error
        self.cause = cause
