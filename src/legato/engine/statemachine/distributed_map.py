"""A Map state in distributed mode (developer guide, "Map state in Distributed mode", "Map
Run", "ItemReader (Map)", "ResultWriter (Map)", "Tolerated failure threshold").

Each iteration (each batch with an ItemBatcher) is a CHILD EXECUTION of the processor, the
built-in workflow ``legato.map.child`` whose input carries the processor's definition, so any
engine of the app runs it without a registration of its own, at most MaxConcurrency at once
(0 or none: 10,000, as in AWS). Children see neither the parent's variables nor ``$$.Map``;
they are named ``<parent>/<state>/<n>/<index>``, deterministic, so a replayed parent attaches
to the children it started.

Items come from the state input, or from the ItemReader through the built-in durable step
``legato.items.read`` (its failure: ``States.ItemReaderFailed``). Results go to the output as an
array, or with a ResultWriter through ``legato.items.write`` (failure:
``States.ResultWriterFailed``), the output then being ``{MapRunArn, ResultWriterDetails}``.

A failed child counts against ToleratedFailureCount/Percentage (none given: zero tolerated).
Past the threshold no new child starts; those running finish, the results are written (the
unstarted ones as PENDING) and the state fails with ``States.ExceedToleratedFailureThreshold``.

Hot path: a Map Run of N items costs N child starts and N completions in the parent, each O(1);
results are kept as compact records and expanded into AWS's file layout only in the writing
step, so nothing is quadratic in N.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final, cast

from legato.core import error_names
from legato.core.asl import jsonata_query, paths
from legato.core.asl.arns import AwsIdentity
from legato.core.asl.errors import StatesError
from legato.core.asl.integration_steps import ITEMS_READ_STEP, ITEMS_WRITE_STEP, MAP_CHILD_WORKFLOW
from legato.core.asl.result_files import MapRun
from legato.core.asl.validate_items import LIST_OBJECTS
from legato.core.durations import epoch_ms
from legato.core.events import JSON
from legato.engine.statemachine import fanout
from legato.engine.statemachine.dataflow import Obj, StateData
from legato.engine.statemachine.machine import Outcome, Run, Scope, _next
from legato.engine.statemachine.step_calls import call_step
from legato.errors import RegistrationError, StepFailed

#: AWS's limit on a Distributed Map's concurrent child executions, and its default
DEFAULT_CONCURRENCY: Final = 10_000


async def run_distributed_map(run: Run, sd: StateData, scope: Scope) -> Outcome:
    effective = sd.effective_input()
    reader = sd.state.get("ItemReader")
    if isinstance(reader, dict):
        items = await _read_items(run, sd, effective, reader)
    else:
        items = fanout._items(sd, effective)
    processor = cast(Obj, sd.state.get("ItemProcessor") or sd.state.get("Iterator"))
    language = fanout._language(processor, sd, scope)
    definition: Obj = {k: v for k, v in processor.items() if k != "ProcessorConfig"}
    definition["QueryLanguage"] = language
    inputs = [value for value, _ in fanout._iteration_inputs(run, sd, scope, effective, items)]
    limit = fanout._max_concurrency(sd, effective) or DEFAULT_CONCURRENCY
    threshold = fanout._threshold(sd, effective, len(inputs))
    map_run = _map_run(run, sd)
    machine = map_run.machine_arn.rsplit(":", 1)[-1]
    total = len(inputs)
    outputs: list[JSON] = [None] * total
    records: list[list[JSON] | None] = [None] * total
    position = [0]
    failures = [0]

    async def lane() -> None:
        while position[0] < total and not _exceeded(failures[0], threshold):
            scope.cancel.check()
            i = position[0]
            position[0] += 1
            spec: Obj = {"Machine": machine, "Definition": definition, "Input": inputs[i]}
            started = epoch_ms(run.ctx.now())
            try:
                fut = run.ctx.child(MAP_CHILD_WORKFLOW, spec, id=f"{map_run.name_prefix}{i}")
            except RegistrationError as exc:
                raise StatesError(error_names.RUNTIME, f"{sd.name}: {exc}") from None
            try:
                out = cast(JSON, await fut)
            except StepFailed as exc:
                failures[0] += 1
                outputs[i] = {"Error": exc.error_type, "Cause": exc.message}
                records[i] = [i, "FAILED", inputs[i], None, exc.error_type, exc.message,
                              started, epoch_ms(run.ctx.now())]  # fmt: skip
                continue
            outputs[i] = out
            records[i] = [i, "SUCCEEDED", inputs[i], out, None, None,
                          started, epoch_ms(run.ctx.now())]  # fmt: skip

    lanes = min(limit, total)
    coros: list[Coroutine[Any, Any, None]] = [lane() for _ in range(lanes)]
    await run.ctx.gather(*coros)
    scope.cancel.check()
    result: JSON = cast(JSON, outputs)
    writer = sd.state.get("ResultWriter")
    if isinstance(writer, dict):
        result = await _write_results(run, sd, effective, writer, map_run, records, inputs)
    if _exceeded(failures[0], threshold):
        raise StatesError(
            error_names.EXCEED_TOLERATED_FAILURE_THRESHOLD,
            f"{sd.name}: {failures[0]} of {total} child executions failed, more than the "
            "tolerated failure threshold",
        )
    return _next(sd.state), sd.output(result)


def _exceeded(failures: int, threshold: Callable[[int], bool] | None) -> bool:
    """Without a threshold, one failure is too many (AWS tolerates none by default)."""
    if threshold is None:
        return failures > 0
    return threshold(failures)


def _map_run(run: Run, sd: StateData) -> MapRun:
    """The Map Run's ARN and id (a UUID drawn from the execution's recorded randomness, so a
    replay finds the same one) and its children's names."""
    label = cast(str, sd.state.get("Label") or sd.name)
    machine = f"{run.name}/{label}"
    run_id = str(run.ctx.uuid())
    aws: AwsIdentity = run.aws
    return MapRun(
        arn=f"arn:aws:states:{aws.region}:{aws.account}:mapRun:{machine}:{run_id}",
        id=run_id,
        machine_arn=aws.state_machine_arn(machine),
        execution_prefix=aws.execution_arn(machine, ""),
        name_prefix=run.child_id(sd.name) + "/",
    )


async def _read_items(run: Run, sd: StateData, effective: JSON, reader: Obj) -> list[JSON]:
    """The items, read by one attempt of ``legato.items.read`` (the state's Retry decides)."""
    params = _arguments(sd, effective, reader, "ItemReader")
    config = dict(cast(Obj, reader.get("ReaderConfig") or {}))
    if "MaxItemsPath" in config:
        config["MaxItems"] = paths.select(
            cast(str, config.pop("MaxItemsPath")), effective, sd.context, sd.variables
        )
    elif sd.jsonata and jsonata_query.is_expression(config.get("MaxItems")):
        config["MaxItems"] = jsonata_query.evaluate_template(
            config["MaxItems"], {"input": sd.input, "context": sd.context}, sd.variables,
            field="ItemReader/ReaderConfig/MaxItems",
        )  # fmt: skip
    kind = "listObjectsV2" if reader.get("Resource") == LIST_OBJECTS else "getObject"
    request: JSON = {"resource": kind, "params": params, "config": config}
    items = await call_step(run, sd, ITEMS_READ_STEP, request, None, None)
    return cast(list[JSON], items)


async def _write_results(
    run: Run,
    sd: StateData,
    effective: JSON,
    writer: Obj,
    map_run: MapRun,
    records: list[list[JSON] | None],
    inputs: list[JSON],
) -> JSON:
    params = _arguments(sd, effective, writer, "ResultWriter")
    done: list[JSON] = [
        cast(JSON, r) if r is not None else [i, "PENDING", inputs[i], None, None, None, 0, 0]
        for i, r in enumerate(records)
    ]
    request: JSON = {
        "run": map_run.to_json(),
        "bucket": params.get("Bucket"),
        "prefix": params.get("Prefix", ""),
        "records": done,
    }
    return await call_step(run, sd, ITEMS_WRITE_STEP, request, None, None)


def _arguments(sd: StateData, effective: JSON, block: Obj, where: str) -> Obj:
    """A reader's or writer's Parameters (JSONPath) or Arguments (JSONata), evaluated."""
    if sd.jsonata:
        value = jsonata_query.evaluate_template(
            block.get("Arguments", {}), {"input": sd.input, "context": sd.context},
            sd.variables, field=f"{where}/Arguments", rng=sd.rng,
        )  # fmt: skip
    else:
        value = paths.payload_template(
            block.get("Parameters", {}), effective, sd.context, sd.variables,
            field=f"{where}.Parameters", rng=sd.rng,
        )  # fmt: skip
    if not isinstance(value, dict) or not isinstance(value.get("Bucket"), str):
        raise StatesError(error_names.RUNTIME, f"{sd.name}: {where} needs a Bucket (a string)")
    return value


def map_child_workflow(
    identity: Callable[[], AwsIdentity],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The workflow of every Distributed Map child: runs the processor definition its input
    carries on the item, as state machine ``PARENT/LABEL`` (AWS's name for it)."""

    async def distributed_map_child(ctx: Any, spec: Any) -> Any:
        machine, definition = spec["Machine"], spec["Definition"]
        return await Run.begin(ctx, machine, definition, spec["Input"], None, identity()).execute()

    return distributed_map_child
