"""Amazon States Language state machines, run on the durable engine as workflows."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, cast

from legato.core.asl.arns import AwsIdentity
from legato.core.asl.definition import parse_definition
from legato.core.asl.sdk_catalog import SdkCatalog
from legato.core.asl.validate import check
from legato.core.definitions import canonical_json, content_hash
from legato.core.durations import to_ms
from legato.core.events import JSON
from legato.engine.asl_files import load_definition
from legato.engine.registry import WorkflowDef
from legato.engine.statemachine.machine import MachineOptions, Run
from legato.engine.statemachine.mocking import MockSource, session_for

Definition = Mapping[str, Any] | str | Path
#: The region and account that execution ARNs name, read when an execution begins.
Identity = Callable[[], AwsIdentity]


def read_definition(definition: Definition, sdk: SdkCatalog | None = None) -> dict[str, JSON]:
    """A definition given as a dict, a path to a .json/.yaml file, or JSON/YAML text; checked
    against the ASL rules (``InvalidDefinitionError`` lists every problem), ``aws-sdk``
    Resources against ``sdk`` when given."""
    if isinstance(definition, Path):
        data = load_definition(definition)
        source = str(definition)
    elif isinstance(definition, str):
        text = definition.lstrip()
        if text.startswith("{") or "\n" in text:
            data, source = parse_definition(definition, "<definition>"), "<definition>"
        else:
            data, source = load_definition(Path(definition)), definition
    else:
        data, source = cast(dict[str, JSON], dict(definition)), "<definition>"
    check(data, source, sdk)
    return data


def state_machine_workflow(
    name: str,
    definition: dict[str, JSON],
    options: MachineOptions | None = None,
    identity: Identity = AwsIdentity,
    mocks: MockSource | None = None,
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The workflow function that interprets ``definition``: its one argument is the
    execution's input (any JSON), its result the execution's output. ``identity`` gives the
    region and account of its ARNs (``$$.Execution.Id``...), ``mocks`` the mocked Task
    states' test case (``mocking.py``); both are read when an execution begins."""

    async def state_machine(ctx: Any, input: Any = None) -> Any:
        run = Run.begin(ctx, name, definition, input, options, identity())
        if mocks is not None:
            run.mocks = session_for(mocks(ctx.execution_id), name)
        return await run.execute()

    state_machine.__qualname__ = f"state_machine[{name}]"
    return state_machine


def state_machine_def(
    name: str,
    version: str,
    definition: dict[str, JSON],
    options: MachineOptions | None = None,
    identity: Identity = AwsIdentity,
    mocks: MockSource | None = None,
) -> WorkflowDef:
    """The workflow that runs ``definition`` as ``name`` ``version``: its TimeoutSeconds is its
    executions' timeout, its code hash that of its canonical JSON (the same definition from
    Python or from the database is the same code)."""
    limit = definition.get("TimeoutSeconds")  # validated: a positive integer if present
    timeout_ms = to_ms(limit) if isinstance(limit, int) and not isinstance(limit, bool) else None
    fn = state_machine_workflow(name, definition, options, identity, mocks)
    code = content_hash(canonical_json(definition))[:16]
    return WorkflowDef(
        name,
        str(version),
        fn,
        timeout_ms,
        code_hash=code,
        kind="state_machine",
        definition=dict(definition),
    )


__all__ = [
    "Definition",
    "MachineOptions",
    "read_definition",
    "state_machine_def",
    "state_machine_workflow",
]
