"""What an app has registered: workflows by (name, version) and steps by name."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from legato.core.arg_schema import ArgSchema
from legato.core.asl.resources import ACTIVITY_PREFIX
from legato.core.codec import Signature
from legato.core.durations import optional_seconds, to_ms
from legato.core.retry import Retry
from legato.errors import RegistrationError

DEFAULT_QUEUE = "default"


@dataclass(eq=False)
class StepDef:
    name: str
    fn: Callable[..., Any]
    retry: Retry
    timeout: float | None  # start-to-close, seconds
    heartbeat_timeout: float | None
    queue: str
    schedule_to_start_timeout: float | None = None  # no worker started it within: it fails
    signature: Signature = field(init=False)
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        self.signature = Signature(self.fn)
        self.is_async = inspect.iscoroutinefunction(self.fn)


@dataclass(eq=False)
class WorkflowDef:
    name: str
    version: str
    fn: Callable[..., Any]
    timeout_ms: int | None = None  # the execution timeout of its executions (by default)
    #: what its code is (hash of its module's source, or of a state machine's definition): an
    #: engine with other code retries executions suspended for non-determinism by itself
    code_hash: str = ""
    kind: str = "code"  # or "state_machine"
    definition: dict[str, Any] | None = None  # a state machine's, as registered
    signature: Signature = field(init=False)
    _arg_schema: ArgSchema | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.signature = Signature(self.fn, skip_first=True)
        if not self.code_hash:
            self.code_hash = code_hash_of(self.fn)

    @property
    def arg_schema(self) -> ArgSchema:
        """Its arguments as one JSON object (schema and checks), built on first use."""
        if self._arg_schema is None:
            self._arg_schema = ArgSchema(self.signature, self.name)
        return self._arg_schema


def code_hash_of(fn: Callable[..., Any]) -> str:
    """A hash of the source of the module that defines ``fn`` (a fix is often in a helper
    next to the workflow); of its bytecode when the source cannot be read."""
    try:
        source = inspect.getsource(inspect.getmodule(fn) or fn).encode()
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        source = code.co_code if code is not None else repr(fn).encode()
    return hashlib.sha256(source).hexdigest()[:16]


STEP_ATTR = "__legato_step__"
BUILTIN_PREFIX = "legato."  # of the built-in steps and workflows (core.asl.integration_steps)
WORKFLOW_ATTR = "__legato_workflow__"


class Registry:
    def __init__(self) -> None:
        self.workflows: dict[tuple[str, str], WorkflowDef] = {}
        self.steps: dict[str, StepDef] = {}
        #: workflows every app has (a Distributed Map's children, ``legato.map.child``): found
        #: by name and version like the app's own, but not listed with them (``workflows``)
        self.builtin_workflows: dict[tuple[str, str], WorkflowDef] = {}

    def add_builtin_workflow(self, fn: Callable[..., Any], name: str, kind: str) -> WorkflowDef:
        """A workflow of every app, version "1" (its code hash tells versions of it apart)."""
        wf = WorkflowDef(name=name, version="1", fn=fn, kind=kind)
        self.builtin_workflows[(name, wf.version)] = wf
        setattr(fn, WORKFLOW_ATTR, wf)
        return wf

    def add_step(
        self,
        fn: Callable[..., Any],
        name: str | None,
        retry: Retry | None,
        timeout: float | timedelta | None,
        heartbeat_timeout: float | timedelta | None,
        queue: str | None,
        schedule_to_start_timeout: float | timedelta | None = None,
    ) -> StepDef:
        step = StepDef(
            name=name or fn.__qualname__,
            fn=fn,
            retry=retry or Retry(),
            timeout=optional_seconds(timeout),
            heartbeat_timeout=optional_seconds(heartbeat_timeout),
            queue=queue or DEFAULT_QUEUE,
            schedule_to_start_timeout=optional_seconds(schedule_to_start_timeout),
        )
        if step.name in self.steps and self.steps[step.name].fn is not fn:
            raise RegistrationError(f"a different step is already registered as {step.name!r}")
        self.steps[step.name] = step
        setattr(fn, STEP_ATTR, step)
        return step

    def add_workflow(
        self,
        fn: Callable[..., Any],
        name: str | None,
        version: str,
        timeout: float | timedelta | None = None,
        code_hash: str = "",
        kind: str = "code",
    ) -> WorkflowDef:
        if not inspect.iscoroutinefunction(fn):
            raise RegistrationError(f"workflow {fn.__qualname__} must be an async def function")
        seconds = optional_seconds(timeout)
        if seconds is not None and seconds <= 0:
            raise RegistrationError(f"workflow {name or fn.__qualname__}: timeout must be > 0")
        wf = WorkflowDef(
            name=name or fn.__qualname__,
            version=str(version),
            fn=fn,
            timeout_ms=None if seconds is None else to_ms(seconds),
            code_hash=code_hash,
            kind=kind,
        )
        key = (wf.name, wf.version)
        if key in self.workflows and self.workflows[key].fn is not fn:
            raise RegistrationError(
                f"workflow {wf.name!r} version {wf.version!r} is registered twice"
            )
        self.workflows[key] = wf
        setattr(fn, WORKFLOW_ATTR, wf)
        return wf

    def step_for(self, fn: Callable[..., Any] | str) -> StepDef:
        if isinstance(fn, str):
            step = self.steps.get(fn)
            if step is None and fn.startswith(ACTIVITY_PREFIX):
                step = _activity_step(fn)
        else:
            step = getattr(fn, STEP_ATTR, None)
        if step is None:
            label = fn if isinstance(fn, str) else getattr(fn, "__qualname__", repr(fn))
            raise RegistrationError(
                f"{label} is not a registered step (decorate it with @app.step)"
            )
        return step

    def workflow_for(self, fn: Callable[..., Any]) -> WorkflowDef:
        wf = getattr(fn, WORKFLOW_ATTR, None)
        if wf is None:
            label = getattr(fn, "__qualname__", repr(fn))
            raise RegistrationError(f"{label} is not a registered workflow (use @app.workflow)")
        return wf  # type: ignore[no-any-return]

    def workflow_named(self, name: str) -> WorkflowDef:
        """The most recently registered version of a workflow name."""
        found = self.registered(name)
        if found is None:
            known = ", ".join(sorted({n for n, _ in self.workflows})) or "none"
            raise RegistrationError(
                f"no workflow named {name!r} is registered (registered: {known})"
            )
        return found

    def registered(self, name: str, version: str | None = None) -> WorkflowDef | None:
        """That version of a workflow name, or (``version`` None) its most recently
        registered one; None if it is not registered (a start then looks for a stored state
        machine)."""
        if version is not None:
            return self.lookup_workflow(name, version)
        if name.startswith(BUILTIN_PREFIX) and (name, "1") in self.builtin_workflows:
            return self.builtin_workflows[(name, "1")]  # O(1): a Map Run starts many
        found = None
        for (n, _), wf in self.workflows.items():
            if n == name:
                found = wf
        return found

    def lookup_workflow(self, name: str, version: str) -> WorkflowDef | None:
        found = self.workflows.get((name, version))
        if found is None and name.startswith(BUILTIN_PREFIX):
            return self.builtin_workflows.get((name, version))
        return found

    def queues(self) -> frozenset[str]:
        return frozenset(s.queue for s in self.steps.values())


def _activity_task(task: Any) -> None:
    """Stands for a Step Functions activity's work: never run here (only an activity poll
    through the HTTP API claims its tasks)."""


def _activity_step(name: str) -> StepDef:
    """The step of an activity's tasks (``legato.core.asl.resources.activity_step``): on a
    queue of its own, one attempt, and in no registry's ``steps``, so no worker claims it."""
    return StepDef(name, _activity_task, Retry(max_attempts=1), None, None, name)
